/* test_heap_mimalloc.c - the mimalloc 2.0.9 model on the mimalloc
 * fixture's core, against the fixture's own key: each block it holds or
 * leaked with mi_usable_size(), the blocks it freed, and the blocks
 * mi_heap_visit_blocks() counted less those freed after.  With glibc's
 * debug symbols and without them (then glibc's model finds no heap and
 * mimalloc's stands alone). */
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

#include "mv_test.h"

#include "heap_internal.h"

#include "alloc_core.h"

static void check_core(uint32_t flags)
{
	struct alloc_core a;
	alloc_core_open("mimalloc", "mimalloc 2.0.9", flags, 3000, &a);
	uint64_t k_visited = mv_test_fact_u64(a.facts, "visited");
	uint64_t k_freed = mv_test_fact_u64(a.facts, "freed");
	alloc_core_check_blocks(&a, MV_ARENA_MIMALLOC);
	uint64_t used = 0;
	size_t n = mv_heap_chunk_count(a.h);
	for (size_t i = 0; i < n; i++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(a.h, i, &c));
		if (a.arenas[c.arena].kind == MV_ARENA_MIMALLOC &&
		    (c.flags & MV_CHUNK_IN_USE))
			used++;
	}
	assert_int_equal(used, k_visited - k_freed);
	alloc_core_close(&a);
}

/* A chunk of 24 bytes: size 16 and MV_ENTRY_PLUS8; 16 without it. */
static void test_entry_plus8(void **state)
{
	(void)state;
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = 10;
	assert_null(mv_heap_add_chunk(h, 0x1000, 16,
				      MV_CHUNK_IN_USE | MV_ENTRY_PLUS8,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_add_chunk(h, 0x1018, 16, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_sort(h));
	struct mv_chunk c;
	assert_true(mv_heap_chunk(h, 0, &c));
	assert_int_equal(c.size, 24);
	assert_int_equal(c.flags, MV_CHUNK_IN_USE);
	assert_true(mv_heap_chunk(h, 1, &c));
	assert_int_equal(c.start, 0x1018);
	assert_int_equal(c.size, 16);
	mv_heap_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_plus8),
		ALLOC_CORE_RUNS(check_core),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
