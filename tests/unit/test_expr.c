/* test_expr.c - type names and expressions against the basic fixture's
 * core, and C++ names against the cxxnames fixture's.  The answer key
 * is build/cores/NAME.facts (written by the fixture itself), the
 * constants in tests/fixtures/NAME.c(c), and for the spelling of C++
 * type names gdb's (str(gdb.Value.type)) on the same program. */
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

#include "cxxname.h"
#include "expr.h"
#include "memview.h"
#include "program.h"

struct fixture {
	struct mv_target *target;
	struct mv_program *program; /* NULL: no core was built */
	char core[512], facts_path[512];
	char facts[8192];
};

/* The text after "KEY " on the facts line for key. */
static const char *fact(struct fixture *f, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = f->facts; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) > n && strncmp(line, key, n) == 0 &&
		    line[n] == ' ')
			return line + n + 1;
		line = *end ? end + 1 : end;
	}
	fail_msg("no fact '%s' in %s", key, f->facts_path);
	return NULL;
}

static uint64_t fact_u64(struct fixture *f, const char *key)
{
	return strtoull(fact(f, key), NULL, 0);
}

static int setup_fixture(void **state, const char *name)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mv_error *err;
	char path[128];

	if (!f)
		return -1;
	*state = f;
	/* Copied: the shared paths are reused by later calls. */
	snprintf(path, sizeof(path), "cores/%s.core", name);
	const char *core = mv_test_build_file(path);
	if (core)
		snprintf(f->core, sizeof(f->core), "%s", core);
	snprintf(path, sizeof(path), "cores/%s.facts", name);
	const char *facts = mv_test_build_file(path);
	if (!core || !facts) {
		print_message("cores/%s.core not built (make cores): tests skipped\n",
			      name);
		return 0;
	}
	snprintf(f->facts_path, sizeof(f->facts_path), "%s", facts);
	FILE *fp = fopen(f->facts_path, "r");
	if (!fp)
		return -1;
	size_t n = fread(f->facts, 1, sizeof(f->facts) - 1, fp);
	f->facts[n] = '\0';
	fclose(fp);

	err = mv_target_open_core(f->core, &f->target);
	if (!err)
		err = mv_program_create(f->target, &f->program);
	if (!err)
		err = mv_program_load_target_objfiles(f->program, NULL);
	if (err) {
		print_error("cannot open %s: %s\n", f->core,
			    mv_error_message(err));
		mv_error_destroy(err);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	return setup_fixture(state, "basic");
}

static int setup_cxx(void **state)
{
	return setup_fixture(state, "cxxnames");
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0;
	if (f->program)
		mv_program_destroy(f->program);
	if (f->target)
		mv_target_destroy(f->target);
	free(f);
	return 0;
}

/* The fixture, or a skip when the core was not built. */
static struct fixture *need_core(void **state)
{
	struct fixture *f = *state;
	if (!f->program)
		skip();
	return f;
}

/* Evaluates expr, failing the test with memview's message on error. */
static struct mv_value eval(struct fixture *f, const char *expr)
{
	struct mv_value v = { 0 };
	struct mv_error *err = mv_expr_eval(f->program, expr, 0, &v);
	if (err) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", mv_error_message(err));
		mv_error_destroy(err);
		fail_msg("'%s': %s", expr, msg);
	}
	return v;
}

static uint64_t eval_scalar(struct fixture *f, const char *expr)
{
	struct mv_value v = eval(f, expr);
	uint64_t x = 0;
	struct mv_error *err = mv_value_read_scalar(f->program, &v, &x);
	if (err) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", mv_error_message(err));
		mv_error_destroy(err);
		fail_msg("reading '%s': %s", expr, msg);
	}
	return x;
}

static void assert_type_name(struct mv_type *t, const char *want)
{
	char name[256];
	mv_type_name(t, name, sizeof(name));
	assert_string_equal(name, want);
}

/* Expects an error of code whose message contains needle. */
static void assert_eval_fails(struct fixture *f, const char *expr,
			      enum mv_error_code code, const char *needle)
{
	struct mv_value v;
	struct mv_error *err = mv_expr_eval(f->program, expr, 0, &v);
	if (!err)
		fail_msg("'%.60s' should have failed", expr);
	const char *msg = mv_error_message(err);
	if (mv_error_code(err) != code || !strstr(msg, needle)) {
		char copy[512];
		snprintf(copy, sizeof(copy), "%s", msg);
		int got = mv_error_code(err);
		mv_error_destroy(err);
		fail_msg("'%.60s': got error %d '%s', want %d containing '%s'",
			 expr, got, copy, (int)code, needle);
	}
	mv_error_destroy(err);
}

static void assert_type_fails(struct fixture *f, const char *name,
			      enum mv_error_code code, const char *needle)
{
	struct mv_type *t;
	struct mv_error *err = mv_expr_parse_type(f->program, name, 0, &t);
	if (!err)
		fail_msg("type '%s' should have failed", name);
	const char *msg = mv_error_message(err);
	if (mv_error_code(err) != code || !strstr(msg, needle)) {
		char copy[512];
		snprintf(copy, sizeof(copy), "%s", msg);
		int got = mv_error_code(err);
		mv_error_destroy(err);
		fail_msg("type '%s': got error %d '%s', want %d containing '%s'",
			 name, got, copy, (int)code, needle);
	}
	mv_error_destroy(err);
}

static struct mv_type *parse_type(struct fixture *f, const char *name)
{
	struct mv_type *t = NULL;
	struct mv_error *err = mv_expr_parse_type(f->program, name, 0, &t);
	if (err) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", mv_error_message(err));
		mv_error_destroy(err);
		fail_msg("type '%s': %s", name, msg);
	}
	return t;
}

/* ------------------------------------------------------------------ */

static void test_variable_lvalue(void **state)
{
	struct fixture *f = need_core(state);
	struct mv_value v = eval(f, "padded_global");

	assert_true(v.is_lvalue);
	assert_int_equal(v.address, fact_u64(f, "addr padded_global"));
	assert_type_name(v.type, "struct padded");

	v = eval(f, "&padded_global");
	assert_false(v.is_lvalue);
	assert_int_equal(v.value, fact_u64(f, "addr padded_global"));
	assert_type_name(v.type, "struct padded *");
}

static void test_pointers(void **state)
{
	struct fixture *f = need_core(state);

	assert_int_equal(eval_scalar(f, "list_head"),
			 fact_u64(f, "value list_head"));
	assert_int_equal(eval_scalar(f, "list_head->next"),
			 fact_u64(f, "value list_head->next"));
	assert_int_equal(eval_scalar(f, "(*list_head).next"),
			 fact_u64(f, "value list_head->next"));
	assert_int_equal(eval_scalar(f, "list_head->value"),
			 fact_u64(f, "value list_head->value"));
	assert_int_equal(eval_scalar(f, "list_head[0].value"),
			 fact_u64(f, "value list_head->value"));

	struct mv_value v = eval(f, "*list_head");
	assert_true(v.is_lvalue);
	assert_int_equal(v.address, fact_u64(f, "value list_head"));
	assert_type_name(v.type, "struct node");

	/* list_storage[i].value = (i + 1) * 100, chained in order. */
	assert_int_equal(eval_scalar(f, "list_storage[2].value"), 300);
	assert_int_equal(eval_scalar(f, "list_storage->next->next->value"),
			 300);
	assert_int_equal(eval_scalar(f, "list_storage[0].next"),
			 fact_u64(f, "addr list_storage") +
				 fact_u64(f, "sizeof struct node"));
}

static void test_members_and_arrays(void **state)
{
	struct fixture *f = need_core(state);

	assert_int_equal(eval_scalar(f, "padded_global.l"),
			 fact_u64(f, "value padded_global.l"));
	assert_int_equal(eval_scalar(f, "padded_global.l"), 123456789);
	/* s is -2: sign-extended from a short. */
	assert_int_equal((int64_t)eval_scalar(f, "padded_global.s"), -2);
	assert_int_equal(eval_scalar(f, "padded_global.tail"), 'z');

	struct mv_value v = eval(f, "padded_global.i");
	assert_true(v.is_lvalue);
	assert_int_equal(v.address,
			 fact_u64(f, "addr padded_global") +
				 fact_u64(f, "offsetof struct padded.i"));

	assert_int_equal(eval_scalar(f, "int_array[3]"), 40);
	v = eval(f, "&int_array[3]");
	assert_int_equal(v.value, fact_u64(f, "addr int_array") + 12);
	assert_type_name(v.type, "int *");
	assert_int_equal(eval_scalar(f, "*(int_array + 4)"), 50);
	assert_int_equal(eval_scalar(f, "&int_array[4] - &int_array[1]"), 3);
	assert_int_equal(eval_scalar(f, "greeting[4]"), 'o');

	assert_int_equal(eval_scalar(f, "matrix_global.cells[1][2]"), 6);
	assert_int_equal(eval_scalar(f, "matrix_global.cells[0][1]"), 2);
	assert_int_equal(eval_scalar(f, "matrix_global.counter"), 9);
	assert_int_equal(eval_scalar(f, "matrix_global.name[1]"), 'a');
	assert_int_equal(eval_scalar(f, "matrix_global.num.i"), 0x41424344);

	/* Anonymous struct and union members. */
	assert_int_equal(eval_scalar(f, "anon_global.y"), 4);
	assert_int_equal(eval_scalar(f, "anon_global.x"), 3);
	assert_int_equal((int64_t)eval_scalar(f, "anon_global.as_long"), -9);
	assert_int_equal(eval_scalar(f, "anon_global.kind"), 7);
	v = eval(f, "anon_global");
	struct mv_value y = eval(f, "anon_global.y");
	assert_int_equal(y.address - v.address,
			 fact_u64(f, "offsetof struct anon.y"));
}

static void test_bitfields(void **state)
{
	struct fixture *f = need_core(state);
	struct mv_value v = eval(f, "flags_global.c");

	/* A bitfield has no address: the result is its value. */
	assert_false(v.is_lvalue);
	assert_int_equal((int64_t)v.value, -3);
	assert_int_equal((int64_t)eval_scalar(f, "flags_global.c"),
			 atoll(fact(f, "value flags_global.c")));
	assert_int_equal(eval_scalar(f, "flags_global.b"),
			 fact_u64(f, "value flags_global.b"));
	assert_int_equal(eval_scalar(f, "flags_global.a"), 5);
	assert_int_equal(eval_scalar(f, "flags_global.d"), 200);
	assert_int_equal(eval_scalar(f, "flags_global.e"), 0x123456789aULL);
	assert_int_equal((int64_t)eval_scalar(f, "flags_global.c + 1"), -2);
	assert_eval_fails(f, "&flags_global.c", MV_ERR_UNSUPPORTED,
			  "bitfield");
}

static void test_casts_and_arithmetic(void **state)
{
	struct fixture *f = need_core(state);
	struct mv_value v = eval(f, "(struct node *)0x1234");

	assert_false(v.is_lvalue);
	assert_int_equal(v.value, 0x1234);
	assert_type_name(v.type, "struct node *");

	v = eval(f, "(struct node *)0x1000 + 2");
	assert_int_equal(v.value,
			 0x1000 + 2 * fact_u64(f, "sizeof struct node"));
	v = eval(f, "(node_t *)list_head");
	assert_int_equal(v.value, fact_u64(f, "value list_head"));
	v = eval(f, "*(struct padded *)&padded_global");
	assert_true(v.is_lvalue);
	assert_int_equal(v.address, fact_u64(f, "addr padded_global"));
	assert_int_equal(eval_scalar(f, "((struct padded *)&padded_global)->l"),
			 123456789);
	assert_int_equal(eval_scalar(f, "(unsigned char)0x1ff"), 0xff);
	assert_int_equal((int64_t)eval_scalar(f, "(char)0xff"), -1);
	assert_int_equal((int64_t)eval_scalar(f, "-5 + 2"), -3);
	assert_int_equal(eval_scalar(f, "~0"), UINT64_MAX);
	assert_int_equal(eval_scalar(f, "!0"), 1);
	assert_int_equal(eval_scalar(f, "!list_head"), 0);
	assert_int_equal(eval_scalar(f, "010 + 0x10 + 10"), 34);
	assert_int_equal(eval_scalar(f, "(char *)&padded_global + 8"),
			 fact_u64(f, "addr padded_global") + 8);
	assert_int_equal(eval_scalar(f, "*(long *)((char *)&padded_global + 8)"),
			 123456789);
	/* gdb's {TYPE} ADDR. */
	v = eval(f, "{struct padded} &padded_global");
	assert_true(v.is_lvalue);
	assert_int_equal(v.address, fact_u64(f, "addr padded_global"));
}

static void test_sizeof(void **state)
{
	struct fixture *f = need_core(state);
	struct mv_value v = eval(f, "sizeof(struct padded)");

	assert_false(v.is_lvalue);
	assert_int_equal(v.value, fact_u64(f, "sizeof struct padded"));
	assert_type_name(v.type, "long unsigned int");
	assert_int_equal(eval_scalar(f, "sizeof padded_global"),
			 fact_u64(f, "sizeof struct padded"));
	assert_int_equal(eval_scalar(f, "sizeof(int_array)"), 20);
	assert_int_equal(eval_scalar(f, "sizeof *list_head"),
			 fact_u64(f, "sizeof struct node"));
	assert_int_equal(eval_scalar(f, "sizeof(node_t)"),
			 fact_u64(f, "sizeof struct node"));
	assert_int_equal(eval_scalar(f, "sizeof(union number)"),
			 fact_u64(f, "sizeof union number"));
	assert_int_equal(eval_scalar(f, "sizeof(enum color)"),
			 fact_u64(f, "sizeof enum color"));
	assert_int_equal(eval_scalar(f, "sizeof(struct matrix)"),
			 fact_u64(f, "sizeof struct matrix"));
	/* sizeof does not evaluate: no read of address 0. */
	assert_int_equal(eval_scalar(f, "sizeof(*(struct node *)0)"),
			 fact_u64(f, "sizeof struct node"));
	assert_int_equal(eval_scalar(f, "sizeof(char (*)[4])"), 8);
	assert_int_equal(eval_scalar(f, "sizeof(int[2][3])"), 24);
}

static void test_type_names(void **state)
{
	struct fixture *f = need_core(state);
	struct mv_type *t;

	t = parse_type(f, "int[2][3]");
	assert_int_equal(mv_type_strip(t)->size, 24);
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_ARRAY);
	assert_int_equal(mv_type_strip(t)->count, 2);
	assert_int_equal(mv_type_strip(mv_type_target(t))->count, 3);

	t = parse_type(f, "char (*)[4]");
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_POINTER);
	assert_int_equal(mv_type_strip(mv_type_target(t))->kind,
			 MV_TYPE_ARRAY);
	assert_int_equal(mv_type_strip(mv_type_target(t))->count, 4);

	t = parse_type(f, "unsigned long");
	assert_int_equal(t->size, 8);
	assert_false(t->is_signed);
	t = parse_type(f, "long unsigned int");
	assert_int_equal(t->size, 8);
	t = parse_type(f, "unsigned");
	assert_int_equal(t->size, 4);
	assert_false(t->is_signed);
	t = parse_type(f, "signed char");
	assert_int_equal(t->size, 1);
	assert_true(t->is_signed);
	assert_int_equal(parse_type(f, "long long")->size, 8);
	assert_int_equal(parse_type(f, "short")->size, 2);
	assert_int_equal(parse_type(f, "_Bool")->size, 1);
	assert_int_equal(parse_type(f, "double")->size, 8);
	assert_int_equal(parse_type(f, "long double")->size, 16);
	assert_int_equal(parse_type(f, "void")->kind, MV_TYPE_VOID);

	t = parse_type(f, "node_t");
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_STRUCT);
	assert_string_equal(mv_type_strip(t)->name, "node");
	t = parse_type(f, "node");
	assert_int_equal(t->kind, MV_TYPE_STRUCT);
	assert_string_equal(t->name, "node");
	assert_int_equal(t->size, fact_u64(f, "sizeof struct node"));

	t = parse_type(f, "const char *const");
	assert_int_equal(t->kind, MV_TYPE_QUALIFIED);
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_POINTER);
	t = parse_type(f, "char const *");
	assert_int_equal(t->kind, MV_TYPE_POINTER);
	assert_int_equal(mv_type_target(t)->kind, MV_TYPE_QUALIFIED);

	t = parse_type(f, "int (*)(int, char *)");
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_POINTER);
	assert_int_equal(t->size, 8);
	t = parse_type(f, "int (*[3])(int)");
	assert_int_equal(mv_type_strip(t)->kind, MV_TYPE_ARRAY);
	assert_int_equal(mv_type_strip(t)->size, 24);
	t = parse_type(f, "int[]");
	assert_false(mv_type_strip(t)->has_count);
	t = parse_type(f, "struct node *[3]");
	assert_int_equal(mv_type_strip(t)->size, 24);
	t = parse_type(f, "union number");
	assert_int_equal(t->size, fact_u64(f, "sizeof union number"));
	t = parse_type(f, "enum color");
	assert_int_equal(t->kind, MV_TYPE_ENUM);
}

static void test_type_errors(void **state)
{
	struct fixture *f = need_core(state);

	assert_type_fails(f, "struct nosuch", MV_ERR_NOT_FOUND,
			  "no type named 'struct nosuch'");
	assert_type_fails(f, "nosuch_t", MV_ERR_NOT_FOUND,
			  "no type named 'nosuch_t'");
	assert_type_fails(f, "int[3", MV_ERR_SYNTAX,
			  "expected ']' at column 6 in 'int[3'");
	assert_type_fails(f, "struct {...}", MV_ERR_NOT_FOUND, "anonymous");
	assert_type_fails(f, "unsigned float", MV_ERR_SYNTAX,
			  "invalid combination");
	assert_type_fails(f, "long long long", MV_ERR_SYNTAX,
			  "invalid combination");
	assert_type_fails(f, "int (*", MV_ERR_SYNTAX, "unbalanced");
	assert_type_fails(f, "int x", MV_ERR_SYNTAX, "unexpected 'x'");
	assert_type_fails(f, "", MV_ERR_SYNTAX, "empty");
	assert_type_fails(f, "void[2]", MV_ERR_SYNTAX, "void");
	assert_type_fails(f, "int (int)", MV_ERR_UNSUPPORTED, "function");

	/* Bounded nesting of declarators. */
	char deep[1024] = "int ";
	for (int i = 0; i < 200; i++)
		strcat(deep, "(");
	strcat(deep, "*");
	for (int i = 0; i < 200; i++)
		strcat(deep, ")");
	assert_type_fails(f, deep, MV_ERR_LIMIT, "nested");
}

static void test_expr_errors(void **state)
{
	struct fixture *f = need_core(state);

	assert_eval_fails(f, "nosuch", MV_ERR_NOT_FOUND,
			  "no symbol 'nosuch' in the program");
	assert_eval_fails(f, "padded_global.nosuch", MV_ERR_NOT_FOUND,
			  "no member named 'nosuch' in struct padded");
	assert_eval_fails(f, "list_head->nxt", MV_ERR_NOT_FOUND,
			  "no member named 'nxt' in struct node");
	assert_eval_fails(f, "*padded_global", MV_ERR_INVALID,
			  "'padded_global' is not a pointer (struct padded)");
	assert_eval_fails(f, "*int_array[0]", MV_ERR_INVALID,
			  "'int_array[0]' is not a pointer (int)");
	assert_eval_fails(f, "list_head.value", MV_ERR_INVALID, "'->'");
	assert_eval_fails(f, "padded_global->l", MV_ERR_INVALID, "'.'");
	assert_eval_fails(f, "(struct nosuch *)0", MV_ERR_NOT_FOUND,
			  "no type named 'struct nosuch'");
	assert_eval_fails(f, "1 +", MV_ERR_SYNTAX,
			  "expected an expression at column 4 in '1 +'");
	assert_eval_fails(f, "1 2", MV_ERR_SYNTAX, "unexpected '2'");
	assert_eval_fails(f, "int_array[1", MV_ERR_SYNTAX, "expected ']'");
	assert_eval_fails(f, "padded_global @", MV_ERR_SYNTAX,
			  "unexpected character '@'");
	assert_eval_fails(f, "99999999999999999999", MV_ERR_SYNTAX,
			  "invalid integer literal");
	assert_eval_fails(f, "&1", MV_ERR_INVALID, "no address");
	assert_eval_fails(f, "padded_global + 1", MV_ERR_INVALID,
			  "not a number or a pointer");
	assert_eval_fails(f, "*(void **)0 + *(int *)0", MV_ERR_FAULT,
			  "cannot read 8 bytes at 0x0");
	assert_eval_fails(f, "(*(struct node *)0x10).value + 1", MV_ERR_FAULT,
			  "cannot read 4 bytes at 0x10");
	assert_eval_fails(f, "*(void *)list_head", MV_ERR_INVALID, "void");
	assert_eval_fails(f, "", MV_ERR_SYNTAX, "empty");

	/* Deep nesting is an error, not a stack overflow. */
	enum { N = 10000 };
	char *deep = malloc(2 * N + 2);
	assert_non_null(deep);
	memset(deep, '(', N);
	deep[N] = '1';
	memset(deep + N + 1, ')', N);
	deep[2 * N + 1] = '\0';
	assert_eval_fails(f, deep, MV_ERR_LIMIT, "nested");
	memset(deep, '-', 2 * N);
	deep[2 * N] = '1';
	deep[2 * N + 1] = '\0';
	assert_eval_fails(f, deep, MV_ERR_LIMIT, "nested");
	memset(deep, '*', 2 * N);
	deep[2 * N] = 'x';
	assert_eval_fails(f, deep, MV_ERR_LIMIT, "nested");
	free(deep);
}

/* Without memory: types and addresses work, reads say why they fail. */
static void test_no_target(void **state)
{
	struct mv_program *p;
	struct mv_value v;
	struct mv_error *err = mv_program_create(NULL, &p);

	assert_null(err);
	err = mv_expr_eval(p, "sizeof(long) + 1", 0, &v);
	assert_null(err);
	assert_int_equal(v.value, 9);
	err = mv_expr_eval(p, "*(long *)0x1000", 0, &v);
	assert_null(err);
	assert_true(v.is_lvalue);
	uint64_t x;
	err = mv_value_read_scalar(p, &v, &x);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "no memory to read"));
	mv_error_destroy(err);
	mv_program_destroy(p);
}

/* ------------------------------------------------------------------ */
/* C++ names                                                           */
/* ------------------------------------------------------------------ */

static void assert_name_len(const char *s, const char *want)
{
	size_t n = mv_cxx_name_len(s);
	if (n != strlen(want))
		fail_msg("name in '%s': %zu characters, want '%s'", s, n, want);
	assert_memory_equal(s, want, n);
}

static void assert_canon(const char *s, const char *want)
{
	char buf[256];
	size_t n = mv_cxx_canon(s, strlen(s), buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

/* Where a name ends: template arguments nest, '>>' closes two, operator
 * names hold brackets that are none, and a bad name is no name. */
static void test_cxx_name_syntax(void **state)
{
	(void)state;
	assert_name_len("ns::inner::Bar", "ns::inner::Bar");
	assert_name_len("ns::Foo<ns::Foo<int>> *", "ns::Foo<ns::Foo<int>>");
	assert_name_len("std::map<int, std::pair<long, char> >::iterator x",
			"std::map<int, std::pair<long, char> >::iterator");
	assert_name_len("ns :: Foo < int > *", "ns :: Foo < int >");
	assert_name_len("::g_var + 1", "::g_var");
	assert_name_len("(anonymous namespace)::Hidden)",
			"(anonymous namespace)::Hidden");
	assert_name_len("Klass::operator<", "Klass::operator<");
	assert_name_len("Klass::operator<<=", "Klass::operator<<=");
	assert_name_len("Klass::operator()(int)", "Klass::operator()");
	assert_name_len("Klass::operator->", "Klass::operator->");
	assert_name_len("Wrap<&operator< >::x)", "Wrap<&operator< >::x");
	assert_name_len("Wrap<&ns::operator> >::value",
			"Wrap<&ns::operator> >::value");
	assert_name_len("A<(1>2)>::b", "A<(1>2)>::b");
	assert_name_len("F<void (*)(int, char)>", "F<void (*)(int, char)>");
	assert_name_len("x>>y", "x");
	assert_int_equal(mv_cxx_name_len("Foo<int"), 0);
	assert_int_equal(mv_cxx_name_len("Foo<int)>"), 0);
	assert_int_equal(mv_cxx_name_len("ns::"), 0);
	assert_int_equal(mv_cxx_name_len("<int>"), 0);
	/* Nesting is bounded: no stack to exhaust. */
	char deep[256] = "A";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<A");
	for (int i = 0; i < 40; i++)
		strcat(deep, ">");
	assert_int_equal(mv_cxx_name_len(deep), 0);

	assert_canon("std::vector<int, std::allocator<int> >",
		     "std::vector<int,std::allocator<int>>");
	assert_canon("std::vector<int,std::allocator<int>>",
		     "std::vector<int,std::allocator<int>>");
	assert_canon("ns :: Foo < unsigned  int >", "ns::Foo<unsigned int>");
	assert_canon("(anonymous namespace)::X", "(anonymous namespace)::X");
	assert_canon("F<char const *>", "F<char const*>");

	char buf[128];
	bool had;
	mv_cxx_stem("std::_Vector_base<int,std::allocator<int>>::pointer", buf,
		    sizeof(buf), &had);
	assert_string_equal(buf, "std::_Vector_base::pointer");
	assert_true(had);
	mv_cxx_stem("Klass::operator<", buf, sizeof(buf), &had);
	assert_string_equal(buf, "Klass::operator<");
	assert_false(had);
	assert_int_equal(mv_cxx_scope_len("ns::Foo<a::b>::count"),
			 strlen("ns::Foo<a::b>"));
	assert_int_equal(mv_cxx_scope_len("g_var"), 0);

	const char *vec = "std::vector<int,std::allocator<int>>";
	assert_true(mv_cxx_match("std::vector<int>", vec));
	assert_true(mv_cxx_match("std::vector<int,std::allocator<>>", vec));
	assert_true(mv_cxx_match(vec, vec));
	assert_false(mv_cxx_match("std::vector<long>", vec));
	assert_false(mv_cxx_match("std::vector", vec));
	assert_false(mv_cxx_match("std::vector<int,std::allocator<int>,x>",
				  vec));
	assert_false(mv_cxx_match("std::vector<int>*", vec));
	assert_true(mv_cxx_match(
		"std::_Vector_base<int,std::allocator<>>::pointer",
		"std::_Vector_base<int,std::allocator<int>>::pointer"));
	assert_false(mv_cxx_match("ns::Foo<int>::count",
				  "ns::Foo<int>::other"));
	/* A function type argument: lldb spells std::function's short. */
	assert_true(mv_cxx_match("std::function<long(long)>",
				 "std::function<long int(long int)>"));
	assert_true(mv_cxx_match("std::function<void()>",
				 "std::function<void()>"));
	assert_true(mv_cxx_match("std::function<long(short,unsigned)>",
				 "std::function<long int(short int,unsigned int)>"));
	assert_false(mv_cxx_match("std::function<long(long)>",
				  "std::function<long int(int)>"));
	assert_false(mv_cxx_match("std::function<long(long,long)>",
				  "std::function<long int(long int)>"));
	assert_false(mv_cxx_match("std::function<long(long)>",
				  "std::function<int(long int)>"));
}

static uint64_t member_offset(struct mv_type *t, const char *name)
{
	struct mv_type *s = mv_type_strip(t);
	for (size_t i = 0; i < s->nmembers; i++)
		if (s->members[i].name && !strcmp(s->members[i].name, name))
			return s->members[i].bit_position / 8;
	fail_msg("no member %s", name);
	return 0;
}

/* Each spelling of a type (gdb's, lldb's, g++'s DWARF, a user's) has
 * the compiler's size. */
static void assert_sizes(struct fixture *f, const char *fact_key,
			 const char *const *names)
{
	uint64_t want = fact_u64(f, fact_key);
	for (; *names; names++) {
		struct mv_type *t = parse_type(f, *names);
		if (t->size != want)
			fail_msg("'%s': size %llu, want %llu (%s)", *names,
				 (unsigned long long)t->size,
				 (unsigned long long)want, fact_key);
	}
}

static void test_cxx_types(void **state)
{
	struct fixture *f = need_core(state);
	static const char *const foo[] = {
		"ns::Foo<int>", "struct ns::Foo<int>", "class ns::Foo<int>",
		"ns::Foo< int >", "::ns::Foo<int>", NULL,
	};
	static const char *const foofoo[] = {
		"ns::Foo<ns::Foo<int> >", "ns::Foo<ns::Foo<int>>", NULL,
	};
	static const char *const bar[] = { "ns::inner::Bar",
					   "struct ns::inner::Bar", NULL };
	static const char *const nested[] = {
		"ns::inner::Bar::Nested", "ns::inner::Bar::nested_t", NULL,
	};
	static const char *const arr[] = { "Arr<5>", "struct Arr<5>", NULL };
	static const char *const hidden[] = {
		"(anonymous namespace)::Hidden", "Hidden", "struct Hidden",
		NULL,
	};
	static const char *const klass[] = { "Klass", "class Klass",
					     "struct Klass", NULL };
	static const char *const vec[] = {
		"std::vector<int, std::allocator<int> >", /* gdb, g++ */
		"std::vector<int, std::allocator<> >",    /* lldb 14 */
		"std::vector<int,std::allocator<int>>",
		"std::vector<int>", "class std::vector<int>", NULL,
	};
	/* Typedefs as template arguments: what they stand for. */
	static const char *const map[] = {
		"std::map<int, std::string>",
		"std::map<int, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<> >, std::less<int>, std::allocator<> >",
		NULL,
	};
	static const char *const str[] = {
		"std::string",
		"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
		"std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
		"std::basic_string<char>", NULL,
	};
	assert_sizes(f, "sizeof ns::Foo<int>", foo);
	assert_sizes(f, "sizeof ns::Foo<ns::Foo<int> >", foofoo);
	assert_sizes(f, "sizeof ns::inner::Bar", bar);
	assert_sizes(f, "sizeof ns::inner::Bar::Nested", nested);
	assert_sizes(f, "sizeof Arr<5>", arr);
	assert_sizes(f, "sizeof Hidden", hidden);
	assert_sizes(f, "sizeof Klass", klass);
	assert_sizes(f, "sizeof std::vector<int>", vec);
	assert_sizes(f, "sizeof std::string", str);
	assert_sizes(f, "sizeof std::map<int, std::string>", map);

	struct mv_type *t = parse_type(f, "ns::Foo<int>");
	assert_int_equal(member_offset(t, "b"),
			 fact_u64(f, "offsetof ns::Foo<int>.b"));
	assert_int_equal(member_offset(t, "p"),
			 fact_u64(f, "offsetof ns::Foo<int>.p"));
	t = parse_type(f, "ns::Foo<ns::Foo<int>>");
	assert_int_equal(member_offset(t, "b"),
			 fact_u64(f, "offsetof ns::Foo<ns::Foo<int> >.b"));
	t = parse_type(f, "Klass");
	assert_int_equal(member_offset(t, "name"),
			 fact_u64(f, "offsetof Klass.name"));
	assert_int_equal(parse_type(f, "ns::Foo<int> *")->size, 8);
	assert_int_equal(parse_type(f, "ns::Foo<int> [3]")->size,
			 3 * fact_u64(f, "sizeof ns::Foo<int>"));

	/* Names print qualified, as gdb spells them. */
	assert_type_name(parse_type(f, "std::vector<int>"),
			 "class std::vector<int, std::allocator<int> >");
	assert_type_name(parse_type(f, "Hidden"),
			 "struct (anonymous namespace)::Hidden");
	assert_type_name(parse_type(f, "ns::inner::Bar::nested_t"),
			 "ns::inner::Bar::nested_t");
	assert_type_name(mv_type_strip(parse_type(f,
					"ns::inner::Bar::nested_t")),
			 "struct ns::inner::Bar::Nested");

	/* "<>" matches any arguments: two instances, the user must say. */
	assert_type_fails(f, "ns::Foo<>", MV_ERR_INVALID, "several types");
	assert_type_fails(f, "ns::Nope<int>", MV_ERR_NOT_FOUND, "Nope");
	assert_type_fails(f, "ns::Foo<long>", MV_ERR_NOT_FOUND, "Foo<long>");
	assert_type_fails(f, "ns::Foo<int", MV_ERR_SYNTAX, "column");
	assert_type_fails(f, "(anonymous struct)", MV_ERR_NOT_FOUND,
			  "anonymous");
}

static void test_cxx_variables(void **state)
{
	struct fixture *f = need_core(state);
	static const char *const addrs[][2] = {
		{ "&ns::g_var", "addr ns::g_var" },
		{ "&::ns::g_var", "addr ns::g_var" },
		{ "&ns::g_fooint", "addr ns::g_fooint" },
		{ "&ns::g_foofoo", "addr ns::g_foofoo" },
		{ "&ns::Foo<int>::count", "addr ns::Foo<int>::count" },
		{ "&ns::Foo< int >::count", "addr ns::Foo<int>::count" },
		{ "&ns::inner::Bar::s_total", "addr ns::inner::Bar::s_total" },
		{ "&g_hidden", "addr g_hidden" },
		{ "&(anonymous namespace)::g_hidden", "addr g_hidden" },
		{ "&g_vec_int", "addr g_vec_int" },
		{ "&g_map", "addr g_map" },
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		uint64_t got = eval_scalar(f, addrs[i][0]);
		if (got != fact_u64(f, addrs[i][1]))
			fail_msg("%s: 0x%llx, want 0x%llx", addrs[i][0],
				 (unsigned long long)got,
				 (unsigned long long)fact_u64(f, addrs[i][1]));
	}
	assert_int_equal(eval_scalar(f, "ns::g_var"),
			 fact_u64(f, "value ns::g_var"));
	assert_int_equal(eval_scalar(f, "ns::inner::Bar::s_total"),
			 fact_u64(f, "value ns::inner::Bar::s_total"));
	assert_int_equal(eval_scalar(f, "g_vec_int._M_impl._M_start"),
			 fact_u64(f, "value g_vec_int.data"));
	/* Casts to C++ types, and the constants of cxxnames.cc. */
	char expr[128];
	unsigned long long fooint = fact_u64(f, "addr ns::g_fooint");
	snprintf(expr, sizeof(expr), "((ns::Foo<int> *)0x%llx)->b", fooint);
	assert_int_equal(eval_scalar(f, expr), 'f');
	snprintf(expr, sizeof(expr), "*((ns::Foo<int> *)0x%llx)->p", fooint);
	assert_int_equal(eval_scalar(f, expr), fact_u64(f, "value ns::g_var"));
	assert_int_equal(eval_scalar(f, "sizeof(ns::Foo<ns::Foo<int> >)"),
			 fact_u64(f, "sizeof ns::Foo<ns::Foo<int> >"));
	assert_int_equal(eval_scalar(f, "sizeof(std::vector<int>)"),
			 fact_u64(f, "sizeof std::vector<int>"));
	assert_eval_fails(f, "ns::nope", MV_ERR_NOT_FOUND, "ns::nope");
	assert_eval_fails(f, "ns::g_var<", MV_ERR_SYNTAX, "column");
}

/* Vtable and typeinfo symbols read as gdb prints them (c++filt's
 * answers); anything else is left to the caller. */
static void test_cxx_class_symbols(void **st)
{
	(void)st;
	static const char *const ok[][2] = {
		{ "_ZTV7Diamond", "vtable for Diamond" },
		{ "_ZTVN2ns5inner3BarE", "vtable for ns::inner::Bar" },
		{ "_ZTI4Poly", "typeinfo for Poly" },
		{ "_ZTS4Poly", "typeinfo name for Poly" },
		/* Templates and substitutions (libstdc++'s control blocks
		 * and streams). */
		{ "_ZTVN3FooIiEE", "vtable for Foo<int>" },
		{ "_ZTVSt23_Sp_counted_ptr_inplaceI4NodeSaIvELN9__gnu_cxx"
		  "12_Lock_policyE2EE",
		  "vtable for std::_Sp_counted_ptr_inplace<Node, "
		  "std::allocator<void>, (__gnu_cxx::_Lock_policy)2>" },
		{ "_ZTVSt15_Sp_counted_ptrIP4NodeLN9__gnu_cxx12_Lock_policyE"
		  "2EE",
		  "vtable for std::_Sp_counted_ptr<Node*, "
		  "(__gnu_cxx::_Lock_policy)2>" },
		{ "_ZTVNSt7__cxx1118basic_stringstreamIcSt11char_traitsIcESa"
		  "IcEEE",
		  "vtable for std::__cxx11::basic_stringstream<char, "
		  "std::char_traits<char>, std::allocator<char> >" },
		{ "_ZTVSo", "vtable for std::basic_ostream<char, "
			    "std::char_traits<char> >" },
		{ "_ZTIN12_GLOBAL__N_13AnoE",
		  "typeinfo for (anonymous namespace)::Ano" },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(mv_cxx_demangle_class_symbol(ok[i][0], buf,
							 sizeof(buf)));
		assert_string_equal(buf, ok[i][1]);
	}
	static const char *const no[] = {
		"_ZTV", "_ZTV0", "_ZTV9Diamond", "_ZTV7Diamondx",
		"_ZTVN2nsE7", "_ZTVN2ns", "_ZTVN3FooIiE", "g_diamond",
		"_ZTVN3FooIS9_EE", "_ZTIDi", "_ZTIFvvE",
		"_ZTV99999999999999999999999x", "_ZN2ns5g_varE",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(mv_cxx_demangle_class_symbol(no[i], buf,
							  sizeof(buf)));
	/* Too long for the buffer: refused, not cut. */
	assert_false(mv_cxx_demangle_class_symbol("_ZTV7Diamond", buf, 12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variable_lvalue),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_members_and_arrays),
		cmocka_unit_test(test_bitfields),
		cmocka_unit_test(test_casts_and_arithmetic),
		cmocka_unit_test(test_sizeof),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_expr_errors),
		cmocka_unit_test(test_no_target),
	};
	const struct CMUnitTest cxx_tests[] = {
		cmocka_unit_test(test_cxx_name_syntax),
		cmocka_unit_test(test_cxx_class_symbols),
		cmocka_unit_test(test_cxx_types),
		cmocka_unit_test(test_cxx_variables),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);
	return failed | cmocka_run_group_tests(cxx_tests, setup_cxx, teardown);
}
