/* cmd_info.c - `info`: what this session can see, and what is missing. */
#include <string.h>

#include <elf.h> /* core/elf.h, which includes the system's <elf.h> */
#include "bounds.h"
#include "rules.h"
#include "session.h"
#include "target.h"

static void json_target(struct mv_session *s, struct mv_json *j)
{
	mv_json_key(j, "target");
	mv_json_begin_object(j);
	mv_json_key(j, "kind");
	mv_json_string(j, s->target ? mv_target_kind(s->target) : "none");
	mv_json_key(j, "path");
	mv_json_string(j, s->target ? mv_target_path(s->target) : NULL);
	mv_json_key(j, "pid");
	mv_json_int(j, s->target ? mv_target_pid(s->target) : 0);
	const struct mv_thread *th = NULL;
	size_t nth = s->target ? mv_target_threads(s->target, &th) : 0;
	mv_json_key(j, "threads");
	mv_json_uint(j, nth);
	mv_json_key(j, "copied_bytes");
	mv_json_uint(j, s->target ? s->target->copied_bytes : 0);
	mv_json_key(j, "debugger_reads");
	mv_json_uint(j, mv_target_read_calls(s->target));
	mv_json_key(j, "warnings");
	mv_json_begin_array(j);
	const char *const *w;
	size_t nw = s->target ? mv_target_warnings(s->target, &w) : 0;
	for (size_t i = 0; i < nw; i++)
		mv_json_string(j, w[i]);
	nw = s->program ? mv_program_warnings(s->program, &w) : 0;
	for (size_t i = 0; i < nw; i++)
		mv_json_string(j, w[i]);
	mv_json_end_array(j);
	mv_json_end_object(j);
}

/* The default bounds and what they come from (bounds.h). */
static void json_limits(struct mv_json *j)
{
	struct mv_memory_budget b;
	mv_memory_budget(&b);
	mv_json_key(j, "limits");
	mv_json_begin_object(j);
	mv_json_key(j, "available");
	if (b.known)
		mv_json_uint(j, b.available);
	else
		mv_json_null(j);
	mv_json_key(j, "measured");
	if (b.known)
		mv_json_uint(j, b.measured);
	else
		mv_json_null(j);
	mv_json_key(j, "source");
	mv_json_string(j, b.known ? b.source : NULL);
	mv_json_key(j, "share");
	mv_json_uint(j, MV_LIMITS_SHARE);
	mv_json_key(j, "max_heap_chunks");
	mv_json_uint(j, mv_limits_max_heap_chunks());
	mv_json_key(j, "chunk_cost");
	mv_json_uint(j, MV_LIMITS_CHUNK_COST);
	mv_json_key(j, "max_objects");
	mv_json_uint(j, mv_limits_max_objects());
	mv_json_key(j, "object_cost");
	mv_json_uint(j, MV_LIMITS_OBJECT_COST);
	mv_json_end_object(j);
}

static void text_limits(struct mv_cmd_ctx *ctx)
{
	char line[256];
	mv_limits_describe_chunks(line, sizeof(line));
	mv_out(ctx, "limits: %s\n", line);
	mv_limits_describe_objects(line, sizeof(line));
	mv_out(ctx, "limits: %s\n", line);
}

/* What the ELF reader noticed in an objfile (PN_XNUM without a count,
 * truncated tables, ...): one line each, or a JSON array. */
static void objfile_warnings(struct mv_cmd_ctx *ctx, struct mv_json *j,
			     const struct mv_objfile *o)
{
	const char *const *w = NULL;
	size_t nw = o->elf ? mv_elf_warnings(o->elf, &w) : 0;
	if (j) {
		mv_json_key(j, "warnings");
		mv_json_begin_array(j);
		for (size_t i = 0; i < nw; i++)
			mv_json_string(j, w[i]);
		mv_json_end_array(j);
		return;
	}
	for (size_t i = 0; i < nw; i++)
		mv_out(ctx, "    warning: %s\n", mv_ctx_text(ctx, w[i]));
}

/* The allocators the program links, each by a symbol only it exports
 * (issue 17: info says which, and how it knows).  Reading no heap, this
 * says what is linked, not what is in use (a CPython run with
 * PYTHONMALLOC=malloc links pymalloc); `heap` and `doctor` check each
 * model's layout in memory. */
static const struct {
	const char *model, *symbol;
} allocator_signs[] = {
	{"glibc malloc", "__libc_malloc"},
	{"CPython pymalloc", "PyObject_Malloc"},
	{"mimalloc", "mi_version"},
	{"tcmalloc", "tc_version"},
	{"jemalloc", "sallocx"},
};

static void allocators(struct mv_cmd_ctx *ctx, struct mv_json *j)
{
	struct mv_program *p = ctx->session->program;
	const size_t n = sizeof(allocator_signs) / sizeof(allocator_signs[0]);
	if (j) {
		mv_json_key(j, "allocators");
		mv_json_begin_array(j);
	} else {
		mv_out(ctx, "allocators linked:");
	}
	const char *sep = " ";
	for (size_t i = 0; i < n; i++) {
		uint64_t addr;
		if (!mv_program_find_symbol(p, allocator_signs[i].symbol, &addr,
					    NULL))
			continue;
		struct mv_objfile *o = mv_program_objfile_at(p, addr);
		const char *path = o ? o->path : "?";
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (j) {
			mv_json_begin_object(j);
			mv_json_key(j, "model");
			mv_json_string(j, allocator_signs[i].model);
			mv_json_key(j, "symbol");
			mv_json_string(j, allocator_signs[i].symbol);
			mv_json_key(j, "objfile");
			mv_json_string(j, path);
			mv_json_end_object(j);
		} else {
			mv_out(ctx, "%s%s (%s in %s)", sep,
			       allocator_signs[i].model,
			       allocator_signs[i].symbol, mv_ctx_text(ctx, base));
			sep = ", ";
		}
	}
	if (j)
		mv_json_end_array(j);
	else
		mv_out(ctx, "%s; heap and doctor read them\n",
		       *sep == ' ' ? " none found" : "");
}

struct mv_error *mv_cmd_info(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	struct mv_objfile **objs;
	size_t n = mv_program_objfiles(s->program, &objs);
	struct mv_json j;
	if (ctx->json) {
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "info");
		json_target(s, &j);
		json_limits(&j);
		mv_json_key(&j, "object_model");
		if (mv_rules_auto_model(s))
			mv_json_string(&j, mv_rules_auto_model(s));
		else
			mv_json_null(&j);
		allocators(ctx, &j);
		mv_json_key(&j, "objfiles");
		mv_json_begin_array(&j);
	} else {
		const char *kind = s->target ? mv_target_kind(s->target) : "none";
		const char *path = s->target ? mv_target_path(s->target) : NULL;
		mv_out(ctx, "target: %s%s%s", kind, path ? " " : "",
		       mv_ctx_text(ctx, path));
		if (s->target && mv_target_pid(s->target))
			mv_out(ctx, ", pid %d", mv_target_pid(s->target));
		const struct mv_thread *th = NULL;
		size_t nth = s->target ? mv_target_threads(s->target, &th) : 0;
		if (s->target)
			mv_out(ctx, ", %zu thread%s", nth, nth == 1 ? "" : "s");
		if (s->target && s->target->copied_bytes)
			mv_out(ctx, "; %llu bytes of heap segments read into "
				    "memory (MEMVIEW_CORE_COPY)",
			       (unsigned long long)s->target->copied_bytes);
		if (mv_target_read_calls(s->target))
			mv_out(ctx, "; %llu reads through the debugger so far",
			       (unsigned long long)mv_target_read_calls(
				       s->target));
		mv_out(ctx, "\n");
		const char *const *w;
		size_t nw = s->target ? mv_target_warnings(s->target, &w) : 0;
		for (size_t i = 0; i < nw; i++)
			mv_out(ctx, "warning: %s\n", mv_ctx_text(ctx, w[i]));
		nw = s->program ? mv_program_warnings(s->program, &w) : 0;
		for (size_t i = 0; i < nw; i++)
			mv_out(ctx, "warning: %s\n", mv_ctx_text(ctx, w[i]));
		text_limits(ctx);
		if (mv_rules_auto_model(s))
			mv_out(ctx, "object model: %s (picked for the walking "
				    "commands; --types '' for none, "
				    "docs/types.md)\n", mv_rules_auto_model(s));
		allocators(ctx, NULL);
		mv_out(ctx, "objfiles: %zu\n", n);
	}
	size_t missing = 0;
	for (size_t i = 0; i < n; i++) {
		struct mv_objfile *o = objs[i];
		if (!o->debug_path)
			missing++;
		if (ctx->json) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "path");
			mv_json_string(&j, o->path);
			mv_json_key(&j, "main");
			mv_json_bool(&j, o->is_main);
			mv_json_key(&j, "bias");
			mv_json_address(&j, o->bias);
			mv_json_key(&j, "start");
			mv_json_address(&j, o->start);
			mv_json_key(&j, "end");
			mv_json_address(&j, o->end);
			mv_json_key(&j, "build_id");
			mv_json_string(&j, o->build_id);
			mv_json_key(&j, "symbols");
			mv_json_bool(&j, o->has_symbols);
			mv_json_key(&j, "error");
			mv_json_string(&j, o->open_error);
			mv_json_key(&j, "debug");
			mv_json_begin_object(&j);
			mv_json_key(&j, "found");
			mv_json_bool(&j, o->debug_path != NULL);
			mv_json_key(&j, "how");
			mv_json_string(&j, o->debug_how);
			mv_json_key(&j, "path");
			mv_json_string(&j, o->debug_path);
			mv_json_key(&j, "hint");
			mv_json_string(&j, o->missing_hint);
			mv_json_end_object(&j);
			objfile_warnings(ctx, &j, o);
			mv_json_end_object(&j);
			continue;
		}
		mv_out(ctx, "  %s%s\n", mv_ctx_text(ctx, o->path),
		       o->is_main ? " (executable)" : "");
		mv_out(ctx, "    loaded at 0x%llx-0x%llx, bias 0x%llx\n",
		       (unsigned long long)o->start, (unsigned long long)o->end,
		       (unsigned long long)o->bias);
		if (o->open_error)
			mv_out(ctx, "    error: %s\n",
			       mv_ctx_text(ctx, o->open_error));
		if (o->build_id)
			mv_out(ctx, "    build-id %s\n", o->build_id);
		if (o->debug_path)
			mv_out(ctx, "    debug info: %s%s%s\n", o->debug_how,
			       strcmp(o->debug_path, o->path) ? " " : "",
			       strcmp(o->debug_path, o->path)
				       ? mv_ctx_text(ctx, o->debug_path)
				       : "");
		else
			mv_out(ctx, "    debug info: missing%s%s\n",
			       o->missing_hint ? " - " : "",
			       o->missing_hint ? o->missing_hint : "");
		objfile_warnings(ctx, NULL, o);
	}
	if (ctx->json) {
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
	} else if (missing) {
		mv_out(ctx, "%zu of %zu objfiles have no debug info: their "
			    "types are unknown, their memory is still read.\n",
		       missing, n);
	}
	return mv_buf_error(&ctx->out);
}


const struct mv_command mv_command_info = {
	.name = "info",
	.debugger_name = "mv-info",
	.synopsis = "",
	.summary = "Say what the session has: target, objfiles, and "
		   "where their debug info was found.",
	.description =
		"Lists the target (core, process, callback), its "
		"threads and any problems found opening it, then each "
		"objfile with its load bias and its debug info: "
		"embedded, a separate file found by build-id or "
		"debuglink, or missing, with the Debian package or "
		"step that would provide it.",
	.options = mv_no_options,
	.min_pos = 0,
	.max_pos = 0,
	.run = mv_cmd_info,
};
