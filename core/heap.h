/* heap.h - allocator models behind one interface (pahole's
 * debug_fmt_ops style): glibc malloc first; jemalloc or tcmalloc would be
 * other implementations of struct mv_heap_ops, not `if`s in the walkers.
 *
 * Layering: heap sits on program (symbols, types) and target memory;
 * walk, graph, sizeof-deep and gc use it. */
#ifndef MV_HEAP_H
#define MV_HEAP_H

#include "memview.h"
#include "program.h"

struct mv_heap;

enum {
	MV_CHUNK_IN_USE = 1,     /* allocated, as far as the model can tell */
	MV_CHUNK_MMAPPED = 2,    /* its own mmap (glibc IS_MMAPPED) */
	MV_CHUNK_FREE_LIST = 4,  /* on a tcache/fast/unsorted/small/large bin */
	MV_CHUNK_METADATA = 8,   /* allocator's own (e.g. the tcache block) */
	MV_CHUNK_CORRUPT = 16,   /* header failed validation */
	MV_CHUNK_TOP = 32,       /* an arena's top chunk */
	/* A block with no header of its own (CPython's pymalloc): the
	 * user address is start and all of size is usable. */
	MV_CHUNK_NO_HEADER = 64,
};

struct mv_chunk {
	uint64_t start;   /* chunk header address */
	uint64_t mem;     /* what malloc returned (start + 16 on glibc,
			     start with MV_CHUNK_NO_HEADER) */
	uint64_t size;    /* whole chunk, header included */
	uint64_t usable;  /* what malloc_usable_size() would say */
	uint32_t flags;   /* MV_CHUNK_* */
	uint32_t arena;   /* index of its arena (0 = main) */
};

/* The index holds at most mv_limits_max_heap_chunks() chunks unless
 * told otherwise (bounds.h): half the memory available to memview at
 * MV_LIMITS_CHUNK_COST bytes a chunk. */
/* max_chunks for no bound at all. */
#define MV_HEAP_NO_LIMIT UINT64_MAX

/* Opens the model for the program's target: finds the arenas (with
 * glibc's debug symbols: main_arena, mp_; without: the heap from the
 * mappings) and indexes its chunks once, at most
 * mv_limits_max_heap_chunks() of them (then mv_heap_limit_note says so).
 * MV_ERR_NOT_FOUND if there is no heap it understands.  Polls via poll
 * (may be NULL) so that Ctrl-C stops a big index; MV_ERR_INTERRUPTED
 * then. */
struct mv_error *mv_heap_open(struct mv_program *p, mv_poll_fn poll,
			      struct mv_heap **ret);
/* The same with another bound on the index: 0 for the default,
 * MV_HEAP_NO_LIMIT for none. */
struct mv_error *mv_heap_open_max(struct mv_program *p, uint64_t max_chunks,
				  mv_poll_fn poll, struct mv_heap **ret);
/* A lazy heap for a walk from a small root: the arenas, segments and
 * free lists are read now, a chunk header is checked at a pointer when
 * asked (mv_heap_lookup), and the whole index is built only when a
 * check cannot be sure (an interior pointer, a header that does not
 * look like one) or a caller needs every chunk.  Answers are those of
 * the whole index.  When the model cannot be lazy (no debug symbols,
 * pymalloc or mimalloc in the program, a bound given) this is
 * mv_heap_open_max. */
struct mv_error *mv_heap_open_lazy(struct mv_program *p, uint64_t max_chunks,
				   mv_poll_fn poll, struct mv_heap **ret);
/* Whether h is still lazy (no whole index yet). */
bool mv_heap_is_lazy(struct mv_heap *h);
/* Builds a lazy heap's whole index (with its progress and polling) in
 * place: h stays the same pointer.  Nothing to do for a whole one.
 * MV_ERR_INTERRUPTED, MV_ERR_NOMEM; h stays lazy then. */
struct mv_error *mv_heap_complete(struct mv_heap *h);
/* mv_heap_find_chunk for any heap: on a lazy one the header check, else
 * (or when it cannot tell) the whole index, built then; errors as
 * mv_heap_complete. */
struct mv_error *mv_heap_lookup(struct mv_heap *h, uint64_t address,
				struct mv_chunk *ret, bool *found);
void mv_heap_destroy(struct mv_heap *h);
/* "glibc malloc (with debug symbols)" or "... (from the mappings)". */
const char *mv_heap_description(struct mv_heap *h);

/* The chunk containing address (an interior pointer maps to its chunk),
 * free or in use; false if address is in no known chunk.  O(log n).
 * This and the functions below need the whole index: on a lazy heap
 * they build it first (mv_heap_complete; on its failure, they answer
 * as for an empty heap). */
bool mv_heap_find_chunk(struct mv_heap *h, uint64_t address,
			struct mv_chunk *ret);
/* Chunks in address order: index 0 .. count-1. */
size_t mv_heap_chunk_count(struct mv_heap *h);
bool mv_heap_chunk(struct mv_heap *h, size_t index, struct mv_chunk *ret);
/* Index of the chunk containing address, or SIZE_MAX. */
size_t mv_heap_chunk_index(struct mv_heap *h, uint64_t address);
/* NULL if every chunk was indexed; else the sentence saying where the
 * index stopped and how to lift the bound (--max-heap-chunks): the
 * answers built on this heap are partial and must say so. */
const char *mv_heap_limit_note(struct mv_heap *h);
/* A range of target memory [start, end). */
struct mv_heap_gap {
	uint64_t start, end;
};
/* When the index stopped (mv_heap_limit_note): the parts of the heap's
 * segments that no indexed chunk covers, in address order, and their
 * bytes in *bytes (both may be NULL).  The chunks there were not seen:
 * gc scans these ranges as roots so that nothing they hold is called
 * lost, the walkers call what lies there "not indexed".  0 ranges when
 * every chunk was indexed.  Computed once; MV_ERR_NOMEM. */
struct mv_error *mv_heap_unindexed(struct mv_heap *h,
				   const struct mv_heap_gap **ret, size_t *n,
				   uint64_t *bytes);
/* Problems found (corrupt headers, list loops), one sentence each. */
size_t mv_heap_notes(struct mv_heap *h, const char *const **ret);

#endif
