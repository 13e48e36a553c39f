/* settings.c - the defaults every front end offers under the same names
 * (gdb's `set memview`, lldb's `mv-settings`, the program's --NAME
 * before the command).  Limits are checked by the command parser itself,
 * through a command that has the option, so a value is accepted here
 * exactly when a command would accept it. */
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "command.h"

struct setting {
	const char *name;
	const char *kind;
	const char *help;
};

static const struct setting settings[] = {
	{"max-elements", "count",
	 "array elements shown by layout and typed views (0: all)"},
	{"max-objects", "count",
	 "objects visited by sizeof-deep, graph and path-to before they "
	 "stop"},
	{"max-heap-chunks", "count",
	 "heap chunks indexed by the commands that read the heap "
	 "(0: no limit; default: from the memory available)"},
	{"allocator", "auto|glibc|pymalloc|mimalloc|tcmalloc|jemalloc",
	 "heap models: auto (glibc, and CPython's pymalloc, mimalloc, "
	 "tcmalloc and jemalloc where found), glibc only, or pymalloc, "
	 "mimalloc, tcmalloc or jemalloc required"},
	{"types", "file",
	 "object model rules for sizeof-deep, graph, cycles and gc "
	 "--refcount: a rules file or a shipped model (docs/types.md)"},
	{"max-bytes", "size",
	 "longest memory view (64K, 1M, ...; 0: no limit)"},
	{"pointers", "bool",
	 "annotate pointer-sized words that point somewhere known (on|off)"},
	{"color", "auto|on|off",
	 "colour in output: auto follows the debugger's styling or the "
	 "terminal"},
	{"force", "bool",
	 "output files (--output, --binary, --dot, --svg) may replace an "
	 "existing non-empty file (on|off)"},
	{"width", "count",
	 "output width in columns (0: the terminal's or the debugger's)"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *find_setting(const char *name)
{
	for (size_t i = 0; name && i < NSETTINGS; i++)
		if (!strcmp(settings[i].name, name))
			return &settings[i];
	return NULL;
}

const char *const *mv_setting_names(void)
{
	static const char *names[NSETTINGS + 1];
	for (size_t i = 0; i < NSETTINGS; i++)
		names[i] = settings[i].name;
	names[NSETTINGS] = NULL;
	return names;
}

const char *mv_setting_help(const char *name)
{
	const struct setting *s = find_setting(name);
	return s ? s->help : NULL;
}

const char *mv_setting_kind(const char *name)
{
	const struct setting *s = find_setting(name);
	return s ? s->kind : NULL;
}

/* Parses --NAME=VALUE with the first command that has option NAME. */
static struct mv_error *check_with_parser(const char *name,
					  const char *value, bool *found)
{
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++) {
		const struct mv_command *cmd = *cp;
		for (const struct mv_option *o = cmd->options; o->name; o++) {
			if (strcmp(o->name, name) || o->type == MV_OPT_FLAG)
				continue;
			*found = true;
			struct mv_cmd_ctx ctx;
			memset(&ctx, 0, sizeof(ctx));
			mv_buf_init(&ctx.out);
			mv_buf_init(&ctx.scratch);
			struct mv_buf arg;
			mv_buf_init(&arg);
			mv_buf_printf(&arg, "--%s=%s", name, value);
			struct mv_error *err = mv_buf_error(&arg);
			if (!err) {
				const char *argv[] = {cmd->name, "--help",
						      arg.data, NULL};
				err = mv_command_parse(cmd, 3, argv, &ctx);
			}
			mv_buf_deinit(&arg);
			mv_cmd_ctx_deinit(&ctx);
			return err;
		}
	}
	return NULL;
}

static bool is_count(const char *value)
{
	if (!*value || strlen(value) > 9)
		return false;
	for (const char *p = value; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

struct mv_error *mv_setting_check(const char *name, const char *value)
{
	const struct setting *s = find_setting(name);
	if (!s) {
		struct mv_buf b;
		mv_buf_init(&b);
		for (size_t i = 0; i < NSETTINGS; i++)
			mv_buf_printf(&b, "%s%s", i ? ", " : "",
				      settings[i].name);
		struct mv_error *err = mv_error_create(
			MV_ERR_USAGE, "no setting '%s' (settings: %s)",
			name ? name : "", b.data ? b.data : "");
		mv_buf_deinit(&b);
		return err;
	}
	if (!value || !*value)
		return NULL;
	if (!strcmp(s->kind, "bool")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			return mv_error_create(MV_ERR_USAGE,
					       "%s is on or off, not '%s'",
					       name, value);
		return NULL;
	}
	if (!strcmp(s->kind, "auto|on|off")) {
		if (strcmp(value, "auto") && strcmp(value, "on") &&
		    strcmp(value, "off"))
			return mv_error_create(MV_ERR_USAGE,
					       "%s is auto, on or off, not '%s'",
					       name, value);
		return NULL;
	}
	bool found = false;
	struct mv_error *err = check_with_parser(name, value, &found);
	if (err || found)
		return err;
	/* Not an option of any command (width): a plain count. */
	if (!is_count(value))
		return mv_error_create(MV_ERR_USAGE,
				       "%s expects a number of %s, not '%s'",
				       name, !strcmp(name, "width") ? "columns"
								    : "items",
				       value);
	return NULL;
}

/* An option without a fixed default: the bound derived from the memory
 * available (bounds.h) for the two that have one, else "none". */
static const char *no_default(const char *name)
{
	static char chunks[64], objects[64];
	if (!strcmp(name, "max-heap-chunks")) {
		snprintf(chunks, sizeof(chunks), "%llu from memory",
			 (unsigned long long)mv_limits_max_heap_chunks());
		return chunks;
	}
	if (!strcmp(name, "max-objects")) {
		snprintf(objects, sizeof(objects), "%llu from memory",
			 (unsigned long long)mv_limits_max_objects());
		return objects;
	}
	return "none";
}

/* Appends "VALUE (cmd, cmd)" groups for the commands' defaults of
 * option name; *n gets how many commands have it. */
static void option_defaults(const char *name, struct mv_buf *b, size_t *n)
{
	const char *vals[32];
	size_t nvals = 0;
	*n = 0;
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++)
		for (const struct mv_option *o = (*cp)->options; o->name; o++) {
			if (strcmp(o->name, name))
				continue;
			const char *v = o->type == MV_OPT_FLAG ? "off"
				       : o->def ? o->def : no_default(name);
			size_t k = 0;
			while (k < nvals && strcmp(vals[k], v))
				k++;
			if (k == nvals && nvals < 32)
				vals[nvals++] = v;
			(*n)++;
		}
	for (size_t k = 0; k < nvals; k++) {
		mv_buf_printf(b, "%s%s", k ? ", " : "", vals[k]);
		if (nvals == 1)
			break;
		const char *sep = " (";
		for (const struct mv_command *const *cp = mv_commands; *cp;
		     cp++)
			for (const struct mv_option *o = (*cp)->options;
			     o->name; o++) {
				const char *v = o->type == MV_OPT_FLAG ? "off"
					       : o->def ? o->def
							: no_default(name);
				if (strcmp(o->name, name) || strcmp(v, vals[k]))
					continue;
				mv_buf_printf(b, "%s%s", sep, (*cp)->name);
				sep = ", ";
			}
		mv_buf_putc(b, ')');
	}
}

char *mv_setting_default(const char *name)
{
	const struct setting *s = find_setting(name);
	if (!s)
		return NULL;
	struct mv_buf b;
	mv_buf_init(&b);
	size_t n;
	if (!strcmp(name, "color"))
		mv_buf_puts(&b, "auto");
	else if (!strcmp(name, "width"))
		mv_buf_puts(&b, "0 (the terminal's or the debugger's)");
	else
		option_defaults(name, &b, &n);
	if (b.oom) {
		mv_buf_deinit(&b);
		return NULL;
	}
	if (!b.data)
		return strdup("");
	return mv_buf_steal(&b);
}
