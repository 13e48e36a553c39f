/* heap_glibc.c - glibc malloc (2.36, x86-64) as a heap model.
 *
 * Facts used (glibc malloc/malloc.c and arena.c):
 *  - a chunk is {prev_size, size, ...}; the size's low three bits are
 *    PREV_INUSE (the chunk before is in use), IS_MMAPPED and
 *    NON_MAIN_ARENA; chunks are 16-byte aligned and at least 32 bytes;
 *    malloc returns the chunk + 16.
 *  - a chunk is free iff the next chunk's PREV_INUSE is clear, except
 *    that tcache and fastbin chunks keep the bit set: they are found on
 *    their lists.  A free chunk's size is repeated in the next chunk's
 *    prev_size.
 *  - the main arena's heap runs from mp_.sbrk_base to the end of its top
 *    chunk; a thread arena lives in heaps aligned to HEAP_MAX_SIZE
 *    (64 MiB, or 4 huge pages) that start with a heap_info {ar_ptr, prev,
 *    size, ...}; the arena's malloc_state follows the first heap's
 *    heap_info, and older heaps end in two fencepost headers.
 *  - tcache and fastbin links are "safe-linked": the stored pointer is
 *    (address of the link >> 12) ^ pointer.  List heads are stored plain.
 *  - a thread's tcache (tcache_perthread_struct: uint16_t counts[64],
 *    tcache_entry *entries[64]) is the first chunk its arena hands out:
 *    0x290 bytes.
 *  - bins are circular doubly linked lists whose heads live in
 *    malloc_state.bins: bin i's head is a fake chunk whose fd/bk are
 *    bins[2i-2], bins[2i-1]; bin 1 is unsorted, 2..63 small, 64.. large.
 *
 * Field offsets come from glibc's DWARF when libc6-dbg is installed and
 * from the known 2.36 layout otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"

#define CHUNK_HDR 16u
#define MINSIZE 32u
#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define SIZE_BITS 7u
#define PAGE 4096u
#define TCACHE_BINS 64u
#define TCACHE_CHUNK 0x290u
#define DEFAULT_HEAP_MAX (64ull << 20)
#define NBINS 128u
#define MAX_ARENAS 4096u
#define MAX_HEAPS 65536u
#define WINDOW (1u << 20)
#define POLL_EVERY 65536u
#ifndef HEADER_AHEAD
#define HEADER_AHEAD 8192u /* bytes prefetched ahead of the chunk walk */
#endif

/* Offsets into glibc's structures. */
struct layout {
	/* struct malloc_state */
	uint64_t ms_fastbins, ms_top, ms_bins, ms_next, ms_system_mem;
	uint64_t ms_sizeof, nfastbins, nbin_words;
	/* struct malloc_par */
	uint64_t mp_n_mmaps, mp_mmapped_mem, mp_sbrk_base, mp_hp_pagesize;
	uint64_t mp_sizeof;
	/* heap_info */
	uint64_t hi_ar_ptr, hi_prev, hi_size, hi_sizeof;
	/* tcache_perthread_struct */
	uint64_t tc_counts, tc_entries, tc_bins;
};

/* glibc 2.36 on x86-64, as `ptype /o` prints it. */
static const struct layout layout_236 = {
	.ms_fastbins = 16, .ms_top = 96, .ms_bins = 112, .ms_next = 2160,
	.ms_system_mem = 2184, .ms_sizeof = 2200, .nfastbins = 10,
	.nbin_words = 254,
	.mp_n_mmaps = 60, .mp_mmapped_mem = 80, .mp_sbrk_base = 96,
	.mp_hp_pagesize = 48, .mp_sizeof = 136,
	.hi_ar_ptr = 0, .hi_prev = 8, .hi_size = 16, .hi_sizeof = 48,
	.tc_counts = 0, .tc_entries = 128, .tc_bins = 64,
};

/* A window onto target memory for the chunk walk: zero copy where the
 * target can peek, one large read otherwise. */
struct reader {
	struct mv_target *t;
	uint64_t base;
	size_t len;
	const uint8_t *data;
	uint8_t *buf;
};

struct segment_job {
	uint64_t start, first, end, top;
	uint32_t arena;
};

struct glibc {
	struct mv_heap *h;
	struct mv_target *t;
	struct layout L;
	bool layout_from_dwarf;
	uint64_t heap_max;
	uint64_t main_arena; /* 0: unknown */
	uint64_t mp;         /* 0: unknown */
	bool arena_by_scan;
	struct reader r;
	/* The last header read: the walk reads each chunk's header twice,
	 * as the next chunk of one and then as a chunk of its own. */
	uint64_t hdr_at, hdr_prev, hdr_size;
	bool hdr_valid;
	struct segment_job *jobs;
	size_t njobs;
	size_t walked;       /* chunks, for polling */
	/* The first chunk of each arena's first heap: where its thread's
	 * tcache lives. */
	uint64_t *first_chunks;
};

static bool rd64(struct glibc *g, uint64_t addr, uint64_t *v)
{
	return mv_target_read_partial(g->t, addr, v, 8) == 8;
}

static const uint8_t *reader_get(struct reader *r, uint64_t addr,
				 uint64_t limit)
{
	if (addr >= r->base && addr - r->base < r->len &&
	    r->len - (addr - r->base) >= CHUNK_HDR)
		return r->data + (addr - r->base);
	uint64_t want = limit > addr ? limit - addr : 0;
	if (want > WINDOW)
		want = WINDOW;
	if (want < CHUNK_HDR)
		want = CHUNK_HDR;
	r->len = 0;
	const void *p = mv_target_peek(r->t, addr, want);
	if (p) {
		r->data = p;
		r->len = want;
	} else {
		size_t n = mv_target_read_partial(r->t, addr, r->buf, want);
		if (n < CHUNK_HDR)
			return NULL;
		r->data = r->buf;
		r->len = n;
	}
	r->base = addr;
	return r->data;
}

/* prev_size and size at addr; false if unreadable. */
static bool header(struct glibc *g, uint64_t addr, uint64_t limit,
		   uint64_t *prev_size, uint64_t *size)
{
	if (g->hdr_valid && g->hdr_at == addr) {
		*prev_size = g->hdr_prev;
		*size = g->hdr_size;
		return true;
	}
	const uint8_t *p = reader_get(&g->r, addr, limit);
	if (!p)
		return false;
	memcpy(prev_size, p, 8);
	memcpy(size, p + 8, 8);
	g->hdr_at = addr;
	g->hdr_prev = *prev_size;
	g->hdr_size = *size;
	g->hdr_valid = true;
	return true;
}

/* ------------------------------------------------------------------ */
/* Layout from DWARF                                                   */
/* ------------------------------------------------------------------ */

static bool member(struct mv_type *t, const char *name, uint64_t *off,
		   uint64_t *count)
{
	t = t ? mv_type_strip(t) : NULL;
	if (!t || (t->kind != MV_TYPE_STRUCT && t->kind != MV_TYPE_UNION))
		return false;
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct mv_member *m = &t->members[i];
		if (!m->name || strcmp(m->name, name))
			continue;
		*off = m->bit_position / 8;
		if (count) {
			struct mv_type *mt = mv_type_strip(m->type);
			if (!mt || mt->kind != MV_TYPE_ARRAY || !mt->has_count)
				return false;
			*count = mt->count;
		}
		return true;
	}
	return false;
}

static struct mv_type *find_struct(struct glibc *g, const char *name)
{
	struct mv_type *t = NULL;
	struct mv_error *err = mv_program_find_type(g->h->program, MV_NS_STRUCT,
						    name, 0, &t, NULL);
	if (err) {
		mv_error_destroy(err);
		return NULL;
	}
	return t;
}

/* Each field is taken from DWARF when found there and plausible; the
 * rest stays at the 2.36 values. */
static void layout_from_dwarf(struct glibc *g, struct mv_type *ms,
			      struct mv_type *mp)
{
	struct layout L = layout_236;
	int found = 0;
	uint64_t v, n;
	ms = ms ? mv_type_strip(ms) : NULL;
	if (ms && ms->kind == MV_TYPE_STRUCT && ms->size) {
		if (member(ms, "fastbinsY", &v, &n) && n && n <= 16) {
			L.ms_fastbins = v;
			L.nfastbins = n;
			found++;
		}
		if (member(ms, "bins", &v, &n) && n >= 2 && n <= 2 * NBINS) {
			L.ms_bins = v;
			L.nbin_words = n;
			found++;
		}
		found += member(ms, "top", &L.ms_top, NULL);
		found += member(ms, "next", &L.ms_next, NULL);
		found += member(ms, "system_mem", &L.ms_system_mem, NULL);
		if (ms->size < 65536)
			L.ms_sizeof = ms->size;
	}
	mp = mp ? mv_type_strip(mp) : NULL;
	if (mp && mp->kind == MV_TYPE_STRUCT) {
		found += member(mp, "n_mmaps", &L.mp_n_mmaps, NULL);
		found += member(mp, "mmapped_mem", &L.mp_mmapped_mem, NULL);
		found += member(mp, "sbrk_base", &L.mp_sbrk_base, NULL);
		if (!member(mp, "hp_pagesize", &L.mp_hp_pagesize, NULL))
			L.mp_hp_pagesize = UINT64_MAX; /* older glibc: none */
		if (mp->size && mp->size < 4096)
			L.mp_sizeof = mp->size;
	}
	struct mv_type *hi = find_struct(g, "_heap_info");
	hi = hi ? mv_type_strip(hi) : NULL;
	if (hi && hi->kind == MV_TYPE_STRUCT && hi->size && hi->size < 4096) {
		found += member(hi, "ar_ptr", &L.hi_ar_ptr, NULL);
		found += member(hi, "prev", &L.hi_prev, NULL);
		found += member(hi, "size", &L.hi_size, NULL);
		L.hi_sizeof = hi->size;
	}
	struct mv_type *tc = find_struct(g, "tcache_perthread_struct");
	if (tc && member(tc, "entries", &v, &n) && n && n <= 1024) {
		L.tc_entries = v;
		L.tc_bins = n;
		found += member(tc, "counts", &L.tc_counts, NULL);
	}
	g->L = L;
	g->layout_from_dwarf = found > 0;
}

/* ------------------------------------------------------------------ */
/* The chunk walk                                                      */
/* ------------------------------------------------------------------ */

static bool plausible_size(uint64_t field, uint64_t at, uint64_t end)
{
	uint64_t size = field & ~(uint64_t)SIZE_BITS;
	return size >= MINSIZE && !(size & 15) && size <= end - at &&
	       !(field & IS_MMAPPED);
}

/* Whether a chunk chain starting at p looks like glibc's: a few valid
 * headers in a row, free ones matching their successor's prev_size, or
 * a chain that ends exactly at the heap end. */
/* A header read on its own, leaving the reader's window where the walk
 * has it: resync probes every granule and the chunks they lead to, and
 * moving a 1 MiB window between the two on each probe made a corrupt
 * heap on a process or callback target take hours (fuzz_heap). */
static bool header_alone(struct glibc *g, uint64_t addr, uint64_t *prev_size,
			 uint64_t *size)
{
	uint8_t b[CHUNK_HDR];
	if (mv_target_read_partial(g->t, addr, b, sizeof(b)) != sizeof(b))
		return false;
	memcpy(prev_size, b, 8);
	memcpy(size, b + 8, 8);
	return true;
}

static bool plausible_chain(struct glibc *g, uint64_t p, uint64_t end)
{
	uint64_t prev_size, field;
	for (int links = 0; links < 4; links++) {
		if (end - p < CHUNK_HDR || !header_alone(g, p, &prev_size, &field))
			return false;
		if (!plausible_size(field, p, end))
			return false;
		uint64_t size = field & ~(uint64_t)SIZE_BITS;
		uint64_t next = p + size;
		if (next == end)
			return true;
		uint64_t nprev, nfield;
		if (end - next < CHUNK_HDR ||
		    !header_alone(g, next, &nprev, &nfield))
			return false;
		if (!(nfield & PREV_INUSE) && nprev != size)
			return false;
		p = next;
	}
	return true;
}

/* After a corrupt header at bad: the next 16-byte granule from which a
 * plausible chain starts, or end.  Linear in the bytes skipped; stops
 * at the first unreadable page (a corrupt arena can claim a heap of
 * 2^50 bytes, fuzz_heap found: probing it 16 bytes at a time never
 * ended) and polls for Ctrl-C. */
static uint64_t resync(struct glibc *g, uint64_t bad, uint64_t end,
		       struct mv_error **err)
{
	*err = NULL;
	uint64_t probes = 0;
	for (uint64_t p = bad + 16; p < end && end - p >= CHUNK_HDR; p += 16) {
		if (++probes % POLL_EVERY == 0 && (*err = mv_heap_poll(g->h)))
			return p;
		uint64_t prev_size, field;
		if ((p == bad + 16 || p % PAGE == 0) &&
		    !header_alone(g, p, &prev_size, &field))
			return end;
		if (plausible_chain(g, p, end))
			return p;
	}
	return end;
}

/* The common case in a tight loop: chunks in use (the next one's
 * PREV_INUSE is set) with plausible sizes, neither the top nor the
 * last, whose headers are both in the reader's window.  Stops at the
 * first chunk that needs walk_segment's checks and notes, and returns
 * where it stopped (*err set on an interrupt). */
static uint64_t walk_plain_run(struct glibc *g, const struct segment_job *j,
			       uint64_t a, uint64_t end,
			       struct mv_error **err)
{
	struct mv_heap *h = g->h;
	const struct reader *r = &g->r;
	*err = NULL;
	if (j->arena > UINT16_MAX || end > MV_ENTRY_START_END)
		return a;
	while (a - r->base < r->len && r->len - (a - r->base) >= CHUNK_HDR &&
	       a != j->top) {
		uint64_t field, nfield;
		/* Headers are read in address order, but each address comes
		 * from the one before: fetch ahead so that the chain does
		 * not wait on memory (and the next page's TLB miss). */
		if (r->len - (a - r->base) > HEADER_AHEAD)
			__builtin_prefetch(r->data + (a - r->base) + HEADER_AHEAD);
		memcpy(&field, r->data + (a - r->base) + 8, 8);
		uint64_t size = field & ~(uint64_t)SIZE_BITS;
		/* A chunk whose next header is the heap's last may be a
		 * fencepost: walk_segment decides. */
		if (!plausible_size(field, a, end) || end - a - size <= CHUNK_HDR)
			break;
		uint64_t next = a + size;
		if (next - r->base >= r->len ||
		    r->len - (next - r->base) < CHUNK_HDR)
			break;
		memcpy(&nfield, r->data + (next - r->base) + 8, 8);
		if (!(nfield & PREV_INUSE) || (size >> 4) > UINT32_MAX ||
		    h->ix.n >= h->ix.cap || h->ix.n >= h->max_chunks)
			break;
		if (!mv_heap_store_chunk(h, a, (uint32_t)(size >> 4),
					 MV_CHUNK_IN_USE, MV_LIST_NONE,
					 (uint16_t)j->arena)) {
			*err = mv_enomem;
			break;
		}
		a = next;
		if (++g->walked % POLL_EVERY == 0 && (*err = mv_heap_poll(h)))
			break;
	}
	return a;
}

static struct mv_error *walk_segment(struct glibc *g,
				     const struct segment_job *j)
{
	struct mv_heap *h = g->h;
	struct mv_error *err;
	uint64_t a = j->first, end = j->end;
	bool top_seen = false;
	g->r.len = 0;
	/* The whole segment will be read unless the index stops first: a
	 * core may read it in now (mv_target_will_read). */
	if (h->max_chunks - h->ix.n > (end - a) / MINSIZE)
		mv_target_will_read(g->t, a, end);
	while (a < end && !h->stopped) {
		if ((a = walk_plain_run(g, j, a, end, &err), err))
			return err;
		if (a >= end)
			break;
		if (++g->walked % POLL_EVERY == 0 && (err = mv_heap_poll(h)))
			return err;
		if (end - a < CHUNK_HDR) {
			return mv_heap_note(h, "heap 0x%llx-0x%llx ends with %llu "
					       "bytes that hold no chunk",
					    (unsigned long long)j->start,
					    (unsigned long long)end,
					    (unsigned long long)(end - a));
		}
		uint64_t prev_size, field;
		if (!header(g, a, end, &prev_size, &field))
			return mv_heap_note(h, "heap memory at 0x%llx is not "
					       "readable; the walk of heap "
					       "0x%llx-0x%llx stops there",
					    (unsigned long long)a,
					    (unsigned long long)j->start,
					    (unsigned long long)end);
		uint64_t size = field & ~(uint64_t)SIZE_BITS;
		bool is_top = j->top ? a == j->top
				     : a + size == end && size >= MINSIZE &&
					       !(size & 15);
		if (is_top) {
			top_seen = true;
			if (size > end - a || size < MINSIZE) {
				err = mv_heap_note(
					h, "top chunk at 0x%llx: size 0x%llx "
					   "does not reach the heap end 0x%llx",
					(unsigned long long)a,
					(unsigned long long)size,
					(unsigned long long)end);
				if (err)
					return err;
				size = end - a;
			}
			return mv_heap_add_chunk(h, a, size, MV_CHUNK_TOP,
						 MV_LIST_NONE, j->arena);
		}
		/* Fenceposts: a 16-byte header then a zero size, closing a
		 * heap that the arena grew out of. */
		if (size == CHUNK_HDR && end - a >= 2 * CHUNK_HDR) {
			uint64_t np, nf;
			if (header(g, a + CHUNK_HDR, end, &np, &nf) &&
			    (nf & ~(uint64_t)SIZE_BITS) == 0)
				return mv_heap_add_chunk(h, a, end - a,
							 MV_CHUNK_METADATA,
							 MV_LIST_NONE, j->arena);
		}
		if (!plausible_size(field, a, end)) {
			uint64_t next = resync(g, a, end, &err);
			if (err)
				return err;
			err = mv_heap_note(
				h, "corrupt chunk header at 0x%llx: size 0x%llx %s; "
				   "%s 0x%llx",
				(unsigned long long)a, (unsigned long long)field,
				size < MINSIZE      ? "is below the minimum 0x20"
				: size & 15         ? "is not a multiple of 16"
				: field & IS_MMAPPED ? "has the mmapped bit inside a heap"
						    : "runs past the heap end",
				next < end ? "walk resumes at" : "skipped to the heap end",
				(unsigned long long)(next < end ? next : end));
			if (err)
				return err;
			err = mv_heap_add_chunk(h, a, next - a, MV_CHUNK_CORRUPT,
						MV_LIST_NONE, j->arena);
			if (err)
				return err;
			a = next;
			continue;
		}
		uint64_t next = a + size;
		/* The other fencepost: when a thread arena moves to a new
		 * heap and its old top is too small to free, sysmalloc
		 * marks the old top in use and closes the heap with a
		 * zero size right after it.  Not a block of the program. */
		if (end - next == CHUNK_HDR) {
			uint64_t np, nf;
			if (header(g, next, end, &np, &nf) &&
			    (nf & ~(uint64_t)SIZE_BITS) == 0)
				return mv_heap_add_chunk(h, a, end - a,
							 MV_CHUNK_METADATA,
							 MV_LIST_NONE, j->arena);
		}
		uint32_t flags = MV_CHUNK_IN_USE;
		enum mv_heap_list list = MV_LIST_NONE;
		if (next == end) {
			/* The last chunk of a heap whose top is elsewhere:
			 * nothing after it says whether it is free. */
			err = mv_heap_note(h, "chunk at 0x%llx ends the heap "
					      "0x%llx-0x%llx but is not its top; "
					      "counted as in use",
					   (unsigned long long)a,
					   (unsigned long long)j->start,
					   (unsigned long long)end);
			if (err)
				return err;
		} else {
			uint64_t nprev, nfield;
			if (end - next >= CHUNK_HDR &&
			    header(g, next, end, &nprev, &nfield) &&
			    !(nfield & PREV_INUSE)) {
				flags = 0;
				list = MV_LIST_UNLISTED;
				if (nprev != size &&
				    (err = mv_heap_note(
					     h, "free chunk at 0x%llx: size 0x%llx "
						"but the next chunk's prev_size "
						"is 0x%llx",
					     (unsigned long long)a,
					     (unsigned long long)size,
					     (unsigned long long)nprev)))
					return err;
			}
		}
		err = mv_heap_add_chunk(h, a, size, flags, list, j->arena);
		if (err)
			return err;
		a = next;
	}
	if (j->top && !top_seen && !h->stopped)
		return mv_heap_note(h, "top chunk 0x%llx was not found on the "
				       "chunk chain of heap 0x%llx-0x%llx",
				    (unsigned long long)j->top,
				    (unsigned long long)j->start,
				    (unsigned long long)end);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Free lists                                                          */
/* ------------------------------------------------------------------ */

/* Marks the chunk at p as on list; false (with a note) if the list must
 * stop here. */
static bool mark_free(struct glibc *g, const char *what, uint64_t p,
		      uint64_t expect_size, enum mv_heap_list list,
		      struct mv_error **err)
{
	struct mv_heap *h = g->h;
	if (p & 15) {
		*err = mv_heap_note(h, "%s: link 0x%llx is misaligned; the "
				       "rest of the list is ignored",
				    what, (unsigned long long)p);
		return false;
	}
	size_t i = mv_heap_entry_at(h, p);
	if (i == SIZE_MAX && h->stopped) {
		/* Past the index's bound, most likely: the list is cut here,
		 * and the bound's note says chunks were not seen. */
		*err = NULL;
		return false;
	}
	if (i == SIZE_MAX) {
		*err = mv_heap_note(h, "%s: link 0x%llx is not a chunk of the "
				       "heap; the rest of the list is ignored",
				    what, (unsigned long long)p);
		return false;
	}
	uint32_t flags = mv_heap_flags_at(h, i);
	if (flags & MV_CHUNK_FREE_LIST) {
		*err = mv_heap_note(h, "%s: chunk 0x%llx is already on the %s "
				       "list (a loop or a double free); the "
				       "rest of the list is ignored",
				    what, (unsigned long long)p,
				    mv_heap_list_name(mv_heap_list_at(h, i)));
		return false;
	}
	if (flags & (MV_CHUNK_TOP | MV_CHUNK_METADATA | MV_CHUNK_CORRUPT |
			MV_CHUNK_MMAPPED)) {
		*err = mv_heap_note(h, "%s: link 0x%llx is not a normal chunk; "
				       "the rest of the list is ignored",
				    what, (unsigned long long)p);
		return false;
	}
	uint64_t size = mv_heap_size_at(h, i);
	if (expect_size && size != expect_size) {
		*err = mv_heap_note(h, "%s: chunk 0x%llx has size 0x%llx, not "
				       "0x%llx; the rest of the list is ignored",
				    what, (unsigned long long)p,
				    (unsigned long long)size,
				    (unsigned long long)expect_size);
		return false;
	}
	/* tcache and fastbin chunks look in use to their neighbour; binned
	 * ones must not. */
	bool quick = list == MV_LIST_TCACHE || list == MV_LIST_FASTBIN;
	bool looks_used = flags & MV_CHUNK_IN_USE;
	if (quick != looks_used) {
		*err = mv_heap_note(h, "%s: chunk 0x%llx is %s by the next "
				       "chunk's PREV_INUSE bit",
				    what, (unsigned long long)p,
				    looks_used ? "in use" : "free");
		if (*err)
			return false;
	}
	mv_heap_set_attr(h, i, (flags & ~(uint32_t)MV_CHUNK_IN_USE) |
				       MV_CHUNK_FREE_LIST,
			 list);
	return true;
}

/* A safe-linked singly linked list (tcache or fastbin).  first is the
 * first chunk; tcache links point at chunk + 16, fastbin links at the
 * chunk. */
static struct mv_error *walk_single(struct glibc *g, const char *what,
				    uint64_t first, uint64_t expect_size,
				    enum mv_heap_list list, long expect_count)
{
	struct mv_error *err = NULL;
	long n = 0;
	uint64_t p = first;
	bool broke = false;
	while (p) {
		if (!mark_free(g, what, p, expect_size, list, &err)) {
			broke = true;
			break;
		}
		n++;
		if ((err = mv_heap_bin_add(g->h, p)))
			return err;
		uint64_t stored;
		if (!rd64(g, p + 16, &stored)) {
			broke = true;
			err = mv_heap_note(g->h, "%s: link of chunk 0x%llx is "
						 "not readable",
					   what, (unsigned long long)p);
			break;
		}
		uint64_t next = ((p + 16) >> 12) ^ stored;
		if (!next)
			break;
		p = list == MV_LIST_TCACHE ? next - 16 : next;
	}
	mv_heap_bin_end(g->h, broke);
	if (err)
		return err;
	if (!broke && expect_count >= 0 && n != expect_count)
		return mv_heap_note(g->h, "%s: its count says %ld but the list "
					  "holds %ld",
				    what, expect_count, n);
	return NULL;
}

/* A circular doubly linked bin whose head is the fake chunk at head. */
static struct mv_error *walk_bin(struct glibc *g, const char *what,
				 uint64_t head, uint64_t fd,
				 enum mv_heap_list list, uint64_t expect_size)
{
	struct mv_error *err = NULL;
	uint64_t prev = head, p = fd;
	while (p != head) {
		if (!mark_free(g, what, p, expect_size, list, &err)) {
			mv_heap_bin_end(g->h, true);
			return err;
		}
		if ((err = mv_heap_bin_add(g->h, p)))
			return err;
		uint64_t bk, next;
		if (!rd64(g, p + 24, &bk) || !rd64(g, p + 16, &next)) {
			mv_heap_bin_end(g->h, true);
			return mv_heap_note(g->h, "%s: links of chunk 0x%llx "
						  "are not readable",
					    what, (unsigned long long)p);
		}
		if (bk != prev &&
		    (err = mv_heap_note(g->h, "%s: chunk 0x%llx's bk is 0x%llx, "
					      "not 0x%llx",
					what, (unsigned long long)p,
					(unsigned long long)bk,
					(unsigned long long)prev)))
			return err;
		prev = p;
		p = next;
	}
	mv_heap_bin_end(g->h, false);
	return NULL;
}

static struct mv_error *read_arena_lists(struct glibc *g, uint32_t ai)
{
	struct mv_heap_arena *a = &g->h->arenas[ai];
	char what[96];
	struct mv_error *err;
	for (uint64_t i = 0; i < g->L.nfastbins; i++) {
		uint64_t p;
		if (!rd64(g, a->address + g->L.ms_fastbins + 8 * i, &p))
			return mv_heap_note(g->h, "arena 0x%llx is not readable",
					    (unsigned long long)a->address);
		snprintf(what, sizeof(what), "fastbin %llu of arena %u",
			 (unsigned long long)i, ai);
		if ((err = mv_heap_bin_begin(g->h, MV_LIST_FASTBIN, ai,
					     (uint32_t)i, a->address, -1)) ||
		    (err = walk_single(g, what, p, (i + 2) * 16,
				       MV_LIST_FASTBIN, -1)))
			return err;
	}
	for (uint64_t i = 1; 2 * i <= g->L.nbin_words; i++) {
		uint64_t slot = a->address + g->L.ms_bins + (i - 1) * 16;
		uint64_t fd;
		if (!rd64(g, slot, &fd))
			return mv_heap_note(g->h, "arena 0x%llx is not readable",
					    (unsigned long long)a->address);
		enum mv_heap_list list = i == 1 ? MV_LIST_UNSORTED
				       : i < 64 ? MV_LIST_SMALL
						: MV_LIST_LARGE;
		snprintf(what, sizeof(what), "%s bin %llu of arena %u",
			 mv_heap_list_name(list), (unsigned long long)i, ai);
		if ((err = mv_heap_bin_begin(g->h, list, ai, (uint32_t)i,
					     a->address, -1)) ||
		    (err = walk_bin(g, what, slot - 16, fd, list,
				    list == MV_LIST_SMALL ? i * 16 : 0)))
			return err;
	}
	a->have_bins = true;
	return NULL;
}

/* The tcache block at chunk c (the arena's first chunk), if it is one. */
static struct mv_error *read_tcache(struct glibc *g, uint32_t ai, uint64_t c)
{
	struct mv_heap *h = g->h;
	size_t i = mv_heap_entry_at(h, c);
	if (i == SIZE_MAX)
		return NULL;
	uint32_t flags = mv_heap_flags_at(h, i);
	if (mv_heap_size_at(h, i) != TCACHE_CHUNK || !(flags & MV_CHUNK_IN_USE))
		return NULL;
	uint64_t nbins = g->L.tc_bins > TCACHE_BINS ? TCACHE_BINS : g->L.tc_bins;
	uint16_t counts[TCACHE_BINS];
	uint64_t entries[TCACHE_BINS];
	uint64_t mem = c + 16;
	if (mv_target_read_partial(g->t, mem + g->L.tc_counts, counts,
				   nbins * 2) != nbins * 2 ||
	    mv_target_read_partial(g->t, mem + g->L.tc_entries, entries,
				   nbins * 8) != nbins * 8)
		return mv_heap_note(h, "tcache block at 0x%llx is not readable",
				    (unsigned long long)c);
	mv_heap_set_attr(h, i, flags | MV_CHUNK_METADATA, mv_heap_list_at(h, i));
	h->arenas[ai].have_tcache = true;
	char what[96];
	struct mv_error *err;
	for (uint64_t b = 0; b < nbins; b++) {
		if ((err = mv_heap_bin_begin(h, MV_LIST_TCACHE, ai, (uint32_t)b,
					     c, counts[b])))
			return err;
		if (!entries[b]) {
			mv_heap_bin_end(h, false);
			if (counts[b] &&
			    (err = mv_heap_note(h, "tcache 0x%llx bin %llu: count "
						   "%u but no entries",
						(unsigned long long)c,
						(unsigned long long)b,
						counts[b])))
				return err;
			continue;
		}
		snprintf(what, sizeof(what), "tcache 0x%llx bin %llu",
			 (unsigned long long)c, (unsigned long long)b);
		if ((err = walk_single(g, what, entries[b] - 16, b * 16 + MINSIZE,
				       MV_LIST_TCACHE, counts[b])))
			return err;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Finding the heaps                                                   */
/* ------------------------------------------------------------------ */

static struct mv_error *add_job(struct glibc *g, uint64_t start,
				uint64_t first, uint64_t end, uint64_t top,
				uint32_t arena)
{
	struct segment_job *n =
		realloc(g->jobs, (g->njobs + 1) * sizeof(*n));
	if (!n)
		return mv_enomem;
	g->jobs = n;
	n[g->njobs++] = (struct segment_job){start, first, end, top, arena};
	struct mv_heap_segment s = {start, end, first, arena};
	return mv_heap_add_segment(g->h, &s);
}

/* chunk + 16 must be 16-aligned (MALLOC_ALIGNMENT). */
static uint64_t align_chunk(uint64_t p)
{
	return ((p + 16 + 15) & ~(uint64_t)15) - 16;
}

static struct mv_error *add_arena(struct glibc *g, enum mv_heap_arena_kind k,
				  uint64_t address, uint32_t *ret)
{
	struct mv_heap_arena a = {.kind = k, .address = address};
	if (address) {
		rd64(g, address + g->L.ms_top, &a.top);
		rd64(g, address + g->L.ms_system_mem, &a.system_mem);
	}
	struct mv_error *err = mv_heap_add_arena(g->h, &a, ret);
	if (err)
		return err;
	uint64_t *f = realloc(g->first_chunks,
			      g->h->narenas * sizeof(*g->first_chunks));
	if (!f)
		return mv_enomem;
	g->first_chunks = f;
	f[*ret] = 0;
	return NULL;
}

/* The main arena's heap: [sbrk_base, end of top). */
static struct mv_error *main_heap_from_arena(struct glibc *g, uint32_t ai)
{
	struct mv_heap_arena *a = &g->h->arenas[ai];
	uint64_t sbrk_base, top_size;
	/* Never initialised (malloc_init_state sets top): another
	 * allocator (mimalloc, jemalloc) took malloc's place. */
	if (!a->top)
		return NULL;
	if (a->top == a->address + g->L.ms_bins - 16)
		return mv_heap_note(g->h, "the main arena has no heap yet "
					  "(nothing was allocated from it)");
	if (!rd64(g, g->mp + g->L.mp_sbrk_base, &sbrk_base) ||
	    !rd64(g, a->top + 8, &top_size))
		return mv_heap_note(g->h, "mp_.sbrk_base or the top chunk is "
					  "not readable: no main heap");
	top_size &= ~(uint64_t)SIZE_BITS;
	if (!sbrk_base || a->top < sbrk_base ||
	    a->top - sbrk_base > (1ull << 46) || top_size > (1ull << 46))
		return mv_heap_note(g->h, "the main arena's top chunk 0x%llx is "
					  "not above mp_.sbrk_base 0x%llx (a "
					  "non-contiguous main heap is not "
					  "supported)",
				    (unsigned long long)a->top,
				    (unsigned long long)sbrk_base);
	uint64_t first = align_chunk(sbrk_base);
	g->first_chunks[ai] = first;
	return add_job(g, sbrk_base, first, a->top + top_size, a->top, ai);
}

/* Thread arenas: main_arena.next around the ring, each with its heaps
 * found from its top chunk's heap and heap_info.prev. */
static struct mv_error *thread_arenas(struct glibc *g)
{
	struct mv_heap *h = g->h;
	struct mv_error *err;
	uint64_t a;
	if (!rd64(g, g->main_arena + g->L.ms_next, &a))
		return mv_heap_note(h, "main_arena.next is not readable");
	for (unsigned n = 0; a != g->main_arena; n++) {
		if (!a)
			return mv_heap_note(h, "the arena list ends in NULL "
					       "instead of returning to "
					       "main_arena");
		if (n >= MAX_ARENAS)
			return mv_heap_note(h, "more than %u arenas: the arena "
					       "list is corrupt or loops",
					    MAX_ARENAS);
		/* Two arenas pointing at each other never return to
		 * main_arena: a loop, not thousands of arenas (issue 19.8).
		 * At most MAX_ARENAS arenas, so this stays cheap. */
		for (size_t i = 0; i < h->narenas; i++)
			if (h->arenas[i].address == a)
				return mv_heap_note(h, "the arena list loops: "
						       "arena 0x%llx comes "
						       "twice before main_arena",
						    (unsigned long long)a);
		uint32_t ai;
		if ((err = add_arena(g, MV_ARENA_THREAD, a, &ai)))
			return err;
		uint64_t top = h->arenas[ai].top;
		uint64_t hp = top & ~(g->heap_max - 1);
		uint64_t top_size = 0;
		rd64(g, top + 8, &top_size);
		top_size &= ~(uint64_t)SIZE_BITS;
		for (unsigned k = 0; hp; k++) {
			uint64_t ar_ptr, prev, size;
			if (k >= MAX_HEAPS) {
				err = mv_heap_note(h, "arena 0x%llx: more than %u "
						      "heaps; the heap list loops",
						   (unsigned long long)a,
						   MAX_HEAPS);
				break;
			}
			if (!rd64(g, hp + g->L.hi_ar_ptr, &ar_ptr) ||
			    !rd64(g, hp + g->L.hi_prev, &prev) ||
			    !rd64(g, hp + g->L.hi_size, &size) ||
			    ar_ptr != a || size > g->heap_max ||
			    size < g->L.hi_sizeof || (prev & (g->heap_max - 1))) {
				err = mv_heap_note(h, "arena 0x%llx: heap_info at "
						      "0x%llx is not readable or "
						      "does not belong to it",
						   (unsigned long long)a,
						   (unsigned long long)hp);
				break;
			}
			bool first_heap = a == hp + g->L.hi_sizeof;
			uint64_t first = first_heap
				? align_chunk(a + g->L.ms_sizeof)
				: hp + g->L.hi_sizeof;
			uint64_t end = hp + size;
			bool has_top = top >= hp && top < end;
			if (has_top && top + top_size != end &&
			    (err = mv_heap_note(h, "arena 0x%llx: top chunk "
						   "0x%llx ends at 0x%llx, its heap "
						   "at 0x%llx",
						(unsigned long long)a,
						(unsigned long long)top,
						(unsigned long long)(top + top_size),
						(unsigned long long)end)))
				return err;
			if (first_heap)
				g->first_chunks[ai] = first;
			if ((err = add_job(g, hp, first, end, has_top ? top : 0,
					   ai)))
				return err;
			if (first_heap)
				break;
			hp = prev;
		}
		if (err)
			return err;
		if (!rd64(g, a + g->L.ms_next, &a))
			return mv_heap_note(h, "arena list: next is not "
					       "readable");
	}
	return NULL;
}

static bool overlaps_job(struct glibc *g, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < g->njobs; i++)
		if (start < g->jobs[i].end && g->jobs[i].start < end)
			return true;
	return false;
}

/* An mmapped chunk at a: prev_size 0 and a page-multiple size whose
 * flag bits are exactly IS_MMAPPED, inside [a, end).  Its size, or 0. */
static uint64_t mmapped_at(struct glibc *g, uint64_t a, uint64_t end)
{
	uint64_t prev_size, field;
	/* One header per mapped chunk: a window here would copy a live
	 * process's whole anonymous memory. */
	if (!header_alone(g, a, &prev_size, &field))
		return 0;
	uint64_t size = field & ~(uint64_t)SIZE_BITS;
	if (prev_size || (field & SIZE_BITS) != IS_MMAPPED || !size ||
	    size % PAGE || size > end - a)
		return 0;
	return size;
}

struct mmapped_count {
	uint32_t arena;
	size_t found;
	uint64_t bytes;
};

static struct mv_error *add_mmapped(struct glibc *g, uint64_t a,
				    uint64_t size, struct mmapped_count *c)
{
	struct mv_heap *h = g->h;
	struct mv_error *err;
	if (c->arena == UINT32_MAX &&
	    (err = add_arena(g, MV_ARENA_MMAPPED, 0, &c->arena)))
		return err;
	if ((err = mv_heap_add_chunk(h, a, size,
				     MV_CHUNK_IN_USE | MV_CHUNK_MMAPPED,
				     MV_LIST_NONE, c->arena)))
		return err;
	if (h->stopped)
		return NULL;
	struct mv_heap_segment s = {a, a + size, a, c->arena};
	c->found++;
	c->bytes += size;
	return mv_heap_add_segment(h, &s);
}

static bool anonymous_rw(const struct mv_region *r)
{
	return !r->path && (r->perms & (MV_PERM_R | MV_PERM_W)) ==
				   (MV_PERM_R | MV_PERM_W);
}

/* The rest of the mmapped chunks, when mp_ counts more than the
 * mappings' starts showed: the kernel merges an mmapped chunk's
 * mapping with an anonymous neighbour below it (a thread's TLS, another
 * allocator's arena), so look at every page boundary of the anonymous
 * mappings, until the count is reached. */
static struct mv_error *mmapped_inside(struct glibc *g, int32_t n_mmaps,
				       struct mmapped_count *c)
{
	struct mv_heap *h = g->h;
	const struct mv_region *r;
	size_t n = mv_target_regions(g->t, &r);
	struct mv_error *err;
	for (size_t i = 0; i < n && c->found < (size_t)n_mmaps; i++) {
		if (!anonymous_rw(&r[i]) || overlaps_job(g, r[i].start, r[i].end))
			continue;
		uint64_t a = r[i].start, size;
		/* Past the run the first pass took. */
		while (r[i].end - a >= PAGE && (size = mmapped_at(g, a, r[i].end)))
			a += size;
		while (r[i].end - a >= PAGE && c->found < (size_t)n_mmaps &&
		       !h->stopped) {
			if (++g->walked % POLL_EVERY == 0 &&
			    (err = mv_heap_poll(h)))
				return err;
			size = mmapped_at(g, a, r[i].end);
			if (size && (err = add_mmapped(g, a, size, c)))
				return err;
			a += size ? size : PAGE;
		}
	}
	return NULL;
}

/* mmapped chunks: each is its own anonymous mapping (neighbours may be
 * merged into one), mostly found at the start of one. */
static struct mv_error *mmapped_chunks(struct glibc *g)
{
	struct mv_heap *h = g->h;
	const struct mv_region *r;
	size_t n = mv_target_regions(g->t, &r);
	struct mmapped_count c = {.arena = UINT32_MAX};
	struct mv_error *err;
	for (size_t i = 0; i < n; i++) {
		if (!anonymous_rw(&r[i]) || overlaps_job(g, r[i].start, r[i].end))
			continue;
		uint64_t a = r[i].start, end = r[i].end, size;
		g->r.len = 0;
		while (end - a >= PAGE && !h->stopped &&
		       (size = mmapped_at(g, a, end))) {
			if ((err = add_mmapped(g, a, size, &c)))
				return err;
			a += size;
		}
	}
	int32_t n_mmaps;
	uint64_t mmapped_mem;
	if (!g->mp || h->stopped ||
	    mv_target_read_partial(g->t, g->mp + g->L.mp_n_mmaps, &n_mmaps,
				   4) != 4 ||
	    !rd64(g, g->mp + g->L.mp_mmapped_mem, &mmapped_mem))
		return NULL;
	if (n_mmaps > 0 && (size_t)n_mmaps > c.found &&
	    (err = mmapped_inside(g, n_mmaps, &c)))
		return err;
	if (n_mmaps < 0 || (size_t)n_mmaps != c.found || mmapped_mem != c.bytes)
		return mv_heap_note(h, "mp_ counts %d mmapped chunks of %llu "
				       "bytes, the mappings show %zu of %llu "
				       "(chunks with an alignment offset are "
				       "not found)",
				    n_mmaps, (unsigned long long)mmapped_mem,
				    c.found, (unsigned long long)c.bytes);
	return NULL;
}

/* Without symbols: the main heap is the [heap] mapping, or in a core the
 * anonymous writable mapping after the executable that starts with the
 * main thread's tcache block (prev_size 0, size 0x290 | PREV_INUSE). */
static bool main_heap_from_mappings(struct glibc *g, uint64_t *start,
				    uint64_t *end)
{
	const struct mv_region *r;
	size_t n = mv_target_regions(g->t, &r);
	for (size_t i = 0; i < n; i++) {
		if (r[i].path && !strcmp(r[i].path, "[heap]")) {
			*start = r[i].start;
			*end = r[i].end;
			return true;
		}
	}
	uint64_t exe_end = 0;
	struct mv_objfile **objs;
	size_t nobj = mv_program_objfiles(g->h->program, &objs);
	for (size_t i = 0; i < nobj; i++)
		if (objs[i]->is_main)
			exe_end = objs[i]->end;
	for (int strict = 1; strict >= 0; strict--) {
		for (size_t i = 0; i < n; i++) {
			if (r[i].start < exe_end || r[i].path ||
			    !(r[i].perms & MV_PERM_W) || r[i].end - r[i].start < PAGE)
				continue;
			uint64_t hdr[2];
			if (mv_target_read_partial(g->t, r[i].start, hdr, 16) != 16)
				continue;
			bool ok = strict ? hdr[0] == 0 &&
						   hdr[1] == (TCACHE_CHUNK | PREV_INUSE)
					 : hdr[0] == 0 && (hdr[1] & SIZE_BITS) ==
								  PREV_INUSE;
			if (ok) {
				*start = r[i].start;
				*end = r[i].end;
				return true;
			}
			if (!strict)
				break; /* only the mapping right after it */
		}
	}
	return false;
}

/* A malloc_state whose top is the main heap's top and whose bins are
 * all empty or inside the heap. */
static bool looks_like_arena(struct glibc *g, uint64_t a, uint64_t hs,
			     uint64_t he)
{
	uint64_t w[512];
	uint64_t words = g->L.nbin_words;
	if (words > 512 ||
	    mv_target_read_partial(g->t, a + g->L.ms_bins, w, words * 8) !=
		    words * 8)
		return false;
	for (uint64_t i = 0; i < words; i += 2) {
		uint64_t head = a + g->L.ms_bins + i * 8 - 16;
		for (int k = 0; k < 2; k++) {
			uint64_t p = w[i + k];
			if (p != head && (p < hs || p >= he || (p & 15)))
				return false;
		}
	}
	for (uint64_t i = 0; i < g->L.nfastbins; i++) {
		uint64_t p;
		if (!rd64(g, a + g->L.ms_fastbins + 8 * i, &p) ||
		    (p && (p < hs || p >= he || (p & 15))))
			return false;
	}
	uint64_t next;
	return rd64(g, a + g->L.ms_next, &next) && next && !(next & 7);
}

/* Finds main_arena without symbols: libc's writable data holds a word
 * equal to the top chunk's address at main_arena.top. */
static uint64_t find_main_arena_by_top(struct glibc *g, uint64_t top,
				       uint64_t hs, uint64_t he)
{
	struct mv_objfile **objs;
	size_t nobj = mv_program_objfiles(g->h->program, &objs);
	const struct mv_region *r;
	size_t nr = mv_target_regions(g->t, &r);
	uint64_t buf[512];
	for (size_t o = 0; o < nobj; o++) {
		const char *base = strrchr(objs[o]->path, '/');
		base = base ? base + 1 : objs[o]->path;
		if (strncmp(base, "libc.so", 7) && strncmp(base, "libc-", 5))
			continue;
		for (size_t i = 0; i < nr; i++) {
			if (!(r[i].perms & MV_PERM_W) ||
			    r[i].end <= objs[o]->start || r[i].start >= objs[o]->end)
				continue;
			for (uint64_t p = r[i].start; p < r[i].end; p += sizeof(buf)) {
				size_t got = mv_target_read_partial(g->t, p, buf,
								    sizeof(buf));
				for (size_t k = 0; k < got / 8; k++) {
					if (buf[k] != top)
						continue;
					uint64_t a = p + 8 * k - g->L.ms_top;
					if (looks_like_arena(g, a, hs, he))
						return a;
				}
				if (got < sizeof(buf))
					break;
			}
		}
	}
	return 0;
}

/* The arenas' malloc_states (main_arena lives in libc's data, thread
 * arenas in their first heap) and mp_: pointers there are the
 * allocator's bookkeeping (the top chunk, bin heads pointing at free
 * chunks' headers, mp_.sbrk_base), never what keeps a block alive. */
static struct mv_error *arena_metadata(struct glibc *g)
{
	struct mv_heap *h = g->h;
	struct mv_error *err;
	for (size_t i = 0; i < h->narenas; i++) {
		uint64_t a = h->arenas[i].address;
		if (a && (err = mv_heap_add_metadata(h, a, a + g->L.ms_sizeof)))
			return err;
	}
	return g->mp ? mv_heap_add_metadata(h, g->mp, g->mp + g->L.mp_sizeof)
		     : NULL;
}

static int job_cmp(const void *x, const void *y)
{
	const struct segment_job *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* Without the arena's variables: the main heap from the mappings (or the
 * caller's range), main_arena searched for by its top pointer. */
static struct mv_error *open_from_mappings(struct glibc *g,
					   const struct mv_heap_options *o,
					   uint32_t *main_ai, uint64_t *hs,
					   uint64_t *he)
{
	struct mv_error *err;
	if (o->range_end) {
		*hs = o->range_start;
		*he = o->range_end;
	} else if (!main_heap_from_mappings(g, hs, he)) {
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "no glibc heap: no debug symbols for "
				       "main_arena (install libc6-dbg) and no "
				       "heap mapping found");
	}
	if ((err = add_arena(g, MV_ARENA_MAIN, 0, main_ai)))
		return err;
	g->first_chunks[*main_ai] = align_chunk(*hs);
	return add_job(g, *hs, align_chunk(*hs), *he, 0, *main_ai);
}

/* ------------------------------------------------------------------ */
/* The lazy heap                                                       */
/* ------------------------------------------------------------------ */

/* A lazy heap answers from a chunk's header only what the walk would
 * answer there for certain: a chunk the walk's plain run takes (a
 * plausible size, in use by the next chunk's PREV_INUSE, neither the
 * top nor one of the heap's last chunks) at a pointer to its user data.
 * Anything else (interior pointers, free or odd chunks, corrupt
 * headers) is the whole index's to answer. */
#define LAZY_MAX_QUICK (1u << 22) /* tcache + fastbin chunks, at most */

/* The segment (not an mmapped chunk's) holding address, or NULL. */
static inline const struct mv_heap_segment *
lazy_segment(struct mv_heap *h, uint64_t address)
{
	/* Mostly the segment of the lookup before. */
	const struct mv_heap_segment *last = &h->heap_segs[h->heap_seg_last];
	if (h->heap_seg_last < h->nheap_segs && address >= last->start &&
	    address < last->end)
		return last;
	size_t lo = 0, hi = h->nheap_segs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->heap_segs[mid].start <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || address >= h->heap_segs[lo - 1].end)
		return NULL;
	h->heap_seg_last = lo - 1;
	return &h->heap_segs[lo - 1];
}

/* The size of the in-use chunk at start in segment s, as walk_plain_run
 * would take it; 0 if the walk has to decide.  Inlined: once a node of
 * a walk. */
static inline __attribute__((always_inline)) uint64_t
lazy_plain_chunk(struct mv_heap *h, const struct mv_heap_segment *s,
		 uint64_t start)
{
	uint64_t field, nfield; /* the size fields, 8 bytes into a header */
	if (start < s->first_chunk || start >= s->end ||
	    (s->arena < h->narenas && start == h->arenas[s->arena].top) ||
	    s->end - start < CHUNK_HDR)
		return 0;
	/* Both headers' lines at once where the target lends its bytes:
	 * for a small chunk the next header is in the line after, and
	 * fetching it only once the size is known would double the
	 * wait (a list's walk is one chain of such waits). */
	const uint8_t *base = h->heap_seg_bytes
				      ? h->heap_seg_bytes[s - h->heap_segs]
				      : NULL;
	const uint8_t *p = base && s->end - start >= 128
				   ? base + (start - s->start)
				   : mv_target_peek(h->target, start, 128);
	if (p) {
		__builtin_prefetch(p + 64);
		memcpy(&field, p + 8, 8);
	} else if (mv_target_read_partial(h->target, start + 8, &field, 8) !=
		   8) {
		return 0;
	}
	if (!plausible_size(field, start, s->end))
		return 0;
	uint64_t size = field & ~(uint64_t)SIZE_BITS;
	if (s->end - start - size <= CHUNK_HDR)
		return 0;
	if (p && size <= 128 - CHUNK_HDR)
		memcpy(&nfield, p + size + 8, 8);
	else if (mv_target_read_partial(h->target, start + size + 8, &nfield,
					8) != 8)
		return 0;
	if (!(nfield & PREV_INUSE))
		return 0;
	return size;
}

static bool lazy_has(const uint64_t *v, size_t n, uint64_t x, size_t *at)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < n && v[lo] == x;
}

/* The bit of the chunk at start in h->odd_bits. */
static inline uint64_t odd_bit(const struct mv_heap *h, uint64_t start)
{
	return ((start >> 4) * 0x9e3779b97f4a7c15ull >> 32) & h->odd_mask;
}

/* h->odd_bits, once quick and tcache_blocks are complete: 16 bits or
 * more an entry, so that a chunk on neither finds its bit set once in
 * 16 at most (16 MiB at most, past LAZY_MAX_QUICK entries).  Without
 * memory for it, none: the searches answer alone. */
static void lazy_odd_bits(struct mv_heap *h)
{
	uint64_t n = h->nquick + h->ntcache_blocks, bits = 4096;
	while (bits < n * 16)
		bits *= 2;
	h->odd_bits = calloc((size_t)(bits / 64), sizeof(*h->odd_bits));
	if (!h->odd_bits)
		return;
	h->odd_mask = bits - 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = odd_bit(h, i < h->nquick
					    ? h->quick[i]
					    : h->tcache_blocks[i - h->nquick]);
		h->odd_bits[b / 64] |= 1ull << (b % 64);
	}
}

/* The flags of the chunk at start that lazy_plain_chunk takes: in use,
 * or on a tcache or fastbin list, or an arena's tcache block. */
static inline uint32_t lazy_flags(const struct mv_heap *h, uint64_t start)
{
	uint32_t flags = MV_CHUNK_IN_USE;
	size_t at;
	if (h->odd_bits) {
		uint64_t b = odd_bit(h, start);
		if (!(h->odd_bits[b / 64] & (1ull << (b % 64))))
			return flags;
	}
	if (lazy_has(h->quick, h->nquick, start, &at))
		flags = MV_CHUNK_FREE_LIST;
	if (lazy_has(h->tcache_blocks, h->ntcache_blocks, start, &at))
		flags |= MV_CHUNK_METADATA;
	return flags;
}

static int glibc_lazy_find(struct mv_heap *h, uint64_t address,
			   struct mv_chunk *ret)
{
	if (h->lazy_broken)
		return -1;
	/* Segments and mmapped chunks do not overlap. */
	const struct mv_heap_segment *s = lazy_segment(h, address);
	if (!s && mv_heap_lazy_mmapped(h, address, ret))
		return 1;
	if (!s || address < s->first_chunk)
		return 0;
	if (address & 15 || address - s->first_chunk < CHUNK_HDR)
		return -1;
	uint64_t start = address - CHUNK_HDR;
	uint64_t size = lazy_plain_chunk(h, s, start);
	if (!size)
		return -1;
	uint32_t flags = lazy_flags(h, start);
	ret->start = start;
	ret->mem = address;
	ret->size = size;
	ret->usable = mv_heap_usable(size, flags);
	ret->flags = flags;
	ret->arena = s->arena;
	return 1;
}

/* glibc_lazy_find's answer where it is a plain chunk in use, without
 * the rest of its record (mv_heap_ops.lazy_plain). */
static bool glibc_lazy_plain(struct mv_heap *h, uint64_t address,
			     uint64_t *size, size_t *seg)
{
	const struct mv_heap_segment *s;
	if (h->lazy_broken || (address & 15) ||
	    !(s = lazy_segment(h, address)))
		return false;
	/* A start before the segment's first chunk (or wrapped below 0)
	 * is lazy_plain_chunk's to refuse. */
	uint64_t start = address - CHUNK_HDR;
	uint64_t n = lazy_plain_chunk(h, s, start);
	if (!n || lazy_flags(h, start) != MV_CHUNK_IN_USE)
		return false;
	*size = n;
	*seg = (size_t)(s - h->heap_segs);
	return true;
}

/* Adds x to the sorted set (*v, *n); false if it was there. */
static bool lazy_insert(uint64_t **v, size_t *n, size_t *cap, uint64_t x,
			struct mv_error **err)
{
	size_t at;
	*err = NULL;
	if (lazy_has(*v, *n, x, &at))
		return false;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint64_t *nv = realloc(*v, c * sizeof(*nv));
		if (!nv) {
			*err = mv_enomem;
			return false;
		}
		*v = nv;
		*cap = c;
	}
	memmove(*v + at + 1, *v + at, (*n - at) * sizeof(**v));
	(*v)[at] = x;
	(*n)++;
	return true;
}

/* A tcache or fastbin list as walk_single reads it; false when the list
 * is not one the whole index would take without a note (a bad link, a
 * loop, a count that disagrees): then the lazy heap gives up. */
static bool lazy_quick_list(struct glibc *g, uint64_t first,
			    uint64_t expect_size, bool tcache,
			    long expect_count, struct mv_error **err)
{
	struct mv_heap *h = g->h;
	long n = 0;
	*err = NULL;
	for (uint64_t p = first; p;) {
		const struct mv_heap_segment *s = lazy_segment(h, p);
		size_t at;
		if ((p & 15) || !s || lazy_plain_chunk(h, s, p) != expect_size ||
		    lazy_has(h->tcache_blocks, h->ntcache_blocks, p, &at) ||
		    h->nquick >= LAZY_MAX_QUICK)
			return false;
		/* Sorted on insertion: the lists are short (a tcache bin
		 * holds 7), a long fastbin costs a memmove a chunk. */
		if (!lazy_insert(&h->quick, &h->nquick, &h->quick_cap, p, err))
			return false;
		n++;
		if (++g->walked % POLL_EVERY == 0 && (*err = mv_heap_poll(h)))
			return false;
		uint64_t stored;
		if (!rd64(g, p + 16, &stored))
			return false;
		uint64_t next = ((p + 16) >> 12) ^ stored;
		if (!next)
			break;
		p = tcache ? next - 16 : next;
	}
	return expect_count < 0 || n == expect_count;
}

/* The arena's tcache block and lists, and its fastbins; false as for
 * lazy_quick_list. */
static bool lazy_arena_lists(struct glibc *g, uint32_t ai,
			     struct mv_error **err)
{
	struct mv_heap *h = g->h;
	*err = NULL;
	uint64_t c = g->first_chunks[ai];
	const struct mv_heap_segment *s = c ? lazy_segment(h, c) : NULL;
	if (s && lazy_plain_chunk(h, s, c) == TCACHE_CHUNK) {
		uint64_t nbins = g->L.tc_bins > TCACHE_BINS ? TCACHE_BINS
							    : g->L.tc_bins;
		uint16_t counts[TCACHE_BINS];
		uint64_t entries[TCACHE_BINS];
		uint64_t mem = c + 16;
		size_t cap = h->ntcache_blocks;
		if (mv_target_read_partial(g->t, mem + g->L.tc_counts, counts,
					   nbins * 2) != nbins * 2 ||
		    mv_target_read_partial(g->t, mem + g->L.tc_entries,
					   entries, nbins * 8) != nbins * 8 ||
		    !lazy_insert(&h->tcache_blocks, &h->ntcache_blocks, &cap,
				 c, err))
			return false;
		h->arenas[ai].have_tcache = true;
		for (uint64_t b = 0; b < nbins; b++) {
			if (!entries[b] ? counts[b] != 0
			    : !lazy_quick_list(g, entries[b] - 16,
					       b * 16 + MINSIZE, true,
					       counts[b], err))
				return false;
		}
	} else if (c && !s) {
		return false;
	}
	uint64_t a = h->arenas[ai].address;
	if (!a || !h->arenas[ai].top)
		return true;
	for (uint64_t i = 0; i < g->L.nfastbins; i++) {
		uint64_t p;
		if (!rd64(g, a + g->L.ms_fastbins + 8 * i, &p) ||
		    !lazy_quick_list(g, p, (i + 2) * 16, false, -1, err))
			return false;
	}
	return true;
}

/* A lazy heap from the segments found: their list, sorted, and the
 * chunks that look in use but are free.  The model has nothing to
 * note that the whole walk would not find again; where it finds
 * something odd, h stays whole-to-be (lazy, every lookup -1 until
 * mv_heap_complete). */
static struct mv_error *lazy_open(struct glibc *g)
{
	struct mv_heap *h = g->h;
	struct mv_error *err = NULL;
	h->lazy = true;
	h->heap_segs = malloc((g->njobs + 1) * sizeof(*h->heap_segs));
	if (!h->heap_segs)
		return mv_enomem;
	qsort(g->jobs, g->njobs, sizeof(*g->jobs), job_cmp);
	for (size_t i = 0; i < g->njobs; i++) {
		const struct segment_job *j = &g->jobs[i];
		if (i && j->start < g->jobs[i - 1].end) {
			/* Overlapping heaps: the walk's to sort out. */
			h->lazy_broken = true;
			return NULL;
		}
		h->heap_segs[h->nheap_segs++] = (struct mv_heap_segment){
			j->start, j->end, j->first, j->arena};
	}
	/* A core lends each segment's bytes for good: a header is then
	 * read without looking its mapping up. */
	h->heap_seg_bytes = calloc(h->nheap_segs + 1,
				   sizeof(*h->heap_seg_bytes));
	if (!h->heap_seg_bytes)
		return mv_enomem;
	for (size_t i = 0; i < h->nheap_segs; i++)
		h->heap_seg_bytes[i] = mv_target_peek_stable(
			h->target, h->heap_segs[i].start,
			(size_t)(h->heap_segs[i].end - h->heap_segs[i].start));
	bool ok = true;
	for (uint32_t ai = 0; ai < h->narenas && ok; ai++)
		ok = lazy_arena_lists(g, ai, &err);
	if (err)
		return err;
	h->lazy_broken = !ok;
	if (ok)
		lazy_odd_bits(h);
	return NULL;
}

/* The heap size from which a lazy heap is taken: any (0), or
 * MEMVIEW_LAZY_MIN bytes.  A walk's header checks start their cache
 * misses ahead of the lookups (walk.c, prefetch_links), so that they
 * cost about what the directory's do, while indexing even a 200 MB heap
 * first is most of a first answer (issue 20's two-structure check). */
static uint64_t lazy_min_bytes(void)
{
	const char *e = getenv("MEMVIEW_LAZY_MIN");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 0);
		if (!*end)
			return v;
	}
	return 0;
}

static struct mv_error *glibc_open(struct mv_heap *h,
				   const struct mv_heap_options *o)
{
	struct glibc g = {.h = h, .t = h->target, .L = layout_236,
			  .heap_max = DEFAULT_HEAP_MAX};
	struct mv_error *err = NULL;
	g.r.t = h->target;
	g.r.buf = malloc(WINDOW);
	if (!g.r.buf)
		return mv_enomem;

	struct mv_type *ms_type = NULL, *mp_type = NULL;
	bool symbols = false;
	uint64_t ms_size = 0, mp_size = 0;
	if (!(o->flags & MV_HEAP_IGNORE_SYMBOLS) && !o->range_end &&
	    mv_program_find_symbol(h->program, "main_arena", &g.main_arena,
				   &ms_size) &&
	    ms_size == layout_236.ms_sizeof &&
	    mv_program_find_symbol(h->program, "mp_", &g.mp, &mp_size)) {
		/* glibc's debug file names main_arena and mp_ in its symbol
		 * table, and a malloc_state of 2.36's size is 2.36's layout:
		 * then DWARF, whose index of all of glibc costs more than
		 * walking a million chunks, is not needed. */
		symbols = true;
		if (mp_size && mp_size < 4096)
			g.L.mp_sizeof = mp_size;
	} else if (!(o->flags & MV_HEAP_IGNORE_SYMBOLS) && !o->range_end) {
		g.main_arena = g.mp = 0;
		err = mv_program_find_variable(h->program, "main_arena", 0,
					       &g.main_arena, &ms_type);
		if (!err)
			err = mv_program_find_variable(h->program, "mp_", 0,
						       &g.mp, &mp_type);
		if (err) {
			mv_error_destroy(err);
			err = NULL;
			g.main_arena = g.mp = 0;
		} else {
			symbols = true;
			layout_from_dwarf(&g, ms_type, mp_type);
		}
	}
	h->with_symbols = symbols;
	if (g.mp && g.L.mp_hp_pagesize != UINT64_MAX) {
		uint64_t hp;
		if (rd64(&g, g.mp + g.L.mp_hp_pagesize, &hp) && hp &&
		    !(hp & (hp - 1)) && hp <= (1ull << 32))
			g.heap_max = 4 * hp;
	}

	uint32_t main_ai;
	uint64_t hs = 0, he = 0;
	if (symbols) {
		if ((err = add_arena(&g, MV_ARENA_MAIN, g.main_arena, &main_ai)) ||
		    (err = main_heap_from_arena(&g, main_ai)))
			goto out;
	} else {
		if ((err = open_from_mappings(&g, o, &main_ai, &hs, &he)))
			goto out;
	}

	/* Lazy (with the arena's variables: without them the walk is how
	 * main_arena is found): the heaps are not walked. */
	uint64_t heap_bytes = 0;
	for (size_t i = 0; i < g.njobs; i++)
		heap_bytes += g.jobs[i].end - g.jobs[i].start;
	bool lazy = (o->flags & MV_HEAP_LAZY) && symbols &&
		    heap_bytes >= lazy_min_bytes();
	/* At most one chunk per 32 bytes: reserving that much index up
	 * front costs address space only (untouched pages are never
	 * faulted in) and saves the doubling copies. */
	uint64_t room = 0;
	for (size_t i = 0; i < g.njobs; i++)
		room += (g.jobs[i].end - g.jobs[i].first) / MINSIZE + 1;
	if (room > h->max_chunks)
		room = h->max_chunks;
	/* Whatever the heap's size: at 80 M chunks, growing by doubling
	 * copied and faulted in twice the index (an eighth of gc's time).
	 * Address space refused, the index grows as it goes. */
	if (!lazy && room <= SIZE_MAX / sizeof(*h->ix.meta) &&
	    (err = mv_heap_reserve(h, (size_t)room))) {
		mv_error_destroy(err);
		err = NULL;
	}
	/* Walk the main heap first: without symbols, its top chunk is how
	 * main_arena is found. */
	for (size_t i = 0; i < g.njobs && !lazy; i++)
		if ((err = walk_segment(&g, &g.jobs[i])))
			goto out;
	size_t main_jobs = g.njobs;
	if (!symbols && o->range_end && o->main_arena) {
		g.main_arena = o->main_arena;
		h->arenas[main_ai].address = g.main_arena;
		rd64(&g, g.main_arena + g.L.ms_top, &h->arenas[main_ai].top);
	} else if (!symbols && !o->range_end && h->ix.n) {
		/* The last chunk added, the main heap's last. */
		uint64_t last = h->ix.last_start;
		if (mv_heap_flags_at(h, h->ix.n - 1) & MV_CHUNK_TOP) {
			g.main_arena = find_main_arena_by_top(&g, last, hs, he);
			if (g.main_arena) {
				g.arena_by_scan = true;
				h->arenas[main_ai].address = g.main_arena;
				h->arenas[main_ai].top = last;
				rd64(&g, g.main_arena + g.L.ms_system_mem,
				     &h->arenas[main_ai].system_mem);
			}
		}
	}
	if (g.main_arena && (err = thread_arenas(&g)))
		goto out;
	if (g.njobs > main_jobs) {
		qsort(g.jobs + main_jobs, g.njobs - main_jobs, sizeof(*g.jobs),
		      job_cmp);
		for (size_t i = main_jobs; i < g.njobs && !lazy; i++)
			if ((err = walk_segment(&g, &g.jobs[i])))
				goto out;
	}
	if (!o->range_end && (err = mmapped_chunks(&g)))
		goto out;
	if ((err = arena_metadata(&g)))
		goto out;
	if ((err = mv_heap_sort(h)))
		goto out;
	if (lazy) {
		if ((err = lazy_open(&g)))
			goto out;
		goto described;
	}

	for (uint32_t ai = 0; ai < h->narenas; ai++) {
		if (g.first_chunks[ai] &&
		    (err = read_tcache(&g, ai, g.first_chunks[ai])))
			goto out;
		if (h->arenas[ai].address && h->arenas[ai].top &&
		    (err = read_arena_lists(&g, ai)))
			goto out;
	}
	/* Consistency: with the bins read, every chunk the boundary tags
	 * call free must have been on one of them (unless the index
	 * stopped: the lists were cut at its bound). */
	size_t unlisted = 0;
	uint64_t first_unlisted = 0;
	for (size_t i = 0; i < h->ix.n && !h->stopped; i++) {
		uint32_t ai;
		uint64_t start;
		if (mv_heap_list_at(h, i) == MV_LIST_UNLISTED &&
		    (ai = mv_heap_arena_at(h, start = mv_heap_start_at(h, i),
					   NULL)) < h->narenas &&
		    h->arenas[ai].have_bins) {
			if (!unlisted++)
				first_unlisted = start;
		}
	}
	if (unlisted &&
	    (err = mv_heap_note(h, "%zu chunk%s free by the boundary tags but "
				   "on no bin, the first at 0x%llx",
				unlisted, unlisted == 1 ? " is" : "s are",
				(unsigned long long)first_unlisted)))
		goto out;
	const struct mv_thread *th;
	size_t nthreads = mv_target_threads(h->target, &th);
	size_t ntcache = 0;
	for (uint32_t ai = 0; ai < h->narenas; ai++)
		ntcache += h->arenas[ai].have_tcache;
	/* Where jemalloc or mimalloc took malloc's place, a thread that
	 * never called glibc's malloc by name has no glibc tcache. */
	bool replaced = mv_program_find_symbol(h->program, "mallctl", NULL,
					       NULL) ||
			mv_program_find_symbol(h->program, "mi_malloc", NULL,
					       NULL);
	if (nthreads > ntcache && ntcache && !h->stopped && !replaced &&
	    (err = mv_heap_note(h, "%zu threads but %zu tcache blocks found "
				   "(only an arena's first chunk is taken for "
				   "one): chunks cached by the other threads "
				   "count as in use",
				nthreads, ntcache)))
		goto out;
described:
	if (asprintf(&h->description, "glibc malloc (%s)",
		     symbols ? "with debug symbols" : "from the mappings") < 0) {
		h->description = NULL;
		err = mv_enomem;
	}
out:
	free(g.r.buf);
	free(g.jobs);
	free(g.first_chunks);
	return err;
}

const struct mv_heap_ops mv_heap_glibc_ops = {
	.name = "glibc malloc",
	.open = glibc_open,
	.lazy_find = glibc_lazy_find,
	.lazy_plain = glibc_lazy_plain,
};
