"""Tab completion at a real terminal (a pty, 100x24, as a user types):

- gdb: a command name (mv-he -> mv-heap), an option (mv-heap --bi ->
  --bins, memview --dep -> --depth, mv-graph --draw-d -> --draw-depth,
  mv-gc --draw-m -> --draw-max), and Tab Tab after "mv-heap --" lists
  every option the command table gives mv-heap.
- lldb: command names (mv-he -> mv-heap, sizeof-d -> sizeof-deep), and
  Tab after "mv-" lists every memview command with its summary.  lldb 14
  gives a Python command no hook to complete its arguments (script
  commands are raw; argument completers for scripted commands came with
  LLDB 20's parsed commands), so options do not complete there: the
  help (`help mv-heap`) lists them.

Usage: BUILD=build python3 tests/integration/test_completion.py
Ends with "completion: N passed, M failed"."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ["MEMVIEW_LIBRARY"] = run.ENV["MEMVIEW_LIBRARY"]
import memview_core  # noqa: E402

T = Tally("completion")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x07|\r")


class Terminal:
    """A debugger at an interactive prompt on a pty."""

    def __init__(self, argv):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, 100, 0, 0))
        env = dict(run.ENV, TERM="xterm")

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                  stderr=slave, env=env,
                                  preexec_fn=controlling_terminal)
        os.close(slave)
        self.fd = master

    def read(self, quiet=0.8, limit=20):
        """What the terminal shows until it is quiet for a while."""
        out, end, last = b"", time.monotonic() + limit, time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                out += data
                last = time.monotonic()
        return out

    def type(self, text, quiet=0.8):
        os.write(self.fd, text.encode())
        return self.read(quiet)

    def line(self, text, quiet=2.0):
        return self.type(text + "\r", quiet)

    def close(self):
        try:
            os.write(self.fd, b"\x15quit\r")
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.fd)


def clean(b):
    return ANSI.sub(b"", b).decode("utf-8", "replace")


def completes(term, typed, want):
    """Tab after typed: the line then ends with want (a space after a
    whole word)."""
    shown = clean(term.type(typed + "\t"))
    term.type("\x15")  # ^U: an empty line again
    return shown.endswith(want), shown[-160:]


def test_gdb():
    term = Terminal(["gdb", "-nx", "-q", "-ex", "set debuginfod enabled off",
                     "-ex", "set pagination off",
                     "-ex", "source " + os.path.join(ROOT, "gdb",
                                                     "memview.py"),
                     "-ex", "file " + run.EXE])
    try:
        term.read(2.0)
        for typed, want in (("mv-he", "mv-heap "),
                            ("mv-heap --bi", "mv-heap --bins "),
                            ("memview --dep", "memview --depth "),
                            ("mv-graph --draw-d", "mv-graph --draw-depth "),
                            ("mv-gc --draw-m", "mv-gc --draw-max ")):
            ok, shown = completes(term, typed, want)
            T.check("gdb: Tab after %r gives %r" % (typed, want), ok, shown)
        shown = clean(term.type("mv-heap --\t\t", 1.5))
        term.type("\x15")
        options = memview_core.command_options("mv-heap")
        # gdb lists the word after "--" ('-' breaks words for it).
        listing = shown.split("\n", 1)[1] if "\n" in shown else ""
        listed = set(re.findall(r"[a-z][a-z-]*", listing))
        T.check("gdb: Tab Tab after 'mv-heap --' lists its %d options" %
                len(options), set(options) <= listed,
                sorted(set(options) - listed))
    finally:
        term.close()


def test_lldb():
    term = Terminal(["lldb", "--no-lldbinit", "--no-use-colors"])
    try:
        term.read(2.0)
        term.line("command script import " +
                  os.path.join(ROOT, "lldb", "memview.py"))
        for typed, want in (("mv-he", "mv-heap "),
                            ("sizeof-d", "sizeof-deep ")):
            ok, shown = completes(term, typed, want)
            T.check("lldb: Tab after %r gives %r" % (typed, want), ok,
                    shown)
        shown = clean(term.type("mv-\t", 1.5))
        term.type("\x15")
        names = [n for n in memview_core.command_names("lldb")
                 if n.startswith("mv-")] + ["mv-settings"]
        missing = [n for n in names
                   if not re.search(r"\n\s*%s\s+-- \S" % re.escape(n),
                                    shown)]
        T.check("lldb: Tab after 'mv-' lists the %d mv- commands, each "
                "with its summary" % len(names), not missing,
                "missing %s in %r" % (missing, shown[-400:]))
    finally:
        term.close()


def main():
    test_gdb()
    test_lldb()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
