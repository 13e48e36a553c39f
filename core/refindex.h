/* refindex.h - the heap's pointers the other way round: for each
 * in-use chunk, the chunks holding a word that points into it.  Built
 * in one pass over the blocks (what one referrers scan reads), kept in
 * the session beside the heap it was built on, so that referrers and
 * path-to after the first answer from the index: path-to searches
 * backwards from its target to the nearest chunk a root holds, visiting
 * the target's ancestors only.
 *
 * A block counts as a holder, and a word as pointing into a chunk, by
 * the same rules as referrers' and path-to's scans (graph.c): in-use
 * chunks that are neither on a free list, nor metadata, the top or
 * corrupt; a word inside such a chunk at or after its user address.
 *
 * Layering: on heap (index, walk.h's chunk directory) and target
 * memory; graph.c and the session use it. */
#ifndef MV_REFINDEX_H
#define MV_REFINDEX_H

#include "heap.h"
#include "program.h"
#include "walk.h"

struct mv_refindex;

/* The heap segment a scan's last block was in, and its bytes in a
 * core's mapping (NULL: not there in one piece), so that a scan in
 * address order finds each block's words without a region lookup. */
struct mv_block_span {
	uint64_t lo, hi;
	const uint8_t *bytes;
};

/* mv_target_peek_stable(t, address, len) for a block of h, through s
 * (zeroed before the first call). */
const void *mv_block_span_peek(struct mv_block_span *s, struct mv_target *t,
			       struct mv_heap *h, uint64_t address,
			       uint64_t len);

/* Builds the index over h's chunks, reading the blocks of p's target.
 * progress (may be NULL) is told the chunks done of the total now and
 * then; poll is asked for Ctrl-C (MV_ERR_INTERRUPTED).  MV_ERR_LIMIT
 * when the heap has 2^31 chunks or pointers or more (then callers
 * search without it), MV_ERR_NOMEM. */
struct mv_error *mv_refindex_build(struct mv_program *p, struct mv_heap *h,
				   void (*progress)(void *arg, uint64_t done,
						    uint64_t total),
				   void *progress_arg, mv_walk_poll_fn poll,
				   void *poll_arg, struct mv_refindex **ret);
void mv_refindex_destroy(struct mv_refindex *ri);
/* The heap it was built on. */
struct mv_heap *mv_refindex_heap(const struct mv_refindex *ri);
/* Whether a chunk with these flags is one the index knows holders of
 * (and reads as a holder). */
bool mv_refindex_block(uint32_t flags);
/* The chunks (indexes in h) holding a word that points into chunk i,
 * in ascending order, each once; *n of them.  A chunk's one holder is
 * kept in its own entry: it is returned through *one. */
const uint32_t *mv_refindex_holders(const struct mv_refindex *ri, size_t i,
				    uint32_t *one, size_t *n);
/* Holder-to-target pairs found (a chunk counted once per holder). */
uint64_t mv_refindex_edges(const struct mv_refindex *ri);
/* Bytes the index takes. */
uint64_t mv_refindex_bytes(const struct mv_refindex *ri);

/* mv_graph_referrers (walk.h) for a range inside chunk `chunk` (an
 * in-use block as the index takes them): only the chunk's holders are
 * read, in address order, then the roots; the same words in the same
 * order as the whole scan. */
struct mv_error *mv_graph_referrers_index(struct mv_program *p,
					  struct mv_refindex *ri, size_t chunk,
					  uint64_t lo, uint64_t hi,
					  bool (*fn)(void *arg,
						     const struct mv_ref *ref),
					  void *arg, struct mv_notes *skipped,
					  mv_walk_poll_fn poll, void *poll_arg);
/* mv_graph_path_to_max over the index (graph.c): backwards from the
 * target's chunk through its holders, level by level, to the nearest
 * chunks a root holds; of the shortest chains, the one whose root word
 * the roots' scan meets first.  Visits the target's ancestors only:
 * *visited counts them, max_objects bounds them. */
/* Which pointers path-to may take (an object model's edges,
 * modelref.c): a root word or a heap word (ref) into chunk `to`, or,
 * with ref NULL, any word of chunk `from` into chunk `to`.  An error
 * (*ret unset) stops the search. */
struct mv_edge_filter {
	struct mv_error *(*accept)(void *arg, const struct mv_ref *ref,
				   size_t from, size_t to, bool *ret);
	void *arg;
};

struct mv_error *mv_graph_path_to_index(struct mv_program *p,
					struct mv_refindex *ri,
					const struct mv_edge_filter *filter,
					uint64_t target, uint64_t max_objects,
					struct mv_path_hop **ret, size_t *nret,
					uint64_t *visited, bool *hit_max,
					struct mv_notes *skipped,
					mv_walk_poll_fn poll, void *poll_arg);

#endif
