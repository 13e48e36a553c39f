# pycore.sh: what py_bench.sh and pygc_bench.sh share, sourced by them
# (NAME set first): the settings, python3.11-dbg, the output folder, and
# py_gcore, which cores a python3.11-dbg that stopped itself.
BUILD=${BUILD:-build}
N=${N:-1000000}
RUNS=${RUNS:-3}
MV=$BUILD/memview
PY=/usr/bin/python3.11d
[ -x "$PY" ] ||
	{ echo "$NAME: needs python3.11-dbg (apt-get install python3.11-dbg)"; exit 0; }
dir=$BUILD/bench
mkdir -p "$dir"

# py_gcore PID FILE CORE: waits until the process PID wrote FILE and
# stopped itself (SIGSTOP), then writes its core with gdb's gcore (the
# log in $dir/$NAME.gcore.log).  Fails if the process exits first.
py_gcore() {
	while [ ! -e "$2" ] || ! grep -q '^State:.*T' /proc/$1/status; do
		kill -0 "$1" 2>/dev/null ||
			{ echo "$NAME: python exited before it stopped" >&2; return 1; }
		sleep 0.2
	done
	gdb -nx -batch -q -p "$1" -ex "gcore $3" >"$dir/$NAME.gcore.log" 2>&1
}
