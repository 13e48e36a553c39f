#!/usr/bin/python3
"""gc's root set against valgrind memcheck, block by block, on programs
written the way users write them (issue 14).

Each fixture (roots_threads.c, roots_heap.c, roots_cxx.cc; the key's
format is in tests/fixtures/leakkey.h) records every block it allocates
with the category memcheck's rules give it, and under valgrind asks for
a leak check at its stop point, then lists each loss record's blocks
(block_list).  For each fixture:

1. valgrind against the key, block by block (addresses of the valgrind
   run's own key): with --leak-check-heuristics=none, and for the C++
   fixture also with valgrind's default heuristics.  The key is the
   truth: a disagreement here means the fixture is wrong, not memview.
2. memview gc --json --blocks --show-reachable on the fixture's core
   (taken by gdb at the stop point) against the core's key, one check
   per case (tag); nothing outside the key definitely or indirectly
   lost; no heap note on these healthy heaps; the fencepost is no block.
3. the same on the stopped live process (memview --pid); then both in
   real gdb and lldb (mv-gc through tests/integration/*_driver.py);
   then remote: the fixture launched by gdbserver (gdb `target remote`)
   and by lldb-server (lldb `platform select remote-linux` +
   `gdb-remote`) on 127.0.0.1, run to its stop, against the key that
   run wrote: six front ends, one answer key.
4. python3.11-dbg in a healthy state, blocked on its stdin: memcheck's
   leak check there (vgdb) against memview gc on its core (gdb's gcore
   at the same point), definitely and indirectly lost blocks, with
   PYTHONMALLOC=malloc and with Python's default allocator (pymalloc
   natively; CPython's valgrind support makes it use malloc under
   valgrind, which changes no lost count; natively memview models
   pymalloc's arenas as heaps: test_pymalloc.py).

Expected values come from the programs and from valgrind, never from
memview.  Prints "ok"/"FAIL" per check and "roots: N passed, M failed".
"""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from mvalloc import ABS_BUILD, DEBUGGER_ENV, driver_records
from mvcheck import Tally, free_port, missing, start_fixture, wait_listening
from mvfacts import read_block_key

BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
FIXTURES = ("roots_threads", "roots_heap", "roots_cxx")
T = Tally("roots", verbose=True, detail_max=600)
GC = ["gc", "--json", "--blocks", "--show-reachable", "--max-blocks", "0"]
LOST = ("definitely_lost", "indirectly_lost")
FRONTS = ("gdb", "lldb")  # besides the CLI


def check(ok, what, detail=""):
    T.check(what, ok, detail)


def read_key(path):
    """(blocks, facts): blocks as dicts addr, size, tag, expect,
    expect_default; facts the other "key value" lines."""
    words, facts = read_block_key(path)
    blocks = [{"addr": int(w[0], 16), "size": int(w[1]), "tag": w[2],
               "expect": w[3],
               "expect_default": w[4][len("default:"):] if len(w) > 4
               else w[3]} for w in words]
    return blocks, facts


VG_RECORD = re.compile(r"are (definitely lost|indirectly lost|possibly lost|"
                       r"still reachable) in loss record \d+ of \d+")
VG_BLOCK = re.compile(r"^==\d+== (0x[0-9A-Fa-f]+)\[(\d+)\]( \(found via heuristic \w+\))?$")


def valgrind(cmd, tmp, name, heuristics, env=None):
    """Runs cmd under memcheck; returns ({addr: kind} from the program's
    block_list at its stop point, the log's text)."""
    log = os.path.join(tmp, name + ".vg.log")
    args = ["valgrind", "--leak-check=full", "--show-leak-kinds=all",
            "--log-file=" + log]
    if heuristics is not None:
        args.append("--leak-check-heuristics=" + heuristics)
    subprocess.run(args + cmd, capture_output=True, timeout=600,
                   env=env or os.environ)
    kinds, kind = {}, None
    with open(log) as f:
        text = f.read()
    for line in text.splitlines():
        m = VG_RECORD.search(line)
        if m:
            kind = m.group(1).replace(" ", "_")
            continue
        m = VG_BLOCK.match(line)
        if m and kind:
            kinds.setdefault(int(m.group(1), 16), kind)
    return kinds, text


def by_tag(blocks, got, field, who):
    """One check per case: every block of the tag in its category."""
    tags = collections.OrderedDict()
    for b in blocks:
        tags.setdefault(b["tag"], []).append(b)
    for tag, bs in tags.items():
        wrong = ["0x%x (%d bytes): expected %s, got %s" % (
            b["addr"], b["size"], b[field], got.get(b["addr"], "no block"))
            for b in bs if got.get(b["addr"]) != b[field]]
        want = collections.Counter(b[field] for b in bs)
        check(not wrong, "%s: %s: %d block%s %s" % (
            who, tag, len(bs), "s" if len(bs) > 1 else "",
            ", ".join("%d %s" % (n, k) for k, n in sorted(want.items()))),
            "; ".join(wrong[:4]) + (" (+%d more)" % (len(wrong) - 4)
                                    if len(wrong) > 4 else ""))


def debugger_setup(front, target):
    """(setup commands, teardown commands, extra environment) that bring
    a debugger to the target: ("core", exe, core), ("pid", exe, pid) or
    ("remote", exe, port): a debugging server on 127.0.0.1 that launched
    exe, run here to its stop."""
    kind, exe, what = target
    if kind == "remote" and front == "gdb":
        return (["file " + exe, "target remote 127.0.0.1:%d" % what,
                 "break mv_fixture_stop", "continue"], ["kill"], {})
    if kind == "remote":
        return (["platform select remote-linux", "target create " + exe,
                 "gdb-remote 127.0.0.1:%d" % what,
                 "breakpoint set -n mv_fixture_stop", "continue"],
                ["process kill"], {})
    if front == "gdb":
        return (["file " + exe, ("core-file " if kind == "core"
                                 else "attach ") + str(what)],
                ["detach"] if kind == "pid" else [], {})
    return None, [], {"MV_EXE": exe,
                      "MV_CORE" if kind == "core" else "MV_PID": str(what)}


def debugger_gc(front, target, gc):
    """mv-gc in real gdb or lldb (tests/integration/*_driver.py): its
    output, or (None, error).  target: as debugger_setup takes it; gc:
    the command's words."""
    command = "mv-gc " + " ".join(gc[1:])
    setup, teardown, extra = debugger_setup(front, target)
    env = dict(DEBUGGER_ENV, MV_TEARDOWN=json.dumps(teardown), **extra)
    if setup is not None:
        env["MV_SETUP"] = json.dumps(setup)
    recs, err = driver_records(front, env, [command])
    if not recs:
        return None, err
    if not recs[0]["succeeded"]:
        return None, recs[0]["error"]
    return recs[0]["output"], None


def memview_gc(target, front="cli", heuristics="none"):
    """gc's JSON and {address: kind}, or (None, error)."""
    gc = GC + ["--heuristics", heuristics]
    if front == "cli":
        r = subprocess.run([MEMVIEW] + target + gc, capture_output=True,
                           text=True, timeout=600)
        if r.returncode:
            return None, r.stderr.strip()
        out = r.stdout
    else:
        out, err = debugger_gc(front, target, gc)
        if out is None:
            return None, err
    try:
        d = json.loads(out)
    except ValueError:
        return None, "not JSON: " + out[:300]
    return d, {int(b["address"], 16): b["kind"] for b in d["blocks"]}


def memview_checks(name, how, target, blocks, facts, front="cli"):
    if name.endswith("cxx"):
        # valgrind's default heuristics: memview's default too.
        d, got = memview_gc(target, front, "all")
        if d is None:
            check(False, "%s %s: memview gc --heuristics all runs" %
                  (name, how), got)
        else:
            by_tag(blocks, got, "expect_default",
                   "%s %s (default heuristics)" % (name, how))
    d, got = memview_gc(target, front)
    if d is None:
        check(False, "%s %s: memview gc runs" % (name, how), got)
        return
    who = "%s %s" % (name, how)
    by_tag(blocks, got, "expect", who)
    keyed = {b["addr"] for b in blocks}
    extra = ["0x%x %s" % (a, k) for a, k in sorted(got.items())
             if a not in keyed and k in LOST]
    check(not extra, "%s: no block outside the key is definitely or "
          "indirectly lost (valgrind: none)" % who, ", ".join(extra[:8]))
    notes = d.get("notes") or []
    thread_notes = [n for n in notes if n.startswith("thread ")]
    check(len(notes) == len(thread_notes),
          "%s: no heap note on a healthy heap" % who, notes)
    n = int(facts.get("threads", ["1"])[0])
    check(d["scanned"]["threads"] == n and d["scanned"]["stacks"] == n and
          not thread_notes,
          "%s: all %d threads' stacks and registers scanned" % (who, n),
          "%s %s" % (d["scanned"], thread_notes))
    if "fencepost" in facts:
        fp = int(facts["fencepost"][0], 16)
        check(fp not in got, "%s: the thread heap's fencepost (0x%x) is no "
              "block" % (who, fp), got.get(fp))


def valgrind_checks(name, tmp):
    exe = os.path.join(BUILD, "fixtures", name)
    runs = [("none", "expect")]
    if name.endswith("cxx"):
        runs.append((None, "expect_default"))
    for heur, field in runs:
        facts = os.path.join(tmp, "%s.%s.facts" % (name, heur or "default"))
        env = dict(os.environ, MV_FACTS=facts)
        env.pop("MV_WAIT", None)
        got, text = valgrind([exe], tmp, name + "." + str(heur), heur, env)
        blocks, _ = read_key(facts)
        who = "valgrind (heuristics %s) %s" % (heur or "default", name)
        if not got:
            check(False, "%s: block_list at the stop point" % who,
                  text[-600:])
            continue
        by_tag(blocks, got, field, who)
        keyed = {b["addr"] for b in blocks}
        extra = ["0x%x %s" % (a, k) for a, k in sorted(got.items())
                 if a not in keyed and k in LOST]
        check(not extra, "%s: nothing outside the key is definitely or "
              "indirectly lost" % who, ", ".join(extra[:8]))


def live_checks(name, tmp):
    exe = os.path.join(BUILD, "fixtures", name)
    p, facts = start_fixture(exe, os.environ, tmp, name + ".live")
    if not p:
        check(False, "%s live: the fixture reaches its stop" % name)
        return
    try:
        blocks, f = read_key(facts)
        memview_checks(name, "live", ["--pid", str(p.pid)], blocks, f)
        for front in FRONTS:
            memview_checks(name, "live (%s)" % front, ("pid", exe, p.pid),
                           blocks, f, front)
    finally:
        p.kill()
        p.wait()


def remote_checks(name, tmp):
    """The fixture under gdbserver and under lldb-server on 127.0.0.1,
    the debugger connected and run to its stop: mv-gc against the key
    that run wrote."""
    exe = os.path.join(ABS_BUILD, "fixtures", name)
    for front, server in (("gdb", ["gdbserver"]),
                          ("lldb", ["lldb-server", "gdbserver"])):
        if not shutil.which(server[0]):
            check(False, "%s is installed (tools/deps.sh)" % server[0])
            continue
        port = free_port()
        facts = os.path.join(tmp, "%s.%s.facts" % (name, server[0]))
        argv = server + ["127.0.0.1:%d" % port] + \
            (["--"] if front == "lldb" else []) + [exe]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             start_new_session=True,
                             env=dict(os.environ, MV_FACTS=facts))
        try:
            wait_listening(p, port)
            d, got = memview_gc(("remote", exe, port), front)
            if d is None:
                check(False, "%s remote (%s): mv-gc runs" % (name, front),
                      got)
                continue
            blocks, f = read_key(facts)
            who = "%s remote (%s)" % (name, server[0])
            by_tag(blocks, got, "expect", who)
            n = int(f.get("threads", ["1"])[0])
            check(d["scanned"]["stacks"] == n and not d["partial"],
                  "%s: all %d threads' stacks and registers scanned" %
                  (who, n), d["scanned"])
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


PY = "python3.11-dbg"
# A healthy interpreter with objects, lists, dicts and a cycle alive,
# blocked reading its stdin: valgrind's leak check (through vgdb) and
# gdb's gcore see it at the same point.
PY_PROG = """
import sys
class Node:
    def __init__(self, n): self.n = n; self.peer = None
a, b = Node(1), Node(2)
a.peer, b.peer = b, a
data = [dict(k=i, v=str(i) * 10) for i in range(2000)]
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.read()
"""
VG_SUMMARY = re.compile(r"(definitely|indirectly|possibly) lost: "
                        r"[\d,]+ bytes in ([\d,]+) blocks")


def python_at_stop(cmd, env, then):
    """Starts cmd (PY_PROG), waits for it to block, runs then(pid)."""
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        if p.stdout.readline() != b"ready\n":
            return None
        return then(p.pid)
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def python_valgrind(env, tmp, alloc):
    """{kind: blocks} from memcheck's leak check (heuristics none) at the
    stop point, asked through vgdb."""
    def ask(pid):
        r = subprocess.run(["vgdb", "--pid=%d" % pid, "leak_check",
                            "summary", "heuristics", "none", "any"],
                           capture_output=True, text=True, timeout=300)
        return {k + "_lost": int(n.replace(",", ""))
                for k, n in VG_SUMMARY.findall(r.stdout)}
    log = os.path.join(tmp, "python.%s.vg.log" % alloc)
    return python_at_stop(["valgrind", "--vgdb=yes", "--leak-check=full",
                           "--log-file=" + log, PY, "-c", PY_PROG],
                          env, ask)


def python_core(env, core):
    def gcore(pid):
        subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(pid),
                        "-ex", "set debuginfod enabled off",
                        "-ex", "gcore " + core], capture_output=True,
                       timeout=300)
        return os.path.exists(core)
    return python_at_stop([PY, "-c", PY_PROG], env, gcore)


def python_checks(tmp):
    if not shutil.which(PY) or not shutil.which("vgdb"):
        check(False, "%s and vgdb are installed (tools/deps.sh)" % PY)
        return
    exe = os.path.realpath(shutil.which(PY))
    for alloc in ("malloc", "default"):
        env = dict(os.environ)
        env.pop("PYTHONMALLOC", None)
        if alloc == "malloc":
            env["PYTHONMALLOC"] = "malloc"
        vg = python_valgrind(env, tmp, alloc)
        check(bool(vg), "python (%s): valgrind's leak check at the stop "
              "point" % alloc, vg)
        core = os.path.join(tmp, "python.%s.core" % alloc)
        if not python_core(env, core):
            check(False, "python (%s): gcore at the stop point" % alloc)
            continue
        d, got = memview_gc(["--core", core, "--exe", exe])
        os.unlink(core)
        if d is None:
            check(False, "python (%s): memview gc on its core" % alloc, got)
            continue
        for kind in LOST:
            mv = d["summary"][kind]["blocks"]
            check(vg and mv == vg.get(kind),
                  "python (%s): %s blocks = valgrind's (%s)"
                  % (alloc, kind, vg and vg.get(kind)),
                  "memview says %d" % mv)


def main():
    if missing("roots", [MEMVIEW] + [
            os.path.join(BUILD, "cores", n + ".core") for n in FIXTURES]):
        sys.exit(1)
    if not shutil.which("valgrind"):
        check(False, "valgrind is installed (tools/deps.sh)")
    tmp = tempfile.mkdtemp(prefix="mv-roots-")
    try:
        for name in FIXTURES:
            if shutil.which("valgrind"):
                valgrind_checks(name, tmp)
            blocks, facts = read_key(
                os.path.join(BUILD, "cores", name + ".facts"))
            exe = os.path.join(ABS_BUILD, "fixtures", name)
            core = os.path.join(ABS_BUILD, "cores", name + ".core")
            memview_checks(name, "core", ["--core", core, "--exe", exe],
                           blocks, facts)
            for front in FRONTS:
                memview_checks(name, "core (%s)" % front,
                               ("core", exe, core), blocks, facts, front)
            live_checks(name, tmp)
            remote_checks(name, tmp)
        if shutil.which("valgrind"):
            python_checks(tmp)
    finally:
        shutil.rmtree(tmp)
    sys.exit(T.summary())


if __name__ == "__main__":
    main()
