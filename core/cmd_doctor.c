/* cmd_doctor.c - `doctor`: what this session can and cannot do, and for
 * each thing it cannot, the step that fixes it.  It only looks: no
 * process is started, nothing is installed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"
#include "bounds.h"
#include "roots.h"
#include "session.h"

/* A program on PATH (for Graphviz's dot). */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	struct mv_buf b;
	mv_buf_init(&b);
	bool found = false;
	while (*path && !found) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		mv_buf_clear(&b);
		mv_buf_printf(&b, "%.*s/%s", (int)len, path, name);
		found = !b.oom && len && !access(b.data, X_OK);
		path += len + (end ? 1 : 0);
	}
	mv_buf_deinit(&b);
	return found;
}

/* Debian 12's lldb-14 imports its module from a directory its package
 * does not fill (tools/deps.sh links it). */
#define LLDB_MODULE "/usr/lib/llvm-14/lib/python3.11/dist-packages/lldb"
#define LLDB_WANTS "/usr/lib/local/lib/python3.11/dist-packages/lldb"

struct doctor {
	struct mv_cmd_ctx *ctx;
	struct mv_json j;
	size_t problems;
};

/* One finding: ok or not, what, and how to fix it when not. */
static void finding(struct doctor *d, const char *area, bool ok,
		    const char *what, const char *fix)
{
	if (!ok)
		d->problems++;
	if (d->ctx->json) {
		mv_json_begin_object(&d->j);
		mv_json_key(&d->j, "area");
		mv_json_string(&d->j, area);
		mv_json_key(&d->j, "ok");
		mv_json_bool(&d->j, ok);
		mv_json_key(&d->j, "what");
		mv_json_string(&d->j, what);
		mv_json_key(&d->j, "fix");
		mv_json_string(&d->j, ok ? NULL : fix);
		mv_json_end_object(&d->j);
		return;
	}
	mv_out(d->ctx, "%s %-9s %s\n", ok ? "ok  " : "MISS", area,
	       mv_ctx_text(d->ctx, what));
	if (!ok && fix)
		mv_out(d->ctx, "               fix: %s\n", fix);
}

static void check_memory(struct doctor *d, struct mv_session *s)
{
	struct mv_buf b;
	mv_buf_init(&b);
	if (!s->opened || !s->target) {
		finding(d, "memory", false,
			s->opened ? "no memory: types and layouts only"
				  : "no target",
			"give --core FILE or --pid PID (in a debugger: load a "
			"core, run or attach)");
	} else {
		const char *path = mv_target_path(s->target);
		mv_buf_printf(&b, "%s%s%s", mv_target_kind(s->target),
			      path ? " " : "", path ? path : "");
		if (mv_target_pid(s->target))
			mv_buf_printf(&b, ", pid %d", mv_target_pid(s->target));
		const char *const *w;
		size_t nw = mv_target_warnings(s->target, &w);
		finding(d, "memory", nw == 0, b.data ? b.data : "",
			nw ? w[0] : NULL);
	}
	mv_buf_deinit(&b);
}

static void check_objfiles(struct doctor *d, struct mv_session *s)
{
	if (!s->program)
		return;
	struct mv_objfile **objs;
	size_t n = mv_program_objfiles(s->program, &objs);
	struct mv_buf b;
	mv_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		struct mv_objfile *o = objs[i];
		mv_buf_clear(&b);
		if (o->debug_path)
			mv_buf_printf(&b, "%s: debug info %s", o->path,
				      o->debug_how ? o->debug_how : "found");
		else
			mv_buf_printf(&b, "%s: no debug info (its types are "
					  "unknown)", o->path);
		finding(d, "debuginfo", o->debug_path != NULL,
			b.data ? b.data : o->path,
			o->missing_hint ? o->missing_hint
					: "rebuild it with -g");
	}
	mv_buf_deinit(&b);
}

/* What gc, referrers and path-to could not scan: each makes their
 * answers partial, so each is a problem here. */
static void check_roots(struct doctor *d, struct mv_session *s,
			struct mv_heap *h)
{
	struct mv_roots rs;
	struct mv_error *err = mv_roots_find(s->program, h, &rs);
	if (err) {
		finding(d, "roots", false, mv_error_message(err), NULL);
		mv_error_destroy(err);
		mv_roots_deinit(&rs);
		return;
	}
	const char *const *notes;
	size_t n = mv_notes_get(&rs.skipped, &notes);
	for (size_t i = 0; i < n; i++)
		finding(d, "roots", false, notes[i],
			rs.threads_without_registers
				? "registers come from a debugger (gdb -p, "
				  "lldb -p) or, for --pid, from a brief "
				  "ptrace attach: run as the process's user "
				  "or root, with no other tracer"
				: NULL);
	if (!n) {
		struct mv_buf b;
		mv_buf_init(&b);
		mv_buf_printf(&b, "%zu root ranges, %zu thread%s with "
				  "registers", rs.n, rs.threads,
			      rs.threads == 1 ? "" : "s");
		finding(d, "roots", true, b.data ? b.data : "", NULL);
		mv_buf_deinit(&b);
	}
	mv_roots_deinit(&rs);
}

static void check_heap(struct doctor *d, struct mv_session *s)
{
	if (!s->program || !s->target) {
		finding(d, "heap", false, "no heap without memory",
			"open a core or a process");
		return;
	}
	struct mv_heap *h;
	struct mv_error *err = mv_heap_open(s->program, s->poll, &h);
	if (err) {
		finding(d, "heap", false, mv_error_message(err),
			"install libc6-dbg for glibc's malloc state "
			"(main_arena, mp_)");
		mv_error_destroy(err);
		return;
	}
	struct mv_buf b;
	mv_buf_init(&b);
	mv_buf_printf(&b, "%s, %zu chunks", mv_heap_description(h),
		      mv_heap_chunk_count(h));
	const char *limit = mv_heap_limit_note(h);
	if (limit)
		mv_buf_printf(&b, " (%s)", limit);
	finding(d, "heap", true, b.data ? b.data : "", NULL);
	check_roots(d, s, h);
	mv_buf_deinit(&b);
	mv_heap_destroy(h);
}

/* The default bounds (bounds.h): a MISS when the memory available
 * could not be read and the fixed fallbacks apply. */
static void check_limits(struct doctor *d)
{
	struct mv_memory_budget b;
	mv_memory_budget(&b);
	char line[256];
	mv_limits_describe_chunks(line, sizeof(line));
	finding(d, "limits", b.known, line,
		"give --max-heap-chunks N (0: no limit)");
	mv_limits_describe_objects(line, sizeof(line));
	finding(d, "limits", b.known, line,
		"give --max-objects N (0: no limit)");
}

static void check_tools(struct doctor *d)
{
	bool dot = on_path("dot");
	finding(d, "graphviz", dot,
		dot ? "dot found: graph --svg and gc --svg can draw"
		    : "dot not found: graph and gc write DOT but no SVG",
		"apt-get install graphviz");
	if (!access(LLDB_MODULE, F_OK)) {
		bool linked = !access(LLDB_WANTS, F_OK);
		finding(d, "lldb", linked,
			linked ? "lldb's embedded Python finds its lldb module"
			       : "lldb's embedded Python cannot import lldb "
				 "(Debian lldb-14)",
			"as root: make deps (or ln -s " LLDB_MODULE " "
			LLDB_WANTS ")");
	}
}

struct mv_error *mv_cmd_doctor(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct doctor d = {.ctx = ctx};
	if (ctx->json) {
		mv_json_init(&d.j, &ctx->out, false);
		mv_json_begin_object(&d.j);
		mv_json_key(&d.j, "command");
		mv_json_string(&d.j, "doctor");
		mv_json_key(&d.j, "findings");
		mv_json_begin_array(&d.j);
	}
	check_memory(&d, s);
	check_objfiles(&d, s);
	check_heap(&d, s);
	check_limits(&d);
	check_tools(&d);
	if (ctx->json) {
		mv_json_end_array(&d.j);
		mv_json_key(&d.j, "problems");
		mv_json_uint(&d.j, d.problems);
		mv_json_end_object(&d.j);
		mv_out(ctx, "\n");
	} else {
		mv_out(ctx, "%zu problem%s found\n", d.problems,
		       d.problems == 1 ? "" : "s");
	}
	return mv_buf_error(&ctx->out);
}

const struct mv_command mv_command_doctor = {
	.name = "doctor",
	.debugger_name = "mv-doctor",
	.synopsis = "",
	.summary = "Say what this session can and cannot do, and how to fix "
		   "what it cannot.",
	.description =
		"Checks the memory source in use, the debug info of each "
		"objfile (and the Debian package that provides it, such as "
		"libc6-dbg for glibc), whether the glibc heap model can "
		"open the heap, whether Graphviz can draw pictures, and "
		"whether Debian's lldb can import its own Python module. "
		"Each line starts with ok or MISS; a MISS line is followed "
		"by the step that fixes it.",
	.options = mv_no_options,
	.min_pos = 0,
	.max_pos = 0,
	.run = mv_cmd_doctor,
};
