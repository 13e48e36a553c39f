"""libstdc++ containers in sizeof-deep (issue 15), on the cxxcont fixture.

Usage: BUILD=build python3 tests/integration/test_cxxcont.py

The answer key is the fixture's own: its global operator new/delete
counted the blocks (and their malloc_usable_size) made for each root,
and each container's size().  gdb's libstdc++ pretty printers give the
element counts again ("std::vector of length 10, capacity 16", "std::map
with 50 elements"), independently of the fixture and of memview.  The
CLI, gdb and lldb must agree on the core; the CLI also runs live
(--pid).  Corrupt containers must give a partial answer that counts the
problem.  Prints one line per case and "cxxcont: N passed, M failed".
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally, json_outputs, start_fixture  # noqa: E402
from mvfacts import read_facts  # noqa: E402

# The fixture at -O0 and at -O2 (cxxcont_o2 includes cxxcont.cc).
FIXTURES = ("cxxcont", "cxxcont_o2")
EXE = CORE = FACTS = None


def use(fixture):
    global EXE, CORE, FACTS
    EXE = os.path.join(R.BUILD, "fixtures", fixture)
    CORE = os.path.join(R.BUILD, "cores", fixture + ".core")
    FACTS = os.path.join(R.BUILD, "cores", fixture + ".facts")

ROOTS = ["g_vec_ptr", "g_vec_str", "g_vec_full", "g_vec_node", "g_str_sso",
         "g_str_long", "g_uptr", "g_holder", "g_vec_sp", "g_map", "g_set",
         "g_list", "g_umap", "g_shape", "g_mixin", "g_deque", "g_deque_str",
         "g_flist", "g_sp_new", "g_sp_make", "g_wp_new", "g_wp_make",
         "g_array", "g_opt_on", "g_opt_off", "g_var_vec", "g_var_str",
         "g_fn_heap", "g_fn_local", "g_index"]
# Element counts from memview's by_type: (type name start, bytes per
# element or None to count objects).
ELEMENTS = {
    "g_vec_ptr": ("struct Node *", 8),
    "g_vec_full": ("long int", 8),
    "g_map": ("struct std::_Rb_tree_node<", None),
    "g_set": ("struct std::_Rb_tree_node<", None),
    "g_list": ("struct std::_List_node<", None),
    "g_umap": ("struct std::__detail::_Hash_node<", None),
    "g_deque": ("struct Node *", 8),
    "g_deque_str": ("class std::__cxx11::basic_string<", 32),
    "g_flist": ("struct std::_Fwd_list_node<", None),
    "g_opt_on": ("long int", 8),
    "g_var_vec": ("struct Node *", 8),
}
BAD = ["*g_bad_vec_back", "*g_bad_vec_huge", "*g_bad_map", "*g_bad_deque",
       "*g_bad_flist", "*g_bad_sp"]
# Dynamic types off: the pointed-to object only, as its declared class.
STATIC = [("g_shape", "struct Shape"), ("g_mixin", "struct geo::Mixin")]

T = Tally("cxxcont")
report = T.report


outputs = json_outputs  # the parsed JSON of every record, or a problem


def check_root(root, d, facts, where):
    problems = []
    if isinstance(d, str):
        return [d]
    want = (int(facts["deep %s.objects" % root]),
            int(facts["deep %s.usable" % root]))
    got = (d["heap"]["objects"], d["heap"]["usable_bytes"])
    if got != want:
        problems.append("%s: heap (objects, usable) %s, the fixture "
                        "counted %s" % (where, got, want))
    if d["problems"]["total"]:
        problems.append("%s: problems %s" % (where, d["problems"]))
    for note in d["notes"]:
        if "not understood" in note or "bigger chunks" in note:
            problems.append("%s: note %r" % (where, note))
    # Paths read as C++: no libstdc++ member (._M_impl._M_map of a
    # deque is "g_deque (map)", a shared_ptr's control block
    # "g_sp_new (control block)").
    problems += ["%s: path %s" % (where, row["path"])
                 for row in d["largest"] if "_M_" in row["path"]]
    if root in ELEMENTS:
        stem, size = ELEMENTS[root]
        rows = [t for t in d["by_type"] if t["type"] == stem or
                (stem.endswith("<") and t["type"].startswith(stem))]
        n = sum(t["bytes"] // size if size else t["count"] for t in rows)
        if n != int(facts["deep %s.elements" % root]):
            problems.append("%s: %d elements of %s, size() was %s" %
                            (where, n, stem,
                             facts["deep %s.elements" % root]))
    return problems


def printer_counts():
    """{root: elements} as gdb's libstdc++ pretty printers count them."""
    cmds = []
    for root in ELEMENTS:
        cmds += ["-ex", "print %s" % root]
    p = subprocess.run(["gdb", "-nx", "-batch", "-q", "-ex",
                        "set debuginfod enabled off", EXE, CORE] + cmds,
                       capture_output=True, text=True, timeout=120,
                       env=R.ENV)
    counts = {}
    lines = [ln for ln in p.stdout.splitlines() if re.match(r"\$\d+ = ", ln)]
    for root, line in zip(ELEMENTS, lines):
        m = re.search(r"(?:of length|with) (\d+) elements?", line) or \
            re.search(r"of length (\d+)", line)
        # A list prints its elements only: "[0] = ..., [1] = ...".
        counts[root] = int(m.group(1)) if m else \
            len(re.findall(r"\[\d+\] = ", line)) or None
    return counts


def front_outputs(runs, n):
    """(front, its n outputs or problem strings) for cli, gdb and lldb."""
    for front in ("cli", "gdb", "lldb"):
        data = runs[front]
        records = data if front == "cli" else (data or {}).get("cases")
        yield front, (outputs(records, front) if records else
                      ["%s: no run" % front] * n)


def root_outputs(runs, roots):
    """(front, problems, [(root, its JSON)]) for cli, gdb and lldb, one
    run per root (or expression): a failed run is a problem, not in the
    list."""
    for front, outs in front_outputs(runs, len(roots)):
        problems = [d for d in outs if isinstance(d, str)]
        yield front, problems, [(r, d) for r, d in zip(roots, outs)
                                if not isinstance(d, str)]


def printer_lines(kind):
    """[(expression, address)] of gdb_cxx_elements.py's lines of kind:
    what gdb's libstdc++ printers list in the node containers."""
    script = os.path.join(os.path.dirname(__file__), "gdb_cxx_elements.py")
    p = subprocess.run(["gdb", "-nx", "-batch", "-q", "-ex",
                        "set debuginfod enabled off", EXE, CORE, "-x",
                        script], capture_output=True, text=True,
                       timeout=120, env=R.ENV)
    return [(f[1], f[2]) for f in map(str.split, p.stdout.splitlines())
            if len(f) == 3 and f[0] == kind]


def printer_elements():
    """[(expression, block address)]: up to 4 elements of each node
    container, as gdb's libstdc++ printers list them."""
    per = {}
    for expr, addr in printer_lines("ELEMENT"):
        per.setdefault(expr.split("[")[0], []).append((expr, addr))
    got = []
    for elems in per.values():
        # The first, the last and two between.
        picks = sorted({0, len(elems) // 3, 2 * len(elems) // 3,
                        len(elems) - 1})
        got += [elems[i] for i in picks]
    return got


def start(tmp):
    proc, factsf = start_fixture(EXE, R.ENV, tmp, "cxxcont",
                                 stderr=subprocess.DEVNULL)
    return proc, read_facts(factsf) if proc else None


def main():
    for fixture in FIXTURES:
        use(fixture)
        T.prefix = fixture + ": "
        run_fixture()
    return T.summary()


def run_fixture():
    facts = read_facts(FACTS)
    commands = ["sizeof-deep %s --json" % r for r in ROOTS + BAD] + \
        ["sizeof-deep %s --static-types --json" % r for r, _ in STATIC]
    runs = R.core_runs(commands, core=CORE, exe=EXE)
    per_front = {}
    for front in ("cli", "gdb", "lldb"):
        data = runs[front]
        records = data if front == "cli" else (data or {}).get("cases")
        if records is None:
            report("%s ran" % front, ["%s did not run" % front])
            continue
        per_front[front] = outputs(records, front)

    # Each root in each front end against the fixture's counts.
    for i, root in enumerate(ROOTS):
        problems = []
        for front, outs in per_front.items():
            problems += check_root(root, outs[i], facts, front)
        report("sizeof-deep %s (core, cli/gdb/lldb)" % root, problems)

    # The three front ends agree (whole JSON but the expression's text).
    for i, cmd in enumerate(commands):
        seen = {}
        for front, outs in per_front.items():
            d = outs[i]
            if isinstance(d, dict):
                d = dict(d)
                d.pop("expression", None)
                seen[front] = json.dumps(d, sort_keys=True)
        same = len(set(seen.values())) <= 1 and len(seen) == 3
        report("%s: cli = gdb = lldb" % cmd,
               [] if same else ["front ends differ: %s" % sorted(seen)])

    # Corrupt containers: a bounded, partial answer counting the problem.
    for j, root in enumerate(BAD):
        i = len(ROOTS) + j
        problems = []
        for front, outs in per_front.items():
            d = outs[i]
            if isinstance(d, str):
                problems.append(d)
            elif d["problems"].get("bad_container", 0) < 1:
                problems.append("%s: problems %s" % (front, d["problems"]))
            elif root == "*g_bad_map" and \
                    d["heap"]["objects"] != int(facts["bad_map nodes"]) + 1:
                problems.append("%s: %d heap objects for a map of %s "
                                "nodes" % (front, d["heap"]["objects"],
                                           facts["bad_map nodes"]))
        report("corrupt %s: bad_container counted" % root, problems)

    # --static-types: the declared class, one block, no dynamic note.
    for j, (root, cls) in enumerate(STATIC):
        i = len(ROOTS) + len(BAD) + j
        problems = []
        for front, outs in per_front.items():
            d = outs[i]
            if isinstance(d, str):
                problems.append(d)
                continue
            types = [t["type"] for t in d["by_type"]]
            if d["heap"]["objects"] != 1 or cls not in types or \
                    any("vtable" in n for n in d["notes"]):
                problems.append("%s: %d heap objects, types %s, notes %s"
                                % (front, d["heap"]["objects"], types,
                                   d["notes"]))
        report("sizeof-deep %s --static-types: %s only" % (root, cls),
               problems)

    # gc: the leaked polymorphic object's class, from its vtable.
    gc_runs = R.core_runs(["gc --json"], core=CORE, exe=EXE)
    problems = []
    for front in ("cli", "gdb", "lldb"):
        data = gc_runs[front]
        records = data if front == "cli" else (data or {}).get("cases")
        d = outputs(records, front)[0] if records else "%s: no run" % front
        if isinstance(d, str):
            problems.append(d)
            continue
        lost = [g for g in d["groups"] if g["kind"] == "definitely_lost"]
        if len(lost) != 1 or lost[0]["blocks"] != 1 or \
                lost[0]["candidate_types"][:1] != ["struct Leaked"]:
            problems.append("%s: definitely lost groups %s" % (front, lost))
    report("gc names the leaked Leaked by its vtable (cli/gdb/lldb)",
           problems)

    # path-to names each hop as a C++ programmer writes it: the fixture
    # wrote the address of each block under the expression that holds it.
    holders = sorted((k[len("holder "):], v) for k, v in facts.items()
                     if k.startswith("holder "))
    p_runs = R.core_runs(["path-to %s --json" % a for _, a in holders],
                         core=CORE, exe=EXE)
    for front, problems, per_expr in root_outputs(
            p_runs, [e for e, _ in holders]):
        for expr, d in per_expr:
            got = [c["expression"] for c in d["chain"]]
            if not got or got[-1] != expr:
                problems.append("%s: chain %s" % (expr, got))
        report("path-to names the holders as C++ (%s): %s" %
               (front, ", ".join(e for e, _ in holders)), problems)

    # path-to names an element of a node container as gdb's libstdc++
    # printers show it: "[key] = ..." of a map is g_map[key], "[i] = ..."
    # of a deque or list g_deque[i].  The printers list the elements and
    # the blocks they point to; a few of each container are asked.  A
    # shorter path through stale words (a popped deque slot that still
    # holds a reused block's address) is a chain whose last hop has no
    # expression: allowed, but never a wrong name, and each container
    # must be named at least once.
    wanted = printer_elements()
    p_runs = R.core_runs(["path-to %s --json" % a for _, a in wanted],
                         core=CORE, exe=EXE)
    for front, outs in front_outputs(p_runs, len(wanted)):
        problems, named = [], set()
        for (expr, _), d in zip(wanted, outs):
            if isinstance(d, str):
                problems.append(d)
                continue
            got = [c["expression"] for c in d["chain"]]
            if got and got[-1] == expr:
                named.add(expr.split("[")[0])
            elif not got or got[-1] is not None:
                problems.append("%s: chain %s" % (expr, got))
        problems += ["%s: no element named" % c for c in
                     sorted({e.split("[")[0] for e, _ in wanted} - named)]
        report("path-to names node containers' elements as gdb's printers "
               "(%s): %d elements" % (front, len(wanted)), problems)

    # referrers names a heap holder as path-to names the word: the
    # block of the printers' [7] = ... of g_map is held by "g_map[7]",
    # and each block the fixture wrote under the expression holding it
    # by that expression (cxx_holders plus the printers' elements).
    asked = holders + wanted
    r_runs = R.core_runs(["referrers %s --json" % a for _, a in asked],
                         core=CORE, exe=EXE)
    for front, problems, per_expr in root_outputs(
            r_runs, [e for e, _ in asked]):
        for expr, d in per_expr:
            got = [(r["kind"], r["expression"]) for r in d["referrers"]]
            if not any(e == expr for _, e in got):
                problems.append("%s: referrers %s" % (expr, got))
        report("referrers name heap holders as C++ (%s): %d blocks" %
               (front, len(asked)), problems)

    # sizeof-deep's largest paths name a container's nodes and what its
    # elements point to as the printers do: "g_set[7] (node)" is the
    # node holding the printers' [7], "*g_map[7]" the block of their
    # [7] = "...", "g_deque[40..103] (buffer)" the buffer starting at
    # their [40].
    at = dict(printer_lines("AT"))
    blocks = dict(printer_lines("ELEMENT"))
    roots = sorted({e.split("[")[0] for e in at})
    s_runs = R.core_runs(["sizeof-deep %s --top 40 --json" % r
                          for r in roots], core=CORE, exe=EXE)
    for front, problems, per_root in root_outputs(s_runs, roots):
        seen = 0
        for root, d in per_root:
            for row in d["largest"]:
                path, addr = row["path"], int(row["address"], 16)
                if path.endswith(" (node)"):
                    e = path[:-len(" (node)")]
                    want = at.get(e)
                    # The element lies in the node, after its links.
                    ok = want is not None and \
                        addr < int(want, 16) < addr + 64
                elif path.endswith(" (buffer)"):
                    # A deque's buffer: at its first element.
                    m = re.match(r"(\w+)\[(\d+)\.\.\d+\] \(buffer\)$",
                                 path)
                    e = m and "%s[%s]" % (m.group(1), m.group(2))
                    ok = e in at and int(at[e], 16) == addr
                elif re.match(r"\*%s\[" % root, path):
                    e = path[1:]
                    ok = blocks.get(e) is not None and \
                        int(blocks[e], 16) == addr
                else:
                    continue
                seen += 1
                if not ok:
                    problems.append("%s at 0x%x: printers say %s" %
                                    (path, addr, at.get(e)))
        if not seen:
            problems.append("no path named as an element")
        report("sizeof-deep's paths name elements as gdb's printers "
               "(%s): %d paths" % (front, seen), problems)

    # graph labels the edges through node containers as path-to names
    # the hops, from the same printers' lists: the edge into the node
    # holding their [7] is "g_set[7] (node)", the edge to the block
    # their [7] = ... points to "g_map[7]", a deque's buffer from their
    # [40] "g_deque[40..103] (buffer)".  No edge keeps a libstdc++ link
    # (.left, .next, .nxt) or a node's .value path.
    internal = re.compile(r"^(\.left|\.right|\.next|\.prev|\.nxt)$|"
                          r"^\.value\b|^\[\d+\]$|_M_")
    g_runs = R.core_runs(["graph %s --json" % r for r in roots],
                         core=CORE, exe=EXE)
    for front, problems, per_root in root_outputs(g_runs, roots):
        seen = 0
        for root, d in per_root:
            addr = {n["id"]: int(n["address"], 16) for n in d["nodes"]
                    if n["address"]}
            field = {}
            for e in d["edges"]:
                field.setdefault(e["field"], []).append(addr.get(e["to"]))
                if internal.search(e["field"]):
                    problems.append("%s: edge %s" % (root, e))
            for e, a in at.items():
                if not e.startswith(root + "["):
                    continue
                a = int(a, 16)
                if root.startswith("g_deque"):
                    # A buffer's edge names its first element's index.
                    bufs = [f for f in field if f.startswith(e[:-1] + "..")
                            and f.endswith(" (buffer)")]
                    seen += len(bufs)
                    if bufs and a not in field[bufs[0]]:
                        problems.append("%s: edge to %s, printers say "
                                        "0x%x" % (bufs[0], field[bufs[0]], a))
                    continue
                tos = field.get(e + " (node)", [])
                seen += 1
                if not any(t is not None and t <= a < t + 64 for t in tos):
                    problems.append("%s (node): edges to %s, printers "
                                    "say its element is at 0x%x" %
                                    (e, [hex(t or 0) for t in tos], a))
            for e, b in blocks.items():
                if not e.startswith(root + "["):
                    continue
                if e not in field:
                    problems.append("%s: no edge so named" % e)
                else:
                    seen += 1
                    if int(b, 16) not in field[e]:
                        problems.append("%s: edge to %s, printers say "
                                        "%s" % (e, field[e], b))
        if seen < 50:
            problems.append("only %d edges named as elements" % seen)
        report("graph labels container edges as gdb's printers (%s): %d "
               "edges" % (front, seen), problems)

    # A set's element is the whole pair, a map's only its mapped value:
    # the pointer in each pair of g_pairs is "g_pairs[1].second" as the
    # printers list it, also where it closes no tree edge (two pairs
    # share a Node: the second is met again).
    members = printer_lines("MEMBER")
    m_runs = R.core_runs(["graph g_pairs --json"], core=CORE, exe=EXE)
    for front, problems, per_root in root_outputs(m_runs, ["g_pairs"]):
        for _, d in per_root:
            addr = {n["id"]: n["address"] and int(n["address"], 16)
                    for n in d["nodes"]}
            got = {}
            for e in d["edges"]:
                got.setdefault(e["field"], set()).add(addr.get(e["to"]))
            for expr, a in members:
                if int(a, 16) not in got.get(expr, ()):
                    problems.append("%s: edges so named go to %s, the "
                                    "printers say %s" % (
                                        expr, got.get(expr), a))
        if len(members) != 3:
            problems.append("the printers listed %d pairs, want 3" %
                            len(members))
        report("graph names a set's pairs as the printers (%s): %d "
               "pointers" % (front, len(members)), problems)

    # Every root's graph: no edge label keeps a libstdc++ member.
    a_runs = R.core_runs(["graph %s --json" % r for r in ROOTS],
                         core=CORE, exe=EXE)
    for front, problems, per_root in root_outputs(a_runs, ROOTS):
        for root, d in per_root:
            problems += ["%s: edge %s" % (root, e["field"])
                         for e in d["edges"] if "_M_" in e["field"]]
        report("graph of every root labels edges without libstdc++ "
               "members (%s): %d roots" % (front, len(ROOTS)), problems)

    # shared_ptr control blocks are typed by their class, as gdb names
    # the dynamic type of _M_refcount._M_pi (from the vtable, whose
    # symbol is a template).  make_shared's block while its object
    # lives is typed as the object (g_sp_make), so not asked here.
    sp_roots = ["g_sp_new", "g_wp_new", "g_wp_make"]
    p = subprocess.run(
        ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
         "-ex", "python [print('BLOCK', v, gdb.parse_and_eval(v + "
         "'._M_refcount._M_pi').dynamic_type.target()) for v in %r]"
         % sp_roots, EXE, CORE], capture_output=True, text=True,
        timeout=120, env=R.ENV)
    blocks = dict(ln.split(" ", 2)[1:] for ln in p.stdout.splitlines()
                  if ln.startswith("BLOCK "))
    b_runs = R.core_runs(["sizeof-deep %s --json" % r for r in sp_roots],
                         core=CORE, exe=EXE)
    for front, outs in front_outputs(b_runs, len(sp_roots)):
        problems = []
        for root, d in zip(sp_roots, outs):
            if isinstance(d, str):
                problems.append(d)
                continue
            want = "class " + blocks.get(root, "?")
            types = [t["type"] for t in d["by_type"]]
            if want not in types:
                problems.append("%s: %s not in %s" % (root, want, types))
        report("control blocks typed as gdb's dynamic type (%s): %s" %
               (front, ", ".join(sorted(set(blocks.values())))), problems)

    # gdb's pretty printers count the same elements as the fixture.
    counts = printer_counts()
    problems = ["%s: printer says %s, size() was %s" %
                (r, counts.get(r), facts["deep %s.elements" % r])
                for r in ELEMENTS
                if counts.get(r) != int(facts["deep %s.elements" % r])]
    report("gdb's libstdc++ printers agree on element counts", problems)

    # Live, the CLI.
    with tempfile.TemporaryDirectory() as tmp:
        proc, lf = start(tmp)
        try:
            if lf is None:
                report("live fixture started", ["it did not get ready"])
            else:
                recs, _ = R.cli(["--pid", str(proc.pid)], commands[:len(ROOTS)])
                outs = outputs(recs, "live")
                problems = []
                for i, root in enumerate(ROOTS):
                    problems += check_root(root, outs[i], lf, "live " + root)
                report("sizeof-deep of every root, live (--pid)", problems)
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
