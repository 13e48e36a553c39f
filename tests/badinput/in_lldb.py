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

import json
import os
import sys
import time

import lldb


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


def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    """Peak RSS (VmHWM) starts again from the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def load(debugger, case):
    execute(debugger, "target delete --all")
    steps = []
    exe, core = case["exe"], case["core"]
    if core:
        steps.append(execute(debugger, "target create --core %s %s" %
                             (core, exe or "")))
        if not steps[-1][1] and exe:
            steps.append(execute(debugger, "target create " + exe))
    elif exe:
        steps.append(execute(debugger, "target create " + exe))
    return steps


def run(debugger, case):
    reset_peak()
    before = rss_kb("VmRSS")
    start = time.monotonic()
    command, ok, text = execute(debugger, case["command"])
    secs = time.monotonic() - start
    grown = max(0, rss_kb("VmHWM") - before) / 1024.0
    return {"ok": ok, "text": text, "secs": secs, "mb": grown}


def __lldb_init_module(debugger, internal_dict):
    debugger.SetAsync(False)
    with open(os.environ["MV_CASES"]) as f:
        spec = json.load(f)
    out = open(os.environ["MV_OUT"], "a")

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    good = spec["good"]
    emit({"setup": []})
    for case in spec["cases"]:
        # The marker lets run.py give each case what lldb wrote to stderr.
        for stream in (sys.stdout, sys.stderr):
            stream.write("MV-CASE %s\n" % case["name"])
            stream.flush()
        emit({"begin": case["name"]})
        record = {"end": case["name"], "load": load(debugger, case)}
        record["run"] = run(debugger, case)
        record["alive"] = execute(debugger, "expr 6*7")
        execute(debugger, "target create " + good["exe"])
        record["good"] = execute(debugger, good["command"])
        emit(record)
    execute(debugger, "target delete --all")
    emit({"done": True})
    out.close()
