#!/usr/bin/python3
"""timeit.py RUNS [--cpu] -- CMD...: runs CMD RUNS times with its output
thrown away and prints the median wall-clock time in seconds (with
--cpu, then the median CPU time, user + system, of CMD), and the
individual runs on stderr.  A small stand-in for hyperfine."""
import os
import statistics
import subprocess
import sys
import time


def main():
    cpu = len(sys.argv) > 2 and sys.argv[2] == "--cpu"
    rest = sys.argv[3:] if cpu else sys.argv[2:]
    if len(rest) < 2 or rest[0] != "--":
        raise SystemExit("usage: timeit.py RUNS [--cpu] -- CMD...")
    runs = int(sys.argv[1])
    cmd = rest[1:]
    times, cpus = [], []
    for _ in range(runs):
        c0 = os.times()
        start = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        c1 = os.times()
        cpus.append(c1.children_user - c0.children_user +
                    c1.children_system - c0.children_system)
        if p.returncode:
            raise SystemExit("timeit: %s failed: %s" %
                             (" ".join(cmd), p.stderr.decode().strip()))
    if cpu:
        print("%.4f %.4f" % (statistics.median(times),
                             statistics.median(cpus)))
    else:
        print("%.4f" % statistics.median(times))
    print("  runs: " + " ".join("%.3f" % t for t in times), file=sys.stderr)


if __name__ == "__main__":
    main()
