"""The pass/fail count every integration script keeps: a line per failed
case (and per passed one when verbose), and the last line that make
check reads, "NAME: N passed, M failed"; and a core's bytes by address
(CoreFile), for scripts that read or damage one."""
import json
import os
import subprocess
import struct
import sys
import time


class Tally:
    def __init__(self, name, verbose=True, pending=(), detail_max=None):
        self.name = name
        self.verbose = verbose
        # Cases waiting on a change owned elsewhere: reported, not counted.
        self.pending = set(pending)
        self.detail_max = detail_max
        self.passed = self.failed = 0

    def check(self, what, ok, detail=""):
        detail = str(detail)
        if self.detail_max:
            detail = detail[:self.detail_max]
        if what in self.pending:
            print("%s %s%s" % ("PENDING-PASSES (remove from PENDING)" if ok
                               else "pending", what,
                               "" if ok else ": " + detail[:300]))
        elif ok:
            self.passed += 1
            if self.verbose:
                print("ok   " + what)
        else:
            self.failed += 1
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


def start_fixture(exe, env, tmp, name, timeout=30):
    """The fixture exe running, stopped in mv_fixture_done (MV_WAIT),
    its facts in tmp/NAME.facts: (process, facts path), process None if
    it did not get ready in time.  The caller kills the process."""
    ready = os.path.join(tmp, name + ".ready")
    facts = os.path.join(tmp, name + ".facts")
    process = subprocess.Popen(
        [exe], env=dict(env, MV_WAIT="1", MV_READY=ready, MV_FACTS=facts),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while not os.path.exists(ready) and time.time() < deadline:
        time.sleep(0.05)
    if not os.path.exists(ready):
        process.kill()
        process.wait()
        return None, facts
    return process, facts


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
