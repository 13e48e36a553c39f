"""The shipped CPython 3.11 model (--types cpython-3.11, issue 16),
against CPython's own answers.

Usage: BUILD=build python3 tests/integration/test_cpython_model.py

A Python program (PROG) runs under Debian's python3.11-dbg with
PYTHONMALLOC=malloc (every object one glibc block), builds known graphs
(lists, tuples, dicts with str and int keys, a set, nested containers
with shared members, instances of its own classes: attributes in a
managed dict's values, a __dict__ made into a split dict, __slots__ in
a class and a subclass; str of each kind, one with its UTF-8 form made)
and writes for each root, before it stops itself
(SIGSTOP) for gdb's gcore:
- the sum of sys.getsizeof over the distinct objects reachable
  (gc.get_referents, and a dict's keys, which 3.11 does not traverse
  for str-keyed tables; type objects left out, as getsizeof leaves
  them out);
- their blocks: each object's, starting getsizeof - __sizeof__ bytes
  (the GC header) before id(), and the blocks getsizeof counts with it
  (a list's item array, a dict's keys object, a split dict's values,
  a non-ASCII str's UTF-8 form, a set's table, read with ctypes at their offsets in CPython's
  headers); objects in the interpreter's own data (small ints) are no
  block;
- the sum of malloc_usable_size (ctypes) of those blocks.
memview sizeof-deep '(PyObject *)ID' --types cpython-3.11 must give the
same three numbers (deep_size, heap objects, heap usable bytes, chunk
bytes = usable + 8 per block) in the CLI, gdb and lldb, which agree.
Without the model it does not (each item a 16-byte struct _object).
The model is picked without --types (Py_Version is 3.11, the types
have debug info) and info says so.
All of it again with CPython's own allocator, PYTHONMALLOC=pymalloc
and the debug build's default (pymalloc_debug: pymalloc with its debug
hooks around each block), where small objects lie in pymalloc's pools:
deep size and the number of blocks must be the same (the allocator view
is pymalloc's, not glibc's: no malloc_usable_size to compare).
Prints "cpython_model: N passed, M failed".
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally, stopped  # noqa: E402

PYTHON = "/usr/bin/python3.11d"
T = Tally("cpython_model")
report = T.report

PROG = r"""
import ctypes, gc, os, signal, sys
libc = ctypes.CDLL(None)
libc.malloc_usable_size.restype = ctypes.c_size_t
libc.malloc_usable_size.argtypes = [ctypes.c_void_p]

def exact(items):
    items = tuple(items)
    l = [None] * len(items)     # allocated == len: no spare capacity
    for i, v in enumerate(items):
        l[i] = v
    assert l.__sizeof__() == 40 + 8 * len(l), "list over-allocated"
    return l

ints = exact(i * 1000 + 1000 for i in range(100))
words = tuple("word-%03d" % i for i in range(20))
by_name = {"key%d" % i: i * 7.5 for i in range(30)}
by_int = {i * 1000 + 5000: b"xy" * (i + 1) for i in range(10)}
numbers = {i * 3 + 100000 for i in range(50)}
shared = "a shared string"
inner = [exact([shared, i * 999 + 1000]) for i in range(5)]
nested = exact([inner[0], inner[1], (shared, inner[2]),
                {"first": inner[3], "second": (inner[4], shared)}, shared])
ring = [exact([i * 1000 + 1000, None]) for i in range(10)]
for i in range(10):
    ring[i][1] = ring[(i + 1) % 10]
ring = ring[0]

# Instances: attributes in a managed dict's values (never made into a
# dict), one whose __dict__ was asked for (a split dict), __slots__ (in
# a subclass too), a subclass of a class with a __dict__, shared members.
class Point:
    def __init__(self, x, label):
        self.x = x
        self.label = label
        self.tag = "pt-%d" % x

class Pair:
    __slots__ = ("first", "second")

class Triple(Pair):
    __slots__ = ("third",)

class Tagged(Point):
    pass

points = exact(Point(i * 1000 + 1000, exact([shared, i * 7 + 70000]))
               for i in range(5))
pair = Pair()
pair.first = exact([1000001, 1000002])
pair.second = points[0]
triple = Triple()
triple.first = "a triple's own string"
triple.third = shared
tagged = Tagged(12345, "tagged")
tagged.extra = {"k": 3000000}
with_dict = Point(5000, "dict")
vars(with_dict)["more"] = 4000000
# str of every kind: Latin-1, UCS-2, UCS-4 and ASCII, and one whose
# UTF-8 form is made (type_new asks for its name's).
Spass = type("Spa\u00df", (), {})
texts = exact(["h\u00e9llo w\u00f6rld", "\u65e5\u672c\u8a9e\u306e",
               "emoji \U0001f600 here", "plain ascii", Spass.__name__])
ROOTS = ["ints", "words", "by_name", "by_int", "numbers", "nested",
         "ring", "points", "pair", "triple", "tagged", "with_dict",
         "texts"]

def mappings_of(path):
    with open("/proc/self/maps") as f:
        for line in f:
            w = line.split()
            if len(w) >= 6 and w[5] == path:
                lo, hi = w[0].split("-")
                yield int(lo, 16), int(hi, 16)

EXE_MAPS = list(mappings_of(os.path.realpath(sys.executable)))

def static(address):
    return any(lo <= address < hi for lo, hi in EXE_MAPS)

def word(address):
    return ctypes.c_void_p.from_address(address).value

def aux_blocks(o):
    # Blocks an object owns beside its own, by CPython 3.11's layout
    # (Include/cpython/*.h): a list's item array (ob_item at 24), a
    # dict's keys object when the dict alone holds it (ma_keys at 32,
    # dk_refcnt its first word), a set's table when it is not the
    # object's smalltable (table at 40, smalltable at 64).
    if type(o) is list and word(id(o) + 24):
        return [word(id(o) + 24)]
    if type(o) is dict:
        # ma_keys at 32 (counted when the dict alone holds it), and a
        # split dict's values at 40: their block starts as many bytes
        # before them as the byte before them says (dictobject.c).
        keys, values, own = word(id(o) + 32), word(id(o) + 40), []
        if ctypes.c_ssize_t.from_address(keys).value == 1:
            own.append(keys)
        if values:
            own.append(values - ctypes.c_uint8.from_address(values - 1).value)
        return own
    if type(o) is str and not (ctypes.c_uint8.from_address(
            id(o) + 32).value >> 6) & 1 and word(id(o) + 56):
        # A compact non-ASCII str (state.ascii, bit 6 of the byte at
        # 32, clear) with its UTF-8 form made: utf8 at 56.
        return [word(id(o) + 56)]
    if type(o) in (set, frozenset) and word(id(o) + 40) != id(o) + 64:
        return [word(id(o) + 40)]
    return []

def deep(root):
    seen, todo = {}, [root]
    while todo:
        o = todo.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen[id(o)] = o
        todo.extend(gc.get_referents(o))
        if type(o) is dict and not word(id(o) + 40):
            # A combined table's str keys are not traversed; a split
            # dict's keys are its class's (shared), not its own.
            todo.extend(o.keys())
    size = sum(sys.getsizeof(o) for o in seen.values())
    # Objects in the interpreter's own data (small ints, one-character
    # strs, None) are no block of the heap.
    blocks = [i - (sys.getsizeof(o) - o.__sizeof__())
              for i, o in seen.items() if not static(i)]
    for o in seen.values():
        blocks += aux_blocks(o)
    if os.environ.get("PYTHONMALLOC") != "malloc":
        return len(blocks), size, -1    # pymalloc's blocks: no chunks
    usable = sum(libc.malloc_usable_size(b) for b in blocks)
    return len(blocks), size, usable

gc.disable()
lines = []
for name in ROOTS:
    o = globals()[name]
    n, size, usable = deep(o)
    lines.append("root %s 0x%x %d %d %d\n" % (name, id(o), n, size, usable))
with open(sys.argv[1], "w") as f:
    f.writelines(lines)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def python_core(tmp, allocator, text, name):
    """Runs the Python program text under python3.11-dbg with
    PYTHONMALLOC=allocator ("default": the debug build's own) until it
    stops itself, cores it with gdb's gcore: (core or None, the facts
    file it was given)."""
    prog = os.path.join(tmp, name + ".py")
    with open(prog, "w") as f:
        f.write(text)
    facts = os.path.join(tmp, name + ".facts." + allocator)
    core = os.path.join(tmp, name + ".core." + allocator)
    env = dict(os.environ, PYTHONMALLOC=allocator)
    if allocator == "default":
        env.pop("PYTHONMALLOC")    # a debug build's: pymalloc_debug
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.Popen([PYTHON, prog, facts], env=env)
    try:
        for _ in range(600):
            if stopped(p.pid) or p.poll() is not None:
                break
            time.sleep(0.05)
        if not stopped(p.pid):
            return None, facts
        subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(p.pid),
                        "-ex", "gcore " + core], capture_output=True,
                       timeout=300)
    finally:
        p.kill()
        p.wait()
    return (core if os.path.exists(core) else None), facts


def make_core(tmp, allocator):
    core, facts = python_core(tmp, allocator, PROG, "prog")
    if not core:
        return None, None
    roots = []
    with open(facts) as f:
        for line in f:
            w = line.split()
            roots.append((w[1], w[2], int(w[3]), int(w[4]), int(w[5])))
    return core, roots


def check_core(tmp, allocator):
    """The checks on a core of PROG run with PYTHONMALLOC=allocator
    ("malloc": every object a glibc chunk; "pymalloc", CPython's
    default: small objects in pymalloc's pools, where the allocator
    view is not glibc's and only deep size and blocks are compared)."""
    core, roots = make_core(tmp, allocator)
    if not core:
        report("%s: python3.11-dbg stopped itself and was cored"
               % allocator, ["no core"])
        return
    cmds = ["sizeof-deep (PyObject *)%s --types cpython-3.11 --json" %
            addr for _, addr, _, _, _ in roots]
    # Picked by itself: Py_Version says 3.11, the types are there.
    ring = [r for r in roots if r[0] == "ring"][0]
    cmds += ["sizeof-deep (PyObject *)%s --json" % ring[1],
             "info --json"]
    runs = R.three(["--core", core, "--exe", PYTHON],
                   ["file " + PYTHON, "core " + core],
                   {"MV_EXE": PYTHON, "MV_CORE": core}, cmds)
    for i, (name, addr, n, size, usable) in enumerate(roots):
        values, problems = R.parse_json_outputs(runs, i)
        for front, d in values.items():
            got = (d["deep_size"], d["heap"]["objects"],
                   d["heap"]["usable_bytes"], d["heap"]["chunk_bytes"])
            want = (size, n, usable, usable + 8 * n)
            if usable < 0:
                got, want = got[:2], want[:2]
            if got != want:
                problems.append("%s: (deep size, objects, usable, "
                                "chunk bytes) %s, CPython says %s"
                                % (front, got, want))
        for v in values.values():
            v.pop("expression", None)
        problems += R.identical(values)
        report("%s: %s: sizeof-deep = sum of getsizeof, blocks%s "
               "(cli/gdb/lldb)" % (allocator, name, "" if usable < 0 else
                                   " = malloc_usable_size + header"),
               problems)
    auto, problems = R.parse_json_outputs(runs, len(roots))
    for front, d in auto.items():
        if d["deep_size"] != ring[3]:
            problems.append("%s: deep size %d without --types, "
                            "CPython says %d" % (front, d["deep_size"],
                                                 ring[3]))
    report("%s: the model is picked for CPython 3.11 with debug info "
           "(cli/gdb/lldb)" % allocator, problems)
    info, problems = R.parse_json_outputs(runs, len(roots) + 1)
    problems += ["%s: object_model %r" % (f, d.get("object_model"))
                 for f, d in info.items()
                 if d.get("object_model") != "cpython-3.11"]
    report("%s: info says the model it picked (cli/gdb/lldb)" % allocator,
           problems)
    # cycles: the ring of 10 lists is one component, each list with
    # its item array (both blocks are on the cycle).
    rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe", PYTHON,
                          "cycles", "(PyObject *)" + ring[1]])
    report("%s: cycles finds the ring of 10 lists" % allocator,
           [] if rc == 0 and "1 cyclic component holding 20 objects"
           in out else ["%s %s %s" % (rc, out[:300], err)])
    # Without the model: not CPython's answer.
    rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe", PYTHON,
                          "sizeof-deep", "(PyObject *)" + roots[0][1],
                          "--json", "--types", ""])
    d = json.loads(out) if rc == 0 else None
    report("%s: without the model the list of ints is not sized as "
           "CPython does" % allocator,
           [] if d and d["deep_size"] != roots[0][3]
           else ["%s %s" % (rc, err)])


def main():
    if not os.path.exists(PYTHON):
        print("cpython_model: needs %s: apt-get install python3.11-dbg"
              % PYTHON)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        check_core(tmp, "malloc")
        check_core(tmp, "pymalloc")
        check_core(tmp, "default")
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
