/* session.c - ties a target, a program and a front end together, and
 * runs commands. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxxname.h"
#include "heap_internal.h"
#include "refindex.h"
#include "session.h"
#include "target.h"

/* MEMVIEW_INTERRUPT_AFTER=N (docs/testing.md): at the Nth check for an
 * interrupt within a command, Ctrl-C comes: SIGINT is raised when the
 * front end handles it (the program does, gdb and lldb at a terminal),
 * and the front end's own check then tells, as for a user's; with no
 * handler that check and every later one answer yes.  check-ctrlc uses it for
 * commands that end before a real Ctrl-C could reach them, so that
 * every command's way out of every phase stays tested however fast it
 * gets.  One process, one setting: the front end's own check is kept
 * in injected_real. */
static mv_poll_fn injected_real;
static unsigned long injected_after, injected_polls;

static bool sigint_handled(void)
{
	struct sigaction sa;
	if (sigaction(SIGINT, NULL, &sa))
		return false;
	if (sa.sa_flags & SA_SIGINFO)
		return sa.sa_sigaction != NULL;
	return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

static int injected_poll(void)
{
	static bool raised;
	if (++injected_polls == injected_after) {
		raised = injected_real && sigint_handled();
		if (raised)
			raise(SIGINT);
	}
	if (injected_real && injected_real())
		return 1;
	/* Raised: the front end's own check tells, as for a user's. */
	return !raised && injected_polls >= injected_after;
}

/* The front end's poll, or injected_poll around it under the setting. */
static mv_poll_fn session_poll(mv_poll_fn poll)
{
	const char *env = getenv("MEMVIEW_INTERRUPT_AFTER");
	char *end;
	unsigned long n = env ? strtoul(env, &end, 10) : 0;
	if (!n || *end || poll == injected_poll)
		return poll;
	injected_after = n;
	/* A session made later (gdb makes one per inferior) does not take
	 * away the front end's check a first one was given. */
	if (poll)
		injected_real = poll;
	return injected_poll;
}

struct mv_error *mv_session_create(struct mv_session **ret)
{
	struct mv_session *s = calloc(1, sizeof(*s));
	if (!s)
		return mv_enomem;
	strcpy(s->frontend, "memview");
	s->poll = session_poll(NULL);
	*ret = s;
	return NULL;
}

/* What a cached heap was opened with (mv_heap_options without its
 * padding, which a copy from the caller leaves indeterminate). */
struct mv_heap_cache_key {
	uint32_t flags;
	uint64_t range_start, range_end, main_arena, max_chunks;
};

static void drop_heap(struct mv_session *s)
{
	mv_refindex_destroy(s->refindex);
	s->refindex = NULL;
	s->referrers_scans = 0;
	if (s->heap)
		mv_heap_destroy(s->heap);
	s->heap = NULL;
	free(s->heap_key);
	s->heap_key = NULL;
}

static void session_close(struct mv_session *s)
{
	drop_heap(s);
	if (s->program)
		mv_program_destroy(s->program);
	if (s->target)
		mv_target_destroy(s->target);
	free(s->core_path);
	free(s->exe_path);
	s->program = NULL;
	s->target = NULL;
	s->core_path = s->exe_path = NULL;
	s->opened = false;
}

void mv_session_destroy(struct mv_session *s)
{
	if (!s)
		return;
	session_close(s);
	free(s);
}

/* Takes ownership of target (may be NULL). */
static struct mv_error *session_attach(struct mv_session *s,
				       struct mv_target *target)
{
	session_close(s);
	struct mv_error *err = mv_program_create(target, &s->program);
	if (err) {
		if (target)
			mv_target_destroy(target);
		return err;
	}
	s->target = target;
	if (target)
		target->poll = s->poll;
	s->opened = true;
	return NULL;
}

struct mv_error *mv_session_open_core(struct mv_session *s, const char *core,
				      const char *exe)
{
	struct mv_target *t;
	struct mv_error *err = mv_target_open_core(core, &t);
	if (err)
		return err;
	if ((err = session_attach(s, t)))
		return err;
	s->core_path = strdup(core);
	s->exe_path = exe ? strdup(exe) : NULL;
	if (!s->core_path || (exe && !s->exe_path)) {
		session_close(s);
		return mv_enomem;
	}
	err = mv_program_load_target_objfiles(s->program, exe);
	if (err)
		session_close(s);
	return err;
}

struct mv_error *mv_session_open_pid(struct mv_session *s, int pid)
{
	return mv_session_open_pid_flags(s, pid, 0);
}

struct mv_error *mv_session_open_pid_flags(struct mv_session *s, int pid,
					   unsigned flags)
{
	struct mv_target *t;
	struct mv_error *err = mv_target_open_pid_flags(pid, flags, &t);
	if (err)
		return err;
	if ((err = session_attach(s, t)))
		return err;
	err = mv_program_load_target_objfiles(s->program, NULL);
	if (err)
		session_close(s);
	return err;
}

struct mv_error *mv_session_open_callback(struct mv_session *s,
					  mv_read_fn read, void *arg)
{
	struct mv_target *t;
	struct mv_error *err = mv_target_create_callback(read, arg, &t);
	if (err)
		return err;
	return session_attach(s, t);
}

struct mv_error *mv_session_open_none(struct mv_session *s)
{
	return session_attach(s, NULL);
}

struct mv_error *mv_session_add_objfile(struct mv_session *s,
					const char *path, uint64_t bias)
{
	if (!s->opened) {
		struct mv_error *err = mv_session_open_none(s);
		if (err)
			return err;
	}
	size_t n;
	struct mv_objfile **objs;
	n = mv_program_objfiles(s->program, &objs);
	drop_heap(s); /* the allocator's symbols may come with it */
	return mv_program_add_objfile(s->program, path, bias, n == 0, NULL);
}

struct mv_error *mv_session_add_region(struct mv_session *s,
					const struct mv_region *r)
{
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory source to add a region to");
	drop_heap(s); /* a heap may be found in it */
	return mv_target_add_region(s->target, r);
}

struct mv_error *mv_session_add_thread(struct mv_session *s, int32_t tid,
				       const uint64_t *regs)
{
	/* A remote target knows its threads only through the debugger;
	 * their registers are roots for referrers and gc. */
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory source to add a thread to");
	drop_heap(s);
	return mv_target_add_thread(s->target, tid, regs);
}

void mv_session_set_output(struct mv_session *s, mv_write_fn write, void *arg)
{
	s->write = write;
	s->write_arg = arg;
}

void mv_session_set_poll(struct mv_session *s, mv_poll_fn poll)
{
	poll = session_poll(poll);
	s->poll = poll;
	if (s->target)
		s->target->poll = poll;
}

void mv_session_set_eval(struct mv_session *s, mv_eval_fn eval, void *arg)
{
	s->eval = eval;
	s->eval_arg = arg;
}

void mv_session_set_frontend(struct mv_session *s, const char *frontend)
{
	snprintf(s->frontend, sizeof(s->frontend), "%s",
		 frontend ? frontend : "memview");
}

void mv_session_set_pc(struct mv_session *s, uint64_t pc)
{
	s->pc = pc;
}

void mv_session_set_terminal(struct mv_session *s, int width, bool color)
{
	s->width = width;
	s->color = color;
}

void mv_session_invalidate(struct mv_session *s)
{
	drop_heap(s);
	if (s->target)
		mv_target_invalidate(s->target);
}

struct mv_error *mv_session_need_target(struct mv_session *s)
{
	if (!s->opened)
		return mv_error_create(MV_ERR_INVALID,
				       "no target: give --core FILE, --pid PID "
				       "or --exe FILE");
	return NULL;
}

struct mv_error *mv_session_need_memory(struct mv_session *s)
{
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory: open a core (--core) or a "
				       "process (--pid)");
	return NULL;
}

/* Indexing a big heap takes seconds: the front end's progress line says
 * so instead of silence. */
static void heap_progress(void *arg, uint64_t chunks)
{
	mv_progress_report(arg, "heap chunks indexed", chunks, 0);
}

struct mv_error *mv_session_open_heap(struct mv_cmd_ctx *ctx,
				      const struct mv_heap_options *o,
				      struct mv_heap **ret)
{
	struct mv_heap_options ho = {0};
	if (o)
		ho = *o;
	ho.max_chunks = 0; /* the default (bounds.h), unless given */
	if (mv_opt_set(ctx, "max-heap-chunks")) {
		uint64_t n;
		struct mv_error *err = mv_opt_count(ctx, "max-heap-chunks", &n);
		if (err)
			return err;
		ho.max_chunks = n ? n : MV_HEAP_NO_LIMIT;
	}
	if (mv_opt_val(ctx, "allocator")) {
		const char *a = mv_opt_str(ctx, "allocator");
		if (a && !strcmp(a, "glibc"))
			ho.flags |= MV_HEAP_NO_OVERLAYS;
		else if (a && !strcmp(a, "pymalloc"))
			ho.flags |= MV_HEAP_NEED_PYMALLOC;
		else if (a && !strcmp(a, "mimalloc"))
			ho.flags |= MV_HEAP_NEED_MIMALLOC;
		else if (a && !strcmp(a, "tcmalloc"))
			ho.flags |= MV_HEAP_NEED_TCMALLOC;
		else if (a && !strcmp(a, "jemalloc"))
			ho.flags |= MV_HEAP_NEED_JEMALLOC;
	}
	struct mv_session *s = ctx->session;
	struct mv_heap_cache_key key;
	memset(&key, 0, sizeof(key)); /* padding too: compared whole */
	key.flags = ho.flags & ~(uint32_t)MV_HEAP_LAZY; /* one heap for both */
	key.range_start = ho.range_start;
	key.range_end = ho.range_end;
	key.main_arena = ho.main_arena;
	key.max_chunks = ho.max_chunks;
	if (s->heap && s->heap_key &&
	    !memcmp(s->heap_key, &key, sizeof(key))) {
		/* A lazy heap a walk left gets its whole index now, in
		 * place, when this command needs it. */
		struct mv_error *err = ho.flags & MV_HEAP_LAZY
					       ? NULL
					       : mv_heap_complete(s->heap);
		if (err)
			return err;
		*ret = s->heap;
		return NULL;
	}
	drop_heap(s);
	struct mv_heap_cache_key *k = malloc(sizeof(*k));
	if (!k)
		return mv_enomem;
	ho.progress = heap_progress;
	ho.progress_arg = s;
	struct mv_error *err = mv_heap_open_with(s->program, &ho, s->poll, ret);
	if (err) {
		free(k);
		return err;
	}
	memcpy(k, &key, sizeof(key)); /* padding included */
	s->heap = *ret;
	s->heap_key = k;
	return NULL;
}

static void refindex_progress(void *arg, uint64_t done, uint64_t total)
{
	mv_progress_report(arg, "chunks indexed for referrers", done, total);
}

static struct mv_error *refindex_poll(void *arg)
{
	return mv_ctx_poll(arg);
}

struct mv_error *mv_session_refindex(struct mv_cmd_ctx *ctx,
				     struct mv_heap *h,
				     struct mv_refindex **ret)
{
	struct mv_session *s = ctx->session;
	if (s->refindex && mv_refindex_heap(s->refindex) == h) {
		*ret = s->refindex;
		return NULL;
	}
	mv_refindex_destroy(s->refindex);
	s->refindex = NULL;
	struct mv_error *err = mv_refindex_build(s->program, h,
						 refindex_progress, s,
						 refindex_poll, ctx, ret);
	if (!err)
		s->refindex = *ret;
	return err;
}

struct mv_error *mv_session_parse_type(struct mv_session *s, const char *name,
				       struct mv_type **ret)
{
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	return mv_expr_parse_type(s->program, name, s->pc, ret);
}

struct mv_error *mv_session_eval(struct mv_session *s, const char *expr,
				 struct mv_value *ret)
{
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	if (!s->eval)
		return mv_expr_eval(s->program, expr, s->pc, ret);

	struct mv_eval_result r;
	memset(&r, 0, sizeof(r));
	bool ok = s->eval(s->eval_arg, expr, &r);
	r.error[sizeof(r.error) - 1] = '\0';
	if (!ok && !strcmp(r.error, MV_EVAL_USE_OWN)) {
		/* The front end asks memview first (lldb 14 crashes on some
		 * expressions over globals); when memview cannot, it is
		 * asked again and answers itself. */
		err = mv_expr_eval(s->program, expr, s->pc, ret);
		if (!err)
			return NULL;
		mv_error_destroy(err);
		memset(&r, 0, sizeof(r));
		ok = s->eval(s->eval_arg, expr, &r);
		r.error[sizeof(r.error) - 1] = '\0';
		if (!ok && !strcmp(r.error, MV_EVAL_USE_OWN))
			r.error[0] = '\0'; /* asked twice: no answer */
	}
	if (!ok) {
		/* gdb's and lldb's parsers do not take the names they print
		 * for the members of anonymous namespaces
		 * ("(anonymous namespace)::x"): memview's own evaluator over
		 * the globals does.  Any other refusal stands: the debugger
		 * knows better (a symbol of unknown type, a local). */
		struct mv_error *own = strstr(expr, MV_CXX_ANON_NS) ?
			mv_expr_eval(s->program, expr, s->pc, ret) :
			mv_error_create(MV_ERR_INVALID, "not tried");
		if (!own)
			return NULL;
		mv_error_destroy(own);
		return mv_error_create(MV_ERR_INVALID, "%s",
				       r.error[0] ? r.error
						  : "cannot evaluate expression");
	}
	r.type_name[sizeof(r.type_name) - 1] = '\0';
	struct mv_type *type;
	err = mv_expr_parse_type(s->program, r.type_name, s->pc, &type);
	if (err)
		return mv_error_wrap(err, "type of '%s'", expr);
	ret->type = type;
	ret->is_lvalue = r.is_lvalue != 0;
	ret->address = r.address;
	ret->value = r.value;
	return NULL;
}

/* --json among the words, before a "--": a command that failed before
 * its options were parsed still answers in JSON. */
static bool asks_json(int argc, const char *const *argv)
{
	for (int i = 1; i < argc && argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--json"))
			return true;
	}
	return false;
}

static const char *const code_ids[] = {
#define MV_X(name, desc) #name,
	MV_ERROR_CODES(MV_X)
#undef MV_X
};

/* {"command": ..., "error": {"code": "not_found", "message": ...}} */
static void json_error(struct mv_buf *out, const struct mv_command *cmd,
		       const struct mv_error *err)
{
	enum mv_error_code code = mv_error_code(err);
	char id[32] = "other";
	if ((unsigned)code < MV_ERR_COUNT_) {
		size_t k = 0;
		for (const char *c = code_ids[code]; *c && k + 1 < sizeof(id);
		     c++)
			id[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a'
								 : *c);
		id[k] = '\0';
	}
	struct mv_json j;
	mv_json_init(&j, out, false);
	mv_json_begin_object(&j);
	mv_json_key(&j, "command");
	mv_json_string(&j, cmd->name);
	mv_json_key(&j, "error");
	mv_json_begin_object(&j);
	mv_json_key(&j, "code");
	mv_json_string(&j, id);
	mv_json_key(&j, "message");
	mv_json_string(&j, mv_error_message(err));
	uint64_t address;
	if (mv_error_address(err, &address)) {
		mv_json_key(&j, "address");
		mv_json_address(&j, address);
	}
	mv_json_end_object(&j);
	mv_json_end_object(&j);
	mv_buf_putc(out, '\n');
}

int mv_session_exit_status(const struct mv_session *s)
{
	return s ? s->exit_status : 0;
}

struct mv_error *mv_session_run(struct mv_session *s, int argc,
				const char *const *argv)
{
	if (argc < 1 || !argv || !argv[0])
		return mv_error_create(MV_ERR_INVALID, "no command given");
	const struct mv_command *cmd = mv_command_find(argv[0]);
	if (!cmd) {
		const char *near = mv_command_suggest(argv[0], s->frontend);
		if (near)
			return mv_error_create(MV_ERR_INVALID,
					       "unknown command '%s'; did you "
					       "mean '%s'?", argv[0], near);
		return mv_error_create(MV_ERR_INVALID,
				       "unknown command '%s' (try 'help')",
				       argv[0]);
	}
	struct mv_cmd_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.session = s;
	s->exit_status = 0;
	injected_polls = 0;
	mv_buf_init(&ctx.out);
	mv_buf_init(&ctx.scratch);
	struct mv_error *err = mv_command_parse(cmd, argc, argv, &ctx);
	if (!err) {
		if (mv_opt_flag(&ctx, "help"))
			mv_command_render_help(cmd, s->frontend, &ctx.out);
		else
			err = cmd->run(&ctx);
	}
	/* A live target that died during the command made its reads fail
	 * as if memory were unmapped: whatever the command printed is not
	 * the answer, so it fails, saying why (issue 19.4). */
	const char *gone = s->target ? mv_target_gone(s->target) : NULL;
	if (gone && (!err || mv_error_code(err) == MV_ERR_FAULT)) {
		mv_error_destroy(err);
		err = mv_error_create(MV_ERR_IO, "%s; the output above is "
				      "incomplete", gone);
	}
	/* Under --json a failure is a JSON object too (issue 18: CI reads
	 * one object).  What the command had not written yet is dropped:
	 * it is an unfinished answer.  A finding (gc --error-exitcode) keeps
	 * its answer, the error being the exit status only. */
	if (err && mv_error_code(err) != MV_ERR_FOUND &&
	    (ctx.json || asks_json(argc, argv))) {
		mv_buf_clear(&ctx.out);
		json_error(&ctx.out, cmd, err);
	}
	/* Partial output goes out even when the command failed. */
	struct mv_error *ferr = mv_out_flush_all(&ctx);
	mv_cmd_ctx_deinit(&ctx);
	if (err) {
		mv_error_destroy(ferr);
		return err;
	}
	return ferr;
}

struct mv_error *mv_session_run_line(struct mv_session *s,
				     const char *command, const char *line)
{
	char **words;
	int n;
	struct mv_error *err = mv_split_words(line, &words, &n);
	if (err)
		return err;
	const char **argv = calloc((size_t)n + 2, sizeof(*argv));
	if (!argv) {
		mv_free_words(words, n);
		return mv_enomem;
	}
	argv[0] = command;
	for (int i = 0; i < n; i++)
		argv[i + 1] = words[i];
	err = mv_session_run(s, n + 1, argv);
	free(argv);
	mv_free_words(words, n);
	return err;
}
