#!/usr/bin/python3
"""Unusual ELF input, end to end in the memview program.

1. A real core with ELF extended numbering.  The manymaps fixture makes
   70,000 one-page mappings and Linux dumps it (SIGABRT, core in the
   fixture's directory): more than 65535 program headers, so e_phnum is
   PN_XNUM (0xffff) and the count is in section header 0.  Needs
   vm.max_map_count above 71,000 (run as root, the test raises it for
   the fixture's start and puts it back) and a kernel.core_pattern that
   writes a file, not a pipe.  Expected values: the program headers as
   this script reads them with struct, the fixture's facts (address and
   value of every 1000th mapping), and gdb reading the same core.
2. Compressed DWARF: tests/fixtures/basic.c built by gcc with -gz=none,
   -gz=zlib (SHF_COMPRESSED) and -gz=zlib-gnu (.zdebug_*).  Every struct
   and union's layout in all three builds against pahole's on the same
   file (run.py's parser and checks) and the fixture's facts; the text
   output identical in the three builds.

Usage: BUILD=build /usr/bin/python3 tests/integration/test_elf_hostile.py
Prints "elf_hostile: N passed, M failed" last; exits 1 on any failure."""

import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, wait_settled
from mvfacts import read_facts
import run as harness  # pahole_layouts(), check_layout()

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
MANYMAPS = os.path.join(BUILD, "fixtures", "manymaps")
MAPS = 70000
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")
PT_LOAD, PN_XNUM = 1, 0xffff
T = Tally("elf_hostile")


def check(ok, what, detail=""):
    T.check(what, ok, detail)


def memview(args, timeout=60):
    p = subprocess.run([MEMVIEW] + args, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


# ------------------------------------------------------------------
# 1. A core of 70,000 mappings, dumped by Linux


def program_headers(data):
    """(count, [(vaddr, memsz, filesz, flags)] of the PT_LOADs), with the
    count from section header 0 when e_phnum is PN_XNUM."""
    e = EHDR.unpack_from(data, 0)
    phoff, shoff, phnum = e[5], e[6], e[10]
    count = phnum
    if phnum == PN_XNUM:
        count = SHDR.unpack_from(data, shoff)[7]  # sh_info
    loads = []
    for i in range(count):
        ph = PHDR.unpack_from(data, phoff + i * PHDR.size)
        if ph[0] == PT_LOAD:
            loads.append((ph[3], ph[6], min(ph[5], ph[6]), ph[1]))
    return phnum, count, loads


def perms(flags):
    return ("r" if flags & 4 else "-") + ("w" if flags & 2 else "-") + \
        ("x" if flags & 1 else "-")


class MapCount:
    """vm.max_map_count raised to at least want while in use (root only),
    then put back."""
    PATH = "/proc/sys/vm/max_map_count"

    def __init__(self, want):
        self.want, self.old = want, None

    def __enter__(self):
        with open(self.PATH) as f:
            have = int(f.read())
        if have < self.want:
            with open(self.PATH, "w") as f:  # PermissionError if not root
                f.write(str(self.want))
            self.old = have
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            with open(self.PATH, "w") as f:
                f.write(str(self.old))
            self.old = None


def dump_manymaps(tmp):
    """Runs manymaps with MAPS mappings, has Linux dump it; returns the
    core's path and the seconds from start to the core written."""
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or pattern.startswith("/"):
        raise RuntimeError("kernel.core_pattern is %r: this test needs a "
                           "relative file pattern (Debian's default "
                           "'core')" % pattern)
    facts, ready = os.path.join(tmp, "facts"), os.path.join(tmp, "ready")
    env = dict(os.environ, MV_MAPS=str(MAPS), MV_WAIT="1", MV_READY=ready,
               MV_FACTS=facts)

    def unlimited_core():
        resource.setrlimit(resource.RLIMIT_CORE,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    start = time.monotonic()
    with MapCount(MAPS + 1000):
        p = subprocess.Popen([MANYMAPS], cwd=tmp, env=env,
                             preexec_fn=unlimited_core)
        if not wait_settled(p, ready, 60):
            p.kill()
            raise RuntimeError("manymaps did not get ready")
    os.kill(p.pid, signal.SIGABRT)
    _, status = os.waitpid(p.pid, 0)
    p.returncode = status  # keep Popen from waiting again
    seconds = time.monotonic() - start
    if not os.WCOREDUMP(status):
        raise RuntimeError("no core dumped (status 0x%x, core_pattern %r)"
                           % (status, pattern))
    cores = [n for n in os.listdir(tmp) if n not in ("facts", "ready")]
    if len(cores) != 1:
        raise RuntimeError("expected one core in %s, found %r" %
                           (tmp, cores))
    return os.path.join(tmp, cores[0]), seconds


def gdb_words(core, addrs):
    """gdb's x/gx of each address in the core: {address: value}."""
    argv = ["gdb", "-nx", "-batch", "-q", "-ex",
            "set debuginfod enabled off"]
    for a in addrs:
        argv += ["-ex", "x/gx 0x%x" % a]
    p = subprocess.run(argv + [MANYMAPS, core], capture_output=True,
                       text=True, timeout=120)
    return {int(m.group(1), 16): int(m.group(2), 16) for m in
            re.finditer(r"^(0x[0-9a-f]+):\s+(0x[0-9a-f]+)$", p.stdout,
                        re.M)}


def test_xnum_core():
    tmp = tempfile.mkdtemp(prefix="mv-xnum-")
    try:
        try:
            core, seconds = dump_manymaps(tmp)
        except (OSError, RuntimeError) as e:
            check(False, "a core of %d mappings dumped by Linux" % MAPS,
                  str(e))
            return
        xnum_core_checks(core, read_facts(os.path.join(tmp, "facts")),
                         seconds)
    finally:
        shutil.rmtree(tmp)


def xnum_core_checks(core, facts, seconds):
    data = open(core, "rb").read()
    phnum, count, loads = program_headers(data)
    check(facts.get("maps_made") == str(MAPS) and phnum == PN_XNUM and
          count > PN_XNUM,
          "Linux wrote %s program headers with e_phnum PN_XNUM "
          "(%d mappings; %.1f MB, %.2f s to make and dump)" %
          (count, MAPS, len(data) / 1e6, seconds),
          "maps_made %s, e_phnum 0x%x, count %d" %
          (facts.get("maps_made"), phnum, count))

    rc, out, err = memview(["--core", core, "info"])
    bad = [l for l in out.splitlines()
           if "PN_XNUM" in l or "truncated" in l or "overlap" in l]
    ntfile = [l for l in out.splitlines() if "NT_FILE" in l]
    check(rc == 0 and not bad and all("65,536" in l for l in ntfile),
          "info: no warning about the headers (and a missing NT_FILE "
          "explained)", "rc %s, %r %r %s" % (rc, bad, ntfile, err))

    rc, out, err = memview(["--core", core, "regions", "--json"])
    try:
        regions = json.loads(out)["regions"]
    except (ValueError, KeyError):
        regions = []
    got = [(int(r["start"], 16), int(r["end"], 16), r["perms"],
            r["dumped"]) for r in regions]
    want = [(v, v + m, perms(f), fs) for v, m, fs, f in sorted(loads)]
    diff = [(g, w) for g, w in zip(got, want) if g != w][:3]
    check(rc == 0 and got == want,
          "regions: the %d PT_LOADs, with permissions and dumped bytes" %
          len(want), "%d regions, %d PT_LOADs, first differences %r %s" %
          (len(got), len(want), diff, err))

    valued = sorted(int(k.split()[1]) for k in facts
                    if k.startswith("map ") and k.endswith(" addr"))
    sample = valued[::max(1, len(valued) // 16)] + valued[-1:]
    addrs = {int(facts["map %d addr" % i], 16):
             int(facts["map %d value" % i], 16) for i in sample}
    wrong = []
    for a, v in sorted(addrs.items()):
        rc, out, err = memview(["--core", core, "view", "--type",
                                "unsigned long", "0x%x" % a, "--json"])
        try:
            value = json.loads(out)["objects"][0]["fields"][0]["value"]
        except (ValueError, KeyError, IndexError):
            value = None
        if value != v:
            wrong.append("0x%x: %r, fact 0x%x %s" % (a, value, v,
                                                     err.strip()))
    check(not wrong and len(addrs) > 10,
          "view: the fixture's value in %d mappings, read-only ones too "
          "(up to mapping %d)" % (len(addrs), sample[-1]), "; ".join(wrong))

    gdb = gdb_words(core, sorted(addrs))
    check(gdb == addrs, "gdb reads the same values from the core",
          "gdb %r" % {hex(k): hex(v) for k, v in list(gdb.items())[:4]})

    lo, hi = min(addrs), max(addrs)
    empty = [v for v, m, fs, f in loads if fs == 0 and lo < v < hi][:1]
    if empty:
        rc, out, err = memview(["--core", core, "view", "--type",
                                "unsigned long", "0x%x" % empty[0],
                                "--json"])
        try:
            unreadable = json.loads(out)["unreadable_bytes"]
        except (ValueError, KeyError):
            unreadable = None
        check(rc == 0 and unreadable == 8,
              "view: an untouched mapping (a PT_LOAD with no bytes) is "
              "unreadable", "rc %s, %r %s" % (rc, unreadable, err))
    else:
        check(False, "an untouched mapping among the valued ones",
              "no PT_LOAD without bytes between 0x%x and 0x%x" % (lo, hi))

    # Cut inside the program headers: section header 0, at the end of
    # the file, is gone with the rest.
    e = EHDR.unpack_from(data, 0)
    keep = 40000
    cut = core + ".cut"
    with open(cut, "wb") as f:
        f.write(data[:e[5] + keep * PHDR.size + 10])
    rc, out, err = memview(["--core", cut, "info"])
    want_line = ("e_phnum is PN_XNUM (0xffff) but there is no section "
                 "header 0 to hold the count; read the %d program headers"
                 % keep)
    check(rc == 0 and want_line in out,
          "a cut copy: %d headers read, one warning" % keep,
          "rc %s: %s %s" % (rc, out[:400], err))


# ------------------------------------------------------------------
# 2. Compressed DWARF


def readelf_sections(path):
    p = subprocess.run(["readelf", "-SW", path], capture_output=True,
                       text=True, check=True)
    return p.stdout


def test_compressed_dwarf():
    tmp = tempfile.mkdtemp(prefix="mv-gz-")
    try:
        builds = {}
        for gz in ("none", "zlib", "zlib-gnu"):
            path = os.path.join(tmp, "basic-" + gz)
            subprocess.run(["cc", "-std=gnu11", "-g", "-O0", "-gz=" + gz,
                            "-I", os.path.join(ROOT, "tests/fixtures"),
                            "-o", path,
                            os.path.join(ROOT, "tests/fixtures/basic.c")],
                           check=True)
            builds[gz] = path
        sections = {gz: readelf_sections(p) for gz, p in builds.items()}
        check(re.search(r"\.debug_info\s.*\sC\s", sections["zlib"]) and
              ".zdebug_info" in sections["zlib-gnu"] and
              ".zdebug" not in sections["none"] and
              not re.search(r"\.debug_\w+\s.*\sC\s", sections["none"]),
              "gcc -gz=zlib wrote SHF_COMPRESSED sections, -gz=zlib-gnu "
              ".zdebug_* ones")
        facts = read_facts(os.path.join(BUILD, "cores", "basic.facts"))
        texts = {}
        for gz, path in builds.items():
            harness.EXE = path
            expected = harness.pahole_layouts()
            problems = []
            for name in sorted(expected):
                rc, out, err = memview(["--exe", path, "layout", name,
                                        "--json"])
                try:
                    layout = json.loads(out)
                except ValueError:
                    problems.append("%s: rc %s %s" % (name, rc, err))
                    continue
                problems += ["%s: %s" % (name, p) for p in
                             harness.check_layout(name, layout,
                                                  expected[name], facts)]
                rc, out, err = memview(["--exe", path, "layout", name])
                texts.setdefault(name, {})[gz] = out
            check(len(expected) >= 6 and not problems,
                  "-gz=%s: the %d structs and unions against pahole and "
                  "the facts" % (gz, len(expected)), "; ".join(problems))
        differ = [n for n, t in texts.items()
                  if len(set(t.values())) != 1 or len(t) != 3]
        check(texts and not differ,
              "layout text identical in the three builds",
              "differs: %r" % differ)
    finally:
        shutil.rmtree(tmp)


def main():
    test_xnum_core()
    test_compressed_dwarf()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
