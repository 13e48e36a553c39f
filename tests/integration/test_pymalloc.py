#!/usr/bin/python3
"""CPython 3.11's pymalloc as a heap model (issue 17), against CPython's
own counts.

A Python program (PROG below) builds known objects under Debian's
python3.11-dbg (arenas found by the symbols arenas and maxarenas) and
the stripped release python3.11 (arenas found by their pool headers),
both with the default allocator.  Just before it stops itself (SIGSTOP)
it writes:
- the id() and sys.getsizeof() of a float, a 3-tuple, a short str and
  a bytes object, each one pymalloc block;
- sys._debugmallocstats(): pymalloc's blocks in use per size class.
gdb's gcore takes the core while it is stopped.  Then:
1. memview heap --json on the core: in-use blocks per size class equal
   _debugmallocstats' numbers, class by class; the description says how
   the arenas were found; no heap note on this healthy heap.
2. Each known object lies in an in-use pymalloc block of its size
   class: the request rounded up to 16 bytes, the request being
   getsizeof (which counts the GC header) and, in the debug build,
   CPython's debug hooks' 3 * sizeof(size_t) bytes (obmalloc.c).
3. memview gc: no block definitely or indirectly lost (as valgrind says
   of this interpreter: test_roots.py compares it to valgrind).
4. The same counts from mv-heap in real gdb and lldb on the core, and
   from memview --pid on the stopped process.
5. --allocator glibc leaves pymalloc out (no size classes, nothing
   about it in the description); --allocator pymalloc on a C fixture's
   core is an error naming it.
6. Hostile metadata, on copies of the debug build's core with one
   thing broken each: a pool's free list made a loop, a pool's size
   index out of range, maxarenas 2^32-1.  heap and gc answer within
   20 s with a note naming the damage, and the pools left intact keep
   their counts.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import mvalloc
from mvalloc import CoreFile, damaged_heap, driver_records
from mvcheck import Tally, missing, stopped

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
DEBUGGER_ENV = dict(mvalloc.DEBUGGER_ENV)
DEBUGGER_ENV.pop("PYTHONMALLOC", None)
T = Tally("pymalloc", verbose=True, detail_max=600)
PYTHONS = (("/usr/bin/python3.11d", "symbols", 24),
           ("/usr/bin/python3.11", "pool headers", 0))

PROG = r"""
import gc, os, signal, sys
facts = sys.argv[1]
class Node:
    def __init__(self, n): self.n = n; self.peer = None
a, b = Node(1), Node(2)
a.peer, b.peer = b, a
data = [dict(k=i, v=str(i) * 10) for i in range(2000)]
floats = [float(i) + 0.5 for i in range(3000)]
tuples = [(i, i + 1, i + 2) for i in range(1000)]
strs = ["s%05d" % i for i in range(1000)]
blobs = [bytes(300 + (i % 200)) for i in range(200)]
known = [("float", floats[7]), ("tuple", tuples[5]), ("str", strs[9]),
         ("bytes", blobs[17])]
lines = ["object %s 0x%x %d\n" % (n, id(o), sys.getsizeof(o))
         for n, o in known]
with open(facts, "w") as f:
    f.writelines(lines)
fd = os.open(facts + ".stats", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
gc.disable()
kill, pid, sig, dup2 = os.kill, os.getpid(), signal.SIGSTOP, os.dup2
err = os.dup(2)
dup2(fd, 2)
sys._debugmallocstats()
dup2(err, 2)
kill(pid, sig)
"""
STATS = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", re.M)


def check(ok, what, detail=""):
    T.check(what, ok, detail)


def run_python(exe, tmp, tag):
    """Starts PROG under exe; returns (process, facts path) once it has
    stopped itself, or (process, None)."""
    prog = os.path.join(tmp, "prog.py")
    with open(prog, "w") as f:
        f.write(PROG)
    facts = os.path.join(tmp, "facts." + tag)
    env = dict(os.environ)
    env.pop("PYTHONMALLOC", None)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.Popen([exe, prog, facts], env=env)
    for _ in range(600):
        if stopped(p.pid) or p.poll() is not None:
            break
        time.sleep(0.05)
    return p, facts if stopped(p.pid) else None


def read_facts(facts):
    objects = []
    with open(facts) as f:
        for line in f:
            w = line.split()
            if w[0] == "object":
                objects.append((w[1], int(w[2], 16), int(w[3])))
    with open(facts + ".stats") as f:
        classes = {int(m[0]): int(m[3]) for m in STATS.findall(f.read())
                   if int(m[3])}
    return objects, classes


def memview_json(target, words):
    r = subprocess.run([MEMVIEW] + target + words, capture_output=True,
                       text=True, timeout=600)
    if r.returncode:
        return None, r.stderr.strip()[-400:]
    try:
        return json.loads(r.stdout), None
    except ValueError:
        return None, "not JSON: " + r.stdout[:300]


def debugger_heap(front, exe, core):
    """mv-heap --json in real gdb or lldb on the core."""
    env = dict(DEBUGGER_ENV)
    if front == "gdb":
        env["MV_SETUP"] = json.dumps(["file " + exe, "core-file " + core])
    else:
        env.update(MV_EXE=exe, MV_CORE=core)
    recs, err = driver_records(front, env, ["mv-heap --json"])
    if not recs:
        return None, err
    if not recs[0]["succeeded"]:
        return None, recs[0]["error"]
    try:
        return json.loads(recs[0]["output"]), None
    except ValueError:
        return None, "not JSON: " + recs[0]["output"][:300]


def per_class(d):
    return {c["class"]: c["in_use"]
            for c in d.get("pymalloc_size_classes", []) if c["in_use"]}


def heap_checks(d, classes, who, how):
    got = per_class(d)
    check(got == classes, "%s: pymalloc blocks in use per size class as "
          "_debugmallocstats counts them (%d classes, %d blocks)" %
          (who, len(classes), sum(classes.values())),
          "differ: %s" % {c: (got.get(c), classes.get(c))
                          for c in set(got) | set(classes)
                          if got.get(c) != classes.get(c)})
    check(how in d["description"] and "pymalloc" in d["description"],
          "%s: the description says pymalloc's arenas were found by %s" %
          (who, how), d["description"])


def object_checks(d, objects, who, debug_extra):
    chunks = sorted((int(c["mem"], 16), c) for c in d["chunks"])
    starts = [m for m, _ in chunks]
    import bisect
    for name, addr, size in objects:
        want = (size + debug_extra + 15) // 16 * 16
        i = bisect.bisect_right(starts, addr) - 1
        c = chunks[i][1] if i >= 0 else None
        ok = (c is not None and addr < starts[i] + c["size"] and
              c["state"] == "in-use" and c["size"] == want and
              d["arenas"][c["arena"]]["kind"] == "pymalloc" and
              c["mem"] == c["address"])
        check(ok, "%s: the %s at 0x%x (getsizeof %d) is an in-use pymalloc "
              "block of %d bytes" % (who, name, addr, size, want), c)




def symbol(exe, name):
    r = subprocess.run(["nm", exe], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        w = line.split()
        if len(w) == 3 and w[2] == name:
            return int(w[0], 16)
    return None


def damaged_checks(d, core, target, tmp):
    """Each kind of damage on its own copy of the core."""
    py = {i for i, a in enumerate(d["arenas"]) if a["kind"] == "pymalloc"}
    pools = sorted(int(c["address"], 16) for c in d["chunks"]
                   if c["arena"] in py and c["state"] == "metadata")
    free_in = {}
    used_in = {}
    for c in d["chunks"]:
        if c["arena"] not in py:
            continue
        pool = int(c["address"], 16) & ~16383
        if c["state"] == "pool-free":
            free_in.setdefault(pool, []).append(int(c["address"], 16))
        elif c["state"] == "in-use":
            used_in.setdefault(pool, []).append(c["size"])
    looped = next(p for p in pools if len(free_in.get(p, [])) >= 2)
    bad = next(p for p in pools if p != looped and used_in.get(p))
    cf = CoreFile(core)
    head = cf.u64(looped + 8)
    base = CoreFile(core)
    cases = []
    cf.put(head, "<Q", head)
    cases.append(("a loop in a pool's free list", cf,
                  "0x%x" % looped, looped))
    cf = CoreFile(core)
    cf.put(bad + 36, "<I", 99)
    cases.append(("a pool's size index 99", cf, "0x%x" % bad, bad))
    maxarenas = symbol(target[3], "maxarenas")
    if maxarenas is None:
        check(False, "python3.11d: nm finds maxarenas")
    else:
        base.put(maxarenas, "<I", 0xffffffff)
        cases.append(("maxarenas 2^32-1", base, "maxarenas", None))
    good = {}
    for c in d["chunks"]:
        if c["state"] == "in-use" and c["arena"] in py:
            good[int(c["address"], 16) & ~16383] = \
                good.get(int(c["address"], 16) & ~16383, 0) + 1
    for what, cf, word, pool in cases:
        path = os.path.join(tmp, "damaged.core")
        cf.write(path)
        dtarget = ["--core", path] + target[2:]
        dd = damaged_heap(check, MEMVIEW, dtarget,
                          ["heap", "--json", "--chunks", "--top", "0",
                           "--max-chunks", "0"], what, word)
        if dd is None:
            continue
        kept = {}
        for c in dd["chunks"]:
            if c["state"] == "in-use" and c["arena"] < len(dd["arenas"]) \
                    and dd["arenas"][c["arena"]]["kind"] == "pymalloc":
                a = int(c["address"], 16) & ~16383
                kept[a] = kept.get(a, 0) + 1
        if pool is not None:
            diff = [hex(a) for a in good if a != pool and
                    kept.get(a) != good[a]]
            check(not diff, "damaged (%s): the other pools keep their "
                  "blocks in use" % what, diff[:5])
        try:
            g, err = memview_json(dtarget, ["gc", "--json"])
        except subprocess.TimeoutExpired:
            g, err = None, "timeout"
        check(g is not None, "damaged (%s): gc answers" % what, err)
        os.unlink(path)


def python_checks(exe, how, debug_extra, tmp):
    tag = os.path.basename(exe)
    p, facts = run_python(exe, tmp, tag)
    try:
        if not facts:
            check(False, "%s: the program stops itself" % tag)
            return
        objects, classes = read_facts(facts)
        check(len(classes) > 20 and len(objects) == 4,
              "%s: the program wrote its facts" % tag, classes)
        core = os.path.join(tmp, "core." + tag)
        subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(p.pid),
                        "-ex", "set debuginfod enabled off",
                        "-ex", "gcore " + core], capture_output=True,
                       timeout=300)
        if not os.path.exists(core):
            check(False, "%s: gcore of the stopped program" % tag)
            return
        live, err = memview_json(["--pid", str(p.pid)], ["heap", "--json"])
        if live is None:
            check(False, "%s --pid: memview heap runs" % tag, err)
        else:
            heap_checks(live, classes, tag + " --pid", how)
    finally:
        p.kill()
        p.wait()
    target = ["--core", core, "--exe", exe]
    d, err = memview_json(target, ["heap", "--json", "--chunks",
                                   "--top", "0", "--max-chunks", "0"])
    if d is None:
        check(False, "%s core: memview heap runs" % tag, err)
        return
    heap_checks(d, classes, tag + " core", how)
    check(not d.get("notes"), "%s core: no heap note on a healthy heap" %
          tag, d.get("notes"))
    object_checks(d, objects, tag + " core", debug_extra)
    g, err = memview_json(target, ["gc", "--json", "--heuristics", "none"])
    if g is None:
        check(False, "%s core: memview gc runs" % tag, err)
    else:
        lost = {k: g["summary"][k]["blocks"]
                for k in ("definitely_lost", "indirectly_lost")}
        check(not any(lost.values()), "%s core: gc finds no block lost "
              "(valgrind: none)" % tag, lost)
    g, err = memview_json(target, ["heap", "--json", "--allocator",
                                   "glibc"])
    check(g is not None and "pymalloc" not in g["description"] and
          not g.get("pymalloc_size_classes"),
          "%s core: heap --allocator glibc leaves pymalloc out" % tag,
          err or g["description"])
    if debug_extra:
        damaged_checks(d, core, target, tmp)
    for front in ("gdb", "lldb"):
        dd, err = debugger_heap(front, exe, core)
        if dd is None:
            check(False, "%s core (%s): mv-heap runs" % (tag, front), err)
            continue
        heap_checks(dd, classes, "%s core (%s)" % (tag, front), how)
    os.unlink(core)


def main():
    leaks = os.path.join(BUILD, "cores", "leaks.core")
    if missing("pymalloc", [MEMVIEW, leaks]):
        return 1
    r = subprocess.run([MEMVIEW, "--core", leaks, "--exe",
                        os.path.join(BUILD, "fixtures", "leaks"), "heap",
                        "--allocator", "pymalloc"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "--allocator pymalloc" in r.stderr,
          "leaks core: heap --allocator pymalloc is an error naming it",
          r.stderr.strip())
    for exe, how, debug_extra in PYTHONS:
        if not os.path.exists(exe):
            check(False, "%s is installed (tools/deps.sh)" % exe)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            python_checks(exe, how, debug_extra, tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
