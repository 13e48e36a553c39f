#!/usr/bin/python3
"""sizeof_bench.py - sizeof-deep of a 1,000,000-node linked list and a
1,000,000-node binary tree, each allocated in order and shuffled, against
(a) a gdb Python script walking the same structure with gdb.Value
(bench/gdb_walk.py) and (b) the floor: the fixture walking its own
structure, timed inside the program (its walk.seconds fact).

Touch: what reading one byte of every page of the core through a fresh
mapping costs on this machine (bench/touch_core.c, median of RUNS): the
least a reader of the whole heap through the mapping pays, and the floor
does not (its pages are warm).  On a virtual machine it is a large share
of a walk.  memview reads a core's big writable segments with pread
instead; "mapped" is memview with MEMVIEW_CORE_COPY=never (runs
alternating with the others), which faults them in through the mapping.

Memory: the peak of memview's anonymous RSS (sampled from
/proc/PID/status every millisecond), minus the same for a walk of one
object (heap index, DWARF, program, and the core's segments read in,
which are the core's bytes as the file-backed mapping is), divided by
the objects visited.

Live rows: the same fixture running and stopped (MV_WAIT=1: it waits in
pause() after its facts), sizeof-deep by `memview --pid` (the fixture
sent SIGSTOP meanwhile), by the gdb plugin in gdb attached to it (the
command timed inside gdb: a user's first sizeof-deep there, and the
same again while the process stays stopped) and by bench/gdb_walk.py in
gdb attached to it (the walk timed inside gdb).

Both (issue 20's two-structure check): one heap holding a list AND a
tree of BOTH_NODES nodes each, with other blocks between their nodes
(deepbench MV_SHAPE=both), each structure sized by its own memview
process from its root against bench/gdb_walk.py in its own gdb; memview
as it runs by default (the lazy heap: no index first) and with the whole
heap indexed first (--max-heap-chunks 4000000000, never lazy), whose
answer must be the same byte for byte.

Env: BUILD (build), NODES (1000000), BOTH_NODES (2000000), RUNS (3), CPU
(0), PARTS (core,both,live: which tables), LIVE (list-inorder,
list-shuffled: the live cases, SHAPE-inorder|SHAPE-shuffled)."""
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD", "build")
NODES = int(os.environ.get("NODES", "1000000"))
RUNS = int(os.environ.get("RUNS", "3"))
# CPU=1: user + system CPU seconds instead of wall clock (for shared,
# loaded machines, where wall time measures the neighbours).
CPU_TIME = os.environ.get("CPU", "0") == "1"
MV = os.path.join(BUILD, "memview")
EXE = os.path.join(BUILD, "fixtures", "deepbench")
OUT = os.path.join(BUILD, "bench")


def core_for(shape, shuffle, nodes=NODES):
    name = "deepbench-%s-%s" % (shape, "shuffled" if shuffle else "inorder")
    if nodes != NODES:
        name += "-%d" % nodes
    core = os.path.join(OUT, name + ".core")
    facts = os.path.join(OUT, name + ".facts")
    if not os.path.exists(core) or not os.path.exists(facts) or \
            os.path.getmtime(core) < os.path.getmtime(EXE):
        env = dict(os.environ, MV_SHAPE=shape, MV_NODES=str(nodes),
                   MV_SHUFFLE=str(int(shuffle)))
        subprocess.run(["tools/make-core.sh", EXE, core, facts], env=env,
                       check=True)
    return core, read_facts(facts)


def measure(cmd, env=None):
    """Wall time and peak anonymous RSS (kB) of cmd; its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0
    status = "/proc/%d/status" % p.pid
    while p.poll() is None:
        try:
            for line in open(status):
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.001)
    out, err = p.communicate()
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if CPU_TIME:
        dt = cpu
    if p.returncode:
        raise SystemExit("bench: %s failed: %s" % (" ".join(cmd),
                                                   err.decode()))
    return dt, peak, out


def read_facts(path):
    f = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").rpartition(" ")
        f[k] = v
    return f


def sizes_match(d, f, prefix=""):
    """Whether sizeof-deep's JSON agrees with the fixture's facts."""
    return (d["heap"]["objects"] == int(f[prefix + "deep.objects"]) and
            d["heap"]["type_bytes"] == int(f[prefix + "deep.type_bytes"]) and
            d["heap"]["usable_bytes"] == int(f[prefix + "deep.usable"]))


def gdb_walk(root, core):
    """bench/gdb_walk.py in its own gdb on core: (whole process seconds,
    its stdout)."""
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    g = subprocess.run(
        ["gdb", "-nx", "-batch", "-q",
         "-ex", "set debuginfod enabled off",
         "-ex", "python ROOT=%r" % root,
         "-x", "bench/gdb_walk.py", EXE, core],
        capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if CPU_TIME:
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        dt = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, g.stdout


def touch_tool():
    """bench/touch_core.c, built into OUT when missing or stale."""
    src = os.path.join("bench", "touch_core.c")
    exe = os.path.join(OUT, "touch_core")
    if not os.path.exists(exe) or \
            os.path.getmtime(exe) < os.path.getmtime(src):
        os.makedirs(OUT, exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
    return exe


def touch_seconds(tool, core):
    """Median CPU seconds of touching every page of core once."""
    times = []
    for _ in range(RUNS):
        out = subprocess.run([tool, core], capture_output=True, text=True,
                             check=True).stdout
        times.append(float(out.split()[0]))
    return statistics.median(times)


def core_table():
    rows = []
    tool = touch_tool()
    for shape in ("list", "tree"):
        for shuffle in (False, True):
            core, f = core_for(shape, shuffle)
            root = "root" if shape == "tree" else "head"
            base = ["--core", core, "--exe", EXE]
            cmd = [MV] + base + ["sizeof-deep", root, "--json",
                                 "--max-objects", str(NODES * 2)]
            times, peaks, mapped = [], [], []
            d = None
            never = dict(os.environ, MEMVIEW_CORE_COPY="never")
            for _ in range(RUNS):
                dt, peak, out = measure(cmd)
                times.append(dt)
                peaks.append(peak)
                d = json.loads(out)
                mapped.append(measure(cmd, never)[0])
            _, base_peak, _ = measure([MV] + base + [
                "sizeof-deep", root, "--max-objects", "1"])
            mv_t = statistics.median(times)
            ok = sizes_match(d, f)
            gdb_t, gdb_out = gdb_walk(root, core)
            gdb_ok = ("gdb walk: %d objects" % NODES) in gdb_out
            floor = float(f["walk.seconds"])
            touch = touch_seconds(tool, core)
            per_obj = (max(peaks) - base_peak) * 1024.0 / d["objects"]
            rows.append((shape, "shuffled" if shuffle else "in order",
                         mv_t, gdb_t, floor, touch,
                         statistics.median(mapped), per_obj, ok, gdb_ok))
    print("sizeof-deep bench: %d nodes, memview medians of %d runs "
          "(whole process), gdb one run, %s" % (
              NODES, RUNS, "CPU seconds" if CPU_TIME else "wall clock"))
    print("  %-6s %-9s %9s %9s %9s %8s %8s %8s %8s %9s %s" % (
        "shape", "order", "memview", "gdb", "floor", "touch", "mapped",
        "vs gdb", "vs floor", "B/object", "check"))
    for (shape, order, mv_t, gdb_t, floor, touch, mapped_t, per_obj, ok,
         gdb_ok) in rows:
        print("  %-6s %-9s %8.3fs %8.2fs %8.4fs %7.4fs %7.3fs %7.0fx "
              "%7.1fx %9.1f %s" % (
                  shape, order, mv_t, gdb_t, floor, touch, mapped_t,
                  gdb_t / mv_t, mv_t / floor, per_obj,
                  ("facts ok" if ok else "FACTS DIFFER") +
                  ("" if gdb_ok else ", gdb walk failed")))
    print("goals: in order >= 100x the gdb walk; shuffled within 2.5x "
          "the floor; <= 32 B/object")
    print("touch: reading each page of the core once through a fresh "
          "mapping (bench/touch_core.c), which the floor does not pay; "
          "mapped: memview with MEMVIEW_CORE_COPY=never")


BOTH_NODES = int(os.environ.get("BOTH_NODES", "2000000"))
WHOLE = "4000000000"  # a bound given: the whole heap indexed first


def both_table():
    core, f = core_for("both", False, BOTH_NODES)
    heap_mb = os.path.getsize(core) / 1e6
    rows = []
    for shape, root in (("list", "head"), ("tree", "root")):
        cmd = [MV, "--core", core, "--exe", EXE, "sizeof-deep", root,
               "--json", "--max-objects", "0"]
        lazy, whole, out_lazy, out_whole = [], [], None, None
        for _ in range(RUNS):  # alternating, side by side
            dt, _, out_lazy = measure(cmd)
            lazy.append(dt)
            dt, _, out_whole = measure(cmd + ["--max-heap-chunks", WHOLE])
            whole.append(dt)
        d = json.loads(out_lazy)
        ok = sizes_match(d, f, shape + ".") and out_lazy == out_whole
        gdb_t, gdb_out = gdb_walk(root, core)
        gdb_ok = ("gdb walk: %s objects, %s bytes" % (
            f[shape + ".deep.objects"], f[shape + ".deep.type_bytes"])
            in gdb_out)
        rows.append((shape, root, statistics.median(lazy),
                     statistics.median(whole), gdb_t, ok, gdb_ok))
    print("sizeof-deep, two structures in one heap (issue 20): a list and a "
          "tree of %d nodes each\nwith %s other blocks between them (core "
          "%.0f MB), one memview process and one gdb per\nstructure; memview "
          "medians of %d runs (whole process), gdb one run, %s" % (
              BOTH_NODES, f["other.blocks"], heap_mb, RUNS,
              "CPU seconds" if CPU_TIME else "wall clock"))
    print("  %-6s %-5s %9s %9s %9s %8s %8s %s" % (
        "shape", "root", "memview", "indexed", "gdb", "vs gdb",
        "indexed", "check"))
    for shape, root, lazy_t, whole_t, gdb_t, ok, gdb_ok in rows:
        print("  %-6s %-5s %8.3fs %8.3fs %8.2fs %7.0fx %7.0fx %s" % (
            shape, root, lazy_t, whole_t, gdb_t, gdb_t / lazy_t,
            gdb_t / whole_t,
            ("facts ok, = indexed" if ok else "FACTS DIFFER") +
            ("" if gdb_ok else ", gdb walk failed")))
    print("goal: >= 100x the gdb walk for each structure; indexed: memview "
          "with the whole heap\nindexed first (--max-heap-chunks %s), whose "
          "answer must be the same" % WHOLE)


def start_live(shape, shuffle, tmp):
    """The fixture, running and waiting in pause(); (process, facts)."""
    ready = os.path.join(tmp, "ready")
    facts = os.path.join(tmp, "facts")
    for path in (ready, facts):
        if os.path.exists(path):
            os.unlink(path)
    env = dict(os.environ, MV_SHAPE=shape, MV_NODES=str(NODES),
               MV_SHUFFLE=str(int(shuffle)), MV_WAIT="1", MV_READY=ready,
               MV_FACTS=facts)
    process = subprocess.Popen([EXE], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not os.path.exists(ready):
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            process.wait()
            raise SystemExit("bench: %s did not get ready" % EXE)
        time.sleep(0.05)
    return process, read_facts(facts)


def gdb_attached(pid, args, env=None):
    """gdb attached to pid, running args after the attach; its stdout."""
    g = subprocess.run(
        ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off"]
        + args[0] + ["-p", str(pid)] + args[1],
        capture_output=True, text=True, env=env)
    if g.returncode:
        raise SystemExit("bench: gdb failed: %s" % g.stderr.strip()[-500:])
    return g.stdout


def live_row(shape, shuffle, tmp):
    process, f = start_live(shape, shuffle, tmp)
    pid = process.pid
    root = "root" if shape == "tree" else "head"
    command = ["sizeof-deep", root, "--json", "--max-objects",
               str(NODES * 2)]
    try:
        # The CLI does not stop the process itself: stop it meanwhile.
        os.kill(pid, signal.SIGSTOP)
        times, d = [], None
        for _ in range(RUNS):
            dt, _, out = measure([MV, "--pid", str(pid)] + command)
            times.append(dt)
            d = json.loads(out)
        os.kill(pid, signal.SIGCONT)
        cli_t, cli_ok = statistics.median(times), sizes_match(d, f)

        out = os.path.join(tmp, "gdb_memview.json")
        env = dict(os.environ, MV_BENCH_COMMAND=" ".join(command),
                   MV_BENCH_RUNS=str(RUNS), MV_BENCH_OUT=out)
        gdb_attached(pid, (["-ex", "source gdb/memview.py"],
                           ["-x", "bench/gdb_memview.py"]), env)
        with open(out) as fp:
            g = json.load(fp)
        key = "cpu" if CPU_TIME else "wall"
        first = g["runs"][0][key]
        again = statistics.median(r[key] for r in g["runs"][1:]) \
            if len(g["runs"]) > 1 else float("nan")
        gdb_ok = sizes_match(json.loads(g["output"]), f)

        text = gdb_attached(pid, (["-ex", "python ROOT=%r" % root],
                                  ["-x", "bench/gdb_walk.py"]))
        walk_t, walk_ok = float("nan"), False
        for line in text.splitlines():
            if line.startswith("gdb walk: "):
                w = line[len("gdb walk: "):].replace(",", "").split()
                walk_ok = (int(w[0]) == int(f["deep.objects"]) and
                           int(w[2]) == int(f["deep.type_bytes"]))
                walk_t = float(w[4] if CPU_TIME else w[7])
    finally:
        process.kill()
        process.wait()
    return (shape, "shuffled" if shuffle else "in order", cli_t, first,
            again, walk_t, cli_ok and gdb_ok, walk_ok)


def live_table():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in os.environ.get("LIVE", "list-inorder,list-shuffled") \
                .split(","):
            shape, _, order = case.partition("-")
            if shape not in ("list", "tree") or \
                    order not in ("inorder", "shuffled"):
                raise SystemExit("bench: LIVE case %r is not "
                                 "SHAPE-inorder|SHAPE-shuffled" % case)
            rows.append(live_row(shape, order == "shuffled", tmp))
    print("sizeof-deep on a live process (stopped): %d nodes, %s\n"
          "  --pid: memview --pid, median of %d runs (whole process); "
          "gdb 1st/again: the command\n"
          "  timed inside gdb attached, its first run and the median of "
          "%d more in the same session;\n"
          "  gdb walk: bench/gdb_walk.py timed inside gdb attached, one "
          "run" % (NODES, "CPU seconds" if CPU_TIME else "wall clock",
                   RUNS, RUNS - 1))
    print("  %-6s %-9s %9s %9s %9s %9s %8s %8s %s" % (
        "shape", "order", "--pid", "gdb 1st", "gdb again", "gdb walk",
        "vs --pid", "vs 1st", "check"))
    for shape, order, cli_t, first, again, walk_t, ok, walk_ok in rows:
        print("  %-6s %-9s %8.3fs %8.3fs %8.3fs %8.2fs %7.0fx %7.0fx %s" % (
            shape, order, cli_t, first, again, walk_t, walk_t / cli_t,
            walk_t / first, ("facts ok" if ok else "FACTS DIFFER") +
            ("" if walk_ok else ", gdb walk failed")))
    print("goal: in order >= 30x the gdb walk on a live process "
          "(memview in gdb, first run, and memview --pid)")


def main():
    os.makedirs(OUT, exist_ok=True)
    parts = os.environ.get("PARTS", "core,both,live").split(",")
    tables = [("core", core_table), ("both", both_table),
              ("live", live_table)]
    first = True
    for name, table in tables:
        if name in parts:
            if not first:
                print()
            table()
            first = False


if __name__ == "__main__":
    main()
