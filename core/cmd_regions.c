/* cmd_regions.c - `regions`: the target's memory map. */
#include <string.h>

#include "session.h"

/* rwxp as in /proc/PID/maps; a core does not record private/shared,
 * so it gets three letters. */
static void perms_string(uint32_t perms, bool sharing_known, char out[5])
{
	out[0] = perms & MV_PERM_R ? 'r' : '-';
	out[1] = perms & MV_PERM_W ? 'w' : '-';
	out[2] = perms & MV_PERM_X ? 'x' : '-';
	out[3] = sharing_known ? (perms & MV_PERM_P ? 'p' : 's') : '\0';
	out[4] = '\0';
}

struct mv_error *mv_cmd_regions(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err = mv_session_need_memory(s);
	if (err)
		return err;
	const struct mv_region *r;
	size_t n = mv_target_regions(s->target, &r);
	bool is_core = !strcmp(mv_target_kind(s->target), "core");
	struct mv_json j;
	if (ctx->json) {
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "regions");
		mv_json_key(&j, "target");
		mv_json_string(&j, mv_target_kind(s->target));
		mv_json_key(&j, "regions");
		mv_json_begin_array(&j);
	} else {
		mv_out(ctx, "%-18s %-18s %10s %-4s %10s %s\n", "start", "end",
		       "size", "perm", "offset", is_core ? "file (in core)" : "file");
	}
	for (size_t i = 0; i < n; i++) {
		char perms[5];
		perms_string(r[i].perms, !strcmp(mv_target_kind(s->target), "process"),
			     perms);
		uint64_t size = r[i].end - r[i].start;
		if (ctx->json) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "start");
			mv_json_address(&j, r[i].start);
			mv_json_key(&j, "end");
			mv_json_address(&j, r[i].end);
			mv_json_key(&j, "size");
			mv_json_uint(&j, size);
			mv_json_key(&j, "perms");
			mv_json_string(&j, perms);
			mv_json_key(&j, "offset");
			mv_json_address(&j, r[i].offset);
			mv_json_key(&j, "path");
			mv_json_string(&j, r[i].path);
			mv_json_key(&j, "dumped");
			mv_json_uint(&j, r[i].dumped);
			mv_json_end_object(&j);
		} else {
			mv_out(ctx, "0x%016llx 0x%016llx %10llu %-4s %10llx ",
			       (unsigned long long)r[i].start,
			       (unsigned long long)r[i].end,
			       (unsigned long long)size, perms,
			       (unsigned long long)r[i].offset);
			if (r[i].path)
				mv_buf_escape(&ctx->out, r[i].path,
					      strlen(r[i].path), 0);
			if (is_core && r[i].dumped < size)
				mv_out(ctx, "%s(%s)", r[i].path ? " " : "",
				       r[i].dumped ? "partly in core"
						   : "not in core");
			mv_out(ctx, "\n");
		}
	}
	if (ctx->json) {
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
	} else {
		mv_out(ctx, "%zu region%s\n", n, n == 1 ? "" : "s");
	}
	return mv_buf_error(&ctx->out);
}


const struct mv_command mv_command_regions = {
	.name = "regions",
	.debugger_name = "mv-regions",
	.synopsis = "",
	.summary = "List the memory regions of the target with "
		   "permissions and backing files.",
	.description =
		"For a core dump, also how many bytes of each region "
		"the dump holds: regions a core leaves out (read-only "
		"file mappings, filtered segments) are read from the "
		"mapped files where they still exist.",
	.options = mv_no_options,
	.min_pos = 0,
	.max_pos = 0,
	.run = mv_cmd_regions,
};
