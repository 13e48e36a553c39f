/* target_core.c - ELF64 x86-64 core files (work in progress). */
#include "target.h"

struct mv_error *mv_target_open_core(const char *path, struct mv_target **ret)
{
	return mv_error_create(MV_ERR_UNSUPPORTED, "%s: core files are not supported yet", path);
}
