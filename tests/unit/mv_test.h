/* mv_test.h - helpers the unit tests share: reading a fixture's facts
 * (the answer key it writes for itself) and asking nm, an independent
 * tool, for a symbol's value.  Include after <cmocka.h>. */
#ifndef MV_TEST_H
#define MV_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* nm's value of a defined symbol in path, or false. */
static __attribute__((unused)) bool
mv_test_nm_value(const char *path, const char *name, uint64_t *value)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s' 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[1024];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		char type, sym[900];
		if (sscanf(line, "%llx %c %899s", &v, &type, sym) == 3 &&
		    strcmp(sym, name) == 0 && !found) {
			*value = v;
			found = true;
		}
	}
	pclose(f);
	return found;
}

#endif
