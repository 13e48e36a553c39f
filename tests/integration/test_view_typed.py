#!/usr/bin/python3
"""The typed view against the fixture's own printed values.

Every field of padded_global, flags_global (bitfields), anon_global
(anonymous members), matrix_global.counter, the heap node list_head and
the array list_storage, viewed with `view ... --json` on the basic
fixture's core: values as the fixture printed them (build/cores/
basic.facts), offsets as its offsetof, holes and padding where those
offsets leave them, and each field's bytes as read here straight from
the core's PT_LOAD segments.  Then the same struct in a live process
(no gcore involved): offsets and values from that process's own facts.
And the text view shows the same values.

Prints "view-typed: N passed, M failed" and exits non-zero on failure.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

from mvcheck import Tally, start_fixture
from mvfacts import read_facts

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
CORE = os.path.join(BUILD, "cores", "basic.core")
EXE = os.path.join(BUILD, "fixtures", "basic")
FACTS = os.path.join(BUILD, "cores", "basic.facts")

T = Tally("view-typed")
report = T.report


def core_reader(path):
    """read(address, size) over the core's PT_LOAD segments."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    loads = []
    for i in range(phnum):
        (p_type, _, p_offset, p_vaddr, _, p_filesz) = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))

    def read(address, size):
        for vaddr, off, filesz in loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                return data[off + address - vaddr:off + address - vaddr + size]
        raise RuntimeError("0x%x+%d is not in the core" % (address, size))
    return read


def view(target, args):
    p = subprocess.run([MEMVIEW] + target + ["view"] + args,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("view %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def fields_of(target, expr, extra=()):
    """{name: field} of the first object, nested members flattened."""
    v = json.loads(view(target, [expr, "--json"] + list(extra)))
    flat, gaps = {}, []
    stack = list(v["objects"][0]["fields"])
    while stack:
        f = stack.pop()
        if f.get("hole") or f.get("padding"):
            gaps.append(f)
            continue
        if f.get("name"):
            flat[f["name"]] = f
        stack.extend(f.get("fields") or [])
    return v, flat, gaps


def expect_values(flat, facts, var, names):
    problems = []
    for name in names:
        want = int(facts["value %s.%s" % (var, name)])
        got = flat.get(name, {}).get("value")
        if got != want:
            problems.append("%s.%s = %r, the fixture printed %d" %
                            (var, name, got, want))
    return problems


def expect_offsets(flat, facts, type_name):
    problems = []
    prefix = "offsetof %s." % type_name
    for key, value in facts.items():
        if key.startswith(prefix):
            name = key[len(prefix):]
            got = flat.get(name, {}).get("offset")
            if got != int(value):
                problems.append("%s at %r, offsetof says %s" %
                                (name, got, value))
    return problems


def expect_bytes(v, read):
    """Every field's and gap's bytes are the core's bytes there."""
    problems = []
    obj = v["objects"][0]
    base = int(obj["address"], 16)
    stack = list(obj["fields"])
    while stack:
        f = stack.pop()
        stack.extend(f.get("fields") or [])
        size = len(f["bytes"]) // 2
        want = read(base + f["offset"], size).hex()
        if f["bytes"] != want:
            problems.append("%s at +%d: bytes %s, core has %s" %
                            (f.get("name", "gap"), f["offset"],
                             f["bytes"], want))
    return problems


def expect_gaps(v, gaps, facts, type_name):
    """Holes and padding are exactly the bytes no member covers."""
    size = int(facts["sizeof " + type_name])
    covered = [False] * size
    stack = list(v["objects"][0]["fields"])
    while stack:
        f = stack.pop()
        if f.get("hole") or f.get("padding"):
            continue
        if f.get("fields"):
            stack.extend(f["fields"])
            continue
        for i in range(f["offset"], min(size, f["offset"] + f["size"])):
            covered[i] = True
    holes = [i for i in range(size) if not covered[i]]
    shown = sorted(i for g in gaps for i in range(g["offset"],
                                                  g["offset"] + g["size"]))
    if holes != shown:
        return ["holes and padding cover %s, uncovered bytes are %s" %
                (shown, holes)]
    return []


def test_core(facts):
    target = ["--core", CORE, "--exe", EXE]
    read = core_reader(CORE)

    v, flat, gaps = fields_of(target, "padded_global")
    problems = expect_values(flat, facts, "padded_global",
                             ["c", "l", "s", "i", "tail"])
    problems += expect_offsets(flat, facts, "struct padded")
    problems += expect_bytes(v, read)
    problems += expect_gaps(v, gaps, facts, "struct padded")
    if [g["size"] for g in gaps] != [7, 2, 7]:
        problems.append("gaps %r, want holes of 7 and 2, padding 7" %
                        [(g["offset"], g["size"]) for g in gaps])
    if v["address"] != "0x%x" % int(facts["addr padded_global"], 16) or \
            v["size"] != int(facts["sizeof struct padded"]):
        problems.append("address %s size %s" % (v["address"], v["size"]))
    report("padded_global: values, offsets, holes, bytes", problems)

    v, flat, gaps = fields_of(target, "flags_global")
    problems = expect_values(flat, facts, "flags_global",
                             ["a", "b", "c", "d", "e"])
    problems += expect_offsets(flat, facts, "struct flags")
    problems += expect_bytes(v, read)
    for name, bits in (("a", 3), ("b", 5), ("c", 4), ("e", 40)):
        if flat.get(name, {}).get("bit_size") != bits:
            problems.append("%s: bit_size %r, declared %d" %
                            (name, flat.get(name, {}).get("bit_size"), bits))
    report("flags_global: bitfields as the fixture printed them", problems)

    v, flat, gaps = fields_of(target, "anon_global")
    problems = expect_values(flat, facts, "anon_global",
                             ["kind", "as_long", "x", "y"])
    problems += expect_offsets(flat, facts, "struct anon")
    problems += expect_bytes(v, read)
    report("anon_global: members of anonymous members", problems)

    v, flat, gaps = fields_of(target, "matrix_global")
    problems = expect_values(flat, facts, "matrix_global", ["counter"])
    problems += expect_offsets(flat, facts, "struct matrix")
    problems += expect_bytes(v, read)
    if flat.get("cells", {}).get("value") != [[1, 2, 3], [4, 5, 6]]:
        problems.append("cells %r" % flat.get("cells", {}).get("value"))
    report("matrix_global: counter, offsets, bytes", problems)

    v, flat, gaps = fields_of(target, "list_head")
    problems = []
    if v["address"] != "0x%x" % int(facts["value list_head"], 16):
        problems.append("viewed at %s, list_head is %s" %
                        (v["address"], facts["value list_head"]))
    if flat.get("value", {}).get("value") != int(facts["value list_head->value"]):
        problems.append("value %r" % flat.get("value"))
    if flat.get("next", {}).get("value") != \
            "0x%x" % int(facts["value list_head->next"], 16):
        problems.append("next %r" % flat.get("next"))
    problems += expect_bytes(v, read)
    v, flat, gaps = fields_of(target, "list_head->next")
    if flat.get("value", {}).get("value") != \
            int(facts["value list_head->next->value"]):
        problems.append("next->value %r" % flat.get("value"))
    report("list_head: a heap node and the next one", problems)

    v = json.loads(view(target, ["list_storage", "--json"]))
    problems = []
    obj = v["objects"][0]["fields"][0]
    elements = obj.get("value") or []
    size = int(facts["sizeof struct node"])
    if len(elements) != 3 or obj["size"] != 3 * size:
        problems.append("list_storage: %r" % obj)
    elif elements[2].get("value") != int(facts["value list_storage[2].value"]) \
            or elements[2].get("next") != "0x0" or elements[0]["next"] != \
            "0x%x" % (int(facts["addr list_storage"], 16) + size):
        problems.append("elements %r" % elements)
    v = json.loads(view(target, ["&list_storage[0]", "--count", "3",
                                 "--json"]))
    if [o["address"] for o in v["objects"]] != \
            ["0x%x" % (int(facts["addr list_storage"], 16) + i * size)
             for i in range(3)]:
        problems.append("--count 3 objects at %r" %
                        [o["address"] for o in v["objects"]])
    report("list_storage: array elements and --count", problems)

    text = view(target, ["padded_global"])
    problems = []
    for line in ("l = %s" % facts["value padded_global.l"],
                 "s = %s" % facts["value padded_global.s"],
                 "i = %s" % facts["value padded_global.i"],
                 "c = %s 'x'" % facts["value padded_global.c"]):
        if line not in text:
            problems.append("no %r in the text view" % line)
    if text.count("(hole)") != 2 or text.count("(padding)") != 1:
        problems.append("holes and padding: %r" % text)
    report("padded_global: the text view says the same", problems)


def test_live():
    """A live process, no gcore: offsets and values from its own facts."""
    with tempfile.TemporaryDirectory() as tmp:
        process, facts_path = start_fixture(EXE, os.environ, tmp, "live",
                                            stderr=subprocess.DEVNULL)
        if not process:
            report("live: the fixture did not get ready", ["no ready"])
            return
        try:
            facts = read_facts(facts_path)
            target = ["--pid", str(process.pid)]
            problems = []
            for var, type_name, names in (
                    ("padded_global", "struct padded",
                     ["c", "l", "s", "i", "tail"]),
                    ("flags_global", "struct flags",
                     ["a", "b", "c", "d", "e"]),
                    ("anon_global", "struct anon",
                     ["kind", "as_long", "x", "y"])):
                v, flat, gaps = fields_of(target, var)
                problems += expect_values(flat, facts, var, names)
                problems += expect_offsets(flat, facts, type_name)
                problems += expect_gaps(v, gaps, facts, type_name)
            report("live process: offsets (offsetof) and values, no core",
                   problems)
        finally:
            process.kill()
            process.wait(timeout=30)


def main():
    facts = read_facts(FACTS)
    for test in (lambda: test_core(facts), test_live):
        try:
            test()
        except Exception as e:  # a broken test is a failed case
            report("%s" % test, ["exception: %r" % e])
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
