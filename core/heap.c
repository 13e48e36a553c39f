/* heap.c - the generic half of the heap model: dispatch to an allocator
 * model, the chunks of the index (heap_index.c) with their arenas,
 * segments and notes.  Allocator knowledge lives in heap_<name>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap_internal.h"
#include "bounds.h"
#include "error.h"

static const struct mv_heap_ops *const models[] = {
	&mv_heap_glibc_ops,
	NULL,
};

/* Allocators over the main one, tried once it has opened. */
static const struct mv_heap_ops *const overlays[] = {
	&mv_heap_pymalloc_ops,
	&mv_heap_mimalloc_ops,
	&mv_heap_tcmalloc_ops,
	&mv_heap_jemalloc_ops,
	NULL,
};

const char *mv_heap_list_name(enum mv_heap_list list)
{
	static const char *const names[MV_LIST_COUNT_] = {
		[MV_LIST_NONE] = "none",
		[MV_LIST_TCACHE] = "tcache",
		[MV_LIST_FASTBIN] = "fastbin",
		[MV_LIST_UNSORTED] = "unsorted",
		[MV_LIST_SMALL] = "smallbin",
		[MV_LIST_LARGE] = "largebin",
		[MV_LIST_UNLISTED] = "free",
		[MV_LIST_POOL] = "pool",
		[MV_LIST_MI_FREE] = "page free",
		[MV_LIST_MI_LOCAL] = "local_free",
		[MV_LIST_MI_THREAD] = "thread_free",
		[MV_LIST_TC_THREAD] = "thread cache",
		[MV_LIST_TC_CENTRAL] = "transfer cache",
		[MV_LIST_TC_SPAN] = "span free list",
		[MV_LIST_TC_PAGES] = "free span",
		[MV_LIST_JE_SLAB] = "slab free",
	};
	return (unsigned)list < MV_LIST_COUNT_ ? names[list] : "?";
}

struct mv_error *mv_heap_poll(struct mv_heap *h)
{
	if (h->progress)
		h->progress(h->progress_arg, h->ix.n);
	if (h->poll && h->poll())
		return mv_error_interrupted(NULL, "nothing to answer from yet",
					    "indexing the heap (%zu chunks "
					    "so far)", h->ix.n);
	return NULL;
}

struct mv_error *mv_heap_add_arena(struct mv_heap *h,
				   const struct mv_heap_arena *a,
				   uint32_t *ret)
{
	if (h->narenas >= UINT16_MAX)
		return mv_error_create(MV_ERR_LIMIT, "too many arenas");
	struct mv_heap_arena *n =
		realloc(h->arenas, (h->narenas + 1) * sizeof(*n));
	if (!n)
		return mv_enomem;
	h->arenas = n;
	n[h->narenas] = *a;
	*ret = (uint32_t)h->narenas++;
	return NULL;
}

struct mv_error *mv_heap_add_segment(struct mv_heap *h,
				     const struct mv_heap_segment *s)
{
	struct mv_heap_segment *n =
		realloc(h->segments, (h->nsegments + 1) * sizeof(*n));
	if (!n)
		return mv_enomem;
	h->segments = n;
	n[h->nsegments++] = *s;
	return NULL;
}

struct mv_error *mv_heap_add_metadata(struct mv_heap *h, uint64_t start,
				      uint64_t end)
{
	if (end <= start)
		return NULL;
	struct mv_heap_range *n =
		realloc(h->metadata, (h->nmetadata + 1) * sizeof(*n));
	if (!n)
		return mv_enomem;
	h->metadata = n;
	n[h->nmetadata++] = (struct mv_heap_range){start, end};
	return NULL;
}

struct mv_error *mv_heap_note(struct mv_heap *h, const char *fmt, ...)
{
	/* Bounded: a heap full of garbage must not produce a million
	 * sentences; the count of the rest is given at the end. */
	if (!h->notes.max)
		mv_notes_init(&h->notes, MV_HEAP_MAX_NOTES);
	va_list ap;
	va_start(ap, fmt);
	bool ok = mv_notes_vadd(&h->notes, fmt, ap);
	va_end(ap);
	return ok ? NULL : mv_enomem;
}

void mv_heap_run_break(struct mv_heap *h, uint64_t start, uint64_t end,
		       uint32_t arena)
{
	if (h->run_end) {
		if (h->nruns == h->runs_cap) {
			size_t cap = h->runs_cap ? 2 * h->runs_cap : 64;
			struct mv_heap_run *r =
				realloc(h->runs, cap * sizeof(*r));
			if (!r) {
				/* Said by the next mv_heap_sort. */
				h->runs_enomem = true;
				return;
			}
			h->runs = r;
			h->runs_cap = cap;
		}
		h->runs[h->nruns++] = (struct mv_heap_run){
			h->run_start, h->run_end, h->run_arena, 0};
	}
	h->run_start = start;
	h->run_end = end;
	h->run_arena = arena;
}

static int run_cmp(const void *a, const void *b)
{
	const struct mv_heap_run *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Appends [start, end) of arena to the table being built in out[0..*n):
 * a run of the same arena right before it (nothing of another arena
 * between, in address order) grows instead. */
static void table_add(struct mv_heap_run *out, size_t *n, uint64_t start,
		      uint64_t end, uint32_t arena)
{
	struct mv_heap_run *l = *n ? &out[*n - 1] : NULL;
	if (l && l->arena == arena) {
		if (end > l->end)
			l->end = end;
		return;
	}
	out[(*n)++] = (struct mv_heap_run){start, end, arena, 0};
}

/* The latest of the runs active[0..n) (the one recorded last). */
static uint32_t latest_arena(const struct mv_heap_run *runs,
			     const size_t *active, size_t n)
{
	uint32_t arena = UINT16_MAX, seq = 0;
	for (size_t a = 0; a < n; a++)
		if (a == 0 || runs[active[a]].seq > seq) {
			seq = runs[active[a]].seq;
			arena = runs[active[a]].arena;
		}
	return arena;
}

/* Runs that overlap (an overlay's blocks where a main chunk was, or two
 * sources that disagree): each chunk of the sorted index, in address
 * order, takes the arena of the latest run holding its start. */
static struct mv_error *runs_by_chunk(struct mv_heap *h)
{
	enum { MAX_ACTIVE = 64 };
	size_t active[MAX_ACTIVE], nactive = 0, p = 0, n = 0;
	size_t cap = h->nruns ? h->nruns : 1;
	struct mv_heap_run *out = malloc(cap * sizeof(*out));
	if (!out)
		return mv_enomem;
	uint64_t s = h->ix.n ? mv_heap_start_at(h, 0) : 0;
	for (size_t i = 0; i < h->ix.n; i++) {
		if (i)
			s = mv_heap_next_start(h, i - 1, s);
		size_t k = 0;
		for (size_t a = 0; a < nactive; a++)
			if (h->runs[active[a]].end > s)
				active[k++] = active[a];
		nactive = k;
		for (; p < h->nruns && h->runs[p].start <= s; p++) {
			if (h->runs[p].end <= s)
				continue;
			/* Runs nested 64 deep are garbage: the oldest
			 * gives way. */
			if (nactive == MAX_ACTIVE)
				memmove(active, active + 1,
					--nactive * sizeof(*active));
			active[nactive++] = p;
		}
		if (n == cap) {
			struct mv_heap_run *o =
				realloc(out, 2 * cap * sizeof(*o));
			if (!o) {
				free(out);
				return mv_enomem;
			}
			out = o;
			cap *= 2;
		}
		table_add(out, &n, s, s + mv_heap_size_at(h, i),
			  latest_arena(h->runs, active, nactive));
	}
	free(h->runs);
	h->runs = out;
	h->runs_cap = cap;
	h->nruns = h->runs_table = n;
	return NULL;
}

/* The runs recorded since the last sort join the table (the index is
 * sorted, without overlaps). */
static struct mv_error *runs_settle(struct mv_heap *h)
{
	mv_heap_run_break(h, 0, 0, 0); /* the open run is recorded */
	if (h->runs_enomem)
		return mv_enomem;
	if (h->nruns == h->runs_table)
		return NULL;
	for (size_t i = 0; i < h->nruns; i++)
		h->runs[i].seq = (uint32_t)i;
	qsort(h->runs, h->nruns, sizeof(*h->runs), run_cmp);
	for (size_t i = 1; i < h->nruns; i++)
		if (h->runs[i - 1].end > h->runs[i].start)
			return runs_by_chunk(h);
	size_t n = 0;
	for (size_t i = 0; i < h->nruns; i++) {
		struct mv_heap_run r = h->runs[i];
		table_add(h->runs, &n, r.start, r.end, r.arena);
	}
	h->nruns = h->runs_table = n;
	return NULL;
}

uint32_t mv_heap_arena_at(const struct mv_heap *h, uint64_t address,
			  uint64_t *next)
{
	size_t lo = 0, hi = h->runs_table;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->runs[mid].start <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (next)
		*next = lo < h->runs_table ? h->runs[lo].start : UINT64_MAX;
	if (!lo || address >= h->runs[lo - 1].end)
		return UINT16_MAX;
	return h->runs[lo - 1].arena;
}

struct mv_error *mv_heap_sort(struct mv_heap *h)
{
	struct mv_error *err = mv_heap_sort_index(h);
	if (err)
		return err;
	h->nsorted = h->ix.n;
	return runs_settle(h);
}

/* Index of the last entry starting at or below address, or SIZE_MAX. */
static size_t entry_floor(struct mv_heap *h, uint64_t address)
{
	uint64_t start;
	return mv_heap_floor(h, address, &start);
}

size_t mv_heap_entry_at(struct mv_heap *h, uint64_t start)
{
	size_t i = entry_floor(h, start);
	if (i != SIZE_MAX && mv_heap_start_at(h, i) == start)
		return i;
	return SIZE_MAX;
}

/* Chunk i's start; a loop that asks for every chunk in order from the
 * first (a scan of the heap's blocks) takes a step from the one asked
 * before, whatever it looks up at random meanwhile (those calls leave
 * the step where it was). */
static uint64_t start_seq(struct mv_heap *h, size_t i)
{
	if (h->seq_ok && i == h->seq_i)
		return h->seq_start;
	uint64_t start;
	if (h->seq_ok && i == h->seq_i + 1)
		start = mv_heap_next_start(h, h->seq_i, h->seq_start);
	else
		start = mv_heap_start_at(h, i);
	if (!h->seq_ok || i == h->seq_i + 1 || !i) {
		h->seq_i = i;
		h->seq_start = start;
		h->seq_ok = true;
	}
	return start;
}

static void fill_chunk(struct mv_heap *h, size_t i, struct mv_chunk *ret)
{
	uint64_t size = mv_heap_size_at(h, i), start = start_seq(h, i);
	uint32_t flags = mv_heap_flags_at(h, i);
	ret->start = start;
	ret->mem = start + (flags & MV_CHUNK_NO_HEADER ? 0 : 16);
	ret->size = size;
	ret->usable = mv_heap_usable(size, flags);
	ret->flags = flags;
	ret->arena = mv_heap_arena_at(h, start, NULL);
}

/* A lazy heap's own arrays. */
static void lazy_free(struct mv_heap *h)
{
	free(h->heap_segs);
	free(h->heap_seg_bytes);
	free(h->quick);
	free(h->quick_list);
	free(h->tcache_blocks);
	free(h->odd_bits);
	h->heap_segs = NULL;
	h->heap_seg_bytes = NULL;
	h->quick = NULL;
	h->quick_list = NULL;
	h->tcache_blocks = NULL;
	h->odd_bits = NULL;
	h->odd_mask = 0;
	h->nheap_segs = h->nquick = h->quick_cap = h->ntcache_blocks = 0;
	h->heap_seg_last = 0;
}

static void heap_free_fields(struct mv_heap *h)
{
	lazy_free(h);
	free(h->description);
	free(h->limit_note);
	free(h->gaps);
	mv_heap_index_free(&h->ix);
	free(h->runs);
	free(h->arenas);
	free(h->segments);
	free(h->metadata);
	free(h->bins);
	free(h->bin_chunks);
	mv_notes_deinit(&h->notes);
}

static void heap_free(struct mv_heap *h)
{
	if (!h)
		return;
	heap_free_fields(h);
	free(h);
}

static struct mv_error *limit_note(struct mv_heap *h)
{
	unsigned long long n = h->max_chunks;
	if (asprintf(&h->limit_note, "heap index stopped at %llu chunks "
				     "(--max-heap-chunks %llu): chunks past "
				     "it are not seen; lift with "
				     "--max-heap-chunks 0", n, n) < 0) {
		h->limit_note = NULL;
		return mv_enomem;
	}
	return NULL;
}

/* Each overlay model adds its blocks to the index the main model
 * built; one that is not there is no error. */
static struct mv_error *open_overlays(struct mv_heap *h,
				      const struct mv_heap_options *o)
{
	if (o->flags & MV_HEAP_NO_OVERLAYS)
		return NULL;
	for (const struct mv_heap_ops *const *m = overlays; *m; m++) {
		if (h->stopped)
			break;
		struct mv_error *err = (*m)->open(h, o);
		/* --allocator NAME: that model must be found. */
		const char *needed =
			*m == &mv_heap_pymalloc_ops &&
					(o->flags & MV_HEAP_NEED_PYMALLOC)
				? "pymalloc: no CPython pymalloc"
			: *m == &mv_heap_mimalloc_ops &&
					(o->flags & MV_HEAP_NEED_MIMALLOC)
				? "mimalloc: no mimalloc"
			: *m == &mv_heap_tcmalloc_ops &&
					(o->flags & MV_HEAP_NEED_TCMALLOC)
				? "tcmalloc: no tcmalloc"
			: *m == &mv_heap_jemalloc_ops &&
					(o->flags & MV_HEAP_NEED_JEMALLOC)
				? "jemalloc: no jemalloc"
				: NULL;
		if (err && mv_error_code(err) == MV_ERR_NOT_FOUND && needed) {
			struct mv_error *e = mv_error_create(
				MV_ERR_NOT_FOUND,
				"--allocator %s heap found (%s)", needed,
				mv_error_message(err));
			mv_error_destroy(err);
			return e;
		}
		if (err && mv_error_code(err) == MV_ERR_NOT_FOUND) {
			mv_error_destroy(err);
			continue;
		}
		if (!err)
			err = mv_heap_sort(h);
		if (err)
			return err;
	}
	return NULL;
}

/* Lazy only where the whole index's answers cannot differ: no bound
 * given but the default or none (a cut index answers "not indexed"),
 * no test's range, and no overlay model that could take chunks over. */
static bool may_be_lazy(struct mv_program *p, const struct mv_heap_options *o)
{
	if (o->range_end ||
	    (o->max_chunks && o->max_chunks != MV_HEAP_NO_LIMIT) ||
	    (o->flags & (MV_HEAP_NEED_PYMALLOC | MV_HEAP_NEED_MIMALLOC |
			 MV_HEAP_NEED_TCMALLOC | MV_HEAP_NEED_JEMALLOC)))
		return false;
	if (o->flags & MV_HEAP_NO_OVERLAYS)
		return true;
	return !mv_program_find_symbol(p, "PyObject_Malloc", NULL, NULL) &&
	       !mv_program_find_symbol(p, "mi_malloc", NULL, NULL) &&
	       !mv_program_find_symbol(p, "mi_version", NULL, NULL) &&
	       !mv_program_find_symbol(p, "tc_version", NULL, NULL) &&
	       !mv_program_find_symbol(p, "mallctl", NULL, NULL);
}

struct mv_error *mv_heap_open_with(struct mv_program *p,
				   const struct mv_heap_options *o,
				   mv_poll_fn poll, struct mv_heap **ret)
{
	struct mv_target *t = mv_program_target(p);
	if (!t)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory to find a heap in: open a "
				       "core or a process");
	struct mv_heap_options none = {0};
	if (!o)
		o = &none;
	struct mv_heap_options lo;
	if ((o->flags & MV_HEAP_LAZY) && !may_be_lazy(p, o)) {
		lo = *o;
		lo.flags &= ~(uint32_t)MV_HEAP_LAZY;
		o = &lo;
	}
	struct mv_error *first = NULL;
	for (const struct mv_heap_ops *const *m = models; *m; m++) {
		struct mv_heap *h = calloc(1, sizeof(*h));
		if (!h)
			return mv_enomem;
		h->ops = *m;
		h->program = p;
		h->target = t;
		h->poll = poll;
		h->progress = o->progress;
		h->progress_arg = o->progress_arg;
		h->record_bins = o->flags & MV_HEAP_RECORD_BINS;
		h->max_chunks = o->max_chunks ? o->max_chunks
					       : mv_limits_max_heap_chunks();
		h->opts = *o;
		struct mv_error *err = (*m)->open(h, o);
		if (!err)
			err = mv_heap_sort(h);
		/* A lazy heap is one only where no overlay can be. */
		if (!err && !o->range_end && !h->lazy)
			err = open_overlays(h, o);
		if (!err && h->stopped)
			err = limit_note(h);
		if (!err)
			err = mv_heap_trim(h);
		if (!err) {
			mv_error_destroy(first);
			*ret = h;
			return NULL;
		}
		heap_free(h);
		if (mv_error_code(err) != MV_ERR_NOT_FOUND) {
			mv_error_destroy(first);
			return err;
		}
		if (!first)
			first = err;
		else
			mv_error_destroy(err);
	}
	/* No main model's heap (glibc's malloc never ran: mimalloc took
	 * its place, and without libc6-dbg its heap is not found): the
	 * overlays alone, if one of them is there. */
	if (first && !o->range_end && !(o->flags & MV_HEAP_NO_OVERLAYS)) {
		struct mv_heap *h = calloc(1, sizeof(*h));
		if (!h) {
			mv_error_destroy(first);
			return mv_enomem;
		}
		h->ops = models[0];
		h->program = p;
		h->target = t;
		h->poll = poll;
		h->progress = o->progress;
		h->progress_arg = o->progress_arg;
		h->max_chunks = o->max_chunks ? o->max_chunks
					       : mv_limits_max_heap_chunks();
		h->description = strdup(mv_error_message(first));
		if (!h->description) {
			heap_free(h);
			mv_error_destroy(first);
			return mv_enomem;
		}
		struct mv_error *err = open_overlays(h, o);
		if (!err && h->stopped)
			err = limit_note(h);
		if (!err && h->narenas)
			err = mv_heap_trim(h);
		if (!err && h->narenas) {
			mv_error_destroy(first);
			*ret = h;
			return NULL;
		}
		heap_free(h);
		if (err && mv_error_code(err) != MV_ERR_NOT_FOUND) {
			mv_error_destroy(first);
			return err;
		}
		mv_error_destroy(err);
	}
	return first ? first
		     : mv_error_create(MV_ERR_NOT_FOUND, "no heap model");
}

struct mv_error *mv_heap_open_lazy(struct mv_program *p, uint64_t max_chunks,
				   mv_poll_fn poll, struct mv_heap **ret)
{
	struct mv_heap_options o = {.flags = MV_HEAP_LAZY,
				    .max_chunks = max_chunks};
	return mv_heap_open_with(p, &o, poll, ret);
}

bool mv_heap_is_lazy(struct mv_heap *h)
{
	return h->lazy;
}

struct mv_error *mv_heap_complete(struct mv_heap *h)
{
	if (!h->lazy)
		return NULL;
	struct mv_heap_options o = h->opts;
	o.flags &= ~(uint32_t)MV_HEAP_LAZY;
	struct mv_heap *full;
	struct mv_error *err = mv_heap_open_with(h->program, &o, h->poll,
						 &full);
	if (err)
		return err;
	/* In place: the session and the walk hold h. */
	heap_free_fields(h);
	*h = *full;
	free(full);
	return NULL;
}

/* The accessors that need every chunk. */
static bool whole(struct mv_heap *h)
{
	if (!h->lazy)
		return true;
	struct mv_error *err = mv_heap_complete(h);
	if (!err)
		return true;
	mv_error_destroy(err);
	return false;
}

struct mv_error *mv_heap_lookup(struct mv_heap *h, uint64_t address,
				struct mv_chunk *ret, bool *found)
{
	if (h->lazy) {
		int r = h->ops->lazy_find ? h->ops->lazy_find(h, address, ret)
					  : -1;
		if (r >= 0) {
			*found = r;
			return NULL;
		}
		struct mv_error *err = mv_heap_complete(h);
		if (err)
			return err;
	}
	*found = mv_heap_find_chunk(h, address, ret);
	return NULL;
}

/* A lazy heap's mmapped chunk holding address: its entries are those. */
bool mv_heap_lazy_mmapped(struct mv_heap *h, uint64_t address,
			  struct mv_chunk *ret)
{
	size_t i = entry_floor(h, address);
	if (i == SIZE_MAX ||
	    address - mv_heap_start_at(h, i) >= mv_heap_size_at(h, i))
		return false;
	fill_chunk(h, i, ret);
	return true;
}

struct mv_error *mv_heap_open(struct mv_program *p, mv_poll_fn poll,
			      struct mv_heap **ret)
{
	return mv_heap_open_with(p, NULL, poll, ret);
}

struct mv_error *mv_heap_open_max(struct mv_program *p, uint64_t max_chunks,
				  mv_poll_fn poll, struct mv_heap **ret)
{
	struct mv_heap_options o = {.max_chunks = max_chunks};
	return mv_heap_open_with(p, &o, poll, ret);
}

struct mv_error *mv_heap_open_range(struct mv_program *p, uint64_t start,
				    uint64_t end, mv_poll_fn poll,
				    struct mv_heap **ret)
{
	if (end <= start)
		return mv_error_create(MV_ERR_INVALID, "empty heap range");
	struct mv_heap_options o = {
		.flags = MV_HEAP_IGNORE_SYMBOLS,
		.range_start = start,
		.range_end = end,
	};
	return mv_heap_open_with(p, &o, poll, ret);
}

void mv_heap_destroy(struct mv_heap *h)
{
	heap_free(h);
}

const char *mv_heap_description(struct mv_heap *h)
{
	return h->description ? h->description : h->ops->name;
}

bool mv_heap_find_chunk(struct mv_heap *h, uint64_t address,
			struct mv_chunk *ret)
{
	if (!whole(h))
		return false;
	size_t i = mv_heap_chunk_index(h, address);
	if (i == SIZE_MAX)
		return false;
	fill_chunk(h, i, ret);
	return true;
}

size_t mv_heap_chunk_count(struct mv_heap *h)
{
	if (!whole(h))
		return 0;
	return h->ix.n;
}

bool mv_heap_chunk(struct mv_heap *h, size_t index, struct mv_chunk *ret)
{
	if (!whole(h))
		return false;
	if (index >= h->ix.n)
		return false;
	fill_chunk(h, index, ret);
	return true;
}

size_t mv_heap_chunk_index(struct mv_heap *h, uint64_t address)
{
	if (!whole(h))
		return SIZE_MAX;
	return mv_heap_index_holding(h, h->ix.n, address, NULL);
}

const char *mv_heap_limit_note(struct mv_heap *h)
{
	/* A lazy heap is never cut: it reads what is asked for. */
	return h->limit_note;
}

static bool add_gap(struct mv_heap *h, uint64_t start, uint64_t end,
		    size_t *cap)
{
	if (start >= end)
		return true;
	if (h->ngaps == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct mv_heap_gap *g = realloc(h->gaps, c * sizeof(*g));
		if (!g)
			return false;
		h->gaps = g;
		*cap = c;
	}
	h->gaps[h->ngaps++] = (struct mv_heap_gap){start, end};
	h->gap_bytes += end - start;
	return true;
}

/* Each segment less the indexed chunks in it: one pass over the sorted
 * index per segment, from the first entry at or after its start. */
static struct mv_error *find_gaps(struct mv_heap *h)
{
	size_t cap = 0;
	for (size_t s = 0; s < h->nsegments; s++) {
		const struct mv_heap_segment *seg = &h->segments[s];
		size_t i = mv_heap_lower_bound(h, seg->start);
		uint64_t at = seg->first_chunk > seg->start ? seg->first_chunk
							    : seg->start;
		uint64_t start = i < h->ix.n ? mv_heap_start_at(h, i) : 0;
		for (; i < h->ix.n && start < seg->end; i++) {
			if (start > at && !add_gap(h, at, start, &cap))
				return mv_enomem;
			uint64_t end = start + mv_heap_size_at(h, i);
			if (end > at)
				at = end;
			if (i + 1 < h->ix.n)
				start = mv_heap_next_start(h, i, start);
		}
		if (at < seg->end && !add_gap(h, at, seg->end, &cap))
			return mv_enomem;
	}
	return NULL;
}

struct mv_error *mv_heap_unindexed(struct mv_heap *h,
				   const struct mv_heap_gap **ret, size_t *n,
				   uint64_t *bytes)
{
	if (h->stopped && !h->gaps_done) {
		struct mv_error *err = find_gaps(h);
		if (err) {
			free(h->gaps);
			h->gaps = NULL;
			h->ngaps = 0;
			h->gap_bytes = 0;
			return err;
		}
	}
	h->gaps_done = true;
	if (ret)
		*ret = h->gaps;
	if (n)
		*n = h->ngaps;
	if (bytes)
		*bytes = h->gap_bytes;
	return NULL;
}

size_t mv_heap_notes(struct mv_heap *h, const char *const **ret)
{
	if (!whole(h)) {
		*ret = NULL;
		return 0;
	}
	return mv_notes_get(&h->notes, ret);
}

const struct mv_heap_arena *mv_heap_arenas(struct mv_heap *h, size_t *n)
{
	*n = h->narenas;
	return h->arenas;
}

const struct mv_heap_segment *mv_heap_segments(struct mv_heap *h, size_t *n)
{
	if (!whole(h)) {
		*n = 0;
		return NULL;
	}
	*n = h->nsegments;
	return h->segments;
}

bool mv_heap_with_symbols(struct mv_heap *h)
{
	return h->with_symbols;
}

/* ---- free lists in order (heap --bins) ---- */

const struct mv_heap_bin *mv_heap_bins(struct mv_heap *h, size_t *n)
{
	*n = h->nbins;
	return h->bins;
}

const uint64_t *mv_heap_bin_chunks(struct mv_heap *h)
{
	return h->bin_chunks;
}

struct mv_error *mv_heap_bin_begin(struct mv_heap *h, enum mv_heap_list list,
				   uint32_t arena, uint32_t index,
				   uint64_t owner, int64_t count)
{
	if (!h->record_bins)
		return NULL;
	if (h->nbins == h->bins_cap) {
		size_t cap = h->bins_cap ? 2 * h->bins_cap : 64;
		struct mv_heap_bin *b = realloc(h->bins, cap * sizeof(*b));
		if (!b)
			return mv_enomem;
		h->bins = b;
		h->bins_cap = cap;
	}
	h->bins[h->nbins++] = (struct mv_heap_bin){
		.list = (uint8_t)list, .arena = arena, .index = index,
		.owner = owner, .count = count, .first = h->nbin_chunks};
	return NULL;
}

struct mv_error *mv_heap_bin_add(struct mv_heap *h, uint64_t chunk)
{
	if (!h->record_bins || !h->nbins)
		return NULL;
	if (h->nbin_chunks == h->bin_chunks_cap) {
		size_t cap = h->bin_chunks_cap ? 2 * h->bin_chunks_cap : 256;
		uint64_t *c = realloc(h->bin_chunks, cap * sizeof(*c));
		if (!c)
			return mv_enomem;
		h->bin_chunks = c;
		h->bin_chunks_cap = cap;
	}
	h->bin_chunks[h->nbin_chunks++] = chunk;
	h->bins[h->nbins - 1].n++;
	return NULL;
}

void mv_heap_bin_end(struct mv_heap *h, bool cut)
{
	if (!h->record_bins || !h->nbins)
		return;
	struct mv_heap_bin *b = &h->bins[h->nbins - 1];
	b->cut = cut;
	/* An empty list that agrees with its count says nothing. */
	if (!b->n && !cut && b->count <= 0)
		h->nbins--;
}
