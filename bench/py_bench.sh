#!/bin/sh
# py_bench.sh: sizeof-deep of a Python list of 1,000,000 distinct objects
# (ints) on a core of python3.11-dbg, with the CPython 3.11 model,
# against a gdb Python script walking the same list with python3.11-dbg's
# own gdb helpers (libpython.py's PyObjectPtr, bench/gdb_py_walk.py).
# Both totals are checked against the sum of sys.getsizeof the program
# wrote before it stopped.  Called by make bench; N=objects overrides.
set -e
NAME=py_bench
. bench/pycore.sh
HELPERS=/usr/share/gdb/auto-load/usr/bin/python3.11d-gdb.py
[ -e "$HELPERS" ] ||
	{ echo "py_bench: needs $HELPERS (apt-get install python3.11-dbg)"; exit 0; }
core=$dir/py_bench.core
facts=$dir/py_bench.facts
if [ ! -s "$core" ] || [ "$(cat "$dir/py_bench.n" 2>/dev/null)" != "$N" ]; then
	rm -f "$core" "$facts"
	env -u PYTHONPATH -u PYTHONHOME -u PYTHONMALLOC "$PY" -c '
import os, signal, sys
n = int(sys.argv[2])
data = list(range(10**7, 10**7 + n))     # n distinct ints
size = sys.getsizeof(data) + sum(sys.getsizeof(x) for x in data)
with open(sys.argv[1], "w") as f:
    f.write("0x%x %d\n" % (id(data), size))
os.kill(os.getpid(), signal.SIGSTOP)
' "$facts" "$N" &
	pid=$!
	py_gcore $pid "$facts" "$core"
	kill -9 $pid
	wait $pid 2>/dev/null || true
	echo "$N" >"$dir/py_bench.n"
fi
read -r root want <"$facts"
got=$("$MV" --core "$core" --exe "$PY" sizeof-deep "(PyObject *)$root" --json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["deep_size"])')
# memview: median wall and CPU (user + system) seconds of RUNS runs.
mvt=$(python3 bench/timeit.py "$RUNS" --cpu -- "$MV" --core "$core" --exe "$PY" \
	sizeof-deep "(PyObject *)$root" 2>/dev/null)
line=$(gdb -nx -batch -q -ex 'set debuginfod enabled off' -x "$HELPERS" \
	-ex "python ROOT=\"$root\"" -x bench/gdb_py_walk.py \
	"$PY" "$core" 2>/dev/null | grep 'gdb libpython walk')
python3 - "$N" "$mvt" "$line" "$got" "$want" "$RUNS" <<'PY'
import re, sys
n, mvt, line, got, want, runs = sys.argv[1:]
mv, mvcpu = (float(x) for x in mvt.split())
m = re.search(r"(\d+) objects, (\d+) bytes, ([0-9.]+) s cpu, ([0-9.]+) s wall",
              line)
gdb_bytes, gdbcpu, gdbt = int(m.group(2)), float(m.group(3)), float(m.group(4))
print("CPython 3.11 list of %s ints on a core (memview: medians of %s runs):"
      % (n, runs))
print("  sizeof-deep  memview %7.3f s   gdb libpython.py %8.3f s   %6.0fx wall (goal >= 50x)"
      % (mv, gdbt, gdbt / mv))
print("               CPU     %7.3f s                    %8.3f s   %6.0fx CPU"
      % (mvcpu, gdbcpu, gdbcpu / mvcpu if mvcpu else float("inf")))
print("    (%s)" % line)
ok = int(got) == int(want) == gdb_bytes
print("    deep size: memview %s, gdb walk %d, sys.getsizeof sum %s%s"
      % (got, gdb_bytes, want, "" if ok else "  MISMATCH"))
PY
