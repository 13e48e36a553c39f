/* target_proc.c - live local processes (work in progress). */
#include "target.h"

struct mv_error *mv_target_open_pid(int pid, struct mv_target **ret)
{
	return mv_error_create(MV_ERR_UNSUPPORTED, "live processes are not supported yet (pid %d)", pid);
}
