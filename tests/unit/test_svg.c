/* test_svg.c - text in the SVG pictures: whatever bytes a target holds
 * (type and field names come from its DWARF), the escaped text is
 * well-formed XML character data and shows no raw control byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "svg_flame.h"

static void check(const char *in, size_t len, const char *want)
{
	struct mv_buf b;
	mv_buf_init(&b);
	mv_svg_escape(&b, in, len);
	assert_null(mv_buf_error(&b));
	assert_string_equal(b.data ? b.data : "", want);
	mv_buf_deinit(&b);
}

static void test_markup(void **state)
{
	(void)state;
	check("struct a<b>", 11, "struct a&lt;b&gt;");
	check("x&y \"q\" 'p'", 11, "x&amp;y &quot;q&quot; &apos;p&apos;");
	/* An entity in the input is text, not an entity. */
	check("&amp;", 5, "&amp;amp;");
	check("", 0, "");
}

static void test_bytes(void **state)
{
	(void)state;
	/* Control bytes and DEL: not allowed (or invisible) in XML 1.0. */
	check("a\x01" "b\x7f" "c\n\t", 7, "a\\x01b\\x7fc\\n\\t");
	/* A NUL inside the length is shown, not a terminator. */
	check("a\0b", 3, "a\\0b");
	/* Not UTF-8: the document must stay valid UTF-8. */
	check("\xff\xc3", 2, "\\xff\\xc3");
	/* Valid UTF-8 but not an XML character. */
	check("\xef\xbf\xbe", 3, "\\u{fffe}");
	/* A bidi override would reorder the label on screen. */
	check("ab\xe2\x80\xae" "cd", 7, "ab\\u{202e}cd");
	/* Ordinary UTF-8 passes. */
	check("caf\xc3\xa9", 5, "caf\xc3\xa9");
	check("a\\b", 3, "a\\\\b");
}

/* Every byte value alone: the output never holds a byte below 0x20, a
 * raw '<', or an '&' that does not start one of the five entities. */
static void test_every_byte(void **state)
{
	(void)state;
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;",
					   "&apos;"};
	for (unsigned c = 0; c < 256; c++) {
		char in[3] = {'x', (char)c, 'y'};
		struct mv_buf b;
		mv_buf_init(&b);
		mv_svg_escape(&b, in, sizeof(in));
		assert_non_null(b.data);
		for (size_t i = 0; i < b.len; i++) {
			unsigned char o = (unsigned char)b.data[i];
			assert_true(o >= 0x20 && o != 0x7f && o != '<' &&
				    o != '>' && o != '"' && o != '\'');
			if (o == '&') {
				bool ok = false;
				for (size_t k = 0; k < 5; k++)
					ok |= !strncmp(b.data + i, ents[k],
						       strlen(ents[k]));
				assert_true(ok);
			}
			assert_true(o < 0x80 || c >= 0x80);
		}
		mv_buf_deinit(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
