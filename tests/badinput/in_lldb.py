"""The bad-input catalogue inside lldb: imported by run.py with `command
script import` after lldb/memview.py.

Reads the cases from the JSON file named by MV_CASES (see run.py's
debugger_cases) and appends one JSON line per event to the file named by
MV_OUT, flushed at once, so that run.py sees which case was running if
lldb dies or hangs.  For each case, through the command interpreter as a
user would type it: `target create --core CORE EXE` (if lldb refuses the
core, `target create EXE` as the user's next try); the memview command
(its time and the growth of lldb's peak RSS); `expr 6*7`; then `target
create` of a known-good executable and a memview command that must still
work there.  Uses the SB API so that a failing command does not end the
session, as it would in `lldb -b`.
"""

import os
import shlex
import sys

import lldb

# `command script import` puts this directory on sys.path already; said
# again so that the shared part is found however this file is loaded.
_here = os.path.dirname(os.path.realpath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import in_debugger  # noqa: E402


def context(debugger):
    """What a command typed at the prompt gets: the selected target, its
    process, thread and frame, as far as they exist."""
    target = debugger.GetSelectedTarget()
    if not target.IsValid():
        return lldb.SBExecutionContext()
    process = target.GetProcess()
    if not process.IsValid():
        return lldb.SBExecutionContext(target)
    thread = process.GetSelectedThread()
    if not thread.IsValid():
        return lldb.SBExecutionContext(process)
    frame = thread.GetSelectedFrame()
    if not frame.IsValid():
        return lldb.SBExecutionContext(thread)
    return lldb.SBExecutionContext(frame)


def execute(debugger, command):
    """[command, succeeded, text]: the output, or the error message."""
    result = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(
        command, context(debugger), result, False)
    if result.Succeeded():
        return [command, True, result.GetOutput() or ""]
    return [command, False, result.GetError() or ""]


def load(debugger, case):
    execute(debugger, "target delete --all")
    steps = []
    # Quoted, as a user types a path with a space (a TMPDIR may hold one).
    exe, core = (shlex.quote(p) if p else p
                 for p in (case["exe"], case["core"]))
    if core:
        steps.append(execute(debugger, "target create --core %s %s" %
                             (core, exe or "")))
        if not steps[-1][1] and exe:
            steps.append(execute(debugger, "target create " + exe))
    elif exe:
        steps.append(execute(debugger, "target create " + exe))
    return steps


def mark(name):
    # The marker lets run.py give each case what lldb wrote to stderr.
    for stream in (sys.stdout, sys.stderr):
        stream.write("MV-CASE %s\n" % name)
        stream.flush()


def __lldb_init_module(debugger, internal_dict):
    debugger.SetAsync(False)

    def run_good(good):
        """The known-good executable becomes the selected target."""
        execute(debugger, "target create " + shlex.quote(good["exe"]))
        return execute(debugger, good["command"])

    in_debugger.catalogue(
        lambda command: execute(debugger, command),
        lambda case: load(debugger, case), mark, "expr 6*7",
        setup=lambda good: [], good=run_good,
        finish=lambda: execute(debugger, "target delete --all"))
