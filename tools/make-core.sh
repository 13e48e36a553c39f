#!/bin/sh
# make-core.sh FIXTURE CORE FACTS: runs FIXTURE under gdb to
# mv_fixture_stop(), writes its facts to FACTS and its core to CORE.
set -e
fixture=$1 core=$2 facts=$3
mkdir -p "$(dirname "$core")"
rm -f "$core" "$facts"
MV_FACTS=$facts gdb -nx -batch -q \
	-ex 'set debuginfod enabled off' \
	-ex 'break mv_fixture_stop' -ex run \
	-ex "gcore $core" -ex kill "$fixture" >"$core.log" 2>&1 ||
	{ cat "$core.log" >&2; exit 1; }
[ -s "$core" ] || { echo "make-core: no core for $fixture" >&2; cat "$core.log" >&2; exit 1; }
