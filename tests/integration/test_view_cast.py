#!/usr/bin/python3
"""view --as against Python's own memoryview.

For every struct-module code memoryview.cast accepts, several shapes,
slices and byte orders, runs `memview view ... --as FMT` on the basic
fixture's core and compares its output with
memoryview(data).cast(fmt, shape)[slice].tolist() on the same bytes,
read here straight from the core's PT_LOAD segments (never through
memview).  Error cases must fail with memoryview's own message.

Prints "view-cast: N passed, M failed" and exits non-zero on failure.
"""
import json
import os
import struct
import subprocess
import sys

from mvcheck import Tally
from mvfacts import read_facts

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
CORE = os.path.join(BUILD, "cores", "basic.core")
EXE = os.path.join(BUILD, "fixtures", "basic")
FACTS = os.path.join(BUILD, "cores", "basic.facts")


def read_facts_of_basic():
    return read_facts(FACTS)


def core_reader(path):
    """Returns read(address, size) over the core's PT_LOAD segments."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit("view-cast: %s is not a 64-bit ELF core" % path)
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    loads = []
    for i in range(phnum):
        (p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz,
         _memsz, _align) = struct.unpack_from("<IIQQQQQQ", data,
                                              phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))

    def read(address, size):
        for vaddr, off, filesz in loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                start = off + address - vaddr
                return data[start:start + size]
        raise SystemExit("view-cast: 0x%x+%d is not in the core" %
                         (address, size))
    return read


def run(args):
    cmd = [MEMVIEW, "--core", CORE, "--exe", EXE, "view"] + args
    p = subprocess.run(cmd, capture_output=True, text=True,
                       encoding="utf-8", errors="replace")
    return p.returncode, p.stdout, p.stderr


def python_answer(data, fmt, shape, sl):
    """memoryview's answer, or struct's for explicit byte orders."""
    if fmt[0] in "<>=!":
        size = struct.calcsize(fmt)
        flat = [struct.unpack_from(fmt, data, i)[0]
                for i in range(0, len(data), size)]
        if shape is None:
            shape = [len(flat)]
        for d in reversed(shape[1:]):
            flat = [flat[i:i + d] for i in range(0, len(flat), d)]
        if sl is not None:
            flat = flat[sl]
        return flat
    m = memoryview(data).cast(fmt, shape) if shape is not None \
        else memoryview(data).cast(fmt)
    if sl is not None:
        m = m[sl]
    return m.tolist()


def parse_slice(text):
    parts = [int(p) if p.strip() else None for p in text.split(":")]
    return slice(*parts)


def jsonable(v):
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, float) and (v != v or v in (float("inf"),
                                                 float("-inf"))):
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    return v


def main():
    for p in (MEMVIEW, CORE, EXE, FACTS):
        if not os.path.exists(p):
            raise SystemExit("view-cast: %s is missing (run make all)" % p)
    facts = read_facts_of_basic()
    base = int(facts["addr bytes_global"], 16)
    read = core_reader(CORE)
    whole = read(base, 64)
    # The fixture's own recipe for these bytes: an independent check that
    # the core reader reads the right place.
    assert whole == bytes((i * 7 + 3) & 0xff for i in range(64)), \
        "bytes_global in the core is not what basic.c wrote"

    t = Tally("view-cast", verbose=False)
    cases = []  # (args, data, fmt, shape, slice)
    native = "cbBhHiIlLqQnNfd?P"
    for code in native:
        size = struct.calcsize("@" + code)
        n = 64 // size
        for fmt in (code, "@" + code):
            cases.append((["bytes_global", "--as", fmt], whole, fmt,
                          None, None))
        shapes = [[n]]
        if n % 2 == 0:
            shapes.append([2, n // 2])
        if n % 4 == 0:
            shapes.append([2, 2, n // 4])
        if n % 8 == 0:
            shapes.append([n // 8, 2, 4])
        for shape in shapes:
            cases.append((["bytes_global", "--as", code, "--shape",
                           "x".join(map(str, shape))], whole, code,
                          shape, None))
    # Shorter and unaligned ranges, given as ADDR LEN.
    for off, length, code in ((0, 24, "i"), (3, 40, "h"), (5, 16, "d"),
                              (1, 63, "B"), (7, 32, "Q"), (2, 20, "f")):
        cases.append((["0x%x" % (base + off), str(length), "--as", code],
                      whole[off:off + length], code, None, None))
    # Explicit byte orders (struct's standard sizes).
    for order in "<>=!":
        for code in "bBhHiIlLqQfde?c":
            fmt = order + code
            size = struct.calcsize(fmt)
            n = 64 // size
            cases.append((["bytes_global", "--as", fmt], whole, fmt,
                          None, None))
            if n >= 4:
                cases.append((["bytes_global", "--as", fmt, "--shape",
                               "%d,%d" % (n // 4, 4)], whole, fmt,
                              [n // 4, 4], None))
    # Slices over the first dimension.
    for sl in ("2:10:3", "::-1", "-3:", ":5", "::2", "10:2:-3", "100:",
               "5:5", "-100:3", "1::-1", ":-1:4"):
        cases.append((["bytes_global", "--as", "i", "--slice", sl],
                      whole, "i", None, sl))
        cases.append((["bytes_global", "--as", "H", "--shape", "4x8",
                       "--slice", sl], whole, "H", [4, 8], sl))
        cases.append((["bytes_global", "--as", ">h", "--shape", "8x4",
                       "--slice", sl], whole, ">h", [8, 4], sl))

    # P (pointers): the text shows Python's values in hex (addresses are
    # read in hex); the JSON has Python's numbers like every format.
    def hexrepr(v):
        if isinstance(v, list):
            return "[" + ", ".join(hexrepr(x) for x in v) + "]"
        return hex(v)

    for args, data, fmt, shape, sl in cases:
        name = " ".join(args)
        want = python_answer(data, fmt, shape,
                             parse_slice(sl) if sl else None)
        text = hexrepr(want) if fmt.lstrip("@") == "P" else repr(want)
        rc, out, err = run(args)
        t.check(name, rc == 0 and out.strip() == text,
                "want %r\n     got  %r (rc %d) %s" %
                (text, out.strip(), rc, err.strip()))
        if fmt.lstrip("@") == "P":
            rc, out, err = run(args + ["--json"])
            try:
                got = json.loads(out)["values"]
            except (ValueError, KeyError):
                got = None
            t.check(name + " --json: Python's numbers",
                    got == jsonable(want), (got, err))

    # JSON: the same values as JSON numbers, booleans and strings.
    for args, data, fmt, shape, sl in cases[::7]:
        name = " ".join(args) + " --json"
        want = jsonable(python_answer(data, fmt, shape,
                                      parse_slice(sl) if sl else None))
        rc, out, err = run(args + ["--json"])
        try:
            doc = json.loads(out)
            got = doc["values"]
            ok = rc == 0 and got == want and doc["command"] == "view" \
                and doc["mode"] == "cast"
        except (ValueError, KeyError) as e:
            ok, got = False, "%s: %r" % (e, out)
        t.check(name, ok, "want %r\n     got  %r %s" % (want, got,
                                                        err.strip()))

    # Errors: memoryview's own message, from Python itself.
    def python_error(fmt, shape, length):
        try:
            m = memoryview(bytes(length))
            if shape is None:
                m.cast(fmt)
            else:
                m.cast(fmt, shape)
        except (TypeError, ValueError) as e:
            return str(e)
        return None

    error_cases = [
        (["bytes_global", "--as", f], f, None, 64)
        for f in ("e", "@e", "x", "s", "ii", "@@i", "g", "Z", "w", "")
    ] + [
        (["bytes_global", "--as", "i", "--shape", "3x3"], "i", [3, 3], 64),
        (["bytes_global", "--as", "i", "--shape", "0x16"], "i", [0, 16],
         64),
        (["bytes_global", "--as", "d", "--shape", "2,2,3"], "d",
         [2, 2, 3], 64),
        (["bytes_global", "--as", "i", "--shape", "-4x-4"], "i", [-4, -4],
         64),
        (["0x%x" % base, "15", "--as", "i"], "i", None, 15),
        (["0x%x" % base, "30", "--as", "q", "--shape", "2x2"], "q",
         [2, 2], 30),
        (["bytes_global", "--as", "B", "--shape", "x".join(["1"] * 65)],
         "B", [1] * 65, 64),
    ]
    for args, fmt, shape, length in error_cases:
        name = " ".join(args) + " (error)"
        want = python_error(fmt, shape, length)
        rc, out, err = run(args)
        if want is None:
            t.check(name, False, "Python accepted it")
            continue
        t.check(name, rc != 0 and want in err and "Traceback" not in err,
                "want an error containing %r\n     got rc %d: %s" %
                (want, rc, err.strip()))

    # Errors memoryview cannot have: byte orders with native-only codes,
    # bad lengths, unreadable memory.
    for args, needle in (
            (["bytes_global", "--as", "<n"], "byte order"),
            (["bytes_global", "--as", ">P"], "byte order"),
            (["bytes_global", "--as", "i", "--slice", "1:2:0"],
             "slice step cannot be zero"),
            (["bytes_global", "-8", "--as", "i"], "negative"),
            (["bytes_global", "1T", "--as", "i"], "--max-bytes"),
            (["bytes_global", "0x7fffffffffffffff", "--as", "i"],
             "address space"),
            (["bytes_global", "--shape", "2x2"], "--as")):
        rc, out, err = run(args)
        t.check(" ".join(args) + " (error)",
                rc != 0 and needle in err and "Traceback" not in err,
                "want an error containing %r, got rc %d: %s" %
                (needle, rc, err.strip()))

    # Unreadable memory: items become None, with a note, not a failure.
    rc, out, err = run(["0x10", "16", "--as", "i"])
    t.check("unmapped --as i", rc == 0 and
            out.startswith("[None, None, None, None]") and "note:" in out,
            "got rc %d: %r %s" % (rc, out, err))

    return t.summary()


if __name__ == "__main__":
    sys.exit(main())
