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
#include <stdlib.h>
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

/* One thread's stack as far as it has been unwound: the return
 * addresses found from sp up, in order.  A name needs the ones below
 * its word and the first above it; each scan goes on from where the
 * last stopped, so naming N words of one stack reads it once.  At most
 * one entry per word of 2 * MAX_SCAN bytes (16 bytes each). */
struct ret_slot {
	uint64_t slot;      /* where the return address is */
	uint64_t caller_pc; /* one byte before it: in the caller */
};

struct stack {
	int tid;
	bool usable;         /* registers, and sp inside a region */
	uint64_t pc;         /* the thread's: the newest frame's */
	uint64_t sp, region_end;
	uint64_t next, end;  /* the next window to read; where scans stop */
	bool done;           /* end reached, or a read fell short */
	uint64_t callee;     /* start of the function of the frame the
			      * scan is in (0: unknown) */
	struct ret_slot *rets;
	size_t nrets, cap;
};

struct mv_frames {
	struct mv_program *p;
	struct stack *stacks;
	size_t n, cap;
};

struct mv_frames *mv_frames_create(struct mv_program *p)
{
	struct mv_frames *f = calloc(1, sizeof(*f));
	if (f)
		f->p = p;
	return f;
}

void mv_frames_destroy(struct mv_frames *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->stacks[i].rets);
	free(f->stacks);
	free(f);
}

static void stack_init(struct mv_program *p, int tid, struct stack *s)
{
	memset(s, 0, sizeof(*s));
	s->tid = tid;
	struct mv_target *t = mv_program_target(p);
	const struct mv_thread *th;
	size_t n = mv_target_threads(t, &th);
	const struct mv_thread *me = NULL;
	for (size_t i = 0; i < n && !me; i++)
		if (th[i].tid == tid && th[i].has_regs)
			me = &th[i];
	if (!me)
		return;
	s->sp = me->regs[MV_REG_RSP] & ~(uint64_t)7;
	const struct mv_region *r = mv_target_find_region(t, s->sp);
	if (!r)
		return;
	s->usable = true;
	s->pc = me->regs[MV_REG_RIP];
	s->region_end = r->end;
	/* A word named is at most MAX_SCAN above sp, and its frame's
	 * return address at most MAX_SCAN above it. */
	s->end = r->end - s->sp > 2 * MAX_SCAN ? s->sp + 2 * MAX_SCAN
					       : r->end;
	s->next = s->sp;
	s->callee = function_start(p, s->pc);
}

/* Thread tid's stack, unwound so far; NULL when out of memory. */
static struct stack *stack_of(struct mv_frames *f, int tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->stacks[i].tid == tid)
			return &f->stacks[i];
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 4;
		struct stack *s = realloc(f->stacks, cap * sizeof(*s));
		if (!s)
			return NULL;
		f->stacks = s;
		f->cap = cap;
	}
	stack_init(f->p, tid, &f->stacks[f->n]);
	return &f->stacks[f->n++];
}

static bool add_ret(struct stack *s, uint64_t slot, uint64_t caller_pc)
{
	if (s->nrets == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct ret_slot *r = realloc(s->rets, cap * sizeof(*r));
		if (!r)
			return false;
		s->rets = r;
		s->cap = cap;
	}
	s->rets[s->nrets++] = (struct ret_slot){slot, caller_pc};
	return true;
}

/* Reads the next window of s and notes the return addresses in it:
 * each ends the frame of the function called, and the caller's frame
 * starts above it.  false when out of memory. */
static bool scan_window(struct mv_program *p, struct stack *s)
{
	struct mv_target *t = mv_program_target(p);
	uint64_t w[WINDOW / 8];
	uint64_t a = s->next;
	size_t want = s->end - a < WINDOW ? (size_t)(s->end - a) : WINDOW;
	size_t got = mv_target_read_partial(t, a, w, want) / 8;
	for (size_t i = 0; i < got; i++) {
		if (!returns_from(p, w[i], s->callee))
			continue;
		/* A return address points after the call: the caller
		 * is one byte before it. */
		if (!add_ret(s, a + i * 8, w[i] - 1)) {
			s->done = true; /* what was found stays usable */
			return false;
		}
		s->callee = function_start(p, w[i] - 1);
	}
	s->next = a + want;
	if (got * 8 < want || s->next >= s->end)
		s->done = true;
	return true;
}

/* The first return address at or above addr, unwinding as far as
 * limit if need be: its index (nrets if none). */
static size_t ret_above(struct mv_program *p, struct stack *s,
			uint64_t addr, uint64_t limit)
{
	while (!s->done && s->next < limit &&
	       !(s->nrets && s->rets[s->nrets - 1].slot >= addr))
		if (!scan_window(p, s))
			break;
	size_t lo = 0, hi = s->nrets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rets[mid].slot < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool mv_frames_find(struct mv_frames *f, int tid, uint64_t addr,
		    struct mv_frame_name *ret)
{
	struct stack *s = f ? stack_of(f, tid) : NULL;
	if (!s || !s->usable || addr < s->sp || addr >= s->region_end ||
	    addr - s->sp > MAX_SCAN)
		return false;
	struct mv_program *p = f->p;
	/* The function of the frame holding addr (the caller of the
	 * return address below it), and the return address that ends
	 * that frame (its CFA is 8 above). */
	uint64_t limit = addr + MAX_SCAN < s->region_end ? addr + MAX_SCAN
							 : s->region_end;
	size_t i = ret_above(p, s, addr, limit);
	uint64_t pc = i ? s->rets[i - 1].caller_pc : s->pc;
	bool have_above = i < s->nrets && s->rets[i].slot < limit;
	uint64_t above_slot = have_above ? s->rets[i].slot : 0;
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

bool mv_frames_name(struct mv_frames *frames, int tid, uint64_t addr,
		    struct mv_buf *out)
{
	struct mv_frame_name f;
	if (!mv_frames_find(frames, tid, addr, &f))
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
