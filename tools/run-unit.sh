#!/bin/sh
# Runs each cmocka unit-test program (one may run several groups: their
# counts add up); prints one closing line with the
# totals and fails if any test failed or was skipped.  make check builds
# every fixture and core and installs libc6-dbg first, so a skip there
# means a broken setup, never a pass.
passed=0; failed=0; skipped=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -a -E '^\[  (FAILED|  ERROR|SKIPPED)|^\[  PASSED|FAILED|skipped' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' |
	    awk '{ n += $1 } END { if (NR) print n }')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' |
	    awk '{ n += $1 } END { if (NR) print n }')
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' |
	    awk '{ n += $1 } END { if (NR) print n }')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then
		echo "$t: exited $rc"; printf '%s\n' "$out" | tail -20
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $skipped -eq 0 ]
