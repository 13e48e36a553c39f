/* gc.h - a simulated garbage collection over a heap model: mark from the
 * roots (objfiles' writable data, thread stacks from the stack pointer,
 * registers), classify what is left the way valgrind's memcheck does
 * (definitely, indirectly, possibly lost, still reachable), and find the
 * cyclic garbage (unreachable strongly connected components).  Also
 * CPython's cycle-collector algorithm over refcounted structs.
 *
 * Memory: one byte of state per chunk of the heap index (and while it
 * runs a bit a chunk and a lookup table of about a byte per eight
 * chunks), plus a graph of the unreachable chunks only (what is
 * reachable is never stored as edges: it is marked and forgotten).  Target data is never recursed
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
#include "roots.h"

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

/* valgrind's leak heuristics (--leak-check-heuristics): an interior
 * pointer of one of these shapes counts as a start pointer. */
enum {
	MV_HEUR_STDSTRING = 1,   /* past a {length, capacity, refcount} */
	MV_HEUR_LENGTH64 = 2,    /* past a 64-bit length of the rest */
	MV_HEUR_NEWARRAY = 4,    /* past new[]'s element count */
	MV_HEUR_MULTIPLE_INHERITANCE = 8, /* at a second base's vptr */
	MV_HEUR_ALL = 15,        /* valgrind's default */
};

/* Parses valgrind's spelling: "all", "none" or a comma list of
 * stdstring, length64, newarray, multipleinheritance. */
struct mv_error *mv_gc_parse_heuristics(const char *spec, uint32_t *ret);

struct mv_gc_options {
	/* If set, only these ranges are roots (hand-made heaps in tests). */
	const struct mv_gc_range *roots;
	size_t nroots;
	bool only_given_roots;
	uint32_t heuristics;  /* MV_HEUR_* */
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
	uint64_t by_heuristic;    /* blocks reachable only by a heuristic */
	/* The index stopped at its bound (mv_heap_unindexed): bytes of
	 * heap not examined, scanned as roots; the blocks (and their
	 * usable bytes) counted reachable only because of them. */
	uint64_t unexamined_bytes;
	uint64_t held_by_unexamined, held_by_unexamined_bytes;
	uint64_t words_since_poll;
	struct mv_notes notes;

	/* Lookup acceleration (gc.c): dropped at the end of a run, built
	 * again by the first lookup after it. */
	struct mv_gc_seg *segs;
	size_t nsegs;
	bool pages_dropped;
	uint64_t lo, hi;          /* no block outside [lo, hi) */
	uint8_t *scratch;         /* for chunks that cannot be peeked */
	size_t scratch_cap;
	uint64_t *window;         /* roots are read through it */
	uint32_t *stack;          /* marking work stack */
	size_t nstack, stack_cap;
	/* Words found by marking, looked up a batch at a time (gc.c,
	 * flush): the word, and whether found in something reachable (bit
	 * 0) or in a root (bit 1). */
	uint64_t cand[64];
	uint8_t cand_how[64];
	size_t ncand;
	/* Blocks to scan, by index (gc.c, sweep): ngrey bits set, none
	 * below grey_lo. */
	uint64_t *grey;
	size_t ngrey, grey_lo;
	struct mv_gc_range *roots; /* a copy of opt.roots */
	struct mv_roots rs;        /* the program's roots (roots.h) */
	/* mv_gc_count_refs(): counting instead of marking. */
	const uint64_t *ref_addrs;
	size_t nref;
	uint32_t *ref_counts;
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
/* Chunk i's size and flags (MV_CHUNK_*) in the heap's index. */
uint64_t mv_gc_size(const struct mv_gc *gc, size_t i);
uint32_t mv_gc_flags(const struct mv_gc *gc, size_t i);
/* The user bytes of block i: zero copy when the target allows, else
 * copied into gc's scratch buffer (valid until the next call).  *len
 * gets the readable prefix. */
const uint8_t *mv_gc_block_bytes(struct mv_gc *gc, size_t i, size_t *len);

/* Counts, for each of the n addresses (sorted ascending), the aligned
 * words that hold it exactly: in the roots (objfiles' writable data,
 * stacks, registers, or opt.roots) and in every block.  counts has n
 * entries, zeroed by the caller.  A conservative count of references:
 * stale words count too. */
struct mv_error *mv_gc_count_refs(struct mv_gc *gc, const uint64_t *addrs,
				  size_t n, uint32_t *counts);

/* ---- refcount.c: CPython's algorithm over refcounted structs ---- */

/* How an object was taken as one of the type. */
enum mv_rc_how {
	MV_RC_TYPED,   /* typed pointers from a typed global (the walk) */
	MV_RC_FIELD,   /* the type's pointer field in another object */
	MV_RC_LINKED,  /* a chunk of its size that such a field of another
			* chunk of its size points at */
	MV_RC_SIZE,    /* --by-size: a chunk of its malloc size */
	MV_RC_HOW_COUNT_
};

enum mv_rc_state {
	MV_RC_HELD,        /* gc_refs > 0: referenced from outside */
	MV_RC_REACHED,     /* reached from a held object */
	MV_RC_COLLECTABLE, /* what a cycle collector would free */
};

enum mv_rc_mistake {
	MV_RC_OK,
	MV_RC_OVER_RELEASED, /* count < references from other objects */
	MV_RC_LEAKED,        /* count > every reference found */
	MV_RC_BAD_COUNT,     /* negative or implausibly large: held */
};

struct mv_rc_obj {
	uint64_t addr;
	uint32_t chunk;      /* heap chunk index */
	uint8_t how;         /* enum mv_rc_how */
	uint8_t state;       /* enum mv_rc_state */
	uint8_t mistake;     /* enum mv_rc_mistake */
	bool guess;          /* found by size (or through a guess) */
	bool bad_count;      /* negative or huge: held, never collected */
	uint32_t internal;   /* references from other objects' fields */
	uint32_t found;      /* all words holding its address (>= internal) */
	int64_t count;       /* the count field */
	int64_t gc_refs;     /* count - internal */
	uint64_t bytes;      /* its size (0: the type's) */
};

struct mv_rc {
	struct mv_gc *gc;
	struct mv_type *type;     /* stripped */
	uint64_t size, chunk_size;
	uint64_t count_off;
	size_t count_size;
	bool count_signed;
	uint64_t *ptr_off;        /* offsets of pointers to the type */
	size_t nptr;
	struct mv_rc_obj *objs;   /* sorted by address after the run */
	size_t n, cap;
	/* The references among objects (CSR over positions in objs). */
	uint64_t *off;
	uint32_t *adj;
	size_t nadj;
	/* Components of the collectable objects. */
	uint32_t *comp;
	size_t ncomp;
	uint32_t *comp_size;
	bool *comp_cyclic;
	/* Totals. */
	uint64_t how[MV_RC_HOW_COUNT_];
	uint64_t states[MV_RC_COLLECTABLE + 1];
	uint64_t mistakes[MV_RC_BAD_COUNT + 1];
	uint64_t collectable_bytes, cycles;
	uint64_t globals_walked, implausible;
	bool walk_capped;
	/* With an object model (mv_rc_run_model): what it found. */
	bool model;
	struct mv_rc_model *m;
	/* Heap blocks probed; objects found in them; of those, not
	 * tracked (not the collector's), with a count of 0 (free lists),
	 * with a negative or huge count (held). */
	uint64_t blocks, objects, untracked, zero_count, bad_counts;
	struct mv_notes notes;
	/* Private. */
	uint32_t *set;
	size_t set_cap;
	uint8_t *buf;
};

/* Runs the algorithm over the objects of type (a complete struct) whose
 * count is the integer field at field_path ("refcnt",
 * "ob_base.ob_refcnt"), on the heap of a finished collection gc.
 * Errors: the type or field is unusable (MV_ERR_INVALID,
 * MV_ERR_NOT_FOUND), out-of-memory, interruption. */
struct mv_error *mv_rc_run(struct mv_rc *rc, struct mv_gc *gc,
			   struct mv_type *type, const char *field_path,
			   bool by_size);
void mv_rc_deinit(struct mv_rc *rc);
/* The same over the objects an object model finds (refcount_model.c):
 * rules (which must outlive rc) has a refcount rule (its TYPE's
 * dispatch rules say how objects are found, its tracked rule which ones
 * the collector examines).  Errors as mv_rc_run, and MV_ERR_USAGE when
 * rules cannot find objects. */
struct mv_rules;
struct mv_error *mv_rc_run_model(struct mv_rc *rc, struct mv_gc *gc,
				 const struct mv_rules *rules);
/* Shared by both: from rc->objs (sorted) with their counts, internal
 * references and CSR graph (off, adj): the survivors, the collectable
 * objects' cycles, the mistakes and the totals. */
struct mv_error *mv_rc_verdict(struct mv_rc *rc);
/* Room in rc->objs for one more object. */
struct mv_error *mv_rc_reserve(struct mv_rc *rc);
/* The type name of object i found by a model ("" otherwise): its
 * class as the model's typename rules name it ("Session", "list"), or
 * with c_type (or without such a rule) its C type.  Valid until the
 * next call. */
const char *mv_rc_type_name(const struct mv_rc *rc, size_t i, bool c_type);
void mv_rc_model_free(struct mv_rc *rc);
/* Position of the object at addr in rc->objs, or SIZE_MAX. */
size_t mv_rc_find(const struct mv_rc *rc, uint64_t addr);
/* Collectable and in a cycle (an SCC of more than one, or a self loop). */
bool mv_rc_in_cycle(const struct mv_rc *rc, size_t i);
const char *mv_rc_how_key(enum mv_rc_how h);       /* "typed_roots" */
const char *mv_rc_state_key(enum mv_rc_state s);   /* "collectable" */
const char *mv_rc_mistake_key(enum mv_rc_mistake m); /* "leaked_reference" */

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
