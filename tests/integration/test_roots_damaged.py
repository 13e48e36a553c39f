#!/usr/bin/python3
"""Roots over a damaged core: a stack segment whose header claims 2^56
bytes (p_memsz) while the file holds its real size.

Before the root set read a region's unreadable tail as one piece, gc,
referrers and path-to stepped through the claimed bytes a window at a
time: hours, with only Ctrl-C to stop them.  Now each must answer at
once (here: within a 20 s timeout, where the old code took hours), with
the same leak summary as on the intact core (the readable part of the
stack is what the intact core has), marked partial, and naming the
stack bytes it could not read.

Expected values: the intact core's answer and the fixture's own facts
(a block it keeps reachable: g_reach_cycle's target is in leaks.facts as
"still_reachable").

Usage: BUILD=build /usr/bin/python3 tests/integration/test_roots_damaged.py
Prints "roots_damaged: N passed, M failed" last."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, missing

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
EXE = os.path.join(BUILD, "fixtures", "leaks")
CORE = os.path.join(BUILD, "cores", "leaks.core")
FACTS = os.path.join(BUILD, "cores", "leaks.facts")
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PF_W = 1, 2
CLAIM = 1 << 56
T = Tally("roots_damaged")


def memview(core, args, timeout=20):
    start = time.monotonic()
    p = subprocess.run([MEMVIEW, "--core", core, "--exe", EXE] + args,
                       capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - start


def main_thread_sp(data):
    """rsp of the first NT_PRSTATUS note (struct elf_prstatus on x86-64:
    pr_reg at 112, rsp its 20th register)."""
    e = EHDR.unpack_from(data, 0)
    phoff, phnum = e[5], e[10]
    for i in range(phnum):
        ph = PHDR.unpack_from(data, phoff + i * PHDR.size)
        if ph[0] != 4:  # PT_NOTE
            continue
        at, end = ph[2], ph[2] + ph[5]
        while at + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            desc = at + 12 + ((namesz + 3) & ~3)
            if ntype == 1:  # NT_PRSTATUS
                return struct.unpack_from("<Q", data, desc + 112 + 19 * 8)[0]
            at = desc + ((descsz + 3) & ~3)
    return None


def stack_segment(data, sp):
    """Offset of the program header of the PT_LOAD holding sp."""
    e = EHDR.unpack_from(data, 0)
    phoff, phnum = e[5], e[10]
    for i in range(phnum):
        off = phoff + i * PHDR.size
        ph = PHDR.unpack_from(data, off)
        if ph[0] == PT_LOAD and ph[3] <= sp < ph[3] + ph[6] and \
                ph[1] & PF_W:
            return off
    return None


def a_reachable_block():
    with open(FACTS) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[0] == "block" and w[4] == "still_reachable":
                return int(w[1], 16)
    return None


def main():
    if missing("roots_damaged", [MEMVIEW, EXE, CORE, FACTS]):
        return 1
    with open(CORE, "rb") as f:
        data = bytearray(f.read())
    sp = main_thread_sp(data)
    T.check("the core's NT_PRSTATUS gives the main thread's rsp",
            sp is not None)
    if sp is None:
        return T.summary()
    off = stack_segment(data, sp)
    T.check("the core has a writable PT_LOAD holding rsp", off is not None)
    if off is None:
        return T.summary()
    ph = list(PHDR.unpack_from(data, off))
    ph[6] = CLAIM  # p_memsz
    PHDR.pack_into(data, off, *ph)
    tmp = tempfile.mkdtemp()
    try:
        bad = os.path.join(tmp, "damaged.core")
        with open(bad, "wb") as f:
            f.write(data)
        good, _ = memview(CORE, ["gc", "--json"])
        want = json.loads(good.stdout)["summary"]
        try:
            p, secs = memview(bad, ["gc", "--json"])
        except subprocess.TimeoutExpired:
            T.check("gc answers on a stack claiming 2^56 bytes", False,
                    "no answer within 20 s")
            return T.summary()
        got = json.loads(p.stdout)
        T.check("gc answers on a stack claiming 2^56 bytes (%.2f s)" % secs,
                p.returncode == 0, p.stderr)
        T.check("gc's summary equals the intact core's",
                got["summary"] == want, "%s vs %s" % (got["summary"], want))
        T.check("gc is partial", got["partial"] is True)
        T.check("gc names the stack bytes it could not read",
                any("of its stack are not in the core" in n
                    for n in got["scanned"]["not_scanned"]),
                got["scanned"]["not_scanned"])
        p, secs = memview(bad, ["gc"])
        T.check("gc's text output starts with [PARTIAL]",
                p.stdout.startswith("[PARTIAL] "), p.stdout[:200])
        block = a_reachable_block()
        T.check("leaks.facts names a still-reachable block", block)
        for cmd in (["referrers", "--json"], ["path-to", "--json"]):
            try:
                p, secs = memview(bad, cmd + ["0x%x" % block])
                ok = p.returncode == 0
                detail = p.stderr
            except subprocess.TimeoutExpired:
                ok, detail = False, "no answer within 20 s"
            T.check("%s answers on the damaged core" % cmd[0], ok, detail)
            if ok and cmd[0] == "referrers":
                T.check("referrers is partial",
                        json.loads(p.stdout)["partial"] is True,
                        p.stdout[:300])
            elif ok:
                T.check("path-to still finds the block's holder",
                        json.loads(p.stdout)["found"] is True,
                        p.stdout[:300])
    finally:
        shutil.rmtree(tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
