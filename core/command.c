/* command.c - the command table, its parser and its generated help. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "frames.h"
#include "session.h"

/* The table: each command's row (name, help, options, run function)
 * lives in its own cmd_*.c file; this list orders them for help. */
const struct mv_command *const mv_commands[] = {
	&mv_command_view,
	&mv_command_layout,
	&mv_command_regions,
	&mv_command_find_cmd,
	&mv_command_info,
	&mv_command_heap,
	&mv_command_sizeof,
	&mv_command_graph,
	&mv_command_referrers,
	&mv_command_path_to,
	&mv_command_gc,
	&mv_command_cycles,
	&mv_command_doctor,
	NULL,
};

const struct mv_option mv_no_options[] = {
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

/* Options every command takes. */
static const struct mv_option common_options[] = {
	{"json", 0, MV_OPT_FLAG, NULL,
	 "print JSON instead of text (schemas in docs/json.md)", NULL, NULL},
	{"help", 'h', MV_OPT_FLAG, NULL, "show this help", NULL, NULL},
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command *mv_command_find(const char *name)
{
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++)
		for (const struct mv_command *c = *cp; c; c = NULL)
		if (!strcmp(c->name, name) || !strcmp(c->debugger_name, name))
			return c;
	/* The debuggers' `memview` is the CLI's `view`. */
	if (!strcmp(name, "memview"))
		return mv_command_find("view");
	return NULL;
}

static const char *display_name(const struct mv_command *cmd,
				const char *frontend)
{
	if (frontend && (!strcmp(frontend, "gdb") || !strcmp(frontend, "lldb")))
		return cmd->debugger_name;
	return cmd->name;
}

const char *const *mv_command_names(const char *frontend)
{
	static const char *names[2][32];
	bool dbg = frontend && (!strcmp(frontend, "gdb") ||
				!strcmp(frontend, "lldb"));
	const char **list = names[dbg];
	size_t n = 0;
	for (const struct mv_command *const *cp = mv_commands; *cp && n < 31; cp++)
		list[n++] = dbg ? (*cp)->debugger_name : (*cp)->name;
	list[n] = NULL;
	return list;
}

char *mv_command_help(const char *frontend, const char *name)
{
	const struct mv_command *cmd = mv_command_find(name);
	if (!cmd)
		return NULL;
	struct mv_buf b;
	mv_buf_init(&b);
	mv_command_render_help(cmd, frontend, &b);
	if (b.oom) {
		mv_buf_deinit(&b);
		return NULL;
	}
	return mv_buf_steal(&b);
}

void mv_free(void *p)
{
	free(p);
}

/* ---- parsing ---- */

static struct mv_error *parse_number(const char *opt, const char *text,
				     bool size_suffix, int64_t *ret)
{
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 0);
	if (end == text || errno == ERANGE)
		goto bad;
	if (size_suffix && *end) {
		unsigned shift = 0;
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default: goto bad;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (v < 0 || v > (INT64_MAX >> shift))
			goto bad;
		v <<= shift;
	}
	if (*end)
		goto bad;
	if (size_suffix && v < 0)
		return mv_error_create(MV_ERR_USAGE,
				       "--%s must not be negative: '%s'", opt,
				       text);
	*ret = v;
	return NULL;
bad:
	return mv_error_create(MV_ERR_USAGE, "--%s expects %s, not '%s'",
			       opt, size_suffix ? "a size (like 4096 or 64M)"
						: "a number",
			       text);
}

static struct mv_error *set_value(struct mv_cmd_ctx *ctx, size_t i,
				  const char *text)
{
	const struct mv_option *o = ctx->opts[i];
	struct mv_optval *v = &ctx->vals[i];
	switch (o->type) {
	case MV_OPT_FLAG:
		v->num = 1;
		break;
	case MV_OPT_INT:
	case MV_OPT_SIZE: {
		struct mv_error *err =
			parse_number(o->name, text, o->type == MV_OPT_SIZE,
				     &v->num);
		if (err)
			return err;
		/* Every numeric option is a count or a size: a negative one
		 * would silently read as a huge bound. */
		if (v->num < 0)
			return mv_error_create(MV_ERR_USAGE,
					       "--%s takes a count >= 0, not "
					       "'%s'", o->name, text);
		break;
	}
	case MV_OPT_CHOICE: {
		bool ok = false;
		for (const char *const *c = o->choices; c && *c; c++)
			if (!strcmp(*c, text))
				ok = true;
		if (!ok) {
			struct mv_buf b;
			mv_buf_init(&b);
			for (const char *const *c = o->choices; c && *c; c++)
				mv_buf_printf(&b, "%s%s", c == o->choices ? "" : ", ", *c);
			struct mv_error *err = mv_error_create(
				MV_ERR_USAGE, "--%s must be one of %s, not '%s'",
				o->name, b.data ? b.data : "", text);
			mv_buf_deinit(&b);
			return err;
		}
		v->str = text;
		break;
	}
	case MV_OPT_STRING:
		v->str = text;
		break;
	case MV_OPT_LIST: {
		const char **l = realloc(v->list, (v->nlist + 1) * sizeof(*l));
		if (!l)
			return mv_enomem;
		l[v->nlist++] = text;
		v->list = l;
		break;
	}
	}
	v->set = true;
	return NULL;
}

struct mv_error *mv_ctx_own(struct mv_cmd_ctx *ctx, char *s)
{
	if (!s)
		return NULL;
	char **o = realloc(ctx->owned, (ctx->nowned + 1) * sizeof(*o));
	if (!o) {
		free(s);
		return mv_enomem;
	}
	o[ctx->nowned++] = s;
	ctx->owned = o;
	return NULL;
}

const char *mv_ctx_text(struct mv_cmd_ctx *ctx, const char *s)
{
	if (!s)
		return "";
	struct mv_buf b;
	mv_buf_init(&b);
	mv_buf_escape(&b, s, strlen(s), 0);
	char *e = mv_buf_steal(&b);
	if (!e || mv_ctx_own(ctx, e))
		return "?";
	return e;
}

/* Edit distance (insert, delete, substitute) between a[0..alen) and b,
 * for "did you mean"; names are short, longer ones are not compared. */
static size_t edit_distance(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen > 40 || blen > 40)
		return SIZE_MAX;
	size_t row[41];
	for (size_t j = 0; j <= blen; j++)
		row[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[blen];
}

/* The candidate nearest to name[0..len), if it is near enough to be a
 * slip (a third of the name's length, at least 1, at most 3 edits). */
static const char *nearest(const char *name, size_t len,
			   const char *const *cands, size_t n)
{
	size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(name, len, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

const char *mv_command_suggest(const char *name, const char *frontend)
{
	const char *const *names = mv_command_names(frontend);
	size_t n = 0;
	while (names[n])
		n++;
	return name ? nearest(name, strlen(name), names, n) : NULL;
}

/* " (did you mean --NAME?)" for an unknown option, or "". */
static const char *option_hint(struct mv_cmd_ctx *ctx, const char *name,
			       size_t len, char *buf, size_t size)
{
	const char *cands[MV_MAX_OPTIONS];
	for (size_t i = 0; i < ctx->nopts; i++)
		cands[i] = ctx->opts[i]->name;
	const char *best = nearest(name, len, cands, ctx->nopts);
	if (!best)
		return "";
	snprintf(buf, size, "; did you mean --%s?", best);
	return buf;
}

struct mv_error *mv_command_parse(const struct mv_command *cmd, int argc,
				  const char *const *argv,
				  struct mv_cmd_ctx *ctx)
{
	struct mv_error *err;
	ctx->cmd = cmd;
	ctx->nopts = 0;
	for (const struct mv_option *o = cmd->options; o->name; o++)
		if (ctx->nopts < MV_MAX_OPTIONS)
			ctx->opts[ctx->nopts++] = o;
	for (const struct mv_option *o = common_options; o->name; o++)
		if (ctx->nopts < MV_MAX_OPTIONS)
			ctx->opts[ctx->nopts++] = o;
	/* Defaults first, so that accessors need not know them. */
	for (size_t i = 0; i < ctx->nopts; i++) {
		const struct mv_option *o = ctx->opts[i];
		if (o->def && o->type != MV_OPT_LIST) {
			if ((err = set_value(ctx, i, o->def)))
				return err;
			ctx->vals[i].set = false;
		}
	}

	const char *words[256];
	size_t nwords = 0;
	bool options_done = false;
	for (int a = 1; a < argc; a++) {
		const char *w = argv[a];
		if (options_done || w[0] != '-' || !w[1] ||
		    isdigit((unsigned char)w[1])) {
			/* Positional (a leading '-' followed by a digit is a
			 * negative number, not an option). */
			if (nwords >= sizeof(words) / sizeof(words[0]))
				return mv_error_create(MV_ERR_USAGE,
						       "too many arguments");
			words[nwords++] = w;
			continue;
		}
		if (!strcmp(w, "--")) {
			options_done = true;
			continue;
		}
		size_t i;
		const char *inline_val = NULL;
		if (w[1] == '-') {
			const char *name = w + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			for (i = 0; i < ctx->nopts; i++)
				if (strlen(ctx->opts[i]->name) == len &&
				    !strncmp(ctx->opts[i]->name, name, len))
					break;
			char hint[80] = "";
			if (i == ctx->nopts)
				return mv_error_create(
					MV_ERR_USAGE,
					"unknown option '--%.*s' for %s (see "
					"--help%s)", (int)len, name, argv[0],
					option_hint(ctx, name, len, hint,
						    sizeof(hint)));
			inline_val = eq ? eq + 1 : NULL;
		} else {
			for (i = 0; i < ctx->nopts; i++)
				if (ctx->opts[i]->short_name == w[1])
					break;
			if (i == ctx->nopts || w[2])
				return mv_error_create(
					MV_ERR_USAGE,
					"unknown option '%s' for %s (see --help)", w,
					argv[0]);
		}
		const struct mv_option *o = ctx->opts[i];
		if (o->type == MV_OPT_FLAG) {
			if (inline_val)
				return mv_error_create(MV_ERR_USAGE,
						       "--%s takes no value",
						       o->name);
			ctx->vals[i].set = true;
			ctx->vals[i].num = 1;
			continue;
		}
		if (!inline_val) {
			if (a + 1 >= argc)
				return mv_error_create(MV_ERR_USAGE,
						       "--%s needs a value (%s)",
						       o->name, o->metavar);
			inline_val = argv[++a];
		}
		if ((err = set_value(ctx, i, inline_val)))
			return err;
	}

	if (mv_opt_flag(ctx, "help"))
		return NULL;
	if (nwords < (size_t)cmd->min_pos)
		return mv_error_create(MV_ERR_USAGE,
				       "%s needs %s (see --help)", argv[0],
				       cmd->synopsis);
	if (nwords > (size_t)cmd->max_pos && !(cmd->join_rest && cmd->max_pos))
		return mv_error_create(MV_ERR_USAGE,
				       "%s: unexpected argument '%s'", argv[0],
				       words[cmd->max_pos]);
	size_t keep = nwords < (size_t)cmd->max_pos ? nwords
						     : (size_t)cmd->max_pos;
	for (size_t k = 0; k < keep; k++)
		ctx->pos[k] = words[k];
	ctx->npos = keep;
	if (nwords > keep && keep > 0) {
		struct mv_buf b;
		mv_buf_init(&b);
		for (size_t k = keep - 1; k < nwords; k++)
			mv_buf_printf(&b, "%s%s", k == keep - 1 ? "" : " ",
				      words[k]);
		if (b.oom)
			return mv_enomem;
		char *joined = mv_buf_steal(&b);
		if ((err = mv_ctx_own(ctx, joined)))
			return err;
		ctx->pos[keep - 1] = joined;
	}
	ctx->json = mv_opt_flag(ctx, "json");
	return NULL;
}

void mv_cmd_ctx_deinit(struct mv_cmd_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nopts; i++)
		free(ctx->vals[i].list);
	for (size_t i = 0; i < ctx->nowned; i++)
		free(ctx->owned[i]);
	free(ctx->owned);
	mv_buf_deinit(&ctx->out);
	mv_buf_deinit(&ctx->scratch);
	mv_frames_destroy(ctx->frames);
	ctx->frames = NULL;
}

struct mv_frames *mv_ctx_frames(struct mv_cmd_ctx *ctx)
{
	if (!ctx->frames)
		ctx->frames = mv_frames_create(ctx->session->program);
	return ctx->frames;
}

static ssize_t find_opt(struct mv_cmd_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nopts; i++)
		if (!strcmp(ctx->opts[i]->name, name))
			return (ssize_t)i;
	return -1;
}

const struct mv_optval *mv_opt_val(struct mv_cmd_ctx *ctx, const char *name)
{
	ssize_t i = find_opt(ctx, name);
	return i < 0 ? NULL : &ctx->vals[i];
}

bool mv_opt_flag(struct mv_cmd_ctx *ctx, const char *name)
{
	const struct mv_optval *v = mv_opt_val(ctx, name);
	return v && v->num;
}

int64_t mv_opt_num(struct mv_cmd_ctx *ctx, const char *name)
{
	const struct mv_optval *v = mv_opt_val(ctx, name);
	return v ? v->num : 0;
}

struct mv_error *mv_opt_count(struct mv_cmd_ctx *ctx, const char *name,
			      uint64_t *ret)
{
	int64_t v = mv_opt_num(ctx, name);
	if (v < 0)
		return mv_error_create(MV_ERR_USAGE, "--%s takes a count >= 0",
				       name);
	*ret = (uint64_t)v;
	return NULL;
}

const char *mv_opt_str(struct mv_cmd_ctx *ctx, const char *name)
{
	const struct mv_optval *v = mv_opt_val(ctx, name);
	return v ? v->str : NULL;
}

bool mv_opt_set(struct mv_cmd_ctx *ctx, const char *name)
{
	const struct mv_optval *v = mv_opt_val(ctx, name);
	return v && v->set;
}

/* ---- help ---- */

static void render_option(const struct mv_option *o, struct mv_buf *out,
			  bool markdown)
{
	struct mv_buf left;
	mv_buf_init(&left);
	if (o->short_name)
		mv_buf_printf(&left, "-%c, ", o->short_name);
	mv_buf_printf(&left, "--%s", o->name);
	if (o->type == MV_OPT_CHOICE) {
		mv_buf_putc(&left, ' ');
		for (const char *const *c = o->choices; c && *c; c++)
			mv_buf_printf(&left, "%s%s", c == o->choices ? "" : "|", *c);
	} else if (o->type != MV_OPT_FLAG) {
		mv_buf_printf(&left, " %s", o->metavar ? o->metavar : "VALUE");
	}
	const char *l = left.data ? left.data : "";
	if (markdown) {
		mv_buf_printf(out, "| `%s` | %s |", l, o->help);
		if (o->def)
			mv_buf_printf(out, " `%s` |\n", o->def);
		else
			mv_buf_puts(out, " |\n");
	} else {
		mv_buf_printf(out, "  %-26s %s", l, o->help);
		if (o->def)
			mv_buf_printf(out, " (default: %s)", o->def);
		if (o->type == MV_OPT_LIST)
			mv_buf_puts(out, " (repeatable)");
		mv_buf_putc(out, '\n');
	}
	mv_buf_deinit(&left);
}

/* Wraps text to 76 columns with an indent. */
static void render_wrapped(const char *text, struct mv_buf *out)
{
	const char *p = text;
	while (*p) {
		const char *para_end = strstr(p, "\n\n");
		size_t plen = para_end ? (size_t)(para_end - p) : strlen(p);
		size_t col = 0;
		const char *q = p, *end = p + plen;
		while (q < end) {
			while (q < end && *q == ' ')
				q++;
			const char *w = q;
			while (q < end && *q != ' ')
				q++;
			size_t wl = (size_t)(q - w);
			if (!wl)
				break;
			if (col && col + 1 + wl > 76) {
				mv_buf_putc(out, '\n');
				col = 0;
			}
			if (col) {
				mv_buf_putc(out, ' ');
				col++;
			}
			mv_buf_append(out, w, wl);
			col += wl;
		}
		mv_buf_putc(out, '\n');
		if (!para_end)
			break;
		mv_buf_putc(out, '\n');
		p = para_end + 2;
	}
}

void mv_command_render_help(const struct mv_command *cmd,
			    const char *frontend, struct mv_buf *out)
{
	bool cli = !frontend || !strcmp(frontend, "memview");
	mv_buf_printf(out, "%s\n\nUsage: %s%s [OPTIONS]%s%s\n", cmd->summary,
		      cli ? "memview [--core FILE [--exe FILE] | --pid PID] "
			  : "",
		      display_name(cmd, frontend),
		      *cmd->synopsis ? " " : "", cmd->synopsis);
	if (cmd->description) {
		mv_buf_putc(out, '\n');
		render_wrapped(cmd->description, out);
	}
	mv_buf_puts(out, "\nOptions:\n");
	for (const struct mv_option *o = cmd->options; o->name; o++)
		render_option(o, out, false);
	for (const struct mv_option *o = common_options; o->name; o++)
		render_option(o, out, false);
}

void mv_commands_render_markdown(struct mv_buf *out)
{
	mv_buf_puts(out,
		    "# memview commands\n\n"
		    "<!-- Generated by `memview help --markdown` from the "
		    "command table in core/command.c; `make docs` rewrites "
		    "it and `make check` fails if it is stale. -->\n\n"
		    "Every command runs in three front ends with the same "
		    "options and output. In the standalone program it is a "
		    "subcommand: `memview [--core FILE [--exe FILE] | --pid "
		    "PID] COMMAND ARGS`. In gdb and lldb the names below "
		    "stay clear of the debuggers' own commands (gdb has "
		    "`layout` and `info`, lldb has `memory`).\n\n"
		    "| memview program | gdb and lldb | what it does |\n"
		    "|---|---|---|\n");
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++)
		for (const struct mv_command *c = *cp; c; c = NULL)
		mv_buf_printf(out, "| `memview %s` | `%s` | %s |\n", c->name,
			      c->debugger_name, c->summary);
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++)
		for (const struct mv_command *c = *cp; c; c = NULL) {
		mv_buf_printf(out, "\n## %s\n\n%s\n\n```\nmemview [--core FILE "
			      "[--exe FILE] | --pid PID] %s [OPTIONS]%s%s\n"
			      "(gdb) %s [OPTIONS]%s%s\n(lldb) %s [OPTIONS]%s%s\n```\n",
			      c->name, c->summary, c->name,
			      *c->synopsis ? " " : "", c->synopsis,
			      c->debugger_name, *c->synopsis ? " " : "",
			      c->synopsis, c->debugger_name,
			      *c->synopsis ? " " : "", c->synopsis);
		if (c->description) {
			mv_buf_putc(out, '\n');
			mv_buf_puts(out, c->description);
			mv_buf_putc(out, '\n');
		}
		mv_buf_puts(out, "\n| option | meaning | default |\n"
				 "|---|---|---|\n");
		for (const struct mv_option *o = c->options; o->name; o++)
			render_option(o, out, true);
		for (const struct mv_option *o = common_options; o->name; o++)
			render_option(o, out, true);
	}
}

/* ---- words ---- */

void mv_free_words(char **argv, int argc)
{
	if (!argv)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

struct mv_error *mv_split_words(const char *line, char ***ret_argv,
				int *ret_argc)
{
	char **argv = NULL;
	int argc = 0;
	size_t cap = 0;
	struct mv_buf w;
	mv_buf_init(&w);
	const char *p = line ? line : "";
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		mv_buf_clear(&w);
		mv_buf_reserve(&w, 1); /* an empty "" word is still a word */
		char quote = 0;
		while (*p && (quote || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (quote) {
				if (*p == quote) {
					quote = 0;
				} else if (quote == '"' && *p == '\\' &&
					   (p[1] == '"' || p[1] == '\\')) {
					mv_buf_putc(&w, *++p);
				} else {
					mv_buf_putc(&w, *p);
				}
			} else if (*p == '\'' || *p == '"') {
				quote = *p;
			} else if (*p == '\\' && p[1]) {
				mv_buf_putc(&w, *++p);
			} else {
				mv_buf_putc(&w, *p);
			}
			p++;
		}
		if (quote) {
			mv_buf_deinit(&w);
			mv_free_words(argv, argc);
			return mv_error_create(MV_ERR_SYNTAX,
					       "unterminated %c quote",
					       quote);
		}
		if ((size_t)argc + 2 > cap) {
			/* Doubling: a line of many words stays linear. */
			size_t ncap = cap ? cap * 2 : 8;
			char **nargv = realloc(argv, ncap * sizeof(*argv));
			if (!nargv) {
				mv_free_words(argv, argc);
				mv_buf_deinit(&w);
				return mv_enomem;
			}
			argv = nargv;
			cap = ncap;
		}
		if (w.oom) {
			mv_free_words(argv, argc);
			mv_buf_deinit(&w);
			return mv_enomem;
		}
		argv[argc++] = mv_buf_steal(&w);
		argv[argc] = NULL;
	}
	mv_buf_deinit(&w);
	*ret_argv = argv;
	*ret_argc = argc;
	return NULL;
}

/* ---- output ---- */

void mv_out(struct mv_cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mv_buf_vprintf(&ctx->out, fmt, ap);
	va_end(ap);
}

/* Text for a terminal is folded to its width (JSON never; view lays its
 * lines out to the width itself). */
static bool folds(const struct mv_cmd_ctx *ctx)
{
	return !ctx->json && ctx->session && ctx->session->width > 0 &&
	       ctx->cmd && strcmp(ctx->cmd->name, "view");
}

static struct mv_error *flush(struct mv_cmd_ctx *ctx, bool all)
{
	struct mv_session *s = ctx->session;
	if (ctx->out.oom)
		return mv_enomem;
	if (!ctx->out.len)
		return NULL;
	const char *data = ctx->out.data;
	size_t len = ctx->out.len, keep = 0;
	struct mv_buf folded;
	mv_buf_init(&folded);
	if (folds(ctx)) {
		/* Whole lines only: the rest waits for its newline. */
		const char *nl = all ? NULL : memrchr(data, '\n', len);
		if (!all) {
			keep = nl ? len - (size_t)(nl + 1 - data) : len;
			/* A line that never ends goes out as it is. */
			if (keep > (64u << 10))
				keep = 0;
			len -= keep;
		}
		mv_buf_fold(&folded, data, len, (unsigned)s->width);
		if (folded.oom) {
			mv_buf_deinit(&folded);
			return mv_enomem;
		}
		data = folded.data ? folded.data : "";
		len = folded.len;
	}
	bool ok = !len || !s->write || s->write(s->write_arg, data, len);
	mv_buf_deinit(&folded);
	if (keep)
		memmove(ctx->out.data, ctx->out.data + ctx->out.len - keep,
			keep);
	ctx->out.len = keep;
	if (ctx->out.data)
		ctx->out.data[keep] = '\0';
	if (!ok) {
		mv_buf_clear(&ctx->out);
		return mv_error_create(MV_ERR_INTERRUPTED, "output stopped");
	}
	return NULL;
}

struct mv_error *mv_out_flush(struct mv_cmd_ctx *ctx)
{
	return flush(ctx, false);
}

struct mv_error *mv_out_flush_all(struct mv_cmd_ctx *ctx)
{
	return flush(ctx, true);
}

struct mv_error *mv_ctx_poll(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	if (s->poll && s->poll())
		return mv_error_create(MV_ERR_INTERRUPTED, "interrupted");
	return NULL;
}
