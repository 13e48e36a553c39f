#!/bin/sh
# cxx_bench.sh: sizeof-deep of a 1,000,000-entry unordered_map<int,
# std::string> and vector<shared_ptr<Node>> on a core, against a gdb
# Python walk with gdb's libstdc++ pretty printers (bench/gdb_cxx_walk.py).
# Called by make bench; N=entries overrides the size.
set -e
BUILD=${BUILD:-build}
N=${N:-1000000}
RUNS=${RUNS:-3}
GDB_RUNS=${GDB_RUNS:-1}
MV=$BUILD/memview
dir=$BUILD/bench
mkdir -p "$dir"
exe=$dir/cxx_bench
core=$dir/cxx_bench.core
if [ ! -x "$exe" ] || [ bench/cxx_bench.cc -nt "$exe" ]; then
	g++ -std=gnu++17 -g -O2 -Itests/fixtures -o "$exe" bench/cxx_bench.cc
	rm -f "$core"
fi
if [ ! -s "$core" ] || [ "$(cat "$dir/cxx_bench.n" 2>/dev/null)" != "$N" ]; then
	# As tools/make-core.sh, with the size as argument.
	MV_FACTS=$dir/cxx_bench.facts gdb -nx -batch -q \
		-ex 'set debuginfod enabled off' -ex 'break mv_fixture_stop' \
		-ex "run $N" -ex "gcore $core" -ex kill "$exe" \
		>"$dir/core.log" 2>&1
	echo "$N" >"$dir/cxx_bench.n"
fi
T=bench/timeit.py
echo "C++ containers, $N entries each, on a core (memview: median of $RUNS runs):"
for root in g_umap g_vec_sp; do
	mvt=$(python3 $T "$RUNS" -- "$MV" --core "$core" --exe "$exe" sizeof-deep "$root" 2>/dev/null)
	# gdb's walk takes minutes: GDB_RUNS runs (1 unless asked), median.
	gdbts=""
	i=0
	while [ "$i" -lt "$GDB_RUNS" ]; do
		line=$(gdb -nx -batch -q -ex 'set debuginfod enabled off' \
			-ex "python ROOT=\"$root\"" -x bench/gdb_cxx_walk.py \
			"$exe" "$core" 2>/dev/null | grep 'gdb printer walk')
		gdbts="$gdbts $(echo "$line" | sed 's/.* \([0-9.]*\) s wall/\1/')"
		i=$((i + 1))
	done
	python3 - "$root" "$mvt" "$line" $gdbts <<'PY'
import statistics
import sys
root, mv, line = sys.argv[1], float(sys.argv[2]), sys.argv[3]
runs = [float(t) for t in sys.argv[4:]]
gdbt = statistics.median(runs)
print("  sizeof-deep %-9s memview %7.3f s   gdb printers %8.3f s (%d run%s)   %6.0fx (goal >= 50x)" % (
    root, mv, gdbt, len(runs), "" if len(runs) == 1 else "s", gdbt / mv))
print("    (last gdb run: %s)" % line)
PY
done
