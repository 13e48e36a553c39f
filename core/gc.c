/* gc.c - the simulated collection.
 *
 * Phase 1 marks from the roots the way valgrind's memcheck does: a block
 * reached by a start pointer from a root or from a reachable block is
 * reachable; a block reached any other way (an interior pointer, or from
 * a possibly-lost block) is possibly lost.  A block changes state at most
 * twice (unreached -> possible -> reachable), and is rescanned when it
 * does, so the work stack holds at most two entries per block.
 *
 * Phase 2 builds the graph of the blocks left unreached (start and
 * interior pointers alike), and finds its strongly connected components.
 * memcheck reports, in each group of lost blocks that nothing else lost
 * points to (a source component of that graph), its lowest-addressed
 * block as definitely lost and everything reached from it as indirectly
 * lost: that is what its clique pass computes when it takes unreached
 * blocks as clique leaders in address order, so the same rule here
 * gives block-for-block the same answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include <elf.h> /* core/elf.h, then the system's */

#define MAX_NOTES 100
#define POLL_WORDS 65536u
#define ROOT_WINDOW (256u << 10) /* bytes */
/* A page table per heap segment, so that a lookup binary-searches only
 * the chunks near its address, not six steps over twenty (each a cache
 * miss on a heap of gigabytes: it was most of gc's time at 80 M
 * blocks).  Two levels, so that it costs about a byte per PAGE_CHUNKS
 * chunks (a table of 8-byte entries was a fifth of gc's memory at 80 M
 * blocks): per 4 KiB, the last chunk starting at or before it; per page
 * of 4 KiB or less (about PAGE_CHUNKS chunks), how many chunks further
 * on its own last one is.  A 4 KiB of equal chunks back to back (a size
 * class of tcmalloc, mimalloc or pymalloc) is searched by a division
 * instead. */
#define BIG_SHIFT 12
#define PAGE_SHIFT_MIN 7
#define PAGE_CHUNKS 8
#define MAX_PAGES (1u << 26)
#define UNIFORM 0x80000000u /* in base: the 4 KiB's chunks are equal */
#define SUB_FAR 255         /* in sub: further than a byte says */

struct mv_gc_seg {
	uint64_t start, end;
	size_t first, last;  /* chunk indexes [first, last) inside */
	uint32_t *base;      /* per 4 KiB, | UNIFORM; NULL: no table */
	size_t nbig;
	uint8_t *sub;        /* per page: its last chunk - its 4 KiB's */
	size_t npages;
	unsigned shift;      /* log2 of the page's bytes */
};

struct mv_error *mv_gc_parse_heuristics(const char *spec, uint32_t *ret)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{"stdstring", MV_HEUR_STDSTRING},
		{"length64", MV_HEUR_LENGTH64},
		{"newarray", MV_HEUR_NEWARRAY},
		{"multipleinheritance", MV_HEUR_MULTIPLE_INHERITANCE},
	};
	*ret = 0;
	if (!strcmp(spec, "all")) {
		*ret = MV_HEUR_ALL;
		return NULL;
	}
	if (!strcmp(spec, "none"))
		return NULL;
	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ",");
		size_t k = 0;
		while (k < 4 && (strlen(names[k].name) != len ||
				 strncmp(p, names[k].name, len)))
			k++;
		if (k == 4)
			return mv_error_create(MV_ERR_USAGE,
					       "--heuristics: unknown '%.*s' "
					       "(all, none, or a comma list of "
					       "stdstring, length64, newarray, "
					       "multipleinheritance)",
					       (int)len, p);
		*ret |= names[k].bit;
		p += len + (p[len] == ',');
	}
	return NULL;
}

const char *mv_gc_kind_name(enum mv_gc_kind k)
{
	static const char *const names[MV_GC_KIND_COUNT_] = {
		"not a block", "unreached", "still reachable",
		"possibly lost", "definitely lost", "indirectly lost",
	};
	return (unsigned)k < MV_GC_KIND_COUNT_ ? names[k] : "?";
}

const char *mv_gc_kind_key(enum mv_gc_kind k)
{
	static const char *const keys[MV_GC_KIND_COUNT_] = {
		"not_block", "unreached", "still_reachable",
		"possibly_lost", "definitely_lost", "indirectly_lost",
	};
	return (unsigned)k < MV_GC_KIND_COUNT_ ? keys[k] : "?";
}

static bool is_block(uint32_t flags)
{
	if (flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA |
		     MV_CHUNK_CORRUPT | MV_CHUNK_TOP))
		return false;
	return flags & (MV_CHUNK_IN_USE | MV_CHUNK_MMAPPED);
}

/* glibc: user memory starts after prev_size and size; pymalloc's
 * blocks have no header. */
static uint64_t mem_of(const struct mv_gc *gc, size_t i, uint64_t start)
{
	return mv_heap_flags_at(gc->heap, i) & MV_CHUNK_NO_HEADER ? start
								  : start + 16;
}

uint64_t mv_gc_mem(const struct mv_gc *gc, size_t i)
{
	return mem_of(gc, i, mv_heap_start_at(gc->heap, i));
}

uint64_t mv_gc_size(const struct mv_gc *gc, size_t i)
{
	return mv_heap_size_at(gc->heap, i);
}

uint32_t mv_gc_flags(const struct mv_gc *gc, size_t i)
{
	return mv_heap_flags_at(gc->heap, i);
}

static inline uint64_t usable_of(const struct mv_gc *gc, size_t i)
{
	uint32_t flags = mv_heap_flags_at(gc->heap, i);
	if (flags & MV_CHUNK_MMAPPED)
		flags |= MV_CHUNK_IN_USE;
	return mv_heap_usable(mv_heap_size_at(gc->heap, i), flags);
}

uint64_t mv_gc_usable(const struct mv_gc *gc, size_t i)
{
	return usable_of(gc, i);
}

static struct mv_error *gc_poll(struct mv_gc *gc, uint64_t words)
{
	gc->words_since_poll += words;
	if (gc->words_since_poll < POLL_WORDS)
		return NULL;
	gc->words_since_poll = 0;
	return gc->opt.poll ? gc->opt.poll(gc->opt.poll_arg) : NULL;
}

/* ---- lookup: address -> block ---- */

static int seg_cmp(const void *a, const void *b)
{
	const struct mv_gc_seg *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The last chunk of s starting at or before step p of 2^shift bytes,
 * from chunk *j (starting at *js) on. */
static void last_before(const struct mv_gc *gc, const struct mv_gc_seg *s,
			unsigned shift, size_t p, size_t *j, uint64_t *js)
{
	uint64_t at = s->start + ((uint64_t)p << shift);
	while (*j + 1 < s->last) {
		uint64_t next = mv_heap_next_start(gc->heap, *j, *js);
		if (next > at)
			break;
		++*j;
		*js = next;
	}
}

/* Whether the chunks of s from a (starting at start) on that start
 * before next are equal and back to back. */
static bool uniform(const struct mv_gc *gc, const struct mv_gc_seg *s,
		    size_t a, uint64_t start, uint64_t next)
{
	const struct mv_heap *h = gc->heap;
	uint64_t size = mv_heap_size_at(h, a);
	bool same = size && size <= UINT32_MAX;
	for (size_t c = a + 1; c < s->last && same; c++) {
		if (h->ix.meta[c] & MV_PK_GAP)
			return mv_heap_gap_start(h, c) >= next;
		start += size;
		if (start >= next)
			break;
		same = mv_heap_size_at(h, c) == size;
	}
	return same;
}

/* Drops s's table (its counts are kept to build it again). */
static void free_pages(struct mv_gc_seg *s)
{
	free(s->base);
	free(s->sub);
	s->base = NULL;
	s->sub = NULL;
}

static bool fill_pages(struct mv_gc *gc, struct mv_gc_seg *s, size_t nbig,
		       size_t npages)
{
	s->base = malloc(nbig * sizeof(*s->base));
	s->sub = malloc(npages);
	if (!s->base || !s->sub) {
		free_pages(s);
		return false;
	}
	s->nbig = nbig;
	s->npages = npages;
	size_t j = s->first;
	uint64_t first = mv_heap_start_at(gc->heap, s->first), js = first;
	for (size_t p = 0; p < nbig; p++) {
		last_before(gc, s, BIG_SHIFT, p, &j, &js);
		if (uniform(gc, s, j, js,
			    s->start + ((uint64_t)(p + 1) << BIG_SHIFT)))
			s->base[p] = (uint32_t)j | UNIFORM;
		else
			s->base[p] = (uint32_t)j;
	}
	j = s->first;
	js = first;
	for (size_t p = 0; p < npages; p++) {
		last_before(gc, s, s->shift, p, &j, &js);
		size_t d = j - (s->base[p >> (BIG_SHIFT - s->shift)] &
				 ~UNIFORM);
		s->sub[p] = d < SUB_FAR ? (uint8_t)d : SUB_FAR;
	}
	return true;
}

static struct mv_error *build_lookup(struct mv_gc *gc)
{
	size_t nsegs;
	const struct mv_heap_segment *hs = mv_heap_segments(gc->heap, &nsegs);
	gc->lo = UINT64_MAX;
	gc->hi = 0;
	uint64_t start = gc->n ? mv_heap_start_at(gc->heap, 0) : 0;
	for (size_t i = 0; i < gc->n; i++) {
		if (i)
			start = mv_heap_next_start(gc->heap, i - 1, start);
		if (gc->kind[i] == MV_GC_NOT_BLOCK)
			continue;
		uint64_t mem = mem_of(gc, i, start);
		if (mem < gc->lo)
			gc->lo = mem;
		if (mem + mv_gc_usable(gc, i) > gc->hi)
			gc->hi = mem + mv_gc_usable(gc, i);
	}
	if (!nsegs)
		return NULL;
	gc->segs = calloc(nsegs, sizeof(*gc->segs));
	if (!gc->segs)
		return mv_enomem;
	for (size_t i = 0; i < nsegs; i++) {
		if (hs[i].end <= hs[i].start)
			continue;
		struct mv_gc_seg *s = &gc->segs[gc->nsegs++];
		s->start = hs[i].start;
		s->end = hs[i].end;
	}
	qsort(gc->segs, gc->nsegs, sizeof(*gc->segs), seg_cmp);
	for (size_t k = 0; k < gc->nsegs; k++) {
		struct mv_gc_seg *s = &gc->segs[k];
		/* Overlapping segments would make the search ambiguous: keep
		 * the first and let the global search answer for the rest. */
		if (k && s->start < gc->segs[k - 1].end) {
			s->first = s->last = 0;
			continue;
		}
		s->first = mv_heap_lower_bound(gc->heap, s->start);
		s->last = mv_heap_lower_bound(gc->heap, s->end);
		uint64_t bytes = s->end - s->start, chunks = s->last - s->first;
		s->shift = BIG_SHIFT;
		while (s->shift > PAGE_SHIFT_MIN &&
		       (bytes >> s->shift) * PAGE_CHUNKS < chunks &&
		       (bytes >> (s->shift - 1)) < MAX_PAGES)
			s->shift--;
		if (chunks < 32 || (bytes >> s->shift) + 1 > MAX_PAGES)
			continue;
		if (!fill_pages(gc, s, (bytes >> BIG_SHIFT) + 1,
				(bytes >> s->shift) + 1))
			return mv_enomem;
	}
	return NULL;
}

/* Whether block i, starting at start, holds v. */
static bool block_has(const struct mv_gc *gc, size_t i, uint64_t start,
		      uint64_t v)
{
	if (gc->kind[i] == MV_GC_NOT_BLOCK)
		return false;
	uint64_t mem = mem_of(gc, i, start);
	return v >= mem && v - mem < usable_of(gc, i);
}

/* The segment holding v, if any (there are few), with chunks in it. */
static inline const struct mv_gc_seg *seg_of(const struct mv_gc *gc,
					     uint64_t v)
{
	size_t slo = 0, shi = gc->nsegs;
	while (slo < shi) {
		size_t mid = slo + (shi - slo) / 2;
		if (gc->segs[mid].start <= v)
			slo = mid + 1;
		else
			shi = mid;
	}
	if (!slo)
		return NULL;
	const struct mv_gc_seg *s = &gc->segs[slo - 1];
	return v < s->end && s->last > s->first ? s : NULL;
}

/* One past the last chunk that may start before 4 KiB number q of s. */
static inline size_t page_end(const struct mv_gc_seg *s, size_t q)
{
	return q < s->nbig ? (s->base[q] & ~UNIFORM) + 1 : s->last;
}

/* The first chunk find_in searches for v in s (which has a table). */
static inline size_t page_first(const struct mv_gc_seg *s, uint64_t v)
{
	size_t p = (v - s->start) >> s->shift;
	uint8_t d = s->sub[p];
	return (s->base[p >> (BIG_SHIFT - s->shift)] & ~UNIFORM) +
	       (d == SUB_FAR ? 0 : d);
}

/* The last chunk in [a, b) starting at or before v (its start in
 * *start), a - 1 if none: a step a chunk from a, a few chunks (a page
 * of the table) in a cache line or two of the index. */
static inline size_t walk_to(const struct mv_heap *h, size_t a, size_t b,
			     uint64_t v, uint64_t *start)
{
	uint64_t s = mv_heap_start_at(h, a);
	if (s > v) {
		if (!a)
			return SIZE_MAX;
		*start = mv_heap_start_at(h, a - 1);
		return a - 1;
	}
	*start = s;
	return mv_heap_step_to(h, a, b, v, start);
}

/* The last chunk starting at or before v in s (which has a table). */
static inline size_t find_paged(const struct mv_gc *gc,
				const struct mv_gc_seg *s, uint64_t v,
				uint64_t *start)
{
	const struct mv_heap *h = gc->heap;
	size_t p = (v - s->start) >> s->shift;
	size_t q = p >> (BIG_SHIFT - s->shift);
	size_t a = s->base[q] & ~UNIFORM, b = page_end(s, q + 1);
	if (s->base[q] & UNIFORM) {
		uint64_t sa = mv_heap_start_at(h, a);
		if (v >= sa) {
			/* Equal chunks: the one holding v (or the last of
			 * them: block_has says no).  The page's last chunk
			 * may start at the next 4 KiB, past the equal ones:
			 * its own start, then. */
			uint64_t size = mv_heap_size_at(h, a);
			uint64_t k = (v - sa) / size;
			if (k >= b - 1 - a) {
				k = b - 1 - a;
				*start = mv_heap_start_at(h, a + (size_t)k);
			} else {
				*start = sa + k * size;
			}
			return a + (size_t)k;
		}
	}
	a += s->sub[p] == SUB_FAR ? 0 : s->sub[p];
	if (p + 1 < s->npages && s->sub[p + 1] != SUB_FAR)
		b = (s->base[(p + 1) >> (BIG_SHIFT - s->shift)] & ~UNIFORM) +
		    s->sub[p + 1] + 1;
	return walk_to(h, a, b, v, start);
}

/* mv_gc_find_block for v in [lo, hi), s being seg_of(v). */
static inline size_t find_in(const struct mv_gc *gc,
			     const struct mv_gc_seg *s, uint64_t v,
			     bool *interior)
{
	uint64_t start;
	size_t i = s && s->base ? find_paged(gc, s, v, &start)
				: mv_heap_floor(gc->heap, v, &start);
	if (i == SIZE_MAX)
		return SIZE_MAX;
	if (!block_has(gc, i, start, v)) {
		/* The first 8 bytes of a chunk after an in-use one are that
		 * one's last usable bytes (prev_size lent to the user). */
		if (!i)
			return SIZE_MAX;
		start = mv_heap_start_at(gc->heap, --i);
		if (!block_has(gc, i, start, v))
			return SIZE_MAX;
	}
	*interior = v != mem_of(gc, i, start);
	return i;
}

/* The tables dropped at the end of a run (their memory is the report's)
 * are built again for lookups after it (a refcount run): a segment
 * without memory for its table is binary-searched. */
static void pages_again(struct mv_gc *gc)
{
	gc->pages_dropped = false;
	for (size_t k = 0; k < gc->nsegs; k++) {
		struct mv_gc_seg *s = &gc->segs[k];
		if (s->npages && !fill_pages(gc, s, s->nbig, s->npages))
			s->npages = 0;
	}
}

size_t mv_gc_find_block(struct mv_gc *gc, uint64_t v, bool *interior)
{
	if (gc->pages_dropped)
		pages_again(gc);
	if (v < gc->lo || v >= gc->hi)
		return SIZE_MAX;
	return find_in(gc, seg_of(gc, v), v, interior);
}

/* ---- phase 1: marking ---- */

static bool push(struct mv_gc *gc, size_t i)
{
	if (gc->nstack == gc->stack_cap) {
		size_t cap = gc->stack_cap ? gc->stack_cap * 2 : 4096;
		uint32_t *s = mv_big_realloc(gc->stack, cap, sizeof(*s));
		if (!s)
			return false;
		gc->stack = s;
		gc->stack_cap = cap;
	}
	gc->stack[gc->nstack++] = (uint32_t)i;
	return true;
}

static bool word_at(struct mv_gc *gc, uint64_t address, uint64_t *ret)
{
	return mv_target_read_partial(gc->target, address, ret, 8) == 8;
}

/* Whether a request of req bytes could have made block i (valgrind
 * knows the size asked for; the heap knows what the chunk holds: a
 * chunk holds any request that rounds up to it). */
static void request_range(struct mv_gc *gc, size_t i, uint64_t *lo,
			  uint64_t *hi)
{
	uint64_t u = mv_gc_usable(gc, i);
	bool mmapped = mv_heap_flags_at(gc->heap, i) & MV_CHUNK_MMAPPED;
	uint64_t slack = mmapped ? 4095 : 15;
	if (u <= 24 && !mmapped)
		slack = 24; /* the smallest chunk holds requests of 0..24 */
	*lo = u > slack ? u - slack : 0;
	*hi = u;
}

static bool request_fits(struct mv_gc *gc, size_t i, uint64_t req)
{
	uint64_t lo, hi;
	request_range(gc, i, &lo, &hi);
	return req >= lo && req <= hi;
}

/* valgrind's test for a vtable: a readable word in a file mapping,
 * and among the 20 words there at least two pointers into executable
 * file mappings before anything that is neither that nor NULL. */
static bool is_vtable(struct mv_gc *gc, uint64_t a)
{
	const struct mv_region *r = mv_target_find_region(gc->target, a);
	if (!r || !r->path || !(r->perms & MV_PERM_R) || r->path[0] == '[')
		return false;
	uint64_t last = r->end - 8, fns = 0;
	if (a + 20 * 8 < last)
		last = a + 20 * 8;
	for (uint64_t s = a; s <= last; s += 8) {
		uint64_t fn;
		if (!word_at(gc, s, &fn))
			return false;
		if (!fn)
			continue;
		const struct mv_region *x = mv_target_find_region(gc->target,
								  fn);
		if (!x || !x->path || x->path[0] == '[' ||
		    !(x->perms & MV_PERM_X))
			return false;
		if (++fns == 2)
			return true;
	}
	return false;
}

/* Whether interior pointer v to block i counts as a start pointer under
 * the heuristics in effect (valgrind's heuristic_reachedness). */
static bool by_heuristic(struct mv_gc *gc, size_t i, uint64_t v)
{
	uint32_t hs = gc->opt.heuristics;
	uint64_t mem = mv_gc_mem(gc, i), w0, w1;
	if ((hs & MV_HEUR_STDSTRING) && v == mem + 24 &&
	    word_at(gc, mem + 8, &w1) && w1 < (1ull << 48) &&
	    request_fits(gc, i, 25 + w1) && word_at(gc, mem, &w0) && w0 <= w1)
		return true;
	if ((hs & MV_HEUR_LENGTH64) && v == mem + 8 && word_at(gc, mem, &w0) &&
	    w0 && w0 < (1ull << 48) && request_fits(gc, i, w0 + 8))
		return true;
	if ((hs & MV_HEUR_NEWARRAY) && v == mem + 8 && word_at(gc, mem, &w0) &&
	    w0) {
		/* Some request that fits has (request - 8) % count == 0:
		 * the least one from the range's start. */
		uint64_t lo, hi;
		request_range(gc, i, &lo, &hi);
		if (lo < 8)
			lo = 8;
		uint64_t k = (lo - 8) / w0 + ((lo - 8) % w0 != 0);
		if (hi >= 8 && k <= (hi - 8) / w0)
			return true;
	}
	if ((hs & MV_HEUR_MULTIPLE_INHERITANCE) && !(v & 7) &&
	    word_at(gc, v, &w1) && !(w1 & 7) && w1 >= 4096 &&
	    word_at(gc, mem, &w0) && !(w0 & 7) && w0 >= 4096 &&
	    is_vtable(gc, w1) && is_vtable(gc, w0))
		return true;
	return false;
}

/* Block i is to be scanned (again: its kind changed): in the grey set
 * (on the stack if there is none). */
static bool grey(struct mv_gc *gc, size_t i)
{
	if (!gc->grey)
		return push(gc, i);
	uint64_t m = 1ull << (i % 64);
	if (!(gc->grey[i / 64] & m)) {
		gc->grey[i / 64] |= m;
		gc->ngrey++;
		if (i < gc->grey_lo)
			gc->grey_lo = i;
	}
	return true;
}

/* A pointer to block i was found in something that is reachable
 * (definite) or only possibly so. */
static bool hit(struct mv_gc *gc, size_t i, uint64_t v, bool interior,
		bool definite)
{
	uint8_t k = gc->kind[i];
	if (k == MV_GC_REACHABLE)
		return true;
	if (interior && definite && gc->opt.heuristics &&
	    by_heuristic(gc, i, v)) {
		gc->by_heuristic++;
		interior = false;
	}
	if (!interior && definite) {
		gc->kind[i] = MV_GC_REACHABLE;
		return grey(gc, i);
	}
	if (k == MV_GC_UNREACHED) {
		gc->kind[i] = MV_GC_POSSIBLE;
		return grey(gc, i);
	}
	return true;
}

/* Counting mode (mv_gc_count_refs): one more word holding v. */
static void count_word(struct mv_gc *gc, uint64_t v)
{
	size_t lo = 0, hi = gc->nref;
	if (!hi || v < gc->ref_addrs[0] || v > gc->ref_addrs[hi - 1])
		return;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gc->ref_addrs[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < gc->nref && gc->ref_addrs[lo] == v)
		gc->ref_counts[lo]++;
}

/* Looks up the words found so far and marks what they point to.  Each
 * lookup is a chain of cache misses (the page table's entry, the
 * index's, the block's kind), most of gc's time on a heap of gigabytes
 * when taken one word at a time: a batch starts each stage's misses for
 * all its words before it reads any of them.  Marking is a fixpoint, so
 * the order does not change the answer. */
enum { CAND_DEFINITE = 1, CAND_ROOT = 2 };

static struct mv_error *flush(struct mv_gc *gc)
{
	const struct mv_gc_seg *seg[sizeof(gc->cand) / sizeof(gc->cand[0])];
	size_t n = gc->ncand;
	gc->ncand = 0;
	for (size_t k = 0; k < n; k++) {
		const struct mv_gc_seg *s = seg[k] = seg_of(gc, gc->cand[k]);
		if (s && s->base) {
			uint64_t off = gc->cand[k] - s->start;
			__builtin_prefetch(&s->sub[off >> s->shift]);
			__builtin_prefetch(&s->base[off >> BIG_SHIFT]);
		}
	}
	for (size_t k = 0; k < n; k++) {
		const struct mv_gc_seg *s = seg[k];
		if (!s || !s->base)
			continue;
		size_t a = page_first(s, gc->cand[k]);
		__builtin_prefetch(&gc->heap->ix.gstart[a >> MV_PK_GROUP_SHIFT]);
		__builtin_prefetch(&gc->heap->ix.meta[a]);
		__builtin_prefetch(&gc->kind[a]);
	}
	for (size_t k = 0; k < n; k++) {
		bool interior;
		uint64_t v = gc->cand[k];
		size_t i = find_in(gc, seg[k], v, &interior);
		if (i == SIZE_MAX)
			continue;
		if (gc->cand_how[k] & CAND_ROOT)
			gc->root_pointers++;
		else
			gc->heap_pointers++;
		if (!hit(gc, i, v, interior, gc->cand_how[k] & CAND_DEFINITE))
			return mv_enomem;
	}
	return NULL;
}

static struct mv_error *scan_words(struct mv_gc *gc, const uint64_t *w,
				   size_t nwords, bool definite, bool root)
{
	if (gc->ref_addrs) {
		for (size_t k = 0; k < nwords; k++)
			count_word(gc, w[k]);
		return gc_poll(gc, nwords);
	}
	uint64_t lo = gc->lo, hi = gc->hi;
	uint8_t how = (definite ? CAND_DEFINITE : 0) | (root ? CAND_ROOT : 0);
	const size_t max = sizeof(gc->cand) / sizeof(gc->cand[0]);
	for (size_t k = 0; k < nwords; k++) {
		uint64_t v = w[k];
		if (v < lo || v >= hi)
			continue;
		gc->cand[gc->ncand] = v;
		gc->cand_how[gc->ncand++] = how;
		struct mv_error *err;
		if (gc->ncand == max && (err = flush(gc)))
			return err;
	}
	return gc_poll(gc, nwords);
}

const uint8_t *mv_gc_block_bytes(struct mv_gc *gc, size_t i, size_t *len)
{
	uint64_t mem = mv_gc_mem(gc, i), usable = mv_gc_usable(gc, i);
	*len = 0;
	if (!usable)
		return NULL;
	const uint8_t *p = mv_target_peek(gc->target, mem, usable);
	if (p) {
		*len = usable;
		return p;
	}
	/* Not contiguous in one mapping (or a process): copy, a bounded
	 * window at a time would do but chunks past 64 MiB are mmapped
	 * and rare; cap the copy so a corrupt size cannot ask for more. */
	size_t want = usable > (64u << 20) ? (64u << 20) : (size_t)usable;
	if (want > gc->scratch_cap) {
		uint8_t *s = realloc(gc->scratch, want);
		if (!s)
			return NULL;
		gc->scratch = s;
		gc->scratch_cap = want;
	}
	*len = mv_target_read_partial(gc->target, mem, gc->scratch, want);
	return gc->scratch;
}

static struct mv_error *scan_block(struct mv_gc *gc, size_t i, bool definite)
{
	size_t len;
	const uint8_t *p = mv_gc_block_bytes(gc, i, &len);
	if (!p) {
		if (mv_gc_usable(gc, i) && !gc->scratch)
			return mv_enomem;
		return NULL;
	}
	gc->heap_bytes += len;
	/* mem is 16-aligned, so the bytes are word-aligned in a core
	 * mapping; copy through memcpy-safe loads otherwise. */
	if ((uintptr_t)p % 8 == 0)
		return scan_words(gc, (const uint64_t *)p, len / 8, definite,
				  false);
	uint64_t buf[512];
	for (size_t off = 0; off + 8 <= len;) {
		size_t m = (len - off) / 8;
		if (m > 512)
			m = 512;
		memcpy(buf, p + off, m * 8);
		struct mv_error *err = scan_words(gc, buf, m, definite, false);
		if (err)
			return err;
		off += m * 8;
	}
	return NULL;
}

/* Starts the cache miss of block i's first bytes. */
static void prefetch_block(struct mv_gc *gc, size_t i)
{
	const uint8_t *p = mv_target_peek(gc->target, mv_gc_mem(gc, i), 1);
	if (p)
		__builtin_prefetch(p);
}

/* Scans the blocks on the stack (and those they lead to) until none is
 * left; the block PREFETCH_DEPTH below the top is fetched meanwhile
 * (a batch's lookups push many at once). */
#define PREFETCH_DEPTH 6
static struct mv_error *drain_stack(struct mv_gc *gc)
{
	struct mv_error *err = NULL;
	while (!err && (gc->nstack || gc->ncand)) {
		if (!gc->nstack) {
			err = flush(gc);
			continue;
		}
		size_t i = gc->stack[--gc->nstack];
		if (gc->nstack > PREFETCH_DEPTH)
			prefetch_block(gc,
				       gc->stack[gc->nstack - PREFETCH_DEPTH]);
		err = scan_block(gc, i, gc->kind[i] == MV_GC_REACHABLE);
	}
	return err;
}

/* Scans the grey blocks in address order, from the lowest: those they
 * lead to further on in the same pass, those behind in the next.  Over
 * a heap of gigabytes the blocks' bytes come in order (and their pages'
 * table entries with them) where a depth-first walk would jump: a hash
 * table's chains, a tree laid out level by level.  *done: blocks
 * scanned. */
static struct mv_error *sweep(struct mv_gc *gc, size_t *done)
{
	size_t nw = (gc->n + 63) / 64;
	size_t w = gc->grey_lo / 64;
	gc->grey_lo = SIZE_MAX;
	*done = 0;
	for (; w < nw; w++) {
		while (gc->grey[w]) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(gc->grey[w]);
			gc->grey[w] &= gc->grey[w] - 1;
			gc->ngrey--;
			++*done;
			struct mv_error *err =
				scan_block(gc, i, gc->kind[i] == MV_GC_REACHABLE);
			if (err)
				return err;
		}
	}
	return flush(gc);
}

/* The grey blocks onto the stack, to be scanned one by one. */
static bool greys_to_stack(struct mv_gc *gc)
{
	size_t nw = (gc->n + 63) / 64;
	for (size_t w = gc->grey_lo / 64; gc->ngrey && w < nw; w++)
		for (; gc->grey[w]; gc->grey[w] &= gc->grey[w] - 1) {
			gc->ngrey--;
			if (!push(gc, w * 64 +
					  (size_t)__builtin_ctzll(gc->grey[w])))
				return false;
		}
	gc->grey_lo = SIZE_MAX;
	return true;
}

/* Whether a sweep pays: it reads the grey bitmap from its lowest block
 * on, a word per 64 blocks, and should find a block to scan per 64
 * words at least; else the few grey blocks are scanned from the stack
 * (a long list built by pushing at its head is one block a pass). */
static bool sweep_pays(const struct mv_gc *gc)
{
	return gc->ngrey >= (gc->n - gc->grey_lo) / 4096;
}

/* Marks until no block is left to scan. */
static struct mv_error *drain(struct mv_gc *gc)
{
	struct mv_error *err = NULL;
	while (!(err = drain_stack(gc)) && gc->ngrey) {
		size_t done;
		if (sweep_pays(gc))
			err = sweep(gc, &done);
		else if (!greys_to_stack(gc))
			err = mv_enomem;
		if (err)
			break;
	}
	return err;
}

static struct mv_error *scan_run(void *arg, uint64_t address,
				 const uint64_t *w, size_t n)
{
	struct mv_gc *gc = arg;
	gc->root_bytes += n * 8;
	struct mv_error *err = scan_words(gc, w, n, true, true);
	return err ? err : drain(gc);
}

/* Scans [start, end) as a root; what is not readable is counted in
 * *missing. */
static struct mv_error *scan_root(struct mv_gc *gc, uint64_t start,
				  uint64_t end, uint64_t *missing)
{
	return mv_roots_read(gc->target, start, end, gc->window, ROOT_WINDOW,
			     scan_run, gc, missing);
}

/* Registers first would not change the answer (marking is a fixpoint),
 * only the order; the instruction pointer holds code, never data. */
static struct mv_error *scan_registers(struct mv_gc *gc)
{
	const struct mv_thread *th;
	size_t nt = mv_target_threads(gc->target, &th);
	for (size_t i = 0; i < nt; i++) {
		if (!th[i].has_regs)
			continue;
		for (int k = 0; k < MV_NREGS; k++) {
			if (k == MV_REG_RIP)
				continue;
			if (gc->ref_addrs) {
				count_word(gc, th[i].regs[k]);
				continue;
			}
			bool interior;
			size_t b = mv_gc_find_block(gc, th[i].regs[k],
						    &interior);
			if (b == SIZE_MAX)
				continue;
			gc->root_pointers++;
			if (!hit(gc, b, th[i].regs[k], interior, true))
				return mv_enomem;
		}
	}
	return drain(gc);
}

/* The program's roots (roots.h), found once per collection.  A count
 * (mv_gc_count_refs) reads them again without noting anything. */
static struct mv_error *scan_program_roots(struct mv_gc *gc, bool note)
{
	struct mv_error *err;
	struct mv_roots *rs = &gc->rs;
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t missing;
		if ((err = scan_root(gc, rs->r[i].start, rs->r[i].end,
				     &missing)))
			return err;
		if (note && (err = mv_roots_note_missing(rs, &rs->r[i],
							 missing)))
			return err;
	}
	return scan_registers(gc);
}

/* An index cut by its bound: the chunks past it were not seen, and any
 * of them may hold an indexed block.  Their ranges are scanned as roots
 * last, so that no block they may hold is called lost; the blocks found
 * only so are counted (their fate is not known: held by a live block or
 * by a lost one not seen).  Lost blocks among the unseen chunks are not
 * counted anywhere: the answer says how many bytes were not examined. */
static struct mv_error *scan_unindexed(struct mv_gc *gc)
{
	const struct mv_heap_gap *g;
	size_t ng;
	struct mv_error *err = mv_heap_unindexed(gc->heap, &g, &ng,
						 &gc->unexamined_bytes);
	if (err || !ng)
		return err;
	uint8_t *before = mv_big_realloc(NULL, gc->n ? gc->n : 1, 1);
	if (!before)
		return mv_enomem;
	memcpy(before, gc->kind, gc->n);
	uint64_t root_bytes = gc->root_bytes;
	uint64_t root_pointers = gc->root_pointers;
	for (size_t i = 0; i < ng && !err; i++) {
		uint64_t missing = 0;
		err = scan_root(gc, g[i].start, g[i].end, &missing);
	}
	/* Not the program's roots: the totals stay theirs. */
	gc->root_bytes = root_bytes;
	gc->root_pointers = root_pointers;
	for (size_t i = 0; !err && i < gc->n; i++)
		if (before[i] == MV_GC_UNREACHED &&
		    gc->kind[i] != MV_GC_UNREACHED) {
			gc->held_by_unexamined++;
			gc->held_by_unexamined_bytes += mv_gc_usable(gc, i);
		}
	mv_big_free(before);
	return err;
}

/* ---- phase 2: the lost blocks' graph ---- */

uint32_t mv_gc_lost_pos(const struct mv_gc *gc, size_t i)
{
	size_t lo = 0, hi = gc->nlost;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gc->lost[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gc->nlost && gc->lost[lo] == i ? (uint32_t)lo : MV_GC_NONE;
}

static bool add_edge(struct mv_gc *gc, uint32_t v)
{
	if (gc->nlost_adj == gc->lost_adj_cap) {
		size_t cap = gc->lost_adj_cap ? gc->lost_adj_cap * 2 : 1024;
		uint32_t *a = realloc(gc->lost_adj, cap * sizeof(*a));
		if (!a)
			return false;
		gc->lost_adj = a;
		gc->lost_adj_cap = cap;
	}
	gc->lost_adj[gc->nlost_adj++] = v;
	return true;
}

static struct mv_error *lost_edges(struct mv_gc *gc, size_t pos)
{
	size_t len;
	const uint8_t *p = mv_gc_block_bytes(gc, gc->lost[pos], &len);
	if (!p)
		return mv_gc_usable(gc, gc->lost[pos]) && !gc->scratch
			       ? mv_enomem
			       : NULL;
	gc->heap_bytes += len;
	for (size_t off = 0; off + 8 <= len; off += 8) {
		uint64_t v;
		memcpy(&v, p + off, 8);
		if (v < gc->lo || v >= gc->hi)
			continue;
		bool interior;
		size_t i = mv_gc_find_block(gc, v, &interior);
		if (i == SIZE_MAX || gc->kind[i] != MV_GC_UNREACHED)
			continue;
		uint32_t to = mv_gc_lost_pos(gc, i);
		if (to == MV_GC_NONE)
			continue;
		if (!add_edge(gc, to | (interior ? MV_GC_INTERIOR : 0)))
			return mv_enomem;
	}
	return gc_poll(gc, len / 8);
}

/* memcheck's clique pass, step for step: lost blocks in address order;
 * each one still unclaimed leads a clique (definitely lost) and claims,
 * as indirectly lost, the unclaimed blocks it reaches through unclaimed
 * blocks - including earlier leaders, which then stop being definitely
 * lost.  A block claimed by an earlier clique is not walked through
 * again, which is why the answer depends on addresses: it is memcheck's
 * answer, not a canonical one.  Each block enters the stack at most
 * twice (as a leader, and when claimed), so this is linear. */
static struct mv_error *cliques(struct mv_gc *gc)
{
	enum { UNCLAIMED, LEADER, CLAIMED };
	uint8_t *st = calloc(gc->nlost ? gc->nlost : 1, 1);
	uint32_t *stack = malloc((gc->nlost ? gc->nlost : 1) * 2 *
				 sizeof(*stack));
	if (!st || !stack) {
		free(st);
		free(stack);
		return mv_enomem;
	}
	for (size_t l = 0; l < gc->nlost; l++) {
		if (st[l] != UNCLAIMED)
			continue;
		st[l] = LEADER;
		size_t n = 0;
		stack[n++] = (uint32_t)l;
		while (n) {
			uint32_t v = stack[--n];
			for (uint64_t x = gc->lost_off[v];
			     x < gc->lost_off[v + 1]; x++) {
				uint32_t w = gc->lost_adj[x] & ~MV_GC_INTERIOR;
				if (w == l || st[w] == CLAIMED)
					continue;
				st[w] = CLAIMED;
				stack[n++] = w;
			}
		}
	}
	for (size_t u = 0; u < gc->nlost; u++)
		gc->kind[gc->lost[u]] = st[u] == LEADER ? MV_GC_DEFINITE
							: MV_GC_INDIRECT;
	free(st);
	free(stack);
	return NULL;
}

static struct mv_error *classify_lost(struct mv_gc *gc)
{
	struct mv_error *err;
	for (size_t i = 0; i < gc->n; i++)
		if (gc->kind[i] == MV_GC_UNREACHED)
			gc->nlost++;
	if (gc->nlost >= MV_GC_INTERIOR)
		return mv_error_create(MV_ERR_LIMIT, "more than 2^31 lost "
						     "blocks");
	gc->lost = malloc((gc->nlost + 1) * sizeof(*gc->lost));
	gc->lost_off = malloc((gc->nlost + 1) * sizeof(*gc->lost_off));
	gc->scc = malloc((gc->nlost + 1) * sizeof(*gc->scc));
	if (!gc->lost || !gc->lost_off || !gc->scc)
		return mv_enomem;
	size_t k = 0;
	for (size_t i = 0; i < gc->n; i++)
		if (gc->kind[i] == MV_GC_UNREACHED)
			gc->lost[k++] = (uint32_t)i;
	for (size_t pos = 0; pos < gc->nlost; pos++) {
		gc->lost_off[pos] = gc->nlost_adj;
		if ((err = lost_edges(gc, pos)))
			return err;
	}
	gc->lost_off[gc->nlost] = gc->nlost_adj;
	if ((err = mv_scc_tarjan(gc->nlost, gc->lost_off, gc->lost_adj,
				 ~MV_GC_INTERIOR, gc->scc, &gc->nscc,
				 gc->opt.poll, gc->opt.poll_arg)))
		return err;
	size_t ns = gc->nscc ? gc->nscc : 1;
	gc->scc_members = calloc(ns, sizeof(*gc->scc_members));
	gc->scc_cyclic = calloc(ns, sizeof(*gc->scc_cyclic));
	if (!gc->scc_members || !gc->scc_cyclic)
		return mv_enomem;
	for (size_t u = 0; u < gc->nlost; u++) {
		gc->scc_members[gc->scc[u]]++;
		for (uint64_t x = gc->lost_off[u]; x < gc->lost_off[u + 1];
		     x++) {
			uint32_t w = gc->lost_adj[x] & ~MV_GC_INTERIOR;
			if (w == u)
				gc->scc_cyclic[gc->scc[u]] = true;
		}
	}
	for (size_t u = 0; u < gc->nlost; u++)
		if (gc->scc_members[gc->scc[u]] > 1)
			gc->scc_cyclic[gc->scc[u]] = true;
	if ((err = cliques(gc)))
		return err;
	for (size_t c = 0; c < gc->nscc; c++)
		if (gc->scc_cyclic[c]) {
			gc->cyclic_sccs++;
			gc->cyclic_objects += gc->scc_members[c];
		}
	for (size_t u = 0; u < gc->nlost; u++)
		if (gc->scc_cyclic[gc->scc[u]])
			gc->cyclic_bytes += mv_gc_usable(gc, gc->lost[u]);
	return NULL;
}

struct mv_error *mv_gc_run(struct mv_gc *gc, struct mv_heap *h,
			   const struct mv_gc_options *opt)
{
	memset(gc, 0, sizeof(*gc));
	mv_notes_init(&gc->notes, MAX_NOTES);
	gc->heap = h;
	gc->program = h->program;
	gc->target = h->target;
	if (opt)
		gc->opt = *opt;
	/* The caller's ranges need not outlive the run, but a later
	 * mv_gc_count_refs() scans them again: keep a copy. */
	if (gc->opt.nroots) {
		struct mv_gc_range *r = malloc(gc->opt.nroots * sizeof(*r));
		if (!r)
			return mv_enomem;
		memcpy(r, gc->opt.roots, gc->opt.nroots * sizeof(*r));
		gc->roots = r;
		gc->opt.roots = r;
	}
	gc->n = mv_heap_chunk_count(h);
	if (gc->n >= MV_GC_INTERIOR)
		return mv_error_create(MV_ERR_LIMIT, "more than 2^31 chunks");
	gc->kind = mv_big_realloc(NULL, gc->n, 1);
	if (!gc->kind)
		return mv_enomem;
	for (size_t i = 0; i < gc->n; i++)
		gc->kind[i] = is_block(mv_heap_flags_at(h, i))
				      ? MV_GC_UNREACHED
				      : MV_GC_NOT_BLOCK;
	gc->window = malloc(ROOT_WINDOW);
	if (!gc->window)
		return mv_enomem;
	/* Without it, depth first (grey). */
	gc->grey = mv_big_calloc((gc->n + 63) / 64 + 1, sizeof(uint64_t));
	gc->grey_lo = SIZE_MAX;
	struct mv_error *err = build_lookup(gc);
	if (err)
		return err;
	for (size_t k = 0; k < gc->opt.nroots; k++) {
		uint64_t missing = 0;
		if ((err = scan_root(gc, gc->opt.roots[k].start,
				     gc->opt.roots[k].end, &missing)))
			return err;
	}
	if (!gc->opt.only_given_roots && gc->program) {
		if ((err = mv_roots_find(gc->program, h, &gc->rs)))
			return err;
		const struct mv_thread *th;
		gc->threads = mv_target_threads(gc->target, &th);
		for (size_t i = 0; i < gc->rs.n; i++)
			if (gc->rs.r[i].kind == MV_ROOT_STACK)
				gc->stacks_scanned++;
		if ((err = scan_program_roots(gc, true)))
			return err;
	}
	if ((err = scan_unindexed(gc)))
		return err;
	/* Marking is done: its memory goes to the lost blocks' graph. */
	mv_big_free(gc->grey);
	gc->grey = NULL;
	if ((err = classify_lost(gc)))
		return err;
	for (size_t i = 0; i < gc->n; i++) {
		gc->count[gc->kind[i]]++;
		if (gc->kind[i] != MV_GC_NOT_BLOCK)
			gc->bytes[gc->kind[i]] += mv_gc_usable(gc, i);
	}
	for (size_t k = 0; k < gc->nsegs; k++)
		free_pages(&gc->segs[k]);
	gc->pages_dropped = true;
	return NULL;
}

struct mv_error *mv_gc_count_refs(struct mv_gc *gc, const uint64_t *addrs,
				  size_t n, uint32_t *counts)
{
	/* The root scanners are reused as they are; what they record about
	 * the collection (totals, notes) is put back afterwards, so that
	 * the count leaves the collection's report as it was. */
	struct mv_gc saved = *gc;
	struct mv_error *err = NULL;
	mv_notes_init(&gc->notes, MAX_NOTES);
	gc->ref_addrs = addrs;
	gc->nref = n;
	gc->ref_counts = counts;
	for (size_t k = 0; !err && k < gc->opt.nroots; k++) {
		uint64_t missing = 0;
		err = scan_root(gc, gc->opt.roots[k].start,
				gc->opt.roots[k].end, &missing);
	}
	if (!err && !gc->opt.only_given_roots && gc->program)
		err = scan_program_roots(gc, false);
	for (size_t i = 0; !err && i < gc->n; i++)
		if (gc->kind[i] != MV_GC_NOT_BLOCK)
			err = scan_block(gc, i, false);
	mv_notes_deinit(&gc->notes);
	/* Buffers may have grown: keep the new ones. */
	saved.scratch = gc->scratch;
	saved.scratch_cap = gc->scratch_cap;
	saved.stack = gc->stack;
	saved.stack_cap = gc->stack_cap;
	*gc = saved;
	return err;
}

void mv_gc_deinit(struct mv_gc *gc)
{
	mv_big_free(gc->grey);
	for (size_t i = 0; i < gc->nsegs; i++)
		free_pages(&gc->segs[i]);
	free(gc->segs);
	mv_big_free(gc->kind);
	free(gc->lost);
	free(gc->lost_off);
	free(gc->lost_adj);
	free(gc->scc);
	free(gc->scc_members);
	free(gc->scc_cyclic);
	free(gc->scratch);
	mv_big_free(gc->stack);
	free(gc->window);
	free(gc->roots);
	mv_roots_deinit(&gc->rs);
	mv_notes_deinit(&gc->notes);
	memset(gc, 0, sizeof(*gc));
}
