/* heap_jemalloc.c - jemalloc 5.3.0 (Debian 12's libjemalloc2: stats,
 * prof and fill configured in, cache-oblivious large extents, no debug
 * symbols) as a heap model next to glibc's, for programs linked with
 * -ljemalloc or running with it in LD_PRELOAD.  The layouts below are
 * jemalloc's own (include/jemalloc/internal at tag 5.3.0, x86-64 with
 * LG_VADDR 48, 4 KiB pages, 16-byte quantum), checked against the
 * memory read:
 *
 * The extent map (arena_emap_global, in the library's .bss) is an rtree
 * of height 2: rtree.base (b0, the first base allocator) at 0, a 112
 * byte mutex, then root[2^18] at 120, each NULL or a leaf of 2^18 8-byte
 * elements.  Address bits 47..30 index the root, 29..12 the leaf.  A
 * leaf element packs szind (bits 63..48), the edata_t address (bits
 * 47..7), the extent state (bits 4..2), is_head (1) and slab (0).  Every
 * page of a slab is mapped, only the first and last of other extents.
 *
 * An edata_t (128 bytes) holds e_bits (arena index bits 0..11, slab
 * 12, state 17..19, szind 20..27: 232 on an inactive extent, nfree
 * 28..37), e_addr (8: the slab's first region, or a large block's user
 * pointer, randomised by up to a page inside its extent), e_size_esn
 * (16: size, page multiple) and for a slab its free-region bitmap at 64
 * (8 words, a set bit is a FREE region).
 *
 * A base allocator (base_t) keeps its 2 MiB-aligned blocks on a list
 * from blocks (160), each starting with its size and next (0, 8): the
 * arenas, edata and rtree leaves live there (metadata, never roots).
 * The arenas array (arenas[4095], .bss) points at each arena_t: ind
 * (u32 at 78928), base (78936), tcache_ql (10392, a ring of
 * tcache_slow_t linked at 0, their tcache_t at 168).  A tcache_t has
 * bins[73] of cache_bin_t (at 8, 24 bytes: stack_head at 0,
 * low_bits_empty u16 at 20): the cached blocks (free for the program,
 * allocated for the slab) are stack_head[0 .. (low_bits_empty -
 * (u16)stack_head) / 8).  The stacks live in one internal allocation
 * of arena 0 (metadata).
 *
 * Found from the exported mallctl/sallocx (which library), its version
 * string in the library's read-only data (5.3.0-0-g54eaed1d), then the
 * library's writable data for a word pointing at a base_t, 120 bytes
 * before a root array one of whose leaves maps a page to an edata
 * covering it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"

#define JE_VERSION "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
#define PAGE 4096ull
#define HUGEPAGE (2ull << 20)
#define ROOT_AT 120
#define LEVEL_BITS 18
#define NLEAF (1u << LEVEL_BITS)
#define ED_SIZEOF 128
#define ED_BITS 0
#define ED_ADDR 8
#define ED_SIZE 16
#define ED_BITMAP 64
#define ED_ALIGN 128
#define BASE_BLOCKS 160
#define ARENA_TCACHE_QL 10392
#define ARENA_IND 78928
#define ARENA_BASE 78936
#define TS_TCACHE 168
#define TC_BINS 8
#define CB_SIZEOF 24
#define CB_EMPTY 20
#define NBINS_MAX 73
#define NBINS 36 /* small size classes */
#define NSIZES 232
#define ARENA_LIMIT 4095
#define STATE_ACTIVE 0
#define STATE_RETAINED 3
#define MAX_SLAB_REGS 512
/* Bounds on what hostile metadata can make us hold: base blocks (all
 * bases), tcaches, root array candidates and the leaves tried for each. */
#define MAX_BASE_BLOCKS 100000
#define MAX_TCACHES 65536
#define MAX_CANDIDATES 64
#define MAX_LEAF_TRIES 16
#define MAX_CACHED 8192 /* per bin: ncached_max is at most this */
/* The library's writable data read at most. */
#define MAX_DATA (64ull << 20)

struct je_ext {
	uint64_t base, size; /* the extent: page aligned */
	uint64_t edata, addr, bits;
	uint64_t bitmap[8];
};

struct je {
	struct mv_heap *h;
	struct mv_target *t;
	const char *lib;
	uint64_t data_start; /* of buf: the library's writable data */
	uint8_t *buf;
	size_t nbuf;
	uint64_t emap, b0;
	/* (edata, page) pairs from the rtree, then the extents. */
	uint64_t (*pairs)[2];
	size_t npairs, pairs_cap;
	struct je_ext *ext;
	size_t next;
	uint64_t arena_at[ARENA_LIMIT];  /* arena_t addresses, 0 unknown */
	uint32_t heap_arena[ARENA_LIMIT + 1]; /* +1: not in use */
	uint64_t *cached;  /* sorted: blocks in a tcache */
	size_t ncached, cached_cap;
	uint64_t stacks[MAX_TCACHES]; /* a tcache's stack (bins[0]) */
	size_t nstacks, ntcaches;
	struct mv_heap_range *spans;
	size_t nspans, spans_cap;
	uint64_t size_class[NSIZES];
	uint64_t blocks, bad;
	uint64_t max_pairs;   /* pages mapped: one element each at most */
	size_t nbase_blocks;
	unsigned narenas;
};

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static bool rd64(struct je *j, uint64_t a, uint64_t *v)
{
	uint8_t b[8];
	if (mv_target_read_partial(j->t, a, b, 8) != 8)
		return false;
	*v = ld64(b);
	return true;
}

/* sz_index2size for a 16-byte quantum and 4 size classes a doubling:
 * 8, then 16, 32, 48, 64, then four steps of a quarter each doubling. */
static void size_classes(uint64_t *c)
{
	size_t i = 0;
	c[i++] = 8;
	for (uint64_t s = 16; s <= 64; s += 16)
		c[i++] = s;
	for (unsigned lg = 6; i < NSIZES; lg++)
		for (uint64_t n = 1; n <= 4 && i < NSIZES; n++)
			c[i++] = (1ull << lg) + n * (1ull << (lg - 2));
}

/* Which library has jemalloc's mallctl: its path. */
static struct mv_error *find_library(struct je *j)
{
	uint64_t at;
	if (!mv_program_find_symbol(j->h->program, "mallctl", &at, NULL) ||
	    !mv_program_find_symbol(j->h->program, "sallocx", NULL, NULL))
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "the program has no jemalloc (no symbol "
				       "mallctl and sallocx)");
	const struct mv_region *r;
	size_t nr = mv_target_regions(j->t, &r);
	for (size_t i = 0; i < nr; i++)
		if (at >= r[i].start && at < r[i].end && r[i].path &&
		    r[i].path[0]) {
			j->lib = r[i].path;
			return NULL;
		}
	return mv_error_create(MV_ERR_NOT_FOUND,
			       "jemalloc's mallctl at 0x%llx is in no mapped "
			       "library", (unsigned long long)at);
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The library's version string (N.N.N-N-g<40 hex>) from its read-only
 * mappings into v; false if none was read. */
static bool read_version(struct je *j, char *v, size_t nv)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(j->t, &r);
	enum { CHUNK = 1 << 16, OVER = 64 };
	uint8_t *b = malloc(CHUNK + OVER);
	bool found = false;
	if (!b)
		return false;
	for (size_t i = 0; i < nr && !found; i++) {
		if (!r[i].path || strcmp(r[i].path, j->lib) ||
		    (r[i].perms & (MV_PERM_W | MV_PERM_X)))
			continue;
		for (uint64_t a = r[i].start; a < r[i].end && !found;
		     a += CHUNK) {
			uint64_t len = r[i].end - a < CHUNK + OVER
					       ? r[i].end - a
					       : CHUNK + OVER;
			size_t n = mv_target_read_partial(j->t, a, b, len);
			for (size_t k = 0; k + 42 <= n && !found; k++) {
				if (b[k] != '-' || b[k + 1] != 'g')
					continue;
				size_t x = 0;
				while (x < 40 && is_hex(b[k + 2 + x]))
					x++;
				if (x != 40)
					continue;
				/* Back over "N.N.N-N". */
				size_t s = k;
				while (s > 0 && k - s < 24 &&
				       ((b[s - 1] >= '0' && b[s - 1] <= '9') ||
					b[s - 1] == '.' || b[s - 1] == '-'))
					s--;
				if (s == k || k + 42 - s >= nv)
					continue;
				memcpy(v, b + s, k + 42 - s);
				v[k + 42 - s] = 0;
				found = strchr(v, '.') != NULL;
			}
		}
	}
	free(b);
	return found;
}

/* The library's writable mappings and the anonymous ones right after
 * them (its .bss), as one buffer. */
static struct mv_error *read_data(struct je *j)
{
	const struct mv_region *r;
	size_t nr = mv_target_regions(j->t, &r);
	uint64_t lo = 0, hi = 0;
	for (size_t i = 0; i < nr; i++) {
		bool mine = r[i].path && !strcmp(r[i].path, j->lib);
		bool bss = (!r[i].path || !r[i].path[0]) && hi &&
			   r[i].start == hi;
		if (!(r[i].perms & MV_PERM_W) || (!mine && !bss))
			continue;
		if (!hi || (r[i].start != hi && mine)) {
			if (hi - lo >= ROOT_AT + NLEAF * 8ull)
				break; /* a previous run big enough */
			lo = r[i].start;
		}
		hi = r[i].end;
	}
	if (!hi || hi - lo > MAX_DATA || hi - lo < ROOT_AT + NLEAF * 8ull)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "jemalloc: %s has no writable data big "
				       "enough for its extent map", j->lib);
	j->buf = malloc(hi - lo);
	if (!j->buf)
		return mv_enomem;
	j->nbuf = mv_target_read_partial(j->t, lo, j->buf, hi - lo);
	j->data_start = lo;
	return NULL;
}

/* Whether the root array at buf offset off looks like the rtree's:
 * leaves 64-byte aligned, at least one. */
static bool root_ok(struct je *j, size_t off)
{
	size_t n = 0;
	for (size_t i = 0; i < NLEAF; i++) {
		uint64_t v = ld64(j->buf + off + i * 8);
		if (!v)
			continue;
		if ((v & 63) || v >> 47)
			return false;
		n++;
	}
	return n > 0;
}

/* A leaf's first element in use decodes to an edata whose extent covers
 * the element's page. */
static bool leaf_ok(struct je *j, uint64_t leaf, uint64_t i)
{
	enum { STEP = 4096 };
	uint64_t *e = malloc(STEP * 8);
	bool ok = false;
	if (!e)
		return false;
	for (uint64_t k = 0; k < NLEAF && !ok; k += STEP) {
		if (mv_target_read_partial(j->t, leaf + k * 8, e, STEP * 8) !=
		    STEP * 8)
			break;
		for (uint64_t x = 0; x < STEP; x++) {
			if (!e[x])
				continue;
			uint64_t ed = (uint64_t)((int64_t)(e[x] << 16) >> 16) &
				      ~(uint64_t)(ED_ALIGN - 1);
			uint64_t page = (i << 30) | ((k + x) << 12);
			uint64_t addr, size;
			ok = rd64(j, ed + ED_ADDR, &addr) &&
			     rd64(j, ed + ED_SIZE, &size) &&
			     page >= (addr & ~(PAGE - 1)) &&
			     page < (addr & ~(PAGE - 1)) + (size & ~(PAGE - 1));
			goto out;
		}
	}
out:
	free(e);
	return ok;
}

/* arena_emap_global: a word pointing at a base_t (its blocks list a
 * 2 MiB-aligned block), a root array after the mutex, one of whose
 * leaves agrees with its edata. */
static struct mv_error *find_emap(struct je *j, bool *found)
{
	size_t need = ROOT_AT + NLEAF * 8;
	unsigned candidates = 0;
	*found = false;
	for (size_t off = 0; off + need <= j->nbuf; off += 8) {
		uint64_t v = ld64(j->buf + off), blk;
		struct mv_error *err;
		if (off % (1 << 16) == 0 && (err = mv_heap_poll(j->h)))
			return err;
		if (!v || (v & 63) || v >> 47 || !rd64(j, v + BASE_BLOCKS, &blk) ||
		    !blk || (blk & (HUGEPAGE - 1)))
			continue;
		if (++candidates > MAX_CANDIDATES)
			break;
		if ((err = mv_heap_poll(j->h)))
			return err;
		if (!root_ok(j, off + ROOT_AT))
			continue;
		/* Any leaf agreeing will do: a damaged one is noted on
		 * the walk. */
		unsigned tries = 0;
		for (size_t i = 0; i < NLEAF && tries < MAX_LEAF_TRIES; i++) {
			uint64_t leaf = ld64(j->buf + off + ROOT_AT + i * 8);
			if (!leaf)
				continue;
			tries++;
			if (!leaf_ok(j, leaf, i))
				continue;
			j->emap = j->data_start + off;
			j->b0 = v;
			*found = true;
			return NULL;
		}
	}
	return NULL;
}

static struct mv_error *add_pair(struct je *j, uint64_t ed, uint64_t page)
{
	if (j->npairs >= j->max_pairs)
		return mv_error_create(MV_ERR_LIMIT, "jemalloc's extent map "
				       "maps more pages than are mapped");
	if (j->npairs == j->pairs_cap) {
		size_t c = j->pairs_cap ? j->pairs_cap * 2 : 4096;
		void *n = realloc(j->pairs, c * sizeof(*j->pairs));
		if (!n)
			return mv_enomem;
		j->pairs = n;
		j->pairs_cap = c;
	}
	j->pairs[j->npairs][0] = ed;
	j->pairs[j->npairs][1] = page;
	j->npairs++;
	return NULL;
}

/* Every leaf element in use: (edata, page). */
static struct mv_error *walk_rtree(struct je *j)
{
	uint64_t *leaf = malloc(NLEAF * 8ull);
	if (!leaf)
		return mv_enomem;
	struct mv_error *err = NULL;
	size_t root = (size_t)(j->emap - j->data_start) + ROOT_AT;
	const struct mv_region *r;
	size_t nr = mv_target_regions(j->t, &r);
	for (size_t i = 0; i < nr; i++)
		j->max_pairs += (r[i].end - r[i].start) / PAGE;
	for (uint64_t i = 0; i < NLEAF && !err; i++) {
		uint64_t at = ld64(j->buf + root + i * 8);
		if (!at)
			continue;
		if (mv_target_read_partial(j->t, at, leaf, NLEAF * 8ull) !=
		    NLEAF * 8ull) {
			j->bad++;
			err = mv_heap_note(j->h, "jemalloc rtree leaf at 0x%llx "
					   "(addresses 0x%llx..) is not all in "
					   "memory; its extents are not seen",
					   (unsigned long long)at,
					   (unsigned long long)(i << 30));
			continue;
		}
		for (uint64_t k = 0; k < NLEAF && !err; k++) {
			if (!leaf[k])
				continue;
			uint64_t ed = (uint64_t)((int64_t)(leaf[k] << 16) >> 16) &
				      ~(uint64_t)(ED_ALIGN - 1);
			if (ed)
				err = add_pair(j, ed, (i << 30) | (k << 12));
		}
		if (err && mv_error_code(err) == MV_ERR_LIMIT) {
			/* Garbage leaves: what was gathered is checked
			 * edata by edata. */
			mv_error_destroy(err);
			j->bad++;
			err = mv_heap_note(j->h, "jemalloc's extent map maps more "
					   "pages than the process has; the rest "
					   "of it (from 0x%llx) is not read",
					   (unsigned long long)(i << 30));
			break;
		}
		if (!err)
			err = mv_heap_poll(j->h);
	}
	free(leaf);
	return err;
}

static int pair_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

static int ext_cmp(const void *x, const void *y)
{
	const struct je_ext *a = x, *b = y;
	return a->base < b->base ? -1 : a->base > b->base;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static unsigned ed_arena(const struct je_ext *e)
{
	return (unsigned)(e->bits & 0xfff);
}
static bool ed_slab(const struct je_ext *e)
{
	return (e->bits >> 12) & 1;
}
static unsigned ed_state(const struct je_ext *e)
{
	return (unsigned)((e->bits >> 17) & 7);
}
static unsigned ed_szind(const struct je_ext *e)
{
	return (unsigned)((e->bits >> 20) & 0xff);
}
static unsigned ed_nfree(const struct je_ext *e)
{
	return (unsigned)((e->bits >> 28) & 0x3ff);
}

/* Each distinct edata once: read, checked against the pages that map
 * to it. */
static struct mv_error *read_extents(struct je *j)
{
	qsort(j->pairs, j->npairs, sizeof(*j->pairs), pair_cmp);
	j->ext = malloc((j->npairs ? j->npairs : 1) * sizeof(*j->ext));
	if (!j->ext)
		return mv_enomem;
	struct mv_error *err = NULL;
	for (size_t i = 0; i < j->npairs && !err;) {
		uint64_t ed = j->pairs[i][0];
		size_t k = i;
		while (k < j->npairs && j->pairs[k][0] == ed)
			k++;
		uint8_t b[ED_SIZEOF];
		struct je_ext *x = &j->ext[j->next];
		const char *why = NULL;
		if (mv_target_read_partial(j->t, ed, b, sizeof(b)) != sizeof(b)) {
			why = "is not in memory";
		} else {
			x->edata = ed;
			x->bits = ld64(b + ED_BITS);
			x->addr = ld64(b + ED_ADDR);
			x->base = x->addr & ~(PAGE - 1);
			x->size = ld64(b + ED_SIZE) & ~(PAGE - 1);
			memcpy(x->bitmap, b + ED_BITMAP, sizeof(x->bitmap));
			if (!x->size || x->base + x->size < x->base ||
			    x->base >> 47 || ed_state(x) > STATE_RETAINED ||
			    ed_arena(x) >= ARENA_LIMIT ||
			    ed_szind(x) > NSIZES ||
			    (ed_szind(x) == NSIZES &&
			     ed_state(x) == STATE_ACTIVE))
				why = "has fields out of range";
			for (size_t p = i; p < k && !why; p++)
				if (j->pairs[p][1] < x->base ||
				    j->pairs[p][1] >= x->base + x->size)
					why = "does not cover a page the "
					      "extent map gives it";
			/* A slab has each of its pages in the map, any
			 * other extent its first and last. */
			bool agree =
				ed_slab(x)
					? k - i == x->size / PAGE
					: j->pairs[i][1] == x->base && k - i <= 2 &&
						  j->pairs[k - 1][1] ==
							  x->base + x->size - PAGE;
			if (!why && !agree)
				why = "has a size the extent map does not "
				      "agree with";
		}
		if (why) {
			j->bad++;
			err = mv_heap_note(j->h, "jemalloc edata at 0x%llx %s; "
					   "its extent is not seen",
					   (unsigned long long)ed, why);
		} else {
			j->next++;
		}
		i = k;
		if (j->next % 4096 == 0 && !err)
			err = mv_heap_poll(j->h);
	}
	free(j->pairs);
	j->pairs = NULL;
	if (err)
		return err;
	qsort(j->ext, j->next, sizeof(*j->ext), ext_cmp);
	/* Two extents over the same bytes: which one is wrong is not
	 * known, neither is seen (their bytes are roots). */
	size_t out = 0;
	uint64_t end = 0;
	bool last_bad = false;
	for (size_t i = 0; i < j->next; i++) {
		const struct je_ext *x = &j->ext[i];
		if (i && x->base < end) {
			j->bad++;
			if ((err = mv_heap_note(j->h, "jemalloc extent at 0x%llx "
						"overlaps the one before it; "
						"neither is seen",
						(unsigned long long)x->base)))
				return err;
			if (!last_bad && out)
				out--;
			last_bad = true;
		} else {
			j->ext[out++] = *x;
			last_bad = false;
		}
		if (x->base + x->size > end)
			end = x->base + x->size;
	}
	j->next = out;
	return NULL;
}

/* je_arenas[]: a word pointing at an arena_t whose ind is 0 and whose
 * base is b0, followed by the other arenas (ind = their index). */
static struct mv_error *find_arenas(struct je *j)
{
	for (size_t off = 0; off + 8 <= j->nbuf; off += 8) {
		uint64_t v = ld64(j->buf + off), base;
		uint8_t ind[4];
		struct mv_error *err;
		if (off % (1 << 16) == 0 && (err = mv_heap_poll(j->h)))
			return err;
		if (!v || (v & 63) || v >> 47 || v == j->b0 ||
		    mv_target_read_partial(j->t, v + ARENA_IND, ind, 4) != 4 ||
		    ind[0] | ind[1] | ind[2] | ind[3] ||
		    !rd64(j, v + ARENA_BASE, &base) || base != j->b0)
			continue;
		for (unsigned i = 0; i < ARENA_LIMIT &&
				     off + 8 * (i + 1) <= j->nbuf; i++) {
			uint64_t a = ld64(j->buf + off + 8 * i);
			uint8_t b[4];
			uint32_t n;
			if (!a)
				continue;
			if ((a & 63) ||
			    mv_target_read_partial(j->t, a + ARENA_IND, b, 4) != 4)
				break;
			memcpy(&n, b, 4);
			if (n != i)
				break;
			j->arena_at[i] = a;
			j->narenas = i + 1;
		}
		return NULL;
	}
	return NULL;
}

static struct mv_error *add_cached(struct je *j, uint64_t p)
{
	if (j->ncached >= j->max_pairs)
		return mv_error_create(MV_ERR_LIMIT, "more blocks in tcaches "
				       "than pages mapped");
	if (j->ncached == j->cached_cap) {
		size_t c = j->cached_cap ? j->cached_cap * 2 : 1024;
		uint64_t *n = realloc(j->cached, c * sizeof(*n));
		if (!n)
			return mv_enomem;
		j->cached = n;
		j->cached_cap = c;
	}
	j->cached[j->ncached++] = p;
	return NULL;
}

/* One tcache_t: its bins' cached blocks. */
static struct mv_error *read_tcache(struct je *j, uint64_t tc)
{
	uint8_t b[NBINS_MAX * CB_SIZEOF];
	if (mv_target_read_partial(j->t, tc + TC_BINS, b, sizeof(b)) !=
	    sizeof(b)) {
		j->bad++;
		return mv_heap_note(j->h, "jemalloc tcache at 0x%llx is not in "
				    "memory; its cached blocks look in use",
				    (unsigned long long)tc);
	}
	uint64_t first = ld64(b);
	if (first && j->nstacks < MAX_TCACHES)
		j->stacks[j->nstacks++] = first;
	for (unsigned i = 0; i < NBINS_MAX; i++) {
		const uint8_t *cb = b + i * CB_SIZEOF;
		uint64_t head = ld64(cb);
		uint16_t empty = (uint16_t)(cb[CB_EMPTY] | cb[CB_EMPTY + 1] << 8);
		if (!head)
			continue;
		uint16_t bytes = (uint16_t)(empty - (uint16_t)head);
		if (bytes % 8 || bytes / 8 > MAX_CACHED || (head & 7)) {
			j->bad++;
			struct mv_error *err = mv_heap_note(
				j->h, "jemalloc tcache at 0x%llx: bin %u says "
				      "%u bytes cached; its blocks look in use",
				(unsigned long long)tc, i, bytes);
			if (err)
				return err;
			continue;
		}
		if (!bytes)
			continue;
		uint64_t *p = malloc(bytes);
		if (!p)
			return mv_enomem;
		if (mv_target_read_partial(j->t, head, p, bytes) != bytes) {
			free(p);
			j->bad++;
			struct mv_error *err = mv_heap_note(
				j->h, "jemalloc tcache at 0x%llx: bin %u's stack "
				      "at 0x%llx is not in memory",
				(unsigned long long)tc, i,
				(unsigned long long)head);
			if (err)
				return err;
			continue;
		}
		struct mv_error *err = NULL;
		for (unsigned k = 0; k < bytes / 8 && !err; k++)
			err = add_cached(j, p[k]);
		free(p);
		if (err && mv_error_code(err) == MV_ERR_LIMIT) {
			mv_error_destroy(err);
			j->bad++;
			return mv_heap_note(j->h, "jemalloc tcache at 0x%llx: "
					    "more cached blocks than pages "
					    "mapped; the rest are not read",
					    (unsigned long long)tc);
		}
		if (err)
			return err;
	}
	return NULL;
}

/* Each arena's ring of tcaches. */
static struct mv_error *read_tcaches(struct je *j)
{
	struct mv_error *err = NULL;
	for (unsigned a = 0; a < j->narenas && !err; a++) {
		uint64_t head, ts, tc, back;
		if (!j->arena_at[a] ||
		    !rd64(j, j->arena_at[a] + ARENA_TCACHE_QL, &head) || !head)
			continue;
		ts = head;
		do {
			if (j->ntcaches >= MAX_TCACHES ||
			    !rd64(j, ts + TS_TCACHE, &tc) || !rd64(j, tc, &back) ||
			    back != ts) {
				j->bad++;
				err = mv_heap_note(j->h, "jemalloc arena %u: tcache "
						   "list entry 0x%llx is not a "
						   "tcache; the list is cut there",
						   a, (unsigned long long)ts);
				break;
			}
			j->ntcaches++;
			if ((err = read_tcache(j, tc)) || (err = mv_heap_poll(j->h)))
				break;
			if (!rd64(j, ts, &ts))
				break;
		} while (ts && ts != head);
	}
	if (j->ncached)
		qsort(j->cached, j->ncached, sizeof(*j->cached), u64_cmp);
	if (j->nstacks)
		qsort(j->stacks, j->nstacks, sizeof(*j->stacks), u64_cmp);
	return err;
}

static struct mv_error *add_span(struct je *j, uint64_t start, uint64_t end)
{
	if (j->nspans == j->spans_cap) {
		size_t c = j->spans_cap ? j->spans_cap * 2 : 256;
		void *n = realloc(j->spans, c * sizeof(*j->spans));
		if (!n)
			return mv_enomem;
		j->spans = n;
		j->spans_cap = c;
	}
	j->spans[j->nspans++] = (struct mv_heap_range){start, end};
	return NULL;
}

/* A base allocator's blocks: metadata. */
static struct mv_error *read_base(struct je *j, uint64_t base)
{
	uint64_t b;
	if (!rd64(j, base + BASE_BLOCKS, &b))
		return NULL;
	for (; b; j->nbase_blocks++) {
		uint64_t size, next;
		if (j->nbase_blocks == MAX_BASE_BLOCKS || (b & (HUGEPAGE - 1)) ||
		    !rd64(j, b, &size) || !rd64(j, b + 8, &next) || !size ||
		    (size & (HUGEPAGE - 1)) || b + size < b) {
			j->bad++;
			return mv_heap_note(j->h, "jemalloc base at 0x%llx: block "
					    "0x%llx is not a base block; the "
					    "rest of its blocks are not seen",
					    (unsigned long long)base,
					    (unsigned long long)b);
		}
		struct mv_error *err = mv_heap_add_metadata(j->h, b, b + size);
		if (!err)
			err = add_span(j, b, b + size);
		if (!err && j->nbase_blocks % 1024 == 1023)
			err = mv_heap_poll(j->h);
		if (err)
			return err;
		b = next;
	}
	return NULL;
}

static struct mv_error *read_bases(struct je *j)
{
	struct mv_error *err = read_base(j, j->b0);
	for (unsigned a = 1; a < j->narenas && !err; a++) {
		uint64_t base;
		if (j->arena_at[a] && rd64(j, j->arena_at[a] + ARENA_BASE, &base) &&
		    base && base != j->b0)
			err = read_base(j, base);
	}
	/* The arenas array and the extent map in the library's data. */
	if (!err)
		err = mv_heap_add_metadata(j->h, j->emap,
					   j->emap + ROOT_AT + NLEAF * 8ull);
	return err;
}

/* Whether [start, end) holds a tcache's stacks (stacks sorted). */
static bool is_stack(struct je *j, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = j->nstacks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->stacks[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->nstacks && j->stacks[lo] < end;
}

static uint32_t chunk_flags(uint64_t size, uint32_t flags)
{
	return flags | MV_CHUNK_NO_HEADER | (size & 8 ? MV_ENTRY_PLUS8 : 0);
}

/* The arena of the heap for jemalloc arena a (made on first use). */
static struct mv_error *heap_arena(struct je *j, unsigned a, uint32_t *ret)
{
	if (j->heap_arena[a] != UINT32_MAX) {
		*ret = j->heap_arena[a];
		return NULL;
	}
	struct mv_heap_arena ha = {
		.kind = MV_ARENA_JEMALLOC,
		.address = j->arena_at[a],
		.have_bins = true,
		.have_tcache = j->ntcaches > 0,
	};
	struct mv_error *err = mv_heap_add_arena(j->h, &ha, ret);
	if (!err)
		j->heap_arena[a] = *ret;
	return err;
}

/* The blocks of one active extent; *cur walks the sorted cached list. */
static struct mv_error *walk_extent(struct je *j, const struct je_ext *x,
				    uint32_t ai, size_t *cur)
{
	struct mv_heap *h = j->h;
	struct mv_error *err = NULL;
	unsigned sz = ed_szind(x);
	uint64_t reg = j->size_class[sz];
	while (*cur < j->ncached && j->cached[*cur] < x->base)
		(*cur)++;
	if (!ed_slab(x)) {
		uint64_t end = x->addr + reg;
		if (sz < NBINS || end > x->base + x->size || (x->addr & 15)) {
			j->bad++;
			return mv_heap_note(h, "jemalloc large extent at 0x%llx: "
					    "block 0x%llx of %llu bytes does not "
					    "fit its %llu bytes; not seen",
					    (unsigned long long)x->base,
					    (unsigned long long)x->addr,
					    (unsigned long long)reg,
					    (unsigned long long)x->size);
		}
		bool cached = *cur < j->ncached && j->cached[*cur] == x->addr;
		uint32_t f = is_stack(j, x->addr, end) ? MV_CHUNK_METADATA
			     : cached ? MV_CHUNK_FREE_LIST
				      : MV_CHUNK_IN_USE;
		j->blocks++;
		return mv_heap_add_chunk(h, x->addr, reg, chunk_flags(reg, f),
					 cached ? MV_LIST_TCACHE : MV_LIST_NONE,
					 ai);
	}
	uint64_t nregs = sz < NBINS ? x->size / reg : 0;
	if (sz >= NBINS || x->addr != x->base || nregs * reg != x->size ||
	    nregs > MAX_SLAB_REGS) {
		j->bad++;
		return mv_heap_note(h, "jemalloc slab at 0x%llx: size class %u, "
				    "%llu bytes do not agree; its blocks are "
				    "not seen",
				    (unsigned long long)x->base, sz,
				    (unsigned long long)x->size);
	}
	unsigned nfree = 0;
	for (uint64_t r = 0; r < nregs; r++)
		nfree += (x->bitmap[r / 64] >> (r % 64)) & 1;
	if (nfree != ed_nfree(x)) {
		j->bad++;
		if ((err = mv_heap_note(h, "jemalloc slab at 0x%llx counts %u "
					"free regions but its bitmap has %u",
					(unsigned long long)x->base,
					ed_nfree(x), nfree)))
			return err;
	}
	for (uint64_t r = 0; r < nregs && !err && !h->stopped; r++) {
		uint64_t at = x->base + r * reg;
		uint32_t f;
		enum mv_heap_list list = MV_LIST_NONE;
		while (*cur < j->ncached && j->cached[*cur] < at)
			(*cur)++;
		if ((x->bitmap[r / 64] >> (r % 64)) & 1) {
			f = MV_CHUNK_FREE_LIST;
			list = MV_LIST_JE_SLAB;
		} else if (*cur < j->ncached && j->cached[*cur] == at) {
			f = MV_CHUNK_FREE_LIST;
			list = MV_LIST_TCACHE;
		} else {
			f = j->nstacks && is_stack(j, at, at + reg)
				    ? MV_CHUNK_METADATA
				    : MV_CHUNK_IN_USE;
			j->blocks++;
		}
		err = mv_heap_add_chunk(h, at, reg, chunk_flags(reg, f), list,
					ai);
	}
	return err;
}

/* Extents into arenas, segments (runs of adjacent extents) and chunks. */
static struct mv_error *walk_extents(struct je *j)
{
	struct mv_heap *h = j->h;
	struct mv_error *err = NULL;
	size_t cur = 0;
	uint64_t nslots = 0;
	for (size_t i = 0; i < j->next; i++) {
		const struct je_ext *x = &j->ext[i];
		uint64_t n = ed_slab(x) && ed_szind(x) < NBINS
				     ? x->size / j->size_class[ed_szind(x)]
				     : 1;
		if (ed_state(x) == STATE_ACTIVE)
			nslots += n < MAX_SLAB_REGS ? n : MAX_SLAB_REGS;
	}
	if ((err = mv_heap_reserve(h, h->ix.n + (size_t)(nslots < h->max_chunks
						       ? nslots
						       : h->max_chunks))))
		return err;
	for (size_t i = 0; i < j->next && !err && !h->stopped; i++) {
		const struct je_ext *x = &j->ext[i];
		uint32_t ai;
		if ((err = heap_arena(j, ed_arena(x), &ai)))
			break;
		/* A new segment unless it follows the last one. */
		struct mv_heap_segment *last =
			h->nsegments ? &h->segments[h->nsegments - 1] : NULL;
		if (last && last->end == x->base && i)
			last->end = x->base + x->size;
		else {
			struct mv_heap_segment s = {
				.start = x->base, .end = x->base + x->size,
				.first_chunk = x->base, .arena = ai,
			};
			if ((err = mv_heap_add_segment(h, &s)))
				break;
		}
		if (ed_state(x) == STATE_ACTIVE) {
			mv_target_will_read(h->target, x->base, x->base + x->size);
			err = walk_extent(j, x, ai, &cur);
		}
		if (!err && i % 1024 == 1023)
			err = mv_heap_poll(h);
	}
	return err;
}

static struct mv_error *describe(struct je *j, const char *version)
{
	struct mv_heap *h = j->h;
	char *d;
	if (asprintf(&d, "%s; jemalloc %.5s (%s: %zu extents from its extent "
			 "map at 0x%llx, cross-checked with their edata; %u "
			 "arena%s, %zu tcache%s)",
		     mv_heap_description(h), version, j->lib, j->next,
		     (unsigned long long)j->emap, j->narenas,
		     j->narenas == 1 ? "" : "s", j->ntcaches,
		     j->ntcaches == 1 ? "" : "s") < 0)
		return mv_enomem;
	free(h->description);
	h->description = d;
	return NULL;
}

/* jemalloc is there but not readable: NOT_FOUND for --allocator
 * jemalloc, else a note, and its memory stays roots (conservative). */
static struct mv_error *unread(struct je *j, const struct mv_heap_options *o,
			       const char *why)
{
	if (o->flags & MV_HEAP_NEED_JEMALLOC)
		return mv_error_create(MV_ERR_NOT_FOUND, "%s", why);
	struct mv_error *err = mv_heap_note(j->h, "%s; its heap is not read", why);
	char *d;
	if (!err && asprintf(&d, "%s; jemalloc not read (its memory left as "
				 "roots)", mv_heap_description(j->h)) < 0)
		return mv_enomem;
	if (!err) {
		free(j->h->description);
		j->h->description = d;
	}
	return err;
}

static struct mv_error *jemalloc_open(struct mv_heap *h,
				      const struct mv_heap_options *o)
{
	struct je *j = calloc(1, sizeof(*j));
	if (!j)
		return mv_enomem;
	j->h = h;
	j->t = h->target;
	size_classes(j->size_class);
	for (unsigned a = 0; a <= ARENA_LIMIT; a++)
		j->heap_arena[a] = UINT32_MAX;
	char version[80], why[160];
	struct mv_error *err = find_library(j);
	if (err)
		goto out;
	if (!read_version(j, version, sizeof(version))) {
		snprintf(why, sizeof(why), "jemalloc in %s: its version string "
			 "was not found; memview knows the layout of 5.3.0 "
			 "(Debian 12) only", j->lib);
		err = unread(j, o, why);
		goto out;
	}
	if (strcmp(version, JE_VERSION)) {
		snprintf(why, sizeof(why), "jemalloc version %s: memview knows "
			 "the layout of 5.3.0 (Debian 12) only", version);
		err = unread(j, o, why);
		goto out;
	}
	if ((err = read_data(j)))
		goto out;
	bool found;
	if ((err = find_emap(j, &found)))
		goto out;
	if (!found) {
		snprintf(why, sizeof(why), "jemalloc 5.3.0: no extent map "
			 "(arena_emap_global) matching its layout in %s's data",
			 j->lib);
		err = unread(j, o, why);
		goto out;
	}
	if ((err = find_arenas(j)) || (err = walk_rtree(j)) ||
	    (err = read_extents(j)) || (err = read_tcaches(j)) ||
	    (err = read_bases(j)))
		goto out;
	for (size_t i = 0; i < j->next && !err; i++)
		err = add_span(j, j->ext[i].base, j->ext[i].base + j->ext[i].size);
	if (err)
		goto out;
	qsort(j->spans, j->nspans, sizeof(*j->spans), u64_cmp);
	if ((err = mv_heap_take_spans(h, j->spans, j->nspans,
				      sizeof(*j->spans))))
		goto out;
	if ((err = walk_extents(j)))
		goto out;
	if (!j->narenas && (err = mv_heap_note(h, "jemalloc: its arenas array "
					       "was not found; tcache blocks "
					       "look in use")))
		goto out;
	err = describe(j, version);
out:
	free(j->buf);
	free(j->pairs);
	free(j->ext);
	free(j->cached);
	free(j->spans);
	free(j);
	return err;
}

const struct mv_heap_ops mv_heap_jemalloc_ops = {
	.name = "jemalloc",
	.open = jemalloc_open,
};
