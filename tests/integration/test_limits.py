#!/usr/bin/python3
"""The limits that keep heap-reading commands bounded: each one is hit,
says which limit and how to lift it, and lifts.

- The heap index (--max-heap-chunks, every command that opens the heap,
  and the setting of the same name): on heapbig, whose main heap this
  script walks itself from the core's bytes by glibc's chunk layout
  (size at +8, low three bits flags) - so the chunk count and the first
  N chunks are known without memview - and whose facts give live,
  live.usable and mallinfo2()'s totals.  Also gc (leaks), referrers
  (deepsize) and path-to (deepbench).
- heap --max-chunks (the --chunks listing): against the same walk.
- referrers --max: deepsize's `shared` has four heap referrers by
  construction (four kids point at it).
- path-to --max-objects: deepbench's list, followed here from `head`
  (nm) through the core: node k is k pointers from its root, and the
  search must scan nodes 1..k-1 before it can find node k.
- The CLI, gdb and lldb give the same partial JSON, from the option and
  from the setting.
- The defaults (issue 20.1): computed here from /proc/meminfo's
  MemAvailable, RLIMIT_AS and the cgroup's memory limit, as half of the
  smallest taken down to a power of two, at 32 bytes a chunk and 32 an
  object; info and doctor say them, heap uses them.
- A cut index gives right numbers (issues 20.1, 18.3), on deepbench
  made here as a shuffled list (MV_SHUFFLE=1: most nodes are held by a
  node allocated after them, so a cut index leaves holders unseen;
  the list is walked here from the core, so every node is known to be
  reachable): gc calls no node lost and says how much it did not
  examine; sizeof-deep calls the nodes past the index "not indexed",
  never "other".  On leaks, every cut of the index against the
  fixture's own key (leakkey.h): no block still reachable is called
  lost, none possibly lost is called definitely or indirectly lost.

Cases that wait on a change in a file owned elsewhere are in PENDING:
reported, not failing (and a pending case that passes says so).
Ends with "limits: N passed, M failed".
"""
import json
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile

from mvcheck import Tally, missing
from mvfacts import read_facts
import run as harness

BUILD = harness.BUILD
MEMVIEW = harness.MEMVIEW
CHUNK_COST, OBJECT_COST, SHARE = 32, 32, 2
# Cases waiting on a change in a file owned elsewhere (none now).
PENDING = set()
T = Tally("limits", pending=PENDING, detail_max=600)
check = T.check


def paths(name):
    return (os.path.join(BUILD, "cores", name + ".core"),
            os.path.join(BUILD, "fixtures", name))


def memview(name, *args, settings=()):
    """(returncode, stdout, stderr, peak RSS in KB) of one CLI run."""
    core, exe = paths(name)
    argv = [MEMVIEW] + list(settings) + ["--core", core, "--exe", exe] + \
        list(args)
    with tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), usage.ru_maxrss


def memview_json(name, *args, settings=()):
    rc, out, err, rss = memview(name, *args, "--json", settings=settings)
    try:
        return json.loads(out), rc, err
    except ValueError:
        return None, rc, err


class Core:
    """A core's PT_LOAD segments, read with struct."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        phoff, = struct.unpack_from("<Q", self.data, 32)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 54)
        self.loads = []
        for i in range(phnum):
            p_type, _, off, vaddr, _, filesz = struct.unpack_from(
                "<IIQQQQ", self.data, phoff + i * phentsize)
            if p_type == 1 and filesz:
                self.loads.append((vaddr, off, filesz))
        self.loads.sort()

    def segment(self, address):
        for vaddr, off, size in self.loads:
            if vaddr <= address < vaddr + size:
                return vaddr, vaddr + size
        raise RuntimeError("0x%x is not in the core" % address)

    def u64(self, address):
        for vaddr, off, size in self.loads:
            if vaddr <= address and address + 8 <= vaddr + size:
                return struct.unpack_from("<Q", self.data,
                                          off + address - vaddr)[0]
        raise RuntimeError("0x%x is not in the core" % address)

    def exe_base(self):
        """The lowest mapping that starts with an ELF header: the PIE
        executable's first segment."""
        for vaddr, off, size in self.loads:
            if self.data[off:off + 4] == b"\x7fELF":
                return vaddr
        raise RuntimeError("no ELF header in the core")


def symbol(exe, name):
    out = subprocess.run(["nm", exe], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[2] == name:
            return int(w[0], 16)
    raise RuntimeError("%s not in nm %s" % (name, exe))


def global_value(name, var):
    """The 8-byte value of a global of fixture name, from its core."""
    core_path, exe = paths(name)
    core = Core(core_path)
    return core, core.u64(core.exe_base() + symbol(exe, var))


def heapbig_chain():
    """heapbig's main heap as (address, size) pairs: the segment holding
    blocks[0], walked by size fields to its end."""
    core, block0 = global_value("heapbig", "blocks")
    start, end = core.segment(block0)
    chain = []
    a = start
    while a < end:
        size = core.u64(a + 8) & ~7
        if size < 32 or a + size > end:
            raise RuntimeError("heapbig: bad chunk at 0x%x" % a)
        chain.append((a, size))
        a += size
    return chain


def cgroup_room():
    """The cgroup's memory limit less its usage (v2, then v1; the cgroup
    /proc/self/cgroup names, else the mount's root), or None."""
    rel = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            n, ctl, path = line.rstrip("\n").split(":", 2)
            if ctl == "" and n == "0":
                rel[""] = path
            elif "memory" in ctl.split(","):
                rel["memory"] = path
    for ctl, mount, limit, usage in (
            ("", "/sys/fs/cgroup", "memory.max", "memory.current"),
            ("memory", "/sys/fs/cgroup/memory", "memory.limit_in_bytes",
             "memory.usage_in_bytes")):
        dirs = [mount + rel[ctl]] if ctl in rel else []
        for d in dirs + [mount]:
            try:
                with open(os.path.join(d, limit)) as f:
                    lim = f.read().split()[0]
            except OSError:
                continue
            if not lim.isdigit():
                break  # "max": no limit at this level
            cur = 0
            try:
                with open(os.path.join(d, usage)) as f:
                    cur = int(f.read().split()[0])
            except OSError:
                pass
            return max(int(lim) - cur, 0)
    return None


def available():
    """(bytes, source): the smallest of the sources memview reads."""
    srcs = []
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                srcs.append((int(line.split()[1]) * 1024, "MemAvailable"))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        srcs.append((soft, "RLIMIT_AS"))
    room = cgroup_room()
    if room is not None:
        srcs.append((room, "cgroup memory limit"))
    measured, source = min(srcs, key=lambda s: s[0])
    avail = 1 << (measured.bit_length() - 1)  # down to a power of two
    return avail, source, measured


def near(a, b):
    """MemAvailable moves between two reads: within 10%."""
    return abs(a - b) <= 0.1 * max(a, b)


def expected_defaults():
    avail, source, _ = available()
    return (avail // SHARE // CHUNK_COST, avail // SHARE // OBJECT_COST,
            source)


def total_chunks(j):
    return sum(v["count"] for v in j["totals"].values()
               if isinstance(v, dict))


# ------------------------------------------------------------------
# heap: the index bound and the listing bound

def test_heap_index(chain):
    f = read_facts(os.path.join(BUILD, "cores", "heapbig.facts"))
    n = len(chain)
    lifted, rc, err = memview_json("heapbig", "heap", "--max-heap-chunks",
                                   "0")
    check("heap lifted: every chunk of the chain indexed",
          lifted is not None and not lifted["partial"] and
          total_chunks(lifted) == n,
          lifted and (total_chunks(lifted), n) or err)
    if lifted:
        t = lifted["totals"]
        check("heap lifted: live blocks and usable bytes = facts",
              t["in_use"]["count"] == int(f["live"]) and
              t["usable"] == int(f["live.usable"]),
              (t["in_use"], t["usable"]))
        m = lifted["mallinfo"]
        check("heap lifted: mallinfo2() = facts",
              m["arena"] == int(f["mallinfo.arena"]) and
              m["uordblks"] == int(f["mallinfo.uordblks"]) and
              m["fordblks"] == int(f["mallinfo.fordblks"]), m)
    default, rc, err = memview_json("heapbig", "heap")
    want = expected_defaults()[0]
    check("heap default: about %d chunks (from the memory available), a "
          "million-chunk heap whole" % want,
          default is not None and not default["partial"] and
          default["max_heap_chunks"] == want and
          total_chunks(default) == n, default and
          (default["max_heap_chunks"], default["limit"]) or err)

    cut, rc, err = memview_json("heapbig", "heap", "--max-heap-chunks",
                                "1000", "--chunks", "--max-chunks", "0")
    ok = cut is not None and rc == 0
    check("heap --max-heap-chunks 1000: partial, exit 0",
          ok and cut["partial"] and cut["mallinfo"] is None, (rc, err))
    if ok:
        check("heap --max-heap-chunks 1000: says which limit and how to "
              "lift it", "--max-heap-chunks 1000" in cut["limit"] and
              "lift with --max-heap-chunks 0" in cut["limit"],
              cut["limit"])
        got = [(int(c["address"], 16), c["size"]) for c in cut["chunks"]]
        check("heap --max-heap-chunks 1000: the first 1000 chunks of the "
              "chain", total_chunks(cut) == 1000 and got == chain[:1000],
              (total_chunks(cut), got[:2], chain[:2]))
    for bound, partial in ((n - 1, True), (n, False)):
        j, rc, err = memview_json("heapbig", "heap", "--max-heap-chunks",
                                  str(bound))
        check("heap --max-heap-chunks %d (chain %d): %s" %
              (bound, n, "partial" if partial else "whole"),
              j is not None and j["partial"] == partial and
              total_chunks(j) == bound, j and j["limit"] or err)
    rc, out, err, _ = memview("heapbig", "heap", "--max-heap-chunks",
                              "1000")
    check("heap text: [PARTIAL] line naming the limit",
          rc == 0 and "[PARTIAL] heap index stopped at 1000 chunks "
          "(--max-heap-chunks 1000)" in out and
          "lift with --max-heap-chunks 0" in out and
          "not known from a part of the heap" in out, out[:400])
    # The setting (--NAME before the command), and the option winning.
    j, rc, err = memview_json("heapbig", "heap",
                              settings=("--max-heap-chunks", "1000"))
    check("setting --max-heap-chunks 1000 before the command",
          j is not None and j["partial"] and total_chunks(j) == 1000, err)
    j, rc, err = memview_json("heapbig", "heap", "--max-heap-chunks", "0",
                              settings=("--max-heap-chunks", "1000"))
    check("the command's --max-heap-chunks 0 wins over the setting",
          j is not None and not j["partial"] and total_chunks(j) == n, err)
    rc, out, err, _ = memview("heapbig", "heap", "--max-heap-chunks", "-1")
    check("heap --max-heap-chunks -1: usage error",
          rc == 2 and "--max-heap-chunks" in err, (rc, err))


def test_heap_memory():
    """Run first, while this script is small: a child's peak RSS starts
    from its parent's at the fork."""
    rss = {}
    for bound in ("1000", "0"):
        rc, out, err, rss[bound] = memview("heapbig", "heap",
                                           "--max-heap-chunks", bound)
    # The million-chunk index alone is 16 MB; heapbig's heap is 53 MB.
    check("heap --max-heap-chunks 1000: memory bounded (%d KB, lifted "
          "%d KB)" % (rss["1000"], rss["0"]),
          rss["1000"] < 30000 and rss["0"] - rss["1000"] > 16000, rss)


def test_heap_listing(chain):
    n = len(chain)
    rc, out, err, _ = memview("heapbig", "heap", "--chunks",
                              "--max-chunks", "10")
    rows = [l for l in out.splitlines() if l.startswith("0x0000")]
    check("heap --chunks --max-chunks 10: 10 listed, the rest counted, "
          "how to lift", rc == 0 and len(rows) == 10 and
          "... %d more chunks not listed (--max-chunks 10): lift with "
          "--max-chunks 0" % (n - 10) in out,
          (len(rows), out[-300:]))
    j, rc, err = memview_json("heapbig", "heap", "--chunks",
                              "--max-chunks", "0")
    check("heap --chunks --max-chunks 0: every chunk of the chain",
          j is not None and not j["chunks_truncated"] and
          [(int(c["address"], 16), c["size"]) for c in j["chunks"]] ==
          chain, j and len(j["chunks"]))


# ------------------------------------------------------------------
# The other commands that open the heap

def test_gc():
    cut, rc, err = memview_json("leaks", "gc", "--max-heap-chunks", "20")
    check("gc --max-heap-chunks 20: partial, 20 chunks, says the effect",
          cut is not None and cut["partial"] and
          cut["scanned"]["chunks"] == 20 and
          "lift with --max-heap-chunks 0" in cut["notes"][0] and
          "not examined" in cut["notes"][0] and
          "no block they may hold is called lost" in cut["notes"][0] and
          cut["cut_by"] == ["max-heap-chunks"] and
          cut["not_examined"]["bytes"] > 0,
          cut and (cut["scanned"], cut["notes"][:1]) or err)
    whole, rc, err = memview_json("leaks", "gc", "--max-heap-chunks", "0")
    heap, rc2, err2 = memview_json("leaks", "heap", "--max-heap-chunks", "0")
    check("gc --max-heap-chunks 0: whole, every chunk of the heap",
          whole is not None and heap is not None and
          not whole["partial"] and
          whole["scanned"]["chunks"] == total_chunks(heap),
          whole and whole["scanned"] or err + err2)
    rc, out, err, _ = memview("leaks", "gc", "--max-heap-chunks", "20")
    check("gc text: [PARTIAL] first and last",
          rc == 0 and out.splitlines()[0].startswith("[PARTIAL] heap "
                                                     "index stopped") and
          out.rstrip().endswith("[PARTIAL: --max-heap-chunks]"),
          out[:300])


def test_referrers():
    f = read_facts(os.path.join(BUILD, "cores", "deepsize.facts"))
    shared = f["addr shared"]
    whole, rc, err = memview_json("deepsize", "referrers", shared,
                                  "--max", "0")
    ok = whole is not None
    heap_refs = ok and [r for r in whole["referrers"] if r["kind"] == "heap"]
    check("referrers --max 0: all listed, the four kids among them",
          ok and len(heap_refs) == 4 and
          whole["count"] == whole["shown"] == len(whole["referrers"]) and
          not whole["partial"], whole or err)
    if not ok:
        return
    cut, rc, err = memview_json("deepsize", "referrers", shared,
                                "--max", "2")
    check("referrers --max 2: 2 listed, all counted",
          cut is not None and cut["shown"] == 2 and
          len(cut["referrers"]) == 2 and cut["count"] == whole["count"],
          cut or err)
    rc, out, err, _ = memview("deepsize", "referrers", shared, "--max", "2")
    check("referrers --max 2 text: says it was cut and how to lift",
          rc == 0 and "2 listed (--max 2): lift with --max 0" in out, out)
    rc, out, err, _ = memview("deepsize", "referrers", shared, "--max",
                              "-1")
    check("referrers --max -1: usage error", rc == 2 and "--max" in err,
          (rc, err))
    cut, rc, err = memview_json("deepsize", "referrers", shared,
                                "--max-heap-chunks", "2")
    check("referrers --max-heap-chunks 2: partial, no heap referrer past "
          "the index, says how to lift",
          cut is not None and cut["partial"] and
          not [r for r in cut["referrers"] if r["kind"] == "heap"] and
          any("lift with --max-heap-chunks 0" in n for n in cut["notes"]),
          cut or err)


def deepbench_list():
    """Node addresses of deepbench's list, head first."""
    core, node = global_value("deepbench", "head")
    nodes = []
    while node and len(nodes) < 100000:
        nodes.append(node)
        node = core.u64(node + 8)
    return nodes


def test_path_to(nodes):
    f = read_facts(os.path.join(BUILD, "cores", "deepbench.facts"))
    check("deepbench: the list walked here has the fixture's node count",
          len(nodes) == int(f["nodes"]) and f["shape"] == "list",
          (len(nodes), f.get("nodes")))
    k = 600
    target = "0x%x" % nodes[k - 1]
    for extra in ((), ("--max-objects", "0")):
        j, rc, err = memview_json("deepbench", "path-to", target, *extra)
        ok = j is not None and j["found"] and not j["partial"]
        check("path-to node %d %s: found, %d pointers from head" %
              (k, " ".join(extra) or "(default)", k),
              ok and len(j["chain"]) == k and
              j["chain"][0]["root"] == "head" and
              [int(h["points_to"], 16) for h in j["chain"]] == nodes[:k],
              j and len(j["chain"]) or err)
    # Nodes 1..k-1 must be scanned before node k is seen.
    bound = k - 2
    j, rc, err = memview_json("deepbench", "path-to", target,
                              "--max-objects", str(bound))
    note = "no path found within %d objects (--max-objects %d): lift " \
           "with --max-objects 0" % (bound, bound)
    check("path-to --max-objects %d: partial, says how to lift" % bound,
          rc == 0 and j is not None and not j["found"] and j["partial"] and
          j["objects_visited"] == bound and note in j["notes"],
          j or err)
    rc, out, err, _ = memview("deepbench", "path-to", target,
                              "--max-objects", str(bound))
    check("path-to --max-objects text", rc == 0 and
          out.strip() == "[PARTIAL] " + note, out)
    # The index bound: node k is past the first few chunks.
    rc, out, err, _ = memview("deepbench", "path-to", target,
                              "--max-heap-chunks", "5")
    check("path-to --max-heap-chunks 5: the target is past the index, "
          "says how to lift", rc == 1 and
          "lift with --max-heap-chunks 0" in err, (rc, err))
    rc, out, err, _ = memview("deepbench", "path-to", target,
                              "--max-objects", "-1")
    check("path-to --max-objects -1: usage error", rc == 2, (rc, err))


def test_walkers(tmp):
    """graph and sizeof-deep: the bound reaches them."""
    out = os.path.join(tmp, "g.json")
    rc, text, err, _ = memview("deepbench", "graph", "head", "--output",
                               out, "--max-heap-chunks", "5")
    check("graph --max-heap-chunks: partial, says how to lift",
          rc == 0 and "PARTIAL" in text and
          "lift with --max-heap-chunks 0" in text, (rc, text, err))
    rc, text, err, _ = memview("deepbench", "sizeof-deep",
                               "--max-heap-chunks", "5", "head")
    check("sizeof-deep --max-heap-chunks: partial, says how to lift",
          rc == 0 and "PARTIAL" in text and
          "lift with --max-heap-chunks 0" in text, (rc, text, err))


# ------------------------------------------------------------------
# The defaults, from the memory available

def test_defaults():
    chunks, objects, source = expected_defaults()
    j, rc, err = memview_json("leaks", "info")
    lim = j and j.get("limits")
    check("info --json: limits as computed here from /proc/meminfo, "
          "RLIMIT_AS and the cgroup (%d chunks, %d objects, %s)"
          % (chunks, objects, source),
          lim is not None and lim["max_heap_chunks"] == chunks and
          lim["max_objects"] == objects and lim["source"] == source and
          lim["chunk_cost"] == CHUNK_COST and
          lim["object_cost"] == OBJECT_COST and lim["share"] == SHARE and
          lim["available"] == available()[0] and
          near(lim["measured"], available()[2]), (lim, err))
    pat = re.compile(r"heap index up to (\d+) chunks \(32 bytes each\): "
                     r"1/2 of [\d.]+[KMGTP] \([\d.]+[KMGTP] available by "
                     r"(.*?), down to a power of two\)")
    opat = re.compile(r"walks up to (\d+) objects \(32 bytes each\): "
                      r"1/2 of [\d.]+[KMGTP] \([\d.]+[KMGTP] available")
    for cmd, prefix in (("info", "limits: "), ("doctor", "ok   limits    ")):
        rc, out, err, _ = memview("leaks", cmd)
        m = pat.search(out)
        o = opat.search(out)
        check("%s text: says the heap index and walk defaults and where "
              "they come from" % cmd,
              m and o and int(m.group(1)) == chunks and
              m.group(2) == source and int(o.group(1)) == objects and
              (prefix + m.group(0)) in out, out[:600])


# ------------------------------------------------------------------
# A cut index: right numbers for what was seen

def shuffled_core(tmp):
    core = os.path.join(tmp, "shuffled.core")
    facts = os.path.join(tmp, "shuffled.facts")
    env = dict(os.environ, MV_SHAPE="list", MV_NODES="3000",
               MV_SHUFFLE="1")
    subprocess.run(["tools/make-core.sh", paths("deepbench")[1], core,
                    facts], env=env, check=True, capture_output=True)
    c = Core(core)
    node = c.u64(c.exe_base() + symbol(paths("deepbench")[1], "head"))
    nodes = []
    while node and len(nodes) < 10000:
        nodes.append(node)
        node = c.u64(node + 8)
    return core, nodes


def run_core(core, *args):
    argv = [MEMVIEW, "--core", core, "--exe", paths("deepbench")[1]] + \
        list(args)
    p = subprocess.run(argv, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_cut_gc(core, nodes):
    f = read_facts(os.path.join(os.path.dirname(core), "shuffled.facts"))
    n = len(nodes)
    later = sum(1 for a, b in zip(nodes, nodes[1:]) if b < a)
    check("shuffled deepbench: %d nodes from head, %d held by a node at a "
          "higher address" % (n, later),
          n == int(f["nodes"]) == 3000 and later > 1000, (n, later))
    cut = 1500
    rc, out, err = run_core(core, "gc", "--max-heap-chunks", str(cut),
                            "--blocks", "--show-reachable",
                            "--max-blocks", "0", "--json")
    j = json.loads(out) if rc == 0 else None
    check("gc --max-heap-chunks %d on the shuffled list: partial, cut by "
          "the index, bytes not examined" % cut,
          j and j["partial"] and j["cut_by"] == ["max-heap-chunks"] and
          j["not_examined"]["bytes"] > 0 and
          j["not_examined"]["held_blocks"] > 0, (rc, err, j and
                                                 j["not_examined"]))
    if not j:
        return
    listed = {int(b["address"], 16): b["kind"] for b in j["blocks"]}
    lost = [a for a in nodes if listed.get(a, "still_reachable") !=
            "still_reachable"]
    s = j["summary"]
    check("gc cut: no node of the list (all reachable from head) called "
          "lost", not lost and s["definitely_lost"]["blocks"] == 0 and
          s["indirectly_lost"]["blocks"] == 0 and
          s["possibly_lost"]["blocks"] == 0, (len(lost), s))
    seen = [a for a in nodes if a in listed]
    check("gc cut: the indexed nodes are listed reachable (%d)" % len(seen),
          len(seen) >= cut - 10 and all(listed[a] == "still_reachable"
                                        for a in seen), len(seen))
    rc, out, err = run_core(core, "gc", "--max-heap-chunks", str(cut))
    check("gc cut text: every category says 'of those indexed', the bytes "
          "not examined are counted",
          rc == 0 and out.count("of those indexed") == 4 and
          re.search(r"not examined +%d bytes of heap past the index" %
                    j["not_examined"]["bytes"], out) is not None, out[:900])


def test_cut_leaks():
    key = {}
    with open(os.path.join(BUILD, "cores", "leaks.facts")) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "block":
                key[int(w[1], 16)] = w[4]
    wrong = {}
    for cut in (3, 8, 13, 21, 27, 34, 100, 2000):
        j, rc, err = memview_json("leaks", "gc", "--max-heap-chunks",
                                  str(cut), "--blocks", "--show-reachable",
                                  "--max-blocks", "0")
        if j is None:
            wrong[cut] = err
            continue
        for b in j["blocks"]:
            k = key.get(int(b["address"], 16))
            if k is None:
                continue
            if b["kind"] in ("definitely_lost", "indirectly_lost") and \
                    k not in ("definitely_lost", "indirectly_lost") or \
                    b["kind"] == "possibly_lost" and k == "still_reachable":
                wrong.setdefault(cut, []).append((b["address"], b["kind"],
                                                  k))
    check("leaks, the index cut at 8 places: no block called lost that the "
          "fixture's key says is reachable", not wrong, wrong)


def test_cut_sizeof(core, nodes):
    n = len(nodes)
    rc, out, err = run_core(core, "sizeof-deep", "head",
                            "--max-heap-chunks", "1500", "--json")
    j = json.loads(out) if rc == 0 else None
    check("sizeof-deep cut: partial, cut_by max-heap-chunks at the top",
          j and j["partial"] and j["cut_by"] == ["max-heap-chunks"],
          (rc, err))
    if not j:
        return
    check("sizeof-deep cut: no node 'other'; heap + not indexed = the %d "
          "nodes, 16 bytes each not indexed" % n,
          j["not_heap"]["other"]["objects"] == 0 and
          j["heap"]["objects"] + j["not_indexed"]["objects"] == n and
          j["not_indexed"]["objects"] > 0 and
          j["not_indexed"]["bytes"] == 16 * j["not_indexed"]["objects"] and
          j["objects"] == n + 1,
          (j["heap"]["objects"], j["not_indexed"], j["not_heap"]))
    rc, out, err = run_core(core, "sizeof-deep", "head",
                            "--max-heap-chunks", "1500")
    check("sizeof-deep cut text: a 'not indexed' line, no 'other'",
          rc == 0 and re.search(r"not indexed +[\d,]+ objects, [\d,]+ "
                                r"bytes \(in the heap past "
                                r"--max-heap-chunks", out) and
          "other" not in out, out[:700])


def test_cut_debuggers(core):
    exe = paths("deepbench")[1]
    # --max-objects 0: the default moves with MemAvailable between runs
    cases = ["mv-gc --json --max-heap-chunks 1500",
             "sizeof-deep --json --max-heap-chunks 1500 --max-objects 0 "
             "head"]
    data, raw = harness.gdb(["file " + exe, "core " + core], cases)
    gdb = [json.loads(r["output"]) if r["succeeded"] else None
           for r in data["cases"]] if data else [None] * 2
    data, raw2 = harness.lldb({"MV_EXE": exe, "MV_CORE": core}, cases)
    lldb = [json.loads(r["output"]) if r["succeeded"] else None
            for r in data["cases"]] if data else [None] * 2
    for i, args in enumerate((("gc",), ("sizeof-deep", "--max-objects",
                                        "0", "head"))):
        rc, out, err = run_core(core, *args, "--max-heap-chunks", "1500",
                                "--json")
        cli = json.loads(out) if rc == 0 else None
        check("gdb and lldb: %s with a cut index = the CLI's JSON" %
              args[0], cli is not None and cli["partial"] and
              gdb[i] == cli and lldb[i] == cli, (raw + raw2)[-400:])


# ------------------------------------------------------------------
# The debuggers: the same partial JSON from the option and the setting

def test_debuggers(nodes):
    core, exe = paths("heapbig")
    cases = ["mv-heap --json --max-heap-chunks 1000",
             "mv-heap --json", "mv-heap --json --max-heap-chunks 0"]
    data, raw = harness.gdb(["file " + exe, "core " + core,
                             "set memview max-heap-chunks 1000"], cases)
    gdb = [json.loads(r["output"]) if r["succeeded"] else None
           for r in data["cases"]] if data else [None] * 3
    data, raw2 = harness.lldb({"MV_EXE": exe, "MV_CORE": core},
                              ["mv-settings max-heap-chunks 1000"] + cases)
    lldb = [json.loads(r["output"]) if r["succeeded"] else None
            for r in data["cases"][1:]] if data else [None] * 3
    cli, rc, err = memview_json("heapbig", "heap", "--max-heap-chunks",
                                "1000")
    check("gdb and lldb: heap --max-heap-chunks 1000 = the CLI's JSON",
          cli is not None and gdb[0] == cli and lldb[0] == cli,
          (raw + raw2)[-400:])
    check("gdb and lldb: the setting max-heap-chunks 1000 = the option",
          cli is not None and gdb[1] == cli and lldb[1] == cli,
          (raw + raw2)[-400:])
    check("gdb and lldb: --max-heap-chunks 0 wins over the setting",
          gdb[2] is not None and lldb[2] is not None and
          not gdb[2]["partial"] and gdb[2] == lldb[2],
          (raw + raw2)[-400:])

    core, exe = paths("deepbench")
    target = "0x%x" % nodes[99]
    cases = ["mv-path-to --json --max-objects 50 " + target]
    data, raw = harness.gdb(["file " + exe, "core " + core], cases)
    gdb = data and data["cases"][0]
    data, raw2 = harness.lldb({"MV_EXE": exe, "MV_CORE": core}, cases)
    lldb = data and data["cases"][0]
    cli, rc, err = memview_json("deepbench", "path-to", target,
                                "--max-objects", "50")
    ok = cli is not None and cli["partial"] and gdb and lldb and \
        gdb["succeeded"] and lldb["succeeded"]
    check("gdb and lldb: path-to --max-objects 50 = the CLI's partial JSON",
          ok and json.loads(gdb["output"]) == cli and
          json.loads(lldb["output"]) == cli, (raw + raw2)[-400:])


def main():
    if missing("limits", [MEMVIEW] + [p for name in ("heapbig", "deepbench",
                                                      "deepsize", "leaks")
                                       for p in paths(name)]):
        return 1
    test_heap_memory()
    chain = heapbig_chain()
    nodes = deepbench_list()
    with tempfile.TemporaryDirectory() as tmp:
        core, shuffled = shuffled_core(tmp)
        tests = (test_defaults, lambda: test_cut_gc(core, shuffled),
                 test_cut_leaks, lambda: test_cut_sizeof(core, shuffled),
                 lambda: test_cut_debuggers(core),
                 lambda: test_heap_index(chain),
                 lambda: test_heap_listing(chain), test_gc, test_referrers,
                 lambda: test_path_to(nodes), lambda: test_walkers(tmp),
                 lambda: test_debuggers(nodes))
        for test in tests:
            try:
                test()
            except Exception as e:  # a broken test is a failed case
                check("%s runs" % test, False, repr(e))
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
