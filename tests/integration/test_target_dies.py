"""A live target SIGKILLed during a command (issue 19.4): the answer must
fail with the reason, never look clean.

heapbig (a million chunks) waits in mv_fixture_done; memview --pid runs
gc (and sizeof-deep over its array of blocks), and the test kills the
fixture after a delay, growing from 10 ms.  Each outcome must be either
the failure with "the process exited during the command" (the kill
landed during the command) or the fixture's clean answer (it came
after), and the kill must land at least twice.  The same for gc through
the gdb plugin (the delay counted from a file gdb touches just before).

Usage: BUILD=build python3 tests/integration/test_target_dies.py
Prints one line per case and "target-dies: N passed, M failed".
"""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402
from mvcheck import Tally, start_fixture  # noqa: E402

EXE = os.path.join(run.BUILD, "fixtures", "heapbig")
REASON = "the process exited during the command"
DELAYS = (0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.5)
T = Tally("target-dies")
report = T.report


def attempt(tmp, argv_of, delay):
    """One kill, delay after the command started (after the file
    "started" appears if the command makes it): (rc, stdout + stderr)."""
    fixture, _ = start_fixture(EXE, run.ENV, tmp, "heapbig",
                               stderr=subprocess.DEVNULL)
    if fixture is None:
        return None, "fixture did not start"
    started = os.path.join(tmp, "started")
    if os.path.exists(started):
        os.unlink(started)
    argv = argv_of(fixture.pid, started)
    command = subprocess.Popen(argv, env=run.ENV, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    if any(started in word for word in argv):
        deadline = time.time() + run.TIMEOUT
        while (not os.path.exists(started) and command.poll() is None
               and time.time() < deadline):
            time.sleep(0.01)
    time.sleep(delay)
    os.kill(fixture.pid, signal.SIGKILL)
    try:
        out, _ = command.communicate(timeout=run.TIMEOUT)
    except subprocess.TimeoutExpired:
        command.kill()
        out, _ = command.communicate()
        out += "\n(timed out)"
    fixture.wait()
    return command.returncode, out


def case(name, tmp, argv_of, clean_check, need=2):
    """Every outcome must be the failure with the reason (the kill
    landed during the command) or the clean answer (it came after); the
    delays grow until the kill landed `need` times."""
    problems = []
    landed = 0
    for delay in DELAYS:
        rc, out = attempt(tmp, argv_of, delay)
        if rc is None:
            problems.append(out)
            break
        if REASON in out:
            landed += 1
            if rc == 0 and not name.startswith("gdb"):
                problems.append("killed after %.2f s: exit 0, %r"
                                % (delay, out[-400:]))
            if "Python Exception" in out or "Traceback" in out:
                problems.append("traceback: %r" % out[-400:])
        elif not clean_check(rc, out):
            problems.append("killed after %.2f s: neither failed with the "
                            "reason nor the clean answer: exit %s, %r"
                            % (delay, rc, out[-600:]))
        if landed >= need:
            break
    if landed < need and not problems:
        problems.append("the kill landed during the command only %d "
                        "times" % landed)
    report("%s: killed mid-command fails with the reason "
           "(%d kills landed)" % (name, landed), problems)


def gc_clean(rc, out):
    return rc == 0 and "definitely lost             0 bytes" in out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        case("cli gc", tmp,
             lambda pid, _: [run.MEMVIEW, "--pid", str(pid), "gc"], gc_clean)
        case("cli sizeof-deep", tmp,
             lambda pid, _: [run.MEMVIEW, "--pid", str(pid), "sizeof-deep",
                          "blocks"],
             lambda rc, out: rc == 0 and "[PARTIAL]" not in out)
        gdb = ["gdb", "-nx", "-batch", "-q",
               "-ex", "set debuginfod enabled off",
               "-ex", "source %s/gdb/memview.py" % run.ROOT,
               "-ex", "file " + EXE]
        case("gdb mv-gc", tmp,
             lambda pid, started: gdb + [
                 "-ex", "attach %d" % pid,
                 "-ex", "shell touch " + shlex.quote(started),
                 "-ex", "mv-gc"],
             lambda rc, out: "definitely lost             0 bytes" in out,
             need=1)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
