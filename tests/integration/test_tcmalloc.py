#!/usr/bin/python3
"""gperftools tcmalloc 2.10 (Debian 12's libtcmalloc-minimal4 and
libtcmalloc4, no debug symbols) as a heap model (issue 17), against the
fixture's own key, tcmalloc's own count and valgrind's memcheck.

tests/fixtures/tcmalloc.c is linked with -ltcmalloc_minimal.  Each of its
threads allocates objects of many size classes and some large blocks
(spans of their own), keeps most on a list from a global, leaks some (and
a 3-block cycle), then frees some of its own blocks and, with 4 threads,
some of its neighbour's: they land in thread caches, transfer caches and
span free lists.  Its facts: every block with tc_malloc_size and what
became of it, and tcmalloc's generic.current_allocated_bytes at the end.

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds tcmalloc 2.10; the in-use bytes of its
   page heap equal generic.current_allocated_bytes (which counts every
   object handed out, the C runtime's too, and none of the cached free
   ones); every block the program holds or leaked is an in-use block at
   its address with tc_malloc_size, every block it freed is not in use;
   per size class, in-use objects at least the key's and their bytes
   summing to tcmalloc's count; free objects in thread caches and on
   span lists; no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one definitely,
   two indirectly lost), no block the program holds lost; the numbers of
   definitely and indirectly lost blocks are valgrind's (memcheck with
   --soname-synonyms=somalloc=*tcmalloc*, the same fixture run under it,
   1 thread; valgrind also finds MallocExtension::Register's 8 bytes
   lost); with 4 threads the key's, plus those valgrind found that are
   tcmalloc's own (its answer with threads paused at exit depends on
   their stacks).
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names the in-use block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the cores and attached to the live 4-thread run.
5. --allocator glibc: tcmalloc's memory is no model's, nothing of the
   program's is called lost; --allocator tcmalloc on a glibc program is
   an error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with the full libtcmalloc.so.4 in LD_PRELOAD: each block of
   its own key in its memcheck category.
6. Hostile metadata on copies of the core: a span's free list made a
   loop, a span's length 0, a thread cache's list head garbage.  heap and
   gc answer within 20 s with a note naming the damaged span or cache,
   and gc calls none of the blocks the program holds lost.  A size map
   that is not 2.10's: tcmalloc is said and not read (its memory stays
   roots: nothing lost), and --allocator tcmalloc is an error.

The checks common to the allocators are mvalloc.py's driver; this file
is tcmalloc's row of its table and its own checks.
"""
import os
import re
import struct
import subprocess
import sys

from mvalloc import CoreFile
import mvalloc

FULL_LIB = "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"
# gperftools 2.10's layouts (src/span.h, thread_cache.h): where the
# damage goes.
SPAN_LENGTH, SPAN_OBJECTS, SPAN_BITS = 8, 32, 40


def valgrind_counts(exe, threads):
    """memcheck's lost blocks for the fixture run under it."""
    env = dict(os.environ, MV_THREADS=str(threads))
    r = subprocess.run(["valgrind", "--soname-synonyms=somalloc=*tcmalloc*",
                        "--leak-check=full", "--show-leak-kinds=all",
                        "--errors-for-leak-kinds=none", exe], env=env,
                       capture_output=True, text=True, timeout=600)
    got = {}
    for kind, key in (("definitely lost", "definitely_lost"),
                      ("indirectly lost", "indirectly_lost")):
        m = re.search(kind + r": [\d,]+ bytes in ([\d,]+) blocks", r.stderr)
        if m:
            got[key] = int(m.group(1).replace(",", ""))
    return got, r.stderr[-400:]


def spans_of(cf, root):
    """(span, sizeclass) of the pagemap's spans: root_[2^17] leaves of
    2^18 Span pointers (gperftools 2.10, 8 KiB pages)."""
    spans = []
    for i1 in range(1 << 17):
        leaf = cf.get(root + 8 * i1, "<Q")
        if not leaf:
            continue
        off = cf.offset(leaf)
        vals = struct.unpack_from("<%dQ" % (1 << 18), cf.data, off)
        seen = set()
        for i2, s in enumerate(vals):
            if s and s not in seen and cf.get(s, "<Q") == (i1 << 18) | i2:
                seen.add(s)
                spans.append((s, (cf.get(s + SPAN_BITS, "<I") >> 16) & 0xff))
    return spans




class Tcmalloc(mvalloc.Allocator):
    name = "tcmalloc"
    version = "tcmalloc 2.10"
    finds = "heap finds tcmalloc 2.10"
    usable_name = "tc_malloc_size"
    preload_lib = FULL_LIB
    preload_says = "tcmalloc 2.10 (gperftools:"
    preload_alone = False
    attach = True

    def prepare(self):
        self.vg1, out = valgrind_counts(self.exe, 1)
        self.check(self.vg1, "valgrind runs the fixture (1 thread)", out)

    def lost_want(self, k):
        if k.threads == 1:
            return self.vg1, "valgrind's"
        # With 4 threads valgrind's answer depends on what the paused
        # threads' stacks still hold when it checks at exit: the
        # 4-thread runs are held to the key, plus the blocks of
        # tcmalloc's own that valgrind finds lost in the 1-thread run.
        return ({kind: k.count(kind) + self.vg1.get(kind, 0) -
                 self.k1.count(kind) for kind in mvalloc.LOST},
                "the key's and tcmalloc's own")

    def heap_more(self, d, k, who, chunks):
        check = self.check
        tc = self.arenas(d)
        used = sum(c["usable"] for c in chunks.values()
                   if c["arena"] in tc and c["state"] == "in-use")
        check(used == k.allocated_bytes,
              "%s: in-use bytes %d = tcmalloc's current_allocated_bytes %d"
              % (who, used, k.allocated_bytes))
        classes = {c["size"]: c for c in d.get("tcmalloc_size_classes", [])}
        mine = {}
        for _, usable, state, _ in k.blocks:
            if state != "freed":
                mine[usable] = mine.get(usable, 0) + 1
        short = {s: (n, classes.get(s, {}).get("in_use"))
                 for s, n in mine.items()
                 if classes.get(s, {}).get("in_use", 0) < n}
        total = sum(c["size"] * c["in_use"] for c in classes.values())
        check(classes and not short and total == k.allocated_bytes,
              "%s: per size class, in-use objects cover the key's and sum "
              "to tcmalloc's count (%d classes)" % (who, len(classes)),
              short or total)
        t = d["totals"]
        check(t["thread_cache"]["count"] > 0 and t["span_free"]["count"] > 0,
              "%s: free objects in thread caches and on span lists" % who,
              {s: t[s]["count"] for s in ("thread_cache", "transfer_cache",
                                          "span_free", "free_span")})

    def damage(self, d, k, cf):
        tc = sorted(self.arenas(d))
        root = int(d["arenas"][tc[0]]["address"], 16)
        spans = spans_of(cf, root)
        listed = [s for s, c in spans
                  if c and cf.get(s + SPAN_OBJECTS, "<Q")]
        looped = listed[len(listed) // 2]
        head = cf.get(looped + SPAN_OBJECTS, "<Q")
        small = [s for s, c in spans if c]
        short = small[len(small) // 3]
        # The first thread cache, as gdb reads the exported symbol.
        r = subprocess.run(["gdb", "-nx", "-batch", "-q", self.exe,
                            self.core1, "-ex", "set debuginfod enabled off",
                            "-ex", "p/x *(long *)&'tcmalloc::ThreadCache::"
                            "thread_heaps_'"], capture_output=True,
                           text=True, timeout=120)
        m = re.search(r"= (0x[0-9a-f]+)", r.stdout)
        heaps = int(m.group(1), 16) if m else None
        self.check(heaps, "gdb reads tcmalloc::ThreadCache::thread_heaps_",
                   r.stderr)
        cases = [("a loop in a span's free list", "0x%x" % looped,
                  [(head, "<Q", head)], None),
                 ("a span's length 0", "0x%x" % short,
                  [(short + SPAN_LENGTH, "<Q", 0)], None)]
        if heaps:
            # ThreadCache::list_[2].list_ (a FreeList is 32 bytes).
            cases.append(("a thread cache's list head garbage",
                          "0x%x" % heaps, [(heaps + 64, "<Q", 0x1234567)],
                          None))
        return cases

    def more(self, k, tmp):
        self.sizemap_checks(tmp)

    def sizemap_checks(self, tmp):
        """SizeMap::class_to_size_ changed (gperftools 2.10's first
        classes, 0, 8, 16, 32, ...: its second made 9): tcmalloc is said
        and not read, its memory left as roots, and --allocator tcmalloc
        is an error."""
        check = self.check
        cf = CoreFile(self.core1)
        at = cf.data.find(struct.pack("<8i", 0, 8, 16, 32, 48, 64, 80, 96))
        check(at > 0, "the core holds tcmalloc's class_to_size_")
        if at <= 0:
            return
        struct.pack_into("<i", cf.data, at + 4, 9)
        path = os.path.join(tmp, "sizemap.core")
        with open(path, "wb") as f:
            f.write(cf.data)
        target = ["--core", path, "--exe", self.exe]
        g, err = self.json(target, mvalloc.GC)
        notes = (g or {}).get("notes") or []
        check(g is not None and "tcmalloc not read" in g["heap"] and
              any("size map" in n for n in notes) and
              not g["summary"]["definitely_lost"]["blocks"],
              "damaged size map: gc says tcmalloc is not read, nothing lost",
              err or (g["heap"], notes[:2]))
        self.refused(target, "size map", "damaged size map: heap "
                     "--allocator tcmalloc is an error saying why")
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(Tcmalloc().run())
