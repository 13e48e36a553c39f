"""lldb: loading the plugin keeps lldb's own commands typed short
(issue 18.1).  `memview` shares "me" and "mem" with `memory`; without the
plugin's aliases, `mem read` says "Ambiguous command 'mem'".  lldb
without the plugin is the oracle: `memory read` of the same bytes.

Usage: BUILD=build python3 tests/integration/test_lldb_names.py
Prints one line per case and "lldb-names: N passed, M failed".
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

T = Tally("lldb-names")
report = T.report
READ = "read -c 16 &padded_global"


def lldb(commands):
    argv = ["lldb", "-b", "--no-lldbinit", "-o",
            "target create %s --core %s" % (run.EXE, run.CORE)]
    for c in commands:
        argv += ["-o", c]
    p = subprocess.run(argv, capture_output=True, text=True, env=run.ENV,
                       timeout=run.TIMEOUT)
    return p.stdout + p.stderr


def dumps(text):
    return re.findall(r"^0x[0-9a-f]+: .*$", text, re.M)


def main():
    expected = dumps(lldb(["memory " + READ]))
    if len(expected) != 1:
        report("lldb memory read without the plugin", ["no dump"])
    plugin = "command script import %s/lldb/memview.py" % run.ROOT
    for short in ("mem", "me", "memor"):
        out = lldb([plugin, short + " " + READ, "memview padded_global"])
        problems = []
        if dumps(out) != expected:
            problems.append("%r" % out[-400:])
        if "struct padded at" not in out:
            problems.append("memview no longer answers: %r" % out[-300:])
        report("'%s read' with the plugin loaded = memory read" % short,
               problems)
    # A user's own alias of the prefix stands.
    out = lldb(["command alias mem expression", plugin, "mem 6*7"])
    report("a user's alias 'mem' is left alone",
           [] if re.search(r"= 42$", out, re.M) else ["%r" % out[-300:]])
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
