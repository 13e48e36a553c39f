#!/usr/bin/python3
"""Ctrl-C: a long command stops, says so, and the front end lives on.

For each front end (the memview program, gdb, lldb) and each long
command below, starts the command, waits until it is under way, sends
SIGINT after about a second, and checks that
  - a line saying it was interrupted appears within LATENCY seconds
    (stdout or stderr: the front ends print it where errors go);
  - the command had produced output before (partial output), for the
    commands that stream;
  - the debugger still answers afterwards (`print 6*7` gives 42) and
    exits by itself;
  - the partial answer comes out, with its partial note, before the
    interrupted line, for the commands that answer at their end
    (issue 18.2: gdb and lldb printed only the interrupted line);
  - the program exits 130, as memview(1) says.
The long commands: a typed view of a million structs (bigbuf fixture,
streaming output) and sizeof-deep of a 10-million-node list (a synthetic
segment added to the deepsize core, as in run.py's list10m row; small
output, long walk).

With --big (make check-ctrlc, after the cases above) the whole-heap
commands run on a core of bench/bigheap.c with BIG_N allocations
(default 4,000,000; made once in BUILD/ctrlc-big): heap, gc, gc
--refcount, referrers, path-to, and cycles, graph and sizeof-deep over
the whole hash table or tree, and view --pointers over the pointer
array.  Each is
first timed in the CLI to completion; Ctrl-C then comes at a fraction of
that time (the CLI at 20% and 60%, to land in the heap index and in the
command's own work; gdb and lldb at 40%), so the check holds on a fast
machine and a slow one alike.  There the interrupted line must come
within LATENCY and name what was cut (the phase, or the partial answer
before it); the debuggers must live on, the CLI exit 130.  gdb runs at a
pty here, ^C typed, as lldb does.  A command that takes under MIN_LONG
seconds to the end has nothing to interrupt: it is reported as such.
referrers and path-to read the heap at memory speed (about 0.3 and 0.5
s here at 4 M allocations, referrers 0.3 s still at 12 M): MIN_LONG is
low enough to catch them, where the latency bound says little but the
line saying where the command was cut, the partial answer and the
debugger's answer after it are checked all the same.

    ctrlc.py [-v] [--big | --only-big] [cli|gdb|lldb ...]

Ends with "ctrlc: N passed, M failed, P pending" (PENDING: known
failures in modules owned elsewhere).  Standard library only."""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import shutil
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as badinput  # noqa: E402  (the hostile-file makers)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
LATENCY = 0.5 * float(os.environ.get("BADINPUT_TIME_SCALE", "1"))
WAIT = 1.0


# Known failures, owned elsewhere (reported, not failing the run):
# (front end, first word of the command) -> why.
PENDING = {}


def argv_for(front, core, exe, line):
    """The command line of one front end running memview's `line`
    (debugger spelling: memview, sizeof-deep) on core."""
    if front == "cli":
        words = shlex.split(line)
        if words[0] == "memview":
            words[0] = "view"
        return [os.path.join(BUILD, "memview"), "--core", core, "--exe",
                exe] + words
    if front == "gdb":
        return ["gdb", "-nx", "-batch", "-q",
                "-ex", "set debuginfod enabled off",
                "-ex", "source %s/gdb/memview.py" % ROOT,
                "-ex", "file " + shlex.quote(exe), "-ex", "core-file " + core,
                "-ex", "echo MV-START\\n",
                "-ex", line, "-ex", "print 6*7"]
    return ["lldb", "-b", "--no-lldbinit",
            "-o", "command script import %s/lldb/memview.py" % ROOT,
            "-o", "target create --core %s %s" % (shlex.quote(core),
                                                 shlex.quote(exe)),
            "-o", "script print('MV-START')",
            "-o", line, "-o", "p 6*7"]


class Watch:
    """Reads a child's stdout and stderr in threads, with timestamps."""

    def __init__(self, p, pty_fd=None):
        self.p = p
        self.pty_fd = pty_fd
        self.lock = threading.Lock()
        self.nbytes = 0
        self.started = None      # MV-START seen (debugger set up)
        self.first = None        # first output after it
        self.interrupted = None  # the "interrupted" line
        self.partial = None      # the partial answer's note
        self.answered = None     # 42
        self.tail = b""
        self.err = b""
        # The last bytes of each stream apart: the two reader threads
        # append in the order they run, so a line split across writes
        # of one stream ("$1 = " then "42") may have the other's bytes
        # between them in tail.
        self.stream_tail = {}
        if pty_fd is not None:
            # One terminal for everything, as a user at the prompt has.
            self.threads = [threading.Thread(target=self.read,
                                             args=(None,))]
        else:
            self.threads = [
                threading.Thread(target=self.read, args=(p.stdout,)),
                threading.Thread(target=self.read, args=(p.stderr,))]
        for t in self.threads:
            t.start()

    def chunks(self, f):
        if f is not None:
            yield from iter(lambda: f.read1(65536), b"")
            return
        while True:
            try:
                block = os.read(self.pty_fd, 65536)
            except OSError:  # the terminal closed: lldb is gone
                return
            if not block:
                return
            yield block

    def read(self, f):
        for block in self.chunks(f):
            now = time.monotonic()
            with self.lock:
                if f is not None and f is self.p.stderr:
                    self.err += block
                own = self.stream_tail.get(id(f), b"")
                text = own[-64:] + block
                self.stream_tail[id(f)] = (own + block)[-4096:]
                self.tail = (self.tail + block)[-4096:]
                if self.started is None and b"MV-START" in text:
                    # What follows the marker is the command's, read
                    # below too: a quick command's whole answer, its
                    # interrupted line with it, can come in this same
                    # read (lldb cut at check 1 was taken for finished
                    # before its interrupt, 2 runs in 20).
                    self.started = now
                    text = text.split(b"MV-START", 1)[1].lstrip(b"\n")
                    self.nbytes += len(text)
                elif self.started is not None:
                    self.nbytes += len(block)
                if self.started is not None and self.first is None and \
                        len(text.strip()) > 0:
                    self.first = now
                if self.partial is None and \
                        b"partial: interrupted" in text:
                    self.partial = now
                if self.interrupted is None and (
                        b"memview: interrupted" in text or
                        b"Interrupted" in text):
                    self.interrupted = now
                if self.answered is None and b"42" in text and \
                        (b"$1 = 42" in text or b"= 42" in text):
                    self.answered = now

    def join(self):
        for t in self.threads:
            t.join()


def check_lldb(core, exe, line, streams, verbose, front="lldb",
               delay=None, inject=None):
    """lldb (or gdb) at an interactive prompt on a terminal, Ctrl-C
    typed there, delay seconds (default WAIT) after the command starts;
    or, with inject=N, none typed: the command's Nth check for one
    brings it (MEMVIEW_INTERRUPT_AFTER, see check_injected).

    lldb in batch mode (-b) is not what users run: without a terminal the
    result of a command is not streamed, and an interrupt ends the batch,
    so the case is driven through a pty as a user drives it."""
    import pty
    master, slave = pty.openpty()
    env = dict(os.environ)
    # lldb's embedded Python takes its prefix from the first python3.
    env["PATH"] = "/usr/bin:" + env.get("PATH", "")
    if inject is not None:
        env["MEMVIEW_INTERRUPT_AFTER"] = str(inject)
    if front == "gdb":
        argv = ["gdb", "-nx", "-q", "-iex", "set pagination off",
                "-iex", "set debuginfod enabled off",
                "-iex", "set style enabled off"]
        setup = ["source %s/gdb/memview.py" % ROOT,
                 "file " + shlex.quote(exe),
                 "core-file " + core, "python print('MV-' + 'START')"]
        answer = "print 6*7"
    else:
        argv = ["lldb", "--no-lldbinit", "--no-use-colors"]
        # The marker is built at run time so that the echo of the typed
        # command does not contain it.
        setup = ["command script import %s/lldb/memview.py" % ROOT,
                 "target create --core %s %s" % (shlex.quote(core),
                                                 shlex.quote(exe)),
                 "script print('MV-' + 'START')"]
        answer = "p 6*7"
    def controlling_terminal():
        # As a login shell does: a new session whose controlling
        # terminal is the pty, so that a typed ^C is a SIGINT.
        import fcntl
        import termios
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(argv,
                         stdin=slave, stdout=slave, stderr=slave, env=env,
                         preexec_fn=controlling_terminal)
    os.close(slave)
    w = Watch(p, pty_fd=master)

    def send(text):
        os.write(master, text.encode() + b"\r")

    def wait_for(attr, limit):
        end = time.monotonic() + limit
        while getattr(w, attr) is None and time.monotonic() < end and \
                p.poll() is None:
            time.sleep(0.01)

    problems = []
    try:
        for text in setup:
            send(text)
        send(line)
        wait_for("started", 120)
        prompt = b"(gdb) " if front == "gdb" else b"(lldb) "

        def ended():
            # The prompt before the echoed command, and one after it
            # once the command has ended.
            with w.lock:
                return w.tail.split(b"MV-START")[-1].count(prompt) >= 2
        if inject is not None:
            end = time.monotonic() + 120
            while w.interrupted is None and not ended() and \
                    time.monotonic() < end and p.poll() is None:
                time.sleep(0.01)
        else:
            time.sleep(WAIT if delay is None else delay)
        before = w.nbytes
        sent = time.monotonic()
        if ended() and w.interrupted is None:
            return [FINISHED]
        if inject is None:
            os.write(master, b"\x03")
            wait_for("interrupted", 20)
        elif w.interrupted is not None:
            sent = w.interrupted
        send(answer)
        wait_for("answered", 20)
        send("quit")
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        w.join()
    missed = missed_command(w, line, prompt) \
        if inject is None and w.interrupted is None and w.partial is None \
        else None
    if missed:
        # The Ctrl-C met no command: a busy machine's timing, tried again.
        return [missed] + crash_problems(w.tail)
    problems += interrupt_problems(w, sent, before, streams, "Ctrl-C")
    if w.answered is None:
        problems.append("the debugger did not answer '%s' after" % answer)
    problems += crash_problems(w.tail)
    if verbose:
        lat = "%.3f" % (w.interrupted - sent) if w.interrupted else "-"
        print("  %s %-40s out-before=%d latency=%s" % (front, line[:40],
                                                      before, lat))
        if problems:
            print("  %s's terminal ended with: %r" % (front, w.tail[-300:]))
    return problems


FINISHED = "finished before the interrupt (not long enough)"
NOT_STARTED = "the debugger was still reading the command (busy machine)"


def missed_command(w, line, prompt):
    """Whether a Ctrl-C typed at the debugger's terminal met no command
    of ours, read off the terminal after the command's echo: FINISHED
    when the command had ended (its prompt came first: gdb says "Quit"
    at it), NOT_STARTED when the debugger was still reading the line
    (readline drops it at ^C: the next prompt follows at once), else
    None."""
    with w.lock:
        text = w.tail.split(b"MV-START")[-1]
    text = re.sub(rb"\x1b\[\?2004[hl]|\r", b"", text)
    echo = line.encode()
    at = text.find(echo)
    after = text[at + len(echo):] if at >= 0 else text
    if re.match(rb"\s*\^C\s*" + re.escape(prompt), after):
        return NOT_STARTED
    if prompt + b"Quit" in after or \
            re.search(re.escape(prompt) + rb"\^C", after):
        return FINISHED
    return None


def interrupt_problems(w, sent, before, streams, how):
    """What is wrong with the way a command stopped after how (Ctrl-C or
    SIGINT) was sent at monotonic time sent, with before bytes out."""
    problems = []
    if w.interrupted is None:
        problems.append("no line saying it was interrupted")
    elif w.interrupted - sent > LATENCY:
        problems.append("interrupted line %.2f s after %s (bound %.2f)"
                        % (w.interrupted - sent, how, LATENCY))
    if streams is None:
        # Whole-heap commands: cut in the index or the mark there is no
        # answer to give, but the line says where it was cut; cut later,
        # the partial answer comes first.
        said = w.tail + w.err
        if w.partial is None and b"(interrupted)" not in said and \
                not re.search(rb"memview: interrupted [^\r\n]+", said):
            problems.append("neither a partial answer nor what was cut "
                            "in the interrupted line")
        return problems
    if streams and before == 0:
        problems.append("no partial output before %s" % how)
    if not streams:
        if w.partial is None:
            problems.append("no partial answer ('partial: interrupted') "
                            "after %s" % how)
        elif w.pty_fd is not None and w.interrupted is not None and \
                w.partial > w.interrupted:
            # One terminal: the order is the order written.  (gdb's
            # stdout and stderr are two pipes, stdout buffered.)
            problems.append("the partial answer came after the "
                            "interrupted line")
    return problems


def crash_problems(*outputs):
    return ["%r in output" % bad.decode()
            for bad in (b"Traceback", b"Sanitizer", b"Segmentation")
            if any(bad in out for out in outputs)]


def check(front, core, exe, line, streams, verbose, delay=None):
    if front == "lldb":
        return check_lldb(core, exe, line, streams, verbose, delay=delay)
    if delay is not None and front == "gdb":
        return check_lldb(core, exe, line, streams, verbose, front="gdb",
                          delay=delay)
    argv = argv_for(front, core, exe, line)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    w = Watch(p)
    if front == "cli":
        w.started = time.monotonic()
    problems = []
    t0 = time.monotonic()
    # Under way: for the CLI at once; in a debugger after MV-START.
    while p.poll() is None and time.monotonic() - t0 < 120:
        if front == "cli" or w.started is not None:
            break
        time.sleep(0.01)
    time.sleep(WAIT if delay is None else delay)
    sent = time.monotonic()
    before = w.nbytes
    if p.poll() is not None:
        problems.append(FINISHED)
    else:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        problems.append("still running 120 s after SIGINT")
    w.join()
    if front == "cli" and p.returncode == 0 and w.interrupted is None and \
            not problems:
        # The signal came after the command's last check for it (its
        # answer being written): a whole answer, tried again sooner.
        return [FINISHED] + crash_problems(w.tail, w.err)
    problems += interrupt_problems(w, sent, before, streams, "SIGINT")
    if front != "cli" and w.answered is None:
        problems.append("the debugger did not answer 'print 6*7' after")
    if front == "cli" and p.returncode != 130:
        # 130 whether the command ended on the interrupt or printed a
        # partial answer saying so (memview(1)).
        problems.append("exit %s, want 130" % p.returncode)
    problems += crash_problems(w.tail, w.err)
    if verbose:
        lat = "%.3f" % (w.interrupted - sent) if w.interrupted else "-"
        print("  %s %-40s rc=%s out-before=%d latency=%s exit-after=%.2f"
              % (front, line[:40], p.returncode, before, lat,
                 time.monotonic() - sent))
    return problems


BIG_N = int(os.environ.get("BIG_N", "4000000"))
MIN_LONG = 0.25
KEY = 0xa5a5a5a5a5a5a5a5


def big_core():
    """The bigheap core (made once per BUILD and generator), its
    executable and facts."""
    d = os.path.abspath(os.path.join(BUILD, "ctrlc-big"))
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, "bigheap")
    src = os.path.join(ROOT, "bench", "bigheap.c")
    if not os.path.exists(exe) or \
            os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-g", "-o", exe, src], check=True)
    core = os.path.join(d, "big%d.core" % BIG_N)
    facts = os.path.join(d, "big%d.facts" % BIG_N)
    if not (os.path.exists(core) and os.path.exists(facts) and
            os.path.getmtime(core) > os.path.getmtime(exe)):
        env = dict(os.environ, MV_BIGHEAP_N=str(BIG_N))
        subprocess.run([os.path.join(ROOT, "tools", "make-core.sh"), exe,
                        core, facts], env=env, check=True)
    f = {}
    with open(facts) as fh:
        for line in fh:
            k, _, v = line.rstrip("\n").rpartition(" ")
            f[k] = v
    return core, exe, f


def big_lines(f):
    """The whole-heap commands, in the debuggers' spelling, each with
    whether it streams its answer (True: output must come before the
    interrupt) or gives it at its end (None: the interrupted line must
    say what was cut, or the partial answer come first)."""
    target = "0x%x" % (int(f["path.target"], 16) ^ KEY)
    # g_table is a struct ent **: its buckets as one array, so that a
    # walk from it covers the whole table (an entry and its name each).
    table = "'*(struct ent *(*)[%s])g_table'" % f["table.buckets"]
    return [("mv-heap --chunks --max-chunks 0", None),
            ("mv-gc", None),
            ("mv-gc --refcount 'struct ent.key'", None),
            ("mv-cycles --max-objects 0 " + table, None),
            ("mv-referrers " + target, None),
            ("mv-path-to " + target, None),
            ("mv-graph --max-objects 0 --json g_tree", None),
            ("sizeof-deep --max-objects 0 " + table, None),
            # Every word of the pointer array, each pointing at a block:
            # its lines stream, but only once the heap is read in (the
            # first interrupt may come before), so the interrupted line
            # must say how far it got.
            ("memview --pointers --max-bytes 0 g_ptrs %d" %
             (8 * int(f["ptrs.count"])), None)]


def cli_seconds(core, exe, line):
    """How long line takes to its end in the CLI (output thrown away):
    the shorter of two runs, the first warming the page cache."""
    argv = argv_for("cli", core, exe, line)
    took = []
    for _ in range(2):
        t = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        took.append(time.monotonic() - t)
    return min(took)


def check_injected(front, core, exe, line, streams, n, verbose):
    """The command run with MEMVIEW_INTERRUPT_AFTER=n (its nth check for
    an interrupt answers yes, see docs/testing.md): problems, or
    [FINISHED] when it made fewer checks than n."""
    if front != "cli":
        # As a user runs them, at a terminal: lldb -b ends its batch at
        # an interrupt, and gdb -batch handles no SIGINT at all (the
        # command is cut with no word to the front end).
        return check_lldb(core, exe, line, streams, verbose, front=front,
                          inject=n)
    env = dict(os.environ, MEMVIEW_INTERRUPT_AFTER=str(n),
               PATH="/usr/bin:" + os.environ.get("PATH", ""))
    p = subprocess.Popen(argv_for(front, core, exe, line), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    w = Watch(p)
    if front == "cli":
        w.started = time.monotonic()
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        w.join()
        return ["still running 120 s after its interrupt"]
    w.join()
    problems = crash_problems(w.tail, w.err)
    if front == "cli" and p.returncode == 0 and w.interrupted is None:
        return [FINISHED] + problems
    if front != "cli" and w.interrupted is None and \
            b"partial: interrupted" not in w.tail + w.err:
        return [FINISHED] + problems
    problems += interrupt_problems(w, w.interrupted or 0, w.nbytes,
                                   streams, "the interrupt")
    if front == "cli" and p.returncode != 130:
        problems.append("exit %s, want 130" % p.returncode)
    if front != "cli" and w.answered is None:
        problems.append("the debugger did not answer 'print 6*7' after")
    if verbose:
        print("  %s %-40s interrupt at check %d: rc=%s %s" %
              (front, line[:40], n, p.returncode,
               "; ".join(problems) or "ok"))
    return problems


def injected_cases(fronts, core, exe, line, streams, verbose, took):
    """(front, line, problems) for a command too quick to Ctrl-C: cut at
    its 1st, 8th, 64th... check for an interrupt in the CLI until it
    ends first; the debuggers at the first and the last of those."""
    cuts = []
    out = []
    n = 1
    while n < 1 << 24:
        problems = check_injected("cli", core, exe, line, streams, n,
                                  verbose)
        if FINISHED in problems:
            break
        cuts.append(n)
        if "cli" in fronts:
            out.append(("cli", "%s (cut at check %d; %.2f s whole)" %
                        (line, n, took), problems))
        n *= 8
    if not cuts:
        out.append(("cli", line, ["it never checks for an interrupt"]))
        return out
    for front in fronts:
        if front == "cli":
            continue
        for n in sorted({cuts[0], cuts[-1]}):
            out.append((front, "%s (cut at check %d)" % (line, n),
                        check_injected(front, core, exe, line, streams, n,
                                       verbose)))
    return out


def big_cases(fronts, verbose):
    """(front, line, problems) for the whole-heap commands."""
    core, exe, f = big_core()
    out = []
    for line, streams in big_lines(f):
        took = cli_seconds(core, exe, line)
        if took < MIN_LONG:
            # Too quick for a Ctrl-C to land: its checks for one are cut
            # instead, at points spread over the command's phases.
            out += injected_cases(fronts, core, exe, line, streams,
                                  verbose, took)
            continue
        for front in fronts:
            fractions = (0.2, 0.6) if front == "cli" else (0.4,)
            for frac in fractions:
                # The machine's speed varies (shared machines): a command
                # that ended before the interrupt is tried again sooner.
                delay = took * frac
                for _ in range(4):
                    problems = check(front, core, exe, line, streams,
                                     verbose, delay=delay)
                    if NOT_STARTED in problems:
                        continue
                    if FINISHED not in problems:
                        break
                    delay /= 2
                out.append((front, "%s (at %.1f s of %.1f s)" %
                            (line, delay, took), problems))
    return out


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    only_big = "--only-big" in args
    big = only_big or "--big" in args
    fronts = [a for a in args if a in ("cli", "gdb", "lldb")] or \
        ["cli", "gdb", "lldb"]
    tmp = tempfile.mkdtemp(prefix="memview-ctrlc-")
    passed = failed = pending = 0
    try:
        files = badinput.Files(tmp)
        cases = [
            (os.path.join(BUILD, "cores/bigbuf.core"),
             os.path.join(BUILD, "fixtures/bigbuf"),
             # Ten million records run past the array into other
             # memory: about half a minute if nothing stops it.
             "memview --max-bytes 0 --type 'struct rec' --count 10000000 "
             "recs", True),
            (files.get("list10m_core"),
             os.path.join(BUILD, "fixtures/deepsize"),
             "sizeof-deep --max-objects 20000000 "
             "(struct node *)0x600000000000", False),
        ]
        results = []
        for front in fronts:
            for core, exe, line, streams in ([] if only_big else cases):
                results.append((front, line, check(
                    front, os.path.abspath(core), os.path.abspath(exe),
                    line, streams, verbose)))
        if big:
            results += big_cases(fronts, verbose)
        for front, line, problems in results:
            known = PENDING.get((front, line.split()[0]))
            if problems and known:
                pending += 1
                print("ctrlc: pending %s: %s: %s (known: %s)" %
                      (front, line, "; ".join(problems), known))
            elif problems:
                failed += 1
                print("ctrlc: FAILED %s: %s: %s" %
                      (front, line, "; ".join(problems)))
            else:
                passed += 1
                if known:
                    print("ctrlc: pending %s: %s passed this time "
                          "(remove it from PENDING once it always "
                          "does)" % (front, line))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ctrlc: %d passed, %d failed, %d pending" %
          (passed, failed, pending))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
