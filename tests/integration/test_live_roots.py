"""Roots of a live process: its threads' stacks and registers.

The roots fixture (tests/fixtures/roots.c) holds one block only in a
local variable of its main thread (stack_block) and one only in r12 of a
second thread (register_block); it has three threads.  The block
addresses and the holding threads' ids are the fixture's own facts.

1. `memview --pid P`: gc calls both blocks still reachable and is not
   partial; referrers names the stack of the main thread and r12 of the
   second thread; path-to starts at that register.  The same gc answer
   (blocks, summary, partial) on a core gdb takes of the same process.
2. gdb -p and lldb -p: the same commands give the CLI's JSON and text
   (the debugger hands over its registers), also after the process ran
   (gdb: a `call` runs it; the session is invalidated and the registers
   given again).
3. The process is left as it was: stopped by SIGSTOP, it is still
   stopped ('T') after memview; running, its threads are the same and
   none is stopped; its r12 is found again the second time.
4. A thread traced by someone else (a helper that PTRACE_SEIZEs the main
   thread): one warning line naming the tracer, gc's note that the
   thread had no registers, and no error.

Usage: BUILD=build python3 tests/integration/test_live_roots.py
Prints one line per case and "live-roots: N passed, M failed".
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the front ends' drivers)
from mvcheck import Tally, start_fixture  # noqa: E402
from mvfacts import read_facts  # noqa: E402

EXE = os.path.join(run.BUILD, "fixtures", "roots")
GC = "gc --json --blocks --show-reachable"
T = Tally("live-roots")
report = T.report


def start(tmp):
    """The fixture, waiting in mv_fixture_done: (process, facts)."""
    process, facts_path = start_fixture(EXE, run.ENV, tmp, "roots",
                                        stderr=subprocess.DEVNULL)
    return (process, read_facts(facts_path)) if process else (None, None)


def memview(*args):
    p = subprocess.run([run.MEMVIEW] + list(args), capture_output=True,
                       text=True, env=run.ENV, timeout=run.TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def kinds(gc):
    """address -> memcheck kind, from gc --blocks --show-reachable."""
    return {int(b["address"], 16): b["kind"] for b in gc.get("blocks", [])}


def check_gc(gc, facts):
    """Problems with gc's JSON: both blocks reachable, not partial."""
    problems = []
    got = kinds(gc)
    for name in ("stack_block", "register_block"):
        address = int(facts["addr " + name], 16)
        if got.get(address) != "still_reachable":
            problems.append("%s %#x: %s, expected still_reachable"
                            % (name, address, got.get(address)))
    if gc.get("partial"):
        problems.append("partial: %s" % gc.get("notes"))
    for note in gc.get("notes", []):
        if "no registers" in note:
            problems.append("note: " + note)
    return problems


def check_referrers(stack_out, register_out, facts):
    problems = []
    want = "stack of thread %s" % facts["tid stack_block"]
    if want not in stack_out:
        problems.append("stack_block: no %r in %r" % (want, stack_out))
    want = "of thread %s" % facts["tid register_block"]
    if "register r12" not in register_out or want not in register_out:
        problems.append("register_block: no r12 %r in %r"
                        % (want, register_out))
    return problems


def same_gc(a, b):
    """What must agree between two gc answers on one process."""
    return (kinds(a) == kinds(b) and a.get("summary") == b.get("summary")
            and a.get("partial") == b.get("partial"))


def test_cli_and_core(pid, facts, tmp):
    stack = facts["addr stack_block"]
    register = facts["addr register_block"]
    rc, out, err = memview("--pid", str(pid), *GC.split())
    if rc != 0:
        report("cli --pid gc", ["rc %d: %s" % (rc, err)])
        return None
    live = json.loads(out)
    report("cli --pid gc: stack and register blocks reachable",
           check_gc(live, facts))
    _, s_out, _ = memview("--pid", str(pid), "referrers", stack)
    _, r_out, _ = memview("--pid", str(pid), "referrers", register)
    report("cli --pid referrers: stack slot, register r12",
           check_referrers(s_out, r_out, facts))
    _, p_out, _ = memview("--pid", str(pid), "path-to", register)
    want = "register r12 of thread %s" % facts["tid register_block"]
    report("cli --pid path-to register_block starts at r12",
           [] if want in p_out else ["no %r in %r" % (want, p_out)])

    core = os.path.join(tmp, "roots.core")
    subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(pid),
                    "-ex", "gcore " + core], capture_output=True,
                   timeout=run.TIMEOUT, env=run.ENV)
    rc, out, err = memview("--core", core, "--exe", EXE, *GC.split())
    problems = [] if rc == 0 else ["core gc rc %d: %s" % (rc, err)]
    if not problems:
        dead = json.loads(out)
        problems += check_gc(dead, facts)
        if not same_gc(live, dead):
            problems.append("live %s != core %s"
                            % (json.dumps(live)[:300], json.dumps(dead)[:300]))
    report("gc on the live process = gc on its core (gcore)", problems)
    return live


def test_debuggers(pid, facts, live):
    stack = facts["addr stack_block"]
    register = facts["addr register_block"]
    # After the first three, the process runs (gdb: a call), so the
    # session is invalidated and gdb gives its registers again.
    commands = [GC, "referrers " + stack, "referrers " + register]
    named = [run.debugger_name(c) for c in commands]
    # The program's answers before any debugger touched the process:
    # lldb's `expr` leaves a mapping of its own in it, holding a copy of
    # the registers it saved (a referrer the program then finds too).
    _, r_out, _ = memview("--pid", str(pid), "referrers", register)
    _, s_out, _ = memview("--pid", str(pid), "referrers", stack)
    gdb, gdb_raw = run.gdb(["file " + EXE, "attach %d" % pid],
                  named + ["call (int) getpid()"] + named, ["detach"])
    lldb, lldb_raw = run.lldb({"MV_EXE": EXE, "MV_PID": str(pid)},
                    named + ["expr (int) getpid()"] + named)
    for front, data, raw in (("gdb", gdb, gdb_raw), ("lldb", lldb, lldb_raw)):
        if data is None or isinstance(data, str):
            report("%s -p: ran" % front, ["did not run: %s" % raw[-300:]])
            continue
        cases = data["cases"]
        for offset, when in ((0, ""), (4, ", after the process ran")):
            problems = []
            records = cases[offset:offset + 3]
            if len(records) < 3 or not all(r["succeeded"] for r in records):
                report("%s -p%s" % (front, when),
                       ["failed: %s" % [r["error"] for r in records]])
                continue
            gc = json.loads(records[0]["output"])
            problems += check_gc(gc, facts)
            if live is not None and not same_gc(gc, live):
                problems.append("differs from cli: %s" % json.dumps(gc)[:300])
            problems += check_referrers(records[1]["output"],
                                        records[2]["output"], facts)
            if not offset and (records[1]["output"] != s_out or
                               records[2]["output"] != r_out):
                problems.append("referrers differ from cli: %r" % (
                    (records[1]["output"], s_out, records[2]["output"],
                     r_out),))
            report("%s -p: gc, referrers = cli%s" % (front, when), problems)


def task_states(pid):
    """tid -> state letter of every thread of pid."""
    states = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
    return states


def test_left_as_it_was(pid, facts):
    register = facts["addr register_block"]
    before = task_states(pid)
    problems = []
    for _ in range(2):  # registers read afresh each time
        _, out, _ = memview("--pid", str(pid), "referrers", register)
        if "register r12" not in out:
            problems.append("no r12 in %r" % out)
    after = task_states(pid)
    if sorted(after) != sorted(before):
        problems.append("threads %s, before %s" % (sorted(after),
                                                   sorted(before)))
    if any(s in "Tt" for s in after.values()):
        problems.append("stopped after: %s" % after)
    report("running process: still running, same threads", problems)

    os.kill(pid, 19)  # SIGSTOP
    deadline = time.time() + 5
    while set(task_states(pid).values()) != {"T"} and \
            time.time() < deadline:
        time.sleep(0.01)
    problems = []
    rc, out, err = memview("--pid", str(pid), *GC.split())
    if rc != 0:
        problems.append("rc %d: %s" % (rc, err))
    else:
        problems += check_gc(json.loads(out), facts)
    # Detaching wakes each thread on its way back into the group-stop:
    # 'T' again within moments.
    deadline = time.time() + 2
    while set(task_states(pid).values()) != {"T"} and \
            time.time() < deadline:
        time.sleep(0.01)
    states = task_states(pid)
    if set(states.values()) != {"T"}:
        problems.append("after memview: %s" % states)
    os.kill(pid, 18)  # SIGCONT
    report("stopped process (SIGSTOP): still stopped, registers read",
           problems)


def test_caller_registers(pid, facts):
    """The binding's open_pid(caller_registers=True): memview does not
    attach, so without registers from the caller no register holds a
    block and gc is partial, naming each thread (the control for the
    cases above: without a stack pointer a stack cannot be told from
    other writable mappings, so it is scanned whole, dead frames
    included, and may still reach the blocks); a thread given again
    gets the new registers, not a second entry."""
    os.environ["MEMVIEW_LIBRARY"] = os.path.join(run.BUILD, "libmemview.so")
    sys.path.insert(0, os.path.join(run.ROOT, "python"))
    import memview_core
    out = []
    session = memview_core.Session()
    session.set_output(out.append)
    session.open_pid(pid, caller_registers=True)
    problems = []

    def command(line):
        del out[:]
        name, _, rest = line.partition(" ")
        session.run_line(name, rest)
        return "".join(out)
    gc = json.loads(command(GC))
    if not gc["partial"]:
        problems.append("gc not partial with no registers")
    text = command("referrers %#x" % int(facts["addr register_block"], 16))
    if "register " in text:
        problems.append("a register referrer with no registers: %r" % text)
    for tid in (facts["tid stack_block"], facts["tid register_block"]):
        if not any("thread %s: no registers" % tid in n
                   for n in gc.get("notes", [])):
            problems.append("no note for thread %s" % tid)
    register = int(facts["addr register_block"], 16)
    tid = int(facts["tid register_block"])
    session.add_thread(tid, {"r12": register})
    text = command("referrers %#x" % register)
    if "register r12    of thread %d" % tid not in text:
        problems.append("given r12 not a referrer: %r" % text)
    session.add_thread(tid, {"r12": 0})
    text = command("referrers %#x" % register)
    if "register r12" in text:
        problems.append("r12 given twice: %r" % text)
    gc = json.loads(command(GC))
    if gc["scanned"]["threads"] != int(facts["threads"]):
        problems.append("threads %s, expected %s" % (
            gc["scanned"]["threads"], facts["threads"]))
    session.close()
    report("binding: caller_registers (none: partial, no register "
           "referrer; given again: replaced)", problems)


# A tracer of the main thread: seizes it, says "ok", waits for its stdin
# to close, then interrupts and detaches (a tracee detaches only when
# stopped).
TRACER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
tid = int(sys.argv[1])
if libc.ptrace(0x4206, tid, None, None) != 0:  # PTRACE_SEIZE
    print("seize failed", ctypes.get_errno(), flush=True)
    sys.exit(1)
print("ok", flush=True)
sys.stdin.read()
libc.ptrace(0x4207, tid, None, None)  # PTRACE_INTERRUPT
os.waitpid(tid, 0x40000000)  # __WALL
libc.ptrace(17, tid, None, None)  # PTRACE_DETACH
"""


def test_traced(pid, facts):
    tracer = subprocess.Popen([sys.executable, "-c", TRACER, str(pid)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    problems = []
    try:
        line = tracer.stdout.readline().strip()
        if line != "ok":
            report("traced thread: warning, note", ["tracer: %r" % line])
            return
        rc, out, err = memview("--pid", str(pid), *GC.split())
        if rc != 0:
            problems.append("rc %d: %s" % (rc, err))
        warning = ("thread %d: cannot read registers (already traced by "
                   "pid %d: " % (pid, tracer.pid))
        # Target warnings are what `info` lists.
        rc_info, info, err = memview("--pid", str(pid), "info")
        lines = [x for x in info.splitlines()
                 if "cannot read registers" in x]
        if rc_info != 0 or len(lines) != 1 or warning not in lines[0]:
            problems.append("warning %r not once in %r" % (warning, info))
        notes = json.loads(out).get("notes", []) if rc == 0 else []
        want = "thread %d: no registers" % pid
        if not any(want in n for n in notes):
            problems.append("no note %r in %s" % (want, notes))
    finally:
        tracer.stdin.close()
        tracer.wait(timeout=run.TIMEOUT)
    states = task_states(pid)
    if any(s in "Tt" for s in states.values()):
        problems.append("stopped after: %s" % states)
    report("traced thread: one warning, gc's note, no error", problems)


def main():
    if not os.path.exists(EXE):
        print("no %s: run make first" % EXE)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        process, facts = start(tmp)
        if process is None:
            report("roots fixture", ["did not get ready"])
        else:
            try:
                live = test_cli_and_core(process.pid, facts, tmp)
                test_debuggers(process.pid, facts, live)
                test_left_as_it_was(process.pid, facts)
                test_traced(process.pid, facts)
                test_caller_registers(process.pid, facts)
            finally:
                process.kill()
                process.wait(timeout=run.TIMEOUT)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
