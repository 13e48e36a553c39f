/* test_dwarf.c - DWARF types and variables (core/dwarf.c, core/type.c).
 *
 * Answer keys: the fixture's own facts (sizeof, offsetof, written by the
 * program itself), nm for variable addresses, pahole (Debian's dwarves)
 * for bitfield positions and glibc's struct sizes, and the C rules for
 * what the compiler must have done.  Nothing here comes from memview. */
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

#include "dwarf.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* ------------------------------------------------------------------ */
/* Answer keys                                                         */
/* ------------------------------------------------------------------ */

static char facts_path[512];

/* The facts of build/fixtures/basic: those of `make cores`, or the
 * program's own output when run here (sizes and offsets do not depend
 * on the run). */
static const char *basic_facts(void)
{
	if (facts_path[0])
		return facts_path;
	const char *f = mv_test_build_file("cores/basic.facts");
	if (f) {
		snprintf(facts_path, sizeof(facts_path), "%s", f);
		return facts_path;
	}
	const char *exe = mv_test_build_file_or_skip("fixtures/basic");
	snprintf(facts_path, sizeof(facts_path), "/tmp/mv-test-dwarf-%d.facts",
		 (int)getpid());
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "MV_FACTS='%s' '%s' >/dev/null 2>&1",
		 facts_path, exe);
	if (system(cmd) != 0)
		fail_msg("running %s failed", exe);
	return facts_path;
}

static bool fact(const char *key, char *value, size_t size)
{
	return mv_test_fact(basic_facts(), key, value, size);
}

static uint64_t fact_u64(const char *key)
{
	char v[128];
	if (!fact(key, v, sizeof(v)))
		fail_msg("no fact '%s' in %s", key, basic_facts());
	return strtoull(v, NULL, 0);
}

/* pahole's "byte:bit" (or "byte") position of member in struct name;
 * false if pahole is not installed or does not list it. */
static bool pahole_bit_position(const char *path, const char *name,
				const char *member, uint64_t *bit)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "pahole -C '%s' '%s' 2>/dev/null", name,
		 path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		char *comment = strstr(line, "/*");
		char *semi = strchr(line, ';');
		if (!comment || !semi || semi > comment)
			continue;
		/* "unsigned int b:5;" or "unsigned char d;": the name is
		 * the word before ':' or ';'. */
		char *end = semi;
		char *colon = memchr(line, ':', (size_t)(semi - line));
		if (colon)
			end = colon;
		char *start = end;
		while (start > line && (start[-1] == '_' ||
					(start[-1] >= 'a' && start[-1] <= 'z') ||
					(start[-1] >= 'A' && start[-1] <= 'Z') ||
					(start[-1] >= '0' && start[-1] <= '9')))
			start--;
		if ((size_t)(end - start) != strlen(member) ||
		    strncmp(start, member, (size_t)(end - start)) != 0)
			continue;
		unsigned long byte, bitoff = 0, size;
		if (sscanf(comment, "/* %lu:%lu %lu", &byte, &bitoff, &size) ==
			    3 ||
		    sscanf(comment, "/* %lu %lu", &byte, &size) == 2) {
			*bit = byte * 8 + bitoff;
			found = true;
		}
	}
	pclose(f);
	return found;
}

/* pahole's "size: N" of a struct. */
static bool pahole_size(const char *path, const char *name, uint64_t *size)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "pahole -C '%s' '%s' 2>/dev/null", name,
		 path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "/* size: ");
		unsigned long v;
		if (p && !found && sscanf(p, "/* size: %lu", &v) == 1) {
			*size = v;
			found = true;
		}
	}
	pclose(f);
	return found;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

struct state {
	struct mv_dwarf *basic;
	struct mv_dwarf *hostile;
};

static int setup(void **st)
{
	struct state *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	const char *basic = mv_test_build_file("fixtures/basic");
	const char *hostile = mv_test_build_file("fixtures/hostile_types");
	if (basic) {
		struct mv_error *err = mv_dwarf_open(basic, 0, &s->basic);
		if (err) {
			print_error("%s\n", mv_error_message(err));
			mv_error_destroy(err);
			free(s);
			return -1;
		}
	}
	if (hostile) {
		struct mv_error *err = mv_dwarf_open(hostile, 0, &s->hostile);
		if (err) {
			print_error("%s\n", mv_error_message(err));
			mv_error_destroy(err);
		}
	}
	*st = s;
	return 0;
}

static int teardown(void **st)
{
	struct state *s = *st;
	mv_dwarf_destroy(s->basic);
	mv_dwarf_destroy(s->hostile);
	free(s);
	if (facts_path[0] && strncmp(facts_path, "/tmp/", 5) == 0)
		unlink(facts_path);
	return 0;
}

static struct mv_dwarf *basic_or_skip(void **st)
{
	struct state *s = *st;
	if (!s->basic) {
		print_message("fixtures/basic not built: skipped\n");
		skip();
	}
	return s->basic;
}

static struct mv_dwarf *hostile_or_skip(void **st)
{
	struct state *s = *st;
	if (!s->hostile) {
		print_message("fixtures/hostile_types not built: skipped\n");
		skip();
	}
	return s->hostile;
}

static struct mv_type *find(struct mv_dwarf *d, enum mv_type_ns ns,
			    const char *name)
{
	struct mv_type *t = NULL;
	size_t ndefs = 0;
	struct mv_error *err = mv_dwarf_find_type(d, ns, name, 0, &t, &ndefs);
	if (err)
		fail_msg("find_type %s: %s", name, mv_error_message(err));
	assert_non_null(t);
	return t;
}

/* The member called name, looking into anonymous members; *bit gets its
 * position from the start of t. */
static struct mv_member *member(struct mv_type *t, const char *name,
				uint64_t *bit)
{
	t = mv_type_strip(t);
	for (size_t i = 0; i < t->nmembers; i++) {
		struct mv_member *m = &t->members[i];
		if (m->name && strcmp(m->name, name) == 0) {
			*bit = m->bit_position;
			return m;
		}
		if (!m->name) {
			uint64_t inner;
			struct mv_member *x = member(m->type, name, &inner);
			if (x) {
				*bit = m->bit_position + inner;
				return x;
			}
		}
	}
	return NULL;
}

static void assert_name(struct mv_type *t, const char *want)
{
	char buf[256];
	size_t n = mv_type_name(t, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

/* ------------------------------------------------------------------ */
/* Layouts of basic.c against its facts                                */
/* ------------------------------------------------------------------ */

/* Every "sizeof T N" and "offsetof T.m N" fact of basic.c. */
static void test_facts_layout(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	FILE *f = fopen(basic_facts(), "r");
	assert_non_null(f);
	char line[512];
	int checked = 0;
	while (fgets(line, sizeof(line), f)) {
		char kw[16], tag[16], rest[256];
		unsigned long long want;
		if (sscanf(line, "%15s %15s %255s %llu", kw, tag, rest,
			   &want) != 4)
			continue;
		enum mv_type_ns ns;
		if (strcmp(tag, "struct") == 0)
			ns = MV_NS_STRUCT;
		else if (strcmp(tag, "union") == 0)
			ns = MV_NS_UNION;
		else if (strcmp(tag, "enum") == 0)
			ns = MV_NS_ENUM;
		else
			continue;
		if (strcmp(kw, "sizeof") == 0) {
			struct mv_type *t = find(d, ns, rest);
			if (t->size != want)
				fail_msg("sizeof %s %s: %llu, want %llu", tag,
					 rest, (unsigned long long)t->size,
					 want);
			checked++;
		} else if (strcmp(kw, "offsetof") == 0) {
			char *dot = strchr(rest, '.');
			assert_non_null(dot);
			*dot = '\0';
			struct mv_type *t = find(d, ns, rest);
			uint64_t bit = 0;
			struct mv_member *m = member(t, dot + 1, &bit);
			if (!m)
				fail_msg("no member %s in %s", dot + 1, rest);
			if (bit != want * 8)
				fail_msg("offsetof %s.%s: bit %llu, want %llu",
					 rest, dot + 1,
					 (unsigned long long)bit, want * 8);
			checked++;
		}
	}
	fclose(f);
	/* basic.c states 25 of them; all must have been seen. */
	assert_true(checked >= 25);
}

static void test_struct_node(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *node = find(d, MV_NS_STRUCT, "node");
	assert_int_equal(node->kind, MV_TYPE_STRUCT);
	assert_true(node->is_complete);
	assert_string_equal(node->name, "node");
	assert_int_equal(node->nmembers, 2);
	assert_string_equal(node->members[0].name, "value");
	assert_string_equal(node->members[1].name, "next");
	assert_non_null(node->decl_file);
	assert_non_null(strstr(node->decl_file, "basic.c"));
	assert_int_equal(node->decl_line, 9);
	assert_non_null(node->cu_name);
	assert_non_null(strstr(node->cu_name, "basic.c"));

	/* next is loaded lazily and points back at the same node. */
	struct mv_type *next = node->members[1].type;
	assert_int_equal(next->kind, MV_TYPE_POINTER);
	assert_int_equal(next->size, 8);
	assert_null(next->target_);
	assert_non_null(next->lazy_);
	assert_ptr_equal(mv_type_target(next), node);
	assert_ptr_equal(next->target_, node);
	assert_ptr_equal(mv_type_target(next), node);
	assert_name(next, "struct node *");
	assert_name(node, "struct node");

	/* The cache: a second lookup is the same object. */
	assert_ptr_equal(find(d, MV_NS_STRUCT, "node"), node);
}

static void test_typedef(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *node = find(d, MV_NS_STRUCT, "node");
	struct mv_type *t = find(d, MV_NS_ORDINARY, "node_t");
	assert_int_equal(t->kind, MV_TYPE_TYPEDEF);
	assert_int_equal(t->size, fact_u64("sizeof struct node"));
	assert_ptr_equal(mv_type_target(t), node);
	assert_ptr_equal(mv_type_strip(t), node);
	assert_name(t, "node_t");
	assert_true(mv_type_is_aggregate(t));
	assert_int_equal(mv_type_alignment(t), 8);

	/* Base types under their DWARF names. */
	struct mv_type *ul = find(d, MV_NS_ORDINARY, "long unsigned int");
	assert_int_equal(ul->kind, MV_TYPE_INT);
	assert_int_equal(ul->size, sizeof(unsigned long));
	assert_false(ul->is_signed);
	assert_false(ul->is_char);
	struct mv_type *c = find(d, MV_NS_ORDINARY, "char");
	assert_int_equal(c->kind, MV_TYPE_INT);
	assert_true(c->is_char);
	assert_true(c->is_signed); /* x86-64: char is signed */
	struct mv_type *fl = find(d, MV_NS_ORDINARY, "float");
	assert_int_equal(fl->kind, MV_TYPE_FLOAT);
	assert_int_equal(fl->size, 4);
	assert_int_equal(mv_type_alignment(fl), 4);
	assert_false(mv_type_is_aggregate(fl));
	struct mv_type *st_t = find(d, MV_NS_ORDINARY, "size_t");
	assert_int_equal(st_t->size, sizeof(size_t));
	assert_ptr_equal(mv_type_strip(st_t), ul);
}

static void test_padded(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *t = find(d, MV_NS_STRUCT, "padded");
	assert_int_equal(t->size, fact_u64("sizeof struct padded"));
	assert_int_equal(t->nmembers, 5);
	const char *names[] = { "c", "l", "s", "i", "tail" };
	for (int i = 0; i < 5; i++) {
		char key[64];
		snprintf(key, sizeof(key), "offsetof struct padded.%s",
			 names[i]);
		assert_string_equal(t->members[i].name, names[i]);
		assert_int_equal(t->members[i].bit_position,
				 fact_u64(key) * 8);
		assert_int_equal(t->members[i].bit_size, 0);
	}
	assert_int_equal(mv_type_alignment(t), _Alignof(long));
	assert_name(t->members[1].type, "long int");
}

static void test_bitfields(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	const char *exe = mv_test_build_file("fixtures/basic");
	struct mv_type *t = find(d, MV_NS_STRUCT, "flags");
	assert_int_equal(t->size, fact_u64("sizeof struct flags"));
	assert_int_equal(t->nmembers, 5);
	/* The x86-64 psABI packs bitfields from the low bit of their
	 * storage unit: a:3 at 0, b:5 at 3, c:4 at 8, d (a whole char) at
	 * byte 2, e:40 fits the 64-bit unit at bit 24. */
	static const struct {
		const char *name;
		uint64_t bit;
		uint32_t size;
	} want[] = {
		{ "a", 0, 3 }, { "b", 3, 5 },  { "c", 8, 4 },
		{ "d", 16, 0 }, { "e", 24, 40 },
	};
	for (int i = 0; i < 5; i++) {
		struct mv_member *m = &t->members[i];
		assert_string_equal(m->name, want[i].name);
		assert_int_equal(m->bit_position, want[i].bit);
		assert_int_equal(m->bit_size, want[i].size);
		uint64_t pahole;
		if (pahole_bit_position(exe, "flags", want[i].name, &pahole))
			assert_int_equal(m->bit_position, pahole);
	}
	assert_int_equal(t->members[3].bit_position,
			 fact_u64("offsetof struct flags.d") * 8);
	/* c is a signed bitfield: its type says so. */
	assert_true(mv_type_strip(t->members[2].type)->is_signed);
	assert_false(mv_type_strip(t->members[0].type)->is_signed);
}

static void test_enum(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *t = find(d, MV_NS_ENUM, "color");
	assert_int_equal(t->kind, MV_TYPE_ENUM);
	assert_int_equal(t->size, fact_u64("sizeof enum color"));
	/* BLUE = -1 makes the compatible type int. */
	assert_true(t->is_signed);
	assert_int_equal(t->nenumerators, 3);
	assert_string_equal(t->enumerators[0].name, "RED");
	assert_int_equal(t->enumerators[0].value, 0);
	assert_string_equal(t->enumerators[1].name, "GREEN");
	assert_int_equal(t->enumerators[1].value, 5);
	assert_string_equal(t->enumerators[2].name, "BLUE");
	assert_int_equal(t->enumerators[2].value, -1);
	assert_int_equal(mv_type_alignment(t), 4);
	assert_name(t, "enum color");
	assert_false(mv_type_is_aggregate(t));
}

static void test_union_and_anonymous(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *u = find(d, MV_NS_UNION, "number");
	assert_int_equal(u->kind, MV_TYPE_UNION);
	assert_int_equal(u->size, fact_u64("sizeof union number"));
	assert_int_equal(u->nmembers, 3);
	for (size_t i = 0; i < u->nmembers; i++)
		assert_int_equal(u->members[i].bit_position, 0);
	assert_name(u->members[2].type, "unsigned char [8]");
	assert_int_equal(mv_type_alignment(u), 4);
	assert_true(mv_type_is_aggregate(u));

	struct mv_type *a = find(d, MV_NS_STRUCT, "anon");
	assert_int_equal(a->size, fact_u64("sizeof struct anon"));
	assert_int_equal(a->nmembers, 3);
	assert_null(a->members[1].name);
	assert_null(a->members[2].name);
	struct mv_type *au = a->members[1].type;
	assert_int_equal(au->kind, MV_TYPE_UNION);
	assert_null(au->name);
	assert_name(au, "union {...}");
	assert_name(a->members[2].type, "struct {...}");
	assert_int_equal(a->members[1].bit_position,
			 fact_u64("offsetof struct anon.as_long") * 8);
	uint64_t bit;
	assert_non_null(member(a, "y", &bit));
	assert_int_equal(bit, fact_u64("offsetof struct anon.y") * 8);
}

static void test_flexible_array(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *t = find(d, MV_NS_STRUCT, "flex");
	assert_int_equal(t->size, fact_u64("sizeof struct flex"));
	assert_int_equal(t->nmembers, 2);
	struct mv_type *data = t->members[1].type;
	assert_int_equal(data->kind, MV_TYPE_ARRAY);
	assert_false(data->has_count);
	assert_int_equal(data->size, 0);
	assert_int_equal(t->members[1].bit_position,
			 fact_u64("offsetof struct flex.data") * 8);
	assert_name(data, "int []");
	assert_name(t->members[0].type, "size_t");
	assert_int_equal(mv_type_alignment(data), 4);
}

static void test_matrix(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *t = find(d, MV_NS_STRUCT, "matrix");
	assert_int_equal(t->size, fact_u64("sizeof struct matrix"));
	assert_int_equal(t->nmembers, 6);

	/* int cells[2][3]: array(2) of array(3) of int. */
	struct mv_type *cells = t->members[0].type;
	assert_int_equal(cells->kind, MV_TYPE_ARRAY);
	assert_true(cells->has_count);
	assert_int_equal(cells->count, 2);
	assert_int_equal(cells->size, 2 * 3 * sizeof(int));
	struct mv_type *row = mv_type_target(cells);
	assert_int_equal(row->kind, MV_TYPE_ARRAY);
	assert_int_equal(row->count, 3);
	assert_int_equal(row->size, 3 * sizeof(int));
	struct mv_type *cell = mv_type_target(row);
	assert_int_equal(cell->kind, MV_TYPE_INT);
	assert_int_equal(cell->size, sizeof(int));
	assert_name(cells, "int [2][3]");
	assert_name(row, "int [3]");
	assert_true(mv_type_is_aggregate(cells));
	assert_int_equal(mv_type_alignment(cells), 4);

	/* const char *name: a pointer to a qualified char. */
	struct mv_type *name = t->members[1].type;
	assert_int_equal(name->kind, MV_TYPE_POINTER);
	struct mv_type *cc = mv_type_target(name);
	assert_int_equal(cc->kind, MV_TYPE_QUALIFIED);
	assert_int_equal(cc->quals, MV_QUAL_CONST);
	assert_int_equal(cc->size, 1);
	assert_true(mv_type_strip(cc)->is_char);
	assert_name(name, "const char *");
	assert_name(cc, "const char");

	/* volatile int counter. */
	struct mv_type *counter = t->members[2].type;
	assert_int_equal(counter->kind, MV_TYPE_QUALIFIED);
	assert_int_equal(counter->quals, MV_QUAL_VOLATILE);
	assert_int_equal(counter->size, sizeof(int));
	assert_name(counter, "volatile int");
	assert_int_equal(mv_type_alignment(counter), 4);

	/* int (*callback)(int, char *). */
	struct mv_type *cb = t->members[3].type;
	assert_int_equal(cb->kind, MV_TYPE_POINTER);
	assert_int_equal(cb->size, sizeof(void (*)(void)));
	struct mv_type *fn = mv_type_target(cb);
	assert_int_equal(fn->kind, MV_TYPE_FUNCTION);
	assert_int_equal(fn->size, 0);
	assert_int_equal(fn->nmembers, 2);
	assert_int_equal(mv_type_target(fn)->kind, MV_TYPE_INT);
	assert_name(fn->members[1].type, "char *");
	assert_name(cb, "int (*)(int, char *)");
	assert_name(fn, "int (int, char *)");

	assert_name(t->members[4].type, "enum color");
	assert_ptr_equal(t->members[4].type, find(d, MV_NS_ENUM, "color"));
	assert_ptr_equal(t->members[5].type, find(d, MV_NS_UNION, "number"));
	assert_int_equal(t->members[5].bit_position,
			 fact_u64("offsetof struct matrix.num") * 8);
	assert_int_equal(mv_type_alignment(t), 8);
}

static void test_declarations(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	/* <stdio.h> declares struct _IO_codecvt without a body. */
	struct mv_type *t = NULL;
	size_t ndefs = 99;
	struct mv_error *err = mv_dwarf_find_type(d, MV_NS_STRUCT,
						  "_IO_codecvt", 0, &t, &ndefs);
	assert_null(err);
	assert_false(t->is_complete);
	assert_int_equal(t->size, 0);
	assert_int_equal(t->nmembers, 0);
	assert_int_equal(ndefs, 0);
	assert_name(t, "struct _IO_codecvt");
}

static void test_declaration_vs_definition(void **st)
{
	struct mv_dwarf *d = hostile_or_skip(st);
	/* The hand-made unit declares struct twice; the C unit defines
	 * it: the definition wins, whichever order they come in. */
	struct mv_type *t = NULL;
	size_t ndefs = 0;
	assert_null(mv_dwarf_find_type(d, MV_NS_STRUCT, "twice", 0, &t,
				       &ndefs));
	assert_true(t->is_complete);
	assert_int_equal(ndefs, 1);
	assert_int_equal(t->size, 2 * sizeof(long));
	assert_int_equal(t->nmembers, 2);
	assert_non_null(strstr(t->cu_name, "hostile_types.c"));

	/* int is in both units; the hand-made one comes first and has no
	 * code.  With pc in main, the C unit's int. */
	uint64_t main_pc = 0;
	assert_true(mv_test_nm_value(mv_test_build_file("fixtures/hostile_types"),
				     "main", &main_pc));
	assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, "int", 0, &t,
				       &ndefs));
	assert_string_equal(t->cu_name, "hostile_dwarf.c");
	assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, "int", main_pc, &t,
				       &ndefs));
	assert_non_null(strstr(t->cu_name, "hostile_types.c"));
	assert_int_equal(t->size, sizeof(int));
}

static void test_variables_vs_nm(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	const char *exe = mv_test_build_file("fixtures/basic");
	static const struct {
		const char *name, *type;
	} vars[] = {
		{ "list_head", "struct node *" },
		{ "list_storage", "node_t [3]" },
		{ "padded_global", "struct padded" },
		{ "flags_global", "struct flags" },
		{ "anon_global", "struct anon" },
		{ "matrix_global", "struct matrix" },
		{ "flex_ptr", "struct flex *" },
		{ "int_array", "int [5]" },
		{ "greeting", "char [16]" },
		{ "bytes_global", "unsigned char [64]" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		uint64_t want = 0, addr = 0;
		struct mv_type *type = NULL;
		if (!mv_test_nm_value(exe, vars[i].name, &want))
			fail_msg("nm does not list %s", vars[i].name);
		struct mv_error *err = mv_dwarf_find_variable(
			d, vars[i].name, 0, &addr, &type);
		if (err)
			fail_msg("%s: %s", vars[i].name,
				 mv_error_message(err));
		assert_int_equal(addr, want);
		assert_name(type, vars[i].type);
	}
	/* The file-static function is not a variable. */
	uint64_t addr;
	struct mv_type *type;
	struct mv_error *err = mv_dwarf_find_variable(d, "callback_impl", 0,
						      &addr, &type);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
}

static void test_variable_bias(void **st)
{
	const char *exe = mv_test_build_file_or_skip("fixtures/basic");
	char v[64];
	/* A PIE's runtime address = link-time address + bias; the facts
	 * hold the runtime address of one run under gdb (no ASLR). */
	if (!mv_test_build_file("cores/basic.facts") ||
	    !fact("addr padded_global", v, sizeof(v)))
		skip();
	uint64_t runtime = strtoull(v, NULL, 0), linked = 0;
	assert_true(mv_test_nm_value(exe, "padded_global", &linked));
	struct mv_dwarf *d;
	assert_null(mv_dwarf_open(exe, runtime - linked, &d));
	uint64_t addr = 0;
	struct mv_type *type;
	assert_null(mv_dwarf_find_variable(d, "matrix_global", 0, &addr,
					   &type));
	assert_int_equal(addr, fact_u64("addr matrix_global"));
	mv_dwarf_destroy(d);
}

struct collect {
	int count;
	bool saw_padded, saw_greeting;
	struct mv_dwarf *d;
};

static bool collect_fn(void *arg, const char *name, uint64_t addr,
		       struct mv_type *type)
{
	struct collect *c = arg;
	c->count++;
	assert_non_null(type);
	uint64_t again;
	struct mv_type *t2;
	assert_null(mv_dwarf_find_variable(c->d, name, 0, &again, &t2));
	assert_int_equal(again, addr);
	if (strcmp(name, "padded_global") == 0)
		c->saw_padded = true;
	if (strcmp(name, "greeting") == 0)
		c->saw_greeting = true;
	return true;
}

static bool stop_fn(void *arg, const char *name, uint64_t addr,
		    struct mv_type *type)
{
	(*(int *)arg)++;
	return false;
}

static void test_for_each_variable(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct collect c = { .d = d };
	assert_null(mv_dwarf_for_each_variable(d, collect_fn, &c));
	assert_true(c.saw_padded);
	assert_true(c.saw_greeting);
	assert_true(c.count >= 10);
	int n = 0;
	assert_null(mv_dwarf_for_each_variable(d, stop_fn, &n));
	assert_int_equal(n, 1);

	struct mv_dwarf_stats stats;
	mv_dwarf_stats(d, &stats);
	assert_int_equal(stats.cus, 1);
	assert_true(stats.indexed_names > 20);
	assert_true(stats.types_built > 0);
}

static void test_missing(void **st)
{
	struct mv_dwarf *d = basic_or_skip(st);
	struct mv_type *t = NULL;
	struct mv_error *err =
		mv_dwarf_find_type(d, MV_NS_STRUCT, "no_such_struct", 0, &t,
				   NULL);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	assert_non_null(strstr(mv_error_message(err), "no_such_struct"));
	mv_error_destroy(err);
	/* Namespaces are separate: node is a struct tag, not a typedef. */
	err = mv_dwarf_find_type(d, MV_NS_ORDINARY, "node", 0, &t, NULL);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
	err = mv_dwarf_find_type(d, MV_NS_UNION, "node", 0, &t, NULL);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
	uint64_t addr;
	err = mv_dwarf_find_variable(d, "no_such_variable", 0, &addr, &t);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
}

static void test_no_dwarf(void **st)
{
	struct mv_dwarf *d = NULL;
	const char *path = mv_test_build_file("fixtures/basic_nodebug");
	if (!path)
		path = "/bin/true"; /* stripped by Debian */
	struct mv_error *err = mv_dwarf_open(path, 0, &d);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	assert_non_null(strstr(mv_error_message(err), path));
	assert_non_null(strstr(mv_error_message(err), "no DWARF"));
	mv_error_destroy(err);
}

static void test_not_elf(void **st)
{
	char path[] = "/tmp/mv-test-dwarf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "this is not an ELF file\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	struct mv_dwarf *d = NULL;
	struct mv_error *err = mv_dwarf_open(path, 0, &d);
	assert_non_null(err);
	assert_int_not_equal(mv_error_code(err), MV_ERR_NOMEM);
	assert_non_null(strstr(mv_error_message(err), path));
	mv_error_destroy(err);
	unlink(path);

	/* Empty file, then a missing one. */
	strcpy(path, "/tmp/mv-test-dwarf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	err = mv_dwarf_open(path, 0, &d);
	assert_non_null(err);
	mv_error_destroy(err);
	unlink(path);
	err = mv_dwarf_open(path, 0, &d);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_IO);
	mv_error_destroy(err);
}

/* Older DWARF, as other compilers and old builds write it: block-form
 * locations, DW_AT_bit_offset counted from the most significant bit,
 * file numbers from 1.  The same basic.c, compiled here by cc. */
static void test_older_dwarf_versions(void **st)
{
	if (access("tests/fixtures/basic.c", R_OK) != 0)
		skip();
	for (int v = 2; v <= 4; v++) {
		char exe[128], cmd[512];
		snprintf(exe, sizeof(exe), "/tmp/mv-test-dwarf-%d-v%d",
			 (int)getpid(), v);
		snprintf(cmd, sizeof(cmd),
			 "cc -std=gnu11 -g -gdwarf-%d -gstrict-dwarf -O0 "
			 "-Itests/fixtures -o %s tests/fixtures/basic.c "
			 ">/dev/null 2>&1",
			 v, exe);
		if (system(cmd) != 0) {
			print_message("cc -gdwarf-%d failed: skipped\n", v);
			continue;
		}
		struct mv_dwarf *d;
		struct mv_error *err = mv_dwarf_open(exe, 0, &d);
		if (err)
			fail_msg("DWARF %d: %s", v, mv_error_message(err));
		struct mv_type *t = find(d, MV_NS_STRUCT, "flags");
		static const uint64_t bits[] = { 0, 3, 8, 16, 24 };
		static const uint32_t sizes[] = { 3, 5, 4, 0, 40 };
		assert_int_equal(t->nmembers, 5);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(t->members[i].bit_position, bits[i]);
			assert_int_equal(t->members[i].bit_size, sizes[i]);
		}
		assert_non_null(t->decl_file);
		assert_non_null(strstr(t->decl_file, "basic.c"));
		t = find(d, MV_NS_STRUCT, "flex");
		assert_false(t->members[1].type->has_count);
		t = find(d, MV_NS_STRUCT, "matrix");
		assert_name(t->members[0].type, "int [2][3]");
		assert_name(t->members[3].type, "int (*)(int, char *)");
		assert_int_equal(t->size, fact_u64("sizeof struct matrix"));
		uint64_t addr, want;
		struct mv_type *type;
		assert_null(mv_dwarf_find_variable(d, "padded_global", 0,
						   &addr, &type));
		assert_true(mv_test_nm_value(exe, "padded_global", &want));
		assert_int_equal(addr, want);
		mv_dwarf_destroy(d);
		unlink(exe);
	}
}

/* ------------------------------------------------------------------ */
/* Hostile DWARF                                                       */
/* ------------------------------------------------------------------ */

static void test_hostile_typedef_cycles(void **st)
{
	struct mv_dwarf *d = hostile_or_skip(st);
	/* typedef loop_t loop_t: a placeholder, not a hang. */
	struct mv_type *t = find(d, MV_NS_ORDINARY, "loop_t");
	struct mv_type *s = mv_type_strip(t);
	assert_int_equal(s->kind, MV_TYPE_UNKNOWN);
	assert_non_null(strstr(s->name, "cycle"));
	assert_int_equal(mv_type_alignment(t), 1);
	assert_false(mv_type_is_aggregate(t));
	char buf[128];
	mv_type_name(t, buf, sizeof(buf));
	assert_string_equal(buf, "loop_t");

	/* loop_a -> loop_b -> loop_a. */
	struct mv_type *a = find(d, MV_NS_ORDINARY, "loop_a");
	s = mv_type_strip(a);
	assert_int_equal(s->kind, MV_TYPE_UNKNOWN);
	struct mv_type *b = find(d, MV_NS_ORDINARY, "loop_b");
	assert_int_equal(mv_type_strip(b)->kind, MV_TYPE_UNKNOWN);
}

static void test_hostile_self_by_value(void **st)
{
	struct mv_dwarf *d = hostile_or_skip(st);
	struct mv_type *t = find(d, MV_NS_STRUCT, "self_by_value");
	assert_int_equal(t->nmembers, 2);
	struct mv_type *me = t->members[0].type;
	assert_int_equal(me->kind, MV_TYPE_UNKNOWN);
	assert_non_null(strstr(me->name, "<type cycle at DIE 0x"));
	/* Through a typedef, too. */
	struct mv_type *again = mv_type_strip(t->members[1].type);
	assert_int_equal(again->kind, MV_TYPE_UNKNOWN);
	assert_int_equal(mv_type_alignment(t), 1);
	char buf[128];
	mv_type_name(t->members[0].type, buf, sizeof(buf));
	assert_non_null(strstr(buf, "cycle"));
}

static void test_hostile_member_beyond_size(void **st)
{
	struct mv_dwarf *d = hostile_or_skip(st);
	struct mv_type *t = find(d, MV_NS_STRUCT, "beyond");
	assert_int_equal(t->size, 4);
	assert_int_equal(t->nmembers, 2);
	/* Kept as the producer said; consumers bound it by size. */
	assert_int_equal(t->members[1].bit_position, 800);
	assert_int_equal(mv_type_alignment(t), 4);
}

static void test_hostile_arrays(void **st)
{
	struct mv_dwarf *d = hostile_or_skip(st);
	/* char[1 << 40]: counted, sized, nothing allocated. */
	struct mv_type *huge = find(d, MV_NS_ORDINARY, "huge_t");
	struct mv_type *arr = mv_type_strip(huge);
	assert_int_equal(arr->kind, MV_TYPE_ARRAY);
	assert_true(arr->has_count);
	assert_int_equal(arr->count, 1ULL << 40);
	assert_int_equal(arr->size, 1ULL << 40);
	assert_int_equal(huge->size, 1ULL << 40);
	assert_name(arr, "char [1099511627776]");

	/* long[1 << 62] is 2^65 bytes: not a type we can lay out. */
	struct mv_type *over = find(d, MV_NS_ORDINARY, "overflow_t");
	struct mv_type *o = mv_type_strip(over);
	assert_int_equal(o->kind, MV_TYPE_UNKNOWN);
	assert_non_null(strstr(o->name, "too large"));
	assert_int_equal(over->size, 0);

	/* char (*)[4] */
	uint64_t addr;
	struct mv_type *type;
	assert_null(mv_dwarf_find_variable(d, "array_ptr", 0, &addr, &type));
	assert_name(type, "char (*)[4]");
	assert_int_equal(mv_type_target(type)->size, 4);
	assert_null(mv_dwarf_find_variable(d, "huge_ptr", 0, &addr, &type));
	assert_name(type, "huge_t *");
}

/* ------------------------------------------------------------------ */
/* glibc's separate debug file                                         */
/* ------------------------------------------------------------------ */

static bool libc_debug_file(char *out, size_t size)
{
	FILE *f = popen("readelf -n " LIBC " 2>/dev/null", "r");
	if (!f)
		return false;
	char line[512], id[128] = "";
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "Build ID: ");
		if (p && !id[0]) {
			snprintf(id, sizeof(id), "%s", p + 10);
			id[strcspn(id, " \n")] = '\0';
		}
	}
	pclose(f);
	if (strlen(id) < 3)
		return false;
	snprintf(out, size, "/usr/lib/debug/.build-id/%.2s/%s.debug", id,
		 id + 2);
	return access(out, R_OK) == 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_glibc(void **st)
{
	char path[512];
	if (!libc_debug_file(path, sizeof(path))) {
		print_message("libc6-dbg not installed: skipped\n");
		skip();
	}
	double t0 = now();
	struct mv_dwarf *d;
	struct mv_error *err = mv_dwarf_open(path, 0, &d);
	if (err)
		fail_msg("%s", mv_error_message(err));
	double t1 = now();
	struct mv_dwarf_stats stats;
	mv_dwarf_stats(d, &stats);
	print_message("glibc: %zu units, %zu names indexed in %.3f s\n",
		      stats.cus, stats.indexed_names, t1 - t0);
	assert_true(stats.cus > 100);

	struct mv_type *ms = find(d, MV_NS_STRUCT, "malloc_state");
	struct mv_type *mc = find(d, MV_NS_STRUCT, "malloc_chunk");
	assert_true(ms->is_complete);
	assert_true(mc->is_complete);
	uint64_t want;
	if (pahole_size(path, "malloc_state", &want))
		assert_int_equal(ms->size, want);
	if (pahole_size(path, "malloc_chunk", &want))
		assert_int_equal(mc->size, want);
	/* struct malloc_chunk { size_t prev_size, size; fd, bk, ... }. */
	assert_int_equal(mc->nmembers, 6);
	assert_string_equal(mc->members[2].name, "fd");
	assert_int_equal(mc->members[2].bit_position, 16 * 8);
	assert_ptr_equal(mv_type_target(mc->members[2].type), mc);
	uint64_t bit;
	assert_non_null(member(ms, "top", &bit));
	if (pahole_bit_position(path, "malloc_state", "top", &want))
		assert_int_equal(bit, want);

	/* The compile unit containing pc wins: size_t is in hundreds of
	 * units (.debug_rnglists ranges for most of them). */
	uint64_t pc;
	struct mv_type *type;
	if (mv_test_nm_value(path, "__libc_malloc", &pc)) {
		assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, "size_t",
					       pc, &type, NULL));
		assert_string_equal(type->cu_name, "malloc.c");
	}
	if (mv_test_nm_value(path, "_IO_puts", &pc)) {
		assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, "size_t",
					       pc, &type, NULL));
		assert_string_equal(type->cu_name, "ioputs.c");
	}

	uint64_t addr;
	assert_null(mv_dwarf_find_variable(d, "main_arena", 0, &addr, &type));
	assert_ptr_equal(type, ms);
	uint64_t sym;
	if (mv_test_nm_value(path, "main_arena", &sym))
		assert_int_equal(addr, sym);
	/* int __libc_argc = ...; after an extern declaration: the
	 * definition names its declaration with DW_AT_specification. */
	if (mv_test_nm_value(path, "__libc_argc", &sym)) {
		assert_null(mv_dwarf_find_variable(d, "__libc_argc", 0, &addr,
						   &type));
		assert_int_equal(addr, sym);
		assert_name(type, "int");
	}
	mv_dwarf_destroy(d);
}

/* C++: namespaces are indexed at open, a class's members (nested
 * types) the first time a name needs them; qualified variables sit
 * where nm says their mangled symbols do. */
static void test_cxx_scopes(void **st)
{
	(void)st;
	const char *exe = mv_test_build_file_or_skip("fixtures/cxxnames");
	struct mv_dwarf *d;
	struct mv_type *t;
	struct mv_dwarf_stats before, after;
	assert_null(mv_dwarf_open(exe, 0, &d));
	assert_null(mv_dwarf_find_type(d, MV_NS_STRUCT, "ns::inner::Bar", 0,
				       &t, NULL));
	assert_string_equal(t->name, "ns::inner::Bar");
	/* DW_AT_name says "Nested": the scope says the rest. */
	assert_string_equal(mv_type_strip(t->members[2].type)->name,
			    "ns::inner::Bar::Nested");
	assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY,
				       "ns::inner::Bar::nested_t", 0, &t,
				       NULL));
	/* std::vector's members are indexed on the first name in it. */
	mv_dwarf_stats(d, &before);
	const char *size_type = "std::vector<int, std::allocator<int> >::size_type";
	assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, size_type, 0, &t,
				       NULL));
	assert_int_equal(t->size, sizeof(size_t));
	mv_dwarf_stats(d, &after);
	assert_true(after.indexed_names > before.indexed_names);
	assert_null(mv_dwarf_find_type(d, MV_NS_ORDINARY, size_type, 0, &t,
				       NULL));
	mv_dwarf_stats(d, &before);
	assert_int_equal(before.indexed_names, after.indexed_names);

	static const char *const vars[][2] = {
		{ "ns::g_var", "_ZN2ns5g_varE" },
		{ "ns::Foo<int>::count", "_ZN2ns3FooIiE5countE" },
		{ "ns::inner::Bar::s_total", "_ZN2ns5inner3Bar7s_totalE" },
		{ "(anonymous namespace)::g_hidden",
		  "_ZN12_GLOBAL__N_18g_hiddenE" },
		{ "g_hidden", "_ZN12_GLOBAL__N_18g_hiddenE" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		uint64_t addr = 0, nm = 0;
		assert_null(mv_dwarf_find_variable(d, vars[i][0], 0, &addr,
						   &t));
		if (mv_test_nm_value(exe, vars[i][1], &nm))
			assert_int_equal(addr, nm);
	}
	mv_dwarf_destroy(d);
}

/* C++ bases: DW_TAG_inheritance as members flagged MV_MEMBER_BASE; a
 * virtual base's offset is an expression reading the vtable (g++ puts
 * it 24 bytes before the vptr's address for the first one), not a
 * constant; the vptr is artificial; static members are not members. */
static void test_cxx_bases(void **st)
{
	(void)st;
	const char *exe = mv_test_build_file_or_skip("fixtures/cxxlayout");
	struct mv_dwarf *d;
	struct mv_type *t;
	assert_null(mv_dwarf_open(exe, 0, &d));
	assert_null(mv_dwarf_find_type(d, MV_NS_STRUCT, "V1", 0, &t, NULL));
	assert_int_equal(t->nmembers, 3);
	assert_int_equal(t->members[0].flags,
			 MV_MEMBER_BASE | MV_MEMBER_VIRTUAL_BASE);
	assert_int_equal(t->members[0].vbase_slot, 24);
	assert_string_equal(mv_type_strip(t->members[0].type)->name, "VB");
	assert_string_equal(t->members[1].name, "_vptr.V1");
	assert_int_equal(t->members[1].flags, MV_MEMBER_ARTIFICIAL);
	assert_int_equal(t->members[2].flags, 0);

	assert_null(mv_dwarf_find_type(d, MV_NS_STRUCT, "Multi", 0, &t,
				       NULL));
	assert_int_equal(t->nmembers, 3);
	assert_int_equal(t->members[0].flags, MV_MEMBER_BASE);
	assert_int_equal(t->members[0].bit_position, 12 * 8);
	assert_int_equal(t->members[1].flags, MV_MEMBER_BASE);
	assert_int_equal(t->members[1].bit_position, 0);

	assert_null(mv_dwarf_find_type(d, MV_NS_STRUCT, "Derived", 0, &t,
				       NULL));
	assert_int_equal(t->nmembers, 2); /* Base, d: not s_count */
	mv_dwarf_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_layout),
		cmocka_unit_test(test_struct_node),
		cmocka_unit_test(test_typedef),
		cmocka_unit_test(test_padded),
		cmocka_unit_test(test_bitfields),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_union_and_anonymous),
		cmocka_unit_test(test_flexible_array),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_declarations),
		cmocka_unit_test(test_declaration_vs_definition),
		cmocka_unit_test(test_variables_vs_nm),
		cmocka_unit_test(test_variable_bias),
		cmocka_unit_test(test_for_each_variable),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_older_dwarf_versions),
		cmocka_unit_test(test_hostile_typedef_cycles),
		cmocka_unit_test(test_hostile_self_by_value),
		cmocka_unit_test(test_hostile_member_beyond_size),
		cmocka_unit_test(test_hostile_arrays),
		cmocka_unit_test(test_glibc),
		cmocka_unit_test(test_cxx_scopes),
		cmocka_unit_test(test_cxx_bases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
