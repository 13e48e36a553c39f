/* target.c - target memory: the public API over the backends, region
 * lookup, the page cache, and the two simplest backends (in-memory
 * buffers and a read callback).  Cores are in target_core.c, live
 * processes in target_proc.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* ------------------------------------------------------------------ */
/* Common state                                                        */
/* ------------------------------------------------------------------ */

struct mv_error *mv_target_alloc(const struct mv_target_ops *ops,
				 struct mv_target **ret)
{
	struct mv_target *t = calloc(1, sizeof(*t));
	if (!t)
		return mv_enomem;
	t->ops = ops;
	*ret = t;
	return NULL;
}

bool mv_target_warn(struct mv_target *t, const char *fmt, ...)
{
	/* Bounded: a hostile core could otherwise produce a warning per
	 * note. */
	if (!t->warnings.max)
		mv_notes_init(&t->warnings, MV_TARGET_MAX_WARNINGS);
	va_list ap;
	va_start(ap, fmt);
	bool ok = mv_notes_vadd(&t->warnings, fmt, ap);
	va_end(ap);
	return ok;
}

long mv_target_region_index(const struct mv_target *t, uint64_t address)
{
	size_t h = t->region_hint;
	if (h < t->nregions && t->regions[h].start <= address &&
	    address < t->regions[h].end)
		return (long)h;
	size_t i = mv_target_region_after(t, address);
	if (i < t->nregions && t->regions[i].start <= address) {
		((struct mv_target *)t)->region_hint = i;
		return (long)i;
	}
	return -1;
}

size_t mv_target_region_after(const struct mv_target *t, uint64_t address)
{
	/* Binary search for the first region whose end is above address. */
	size_t lo = 0, hi = t->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->regions[mid].end <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool grow_regions(struct mv_target *t)
{
	if (t->nregions < t->regions_cap)
		return true;
	if (t->nregions >= MV_TARGET_MAX_REGIONS)
		return false;
	size_t cap = t->regions_cap ? t->regions_cap * 2 : 16;
	struct mv_region *r = realloc(t->regions, cap * sizeof(*r));
	if (!r)
		return false;
	t->regions = r;
	const void **d = realloc(t->region_data, cap * sizeof(*d));
	if (!d)
		return false;
	t->region_data = d;
	t->regions_cap = cap;
	return true;
}

struct mv_error *mv_target_append_region(struct mv_target *t,
					 const struct mv_region *r)
{
	if (t->nregions >= MV_TARGET_MAX_REGIONS)
		return mv_error_create(MV_ERR_LIMIT,
				       "more than %d memory regions",
				       MV_TARGET_MAX_REGIONS);
	if (!grow_regions(t))
		return mv_enomem;
	struct mv_region *n = &t->regions[t->nregions];
	*n = *r;
	if (r->path) {
		n->path = strdup(r->path);
		if (!n->path)
			return mv_enomem;
	}
	t->region_data[t->nregions] = NULL;
	t->nregions++;
	return NULL;
}

void mv_target_clear_regions(struct mv_target *t)
{
	for (size_t i = 0; i < t->nregions; i++)
		free((char *)t->regions[i].path);
	free(t->regions);
	free(t->region_data);
	t->regions = NULL;
	t->region_data = NULL;
	t->nregions = t->regions_cap = 0;
}

void mv_target_clear_threads(struct mv_target *t)
{
	t->nthreads = 0;
	t->threads_unsorted = false;
}

struct mv_error *mv_target_append_thread(struct mv_target *t, int32_t tid,
					 const uint64_t *regs)
{
	if (t->nthreads >= MV_TARGET_MAX_THREADS)
		return mv_error_create(MV_ERR_LIMIT, "more than %d threads",
				       MV_TARGET_MAX_THREADS);
	/* Growth by doubling: the count is a power of two when full. */
	size_t n = t->nthreads;
	if ((n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 4;
		struct mv_thread *th = realloc(t->threads, cap * sizeof(*th));
		if (!th)
			return mv_enomem;
		t->threads = th;
	}
	if (n && t->threads[n - 1].tid >= tid)
		t->threads_unsorted = true;
	struct mv_thread *th = &t->threads[n];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	if (regs) {
		th->has_regs = true;
		memcpy(th->regs, regs, sizeof(th->regs));
	}
	t->nthreads++;
	return NULL;
}

/* The thread with this tid, or NULL.  A binary search while the array
 * is sorted (a process's threads are, and a debugger lists them in
 * order), so that a front end giving the registers of 100,000 threads
 * one call at a time does not take quadratic time. */
static struct mv_thread *find_thread(struct mv_target *t, int32_t tid)
{
	if (t->threads_unsorted) {
		for (size_t i = 0; i < t->nthreads; i++)
			if (t->threads[i].tid == tid)
				return &t->threads[i];
		return NULL;
	}
	size_t lo = 0, hi = t->nthreads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nthreads && t->threads[lo].tid == tid ? &t->threads[lo]
							     : NULL;
}

struct mv_error *mv_target_add_thread(struct mv_target *t, int32_t tid,
				      const uint64_t *regs)
{
	struct mv_thread *th = find_thread(t, tid);
	if (!th)
		return mv_target_append_thread(t, tid, regs);
	/* The front end knows this thread's registers better (a debugger
	 * stopped it), or says it knows none now. */
	th->has_regs = regs != NULL;
	if (regs)
		memcpy(th->regs, regs, sizeof(th->regs));
	else
		memset(th->regs, 0, sizeof(th->regs));
	return NULL;
}

void mv_target_destroy(struct mv_target *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->destroy)
		t->ops->destroy(t);
	if (t->has_cache)
		mv_page_cache_deinit(&t->cache);
	mv_target_clear_regions(t);
	free(t->threads);
	free(t->auxv);
	mv_notes_deinit(&t->warnings);
	free(t->path);
	free(t);
}

/* ------------------------------------------------------------------ */
/* Page cache                                                          */
/* ------------------------------------------------------------------ */

/* Reads of at least this many bytes go straight to the caller's buffer:
 * caching them would only evict pages that are read again. */
#define MV_DIRECT_READ_MIN (16 * MV_PAGE_SIZE)
/* Peeks across pages are copied into a run buffer up to this size. */
#define MV_PEEK_RUN_MAX (1u << 20)

void mv_page_cache_init(struct mv_page_cache *c, size_t max_bytes)
{
	memset(c, 0, sizeof(*c));
	c->max_pages = max_bytes / MV_PAGE_SIZE;
	if (c->max_pages < 4)
		c->max_pages = 4;
}

void mv_page_cache_clear(struct mv_page_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct mv_page *p = c->buckets[i];
		while (p) {
			struct mv_page *next = p->next;
			free(p->data);
			free(p);
			p = next;
		}
		c->buckets[i] = NULL;
	}
	c->npages = 0;
}

void mv_page_cache_deinit(struct mv_page_cache *c)
{
	mv_page_cache_clear(c);
	free(c->buckets);
	free(c->run);
	c->buckets = NULL;
	c->run = NULL;
	c->nbuckets = c->run_cap = 0;
}

static size_t page_hash(uint64_t pageno, size_t nbuckets)
{
	/* Fibonacci hashing: consecutive pages spread over the buckets. */
	return (size_t)((pageno * 0x9e3779b97f4a7c15ull) >> 20) &
	       (nbuckets - 1);
}

static bool cache_rehash(struct mv_page_cache *c, size_t nbuckets)
{
	struct mv_page **b = calloc(nbuckets, sizeof(*b));
	if (!b)
		return false;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct mv_page *p = c->buckets[i];
		while (p) {
			struct mv_page *next = p->next;
			size_t h = page_hash(p->pageno, nbuckets);
			p->next = b[h];
			b[h] = p;
			p = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nbuckets;
	return true;
}

/* The cached page, reading it on a miss; NULL only on out-of-memory. */
static struct mv_page *cache_get(struct mv_target *t, uint64_t pageno)
{
	struct mv_page_cache *c = &t->cache;
	if (c->nbuckets) {
		struct mv_page *p = c->buckets[page_hash(pageno, c->nbuckets)];
		for (; p; p = p->next)
			if (p->pageno == pageno)
				return p;
	}
	/* Eviction is all at once: simple, and a walk that outgrows the
	 * cache gains little from keeping any particular part of it. */
	if (c->npages >= c->max_pages)
		mv_page_cache_clear(c);
	if (c->npages >= c->nbuckets &&
	    !cache_rehash(c, c->nbuckets ? c->nbuckets * 2 : 1024) &&
	    !c->nbuckets)
		return NULL;
	struct mv_page *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pageno = pageno;
	p->data = malloc(MV_PAGE_SIZE);
	if (!p->data) {
		free(p);
		return NULL;
	}
	if (!c->read_page(t, pageno, p->data)) {
		free(p->data);
		p->data = NULL;
	}
	size_t h = page_hash(pageno, c->nbuckets);
	p->next = c->buckets[h];
	c->buckets[h] = p;
	c->npages++;
	return p;
}

size_t mv_page_cache_read(struct mv_target *t, uint64_t address, void *buf,
			  size_t len)
{
	struct mv_page_cache *c = &t->cache;
	size_t done = 0;
	if (len >= MV_DIRECT_READ_MIN && c->read_direct) {
		done = c->read_direct(t, address, buf, len);
		if (done == len)
			return len;
	}
	while (done < len) {
		uint64_t a = address + done;
		size_t off = (size_t)(a & (MV_PAGE_SIZE - 1));
		size_t chunk = MV_PAGE_SIZE - off;
		if (chunk > len - done)
			chunk = len - done;
		struct mv_page *p = cache_get(t, a >> MV_PAGE_SHIFT);
		if (p && p->data) {
			memcpy((uint8_t *)buf + done, p->data + off, chunk);
		} else if (!p && c->read_direct &&
			   c->read_direct(t, a, (uint8_t *)buf + done, chunk) ==
				   chunk) {
			/* Out of memory for the cache: read uncached. */
		} else {
			break;
		}
		done += chunk;
	}
	return done;
}

const void *mv_page_cache_peek(struct mv_target *t, uint64_t address,
			       size_t len)
{
	struct mv_page_cache *c = &t->cache;
	size_t off = (size_t)(address & (MV_PAGE_SIZE - 1));
	if (len <= MV_PAGE_SIZE - off) {
		struct mv_page *p = cache_get(t, address >> MV_PAGE_SHIFT);
		return p && p->data ? p->data + off : NULL;
	}
	if (len > MV_PEEK_RUN_MAX)
		return NULL;
	if (c->run_cap < len) {
		uint8_t *r = realloc(c->run, len);
		if (!r)
			return NULL;
		c->run = r;
		c->run_cap = len;
	}
	if (mv_page_cache_read(t, address, c->run, len) != len)
		return NULL;
	return c->run;
}

/* ------------------------------------------------------------------ */
/* Buffer targets                                                      */
/* ------------------------------------------------------------------ */

static size_t buffer_read(struct mv_target *t, uint64_t address, void *buf,
			  size_t len, const char **why)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = address + done;
		long i = mv_target_region_index(t, a);
		if (i < 0 || !t->region_data[i]) {
			*why = "not mapped";
			break;
		}
		const struct mv_region *r = &t->regions[i];
		uint64_t avail = r->end - a;
		size_t chunk = avail < len - done ? (size_t)avail : len - done;
		memcpy((uint8_t *)buf + done,
		       (const uint8_t *)t->region_data[i] + (a - r->start),
		       chunk);
		done += chunk;
	}
	return done;
}

static const void *buffer_peek(struct mv_target *t, uint64_t address,
			       size_t len)
{
	long i = mv_target_region_index(t, address);
	if (i < 0 || !t->region_data[i])
		return NULL;
	const struct mv_region *r = &t->regions[i];
	if (len > r->end - address)
		return NULL;
	return (const uint8_t *)t->region_data[i] + (address - r->start);
}

static const struct mv_target_ops buffer_ops = {
	.kind = "buffer",
	.read = buffer_read,
	.peek = buffer_peek,
};

struct mv_error *mv_target_create_buffer(struct mv_target **ret)
{
	return mv_target_alloc(&buffer_ops, ret);
}

/* ------------------------------------------------------------------ */
/* Callback targets                                                    */
/* ------------------------------------------------------------------ */

/* Debuggers read a page about as fast as eight bytes, so whole pages are
 * cached; a remote target rarely needs more than this. */
#define MV_CALLBACK_CACHE_BYTES (64u << 20)

static bool callback_read_page(struct mv_target *t, uint64_t pageno,
			       void *buf)
{
	return t->read_fn(t->read_arg, pageno << MV_PAGE_SHIFT, buf,
			  MV_PAGE_SIZE) == 1;
}

static size_t callback_read_direct(struct mv_target *t, uint64_t address,
				   void *buf, size_t len)
{
	return t->read_fn(t->read_arg, address, buf, len) == 1 ? len : 0;
}

static size_t callback_read(struct mv_target *t, uint64_t address, void *buf,
			    size_t len, const char **why)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = address + done;
		long i = mv_target_region_index(t, a);
		if (i >= 0 && t->region_data[i]) {
			/* Declared with bytes: no need to ask the debugger. */
			const struct mv_region *r = &t->regions[i];
			uint64_t avail = r->end - a;
			size_t chunk = avail < len - done ? (size_t)avail
							  : len - done;
			memcpy((uint8_t *)buf + done,
			       (const uint8_t *)t->region_data[i] +
				       (a - r->start),
			       chunk);
			done += chunk;
			continue;
		}
		/* Up to the next region with bytes, through the callback. */
		size_t next = mv_target_region_after(t, a);
		size_t chunk = len - done;
		while (next < t->nregions && !t->region_data[next])
			next++;
		if (next < t->nregions && t->regions[next].start - a < chunk)
			chunk = (size_t)(t->regions[next].start - a);
		size_t n = mv_page_cache_read(t, a, (uint8_t *)buf + done,
					      chunk);
		if (n < chunk) {
			/* A page may fail as a whole where its tail alone
			 * would not: ask for exactly the rest of that page. */
			uint64_t b = a + n;
			size_t rest = MV_PAGE_SIZE - (size_t)(b & (MV_PAGE_SIZE - 1));
			if (rest > chunk - n)
				rest = chunk - n;
			if (t->read_fn(t->read_arg, b,
				       (uint8_t *)buf + done + n, rest) == 1) {
				done += n + rest;
				continue;
			}
			done += n;
			*why = "the debugger cannot read it";
			break;
		}
		done += chunk;
	}
	return done;
}

static const void *callback_peek(struct mv_target *t, uint64_t address,
				 size_t len)
{
	const void *p = buffer_peek(t, address, len);
	if (p)
		return p;
	if (mv_target_region_index(t, address) >= 0 &&
	    t->region_data[mv_target_region_index(t, address)])
		return NULL;
	return mv_page_cache_peek(t, address, len);
}

static void callback_invalidate(struct mv_target *t)
{
	mv_page_cache_clear(&t->cache);
}

static const struct mv_target_ops callback_ops = {
	.kind = "callback",
	.read = callback_read,
	.peek = callback_peek,
	.invalidate = callback_invalidate,
};

struct mv_error *mv_target_create_callback(mv_read_fn read, void *arg,
					   struct mv_target **ret)
{
	if (!read)
		return mv_error_create(MV_ERR_INVALID,
				       "no read callback given");
	struct mv_target *t = NULL;
	struct mv_error *err = mv_target_alloc(&callback_ops, &t);
	if (err)
		return err;
	t->read_fn = read;
	t->read_arg = arg;
	mv_page_cache_init(&t->cache, MV_CALLBACK_CACHE_BYTES);
	t->cache.read_page = callback_read_page;
	t->cache.read_direct = callback_read_direct;
	t->has_cache = true;
	*ret = t;
	return NULL;
}

struct mv_error *mv_target_add_buffer(struct mv_target *t, uint64_t address,
				      const void *data, size_t len,
				      uint32_t perms)
{
	if (!t)
		return mv_error_create(MV_ERR_INVALID, "no target");
	if (t->ops != &buffer_ops && t->ops != &callback_ops)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "cannot add memory to a %s target",
				       t->ops->kind);
	if (len == 0)
		return mv_error_create(MV_ERR_INVALID,
				       "empty buffer at 0x%" PRIx64, address);
	if (!data && t->ops == &buffer_ops)
		return mv_error_create(MV_ERR_INVALID,
				       "no data for buffer at 0x%" PRIx64,
				       address);
	if (len - 1 > UINT64_MAX - address)
		return mv_error_create(MV_ERR_INVALID,
				       "buffer at 0x%" PRIx64
				       " of %zu bytes wraps around",
				       address, len);
	uint64_t end = address + len; /* 0 if it ends at the top */
	size_t i = mv_target_region_after(t, address);
	if (i < t->nregions &&
	    (t->regions[i].start <= address ||
	     (end && t->regions[i].start < end) || !end))
		return mv_error_create(MV_ERR_INVALID,
				       "buffer at 0x%" PRIx64
				       " overlaps memory already added",
				       address);
	if (!end)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "buffer at 0x%" PRIx64
				       " reaches the top of the address space",
				       address);
	if (!grow_regions(t))
		return t->nregions >= MV_TARGET_MAX_REGIONS
			       ? mv_error_create(MV_ERR_LIMIT,
						 "too many buffers")
			       : mv_enomem;
	memmove(&t->regions[i + 1], &t->regions[i],
		(t->nregions - i) * sizeof(t->regions[0]));
	memmove(&t->region_data[i + 1], &t->region_data[i],
		(t->nregions - i) * sizeof(t->region_data[0]));
	t->regions[i] = (struct mv_region){
		.start = address,
		.end = end,
		.perms = perms,
		.dumped = len,
	};
	t->region_data[i] = data;
	t->nregions++;
	t->regions_declared = true;
	/* Declared bytes now shadow whatever the cache held there. */
	if (t->has_cache)
		mv_page_cache_clear(&t->cache);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

const char *mv_target_kind(const struct mv_target *t)
{
	return t ? t->ops->kind : NULL;
}

const char *mv_target_path(const struct mv_target *t)
{
	return t ? t->path : NULL;
}

int mv_target_pid(const struct mv_target *t)
{
	return t ? t->pid : 0;
}

/* The length that does not wrap past the top of the address space. */
static size_t clamp_len(uint64_t address, size_t len)
{
	if (len && len - 1 > UINT64_MAX - address)
		return (size_t)(UINT64_MAX - address) + 1;
	return len;
}

size_t mv_target_read_partial(struct mv_target *t, uint64_t address,
			      void *buf, size_t len)
{
	if (!t || !len)
		return 0;
	const char *why = NULL;
	return t->ops->read(t, address, buf, clamp_len(address, len), &why);
}

struct mv_error *mv_target_read(struct mv_target *t, uint64_t address,
				void *buf, size_t len)
{
	if (!t)
		return mv_error_create(MV_ERR_INVALID, "no target");
	if (!len)
		return NULL;
	const char *why = "past the end of the address space";
	size_t want = clamp_len(address, len);
	size_t n = t->ops->read(t, address, buf, want, &why);
	if (n == len)
		return NULL;
	if (n == want)
		why = "past the end of the address space";
	if (n == 0)
		return mv_error_fault(address,
				      "cannot read %zu byte%s at 0x%" PRIx64
				      ": %s",
				      len, len == 1 ? "" : "s", address, why);
	return mv_error_fault(address + n,
			      "cannot read %zu bytes at 0x%" PRIx64
			      ": 0x%" PRIx64 " %s",
			      len, address, address + n, why);
}

const void *mv_target_peek(struct mv_target *t, uint64_t address,
			   size_t len)
{
	if (!t || !len || !t->ops->peek || clamp_len(address, len) != len)
		return NULL;
	return t->ops->peek(t, address, len);
}

void mv_target_will_read(struct mv_target *t, uint64_t start, uint64_t end)
{
	if (t && t->ops->will_read && start < end)
		t->ops->will_read(t, start, end);
}

const void *mv_target_peek_stable(struct mv_target *t, uint64_t address,
				  size_t len)
{
	if (!t || t->has_cache)
		return NULL;
	return mv_target_peek(t, address, len);
}

bool mv_target_is_mapped(struct mv_target *t, uint64_t address)
{
	if (!t)
		return false;
	long i = mv_target_region_index(t, address);
	if (t->ops == &callback_ops) {
		/* Without declared regions only a read can tell. */
		return i >= 0 || !t->regions_declared;
	}
	if (i < 0)
		return false;
	/* Buffers are readable whatever perms they were declared with:
	 * the bytes are there. */
	if (t->ops == &buffer_ops)
		return true;
	if (!(t->regions[i].perms & MV_PERM_R))
		return false;
	if (t->ops->is_readable)
		return t->ops->is_readable(t, (size_t)i, address);
	return true;
}

size_t mv_target_regions(struct mv_target *t, const struct mv_region **ret)
{
	if (!t) {
		*ret = NULL;
		return 0;
	}
	*ret = t->regions;
	return t->nregions;
}

const struct mv_region *mv_target_find_region(struct mv_target *t,
					      uint64_t address)
{
	if (!t)
		return NULL;
	long i = mv_target_region_index(t, address);
	return i < 0 ? NULL : &t->regions[i];
}

size_t mv_target_threads(struct mv_target *t, const struct mv_thread **ret)
{
	if (!t) {
		*ret = NULL;
		return 0;
	}
	*ret = t->threads;
	return t->nthreads;
}

bool mv_target_auxv(struct mv_target *t, uint64_t type, uint64_t *ret)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->nauxv; i++) {
		if (t->auxv[2 * i] == type) {
			*ret = t->auxv[2 * i + 1];
			return true;
		}
	}
	return false;
}

size_t mv_target_warnings(struct mv_target *t, const char *const **ret)
{
	if (!t) {
		*ret = NULL;
		return 0;
	}
	return mv_notes_get(&t->warnings, ret);
}

void mv_target_invalidate(struct mv_target *t)
{
	if (t && t->ops->invalidate)
		t->ops->invalidate(t);
}
