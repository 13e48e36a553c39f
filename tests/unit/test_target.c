/* test_target.c - target memory over buffers, a callback, a real core
 * taken by gdb's gcore, hostile copies of that core, and a live process.
 *
 * Expected values come from the fixture's source (int_array is
 * {10, 20, 30, 40, 50}, ...) and from the facts it writes itself, or from
 * the files on disk; never from memview.  Run from the top of the tree. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mv_test.h"

#include "memview.h"
#include "target.h" /* copied_bytes */

/* Paths even when not built: the tests check with access() and say
 * which file is missing. */
#define CORE_PATH mv_test_build_path("cores/basic.core")
#define FACTS_PATH mv_test_build_path("cores/basic.facts")
#define FIXTURE_PATH mv_test_build_path("fixtures/basic")

static const int int_array_expected[5] = {10, 20, 30, 40, 50};
static const char greeting_expected[] = "hello, memview";

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static bool has_warning(struct mv_target *t, const char *needle)
{
	const char *const *w;
	size_t n = mv_target_warnings(t, &w);
	for (size_t i = 0; i < n; i++)
		if (strstr(w[i], needle))
			return true;
	return false;
}

static void print_warnings(struct mv_target *t)
{
	const char *const *w;
	size_t n = mv_target_warnings(t, &w);
	for (size_t i = 0; i < n; i++)
		print_message("  warning: %s\n", w[i]);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static void *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	if (fstat(fileno(f), &st) < 0) {
		fclose(f);
		return NULL;
	}
	void *data = malloc((size_t)st.st_size + 1);
	if (data && fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*size = (size_t)st.st_size;
	return data;
}

static void spit(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
}

/* Reads every region through the public API: what a hostile core must
 * survive. */
static void touch_everything(struct mv_target *t)
{
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	static uint8_t buf[1 << 16];
	for (size_t i = 0; i < n; i++) {
		uint64_t len = r[i].end - r[i].start;
		if (len > sizeof(buf))
			len = sizeof(buf);
		mv_target_read_partial(t, r[i].start, buf, (size_t)len);
		mv_target_peek(t, r[i].start, 8);
		mv_target_is_mapped(t, r[i].end - 1);
		if (r[i].end - r[i].start > sizeof(buf))
			mv_target_read_partial(t, r[i].end - 100, buf, 200);
	}
	const struct mv_thread *th;
	size_t nt = mv_target_threads(t, &th);
	for (size_t i = 0; i < nt; i++)
		(void)th[i].regs[MV_REG_RSP];
	uint64_t v;
	mv_target_auxv(t, AT_ENTRY, &v);
}

/* The fixture's int_array, read and peeked; returns its address. */
static uint64_t check_int_array(struct mv_target *t, const char *facts)
{
	uint64_t int_array = mv_test_fact_u64(facts, "addr int_array");
	int ints[5];
	assert_null(mv_target_read(t, int_array, ints, sizeof(ints)));
	assert_memory_equal(ints, int_array_expected, sizeof(ints));
	const int *pi = mv_target_peek(t, int_array, sizeof(ints));
	assert_non_null(pi);
	assert_memory_equal(pi, int_array_expected, sizeof(ints));
	return int_array;
}

static struct mv_target *open_core_or_skip(void)
{
	if (access(CORE_PATH, R_OK) != 0) {
		print_message("no %s: run 'make cores' first\n", CORE_PATH);
		skip();
	}
	struct mv_target *t = NULL;
	struct mv_error *err = mv_target_open_core(CORE_PATH, &t);
	if (err)
		fail_msg("open_core: %s", mv_error_message(err));
	return t;
}

/* ------------------------------------------------------------------ */
/* Buffer targets                                                      */
/* ------------------------------------------------------------------ */

static void test_buffer(void **state)
{
	uint8_t a[16], b[16], c[32];
	for (int i = 0; i < 16; i++) {
		a[i] = (uint8_t)i;
		b[i] = (uint8_t)(0x10 + i);
	}
	for (int i = 0; i < 32; i++)
		c[i] = (uint8_t)(0x80 + i);
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	/* Added out of order: regions come back sorted. */
	assert_null(mv_target_add_buffer(t, 0x2000, c, sizeof(c), MV_PERM_R));
	assert_null(mv_target_add_buffer(t, 0x1010, b, sizeof(b),
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_target_add_buffer(t, 0x1000, a, sizeof(a), MV_PERM_R));
	struct mv_error *err = mv_target_add_buffer(t, 0x1008, c, 4, 0);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_INVALID);
	mv_error_destroy(err);

	assert_string_equal(mv_target_kind(t), "buffer");
	assert_null(mv_target_path(t));
	assert_int_equal(mv_target_pid(t), 0);
	const struct mv_region *r;
	assert_int_equal(mv_target_regions(t, &r), 3);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[1].start, 0x1010);
	assert_int_equal(r[2].start, 0x2000);
	assert_int_equal(r[2].end, 0x2020);

	/* Within one buffer, and across two adjacent ones. */
	uint8_t out[32];
	assert_null(mv_target_read(t, 0x1004, out, 4));
	assert_memory_equal(out, a + 4, 4);
	assert_null(mv_target_read(t, 0x1008, out, 16));
	assert_memory_equal(out, a + 8, 8);
	assert_memory_equal(out + 8, b, 8);

	/* Running off the end: the error names the address and the first
	 * unreadable byte. */
	err = mv_target_read(t, 0x1018, out, 16);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_FAULT);
	uint64_t bad;
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, 0x1020);
	assert_non_null(strstr(mv_error_message(err), "16 bytes at 0x1018"));
	mv_error_destroy(err);
	err = mv_target_read(t, 0x1234, out, 8);
	assert_non_null(err);
	assert_string_equal(mv_error_message(err),
			    "cannot read 8 bytes at 0x1234: not mapped");
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, 0x1234);
	mv_error_destroy(err);

	assert_int_equal(mv_target_read_partial(t, 0x1018, out, 16), 8);
	assert_memory_equal(out, b + 8, 8);
	assert_int_equal(mv_target_read_partial(t, 0x3000, out, 16), 0);
	assert_int_equal(mv_target_read_partial(t, 0x1000, out, 0), 0);

	/* Peek points at the caller's own bytes: zero copy. */
	assert_ptr_equal(mv_target_peek(t, 0x2004, 8), c + 4);
	assert_ptr_equal(mv_target_peek(t, 0x1000, 16), a);
	assert_null(mv_target_peek(t, 0x1008, 16)); /* two buffers */
	assert_null(mv_target_peek(t, 0x201c, 8));  /* runs off the end */
	assert_null(mv_target_peek(t, 0x5000, 1));

	assert_true(mv_target_is_mapped(t, 0x1000));
	assert_true(mv_target_is_mapped(t, 0x201f));
	assert_false(mv_target_is_mapped(t, 0x2020));
	assert_false(mv_target_is_mapped(t, 0xfff));
	assert_ptr_equal(mv_target_find_region(t, 0x1015), &r[1]);
	assert_null(mv_target_find_region(t, 0x1fff));

	/* Addresses wrapping past the top of the address space. */
	err = mv_target_read(t, UINT64_MAX - 3, out, 8);
	assert_non_null(err);
	mv_error_destroy(err);
	err = mv_target_add_buffer(t, UINT64_MAX - 3, c, 8, MV_PERM_R);
	assert_non_null(err);
	mv_error_destroy(err);

	const struct mv_thread *th;
	assert_int_equal(mv_target_threads(t, &th), 0);
	uint64_t v;
	assert_false(mv_target_auxv(t, AT_ENTRY, &v));
	const char *const *w;
	assert_int_equal(mv_target_warnings(t, &w), 0);
	mv_target_invalidate(t);
	assert_null(mv_target_read(t, 0x2000, out, 32));
	assert_memory_equal(out, c, 32);
	mv_target_destroy(t);
}

/* ------------------------------------------------------------------ */
/* Callback targets                                                    */
/* ------------------------------------------------------------------ */

#define CB_BASE 0x40000000u
#define CB_PAGES 32
#define CB_HOLE 20 /* this page cannot be read */

struct cb_memory {
	uint8_t bytes[CB_PAGES * 4096];
	unsigned calls;
};

static int cb_read(void *arg, uint64_t address, void *buf, size_t len)
{
	struct cb_memory *m = arg;
	m->calls++;
	if (address < CB_BASE || len > sizeof(m->bytes) ||
	    address - CB_BASE > sizeof(m->bytes) - len)
		return 0;
	uint64_t off = address - CB_BASE;
	uint64_t hole = (uint64_t)CB_HOLE * 4096;
	if (off < hole + 4096 && off + len > hole)
		return 0;
	memcpy(buf, m->bytes + off, len);
	return 1;
}

/* Threads given by a front end: a tid given again has its registers
 * replaced (or dropped), in sorted and in unsorted arrays alike. */
static void test_add_thread(void **state)
{
	(void)state;
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	uint64_t regs[MV_NREGS] = {0};
	const int32_t tids[] = {10, 20, 30, 5, 25};
	for (size_t i = 0; i < 5; i++) {
		regs[MV_REG_R12] = (uint64_t)tids[i];
		assert_null(mv_target_add_thread(t, tids[i],
						 i % 2 ? NULL : regs));
	}
	const struct mv_thread *th;
	assert_int_equal(mv_target_threads(t, &th), 5);
	for (size_t i = 0; i < 5; i++) {
		regs[MV_REG_R12] = 1000 + (uint64_t)tids[i];
		assert_null(mv_target_add_thread(t, tids[i], regs));
	}
	assert_null(mv_target_add_thread(t, 30, NULL));
	assert_int_equal(mv_target_threads(t, &th), 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(th[i].tid, tids[i]); /* order kept */
		if (tids[i] == 30) {
			assert_false(th[i].has_regs);
			continue;
		}
		assert_true(th[i].has_regs);
		assert_true(th[i].regs[MV_REG_R12] == 1000 + (uint64_t)tids[i]);
	}
	mv_target_destroy(t);
}

static void test_callback(void **state)
{
	static struct cb_memory m;
	for (size_t i = 0; i < sizeof(m.bytes); i++)
		m.bytes[i] = (uint8_t)(i * 13 + 1);
	struct mv_target *t;
	assert_null(mv_target_create_callback(cb_read, &m, &t));
	assert_string_equal(mv_target_kind(t), "callback");

	uint8_t out[CB_PAGES * 4096];
	assert_null(mv_target_read(t, CB_BASE + 100, out, 8));
	assert_memory_equal(out, m.bytes + 100, 8);
	/* A second read of the same page comes from the cache. */
	unsigned calls = m.calls;
	assert_null(mv_target_read(t, CB_BASE + 200, out, 8));
	assert_int_equal(m.calls, calls);
	const uint8_t *p = mv_target_peek(t, CB_BASE + 300, 16);
	assert_non_null(p);
	assert_memory_equal(p, m.bytes + 300, 16);
	/* Across pages too (assembled, but still one pointer). */
	p = mv_target_peek(t, CB_BASE + 4000, 200);
	assert_non_null(p);
	assert_memory_equal(p, m.bytes + 4000, 200);

	/* The readable prefix, found page by page: small and large reads. */
	uint64_t hole = CB_BASE + (uint64_t)CB_HOLE * 4096;
	assert_int_equal(mv_target_read_partial(t, hole - 4096 - 10, out, 8192),
			 4096 + 10);
	assert_memory_equal(out, m.bytes + (hole - CB_BASE) - 4096 - 10,
			    4096 + 10);
	assert_int_equal(mv_target_read_partial(t, CB_BASE + 8, out,
						sizeof(out) - 8),
			 hole - CB_BASE - 8);
	assert_memory_equal(out, m.bytes + 8, hole - CB_BASE - 8);
	assert_int_equal(mv_target_read_partial(t, hole + 5, out, 4), 0);
	assert_null(mv_target_peek(t, hole - 8, 16));

	struct mv_error *err = mv_target_read(t, hole - 4, out, 8);
	assert_non_null(err);
	uint64_t bad;
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, hole);
	mv_error_destroy(err);

	/* Past the hole memory is readable again. */
	assert_null(mv_target_read(t, hole + 4096, out, 64));
	assert_memory_equal(out, m.bytes + (hole - CB_BASE) + 4096, 64);

	/* Without declared regions, everything may be readable. */
	assert_true(mv_target_is_mapped(t, 0x1234));
	assert_null(mv_target_find_region(t, CB_BASE));

	/* Cached pages survive until invalidate. */
	m.bytes[100] ^= 0xff;
	assert_null(mv_target_read(t, CB_BASE + 100, out, 1));
	assert_int_equal(out[0], (uint8_t)(m.bytes[100] ^ 0xff));
	mv_target_invalidate(t);
	assert_null(mv_target_read(t, CB_BASE + 100, out, 1));
	assert_int_equal(out[0], m.bytes[100]);

	/* Declared regions answer is_mapped and find_region, and reads
	 * outside them fail without asking the debugger. */
	assert_null(mv_target_add_buffer(t, CB_BASE, NULL, 8192, MV_PERM_R));
	assert_true(mv_target_is_mapped(t, CB_BASE + 10));
	assert_false(mv_target_is_mapped(t, 0x1234));
	assert_non_null(mv_target_find_region(t, CB_BASE + 10));
	assert_null(mv_target_read(t, CB_BASE + 4090, out, 12));
	assert_memory_equal(out, m.bytes + 4090, 12);
	calls = m.calls;
	err = mv_target_read(t, CB_BASE + 8190, out, 4);
	assert_non_null(err);
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, CB_BASE + 8192);
	mv_error_destroy(err);
	assert_int_equal(m.calls, calls);
	mv_target_destroy(t);
}

/* The block cache: a walk reading a word at a time costs one debugger
 * read per 64 KiB block; a block that fails as a whole (an unreadable
 * page in it) still gives every readable byte, page by page. */
static void test_callback_blocks(void **state)
{
	static struct cb_memory m;
	for (size_t i = 0; i < sizeof(m.bytes); i++)
		m.bytes[i] = (uint8_t)(i * 7 + 5);
	m.calls = 0;
	struct mv_target *t;
	assert_null(mv_target_create_callback(cb_read, &m, &t));
	uint64_t v;
	/* Block 0 (pages 0-15) is readable: one read for all of it. */
	for (size_t off = 0; off < 16 * 4096; off += 8) {
		assert_null(mv_target_read(t, CB_BASE + off, &v, 8));
		assert_memory_equal(&v, m.bytes + off, 8);
	}
	assert_int_equal(m.calls, 1);
	/* Block 1 holds the hole (page 20): the block read fails, then
	 * each page needed is read alone, the hole once (and its end
	 * bytes, which say that no byte of it can be read). */
	unsigned calls = m.calls;
	size_t readable = 0;
	for (size_t off = 16 * 4096; off < 32 * 4096; off += 8) {
		size_t n = mv_target_read_partial(t, CB_BASE + off, &v, 8);
		if (off / 4096 == CB_HOLE) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, 8);
		assert_memory_equal(&v, m.bytes + off, 8);
		readable++;
	}
	assert_int_equal(readable, 15 * 4096 / 8);
	assert_int_equal(m.calls - calls, 1 + 16 + 2);
	/* Up to the hole, across the block boundary, in one read. */
	uint8_t out[8192];
	uint64_t hole = CB_BASE + (uint64_t)CB_HOLE * 4096;
	assert_int_equal(mv_target_read_partial(t, hole - 8192 + 3, out,
						sizeof(out)),
			 8192 - 3);
	assert_memory_equal(out, m.bytes + (hole - CB_BASE) - 8192 + 3,
			    8192 - 3);
	assert_int_equal(mv_target_read_calls(t), m.calls);
	mv_target_destroy(t);
}

/* Regions declared with paths and perms, as a remote debugger lists
 * them: they are the target's regions, and unreadable ones are never
 * asked for. */
static void test_callback_regions(void **state)
{
	static struct cb_memory m;
	m.calls = 0;
	struct mv_target *t;
	assert_null(mv_target_create_callback(cb_read, &m, &t));
	struct mv_region heap = {
		.start = CB_BASE + 4096, .end = CB_BASE + 3 * 4096,
		.perms = MV_PERM_R | MV_PERM_W | MV_PERM_P, .path = "[heap]",
	};
	struct mv_region guard = {
		.start = CB_BASE, .end = CB_BASE + 4096, .perms = MV_PERM_P,
	};
	assert_null(mv_target_add_region(t, &heap));
	assert_null(mv_target_add_region(t, &guard));
	struct mv_region overlap = heap;
	overlap.start += 4096;
	overlap.end += 4096;
	struct mv_error *err = mv_target_add_region(t, &overlap);
	assert_non_null(err);
	mv_error_destroy(err);
	const struct mv_region *r;
	assert_int_equal(mv_target_regions(t, &r), 2);
	assert_int_equal(r[0].start, CB_BASE);
	assert_null(r[0].path);
	assert_string_equal(r[1].path, "[heap]");
	assert_int_equal(r[1].perms, heap.perms);
	assert_false(mv_target_is_mapped(t, CB_BASE + 8));
	assert_true(mv_target_is_mapped(t, CB_BASE + 4096));
	assert_false(mv_target_is_mapped(t, CB_BASE + 3 * 4096));
	uint8_t out[2 * 4096];
	/* Only the heap's two pages are read, in one call. */
	assert_int_equal(mv_target_read_partial(t, CB_BASE, out, 8), 0);
	assert_int_equal(mv_target_read_partial(t, CB_BASE + 4096, out,
						sizeof(out) + 8),
			 sizeof(out));
	assert_memory_equal(out, m.bytes + 4096, sizeof(out));
	assert_int_equal(m.calls, 1);
	/* A region across a block boundary: one read in each block. */
	struct mv_region across = {
		.start = CB_BASE + 3 * 4096, .end = CB_BASE + 20 * 4096,
		.perms = MV_PERM_R,
	};
	assert_null(mv_target_add_region(t, &across));
	uint64_t v;
	assert_null(mv_target_read(t, CB_BASE + 16 * 4096 - 4, &v, 8));
	assert_memory_equal(&v, m.bytes + 16 * 4096 - 4, 8);
	assert_int_equal(m.calls, 1 + 3);
	mv_target_destroy(t);
	/* Other targets have their regions already. */
	assert_null(mv_target_create_buffer(&t));
	err = mv_target_add_region(t, &heap);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_UNSUPPORTED);
	mv_error_destroy(err);
	mv_target_destroy(t);
}

/* A debugger that can read single bytes but fails whole-page reads at
 * the page holding the tail of a mapping still gives the exact bytes. */
static int cb_bytes_only(void *arg, uint64_t address, void *buf, size_t len)
{
	const uint8_t *mem = arg;
	if (address < 0x1000 || address + len > 0x1000 + 100)
		return 0;
	memcpy(buf, mem + (address - 0x1000), len);
	return 1;
}

static void test_callback_unaligned_end(void **state)
{
	uint8_t mem[100];
	for (int i = 0; i < 100; i++)
		mem[i] = (uint8_t)i;
	struct mv_target *t;
	assert_null(mv_target_create_callback(cb_bytes_only, mem, &t));
	uint8_t out[8];
	assert_null(mv_target_read(t, 0x1000 + 90, out, 8));
	assert_memory_equal(out, mem + 90, 8);
	struct mv_error *err = mv_target_read(t, 0x1000 + 96, out, 8);
	assert_non_null(err);
	mv_error_destroy(err);
	mv_target_destroy(t);
}

/* ------------------------------------------------------------------ */
/* Core files                                                          */
/* ------------------------------------------------------------------ */

static void test_core_globals(void **state)
{
	struct mv_target *t = open_core_or_skip();
	print_warnings(t);
	assert_string_equal(mv_target_kind(t), "core");
	assert_string_equal(mv_target_path(t), CORE_PATH);
	assert_int_equal(mv_target_pid(t), mv_test_fact_u64(FACTS_PATH, "pid"));

	uint64_t int_array = check_int_array(t, FACTS_PATH);
	int ints[5];

	char greeting[16];
	assert_null(mv_target_read(t, mv_test_fact_u64(FACTS_PATH, "addr greeting"),
				   greeting, sizeof(greeting)));
	assert_string_equal(greeting, greeting_expected);

	uint8_t bytes[64];
	assert_null(mv_target_read(t, mv_test_fact_u64(FACTS_PATH,
						"addr bytes_global"),
				   bytes, sizeof(bytes)));
	for (int i = 0; i < 64; i++)
		assert_int_equal(bytes[i], (uint8_t)(i * 7 + 3));

	/* The list the fixture built on the heap: head->value is a fact,
	 * and head->next is too. */
	uint64_t head = mv_test_fact_u64(FACTS_PATH, "value list_head");
	uint64_t off_value = mv_test_fact_u64(FACTS_PATH, "offsetof struct node.value");
	uint64_t off_next = mv_test_fact_u64(FACTS_PATH, "offsetof struct node.next");
	int value;
	uint64_t next;
	assert_null(mv_target_read(t, head + off_value, &value, sizeof(value)));
	assert_int_equal(value, mv_test_fact_u64(FACTS_PATH, "value list_head->value"));
	assert_null(mv_target_read(t, head + off_next, &next, sizeof(next)));
	assert_int_equal(next, mv_test_fact_u64(FACTS_PATH, "value list_head->next"));

	/* Regions: sorted, not overlapping; the globals' one is the
	 * executable's, named by NT_FILE. */
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	assert_true(n > 5);
	for (size_t i = 1; i < n; i++)
		assert_true(r[i - 1].end <= r[i].start);
	const struct mv_region *g = mv_target_find_region(t, int_array);
	assert_non_null(g);
	assert_non_null(g->path);
	assert_true(ends_with(g->path, "/fixtures/basic"));
	assert_true(g->perms & MV_PERM_W);
	assert_true(g->dumped > 0);
	assert_true(mv_target_is_mapped(t, int_array));
	assert_false(mv_target_is_mapped(t, 0x1000));

	/* Threads: the one that stopped in mv_fixture_stop, with registers
	 * whose stack pointer is in the stack and whose pc is in the
	 * executable's code. */
	const struct mv_thread *th;
	assert_true(mv_target_threads(t, &th) >= 1);
	assert_true(th[0].has_regs);
	assert_int_equal(th[0].tid, mv_test_fact_u64(FACTS_PATH, "pid"));
	assert_non_null(mv_target_find_region(t, th[0].regs[MV_REG_RSP]));
	const struct mv_region *code =
		mv_target_find_region(t, th[0].regs[MV_REG_RIP]);
	assert_non_null(code);
	assert_true(code->perms & MV_PERM_X);
	assert_non_null(code->path);
	assert_true(ends_with(code->path, "/fixtures/basic"));
	uint64_t rsp_word;
	assert_null(mv_target_read(t, th[0].regs[MV_REG_RSP], &rsp_word, 8));

	/* The auxiliary vector: the entry point is in the executable. */
	uint64_t entry;
	assert_true(mv_target_auxv(t, AT_ENTRY, &entry));
	const struct mv_region *er = mv_target_find_region(t, entry);
	assert_non_null(er);
	assert_true(ends_with(er->path, "/fixtures/basic"));
	uint64_t pagesz;
	assert_true(mv_target_auxv(t, AT_PAGESZ, &pagesz));
	assert_int_equal(pagesz, (uint64_t)sysconf(_SC_PAGESIZE));

	struct mv_error *err = mv_target_read(t, 0x1234, ints, 8);
	assert_non_null(err);
	assert_string_equal(mv_error_message(err),
			    "cannot read 8 bytes at 0x1234: not mapped in core");
	mv_error_destroy(err);
	mv_target_destroy(t);
}

/* Read-only file-backed pages that gcore left out of the dump are read
 * from the file NT_FILE names, at the offset it gives. */
static void test_core_file_backed(void **state)
{
	struct mv_target *t = open_core_or_skip();
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	const struct mv_region *lib = NULL;
	for (size_t i = 0; i < n && !lib; i++)
		if (r[i].path && strstr(r[i].path, "/libc.so") &&
		    !(r[i].perms & MV_PERM_W) &&
		    r[i].end - r[i].start > r[i].dumped)
			lib = &r[i];
	if (!lib) {
		print_message("every libc page is in this core; "
			      "checking a dumped one instead\n");
		for (size_t i = 0; i < n && !lib; i++)
			if (r[i].path && strstr(r[i].path, "/libc.so") &&
			    !(r[i].perms & MV_PERM_W))
				lib = &r[i];
	}
	assert_non_null(lib);
	uint64_t at = lib->start + (lib->dumped < lib->end - lib->start
					    ? lib->dumped : 0);
	at = (at + 4095) & ~(uint64_t)4095;
	if (at + 4096 > lib->end)
		at = lib->start;
	uint8_t mem[4096], disk[4096];
	assert_null(mv_target_read(t, at, mem, sizeof(mem)));
	FILE *f = fopen(lib->path, "rb");
	assert_non_null(f);
	assert_int_equal(fseeko(f, (off_t)(lib->offset + (at - lib->start)),
				SEEK_SET), 0);
	assert_int_equal(fread(disk, 1, sizeof(disk), f), sizeof(disk));
	fclose(f);
	assert_memory_equal(mem, disk, sizeof(mem));
	const uint8_t *p = mv_target_peek(t, at, sizeof(mem));
	assert_non_null(p);
	assert_memory_equal(p, disk, sizeof(disk));
	assert_true(mv_target_is_mapped(t, at));
	mv_target_destroy(t);
}

/* ------------------------------------------------------------------ */
/* Hostile cores                                                       */
/* ------------------------------------------------------------------ */

static char tmpdir[] = "/tmp/mv-test-target-XXXXXX";
static bool have_tmpdir;

static const char *tmp_path(const char *name)
{
	static char path[256];
	if (!have_tmpdir) {
		assert_non_null(mkdtemp(tmpdir));
		have_tmpdir = true;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Opens data written to a file; returns the target or NULL, and the
 * error message in msg. */
static struct mv_target *open_bytes(const void *data, size_t size,
				    char *msg, size_t msg_size)
{
	const char *path = tmp_path("hostile.core");
	spit(path, data, size);
	struct mv_target *t = NULL;
	struct mv_error *err = mv_target_open_core(path, &t);
	msg[0] = '\0';
	if (err) {
		snprintf(msg, msg_size, "%s", mv_error_message(err));
		mv_error_destroy(err);
		assert_null(t);
		return NULL;
	}
	touch_everything(t);
	return t;
}

static void expect_error(const void *data, size_t size, const char *needle)
{
	char msg[512];
	struct mv_target *t = open_bytes(data, size, msg, sizeof(msg));
	if (t)
		fail_msg("opened, expected an error with '%s'", needle);
	if (!strstr(msg, needle))
		fail_msg("error '%s' lacks '%s'", msg, needle);
	/* One line naming the file. */
	assert_null(strchr(msg, '\n'));
	assert_non_null(strstr(msg, "hostile.core"));
}

static void test_core_not_core(void **state)
{
	expect_error("", 0, "not an ELF file");
	expect_error("hello, world\n", 13, "not an ELF file");
	uint8_t h32[52] = {0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2LSB, 1};
	expect_error(h32, sizeof(h32), "32-bit ELF is not supported");
	uint8_t h[64] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2MSB, 1};
	expect_error(h, sizeof(h), "big-endian");
	expect_error(h, 10, "truncated ELF header");

	Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_X86_64};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	expect_error(&eh, sizeof(eh), "not a core file (ET_EXEC)");
	eh.e_type = ET_CORE;
	eh.e_machine = EM_AARCH64;
	expect_error(&eh, sizeof(eh), "not an x86-64 core");

	/* The fixture itself is an executable, not a core. */
	struct mv_target *t;
	struct mv_error *err = mv_target_open_core(FIXTURE_PATH, &t);
	if (access(FIXTURE_PATH, R_OK) == 0) {
		assert_non_null(err);
		assert_non_null(strstr(mv_error_message(err),
				       "not a core file (ET_DYN)"));
	}
	mv_error_destroy(err);
	err = mv_target_open_core("/nonexistent/core", &t);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "No such file"));
	mv_error_destroy(err);
	err = mv_target_open_core("/tmp", &t);
	assert_non_null(err);
	mv_error_destroy(err);

	/* A valid header and nothing else: opens, with warnings. */
	char msg[512];
	eh.e_machine = EM_X86_64;
	t = open_bytes(&eh, sizeof(eh), msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "NT_PRSTATUS"));
	assert_true(has_warning(t, "NT_FILE"));
	const struct mv_region *r;
	assert_int_equal(mv_target_regions(t, &r), 0);
	mv_target_destroy(t);
}

/* The layout of the real core, parsed here with <elf.h> so that the
 * test does not trust the code it tests. */
struct core_layout {
	uint8_t *data;
	size_t size;
	Elf64_Ehdr eh;
	uint64_t note_offset, note_size;
	uint64_t int_array, int_array_offset; /* file offset of int_array */
};

static bool load_layout(struct core_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->data = slurp(CORE_PATH, &l->size);
	if (!l->data)
		return false;
	memcpy(&l->eh, l->data, sizeof(l->eh));
	l->int_array = mv_test_fact_u64(FACTS_PATH, "addr int_array");
	for (unsigned i = 0; i < l->eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, l->data + l->eh.e_phoff + i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type == PT_NOTE && !l->note_offset) {
			l->note_offset = ph.p_offset;
			l->note_size = ph.p_filesz;
		}
		if (ph.p_type == PT_LOAD && ph.p_vaddr <= l->int_array &&
		    l->int_array - ph.p_vaddr < ph.p_filesz)
			l->int_array_offset =
				ph.p_offset + (l->int_array - ph.p_vaddr);
	}
	return l->note_offset && l->int_array_offset;
}

static void test_core_truncated(void **state)
{
	struct core_layout l;
	if (access(CORE_PATH, R_OK) != 0)
		skip();
	assert_true(load_layout(&l));
	char msg[512];
	struct mv_target *t;

	/* Inside the ELF header. */
	expect_error(l.data, 40, "truncated ELF header");

	/* Inside the program headers: opens with the segments whose
	 * headers are there, all of them unreadable. */
	t = open_bytes(l.data, l.eh.e_phoff + 3 * sizeof(Elf64_Phdr) + 20,
		       msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "core truncated"));
	uint8_t b[8];
	assert_int_equal(mv_target_read_partial(t, l.int_array, b, 8), 0);
	mv_target_destroy(t);

	/* Inside the notes: threads may be gone, never a crash. */
	t = open_bytes(l.data, l.note_offset + l.note_size / 3, msg,
		       sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "core truncated"));
	mv_target_destroy(t);

	/* Inside the segment holding int_array, two ints in. */
	size_t cut = l.int_array_offset + 2 * sizeof(int);
	t = open_bytes(l.data, cut, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "core truncated: "));
	if (cut <= l.note_offset) {
		/* Notes come after the segments in gdb's cores. */
		assert_true(has_warning(t, "NT_PRSTATUS"));
	}
	int ints[5];
	assert_null(mv_target_read(t, l.int_array, ints, 2 * sizeof(int)));
	assert_memory_equal(ints, int_array_expected, 2 * sizeof(int));
	assert_int_equal(mv_target_read_partial(t, l.int_array, ints,
						sizeof(ints)),
			 2 * sizeof(int));
	struct mv_error *err = mv_target_read(t, l.int_array, ints,
					      sizeof(ints));
	assert_non_null(err);
	uint64_t bad;
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, l.int_array + 2 * sizeof(int));
	assert_non_null(strstr(mv_error_message(err), "truncated"));
	mv_error_destroy(err);
	assert_null(mv_target_peek(t, l.int_array, sizeof(ints)));
	assert_non_null(mv_target_peek(t, l.int_array, 2 * sizeof(int)));
	mv_target_destroy(t);

	/* Every cut point in the headers and notes, and a sweep over the
	 * rest of the file. */
	for (size_t size = 0; size < l.size; ) {
		t = open_bytes(l.data, size, msg, sizeof(msg));
		if (t)
			mv_target_destroy(t);
		else
			assert_true(msg[0] != '\0');
		if (size < l.eh.e_phoff + l.eh.e_phnum * sizeof(Elf64_Phdr) ||
		    (size >= l.note_offset &&
		     size < l.note_offset + l.note_size))
			size += 7;
		else
			size += 4093;
	}
	free(l.data);
}

/* Every region of a and b reads the same bytes, as far as either can. */
static void assert_same_memory(struct mv_target *a, struct mv_target *b)
{
	const struct mv_region *ra, *rb;
	size_t n = mv_target_regions(a, &ra);
	assert_int_equal(mv_target_regions(b, &rb), n);
	static uint8_t ba[1 << 16], bb[1 << 16];
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ra[i].start, rb[i].start);
		assert_int_equal(ra[i].end, rb[i].end);
		for (uint64_t at = ra[i].start; at < ra[i].end;
		     at += sizeof(ba)) {
			size_t want = ra[i].end - at < sizeof(ba)
					      ? (size_t)(ra[i].end - at)
					      : sizeof(ba);
			size_t ga = mv_target_read_partial(a, at, ba, want);
			assert_int_equal(mv_target_read_partial(b, at, bb,
								want),
					 ga);
			assert_memory_equal(ba, bb, ga);
			if (ga < want)
				break;
		}
	}
}

/* Advice that every region will be read whole, as heap walks give it.
 * Returns the bytes a core read into memory for it. */
static uint64_t will_read_everything(struct mv_target *t)
{
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	for (size_t i = 0; i < n; i++)
		mv_target_will_read(t, r[i].start, r[i].end);
	return t->copied_bytes;
}

/* MEMVIEW_CORE_COPY=always reads the writable segments into memory of
 * memview's own when told they will be read whole: every region reads
 * as it does through the mapping (=never), the fixture's values come
 * out, and cores cut anywhere, inside a copied segment too, read up to
 * the cut. */
static void test_core_copied(void **state)
{
	struct core_layout l;
	if (access(CORE_PATH, R_OK) != 0)
		skip();
	/* Reading the file puts it in the page cache, which copying asks
	 * for. */
	assert_true(load_layout(&l));
	setenv("MEMVIEW_CORE_COPY", "never", 1);
	struct mv_target *m = open_core_or_skip();
	setenv("MEMVIEW_CORE_COPY", "always", 1);
	struct mv_target *c = open_core_or_skip();
	assert_same_memory(m, c);
	assert_int_equal(c->copied_bytes, 0); /* not before the advice */
	assert_int_equal(will_read_everything(m), 0);
	assert_true(will_read_everything(c) > 0);
	assert_same_memory(m, c);

	uint64_t int_array = check_int_array(c, FACTS_PATH);
	int ints[5];
	uint64_t head = mv_test_fact_u64(FACTS_PATH, "value list_head");
	int value;
	assert_null(mv_target_read(
		c, head + mv_test_fact_u64(FACTS_PATH, "offsetof struct node.value"),
		&value, sizeof(value)));
	assert_int_equal(value, mv_test_fact_u64(FACTS_PATH, "value list_head->value"));
	mv_target_destroy(m);
	mv_target_destroy(c);

	char msg[512];
	struct mv_target *t = open_bytes(
		l.data, l.int_array_offset + 2 * sizeof(int), msg, sizeof(msg));
	assert_non_null(t);
	assert_true(will_read_everything(t) > 0);
	assert_null(mv_target_read(t, int_array, ints, 2 * sizeof(int)));
	assert_memory_equal(ints, int_array_expected, 2 * sizeof(int));
	assert_int_equal(mv_target_read_partial(t, int_array, ints,
						sizeof(ints)),
			 2 * sizeof(int));
	assert_null(mv_target_peek(t, int_array, sizeof(ints)));
	mv_target_destroy(t);
	for (size_t size = 0; size < l.size; size += 4093) {
		t = open_bytes(l.data, size, msg, sizeof(msg));
		if (t) {
			will_read_everything(t);
			touch_everything(t);
			mv_target_destroy(t);
		} else {
			assert_true(msg[0] != '\0');
		}
	}
	unsetenv("MEMVIEW_CORE_COPY");
	free(l.data);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The offset of the first note of type type in the real core. */
static uint64_t find_note(const struct core_layout *l, uint32_t type)
{
	uint64_t pos = l->note_offset, end = l->note_offset + l->note_size;
	while (pos + 12 <= end) {
		uint32_t namesz, descsz, ty;
		memcpy(&namesz, l->data + pos, 4);
		memcpy(&descsz, l->data + pos + 4, 4);
		memcpy(&ty, l->data + pos + 8, 4);
		if (ty == type)
			return pos;
		pos += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	}
	fail_msg("no note of type 0x%x", type);
	return 0;
}

static void test_core_hostile_notes(void **state)
{
	struct core_layout l;
	if (access(CORE_PATH, R_OK) != 0)
		skip();
	assert_true(load_layout(&l));
	uint8_t *copy = malloc(l.size);
	assert_non_null(copy);
	char msg[512];
	struct mv_target *t;
	int ints[5];

	/* A huge n_descsz on the first note: the notes are lost, the
	 * memory is not. */
	memcpy(copy, l.data, l.size);
	put_u32(copy + l.note_offset + 4, 0xfffffff0u);
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "runs past its segment"));
	assert_true(has_warning(t, "NT_PRSTATUS"));
	assert_null(mv_target_read(t, l.int_array, ints, sizeof(ints)));
	assert_memory_equal(ints, int_array_expected, sizeof(ints));
	mv_target_destroy(t);

	/* NT_FILE claiming 2^60 files. */
	memcpy(copy, l.data, l.size);
	uint64_t nf = find_note(&l, NT_FILE);
	put_u64(copy + nf + 12 + 8, 1ull << 60);
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "NT_FILE"));
	assert_null(mv_target_read(t, l.int_array, ints, sizeof(ints)));
	mv_target_destroy(t);

	/* NT_FILE page size 2^40 with real page offsets: the products
	 * overflow or point past the files; reads fail, cleanly. */
	memcpy(copy, l.data, l.size);
	put_u64(copy + nf + 12 + 8 + 8, 1ull << 40);
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	mv_target_destroy(t);

	/* A short NT_PRSTATUS. */
	memcpy(copy, l.data, l.size);
	uint64_t ps = find_note(&l, NT_PRSTATUS);
	put_u32(copy + ps + 4, 16);
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "NT_PRSTATUS"));
	mv_target_destroy(t);

	/* Every PT_LOAD moved onto the same address: overlaps, the first
	 * kept. */
	memcpy(copy, l.data, l.size);
	for (unsigned i = 0; i < l.eh.e_phnum; i++) {
		uint8_t *ph = copy + l.eh.e_phoff + i * sizeof(Elf64_Phdr);
		Elf64_Phdr h;
		memcpy(&h, ph, sizeof(h));
		if (h.p_type == PT_LOAD) {
			h.p_vaddr = 0x10000 + i * 0x100;
			memcpy(ph, &h, sizeof(h));
		}
	}
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "overlap"));
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	for (size_t i = 1; i < n; i++)
		assert_true(r[i - 1].end <= r[i].start);
	mv_target_destroy(t);

	/* Segments with huge offsets and sizes that wrap. */
	memcpy(copy, l.data, l.size);
	for (unsigned i = 0; i < l.eh.e_phnum; i++) {
		uint8_t *ph = copy + l.eh.e_phoff + i * sizeof(Elf64_Phdr);
		Elf64_Phdr h;
		memcpy(&h, ph, sizeof(h));
		h.p_offset = UINT64_MAX - i;
		h.p_filesz = UINT64_MAX / (i + 1);
		h.p_memsz = i % 2 ? UINT64_MAX : h.p_filesz;
		memcpy(ph, &h, sizeof(h));
	}
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	mv_target_destroy(t);

	/* PN_XNUM without a section header to hold the count. */
	memcpy(copy, l.data, l.size);
	Elf64_Ehdr eh = l.eh;
	eh.e_phnum = PN_XNUM;
	eh.e_shoff = l.size - 10;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	memcpy(copy, &eh, sizeof(eh));
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	mv_target_destroy(t);

	/* Random damage to the headers and notes. */
	srand(12345);
	for (int round = 0; round < 400; round++) {
		memcpy(copy, l.data, l.size);
		int flips = 1 + rand() % 8;
		for (int k = 0; k < flips; k++) {
			size_t at;
			if (rand() % 2)
				at = (size_t)rand() %
				     (l.eh.e_phoff +
				      l.eh.e_phnum * sizeof(Elf64_Phdr));
			else
				at = l.note_offset +
				     (size_t)rand() % l.note_size;
			copy[at] = (uint8_t)rand();
		}
		t = open_bytes(copy, l.size, msg, sizeof(msg));
		if (t)
			mv_target_destroy(t);
	}
	free(copy);
	free(l.data);
}

/* The kernel writes p_filesz < p_memsz for file-backed pages it leaves
 * out; those bytes come from the file NT_FILE names.  Make gdb's core
 * look like that: shorten a read-only libc segment to one page, and the
 * rest must still read as what gdb had dumped there. */
static void test_core_short_segment(void **state)
{
	struct core_layout l;
	if (access(CORE_PATH, R_OK) != 0)
		skip();
	assert_true(load_layout(&l));
	struct mv_target *t = open_core_or_skip();
	uint8_t *copy = malloc(l.size);
	assert_non_null(copy);
	memcpy(copy, l.data, l.size);
	Elf64_Phdr found = {0};
	for (unsigned i = 0; i < l.eh.e_phnum && !found.p_type; i++) {
		uint8_t *at = copy + l.eh.e_phoff + i * sizeof(Elf64_Phdr);
		Elf64_Phdr ph;
		memcpy(&ph, at, sizeof(ph));
		const struct mv_region *r =
			mv_target_find_region(t, ph.p_vaddr);
		if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) ||
		    ph.p_filesz != ph.p_memsz || ph.p_filesz < 0x2000 || !r ||
		    !r->path || !strstr(r->path, "/libc.so") ||
		    r->start != ph.p_vaddr)
			continue;
		found = ph;
		ph.p_filesz = 0x1000;
		memcpy(at, &ph, sizeof(ph));
	}
	mv_target_destroy(t);
	if (!found.p_type) {
		free(copy);
		free(l.data);
		print_message("no dumped read-only libc segment in this core\n");
		skip();
	}
	char msg[512];
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	const struct mv_region *r = mv_target_find_region(t, found.p_vaddr);
	assert_non_null(r);
	assert_int_equal(r->dumped, 0x1000);
	uint8_t mem[0x1000];
	assert_null(mv_target_read(t, found.p_vaddr + 0x1000, mem,
				   sizeof(mem)));
	assert_memory_equal(mem, l.data + found.p_offset + 0x1000,
			    sizeof(mem));
	/* Across the boundary between the dump and the file. */
	assert_null(mv_target_read(t, found.p_vaddr + 0x800, mem,
				   sizeof(mem)));
	assert_memory_equal(mem, l.data + found.p_offset + 0x800,
			    sizeof(mem));
	assert_true(mv_target_is_mapped(t, found.p_vaddr + 0x1800));
	mv_target_destroy(t);

	/* With no NT_FILE note, those bytes are simply not there. */
	uint64_t nf = find_note(&l, NT_FILE);
	put_u32(copy + nf + 8, 0x7777); /* an unknown note type */
	t = open_bytes(copy, l.size, msg, sizeof(msg));
	assert_non_null(t);
	assert_true(has_warning(t, "NT_FILE"));
	struct mv_error *err = mv_target_read(t, found.p_vaddr + 0x800, mem,
					      sizeof(mem));
	assert_non_null(err);
	uint64_t bad;
	assert_true(mv_error_address(err, &bad));
	assert_int_equal(bad, found.p_vaddr + 0x1000);
	assert_non_null(strstr(mv_error_message(err), "not in the core dump"));
	mv_error_destroy(err);
	assert_false(mv_target_is_mapped(t, found.p_vaddr + 0x1800));
	mv_target_destroy(t);
	free(copy);
	free(l.data);
}

/* ------------------------------------------------------------------ */
/* Live processes                                                      */
/* ------------------------------------------------------------------ */

/* The state letter of /proc/PID/stat ('S', 'T', ...), or '?'. */
static char process_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/* Registers of a live process: given by the caller under
 * MV_OPEN_PID_CALLER_REGS (replacing, not appending, and forgotten on
 * invalidate); read from a stopped process, which stays stopped; not
 * read from a process someone else traces, with a warning saying so. */
static void check_process_registers(pid_t pid)
{
	struct mv_target *t = NULL;
	const struct mv_thread *th;
	assert_null(mv_target_open_pid_flags(pid, MV_OPEN_PID_CALLER_REGS,
					     &t));
	size_t n = mv_target_threads(t, &th);
	assert_true(n >= 1);
	assert_false(th[0].has_regs);
	assert_int_equal(mv_target_warnings(t, &(const char *const *){0}), 0);
	uint64_t regs[MV_NREGS] = {0};
	regs[MV_REG_RSP] = 0x7ff0;
	assert_null(mv_target_add_thread(t, pid, regs));
	assert_int_equal(mv_target_threads(t, &th), n);
	assert_true(th[0].has_regs);
	assert_true(th[0].regs[MV_REG_RSP] == 0x7ff0);
	regs[MV_REG_RSP] = 0x7ff8;
	assert_null(mv_target_add_thread(t, pid, regs));
	assert_int_equal(mv_target_threads(t, &th), n);
	assert_true(th[0].regs[MV_REG_RSP] == 0x7ff8);
	mv_target_invalidate(t);
	assert_int_equal(mv_target_threads(t, &th), n);
	assert_false(th[0].has_regs);
	mv_target_destroy(t);

	/* Stopped (group-stop) before, stopped after. */
	int status;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(process_state(pid), 'T');
	assert_null(mv_target_open_pid(pid, &t));
	assert_true(mv_target_threads(t, &th) >= 1 && th[0].has_regs);
	mv_target_invalidate(t);
	assert_true(mv_target_threads(t, &th) >= 1 && th[0].has_regs);
	mv_target_destroy(t);
	/* Detaching wakes the thread to go back into its group-stop: 'R'
	 * for a moment, then 'T' again. */
	char st = process_state(pid);
	for (int i = 0; i < 100 && st != 'T'; i++) {
		usleep(1000);
		st = process_state(pid);
	}
	assert_int_equal(st, 'T');
	assert_int_equal(kill(pid, SIGCONT), 0);

	/* Traced by this test: no registers, one warning naming us. */
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, NULL, NULL), 0);
	assert_null(mv_target_open_pid(pid, &t));
	assert_true(mv_target_threads(t, &th) >= 1);
	assert_false(th[0].has_regs);
	char expect[96];
	snprintf(expect, sizeof(expect), "thread %d: cannot read registers "
		 "(already traced by pid %d: ", (int)pid, (int)getpid());
	print_warnings(t);
	assert_true(has_warning(t, expect));
	mv_target_destroy(t);
	/* A tracee detaches only from a ptrace stop. */
	assert_int_equal(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL), 0);
	assert_int_equal(waitpid(pid, &status, __WALL), pid);
	assert_int_equal(ptrace(PTRACE_DETACH, pid, NULL, NULL), 0);
}

static void test_process(void **state)
{
	char fixture[256];
	snprintf(fixture, sizeof(fixture), "%s", FIXTURE_PATH);
	if (access(fixture, X_OK) != 0) {
		print_message("no %s: run 'make fixtures' first\n", fixture);
		skip();
	}
	char ready[256], facts[256];
	snprintf(ready, sizeof(ready), "%s", tmp_path("ready"));
	snprintf(facts, sizeof(facts), "%s", tmp_path("facts"));
	unlink(ready);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("MV_WAIT", "1", 1);
		setenv("MV_READY", ready, 1);
		setenv("MV_FACTS", facts, 1);
		execl(fixture, fixture, (char *)NULL);
		_exit(127);
	}
	/* Up to ten seconds for the fixture to say it is ready. */
	for (int i = 0; i < 1000 && access(ready, F_OK) != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (access(ready, F_OK) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("fixture did not get ready");
	}

	struct mv_target *t = NULL;
	struct mv_error *err = mv_target_open_pid(pid, &t);
	if (err) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("open_pid: %s", mv_error_message(err));
	}
	print_warnings(t);
	assert_string_equal(mv_target_kind(t), "process");
	assert_int_equal(mv_target_pid(t), pid);
	assert_int_equal(mv_test_fact_u64(facts, "pid"), pid);
	char mem_path[64];
	snprintf(mem_path, sizeof(mem_path), "/proc/%d/mem", (int)pid);
	assert_string_equal(mv_target_path(t), mem_path);

	uint64_t int_array = check_int_array(t, facts);
	int ints[5];
	char greeting[16];
	assert_null(mv_target_read(t, mv_test_fact_u64(facts, "addr greeting"),
				   greeting, sizeof(greeting)));
	assert_string_equal(greeting, greeting_expected);
	uint8_t bytes[64];
	assert_null(mv_target_read(t, mv_test_fact_u64(facts, "addr bytes_global"),
				   bytes, sizeof(bytes)));
	for (int i = 0; i < 64; i++)
		assert_int_equal(bytes[i], (uint8_t)(i * 7 + 3));
	int value;
	assert_null(mv_target_read(t, mv_test_fact_u64(facts, "value list_head"),
				   &value, sizeof(value)));
	assert_int_equal(value, mv_test_fact_u64(facts, "value list_head->value"));

	const struct mv_region *g = mv_target_find_region(t, int_array);
	assert_non_null(g);
	assert_non_null(g->path);
	assert_true(ends_with(g->path, "/fixtures/basic"));
	assert_true(g->perms & MV_PERM_R);
	assert_true(g->perms & MV_PERM_W);
	assert_true(g->perms & MV_PERM_P);

	/* A big read goes straight to the caller's buffer, and stops
	 * exactly at the end of the mapping. */
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	const struct mv_region *stack = NULL;
	for (size_t i = 0; i < n; i++)
		if (r[i].path && !strcmp(r[i].path, "[stack]"))
			stack = &r[i];
	assert_non_null(stack);
	size_t slen = (size_t)(stack->end - stack->start);
	uint8_t *sbuf = malloc(slen + 4096);
	assert_non_null(sbuf);
	bool next_adjacent = false;
	for (size_t i = 0; i < n; i++)
		if (r[i].start == stack->end)
			next_adjacent = true;
	if (!next_adjacent)
		assert_int_equal(mv_target_read_partial(t, stack->start, sbuf,
							slen + 4096),
				 slen);
	assert_int_equal(mv_target_read_partial(t, stack->start, sbuf, slen),
			 slen);
	free(sbuf);

	const struct mv_thread *th;
	assert_true(mv_target_threads(t, &th) >= 1);
	assert_int_equal(th[0].tid, pid);
	/* Read by attaching for a moment: the stack pointer is in the
	 * stack, the PC in code. */
	assert_true(th[0].has_regs);
	assert_true(th[0].regs[MV_REG_RSP] >= stack->start &&
		    th[0].regs[MV_REG_RSP] < stack->end);
	const struct mv_region *code =
		mv_target_find_region(t, th[0].regs[MV_REG_RIP]);
	assert_non_null(code);
	assert_true(code->perms & MV_PERM_X);
	uint64_t entry;
	assert_true(mv_target_auxv(t, AT_ENTRY, &entry));
	const struct mv_region *er = mv_target_find_region(t, entry);
	assert_non_null(er);
	assert_true(ends_with(er->path, "/fixtures/basic"));

	err = mv_target_read(t, 0x1234, ints, 8);
	assert_non_null(err);
	assert_string_equal(mv_error_message(err),
			    "cannot read 8 bytes at 0x1234: not mapped in process");
	mv_error_destroy(err);
	assert_false(mv_target_is_mapped(t, 0x1234));
	assert_true(mv_target_is_mapped(t, int_array));

	mv_target_invalidate(t);
	assert_true(mv_target_regions(t, &r) > 0);
	assert_null(mv_target_read(t, int_array, ints, sizeof(ints)));
	assert_memory_equal(ints, int_array_expected, sizeof(ints));
	mv_target_destroy(t);

	check_process_registers(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* A process that is gone. */
	err = mv_target_open_pid(pid, &t);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "no process"));
	mv_error_destroy(err);
	err = mv_target_open_pid(-1, &t);
	assert_non_null(err);
	mv_error_destroy(err);
}

static int cleanup(void **state)
{
	if (have_tmpdir) {
		const char *names[] = {"hostile.core", "ready", "facts"};
		for (size_t i = 0; i < 3; i++)
			unlink(tmp_path(names[i]));
		rmdir(tmpdir);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer),
		cmocka_unit_test(test_add_thread),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_callback_blocks),
		cmocka_unit_test(test_callback_regions),
		cmocka_unit_test(test_callback_unaligned_end),
		cmocka_unit_test(test_core_globals),
		cmocka_unit_test(test_core_file_backed),
		cmocka_unit_test(test_core_not_core),
		cmocka_unit_test(test_core_truncated),
		cmocka_unit_test(test_core_copied),
		cmocka_unit_test(test_core_hostile_notes),
		cmocka_unit_test(test_core_short_segment),
		cmocka_unit_test(test_process),
	};
	return cmocka_run_group_tests(tests, NULL, cleanup);
}
