/* alloc_core.h - what the allocator models' unit tests share: the core
 * of an allocator fixture (tests/fixtures/allockey.h) opened with its
 * answer key, and the checks every model passes on it, block by block:
 * each block the program holds or leaked is a chunk in use of the
 * model's arena kind, at its address, of the allocator's own usable
 * size, no byte more or less; each block it freed is no chunk in use.
 * Include after <cmocka.h>, mv_test.h and heap_internal.h. */
#ifndef MV_ALLOC_CORE_H
#define MV_ALLOC_CORE_H

struct kblock {
	uint64_t addr, usable;
	bool freed;
};

struct alloc_core {
	const char *facts;    /* the fixture's facts file */
	struct kblock *b;     /* its "block ADDR USABLE STATE T" lines */
	size_t n;
	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	const struct mv_heap_arena *arenas;
};

static void alloc_core_read_blocks(struct alloc_core *a)
{
	FILE *f = fopen(a->facts, "r");
	assert_non_null(f);
	char line[256];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr, u;
		char state[32];
		int tid;
		if (sscanf(line, "block %llx %llu %31s %d", &addr, &u, state,
			   &tid) != 4)
			continue;
		if (a->n == cap) {
			cap = cap ? 2 * cap : 1024;
			a->b = realloc(a->b, cap * sizeof(*a->b));
			assert_non_null(a->b);
		}
		a->b[a->n++] = (struct kblock){addr, u,
					       !strcmp(state, "freed")};
	}
	fclose(f);
}

/* The core of fixture name ("mimalloc") and its blocks, at least
 * min_blocks of them, and its heap opened with flags: the allocator's
 * model (its description has desc) says nothing is amiss.  Skips the
 * test when the core was not built. */
static void alloc_core_open(const char *name, const char *desc,
			    uint32_t flags, size_t min_blocks,
			    struct alloc_core *a)
{
	char rel[64];
	memset(a, 0, sizeof(*a));
	snprintf(rel, sizeof(rel), "cores/%s.core", name);
	const char *core = mv_test_build_file_or_skip(rel);
	snprintf(rel, sizeof(rel), "cores/%s.facts", name);
	a->facts = mv_test_build_file_or_skip(rel);
	alloc_core_read_blocks(a);
	assert_true(a->n > min_blocks);

	assert_null(mv_target_open_core(core, &a->t));
	assert_null(mv_program_create(a->t, &a->p));
	struct mv_error *err = mv_program_load_target_objfiles(a->p, NULL);
	if (err)
		fail_msg("objfiles: %s", mv_error_message(err));
	struct mv_heap_options o = {.flags = flags};
	err = mv_heap_open_with(a->p, &o, NULL, &a->h);
	if (err)
		fail_msg("mv_heap_open: %s", mv_error_message(err));
	assert_non_null(strstr(mv_heap_description(a->h), desc));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(a->h, &notes), 0);
	size_t narenas;
	a->arenas = mv_heap_arenas(a->h, &narenas);
}

/* Each block of the key against the chunk the model finds there. */
static void alloc_core_check_blocks(struct alloc_core *a,
				    enum mv_heap_arena_kind kind)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct kblock *b = &a->b[i];
		struct mv_chunk c;
		bool found = mv_heap_find_chunk(a->h, b->addr, &c);
		if (b->freed) {
			assert_false(found && (c.flags & MV_CHUNK_IN_USE));
			continue;
		}
		if (!found)
			fail_msg("block %#llx: no chunk",
				 (unsigned long long)b->addr);
		assert_int_equal(c.start, b->addr);
		assert_int_equal(c.mem, b->addr);
		assert_int_equal(c.usable, b->usable);
		assert_int_equal(c.size, b->usable);
		assert_true(c.flags & MV_CHUNK_IN_USE);
		assert_true(c.flags & MV_CHUNK_NO_HEADER);
		assert_int_equal(c.flags & MV_ENTRY_PLUS8, 0);
		assert_int_equal(a->arenas[c.arena].kind, kind);
		/* Its last byte is its own (8-byte size classes too), the
		 * next byte the next block's. */
		struct mv_chunk in;
		assert_true(mv_heap_find_chunk(a->h, c.mem + c.usable - 1,
					       &in));
		assert_int_equal(in.start, c.start);
		if (mv_heap_find_chunk(a->h, c.mem + c.usable, &in))
			assert_int_equal(in.start, c.mem + c.usable);
	}
}

static void alloc_core_close(struct alloc_core *a)
{
	mv_heap_destroy(a->h);
	mv_program_destroy(a->p);
	mv_target_destroy(a->t);
	free(a->b);
}

/* The two runs every model's test makes of its check over its core:
 * with glibc's debug symbols and without them (glibc's model then finds
 * its heap from the mappings, or none): ALLOC_CORE_RUNS(check) in the
 * table of tests. */
struct alloc_core_run {
	void (*check)(uint32_t flags);
	uint32_t flags;
};

static void alloc_core_test(void **state)
{
	const struct alloc_core_run *r = *state;
	r->check(r->flags);
}

#define ALLOC_CORE_RUNS(check)                                             \
	{"core_symbols", alloc_core_test, NULL, NULL,                      \
	 &(struct alloc_core_run){check, 0}},                              \
	{"core_mappings", alloc_core_test, NULL, NULL,                     \
	 &(struct alloc_core_run){check, MV_HEAP_IGNORE_SYMBOLS}}

#endif
