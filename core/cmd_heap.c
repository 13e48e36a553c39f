/* cmd_heap.c - `heap`: the target's malloc heap - arenas, chunks in use
 * and free by list, a size histogram, the largest chunks, and what was
 * wrong with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap_internal.h"
#include "session.h"

/* What a chunk is, for counting: one column each. */
enum state {
	ST_IN_USE,
	ST_METADATA,
	ST_MMAPPED,
	ST_TCACHE,
	ST_FASTBIN,
	ST_UNSORTED,
	ST_SMALL,
	ST_LARGE,
	ST_UNLISTED,
	ST_POOL,
	ST_MI_FREE,
	ST_MI_LOCAL,
	ST_MI_THREAD,
	ST_TC_THREAD,
	ST_TC_CENTRAL,
	ST_TC_SPAN,
	ST_TC_PAGES,
	ST_JE_SLAB,
	ST_TOP,
	ST_CORRUPT,
	ST_COUNT
};

static const char *const state_key[ST_COUNT] = {
	"in_use", "metadata", "mmapped", "tcache", "fastbin", "unsorted",
	"smallbin", "largebin", "free_unlisted", "pool_free", "page_free",
	"page_local_free", "page_thread_free", "thread_cache",
	"transfer_cache", "span_free", "free_span", "slab_free", "top", "corrupt",
};

static const char *const state_label[ST_COUNT] = {
	"in use", "allocator metadata", "mmapped (in use)", "free: tcache",
	"free: fastbins", "free: unsorted bin", "free: small bins",
	"free: large bins", "free: on no list", "free: in a pool",
	"free: page free list", "free: page local_free", "free: thread_free",
	"free: thread cache", "free: transfer cache", "free: span free list",
	"free: free spans", "free: slab region", "top", "corrupt",
};

/* For --chunks. */
static const char *const state_word[ST_COUNT] = {
	"in-use", "metadata", "mmapped", "tcache", "fastbin", "unsorted",
	"smallbin", "largebin", "free", "pool-free", "page-free",
	"local-free", "thread-free", "thread-cache", "transfer-cache",
	"span-free", "free-span", "slab-free", "top", "corrupt",
};

static enum state state_of(const struct mv_heap *h, size_t i)
{
	uint32_t flags = mv_heap_flags_at(h, i);
	if (flags & MV_CHUNK_CORRUPT)
		return ST_CORRUPT;
	if (flags & MV_CHUNK_TOP)
		return ST_TOP;
	if (flags & MV_CHUNK_MMAPPED)
		return ST_MMAPPED;
	if (flags & MV_CHUNK_METADATA)
		return ST_METADATA;
	if (flags & MV_CHUNK_FREE_LIST) {
		switch (mv_heap_list_at(h, i)) {
		case MV_LIST_TCACHE: return ST_TCACHE;
		case MV_LIST_FASTBIN: return ST_FASTBIN;
		case MV_LIST_UNSORTED: return ST_UNSORTED;
		case MV_LIST_SMALL: return ST_SMALL;
		case MV_LIST_LARGE: return ST_LARGE;
		case MV_LIST_POOL: return ST_POOL;
		case MV_LIST_MI_FREE: return ST_MI_FREE;
		case MV_LIST_MI_LOCAL: return ST_MI_LOCAL;
		case MV_LIST_MI_THREAD: return ST_MI_THREAD;
		case MV_LIST_TC_THREAD: return ST_TC_THREAD;
		case MV_LIST_TC_CENTRAL: return ST_TC_CENTRAL;
		case MV_LIST_TC_SPAN: return ST_TC_SPAN;
		case MV_LIST_TC_PAGES: return ST_TC_PAGES;
		case MV_LIST_JE_SLAB: return ST_JE_SLAB;
		default: return ST_UNLISTED;
		}
	}
	return flags & MV_CHUNK_IN_USE ? ST_IN_USE : ST_UNLISTED;
}

struct tally {
	uint64_t count[ST_COUNT], bytes[ST_COUNT];
	uint64_t usable;        /* of in-use chunks (metadata excluded) */
	uint64_t heap_bytes;    /* segments that are heaps, not mmaps */
	uint64_t header_bytes;  /* heap_info, malloc_state, alignment */
};

/* What mallinfo2() would say, from the tally: glibc counts the top,
 * fastbins and bins as free and everything else in its heaps as used
 * (tcache chunks included: they look allocated to it). */
static uint64_t tally_fordblks(const struct tally *t)
{
	return t->bytes[ST_TOP] + t->bytes[ST_FASTBIN] + t->bytes[ST_UNSORTED] +
	       t->bytes[ST_SMALL] + t->bytes[ST_LARGE] + t->bytes[ST_UNLISTED];
}

#define HIST_BUCKETS 64

/* pymalloc's size classes: 16, 32, ... 512 bytes. */
#define PY_CLASSES 32

struct py_class {
	uint64_t used, free;
};

/* mimalloc's block sizes (its bins, and each large page's own size):
 * a sorted array, bounded; what does not fit is counted apart. */
#define MI_CLASSES 256

struct mi_classes {
	uint64_t size[MI_CLASSES], used[MI_CLASSES], free[MI_CLASSES];
	size_t n;
	uint64_t other_used, other_free;
};

static void mi_class_add(struct mi_classes *c, uint64_t size, bool used)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->size[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->n || c->size[lo] != size) {
		if (c->n == MI_CLASSES) {
			*(used ? &c->other_used : &c->other_free) += 1;
			return;
		}
		size_t k = c->n - lo;
		memmove(&c->size[lo + 1], &c->size[lo], k * sizeof(uint64_t));
		memmove(&c->used[lo + 1], &c->used[lo], k * sizeof(uint64_t));
		memmove(&c->free[lo + 1], &c->free[lo], k * sizeof(uint64_t));
		c->size[lo] = size;
		c->used[lo] = c->free[lo] = 0;
		c->n++;
	}
	*(used ? &c->used[lo] : &c->free[lo]) += 1;
}

/* mimalloc's block sizes as mi[0], tcmalloc's size classes (and each
 * large span's size) as mi[1], jemalloc's as mi[2]. */
#define NMODELS 3
static const char *const mi_model[NMODELS] = {"mimalloc", "tcmalloc",
						"jemalloc"};

static void mi_classes_json(struct mv_json *j, const struct mi_classes *c,
			    const char *model)
{
	char key[40];
	snprintf(key, sizeof(key), "%s_size_classes", model);
	mv_json_key(j, key);
	mv_json_begin_array(j);
	for (size_t i = 0; i < c->n; i++) {
		mv_json_begin_object(j);
		mv_json_key(j, "size");
		mv_json_uint(j, c->size[i]);
		mv_json_key(j, "in_use");
		mv_json_uint(j, c->used[i]);
		mv_json_key(j, "free");
		mv_json_uint(j, c->free[i]);
		mv_json_end_object(j);
	}
	mv_json_end_array(j);
	snprintf(key, sizeof(key), "%s_other_sizes", model);
	mv_json_key(j, key);
	mv_json_begin_object(j);
	mv_json_key(j, "in_use");
	mv_json_uint(j, c->other_used);
	mv_json_key(j, "free");
	mv_json_uint(j, c->other_free);
	mv_json_end_object(j);
}

static void mi_classes_text(struct mv_cmd_ctx *ctx, const struct mi_classes *c,
			    const char *model)
{
	mv_out(ctx, "\n%s block size %10s %10s\n", model, "in use", "free");
	for (size_t i = 0; i < c->n; i++)
		mv_out(ctx, "  %12llu bytes %10llu %10llu\n",
		       (unsigned long long)c->size[i],
		       (unsigned long long)c->used[i],
		       (unsigned long long)c->free[i]);
	if (c->other_used || c->other_free)
		mv_out(ctx, "  %18s %10llu %10llu\n", "other sizes",
		       (unsigned long long)c->other_used,
		       (unsigned long long)c->other_free);
}

struct hist {
	uint64_t used[HIST_BUCKETS], used_bytes[HIST_BUCKETS];
	uint64_t free[HIST_BUCKETS], free_bytes[HIST_BUCKETS];
};

static unsigned log2_floor(uint64_t v)
{
	return v ? 63 - (unsigned)__builtin_clzll(v) : 0;
}

/* Between pieces of a --chunks listing: what is listed goes out, and
 * Ctrl-C ends the listing there (millions of lines take seconds). */
static struct mv_error *listing_break(struct mv_cmd_ctx *ctx, size_t done,
				      size_t n)
{
	/* The front end may refuse the output on Ctrl-C ("output
	 * stopped"): that too is where the listing was cut. */
	struct mv_error *err = mv_out_flush(ctx);
	if (!err)
		err = mv_ctx_poll(ctx);
	if (!err || mv_error_code(err) != MV_ERR_INTERRUPTED)
		return err;
	mv_error_destroy(err);
	return mv_error_create(MV_ERR_INTERRUPTED,
			       "interrupted after listing %zu of %zu chunks",
			       done, n);
}

/* The N largest in-use chunks: a min-heap of indexes by size. */
struct top_n {
	size_t *idx;
	size_t n, cap;
	const struct mv_heap *h;
};

/* Chunks are ranked by size in 16-byte units (mimalloc's 8-byte
 * classes tie with the size below), then by address. */
static uint64_t top_key(const struct mv_heap *h, size_t i)
{
	return mv_heap_size_at(h, i) >> 4;
}

static bool top_less(const struct top_n *t, size_t a, size_t b)
{
	uint64_t sa = top_key(t->h, t->idx[a]), sb = top_key(t->h, t->idx[b]);
	return sa < sb || (sa == sb && t->idx[a] > t->idx[b]);
}

static void top_swap(struct top_n *t, size_t a, size_t b)
{
	size_t x = t->idx[a];
	t->idx[a] = t->idx[b];
	t->idx[b] = x;
}

static void top_sift_down(struct top_n *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->n && top_less(t, l, m))
			m = l;
		if (r < t->n && top_less(t, r, m))
			m = r;
		if (m == i)
			return;
		top_swap(t, i, m);
		i = m;
	}
}

static void top_offer(struct top_n *t, size_t index)
{
	if (!t->cap)
		return;
	if (t->n < t->cap) {
		size_t i = t->n++;
		t->idx[i] = index;
		while (i && top_less(t, i, (i - 1) / 2)) {
			top_swap(t, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	if (top_key(t->h, index) <= top_key(t->h, t->idx[0]))
		return;
	t->idx[0] = index;
	top_sift_down(t, 0);
}

static int top_cmp_desc(const void *x, const void *y, void *arg)
{
	const struct mv_heap *h = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	uint64_t sa = top_key(h, a), sb = top_key(h, b);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	return a < b ? -1 : a > b;
}

static const char *arena_kind(enum mv_heap_arena_kind k)
{
	return k == MV_ARENA_MAIN	? "main"
	       : k == MV_ARENA_THREAD	? "thread"
	       : k == MV_ARENA_PYMALLOC ? "pymalloc"
	       : k == MV_ARENA_MIMALLOC ? "mimalloc"
	       : k == MV_ARENA_TCMALLOC ? "tcmalloc"
	       : k == MV_ARENA_JEMALLOC ? "jemalloc"
					: "mmapped";
}

static void json_tally(struct mv_json *j, const struct tally *t)
{
	mv_json_begin_object(j);
	for (int s = 0; s < ST_COUNT; s++) {
		mv_json_key(j, state_key[s]);
		mv_json_begin_object(j);
		mv_json_key(j, "count");
		mv_json_uint(j, t->count[s]);
		mv_json_key(j, "bytes");
		mv_json_uint(j, t->bytes[s]);
		mv_json_end_object(j);
	}
	mv_json_key(j, "usable");
	mv_json_uint(j, t->usable);
	mv_json_key(j, "heap_bytes");
	mv_json_uint(j, t->heap_bytes);
	mv_json_key(j, "header_bytes");
	mv_json_uint(j, t->header_bytes);
	mv_json_end_object(j);
}

static void json_mallinfo(struct mv_json *j, const struct tally *all,
			  uint64_t fordblks)
{
	mv_json_begin_object(j);
	mv_json_key(j, "arena");
	mv_json_uint(j, all->heap_bytes);
	mv_json_key(j, "uordblks");
	mv_json_uint(j, all->heap_bytes - fordblks);
	mv_json_key(j, "fordblks");
	mv_json_uint(j, fordblks);
	mv_json_key(j, "hblks");
	mv_json_uint(j, all->count[ST_MMAPPED]);
	mv_json_key(j, "hblkhd");
	mv_json_uint(j, all->bytes[ST_MMAPPED]);
	mv_json_end_object(j);
}

static void text_tally(struct mv_cmd_ctx *ctx, const struct tally *t,
		       const char *indent)
{
	for (int s = 0; s < ST_COUNT; s++) {
		if (!t->count[s])
			continue;
		mv_out(ctx, "%s%-22s %10llu chunk%s %14llu bytes\n", indent,
		       state_label[s], (unsigned long long)t->count[s],
		       t->count[s] == 1 ? " " : "s",
		       (unsigned long long)t->bytes[s]);
	}
}

static void human(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	if (v < 10240) {
		snprintf(buf, size, "%llu", (unsigned long long)v);
		return;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f%c", d, units[u]);
}

struct mv_error *mv_cmd_heap(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err = mv_session_need_memory(s);
	if (err)
		return err;
	struct mv_heap_options o = {0};
	if (mv_opt_flag(ctx, "no-symbols"))
		o.flags |= MV_HEAP_IGNORE_SYMBOLS;
	int64_t ntop = mv_opt_num(ctx, "top");
	int64_t max_chunks = mv_opt_num(ctx, "max-chunks");
	if (ntop < 0 || max_chunks < 0)
		return mv_error_create(MV_ERR_USAGE,
				       "--top and --max-chunks take a count "
				       ">= 0");
	if (!max_chunks)
		max_chunks = INT64_MAX;
	bool list_chunks = mv_opt_flag(ctx, "chunks");
	bool bins = mv_opt_flag(ctx, "bins");
	if (bins && list_chunks)
		return mv_error_create(MV_ERR_USAGE,
				       "--bins and --chunks do not go together");
	if (bins)
		o.flags |= MV_HEAP_RECORD_BINS;

	struct mv_heap *h;
	err = mv_session_open_heap(ctx, &o, &h);
	if (err)
		return err;
	if (bins)
		return mv_heap_bins_render(ctx, h, (uint64_t)max_chunks);
	const char *limit = mv_heap_limit_note(h);

	size_t nentries, narenas, nsegs;
	nentries = mv_heap_chunk_count(h);
	const struct mv_heap_arena *arenas = mv_heap_arenas(h, &narenas);
	const struct mv_heap_segment *segs = mv_heap_segments(h, &nsegs);
	struct tally *per = calloc(narenas + 1, sizeof(*per));
	struct hist *hist = calloc(1, sizeof(*hist));
	struct mi_classes *mi = calloc(NMODELS, sizeof(*mi));
	struct top_n top = {.h = h, .cap = (size_t)ntop};
	if (top.cap > nentries)
		top.cap = nentries;
	top.idx = malloc((top.cap ? top.cap : 1) * sizeof(*top.idx));
	if (!per || !hist || !mi || !top.idx) {
		err = mv_enomem;
		goto out;
	}
	struct tally *all = &per[narenas];
	struct py_class py[PY_CLASSES] = {{0}};
	bool have_py = false;
	uint32_t ai = 0;
	uint64_t ai_next = 0; /* where ai may change (mv_heap_arena_at) */
	uint64_t start = nentries ? mv_heap_start_at(h, 0) : 0;
	for (size_t i = 0; i < nentries; i++) {
		if (i % 65536 == 65535 && (err = mv_ctx_poll(ctx))) {
			err = mv_error_interrupted(err, "no summary yet",
						   "tallying the heap's %zu "
						   "chunks (%zu so far)",
						   nentries, i + 1);
			goto out;
		}
		if (i)
			start = mv_heap_next_start(h, i - 1, start);
		if (start >= ai_next)
			ai = mv_heap_arena_at(h, start, &ai_next);
		enum state st = state_of(h, i);
		uint32_t flags = mv_heap_flags_at(h, i);
		uint64_t size = mv_heap_size_at(h, i);
		struct tally *t = ai < narenas ? &per[ai] : all;
		t->count[st]++;
		t->bytes[st] += size;
		if (st == ST_IN_USE || st == ST_MMAPPED) {
			t->usable += mv_heap_usable(size, flags);
			top_offer(&top, i);
		}
		if ((flags & MV_CHUNK_NO_HEADER) && ai < narenas &&
		    arenas[ai].kind == MV_ARENA_PYMALLOC &&
		    size >= 16 && size <= 16 * PY_CLASSES &&
		    (st == ST_IN_USE || st == ST_POOL)) {
			have_py = true;
			if (st == ST_IN_USE)
				py[size / 16 - 1].used++;
			else
				py[size / 16 - 1].free++;
		}
		if (ai < narenas &&
		    arenas[ai].kind == MV_ARENA_MIMALLOC &&
		    (st == ST_IN_USE || st == ST_MI_FREE || st == ST_MI_LOCAL ||
		     st == ST_MI_THREAD))
			mi_class_add(mi, size, st == ST_IN_USE);
		if (ai < narenas &&
		    arenas[ai].kind == MV_ARENA_TCMALLOC &&
		    (st == ST_IN_USE || st == ST_TC_THREAD ||
		     st == ST_TC_CENTRAL || st == ST_TC_SPAN))
			mi_class_add(&mi[1], size, st == ST_IN_USE);
		if (ai < narenas &&
		    arenas[ai].kind == MV_ARENA_JEMALLOC &&
		    (st == ST_IN_USE || st == ST_TCACHE || st == ST_JE_SLAB))
			mi_class_add(&mi[2], size, st == ST_IN_USE);
		unsigned b = log2_floor(size);
		if (st == ST_IN_USE || st == ST_MMAPPED) {
			hist->used[b]++;
			hist->used_bytes[b] += size;
		} else if (st != ST_TOP && st != ST_CORRUPT && st != ST_METADATA) {
			hist->free[b]++;
			hist->free_bytes[b] += size;
		}
	}
	for (size_t i = 0; i < nsegs; i++) {
		if (segs[i].arena >= narenas ||
		    arenas[segs[i].arena].kind == MV_ARENA_MMAPPED)
			continue;
		per[segs[i].arena].heap_bytes += segs[i].end - segs[i].start;
		per[segs[i].arena].header_bytes +=
			segs[i].first_chunk - segs[i].start;
	}
	/* mallinfo2() knows glibc's arenas only. */
	struct tally glibc_all;
	memset(&glibc_all, 0, sizeof(glibc_all));
	for (size_t a = 0; a < narenas; a++) {
		for (int st = 0; st < ST_COUNT; st++) {
			all->count[st] += per[a].count[st];
			all->bytes[st] += per[a].bytes[st];
		}
		all->usable += per[a].usable;
		all->heap_bytes += per[a].heap_bytes;
		all->header_bytes += per[a].header_bytes;
		if (arenas[a].kind == MV_ARENA_PYMALLOC ||
		    arenas[a].kind == MV_ARENA_MIMALLOC ||
		    arenas[a].kind == MV_ARENA_TCMALLOC ||
		    arenas[a].kind == MV_ARENA_JEMALLOC)
			continue;
		for (int st = 0; st < ST_COUNT; st++)
			glibc_all.bytes[st] += per[a].bytes[st];
		glibc_all.heap_bytes += per[a].heap_bytes;
		glibc_all.count[ST_MMAPPED] += per[a].count[ST_MMAPPED];
	}
	qsort_r(top.idx, top.n, sizeof(*top.idx), top_cmp_desc, (void *)h);
	uint64_t fordblks = tally_fordblks(&glibc_all);
	bool symbols = mv_heap_with_symbols(h);

	if (ctx->json) {
		struct mv_json j;
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "heap");
		mv_json_key(&j, "allocator");
		mv_json_string(&j, "glibc malloc");
		mv_json_key(&j, "mode");
		mv_json_string(&j, symbols ? "debug symbols" : "mappings");
		mv_json_key(&j, "description");
		mv_json_string(&j, mv_heap_description(h));
		mv_heap_json_limit(&j, h);
		mv_json_key(&j, "arenas");
		mv_json_begin_array(&j);
		for (size_t a = 0; a < narenas; a++) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "index");
			mv_json_uint(&j, a);
			mv_json_key(&j, "kind");
			mv_json_string(&j, arena_kind(arenas[a].kind));
			mv_json_key(&j, "address");
			if (arenas[a].address)
				mv_json_address(&j, arenas[a].address);
			else
				mv_json_null(&j);
			mv_json_key(&j, "top");
			if (arenas[a].top)
				mv_json_address(&j, arenas[a].top);
			else
				mv_json_null(&j);
			mv_json_key(&j, "system_mem");
			if (arenas[a].system_mem)
				mv_json_uint(&j, arenas[a].system_mem);
			else
				mv_json_null(&j);
			mv_json_key(&j, "bins_read");
			mv_json_bool(&j, arenas[a].have_bins);
			mv_json_key(&j, "tcache_found");
			mv_json_bool(&j, arenas[a].have_tcache);
			mv_json_key(&j, "heaps");
			mv_json_begin_array(&j);
			size_t shown = 0;
			for (size_t i = 0; i < nsegs; i++) {
				if (segs[i].arena != a)
					continue;
				/* mmapped chunks are listed as chunks, not
				 * as heaps: there may be thousands. */
				if (arenas[a].kind == MV_ARENA_MMAPPED)
					break;
				mv_json_begin_object(&j);
				mv_json_key(&j, "start");
				mv_json_address(&j, segs[i].start);
				mv_json_key(&j, "end");
				mv_json_address(&j, segs[i].end);
				mv_json_key(&j, "first_chunk");
				mv_json_address(&j, segs[i].first_chunk);
				mv_json_end_object(&j);
				shown++;
			}
			mv_json_end_array(&j);
			mv_json_key(&j, "chunks");
			json_tally(&j, &per[a]);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		mv_json_key(&j, "totals");
		json_tally(&j, all);
		/* mallinfo2() is about the whole heap: not known from a
		 * part of it. */
		mv_json_key(&j, "mallinfo");
		if (limit)
			mv_json_null(&j);
		else
			json_mallinfo(&j, &glibc_all, fordblks);
		mv_json_key(&j, "histogram");
		mv_json_begin_array(&j);
		for (unsigned b = 0; b < HIST_BUCKETS; b++) {
			if (!hist->used[b] && !hist->free[b])
				continue;
			mv_json_begin_object(&j);
			mv_json_key(&j, "min");
			mv_json_uint(&j, 1ull << b);
			mv_json_key(&j, "max");
			mv_json_uint(&j, b == 63 ? UINT64_MAX : (2ull << b) - 1);
			mv_json_key(&j, "in_use");
			mv_json_uint(&j, hist->used[b]);
			mv_json_key(&j, "in_use_bytes");
			mv_json_uint(&j, hist->used_bytes[b]);
			mv_json_key(&j, "free");
			mv_json_uint(&j, hist->free[b]);
			mv_json_key(&j, "free_bytes");
			mv_json_uint(&j, hist->free_bytes[b]);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		if (have_py) {
			mv_json_key(&j, "pymalloc_size_classes");
			mv_json_begin_array(&j);
			for (unsigned c = 0; c < PY_CLASSES; c++) {
				if (!py[c].used && !py[c].free)
					continue;
				mv_json_begin_object(&j);
				mv_json_key(&j, "class");
				mv_json_uint(&j, c);
				mv_json_key(&j, "size");
				mv_json_uint(&j, (c + 1) * 16);
				mv_json_key(&j, "in_use");
				mv_json_uint(&j, py[c].used);
				mv_json_key(&j, "free");
				mv_json_uint(&j, py[c].free);
				mv_json_end_object(&j);
			}
			mv_json_end_array(&j);
		}
		for (int k = 0; k < NMODELS; k++)
			if (mi[k].n || mi[k].other_used || mi[k].other_free)
				mi_classes_json(&j, &mi[k], mi_model[k]);
		mv_json_key(&j, "largest");
		mv_json_begin_array(&j);
		for (size_t i = 0; i < top.n; i++) {
			struct mv_chunk c;
			mv_heap_chunk(h, top.idx[i], &c);
			mv_json_begin_object(&j);
			mv_json_key(&j, "address");
			mv_json_address(&j, c.start);
			mv_json_key(&j, "mem");
			mv_json_address(&j, c.mem);
			mv_json_key(&j, "size");
			mv_json_uint(&j, c.size);
			mv_json_key(&j, "usable");
			mv_json_uint(&j, c.usable);
			mv_json_key(&j, "state");
			mv_json_string(&j, state_word[state_of(h, top.idx[i])]);
			mv_json_key(&j, "arena");
			mv_json_uint(&j, c.arena);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		if (list_chunks) {
			mv_json_key(&j, "chunks");
			mv_json_begin_array(&j);
			for (size_t i = 0; i < nentries && i < (uint64_t)max_chunks;
			     i++) {
				struct mv_chunk c;
				mv_heap_chunk(h, i, &c);
				mv_json_begin_object(&j);
				mv_json_key(&j, "address");
				mv_json_address(&j, c.start);
				mv_json_key(&j, "mem");
				mv_json_address(&j, c.mem);
				mv_json_key(&j, "size");
				mv_json_uint(&j, c.size);
				mv_json_key(&j, "usable");
				mv_json_uint(&j, c.usable);
				mv_json_key(&j, "state");
				mv_json_string(&j, state_word[state_of(h, i)]);
				mv_json_key(&j, "arena");
				mv_json_uint(&j, c.arena);
				mv_json_end_object(&j);
				if (i % 4096 == 4095 &&
				    (err = listing_break(ctx, i + 1, nentries)))
					goto out;
			}
			mv_json_end_array(&j);
			mv_json_key(&j, "chunks_truncated");
			mv_json_bool(&j, nentries > (uint64_t)max_chunks);
		}
		mv_heap_json_notes(&j, h);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
		err = mv_buf_error(&ctx->out);
		goto out;
	}

	mv_out(ctx, "%s\n", mv_heap_description(h));
	if (limit)
		mv_out(ctx, "[PARTIAL] %s\n", limit);
	for (size_t a = 0; a < narenas; a++) {
		char hb[32];
		human(per[a].heap_bytes, hb, sizeof(hb));
		if (arenas[a].kind == MV_ARENA_MMAPPED) {
			mv_out(ctx, "\nmmapped chunks (each its own mapping)\n");
		} else {
			mv_out(ctx, "\narena %zu (%s)", a, arena_kind(arenas[a].kind));
			/* Arenas of the models over glibc's. */
			bool py_arena = arenas[a].kind == MV_ARENA_PYMALLOC ||
					arenas[a].kind == MV_ARENA_MIMALLOC ||
					arenas[a].kind == MV_ARENA_TCMALLOC ||
					arenas[a].kind == MV_ARENA_JEMALLOC;
			if (arenas[a].address)
				mv_out(ctx, " at 0x%llx",
				       (unsigned long long)arenas[a].address);
			else if (!py_arena)
				mv_out(ctx, ", malloc_state not found: free "
					    "lists other than the tcache unknown");
			mv_out(ctx, ", %s bytes in heaps", hb);
			if (!arenas[a].have_tcache && !py_arena)
				mv_out(ctx, ", no tcache block found");
			mv_out(ctx, "\n");
			for (size_t i = 0; i < nsegs; i++)
				if (segs[i].arena == a)
					mv_out(ctx, "  heap 0x%llx-0x%llx\n",
					       (unsigned long long)segs[i].start,
					       (unsigned long long)segs[i].end);
		}
		text_tally(ctx, &per[a], "  ");
	}
	mv_out(ctx, "\ntotal\n");
	text_tally(ctx, all, "  ");
	mv_out(ctx, "  usable bytes in use: %llu; heap headers: %llu bytes\n",
	       (unsigned long long)all->usable,
	       (unsigned long long)all->header_bytes);
	if (limit)
		mv_out(ctx, "  as mallinfo2() counts: not known from a part of "
			    "the heap\n");
	else
		mv_out(ctx, "  as mallinfo2() counts: arena %llu, uordblks "
			    "%llu, fordblks %llu, hblks %llu, hblkhd %llu\n",
		       (unsigned long long)glibc_all.heap_bytes,
		       (unsigned long long)(glibc_all.heap_bytes - fordblks),
		       (unsigned long long)fordblks,
		       (unsigned long long)glibc_all.count[ST_MMAPPED],
		       (unsigned long long)glibc_all.bytes[ST_MMAPPED]);
	if (have_py) {
		mv_out(ctx, "\npymalloc size class %10s %10s\n", "in use",
		       "free");
		for (unsigned c = 0; c < PY_CLASSES; c++)
			if (py[c].used || py[c].free)
				mv_out(ctx, "  %2u %4u bytes      %10llu %10llu\n",
				       c, (c + 1) * 16,
				       (unsigned long long)py[c].used,
				       (unsigned long long)py[c].free);
	}
	for (int k = 0; k < NMODELS; k++)
		if (mi[k].n || mi[k].other_used || mi[k].other_free)
			mi_classes_text(ctx, &mi[k], mi_model[k]);

	mv_out(ctx, "\nchunk sizes      %10s %12s %10s %12s\n", "in use", "bytes",
	       "free", "bytes");
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		if (!hist->used[b] && !hist->free[b])
			continue;
		char lo[16], hi[16], range[40];
		human(1ull << b, lo, sizeof(lo));
		human(b == 63 ? UINT64_MAX : (2ull << b) - 1, hi, sizeof(hi));
		snprintf(range, sizeof(range), "%s-%s", lo, hi);
		mv_out(ctx, "  %-14s %10llu %12llu %10llu %12llu\n", range,
		       (unsigned long long)hist->used[b],
		       (unsigned long long)hist->used_bytes[b],
		       (unsigned long long)hist->free[b],
		       (unsigned long long)hist->free_bytes[b]);
	}
	if (top.n) {
		mv_out(ctx, "\nlargest chunks in use\n");
		for (size_t i = 0; i < top.n; i++) {
			struct mv_chunk c;
			mv_heap_chunk(h, top.idx[i], &c);
			mv_out(ctx, "  0x%llx %12llu bytes (usable %llu) arena %u%s\n",
			       (unsigned long long)c.mem,
			       (unsigned long long)c.size,
			       (unsigned long long)c.usable, c.arena,
			       c.flags & MV_CHUNK_MMAPPED ? " mmapped" : "");
		}
	}
	if (list_chunks) {
		/* The block's address as malloc returned it (as gc, referrers
		 * and path-to give it), then its chunk header. */
		mv_out(ctx, "\n%-18s %-18s %12s %12s %-9s %s\n", "block",
		       "chunk header", "size", "usable", "state", "arena");
		for (size_t i = 0; i < nentries && i < (uint64_t)max_chunks; i++) {
			struct mv_chunk c;
			mv_heap_chunk(h, i, &c);
			mv_out(ctx, "0x%016llx 0x%016llx %12llu %12llu %-9s "
				    "%u\n", (unsigned long long)c.mem,
			       (unsigned long long)c.start,
			       (unsigned long long)c.size,
			       (unsigned long long)c.usable,
			       state_word[state_of(h, i)], c.arena);
			if (i % 4096 == 4095 &&
			    (err = listing_break(ctx, i + 1, nentries)))
				goto out;
		}
		if (nentries > (uint64_t)max_chunks)
			mv_out(ctx, "... %zu more chunks not listed (--max-chunks "
				    "%lld): lift with --max-chunks 0\n",
			       nentries - (size_t)max_chunks,
			       (long long)max_chunks);
	}
	mv_heap_text_notes(ctx, h);
	err = mv_buf_error(&ctx->out);
out:
	free(mi);
	free(per);
	free(hist);
	free(top.idx);
	return err;
}

void mv_heap_json_limit(struct mv_json *j, struct mv_heap *h)
{
	const char *limit = mv_heap_limit_note(h);
	mv_json_key(j, "partial");
	mv_json_bool(j, limit != NULL);
	mv_json_key(j, "max_heap_chunks");
	mv_json_uint(j, h->max_chunks == MV_HEAP_NO_LIMIT ? 0 : h->max_chunks);
	mv_json_key(j, "limit");
	if (limit)
		mv_json_string(j, limit);
	else
		mv_json_null(j);
}

void mv_heap_json_notes(struct mv_json *j, struct mv_heap *h)
{
	const char *const *notes;
	size_t nnotes = mv_heap_notes(h, &notes);
	mv_json_key(j, "notes");
	mv_json_begin_array(j);
	for (size_t i = 0; i < nnotes; i++)
		mv_json_string(j, notes[i]);
	mv_json_end_array(j);
}

void mv_heap_text_notes(struct mv_cmd_ctx *ctx, struct mv_heap *h)
{
	const char *const *notes;
	size_t nnotes = mv_heap_notes(h, &notes);
	if (nnotes)
		mv_out(ctx, "\n%zu problem%s:\n", nnotes, nnotes == 1 ? "" : "s");
	for (size_t i = 0; i < nnotes; i++)
		mv_out(ctx, "  %s\n", notes[i]);
}

static const struct mv_option heap_options[] = {
	{"top", 'n', MV_OPT_INT, "N", "list the N largest chunks in use", "10",
	 NULL},
	{"chunks", 'c', MV_OPT_FLAG, NULL,
	 "list every chunk: address, size, usable size, state, arena", NULL,
	 NULL},
	{"bins", 'b', MV_OPT_FLAG, NULL,
	 "glibc's free lists: each thread's tcache, the fastbins, unsorted, "
	 "small and large bins, with their blocks", NULL, NULL},
	{"max-chunks", 0, MV_OPT_INT, "N",
	 "list at most N chunks with --chunks (0: all), N a list with "
	 "--bins; the counts cover every chunk indexed", "1000", NULL},
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{"no-symbols", 0, MV_OPT_FLAG, NULL,
	 "ignore glibc's debug symbols and find the heap from the mappings, "
	 "as without libc6-dbg", NULL, NULL},
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_heap = {
	.name = "heap",
	.debugger_name = "mv-heap",
	.synopsis = "",
	.summary = "Summarize the malloc heap (glibc, CPython's pymalloc, "
		   "mimalloc, tcmalloc, jemalloc): arenas, chunks in use and "
		   "free, sizes, the largest chunks.",
	.description =
		"Walks every arena's heaps chunk by chunk (the main heap, "
		"the heaps of thread arenas, and mmapped chunks), and reads "
		"the free lists: each thread arena's tcache (found as its "
		"first chunk), the fastbins and the unsorted, small and "
		"large bins, with safe-linked pointers decoded. A chunk is "
		"in use if the next chunk's PREV_INUSE bit says so and it is "
		"on no free list; the tcache block itself counts as "
		"allocator metadata.\n\n"
		"With glibc's debug symbols (Debian: libc6-dbg), arenas come "
		"from main_arena and mp_. Without them, the main heap is "
		"found from the mappings ([heap], or in a core the anonymous "
		"mapping after the executable that starts with a tcache "
		"block), main_arena is found in libc's data by its pointer to "
		"the top chunk, and the output says \"from the mappings\".\n\n"
		"In a CPython 3.11 process its small-object allocator "
		"(pymalloc) is a model over glibc's: each 1 MiB arena is an "
		"arena of kind pymalloc, each block of a 16 KiB pool a chunk "
		"of its size class (16 to 512 bytes) with no header, free if "
		"on its pool's free list (\"free: in a pool\"), the pool "
		"headers allocator metadata; blocks in use are counted per "
		"size class, as sys._debugmallocstats() does. Arenas come "
		"from the symbols arenas and maxarenas (python3.11-dbg) or, "
		"without them, from pool headers found at 16 KiB boundaries "
		"of anonymous mappings; the first line says which. A glibc "
		"chunk holding an arena is pymalloc's.\n\n"
		"In a program linked with mimalloc 2.0.9 (Debian 12's "
		"libmimalloc2.0), or running with it in LD_PRELOAD, each "
		"32 MiB segment (or huge segment) is an arena of kind "
		"mimalloc, found at 32 MiB boundaries of anonymous mappings "
		"by a header whose fields and cookie agree (no debug symbols "
		"needed; the version is read from mi_version()'s code, and "
		"another version is said and not read). Each block a page "
		"carved is a chunk with no header, in use or free on its "
		"page's free list, its local_free list or freed by another "
		"thread (thread_free, or the heap's delayed-free list); the "
		"segment's first slice is allocator metadata; blocks in use "
		"and free are counted per block size. A damaged page or "
		"slice table is named under \"problems\" and its memory left "
		"to gc's roots.\n\n"
		"--bins shows glibc's free lists as pwndbg's bins and "
		"tcachebins do: each tcache (named by the thread whose "
		"glibc tcache variable points to it), then per arena the "
		"fastbins, the unsorted bin and the small and large bins "
		"that hold chunks, each list with its chunk size (or bin "
		"number), its length (and the tcache's own count where it "
		"differs) and its blocks in list order, as malloc returned "
		"them (the sizes too where they vary). A list that loops, "
		"leaves the heap or holds a chunk of the wrong size is cut "
		"there, says so, and the reason is under \"problems\".\n\n"
		"In a program linked with gperftools' tcmalloc 2.10 (Debian "
		"12's libtcmalloc-minimal4 or libtcmalloc4), or running with "
		"it in LD_PRELOAD, its page heap is an arena of kind "
		"tcmalloc: the pagemap is found in the library's data as the "
		"2^17 words before the one holding &tcmalloc::MetaDataAlloc "
		"(exported; the other statics are hidden and Debian ships no "
		"debug symbols), the size map and central lists by their "
		"contents, the thread caches from "
		"tcmalloc::ThreadCache::thread_heaps_. Each span is read from "
		"the pagemap: a large block (size class 0), a free span, or "
		"objects of its size class, each a chunk with no header, in "
		"use or free in a thread cache, a transfer cache or on its "
		"span's free list; blocks in use and free are counted per "
		"size class. Spans, pagemap leaves and thread caches are "
		"allocator metadata. A layout that does not match 2.10's is "
		"said and not read; a damaged span is named under "
		"\"problems\" and its memory left to gc's roots.\n\n"
		"In a program linked with jemalloc 5.3.0 (Debian 12's "
		"libjemalloc2), or running with it in LD_PRELOAD, each "
		"jemalloc arena is an arena of kind jemalloc. Its extents "
		"come from jemalloc's extent map (an rtree in the library's "
		"data, found by its layout and checked: each extent's edata "
		"must cover the pages the map gives it; no debug symbols "
		"needed; the version is read from the library's version "
		"string, and another version is said and not read). Each "
		"region of a slab and each large block is a chunk with no "
		"header: in use, free in its slab's bitmap (\"free: slab "
		"region\"), or cached in a thread's tcache (\"free: "
		"tcache\"); the tcaches' stacks are allocator metadata, as "
		"are the base allocator's blocks (arenas, edata, the map), "
		"never roots of gc. Blocks are counted per size class; in "
		"use, tcache and metadata bytes add up to jemalloc's "
		"stats.allocated. A damaged edata, map entry or tcache is "
		"named under \"problems\" and its memory left to gc's "
		"roots.\n\n"
		"Corrupt headers, list loops and pointers out of the heap are "
		"reported with their address under \"problems\"; the walk "
		"resumes at the next plausible chunk. The \"as mallinfo2() "
		"counts\" line gives glibc's own totals for comparison.\n\n"
		"The index of chunks (4.75 bytes each, shared with gc, "
		"sizeof-deep, graph, referrers, path-to and view --pointers) "
		"holds at most --max-heap-chunks chunks; by default as many "
		"as half the memory available to memview holds at 32 bytes "
		"a chunk (the index and the most a command keeps per chunk; "
		"info and doctor say the number). Past it the walk stops: the answer counts "
		"the chunks indexed, starts with [PARTIAL] and says how to "
		"lift the bound. --max-chunks only bounds the --chunks "
		"listing.",
	.options = heap_options,
	.min_pos = 0,
	.max_pos = 0,
	.run = mv_cmd_heap,
};
