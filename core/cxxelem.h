/* cxxelem.h - the element of a libstdc++ node container or deque that holds an
 * address, named as gdb's libstdc++ pretty printers show it. */
#ifndef MV_CXXELEM_H
#define MV_CXXELEM_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "memview.h"
#include "walk.h"

struct mv_cxx_elem {
	bool found;
	bool mapped;          /* name is "[key]": the pair's .second */
	uint64_t index;       /* position in iteration order */
	uint64_t addr;        /* the element's first byte */
	struct mv_type *type; /* its type (a map's std::pair) */
};

/* Whether t is a container whose elements mv_cxx_elem_find names: a
 * std::deque, list, forward_list, set, map, unordered_set or
 * unordered_map (and their multi- forms). */
bool mv_cxx_elem_container(struct mv_type *t);
/* Containers already listed, so that naming each of n elements costs
 * no walk of n: a memo lists a position-named container (deque, list,
 * set, ...) once, on its first element asked, and looks elements up
 * after.  For callers that name many elements (graph). */
struct mv_cxx_elem_memo;
struct mv_cxx_elem_memo *mv_cxx_elem_memo_create(void);
void mv_cxx_elem_memo_destroy(struct mv_cxx_elem_memo *memo);

/* Finds the element of the container of type ct at address ca whose
 * bytes hold address at, walking the container (bounded, polling).
 * Appends its subscript ("[42]", "[17]", "[\"key\"]") to name and fills
 * ret; ret->found is false if no element holds at.  block is the user
 * address of the heap block holding at, if known (0: not): a node is
 * then recognised without walking the container (a map's, named by its
 * key) and a word outside its value costs no walk.  memo may be NULL.
 * Errors: only from poll (Ctrl-C). */
struct mv_error *mv_cxx_elem_find(struct mv_program *p, struct mv_type *ct,
				  uint64_t ca, uint64_t at, uint64_t block,
				  struct mv_cxx_elem_memo *memo,
				  mv_walk_poll_fn poll, void *poll_arg,
				  struct mv_buf *name, struct mv_cxx_elem *ret);

#endif
