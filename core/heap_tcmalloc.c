/* heap_tcmalloc.c - gperftools tcmalloc 2.10 (Debian 12's
 * libtcmalloc-minimal4 and libtcmalloc4, release builds, 8 KiB pages,
 * 48-bit addresses) as a heap model next to glibc's, for programs
 * linked with -ltcmalloc(_minimal) or running with it in LD_PRELOAD.
 * Debian ships no debug symbols for it, and tcmalloc::Static's members
 * (the page heap, the size map, the central lists) are hidden: only
 * tcmalloc::MetaDataAlloc and tcmalloc::ThreadCache::thread_heaps_ are
 * exported.  The layouts below are gperftools' own (src/span.h,
 * pagemap.h, common.h, central_freelist.h, thread_cache.h at tag
 * gperftools-2.10, 64-bit), and each is checked against the memory read:
 *
 * The pagemap is a TCMalloc_PageMap2<35>: root_[2^17] leaf pointers,
 * each leaf 2^18 Span pointers (one per 8 KiB page), then allocator_,
 * which is &MetaDataAlloc: the one word of the library's data equal to
 * it ends the root.  A Span (48 bytes): start page (0), length in pages
 * (8), next (16), prev (24), objects (32: its free objects' list), then
 * bit fields at 40: refcount (16 bits: objects handed out), sizeclass
 * (8), location (2: 0 in use, 1 on the normal free lists, 2 returned).
 * The pagemap names a span at its first page (and others); a span of
 * size class c cuts its pages into objects of class_to_size_[c] bytes,
 * every one of which is either handed out or on a free list: the span's
 * objects, a transfer cache slot of the central list of c, or a thread
 * cache's list for c.  A span of size class 0 in use is one large block.
 *
 * SizeMap: class_to_size_ (int32[128]: 0, 8, 16, 32, ... 262144), then
 * class_to_pages_ (size_t[128]) and num_size_classes, found by that
 * pattern in the library's data (num_objects_to_move_, int[128], before
 * class_to_size_, bounds a transfer cache slot's batch)
 * pattern in the library's data.  CentralFreeListPadded[128], 1216
 * bytes each: size_class_ (8), tc_slots_ (128: 64 of head, tail),
 * used_slots_ (int32 at 1152), found by size_class_ = its index.
 * ThreadCache (from thread_heaps_, linked by next_): list_[128] of
 * FreeList (32 bytes: list_ 0, length_ u32 8, size_ i32 24), next_ at
 * 4144, prev_ at 4152. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"

#define PAGE_SHIFT 13
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define LEAF_BITS 18
#define LEAF_LEN (1u << LEAF_BITS)
#define ROOT_LEN (1u << 17)
#define MAX_CLASSES 128
#define MAX_SIZE 262144
#define SPAN_SIZEOF 48
#define SPAN_START 0
#define SPAN_LENGTH 8
#define SPAN_OBJECTS 32
#define SPAN_BITS 40
#define CFL_SIZEOF 1216
#define CFL_CLASS 8
#define CFL_SLOTS 128
#define CFL_NSLOTS 64
#define CFL_USED 1152
#define TC_LIST_SIZEOF 32
#define TC_LIST_LEN 8
#define TC_LIST_SIZE 24
#define TC_NEXT 4144
#define TC_PREV 4152
#define TC_SIZEOF 4160
#define MAX_CACHES 4096
/* Objects of one thread cache list read at most (tcmalloc keeps 8192),
 * of all caches together, and spans that are not spans before the
 * pagemap is given up on. */
#define MAX_LIST 65536u
#define MAX_CACHED (1u << 24)
#define MAX_BAD_SPANS 4096u
/* The library's data read at most around thread_heaps_. */
#define DATA_REACH (16ull << 20)

struct tc_span {
	uint64_t start, end;
};

struct tc {
	struct mv_heap *h;
	struct mv_target *t;
	uint8_t *data;           /* the library's writable data */
	uint64_t data_at, data_len;
	uint64_t root_at;
	int32_t c2s[MAX_CLASSES];
	uint64_t pages[MAX_CLASSES];
	uint32_t batch[MAX_CLASSES]; /* num_objects_to_move_ */
	unsigned nclasses;
	uint64_t central;        /* 0: not found (notes) */
	uint64_t *cached;        /* free objects in the caches, sorted: each
				    address << 8 | its enum mv_heap_list */
	size_t ncached, cached_cap;
	struct tc_span *runs;    /* contiguous spans: the heap segments */
	size_t nruns, runs_cap;
	uint8_t *state;          /* per object of the span being walked */
	uint64_t spans, bad_spans, bad_lists, caches;
	uint32_t ai;             /* the page heap's arena */
	uint64_t *meta;          /* spans, leaves, thread caches */
	size_t nmeta, meta_cap;
};

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static bool rd64(struct tc *m, uint64_t a, uint64_t *v)
{
	uint8_t b[8];
	if (mv_target_read_partial(m->t, a, b, 8) != 8)
		return false;
	*v = ld64(b);
	return true;
}

/* The writable mappings around thread_heaps_ (the library's .data and
 * .bss, which hold tcmalloc::Static's members), read whole. */
static struct mv_error *read_data(struct tc *m, uint64_t anchor)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(m->t, &r);
	uint64_t lo = anchor, hi = anchor;
	size_t i;
	for (i = 0; i < nr; i++)
		if (r[i].start <= anchor && anchor < r[i].end)
			break;
	if (i == nr || !(r[i].perms & MV_PERM_W))
		return mv_error_create(MV_ERR_NOT_FOUND, "2.10: the library's "
				       "data is not in memory");
	lo = r[i].start;
	hi = r[i].end;
	/* Adjacent writable mappings: .data before the anonymous .bss. */
	for (size_t k = i; k > 0 && r[k - 1].end == lo &&
			   (r[k - 1].perms & MV_PERM_W) &&
			   anchor - r[k - 1].start < DATA_REACH;
	     k--)
		lo = r[k - 1].start;
	for (size_t k = i + 1; k < nr && r[k].start == hi &&
			       (r[k].perms & MV_PERM_W) &&
			       r[k].end - anchor < DATA_REACH;
	     k++)
		hi = r[k].end;
	if (hi - lo > 2 * DATA_REACH)
		return mv_error_create(MV_ERR_NOT_FOUND, "2.10: the library's "
				       "data is larger than expected");
	m->data = malloc(hi - lo);
	if (!m->data)
		return mv_enomem;
	m->data_at = lo;
	m->data_len = mv_target_read_partial(m->t, lo, m->data, hi - lo);
	return NULL;
}

/* The pagemap's root: the 2^17 words before the one that holds
 * &MetaDataAlloc; each 0 or an 8-byte aligned address. */
static bool find_root(struct tc *m, uint64_t metadata_alloc)
{
	uint64_t root_bytes = (uint64_t)ROOT_LEN * 8;
	for (uint64_t off = root_bytes; off + 8 <= m->data_len; off += 8) {
		if (ld64(m->data + off) != metadata_alloc)
			continue;
		const uint8_t *root = m->data + off - root_bytes;
		uint64_t leaves = 0;
		bool ok = true;
		for (uint32_t k = 0; k < ROOT_LEN && ok; k++) {
			uint64_t v = ld64(root + (uint64_t)k * 8);
			ok = !(v & 7) && v < (1ull << 48);
			leaves += v != 0;
		}
		if (ok && leaves) {
			m->root_at = m->data_at + off - root_bytes;
			return true;
		}
	}
	return false;
}

/* SizeMap: class_to_size_ 0, 8, 16, then increasing multiples of 8 up
 * to 256 KiB; num_size_classes after class_to_pages_. */
static bool find_sizemap(struct tc *m)
{
	for (uint64_t off = 0; off + 2048 <= m->data_len; off += 4) {
		const uint8_t *p = m->data + off;
		if (ld32(p) != 0 || ld32(p + 4) != 8 || ld32(p + 8) != 16)
			continue;
		uint64_t pages_off = (off + 512 + 7) & ~7ull;
		if (pages_off + 1032 > m->data_len)
			continue;
		uint64_t n = ld64(m->data + pages_off + 1024);
		if (n < 3 || n > MAX_CLASSES)
			continue;
		bool ok = ld32(p + (n - 1) * 4) == MAX_SIZE;
		for (uint64_t c = 1; c < n && ok; c++) {
			uint32_t s = ld32(p + c * 4);
			uint64_t pg = ld64(m->data + pages_off + c * 8);
			ok = !(s & 7) && s > ld32(p + (c - 1) * 4) && pg >= 1 &&
			     pg <= 128 && pg * PAGE_SIZE >= s;
		}
		if (!ok)
			continue;
		m->nclasses = (unsigned)n;
		for (uint64_t c = 0; c < n; c++) {
			/* num_objects_to_move_ before class_to_size_. */
			m->batch[c] = off >= 512 ? ld32(p - 512 + c * 4) : 0;
			m->c2s[c] = (int32_t)ld32(p + c * 4);
			m->pages[c] = ld64(m->data + pages_off + c * 8);
		}
		return true;
	}
	return false;
}

/* central_cache_: CentralFreeListPadded[128] whose size_class_ are
 * their indexes (those past num_size_classes were never set up). */
static bool find_central(struct tc *m)
{
	uint64_t need = (uint64_t)m->nclasses * CFL_SIZEOF;
	for (uint64_t off = 0; off + need <= m->data_len; off += 8) {
		bool ok = true;
		for (unsigned c = 0; c < m->nclasses && ok; c++) {
			const uint8_t *f = m->data + off + (uint64_t)c * CFL_SIZEOF;
			uint32_t used = ld32(f + CFL_USED);
			ok = ld64(f + CFL_CLASS) == c && used <= CFL_NSLOTS;
		}
		if (ok) {
			m->central = m->data_at + off;
			return true;
		}
	}
	return false;
}

/* Appends v to a growing array. */
static struct mv_error *push(uint64_t **a, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		uint64_t *grown = realloc(*a, c * sizeof(**a));
		if (!grown)
			return mv_enomem;
		*a = grown;
		*cap = c;
	}
	(*a)[(*n)++] = v;
	return NULL;
}

static struct mv_error *add_meta(struct tc *m, uint64_t p)
{
	return push(&m->meta, &m->nmeta, &m->meta_cap, p);
}

static struct mv_error *add_cached(struct tc *m, uint64_t p, uint8_t list)
{
	return push(&m->cached, &m->ncached, &m->cached_cap, p << 8 | list);
}

/* A free list of the caches from p: at most max links (or to tail),
 * each 8-byte aligned.  The objects' spans check them later. */
static struct mv_error *walk_cached(struct tc *m, uint64_t p, uint64_t tail,
				    uint64_t max, uint8_t list,
				    const char *what, uint64_t where)
{
	uint64_t n = 0, at = p;
	const char *bad = NULL;
	while (p) {
		if ((p & 7) || n >= max) {
			bad = "is not a free object";
			break;
		}
		if (m->ncached >= MAX_CACHED) {
			bad = "is past the objects memview reads in caches";
			break;
		}
		struct mv_error *err = add_cached(m, p, list);
		if (err)
			return err;
		n++;
		at = p;
		if (p == tail)
			break;
		if (!rd64(m, p, &p)) {
			bad = "is not in memory";
			break;
		}
	}
	if (!bad)
		return NULL;
	m->bad_lists++;
	return mv_heap_note(m->h, "tcmalloc %s at 0x%llx: link 0x%llx %s; the "
			    "list is cut there", what,
			    (unsigned long long)where,
			    (unsigned long long)(p ? p : at), bad);
}

/* The thread caches (from thread_heaps_) and the central lists'
 * transfer caches: their objects are free. */
static struct mv_error *read_caches(struct tc *m, uint64_t heaps)
{
	struct mv_error *err = NULL;
	uint64_t c, prev = 0;
	if (!rd64(m, heaps, &c))
		return mv_heap_note(m->h, "tcmalloc thread_heaps_ not read: "
				    "objects in thread caches look in use");
	uint8_t *b = malloc(TC_SIZEOF);
	if (!b)
		return mv_enomem;
	while (c && !err) {
		if ((c & 7) || m->caches == MAX_CACHES ||
		    mv_target_read_partial(m->t, c, b, TC_SIZEOF) != TC_SIZEOF ||
		    ld64(b + TC_PREV) != prev) {
			m->bad_lists++;
			err = mv_heap_note(m->h, "tcmalloc thread cache 0x%llx is "
					   "not one (its prev_ does not name "
					   "the one before); the list of thread "
					   "caches is cut there",
					   (unsigned long long)c);
			break;
		}
		m->caches++;
		if ((err = add_meta(m, c)))
			break;
		for (unsigned k = 1; k < m->nclasses && !err; k++) {
			const uint8_t *fl = b + (uint64_t)k * TC_LIST_SIZEOF;
			uint64_t head = ld64(fl);
			if (!head)
				continue;
			if (ld32(fl + TC_LIST_SIZE) != (uint32_t)m->c2s[k]) {
				m->bad_lists++;
				err = mv_heap_note(m->h, "tcmalloc thread cache "
						   "0x%llx: list %u says objects "
						   "of %u bytes, not %d; skipped",
						   (unsigned long long)c, k,
						   ld32(fl + TC_LIST_SIZE),
						   m->c2s[k]);
				continue;
			}
			uint64_t len = ld32(fl + TC_LIST_LEN);
			err = walk_cached(m, head, 0,
					  len < MAX_LIST ? len + 1 : MAX_LIST,
					  MV_LIST_TC_THREAD, "thread cache", c);
		}
		prev = c;
		c = ld64(b + TC_NEXT);
		if (!err)
			err = mv_heap_poll(m->h);
	}
	free(b);
	if (err || !m->central)
		return err;
	uint8_t f[CFL_SIZEOF];
	for (unsigned k = 1; k < m->nclasses && !err; k++) {
		uint64_t at = m->central + (uint64_t)k * CFL_SIZEOF;
		if (mv_target_read_partial(m->t, at, f, sizeof(f)) != sizeof(f))
			continue;
		uint32_t used = ld32(f + CFL_USED);
		/* A slot holds a batch of num_objects_to_move_. */
		uint64_t max = m->batch[k] && m->batch[k] <= 32768 ? m->batch[k]
								    : 32768;
		for (uint32_t s = 0; s < used && s < CFL_NSLOTS && !err; s++)
			err = walk_cached(m, ld64(f + CFL_SLOTS + s * 16),
					  ld64(f + CFL_SLOTS + s * 16 + 8),
					  max, MV_LIST_TC_CENTRAL,
					  "transfer cache", at);
	}
	return err;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static size_t cached_from(struct tc *m, uint64_t a)
{
	size_t lo = 0, hi = m->ncached;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->cached[mid] >> 8 < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct mv_error *add_run(struct tc *m, uint64_t start, uint64_t end)
{
	if (m->nruns && m->runs[m->nruns - 1].end == start) {
		m->runs[m->nruns - 1].end = end;
		return NULL;
	}
	if (m->nruns == m->runs_cap) {
		size_t cap = m->runs_cap ? m->runs_cap * 2 : 64;
		struct tc_span *n = realloc(m->runs, cap * sizeof(*n));
		if (!n)
			return mv_enomem;
		m->runs = n;
		m->runs_cap = cap;
	}
	m->runs[m->nruns++] = (struct tc_span){start, end};
	return NULL;
}

static uint32_t add_flags(uint64_t size, uint32_t flags)
{
	return flags | MV_CHUNK_NO_HEADER | (size & 8 ? MV_ENTRY_PLUS8 : 0);
}

/* A span of size class c: its objects, free ones from its own list and
 * the caches.  *bad (with a note) if its list is damaged: none of its
 * objects is indexed then (a free one taken for one in use would be
 * called lost), and its pages stay out of the heap's segments, so that
 * a collection scans them as a root. */
static struct mv_error *walk_objects(struct tc *m, uint64_t span,
				     const uint8_t *sp, uint64_t start,
				     uint64_t len, unsigned c, bool *bad)
{
	struct mv_heap *h = m->h;
	uint64_t size = (uint64_t)m->c2s[c];
	uint64_t n = len * PAGE_SIZE / size, end = start + n * size;
	uint32_t refcount = ld32(sp + SPAN_BITS) & 0xffff;
	memset(m->state, 0, n);
	uint64_t p = ld64(sp + SPAN_OBJECTS), nfree = 0;
	while (p) {
		uint64_t off = p - start;
		if (p < start || p >= end || off % size || m->state[off / size]) {
			m->bad_lists++;
			*bad = true;
			return mv_heap_note(h, "tcmalloc span 0x%llx: free object "
					    "link 0x%llx is not a free object "
					    "of the span; its objects are not "
					    "seen", (unsigned long long)span,
					    (unsigned long long)p);
		}
		m->state[off / size] = MV_LIST_TC_SPAN;
		nfree++;
		if (!rd64(m, p, &p)) {
			m->bad_lists++;
			*bad = true;
			return mv_heap_note(h, "tcmalloc span 0x%llx: free object "
					    "0x%llx is not in memory; its "
					    "objects are not seen",
					    (unsigned long long)span,
					    (unsigned long long)(start + off));
		}
	}
	if (n - nfree != refcount) {
		struct mv_error *err = mv_heap_note(
			h, "tcmalloc span 0x%llx counts %u objects handed out "
			   "but %llu of its %llu are on its free list",
			(unsigned long long)span, refcount,
			(unsigned long long)nfree, (unsigned long long)n);
		if (err)
			return err;
	}
	for (size_t i = cached_from(m, start);
	     i < m->ncached && m->cached[i] >> 8 < end; i++) {
		uint64_t off = (m->cached[i] >> 8) - start;
		if (off % size == 0 && !m->state[off / size])
			m->state[off / size] = (uint8_t)m->cached[i];
	}
	struct mv_error *err = NULL;
	uint64_t sz = size & ~15ull;
	for (uint64_t b = 0; b < n && !err && !h->stopped; b++) {
		uint8_t list = m->state[b];
		err = mv_heap_add_chunk(
			h, start + b * size, sz,
			add_flags(size, list ? MV_CHUNK_FREE_LIST
					     : MV_CHUNK_IN_USE),
			list ? (enum mv_heap_list)list : MV_LIST_NONE, m->ai);
	}
	return err;
}

/* The span the pagemap names at page: in use (a large block, or
 * objects of a size class) or free.  *len is its length, 1 if it is
 * not one. */
static struct mv_error *walk_span(struct tc *m, uint64_t page, uint64_t span,
				  uint64_t *len)
{
	uint8_t sp[SPAN_SIZEOF];
	*len = 1;
	if ((span & 7) ||
	    mv_target_read_partial(m->t, span, sp, sizeof(sp)) != sizeof(sp))
		goto bad;
	uint64_t start = ld64(sp + SPAN_START), length = ld64(sp + SPAN_LENGTH);
	uint32_t bits = ld32(sp + SPAN_BITS);
	unsigned c = (bits >> 16) & 0xff, location = (bits >> 24) & 3;
	if (start != page) {
		/* Every page of the page heap is in a span, and a span's
		 * later pages are skipped: a stale entry (counted, not
		 * noted: a garbage leaf gives up after MAX_BAD_SPANS). */
		m->bad_spans++;
		return NULL;
	}
	if (!length || length > (1ull << 35) - page || location == 3 ||
	    c >= m->nclasses || (c && (location || length != m->pages[c])))
		goto bad;
	*len = length;
	m->spans++;
	struct mv_error *err = add_meta(m, span);
	if (err)
		return err;
	uint64_t a = page << PAGE_SHIFT, bytes = length << PAGE_SHIFT;
	bool damaged = false;
	if (location)
		err = mv_heap_add_chunk(m->h, a, bytes,
					MV_CHUNK_FREE_LIST | MV_CHUNK_NO_HEADER,
					MV_LIST_TC_PAGES, m->ai);
	else if (!c)
		err = mv_heap_add_chunk(m->h, a, bytes,
					MV_CHUNK_IN_USE | MV_CHUNK_NO_HEADER,
					MV_LIST_NONE, m->ai);
	else
		err = walk_objects(m, span, sp, a, length, c, &damaged);
	return err || damaged ? err : add_run(m, a, a + bytes);
bad:
	m->bad_spans++;
	return mv_heap_note(m->h, "tcmalloc span 0x%llx (named by the pagemap "
			    "at 0x%llx) is not a span of 2.10's layout; its "
			    "page is not seen", (unsigned long long)span,
			    (unsigned long long)(page << PAGE_SHIFT));
}

/* Every page the pagemap's leaves name, in order; a span's later pages
 * are skipped by its length. */
static struct mv_error *walk_pagemap(struct tc *m)
{
	struct mv_heap *h = m->h;
	const uint8_t *root = m->data + (m->root_at - m->data_at);
	uint64_t *leaf = malloc((size_t)LEAF_LEN * 8);
	if (!leaf)
		return mv_enomem;
	struct mv_error *err = NULL;
	uint64_t next = 0; /* the first page not yet covered by a span */
	for (uint64_t i1 = 0; i1 < ROOT_LEN && !err && !h->stopped; i1++) {
		uint64_t at = ld64(root + i1 * 8);
		if (!at)
			continue;
		if (mv_target_read_partial(m->t, at, leaf, (size_t)LEAF_LEN * 8) !=
		    (size_t)LEAF_LEN * 8) {
			err = mv_heap_note(h, "tcmalloc pagemap leaf 0x%llx is "
					   "not in memory; its pages are not "
					   "seen", (unsigned long long)at);
			continue;
		}
		if ((err = add_meta(m, at)))
			break;
		uint64_t base = i1 << LEAF_BITS;
		if ((err = mv_heap_poll(h)))
			break;
		for (uint64_t i2 = next > base ? next - base : 0;
		     i2 < LEAF_LEN && !err && !h->stopped; i2++) {
			if (i2 % 65536 == 0 && (err = mv_heap_poll(h)))
				break;
			if (!leaf[i2])
				continue;
			if (m->bad_spans >= MAX_BAD_SPANS) {
				err = mv_heap_note(h, "tcmalloc: more than %u "
						   "pagemap entries name no span; "
						   "the rest of the pagemap is not "
						   "read", MAX_BAD_SPANS);
				i1 = ROOT_LEN;
				break;
			}
			uint64_t len;
			err = walk_span(m, base + i2, leaf[i2], &len);
			i2 += len - 1;
			next = base + i2 + 1;
			if (!err && m->spans % 256 == 0)
				err = mv_heap_poll(h);
		}
	}
	free(leaf);
	return err;
}

/* tcmalloc's metadata (spans, pagemap leaves, thread caches) comes from
 * MetaDataAlloc's chunks, which it takes from the system as it takes
 * the page heap's memory but never enters in the pagemap: each range of
 * a mapping between the page heap's runs that holds such an object is
 * metadata, never a root (its words name free objects and spans). */
static struct mv_error *meta_gaps(struct tc *m)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(m->t, &r);
	qsort(m->meta, m->nmeta, sizeof(*m->meta), u64_cmp);
	uint64_t done = 0; /* end of the last gap marked */
	size_t ri = 0, k = 0;
	for (size_t i = 0; i < m->nmeta; i++) {
		uint64_t p = m->meta[i];
		if (p < done)
			continue;
		while (ri < nr && r[ri].end <= p)
			ri++;
		if (ri == nr || r[ri].start > p)
			continue;
		while (k < m->nruns && m->runs[k].end <= p)
			k++;
		if (k < m->nruns && m->runs[k].start <= p)
			continue; /* inside the page heap: not metadata */
		uint64_t lo = k ? m->runs[k - 1].end : 0;
		uint64_t hi = k < m->nruns ? m->runs[k].start : UINT64_MAX;
		if (lo < r[ri].start)
			lo = r[ri].start;
		if (hi > r[ri].end)
			hi = r[ri].end;
		struct mv_error *err = mv_heap_add_metadata(m->h, lo, hi);
		if (err)
			return err;
		done = hi;
	}
	return NULL;
}

static struct mv_error *describe(struct tc *m, bool minimal)
{
	struct mv_heap *h = m->h;
	char *d;
	if (asprintf(&d, "%s; tcmalloc 2.10 (gperftools%s: pagemap found by "
			 "&MetaDataAlloc, %u size classes, %llu span%s, %llu "
			 "thread cache%s%s)",
		     mv_heap_description(h), minimal ? ", minimal" : "",
		     m->nclasses, (unsigned long long)m->spans,
		     m->spans == 1 ? "" : "s", (unsigned long long)m->caches,
		     m->caches == 1 ? "" : "s",
		     m->central ? "" : ", central lists not found") < 0)
		return mv_enomem;
	free(h->description);
	h->description = d;
	return NULL;
}

/* tc_version()'s code stores the version: "movl $2, (%rdi)" at +5 and
 * "movl $10, (%rsi)" at +16 (after a test and a jump for each).
 * *major = 0 if not read. */
static void read_version(struct tc *m, uint64_t at, unsigned *major,
			 unsigned *minor)
{
	uint8_t code[22];
	*major = *minor = 0;
	if (mv_target_read_partial(m->t, at, code, sizeof(code)) ==
		    sizeof(code) &&
	    code[5] == 0xc7 && code[6] == 0x07 && code[16] == 0xc7 &&
	    code[17] == 0x06) {
		*major = ld32(code + 7);
		*minor = ld32(code + 18);
	}
}

/* tcmalloc is there but not read (another version, or data that does
 * not show 2.10's layout): an error for --allocator tcmalloc, else a
 * note, and its memory stays roots (conservative, never wrong). */
static struct mv_error *not_read(struct mv_heap *h,
				 const struct mv_heap_options *o,
				 const char *why)
{
	if (o->flags & MV_HEAP_NEED_TCMALLOC)
		return mv_error_create(MV_ERR_NOT_FOUND, "tcmalloc %s", why);
	struct mv_error *err = mv_heap_note(h, "tcmalloc %s; its heap is not "
					    "read", why);
	char *d;
	if (err)
		return err;
	if (asprintf(&d, "%s; tcmalloc not read (its memory left as roots)",
		     mv_heap_description(h)) < 0)
		return mv_enomem;
	free(h->description);
	h->description = d;
	return NULL;
}

static struct mv_error *tcmalloc_open(struct mv_heap *h,
				      const struct mv_heap_options *o)
{
	struct tc m = {.h = h, .t = h->target};
	uint64_t md, heaps;
	if (!mv_program_find_symbol(h->program, "_ZN8tcmalloc13MetaDataAllocEm",
				    &md, NULL) ||
	    !mv_program_find_symbol(h->program,
				    "_ZN8tcmalloc11ThreadCache13thread_heaps_E",
				    &heaps, NULL))
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "the program has no tcmalloc (no symbol "
				       "tcmalloc::MetaDataAlloc)");
	/* The full library has the heap profiler's entry points too. */
	bool minimal = !mv_program_find_symbol(h->program, "HeapProfilerStart",
					       NULL, NULL);
	uint64_t vat;
	unsigned major = 0, minor = 0;
	if (mv_program_find_symbol(h->program, "tc_version", &vat, NULL))
		read_version(&m, vat, &major, &minor);
	if (major != 2 || minor != 10) {
		char why[96] = "version unknown (tc_version() not read): memview "
			       "knows the layout of 2.10 (Debian 12) only";
		if (major)
			snprintf(why, sizeof(why), "version %u.%u: memview knows "
				 "the layout of 2.10 (Debian 12) only", major,
				 minor);
		return not_read(h, o, why);
	}
	struct mv_error *err = read_data(&m, heaps);
	if (err && mv_error_code(err) == MV_ERR_NOT_FOUND) {
		struct mv_error *why = err;
		err = not_read(h, o, mv_error_message(why));
		mv_error_destroy(why);
		goto out;
	}
	if (err)
		goto out;
	const char *missing = !find_root(&m, md) ? "pagemap"
			      : !find_sizemap(&m) ? "size map"
						  : NULL;
	if (missing) {
		char why[160];
		snprintf(why, sizeof(why), "2.10: its %s is not in the library's "
			 "data as 2.10 lays it out (another build?)", missing);
		err = not_read(h, o, why);
		goto out;
	}
	if (!find_central(&m) &&
	    (err = mv_heap_note(h, "tcmalloc: its central lists were not "
				"found; objects in their transfer caches "
				"look in use")))
		goto out;
	if ((err = mv_heap_add_metadata(h, m.root_at,
					m.root_at + ROOT_LEN * 8ull)) ||
	    (m.central &&
	     (err = mv_heap_add_metadata(h, m.central,
					 m.central + MAX_CLASSES *
							     (uint64_t)CFL_SIZEOF))) ||
	    (err = read_caches(&m, heaps)))
		goto out;
	qsort(m.cached, m.ncached, sizeof(*m.cached), u64_cmp);
	struct mv_heap_arena ha = {
		.kind = MV_ARENA_TCMALLOC,
		.address = m.root_at,
		.have_bins = true,
	};
	m.state = malloc(LEAF_LEN * 2);
	if (!m.state) {
		err = mv_enomem;
		goto out;
	}
	if ((err = mv_heap_add_arena(h, &ha, &m.ai)) ||
	    (err = walk_pagemap(&m)))
		goto out;
	if (!m.spans) {
		err = mv_error_create(MV_ERR_NOT_FOUND,
				      "tcmalloc: no span in its pagemap");
		goto out;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < m.nruns && !err; i++) {
		struct mv_heap_segment s = {
			.start = m.runs[i].start, .end = m.runs[i].end,
			.first_chunk = m.runs[i].start, .arena = m.ai,
		};
		total += s.end - s.start;
		err = mv_heap_add_segment(h, &s);
	}
	h->arenas[m.ai].system_mem = total;
	/* A glibc chunk in a span is tcmalloc's (its sbrk heap is ours):
	 * the main model's entries, indexed before ours, give way. */
	if (!err)
		err = mv_heap_take_spans(h, m.runs, m.nruns, sizeof(*m.runs));
	if (!err)
		err = meta_gaps(&m);
	if (!err)
		err = describe(&m, minimal);
out:
	free(m.data);
	free(m.cached);
	free(m.runs);
	free(m.state);
	free(m.meta);
	return err;
}

const struct mv_heap_ops mv_heap_tcmalloc_ops = {
	.name = "tcmalloc",
	.open = tcmalloc_open,
};
