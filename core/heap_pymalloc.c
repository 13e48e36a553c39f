/* heap_pymalloc.c - CPython 3.11's small-object allocator (pymalloc) as
 * a model over the main one (glibc): its 1 MiB arenas are mmapped (or,
 * in builds without mmap, malloc'd) and cut into 16 KiB pools of one
 * size class each (16, 32, ... 512 bytes); every block is a block of
 * the index with no header of its own (MV_CHUNK_NO_HEADER).
 *
 * Layout facts (CPython 3.11 Objects/obmalloc.c, 64-bit, checked against
 * python3.11-dbg's DWARF): struct pool_header is 48 bytes: ref.count
 * (u32 at 0), freeblock (8), nextpool (16), prevpool (24), arenaindex
 * (u32 at 32), szidx (36), nextoffset (40), maxnextoffset (44).  struct
 * arena_object is 48 bytes: address (0), pool_address (8, the next pool
 * never carved), nfreepools (16), ntotalpools (20), freepools (24), ...
 * A used pool's blocks below nextoffset were handed out at least once:
 * each is either allocated or on the pool's freeblock list; blocks at
 * or above nextoffset were never used.  A pool with count 0 is empty.
 *
 * Found two ways: with the static symbols arenas and maxarenas (python's
 * debug build, or any build with its symbol table), the arena table; or
 * without them (Debian's release python3.11 is stripped), by scanning
 * anonymous writable mappings at each 16 KiB boundary for pool headers
 * whose fields agree with each other, taken only when the program is
 * CPython (it exports PyObject_Malloc). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"

#define POOL_SIZE 16384u
#define ARENA_SIZE (1u << 20)
#define POOL_OVERHEAD 48u
#define SIZE_CLASSES 32u
#define ARENA_OBJECT_SIZE 48u
#define MAX_BLOCKS ((POOL_SIZE - POOL_OVERHEAD) / 16u)
/* The arena table is grown by doubling from 16; a million arenas are a
 * TiB of small objects. */
#define MAX_ARENAS (1u << 20)

struct pm_arena {
	uint64_t start, end;   /* the range it owns (segment) */
	uint64_t first, limit; /* its carved pools [first, limit) */
	uint64_t object;       /* its struct arena_object, 0 if unknown */
	uint32_t index;        /* arenaindex its pools carry */
};

struct pm {
	struct mv_heap *h;
	struct mv_target *t;
	struct pm_arena *a;
	size_t na, cap;
	uint8_t *pool;         /* one pool's bytes */
	uint64_t pools_used, pools_empty, pools_bad;
	uint64_t bad_chains;
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

static struct mv_error *add_pm_arena(struct pm *m, const struct pm_arena *a)
{
	if (m->na == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct pm_arena *n = realloc(m->a, cap * sizeof(*n));
		if (!n)
			return mv_enomem;
		m->a = n;
		m->cap = cap;
	}
	m->a[m->na++] = *a;
	return NULL;
}

/* Whether a used pool's header agrees with itself: a size class, the
 * last offset that class allows, a next offset on a block boundary
 * within it, and no more blocks counted than were carved. */
static bool header_ok(const uint8_t *hdr)
{
	uint32_t count = ld32(hdr), szidx = ld32(hdr + 36);
	uint32_t next = ld32(hdr + 40), maxnext = ld32(hdr + 44);
	if (szidx >= SIZE_CLASSES)
		return false;
	uint32_t size = (szidx + 1) * 16;
	if (maxnext != POOL_SIZE - size || next < POOL_OVERHEAD + size ||
	    next > maxnext + size || (next - POOL_OVERHEAD) % size)
		return false;
	return count <= (next - POOL_OVERHEAD) / size;
}

/* Adds one pool's header and blocks to the index. */
static struct mv_error *walk_pool(struct pm *m, uint64_t pool,
				  const struct pm_arena *a, uint32_t ai)
{
	struct mv_heap *h = m->h;
	if (mv_target_read_partial(m->t, pool, m->pool, POOL_SIZE) !=
	    POOL_SIZE) {
		m->pools_bad++;
		return mv_heap_note(h, "pymalloc pool at 0x%llx is not in "
				       "memory; its blocks are not seen",
				    (unsigned long long)pool);
	}
	const uint8_t *hdr = m->pool;
	uint32_t count = ld32(hdr);
	if (!count) {
		/* Empty (on its arena's freepools list): nothing allocated,
		 * whatever its stale header says. */
		m->pools_empty++;
		return mv_heap_add_chunk(h, pool, POOL_OVERHEAD,
					 MV_CHUNK_METADATA |
						 MV_CHUNK_NO_HEADER,
					 MV_LIST_NONE, ai);
	}
	if (!header_ok(hdr) || ld32(hdr + 32) != a->index) {
		m->pools_bad++;
		return mv_heap_note(
			h, "pymalloc pool at 0x%llx: header is not CPython "
			   "3.11's (size index %u, next offset %u, arena %u "
			   "where %u was expected); its blocks are not seen",
			(unsigned long long)pool, ld32(hdr + 36),
			ld32(hdr + 40), ld32(hdr + 32), a->index);
	}
	m->pools_used++;
	uint32_t size = (ld32(hdr + 36) + 1) * 16;
	uint32_t carved = (ld32(hdr + 40) - POOL_OVERHEAD) / size;
	uint8_t free_[MAX_BLOCKS];
	memset(free_, 0, carved);
	/* The freeblock list, bounded by the blocks carved: each link must
	 * be a block of this pool below nextoffset, each at most once. */
	uint64_t p = ld64(hdr + 8);
	uint32_t nfree = 0;
	while (p) {
		uint64_t off = p - pool;
		if (p < pool || off < POOL_OVERHEAD ||
		    off >= POOL_OVERHEAD + (uint64_t)carved * size ||
		    (off - POOL_OVERHEAD) % size ||
		    free_[(off - POOL_OVERHEAD) / size]) {
			m->bad_chains++;
			struct mv_error *err = mv_heap_note(
				h, "pymalloc pool at 0x%llx: free list link "
				   "0x%llx is not a free block of the pool; "
				   "the list is cut there",
				(unsigned long long)pool, (unsigned long long)p);
			if (err)
				return err;
			break;
		}
		uint32_t k = (uint32_t)((off - POOL_OVERHEAD) / size);
		free_[k] = 1;
		nfree++;
		p = ld64(m->pool + off);
	}
	if (carved - nfree != count) {
		struct mv_error *err = mv_heap_note(
			h, "pymalloc pool at 0x%llx counts %u blocks in use "
			   "but %u were carved and %u are on its free list",
			(unsigned long long)pool, count, carved, nfree);
		if (err)
			return err;
	}
	struct mv_error *err = mv_heap_add_chunk(
		h, pool, POOL_OVERHEAD, MV_CHUNK_METADATA | MV_CHUNK_NO_HEADER,
		MV_LIST_NONE, ai);
	for (uint32_t k = 0; k < carved && !err && !h->stopped; k++) {
		uint64_t b = pool + POOL_OVERHEAD + (uint64_t)k * size;
		if (free_[k])
			err = mv_heap_add_chunk(h, b, size,
						MV_CHUNK_FREE_LIST |
							MV_CHUNK_NO_HEADER,
						MV_LIST_POOL, ai);
		else
			err = mv_heap_add_chunk(h, b, size,
						MV_CHUNK_IN_USE |
							MV_CHUNK_NO_HEADER,
						MV_LIST_NONE, ai);
	}
	return err;
}

/* The arena table through the symbols arenas and maxarenas. */
static struct mv_error *arenas_from_symbols(struct pm *m, bool *found)
{
	uint64_t sym_arenas, sym_max, size_arenas, size_max;
	*found = false;
	if (!mv_program_find_symbol(m->h->program, "arenas", &sym_arenas,
				    &size_arenas) ||
	    !mv_program_find_symbol(m->h->program, "maxarenas", &sym_max,
				    &size_max) ||
	    !mv_program_find_symbol(m->h->program, "usedpools", NULL, NULL) ||
	    size_arenas != 8 || size_max != 4)
		return NULL;
	uint8_t w[8];
	if (mv_target_read_partial(m->t, sym_arenas, w, 8) != 8)
		return NULL;
	uint64_t table = ld64(w);
	if (mv_target_read_partial(m->t, sym_max, w, 4) != 4)
		return NULL;
	uint32_t max = ld32(w);
	*found = true;
	if (!table || !max)
		return NULL; /* PYTHONMALLOC=malloc, or nothing yet */
	if (max > MAX_ARENAS) {
		struct mv_error *err = mv_heap_note(
			m->h, "pymalloc: maxarenas is %u; only the first %u "
			      "arenas are read", max, MAX_ARENAS);
		if (err)
			return err;
		max = MAX_ARENAS;
	}
	for (uint32_t i = 0; i < max; i++) {
		if (i % 4096 == 4095) {
			struct mv_error *err = mv_heap_poll(m->h);
			if (err)
				return err;
		}
		uint8_t o[ARENA_OBJECT_SIZE];
		uint64_t at = table + (uint64_t)i * ARENA_OBJECT_SIZE;
		if (mv_target_read_partial(m->t, at, o, sizeof(o)) !=
		    sizeof(o))
			return mv_heap_note(m->h, "pymalloc: the arena table "
						  "at 0x%llx is cut at arena %u",
					    (unsigned long long)table, i);
		uint64_t address = ld64(o), next = ld64(o + 8);
		if (!address)
			continue; /* a slot with no arena */
		uint64_t first = (address + POOL_SIZE - 1) &
				 ~(uint64_t)(POOL_SIZE - 1);
		if (address + ARENA_SIZE < address || next < first ||
		    next > address + ARENA_SIZE ||
		    (next - first) % POOL_SIZE) {
			struct mv_error *err = mv_heap_note(
				m->h, "pymalloc arena %u at 0x%llx: next pool "
				      "0x%llx is not one of its pools; skipped",
				i, (unsigned long long)address,
				(unsigned long long)next);
			if (err)
				return err;
			continue;
		}
		struct pm_arena a = {
			.start = address, .end = address + ARENA_SIZE,
			.first = first, .limit = next, .object = at, .index = i,
		};
		struct mv_error *err = add_pm_arena(m, &a);
		if (err)
			return err;
	}
	return NULL;
}

/* Without symbols: pool headers at 16 KiB boundaries of anonymous
 * writable mappings, grouped into arenas by the arena index they carry
 * (an arena's pools are within 1 MiB of each other). */
static struct mv_error *arenas_from_scan(struct pm *m)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(m->t, &r);
	struct pm_arena cur = {0};
	bool open = false;
	uint64_t polled = 0;
	for (size_t i = 0; i < nr; i++) {
		if ((r[i].path && r[i].path[0]) ||
		    (r[i].perms & (MV_PERM_R | MV_PERM_W)) !=
			    (MV_PERM_R | MV_PERM_W))
			continue;
		uint64_t p = (r[i].start + POOL_SIZE - 1) &
			     ~(uint64_t)(POOL_SIZE - 1);
		for (; p + POOL_SIZE <= r[i].end && p >= r[i].start;
		     p += POOL_SIZE) {
			if (++polled % 4096 == 0) {
				struct mv_error *err = mv_heap_poll(m->h);
				if (err)
					return err;
			}
			uint8_t hdr[POOL_OVERHEAD];
			if (mv_target_read_partial(m->t, p, hdr, sizeof(hdr)) !=
			    sizeof(hdr))
				continue;
			/* An empty pool keeps its last header, so it passes
			 * too (then its count is 0). */
			if (!header_ok(hdr))
				continue;
			uint32_t index = ld32(hdr + 32);
			if (open && index == cur.index &&
			    p + POOL_SIZE - cur.first <= ARENA_SIZE &&
			    p == cur.limit) {
				cur.limit = cur.end = p + POOL_SIZE;
				continue;
			}
			if (open) {
				struct mv_error *err = add_pm_arena(m, &cur);
				if (err)
					return err;
			}
			cur = (struct pm_arena){
				.start = p, .end = p + POOL_SIZE, .first = p,
				.limit = p + POOL_SIZE, .index = index,
			};
			open = true;
		}
	}
	if (open)
		return add_pm_arena(m, &cur);
	return NULL;
}

/* A chunk of the main model holding an arena (a malloc'd arena), or
 * starting inside one, is pymalloc's now: each byte has one model. */
static struct mv_error *take_over(struct pm *m)
{
	return mv_heap_take_spans(m->h, m->a, m->na, sizeof(struct pm_arena));
}

static int arena_cmp(const void *x, const void *y)
{
	const struct pm_arena *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

static struct mv_error *pymalloc_open(struct mv_heap *h,
				      const struct mv_heap_options *o)
{
	(void)o;
	struct pm m = {.h = h, .t = h->target};
	bool by_symbols;
	struct mv_error *err = arenas_from_symbols(&m, &by_symbols);
	if (!err && !by_symbols) {
		/* Only in CPython: elsewhere nothing is scanned. */
		if (!mv_program_find_symbol(h->program, "PyObject_Malloc", NULL,
					    NULL)) {
			err = mv_error_create(MV_ERR_NOT_FOUND, "not CPython");
			goto out;
		}
		err = arenas_from_scan(&m);
	}
	if (err)
		goto out;
	if (!m.na) {
		err = mv_error_create(MV_ERR_NOT_FOUND,
				      "no pymalloc arena in memory");
		goto out;
	}
	qsort(m.a, m.na, sizeof(*m.a), arena_cmp);
	for (size_t k = 1; k < m.na; k++)
		if (m.a[k].start < m.a[k - 1].end) {
			err = mv_heap_note(h, "pymalloc arenas at 0x%llx and "
					      "0x%llx overlap; the second is "
					      "skipped",
					   (unsigned long long)m.a[k - 1].start,
					   (unsigned long long)m.a[k].start);
			if (err)
				goto out;
			memmove(&m.a[k], &m.a[k + 1],
				(m.na - k - 1) * sizeof(*m.a));
			m.na--;
			k--;
		}
	if ((err = take_over(&m)))
		goto out;
	m.pool = malloc(POOL_SIZE);
	if (!m.pool) {
		err = mv_enomem;
		goto out;
	}
	for (size_t k = 0; k < m.na && !h->stopped; k++) {
		struct pm_arena *a = &m.a[k];
		struct mv_heap_arena ha = {
			.kind = MV_ARENA_PYMALLOC,
			.address = a->object,
			.system_mem = a->end - a->start,
			.have_bins = true,
		};
		uint32_t ai;
		if ((err = mv_heap_add_arena(h, &ha, &ai)))
			goto out;
		struct mv_heap_segment s = {
			.start = a->start, .end = a->end,
			.first_chunk = a->first, .arena = ai,
		};
		if ((err = mv_heap_add_segment(h, &s)))
			goto out;
		mv_target_will_read(h->target, a->first, a->limit);
		for (uint64_t p = a->first; p < a->limit && !h->stopped;
		     p += POOL_SIZE) {
			if ((err = walk_pool(&m, p, a, ai)) ||
			    (err = mv_heap_poll(h)))
				goto out;
		}
	}
	char *d;
	if (asprintf(&d, "%s; CPython pymalloc (%zu arena%s, %s)",
		     mv_heap_description(h), m.na, m.na == 1 ? "" : "s",
		     by_symbols ? "from its symbols arenas and maxarenas"
				: "found by its pool headers") < 0) {
		err = mv_enomem;
		goto out;
	}
	free(h->description);
	h->description = d;
out:
	free(m.pool);
	free(m.a);
	return err;
}

const struct mv_heap_ops mv_heap_pymalloc_ops = {
	.name = "CPython pymalloc",
	.open = pymalloc_open,
};
