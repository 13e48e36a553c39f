"""Runs memview commands inside gdb and records each result as JSON.

Sourced by run.py after gdb/memview.py.  Reads from the environment:
MV_SETUP and MV_CASES (JSON lists of gdb command lines) and MV_OUT (the
file that receives one record per command: command, output, error,
succeeded).  A failing command does not stop the ones after it.
"""

import json
import os

import gdb


def _mv_run(command):
    """One command's record."""
    try:
        output = gdb.execute(command, to_string=True)
        return {"command": command, "output": output, "error": None,
                "succeeded": True}
    except gdb.error as e:
        return {"command": command, "output": "", "error": str(e),
                "succeeded": False}


def _mv_main():
    setup = [_mv_run(c) for c in json.loads(os.environ["MV_SETUP"])]
    cases = [_mv_run(c) for c in json.loads(os.environ["MV_CASES"])]
    for command in json.loads(os.environ.get("MV_TEARDOWN", "[]")):
        _mv_run(command)
    with open(os.environ["MV_OUT"], "w") as f:
        json.dump({"setup": setup, "cases": cases}, f)


_mv_main()
