"""Integration tests: the same memview commands in the CLI, gdb and lldb.

Usage: BUILD=build python3 tests/integration/run.py

Each case runs one memview command line in the three front ends on the
fixtures' real cores and on a live fixture process.  Expected values come
from the fixture's own facts (build/cores/*.facts) or from pahole, never
from memview; memview's outputs are only compared with each other (the
three front ends must print identical JSON).  Prints one line per case and
a closing line "integration: N passed, M failed".
"""

import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, missing, start_fixture
from mvfacts import read_facts

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
EXE = os.path.join(BUILD, "fixtures", "basic")
CORE = os.path.join(BUILD, "cores", "basic.core")
FACTS = os.path.join(BUILD, "cores", "basic.facts")
HEAP_EXE = os.path.join(BUILD, "fixtures", "heapfix")
HEAP_CORE = os.path.join(BUILD, "cores", "heapfix.core")
TIMEOUT = 60

ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
ENV.pop("PYTHONPATH", None)  # the plugins must find their own modules
ENV.pop("PYTHONHOME", None)
# lldb's embedded Python takes its prefix from the first python3 on PATH;
# a pyenv or venv python there hides Debian's modules (six) from it.
ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")

T = Tally("integration", most=None)
report = T.report


def run(argv, env=None):
    """(returncode, stdout, stderr); a timeout is returncode None."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=TIMEOUT, env=env or ENV, cwd=ROOT,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or "", "timeout after %d s" % TIMEOUT


# ------------------------------------------------------------------
# The three front ends.  Each returns a list of records (command, output,
# error, succeeded) plus the raw text of the session for traceback checks.


def cli(target_args, commands):
    """Runs each command line with the memview program."""
    records = []
    raw = ""
    for command in commands:
        words = shlex.split(command)
        rc, out, err = run([MEMVIEW] + target_args + words)
        raw += out + err
        records.append({"command": command, "output": out,
                        "error": err.strip() or None, "succeeded": rc == 0,
                        "rc": rc})
    return records, raw


def gdb(setup, commands, teardown=()):
    """Runs gdb commands (prefixed with "mv-" names by the caller)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(ENV, MV_SETUP=json.dumps(setup),
                   MV_CASES=json.dumps(commands),
                   MV_TEARDOWN=json.dumps(list(teardown)), MV_OUT=out)
        rc, stdout, stderr = run(
            ["gdb", "-nx", "-batch", "-q",
             "-ex", "set debuginfod enabled off",
             "-ex", "source %s/gdb/memview.py" % ROOT,
             "-ex", "source %s/tests/integration/gdb_driver.py" % ROOT],
            env)
        return load_records(out, rc, stdout, stderr)


def lldb(target_env, commands):
    """Runs lldb commands through the SB API driver."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(ENV, MV_CASES=json.dumps(commands), MV_OUT=out,
                   **target_env)
        rc, stdout, stderr = run(
            ["lldb", "-b", "--no-lldbinit",
             "-o", "command script import %s/lldb/memview.py" % ROOT,
             "-o", "command script import %s/tests/integration/"
                   "lldb_driver.py" % ROOT], env)
        return load_records(out, rc, stdout, stderr)


def load_records(path, rc, stdout, stderr):
    raw = stdout + stderr
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None, "no records (exit %s): %s" % (rc, raw.strip()[-300:])
    for record in data["cases"]:
        raw += record["output"] + (record["error"] or "")
    data["raw"] = raw
    return data, raw


def debugger_name(command):
    """The gdb/lldb spelling of a CLI command line."""
    if command == "layout --help":
        return "help mv-layout"  # works even when no session can open
    name, _, rest = command.partition(" ")
    if name == "view":
        return ("memview " + rest).strip()
    if name == "sizeof-deep":
        return command
    return ("mv-" + name + " " + rest).strip()


def three(cli_target, gdb_setup, lldb_env, commands, gdb_teardown=()):
    """Runs commands in the three front ends: {front end: records}."""
    runs = {}
    runs["cli"], _ = cli(cli_target, commands)
    named = [debugger_name(c) for c in commands]
    data, raw = gdb(gdb_setup, named, gdb_teardown)
    runs["gdb"] = data
    data, raw = lldb(lldb_env, named)
    runs["lldb"] = data
    return runs


def core_runs(commands, core=CORE, exe=EXE):
    return three(["--core", core, "--exe", exe],
                 ["file " + exe, "core " + core],
                 {"MV_EXE": exe, "MV_CORE": core}, commands)


# ------------------------------------------------------------------
# Checks.

TRACEBACK = re.compile(r"Traceback|Python Exception|Error occurred in Python")


def parse_json_outputs(runs, index):
    """The JSON of case index in every front end, or problems."""
    values, problems = {}, []
    for front, data in runs.items():
        if data is None or isinstance(data, str):
            problems.append("%s: did not run" % front)
            continue
        records = data if front == "cli" else data["cases"]
        record = records[index]
        if not record["succeeded"]:
            problems.append("%s: failed: %s" % (front, record["error"]))
            continue
        try:
            values[front] = json.loads(record["output"])
        except ValueError:
            problems.append("%s: not JSON: %r" % (front,
                                                 record["output"][:200]))
    return values, problems


# The bounds a command derives from the memory free when it starts: each
# front end's process reads its own, a moment apart, and under load they
# differ (test_cpython_paths failed 36 cases so, every answer the same).
# They bound the answer and are not it; whether a bound was hit
# (max_objects_hit, partial) is still compared.
MOMENTARY = ("max_objects", "max_heap_chunks", "measured", "available")


def without_momentary(value):
    """value without the MOMENTARY keys, at any depth."""
    if isinstance(value, dict):
        return {k: without_momentary(v) for k, v in value.items()
                if k not in MOMENTARY}
    if isinstance(value, list):
        return [without_momentary(v) for v in value]
    return value


def identical(values):
    """Problems if the front ends' JSON differ (but for MOMENTARY)."""
    problems = []
    values = {front: without_momentary(value)
              for front, value in values.items()}
    reference = values.get("cli")
    for front, value in values.items():
        if value != reference:
            problems.append("%s differs from cli: %s" %
                            (front, json.dumps(value)[:300]))
    return problems


def pahole_layouts():
    """{"struct padded": {...}} for every struct and union in the fixture."""
    rc, out, err = run(["pahole", EXE])
    if rc != 0:
        raise RuntimeError("pahole failed: " + err)
    layouts, current, depth = {}, None, 0
    for line in out.splitlines():
        header = re.match(r"^(struct|union) (\S+) \{$", line)
        if header:
            current = {"members": [], "holes": [], "bit_holes": [],
                       "summary": {}}
            layouts[header.group(1) + " " + header.group(2)] = current
            depth = 1
            continue
        if current is None:
            continue
        if line == "};":
            current = None
            continue
        if line.rstrip().endswith("{"):
            depth += 1
            continue
        member = re.match(r"^\t(?!\t)(.*?)\s*/\*\s*(\d+)(?::\s*(\d+))?"
                          r"\s+(\d+)\s*\*/$", line)
        if line.startswith("\t}"):
            depth -= 1
        if member and depth == 1:
            declaration = member.group(1).rstrip(";")
            name = re.search(r"(\w+)(?:\[\d*\])*(?::\d+)?$|"
                             r"\(\*(\w+)\)", declaration)
            current["members"].append({
                "name": None if declaration.startswith("}") or not name
                else (name.group(1) or name.group(2)),
                "offset": int(member.group(2)),
                "bit_offset": None if member.group(3) is None
                else int(member.group(3)),
                "size": int(member.group(4))})
            continue
        hole = re.search(r"XXX (\d+) (bytes|bits) hole", line)
        if hole and depth == 1:
            key = "holes" if hole.group(2) == "bytes" else "bit_holes"
            current[key].append(int(hole.group(1)))
            continue
        for key, value in re.findall(r"([a-z][a-z ]*[a-z]): (\d+)", line):
            if line.strip().startswith("/*") and "cacheline" != key:
                current["summary"].setdefault(key, int(value))
    return layouts


def check_layout(name, layout, expected, facts):
    """Problems where memview's layout disagrees with pahole or facts."""
    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append("%s: memview %r, expected %r" % (what, got, want))
    summary = expected["summary"]
    if "size" in summary:
        expect("size", layout["size"], summary["size"])
    if "sizeof " + name in facts:
        expect("sizeof", layout["size"], int(facts["sizeof " + name]))
    members = layout["members"]
    expect("member count", len(members), len(expected["members"]))
    if "members" in summary:
        expect("members", len(members), summary["members"])
    for got, want in zip(members, expected["members"]):
        label = "member %s" % want["name"]
        expect(label + " name", got["name"], want["name"])
        expect(label + " offset", got["offset"], want["offset"])
        expect(label + " size", got["size"], want["size"])
        if want["bit_offset"] is not None:
            expect(label + " bit_offset", got["bit_offset"],
                   want["bit_offset"])
    byte_holes = [h["size"] for h in layout["holes"] if "size" in h]
    bit_holes = [h["bits"] for h in layout["holes"] if "bits" in h]
    expect("holes", byte_holes, expected["holes"])
    expect("bit holes", bit_holes, expected["bit_holes"])
    for key, field in (("sum members", "sum_members"),
                       ("holes", None), ("sum holes", "sum_holes"),
                       ("padding", "padding"),
                       ("sum bitfield members", "sum_bitfield_bits"),
                       ("bit holes", "bit_holes"),
                       ("sum bit holes", "sum_bit_holes")):
        if key == "holes":
            if key in summary:
                expect("summary holes", len(byte_holes), summary[key])
            continue
        if key in summary:
            expect(key, layout[field], summary[key])
        elif key == "padding" and layout["kind"] == "struct":
            expect("padding", layout["padding"], 0)
    # The program's own offsetof, including members of anonymous members.
    flat = {}
    stack = list(members)
    while stack:
        m = stack.pop()
        if m.get("name"):
            flat.setdefault(m["name"], m["offset"])
        stack.extend(m.get("members") or [])
    prefix = "offsetof %s." % name
    for key, value in facts.items():
        if key.startswith(prefix):
            expect(key, flat.get(key[len(prefix):]), int(value))
    return problems


def test_layouts(facts):
    """Every struct and union: identical JSON in three front ends, and
    agreement with pahole and the fixture's facts."""
    expected = pahole_layouts()
    names = sorted(expected)
    commands = ["layout '%s' --json" % n for n in names]
    runs = core_runs(commands)
    for i, name in enumerate(names):
        values, problems = parse_json_outputs(runs, i)
        problems += identical(values)
        if "cli" in values:
            problems += check_layout(name, values["cli"], expected[name],
                                     facts)
        report("layout %s (pahole, facts, cli = gdb = lldb)" % name,
               problems)


def test_values(facts):
    """layout of a variable: address and values from the facts."""
    commands = ["layout padded_global --json", "regions --json",
                "info --json"]
    runs = core_runs(commands)
    values, problems = parse_json_outputs(runs, 0)
    problems += identical(values)
    problems += check_padded_global(values.get("cli"), facts)
    report("layout padded_global: values from the core", problems)
    values, problems = parse_json_outputs(runs, 1)
    problems += identical(values)
    problems += check_regions(values.get("cli"), facts)
    report("regions of the core", problems)
    values, problems = parse_json_outputs(runs, 2)
    # The memory measured is each process's own reading of MemAvailable
    # (it moves between the three runs); what is derived from it is
    # rounded so that it does not (test_limits checks both).
    for value in values.values():
        value.get("limits", {}).pop("measured", None)
    problems += identical(values)
    report("info of the core", problems)


def check_padded_global(layout, facts):
    if layout is None:
        return ["no layout"]
    problems = []
    if int(layout.get("address", "0"), 16) != int(facts["addr padded_global"],
                                                  16):
        problems.append("address %s, facts %s" %
                        (layout.get("address"), facts["addr padded_global"]))
    values = {m["name"]: m.get("value") for m in layout["members"]}
    if values.get("l") != int(facts["value padded_global.l"]):
        problems.append("l = %r, facts %s" %
                        (values.get("l"), facts["value padded_global.l"]))
    return problems


def check_regions(regions, facts):
    """Every address the fixture printed lies in a readable region."""
    if regions is None:
        return ["no regions"]
    problems = []
    spans = [(int(r["start"], 16), int(r["end"], 16), r["perms"])
             for r in regions["regions"]]
    for key, value in facts.items():
        if key.startswith("addr "):
            address = int(value, 16)
            inside = [p for s, e, p in spans if s <= address < e]
            if not inside or not inside[0].startswith("rw"):
                problems.append("%s %s not in a rw region" % (key, value))
    return problems


# ------------------------------------------------------------------
# Bad input: one clear error line, no traceback, the debugger lives on.

ALIVE = "layout 'struct node' --json"


def error_case(name, runs, expect_fail=True, debugger_may_refuse=False):
    """Checks that the first command failed cleanly in every front end and
    that the session still answers the harmless second one."""
    problems = []
    for front, data in runs.items():
        if data is None or isinstance(data, str):
            problems.append("%s: did not run: %s" % (front, data))
            continue
        records = data if front == "cli" else data["cases"]
        bad, alive = records[0], records[1]
        raw = data["raw"] if front != "cli" else \
            "".join((r["output"] or "") + (r["error"] or "")
                    for r in records)
        if TRACEBACK.search(raw):
            problems.append("%s: traceback in output" % front)
        setup_failed = front != "cli" and \
            not all(r["succeeded"] for r in data["setup"])
        if front == "cli":
            if bad["succeeded"] or bad["rc"] not in (1, 2):
                problems.append("cli: exit %s, want 1 or 2" % bad["rc"])
            lines = (bad["error"] or "").splitlines()
            if len(lines) != 1 or not lines[0].startswith("memview: "):
                problems.append("cli: stderr not one 'memview:' line: %r"
                                % bad["error"])
            continue
        if bad["succeeded"] and not (debugger_may_refuse and setup_failed):
            problems.append("%s: command succeeded: %r" %
                            (front, bad["output"][:200]))
        elif not bad["succeeded"]:
            lines = (bad["error"] or "").strip().splitlines()
            if len(lines) != 1:
                problems.append("%s: error not one line: %r" %
                                (front, bad["error"]))
        if "Usage" not in alive["output"]:
            problems.append("%s: not alive afterwards: %r" %
                            (front, alive["error"] or alive["output"]))
    report(name, problems)


def hostile_case(name, runs, same=True):
    """Hostile target data gives a partial answer (or one error line) in
    every front end, the same JSON everywhere, no traceback, and the
    debugger lives on."""
    problems = []
    values = {}
    for front, data in runs.items():
        if data is None or isinstance(data, str):
            problems.append("%s: did not run: %s" % (front, data))
            continue
        records = data if front == "cli" else data["cases"]
        answer, alive = records[0], records[1]
        raw = data["raw"] if front != "cli" else \
            "".join((r["output"] or "") + (r["error"] or "")
                    for r in records)
        if TRACEBACK.search(raw):
            problems.append("%s: traceback in output" % front)
        if front == "cli" and answer["rc"] not in (0, 1):
            problems.append("cli: exit %s" % answer["rc"])
        if answer["succeeded"]:
            try:
                values[front] = json.loads(answer["output"])
            except ValueError:
                problems.append("%s: not JSON" % front)
        elif len((answer["error"] or "").strip().splitlines()) != 1:
            problems.append("%s: error not one line: %r" %
                            (front, answer["error"]))
        if "Usage" not in alive["output"]:
            problems.append("%s: not alive afterwards" % front)
    if same and "cli" in values:
        problems += identical(values)
    report(name, problems)


def test_errors(tmp):
    """Bad input in the three front ends."""
    help_cli = "layout --help"
    for label, command in (
            ("unknown type name", "layout 'struct nosuch'"),
            ("unknown expression", "layout no_such_variable"),
            ("bad option", "layout --nosuch 'struct node'")):
        runs = core_runs([command, help_cli])
        error_case("error: " + label, runs)
    runs = core_runs(["layout --type 'struct node' 0x10 --json", help_cli])
    hostile_case("hostile: unmapped address gives a partial answer", runs)

    # Broken cores and executables: the CLI must fail; a debugger may
    # refuse the file itself, else our command must fail cleanly.
    missing = os.path.join(tmp, "missing.core")
    not_elf = os.path.join(tmp, "not-elf.core")
    with open(not_elf, "w") as f:
        f.write("this is not an ELF file\n" * 100)
    truncated = os.path.join(tmp, "truncated.core")
    with open(CORE, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    nodebug = os.path.join(tmp, "basic-nodebug")
    shutil.copy(EXE, nodebug)
    run(["strip", "-g", nodebug])
    for label, core, exe, command in (
            ("missing core file", missing, EXE, "regions"),
            ("non-ELF core file", not_elf, EXE, "regions"),
            ("core of another executable", CORE, "/bin/true", "regions"),
            ("executable without debug info", CORE, nodebug,
             "layout 'struct padded'")):
        runs = core_runs([command, help_cli], core=core, exe=exe)
        error_case("error: " + label, runs, debugger_may_refuse=True)
    runs = core_runs(["layout padded_global --json", help_cli],
                     core=truncated)
    # gdb and lldb place the executable themselves and may know more than
    # the truncated notes do, so only the CLI's answer has no rival here.
    hostile_case("hostile: truncated core gives a partial answer", runs,
                 same=False)


# ------------------------------------------------------------------
# memview (the CLI's view): hex against xxd, casts against Python's
# memoryview, typed against the facts; bad input; --diff; and the heap.

def core_bytes(path, address, size):
    """size bytes at address, read from the core's PT_LOAD segments."""
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= address and \
                address + size <= p_vaddr + p_filesz:
            start = p_offset + address - p_vaddr
            return data[start:start + size]
    raise RuntimeError("0x%x+%d is not in %s" % (address, size, path))


def xxd_of(data, *options):
    """xxd's lines for data, without the address column."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        rc, out, err = run(["xxd"] + list(options) + [f.name])
    return [line.split(":", 1)[1] for line in out.splitlines()]


def outputs(runs, index):
    """The text output of case index in every front end, or problems."""
    texts, problems = {}, []
    for front, data in runs.items():
        if data is None or isinstance(data, str):
            problems.append("%s: did not run" % front)
            continue
        record = (data if front == "cli" else data["cases"])[index]
        if not record["succeeded"]:
            problems.append("%s: failed: %s" % (front, record["error"]))
        else:
            texts[front] = record["output"]
    return texts, problems


def test_view(facts):
    """memview in the three front ends on the basic core."""
    address = int(facts["addr bytes_global"], 16)
    data = core_bytes(CORE, address, 64)
    commands = ["view bytes_global",
                "view bytes_global --as i --shape 4x4 --json",
                "view bytes_global --as '<e' --shape 4x8 --slice ::-2 --json",
                "view padded_global --json",
                "view 0x10 40",
                "view 0x10 40 --json",
                "view bytes_global --diff --json",
                "view bytes_global --diff --json",
                "view bytes_global 22 -e",
                "view bytes_global 22 --little-endian -g 8 --width 16"]
    runs = core_runs(commands)

    texts, problems = outputs(runs, 0)
    want = xxd_of(data)
    for front, text in texts.items():
        lines = text.splitlines()
        got = [line.split(":", 1)[1] for line in lines]
        if got != want:
            problems.append("%s: %r, xxd %r" % (front, got[:2], want[:2]))
        if not lines or not lines[0].startswith("%x:" % address):
            problems.append("%s: address column %r" % (front, lines[:1]))
    report("memview bytes_global: hex as xxd prints it (cli, gdb, lldb)",
           problems)

    # Little-endian words (gdb's x/wx habit) as xxd -e prints them, a
    # short last line included.
    for index, options in ((8, ["-e"]), (9, ["-e", "-g", "8"])):
        texts, problems = outputs(runs, index)
        want = xxd_of(data[:22], *options)
        for front, text in texts.items():
            got = [line.split(":", 1)[1] for line in text.splitlines()]
            if got != want:
                problems.append("%s: %r, xxd %r" % (front, got, want))
        report("memview bytes_global 22 %s: as xxd %s prints it (cli, gdb, "
               "lldb)" % (" ".join(options), " ".join(options)), problems)

    for index, label, expected in (
            (1, "--as i --shape 4x4",
             memoryview(data).cast("i", [4, 4]).tolist()),
            (2, "--as '<e' --shape 4x8 --slice ::-2",
             [[struct.unpack_from("<e", data, (r * 8 + c) * 2)[0]
               for c in range(8)] for r in range(4)][::-2])):
        values, problems = parse_json_outputs(runs, index)
        problems += identical(values)
        got = values.get("cli", {}).get("values")
        if got != expected:
            problems.append("cli values %r, Python %r" %
                            (str(got)[:120], str(expected)[:120]))
        report("memview bytes_global %s: memoryview's values, "
               "cli = gdb = lldb" % label, problems)

    values, problems = parse_json_outputs(runs, 3)
    problems += identical(values)
    typed = values.get("cli")
    if typed:
        fields = {f.get("name"): f for f in typed["objects"][0]["fields"]}
        for name in ("c", "l", "s", "i", "tail"):
            want = int(facts["value padded_global." + name])
            if fields.get(name, {}).get("value") != want:
                problems.append("%s = %r, facts %d" %
                                (name, fields.get(name), want))
            offset = int(facts["offsetof struct padded." + name])
            if fields.get(name, {}).get("offset") != offset:
                problems.append("%s at %r, offsetof %d" %
                                (name, fields.get(name), offset))
    report("memview padded_global --json: typed, facts, cli = gdb = lldb",
           problems)

    texts, problems = outputs(runs, 4)
    for front, text in texts.items():
        if "??" not in text or "note: 40 bytes at 0x10..0x38 could not " \
                "be read" not in text:
            problems.append("%s: no ?? and note: %r" % (front, text[:300]))
    values, more = parse_json_outputs(runs, 5)
    problems += more + identical(values)
    if values.get("cli", {}).get("unreadable_bytes") != 40:
        problems.append("cli: %r" % values.get("cli"))
    for front, data in runs.items():
        if data and not isinstance(data, str) and front != "cli" and \
                TRACEBACK.search(data["raw"]):
            problems.append("%s: traceback in output" % front)
    report("memview 0x10 40: partial output with a note (cli, gdb, lldb)",
           problems)

    # One session in a debugger: each --diff compares with the view
    # before it of the same range (the plain hex view, then the first
    # --diff).  The CLI runs each command in a new process, so it only
    # ever sees a first view.
    problems = []
    for front, data in runs.items():
        if data is None or isinstance(data, str):
            problems.append("%s: did not run" % front)
            continue
        records = data if front == "cli" else data["cases"]
        try:
            first = json.loads(records[6]["output"])["diff"]
            second = json.loads(records[7]["output"])["diff"]
        except (ValueError, KeyError) as e:
            problems.append("%s: %r" % (front, e))
            continue
        want = None if front == "cli" else \
            {"changed_bytes": 0, "changed": []}
        if first != want or second != want:
            problems.append("%s: diffs %r then %r" % (front, first, second))
    report("memview bytes_global --diff twice: nothing changed", problems)


def test_view_errors():
    """Bad input to memview: one clear error line everywhere."""
    help_cli = "layout --help"
    for label, command in (
            ("negative length", "view bytes_global -8"),
            ("format memoryview rejects", "view bytes_global --as e"),
            ("shape that does not match",
             "view bytes_global --as i --shape 3x3")):
        runs = core_runs([command, help_cli])
        error_case("error: memview " + label, runs)


def test_heap():
    """mv-heap --json on heapfix's core: the same in the three."""
    runs = core_runs(["heap --json"], core=HEAP_CORE, exe=HEAP_EXE)
    values, problems = parse_json_outputs(runs, 0)
    problems += identical(values)
    report("mv-heap --json on heapfix (cli = gdb = lldb)", problems)


def fixture(name):
    return (os.path.join(BUILD, "cores", name + ".core"),
            os.path.join(BUILD, "fixtures", name))


def stack_not_in_core(src, dst):
    """A copy of core src whose highest user PT_LOAD (the main thread's
    stack) has no bytes in the file: p_filesz = 0."""
    import struct
    data = bytearray(open(src, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    best = None
    for i in range(phnum):
        off = phoff + i * phentsize
        ptype, = struct.unpack_from("<I", data, off)
        vaddr, = struct.unpack_from("<Q", data, off + 0x10)
        if ptype == 1 and vaddr < 0x800000000000 and \
                (best is None or vaddr > best[0]):
            best = (vaddr, off)
    struct.pack_into("<Q", data, best[1] + 0x20, 0)
    open(dst, "wb").write(data)


def test_gc(tmp):
    """mv-gc and mv-cycles: the same JSON in the three; a core without
    its stack answers partially, with the same JSON everywhere."""
    core, exe = fixture("leaks")
    runs = core_runs(["gc --json"], core=core, exe=exe)
    values, problems = parse_json_outputs(runs, 0)
    problems += identical(values)
    report("mv-gc --json on leaks (cli = gdb = lldb)", problems)
    core, exe = fixture("refcount")
    runs = core_runs(["gc --refcount 'struct obj.refcnt' --json"],
                     core=core, exe=exe)
    values, problems = parse_json_outputs(runs, 0)
    problems += identical(values)
    report("mv-gc --refcount --json on refcount (cli = gdb = lldb)",
           problems)
    core, exe = fixture("deepsize")
    runs = core_runs(["cycles cycle --json"], core=core, exe=exe)
    values, problems = parse_json_outputs(runs, 0)
    problems += identical(values)
    report("mv-cycles cycle --json on deepsize (cli = gdb = lldb)",
           problems)
    core, exe = fixture("leaks")
    nostack = os.path.join(tmp, "leaks-nostack.core")
    stack_not_in_core(core, nostack)
    runs = core_runs(["gc --json", "layout --help"], core=nostack, exe=exe)
    hostile_case("hostile: gc on a core without its stack", runs)
    cli = runs.get("cli")
    out = cli[0]["output"] if isinstance(cli, list) else ""
    report("hostile: gc says the stack was not in the core",
           [] if "stack are not in the core" in (out or "") or
           "not scanned" in (out or "") else ["no note: %r" % out[-300:]])


def test_sizeof():
    """sizeof-deep in the three front ends: identical JSON, and the heap
    totals the deepsize fixture computed for itself while building each
    structure (objects, sizeof sum, malloc_usable_size sum)."""
    core, exe = fixture("deepsize")
    facts = read_facts(core.replace(".core", ".facts"))
    roots = ("list", "dlist", "tree", "dag", "cycle")
    runs = core_runs(["sizeof-deep %s --json" % r for r in roots],
                     core=core, exe=exe)
    for i, root in enumerate(roots):
        values, problems = parse_json_outputs(runs, i)
        problems += identical(values)
        want = (int(facts["deep %s.objects" % root]),
                int(facts["deep %s.type_bytes" % root]),
                int(facts["deep %s.usable" % root]))
        for front, value in values.items():
            h = value.get("heap", {}) if isinstance(value, dict) else {}
            got = (h.get("objects"), h.get("type_bytes"),
                   h.get("usable_bytes"))
            if got != want:
                problems.append("%s: heap (objects, type, usable) %s, "
                                "fixture says %s" % (front, got, want))
        report("sizeof-deep %s --json on deepsize (facts, cli = gdb = lldb)"
               % root, problems)


# ------------------------------------------------------------------
# A live process.

def test_live(tmp):
    process, facts_path = start_fixture(EXE, ENV, tmp, "live",
                                        stderr=subprocess.DEVNULL)
    if not process:
        report("live process", ["fixture did not get ready"])
        return
    try:
        facts = read_facts(facts_path)
        pid = process.pid
        # regions first: lldb's expression evaluation maps pages of its
        # own into a live process.
        commands = ["regions --json", "layout padded_global --json"]
        runs = three(["--pid", str(pid)],
                     ["file " + EXE, "attach %d" % pid],
                     {"MV_EXE": EXE, "MV_PID": str(pid)}, commands,
                     gdb_teardown=["detach"])
        values, problems = parse_json_outputs(runs, 0)
        problems += identical(values)
        problems += check_regions(values.get("cli"), facts)
        report("live: regions (cli = gdb = lldb, facts)", problems)
        values, problems = parse_json_outputs(runs, 1)
        problems += identical(values)
        problems += check_padded_global(values.get("cli"), facts)
        report("live: layout padded_global (cli = gdb = lldb, facts)",
               problems)
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


def main():
    if missing("integration", (MEMVIEW, EXE, CORE, FACTS)):
        return 1
    started = time.time()
    facts = read_facts(FACTS)
    with tempfile.TemporaryDirectory() as tmp:
        tests = (lambda: test_layouts(facts), lambda: test_values(facts),
                 lambda: test_errors(tmp), lambda: test_view(facts),
                 test_view_errors, test_heap, lambda: test_gc(tmp),
                 test_sizeof,
                 lambda: test_live(tmp))
        for test in tests:
            try:
                test()
            except Exception as e:  # a broken test is a failed case
                report("%s" % test, ["exception: %r" % e])
    print("integration: took %.0f s" % (time.time() - started))
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
