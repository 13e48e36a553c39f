"""heap --bins (pwndbg's bins and tcachebins, issue 18) on the bins
fixture's core, against three answers memview does not compute:

- the fixture's own key: for each thread's tcache bin and each fastbin
  the blocks it freed into it, in list order, and the thread's tid;
- glibc's own malloc_info() written by the fixture just before the
  core: per arena the fastbin total (count, bytes), the unsorted bin's
  and each other bin's count and bytes, in bin order;
- gdb walking main_arena (and its .next arenas) and each thread's
  `tcache` with glibc's debug symbols (tests/integration/gdb_bins.py):
  every list with the same chunks in the same order.

Also the text (one head per tcache naming its thread, a line per list),
--bins with --chunks refused, and CLI = gdb = lldb.

Usage: BUILD=build python3 tests/integration/test_bins.py
Ends with "bins: N passed, M failed"."""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

T = Tally("bins")
EXE = os.path.join(run.BUILD, "fixtures", "bins")
CORE = os.path.join(run.BUILD, "cores", "bins.core")
FACTS = os.path.join(run.BUILD, "cores", "bins.facts")
HERE = os.path.dirname(os.path.abspath(__file__))


def mv(*args):
    p = subprocess.run([run.MEMVIEW, "--core", CORE, "--exe", EXE, "heap"]
                       + list(args), capture_output=True, text=True,
                       timeout=120, env=run.ENV, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def read_key():
    """(tcache, fastbin, tids, malloc_info root) from the facts."""
    tcache, fast, tids, xml, in_xml = {}, {}, {}, [], False
    with open(FACTS) as f:
        for line in f:
            w = line.split()
            if line.startswith("malloc_info begin"):
                in_xml = True
            elif line.startswith("malloc_info end"):
                in_xml = False
            elif in_xml:
                xml.append(line)
            elif w[0] == "tid":
                tids[w[1]] = int(w[2])
            elif w[0] == "tcache":
                tcache[(int(w[1]), int(w[2], 16))] = \
                    [int(a, 16) for a in w[4:]]
            elif w[0] == "fastbin":
                fast[(w[1], int(w[2], 16))] = [int(a, 16) for a in w[4:]]
    return tcache, fast, tids, ET.fromstring("".join(xml))


def blocks(lst):
    return [int(c["block"], 16) for c in lst["chunks"]]


def test_key(d, tcache, fast, tids):
    lists = d["lists"]
    problems = []
    for (tid, size), want in sorted(tcache.items()):
        got = [l for l in lists if l["kind"] == "tcache" and
               l["tid"] == tid and l["size"] == size]
        if len(got) != 1 or blocks(got[0]) != want or \
                got[0]["count"] != len(want):
            problems.append("tcache of tid %d, 0x%x: %r, want %s" % (
                tid, size, got, [hex(a) for a in want]))
    T.check("each thread's tcache bins (%d) hold the blocks the thread "
            "freed, last first, their counts" % len(tcache),
            not problems, problems)
    # The worker's arena is the one its tcache lives in.
    worker_arena = {l["arena"] for l in lists if l["kind"] == "tcache"
                    and l["tid"] == tids["worker"]}
    problems = []
    for (who, size), want in sorted(fast.items()):
        arenas = {0} if who == "main" else worker_arena
        got = [l for l in lists if l["kind"] == "fastbin" and
               l["size"] == size and l["arena"] in arenas]
        if len(got) != 1 or blocks(got[0]) != want:
            problems.append("fastbin %s 0x%x: %r, want %s" % (
                who, size, got, [hex(a) for a in want]))
    T.check("each arena's fastbins hold what its thread freed past the "
            "tcache", not problems, problems)


def test_malloc_info(d, info):
    lists = d["lists"]
    heaps = info.findall("heap")
    arenas = sorted({l["arena"] for l in lists if l["kind"] != "tcache"})
    problems = []
    if len(heaps) != len(arenas):
        problems.append("malloc_info has %d arenas, memview lists free "
                        "chunks in %s" % (len(heaps), arenas))
    for heap, arena in zip(heaps, arenas):
        mine = [l for l in lists if l["arena"] == arena]

        def stat(ls):
            return (sum(l["length"] for l in ls),
                    sum(c["size"] for l in ls for c in l["chunks"]))
        fast = [l for l in mine if l["kind"] == "fastbin"]
        tf = heap.find("total[@type='fast']")
        if stat(fast) != (int(tf.get("count")), int(tf.get("size"))):
            problems.append("arena %d fastbins %s, malloc_info %s" % (
                arena, stat(fast), tf.attrib))
        sizes = heap.find("sizes")
        # Past the fastbins malloc_info sums the raw size fields
        # (glibc's chunksize_nomask), PREV_INUSE included: set on every
        # binned chunk, as the chunk before a free one is in use (else
        # they would have merged).  So one byte more a chunk.
        entries = [(int(e.get("count")), int(e.get("total")))
                   for e in sizes.findall("size")]
        # malloc_info lists the fastbins first, then the other bins.
        nfast = 0
        while sum(c for c, _ in entries[:nfast]) < stat(fast)[0]:
            nfast += 1
        rest = [l for l in mine if l["kind"] in ("smallbin", "largebin")]
        entries[nfast:] = [(c, t - c) for c, t in entries[nfast:]]
        if [stat([l]) for l in rest] != entries[nfast:]:
            problems.append("arena %d bins %s, malloc_info %s" % (
                arena, [stat([l]) for l in rest], entries[nfast:]))
        u = sizes.find("unsorted")
        uns = [l for l in mine if l["kind"] == "unsorted"]
        want = (int(u.get("count")), int(u.get("total")) -
                int(u.get("count"))) if u is not None else (0, 0)
        if stat(uns) != want:
            problems.append("arena %d unsorted %s, malloc_info %s" % (
                arena, stat(uns), want))
    T.check("per arena (%d): fastbins, unsorted and each bin's count "
            "and bytes as glibc's malloc_info() says" % len(heaps),
            not problems, problems)


def test_gdb(d):
    p = subprocess.run(["gdb", "-nx", "-batch", "-q", "-ex",
                        "set debuginfod enabled off", EXE, CORE, "-ex",
                        "source " + os.path.join(HERE, "gdb_bins.py")],
                       capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    line = [l for l in p.stdout.splitlines() if l.startswith("BINS ")]
    if not line:
        T.check("gdb walks the lists", False, (p.stdout + p.stderr)[-500:])
        return
    g = json.loads(line[0][5:])
    want = set()
    for a in g["arenas"]:
        for l in a["lists"]:
            want.add((a["address"], l["kind"], l["index"],
                      tuple(l["chunks"])))
    for t in g["tcaches"]:
        for b in t["bins"]:
            want.add((t["tid"], "tcache", b["index"], b["count"],
                      tuple(b["chunks"])))
    got = set()
    for l in d["lists"]:
        chunks = tuple(int(c["chunk"], 16) for c in l["chunks"])
        if l["kind"] == "tcache":
            got.add((l["tid"], "tcache", l["index"], l["count"], chunks))
        else:
            got.add((int(l["arena_address"], 16), l["kind"], l["index"],
                     chunks))
    T.check("every list (%d) is the one gdb walks from main_arena and "
            "each thread's tcache, chunk by chunk" % len(want),
            got == want, "memview only %s; gdb only %s" % (
                sorted(got - want)[:4], sorted(want - got)[:4]))


def test_text(tids):
    rc, out, err = mv("--bins")
    lines = out.splitlines()
    heads = [l for l in lines if l.startswith("tcache of thread")]
    problems = []
    if rc or len(heads) != 2 or \
            not any("(tid %d)" % tids["main"] in h for h in heads) or \
            not any("(tid %d)" % tids["worker"] in h for h in heads):
        problems.append("tcache heads %r" % heads)
    if not re.match(r"\d+ free chunks \(\d+ bytes\) on \d+ lists$",
                    lines[-1] if lines else ""):
        problems.append("last line %r" % lines[-1:])
    if not any(l.startswith("  0x30 [7]: 0x") for l in lines):
        problems.append("no '  0x30 [7]: ...' line")
    T.check("text: a head per tcache naming its thread, a line per list",
            not problems, problems or out[:300])
    rc, out, err = mv("--bins", "--chunks")
    T.check("--bins with --chunks is a usage error",
            rc == 2 and "do not go together" in err, (rc, err))


def test_front_ends():
    runs = run.core_runs(["heap --bins --json"], core=CORE, exe=EXE)
    values, problems = run.parse_json_outputs(runs, 0)
    problems += run.identical(values)
    T.check("heap --bins: cli = gdb = lldb", not problems and
            len(values) == 3, problems)


def main():
    tcache, fast, tids, info = read_key()
    rc, out, err = mv("--bins", "--json")
    if rc:
        T.check("heap --bins --json runs", False, err)
        return T.summary()
    d = json.loads(out)
    test_key(d, tcache, fast, tids)
    test_malloc_info(d, info)
    test_gdb(d)
    test_text(tids)
    test_front_ends()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
