/* heap_internal.h - what an allocator model and the `heap` command share
 * beyond heap.h: the model's vtable, the compact chunk index, arenas and
 * heap segments, and the entry points tests use to force a mode.
 *
 * Layering: heap.c and heap_index.c own the generic index and notes;
 * heap_glibc.c fills them for glibc malloc; cmd_heap.c only reads
 * them. */
#ifndef MV_HEAP_INTERNAL_H
#define MV_HEAP_INTERNAL_H

#include "buf.h"
#include "heap.h"
#include "target.h" /* mv_target_will_read */

/* Which free list a chunk was found on (MV_CHUNK_FREE_LIST), or how it
 * was judged free without one. */
enum mv_heap_list {
	MV_LIST_NONE,
	MV_LIST_TCACHE,
	MV_LIST_FASTBIN,
	MV_LIST_UNSORTED,
	MV_LIST_SMALL,
	MV_LIST_LARGE,
	/* Free by the boundary tags (the next chunk's PREV_INUSE is clear)
	 * but found on no list: without the arena's bins we cannot tell
	 * which bin, and with them it is an inconsistency (noted). */
	MV_LIST_UNLISTED,
	/* A pymalloc pool's free block (on the pool's freeblock list). */
	MV_LIST_POOL,
	/* A mimalloc page's free blocks: on its free list, its local_free
	 * list, or freed by another thread (its thread_free list, or the
	 * owning heap's thread_delayed_free list). */
	MV_LIST_MI_FREE,
	MV_LIST_MI_LOCAL,
	MV_LIST_MI_THREAD,
	/* tcmalloc's free objects: in a thread cache, in a central list's
	 * transfer cache, on their span's list; and its free spans. */
	MV_LIST_TC_THREAD,
	MV_LIST_TC_CENTRAL,
	MV_LIST_TC_SPAN,
	MV_LIST_TC_PAGES,
	/* A free region of a jemalloc slab (its bitmap); blocks in a
	 * jemalloc tcache are MV_LIST_TCACHE. */
	MV_LIST_JE_SLAB,
	MV_LIST_COUNT_
};

const char *mv_heap_list_name(enum mv_heap_list list);

/* What a model gives mv_heap_add_chunk: a start below 2^48 (every user
 * address on x86-64 and arm64; a chunk above is refused with a note),
 * a size whose low 4 bits are dropped (sizes are multiples of 16 on
 * every allocator we model; a size of 64 GiB or more is clamped with a
 * note), but for mimalloc's word size classes (8, 24, 40, 56 bytes):
 * their flags have MV_ENTRY_PLUS8, and their size is 8 more.  The
 * arena is not in the index: it is the same over long runs of
 * addresses (mv_heap_arena_at). */
#define MV_ENTRY_PLUS8 128
#define MV_ENTRY_START_END (1ull << 48)

/* A packed index entry (struct mv_heap_index's meta): its chunk's flags
 * (MV_CHUNK_*), list, whether it starts elsewhere than where the chunk
 * before ends (GAP: its start is kept), and its size in 8-byte units
 * (every allocator's sizes are multiples of 8), SIZE_BIG for a size of
 * 4 MiB or more (kept in bigs).  4 bytes a chunk and about 3/4 of a
 * byte for the groups: 80 M chunks in 362 MiB, where 12-byte entries
 * took 916. */
#define MV_PK_FLAGS 0x7fu
#define MV_PK_LIST_SHIFT 7
#define MV_PK_LIST_MASK 0x1fu
#define MV_PK_ATTR 0xfffu /* flags and list */
#define MV_PK_GAP (1u << 12)
#define MV_PK_SIZE_SHIFT 13
#define MV_PK_SIZE_BIG 0x7ffffu
#define MV_PK_GROUP_SHIFT 4
#define MV_PK_GROUP (1u << MV_PK_GROUP_SHIFT)

struct mv_heap_big {
	uint64_t index, size;
};

/* The chunk index, packed as the models add chunks: a word a chunk
 * (meta, MV_PK_*), the starts of the GAP chunks (gapst, in index order;
 * grank: how many come before each group) and of every MV_PK_GROUP-th
 * chunk (gstart); sizes too large for the word in bigs (by index).  The
 * others' starts are sums of sizes within a group, a cache line of
 * meta.  Chunks come in any order: each one that does not start where
 * the one before ends is a GAP; unsorted and overlaps say whether one
 * started at or below the start of the one before, or inside it, and
 * mv_heap_sort then merges the index's ascending runs. */
struct mv_heap_index {
	uint32_t *meta;
	size_t n, cap;      /* chunks; room in meta (and in the groups) */
	uint64_t *gstart;
	uint32_t *grank;
	uint64_t *gapst;
	size_t ngaps, gaps_cap;
	struct mv_heap_big *bigs;
	size_t nbigs, bigs_cap;
	/* Where a chunk added next starts with no GAP (UINT64_MAX after a
	 * SIZE_BIG or empty chunk), and the last chunk's start. */
	uint64_t next_at, last_start, last_end;
	bool unsorted, overlaps;
};

/* [start, end) holds chunks of one arena only: a heap walked, a page's
 * blocks, an mmapped chunk.  Recorded as chunks are added (seq: in that
 * order); mv_heap_sort makes them a table in address order. */
struct mv_heap_run {
	uint64_t start, end;
	uint32_t arena;
	uint32_t seq;
};

enum mv_heap_arena_kind {
	MV_ARENA_MAIN,
	MV_ARENA_THREAD,
	MV_ARENA_MMAPPED, /* pseudo arena holding the mmapped chunks */
	MV_ARENA_PYMALLOC, /* one of CPython's 1 MiB pymalloc arenas */
	MV_ARENA_MIMALLOC, /* one mimalloc segment (32 MiB, or a huge one) */
	MV_ARENA_TCMALLOC, /* tcmalloc's page heap (its pagemap's spans) */
	MV_ARENA_JEMALLOC, /* one jemalloc arena (its extents) */
};

struct mv_heap_arena {
	enum mv_heap_arena_kind kind;
	uint64_t address;  /* struct malloc_state, 0 if unknown */
	uint64_t top;      /* top chunk, 0 if unknown */
	uint64_t system_mem; /* what the allocator says it holds, 0 if unknown */
	bool have_bins;    /* its free lists were read */
	bool have_tcache;  /* a tcache block was found in it */
};

/* A contiguous range of chunks: the main heap, one heap of a thread
 * arena, or an anonymous mapping holding mmapped chunks. */
struct mv_heap_segment {
	uint64_t start, end;  /* the whole range the allocator owns */
	uint64_t first_chunk; /* start + header bytes (heap_info, arena) */
	uint32_t arena;
};

/* One free list as the allocator keeps it (glibc: a tcache bin, a
 * fastbin, the unsorted bin, a small or large bin), for `heap --bins`. */
struct mv_heap_bin {
	uint8_t list;        /* enum mv_heap_list */
	bool cut;            /* the walk stopped early (the notes say why) */
	uint32_t arena;
	uint32_t index;      /* the allocator's number for it in its kind */
	uint64_t owner;      /* tcache: its block's chunk; else the arena */
	int64_t count;       /* the allocator's own count (tcache), or -1 */
	size_t first, n;     /* its chunks: mv_heap_bin_chunks()[first..+n) */
};

/* A range of the allocator's own state that lies outside its heaps. */
struct mv_heap_range {
	uint64_t start, end;
};

/* Knobs for tests and for front ends that want a specific mode. */
enum {
	/* Do not use debug symbols even if present (the mappings mode). */
	MV_HEAP_IGNORE_SYMBOLS = 1,
	/* The main model only (--allocator glibc): no pymalloc. */
	MV_HEAP_NO_OVERLAYS = 2,
	/* --allocator pymalloc: an error if CPython's pymalloc is not
	 * found over the main model. */
	MV_HEAP_NEED_PYMALLOC = 4,
	/* --allocator mimalloc: an error if mimalloc's heap is not found
	 * (or is a version whose layout memview does not know). */
	MV_HEAP_NEED_MIMALLOC = 8,
	/* --allocator tcmalloc: the same for gperftools' tcmalloc. */
	MV_HEAP_NEED_TCMALLOC = 16,
	/* Keep the free lists in their order (mv_heap_bins), for `heap
	 * --bins`: 8 bytes a listed chunk. */
	MV_HEAP_RECORD_BINS = 32,
	/* A lazy heap where the model allows one (heap.h, mv_heap_lookup):
	 * the arenas, segments and free lists now, chunk headers checked
	 * one at a time on demand, the whole index when one cannot tell. */
	MV_HEAP_LAZY = 64,
	/* --allocator jemalloc: likewise for jemalloc 5.3.0. */
	MV_HEAP_NEED_JEMALLOC = 128,
};

struct mv_heap_options {
	uint32_t flags;
	/* If range_end != 0: the main heap is [range_start, range_end) and
	 * nothing else is searched for (hand-made layouts in tests). */
	uint64_t range_start, range_end;
	/* With a range: main_arena's address, if known (tests give a
	 * hand-made malloc_state); 0 = the main heap has no arena. */
	uint64_t main_arena;
	/* Chunks indexed at most: 0 for mv_limits_max_heap_chunks(),
	 * MV_HEAP_NO_LIMIT for no bound. */
	uint64_t max_chunks;
	/* Told now and then how many chunks are indexed so far (NULL:
	 * nobody asks), for the front end's progress line. */
	void (*progress)(void *arg, uint64_t chunks);
	void *progress_arg;
};

struct mv_heap;

/* An allocator model (pahole's debug_fmt_ops style). */
struct mv_heap_ops {
	const char *name;
	/* Fills h (chunks in any order, arenas, segments, notes) or fails
	 * with MV_ERR_NOT_FOUND when this allocator is not there. */
	struct mv_error *(*open)(struct mv_heap *h,
				 const struct mv_heap_options *o);
	/* A lazy heap's check at address (NULL if the model has none):
	 * 1 with *ret filled when the chunk holding address is certain
	 * from its header and its neighbour's, 0 when address is in no
	 * chunk, -1 when only the whole index can tell. */
	int (*lazy_find)(struct mv_heap *h, uint64_t address,
			 struct mv_chunk *ret);
	/* The walk's common case of lazy_find, answered in a few loads
	 * (NULL if the model has none): true with *size set when address
	 * is the user data of a plain chunk, in use, its header the 16
	 * bytes before it and its usable size size - 8 (lazy_find's 1 with
	 * flags MV_CHUNK_IN_USE), *seg the index of its segment in
	 * heap_segs; false when lazy_find must be asked. */
	bool (*lazy_plain)(struct mv_heap *h, uint64_t address,
			   uint64_t *size, size_t *seg);
};

extern const struct mv_heap_ops mv_heap_glibc_ops;
/* Models of allocators that live inside another's memory (CPython's
 * pymalloc over glibc): run after the main model has opened, they add
 * their blocks to its index; NOT_FOUND when they are not there. */
extern const struct mv_heap_ops mv_heap_pymalloc_ops;
/* mimalloc 2.0.9's segments, found in anonymous mappings. */
extern const struct mv_heap_ops mv_heap_mimalloc_ops;
/* gperftools tcmalloc 2.10's page heap, found from its pagemap. */
extern const struct mv_heap_ops mv_heap_tcmalloc_ops;
/* jemalloc 5.3.0's extents, found through its extent map. */
extern const struct mv_heap_ops mv_heap_jemalloc_ops;

/* An overlay model takes over the bytes of its spans: the entries of the
 * chunks holding a span's start or starting inside it are dropped, of
 * those indexed at the last mv_heap_sort (the overlay's own, added
 * since, stay); the index is sorted then.
 * spans: n elements of stride bytes, each starting with uint64_t start,
 * end (its [start, end)). */
struct mv_error *mv_heap_take_spans(struct mv_heap *h, const void *spans,
				    size_t n, size_t stride);

#define MV_HEAP_MAX_NOTES 100

struct mv_heap {
	const struct mv_heap_ops *ops;
	struct mv_program *program;
	struct mv_target *target;
	mv_poll_fn poll;
	void (*progress)(void *arg, uint64_t chunks);
	void *progress_arg;
	char *description;
	struct mv_heap_index ix;
	/* The chunks indexed at the last mv_heap_sort (mv_heap_take_spans
	 * takes from those). */
	size_t nsorted;
	/* The chunks' arenas: runs[0..runs_table) in address order and
	 * disjoint (after mv_heap_sort), then runs recorded since; the run
	 * being extended is [run_start, run_end) (run_end 0: none). */
	struct mv_heap_run *runs;
	size_t nruns, runs_cap, runs_table;
	uint64_t run_start, run_end;
	uint32_t run_arena;
	bool runs_enomem;
	struct mv_heap_arena *arenas;
	size_t narenas;
	struct mv_heap_segment *segments;
	size_t nsegments;
	/* The allocator's own state outside its segments (glibc:
	 * main_arena, mp_): never a root of a collection. */
	struct mv_heap_range *metadata;
	size_t nmetadata;
	struct mv_notes notes; /* bounded by MV_HEAP_MAX_NOTES */
	/* MV_HEAP_RECORD_BINS: the non-empty free lists, and the chunk
	 * headers on them in list order (each chunk at most once, so no
	 * more than the index holds). */
	bool record_bins;
	struct mv_heap_bin *bins;
	size_t nbins, bins_cap;
	uint64_t *bin_chunks;
	size_t nbin_chunks, bin_chunks_cap;
	bool with_symbols;
	/* The index bound; stopped once a chunk was refused for it: the
	 * models stop walking then, and skip the checks that need every
	 * chunk (free lists are cut at the first chunk not indexed). */
	uint64_t max_chunks;
	bool stopped;
	char *limit_note;
	/* mv_heap_unindexed's ranges, once asked for. */
	struct mv_heap_gap *gaps;
	size_t ngaps;
	uint64_t gap_bytes;
	bool gaps_done;
	/* A lazy heap (MV_HEAP_LAZY, and the model opened it so): the
	 * index holds the mmapped chunks only, heap_segs the other segments in
	 * address order; quick the chunks on a tcache or fastbin list
	 * (sorted, with their list in quick_list), which look in use to
	 * their neighbour; tcache_blocks the arenas' tcache chunks.
	 * mv_heap_complete replaces all of it with the whole index, built
	 * with opts. */
	bool lazy;
	bool lazy_broken; /* something odd: every lookup takes the index */
	struct mv_heap_options opts;
	struct mv_heap_segment *heap_segs;
	size_t nheap_segs;
	/* Each segment's bytes where the target lends them for good (a
	 * core's), else NULL; the segment the last lookup found. */
	const uint8_t **heap_seg_bytes;
	size_t heap_seg_last;
	uint64_t *quick;
	uint8_t *quick_list;
	size_t nquick, quick_cap;
	uint64_t *tcache_blocks;
	size_t ntcache_blocks;
	/* quick and tcache_blocks hashed into a bitmap of odd_mask + 1
	 * bits (NULL: none built): a chunk whose bit is clear is on
	 * neither, so that lazy_plain mostly skips their searches. */
	uint64_t *odd_bits;
	uint64_t odd_mask;
	/* The chunk mv_heap_chunk was last asked for, and its start. */
	bool seq_ok;
	size_t seq_i;
	uint64_t seq_start;
};

struct mv_error *mv_heap_open_with(struct mv_program *p,
				   const struct mv_heap_options *o,
				   mv_poll_fn poll, struct mv_heap **ret);
/* The mappings mode over an explicit main heap [start, end): for tests
 * over hand-made layouts, where no mapping says where the heap is. */
struct mv_error *mv_heap_open_range(struct mv_program *p, uint64_t start,
				    uint64_t end, mv_poll_fn poll,
				    struct mv_heap **ret);

/* For models: building the index.  Return NULL or mv_enomem.  Past
 * the bound a chunk is not added and h->stopped is set (not an error). */
struct mv_error *mv_heap_add_chunk_slow(struct mv_heap *h, uint64_t start,
					uint64_t size, uint32_t flags,
					enum mv_heap_list list,
					uint32_t arena);

/* The arena of the chunk starting at address (UINT16_MAX if none), and
 * in *next (if not NULL) where the arena may change: every chunk
 * starting in [address, *next) is in the same one.  A binary search
 * over a few runs; loops over the index ask again at *next only. */
uint32_t mv_heap_arena_at(const struct mv_heap *h, uint64_t address,
			  uint64_t *next);

/* Closes the run being extended and opens one at [start, end). */
void mv_heap_run_break(struct mv_heap *h, uint64_t start, uint64_t end,
		       uint32_t arena);

/* A packed word's flags and list (MV_PK_ATTR). */
static inline uint32_t mv_heap_attr(uint32_t flags, enum mv_heap_list list)
{
	return (flags & MV_PK_FLAGS) |
	       ((uint32_t)list & MV_PK_LIST_MASK) << MV_PK_LIST_SHIFT;
}

/* Appends a chunk to x (x->n < x->cap), in any of the word's cases (a
 * GAP, a group's first, a SIZE_BIG); false when gapst or bigs could
 * not grow. */
bool mv_heap_index_put(struct mv_heap_index *x, uint64_t start,
		       uint64_t size, uint32_t attr);

/* The same, where the common case is a word written: a chunk where the
 * one before ends, inside a group. */
static inline bool mv_heap_index_add(struct mv_heap_index *x, uint64_t start,
				     uint64_t size, uint32_t attr)
{
	if (start != x->next_at || !(x->n & (MV_PK_GROUP - 1)) || !size ||
	    (size >> 3) >= MV_PK_SIZE_BIG)
		return mv_heap_index_put(x, start, size, attr);
	x->meta[x->n++] = attr | (uint32_t)(size >> 3) << MV_PK_SIZE_SHIFT;
	x->last_start = start;
	x->last_end = x->next_at = start + size;
	return true;
}

void mv_heap_index_free(struct mv_heap_index *x);
/* Sorts x (mv_heap_sort's first half): its ascending runs merged into a
 * new index, the old one given back as it is read. */
struct mv_error *mv_heap_sort_index(struct mv_heap *h);
/* The chunk of [0, n) holding address (mv_heap_chunk_index), or
 * SIZE_MAX and in *after (if not NULL) the first starting above it. */
size_t mv_heap_index_holding(const struct mv_heap *h, size_t n,
			     uint64_t address, size_t *after);

/* Adds a chunk (room for it in the index).  false when out of memory. */
static inline bool mv_heap_store_chunk(struct mv_heap *h, uint64_t start,
				       uint32_t size16, uint32_t flags,
				       enum mv_heap_list list, uint16_t arena)
{
	uint64_t size = ((uint64_t)size16 << 4) +
			(flags & MV_ENTRY_PLUS8 ? 8 : 0);
	uint64_t end = start + size;
	if (!mv_heap_index_add(&h->ix, start, size, mv_heap_attr(flags, list)))
		return false;
	if (start == h->run_end && arena == h->run_arena && start)
		h->run_end = end;
	else
		mv_heap_run_break(h, start, end, arena);
	return true;
}

/* Inline: a million chunks are a million calls.  The bound, growth and
 * oversized chunks take the slow path. */
static inline struct mv_error *mv_heap_add_chunk(struct mv_heap *h,
						 uint64_t start, uint64_t size,
						 uint32_t flags,
						 enum mv_heap_list list,
						 uint32_t arena)
{
	if (h->ix.n >= h->ix.cap || h->ix.n >= h->max_chunks ||
	    (size >> 4) > UINT32_MAX || arena > UINT16_MAX ||
	    start >= MV_ENTRY_START_END)
		return mv_heap_add_chunk_slow(h, start, size, flags, list,
					      arena);
	return mv_heap_store_chunk(h, start, (uint32_t)(size >> 4), flags,
				   list, (uint16_t)arena)
		       ? NULL
		       : mv_enomem;
}
struct mv_error *mv_heap_add_arena(struct mv_heap *h,
				   const struct mv_heap_arena *a,
				   uint32_t *ret);
struct mv_error *mv_heap_add_segment(struct mv_heap *h,
				     const struct mv_heap_segment *s);
/* Records [start, end) as the allocator's own state (see metadata). */
struct mv_error *mv_heap_add_metadata(struct mv_heap *h, uint64_t start,
				      uint64_t end);
/* Room for n chunks in the index up front (a model that can estimate
 * its chunk count saves the growths). */
struct mv_error *mv_heap_reserve(struct mv_heap *h, size_t n);
/* Records a problem (formatted, one sentence); bounded. */
struct mv_error *mv_heap_note(struct mv_heap *h, const char *fmt, ...)
	MV_PRINTF(2, 3);
/* Sorts the index by address (if needed) and drops overlapping entries
 * with a note, so that lookups can binary-search. */
struct mv_error *mv_heap_sort(struct mv_heap *h);
/* Index of the entry starting exactly at start, or SIZE_MAX. */
size_t mv_heap_entry_at(struct mv_heap *h, uint64_t start);
struct mv_error *mv_heap_poll(struct mv_heap *h);

/* For a lazy model: the mmapped chunk holding address (a lazy heap's
 * index holds those only). */
bool mv_heap_lazy_mmapped(struct mv_heap *h, uint64_t address,
			  struct mv_chunk *ret);

/* What malloc_usable_size() says for a chunk with these flags. */
static inline uint64_t mv_heap_usable(uint64_t size, uint32_t flags)
{
	/* glibc: an in-use chunk lends the next chunk's prev_size field to
	 * its user (size - 8); an mmapped one has no next chunk (size - 16).
	 * Free chunks, the top and corrupt ranges hold no user data. */
	if (!(flags & MV_CHUNK_IN_USE) || (flags & MV_CHUNK_CORRUPT))
		return 0;
	if (flags & MV_CHUNK_NO_HEADER)
		return size;
	if (flags & MV_CHUNK_MMAPPED)
		return size >= 16 ? size - 16 : 0;
	return size >= 8 ? size - 8 : 0;
}

/* Gives back the index's room never used, once the models are done
 * (mv_heap_open_with) and it is sorted. */
struct mv_error *mv_heap_trim(struct mv_heap *h);

/* The index's chunk i (i < mv_heap_chunk_count(h), which completes a
 * lazy heap; for a model, i < h->ix.n of a sorted index): a few loads,
 * no call but for rare cases. */
uint64_t mv_heap_big_size(const struct mv_heap *h, size_t i);
uint64_t mv_heap_gap_start(const struct mv_heap *h, size_t i);

static inline uint32_t mv_heap_flags_at(const struct mv_heap *h, size_t i)
{
	return h->ix.meta[i] & MV_PK_FLAGS;
}

/* For models, once the index is sorted: chunk i's flags and list. */
static inline void mv_heap_set_attr(struct mv_heap *h, size_t i,
				    uint32_t flags, enum mv_heap_list list)
{
	h->ix.meta[i] = (h->ix.meta[i] & ~MV_PK_ATTR) | mv_heap_attr(flags, list);
}

static inline enum mv_heap_list mv_heap_list_at(const struct mv_heap *h,
						size_t i)
{
	return (enum mv_heap_list)(h->ix.meta[i] >> MV_PK_LIST_SHIFT &
				   MV_PK_LIST_MASK);
}

static inline uint64_t mv_heap_size_at(const struct mv_heap *h, size_t i)
{
	uint32_t s = h->ix.meta[i] >> MV_PK_SIZE_SHIFT;
	return s == MV_PK_SIZE_BIG ? mv_heap_big_size(h, i) : (uint64_t)s << 3;
}

/* The start of chunk i + 1 (< n), chunk i starting at start: a loop
 * over the index in order keeps its start so.  (The chunk after one of
 * SIZE_BIG has GAP.) */
static inline uint64_t mv_heap_next_start(const struct mv_heap *h, size_t i,
					  uint64_t start)
{
	return h->ix.meta[i + 1] & MV_PK_GAP
		       ? mv_heap_gap_start(h, i + 1)
		       : start + ((uint64_t)(h->ix.meta[i] >> MV_PK_SIZE_SHIFT)
				  << 3);
}

uint64_t mv_heap_start_slow(const struct mv_heap *h, size_t i);

/* A sum of the sizes before it in its group, in one cache line, when
 * none of them is GAP (nor, then, SIZE_BIG). */
static inline uint64_t mv_heap_start_at(const struct mv_heap *h, size_t i)
{
	size_t k = i & ~(size_t)(MV_PK_GROUP - 1);
	const uint32_t *m = h->ix.meta;
	uint64_t sum = 0;
	uint32_t any = 0;
	for (size_t j = k; j < i; j++) {
		sum += m[j] >> MV_PK_SIZE_SHIFT;
		any |= m[j + 1];
	}
	if (!(any & MV_PK_GAP))
		return h->ix.gstart[k >> MV_PK_GROUP_SHIFT] + (sum << 3);
	return mv_heap_start_slow(h, i);
}

/* From chunk a, starting at *start, the last chunk before end that
 * starts at or below address (its start in *start). */
static inline size_t mv_heap_step_to(const struct mv_heap *h, size_t a,
				     size_t end, uint64_t address,
				     uint64_t *start)
{
	uint64_t s = *start;
	for (; a + 1 < end; a++) {
		uint64_t t = mv_heap_next_start(h, a, s);
		if (t > address)
			break;
		s = t;
	}
	*start = s;
	return a;
}

/* The last chunk of the packed index starting at or below address
 * (its start in *start), or SIZE_MAX; the first starting at or above
 * it (n if none). */
size_t mv_heap_floor(const struct mv_heap *h, uint64_t address,
		     uint64_t *start);
size_t mv_heap_lower_bound(const struct mv_heap *h, uint64_t address);

/* Read-only views for the `heap` command. */
const struct mv_heap_arena *mv_heap_arenas(struct mv_heap *h, size_t *n);
/* With MV_HEAP_RECORD_BINS: the free lists (none without it). */
const struct mv_heap_bin *mv_heap_bins(struct mv_heap *h, size_t *n);
const uint64_t *mv_heap_bin_chunks(struct mv_heap *h);
/* For the models: a new list (then its chunks, in order, with
 * mv_heap_bin_add), or NULL without MV_HEAP_RECORD_BINS or memory. */
struct mv_error *mv_heap_bin_begin(struct mv_heap *h, enum mv_heap_list list,
				   uint32_t arena, uint32_t index,
				   uint64_t owner, int64_t count);
struct mv_error *mv_heap_bin_add(struct mv_heap *h, uint64_t chunk);
/* Marks the open list cut short, or drops it if it holds nothing. */
void mv_heap_bin_end(struct mv_heap *h, bool cut);
struct mv_cmd_ctx;
struct mv_json;
/* `heap --bins` (cmd_heap_bins.c): the lists of h, opened with
 * MV_HEAP_RECORD_BINS, at most max blocks shown a list. */
struct mv_error *mv_heap_bins_render(struct mv_cmd_ctx *ctx,
				     struct mv_heap *h, uint64_t max);
/* Shared by heap's views (cmd_heap.c): the keys partial,
 * max_heap_chunks and limit; the key notes; the text's "N problems:"
 * list (nothing without notes). */
void mv_heap_json_limit(struct mv_json *j, struct mv_heap *h);
void mv_heap_json_notes(struct mv_json *j, struct mv_heap *h);
void mv_heap_text_notes(struct mv_cmd_ctx *ctx, struct mv_heap *h);
const struct mv_heap_segment *mv_heap_segments(struct mv_heap *h,
					       size_t *n);
bool mv_heap_with_symbols(struct mv_heap *h);

#endif
