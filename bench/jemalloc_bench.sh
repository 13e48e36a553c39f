#!/bin/sh
# jemalloc_bench.sh: `heap` and `gc` on heapbig's core (a million blocks)
# with glibc's malloc, side by side with the same program linked with
# jemalloc 5.3 (heapbig_jemalloc): medians of RUNS runs each, taken in
# turn, and the ratio (issue 17: within 2x of glibc).
# Meant to be called from tools/bench.sh (make bench).
set -e
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
MV=$BUILD/memview
T=bench/timeit.py
for f in "$MV" $BUILD/cores/heapbig.core $BUILD/cores/heapbig_jemalloc.core; do
	[ -e "$f" ] || { echo "jemalloc bench: $f is missing (make all cores)" >&2; exit 1; }
done
run() { # fixture command
	python3 $T "$RUNS" -- "$MV" --core "$BUILD/cores/$1.core" \
	    --exe "$BUILD/fixtures/$1" "$2" 2>/dev/null
}
gh=$(run heapbig heap)
jh=$(run heapbig_jemalloc heap)
gg=$(run heapbig gc)
jg=$(run heapbig_jemalloc gc)
blocks=$("$MV" --core "$BUILD/cores/heapbig_jemalloc.core" \
    --exe "$BUILD/fixtures/heapbig_jemalloc" heap --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["in_use"]["count"])')
python3 - "$gh" "$jh" "$gg" "$jg" "$blocks" "$RUNS" <<'PY'
import sys
gh, jh, gg, jg = (float(x) for x in sys.argv[1:5])
print("allocator bench (heapbig: %s blocks in use under jemalloc; medians of %s runs)" % (sys.argv[5], sys.argv[6]))
print("  %-10s %12s %12s %8s" % ("", "glibc", "jemalloc", "ratio"))
print("  %-10s %11.3fs %11.3fs %7.2fx" % ("heap", gh, jh, jh / gh))
print("  %-10s %11.3fs %11.3fs %7.2fx" % ("gc", gg, jg, jg / gg))
print("jemalloc vs glibc: heap %.2fx, gc %.2fx (goal: within 2x)" % (jh / gh, jg / gg))
PY
