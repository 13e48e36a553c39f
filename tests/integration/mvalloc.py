"""What the allocator tests (test_mimalloc.py, test_tcmalloc.py,
test_pymalloc.py) share: memview's JSON answers, a core's bytes by
address (to damage copies of it), and the command lines run in real gdb
and lldb through tests/integration/*_driver.py."""
import json
import os
import struct
import subprocess
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def memview_json(memview, target, words):
    """memview's JSON answer (exit 0 or 1), or (None, why not)."""
    r = subprocess.run([memview] + target + words, capture_output=True,
                       text=True, timeout=600)
    if r.returncode not in (0, 1) or not r.stdout.startswith("{"):
        return None, (r.stderr or r.stdout).strip()[-400:]
    try:
        return json.loads(r.stdout), None
    except ValueError:
        return None, "not JSON: " + r.stdout[:300]


class CoreFile:
    """A core's bytes by virtual address (its PT_LOAD segments)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        phoff, = struct.unpack_from("<Q", self.data, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 54)
        self.loads = []
        for i in range(phnum):
            (typ, _, off, vaddr, _, filesz, _,
             _) = struct.unpack_from("<IIQQQQQQ", self.data,
                                     phoff + i * phentsize)
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


def debugger_argv(front):
    """gdb or lldb in batch mode with the plugin and the test driver."""
    if front == "gdb":
        return ["gdb", "-nx", "-batch", "-q",
                "-ex", "set debuginfod enabled off",
                "-ex", "source %s/gdb/memview.py" % ROOT,
                "-ex", "source %s/tests/integration/gdb_driver.py" % ROOT]
    return ["lldb", "-b", "--no-lldbinit",
            "-o", "command script import %s/lldb/memview.py" % ROOT,
            "-o", "command script import %s/tests/integration/"
            "lldb_driver.py" % ROOT]


def debugger(front, env, exe, core, cases, pid=None):
    """The command lines in real gdb or lldb on the core (or attached to
    pid): their JSON answers (None where one failed) and the records,
    or (None, why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(env, MV_CASES=json.dumps(cases), MV_OUT=out,
                   MV_TEARDOWN="[]")
        if front == "gdb":
            env["MV_SETUP"] = json.dumps(
                ["file " + exe, "attach %d" % pid if pid
                 else "core-file " + core])
            if pid:
                env["MV_TEARDOWN"] = json.dumps(["detach"])
        else:
            env.update(MV_EXE=exe)
            env.update({"MV_PID": str(pid)} if pid else {"MV_CORE": core})
        r = subprocess.run(debugger_argv(front), env=env,
                           capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            with open(out) as f:
                recs = json.load(f)["cases"]
        except (OSError, ValueError, KeyError):
            return None, "no record: " + (r.stdout + r.stderr)[-400:]
        res = []
        for rec in recs:
            try:
                res.append(json.loads(rec["output"]) if rec["succeeded"]
                           else None)
            except ValueError:
                res.append(None)
        return res, recs


def debugger_checks(check, env, exe, core, h, g, numbers, who, pid=None):
    """mv-heap and mv-gc in gdb and lldb give what numbers(heap, gc)
    picks from the CLI's answers h and g."""
    for front in ("gdb", "lldb"):
        res, recs = debugger(front, env, exe, core,
                             ["mv-heap --json", "mv-gc --json"], pid)
        ok = res is not None and len(res) == 2 and None not in res
        check(ok and numbers(res[0], res[1]) == numbers(h, g),
              "%s (%s): mv-heap and mv-gc give the CLI's numbers" %
              (who, front),
              recs if not ok else [x for x in zip(numbers(res[0], res[1]),
                                                  numbers(h, g))
                                   if x[0] != x[1]][:2])
