#!/usr/bin/python3
"""sizeof_bench.py - sizeof-deep of a 1,000,000-node linked list and a
1,000,000-node binary tree, each allocated in order and shuffled, against
(a) a gdb Python script walking the same structure with gdb.Value
(bench/gdb_walk.py) and (b) the floor: the fixture walking its own
structure, timed inside the program (its walk.seconds fact).

Memory: the peak of memview's anonymous RSS (sampled from
/proc/PID/status every millisecond; the core's mapping is file-backed and
not in it), minus the same for a walk of one object (heap index, DWARF,
program), divided by the objects visited.

Env: BUILD (build), NODES (1000000), GDB_RUNS (1), RUNS (3)."""
import json
import os
import resource
import statistics
import subprocess
import sys
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


def core_for(shape, shuffle):
    name = "deepbench-%s-%s" % (shape, "shuffled" if shuffle else "inorder")
    core = os.path.join(OUT, name + ".core")
    facts = os.path.join(OUT, name + ".facts")
    if not os.path.exists(core) or not os.path.exists(facts) or \
            os.path.getmtime(core) < os.path.getmtime(EXE):
        env = dict(os.environ, MV_SHAPE=shape, MV_NODES=str(NODES),
                   MV_SHUFFLE=str(int(shuffle)))
        subprocess.run(["tools/make-core.sh", EXE, core, facts], env=env,
                       check=True)
    f = {}
    for line in open(facts):
        k, _, v = line.rstrip("\n").rpartition(" ")
        f[k] = v
    return core, f


def measure(cmd):
    """Wall time and peak anonymous RSS (kB) of cmd; its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
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


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for shape in ("list", "tree"):
        for shuffle in (False, True):
            core, f = core_for(shape, shuffle)
            root = "root" if shape == "tree" else "head"
            base = ["--core", core, "--exe", EXE]
            cmd = [MV] + base + ["sizeof-deep", root, "--json",
                                 "--max-objects", str(NODES * 2)]
            times, peaks = [], []
            d = None
            for _ in range(RUNS):
                dt, peak, out = measure(cmd)
                times.append(dt)
                peaks.append(peak)
                d = json.loads(out)
            _, base_peak, _ = measure([MV] + base + [
                "sizeof-deep", root, "--max-objects", "1"])
            mv_t = statistics.median(times)
            ok = (d["heap"]["objects"] == int(f["deep.objects"]) and
                  d["heap"]["type_bytes"] == int(f["deep.type_bytes"]) and
                  d["heap"]["usable_bytes"] == int(f["deep.usable"]))
            t0 = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            g = subprocess.run(
                ["gdb", "-nx", "-batch", "-q",
                 "-ex", "set debuginfod enabled off",
                 "-ex", "python ROOT=%r" % root,
                 "-x", "bench/gdb_walk.py", EXE, core],
                capture_output=True, text=True)
            gdb_t = time.perf_counter() - t0
            if CPU_TIME:
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                gdb_t = (r1.ru_utime - r0.ru_utime) + \
                    (r1.ru_stime - r0.ru_stime)
            gdb_ok = ("gdb walk: %d objects" % NODES) in g.stdout
            floor = float(f["walk.seconds"])
            per_obj = (max(peaks) - base_peak) * 1024.0 / d["objects"]
            rows.append((shape, "shuffled" if shuffle else "in order",
                         mv_t, gdb_t, floor, per_obj, ok, gdb_ok))
    print("sizeof-deep bench: %d nodes, memview medians of %d runs "
          "(whole process), gdb one run, %s" % (
              NODES, RUNS, "CPU seconds" if CPU_TIME else "wall clock"))
    print("  %-6s %-9s %9s %9s %9s %8s %8s %9s %s" % (
        "shape", "order", "memview", "gdb", "floor", "vs gdb",
        "vs floor", "B/object", "check"))
    for shape, order, mv_t, gdb_t, floor, per_obj, ok, gdb_ok in rows:
        print("  %-6s %-9s %8.3fs %8.2fs %8.4fs %7.0fx %7.1fx %9.1f %s" % (
            shape, order, mv_t, gdb_t, floor, gdb_t / mv_t, mv_t / floor,
            per_obj, ("facts ok" if ok else "FACTS DIFFER") +
            ("" if gdb_ok else ", gdb walk failed")))
    print("goals: in order >= 100x the gdb walk; shuffled within 2.5x "
          "the floor; <= 32 B/object")


if __name__ == "__main__":
    main()
