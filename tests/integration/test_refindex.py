#!/usr/bin/env python3
"""path-to and referrers over the reverse pointer index (issue 20),
against refgraph's own answers: a random graph of 20,000 blocks whose
program ran its own breadth-first search from its globals and counted
each node's holders.

- path-to (backwards over the index): found exactly when the program's
  search reached the node, with as many pointers as its distance, from
  a g_roots global, each hop pointing at the next hop's block;
- referrers: the heap referrers are the program's holder count (the
  fields, and the words of a hub block of 300 pointers to the sampled
  nodes, each several times, half of them past its 255th word: the
  index keeps such a holder once per node and all its targets);
- in one session (the ctypes binding, as gdb and lldb use it): the first
  referrers scans the heap, the second builds the index, the third reads
  it; all three answer as the CLI does, and path-to again gives the same
  chain."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

T = Tally("refindex")
EXE = os.path.join(run.BUILD, "fixtures", "refgraph")
CORE = os.path.join(run.BUILD, "cores", "refgraph.core")
FACTS = os.path.join(run.BUILD, "cores", "refgraph.facts")


def facts():
    nodes = []
    reached = None
    with open(FACTS) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "node":
                nodes.append((int(w[1], 16), int(w[2]), int(w[3])))
            elif w and w[0] == "reached":
                reached = int(w[1])
    return nodes, reached


def cli(*args):
    p = subprocess.run([os.path.join(run.BUILD, "memview"), "--core", CORE,
                        "--exe", EXE] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check_chain(addr, dist, r):
    """Problems with path-to's JSON r for a node at dist."""
    if not dist:
        return [] if not r["found"] and not r["chain"] else ["found"]
    chain = r["chain"]
    bad = []
    if not r["found"] or len(chain) != dist:
        return ["%d pointers, the program says %d" % (len(chain), dist)]
    if chain[0]["kind"] != "global" or \
            not chain[0]["root"].startswith("g_roots"):
        bad.append("root %s" % chain[0])
    for a, b in zip(chain, chain[1:]):
        if b["kind"] != "heap" or b["chunk"] != a["points_to"]:
            bad.append("hop %s does not follow %s" % (b, a))
    if int(chain[-1]["points_to"], 16) != addr:
        bad.append("ends at %s" % chain[-1]["points_to"])
    return bad


def heap_referrers(text):
    r = json.loads(text)
    return sorted(x["holder"] for x in r["referrers"] if x["kind"] == "heap")


def main():
    nodes, reached = facts()
    T.check("the fixture reached some nodes and left some unreachable",
            reached and 100 < reached < 20000 and
            any(d == 0 for _, d, _ in nodes), reached)
    cli_paths, cli_refs = {}, {}
    for addr, dist, holders in nodes:
        rc, out, err = cli("path-to", "%#x" % addr, "--json")
        if rc:
            T.check("path-to %#x" % addr, False, err)
            continue
        r = json.loads(out)
        cli_paths[addr] = r["chain"]
        T.check("path-to %#x: %d pointers as the program's search" %
                (addr, dist), not check_chain(addr, dist, r),
                check_chain(addr, dist, r))
        rc, out, err = cli("referrers", "%#x" % addr, "--json", "--max", "0")
        refs = heap_referrers(out) if not rc else None
        cli_refs[addr] = refs
        T.check("referrers %#x: %d heap holders" % (addr, holders),
                refs is not None and len(refs) == holders, (refs, err))

    os.environ["MEMVIEW_LIBRARY"] = os.path.join(run.BUILD, "libmemview.so")
    sys.path.insert(0, os.path.join(run.ROOT, "python"))
    import memview_core
    out = []
    s = memview_core.Session()
    s.set_output(out.append)
    s.open_core(CORE, EXE)

    def command(name, rest):
        del out[:]
        s.run_line(name, rest)
        return "".join(out)
    addr = next(a for a, d, h in nodes if h >= 1)
    answers = [heap_referrers(command("referrers", "%#x --json --max 0" %
                                      addr)) for _ in range(3)]
    T.check("one session: referrers scanned, then indexed, then read "
            "from the index, as the CLI", answers == [cli_refs[addr]] * 3,
            answers)
    same = True
    for a, d, h in nodes:
        got = heap_referrers(command("referrers", "%#x --json --max 0" % a))
        chain = json.loads(command("path-to", "%#x --json" % a))["chain"]
        same = same and got == cli_refs[a] and chain == cli_paths[a]
    T.check("one session: every sample's referrers and path from the "
            "session's index are the CLI's", same)
    s.close()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
