/* test_unwind.c - a thread's C frames by the CFI, and a local's value in
 * them (unwind.c), and the bounded reader under it (cursor.c).
 *
 * Answer key: the stackvars fixture's own facts (build/cores/
 * stackvars.facts: the blocks its locals and parameters hold, written by
 * the program) and its code (middle(depth) keeps depth in pr.tag, and
 * calls itself from 2 down to 0).  The core was taken while the main
 * thread was inside leaf() under three frames of middle() and main(),
 * the second thread inside pause() under worker(). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_open.h"
#include "mv_test.h"

#include "cursor.h"
#include "program.h"
#include "unwind.h"

struct core {
	struct mv_target *t;
	struct mv_program *p;
	const char *facts;
};

static void open_stackvars(struct core *c)
{
	const char *core = mv_test_build_file_or_skip("cores/stackvars.core");
	c->facts = mv_test_build_file_or_skip("cores/stackvars.facts");
	const char *exe = mv_test_build_file_or_skip("fixtures/stackvars");
	mv_test_open_core(core, exe, &c->t, &c->p);
}

static void close_core(struct core *c)
{
	mv_program_destroy(c->p);
	mv_target_destroy(c->t);
}

/* The values of function's variable over every thread: each thread
 * that has frames of it must be the only one, and unwind to its
 * outermost frame without a note. */
static size_t values_of(struct core *c, const char *function,
			const char *variable, uint64_t *out, size_t max)
{
	const struct mv_thread *th;
	size_t n = mv_target_threads(c->t, &th), got = 0, threads = 0;
	for (size_t i = 0; i < n; i++) {
		struct mv_unwind_values v;
		mv_unwind_local_values(c->p, &th[i], function, variable, &v);
		if (v.why[0])
			fail_msg("thread %d, %s.%s: %s", (int)th[i].tid,
				 function, variable, v.why);
		if (!v.seen)
			continue;
		threads++;
		assert_int_equal(v.n, v.seen);
		for (size_t k = 0; k < v.n && got < max; k++)
			out[got++] = v.values[k];
	}
	assert_int_equal(threads, 1);
	return got;
}

static void test_locals_in_every_frame(void **state)
{
	(void)state;
	struct core c = {0};
	open_stackvars(&c);
	uint64_t v[8];
	static const char *const one[][3] = {
		{"leaf", "mine", "addr leaf.mine"},
		{"leaf", "given", "addr leaf.given"},
		{"main", "in_main", "addr main.in_main"},
		{"worker", "held_by_worker", "addr worker.held_by_worker"},
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		assert_int_equal(values_of(&c, one[i][0], one[i][1], v, 8), 1);
		assert_int_equal(v[0], mv_test_fact_u64(c.facts, one[i][2]));
	}
	/* Three frames of middle(), innermost first: pr.tag is depth. */
	assert_int_equal(values_of(&c, "middle", "pr", v, 8), 3);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 1);
	assert_int_equal(v[2], 2);
	/* No such function on any stack: nothing, no note. */
	const struct mv_thread *th;
	size_t n = mv_target_threads(c.t, &th);
	for (size_t i = 0; i < n; i++) {
		struct mv_unwind_values none;
		mv_unwind_local_values(c.p, &th[i], "no_such_function", "x",
				       &none);
		assert_int_equal(none.seen, 0);
		assert_string_equal(none.why, "");
	}
	close_core(&c);
}

/* Garbage registers: no value, a reason, never a crash. */
static void test_garbage_registers(void **state)
{
	(void)state;
	struct core c = {0};
	open_stackvars(&c);
	const struct mv_thread *th;
	assert_true(mv_target_threads(c.t, &th) > 0);
	/* The CFA of a frame may be rsp's or rbp's: both garbage. */
	static const struct {
		int reg, reg2;
		uint64_t value;
		const char *why;
	} cases[] = {
		{MV_REG_RIP, MV_REG_RIP, 0x4141414141414140ull,
		 "no objfile at pc"},
		{MV_REG_RSP, MV_REG_RBP, 8, "could not be read"},
		{MV_REG_RSP, MV_REG_RBP, 0xfffffffffffffff8ull,
		 "could not be read"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mv_thread bad = th[0];
		bad.regs[cases[i].reg] = cases[i].value;
		bad.regs[cases[i].reg2] = cases[i].value;
		struct mv_unwind_values v;
		mv_unwind_local_values(c.p, &bad, "main", "in_main", &v);
		assert_int_equal(v.n, 0);
		if (!strstr(v.why, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, v.why,
				 cases[i].why);
	}
	struct mv_thread none = th[0];
	none.has_regs = false;
	struct mv_unwind_values v;
	mv_unwind_local_values(c.p, &none, "main", "in_main", &v);
	assert_int_equal(v.n, 0);
	assert_string_equal(v.why, "no registers");
	close_core(&c);
}

static void test_cursor(void **state)
{
	(void)state;
	/* 624485 and -123456 as DWARF 5's appendix C writes them. */
	static const uint8_t leb[] = {0xe5, 0x8e, 0x26, 0xc0, 0xbb, 0x78};
	struct mv_cursor c = {leb, leb + sizeof(leb), false};
	assert_int_equal(mv_cursor_uleb(&c), 624485);
	assert_int_equal(mv_cursor_sleb(&c), -123456);
	assert_false(c.bad);
	/* Past the end: 0, bad, and the cursor at the end. */
	assert_int_equal(mv_cursor_fixed(&c, 1), 0);
	assert_true(c.bad);
	static const uint8_t open_leb[] = {0x80, 0x80};
	c = (struct mv_cursor){open_leb, open_leb + 2, false};
	assert_int_equal(mv_cursor_uleb(&c), 0);
	assert_true(c.bad);
	c = (struct mv_cursor){open_leb, open_leb + 2, false};
	assert_int_equal(mv_cursor_sleb(&c), 0);
	assert_true(c.bad);
	/* Eleven continuation bytes: bits past 64 are dropped, no UB. */
	static const uint8_t long_leb[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x7f};
	c = (struct mv_cursor){long_leb, long_leb + 11, false};
	assert_int_equal(mv_cursor_uleb(&c), UINT64_MAX);
	assert_false(c.bad);
	static const uint8_t word[] = {1, 2, 3, 4, 'a', 0, 'b'};
	c = (struct mv_cursor){word, word + sizeof(word), false};
	assert_int_equal(mv_cursor_fixed(&c, 4), 0x04030201);
	mv_cursor_string(&c);
	assert_ptr_equal(c.p, word + 6);
	mv_cursor_string(&c); /* no NUL before the end */
	assert_true(c.bad);
	c = (struct mv_cursor){word, word + sizeof(word), false};
	mv_cursor_skip(&c, 8);
	assert_true(c.bad);
	assert_ptr_equal(c.p, c.end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locals_in_every_frame),
		cmocka_unit_test(test_garbage_registers),
		cmocka_unit_test(test_cursor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
