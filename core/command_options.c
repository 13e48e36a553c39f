/* command_options.c - what the command table says about options, for
 * the front ends: names for completion, and the subset of the user's
 * default settings that one command accepts (so the core stays the only
 * parser of command lines). */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "help_man.h"

/* The options of cmd, its own then the common ones, in ctx->opts.  The
 * parser is the one place that knows the common options; a line of just
 * "--help" stops it before any positional check. */
size_t mv_command_all_options(const struct mv_command *cmd,
			      const struct mv_option **ret, size_t max)
{
	struct mv_cmd_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	mv_buf_init(&ctx.out);
	mv_buf_init(&ctx.scratch);
	const char *argv[] = {cmd->name, "--help", NULL};
	mv_error_destroy(mv_command_parse(cmd, 2, argv, &ctx));
	size_t n = 0;
	for (size_t i = 0; i < ctx.nopts && n < max; i++)
		ret[n++] = ctx.opts[i];
	mv_cmd_ctx_deinit(&ctx);
	return n;
}

static const struct mv_option *find_option(const struct mv_command *cmd,
					   const char *name, size_t len)
{
	const struct mv_option *opts[MV_MAX_OPTIONS];
	size_t n = mv_command_all_options(cmd, opts, MV_MAX_OPTIONS);
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i]->name) == len &&
		    !strncmp(opts[i]->name, name, len))
			return opts[i];
	return NULL;
}

const char **mv_command_options(const char *name)
{
	const struct mv_command *cmd = name ? mv_command_find(name) : NULL;
	if (!cmd)
		return NULL;
	const struct mv_option *opts[MV_MAX_OPTIONS];
	size_t n = mv_command_all_options(cmd, opts, MV_MAX_OPTIONS);
	/* The names point into the static table: one block to free. */
	const char **list = calloc(n + 1, sizeof(*list));
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++)
		list[i] = opts[i]->name;
	return list;
}

bool mv_command_option_value(const char *name, const char *option,
			     const char *const **choices)
{
	const struct mv_command *cmd = name ? mv_command_find(name) : NULL;
	if (choices)
		*choices = NULL;
	if (!cmd || !option)
		return false;
	const struct mv_option *o = find_option(cmd, option, strlen(option));
	if (!o || o->type == MV_OPT_FLAG)
		return false;
	if (choices && o->type == MV_OPT_CHOICE)
		*choices = o->choices;
	return true;
}

/* Appends word quoted for mv_split_words. */
static void put_quoted(struct mv_buf *out, const char *word)
{
	if (out->len)
		mv_buf_putc(out, ' ');
	mv_buf_putc(out, '"');
	for (const char *p = word; *p; p++) {
		if (*p == '"' || *p == '\\')
			mv_buf_putc(out, '\\');
		mv_buf_putc(out, *p);
	}
	mv_buf_putc(out, '"');
}

struct mv_error *mv_command_filter_options(const char *name,
					   const char *defaults, char **ret)
{
	const struct mv_command *cmd = name ? mv_command_find(name) : NULL;
	if (!cmd)
		return mv_error_create(MV_ERR_INVALID,
				       "unknown command '%s'",
				       name ? name : "");
	char **words;
	int nwords;
	struct mv_error *err = mv_split_words(defaults, &words, &nwords);
	if (err)
		return err;
	struct mv_buf out;
	mv_buf_init(&out);
	mv_buf_reserve(&out, 1);
	for (int i = 0; i < nwords; i++) {
		const char *w = words[i];
		if (strncmp(w, "--", 2) || !w[2]) {
			err = mv_error_create(MV_ERR_USAGE,
					      "default options: '%s' is not a "
					      "--NAME or --NAME=VALUE option",
					      w);
			break;
		}
		const char *eq = strchr(w + 2, '=');
		size_t len = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
		const struct mv_option *o = find_option(cmd, w + 2, len);
		/* Same shape only: a setting named like a flag of one command
		 * and a number of another goes only where it fits. */
		if (o && (o->type == MV_OPT_FLAG) == !eq)
			put_quoted(&out, w);
	}
	mv_free_words(words, nwords);
	if (!err)
		err = mv_buf_error(&out);
	if (err) {
		mv_buf_deinit(&out);
		return err;
	}
	*ret = mv_buf_steal(&out);
	return NULL;
}
