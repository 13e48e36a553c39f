/* Unit tests for the views: hex dumps against xxd itself (the same bytes
 * written to a temporary file), unreadable bytes, the cast format and
 * shape rules, Python's float repr, colour only when asked for, and
 * --pointers annotations: on the basic fixture's core (expected values
 * from its facts file) and on hand-made strings that must reach the
 * terminal escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mv_test.h"

#include "buf.h"
#include "command.h"
#include "session.h"
#include "view.h"

#define BASE 0x10000000ULL

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		/* Mix printable text and arbitrary bytes. */
		p[i] = i % 5 == 0 ? (uint8_t)(' ' + (x >> 16) % 95)
				  : (uint8_t)(x >> 16);
	}
	return p;
}

/* xxd -c W -g G on data, with the address column cut off. */
static char *xxd_output(const uint8_t *data, size_t n, unsigned w, unsigned g)
{
	char path[] = "/tmp/mv_test_view_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "xxd -c %u -g %u %s", w, g, path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	struct mv_buf b;
	mv_buf_init(&b);
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		assert_non_null(colon);
		mv_buf_puts(&b, colon + 1);
	}
	assert_int_equal(pclose(f), 0);
	unlink(path);
	return mv_buf_steal(&b);
}

/* Our dump with the address column cut off the same way. */
static char *strip_addresses(const char *dump)
{
	struct mv_buf b;
	mv_buf_init(&b);
	for (const char *p = dump; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
		const char *colon = memchr(p, ':', len);
		assert_non_null(colon);
		mv_buf_append(&b, colon + 1, len - (size_t)(colon + 1 - p));
		p += len;
	}
	return mv_buf_steal(&b);
}

static struct mv_error *collect(void *arg)
{
	/* Flushes append to a second buffer: exercises streaming. */
	struct mv_buf **bufs = arg;
	mv_buf_append(bufs[1], bufs[0]->data, bufs[0]->len);
	mv_buf_clear(bufs[0]);
	return NULL;
}

static char *dump(struct mv_target *t, uint64_t addr, uint64_t len,
		  unsigned w, unsigned g, struct mv_view_report *rep)
{
	struct mv_buf out, all;
	mv_buf_init(&out);
	mv_buf_init(&all);
	struct mv_buf *bufs[2] = {&out, &all};
	struct mv_view_sink sink = {&out, collect, bufs, NULL};
	struct mv_hex_opts o;
	memset(&o, 0, sizeof(o));
	o.width = w;
	o.group = g;
	struct mv_view_report local;
	memset(&local, 0, sizeof(local));
	struct mv_error *err = mv_view_hex(t, addr, len, &o, &sink,
					   rep ? rep : &local);
	assert_null(err);
	collect(bufs);
	mv_buf_deinit(&out);
	return mv_buf_steal(&all);
}

static void test_hex_matches_xxd(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 7, 15, 16, 17, 31, 64, 100,
				      1000, 70000, 200003};
	static const unsigned widths[][2] = {
		{16, 2}, {16, 1}, {16, 4}, {16, 0}, {16, 16}, {16, 32},
		{8, 2}, {7, 3}, {10, 3}, {1, 1}, {32, 8}, {5, 4},
		{256, 2}, {13, 0},
	};
	uint8_t *data = pattern(200003, 1);
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, data, 200003, MV_PERM_R));
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]);
		     wi++) {
			size_t n = lens[li];
			unsigned w = widths[wi][0], g = widths[wi][1];
			if (n > 2000 && wi > 2)
				continue;
			char *want = xxd_output(data, n, w, g);
			char *got_full = dump(t, BASE, n, w, g, NULL);
			char *got = strip_addresses(got_full);
			if (strcmp(want, got))
				fail_msg("len %zu -c %u -g %u differs from xxd",
					 n, w, g);
			free(want);
			free(got);
			free(got_full);
		}
	}
	mv_target_destroy(t);
	free(data);
}

static void test_hex_address_column(void **state)
{
	(void)state;
	uint8_t data[20] = "0123456789abcdefghi";
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, 0x7ffff7dd0ff8, data, 20,
					 MV_PERM_R));
	char *got = dump(t, 0x7ffff7dd0ff8, 20, 16, 2, NULL);
	assert_string_equal(got,
			    "7ffff7dd0ff8: 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef\n"
			    "7ffff7dd1008: 6768 6900                                ghi.\n");
	free(got);
	mv_target_destroy(t);
}

/* Two buffers with a gap: the gap shows as ?? with a note, and reading
 * resumes where memory does. */
static void test_hex_unreadable(void **state)
{
	(void)state;
	uint8_t a[24], b[40];
	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, a, sizeof(a), MV_PERM_R));
	assert_null(mv_target_add_buffer(t, BASE + 100, b, sizeof(b),
					 MV_PERM_R));
	struct mv_view_report rep;
	memset(&rep, 0, sizeof(rep));
	char *got = dump(t, BASE, 144, 16, 2, &rep);
	assert_string_equal(got,
		"10000000: 4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA\n"
		"10000010: 4141 4141 4141 4141 ???? ???? ???? ????  AAAAAAAA????????\n"
		"10000020: ???? ???? ???? ???? ???? ???? ???? ????  ????????????????\n"
		"*\n"
		"10000060: ???? ???? 4242 4242 4242 4242 4242 4242  ????BBBBBBBBBBBB\n"
		"10000070: 4242 4242 4242 4242 4242 4242 4242 4242  BBBBBBBBBBBBBBBB\n"
		"10000080: 4242 4242 4242 4242 4242 4242 ???? ????  BBBBBBBBBBBB????\n");
	assert_int_equal(rep.readable, 64);
	assert_int_equal(rep.unreadable, 80);
	assert_int_equal(rep.nspans, 2);
	assert_int_equal(rep.spans[0].start, BASE + 24);
	assert_int_equal(rep.spans[0].end, BASE + 100);
	assert_int_equal(rep.spans[1].start, BASE + 140);
	assert_int_equal(rep.spans[1].end, BASE + 144);
	free(got);

	/* Nothing readable at all still renders, and says so. */
	memset(&rep, 0, sizeof(rep));
	got = dump(t, 0x1000, 48, 16, 2, &rep);
	assert_string_equal(got,
		"00001000: ???? ???? ???? ???? ???? ???? ???? ????  ????????????????\n"
		"*\n"
		"00001020: ???? ???? ???? ???? ???? ???? ???? ????  ????????????????\n");
	assert_int_equal(rep.unreadable, 48);
	free(got);
	mv_target_destroy(t);
}

static void test_cast_formats(void **state)
{
	(void)state;
	struct mv_cast_format f;
	static const char *const ok[] = {"c", "b", "B", "h", "H", "i", "I",
					 "l", "L", "q", "Q", "n", "N", "f",
					 "d", "?", "P", "@i", "<e", ">d",
					 "!H", "=q", "<l"};
	static const unsigned size[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 8, 8, 8,
					8, 4, 8, 1, 8, 4, 2, 8, 2, 8, 4};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct mv_error *err = mv_cast_parse_format(ok[i], &f);
		if (err)
			fail_msg("%s: %s", ok[i], mv_error_message(err));
		assert_int_equal(f.itemsize, size[i]);
	}
	static const char *const bad[] = {"", "e", "@e", "x", "s", "ii",
					  "@@i", "<n", "<P", ">", "<ii", "g"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mv_error *err = mv_cast_parse_format(bad[i], &f);
		if (!err)
			fail_msg("'%s' should be refused", bad[i]);
		assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
		mv_error_destroy(err);
	}
}

static void test_cast_rules(void **state)
{
	(void)state;
	struct mv_cast_opts o;
	memset(&o, 0, sizeof(o));
	assert_null(mv_cast_parse_format("i", &o.fmt));
	assert_null(mv_cast_parse_shape("2x3", o.dims, &o.ndims));
	o.has_shape = true;
	assert_int_equal(o.ndims, 2);
	assert_null(mv_cast_check(&o, 24));
	struct mv_error *err = mv_cast_check(&o, 28);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err),
			       "product(shape) * itemsize != buffer size"));
	mv_error_destroy(err);
	err = mv_cast_check(&o, 26);
	assert_non_null(strstr(mv_error_message(err),
			       "length is not a multiple of itemsize"));
	mv_error_destroy(err);
	assert_null(mv_cast_parse_shape("[2, 0]", o.dims, &o.ndims));
	err = mv_cast_check(&o, 0);
	assert_non_null(strstr(mv_error_message(err),
			       "elements of shape must be integers > 0"));
	mv_error_destroy(err);
	err = mv_cast_parse_shape("2y3", o.dims, &o.ndims);
	assert_non_null(err);
	mv_error_destroy(err);

	struct mv_cast_slice s;
	assert_null(mv_cast_parse_slice("::-2", &s));
	assert_false(s.has_start);
	assert_int_equal(s.step, -2);
	err = mv_cast_parse_slice("1:2:0", &s);
	assert_non_null(err);
	mv_error_destroy(err);
	err = mv_cast_parse_slice("3", &s);
	assert_non_null(err);
	mv_error_destroy(err);
}

static void test_float_repr(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *repr;
	} cases[] = {
		{0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {0.1, "0.1"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"},
		{123456789.125, "123456789.125"}, {1e100, "1e+100"},
		{(double)0.1f, "0.10000000149011612"},
		{5e-324, "5e-324"}, {1.7976931348623157e308,
				     "1.7976931348623157e+308"},
		{-2.5, "-2.5"}, {1.0 / 3, "0.3333333333333333"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mv_buf b;
		mv_buf_init(&b);
		mv_format_float_repr(cases[i].v, &b);
		if (strcmp(b.data, cases[i].repr))
			fail_msg("repr: got %s, want %s", b.data,
				 cases[i].repr);
		mv_buf_deinit(&b);
	}
}

static void test_cast_render(void **state)
{
	(void)state;
	int32_t v[6] = {1, 2, 3, 4, 5, -6};
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, v, sizeof(v), MV_PERM_R));
	struct mv_cast_opts o;
	memset(&o, 0, sizeof(o));
	assert_null(mv_cast_parse_format("i", &o.fmt));
	assert_null(mv_cast_parse_shape("2x3", o.dims, &o.ndims));
	o.has_shape = true;
	assert_null(mv_cast_check(&o, sizeof(v)));
	struct mv_buf out;
	mv_buf_init(&out);
	struct mv_view_sink sink = {&out, NULL, NULL, NULL};
	struct mv_view_report rep;
	memset(&rep, 0, sizeof(rep));
	assert_null(mv_view_cast(t, BASE, &o, &sink, &rep));
	assert_string_equal(out.data, "[[1, 2, 3], [4, 5, -6]]");
	mv_buf_clear(&out);
	/* Slicing the first dimension, as memoryview does. */
	assert_null(mv_cast_parse_slice("::-1", &o.slice));
	o.has_slice = true;
	assert_null(mv_view_cast(t, BASE, &o, &sink, &rep));
	assert_string_equal(out.data, "[[4, 5, -6], [1, 2, 3]]");
	mv_buf_clear(&out);
	/* Unreadable items are None. */
	memset(&o, 0, sizeof(o));
	assert_null(mv_cast_parse_format("i", &o.fmt));
	assert_null(mv_cast_check(&o, sizeof(v) + 8));
	assert_null(mv_view_cast(t, BASE, &o, &sink, &rep));
	assert_string_equal(out.data, "[1, 2, 3, 4, 5, -6, None, None]");
	mv_buf_deinit(&out);
	mv_target_destroy(t);
}

/* Colour codes appear only when the caller asks for them: addresses,
 * unreadable bytes; never otherwise. */
static void test_hex_color(void **state)
{
	(void)state;
	uint8_t *data = pattern(40, 3);
	struct mv_target *t;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, data, 40, MV_PERM_R));
	char *plain = dump(t, BASE, 48, 16, 2, NULL);
	assert_null(strchr(plain, '\033'));
	struct mv_buf out;
	mv_buf_init(&out);
	struct mv_view_sink sink = {&out, NULL, NULL, NULL};
	struct mv_hex_opts o;
	memset(&o, 0, sizeof(o));
	o.width = 16;
	o.group = 2;
	o.color = true;
	struct mv_view_report rep;
	memset(&rep, 0, sizeof(rep));
	assert_null(mv_view_hex(t, BASE, 48, &o, &sink, &rep));
	assert_non_null(strstr(out.data, "\033[32m10000000\033[0m: "));
	assert_non_null(strstr(out.data, "\033[32m10000010\033[0m: "));
	assert_non_null(strstr(out.data, "\033[2m??\033[0m"));
	free(plain);
	mv_buf_deinit(&out);
	mv_target_destroy(t);
	free(data);
}

static void annotate_text(struct mv_ptr_annotator *a, uint64_t v,
			  struct mv_ptr_note *n, struct mv_buf *text)
{
	assert_null(mv_ptr_annotate(a, v, n));
	mv_buf_clear(text);
	mv_ptr_render_text(n, false, text);
}

/* Strings planted in memory: control and bidi characters come out
 * escaped, never raw; code-like bytes and short runs are no string. */
static void test_pointer_strings(void **state)
{
	(void)state;
	static const char mem[256] =
		"ab\033[31mred\xe2\x80\xae" "evil\0"  /* 0: ESC, RLO */
		"\x01\x02xyz\0"                    /* 18: not text */
		"ok\0"                               /* 25: too short */
		"long long long long long long long long long long long "
		"long long long long long";          /* 28: past the preview */
	struct mv_target *t;
	struct mv_program *p;
	struct mv_ptr_annotator *a;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, mem, sizeof(mem),
					 MV_PERM_R));
	assert_null(mv_program_create(t, &p));
	assert_null(mv_ptr_annotator_create(p, 0, NULL, &a));
	struct mv_ptr_note n;
	struct mv_buf text;
	mv_buf_init(&text);

	annotate_text(a, BASE, &n, &text);
	assert_int_equal(n.kind, MV_PTR_STRING);
	assert_string_equal(text.data,
			    "\"ab\\x1b[31mred\\u{202e}evil\"");
	annotate_text(a, BASE + 18, &n, &text);
	assert_int_equal(n.kind, MV_PTR_NONE);
	annotate_text(a, BASE + 25, &n, &text);
	assert_int_equal(n.kind, MV_PTR_NONE);
	annotate_text(a, BASE + 28, &n, &text);
	assert_int_equal(n.kind, MV_PTR_STRING);
	assert_true(n.string_more);
	assert_int_equal(n.string_len, MV_PTR_STRING_MAX);
	assert_non_null(strstr(text.data, "\"..."));
	/* Nowhere: unmapped, small, non-canonical. */
	annotate_text(a, BASE + 0x100000, &n, &text);
	assert_int_equal(n.kind, MV_PTR_NONE);
	annotate_text(a, 42, &n, &text);
	assert_int_equal(n.kind, MV_PTR_NONE);
	annotate_text(a, 0xffff800000000000ULL, &n, &text);
	assert_int_equal(n.kind, MV_PTR_NONE);

	mv_buf_deinit(&text);
	mv_ptr_annotator_destroy(a);
	mv_program_destroy(p);
	mv_target_destroy(t);
}

/* --depth on hostile memory: a cycle, a word half past the end, a
 * number, and a chain longer than the bound, over a plain buffer (no
 * symbols, no heap: words into it point nowhere known, and chains
 * still go through them, as telescope's do). */
static void test_pointer_chains(void **state)
{
	(void)state;
	static uint64_t mem[256];
	memset(mem, 0, sizeof(mem));
	mem[0] = BASE + 16;                  /* 0 -> 16 -> 32 -> 16: cycle */
	mem[2] = BASE + 32;
	mem[4] = BASE + 16;
	mem[6] = BASE + sizeof(mem) - 4;     /* the last 4 bytes: unreadable */
	mem[8] = 0xdeadbeefdeadbeefULL;      /* non-canonical: a value */
	for (size_t i = 10; i < 250; i++)    /* 240 words, each to the next */
		mem[i] = BASE + 8 * (i + 1);
	struct mv_target *t;
	struct mv_program *p;
	struct mv_ptr_annotator *a;
	assert_null(mv_target_create_buffer(&t));
	assert_null(mv_target_add_buffer(t, BASE, mem, sizeof(mem),
					 MV_PERM_R | MV_PERM_W));
	assert_null(mv_program_create(t, &p));
	assert_null(mv_ptr_annotator_create(p, 0, NULL, &a));
	struct mv_ptr_note n;
	const struct mv_ptr_chain *c;

	assert_null(mv_ptr_annotate(a, mem[0], &n));
	assert_null(mv_ptr_follow(a, BASE, &n, 10, &c));
	assert_int_equal(c->end, MV_PTR_END_CYCLE);
	assert_int_equal(c->nhops, 2);
	assert_int_equal(c->hops[0].address, BASE + 16);
	assert_int_equal(c->hops[1].address, BASE + 32);
	assert_int_equal(c->hops[1].note.value, BASE + 16);

	assert_null(mv_ptr_annotate(a, mem[6], &n));
	assert_null(mv_ptr_follow(a, BASE + 48, &n, 10, &c));
	assert_int_equal(c->end, MV_PTR_END_UNREADABLE);
	assert_int_equal(c->nhops, 0);

	assert_null(mv_ptr_annotate(a, mem[8], &n));
	assert_null(mv_ptr_follow(a, BASE + 64, &n, 10, &c));
	assert_int_equal(c->end, MV_PTR_END_VALUE);
	assert_int_equal(c->nhops, 0);

	/* 64 words at most, whatever is asked; then "depth". */
	assert_null(mv_ptr_annotate(a, mem[10], &n));
	assert_null(mv_ptr_follow(a, BASE + 80, &n, 1000, &c));
	assert_int_equal(c->end, MV_PTR_END_DEPTH);
	assert_int_equal(c->nhops, MV_PTR_MAX_DEPTH - 1);
	assert_int_equal(c->hops[62].address, BASE + 8 * 73);
	/* Depth 1 reads nothing more. */
	assert_null(mv_ptr_follow(a, BASE + 80, &n, 1, &c));
	assert_int_equal(c->nhops, 0);

	struct mv_buf text;
	mv_buf_init(&text);
	assert_null(mv_ptr_annotate(a, mem[0], &n));
	assert_null(mv_ptr_follow(a, BASE, &n, 10, &c));
	mv_ptr_render_chain_text(c, false, &text);
	char want[128];
	snprintf(want, sizeof(want), "; holds 0x%llx; holds 0x%llx [cycle]",
		 (unsigned long long)(BASE + 32),
		 (unsigned long long)(BASE + 16));
	assert_string_equal(text.data, want);
	mv_buf_deinit(&text);
	mv_ptr_annotator_destroy(a);
	mv_program_destroy(p);
	mv_target_destroy(t);
}

/* The basic fixture's core: what its globals point to, checked against
 * the addresses and values the fixture printed itself. */
static void test_pointers_core(void **state)
{
	(void)state;
	const char *core = mv_test_build_file("cores/basic.core");
	const char *facts = mv_test_build_file("cores/basic.facts");
	if (!core || !facts) {
		print_message("basic core not built (make cores): skipped\n");
		skip();
	}
	struct mv_target *t;
	struct mv_program *p;
	struct mv_ptr_annotator *a;
	assert_null(mv_target_open_core(core, &t));
	assert_null(mv_program_create(t, &p));
	assert_null(mv_program_load_target_objfiles(p, NULL));
	assert_null(mv_ptr_annotator_create(p, 0, NULL, &a));
	struct mv_ptr_note n;
	struct mv_buf text;
	mv_buf_init(&text);

	uint64_t ints = mv_test_fact_u64(facts, "addr int_array");
	annotate_text(a, ints, &n, &text);
	assert_int_equal(n.kind, MV_PTR_SYMBOL);
	assert_string_equal(n.symbol, "int_array");
	assert_int_equal(n.symbol_offset, 0);
	assert_string_equal(text.data, "<int_array>");
	annotate_text(a, ints + 8, &n, &text);
	assert_string_equal(text.data, "<int_array+8>");

	annotate_text(a, mv_test_fact_u64(facts, "addr greeting"), &n, &text);
	assert_int_equal(n.kind, MV_PTR_SYMBOL);
	assert_string_equal(text.data, "<greeting> \"hello, memview\"");

	/* malloc(16) nodes: 32-byte chunks, header 16 bytes before. */
	uint64_t node = mv_test_fact_u64(facts, "value list_head");
	annotate_text(a, node, &n, &text);
	assert_int_equal(n.kind, MV_PTR_HEAP);
	assert_int_equal(n.chunk.mem, node);
	assert_int_equal(n.chunk.start, node - 16);
	assert_int_equal(n.chunk.size, 32);
	assert_true(n.chunk.flags & MV_CHUNK_IN_USE);
	char want[128];
	snprintf(want, sizeof(want), "heap: in-use block 0x%llx, 32-byte chunk",
		 (unsigned long long)node);
	assert_string_equal(text.data, want);
	annotate_text(a, node + 8, &n, &text);
	assert_int_equal(n.kind, MV_PTR_HEAP);
	assert_non_null(strstr(text.data, ", at block+8"));

	mv_buf_deinit(&text);
	mv_ptr_annotator_destroy(a);
	mv_program_destroy(p);
	mv_target_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_matches_xxd),
		cmocka_unit_test(test_hex_address_column),
		cmocka_unit_test(test_hex_unreadable),
		cmocka_unit_test(test_cast_formats),
		cmocka_unit_test(test_cast_rules),
		cmocka_unit_test(test_float_repr),
		cmocka_unit_test(test_cast_render),
		cmocka_unit_test(test_hex_color),
		cmocka_unit_test(test_pointer_strings),
		cmocka_unit_test(test_pointer_chains),
		cmocka_unit_test(test_pointers_core),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
