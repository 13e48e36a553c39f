#!/usr/bin/python3
"""jemalloc 5.3.0 (Debian 12's libjemalloc2, no debug symbols) as a heap
model (issue 17), against the fixture's own key and jemalloc's own
statistics.

tests/fixtures/jemalloc.c is linked with -ljemalloc.  Each of its
threads allocates blocks of every small size class and some large ones,
keeps most on a list from a global, leaks some (and a 3-block cycle),
frees every 10th of its own blocks and, with 4 threads, some of its
neighbour's; thread 0 also takes blocks from glibc's own malloc
(__libc_malloc), one of them dropped.  Its facts: every block with
malloc_usable_size and what became of it; after an "epoch" refresh,
jemalloc's stats.allocated, the bytes in tcaches, and per size class the
blocks allocated (curregs / curlextents).

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds jemalloc 5.3.0 through its extent
   map; the bytes of its blocks in use, in tcaches and its own internal
   ones = stats.allocated, those in tcaches = its tcache_bytes; per size
   class the same sum = jemalloc's count; every block the program holds
   or leaked is an in-use block at its address with its usable size,
   every block it freed is free; glibc's blocks are glibc's (each block
   in one model); no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one
   definitely, two indirectly lost; glibc's dropped block too), as many
   lost as the key says, no block the program holds; and valgrind's own
   counts for the same program (--soname-synonyms=somalloc=*jemalloc*).
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names its block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the cores.
5. --allocator glibc: jemalloc's memory stays a root, none of its
   blocks is called lost; --allocator jemalloc on a glibc program is an
   error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with jemalloc in LD_PRELOAD: each block of its own key in
   its memcheck category, nothing else lost.
6. Hostile metadata on copies of the core: a slab's edata size changed,
   an rtree leaf element made garbage, a tcache's ring link made
   garbage.  heap and gc answer within 20 s with a note, and gc calls
   none of the program's live blocks lost.  A copy whose libjemalloc
   has another version string: said plainly, not read, its memory
   roots; --allocator jemalloc an error naming the version.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, missing
# The mimalloc test's helpers over a fixture program (its EXE is set to
# ours below): the CLI's JSON, the gdb and lldb drivers, a core's bytes
# by address, a run stopped at its end, leaks.c under a preloaded
# allocator.
import test_mimalloc as common
import mvalloc  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
ABS_BUILD = os.path.join(ROOT, BUILD)
EXE = os.path.join(ABS_BUILD, "fixtures", "jemalloc")
CORE1 = os.path.join(ABS_BUILD, "cores", "jemalloc.core")
FACTS1 = os.path.join(ABS_BUILD, "cores", "jemalloc.facts")
LIB = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
common.EXE = EXE
memview_json = common.memview_json
T = Tally("jemalloc", verbose=True, detail_max=600)
FREE_STATES = ("tcache", "slab-free")
HEAP, GC = common.HEAP, common.GC  # the same command lines


def check(ok, what, detail=""):
    T.check(what, ok, detail)


class Key:
    """The fixture's facts."""

    def __init__(self, path):
        self.blocks = []
        self.glibc = []
        self.classes = {}
        with open(path) as f:
            for line in f:
                w = line.split()
                if w[0] == "block":
                    self.blocks.append((int(w[1], 16), int(w[2]), w[3],
                                        int(w[4])))
                elif w[0] == "glibc":
                    self.glibc.append((int(w[1], 16), int(w[2]), w[3]))
                elif w[0] == "class":
                    self.classes[int(w[1])] = int(w[2])
                elif w[0] in ("threads", "allocated", "tcache_bytes"):
                    setattr(self, w[0], int(w[1]))

    def count(self, state):
        return (sum(1 for b in self.blocks if b[2] == state) +
                sum(1 for b in self.glibc if b[2] == state))


def je_arenas(d):
    return {i for i, a in enumerate(d["arenas"]) if a["kind"] == "jemalloc"}


def heap_checks(d, k, who):
    check("jemalloc 5.3.0" in d["description"] and
          "cross-checked" in d["description"],
          "%s: heap finds jemalloc 5.3.0 through its extent map" % who,
          d["description"])
    je = je_arenas(d)
    chunks = {int(c["mem"], 16): c for c in d["chunks"]}
    mine = [c for c in d["chunks"] if c["arena"] in je]
    held = {"in-use": 0, "tcache": 0, "metadata": 0}
    per = {}
    for c in mine:
        if c["state"] in held:
            held[c["state"]] += c["size"]
            per[c["size"]] = per.get(c["size"], 0) + 1
    check(sum(held.values()) == k.allocated,
          "%s: in use + tcache + jemalloc's own blocks = stats.allocated "
          "(%d bytes)" % (who, k.allocated), held)
    check(held["tcache"] == k.tcache_bytes and held["tcache"] > 0,
          "%s: tcache blocks = stats tcache_bytes (%d)" % (who,
                                                           k.tcache_bytes),
          held["tcache"])
    diff = {s: (per.get(s), k.classes.get(s))
            for s in set(per) | set(k.classes)
            if per.get(s) != k.classes.get(s)}
    check(not diff and len(k.classes) >= 38,
          "%s: blocks per size class = jemalloc's curregs/curlextents "
          "(%d classes)" % (who, len(k.classes)), diff)
    wrong = []
    for addr, usable, state, _ in k.blocks:
        c = chunks.get(addr)
        if state == "freed":
            if c is not None and c["state"] not in FREE_STATES:
                wrong.append("freed 0x%x is %s" % (addr, c["state"]))
        elif (c is None or c["state"] != "in-use" or c["usable"] != usable or
              c["arena"] not in je):
            wrong.append("%s 0x%x (usable %d): %s" % (state, addr, usable, c))
    check(not wrong, "%s: each of the program's %d blocks found with its "
          "malloc_usable_size, freed ones free" % (who, len(k.blocks)),
          wrong[:5])
    wrong = [(hex(a), u, chunks.get(a)) for a, u, _ in k.glibc
             if not chunks.get(a) or chunks[a]["arena"] in je or
             chunks[a]["usable"] != u or chunks[a]["state"] != "in-use"]
    check(not wrong, "%s: glibc's %d blocks are glibc's, in use with their "
          "usable size" % (who, len(k.glibc)), wrong[:3])
    addrs = [c["address"] for c in d["chunks"]]
    check(len(addrs) == len(set(addrs)), "%s: each block in one model" % who)
    check(not d["notes"], "%s: no note on a healthy heap" % who,
          d["notes"][:3])


def gc_checks(g, k, who):
    got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
    key = [(a, s) for a, _, s, _ in k.blocks] + [(a, s) for a, _, s in
                                                 k.glibc]
    wrong = ["%s 0x%x: %s" % (s, a, got.get(a)) for a, s in key
             if s in ("definitely_lost", "indirectly_lost") and
             got.get(a) != s]
    wrong += ["live 0x%x: %s" % (a, got.get(a)) for a, s in key
              if s == "live" and got.get(a) != "still_reachable"]
    wrong += ["freed 0x%x: %s" % (a, got.get(a)) for a, s in key
              if s == "freed" and a in got]
    check(not wrong, "%s: gc puts each block of the key in its memcheck "
          "category, freed (tcache) blocks in none" % who, wrong[:5])
    for kind in ("definitely_lost", "indirectly_lost"):
        check(g["summary"][kind]["blocks"] == k.count(kind),
              "%s: %s blocks = the key's %d" % (who, kind, k.count(kind)),
              g["summary"][kind])
    check(g["summary"]["cyclic_garbage"]["blocks"] == 3 * k.threads,
          "%s: cyclic garbage = the key's cycles" % who,
          g["summary"]["cyclic_garbage"])
    return g["summary"]


def valgrind_checks(g1):
    """memcheck on the same program (1 thread), its malloc replacing
    jemalloc's: its leak counts are memview's on the core."""
    r = subprocess.run(["valgrind", "--leak-check=full",
                        "--soname-synonyms=somalloc=*jemalloc*",
                        "--show-leak-kinds=all", EXE],
                       capture_output=True, text=True, timeout=600)
    counts = {}
    for kind in ("definitely lost", "indirectly lost", "possibly lost"):
        m = re.search(r"%s: [\d,]+ bytes in ([\d,]+) blocks" % kind,
                      r.stderr)
        counts[kind] = int(m.group(1).replace(",", "")) if m else None
    got = {"definitely lost": g1["definitely_lost"]["blocks"],
           "indirectly lost": g1["indirectly_lost"]["blocks"],
           "possibly lost": g1["possibly_lost"]["blocks"]}
    check(counts == got, "valgrind (soname-synonyms=somalloc=*jemalloc*): "
          "its lost blocks = gc's on the core", (counts, got,
                                                  r.stderr[-300:]))


def walk_checks(target, k, who):
    d, err = memview_json(target, ["sizeof-deep", "g_lists[0]", "--json"])
    # The allocator's bytes: the blocks' usable sizes, and the 8 bytes of
    # the pointer g_lists[0] itself (a global).
    want = sum(u for _, u, s, t in k.blocks if s == "live" and t == 0) + 8
    check(d is not None and d["allocator_deep_size"] == want,
          "%s: sizeof-deep g_lists[0]: allocator bytes = its live blocks' "
          "usable sizes (%d)" % (who, want),
          err or (d and d["allocator_deep_size"]))
    live = sorted(a for a, _, s, t in k.blocks if s == "live" and t == 0)
    a = live[len(live) // 2]
    r, err = memview_json(target, ["referrers", hex(a), "--json"])
    check(r is not None and r["count"] == 1 and
          r["referrers"][0]["kind"] == "heap" and
          int(r["referrers"][0]["holder"], 16) in set(live),
          "%s: referrers of a live block: the list node before it" % who,
          err or (r and r["referrers"][:2]))
    p, err = memview_json(target, ["path-to", hex(a), "--json"])
    check(p is not None and p["found"] and
          p["chain"][0]["root"] == "g_lists",
          "%s: path-to a live block starts at g_lists" % who,
          err or (p and p["chain"][:1]))
    # The list's head is thread 0's last block, its 6 MiB one.
    big = [a for a, u, s, t in k.blocks if t == 0 and u >= 6 << 20]
    v, err = memview_json(target, ["view", "--pointers", "--json",
                                   "g_lists", "8"])
    ptr = v["pointers"][0] if v and v["pointers"] else None
    check(ptr is not None and ptr["kind"] == "heap" and
          ptr["details"]["state"] == "in-use" and
          int(ptr["details"]["mem"], 16) == big[-1],
          "%s: view --pointers: g_lists[0] points at its 6 MiB block, in "
          "use" % who, err or ptr)


def numbers(h, g):
    """What must agree between the front ends."""
    return (h["totals"], h.get("jemalloc_size_classes"), h["description"],
            g["summary"])


def debugger_checks(core, h, g, who):
    for front in ("gdb", "lldb"):
        res, recs = mvalloc.debugger(front, common.DEBUGGER_ENV, EXE, core,
                                     ["mv-heap --json", "mv-gc --json"])
        ok = res is not None and len(res) == 2 and None not in res
        check(ok and numbers(res[0], res[1]) == numbers(h, g),
              "%s (%s): mv-heap and mv-gc give the CLI's numbers" %
              (who, front),
              recs if not ok else [x for x in zip(numbers(res[0], res[1]),
                                                  numbers(h, g))
                                   if x[0] != x[1]][:2])


def allocator_checks(target, k, who):
    g, err = memview_json(target, GC + ["--allocator", "glibc"])
    glibc = {a for a, _, _ in k.glibc}
    lost = [b["address"] for b in (g or {}).get("blocks", [])
            if b["kind"] != "still_reachable" and
            int(b["address"], 16) not in glibc]
    check(g is not None and "jemalloc" not in g["heap"] and not lost,
          "%s: gc --allocator glibc: jemalloc's memory stays a root, none "
          "of its blocks lost" % who, err or lost[:5])
    h, err = memview_json(target, ["heap", "--json", "--allocator",
                                   "jemalloc"])
    check(h is not None and "jemalloc 5.3.0" in h["description"],
          "%s: heap --allocator jemalloc reads it" % who, err)
    leaks = os.path.join(BUILD, "cores", "leaks.core")
    r = subprocess.run([MEMVIEW, "--core", leaks, "--exe",
                        os.path.join(BUILD, "fixtures", "leaks"), "heap",
                        "--allocator", "jemalloc"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "--allocator jemalloc" in r.stderr,
          "leaks core: heap --allocator jemalloc is an error naming it",
          r.stderr.strip())


def leaf_of(cf, emap, addr):
    return cf.get(emap + 120 + 8 * ((addr >> 30) & 0x3ffff), "<Q")


def damaged_checks(d, k, core, tmp):
    """Each kind of damage on its own copy of the core."""
    m = re.search(r"extent map at (0x[0-9a-f]+)", d["description"])
    emap = int(m.group(1), 16)
    cf = common.CoreFile(core)
    live = sorted(a for a, u, s, _ in k.blocks if s == "live" and u < 4096)
    a = live[len(live) // 2]
    leaf = leaf_of(cf, emap, a)
    elm = cf.get(leaf + 8 * ((a >> 12) & 0x3ffff), "<Q")
    edata = ((elm << 16) & (2 ** 64 - 1)) >> 16 & ~127
    je = je_arenas(d)
    arena = [x for i, x in enumerate(d["arenas"]) if i in je][0]
    head = cf.get(int(arena["address"], 16) + 10392, "<Q")
    cases = [("a slab's edata size changed", "0x%x" % edata,
              [(edata + 16, "<Q", cf.get(edata + 16, "<Q") + (1 << 20))]),
             ("an rtree leaf element made garbage",
              "0x%x" % (edata ^ 1 << 40),
              [(leaf + 8 * ((a >> 12) & 0x3ffff), "<Q", elm ^ 1 << 40)]),
             ("a tcache ring link made garbage", "0x%x" % (head ^ 0x8000),
              [(head, "<Q", head ^ 0x8000)])]
    for what, word, puts in cases:
        cf = common.CoreFile(core)
        for addr, fmt, value in puts:
            cf.put(addr, fmt, value)
        path = os.path.join(tmp, "damaged.core")
        with open(path, "wb") as f:
            f.write(cf.data)
        target = ["--core", path, "--exe", EXE]
        t0 = time.time()
        try:
            dd, err = memview_json(target, HEAP)
        except subprocess.TimeoutExpired:
            dd, err = None, "timeout"
        took = time.time() - t0
        if dd is None:
            check(False, "damaged (%s): heap answers" % what, err)
            continue
        notes = dd.get("notes") or []
        check(took < 20 and any(word in n for n in notes),
              "damaged (%s): heap answers in %.1f s with a note naming %s"
              % (what, took, word), notes[:3])
        try:
            g, err = memview_json(target, GC)
        except subprocess.TimeoutExpired:
            g, err = None, "timeout"
        if g is None:
            check(False, "damaged (%s): gc answers" % what, err)
            continue
        got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
        wrong = [hex(a) for a, _, s, _ in k.blocks if s == "live" and
                 got.get(a, "still_reachable") != "still_reachable"]
        check(not wrong, "damaged (%s): gc calls none of the blocks the "
              "program holds lost (what is not seen is a root)" % what,
              wrong[:5])
        os.unlink(path)


def version_checks(k, tmp):
    """A copy of the core whose libjemalloc is a copy of the library with
    another version string (the core names it in NT_FILE, a path of the
    same length): heap says the version plainly and reads nothing of it;
    gc leaves its memory as roots."""
    with open(LIB, "rb") as f:
        lib = f.read()
    old = b"5.3.0-0-g54eaed1d"
    if lib.count(old) != 1:
        check(False, "version: %s has one 5.3.0 version string" % LIB)
        return
    d = os.path.join(tmp, "v")
    path = os.path.join(d, "x" * (len(LIB) - len(d) - 2 - 17),
                        "libjemalloc.so.2")
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(lib.replace(old, b"5.2.1-0-g54eaed1d"))
    with open(CORE1, "rb") as f:
        core = f.read()
    damaged = os.path.join(tmp, "version.core")
    with open(damaged, "wb") as f:
        f.write(core.replace(LIB.encode() + b"\0", path.encode() + b"\0"))
    target = ["--core", damaged, "--exe", EXE]
    h, err = memview_json(target, ["heap", "--json"])
    notes = h.get("notes", []) if h else []
    check(any("jemalloc version 5.2.1-0-g54eaed1d" in n and
              "knows the layout of 5.3.0" in n for n in notes) and
          not je_arenas(h), "version: another jemalloc version is said "
          "plainly and not read", err or notes[:3])
    g, err = memview_json(target, GC)
    glibc = {a for a, _, _ in k.glibc}
    lost = [b["address"] for b in (g or {}).get("blocks", [])
            if b["kind"] != "still_reachable" and
            int(b["address"], 16) not in glibc]
    check(g is not None and not lost, "version: gc leaves the unread "
          "jemalloc's memory as roots (none of its blocks lost)",
          err or lost[:5])
    r = subprocess.run([MEMVIEW] + target + ["heap", "--allocator",
                                             "jemalloc"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "5.2.1" in r.stderr,
          "version: heap --allocator jemalloc is an error naming the "
          "version", r.stderr.strip())
    os.unlink(damaged)


def target_checks(target, k, who):
    h, err = memview_json(target, HEAP)
    if h is None:
        check(False, "%s: memview heap runs" % who, err)
        return None, None
    heap_checks(h, k, who)
    g, err = memview_json(target, GC)
    if g is None:
        check(False, "%s: memview gc runs" % who, err)
        return h, None
    gc_checks(g, k, who)
    walk_checks(target, k, who)
    return h, g


def main():
    if missing("jemalloc", [MEMVIEW, EXE, CORE1, FACTS1]):
        return 1
    k1 = Key(FACTS1)
    target = ["--core", CORE1, "--exe", EXE]
    h, g = target_checks(target, k1, "core, 1 thread")
    if h and g:
        debugger_checks(CORE1, h, g, "core, 1 thread")
        valgrind_checks(g["summary"])
    allocator_checks(target, k1, "core, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        if h:
            damaged_checks(h, k1, CORE1, tmp)
        version_checks(k1, tmp)
        common.preload_checks(tmp, LIB, "jemalloc 5.3.0", check)
        common.four_threads(tmp, Key, target_checks, debugger_checks,
                            check)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
