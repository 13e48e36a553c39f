"""The Python API (`import memview`, docs/python.md) as scripts use it.

pyapi_probe.py walks the basic fixture's values through the module
(memview.open_core, attach, session; Value.member, attribute access,
indexing, deref, cast; int, str, bytes, string) and writes what it read.
It runs in:

1. the system python3 (/usr/bin/python3) on basic.core;
2. the system python3 on the fixture running (memview.attach(pid));
3. gdb's Python on the core: memview.open_core, and memview.session()
   (the plugin's session, gdb's own expressions);
4. lldb's Python on the core: the same two.

Expected values come from elsewhere:

- gdb's own answer on the same core (pyapi_gdbprint.py): each value's
  address, sizeof, integer value and bytes, and what `output` prints,
  which str(value) must equal.  Narrow normalisations, each a spelling
  gdb chooses: base types by gdb's short names ("long" for "long int"),
  characters past ASCII in octal ('\\310' for '\\xc8').  A bitfield has
  no address in C, so its address and bytes are not compared.
- the fixture's facts (its own sizeof, addresses and values, also of the
  live process);
- the memview program: s.run(...) equals `memview ... --json`, s.text(...)
  its text, errors carry its code and message.
- the errors a script must get: the code for a name that is not there,
  the address of an unmapped read (the address the test asked for).

Every front end's records must be the same.  Usage: BUILD=build
/usr/bin/python3 tests/integration/test_pyapi.py; ends with
"pyapi: N passed, M failed"."""

import importlib.util
import json
import os
import re
import sys
import tempfile

from mvcheck import Tally, missing, run_argv, start_fixture
from mvfacts import read_facts
# The basic fixture, the build and the debuggers' environment.
from run import BUILD, CORE, ENV, EXE, FACTS, MEMVIEW, ROOT

HERE = os.path.dirname(os.path.realpath(__file__))
PROBE = os.path.join(HERE, "pyapi_probe.py")
GDBPRINT = os.path.join(HERE, "pyapi_gdbprint.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 300
T = Tally("pyapi", verbose="-v" in sys.argv, detail_max=2000)

# gdb's short spellings of C's base types (what `whatis` prints).
GDB_TYPE_NAMES = {"long int": "long", "short int": "short",
                  "long unsigned int": "unsigned long",
                  "long long unsigned int": "unsigned long long",
                  "long long int": "long long",
                  "short unsigned int": "unsigned short"}
# The expressions the probe walks to, in C, for gdb.
EXPRS = re.findall(r'^    \("([^"]+)",', open(PROBE).read(), re.MULTILINE)
BITFIELDS = ("flags_global.a", "flags_global.b", "flags_global.c",
             "flags_global.e")


def run(argv, env=None, cwd=None):
    return run_argv(argv, env or ENV, cwd, TIMEOUT)


def load(path, what, rc, out, err):
    """The JSON a run wrote, or None after failing the case."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        T.check(what + ": wrote its answer", False,
                "exit %s: %s" % (rc, (out + err)[-1500:]))
        return None
    if "crashed" in data:
        T.check(what + ": no exception", False, data["crashed"])
        return None
    return data


def gdb_answer(tmp):
    out_path = os.path.join(tmp, "gdb-print.json")
    env = dict(ENV, MV_OUT=out_path, MV_EXPRS=json.dumps(EXPRS))
    rc, out, err = run(["gdb", "-nx", "-batch", "-q",
                        "-ex", "set debuginfod enabled off",
                        "-ex", "set print null-stop on",
                        "-ex", "file " + EXE, "-ex", "core " + CORE,
                        "-ex", "source " + GDBPRINT], env)
    return load(out_path, "gdb print", rc, out, err)


def probe_python(tmp, mode, extra):
    out_path = os.path.join(tmp, "python-%s.json" % mode)
    env = dict(ENV, MV_PROBE=mode, MV_OUT=out_path,
               PYTHONPATH=os.path.join(ROOT, "python"), **extra)
    rc, out, err = run([PYTHON, PROBE], env, cwd=tmp)
    return load(out_path, "python3 %s" % mode, rc, out, err)


def probe_gdb(tmp, mode):
    out_path = os.path.join(tmp, "gdb-%s.json" % mode)
    env = dict(ENV, MV_PROBE=mode, MV_OUT=out_path, MV_CORE=CORE,
               MV_EXE=EXE)
    rc, out, err = run(["gdb", "-nx", "-batch", "-q",
                        "-ex", "set debuginfod enabled off",
                        "-ex", "source %s/gdb/memview.py" % ROOT,
                        "-ex", "file " + EXE, "-ex", "core " + CORE,
                        "-ex", "source " + PROBE], env)
    return load(out_path, "gdb %s" % mode, rc, out, err)


def probe_lldb(tmp, mode):
    out_path = os.path.join(tmp, "lldb-%s.json" % mode)
    env = dict(ENV, MV_PROBE=mode, MV_OUT=out_path, MV_CORE=CORE,
               MV_EXE=EXE)
    rc, out, err = run(["lldb", "-b", "--no-lldbinit",
                        "-o", "command script import %s/lldb/memview.py"
                        % ROOT,
                        "-o", "target create %s --core %s" % (EXE, CORE),
                        "-o", "command script import " + PROBE], env)
    return load(out_path, "lldb %s" % mode, rc, out, err)


def gdb_spelling(text):
    """memview's (DWARF's) type spelling as gdb prints it."""
    for long_name, short in sorted(GDB_TYPE_NAMES.items(),
                                   key=lambda item: -len(item[0])):
        text = re.sub(r"\b%s\b" % long_name, short, text)
    return text


def octal_chars(text):
    """'\\xc8' as gdb writes it: '\\310'."""
    return re.sub(r"\\x([0-9a-f]{2})",
                  lambda m: "\\%03o" % int(m.group(1), 16), text)


def check_against_gdb(label, data, gdb):
    problems = []
    for expr in EXPRS:
        got, want = data["values"].get(expr), gdb.get(expr)
        if got is None or want is None or "error" in want:
            problems.append("%s: memview %s, gdb %s" % (
                expr, data["failed"].get(expr, got), want))
            continue
        fields = ["size", "int"]
        if expr not in BITFIELDS:
            fields += ["address", "bytes"]
        for field in fields:
            if field in want and got.get(field) != want[field]:
                problems.append("%s: %s %r, gdb %r" % (
                    expr, field, got.get(field), want[field]))
        if gdb_spelling(got["type"]) != want["type"]:
            problems.append("%s: type %r, gdb %r" % (expr, got["type"],
                                                     want["type"]))
        if octal_chars(got["str"]) != want["output"]:
            problems.append("%s: str %r, gdb prints %r" % (
                expr, got["str"], want["output"]))
    T.check("%s: %d values equal gdb's print (address, sizeof, value, "
            "bytes, type, text)" % (label, len(EXPRS)), not problems,
            "\n       ".join(problems))


def check_against_facts(label, data, facts):
    values = data["values"]
    problems = []
    compared = 0
    for key, fact in facts.items():
        kind, _, name = key.partition(" ")
        record = values.get(name)
        if record is None:
            continue
        if kind == "addr":
            got = record["address"]
        elif kind == "value":
            got = record.get("int")
        else:
            continue
        compared += 1
        if got is None or got != int(fact, 0):
            problems.append("%s: %r, the fixture says %s" % (key, got, fact))
    for struct, expr in (("struct padded", "padded_global"),
                         ("struct flags", "flags_global"),
                         ("struct node", "*list_head")):
        compared += 1
        if values.get(expr, {}).get("size") != \
                int(facts["sizeof " + struct]):
            problems.append("sizeof %s: %r" % (struct, values.get(expr)))
    T.check("%s: %d values equal the fixture's facts" % (label, compared),
            compared > 20 and not problems, "\n       ".join(problems))


def expected_errors(facts):
    """What each bad request of the probe must raise."""
    past = int(facts["value list_head"], 16) + (1 << 40) * \
        int(facts["sizeof struct node"])
    return [
        ["run layout nosuch", "Error", "not_found", None],
        ["object nosuch", "Error", "not_found", None],
        ["int *(long *)8", "Error", "fault", 8],
        ["int list_head[1 << 40].value", "Error", "fault",
         past + int(facts["offsetof struct node.value"])],
        ["member of an int", "Error", "invalid", None],
        ["member nosuch", "Error", "not_found", None],
        ["deref of an array", "Error", "invalid", None],
        ["int_array[5]", "IndexError", None, None],
        ["int of a struct", "TypeError", None, None],
        ["string at 0x10", "Error", "fault", 0x10],
    ]


def check_against_cli(label, data):
    problems = []
    for words, key in ((["layout", "struct node"], "layout"),
                       (["gc"], "gc")):
        rc, out, err = run([MEMVIEW, "--core", CORE, "--exe", EXE] +
                           words + ["--json"])
        if json.loads(out) != data[key]:
            problems.append("run(%r) differs from memview %s --json" %
                            (key, " ".join(words)))
    rc, out, err = run([MEMVIEW, "--core", CORE, "--exe", EXE, "layout",
                        "padded_global"])
    if out != data["layout_text"]:
        problems.append("text('layout padded_global') differs from the "
                        "program's output: %r" % data["layout_text"][:200])
    T.check("%s: run() is the program's --json, text() its output" % label,
            not problems, "\n       ".join(problems))


def check_errors(label, data, facts):
    want = expected_errors(facts)
    T.check("%s: bad requests raise memview.Error with code and address "
            "(or IndexError, TypeError)" % label, data["errors"] == want,
            "got %s, want %s" % (data["errors"], want))


def check_error_message():
    """memview.Error's message is the program's, from the same library
    call, on the same request."""
    code = ("import memview\n"
            "s = memview.open_core(%r, %r)\n"
            "try:\n    s.run('layout nosuch')\n"
            "except memview.Error as e:\n"
            "    print(e.code, e.message, sep='|')\n" % (CORE, EXE))
    rc, out, err = run([PYTHON, "-c", code],
                       dict(ENV, PYTHONPATH=os.path.join(ROOT, "python")))
    rc2, cli, err2 = run([MEMVIEW, "--core", CORE, "--exe", EXE, "layout",
                          "--json", "nosuch"])
    try:
        error = json.loads(cli)["error"]
        want = "%s|%s\n" % (error["code"], error["message"])
    except (ValueError, KeyError):
        want = None
    T.check("memview.Error: the code and message of the program's JSON "
            "error object", want is not None and out == want,
            "python %r, program %r %s" % (out, cli, err))


def live(tmp):
    """memview.attach(pid) on the fixture running: its facts."""
    process, facts_path = start_fixture(EXE, ENV, tmp, "live")
    if process is None:
        T.check("live: the fixture gets ready", False, "it did not")
        return None, None
    try:
        data = probe_python(tmp, "pid", {"MV_PID": str(process.pid)})
        return data, read_facts(facts_path)
    finally:
        process.kill()
        process.wait()


CTRL_C_SCRIPT = """
import json, os, signal, sys, threading, time
import memview
# Ctrl-C raises KeyboardInterrupt, as in a Python run at a terminal.
# Python leaves SIGINT alone when it starts with SIGINT ignored, as a
# background job's commands do (make check run with & or nohup): the
# SIGINT below was then ignored and the command ran to its end.
signal.signal(signal.SIGINT, signal.default_int_handler)
s = memview.open_core(sys.argv[1], sys.argv[2])
sent = []
def interrupt():
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(1.0, interrupt).start()
started = time.monotonic()
try:
    s.run("sizeof-deep --max-objects 20000000 (struct node *)0x600000000000")
    # Which went wrong: no SIGINT sent in the command's time, or one sent
    # and not seen.
    print(json.dumps({"finished": True, "took": time.monotonic() - started,
                      "sent": [t - started for t in sent]}))
except memview.Error as e:
    print(json.dumps({"code": e.code, "after": time.monotonic() - sent[0],
                      "partial": e.partial,
                      "again": int(s.object(
                          "(struct node *)0x600000000000").next)}))
"""


def ctrl_c(tmp):
    """SIGINT (Ctrl-C) a second into sizeof-deep of a 10-million-node
    list (tests/badinput's synthetic core, as ctrlc.py uses): run()
    raises Error "interrupted" within half a second, with the partial
    answer, and the session still answers."""
    # By its path: "run" is this directory's run.py.
    spec = importlib.util.spec_from_file_location(
        "badinput", os.path.join(ROOT, "tests", "badinput", "run.py"))
    badinput = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(badinput)
    core = badinput.Files(tmp).get("list10m_core")
    rc, out, err = run([PYTHON, "-c", CTRL_C_SCRIPT, core,
                        os.path.join(BUILD, "fixtures", "deepsize")],
                       dict(ENV, PYTHONPATH=os.path.join(ROOT, "python")))
    try:
        answer = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        T.check("Ctrl-C: run() raises memview.Error", False,
                "exit %s: %r" % (rc, (out + err)[-800:]))
        return
    partial = answer.get("partial") or {}
    T.check("Ctrl-C: run() raises Error 'interrupted' within 0.5 s with "
            "the partial answer; the session answers afterwards",
            answer.get("code") == "interrupted" and
            answer.get("after", 9) < 0.5 and
            partial.get("partial") is True and
            "interrupted" in partial.get("cut_by", []) and
            partial.get("objects", 0) > 0 and
            answer.get("again") == 0x600000000010,  # node_list's links
            answer)


def same_records(label, data, reference, own_evaluator):
    """With the debugger's evaluator (session()), an expression it
    refuses is its error ("invalid", with its message, no address):
    then only the kind of exception must agree."""
    keys = ("values", "failed", "errors", "layout", "gc", "layout_text")
    if not own_evaluator:
        data = dict(data, errors=[e[:2] for e in data["errors"]])
        reference = dict(reference,
                         errors=[e[:2] for e in reference["errors"]])
    diff = [k for k in keys if data.get(k) != reference.get(k)]
    detail = []
    for k in diff:
        if k == "values":
            detail += ["%s: %s / %s" % (e, data["values"].get(e),
                                        reference["values"].get(e))
                       for e in EXPRS if data["values"].get(e) !=
                       reference["values"].get(e)][:5]
        else:
            detail.append("%s: %r / %r" % (k, str(data.get(k))[:300],
                                           str(reference.get(k))[:300]))
    T.check("%s: the same values, errors and answers as python3" % label,
            not diff, "\n       ".join(detail))


def main():
    if missing("pyapi", [MEMVIEW, EXE, CORE, FACTS]):
        return 1
    facts = read_facts(FACTS)
    with tempfile.TemporaryDirectory(prefix="memview-pyapi-") as tmp:
        gdb = gdb_answer(tmp)
        core = probe_python(tmp, "core", {"MV_CORE": CORE, "MV_EXE": EXE})
        if core is not None:
            T.check("python3 imports the source tree's module",
                    core["module"] == os.path.join(ROOT, "python",
                                                   "memview.py"),
                    core["module"])
            if gdb is not None:
                check_against_gdb("python3 core", core, gdb)
            check_against_facts("python3 core", core, facts)
            check_errors("python3 core", core, facts)
            check_against_cli("python3 core", core)
        check_error_message()
        ctrl_c(tmp)
        data, live_facts = live(tmp)
        if data is not None:
            check_against_facts("python3 attach(pid)", data, live_facts)
            check_errors("python3 attach(pid)", data, live_facts)
        for label, data in (("gdb open_core", probe_gdb(tmp, "core")),
                            ("gdb session()", probe_gdb(tmp, "debugger")),
                            ("lldb open_core", probe_lldb(tmp, "core")),
                            ("lldb session()",
                             probe_lldb(tmp, "debugger"))):
            if data is not None and core is not None:
                same_records(label, data, core, "open_core" in label)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
