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

import json
import os
import time

import gdb


def _execute(command):
    """[command, succeeded, text]: gdb's output, or its error message."""
    try:
        return [command, True, gdb.execute(command, to_string=True)]
    except gdb.error as e:
        return [command, False, str(e)]


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


def _load(case):
    """The steps that name the case's files.  Before them, the previous
    core and every objfile (gdb keeps a core's shared libraries after
    `core-file` alone) are dropped, so that a refused file leaves
    nothing behind."""
    _execute("core-file")
    _execute("file")
    steps = []
    if case["exe"]:
        steps.append(_execute("file " + case["exe"]))
    if case["core"]:
        steps.append(_execute("core-file " + case["core"]))
    return steps


def _run(case):
    _reset_peak()
    before = _rss_kb("VmRSS")
    start = time.monotonic()
    command, ok, text = _execute(case["command"])
    secs = time.monotonic() - start
    grown = max(0, _rss_kb("VmHWM") - before) / 1024.0
    return {"ok": ok, "text": text, "secs": secs, "mb": grown}


def _main():
    with open(os.environ["MV_CASES"]) as f:
        spec = json.load(f)
    out = open(os.environ["MV_OUT"], "a")

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    good = spec["good"]
    emit({"setup": [_execute("add-inferior -exec " + good["exe"])]})
    for case in spec["cases"]:
        # The marker lets run.py give each case what gdb wrote to stderr.
        for stream in (gdb.STDOUT, gdb.STDERR):
            gdb.write("MV-CASE %s\n" % case["name"], stream)
            gdb.flush(stream)
        emit({"begin": case["name"]})
        record = {"end": case["name"], "load": _load(case)}
        record["run"] = _run(case)
        record["alive"] = _execute("print 6*7")
        _execute("inferior 2")
        record["good"] = _execute(good["command"])
        _execute("inferior 1")
        emit(record)
    emit({"done": True})
    out.close()


_main()
