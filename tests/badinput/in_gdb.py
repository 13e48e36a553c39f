"""The bad-input catalogue inside gdb: sourced by run.py after
gdb/memview.py.

Reads the cases from the JSON file named by MV_CASES (see run.py's
debugger_cases) and appends one JSON line per event to the file named by
MV_OUT, flushed at once, so that run.py sees which case was running if
gdb dies or hangs.  For each case, as a user would type it: drop the
previous core, `file EXE`, `core-file CORE`; the memview command (its
time and the growth of gdb's peak RSS); `print 6*7`; then, in a second
inferior that holds a known-good executable, a memview command that must
still work.  A failing command does not stop the ones after it.
"""

import os
import shlex
import sys

import gdb

# gdb's `source` puts nothing on sys.path: the shared part sits here.
_here = os.path.dirname(os.path.realpath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import in_debugger  # noqa: E402


def _execute(command):
    """[command, succeeded, text]: gdb's output, or its error message."""
    try:
        return [command, True, gdb.execute(command, to_string=True)]
    except gdb.error as e:
        return [command, False, str(e)]


def _load(case):
    """The steps that name the case's files.  Before them, the previous
    core and every objfile (gdb keeps a core's shared libraries after
    `core-file` alone) are dropped, so that a refused file leaves
    nothing behind."""
    _execute("core-file")
    _execute("file")
    steps = []
    # file's path quoted, as a user types one with a space (a TMPDIR may
    # hold one); core-file takes the rest of the line as it is.
    if case["exe"]:
        steps.append(_execute("file " + shlex.quote(case["exe"])))
    if case["core"]:
        steps.append(_execute("core-file " + case["core"]))
    return steps


def _mark(name):
    # The marker lets run.py give each case what gdb wrote to stderr.
    for stream in (gdb.STDOUT, gdb.STDERR):
        gdb.write("MV-CASE %s\n" % name, stream)
        gdb.flush(stream)


def _good(good):
    """The known-good executable is inferior 2, beside the case's."""
    _execute("inferior 2")
    result = _execute(good["command"])
    _execute("inferior 1")
    return result


in_debugger.catalogue(
    _execute, _load, _mark, "print 6*7",
    setup=lambda good: [_execute("add-inferior -exec " + good["exe"])],
    good=_good)
