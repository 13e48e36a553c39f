"""find (issue 18: the search pwndbg and GEF users bring) against gdb's
own find on the same core, and the basic fixture's facts.

- Every match memview reports in the core's writable regions is one gdb's
  `find /b START, END, BYTES...` reports over the same regions, and no
  match is missing (gdb is the oracle; it reads the core itself).
- The fixture's own addresses are among the matches: greeting for its
  text, bytes_global for its first bytes, list_head for the pointer it
  holds (facts: addr and value).
- CLI = gdb = lldb on the same core; --max cuts and says so; usage
  errors (a size of 3, a number too big, bad hex, both --string and
  --hex, an empty --in range) exit 2 with one line.

Usage: BUILD=build python3 tests/integration/test_find.py
Ends with "find: N passed, M failed"."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402
from mvfacts import read_facts  # noqa: E402

T = Tally("find")
TARGET = ["--core", run.CORE, "--exe", run.EXE]


def mv(*args):
    p = subprocess.run([run.MEMVIEW] + TARGET + list(args),
                       capture_output=True, text=True, timeout=120,
                       env=run.ENV, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def matches(out):
    try:
        d = json.loads(out)
    except ValueError:
        return None, {}
    return [int(m["address"], 16) for m in d.get("matches", [])], d


def gdb_find(regions, pattern):
    """gdb's find over each region: the addresses it reports."""
    byte_args = ", ".join("0x%02x" % b for b in pattern)
    argv = ["gdb", "-nx", "-batch", "-q", "-ex",
            "set debuginfod enabled off", run.EXE, run.CORE]
    for start, end in regions:
        argv += ["-ex", "find /b 0x%x, 0x%x, %s" % (start, end - 1,
                                                    byte_args)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    found = set()
    for line in p.stdout.splitlines():
        m = re.match(r"^(0x[0-9a-f]+)", line.strip())
        if m:
            found.add(int(m.group(1), 16))
    return found, p.stdout + p.stderr


def writable_regions():
    rc, out, err = mv("regions", "--json")
    d = json.loads(out)
    return [(int(r["start"], 16), int(r["end"], 16)) for r in d["regions"]
            if r["perms"].startswith("rw") and r["dumped"] ==
            int(r["end"], 16) - int(r["start"], 16)]


def test_against_gdb(facts):
    regions = writable_regions()
    pointer = int(facts["value list_head"], 16)
    cases = [
        ("the pointer list_head holds", ["--max", "0", str(hex(pointer))],
         pointer.to_bytes(8, "little"), int(facts["addr list_head"], 16)),
        ("greeting's text", ["--max", "0", "--string", "hello, memview"],
         b"hello, memview", int(facts["addr greeting"], 16)),
        ("bytes_global's first bytes", ["--max", "0", "--hex",
                                        "03 0a 11 18"],
         bytes([3, 10, 17, 24]), int(facts["addr bytes_global"], 16)),
        ("a 4-byte 300 (list_storage[2].value)",
         ["--max", "0", "--size", "4", "300"],
         (300).to_bytes(4, "little"), None),
    ]
    for what, args, pattern, must in cases:
        got = set()
        problems = []
        for start, end in regions:
            rc, out, err = mv("find", "--json", "--in",
                              "0x%x,0x%x" % (start, end), *args)
            found, d = matches(out)
            if rc != 0 or found is None:
                problems.append("exit %d: %s" % (rc, err.strip()))
                break
            got |= set(found)
        want, text = gdb_find(regions, pattern)
        if got != want:
            problems.append("memview only: %s; gdb only: %s" % (
                sorted(hex(a) for a in got - want)[:5],
                sorted(hex(a) for a in want - got)[:5]))
        if must is not None and must not in got:
            problems.append("the fixture's 0x%x is not among them" % must)
        T.check("find %s: the matches gdb's find gives in the writable "
                "regions (%d)" % (what, len(want)), not problems, problems)


def test_front_ends(facts):
    pointer = facts["value list_head"]
    commands = ["find --json %s" % pointer,
                "find --json --string 'hello, memview'",
                "find --json --max 1 %s" % pointer]
    runs = run.core_runs(commands)
    for i, what in enumerate(("a pointer", "a string", "--max 1")):
        values, problems = run.parse_json_outputs(runs, i)
        problems += run.identical(values)
        T.check("find %s: cli = gdb = lldb" % what, not problems, problems)
    values, _ = run.parse_json_outputs(runs, 2)
    d = values.get("cli", {})
    T.check("find --max 1: one match, truncated",
            len(d.get("matches", [])) == 1 and d.get("truncated") is True,
            d)
    rc, out, err = mv("find", pointer)
    lines = out.splitlines()
    T.check("find text: the global named, the summary last",
            rc == 0 and any(l.startswith("0x%016x  <list_head>" %
                                         int(facts["addr list_head"], 16))
                            for l in lines) and
            re.match(r"\d+ match(es)? of %s \(8 bytes\)" % pointer,
                     lines[-1] if lines else ""), out)
    rc, out, err = mv("find", "--in", "%s,+64" % facts["value list_head"],
                      facts["value list_head->next"])
    T.check("find: a heap match named as its block",
            rc == 0 and "heap: in-use block %s" % facts["value list_head"]
            in out, out)


def test_window_seams():
    """find reads 1 MiB at a time: a value that straddles a window's end,
    or ends right at it, is found exactly once.  bigbuf's recs[k].next
    holds &recs[k + 1] (struct rec: next at 24 of 32 bytes, the
    fixture's layout); the --in range starts so that the seam falls j
    bytes into that word.  gdb's find over the same range agrees."""
    facts = read_facts(os.path.join(run.BUILD, "cores", "bigbuf.facts"))
    core = os.path.join(run.BUILD, "cores", "bigbuf.core")
    exe = os.path.join(run.BUILD, "fixtures", "bigbuf")
    recs = int(facts["value recs"], 16)
    k = 100000
    where = recs + 32 * k + 24
    value = recs + 32 * (k + 1)
    problems = []
    for j in range(0, 9):
        lo = where + j - (1 << 20)
        p = subprocess.run([run.MEMVIEW, "--core", core, "--exe", exe,
                            "find", "--json", "--max", "0", "--in",
                            "0x%x,+0x200000" % lo, "0x%x" % value],
                           capture_output=True, text=True, timeout=120,
                           env=run.ENV, stdin=subprocess.DEVNULL)
        found, d = matches(p.stdout)
        if found != [where]:
            problems.append("seam %d bytes in: %s %s" % (j, found,
                                                          p.stderr[-200:]))
    g = subprocess.run(["gdb", "-nx", "-batch", "-q", "-ex",
                        "set debuginfod enabled off", exe, core, "-ex",
                        "find /g 0x%x, +0x200000, 0x%x" % (
                            where - (1 << 20), value)],
                       capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if "0x%x" % where not in g.stdout or "1 pattern found" not in g.stdout:
        problems.append("gdb: %s" % g.stdout[-300:])
    T.check("find across 1 MiB window seams: each match once (9 seams, "
            "gdb agrees)", not problems, problems)


def test_usage():
    for args, what in ((["--size", "3", "1"], "a size of 3"),
                       (["--size", "1", "256"], "256 in one byte"),
                       (["--hex", "zz"], "bad hex"),
                       (["--string", "--hex", "ab"], "--string and --hex"),
                       (["--in", "0x1000,0x1000", "1"], "an empty range"),
                       (["nosuch"], "not a number")):
        rc, out, err = mv("find", *args)
        T.check("find %s: usage error in one line" % what,
                rc == 2 and not out and len(err.strip().splitlines()) == 1,
                (rc, out, err))


def main():
    facts = read_facts(run.FACTS)
    test_against_gdb(facts)
    test_front_ends(facts)
    test_window_seams()
    test_usage()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
