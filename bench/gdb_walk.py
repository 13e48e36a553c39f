# gdb_walk.py - the tool users write today: a gdb Python script that
# walks a structure with gdb.Value, each node once (a set of addresses),
# summing sizeof.  Run inside gdb, on a core or attached to a process:
#   gdb -batch -ex 'python ROOT="head"' -x bench/gdb_walk.py EXE CORE
#   gdb -batch -ex 'python ROOT="head"' -p PID -x bench/gdb_walk.py
# It prints its own CPU (the gdb process's, all threads) and wall time,
# the walk alone, without gdb's start-up.
import time

import gdb

cpu0, wall0 = time.process_time(), time.perf_counter()
root = gdb.parse_and_eval(ROOT)  # noqa: F821 (set by the caller)
seen = set()
total = 0
stack = [root]
while stack:
    p = stack.pop()
    a = int(p)
    if a == 0 or a in seen:
        continue
    seen.add(a)
    v = p.dereference()
    total += v.type.sizeof
    for f in v.type.fields():
        if f.type.code == gdb.TYPE_CODE_PTR:
            stack.append(v[f.name])
print("gdb walk: %d objects, %d bytes, %.3f s cpu, %.3f s wall" % (
    len(seen), total, time.process_time() - cpu0,
    time.perf_counter() - wall0))
