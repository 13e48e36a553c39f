/* fuzz_command.c - the word splitter and the option parser: the input
 * is a command line as a debugger user types it.
 *
 * Splits it into words with shell-like quoting, then parses the words
 * against every command's option table, reading back every option's
 * value; and renders each command's help once per process. */
#include "command.h"
#include "fuzz.h"

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	char *line = mv_fuzz_string(data, size);
	if (!line)
		return 0;
	char **words;
	int n;
	struct mv_error *err = mv_split_words(line, &words, &n);
	free(line);
	if (err) {
		(void)strlen(mv_error_message(err));
		mv_error_destroy(err);
		return 0;
	}
	const char **argv = calloc((size_t)n + 2, sizeof(*argv));
	if (!argv) {
		mv_free_words(words, n);
		return 0;
	}
	for (int i = 0; i < n; i++)
		argv[i + 1] = words[i];
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++) {
		const struct mv_command *cmd = *cp;
		struct mv_cmd_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		mv_buf_init(&ctx.out);
		mv_buf_init(&ctx.scratch);
		argv[0] = cmd->name;
		err = mv_command_parse(cmd, n + 1, argv, &ctx);
		if (!err) {
			for (size_t i = 0; i < ctx.nopts; i++) {
				const char *name = ctx.opts[i]->name;
				const struct mv_optval *v;
				mv_opt_set(&ctx, name);
				mv_opt_num(&ctx, name);
				mv_opt_flag(&ctx, name);
				const char *str = mv_opt_str(&ctx, name);
				if (str)
					(void)strlen(str);
				v = mv_opt_val(&ctx, name);
				for (size_t k = 0; v && k < v->nlist; k++)
					(void)strlen(v->list[k]);
			}
			for (size_t i = 0; i < ctx.npos; i++)
				(void)strlen(ctx.pos[i]);
		} else {
			(void)strlen(mv_error_message(err));
		}
		mv_error_destroy(err);
		mv_cmd_ctx_deinit(&ctx);
	}
	free(argv);
	mv_free_words(words, n);

	static bool helped;
	if (!helped) {
		struct mv_buf b;
		mv_buf_init(&b);
		for (const struct mv_command *const *cp = mv_commands; *cp;
		     cp++) {
			mv_command_render_help(*cp, "memview", &b);
			mv_command_render_help(*cp, "gdb", &b);
			mv_command_render_help(*cp, "lldb", &b);
		}
		mv_commands_render_markdown(&b);
		mv_buf_deinit(&b);
		helped = true;
	}
	return 0;
}
