/* Unit tests: typed objects for scripts (object.c) on the basic
 * fixture's core - evaluate, find a type, read, format - against the
 * fixture's facts (its own addresses, values and sizeof). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "memview.h"
#include "mv_test.h"

static int open_basic(void **state)
{
	const char *core = mv_test_build_file("cores/basic.core");
	const char *exe = mv_test_build_file("fixtures/basic");
	struct mv_session *s;
	assert_null(mv_session_create(&s));
	if (!core || !exe || mv_session_open_core(s, core, exe)) {
		mv_session_destroy(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int close_basic(void **state)
{
	mv_session_destroy(*state);
	return 0;
}

static const char *facts(void)
{
	return mv_test_build_path("cores/basic.facts");
}

static void test_evaluate_and_read(void **state)
{
	struct mv_session *s = *state;
	struct mv_object o;
	assert_null(mv_session_evaluate(s, "list_head", &o));
	assert_true(o.is_lvalue);
	assert_int_equal(o.address, mv_test_fact_u64(facts(), "addr list_head"));
	assert_int_equal(o.type->kind, MV_TYPE_POINTER);
	assert_int_equal(o.type->size, 8);
	uint64_t head;
	assert_null(mv_session_read(s, o.address, &head, sizeof(head)));
	assert_int_equal(head, mv_test_fact_u64(facts(), "value list_head"));

	assert_null(mv_session_evaluate(s, "padded_global.l", &o));
	int64_t l;
	assert_null(mv_session_read(s, o.address, &l, sizeof(l)));
	assert_int_equal(l, mv_test_fact_u64(facts(),
					     "value padded_global.l"));
}

static void test_find_type(void **state)
{
	struct mv_session *s = *state;
	struct mv_type *t;
	assert_null(mv_session_find_type(s, "struct padded", &t));
	assert_int_equal(t->size,
			 mv_test_fact_u64(facts(), "sizeof struct padded"));
	struct mv_error *err = mv_session_find_type(s, "struct nosuch", &t);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
}

static void test_format(void **state)
{
	struct mv_session *s = *state;
	struct mv_object o;
	char *text;
	assert_null(mv_session_evaluate(s, "padded_global.i", &o));
	assert_null(mv_session_format(s, &o, &text));
	char want[32];
	snprintf(want, sizeof(want), "%d",
		 (int)mv_test_fact_u64(facts(), "value padded_global.i"));
	assert_string_equal(text, want);
	mv_free(text);
	/* An rvalue: a cast of a negative number to a signed type. */
	assert_null(mv_session_evaluate(s, "(short)-2", &o));
	assert_false(o.is_lvalue);
	assert_null(mv_session_format(s, &o, &text));
	assert_string_equal(text, "-2");
	mv_free(text);
}

static void test_faults(void **state)
{
	struct mv_session *s = *state;
	char buf[8];
	struct mv_error *err = mv_session_read(s, 8, buf, sizeof(buf));
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_FAULT);
	uint64_t at = 0;
	assert_true(mv_error_address(err, &at));
	assert_int_equal(at, 8);
	mv_error_destroy(err);
	/* Formatting unreadable memory says so instead of failing. */
	struct mv_object o;
	char *text;
	assert_null(mv_session_evaluate(s, "*(struct node *)8", &o));
	assert_null(mv_session_format(s, &o, &text));
	assert_non_null(strstr(text, "unreadable"));
	mv_free(text);
	err = mv_session_evaluate(s, "nosuch", &o);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evaluate_and_read),
		cmocka_unit_test(test_find_type),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_faults),
	};
	return cmocka_run_group_tests(tests, open_basic, close_basic);
}
