"""The allocator tests' driver and what they share.

test_mimalloc.py, test_tcmalloc.py and test_jemalloc.py each describe
their allocator as a row of a table (a subclass of Allocator: its names,
the strings its heap says, its own checks and damage) and call
Allocator.run, which runs the same checks on each: on the build's core
of the fixture (tests/fixtures/allockey.h: one thread), then on a
4-thread run of it live (--pid) and on a gcore core of that run,

1. heap: the model named, each block of the fixture's key in use at its
   address with the allocator's own usable size, each freed block free,
   no note; then the row's own checks against the allocator's counts;
2. gc: each block of the key in its memcheck category, freed ones in
   none, as many lost as the row's oracle says (the key, or valgrind),
   the key's cycles as cyclic garbage;
3. sizeof-deep, referrers, path-to and view --pointers on thread 0's
   list, against the key;
4. mv-heap and mv-gc in real gdb and lldb give the CLI's numbers;
5. --allocator glibc and --allocator NAME; leaks.c live with the
   allocator in LD_PRELOAD, against its own key;
6. the row's damaged copies of the core: an answer within 20 s with a
   note naming the damage, and none of the program's blocks lost.

Also memview's JSON answers, a core's bytes by address (to damage
copies of it), and the command lines run in real gdb and lldb through
tests/integration/*_driver.py, for test_pymalloc.py and test_roots.py."""
import json
import os
import signal
import subprocess
import tempfile
import time

from mvcheck import CoreFile, Tally, missing, start_fixture
from mvfacts import fact_words

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


def driver_records(front, env, cases):
    """The command lines run by the test driver (gdb_driver.py,
    lldb_driver.py) in real gdb or lldb, env saying what to open
    (MV_SETUP, MV_EXE, ...; no MV_TEARDOWN: none): (its records, None)
    or (None, why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(env, MV_CASES=json.dumps(cases), MV_OUT=out)
        env.setdefault("MV_TEARDOWN", "[]")
        r = subprocess.run(debugger_argv(front), env=env,
                           capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            with open(out) as f:
                recs = json.load(f)["cases"]
        except (OSError, ValueError, KeyError):
            recs = None
        if not recs:
            return None, "no record: " + (r.stdout + r.stderr)[-400:]
        return recs, None


def debugger(front, env, exe, core, cases, pid=None):
    """The command lines in real gdb or lldb on the core (or attached to
    pid): their JSON answers (None where one failed) and the records,
    or (None, why not)."""
    env = dict(env)
    if front == "gdb":
        env["MV_SETUP"] = json.dumps(
            ["file " + exe, "attach %d" % pid if pid
             else "core-file " + core])
        if pid:
            env["MV_TEARDOWN"] = json.dumps(["detach"])
    else:
        env.update(MV_EXE=exe)
        env.update({"MV_PID": str(pid)} if pid else {"MV_CORE": core})
    recs, err = driver_records(front, env, cases)
    if recs is None:
        return None, err
    res = []
    for rec in recs:
        try:
            res.append(json.loads(rec["output"]) if rec["succeeded"]
                       else None)
        except ValueError:
            res.append(None)
    return res, recs


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
    p, facts = start_fixture(exe, dict(os.environ, LD_PRELOAD=lib), tmp,
                             "leaks")
    if not p:
        check(False, "LD_PRELOAD: leaks reaches its stop")
        return None, None
    try:
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


BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
ABS_BUILD = os.path.join(ROOT, BUILD)
DEBUGGER_ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(
    ABS_BUILD, "libmemview.so"))
DEBUGGER_ENV.pop("PYTHONPATH", None)
DEBUGGER_ENV.pop("PYTHONHOME", None)
DEBUGGER_ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
HEAP = ["heap", "--json", "--chunks", "--max-chunks", "0", "--top", "0"]
GC = ["gc", "--json", "--blocks", "--show-reachable", "--max-blocks", "0",
      "--heuristics", "none"]
LOST = ("definitely_lost", "indirectly_lost")


class Key:
    """An allocator fixture's facts: blocks, (address, usable, state,
    thread) from "block" lines; glibc, (address, usable, state) of the
    blocks of glibc's own malloc; each "NAME N" line as attribute NAME
    (threads, ...); every other line's numbers in rows[its first
    word]."""

    def __init__(self, path):
        self.blocks, self.glibc, self.rows = [], [], {}
        for w in fact_words(path):
            if w[0] == "block":
                self.blocks.append((int(w[1], 16), int(w[2]), w[3],
                                    int(w[4])))
            elif w[0] == "glibc":
                self.glibc.append((int(w[1], 16), int(w[2]), w[3]))
            elif len(w) == 2:
                setattr(self, w[0], int(w[1]))
            else:
                self.rows.setdefault(w[0], []).append(
                    [int(x, 0) for x in w[1:]])

    def count(self, state):
        return (sum(1 for b in self.blocks if b[2] == state) +
                sum(1 for b in self.glibc if b[2] == state))

    def live(self, thread=None):
        """The addresses of the live blocks (of one thread), in the
        order the program allocated them."""
        return [a for a, _, s, t in self.blocks
                if s == "live" and thread in (None, t)]


class Allocator:
    """One row of the table: the subclass sets these and overrides the
    hooks below them."""
    name = None          # the fixture, its arenas' kind, --allocator NAME
    version = None       # what heap's description says (and preload's)
    describes = ()       # more the description must hold
    finds = None         # what that check says
    usable_name = None   # the fixture's source of usable sizes
    free_states = None   # a freed block's states; None: any but in-use
    preload_lib = None   # for leaks.c in LD_PRELOAD
    preload_says = None  # its heap line holds this
    preload_alone = True  # nothing but leaks' own key is lost then
    attach = False       # gdb and lldb attached to the 4-thread run too
    needs = ()           # more files the test needs

    def heap_more(self, d, k, who, chunks):
        """The row's own heap checks (chunks: all of d's, by mem)."""

    def lost_want(self, k):
        """The numbers of definitely and indirectly lost blocks gc must
        find, and whose they are."""
        return {kind: k.count(kind) for kind in LOST}, "the key's"

    def on_list(self, k):
        """(address, usable) on thread 0's list besides the key's
        blocks, its head last."""
        return []

    def damage(self, d, k, cf):
        """Damaged copies to make of the core (cf, its bytes): (what,
        the word the note must hold, [(address, struct format, value)],
        a check of the damaged heap's answer or None)."""
        return []

    def prepare(self):
        """Before the first check."""

    def after_core(self, g):
        """With gc's answer on the build's core."""

    def more(self, k, tmp):
        """The row's own checks on copies of the core in tmp."""

    # ---- the driver ----

    def __init__(self):
        self.T = Tally(self.name, verbose=True, detail_max=600)
        self.exe = os.path.join(ABS_BUILD, "fixtures", self.name)
        self.core1 = os.path.join(ABS_BUILD, "cores", self.name + ".core")
        self.facts1 = os.path.join(ABS_BUILD, "cores",
                                   self.name + ".facts")
        self.k1 = None

    def check(self, ok, what, detail=""):
        self.T.check(what, ok, detail)

    def json(self, target, words):
        return memview_json(MEMVIEW, target, words)

    def arenas(self, d):
        return {i for i, a in enumerate(d["arenas"])
                if a["kind"] == self.name}

    def heap(self, d, k, who):
        check = self.check
        check(self.version in d["description"] and
              all(s in d["description"] for s in self.describes),
              "%s: %s" % (who, self.finds), d["description"])
        mine = self.arenas(d)
        chunks = {int(c["mem"], 16): c for c in d["chunks"]}
        wrong = []
        for addr, usable, state, _ in k.blocks:
            c = chunks.get(addr)
            if state == "freed":
                if c is not None and (
                        c["state"] not in self.free_states
                        if self.free_states else c["state"] == "in-use"):
                    wrong.append("freed 0x%x is %s" % (addr, c["state"]))
            elif (c is None or c["state"] != "in-use" or
                  c["usable"] != usable or c["address"] != c["mem"] or
                  c["arena"] not in mine):
                wrong.append("%s 0x%x (usable %d): %s" % (state, addr,
                                                          usable, c))
        check(not wrong, "%s: each of the program's %d blocks found with "
              "%s, freed ones %s" % (who, len(k.blocks), self.usable_name,
                                     "free" if self.free_states
                                     else "not in use"), wrong[:5])
        self.heap_more(d, k, who, chunks)
        check(not d["notes"], "%s: no note on a healthy heap" % who,
              d["notes"][:3])

    def gc(self, g, k, who):
        check = self.check
        want, whose = self.lost_want(k)
        got = {int(b["address"], 16): b["kind"] for b in g["blocks"]}
        key = [(a, s) for a, _, s, _ in k.blocks] + [(a, s) for a, _, s
                                                     in k.glibc]
        wrong = ["%s 0x%x: %s" % (s, a, got.get(a)) for a, s in key
                 if s in LOST and got.get(a) != s]
        wrong += ["live 0x%x: %s" % (a, got.get(a)) for a, s in key
                  if s == "live" and got.get(a) != "still_reachable"]
        wrong += ["freed 0x%x: %s" % (a, got.get(a)) for a, s in key
                  if s == "freed" and a in got]
        check(not wrong, "%s: gc puts each block of the key in its "
              "memcheck category, freed blocks in none" % who, wrong[:5])
        for kind in LOST:
            check(kind in want and
                  g["summary"][kind]["blocks"] == want[kind],
                  "%s: %s blocks = %s %s" % (who, kind, whose,
                                             want.get(kind)),
                  g["summary"][kind])
        check(g["summary"]["cyclic_garbage"]["blocks"] == 3 * k.threads,
              "%s: cyclic garbage = the key's cycles" % who,
              g["summary"]["cyclic_garbage"])

    def walk(self, target, k, who):
        """sizeof-deep, referrers, path-to and view --pointers on thread
        0's list g_lists[0]."""
        check = self.check
        extra = self.on_list(k)
        d, err = self.json(target, ["sizeof-deep", "g_lists[0]", "--json"])
        # The allocator's bytes: the blocks' usable sizes, and the 8
        # bytes of the pointer g_lists[0] itself (a global).
        live = [(a, u) for a, u, s, t in k.blocks if s == "live" and t == 0]
        want = sum(u for _, u in live + extra) + 8
        check(d is not None and d["allocator_deep_size"] == want,
              "%s: sizeof-deep g_lists[0]: allocator bytes = its live "
              "blocks' usable sizes (%d)" % (who, want),
              err or (d and d["allocator_deep_size"]))
        addrs = sorted(a for a, _ in live)
        a = addrs[len(addrs) // 2]
        r, err = self.json(target, ["referrers", hex(a), "--json"])
        check(r is not None and r["count"] == 1 and
              r["referrers"][0]["kind"] == "heap" and
              int(r["referrers"][0]["holder"], 16) in
              set(addrs) | {x for x, _ in extra},
              "%s: referrers of a live block: the list node before it" %
              who, err or (r and r["referrers"][:2]))
        p, err = self.json(target, ["path-to", hex(a), "--json"])
        # The shortest path starts at g_lists and goes along the list,
        # or starts at a word of a thread's stack or registers that
        # still holds a block (a worker's spill, seen at __clone3's
        # frame in 1 run of ~90: the shortest path, rightly).
        nodes = set(addrs) | {x for x, _ in extra}
        chain = p["chain"] if p and p.get("found") else []
        check(chain and chain[-1]["points_to"] == hex(a) and
              ((chain[0]["root"] == "g_lists" and
                all(int(h["points_to"], 16) in nodes for h in chain)) or
               chain[0]["kind"] in ("stack", "register")),
              "%s: path-to a live block starts at g_lists and goes along "
              "the list (or at a thread's stale word)" % who,
              err or (p and p["chain"][:3]))
        # The list's head: the last block the thread put on it.
        head = extra[-1][0] if extra else k.live(0)[-1]
        v, err = self.json(target, ["view", "--pointers", "--json",
                                    "g_lists", "8"])
        ptr = v["pointers"][0] if v and v["pointers"] else None
        check(ptr is not None and ptr["kind"] == "heap" and
              ptr["details"]["state"] == "in-use" and
              int(ptr["details"]["mem"], 16) == head,
              "%s: view --pointers: g_lists[0] points at its head block, "
              "in use" % who, err or ptr)

    def target(self, target, k, who):
        """heap, gc and the walks on a core or process: heap's and gc's
        answers (None where one failed)."""
        h, err = self.json(target, HEAP)
        if h is None:
            self.check(False, "%s: memview heap runs" % who, err)
            return None, None
        self.heap(h, k, who)
        g, err = self.json(target, GC)
        if g is None:
            self.check(False, "%s: memview gc runs" % who, err)
            return h, None
        self.gc(g, k, who)
        self.walk(target, k, who)
        return h, g

    def numbers(self, h, g):
        """What must agree between the front ends."""
        return (h["totals"], h.get(self.name + "_size_classes"),
                h["description"], g["summary"])

    def debugger(self, core, h, g, who, pid=None):
        """mv-heap and mv-gc in gdb and lldb give the CLI's numbers."""
        want = self.numbers(h, g)
        for front in ("gdb", "lldb"):
            res, recs = debugger(front, DEBUGGER_ENV, self.exe, core,
                                 ["mv-heap --json", "mv-gc --json"], pid)
            ok = res is not None and len(res) == 2 and None not in res
            self.check(ok and self.numbers(res[0], res[1]) == want,
                       "%s (%s): mv-heap and mv-gc give the CLI's numbers"
                       % (who, front),
                       recs if not ok else
                       [x for x in zip(self.numbers(res[0], res[1]), want)
                        if x[0] != x[1]][:2])

    def allocators(self, target, k, who):
        """--allocator glibc and --allocator NAME."""
        check = self.check
        g, err = self.json(target, GC + ["--allocator", "glibc"])
        glibc = {a for a, _, _ in k.glibc}
        lost = [b["address"] for b in (g or {}).get("blocks", [])
                if b["kind"] != "still_reachable" and
                int(b["address"], 16) not in glibc]
        check(g is not None and self.name not in g["heap"] and not lost,
              "%s: gc --allocator glibc: %s's memory stays a root, none of "
              "its blocks lost" % (who, self.name),
              err or (g and (g["heap"], lost[:5])))
        h, err = self.json(target, ["heap", "--json", "--allocator",
                                    self.name])
        check(h is not None and self.version in h["description"],
              "%s: heap --allocator %s reads it" % (who, self.name), err)
        self.refused(["--core", os.path.join(BUILD, "cores", "leaks.core"),
                      "--exe", os.path.join(BUILD, "fixtures", "leaks")],
                     "--allocator " + self.name,
                     "leaks core: heap --allocator %s is an error naming "
                     "it" % self.name)

    def refused(self, target, says, what):
        """heap --allocator NAME on target fails, its message holding
        says."""
        r = subprocess.run([MEMVIEW] + target + ["heap", "--allocator",
                                                 self.name],
                           capture_output=True, text=True, timeout=60)
        self.check(r.returncode != 0 and says in r.stderr, what,
                   r.stderr.strip())

    def damaged(self, d, k, tmp):
        """Each kind of damage on its own copy of the build's core."""
        live = [a for a, _, s, _ in k.blocks if s == "live"]
        for what, word, puts, after in self.damage(d, k,
                                                   CoreFile(self.core1)):
            cf = CoreFile(self.core1)
            for addr, fmt, value in puts:
                cf.put(addr, fmt, value)
            path = os.path.join(tmp, "damaged.core")
            with open(path, "wb") as f:
                f.write(cf.data)
            target = ["--core", path, "--exe", self.exe]
            dd = damaged_heap(self.check, MEMVIEW, target, HEAP, what, word)
            if dd is None:
                continue
            if after:
                after(dd)
            damaged_gc(self.check, MEMVIEW, target, GC, what, live)
            os.unlink(path)

    def preload(self, tmp):
        """leaks.c (a glibc program) with the allocator in LD_PRELOAD,
        live: its own leak key, block by block."""
        g, mine = preload_leaks(
            self.check, MEMVIEW, os.path.join(ABS_BUILD, "fixtures",
                                              "leaks"),
            self.preload_lib, tmp, GC, self.preload_says)
        if g is None or not self.preload_alone:
            return
        extra = [hex(int(b["address"], 16)) for b in g["blocks"]
                 if int(b["address"], 16) not in mine and
                 b["kind"] != "still_reachable"]
        self.check(not extra, "LD_PRELOAD leaks --pid: no other block is "
                   "lost", extra[:5])

    def four_threads(self, tmp):
        """The fixture with 4 threads: live, then on a gcore core of the
        same process."""
        p, facts = start_fixture(self.exe, dict(os.environ, MV_THREADS="4"),
                                 tmp, "threads4")
        if not p:
            self.check(False, "4 threads: the fixture reaches its stop")
            return
        core = os.path.join(tmp, "core4")
        try:
            k4 = Key(facts)
            hp, gp = self.target(["--pid", str(p.pid)], k4,
                                 "--pid, 4 threads")
            if self.attach and hp and gp:
                self.debugger(None, hp, gp, "attached, 4 threads", p.pid)
            gcore(p.pid, core)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        if not os.path.exists(core):
            self.check(False, "4 threads: gcore of the stopped fixture")
            return
        h4, g4 = self.target(["--core", core, "--exe", self.exe], k4,
                             "core, 4 threads")
        if h4 and g4:
            self.debugger(core, h4, g4, "core, 4 threads")

    def run(self):
        """All of it; the exit status."""
        if missing(self.name, [MEMVIEW, self.exe, self.core1, self.facts1,
                               self.preload_lib] + list(self.needs)):
            return 1
        self.prepare()
        self.k1 = Key(self.facts1)
        target = ["--core", self.core1, "--exe", self.exe]
        h, g = self.target(target, self.k1, "core, 1 thread")
        if h and g:
            self.debugger(self.core1, h, g, "core, 1 thread")
            self.after_core(g)
        self.allocators(target, self.k1, "core, 1 thread")
        with tempfile.TemporaryDirectory() as tmp:
            if h:
                self.damaged(h, self.k1, tmp)
            self.more(self.k1, tmp)
            self.preload(tmp)
            self.four_threads(tmp)
        return self.T.summary()
