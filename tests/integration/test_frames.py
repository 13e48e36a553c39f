"""Stack referrers named by their frame and local variable (issue 18.8).

tests/fixtures/stackvars.c holds heap blocks only in locals and
parameters of several frames of two threads (three recursive frames of
middle() among them); the blocks' addresses are its own facts.  It is
cored as built by the Makefile (-O0) and again built here at -O2.

For each block, `referrers --json` gives its stack holders with a
`frame` object (function, variable, offset).  The oracle is gdb on the
same core: its own unwinder and DWARF, asked through its Python API for
every frame of every thread (the stack pointer at each frame, the
function, and the address and size of each argument and local that
lives in memory).  A holder inside a variable gdb knows must be named
by that function and variable (and the offset into it); any other
holder by the function of the frame gdb says it lies in, or not at all
(no call found above it).  At -O0 every block's holder in a local must
be named by its variable.  Then the text in the CLI, gdb and lldb says
the same ("in middle: pr+8"), and live (--pid) gives the CLI's JSON.

Usage: BUILD=build python3 tests/integration/test_frames.py
Ends with "frames: N passed, M failed"."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from mvcheck import Tally, missing, start_fixture  # noqa: E402
from mvfacts import read_facts  # noqa: E402

ROOT = run.ROOT
BUILD = run.BUILD
SRC = os.path.join(ROOT, "tests", "fixtures", "stackvars.c")
T = Tally("frames")

# gdb's view of every frame, as JSON on stdout (gdb -batch -x this).
GDB_FRAMES = r'''
import gdb, json
out = []
for inf in gdb.inferiors():
    for th in inf.threads():
        th.switch()
        f = gdb.newest_frame()
        frames = []
        while f is not None:
            if f.type() != gdb.INLINE_FRAME:
                fn = f.function()
                name = fn.name if fn else f.name()
                vars_ = []
                try:
                    b = f.block()
                except RuntimeError:
                    b = None
                while b is not None:
                    for s in b:
                        if not (s.is_variable or s.is_argument):
                            continue
                        try:
                            v = s.value(f)
                            a = v.address
                        except Exception:
                            continue
                        if a is None:
                            continue
                        vars_.append([s.name, int(a), v.type.sizeof])
                    if b.function is not None:
                        break
                    b = b.superblock
                frames.append({"sp": int(f.read_register("sp")),
                               "function": name, "vars": vars_})
            f = f.older()
        out.append({"tid": th.ptid[1], "frames": frames})
print("MV-FRAMES " + json.dumps(out))
'''


def gdb_frames(exe, core):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(GDB_FRAMES)
        script = f.name
    try:
        p = subprocess.run(["gdb", "-nx", "-batch", "-q",
                            "-ex", "set debuginfod enabled off",
                            "-ex", "file " + exe, "-ex", "core-file " + core,
                            "-x", script], capture_output=True, text=True,
                           timeout=120)
    finally:
        os.unlink(script)
    for line in p.stdout.splitlines():
        if line.startswith("MV-FRAMES "):
            return json.loads(line[len("MV-FRAMES "):])
    raise SystemExit("frames: gdb gave no frames: %s" % p.stderr[-300:])


def expected(frames, tid, holder):
    """(function, variable, offset) gdb gives the holder; variable None
    when it lies in a frame but in no variable gdb knows; None when gdb
    puts it in no frame."""
    for th in frames:
        if th["tid"] != tid:
            continue
        fs = th["frames"]
        for i, fr in enumerate(fs):
            for name, addr, size in fr["vars"]:
                if addr <= holder < addr + size:
                    return fr["function"], name, holder - addr
        for i, fr in enumerate(fs):
            top = fs[i + 1]["sp"] if i + 1 < len(fs) else None
            if holder >= fr["sp"] and (top is None or holder < top):
                return fr["function"], None, 0
    return None


def memview(*args):
    p = subprocess.run([os.path.join(BUILD, "memview")] + list(args),
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check_core(label, exe, core, facts, strict):
    frames = gdb_frames(exe, core)
    texts = {}
    for key, value in sorted(facts.items()):
        if not key.startswith("addr "):
            continue
        block = key[5:]
        rc, out, err = memview("--core", core, "--exe", exe, "referrers",
                               "--json", value)
        if rc != 0:
            T.check("%s: referrers %s" % (label, block), False, err)
            continue
        refs = [r for r in json.loads(out)["referrers"]
                if r["kind"] == "stack"]
        problems = []
        named_var = False
        for r in refs:
            holder = int(r["holder"], 16)
            want = expected(frames, r["thread"], holder)
            got = r.get("frame")
            got_t = None if got is None else (
                got["function"], got["variable"],
                got["offset"] if got["variable"] else 0)
            if want is not None and want[1] is not None:
                if got_t != want:
                    problems.append("%#x: %s, gdb %s" % (holder, got_t, want))
                else:
                    named_var = True
            elif got_t is not None and (want is None or
                                        got_t != (want[0], None, 0)):
                problems.append("%#x: %s, gdb %s" % (holder, got_t, want))
        if not refs:
            problems.append("no stack referrer")
        if strict and not named_var:
            problems.append("no holder named by its variable")
        T.check("%s: %s's stack holders named as gdb's frames say (%s)"
                % (label, block, ", ".join(
                    "%s: %s" % (r["frame"]["function"],
                                r["frame"]["variable"])
                    for r in refs if r.get("frame"))),
                not problems, "; ".join(problems))
        rc, out, err = memview("--core", core, "--exe", exe, "referrers",
                               value)
        texts[value] = out
    return texts


def check_debuggers(label, exe, core, texts):
    lines = ["mv-referrers " + a for a in sorted(texts)]
    gdb, raw = run.gdb(["file " + exe, "core-file " + core], lines)
    lldb, lraw = run.lldb({"MV_EXE": exe, "MV_CORE": core}, lines)
    for front, data, raw in (("gdb", gdb, raw), ("lldb", lldb, lraw)):
        if data is None:
            T.check("%s: %s ran" % (label, front), False, raw)
            continue
        got = [c["output"] for c in data["cases"]]
        want = [texts[a] for a in sorted(texts)]
        T.check("%s: %s's referrers text = the CLI's (frame names)"
                % (label, front), got == want,
                [(g, w) for g, w in zip(got, want) if g != w][:2])


def check_live(exe):
    """The -O0 fixture live: --pid gives what its core gives."""
    with tempfile.TemporaryDirectory() as tmp:
        p, facts_path = start_fixture(exe, os.environ, tmp, "frames")
        if not p:
            T.check("live --pid: the fixture reaches its stop", False)
            return
        try:
            facts = read_facts(facts_path)
            problems = []
            for key in ("addr leaf.mine", "addr main.in_main",
                        "addr middle2.pr"):
                rc, out, err = memview("--pid", str(p.pid), "referrers",
                                       "--json", facts[key])
                names = [(r["frame"] or {}).get("variable")
                         for r in json.loads(out)["referrers"]
                         if r["kind"] == "stack"] if rc == 0 else err
                want = key.split(".")[1]
                if want not in (names or []):
                    problems.append("%s: %s" % (key, names))
            T.check("live --pid: locals named (leaf: mine, main: in_main, "
                    "middle: pr)", not problems, "; ".join(problems))
        finally:
            p.kill()
            p.wait()


def main():
    exe = os.path.join(BUILD, "fixtures", "stackvars")
    core = os.path.join(BUILD, "cores", "stackvars.core")
    if missing("frames", [exe, core]):
        return 1
    facts = read_facts(os.path.join(BUILD, "cores", "stackvars.facts"))
    texts = check_core("-O0", exe, core, facts, True)
    check_debuggers("-O0", exe, core, texts)
    check_live(exe)
    # The same program as it ships: -O2.
    d = os.path.join(BUILD, "frames")
    os.makedirs(d, exist_ok=True)
    exe2 = os.path.join(d, "stackvars_o2")
    core2 = os.path.join(d, "stackvars_o2.core")
    facts2 = os.path.join(d, "stackvars_o2.facts")
    subprocess.run(["cc", "-std=gnu11", "-g", "-O2", "-I",
                    os.path.join(ROOT, "tests", "fixtures"), "-o", exe2,
                    SRC, "-lpthread"], check=True)
    subprocess.run([os.path.join(ROOT, "tools", "make-core.sh"), exe2,
                    core2, facts2], check=True)
    texts2 = check_core("-O2", exe2, core2, read_facts(facts2), False)
    check_debuggers("-O2", exe2, core2, texts2)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
