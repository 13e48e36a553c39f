#!/usr/bin/python3
"""ab.py - two memview binaries side by side on the sizeof-deep bench
cores (made by bench/sizeof_bench.py), runs alternating so that a noisy
machine slows both alike; prints the minimum and median CPU seconds.

    bench/ab.py RUNS OLD/memview NEW/memview [list-inorder ...]

Cases: list-inorder, list-shuffled, tree-inorder, tree-shuffled (all by
default), or both-inorder-2000000 (the both table's core, from head).
The user share is printed apart: on a virtual machine the system share
(mostly the kernel zeroing fresh pages) swings with the neighbours.
Env: BUILD (build), for the cores and the fixture."""
import os
import resource
import statistics
import subprocess
import sys

BUILD = os.environ.get("BUILD", "build")
CASES = ["list-inorder", "list-shuffled", "tree-inorder", "tree-shuffled"]


def cpu_seconds(cmd):
    """(user + system, user) CPU seconds of cmd."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = r1.ru_utime - r0.ru_utime
    return user + (r1.ru_stime - r0.ru_stime), user


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs, bins, cases = int(sys.argv[1]), sys.argv[2:4], sys.argv[4:] or CASES
    exe = os.path.join(BUILD, "fixtures", "deepbench")
    for case in cases:
        core = os.path.join(BUILD, "bench", "deepbench-%s.core" % case)
        if not os.path.exists(core):
            sys.exit("ab.py: %s is missing (run make bench once)" % core)
        root = "root" if case.startswith("tree") else "head"
        times = {b: [] for b in bins}
        user = {b: [] for b in bins}
        for _ in range(runs):
            for b in bins:
                t, u = cpu_seconds(
                    [b, "--core", core, "--exe", exe, "sizeof-deep", root,
                     "--json", "--max-objects", "0"])
                times[b].append(t)
                user[b].append(u)
        print("%-14s" % case + "".join(
            "  %s: min %.3f med %.3f (user med %.3f)" % (
                b, min(times[b]), statistics.median(times[b]),
                statistics.median(user[b]))
            for b in bins))


main()
