"""The examples of README.md and docs/*.md print what they show.

An example is a fenced block with a prompt in it:

- `$ memview ...` lines are run with sh (memview on PATH, the build's
  fixtures and cores as build/..., docs/ as docs/, in a scratch
  directory, so `>gc.txt` lands there); the lines after one, up to the next prompt, are what it
  must print (stdout and stderr, in the order written).  A `$` line
  that is not a memview command (rsvg-convert) is shown for the reader
  and not run; it must show no output.
- `(gdb) mv-...` lines run in gdb with the plugin on the demo's core
  (build/cores/basic.core, build/fixtures/basic), as the README says.
- `>>> ` lines (docs/python.md) run in the system python3 with the
  memview module, as doctest runs them: each is a statement or an
  expression whose repr (or printed output) follows.  Every block of
  a file is one session, as a reader types them in order.

Normalised on both sides, and nothing else: addresses (0x and 12 hex
digits, or 16 with four leading zeros; a hex view's address column),
the core's pid, build-ids, the bytes of roots gc scanned (the stack
holds the fixture's environment), and the numbers of the `limits` lines,
which come from this machine's memory.  Trailing blanks are ignored.
An example edited to show something memview does not print fails
here.

Usage: BUILD=build /usr/bin/python3 tests/integration/test_readme.py
Ends with "readme: N passed, M failed"."""

import doctest
import os
import re
import subprocess
import sys
import tempfile

from mvcheck import Tally, missing

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MEMVIEW = os.path.join(BUILD, "memview")
DOCS = ["README.md"] + sorted(
    os.path.join("docs", name) for name in os.listdir(os.path.join(ROOT,
                                                                   "docs"))
    if name.endswith(".md") and name != "commands.md")
TIMEOUT = 300
T = Tally("readme", verbose="-v" in sys.argv, detail_max=3000)

ENV = dict(os.environ, MEMVIEW_LIBRARY=os.path.join(BUILD, "libmemview.so"),
           PATH="%s:/usr/bin:/bin:%s" % (BUILD, os.environ.get("PATH", "")),
           COLUMNS="80")
ENV.pop("PYTHONHOME", None)
ENV["PYTHONPATH"] = os.path.join(ROOT, "python")

NORMALISE = [
    (re.compile(r"0x(0000)?[0-9a-f]{12}\b"), "0xADDR"),
    (re.compile(r"^[0-9a-f]{12}:", re.MULTILINE), "ADDR:"),
    (re.compile(r"\bpid \d+"), "pid N"),
    # The stacks' size depends on the environment the fixture ran in.
    (re.compile(r"\d+ bytes of roots"), "N bytes of roots"),
    (re.compile(r"build-id [0-9a-f]{16,}"), "build-id ID"),
    (re.compile(r"\.build-id/[0-9a-f]{2}/[0-9a-f]+\.debug"),
     ".build-id/ID.debug"),
]
LIMITS = re.compile(r"^(ok   )?limits\b.*$", re.MULTILINE)


def normalise(text):
    text = "\n".join(line.rstrip() for line in text.splitlines())
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    return LIMITS.sub(lambda m: re.sub(r"\d+(\.\d+)?", "N", m.group(0)),
                      text).strip("\n")


def blocks(path):
    """(line number, lines) of every fenced block of a file."""
    with open(os.path.join(ROOT, path)) as f:
        lines = f.read().splitlines()
    result = []
    inside = None
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if inside is None:
                inside = (number, [])
            else:
                result.append(inside)
                inside = None
        elif inside is not None:
            inside[1].append(line)
    return result


PROMPTS = ("$ ", "(gdb) ", "(lldb) ")


def steps(lines):
    """(prompt, command, expected output) for each prompt line of a
    block."""
    result = []
    for line in lines:
        prompt = next((p for p in PROMPTS if line.startswith(p)), None)
        if prompt is not None:
            result.append([prompt, line[len(prompt):], []])
        elif result:
            result[-1][2].append(line)
    return [(prompt, command, "\n".join(out))
            for prompt, command, out in result]


def run_shell(tmp, command):
    p = subprocess.run(["sh", "-c", "{ %s\n} 2>&1" % command],
                       capture_output=True, text=True, timeout=TIMEOUT,
                       env=ENV, cwd=tmp, stdin=subprocess.DEVNULL)
    return p.stdout


def run_gdb(commands):
    """Each gdb command's output, in order (the plugin on the demo's
    core)."""
    argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set debuginfod enabled off",
            "-ex", "set width 0", "-ex", "set height 0",
            "-ex", "source %s/gdb/memview.py" % ROOT,
            "-ex", "file %s/fixtures/basic" % BUILD,
            "-ex", "core %s/cores/basic.core" % BUILD]
    for i, command in enumerate(commands):
        argv += ["-ex", "echo @@MARK %d\\n" % i, "-ex", command]
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=TIMEOUT, env=ENV, stdin=subprocess.DEVNULL)
    parts = re.split(r"^@@MARK \d+\n", p.stdout, flags=re.MULTILINE)
    return parts[1:] + [""] * (len(commands) + 1 - len(parts))


def shown_only(where, prompt, command, want):
    T.check("%s: `%s%s` is shown, not run: it shows no output" %
            (where, prompt, command), want.strip() == "", want)


def check_shell(where, tmp, lines):
    for prompt, command, want in steps(lines):
        if prompt != "$ " or not command.startswith("memview "):
            shown_only(where, prompt, command, want)
            continue
        got = run_shell(tmp, command)
        T.check("%s: $ %s" % (where, command),
                normalise(got) == normalise(want),
                diff(normalise(want), normalise(got)))


def check_gdb(where, lines):
    cases = [(command, want) for prompt, command, want in steps(lines)
             if prompt == "(gdb) "]
    for prompt, command, want in steps(lines):
        if prompt != "(gdb) ":
            shown_only(where, prompt, command, want)
    outputs = run_gdb([command for command, _ in cases])
    for (command, want), got in zip(cases, outputs):
        T.check("%s: (gdb) %s" % (where, command),
                normalise(got) == normalise(want),
                diff(normalise(want), normalise(got)))


def diff(want, got):
    import difflib
    return "\n" + "\n".join(difflib.unified_diff(
        want.splitlines(), got.splitlines(), "shown", "printed",
        lineterm="", n=1))


def check_python(path, tmp):
    """The file's >>> examples, all blocks one session, run by doctest
    with the same normalisation."""
    class Checker(doctest.OutputChecker):
        def check_output(self, want, got, optionflags):
            want = want.replace(doctest.BLANKLINE_MARKER, "")
            return normalise(want) == normalise(got)

    # The file with everything but its Python blocks blanked, so that
    # doctest's line numbers are the file's.
    with open(os.path.join(ROOT, path)) as f:
        text = [""] * len(f.read().splitlines())
    for number, lines in blocks(path):
        if any(line.startswith(">>> ") for line in lines):
            text[number:number + len(lines)] = lines
    text = "\n".join(text)
    if ">>> " not in text:
        return
    os.environ["MEMVIEW_LIBRARY"] = ENV["MEMVIEW_LIBRARY"]
    if ENV["PYTHONPATH"] not in sys.path:
        sys.path.insert(0, ENV["PYTHONPATH"])
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, path, path, 0)
    runner = doctest.DocTestRunner(checker=Checker(),
                                   optionflags=doctest.REPORT_UDIFF)
    out = []
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = runner.run(test, out=out.append)
    finally:
        os.chdir(cwd)
    T.check("%s: %d Python examples" % (path, result.attempted),
            result.failed == 0 and result.attempted > 0, "".join(out))


def main():
    if missing("readme", [MEMVIEW, os.path.join(BUILD, "cores",
                                                "basic.core")]):
        return 1
    with tempfile.TemporaryDirectory(prefix="memview-readme-") as tmp:
        os.symlink(BUILD, os.path.join(tmp, "build"))
        # The rules files the examples name (docs/examples/*.types).
        os.symlink(os.path.join(ROOT, "docs"), os.path.join(tmp, "docs"))
        for path in DOCS:
            for number, lines in blocks(path):
                where = "%s:%d" % (path, number)
                shown = [out for _, _, out in steps(lines) if out.strip()]
                if path != "README.md" and not shown:
                    continue  # docs: commands without output are syntax
                if any(line.startswith("$ memview ") for line in lines):
                    check_shell(where, tmp, lines)
                elif any(line.startswith("(gdb) ") for line in lines):
                    check_gdb(where, lines)
            check_python(path, tmp)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
