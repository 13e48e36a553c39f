"""Remote targets: gdb + gdbserver and lldb + lldb-server on 127.0.0.1.

The leaks fixture runs under a debugging server; the debugger connects,
runs it to mv_fixture_stop() and memview reads it through the
debugger's read callback, with the regions the server lists.  Checked:

1. `mv-info --json`: each objfile once, by a local file that exists (no
   "target:" prefix), the executable and libc among them.
2. `mv-regions --json`: the [heap] mapping.
3. `mv-gc --json --blocks --show-reachable --max-blocks 0`: every block
   of the fixture's answer key (its facts file) in its category; the
   summary and totals equal to the memview program's on `--pid` of the
   same stopped process (run from inside the debugger).
4. `mv-heap --json`: totals equal to `--pid`'s, mallinfo2() equal to the
   fixture's own.
5. `sizeof-deep recs --json` (a global array of structs with pointers to
   strings) equal to `--pid`'s.
6. After `stepi` (the process ran: new registers, memory may differ)
   `mv-info` and `mv-gc` again, with the same answer.

Sessions: gdb `target remote`, gdb `target extended-remote` with `set
sysroot /`, lldb with
`platform select remote-linux` + `gdb-remote`, and lldb `gdb-remote` on
the host platform (memview then reads the local process directly).
Every server and process started here is killed at the end.

Usage: BUILD=build python3 tests/integration/test_remote.py
Prints "remote: N passed, M failed"; with -v, a line per passed case.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from mvcheck import Tally, free_port, missing, wait_listening
from mvfacts import read_block_key

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                "..", "..", "python"))
import memview_core  # noqa: E402  (its ELF helpers only)

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
EXE = os.path.join(BUILD, "fixtures", "leaks")
HOST = "127.0.0.1"
TIMEOUT = 180  # one debugger session
T = Tally("remote", verbose="-v" in sys.argv)
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
LIBC_ID = memview_core.elf_build_id(LIBC)

GC = "mv-gc --json --blocks --show-reachable --max-blocks 0"
GC_SMALL = "mv-gc --json"
SIZEOF = "sizeof-deep recs --json"


def clean_env(**extra):
    env = dict(os.environ,
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"),
               **extra)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    # lldb's embedded Python takes its prefix from the first python3.
    env["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")
    return env


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(w) for w in f.read().split()]
    except OSError:
        return []


def runs(pid, exe):
    """Whether process pid runs the program exe."""
    try:
        return os.path.realpath(os.readlink("/proc/%d/exe" % pid)) == \
            os.path.realpath(exe)
    except OSError:
        return False


class Server:
    """A debugging server that has launched the fixture (stopped at its
    first instruction) and listens on HOST:port."""

    def __init__(self, argv, facts, log, port):
        self.port = port
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
            env=clean_env(MV_FACTS=facts))
        self.inferior = None
        deadline = time.time() + 20
        # The child running the fixture: the server may fork others
        # first (gdbserver tests ptrace with a short-lived child).
        exe = os.path.realpath(EXE)
        while time.time() < deadline and self.process.poll() is None:
            # The child running the fixture: gdbserver first forks a
            # short-lived child of its own to probe ptrace's features,
            # which a loaded machine let this loop take for the inferior.
            kids = [k for k in children(self.process.pid)
                    if runs(k, argv[-1])]
            if kids:
                self.inferior = kids[0]
                break
            time.sleep(0.05)
        wait_listening(self.process, self.port, deadline - time.time())

    def close(self):
        for pid in (self.inferior, self.process.pid):
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


def gdbserver(port, facts, log):
    return Server(["gdbserver", "%s:%d" % (HOST, port), EXE], facts, log,
                  port)


def lldb_server(port, facts, log):
    return Server(["lldb-server", "gdbserver", "%s:%d" % (HOST, port),
                   "--", EXE], facts, log, port)


def pid_command(prefix, pid, out, words):
    """A debugger command line that runs the memview program on --pid
    of the stopped process, into out (gdb: python, lldb: script)."""
    argv = [MEMVIEW, "--pid", str(pid)] + words
    # Its stderr and exit status next to its output, for a failure to say.
    return ("%s import subprocess; p = subprocess.run(%r, stdout=open(%r, "
            "'w'), stderr=subprocess.PIPE, text=True, timeout=120); "
            "open(%r, 'w').write('exit %%s: %%s' %% (p.returncode, "
            "p.stderr))" % (prefix, argv, out, out + ".err"))


def cases(prefix, pid, tmp):
    """(name, command) of every step of a session, in order.  lldb
    writes an output past 256 KiB to its terminal, not to the command's
    result: there gc lists no blocks."""
    ref = lambda name: os.path.join(tmp, name + ".json")  # noqa: E731
    gc = GC if prefix == "python" else GC_SMALL
    return [
        ("info", "mv-info --json"),
        ("regions", "mv-regions --json"),
        ("gc", gc),
        ("heap", "mv-heap --json"),
        ("pid gc", pid_command(prefix, pid, ref("gc"),
                               GC[3:].split())),
        ("pid heap", pid_command(prefix, pid, ref("heap"),
                                 ["heap", "--json"])),
        ("pid sizeof", pid_command(prefix, pid, ref("sizeof"),
                                   SIZEOF.split())),
        ("stepi", "stepi"),
        ("info after stepi", "mv-info --json"),
        ("gc after stepi", gc),
    ] + ([
        # A file fetched from the target (`remote get`) when no local
        # file has the build-id: into XDG_CACHE_HOME, by build-id.
        ("fetch", "python import sys; print(sys.modules['memview_gdb']."
                  "fetch_target_file(%r, %r))" % (LIBC, LIBC_ID)),
    ] if prefix == "python" else []) + [
        # Last: lldb evaluates an expression by mapping memory in the
        # process, which may join the mapping of glibc's mmapped chunk
        # (heap_glibc.c then misses it, in --pid too).
        ("sizeof", SIZEOF),
    ]


def run_gdb(setup, steps, tmp):
    out = os.path.join(tmp, "gdb.json")
    # A space in the cache's path: remote get's arguments are quoted.
    env = clean_env(XDG_CACHE_HOME=os.path.join(tmp, "the cache"),
                    MV_SETUP=json.dumps(setup),
                    MV_CASES=json.dumps([c for _, c in steps]),
                    MV_TEARDOWN=json.dumps(["kill"]), MV_OUT=out)
    argv = ["gdb", "-nx", "-batch", "-q",
            "-ex", "set debuginfod enabled off",
            "-ex", "set confirm off",
            "-ex", "source %s/gdb/memview.py" % ROOT,
            "-ex", "source %s/tests/integration/gdb_driver.py" % ROOT]
    return run_debugger(argv, env, out)


def run_lldb(setup, steps, tmp):
    out = os.path.join(tmp, "lldb.json")
    env = clean_env(MV_SETUP=json.dumps(setup),
                    MV_CASES=json.dumps([c for _, c in steps]),
                    MV_TEARDOWN=json.dumps(["process kill"]), MV_OUT=out)
    argv = ["lldb", "-b", "--no-lldbinit",
            "-o", "command script import %s/lldb/memview.py" % ROOT,
            "-o", "command script import %s/tests/integration/"
                  "lldb_driver.py" % ROOT]
    return run_debugger(argv, env, out)


def run_debugger(argv, env, out):
    """The driver's records, or a string saying why there are none."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env,
                           timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                           cwd=ROOT, start_new_session=True)
        raw = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout after %d s: %s" % (TIMEOUT, (e.stdout or b"")[-300:])
    try:
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError):
        return "no records (exit %s): %s" % (p.returncode, raw[-500:])


def read_facts(path):
    """(blocks as (address, kind, cyclic), the other lines)."""
    blocks, other = read_block_key(path)
    return [(int(w[0], 16), w[3], len(w) > 4 and w[4] == "cyclic")
            for w in blocks], other


def load_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def check_session(name, data, steps, tmp, facts):
    if isinstance(data, str):
        T.check(name + ": session", False, data)
        return
    failed = [r for r in data["setup"] if not r["succeeded"]]
    T.check(name + ": setup", not failed,
            failed and "%s: %s" % (failed[0]["command"], failed[0]["error"]))
    got = {}
    for (step, _), record in zip(steps, data["cases"]):
        ok = record["succeeded"]
        T.check("%s: %s runs" % (name, step), ok, record["error"])
        got[step] = load_json(record["output"]) if ok else None
    ref = {}
    for step in ("gc", "heap", "sizeof"):
        try:
            with open(os.path.join(tmp, step + ".json")) as f:
                ref[step] = json.load(f)
        except (OSError, ValueError) as e:
            ref[step] = None
            try:
                why = open(os.path.join(tmp, step + ".json.err")).read()
            except OSError:
                why = "(it did not finish)"
            T.check("%s: memview --pid %s" % (name, step), False,
                    "%s; %s" % (e, why[-400:]))
    if "fetch" in got:
        fetched = data["cases"][[s for s, _ in steps].index("fetch")]
        path = fetched["output"].strip()
        T.check(name + ": a file fetched from the target by build-id",
                path.startswith(os.path.join(tmp, "the cache")) and
                memview_core.elf_build_id(path) == LIBC_ID,
                fetched["output"] + (fetched["error"] or ""))
    check_info(name, got.get("info"))
    check_info(name + " after stepi", got.get("info after stepi"))
    regions = got.get("regions") or {}
    T.check(name + ": [heap] among the regions",
            any(r.get("path") == "[heap]"
                for r in regions.get("regions", [])),
            json.dumps(regions)[:300])
    for step in ("gc", "gc after stepi"):
        check_gc(name + ": " + step, got.get(step), ref["gc"], facts)
    heap = got.get("heap") or {}
    T.check(name + ": heap totals as --pid's",
            ref["heap"] is not None and
            heap.get("totals") == ref["heap"].get("totals"),
            "%s vs %s" % (heap.get("totals"),
                          ref["heap"] and ref["heap"].get("totals")))
    mallinfo = {k[len("mallinfo."):]: int(v[0]) for k, v in facts[1].items()
                if k.startswith("mallinfo.")}
    T.check(name + ": heap mallinfo as the fixture's",
            heap.get("mallinfo") == mallinfo,
            "%s vs %s" % (heap.get("mallinfo"), mallinfo))
    T.check(name + ": sizeof-deep as --pid's",
            got.get("sizeof") is not None and got["sizeof"] == ref["sizeof"],
            "%s\nvs %s" % (json.dumps(got.get("sizeof"))[:300],
                           json.dumps(ref["sizeof"])[:300]))


def check_info(name, info):
    objfiles = [o["path"] for o in (info or {}).get("objfiles", [])]
    problems = []
    if len(set(objfiles)) != len(objfiles):
        problems.append("listed twice")
    problems += ["%s: no such local file" % p for p in objfiles
                 if not os.path.isfile(p)]
    if not any(os.path.realpath(p) == os.path.realpath(EXE)
               for p in objfiles):
        problems.append("no executable")
    if not any(os.path.basename(p).startswith("libc.so") for p in objfiles):
        problems.append("no libc")
    T.check(name + ": objfiles once each by local path", not problems,
            "%s: %s" % (problems, objfiles))


def check_gc(name, gc, ref, facts):
    if gc is None:
        T.check(name, False, "no answer")
        return
    if "blocks" in gc:  # not asked for in lldb
        got = {int(b["address"], 16): (b["kind"], b["cyclic"])
               for b in gc["blocks"]}
        wrong = ["%#x: %s expected, %s" % (a, (kind, cyclic), got.get(a))
                 for a, kind, cyclic in facts[0]
                 if got.get(a) != (kind, cyclic)]
        T.check(name + ": every block as the fixture's key", not wrong,
                "%d wrong: %s" % (len(wrong), wrong[:5]))
    for key in ("summary", "totals"):
        T.check("%s: %s as --pid's" % (name, key),
                ref is not None and gc.get(key) == ref.get(key),
                "%s vs %s" % (gc.get(key), ref and ref.get(key)))


def session(name, start_server, debugger, setup, prefix):
    with tempfile.TemporaryDirectory() as tmp:
        facts_path = os.path.join(tmp, "leaks.facts")
        port = free_port()
        server = start_server(port, facts_path,
                              os.path.join(tmp, "server.log"))
        try:
            if server.inferior is None:
                with open(os.path.join(tmp, "server.log")) as f:
                    T.check(name + ": server", False, f.read()[-300:])
                return
            steps = cases(prefix, server.inferior, tmp)
            data = debugger([c.replace("PORT", str(port)) for c in setup],
                            steps, tmp)
            try:
                facts = read_facts(facts_path)
            except OSError as e:
                T.check(name + ": facts", False, e)
                return
            check_session(name, data, steps, tmp, facts)
        finally:
            server.close()


def main():
    if missing("remote", (MEMVIEW, EXE)):
        return 1
    stop = ["break mv_fixture_stop", "continue"]
    session("gdb target remote", gdbserver, run_gdb,
            ["file " + EXE, "target remote %s:PORT" % HOST] + stop,
            "python")
    # A local sysroot: gdb names the libraries by their local paths.
    session("gdb target extended-remote, sysroot /", gdbserver, run_gdb,
            ["set sysroot /", "file " + EXE,
             "target extended-remote %s:PORT" % HOST] + stop,
            "python")
    lldb_stop = ["breakpoint set -n mv_fixture_stop", "continue"]
    session("lldb remote-linux", lldb_server, run_lldb,
            ["platform select remote-linux", "target create " + EXE,
             "gdb-remote %s:PORT" % HOST] + lldb_stop, "script")
    session("lldb gdb-remote on the host", lldb_server, run_lldb,
            ["target create " + EXE, "gdb-remote %s:PORT" % HOST] +
            lldb_stop, "script")
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
