"""Pictures that read (issue 18): graph --svg and gc --svg choose what
to draw so that the page lays out legibly, and say how to draw more;
chains are one box; the pictures render to PNG (rsvg-convert, Debian
librsvg2-bin) at a size a screen shows.

- graph g_roots on the refgraph core (4,129 nodes reached from four
  globals, by the program's own breadth-first search): drawn to a depth
  D the summary names, at most about 60 boxes; every sampled node the
  program says lies at distance <= D is drawn (by its address), none
  deeper; the "N more below" boxes and the drawn objects add up to the
  program's count (+1: the g_roots array); --draw-depth 2 draws depth
  2, --draw-depth 0 up to the 1,000 cap.
- graph list on the deepsize core (a 100-node list): the root, the
  first node, one "struct node × 98" box, the last node.
- The PNGs of graph g_roots, gc on the leaks core and sizeof-deep of
  the deepsize list stay within 4,000 px a side (the old drawings of
  these were 6,602 px tall, or past rsvg's 32,767 px limit).

Usage: BUILD=build python3 tests/integration/test_pictures.py
Ends with "pictures: N passed, M failed"."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

T = Tally("pictures")
CORES = os.path.join(run.BUILD, "cores")
FIX = os.path.join(run.BUILD, "fixtures")
MAX_SIDE = 4000


def mv(fixture, *args):
    p = subprocess.run([run.MEMVIEW, "--core",
                        os.path.join(CORES, fixture + ".core"), "--exe",
                        os.path.join(FIX, fixture)] + list(args),
                       capture_output=True, text=True, timeout=300,
                       env=run.ENV, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def png_size(svg, png):
    p = subprocess.run(["rsvg-convert", svg, "-o", png],
                       capture_output=True, text=True, timeout=300)
    if p.returncode:
        return None, p.stderr.strip()
    with open(png, "rb") as f:
        w, h = struct.unpack(">II", f.read(24)[16:24])
    return (w, h), ""


def dot_boxes(text):
    return dict(re.findall(r'^\s*([nmc]\d+) \[(?:shape=plaintext, )?'
                           r'label="([^"]*)"', text, re.M))


def test_refgraph(tmp):
    reached = sample = None
    sample = []
    with open(os.path.join(CORES, "refgraph.facts")) as f:
        for line in f:
            w = line.split()
            if w[0] == "reached":
                reached = int(w[1])
            elif w[0] == "node" and int(w[2]) > 0:
                sample.append((int(w[1], 16), int(w[2])))
    dot = os.path.join(tmp, "g.dot")
    svg = os.path.join(tmp, "g.svg")
    rc, out, err = mv("refgraph", "graph", "g_roots", "--dot", dot,
                      "--svg", svg)
    m = re.search(r"drawn: (\d+) of (\d+) objects, to depth (\d+)", out)
    if rc or not m:
        T.check("graph g_roots --svg: says what it drew", False, out + err)
        return
    depth = int(m.group(3))
    text = open(dot).read()
    boxes = dot_boxes(text)
    objects = {k: v for k, v in boxes.items() if k.startswith("n")}
    more = [int(v.split()[0]) for k, v in boxes.items()
            if k.startswith("m")]
    T.check("graph g_roots: %d boxes at most, '--draw-depth' named" %
            run_legible(), len(objects) <= run_legible() and
            "--draw-depth N" in out and "--draw-depth N" in text,
            "%d boxes" % len(objects))
    T.check("graph g_roots: drawn + 'more below' = the program's %d "
            "nodes + the array" % reached,
            int(m.group(2)) == reached + 1 and
            len(objects) + sum(more) == reached + 1,
            "%d drawn, %d below" % (len(objects), sum(more)))
    addrs = {int(a, 16) for a in re.findall(r"\\n(0x[0-9a-f]+), ",
                                            text)}
    wrong = ["0x%x at distance %d" % (a, d) for a, d in sample
             if (d <= depth) != (a in addrs)]
    T.check("graph g_roots: the sampled nodes at distance <= %d drawn, "
            "no deeper one (%d sampled)" % (depth, len(sample)),
            not wrong, wrong)
    size, e = png_size(svg, os.path.join(tmp, "g.png"))
    T.check("graph g_roots: the PNG fits %d px" % MAX_SIDE,
            size and max(size) <= MAX_SIDE, size or e)
    for d in ("2", "0"):
        rc, out, err = mv("refgraph", "graph", "g_roots", "--dot", dot,
                          "--force", "--draw-depth", d)
        text = open(dot).read()
        boxes = [k for k in dot_boxes(text) if k[0] in "nc"]
        addrs = {int(a, 16) for a in re.findall(r"\\n(0x[0-9a-f]+), ",
                                                text)}
        if d == "2":
            ok = "to depth 2 of" in out and \
                all((dd <= 2) == (a in addrs) for a, dd in sample)
        else:
            ok = len(boxes) == 1000 and "nearest the root" in out
        T.check("graph g_roots --draw-depth %s" % d, bool(ok), out[-300:])


def run_legible():
    return 60


def test_list(tmp):
    objects = None
    with open(os.path.join(CORES, "deepsize.facts")) as f:
        for line in f:
            if line.startswith("deep list.objects "):
                objects = int(line.split()[2])
    dot = os.path.join(tmp, "l.dot")
    rc, out, err = mv("deepsize", "graph", "list", "--dot", dot)
    boxes = dot_boxes(open(dot).read()) if rc == 0 else {}
    chain = [v for k, v in boxes.items() if k.startswith("c")]
    T.check("graph list: the root, two nodes and one box of the other "
            "%d" % (objects - 2),
            len(boxes) == 4 and len(chain) == 1 and
            chain[0].startswith("struct node \u00d7 %d\\n.next chain" %
                                (objects - 2)), boxes)


def test_sizes(tmp):
    for what, fixture, args in (
            ("gc --svg", "leaks", ["gc"]),
            ("sizeof-deep list --svg", "deepsize", ["sizeof-deep",
                                                    "list"])):
        svg = os.path.join(tmp, "p.svg")
        rc, out, err = mv(fixture, *(args + ["--svg", svg, "--force"]))
        size, e = png_size(svg, os.path.join(tmp, "p.png")) if rc == 0 \
            else (None, err)
        T.check("%s: the PNG fits %d px" % (what, MAX_SIDE),
                size and max(size) <= MAX_SIDE, size or e)


def main():
    tmp = tempfile.mkdtemp()
    try:
        test_refgraph(tmp)
        test_list(tmp)
        test_sizes(tmp)
    finally:
        shutil.rmtree(tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
