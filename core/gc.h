/* gc.h - a simulated garbage collection over a heap model: mark from the
 * roots (objfiles' writable data, thread stacks from the stack pointer,
 * registers), classify what is left the way valgrind's memcheck does
 * (definitely, indirectly, possibly lost, still reachable), and find the
 * cyclic garbage (unreachable strongly connected components).  Also
 * CPython's cycle-collector algorithm over refcounted structs.
 *
 * Memory: one byte of state per chunk of the heap index, plus a graph of
 * the unreachable chunks only (what is reachable is never stored as
 * edges: it is marked and forgotten).  Target data is never recursed
 * over: marking uses an explicit work stack, the SCCs an iterative
 * Tarjan (scc.c).
 *
 * Layering: gc sits on heap (the chunk index), program (objfiles, types)
 * and target memory; cmd_gc.c and cmd_cycles.c render it. */
#ifndef MV_GC_H
#define MV_GC_H

#include "buf.h"
#include "heap_internal.h"
#include "program.h"

/* The state of one chunk after a collection. */
enum mv_gc_kind {
	MV_GC_NOT_BLOCK,  /* free, top, allocator metadata, corrupt */
	MV_GC_UNREACHED,  /* transient: not yet classified */
	MV_GC_REACHABLE,  /* still reachable: start pointers from a root */
	MV_GC_POSSIBLE,   /* possibly lost: every chain has an interior ptr */
	MV_GC_DEFINITE,   /* definitely lost */
	MV_GC_INDIRECT,   /* indirectly lost: only lost blocks point to it */
	MV_GC_KIND_COUNT_
};

/* Returns an error (MV_ERR_INTERRUPTED) to stop; may be NULL. */
typedef struct mv_error *(*mv_gc_poll_fn)(void *arg);

/* A range scanned as a root by tests instead of the program's own. */
struct mv_gc_range {
	uint64_t start, end;
};

struct mv_gc_options {
	/* If set, only these ranges are roots (hand-made heaps in tests). */
	const struct mv_gc_range *roots;
	size_t nroots;
	bool only_given_roots;
	mv_gc_poll_fn poll;   /* called about every 64k words scanned */
	void *poll_arg;
};

#define MV_GC_INTERIOR 0x80000000u /* edge flag: not to the block start */
#define MV_GC_NONE UINT32_MAX

struct mv_gc {
	struct mv_heap *heap;
	struct mv_program *program;
	struct mv_target *target;
	struct mv_gc_options opt;
	const struct mv_heap_entry *e;
	size_t n;                /* heap chunks */
	uint8_t *kind;           /* enum mv_gc_kind per chunk index */

	/* The unreachable (definitely + indirectly lost) chunks: their
	 * chunk indexes in address order, and the pointers among them as
	 * a CSR graph over positions in that list (MV_GC_INTERIOR marks an
	 * interior pointer). */
	uint32_t *lost;
	size_t nlost;
	uint64_t *lost_off;      /* nlost + 1 */
	uint32_t *lost_adj;
	size_t nlost_adj, lost_adj_cap;
	uint32_t *scc;           /* component of each lost position */
	size_t nscc;
	uint32_t *scc_members;   /* size of each component */
	bool *scc_cyclic;        /* size > 1 or a self loop */

	/* Totals: count and usable bytes per kind. */
	uint64_t count[MV_GC_KIND_COUNT_];
	uint64_t bytes[MV_GC_KIND_COUNT_];
	uint64_t cyclic_sccs, cyclic_objects, cyclic_bytes;
	/* Work done. */
	uint64_t root_bytes;      /* bytes of roots scanned */
	uint64_t root_pointers;   /* root words pointing into blocks */
	uint64_t heap_bytes;      /* bytes of chunks scanned (all passes) */
	uint64_t heap_pointers;   /* heap words pointing into blocks */
	uint64_t threads, stacks_scanned;
	uint64_t words_since_poll;
	struct mv_notes notes;

	/* Lookup acceleration (gc.c). */
	struct mv_gc_seg *segs;
	size_t nsegs;
	uint64_t lo, hi;          /* no block outside [lo, hi) */
	uint8_t *scratch;         /* for chunks that cannot be peeked */
	size_t scratch_cap;
	uint64_t *window;         /* roots are read through it */
	uint32_t *stack;          /* marking work stack */
	size_t nstack, stack_cap;
};

/* Runs a collection over heap h (which must outlive gc).  Target data
 * problems (a stack not in the core, unreadable data) become notes;
 * errors are out-of-memory and interruption only. */
struct mv_error *mv_gc_run(struct mv_gc *gc, struct mv_heap *h,
			   const struct mv_gc_options *opt);
void mv_gc_deinit(struct mv_gc *gc);

/* The chunk index holding address inside a block's user bytes (what
 * malloc returned up to its usable size), or SIZE_MAX; *interior tells
 * whether address is past the start.  Only in-use blocks count. */
size_t mv_gc_find_block(struct mv_gc *gc, uint64_t address, bool *interior);
/* Position of chunk index i in gc->lost, or MV_GC_NONE. */
uint32_t mv_gc_lost_pos(const struct mv_gc *gc, size_t i);
const char *mv_gc_kind_name(enum mv_gc_kind k);   /* "definitely lost" */
const char *mv_gc_kind_key(enum mv_gc_kind k);    /* "definitely_lost" */
/* User address and usable size of chunk i. */
uint64_t mv_gc_mem(const struct mv_gc *gc, size_t i);
uint64_t mv_gc_usable(const struct mv_gc *gc, size_t i);
/* The user bytes of block i: zero copy when the target allows, else
 * copied into gc's scratch buffer (valid until the next call).  *len
 * gets the readable prefix. */
const uint8_t *mv_gc_block_bytes(struct mv_gc *gc, size_t i, size_t *len);

/* ---- scc.c ---- */

/* Strongly connected components of a CSR graph (node v's successors are
 * adj[off[v]] .. adj[off[v + 1] - 1], each masked with mask), by an
 * iterative Tarjan: no recursion however long the paths.  comp[v]
 * receives the component of v; components come out in reverse
 * topological order (a component's successors have smaller ids).
 * *ncomp is the number of components.  poll may be NULL. */
struct mv_error *mv_scc_tarjan(size_t n, const uint64_t *off,
			       const uint32_t *adj, uint32_t mask,
			       uint32_t *comp, size_t *ncomp,
			       mv_gc_poll_fn poll, void *poll_arg);

/* One concrete cycle through node start inside its component: nodes in
 * order (the first is start; the edge from the last goes back to it),
 * at most max of them; *nret their count, 0 if start has no cycle.
 * ret must hold max entries; the caller frees nothing. */
struct mv_error *mv_scc_cycle(size_t n, const uint64_t *off,
			      const uint32_t *adj, uint32_t mask,
			      const uint32_t *comp, uint32_t start,
			      uint32_t *ret, size_t max, size_t *nret);

#endif
