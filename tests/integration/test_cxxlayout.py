"""C++ class layouts in the three front ends, on the cxxlayout fixture.

Usage: BUILD=build python3 tests/integration/test_cxxlayout.py

Single, multiple, virtual (diamond) and empty bases, polymorphic classes,
[[no_unique_address]] and a static member.  The answer key is the
fixture's own facts (sizeof, member and base offsets measured on live
objects, where the virtual base really lies in the most-derived object,
the vptrs it holds), pahole's layouts where pahole 1.24 prints the
member or base at a real offset (it prints virtual bases at 4294967295),
gdb's type of a vptr (str(gdb.Value.type)) and nm's address of each
vtable.  The CLI, gdb and lldb must print identical JSON and text.
Prints one line per case and "cxxlayout: N passed, M failed".
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402  (the front ends and their environment)
import test_cxxnames as N  # noqa: E402  (run_all over a chosen core)
from mvcheck import Tally, missing  # noqa: E402
from mvfacts import read_facts  # noqa: E402

EXE = os.path.join(R.BUILD, "fixtures", "cxxlayout")
CORE = os.path.join(R.BUILD, "cores", "cxxlayout.core")
FACTS = os.path.join(R.BUILD, "cores", "cxxlayout.facts")
FRONTS = ("cli", "gdb", "lldb")
CLASSES = ("Empty", "Base", "Derived", "Poly", "PolyDerived", "Multi",
           "EmptyBase", "VB", "V1", "V2", "Diamond", "NoUnique", "Link")

T = Tally("cxxlayout", most=None)
report = T.report


def run_all(commands):
    N.EXE, N.CORE = EXE, CORE
    return N.run_all(commands)


def outputs(records, index, as_json=True):
    """({front: value}, problems), the fronts' outputs all alike."""
    values, problems = {}, []
    for front in FRONTS:
        if as_json:
            value, problem = N.json_of(records, front, index)
        elif records[front] is None:
            value, problem = None, "%s did not run" % front
        else:
            value, problem = records[front][index]["output"], None
        if problem:
            problems.append(problem)
        else:
            values[front] = value
    for front, value in values.items():
        if value != values.get("cli"):
            problems.append("%s differs from cli: %.300s" % (front, value))
    return values, problems


def pahole(name):
    """[(key, offset)] pahole prints for a class: a data member by its
    name, a base by "struct B"; those at no real offset left out."""
    p = subprocess.run(["pahole", "-C", name, EXE], capture_output=True,
                       text=True, timeout=60)
    found = []
    for line in p.stdout.splitlines():
        m = re.match(r"\t/\* (struct \w+)\s+<ancestor>; \*/\s+"
                     r"/\*\s+(\d+)\s+\d+ \*/", line)
        if not m and not re.match(r"\t(static|extern) ", line):
            # (pahole prints a static member at offset 0: not in the
            # object, as its "static members: 1" says.)
            m = re.match(r"\t[^\t/].*?[ *]([\w.$]+);\s+/\*\s+(\d+)\s+\d+ \*/",
                         line)
        if m and int(m.group(2)) < 1 << 31:
            found.append((m.group(1), int(m.group(2))))
    return found


def keyed(layout):
    """{key: member} of memview's layout, keys as pahole()'s."""
    return {(m["name"] or m["type"]): m for m in layout["members"]}


def check_class(name, layout, facts):
    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append("%s: memview %r, expected %r" % (what, got, want))
    expect("size", layout["size"], int(facts["sizeof " + name]))
    # pahole's check: every byte is a member, a hole or padding.
    expect("sum members + holes + padding",
           layout["sum_members"] + layout["sum_holes"] + layout["padding"],
           layout["size"])
    members = keyed(layout)
    for key, offset in pahole(name):
        got = members.get(key)
        expect("pahole's %s offset" % key, got and got["offset"], offset)
    for fact, value in facts.items():
        kind, _, path = fact.partition(" ")
        cls, _, field = path.partition(".")
        if cls != name or kind not in ("off", "base"):
            continue
        key = field if kind == "off" else "struct " + field
        got = members.get(key)
        if got is None:
            continue  # a member of a base: in the base's own layout
        if got.get("base") == "virtual" and name not in vtables():
            # No object, no vtable of the class (the compiler made none:
            # no complete object of it exists): not at a fixed offset.
            expect(fact + " (virtual, no vtable)", got["offset"], None)
        else:
            # A complete object of the class has it where its vtable
            # says, the same in every object: the fixture's object.
            expect(fact, got["offset"], int(value))
    for m in layout["members"]:
        # (V2 has no object to measure: g++ makes no vtable for it,
        # clang does, and places VB by it.)
        if m.get("base") == "direct" and m["offset"] is not None:
            key = "base %s.%s" % (name, m["type"].split()[-1])
            if key not in facts:
                problems.append("base %s not in the facts" % m["type"])
    expect("static member left out", "s_count" in members, False)
    return problems


def test_classes(facts):
    records = run_all([("layout", [c, "--json"]) for c in CLASSES])
    for i, name in enumerate(CLASSES):
        values, problems = outputs(records, i)
        if "cli" in values:
            problems += check_class(name, values["cli"], facts)
        report("layout %s (facts, pahole, cli = gdb = lldb)" % name,
               problems)


def gdb_vptr_type():
    """gdb's own spelling of the vptr's type."""
    p = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex",
         "python print(gdb.parse_and_eval('g_v1')['%s'].type)" %
         vptr_name("V1"), EXE],
        capture_output=True, text=True, timeout=60, env=R.ENV)
    return p.stdout.strip()


def vptr_name(cls):
    """The compiler's name for a class's vptr member."""
    return ("_vptr$" if EXE.endswith("_clang") else "_vptr.") + cls


def vptr_of(value):
    """The vptr in a base's value, whatever the compiler named it."""
    for key, v in (value or {}).items():
        if key.startswith("_vptr"):
            return v
    return None


def vtables():
    """{class: address of its vtable} from nm (unrelocated)."""
    p = subprocess.run(["nm", EXE], capture_output=True, text=True,
                       timeout=60)
    found = {}
    for line in p.stdout.splitlines():
        m = re.match(r"([0-9a-f]+) [Vv] _ZTV(\d+)(\w+)$", line)
        if m and len(m.group(3)) == int(m.group(2)):
            found[m.group(3)] = int(m.group(1), 16)
        m = re.match(r"([0-9a-f]+) [BbDd] (g_\w+)$", line)
        if m:
            found[m.group(2)] = int(m.group(1), 16)
    return found


def test_objects(facts):
    """Layouts of objects on the core: the virtual base where the object
    has it, vptrs as pointers into 'vtable for X'."""
    records = run_all([("layout", ["g_diamond", "--json"]),
                       ("layout", ["g_v1", "--json"]),
                       ("layout", ["g_diamond"]),
                       ("layout", ["g_polyderived"]),
                       ("layout", ["V1", "--json"])])
    syms = vtables()
    bias = int(facts["addr g_diamond"], 16) - syms["g_diamond"]

    values, problems = outputs(records, 0)
    if "cli" in values:
        d = keyed(values["cli"])
        for base in ("V1", "V2", "VB"):
            m = d.get("struct " + base)
            if not m:
                problems.append("no base %s" % base)
                continue
            if m["offset"] != int(facts["base Diamond." + base]):
                problems.append("%s at %r, the object has it at %s" %
                                (base, m["offset"],
                                 facts["base Diamond." + base]))
        vptr1 = vptr_of(d.get("struct V1", {}).get("value"))
        vptr2 = vptr_of(d.get("struct V2", {}).get("value"))
        if vptr1 is None or int(vptr1, 16) != int(facts["vptr g_diamond"],
                                                   16):
            problems.append("V1's vptr %r, the object's %s" %
                            (vptr1, facts["vptr g_diamond"]))
        if vptr2 is None or int(vptr2, 16) != int(
                facts["vptr g_diamond.V2"], 16):
            problems.append("V2's vptr %r, the object's %s" %
                            (vptr2, facts["vptr g_diamond.V2"]))
        vb = d.get("struct VB", {}).get("value") or {}
        if vb.get("vb") != 9:
            problems.append("VB's vb %r, the fixture stored 9" % vb)
        if d.get("dd", {}).get("value") != 12:
            problems.append("dd %r, the fixture stored 12" % d.get("dd"))
        # VB once, not inside V1 and V2 again.
        text = str(values["cli"])
        if text.count("'vb'") != 1:
            problems.append("VB's vb shown %d times" % text.count("'vb'"))
        layout = values["cli"]
        if (layout["sum_members"] + layout["sum_holes"] + layout["padding"]
                != layout["size"]):
            problems.append("sums do not add up to the size")
    report("layout g_diamond: virtual base from the vtable (facts)",
           problems)

    values, problems = outputs(records, 1)
    if "cli" in values:
        m = keyed(values["cli"]).get("struct VB")
        if not m or m["offset"] != int(facts["base V1.VB"]):
            problems.append("VB at %r, the object has it at %s" %
                            (m and m["offset"], facts["base V1.VB"]))
        holes = values["cli"]["holes"]
        want = int(facts["base V1.VB"]) - int(facts["off V1.v1"]) - 4
        if [h.get("size") for h in holes] != ([want] if want else []):
            problems.append("holes %r, the object has %d bytes between "
                            "v1 and VB" % (holes, want))
    report("layout g_v1: its virtual base and the hole before it (facts)",
           problems)

    values, problems = outputs(records, 2, as_json=False)
    if "cli" in values:
        text = values["cli"]
        off = int(facts["vptr g_diamond"], 16) - bias - syms["Diamond"]
        want = "<vtable for Diamond+%d>" % off
        if want not in text:
            problems.append("no %r in:\n%s" % (want, text))
        if "/* struct V1 <ancestor>; */" not in text:
            problems.append("V1 not shown as pahole's <ancestor>")
        if "/* struct VB <virtual ancestor>; */" not in text:
            problems.append("VB not shown as a virtual ancestor")
        if not text.splitlines()[1].startswith("struct Diamond : V1, V2 {"):
            problems.append("header: %r" % text.splitlines()[1])
    report("layout g_diamond (text): vtable for Diamond (nm), ancestors",
           problems)

    values, problems = outputs(records, 3, as_json=False)
    if "cli" in values:
        text = values["cli"]
        off = int(facts["vptr g_polyderived"], 16) - bias - \
            syms["PolyDerived"]
        want = "%s = 0x%x <vtable for PolyDerived+%d>" % (
            vptr_name("Poly"), int(facts["vptr g_polyderived"], 16), off)
        if want not in text:
            problems.append("no %r in:\n%s" % (want, text))
    report("layout g_polyderived (text): the vptr into its vtable (nm)",
           problems)

    values, problems = outputs(records, 4)
    if "cli" in values:
        vptr = keyed(values["cli"]).get(vptr_name("V1"))
        want = gdb_vptr_type()
        if not vptr or vptr["type"] != want:
            problems.append("vptr type %r, gdb's %r" %
                            (vptr and vptr["type"], want))
    report("layout V1: the vptr typed as gdb types it", problems)


def test_empty_sharing(facts):
    """sizeof-deep through a pointer that shares its offset with an empty
    base and a [[no_unique_address]] member: the fixture's own blocks
    (count, malloc_usable_size), sizeof(Link) + sizeof(Item) in type
    bytes, the same in the CLI, gdb and lldb; path-to names the pointer
    as the program does."""
    roots = ["g_link", "*g_link_heap"]
    cmds = [("sizeof-deep", [r, "--json"]) for r in roots]
    cmds.append(("path-to", [facts["holder g_link.next"], "--json"]))
    records = run_all(cmds)
    item, link = int(facts["sizeof Item"]), int(facts["sizeof Link"])
    for i, root in enumerate(roots):
        values, problems = outputs(records, i)
        d = values.get("cli")
        key = "deep %s." % root.lstrip("*")
        if d:
            want = {"heap objects": int(facts[key + "objects"]),
                    "usable": int(facts[key + "usable"]),
                    # The Link (global or heap) and its Item.
                    "type bytes": link + item}
            got = {"heap objects": d["heap"]["objects"],
                   "usable": d["heap"]["usable_bytes"],
                   "type bytes": d["deep_size"]}
            problems += ["%s: memview %r, fixture %r" % (k, got[k], want[k])
                         for k in want if got[k] != want[k]]
        report("sizeof-deep %s through empty members (facts, cli = gdb "
               "= lldb)" % root, problems)
    values, problems = outputs(records, len(roots))
    d = values.get("cli")
    chain = [c["expression"] for c in d["chain"]] if d else []
    if d and chain[-1:] != ["g_link.next"]:
        problems.append("chain %s" % chain)
    report("path-to names g_link.next past the empty members", problems)


def variant(name):
    """Points the tests at one build of the fixture."""
    global EXE, CORE, FACTS
    EXE = os.path.join(R.BUILD, "fixtures", name)
    CORE = os.path.join(R.BUILD, "cores", name + ".core")
    FACTS = os.path.join(R.BUILD, "cores", name + ".facts")
    T.prefix = "" if name == "cxxlayout" else "(clang) "


def main():
    # g++'s DWARF 5, and clang's (DW_FORM_addrx, DW_OP_addrx, _vptr$X).
    for name in ("cxxlayout", "cxxlayout_clang"):
        variant(name)
        if missing("cxxlayout", (R.MEMVIEW, EXE, CORE, FACTS)):
            return 1
        facts = read_facts(FACTS)
        for test in (test_classes, test_objects, test_empty_sharing):
            try:
                test(facts)
            except Exception as e:  # a broken test is a failed case
                report(test.__name__, ["exception: %r" % e])
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
