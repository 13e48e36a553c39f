"""Issue 18's habits against the peer a user would otherwise use, on the
build's cores (median wall seconds, whole processes):

- heap --bins (bins and heapbig cores) against gdb walking main_arena
  and each thread's tcache with libc6-dbg (tests/integration/gdb_bins.py);
- view --depth 64 (the telescope core's free list) against gdb reading
  the same 64 words with x/gx in a Python loop;
- gc --svg (leaks core) and graph --svg (refgraph core) against an older
  memview, OLD=path/to/memview (default /work/main/build/memview), as
  Graphviz lays them out.

Usage: BUILD=build python3 bench/habits_bench.py"""
import os
import statistics
import subprocess
import time




def t(argv, n=7):
    xs = []
    for _ in range(n):
        s = time.perf_counter()
        p = subprocess.run(argv, capture_output=True)
        xs.append(time.perf_counter() - s)
        assert p.returncode == 0, (argv, p.stderr[-300:])
    return statistics.median(xs)
B = os.environ.get("BUILD", "build")
OLD = os.environ.get("OLD", "/work/main/build/memview")

for core in ("bins", "heapbig"):
    exe, cf = "%s/fixtures/%s" % (B, core), "%s/cores/%s.core" % (B, core)
    mv = t([B + "/memview", "--core", cf, "--exe", exe, "heap", "--bins", "--json"])
    gdb = t(["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off", exe, cf,
             "-ex", "source tests/integration/gdb_bins.py"], n=3)
    print("heap --bins %-8s memview %.3f s  gdb main_arena walk %.3f s  ratio %.1fx" % (core, mv, gdb, gdb / mv))
exe, cf = B + "/fixtures/telescope", B + "/cores/telescope.core"
mv = t([B + "/memview", "--core", cf, "--exe", exe, "view", "&g_free_cells", "8", "--depth", "64"])
# gdb: the same 64 words, x/gx each hop (a user's loop in gdb's Python)
script = "python\nimport gdb\na=int(gdb.parse_and_eval('(long)&g_free_cells'))\nfor i in range(64):\n    v=int(gdb.parse_and_eval('*(long*)%d' % a))\n    gdb.execute('x/gx %d' % a, to_string=True)\n    a=v\nend\n"
open("/tmp/memview-bench-tel.gdb", "w").write(script)
gdb = t(["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off", exe, cf, "-x", "/tmp/memview-bench-tel.gdb"], n=3)
print("view --depth 64   memview %.3f s  gdb x/gx loop %.3f s  ratio %.1fx" % (mv, gdb, gdb / mv))
for name, args, core in (("gc --svg leaks", ["gc", "--svg", "/tmp/memview-bench.svg", "--force"], "leaks"),
                         ("graph --svg g_roots", ["graph", "g_roots", "--svg", "/tmp/memview-bench.svg", "--force"], "refgraph")):
    exe, cf = "%s/fixtures/%s" % (B, core), "%s/cores/%s.core" % (B, core)
    new = t([B + "/memview", "--core", cf, "--exe", exe] + args, n=3)
    if not os.path.exists(OLD):
        print("%-20s new %.2f s (no OLD memview to compare)" % (name, new))
        continue
    old = t([OLD, "--core", cf, "--exe", exe] + args, n=3)
    print("%-20s new %.2f s  main %.2f s  ratio %.1fx" % (name, new, old, old / new))
