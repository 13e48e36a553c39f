"""Runs memview commands inside lldb and records each result as JSON.

Imported by run.py with `command script import` after lldb/memview.py.
Reads from the environment: MV_EXE, MV_CORE or MV_PID (what to debug),
or MV_SETUP (a JSON list of lldb commands that make the target, such as
a remote connection), MV_CASES (a JSON list of command lines),
MV_TEARDOWN (commands run after them, not recorded) and MV_OUT (the file that
receives one record per command: command, output, error, succeeded).
Uses the SB API so that a failing command does not stop the rest.
"""

import json
import os

import lldb


def setup_commands(debugger, commands):
    """Runs lldb command lines to make the target (a remote connection,
    say): their records, and the selected target."""
    interpreter = debugger.GetCommandInterpreter()
    records = []
    for command in commands:
        target = debugger.GetSelectedTarget()
        records.append(run(interpreter, context(
            target if target.IsValid() else None), command))
    target = debugger.GetSelectedTarget()
    return (target if target.IsValid() else None), records


def setup(debugger):
    """Creates the target and loads the core or attaches: one record."""
    error = lldb.SBError()
    exe = os.environ.get("MV_EXE")
    target = debugger.CreateTarget(exe or "", None, None, True, error)
    if not target.IsValid():
        return None, {"command": "target create", "output": "",
                      "error": error.GetCString(), "succeeded": False}
    debugger.SetSelectedTarget(target)
    process = None
    if os.environ.get("MV_CORE"):
        error = lldb.SBError()
        process = target.LoadCore(os.environ["MV_CORE"], error)
    elif os.environ.get("MV_PID"):
        error = lldb.SBError()
        process = target.AttachToProcessWithID(
            debugger.GetListener(), int(os.environ["MV_PID"]), error)
    ok = process is None or (process.IsValid() and error.Success())
    return target, {"command": "setup", "output": "",
                    "error": None if ok else error.GetCString(),
                    "succeeded": ok}


def context(target):
    """The execution context a user would have: the selected frame of the
    target's process, else the target alone."""
    process = target.GetProcess() if target is not None else None
    if process is not None and process.IsValid():
        frame = process.GetSelectedThread().GetSelectedFrame()
        if frame.IsValid():
            return lldb.SBExecutionContext(frame)
    if target is not None:
        return lldb.SBExecutionContext(target)
    return lldb.SBExecutionContext()


def run(interpreter, exe_ctx, command):
    """One command's record."""
    result = lldb.SBCommandReturnObject()
    interpreter.HandleCommand(command, exe_ctx, result, False)
    return {"command": command, "output": result.GetOutput() or "",
            "error": result.GetError() or None,
            "succeeded": result.Succeeded()}


def __lldb_init_module(debugger, internal_dict):
    debugger.SetAsync(False)
    if os.environ.get("MV_SETUP"):
        target, records = setup_commands(
            debugger, json.loads(os.environ["MV_SETUP"]))
    else:
        target, record = setup(debugger)
        records = [record]
    interpreter = debugger.GetCommandInterpreter()
    cases = []
    for command in json.loads(os.environ["MV_CASES"]):
        # Afresh each time: a case may step the process.
        cases.append(run(interpreter, context(target), command))
    for command in json.loads(os.environ.get("MV_TEARDOWN", "[]")):
        run(interpreter, context(target), command)
    if target is not None and os.environ.get("MV_PID"):
        target.GetProcess().Detach()
    with open(os.environ["MV_OUT"], "w") as f:
        json.dump({"setup": records, "cases": cases}, f)
