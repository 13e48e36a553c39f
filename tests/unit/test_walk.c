/* test_walk.c - the typed walk over an in-memory target: lists, cycles,
 * bad pointers, bounds, the visited set without a heap, interruption.
 *
 * The heap is a fake: the buffer at HEAP is cut into 32-byte chunks
 * (16-byte header, 24 usable) whose flags the tests set; types are made
 * by hand the way DWARF would describe struct node { long v; struct
 * node *next; }.  Expected values come from these definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "mv_test.h"

#include "heap_internal.h"
#include "walk.h"

#define HEAP 0x100000ull
#define NCHUNKS 8192
#define CHUNK 32u

static uint8_t heap[NCHUNKS * CHUNK];
static uint32_t chunk_flags[NCHUNKS];

static struct mv_type t_long = {.kind = MV_TYPE_INT, .name = "long",
				.size = 8, .is_signed = true,
				.is_complete = true};
static struct mv_type t_node;
static struct mv_type t_node_ptr = {.kind = MV_TYPE_POINTER, .size = 8,
				    .is_complete = true};
static struct mv_member node_members[2];

static void make_types(void)
{
	node_members[0] = (struct mv_member){
		.name = "v", .type = &t_long, .bit_position = 0};
	node_members[1] = (struct mv_member){
		.name = "next", .type = &t_node_ptr, .bit_position = 64};
	t_node = (struct mv_type){.kind = MV_TYPE_STRUCT, .name = "node",
				  .size = 16, .is_complete = true,
				  .nmembers = 2, .members = node_members};
	t_node_ptr.target_ = &t_node;
}

static bool fake_chunk(void *arg, uint64_t a, struct mv_chunk *ret,
		       size_t *index)
{
	(void)arg;
	if (a < HEAP || a >= HEAP + sizeof(heap))
		return false;
	size_t i = (size_t)((a - HEAP) / CHUNK);
	ret->start = HEAP + i * CHUNK;
	ret->mem = ret->start + 16;
	ret->size = CHUNK;
	ret->usable = 24;
	ret->flags = chunk_flags[i];
	ret->arena = 0;
	*index = i;
	return true;
}

static uint64_t mem_of(size_t i)
{
	return HEAP + i * CHUNK + 16;
}

static void set_node(size_t i, long v, uint64_t next)
{
	memcpy(heap + i * CHUNK + 16, &v, 8);
	memcpy(heap + i * CHUNK + 24, &next, 8);
}

struct fx {
	struct mv_target *t;
	struct mv_program *p;
};

static int setup(void **state)
{
	static struct fx f;
	memset(heap, 0, sizeof(heap));
	for (size_t i = 0; i < NCHUNKS; i++)
		chunk_flags[i] = MV_CHUNK_IN_USE;
	make_types();
	if (mv_target_create_buffer(&f.t) ||
	    mv_target_add_buffer(f.t, HEAP, heap, sizeof(heap),
				 MV_PERM_R | MV_PERM_W) ||
	    mv_program_create(f.t, &f.p))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	mv_program_destroy(f->p);
	mv_target_destroy(f->t);
	return 0;
}

static void opts(struct mv_walk_options *o, bool with_heap)
{
	memset(o, 0, sizeof(*o));
	if (with_heap) {
		o->find_chunk = fake_chunk;
		o->nchunks = NCHUNKS;
	}
}

/* A list of n nodes in chunks first..first+n-1; the last one's next is
 * last_next. */
static void make_list(size_t first, size_t n, uint64_t last_next)
{
	for (size_t i = 0; i < n; i++)
		set_node(first + i, (long)i,
			 i + 1 < n ? mem_of(first + i + 1) : last_next);
}

static void test_list(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	opts(&o, true);
	make_list(0, 10, 0);
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_int_equal(w.nobjs, 10);
	assert_int_equal(w.heap_objects, 10);
	assert_int_equal(w.heap_type_bytes, 10 * 16);
	assert_int_equal(w.chunk_bytes, 10 * CHUNK);
	assert_int_equal(w.usable_bytes, 10 * 24);
	assert_int_equal(w.max_depth_seen, 9);
	assert_false(w.hit_max_objects || w.hit_max_depth);
	/* Subtree sums: the head owns everything. */
	struct mv_subtree sub;
	assert_null(mv_walk_subtree_sums(&w, &sub));
	assert_int_equal(mv_subtree_get(&sub, 0), 10 * CHUNK);
	assert_int_equal(mv_subtree_get(&sub, 9), CHUNK);
	mv_subtree_deinit(&sub);
	struct mv_buf b;
	mv_buf_init(&b);
	mv_walk_label(&w, 3, &b);
	assert_string_equal(b.data, ".next");
	mv_buf_deinit(&b);
	mv_walk_deinit(&w);
}

static void test_cycle_and_interior(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	opts(&o, true);
	/* 0 -> 1 -> 2 -> back to 0, but through an interior pointer (the
	 * node's next field): the same chunk, not a new object. */
	set_node(0, 0, mem_of(1));
	set_node(1, 1, mem_of(2));
	set_node(2, 2, mem_of(0) + 8);
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_int_equal(w.nobjs, 3);
	mv_walk_deinit(&w);
}

static void test_bad_pointers(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	opts(&o, true);
	/* Four lists of one node each, hanging off an array of pointers
	 * in chunk 0..: use a node per bad pointer instead. */
	set_node(0, 0, 0xdead0000ull);          /* unmapped */
	set_node(1, 0, mem_of(10) + 3);         /* misaligned */
	set_node(2, 0, mem_of(11));             /* freed chunk */
	chunk_flags[11] = MV_CHUNK_FREE_LIST;
	set_node(3, 0, mem_of(12));             /* corrupt chunk */
	chunk_flags[12] = MV_CHUNK_CORRUPT;
	uint64_t roots[4] = {mem_of(0), mem_of(1), mem_of(2), mem_of(3)};
	uint64_t want[4][MV_PROB_COUNT_] = {{0}};
	want[0][MV_PROB_UNMAPPED] = 1;
	want[1][MV_PROB_MISALIGNED] = 1;
	want[2][MV_PROB_FREE_CHUNK] = 1;
	want[3][MV_PROB_CORRUPT] = 1;
	for (int k = 0; k < 4; k++) {
		assert_null(mv_walk_init(&w, f->p, &o));
		assert_null(mv_walk_run(&w, &t_node, roots[k]));
		assert_int_equal(w.nobjs, 1);
		for (int p = 0; p < MV_PROB_COUNT_; p++)
			assert_int_equal(w.problems[p], want[k][p]);
		mv_walk_deinit(&w);
	}
}

static void test_bounds(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	make_list(0, 100, 0);
	opts(&o, true);
	o.max_objects = 10;
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_int_equal(w.nobjs, 10);
	assert_true(w.hit_max_objects);
	assert_int_equal(w.limit_cut_pointers, 1);
	mv_walk_deinit(&w);

	opts(&o, true);
	o.max_depth = 3;
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_int_equal(w.nobjs, 4);
	assert_true(w.hit_max_depth);
	mv_walk_deinit(&w);
}

/* Without a heap model the visited set is the hash table alone: a long
 * list makes it grow several times, and every node is still counted
 * once, and a cycle back to the head ends the walk. */
static void test_visited_set_growth(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	make_list(0, NCHUNKS, mem_of(0));
	opts(&o, false);
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_int_equal(w.nobjs, NCHUNKS);
	assert_int_equal(w.type_bytes, (uint64_t)NCHUNKS * 16);
	assert_int_equal(w.heap_objects, 0);
	for (size_t i = 0; i < w.nobjs; i++)
		assert_int_equal(mv_walk_key(&w, i), mem_of(i));
	mv_walk_deinit(&w);
}

static int polls;
static struct mv_error *stop_at_once(void *arg)
{
	(void)arg;
	polls++;
	return mv_error_create(MV_ERR_INTERRUPTED, "interrupted");
}

static void test_interrupt(void **state)
{
	struct fx *f = *state;
	struct mv_walk w;
	struct mv_walk_options o;
	make_list(0, NCHUNKS, 0);
	opts(&o, true);
	o.poll = stop_at_once;
	polls = 0;
	assert_null(mv_walk_init(&w, f->p, &o));
	assert_null(mv_walk_run(&w, &t_node, mem_of(0)));
	assert_true(w.interrupted);
	assert_int_equal(polls, 1);
	assert_true(w.nobjs <= MV_WALK_POLL_EVERY + 1);
	mv_walk_deinit(&w);
}

/* ------------------------------------------------------------------ */
/* The chunk directory on real cores                                   */
/* ------------------------------------------------------------------ */

/* The directory must answer exactly as the index it summarises: the
 * reference is heap.c's binary search (mv_heap_chunk_index and
 * mv_heap_chunk), a separate path through separate code. */
static void check_dir_address(struct mv_heap *h, struct mv_chunk_dir *d,
			      uint64_t a, size_t *checked, size_t *plain)
{
	struct mv_chunk want, got;
	size_t wi = mv_heap_chunk_index(h, a), gi = SIZE_MAX;
	bool have = wi != SIZE_MAX && mv_heap_chunk(h, wi, &want);
	bool found = mv_chunk_dir_find(d, a, &got, &gi);
	/* The short path must name the same chunk, at its user address. */
	uint64_t psize;
	size_t pi;
	if (mv_chunk_dir_plain(d, a, &psize, &pi)) {
		if (!have || want.mem != a)
			fail_msg("0x%llx: the short path says a chunk starts "
				 "16 bytes before, the index does not",
				 (unsigned long long)a);
		assert_int_equal(pi, wi);
		assert_int_equal(psize, want.size);
		assert_int_equal(want.flags, MV_CHUNK_IN_USE);
		(*plain)++;
	}
	if (have != found)
		fail_msg("0x%llx: index says %s, directory says %s",
			 (unsigned long long)a, have ? "a chunk" : "none",
			 found ? "a chunk" : "none");
	if (have) {
		if (gi != wi)
			fail_msg("0x%llx: index says chunk %zu, directory %zu",
				 (unsigned long long)a, wi, gi);
		assert_int_equal(got.start, want.start);
		assert_int_equal(got.mem, want.mem);
		assert_int_equal(got.size, want.size);
		assert_int_equal(got.usable, want.usable);
		assert_int_equal(got.flags, want.flags);
		assert_int_equal(got.arena, want.arena);
	}
	(*checked)++;
}

/* A fixture's core as a user opens it, with its heap and a directory;
 * the core's path in core (the build's static buffer). */
struct core_dir {
	const char *core;
	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	struct mv_chunk_dir *d;
};

static void core_dir_open(const char *name, struct core_dir *c)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "cores/%s.core", name);
	c->core = mv_test_build_file(rel);
	if (!c->core)
		fail_msg("%s is missing: run make cores first", rel);
	assert_null(mv_target_open_core(c->core, &c->t));
	assert_null(mv_program_create(c->t, &c->p));
	assert_null(mv_program_load_target_objfiles(c->p, NULL));
	assert_null(mv_heap_open(c->p, NULL, &c->h));
	assert_null(mv_chunk_dir_create(c->h, &c->d));
}

static void core_dir_close(struct core_dir *c)
{
	mv_chunk_dir_destroy(c->d);
	mv_heap_destroy(c->h);
	mv_program_destroy(c->p);
	mv_target_destroy(c->t);
}

static void check_dir_on(const char *name, size_t min_chunks)
{
	struct core_dir c;
	core_dir_open(name, &c);
	struct mv_heap *h = c.h;
	struct mv_chunk_dir *d = c.d;
	size_t n = mv_heap_chunk_count(h), checked = 0, ns, plain = 0;
	assert_true(n >= min_chunks);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = mv_heap_start_at(h, i), z = mv_heap_size_at(h, i);
		const uint64_t probe[] = {s ? s - 1 : 0, s, s + 7, s + 8, s + 16,
					  s + z / 2, s + z - 1, s + z, s + z + 8};
		for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++)
			check_dir_address(h, d, probe[k], &checked, &plain);
	}
	const struct mv_heap_segment *sg = mv_heap_segments(h, &ns);
	for (size_t k = 0; k < ns; k++)
		for (uint64_t off = 0; off < 4096; off += 8) {
			check_dir_address(h, d, sg[k].start - off - 1, &checked,
					  &plain);
			check_dir_address(h, d, sg[k].end + off, &checked,
					  &plain);
		}
	/* Most chunks of both heaps are plain: the short path was taken. */
	assert_true(plain >= min_chunks / 2);
	print_message("%s: %zu chunks, %zu addresses agree (%zu by the "
		      "short path)\n", name, n, checked, plain);
	core_dir_close(&c);
}

/* heapfix: every kind of chunk (tcache, fastbin, small and large bins,
 * mmapped, thread arenas); heapbig: a million of them. */
static void test_chunk_dir(void **state)
{
	(void)state;
	check_dir_on("heapfix", 50);
	check_dir_on("heapbig", 1000000);
}

/* One directory for many walks, as gc's walks from every global share
 * one: each walk's visited bits must be gone before the next, whether
 * it cleared its own (a small walk) or left them to the next walk's
 * start (a big one).  Three rounds over deepsize's roots, each walk
 * against the fixture's own counts. */
static void test_dir_shared_by_walks(void **state)
{
	(void)state;
	struct core_dir c;
	core_dir_open("deepsize", &c);
	char facts[4096];
	snprintf(facts, sizeof(facts), "%s", c.core);
	strcpy(facts + strlen(facts) - strlen(".core"), ".facts");
	struct mv_program *p = c.p;
	struct mv_heap *h = c.h;
	struct mv_chunk_dir *d = c.d;
	static const char *const roots[] = {"list", "dlist", "tree", "dag",
					    "cycle", "person"};
	size_t walks = 0;
	/* Each root twice in a row: the second walk meets the first's
	 * chunks, cleared or not. */
	for (int round = 0; round < 4; round++) {
		for (size_t r = 0; r < sizeof(roots) / sizeof(roots[0]) * 2;
		     r++) {
			char key[64];
			uint64_t addr;
			struct mv_type *type;
			const char *root = roots[r / 2];
			assert_null(mv_program_find_variable(p, root, 0, &addr,
							     &type));
			struct mv_walk_options o = {
				.find_chunk = mv_chunk_dir_find,
				.chunk_arg = d,
				.nchunks = mv_heap_chunk_count(h),
			};
			struct mv_walk w;
			assert_null(mv_walk_init(&w, p, &o));
			assert_non_null(w.plain_dir);
			assert_null(mv_walk_run(&w, type, addr));
			snprintf(key, sizeof(key), "deep %s.objects", root);
			assert_int_equal(w.heap_objects,
					 mv_test_fact_u64(facts, key));
			snprintf(key, sizeof(key), "deep %s.usable", root);
			assert_int_equal(w.usable_bytes,
					 mv_test_fact_u64(facts, key));
			mv_walk_deinit(&w);
			walks++;
		}
	}
	print_message("deepsize: %zu walks over one directory agree with "
		      "the fixture\n", walks);
	core_dir_close(&c);
}

/* Subtree sums in 4 bytes per object, with sums of 3.75 GiB and more in
 * the side table: a chain of three 4 GiB - 1 objects and a fork.  The
 * expected sums are the arithmetic of the tree written here. */
static void test_subtree_sums(void **state)
{
	(void)state;
	struct mv_walk w;
	memset(&w, 0, sizeof(w));
	struct mv_walk_obj objs[6] = {
		{.parent = 0, .bytes = 16},          /* 0: root */
		{.parent = 0, .bytes = UINT32_MAX},  /* 1 */
		{.parent = 1, .bytes = UINT32_MAX},  /* 2 */
		{.parent = 2, .bytes = UINT32_MAX},  /* 3 */
		{.parent = 0, .bytes = 100},         /* 4 */
		{.parent = 4, .bytes = 0xefffffffu}, /* 5: just below the side table */
	};
	w.objs = objs;
	w.nobjs = 6;
	struct mv_subtree s;
	assert_null(mv_walk_subtree_sums(&w, &s));
	const uint64_t big = UINT32_MAX;
	assert_int_equal(mv_subtree_get(&s, 3), big);
	assert_int_equal(mv_subtree_get(&s, 2), 2 * big);
	assert_int_equal(mv_subtree_get(&s, 1), 3 * big);
	assert_int_equal(mv_subtree_get(&s, 5), 0xefffffffull);
	assert_int_equal(mv_subtree_get(&s, 4), 0xefffffffull + 100);
	assert_int_equal(mv_subtree_get(&s, 0),
			 16 + 3 * big + 0xefffffffull + 100);
	/* 0, 1, 2, 3 and 4 need the side table, 5 does not. */
	assert_int_equal(s.nbig, 5);
	mv_subtree_deinit(&s);
}

/* The record is the whole per-object cost besides the table and the
 * chunk bitmap: keep it at 24 bytes. */
static void test_record_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct mv_walk_obj), 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle_and_interior,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pointers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visited_set_growth, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interrupt, setup,
						teardown),
		cmocka_unit_test(test_record_size),
		cmocka_unit_test(test_chunk_dir),
		cmocka_unit_test(test_dir_shared_by_walks),
		cmocka_unit_test(test_subtree_sums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
