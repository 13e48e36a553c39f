#!/usr/bin/python3
"""frames_bench.py: naming stack holders (frames.c) on a core of
bench/stackdeep.c, one block held by a local of each of DEPTH recursive
frames: `referrers` of the block lists DEPTH stack words, each named by
its frame and local ("in hold: held").  Prints the median CPU time
(user+sys of the memview process) of RUNS runs, and checks that every
holder was named (the count is the fixture's own DEPTH).

Usage: BUILD=build python3 bench/frames_bench.py [DEPTH] [RUNS]"""
import os
import resource
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")


def cpu_run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit("frames bench: %s failed: %s" %
                         (" ".join(cmd), p.stderr.strip()))
    return (after.ru_utime - before.ru_utime +
            after.ru_stime - before.ru_stime), p.stdout


def main():
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    out = os.path.join(BUILD, "bench")
    os.makedirs(out, exist_ok=True)
    exe = os.path.join(out, "stackdeep%d" % depth)
    core = exe + ".core"
    facts = exe + ".facts"
    subprocess.run(["cc", "-std=gnu11", "-g", "-O0",
                    "-fno-omit-frame-pointer", "-DDEPTH=%d" % depth,
                    "-o", exe, os.path.join(ROOT, "bench", "stackdeep.c")],
                   check=True)
    subprocess.run([os.path.join(ROOT, "tools", "make-core.sh"), exe, core,
                    facts], check=True)
    with open(facts) as f:
        kv = dict(line.rstrip("\n").rsplit(" ", 1) for line in f)
    block = kv["addr block"]
    cmd = [os.path.join(BUILD, "memview"), "--core", core, "--exe", exe,
           "referrers", "--max", "0", block]
    times = []
    for _ in range(runs):
        t, text = cpu_run(cmd)
        times.append(t)
    named = text.count("in hold: held")
    print("frames bench: %d holders named of %d; referrers CPU median "
          "%.3f s (runs %s)" % (named, int(kv["depth"]),
                                statistics.median(times),
                                " ".join("%.3f" % t for t in times)))
    if named != int(kv["depth"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
