"""What in_gdb.py and in_lldb.py share: the walk over the catalogue's
cases, the JSON lines it appends to MV_OUT, and the measure of one
memview command (its time and the growth of the debugger's peak RSS).
Each of them gives only what differs between gdb and lldb: how a command
is typed, how a case's files are loaded, where the known-good target is.

run.py reads what is written here (see its debugger_cases and
start_debugger): change the records in step with it.
"""

import json
import os
import time


def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak():
    """Peak RSS (VmHWM) starts again from the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def measure(execute, command):
    """execute(command), timed, with how far the peak RSS grew (MB)."""
    _reset_peak()
    before = _rss_kb("VmRSS")
    start = time.monotonic()
    _, ok, text = execute(command)
    secs = time.monotonic() - start
    grown = max(0, _rss_kb("VmHWM") - before) / 1024.0
    return {"ok": ok, "text": text, "secs": secs, "mb": grown}


def catalogue(execute, load, mark, alive, setup, good, finish=None):
    """Runs every case of MV_CASES and appends one JSON line per event
    to MV_OUT.

    execute(command) returns [command, succeeded, text]; load(case) the
    steps that name the case's files; mark(name) writes the case's marker
    to the debugger's stdout and stderr; alive is the command that shows
    the debugger still answers; setup(good) returns the steps that make
    the known-good target, good(good) the result of its command there;
    finish() runs after the last case.
    """
    with open(os.environ["MV_CASES"]) as f:
        spec = json.load(f)
    with open(os.environ["MV_OUT"], "a") as out:
        def emit(record):
            # Flushed at once, so that run.py sees which case was running
            # if the debugger dies or hangs.
            out.write(json.dumps(record) + "\n")
            out.flush()

        emit({"setup": setup(spec["good"])})
        for case in spec["cases"]:
            mark(case["name"])
            emit({"begin": case["name"]})
            record = {"end": case["name"], "load": load(case)}
            record["run"] = measure(execute, case["command"])
            record["alive"] = execute(alive)
            record["good"] = good(spec["good"])
            emit(record)
        if finish:
            finish()
        emit({"done": True})
