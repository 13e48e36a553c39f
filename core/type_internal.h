/* type_internal.h - how a type's target is loaded lazily.
 *
 * Shared by type.c (which resolves) and dwarf.c (which installs the
 * resolver).  Synthetic types (program.c) set target_ directly and leave
 * lazy_ NULL. */
#ifndef MV_TYPE_INTERNAL_H
#define MV_TYPE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "memview.h"

/* Stored in mv_type.lazy_.  resolve() returns the target of t (never
 * NULL: an MV_TYPE_UNKNOWN type when it cannot be loaded); type.c caches
 * the result in t->target_. */
struct mv_type_lazy {
	struct mv_type *(*resolve)(void *arg, struct mv_type *t);
	void *arg;
	uint64_t die_offset; /* DIE of the target type; 0 means void */
	/* Function types only: the parameter types are in members[]. */
	bool prototyped; /* "(void)" rather than "()" when there are none */
	bool varargs;    /* ends in "..." */
};

#endif
