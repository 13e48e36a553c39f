/* test_xnum.c - ELF extended numbering of program headers, in the core
 * reader and the ELF reader.
 *
 * With 0xffff program headers or more (a process with that many
 * mappings: big JVMs and databases), e_phnum is PN_XNUM and the count is
 * in section header 0's sh_info.  The cores here are the basic fixture's
 * gcore core with its count moved into section header 0, or taken away;
 * the executables likewise.  Expected values: the program headers as
 * this file reads them from the unpatched files with <elf.h>, and the
 * fixture's own facts; never memview.  A real core of 70,000 mappings
 * dumped by Linux is tested by tests/integration/test_elf_hostile.py. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <inttypes.h>
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

#include "memview.h"

static char tmpdir[64];

/* A missing fixture or core fails here, where the message can name it,
 * rather than in the slurp() or fact lookup it was meant for. */
static const char *build_file(const char *rel)
{
	const char *path = mv_test_build_file(rel);
	if (!path)
		fail_msg("%s not built (make fixtures cores)", rel);
	return path;
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
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

static const char *spit(const char *name, const void *data, size_t size)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	return path;
}

static Elf64_Ehdr ehdr(const uint8_t *data)
{
	Elf64_Ehdr eh;
	memcpy(&eh, data, sizeof(eh));
	return eh;
}

static Elf64_Phdr phdr(const uint8_t *data, unsigned i)
{
	Elf64_Ehdr eh = ehdr(data);
	Elf64_Phdr ph;
	memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
	return ph;
}

static void set_phnum(uint8_t *data, uint16_t phnum)
{
	memcpy(data + offsetof(Elf64_Ehdr, e_phnum), &phnum, 2);
}

static void set_shoff(uint8_t *data, uint64_t shoff)
{
	memcpy(data + offsetof(Elf64_Ehdr, e_shoff), &shoff, 8);
}

/* sh_info of section header 0. */
static void set_sh0_info(uint8_t *data, uint32_t info)
{
	Elf64_Ehdr eh = ehdr(data);
	memcpy(data + eh.e_shoff + offsetof(Elf64_Shdr, sh_info), &info, 4);
}

static bool has_note(const char *const *w, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(w[i], needle))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The count                                                           */
/* ------------------------------------------------------------------ */

/* An image: header, nph program headers at 64, then data, then one
 * section header. */
struct image {
	uint8_t bytes[64 + 8 * sizeof(Elf64_Phdr) + 256 + sizeof(Elf64_Shdr)];
	size_t size;
};

static void make_image(struct image *im, unsigned nph)
{
	memset(im, 0, sizeof(*im));
	Elf64_Ehdr eh = {
		.e_ident = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, 1},
		.e_type = ET_CORE,
		.e_machine = EM_X86_64,
		.e_phoff = 64,
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = PN_XNUM,
		.e_shentsize = sizeof(Elf64_Shdr),
		.e_shnum = 1,
	};
	uint64_t data = 64 + nph * sizeof(Elf64_Phdr);
	for (unsigned i = 0; i < nph; i++) {
		/* Segment i's bytes: 16 at data + 16 * i.  The table ends
		 * where the first of them begins. */
		Elf64_Phdr ph = {
			.p_type = i ? PT_LOAD : PT_NOTE,
			.p_offset = data + 16 * (nph - 1 - i),
			.p_filesz = 16,
			.p_memsz = 16,
			.p_vaddr = 0x10000 + 0x1000 * i,
		};
		memcpy(im->bytes + 64 + i * sizeof(ph), &ph, sizeof(ph));
	}
	eh.e_shoff = data + 256;
	memcpy(im->bytes, &eh, sizeof(eh));
	im->size = eh.e_shoff + sizeof(Elf64_Shdr);
}

static uint64_t count(const struct image *im, const char **why)
{
	Elf64_Ehdr eh = ehdr(im->bytes);
	return mv_elf_phdr_count(im->bytes, im->size, &eh, why);
}

static void test_count(void **state)
{
	struct image im;
	const char *why;

	/* The count in section header 0, even past the end of the file
	 * (the readers then warn that the core is truncated). */
	make_image(&im, 5);
	set_sh0_info(im.bytes, 70000);
	assert_int_equal(count(&im, &why), 70000);
	assert_null(why);

	/* A plain e_phnum. */
	set_phnum(im.bytes, 5);
	assert_int_equal(count(&im, &why), 5);
	assert_null(why);

	/* sh_info 0: binutils' reading, the count is unknown; the table
	 * is read up to the first segment's bytes. */
	make_image(&im, 5);
	assert_int_equal(count(&im, &why), 5);
	assert_non_null(strstr(why, "sh_info 0"));
	make_image(&im, 8);
	assert_int_equal(count(&im, &why), 8);

	/* No section header 0: none at all, past the end, wrong size. */
	make_image(&im, 5);
	set_shoff(im.bytes, 0);
	assert_int_equal(count(&im, &why), 5);
	assert_non_null(strstr(why, "no section header 0"));
	make_image(&im, 5);
	set_shoff(im.bytes, im.size - 1);
	assert_int_equal(count(&im, &why), 5);
	assert_non_null(strstr(why, "no section header 0"));
	make_image(&im, 5);
	im.bytes[offsetof(Elf64_Ehdr, e_shentsize)] = 40;
	assert_int_equal(count(&im, &why), 5);
	assert_non_null(strstr(why, "no section header 0"));

	/* A table the file cannot hold, or at an offset near 2^64. */
	make_image(&im, 5);
	set_shoff(im.bytes, 0);
	Elf64_Ehdr eh = ehdr(im.bytes);
	assert_int_equal(mv_elf_phdr_count(im.bytes, 64 + 2 * 56 + 3, &eh,
					   &why), 2);
	eh.e_phoff = UINT64_MAX - 10;
	assert_int_equal(mv_elf_phdr_count(im.bytes, im.size, &eh, &why), 0);
	assert_non_null(why);
}

/* Headers with no bytes of their own end nowhere: the unknown count
 * stops at PN_XNUM, the least a file with e_phnum PN_XNUM has. */
static void test_count_bounded(void **state)
{
	size_t size = 64 + 70000 * sizeof(Elf64_Phdr);
	uint8_t *d = calloc(1, size);
	assert_non_null(d);
	Elf64_Ehdr eh = {.e_phoff = 64, .e_phnum = PN_XNUM,
			 .e_phentsize = sizeof(Elf64_Phdr)};
	const char *why;
	assert_int_equal(mv_elf_phdr_count(d, size, &eh, &why), PN_XNUM);
	assert_non_null(why);
	free(d);
}

/* ------------------------------------------------------------------ */
/* The core reader                                                     */
/* ------------------------------------------------------------------ */

/* Opens data as a core; every PT_LOAD of orig (the unpatched core) must
 * be there with its permissions and dumped bytes, and int_array must
 * read as the fixture wrote it. */
static struct mv_target *open_and_compare(const uint8_t *orig,
					  const uint8_t *data, size_t size)
{
	struct mv_target *t;
	struct mv_error *err = mv_target_open_core(spit("x.core", data, size),
						   &t);
	if (err)
		fail_msg("%s", mv_error_message(err));
	Elf64_Ehdr eh = ehdr(orig);
	unsigned nloads = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr(orig, i);
		if (ph.p_type != PT_LOAD)
			continue;
		nloads++;
		const struct mv_region *r = mv_target_find_region(t, ph.p_vaddr);
		assert_non_null(r);
		assert_int_equal(r->start, ph.p_vaddr);
		assert_true(r->end <= ph.p_vaddr + ph.p_memsz);
		assert_int_equal(r->perms & MV_PERM_W,
				 ph.p_flags & PF_W ? MV_PERM_W : 0);
		assert_int_equal(r->dumped ? 1 : 0, ph.p_filesz ? 1 : 0);
	}
	assert_true(nloads > 10);
	char fact[512];
	if (!mv_test_fact(build_file("cores/basic.facts"), "addr int_array",
			  fact, sizeof(fact)))
		fail_msg("no fact 'addr int_array' in basic.facts");
	uint64_t a = strtoull(fact, NULL, 0);
	int ints[5];
	static const int want[5] = {10, 20, 30, 40, 50}; /* basic.c */
	assert_null(mv_target_read(t, a, ints, sizeof(ints)));
	assert_memory_equal(ints, want, sizeof(ints));
	return t;
}

static void test_core(void **state)
{
	size_t size;
	uint8_t *orig = slurp(build_file("cores/basic.core"), &size);
	Elf64_Ehdr eh = ehdr(orig);
	assert_true(eh.e_phnum > 10 && eh.e_phnum < PN_XNUM);
	assert_true(eh.e_shoff && eh.e_shnum); /* gcore writes sections */
	uint8_t *d = malloc(size);
	assert_non_null(d);
	const char *const *w;
	size_t nw;
	struct mv_target *t;

	/* The count moved into section header 0, as Linux writes it. */
	memcpy(d, orig, size);
	set_phnum(d, PN_XNUM);
	set_sh0_info(d, eh.e_phnum);
	t = open_and_compare(orig, d, size);
	nw = mv_target_warnings(t, &w);
	assert_false(has_note(w, nw, "PN_XNUM"));
	assert_false(has_note(w, nw, "truncated"));
	mv_target_destroy(t);

	/* PN_XNUM and no count: the headers before the notes. */
	char want[160];
	snprintf(want, sizeof(want), "read the %u program headers before",
		 eh.e_phnum);
	memcpy(d, orig, size);
	set_phnum(d, PN_XNUM);
	t = open_and_compare(orig, d, size);
	nw = mv_target_warnings(t, &w);
	assert_true(has_note(w, nw, "section header 0 holds no count"));
	assert_true(has_note(w, nw, want));
	mv_target_destroy(t);

	set_shoff(d, 0);
	t = open_and_compare(orig, d, size);
	nw = mv_target_warnings(t, &w);
	assert_true(has_note(w, nw, "there is no section header 0"));
	assert_true(has_note(w, nw, want));
	mv_target_destroy(t);

	/* A count past the end of the file: what fits, and says so. */
	memcpy(d, orig, size);
	set_phnum(d, PN_XNUM);
	set_sh0_info(d, 70000);
	assert_null(mv_target_open_core(spit("x.core", d, size), &t));
	nw = mv_target_warnings(t, &w);
	snprintf(want, sizeof(want),
		 "core truncated: %zu of 70000 program headers present",
		 (size_t)(size - eh.e_phoff) / sizeof(Elf64_Phdr));
	assert_true(has_note(w, nw, want));
	mv_target_destroy(t);

	free(d);
	free(orig);
}

/* ------------------------------------------------------------------ */
/* The ELF reader                                                      */
/* ------------------------------------------------------------------ */

static void compare_loads(const uint8_t *orig, struct mv_elf *e)
{
	const struct mv_elf_segment *s;
	size_t n = mv_elf_loads(e, &s);
	Elf64_Ehdr eh = ehdr(orig);
	size_t k = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr(orig, i);
		if (ph.p_type != PT_LOAD)
			continue;
		assert_true(k < n);
		assert_int_equal(s[k].vaddr, ph.p_vaddr);
		assert_int_equal(s[k].memsz, ph.p_memsz);
		assert_int_equal(s[k].offset, ph.p_offset);
		assert_int_equal(s[k].flags, ph.p_flags);
		k++;
	}
	assert_int_equal(k, n);
	assert_true(n >= 2);
}

static void test_elf(void **state)
{
	size_t size;
	uint8_t *orig = slurp(build_file("fixtures/basic"), &size);
	Elf64_Ehdr eh = ehdr(orig);
	assert_true(eh.e_phnum > 5 && eh.e_phnum < PN_XNUM);
	uint8_t *d = malloc(size);
	assert_non_null(d);
	memcpy(d, orig, size);
	set_phnum(d, PN_XNUM);
	const char *const *w;
	size_t nw;
	struct mv_elf *e;

	/* ld leaves sh_info 0 in section header 0: no count. */
	assert_null(mv_elf_open_memory("x", d, size, false, &e));
	compare_loads(orig, e);
	nw = mv_elf_warnings(e, &w);
	assert_true(has_note(w, nw, "section header 0 holds no count"));
	assert_non_null(mv_elf_build_id(e)); /* PT_NOTE found as before */
	mv_elf_destroy(e);

	/* The first page only, as read from a process's memory: the same
	 * segments, and no word about the section headers it lacks. */
	assert_null(mv_elf_open_memory("x", d, 4096, true, &e));
	compare_loads(orig, e);
	nw = mv_elf_warnings(e, &w);
	assert_false(has_note(w, nw, "PN_XNUM"));
	mv_elf_destroy(e);

	/* The count in section header 0. */
	set_sh0_info(d, eh.e_phnum);
	assert_null(mv_elf_open_memory("x", d, size, false, &e));
	compare_loads(orig, e);
	nw = mv_elf_warnings(e, &w);
	assert_false(has_note(w, nw, "PN_XNUM"));
	mv_elf_destroy(e);

	/* A count the file cannot hold is an error, as for e_phnum. */
	set_sh0_info(d, 70000);
	struct mv_error *err = mv_elf_open_memory("x", d, size, false, &e);
	assert_non_null(err);
	assert_non_null(strstr(mv_error_message(err), "program headers"));
	mv_error_destroy(err);

	free(d);
	free(orig);
}

static int setup(void **state)
{
	return mv_test_tmpdir_make(tmpdir, "xnum");
}

static int teardown(void **state)
{
	return mv_test_tmpdir_remove(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_count_bounded),
		cmocka_unit_test(test_core),
		cmocka_unit_test(test_elf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
