#!/usr/bin/python3
"""view --pointers against answers memview does not compute.

On the basic fixture's core: matrix_global.name points to the string
"matrix", matrix_global.callback to callback_impl (its address from nm),
list_storage's next pointers into list_storage itself, list_head to a
heap node (the address the fixture printed).  On heapfix's core: every
block the fixture kept live or freed is annotated as a heap chunk at
exactly the address malloc returned, in use with malloc_usable_size()'s
size or free; words on each thread's stack that point into it name that
thread (the stacks and registers read here from the core's own notes).
And text output never carries raw control characters.

Prints "view-pointers: N passed, M failed" and exits non-zero on failure.
"""
import json
import os
import struct
import subprocess
import sys

from mvcheck import Tally

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")

T = Tally("view-pointers")
report = T.report


def read_facts(name):
    facts = {}
    with open(os.path.join(BUILD, "cores", name + ".facts")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").rpartition(" ")
            facts.setdefault(key, value)
    return facts


def fact_lines(name, prefix):
    with open(os.path.join(BUILD, "cores", name + ".facts")) as f:
        return [line.split() for line in f if line.startswith(prefix + " ")]


def view(fixture, args):
    cmd = [MEMVIEW, "--core", os.path.join(BUILD, "cores", fixture + ".core"),
           "--exe", os.path.join(BUILD, "fixtures", fixture), "view"] + args
    p = subprocess.run(cmd, capture_output=True)
    return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def view_json(fixture, args):
    rc, out, err = view(fixture, args + ["--json"])
    if rc != 0:
        raise RuntimeError("view %s: %s" % (" ".join(args), err.strip()))
    return json.loads(out)


def nm(fixture):
    out = subprocess.run(["nm", os.path.join(BUILD, "fixtures", fixture)],
                         capture_output=True, text=True, check=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def by_offset(pointers):
    return {p["offset"]: p for p in pointers}


def test_basic():
    facts = read_facts("basic")
    symbols = nm("basic")
    bias = int(facts["addr int_array"], 16) - symbols["int_array"]

    v = view_json("basic", ["matrix_global", "--hex", "--pointers"])
    ptrs = by_offset(v["pointers"])
    problems = []
    name = ptrs.get(int(facts["offsetof struct matrix.name"]))
    if not name or name["kind"] != "string" or \
            name["details"].get("string") != "matrix":
        problems.append("name: %r, want the string \"matrix\"" % name)
    cb = ptrs.get(int(facts["offsetof struct matrix.callback"]))
    want = symbols["callback_impl"] + bias
    if not cb or cb["kind"] != "symbol" or int(cb["value"], 16) != want or \
            cb["details"] != {"symbol": "callback_impl", "offset": 0}:
        problems.append("callback: %r, want callback_impl at 0x%x" %
                        (cb, want))
    report("basic: matrix_global's string and function pointer", problems)

    storage = int(facts["addr list_storage"], 16)
    size = int(facts["sizeof struct node"])
    nxt = int(facts["offsetof struct node.next"])
    v = view_json("basic", ["list_storage", "--hex", "-p"])
    ptrs = by_offset(v["pointers"])
    problems = []
    for i in range(2):
        p = ptrs.get(i * size + nxt)
        want = {"symbol": "list_storage", "offset": (i + 1) * size}
        if not p or p["kind"] != "symbol" or p["details"] != want or \
                int(p["value"], 16) != storage + (i + 1) * size:
            problems.append("node %d: %r, want %r" % (i, p, want))
    if (2 * size + nxt) in ptrs:
        problems.append("the last next is NULL, yet annotated")
    report("basic: list_storage's next pointers are symbol+offset",
           problems)

    v = view_json("basic", ["&list_head", "8", "-p"])
    head = int(facts["value list_head"], 16)
    p = by_offset(v["pointers"]).get(0)
    problems = []
    if not p or p["kind"] != "heap" or int(p["value"], 16) != head or \
            int(p["details"]["mem"], 16) != head or \
            p["details"]["state"] != "in-use" or p["details"]["offset"] != 0 \
            or p["details"]["usable"] < size:
        problems.append("list_head: %r, want an in-use chunk at 0x%x" %
                        (p, head))
    report("basic: list_head points to an in-use heap chunk", problems)

    rc, out, err = view("basic", ["matrix_global", "--hex", "--pointers"])
    lines = out.splitlines()
    problems = []
    if rc != 0 or not any(l.strip().endswith('-> "matrix"') for l in lines):
        problems.append("no '-> \"matrix\"' line: %r" % out[:400])
    if any(c in out for c in "\x1b\x07\u202e"):
        problems.append("raw control character in the text")
    report("basic: the text annotations", problems)

    problems = []
    for args in (["bytes_global", "--as", "i", "-p"],
                 ["bytes_global", "-p", "--binary", "/dev/null"]):
        rc, out, err = view("basic", args)
        if rc == 0 or "--pointers goes with" not in err:
            problems.append("%s: exit %d, %r" % (args, rc, err))
    report("basic: --pointers refused with --as and --binary", problems)


def test_heapfix():
    problems = []
    v = view_json("heapfix", ["live", "--hex", "-p", "--max-bytes", "0"])
    ptrs = {int(p["value"], 16): p for p in v["pointers"]}
    live = fact_lines("heapfix", "live")
    for _, addr, usable, arena in live:
        p = ptrs.get(int(addr, 16))
        d = p and p["details"]
        if not p or p["kind"] != "heap" or d["mem"] != "0x%x" % int(addr, 16) \
                or d["state"] != "in-use" or d["usable"] != int(usable):
            problems.append("live %s (%s bytes, %s): %r" %
                            (addr, usable, arena, p))
    report("heapfix: %d live blocks are in-use chunks, usable sizes as "
           "malloc_usable_size()" % len(live), problems)

    problems = []
    v = view_json("heapfix", ["freed", "--hex", "-p", "--max-bytes", "0"])
    ptrs = {int(p["value"], 16): p for p in v["pointers"]}
    freed = fact_lines("heapfix", "freed")
    for _, addr, lst in freed:
        p = ptrs.get(int(addr, 16))
        if not p or p["kind"] != "heap" or \
                p["details"]["mem"] != "0x%x" % int(addr, 16) or \
                p["details"]["state"] != "free":
            problems.append("freed %s (%s): %r" % (addr, lst, p))
    report("heapfix: %d freed blocks are free chunks" % len(freed), problems)

    problems = []
    threads = core_threads(os.path.join(BUILD, "cores", "heapfix.core"))
    regions = view_regions("heapfix")
    found = 0
    seen = set()
    for index, (tid, rsp) in enumerate(threads, 1):
        stack = [r for r in regions if r[0] <= rsp < r[1]]
        if not stack:
            problems.append("thread %d: rsp 0x%x in no region" % (index, rsp))
            continue
        start, end = stack[0]
        length = min(4096, end - rsp)
        v = view_json("heapfix", ["0x%x" % rsp, str(length), "-p"])
        for p in v["pointers"]:
            value = int(p["value"], 16)
            if not start <= value < end:
                continue
            found += 1
            want = {"thread": index, "tid": tid, "sp_offset": value - rsp}
            got = {k: p["details"].get(k) for k in want}
            seen.add(index)
            if p["kind"] != "stack" or got != want:
                problems.append("0x%x: %r, want %r" % (value, p, want))
    if len(seen) != len(threads) or len(threads) < 2:
        problems.append("stack pointers found on threads %s of %d" %
                        (sorted(seen), len(threads)))
    report("heapfix: pointers into each thread's stack name the thread",
           problems)


def view_regions(fixture):
    cmd = [MEMVIEW, "--core", os.path.join(BUILD, "cores", fixture + ".core"),
           "--exe", os.path.join(BUILD, "fixtures", fixture), "regions",
           "--json"]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True,
                                    check=True).stdout)
    return [(int(r["start"], 16), int(r["end"], 16)) for r in out["regions"]]


def core_threads(path):
    """(tid, rsp) of every NT_PRSTATUS note, in the core's order."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    threads = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + (namesz + 3) // 4 * 4
            if ntype == 1:  # NT_PRSTATUS: pr_pid at 32, pr_reg at 112
                tid, = struct.unpack_from("<i", data, desc + 32)
                rsp, = struct.unpack_from("<Q", data, desc + 112 + 19 * 8)
                threads.append((tid, rsp))
            pos = desc + (descsz + 3) // 4 * 4
    return threads


def main():
    for test in (test_basic, test_heapfix):
        try:
            test()
        except Exception as e:  # a broken test is a failed case
            report(test.__name__, ["exception: %r" % e])
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
