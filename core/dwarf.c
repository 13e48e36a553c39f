/* dwarf.c - DWARF types and variables via libdwarf (stub). */
#include <stdlib.h>

#include "dwarf.h"
#include "type_internal.h"

struct mv_dwarf {
	uint64_t bias;
};

struct mv_error *mv_dwarf_open(const char *path, uint64_t bias,
			       struct mv_dwarf **ret)
{
	return mv_error_create(MV_ERR_NOT_FOUND, "%s: DWARF not loaded yet",
			       path);
}

void mv_dwarf_destroy(struct mv_dwarf *d)
{
	free(d);
}

struct mv_error *mv_dwarf_find_type(struct mv_dwarf *d, enum mv_type_ns ns,
				    const char *name, uint64_t pc,
				    struct mv_type **ret, size_t *ndefs)
{
	if (ndefs)
		*ndefs = 0;
	return mv_error_create(MV_ERR_NOT_FOUND, "no type %s", name);
}

struct mv_error *mv_dwarf_find_variable(struct mv_dwarf *d, const char *name,
					uint64_t pc, uint64_t *addr,
					struct mv_type **type)
{
	return mv_error_create(MV_ERR_NOT_FOUND, "no variable %s", name);
}

struct mv_error *mv_dwarf_for_each_variable(struct mv_dwarf *d,
					    mv_dwarf_variable_fn fn,
					    void *arg)
{
	return NULL;
}

void mv_dwarf_stats(struct mv_dwarf *d, struct mv_dwarf_stats *ret)
{
	ret->cus = 0;
	ret->indexed_names = 0;
	ret->types_built = 0;
}
