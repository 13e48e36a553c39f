/* refindex.c - the reverse pointer index of refindex.h: one pass over
 * the blocks in address order records, per holder, the chunks its words
 * point into (the chunk directory answers each word with a cache line);
 * a counting sort turns that around into, per chunk, its holders.  4
 * bytes a chunk kept, and for the chunks held from two places or more 4
 * a holder and 4 for the count; while it is built, 4 bytes a pointer
 * (the forward edges) and a byte a chunk (its count of them). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "refindex.h"
#include "roots.h"
#include "target.h"

struct mv_refindex {
	struct mv_heap *h;
	size_t n;          /* chunks */
	/* Per chunk: NONE; ONE | its one holder (most chunks: a list's or
	 * a tree's node); or where its holders start in src, their count
	 * in the word before. */
	uint32_t *ent;
	uint32_t *src;     /* holders, ascending per chunk */
	uint64_t nsrc, nedges;
};

#define ONE 0x80000000u
#define NONE UINT32_MAX

#define WINDOW (256u << 10)
#define MANY 255

struct many {
	uint32_t holder, count;
};

struct build {
	struct mv_heap *h;
	struct mv_chunk_dir *dir;
	uint64_t lo, hi;      /* the heap's span: other words are skipped */
	uint32_t *dst;        /* forward edges, holder by holder */
	size_t ndst, cap;
	/* Each chunk's count of them: a byte, MANY for 255 or more, then
	 * counted in over (the holders in ascending order). */
	uint8_t *cnt;
	struct many *over;
	size_t nover, over_cap;
	uint32_t *indeg;      /* n + 1, counted once the scan is done */
	uint32_t last;        /* the last chunk this holder pointed into */
	struct mv_block_span span;
	bool oom, too_many;
};

bool mv_refindex_block(uint32_t flags)
{
	return (flags & MV_CHUNK_IN_USE) &&
	       !(flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA |
			  MV_CHUNK_TOP | MV_CHUNK_CORRUPT));
}

static bool push(struct build *b, uint32_t j)
{
	if (b->ndst == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : (1u << 20);
		if (cap > UINT32_MAX)
			cap = UINT32_MAX;
		if (b->ndst >= cap) {
			b->too_many = true;
			return false;
		}
		uint32_t *d = mv_big_realloc(b->dst, cap, sizeof(*d));
		if (!d) {
			b->oom = true;
			return false;
		}
		b->dst = d;
		b->cap = cap;
	}
	b->dst[b->ndst++] = j;
	return true;
}

/* Holder i's count of forward edges, c of them. */
static bool count_edges(struct build *b, size_t i, size_t c)
{
	if (c < MANY) {
		b->cnt[i] = (uint8_t)c;
		return true;
	}
	if (b->nover == b->over_cap) {
		size_t cap = b->over_cap ? b->over_cap * 2 : 64;
		struct many *m = realloc(b->over, cap * sizeof(*m));
		if (!m) {
			b->oom = true;
			return false;
		}
		b->over = m;
		b->over_cap = cap;
	}
	b->cnt[i] = MANY;
	b->over[b->nover++] = (struct many){(uint32_t)i, (uint32_t)c};
	return true;
}

static bool words(struct build *b, const uint64_t *w, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t v = w[k];
		if (v < b->lo || v >= b->hi)
			continue;
		struct mv_chunk ch;
		size_t j;
		if (!mv_chunk_dir_find(b->dir, v, &ch, &j) ||
		    !mv_refindex_block(ch.flags) || v < ch.mem)
			continue;
		if ((uint32_t)j == b->last)
			continue;
		b->last = (uint32_t)j;
		if (!push(b, (uint32_t)j))
			return false;
	}
	return true;
}

static struct mv_error *words_cb(void *arg, uint64_t address,
				 const uint64_t *w, size_t n)
{
	struct build *b = arg;
	(void)address;
	return words(b, w, n) ? NULL : mv_enomem;
}

const void *mv_block_span_peek(struct mv_block_span *s, struct mv_target *t,
			       struct mv_heap *h, uint64_t address,
			       uint64_t len)
{
	if (address < s->lo || address >= s->hi) {
		size_t nseg;
		const struct mv_heap_segment *g = mv_heap_segments(h, &nseg);
		s->bytes = NULL;
		s->lo = s->hi = 0;
		for (size_t k = 0; k < nseg; k++) {
			if (address < g[k].start || address >= g[k].end)
				continue;
			s->lo = g[k].start;
			s->hi = g[k].end;
			s->bytes = mv_target_peek_stable(t, s->lo, s->hi - s->lo);
			break;
		}
	}
	if (s->bytes && len <= s->hi - address)
		return s->bytes + (address - s->lo);
	return mv_target_peek_stable(t, address, len);
}

/* The words of one block: straight from a core's mapping, else read a
 * window at a time (unreadable bytes end the block, as in graph.c). */
static bool scan_block(struct build *b, struct mv_target *t,
		       const struct mv_chunk *ch, uint64_t *buf)
{
	uint64_t len = ch->usable & ~(uint64_t)7;
	if (!len)
		return true;
	const void *p = (ch->mem & 7) ? NULL
				      : mv_block_span_peek(&b->span, t, b->h,
							   ch->mem, len);
	if (p)
		return words(b, p, len / 8);
	uint64_t missing;
	struct mv_error *err = mv_roots_read(t, ch->mem, ch->mem + len, buf,
					     WINDOW, words_cb, b, &missing);
	if (err && err != mv_enomem)
		mv_error_destroy(err);
	return !b->oom && !b->too_many;
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* Most holders point into a few chunks: an insertion sort. */
static void insertion_sort(uint32_t *a, uint32_t n)
{
	for (uint32_t k = 1; k < n; k++) {
		uint32_t v = a[k], m = k;
		for (; m && a[m - 1] > v; m--)
			a[m] = a[m - 1];
		a[m] = v;
	}
}

/* Holder i's count of forward edges; *ov walks over in step, forwards
 * (back false: i ascending) or backwards (i descending). */
static struct many *holder_count(struct build *b, size_t i, size_t *ov,
				 bool back, uint32_t *c)
{
	*c = b->cnt[i];
	if (*c != MANY)
		return NULL;
	struct many *m = &b->over[back ? --*ov : (*ov)++];
	*c = m->count;
	return m;
}

/* dst[s, e), one holder's targets, each once from out on (out <= s);
 * the new end.  A pointer array's are told apart with seen (a bit a
 * chunk, cleared after), a few by an insertion sort. */
static uint32_t unique_slice(struct build *b, uint64_t *seen, uint32_t s,
			     uint32_t e, uint32_t out)
{
	uint32_t *d = b->dst;
	if (e - s > 32 && seen) {
		uint32_t first = out;
		for (uint32_t k = s; k < e; k++) {
			uint32_t j = d[k];
			uint64_t bit = 1ull << (j % 64);
			if (seen[j / 64] & bit)
				continue;
			seen[j / 64] |= bit;
			d[out++] = j;
		}
		for (uint32_t k = first; k < out; k++)
			seen[d[k] / 64] = 0;
		return out;
	}
	if (e - s > 32)
		qsort(d + s, e - s, sizeof(*d), u32_cmp);
	else
		insertion_sort(d + s, e - s);
	for (uint32_t k = s; k < e; k++)
		if (k == s || d[k] != d[k - 1])
			d[out++] = d[k];
	return out;
}

/* Each holder's targets once (the scan drops repeats in a row only),
 * each counted in indeg, and the holders' counts brought down to
 * match. */
static void unique_targets(struct build *b, size_t n)
{
	uint32_t s = 0, out = 0;
	size_t ov = 0;
	/* Without memory for it, large holders are sorted instead. */
	uint64_t *seen = mv_big_calloc((n + 63) / 64, sizeof(*seen));
	for (size_t i = 0; i < n; i++) {
		uint32_t c, first = out;
		struct many *m = holder_count(b, i, &ov, false, &c);
		if (!c)
			continue;
		out = unique_slice(b, seen, s, s + c, out);
		s += c;
		for (uint32_t k = first; k < out; k++)
			b->indeg[b->dst[k]]++;
		if (m)
			m->count = out - first;
		else
			b->cnt[i] = (uint8_t)(out - first);
	}
	mv_big_free(seen);
	b->ndst = out;
}

/* indeg turned in place into the entries: a chunk with one holder is
 * left NONE for the holder to fill in; one with more gets its count in
 * src and, for now, the end of its holders' run. */
static void place(uint32_t *ent, size_t n, uint32_t *src)
{
	uint32_t at = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t c = ent[j];
		if (c < 2) {
			ent[j] = NONE;
			continue;
		}
		src[at] = c;
		at += 1 + c;
		ent[j] = at;
	}
	ent[n] = NONE;
}

/* Per chunk, its holders: a counting sort of the forward edges, the
 * holders placed from the last down so that each run ends ascending
 * and its entry at its start.  indeg becomes the entries in place: no
 * cursor array, no squeezing, and nothing in src for the chunks with
 * one holder. */
static struct mv_error *turn_around(struct build *b,
				    struct mv_refindex *ri,
				    void (*progress)(void *arg, uint64_t done,
						     uint64_t total),
				    void *progress_arg, mv_walk_poll_fn poll,
				    void *poll_arg)
{
	size_t n = ri->n;
	unique_targets(b, n);
	uint32_t *ent = b->indeg;
	uint64_t nsrc = 0;
	for (size_t j = 0; j < n; j++)
		if (ent[j] >= 2)
			nsrc += 1 + (uint64_t)ent[j];
	if (nsrc >= ONE)
		return mv_error_create(MV_ERR_LIMIT, "too many heap pointers "
				       "to index their referrers");
	ri->src = mv_big_realloc(NULL, nsrc ? nsrc : 1, sizeof(*ri->src));
	if (!ri->src)
		return mv_enomem;
	place(ent, n, ri->src);
	struct mv_error *err;
	uint32_t e = (uint32_t)b->ndst;
	size_t ov = b->nover;
	for (size_t i = n; i-- > 0;) {
		/* Tens of millions of chunks take seconds here too. */
		if ((i & 0xffff) == 0) {
			if (progress)
				progress(progress_arg, n - i, n);
			if (poll && (err = poll(poll_arg)))
				return err;
		}
		uint32_t c;
		holder_count(b, i, &ov, true, &c);
		for (e -= c; c; c--) {
			uint32_t j = b->dst[e + c - 1];
			if (ent[j] == NONE)
				ent[j] = ONE | (uint32_t)i;
			else
				ri->src[--ent[j]] = (uint32_t)i;
		}
	}
	ri->ent = ent;
	b->indeg = NULL;
	ri->nsrc = nsrc;
	ri->nedges = b->ndst;
	return NULL;
}

struct mv_error *mv_refindex_build(struct mv_program *p, struct mv_heap *h,
				   void (*progress)(void *arg, uint64_t done,
						    uint64_t total),
				   void *progress_arg, mv_walk_poll_fn poll,
				   void *poll_arg, struct mv_refindex **ret)
{
	*ret = NULL;
	struct mv_target *t = mv_program_target(p);
	size_t n = mv_heap_chunk_count(h);
	if (!t)
		return mv_error_create(MV_ERR_INVALID, "no memory to scan");
	if (n >= (NONE & ~ONE))
		return mv_error_create(MV_ERR_LIMIT, "too many chunks to index "
				       "their referrers");
	struct mv_refindex *ri = calloc(1, sizeof(*ri));
	struct build b = {.h = h, .last = UINT32_MAX};
	uint64_t *buf = malloc(WINDOW);
	struct mv_error *err = NULL;
	if (!ri || !buf) {
		err = mv_enomem;
		goto out;
	}
	ri->h = h;
	ri->n = n;
	if (!n)
		goto turn;
	if ((err = mv_chunk_dir_create(h, &b.dir)))
		goto out;
	b.cnt = mv_big_calloc(n, sizeof(*b.cnt));
	if (!b.cnt) {
		err = mv_enomem;
		goto out;
	}
	struct mv_chunk first, last;
	mv_heap_chunk(h, 0, &first);
	mv_heap_chunk(h, n - 1, &last);
	b.lo = first.start;
	b.hi = last.start + last.size;
	size_t nseg;
	const struct mv_heap_segment *seg = mv_heap_segments(h, &nseg);
	for (size_t s = 0; s < nseg; s++)
		mv_target_will_read(t, seg[s].start, seg[s].end);
	for (size_t i = 0; i < n; i++) {
		if ((i & 0xffff) == 0xffff) {
			if (progress)
				progress(progress_arg, i, n);
			if (poll && (err = poll(poll_arg))) {
				err = mv_error_interrupted(
					err, "nothing to answer from yet",
					"indexing the heap's pointers (%zu "
					"of %zu chunks so far)", i, n);
				goto out;
			}
		}
		struct mv_chunk ch;
		if (!mv_heap_chunk(h, i, &ch) || !mv_refindex_block(ch.flags))
			continue;
		b.last = UINT32_MAX;
		size_t before = b.ndst;
		if (!scan_block(&b, t, &ch, buf) ||
		    !count_edges(&b, i, b.ndst - before))
			break;
	}
	if (b.oom) {
		err = mv_enomem;
		goto out;
	}
	if (b.too_many) {
		err = mv_error_create(MV_ERR_LIMIT, "too many heap pointers "
				      "to index their referrers");
		goto out;
	}
turn:
	/* The directory is done with: the turn-around's arrays take its
	 * room. */
	mv_chunk_dir_destroy(b.dir);
	b.dir = NULL;
	if (!n) {
		ri->ent = mv_big_realloc(NULL, 1, sizeof(*ri->ent));
		if (!ri->ent)
			err = mv_enomem;
		else
			ri->ent[0] = NONE;
	} else if (!(b.indeg = mv_big_calloc(n + 1, sizeof(*b.indeg)))) {
		err = mv_enomem;
	} else {
		err = turn_around(&b, ri, progress, progress_arg, poll,
				  poll_arg);
	}
out:
	mv_chunk_dir_destroy(b.dir);
	mv_big_free(b.dst);
	mv_big_free(b.indeg);
	mv_big_free(b.cnt);
	free(b.over);
	free(buf);
	if (err) {
		mv_refindex_destroy(ri);
		return err;
	}
	*ret = ri;
	return NULL;
}

void mv_refindex_destroy(struct mv_refindex *ri)
{
	if (!ri)
		return;
	mv_big_free(ri->ent);
	mv_big_free(ri->src);
	free(ri);
}

struct mv_heap *mv_refindex_heap(const struct mv_refindex *ri)
{
	return ri->h;
}

const uint32_t *mv_refindex_holders(const struct mv_refindex *ri, size_t i,
				    uint32_t *one, size_t *n)
{
	uint32_t v = i < ri->n ? ri->ent[i] : NONE;
	if (v == NONE) {
		*n = 0;
		return NULL;
	}
	if (v & ONE) {
		*one = v & ~ONE;
		*n = 1;
		return one;
	}
	*n = ri->src[v - 1];
	return ri->src + v;
}

uint64_t mv_refindex_edges(const struct mv_refindex *ri)
{
	return ri->nedges;
}

uint64_t mv_refindex_bytes(const struct mv_refindex *ri)
{
	return (ri->n + 1) * sizeof(*ri->ent) + ri->nsrc * sizeof(*ri->src) +
	       sizeof(*ri);
}
