#!/usr/bin/python3
"""big_cmd.py: one memview command line at a time on bench-big's cores,
with big_bench.py's measure (wall, CPU, peak anonymous and file-backed
memory), for comparing builds by hand.

Usage: python3 bench/big_cmd.py MEMVIEW MILLIONS COMMAND...
  e.g. python3 bench/big_cmd.py build/memview 80 gc path-to referrers
path-to and referrers are given the generator's known path target.  The
cores are big_bench.py's (BIG_DIR, or BUILD/bench-big): make them with
`make bench-big` first."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import big_bench as B  # noqa: E402


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    mv, m = sys.argv[1], int(sys.argv[2])
    core = os.path.join(B.DIR, "big%d.core" % m)
    f = B.facts(os.path.join(B.DIR, "big%d.facts" % m))
    target = int(f["path.target"], 16) ^ B.KEY
    for cmd in sys.argv[3:]:
        args = [cmd] + (["%#x" % target]
                        if cmd in ("path-to", "referrers") else [])
        r = B.measure([mv, "--core", core, "--exe", B.GEN] + args +
                      ["--json"])
        ok = True
        try:
            json.loads(r[4])
        except ValueError:
            ok = False
        print("%-10s wall %6.2f s  cpu %6.2f s  anon %6d MB  file %6d MB%s"
              % ((cmd,) + tuple(r[:4]) + ("" if ok else "  (no JSON: "
                                         + r[5].strip()[:120] + ")",)))


if __name__ == "__main__":
    main()
