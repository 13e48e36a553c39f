#!/usr/bin/python3
"""big_bench.py (make bench-big): memview at scale against the tools users
have, side by side in one run, on cores of bench/bigheap.c (a generated
program recording its own ground truth) with BIG_SIZES million
allocations (default "10"; "10 30" adds a 30 M core where the machine
has the memory and disk: about 56 bytes of core and 0.2 GB of memory a
million allocations).

Per core: heap, gc (against valgrind's leak phase: --leak-check=full
minus --leak-check=no on the same generator), sizeof-deep of a 2-object
root (the first answer), sizeof-deep of a 524 k-node subtree (against a
gdb Python walk, bench/gdb_walk.py), path-to through 22 pointers and
referrers; wall time, CPU and peak resident memory split into anonymous
and file-backed (sampled from /proc/PID/status), per million
allocations.  Beside gc, VMware's chap on the same core (bench/chap.py
builds it from source: CHAP, CHAP_SRC): `count leaked` alone (its first
answer) and `count leaked`, `count unreferenced`, `summarize leaked` in
one run, its counts checked against the facts and gc's.  Every answer is
checked against the generator's facts: a fast wrong answer fails the
bench (exit status 1).

Environment: BUILD (build dir), BIG_SIZES, RUNS (medians of, default 1),
BIG_VALGRIND=0 skips valgrind (slow: minutes at 10 M), BIG_ONLY=gc runs
gc, chap and valgrind only, BIG_DIR (where the generator and its cores
are kept, default BUILD/bench-big: several checkouts can share one set
of cores; a generator already there is reused as it is), CHAP (a chap
binary), CHAP_SRC (a chap checkout with thirdparty/replxx, built once
into BUILD/chap)."""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import chap

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MV = os.path.join(BUILD, "memview")
DIR = os.environ.get("BIG_DIR") or os.path.join(BUILD, "bench-big")
GEN = os.path.join(DIR, "bigheap")
KEY = 0xa5a5a5a5a5a5a5a5
RUNS = int(os.environ.get("RUNS", "1"))
# BIG_ONLY=gc: gc beside chap and valgrind only (make bench's 10 M line).
GC_ONLY = os.environ.get("BIG_ONLY") == "gc"
CHAP_CMDS = b"count leaked\ncount unreferenced\nsummarize leaked\n"
failures = []
chap_bin = chap_why = None


def check(what, ok, detail=""):
    print("  %s %s%s" % ("ok  " if ok else "FAIL", what,
                         "" if ok else ": " + str(detail)[:300]))
    if not ok:
        failures.append(what)


def status_kb(pid):
    """RssAnon and RssFile (+ RssShmem) of pid in KiB, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    v = {}
    for line in text.splitlines():
        k, _, rest = line.partition(":")
        if k in ("RssAnon", "RssFile", "RssShmem"):
            v[k] = int(rest.split()[0])
    return v.get("RssAnon", 0), v.get("RssFile", 0) + v.get("RssShmem", 0)


def measure(cmd, env=None, stdin=None):
    """Runs cmd once, stdin (bytes) its input: (wall s, cpu s, peak anon
    MB, peak file MB, stdout, stderr).
    Memory is sampled every 10 ms: a peak shorter than that may be
    missed."""
    t0 = time.perf_counter()
    r0 = os.times()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env,
                         stdin=subprocess.PIPE if stdin else None)
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            s = status_kb(p.pid)
            if s:
                peak[0] = max(peak[0], s[0])
                peak[1] = max(peak[1], s[1])
            time.sleep(0.01)
    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate(stdin)
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + \
        (r1.children_system - r0.children_system)
    if p.returncode:
        raise SystemExit("big bench: %s failed: %s" %
                         (" ".join(cmd), err.decode()[-500:]))
    return (wall, cpu, peak[0] / 1024, peak[1] / 1024, out.decode(),
            err.decode())


def median_run(cmd, env=None, stdin=None):
    runs = [measure(cmd, env, stdin) for _ in range(RUNS)]
    wall = statistics.median(r[0] for r in runs)
    best = min(runs, key=lambda r: abs(r[0] - wall))
    return best


def facts(path):
    d = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").rpartition(" ")
            d[k] = v
    return d


def make_core(millions):
    core = os.path.join(DIR, "big%d.core" % millions)
    fpath = os.path.join(DIR, "big%d.facts" % millions)
    if (os.path.exists(core) and os.path.exists(fpath) and
            os.path.getmtime(core) > os.path.getmtime(GEN)):
        return core, fpath
    env = dict(os.environ, MV_BIGHEAP_N=str(millions * 1000000))
    t = time.perf_counter()
    subprocess.run([os.path.join(ROOT, "tools", "make-core.sh"), GEN, core,
                    fpath], env=env, check=True)
    print("  (core of %d M allocations made in %.1f s: %.2f GB)" %
          (millions, time.perf_counter() - t, os.path.getsize(core) / 1e9))
    return core, fpath


def valgrind_counts(text):
    """definitely/indirectly/possibly lost blocks from valgrind's summary."""
    out = {}
    for line in text.splitlines():
        for kind in ("definitely", "indirectly", "possibly"):
            tag = "%s lost:" % kind
            if tag in line:
                blocks = line.split(" in ")[-1].split()[0]
                out[kind] = int(blocks.replace(",", ""))
    return out


def bench_chap(res, core, f, gc):
    """chap on the core gc ran on: `count leaked` alone (its first answer:
    chap buffers its output, so a line's arrival cannot be timed within
    one run) and the three commands in one run.  chap's leaked (not
    reachable from a root) is memcheck's definitely + indirectly +
    possibly lost; its unreferenced (no pointer from any allocation) is
    a definitely lost block outside a cycle: every block of a ring is
    pointed to by another, and memcheck calls one of each ring
    definitely lost."""
    first = median_run([chap_bin, core], stdin=b"count leaked\n")
    whole = median_run([chap_bin, core], stdin=CHAP_CMDS)
    res["chap_first"], res["chap"] = first, whole
    lost = int(f["leaked.definitely"]) + int(f["leaked.indirectly"])
    usable = int(f["leaked.usable"])
    heads = int(f["leaked.definitely"]) - int(f["leaked.cycles"])
    t1, t = chap.totals(first[4]), chap.totals(whole[4])
    check("chap count leaked: %s allocations, bytes; the program's %d "
          "lost blocks (definitely + indirectly) of %d bytes" %
          (t1, lost, usable), t1 == [(lost, usable)], first[4])
    check("chap: count leaked, count unreferenced, summarize leaked's "
          "total: %s; the program's %d lost, %d chain heads (groups "
          "that are not rings)" % (t, lost, heads),
          len(t) == 3 and t[0] == t[2] == (lost, usable) and
          t[1][0] == heads, whole[4])
    s = gc["summary"]
    mv_lost = sum(s[k]["blocks"] for k in
                  ("definitely_lost", "indirectly_lost", "possibly_lost"))
    mv_heads = sum(g["blocks"] - g["in_cycles"] for g in gc["groups"]
                   if g["kind"] == "definitely_lost")
    check("chap = memview: leaked %s = gc's %d lost; unreferenced %s = "
          "gc's %d definitely lost outside cycles" %
          (t[0][0] if t else None, mv_lost, t[1][0] if t[1:] else None,
           mv_heads),
          len(t) == 3 and t[0][0] == mv_lost and t[1][0] == mv_heads)


def bench_core(millions):
    print("\n== %d M allocations" % millions)
    core, fpath = make_core(millions)
    f = facts(fpath)
    n = int(f["blocks"])
    mv = [MV, "--core", core, "--exe", GEN]
    target = int(f["path.target"], 16) ^ KEY
    res = {"n": n, "core_gb": os.path.getsize(core) / 1e9}

    if not GC_ONLY:
        r = median_run(mv + ["heap", "--json"])
        res["heap"] = r
        d = json.loads(r[4])
        # mmapped blocks (the big arrays, past malloc's mmap threshold)
        # are counted apart.
        used = d["totals"]["in_use"]["count"] + \
            d["totals"]["mmapped"]["count"]
        check("heap: %d blocks in use or mmapped, the program's %d and at "
              "most 64 of libc's" % (used, n), n <= used <= n + 64, used)

    r = median_run(mv + ["gc", "--json"])
    res["gc"] = r
    d = json.loads(r[4])
    s = d["summary"]
    check("gc: definitely lost %s blocks = the program's %s" %
          (s["definitely_lost"]["blocks"], f["leaked.definitely"]),
          s["definitely_lost"]["blocks"] == int(f["leaked.definitely"]))
    check("gc: indirectly lost %s = %s" % (s["indirectly_lost"]["blocks"],
                                          f["leaked.indirectly"]),
          s["indirectly_lost"]["blocks"] == int(f["leaked.indirectly"]))
    check("gc: possibly lost %s = 0" % s["possibly_lost"]["blocks"],
          s["possibly_lost"]["blocks"] == 0)
    check("gc: %s cycles = the program's %s rings" %
          (s["cyclic_garbage"]["cycles"], f["leaked.cycles"]),
          s["cyclic_garbage"]["cycles"] == int(f["leaked.cycles"]))
    check("gc: not partial", not d["partial"], d.get("cut_by"))
    if chap_bin:
        bench_chap(res, core, f, d)
    if GC_ONLY:
        valgrind(res, millions, f)
        return res

    r = median_run(mv + ["sizeof-deep", "g_small", "--json"])
    res["first"] = r
    d = json.loads(r[4])
    check("sizeof-deep g_small: %d heap objects, %d type bytes, %d chunk "
          "bytes as the program's" % (d["heap"]["objects"],
                                      d["heap"]["type_bytes"],
                                      d["heap"]["chunk_bytes"]),
          d["heap"]["objects"] == int(f["small.objects"]) and
          d["heap"]["type_bytes"] == int(f["small.type_bytes"]) and
          d["heap"]["chunk_bytes"] == int(f["small.chunk_bytes"]))

    root = "g_tree->left->left"
    # The node itself as the root, so that the pointer to it (a field
    # of another node) is not counted: as the gdb walk counts.
    r = median_run(mv + ["sizeof-deep", "*" + root, "--json"])
    res["deep"] = r
    d = json.loads(r[4])
    nodes = int(f["tree.left2.nodes"])
    size = int(f["sizeof struct tnode"])
    check("sizeof-deep %s: %d objects, %d bytes = %d nodes of %d" %
          (root, d["objects"], d["deep_size"], nodes, size),
          d["heap"]["objects"] == nodes and
          d["heap"]["type_bytes"] == nodes * size)
    r = measure(["gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off",
                 "-ex", "python ROOT=%r" % root, "-x",
                 os.path.join(ROOT, "bench", "gdb_walk.py"), GEN, core])
    words = r[4].split("gdb walk:")[-1].split()
    gdb_objs, gdb_bytes, gdb_wall = int(words[0]), int(words[2]), \
        float(words[7])
    res["gdb"] = (gdb_wall,)
    check("gdb walk: %d objects, %d bytes, as the program's" %
          (gdb_objs, gdb_bytes),
          gdb_objs == nodes and gdb_bytes == nodes * size)

    r = median_run(mv + ["path-to", "%#x" % target, "--json"])
    res["path"] = r
    d = json.loads(r[4])
    chain = d["chain"]
    check("path-to: %d pointers from %s, the program's %s from g_path" %
          (len(chain), chain[0]["root"] if chain else None, f["path.len"]),
          d["found"] and len(chain) == int(f["path.len"]) and
          chain[0]["root"] == "g_path" and
          int(chain[-1]["points_to"], 16) == target)

    r = median_run(mv + ["referrers", "%#x" % target, "--json"])
    res["refs"] = r
    d = json.loads(r[4])
    heap = [x for x in d["referrers"] if x["kind"] == "heap"]
    check("referrers: the one hop before it holds it",
          len(heap) == 1 and len(d["referrers"]) == 1 and
          int(heap[0]["chunk"]["mem"], 16) == int(chain[-2]["points_to"], 16)
          if len(chain) > 1 else False, d["referrers"])
    valgrind(res, millions, f)
    return res


def valgrind(res, millions, f):
    """valgrind's whole run of the generator with and without the leak
    check (BIG_VALGRIND=0: not run)."""
    if os.environ.get("BIG_VALGRIND", "1") != "0":
        env = dict(os.environ, MV_BIGHEAP_N=str(millions * 1000000),
                   MV_FACTS="/dev/null")
        full = measure(["valgrind", "--leak-check=full",
                        "--show-leak-kinds=definite,indirect,possible",
                        GEN], env)
        none = measure(["valgrind", "--leak-check=no", GEN], env)
        res["vg"] = (full[0], none[0], max(full[0] - none[0], 1e-3))
        vg = valgrind_counts(full[5])
        # valgrind judges its own run of the program, not the core: a
        # stale word of that run (a register, a stack slot) may hold a
        # leaked block, so a difference is said, not failed on.
        same = vg.get("definitely") == int(f["leaked.definitely"]) and \
            vg.get("indirectly") == int(f["leaked.indirectly"])
        print("  %s valgrind: %s definitely / %s indirectly lost in its own "
              "run, the program leaked %s / %s%s" % (
                  "ok  " if same else "note", vg.get("definitely"),
                  vg.get("indirectly"), f["leaked.definitely"],
                  f["leaked.indirectly"],
                  "" if same else " (%s possibly lost there)" %
                  vg.get("possibly")))


def table(results):
    print("\nmemview at scale (wall seconds, median of %d; CPU; peak RSS "
          "anonymous + file-backed, MB per million allocations)" % RUNS)
    print("  %-36s %8s %8s %12s %12s %10s" %
          ("", "wall", "cpu", "anon MB/M", "file MB/M", "peer"))
    for m, r in results:
        per = r["n"] / 1e6
        print(" %d M allocations (%.2f GB core):" % (m, r["core_gb"]))
        rows = [("heap", "heap", None),
                ("gc", "gc", ("chap count leaked", "chap_first")),
                ("chap count leaked (its first answer)", "chap_first",
                 None),
                ("chap leaked, unreferenced, summarize", "chap", None),
                ("sizeof-deep g_small (first answer)", "first", None),
                ("sizeof-deep 524k-node subtree", "deep",
                 ("gdb Python walk", "gdb")),
                ("path-to (22 pointers)", "path", None),
                ("referrers", "refs", None)]
        for label, k, peer in rows:
            if k not in r:
                continue
            w, c, a, fb = r[k][:4]
            line = "  %-36s %8.2f %8.2f %12.1f %12.1f" % (label, w, c,
                                                         a / per, fb / per)
            if peer and peer[1] in r:
                pw = r[peer[1]][0]
                line += "  %s %.1f s: %.1fx" % (peer[0], pw, pw / w)
                if len(r[peer[1]]) > 1:
                    line += " (CPU %.1fx)" % (r[peer[1]][1] / c)
            print(line)
        if "chap" in r:
            print("  gc vs chap to the first answer: %.1fx wall, %.1fx CPU "
                  "(goal >= 5x); vs chap's three commands %.1fx wall" %
                  (r["chap_first"][0] / r["gc"][0],
                   r["chap_first"][1] / r["gc"][1], r["chap"][0] / r["gc"][0]))
        if "vg" in r:
            full, none, phase = r["vg"]
            gc = r["gc"][0]
            # The leak phase is what valgrind adds to a run for the
            # check: within the noise of two long runs it may vanish.
            print("  valgrind --leak-check=full, whole run %.1f s (%.1fx "
                  "gc); --leak-check=no %.1f s; leak phase %s" %
                  (full, full / gc, none,
                   "%.1f s (%.1fx gc)" % (phase, phase / gc)
                   if full - none > 0.05 * full else
                   "within the runs' noise (under 5%)"))
    if len(results) > 1:
        (m0, a), (m1, b) = results[0], results[-1]
        print(" growth %d M -> %d M (%.1fx the allocations): " %
              (m0, m1, b["n"] / a["n"]) +
              ", ".join("%s %.1fx" % (k, b[k][0] / a[k][0])
                        for k in ("heap", "gc", "chap_first", "first",
                                  "path", "refs") if k in a and k in b))
    if not chap_bin:
        print(" " + chap_why)


def main():
    os.makedirs(DIR, exist_ok=True)
    src = os.path.join(ROOT, "bench", "bigheap.c")
    if not os.path.exists(GEN) or (not os.environ.get("BIG_DIR") and
                                   os.path.getmtime(GEN) <
                                   os.path.getmtime(src)):
        subprocess.run(["cc", "-O2", "-g", "-o", GEN, src], check=True)
    for tool in ("gdb", "valgrind"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            raise SystemExit("big bench: %s is missing (apt-get install %s)"
                             % (tool, tool))
    global chap_bin, chap_why
    chap_bin, chap_why = chap.binary(BUILD)
    if chap_why:
        print(chap_why)
    sizes = [int(x) for x in os.environ.get("BIG_SIZES", "10").split()]
    results = [(m, bench_core(m)) for m in sizes]
    table(results)
    if failures:
        print("big bench: %d answers wrong: %s" % (len(failures),
                                                  "; ".join(failures)))
        return 1
    print("big bench: every answer matches the generator's ground truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
