"""Reads typed values of the basic fixture through the memview module, as
a script would, and writes what it read as JSON (test_pyapi.py compares
it with gdb's own print, the fixture's facts and the CLI).

Runs in the system python3, in gdb's Python and in lldb's (imported
there with `command script import`, or run with `source`/`script`).
From the environment: MV_PROBE ("core": memview.open_core(MV_CORE,
MV_EXE); "pid": memview.attach(MV_PID); "debugger": memview.session(),
the plugin's session of what the debugger has open), MV_OUT (the JSON
file written).
"""

import json
import os
import traceback

import memview

# (the C expression gdb is asked for, how a script reaches the value)
WALKS = [
    ("list_head", lambda s: s.object("list_head")),
    ("*list_head", lambda s: s.object("list_head").deref()),
    ("list_head->value", lambda s: s.object("list_head").member("value")),
    ("list_head->next", lambda s: s.object("list_head").next),
    ("list_head->next->value", lambda s: s.object("list_head").next.value),
    ("list_head[0].next->next->value",
     lambda s: s.object("list_head")[0].next.next.value),
    ("list_storage", lambda s: s.object("list_storage")),
    ("list_storage[2].value", lambda s: s.object("list_storage")[2].value),
    ("list_storage[1].next", lambda s: s.object("list_storage")[1].next),
    ("padded_global", lambda s: s.object("padded_global")),
    ("padded_global.c", lambda s: s.object("padded_global").c),
    ("padded_global.l", lambda s: s.object("padded_global").l),
    ("padded_global.s", lambda s: s.object("padded_global").s),
    ("padded_global.i", lambda s: s.object("padded_global").i),
    ("padded_global.tail", lambda s: s.object("padded_global").tail),
    ("flags_global", lambda s: s.object("flags_global")),
    ("flags_global.a", lambda s: s.object("flags_global").a),
    ("flags_global.b", lambda s: s.object("flags_global").b),
    ("flags_global.c", lambda s: s.object("flags_global").c),
    ("flags_global.d", lambda s: s.object("flags_global").d),
    ("flags_global.e", lambda s: s.object("flags_global").e),
    ("anon_global.kind", lambda s: s.object("anon_global").member("kind")),
    ("anon_global.as_long", lambda s: s.object("anon_global").as_long),
    ("anon_global.x", lambda s: s.object("anon_global").x),
    ("anon_global.y", lambda s: s.object("anon_global").y),
    ("matrix_global.cells", lambda s: s.object("matrix_global").cells),
    ("matrix_global.cells[1][2]",
     lambda s: s.object("matrix_global").cells[1][2]),
    ("matrix_global.name", lambda s: s.object("matrix_global").name),
    ("matrix_global.counter", lambda s: s.object("matrix_global").counter),
    ("matrix_global.color", lambda s: s.object("matrix_global").color),
    ("matrix_global.num.i", lambda s: s.object("matrix_global").num.i),
    ("matrix_global.num.bytes[3]",
     lambda s: s.object("matrix_global").num.bytes[3]),
    ("int_array", lambda s: s.object("int_array")),
    ("int_array[4]", lambda s: s.object("int_array")[4]),
    ("greeting", lambda s: s.object("greeting")),
    ("bytes_global[9]", lambda s: s.object("bytes_global")[9]),
    ("flex_ptr->len", lambda s: s.object("flex_ptr").len),
    ("flex_ptr->data[3]", lambda s: s.object("flex_ptr").data[3]),
    ("(long)list_head", lambda s: s.object("list_head").cast("long")),
    ("*(struct node *)list_head->next",
     lambda s: s.object("list_head").next.cast("struct node *").deref()),
]

SCALARS = ("int", "bool", "enum", "pointer")


def record(value):
    """What a script reads of one Value."""
    r = {"address": value.address, "type": value.type, "kind": value.kind,
         "size": value.size, "str": str(value),
         "bytes": bytes(value).hex(), "expression": value.expression}
    if value.kind in SCALARS:
        r["int"] = int(value)
    if value.kind == "array" and value.type.startswith("char ") or \
            value.type == "const char *":
        r["string"] = value.string()
    if value.kind == "array":
        r["len"] = len(value)
    return r


def errors(s):
    """What the API raises on bad requests: (what, exception name,
    code, address) per case."""
    cases = [
        ("run layout nosuch", lambda: s.run("layout nosuch")),
        ("object nosuch", lambda: s.object("nosuch")),
        ("int *(long *)8", lambda: int(s.object("*(long *)8"))),
        ("int list_head[1 << 40].value",
         lambda: int(s.object("list_head")[1 << 40].value)),
        ("member of an int", lambda: s.object("int_array")[0].member("x")),
        ("member nosuch", lambda: s.object("padded_global").member("nosuch")),
        ("deref of an array", lambda: s.object("int_array").deref()),
        ("int_array[5]", lambda: s.object("int_array")[5]),
        ("int of a struct", lambda: int(s.object("padded_global"))),
        ("string at 0x10",
         lambda: s.object("(const char *)0x10").string()),
    ]
    out = []
    for what, call in cases:
        try:
            call()
            out.append([what, None, None, None])
        except memview.Error as e:
            out.append([what, "Error", e.code, e.address])
        except (IndexError, TypeError, AttributeError) as e:
            out.append([what, type(e).__name__, None, None])
    return out


def probe(s):
    result = {"values": {}, "failed": {}}
    for expr, walk in WALKS:
        try:
            result["values"][expr] = record(walk(s))
        except Exception as e:
            result["failed"][expr] = "%s: %s" % (type(e).__name__, e)
    result["errors"] = errors(s)
    result["layout"] = s.run("layout 'struct node'")
    result["gc"] = s.run("gc")
    result["layout_text"] = s.text("layout padded_global")
    return result


def session():
    mode = os.environ["MV_PROBE"]
    if mode == "core":
        return memview.open_core(os.environ["MV_CORE"],
                                 os.environ.get("MV_EXE"))
    if mode == "pid":
        return memview.attach(int(os.environ["MV_PID"]))
    return memview.session()


def main():
    try:
        result = probe(session())
    except Exception:
        result = {"crashed": traceback.format_exc()}
    result["module"] = memview.__file__
    with open(os.environ["MV_OUT"], "w") as f:
        json.dump(result, f)


main()
