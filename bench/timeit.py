#!/usr/bin/python3
"""timeit.py RUNS -- CMD...: runs CMD RUNS times with its output thrown
away and prints the median wall-clock time in seconds (and the
individual runs on stderr).  A small stand-in for hyperfine."""
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        raise SystemExit("usage: timeit.py RUNS -- CMD...")
    runs = int(sys.argv[1])
    cmd = sys.argv[3:]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if p.returncode:
            raise SystemExit("timeit: %s failed: %s" %
                             (" ".join(cmd), p.stderr.decode().strip()))
    print("%.4f" % statistics.median(times))
    print("  runs: " + " ".join("%.3f" % t for t in times), file=sys.stderr)


if __name__ == "__main__":
    main()
