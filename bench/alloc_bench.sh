#!/bin/sh
# alloc_bench.sh: heap and gc on a core of 1,000,000 blocks of
# bench/bigheap.c built against tcmalloc (gperftools 2.10, -ltcmalloc_minimal)
# against the same program on glibc's malloc (issue 17: goal within 2x).
# Medians of $RUNS runs; each core's block and leak counts are checked
# against the program's own facts first.
set -e
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${ALLOC_BENCH_N:-1000000}
MV=$BUILD/memview
T=bench/timeit.py
dir=$BUILD/bench-alloc
mkdir -p "$dir"
for lib in glibc tcmalloc; do
	exe=$dir/bigheap_$lib
	case $lib in
	glibc) libs= ;;
	tcmalloc) libs=-ltcmalloc_minimal ;;
	esac
	if [ ! -e "$exe" ] || [ bench/bigheap.c -nt "$exe" ]; then
		cc -O2 -g -o "$exe" bench/bigheap.c $libs
		rm -f "$dir/$lib.core"
	fi
	[ -e "$dir/$lib.core" ] ||
		MV_BIGHEAP_N=$N tools/make-core.sh "$exe" "$dir/$lib.core" \
			"$dir/$lib.facts"
	# The answer first: every block of the program in use, its leaks.
	"$MV" --core "$dir/$lib.core" --exe "$exe" gc --json \
		--max-heap-chunks 0 >"$dir/$lib.gc.json"
	python3 - "$dir/$lib.gc.json" "$dir/$lib.facts" "$lib" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
facts = dict(l.split(None, 1) for l in open(sys.argv[2]) if " " in l)
s = g["summary"]
# tcmalloc loses one 8-byte block of its own at start-up (in
# MallocExtension::Register; valgrind's memcheck reports it too).
own = 1 if sys.argv[3] == "tcmalloc" else 0
want = int(facts["leaked.definitely"]) + own, int(facts["leaked.indirectly"])
got = s["definitely_lost"]["blocks"], s["indirectly_lost"]["blocks"]
if got != want:
    raise SystemExit("alloc bench (%s): gc finds %s lost, the program "
                     "leaked %s" % (sys.argv[3], got, want))
PY
	eval "heap_$lib=\$(python3 $T $RUNS -- $MV --core $dir/$lib.core --exe $exe heap --max-heap-chunks 0 2>/dev/null)"
	eval "gc_$lib=\$(python3 $T $RUNS -- $MV --core $dir/$lib.core --exe $exe gc --max-heap-chunks 0 2>/dev/null)"
done
python3 - "$heap_glibc" "$gc_glibc" "$heap_tcmalloc" "$gc_tcmalloc" "$N" "$RUNS" <<'PY'
import sys
hg, gg, ht, gt = (float(x) for x in sys.argv[1:5])
print("allocator bench: bigheap.c, %s blocks, medians of %s runs"
      % (sys.argv[5], sys.argv[6]))
print("  %-10s %8s %8s" % ("", "heap s", "gc s"))
print("  %-10s %8.3f %8.3f" % ("glibc", hg, gg))
print("  %-10s %8.3f %8.3f" % ("tcmalloc", ht, gt))
print("tcmalloc vs glibc: heap %.2fx, gc %.2fx (goal <= 2x)" % (ht / hg, gt / gg))
PY
