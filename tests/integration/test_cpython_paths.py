"""Python edges named as Python names them (issue 16.3), against CPython.

Usage: BUILD=build python3 tests/integration/test_cpython_paths.py

A Python program (PROG) runs under Debian's python3.11-dbg, builds
objects each held by one container (a dict under str keys of every
kind, int keys small and big, a tuple key; a list; a tuple; a set; an
instance's attribute in its managed dict's values; __slots__ in a class
and a subclass) and writes, before it stops itself for gdb's gcore,
what CPython says of each target T:
- its holder: the container (id) and the name Python gives the edge:
  [3], ['key'] (repr of a str key, a small int's value, else
  <type at 0x...>), {...} for a set's member, .attr for an attribute;
- the ids of gc.get_referrers(T).
memview with the shipped CPython 3.11 model must give, in the CLI, gdb
and lldb (which agree):
- referrers: the objects holding T through the model's edges = the ids
  of gc.get_referrers(T), each by its class (type(r).__name__), each
  edge named as CPython names it (a dict's key as [key 'gamma']); the
  GC's list links that point into T's block are not edges;
- path-to: a chain ending at the holder, named as Python writes the
  target (__main__.by_key['alpha'], a module's global __main__.g_direct,
  an attribute in a made __dict__, split or not, __main__.pd.x: the
  script's expected path, which CPython's eval finds to be the target),
  or the frame's local (hold:kept) for a
  function's, in the main thread or another (worker:kept: every
  thread's frames are read); the interpreter's stale frame slots (the
  value stack past its top, returned frames) hold nothing; without
  the model it is not so named;
- sizeof-deep of the container: the largest paths name T as
  "(PyObject *)0x...<the edge's name>";
- graph of the container (of the module for a global, of the instance
  for an attribute): the edge into T is labelled with the name path-to
  gives its last hop (['alpha'], .g_direct, .x, [key 'gamma']) and
  said of (JSON "of") the object CPython names it from.
With PYTHONMALLOC=malloc (every object a glibc block) and pymalloc.
Prints "cpython_paths: N passed, M failed".
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally  # noqa: E402
import test_cpython_model as CM  # noqa: E402

PYTHON = CM.PYTHON
T = Tally("cpython_paths")
report = T.report

PROG = r"""
import gc, os, signal, sys

def big(n):
    # A list that outweighs every other child of its holder.
    return [i * 1000 + 7000000 + n for i in range(40 + n)]

class Point:
    def __init__(self, x):
        self.x = x
        self.label = "pt"

class Pair:
    __slots__ = ("first", "second")

class Triple(Pair):
    __slots__ = ("third",)

by_key = {"alpha": big(1), "b\u00e9ta": big(2), "\u65e5\u672c": big(3),
          "\U0001f600e": big(4)}
key_tuple = (1, 2)
by_other = {77: big(5), 1 << 40: big(6), key_tuple: big(7)}
in_list = [None, 5, big(8)]
in_tuple = (5, big(9))
in_set = {tuple(big(10))}
pt = Point(big(11))
pair = Pair()
pair.first = 3
pair.second = big(12)
triple = Triple()
triple.third = big(13)
g_direct = big(16)
pd = Point(big(17))
pd.__dict__             # made: a split dict, its values the instance's
pc = Point(0)
pc.__dict__ = {"x": big(18)}   # a dict of its own (combined)
# Keys held by their dict alone: a str made at run time (not interned,
# in no code object's constants) and a tuple.
by_made = {"".join(["gam", "ma"]): 1, tuple(big(19)): 2}

def key_name(k):
    if type(k) is str or (type(k) is int and abs(k) < (1 << 30)):
        return "[%r]" % (k,)
    return "[<%s at 0x%x>]" % (type(k).__name__, id(k))

def cases():
    # (root, the edge's name, how to fetch the target): fetched in
    # facts(), so that no generator or tuple of these holds a target.
    # A dict's keys themselves: [key 'gamma'], [key <tuple at 0x...>]
    # (the str is too small to be among sizeof-deep's largest paths);
    # first, so that the C stack's stale words of their fetching (a
    # pointer to the dict, a shorter chain than __main__'s) are
    # overwritten by the cases after them.
    for n, k in enumerate(by_made):
        # (fetched by position: a closure or default holding the key
        # would be one more referrer)
        yield ("by_made", "[key %s]" % key_name(k)[1:-1],
               lambda n=n: list(by_made)[n], None, None,
               None if type(k) is str else False)
    for root in ("by_key", "by_other"):
        for k in globals()[root]:
            yield root, key_name(k), (lambda r=root, k=k: globals()[r][k])
    yield "in_list", "[2]", lambda: in_list[2]
    yield "in_tuple", "[1]", lambda: in_tuple[1]
    member = next(iter(in_set))
    yield "in_set", "{<tuple at 0x%x>}" % id(member), \
        lambda: next(iter(in_set))
    yield "pt", ".x", lambda: pt.x
    yield "pair", ".second", lambda: pair.second
    yield "triple", ".third", lambda: triple.third
    # A module's global, a made __dict__'s value (split, combined): the
    # dict holds it (named as a dict names it), path-to names it as
    # Python writes it (__main__.g_direct, __main__.pd.x).
    yield ("g_direct", "['g_direct']", lambda: g_direct,
           id(globals()), "__main__.g_direct", None)
    for r in ("pd", "pc"):
        inst = globals()[r]
        yield (r, "['x']", lambda inst=inst: inst.x, id(inst.__dict__),
               "__main__.%s.x" % r, (id(inst), ".x"))

def evaluates(path, t):
    # CPython's word that path names t (None: not Python, as
    # [<int at 0x...>]).
    try:
        return eval(path, {"__main__": sys.modules["__main__"]}) is t
    except SyntaxError:
        return None

def graphed(root, name, holder):
    # graph's edge into the target: from what object, its label, and
    # of what object the label is said (a module for its global, an
    # instance for its attribute, a container for its item).
    if root == "g_direct":
        m = id(sys.modules["__main__"])
        return m, "." + root, m
    if holder != id(globals()[root]):
        return id(globals()[root]), ".x", id(globals()[root])
    return holder, name, holder

def facts(root, name, fetch, holder=None, path=None, top=False):
    t = fetch()
    holder = id(globals()[root]) if holder is None else holder
    path = "__main__.%s%s" % (root, name) if path is None else path
    top = (holder, name) if top is False else top
    return json.dumps({"root": root, "holder": holder, "target": id(t),
                       "name": name, "path": path, "top": top,
                       "evaluates": evaluates(path, t),
                       "tracked": gc.is_tracked(t),
                       "graph": graphed(root, name, holder),
                       "classes": classes(t),
                       "referrers": referrers(t)}) + "\n"

def stop():
    os.kill(os.getpid(), signal.SIGSTOP)

def referrers(t):
    return sorted(id(r) for r in gc.get_referrers(t))

def classes(t):
    return {"0x%x" % id(r): type(r).__name__ for r in gc.get_referrers(t)}

def hold(lines):
    # A frame's local: its holder is the frame (no object: no
    # referrer for gc.get_referrers), named function:local.
    kept = big(14)
    lines.append(json.dumps({"root": None, "holder": None,
                             "target": id(kept), "name": "hold:kept",
                             "referrers": referrers(kept)}) + "\n")
    with open(sys.argv[1], "w") as f:
        f.writelines(lines)
    stop()

def worker(lines, ready, go):
    # A local of a function in a thread but the first: the frames of
    # every thread are read.
    kept = big(15)
    lines.append(json.dumps({"root": None, "holder": None,
                             "target": id(kept), "name": "worker:kept",
                             "referrers": referrers(kept)}) + "\n")
    ready.set()
    go.wait()

gc.disable()
lines = [facts(*c) for c in list(cases())]
ready, go = threading.Event(), threading.Event()
threading.Thread(target=worker, args=(lines, ready, go),
                 daemon=True).start()
ready.wait()
hold(lines)
""".replace("import gc, os", "import gc, json, os, threading")


def make_core(tmp, allocator):
    core, facts = CM.python_core(tmp, allocator, PROG, "paths")
    if not core:
        return None, None
    with open(facts) as f:
        return core, [json.loads(line) for line in f]


def check_referrers(c, d):
    """referrers' model edges against gc.get_referrers."""
    edges = [r["model"] for r in d["referrers"]
             if r.get("model") and r["model"]["edge"] and
             r["model"]["object"]]
    got = sorted({int(e["object"], 16) for e in edges})
    problems = []
    if got != c["referrers"]:
        problems.append("holders %s, gc.get_referrers says %s"
                        % ([hex(x) for x in got],
                           [hex(x) for x in c["referrers"]]))
    names = [e["name"] for e in edges if int(e["object"], 16) ==
             c["holder"]]
    if c["holder"] is None:
        names = [r["model"]["name"] for r in d["referrers"]
                 if r.get("model") and r["model"]["edge"] and
                 r["model"]["name"]]
    if names != [c["name"]]:
        problems.append("named %s by its holder, CPython: %s"
                        % (names, c["name"]))
    # Each holder by its class, as CPython names it.
    typed = {int(e["object"], 16): e["type"] for e in edges}
    want = {int(a, 16): t for a, t in c.get("classes", {}).items()}
    if c.get("classes") is not None and typed != want:
        problems.append("holders' classes %s, CPython: %s"
                        % (sorted(typed.values()), sorted(want.values())))
    gc_links = [r for r in d["referrers"] if r.get("model") and
                not r["model"]["edge"]]
    if not gc_links and c.get("tracked", True):
        problems.append("no word was left out as no edge (the GC's "
                        "links point into every tracked object)")
    return problems


def check_path(c, d):
    chain = d.get("chain") or []
    last = chain[-1]["expression"] if chain else None
    if not d.get("found") or not last:
        return ["no named path: %s" % chain[-1:]]
    if c["root"] is None:
        return [] if last == c["name"] else [
            "held by %r, not the frame's local %r" % (last, c["name"])]
    if c["evaluates"] is False:
        return ["CPython: %r is not the target" % c["path"]]
    if last != c["path"]:
        return ["held by %r, CPython: %r" % (last, c["path"])]
    return []


def check_largest(c, d):
    want = "(PyObject *)0x%x%s" % tuple(c["top"])
    paths = [p["path"] for p in d.get("largest", [])
             if int(p["address"], 16) == c["target"]]
    return [] if paths == [want] else ["largest paths name it %s, want %s"
                                       % (paths, want)]


def check_graph(c, d):
    """graph's edge into the target: labelled as Python names it, said
    of the object CPython says (graphed() in PROG)."""
    nodes = {n["id"]: n for n in d.get("nodes", [])}
    at = [i for i, n in nodes.items() if n["address"] and
          int(n["address"], 16) == c["target"]]
    into = [e for e in d.get("edges", []) if at and e["to"] == at[0]]
    _, label, of = c["graph"]
    if not into:
        return ["no edge into the target"]
    e = into[0]
    said = nodes[e["of"]]["address"]
    if e["field"] != label or not said or int(said, 16) != of:
        return ["edge %r of %s, CPython: %r of 0x%x"
                % (e["field"], said, label, of)]
    return []


def check_core(tmp, allocator):
    core, cases = make_core(tmp, allocator)
    if not core:
        report("%s: python3.11-dbg stopped itself and was cored"
               % allocator, ["no core"])
        return
    cmds = []
    for c in cases:
        cmds += ["referrers (PyObject *)0x%x --json" % c["target"],
                 "path-to (PyObject *)0x%x --json" % c["target"],
                 "sizeof-deep (PyObject *)0x%x --json" %
                 (c["top"][0] if c.get("top") else c["target"]),
                 "graph (PyObject *)0x%x --json --max-depth 5"
                 % (c["graph"][0] if c.get("graph") else c["target"])]
    runs = R.three(["--core", core, "--exe", PYTHON],
                   ["file " + PYTHON, "core " + core],
                   {"MV_EXE": PYTHON, "MV_CORE": core}, cmds)
    checks = (("referrers = gc.get_referrers, edges named",
               check_referrers),
              ("path-to ends at the holder, named", check_path),
              ("sizeof-deep's largest paths named", check_largest),
              ("graph's edge labelled so", check_graph))
    for i, c in enumerate(cases):
        for k, (what, check) in enumerate(checks):
            if (not c.get("top") and check is check_largest) or \
               (not c.get("graph") and check is check_graph):
                continue
            values, problems = R.parse_json_outputs(runs, 4 * i + k)
            for front, d in values.items():
                problems += ["%s: %s" % (front, p) for p in check(c, d)]
            for v in values.values():
                v.pop("expression", None)
            problems += R.identical(values)
            report("%s: %s %s: %s (cli/gdb/lldb)"
                   % (allocator, c["root"], c["name"], what), problems)
    # Without the model, path-to answers through the GC's list links
    # and names no Python edge.
    c = cases[0]
    rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe", PYTHON,
                          "path-to", "(PyObject *)0x%x" % c["target"],
                          "--types", "", "--json"])
    d = json.loads(out) if rc == 0 else {}
    last = (d.get("chain") or [{}])[-1].get("expression") or ""
    report("%s: without the model path-to does not name the edge"
           % allocator,
           [] if rc == 0 and not last.endswith(c["name"])
           else ["%s %r %s" % (rc, last, err)])


def main():
    if not os.path.exists(PYTHON):
        print("cpython_paths: needs %s: apt-get install python3.11-dbg"
              % PYTHON)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        check_core(tmp, "malloc")
        check_core(tmp, "pymalloc")
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
