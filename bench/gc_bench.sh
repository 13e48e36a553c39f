#!/bin/sh
# gc_bench.sh: `heap` and `gc` on a core with about a million live chunks
# (heapbig), as chunks/s and bytes scanned/s, next to a plain memcpy of
# the same bytes in the same run, and next to valgrind's leak-check phase
# on the same program (valgrind --leak-check=full minus --leak-check=no).
# Meant to be called from tools/bench.sh (make bench).
set -e
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
MV=$BUILD/memview
CORE=$BUILD/cores/heapbig.core
EXE=$BUILD/fixtures/heapbig
T=bench/timeit.py
for f in "$MV" "$CORE" "$EXE"; do
	[ -e "$f" ] || { echo "gc bench: $f is missing (make all)" >&2; exit 1; }
done
json=$("$MV" --core "$CORE" --exe "$EXE" gc --json)
heap_t=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" heap 2>/dev/null)
gc_t=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" gc 2>/dev/null)
start_t=$(python3 $T "$RUNS" -- "$MV" --core "$CORE" --exe "$EXE" info 2>/dev/null)
peak=$( { /usr/bin/time -f %M "$MV" --core "$CORE" --exe "$EXE" gc >/dev/null; } 2>&1 | tail -1)
vg_full=$(python3 $T 1 -- valgrind -q --leak-check=full --show-leak-kinds=all "$EXE" 2>/dev/null)
vg_none=$(python3 $T 1 -- valgrind -q --leak-check=no "$EXE" 2>/dev/null)
core_kb=$(( $(stat -c %s "$CORE") / 1024 ))
python3 - "$json" "$heap_t" "$gc_t" "$start_t" "$peak" "$vg_full" "$vg_none" "$core_kb" "$RUNS" <<'PY'
import json, sys, time
d = json.loads(sys.argv[1])
heap_t, gc_t, start_t = (float(x) for x in sys.argv[2:5])
peak_kb, vg_full, vg_none, core_kb = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
chunks = d["scanned"]["chunks"]
nbytes = d["scanned"]["heap_bytes"] + d["scanned"]["root_bytes"]
# The floor: copying the same bytes once (memcpy through bytearray).
src = bytearray(nbytes)
best = 1e9
for _ in range(5):
    t = time.perf_counter(); dst = bytes(src); best = min(best, time.perf_counter() - t)
gc_only = max(gc_t - heap_t, 1e-6)
vg_leak = max(vg_full - vg_none, 1e-6)
print("gc bench (heapbig: %d chunks, %.1f MB scanned; medians of %s runs)" % (chunks, nbytes / 1e6, sys.argv[9]))
print("  %-46s %8s %14s %12s" % ("", "seconds", "chunks/s", "MB/s"))
print("  %-46s %8.3f %14.0f" % ("memview heap (open + index + summary)", heap_t, chunks / heap_t))
print("  %-46s %8.3f %14.0f %12.0f" % ("memview gc (whole process)", gc_t, chunks / gc_t, nbytes / gc_t / 1e6))
print("  %-46s %8.3f %14.0f %12.0f" % ("gc's own phase (gc minus heap)", gc_only, chunks / gc_only, nbytes / gc_only / 1e6))
print("  %-46s %8.3f %14s %12.0f" % ("memcpy of the same bytes", best, "", nbytes / best / 1e6))
print("  %-46s %8.3f" % ("(memview start-up: info)", start_t))
print("  %-46s %8.3f" % ("valgrind --leak-check=full, whole run", vg_full))
print("  %-46s %8.3f" % ("valgrind leak-check phase (full minus no)", vg_leak))
print("gc vs valgrind's leak check: %.1fx faster (goal >= 5x)" % (vg_leak / gc_t))
print("gc's phase vs memcpy of its bytes: %.1fx (goal: within 2x of a read plus a miss per pointer)" % (gc_only / best))
print("peak memory of gc: %.1f MB, core %.1f MB (%.0f%%)" % (peak_kb / 1024, core_kb / 1024, 100.0 * peak_kb / core_kb))
PY
