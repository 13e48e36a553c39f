/* heap_mimalloc.c - mimalloc 2.0.9 (Debian 12's libmimalloc2.0, a
 * release build: no padding, no encoded free lists, no guard pages) as
 * a heap model next to glibc's, for programs linked with -lmimalloc or
 * running with it in LD_PRELOAD.  Debian ships no debug symbols for it,
 * so the layouts below are mimalloc's own (include/mimalloc-types.h at
 * tag v2.0.9, 64-bit), checked against the memory read:
 *
 * A segment is 32 MiB (a huge one more), aligned to 32 MiB, cut in 64
 * KiB slices; its first slice holds struct mi_segment_s: used (8 bytes
 * at 208), cookie (216: the segment's address xor _mi_heap_main's
 * cookie), segment_slices (224), segment_info_slices (232: 1), kind
 * (u32 at 240: 0 normal, 1 huge), slice_entries (248, at most 512),
 * thread_id (256), then slices[513] of struct mi_page_s (80 bytes):
 * slice_count (u32 0), slice_offset (u32 4), capacity (u16 10),
 * reserved (u16 12), flags (u8 14), free (16), used (u32 24),
 * xblock_size (u32 28), local_free (32), xthread_free (40, low 2 bits
 * are delay flags), xheap (48).  A slice starting a span (offset 0) with
 * xblock_size 0 is a free span; else a page whose blocks start at its
 * first slice (+ 384 bytes when 8 <= block size <= 1024) and are
 * xblock_size apart (a huge page's one block: the page).  Of a page's
 * blocks below capacity, each is in use or on one of the free lists:
 * free, local_free, thread_free, or the owning heap's
 * thread_delayed_free (struct mi_heap_s: at 2840, its thread_id at
 * 2848, its cookie at 2864; 3064 bytes).  Blocks at or above capacity
 * were never handed out and are not indexed.
 *
 * Found by reading mi_version()'s code (mov $209, %eax; ret) for the
 * version, then every 32 MiB boundary of the anonymous writable
 * mappings for a segment header whose fields agree; all segments'
 * cookies, xored with their addresses, must give one value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"

#define MI_VERSION_KNOWN 209
#define SEG_SHIFT 25
#define SEG_SIZE (1ull << SEG_SHIFT)
#define SLICE_SIZE 65536ull
#define SLICES_PER_SEG 512u
#define SEG_USED 208
#define SEG_COOKIE 216
#define SEG_SLICES 224
#define SEG_INFO_SLICES 232
#define SEG_KIND 240
#define SEG_ENTRIES 248
#define SEG_THREAD 256
#define SEG_SLICES_AT 264
#define PAGE_SIZEOF 80
/* The header and every slice entry: all within the first slice. */
#define SEG_INFO (SEG_SLICES_AT + (SLICES_PER_SEG + 1) * PAGE_SIZEOF)
#define PG_COUNT 0
#define PG_OFFSET 4
#define PG_CAPACITY 10
#define PG_RESERVED 12
#define PG_FREE 16
#define PG_USED 24
#define PG_XBLOCK 28
#define PG_LOCAL 32
#define PG_TFREE 40
#define PG_HEAP 48
#define HEAP_DELAYED 2840
#define HEAP_THREAD 2848
#define HEAP_COOKIE 2864
#define HEAP_SIZEOF 3064
#define HUGE_BLOCK 0x80000000u
/* Segments scanned at most (a million is 32 TiB). */
#define MAX_SEGMENTS (1u << 20)
#define MAX_HEAPS 4096

struct mi_seg {
	uint64_t start, end;
	uint64_t cookie; /* cookie ^ start */
	uint8_t *info;   /* SEG_INFO bytes */
};

struct mi {
	struct mv_heap *h;
	struct mv_target *t;
	struct mi_seg *s;
	size_t ns, cap;
	uint64_t heaps[MAX_HEAPS];
	size_t nheaps;
	uint64_t *delayed; /* sorted: blocks on the heaps' delayed lists */
	size_t ndelayed;
	uint8_t *state;    /* per block of the page being walked */
	uint64_t blocks, bad_pages, bad_lists;
	bool main_cookie;  /* a heap's cookie matched the segments' */
};

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static bool rd64(struct mi *m, uint64_t a, uint64_t *v)
{
	uint8_t b[8];
	if (mv_target_read_partial(m->t, a, b, 8) != 8)
		return false;
	*v = ld64(b);
	return true;
}

/* mi_version()'s code is "mov $N, %eax; ret": N is the version, from
 * the library's text (in a core, from the mapped file).  0 if not
 * read; NOT_FOUND if the program has no mimalloc. */
static struct mv_error *read_version(struct mi *m, unsigned *ret)
{
	uint64_t at;
	*ret = 0;
	if (!mv_program_find_symbol(m->h->program, "mi_version", &at, NULL) ||
	    !mv_program_find_symbol(m->h->program, "mi_malloc", NULL, NULL))
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "the program has no mimalloc "
				       "(no symbol mi_version)");
	uint8_t code[6];
	if (mv_target_read_partial(m->t, at, code, sizeof(code)) ==
		    sizeof(code) &&
	    code[0] == 0xb8 && code[5] == 0xc3)
		*ret = ld32(code + 1);
	return NULL;
}

/* Whether the header at a looks like a 2.0.9 segment's. */
static bool header_ok(const uint8_t *g)
{
	uint64_t slices = ld64(g + SEG_SLICES), info = ld64(g + SEG_INFO_SLICES);
	uint64_t entries = ld64(g + SEG_ENTRIES), used = ld64(g + SEG_USED);
	uint32_t kind = ld32(g + SEG_KIND);
	const uint8_t *s0 = g + SEG_SLICES_AT;
	if (info != 1 || kind > 1 || !entries || entries > SLICES_PER_SEG ||
	    used > entries)
		return false;
	if (kind == 0 && (slices != SLICES_PER_SEG || entries != slices))
		return false;
	if (kind == 1 && (slices < 2 || slices > (1ull << 30) ||
			  entries != (slices < SLICES_PER_SEG ? slices
							      : SLICES_PER_SEG)))
		return false;
	/* Slice 0 is the span of the segment's own info. */
	return ld32(s0 + PG_COUNT) == info && ld32(s0 + PG_OFFSET) == 0 &&
	       ld32(s0 + PG_XBLOCK) == info * SLICE_SIZE;
}

static struct mv_error *add_seg(struct mi *m, uint64_t a, const uint8_t *g)
{
	if (m->ns == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct mi_seg *n = realloc(m->s, cap * sizeof(*n));
		if (!n)
			return mv_enomem;
		m->s = n;
		m->cap = cap;
	}
	uint8_t *info = malloc(SEG_INFO);
	if (!info)
		return mv_enomem;
	memcpy(info, g, SEG_INFO);
	uint64_t size = ld64(g + SEG_SLICES) * SLICE_SIZE;
	m->s[m->ns++] = (struct mi_seg){
		.start = a,
		.end = a + size < a ? UINT64_MAX : a + size,
		.cookie = ld64(g + SEG_COOKIE) ^ a,
		.info = info,
	};
	return NULL;
}

/* Every 32 MiB boundary of the anonymous writable mappings. */
static struct mv_error *scan_segments(struct mi *m)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(m->t, &r);
	uint8_t *g = malloc(SEG_INFO);
	if (!g)
		return mv_enomem;
	struct mv_error *err = NULL;
	uint64_t skip_to = 0, polled = 0;
	for (size_t i = 0; i < nr && !err; i++) {
		if ((r[i].path && r[i].path[0]) ||
		    (r[i].perms & (MV_PERM_R | MV_PERM_W)) !=
			    (MV_PERM_R | MV_PERM_W))
			continue;
		uint64_t a = (r[i].start + SEG_SIZE - 1) & ~(SEG_SIZE - 1);
		for (; a >= r[i].start && a < r[i].end; a += SEG_SIZE) {
			if (++polled % 1024 == 0 && (err = mv_heap_poll(m->h)))
				break;
			if (a < skip_to)
				continue; /* inside a huge segment */
			if (mv_target_read_partial(m->t, a, g, SEG_INFO) !=
				    SEG_INFO ||
			    !header_ok(g))
				continue;
			if (m->ns == MAX_SEGMENTS) {
				err = mv_heap_note(m->h, "mimalloc: more than %u "
						   "segments; the rest are not "
						   "read", MAX_SEGMENTS);
				goto out;
			}
			if ((err = add_seg(m, a, g)))
				break;
			skip_to = m->s[m->ns - 1].end;
		}
	}
out:
	free(g);
	return err;
}

/* The cookie of the segments: _mi_heap_main's (a heap some page names
 * whose cookie most segments' agree with), else the one most segments
 * agree on (Boyer-Moore majority).  Segments with another are dropped
 * with a note. */
static struct mv_error *check_cookies(struct mi *m)
{
	uint64_t k = 0;
	size_t best = 0;
	for (size_t j = 0; j < m->nheaps; j++) {
		uint64_t c;
		if (!rd64(m, m->heaps[j] + HEAP_COOKIE, &c))
			continue;
		size_t n = 0;
		for (size_t i = 0; i < m->ns; i++)
			n += m->s[i].cookie == c;
		if (n > best) {
			best = n;
			k = c;
		}
	}
	m->main_cookie = best > 0;
	if (!best) {
		size_t votes = 0;
		for (size_t i = 0; i < m->ns; i++) {
			if (!votes)
				k = m->s[i].cookie;
			votes += m->s[i].cookie == k ? 1 : (size_t)-1;
		}
	}
	size_t out = 0;
	for (size_t i = 0; i < m->ns; i++) {
		if (m->s[i].cookie == k) {
			m->s[out++] = m->s[i];
			continue;
		}
		struct mv_error *err = mv_heap_note(
			m->h, "mimalloc segment at 0x%llx: its cookie does not "
			      "agree with %s; skipped",
			(unsigned long long)m->s[i].start,
			m->main_cookie ? "the main heap's"
				       : "the other segments'");
		free(m->s[i].info);
		if (err) {
			for (size_t j = i + 1; j < m->ns; j++)
				free(m->s[j].info);
			m->ns = out;
			return err;
		}
	}
	m->ns = out;
	return NULL;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static bool in_segment(struct mi *m, uint64_t p)
{
	size_t lo = 0, hi = m->ns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->s[mid].start <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && p < m->s[lo - 1].end;
}

/* Each heap named by a page (xheap): its thread_delayed_free list, and
 * the heap itself as allocator metadata (never a root). */
static struct mv_error *read_heaps(struct mi *m, uint64_t budget)
{
	size_t cap = 0;
	for (size_t k = 0; k < m->nheaps; k++) {
		uint64_t heap = m->heaps[k], p;
		uint8_t hb[HEAP_SIZEOF];
		if (mv_target_read_partial(m->t, heap, hb, sizeof(hb)) !=
		    sizeof(hb)) {
			struct mv_error *err = mv_heap_note(
				m->h, "mimalloc heap at 0x%llx is not in memory; "
				      "its delayed frees are not seen",
				(unsigned long long)heap);
			if (err)
				return err;
			continue;
		}
		struct mv_error *err =
			mv_heap_add_metadata(m->h, heap, heap + HEAP_SIZEOF);
		if (err)
			return err;
		p = ld64(hb + HEAP_DELAYED);
		uint64_t n = 0;
		while (p) {
			if ((p & 7) || !in_segment(m, p) || n >= budget) {
				m->bad_lists++;
				err = mv_heap_note(
					m->h, "mimalloc heap at 0x%llx: delayed "
					      "free list link 0x%llx is not a "
					      "block; the list is cut there",
					(unsigned long long)heap,
					(unsigned long long)p);
				if (err)
					return err;
				break;
			}
			if (m->ndelayed == cap) {
				size_t c = cap ? cap * 2 : 64;
				uint64_t *d = realloc(m->delayed, c * sizeof(*d));
				if (!d)
					return mv_enomem;
				m->delayed = d;
				cap = c;
			}
			m->delayed[m->ndelayed++] = p;
			n++;
			if (!rd64(m, p, &p))
				break;
		}
	}
	if (m->ndelayed)
		qsort(m->delayed, m->ndelayed, sizeof(*m->delayed), u64_cmp);
	return NULL;
}

/* The heaps the pages name, and a bound on the blocks (for the delayed
 * lists): one pass over every segment's slices. */
static void collect_heaps(struct mi *m, uint64_t *blocks)
{
	*blocks = 0;
	for (size_t i = 0; i < m->ns; i++) {
		const uint8_t *g = m->s[i].info;
		uint64_t entries = ld64(g + SEG_ENTRIES);
		for (uint64_t k = 1; k < entries;) {
			const uint8_t *sl = g + SEG_SLICES_AT + k * PAGE_SIZEOF;
			uint32_t count = ld32(sl + PG_COUNT);
			if (!count || ld32(sl + PG_OFFSET))
				break;
			uint64_t heap = ld64(sl + PG_HEAP);
			if (ld32(sl + PG_XBLOCK)) {
				*blocks += (uint16_t)(sl[PG_CAPACITY] |
						      sl[PG_CAPACITY + 1] << 8);
				bool seen = !heap || (heap & 7);
				for (size_t j = 0; j < m->nheaps && !seen; j++)
					seen = m->heaps[j] == heap;
				if (!seen && m->nheaps < MAX_HEAPS)
					m->heaps[m->nheaps++] = heap;
			}
			k += count;
		}
	}
}

/* Marks the blocks of list (starting at p) as list in m->state; *bad
 * with a note when a link is not a block of the page below capacity
 * (each block at most once: the walk is bounded by capacity). */
static struct mv_error *walk_list(struct mi *m, uint64_t page, uint64_t p,
				  uint64_t pstart, uint64_t bsize,
				  uint32_t capacity, uint8_t list,
				  const char *name, uint32_t *count, bool *bad)
{
	while (p && !*bad) {
		uint64_t off = p - pstart;
		if (p < pstart || off % bsize || off / bsize >= capacity ||
		    m->state[off / bsize]) {
			m->bad_lists++;
			*bad = true;
			return mv_heap_note(m->h, "mimalloc page at 0x%llx: %s "
						  "list link 0x%llx is not a free "
						  "block of the page; the list "
						  "is cut there",
					    (unsigned long long)page, name,
					    (unsigned long long)p);
		}
		m->state[off / bsize] = list;
		(*count)++;
		if (!rd64(m, p, &p)) {
			m->bad_lists++;
			*bad = true;
			return mv_heap_note(m->h, "mimalloc page at 0x%llx: %s "
						  "list block 0x%llx is not in "
						  "memory; the list is cut there",
					    (unsigned long long)page, name,
					    (unsigned long long)(pstart + off));
		}
	}
	return NULL;
}

static uint32_t add_flags(uint64_t size, uint32_t flags)
{
	return flags | MV_CHUNK_NO_HEADER | (size & 8 ? MV_ENTRY_PLUS8 : 0);
}

/* [from, to) of the segment being walked is not seen (a damaged page,
 * or the rest of a damaged slice table): it leaves the heap segment, so
 * that a collection scans it as a root instead of calling what it
 * points at lost. */
static struct mv_error *cut(struct mi *m, uint64_t from, uint64_t to)
{
	struct mv_heap *h = m->h;
	struct mv_heap_segment *last = &h->segments[h->nsegments - 1];
	uint64_t end = last->end;
	if (to > end)
		to = end;
	if (from >= to || from < last->start)
		return NULL;
	last->end = from;
	if (to == end)
		return NULL;
	struct mv_heap_segment rest = {
		.start = to, .end = end, .first_chunk = to,
		.arena = last->arena,
	};
	return mv_heap_add_segment(h, &rest);
}

/* One page: its three free lists and the delayed frees in it, then its
 * blocks below capacity into the index. */
static struct mv_error *walk_page(struct mi *m, const struct mi_seg *s,
				  uint64_t k, const uint8_t *sl, uint32_t ai)
{
	struct mv_heap *h = m->h;
	uint64_t page = s->start + SEG_SLICES_AT + k * PAGE_SIZEOF;
	uint32_t count = ld32(sl + PG_COUNT), xb = ld32(sl + PG_XBLOCK);
	uint32_t capacity = (uint32_t)(sl[PG_CAPACITY] | sl[PG_CAPACITY + 1] << 8);
	uint32_t reserved = (uint32_t)(sl[PG_RESERVED] | sl[PG_RESERVED + 1] << 8);
	uint32_t used = ld32(sl + PG_USED);
	uint64_t offset = xb >= 8 && xb <= 1024 ? 384 : 0;
	uint64_t pstart = s->start + k * SLICE_SIZE + offset;
	uint64_t psize = (uint64_t)count * SLICE_SIZE - offset;
	uint64_t bsize = xb < HUGE_BLOCK ? xb : psize;
	if (!capacity)
		return NULL; /* a page being set up: no block yet */
	if (bsize < 8 || (bsize & 7) || capacity > reserved ||
	    (uint64_t)capacity * bsize > psize || used > capacity ||
	    pstart + psize > s->end) {
		m->bad_pages++;
		struct mv_error *err = mv_heap_note(
			h, "mimalloc page at 0x%llx: block size %llu, capacity "
			   "%u, reserved %u, used %u do not fit its %u slices; "
			   "its blocks are not seen",
			(unsigned long long)page, (unsigned long long)bsize,
			capacity, reserved, used, count);
		return err ? err : cut(m, pstart - offset, pstart + psize);
	}
	memset(m->state, 0, capacity);
	uint32_t nfree = 0, nlocal = 0, nthread = 0;
	bool bad = false;
	struct mv_error *err = walk_list(m, page, ld64(sl + PG_FREE), pstart,
					 bsize, capacity, MV_LIST_MI_FREE,
					 "free", &nfree, &bad);
	if (!err)
		err = walk_list(m, page, ld64(sl + PG_LOCAL), pstart, bsize,
				capacity, MV_LIST_MI_LOCAL, "local_free",
				&nlocal, &bad);
	if (!err)
		err = walk_list(m, page, ld64(sl + PG_TFREE) & ~3ull, pstart,
				bsize, capacity, MV_LIST_MI_THREAD,
				"thread_free", &nthread, &bad);
	if (err)
		return err;
	/* Which of its blocks are free is not known: none is indexed (a
	 * free block taken for one in use would be called lost). */
	if (bad)
		return cut(m, pstart - offset, pstart + psize);
	/* Blocks of this page on a heap's delayed-free list. */
	uint64_t end = pstart + (uint64_t)capacity * bsize;
	size_t lo = 0, hi = m->ndelayed;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->delayed[mid] < pstart)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->ndelayed && m->delayed[lo] < end; lo++) {
		uint64_t off = m->delayed[lo] - pstart;
		if (off % bsize == 0 && !m->state[off / bsize]) {
			m->state[off / bsize] = MV_LIST_MI_THREAD;
			nthread++;
		}
	}
	/* used counts the blocks freed by other threads until the owner
	 * collects them. */
	if (capacity - nfree - nlocal != used) {
		err = mv_heap_note(h, "mimalloc page at 0x%llx counts %u blocks "
				      "used but %u of its %u are on its free "
				      "and local_free lists",
				   (unsigned long long)page, used,
				   nfree + nlocal, capacity);
		if (err)
			return err;
	}
	uint64_t sz = bsize & ~15ull;
	for (uint32_t b = 0; b < capacity && !err && !h->stopped; b++) {
		uint64_t at = pstart + (uint64_t)b * bsize;
		uint8_t list = m->state[b];
		err = mv_heap_add_chunk(
			h, at, sz,
			add_flags(bsize, list ? MV_CHUNK_FREE_LIST
					      : MV_CHUNK_IN_USE),
			list ? (enum mv_heap_list)list : MV_LIST_NONE, ai);
	}
	m->blocks += capacity;
	return err;
}

/* One segment: its info slice is metadata, then each page. */
static struct mv_error *walk_segment(struct mi *m, const struct mi_seg *s,
				     uint32_t ai)
{
	struct mv_heap *h = m->h;
	const uint8_t *g = s->info;
	uint64_t entries = ld64(g + SEG_ENTRIES);
	struct mv_error *err = mv_heap_add_chunk(
		h, s->start, SLICE_SIZE,
		MV_CHUNK_METADATA | MV_CHUNK_NO_HEADER, MV_LIST_NONE, ai);
	for (uint64_t k = 1; k < entries && !err && !h->stopped;) {
		const uint8_t *sl = g + SEG_SLICES_AT + k * PAGE_SIZEOF;
		uint32_t count = ld32(sl + PG_COUNT);
		if (!count || ld32(sl + PG_OFFSET)) {
			m->bad_pages++;
			err = mv_heap_note(h, "mimalloc segment at 0x%llx: "
					      "slice %llu starts no span "
					      "(count %u, offset %u); the "
					      "rest of the segment is not seen",
					   (unsigned long long)s->start,
					   (unsigned long long)k, count,
					   ld32(sl + PG_OFFSET));
			return err ? err
				   : cut(m, s->start + k * SLICE_SIZE, s->end);
		}
		if (ld32(sl + PG_XBLOCK))
			err = walk_page(m, s, k, sl, ai);
		k += count;
		if (!err)
			err = mv_heap_poll(h);
	}
	return err;
}

/* A glibc chunk holding a segment, or starting inside one, is
 * mimalloc's: each byte has one model. */
static struct mv_error *take_over(struct mi *m)
{
	return mv_heap_take_spans(m->h, m->s, m->ns, sizeof(struct mi_seg));
}

static int seg_cmp(const void *x, const void *y)
{
	const struct mi_seg *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

static struct mv_error *describe(struct mi *m, unsigned version)
{
	struct mv_heap *h = m->h;
	char *d;
	if (asprintf(&d, "%s; mimalloc %u.%u.%u (%zu segment%s found by their "
			 "headers, cookie %s)",
		     mv_heap_description(h), version / 100, version / 10 % 10,
		     version % 10, m->ns, m->ns == 1 ? "" : "s",
		     m->main_cookie ? "checked against the main heap's"
				    : "agreed between segments") < 0)
		return mv_enomem;
	free(h->description);
	h->description = d;
	return NULL;
}

static struct mv_error *mimalloc_open(struct mv_heap *h,
				      const struct mv_heap_options *o)
{
	struct mi m = {.h = h, .t = h->target};
	unsigned version;
	struct mv_error *err = read_version(&m, &version);
	if (err)
		return err;
	if (version != MI_VERSION_KNOWN) {
		char v[32] = "unknown: mi_version() not read";
		if (version)
			snprintf(v, sizeof(v), "%u.%u.%u", version / 100,
				 version / 10 % 10, version % 10);
		if (o->flags & MV_HEAP_NEED_MIMALLOC)
			return mv_error_create(
				MV_ERR_NOT_FOUND, "mimalloc version %s: memview "
				"knows the layout of 2.0.9 (Debian 12) only", v);
		/* Its segments stay roots: conservative, never wrong. */
		err = mv_heap_note(h, "mimalloc version %s: memview knows the "
				      "layout of 2.0.9 (Debian 12) only; its "
				      "heap is not read", v);
		char *d;
		if (!err && asprintf(&d, "%s; mimalloc %s not read (its "
					 "memory left as roots)",
				     mv_heap_description(h), v) < 0)
			return mv_enomem;
		if (!err) {
			free(h->description);
			h->description = d;
		}
		return err;
	}
	if ((err = scan_segments(&m)))
		goto out;
	if (!m.ns) {
		err = mv_error_create(MV_ERR_NOT_FOUND,
				      "no mimalloc segment in memory");
		goto out;
	}
	qsort(m.s, m.ns, sizeof(*m.s), seg_cmp);
	uint64_t blocks;
	collect_heaps(&m, &blocks);
	if ((err = check_cookies(&m)) || (err = take_over(&m)) ||
	    (err = read_heaps(&m, blocks + 1)))
		goto out;
	m.state = malloc(1u << 16);
	if (!m.state) {
		err = mv_enomem;
		goto out;
	}
	for (size_t i = 0; i < m.ns && !h->stopped; i++) {
		struct mi_seg *s = &m.s[i];
		struct mv_heap_arena ha = {
			.kind = MV_ARENA_MIMALLOC,
			.address = s->start,
			.system_mem = s->end - s->start,
			.have_bins = true,
		};
		uint32_t ai;
		if ((err = mv_heap_add_arena(h, &ha, &ai)))
			goto out;
		struct mv_heap_segment hs = {
			.start = s->start, .end = s->end,
			.first_chunk = s->start + SLICE_SIZE, .arena = ai,
		};
		if ((err = mv_heap_add_segment(h, &hs)))
			goto out;
		mv_target_will_read(h->target, s->start, s->end);
		if ((err = walk_segment(&m, s, ai)))
			goto out;
	}
	err = describe(&m, version);
out:
	for (size_t i = 0; i < m.ns; i++)
		free(m.s[i].info);
	free(m.s);
	free(m.delayed);
	free(m.state);
	return err;
}

const struct mv_heap_ops mv_heap_mimalloc_ops = {
	.name = "mimalloc",
	.open = mimalloc_open,
};
