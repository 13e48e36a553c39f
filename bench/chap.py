#!/usr/bin/python3
"""chap.py: VMware's chap (https://github.com/vmware/chap), the core
analyzer users compare memview's gc with, found or built for the big
bench, and its leak answers read.

chap is not packaged in Debian: it is built from its source with cmake
and g++, once, and the binary kept as BUILD/chap/chap.  Where it comes
from, first found first:
  CHAP=/path/to/chap      a chap binary, used as it is;
  BUILD/chap/chap         the binary a previous run built;
  CHAP_SRC=DIR            a chap checkout with its submodule
                          thirdparty/replxx, built into BUILD/chap;
  git clone --recursive https://github.com/vmware/chap into
                          BUILD/chap/src when the network allows.
Otherwise one line says how to get it and chap is not compared.

The build is a Release build (-O3: chap's own CMakeLists.txt sets no
build type, which compiles without optimization) of src/FileAnalyzer.cpp
and replxx only, from a CMakeLists.txt written here: chap's own also
configures its tests, which need its test cores (large files a shallow
or partial copy of the repository may lack).

chap reads commands from its standard input (USERGUIDE.md: `chap CORE
< cmds`).  "leaked" is chap's name for an allocation not reachable from
the roots (its anchors); "unreferenced" for a leaked one that no
allocation, leaked or not, points to."""
import os
import re
import shutil
import subprocess

GIT = "https://github.com/vmware/chap"
LISTS = """# Written by memview's bench/chap.py: chap and replxx only (no tests).
cmake_minimum_required(VERSION 3.5)
project(chap LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_EXTENSIONS OFF)
add_subdirectory(${CHAP_SRC}/thirdparty thirdparty)
add_executable(chap ${CHAP_SRC}/src/FileAnalyzer.cpp)
target_link_libraries(chap PRIVATE Replxx::Replxx)
"""
HOWTO = ("set CHAP_SRC to a chap checkout with its submodule (git clone "
         "--recursive %s) or CHAP to a chap binary" % GIT)


def build(src, top):
    """Builds chap from the checkout src under top; the binary's path,
    or raises SystemExit with the build's last lines."""
    for need in ("src/FileAnalyzer.cpp", "thirdparty/replxx/CMakeLists.txt"):
        if not os.path.exists(os.path.join(src, need)):
            raise SystemExit("chap: %s has no %s: %s" % (src, need, HOWTO))
    obj = os.path.join(top, "obj")
    os.makedirs(obj, exist_ok=True)
    lists = os.path.join(top, "lists")
    os.makedirs(lists, exist_ok=True)
    with open(os.path.join(lists, "CMakeLists.txt"), "w") as f:
        f.write(LISTS)
    print("  (building chap from %s: a few minutes, once)" % src, flush=True)
    for cmd in (["cmake", "-DCMAKE_BUILD_TYPE=Release",
                 "-DCHAP_SRC=" + os.path.abspath(src), lists],
                ["nice", "make", "-j2", "chap"]):
        r = subprocess.run(cmd, cwd=obj, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit("chap: %s failed in %s:\n%s" %
                             (" ".join(cmd[:2]), obj,
                              (r.stdout + r.stderr)[-1500:]))
    out = os.path.join(top, "chap")
    os.replace(os.path.join(obj, "chap"), out)
    return out


def clone(top):
    """Clones chap with replxx into top/src: (the checkout, None) or
    (None, why not)."""
    src = os.path.join(top, "src")
    if os.path.exists(os.path.join(src, "thirdparty", "replxx",
                                   "CMakeLists.txt")):
        return src, None
    shutil.rmtree(src, ignore_errors=True)  # a clone cut short
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    try:
        r = subprocess.run(["git", "clone", "-q", "--depth", "1",
                            "--recursive", GIT, src],
                           env=env, capture_output=True, text=True,
                           timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if r.returncode:
        shutil.rmtree(src, ignore_errors=True)
        lines = r.stderr.strip().splitlines() or ["failed"]
        return None, next((x for x in lines if x.startswith("fatal:")),
                          lines[-1])
    return src, None


def binary(build_dir):
    """(path of a chap binary, None) or (None, the one line to print)."""
    given = os.environ.get("CHAP")
    if given:
        if not os.access(given, os.X_OK):
            return None, "chap: CHAP=%s is not an executable" % given
        return given, None
    top = os.path.join(build_dir, "chap")
    cached = os.path.join(top, "chap")
    if os.access(cached, os.X_OK):
        return cached, None
    src = os.environ.get("CHAP_SRC")
    if not src:
        src, why = clone(top)
        if not src:
            return None, ("chap: not compared: no CHAP or CHAP_SRC, and "
                          "git clone %s failed (%s): %s" % (GIT, why, HOWTO))
    os.makedirs(top, exist_ok=True)
    return build(src, top), None


COUNT = re.compile(r"^(\d+) allocations use 0x[0-9a-f]+ \(([\d,]+)\) bytes\.$")


def totals(out):
    """Every "N allocations use 0x.. (B) bytes." line of chap's output, in
    order, as (N, B): one per count command, the last one closes a
    summarize."""
    found = []
    for line in out.splitlines():
        m = COUNT.match(line.strip())
        if m:
            found.append((int(m.group(1)), int(m.group(2).replace(",", ""))))
    return found
