# gdb_cxx_walk.py - what users do today for a C++ container's deep size:
# a gdb Python script that walks it with gdb's libstdc++ pretty printers
# (gdb.default_visualizer(v).children()), summing sizeof of each element
# and of what its strings and shared_ptrs hold.  Run inside gdb:
#   gdb -batch -ex 'python ROOT="g_umap"' -x bench/gdb_cxx_walk.py EXE CORE
import time

import gdb

cpu0, wall0 = time.process_time(), time.perf_counter()
root = gdb.parse_and_eval(ROOT)  # noqa: F821 (set by the caller)
total = 0
count = 0
for _, child in gdb.default_visualizer(root).children():
    count += 1
    t = child.type.strip_typedefs()
    total += t.sizeof
    if t.code == gdb.TYPE_CODE_STRUCT and t.name and \
            t.name.startswith("std::__cxx11::basic_string"):
        total += int(child["_M_string_length"]) + 1
    elif t.code == gdb.TYPE_CODE_STRUCT and t.name and \
            t.name.startswith("std::shared_ptr"):
        total += child["_M_ptr"].dereference().type.sizeof
print("gdb printer walk: %d children, %d bytes, %.3f s cpu, %.3f s wall" % (
    count, total, time.process_time() - cpu0, time.perf_counter() - wall0))
