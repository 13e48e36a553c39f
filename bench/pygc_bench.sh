#!/bin/sh
# pygc_bench.sh: gc --refcount model on a core of python3.11-dbg
# (PYTHONMALLOC=malloc) whose heap holds about 1,000,000 objects the
# collector tracks (N/2 tuples each holding a list) and 1,000 garbage
# rings of 10 lists, against CPython's own gc.collect() on the same heap:
# after the core is taken the program resumes and times gc.collect()
# (time.process_time).  Both must find the same number of collectable
# objects.  Called by make bench; N=objects overrides.
set -e
NAME=pygc_bench
. bench/pycore.sh
core=$dir/pygc_bench.core
ready=$dir/pygc_bench.ready
facts=$dir/pygc_bench.facts
rm -f "$core" "$ready" "$facts"
env -u PYTHONPATH -u PYTHONHOME PYTHONMALLOC=malloc "$PY" -c '
import gc, os, signal, sys, time
gc.collect()
gc.disable()
n = int(sys.argv[3]) // 2
data = [(i * 7 + 1000, [i * 3 + 1000]) for i in range(n)]
for k in range(1000):
    ring = [[None] for _ in range(10)]
    for i in range(10):
        ring[i][0] = ring[(i + 1) % 10]
del ring
open(sys.argv[1], "w").close()
os.kill(os.getpid(), signal.SIGSTOP)
c0 = time.process_time()
found = gc.collect()
c1 = time.process_time()
with open(sys.argv[2], "w") as f:
    f.write("%d %.4f %d\n" % (found, c1 - c0, len(gc.get_objects())))
' "$ready" "$facts" "$N" &
pid=$!
py_gcore $pid "$ready" "$core"
kill -CONT $pid
wait $pid
read -r pyfound pycpu tracked <"$facts"
got=$("$MV" --core "$core" --exe "$PY" gc --refcount model --json --max-blocks 1 |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["unreachable"])')
mvt=$(python3 bench/timeit.py "$RUNS" --cpu -- "$MV" --core "$core" --exe "$PY" \
	gc --refcount model 2>/dev/null)
rm -f "$core"
python3 - "$tracked" "$mvt" "$pycpu" "$got" "$pyfound" "$RUNS" <<'PY'
import sys
tracked, mvt, pycpu, got, pyfound, runs = sys.argv[1:]
mv, mvcpu = (float(x) for x in mvt.split()[:2])
print("CPython 3.11 heap of %s tracked objects on a core (memview: medians "
      "of %s runs):" % (tracked, runs))
print("  gc --refcount model  memview %6.3f s CPU (%.3f s wall)   "
      "gc.collect() in the process %6.3f s CPU   %.1fx"
      % (mvcpu, mv, float(pycpu), mvcpu / float(pycpu)))
print("    collectable: memview %s, gc.collect() %s%s"
      % (got, pyfound, "" if got == pyfound else "  MISMATCH"))
PY
