#!/bin/sh
# make demo: the sample program (tests/fixtures/basic.c: a linked list, a
# struct with padding holes, bitfields, unions), its core taken by gdb's
# gcore at mv_fixture_stop(), and memview on that core from the
# standalone program, gdb and lldb.
set -e
B=${BUILD:-build}
EXE=$B/fixtures/basic
CORE=$B/cores/basic.core
run() { printf '\n$ %s\n' "$*"; "$@"; }

echo "== memview, the standalone program =="
run $B/memview --core $CORE --exe $EXE info
run $B/memview --core $CORE --exe $EXE layout 'struct padded'
run $B/memview --core $CORE --exe $EXE layout padded_global
run $B/memview --core $CORE --exe $EXE layout 'list_head->next'

echo
echo "== gdb =="
run gdb -nx -batch -q -ex 'source gdb/memview.py' -ex "file $EXE" \
	-ex "core $CORE" -ex 'mv-layout struct padded' \
	-ex 'mv-layout list_head->next'

echo
echo "== lldb =="
run lldb -b -Q -o 'command script import lldb/memview.py' \
	-o "target create $EXE --core $CORE" -o 'mv-layout struct padded' \
	-o 'mv-layout list_head->next'
