#!/usr/bin/python3
"""jemalloc 5.3.0 (Debian 12's libjemalloc2, no debug symbols) as a heap
model (issue 17), against the fixture's own key and jemalloc's own
statistics.

tests/fixtures/jemalloc.c is linked with -ljemalloc.  Each of its
threads allocates blocks of every small size class and some large ones,
keeps most on a list from a global, leaks some (and a 3-block cycle),
frees every 10th of its own blocks and, with 4 threads, some of its
neighbour's; thread 0 also takes blocks from glibc's own malloc
(__libc_malloc), one of them dropped.  Its facts: every block with
malloc_usable_size and what became of it; after an "epoch" refresh,
jemalloc's stats.allocated, the bytes in tcaches, and per size class the
blocks allocated (curregs / curlextents).

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds jemalloc 5.3.0 through its extent
   map; the bytes of its blocks in use, in tcaches and its own internal
   ones = stats.allocated, those in tcaches = its tcache_bytes; per size
   class the same sum = jemalloc's count; every block the program holds
   or leaked is an in-use block at its address with its usable size,
   every block it freed is free; glibc's blocks are glibc's (each block
   in one model); no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one
   definitely, two indirectly lost; glibc's dropped block too), as many
   lost as the key says, no block the program holds; and valgrind's own
   counts for the same program (--soname-synonyms=somalloc=*jemalloc*).
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names its block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the cores.
5. --allocator glibc: jemalloc's memory stays a root, none of its
   blocks is called lost; --allocator jemalloc on a glibc program is an
   error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with jemalloc in LD_PRELOAD: each block of its own key in
   its memcheck category, nothing else lost.
6. Hostile metadata on copies of the core: a slab's edata size changed,
   an rtree leaf element made garbage, a tcache's ring link made
   garbage.  heap and gc answer within 20 s with a note, and gc calls
   none of the program's live blocks lost.  A copy whose libjemalloc
   has another version string: said plainly, not read, its memory
   roots; --allocator jemalloc an error naming the version.

The checks common to the allocators are mvalloc.py's driver; this file
is jemalloc's row of its table and its own checks.
"""
import os
import re
import subprocess
import sys

from mvalloc import GC
import mvalloc

LIB = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def leaf_of(cf, emap, addr):
    return cf.get(emap + 120 + 8 * ((addr >> 30) & 0x3ffff), "<Q")


class Jemalloc(mvalloc.Allocator):
    name = "jemalloc"
    version = "jemalloc 5.3.0"
    describes = ("cross-checked",)
    finds = "heap finds jemalloc 5.3.0 through its extent map"
    usable_name = "its malloc_usable_size"
    free_states = ("tcache", "slab-free")
    preload_lib = LIB
    preload_says = "jemalloc 5.3.0"

    def heap_more(self, d, k, who, chunks):
        check = self.check
        je = self.arenas(d)
        held = {"in-use": 0, "tcache": 0, "metadata": 0}
        per = {}
        for c in d["chunks"]:
            if c["arena"] in je and c["state"] in held:
                held[c["state"]] += c["size"]
                per[c["size"]] = per.get(c["size"], 0) + 1
        check(sum(held.values()) == k.allocated,
              "%s: in use + tcache + jemalloc's own blocks = stats.allocated "
              "(%d bytes)" % (who, k.allocated), held)
        check(held["tcache"] == k.tcache_bytes and held["tcache"] > 0,
              "%s: tcache blocks = stats tcache_bytes (%d)" %
              (who, k.tcache_bytes), held["tcache"])
        classes = {size: n for size, n in k.rows.get("class", [])}
        diff = {s: (per.get(s), classes.get(s))
                for s in set(per) | set(classes)
                if per.get(s) != classes.get(s)}
        check(not diff and len(classes) >= 38,
              "%s: blocks per size class = jemalloc's curregs/curlextents "
              "(%d classes)" % (who, len(classes)), diff)
        wrong = [(hex(a), u, chunks.get(a)) for a, u, _ in k.glibc
                 if not chunks.get(a) or chunks[a]["arena"] in je or
                 chunks[a]["usable"] != u or
                 chunks[a]["state"] != "in-use"]
        check(not wrong, "%s: glibc's %d blocks are glibc's, in use with "
              "their usable size" % (who, len(k.glibc)), wrong[:3])
        addrs = [c["address"] for c in d["chunks"]]
        check(len(addrs) == len(set(addrs)),
              "%s: each block in one model" % who)

    def after_core(self, g):
        """memcheck on the same program (1 thread), its malloc replacing
        jemalloc's: its leak counts are memview's on the core."""
        r = subprocess.run(["valgrind", "--leak-check=full",
                            "--soname-synonyms=somalloc=*jemalloc*",
                            "--show-leak-kinds=all", self.exe],
                           capture_output=True, text=True, timeout=600)
        counts = {}
        for kind in ("definitely lost", "indirectly lost", "possibly lost"):
            m = re.search(r"%s: [\d,]+ bytes in ([\d,]+) blocks" % kind,
                          r.stderr)
            counts[kind] = int(m.group(1).replace(",", "")) if m else None
        s = g["summary"]
        got = {"definitely lost": s["definitely_lost"]["blocks"],
               "indirectly lost": s["indirectly_lost"]["blocks"],
               "possibly lost": s["possibly_lost"]["blocks"]}
        self.check(counts == got, "valgrind (soname-synonyms=somalloc="
                   "*jemalloc*): its lost blocks = gc's on the core",
                   (counts, got, r.stderr[-300:]))

    def damage(self, d, k, cf):
        m = re.search(r"extent map at (0x[0-9a-f]+)", d["description"])
        emap = int(m.group(1), 16)
        live = sorted(a for a, u, s, _ in k.blocks
                      if s == "live" and u < 4096)
        a = live[len(live) // 2]
        leaf = leaf_of(cf, emap, a)
        elm = cf.get(leaf + 8 * ((a >> 12) & 0x3ffff), "<Q")
        edata = ((elm << 16) & (2 ** 64 - 1)) >> 16 & ~127
        je = self.arenas(d)
        arena = [x for i, x in enumerate(d["arenas"]) if i in je][0]
        head = cf.get(int(arena["address"], 16) + 10392, "<Q")
        return [("a slab's edata size changed", "0x%x" % edata,
                 [(edata + 16, "<Q", cf.get(edata + 16, "<Q") + (1 << 20))],
                 None),
                ("an rtree leaf element made garbage",
                 "0x%x" % (edata ^ 1 << 40),
                 [(leaf + 8 * ((a >> 12) & 0x3ffff), "<Q", elm ^ 1 << 40)],
                 None),
                ("a tcache ring link made garbage", "0x%x" % (head ^ 0x8000),
                 [(head, "<Q", head ^ 0x8000)], None)]

    def more(self, k, tmp):
        self.version_checks(k, tmp)

    def version_checks(self, k, tmp):
        """A copy of the core whose libjemalloc is a copy of the library
        with another version string (the core names it in NT_FILE, a
        path of the same length): heap says the version plainly and
        reads nothing of it; gc leaves its memory as roots."""
        check = self.check
        with open(LIB, "rb") as f:
            lib = f.read()
        old = b"5.3.0-0-g54eaed1d"
        if lib.count(old) != 1:
            check(False, "version: %s has one 5.3.0 version string" % LIB)
            return
        d = os.path.join(tmp, "v")
        path = os.path.join(d, "x" * (len(LIB) - len(d) - 2 - 17),
                            "libjemalloc.so.2")
        os.makedirs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(lib.replace(old, b"5.2.1-0-g54eaed1d"))
        with open(self.core1, "rb") as f:
            core = f.read()
        damaged = os.path.join(tmp, "version.core")
        with open(damaged, "wb") as f:
            f.write(core.replace(LIB.encode() + b"\0",
                                 path.encode() + b"\0"))
        target = ["--core", damaged, "--exe", self.exe]
        h, err = self.json(target, ["heap", "--json"])
        notes = h.get("notes", []) if h else []
        check(any("jemalloc version 5.2.1-0-g54eaed1d" in n and
                  "knows the layout of 5.3.0" in n for n in notes) and
              not self.arenas(h), "version: another jemalloc version is "
              "said plainly and not read", err or notes[:3])
        g, err = self.json(target, GC)
        glibc = {a for a, _, _ in k.glibc}
        lost = [b["address"] for b in (g or {}).get("blocks", [])
                if b["kind"] != "still_reachable" and
                int(b["address"], 16) not in glibc]
        check(g is not None and not lost, "version: gc leaves the unread "
              "jemalloc's memory as roots (none of its blocks lost)",
              err or lost[:5])
        self.refused(target, "5.2.1", "version: heap --allocator jemalloc "
                     "is an error naming the version")
        os.unlink(damaged)


if __name__ == "__main__":
    sys.exit(Jemalloc().run())
