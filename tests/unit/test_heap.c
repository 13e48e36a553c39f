/* test_heap.c - the glibc malloc model.
 *
 * Answer keys: hand-made chunk layouts in buffer targets (what each chunk
 * is, by construction), and the heapfix fixture's own facts: the pointers
 * it holds with malloc_usable_size(), the pointers it freed with the list
 * glibc's rules put them on, and mallinfo2()'s totals. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mv_test.h"

#include "heap_internal.h"
#include "bounds.h"

_Static_assert(sizeof(*((struct mv_heap_index *)0)->meta) == 4,
	       "the chunk index must stay at 4 bytes per chunk");

#define HEAP_AT 0x10000000ull
#define ARENA_AT 0x20000000ull
/* glibc 2.36 x86-64 struct malloc_state, as ptype /o prints it. */
#define MS_FASTBINS 16
#define MS_TOP 96
#define MS_BINS 112
#define MS_NEXT 2160
#define MS_SIZE 2200

/* ------------------------------------------------------------------ */
/* Hand-made heaps                                                     */
/* ------------------------------------------------------------------ */

struct fake {
	uint8_t *heap;
	size_t heap_len;
	uint8_t *arena; /* NULL: no malloc_state */
	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
};

static void put64(uint8_t *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

static void chunk(struct fake *f, size_t off, uint64_t prev_size,
		  uint64_t size_field)
{
	put64(f->heap, off, prev_size);
	put64(f->heap, off + 8, size_field);
}

/* A safe-linked link stored at heap offset off, pointing at target. */
static void safe_link(struct fake *f, size_t off, uint64_t target)
{
	put64(f->heap, off, ((HEAP_AT + off) >> 12) ^ target);
}

static void fake_init(struct fake *f, size_t heap_len, bool with_arena)
{
	memset(f, 0, sizeof(*f));
	f->heap = calloc(1, heap_len);
	f->heap_len = heap_len;
	assert_non_null(f->heap);
	if (with_arena) {
		f->arena = calloc(1, 4096);
		assert_non_null(f->arena);
		/* Every bin empty: its head points at itself. */
		for (int i = 0; i < 127; i++) {
			uint64_t head = ARENA_AT + MS_BINS + 16 * i - 16;
			put64(f->arena, MS_BINS + 16 * i, head);
			put64(f->arena, MS_BINS + 16 * i + 8, head);
		}
		put64(f->arena, MS_NEXT, ARENA_AT);
	}
}

/* Opens the fake heap with an index bound of max_chunks (0: the
 * default). */
static void fake_open_max(struct fake *f, uint64_t max_chunks)
{
	assert_null(mv_target_create_buffer(&f->t));
	assert_null(mv_target_add_buffer(f->t, HEAP_AT, f->heap, f->heap_len,
					 MV_PERM_R | MV_PERM_W));
	if (f->arena)
		assert_null(mv_target_add_buffer(f->t, ARENA_AT, f->arena, 4096,
						 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f->t, &f->p));
	struct mv_heap_options o = {
		.flags = MV_HEAP_IGNORE_SYMBOLS | MV_HEAP_RECORD_BINS,
		.range_start = HEAP_AT,
		.range_end = HEAP_AT + f->heap_len,
		.main_arena = f->arena ? ARENA_AT : 0,
		.max_chunks = max_chunks,
	};
	struct mv_error *err = mv_heap_open_with(f->p, &o, NULL, &f->h);
	if (err)
		fail_msg("mv_heap_open_with: %s", mv_error_message(err));
}

static void fake_open(struct fake *f)
{
	fake_open_max(f, 0);
}

static void fake_close(struct fake *f)
{
	mv_heap_destroy(f->h);
	mv_program_destroy(f->p);
	mv_target_destroy(f->t);
	free(f->heap);
	free(f->arena);
}

static struct mv_chunk chunk_at(struct fake *f, size_t off)
{
	struct mv_chunk c;
	/* By its size field: its first 8 bytes may belong to the chunk
	 * before (see test_prev_size_belongs_to_previous). */
	if (!mv_heap_find_chunk(f->h, HEAP_AT + off + 8, &c))
		fail_msg("no chunk at heap offset 0x%zx", off);
	assert_int_equal(c.start, HEAP_AT + off);
	return c;
}

static bool has_note(struct mv_heap *h, const char *needle)
{
	const char *const *notes;
	size_t n = mv_heap_notes(h, &notes);
	for (size_t i = 0; i < n; i++)
		if (strstr(notes[i], needle))
			return true;
	return false;
}

static void print_notes(struct mv_heap *h)
{
	const char *const *notes;
	size_t n = mv_heap_notes(h, &notes);
	for (size_t i = 0; i < n; i++)
		print_message("note: %s\n", notes[i]);
}

/* tcache block, A in use, B free (boundary tags), C cached in the
 * tcache, D in use, then the top. */
static void build_basic(struct fake *f)
{
	fake_init(f, 0x1000, false);
	chunk(f, 0x000, 0, 0x291);       /* tcache_perthread_struct */
	chunk(f, 0x290, 0, 0x31);        /* A: in use */
	chunk(f, 0x2c0, 0, 0x41);        /* B: free, its successor says so */
	chunk(f, 0x300, 0x40, 0x30);     /* C: PREV_INUSE clear */
	chunk(f, 0x330, 0, 0x21);        /* D */
	chunk(f, 0x350, 0, 0x1000 - 0x350 + 1); /* top */
	/* C is in tcache bin 1 (chunk size 0x30): count 1, entry = mem. */
	uint16_t one = 1;
	memcpy(f->heap + 16 + 2 * 1, &one, 2);
	put64(f->heap, 16 + 128 + 8 * 1, HEAP_AT + 0x300 + 16);
	safe_link(f, 0x310, 0); /* end of list */
}

static void test_basic_layout(void **state)
{
	struct fake f;
	build_basic(&f);
	fake_open(&f);
	print_notes(f.h);
	assert_int_equal(mv_heap_chunk_count(f.h), 6);
	struct mv_chunk c = chunk_at(&f, 0);
	assert_true(c.flags & MV_CHUNK_METADATA);
	c = chunk_at(&f, 0x290);
	assert_int_equal(c.flags, MV_CHUNK_IN_USE);
	assert_int_equal(c.size, 0x30);
	assert_int_equal(c.usable, 0x28);
	assert_int_equal(c.mem, HEAP_AT + 0x2a0);
	c = chunk_at(&f, 0x2c0);
	assert_false(c.flags & MV_CHUNK_IN_USE);
	assert_int_equal(c.usable, 0);
	c = chunk_at(&f, 0x300);
	assert_false(c.flags & MV_CHUNK_IN_USE);
	assert_true(c.flags & MV_CHUNK_FREE_LIST);
	c = chunk_at(&f, 0x330);
	assert_true(c.flags & MV_CHUNK_IN_USE);
	assert_int_equal(c.usable, 0x18);
	c = chunk_at(&f, 0x350);
	assert_true(c.flags & MV_CHUNK_TOP);
	assert_int_equal(c.size, 0x1000 - 0x350);
	/* Interior pointers map to their chunk; the index is ordered. */
	struct mv_chunk in;
	assert_true(mv_heap_find_chunk(f.h, HEAP_AT + 0x2b7, &in));
	assert_int_equal(in.start, HEAP_AT + 0x290);
	assert_int_equal(mv_heap_chunk_index(f.h, HEAP_AT + 0x2bf), 1);
	assert_false(mv_heap_find_chunk(f.h, HEAP_AT - 1, &in));
	assert_false(mv_heap_find_chunk(f.h, HEAP_AT + 0x1000, &in));
	assert_int_equal(mv_heap_chunk_index(f.h, HEAP_AT + 0x1000), SIZE_MAX);
	/* The last 8 usable bytes of A are C's prev_size field: they map to
	 * A, as malloc_usable_size() counts them; B is free, so its
	 * successor's prev_size is the successor's own. */
	assert_true(mv_heap_find_chunk(f.h, HEAP_AT + 0x2c0 + 7, &in));
	assert_int_equal(in.start, HEAP_AT + 0x290);
	assert_true(mv_heap_find_chunk(f.h, HEAP_AT + 0x2c0 + 8, &in));
	assert_int_equal(in.start, HEAP_AT + 0x2c0);
	assert_true(mv_heap_find_chunk(f.h, HEAP_AT + 0x300, &in));
	assert_int_equal(in.start, HEAP_AT + 0x300);
	assert_non_null(strstr(mv_heap_description(f.h), "from the mappings"));
	/* No arena: B is free by its tags, which is not a problem then. */
	const char *const *notes;
	assert_int_equal(mv_heap_notes(f.h, &notes), 0);
	fake_close(&f);
}

static void test_corrupt_small_size(void **state)
{
	struct fake f;
	build_basic(&f);
	chunk(&f, 0x2c0, 0, 0x7); /* B: size 0 with flag bits */
	fake_open(&f);
	print_notes(f.h);
	assert_true(has_note(f.h, "corrupt chunk header at 0x100002c0"));
	assert_true(has_note(f.h, "below the minimum"));
	/* The walk resumes: C, D and the top are still found. */
	struct mv_chunk c = chunk_at(&f, 0x2c0);
	assert_true(c.flags & MV_CHUNK_CORRUPT);
	assert_int_equal(c.usable, 0);
	c = chunk_at(&f, 0x330);
	assert_true(c.flags & MV_CHUNK_IN_USE);
	c = chunk_at(&f, 0x350);
	assert_true(c.flags & MV_CHUNK_TOP);
	fake_close(&f);
}

/* A heap claimed far larger than its memory (a corrupt arena can say
 * 2^50 bytes) with a corrupt header: the resync stops at the first
 * unreadable page instead of probing every 16 bytes of the claim
 * (fuzz_heap's hang).  The alarm fails the test instead of stalling. */
static void test_corrupt_in_huge_claim(void **state)
{
	(void)state;
	struct fake f;
	build_basic(&f);
	chunk(&f, 0x2c0, 0, 0x7); /* B: corrupt; nothing plausible after D */
	chunk(&f, 0x350, 0, 0x5); /* the top too */
	assert_null(mv_target_create_buffer(&f.t));
	assert_null(mv_target_add_buffer(f.t, HEAP_AT, f.heap, f.heap_len,
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f.t, &f.p));
	struct mv_heap_options o = {
		.flags = MV_HEAP_IGNORE_SYMBOLS,
		.range_start = HEAP_AT,
		.range_end = HEAP_AT + (1ull << 44),
	};
	alarm(20);
	struct mv_error *err = mv_heap_open_with(f.p, &o, NULL, &f.h);
	alarm(0);
	if (err)
		fail_msg("mv_heap_open_with: %s", mv_error_message(err));
	print_notes(f.h);
	assert_true(has_note(f.h, "corrupt chunk header at 0x100002c0"));
	struct mv_chunk ch = chunk_at(&f, 0x290);
	assert_true(ch.flags & MV_CHUNK_IN_USE);
	fake_close(&f);
}

static void test_size_past_end(void **state)
{
	struct fake f;
	build_basic(&f);
	chunk(&f, 0x290, 0, 0x100000 | 1); /* A runs past the end */
	fake_open(&f);
	print_notes(f.h);
	assert_true(has_note(f.h, "corrupt chunk header at 0x10000290: size "
				  "0x100001 runs past the heap end"));
	struct mv_chunk c = chunk_at(&f, 0x290);
	assert_true(c.flags & MV_CHUNK_CORRUPT);
	chunk_at(&f, 0x330);
	fake_close(&f);
}

static void test_misaligned_size(void **state)
{
	struct fake f;
	build_basic(&f);
	chunk(&f, 0x330, 0, 0x29); /* D: 0x28 */
	fake_open(&f);
	assert_true(has_note(f.h, "not a multiple of 16"));
	chunk_at(&f, 0x350);
	fake_close(&f);
}

/* heap --bins: the recorded list of kind at index (NULL if none), its
 * chunk offsets in order in offs. */
static const struct mv_heap_bin *bin_of(struct fake *f, enum mv_heap_list l,
					uint32_t index, uint64_t *offs,
					size_t cap)
{
	size_t n;
	const struct mv_heap_bin *b = mv_heap_bins(f->h, &n);
	const uint64_t *c = mv_heap_bin_chunks(f->h);
	for (size_t i = 0; i < n; i++) {
		if (b[i].list != l || b[i].index != index)
			continue;
		for (size_t k = 0; k < b[i].n && k < cap; k++)
			offs[k] = c[b[i].first + k] - HEAP_AT;
		return &b[i];
	}
	return NULL;
}

static void test_tcache_loop(void **state)
{
	struct fake f;
	build_basic(&f);
	/* A and C in tcache bin 1, each pointing at the other. */
	uint16_t two = 2;
	memcpy(f.heap + 16 + 2, &two, 2);
	put64(f.heap, 16 + 128 + 8, HEAP_AT + 0x300 + 16);
	safe_link(&f, 0x310, HEAP_AT + 0x290 + 16);
	safe_link(&f, 0x2a0, HEAP_AT + 0x300 + 16);
	fake_open(&f);
	print_notes(f.h);
	assert_true(has_note(f.h, "already on the tcache list"));
	assert_true(chunk_at(&f, 0x290).flags & MV_CHUNK_FREE_LIST);
	assert_true(chunk_at(&f, 0x300).flags & MV_CHUNK_FREE_LIST);
	/* heap --bins: the list in order, its count, cut at the loop. */
	uint64_t offs[4];
	const struct mv_heap_bin *b = bin_of(&f, MV_LIST_TCACHE, 1, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->n, 2);
	assert_true(b->cut);
	assert_int_equal(offs[0], 0x300);
	assert_int_equal(offs[1], 0x290);
	fake_close(&f);
}

static void test_tcache_outside(void **state)
{
	struct fake f;
	build_basic(&f);
	safe_link(&f, 0x310, 0xdeadbeef0ull);
	put64(f.heap, 16 + 128 + 8 * 5, 0x7777777000ull); /* bin 5 */
	fake_open(&f);
	print_notes(f.h);
	assert_true(has_note(f.h, "0xdeadbeee0 is not a chunk of the heap"));
	assert_true(has_note(f.h, "link 0x7777776ff0 is not a chunk"));
	assert_true(chunk_at(&f, 0x300).flags & MV_CHUNK_FREE_LIST);
	fake_close(&f);
}

/* With a hand-made malloc_state: fastbins and bins are read. */
static void test_arena_lists(void **state)
{
	struct fake f;
	fake_init(&f, 0x1000, true);
	chunk(&f, 0x000, 0, 0x291);
	chunk(&f, 0x290, 0, 0x21);   /* F1: fastbin 0 */
	chunk(&f, 0x2b0, 0, 0x21);   /* F2: fastbin 0 */
	chunk(&f, 0x2d0, 0, 0x91);   /* U: unsorted */
	chunk(&f, 0x360, 0x90, 0x30); /* in use */
	chunk(&f, 0x390, 0, 0x1000 - 0x390 + 1); /* top */
	put64(f.arena, MS_TOP, HEAP_AT + 0x390);
	put64(f.arena, MS_FASTBINS, HEAP_AT + 0x290);
	safe_link(&f, 0x2a0, HEAP_AT + 0x2b0);
	safe_link(&f, 0x2c0, 0);
	uint64_t unsorted = ARENA_AT + MS_BINS - 16;
	put64(f.arena, MS_BINS, HEAP_AT + 0x2d0);
	put64(f.arena, MS_BINS + 8, HEAP_AT + 0x2d0);
	put64(f.heap, 0x2e0, unsorted);
	put64(f.heap, 0x2e8, unsorted);
	/* fastbin 3 points outside the heap. */
	put64(f.arena, MS_FASTBINS + 24, 0xdead0000ull);
	fake_open(&f);
	print_notes(f.h);
	size_t narenas;
	const struct mv_heap_arena *a = mv_heap_arenas(f.h, &narenas);
	assert_int_equal(narenas, 1);
	assert_true(a[0].have_bins);
	assert_int_equal(mv_heap_chunk_count(f.h), 6);
	assert_int_equal(mv_heap_list_at(f.h, 1), MV_LIST_FASTBIN);
	assert_int_equal(mv_heap_list_at(f.h, 2), MV_LIST_FASTBIN);
	assert_int_equal(mv_heap_list_at(f.h, 3), MV_LIST_UNSORTED);
	assert_false(mv_heap_flags_at(f.h, 3) & MV_CHUNK_IN_USE);
	assert_true(mv_heap_flags_at(f.h, 4) & MV_CHUNK_IN_USE);
	assert_true(has_note(f.h, "fastbin 3 of arena 0: link 0xdead0000 is "
				  "not a chunk of the heap"));
	uint64_t offs[4];
	const struct mv_heap_bin *b = bin_of(&f, MV_LIST_FASTBIN, 0, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_false(b->cut);
	assert_int_equal(b->count, -1);
	assert_int_equal(offs[0], 0x290);
	assert_int_equal(offs[1], 0x2b0);
	b = bin_of(&f, MV_LIST_FASTBIN, 3, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->n, 0);
	assert_true(b->cut);
	b = bin_of(&f, MV_LIST_UNSORTED, 1, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_false(b->cut);
	assert_int_equal(offs[0], 0x2d0);
	assert_null(bin_of(&f, MV_LIST_FASTBIN, 1, offs, 4));
	fake_close(&f);
}

static void test_fastbin_loop_and_bin_loop(void **state)
{
	struct fake f;
	fake_init(&f, 0x1000, true);
	chunk(&f, 0x000, 0, 0x291);
	chunk(&f, 0x290, 0, 0x21);
	chunk(&f, 0x2b0, 0, 0x21);
	chunk(&f, 0x2d0, 0, 0x91);
	chunk(&f, 0x360, 0x90, 0x30);
	chunk(&f, 0x390, 0, 0x1000 - 0x390 + 1);
	put64(f.arena, MS_TOP, HEAP_AT + 0x390);
	put64(f.arena, MS_FASTBINS, HEAP_AT + 0x290);
	safe_link(&f, 0x2a0, HEAP_AT + 0x2b0);
	safe_link(&f, 0x2c0, HEAP_AT + 0x290); /* loop */
	/* Unsorted bin whose only chunk points at itself: it never gets
	 * back to the head. */
	put64(f.arena, MS_BINS, HEAP_AT + 0x2d0);
	put64(f.arena, MS_BINS + 8, HEAP_AT + 0x2d0);
	put64(f.heap, 0x2e0, HEAP_AT + 0x2d0);
	put64(f.heap, 0x2e8, HEAP_AT + 0x2d0);
	fake_open(&f);
	print_notes(f.h);
	assert_true(has_note(f.h, "already on the fastbin list"));
	assert_true(has_note(f.h, "already on the unsorted list"));
	/* Both lists are recorded up to the loop, and cut there. */
	uint64_t offs[4];
	const struct mv_heap_bin *b = bin_of(&f, MV_LIST_FASTBIN, 0, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_true(b->cut);
	b = bin_of(&f, MV_LIST_UNSORTED, 1, offs, 4);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_true(b->cut);
	fake_close(&f);
}

/* The heap range runs past what the target holds. */
static void test_unreadable_tail(void **state)
{
	struct fake f;
	build_basic(&f);
	chunk(&f, 0x350, 0, 0x41);
	chunk(&f, 0x390, 0, 0x2000 | 1); /* "top" past the buffer */
	assert_null(mv_target_create_buffer(&f.t));
	assert_null(mv_target_add_buffer(f.t, HEAP_AT, f.heap, f.heap_len,
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f.t, &f.p));
	assert_null(mv_heap_open_range(f.p, HEAP_AT, HEAP_AT + 0x10000, NULL,
				       &f.h));
	print_notes(f.h);
	assert_true(has_note(f.h, "not readable"));
	chunk_at(&f, 0x330);
	fake_close(&f);
}

/* Garbage of every kind: the walk ends, with notes, never a crash. */
static void test_garbage(void **state)
{
	uint64_t seed = 88172645463325252ull;
	for (int round = 0; round < 200; round++) {
		struct fake f;
		fake_init(&f, 0x2000, round % 2);
		for (size_t i = 0; i < f.heap_len; i += 8) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			uint64_t v = seed;
			/* Mostly small values and heap pointers: what makes
			 * a walker go wrong. */
			switch (v % 4) {
			case 0: v = (v >> 8) % 0x400; break;
			case 1: v = HEAP_AT + (v >> 8) % f.heap_len; break;
			case 2: v = ((HEAP_AT + (v >> 8) % f.heap_len) >> 12) ^
				    (HEAP_AT + (v >> 20) % f.heap_len);
				break;
			default: break;
			}
			put64(f.heap, i, v);
		}
		if (round % 3 == 0)
			chunk(&f, 0, 0, 0x291);
		if (f.arena)
			for (int i = 0; i < 10; i++)
				put64(f.arena, MS_FASTBINS + 8 * i,
				      HEAP_AT + 16 * (seed % 0x200));
		fake_open(&f);
		/* Every chunk lies inside the heap and they do not overlap. */
		size_t n = mv_heap_chunk_count(f.h);
		uint64_t at = HEAP_AT;
		for (size_t i = 0; i < n; i++) {
			struct mv_chunk c;
			assert_true(mv_heap_chunk(f.h, i, &c));
			assert_true(c.start >= at);
			at = c.start + c.size;
			assert_true(at <= HEAP_AT + f.heap_len);
		}
		fake_close(&f);
	}
}

static void test_zero_heap(void **state)
{
	struct fake f;
	fake_init(&f, 0x1000, false);
	fake_open(&f);
	assert_true(has_note(f.h, "corrupt chunk header at 0x10000000"));
	assert_int_equal(mv_heap_chunk_count(f.h), 1);
	fake_close(&f);
}

/* A million chunks: the index stays compact and lookups are right. */
/* Progress while indexing: told now and then, counts growing, never past
 * the chunks there are (the heap is built here: n + 2 chunks). */
struct progress_log {
	uint64_t calls, last;
	bool decreased;
};

static void log_progress(void *arg, uint64_t chunks)
{
	struct progress_log *l = arg;
	if (chunks < l->last)
		l->decreased = true;
	l->last = chunks;
	l->calls++;
}

static void test_index_progress(void **state)
{
	(void)state;
	const size_t n = 300000;
	struct fake f;
	fake_init(&f, 0x290 + n * 0x20 + 0x1000, false);
	chunk(&f, 0, 0, 0x291);
	for (size_t i = 0; i < n; i++)
		chunk(&f, 0x290 + i * 0x20, 0, 0x21);
	chunk(&f, 0x290 + n * 0x20, 0, 0x1001);
	assert_null(mv_target_create_buffer(&f.t));
	assert_null(mv_target_add_buffer(f.t, HEAP_AT, f.heap, f.heap_len,
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(f.t, &f.p));
	struct progress_log log = {0};
	struct mv_heap_options o = {
		.flags = MV_HEAP_IGNORE_SYMBOLS,
		.range_start = HEAP_AT,
		.range_end = HEAP_AT + f.heap_len,
		.progress = log_progress,
		.progress_arg = &log,
	};
	struct mv_error *err = mv_heap_open_with(f.p, &o, NULL, &f.h);
	if (err)
		fail_msg("mv_heap_open_with: %s", mv_error_message(err));
	/* Polled every 65536 chunks: 4 times for 300,002. */
	assert_true(log.calls >= n / 65536);
	assert_false(log.decreased);
	assert_true(log.last > 0 && log.last <= n + 2);
	fake_close(&f);
}

static void test_million_chunks(void **state)
{
	const size_t n = 1000000;
	struct fake f;
	fake_init(&f, 0x290 + n * 0x20 + 0x1000, false);
	chunk(&f, 0, 0, 0x291);
	for (size_t i = 0; i < n; i++)
		chunk(&f, 0x290 + i * 0x20, 0, 0x21);
	chunk(&f, 0x290 + n * 0x20, 0, 0x1001);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fake_open(&f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) +
		   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("indexed %zu chunks in %.3f s (%.1f M chunks/s)\n", n + 2,
		      s, (double)(n + 2) / s / 1e6);
	assert_int_equal(mv_heap_chunk_count(f.h), n + 2);
	for (size_t i = 0; i < n; i += 9973) {
		struct mv_chunk c;
		uint64_t at = HEAP_AT + 0x290 + i * 0x20;
		assert_true(mv_heap_find_chunk(f.h, at + 0x1f, &c));
		assert_int_equal(c.start, at);
		assert_int_equal(c.usable, 0x18);
		assert_int_equal(mv_heap_chunk_index(f.h, at + 8), i + 1);
	}
	fake_close(&f);
}

/* The index bound: a heap of n + 2 chunks by construction (the tcache
 * block, n chunks of 0x20, the top). */
static void build_chain(struct fake *f, size_t n)
{
	fake_init(f, 0x290 + n * 0x20 + 0x1000, false);
	chunk(f, 0, 0, 0x291);
	for (size_t i = 0; i < n; i++)
		chunk(f, 0x290 + i * 0x20, 0, 0x21);
	chunk(f, 0x290 + n * 0x20, 0, 0x1001);
}

static void open_max(struct fake *f, uint64_t max_chunks)
{
	fake_open_max(f, max_chunks);
	print_notes(f->h);
}

static void test_index_bound(void **state)
{
	struct fake f;
	/* Stops at 50: the first 50 chunks in address order, no more
	 * memory than they need, and one sentence saying how to lift it;
	 * the missing top is not a problem of the heap then. */
	build_chain(&f, 100);
	open_max(&f, 50);
	assert_int_equal(mv_heap_chunk_count(f.h), 50);
	assert_true(f.h->ix.cap <= 50);
	struct mv_chunk c;
	assert_true(mv_heap_chunk(f.h, 49, &c));
	assert_int_equal(c.start, HEAP_AT + 0x290 + 48 * 0x20);
	assert_false(mv_heap_find_chunk(f.h, HEAP_AT + 0x290 + 49 * 0x20 + 8,
					&c));
	const char *note = mv_heap_limit_note(f.h);
	assert_non_null(note);
	assert_non_null(strstr(note, "stopped at 50 chunks"));
	assert_non_null(strstr(note, "(--max-heap-chunks 50)"));
	assert_non_null(strstr(note, "lift with --max-heap-chunks 0"));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(f.h, &notes), 0);
	fake_close(&f);
	/* Exactly as many chunks as the bound: whole, not partial. */
	build_chain(&f, 100);
	open_max(&f, 102);
	assert_int_equal(mv_heap_chunk_count(f.h), 102);
	assert_null(mv_heap_limit_note(f.h));
	fake_close(&f);
	build_chain(&f, 100);
	open_max(&f, 101);
	assert_int_equal(mv_heap_chunk_count(f.h), 101);
	assert_non_null(mv_heap_limit_note(f.h));
	fake_close(&f);
	/* Lifted, and the default (0 in the options). */
	build_chain(&f, 100);
	open_max(&f, MV_HEAP_NO_LIMIT);
	assert_int_equal(mv_heap_chunk_count(f.h), 102);
	assert_null(mv_heap_limit_note(f.h));
	fake_close(&f);
	build_chain(&f, 100);
	open_max(&f, 0);
	assert_int_equal(f.h->max_chunks, mv_limits_max_heap_chunks());
	assert_int_equal(mv_heap_chunk_count(f.h), 102);
	fake_close(&f);
}

/* tcache bin 0 (chunk 0x20): chunk 3, then chunk 80. */
static void build_chain_tcache(struct fake *f, size_t *c3, size_t *c80)
{
	build_chain(f, 100);
	uint16_t two = 2;
	memcpy(f->heap + 16, &two, 2);
	*c3 = 0x290 + 3 * 0x20;
	*c80 = 0x290 + 80 * 0x20;
	put64(f->heap, 16 + 128, HEAP_AT + *c3 + 16);
	safe_link(f, *c3 + 16, HEAP_AT + *c80 + 16);
	safe_link(f, *c80 + 16, 0);
}

/* A free list that leaves the index is cut there without a note (the
 * bound's sentence covers it); its chunks inside are still marked. */
static void test_index_bound_free_list(void **state)
{
	struct fake f;
	size_t c3, c80;
	const char *const *notes;
	build_chain_tcache(&f, &c3, &c80);
	open_max(&f, 10);
	assert_int_equal(mv_heap_notes(f.h, &notes), 0);
	assert_true(chunk_at(&f, c3).flags & MV_CHUNK_FREE_LIST);
	assert_non_null(mv_heap_limit_note(f.h));
	fake_close(&f);
	/* Lifted: the whole list, and still no problem. */
	build_chain_tcache(&f, &c3, &c80);
	open_max(&f, MV_HEAP_NO_LIMIT);
	assert_int_equal(mv_heap_notes(f.h, &notes), 0);
	assert_true(chunk_at(&f, c3).flags & MV_CHUNK_FREE_LIST);
	assert_true(chunk_at(&f, c80).flags & MV_CHUNK_FREE_LIST);
	assert_null(mv_heap_limit_note(f.h));
	fake_close(&f);
}

/* ------------------------------------------------------------------ */
/* The real core of heapfix                                            */
/* ------------------------------------------------------------------ */

struct facts {
	struct { uint64_t addr, usable; char arena[16]; } live[512];
	size_t nlive;
	struct { uint64_t addr; char list[16]; } freed[512];
	size_t nfreed;
	uint64_t arena, ordblks, smblks, hblks, hblkhd, fsmblks, uordblks,
		 fordblks;
};

static void read_facts(const char *path, struct facts *k)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	memset(k, 0, sizeof(*k));
	char line[256];
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long a, b;
		char word[16];
		if (sscanf(line, "live %llx %llu %15s", &a, &b, word) == 3 &&
		    k->nlive < 512) {
			k->live[k->nlive].addr = a;
			k->live[k->nlive].usable = b;
			strcpy(k->live[k->nlive].arena, word);
			k->nlive++;
		} else if (sscanf(line, "freed %llx %15s", &a, word) == 2 &&
			   k->nfreed < 512) {
			k->freed[k->nfreed].addr = a;
			strcpy(k->freed[k->nfreed].list, word);
			k->nfreed++;
		} else {
#define MI(f) sscanf(line, "mallinfo." #f " %llu", &a) == 1 ? (k->f = a, 1) :
			(void)(MI(arena) MI(ordblks) MI(smblks) MI(hblks)
			       MI(hblkhd) MI(fsmblks) MI(uordblks) MI(fordblks) 0);
#undef MI
		}
	}
	fclose(fp);
}

static void check_heapfix(bool symbols)
{
	const char *core = mv_test_build_file("cores/heapfix.core");
	const char *facts = mv_test_build_file("cores/heapfix.facts");
	if (!core || !facts) {
		print_message("heapfix core not built (make cores): skipped\n");
		skip();
	}
	struct facts *k = malloc(sizeof(*k));
	assert_non_null(k);
	read_facts(facts, k);
	assert_true(k->nlive > 40);
	assert_true(k->nfreed > 10);

	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	assert_null(mv_target_open_core(core, &t));
	assert_null(mv_program_create(t, &p));
	struct mv_error *err = mv_program_load_target_objfiles(p, NULL);
	if (err)
		fail_msg("objfiles: %s", mv_error_message(err));
	struct mv_heap_options o = {
		.flags = symbols ? 0 : MV_HEAP_IGNORE_SYMBOLS,
	};
	err = mv_heap_open_with(p, &o, NULL, &h);
	if (err)
		fail_msg("mv_heap_open: %s", mv_error_message(err));
	print_notes(h);
	const char *desc = mv_heap_description(h);
	if (symbols && !mv_heap_with_symbols(h)) {
		print_message("no glibc debug symbols (libc6-dbg): %s\n", desc);
	} else {
		assert_non_null(strstr(desc, symbols ? "with debug symbols"
						     : "from the mappings"));
	}
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);

	size_t narenas;
	const struct mv_heap_arena *arenas = mv_heap_arenas(h, &narenas);
	/* main, the thread's arena, the mmapped pseudo arena. */
	assert_int_equal(narenas, 3);
	assert_int_equal(arenas[0].kind, MV_ARENA_MAIN);
	assert_true(arenas[0].have_bins && arenas[0].have_tcache);
	assert_int_equal(arenas[1].kind, MV_ARENA_THREAD);
	assert_true(arenas[1].have_bins && arenas[1].have_tcache);

	for (size_t i = 0; i < k->nlive; i++) {
		struct mv_chunk c;
		if (!mv_heap_find_chunk(h, k->live[i].addr, &c))
			fail_msg("live %#llx: no chunk",
				 (unsigned long long)k->live[i].addr);
		assert_int_equal(c.mem, k->live[i].addr);
		assert_true(c.flags & MV_CHUNK_IN_USE);
		assert_false(c.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA));
		assert_int_equal(c.usable, k->live[i].usable);
		/* An interior pointer finds the same chunk. */
		struct mv_chunk in;
		assert_true(mv_heap_find_chunk(h, c.mem + c.usable - 1, &in));
		assert_int_equal(in.start, c.start);
		const char *want = k->live[i].arena;
		if (!strcmp(want, "mmapped")) {
			assert_true(c.flags & MV_CHUNK_MMAPPED);
			assert_int_equal(arenas[c.arena].kind, MV_ARENA_MMAPPED);
		} else {
			assert_false(c.flags & MV_CHUNK_MMAPPED);
			assert_int_equal(arenas[c.arena].kind,
					 !strcmp(want, "main") ? MV_ARENA_MAIN
							       : MV_ARENA_THREAD);
		}
	}
	size_t idx_freed;
	for (idx_freed = 0; idx_freed < k->nfreed; idx_freed++) {
		struct mv_chunk c;
		uint64_t addr = k->freed[idx_freed].addr;
		if (!mv_heap_find_chunk(h, addr, &c))
			fail_msg("freed %#llx: no chunk", (unsigned long long)addr);
		/* A freed block is not in use; it may have been split or
		 * merged, so only tcache and fastbin blocks (which glibc
		 * never touches) must still start where they did. */
		assert_false(c.flags & MV_CHUNK_IN_USE);
		size_t i = mv_heap_chunk_index(h, addr);
		const char *want = k->freed[idx_freed].list;
		enum mv_heap_list list = mv_heap_list_at(h, i);
		if (!strcmp(want, "tcache") || !strcmp(want, "fastbin")) {
			assert_int_equal(c.mem, addr);
			assert_int_equal(list, !strcmp(want, "tcache")
						       ? MV_LIST_TCACHE
						       : MV_LIST_FASTBIN);
		} else {
			assert_true(list == MV_LIST_UNSORTED ||
				    list == MV_LIST_SMALL ||
				    list == MV_LIST_LARGE ||
				    (mv_heap_flags_at(h, i) & MV_CHUNK_TOP));
		}
	}

	/* Totals against mallinfo2().  glibc's accounting (int_mallinfo):
	 *   arena    = sum of system_mem: every byte of every heap, from
	 *              sbrk_base / heap_info to the end of the top chunk;
	 *   fordblks = top + fastbin chunks + chunks in bins 1..127;
	 *   uordblks = arena - fordblks: so it includes chunks parked in a
	 *              tcache (malloc never looks there), the tcache blocks,
	 *              and the bytes before each heap's first chunk
	 *              (heap_info, a thread arena's malloc_state, alignment);
	 *   hblkhd   = mp_.mmapped_mem: mmapped chunks' whole sizes;
	 *   smblks/fsmblks = count/bytes of fastbin chunks;
	 *   ordblks  = chunks in bins + one top per arena.
	 * The FILE of the facts file was freed into a tcache after
	 * mallinfo2() ran: tcache chunks count as used either way. */
	size_t n = mv_heap_chunk_count(h), nsegs;
	const struct mv_heap_segment *segs = mv_heap_segments(h, &nsegs);
	uint64_t heap_bytes = 0, header_bytes = 0, used = 0, freeb = 0;
	uint64_t mm_bytes = 0, mm_count = 0, fast_count = 0, fast_bytes = 0;
	uint64_t binned = 0, tops = 0;
	for (size_t i = 0; i < nsegs; i++) {
		if (arenas[segs[i].arena].kind == MV_ARENA_MMAPPED)
			continue;
		heap_bytes += segs[i].end - segs[i].start;
		header_bytes += segs[i].first_chunk - segs[i].start;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t size = mv_heap_size_at(h, i);
		uint32_t flags = mv_heap_flags_at(h, i);
		enum mv_heap_list list = mv_heap_list_at(h, i);
		assert_false(flags & MV_CHUNK_CORRUPT);
		if (flags & MV_CHUNK_MMAPPED) {
			mm_bytes += size;
			mm_count++;
		} else if (flags & MV_CHUNK_TOP) {
			freeb += size;
			tops++;
		} else if (list == MV_LIST_FASTBIN) {
			freeb += size;
			fast_count++;
			fast_bytes += size;
		} else if (list == MV_LIST_UNSORTED || list == MV_LIST_SMALL ||
			   list == MV_LIST_LARGE) {
			freeb += size;
			binned++;
		} else {
			assert_int_not_equal(list, MV_LIST_UNLISTED);
			used += size; /* in use, metadata, tcache */
		}
	}
	assert_int_equal(heap_bytes, k->arena);
	assert_int_equal(freeb, k->fordblks);
	assert_int_equal(used + header_bytes, k->uordblks);
	assert_int_equal(mm_bytes, k->hblkhd);
	assert_int_equal(mm_count, k->hblks);
	assert_int_equal(fast_count, k->smblks);
	assert_int_equal(fast_bytes, k->fsmblks);
	assert_int_equal(binned + tops, k->ordblks);
	mv_heap_destroy(h);
	mv_program_destroy(p);
	mv_target_destroy(t);
	free(k);
}

/* Reads the file once, so that its pages are in the page cache. */
static void read_through(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	while (fread(buf, 1, sizeof(buf), f) == sizeof(buf))
		;
	fclose(f);
}

/* A million chunks from a real program: counts, usable bytes and
 * glibc's totals (accounting as in check_heapfix); the heap's 53 MB
 * read into memory (the default) or mapped (MEMVIEW_CORE_COPY=never). */
static void check_heapbig(bool copy)
{
	const char *core = mv_test_build_file("cores/heapbig.core");
	const char *facts = mv_test_build_file("cores/heapbig.facts");
	if (!core || !facts) {
		print_message("heapbig core not built (make cores): skipped\n");
		skip();
	}
	struct mv_target *t;
	struct mv_program *p;
	struct mv_heap *h;
	if (!copy)
		setenv("MEMVIEW_CORE_COPY", "never", 1);
	/* The copy is made only from the page cache: put the core there. */
	read_through(core);
	assert_null(mv_target_open_core(core, &t));
	unsetenv("MEMVIEW_CORE_COPY");
	assert_null(mv_program_create(t, &p));
	assert_null(mv_program_load_target_objfiles(p, NULL));
	struct mv_heap_options o = {.flags = MV_HEAP_IGNORE_SYMBOLS};
	assert_null(mv_heap_open_with(p, &o, NULL, &h));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);
	size_t n = mv_heap_chunk_count(h), nsegs;
	const struct mv_heap_segment *segs = mv_heap_segments(h, &nsegs);
	uint64_t live = 0, usable = 0, freeb = 0, heap_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = mv_heap_size_at(h, i);
		uint32_t flags = mv_heap_flags_at(h, i);
		enum mv_heap_list list = mv_heap_list_at(h, i);
		if ((flags & MV_CHUNK_IN_USE) && !(flags & MV_CHUNK_METADATA)) {
			live++;
			usable += mv_heap_usable(size, flags);
		}
		if ((flags & MV_CHUNK_TOP) || list == MV_LIST_FASTBIN ||
		    list == MV_LIST_UNSORTED || list == MV_LIST_SMALL ||
		    list == MV_LIST_LARGE)
			freeb += size;
	}
	for (size_t i = 0; i < nsegs; i++)
		heap_bytes += segs[i].end - segs[i].start;
	assert_int_equal(live, mv_test_fact_u64(facts, "live"));
	assert_int_equal(usable, mv_test_fact_u64(facts, "live.usable"));
	assert_int_equal(heap_bytes, mv_test_fact_u64(facts, "mallinfo.arena"));
	assert_int_equal(freeb, mv_test_fact_u64(facts, "mallinfo.fordblks"));
	assert_int_equal(heap_bytes - freeb, mv_test_fact_u64(facts, "mallinfo.uordblks"));
	if (copy)
		assert_true(t->copied_bytes >= heap_bytes);
	else
		assert_int_equal(t->copied_bytes, 0);
	mv_heap_destroy(h);
	mv_program_destroy(p);
	mv_target_destroy(t);
}

static void test_heapbig(void **state)
{
	check_heapbig(true);
}

static void test_heapbig_mapped(void **state)
{
	check_heapbig(false);
}

static void test_heapfix_symbols(void **state)
{
	check_heapfix(true);
}

static void test_heapfix_mappings(void **state)
{
	check_heapfix(false);
}

/* A chunk stored in order but starting inside the one before (two
 * sources disagreeing) is dropped with a note, also on the short way
 * mv_heap_sort takes when nothing was stored out of order. */
static void test_sort_overlap_in_order(void **state)
{
	(void)state;
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = 100;
	assert_null(mv_heap_add_chunk(h, 0x1000, 0x40, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_add_chunk(h, 0x1040, 0x40, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_sort(h));
	const char *const *notes;
	assert_int_equal(mv_heap_chunk_count(h), 2);
	assert_int_equal(mv_heap_notes(h, &notes), 0);
	/* 0x1060 lies inside 0x1040-0x1080. */
	assert_null(mv_heap_add_chunk(h, 0x1060, 0x20, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_add_chunk(h, 0x1080, 0x20, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_sort(h));
	assert_int_equal(mv_heap_chunk_count(h), 3);
	struct mv_chunk c;
	for (size_t i = 0; i < 3; i++) {
		assert_true(mv_heap_chunk(h, i, &c));
		assert_int_equal(c.start, 0x1000 + 0x40 * i);
	}
	assert_int_equal(mv_heap_notes(h, &notes), 1);
	assert_non_null(strstr(notes[0], "0x1060 overlaps"));
	mv_heap_destroy(h);
}

struct added {
	uint64_t start, size;
	uint32_t arena;
};

static struct mv_heap *bare_heap(void)
{
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = 100;
	return h;
}

static void add_all(struct mv_heap *h, const struct added *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_null(mv_heap_add_chunk(h, a[i].start, a[i].size,
					      MV_CHUNK_IN_USE, MV_LIST_NONE,
					      a[i].arena));
}

/* The chunk holding address among the n chunks of a test's list (its
 * own answer key: glibc's rule that an in-use chunk's user owns the
 * first 8 bytes of the chunk after it), or SIZE_MAX. */
static size_t key_holding(const uint64_t *start, const uint64_t *size,
			  const uint32_t *flags, size_t n, uint64_t address)
{
	for (size_t k = 0; k < n; k++) {
		if (address - start[k] >= size[k])
			continue;
		if (address - start[k] < 8 && k > 0 &&
		    (flags[k - 1] & MV_CHUNK_IN_USE) &&
		    start[k - 1] + size[k - 1] == start[k])
			return k - 1;
		return k;
	}
	return SIZE_MAX;
}

/* The packed index answers as the chunks added: chunks back to back,
 * 8-byte sizes, gaps inside a group and at its first chunk, sizes too
 * large for its word, across several groups; added in address order
 * or in pieces out of it (merged). */
static void check_pack_answers(size_t pieces)
{
	enum { N = 70, PROBES = 6 };
	uint64_t start[N], size[N];
	uint32_t flags[N];
	uint64_t at = 0x10000;
	for (size_t i = 0; i < N; i++) {
		size[i] = i % 7 == 3 ? 0x18 : 0x20 + 0x10 * (i % 5);
		if (i == 10 || i == 33)
			size[i] = (8u << 20) + 0x30; /* past the word's sizes */
		if (i == 5 || i == 16 || i == 17 || i == 20 || i == 48)
			at += 0x100; /* a gap before it */
		start[i] = at;
		flags[i] = i % 9 == 2 ? MV_CHUNK_FREE_LIST : MV_CHUNK_IN_USE;
		at += size[i];
	}
	struct mv_heap *h = bare_heap();
	/* The last piece first, then the others: each in address order. */
	size_t per = (N + pieces - 1) / pieces;
	for (size_t p = pieces; p-- > 0;) {
		size_t from = (p + 1) % pieces * per;
		for (size_t i = from; i < from + per && i < N; i++)
			assert_null(mv_heap_add_chunk(
				h, start[i], size[i] & ~(uint64_t)15,
				flags[i] | (size[i] & 8 ? MV_ENTRY_PLUS8 : 0),
				i % 9 == 2 ? MV_LIST_FASTBIN : MV_LIST_NONE, 0));
	}
	assert_null(mv_heap_sort(h));
	assert_null(mv_heap_trim(h));
	assert_int_equal(mv_heap_chunk_count(h), N);
	for (size_t i = 0; i < N; i++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, i, &c));
		assert_int_equal(c.start, start[i]);
		assert_int_equal(c.mem, start[i] + 16);
		assert_int_equal(c.size, size[i]);
		assert_int_equal(c.usable, flags[i] == MV_CHUNK_IN_USE
						   ? size[i] - 8 : 0);
		assert_int_equal(c.flags, flags[i]);
		assert_int_equal(mv_heap_start_at(h, i), start[i]);
		assert_int_equal(mv_heap_size_at(h, i), size[i]);
		assert_int_equal(mv_heap_list_at(h, i),
				 i % 9 == 2 ? MV_LIST_FASTBIN : MV_LIST_NONE);
		uint64_t st = start[i], z = size[i];
		const uint64_t probe[PROBES] = {st - 1, st, st + 8, st + z / 2,
						st + z - 1, st + z};
		for (size_t k = 0; k < PROBES; k++)
			assert_int_equal(mv_heap_chunk_index(h, probe[k]),
					 key_holding(start, size, flags, N,
						     probe[k]));
		assert_int_equal(mv_heap_entry_at(h, st), i);
		assert_int_equal(mv_heap_entry_at(h, st + 8), SIZE_MAX);
		assert_int_equal(mv_heap_lower_bound(h, st), i);
		assert_int_equal(mv_heap_lower_bound(h, st + 1), i + 1);
	}
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);
	mv_heap_destroy(h);
}

static void test_pack_same_answers(void **state)
{
	(void)state;
	check_pack_answers(1);
	check_pack_answers(3);
	check_pack_answers(70); /* every chunk a run of its own */
}

/* Every chunk indexed has the arena it was added with (the entry keeps
 * none: mv_heap_arena_at finds it in runs of addresses); nkept of
 * them are left. */
static void expect_arenas(struct mv_heap *h, const struct added *a,
			  size_t n, size_t nkept)
{
	assert_int_equal(mv_heap_chunk_count(h), nkept);
	for (size_t k = 0; k < nkept; k++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, k, &c));
		size_t i = 0;
		while (i < n && a[i].start != c.start)
			i++;
		assert_true(i < n);
		assert_int_equal(c.size, a[i].size);
		assert_int_equal(c.arena, a[i].arena);
		assert_int_equal(mv_heap_arena_at(h, c.start, NULL),
				 a[i].arena);
	}
}

/* glibc's order: the main heap, a thread arena's heap, then mmapped
 * chunks on both sides of it (one arena whose chunks are far apart,
 * added in order), then a chunk of the main arena again. */
static void test_arena_runs_interleaved(void **state)
{
	(void)state;
	static const struct added a[] = {
		{0x1000, 0x100, 0}, {0x1100, 0x100, 0},
		{0x5000, 0x100, 2}, {0x5100, 0x200, 2}, {0x5300, 0x100, 2},
		{0x0400, 0x1000 - 0x400, 1}, {0x9000, 0x1000, 1},
		{0x3000, 0x100, 0},
	};
	struct mv_heap *h = bare_heap();
	add_all(h, a, sizeof(a) / sizeof(a[0]));
	assert_null(mv_heap_sort(h));
	expect_arenas(h, a, sizeof(a) / sizeof(a[0]), 8);
	/* Between chunks, and past the last: no arena. */
	assert_int_equal(mv_heap_arena_at(h, 0x7000, NULL), UINT16_MAX);
	assert_int_equal(mv_heap_arena_at(h, 0xa000, NULL), UINT16_MAX);
	mv_heap_destroy(h);
}

/* An overlay takes over a main chunk holding its span and adds its
 * blocks there; a chunk of another arena starting inside one kept is
 * dropped, and the chunks around keep theirs. */
static void test_arena_runs_overlay(void **state)
{
	(void)state;
	static const struct added a[] = {
		{0x10000, 0x100, 0}, {0x10100, 0x4000, 0}, {0x14100, 0x100, 0},
		{0x10200, 0x100, 3}, {0x10300, 0x100, 3}, {0x10400, 0x100, 3},
		{0x20000, 0x200, 0}, {0x20200, 0x100, 0},
		{0x20100, 0x40, 4}, /* inside 0x20000-0x20200 */
	};
	struct mv_heap *h = bare_heap();
	add_all(h, a, 3);
	assert_null(mv_heap_sort(h));
	uint64_t span[2] = {0x10200, 0x10500};
	assert_null(mv_heap_take_spans(h, span, 1, sizeof(span)));
	add_all(h, a + 3, 6);
	assert_null(mv_heap_sort(h));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 1);
	assert_non_null(strstr(notes[0], "0x20100 overlaps"));
	struct added kept[] = {a[0], a[2], a[3], a[4], a[5], a[6], a[7]};
	expect_arenas(h, kept, sizeof(kept) / sizeof(kept[0]), 7);
	mv_heap_destroy(h);
}

/* Chunks added from the last to the first (each a run of its own: more
 * than one merge takes, so the runs are merged in passes), some
 * starting inside another: the index is in address order and those are
 * dropped with a note, the first added kept of two at one address. */
static void test_sort_many_runs(void **state)
{
	(void)state;
	enum { N = 3000, EVERY = 500 };
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = 2 * N;
	size_t nover = 0;
	for (size_t k = N; k-- > 0;) {
		uint64_t at = 0x100000 + 0x20 * (uint64_t)k;
		assert_null(mv_heap_add_chunk(h, at, 0x20, MV_CHUNK_IN_USE,
					      MV_LIST_NONE, 0));
		if (k % EVERY == 0) {
			assert_null(mv_heap_add_chunk(h, at + 0x10, 0x20,
						      MV_CHUNK_IN_USE,
						      MV_LIST_NONE, 0));
			nover++;
		}
	}
	/* Two at one address: the one added first stays. */
	assert_null(mv_heap_add_chunk(h, 0x100000 + 0x20 * 7, 0x40,
				      MV_CHUNK_IN_USE, MV_LIST_NONE, 0));
	nover++;
	assert_null(mv_heap_sort(h));
	assert_int_equal(mv_heap_chunk_count(h), N);
	for (size_t k = 0; k < N; k++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, k, &c));
		assert_int_equal(c.start, 0x100000 + 0x20 * (uint64_t)k);
		assert_int_equal(c.size, 0x20);
	}
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), nover);
	assert_non_null(strstr(notes[0], "chunk at 0x100010 overlaps the "
					 "chunk at 0x100000"));
	assert_non_null(strstr(notes[1], "chunk at 0x1000e0 overlaps the "
					 "chunk at 0x1000e0"));
	mv_heap_destroy(h);
}

/* A garbage allocator state giving one chunk thousands of times (more
 * than a merge takes runs): the first added stays, the sort ends. */
static void test_sort_one_address(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = N;
	assert_null(mv_heap_add_chunk(h, 0x9000, 0x20, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	for (size_t k = 1; k < N; k++)
		assert_null(mv_heap_add_chunk(h, 0x9000, 0x30 + 0x10 * (k % 4),
					      MV_CHUNK_IN_USE, MV_LIST_NONE,
					      0));
	assert_null(mv_heap_sort(h));
	assert_int_equal(mv_heap_chunk_count(h), 1);
	struct mv_chunk c;
	assert_true(mv_heap_chunk(h, 0, &c));
	assert_int_equal(c.start, 0x9000);
	assert_int_equal(c.size, 0x20);
	const char *const *notes;
	assert_true(mv_heap_notes(h, &notes) > 0);
	assert_non_null(strstr(notes[0], "chunk at 0x9000 overlaps the chunk "
					 "at 0x9000"));
	mv_heap_destroy(h);
}

/* An index of mapped memory, given back as a merge reads it: two runs
 * interleaved chunk by chunk (the odd chunks, then the even ones) and
 * a tail added backwards (a run each); every chunk is read back from
 * the merged index at its place, with its size. */
static void test_sort_gives_back(void **state)
{
	(void)state;
	enum { N = 1500000, TAIL = 5000 };
	struct mv_heap *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->max_chunks = N;
	const uint64_t base = 0x10000000;
	for (size_t pass = 1; pass < 3; pass++)
		for (size_t k = pass % 2; k < N - TAIL; k += 2)
			assert_null(mv_heap_add_chunk(
				h, base + 0x40 * (uint64_t)k, 0x20 + 0x10 * (k % 3),
				MV_CHUNK_IN_USE, MV_LIST_NONE, 0));
	for (size_t k = N; k-- > N - TAIL;)
		assert_null(mv_heap_add_chunk(h, base + 0x40 * (uint64_t)k,
					      0x20 + 0x10 * (k % 3),
					      MV_CHUNK_IN_USE, MV_LIST_NONE, 0));
	assert_null(mv_heap_sort(h));
	assert_int_equal(mv_heap_chunk_count(h), N);
	for (size_t k = 0; k < N; k++) {
		struct mv_chunk c;
		assert_true(mv_heap_chunk(h, k, &c));
		if (c.start != base + 0x40 * (uint64_t)k ||
		    c.size != 0x20 + 0x10 * (k % 3))
			fail_msg("chunk %zu: 0x%llx size 0x%llx", k,
				 (unsigned long long)c.start,
				 (unsigned long long)c.size);
	}
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);
	mv_heap_destroy(h);
}

/* tcmalloc's order: its blocks are added first (below the main model's
 * last chunk, and in a main chunk), then the main model's chunks in its
 * spans give way; its own stay. */
static void test_take_spans_after_adding(void **state)
{
	(void)state;
	static const struct added a[] = {
		{0x10000, 0x100, 0}, {0x10100, 0x4000, 0}, {0x14100, 0x100, 0},
		{0x20000, 0x100, 0},
		{0x10200, 0x100, 3}, {0x10300, 0x100, 3}, {0x10400, 0x100, 3},
	};
	struct mv_heap *h = bare_heap();
	add_all(h, a, 4);
	assert_null(mv_heap_sort(h));
	add_all(h, a + 4, 3);
	uint64_t span[2] = {0x10200, 0x10500};
	assert_null(mv_heap_take_spans(h, span, 1, sizeof(span)));
	assert_null(mv_heap_sort(h));
	const char *const *notes;
	assert_int_equal(mv_heap_notes(h, &notes), 0);
	struct added kept[] = {a[0], a[4], a[5], a[6], a[2], a[3]};
	expect_arenas(h, kept, sizeof(kept) / sizeof(kept[0]), 6);
	mv_heap_destroy(h);
}

/* The entry holds 48 bits of address: a chunk above is refused with a
 * note, not indexed at a wrong address. */
static void test_entry_above_48_bits(void **state)
{
	(void)state;
	struct mv_heap *h = bare_heap();
	assert_null(mv_heap_add_chunk(h, 0x1000, 0x20, MV_CHUNK_IN_USE,
				      MV_LIST_NONE, 0));
	assert_null(mv_heap_add_chunk(h, 0x1000000001000ull, 0x20,
				      MV_CHUNK_IN_USE, MV_LIST_NONE, 0));
	assert_null(mv_heap_sort(h));
	const char *const *notes;
	assert_int_equal(mv_heap_chunk_count(h), 1);
	assert_int_equal(mv_heap_notes(h, &notes), 1);
	assert_non_null(strstr(notes[0], "0x1000000001000: above the 48-bit"));
	mv_heap_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_layout),
		cmocka_unit_test(test_corrupt_small_size),
		cmocka_unit_test(test_size_past_end),
		cmocka_unit_test(test_corrupt_in_huge_claim),
		cmocka_unit_test(test_misaligned_size),
		cmocka_unit_test(test_tcache_loop),
		cmocka_unit_test(test_tcache_outside),
		cmocka_unit_test(test_arena_lists),
		cmocka_unit_test(test_fastbin_loop_and_bin_loop),
		cmocka_unit_test(test_unreadable_tail),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_zero_heap),
		cmocka_unit_test(test_million_chunks),
		cmocka_unit_test(test_index_progress),
		cmocka_unit_test(test_index_bound),
		cmocka_unit_test(test_index_bound_free_list),
		cmocka_unit_test(test_heapfix_symbols),
		cmocka_unit_test(test_heapfix_mappings),
		cmocka_unit_test(test_heapbig),
		cmocka_unit_test(test_heapbig_mapped),
		cmocka_unit_test(test_sort_overlap_in_order),
		cmocka_unit_test(test_pack_same_answers),
		cmocka_unit_test(test_arena_runs_interleaved),
		cmocka_unit_test(test_arena_runs_overlay),
		cmocka_unit_test(test_sort_many_runs),
		cmocka_unit_test(test_sort_one_address),
		cmocka_unit_test(test_sort_gives_back),
		cmocka_unit_test(test_take_spans_after_adding),
		cmocka_unit_test(test_entry_above_48_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
