/* roots.h - the root set of a collection, valgrind's: every thread's
 * registers and its stack from the stack pointer up; every other
 * readable, writable mapping that is not the allocator's (objfiles'
 * data and bss, static TLS blocks, anonymous and file mappings, other
 * allocators' arenas).  Never a root: the allocator's heaps (their
 * blocks are reached by marking) and its own state outside them
 * (glibc's main_arena and mp_), nor a stack below its pointer.
 *
 * gc, referrers and path-to scan the same set through mv_roots_scan, so
 * that they cannot disagree about what holds a block.  What could not
 * be scanned (a thread without registers, a stack or mapping missing
 * from a core) is listed in the set's notes, and makes answers built on
 * it partial.
 *
 * Layering: roots sit on heap (segments, metadata), program (objfiles)
 * and target memory (regions, threads); gc and graph use them. */
#ifndef MV_ROOTS_H
#define MV_ROOTS_H

#include "buf.h"
#include "heap_internal.h"
#include "program.h"

enum mv_root_kind {
	MV_ROOT_DATA,    /* an objfile's writable data and bss */
	MV_ROOT_MAPPING, /* any other writable mapping (TLS, arenas, ...) */
	MV_ROOT_STACK,   /* a thread's stack, from its stack pointer up */
};

struct mv_root {
	uint64_t start, end;
	enum mv_root_kind kind;
	int32_t tid;       /* MV_ROOT_STACK: the thread */
	const char *path;  /* backing file of the mapping, or NULL */
};

struct mv_roots {
	struct mv_root *r;
	size_t n, cap;
	/* Threads whose registers are roots, and those without. */
	size_t threads, threads_without_registers;
	/* What was not scanned, one sentence each (bounded). */
	struct mv_notes skipped;
	/* Bytes left out as the allocator's own, for the report. */
	uint64_t metadata_bytes;
	bool core; /* the target is a core: what is missing is not in it */
};

/* Finds the root set of p's target around heap h (NULL: no heap, every
 * writable mapping is a root).  Errors are out-of-memory only. */
struct mv_error *mv_roots_find(struct mv_program *p, struct mv_heap *h,
			       struct mv_roots *ret);
void mv_roots_deinit(struct mv_roots *r);
/* Notes that missing bytes of root r could not be read (they make the
 * answer partial). */
struct mv_error *mv_roots_note_missing(struct mv_roots *rs,
				      const struct mv_root *r,
				      uint64_t missing);

/* Reads [start, end) of t window by window (buf holds bufsize bytes, a
 * multiple of 8) and hands each run of aligned words to fn, which
 * returns non-NULL to stop.  An unreadable byte ends the range's
 * region: a core or a process loses a region's tail, never a hole in
 * it, so the cost is bounded by what is readable, not by what a
 * damaged header claims.  *missing gets the bytes not read. */
struct mv_error *mv_roots_read(struct mv_target *t, uint64_t start,
			       uint64_t end, uint64_t *buf, size_t bufsize,
			       struct mv_error *(*fn)(void *arg,
						      uint64_t address,
						      const uint64_t *words,
						      size_t n),
			       void *arg, uint64_t *missing);

#endif
