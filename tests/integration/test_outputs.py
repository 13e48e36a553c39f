"""Files the commands write (issue: robustness, output files).

Every option that names an output file (view --output and --binary,
sizeof-deep --svg, gc --dot and --svg, graph --output, --dot and --svg):

- a new file is created and holds the answer;
- an existing file that holds data is refused in one line naming the
  option and --force, exit status 1, and its bytes are left as they were;
  with --force it is written; an existing empty file (mktemp's) is
  written without --force;
- a write error (/dev/full) is an error with a non-zero exit status,
  never a clean "wrote ..." line;
- a command that fails after opening its file (an expression that does
  not evaluate) leaves no file behind.

The `force` setting does what --force does: the program's `--force on`
before the command, gdb's `set memview force on`, lldb's `mv-settings
force on`.  graph --json prints the graph itself as one JSON object
(nothing after it), whatever the front end.

Expected values are the files' own bytes (read back with Python) and the
exit statuses; the graph's JSON is compared with the file --output
wrote.  Ends with "outputs: N passed, M failed"."""
import json
import os
import shlex
import subprocess
import sys
import tempfile

from mvcheck import Tally, missing

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
CORE = os.path.join(BUILD, "cores", "deepsize.core")
EXE = os.path.join(BUILD, "fixtures", "deepsize")
T = Tally("outputs", verbose="-v" in sys.argv)
OLD = b"the user's own data\n"
# The debuggers run the build's library; lldb's embedded Python takes its
# prefix from the first python3 on PATH.
ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"))
ENV.pop("PYTHONPATH", None)
ENV.pop("PYTHONHOME", None)
ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")


def memview(*args):
    p = subprocess.run([MEMVIEW, "--core", CORE, "--exe", EXE] + list(args),
                       capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


# (name, argv with {} for the file, what the file starts with)
CASES = [
    ("view --output", ["view", "dag", "--output", "{}"], b"struct dag"),
    ("view --binary", ["view", "dag", "--binary", "{}"], None),
    ("sizeof-deep --svg", ["sizeof-deep", "dag", "--svg", "{}"], b"<"),
    ("gc --dot", ["gc", "--dot", "{}"], b"digraph"),
    ("gc --svg", ["gc", "--svg", "{}"], b"<"),
    ("graph --output", ["graph", "dag", "--output", "{}"], b"{"),
    ("graph --dot", ["graph", "dag", "--dot", "{}"], b"digraph"),
    ("graph --svg", ["graph", "dag", "--svg", "{}"], b"<"),
]


def argv_for(argv, path):
    return [path if a == "{}" else a for a in argv]


def option_of(argv):
    return next(a for a in argv if a.startswith("--"))


def test_case(name, argv, head, tmp):
    path = os.path.join(tmp, name.replace(" ", "_").replace("-", ""))
    # A new file.
    rc, out, err = memview(*argv_for(argv, path))
    data = open(path, "rb").read() if os.path.exists(path) else None
    T.check(name + ": a new file is written", rc == 0 and data and
            (head is None or data.startswith(head)), (rc, err, data and
                                                      data[:40]))
    # An existing file with data: refused, untouched.
    with open(path, "wb") as f:
        f.write(OLD)
    rc, out, err = memview(*argv_for(argv, path))
    T.check(name + ": an existing file is refused, left as it was",
            rc == 1 and option_of(argv) in err and "--force" in err and
            open(path, "rb").read() == OLD, (rc, err))
    # --force writes over it.
    rc, out, err = memview(*argv_for(argv, path) + ["--force"])
    data = open(path, "rb").read()
    T.check(name + ": --force writes over it", rc == 0 and data != OLD and
            (head is None or data.startswith(head)), (rc, err))
    # The setting does the same.
    with open(path, "wb") as f:
        f.write(OLD)
    p = subprocess.run([MEMVIEW, "--force", "on", "--core", CORE, "--exe",
                        EXE] + argv_for(argv, path), capture_output=True,
                       text=True, timeout=120)
    T.check(name + ": the force setting writes over it",
            p.returncode == 0 and open(path, "rb").read() != OLD,
            (p.returncode, p.stderr))
    # An empty file (mktemp's) is written without --force.
    open(path, "wb").close()
    rc, out, err = memview(*argv_for(argv, path))
    T.check(name + ": an empty existing file is written",
            rc == 0 and os.path.getsize(path) > 0, (rc, err))
    # A full disk is an error.
    rc, out, err = memview(*argv_for(argv, "/dev/full"))
    T.check(name + ": /dev/full is an error", rc not in (0, None) and
            "No space left" in err and "wrote" not in out, (rc, out, err))


def test_failed_command_leaves_nothing(tmp):
    for name, argv in [
            ("graph", ["graph", "no_such_variable", "--output", "{}"]),
            ("sizeof-deep", ["sizeof-deep", "no_such_variable", "--svg",
                             "{}"])]:
        path = os.path.join(tmp, "failed-" + name)
        rc, out, err = memview(*argv_for(argv, path))
        T.check(name + ": a failed command leaves no file behind",
                rc != 0 and not os.path.exists(path), (rc, err))


def test_graph_json_on_stdout(tmp):
    path = os.path.join(tmp, "graph.json")
    rc, out, err = memview("graph", "dag", "--output", path)
    rc2, out2, err2 = memview("graph", "dag", "--json")
    try:
        ok = json.loads(out2) == json.load(open(path))
    except ValueError as e:
        ok, err2 = False, "%s: %r" % (e, out2[-200:])
    T.check("graph --json: the graph, one JSON object on stdout",
            rc == 0 and rc2 == 0 and ok, (rc, err, rc2, err2))
    rc, out, err = memview("graph", "dag", "--output", path, "--force",
                           "--json")
    try:
        d = json.loads(out)
        ok = d["output"] == path and d["node_count"] == len(
            json.load(open(path))["nodes"])
    except (ValueError, KeyError) as e:
        ok, err = False, "%s: %r" % (e, out[-200:])
    T.check("graph --output --json: a JSON summary naming the file",
            rc == 0 and ok, (rc, err))


def debugger_session(argv, path):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=180,
                       stdin=subprocess.DEVNULL, env=ENV)
    return p.stdout + p.stderr


def test_debuggers(tmp):
    """The refusal and the setting in gdb and lldb."""
    path = os.path.join(tmp, "dbg.dot")
    with open(path, "wb") as f:
        f.write(OLD)
    text = debugger_session(
        ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
         "-ex", "source %s/gdb/memview.py" % ROOT, "-ex", "file " + EXE,
         "-ex", "core-file " + CORE,
         "-ex", "mv-gc --dot " + shlex.quote(path)], path)
    T.check("gdb: an existing file is refused",
            "--force" in text and open(path, "rb").read() == OLD,
            text[-300:])
    text = debugger_session(
        ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
         "-ex", "source %s/gdb/memview.py" % ROOT, "-ex", "file " + EXE,
         "-ex", "core-file " + CORE, "-ex", "set memview force on",
         "-ex", "mv-gc --dot " + shlex.quote(path)], path)
    T.check("gdb: set memview force on writes over it",
            open(path, "rb").read().startswith(b"digraph"), text[-300:])
    with open(path, "wb") as f:
        f.write(OLD)
    lldb = ["lldb", "-b", "--no-lldbinit", "-o",
            "command script import %s/lldb/memview.py" % ROOT, "-o",
            "target create %s --core %s" % (EXE, CORE)]
    text = debugger_session(
        lldb + ["-o", "mv-gc --dot " + shlex.quote(path)], path)
    T.check("lldb: an existing file is refused",
            "--force" in text and open(path, "rb").read() == OLD,
            text[-300:])
    text = debugger_session(lldb + ["-o", "mv-settings force on", "-o",
                                    "mv-gc --dot " + shlex.quote(path)],
                            path)
    T.check("lldb: mv-settings force on writes over it",
            open(path, "rb").read().startswith(b"digraph"), text[-300:])


def main():
    if missing("outputs", [MEMVIEW, CORE, EXE]):
        return 1
    with tempfile.TemporaryDirectory(prefix="mv-outputs-") as tmp:
        for name, argv, head in CASES:
            test_case(name, argv, head, tmp)
        test_failed_command_leaves_nothing(tmp)
        test_graph_json_on_stdout(tmp)
        test_debuggers(tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
