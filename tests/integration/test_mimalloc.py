#!/usr/bin/python3
"""mimalloc 2.0.9 (Debian 12's libmimalloc2.0, no debug symbols) as a
heap model (issue 17), against the fixture's own key and mimalloc's.

tests/fixtures/mimalloc.c is linked with -lmimalloc.  Each of its
threads allocates blocks of many size classes, keeps most on a list from
a global, leaks some (and a 3-block cycle), lists its heap with
mi_heap_visit_blocks, then frees some of its own blocks (onto the pages'
local_free lists) and, with 4 threads, some of its neighbour's (onto
thread_free, or the owning heap's delayed-free list).  Its facts: every
block with mi_usable_size and what became of it, and the blocks
mi_heap_visit_blocks counted per size, less those freed after.

1. The build's core (1 thread), and a 4-thread run live (--pid) and as a
   core taken by gcore: heap finds mimalloc 2.0.9; in-use blocks in all
   and per size equal mi_heap_visit_blocks' less the frees after it;
   every block the program holds or leaked is an in-use block at its
   address with mi_usable_size; every block it freed is free; the huge
   block (a segment of its own) too; with 4 threads some blocks are on
   thread_free; no note on a healthy heap.
2. gc: each leaked block in its memcheck category (cycle: one
   definitely, two indirectly lost), as many lost as the key says and no
   block the program holds.
3. sizeof-deep of thread 0's list: allocator bytes = the usable sizes of
   its live blocks; referrers and path-to of a live block; view
   --pointers on the list head names the in-use block.
4. The same heap and gc numbers from mv-heap and mv-gc in real gdb and
   lldb on the core.
5. --allocator glibc: mimalloc's memory stays a root, nothing of the
   program's is called lost; --allocator mimalloc on a glibc program is
   an error naming it.  leaks.c (valgrind's leak cases, built for glibc)
   run live with mimalloc in LD_PRELOAD: each block of its own key in
   its memcheck category, nothing else lost.
6. Hostile metadata on copies of the core: a page's free list made a
   loop, a slice count of 0 in a segment's slice table, a segment's
   cookie changed, a page's block size 3.  heap and gc answer within
   20 s with a note naming the damaged page or segment, and the other
   pages keep their blocks.

The checks common to the allocators are mvalloc.py's driver; this file
is mimalloc's row of its table and its own checks.
"""
import sys

import mvalloc

FREE_STATES = ("page-free", "local-free", "thread-free")


def pages_of(d, mi):
    """In-use blocks per page (slice start) of the mimalloc arenas mi."""
    used = {}
    for c in d["chunks"]:
        if c["arena"] in mi and c["state"] == "in-use":
            a = int(c["address"], 16)
            used[a & ~0xffff] = used.get(a & ~0xffff, 0) + 1
    return used


class Mimalloc(mvalloc.Allocator):
    name = "mimalloc"
    version = "mimalloc 2.0.9"
    describes = ("cookie checked against the main heap",)
    finds = "heap finds mimalloc 2.0.9, cookie checked"
    usable_name = "mi_usable_size"
    free_states = FREE_STATES
    preload_lib = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"
    preload_says = "mimalloc 2.0.9"

    def heap_more(self, d, k, who, chunks):
        check = self.check
        mi = self.arenas(d)
        mine = [c for c in chunks.values() if c["arena"] in mi]
        used = sum(1 for c in mine if c["state"] == "in-use")
        check(used == k.visited - k.freed,
              "%s: %d in-use blocks = mi_heap_visit_blocks' %d less %d "
              "freed after" % (who, used, k.visited, k.freed))
        classes = {}
        for size, n in k.rows.get("visited_class", []):
            classes.setdefault(size, [0, 0])[0] = n
        for size, n in k.rows.get("freed_class", []):
            classes.setdefault(size, [0, 0])[1] = n
        in_use = {s: v - f for s, (v, f) in classes.items() if v - f}
        got = {c["size"]: c["in_use"]
               for c in d.get("mimalloc_size_classes", []) if c["in_use"]}
        check(got == in_use, "%s: in-use blocks per size as mimalloc's "
              "visit counts them (%d sizes)" % (who, len(in_use)),
              {s: (got.get(s), in_use.get(s)) for s in set(got) | set(in_use)
               if got.get(s) != in_use.get(s)})
        huge, huge_usable = k.rows["huge"][0]
        c = chunks.get(huge)
        check(c is not None and c["arena"] in mi and
              c["state"] == "in-use" and c["usable"] == huge_usable,
              "%s: the huge block (%d bytes) is in use with its usable "
              "size" % (who, huge_usable), c)
        t = d["totals"]
        check(t["page_local_free"]["count"] > 0 and
              (k.threads == 1 or t["page_thread_free"]["count"] > 0),
              "%s: blocks on local_free%s" % (
                  who, "" if k.threads == 1 else " and thread_free"),
              {s: t[s]["count"] for s in ("page_free", "page_local_free",
                                          "page_thread_free")})

    def on_list(self, k):
        # The huge block, put on thread 0's list last.
        return [tuple(k.rows["huge"][0])]

    def damage(self, d, k, cf):
        mi = self.arenas(d)
        segs = sorted(int(d["arenas"][i]["address"], 16) for i in mi)
        seg = segs[0]
        # Pages of the first segment: slice k's mi_page_t at 264 + 80 k.
        pages = []
        i = 1
        while i < 512:
            sl = seg + 264 + 80 * i
            count = cf.get(sl, "<I")
            if not count:
                break
            if cf.get(sl + 28, "<I") and cf.get(sl + 16, "<Q"):
                pages.append((i, sl))
            i += count
        looped = next(sl for _, sl in pages
                      if cf.get(cf.get(sl + 16, "<Q"), "<Q"))
        head = cf.get(looped + 16, "<Q")
        good = pages_of(d, mi)

        def others_kept(what, page):
            """The pages but the damaged one keep their blocks in use."""
            def after(dd):
                kept = pages_of(dd, self.arenas(dd))
                pslice = (page - seg - 264) // 80 * 65536 + seg
                diff = [hex(a) for a in good if a != pslice and
                        kept.get(a) != good[a]]
                self.check(not diff, "damaged (%s): the other pages keep "
                           "their blocks in use" % what, diff[:5])
            return after

        cases = [("a loop in a page's free list", "0x%x" % looped,
                  [(head, "<Q", head)], looped),
                 ("a slice count of 0", "0x%x" % seg,
                  [(seg + 264 + 80 * pages[len(pages) // 2][0], "<I", 0)],
                  None),
                 ("a segment's cookie changed", "0x%x" % seg,
                  [(seg + 216, "<Q", cf.get(seg + 216, "<Q") ^ 0x1000)],
                  None),
                 ("a page's block size 3", "0x%x" % pages[2][1],
                  [(pages[2][1] + 28, "<I", 3)], pages[2][1])]
        return [(what, word, puts,
                 others_kept(what, page) if page is not None else None)
                for what, word, puts, page in cases]


if __name__ == "__main__":
    sys.exit(Mimalloc().run())
