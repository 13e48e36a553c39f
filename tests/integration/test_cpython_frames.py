"""The running Python frame's live value stack (issue 16), against
CPython.

Usage: BUILD=build python3 tests/integration/test_cpython_frames.py

CPython 3.11 does not save the running frame's stacktop (-1): the top
of its value stack is the C local stack_pointer of
_PyEval_EvalFrameDefault, in a register at -O2.  The shipped model's
frames rule says so (running _PyEval_EvalFrameDefault.stack_pointer):
memview unwinds each thread by its CFI and reads the variable where
its DWARF location list puts it at that frame's pc.

A Python program (PROG) under Debian's python3.11-dbg, at module level
and again inside a function, first pushes a dict's value (held) and a
new garbage object (popped: an instance that holds itself, gc
disabled) deep on its value stack and pops them (a call with many
arguments), then stops itself in the middle of an expression whose
value stack holds two live temporaries, each held by nothing else: a
new list at its bottom (temp) and, at its top, the argument of the C
call it stops in (top: os.kill's signal, an int subclass instance).
The program writes their ids, the held value's Python path, and
whether CPython's eval of that path is the object.  Inside a function,
a second thread does the same in its own frame (popped2, temp2) and
blocks in a C call mid-expression (a Lock's acquire): every thread is
unwound.
memview, with the model, in the CLI, gdb and lldb on a core (gcore),
and on the live stopped process (--pid, gdb and lldb attached):
- path-to held ends at __main__.sessions['k'] (the script's path);
- path-to popped finds no path: the stale slots hold nothing;
- path-to temp and top: one pointer, from the frame's mapping (its
  live slots, the top one included); on a core, top's slot is the one
  below gdb's `p stack_pointer` in that frame;
- referrers of popped: the words of the frame's mapping pointing at it
  (the stale slots) are no edge of the model, and there are some;
- path-to popped2 finds no path, path-to temp2 one pointer from the
  second thread's frame's mapping;
- no note says the running frames' top could not be read.
And 121 eval loops nested in C (a class whose __init__ instantiates it),
each running frame with a popped object in a stale slot: none is
reached through the frames' mapping, no note.
Hostile input: a core whose threads' registers are garbage (rip in no
objfile, rsp on the heap or past its mapping), an executable whose
.eh_frame_hdr and .eh_frame are partly garbage: path-to still answers,
and says so in a note where the registers could not be used.
Without the running clause (a copy of the model without it), path-to
held and popped answer through the stale slots (the bug this fixes);
with a variable optimized out at that pc the answer falls
back to the same and one note says why (opcode, which gdb too calls
<optimized out> in that frame).
With PYTHONMALLOC=malloc and pymalloc.
Prints "cpython_frames: N passed, M failed".
"""

import json
import os
import random
import shlex
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import run as R  # noqa: E402
from mvcheck import Tally  # noqa: E402
import test_cpython_model as CM  # noqa: E402

PYTHON = CM.PYTHON
TYPES = os.path.join(R.ROOT, "types", "cpython-3.11.types")
RUNNING = " running _PyEval_EvalFrameDefault.stack_pointer"
T = Tally("cpython_frames")
report = T.report

PROG = r"""
import gc, json, os, signal, sys

class Victim:
    pass

class Sig(int):
    pass

FACTS = {}
sessions = {"k": [7000001, 7000002, 7000003]}

def deep(*a):
    return len(a)

def temp_list():
    t = [7100000 + i for i in range(30)]
    FACTS["temp"] = id(t)
    FACTS["frame"] = sys._getframe(1).f_code.co_name   # <module>, work
    return t

def noted():
    # The top of the value stack while os.kill runs; the facts file.
    s = Sig(signal.SIGSTOP)
    FACTS["top"] = id(s)
    FACTS["evaluates"] = eval(FACTS["path"], {
        "__main__": sys.modules["__main__"]}) is sessions["k"]
    with open(sys.argv[1], "w") as f:
        json.dump(FACTS, f)
    return s

def popped():
    v = Victim()
    v.me = v
    FACTS["popped"] = id(v)
    return v

FACTS["held"] = id(sessions["k"])
FACTS["path"] = "__main__.sessions['k']"
gc.disable()

def work():
    deep(0, 1, 2, 3, 4, 5, 6, 7, 8, sessions["k"], popped())
    keep = [temp_list(), os.kill(os.getpid(), noted())]

def noted_in(key, value):
    FACTS[key] = id(value)
    FACTS["frame2"] = sys._getframe(1).f_code.co_name  # worker
    return value

def worker():
    # Another thread's running frame, stopped in a C call mid-expression
    # (LOCK.acquire, which main holds) with a popped object above it.
    v = Victim()
    v.me = v
    deep(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, noted_in("popped2", v))
    del v
    keep = [noted_in("temp2", [7200000 + i for i in range(30)]),
            ready.set(), LOCK.acquire()]

def settle():
    # Until the worker is in LOCK.acquire, the CALL at its end (a fixed
    # sleep was not always enough on a loaded machine): its frame, value
    # stack included, is then what the checks expect.
    import dis, threading, time
    ins = list(dis.get_instructions(worker))
    at = [i.argval for i in ins].index("acquire")
    call = next(i.offset for i in ins[at:] if i.opname == "CALL")
    for _ in range(6000):
        frames = sys._current_frames()
        frames.pop(threading.get_ident())
        if any(f.f_code is worker.__code__ and f.f_lasti == call
               for f in frames.values()):
            break
        time.sleep(0.01)

if WHERE == "module":
    deep(0, 1, 2, 3, 4, 5, 6, 7, 8, sessions["k"], popped())
    keep = [temp_list(), os.kill(os.getpid(), noted())]
else:
    import threading, time
    LOCK = threading.Lock()
    LOCK.acquire()
    ready = threading.Event()
    threading.Thread(target=worker, daemon=True).start()
    ready.wait()
    settle()
    work()
"""

# Eval loops nested in C: each class instantiation runs __init__ in an
# eval loop of its own, so every level's frame is a running one.
NESTED = r"""
import gc, json, os, signal, sys

class Victim:
    pass

FACTS = {"popped": []}

def deep(*a):
    return len(a)

def popped():
    v = Victim()
    v.me = v
    FACTS["popped"].append(id(v))
    return v

def noted():
    with open(sys.argv[1], "w") as f:
        json.dump(FACTS, f)
    return signal.SIGSTOP

class Nest:
    def __init__(self, n):
        deep(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, popped())
        self.child = [n, Nest(n - 1) if n else os.kill(os.getpid(),
                                                       noted())]

gc.disable()
Nest(LEVELS)
"""
LEVELS = 120

KEYS = ("held", "popped", "temp", "top")
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")
PR_REG = 112            # offset of pr_reg in x86-64's struct prstatus
RSP, RIP = 19, 16       # in struct user_regs_struct


def program(where):
    return PROG.replace("WHERE", repr(where))


def commands(facts, extra=""):
    """path-to of each of KEYS, referrers of popped and of temp; in a
    function, path-to of the second thread's popped2 and temp2."""
    return (["path-to (PyObject *)0x%x --json%s" % (facts[k], extra)
             for k in KEYS] +
            ["referrers (PyObject *)0x%x --json%s" % (facts[k], extra)
             for k in ("popped", "temp")] +
            ["path-to (PyObject *)0x%x --json%s" % (facts[k], extra)
             for k in ("popped2", "temp2") if k in facts])


def stack_slot(facts, key, slot):
    """The name of a value stack's slot: its function, as CPython names
    the frame (co_name), and its place from the bottom."""
    return "%s:[stack %d]" % (facts["frame2" if key == "temp2" else
                                    "frame"], slot)


def check_thread(facts, outs):
    """The second thread's frame: popped2 unreachable, temp2 held, from
    the bottom of its value stack (the first value of its statement)."""
    if "popped2" not in facts:
        return [] if len(outs) == 6 else ["%d answers" % len(outs)]
    if len(outs) != 8:
        return ["%d answers" % len(outs)]
    popped2, temp2 = outs[6:]
    problems = []
    if popped2.get("found"):
        problems.append("popped2 (thread 2): reached through %s" %
                        [h["root"] for h in popped2["chain"][:1]])
    chain = temp2.get("chain") or []
    if len(chain) != 1 or chain[0]["kind"] != "mapping":
        problems.append("temp2 (thread 2, a live temporary): not held by "
                        "the frame's mapping: %s" % chain[:2])
    elif chain[0]["expression"] != stack_slot(facts, "temp2", 0):
        problems.append("temp2 named %r, not %r" % (
            chain[0]["expression"], stack_slot(facts, "temp2", 0)))
    return problems


def check_names(facts, temp, top, temp_refs, depth):
    """The live temporaries named as their frame's value stack slots:
    temp at its bottom (the first value of the statement: the stack is
    empty at a statement's start), top at gdb's depth - 1 where gdb read
    it (stack_pointer - localsplus - co_nlocalsplus); in path-to and in
    referrers."""
    problems = []
    want = {"temp": stack_slot(facts, "temp", 0)}
    if depth is not None:
        want["top"] = stack_slot(facts, "top", depth - 1)
    for name, d in (("temp", temp), ("top", top)):
        chain = d.get("chain") or [{}]
        if name in want and chain[0].get("expression") != want[name]:
            problems.append("%s named %r, not %r" % (
                name, chain[0].get("expression"), want[name]))
    named = [(r.get("model") or {}).get("name")
             for r in temp_refs.get("referrers", [])
             if (r.get("model") or {}).get("edge")]
    if named != [want["temp"]]:
        problems.append("referrers of temp: edges named %s, not [%r]"
                        % (named, want["temp"]))
    return problems


def check_paths(facts, outs, depth=None):
    """outs: the JSON answers of commands(facts); depth: gdb's count of
    the running frame's value stack, where known."""
    held, popped, temp, top, refs, temp_refs = outs[:6]
    problems = check_thread(facts, outs)
    chain = held.get("chain") or []
    last = chain[-1]["expression"] if chain else None
    if not facts["evaluates"]:
        problems.append("CPython: %s is not the object" % facts["path"])
    if last != facts["path"]:
        problems.append("held: path-to ends at %r, the script says %r"
                        % (last, facts["path"]))
    if popped.get("found"):
        problems.append("popped: reached through %s" %
                        [h["root"] for h in popped["chain"][:1]])
    for name, d in (("temp", temp), ("top", top)):
        chain = d.get("chain") or []
        if len(chain) != 1 or chain[0]["kind"] != "mapping":
            problems.append("%s (a live temporary): not held by the "
                            "frame's mapping: %s" % (name, chain[:2]))
    for d in (held, popped, temp, top):
        problems += ["a note: %s" % n for n in d.get("notes", [])
                     if "running frames" in n]
    stale = [r for r in refs.get("referrers", [])
             if r["kind"] == "mapping"]
    if not stale:
        problems.append("popped: no word of a mapping points at it (the "
                        "stale slot the test needs)")
    edges = [r["holder"] for r in stale if (r.get("model") or {}).get(
        "edge")]
    if edges:
        problems.append("popped: stale slots %s taken as edges" % edges)
    return problems + check_names(facts, temp, top, temp_refs, depth)


def outputs(records):
    outs = []
    for r in records or []:
        try:
            outs.append(json.loads(r["output"]) if r["succeeded"] else {})
        except ValueError:
            outs.append({})
    return outs


def fronts(runs):
    """{front end: its records} of R.three's runs."""
    got = {}
    for front, data in runs.items():
        got[front] = data if front == "cli" else (
            data["cases"] if isinstance(data, dict) else None)
    return got


def gdb_stack_pointer(core):
    """gdb's stack_pointer in the innermost _PyEval_EvalFrameDefault of
    the core's thread and the values on that frame's value stack
    (stack_pointer - localsplus - co_nlocalsplus), or Nones."""
    rc, out, err = R.run(["gdb", "-nx", "-batch", "-q", PYTHON, core,
                          "-ex", "frame function _PyEval_EvalFrameDefault",
                          "-ex", "printf \"sp=%lx\\n\", stack_pointer",
                          "-ex", "printf \"depth=%ld\\n\", stack_pointer "
                          "- frame->localsplus - "
                          "frame->f_code->co_nlocalsplus"])
    got = {}
    for line in out.splitlines():
        if line.startswith(("sp=", "depth=")):
            k, v = line.split("=", 1)
            got[k] = int(v, 16 if k == "sp" else 10)
    return got.get("sp"), got.get("depth")


def check_three(label, facts, runs, sp=None, depth=None):
    for front, records in fronts(runs).items():
        outs = outputs(records)
        if len(outs) < 5:
            report("%s: %s ran" % (label, front),
                   ["%s records" % (len(outs) if records else None)])
            continue
        problems = check_paths(facts, outs, depth)
        top = (outs[3].get("chain") or [{}])[0].get("holder")
        if sp is not None and top != "0x%x" % (sp - 8):
            problems.append("top held at %s, gdb's stack_pointer is 0x%x"
                            % (top, sp))
        report("%s: %s: held named, popped unreachable, live temporaries "
               "held, named as stack slots%s" % (
                   label, front, ", the top at gdb's stack_pointer - 1"
                   if sp else ""), problems)


def without_running(tmp, core, facts, label):
    """The bug without the clause; the fallback, with its note, when the
    variable is optimized out at the frame's pc."""
    with open(TYPES) as f:
        text = f.read()
    if RUNNING not in text:
        report("%s: the model has the running clause" % label, ["no"])
        return
    cases = (("without the running clause", ""),
             ("an optimized-out variable", " running "
              "_PyEval_EvalFrameDefault.opcode"))
    for what, clause in cases:
        path = os.path.join(tmp, "m%d.types" % len(clause))
        with open(path, "w") as f:
            f.write(text.replace(RUNNING, clause))
        outs = []
        notes = []
        cmds = commands(facts, " --types " + shlex.quote(path))
        for c in cmds[:2] + cmds[6:7]:
            rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe",
                                  PYTHON] + shlex.split(c))
            d = json.loads(out) if rc == 0 else {}
            outs.append(d)
            notes += d.get("notes", [])
        held, popped = outs[:2]
        problems = []
        for name, d in zip(("popped", "popped2"), outs[1:]):
            if not d.get("found"):
                problems.append("%s: not reached (the stale slot is "
                                "gone)" % name)
        last = (held.get("chain") or [{}])[-1].get("expression")
        if last == facts["path"]:
            problems.append("held: named %r, not through a stale slot"
                            % last)
        note = [n for n in notes if "opcode" in n and
                "optimized out" in n]
        if clause and len(set(note)) != 1:
            problems.append("not one note on opcode: %s" % notes)
        if not clause and any("running" in n for n in notes):
            problems.append("a note: %s" % notes)
        report("%s: %s: the stale slots answer (the old bug)%s"
               % (label, what, ", one note" if clause else ""), problems)


def prstatus_regs(data):
    """The file offsets of each thread's registers in a core."""
    eh = EHDR.unpack_from(data)
    found = []
    for i in range(eh[10]):
        ph = PHDR.unpack_from(data, eh[5] + i * eh[9])
        if ph[0] != 4:  # PT_NOTE
            continue
        off, end = ph[2], ph[2] + ph[5]
        while off + 12 <= end:
            namesz, descsz, kind = struct.unpack_from("<III", data, off)
            desc = off + 12 + (namesz + 3) // 4 * 4
            if kind == 1:  # NT_PRSTATUS
                found.append(desc + PR_REG)
            off = desc + (descsz + 3) // 4 * 4
    return found


def section(data, name):
    """(offset, size) of an ELF file's section."""
    eh = EHDR.unpack_from(data)
    shoff, shentsize, shnum, shstrndx = eh[6], eh[11], eh[12], eh[13]
    strs = SHDR.unpack_from(data, shoff + shstrndx * shentsize)[4]
    for i in range(shnum):
        sh = SHDR.unpack_from(data, shoff + i * shentsize)
        end = data.index(b"\0", strs + sh[0])
        if data[strs + sh[0]:end] == name:
            return sh[4], sh[5]
    return None


def check_hostile(tmp, core, facts, label):
    """Garbage registers and garbage CFI: path-to answers at once, never
    a crash; unreadable registers say so in the note."""
    with open(core, "rb") as f:
        data = bytearray(f.read())
    regs = prstatus_regs(data)
    heap = facts["held"] & ~0xfff
    cases = (("rip in no objfile", {RIP: 0x4141414141414141}, True),
             ("rsp on the heap", {RSP: heap}, False),
             ("rsp past its mapping", {RSP: 0x7ffffffff000}, True))
    for what, patch, noted in cases:
        bad = bytearray(data)
        for at in regs:
            for reg, value in patch.items():
                struct.pack_into("<Q", bad, at + 8 * reg, value)
        path = os.path.join(tmp, "damaged.core")
        with open(path, "wb") as f:
            f.write(bad)
        start = time.time()
        rc, out, err = R.run([R.MEMVIEW, "--core", path, "--exe", PYTHON,
                              "path-to", "(PyObject *)0x%x" % facts["held"],
                              "--json"])
        problems = [] if rc == 0 else ["rc %s: %s" % (rc, err[-300:])]
        notes = json.loads(out).get("notes", []) if rc == 0 else []
        if noted and not any("could not be read on thread" in n
                             for n in notes):
            problems.append("no note: %s" % notes)
        if time.time() - start > 60:
            problems.append("took %.0f s" % (time.time() - start))
        report("%s: registers: %s: an answer%s" %
               (label, what, ", a note" if noted else ""), problems)
    # .eh_frame_hdr's table and .eh_frame with every 5th byte garbage.
    with open(PYTHON, "rb") as f:
        exe = bytearray(f.read())
    rnd = random.Random(16)
    for name in (b".eh_frame_hdr", b".eh_frame"):
        off, size = section(exe, name)
        for i in range(off + 12, off + size, 5):
            exe[i] = rnd.randrange(256)
    path = os.path.join(tmp, "python3.11d")
    with open(path, "wb") as f:
        f.write(exe)
    rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe", path,
                          "path-to", "(PyObject *)0x%x" % facts["held"],
                          "--json"])
    d = json.loads(out) if rc == 0 else {}
    report("%s: garbage CFI: an answer, a note" % label,
           [] if d.get("found") and any(
               "could not be read on thread" in n
               for n in d.get("notes", [])) else
           ["rc %s: %s %s" % (rc, out[-300:], err[-300:])])
    os.unlink(path)


def check_core(tmp, allocator, where):
    label = "%s, %s" % (allocator, where)
    core, facts_path = CM.python_core(tmp, allocator, program(where),
                                      "frames_" + where)
    if not core:
        report("%s: stopped itself and was cored" % label, ["no core"])
        return
    with open(facts_path) as f:
        facts = json.load(f)
    runs = R.three(["--core", core, "--exe", PYTHON],
                   ["file " + PYTHON, "core " + core],
                   {"MV_EXE": PYTHON, "MV_CORE": core}, commands(facts))
    sp, depth = gdb_stack_pointer(core)
    if sp is None or depth is None:
        report("%s: gdb reads stack_pointer" % label, ["no"])
    check_three("core, " + label, facts, runs, sp, depth)
    without_running(tmp, core, facts, "core, " + label)
    if allocator == "malloc" and where == "function":
        check_hostile(tmp, core, facts, "core, " + label)


def check_nested(tmp, types=()):
    """LEVELS + 1 eval loops on one C stack, each with a popped object in
    a stale slot of its running frame: none is reached through the
    frames' mapping (a dead C local on the C stack may still hold one:
    the C stack is a root as valgrind's), no note."""
    core, facts_path = CM.python_core(
        tmp, "malloc", NESTED.replace("LEVELS", str(LEVELS)), "nested")
    if not core:
        report("nested eval loops: stopped itself and was cored", ["no"])
        return
    with open(facts_path) as f:
        popped = json.load(f)["popped"]
    types = list(types)
    problems = [] if len(popped) == LEVELS + 1 else [
        "%d popped objects" % len(popped)]
    for a in popped[::10] + popped[-3:]:  # outermost to innermost
        rc, out, err = R.run([R.MEMVIEW, "--core", core, "--exe", PYTHON,
                              "path-to", "(PyObject *)0x%x" % a, "--json"]
                             + types)
        d = json.loads(out) if rc == 0 else {}
        chain = d.get("chain") or []
        if rc != 0 or (chain and chain[0]["kind"] == "mapping"):
            problems.append("0x%x: %s %s" % (a, chain[:1], err[-200:]))
        problems += ["a note: %s" % n for n in d.get("notes", [])
                     if "running frames" in n]
    report("nested eval loops (%d): no popped object reached through the "
           "frames' mapping, no note" % (LEVELS + 1), problems)


def stopped_python(tmp, where):
    """A python3.11-dbg running PROG stopped at its SIGSTOP: (Popen,
    facts) or (None, None)."""
    prog = os.path.join(tmp, "live_%s.py" % where)
    facts = prog + ".facts"
    with open(prog, "w") as f:
        f.write(program(where))
    env = dict(os.environ, PYTHONMALLOC="malloc")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.Popen([PYTHON, prog, facts], env=env)
    for _ in range(600):
        if CM.stopped(p.pid) or p.poll() is not None:
            break
        time.sleep(0.05)
    if not CM.stopped(p.pid):
        p.kill()
        p.wait()
        return None, None
    with open(facts) as f:
        return p, json.load(f)


def check_live(tmp, where):
    """The CLI (--pid), gdb and lldb attached to a stopped process, each
    to its own (a debugger's detach lets the process go on)."""
    label = "live, malloc, %s" % where
    for front in ("cli", "gdb", "lldb"):
        p, facts = stopped_python(tmp, where)
        if not p:
            report("%s: %s: python stopped itself" % (label, front), ["no"])
            continue
        try:
            named = [R.debugger_name(c) for c in commands(facts)]
            if front == "cli":
                records, _ = R.cli(["--pid", str(p.pid)], commands(facts))
            elif front == "gdb":
                data, _ = R.gdb(["file " + PYTHON, "attach %d" % p.pid],
                                named, ["detach"])
                records = data["cases"] if isinstance(data, dict) else None
            else:
                data, _ = R.lldb({"MV_EXE": PYTHON, "MV_PID": str(p.pid)},
                                 named)
                records = data["cases"] if isinstance(data, dict) else None
        finally:
            p.kill()
            p.wait()
        outs = outputs(records)
        if len(outs) < 5:
            report("%s: %s ran" % (label, front), ["no records"])
            continue
        report("%s: %s: held named, popped unreachable, live temporaries "
               "held" % (label, front), check_paths(facts, outs))


def main():
    if not os.path.exists(PYTHON):
        print("cpython_frames: needs %s: apt-get install python3.11-dbg"
              % PYTHON)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for allocator in ("malloc", "pymalloc"):
            for where in ("module", "function"):
                check_core(tmp, allocator, where)
        check_nested(tmp)
        for where in ("module", "function"):
            check_live(tmp, where)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
