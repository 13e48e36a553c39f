# gdb_walk.py - the tool users write today: a gdb Python script that
# walks a structure with gdb.Value, each node once (a set of addresses),
# summing sizeof.  Run inside gdb:
#   gdb -batch -ex 'python ROOT="head"' -x bench/gdb_walk.py EXE CORE
import gdb

root = gdb.parse_and_eval(ROOT)  # noqa: F821 (set by the caller)
seen = set()
total = 0
stack = [root]
while stack:
    p = stack.pop()
    a = int(p)
    if a == 0 or a in seen:
        continue
    seen.add(a)
    v = p.dereference()
    total += v.type.sizeof
    for f in v.type.fields():
        if f.type.code == gdb.TYPE_CODE_PTR:
            stack.append(v[f.name])
print("gdb walk: %d objects, %d bytes" % (len(seen), total))
