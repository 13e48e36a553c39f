"""The plugins as a user meets them: loading (twice, without the library),
help, Tab completion, settings, gdb's pager, terminal width and colour.

Usage: BUILD=build python3 tests/integration/test_plugins.py

Batch gdb and lldb for most cases; a pseudo-terminal for the pager, the
width and the colour, which only exist on a terminal.  Expected values
come from the command table (the library's option lists) and from the
fixture's facts.  Prints one line per case and "plugins: N passed, M
failed".
"""

import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

# The basic fixture, the build and the debuggers' environment.
from run import CORE, ENV, EXE, FACTS, MEMVIEW, ROOT, TIMEOUT

GDB_PLUGIN = os.path.join(ROOT, "gdb", "memview.py")
LLDB_PLUGIN = os.path.join(ROOT, "lldb", "memview.py")
TRACEBACK = re.compile(r"Traceback|Python Exception|Error occurred in Python")

sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ["MEMVIEW_LIBRARY"] = ENV["MEMVIEW_LIBRARY"]
import memview_core  # noqa: E402

from mvcheck import Tally, missing
from mvfacts import read_facts

T = Tally("plugins", most=None)
report = T.report


def run(argv, env=None):
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=TIMEOUT, env=env or ENV, cwd=ROOT,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %d s" % TIMEOUT


def gdb(*commands, env=None, plugin=GDB_PLUGIN, loads=1):
    argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off"]
    for _ in range(loads):
        argv += ["-ex", "source " + plugin]
    for command in commands:
        argv += ["-ex", command]
    return run(argv, env)


def lldb(*commands, env=None, plugin=LLDB_PLUGIN, loads=1):
    argv = ["lldb", "-b", "--no-lldbinit"]
    for _ in range(loads):
        argv += ["-o", "command script import " + shlex.quote(plugin)]
    for command in commands:
        argv += ["-o", command]
    return run(argv, env)


def read_facts_of_basic():
    return read_facts(FACTS)


# ------------------------------------------------------------------


def test_static_names():
    """The names registered without the library (to say how to fix it)
    are commands of the table."""
    names = memview_core.command_names("gdb")
    problems = ["%s is not in the command table" % n
                for n in memview_core.DEBUGGER_COMMANDS if n not in names]
    report("memview_core.DEBUGGER_COMMANDS are in the command table",
           problems)


def test_load_twice():
    problems = []
    rc, out, err = gdb("complete mv-lay", "help mv-layout",
                       "set memview max-elements 3",
                       "source " + GDB_PLUGIN, "show memview max-elements",
                       loads=2)
    text = out + err
    if TRACEBACK.search(text) or "rror" in text:
        problems.append("gdb: errors loading twice: %r" % text[-300:])
    if out.count("mv-layout\n") != 1:
        problems.append("gdb: complete mv-lay: %r" % out[:200])
    if "Usage: mv-layout" not in out:
        problems.append("gdb: no help after loading twice")
    if "memview max-elements: 3" not in out:
        problems.append("gdb: a reload lost the settings: %r" % out[-200:])
    rc, out, err = lldb("help mv-layout", "mv-settings max-elements 3",
                        "command script import " + LLDB_PLUGIN,
                        "mv-settings max-elements", loads=2)
    text = out + err
    if TRACEBACK.search(text) or "error" in text:
        problems.append("lldb: errors loading twice: %r" % text[-300:])
    if "Usage: mv-layout" not in out:
        problems.append("lldb: no help after loading twice")
    if out.count("memview max-elements: 3") != 2:
        problems.append("lldb: a reload lost the settings: %r" % out[-200:])
    report("gdb and lldb: loading twice replaces, keeps settings", problems)


def test_startup_cost():
    """Sourcing the plugin costs little: timed inside gdb, best of 3."""
    costs = []
    for _ in range(3):
        rc, out, err = run(["gdb", "-nx", "-batch", "-q",
                            "-ex", "python import time; t = time.monotonic()",
                            "-ex", "source " + GDB_PLUGIN,
                            "-ex", "python print('cost %f' % "
                                   "(time.monotonic() - t))"])
        match = re.search(r"cost ([0-9.]+)", out)
        if match:
            costs.append(float(match.group(1)))
    problems = [] if costs else ["no timing: %r" % (out + err)[-200:]]
    if costs and min(costs) > 0.5:
        problems.append("sourcing costs %.0f ms" % (min(costs) * 1e3))
    report("gdb: sourcing the plugin costs %.0f ms (< 500)" %
           (min(costs) * 1e3 if costs else -1), problems)


def test_missing_library(tmp):
    """A copy of the plugins with no library anywhere: one sentence."""
    for sub in ("gdb", "lldb", "python"):
        os.makedirs(os.path.join(tmp, sub), exist_ok=True)
    shutil.copy(GDB_PLUGIN, os.path.join(tmp, "gdb"))
    shutil.copy(LLDB_PLUGIN, os.path.join(tmp, "lldb"))
    shutil.copy(os.path.join(ROOT, "python", "memview_core.py"),
                os.path.join(tmp, "python"))
    env = dict(ENV, MEMVIEW_LIBRARY=os.path.join(tmp, "nosuch.so"))
    problems = []
    rc, out, err = gdb("mv-layout int", env=env,
                       plugin=os.path.join(tmp, "gdb", "memview.py"))
    text = (out + err).strip()
    lines = [l for l in text.splitlines() if l.strip()]
    if TRACEBACK.search(text):
        problems.append("gdb: traceback: %r" % text[-300:])
    if len(lines) != 2 or not all("libmemview" in l for l in lines):
        problems.append("gdb: want the sentence at load and from the "
                        "command: %r" % lines)
    rc, out, err = lldb("mv-layout int", env=env,
                        plugin=os.path.join(tmp, "lldb", "memview.py"))
    text = out + err
    if TRACEBACK.search(text):
        problems.append("lldb: traceback: %r" % text[-300:])
    if "error: memview: cannot load" not in text:
        problems.append("lldb: command does not say why: %r" % text[-300:])
    # The plugin without its Python module beside it.
    os.remove(os.path.join(tmp, "python", "memview_core.py"))
    rc, out, err = gdb(plugin=os.path.join(tmp, "gdb", "memview.py"))
    text = (out + err).strip()
    if TRACEBACK.search(text) or len(text.splitlines()) != 1 or \
            "memview_core.py" not in text:
        problems.append("gdb without memview_core.py: %r" % text[-300:])
    report("no library / no module: one sentence saying how to fix it",
           problems)


def test_help():
    problems = []
    names = ("memview", "mv-layout", "sizeof-deep")
    rc, gdb_out, err = gdb(*["help " + n for n in names])
    rc, lldb_out, err = lldb(*["help " + n for n in names])
    for name in names:
        want = memview_core.command_help("gdb", name).splitlines()[0]
        usage = "Usage: %s [OPTIONS]" % name
        if want not in gdb_out or usage not in gdb_out:
            problems.append("gdb: help %s" % name)
        if usage not in lldb_out:
            problems.append("lldb: help %s" % name)
    report("help memview / mv-layout / sizeof-deep in gdb and lldb",
           problems)


def completions(*lines):
    """{line: [completions]} from one gdb run."""
    commands = []
    for line in lines:
        commands += ["echo @@%s\\n" % line, "complete " + line]
    rc, out, err = gdb("file " + EXE, *commands)
    result, current = {}, None
    for text in out.splitlines():
        if text.startswith("@@"):
            current = result.setdefault(text[2:], [])
        elif current is not None:
            current.append(text)
    return result


def test_completion():
    problems = []
    options = memview_core.command_options("mv-layout")
    takes, choices = memview_core.option_value("mv-graph", "unions")
    got = completions("mv-layout --", "mv-layout --max",
                      "mv-graph --unions ", "mv-graph --unions=f",
                      "mv-layout list_he", "mv-layout padded_global.",
                      "print list_he", "print padded_global.")
    want = sorted("mv-layout --" + o for o in options)
    if sorted(got.get("mv-layout --", [])) != want:
        problems.append("mv-layout --: %s, want %s" %
                        (got.get("mv-layout --"), want))
    if got.get("mv-layout --max") != ["mv-layout --max-elements"]:
        problems.append("mv-layout --max: %s" % got.get("mv-layout --max"))
    want = ["mv-graph --unions " + c for c in sorted(choices)]
    if got.get("mv-graph --unions ") != want:
        problems.append("choices: %s, want %s" %
                        (got.get("mv-graph --unions "), want))
    if got.get("mv-graph --unions=f") != ["mv-graph --unions=first"]:
        problems.append("--unions=f: %s" % got.get("mv-graph --unions=f"))
    # Expressions complete as gdb's own print does.
    mine = got.get("mv-layout list_he", []) + \
        got.get("mv-layout padded_global.", [])
    theirs = got.get("print list_he", []) + \
        got.get("print padded_global.", [])
    if [l.split(" ", 1)[1] for l in mine] != \
            [l.split(" ", 1)[1] for l in theirs] or not mine:
        problems.append("expressions: %s vs print's %s" % (mine, theirs))
    report("gdb: Tab completes options, choices and expressions", problems)


def test_settings(facts):
    """max-elements set in each front end gives the same JSON."""
    command = "layout int_array --json"
    problems = []
    rc, cli, err = run([MEMVIEW, "--core", CORE, "--exe", EXE,
                        "--max-elements", "2"] + command.split())
    rc, g, err = gdb("file " + EXE, "core " + CORE,
                     "set memview max-elements 2", "mv-" + command)
    rc, l, err = lldb("mv-settings max-elements 2",
                      "target create %s --core %s" % (EXE, CORE),
                      "mv-" + command)
    values = {}
    for front, text in (("cli", cli), ("gdb", g), ("lldb", l)):
        lines = [x for x in text.splitlines() if x.startswith("{")]
        try:
            values[front] = json.loads(lines[0])
        except (IndexError, ValueError):
            problems.append("%s: no JSON: %r" % (front, text[-200:]))
    if len(values) == 3:
        if not values["cli"] == values["gdb"] == values["lldb"]:
            problems.append("front ends differ")
        shown = json.dumps(values["cli"])
        if facts.get("value int_array[1]", "20") not in shown or \
                ('"%s"' % facts.get("value int_array[4]", "50")) in shown:
            pass
    # The setting really limits: no third element in the text output.
    rc, out, err = gdb("file " + EXE, "core " + CORE,
                       "set memview max-elements 2", "mv-layout int_array",
                       "set memview max-elements", "mv-layout int_array")
    if "{10, 20, ...}" not in out or "{10, 20, 30, 40, 50}" not in out:
        problems.append("gdb: setting not applied or not reset: %r" %
                        out[-300:])
    # A command without the option ignores the setting.
    rc, out, err = gdb("file " + EXE, "core " + CORE,
                       "set memview max-bytes 64K", "mv-regions --json")
    if not re.search(r"^\{\"command\":\"regions\"", out, re.MULTILINE):
        problems.append("regions with max-bytes set: %r" % (out + err))
    rc, out, err = gdb("set memview max-elements many")
    if "expects a number" not in err:
        problems.append("gdb: bad value accepted: %r" % err)
    rc, out, err = run([MEMVIEW, "--color", "blue", "regions"])
    if rc != 2 or "auto, on or off" not in err:
        problems.append("cli: --color blue: %s %r" % (rc, err))
    report("settings: the same names in the CLI, gdb and lldb", problems)


# ------------------------------------------------------------------
# On a terminal: gdb's pager, width and colour.

class Terminal:
    """gdb on a pseudo-terminal, driven line by line."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, dict(ENV, TERM="xterm",
                                           COLUMNS="200", LINES="50"))
        self.buffer = b""

    def expect(self, pattern, timeout=30):
        """Output up to and including pattern (a regex on bytes)."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.buffer)
            if match:
                text = self.buffer[:match.end()]
                self.buffer = self.buffer[match.end():]
                return text.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("waiting for %r: %r" %
                                   (pattern, self.buffer[-300:]))
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise EOFError("gdb exited: %r" % self.buffer[-300:])
                self.buffer += data

    def send(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def command(self, line):
        self.send(line)
        return self.expect(rb"\(gdb\) ")

    def close(self):
        try:
            self.send("quit")
            time.sleep(0.2)
            os.kill(self.pid, 9)
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_terminal():
    problems = []
    term = Terminal(["gdb", "-nx", "-q", "-iex", "set debuginfod enabled off",
                     "-ex", "source " + GDB_PLUGIN, "-ex", "file " + EXE,
                     "-ex", "core " + CORE])
    try:
        term.expect(rb"\(gdb\) ")
        term.command("set height 8")
        term.command("set width 60")
        # q at the pager: the command stops, quietly.
        term.send("mv-regions")
        term.expect(rb"--Type <RET> for more, q to quit")
        term.send("q")
        after = term.expect(rb"\(gdb\) ")
        if TRACEBACK.search(after) or "rror" in after or \
                "interrupted" in after or "stopped" in after:
            problems.append("pager q printed: %r" % after)
        term.command("set height 0")
        # set width 60: the hex view narrows to fit.
        out = term.command("memview --hex &int_array 16")
        hexlines = [l for l in re.sub(r"\x1b\[[0-9;]*m", "", out)
                    .splitlines() if re.match(r"\s*[0-9a-f]{8,}:", l)]
        if len(hexlines) != 2 or any(len(l) > 60 for l in hexlines):
            problems.append("width 60: %r" % hexlines)
        # Colour follows gdb's styling, then the setting.
        styled = term.command("memview --hex &int_array 16")
        term.command("set style enabled off")
        plain = term.command("memview --hex &int_array 16")
        term.command("set memview color on")
        forced = term.command("memview --hex &int_array 16")
        sgr = re.compile(r"\x1b\[[0-9;]*m")
        if not sgr.search(styled):
            problems.append("no colour with styling on: %r" % styled[-200:])
        if sgr.search(plain):
            problems.append("colour with styling off: %r" % plain[-200:])
        if not sgr.search(forced):
            problems.append("set memview color on: no colour")
    except (TimeoutError, EOFError) as e:
        problems.append(str(e))
    finally:
        term.close()
    report("gdb on a terminal: pager q is quiet, set width, colour",
           problems)


def test_progress_unit():
    """Progress: nothing in the first second, then at most 4 Hz, and a
    clear at the end; its numbers."""
    lines = []
    progress = memview_core.Progress(lines.append)
    progress("objects", 10, 0)
    problems = []
    if lines:
        problems.append("shown before a second: %r" % lines)
    progress.start -= 2
    for i in range(100):
        progress("objects", 1000 * i, 0)
    if len(lines) != 1 or "objects" not in lines[0] or \
            not lines[0].startswith("\r\x1b[K"):
        problems.append("throttle: %r" % lines)
    progress.last -= 1
    progress("bytes", 512, 1024)
    if "50%" not in lines[-1]:
        problems.append("percent: %r" % lines[-1])
    progress.clear()
    if lines[-1] != "\r\x1b[K":
        problems.append("not cleared: %r" % lines[-1])
    # Piped JSON carries no progress: the CLI with stderr not a terminal.
    rc, out, err = run([MEMVIEW, "--core", CORE, "--exe", EXE,
                        "regions", "--json"])
    if "\r" in out or "\r" in err:
        problems.append("carriage return in piped output")
    report("progress: delayed, throttled, cleared; none when piped",
           problems)


def test_doctor():
    """doctor: every objfile of the fixture's core has debug info here
    (libc6-dbg is a dependency), the heap opens; the same findings in the
    CLI and gdb; a missing target is a MISS with its fix."""
    problems = []
    rc, out, err = run([MEMVIEW, "--core", CORE, "--exe", EXE, "doctor",
                        "--json"])
    try:
        cli = json.loads(out)
    except ValueError:
        report("doctor", ["cli: not JSON: %r" % (out + err)[-200:]])
        return
    areas = {}
    for f in cli["findings"]:
        areas.setdefault(f["area"], []).append(f)
    for area in ("memory", "debuginfo", "heap"):
        bad = [f["what"] for f in areas.get(area, []) if not f["ok"]]
        if area not in areas or bad:
            problems.append("%s: %s" % (area, bad or "missing"))
    if len(areas.get("debuginfo", [])) != 3:
        problems.append("want 3 objfiles: %s" % areas.get("debuginfo"))
    rc, g, err = gdb("file " + EXE, "core " + CORE, "mv-doctor --json")
    lines = [x for x in g.splitlines() if x.startswith("{")]
    if not lines or [f["area"] for f in json.loads(lines[0])["findings"]] \
            != [f["area"] for f in cli["findings"]]:
        problems.append("gdb: %r" % (g + err)[-300:])
    rc, out, err = run([MEMVIEW, "--exe", EXE, "doctor"])
    if "MISS memory" not in out or "fix: " not in out:
        problems.append("no target: %r" % out)
    report("doctor: debug info per objfile, heap, memory source", problems)


# A KeyboardInterrupt raised where a Ctrl-C raises one when it comes
# while the plugin opens the core for a command (check-ctrlc's real ^C
# lands there now and then: gdb said only "memview: interrupted"), once.
EARLY_CTRL_C = """
import sys
m = sys.modules[%r]
get = m.STATE.get
def early(*a, _once=[1]):
    if _once:
        _once.pop()
        raise KeyboardInterrupt
    return get(*a)
m.STATE.get = early
"""


def test_interrupt_before_start():
    """Ctrl-C before the command ran: the line says nothing was done, the
    next command answers."""
    want = "memview: interrupted before the command started"
    problems = []
    rc, out, err = gdb("file " + EXE, "core " + CORE,
                       "python exec(%r)" % (EARLY_CTRL_C % "memview_gdb"),
                       "mv-info", "mv-info")
    if want not in err or "build-id" not in out:
        problems.append("gdb: %r" % (out + err)[-400:])
    # Both commands from the script: lldb -b stops at a command's error.
    rc, out, err = lldb("target create --core %s %s" % (CORE, EXE),
                        "script exec(%r)" % (EARLY_CTRL_C % "memview" + """
lldb.debugger.HandleCommand('mv-info')
lldb.debugger.HandleCommand('mv-info')
"""))
    if want not in out + err or "build-id" not in out:
        problems.append("lldb: %r" % (out + err)[-400:])
    report("Ctrl-C while opening the core: 'interrupted before the "
           "command started', then the next command runs", problems)


def test_interrupt_at_end():
    """A Ctrl-C a front end caught in the command's output (as gdb's
    Output does) of a command that then ended without an error: the
    error says the output may be cut short, not a bare 'interrupted'."""
    session = memview_core.Session()
    written = []

    def output(text):
        if not written:
            memview_core.remember_interrupt()
        written.append(text)
        return True
    session.set_output(output)
    session.open_core(CORE, EXE)
    try:
        session.run_line("info", "")
        got = "no error"
    except memview_core.MemviewError as e:
        got = e.message if e.interrupted else "not interrupted: " + e.message
    report("Ctrl-C in the output as the command ends: 'interrupted as the "
           "command ended: its output may be cut short'",
           [] if got == memview_core.INTERRUPTED_LATE and written
           else ["%r" % got])


def main():
    if missing("plugins", (MEMVIEW, EXE, CORE, FACTS)):
        return 1
    facts = read_facts_of_basic()
    with tempfile.TemporaryDirectory() as tmp:
        for test in (test_static_names, test_load_twice, test_startup_cost,
                     lambda: test_missing_library(tmp), test_help,
                     test_completion, lambda: test_settings(facts),
                     test_terminal, test_progress_unit, test_doctor,
                     test_interrupt_before_start, test_interrupt_at_end):
            started = time.monotonic()
            try:
                test()
                if os.environ.get("MV_TIMES"):
                    print("       %.1f s" % (time.monotonic() - started))
            except Exception as e:
                report(getattr(test, "__name__", "test"),
                       ["exception: %r" % e])
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
