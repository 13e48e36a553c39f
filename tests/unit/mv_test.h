/* mv_test.h - helpers the unit tests share: finding a fixture or core
 * the build made, reading a fixture's facts (the answer key it writes
 * for itself), asking nm, an independent tool, for a symbol's value,
 * and a scratch directory per test program.  Include after <cmocka.h>. */
#ifndef MV_TEST_H
#define MV_TEST_H

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The Makefile names the build the test belongs to (build/, build-san/). */
#ifndef MV_BUILD_DIR
#define MV_BUILD_DIR "build"
#endif

/* Where rel (say "cores/basic.core") is: under this test's build if it
 * made one, else under the plain build.  Fixtures and cores are never
 * sanitized (they are the target, not the tool), so a sanitized build of
 * the tests uses the plain build's when it has none of its own.  The
 * path is always returned, made or not, for the tests that want to say
 * which file is missing or to show that opening it fails.  Four paths
 * stay valid at a time: enough for a core, its facts and its executable
 * in one call's arguments. */
static __attribute__((unused)) const char *
mv_test_build_path(const char *rel)
{
	static char buf[4][512];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, sizeof(buf[0]), "%s/%s", MV_BUILD_DIR, rel);
	if (access(out, R_OK) != 0)
		snprintf(out, sizeof(buf[0]), "build/%s", rel);
	return out;
}

/* The same, or NULL if neither build made the file. */
static __attribute__((unused)) const char *
mv_test_build_file(const char *rel)
{
	const char *path = mv_test_build_path(rel);
	return access(path, R_OK) == 0 ? path : NULL;
}

/* The same, or the test is skipped: a fixture that was not built says
 * nothing about the code under test.  (run-unit.sh still counts a skip
 * as a failure in make check, where everything is built first.) */
static __attribute__((unused)) const char *
mv_test_build_file_or_skip(const char *rel)
{
	const char *path = mv_test_build_file(rel);
	if (!path) {
		print_message("%s not built (make fixtures cores): skipped\n",
			      rel);
		skip();
	}
	return path;
}

/* The text after "KEY " on key's line of a facts file, or false. */
static __attribute__((unused)) bool
mv_test_fact(const char *facts, const char *key, char *value, size_t size)
{
	FILE *f = fopen(facts, "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	size_t klen = strlen(key);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			snprintf(value, size, "%s", line + klen + 1);
			value[strcspn(value, "\n")] = '\0';
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* key's value as a number (decimal or 0x hex); fails the test if the
 * fixture did not write it. */
static __attribute__((unused)) uint64_t
mv_test_fact_u64(const char *facts, const char *key)
{
	char v[128];
	if (!mv_test_fact(facts, key, v, sizeof(v)))
		fail_msg("no fact '%s' in %s", key, facts);
	return strtoull(v, NULL, 0);
}

/* nm's value of the first defined symbol called name in path, nm run
 * with opts as well ("-D", "--extern-only"); false if none.  A version
 * suffix (nm -D's malloc@@GLIBC_2.2.5) is not part of the name. */
static __attribute__((unused)) bool
mv_test_nm(const char *path, const char *opts, const char *name,
	   uint64_t *value)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "nm --defined-only %s '%s' 2>/dev/null",
		 opts, path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char type, sym[900];
		if (sscanf(line, "%llx %c %899[^@\n]", &v, &type, sym) == 3 &&
		    strcmp(sym, name) == 0 && !found) {
			*value = v;
			found = true;
		}
	}
	pclose(f);
	return found;
}

static __attribute__((unused)) bool
mv_test_nm_value(const char *path, const char *name, uint64_t *value)
{
	return mv_test_nm(path, "", name, value);
}

/* A fresh directory /tmp/mv-NAME-XXXXXX in dir (64 bytes) for one test
 * program's files: 0, or -1 (what a cmocka group setup answers). */
static __attribute__((unused)) int mv_test_tmpdir_make(char *dir,
						       const char *name)
{
	snprintf(dir, 64, "/tmp/mv-%s-XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

static int mv_test_remove_one(const char *path, const struct stat *st,
			      int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir and whatever the tests left in it: 0 or -1. */
static __attribute__((unused)) int mv_test_tmpdir_remove(const char *dir)
{
	return nftw(dir, mv_test_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
