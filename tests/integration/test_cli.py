"""CLI behaviours not covered by the per-command scripts.

- `layout NAME` where NAME is both a variable of the program and a type
  elsewhere (glibc's struct list_head): the variable wins, as in gdb's
  ptype.  Expected values: the basic fixture's own facts.
- Hostile names: a core whose NT_FILE and link map name ld.so with an
  escape sequence, a bidi override and UTF-8: escaped in info's text,
  exact in its JSON.
- Progress: a long command on a terminal reports "done/total bytes (N%)"
  where total is the length asked for; with stderr piped it prints no
  progress at all.

Ends with "cli: N passed, M failed"."""
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

from mvcheck import Tally
from mvfacts import read_facts

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
MEMVIEW = os.path.join(BUILD, "memview")
T = Tally("cli")


def check(ok, what, detail=""):
    T.check(what, ok, detail)


def facts(name):
    return read_facts(os.path.join(BUILD, "cores", name + ".facts"))


def test_variable_wins():
    f = facts("basic")
    r = subprocess.run([MEMVIEW, "--core", os.path.join(BUILD, "cores/basic.core"),
                        "--exe", os.path.join(BUILD, "fixtures/basic"),
                        "layout", "list_head", "--json"],
                       capture_output=True, text=True, timeout=60)
    try:
        d = json.loads(r.stdout)
    except ValueError:
        check(False, "layout list_head is the variable", r.stderr)
        return
    value = {m["name"]: m.get("value") for m in d.get("members", [])}
    want_addr = int(f["value list_head"], 16)
    ok = (d.get("type") == "struct node" and
          int(d.get("address", "0x0"), 16) == want_addr and
          value.get("value") == int(f["value list_head->value"]))
    check(ok, "layout list_head: the program's variable, not glibc's "
          "struct list_head", "%s at %s, value %s; facts: 0x%x, %s" %
          (d.get("type"), d.get("address"), value.get("value"), want_addr,
           f["value list_head->value"]))


def run_on_terminal(argv, seconds):
    """Output of argv run with a pty as stdout and stderr."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            block = os.read(fd, 65536)
        except OSError:
            break
        if not block:
            break
        out += block
    os.waitpid(pid, 0)
    return out.decode(errors="replace")


def test_progress():
    # Long enough to run past the first second on a fast machine (progress
    # shows from then): 16 GiB of a core's unmapped range now takes one.
    length = 64 << 30
    argv = [MEMVIEW, "--core", os.path.join(BUILD, "cores/bigbuf.core"),
            "view", "--max-bytes", "0", "--binary", "/dev/null", "big",
            str(length)]
    text = run_on_terminal(argv, 120)
    # Numbers as people read them, as the plugins print them: 17.2G.
    scale = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}

    def value(h):
        return float(h[:-1]) * scale[h[-1]] if h[-1] in scale else float(h)
    seen = [(value(a), b, int(c)) for a, b, c in
            re.findall(r"memview: ([\d.]+[KMGT]?)/([\d.]+[KMGT]?) bytes "
                       r"\((\d+)%\)", text)]
    want_total = "%.1fG" % (length / 1e9)
    ok = bool(seen) and all(total == want_total and
                            done <= length * 1.01 and  # one decimal
                            abs(pct - done * 100 / length) <= 1.5
                            for done, total, pct in seen)
    check(ok, "progress on a terminal: done/total bytes of the range asked "
          "for, in human numbers", "%d lines, first %r, want total %s" %
          (len(seen), seen[:1], want_total))
    # The answer starts on a clean line: the progress line is cleared
    # before it is written.
    m = re.search(r"(.{0,8})wrote %d bytes" % length, text, re.S)
    check(bool(seen) and m and (m.group(1).endswith("\x1b[K") or
                                m.group(1).endswith("\n")),
          "the answer does not run into the progress line",
          repr(m and m.group(0)))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and "bytes (" not in r.stderr and
          "\r" not in r.stderr,
          "no progress when stderr is not a terminal", repr(r.stderr[-200:]))


def test_objfile_warnings():
    """info shows what the ELF reader noticed in an objfile: here the
    basic fixture with e_phnum patched to PN_XNUM and no count in
    section header 0.  The count it falls back to is readelf's."""
    import struct
    import tempfile
    exe = os.path.join(BUILD, "fixtures", "basic")
    r = subprocess.run(["readelf", "-lW", exe], capture_output=True,
                       text=True, check=True)
    m = re.search(r"There are (\d+) program headers", r.stdout)
    nphdr = int(m.group(1))
    data = bytearray(open(exe, "rb").read())
    struct.pack_into("<H", data, 56, 0xffff)
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "xnum-exe")
        open(bad, "wb").write(data)
        r = subprocess.run([MEMVIEW, "--exe", bad, "info"],
                           capture_output=True, text=True, timeout=60)
        want = "read the %d program headers" % nphdr
        check(r.returncode == 0 and "    warning: " in r.stdout and
              "PN_XNUM" in r.stdout and want in r.stdout,
              "info: an objfile's ELF warnings are shown (%s)" % want,
              r.stdout[-400:] + r.stderr[-200:])
        r = subprocess.run([MEMVIEW, "--exe", bad, "info", "--json"],
                           capture_output=True, text=True, timeout=60)
        d = json.loads(r.stdout)
        w = d["objfiles"][0]["warnings"]
        check(len(w) == 1 and want in w[0],
              "info --json: objfiles[].warnings", w)


def test_hostile_names():
    """An NT_FILE path in the core with an escape sequence, a bidi
    override and non-ASCII UTF-8: info's text shows no raw control or
    override character; its JSON carries the path exactly (UTF-8 as
    UTF-8)."""
    import tempfile
    core = os.path.join(BUILD, "cores/basic.core")
    data = bytearray(open(core, "rb").read())
    old = b"/ld-linux-x86-64.so.2"
    new = "/ld-\x1b[31m\u202e\u00e9.so.2".encode()
    new += b"x" * (len(old) - len(new))
    # Every copy: NT_FILE's, and the link map's in ld.so's own data.
    check(data.count(old + b"\0") >= 2 and len(new) == len(old),
          "hostile names: the core names ld.so in NT_FILE and its link map")
    data = bytearray(bytes(data).replace(old + b"\0", new + b"\0"))
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "names.core")
        with open(bad, "wb") as f:
            f.write(data)
        r = subprocess.run([MEMVIEW, "--core", bad, "info"],
                           capture_output=True, timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        check(r.returncode == 0 and "\x1b" not in out and
              "\u202e" not in out and "ld-" in out,
              "hostile names: info's text escapes ESC and U+202E",
              repr(out[:400]))
        r = subprocess.run([MEMVIEW, "--core", bad, "info", "--json"],
                           capture_output=True, timeout=60)
        paths = [o["path"] for o in json.loads(r.stdout)["objfiles"]]
        want = new.decode()
        check(any(p.endswith(want) for p in paths),
              "hostile names: info --json carries the UTF-8 path exactly",
              paths)


BASIC = ["--core", os.path.join(BUILD, "cores/basic.core"),
         "--exe", os.path.join(BUILD, "fixtures/basic")]


def mv(*args):
    p = subprocess.run([MEMVIEW] + list(args), capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def test_frictions(tmp):
    """Small things a newcomer trips on (issue 18, item 12)."""
    rc, out, err = mv(*BASIC, "layuot", "int_array")
    check(rc == 2 and "did you mean 'layout'?" in err,
          "a mistyped command: did you mean", (rc, err))
    rc, out, err = mv(*BASIC, "layout", "--max-element", "3", "int_array")
    check(rc == 2 and "did you mean --max-elements?" in err,
          "a mistyped option: did you mean", (rc, err))
    rc, out, err = mv(*BASIC, "view", "int_array", "0")
    check(rc == 2 and "0 bytes" in err and not out,
          "view X 0: a usage error, not silence", (rc, out, err))
    # --binary streams: --max-bytes (a limit on what is printed) does not
    # refuse it.  int_array is 10 ints: 64 bytes are read from its
    # address, the same bytes a hex view shows.
    path = os.path.join(tmp, "bin")
    rc, out, err = mv(*BASIC, "view", "--max-bytes", "16", "--binary",
                      path, "int_array", "64")
    rc2, hexed, err2 = mv(*BASIC, "view", "--json", "--as", "B",
                          "int_array", "64")
    try:
        want = bytes(json.loads(hexed)["values"])
    except (ValueError, KeyError):
        want = None
    got = open(path, "rb").read() if os.path.exists(path) else None
    check(rc == 0 and got == want and len(got or b"") == 64,
          "view --binary is not refused by --max-bytes", (rc, err, err2))
    rc, out, err = mv(*BASIC, "referrers", "0")
    check(rc == 1 and "NULL" in err and not out,
          "referrers 0: refused in one line, not every zero word",
          (rc, out[:200], err))
    # One convention for heap addresses: the block as malloc returned it
    # (the fixture's own list_head value), in heap --chunks and in the
    # --pointers annotation, as gc, referrers and path-to give it.
    head = int(facts("basic")["value list_head"], 16)
    rc, out, err = mv(*BASIC, "heap", "--chunks")
    check(rc == 0 and re.search(r"^0x%016x 0x%016x " % (head, head - 16),
                                out, re.M),
          "heap --chunks: the block first, then its header", (rc, err))
    rc, out, err = mv(*BASIC, "view", "--pointers", "&list_head", "8")
    check(rc == 0 and ("heap: in-use block 0x%x," % head) in out,
          "view --pointers names the block as malloc returned it",
          (rc, out, err))
    rc, out, err = mv(*BASIC, "referrers", "0x123456789")
    check(rc == 0 and "in no mapping" in out and "0 referrers" in out,
          "referrers of an unmapped address says so", (rc, out, err))


def test_debugger_names():
    """gdb names its own command in usage errors, and `show memview` the
    value an empty setting means (the commands' defaults, as their help
    states them)."""
    env = dict(os.environ,
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
    env.pop("PYTHONPATH", None)
    p = subprocess.run(["gdb", "-nx", "-batch", "-q", "-ex",
                        "source " + os.path.join(ROOT, "gdb", "memview.py"),
                        "-ex", "mv-layout",
                        "-ex", "show memview max-objects",
                        "-ex", "help mv-graph"],
                       capture_output=True, text=True, timeout=60,
                       env=env, stdin=subprocess.DEVNULL)
    text = p.stdout + p.stderr
    check("mv-layout needs" in text and "\nlayout needs" not in text,
          "gdb: a usage error names mv-layout", text[-300:])
    m = re.search(r"--max-objects N.*\(default: (\d+)\)", text)
    line = [l for l in text.splitlines()
            if l.startswith("memview max-objects:")]
    check(m and line and ("%s (graph)" % m.group(1)) in line[0],
          "gdb: show memview max-objects gives the commands' defaults",
          (line, m and m.group(1)))


def test_path_to_expressions():
    """path-to names each hop as a C expression while types allow, and
    the expression holding the target, evaluated by gdb on the same core
    (the oracle), is the target's address."""
    core = os.path.join(BUILD, "cores/deepsize.core")
    exe = os.path.join(BUILD, "fixtures/deepsize")
    targets = ["list->next->next->next", "tree->left->right->left",
               "parray->items[3]", "dag->kids[1]", "person->name",
               "vec->data", "dlist->next->next"]
    found = []
    for t in targets:
        rc, out, err = mv("--core", core, "--exe", exe, "path-to", t,
                          "--json")
        try:
            d = json.loads(out)
            expr = d["chain"][-1]["expression"]
            found.append((t, d["target"], expr))
        except (ValueError, KeyError, IndexError, TypeError):
            check(False, "path-to %s --json" % t, (rc, out[-200:], err))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
            "-ex", "file " + exe, "-ex", "core-file " + core]
    for _, _, expr in found:
        argv += ["-ex", "printf \"MV %%lx\\n\", (unsigned long)(%s)" %
                 (expr or "0")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=env, stdin=subprocess.DEVNULL)
    values = re.findall(r"^MV ([0-9a-f]+)$", p.stdout, re.M)
    for k, (t, target, expr) in enumerate(found):
        got = int(values[k], 16) if k < len(values) else None
        check(expr is not None and got == int(target, 16),
              "path-to %s: the holder is named %s, and gdb evaluates it "
              "to the target" % (t, expr), (got, target, p.stderr[-200:]))


def test_referrer_expressions():
    """A global referrer is named by its variable and member; gdb (the
    oracle) takes that expression's address to the holder."""
    core = os.path.join(BUILD, "cores/deepsize.core")
    exe = os.path.join(BUILD, "fixtures/deepsize")
    named = []
    for t in ["list", "tree", "dag", "parray", "person"]:
        rc, out, err = mv("--core", core, "--exe", exe, "referrers", t,
                          "--json")
        try:
            refs = json.loads(out)["referrers"]
        except (ValueError, KeyError):
            check(False, "referrers %s --json" % t, (rc, err))
            continue
        named += [(r["expression"], r["holder"]) for r in refs
                  if r["kind"] == "global" and r["expression"]]
    check(len(named) >= 5, "global referrers are named", named)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
            "-ex", "file " + exe, "-ex", "core-file " + core]
    for expr, _ in named:
        argv += ["-ex", "printf \"MV %%lx\\n\", (unsigned long)&(%s)" % expr]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=env, stdin=subprocess.DEVNULL)
    values = re.findall(r"^MV ([0-9a-f]+)$", p.stdout, re.M)
    check(len(values) == len(named) and all(
        int(v, 16) == int(h, 16) for v, (_, h) in zip(values, named)),
        "gdb takes each named global referrer to its holder",
        (named, values, p.stderr[-200:]))


def test_fits_width():
    """Text output fits the width (issue 18.5): every line of these
    commands within 72 columns, with the same words in the same order as
    the unfolded output (the same command piped, no width)."""
    core = ["--core", os.path.join(BUILD, "cores/deepsize.core"),
            "--exe", os.path.join(BUILD, "fixtures/deepsize")]
    for words in (["sizeof-deep", "tree"], ["gc"], ["heap"],
                  ["gc", "--help"], ["path-to", "tree->left->right"],
                  ["doctor"], ["info"]):
        rc, wide, err = mv(*core, *words)
        rc2, folded, err2 = mv("--width", "72", *core, *words)
        # A word wider than the line (a path) stays whole, on its own.
        long = [l for l in folded.splitlines()
                if len(l) > 72 and len(l.split()) > 1]
        # doctor and info quote the memory available now (the derived
        # limits), which moves between the two runs on a busy machine.
        def same(text):
            return [re.sub(r"\d", "0", w) if words[0] in ("doctor", "info")
                    else w for w in text.split()]
        check(rc == rc2 == 0 and not long and same(wide) == same(folded),
              "--width 72: %s fits, same words" % " ".join(words),
              (rc, rc2, long[:2], err2))


def test_typed_diff(tmp):
    """Typed --diff marks the field that changed since the last view: the
    debugger itself writes padded_global.i between two views of a live
    fixture, so only i may be marked (text and JSON), in gdb and lldb."""
    exe = os.path.join(BUILD, "fixtures/basic")
    env = dict(os.environ, MV_FACTS=os.path.join(tmp, "basic.facts"),
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
    sessions = {
        "gdb": ["gdb", "-nx", "-batch", "-q", "-ex",
                "set debuginfod enabled off", "-ex",
                "source " + os.path.join(ROOT, "gdb", "memview.py"),
                "-ex", "file " + exe, "-ex", "break mv_fixture_stop",
                "-ex", "run", "-ex", "memview padded_global --diff",
                "-ex", "set var padded_global.i = 7",
                "-ex", "memview padded_global --diff --json",
                "-ex", "kill"],
        "lldb": ["lldb", "-b", "--no-lldbinit", "-o",
                 "command script import " +
                 os.path.join(ROOT, "lldb", "memview.py"),
                 "-o", "target create " + exe,
                 "-o", "breakpoint set -n mv_fixture_stop", "-o", "run",
                 "-o", "memview padded_global --diff",
                 "-o", "expr padded_global.i = 7",
                 "-o", "memview padded_global --diff --json",
                 "-o", "process kill"],
    }
    for front, argv in sessions.items():
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=120, env=env, stdin=subprocess.DEVNULL)
        changed = None
        for line in p.stdout.splitlines():
            if line.startswith('{"command":"view"'):
                fields = json.loads(line)["objects"][0]["fields"]
                changed = sorted(f["name"] for f in fields
                                 if f.get("changed"))
        check(changed == ["i"], "%s: typed --diff marks the field the "
              "debugger changed, and only it" % front,
              (changed, p.stderr[-300:]))


def core_args(name):
    return ["--core", os.path.join(BUILD, "cores", name + ".core"),
            "--exe", os.path.join(BUILD, "fixtures", name)]


def test_ci_use():
    """For CI (issue 18): gc --error-exitcode N exits N when a block is
    definitely or possibly lost, as valgrind's option does, and under
    --json a failure is one JSON object on stdout.  The counts come from
    the fixtures' keys (checked against valgrind by test_roots); a
    program that leaks nothing gets exit 0 from valgrind itself."""
    for name, extra in (("leaks", []), ("roots_cxx", []),
                        ("roots_cxx", ["--heuristics", "none"])):
        key = [l.split() for l in open(os.path.join(BUILD, "cores",
                                                     name + ".facts"))
               if l.startswith("block ")]
        none = "none" in extra
        want = 0
        for words in key:
            kinds = [w for w in words[4:]]
            kind = words[4]
            if not none:
                kind = next((w.split(":", 1)[1] for w in kinds
                             if w.startswith("default:")), kind)
            want += kind in ("definitely_lost", "possibly_lost")
        rc, out, err = mv(*core_args(name), "gc", "--error-exitcode", "3",
                          *extra)
        got = re.search(r"(\d+) blocks? definitely or possibly lost", err)
        check(want and rc == 3 and got and int(got.group(1)) == want and
              "gc:" in out,
              "gc --error-exitcode 3 on %s %s: exit 3, %d blocks as the "
              "key" % (name, " ".join(extra), want), (rc, err[-200:]))
        rc, out, err = mv(*core_args(name), "gc", "--json",
                          "--error-exitcode", "3", *extra)
        try:
            d = json.loads(out)
        except ValueError:
            d = {}
        check(rc == 3 and d.get("command") == "gc" and "error" not in d,
              "gc --json --error-exitcode on %s: the answer, exit 3" % name,
              (rc, out[:200]))
    # valgrind's own --error-exitcode on the basic fixture run to its end
    # (all its blocks are held by globals): 0, so memview's must be too.
    v = subprocess.run(["valgrind", "-q", "--leak-check=full",
                        "--error-exitcode=3",
                        os.path.join(BUILD, "fixtures", "basic")],
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    rc, out, err = mv(*core_args("basic"), "gc", "--error-exitcode", "3")
    check(v.returncode == 0 and rc == 0,
          "gc --error-exitcode on a program valgrind finds clean: exit 0",
          (v.returncode, rc, err))
    rc, out, err = mv(*core_args("basic"), "gc", "--refcount",
                      "struct node.value", "--error-exitcode", "3")
    check(rc == 2, "--error-exitcode with --refcount: a usage error", rc)
    # Errors under --json: one object with the code and the message that
    # stderr carries, the exit status unchanged.
    for args, code, status in (
            (["layout", "nosuch", "--json"], "not_found", 1),
            (["layout", "--json", "--bogus"], "usage", 2),
            (["view", "--json",
              "list_head->next->next->next->next->next", "8"], "fault", 1)):
        rc, out, err = mv(*core_args("basic"), *args)
        try:
            d = json.loads(out)
        except ValueError:
            d = {}
        e = d.get("error", {})
        check(rc == status and d.get("command") == args[0] and
              e.get("code") == code and e.get("message") and
              e.get("message") in err,
              "%s: error as JSON (%s), exit %d" % (" ".join(args), code,
                                                   status),
              (rc, out[:300], err[:200]))
    # In gdb the same option makes the command fail after its answer.
    env = dict(os.environ,
               MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
    env.pop("PYTHONPATH", None)
    p = subprocess.run(["gdb", "-nx", "-batch", "-q",
                        os.path.join(BUILD, "fixtures", "leaks"),
                        os.path.join(BUILD, "cores", "leaks.core"),
                        "-ex", "source " + os.path.join(ROOT, "gdb",
                                                        "memview.py"),
                        "-ex", "mv-gc --error-exitcode 3"],
                       capture_output=True, text=True, timeout=120,
                       env=env, stdin=subprocess.DEVNULL)
    check("gc:" in p.stdout and "definitely or possibly lost" in p.stderr
          and p.returncode != 0,
          "gdb: mv-gc --error-exitcode answers, then fails",
          (p.returncode, p.stderr[-300:]))


def test_byte_buffers():
    """An unsigned char * is a byte buffer, not a string (issue 18.7):
    sizeof-deep counts bigbuf's 64 MiB block whole, as the fixture's
    malloc_usable_size gives it, not up to the first zero byte."""
    f = facts("bigbuf")
    rc, out, err = mv(*core_args("bigbuf"), "sizeof-deep", "big", "--json")
    try:
        d = json.loads(out)
    except ValueError:
        d = {}
    rows = {r["type"]: r for r in d.get("by_type", [])}
    row = rows.get("unsigned char[] (bytes)", {})
    check(rc == 0 and row.get("bytes") == int(f["usable big"]) and
          int(f["usable big"]) >= int(f["big_size"]),
          "sizeof-deep of an unsigned char *: its whole block (%s bytes "
          "usable)" % f.get("usable big"), (rc, d.get("by_type"), err))


def test_info_allocators():
    """info names the allocators a program links (issue 17): for each
    fixture, what readelf says the executable needs (its DT_NEEDED) and
    the allocator libraries among them, with glibc's malloc always."""
    libs = {"libtcmalloc_minimal": "tcmalloc", "libjemalloc": "jemalloc",
            "libmimalloc": "mimalloc", "libc.so": "glibc malloc"}
    for name in ("basic", "tcmalloc", "jemalloc", "mimalloc"):
        exe = os.path.join(BUILD, "fixtures", name)
        core = os.path.join(BUILD, "cores", name + ".core")
        p = subprocess.run(["readelf", "-d", exe], capture_output=True,
                           text=True)
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", p.stdout)
        want = sorted({m for n in needed for k, m in libs.items()
                       if n.startswith(k)} | {"glibc malloc"})
        rc, out, err = mv("--core", core, "--exe", exe, "info", "--json")
        got = sorted(a["model"] for a in json.loads(out)["allocators"]) \
            if rc == 0 else err
        check(got == want, "info --json: %s links %s" % (name, want),
              (got, needed))
        rc, text, err = mv("--core", core, "--exe", exe, "info")
        line = [l for l in text.splitlines()
                if l.startswith("allocators linked:")]
        check(rc == 0 and len(line) == 1 and
              all(m in line[0] for m in want),
              "info: %s's allocators line names them" % name, line)


def main():
    import tempfile
    test_ci_use()
    test_byte_buffers()
    test_info_allocators()
    test_fits_width()
    with tempfile.TemporaryDirectory(prefix="mv-diff-") as tmp:
        test_typed_diff(tmp)
    test_path_to_expressions()
    test_referrer_expressions()
    with tempfile.TemporaryDirectory(prefix="mv-cli-") as tmp:
        test_frictions(tmp)
    test_debugger_names()
    test_variable_wins()
    test_hostile_names()
    test_progress()
    test_objfile_warnings()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
