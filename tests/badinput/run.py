#!/usr/bin/python3
"""The catalogue of bad input (docs/bad-input.md), checked in the memview
program, in gdb and in lldb.

Each row of ROWS is one test: a hostile file (made here, in a temporary
directory, from the fixtures' cores and binaries: cut, patched with
struct, or grown with a synthetic segment), a memview command line, and
what must happen: the exit status; stderr empty or exactly one line
containing the expected text; text that stdout must contain; and bounds
on wall time and peak memory (the child runs under resource limits and a
timeout, and its max RSS is measured).  No row may print a Python
traceback or a sanitizer report.

In gdb and lldb (the plugins gdb/memview.py and lldb/memview.py, driven
by in_gdb.py and in_lldb.py) each row loads its executable and core as a
user would (gdb: file, core-file; lldb: target create --core), runs the
same command by its debugger name (view is memview, layout is
mv-layout, ...), and checks the same things with "exit 1 or 2" read as
"an error message of one line": no traceback, the debugger alive (no
crash, no hang), the message and output, the time bound, the growth of
the debugger's peak RSS within the memory bound; and then that the
debugger still answers (print 6*7 is 42) and that memview still works on
a good executable.  Where a debugger refuses the file itself, or
memview's answer differs for the debugger's own reasons, the row says so
(gdb=, lldb=: refused(), not_loaded(), answers()); rows that only make
sense in the program say why (cli_only=).  gdb runs every row in one
session (a new one after a crash or hang); lldb one session per core
file (lldb 14 cannot name a process's core file: the plugin finds it
among the files lldb has mapped, by pid, and lldb keeps the cores of
deleted targets mapped, so with two cores of one process in a session
the plugin reads memory through lldb, and the answers would differ).

    run.py [-v] [--list] [--markdown] [--heavy]
           [--frontend cli|cli-copied|gdb|lldb|all] [NAME...]

Rows marked heavy (seconds and hundreds of MB each) run only with
--heavy or BADINPUT_HEAVY=1.  --frontend (default all) may be given
more than once; cli-copied is the program with MEMVIEW_CORE_COPY=always
(the heaps a command walks read into memory, whatever their size,
instead of mapped).  Environment: BUILD (default build) names the build
whose memview, libmemview.so and fixtures are used;
BADINPUT_TIME_SCALE multiplies the time bounds (for sanitized or slow
machines).  Ends with "badinput: N passed, M failed" (rows times front
ends).  Standard library only; run with /usr/bin/python3."""

import array
import json
import os
import re
import resource
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
SCALE = float(os.environ.get("BADINPUT_TIME_SCALE", "1"))
MEMVIEW = os.path.join(BUILD, "memview")


def build_file(name):
    return os.path.join(BUILD, name)


# ---------------------------------------------------------------------------
# ELF surgery on cores (x86-64, little-endian)
# ---------------------------------------------------------------------------

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_FILE, NT_AUXV = 1, 0x46494C45, 6


def phdrs(data):
    e = EHDR.unpack_from(data, 0)
    phoff, phentsize, phnum = e[5], e[9], e[10]
    return [(phoff + i * phentsize,
             list(PHDR.unpack_from(data, phoff + i * phentsize)))
            for i in range(phnum)]


def set_phdr(data, off, ph):
    PHDR.pack_into(data, off, *ph)


def notes(data):
    """(offset of the note header, type, namesz, descsz) of each note."""
    out = []
    for _, ph in phdrs(data):
        if ph[0] != PT_NOTE:
            continue
        pos, end = ph[2], ph[2] + ph[5]
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            out.append((pos, ntype, namesz, descsz))
            pos += 12 + (namesz + 3 & ~3) + (descsz + 3 & ~3)
    return out


def first_load(data, pred):
    for off, ph in phdrs(data):
        if ph[0] == PT_LOAD and pred(ph):
            return off, ph
    raise LookupError("no such PT_LOAD")


def add_segment(data, vaddr, payload, flags=6):
    """Appends a PT_LOAD of payload at vaddr; the program headers move to
    the end of the file, one more of them."""
    data = bytearray(data)
    old = phdrs(data)
    data += b"\0" * (-len(data) % 4096)
    seg_off = len(data)
    data += payload
    data += b"\0" * (-len(data) % 8)
    new_phoff = len(data)
    for _, ph in old:
        data += PHDR.pack(*ph)
    data += PHDR.pack(PT_LOAD, flags, seg_off, vaddr, 0, len(payload),
                      len(payload), 1)
    struct.pack_into("<Q", data, 32, new_phoff)
    struct.pack_into("<H", data, 56, len(old) + 1)
    return data


def node_list(base, count, node_size=16, next_at=8):
    """count nodes at base, each pointing at the next; the last at 0."""
    words = node_size // 8
    a = array.array("Q", bytes(8 * words * count))
    nxt = array.array("Q", range(base + node_size,
                                 base + node_size * count + 1, node_size))
    nxt[-1] = 0
    a[next_at // 8::words] = nxt
    return a.tobytes()


# ---------------------------------------------------------------------------
# The hostile files
# ---------------------------------------------------------------------------

class Files:
    def __init__(self, tmp):
        self.tmp = tmp
        self.core = open(build_file("cores/basic.core"), "rb").read()
        self.made = {}

    def path(self, name, data):
        p = os.path.join(self.tmp, name)
        if name not in self.made:
            with open(p, "wb") as f:
                f.write(data)
            self.made[name] = p
        return p

    def get(self, name):
        if name in self.made:
            return self.made[name]
        made = getattr(self, "make_" + name.replace(".", "_").replace(
            "-", "_"))()
        if isinstance(made, str):  # the maker put it on disk: its path
            self.made[name] = made
            return made
        return self.path(name, made)

    # files that are not regular files
    def make_fifo(self):
        p = os.path.join(self.tmp, "fifo")
        os.mkfifo(p)
        return p

    def make_planted_link(self):
        """A link to a file of the user's, planted by someone else in a
        world-writable sticky directory (as /tmp is)."""
        d = os.path.join(self.tmp, "sticky")
        os.mkdir(d)
        os.chmod(d, 0o1777)
        p = os.path.join(d, "out.txt")
        os.symlink(os.path.join(self.tmp, "victim"), p)
        os.lchown(p, 65534, 65534)  # nobody: not the user running memview
        return p

    def make_users_file(self):
        """A file of the user's that holds data (the same in every
        front end: the refusal leaves it as it is)."""
        return b"the user's notes, not to be overwritten\n"

    # cores
    def make_empty_core(self):
        return b""

    def make_text_core(self):
        return b"This is not a core dump.\n" * 40

    def make_cut_header_core(self):
        return self.core[:40]

    def make_cut_phdrs_core(self):
        return self.core[:64 + 56 * 3 + 20]

    def make_cut_notes_core(self):
        note = [ph for _, ph in phdrs(self.core) if ph[0] == PT_NOTE][0]
        return self.core[:note[2] + 300]

    def make_cut_segment_core(self):
        _, heap = first_load(self.core, lambda ph: ph[6] > 0x10000 and
                             ph[3] < 0x7f0000000000)
        return self.core[:heap[2] + heap[5] // 2]

    def make_elf32_core(self):
        d = bytearray(self.core)
        d[4] = 1  # ELFCLASS32
        return d

    def make_bigendian_core(self):
        d = bytearray(self.core)
        d[5] = 2  # ELFDATA2MSB
        return d

    def make_overlap_core(self):
        d = bytearray(self.core)
        loads = [(o, ph) for o, ph in phdrs(d) if ph[0] == PT_LOAD]
        o, ph = loads[2]
        ph[3] = loads[1][1][3] + 0x800  # starts inside the one before
        set_phdr(d, o, ph)
        return d

    def _retype(self, ntype):
        d = bytearray(self.core)
        for pos, t, _, _ in notes(d):
            if t == ntype:
                struct.pack_into("<I", d, pos + 8, 0x7777)
        return d

    def make_no_ntfile_core(self):
        return self._retype(NT_FILE)

    def make_no_prstatus_core(self):
        return self._retype(NT_PRSTATUS)

    def make_note_overflow_core(self):
        d = bytearray(self.core)
        pos = notes(d)[0][0]
        struct.pack_into("<II", d, pos, 0xfffffff0, 0xfffffff0)
        return d

    def make_note_overflow_later_core(self):
        d = bytearray(self.core)
        for pos, t, _, _ in notes(d):
            if t == NT_FILE:
                struct.pack_into("<I", d, pos + 4, 0xffffffff)
        return d

    def make_phnum_huge_core(self):
        d = bytearray(self.core)
        struct.pack_into("<H", d, 56, 0xffff)
        return d

    def make_xnum_no_shdr_core(self):
        d = bytearray(self.core)
        struct.pack_into("<H", d, 56, 0xffff)  # e_phnum: PN_XNUM
        struct.pack_into("<Q", d, 40, 0)       # e_shoff
        return d

    def make_xnum_count_huge_core(self):
        d = bytearray(self.core)
        struct.pack_into("<H", d, 56, 0xffff)
        shoff = struct.unpack_from("<Q", d, 40)[0]
        struct.pack_into("<I", d, shoff + 44, 0xffffffff)  # sh_info
        return d

    def _compressed_exe(self, kind):
        p = os.path.join(self.tmp, "compress-tmp")
        subprocess.run(["objcopy", "--compress-debug-sections=" + kind,
                        build_file("fixtures/basic"), p], check=True)
        return open(p, "rb").read()

    def make_gz_exe(self):
        return self._compressed_exe("zlib")

    def make_zdebug_exe(self):
        return self._compressed_exe("zlib-gnu")

    def make_phoff_beyond_core(self):
        d = bytearray(self.core)
        struct.pack_into("<Q", d, 32, 1 << 62)
        return d

    def make_ntfile_garbage_core(self):
        d = bytearray(self.core)
        for pos, t, namesz, descsz in notes(d):
            if t == NT_FILE:
                desc = pos + 12 + (namesz + 3 & ~3)
                struct.pack_into("<QQ", d, desc, 1 << 60, 4096)
        return d

    def make_segment_past_eof_core(self):
        d = bytearray(self.core)
        o, ph = first_load(d, lambda ph: ph[6] > 0x10000 and
                           ph[3] < 0x7f0000000000)
        ph[2] = len(d) - 100
        set_phdr(d, o, ph)
        return d

    # executables
    def make_stripped_exe(self):
        p = os.path.join(self.tmp, "stripped-tmp")
        shutil.copy(build_file("fixtures/basic"), p)
        subprocess.run(["strip", "-g", p], check=True)
        return open(p, "rb").read()

    def make_text_exe(self):
        return b"#!/bin/sh\necho not an ELF\n"

    def make_elf32_exe(self):
        d = bytearray(open(build_file("fixtures/basic"), "rb").read())
        d[4] = 1
        return d

    def make_bad_sections_exe(self):
        d = bytearray(open(build_file("fixtures/basic"), "rb").read())
        struct.pack_into("<Q", d, 40, len(d) - 10)  # e_shoff
        return d

    # big structures, as synthetic segments of the deepsize core
    def _deep(self):
        return open(build_file("cores/deepsize.core"), "rb").read()

    def make_list10m_core(self):
        return add_segment(self._deep(), LIST_BASE,
                           node_list(LIST_BASE, 10000000))

    def make_tree100k_core(self):
        # struct tree { int key; struct tree *left, *right; }: 24 bytes,
        # a chain through left: 100,000 levels deep.
        return add_segment(self._deep(), TREE_BASE,
                           node_list(TREE_BASE, 100000, 24, 8))

    def make_ptrcycle_core(self):
        # struct box { size_t len; void *payload; }: two boxes whose
        # payloads point at each other, outside the heap.
        seg = struct.pack("<QQQQ", 16, CYCLE_BASE + 16, 16, CYCLE_BASE)
        return add_segment(self.core_deep_cached(), CYCLE_BASE, seg)

    def core_deep_cached(self):
        if not hasattr(self, "_deep_data"):
            self._deep_data = self._deep()
        return self._deep_data

    def make_heapcorrupt_core(self):
        d = bytearray(open(build_file("cores/heapfix.core"), "rb").read())
        o, ph = first_load(d, lambda ph: ph[6] >= 0x21000 and
                           ph[3] < 0x7f0000000000 and ph[1] & 2)
        # chunk headers: every 7th size word in the first 64 KiB becomes
        # garbage
        for k in range(0x290, min(ph[5], 0x10000), 0x1c8):
            struct.pack_into("<Q", d, ph[2] + k + 8, 0x4141414141414141)
        return d

    def make_freelist_loop_core(self):
        d = bytearray(open(build_file("cores/heapfix.core"), "rb").read())
        o, ph = first_load(d, lambda ph: ph[6] >= 0x21000 and
                           ph[3] < 0x7f0000000000 and ph[1] & 2)
        # the tcache block is the heap's first chunk: the first free
        # chunk of every non-empty bin points at itself (safe-linking:
        # stored next = next ^ (address >> 12))
        for i in range(64):
            ent = ph[2] + 0x10 + 0x80 + 8 * i
            (v,) = struct.unpack_from("<Q", d, ent)
            if ph[3] <= v < ph[3] + ph[5] - 8:
                struct.pack_into("<Q", d, ph[2] + v - ph[3], v ^ (v >> 12))
        return d


LIST_BASE = 0x600000000000
TREE_BASE = 0x610000000000
CYCLE_BASE = 0x620000000000


# ---------------------------------------------------------------------------
# The catalogue.  args: "@NAME" is a made file (Files.make_NAME), "%core",
# "%exe", "%deep", "%deepexe", "%heapcore", "%heapexe", "%hostile" are
# the fixtures.  err: None = stderr must be empty, else one line holding
# the text.  Bounds: seconds of wall time, MB of peak RSS.
# ---------------------------------------------------------------------------

def row(name, what, args, exit, err=None, out=None, secs=10, mb=200,
        heavy=False, gdb=None, lldb=None, cli_only=None):
    """One row.  gdb=, lldb=: how the row differs in that debugger
    (refused(), not_loaded(), answers(); None: as in the CLI);
    cli_only=WHY: not run in the debuggers, and why."""
    return dict(name=name, what=what, args=args, exit=exit, err=err,
                out=out, secs=secs, mb=mb, heavy=heavy, gdb=gdb, lldb=lldb,
                cli_only=cli_only)


def refused(why):
    """The debugger itself refuses the row's file (its own error from
    core-file, file or target create), so memview never sees it: the
    command runs without it and must still answer (output, or one error
    line)."""
    return dict(load="refused", why=why)


def not_loaded(why):
    """The core is not given to the debugger at all (the debugger itself
    does not survive it): the command runs with just the executable and
    must still answer."""
    return dict(load="exe-only", why=why)


def answers(why, exit, err=None, out=None):
    """The debugger loads the file, and memview's answer differs from the
    CLI's for the debugger's own reason (its expression language...):
    exit 0 with out in the output, or exit 1/2 with err in the one error
    line."""
    return dict(load="ok", why=why, exit=exit, err=err, out=out)


# The debuggers' own refusals, in their words.
LLDB_NO_CORE = refused("\"Unable to find process plug-in for core "
                       "file\"")
GDB_NO_CORE = refused("\"not a core dump: file format not recognized\"")
GDB_NO_EXE = refused("\"not in executable format: file format not "
                     "recognized\"")

ROWS = [
    # --- core files ---
    # gdb=, lldb=: where a debugger differs (see refused(), not_loaded(),
    # answers()); the debuggers' reasons are quoted from their messages.
    row("empty-core", "an empty file as the core",
        ["--core", "@empty_core", "info"], 1, "empty",
        gdb=GDB_NO_CORE, lldb=LLDB_NO_CORE),
    row("text-core", "a text file as the core",
        ["--core", "@text_core", "info"], 1, "not an ELF",
        gdb=GDB_NO_CORE, lldb=LLDB_NO_CORE),
    row("cut-header", "a core cut inside the ELF header (40 bytes)",
        ["--core", "@cut_header_core", "info"], 1, "truncated",
        gdb=GDB_NO_CORE, lldb=LLDB_NO_CORE),
    row("cut-phdrs", "a core cut inside its program headers",
        ["--core", "@cut_phdrs_core", "info"], 0,
        out="core truncated: 3 of 19 program headers", gdb=GDB_NO_CORE,
        lldb=answers("lldb reads a file this small (252 bytes) instead of "
                     "mapping it, so the plugin cannot find it and reads "
                     "memory through lldb", 0, out="target: callback")),
    row("cut-notes", "a core cut inside its notes (gcore writes them last)",
        ["--core", "@cut_notes_core", "--exe", "%exe", "regions"], 0,
        out="0x0000555555554000", gdb=GDB_NO_CORE),
    row("cut-segment", "a core cut in the middle of the heap segment "
        "(its notes, written last, are lost: no NT_AUXV; the executable "
        "is placed by finding its ELF header in memory)",
        ["--core", "@cut_segment_core", "--exe", "%exe", "view",
         "list_head"], 0, out="value = 3", gdb=GDB_NO_CORE),
    row("cut-segment-lost", "the same core: an object in the lost part",
        ["--core", "@cut_segment_core", "--exe", "%exe", "view",
         "--type", "int", "0x555555578000"], 0, out="<unreadable>",
        gdb=GDB_NO_CORE),
    row("cut-segment-regions", "the same core: regions say what is left",
        ["--core", "@cut_segment_core", "regions"], 0,
        out="0x0000555555559000", gdb=GDB_NO_CORE,
        lldb=refused("\"Don't know how to parse core file. Unsupported "
                     "OS.\" (without the executable)")),
    row("other-exe", "a core of another executable (--exe hostile_types)",
        ["--core", "%core", "--exe", "%hostile", "info"], 1,
        "was not produced by"),
    row("elf32-core", "a 32-bit ELF as the core",
        ["--core", "@elf32_core", "info"], 1,
        "32-bit ELF is not supported", gdb=GDB_NO_CORE,
        lldb=refused("\"core file has no segments\"")),
    row("bigendian-core", "a big-endian ELF as the core",
        ["--core", "@bigendian_core", "info"], 1,
        "big-endian ELF is not supported", gdb=GDB_NO_CORE,
        lldb=LLDB_NO_CORE),
    row("overlap", "overlapping PT_LOAD segments",
        ["--core", "@overlap_core", "--exe", "%exe", "regions"], 0,
        out="0x0000555555554000"),
    row("no-ntfile", "no NT_FILE note (objfiles unknown without --exe)",
        ["--core", "@no_ntfile_core", "info"], 0, out="NT_FILE"),
    row("no-ntfile-exe", "no NT_FILE note, executable given",
        ["--core", "@no_ntfile_core", "--exe", "%exe", "view",
         "int_array"], 0, out="int [5]"),
    row("no-prstatus", "no NT_PRSTATUS note (no threads, no registers)",
        ["--core", "@no_prstatus_core", "--exe", "%exe", "info"], 0,
        out="0 threads"),
    row("note-overflow", "the first note's sizes near 2^32",
        ["--core", "@note_overflow_core", "--exe", "%exe", "info"], 0,
        out="target: core", gdb=GDB_NO_CORE,
        lldb=refused("\"Unable to parse note segment\"")),
    row("note-overflow-ntfile", "NT_FILE's descsz 0xffffffff",
        ["--core", "@note_overflow_later_core", "--exe", "%exe", "info"], 0,
        out="target: core", gdb=GDB_NO_CORE),
    row("ntfile-garbage", "NT_FILE with a count of 2^60 entries",
        ["--core", "@ntfile_garbage_core", "--exe", "%exe", "info"], 0,
        out="target: core",
        lldb=not_loaded("lldb 14 itself aborts on it (LLVM out of memory "
                        "after minutes) in target create")),
    row("phnum-huge", "e_phnum 65535 (PN_XNUM) and no count in section "
        "header 0 (sh_info 0): the 19 headers before the notes are read",
        ["--core", "@phnum_huge_core", "info"], 0,
        out="section header 0 holds no count (sh_info 0); read the 19 "
        "program headers", gdb=GDB_NO_CORE,
        lldb=refused("\"core file has no segments\"")),
    row("phnum-xnum-view", "the same core: the heap is there",
        ["--core", "@phnum_huge_core", "--exe", "%exe", "view",
         "list_head"], 0, out="value = 3", gdb=GDB_NO_CORE,
        lldb=refused("\"core file has no segments\"")),
    row("phnum-xnum-no-shdr", "e_phnum PN_XNUM and no section headers "
        "(e_shoff 0)", ["--core", "@xnum_no_shdr_core", "info"], 0,
        out="there is no section header 0 to hold the count",
        gdb=GDB_NO_CORE,
        lldb=not_loaded("lldb 14 opens it with no segments")),
    row("phnum-xnum-count-huge", "e_phnum PN_XNUM, section header 0 "
        "giving 2^32-1 program headers",
        ["--core", "@xnum_count_huge_core", "info"], 0,
        out="of 4294967295 program headers present", gdb=GDB_NO_CORE,
        lldb=not_loaded("lldb 14 dies: 'LLVM ERROR: out of memory'")),
    row("gz-exe", "DWARF in SHF_COMPRESSED sections (objcopy "
        "--compress-debug-sections=zlib)",
        ["--exe", "@gz_exe", "layout", "struct node"], 0,
        out="struct node {"),
    row("zdebug-exe", "DWARF in .zdebug_* sections (-gz=zlib-gnu)",
        ["--exe", "@zdebug_exe", "layout", "struct node"], 0,
        out="struct node {"),
    row("phoff-beyond", "e_phoff at 2^62",
        ["--core", "@phoff_beyond_core", "info"], 0,
        out="core truncated: 0 of 19 program headers present",
        gdb=GDB_NO_CORE),
    row("segment-past-eof", "a PT_LOAD whose bytes lie past the end",
        ["--core", "@segment_past_eof_core", "--exe", "%exe", "view",
         "list_head"], 0, out="struct node"),
    row("missing-core", "a core file that does not exist",
        ["--core", "/nonexistent/core", "info"], 1, "No such file",
        cli_only="the path given to --core; in a debugger the debugger "
        "opens the core, memview never sees the path"),
    # --- executables and DWARF ---
    row("text-exe", "a shell script as --exe",
        ["--exe", "@text_exe", "layout", "struct node"], 1, "not an ELF",
        gdb=GDB_NO_EXE,
        lldb=refused("\"doesn't contain any 'host' platform "
                     "architectures\"")),
    row("elf32-exe", "a 32-bit ELF as --exe",
        ["--exe", "@elf32_exe", "layout", "struct node"], 1, "64-bit",
        gdb=GDB_NO_EXE),
    row("bad-sections", "section headers past the end of the file",
        ["--exe", "@bad_sections_exe", "layout", "struct node"], 1,
        "struct node", gdb=GDB_NO_EXE),
    row("no-debug", "an executable without debug info",
        ["--exe", "@stripped_exe", "layout", "struct node"], 1,
        "debug info"),
    row("no-debug-core", "a core whose executable has no debug info: "
        "its ELF symbols still name addresses (as char)",
        ["--core", "%core", "--exe", "@stripped_exe", "view",
         "list_head"], 0, out="555555558160:",
        gdb=answers("gdb's own expressions: a symbol without debug info "
                    "has no type", 1, "has unknown type"),
        # lldb's own expressions: such a symbol is a void *, whose value
        # (basic.facts: value list_head) the view shows.
        lldb=answers("lldb's own expressions: a symbol without debug info "
                     "is a void *, and the view shows what it points to",
                     0, out="555555559300:")),
    row("no-debug-core-type", "the same, asking for a type",
        ["--core", "%core", "--exe", "@stripped_exe", "layout",
         "struct node"], 1, "no debug info"),
    row("typedef-self", "typedef loop_t loop_t (self-referential)",
        ["--exe", "%hostile", "layout", "loop_t"], 1,
        "could not be loaded"),
    row("typedef-cycle", "typedef loop_a -> loop_b -> loop_a",
        ["--exe", "%hostile", "layout", "loop_a"], 1,
        "could not be loaded"),
    row("struct-self", "struct self_by_value contains itself by value",
        ["--exe", "%hostile", "layout", "struct self_by_value"], 0,
        out="self_by_value"),
    row("array-2p40", "an array type of 2^40 chars (huge_t)",
        ["--exe", "%hostile", "layout", "huge_t"], 0,
        out="1099511627776"),
    row("array-overflow", "long [2^62]: its size overflows 64 bits",
        ["--exe", "%hostile", "layout", "overflow_t"], 1,
        "could not be loaded"),
    row("member-beyond", "a member at offset 100 of a 4-byte struct",
        ["--exe", "%hostile", "layout", "struct beyond"], 0,
        out="outside"),
    row("view-2p40", "view of a 2^40-byte object: refused by --max-bytes",
        ["--core", "%hostilecore", "--exe", "%hostile", "view", "--hex",
         "--type", "huge_t", "0x555555558000"], 1, "max-bytes"),
    # lldb 14 crashes on any expression it parses over g_far (its type
    # holds itself): the plugin hands globals to memview's evaluator.
    row("far-global", "g_far, a global whose type holds itself",
        ["--core", "%hostilecore", "--exe", "%hostile", "view", "g_far"],
        0, out="self_t"),
    row("far-address", "&g_far (lldb 14 crashes on p &(g_far))",
        ["--core", "%hostilecore", "--exe", "%hostile", "view", "&g_far"],
        0, out="self_t"),
    row("far-member", "g_far.me, a member of a type cycle",
        ["--core", "%hostilecore", "--exe", "%hostile", "view",
         "g_far.me"], 0, out="0700 0000"),
    row("deep-star", "100,000 nested '*' (lldb's parser overflows)",
        ["--core", "%hostilecore", "--exe", "%hostile", "view",
         "*" * 100000 + "g_far"], 1, "nested more than 256 deep"),
    row("deep-parens", "60,000 nested parentheses",
        ["--core", "%hostilecore", "--exe", "%hostile", "view",
         "(" * 60000 + "g_far" + ")" * 60000], 1,
        "nested more than 256 deep"),
    # --- target memory ---
    row("dangling", "a pointer into unmapped memory",
        ["--core", "%core", "--exe", "%exe", "view", "--type",
         "struct node", "0xdead0000"], 0, out="??"),
    row("misaligned", "a misaligned struct pointer",
        ["--core", "%core", "--exe", "%exe", "layout", "--type",
         "struct node", "0x555555559301"], 0, out="struct node"),
    row("noncanonical", "a non-canonical address",
        ["--core", "%core", "--exe", "%exe", "view",
         "0x8000000000001000"], 0, out="??"),
    row("wrap", "a view that wraps around the address space",
        ["--core", "%core", "--exe", "%exe", "view",
         "0xfffffffffffffff0", "64"], 2, "past the end of the address"),
    row("null-deref", "a NULL struct pointer: a partial view",
        ["--core", "%core", "--exe", "%exe", "view",
         "*(struct node *)0"], 0, out="0x0 is not readable",
        lldb=answers("lldb's own expression evaluator reads the struct "
                     "itself, and fails", 1, "couldn't read its memory")),
    row("unreadable-stack", "a core cut before the stack segment",
        ["--core", "@cut_segment_core", "--exe", "%exe", "info"], 0,
        out="thread", gdb=GDB_NO_CORE),
    row("void-cycle", "two void * chunks pointing at each other",
        ["--core", "%deep", "--exe", "%deepexe", "sizeof-deep",
         "--conservative", "vcycle"], 0, out="objects"),
    row("void-cycle-synthetic", "struct box payloads in a cycle, off-heap",
        ["--core", "@ptrcycle_core", "--exe", "%deepexe", "sizeof-deep",
         "--conservative", "(struct box *)0x620000000000"], 0,
        out="objects"),
    row("list-10m", "a 10-million-node list: stops at --max-objects",
        ["--core", "@list10m_core", "--exe", "%deepexe", "sizeof-deep",
         "--max-objects", "1000000", "(struct node *)0x600000000000"], 0,
        out="max-objects",
        secs=30, mb=300),
    row("list-10m-all", "the same list with --max-objects lifted",
        ["--core", "@list10m_core", "--exe", "%deepexe", "sizeof-deep",
         "--max-objects", "20000000", "(struct node *)0x600000000000"], 0,
        out="10,000,000 objects", secs=60, mb=800, heavy=True),
    row("tree-100k-deep", "a tree 100,000 levels deep",
        ["--core", "@tree100k_core", "--exe", "%deepexe", "sizeof-deep",
         "(struct tree *)0x610000000000"], 0, out="100000",
        secs=30, mb=400),
    row("tree-depth-limit", "the same tree with --max-depth 1000",
        ["--core", "@tree100k_core", "--exe", "%deepexe", "sizeof-deep",
         "--max-depth", "1000", "(struct tree *)0x610000000000"], 0,
        out="max-depth", secs=30, mb=400),
    row("heap-corrupt", "chunk headers overwritten with garbage",
        ["--core", "@heapcorrupt_core", "--exe", "%heapexe", "heap"], 0,
        out="corrupt", secs=20, mb=400),
    row("heap-freelist-loop", "tcache free lists that point at themselves",
        ["--core", "@freelist_loop_core", "--exe", "%heapexe", "heap"], 0,
        out="chunks", secs=20, mb=400),
    # --- command lines ---
    row("bad-option", "an unknown option",
        ["--core", "%core", "--exe", "%exe", "layout", "--nosuch",
         "struct node"], 2, "--nosuch"),
    row("bad-number", "a number that overflows",
        ["--core", "%core", "--exe", "%exe", "view", "--width",
         "99999999999999999999", "int_array"], 2, "width"),
    row("bad-expr", "an expression that does not parse",
        ["--core", "%core", "--exe", "%exe", "view", "list_head->->"], 1,
        "list_head",
        gdb=answers("gdb's own expression parser", 1, "syntax error"),
        lldb=answers("lldb's own expression parser", 1,
                     "expected unqualified-id")),
    row("bad-format", "a struct-module format memoryview refuses",
        ["--core", "%core", "--exe", "%exe", "view", "--as", "Z",
         "int_array"], 2, "format"),
    row("negative-count", "a negative count (it would read as a huge bound)",
        ["--core", "%core", "--exe", "%exe", "sizeof-deep", "--max-objects",
         "-1", "list_head"], 2, "count >= 0"),
    # --- files given by the user: never block, never follow a trap ---
    row("len-file-zero", "--len-file /dev/zero, which never ends",
        ["--core", "%core", "--exe", "%exe", "sizeof-deep", "--len-file",
         "/dev/zero", "list_head"], 1, "not a regular file"),
    row("len-file-fifo", "--len-file a FIFO that no one writes",
        ["--core", "%core", "--exe", "%exe", "sizeof-deep", "--len-file",
         "@fifo", "list_head"], 1, "not a regular file"),
    row("output-fifo", "view --output to a FIFO that no one reads",
        ["--core", "%core", "--exe", "%exe", "view", "--output", "@fifo",
         "int_array"], 1, "no reader"),
    row("svg-fifo", "gc --svg to a FIFO that no one reads",
        ["--core", "%core", "--exe", "%exe", "gc", "--svg", "@fifo"], 1,
        "no reader"),
    row("output-planted-link", "--output through a link someone planted "
        "in a sticky world-writable directory",
        ["--core", "%core", "--exe", "%exe", "view", "--output",
         "@planted_link", "int_array"], 1, "not followed"),
    row("output-exists", "--output over a file that holds data, without "
        "--force",
        ["--core", "%core", "--exe", "%exe", "view", "--output",
         "@users_file", "int_array"], 1, "--force writes over it"),
    row("dot-exists", "gc --dot over a file that holds data, without "
        "--force",
        ["--core", "%core", "--exe", "%exe", "gc", "--dot", "@users_file"],
        1, "--force writes over it"),
    row("bad-shape", "a shape that does not match the length",
        ["--core", "%core", "--exe", "%exe", "view", "--as", "i",
         "--shape", "7x3", "int_array"], 2, "shape"),
]


# ---------------------------------------------------------------------------
# Running one row
# ---------------------------------------------------------------------------

FIXTURES = {
    "%core": "cores/basic.core", "%exe": "fixtures/basic",
    "%hostile": "fixtures/hostile_types",
    "%hostilecore": "cores/hostile_types.core",
    "%deep": "cores/deepsize.core", "%deepexe": "fixtures/deepsize",
    "%heapcore": "cores/heapfix.core", "%heapexe": "fixtures/heapfix",
}

BAD_WORDS = ("Traceback", "AddressSanitizer", "runtime error:",
             "LeakSanitizer", "UndefinedBehaviorSanitizer", "Segmentation")


def resolve(files, args):
    out = []
    for a in args:
        if a.startswith("@"):
            out.append(files.get(a[1:]))
        elif a in FIXTURES:
            out.append(build_file(FIXTURES[a]))
        else:
            out.append(a)
    return out


def drain_pipes(p):
    """Reads p's stdout and stderr in threads, so that neither pipe fills
    and blocks the child: the threads, and the blocks read per stream."""
    chunks = {"out": [], "err": []}

    def drain(f, key):
        for block in iter(lambda: f.read(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=drain, args=(p.stdout, "out")),
               threading.Thread(target=drain, args=(p.stderr, "err"))]
    for t in readers:
        t.start()
    return readers, chunks


def joined(chunks, key):
    """One stream's text, once its reader is done."""
    return b"".join(chunks[key]).decode("utf-8", "replace")


def run_row(files, r, env=None):
    """Returns (problems, facts) for one row."""
    argv = [MEMVIEW] + resolve(files, r["args"])
    limit = r["secs"] * SCALE
    mem = r["mb"] << 20

    def limits():
        # Address space: the bound plus room for the sanitizer's shadow
        # when the build is sanitized (its RSS is still measured).
        if "-san" not in BUILD:
            resource.setrlimit(resource.RLIMIT_AS, (mem * 4, mem * 4))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limits, env=env)
    # Read both pipes in threads and reap the child ourselves, so that
    # wait4 gives this child's own peak RSS.
    readers, chunks = drain_pipes(p)
    killer = threading.Timer(limit * 3 + 5, p.kill)
    killer.start()
    _, status, ru = os.wait4(p.pid, 0)
    killer.cancel()
    timed_out = os.WIFSIGNALED(status) and \
        os.WTERMSIG(status) == signal.SIGKILL
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    secs = time.monotonic() - t0
    rss_mb = ru.ru_maxrss / 1024
    out = joined(chunks, "out")
    err = joined(chunks, "err")
    problems = []
    if timed_out:
        problems.append("killed after %.0f s" % secs)
    rc = p.returncode
    if rc != r["exit"]:
        problems.append("exit %s, want %s" % (rc, r["exit"]))
    lines = err.splitlines()
    if r["err"] is None:
        if lines:
            problems.append("stderr not empty: %r" % err[:300])
    elif len(lines) != 1 or r["err"] not in lines[0]:
        problems.append("stderr %r, want one line with %r" %
                        (err[:300], r["err"]))
    if r["out"] is not None and r["out"] not in out:
        problems.append("stdout lacks %r: %r" % (r["out"], out[:300]))
    for w in BAD_WORDS:
        if w in out or w in err:
            problems.append("%r in output" % w)
    if secs > limit:
        problems.append("took %.1f s, bound %.1f s" % (secs, limit))
    if rss_mb > r["mb"] and "-san" not in BUILD:
        problems.append("peak RSS %.0f MB, bound %d MB" % (rss_mb, r["mb"]))
    return problems, dict(secs=secs, out=out, err=err, rc=rc, rss=rss_mb)


# ---------------------------------------------------------------------------
# Running rows in gdb and lldb
# ---------------------------------------------------------------------------

FRONTENDS = ("cli", "cli-copied", "gdb", "lldb")
CLIS = ("cli", "cli-copied")
# What a command that must still work prints on the good executable: the
# basic fixture's own sizeof (its facts file).
GOOD_COMMAND = "mv-layout 'struct node'"
# In a debugger a traceback is printed by the debugger or caught by the
# lldb plugin as an "internal error".
DEBUGGER_BAD_WORDS = BAD_WORDS + ("Python Exception", "Error occurred in "
                                  "Python", "internal error")


def debugger_env():
    env = dict(os.environ, MEMVIEW_LIBRARY=os.path.abspath(
        build_file("libmemview.so")))
    env.pop("PYTHONPATH", None)  # the plugins find their own modules
    env.pop("PYTHONHOME", None)
    # lldb's embedded Python takes its prefix from the first python3 on
    # PATH; a pyenv or venv python there hides Debian's modules from it.
    env["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
    return env


def debugger_command(args):
    """(core, exe, command line) of a row's arguments in a debugger:
    --core and --exe become what the debugger loads, the command gets
    its debugger name (view: memview, sizeof-deep, others mv-NAME)."""
    core = exe = None
    i = 0
    while i < len(args) and args[i] in ("--core", "--exe"):
        if args[i] == "--core":
            core = args[i + 1]
        else:
            exe = args[i + 1]
        i += 2
    if i >= len(args) or args[i].startswith("-"):
        raise ValueError("no debugger spelling for %r: mark the row "
                         "cli_only=..." % " ".join(args))
    name = args[i]
    name = {"view": "memview", "sizeof-deep": "sizeof-deep"}.get(
        name, "mv-" + name)
    words = [name] + [shlex.quote(a) for a in args[i + 1:]]
    return core, exe, " ".join(words)


def expectation(r, front):
    """What must happen to row r in front (a debugger)."""
    spec = r[front] or {}
    exp = dict(load=spec.get("load", "ok"), why=spec.get("why"),
               exit=r["exit"], err=r["err"], out=r["out"])
    if "exit" in spec:
        exp.update(exit=spec["exit"], err=spec.get("err"),
                   out=spec.get("out"))
    if exp["load"] != "ok":
        exp.update(exit=None, err=None, out=None)  # any one answer
    return exp


def debugger_case(files, r, front):
    # A made file in the command's own words ("--output @fifo") is its
    # path there too; --core and --exe stay names, resolved below.
    args = list(r["args"])
    for k, a in enumerate(args):
        if a.startswith("@") and not (k and args[k - 1] in ("--core",
                                                             "--exe")):
            args[k] = os.path.abspath(files.get(a[1:]))
    core, exe, command = debugger_command(args)
    if expectation(r, front)["load"] == "exe-only":
        core = None
    core, exe = (os.path.abspath(p) if p else None
                 for p in resolve(files, [core or "", exe or ""]))
    return dict(name=r["name"], core=core or None, exe=exe or None,
                command=command)


def split_stderr(text):
    """{case name: what the debugger wrote to stderr during it}; "" is
    what came before the first case."""
    parts = {"": []}
    name = ""
    for line in text.splitlines(True):
        if line.startswith("MV-CASE "):
            name = line[len("MV-CASE "):].strip()
            parts.setdefault(name, [])
            continue
        parts[name].append(line)
    return {k: "".join(v) for k, v in parts.items()}


def start_debugger(front, cases_path, out_path):
    if front == "gdb":
        argv = ["gdb", "-nx", "-batch", "-q",
                "-ex", "set debuginfod enabled off",
                "-ex", "set python print-stack full",
                "-ex", "source %s/gdb/memview.py" % ROOT,
                "-ex", "source %s/tests/badinput/in_gdb.py" % ROOT]
    else:
        argv = ["lldb", "-b", "--no-lldbinit",
                "-o", "command script import %s/lldb/memview.py" % ROOT,
                "-o", "command script import %s/tests/badinput/in_lldb.py"
                % ROOT]
    env = dict(debugger_env(), MV_CASES=cases_path, MV_OUT=out_path)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=env, cwd=ROOT)
    readers, chunks = drain_pipes(p)
    return p, readers, chunks


def run_session(front, cases, rows, tmp):
    """Runs cases in one debugger.  Returns ({name: record}, {name: list
    of problems of the session itself: crash, hang, stray output},
    {name: stderr}, names not run)."""
    cases_path = os.path.join(tmp, "%s-cases.json" % front)
    out_path = os.path.join(tmp, "%s-out.jsonl" % front)
    good = dict(exe=os.path.abspath(build_file("fixtures/basic")),
                command=GOOD_COMMAND)
    with open(cases_path, "w") as f:
        json.dump(dict(good=good, cases=cases), f)
    open(out_path, "w").close()
    p, readers, chunks = start_debugger(front, cases_path, out_path)
    records, session_problems = {}, {}
    current = since = None
    done = False
    pos = 0
    killed = None
    while True:
        with open(out_path) as f:
            f.seek(pos)
            data = f.read()
        complete = data[:data.rfind("\n") + 1]
        pos += len(complete.encode())
        for line in complete.splitlines():
            rec = json.loads(line)
            if "begin" in rec:
                current, since = rec["begin"], time.monotonic()
            elif "end" in rec:
                records[rec["end"]] = rec
                current = None
            elif "done" in rec:
                done = True
        if p.poll() is not None and not complete:
            break
        if current is not None:
            r = rows[current]
            limit = r["secs"] * SCALE * 3 + 20
            if time.monotonic() - since > limit:
                killed = time.monotonic() - since
                p.kill()
                p.wait()
                continue
        time.sleep(0.05)
    for t in readers:
        t.join()
    rc = p.returncode
    out = joined(chunks, "out")
    err = joined(chunks, "err")
    stderr = split_stderr(err)
    how = ("signal %d" % -rc) if rc < 0 else ("exit %d" % rc)
    if current is not None:
        if killed is not None:
            msg = "%s hung: killed after %.0f s" % (front, killed)
        else:
            said = stderr.get(current, "").strip() or err.strip()
            msg = "%s died (%s) during this case: %r" % (
                front, how, said[:400])
        session_problems[current] = [msg]
    elif done and rc != 0 and records:
        last = cases[len(records) - 1]["name"]
        session_problems.setdefault(last, []).append(
            "%s ended with %s after the last case" % (front, how))
    names = [c["name"] for c in cases]
    ran = set(records) | set(session_problems)
    rest = [n for n in names if n not in ran]
    if not done and not ran:
        # Nothing ran at all: the debugger or a plugin is broken.
        for n in rest:
            session_problems[n] = ["%s ran no case (%s): %r" % (
                front, how, (out + err).strip()[-400:])]
        rest = []
    return records, session_problems, stderr, rest


def sessions(front, cases):
    """gdb: one session.  lldb: one per core file (see the docstring)."""
    if front == "gdb":
        return [cases]
    groups = {}
    for c in cases:
        groups.setdefault(c["core"], []).append(c)
    return list(groups.values())


def one_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else None


def check_debugger_case(front, r, rec, stderr):
    """Problems of one row's record in a debugger."""
    exp = expectation(r, front)
    problems = []
    failed = [s for s in rec["load"] if not s[1]]
    if exp["load"] == "refused" and not failed:
        problems.append("%s now loads the file (the row says it refuses "
                        "it: update the row)" % front)
    elif exp["load"] != "refused" and failed:
        problems.append("%s refused %r: %s (if that is %s's own doing, "
                        "say %s=refused(WHY) in the row)" % (
                            front, failed[0][0], failed[0][2].strip()[:200],
                            front, front))
    run = rec["run"]
    text = run["text"]
    if exp["exit"] is None:
        if not run["ok"] and one_line(text) is None:
            problems.append("error not one line: %r" % text[:300])
    elif exp["exit"] == 0:
        if not run["ok"]:
            problems.append("failed: %r, want success" % text[:300])
        elif exp["out"] is not None and exp["out"] not in text:
            problems.append("output lacks %r: %r" % (exp["out"], text[:300]))
    else:
        line = one_line(text)
        if run["ok"]:
            problems.append("succeeded: %r, want an error with %r" %
                            (text[:300], exp["err"]))
        elif line is None or (exp["err"] and exp["err"] not in line):
            problems.append("error %r, want one line with %r" %
                            (text[:300], exp["err"]))
    texts = [text, rec["alive"][2], rec["good"][2], stderr]
    for w in DEBUGGER_BAD_WORDS:
        if any(w in t for t in texts):
            problems.append("%r in the session" % w)
    limit = r["secs"] * SCALE
    if run["secs"] > limit:
        problems.append("took %.1f s, bound %.1f s" % (run["secs"], limit))
    if run["mb"] > r["mb"] and "-san" not in BUILD:
        problems.append("peak RSS grew %.0f MB, bound %d MB" %
                        (run["mb"], r["mb"]))
    if not rec["alive"][1] or "42" not in rec["alive"][2]:
        problems.append("%s did not answer %r after: %r" % (
            front, rec["alive"][0], rec["alive"][2][:200]))
    good = rec["good"]
    size = good_size()
    if not good[1] or "struct node {" not in good[2] or \
            "/* size: %s," % size not in good[2]:
        problems.append("then %r on the basic fixture: %r, want struct "
                        "node of size %s (its facts)" % (
                            good[0], good[2][:200], size))
    return problems


def good_size():
    """sizeof(struct node) by the basic fixture's own facts."""
    return read_facts("cores/basic.facts")["sizeof struct node"]


def run_debugger(front, files, rows, tmp):
    """[(row, problems, record or None)] for rows in gdb or lldb."""
    by_name = {r["name"]: r for r in rows}
    cases = [debugger_case(files, r, front) for r in rows]
    results = {}
    for group in sessions(front, cases):
        while group:
            records, trouble, stderr, rest = run_session(front, group,
                                                          by_name, tmp)
            for c in group:
                n = c["name"]
                if n in records:
                    problems = check_debugger_case(
                        front, by_name[n], records[n], stderr.get(n, ""))
                    results[n] = (problems + trouble.get(n, []),
                                  records[n])
                elif n in trouble:
                    results[n] = (trouble[n], None)
            # After a crash or a hang: a new debugger for the rest.
            group = [c for c in group if c["name"] in rest]
    return [(r, results[r["name"]][0], results[r["name"]][1])
            for r in rows]


SWITCH = dict(name="core-switch", what="back to a core after a hostile "
              "core of the same process, in one session: memview must read "
              "the core the debugger has now", secs=10, mb=200)


def check_core_switch(front, files, tmp):
    """The basic core, the segment-past-eof core (the same pid), the basic
    core again, in one debugger session: the last view must show the basic
    core's list head (basic.facts), not the hostile core's hole."""
    exe = os.path.abspath(build_file("fixtures/basic"))
    good = os.path.abspath(build_file("cores/basic.core"))
    cores = [good, files.get("segment_past_eof_core"), good]
    cases = [dict(name="%s-%d" % (SWITCH["name"], i), core=c, exe=exe,
                  command="memview list_head") for i, c in enumerate(cores)]
    records, trouble, _, _ = run_session(front, cases, {
        c["name"]: SWITCH for c in cases}, tmp)
    problems = [p for ps in trouble.values() for p in ps]
    last = records.get(cases[-1]["name"])
    want = "value = %s" % read_facts("cores/basic.facts")[
        "value list_head->value"]
    if last is None:
        problems.append("the last case did not run")
    elif not last["run"]["ok"] or want not in last["run"]["text"]:
        problems.append("memview list_head on the basic core again: %r, "
                        "want %r (basic.facts)" % (
                            last["run"]["text"][:300], want))
    return problems, last


def read_facts(name):
    """A fixture's facts file (key value lines) as a dict."""
    facts = {}
    with open(build_file(name)) as f:
        for line in f:
            key, _, value = line.rstrip("\n").rpartition(" ")
            facts[key] = value
    return facts


def describe_load(front, r):
    """How row r runs in front, for the listings; None: as in the CLI."""
    spec = r[front]
    if not spec:
        return None
    if spec["load"] == "refused":
        return "refuses it: %s" % spec["why"]
    if spec["load"] == "exe-only":
        return "core not loaded: %s" % spec["why"]
    what = ("output `%s`" % spec["out"]) if spec["exit"] == 0 \
        else "error `%s`" % spec["err"]
    return "%s: %s" % (what, spec["why"])


def print_markdown():
    """The catalogue as the tables in docs/bad-input.md."""
    print("| # | input | command | exit | stderr | stdout holds | "
          "bounds |")
    print("|---|---|---|---|---|---|---|")
    for i, r in enumerate(ROWS, 1):
        cmd = " ".join(("'%s'" % a) if " " in a or "*" in a else a
                       for a in r["args"])
        # 100,000 nested '*' read as "*×100000".
        cmd = re.sub(r"(.)\1{15,}",
                     lambda m: "%s×%d" % (m.group(1), len(m.group(0))), cmd)
        cmd = cmd.replace("|", "\\|")
        err = "(none)" if r["err"] is None else "`%s`" % r["err"]
        out = "`%s`" % r["out"] if r["out"] else ""
        bounds = "%g s, %d MB%s" % (r["secs"], r["mb"],
                                    " (heavy)" if r["heavy"] else "")
        print("| %d | **%s**: %s | `%s` | %d | %s | %s | %s |" %
              (i, r["name"], r["what"], cmd, r["exit"], err, out, bounds))
    print()
    print("The rows that differ in gdb or lldb (all others: as in the "
          "program, exit 1 and 2 read as an error line):")
    print()
    print("| # | row | gdb | lldb |")
    print("|---|---|---|---|")
    for i, r in enumerate(ROWS, 1):
        if r["cli_only"]:
            print("| %d | %s | not run: %s | not run |" %
                  (i, r["name"], r["cli_only"]))
            continue
        g, l = describe_load("gdb", r), describe_load("lldb", r)
        if g or l:
            print("| %d | %s | %s | %s |" % (i, r["name"], g or "same",
                                             l or "same"))


def print_row_result(front, r, problems, facts, verbose):
    if problems:
        print("badinput: FAILED %s%s (%s): %s" % (
            "" if front == "cli" else front + " ", r["name"], r["what"],
            "; ".join(problems)))
    if not verbose or facts is None:
        return
    if front in CLIS:
        print("  %-22s rc=%s %.2fs %.0fMB err=%r out=%r" %
              (r["name"], facts["rc"], facts["secs"], facts["rss"],
               facts["err"].strip()[:150], facts["out"].strip()[:150]))
    else:
        run = facts["run"]
        print("  %s %-22s %s %.2fs +%.0fMB %r" % (
            front, r["name"], "ok " if run["ok"] else "err", run["secs"],
            run["mb"], run["text"].strip()[:150]))


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    if "--markdown" in args:
        print_markdown()
        return 0
    if "--list" in args:
        for r in ROWS:
            print("%-22s %s" % (r["name"], r["what"]))
        return 0
    fronts = []
    names = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--frontend" or a.startswith("--frontend="):
            value = a.partition("=")[2] if "=" in a else \
                (args[i + 1] if i + 1 < len(args) else "")
            i += 0 if "=" in a else 1
            if value not in FRONTENDS + ("all",):
                print("badinput: --frontend takes cli, cli-copied, gdb, "
                      "lldb or all")
                return 2
            fronts += FRONTENDS if value == "all" else (value,)
        elif not a.startswith("-"):
            names.append(a)
        i += 1
    fronts = [f for f in FRONTENDS if f in fronts] or list(FRONTENDS)
    heavy = "--heavy" in args or os.environ.get("BADINPUT_HEAVY") == "1"
    rows = [r for r in ROWS if (not names and (heavy or not r["heavy"]))
            or r["name"] in names]
    unknown = set(names) - {r["name"] for r in ROWS}
    if unknown:
        print("badinput: no row named %s" % ", ".join(sorted(unknown)))
        return 2
    skipped = len(ROWS) - len(rows) if not names else 0
    needed = [MEMVIEW] if set(fronts) & set(CLIS) else []
    if set(fronts) - set(CLIS):
        needed.append(build_file("libmemview.so"))
    for path in needed:
        if not os.path.exists(path):
            print("badinput: %s not built (run make)" % path)
            return 1
    totals = {}
    tmp = tempfile.mkdtemp(prefix="memview-badinput-")
    try:
        files = Files(tmp)
        for front in fronts:
            passed = failed = 0
            if front in CLIS:
                env = dict(os.environ, MEMVIEW_CORE_COPY="always") \
                    if front == "cli-copied" else None
                results = []
                for r in rows:
                    problems, facts = run_row(files, r, env)
                    results.append((r, problems, facts))
                    print_row_result(front, r, problems, facts, verbose)
            else:
                for r in rows:
                    if r["cli_only"]:
                        print("badinput: %s: CLI only: %s: %s" %
                              (front, r["name"], r["cli_only"]))
                mine = [r for r in rows if not r["cli_only"]]
                results = run_debugger(front, files, mine, tmp)
                if not names:
                    problems, facts = check_core_switch(front, files, tmp)
                    results.append((SWITCH, problems, facts))
                for r, problems, facts in results:
                    print_row_result(front, r, problems, facts, verbose)
                without = [r["name"] for r in mine if r[front] and
                           r[front]["load"] != "ok"]
                if without:
                    print("badinput: %s: the file is not loaded in %d "
                          "rows (memview runs without it): %s" %
                          (front, len(without), ", ".join(without)))
            for _, problems, _ in results:
                if problems:
                    failed += 1
                else:
                    passed += 1
            totals[front] = (passed, failed)
            print("badinput: %s: %d passed, %d failed" %
                  (front, passed, failed))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if skipped:
        print("badinput: %d heavy rows skipped (run with --heavy)" %
              skipped)
    passed = sum(p for p, _ in totals.values())
    failed = sum(f for _, f in totals.values())
    print("badinput: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
