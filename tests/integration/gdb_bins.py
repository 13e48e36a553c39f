"""Run inside gdb (with glibc's debug symbols, libc6-dbg) on a core:
glibc's free lists walked with gdb's own values, printed as one JSON
line "BINS {...}": for each thread its tcache (counts and entries), and
for each arena (main_arena, then .next) its fastbins and bins.  The
oracle for `heap --bins`: gdb reads glibc's structures by their DWARF,
memview by its own model.  Lists are cut at 100000 entries."""
import json

import gdb

LIMIT = 100000


def word(addr):
    return int(gdb.parse_and_eval("*(unsigned long *)%d" % addr))


def single(p, tcache):
    """A safe-linked list from its first link (tcache: a block; fastbin:
    a chunk), as chunk addresses."""
    out = []
    while p and len(out) < LIMIT:
        chunk = p - 16 if tcache else p
        out.append(chunk)
        p = ((chunk + 16) >> 12) ^ word(chunk + 16)
    return out


def arena_lists(a):
    lists = []
    fast = a["fastbinsY"]
    for i in range(fast.type.range()[1] + 1):
        chunks = single(int(fast[i]), False)
        if chunks:
            lists.append({"kind": "fastbin", "index": i, "chunks": chunks})
    bins = a["bins"]
    for i in range(1, (bins.type.range()[1] + 1) // 2 + 1):
        head = int(bins[2 * i - 2].address) - 16
        p, chunks = int(bins[2 * i - 2]), []
        while p != head and len(chunks) < LIMIT:
            chunks.append(p)
            p = word(p + 16)
        if chunks:
            kind = "unsorted" if i == 1 else "smallbin" if i < 64 \
                else "largebin"
            lists.append({"kind": kind, "index": i, "chunks": chunks})
    return lists


def main():
    result = {"arenas": [], "tcaches": []}
    main_arena = gdb.parse_and_eval("&main_arena")
    a = main_arena
    while True:
        result["arenas"].append({"address": int(a),
                                 "lists": arena_lists(a.dereference())})
        a = a["next"]
        if int(a) == int(main_arena) or len(result["arenas"]) > 4096:
            break
    for th in gdb.selected_inferior().threads():
        th.switch()
        tc = gdb.parse_and_eval("tcache")
        if not int(tc):
            continue
        t = tc.dereference()
        bins = []
        for b in range(t["counts"].type.range()[1] + 1):
            chunks = single(int(t["entries"][b]), True)
            count = int(t["counts"][b])
            if chunks or count:
                bins.append({"index": b, "count": count, "chunks": chunks})
        result["tcaches"].append({"thread": th.num, "tid": th.ptid[1],
                                  "tcache": int(tc), "bins": bins})
    print("BINS " + json.dumps(result))


main()
