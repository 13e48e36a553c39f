/* test_heap_jemalloc.c - the jemalloc 5.3.0 model on the jemalloc
 * fixture's core, against the fixture's own key (each block it holds,
 * leaked or freed, with malloc_usable_size()) and jemalloc's own
 * stats.allocated and tcache bytes.  With glibc's debug symbols and
 * without them (glibc's blocks then come from the mappings). */
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
	alloc_core_open("jemalloc", "jemalloc 5.3.0", flags, 2000, &a);
	uint64_t k_allocated = mv_test_fact_u64(a.facts, "allocated");
	uint64_t k_tcache = mv_test_fact_u64(a.facts, "tcache_bytes");
	assert_true(k_allocated > 0);
	alloc_core_check_blocks(&a, MV_ARENA_JEMALLOC);
	/* jemalloc counts a block allocated from its slab or extent while
	 * the program holds it, while a tcache holds it, and its own
	 * internal ones (the tcache stacks). */
	uint64_t allocated = 0, tcache = 0;
	size_t n = mv_heap_chunk_count(a.h);
	for (size_t i = 0; i < n; i++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(a.h, i, &c));
		if (a.arenas[c.arena].kind != MV_ARENA_JEMALLOC)
			continue;
		if (c.flags & (MV_CHUNK_IN_USE | MV_CHUNK_METADATA))
			allocated += c.size;
		else if (mv_heap_list_at(a.h, i) == MV_LIST_TCACHE)
			tcache += c.size;
	}
	assert_int_equal(tcache, k_tcache);
	assert_int_equal(allocated + tcache, k_allocated);
	alloc_core_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALLOC_CORE_RUNS(check_core),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
