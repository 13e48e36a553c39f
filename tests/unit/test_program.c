/* test_program.c - the ELF reader and the program's objfiles.
 *
 * Answer keys: nm and readelf (independent tools) for symbols and
 * build-ids; the fixture's own facts (build/cores/basic.facts, written by
 * the program itself) for addresses and sizes in the core. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h> /* core/elf.h and the system's <elf.h> */

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_open.h"
#include "mv_test.h"

#include "program.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static char tmpdir[64];

/* Build-id as readelf prints it. */
static bool readelf_build_id(const char *path, char *out, size_t size)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[512];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "Build ID: ");
		if (p && !found) {
			snprintf(out, size, "%s", p + 10);
			out[strcspn(out, " \n")] = '\0';
			found = true;
		}
	}
	pclose(f);
	return found;
}

static char *tmp_path(const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	void *data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static bool has_warning(const char *const *w, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(w[i], needle))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* ELF                                                                 */
/* ------------------------------------------------------------------ */

/* Every defined .symtab symbol nm lists, with nm's value, and nothing
 * that nm does not list. */
static void test_elf_symbols_match_nm(void **state)
{
	const char *path = mv_test_build_file_or_skip("fixtures/basic");
	struct mv_elf *e;
	assert_null(mv_elf_open(path, &e));
	assert_true(mv_elf_type(e) == ET_DYN || mv_elf_type(e) == ET_EXEC);
	assert_true(mv_elf_is_executable(e));
	assert_true(mv_elf_has_debug_info(e));
	assert_true(mv_elf_has_symtab(e));
	const struct mv_elf_segment *loads;
	assert_true(mv_elf_loads(e, &loads) >= 2);

	const struct mv_elf_symbol *syms;
	size_t n = mv_elf_symbols(e, &syms);
	size_t ours = 0;
	for (size_t i = 0; i < n; i++)
		if (!syms[i].dynamic && syms[i].shndx != SHN_UNDEF)
			ours++;

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s'", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[1024];
	size_t theirs = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char type, name[900];
		if (sscanf(line, "%llx %c %899s", &v, &type, name) != 3)
			continue;
		theirs++;
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = !syms[i].dynamic &&
				strcmp(syms[i].name, name) == 0 &&
				syms[i].value == v;
		if (!found)
			fail_msg("nm's %s at 0x%llx is missing", name, v);
	}
	pclose(f);
	assert_true(theirs > 20);
	assert_int_equal(ours, theirs);
	mv_elf_destroy(e);
}

static void test_elf_build_ids_match_readelf(void **state)
{
	const char *paths[] = {mv_test_build_file("fixtures/basic"), LIBC};
	for (size_t i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		char want[256];
		assert_true(readelf_build_id(paths[i], want, sizeof(want)));
		struct mv_elf *e;
		assert_null(mv_elf_open(paths[i], &e));
		assert_non_null(mv_elf_build_id(e));
		assert_string_equal(mv_elf_build_id(e), want);
		mv_elf_destroy(e);
	}
}

static void test_elf_libc(void **state)
{
	struct mv_elf *e;
	assert_null(mv_elf_open(LIBC, &e));
	assert_int_equal(mv_elf_type(e), ET_DYN);
	assert_false(mv_elf_is_executable(e));
	/* Debian strips libc: symbols only in .dynsym, DWARF elsewhere. */
	assert_false(mv_elf_has_debug_info(e));
	assert_true(mv_elf_has_dynsym(e));
	const char *link;
	uint32_t crc;
	assert_true(mv_elf_debuglink(e, &link, &crc));
	assert_true(strlen(link) > 0);
	uint64_t want;
	assert_false(mv_test_nm_value(LIBC, "malloc", &want)); /* no .symtab */
	/* nm -D is the oracle for .dynsym. */
	bool seen_malloc = false;
	assert_true(mv_test_nm(LIBC, "-D", "malloc", &want));
	const struct mv_elf_symbol *s;
	size_t n = mv_elf_symbols(e, &s);
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, "malloc") == 0 && s[i].dynamic)
			seen_malloc = s[i].value == want;
	assert_true(seen_malloc);
	mv_elf_destroy(e);
}

static void test_elf_truncated_and_not_elf(void **state)
{
	const char *path = mv_test_build_file_or_skip("fixtures/basic");
	size_t len;
	unsigned char *data = read_whole(path, &len);

	char *trunc = tmp_path("truncated");
	write_file(trunc, data, 4096);
	struct mv_elf *e = NULL;
	struct mv_error *err = mv_elf_open(trunc, &e);
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_FORMAT);
	char want[600];
	snprintf(want, sizeof(want),
		 "%s: truncated ELF (section headers past end)", trunc);
	assert_string_equal(mv_error_message(err), want);
	mv_error_destroy(err);

	char *text = tmp_path("text");
	write_file(text, "hello, not an ELF\n", 18);
	err = mv_elf_open(text, &e);
	assert_non_null(err);
	snprintf(want, sizeof(want), "%s: not an ELF file", text);
	assert_string_equal(mv_error_message(err), want);
	mv_error_destroy(err);

	char *empty = tmp_path("empty");
	write_file(empty, "", 0);
	err = mv_elf_open(empty, &e);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "not an ELF file"));
	mv_error_destroy(err);

	err = mv_elf_open(tmpdir, &e); /* a directory */
	assert_non_null(err);
	mv_error_destroy(err);

	err = mv_elf_open("/nonexistent/memview/file", &e);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);

	/* Just the header: every offset points past the end. */
	err = mv_elf_open_memory("header", data, 64, false, &e);
	assert_non_null(err);
	mv_error_destroy(err);
	free(trunc);
	free(text);
	free(empty);
	free(data);
}

/* .strtab cut short: names past its end are dropped with a warning, the
 * others survive. */
static void test_elf_bad_symbol_names(void **state)
{
	const char *path = mv_test_build_file_or_skip("fixtures/basic");
	size_t len;
	unsigned char *data = read_whole(path, &len);
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	assert_true(eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) <=
		    len);
	Elf64_Shdr strndx;
	memcpy(&strndx, data + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr),
	       sizeof(strndx));
	bool cut = false;
	for (size_t i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		unsigned char *at = data + eh.e_shoff + i * sizeof(sh);
		memcpy(&sh, at, sizeof(sh));
		const char *name = (const char *)data + strndx.sh_offset +
				   sh.sh_name;
		if (strcmp(name, ".strtab") == 0) {
			sh.sh_size = 40;
			memcpy(at, &sh, sizeof(sh));
			cut = true;
		}
	}
	assert_true(cut);
	struct mv_elf *e;
	assert_null(mv_elf_open_memory("cut", data, len, false, &e));
	const char *const *w;
	size_t nw = mv_elf_warnings(e, &w);
	assert_true(has_warning(w, nw, "bad name offsets"));
	const struct mv_elf_symbol *syms;
	size_t n = mv_elf_symbols(e, &syms);
	for (size_t i = 0; i < n; i++)
		assert_true(strlen(syms[i].name) > 0);
	mv_elf_destroy(e);
	free(data);
}

/* Random damage to headers and tables: errors or warnings, never a
 * crash (the sanitizer build checks the reads). */
static void test_elf_mutations(void **state)
{
	const char *path = mv_test_build_file_or_skip("fixtures/basic");
	size_t len;
	unsigned char *orig = read_whole(path, &len);
	unsigned char *data = malloc(len);
	assert_non_null(data);
	Elf64_Ehdr eh;
	memcpy(&eh, orig, sizeof(eh));
	srand(12345);
	for (int round = 0; round < 300; round++) {
		memcpy(data, orig, len);
		for (int k = 0; k < 6; k++) {
			size_t at;
			switch (rand() % 3) {
			case 0: /* ELF and program headers */
				at = (size_t)rand() % 1024;
				break;
			case 1: /* section headers */
				at = eh.e_shoff + (size_t)rand() %
					(eh.e_shnum * sizeof(Elf64_Shdr));
				break;
			default:
				at = (size_t)rand() % len;
			}
			if (at < len)
				data[at] = (unsigned char)rand();
		}
		size_t cut = round % 4 == 0 ? (size_t)rand() % len : len;
		struct mv_elf *e;
		struct mv_error *err = mv_elf_open_memory("mutant", data, cut,
							  round % 2, &e);
		if (err) {
			assert_true(strlen(mv_error_message(err)) > 0);
			mv_error_destroy(err);
			continue;
		}
		const struct mv_elf_symbol *s;
		size_t n = mv_elf_symbols(e, &s);
		for (size_t i = 0; i < n; i++)
			assert_non_null(s[i].name);
		const void *d;
		size_t sz;
		mv_elf_section(e, ".debug_info", &d, &sz);
		mv_elf_destroy(e);
	}
	free(data);
	free(orig);
}

static void test_elf_crc32(void **state)
{
	/* The standard check value of CRC-32. */
	assert_int_equal(mv_elf_crc32(0, "123456789", 9), 0xcbf43926u);
	uint32_t part = mv_elf_crc32(0, "12345", 5);
	assert_int_equal(mv_elf_crc32(part, "6789", 4), 0xcbf43926u);
}

/* The basic fixture's absolute path, for commands run elsewhere. */
static void basic_path(char out[PATH_MAX])
{
	const char *rel = mv_test_build_file("fixtures/basic");
	assert_non_null(rel);
	assert_non_null(realpath(rel, out));
}

/* A .gnu_debuglink made by objcopy (which computes the CRC itself) is
 * followed; the same name as a FIFO is not waited on: memview hung in
 * the CRC's read (found by fuzz_elf, for an objfile under
 * /proc/self/fd whose debuglink named one of its descriptors). */
static void test_debuglink_regular_and_fifo(void **state)
{
	(void)state;
	char basic[PATH_MAX];
	basic_path(basic);
	char *dbg = tmp_path("basic.debug");
	char *exe = tmp_path("basic-stripped");
	char *cmd;
	assert_true(asprintf(&cmd,
			     "cd %s && objcopy --only-keep-debug %s basic.debug"
			     " && objcopy --strip-debug "
			     "--add-gnu-debuglink=basic.debug %s basic-stripped",
			     tmpdir, basic, basic) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	struct mv_program *p;
	struct mv_objfile *o;
	assert_null(mv_program_create(NULL, &p));
	assert_null(mv_program_add_objfile(p, exe, 0, true, &o));
	assert_non_null(o->debug_how);
	assert_string_equal(o->debug_how, "debuglink");
	assert_string_equal(o->debug_path, dbg);
	mv_program_destroy(p);

	assert_int_equal(unlink(dbg), 0);
	assert_int_equal(mkfifo(dbg, 0600), 0);
	alarm(20); /* a hang fails the test instead of stalling it */
	assert_null(mv_program_create(NULL, &p));
	assert_null(mv_program_add_objfile(p, exe, 0, true, &o));
	assert_null(o->debug_path);
	mv_program_destroy(p);
	alarm(0);
	unlink(dbg);
	unlink(exe);
	free(dbg);
	free(exe);
}

/* 100,000 local symbols of one name and one global of it (objcopy
 * --add-symbol; ARM's $x and statics repeat names the same way): a
 * lookup by name gives the global.  The name hash keeps one slot per
 * name, so the duplicates cost one probe each (a slot per symbol made
 * a chain: 5 * 10^9 probes here); the alarm only guards a hang. */
static void test_many_symbols_one_name(void **state)
{
	(void)state;
	char basic[PATH_MAX];
	basic_path(basic);
	char *args = tmp_path("dup.args");
	char *exe = tmp_path("basic-dup");
	FILE *f = fopen(args, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "--add-symbol mv_dup=.data:%d,local,object\n",
			i % 8);
	fprintf(f, "--add-symbol mv_dup=.data:12,global,object\n");
	assert_int_equal(fclose(f), 0);
	char *cmd;
	assert_true(asprintf(&cmd, "objcopy @%s %s %s", args, basic, exe) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	/* The global's value, from nm --extern-only. */
	uint64_t want, addr;
	assert_true(mv_test_nm(exe, "--extern-only", "mv_dup", &want));
	alarm(20); /* a quadratic build fails the test instead of stalling */
	struct mv_program *p;
	struct mv_objfile *o;
	assert_null(mv_program_create(NULL, &p));
	assert_null(mv_program_add_objfile(p, exe, 0, true, &o));
	assert_true(mv_program_find_symbol(p, "mv_dup", &addr, NULL));
	alarm(0);
	assert_int_equal(addr, want);
	mv_program_destroy(p);
	unlink(args);
	unlink(exe);
	free(args);
	free(exe);
}

/* ------------------------------------------------------------------ */
/* Objfiles without a target                                           */
/* ------------------------------------------------------------------ */

static void test_objfile_debug_files(void **state)
{
	struct mv_program *p;
	assert_null(mv_program_create(NULL, &p));
	struct mv_objfile *o;

	const char *basic = mv_test_build_file("fixtures/basic");
	if (basic) {
		assert_null(mv_program_add_objfile(p, basic, 0x1000, true, &o));
		assert_null(o->open_error);
		assert_string_equal(o->debug_how, "embedded");
		assert_string_equal(o->debug_path, basic);
		assert_true(o->has_symbols);
		assert_true(o->is_main);
		assert_int_equal(o->bias, 0x1000);
		uint64_t v, addr;
		assert_true(mv_test_nm_value(basic, "padded_global", &v));
		assert_true(mv_program_find_symbol(p, "padded_global", &addr,
						   NULL));
		assert_int_equal(addr, v + 0x1000);
	}

	assert_null(mv_program_add_objfile(p, LIBC, 0, false, &o));
	assert_null(o->open_error);
	assert_non_null(o->build_id);
	char path[512];
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug",
		 o->build_id, o->build_id + 2);
	if (access(path, R_OK) == 0) {
		/* libc6-dbg is installed: found by build-id. */
		assert_string_equal(o->debug_how, "build-id");
		assert_string_equal(o->debug_path, path);
		assert_null(o->missing_hint);
		/* Its .symtab names static functions .dynsym lacks. */
		uint64_t addr;
		assert_true(mv_program_find_symbol(p, "malloc", &addr, NULL));
	} else {
		print_message("libc6-dbg not installed: checking the hint\n");
		assert_null(o->debug_path);
		assert_string_equal(o->missing_hint, "install libc6-dbg");
	}

	/* No debug info anywhere: /bin/true under its own name, and under
	 * a glibc library's name. */
	assert_null(mv_program_add_objfile(p, "/bin/true", 0, false, &o));
	if (!o->debug_path) {
		assert_string_equal(o->missing_hint,
				    "no debug info: rebuild with -g or install "
				    "its -dbgsym package");
		struct mv_dwarf *d;
		struct mv_error *err = mv_objfile_dwarf(o, &d);
		assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
		mv_error_destroy(err);
	}
	size_t len;
	void *data = read_whole("/bin/true", &len);
	char *fake = tmp_path("libm.so.6");
	write_file(fake, data, len);
	free(data);
	assert_null(mv_program_add_objfile(p, fake, 0, false, &o));
	if (!o->debug_path)
		assert_string_equal(o->missing_hint, "install libc6-dbg");
	free(fake);

	/* Files that cannot be opened are still listed, with the reason. */
	assert_null(mv_program_add_objfile(p, "/nonexistent/lib.so", 0, false,
					   &o));
	assert_null(o->elf);
	assert_non_null(strstr(o->open_error, "No such file"));
	char *text = tmp_path("notelf.so");
	write_file(text, "#!/bin/sh\n", 10);
	assert_null(mv_program_add_objfile(p, text, 0, false, &o));
	assert_non_null(strstr(o->open_error, "not an ELF file"));
	free(text);

	struct mv_objfile **all;
	assert_int_equal(mv_program_objfiles(p, &all), basic ? 6 : 5);
	mv_program_destroy(p);
}

static void test_synthetic_types(void **state)
{
	struct mv_program *p;
	assert_null(mv_program_create(NULL, &p));
	struct mv_type *v = mv_program_void_type(p);
	assert_int_equal(v->kind, MV_TYPE_VOID);
	assert_ptr_equal(mv_program_void_type(p), v);

	struct mv_type *i = mv_program_base_type(p, "int", MV_TYPE_INT, 4,
						 true);
	assert_non_null(i);
	assert_int_equal(i->size, 4);
	assert_true(i->is_signed);
	assert_ptr_equal(mv_program_base_type(p, "int", MV_TYPE_INT, 4, true),
			 i);
	struct mv_type *c = mv_program_base_type(p, "char", MV_TYPE_INT, 1,
						 true);
	assert_true(c->is_char);
	assert_ptr_not_equal(c, i);

	struct mv_type *pi = mv_program_pointer_type(p, i);
	assert_int_equal(pi->kind, MV_TYPE_POINTER);
	assert_int_equal(pi->size, 8);
	assert_ptr_equal(mv_type_target(pi), i);
	assert_ptr_equal(mv_program_pointer_type(p, i), pi);
	assert_ptr_not_equal(mv_program_pointer_type(p, c), pi);
	struct mv_type *pv = mv_program_pointer_type(p, NULL);
	assert_ptr_equal(mv_type_target(pv), v);

	struct mv_type *a = mv_program_array_type(p, i, 3, true);
	assert_int_equal(a->kind, MV_TYPE_ARRAY);
	assert_int_equal(a->size, 12);
	assert_int_equal(a->count, 3);
	assert_true(a->is_complete);
	assert_ptr_equal(mv_program_array_type(p, i, 3, true), a);
	assert_ptr_not_equal(mv_program_array_type(p, i, 4, true), a);
	struct mv_type *flex = mv_program_array_type(p, i, 0, false);
	assert_false(flex->has_count);
	assert_false(flex->is_complete);
	struct mv_type *huge = mv_program_array_type(p, i, UINT64_MAX / 2,
						     true);
	assert_int_equal(huge->size, UINT64_MAX);
	assert_false(huge->is_complete);
	struct mv_type *grid = mv_program_array_type(p, a, 2, true);
	assert_int_equal(grid->size, 24);

	struct mv_type *ci = mv_program_qualified_type(p, i, MV_QUAL_CONST);
	assert_int_equal(ci->kind, MV_TYPE_QUALIFIED);
	assert_int_equal(ci->quals, MV_QUAL_CONST);
	assert_int_equal(ci->size, 4);
	assert_ptr_equal(mv_program_qualified_type(p, i, MV_QUAL_CONST), ci);
	assert_ptr_equal(mv_program_qualified_type(p, i, 0), i);
	assert_ptr_equal(mv_type_strip(ci), i);

	/* Many distinct types: the cache keeps them apart. */
	struct mv_type *prev = i;
	for (int k = 0; k < 1000; k++)
		prev = mv_program_pointer_type(p, prev);
	struct mv_type *again = i;
	for (int k = 0; k < 1000; k++)
		again = mv_program_pointer_type(p, again);
	assert_ptr_equal(prev, again);
	mv_program_destroy(p);
}

/* ------------------------------------------------------------------ */
/* The real core                                                       */
/* ------------------------------------------------------------------ */

struct core_ctx {
	const char *core, *facts, *exe;
	struct mv_target *t;
	struct mv_program *p;
};

static void open_core(struct core_ctx *c, const char *core_path,
		      const char *exe)
{
	mv_test_open_core(core_path, exe, &c->t, &c->p);
}

static void close_core(struct core_ctx *c)
{
	mv_program_destroy(c->p);
	mv_target_destroy(c->t);
}

static struct mv_objfile *find_objfile(struct mv_program *p,
				       const char *suffix)
{
	struct mv_objfile **all;
	size_t n = mv_program_objfiles(p, &all);
	for (size_t i = 0; i < n; i++) {
		size_t a = strlen(all[i]->path), b = strlen(suffix);
		if (a >= b && strcmp(all[i]->path + a - b, suffix) == 0)
			return all[i];
	}
	return NULL;
}

static void test_core_objfiles(void **state)
{
	struct core_ctx c = {0};
	c.core = mv_test_build_file_or_skip("cores/basic.core");
	c.facts = mv_test_build_file_or_skip("cores/basic.facts");
	c.exe = mv_test_build_file_or_skip("fixtures/basic");
	open_core(&c, c.core, NULL);

	struct mv_objfile *exe = find_objfile(c.p, "fixtures/basic");
	assert_non_null(exe);
	assert_true(exe->is_main);
	assert_string_equal(exe->debug_how, "embedded");
	struct mv_objfile *libc = find_objfile(c.p, "/libc.so.6");
	assert_non_null(libc);
	assert_false(libc->is_main);
	assert_non_null(find_objfile(c.p, "/ld-linux-x86-64.so.2"));
	struct mv_objfile **all;
	size_t n = mv_program_objfiles(c.p, &all);
	size_t mains = 0;
	for (size_t i = 0; i < n; i++)
		mains += all[i]->is_main;
	assert_int_equal(mains, 1);

	/* The bias, from the fixture's own &padded_global and nm's value. */
	uint64_t want = mv_test_fact_u64(c.facts, "addr padded_global");
	uint64_t nm;
	assert_true(mv_test_nm_value(c.exe, "padded_global", &nm));
	assert_int_equal(exe->bias, want - nm);
	assert_ptr_equal(mv_program_objfile_at(c.p, want), exe);
	assert_true(exe->start <= want && want < exe->end);

	uint64_t addr, size;
	assert_true(mv_program_find_symbol(c.p, "padded_global", &addr,
					   &size));
	assert_int_equal(addr, want);
	assert_int_equal(size, mv_test_fact_u64(c.facts, "sizeof struct padded"));
	const char *name;
	uint64_t off;
	assert_true(mv_program_symbolize(c.p, want + 4, &name, &off));
	assert_string_equal(name, "padded_global");
	assert_int_equal(off, 4);
	assert_true(mv_program_symbolize(c.p, mv_test_fact_u64(c.facts,
						       "addr int_array") + 8,
					 &name, &off));
	assert_string_equal(name, "int_array");
	assert_int_equal(off, 8);

	/* A libc function, through libc's own bias. */
	assert_true(mv_program_find_symbol(c.p, "malloc", &addr, NULL));
	assert_ptr_equal(mv_program_objfile_at(c.p, addr), libc);
	assert_true(mv_program_symbolize(c.p, addr, &name, &off));
	assert_int_equal(off, 0);
	assert_false(mv_program_find_symbol(c.p, "no_such_symbol_xyz", NULL,
					    NULL));
	close_core(&c);
}

/* Needs dwarf.c: fails until the DWARF reader can find struct padded. */
static void test_core_find_type(void **state)
{
	struct core_ctx c = {0};
	c.core = mv_test_build_file_or_skip("cores/basic.core");
	c.facts = mv_test_build_file_or_skip("cores/basic.facts");
	open_core(&c, c.core, NULL);
	struct mv_type *t;
	const char *note;
	struct mv_error *err = mv_program_find_type(c.p, MV_NS_STRUCT,
						    "padded", 0, &t, &note);
	if (err)
		fail_msg("find_type(struct padded): %s",
			 mv_error_message(err));
	assert_int_equal(t->kind, MV_TYPE_STRUCT);
	assert_int_equal(t->size, mv_test_fact_u64(c.facts, "sizeof struct padded"));
	assert_true(t->is_complete);

	uint64_t addr;
	struct mv_type *vt;
	err = mv_program_find_variable(c.p, "padded_global", 0, &addr, &vt);
	if (err)
		fail_msg("find_variable: %s", mv_error_message(err));
	assert_int_equal(addr, mv_test_fact_u64(c.facts, "addr padded_global"));
	close_core(&c);
}

static void test_core_exe(void **state)
{
	struct core_ctx c = {0};
	c.core = mv_test_build_file_or_skip("cores/basic.core");
	c.facts = mv_test_build_file_or_skip("cores/basic.facts");
	c.exe = mv_test_build_file_or_skip("fixtures/basic");

	/* The right executable under another path: accepted, same bias. */
	size_t len;
	void *data = read_whole(c.exe, &len);
	char *copy = tmp_path("basic-copy");
	write_file(copy, data, len);
	free(data);
	open_core(&c, c.core, copy);
	struct mv_objfile *o = find_objfile(c.p, "basic-copy");
	assert_non_null(o);
	assert_true(o->is_main);
	assert_null(find_objfile(c.p, "fixtures/basic"));
	uint64_t addr;
	assert_true(mv_program_find_symbol(c.p, "padded_global", &addr, NULL));
	assert_int_equal(addr, mv_test_fact_u64(c.facts, "addr padded_global"));
	close_core(&c);
	free(copy);

	/* Another program: refused, naming both build-ids. */
	assert_null(mv_target_open_core(c.core, &c.t));
	assert_null(mv_program_create(c.t, &c.p));
	struct mv_error *err = mv_program_load_target_objfiles(c.p,
							       "/bin/true");
	assert_non_null(err);
	assert_int_equal(mv_error_code(err), MV_ERR_INVALID);
	assert_non_null(strstr(mv_error_message(err),
			       "core was not produced by /bin/true"));
	char id[256];
	assert_true(readelf_build_id("/bin/true", id, sizeof(id)));
	assert_non_null(strstr(mv_error_message(err), id));
	assert_true(readelf_build_id(c.exe, id, sizeof(id)));
	assert_non_null(strstr(mv_error_message(err), id));
	mv_error_destroy(err);
	close_core(&c);
}

/* A core whose file list names files that are gone: libc renamed to a
 * path that does not exist, and the executable too.  The load goes on,
 * with warnings. */
static void test_core_missing_files(void **state)
{
	const char *core = mv_test_build_file_or_skip("cores/basic.core");
	const char *facts = mv_test_build_file_or_skip("cores/basic.facts");
	const char *exe = mv_test_build_file_or_skip("fixtures/basic");
	char exe_abs[PATH_MAX];
	assert_non_null(realpath(exe, exe_abs));
	size_t len;
	unsigned char *data = read_whole(core, &len);
	/* Same-length replacements keep the notes well-formed. */
	struct {
		const char *from, *to;
	} edits[2] = {{LIBC, "/lib/x86_64-linux-gnu/libQ.so.6"},
		      {exe_abs, NULL}};
	char *gone = strdup(exe_abs);
	assert_non_null(gone);
	gone[strlen(gone) - 1] = 'Q'; /* .../basiQ */
	edits[1].to = gone;
	for (int k = 0; k < 2; k++) {
		size_t m = strlen(edits[k].from);
		size_t hits = 0;
		for (unsigned char *at = data;
		     (at = memmem(at, len - (size_t)(at - data), edits[k].from,
				  m + 1));
		     at += m) {
			memcpy(at, edits[k].to, m);
			hits++;
		}
		assert_true(hits > 0);
	}
	char *edited = tmp_path("edited.core");
	write_file(edited, data, len);
	free(data);

	struct core_ctx c = {0};
	open_core(&c, edited, NULL);
	const char *const *w;
	size_t nw = mv_program_warnings(c.p, &w);
	assert_true(has_warning(w, nw, "libQ.so.6"));
	assert_true(has_warning(w, nw, "basiQ"));
	struct mv_objfile *o = find_objfile(c.p, "basiQ");
	assert_non_null(o);
	assert_null(o->elf);
	assert_non_null(o->open_error);
	assert_true(o->is_main);
	uint64_t want = mv_test_fact_u64(facts, "addr padded_global");
	assert_ptr_equal(mv_program_objfile_at(c.p, want), o);
	assert_false(mv_program_find_symbol(c.p, "padded_global", NULL, NULL));
	const char *name;
	uint64_t off;
	assert_false(mv_program_symbolize(c.p, want, &name, &off));
	struct mv_type *t;
	struct mv_error *err = mv_program_find_type(c.p, MV_NS_STRUCT,
						    "no_such_struct", 0, &t,
						    NULL);
	assert_int_equal(mv_error_code(err), MV_ERR_NOT_FOUND);
	mv_error_destroy(err);
	close_core(&c);

	/* Naming the executable fixes it. */
	open_core(&c, edited, exe);
	uint64_t addr;
	assert_true(mv_program_find_symbol(c.p, "padded_global", &addr, NULL));
	assert_int_equal(addr, want);
	close_core(&c);
	unlink(edited);
	free(edited);
	free(gone);
}

/* A core whose file list does not name the executable (here the path is
 * turned into a pseudo-path like "[anon]"): the named executable is
 * placed by AT_ENTRY and checked against the header in memory. */
static void test_core_exe_unlisted(void **state)
{
	const char *core = mv_test_build_file_or_skip("cores/basic.core");
	const char *facts = mv_test_build_file_or_skip("cores/basic.facts");
	const char *exe = mv_test_build_file_or_skip("fixtures/basic");
	char exe_abs[PATH_MAX];
	assert_non_null(realpath(exe, exe_abs));
	size_t len;
	unsigned char *data = read_whole(core, &len);
	size_t m = strlen(exe_abs), hits = 0;
	for (unsigned char *at = data;
	     (at = memmem(at, len - (size_t)(at - data), exe_abs, m + 1));
	     at += m) {
		at[0] = '[';
		hits++;
	}
	assert_true(hits > 0);
	char *edited = tmp_path("unlisted.core");
	write_file(edited, data, len);
	free(data);

	struct core_ctx c = {0};
	open_core(&c, edited, exe);
	struct mv_objfile *o = find_objfile(c.p, "fixtures/basic");
	assert_non_null(o);
	assert_true(o->is_main);
	uint64_t addr;
	assert_true(mv_program_find_symbol(c.p, "padded_global", &addr, NULL));
	assert_int_equal(addr, mv_test_fact_u64(facts, "addr padded_global"));
	close_core(&c);
	unlink(edited);
	free(edited);
}

/* A live process whose executable was deleted after it started: listed
 * with a warning, and replaced (with the right bias) by the file the user
 * names. */
static void test_live_deleted_exe(void **state)
{
	const char *exe = mv_test_build_file_or_skip("fixtures/basic");
	size_t len;
	void *data = read_whole(exe, &len);
	char *copy = tmp_path("basic-deleted");
	char *facts = tmp_path("live.facts");
	char *ready = tmp_path("ready");
	write_file(copy, data, len);
	free(data);
	assert_int_equal(chmod(copy, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("MV_WAIT", "1", 1);
		setenv("MV_FACTS", facts, 1);
		setenv("MV_READY", ready, 1);
		execl(copy, copy, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && access(ready, F_OK) != 0; i++)
		usleep(10000);
	bool started = access(ready, F_OK) == 0;
	unlink(copy);
	struct mv_target *t = NULL;
	struct mv_error *err = started ? mv_target_open_pid(pid, &t) : NULL;
	if (!started || err) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (err)
			print_message("cannot read the process (%s): skipped\n",
				      mv_error_message(err));
		mv_error_destroy(err);
		assert_true(started);
		skip();
	}
	struct mv_program *p;
	assert_null(mv_program_create(t, &p));
	assert_null(mv_program_load_target_objfiles(p, NULL));
	const char *const *w;
	size_t nw = mv_program_warnings(p, &w);
	assert_true(has_warning(w, nw, "basic-deleted: deleted after it was "
				"mapped"));
	struct mv_objfile *o = find_objfile(p, "basic-deleted (deleted)");
	assert_non_null(o);
	assert_null(o->elf);
	assert_true(o->is_main);
	mv_program_destroy(p);

	assert_null(mv_program_create(t, &p));
	assert_null(mv_program_load_target_objfiles(p, exe));
	nw = mv_program_warnings(p, &w);
	assert_false(has_warning(w, nw, "basic-deleted"));
	uint64_t addr;
	assert_true(mv_program_find_symbol(p, "padded_global", &addr, NULL));
	assert_int_equal(addr, mv_test_fact_u64(facts, "addr padded_global"));
	mv_program_destroy(p);
	mv_target_destroy(t);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(copy);
	free(facts);
	free(ready);
}

static int setup(void **state)
{
	return mv_test_tmpdir_make(tmpdir, "test-program");
}

static int teardown(void **state)
{
	return mv_test_tmpdir_remove(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_symbols_match_nm),
		cmocka_unit_test(test_elf_build_ids_match_readelf),
		cmocka_unit_test(test_elf_libc),
		cmocka_unit_test(test_elf_truncated_and_not_elf),
		cmocka_unit_test(test_elf_bad_symbol_names),
		cmocka_unit_test(test_elf_mutations),
		cmocka_unit_test(test_elf_crc32),
		cmocka_unit_test(test_debuglink_regular_and_fifo),
		cmocka_unit_test(test_many_symbols_one_name),
		cmocka_unit_test(test_objfile_debug_files),
		cmocka_unit_test(test_synthetic_types),
		cmocka_unit_test(test_core_objfiles),
		cmocka_unit_test(test_core_exe),
		cmocka_unit_test(test_core_missing_files),
		cmocka_unit_test(test_core_exe_unlisted),
		cmocka_unit_test(test_live_deleted_exe),
		cmocka_unit_test(test_core_find_type),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
