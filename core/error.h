/* error.h - the library's own helpers over its errors (memview.h has
 * the public ones). */
#ifndef MV_ERROR_H
#define MV_ERROR_H

#include "memview.h"

/* The words for an interrupt (Ctrl-C) that cut a command where it has
 * no partial answer to give: "interrupted while DOING: LEFT", DOING
 * from fmt (what the command was doing and how far it had got, "...
 * (N chunks so far)"), LEFT what that leaves ("nothing to answer from
 * yet").  err is what a poll returned: an interrupt ("interrupted...")
 * is replaced by the new one (and freed), any other error is returned
 * unchanged; NULL gives a new interrupt.  The front ends show these words as they are
 * (python/memview_core.py keeps them for gdb's own Ctrl-C). */
struct mv_error *mv_error_interrupted(struct mv_error *err, const char *left,
				      const char *fmt, ...) MV_PRINTF(3, 4);

#endif
