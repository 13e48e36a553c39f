/* test_xnum_zdebug.c - compressed DWARF: `gcc -gz=zlib` (SHF_COMPRESSED
 * sections that start with an Elf64_Chdr) and `-gz=zlib-gnu` (the older
 * .zdebug_* sections that start with "ZLIB" and a big-endian size), as
 * Debian's -dbgsym packages and many distributions ship them.
 *
 * The variants are built here from tests/fixtures/basic.c by gcc, and
 * compressed by objcopy; run from the top of the tree.  Expected values:
 * basic.c itself (the line of "struct node {", its members), and the
 * line table as this file reads it; never memview.  Layouts against
 * pahole: tests/integration/test_elf_hostile.py. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mv_test.h"

#include "dwarf.h"

#define SOURCE "tests/fixtures/basic.c"

/* DWARF 5's numbers (libdwarf's dwarf.h is shadowed by core/dwarf.h). */
#define DW_LNCT_directory_index 0x2
#define DW_FORM_udata 0x0f
#define DW_FORM_line_strp 0x1f

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	uint8_t *data = malloc((size_t)st.st_size);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)st.st_size, f),
			 (size_t)st.st_size);
	fclose(f);
	*size = (size_t)st.st_size;
	return data;
}

/* The section header called name, read here with <elf.h>. */
static bool find_section(const uint8_t *d, size_t size, const char *name,
			 Elf64_Shdr *ret)
{
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	Elf64_Shdr strs;
	assert_true(eh.e_shoff + (eh.e_shstrndx + 1) * sizeof(strs) <= size);
	memcpy(&strs, d + eh.e_shoff + eh.e_shstrndx * sizeof(strs),
	       sizeof(strs));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		memcpy(ret, d + eh.e_shoff + i * sizeof(*ret), sizeof(*ret));
		if (!strcmp((const char *)d + strs.sh_offset + ret->sh_name,
			    name))
			return true;
	}
	return false;
}

/* The line of "struct node {" in basic.c. */
static unsigned node_line(void)
{
	FILE *f = fopen(SOURCE, "r");
	if (!f)
		fail_msg("%s: run the tests from the top of the tree", SOURCE);
	char line[512];
	unsigned n = 0, found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		n++;
		if (!strncmp(line, "struct node {", 13))
			found = n;
	}
	fclose(f);
	assert_true(found > 0);
	return found;
}

static void build(const char *out, const char *gz)
{
	sh("cc -std=gnu11 -g -O0 -gz=%s -I tests/fixtures -o %s %s", gz, out,
	   SOURCE);
}

static struct mv_type *struct_node(struct mv_dwarf *d)
{
	struct mv_type *t = NULL;
	struct mv_error *err = mv_dwarf_find_type(d, MV_NS_STRUCT, "node", 0,
						  &t, NULL);
	if (err)
		fail_msg("struct node: %s", mv_error_message(err));
	assert_int_equal(t->kind, MV_TYPE_STRUCT);
	assert_true(t->is_complete);
	assert_int_equal(t->nmembers, 2);
	assert_string_equal(t->members[0].name, "value");
	assert_string_equal(t->members[1].name, "next");
	return t;
}

static struct mv_dwarf *open_dwarf(const char *path)
{
	struct mv_dwarf *d = NULL;
	struct mv_error *err = mv_dwarf_open(path, 0, &d);
	if (err)
		fail_msg("%s: %s", path, mv_error_message(err));
	return d;
}

/* Types and their file and line, from each form. */
static void test_compressed(void **state)
{
	const char *gz = tmp("basic-gz"), *gnu = tmp("basic-zgnu");
	build(gz, "zlib");
	build(gnu, "zlib-gnu");
	size_t size;
	Elf64_Shdr s;
	uint8_t *d = slurp(gz, &size);
	assert_true(find_section(d, size, ".debug_info", &s));
	assert_true(s.sh_flags & SHF_COMPRESSED);
	assert_true(find_section(d, size, ".debug_line", &s));
	assert_true(s.sh_flags & SHF_COMPRESSED);
	free(d);
	d = slurp(gnu, &size);
	assert_true(find_section(d, size, ".zdebug_info", &s));
	assert_true(find_section(d, size, ".zdebug_line", &s));
	assert_false(find_section(d, size, ".debug_info", &s));
	free(d);

	const char *paths[] = {gz, gnu};
	for (int i = 0; i < 2; i++) {
		struct mv_dwarf *dw = open_dwarf(paths[i]);
		struct mv_type *t = struct_node(dw);
		if (!t->decl_file || !strstr(t->decl_file, "basic.c"))
			fail_msg("%s: struct node from '%s'", paths[i],
				 t->decl_file ? t->decl_file : "(none)");
		assert_int_equal(t->decl_line, node_line());
		mv_dwarf_destroy(dw);
	}
}

static uint64_t uleb(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* Points the first file of the first line table (DWARF 5, as gcc 12
 * writes it) at the directory just past the end of the table: the
 * header fuzz_dwarf found making libdwarf 20210528 read a wild pointer
 * (its own check is off by one). */
static void break_line_table(uint8_t *d, size_t size)
{
	Elf64_Shdr s;
	assert_true(find_section(d, size, ".debug_line", &s));
	assert_false(s.sh_flags & SHF_COMPRESSED);
	const uint8_t *p = d + s.sh_offset, *end = p + s.sh_size;
	uint16_t version;
	memcpy(&version, p + 4, 2);
	assert_int_equal(version, 5);
	uint8_t opcode_base = p[17];
	p += 18 + opcode_base - 1;
	uint64_t ndirs = 0;
	for (int table = 0; table < 2; table++) {
		uint8_t nformats = *p++;
		uint64_t formats[2 * 8];
		assert_true(nformats <= 8);
		for (int i = 0; i < nformats; i++) {
			formats[2 * i] = uleb(&p, end);
			formats[2 * i + 1] = uleb(&p, end);
		}
		uint64_t count = uleb(&p, end);
		if (table == 0) {
			ndirs = count;
			assert_true(ndirs > 0 && ndirs < 0x80);
		}
		for (uint64_t k = 0; k < count; k++) {
			for (int i = 0; i < nformats; i++) {
				uint64_t form = formats[2 * i + 1];
				if (table == 1 && k == 0 &&
				    formats[2 * i] == DW_LNCT_directory_index) {
					assert_int_equal(form, DW_FORM_udata);
					assert_true(*p < 0x80);
					*(uint8_t *)p = (uint8_t)ndirs;
					return;
				}
				if (form == DW_FORM_line_strp)
					p += 4;
				else if (form == DW_FORM_udata)
					uleb(&p, end);
				else
					fail_msg("line table form 0x%llx",
						 (unsigned long long)form);
			}
		}
	}
	fail_msg("no directory index in the file table");
}

/* A compressed line table is checked like a plain one: its unit loses
 * its file names, and its types still load. */
static void test_compressed_bad_line_table(void **state)
{
	const char *exe = mv_test_build_path("fixtures/basic");
	size_t size;
	uint8_t *d = slurp(exe, &size);
	break_line_table(d, size);
	const char *bad = tmp("bad"), *bad_gz = tmp("bad-gz"),
		   *bad_gnu = tmp("bad-zgnu");
	FILE *f = fopen(bad, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	free(d);
	sh("objcopy --compress-debug-sections=zlib %s %s", bad, bad_gz);
	sh("objcopy --compress-debug-sections=zlib-gnu %s %s", bad, bad_gnu);

	const char *paths[] = {bad, bad_gz, bad_gnu};
	for (int i = 0; i < 3; i++) {
		struct mv_dwarf *dw = open_dwarf(paths[i]);
		struct mv_type *t = struct_node(dw);
		if (t->decl_file)
			fail_msg("%s: the bad line table was read: struct "
				 "node from '%s'", paths[i], t->decl_file);
		mv_dwarf_destroy(dw);
	}

	/* The sound table as .debug_line and the bad one as .zdebug_line
	 * in one file: the guard checks only the first, which is safe
	 * because libdwarf refuses such a file. */
	const char *zline = tmp("zline"), *both = tmp("both");
	sh("objcopy --dump-section .zdebug_line=%s %s %s", zline, bad_gnu,
	   tmp("scratch"));
	sh("objcopy --add-section .zdebug_line=%s %s %s", zline, exe, both);
	struct mv_dwarf *dw = NULL;
	struct mv_error *err = mv_dwarf_open(both, 0, &dw);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "DEBUG_LINE_DUPLICATE"));
	mv_error_destroy(err);
}

static void set_be64(uint8_t *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(v >> (56 - 8 * k));
}

/* A compressed line table that does not inflate to its stated size, or
 * claims more than zlib can give: no file names, no crash.  With the
 * true size back, the names are there. */
static void test_compressed_lies(void **state)
{
	const char *gnu = tmp("basic-zgnu");
	if (access(gnu, R_OK))
		build(gnu, "zlib-gnu");
	size_t size;
	uint8_t *d = slurp(gnu, &size);
	Elf64_Shdr s;
	assert_true(find_section(d, size, ".zdebug_line", &s));
	uint8_t *hdr = d + s.sh_offset;
	assert_memory_equal(hdr, "ZLIB", 4);
	uint64_t real = 0;
	for (int k = 4; k < 12; k++)
		real = real << 8 | hdr[k];
	const uint64_t sizes[] = {0, 1, real - 1, real + 1, 1u << 20,
				  UINT64_MAX, real};
	for (int i = 0; i < 7; i++) {
		set_be64(hdr + 4, sizes[i]);
		const char *path = tmp("lies");
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(d, 1, size, f), size);
		assert_int_equal(fclose(f), 0);
		struct mv_dwarf *dw = open_dwarf(path);
		struct mv_type *t = struct_node(dw);
		if (sizes[i] == real)
			assert_non_null(t->decl_file);
		else if (t->decl_file)
			fail_msg("stated size %llu of %llu: file names read",
				 (unsigned long long)sizes[i],
				 (unsigned long long)real);
		mv_dwarf_destroy(dw);
	}
	free(d);
}

static int setup(void **state)
{
	return mv_test_tmpdir_make(tmpdir, "zdebug");
}

static int teardown(void **state)
{
	return mv_test_tmpdir_remove(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_compressed_bad_line_table),
		cmocka_unit_test(test_compressed_lies),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
