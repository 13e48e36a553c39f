#!/usr/bin/python3
"""mimalloc 2.0.9 (Debian 12's libmimalloc2.0, no debug symbols) as a
heap model (issue 17), against the fixture's own key and mimalloc's.

tests/fixtures/mimalloc.c is linked with -lmimalloc.  Each of its
threads allocates blocks of many size classes, keeps most on a list from
a global, leaks some (and a 3-block cycle), lists its heap with
mi_heap_visit_blocks, then frees some of its own blocks (onto the pages'
local_free lists) and, with 4 threads, some of its neighbour's (onto
thread_free, or the owning heap's delayed-free list).  Its facts: every
block with mi_usable_size and what became of it, and the blocks
mi_heap_visit_blocks counted per size, less those freed after.

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds mimalloc 2.0.9; in-use blocks in all
   and per size equal mi_heap_visit_blocks' less the frees after it;
   every block the program holds or leaked is an in-use block at its
   address with mi_usable_size; every block it freed is free; the huge
   block (a segment of its own) too; with 4 threads some blocks are on
   thread_free; no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one
   definitely, two indirectly lost), as many lost as the key says and no
   block the program holds.
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names the in-use block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the core.
5. --allocator glibc: mimalloc's memory stays a root, nothing of the
   program's is called lost; --allocator mimalloc on a glibc program is
   an error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with mimalloc in LD_PRELOAD: each block of its own key in
   its memcheck category, nothing else lost.
6. Hostile metadata on copies of the core: a page's free list made a
   loop, a slice count of 0 in a segment's slice table, a segment's
   cookie changed, a page's block size 3.  heap and gc answer within
   20 s with a note naming the damaged page or segment, and the other
   pages keep their blocks.
"""
import bisect
import os
import signal
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
EXE = os.path.join(ABS_BUILD, "fixtures", "mimalloc")
CORE1 = os.path.join(ABS_BUILD, "cores", "mimalloc.core")
FACTS1 = os.path.join(ABS_BUILD, "cores", "mimalloc.facts")
DEBUGGER_ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(
    ABS_BUILD, "libmemview.so"))
DEBUGGER_ENV.pop("PYTHONPATH", None)
DEBUGGER_ENV.pop("PYTHONHOME", None)
DEBUGGER_ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
T = Tally("mimalloc", verbose=True, detail_max=600)
FREE_STATES = ("page-free", "local-free", "thread-free")
SEG = 1 << 25
HEAP = ["heap", "--json", "--chunks", "--max-chunks", "0", "--top", "0"]
GC = ["gc", "--json", "--blocks", "--show-reachable", "--max-blocks", "0",
      "--heuristics", "none"]


def check(ok, what, detail=""):
    T.check(what, ok, detail)


class Key:
    """The fixture's facts."""

    def __init__(self, path):
        self.blocks = []
        self.classes = {}
        self.huge = None
        with open(path) as f:
            for line in f:
                w = line.split()
                if w[0] == "block":
                    self.blocks.append((int(w[1], 16), int(w[2]), w[3],
                                        int(w[4])))
                elif w[0] == "visited_class":
                    self.classes.setdefault(int(w[1]), [0, 0])[0] = int(w[2])
                elif w[0] == "freed_class":
                    self.classes.setdefault(int(w[1]), [0, 0])[1] = int(w[2])
                elif w[0] == "huge":
                    self.huge = (int(w[1], 16), int(w[2]))
                elif w[0] in ("threads", "visited", "freed"):
                    setattr(self, w[0], int(w[1]))
        self.in_use = {s: v - f for s, (v, f) in self.classes.items()
                       if v - f}

    def count(self, state):
        return sum(1 for b in self.blocks if b[2] == state)




def mi_arenas(d):
    return {i for i, a in enumerate(d["arenas"]) if a["kind"] == "mimalloc"}


def heap_checks(d, k, who):
    check("mimalloc 2.0.9" in d["description"] and
          "cookie checked against the main heap" in d["description"],
          "%s: heap finds mimalloc 2.0.9, cookie checked" % who,
          d["description"])
    mi = mi_arenas(d)
    chunks = {int(c["mem"], 16): c for c in d["chunks"] if c["arena"] in mi}
    used = sum(1 for c in chunks.values() if c["state"] == "in-use")
    check(used == k.visited - k.freed,
          "%s: %d in-use blocks = mi_heap_visit_blocks' %d less %d freed "
          "after" % (who, used, k.visited, k.freed))
    got = {c["size"]: c["in_use"] for c in d.get("mimalloc_size_classes", [])
           if c["in_use"]}
    check(got == k.in_use, "%s: in-use blocks per size as mimalloc's visit "
          "counts them (%d sizes)" % (who, len(k.in_use)),
          {s: (got.get(s), k.in_use.get(s)) for s in set(got) | set(k.in_use)
           if got.get(s) != k.in_use.get(s)})
    wrong = []
    for addr, usable, state, _ in k.blocks:
        c = chunks.get(addr)
        if state == "freed":
            if c is not None and c["state"] not in FREE_STATES:
                wrong.append("freed 0x%x is %s" % (addr, c["state"]))
        elif (c is None or c["state"] != "in-use" or c["usable"] != usable or
              c["address"] != c["mem"]):
            wrong.append("%s 0x%x (usable %d): %s" % (state, addr, usable, c))
    check(not wrong, "%s: each of the program's %d blocks found with "
          "mi_usable_size, freed ones free" % (who, len(k.blocks)), wrong[:5])
    c = chunks.get(k.huge[0])
    check(c is not None and c["state"] == "in-use" and
          c["usable"] == k.huge[1],
          "%s: the huge block (%d bytes) is in use with its usable size" %
          (who, k.huge[1]), c)
    t = d["totals"]
    check(t["page_local_free"]["count"] > 0 and
          (k.threads == 1 or t["page_thread_free"]["count"] > 0),
          "%s: blocks on local_free%s" % (
              who, "" if k.threads == 1 else " and thread_free"),
          {s: t[s]["count"] for s in ("page_free", "page_local_free",
                                      "page_thread_free")})
    check(not d["notes"], "%s: no note on a healthy heap" % who,
          d["notes"][:3])


def gc_checks(g, k, who):
    mvalloc.gc_key_checks(check, g, k.blocks, k.threads,
                          {kind: k.count(kind) for kind in
                           ("definitely_lost", "indirectly_lost")},
                          who, "the key's")


def walk_checks(target, k, who):
    mvalloc.walk_checks(check, MEMVIEW, target, k.blocks, [k.huge],
                        k.huge[0], who)


def memview_json(target, words):
    return mvalloc.memview_json(MEMVIEW, target, words)


def numbers(h, g):
    """What must agree between the front ends."""
    return (h["totals"], h.get("mimalloc_size_classes"), h["description"],
            g["summary"])


def debugger_checks(core, h, g, who, pid=None):
    mvalloc.debugger_checks(check, DEBUGGER_ENV, EXE, core, h, g, numbers,
                            who, pid)


def allocator_checks(target, who):
    g, err = memview_json(target, ["gc", "--json", "--allocator", "glibc"])
    check(g is not None and "mimalloc" not in g["heap"] and
          not g["summary"]["definitely_lost"]["blocks"],
          "%s: gc --allocator glibc: mimalloc's segments stay roots, "
          "nothing lost" % who, err or (g and g["summary"]))
    leaks = os.path.join(BUILD, "cores", "leaks.core")
    r = subprocess.run([MEMVIEW, "--core", leaks, "--exe",
                        os.path.join(BUILD, "fixtures", "leaks"), "heap",
                        "--allocator", "mimalloc"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "--allocator mimalloc" in r.stderr,
          "leaks core: heap --allocator mimalloc is an error naming it",
          r.stderr.strip())




def pages_of(d):
    """In-use blocks per page (slice start) of the mimalloc arenas."""
    mi = mi_arenas(d)
    used = {}
    for c in d["chunks"]:
        if c["arena"] in mi and c["state"] == "in-use":
            a = int(c["address"], 16)
            used[a & ~0xffff] = used.get(a & ~0xffff, 0) + 1
    return used


def damaged_checks(d, k, core, tmp):
    """Each kind of damage on its own copy of the core."""
    mi = mi_arenas(d)
    segs = sorted(int(d["arenas"][i]["address"], 16) for i in mi)
    seg = segs[0]
    cf = CoreFile(core)
    # Pages of the first segment: slice k's mi_page_t at 264 + 80 k.
    pages = []
    i = 1
    while i < 512:
        sl = seg + 264 + 80 * i
        count = cf.get(sl, "<I")
        if not count:
            break
        if cf.get(sl + 28, "<I") and cf.get(sl + 16, "<Q"):
            pages.append((i, sl))
        i += count
    looped = next(sl for _, sl in pages
                  if cf.get(cf.get(sl + 16, "<Q"), "<Q"))
    head = cf.get(looped + 16, "<Q")
    cases = [("a loop in a page's free list", "0x%x" % looped,
              [(head, "<Q", head)], looped),
             ("a slice count of 0", "0x%x" % seg,
              [(seg + 264 + 80 * pages[len(pages) // 2][0], "<I", 0)], None),
             ("a segment's cookie changed", "0x%x" % seg,
              [(seg + 216, "<Q", cf.get(seg + 216, "<Q") ^ 0x1000)], None),
             ("a page's block size 3", "0x%x" % pages[2][1],
              [(pages[2][1] + 28, "<I", 3)], pages[2][1])]
    good = pages_of(d)
    for what, word, puts, page in cases:
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
        if page is not None:
            kept = pages_of(dd)
            pslice = (page - seg - 264) // 80 * 65536 + seg
            diff = [hex(a) for a in good if a != pslice and
                    kept.get(a) != good[a]]
            check(not diff, "damaged (%s): the other pages keep their "
                  "blocks in use" % what, diff[:5])
        mvalloc.damaged_gc(check, MEMVIEW, target, GC, what,
                           [a for a, _, s, _ in k.blocks if s == "live"])
        os.unlink(path)


def run_threads(n, tmp):
    """The fixture with n threads, stopped at its end (MV_WAIT)."""
    return mvalloc.start_waiting(EXE, {"MV_THREADS": str(n)}, tmp,
                                 "threads%d" % n)


def preload_checks(tmp, lib="/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
                   name="mimalloc 2.0.9", check=check):
    """leaks.c (a glibc program) with allocator lib (its heap described
    as name) in LD_PRELOAD, live: its own leak key, block by block."""
    g, mine = mvalloc.preload_leaks(
        check, MEMVIEW, os.path.join(ABS_BUILD, "fixtures", "leaks"), lib,
        tmp, GC, name)
    if g is None:
        return
    extra = [hex(int(b["address"], 16)) for b in g["blocks"]
             if int(b["address"], 16) not in mine and
             b["kind"] != "still_reachable"]
    check(not extra, "LD_PRELOAD leaks --pid: no other block is lost",
          extra[:5])


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


def four_threads(tmp, key, target_checks, debugger_checks, check=check):
    """The fixture with 4 threads: target_checks live, then on a gcore
    core of the same process, and debugger_checks on that core."""
    p, facts = run_threads(4, tmp)
    core = os.path.join(tmp, "core4")
    try:
        if not facts:
            check(False, "4 threads: the fixture reaches its stop")
            return
        k4 = key(facts)
        target_checks(["--pid", str(p.pid)], k4, "--pid, 4 threads")
        subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(p.pid),
                        "-ex", "set debuginfod enabled off",
                        "-ex", "gcore " + core], capture_output=True,
                       timeout=300)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    if not os.path.exists(core):
        check(False, "4 threads: gcore of the stopped fixture")
        return
    h4, g4 = target_checks(["--core", core, "--exe", EXE], k4,
                           "core, 4 threads")
    if h4 and g4:
        debugger_checks(core, h4, g4, "core, 4 threads")


def main():
    if missing("mimalloc", [MEMVIEW, EXE, CORE1, FACTS1]):
        return 1
    k1 = Key(FACTS1)
    target = ["--core", CORE1, "--exe", EXE]
    h, g = target_checks(target, k1, "core, 1 thread")
    if h and g:
        debugger_checks(CORE1, h, g, "core, 1 thread")
    allocator_checks(target, "core, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        if h:
            damaged_checks(h, k1, CORE1, tmp)
        preload_checks(tmp)
        four_threads(tmp, Key, target_checks, debugger_checks)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
