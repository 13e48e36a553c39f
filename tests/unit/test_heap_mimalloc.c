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

struct kblock {
	uint64_t addr, usable;
	bool freed;
};

struct key {
	struct kblock *b;
	size_t n;
	uint64_t visited, freed;
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
		} else if (sscanf(line, "visited %llu", &a) == 1) {
			k->visited = a;
		} else if (sscanf(line, "freed %llu", &a) == 1) {
			k->freed = a;
		}
	}
	fclose(f);
}

static void check_core(uint32_t flags)
{
	const char *core = mv_test_build_file("cores/mimalloc.core");
	const char *facts = mv_test_build_file("cores/mimalloc.facts");
	if (!core || !facts) {
		print_message("mimalloc core not built (make cores): skipped\n");
		skip();
	}
	struct key k;
	read_key(facts, &k);
	assert_true(k.n > 3000);

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
	assert_non_null(strstr(mv_heap_description(h), "mimalloc 2.0.9"));
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
		assert_int_equal(c.flags & MV_ENTRY_PLUS8, 0);
		assert_int_equal(arenas[c.arena].kind, MV_ARENA_MIMALLOC);
		/* Its last byte is its own (8-byte size classes too), the
		 * next byte the next block's. */
		struct mv_chunk in;
		assert_true(mv_heap_find_chunk(h, c.mem + c.usable - 1, &in));
		assert_int_equal(in.start, c.start);
		if (mv_heap_find_chunk(h, c.mem + c.usable, &in))
			assert_int_equal(in.start, c.mem + c.usable);
	}
	uint64_t used = 0;
	size_t n = mv_heap_chunk_count(h);
	for (size_t i = 0; i < n; i++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, i, &c));
		if (arenas[c.arena].kind == MV_ARENA_MIMALLOC &&
		    (c.flags & MV_CHUNK_IN_USE))
			used++;
	}
	assert_int_equal(used, k.visited - k.freed);
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

/* Without glibc's symbols glibc's model finds no heap at all (malloc
 * never ran): mimalloc's stands alone. */
static void test_core_alone(void **state)
{
	(void)state;
	check_core(MV_HEAP_IGNORE_SYMBOLS);
}

/* An entry of 24 bytes: size16 1 and MV_ENTRY_PLUS8. */
static void test_entry_plus8(void **state)
{
	(void)state;
	struct mv_heap_entry e = {.start = 0x1000, .size16 = 1,
				  .flags = MV_CHUNK_IN_USE | MV_ENTRY_PLUS8};
	assert_int_equal(mv_heap_entry_size(&e), 24);
	e.flags = MV_CHUNK_IN_USE;
	assert_int_equal(mv_heap_entry_size(&e), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_plus8),
		cmocka_unit_test(test_core_symbols),
		cmocka_unit_test(test_core_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
