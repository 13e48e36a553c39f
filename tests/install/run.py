"""Install tests: make install into a scratch DESTDIR, then use it as a
user would, with nothing from the source tree.

Usage: BUILD=build python3 tests/install/run.py

Checks the installed files, the library's SONAME and exported symbols,
a pkg-config compile and link of tests/install/smoke.c run on a fixture's
core, the gdb and lldb plugins loaded from their installed paths (the
README's lines), and the manual pages rendered by man.  Prints one line
per case and "install: N passed, M failed".
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
EXE = os.path.join(BUILD, "fixtures", "basic")
CORE = os.path.join(BUILD, "cores", "basic.core")
PREFIX = "/usr/local"
PYTHON = "/usr/bin/python3"  # Debian's, whose path the install targets
TIMEOUT = 120

ENV = dict(os.environ)
for name in ("MEMVIEW_LIBRARY", "PYTHONPATH", "PYTHONHOME",
             "LD_LIBRARY_PATH", "PKG_CONFIG_PATH"):
    ENV.pop(name, None)  # the installed files must find each other
ENV["PATH"] = "/usr/bin:/bin:" + os.environ.get("PATH", "")

results = []


def report(name, problems):
    results.append(not problems)
    print("%s %s" % ("ok  " if not problems else "FAIL", name))
    for problem in problems:
        print("       " + problem)
    sys.stdout.flush()


def run(argv, env=None, cwd=None):
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=TIMEOUT, env=env or ENV,
                           cwd=cwd or ROOT, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %d s" % TIMEOUT
    except OSError as e:
        return None, "", str(e)


def json_after(text, marker):
    """The first JSON object on a line after marker (debugger echoes)."""
    at = text.find(marker)
    for line in text[at if at >= 0 else 0:].splitlines():
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def test_files(dest):
    problems = []
    root = dest + PREFIX
    for path in ("bin/memview", "include/memview.h", "lib/libmemview.a",
                 "lib/libmemview.so", "lib/libmemview.so.0",
                 "lib/libmemview.so.0.1.0", "lib/pkgconfig/memview.pc",
                 "share/memview/gdb/memview.py",
                 "share/memview/lldb/memview.py",
                 "share/memview/python/memview_core.py",
                 "share/memview/python/memview.py",
                 "share/man/man1/memview.1", "share/man/man7/memview.7",
                 "share/man/man3/libmemview.3"):
        if not os.path.exists(os.path.join(root, path)):
            problems.append("missing %s" % path)
    for link, target in (("libmemview.so", "libmemview.so.0"),
                         ("libmemview.so.0", "libmemview.so.0.1.0")):
        path = os.path.join(root, "lib", link)
        if os.path.islink(path) and os.readlink(path) != target:
            problems.append("%s -> %s, want %s" %
                            (link, os.readlink(path), target))
    rc, out, err = run([os.path.join(root, "bin", "memview"), "--version"])
    if rc != 0 or not out.startswith("memview "):
        problems.append("memview --version: %r %r" % (out, err))
    report("installed files, symlinks, the program runs", problems)


def test_library(dest):
    lib = dest + PREFIX + "/lib/libmemview.so.0.1.0"
    problems = []
    rc, out, err = run(["readelf", "-d", lib])
    soname = re.search(r"\(SONAME\)\s+Library soname: \[(.*)\]", out)
    if not soname or soname.group(1) != "libmemview.so.0":
        problems.append("SONAME %s" % (soname.group(1) if soname else None))
    rc, out, err = run(["nm", "-D", "--defined-only", lib])
    symbols = [line.split()[-1] for line in out.splitlines()
               if len(line.split()) == 3]
    if not symbols:
        problems.append("no exported symbols: %s" % err)
    leaked = [s for s in symbols if not s.startswith("mv_")]
    if leaked:
        problems.append("exported without mv_: %s" % " ".join(leaked[:10]))
    # Every public function of the header is exported and named in the
    # manual page.
    with open(os.path.join(ROOT, "core", "memview.h")) as f:
        header = f.read()
    with open(os.path.join(ROOT, "man", "libmemview.3")) as f:
        manual = f.read()
    declared = re.findall(r"MV_PUBLIC[^;(]*?\b(mv_\w+)\s*[(;]", header)
    for name in declared:
        if name not in symbols:
            problems.append("%s declared but not exported" % name)
        if name not in manual:
            problems.append("%s missing from libmemview(3)" % name)
    report("library: SONAME libmemview.so.0, only mv_ symbols, "
           "all documented (%d)" % len(declared), problems)


def test_pkg_config(dest, tmp):
    """Compile, link and run a program against the installed library."""
    problems = []
    env = dict(ENV, PKG_CONFIG_PATH=dest + PREFIX + "/lib/pkgconfig",
               PKG_CONFIG_SYSROOT_DIR=dest)
    rc, flags, err = run(["pkg-config", "--cflags", "--libs", "memview"],
                         env)
    if rc != 0:
        report("pkg-config compile and link", ["pkg-config: " + err.strip()])
        return None
    # pkg-config escapes a space in a path as a shell would.
    words = shlex.split(flags)
    if "-I%s%s/include" % (dest, PREFIX) not in words or \
            "-lmemview" not in words:
        problems.append("pkg-config flags: %s" % flags.strip())
    rc, version, err = run(["pkg-config", "--modversion", "memview"], env)
    if version.strip() != "0.1.0":
        problems.append("modversion %r" % version)
    program = os.path.join(tmp, "smoke")
    rc, out, err = run(["cc", "-std=c11", "-Wall", "-Werror", "-o", program,
                        os.path.join(ROOT, "tests", "install", "smoke.c")] +
                       words)
    if rc != 0:
        report("pkg-config compile and link", problems +
               ["cc: " + err.strip()[-500:]])
        return None
    # Installed under any PREFIX, the program finds the library without
    # LD_LIBRARY_PATH: the .pc file gives an rpath to its libdir (here
    # under the staging sysroot, which pkg-config puts in front).
    rc, out, err = run(["readelf", "-d", program])
    if "%s%s/lib]" % (dest, PREFIX) not in out:
        problems.append("no RUNPATH %s/lib in the program: %s" %
                        (PREFIX, [l for l in out.splitlines()
                                  if "PATH" in l]))
    run_env = dict(ENV, LD_LIBRARY_PATH=dest + PREFIX + "/lib")
    rc, out, err = run(["ldd", program], run_env)
    if dest + PREFIX + "/lib/libmemview.so.0" not in out:
        problems.append("not linked to the installed library: %s" % out)
    rc, out, err = run([program, CORE, EXE, "layout", "'struct node' --json"],
                       run_env)
    value = None
    try:
        value = json.loads(out)
    except ValueError:
        problems.append("output is not JSON (exit %s): %r %r" %
                        (rc, out[:200], err[-200:]))
    if value is not None:
        names = [m.get("name") for m in value.get("members", [])]
        if value.get("type") != "struct node" or \
                "next" not in names:
            problems.append("unexpected layout: %s" % json.dumps(value)[:200])
    report("pkg-config compile and link; layout --json through the API",
           problems)
    return value


def gdb_on_core(dest, command):
    """gdb with the installed plugin on the fixture's core: command's
    output follows a line MARK."""
    plugin = dest + PREFIX + "/share/memview/gdb/memview.py"
    return run(["gdb", "-nx", "-batch", "-q",
                "-ex", "set debuginfod enabled off",
                "-ex", "source " + plugin,
                "-ex", "file " + EXE, "-ex", "core " + CORE,
                "-ex", "echo MARK\\n", "-ex", command])


def test_gdb(dest, expected):
    rc, out, err = gdb_on_core(dest, "mv-layout 'struct node' --json")
    problems = []
    value = json_after(out, "MARK")
    if value is None:
        problems.append("no JSON from gdb (exit %s): %r" %
                        (rc, (out + err)[-400:]))
    elif expected is not None and value != expected:
        problems.append("gdb's JSON differs from the C program's")
    if "Traceback" in out + err or "Python Exception" in out + err:
        problems.append("traceback: %r" % (out + err)[-400:])
    report("gdb: source the installed plugin, mv-layout", problems)


def test_lldb(dest, expected):
    plugin = dest + PREFIX + "/share/memview/lldb/memview.py"
    rc, out, err = run(["lldb", "-b", "--no-lldbinit",
                        "-o", "command script import " + shlex.quote(plugin),
                        "-o", "target create %s --core %s" % (EXE, CORE),
                        "-o", "mv-layout 'struct node' --json"])
    problems = []
    value = json_after(out, "mv-layout 'struct node' --json")
    if value is None:
        problems.append("no JSON from lldb (exit %s): %r" %
                        (rc, (out + err)[-400:]))
    elif expected is not None and value != expected:
        problems.append("lldb's JSON differs from the C program's")
    if "Traceback" in out + err:
        problems.append("traceback: %r" % (out + err)[-400:])
    report("lldb: command script import the installed plugin, mv-layout",
           problems)


def python_site(dest):
    """Where the install put memview.py for python3: one of the
    directories Debian's python3 itself searches under PREFIX."""
    rc, out, err = run([PYTHON, "-c",
                        "import sys; print('\\n'.join(sys.path))"])
    for directory in out.splitlines():
        if directory.startswith(PREFIX + "/lib/") and \
                os.path.isfile(dest + directory + "/memview.py"):
            return dest + directory
    return None


PYTHON_SCRIPT = """
import json, sys, memview
facts = dict(l.rstrip("\\n").rsplit(" ", 1) for l in open(sys.argv[3]))
s = memview.open_core(sys.argv[1], sys.argv[2])
head = s.object("list_head")
print(json.dumps({
    "module": memview.__file__,
    "layout": s.run("layout 'struct node'"),
    "head": hex(int(head)) == facts["value list_head"],
    "value": int(head.value) == int(facts["value list_head->value"]),
    "next": hex(int(head.next)) == facts["value list_head->next"],
    "padded": str(s.object("padded_global").member("l")) ==
        facts["value padded_global.l"]}))
"""


def test_python(dest, expected):
    """import memview from the system python3, as a user's script does:
    the module from python3's own path, the library found from it."""
    site = python_site(dest)
    if site is None:
        report("python3: import memview (installed)",
               ["memview.py is not in a directory python3 searches under "
                "%s" % PREFIX])
        return
    env = dict(ENV, PYTHONPATH=site)  # the staging root's copy of it
    rc, out, err = run([PYTHON, "-c", PYTHON_SCRIPT, CORE, EXE,
                        CORE.replace(".core", ".facts")], env,
                       cwd=tempfile.gettempdir())
    problems = []
    try:
        answer = json.loads(out.splitlines()[-1])
    except (ValueError, IndexError):
        report("python3: import memview (installed)",
               ["exit %s: %r" % (rc, (out + err)[-600:])])
        return
    if not answer["module"].startswith(site):
        problems.append("imported %s" % answer["module"])
    if expected is not None and answer["layout"] != expected:
        problems.append("run('layout ...') differs from the C program's")
    for key in ("head", "value", "next", "padded"):
        if answer[key] is not True:
            problems.append("%s differs from the fixture's facts" % key)
    report("python3: import memview from %s, values = the fixture's "
           "facts" % site[len(dest):], problems)
    # In gdb, from the installed plugin's directory.
    rc, out, err = gdb_on_core(
        dest, "python import json, memview; print(json.dumps(memview."
        "session().run(\"layout 'struct node'\")))")
    value = json_after(out, "MARK")
    report("gdb: import memview beside the installed plugin, "
           "memview.session().run()",
           [] if value is not None and value == expected else
           ["got %r" % (out + err)[-400:]])


def test_man(dest):
    problems = []
    for page, title in (("man1/memview.1", "MEMVIEW(1)"),
                        ("man7/memview.7", "MEMVIEW(7)"),
                        ("man3/libmemview.3", "LIBMEMVIEW(3)")):
        path = dest + PREFIX + "/share/man/" + page
        env = dict(ENV, MANWIDTH="80", MAN_KEEP_FORMATTING="")
        rc, out, err = run(["man", "-l", path], env)
        if rc != 0 or title not in out or "NAME" not in out:
            problems.append("man -l %s: exit %s %r" % (page, rc, err[-200:]))
        rc, out, err = run(["groff", "-man", "-ww", "-z", path])
        if rc != 0 or err.strip():
            problems.append("groff warnings in %s: %s" %
                            (page, err.strip()[:300]))
    # memview(1) lists every command of the table.
    rc, names, err = run([dest + PREFIX + "/bin/memview", "--help"])
    commands = re.findall(r"^  (\S+)\s", names.split("Commands:")[-1]
                          .split("Settings")[0], re.MULTILINE)
    with open(dest + PREFIX + "/share/man/man1/memview.1") as f:
        page = f.read()
    for command in commands:
        if '.SS "%s"' % command.replace("-", "\\-") not in page:
            problems.append("memview(1) lacks command %s" % command)
    report("man pages render without warnings; memview(1) has all %d "
           "commands" % len(commands), problems)


def test_readme(dest):
    """The README's ~/.gdbinit and ~/.lldbinit lines name installed files."""
    problems = []
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for pattern in (r"^source (/\S+/gdb/memview\.py)$",
                    r"^command script import (/\S+/lldb/memview\.py)$"):
        match = re.search(pattern, readme, re.MULTILINE)
        if not match:
            problems.append("README lacks a line matching %s" % pattern)
        elif not os.path.isfile(dest + match.group(1)):
            problems.append("README names %s, not installed" %
                            match.group(1))
    report("README's init-file lines name the installed plugins", problems)


def main():
    for path in (EXE, CORE):
        if not os.path.exists(path):
            print("install: missing %s: run 'make' first" % path)
            print("install: 0 passed, 1 failed")
            return 1
    # pkgconf mangles a PKG_CONFIG_SYSROOT_DIR holding a space (the
    # sysroot twice, once unescaped): then the staging root is under
    # /tmp rather than a TMPDIR with a space (make install takes one).
    scratch = tempfile.gettempdir()
    tmp = tempfile.mkdtemp(prefix="memview-install-",
                           dir="/tmp" if " " in scratch else scratch)
    try:
        dest = os.path.join(tmp, "dest")
        rc, out, err = run(["make", "-s", "--no-print-directory",
                            "BUILD=" + os.path.relpath(BUILD, ROOT),
                            "DESTDIR=" + dest, "PREFIX=" + PREFIX,
                            "install"])
        report("make install DESTDIR=... PREFIX=" + PREFIX,
               [] if rc == 0 else ["exit %s: %s" % (rc, err[-500:])])
        if rc == 0:
            test_files(dest)
            test_library(dest)
            expected = test_pkg_config(dest, tmp)
            test_gdb(dest, expected)
            test_lldb(dest, expected)
            test_python(dest, expected)
            test_man(dest)
            test_readme(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    failed = len(results) - passed
    print("install: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
