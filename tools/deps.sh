#!/bin/sh
# Installs the Debian 12 packages memview needs to build and test, and
# works around Debian's lldb-14 packaging (its embedded Python looks in
# /usr/lib/local/lib/python3.11/dist-packages, which does not exist).
# Without root or apt-get it fails naming the missing packages: it never
# skips a tool silently.  --lldb-link: only the lldb-14 fix (make install).
set -e
PACKAGES="gcc g++ make binutils libdwarf-dev libcmocka-dev gdb lldb python3-lldb
dwarves graphviz libc6-dbg xxd valgrind python3 pkgconf man-db groff-base
python3.11-dbg gdbserver clang libmimalloc-dev librsvg2-bin
libgoogle-perftools-dev libtcmalloc-minimal4 libgoogle-perftools4
libjemalloc-dev cmake git"
missing=""
[ "$1" = --lldb-link ] && PACKAGES=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "deps: installing$missing"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing \
			>/dev/null
	else
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: run as root: apt-get install$missing" >&2
		exit 1
	fi
fi
# lldb -P names the directory lldb's embedded Python imports lldb from.
want=$(lldb -P 2>/dev/null || true)
have=/usr/lib/llvm-14/lib/python3.11/dist-packages/lldb
if [ -n "$want" ] && [ -d "$have" ] && [ ! -e "$want/lldb" ]; then
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$want"
		ln -s "$have" "$want/lldb"
		echo "deps: linked $want/lldb -> $have (Debian lldb-14 fix)"
	else
		echo "deps: lldb's Python module is missing from $want;" \
		     "as root: ln -s $have $want/lldb" >&2
		exit 1
	fi
fi
