#!/usr/bin/python3
"""gc against valgrind's memcheck and the fixtures' own answer keys.

1. The leaks fixture (valgrind's leak cases plus cycles) writes, for each
   block, its address, size, case and the category memcheck's documented
   rules give it.  memview's `gc --json --blocks` must give every block
   that category, and flag the cyclic ones.
2. The same program run under valgrind --leak-check=full, which asks for
   a leak check at the point where the core is taken (a client request):
   valgrind's loss records, by allocation size (unique per case), must
   have the same numbers of blocks in each category as memview found.
3. glibc's own figures: mallinfo2() from the fixture against gc's block
   totals (mmapped blocks and bytes; heap chunk bytes plus the tcache
   and its block as `heap` reports them).
4. cycles EXPR on the refcount fixture, and gc --refcount against its
   own key; bad input: a missing stack, a heap without symbols.

Prints "gc: N passed, M failed" and exits non-zero on failure.
"""
import collections
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from mvcheck import Tally

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
T = Tally("gc", verbose=False)


def check(ok, what, detail=""):
    T.check(what, ok, detail)


def mv(name, *args):
    core = os.path.join(BUILD, "cores", name + ".core")
    exe = os.path.join(BUILD, "fixtures", name)
    r = subprocess.run([MEMVIEW, "--core", core, "--exe", exe] + list(args),
                       capture_output=True, text=True, timeout=600)
    return r


def mv_json(name, *args):
    r = mv(name, *args, "--json")
    if r.returncode:
        raise SystemExit("gc: memview %s failed: %s" % (args, r.stderr))
    return json.loads(r.stdout)


def facts(name):
    blocks, other = [], {}
    with open(os.path.join(BUILD, "cores", name + ".facts")) as f:
        for line in f:
            w = line.split()
            if w[0] == "block":
                blocks.append({"addr": int(w[1], 16), "size": int(w[2]),
                               "tag": w[3], "expect": w[4],
                               "cyclic": len(w) > 5 and w[5] == "cyclic"})
            else:
                other[w[0]] = w[1:]
    return blocks, other


def valgrind_records(exe):
    """Loss records of the first leak check (the client request at the
    stop point): [(kind, bytes, blocks)]."""
    tmp = tempfile.mkdtemp()
    try:
        xml = os.path.join(tmp, "vg.xml")
        subprocess.run(["valgrind", "--leak-check=full",
                        "--show-leak-kinds=all",
                        "--leak-check-heuristics=none", "--xml=yes",
                        "--xml-file=" + xml, exe],
                       capture_output=True, timeout=600,
                       env=dict(os.environ, MV_FACTS="/dev/null"))
        root = ET.parse(xml).getroot()
    finally:
        shutil.rmtree(tmp)
    recs = []
    for err in root.iter("error"):
        kind = err.findtext("kind")
        if not kind or not kind.startswith("Leak_"):
            continue
        xw = err.find("xwhat")
        text = xw.findtext("text")
        nbytes = int(xw.findtext("leakedbytes"))
        if "direct, " in text:
            # "292 (141 direct, 151 indirect) bytes in 1 blocks ..."
            nbytes = int(text.split("(")[1].split()[0].replace(",", ""))
        recs.append((kind, nbytes, int(xw.findtext("leakedblocks"))))
        # "... in loss record N of M": the first check ends at N == M.
        words = text.split()
        if words[-3] == words[-1]:
            break
    return recs


VG_KIND = {"Leak_DefinitelyLost": "definitely_lost",
           "Leak_IndirectlyLost": "indirectly_lost",
           "Leak_PossiblyLost": "possibly_lost",
           "Leak_StillReachable": "still_reachable"}


def check_picture(text):
    """gc --dot against the leaks fixture's key (block ADDR SIZE TAG
    CATEGORY): its lost list is one box "N blocks of" from its first to
    its last node (linked at offset 0), its big cycle one box in a
    cluster of its size, the lost_chain edge says +8 (the fixture links
    it at 8), and every lost block is in a box."""
    blocks = [l.split() for l in open(os.path.join(
        BUILD, "cores", "leaks.facts")) if l.startswith("block ")]
    by_tag = {}
    for x in blocks:
        by_tag.setdefault(x[3], []).append(int(x[1], 16))
    labels = dict(re.findall(r'^\s*(n\d+) \[label="([^"]*)"', text, re.M))
    edges = re.findall(r'^\s*(n\d+) -> (n\d+) \[label="([^"]*)"', text,
                       re.M)
    # The last node holds nothing: it is a box of its own after the
    # chain's.
    nodes = by_tag["list.node"]
    boxes = [l for l in labels.values() if l.startswith(
        "%d blocks of " % (len(nodes) - 1))]
    check(len(boxes) == 1 and "0x%x ... 0x%x" % (nodes[0], nodes[-2]) in
          boxes[0] and boxes[0].endswith("each holding the next at +0"),
          "gc --dot: the lost list's first %d nodes are one box" %
          (len(nodes) - 1), boxes or sorted(labels.values())[:5])
    ring = by_tag["bigcycle"]
    check(any(l.startswith("%d blocks of " % (len(ring) - 1))
              for l in labels.values()) and
          "cycle: %d blocks" % len(ring) in text,
          "gc --dot: the big cycle is a block and a box of %d" %
          (len(ring) - 1), sorted(labels.values())[:5])
    a, b = by_tag["lost_chain.a"][0], by_tag["lost_chain.b"][0]
    node_of = {int(l.split("\\n")[0], 16): n for n, l in labels.items()
               if l.startswith("0x")}
    check((node_of.get(a), node_of.get(b), "+8") in edges,
          "gc --dot: lost_chain.a -> lost_chain.b labelled +8 (where the "
          "fixture stores it)", [e for e in edges if e[0] == node_of.get(a)])
    lost = sum(1 for x in blocks if x[4] in ("definitely_lost",
                                             "indirectly_lost"))
    drawn = sum(int(l.split()[0]) if " blocks of " in l else 1
                for l in labels.values())
    check(drawn == lost and "not drawn" not in text,
          "gc --dot: every lost block of the key in a box (%d)" % lost,
          "%d drawn" % drawn)


def test_leaks():
    blocks, other = facts("leaks")
    # valgrind runs with --leak-check-heuristics=none below: so does gc.
    d = mv_json("leaks", "gc", "--blocks", "--show-reachable",
                "--max-blocks", "0", "--heuristics", "none")
    got = {int(b["address"], 16): b for b in d["blocks"]}
    # 1. Block by block against the fixture's own key.
    wrong = []
    for b in blocks:
        m = got.get(b["addr"])
        if m is None or m["kind"] != b["expect"] or \
                m["cyclic"] != b["cyclic"]:
            wrong.append("%s@0x%x: expected %s%s, got %s" % (
                b["tag"], b["addr"], b["expect"],
                " cyclic" if b["cyclic"] else "",
                (m["kind"] + (" cyclic" if m["cyclic"] else ""))
                if m else "no block"))
    check(not wrong, "leaks: every block in its memcheck category "
          "(%d blocks)" % len(blocks), "; ".join(wrong[:10]))
    # Nothing else is lost: libc's own blocks are reachable.
    extra = [b for a, b in got.items()
             if a not in {x["addr"] for x in blocks}
             and b["kind"] != "still_reachable"]
    check(not extra, "leaks: no block outside the fixture's is lost",
          str(extra[:5]))
    ncyc = sum(1 for b in blocks if b["cyclic"])
    check(d["summary"]["cyclic_garbage"]["blocks"] == ncyc,
          "leaks: cyclic garbage blocks = fixture's count (%d)" % ncyc,
          str(d["summary"]["cyclic_garbage"]))
    lost = sum(1 for b in blocks
               if b["expect"] in ("definitely_lost", "indirectly_lost"))
    check(d["unreachable"] == lost,
          "leaks: unreachable objects = fixture's lost blocks (%d)" % lost,
          str(d["unreachable"]))

    # 2. valgrind as the oracle, per allocation size.
    if not shutil.which("valgrind"):
        check(False, "valgrind is not installed")
        return
    exe = os.path.join(BUILD, "fixtures", "leaks")
    recs = valgrind_records(exe)
    sizes = {b["size"] for b in blocks}
    vg = collections.Counter()
    for kind, nbytes, nblocks in recs:
        size = nbytes // nblocks if nblocks else 0
        if size in sizes and size * nblocks == nbytes:
            vg[(size, VG_KIND[kind])] += nblocks
    ours = collections.Counter()
    for b in blocks:
        m = got.get(b["addr"])
        ours[(b["size"], m["kind"] if m else "none")] += 1
    for size in sorted(sizes):
        tag = next(b["tag"] for b in blocks if b["size"] == size)
        v = {k: n for (s, k), n in vg.items() if s == size}
        o = {k: n for (s, k), n in ours.items() if s == size}
        check(v == o, "valgrind agrees on %s (%d bytes): %s" %
              (tag.split(".")[0], size, v), "memview says %s" % o)
    vg_totals = collections.Counter()
    for kind, nbytes, nblocks in recs:
        vg_totals[VG_KIND[kind]] += nblocks
    for kind in ("definitely_lost", "indirectly_lost", "possibly_lost"):
        check(vg_totals[kind] == d["summary"][kind]["blocks"],
              "valgrind's %s total = memview's (%d)" %
              (kind, vg_totals[kind]),
              str(d["summary"][kind]["blocks"]))

    # 3. mallinfo2() against the totals.
    t = d["totals"]
    h = mv_json("leaks", "heap")
    check(t["mmapped_bytes"] == int(other["mallinfo.hblkhd"][0]) and
          t["mmapped_blocks"] == int(other["mallinfo.hblks"][0]),
          "mallinfo2 hblks/hblkhd = gc's mmapped blocks", str(t))
    meta = h["totals"]["metadata"]["bytes"] + h["totals"]["tcache"]["bytes"]
    check(t["chunk_bytes"] + meta == int(other["mallinfo.uordblks"][0]),
          "mallinfo2 uordblks = gc's block chunks + tcache + its block",
          "%d + %d vs %s" % (t["chunk_bytes"], meta,
                             other["mallinfo.uordblks"]))
    # --dot draws the lost blocks, capped.
    tmp = tempfile.mkdtemp()
    try:
        dot = os.path.join(tmp, "gc.dot")
        r = mv("leaks", "gc", "--dot", dot)
        text = open(dot).read() if os.path.exists(dot) else ""
        check(r.returncode == 0 and text.startswith("digraph") and
              "cluster_" in text and "more lost blocks not drawn" not in
              text, "gc --dot writes clusters, every lost block drawn")
        check_picture(text)
        r = mv("leaks", "gc", "--dot", dot, "--force", "--draw-max", "3")
        capped = open(dot).read()
        boxes = re.findall(r"^\s*n\d+ \[", capped, re.M)
        check(r.returncode == 0 and len(boxes) == 3 and
              "more lost blocks not drawn" in capped and
              "--draw-max N draws more" in r.stdout,
              "gc --dot --draw-max 3: three boxes, and says so", r.stdout)
        # --svg: Graphviz draws the same nodes; no temporary file is left.
        svg = os.path.join(tmp, "gc.svg")
        before = set(os.listdir("/tmp"))
        r = mv("leaks", "gc", "--svg", svg)
        left = [f for f in set(os.listdir("/tmp")) - before
                if f.startswith("memview-gc-")]
        import xml.etree.ElementTree as ET
        try:
            nodes = sum(1 for g in ET.parse(svg).iter(
                "{http://www.w3.org/2000/svg}g") if g.get("class") == "node")
        except (OSError, ET.ParseError) as e:
            nodes = "not SVG: %s" % e
        # Node statements: "ID [attrs];" that are not edges nor the
        # graph-wide "node [...]" default.
        want = sum(1 for line in text.splitlines()
                   if "[" in line and "->" not in line and
                   not line.lstrip().startswith(("node [", "edge [")))
        check(r.returncode == 0 and nodes == want and not left,
              "gc --svg draws the DOT's nodes through Graphviz",
              "%s nodes, DOT has %s, temp files left %s" % (nodes, want,
                                                            left))
    finally:
        shutil.rmtree(tmp)
    r = mv("leaks", "gc")
    check(r.stdout.rstrip().splitlines()[-1].startswith(
        "gc: %d unreachable objects" % lost), "gc: summary line",
        r.stdout[-200:])


def test_heapfix():
    # Two threads, the second one's arena; nothing of the fixture lost.
    d = mv_json("heapfix", "gc")
    check(d["scanned"]["threads"] == 2 and d["scanned"]["stacks"] == 2,
          "heapfix: both threads' stacks scanned", str(d["scanned"]))
    check(d["summary"]["definitely_lost"]["blocks"] == 0,
          "heapfix: nothing definitely lost", str(d["summary"]))
    d2 = mv_json("heapfix", "gc", "--no-symbols")
    check(d2["summary"]["still_reachable"]["blocks"] > 0 and
          "mappings" in d2["heap"], "heapfix: gc without glibc's symbols",
          d2["heap"])


def refcount_key():
    objs, other = {}, {}
    with open(os.path.join(BUILD, "cores", "refcount.facts")) as f:
        for line in f:
            w = line.split()
            if w[0] == "obj":
                objs[int(w[1], 16)] = {
                    "name": w[2], "state": w[3],
                    "mistake": None if w[4] == "none" else w[4],
                    "cyclic": len(w) > 5 and w[5] == "cyclic"}
            else:
                other[" ".join(w[:-1])] = w[-1]
    return objs, other


def test_refcount():
    key, other = refcount_key()
    for by_size in ((), ("--by-size",)):
        how = " --by-size" if by_size else ""
        d = mv_json("refcount", "gc", "--refcount", "struct obj.refcnt",
                    *by_size)
        rc = d["refcount"]
        check(rc["object_size"] == int(other["sizeof struct obj"]) and
              rc["field_offset"] == int(other["offsetof struct obj.refcnt"])
              and rc["pointer_fields"] ==
              [int(other["offsetof struct obj.a"]),
               int(other["offsetof struct obj.b"])],
              "refcount%s: layout = the fixture's sizeof/offsetof" % how,
              str(rc))
        got = {int(o["address"], 16): o for o in d["objects"]}
        wrong = []
        for addr, k in sorted(key.items()):
            o = got.get(addr)
            if o is None or o["state"] != k["state"] or \
                    o["mistake"] != k["mistake"] or \
                    o["cyclic"] != k["cyclic"]:
                wrong.append("%s: expected %s/%s%s, got %s" % (
                    k["name"], k["state"], k["mistake"],
                    " cyclic" if k["cyclic"] else "",
                    "%s/%s%s" % (o["state"], o["mistake"],
                                 " cyclic" if o["cyclic"] else "")
                    if o else "not a candidate"))
        check(not wrong, "refcount%s: every object's state and mistake as "
              "the fixture's key says (%d objects)" % (how, len(key)),
              "; ".join(wrong))
        if not by_size:
            extra = sorted(set(got) - set(key))
            check(not extra, "refcount: no candidate outside the fixture's",
                  str([hex(a) for a in extra]))
            s = d["summary"]
            want_coll = sum(1 for k in key.values()
                            if k["state"] == "collectable")
            check(s["collectable"]["objects"] == want_coll and
                  d["unreachable"] == want_coll and
                  s["collectable"]["cycles"] == 1 and
                  s["over_released"] == 1 and
                  s["leaked_references"] == 2,
                  "refcount: summary (%d collectable, 1 cycle, 1 "
                  "over-released, 2 leaked)" % want_coll, str(s))
            c = d["candidates"]
            check(c["typed_roots"] > 0 and c["linked_by_size"] > 0 and
                  c["objects"] == len(key),
                  "refcount: candidates from typed globals and from "
                  "linked chunks of the size", str(c))
    r = mv("refcount", "gc", "--refcount", "struct obj.refcnt")
    last = r.stdout.rstrip().splitlines()[-1] if r.stdout else ""
    check(r.returncode == 0 and "released too often" in r.stdout and
          "a reference leaked" in r.stdout and
          last.startswith("gc --refcount: 4 collectable objects in 1 cycle"),
          "refcount: text report", r.stdout[-600:] + r.stderr)
    for spec, words in (("struct nosuch.refcnt", "nosuch"),
                        ("struct obj.nofield", "nofield"),
                        ("struct obj.name", "not an integer"),
                        ("struct obj", "TYPE.FIELD")):
        r = mv("refcount", "gc", "--refcount", spec)
        check(r.returncode != 0 and words in r.stderr,
              "refcount: '%s' is refused with a message" % spec,
              r.stderr.strip())
    # cycles from a global: the held cycle, with field names.
    d = mv_json("refcount", "cycles", "g_held")
    comps = d.get("components", [])
    addrs = sorted(int(o["address"], 16) for c in comps for o in c["objects"])
    want = sorted(a for a, k in key.items() if k["name"].startswith("held_"))
    check(d.get("cyclic_components") == 1 and addrs == want,
          "cycles g_held: the held cycle, its two objects",
          json.dumps(d)[:300])


def test_mmapmerge():
    """An mmapped chunk inside a mapping that starts with the program's
    own memory (the kernel merged them), and a block that memory alone
    holds: the fixture's key, and valgrind per allocation size."""
    blocks, other = facts("mmapmerge")
    check(other.get("merged") == ["1"],
          "mmapmerge: the chunk and the mapping below it are one mapping",
          str(other.get("merged")))
    d = mv_json("mmapmerge", "gc", "--blocks", "--show-reachable",
                "--max-blocks", "0")
    got = {int(b["address"], 16): b["kind"] for b in d["blocks"]}
    for b in blocks:
        check(got.get(b["addr"]) == b["expect"],
              "mmapmerge: %s is %s" % (b["tag"], b["expect"]),
              str(got.get(b["addr"])))
    h = mv_json("mmapmerge", "heap")
    check(not any("mmapped chunks" in n for n in h.get("notes", [])),
          "mmapmerge: heap finds every chunk mp_ counts", str(h.get("notes")))
    if not shutil.which("valgrind"):
        check(False, "valgrind is not installed")
        return
    vg = {}
    for kind, nbytes, nblocks in valgrind_records(
            os.path.join(BUILD, "fixtures", "mmapmerge")):
        if nblocks == 1:
            vg[nbytes] = VG_KIND[kind]
    for b in blocks:
        check(vg.get(b["size"]) == b["expect"],
              "mmapmerge: valgrind agrees on %s" % b["tag"],
              str(vg.get(b["size"])))


def main():
    if not os.path.exists(MEMVIEW):
        raise SystemExit("gc: %s is missing (make all)" % MEMVIEW)
    for t in (test_leaks, test_heapfix, test_mmapmerge):
        t()
    extra = globals().get("test_refcount")
    if extra:
        extra()
    sys.exit(T.summary())


if __name__ == "__main__":
    main()
