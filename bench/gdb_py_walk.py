# gdb_py_walk.py - what users do today for the deep size of a Python
# list in a core: a gdb Python script over python3.11-dbg's own gdb
# helpers (libpython.py's PyObjectPtr, loaded before this script), that
# visits the list's items once each and sums what sys.getsizeof says of
# each: the list (its struct, GC header and item array) and every
# distinct item (tp_basicsize + |ob_size| * tp_itemsize, plus the GC
# header of container types).  Run inside gdb:
#   gdb -batch -x python3.11d-gdb.py -ex 'python ROOT="0x..."' \
#       -x bench/gdb_py_walk.py python3.11d CORE
import time

import gdb

HAVE_GC = 1 << 14
GC_HEAD = 16

cpu0, wall0 = time.process_time(), time.perf_counter()
PyObjectPtr = globals()["PyObjectPtr"]  # from libpython.py
root = PyObjectPtr.from_pyobject_ptr(
    gdb.parse_and_eval("(PyObject *)" + ROOT))  # noqa: F821 (the caller's)


def getsizeof(obj):
    t = obj.type()
    size = int(t.field("tp_basicsize"))
    itemsize = int(t.field("tp_itemsize"))
    if itemsize:
        size += abs(int(obj.field("ob_size"))) * itemsize
    if int(t.field("tp_flags")) & HAVE_GC:
        size += GC_HEAD
    return size


n = int(root.field("ob_size"))
items = root.field("ob_item")
total = getsizeof(root) + 8 * int(root.field("allocated"))
seen = set()
for i in range(n):
    item = PyObjectPtr.from_pyobject_ptr(items[i])
    address = item.as_address()
    if address in seen:
        continue
    seen.add(address)
    total += getsizeof(item)
print("gdb libpython walk: %d objects, %d bytes, %.3f s cpu, %.3f s wall" % (
    len(seen) + 1, total, time.process_time() - cpu0,
    time.perf_counter() - wall0))
