/* frames.c - what a word of a thread's stack is: the function whose
 * frame holds it, and the local variable or parameter there, so that
 * referrers and path-to say `hold_on_stack: local` where they said
 * `stack of thread 4242` (issue 18.8).
 *
 * There is no unwinder here (no CFI is read): the frames are found by
 * their return addresses.  On x86-64 a call pushes the address after
 * the call instruction, so a word of the stack that points into an
 * objfile's code just after a call (e8 rel32, or ff /2 through a
 * register or memory) is taken as the return address into the caller,
 * and the frame of the function it called ends there: that frame's CFA
 * is the word's address + 8.  The function of the frame holding address
 * A is then the one the nearest return address below A returns into
 * (or the thread's pc when there is none), and its CFA is the address
 * of the nearest return address at or above A, + 8.  DWARF gives the
 * locals at fixed offsets from that CFA (dwarf.c, mv_dwarf_frame_locals).
 * A stale return address left in a frame can split it: then the name
 * is of the frame part it cuts off, or none, and only words that fall
 * inside a local of that function's DWARF are named by it. */

#include <elf.h> /* core/elf.h, which includes the system's <elf.h> */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dwarf.h"
#include "frames.h"
#include "program.h"

/* The stack is read in windows of this size, up to this far from the
 * stack pointer (a name costs at most this much reading). */
#define WINDOW 8192
#define MAX_SCAN ((uint64_t)1 << 20)

/* The call instruction just before v, if there is one: *direct says
 * whether it is a call rel32, whose target goes to *target. */
static bool call_before(struct mv_target *t, uint64_t v, bool *direct,
			uint64_t *target)
{
	uint8_t b[7]; /* b[i] is the byte at v - 7 + i */
	if (v < sizeof(b) || mv_target_read_partial(t, v - sizeof(b), b,
						    sizeof(b)) != sizeof(b))
		return false;
	if (b[2] == 0xe8) { /* call rel32 */
		int32_t rel;
		memcpy(&rel, b + 3, 4);
		*direct = true;
		*target = v + (uint64_t)(int64_t)rel;
		return true;
	}
	*direct = false;
	return (b[5] == 0xff && (b[6] & 0xf8) == 0xd0) || /* call *%reg */
	       (b[4] == 0xff && (b[5] & 0xf8) == 0x50 &&  /* *d8(%reg) */
		b[5] != 0x54) ||
	       (b[1] == 0xff && (b[2] == 0x15 ||          /* *d32(%rip) */
				 ((b[2] & 0xf8) == 0x90 && /* *d32(%reg) */
				  b[2] != 0x94)));
}

/* The start of the function holding pc (its ELF symbol), or 0. */
static uint64_t function_start(struct mv_program *p, uint64_t pc)
{
	const char *name;
	uint64_t off;
	return mv_program_symbolize(p, pc, &name, &off) ? pc - off : 0;
}

/* Whether v lies in an executable PT_LOAD segment of its objfile: code
 * with no symbol (a stripped library's local functions, such as
 * libstdc++'s thread start routine that calls a std::thread's body). */
static bool in_text(struct mv_objfile *o, uint64_t v)
{
	const struct mv_elf_segment *seg;
	size_t n = o && o->elf ? mv_elf_loads(o->elf, &seg) : 0;
	for (size_t i = 0; i < n; i++)
		if ((seg[i].flags & PF_X) && v - o->bias >= seg[i].vaddr &&
		    v - o->bias - seg[i].vaddr < seg[i].memsz)
			return true;
	return false;
}

/* Whether the stack word v is the return address of a call made to the
 * function that starts at callee (0: unknown) and runs in the frame
 * below it.  A direct call must go to callee, or to a stub that is no
 * function (a PLT entry) of another objfile than callee's: so a stale
 * return address left in a frame by an earlier call rarely passes.
 * Indirect calls cannot be checked and pass. */
static bool returns_from(struct mv_program *p, uint64_t v, uint64_t callee)
{
	/* In an objfile, inside a symbol (a core's regions do not say
	 * which are code: gcore marks the text it leaves out r--). */
	struct mv_target *t = mv_program_target(p);
	struct mv_objfile *o = mv_program_objfile_at(p, v);
	if (!o || !(function_start(p, v) || in_text(o, v)))
		return false;
	bool direct;
	uint64_t target;
	if (!call_before(t, v, &direct, &target))
		return false;
	if (!direct || !callee || target == callee)
		return true;
	if (function_start(p, target) == target)
		return false; /* a call to another function */
	return mv_program_objfile_at(p, target) !=
	       mv_program_objfile_at(p, callee);
}

struct local_hit {
	uint64_t cfa, addr;
	char name[128];
	uint64_t offset;
	struct mv_type *type;
	bool found;
};

static bool local_at(void *arg, const char *name, int64_t off,
		     struct mv_type *type)
{
	struct local_hit *h = arg;
	uint64_t start = h->cfa + (uint64_t)off;
	if (h->addr < start || h->addr - start >= type->size)
		return true;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->offset = h->addr - start;
	h->type = type;
	h->found = true;
	return false;
}

bool mv_frames_find(struct mv_program *p, int tid, uint64_t addr,
		    struct mv_frame_name *ret)
{
	struct mv_target *t = mv_program_target(p);
	const struct mv_thread *th;
	size_t n = mv_target_threads(t, &th);
	const struct mv_thread *me = NULL;
	for (size_t i = 0; i < n && !me; i++)
		if (th[i].tid == tid && th[i].has_regs)
			me = &th[i];
	if (!me)
		return false;
	uint64_t sp = me->regs[MV_REG_RSP] & ~(uint64_t)7;
	const struct mv_region *r = mv_target_find_region(t, sp);
	if (!r || addr < sp || addr >= r->end || addr - sp > MAX_SCAN)
		return false;
	/* The frames from sp up, each ended by the return address into
	 * its caller: the function of the frame holding addr, and the
	 * return address that ends it (its CFA is 8 above). */
	uint64_t pc = me->regs[MV_REG_RIP];
	uint64_t callee = function_start(p, pc), above_slot = 0;
	bool have_above = false;
	uint64_t w[WINDOW / 8];
	uint64_t limit = addr + MAX_SCAN < r->end ? addr + MAX_SCAN : r->end;
	for (uint64_t a = sp; a < limit && !have_above; a += WINDOW) {
		size_t want = limit - a < WINDOW ? (size_t)(limit - a) : WINDOW;
		size_t got = mv_target_read_partial(t, a, w, want) / 8;
		for (size_t i = 0; i < got; i++) {
			if (!returns_from(p, w[i], callee))
				continue;
			uint64_t slot = a + i * 8;
			if (slot >= addr) {
				above_slot = slot;
				have_above = true;
				break;
			}
			/* A return address points after the call: the
			 * caller is one byte before it. */
			pc = w[i] - 1;
			callee = function_start(p, pc);
		}
		if (got * 8 < want)
			break;
	}
	const char *fname = NULL;
	struct local_hit hit = {.addr = addr};
	struct mv_objfile *o = mv_program_objfile_at(p, pc);
	struct mv_dwarf *d = NULL;
	if (o) {
		struct mv_error *err = mv_objfile_dwarf(o, &d);
		if (err) {
			mv_error_destroy(err);
			d = NULL;
		}
	}
	if (d && have_above) {
		hit.cfa = above_slot + 8;
		fname = mv_dwarf_frame_locals(d, pc, local_at, &hit);
	}
	/* No DWARF function there: the ELF symbol names the frame. */
	uint64_t off = 0;
	const char *sym = NULL;
	if ((!fname || !strcmp(fname, "??")) &&
	    mv_program_symbolize(p, pc, &sym, &off))
		fname = sym;
	if (!fname)
		return false;
	snprintf(ret->function, sizeof(ret->function), "%s", fname);
	ret->has_variable = hit.found;
	snprintf(ret->variable, sizeof(ret->variable), "%s",
		 hit.found ? hit.name : "");
	ret->offset = hit.offset;
	ret->type = hit.found ? hit.type : NULL;
	return true;
}

bool mv_frames_name(struct mv_program *p, int tid, uint64_t addr,
		    struct mv_buf *out)
{
	struct mv_frame_name f;
	if (!mv_frames_find(p, tid, addr, &f))
		return false;
	if (!f.has_variable) {
		mv_buf_printf(out, "%s's frame", f.function);
		return true;
	}
	mv_buf_printf(out, "%s: %s", f.function, f.variable);
	if (f.offset)
		mv_buf_printf(out, "+%llu", (unsigned long long)f.offset);
	return true;
}
