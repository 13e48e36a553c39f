"""The CPython 3.11 model's types, every tracked object against CPython
(issue 16): gc.get_referents of each object of gc.get_objects(), and
gc.collect()'s garbage, on a stdlib-heavy program.

Usage: BUILD=build python3 tests/integration/test_cpython_types.py

A Python program (PROG) runs under Debian's python3.11-dbg and uses the
standard library as programs do: dataclasses, collections' deque,
defaultdict and OrderedDict, functools.partial and lru_cache, closures,
classes made and dropped inside functions, generators, bound methods,
property, classmethod, staticmethod, subclasses of dict, list, set and
tuple (with and without __slots__), a thread waiting on an Event, re
(and a scanner), json (its scanner and an encoder), logging, open files
and in-memory streams, the C modules' states.  With gc.disable() it
makes garbage too: a class <-> its function <-> closure cycle, a deque
in a cycle, a dict subclass in a cycle, a generator in a cycle, a bound
method in a cycle, a partial in a cycle, an OrderedDict and a
defaultdict in cycles, an lru_cache through its cache's entries, a
BytesIO and a TextIOWrapper.  Before it stops
itself (SIGSTOP) for gdb's gcore it writes, for each object of
gc.get_objects(), its id, its type's name and the ids of
gc.get_referents(obj) that are themselves in gc.get_objects() (one per
reference); the list it iterates and the file are gone before the stop.
After the core it resumes: gc.collect() with DEBUG_SAVEALL writes the
ids of gc.garbage.

memview gc --refcount model --json --referents (the shipped model) must
then give:
- for every tracked object, the same referents (as a multiset): the
  agreement is printed as objects agreeing / all tracked objects, with
  the misses per type; the test asks all of them to agree (but for the
  types listed in UNDESCRIBED, each with its reason: none now);
- the objects it examines exactly those of gc.get_objects();
- the collectable set equal to gc.garbage;
in the CLI, gdb and lldb (which agree), with PYTHONMALLOC=malloc,
pymalloc and the debug build's default (pymalloc_debug: a debug prefix
in front of each block, two in front of a block of more than 512
bytes, which pymalloc takes from the raw domain, hooked too).
Prints "cpython_types: N passed, M failed".
"""

import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally  # noqa: E402
from test_refcount_model import cored, PYTHON  # noqa: E402

GC = "gc --refcount model --json --max-blocks 0 --referents"
T = Tally("cpython_types")

PROG = r"""
import bz2, collections, dataclasses, functools, gc, hashlib, io, json
import logging, lzma, mmap, os, queue, re, resource, termios
import signal, sys, threading
gc.collect()
gc.disable()

log = logging.getLogger("memview.test")
log.addHandler(logging.NullHandler())
log.setLevel(logging.INFO)
PATTERN = re.compile(r"(?P<word>[a-z]+)-(?P<n>\d+)")
CONFIG = json.loads('{"a": [1, 2, {"b": null}], "c": "d", "e": 1.5}')

@dataclasses.dataclass
class Point:
    x: int
    y: int = 0
    tags: list = dataclasses.field(default_factory=list)

@dataclasses.dataclass(frozen=True)
class Frozen:
    name: str
    size: int

class Account:
    rate = 3
    def __init__(self, owner):
        self.owner = owner
        self._balance = [0]
    @property
    def balance(self):
        return self._balance[0]
    @classmethod
    def make(cls, owner):
        return cls(owner)
    @staticmethod
    def check(n):
        return n > 0
    def deposit(self, n):
        self._balance[0] += n

class Registry(dict):
    def __missing__(self, key):
        return None

class Stack(list):
    def top(self):
        return self[-1]

class Tags(set):
    pass

class Pair(tuple):
    __slots__ = ()

class Slotted(list):
    __slots__ = ("label", "extra")

class Named(dict):
    __slots__ = ("note",)

@functools.lru_cache(maxsize=32)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def counter(start):
    count = [start]
    def step(by=1):
        count[0] += by
        return count[0]
    return step

def gen(n):
    total = []
    for i in range(n):
        total.append(i)
        yield total

def make_class(n):
    class Local:
        size = n
        def get(self):
            return self.size + n
    return Local

ready = threading.Event()
done = threading.Event()
shared = {"worker": None}

def worker():
    items = collections.deque([[1], [2], [3]], maxlen=10)
    shared["worker"] = items
    ready.set()
    done.wait()

points = [Point(i, i * 2, [str(i)]) for i in range(20)]
frozen = {Frozen("f%d" % i, i) for i in range(5)}
accounts = [Account.make("owner%d" % i) for i in range(5)]
for a in accounts:
    a.deposit(10)
deposits = [a.deposit for a in accounts]
queue = collections.deque((["job", i] for i in range(150)), maxlen=200)
small_queue = collections.deque([(1, [2])])
by_owner = collections.defaultdict(list)
for a in accounts:
    by_owner[a.owner].append(a)
order = collections.OrderedDict((("k%d" % i, [i]) for i in range(12)))
order.move_to_end("k3")
counts = collections.Counter("abracadabra")
Row = collections.namedtuple("Row", "a b c")
rows = [Row(i, [i], str(i)) for i in range(10)]
partials = [functools.partial(int, base=b) for b in (2, 8, 16)]
held_partial = functools.partial(print, [1, 2], sep=[3])
fibs = [fib(i) for i in range(30)]
step = counter(5)
step(2)
running = gen(5)
next(running)
next(running)
classes = [make_class(i) for i in range(3)]
instances = [c() for c in classes]
registry = Registry(a=[1], b=[2])
stack = Stack([[1], [2], [3]])
tags = Tags([(1, 2), (3, [4][0])])
pair = Pair(([1], [2]))
slotted = Slotted([[5]])
slotted.label = [6]
named = Named(x=[7])
named.note = [8]
matches = [PATTERN.match("abc-%d" % i) for i in range(5)]
texts = [json.dumps({"i": i, "l": [i, i]}) for i in range(5)]
decoded = [json.loads(t) for t in texts]
# _io's objects (open files, in-memory streams), re's scanner, json's
# scanner (inside the decoder json.loads uses) and encoder, an
# lru_cache whose entries hold containers.
binary = open(__file__, "rb")
text = open(__file__, encoding="utf-8")
streams = [io.BytesIO(b"abc"), io.StringIO("text"),
           io.BufferedRWPair(io.BytesIO(), io.BytesIO())]
streams[0].note = [1]
scanner = PATTERN.scanner("ab-1 cd-2")
encoder = json.encoder.c_make_encoder(
    {}, str, json.encoder.encode_basestring_ascii, None, ": ", ", ",
    False, False, True)

@functools.lru_cache(maxsize=16)
def boxed(k):
    return [k]
held = [boxed(i) for i in range(4)] + [boxed((1, [2][0]))]
log.info("started %s", len(points))
thread = threading.Thread(target=worker, name="worker", daemon=True)
thread.start()
ready.wait()

def make_garbage():
    # A class <-> its function <-> closure cycle: the class made and
    # dropped in a function.
    def outer():
        class Dropped:
            def method(self):
                return Dropped
        return Dropped
    outer()
    # A deque in a cycle, longer than a block of 64.
    d = collections.deque(range(100))
    d.append(d)
    d.appendleft([d])
    # A dict subclass in a cycle.
    r = Registry()
    r["self"] = [r]
    # A generator in a cycle: its suspended frame holds it.  (Its
    # finalizer closes it before gc.garbage can save it; one that
    # ignores GeneratorExit stays whole, and is saved.)
    def stubborn(box):
        while True:
            try:
                yield box
            except GeneratorExit:
                pass
    box = []
    g = stubborn(box)
    next(g)
    box.append(g)
    # A bound method in a cycle.
    acc = Account("gone")
    acc.again = acc.deposit
    # A partial in a cycle.
    p = functools.partial(print, [])
    p.args[0].append(p)
    # An OrderedDict and a defaultdict in cycles.
    o = collections.OrderedDict()
    o["me"] = o
    dd = collections.defaultdict(list)
    dd["x"].append(dd)
    # A list and a set subclass in cycles, a tuple subclass in one.
    s = Stack()
    s.append(s)
    t = Tags()
    acc2 = Account(Pair((t,)))
    t.add(acc2)
    # A closure cell in a cycle.
    def cyc():
        return cyc
    # A property object in a cycle (through its fget's closure).
    box = []
    prop = property(lambda self: box)
    box.append(prop)
    # An lru_cache in a cycle through its cache's entries (a result
    # that holds the wrapper).
    @functools.lru_cache(maxsize=8)
    def cached(k):
        return [k]
    cached(1).append(cached)
    cached(2)
    # A BytesIO and a TextIOWrapper in cycles (through their __dict__).
    b = io.BytesIO(b"x")
    b.me = b
    t = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    t.me = [t]

make_garbage()

def record(path):
    objs = gc.get_objects()
    ids = set(map(id, objs))
    with open(path, "w") as f:
        # No generator expression: its cell for ids would be an object
        # of the list, freed before the core.
        r = o = None
        for o in objs:
            refs = []
            for r in gc.get_referents(o):
                if id(r) in ids:
                    refs.append("0x%x" % id(r))
            refs.sort(key=lambda a: int(a, 16))
            f.write("0x%x %s %s\n" % (id(o), type(o).__name__,
                                      " ".join(refs)))
            del refs
        del o, r
    del objs, ids, f

record(sys.argv[1])
os.kill(os.getpid(), signal.SIGSTOP)
gc.set_debug(gc.DEBUG_SAVEALL)
gc.collect()
with open(sys.argv[2], "w") as f:
    for o in gc.garbage:
        f.write("0x%x %s\n" % (id(o), type(o).__name__))
done.set()
"""

# Types whose referents the model does not give yet, and why (the test
# asks every other tracked object to agree).
UNDESCRIBED = {}
# Objects of described types whose referents may differ.
MAX_OTHER_MISSES = 0


def load(path):
    """id -> (type name, referents) of the program's file."""
    out = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            out[int(w[0], 16)] = (w[1], sorted(int(a, 16) for a in w[2:]))
    return out


def agreement(want, d):
    """(objects agreeing, misses per type, a few examples) of memview's
    objects d against the program's want."""
    got = {int(o["address"], 16): sorted(int(a, 16) for a in o["referents"])
           for o in d["objects"]}
    agree = 0
    miss = collections.Counter()
    examples = {}
    for i, (tn, refs) in want.items():
        if got.get(i) == refs:
            agree += 1
            continue
        miss[tn] += 1
        if tn not in examples:
            examples[tn] = (hex(i), "absent" if i not in got else
                            (len(got[i]), len(refs)))
    return agree, miss, examples


def three(core):
    """R.three for one long output: lldb writes an output past 256 KiB
    straight to its own output (the plugin's Output streams it), not to
    the command's result: it is taken from there."""
    runs = {}
    runs["cli"], _ = R.cli(["--core", core, "--exe", PYTHON], [GC])
    runs["gdb"], _ = R.gdb(["file " + PYTHON, "core " + core],
                           [R.debugger_name(GC)])
    data, raw = R.lldb({"MV_EXE": PYTHON, "MV_CORE": core},
                       [R.debugger_name(GC)])
    if isinstance(data, dict) and data["cases"] and \
            not data["cases"][0]["output"]:
        for line in (raw or "").splitlines():
            if line.startswith('{"command":'):
                data["cases"][0]["output"] = line
    runs["lldb"] = data
    return runs


def allowed_missing(want, garbage):
    """The garbage in a cycle through an object of a type UNDESCRIBED:
    the model cannot see that cycle's references."""
    ids = set(garbage)
    parent = {i: i for i in ids}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i in ids:
        for r in want.get(i, ("", []))[1]:
            if r in ids:
                parent[find(i)] = find(r)
    bad = {find(i) for i in ids if garbage[i] in UNDESCRIBED}
    return {i for i in ids if find(i) in bad}


def extra_of(d, addresses):
    return [(int(o["address"], 16), o) for o in d["objects"]
            if int(o["address"], 16) in addresses]


def test_python(tmp, allocator):
    ready = os.path.join(tmp, "referents." + allocator)
    freed = os.path.join(tmp, "garbage." + allocator)
    core = cored(tmp, "stdlibprog", PROG, allocator, ready, freed)
    if not core or not os.path.exists(freed):
        T.report("%s: python3.11-dbg cored and collected" % allocator,
                 ["no core or no gc.garbage"])
        return
    want = load(ready)
    with open(freed) as f:
        garbage = {int(line.split()[0], 16): line.split()[1] for line in f}
    runs = three(core)
    values, problems = R.parse_json_outputs(runs, 0)
    for front, d in values.items():
        agree, miss, examples = agreement(want, d)
        print("%s %s: referents agree for %d / %d tracked objects" % (
            allocator, front, agree, len(want)))
        for tn, n in miss.most_common():
            print("    %-28s %5d  e.g. %s" % (tn, n, examples[tn]))
        # The objects it examines are the collector's, none other: not
        # a class missed behind nested debug prefixes, nor words of a
        # dict's keys that read as an instance (a tp_subclasses entry
        # whose hash is a class's address).
        seen = {int(o["address"], 16): o["type"] for o in d["objects"]}
        if set(seen) != set(want):
            problems.append("%s: examines %d objects, CPython tracks %d: "
                            "%d missing (%s), %d others (%s)" % (
                                front, len(seen), len(want),
                                len(set(want) - set(seen)),
                                sorted(collections.Counter(
                                    want[i][0] for i in set(want) -
                                    set(seen)).items())[:6],
                                len(set(seen) - set(want)),
                                sorted("%s %x" % (seen[i], i) for i in
                                       set(seen) - set(want))[:6]))
        bad = {tn: n for tn, n in miss.items() if tn not in UNDESCRIBED}
        if sum(bad.values()) > MAX_OTHER_MISSES:
            problems.append("%s: referents differ for %d objects of types "
                            "the model describes: %s" % (
                                front, sum(bad.values()),
                                sorted(bad.items(),
                                       key=lambda x: -x[1])[:10]))
        got = {int(o["address"], 16) for o in d["objects"]
               if o["state"] == "collectable"}
        may_miss = allowed_missing(want, garbage)
        if got - set(garbage) or set(garbage) - got - may_miss:
            problems.append("%s: %d of CPython's %d garbage objects "
                            "collectable, missing %s, extra %s" % (
                                front, len(got & set(garbage)),
                                len(garbage),
                                sorted(collections.Counter(
                                    garbage[i] for i in set(garbage) -
                                    got).items()),
                                sorted("%s %x" % (o["type"], a) for a, o in
                                       extra_of(d, got - set(garbage)))))
        print("%s %s: gc.garbage %d, memview collectable %d, both %d" % (
            allocator, front, len(garbage), len(got),
            len(got & set(garbage))))
    problems += R.identical(values)
    T.report("%s: every tracked object's referents and gc.garbage "
             "(cli/gdb/lldb)" % allocator, problems)


def main():
    if not os.path.exists(PYTHON):
        print("cpython_types: needs %s: apt-get install python3.11-dbg"
              % PYTHON)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for allocator in sys.argv[1:] or ("malloc", "pymalloc",
                                          "default"):
            test_python(tmp, allocator)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
