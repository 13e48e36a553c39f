/* test_rules.c - member paths and length expressions (rules.h) over a
 * record made by hand as DWARF would describe
 * struct rec { int32_t n; uint8_t log2; struct hdr { int64_t size; } h; };
 * Expected values are computed from these bytes by C here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mv_test.h"

#include "buf.h"
#include "rules.h"

static struct mv_type t_i32 = {.kind = MV_TYPE_INT, .name = "int32_t",
			       .size = 4, .is_signed = true,
			       .is_complete = true};
static struct mv_type t_u8 = {.kind = MV_TYPE_INT, .name = "uint8_t",
			      .size = 1, .is_complete = true};
static struct mv_type t_i64 = {.kind = MV_TYPE_INT, .name = "long",
			       .size = 8, .is_signed = true,
			       .is_complete = true};
static struct mv_member hdr_members[1];
static struct mv_type t_hdr;
static struct mv_member rec_members[3];
static struct mv_type t_rec;

static void make_types(void)
{
	hdr_members[0] = (struct mv_member){"size", &t_i64, 0, 0, 0, 0};
	t_hdr = (struct mv_type){.kind = MV_TYPE_STRUCT, .name = "hdr",
				 .size = 8, .is_complete = true,
				 .nmembers = 1, .members = hdr_members};
	rec_members[0] = (struct mv_member){"n", &t_i32, 0, 0, 0, 0};
	rec_members[1] = (struct mv_member){"log2", &t_u8, 32, 0, 0, 0};
	rec_members[2] = (struct mv_member){"h", &t_hdr, 64, 0, 0, 0};
	t_rec = (struct mv_type){.kind = MV_TYPE_STRUCT, .name = "rec",
				 .size = 16, .is_complete = true,
				 .nmembers = 3, .members = rec_members};
}

static uint8_t bytes[16];

static void set_rec(int32_t n, uint8_t log2, int64_t size)
{
	memcpy(bytes, &n, 4);
	bytes[4] = log2;
	memcpy(bytes + 8, &size, 8);
}

static uint64_t eval(const char *text, bool *ok)
{
	struct mv_len_expr e;
	struct mv_error *err = mv_len_expr_compile(&t_rec, text, &e);
	assert_null(err);
	uint64_t v = 0;
	*ok = mv_len_expr_eval(&e, bytes, sizeof(bytes), &v);
	return v;
}

static void test_paths(void **state)
{
	(void)state;
	make_types();
	uint64_t off;
	const struct mv_member *m;
	assert_null(mv_rules_member_path(&t_rec, "h.size", &off, &m));
	assert_int_equal(off, 8);
	assert_ptr_equal(m, &hdr_members[0]);
	struct mv_error *err = mv_rules_member_path(&t_rec, "h.nosuch", &off,
						    &m);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
	assert_non_null(strstr(mv_error_message(err), "'nosuch'"));
	mv_error_destroy(err);
	err = mv_rules_member_path(&t_rec, "n.x", &off, &m);
	assert_non_null(err);
	mv_error_destroy(err);
}

static void test_values(void **state)
{
	(void)state;
	make_types();
	bool ok;
	set_rec(7, 5, 1000);
	assert_int_equal(eval("n", &ok), 7);
	assert_true(ok);
	assert_int_equal(eval("1 << log2", &ok), 32);
	assert_int_equal(eval("(n + 1) * 2", &ok), 16);
	assert_int_equal(eval("n + 1 * 2", &ok), 9);
	assert_int_equal(eval("h.size / n", &ok), 1000 / 7);
	assert_int_equal(eval("h.size % n", &ok), 1000 % 7);
	assert_int_equal(eval("0x10 | 1 & 3", &ok), 0x10 | (1 & 3));
	assert_int_equal(eval("h.size - 8 * n - 2", &ok), 1000 - 56 - 2);
	/* A negative length is no elements; a division by zero none. */
	assert_int_equal(eval("n - 10", &ok), 0);
	assert_true(ok);
	eval("n / (log2 - 5)", &ok);
	assert_false(ok);
	/* A signed member read as signed. */
	set_rec(-3, 0, 0);
	assert_int_equal(eval("n + 5", &ok), 2);
	/* 2^60 comes back as it is: the walk bounds it by the block. */
	set_rec(0, 60, 0);
	assert_int_equal(eval("1 << log2", &ok), 1ull << 60);
	/* Comparisons are 1 or 0, signed, below shifts and above '&'. */
	set_rec(7, 5, -2);
	assert_int_equal(eval("n == 7", &ok), 1);
	assert_int_equal(eval("n != 7", &ok), 0);
	assert_int_equal(eval("h.size < 0", &ok), 1);
	assert_int_equal(eval("h.size >= n", &ok), 0);
	assert_int_equal(eval("n <= 7 & log2 > 4", &ok), 1);
	assert_int_equal(eval("(n == 7) * 10 + 1 << 2", &ok), (10 + 1) << 2);
	assert_int_equal(eval("n > 1 << 2", &ok), 7 > (1 << 2));
	/* An offset keeps its sign, a length does not. */
	struct mv_len_expr o;
	int64_t off;
	assert_null(mv_len_expr_compile(&t_rec, "-8 - n", &o));
	assert_true(mv_len_expr_eval_offset(&o, bytes, sizeof(bytes), NULL,
					    NULL, &off));
	assert_int_equal(off, -15);
	assert_int_equal(eval("-8 - n", &ok), 0);
	/* Members past the bytes given: no length. */
	struct mv_len_expr e;
	assert_null(mv_len_expr_compile(&t_rec, "h.size", &e));
	uint64_t v;
	assert_false(mv_len_expr_eval(&e, bytes, 12, &v));
}

static void test_errors(void **state)
{
	(void)state;
	make_types();
	const char *bad[] = {"", "n +", "(n", "n)", "3x", "h", "nosuch",
			     "n || 1", "n $ 2", "n->x", "&sym",
			     "(struct rec *)n", "n = 1", NULL};
	for (int i = 0; bad[i]; i++) {
		struct mv_len_expr e;
		struct mv_error *err = mv_len_expr_compile(&t_rec, bad[i], &e);
		assert_non_null(err);
		assert_int_equal(mv_error_code(err), MV_ERR_USAGE);
		mv_error_destroy(err);
	}
	/* 64 terms at most. */
	char big[512] = "n";
	for (int i = 0; i < 40; i++)
		strcat(big, " + n");
	struct mv_len_expr e;
	struct mv_error *err = mv_len_expr_compile(&t_rec, big, &e);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "too long"));
	mv_error_destroy(err);
}

/* struct flags { unsigned int interned : 2, kind : 3, ascii : 1;
 *                int delta : 4; }, as CPython's str state: the
 * expected values are C's own bit-field reads of the same bytes. */
struct flags {
	unsigned int interned : 2, kind : 3, ascii : 1;
	int delta : 4;
};

static void test_bit_fields(void **state)
{
	(void)state;
	static struct mv_type t_uint = {.kind = MV_TYPE_INT,
					.name = "unsigned int", .size = 4,
					.is_complete = true};
	static struct mv_type t_int = {.kind = MV_TYPE_INT, .name = "int",
				       .size = 4, .is_signed = true,
				       .is_complete = true};
	static struct mv_member fm[4];
	fm[0] = (struct mv_member){.name = "interned", .type = &t_uint,
				   .bit_position = 0, .bit_size = 2};
	fm[1] = (struct mv_member){.name = "kind", .type = &t_uint,
				   .bit_position = 2, .bit_size = 3};
	fm[2] = (struct mv_member){.name = "ascii", .type = &t_uint,
				   .bit_position = 5, .bit_size = 1};
	fm[3] = (struct mv_member){.name = "delta", .type = &t_int,
				   .bit_position = 6, .bit_size = 4};
	struct mv_type t_flags = {.kind = MV_TYPE_STRUCT, .name = "flags",
				  .size = 4, .is_complete = true,
				  .nmembers = 4, .members = fm};
	struct flags f = {.interned = 1, .kind = 4, .ascii = 1, .delta = -3};
	uint8_t b[4];
	memcpy(b, &f, sizeof(b));
	const char *texts[] = {"kind", "ascii", "interned", "delta + 10",
			       "(1 - ascii) * 72 + ascii * kind"};
	int64_t want[] = {f.kind, f.ascii, f.interned, f.delta + 10,
			  (1 - f.ascii) * 72 + f.ascii * f.kind};
	for (int i = 0; i < 5; i++) {
		struct mv_len_expr e;
		uint64_t v;
		assert_null(mv_len_expr_compile(&t_flags, texts[i], &e));
		assert_true(mv_len_expr_eval(&e, b, sizeof(b), &v));
		assert_int_equal(v, want[i]);
	}
}

/* Target memory for names: text at 0x1000, nothing elsewhere. */
static uint8_t text_mem[512];

static size_t text_read(void *arg, uint64_t address, void *buf, size_t n)
{
	(void)arg;
	if (address < 0x1000 || address - 0x1000 >= sizeof(text_mem))
		return 0;
	size_t off = (size_t)(address - 0x1000);
	size_t k = n < sizeof(text_mem) - off ? n : sizeof(text_mem) - off;
	memcpy(buf, text_mem + off, k);
	return k;
}

/* "'{text 0, COUNT, WIDTH}'" at address, as a template made by hand. */
static bool render_text(uint64_t address, const char *count, const char *width,
			struct mv_buf *out)
{
	struct mv_len_expr e[3];
	assert_null(mv_len_expr_compile(&t_rec, "0", &e[0]));
	assert_null(mv_len_expr_compile(&t_rec, count, &e[1]));
	assert_null(mv_len_expr_compile(&t_rec, width, &e[2]));
	struct mv_name_part parts[3] = {
		{.kind = MV_NAME_TEXT_LIT, .lit = "'"},
		{.kind = MV_NAME_CHARS, .e = e},
		{.kind = MV_NAME_TEXT_LIT, .lit = "'"},
	};
	struct mv_name_template t = {.parts = parts, .nparts = 3};
	struct mv_name_env env = {.read = text_read};
	return mv_name_render(&t, bytes, sizeof(bytes), address, 0, &env,
			      false, out);
}

static void put32(size_t at, uint32_t c)
{
	memcpy(text_mem + at, &c, 4);
}

/* Target text in a name: bounded, escaped, UTF-8 for what prints. */
static void test_names(void **state)
{
	(void)state;
	struct mv_buf b;
	mv_buf_init(&b);
	memcpy(text_mem, "a'b\\c\x07", 6);
	assert_true(render_text(0x1000, "6", "1", &b));
	assert_string_equal(b.data, "'a\\'b\\\\c\\x07'");
	mv_buf_clear(&b);
	uint16_t ucs2[3] = {0xe9, 0x65e5, 0xd800};
	memcpy(text_mem, ucs2, sizeof(ucs2));
	assert_true(render_text(0x1000, "3", "2", &b));
	assert_string_equal(b.data, "'\xc3\xa9\xe6\x97\xa5\\ud800'");
	mv_buf_clear(&b);
	put32(0, 0x1f600);
	put32(4, 0x110000);
	assert_true(render_text(0x1000, "2", "4", &b));
	assert_string_equal(b.data, "'\xf0\x9f\x98\x80\\U00110000'");
	/* A long text: its first 64 characters, then "...". */
	mv_buf_clear(&b);
	memset(text_mem, 'x', 100);
	assert_true(render_text(0x1000, "100", "1", &b));
	assert_int_equal(b.len, 1 + 64 + 3 + 1);
	assert_memory_equal(b.data + 65, "...'", 4);
	/* Unreadable, or a width that is no character's: no name, and
	 * nothing written. */
	mv_buf_clear(&b);
	mv_buf_puts(&b, "keep");
	assert_false(render_text(0x9000, "3", "1", &b));
	assert_false(render_text(0x1000, "3", "3", &b));
	assert_false(render_text(0x1000, "-1", "1", &b));
	assert_string_equal(b.data, "keep");
	mv_buf_deinit(&b);
}

/* "index" in a name's expressions; a member's element by subscript. */
static void test_index(void **state)
{
	(void)state;
	struct mv_len_expr e;
	set_rec(5, 3, 100);
	assert_null(mv_len_expr_compile_name(NULL, &t_rec, "index * 8 + n",
					     true, &e, NULL));
	int64_t v;
	assert_true(mv_len_expr_eval_index(&e, bytes, sizeof(bytes), NULL,
					   NULL, 7, &v));
	assert_int_equal(v, 7 * 8 + 5);
	/* Without index, "index" is a member like any other. */
	struct mv_error *err = mv_len_expr_compile(&t_rec, "index", &e);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "'index'"));
	mv_error_destroy(err);
	/* n is no array: no element to take. */
	err = mv_len_expr_compile(&t_rec, "n[0]", &e);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "not an array"));
	mv_error_destroy(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bit_fields),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
