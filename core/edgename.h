/* edgename.h - pointers named as C and C++ expressions (edgename.c). */
#ifndef MV_EDGENAME_H
#define MV_EDGENAME_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cxxelem.h"
#include "memview.h"
#include "walk.h"

/* One pointer of a chain: the word holding it and what it points to. */
struct mv_edge_hop {
	uint64_t holder;    /* address of the word */
	uint64_t value;     /* the pointer */
	bool heap;          /* holder is in a heap block ... */
	uint64_t chunk_mem; /* ... whose user address is this */
	/* The object the pointer leads to, if the caller knows it (the
	 * walk's dynamic or container type): its type and first byte.
	 * NULL: the pointer's declared type, at value. */
	struct mv_type *type;
	uint64_t base;
	/* holder is inside a container's element: name the element
	 * ("g_map[7]"), not a pointer member of it. */
	bool element_only;
};

/* A global word holding a pointer, as a C expression ("g_table.head",
 * "g_vec_ptr" for a vector's start), appended to out; false if no
 * variable's pointer member lies exactly there. */
bool mv_edge_global_expression(struct mv_program *p, uint64_t holder,
			       struct mv_buf *out);
/* A container's own blocks in a member path from byte from on, which
 * hold no element, named after the container: a deque's map
 * "g_deque (map)" (was "g_deque._M_impl._M_map"), a hash table's
 * bucket array "g_umap (buckets)", a shared_ptr's control block
 * "g_sp (control block)". */
void mv_edge_spell_blocks(struct mv_buf *path, size_t from);
/* Names each hop of a chain that starts in the object root names (of
 * type, at addr: hops[0].holder lies in it): "root.head",
 * "root.head->next", "g_deque[18]", "g_map[7]->name".  exprs[i] is NULL
 * for a hop that cannot be typed (and all after it) or that is a node
 * container's own link on the way to an element.  Returns a calloc'ed
 * array of n strdup'ed strings (the caller frees each and it), NULL
 * without memory.  memo (cxxelem.h, may be NULL) keeps the
 * containers walked for the next call.  poll is called while a container is walked;
 * Ctrl-C ends the naming there.  *entered (if entered is not NULL)
 * says whether a node container's element was named. */
char **mv_edge_expressions(struct mv_program *p, const char *root,
			   struct mv_type *type, uint64_t addr,
			   const struct mv_edge_hop *hops, size_t n,
			   struct mv_cxx_elem_memo *memo, mv_walk_poll_fn poll,
			   void *poll_arg, bool *entered);

#endif
