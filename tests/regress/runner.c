/* runner.c - replays kept fuzzer inputs through the harnesses' own entry
 * points (fuzz/fuzz_*.c, each built with -DMV_FUZZ_ENTRY=mv_fuzz_NAME),
 * in the normal or sanitized build, without libFuzzer.
 *
 *   regress_runner DIR...
 *
 * Each DIR is tests/regress/NAME: every file in it is one input for the
 * harness NAME.  Each input runs in a child process with a time limit,
 * so a crash or a hang names its file and the others still run.  Inputs
 * listed in tests/regress/pending (one "NAME/FILE  why" per line) are
 * known to fail in a module whose owner has not fixed it yet: they are
 * run and reported, but do not fail the run; a pending input that
 * passes is reported so that it can leave the list.
 *
 * Ends with one line: "regress: N passed, M failed, P pending". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECONDS_PER_INPUT 20

typedef int (*entry_fn)(const uint8_t *data, size_t size);

/* Weak, so that a harness for a module not built yet is simply absent. */
#define HARNESSES(X) X(core) X(elf) X(dwarf) X(command) X(expr) \
	X(format) X(heap) X(walk) X(roots)
#define X(name) int mv_fuzz_##name(const uint8_t *, size_t) \
	__attribute__((weak));
HARNESSES(X)
#undef X

static entry_fn harness_fn(const char *name)
{
#define X(n) if (!strcmp(name, #n)) return mv_fuzz_##n;
	HARNESSES(X)
#undef X
	return NULL;
}

static char *pending;

static bool is_pending(const char *key)
{
	if (!pending)
		return false;
	size_t klen = strlen(key);
	for (const char *p = pending; (p = strstr(p, key)); p += klen) {
		bool starts = p == pending || p[-1] == '\n';
		bool ends = p[klen] == ' ' || p[klen] == '\t' ||
			    p[klen] == '\n' || p[klen] == '\0';
		if (starts && ends)
			return true;
	}
	return false;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *d = realloc(data, cap + 1);
			if (!d) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = d;
		}
		size_t got = fread(data + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
}

/* Runs one input in a child: 0 if it returned, else a description. */
static const char *run_one(entry_fn fn, const char *path, char *why,
			   size_t whylen)
{
	size_t len;
	char *data = read_file(path, &len);
	if (!data) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		return why;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		free(data);
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return why;
	}
	if (pid == 0) {
		alarm(SECONDS_PER_INPUT);
		fn((const uint8_t *)data, len);
		_exit(0);
	}
	free(data);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(why, whylen, "took more than %d s", SECONDS_PER_INPUT);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exited %d (a sanitizer report?)",
			 WEXITSTATUS(status));
	return why;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t plen;
	pending = read_file("tests/regress/pending", &plen);
	int passed = 0, failed = 0, npending = 0;
	for (int a = 1; a < argc; a++) {
		const char *dir = argv[a];
		const char *name = strrchr(dir, '/');
		name = name ? name + 1 : dir;
		entry_fn fn = harness_fn(name);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		char *files[4096];
		size_t nfiles = 0;
		struct dirent *de;
		while ((de = readdir(d)) && nfiles < 4096)
			if (de->d_name[0] != '.' && strcmp(de->d_name, "README"))
				files[nfiles++] = strdup(de->d_name);
		closedir(d);
		qsort(files, nfiles, sizeof(*files), by_name);
		for (size_t i = 0; i < nfiles; i++) {
			char path[4096], key[512], why[256];
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			snprintf(key, sizeof(key), "%s/%s", name, files[i]);
			free(files[i]);
			if (!fn) {
				printf("regress: %s: no harness '%s' in this "
				       "build (skipped)\n", key, name);
				continue;
			}
			const char *bad = run_one(fn, path, why, sizeof(why));
			if (is_pending(key)) {
				npending++;
				if (bad)
					printf("regress: pending %s: %s\n", key,
					       bad);
				else
					printf("regress: pending %s now passes: "
					       "remove it from tests/regress/"
					       "pending\n", key);
			} else if (bad) {
				failed++;
				printf("regress: FAILED %s: %s\n", key, bad);
			} else {
				passed++;
			}
		}
	}
	free(pending);
	printf("regress: %d passed, %d failed, %d pending\n", passed, failed,
	       npending);
	return failed ? 1 : 0;
}
