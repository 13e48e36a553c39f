/* refindex.c - the reverse pointer index of refindex.h, made by
 * scanning the blocks in address order (the chunk directory answers
 * each word with a cache line).  The first scan fills each chunk's
 * entry with its one holder, and counts the holders of the chunks held
 * from two places or more; the second reads only those chunks' holders
 * again, to put them in place (in ascending order: the scan's).  4
 * bytes a chunk, and for the chunks held from two places or more 4 a
 * holder and 4 for the count; while it is built, 8 bytes for each of
 * those chunks and a bit a chunk: no list of every pointer, which at 80
 * M allocations was twice the index itself. */
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
#define NONE 0u /* a run of src starts at 1 or later */

#define WINDOW (256u << 10)

/* A chunk with two holders or more: in the first scan, the last holder
 * seen and their count; in the second, where its run of src starts and
 * how many of them are in place. */
struct many {
	uint32_t at, n;
};

struct build {
	struct mv_heap *h;
	struct mv_chunk_dir *dir;
	uint64_t lo, hi;      /* the heap's span: other words are skipped */
	/* The entries as they are made: while the scans last, a chunk
	 * with two holders or more has its position in many + 1. */
	uint32_t *ent;
	struct many *many;
	size_t nmany, many_cap;
	uint64_t *again;      /* a bit per holder the second scan reads */
	uint32_t *src;        /* NULL in the first scan */
	uint32_t holder;      /* the block scanned */
	uint32_t last;        /* the last chunk it pointed into */
	uint64_t nedges;
	struct mv_block_span span;
	bool oom, too_many;
};

bool mv_refindex_block(uint32_t flags)
{
	return (flags & MV_CHUNK_IN_USE) &&
	       !(flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA |
			  MV_CHUNK_TOP | MV_CHUNK_CORRUPT));
}

static void read_again(struct build *b, uint32_t i)
{
	b->again[i / 64] |= 1ull << (i % 64);
}

/* First scan: the holder points into chunk j (again, maybe). */
static bool note(struct build *b, uint32_t j)
{
	uint32_t v = b->ent[j], i = b->holder;
	if (v == NONE) {
		b->ent[j] = ONE | i;
	} else if (v & ONE) {
		if ((v & ~ONE) == i)
			return true;
		if (b->nmany == b->many_cap) {
			size_t cap = b->many_cap ? b->many_cap * 2 : 1024;
			struct many *m = cap < ONE ? mv_big_realloc(
							     b->many, cap,
							     sizeof(*m))
						   : NULL;
			if (!m) {
				b->too_many = cap >= ONE;
				b->oom = cap < ONE;
				return false;
			}
			b->many = m;
			b->many_cap = cap;
		}
		b->many[b->nmany] = (struct many){i, 2};
		b->ent[j] = (uint32_t)++b->nmany;
		read_again(b, v & ~ONE);
		read_again(b, i);
	} else {
		struct many *m = &b->many[v - 1];
		if (m->at == i)
			return true;
		m->at = i;
		m->n++;
		read_again(b, i);
	}
	b->nedges++;
	return true;
}

/* Second scan: the holder in its place among chunk j's, if j has more
 * than one (a run already full is left so: bytes that changed between
 * the scans cannot write past it). */
static void place(struct build *b, uint32_t j)
{
	uint32_t v = b->ent[j];
	if (v == NONE || (v & ONE))
		return;
	struct many *m = &b->many[v - 1];
	uint32_t *run = b->src + m->at;
	if (m->n < run[-1] && (!m->n || run[m->n - 1] != b->holder))
		run[m->n++] = b->holder;
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
		if (b->src)
			place(b, (uint32_t)j);
		else if (!note(b, (uint32_t)j))
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

/* Between the scans: a run of src for each chunk with two holders or
 * more, in chunk order, its count in the word before; the runs'
 * starts in many. */
static struct mv_error *lay_out(struct build *b, struct mv_refindex *ri)
{
	uint64_t nsrc = 0;
	for (size_t m = 0; m < b->nmany; m++)
		nsrc += 1 + (uint64_t)b->many[m].n;
	if (nsrc >= ONE)
		return mv_error_create(MV_ERR_LIMIT, "too many heap pointers "
				       "to index their referrers");
	ri->src = mv_big_realloc(NULL, nsrc ? nsrc : 1, sizeof(*ri->src));
	if (!ri->src)
		return mv_enomem;
	ri->nsrc = nsrc;
	uint32_t at = 0;
	for (size_t j = 0; j < ri->n; j++) {
		uint32_t v = b->ent[j];
		if (v == NONE || (v & ONE))
			continue;
		struct many *m = &b->many[v - 1];
		ri->src[at] = m->n;
		at += 1 + m->n;
		*m = (struct many){at - m->n, 0};
	}
	b->src = ri->src;
	return NULL;
}

/* After the second scan: the chunks with two holders or more point at
 * their runs (a run not filled says how many it holds). */
static void point_at_runs(struct build *b, struct mv_refindex *ri)
{
	for (size_t j = 0; j < ri->n; j++) {
		uint32_t v = b->ent[j];
		if (v == NONE || (v & ONE))
			continue;
		struct many *m = &b->many[v - 1];
		b->ent[j] = m->at;
		if (m->n < ri->src[m->at - 1]) {
			b->nedges -= ri->src[m->at - 1] - m->n;
			ri->src[m->at - 1] = m->n;
		}
	}
}

/* Scans block i as holder; progress and Ctrl-C every 64 k chunks. */
static struct mv_error *scan_holder(struct build *b, struct mv_target *t,
				    size_t i, size_t n, uint64_t *buf,
				    void (*progress)(void *arg, uint64_t done,
						     uint64_t total),
				    void *progress_arg, mv_walk_poll_fn poll,
				    void *poll_arg)
{
	struct mv_error *err;
	if ((i & 0xffff) == 0xffff) {
		if (progress)
			progress(progress_arg, i, n);
		if (poll && (err = poll(poll_arg)))
			return mv_error_interrupted(
				err, "nothing to answer from yet",
				"indexing the heap's pointers (%zu of %zu "
				"chunks so far)", i, n);
	}
	struct mv_chunk ch;
	if (!mv_heap_chunk(b->h, i, &ch) || !mv_refindex_block(ch.flags))
		return NULL;
	b->holder = (uint32_t)i;
	b->last = UINT32_MAX;
	if (scan_block(b, t, &ch, buf))
		return NULL;
	if (b->too_many)
		return mv_error_create(MV_ERR_LIMIT, "too many heap pointers "
				       "to index their referrers");
	return mv_enomem;
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
	if (n >= (UINT32_MAX & ~ONE))
		return mv_error_create(MV_ERR_LIMIT, "too many chunks to index "
				       "their referrers");
	struct mv_refindex *ri = calloc(1, sizeof(*ri));
	struct build b = {.h = h, .last = UINT32_MAX};
	uint64_t *buf = malloc(WINDOW);
	struct mv_error *err = NULL;
	if (!ri || !buf || !(b.ent = mv_big_calloc(n + 1, sizeof(*b.ent))) ||
	    !(b.again = mv_big_calloc(n / 64 + 1, sizeof(*b.again)))) {
		err = mv_enomem;
		goto out;
	}
	ri->h = h;
	ri->n = n;
	if (!n)
		goto out;
	if ((err = mv_chunk_dir_create(h, &b.dir)))
		goto out;
	struct mv_chunk first, last;
	mv_heap_chunk(h, 0, &first);
	mv_heap_chunk(h, n - 1, &last);
	b.lo = first.start;
	b.hi = last.start + last.size;
	for (size_t i = 0; i < n && !err; i++)
		err = scan_holder(&b, t, i, n, buf, progress, progress_arg,
				  poll, poll_arg);
	if (err || !b.nmany || (err = lay_out(&b, ri)))
		goto out;
	for (size_t w = 0; w <= n / 64 && !err; w++)
		for (uint64_t m = b.again[w]; m && !err; m &= m - 1)
			err = scan_holder(&b, t, w * 64 + (size_t)
					  __builtin_ctzll(m), n, buf, progress,
					  progress_arg, poll, poll_arg);
	if (!err)
		point_at_runs(&b, ri);
out:
	mv_chunk_dir_destroy(b.dir);
	mv_big_free(b.many);
	mv_big_free(b.again);
	free(buf);
	if (ri) {
		ri->ent = b.ent;
		ri->nedges = b.nedges;
	} else {
		mv_big_free(b.ent);
	}
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
