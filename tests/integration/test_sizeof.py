#!/usr/bin/python3
"""sizeof-deep, graph, referrers and path-to against the deepsize and
badptrs fixtures: on their cores and on the live programs.  The answer
key is what each fixture computed while building its structures
(build/cores/NAME.facts), never memview's own output.

Usage: BUILD=build /usr/bin/python3 tests/integration/test_sizeof.py
Prints "sizeof: N passed, M failed" last; exits 1 on any failure."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from mvcheck import Tally, start_fixture
from mvfacts import read_facts

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
T = Tally("sizeof", verbose=False)
check = T.check


def run(target, args, expect_ok=True, timeout=120):
    cmd = [MEMVIEW] + target + args
    p = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=timeout)
    if expect_ok and p.returncode != 0:
        print("FAIL running %s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p


def sizeof(target, root, extra=()):
    p = run(target, ["sizeof-deep", root, "--json"] + list(extra))
    try:
        return json.loads(p.stdout)
    except ValueError:
        print("bad JSON from sizeof-deep %s: %r %s" %
              (root, p.stdout[:200], p.stderr))
        return None


# root, extra options, fact prefix, expected objects key suffix
CASES = [
    ("list", [], "list"),
    ("dlist", [], "dlist"),
    ("tree", [], "tree"),
    ("dag", [], "dag"),
    ("cycle", [], "cycle"),
    ("parray", ["--len", "struct ptrarray.items=n"], "parray"),
    ("person", [], "person"),
    ("vec", ["--len", "struct vec.data=len"], "vec"),
    ("fam", [], "fam"),
    ("box", [], "box"),
    ("vcycle", ["--conservative"], "vcycle"),
    ("tagged", ["--unions", "first"], "tagged"),
    ("mixed", [], "mixed"),
]


def check_deepsize(target, f, where):
    for root, extra, key in CASES:
        d = sizeof(target, root, extra)
        name = "%s %s %s" % (where, root, " ".join(extra))
        if d is None:
            check(name, False, "no JSON")
            continue
        h = d["heap"]
        want = (int(f["deep %s.objects" % key]),
                int(f["deep %s.type_bytes" % key]),
                int(f["deep %s.usable" % key]))
        got = (h["objects"], h["type_bytes"], h["usable_bytes"])
        check(name, got == want, "heap (objects, type, usable) %s != "
              "facts %s" % (got, want))
        # The root pointer is a global: 8 bytes beside the heap.
        check(name + " deep_size", d["deep_size"] == want[1] + 8 +
              (16 if root == "mixed" else 0),
              "deep_size %s" % d["deep_size"])
        check(name + " problems", d["problems"]["total"] == 0,
              str(d["problems"]))
        check(name + " not partial", not d["partial"])
    # Without hints: the guesses, said so.
    d = sizeof(target, "vec")
    check(where + " vec no hint",
          d and d["heap"]["type_bytes"] ==
          int(f["deep vec.type_bytes_nohint"]) and
          d["guesses"]["single_element"] == 1,
          str(d and d["guesses"]))
    hints = os.path.join(tempfile.mkdtemp(), "hints")
    with open(hints, "w") as hf:
        hf.write("# --len-file\nstruct vec.data=len\n"
                 "struct ptrarray.items = n\n")
    for root in ("vec", "parray"):
        d = sizeof(target, root, ["--len-file", hints])
        check(where + " --len-file " + root,
              d and d["heap"]["type_bytes"] ==
              int(f["deep %s.type_bytes" % root]) and
              d["guesses"]["hinted"] == 1, str(d and d["guesses"]))
    p = run(target, ["sizeof-deep", "vec", "--len", "struct vec.data"],
            expect_ok=False)
    check(where + " bad --len", p.returncode != 0 and
          "TYPE.FIELD=LENGTH" in p.stderr, p.stderr)
    d = sizeof(target, "vcycle")
    check(where + " vcycle plain",
          d and d["heap"]["objects"] == int(f["deep vcycle.objects_plain"])
          and d["heap"]["type_bytes"] ==
          int(f["deep vcycle.type_bytes_plain"]) and
          d["not_followed"]["untyped_chunks"] == 1, str(d and d["heap"]))
    d = sizeof(target, "tagged")
    check(where + " union none",
          d and d["heap"]["objects"] ==
          int(f["deep tagged.objects_nounion"]) and
          d["not_followed"]["union_pointers"] == 1 and
          d["not_followed"]["function_pointers"] == 1, str(d))
    d = sizeof(target, "*tree")
    check(where + " lvalue struct root",
          d and d["objects"] == int(f["deep tree.objects"]) and
          d["not_heap"]["objects"] == 0, str(d and d["objects"]))
    d = sizeof(target, "list", ["--max-objects", "10"])
    check(where + " max-objects partial",
          d and d["partial"] and d["limits"]["max_objects_hit"] and
          d["objects"] == 10 and "--max-objects" in
          d["limits"]["message"], str(d and d["limits"]))
    d = sizeof(target, "tree", ["--max-depth", "2"])
    check(where + " max-depth partial",
          d and d["partial"] and d["limits"]["max_depth_hit"] and
          d["heap"]["objects"] == 3, str(d and d["heap"]))
    d = sizeof(target, "list", ["--top", "3"])
    check(where + " largest paths",
          d and len(d["largest"]) == 3 and
          d["largest"][0]["path"] == "*list" and
          d["largest"][1]["path"] == "*list->next", str(d and d["largest"]))
    p = run(target, ["sizeof-deep", "list"])
    check(where + " text", "deep size" in p.stdout and
          "problems: none" in p.stdout, p.stdout[:300])


def check_bad(target, f, where):
    d = sizeof(target, "bad")
    if not d:
        check(where + " bad", False, "no JSON")
        return
    pr = d["problems"]
    check(where + " bad unmapped", pr["unmapped"] ==
          int(f["bad.unmapped"]), str(pr))
    check(where + " bad misaligned", pr["misaligned"] ==
          int(f["bad.misaligned"]), str(pr))
    check(where + " bad free", pr["into_free_chunk"] ==
          int(f["bad.freed"]), str(pr))
    check(where + " bad good objects",
          d["heap"]["objects"] == int(f["bad.heap_objects"]),
          str(d["heap"]))
    check(where + " bad non-heap",
          d["not_heap"]["globals"]["objects"] ==
          int(f["bad.global_objects"]) + 1, str(d["not_heap"]))
    p = run(target, ["sizeof-deep", "bad"])
    check(where + " bad summary line", "problems:" in p.stdout and
          "unmapped" in p.stdout, p.stdout[-300:])
    # A bare address has no type: the error says how to give it one.
    p = run(target, ["sizeof-deep", "0x5000"], expect_ok=False)
    check(where + " bare address: how to type it", p.returncode == 1 and
          "0x5000 is a number, not an object: give its type, e.g. "
          "'(struct T *)0x5000'" in p.stderr, p.stderr)


def check_graph(target, f, where, tmp):
    out = os.path.join(tmp, "g.json")
    dot = os.path.join(tmp, "g.dot")
    svg = os.path.join(tmp, "g.svg")
    p = run(target, ["graph", "dag", "--output", out, "--dot", dot,
                     "--svg", svg, "--force"])
    check(where + " graph runs", p.returncode == 0, p.stderr)
    try:
        g = json.load(open(out))
    except (OSError, ValueError) as e:
        check(where + " graph json", False, str(e))
        return
    # --json alone: the same graph as the one JSON object on stdout.
    p = run(target, ["graph", "dag", "--json"])
    try:
        check(where + " graph --json on stdout is the file's graph",
              json.loads(p.stdout) == g, p.stdout[:300])
    except ValueError as e:
        check(where + " graph --json on stdout", False, str(e))
    # root pointer + 6 heap objects; 4 kids + 4 edges to the shared one
    # + 1 from the root pointer.
    check(where + " graph nodes", len(g["nodes"]) == 7, len(g["nodes"]))
    check(where + " graph edges", len(g["edges"]) == 9, len(g["edges"]))
    labels = sorted(e["field"] for e in g["edges"])
    check(where + " graph labels", ".kids[3]" in labels and
          ".kids[0]" in labels, labels)
    check(where + " dot", open(dot).read().startswith("digraph"))
    check(where + " svg", "<svg" in open(svg).read())

    d = sizeof(target, "dag")
    shared = f["addr shared"]
    p = run(target, ["referrers", shared, "--json"])
    try:
        r = json.loads(p.stdout)
    except ValueError:
        check(where + " referrers json", False, p.stdout + p.stderr)
        return
    # Four kids hold the shared node (registers or stack may too).
    heap_refs = [x for x in r["referrers"] if x["kind"] == "heap"]
    check(where + " referrers", len(heap_refs) == 4, r["referrers"])
    p = run(target, ["path-to", f["addr leafnode"], "--json"])
    try:
        r = json.loads(p.stdout)
    except ValueError:
        check(where + " path-to json", False, p.stdout + p.stderr)
        return
    check(where + " path-to found", r["found"] and
          r["chain"][0]["root"].startswith("tree"), r)
    check(where + " path-to length", len(r["chain"]) == 3,
          len(r.get("chain", [])))

SVG = "{http://www.w3.org/2000/svg}"


def svg_cells(path):
    """The cells of a sizeof-deep --svg chart: (title, x, y, width,
    bytes, objects) each; None if the file is not XML.  Also checks that
    every rectangle but the background is a cell's, with a <title>."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print("bad SVG %s: %s" % (path, e))
        return None
    cells = []
    loose = [r for r in root.iter(SVG + "rect")
             if r.get("class") != "background"]
    for g in root.iter(SVG + "g"):
        if g.get("class") != "cell":
            continue
        t = g.find(SVG + "title")
        r = g.find(SVG + "rect")
        if t is None or r is None:
            return None
        loose.remove(r)
        m = re.search(r": ([\d,]+) bytes deep, ([\d,]+) objects?", t.text)
        if not m:
            return None
        cells.append((t.text, float(r.get("x")), float(r.get("y")),
                      float(r.get("width")),
                      int(m.group(1).replace(",", "")),
                      int(m.group(2).replace(",", ""))))
    return cells if not loose else None


def check_svg(target, f, where, tmp):
    # The deep size on top: the fixture's own count (*tree is the struct,
    # tree the global pointer to it, 8 bytes more).
    for expr, key, extra in (("*tree", "tree", 0), ("tree", "tree", 8),
                             ("dag", "dag", 8), ("list", "list", 8)):
        svg = os.path.join(tmp, "deep.svg")
        if os.path.exists(svg):
            os.unlink(svg)
        p = run(target, ["sizeof-deep", expr, "--svg", svg])
        name = "%s sizeof-deep %s --svg" % (where, expr)
        check(name + " says so", p.returncode == 0 and
              ("svg: " + svg) in p.stdout, p.stdout[-300:])
        cells = svg_cells(svg)
        check(name + " XML, every rect titled", cells is not None)
        if not cells:
            continue
        top = min(cells, key=lambda c: c[2])
        want = int(f["deep %s.type_bytes" % key]) + extra
        check(name + " root deep size", top[4] == want and
              top[3] == 1200.0 and top[0].startswith(expr + ": "),
              "%s != %d" % (top[0], want))
        check(name + " root objects", top[5] ==
              int(f["deep %s.objects" % key]) + (1 if extra else 0),
              top[0])
        # Children under their parent: inside it, together no wider and
        # no heavier (bytes and widths are subtree sums).
        rows = sorted(set(c[2] for c in cells))
        bad = []
        for y0, y1 in zip(rows, rows[1:]):
            for par in (c for c in cells if c[2] == y0):
                kids = [c for c in cells if c[2] == y1 and
                        par[1] - 0.02 <= c[1] < par[1] + par[3] - 0.02]
                if not kids:
                    continue
                last = max(c[1] + c[3] for c in kids)
                if sum(c[3] for c in kids) > par[3] + 0.01 * len(kids) or \
                        last > par[1] + par[3] + 0.01 * len(kids) or \
                        sum(c[4] for c in kids) > par[4] or \
                        sum(c[5] for c in kids) >= par[5]:
                    bad.append(par[0])
        check(name + " children within parents", not bad, bad[:3])
        if expr == "list":
            # The fixture's chain of nodes through .next: the global,
            # the first node, then the rest as one cell "× N" whatever
            # N (it was 64 rows of one node each, the depth bound).
            nodes = int(f["deep list.objects"])
            runs = [c for c in cells if "\u00d7 %d:" % (nodes - 1) in c[0]]
            check(name + " the chain of %d is one cell" % (nodes - 1),
                  len(rows) == 3 and len(runs) == 1 and
                  runs[0][5] == nodes - 1 and
                  runs[0][0].startswith(".next \u00d7 "),
                  [c[0] for c in cells])
            # The story without hover: the widest cells in words.
            text = open(svg, encoding="utf-8").read()
            check(name + " the widest cells listed in text",
                  "widest cells:" in text and
                  re.search(r"<text[^>]*>\.next \u00d7 %d: struct node "
                            "\u2014 [\d,]+ bytes" % (nodes - 1), text),
                  text[-600:])
    # A root expression with '&' in it: escaped, still XML.
    svg = os.path.join(tmp, "amp.svg")
    run(target, ["sizeof-deep", "*&*tree", "--svg", svg])
    cells = svg_cells(svg)
    check(where + " --svg escapes the expression", cells and
          cells[0][0].startswith("*&*tree: ") and
          "&amp;*tree" in open(svg).read(), cells and cells[0][0])


def graphviz_nodes(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print("bad SVG %s: %s" % (path, e))
        return -1
    return sum(1 for g in root.iter(SVG + "g") if g.get("class") == "node")


def check_graphviz(tmp):
    core = ["--core", os.path.join(BUILD, "cores", "deepsize.core")]
    svg = os.path.join(tmp, "dag.svg")
    run(core, ["graph", "dag", "--svg", svg])
    # The global pointer and the dag's 6 objects.
    n = graphviz_nodes(svg)
    check("graph --svg: one <g class=node> per object", n == 7, n)
    # gc --dot on the leaks core, drawn by dot: a node per box (its
    # chains of lost blocks are one box each; all fit).
    dot = os.path.join(tmp, "gc.dot")
    svg = os.path.join(tmp, "gc.svg")
    run(["--core", os.path.join(BUILD, "cores", "leaks.core")],
        ["gc", "--dot", dot])
    p = subprocess.run(["dot", "-Tsvg", "-o", svg, dot],
                       capture_output=True, text=True, timeout=120)
    declared = len(re.findall(r"^\s*(?:n\d+|cut) \[", open(dot).read(),
                              re.M))
    n = graphviz_nodes(svg)
    check("gc --dot | dot -Tsvg: one <g class=node> per block",
          p.returncode == 0 and n == declared and declared > 10,
          "%s nodes, %d in the DOT %s" % (n, declared, p.stderr))


def live(fixture, tmp, env=os.environ, timeout=30):
    """The fixture at its stop: (process, facts), or None (a failed
    check) if it did not get there."""
    proc, factsf = start_fixture(os.path.join(BUILD, "fixtures", fixture),
                                 env, tmp, fixture, timeout)
    if not proc:
        check("%s live: the fixture reaches its stop" % fixture, False)
        return None
    return proc, read_facts(factsf)


def main():
    core = os.path.join(BUILD, "cores", "deepsize.core")
    f = read_facts(os.path.join(BUILD, "cores", "deepsize.facts"))
    tmp = tempfile.mkdtemp()
    check_deepsize(["--core", core], f, "core")
    check_graph(["--core", core], f, "core", tmp)
    check_svg(["--core", core], f, "core", tmp)
    check_graphviz(tmp)
    badcore = os.path.join(BUILD, "cores", "badptrs.core")
    bf = read_facts(os.path.join(BUILD, "cores", "badptrs.facts"))
    check_bad(["--core", badcore], bf, "core")
    # The cores' heaps mapped and read into memory: these small heaps
    # are under the size read in by default (test_heap's heapbig is not).
    for mode in ("never", "always"):
        os.environ["MEMVIEW_CORE_COPY"] = mode
        check_deepsize(["--core", core], f, "core, copy " + mode)
        check_bad(["--core", badcore], bf, "core, copy " + mode)
    del os.environ["MEMVIEW_CORE_COPY"]

    for fixture, fn in (("deepsize", check_deepsize),
                        ("badptrs", check_bad)):
        started = live(fixture, tmp)
        if not started:
            continue
        proc, lf = started
        try:
            fn(["--pid", str(proc.pid)], lf, "live")
            if fixture == "deepsize":
                check_graph(["--pid", str(proc.pid)], lf, "live", tmp)
        finally:
            proc.kill()
            proc.wait()

    # A 10-million-node list, live: --max-objects bounds the time.
    started = live("deepbench", tmp, dict(os.environ, MV_SHAPE="list",
                                          MV_NODES="10000000"), 120)
    if not started:
        sys.exit(T.summary())
    proc = started[0]
    try:
        t0 = time.time()
        # The default comes from the memory available (all 10 M here).
        d = sizeof(["--pid", str(proc.pid)], "head",
                   ["--max-objects", "1000000"])
        dt = time.time() - t0
        check("live 10M list bounded", d and d["partial"] and
              d["objects"] == 1000000 and dt < 30,
              "%.1fs %s" % (dt, d and d["limits"]))
    finally:
        proc.kill()
        proc.wait()

    sys.exit(T.summary())


if __name__ == "__main__":
    main()
