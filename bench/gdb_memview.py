# gdb_memview.py - memview's sizeof-deep as a user runs it: in gdb,
# attached to the live process, through the plugin.  Times each run of
# the command inside gdb (CPU seconds of the whole gdb process, all its
# threads, and wall clock) and writes them, with the last run's output,
# as JSON.  Run after sourcing gdb/memview.py, attached:
#   gdb -batch -x gdb/memview.py -p PID -x bench/gdb_memview.py
# Env: MV_BENCH_COMMAND (the command line), MV_BENCH_RUNS (how many runs,
# one session: the first pays for loading DWARF and the heap index, the
# next ones show what stays cached while the process is stopped),
# MV_BENCH_OUT (the JSON file).
import json
import os
import time

import gdb


def _bench():
    command = os.environ["MV_BENCH_COMMAND"]
    runs = []
    output = ""
    for _ in range(int(os.environ.get("MV_BENCH_RUNS", "3"))):
        c0, w0 = time.process_time(), time.perf_counter()
        output = gdb.execute(command, to_string=True)
        runs.append({"cpu": time.process_time() - c0,
                     "wall": time.perf_counter() - w0})
    with open(os.environ["MV_BENCH_OUT"], "w") as f:
        json.dump({"runs": runs, "output": output}, f)


_bench()
