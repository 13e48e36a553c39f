/* test_buf.c - mv_big_realloc, the arrays with an entry per chunk.
 *
 * Growing a mapped block keeps its contents and touches none of its
 * pages again: the kernel's count of this process's page faults
 * (getrusage, not memview) stays flat over the growth, where a copy
 * faults in every page of the new block (a 64 MiB block: 32 huge
 * pages, or 16,384 small ones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "buf.h"

static long minor_faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void test_grow_moves_pages(void **state)
{
	(void)state;
	size_t n = (64u << 20) / sizeof(uint64_t);
	uint64_t *a = mv_big_realloc(NULL, n, sizeof(*a));
	assert_non_null(a);
	for (size_t i = 0; i < n; i++)
		a[i] = i * 0x9e3779b97f4a7c15ull;
	long before = minor_faults();
	uint64_t *b = mv_big_realloc(a, 4 * n, sizeof(*b));
	long after = minor_faults();
	assert_non_null(b);
	print_message("growth 64 -> 256 MiB: %ld page faults\n",
		      after - before);
	assert_true(after - before < 16);
	for (size_t i = 0; i < n; i++)
		if (b[i] != i * 0x9e3779b97f4a7c15ull)
			fail_msg("entry %zu lost in the growth", i);
	/* The room past the old block is usable. */
	b[4 * n - 1] = 7;
	assert_int_equal(b[4 * n - 1], 7);
	mv_big_free(b);
}

static void test_grow_small(void **state)
{
	(void)state;
	/* From malloc's blocks to a mapping, and within one. */
	uint32_t *a = NULL;
	size_t n = 0;
	for (size_t cap = 16; cap <= (8u << 20); cap *= 4) {
		uint32_t *b = mv_big_realloc(a, cap, sizeof(*b));
		assert_non_null(b);
		for (size_t i = 0; i < n; i++)
			if (b[i] != (uint32_t)(i * 2654435761u))
				fail_msg("entry %zu of %zu lost growing to %zu",
					 i, n, cap);
		for (size_t i = n; i < cap; i++)
			b[i] = (uint32_t)(i * 2654435761u);
		a = b;
		n = cap;
	}
	mv_big_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_moves_pages),
		cmocka_unit_test(test_grow_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
