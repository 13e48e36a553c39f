"""Object models (issue 16): --len with member paths and expressions,
and the rules files of --types, on the models fixture.

Usage: BUILD=build python3 tests/integration/test_models.py

The answer key is the fixture's own: each root's blocks counted while
it built them (objects, sizeof or element bytes, malloc_usable_size),
never memview's output.  The CLI, gdb and lldb run the same commands on
the core and must agree.  Mistakes in --len and in rules files must be
one clear usage error each, naming the file's line and the name.
Prints one line per case and "models: N passed, M failed".
"""

import json
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally, json_outputs  # noqa: E402
from mvfacts import read_facts  # noqa: E402

EXE = os.path.join(R.BUILD, "fixtures", "models")
CORE = os.path.join(R.BUILD, "cores", "models.core")
FACTS = os.path.join(R.BUILD, "cores", "models.facts")
RULES = os.path.join(R.ROOT, "docs", "examples")

T = Tally("models")
report = T.report

NESTED_LEN = ("--len 'struct nested.items=h.count' "
              "--len 'struct nested.buckets=1 << log2' "
              "--len 'struct nested.in.vals = h.count * 2'")


outputs = json_outputs


def heap_counts(d):
    h = d["heap"]
    return (h["objects"], h["type_bytes"], h["usable_bytes"])


def facts_counts(facts, root):
    return tuple(int(facts["deep %s.%s" % (root, k)])
                 for k in ("objects", "type_bytes", "usable"))


def three_fronts(commands):
    """{front: [parsed JSON or problem string]} on the core."""
    runs = R.core_runs(commands, core=CORE, exe=EXE)
    per = {}
    for front in ("cli", "gdb", "lldb"):
        data = runs[front]
        records = data if front == "cli" else (data or {}).get("cases")
        per[front] = outputs(records, front) if records else None
    return per


def check_cases(cases, facts):
    """cases: (name, command, fact root or None, extra check)."""
    per = three_fronts([c[1] for c in cases])
    for i, (name, cmd, root, extra) in enumerate(cases):
        problems = []
        seen = {}
        for front, outs in per.items():
            if outs is None:
                problems.append("%s did not run" % front)
                continue
            d = outs[i]
            if isinstance(d, str):
                problems.append(d)
                continue
            if root and heap_counts(d) != facts_counts(facts, root):
                problems.append("%s: heap (objects, type, usable) %s != "
                                "facts %s" % (front, heap_counts(d),
                                              facts_counts(facts, root)))
            if extra:
                problems += ["%s: %s" % (front, p) for p in extra(d)]
            d = dict(d)
            d.pop("expression", None)
            seen[front] = json.dumps(d, sort_keys=True)
        if len(set(seen.values())) > 1:
            problems.append("front ends differ")
        report("%s (cli/gdb/lldb)" % name, problems)


def hinted(n):
    def check(d):
        got = d["guesses"]["hinted"]
        return [] if got == n else ["%d pointers hinted, want %d" % (got, n)]
    return check


def cli(args):
    return R.run([R.MEMVIEW, "--core", CORE, "--exe", EXE] + args)


def usage_error(name, args, *words):
    rc, out, err = cli(args)
    problems = []
    if rc != 2:
        problems.append("exit %s, want 2 (usage): %s" % (rc, err.strip()))
    for w in words:
        if w not in err:
            problems.append("%r not in %r" % (w, err.strip()))
    if "Traceback" in err or len(err.strip().splitlines()) != 1:
        problems.append("not one line: %r" % err)
    report(name, problems)


def test_len(facts):
    cases = [
        ("--len at nested paths and expressions",
         "sizeof-deep nested --json " + NESTED_LEN, "nested", hinted(3)),
    ]
    check_cases(cases, facts)
    # Without the hints: each pointer is one element.
    rc, out, err = cli(["sizeof-deep", "nested", "--json"])
    d = json.loads(out) if rc == 0 else None
    report("without --len the arrays are single elements",
           [] if d and heap_counts(d) != facts_counts(facts, "nested")
           else ["%s %s" % (rc, err)])
    bad = [
        ("struct nested.nosuch=h.count", "struct nested", "'nosuch'"),
        ("struct nosuch.items=h.count", "struct nosuch"),
        ("struct nested.items=h.nosuch", "struct hdr", "'nosuch'"),
        ("struct nested.items=h.count +", "h.count +"),
        ("struct nested.items=h", "'h'", "not an integer"),
        ("struct nested.h=h.count", "'h'", "not a pointer"),
        ("struct nested.items=(1 << log2", "')'"),
        ("struct nested.items=3x", "bad number"),
        ("struct nested.items", "TYPE.FIELD=LENGTH"),
    ]
    for spec, *words in bad:
        usage_error("--len '%s' is a usage error" % spec,
                    ["sizeof-deep", "nested", "--len", spec], *words)


def rules_of(d):
    return d["rules"]


def want_rules(**want):
    def check(d):
        got = {k: d["rules"][k] for k in want}
        return [] if got == want else ["rules %s, want %s" % (got, want)]
    return check


def test_rules(facts, tmp):
    ex = lambda name: os.path.join(RULES, "models-%s.types" % name)
    loop = os.path.join(tmp, "loop.types")
    with open(loop, "w") as f:
        # pair -> node -> pair ...: legal, cut at run time.
        f.write("dispatch struct node.kind == 2 -> struct pair\n"
                "dispatch struct pair.h.kind == 2 -> struct node\n")
    huge = os.path.join(tmp, "huge.types")
    with open(huge, "w") as f:
        f.write("len struct nested.items = 1 << 60\n")
    ints_unknown = os.path.join(tmp, "lists-only.types")
    with open(ints_unknown, "w") as f:
        f.write("dispatch struct obj.type == &list_type -> struct listobj\n"
                "len struct listobj.items = n\nskip struct obj.type\n")
    cond = os.path.join(tmp, "cond.types")
    with open(cond, "w") as f:
        # The tagged union again, each rule a condition over the real
        # type's members.
        f.write("dispatch struct node if h.kind == 1 -> struct inode\n"
                "dispatch struct node if (h.kind == 2) * (left != 0 | "
                "right != 0) | (h.kind == 2) -> struct pair\n"
                "dispatch struct node if h.kind == 3 -> struct snode\n")
    # The ring without its chain rule (its values are read only through
    # it), and with it in a library the program has not loaded.
    ring_rules = open(ex("ring")).read()
    ring_chain = [l for l in ring_rules.splitlines()
                  if l.startswith("array ")]
    ringskip = os.path.join(tmp, "ringskip.types")
    with open(ringskip, "w") as f:
        f.write(ring_rules.replace(ring_chain[0], ""))
    ringlibc = os.path.join(tmp, "ringlibc.types")
    with open(ringlibc, "w") as f:
        f.write(ring_rules.replace(ring_chain[0], "from libc " +
                                   ring_chain[0]))
    ringnolib = os.path.join(tmp, "ringnolib.types")
    with open(ringnolib, "w") as f:
        f.write(ring_rules.replace(ring_chain[0], "from nosuchlib " +
                                   ring_chain[0]))
    ring_differs = (lambda d: [] if heap_counts(d) !=
                    facts_counts(facts, "ringc") else
                    ["the ring's values counted without its chain rule"])
    ntasks = int(facts["runq.ntasks"])

    def typed(command, path):
        """command --json with the rules file path, quoted for the
        command grammar (a TMPDIR may hold spaces)."""
        return "%s --json --types %s" % (command, shlex.quote(path))
    cases = [
        ("a ring of records, one value each: a chain of single slots",
         typed("sizeof-deep ringc", ex("ring")), "ringc", None),
        ("the ring without its chain rule misses its values",
         typed("sizeof-deep ringc", ringskip), None, ring_differs),
        ("from LIB RULE: a rule of a library the program loaded",
         typed("sizeof-deep ringc", ringlibc), "ringc", None),
        ("from LIB RULE: none of a library it has not loaded",
         typed("sizeof-deep ringc", ringnolib), None,
         ring_differs),
        ("a chain of blocks: the live slots from an index on",
         typed("sizeof-deep chainq", ex("chain")), "chainq",
         None),
        ("tagged union: dispatch TYPE if COND over the real type",
         typed("sizeof-deep expr", cond), "expr",
         want_rules(dispatched=int(facts["deep expr.objects"]) -
                    32, undispatched=0)),
        ("intrusive list: container_of, skip", typed("sizeof-deep runq",
                                                  ex("runq")), "runq",
         want_rules(contained=ntasks)),
        ("skip: a lone task without the shared cache",
         typed("sizeof-deep lone", ex("runq")), "lone",
         want_rules(skipped=2)),  # .cache and .link.prev
        ("tagged union: dispatch by an integer",
         typed("sizeof-deep expr", ex("expr")), "expr",
         want_rules(dispatched=int(facts["deep expr.objects"]) -
                    32, undispatched=0)),
        ("type objects: dispatch by symbol, len, skip",
         typed("sizeof-deep olist", ex("obj")), "olist",
         want_rules(undispatched=0, dispatch_misfit=0)),
        ("a loop of dispatch rules is cut and counted",
         typed("sizeof-deep expr", loop), None,
         lambda d: [] if d["rules"]["loops"] > 0 else ["no loop counted"]),
        ("a length of 2^60 is bounded by the block",
         typed("sizeof-deep nested", huge), None,
         lambda d: [] if d["heap"]["objects"] ==
         int(facts["deep nested.objects"]) and
         d["guesses"]["hinted"] == 1 else ["heap %s" % d["heap"]]),
        ("a type no rule names keeps its declared type, counted",
         typed("sizeof-deep olist", ints_unknown), None,
         lambda d: [] if d["rules"]["undispatched"] > 0 and
         [t["count"] for t in d["by_type"] if t["type"] == "struct obj"]
         == [8] else ["rules %s, by type %s" % (d["rules"], d["by_type"])]),
    ]
    check_cases(cases, facts)
    # Without the rules the fixture's counts are not reached (the rules
    # are what makes them right; the ring's nodes hold their values
    # plainly: its skip rules without its chain rule show it instead).
    for root in ("runq", "expr", "olist", "chainq"):
        rc, out, err = cli(["sizeof-deep", root, "--json"])
        d = json.loads(out) if rc == 0 else None
        report("%s without rules differs from the facts" % root,
               [] if d and heap_counts(d) != facts_counts(facts, root)
               else ["%s %s" % (rc, err)])
    # The setting: --types before the command.
    rc, out, err = R.run([R.MEMVIEW, "--types", ex("expr"), "--core", CORE,
                          "--exe", EXE, "sizeof-deep", "expr", "--json"])
    d = json.loads(out) if rc == 0 else None
    report("--types as a setting", [] if d and heap_counts(d) ==
           facts_counts(facts, "expr") else ["%s %s" % (rc, err)])
    # Every kind of mistake: one usage error naming FILE:LINE and the name.
    bad = [
        ("dispatch struct node.kind == 1 -> struct nosuch", "struct nosuch"),
        ("# a comment\n\ndispatch struct node.nokind == 1 -> struct pair",
         ":3:", "'nokind'"),
        ("frob struct node.kind", "unknown rule 'frob'"),
        ("dispatch struct obj.type == &nosym -> struct pair", "'nosym'"),
        ("dispatch struct node.kind == 1 -> int", "'int'"),
        ("dispatch struct node.kind = 1 -> struct pair", "dispatch TYPE"),
        ("dispatch struct node.kind == 1 struct pair", "dispatch TYPE"),
        ("dispatch struct node.kind == zork -> struct pair", "'zork'"),
        ("dispatch struct node if h.nokind == 1 -> struct inode",
         "'nokind'"),
        ("dispatch struct node if h.kind == 1 struct inode",
         "dispatch TYPE if COND"),
        ("dispatch struct node if h.kind == 1 -> struct nosuch",
         "struct nosuch"),
        ("dispatch struct node if h.kind == (1 -> struct inode",
         "')' expected"),
        # A chain of blocks (a deque's).
        ("array struct runq at 8 = struct task *[ntasks] chain struct "
         "task.payload from 0 next link.next", "chain:", "pointer"),
        ("array struct runq at 8 -> long[ntasks] chain struct task.name "
         "from 0 next link.next", "chain:", "'name'"),
        ("array struct runq at 8 -> long[ntasks] chain struct task.payload "
         "from 0 next id", "chain:", "'id'"),
        ("array struct runq at 8 -> long[ntasks] chain struct task.payload "
         "from nope next link.next", "'nope'"),
        ("array struct runq at 8 -> long[ntasks] chain struct task.payload "
         "next link.next", "chain BLOCK.SLOTS"),
        # One element per record of a chain: of the rule's type.
        ("array struct ringc at 8 -> long[count] chain struct rnode.value "
         "from 0 next next", "chain:", "'value'"),
        # A library's rules: checked when it is loaded.
        ("from", "from LIBRARY RULE"),
        ("from libc", "from LIBRARY RULE"),
        ("from libc from libc skip struct rnode.prev", "'from' twice"),
        ("from libc skip struct nosuch.x", "struct nosuch"),
        ("container_of struct task.id", "'id'"),
        ("container_of struct task.link\ncontainer_of struct runq.tasks",
         ":2:", "already belongs"),
        ("len struct listobj.items = nn", "'nn'"),
        ("len struct listobj.items = n +", "n +"),
        ("len struct listobj.n = 3", "not a pointer"),
        ("skip struct task.nope", "'nope'"),
        ("skip nosuchtype.x", "nosuchtype"),
        ("header struct obj = struct nope", "struct nope"),
        # Expressions that read through pointers, casts, symbols.
        ("len struct listobj.items = n->x", "'->'", "not a pointer"),
        ("size struct obj = type->nosuch", "'nosuch'"),
        ("size struct obj = ((struct nosuch *)type)->x", "struct nosuch"),
        ("size struct obj = (type == &nosym) * 8", "'nosym'"),
        ("header struct obj = 8 * (type->name", "')' expected"),
        ("array struct obj at -8 -> struct nosuch *[1]", "struct nosuch"),
        ("array struct obj at -8 -> struct obj *", "array TYPE"),
        # name, show, object and frames rules (edges as a language
        # names them).
        ("name struct listobj.n = [x]", "'n'", "not a pointer or an array"),
        ("name struct listobj.items = [{chars 1}]", "unknown {chars}"),
        ("name struct listobj.items = [{show n}]", "{show} and {bare}"),
        ("name struct listobj.items = [{index]", "without '}'"),
        ("name struct listobj.items = [{value index +}]", "index +"),
        ("name struct listobj.nope = x", "'nope'"),
        ("name struct obj at 8 = .x", "no rule 'array struct obj at 8'"),
        ("name struct listobj = x", "TYPE.FIELD"),
        # Elements of a block (FIELD[]) and rules in a holder's edge.
        ("name struct listobj.n[] = [{index}]", "'n'", "not a pointer"),
        ("name struct listobj.items[] = [{index}]\n"
         "name struct listobj.items[] in struct listobj.nope = .x",
         ":2:", "'nope'"),
        ("name struct listobj.items[] = [{index}]\n"
         "name struct listobj.items[] in struct listobj.items = .x",
         ":2:", "no rule 'name struct listobj.items' before it to be in"),
        ("name struct listobj.items = .items\n"
         "name struct listobj.items[] in struct listobj.items = .x",
         ":2:", "no rule 'name struct listobj.items[]' before it to "
         "refine"),
        ("show struct obj = {value nosuch}", "'nosuch'"),
        ("show struct nosuch = x", "struct nosuch"),
        ("object struct obj", "object TYPE if"),
        ("object struct obj if type->nosuch", "'nosuch'"),
        ("frames struct listobj from 0 next n live items[n] name x",
         "next: member 'n' is not a pointer"),
        ("frames struct listobj from 0 next items live n[1] name x",
         "live: member 'n' is not an array"),
        ("frames struct listobj from 0 next items", "frames TYPE from"),
        # A name for the slots the first cannot name: each is a name.
        ("frames struct qblock from 0 next next live slot[1] name x "
         "else {nosuch}", "unknown {nosuch}"),
        ("frames struct qblock from 0 next next live slot[1] name x "
         "else {value nosuch}", "'nosuch'"),
        # frames of every owner (thread): each OWNER.NEXT first EXPR.
        ("frames struct listobj from 0 each struct listobj.n first items "
         "next items live n[1] name x", "each: member 'n' is not a pointer"),
        ("frames struct listobj from 0 each struct nosuch.next first n "
         "next items live n[1] name x", "struct nosuch"),
        ("frames struct listobj from 0 each struct listobj.items first "
         "nosuch next items live n[1] name x", "'nosuch'"),
        ("frames struct listobj from 0 each struct listobj.items next "
         "items live n[1] name x", "frames TYPE from"),
        ("frames struct listobj from 0 each items first n next items "
         "live n[1] name x", "each: OWNER.NEXT"),
        # The running record's top: a C local of a function.
        ("frames struct listobj from 0 next items live items[n] running "
         "main name x", "running: FUNCTION.VARIABLE expected, not 'main'"),
        ("frames struct listobj from 0 next items live items[n] running "
         "no_such_function.x name x", "no function 'no_such_function'"),
        ("frames struct listobj from 0 next items live items[n] running "
         "main.no_such_local name x",
         "function 'main' has no variable 'no_such_local'"),
    ]
    for i, (text, *words) in enumerate(bad):
        path = os.path.join(tmp, "bad%d.types" % i)
        with open(path, "w") as f:
            f.write(text + "\n")
        first = text.split("\n")[-1]
        usage_error("rules file '%s' is an error" % first,
                    ["sizeof-deep", "expr", "--types", path],
                    path + ":", *words)
    usage_error("--types of no file nor model is an error",
                ["sizeof-deep", "expr", "--types", "no-such-model"],
                "no-such-model")


def main():
    facts = read_facts(FACTS)
    test_len(facts)
    with tempfile.TemporaryDirectory() as tmp:
        test_rules(facts, tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
