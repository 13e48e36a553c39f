"""What the allocator tests (test_mimalloc.py, test_tcmalloc.py,
test_pymalloc.py) share: memview's JSON answers, a core's bytes by
address (to damage copies of it), and the command lines run in real gdb
and lldb through tests/integration/*_driver.py."""
import json
import os
import signal
import struct
import subprocess
import tempfile
import time

from mvcheck import CoreFile  # noqa: F401  (the allocator tests' name)

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


def damaged_heap(check, memview, target, words, what, word):
    """heap on a damaged core: its answer, within 20 s and with a note
    naming word; None (a failed check) if it gives none."""
    t0 = time.time()
    try:
        d, err = memview_json(memview, target, words)
    except subprocess.TimeoutExpired:
        d, err = None, "timeout"
    took = time.time() - t0
    if d is None:
        check(False, "damaged (%s): heap answers" % what, err)
        return None
    notes = d.get("notes") or []
    check(took < 20 and any(word in n for n in notes),
          "damaged (%s): heap answers in %.1f s with a note naming %s"
          % (what, took, word), notes[:3])
    return d


def damaged_gc(check, memview, target, words, what, live):
    """gc on a damaged core calls none of the live addresses lost."""
    try:
        g, err = memview_json(memview, target, words)
    except subprocess.TimeoutExpired:
        g, err = None, "timeout"
    if g is None:
        check(False, "damaged (%s): gc answers" % what, err)
        return
    got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
    wrong = [hex(a) for a in live
             if got.get(a, "still_reachable") != "still_reachable"]
    check(not wrong, "damaged (%s): gc calls none of the blocks the "
          "program holds lost (what is not seen is a root)" % what,
          wrong[:5])


def start_waiting(exe, env, tmp, name):
    """exe run to its stop (MV_WAIT) with env added: the process and its
    facts file, or None for the facts if it did not get there."""
    facts = os.path.join(tmp, name + ".facts")
    ready = os.path.join(tmp, name + ".ready")
    env = dict(os.environ, MV_WAIT="1", MV_FACTS=facts, MV_READY=ready,
               **env)
    p = subprocess.Popen([exe], env=env)
    for _ in range(600):
        if os.path.exists(ready) or p.poll() is not None:
            break
        time.sleep(0.05)
    return p, facts if os.path.exists(ready) else None


def gcore(pid, path):
    """A core of the process by gdb's gcore."""
    subprocess.run(["gdb", "-nx", "-batch", "-q", "-p", str(pid),
                    "-ex", "set debuginfod enabled off",
                    "-ex", "gcore " + path], capture_output=True,
                   timeout=300)


def preload_leaks(check, memview, exe, lib, tmp, words, heap_says):
    """leaks.c (a glibc program) run live with lib in LD_PRELOAD: gc
    (words) reads that allocator's heap (its heap line holds heap_says)
    and puts each block of leaks' own key in its memcheck category.
    Returns gc's answer and the key's addresses, or (None, None)."""
    p, facts = start_waiting(exe, {"LD_PRELOAD": lib}, tmp, "leaks")
    try:
        if not facts:
            check(False, "LD_PRELOAD: leaks reaches its stop")
            return None, None
        g, err = memview_json(memview, ["--pid", str(p.pid)], words)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    if g is None:
        check(False, "LD_PRELOAD leaks --pid: gc runs", err)
        return None, None
    check(heap_says in g["heap"], "LD_PRELOAD leaks --pid: gc reads the "
          "preloaded allocator's heap", g["heap"])
    key = []
    with open(facts) as f:
        for line in f:
            w = line.split()
            if w[0] == "block":
                key.append((int(w[1], 16), w[4],
                            len(w) > 5 and w[5] == "cyclic"))
    got = {int(b["address"], 16): (b["kind"], b["cyclic"])
           for b in g["blocks"]}
    wrong = ["0x%x: %s%s, got %s" % (a, e, " cyclic" if c else "",
                                      got.get(a))
             for a, e, c in key if got.get(a) != (e, c)]
    check(key and not wrong, "LD_PRELOAD leaks --pid: each of its %d "
          "blocks in its memcheck category" % len(key), wrong[:5])
    return g, {a for a, _, _ in key}


def gc_key_checks(check, g, blocks, threads, want, who, whose):
    """gc against an allocator fixture's key (allockey.h): blocks are
    (address, usable, state, thread); want: the numbers of definitely
    and indirectly lost blocks expected, by whose count."""
    got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
    wrong = ["%s 0x%x: %s" % (s, a, got.get(a)) for a, _, s, _ in blocks
             if s in ("definitely_lost", "indirectly_lost") and
             got.get(a) != s]
    wrong += ["live 0x%x: %s" % (a, got.get(a)) for a, _, s, _ in blocks
              if s == "live" and got.get(a) != "still_reachable"]
    check(not wrong, "%s: gc puts each block of the key in its memcheck "
          "category" % who, wrong[:5])
    for kind in ("definitely_lost", "indirectly_lost"):
        check(kind in want and g["summary"][kind]["blocks"] == want[kind],
              "%s: %s blocks = %s %s" % (who, kind, whose, want.get(kind)),
              g["summary"][kind])
    check(g["summary"]["cyclic_garbage"]["blocks"] == 3 * threads,
          "%s: cyclic garbage = the key's cycles" % who,
          g["summary"]["cyclic_garbage"])


def walk_checks(check, memview, target, blocks, extra, head, who):
    """sizeof-deep, referrers, path-to and view --pointers on thread 0's
    list g_lists[0] of an allocator fixture: blocks as gc_key_checks
    takes them, extra (address, usable) on the list besides them, head
    the list's first block."""
    def ask(words):
        return memview_json(memview, target, words)
    d, err = ask(["sizeof-deep", "g_lists[0]", "--json"])
    # The allocator's bytes: the blocks' usable sizes, and the 8 bytes of
    # the pointer g_lists[0] itself (a global).
    live = [(a, u) for a, u, s, t in blocks if s == "live" and t == 0]
    want = sum(u for _, u in live + extra) + 8
    check(d is not None and d["allocator_deep_size"] == want,
          "%s: sizeof-deep g_lists[0]: allocator bytes = its live blocks' "
          "usable sizes (%d)" % (who, want),
          err or (d and d["allocator_deep_size"]))
    addrs = sorted(a for a, _ in live)
    a = addrs[len(addrs) // 2]
    r, err = ask(["referrers", hex(a), "--json"])
    check(r is not None and r["count"] == 1 and
          r["referrers"][0]["kind"] == "heap" and
          int(r["referrers"][0]["holder"], 16) in
          set(addrs) | {x for x, _ in extra},
          "%s: referrers of a live block: the list node before it" % who,
          err or (r and r["referrers"][:2]))
    p, err = ask(["path-to", hex(a), "--json"])
    check(p is not None and p["found"] and
          p["chain"][0]["root"] == "g_lists",
          "%s: path-to a live block starts at g_lists" % who,
          err or (p and p["chain"][:1]))
    v, err = ask(["view", "--pointers", "--json", "g_lists", "8"])
    ptr = v["pointers"][0] if v and v["pointers"] else None
    check(ptr is not None and ptr["kind"] == "heap" and
          ptr["details"]["state"] == "in-use" and
          int(ptr["details"]["mem"], 16) == head,
          "%s: view --pointers: g_lists[0] points at its head block, in "
          "use" % who, err or ptr)
