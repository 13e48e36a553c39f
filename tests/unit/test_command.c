/* Unit tests: buffers, the JSON writer, terminal escaping, word
 * splitting, and the command table's parser and help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "command.h"
#include "error.h"
#include "session.h"

static void test_buf_printf_grows(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		mv_buf_printf(&b, "%d,", i);
	assert_false(b.oom);
	assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
	assert_int_equal(b.len, strlen(b.data));
	/* 10 one-digit, 90 two-digit, 900 three-digit numbers + commas */
	assert_int_equal(b.len, 10 * 2 + 90 * 3 + 900 * 4);
	mv_buf_deinit(&b);
}

static void test_escape_controls_and_bidi(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	/* ESC, newline, a right-to-left override (U+202E), valid UTF-8
	 * (e acute), an invalid byte, a quote. */
	const char in[] = "a\x1b[2J\n\xe2\x80\xae" "b\xc3\xa9\xff\"";
	mv_buf_escape(&b, in, sizeof(in) - 1, '"');
	assert_string_equal(b.data, "a\\x1b[2J\\n\\u{202e}b\xc3\xa9\\xff\\\"");
	mv_buf_deinit(&b);
}

/* Display columns of one line: escapes and UTF-8 continuation bytes
 * take none (written here independently of buf.c). */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == 0x1b) {
			while (i < n && s[i] != 'm')
				i++;
			continue;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	}
	return c;
}

static void test_fold_to_width(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	/* A table row whose last column is long, a coloured word, UTF-8,
	 * a word longer than the width, and a line that fits. */
	const char in[] =
		"  --max-heap-chunks N   index at most N heap chunks (16 bytes "
		"each); past them the answer is partial\n"
		"deep size \x1b[1m752\x1b[0m bytes in 32 objects (sum of "
		"sizeof), 1,000 bytes by the allocator, d\xc3\xa9j\xc3\xa0 vu\n"
		"/a/very/long/path/without/any/space/in/it/at/all/that/goes/on\n"
		"short\n";
	mv_buf_fold(&b, in, sizeof(in) - 1, 40);
	/* Every line fits; the words are the same, in the same order. */
	char words_in[512] = "", words_out[512] = "";
	for (const char *p = in; *p; p++)
		if (*p != ' ' && *p != '\n')
			strncat(words_in, p, 1);
	const char *line = b.data;
	size_t nlines = 0;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		assert_true(columns(line, n) <= 40 || !memchr(line + 4, ' ',
							      n - 4));
		for (size_t i = 0; i < n; i++)
			if (line[i] != ' ')
				strncat(words_out, line + i, 1);
		nlines++;
		line += n + (nl ? 1 : 0);
	}
	assert_string_equal(words_in, words_out);
	assert_true(nlines > 4);
	/* The table row continues under its last column (column 24). */
	const char *second = strchr(b.data, '\n') + 1;
	assert_int_equal(strspn(second, " "), 24);
	/* A line that fits is left alone; width 0 changes nothing. */
	assert_non_null(strstr(b.data, "\nshort\n"));
	mv_buf_clear(&b);
	mv_buf_fold(&b, in, sizeof(in) - 1, 0);
	assert_memory_equal(b.data, in, sizeof(in) - 1);
	mv_buf_deinit(&b);
}

static void test_json_nesting_and_escapes(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	struct mv_json j;
	mv_json_init(&j, &b, false);
	mv_json_begin_object(&j);
	mv_json_key(&j, "a");
	mv_json_address(&j, 0x1000);
	mv_json_key(&j, "list");
	mv_json_begin_array(&j);
	mv_json_int(&j, -1);
	mv_json_string(&j, "q\"\n\x01\xff");
	/* Text keeps its UTF-8; target bytes are escaped byte by byte. */
	mv_json_string(&j, "d\xc3\xa9");
	mv_json_string_len(&j, "d\xc3\xa9", 3);
	mv_json_null(&j);
	mv_json_double(&j, 0.1);
	mv_json_double(&j, 2);
	mv_json_end_array(&j);
	mv_json_key(&j, "empty");
	mv_json_begin_object(&j);
	mv_json_end_object(&j);
	mv_json_end_object(&j);
	assert_string_equal(b.data,
			    "{\"a\":\"0x1000\",\"list\":[-1,\"q\\\"\\n\\u0001\\udcff\","
			    "\"d\xc3\xa9\",\"d\\u00c3\\u00a9\","
			    "null,0.1,2.0],\"empty\":{}}");
	mv_buf_deinit(&b);
}

static void test_split_words(void **state)
{
	(void)state;
	char **argv;
	int argc;
	assert_null(mv_split_words("  a 'b c' \"d\\\"e\" f\\ g ''", &argv, &argc));
	assert_int_equal(argc, 5);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b c");
	assert_string_equal(argv[2], "d\"e");
	assert_string_equal(argv[3], "f g");
	assert_string_equal(argv[4], "");
	mv_free_words(argv, argc);
	struct mv_error *err = mv_split_words("a 'b", &argv, &argc);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_SYNTAX);
	mv_error_destroy(err);
}

/* Parses a command line; like a front end, keeps the words alive while
 * the parsed values (which point into them) are in use. */
static struct mv_error *parse(const char *line, struct mv_cmd_ctx *ctx)
{
	static char **words;
	static int n;
	mv_free_words(words, n);
	words = NULL;
	struct mv_error *err = mv_split_words(line, &words, &n);
	if (err)
		return err;
	memset(ctx, 0, sizeof(*ctx));
	const struct mv_command *cmd = mv_command_find(words[0]);
	assert_non_null(cmd);
	return mv_command_parse(cmd, n, (const char *const *)words, ctx);
}

static void test_parse_options_and_join(void **state)
{
	(void)state;
	struct mv_cmd_ctx ctx;
	/* gdb users type `mv-layout struct node` without quotes. */
	assert_null(parse("mv-layout struct node --json --max-elements=3", &ctx));
	assert_int_equal(ctx.npos, 1);
	assert_string_equal(ctx.pos[0], "struct node");
	assert_true(ctx.json);
	assert_int_equal(mv_opt_num(&ctx, "max-elements"), 3);
	assert_true(mv_opt_set(&ctx, "max-elements"));
	mv_cmd_ctx_deinit(&ctx);

	assert_null(parse("layout -t 'struct node' 0x10", &ctx));
	assert_string_equal(mv_opt_str(&ctx, "type"), "struct node");
	assert_string_equal(ctx.pos[0], "0x10");
	/* The default applies when the option is absent. */
	assert_int_equal(mv_opt_num(&ctx, "max-elements"), 16);
	assert_false(mv_opt_set(&ctx, "max-elements"));
	mv_cmd_ctx_deinit(&ctx);
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct mv_cmd_ctx ctx;
	const char *bad[] = {
		"layout --nosuch x",      "layout",
		"layout --max-elements x", "layout --max-elements",
		"regions extra",           "layout --json=1 x",
		/* A negative count would read as a huge bound. */
		"layout --max-elements -1 x", "sizeof-deep --max-objects=-5 x",
		"gc --max-heap-chunks -1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mv_error *err = parse(bad[i], &ctx);
		assert_non_null(err);
		assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
		/* One line, naming what is wrong. */
		assert_null(strchr(mv_error_message(err), '\n'));
		mv_error_destroy(err);
		mv_cmd_ctx_deinit(&ctx);
	}
}

static void test_help_is_generated_from_table(void **state)
{
	(void)state;
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++) {
		const struct mv_command *c = *cp;
		char *gdb = mv_command_help("gdb", c->debugger_name);
		char *cli = mv_command_help("memview", c->name);
		assert_non_null(gdb);
		assert_non_null(cli);
		/* First line is the summary: the debuggers' short help. */
		assert_int_equal(strncmp(gdb, c->summary, strlen(c->summary)), 0);
		assert_non_null(strstr(gdb, c->debugger_name));
		assert_non_null(strstr(cli, "memview [--core FILE"));
		for (const struct mv_option *o = c->options; o->name; o++) {
			char flag[64];
			snprintf(flag, sizeof(flag), "--%s", o->name);
			assert_non_null(strstr(gdb, flag));
		}
		assert_non_null(strstr(gdb, "--json"));
		mv_free(gdb);
		mv_free(cli);
	}
	assert_null(mv_command_help("gdb", "nosuch"));
	const char *const *names = mv_command_names("lldb");
	assert_string_equal(names[0], mv_commands[0]->debugger_name);
}

static void test_notes_bounded(void **state)
{
	(void)state;
	struct mv_notes l;
	mv_notes_init(&l, 3);
	const char *const *items;
	assert_int_equal(mv_notes_get(&l, &items), 0);
	for (int i = 0; i < 10; i++)
		assert_true(mv_notes_add(&l, "note %d\nline", i));
	size_t n = mv_notes_get(&l, &items);
	assert_int_equal(n, 4);
	assert_string_equal(items[0], "note 0 line");
	assert_string_equal(items[2], "note 2 line");
	assert_string_equal(items[3], "... and 7 more not listed");
	mv_notes_remove_prefix(&l, "note 1");
	n = mv_notes_get(&l, &items);
	assert_int_equal(n, 3);
	assert_string_equal(items[1], "note 2 line");
	mv_notes_deinit(&l);
}

static void test_error_static_nomem(void **state)
{
	(void)state;
	struct mv_error *e = mv_error_create(MV_ERR_NOMEM, "ignored");
	assert_ptr_equal(e, mv_enomem);
	mv_error_destroy(e); /* harmless on the static error */
	e = mv_error_fault(0xdead, "cannot read at 0x%x\nsecond", 0xdead);
	uint64_t addr;
	assert_true(mv_error_address(e, &addr));
	assert_int_equal(addr, 0xdead);
	assert_null(strchr(mv_error_message(e), '\n'));
	e = mv_error_wrap(e, "while reading %s", "x");
	assert_string_equal(mv_error_message(e),
			    "while reading x: cannot read at 0xdead second");
	mv_error_destroy(e);
}

/* The words of an interrupt that cut a command: a plain one (what a
 * poll returns) is replaced, any other error passes unchanged. */
static void test_error_interrupted(void **state)
{
	(void)state;
	struct mv_error *e = mv_error_interrupted(
		mv_error_create(MV_ERR_INTERRUPTED, "interrupted"),
		"nothing to answer from yet", "indexing the heap (%d chunks "
		"so far)", 42);
	assert_int_equal(mv_error_code(e), MV_ERR_INTERRUPTED);
	assert_string_equal(mv_error_message(e),
			    "interrupted while indexing the heap (42 chunks so "
			    "far): nothing to answer from yet");
	mv_error_destroy(e);
	e = mv_error_interrupted(NULL, "no verdict yet", "counting");
	assert_int_equal(mv_error_code(e), MV_ERR_INTERRUPTED);
	assert_string_equal(mv_error_message(e),
			    "interrupted while counting: no verdict yet");
	mv_error_destroy(e);
	struct mv_error *other = mv_error_fault(8, "cannot read at 0x8");
	assert_ptr_equal(mv_error_interrupted(other, "x", "y"), other);
	assert_string_equal(mv_error_message(other), "cannot read at 0x8");
	mv_error_destroy(other);
	assert_ptr_equal(mv_error_interrupted(mv_enomem, "x", "y"), mv_enomem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_escape_controls_and_bidi),
		cmocka_unit_test(test_fold_to_width),
		cmocka_unit_test(test_json_nesting_and_escapes),
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_parse_options_and_join),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_help_is_generated_from_table),
		cmocka_unit_test(test_notes_bounded),
		cmocka_unit_test(test_error_static_nomem),
		cmocka_unit_test(test_error_interrupted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
