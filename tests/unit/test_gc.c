/* test_gc.c - marking, memcheck's categories and the SCC search over
 * hand-made heaps in buffer targets.  The answer key is the layout
 * itself: which block points where, written down as it is built. */
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

#include "gc.h"

#define HEAP_AT 0x10000000ull
#define ROOT_AT 0x30000000ull
#define TCACHE 0x290
#define BLK 0x30 /* every hand-made block: a 0x30 chunk, 0x28 usable */

struct fake {
	uint8_t *heap;
	size_t len;
	uint64_t roots[64];
	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	struct mv_gc gc;
};

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

/* The user address of block k (0-based) after the tcache block. */
static uint64_t mem(size_t k)
{
	return HEAP_AT + TCACHE + k * BLK + 16;
}

/* n blocks of 0x30, all in use, then the top. */
static void fake_init(struct fake *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->len = TCACHE + n * BLK + 0x1000;
	f->heap = calloc(1, f->len);
	assert_non_null(f->heap);
	put64(f->heap, 8, TCACHE | 1);
	for (size_t k = 0; k < n; k++)
		put64(f->heap, TCACHE + k * BLK + 8, BLK | 1);
	size_t top = TCACHE + n * BLK;
	put64(f->heap, top + 8, (f->len - top) | 1);
}

static void link_to(struct fake *f, size_t from, size_t word,
		    uint64_t value)
{
	put64(f->heap, mem(from) - HEAP_AT + 8 * word, value);
}

static void run(struct fake *f, size_t nroots)
{
	assert_null(mv_target_create_buffer(&f->t));
	assert_null(mv_target_add_buffer(f->t, HEAP_AT, f->heap, f->len,
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_target_add_buffer(f->t, ROOT_AT, f->roots,
					 sizeof(f->roots),
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f->t, &f->p));
	struct mv_error *err = mv_heap_open_range(f->p, HEAP_AT,
						  HEAP_AT + f->len, NULL,
						  &f->h);
	if (err)
		fail_msg("heap: %s", mv_error_message(err));
	struct mv_gc_range r = {ROOT_AT, ROOT_AT + 8 * nroots};
	struct mv_gc_options o = {.roots = &r, .nroots = 1,
				  .only_given_roots = true};
	err = mv_gc_run(&f->gc, f->h, &o);
	if (err)
		fail_msg("gc: %s", mv_error_message(err));
}

static void fake_close(struct fake *f)
{
	mv_gc_deinit(&f->gc);
	mv_heap_destroy(f->h);
	mv_program_destroy(f->p);
	mv_target_destroy(f->t);
	free(f->heap);
}

static enum mv_gc_kind kind_of(struct fake *f, size_t k)
{
	bool interior;
	size_t i = mv_gc_find_block(&f->gc, mem(k), &interior);
	if (i == SIZE_MAX)
		fail_msg("block %zu not found", k);
	assert_false(interior);
	return f->gc.kind[i];
}

static bool cyclic(struct fake *f, size_t k)
{
	bool interior;
	size_t i = mv_gc_find_block(&f->gc, mem(k), &interior);
	uint32_t pos = mv_gc_lost_pos(&f->gc, i);
	return pos != MV_GC_NONE && f->gc.scc_cyclic[f->gc.scc[pos]];
}

/* A 4 KiB of equal chunks back to back that ends before the next
 * 4 KiB, where the next chunk starts (a pool's unused tail, say): a
 * word in the gap is in no block, one in the next chunk is in it. */
static void test_equal_page_gap(void **state)
{
	(void)state;
	struct fake f;
	memset(&f, 0, sizeof(f));
	f.len = 0x2000;
	f.heap = calloc(1, f.len);
	assert_non_null(f.heap);
	assert_null(mv_target_create_buffer(&f.t));
	assert_null(mv_target_add_buffer(f.t, HEAP_AT, f.heap, f.len,
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_target_add_buffer(f.t, ROOT_AT, f.roots,
					 sizeof(f.roots),
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f.t, &f.p));
	struct mv_heap *h = f.h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->ops = &mv_heap_glibc_ops;
	h->program = f.p;
	h->target = f.t;
	h->max_chunks = 1000;
	uint32_t ai;
	struct mv_heap_arena arena = {.kind = MV_ARENA_MAIN};
	assert_null(mv_heap_add_arena(h, &arena, &ai));
	for (uint64_t at = 0; at < 0x2000; at += 0x40)
		if (at < 0xf00 || at >= 0x1000)
			assert_null(mv_heap_add_chunk(h, HEAP_AT + at, 0x40,
						      MV_CHUNK_IN_USE,
						      MV_LIST_NONE, ai));
	struct mv_heap_segment sg = {HEAP_AT, HEAP_AT + f.len, HEAP_AT, ai};
	assert_null(mv_heap_add_segment(h, &sg));
	assert_null(mv_heap_sort(h));
	assert_null(mv_heap_trim(h));
	struct mv_gc_range r = {ROOT_AT, ROOT_AT + 8};
	struct mv_gc_options o = {.roots = &r, .nroots = 1,
				  .only_given_roots = true};
	assert_null(mv_gc_run(&f.gc, h, &o));
	bool interior;
	assert_int_equal(mv_gc_find_block(&f.gc, HEAP_AT + 0xf40, &interior),
			 SIZE_MAX);
	assert_int_equal(mv_gc_find_block(&f.gc, HEAP_AT + 0x1010, &interior),
			 60);
	assert_false(interior);
	assert_int_equal(mv_gc_find_block(&f.gc, HEAP_AT + 0xee0, &interior),
			 59);
	assert_true(interior);
	fake_close(&f);
}

/* valgrind's nine cases, one block or two each. */
static void test_categories(void **state)
{
	struct fake f;
	fake_init(&f, 16);
	f.roots[0] = mem(0);          /* 0: reachable */
	link_to(&f, 0, 1, mem(1));    /* 1: reachable through 0 */
	f.roots[1] = mem(2) + 8;      /* 2: possibly lost (interior) */
	link_to(&f, 2, 0, mem(3));    /* 3: possibly lost (via 2) */
	/* 4: definitely lost, nothing points to it */
	link_to(&f, 5, 0, mem(6));    /* 5 lost -> 6 indirectly */
	link_to(&f, 7, 0, mem(8));    /* 7 <-> 8: a lost cycle */
	link_to(&f, 8, 0, mem(7));
	link_to(&f, 9, 0, mem(9));    /* 9: points to itself */
	link_to(&f, 10, 2, mem(11) + 16); /* 10 -?-> 11: indirectly */
	f.roots[2] = mem(12);         /* 12 <-> 13: reachable cycle */
	link_to(&f, 12, 0, mem(13));
	link_to(&f, 13, 0, mem(12));
	link_to(&f, 0, 3, mem(14) + 0x27); /* last usable byte: interior */
	f.roots[3] = HEAP_AT + 0x10;  /* the tcache block is no block */
	f.roots[4] = mem(15) - 8;     /* a chunk header is not its block */
	run(&f, 5);
	assert_int_equal(kind_of(&f, 0), MV_GC_REACHABLE);
	assert_int_equal(kind_of(&f, 1), MV_GC_REACHABLE);
	assert_int_equal(kind_of(&f, 2), MV_GC_POSSIBLE);
	assert_int_equal(kind_of(&f, 3), MV_GC_POSSIBLE);
	assert_int_equal(kind_of(&f, 4), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 5), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 6), MV_GC_INDIRECT);
	assert_int_equal(kind_of(&f, 7), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 8), MV_GC_INDIRECT);
	assert_int_equal(kind_of(&f, 9), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 10), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 11), MV_GC_INDIRECT);
	assert_int_equal(kind_of(&f, 12), MV_GC_REACHABLE);
	assert_int_equal(kind_of(&f, 13), MV_GC_REACHABLE);
	assert_int_equal(kind_of(&f, 14), MV_GC_POSSIBLE);
	/* Block 15 is pointed to only at its header: not a pointer to
	 * it. */
	assert_int_equal(kind_of(&f, 15), MV_GC_DEFINITE);
	assert_true(cyclic(&f, 7) && cyclic(&f, 8) && cyclic(&f, 9));
	assert_false(cyclic(&f, 4) || cyclic(&f, 5) || cyclic(&f, 6));
	assert_int_equal(f.gc.cyclic_sccs, 2);
	assert_int_equal(f.gc.count[MV_GC_DEFINITE], 6);
	assert_int_equal(f.gc.count[MV_GC_INDIRECT], 3);
	assert_int_equal(f.gc.bytes[MV_GC_DEFINITE], 6 * (BLK - 8));
	fake_close(&f);
}

/* memcheck's clique order: a lost block feeding a lost cycle that lies
 * below it keeps the cycle's leader definitely lost. */
static void test_clique_order(void **state)
{
	struct fake f;
	fake_init(&f, 3);
	link_to(&f, 0, 0, mem(1));
	link_to(&f, 1, 0, mem(0));
	link_to(&f, 2, 0, mem(1));
	run(&f, 0);
	assert_int_equal(kind_of(&f, 0), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 1), MV_GC_INDIRECT);
	assert_int_equal(kind_of(&f, 2), MV_GC_DEFINITE);
	fake_close(&f);
	/* Above it instead: the feeder claims the whole cycle. */
	fake_init(&f, 3);
	link_to(&f, 1, 0, mem(2));
	link_to(&f, 2, 0, mem(1));
	link_to(&f, 0, 0, mem(2));
	run(&f, 0);
	assert_int_equal(kind_of(&f, 0), MV_GC_DEFINITE);
	assert_int_equal(kind_of(&f, 1), MV_GC_INDIRECT);
	assert_int_equal(kind_of(&f, 2), MV_GC_INDIRECT);
	fake_close(&f);
}

/* A block first reached by an interior pointer (possibly lost) and
 * then by a start pointer from a reachable block must be scanned again,
 * so that what it points to becomes reachable too: whether the
 * reachable block lies below it in memory (marking meets it in the same
 * pass) or above it (the block is met again behind the pass). */
static void test_rescan(void **state)
{
	static const struct {
		size_t a, b, c; /* a: reached first, b: a's, c: reaches a */
	} order[] = {{1, 5, 3}, {6, 4, 2}, {2, 0, 7}};
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		struct fake f;
		fake_init(&f, 8);
		f.roots[0] = mem(order[k].a) + 8;
		link_to(&f, order[k].a, 0, mem(order[k].b));
		f.roots[1] = mem(order[k].c);
		link_to(&f, order[k].c, 1, mem(order[k].a));
		run(&f, 2);
		assert_int_equal(kind_of(&f, order[k].a), MV_GC_REACHABLE);
		assert_int_equal(kind_of(&f, order[k].b), MV_GC_REACHABLE);
		assert_int_equal(kind_of(&f, order[k].c), MV_GC_REACHABLE);
		assert_int_equal(f.gc.count[MV_GC_REACHABLE], 3);
		assert_int_equal(f.gc.count[MV_GC_DEFINITE], 5);
		fake_close(&f);
	}
}

#define LONG 100000

/* A 100,000-long lost cycle and, from a root, a 100,000-long list: an
 * algorithm that recursed would overflow the stack here. */
static void test_long_cycle(void **state)
{
	struct fake f;
	fake_init(&f, 2 * LONG);
	for (size_t k = 0; k < LONG; k++)
		link_to(&f, k, 0, mem((k + 1) % LONG));
	/* The list runs backwards through memory, for a deep stack. */
	f.roots[0] = mem(2 * LONG - 1);
	for (size_t k = LONG + 1; k < 2 * LONG; k++)
		link_to(&f, k, 1, mem(k - 1));
	run(&f, 1);
	assert_int_equal(f.gc.count[MV_GC_REACHABLE], LONG);
	assert_int_equal(f.gc.count[MV_GC_DEFINITE], 1);
	assert_int_equal(f.gc.count[MV_GC_INDIRECT], LONG - 1);
	assert_int_equal(kind_of(&f, 0), MV_GC_DEFINITE);
	assert_int_equal(f.gc.cyclic_sccs, 1);
	assert_int_equal(f.gc.cyclic_objects, LONG);
	/* One concrete cycle through block 0 has every block in order. */
	uint32_t *cyc = malloc(LONG * sizeof(*cyc));
	size_t len;
	assert_null(mv_scc_cycle(f.gc.nlost, f.gc.lost_off, f.gc.lost_adj,
				 ~MV_GC_INTERIOR, f.gc.scc, 0, cyc, LONG,
				 &len));
	assert_int_equal(len, LONG);
	for (size_t k = 0; k < LONG; k++)
		assert_int_equal(cyc[k], k);
	free(cyc);
	fake_close(&f);
}

/* A corrupt size in the middle of the heap: the model notes it and
 * resumes; gc classifies what it can and points into the corrupt range
 * mark nothing. */
static void test_corrupt(void **state)
{
	struct fake f;
	fake_init(&f, 8);
	put64(f.heap, TCACHE + 3 * BLK + 8, 0x7); /* block 3: size 0 */
	f.roots[0] = mem(0);
	f.roots[1] = mem(3);
	link_to(&f, 0, 0, mem(1));
	run(&f, 2);
	assert_int_equal(kind_of(&f, 0), MV_GC_REACHABLE);
	assert_int_equal(kind_of(&f, 1), MV_GC_REACHABLE);
	const char *const *notes;
	assert_true(mv_heap_notes(f.h, &notes) > 0);
	fake_close(&f);
	/* Garbage everywhere: every word a pointer into the heap. */
	fake_init(&f, 64);
	for (size_t k = 0; k < 64; k++)
		for (size_t w = 0; w < 5; w++)
			link_to(&f, k, w, mem((k * 7 + w * 13) % 64) + w);
	run(&f, 0);
	assert_int_equal(f.gc.count[MV_GC_DEFINITE] +
				 f.gc.count[MV_GC_INDIRECT], 64);
	fake_close(&f);
}

/* The SCC search alone on a small graph with known components. */
static void test_tarjan(void **state)
{
	/* 0->1->2->0, 2->3, 3->4->3, 5 alone, 6->6. */
	uint64_t off[] = {0, 1, 2, 4, 5, 6, 6, 7};
	uint32_t adj[] = {1, 2, 0, 3, 4, 3, 6};
	uint32_t comp[7];
	size_t n;
	assert_null(mv_scc_tarjan(7, off, adj, UINT32_MAX, comp, &n, NULL,
				  NULL));
	assert_int_equal(n, 4);
	assert_int_equal(comp[0], comp[1]);
	assert_int_equal(comp[1], comp[2]);
	assert_int_equal(comp[3], comp[4]);
	assert_int_not_equal(comp[0], comp[3]);
	assert_int_not_equal(comp[5], comp[6]);
	/* Reverse topological: {3,4} comes out before {0,1,2}. */
	assert_true(comp[3] < comp[0]);
}

/* CPython's algorithm over a hand-made struct obj { long refcnt;
 * struct obj *a, *b; char pad[16]; } in 0x30 chunks: the key is written
 * next to each block as it is built. */
static struct mv_type t_long = {.kind = MV_TYPE_INT, .name = "long",
				.size = 8, .is_signed = true,
				.is_complete = true};
static struct mv_type t_obj;
static struct mv_type t_ptr = {.kind = MV_TYPE_POINTER, .size = 8,
			       .is_complete = true, .target_ = &t_obj};
static struct mv_member obj_members[] = {
	{.name = "refcnt", .type = &t_long, .bit_position = 0},
	{.name = "a", .type = &t_ptr, .bit_position = 64},
	{.name = "b", .type = &t_ptr, .bit_position = 128},
};
static struct mv_type t_obj = {.kind = MV_TYPE_STRUCT, .name = "obj",
			       .size = 0x28, .is_complete = true,
			       .nmembers = 3, .members = obj_members};

static const struct mv_rc_obj *rc_obj(struct mv_rc *rc, size_t k)
{
	size_t i = mv_rc_find(rc, mem(k));
	return i == SIZE_MAX ? NULL : &rc->objs[i];
}

static void test_refcount(void **state)
{
	for (int by_size = 0; by_size < 2; by_size++) {
		struct fake f;
		fake_init(&f, 10);
		f.roots[0] = mem(0);
		f.roots[1] = mem(5);
		/* 0: held (root), count 1; a -> 1, b -> 4. */
		link_to(&f, 0, 0, 1);
		link_to(&f, 0, 1, mem(1));
		link_to(&f, 0, 2, mem(4));
		/* 1: reached from 0, count 1. */
		link_to(&f, 1, 0, 1);
		/* 2 <-> 3: a free-standing cycle, count 1 each. */
		link_to(&f, 2, 0, 1);
		link_to(&f, 2, 1, mem(3));
		link_to(&f, 3, 0, 1);
		link_to(&f, 3, 1, mem(2));
		/* 4: count 0 but 0 points at it: released too often. */
		link_to(&f, 4, 0, 0);
		/* 5: count 3, one root: two references leaked. */
		link_to(&f, 5, 0, 3);
		/* 6: not an object (count -5) though 7 points at it; 7 is
		 * pointed at by nothing. */
		link_to(&f, 6, 0, (uint64_t)-5);
		link_to(&f, 7, 0, 1);
		link_to(&f, 7, 1, mem(6));
		/* 8: count 1, nothing points at it: only --by-size sees it,
		 * as held from outside by a reference that is nowhere: a
		 * leaked reference. */
		link_to(&f, 8, 0, 1);
		run(&f, 2);
		struct mv_rc rc;
		struct mv_error *err = mv_rc_run(&rc, &f.gc, &t_obj, "refcnt",
						 by_size);
		if (err)
			fail_msg("refcount: %s", mv_error_message(err));
		assert_int_equal(rc.nptr, 2);
		assert_int_equal(rc.ptr_off[0], 8);
		assert_int_equal(rc.ptr_off[1], 16);
		const struct mv_rc_obj *o;
		/* 0 is found only by size: no typed global points at it. */
		o = rc_obj(&rc, 0);
		if (by_size) {
			assert_non_null(o);
			assert_int_equal(o->state, MV_RC_HELD);
			assert_int_equal(o->mistake, MV_RC_OK);
			assert_int_equal(o->found, 1);
		}
		assert_non_null(o = rc_obj(&rc, 1));
		assert_int_equal(o->state, by_size ? MV_RC_REACHED : MV_RC_HELD);
		assert_int_equal(o->internal, by_size ? 1 : 0);
		for (size_t k = 2; k <= 3; k++) {
			assert_non_null(o = rc_obj(&rc, k));
			assert_int_equal(o->state, MV_RC_COLLECTABLE);
			assert_int_equal(o->gc_refs, 0);
			assert_true(mv_rc_in_cycle(&rc, (size_t)(o - rc.objs)));
		}
		assert_non_null(o = rc_obj(&rc, 4));
		if (by_size) {
			assert_int_equal(o->mistake, MV_RC_OVER_RELEASED);
			assert_int_equal(o->gc_refs, -1);
			assert_int_equal(o->state, MV_RC_REACHED);
		}
		o = rc_obj(&rc, 5);
		assert_true(!by_size ? o == NULL : o->mistake == MV_RC_LEAKED);
		assert_null(rc_obj(&rc, 6));
		assert_true(rc.implausible >= 1);
		o = rc_obj(&rc, 8);
		if (by_size) {
			assert_non_null(o);
			assert_int_equal(o->state, MV_RC_HELD);
			assert_int_equal(o->mistake, MV_RC_LEAKED);
			assert_int_equal(o->found, 0);
			assert_int_equal(rc.cycles, 1);
		} else {
			assert_null(o);
		}
		mv_rc_deinit(&rc);
		fake_close(&f);
	}
}

/* A type without the field, or a field that is no integer. */
static void test_refcount_bad_spec(void **state)
{
	struct fake f;
	fake_init(&f, 2);
	run(&f, 0);
	struct mv_rc rc;
	struct mv_error *err = mv_rc_run(&rc, &f.gc, &t_obj, "nosuch", false);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
	mv_rc_deinit(&rc);
	err = mv_rc_run(&rc, &f.gc, &t_obj, "a", false);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_INVALID);
	mv_error_destroy(err);
	mv_rc_deinit(&rc);
	fake_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_equal_page_gap),
		cmocka_unit_test(test_clique_order),
		cmocka_unit_test(test_rescan),
		cmocka_unit_test(test_long_cycle),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_tarjan),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_refcount_bad_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
