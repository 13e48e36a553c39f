"""gc --refcount model (issue 16.4): CPython's collector over the objects
an object model finds, against the program's own answer key and against
CPython's gc.collect() itself.

Usage: BUILD=build python3 tests/integration/test_refcount_model.py

1. tests/fixtures/rcmodel.c, a refcounted C model of its own
   (docs/examples/rcmodel.types), lists what a cycle collector must free,
   the objects with a count of 2^62 and -5, the one with a count of 0 and
   the one whose type pointer is garbage: the collectable set, the bad
   counts and the notes must be exactly those, the same in the CLI, gdb
   and lldb.
2. A Python program under python3.11-dbg (PYTHONMALLOC=malloc, CPython's
   own pymalloc, and the debug build's default pymalloc_debug, whose
   guard bytes lie in front of each block) makes garbage cycles with gc.disable() (a ring
   of 10 lists, a dict <-> instance, a self-referencing list, a cycle
   holding a non-cyclic tail of 100 tuples and lists, a ring of 5
   __slots__ objects, an instance whose __dict__ holds it, an object with
   __del__, an instance of a class whose metaclass is ABCMeta, a set
   past its smalltable), live cycles held by globals, 30 classes whose
   tp_subclasses dicts' keys blocks read as instances with a huge count,
   an object held by a frame's local and by that garbage set (twice, if
   its stale smalltable copy counted) and objects on CPython's free
   lists, and two refcount mistakes with ctypes (a list released once
   too often with Py_DecRef, one given 5 references too many with
   Py_IncRef: it writes their ids), stops itself and is cored; then it
   mends them, resumes and gc.collect() with DEBUG_SAVEALL writes the
   ids of gc.garbage and type(o).__name__ of each.  memview's
   collectable set must equal that set of ids, its type column those
   names, its over_released and leaked_reference objects the two the
   program made, in the CLI, gdb and lldb.
3. Rules files with mistakes in refcount, tracked and typename rules:
   one usage error each, naming FILE:LINE.
4. cycles '(PyObject *)ROOT' on rings held by globals (10 lists, 5
   __slots__ objects, 4 instances through their managed dicts' values,
   3 through their __dict__s): one cyclic component, exactly the ring's
   objects and the blocks between them (item arrays, dict values) as
   the program lists them, each object by its class (type(o).__name__:
   list, Slot, Node), each link named as Python names it ([1], .next,
   also through a __dict__).
Prints "refcount_model: N passed, M failed".
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

EXE = os.path.join(R.BUILD, "fixtures", "rcmodel")
CORE = os.path.join(R.BUILD, "cores", "rcmodel.core")
FACTS = os.path.join(R.BUILD, "cores", "rcmodel.facts")
RULES = os.path.join(R.ROOT, "docs", "examples", "rcmodel.types")
PYTHON = "/usr/bin/python3.11d"
GC = "gc --refcount model --json --max-blocks 0"

T = Tally("refcount_model")


def facts():
    f = {"garbage": set(), "bad_count": set()}
    with open(FACTS) as fh:
        for line in fh:
            w = line.split()
            if w[0] in f:
                f[w[0]].add(int(w[1], 16))
            else:
                f[w[0]] = w[1]
    return f


def collectable(d):
    return {int(o["address"], 16) for o in d["objects"]
            if o["state"] == "collectable"}


def test_c_model(tmp):
    k = facts()
    runs = R.core_runs([GC + " --types " + RULES], CORE, EXE)
    values, problems = R.parse_json_outputs(runs, 0)
    for front, d in values.items():
        got = collectable(d)
        if got != k["garbage"]:
            problems.append("%s: collectable %s, the program says %s" % (
                front, sorted(map(hex, got)), sorted(map(hex,
                                                         k["garbage"]))))
        bad = {int(o["address"], 16) for o in d["objects"]
               if o["mistake"] == "bad_count"}
        if bad != k["bad_count"]:
            problems.append("%s: bad counts %s" % (front, bad))
        if any(int(o["address"], 16) in k["bad_count"] and
               o["state"] != "held" for o in d["objects"]):
            problems.append("%s: a bad count not taken as held" % front)
        c = d["candidates"]
        want = (int(k["objects"]), int(k["objects"]) - 1, 1)
        got_c = (c["blocks_probed"], c["model_objects"], c["zero_count"])
        if got_c != want:
            problems.append("%s: (blocks, objects, zero counts) %s, the "
                            "program made %s" % (front, got_c, want))
        notes = " ".join(d.get("notes", []))
        if "1 heap object reached whose type field names no known " \
           "type" not in notes:
            problems.append("%s: no note of the garbage type pointer: %s"
                            % (front, notes[:300]))
        if d["summary"]["collectable"]["cycles"] != 2:
            problems.append("%s: cycles %s, want 2 (the ring, the self "
                            "loop)" % (front, d["summary"]))
    problems += R.identical(values)
    T.report("C model: collectable = the program's garbage; 2^62 and -5 "
             "counts held and reported; count 0 and a garbage type "
             "pointer left out (cli/gdb/lldb)", problems)
    # Without the rules' refcount line: one clear error.
    norc = os.path.join(tmp, "norefcount.types")
    with open(RULES) as f, open(norc, "w") as g:
        g.write("".join(l for l in f if not l.startswith("refcount")))
    rc, out, err = R.run([R.MEMVIEW, "--core", CORE, "--exe", EXE, "gc",
                          "--refcount", "model", "--types", norc])
    T.report("gc --refcount model without a refcount rule: one error",
             [] if rc == 2 and "no refcount rule" in err and
             len(err.splitlines()) == 1 else ["%s %r" % (rc, err)])
    # The struct spelling of the rule's TYPE.FIELD picks the model too.
    rc, out, err = R.run([R.MEMVIEW, "--core", CORE, "--exe", EXE, "gc",
                          "--refcount", "struct obj.refcnt", "--types",
                          RULES, "--json", "--max-blocks", "0"])
    d = json.loads(out) if rc == 0 else None
    T.report("--refcount TYPE.FIELD of the model's rule runs the model",
             [] if d and d["refcount"]["model"] and
             collectable(d) == k["garbage"] else ["%s %s" % (rc, err)])


def test_rule_errors(tmp):
    bad = [
        ("refcount struct obj.type", "is a pointer"),
        ("refcount struct obj.nope", "'nope'"),
        ("refcount struct nosuch.refcnt", "nosuch"),
        ("refcount struct obj.refcnt\nrefcount struct obj.refcnt", ":2:",
         "second refcount"),
        ("tracked struct obj.nope", "'nope'"),
        ("guard 16 0xfd", "guard BYTES FILL COUNT"),
        ("guard 16 0xfd 17", "guard BYTES FILL COUNT"),
        ("refcount struct obj.refcnt\n", "no dispatch rule"),
        ("typename struct obj", "typename TYPE = TEXT"),
        ("typename struct nosuch = x", "nosuch"),
        ("typename struct obj = {chars refcnt}", "unknown {chars}"),
        ("typename struct obj if nope = x", "'nope'"),
    ]
    for i, case in enumerate(bad):
        text, want = case[0], case[1:]
        path = os.path.join(tmp, "bad%d.types" % i)
        with open(path, "w") as f:
            f.write(text + "\n")
        rc, out, err = R.run([R.MEMVIEW, "--core", CORE, "--exe", EXE,
                              "gc", "--refcount", "model", "--types",
                              path])
        lines = err.strip().splitlines()
        ok = rc == 2 and len(lines) == 1 and all(w in err for w in want) \
            and path in err
        T.report("rules mistake %r: one usage error naming it" % text,
                 [] if ok else ["%s %r" % (rc, err)])


PROG = r"""
import abc, ctypes, gc, os, signal, sys
gc.collect()
gc.disable()

class Node:
    def __init__(self, n):
        self.n = n
        self.other = None

class Slot:
    __slots__ = ("next", "payload")

class Fin:
    def __del__(self):
        pass

class Meta(abc.ABC):     # a class whose metaclass is not type
    pass

# Classes whose tp_subclasses dict's keys block reads, at +32, as an
# instance of a subclass: its index bytes as the count (positive when
# the table's last slot is used: about one dict in two), its first
# entry's hash (the subclass's address, PyLong_FromVoidPtr's) as the
# type, and a subclass with a managed dict and a __dict__ as wide as
# the block.  Thirty of them: the layout comes up every run.
class Wide:
    __slots__ = tuple("w%d" % i for i in range(12))

wide = []
for i in range(30):
    mid = type("Mid%d" % i, (Wide,), {"__slots__": ()})
    wide += [mid] + [type("Leaf%d_%d" % (i, j), (mid,), {}) for j in range(4)]

def make_garbage():
    ring = [[i * 1000 + 1000, None] for i in range(10)]
    for i in range(10):
        ring[i][1] = ring[(i + 1) % 10]
    slots = [Slot() for _ in range(5)]
    for i in range(5):
        slots[i].next = slots[(i + 1) % 5]
        slots[i].payload = "s%d" % i
    a = Node(1)
    a.other = {"back": a, "n": 12345678}
    b = Node(2)
    b.other = b
    vars(b)["x"] = [b]
    me = []
    me.append(me)
    tail = [(i * 3 + 100000, [i * 7 + 200000]) for i in range(100)]
    holder = [tail]
    holder.append(holder)
    f = Fin()
    f.self = f
    m = Meta()
    m.self = [m]

make_garbage()
keep = [[i, None] for i in range(10)]
for i in range(10):
    keep[i][1] = keep[(i + 1) % 10]
kept_self = []
kept_self.append(kept_self)
for i in range(50):
    x = [i, str(i)]
    y = (i, [i])
    z = {"k": [i]}
    del x, y, z

# Refcount mistakes made on purpose: a list held by a global and by
# two slots of another whose count is one short (released too often),
# and one whose count is 5 too many (leaked references); mended after
# the core, before the collection.
over = [31337]
over_holder = [over, over]
leak = [42424]
ctypes.pythonapi.Py_DecRef(ctypes.py_object(over))
for _ in range(5):
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(leak))

def main():
    # Held by this frame only (its local, in the interpreter's data
    # stack), and by a garbage set that outgrew its smalltable (which
    # keeps a stale copy of it): not garbage.
    local = Node(99)
    h = Node(98)
    s = {local, h}
    for i in range(20):
        s.add(Node(i))
    h.other = s
    del h, s
    with open(sys.argv[1], "w") as f:
        f.write("over_released 0x%x\nleaked_reference 0x%x\n"
                % (id(over), id(leak)))
    os.kill(os.getpid(), signal.SIGSTOP)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(over))
    for _ in range(5):
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(leak))
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    with open(sys.argv[2], "w") as f:
        for o in gc.garbage:
            f.write("0x%x %s\n" % (id(o), type(o).__name__))

main()
"""


def cored(tmp, name, text, allocator, *outputs):
    """Runs text under python3.11-dbg with PYTHONMALLOC=allocator and
    the paths of outputs as its arguments, takes a core once it has
    stopped itself, lets it go on to its end: the core's path, or None."""
    prog = os.path.join(tmp, name + ".py")
    with open(prog, "w") as f:
        f.write(text)
    core = os.path.join(tmp, "%s.core.%s" % (name, allocator))
    env = dict(os.environ, PYTHONMALLOC=allocator)
    if allocator == "default":
        env.pop("PYTHONMALLOC")    # a debug build's: pymalloc_debug
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.Popen([PYTHON, prog] + list(outputs), env=env)
    try:
        # Stopped by its own SIGSTOP, or no core: gdb would stop it
        # wherever it was (this waited 30 s, then took the core anyway).
        deadline = time.time() + 120
        while not stopped(p.pid) and p.poll() is None and \
                time.time() < deadline:
            time.sleep(0.05)
        if not stopped(p.pid):
            return None
        subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(p.pid),
                        "-ex", "gcore " + core], capture_output=True,
                       timeout=300)
        os.kill(p.pid, signal.SIGCONT)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return core if os.path.exists(core) else None


def python_core(tmp, allocator):
    """A core of PROG, the ids gc.collect() frees after it (with
    type(o).__name__) and the mistakes it made on purpose ({kind:
    id})."""
    ready = os.path.join(tmp, "ready." + allocator)
    freed = os.path.join(tmp, "garbage." + allocator)
    core = cored(tmp, "gcprog", PROG, allocator, ready, freed)
    if not core or not os.path.exists(freed):
        return None, None, None
    with open(freed) as f:
        ids = {int(line.split()[0], 16): line.split()[1] for line in f}
    with open(ready) as f:
        made = {line.split()[0]: {int(line.split()[1], 16)} for line in f}
    return core, ids, made


def test_python(tmp, allocator, exact):
    core, ids, made = python_core(tmp, allocator)
    if not core:
        T.report("%s: python3.11-dbg cored and collected" % allocator,
                 ["no core or no gc.garbage"])
        return
    runs = R.three(["--core", core, "--exe", PYTHON],
                   ["file " + PYTHON, "core " + core],
                   {"MV_EXE": PYTHON, "MV_CORE": core}, [GC])
    values, problems = R.parse_json_outputs(runs, 0)
    for front, d in values.items():
        got = collectable(d)
        missing = set(ids) - got
        extra = got - set(ids)
        if extra or (exact and missing):
            problems.append("%s: %d of CPython's %d collected, %d missing "
                            "(%s), %d extra" % (
                                front, len(got & set(ids)), len(ids),
                                len(missing), sorted(ids[i] for i in
                                                     missing)[:8],
                                len(extra)))
    problems += R.identical(values)
    T.report("%s: gc --refcount model %s gc.collect()'s garbage (%d "
             "objects, cli/gdb/lldb)" % (allocator, "finds exactly"
                                         if exact else "finds nothing but",
                                         len(ids)), problems)
    # The type column: each object's class as CPython names it.
    problems = []
    for front, d in values.items():
        wrong = [(o["address"], o["type"], ids[int(o["address"], 16)])
                 for o in d["objects"] if int(o["address"], 16) in ids
                 and o["type"] != ids[int(o["address"], 16)]]
        if wrong or not ids:
            problems.append("%s: types %s, CPython says type(o).__name__ "
                            "%s" % (front, [w[1] for w in wrong[:5]],
                                    [w[2] for w in wrong[:5]]))
    T.report("%s: gc --refcount model's type column is type(o).__name__ "
             "(cli/gdb/lldb)" % allocator, problems)
    # The mistakes made with Py_DecRef and Py_IncRef, and no other.
    problems = []
    for front, d in values.items():
        for kind in ("over_released", "leaked_reference"):
            got = {int(o["address"], 16) for o in d["objects"]
                   if o["mistake"] == kind}
            if got != made[kind]:
                problems.append("%s: %s %s, the program made %s" % (
                    front, kind, sorted(map(hex, got)),
                    sorted(map(hex, made[kind]))))
        # and no count out of bounds: CPython's are above 0 and small
        # (a debug build aborts on a negative one), so such a "count"
        # is words of something else read as an object.
        s = d["summary"]
        if (s["over_released"], s["leaked_references"],
                s["bad_counts"]) != (1, 1, 0):
            problems.append("%s: summary %s" % (front, s))
    T.report("%s: gc --refcount model finds the count released too often "
             "and the leaked references the program made, no other "
             "(cli/gdb/lldb)" % allocator, problems)


RINGS = r"""
import ctypes, gc, os, signal, sys
gc.disable()

def word(address):
    return ctypes.c_void_p.from_address(address).value

class Slot:
    __slots__ = ("next", "payload")

class Node:
    pass

def ring(objs, link):
    for i, o in enumerate(objs):
        link(o, objs[(i + 1) % len(objs)])
    return objs

lists = ring([[i * 1000 + 1000, None] for i in range(10)],
             lambda a, b: a.__setitem__(1, b))
slots = ring([Slot() for _ in range(5)], lambda a, b: setattr(a, "next", b))
managed = ring([Node() for _ in range(4)], lambda a, b: setattr(a, "next", b))
dicts = ring([Node() for _ in range(3)],
             lambda a, b: vars(a).__setitem__("next", b))
with open(sys.argv[1], "w") as f:
    # Each ring's members, and the blocks on it that are no object: a
    # list's item array (ob_item at 24), a __dict__ and its values
    # (ma_values at 40).
    for name, objs in (("lists", lists), ("slots", slots),
                       ("managed", managed), ("dicts", dicts)):
        on = [id(o) for o in objs]
        if name == "lists":
            on += [word(id(o) + 24) for o in objs]
        if name == "dicts":
            on += [id(vars(o)) for o in objs]
            on += [word(id(vars(o)) + 40) for o in objs]
        f.write("%s %s\n" % (name, " ".join("0x%x" % a for a in on)))
    for o in lists + slots + managed + dicts:
        f.write("class 0x%x %s\n" % (id(o), type(o).__name__))
    # How Python names each ring's link: lists[i][1], s.next, vars(n)["next"]
    # read as n.next.
    for name, link in (("lists", "[1]"), ("slots", ".next"),
                       ("managed", ".next"), ("dicts", ".next")):
        f.write("link %s %s %d\n" % (name, link, len(globals()[name])))
os.kill(os.getpid(), signal.SIGSTOP)
"""


def test_cycles(tmp):
    """cycles '(PyObject *)ROOT' finds each ring whole: its component is
    the ring's members and the blocks between them, as the program
    lists them."""
    facts = os.path.join(tmp, "rings.facts")
    core = cored(tmp, "rings", RINGS, "malloc", facts)
    if not core:
        T.report("rings: python3.11-dbg cored", ["no core"])
        return
    rings, classes, links = [], {}, {}
    with open(facts) as f:
        for line in f:
            w = line.split()
            if w[0] == "class":
                classes[int(w[1], 16)] = w[2]
            elif w[0] == "link":
                links[w[1]] = (w[2], int(w[3]))
            else:
                rings.append((w[0], [int(a, 16) for a in w[1:]]))
    runs = R.three(["--core", core, "--exe", PYTHON],
                   ["file " + PYTHON, "core " + core],
                   {"MV_EXE": PYTHON, "MV_CORE": core},
                   ["cycles (PyObject *)0x%x --json" % on[0]
                    for _, on in rings])
    for i, (name, on) in enumerate(rings):
        values, problems = R.parse_json_outputs(runs, i)
        for front, d in values.items():
            comp = [{int(o["address"], 16) for o in c["objects"]}
                    for c in d["components"] if c["members"] > 1]
            if len(comp) != 1 or comp[0] != set(on):
                problems.append("%s: components %s, the ring is %d "
                                "objects and blocks" % (
                                    front, [len(c) for c in comp],
                                    len(on)))
            # Its objects by their class, as CPython names it, in the
            # JSON and in the text of the cycle.
            named = [(o["type"], classes[int(o["address"], 16)])
                     for c in d["components"] for o in c["objects"]
                     if int(o["address"], 16) in classes]
            text = " ".join(c["text"] for c in d["components"])
            if not named or any(a != b for a, b in named) or \
               "%s@0x%x" % (classes[on[0]], on[0]) not in text:
                problems.append("%s: types %s, CPython says %s" % (
                    front, [a for a, _ in named][:4],
                    [b for _, b in named][:4]))
            # Each link named as Python names it, once per object.
            link, n = links[name]
            fields = [e["field"] for c in d["components"]
                      for e in c["cycle"]]
            if fields.count(link) != n:
                problems.append("%s: the cycle's fields %s, Python's "
                                "link %s x%d" % (front, fields[:6], link,
                                                 n))
            # The text names each link as Python does ("list@0x.. [1]
            # -> list@0x.."): no block the model names empty between
            # them, no unnamed pointer ("+?").
            if "+?" in text or text.count(" %s -> " % link) != n:
                problems.append("%s: the cycle reads %r, Python's link "
                                "%s x%d" % (front, text[:200], link, n))
        problems += R.identical(values)
        T.report("cycles finds the ring of %s whole (cli/gdb/lldb)" % name,
                 problems)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_c_model(tmp)
        test_rule_errors(tmp)
        if os.path.exists(PYTHON):
            test_python(tmp, "malloc", True)
            test_python(tmp, "pymalloc", True)
            test_python(tmp, "default", True)
            test_cycles(tmp)
        else:
            print("refcount_model: needs %s for the CPython oracle: "
                  "apt-get install python3.11-dbg" % PYTHON)
            T.count(False)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
