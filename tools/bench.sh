#!/bin/sh
# bench.sh: memview against the tools users use today, side by side in
# one run (make bench).  Medians of several runs, output thrown away:
#   1. hex of a 64 MiB region of a core vs xxd on the same bytes
#      (extracted with view --binary, checked against xxd first);
#   2. a cast of a million items to JSON;
#   3. a typed view of a million-element struct array (MB/s).
set -e
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
MV=$BUILD/memview
CORE=$BUILD/cores/bigbuf.core
EXE=$BUILD/fixtures/bigbuf
T=bench/timeit.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for f in "$MV" "$CORE" "$EXE"; do
	[ -e "$f" ] || { echo "bench: $f is missing (make all)" >&2; exit 1; }
done
mv() { "$MV" --core "$CORE" --exe "$EXE" "$@"; }

# The same bytes for xxd, and proof that both print the same text.
mv view big 64M --max-bytes 0 --binary "$tmp/big.bin" >/dev/null
mv view big 64M --max-bytes 0 | cut -d: -f2- >"$tmp/mv.txt"
xxd "$tmp/big.bin" | cut -d: -f2- >"$tmp/xxd.txt"
cmp -s "$tmp/mv.txt" "$tmp/xxd.txt" ||
	{ echo "bench: memview's hex differs from xxd's" >&2; exit 1; }
rm -f "$tmp/mv.txt" "$tmp/xxd.txt"

mb=64
hex=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" view big 64M --max-bytes 0 2>/dev/null)
xxd_t=$(python3 $T "$RUNS" -- xxd "$tmp/big.bin" 2>/dev/null)
cast=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" view big 4M --as i --json --max-bytes 0 2>/dev/null)
start=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" view big 16 2>/dev/null)
typed_mb=$(python3 -c "print(32 * 1000000 / 1e6)")
typed=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" view recs --type 'struct rec' --count 1000000 --max-bytes 0 2>/dev/null) || typed=""

python3 - "$hex" "$xxd_t" "$cast" "$start" "$typed" "$typed_mb" "$RUNS" <<'PY'
import sys
hexm, xxdm, cast, start = (float(x) for x in sys.argv[1:5])
typed = float(sys.argv[5]) if sys.argv[5] else None
typed_mb, runs = float(sys.argv[6]), sys.argv[7]
print("memview bench: medians of %s runs, output to /dev/null" % runs)
print("  %-44s %8s %10s" % ("", "seconds", "MB/s"))
print("  %-44s %8.3f %10.0f" % ("memview view big 64M (hex)", hexm, 67.108864 / hexm))
print("  %-44s %8.3f %10.0f" % ("xxd on the same 64 MiB", xxdm, 67.108864 / xxdm))
print("  %-44s %8.3f %10.0f" % ("memview view big 4M --as i --json (1M items)", cast, 4.194304 / cast))
if typed is not None:
    print("  %-44s %8.3f %10.0f" % ("memview typed view, 1M struct rec (32 MB)", typed, typed_mb / typed))
else:
    print("  typed view: not available")
print("  %-44s %8.3f" % ("(memview start-up: view big 16)", start))
print("hex vs xxd: %.1fx xxd's speed (goal >= 5x)" % (xxdm / hexm))
if typed is not None:
    print("typed view: %.0f MB/s (goal >= 100 MB/s)" % (typed_mb / typed))
PY

# sizeof-deep (issue 4): a million-node list and tree, in order and
# shuffled, against a gdb.Value walk and the program's own walk; then on
# the live process (memview --pid, the gdb plugin attached, the gdb.Value
# walk attached).
echo
BUILD=$BUILD RUNS=${RUNS:-3} bench/sizeof_bench.sh

# C++ containers (issue 15): sizeof-deep of a million-entry
# unordered_map<int, std::string> and vector<shared_ptr<Node>> against
# a gdb Python walk with the libstdc++ pretty printers.
echo
BUILD=$BUILD RUNS=${RUNS:-3} bench/cxx_bench.sh

# CPython (issue 16): sizeof-deep of a list of a million ints on a core
# of python3.11-dbg with the CPython 3.11 model, against a gdb Python
# walk with python3.11-dbg's own libpython.py (PyObjectPtr).
echo
BUILD=$BUILD RUNS=${RUNS:-3} bench/py_bench.sh

# CPython (issue 16.4): gc --refcount model on a core of python3.11-dbg
# holding a million tracked objects, against gc.collect() in the process
# on the same heap (CPU seconds).
echo
BUILD=$BUILD RUNS=${RUNS:-3} bench/pygc_bench.sh

# The Python API (issue 18): a script's walk of a 100,000-node list
# with memview.Value against the same walk with gdb.Value.
echo
BUILD=$BUILD RUNS=${RUNS:-3} /usr/bin/python3 bench/pyapi_bench.py

# Allocators (issue 17): heap and gc on a core of 1,000,000 blocks with
# tcmalloc against the same program on glibc.
echo
BUILD=$BUILD RUNS=${RUNS:-3} bench/alloc_bench.sh

# and jemalloc 5.3 against glibc on heapbig's million blocks.
echo
BUILD=$BUILD RUNS=${RUNS:-5} bench/jemalloc_bench.sh

# gc beside chap (issue 20), VMware's core analyzer, built once from its
# source (bench/chap.py: CHAP, CHAP_SRC), on bigheap's 10 M-allocation
# core (made once under $BUILD/bench-big, or BIG_DIR's): its first answer
# (count leaked) and three commands against gc, each checked against the
# generator's facts.  3 runs: chap takes 6-8 s of CPU a run.
echo
BUILD=$BUILD RUNS=3 BIG_ONLY=gc BIG_VALGRIND=0 python3 bench/big_bench.py
