"""C++ written as people write it (issue 15), on the cxxapp fixture (-O2,
threads, classes holding standard containers, polymorphic objects, a
hand-written hash table).

Usage: BUILD=build python3 tests/integration/test_cxxapp.py

The answer key is the fixture's own: its global operator new/delete
counted the blocks (and their malloc_usable_size) made for each root,
and it wrote the addresses of each worker thread's local vector, of the
buffer it owns and of one of its elements.  Every case runs in the CLI,
gdb and lldb on the core, and in the CLI on the live process (--pid).
Prints one line per case and "cxxapp: N passed, M failed".
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally, json_outputs, start_fixture  # noqa: E402
from mvfacts import read_facts  # noqa: E402

EXE = os.path.join(R.BUILD, "fixtures", "cxxapp")
CORE = os.path.join(R.BUILD, "cores", "cxxapp.core")
FACTS = os.path.join(R.BUILD, "cores", "cxxapp.facts")
RULES = os.path.join(R.ROOT, "tests", "fixtures", "cxxapp.types")
WORKERS = 3
# Roots memview walks whole: the fixture's counts exactly.
EXACT = ["g_scene", "g_current", "g_inbox"]

T = Tally("cxxapp")


def report(name, problems):
    T.check(name, not problems, "; ".join(problems[:10]))


def commands(facts):
    """The command lines, and what each answers (a checker below)."""
    table = int(facts["table nbuckets"])
    cmds = [("sizeof-deep %s --json" % r, ("exact", r)) for r in EXACT]
    cmds += [
        ("sizeof-deep g_registry --conservative --json",
         ("exact", "g_registry")),
        # The deque of std::function: each lambda (with the vector it
        # captured) typed from the function's manager.
        ("sizeof-deep g_registry --json", ("exact", "g_registry")),
        ("sizeof-deep g_table --len HashTable.buckets=%d --json" % table,
         ("exact", "g_table")),
        ("sizeof-deep g_table --json", ("custom", "g_table")),
        ("sizeof-deep g_jobs --types %s --json" % RULES, ("exact", "g_jobs")),
        ("sizeof-deep g_jobs --json", ("intrusive", "g_jobs")),
    ]
    for w in range(WORKERS):
        cmds += [
            ("referrers %s --json" % facts["local worker%d.buf" % w],
             ("local", w)),
            ("referrers %s --json" % facts["local worker%d.elem" % w],
             ("element", w)),
            ("path-to %s --json" % facts["local worker%d.buf" % w],
             ("path", w)),
        ]
    cmds += [("cycles g_registry --json", ("nocycle", None)),
             # The Inbox's list is its first member: its last node's
             # link to the list is one to the Inbox's own block.
             ("cycles g_inbox --json", ("nocycle", None)),
             ("cycles g_peers --json", ("peers", None)),
             ("graph g_registry --json", ("graph", None)),
             ("gc --json", ("gc", None)),
             ("layout app::Polygon --json", ("layout", None))]
    return cmds


def deep(d, facts, root):
    want = (int(facts["deep %s.objects" % root]),
            int(facts["deep %s.usable" % root]))
    return (d["heap"]["objects"], d["heap"]["usable_bytes"]), want


def check(kind, arg, d, facts):
    """Problems of one answer d (parsed JSON) against the facts."""
    if kind == "exact":
        got, want = deep(d, facts, arg)
        return [] if got == want else \
            ["heap (objects, usable) %s, the fixture counted %s" %
             (got, want)]
    if kind == "custom":
        # The hash table memview does not know: the note names the
        # field and the bytes of its bucket array it did not read.
        unread = int(facts["table buckets.usable"]) - 8
        want = "%d bytes of those chunks around it not looked into " \
            "(the first at struct HashTable.buckets" % unread
        if not any(want in n for n in d["notes"]):
            return ["no note %r in %s" % (want, d["notes"])]
        return []
    if kind == "intrusive":
        # The intrusive list without its container_of rule: the note
        # says how much of the Jobs' blocks lies around their hooks.
        want = "%s bytes of those chunks around it not looked into " \
            "(the first at struct ListHook.next" % facts["jobs around"]
        if not any(want in n for n in d["notes"]):
            return ["no note %r in %s" % (want, d["notes"])]
        return []
    if kind == "local":
        # The worker's vector on its -O2 stack, by frame and local.
        vec = int(facts["local worker%d.vec" % arg], 16)
        for r in d["referrers"]:
            if r["kind"] == "stack" and int(r["holder"], 16) == vec:
                f = r["frame"] or {}
                if (f.get("function"), f.get("variable"),
                        f.get("offset")) == ("worker", "mine", 0):
                    return []
                return ["frame %s" % f]
        return ["no stack referrer at 0x%x: %s" % (vec, d["referrers"])]
    if kind == "element":
        got = [r["expression"] for r in d["referrers"]]
        return [] if "mine[3]" in got else ["expressions %s" % got]
    if kind == "path":
        got = [c["expression"] for c in d["chain"]]
        return [] if got and got[-1] == "mine" else ["chain %s" % got]
    if kind == "nocycle":
        # A std::list's last node links back to the list inside the map
        # node or the class holding it: no cycle (the program has none
        # here).
        return [] if not d["components"] else \
            ["%d cyclic components" % len(d["components"])]
    if kind == "peers":
        # The live cycle g_peers[0] -> .peer -> g_peers[1] -> its map's
        # node -> the node's value (a shared_ptr) -> g_peers[0]: each
        # pointer named as gdb's printers list the elements, the key
        # the fixture's.
        key = facts["peers key"]
        comps = d["components"]
        if len(comps) != 1:
            return ["%d cyclic components" % len(comps)]
        got = sorted(c["field"] for c in comps[0]["cycle"])
        want = sorted([".peer", "g_peers[1]->kids[%s] (node)" % key,
                       "g_peers[1]->kids[%s]" % key])
        return [] if got == want else ["fields %s, want %s" % (got, want)]
    if kind == "graph":
        bad = [e["field"] for e in d["edges"]
               if e["field"] in (".left", ".right", ".next", ".nxt") or
               e["field"].startswith(".value")]
        return ["libstdc++ labels %s" % bad[:5]] if bad else []
    if kind == "gc":
        # The two sessions that hold each other: lost (one definitely,
        # one through it), one cycle, typed from their vtable.
        sm = d["summary"]
        got = (sm["definitely_lost"]["blocks"] +
               sm["indirectly_lost"]["blocks"],
               sm["definitely_lost"]["bytes"] +
               sm["indirectly_lost"]["bytes"],
               sm["cyclic_garbage"]["blocks"])
        want = (int(facts["deep leak.objects"]),
                int(facts["deep leak.usable"]),
                int(facts["deep leak.objects"]))
        types = [t for g in d["groups"] if g["kind"] == "definitely_lost"
                 for t in g["candidate_types"]]
        problems = [] if got == want else \
            ["lost (blocks, bytes, cyclic) %s, the fixture leaked %s" %
             (got, want)]
        if not any("<app::Session," in t for t in types):
            problems.append("definitely lost typed %s" % types)
        return problems
    if kind == "layout":
        pts = [m["offset"] for m in d["members"] if m["name"] == "pts"]
        got = (d["size"], pts)
        want = (int(facts["sizeof app::Polygon"]),
                [int(facts["offset app::Polygon.pts"])])
        return [] if got == want else ["(size, pts) %s, the fixture "
                                       "measured %s" % (got, want)]
    return ["unknown check %s" % kind]


def parsed(records, front, n):
    out = json_outputs((records or [])[:n], front)
    return out + ["%s: no run" % front] * (n - len(out))


def check_all(where, outs, cmds, facts):
    for (cmd, (kind, arg)), d in zip(cmds, outs):
        problems = [d] if isinstance(d, str) else check(kind, arg, d, facts)
        report("%s: %s" % (where, cmd), problems)


def main():
    facts = read_facts(FACTS)
    cmds = commands(facts)
    runs = R.core_runs([c for c, _ in cmds], core=CORE, exe=EXE)
    per_front = {}
    for front in ("cli", "gdb", "lldb"):
        data = runs[front]
        records = data if front == "cli" else (data or {}).get("cases")
        per_front[front] = parsed(records, front, len(cmds))
        check_all("core %s" % front, per_front[front], cmds, facts)
    # The three front ends print the same JSON (but the expression's
    # text, which each debugger spells).
    for i, (cmd, _) in enumerate(cmds):
        seen = set()
        for outs in per_front.values():
            d = dict(outs[i]) if isinstance(outs[i], dict) else outs[i]
            if isinstance(d, dict):
                d.pop("expression", None)
            seen.add(json.dumps(d, sort_keys=True))
        report("core: %s: cli = gdb = lldb" % cmd,
               [] if len(seen) == 1 else ["front ends differ"])
    with tempfile.TemporaryDirectory() as tmp:
        proc, lpath = start_fixture(EXE, R.ENV, tmp, "cxxapp")
        if proc is None:
            report("live fixture started", ["it did not get ready"])
            return finish()
        try:
            lf = read_facts(lpath)
            lcmds = commands(lf)
            recs, _ = R.cli(["--pid", str(proc.pid)], [c for c, _ in lcmds])
            check_all("live cli", parsed(recs, "live", len(lcmds)), lcmds,
                      lf)
        finally:
            proc.kill()
            proc.wait()
    return finish()


def finish():
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
