/* frames.h - naming a word of a thread's stack by its function's frame
 * and local variable (see frames.c). */
#ifndef MV_FRAMES_H
#define MV_FRAMES_H

#include <stdbool.h>

#include "buf.h"
#include "program.h"

/* The stacks of a program's threads, unwound as far as names have
 * needed: one per command (mv_ctx_frames), so that naming N words of
 * one stack reads it once.  NULL when out of memory; destroy frees it
 * (NULL too). */
struct mv_frames;
struct mv_frames *mv_frames_create(struct mv_program *p);
void mv_frames_destroy(struct mv_frames *f);

/* The frame holding address on thread tid's stack: its function, and
 * the local variable or parameter of that function's DWARF covering
 * the address, if any (offset: into it).  false when the thread has no
 * registers, address is not in its live stack, or no function is
 * known, or f is NULL. */
struct mv_frame_name {
	char function[256];
	char variable[128];
	bool has_variable;
	uint64_t offset;
	struct mv_type *type; /* the variable's (has_variable), or NULL */
};
bool mv_frames_find(struct mv_frames *f, int tid, uint64_t addr,
		    struct mv_frame_name *ret);

/* Appends to out what address on thread tid's stack is: "fn: local"
 * (+N inside it), or "fn's frame" when no local of fn's DWARF covers
 * it.  false (out untouched) when the thread has no registers, address
 * is not in its live stack, or no function is known. */
bool mv_frames_name(struct mv_frames *f, int tid, uint64_t addr,
		    struct mv_buf *out);

#endif
