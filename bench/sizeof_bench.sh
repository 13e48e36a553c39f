#!/bin/sh
# sizeof_bench.sh: sizeof-deep against a gdb.Value walk and the program's
# own walk (see bench/sizeof_bench.py).  Called by make bench.
set -e
BUILD=${BUILD:-build}
[ -x "$BUILD/fixtures/deepbench" ] || { echo "bench: $BUILD/fixtures/deepbench is missing (make all)" >&2; exit 1; }
exec /usr/bin/python3 bench/sizeof_bench.py
