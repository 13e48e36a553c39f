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
	mv_target_clear_regions(t);
	free(t->threads);
	free(t->auxv);
	mv_notes_deinit(&t->warnings);
	free(t->path);
	free(t);
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
	.stable_peek = true,
};

struct mv_error *mv_target_create_buffer(struct mv_target **ret)
{
	return mv_target_alloc(&buffer_ops, ret);
}

/* ------------------------------------------------------------------ */
/* Callback targets                                                    */
/* ------------------------------------------------------------------ */

/* A remote debugger answers a read of 64 KiB in about the time of one of
 * eight bytes (a round trip dominates), so memory is read and kept in
 * aligned blocks; a walk rarely needs more than this. */
#define MV_CALLBACK_CACHE_BYTES (64u << 20)
#define MV_BLOCK_PAGES (MV_BLOCK_SIZE / MV_PAGE_SIZE)
/* Reads of at least this many bytes go straight to the caller's buffer
 * in one call (the blocks wholly inside are kept too). */
#define MV_DIRECT_READ_MIN (4 * MV_BLOCK_SIZE)
/* Peeks across blocks are copied into a run buffer up to this size. */
#define MV_PEEK_RUN_MAX (1u << 20)

static bool cb_read(struct mv_target *t, uint64_t address, void *buf,
		    size_t len)
{
	t->read_calls++;
	return t->read_fn(t->read_arg, address, buf, len) == 1;
}

static void block_cache_clear(struct mv_block_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct mv_block *b = c->buckets[i];
		while (b) {
			struct mv_block *next = b->next;
			free(b->data);
			free(b);
			b = next;
		}
		c->buckets[i] = NULL;
	}
	c->nblocks = 0;
	c->last = NULL;
}

static void block_cache_deinit(struct mv_block_cache *c)
{
	block_cache_clear(c);
	free(c->buckets);
	free(c->run);
	memset(c, 0, sizeof(*c));
}

static size_t block_hash(uint64_t blockno, size_t nbuckets)
{
	/* Fibonacci hashing: consecutive blocks spread over the buckets. */
	return (size_t)((blockno * 0x9e3779b97f4a7c15ull) >> 20) &
	       (nbuckets - 1);
}

static bool block_rehash(struct mv_block_cache *c, size_t nbuckets)
{
	struct mv_block **n = calloc(nbuckets, sizeof(*n));
	if (!n)
		return false;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct mv_block *b = c->buckets[i];
		while (b) {
			struct mv_block *next = b->next;
			size_t h = block_hash(b->blockno, nbuckets);
			b->next = n[h];
			n[h] = b;
			b = next;
		}
	}
	free(c->buckets);
	c->buckets = n;
	c->nbuckets = nbuckets;
	return true;
}

/* Page bits of the whole pages inside [lo, hi) (offsets in a block). */
static uint32_t page_bits(size_t lo, size_t hi)
{
	size_t first = (lo + MV_PAGE_SIZE - 1) >> MV_PAGE_SHIFT;
	size_t last = hi >> MV_PAGE_SHIFT; /* exclusive */
	if (first >= last)
		return 0;
	uint32_t upto = last >= 32 ? UINT32_MAX : (1u << last) - 1;
	return upto & ~((1u << first) - 1);
}

/* Where [off, block end) may be read from: the next run of memory that
 * a declared region says is readable and that the debugger must be asked
 * for (declared bytes are not), as [*lo, *hi).  False when there is none
 * in the block.  Without declared regions, all of it. */
static bool next_run(struct mv_target *t, uint64_t base, size_t off,
		     size_t *lo, size_t *hi)
{
	if (off >= MV_BLOCK_SIZE)
		return false;
	if (!t->regions_declared) {
		*lo = off;
		*hi = MV_BLOCK_SIZE;
		return true;
	}
	size_t i = mv_target_region_after(t, base + off);
	for (; i < t->nregions; i++) {
		const struct mv_region *r = &t->regions[i];
		if (r->start >= base + MV_BLOCK_SIZE)
			return false;
		if (t->region_data[i] || !(r->perms & MV_PERM_R))
			continue;
		*lo = r->start > base + off ? (size_t)(r->start - base) : off;
		*hi = r->end - base < MV_BLOCK_SIZE ? (size_t)(r->end - base)
						    : MV_BLOCK_SIZE;
		return true;
	}
	return false;
}

/* Whether a declared region says address cannot be read (callback
 * targets with declared regions only). */
static bool declared_unreadable(struct mv_target *t, uint64_t address)
{
	if (!t->regions_declared)
		return false;
	long i = mv_target_region_index(t, address);
	return i < 0 || (!t->region_data[i] && !(t->regions[i].perms &
						   MV_PERM_R));
}

/* Reads the runs of a new block, one debugger read each.  A run that
 * fails as a whole leaves its pages unknown: each is tried alone when
 * first needed (block_page), so bytes next to an unreadable page are
 * still found, and a bad pointer costs two reads, not sixteen. */
static void block_fill(struct mv_target *t, struct mv_block *b)
{
	uint64_t base = b->blockno << MV_BLOCK_SHIFT;
	size_t off = 0, lo, hi;
	b->known = UINT32_MAX; /* outside every run: known unreadable */
	while (next_run(t, base, off, &lo, &hi)) {
		uint32_t bits = page_bits(lo & ~(size_t)(MV_PAGE_SIZE - 1),
					  (hi + MV_PAGE_SIZE - 1) &
						  ~(size_t)(MV_PAGE_SIZE - 1));
		if (cb_read(t, base + lo, b->data + lo, hi - lo))
			b->readable |= page_bits(lo, hi);
		b->known &= ~(bits & ~b->readable);
		off = hi;
	}
}

/* Makes page p of block b known: tried alone if its run failed; if that
 * fails too, its first and last bytes tell a page no byte of which can
 * be read (a bad pointer, a guard page: nothing more is asked there)
 * from one a mapping ends in. */
static void block_page(struct mv_target *t, struct mv_block *b, size_t p)
{
	uint32_t bit = 1u << p;
	if (b->known & bit)
		return;
	b->known |= bit;
	uint64_t base = (b->blockno << MV_BLOCK_SHIFT) + p * MV_PAGE_SIZE;
	uint8_t *data = b->data + p * MV_PAGE_SIZE;
	if (cb_read(t, base, data, MV_PAGE_SIZE))
		b->readable |= bit;
	else if (cb_read(t, base, data, 1) ||
		 cb_read(t, base + MV_PAGE_SIZE - 1, data, 1))
		b->partial |= bit;
}

/* The cached block, or NULL. */
static struct mv_block *block_find(struct mv_block_cache *c, uint64_t blockno)
{
	if (c->last && c->last->blockno == blockno)
		return c->last;
	if (!c->nbuckets)
		return NULL;
	struct mv_block *b = c->buckets[block_hash(blockno, c->nbuckets)];
	for (; b; b = b->next)
		if (b->blockno == blockno)
			return c->last = b;
	return NULL;
}

/* A new block in the cache, its bytes not read; NULL on out-of-memory. */
static struct mv_block *block_add(struct mv_block_cache *c, uint64_t blockno)
{
	/* Eviction is all at once: simple, and a walk that outgrows the
	 * cache gains little from keeping any particular part of it. */
	if (c->nblocks >= c->max_blocks)
		block_cache_clear(c);
	if (c->nblocks >= c->nbuckets &&
	    !block_rehash(c, c->nbuckets ? c->nbuckets * 2 : 256) &&
	    !c->nbuckets)
		return NULL;
	struct mv_block *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->blockno = blockno;
	b->data = malloc(MV_BLOCK_SIZE);
	if (!b->data) {
		free(b);
		return NULL;
	}
	size_t h = block_hash(blockno, c->nbuckets);
	b->next = c->buckets[h];
	c->buckets[h] = b;
	c->nblocks++;
	return c->last = b;
}

/* The cached block, reading it on a miss; NULL only on out-of-memory. */
static struct mv_block *block_get(struct mv_target *t, uint64_t blockno)
{
	struct mv_block *b = block_find(&t->cache, blockno);
	if (!b && (b = block_add(&t->cache, blockno)))
		block_fill(t, b);
	return b;
}

/* Keeps the whole blocks of a large read that worked: a heap walk reads
 * the heap a window at a time, and gc reads its blocks again after. */
static void keep_blocks(struct mv_target *t, uint64_t address,
			const uint8_t *buf, size_t len)
{
	uint64_t first = (address + MV_BLOCK_SIZE - 1) >> MV_BLOCK_SHIFT;
	uint64_t end = (address + len) >> MV_BLOCK_SHIFT;
	for (uint64_t n = first; n < end; n++) {
		if (block_find(&t->cache, n))
			continue;
		struct mv_block *b = block_add(&t->cache, n);
		if (!b)
			return;
		memcpy(b->data, buf + ((n << MV_BLOCK_SHIFT) - address),
		       MV_BLOCK_SIZE);
		b->known = UINT32_MAX;
		b->readable = (1u << (MV_BLOCK_SIZE / MV_PAGE_SIZE)) - 1;
	}
}

/* Whether the page of address may hold readable bytes though it cannot
 * be read whole (see block_page). */
static bool page_partial(struct mv_target *t, uint64_t address)
{
	if (declared_unreadable(t, address))
		return false;
	struct mv_block *b = block_get(t, address >> MV_BLOCK_SHIFT);
	if (!b)
		return true; /* uncached: try */
	size_t p = (size_t)(address & (MV_BLOCK_SIZE - 1)) >> MV_PAGE_SHIFT;
	block_page(t, b, p);
	return (b->partial >> p) & 1;
}

/* How many of the len bytes at offset off of block b are readable
 * before the first unreadable page. */
static size_t block_prefix(struct mv_target *t, struct mv_block *b,
			   size_t off, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t p = (off + done) >> MV_PAGE_SHIFT;
		block_page(t, b, p);
		if (!(b->readable & (1u << p)))
			break;
		done = (p + 1) * MV_PAGE_SIZE - off;
	}
	return done < len ? done : len;
}

/* The readable prefix of [address, address + len) through the cache. */
static size_t cache_read(struct mv_target *t, uint64_t address, void *buf,
			 size_t len)
{
	size_t done = 0;
	if (len >= MV_DIRECT_READ_MIN && cb_read(t, address, buf, len)) {
		keep_blocks(t, address, buf, len);
		return len;
	}
	while (done < len) {
		uint64_t a = address + done;
		size_t off = (size_t)(a & (MV_BLOCK_SIZE - 1));
		size_t chunk = MV_BLOCK_SIZE - off;
		if (chunk > len - done)
			chunk = len - done;
		struct mv_block *b = block_get(t, a >> MV_BLOCK_SHIFT);
		size_t n;
		if (!b) /* out of memory for the cache: uncached */
			n = cb_read(t, a, (uint8_t *)buf + done, chunk) ? chunk
									: 0;
		else
			n = block_prefix(t, b, off, chunk);
		if (b)
			memcpy((uint8_t *)buf + done, b->data + off, n);
		done += n;
		if (n < chunk)
			break;
	}
	return done;
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
		if (declared_unreadable(t, a)) {
			*why = i < 0 ? "not mapped in the process"
				     : "mapped without read permission";
			break;
		}
		/* Up to the next region with bytes, through the callback. */
		size_t next = mv_target_region_after(t, a);
		size_t chunk = len - done;
		while (next < t->nregions && !t->region_data[next])
			next++;
		if (next < t->nregions && t->regions[next].start - a < chunk)
			chunk = (size_t)(t->regions[next].start - a);
		size_t n = cache_read(t, a, (uint8_t *)buf + done, chunk);
		if (n < chunk) {
			/* A page may fail as a whole where its head alone
			 * would not (a mapping ending inside it): ask for
			 * exactly the rest of that page. */
			uint64_t b = a + n;
			size_t rest = MV_PAGE_SIZE - (size_t)(b & (MV_PAGE_SIZE - 1));
			if (rest > chunk - n)
				rest = chunk - n;
			if (page_partial(t, b) &&
			    cb_read(t, b, (uint8_t *)buf + done + n, rest)) {
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
	long i = mv_target_region_index(t, address);
	if (i >= 0 && t->region_data[i])
		return buffer_peek(t, address, len);
	if (declared_unreadable(t, address))
		return NULL;
	struct mv_block_cache *c = &t->cache;
	size_t off = (size_t)(address & (MV_BLOCK_SIZE - 1));
	if (len <= MV_BLOCK_SIZE - off) {
		struct mv_block *b = block_get(t, address >> MV_BLOCK_SHIFT);
		if (!b || block_prefix(t, b, off, len) < len)
			return NULL;
		return b->data + off;
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
	const char *why;
	if (callback_read(t, address, c->run, len, &why) != len)
		return NULL;
	return c->run;
}

static void callback_invalidate(struct mv_target *t)
{
	block_cache_clear(&t->cache);
}

static void callback_destroy(struct mv_target *t)
{
	block_cache_deinit(&t->cache);
}

static const struct mv_target_ops callback_ops = {
	.kind = "callback",
	.read = callback_read,
	.peek = callback_peek,
	.invalidate = callback_invalidate,
	.destroy = callback_destroy,
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
	t->cache.max_blocks = MV_CALLBACK_CACHE_BYTES / MV_BLOCK_SIZE;
	t->has_cache = true;
	*ret = t;
	return NULL;
}

uint64_t mv_target_read_calls(const struct mv_target *t)
{
	return t ? t->read_calls : 0;
}

/* Inserts a region at its place; data NULL reads it through the
 * callback.  The caller checked its bounds. */
static struct mv_error *insert_region(struct mv_target *t,
				      const struct mv_region *r,
				      const void *data)
{
	size_t i = mv_target_region_after(t, r->start);
	if (i < t->nregions && t->regions[i].start < r->end)
		return mv_error_create(MV_ERR_INVALID,
				       "memory at 0x%" PRIx64
				       " overlaps memory already added",
				       r->start);
	char *path = NULL;
	if (r->path && !(path = strdup(r->path)))
		return mv_enomem;
	if (!grow_regions(t)) {
		free(path);
		return t->nregions >= MV_TARGET_MAX_REGIONS
			       ? mv_error_create(MV_ERR_LIMIT,
						 "more than %d memory regions",
						 MV_TARGET_MAX_REGIONS)
			       : mv_enomem;
	}
	memmove(&t->regions[i + 1], &t->regions[i],
		(t->nregions - i) * sizeof(t->regions[0]));
	memmove(&t->region_data[i + 1], &t->region_data[i],
		(t->nregions - i) * sizeof(t->region_data[0]));
	t->regions[i] = *r;
	t->regions[i].path = path;
	t->region_data[i] = data;
	t->nregions++;
	t->regions_declared = true;
	/* Declared regions now say what the cache may read. */
	if (t->read_fn)
		block_cache_clear(&t->cache);
	return NULL;
}

struct mv_error *mv_target_add_region(struct mv_target *t,
				      const struct mv_region *r)
{
	if (!t || !r)
		return mv_error_create(MV_ERR_INVALID, "no target");
	if (t->ops != &callback_ops)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "cannot declare regions of a %s target",
				       t->ops->kind);
	if (r->start >= r->end)
		return mv_error_create(MV_ERR_INVALID,
				       "empty region at 0x%" PRIx64, r->start);
	struct mv_region n = *r;
	n.dumped = r->end - r->start;
	return insert_region(t, &n, NULL);
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
	if (!end)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "buffer at 0x%" PRIx64
				       " reaches the top of the address space",
				       address);
	struct mv_region r = {
		.start = address,
		.end = end,
		.perms = perms,
		.dumped = len,
	};
	return insert_region(t, &r, data);
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

const char *mv_target_gone(struct mv_target *t)
{
	if (!t || !t->ops->gone)
		return NULL;
	return t->ops->gone(t);
}

void mv_target_will_read(struct mv_target *t, uint64_t start, uint64_t end)
{
	if (t && t->ops->will_read && start < end)
		t->ops->will_read(t, start, end);
}

const void *mv_target_peek_stable(struct mv_target *t, uint64_t address,
				  size_t len)
{
	if (!t || !t->ops->stable_peek)
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
		if (!t->regions_declared)
			return true;
		return i >= 0 && (t->region_data[i] ||
				  (t->regions[i].perms & MV_PERM_R));
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
