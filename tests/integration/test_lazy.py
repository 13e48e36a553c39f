#!/usr/bin/python3
"""The lazy heap (issue 20.2): a walk from a root checks chunk headers
at the pointers it meets and builds the whole index only when a header
cannot tell; its answers must be the whole index's, byte for byte.

The oracle is the same command with --max-heap-chunks 4000000000,
which indexes every chunk first: a heap with a bound given (other than
the default or none) is never lazy, and no core here comes near it.  Compared:

- every global data symbol of the fixtures (nm lists them) as the root
  of sizeof-deep, plain and --conservative (whose interior pointers
  need the whole index in the middle of a walk), and graph from a few;
- a bigheap core made here with 200 k allocations (its hash table of
  lists, tree, pointer array, leaks and cycles): g_small, the tree and
  a subtree, g_path, g_table, g_ptrs;
- hostile headers: a copy of deepsize's core whose list and tree have
  a chunk with an impossible size, one that looks free (its neighbour's
  PREV_INUSE cleared), one whose size runs past the heap, and a tcache
  link pointing into the middle of a block: where a header cannot be
  trusted the lazy heap must answer as the whole index does.

Ends with "lazy: N passed, M failed"."""
import os
import shutil
import subprocess
import sys
import tempfile
import json

from mvcheck import CoreFile, Tally
import run as harness

BUILD = harness.BUILD
MEMVIEW = harness.MEMVIEW
ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
T = Tally("lazy", detail_max=400)
WHOLE = "4000000000"
check = T.check

FIXTURES = ["basic", "deepsize", "deepbench", "leaks", "badptrs", "heapfix",
            "cxxcont", "cxxcont_o2", "refgraph", "roots_threads", "bigbuf",
            "mmapmerge", "heapbig", "refcount",
            # Other allocators over glibc's: never lazy, as their blocks
            # are not glibc's chunks (the answers must still be equal).
            "jemalloc", "tcmalloc", "mimalloc"]


# Lazy from the first byte of heap (the default is heaps of 256 MiB
# and more, where it pays).
ENV = dict(os.environ, MEMVIEW_LAZY_MIN="0")


def mv(core, exe, *args):
    p = subprocess.run([MEMVIEW, "--core", core, "--exe", exe] + list(args),
                       capture_output=True, text=True, env=ENV,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def same(what, core, exe, *args):
    """The lazy answer (the default) equals the whole index's."""
    lazy = mv(core, exe, *args)
    full = mv(core, exe, *args, "--max-heap-chunks", WHOLE)
    check(what, lazy == full,
          "lazy %r\nfull %r" % (lazy[:2], full[:2]) if lazy != full else "")
    return lazy


def data_symbols(exe):
    """The program's own global variables (nm: b, d, B, D)."""
    out = subprocess.run(["nm", "--defined-only", exe], capture_output=True,
                         text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "bBdD" and \
                not parts[2].startswith("_") and "." not in parts[2] and \
                parts[2] not in ("completed", "stdout", "stderr"):
            names.append(parts[2])
    return sorted(set(names))


def fixtures():
    for name in FIXTURES:
        core = os.path.join(BUILD, "cores", name + ".core")
        exe = os.path.join(BUILD, "fixtures", name)
        if not os.path.exists(core):
            check("%s: core %s exists" % (name, core), False)
            continue
        syms = data_symbols(exe)
        check("%s: has globals to start from" % name, len(syms) > 0)
        for sym in syms:
            same("%s: sizeof-deep %s" % (name, sym), core, exe,
                 "sizeof-deep", sym, "--json")
        for sym in syms[:6]:
            same("%s: sizeof-deep %s --conservative" % (name, sym), core,
                 exe, "sizeof-deep", sym, "--conservative", "--json")
        for sym in syms[:3]:
            same("%s: graph %s" % (name, sym), core, exe, "graph", sym,
                 "--json")


def bigheap(tmp):
    gen = os.path.join(tmp, "bigheap")
    subprocess.run(["cc", "-O2", "-g", "-o", gen,
                    os.path.join(ROOT, "bench", "bigheap.c")], check=True)
    core = os.path.join(tmp, "big.core")
    env = dict(os.environ, MV_BIGHEAP_N="200000")
    subprocess.run([os.path.join(ROOT, "tools", "make-core.sh"), gen, core,
                    os.path.join(tmp, "big.facts")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for root in ("g_small", "g_tree", "*g_tree->left->left", "g_path",
                 "g_table", "g_ptrs"):
        same("bigheap: sizeof-deep %s" % root, core, gen, "sizeof-deep",
             root, "--json")
    same("bigheap: sizeof-deep g_small --conservative", core, gen,
         "sizeof-deep", "g_small", "--conservative", "--json")


def hostile(tmp):
    src = os.path.join(BUILD, "cores", "deepsize.core")
    exe = os.path.join(BUILD, "fixtures", "deepsize")
    core = os.path.join(tmp, "hostile.core")
    shutil.copy(src, core)
    # The list's nodes, followed here through the core: list is a
    # global pointer (its address from the symbol table via view).
    rc, out, _ = mv(core, exe, "view", "list", "--json")
    head = int(json.loads(out)["address"], 16)
    c = CoreFile(core)
    nodes = []
    p = head  # view of a pointer shows what it points at
    while p and len(nodes) < 40:
        nodes.append(p)
        p = c.get(p + 8, "<Q")
    check("hostile: deepsize's list has nodes to damage", len(nodes) >= 20,
          len(nodes))
    if len(nodes) < 20:
        return
    # 1. an impossible size (not a multiple of 16)
    c.put(nodes[3] - 8, "<Q", 0x1234567)
    # 2. looks free: the next chunk's PREV_INUSE cleared
    size6 = c.get(nodes[6] - 8, "<Q") & ~7
    nxt = nodes[6] - 16 + size6 + 8
    c.put(nxt, "<Q", c.get(nxt, "<Q") & ~1)
    # 3. a size running far past the heap
    c.put(nodes[9] - 8, "<Q", (1 << 40) | 1)
    # 4. a node whose header says mmapped inside the heap
    c.put(nodes[12] - 8, "<Q", c.get(nodes[12] - 8, "<Q") | 2)
    # 5. a node pointer moved 16 bytes into its block (an interior
    #    pointer whose bytes before it look like a header)
    c.put(nodes[15] + 8, "<Q", nodes[16] + 16)
    c.put(nodes[16] + 8, "<Q", 0x21)
    c.write(core)
    # The damage is met: the list's answer is not the undamaged one.
    before = mv(src, exe, "sizeof-deep", "list", "--json")
    after = mv(core, exe, "sizeof-deep", "list", "--json")
    check("hostile: the damaged headers change sizeof-deep list",
          before[0] == after[0] == 0 and before[1] != after[1],
          (before[0], after[0]))
    for root in ("list", "dlist", "tree", "dag", "cycle", "parray",
                 "mixed", "box"):
        same("hostile: sizeof-deep %s" % root, core, exe, "sizeof-deep",
             root, "--json")
        same("hostile: sizeof-deep %s --conservative" % root, core, exe,
             "sizeof-deep", root, "--conservative", "--json")
    same("hostile: graph list", core, exe, "graph", "list", "--json")
    same("hostile: view --pointers", core, exe, "view", "*list",
         "--pointers", "--json")


def main():
    fixtures()
    with tempfile.TemporaryDirectory() as tmp:
        bigheap(tmp)
        hostile(tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
