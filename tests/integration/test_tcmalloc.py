#!/usr/bin/python3
"""gperftools tcmalloc 2.10 (Debian 12's libtcmalloc-minimal4 and
libtcmalloc4, no debug symbols) as a heap model (issue 17), against the
fixture's own key, tcmalloc's own count and valgrind's memcheck.

tests/fixtures/tcmalloc.c is linked with -ltcmalloc_minimal.  Each of its
threads allocates objects of many size classes and some large blocks
(spans of their own), keeps most on a list from a global, leaks some (and
a 3-block cycle), then frees some of its own blocks and, with 4 threads,
some of its neighbour's: they land in thread caches, transfer caches and
span free lists.  Its facts: every block with tc_malloc_size and what
became of it, and tcmalloc's generic.current_allocated_bytes at the end.

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds tcmalloc 2.10; the in-use bytes of its
   page heap equal generic.current_allocated_bytes (which counts every
   object handed out, the C runtime's too, and none of the cached free
   ones); every block the program holds or leaked is an in-use block at
   its address with tc_malloc_size, every block it freed is not in use;
   per size class, in-use objects at least the key's and their bytes
   summing to tcmalloc's count; free objects in thread caches and on
   span lists; no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one definitely,
   two indirectly lost), no block the program holds lost; the numbers of
   definitely and indirectly lost blocks are valgrind's (memcheck with
   --soname-synonyms=somalloc=*tcmalloc*, the same fixture run under it,
   1 thread; valgrind also finds MallocExtension::Register's 8 bytes
   lost); with 4 threads the key's, plus those valgrind found that are
   tcmalloc's own (its answer with threads paused at exit depends on
   their stacks).
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names the in-use block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the cores and attached to the live 4-thread run.
5. --allocator glibc: tcmalloc's memory is no model's, nothing of the
   program's is called lost; --allocator tcmalloc on a glibc program is
   an error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with the full libtcmalloc.so.4 in LD_PRELOAD: each block of
   its own key in its memcheck category.
6. Hostile metadata on copies of the core: a span's free list made a
   loop, a span's length 0, a thread cache's list head garbage.  heap and
   gc answer within 20 s with a note naming the damaged span or cache,
   and gc calls none of the blocks the program holds lost.  A size map
   that is not 2.10's: tcmalloc is said and not read (its memory stays
   roots: nothing lost), and --allocator tcmalloc is an error.
"""
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile

from mvalloc import CoreFile
from mvcheck import Tally, missing
import mvalloc

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
ABS_BUILD = os.path.join(ROOT, BUILD)
EXE = os.path.join(ABS_BUILD, "fixtures", "tcmalloc")
CORE1 = os.path.join(ABS_BUILD, "cores", "tcmalloc.core")
FACTS1 = os.path.join(ABS_BUILD, "cores", "tcmalloc.facts")
FULL_LIB = "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"
DEBUGGER_ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(
    ABS_BUILD, "libmemview.so"))
DEBUGGER_ENV.pop("PYTHONPATH", None)
DEBUGGER_ENV.pop("PYTHONHOME", None)
DEBUGGER_ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
T = Tally("tcmalloc", verbose=True, detail_max=600)
HEAP = ["heap", "--json", "--chunks", "--max-chunks", "0", "--top", "0"]
GC = ["gc", "--json", "--blocks", "--show-reachable", "--max-blocks", "0",
      "--heuristics", "none"]
# gperftools 2.10's layouts (src/span.h, thread_cache.h): where the
# damage goes.
SPAN_LENGTH, SPAN_OBJECTS, SPAN_BITS = 8, 32, 40


def check(ok, what, detail=""):
    T.check(what, ok, detail)


class Key:
    """The fixture's facts."""

    def __init__(self, path):
        self.blocks = []
        with open(path) as f:
            for line in f:
                w = line.split()
                if w[0] == "block":
                    self.blocks.append((int(w[1], 16), int(w[2]), w[3],
                                        int(w[4])))
                elif w[0] in ("threads", "allocated_bytes"):
                    setattr(self, w[0], int(w[1]))

    def count(self, state):
        return sum(1 for b in self.blocks if b[2] == state)




def tc_arenas(d):
    return {i for i, a in enumerate(d["arenas"]) if a["kind"] == "tcmalloc"}


def heap_checks(d, k, who):
    check("tcmalloc 2.10" in d["description"],
          "%s: heap finds tcmalloc 2.10" % who, d["description"])
    tc = tc_arenas(d)
    chunks = {int(c["mem"], 16): c for c in d["chunks"] if c["arena"] in tc}
    used = sum(c["usable"] for c in chunks.values()
               if c["state"] == "in-use")
    check(used == k.allocated_bytes,
          "%s: in-use bytes %d = tcmalloc's current_allocated_bytes %d" %
          (who, used, k.allocated_bytes))
    wrong = []
    for addr, usable, state, _ in k.blocks:
        c = chunks.get(addr)
        if state == "freed":
            if c is not None and c["state"] == "in-use":
                wrong.append("freed 0x%x is in use" % addr)
        elif (c is None or c["state"] != "in-use" or c["usable"] != usable or
              c["address"] != c["mem"]):
            wrong.append("%s 0x%x (usable %d): %s" % (state, addr, usable, c))
    check(not wrong, "%s: each of the program's %d blocks found with "
          "tc_malloc_size, freed ones not in use" % (who, len(k.blocks)),
          wrong[:5])
    classes = {c["size"]: c for c in d.get("tcmalloc_size_classes", [])}
    mine = {}
    for _, usable, state, _ in k.blocks:
        if state != "freed":
            mine[usable] = mine.get(usable, 0) + 1
    short = {s: (n, classes.get(s, {}).get("in_use")) for s, n in mine.items()
             if classes.get(s, {}).get("in_use", 0) < n}
    total = sum(c["size"] * c["in_use"] for c in classes.values())
    check(classes and not short and total == k.allocated_bytes,
          "%s: per size class, in-use objects cover the key's and sum to "
          "tcmalloc's count (%d classes)" % (who, len(classes)),
          short or total)
    t = d["totals"]
    check(t["thread_cache"]["count"] > 0 and t["span_free"]["count"] > 0,
          "%s: free objects in thread caches and on span lists" % who,
          {s: t[s]["count"] for s in ("thread_cache", "transfer_cache",
                                      "span_free", "free_span")})
    check(not d["notes"], "%s: no note on a healthy heap" % who,
          d["notes"][:3])


def valgrind_counts(threads):
    """memcheck's lost blocks for the fixture run under it."""
    env = dict(os.environ, MV_THREADS=str(threads))
    r = subprocess.run(["valgrind", "--soname-synonyms=somalloc=*tcmalloc*",
                        "--leak-check=full", "--show-leak-kinds=all",
                        "--errors-for-leak-kinds=none", EXE], env=env,
                       capture_output=True, text=True, timeout=600)
    got = {}
    for kind, key in (("definitely lost", "definitely_lost"),
                      ("indirectly lost", "indirectly_lost")):
        m = re.search(kind + r": [\d,]+ bytes in ([\d,]+) blocks", r.stderr)
        if m:
            got[key] = int(m.group(1).replace(",", ""))
    return got, r.stderr[-400:]


def gc_checks(g, k, who, vg):
    mvalloc.gc_key_checks(check, g, k.blocks, k.threads, vg, who,
                          "valgrind's" if k.threads == 1 else
                          "the key's and tcmalloc's own")


def walk_checks(target, k, who):
    live = [a for a, _, s, t in k.blocks if s == "live" and t == 0]
    mvalloc.walk_checks(check, MEMVIEW, target, k.blocks, [], live[-1], who)


def memview_json(target, words):
    return mvalloc.memview_json(MEMVIEW, target, words)


def numbers(h, g):
    """What must agree between the front ends."""
    return (h["totals"], h.get("tcmalloc_size_classes"), h["description"],
            g["summary"])


def debugger_checks(core, h, g, who, pid=None):
    mvalloc.debugger_checks(check, DEBUGGER_ENV, EXE, core, h, g, numbers,
                            who, pid)


def allocator_checks(target, k, who):
    g, err = memview_json(target, GC + ["--allocator", "glibc"])
    got = {int(b["address"], 16): b["kind"] for b in g["blocks"]} if g else {}
    lost = [hex(a) for a, _, s, _ in k.blocks if s == "live" and
            got.get(a, "still_reachable") != "still_reachable"]
    check(g is not None and "tcmalloc" not in g["heap"] and not lost,
          "%s: gc --allocator glibc: tcmalloc's memory is no model's, none "
          "of the program's blocks lost" % who,
          err or (g and (g["heap"], lost[:5])))
    leaks = os.path.join(BUILD, "cores", "leaks.core")
    r = subprocess.run([MEMVIEW, "--core", leaks, "--exe",
                        os.path.join(BUILD, "fixtures", "leaks"), "heap",
                        "--allocator", "tcmalloc"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "--allocator tcmalloc" in r.stderr,
          "leaks core: heap --allocator tcmalloc is an error naming it",
          r.stderr.strip())




def spans_of(cf, root):
    """(span, sizeclass) of the pagemap's spans: root_[2^17] leaves of
    2^18 Span pointers (gperftools 2.10, 8 KiB pages)."""
    spans = []
    for i1 in range(1 << 17):
        leaf = cf.get(root + 8 * i1, "<Q")
        if not leaf:
            continue
        off = cf.offset(leaf)
        vals = struct.unpack_from("<%dQ" % (1 << 18), cf.data, off)
        seen = set()
        for i2, s in enumerate(vals):
            if s and s not in seen and cf.get(s, "<Q") == (i1 << 18) | i2:
                seen.add(s)
                spans.append((s, (cf.get(s + SPAN_BITS, "<I") >> 16) & 0xff))
    return spans


def damaged_checks(d, k, core, tmp):
    """Each kind of damage on its own copy of the core."""
    tc = sorted(tc_arenas(d))
    root = int(d["arenas"][tc[0]]["address"], 16)
    cf = CoreFile(core)
    spans = spans_of(cf, root)
    listed = [s for s, c in spans if c and cf.get(s + SPAN_OBJECTS, "<Q")]
    looped = listed[len(listed) // 2]
    head = cf.get(looped + SPAN_OBJECTS, "<Q")
    small = [s for s, c in spans if c]
    short = small[len(small) // 3]
    # The first thread cache, as gdb reads the exported symbol.
    r = subprocess.run(["gdb", "-nx", "-batch", "-q", EXE, core,
                        "-ex", "set debuginfod enabled off",
                        "-ex", "p/x *(long *)&'tcmalloc::ThreadCache::"
                        "thread_heaps_'"], capture_output=True, text=True,
                       timeout=120)
    m = re.search(r"= (0x[0-9a-f]+)", r.stdout)
    heaps = int(m.group(1), 16) if m else None
    check(heaps, "gdb reads tcmalloc::ThreadCache::thread_heaps_", r.stderr)
    cases = [("a loop in a span's free list", "0x%x" % looped,
              [(head, "<Q", head)]),
             ("a span's length 0", "0x%x" % short,
              [(short + SPAN_LENGTH, "<Q", 0)])]
    if heaps:
        # ThreadCache::list_[2].list_ (a FreeList is 32 bytes).
        cases.append(("a thread cache's list head garbage", "0x%x" % heaps,
                      [(heaps + 64, "<Q", 0x1234567)]))
    for what, word, puts in cases:
        cf = CoreFile(core)
        for addr, fmt, value in puts:
            cf.put(addr, fmt, value)
        path = os.path.join(tmp, "damaged.core")
        with open(path, "wb") as f:
            f.write(cf.data)
        target = ["--core", path, "--exe", EXE]
        dd = mvalloc.damaged_heap(check, MEMVIEW, target, HEAP, what, word)
        if dd is None:
            continue
        mvalloc.damaged_gc(check, MEMVIEW, target, GC, what,
                           [a for a, _, s, _ in k.blocks if s == "live"])
        os.unlink(path)


def sizemap_checks(core, tmp):
    """SizeMap::class_to_size_ changed (gperftools 2.10's first classes,
    0, 8, 16, 32, ...: its second made 9): tcmalloc is said and not read,
    its memory left as roots, and --allocator tcmalloc is an error."""
    cf = CoreFile(core)
    at = cf.data.find(struct.pack("<8i", 0, 8, 16, 32, 48, 64, 80, 96))
    check(at > 0, "the core holds tcmalloc's class_to_size_")
    if at <= 0:
        return
    struct.pack_into("<i", cf.data, at + 4, 9)
    path = os.path.join(tmp, "sizemap.core")
    with open(path, "wb") as f:
        f.write(cf.data)
    target = ["--core", path, "--exe", EXE]
    g, err = memview_json(target, GC)
    notes = (g or {}).get("notes") or []
    check(g is not None and "tcmalloc not read" in g["heap"] and
          any("size map" in n for n in notes) and
          not g["summary"]["definitely_lost"]["blocks"],
          "damaged size map: gc says tcmalloc is not read, nothing lost",
          err or (g["heap"], notes[:2]))
    r = subprocess.run([MEMVIEW] + target + ["heap", "--allocator",
                                             "tcmalloc"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "size map" in r.stderr,
          "damaged size map: heap --allocator tcmalloc is an error saying "
          "why", r.stderr.strip())
    os.unlink(path)


def run_threads(n, tmp):
    """The fixture with n threads, stopped at its end (MV_WAIT)."""
    return mvalloc.start_waiting(EXE, {"MV_THREADS": str(n)}, tmp,
                                 "threads%d" % n)


def preload_checks(tmp):
    """leaks.c (a glibc program) with the full tcmalloc in LD_PRELOAD,
    live: its own leak key, block by block."""
    mvalloc.preload_leaks(check, MEMVIEW,
                          os.path.join(ABS_BUILD, "fixtures", "leaks"),
                          FULL_LIB, tmp, GC, "tcmalloc 2.10 (gperftools:")


def target_checks(target, k, who, vg):
    h, err = memview_json(target, HEAP)
    if h is None:
        check(False, "%s: memview heap runs" % who, err)
        return None, None
    heap_checks(h, k, who)
    g, err = memview_json(target, GC)
    if g is None:
        check(False, "%s: memview gc runs" % who, err)
        return h, None
    gc_checks(g, k, who, vg)
    walk_checks(target, k, who)
    return h, g


def main():
    if missing("tcmalloc", [MEMVIEW, EXE, CORE1, FACTS1, FULL_LIB]):
        return 1
    vg1, out = valgrind_counts(1)
    check(vg1, "valgrind runs the fixture (1 thread)", out)
    k1 = Key(FACTS1)
    target = ["--core", CORE1, "--exe", EXE]
    h, g = target_checks(target, k1, "core, 1 thread", vg1)
    if h and g:
        debugger_checks(CORE1, h, g, "core, 1 thread")
    allocator_checks(target, k1, "core, 1 thread")
    # With 4 threads valgrind's answer depends on what the paused
    # threads' stacks still hold when it checks at exit: the 4-thread
    # runs are held to the key, plus the blocks of tcmalloc's own that
    # valgrind finds lost in the 1-thread run.
    own = {kind: vg1.get(kind, 0) - k1.count(kind)
           for kind in ("definitely_lost", "indirectly_lost")}
    with tempfile.TemporaryDirectory() as tmp:
        if h:
            damaged_checks(h, k1, CORE1, tmp)
        sizemap_checks(CORE1, tmp)
        preload_checks(tmp)
        p, facts = run_threads(4, tmp)
        try:
            if not facts:
                check(False, "4 threads: the fixture reaches its stop")
                return T.summary()
            k4 = Key(facts)
            vg4 = {kind: k4.count(kind) + own[kind] for kind in own}
            hp, gp = target_checks(["--pid", str(p.pid)], k4,
                                   "--pid, 4 threads", vg4)
            if hp and gp:
                debugger_checks(None, hp, gp, "attached, 4 threads", p.pid)
            core = os.path.join(tmp, "core4")
            mvalloc.gcore(p.pid, core)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        if not os.path.exists(core):
            check(False, "4 threads: gcore of the stopped fixture")
        else:
            h4, g4 = target_checks(["--core", core, "--exe", EXE], k4,
                                   "core, 4 threads", vg4)
            if h4 and g4:
                debugger_checks(core, h4, g4, "core, 4 threads")
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
