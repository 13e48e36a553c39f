/* unwind.h - a thread's C frames from its registers by the objfiles'
 * CFI, and the value of a local variable in the frames of one function
 * (see unwind.c). */
#ifndef MV_UNWIND_H
#define MV_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "program.h"

/* At most this many frames are unwound, and this many values kept
 * (CPython nests an eval loop in C for each class instantiation or
 * callback on the stack: about ten C frames each). */
#define MV_UNWIND_MAX_FRAMES 16384
#define MV_UNWIND_MAX_VALUES 1024

struct mv_unwind_values {
	uint64_t values[MV_UNWIND_MAX_VALUES]; /* innermost first */
	size_t n;
	size_t seen;   /* frames of the function met */
	/* Why a frame of the function gave no value, or why the unwinding
	 * stopped before the stack's outermost frame; "" when neither. */
	char why[256];
};

/* The values of the local variable (or parameter) variable in every
 * frame of the function named function (an ELF symbol: also its
 * partitions, "function.cold") on thread th's stack, innermost first,
 * each read where its DWARF location list says it is at that frame's
 * pc: a register (recovered through the CFI of the frames below), or
 * memory.  Never fails: what it could not read is said in ret->why. */
void mv_unwind_local_values(struct mv_program *p, const struct mv_thread *th,
			    const char *function, const char *variable,
			    struct mv_unwind_values *ret);

#endif
