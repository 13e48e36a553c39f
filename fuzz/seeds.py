#!/usr/bin/python3
"""Seed corpora for the fuzz harnesses, made from the fixtures.

    seeds.py BUILD OUTDIR NAME...

Writes OUTDIR/NAME/seed-* for each harness NAME:
  core     the fixtures' cores, compacted (headers and notes kept, each
           PT_LOAD cut to its first 64 bytes) so that mutations land on
           what the parser reads, plus the first page of each core;
  elf      the fixtures' binaries;
  dwarf    the fixtures' binaries (the ones with debug info);
  command  command lines built from docs/commands.md (names, options,
           usage lines) with quoting;
  expr     expressions and type names over the basic fixture, each with
           the selector byte of fuzz_expr.c's four entry points.
Standard library only."""

import glob
import os
import re
import struct
import sys


def compact_core(data):
    """The core with every PT_LOAD's bytes cut to 64 (offsets fixed)."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    head_end = phoff + phentsize * phnum
    out = bytearray(data[:head_end])
    phdrs = []
    for i in range(phnum):
        off = phoff + i * phentsize
        phdrs.append(list(struct.unpack_from("<IIQQQQQQ", data, off)))
    for ph in phdrs:
        p_type, p_off, p_filesz = ph[0], ph[2], ph[5]
        keep = p_filesz if p_type != 1 else min(p_filesz, 64)
        ph[2] = len(out)
        ph[5] = keep
        out += data[p_off:p_off + keep]
    for i, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, phoff + i * phentsize, *ph)
    return bytes(out)


def write(outdir, name, i, data):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
        f.write(data)


def command_lines():
    text = open("docs/commands.md").read()
    names = re.findall(r"^## (\S+)", text, re.M)
    opts = re.findall(r"`(-\w, )?(--[\w-]+)( [A-Z]+)?`", text)
    lines = []
    values = ["3", "0x10", "-1", "64M", "2G", "'struct node'",
              '"int [3]"', "list_head", "none", "first", "all",
              "\\ escaped\\ space", "''", '""', "'unterminated",
              "a\\", "--", "-h", "18446744073709551616"]
    for n in names:
        lines.append(n)
        for _, opt, meta in opts:
            v = values[len(lines) % len(values)] if meta else ""
            lines.append("%s %s %s list_head" % (n, opt, v))
        lines.append("%s struct node --json" % n)
        lines.append("%s --type 'struct node' 0x555555559000" % n)
    for m in re.findall(r"^\(gdb\) (.*)$", text, re.M):
        lines.append(m)
    return lines


EXPRESSIONS = [
    "list_head", "list_head->next", "*list_head", "list_head->next->value",
    "&int_array[3]", "int_array[1] + 2", "(struct node *)0x555555559000",
    "sizeof(struct padded)", "sizeof(int_array)", "&padded_global.b",
    "matrix_global.cells[1][2]", "-1", "~0x10", "!0", "greeting",
    "(char *)greeting + 3", "*(int *)&int_array", "flags_global.b",
    "anon_global", "(unsigned long)&list_storage[2] - 8", "0777",
    "((struct node *)list_head)->next->next->next",
]
TYPES = [
    "int", "unsigned long", "long long unsigned int", "char *",
    "struct node", "union number", "enum color", "node_t", "int [3]",
    "int[3][4]", "char (*)[4]", "void (*)(int)", "const char *const",
    "node", "struct padded *", "struct flex", "struct matrix [2]",
]


def main():
    build, outdir = sys.argv[1], sys.argv[2]
    for name in sys.argv[3:]:
        seeds = []
        if name == "core":
            for path in sorted(glob.glob(os.path.join(build, "cores", "*.core"))):
                data = open(path, "rb").read()
                c = compact_core(data)
                if c:
                    seeds.append(c)
                seeds.append(data[:4096])
        elif name in ("elf", "dwarf"):
            for path in sorted(glob.glob(os.path.join(build, "fixtures", "*"))):
                seeds.append(open(path, "rb").read())
        elif name == "command":
            seeds = [l.encode() for l in command_lines()]
        elif name == "expr":
            for e in EXPRESSIONS:
                seeds.append(b"\x00" + e.encode())
                seeds.append(b"\x02" + e.encode())
            for t in TYPES:
                seeds.append(b"\x01" + t.encode())
                seeds.append(b"\x03" + t.encode())
        elif name == "format":
            data = bytes(range(256)) * 2
            for text in ["i\n2x3\n\n", "<d\n\n::2\n", "e\n[2, 3]\n1:\n",
                         "@Q\n4,4\n-1::-1\n", "?\n\n\n", "c\n8x8x8\n\n",
                         "!H\n\n:100:7\n", "P\n\n\n", "=q\n64\n\n", "f\n"]:
                seeds.append(text.encode() + data[:48 + len(seeds) * 37])
        elif name == "heap":
            seeds.append(b"")
            for off in (0, 8, 0x10, 0x18, 0x290, 0x298, 0x2a0, 0x80000000,
                        0x80000008, 0x80000060, 0x80000868):
                for val in (b"\x00" * 8, b"\xff" * 8, b"\x11" * 8,
                            struct.pack("<Q", 0x555555559000),
                            struct.pack("<Q", 1 << 62)):
                    seeds.append(struct.pack("<IB", off, len(val)) + val)
        elif name == "roots":
            # Patches of basic.core's program headers (fuzz_roots.c):
            # index, field (3 p_vaddr, 4 p_filesz, 5 p_memsz), value; the
            # hand-made ones kept under tests/regress/roots/ too.
            seeds.append(b"")
            for idx in range(0, 20):
                for field, val in ((5, 1 << 56), (5, (1 << 64) - 4096),
                                   (3, 0), (4, 1 << 40), (0, 4)):
                    seeds.append(struct.pack("<BBQ", idx, field, val))
        for i, s in enumerate(seeds):
            write(outdir, name, i, s)


if __name__ == "__main__":
    main()
