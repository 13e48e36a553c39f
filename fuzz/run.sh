#!/bin/sh
# Runs each libFuzzer harness for a bounded time:
#   fuzz/run.sh SECONDS NAME...
# Seeds come from fuzz/seeds.py (the fixtures, docs/commands.md); the
# corpus each run grows is kept in $FUZZ_BUILD/corpus/NAME for the next
# run.  Crashes, hangs and leaks land in $FUZZ_BUILD/artifacts/NAME/:
# keep each under tests/regress/NAME/ once understood.  Ends with one
# line per harness: executions, coverage (cov/ft) and findings.
set -u
secs=$1; shift
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
seeds=$FUZZ_BUILD/seeds
rm -rf "$seeds"
$PYTHON fuzz/seeds.py "$BUILD" "$seeds" "$@" || exit 1
summary=""
status=0
for h in "$@"; do
	corpus=$FUZZ_BUILD/corpus/$h
	art=$FUZZ_BUILD/artifacts/$h
	log=$FUZZ_BUILD/logs/$h.log
	mkdir -p "$corpus" "$art" "$FUZZ_BUILD/logs"
	dict=""
	[ -f "fuzz/$h.dict" ] && dict="-dict=fuzz/$h.dict"
	maxlen=""
	[ "$h" = core ] && maxlen="-max_len=65536"
	[ "$h" = heap ] && maxlen="-max_len=512 -len_control=0"
	[ "$h" = roots ] && maxlen="-max_len=200 -len_control=0"
	echo "fuzz: $h for ${secs}s"
	MV_FUZZ_BUILD=$BUILD "$FUZZ_BUILD/fuzz_$h" "$corpus" "$seeds/$h" \
		-max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" $dict $maxlen \
		>"$log" 2>&1
	rc=$?
	line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	found=$(ls "$art" | wc -l)
	summary="$summary
fuzz: $h: ${runs:-?} runs in ${secs}s; ${line#* }; artifacts: $found"
	if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
		status=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
	fi
done
printf '%s\n' "$summary"
exit $status
