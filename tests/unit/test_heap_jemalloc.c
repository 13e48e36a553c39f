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

struct kblock {
	uint64_t addr, usable;
	bool freed;
};

struct key {
	struct kblock *b;
	size_t n;
	uint64_t allocated, tcache_bytes;
};

static void read_key(const char *path, struct key *k)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256];
	size_t cap = 0;
	memset(k, 0, sizeof(*k));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, u;
		char state[32];
		int tid;
		if (sscanf(line, "block %llx %llu %31s %d", &a, &u, state,
			   &tid) == 4) {
			if (k->n == cap) {
				cap = cap ? 2 * cap : 1024;
				k->b = realloc(k->b, cap * sizeof(*k->b));
				assert_non_null(k->b);
			}
			k->b[k->n++] = (struct kblock){
				a, u, !strcmp(state, "freed")};
		} else if (sscanf(line, "allocated %llu", &a) == 1) {
			k->allocated = a;
		} else if (sscanf(line, "tcache_bytes %llu", &a) == 1) {
			k->tcache_bytes = a;
		}
	}
	fclose(f);
}

static void check_core(uint32_t flags)
{
	const char *core = mv_test_build_file("cores/jemalloc.core");
	const char *facts = mv_test_build_file("cores/jemalloc.facts");
	if (!core || !facts) {
		print_message("jemalloc core not built (make cores): skipped\n");
		skip();
	}
	struct key k;
	read_key(facts, &k);
	assert_true(k.n > 2000);
	assert_true(k.allocated > 0);

	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	assert_null(mv_target_open_core(core, &t));
	assert_null(mv_program_create(t, &p));
	struct mv_error *err = mv_program_load_target_objfiles(p, NULL);
	if (err)
		fail_msg("objfiles: %s", mv_error_message(err));
	struct mv_heap_options o = {.flags = flags};
	err = mv_heap_open_with(p, &o, NULL, &h);
	if (err)
		fail_msg("mv_heap_open: %s", mv_error_message(err));
	assert_non_null(strstr(mv_heap_description(h), "jemalloc 5.3.0"));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);

	size_t narenas;
	const struct mv_heap_arena *arenas = mv_heap_arenas(h, &narenas);
	for (size_t i = 0; i < k.n; i++) {
		struct mv_chunk c;
		bool found = mv_heap_find_chunk(h, k.b[i].addr, &c);
		if (k.b[i].freed) {
			assert_false(found && (c.flags & MV_CHUNK_IN_USE));
			continue;
		}
		if (!found)
			fail_msg("block %#llx: no chunk",
				 (unsigned long long)k.b[i].addr);
		assert_int_equal(c.start, k.b[i].addr);
		assert_int_equal(c.mem, k.b[i].addr);
		assert_int_equal(c.usable, k.b[i].usable);
		assert_int_equal(c.size, k.b[i].usable);
		assert_true(c.flags & MV_CHUNK_IN_USE);
		assert_true(c.flags & MV_CHUNK_NO_HEADER);
		assert_int_equal(arenas[c.arena].kind, MV_ARENA_JEMALLOC);
		/* Its last byte is its own (8-byte regions too), the next
		 * byte the next region's. */
		struct mv_chunk in;
		assert_true(mv_heap_find_chunk(h, c.mem + c.usable - 1, &in));
		assert_int_equal(in.start, c.start);
		if (mv_heap_find_chunk(h, c.mem + c.usable, &in))
			assert_int_equal(in.start, c.mem + c.usable);
	}
	/* jemalloc counts a block allocated from its slab or extent while
	 * the program holds it, while a tcache holds it, and its own
	 * internal ones (the tcache stacks). */
	uint64_t allocated = 0, tcache = 0;
	const struct mv_heap_entry *e = mv_heap_entries(h, &(size_t){0});
	size_t n = mv_heap_chunk_count(h);
	for (size_t i = 0; i < n; i++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, i, &c));
		if (arenas[c.arena].kind != MV_ARENA_JEMALLOC)
			continue;
		if (c.flags & (MV_CHUNK_IN_USE | MV_CHUNK_METADATA))
			allocated += c.size;
		else if (e[i].list == MV_LIST_TCACHE)
			tcache += c.size;
	}
	assert_int_equal(tcache, k.tcache_bytes);
	assert_int_equal(allocated + tcache, k.allocated);
	mv_heap_destroy(h);
	mv_program_destroy(p);
	mv_target_destroy(t);
	free(k.b);
}

static void test_core_symbols(void **state)
{
	(void)state;
	check_core(0);
}

static void test_core_mappings(void **state)
{
	(void)state;
	check_core(MV_HEAP_IGNORE_SYMBOLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_symbols),
		cmocka_unit_test(test_core_mappings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
