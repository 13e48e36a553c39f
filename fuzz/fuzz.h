/* fuzz.h - what every harness shares.
 *
 * A harness defines one entry point, MV_FUZZ_ENTRY.  Built for libFuzzer
 * it is LLVMFuzzerTestOneInput; built into the regression runner
 * (tests/regress/runner.c) each harness gets its own name with
 * -DMV_FUZZ_ENTRY=mv_fuzz_NAME, so one program replays every kept input
 * through the same code the fuzzer ran.
 *
 * Harnesses run from the top of the tree and find the fixtures' cores
 * under $MV_FUZZ_BUILD (default "build"). */
#ifndef MV_FUZZ_H
#define MV_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memview.h"

#ifndef MV_FUZZ_ENTRY
#define MV_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size);

/* The input as a file: one memfd per harness, rewritten for each input,
 * named by a /proc/self/fd path that the library opens like any other
 * file.  Returns NULL if the memfd cannot be made. */
static inline const char *mv_fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("mv-fuzz-input", 0);
		if (fd < 0)
			return NULL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0)
		return NULL;
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			return NULL;
		done += (size_t)n;
	}
	return path;
}

/* The input as a NUL-terminated string (caller frees). */
static inline char *mv_fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A file of the fixtures' build: $MV_FUZZ_BUILD/NAME, else build/NAME. */
static inline const char *mv_fuzz_build_file(const char *name, char *buf,
					     size_t size)
{
	const char *dir = getenv("MV_FUZZ_BUILD");
	snprintf(buf, size, "%s/%s", dir && *dir ? dir : "build", name);
	return buf;
}

/* Output goes nowhere, but is produced in full. */
static inline int mv_fuzz_discard(void *arg, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return 1;
}

#endif
