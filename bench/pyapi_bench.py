#!/usr/bin/python3
"""pyapi_bench.py: a script's walk of a linked list through memview's
Python API (memview.Value, docs/python.md) against the same walk with
gdb.Value in gdb's Python, the tool such scripts are written with today.

Both walk deepbench's list of NODES nodes (default 100,000) on its core,
node by node, summing each node's `value` and counting the nodes; the
counts must be the fixture's own and both sums equal.  Times are the walk
alone (inside each process, start-up and the core's loading excluded),
medians of RUNS runs (default 3); CPU=1 measures CPU seconds instead of
wall time.  Called by make bench (tools/bench.sh).
"""

import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
from mvfacts import read_facts  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
NODES = int(os.environ.get("NODES", "100000"))
RUNS = int(os.environ.get("RUNS", "3"))
CPU_TIME = os.environ.get("CPU", "0") == "1"
ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
EXE = os.path.join(BUILD, "fixtures", "deepbench")
OUT = os.path.join(BUILD, "bench")

# The walk, the same loop in both: p = head; while p: sum p->value.
WALK = """
import json, time
clock = time.process_time if %(cpu)r else time.perf_counter
t0 = clock()
p = %(head)s
count = total = 0
while int(p):
    count += 1
    total += int(%(value)s)
    p = %(next)s
print("RESULT " + json.dumps({"count": count, "total": total,
                              "seconds": clock() - t0}))
"""
MEMVIEW = ("import memview\n"
           "s = memview.open_core(%(core)r, %(exe)r)\n" +
           WALK % {"cpu": CPU_TIME, "head": "s.object('head')",
                   "value": "p.member('value')", "next": "p.member('next')"})
GDB = ("import gdb\n" +
       WALK % {"cpu": CPU_TIME, "head": "gdb.parse_and_eval('head')",
               "value": "p['value']", "next": "p['next']"})


def core():
    name = "deepbench-list-%d" % NODES
    path = os.path.join(OUT, name + ".core")
    facts = os.path.join(OUT, name + ".facts")
    if not os.path.exists(path) or not os.path.exists(facts) or \
            os.path.getmtime(path) < os.path.getmtime(EXE):
        os.makedirs(OUT, exist_ok=True)
        env = dict(os.environ, MV_SHAPE="list", MV_NODES=str(NODES),
                   MV_SHUFFLE="0")
        subprocess.run(["tools/make-core.sh", EXE, path, facts], env=env,
                       check=True, cwd=ROOT)
    return path, read_facts(facts)


def result(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit("bench: %s failed: %s" % (argv[0],
                                                (p.stdout + p.stderr)[-500:]))


def main():
    path, facts = core()
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
    script = MEMVIEW % {"core": path, "exe": EXE}
    gdb_argv = ["gdb", "-nx", "-batch", "-q", "-ex",
                "set debuginfod enabled off", "-ex", "file " + EXE,
                "-ex", "core " + path, "-ex", "python\n" + GDB + "\nend"]
    runs = {"memview.Value (python3)": [], "gdb.Value (gdb)": []}
    answers = set()
    for _ in range(RUNS):
        for name, argv in (("memview.Value (python3)",
                            ["/usr/bin/python3", "-c", script]),
                           ("gdb.Value (gdb)", gdb_argv)):
            r = result(argv, env)
            if r["count"] != int(facts["walk.count"]):
                raise SystemExit("bench: %s walked %d nodes, the fixture "
                                 "%s" % (name, r["count"],
                                         facts["walk.count"]))
            answers.add(r["total"])
            runs[name].append(r["seconds"])
    if len(answers) != 1:
        raise SystemExit("bench: the walks' sums differ: %s" % answers)
    unit = "CPU s" if CPU_TIME else "s"
    print("Python API: walk a %d-node list on a core, summing a field "
          "(median of %d, %s)" % (NODES, RUNS, unit))
    medians = {name: statistics.median(t) for name, t in runs.items()}
    for name, median in medians.items():
        print("  %-28s %8.3f  (%.1f us/node)" % (name, median,
                                                  1e6 * median / NODES))
    print("memview.Value: %.1fx gdb.Value's speed" %
          (medians["gdb.Value (gdb)"] / medians["memview.Value (python3)"]))


if __name__ == "__main__":
    main()
