/* Unit tests: what the front ends ask of the command table beyond a
 * command line - option names for completion, settings, the defaults a
 * command accepts, manual pages, and progress throttling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "help_man.h"
#include "expr.h"
#include "session.h"
#include "mv_test.h"

static bool has(const char **list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static void test_options_of_a_command(void **state)
{
	(void)state;
	const char **opts = mv_command_options("layout");
	assert_non_null(opts);
	assert_true(has(opts, "max-elements"));
	assert_true(has(opts, "json"));
	assert_true(has(opts, "help"));
	assert_false(has(opts, "max-bytes"));
	mv_free(opts);
	/* Debugger names find the same command. */
	opts = mv_command_options("mv-layout");
	assert_true(has(opts, "max-elements"));
	mv_free(opts);
	assert_null(mv_command_options("no-such-command"));
}

static void test_option_value(void **state)
{
	(void)state;
	const char *const *choices = (const char *const *)1;
	assert_true(mv_command_option_value("layout", "max-elements",
					    &choices));
	assert_null(choices);
	assert_false(mv_command_option_value("layout", "json", NULL));
	assert_false(mv_command_option_value("layout", "nosuch", NULL));
}

static void test_filter_keeps_what_a_command_takes(void **state)
{
	(void)state;
	char *line = NULL;
	const char *defaults = "--max-elements=7 --max-bytes=64K --pointers "
			       "--max-objects=9";
	assert_null(mv_command_filter_options("layout", defaults, &line));
	assert_string_equal(line, "\"--max-elements=7\"");
	mv_free(line);
	assert_null(mv_command_filter_options("view", defaults, &line));
	assert_string_equal(line, "\"--max-elements=7\" \"--max-bytes=64K\" "
				  "\"--pointers\"");
	mv_free(line);
	assert_null(mv_command_filter_options("regions", defaults, &line));
	assert_string_equal(line, "");
	mv_free(line);
	/* A flag given a value, or a value option given bare, is skipped. */
	assert_null(mv_command_filter_options("view", "--pointers=1 "
						      "--max-bytes", &line));
	assert_string_equal(line, "");
	mv_free(line);
	/* Quotes survive the round trip through the splitter. */
	assert_null(mv_command_filter_options("view", "'--max-bytes=a\"b'",
					      &line));
	assert_string_equal(line, "\"--max-bytes=a\\\"b\"");
	mv_free(line);
	struct mv_error *err = mv_command_filter_options("view", "oops",
							 &line);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
	mv_error_destroy(err);
}

static void test_settings(void **state)
{
	(void)state;
	const char *const *names = mv_setting_names();
	size_t n = 0;
	for (; names[n]; n++)
		assert_non_null(mv_setting_help(names[n]));
	assert_true(n >= 6);
	assert_null(mv_setting_check("max-elements", "50"));
	assert_null(mv_setting_check("max-elements", ""));
	assert_null(mv_setting_check("max-bytes", "64M"));
	assert_null(mv_setting_check("color", "auto"));
	assert_null(mv_setting_check("pointers", "off"));
	assert_null(mv_setting_check("width", "120"));
	assert_null(mv_setting_check("allocator", "pymalloc"));
	assert_null(mv_setting_check("allocator", "jemalloc"));
	assert_null(mv_setting_check("allocator", "tcmalloc"));
	const char *bad[][2] = {
		{"max-elements", "lots"}, {"max-bytes", "-1"},
		{"color", "maybe"}, {"pointers", "2"}, {"width", "wide"},
		{"allocator", "hoard"},
		{"no-such-setting", "1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mv_error *err = mv_setting_check(bad[i][0], bad[i][1]);
		assert_non_null(err);
		assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
		mv_error_destroy(err);
	}
}

static void test_man_pages(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	assert_true(mv_commands_render_man(1, &b));
	assert_non_null(strstr(b.data, ".TH MEMVIEW 1"));
	for (const struct mv_command *const *cp = mv_commands; *cp; cp++) {
		struct mv_buf want;
		mv_buf_init(&want);
		mv_buf_puts(&want, ".SS \"");
		for (const char *p = (*cp)->name; *p; p++)
			mv_buf_puts(&want, *p == '-' ? "\\-" : (char[]){*p, 0});
		assert_non_null(strstr(b.data, want.data));
		mv_buf_deinit(&want);
	}
	/* No line of text may start a troff request by accident. */
	for (const char *line = b.data; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (*line == '\'')
			fail_msg("line starts with a quote: %.40s", line);
	}
	mv_buf_clear(&b);
	assert_true(mv_commands_render_man(7, &b));
	assert_non_null(strstr(b.data, ".SS \"mv\\-layout\""));
	assert_false(mv_commands_render_man(3, &b));
	mv_buf_deinit(&b);
}

static int calls;

static void count_progress(void *arg, const char *what, uint64_t done,
			   uint64_t total)
{
	(void)arg;
	(void)what;
	(void)done;
	(void)total;
	calls++;
}

static void test_progress_is_throttled(void **state)
{
	(void)state;
	struct mv_session *s;
	assert_null(mv_session_create(&s));
	mv_progress_report(s, "objects", 1, 0); /* no callback: nothing */
	mv_session_set_progress(s, count_progress, NULL);
	calls = 0;
	for (int i = 0; i < 1000000; i++)
		mv_progress_report(s, "objects", (uint64_t)i, 0);
	/* A million reports in well under a second: one or two calls. */
	assert_in_range(calls, 1, 3);
	mv_session_destroy(s);
}

/* A front end that asks for memview's own evaluator first
 * (MV_EVAL_USE_OWN), then answers "no" itself. */
static int eval_calls;

static int use_own_first(void *arg, const char *expr,
			 struct mv_eval_result *ret)
{
	(void)arg;
	(void)expr;
	snprintf(ret->error, sizeof(ret->error), "%s",
		 eval_calls++ ? "the debugger's own error" : MV_EVAL_USE_OWN);
	return 0;
}

static void test_eval_use_own(void **state)
{
	(void)state;
	/* The plain build's core when the sanitized one has none. */
	const char *core = mv_test_build_file_or_skip("cores/hostile_types.core");
	const char *exe = mv_test_build_file_or_skip("fixtures/hostile_types");
	struct mv_session *s;
	assert_null(mv_session_create(&s));
	assert_null(mv_session_open_core(s, core, exe));
	mv_session_set_eval(s, use_own_first, NULL);
	struct mv_value v;
	/* memview knows g_far: the debugger is asked once, not again. */
	eval_calls = 0;
	assert_null(mv_session_eval(s, "&g_far", &v));
	assert_int_equal(eval_calls, 1);
	/* memview does not know the name: the debugger is asked again and
	 * its answer stands. */
	eval_calls = 0;
	struct mv_error *err = mv_session_eval(s, "no_such_global", &v);
	assert_non_null(err);
	assert_int_equal(eval_calls, 2);
	assert_non_null(strstr(mv_error_message(err), "the debugger's own"));
	mv_error_destroy(err);
	mv_session_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_of_a_command),
		cmocka_unit_test(test_option_value),
		cmocka_unit_test(test_filter_keeps_what_a_command_takes),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_man_pages),
		cmocka_unit_test(test_progress_is_throttled),
		cmocka_unit_test(test_eval_use_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
