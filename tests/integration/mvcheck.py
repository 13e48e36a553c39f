"""The pass/fail count every integration script keeps: a line per failed
case (and per passed one when verbose), and the last line that make
check reads, "NAME: N passed, M failed"; and a core's bytes by address
(CoreFile), for scripts that read or damage one."""
import json
import os
import socket
import subprocess
import struct
import sys
import time


class Tally:
    def __init__(self, name, verbose=True, pending=(), detail_max=None,
                 most=10):
        self.name = name
        self.verbose = verbose
        # Cases waiting on a change owned elsewhere: reported, not counted.
        self.pending = set(pending)
        self.detail_max = detail_max
        self.most = most        # report's problem lines (None: all)
        self.prefix = ""        # report's, before each case's name
        self.passed = self.failed = 0
        self.results = []       # each case counted, True if it passed

    def count(self, ok):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.results.append(bool(ok))

    def report(self, name, problems):
        """One case given as the list of its problems (none: it passed):
        "ok   NAME" or "FAIL NAME", then the problems one a line."""
        self.count(not problems)
        if problems or self.verbose:
            print("%s %s%s" % ("ok  " if not problems else "FAIL",
                               self.prefix, name))
        shown = problems if self.most is None else problems[:self.most]
        for problem in shown:
            print("       " + problem)
        if len(problems) > len(shown):
            print("       ... %d more" % (len(problems) - len(shown)))
        sys.stdout.flush()

    def check(self, what, ok, detail=""):
        detail = str(detail)
        if self.detail_max:
            detail = detail[:self.detail_max]
        if what in self.pending:
            print("%s %s%s" % ("PENDING-PASSES (remove from PENDING)" if ok
                               else "pending", what,
                               "" if ok else ": " + detail[:300]))
        elif ok:
            self.count(True)
            if self.verbose:
                print("ok   " + what)
        else:
            self.count(False)
            print("FAIL %s: %s" % (what, detail))
        sys.stdout.flush()

    def summary(self):
        """Prints the last line; the exit status."""
        print("%s: %d passed, %d failed" % (self.name, self.passed,
                                            self.failed))
        return 1 if self.failed else 0


def json_outputs(records, front):
    """The parsed JSON output of each record of a front end's run, or a
    problem string for a command that failed or printed no JSON."""
    got = []
    for rec in records or []:
        if not rec["succeeded"]:
            got.append("%s: %s failed: %s" % (front, rec["command"],
                                              rec["error"]))
            continue
        try:
            got.append(json.loads(rec["output"]))
        except ValueError:
            got.append("%s: not JSON: %r" % (front, rec["output"][:200]))
    return got


def missing(name, paths):
    """True (after saying which and failing the run) if a file the script
    needs was not built."""
    for path in paths:
        if not os.path.exists(path):
            print("%s: missing %s: run 'make' first" % (name, path))
            print("%s: 0 passed, 1 failed" % name)
            return True
    return False


def run_argv(argv, env, cwd=None, timeout=300):
    """(exit status, stdout, stderr) of a program run with no stdin;
    exit status None after timeout seconds."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %d s" % timeout


def stopped(pid):
    """Whether the process is stopped ('T': a SIGSTOP it sent itself)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def settled(pid):
    """Whether every thread of the process is blocked in a system call,
    its main thread in pause() (x86-64's call 34): the fixture's last
    call (fixture.h's mv_fixture_done), made just after it wrote its
    ready file.  Until then its fclose is still freeing the FILE and
    other threads may be on their way from a barrier to their wait,
    writing their stacks: a gc, a gcore or a debugger's attach in that
    window sees a heap or stack words that change under it."""
    calls = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return False
    for tid in tids:
        task = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(task + "syscall") as f:
                calls[int(tid)] = f.read().split()[:1]
        except OSError:
            # No syscall file (a kernel without it, a thread gone):
            # asleep, then, as far as its stat tells.
            try:
                with open(task + "stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return False
            calls[int(tid)] = ["34"] if state == "S" else []
    return (calls.get(pid) == ["34"]
            and all(c and c[0].isdigit() for c in calls.values()))


def wait_settled(process, ready, timeout=30):
    """Waits until the process wrote the ready file and settled (twice
    in a row, 10 ms apart, so that a thread just woken is not missed):
    whether it did before the deadline (and did not exit)."""
    deadline = time.time() + timeout
    seen = 0
    while time.time() < deadline and process.poll() is None:
        if os.path.exists(ready) and settled(process.pid):
            seen += 1
            if seen == 2:
                return True
        else:
            seen = 0
        time.sleep(0.01)
    return False


def start_fixture(exe, env, tmp, name, timeout=30, **popen):
    """The fixture exe running, stopped in mv_fixture_done (MV_WAIT) and
    settled there, its facts in tmp/NAME.facts: (process, facts path),
    process None if it did not get there in time.  popen: more of
    Popen's arguments (stdout is /dev/null unless given).  The caller
    kills the process."""
    ready = os.path.join(tmp, name + ".ready")
    facts = os.path.join(tmp, name + ".facts")
    for stale in (ready, facts):
        if os.path.exists(stale):
            os.unlink(stale)
    popen.setdefault("stdout", subprocess.DEVNULL)
    process = subprocess.Popen(
        [exe], env=dict(env, MV_WAIT="1", MV_READY=ready, MV_FACTS=facts),
        stdin=subprocess.DEVNULL, **popen)
    if not wait_settled(process, ready, timeout):
        process.kill()
        process.wait()
        return None, facts
    return process, facts


def free_port():
    """A TCP port on 127.0.0.1 that nothing used a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether a socket listens on TCP port (IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    w = line.split()
                    if w[3] == "0A" and int(w[1].rsplit(":", 1)[1],
                                            16) == port:
                        return True
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    return False


def wait_listening(process, port, timeout=20):
    """Waits until the server process listens on port: the port is in
    the kernel's table of listening sockets (a fixed pause was too short
    on a loaded machine).  Whether it does (before the deadline, and
    before the process exited)."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if listening(port):
            return True
        time.sleep(0.05)
    return False


class CoreFile:
    """A core's bytes by virtual address (its PT_LOAD segments), to read
    and to damage: get and put take a struct format."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        phoff, = struct.unpack_from("<Q", self.data, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 54)
        self.loads = []
        for i in range(phnum):
            typ, _, off, vaddr, _, filesz = struct.unpack_from(
                "<IIQQQQ", self.data, phoff + i * phentsize)
            if typ == 1:
                self.loads.append((vaddr, filesz, off))

    def offset(self, addr):
        for vaddr, filesz, off in self.loads:
            if vaddr <= addr < vaddr + filesz:
                return off + addr - vaddr
        raise KeyError(hex(addr))

    def get(self, addr, fmt):
        return struct.unpack_from(fmt, self.data, self.offset(addr))[0]

    def u64(self, addr):
        return self.get(addr, "<Q")

    def put(self, addr, fmt, value):
        struct.pack_into(fmt, self.data, self.offset(addr), value)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.data)
