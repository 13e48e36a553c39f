/* test_heap_tcmalloc.c - the gperftools tcmalloc 2.10 model on the
 * tcmalloc fixture's core, against the fixture's own key: each block it
 * holds or leaked with tc_malloc_size(), and the blocks it freed.  With
 * glibc's debug symbols and without them. */
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
	alloc_core_open("tcmalloc", "tcmalloc 2.10", flags, 3000, &a);
	alloc_core_check_blocks(&a, MV_ARENA_TCMALLOC);
	alloc_core_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALLOC_CORE_RUNS(check_core),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
