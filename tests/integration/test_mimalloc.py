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
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, missing

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


def memview_json(target, words):
    r = subprocess.run([MEMVIEW] + target + words, capture_output=True,
                       text=True, timeout=600)
    if r.returncode not in (0, 1) or not r.stdout.startswith("{"):
        return None, (r.stderr or r.stdout).strip()[-400:]
    try:
        return json.loads(r.stdout), None
    except ValueError:
        return None, "not JSON: " + r.stdout[:300]


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
    got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
    wrong = ["%s 0x%x: %s" % (s, a, got.get(a)) for a, _, s, _ in k.blocks
             if s in ("definitely_lost", "indirectly_lost") and
             got.get(a) != s]
    wrong += ["live 0x%x: %s" % (a, got.get(a)) for a, _, s, _ in k.blocks
              if s == "live" and got.get(a) != "still_reachable"]
    check(not wrong, "%s: gc puts each block of the key in its memcheck "
          "category" % who, wrong[:5])
    for kind in ("definitely_lost", "indirectly_lost"):
        check(g["summary"][kind]["blocks"] == k.count(kind),
              "%s: %s blocks = the key's %d" % (who, kind, k.count(kind)),
              g["summary"][kind])
    check(g["summary"]["cyclic_garbage"]["blocks"] == 3 * k.threads,
          "%s: cyclic garbage = the key's cycles" % who,
          g["summary"]["cyclic_garbage"])


def walk_checks(target, k, who):
    d, err = memview_json(target, ["sizeof-deep", "g_lists[0]", "--json"])
    # The allocator's bytes: the chunks' usable sizes, and the 8 bytes of
    # the pointer g_lists[0] itself (a global).
    want = sum(u for _, u, s, t in k.blocks if s == "live" and t == 0)
    want += k.huge[1] + 8
    check(d is not None and d["allocator_deep_size"] == want,
          "%s: sizeof-deep g_lists[0]: allocator bytes = its live blocks' "
          "usable sizes (%d)" % (who, want),
          err or (d and d["allocator_deep_size"]))
    live = sorted(a for a, _, s, t in k.blocks if s == "live" and t == 0)
    a = live[len(live) // 2]
    r, err = memview_json(target, ["referrers", hex(a), "--json"])
    check(r is not None and r["count"] == 1 and
          r["referrers"][0]["kind"] == "heap" and
          int(r["referrers"][0]["holder"], 16) in set(live) | {k.huge[0]},
          "%s: referrers of a live block: the list node before it" % who,
          err or (r and r["referrers"][:2]))
    p, err = memview_json(target, ["path-to", hex(a), "--json"])
    check(p is not None and p["found"] and
          p["chain"][0]["root"] == "g_lists",
          "%s: path-to a live block starts at g_lists" % who,
          err or (p and p["chain"][:1]))
    v, err = memview_json(target, ["view", "--pointers", "--json",
                                   "g_lists", "8"])
    ptr = v["pointers"][0] if v and v["pointers"] else None
    check(ptr is not None and ptr["kind"] == "heap" and
          ptr["details"]["state"] == "in-use" and
          int(ptr["details"]["mem"], 16) == k.huge[0],
          "%s: view --pointers: g_lists[0] points at an in-use block" % who,
          err or ptr)


def debugger(front, core, cases):
    """Records of the command lines in real gdb or lldb on the core."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(DEBUGGER_ENV, MV_CASES=json.dumps(cases), MV_OUT=out,
                   MV_TEARDOWN="[]")
        if front == "gdb":
            env["MV_SETUP"] = json.dumps(["file " + EXE, "core-file " + core])
            argv = ["gdb", "-nx", "-batch", "-q",
                    "-ex", "set debuginfod enabled off",
                    "-ex", "source %s/gdb/memview.py" % ROOT,
                    "-ex", "source %s/tests/integration/gdb_driver.py"
                    % ROOT]
        else:
            env.update(MV_EXE=EXE, MV_CORE=core)
            argv = ["lldb", "-b", "--no-lldbinit",
                    "-o", "command script import %s/lldb/memview.py" % ROOT,
                    "-o", "command script import %s/tests/integration/"
                    "lldb_driver.py" % ROOT]
        r = subprocess.run(argv, env=env, capture_output=True, text=True,
                           timeout=600, stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            with open(out) as f:
                recs = json.load(f)["cases"]
        except (OSError, ValueError, KeyError):
            return None, "no record: " + (r.stdout + r.stderr)[-400:]
        res = []
        for rec in recs:
            try:
                res.append(json.loads(rec["output"]) if rec["succeeded"]
                           else None)
            except ValueError:
                res.append(None)
        return res, recs


def numbers(h, g):
    """What must agree between the front ends."""
    return (h["totals"], h.get("mimalloc_size_classes"), h["description"],
            g["summary"])


def debugger_checks(core, h, g, who):
    for front in ("gdb", "lldb"):
        res, recs = debugger(front, core, ["mv-heap --json",
                                           "mv-gc --json"])
        ok = res is not None and len(res) == 2 and None not in res
        check(ok and numbers(res[0], res[1]) == numbers(h, g),
              "%s (%s): mv-heap and mv-gc give the CLI's numbers" %
              (who, front),
              recs if not ok else [x for x in zip(numbers(res[0], res[1]),
                                                  numbers(h, g))
                                   if x[0] != x[1]][:2])


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


class CoreFile:
    """A core's bytes by virtual address (its PT_LOAD segments)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        phoff, = struct.unpack_from("<Q", self.data, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 54)
        self.loads = []
        for i in range(phnum):
            (typ, _, off, vaddr, _, filesz, _,
             _) = struct.unpack_from("<IIQQQQQQ", self.data,
                                     phoff + i * phentsize)
            if typ == 1:
                self.loads.append((vaddr, filesz, off))

    def offset(self, addr):
        for vaddr, filesz, off in self.loads:
            if vaddr <= addr < vaddr + filesz:
                return off + addr - vaddr
        raise KeyError(hex(addr))

    def get(self, addr, fmt):
        return struct.unpack_from(fmt, self.data, self.offset(addr))[0]

    def put(self, addr, fmt, value):
        struct.pack_into(fmt, self.data, self.offset(addr), value)


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
        if page is not None:
            kept = pages_of(dd)
            pslice = (page - seg - 264) // 80 * 65536 + seg
            diff = [hex(a) for a in good if a != pslice and
                    kept.get(a) != good[a]]
            check(not diff, "damaged (%s): the other pages keep their "
                  "blocks in use" % what, diff[:5])
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


def run_threads(n, tmp):
    """The fixture with n threads, stopped at its end (MV_WAIT)."""
    facts = os.path.join(tmp, "facts%d" % n)
    ready = os.path.join(tmp, "ready%d" % n)
    env = dict(os.environ, MV_THREADS=str(n), MV_WAIT="1", MV_FACTS=facts,
               MV_READY=ready)
    p = subprocess.Popen([EXE], env=env)
    for _ in range(600):
        if os.path.exists(ready) or p.poll() is not None:
            break
        time.sleep(0.05)
    return p, facts if os.path.exists(ready) else None


def preload_checks(tmp, lib="/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
                   name="mimalloc 2.0.9", check=check):
    """leaks.c (a glibc program) with allocator lib (its heap described
    as name) in LD_PRELOAD, live: its own leak key, block by block."""
    exe = os.path.join(ABS_BUILD, "fixtures", "leaks")
    facts = os.path.join(tmp, "leaks.facts")
    ready = os.path.join(tmp, "leaks.ready")
    env = dict(os.environ, LD_PRELOAD=lib, MV_WAIT="1", MV_FACTS=facts,
               MV_READY=ready)
    p = subprocess.Popen([exe], env=env)
    try:
        for _ in range(600):
            if os.path.exists(ready) or p.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(ready):
            check(False, "LD_PRELOAD: leaks reaches its stop")
            return
        g, err = memview_json(["--pid", str(p.pid)], GC)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    if g is None:
        check(False, "LD_PRELOAD leaks --pid: gc runs", err)
        return
    check(name in g["heap"], "LD_PRELOAD leaks --pid: gc reads %s's heap"
          % name.split()[0], g["heap"])
    key = []
    with open(facts) as f:
        for line in f:
            w = line.split()
            if w[0] == "block":
                key.append((int(w[1], 16), w[4],
                            len(w) > 5 and w[5] == "cyclic"))
    got = {int(b["address"], 16): (b["kind"], b["cyclic"])
           for b in g["blocks"]}
    wrong = ["0x%x: %s%s, got %s" % (a, e, " cyclic" if c else "",
                                      got.get(a))
             for a, e, c in key if got.get(a) != (e, c)]
    check(key and not wrong, "LD_PRELOAD leaks --pid: each of its %d "
          "blocks in its memcheck category" % len(key), wrong[:5])
    mine = {a for a, _, _ in key}
    extra = [hex(a) for a, (kind, _) in got.items()
             if a not in mine and kind != "still_reachable"]
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
