"""C++ names in the three front ends, on the cxxnames fixture's core.

Usage: BUILD=build python3 tests/integration/test_cxxnames.py

Each type is laid out by every spelling a user, gdb, lldb or g++'s DWARF
gives it; each variable is named as C++ names it.  The answer key is
the fixture's own facts (sizeof, offsetof, offsets measured on objects,
addresses, the values it stored), pahole's layouts of the same types
(pahole names them without their namespaces), and gdb's spelling of the
types (str(gdb.Value.type)).  Prints one line per case and
"cxxnames: N passed, M failed".
"""

import json
import os
import re
import shlex
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402  (the front ends and their environment)
from mvcheck import Tally  # noqa: E402
from mvfacts import read_facts  # noqa: E402

EXE = os.path.join(R.BUILD, "fixtures", "cxxnames")
CORE = os.path.join(R.BUILD, "cores", "cxxnames.core")
FACTS = os.path.join(R.BUILD, "cores", "cxxnames.facts")
FRONTS = ("cli", "gdb", "lldb")

T = Tally("cxxnames", most=None)
report = T.report


def run_all(commands):
    """{front end: [record]} for commands given as (name, args) with
    args the text after the command name, as a debugger user types it."""
    cli_cmds = [name + " " + " ".join(shlex.quote(w) for w in args)
                for name, args in commands]
    records = {"cli": R.cli(["--core", CORE, "--exe", EXE], cli_cmds)[0]}
    named = [R.debugger_name(name + " " + " ".join(args))
             for name, args in commands]
    gdb, _ = R.gdb(["file " + EXE, "core " + CORE], named)
    lldb, _ = R.lldb({"MV_EXE": EXE, "MV_CORE": CORE}, named)
    records["gdb"] = gdb["cases"] if gdb else None
    records["lldb"] = lldb["cases"] if lldb else None
    return records


def json_of(records, front, index):
    """(value, problem): the JSON output of one case."""
    if records[front] is None:
        return None, "%s did not run" % front
    record = records[front][index]
    if not record["succeeded"]:
        return None, "%s: %s: %s" % (front, record["command"],
                                     (record["error"] or "").strip())
    try:
        return json.loads(record["output"]), None
    except ValueError:
        return None, "%s: not JSON: %r" % (front, record["output"][:200])


def pahole(name):
    """{member: offset} and size of a type as pahole lays it out."""
    p = subprocess.run(["pahole", "-C", name, EXE], capture_output=True,
                       text=True, timeout=60)
    members, size = {}, None
    for line in p.stdout.splitlines():
        # Members of the type itself: one tab in (nested definitions
        # that pahole prints inline are further in).
        m = re.match(r"\t[^\t].*?[ *](\w+)(\[\d+\])*;\s+"
                     r"/\*\s+(\d+)\s+(\d+) \*/", line)
        if m:
            members[m.group(1)] = int(m.group(3))
        m = re.search(r"/\* size: (\d+)", line)
        if m:
            size = int(m.group(1))
    return members, size


def gdb_type_names(exprs):
    """gdb's own spelling of each expression's type."""
    script = "\n".join("print(str(gdb.parse_and_eval(%r).type))" % e
                       for e in exprs)
    p = subprocess.run(["gdb", "-nx", "-batch", "-q",
                        "-ex", "set debuginfod enabled off",
                        "-ex", "python\n" + script + "\nend", EXE],
                       capture_output=True, text=True, timeout=60,
                       env=R.ENV)
    return p.stdout.splitlines()[-len(exprs):]


# Type spellings: (spellings, sizeof fact, {member: offsetof fact},
# pahole's name or None).
TYPES = [
    (["ns::Foo<int>", "struct ns::Foo<int>", "class ns::Foo<int>",
      "ns::Foo< int >"],
     "sizeof ns::Foo<int>",
     {"a": "offsetof ns::Foo<int>.a", "b": "offsetof ns::Foo<int>.b",
      "p": "offsetof ns::Foo<int>.p"}, "Foo<int>"),
    (["ns::Foo<ns::Foo<int> >", "ns::Foo<ns::Foo<int>>"],
     "sizeof ns::Foo<ns::Foo<int> >",
     {"b": "offsetof ns::Foo<ns::Foo<int> >.b"}, "Foo<ns::Foo<int> >"),
    (["ns::inner::Bar", "struct ns::inner::Bar"], "sizeof ns::inner::Bar",
     {"x": "offsetof ns::inner::Bar.x", "y": "offsetof ns::inner::Bar.y",
      "n": "offsetof ns::inner::Bar.n"}, "Bar"),
    (["ns::inner::Bar::Nested", "ns::inner::Bar::nested_t"],
     "sizeof ns::inner::Bar::Nested",
     {"l": "offsetof ns::inner::Bar::Nested.l"}, "Nested"),
    (["Arr<5>", "struct Arr<5>"], "sizeof Arr<5>",
     {"tag": "offsetof Arr<5>.tag"}, "Arr<5>"),
    (["(anonymous namespace)::Hidden", "Hidden"], "sizeof Hidden",
     {"c": "offsetof Hidden.c"}, "Hidden"),
    (["Klass", "class Klass"], "sizeof Klass",
     {"k": "offsetof Klass.k", "name": "offsetof Klass.name"}, None),
    (["std::vector<int, std::allocator<int> >",
      "std::vector<int, std::allocator<> >", "std::vector<int>"],
     "sizeof std::vector<int>", {}, None),
    (["std::map<int, std::string>"], "sizeof std::map<int, std::string>",
     {}, None),
    (["std::string",
      "std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char> >", "std::basic_string<char>"],
     "sizeof std::string", {}, None),
]

VARIABLES = [
    ("ns::g_var", "addr ns::g_var"),
    ("ns::g_fooint", "addr ns::g_fooint"),
    ("ns::g_foofoo", "addr ns::g_foofoo"),
    ("ns::Foo<int>::count", "addr ns::Foo<int>::count"),
    ("ns::inner::Bar::s_total", "addr ns::inner::Bar::s_total"),
    ("g_hidden", "addr g_hidden"),
    ("(anonymous namespace)::g_hidden", "addr g_hidden"),
    ("g_fooint_top", "addr g_fooint_top"),
    ("g_nested", "addr g_nested"),
    ("g_arr5", "addr g_arr5"),
    ("g_vec_int", "addr g_vec_int"),
    ("g_str", "addr g_str"),
    ("g_map", "addr g_map"),
    ("g_klass", "addr g_klass"),
]


def test_types(facts):
    cases = [(spelling, t) for t in TYPES for spelling in t[0]]
    records = run_all([("layout", ["--json", s]) for s, _ in cases])
    pahole_of = {}
    for i, (spelling, (_, size_key, members, pname)) in enumerate(cases):
        problems = []
        if pname and pname not in pahole_of:
            pahole_of[pname] = pahole(pname)
        for front in FRONTS:
            layout, problem = json_of(records, front, i)
            if problem:
                problems.append(problem)
                continue
            if layout["size"] != facts[size_key]:
                problems.append("%s: size %s, want %s" %
                                (front, layout["size"], facts[size_key]))
            got = {m["name"]: m["offset"] for m in layout["members"]}
            for name, key in members.items():
                if got.get(name) != facts[key]:
                    problems.append("%s: %s at %s, want %s" %
                                    (front, name, got.get(name), facts[key]))
            if pname:
                want, want_size = pahole_of[pname]
                if want_size != layout["size"]:
                    problems.append("%s: size %s, pahole says %s" %
                                    (front, layout["size"], want_size))
                for name, offset in want.items():
                    if got.get(name) != offset:
                        problems.append("%s: %s at %s, pahole says %s" %
                                        (front, name, got.get(name), offset))
        report("layout %s" % spelling, problems)


def test_variables(facts):
    records = run_all([("layout", ["--json", v]) for v, _ in VARIABLES])
    for i, (name, key) in enumerate(VARIABLES):
        problems = []
        for front in FRONTS:
            layout, problem = json_of(records, front, i)
            if problem:
                problems.append(problem)
            elif int(layout.get("address") or "0", 16) != facts[key]:
                problems.append("%s: at %s, want 0x%x" %
                                (front, layout.get("address"), facts[key]))
        report("layout %s (variable)" % name, problems)


def test_containers(facts):
    """The names the debuggers hand over for std:: objects: sizeof-deep
    and memview used to fail on them ("no type named 'std'")."""
    names = gdb_type_names(["g_vec_int", "g_map"])
    records = run_all([
        ("sizeof-deep", ["--json", "g_vec_int"]),
        ("view", ["--json", "g_vec_int._M_impl._M_start", "64"]),
        ("sizeof-deep", ["--json", "g_map"]),
        ("sizeof-deep", ["--json", "ns::g_fooint", "--len",
                         "ns::Foo<int>.p=a"]),
        ("gc", ["--json"]),
    ])
    squares = b"".join(struct.pack("<i", i * i) for i in range(16))
    checks = [
        ("sizeof-deep g_vec_int", lambda v: [
            "shallow size %s" % v["shallow_size"]
            for _ in [0] if v["shallow_size"] != facts["sizeof std::vector<int>"]
        ] + ["type %r, gdb says %r" % (v["type"], names[0])
             for _ in [0] if v["type"] != "class " + names[0]]),
        ("memview g_vec_int._M_impl._M_start 64", lambda v: [
            "address %s" % v["address"] for _ in [0]
            if int(v["address"], 16) != facts["value g_vec_int.data"]
        ] + ["bytes %s" % v["bytes"][:40] for _ in [0]
             if bytes.fromhex(v["bytes"]) != squares]),
        ("sizeof-deep g_map", lambda v: [
            "type %r, gdb says %r" % (v["type"], names[1])
            for _ in [0] if v["type"] != "class " + names[1]]),
        # --len names a C++ class: p is read as a (11) ints.
        ("sizeof-deep --len 'ns::Foo<int>.p=a'", lambda v: [
            "deep size %s" % v["deep_size"] for _ in [0]
            if v["deep_size"] != facts["sizeof ns::Foo<int>"] + 11 * 4]),
        # The leaked std::map's candidates, whole despite their commas.
        ("gc candidate types", lambda v: [
            "no candidate %r in %s" % ("class " + names[1],
                                       [g["candidate_types"]
                                        for g in v["groups"]])
            for _ in [0] if not any(
                "class " + names[1] in g["candidate_types"]
                for g in v["groups"] if g["kind"] == "definitely_lost")]),
    ]
    for i, (name, check) in enumerate(checks):
        problems = []
        for front in FRONTS:
            value, problem = json_of(records, front, i)
            problems += [problem] if problem else \
                ["%s: %s" % (front, p) for p in check(value)]
        report(name, problems)


def gdb_symbols(exprs):
    """gdb's name of the symbol at each expression's address."""
    script = "\n".join(
        "print(gdb.execute('info symbol %%d' %% int(gdb.parse_and_eval(%r)),"
        " to_string=True).split(' in section')[0])" % ("&" + e)
        for e in exprs)
    p = subprocess.run(["gdb", "-nx", "-batch", "-q",
                        "-ex", "set debuginfod enabled off",
                        "-ex", "python\n" + script + "\nend", EXE, CORE],
                       capture_output=True, text=True, timeout=60,
                       env=R.ENV)
    return p.stdout.splitlines()[-len(exprs):]


def test_symbols():
    """Addresses are annotated with C++ names, as gdb's info symbol
    names them, not with the mangled ELF symbols."""
    exprs = ["ns::g_fooint", "g_hidden", "ns::inner::Bar::s_total"]
    names = gdb_symbols(exprs)
    records = run_all([("layout", [e]) for e in exprs])
    for i, expr in enumerate(exprs):
        problems = []
        for front in FRONTS:
            record = (records[front] or [None] * len(exprs))[i]
            if record is None or not record["succeeded"]:
                problems.append("%s: failed" % front)
            elif "<%s>" % names[i] not in record["output"].split("\n")[0]:
                problems.append("%s: %r has no <%s>" % (
                    front, record["output"].split("\n")[0], names[i]))
        report("layout %s names its symbol %s" % (expr, names[i]), problems)


def main():
    for path in (EXE, CORE, FACTS):
        if not os.path.exists(path):
            print("cxxnames: %s not built (make all)" % path)
            return 1
    facts = {k: int(v, 0) for k, v in read_facts(FACTS).items()
             if k.startswith(("sizeof", "offsetof", "addr", "value"))}
    test_types(facts)
    test_variables(facts)
    test_containers(facts)
    test_symbols()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
