"""gdb's own answer for the expressions test_pyapi.py gives memview's
Python API: sourced in gdb on the same core.  For each C expression in
MV_EXPRS (a JSON list): its address, sizeof, type, value as an integer
(scalars), its bytes and what `output` prints, as JSON into MV_OUT."""

import json
import os

import gdb


def answer(expr):
    v = gdb.parse_and_eval(expr)
    t = v.type.strip_typedefs()
    r = {"type": str(v.type), "size": v.type.sizeof,
         "output": gdb.execute("output " + expr, to_string=True)}
    try:
        r["address"] = int(v.address) if v.address is not None else None
    except gdb.error:
        r["address"] = None
    if t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_PTR,
                  gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR):
        r["int"] = int(v)
    if r["address"] is not None:
        memory = gdb.selected_inferior().read_memory(r["address"],
                                                     v.type.sizeof)
        r["bytes"] = bytes(memory).hex()
    return r


def main():
    result = {}
    for expr in json.loads(os.environ["MV_EXPRS"]):
        try:
            result[expr] = answer(expr)
        except gdb.error as e:
            result[expr] = {"error": str(e)}
    with open(os.environ["MV_OUT"], "w") as f:
        json.dump(result, f)


main()
