"""Live processes: memview reads them through a block cache, which the
plugins keep between commands while the process stays stopped.  This
checks that the cache reads what the process holds and never shows what
it no longer holds.

1. The CLI on the basic fixture, running: windows across the start and
   the end of every region in /proc/PID/maps (gaps, adjacent regions,
   [vvar]'s unreadable pages), across 64 KiB block boundaries, and one
   past 256 KiB (read straight, not cached), against the bytes this
   script reads itself from /proc/PID/mem a page at a time ("??" where
   its read fails).
2. gdb and 3. lldb, the fixture launched by the debugger and stopped at
   the line of fixture.h that sets `ready`.  Each step views memory
   (which fills the cache), changes it the debugger's way, and views it
   again: a write by the debugger (gdb `set var` and `print x = v`, lldb
   `expr x = v`), a function run in the process (gdb `call memset`,
   lldb `expr memset`), a step of the process (`next` over `ready =
   getenv(...)`, after `ready` was set to 0).  Expected values: what the
   test wrote, memset's bytes as Python reads them, and the debugger's
   own print of the variables.
4. A library loaded while the process runs (tests/fixtures/plugins.c
   dlopens libz between two breakpoints): in gdb and lldb, a view of
   g_plugin_fn before the load (the session opens) and after it names
   the pointer zlibVersion, at the address dlsym gave the program.

Usage: BUILD=build /usr/bin/python3 tests/integration/test_live_cache.py
Prints one line per case and "live-cache: N passed, M failed".  When
lldb imports this file (command script import), it is the lldb driver.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mvcheck import Tally, start_fixture  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
EXE = os.path.join(BUILD, "fixtures", "basic")
PLUGINS = os.path.join(BUILD, "fixtures", "plugins")
FIXTURE_H = os.path.join(ROOT, "tests", "fixtures", "fixture.h")
TIMEOUT = 120
BLOCK = 64 << 10  # target_proc.c's block size
PAGE = 4096
MEMSET_BYTE = 0xff

T = Tally("live-cache")
report = T.report


def clean_env():
    env = dict(os.environ,
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
    return env


def ready_line():
    """The line of fixture.h that sets `ready` (a step changes it)."""
    with open(FIXTURE_H) as f:
        for number, line in enumerate(f, 1):
            if re.search(r"\bready = getenv\(", line):
                return number
    return None


# ------------------------------------------------------------------
# 1. The CLI against /proc/PID/mem


def maps(pid):
    regions = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            words = line.split()
            start, end = (int(x, 16) for x in words[0].split("-"))
            name = words[5] if len(words) > 5 else ""
            regions.append((start, end, name))
    return regions


def expected_hex(mem, regions, address, length):
    """The window's bytes as memview's JSON spells them, read a page at a
    time from /proc/PID/mem by this script: "??" where a read fails or
    where /proc/PID/maps has nothing (a read there would not fail below
    the stack: the kernel grows the stack for it)."""
    out = []
    a, end = address, address + length
    while a < end:
        page_end = (a // PAGE + 1) * PAGE
        n = min(page_end, end) - a
        data = b""
        if any(start <= a < stop for start, stop, _ in regions):
            try:
                data = os.pread(mem, n, a)
            except OSError:
                pass
        out.append(data.hex() + "??" * (n - len(data)))
        a += n
    return "".join(out)


def windows(regions):
    """(what, address, length) windows over region edges and blocks."""
    result = []
    for start, end, name in regions:
        if start >= 1 << 63:
            continue  # [vsyscall]: past pread's signed offsets
        label = name or "anonymous"
        result.append(("start of %s %#x" % (label, start), start - 100, 200))
        result.append(("end of %s %#x" % (label, end), end - 100, 200))
        boundary = (start // BLOCK + 1) * BLOCK
        if boundary + 8 < end:
            result.append(("block boundary in %s %#x" % (label, boundary),
                           boundary - 8, 16))
    big = max((r for r in regions if r[0] < 1 << 63),
              key=lambda r: r[1] - r[0])
    result.append(("300 KiB up to the end of %s" % (big[2] or "anonymous"),
                   big[1] - (300 << 10), (300 << 10) + 100))
    return result


def test_cli(tmp):
    # Settled in its pause: a stack still being written by the fclose
    # before it would differ between memview's read and this script's.
    process, _ = start_fixture(EXE, clean_env(), tmp, "cli")
    if not process:
        report("cli: the fixture gets ready", ["it did not"])
        return
    try:
        pid = process.pid
        regions = maps(pid)
        problems = []
        cases = windows(regions)
        views = []
        for what, address, length in cases:
            p = subprocess.run(
                [MEMVIEW, "--pid", str(pid), "view", "%#x" % address,
                 str(length), "--max-bytes", "0", "--json"],
                capture_output=True, text=True, timeout=TIMEOUT,
                env=clean_env())
            if p.returncode:
                problems.append("%s: exit %d: %s" % (
                    what, p.returncode, p.stderr.strip()))
                continue
            views.append((what, address, length,
                          json.loads(p.stdout)["bytes"]))
        if maps(pid) != regions:
            problems.append("the process's maps changed while memview "
                            "read it (a stack grown by a read below it?)")
        mem = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
        try:
            for what, address, length, got in views:
                want = expected_hex(mem, regions, address, length)
                if got != want:
                    at = next(i for i in range(min(len(got), len(want)))
                              if got[i] != want[i]) \
                        if len(got) == len(want) else 0
                    problems.append("%s: memview differs from /proc/PID/mem"
                                    " at byte %d: %r, not %r" % (
                                        what, at // 2, got[at:at + 16],
                                        want[at:at + 16]))
        finally:
            os.close(mem)
        report("cli --pid: %d windows over %d regions' edges and blocks = "
               "/proc/PID/mem read by the test" % (len(cases), len(regions)),
               problems)
    finally:
        process.kill()
        process.wait()


# ------------------------------------------------------------------
# 2 and 3. The debuggers: change memory, view again


# The command lines: the same steps in gdb and lldb, each debugger's own
# way of changing memory.  check_steps reads the records by index.
STEPS = {
    "gdb": [
        "memview int_array --json",
        "output int_array",
        "set var int_array[0] = 12345",
        "memview int_array --json",
        "print int_array[1] = -7",
        "memview int_array --json",
        "call (void)memset(&int_array[2], %d, 4)" % MEMSET_BYTE,
        "memview int_array --json",
        "memview &ready 8 --json",
        "set var ready = 0",
        "memview &ready 8 --json",
        "next",
        "memview &ready 8 --json",
        "output/x ready",
    ],
    "lldb": [
        "memview int_array --json",
        "expr -- int_array",
        "expr int_array[0] = 12345",
        "memview int_array --json",
        "expr int_array[1] = -7",
        "memview int_array --json",
        "expr (void)memset(&int_array[2], %d, 4)" % MEMSET_BYTE,
        "memview int_array --json",
        "memview &ready 8 --json",
        "expr ready = 0",
        "memview &ready 8 --json",
        "next",
        "memview &ready 8 --json",
        "expr/x ready",
    ],
}


def int_array(record):
    return json.loads(record["output"])["objects"][0]["fields"][0]["value"]


def pointer(record):
    return int.from_bytes(bytes.fromhex(json.loads(record["output"])
                                        ["bytes"]), "little")


def check_steps(name, records):
    """The answer key: each view after a change shows the change."""
    problems = []
    failed = [r for r in records if not r["succeeded"]]
    for r in failed:
        problems.append("%s: %s failed: %s" % (name, r["command"],
                                               r["error"]))
    if failed or len(records) != 14:
        return problems or ["%s: %d records" % (name, len(records))]
    # The debugger's own print of int_array: gdb "{10, 20, ...}", lldb
    # "(int[5]) $0 = ([0] = 10, [1] = 20, ...)".
    printed = [int(x) for x in re.findall(
        r"\] = (-?\d+)" if name == "lldb" else r"-?\d+",
        records[1]["output"])]
    first = int_array(records[0])
    if first != printed:
        problems.append("before: memview %s, %s printed %s" % (
            first, name, printed))
    memset_int = int.from_bytes(bytes([MEMSET_BYTE]) * 4, "little",
                                signed=True)
    expect = [(3, [12345] + printed[1:], "a write (%s)" % records[2][
        "command"]),
              (5, [12345, -7] + printed[2:], "a write (%s)" % records[4][
                  "command"]),
              (7, [12345, -7, memset_int] + printed[3:],
               "a function run in the process (%s)" % records[6]["command"])]
    for index, want, what in expect:
        got = int_array(records[index])
        if got != want:
            problems.append("after %s: memview shows %s, not %s" % (
                what, got, want))
    if pointer(records[10]) != 0:
        problems.append("after %s: memview shows ready = %#x, not 0" % (
            records[9]["command"], pointer(records[10])))
    stepped = pointer(records[12])
    printed_ready = int(re.findall(r"0x[0-9a-f]+",
                                   records[13]["output"])[-1], 16)
    if stepped != printed_ready or stepped == 0:
        problems.append("after next: memview shows ready = %#x, %s "
                        "printed %#x" % (stepped, name, printed_ready))
    return problems


def run_debugger(argv, env, out):
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=TIMEOUT, env=env, cwd=ROOT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "timeout after %d s" % TIMEOUT
    try:
        with open(out) as f:
            return json.load(f), None
    except (OSError, ValueError):
        return None, "no records (exit %s): %s" % (
            p.returncode, (p.stdout + p.stderr).strip()[-300:])


def run_gdb_live(tmp, line, name, cases, exe=EXE):
    """gdb runs the fixture to the line setting `ready` (or to the
    function `line` names), then cases through gdb_driver.py: its
    records, or (None, why)."""
    out = os.path.join(tmp, name + ".json")
    where = line if isinstance(line, str) else "fixture.h:%d" % line
    env = dict(clean_env(), MV_WAIT="1",
               MV_READY=os.path.join(tmp, name + ".ready"),
               MV_FACTS=os.path.join(tmp, name + ".facts"),
               MV_SETUP=json.dumps(["file " + exe,
                                    "break " + where, "run"]),
               MV_CASES=json.dumps(cases),
               MV_TEARDOWN=json.dumps(["kill"]), MV_OUT=out)
    return run_debugger(
        ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
         "-ex", "source %s/gdb/memview.py" % ROOT,
         "-ex", "source %s/tests/integration/gdb_driver.py" % ROOT],
        env, out)


def test_gdb(tmp, line):
    data, error = run_gdb_live(tmp, line, "gdb", STEPS["gdb"])
    if data is None:
        report("gdb: live process, views after changes", [error])
        return
    problems = ["setup: %s failed: %s" % (r["command"], r["error"])
                for r in data["setup"] if not r["succeeded"]]
    problems += check_steps("gdb", data["cases"])
    report("gdb: views after set var, print x = v, call, next show the "
           "new values", problems)


def test_gdb_heap(tmp, line):
    """The session keeps its heap model between commands; a function run
    in the process must drop it: one malloc(4000) (a chunk no free list
    of this fixture holds) is one more chunk in use."""
    cases = ["mv-heap --json", "mv-heap --json",
             "call (void *)malloc(4000)", "mv-heap --json"]
    data, error = run_gdb_live(tmp, line, "gdb-heap", cases)
    if data is None:
        report("gdb: the heap model after a malloc", [error])
        return
    records = data["cases"]
    problems = ["%s failed: %s" % (r["command"], r["error"])
                for r in records if not r["succeeded"]]
    if not problems:
        used = [json.loads(records[i]["output"])["totals"]["in_use"]["count"]
                for i in (0, 1, 3)]
        if used[1] != used[0]:
            problems.append("the same heap twice: %d then %d chunks in use"
                            % (used[0], used[1]))
        if used[2] != used[0] + 1:
            problems.append("after malloc(4000): %d chunks in use, not "
                            "%d + 1" % (used[2], used[0]))
    report("gdb: the session's heap model is dropped when the process "
           "runs a function (malloc)", problems)


def run_lldb_live(tmp, line, name, cases, exe=EXE):
    """lldb launches the fixture to the line setting `ready` (or to
    the function `line` names), then cases through this file's driver:
    its records, or (None, why)."""
    out = os.path.join(tmp, name + ".json")
    env = dict(clean_env(), MV_WAIT="1",
               MV_READY=os.path.join(tmp, name + ".ready"),
               MV_FACTS=os.path.join(tmp, name + ".facts"),
               MV_LIVE_EXE=exe, MV_LIVE_LINE=str(line),
               MV_CASES=json.dumps(cases),
               MV_OUT=out)
    return run_debugger(
        ["lldb", "-b", "--no-lldbinit",
         "-o", "command script import %s/lldb/memview.py" % ROOT,
         "-o", "command script import %s" % os.path.realpath(__file__)],
        env, out)


def test_lldb(tmp, line):
    data, error = run_lldb_live(tmp, line, "lldb", STEPS["lldb"])
    if data is None:
        report("lldb: live process, views after changes", [error])
        return
    problems = ["setup: %s" % data["setup"]] if data["setup"] else []
    problems += check_steps("lldb", data["cases"])
    report("lldb: views after expr x = v, expr memset, next show the new "
           "values", problems)


def plugin_pointer(record):
    """(value, symbol) of the one pointer a view --pointers --json
    record shows."""
    ptrs = json.loads(record["output"]).get("pointers") or [{}]
    return (int(ptrs[0].get("value", "0"), 16),
            (ptrs[0].get("details") or {}).get("symbol"))


def test_loaded_library(tmp):
    """A session opened before a dlopen knows the library after it:
    g_plugin_fn's value is named zlibVersion, the address dlsym gave."""
    for front in ("gdb", "lldb"):
        name = front + "-plugins"
        view = "memview --pointers --json &g_plugin_fn 8"
        if front == "gdb":
            data, error = run_gdb_live(
                tmp, "before_load", name,
                [view, "break after_load", "continue", view], PLUGINS)
        else:
            data, error = run_lldb_live(
                tmp, "before_load", name,
                [view, "breakpoint set -n after_load", "continue", view],
                PLUGINS)
        what = "%s: a library loaded since the session opened: its " \
            "symbols name pointers into it" % front
        if data is None:
            report(what, [error])
            continue
        records = data["cases"]
        problems = ["%s failed: %s" % (r["command"], r["error"])
                    for r in records if not r["succeeded"]]
        facts = {}
        try:
            with open(os.path.join(tmp, name + ".facts")) as f:
                facts = dict(line.split(None, 1) for line in f)
        except OSError:
            problems.append("no facts from the fixture")
        want = int(facts.get("plugin_fn", "0").strip(), 16)
        if not problems:
            before = plugin_pointer(records[0])
            after = plugin_pointer(records[3])
            if before[0] != 0:
                problems.append("before the load g_plugin_fn = %#x, not 0"
                                % before[0])
            if want == 0 or after != (want, "zlibVersion"):
                problems.append("after the load: %#x <%s>, the program's "
                                "dlsym gave %#x <zlibVersion>" % (
                                    after[0], after[1], want))
        report(what, problems)


def __lldb_init_module(debugger, internal_dict):
    """The lldb driver: launch to the line, run MV_CASES through the SB
    API (one record each, a failure does not stop the rest)."""
    import lldb
    debugger.SetAsync(False)
    error = lldb.SBError()
    target = debugger.CreateTarget(os.environ["MV_LIVE_EXE"], None, None,
                                   True, error)
    setup = None
    if not target.IsValid():
        setup = "target create: %s" % error.GetCString()
    else:
        debugger.SetSelectedTarget(target)
        interpreter = debugger.GetCommandInterpreter()
        line = os.environ["MV_LIVE_LINE"]
        if line.isdigit():
            target.BreakpointCreateByLocation("fixture.h", int(line))
        else:
            target.BreakpointCreateByName(line)
        process = target.LaunchSimple(
            None, ["%s=%s" % kv for kv in os.environ.items()], ROOT)
        if not process.IsValid() or \
                process.GetState() != lldb.eStateStopped:
            setup = "launch: the process did not stop at %s" % line
    cases = []
    if setup is None:
        for command in json.loads(os.environ["MV_CASES"]):
            # The context a user has now: after `next` a new frame.
            frame = process.GetSelectedThread().GetSelectedFrame()
            exe_ctx = lldb.SBExecutionContext(frame)
            result = lldb.SBCommandReturnObject()
            interpreter.HandleCommand(command, exe_ctx, result, False)
            cases.append({"command": command,
                          "output": result.GetOutput() or "",
                          "error": result.GetError() or None,
                          "succeeded": result.Succeeded()})
        process.Kill()
    with open(os.environ["MV_OUT"], "w") as f:
        json.dump({"setup": setup, "cases": cases}, f)


def main():
    from mvcheck import missing  # here: lldb imports this file too
    if missing("live-cache", (MEMVIEW, EXE, PLUGINS)):
        return 1
    line = ready_line()
    with tempfile.TemporaryDirectory() as tmp:
        test_cli(tmp)
        if line is None:
            report("fixture.h sets ready = getenv(...)", ["no such line"])
        else:
            test_gdb(tmp, line)
            test_gdb_heap(tmp, line)
            test_lldb(tmp, line)
        test_loaded_library(tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
