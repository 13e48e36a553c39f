/* heap_index.c - the packed chunk index (struct mv_heap_index): built as
 * the models add chunks, 4 bytes a chunk, sorted by merging its ascending
 * runs into a new index while the old one is given back as it is read,
 * and looked up by address. */
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"
#include "error.h"

/* Room for one more in *a (of *cap elements of size bytes, n used). */
static bool grow(void **a, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? 2 * *cap : 64;
	void *g = mv_big_realloc(*a, c, size);
	if (!g)
		return false;
	*a = g;
	*cap = c;
	return true;
}

bool mv_heap_index_put(struct mv_heap_index *x, uint64_t start,
		       uint64_t size, uint32_t attr)
{
	size_t i = x->n;
	bool gap = !i || start != x->next_at;
	bool big = (size >> 3) >= MV_PK_SIZE_BIG;
	if ((gap && !grow((void **)&x->gapst, x->ngaps, &x->gaps_cap,
			  sizeof(*x->gapst))) ||
	    (big && !grow((void **)&x->bigs, x->nbigs, &x->bigs_cap,
			  sizeof(*x->bigs))))
		return false;
	if (i && start <= x->last_start)
		x->unsorted = true;
	else if (i && start < x->last_end)
		x->overlaps = true;
	if (!(i & (MV_PK_GROUP - 1))) {
		x->gstart[i >> MV_PK_GROUP_SHIFT] = start;
		x->grank[i >> MV_PK_GROUP_SHIFT] = (uint32_t)x->ngaps;
	}
	if (gap)
		x->gapst[x->ngaps++] = start;
	if (big)
		x->bigs[x->nbigs++] = (struct mv_heap_big){i, size};
	x->meta[i] = attr | (gap ? MV_PK_GAP : 0) |
		     (uint32_t)(big ? MV_PK_SIZE_BIG : size >> 3)
			     << MV_PK_SIZE_SHIFT;
	x->n = i + 1;
	x->last_start = start;
	x->last_end = start + size;
	/* After a big one, a chunk's start is kept: sums of sizes in a
	 * group then never meet a SIZE_BIG. */
	x->next_at = big || !size ? UINT64_MAX : start + size;
	return true;
}

/* Room for n chunks in x: its words and its groups. */
static bool index_room(struct mv_heap_index *x, size_t n)
{
	if (n <= x->cap)
		return true;
	size_t ng = (n >> MV_PK_GROUP_SHIFT) + 1;
	uint32_t *m = mv_big_realloc(x->meta, n, sizeof(*m));
	if (!m)
		return false;
	x->meta = m;
	uint64_t *gs = mv_big_realloc(x->gstart, ng, sizeof(*gs));
	if (!gs)
		return false;
	x->gstart = gs;
	uint32_t *gr = mv_big_realloc(x->grank, ng, sizeof(*gr));
	if (!gr)
		return false;
	x->grank = gr;
	x->cap = n;
	return true;
}

void mv_heap_index_free(struct mv_heap_index *x)
{
	mv_big_free(x->meta);
	mv_big_free(x->gstart);
	mv_big_free(x->grank);
	mv_big_free(x->gapst);
	mv_big_free(x->bigs);
	memset(x, 0, sizeof(*x));
}

struct mv_error *mv_heap_reserve(struct mv_heap *h, size_t n)
{
	/* A big index is a few huge-page faults, not thousands of small
	 * ones: faults were most of what indexing a million chunks cost. */
	return index_room(&h->ix, n) ? NULL : mv_enomem;
}

struct mv_error *mv_heap_add_chunk_slow(struct mv_heap *h, uint64_t start,
					uint64_t size, uint32_t flags,
					enum mv_heap_list list, uint32_t arena)
{
	if (h->ix.n >= h->max_chunks) {
		h->stopped = true;
		return NULL;
	}
	if (h->ix.n == h->ix.cap) {
		size_t cap = h->ix.cap ? h->ix.cap * 2 : 4096;
		if (cap > h->max_chunks)
			cap = (size_t)h->max_chunks;
		struct mv_error *err = mv_heap_reserve(h, cap);
		if (err)
			return err;
	}
	if (start >= MV_ENTRY_START_END)
		return mv_heap_note(h, "chunk at 0x%llx: above the 48-bit "
				       "address space the index holds; not "
				       "indexed", (unsigned long long)start);
	uint64_t size16 = size >> 4;
	if (size16 > UINT32_MAX) {
		struct mv_error *err = mv_heap_note(
			h, "chunk at 0x%llx: size 0x%llx is too large to index; "
			   "clamped to 64 GiB",
			(unsigned long long)start, (unsigned long long)size);
		if (err)
			return err;
		size16 = UINT32_MAX;
	}
	if (!mv_heap_store_chunk(h, start, (uint32_t)size16, flags, list,
				 arena > UINT16_MAX ? UINT16_MAX
						    : (uint16_t)arena))
		return mv_enomem;
	return NULL;
}

struct mv_error *mv_heap_trim(struct mv_heap *h)
{
	struct mv_heap_index *x = &h->ix;
	if (x->n >= UINT32_MAX)
		return mv_error_create(MV_ERR_LIMIT, "more than 2^32 chunks");
	size_t ng = (x->n >> MV_PK_GROUP_SHIFT) + 1;
	x->meta = mv_big_shrink(x->meta, x->n * sizeof(*x->meta));
	x->gstart = mv_big_shrink(x->gstart, ng * sizeof(*x->gstart));
	x->grank = mv_big_shrink(x->grank, ng * sizeof(*x->grank));
	x->gapst = mv_big_shrink(x->gapst, x->ngaps * sizeof(*x->gapst));
	x->cap = x->n;
	x->gaps_cap = x->ngaps;
	return NULL;
}

/* ---- sorting: a merge of the ascending runs ---- */

/* A reader of an index in order: the chunk read (i), its start, size
 * and word, and the ranks in gapst and bigs of the chunks after it. */
struct cursor {
	size_t i, gap, big;
	uint64_t start, size;
	uint32_t word;
};

/* Reads chunk c->i, c holding the chunk before's start and size (the
 * first chunk of an index, and of a run, is a GAP). */
static inline void cursor_read(const struct mv_heap_index *x,
			       struct cursor *c)
{
	uint32_t w = x->meta[c->i];
	c->start = w & MV_PK_GAP ? x->gapst[c->gap++] : c->start + c->size;
	uint32_t s = w >> MV_PK_SIZE_SHIFT;
	c->size = s == MV_PK_SIZE_BIG ? x->bigs[c->big++].size
				      : (uint64_t)s << 3;
	c->word = w;
}

static inline void cursor_next(const struct mv_heap_index *x,
			       struct cursor *c, size_t end)
{
	if (++c->i < end)
		cursor_read(x, c);
}

/* Chunks [start, end) of the index being sorted, left out. */
struct drop {
	size_t start, end;
};

/* Runs merged at once: a pass over an index of more runs (chunks added
 * in no order: a garbage allocator state) leaves one run per this many,
 * and the next pass merges those. */
enum { MERGE_WAYS = 1024 };
/* Bytes of the old index read before they are given back. */
#define GIVE_BACK_STEP ((size_t)2 << 20)

struct merge_run {
	struct cursor c; /* at its chunk to write next */
	size_t end;      /* its chunks end there */
	size_t meta_back, gaps_back; /* bytes given back so far */
};

struct merge {
	struct mv_heap *h;
	struct mv_heap_index *in, out;
	bool last;       /* the last pass: overlaps are dropped */
	size_t written;
	struct merge_run *r;
	struct merge_run **q;
};

/* The ascending runs of m->in (starts never below the one before) from
 * the chunk c has read, at most MERGE_WAYS, into m->r, leaving out the
 * drops (from *d on); c moves to the first chunk after them (past the
 * end: all read). */
static size_t scan_runs(struct merge *m, struct cursor *c,
			const struct drop *drops, size_t ndrops, size_t *d)
{
	const struct mv_heap_index *in = m->in;
	size_t k = 0;
	bool open = false;
	uint64_t prev = 0;
	while (c->i < in->n) {
		while (*d < ndrops && drops[*d].end <= c->i)
			++*d;
		bool dropped = *d < ndrops && drops[*d].start <= c->i;
		/* Chunks at one address stay in one run, in the order
		 * added: a pass over runs of those would make as many. */
		if (open && (dropped || c->start < prev)) {
			m->r[k - 1].end = c->i;
			open = false;
		}
		if (!open && !dropped) {
			if (k == MERGE_WAYS)
				return k;
			m->r[k++] = (struct merge_run){
				.c = *c,
				.meta_back = c->i * sizeof(*in->meta),
				.gaps_back = c->gap * sizeof(*in->gapst),
			};
			open = true;
		}
		prev = c->start;
		cursor_next(in, c, in->n);
	}
	if (open)
		m->r[k - 1].end = c->i;
	return k;
}

/* Chunk a before chunk b: by start, then in the order added. */
static inline bool run_before(const struct merge_run *a,
			      const struct merge_run *b)
{
	return a->c.start < b->c.start || (a->c.start == b->c.start && a < b);
}

static void sift_down(struct merge_run **q, size_t n, size_t k)
{
	for (;;) {
		size_t l = 2 * k + 1, s = k;
		if (l < n && run_before(q[l], q[s]))
			s = l;
		if (l + 1 < n && run_before(q[l + 1], q[s]))
			s = l + 1;
		if (s == k)
			return;
		struct merge_run *t = q[k];
		q[k] = q[s];
		q[s] = t;
		k = s;
	}
}

/* Writes the chunk c has read to the new index; in the last pass, one
 * starting inside the chunk before is left out with a note (two
 * sources disagree, say a corrupt arena pointing a heap into another:
 * the first in address order is kept; of two at one address, even an
 * empty one, the first added). */
static struct mv_error *merge_write(struct merge *m, const struct cursor *c)
{
	struct mv_heap_index *o = &m->out;
	if (m->last && o->n &&
	    (c->start < o->last_end || c->start == o->last_start))
		return mv_heap_note(m->h, "chunk at 0x%llx overlaps the chunk "
					  "at 0x%llx; ignored",
				    (unsigned long long)c->start,
				    (unsigned long long)o->last_start);
	if (!mv_heap_index_add(o, c->start, c->size, c->word & MV_PK_ATTR))
		return mv_enomem;
	if (++m->written % (1u << 20) == 0)
		return mv_heap_poll(m->h);
	return NULL;
}

/* What run a has read of the old index is given back. */
static void give_back(struct merge *m, struct merge_run *a)
{
	size_t mb = a->c.i * sizeof(*m->in->meta);
	size_t gb = a->c.gap * sizeof(*m->in->gapst);
	if (mb - a->meta_back >= GIVE_BACK_STEP)
		a->meta_back = mv_big_release(m->in->meta, a->meta_back, mb);
	if (gb - a->gaps_back >= GIVE_BACK_STEP)
		a->gaps_back = mv_big_release(m->in->gapst, a->gaps_back, gb);
}

/* Merges runs r[0..k) into m->out: from the first in order, every chunk
 * before the next run's (a heap's chunks, one after another). */
static struct mv_error *merge_runs(struct merge *m, size_t k)
{
	struct merge_run **q = m->q;
	for (size_t i = 0; i < k; i++)
		q[i] = &m->r[i];
	for (size_t i = k / 2; i-- > 0;)
		sift_down(q, k, i);
	size_t n = k;
	while (n) {
		struct merge_run *a = q[0];
		const struct merge_run *b = NULL;
		if (n > 1)
			b = n > 2 && run_before(q[2], q[1]) ? q[2] : q[1];
		do {
			struct mv_error *err = merge_write(m, &a->c);
			if (err)
				return err;
			cursor_next(m->in, &a->c, a->end);
		} while (a->c.i < a->end && (!b || run_before(a, b)));
		give_back(m, a);
		if (a->c.i == a->end)
			q[0] = q[--n];
		sift_down(q, n, 0);
	}
	return NULL;
}

/* One pass: the runs of m->in merged, MERGE_WAYS at a time, into
 * m->out, the drops (chunks of m->in) left out.  m->last: it was one
 * merge, so m->out is sorted. */
static struct mv_error *merge_pass(struct merge *m, const struct drop *drops,
				   size_t ndrops)
{
	struct mv_heap_index *in = m->in;
	if (!index_room(&m->out, in->n))
		return mv_enomem;
	/* Lookups are done: the groups are made again as chunks go out. */
	mv_big_free(in->gstart);
	mv_big_free(in->grank);
	in->gstart = NULL;
	in->grank = NULL;
	struct cursor c = {0};
	if (in->n)
		cursor_read(in, &c);
	size_t d = 0, meta_back = 0, gaps_back = 0;
	m->last = true;
	for (bool first = true; c.i < in->n; first = false) {
		size_t k = scan_runs(m, &c, drops, ndrops, &d);
		m->last = first && c.i >= in->n;
		struct mv_error *err = merge_runs(m, k);
		if (err)
			return err;
		/* All read before c's chunk (copied into the next window's
		 * first run): runs too short for give_back's steps. */
		meta_back = mv_big_release(in->meta, meta_back,
					   c.i * sizeof(*in->meta));
		gaps_back = mv_big_release(in->gapst, gaps_back,
					   c.gap * sizeof(*in->gapst));
	}
	return NULL;
}

/* Sorts h's index, leaving out drops (sorted, disjoint): passes of
 * merge_pass into a new index each, the old one given back as it is
 * read.  On an error the index is lost (the heap is given up). */
static struct mv_error *rebuild(struct mv_heap *h, const struct drop *drops,
				size_t ndrops)
{
	struct merge m = {.h = h, .in = &h->ix};
	m.r = malloc(MERGE_WAYS * sizeof(*m.r));
	m.q = malloc(MERGE_WAYS * sizeof(*m.q));
	struct mv_error *err = m.r && m.q ? NULL : mv_enomem;
	for (bool last = false; !err && !last;) {
		memset(&m.out, 0, sizeof(m.out));
		err = merge_pass(&m, drops, ndrops);
		last = m.last;
		drops = NULL;
		ndrops = 0;
		mv_heap_index_free(&h->ix);
		h->ix = m.out;
	}
	free(m.r);
	free(m.q);
	return err;
}

struct mv_error *mv_heap_sort_index(struct mv_heap *h)
{
	if (!h->ix.unsorted && !h->ix.overlaps)
		return NULL;
	return rebuild(h, NULL, 0);
}

/* ---- lookups ---- */

/* The last of chunks [0, n) starting at or below address, as
 * mv_heap_floor. */
static size_t floor_in(const struct mv_heap *h, size_t n, uint64_t address,
		       uint64_t *start)
{
	const uint64_t *gs = h->ix.gstart;
	size_t lo = 0, hi = (n + MV_PK_GROUP - 1) >> MV_PK_GROUP_SHIFT;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gs[mid] <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return SIZE_MAX;
	size_t i = (lo - 1) << MV_PK_GROUP_SHIFT;
	size_t end = i + MV_PK_GROUP < n ? i + MV_PK_GROUP : n;
	*start = gs[lo - 1];
	return mv_heap_step_to(h, i, end, address, start);
}

size_t mv_heap_floor(const struct mv_heap *h, uint64_t address,
		     uint64_t *start)
{
	return floor_in(h, h->ix.n, address, start);
}

size_t mv_heap_lower_bound(const struct mv_heap *h, uint64_t address)
{
	uint64_t s;
	size_t i = mv_heap_floor(h, address, &s);
	return i == SIZE_MAX ? 0 : s == address ? i : i + 1;
}

uint64_t mv_heap_big_size(const struct mv_heap *h, size_t i)
{
	const struct mv_heap_big *b = h->ix.bigs;
	size_t lo = 0, hi = h->ix.nbigs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b[mid].index < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->ix.nbigs && b[lo].index == i ? b[lo].size : 0;
}

uint64_t mv_heap_gap_start(const struct mv_heap *h, size_t i)
{
	size_t g = i >> MV_PK_GROUP_SHIFT, k = g << MV_PK_GROUP_SHIFT;
	if (k == i)
		return h->ix.gstart[g];
	uint32_t r = h->ix.grank[g];
	for (; k < i; k++)
		r += !!(h->ix.meta[k] & MV_PK_GAP);
	return h->ix.gapst[r];
}

uint64_t mv_heap_start_slow(const struct mv_heap *h, size_t i)
{
	size_t k = i & ~(size_t)(MV_PK_GROUP - 1), j = i;
	while (j > k && !(h->ix.meta[j] & MV_PK_GAP))
		j--;
	uint64_t s = mv_heap_gap_start(h, j);
	for (; j < i; j++)
		s += (uint64_t)(h->ix.meta[j] >> MV_PK_SIZE_SHIFT) << 3;
	return s;
}

/* ---- overlays taking over a main model's chunks ---- */

size_t mv_heap_index_holding(const struct mv_heap *h, size_t n,
			     uint64_t address, size_t *after)
{
	uint64_t start = 0;
	size_t i = floor_in(h, n, address, &start);
	if (i == SIZE_MAX || address - start >= mv_heap_size_at(h, i)) {
		if (after)
			*after = i == SIZE_MAX ? 0 : start == address ? i : i + 1;
		return SIZE_MAX;
	}
	/* A chunk's first 8 bytes (prev_size) are the user data of the
	 * chunk before it while that one is in use: malloc_usable_size()
	 * counts them, so a pointer to its last bytes lands there. */
	if (address - start < 8 && i > 0 &&
	    !(mv_heap_flags_at(h, i) & MV_CHUNK_NO_HEADER)) {
		uint32_t pf = mv_heap_flags_at(h, i - 1);
		if ((pf & MV_CHUNK_IN_USE) &&
		    !(pf & (MV_CHUNK_MMAPPED | MV_CHUNK_CORRUPT |
			    MV_CHUNK_NO_HEADER)) &&
		    mv_heap_start_at(h, i - 1) + mv_heap_size_at(h, i - 1) ==
			    start)
			return i - 1;
	}
	return i;
}

/* The chunks of [0, n) that span [s, e) takes: the one holding s, else
 * the first after it, and those after starting in the span. */
static struct drop span_chunks(const struct mv_heap *h, size_t n, uint64_t s,
			       uint64_t e)
{
	size_t first, i = mv_heap_index_holding(h, n, s, &first);
	if (i != SIZE_MAX)
		first = i;
	size_t last = 0;
	uint64_t at;
	if (e && (i = floor_in(h, n, e - 1, &at)) != SIZE_MAX)
		last = i + 1;
	return (struct drop){first, last > first ? last : first};
}

static int drop_cmp(const void *a, const void *b)
{
	const struct drop *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct mv_error *mv_heap_take_spans(struct mv_heap *h, const void *spans,
				    size_t n, size_t stride)
{
	size_t m = h->nsorted < h->ix.n ? h->nsorted : h->ix.n;
	if (!m || !n)
		return NULL;
	struct drop *d = malloc(n * sizeof(*d));
	if (!d)
		return mv_enomem;
	size_t nd = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t span[2];
		memcpy(span, (const char *)spans + k * stride, sizeof(span));
		struct drop r = span_chunks(h, m, span[0], span[1]);
		if (r.start < r.end)
			d[nd++] = r;
	}
	qsort(d, nd, sizeof(*d), drop_cmp);
	size_t out = 0;
	for (size_t k = 0; k < nd; k++) {
		if (out && d[k].start <= d[out - 1].end) {
			if (d[k].end > d[out - 1].end)
				d[out - 1].end = d[k].end;
			continue;
		}
		d[out++] = d[k];
	}
	struct mv_error *err = out ? rebuild(h, d, out) : NULL;
	free(d);
	if (!err && out)
		h->nsorted = h->ix.n;
	return err;
}
