#!/bin/sh
# Runs each cmocka unit-test program; prints one closing line with the
# totals and fails if any test failed.
passed=0; failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|  ERROR)|^\[  PASSED|FAILED' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then
		echo "$t: exited $rc"; printf '%s\n' "$out" | tail -20
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
