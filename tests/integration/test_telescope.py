"""view --depth N (pwndbg's telescope, issue 18) against the telescope
fixture's own pointers and gdb's x/gx on the same core.

- For each of the fixture's chains (an intrusive circular job list, an
  argv copy, an object whose first member is its ops table, a 100-cell
  free list, a pointer to a number) the words memview reads along the
  chain are the ones the program stored (its "hop" facts), at the
  addresses it stored them, and the chain ends as the program says it
  must: back at the list head (cycle), at the string "memview", at the
  function in the ops table (code), after N words (depth), at a number.
- Every hop memview reports is what gdb's `x/gx ADDRESS` prints.
- Text: "; holds" per hop, "[cycle]", the string; a typed view of the
  service follows its ops pointer to the function; --depth 1 is plain
  --pointers; --depth 0 and 65 are usage errors; CLI = gdb = lldb.

Usage: BUILD=build python3 tests/integration/test_telescope.py
Ends with "telescope: N passed, M failed"."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

T = Tally("telescope")
EXE = os.path.join(run.BUILD, "fixtures", "telescope")
CORE = os.path.join(run.BUILD, "cores", "telescope.core")
FACTS = os.path.join(run.BUILD, "cores", "telescope.facts")


def mv(*args):
    p = subprocess.run([run.MEMVIEW, "--core", CORE, "--exe", EXE, "view"]
                       + list(args), capture_output=True, text=True,
                       timeout=120, env=run.ENV, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def pointer(s):
    return 0 if s == "(nil)" else int(s, 16)


def read_key():
    hops, ends, other = {}, {}, {}
    with open(FACTS) as f:
        for line in f:
            w = line.split()
            if w[0] == "hop":
                hops.setdefault(w[1], []).append(
                    (int(w[2]), pointer(w[3]), pointer(w[4])))
            elif w[0] == "end":
                ends[w[1]] = w[2]
            else:
                other[" ".join(w[:-1])] = w[-1]
    for name in hops:
        hops[name] = [(at, word) for _, at, word in sorted(hops[name])]
    return hops, ends, other


def gdb_words(addresses):
    """gdb's x/gx at each address, on the same core."""
    argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
            EXE, CORE]
    for a in addresses:
        argv += ["-ex", "x/gx 0x%x" % a]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    words = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^(0x[0-9a-f]+)(?: <[^>]*>)?:\s+(0x[0-9a-f]+)", line)
        if m:
            words[int(m.group(1), 16)] = int(m.group(2), 16)
    return words


def chain_of(name, depth):
    rc, out, err = mv("&" + name, "8", "--depth", str(depth), "--json")
    if rc:
        return None, err
    d = json.loads(out)
    first = [p for p in d["pointers"] if p["offset"] == 0]
    return (first[0] if first else None), out


def test_chains(hops, ends, other):
    depth = 64
    seen = []
    for name in ("g_jobs", "g_argv", "g_service", "g_free_cells",
                 "g_counter"):
        key = hops[name]
        p, out = chain_of(name, depth)
        problems = []
        if not p:
            T.check("%s: a chain" % name, False, out[:300])
            continue
        got = [(key[0][0], int(p["value"], 16))] + [
            (int(h["address"], 16), int(h["value"], 16)) for h in p["chain"]]
        seen += got
        want = list(key)
        end = ends[name]
        if end == "cycle":
            # Back at the first word read: not read twice.
            pass
        elif end == "value" and name == "g_free_cells":
            want, end = want[:depth], "depth"
        elif name == "g_counter":
            want.append((want[0][1], int(other["word g_counter"])))
        if got != want:
            problems.append("words %s, want %s" % (
                [(hex(a), hex(w)) for a, w in got[:6]],
                [(hex(a), hex(w)) for a, w in want[:6]]))
        if p.get("chain_end") != end:
            problems.append("ends %r, want %r" % (p.get("chain_end"), end))
        if name == "g_argv" and p["chain"][-1]["details"].get("string") != \
                other["string g_argv"]:
            problems.append("last hop %r, want the string %r" % (
                p["chain"][-1], other["string g_argv"]))
        if name == "g_service" and \
                p["chain"][-1]["details"].get("symbol") != "service_run":
            problems.append("last hop %r, want service_run" %
                            p["chain"][-1])
        T.check("%s: %d words as the program stored them, ends at %s" %
                (name, len(want), end), not problems, problems)
    words = gdb_words([a for a, _ in seen])
    wrong = ["0x%x: memview 0x%x, gdb %s" % (a, w, hex(words[a])
                                             if a in words else None)
             for a, w in seen if words.get(a) != w]
    T.check("every hop (%d) is gdb's x/gx" % len(seen), not wrong, wrong)


def test_text(hops):
    problems = []
    rc, out, err = mv("&g_jobs", "8", "--depth", "10")
    line = [l for l in out.splitlines() if "holds" in l]
    if rc or len(line) != 1 or line[0].count("; holds") != 3 or \
            not line[0].rstrip().endswith("[cycle]"):
        problems.append("g_jobs: %r %r" % (out, err))
    rc, out, err = mv("&g_argv", "8", "--depth", "3")
    if rc or not any("; holds 0x%x -> " % hops["g_argv"][1][1] in l and
                     l.rstrip().endswith('"memview"')
                     for l in out.splitlines()):
        problems.append("g_argv: %r" % out)
    rc, out, err = mv("&g_free_cells", "8", "--depth", "5")
    line = [l for l in out.splitlines() if "holds" in l]
    if rc or len(line) != 1 or line[0].count("; holds") != 4 or \
            not line[0].rstrip().endswith("; ..."):
        problems.append("g_free_cells: %r" % out)
    T.check("text: a hop per '; holds', [cycle], the string, '; ...'",
            not problems, problems)

    rc, out, err = mv("g_service", "--depth", "4")
    ops = [l for l in out.splitlines() if " ops" in l]
    T.check("typed view: the ops field's chain ends at <service_run>",
            rc == 0 and len(ops) == 1 and "<service_run>" in ops[0] and
            "; holds 0x%x" % hops["g_service"][2][1] in ops[0], out)

    rc1, one, _ = mv("&g_jobs", "8", "--depth", "1")
    rc2, plain, _ = mv("&g_jobs", "8", "--pointers")
    T.check("--depth 1 is --pointers", rc1 == rc2 == 0 and one == plain and
            "holds" not in one, one)
    problems = []
    for bad in ("0", "65"):
        rc, out, err = mv("&g_jobs", "8", "--depth", bad)
        if rc != 2 or "--depth must be 1 to 64" not in err:
            problems.append("--depth %s: %d %r" % (bad, rc, err))
    rc, out, err = mv("&g_jobs", "8", "--depth", "3", "--as", "Q")
    if rc != 2 or "--depth goes with" not in err:
        problems.append("--depth with --as: %d %r" % (rc, err))
    T.check("usage errors", not problems, problems)


def test_front_ends():
    runs = run.core_runs(["view --json --depth 8 &g_jobs 8",
                          "view --json --depth 64 &g_free_cells 8"],
                         core=CORE, exe=EXE)
    for i, what in enumerate(("a cycle", "64 words")):
        values, problems = run.parse_json_outputs(runs, i)
        problems += run.identical(values)
        T.check("%s: cli = gdb = lldb" % what, not problems and
                len(values) == 3, problems)


def main():
    hops, ends, other = read_key()
    test_chains(hops, ends, other)
    test_text(hops)
    test_front_ends()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
