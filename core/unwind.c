/* unwind.c - a thread's C frames from its registers, by the call frame
 * information (CFI) of each objfile's .eh_frame, and the value of a
 * local variable in the frames of one function.
 *
 * An optimizing compiler keeps a local in a register at a call site
 * (CPython's stack_pointer of _PyEval_EvalFrameDefault is in rbx while
 * it calls a C function): that register is callee-saved, so the frames
 * below save it, and the CFI of each says where.  Starting from the
 * thread's registers (a core's, ptrace's, or frame 0's as gdb or lldb
 * give them), each step finds the frame description entry (FDE)
 * covering the pc (.eh_frame_hdr's sorted table, or a scan of
 * .eh_frame), runs its CIE's and its own CFA instructions up to the pc,
 * and computes the caller's registers: the CFA, the saved registers at
 * their offsets from it, the return address.  Unwritten rules keep the
 * callee-saved registers (rbx, rbp, r12-r15) and lose the others.
 *
 * Hostile input: every read is bounded by its section or fails; the
 * instructions of one FDE run at most once each; the stack must grow
 * upward frame after frame; at most MV_UNWIND_MAX_FRAMES frames.  What
 * cannot be unwound ends the walk with a reason, never a crash. */
#include <elf.h> /* core/elf.h, which includes the system's <elf.h> */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "dwarf.h"
#include "unwind.h"

#define NREG 17         /* DWARF x86-64 registers 0-15, and 16: rip */
#define RA 16
#define STATE_STACK 8   /* DW_CFA_remember_state depth */
#define SCAN_MAX 1000000 /* .eh_frame entries scanned without a table */

/* The user_regs_struct slot of each DWARF register number. */
static const int mv_reg_of[NREG] = {
	MV_REG_RAX, MV_REG_RDX, MV_REG_RCX, MV_REG_RBX, MV_REG_RSI,
	MV_REG_RDI, MV_REG_RBP, MV_REG_RSP, MV_REG_R8,  MV_REG_R9,
	MV_REG_R10, MV_REG_R11, MV_REG_R12, MV_REG_R13, MV_REG_R14,
	MV_REG_R15, MV_REG_RIP,
};
/* Callee-saved: rbx, rbp, rsp, r12-r15. */
#define CALLEE_SAVED ((1u << 3) | (1u << 6) | (1u << 7) | (0xfu << 12))

struct regs {
	uint64_t v[NREG];
	uint32_t known; /* bit n: v[n] is known */
};

enum rule_kind { R_DEFAULT, R_SAME, R_UNDEF, R_OFFSET, R_VAL_OFFSET,
		 R_REGISTER, R_UNSUPPORTED };

struct rule {
	uint8_t kind;
	uint8_t reg;
	int64_t off;
};

struct row {
	bool cfa_ok;
	unsigned cfa_reg;
	int64_t cfa_off;
	struct rule r[NREG];
};

/* Bytes of a section at file vaddr addr + (k.p - base). */
struct cur {
	struct mv_cursor k;
	const uint8_t *base;
	uint64_t addr;
};

static struct cur cur_at(const uint8_t *base, const uint8_t *p,
			 const uint8_t *end, uint64_t addr)
{
	return (struct cur){{p, end, false}, base, addr};
}

/* A pointer of encoding enc (DW_EH_PE_*): absolute, pc-relative, or
 * relative to datarel (.eh_frame_hdr's address).  Indirect and the
 * other applications are unsupported: c->k.bad. */
static uint64_t cur_encoded(struct cur *c, uint8_t enc, uint64_t datarel)
{
	if (enc == 0xff)
		return 0; /* DW_EH_PE_omit */
	uint64_t here = c->addr + (uint64_t)(c->k.p - c->base), v;
	switch (enc & 0x0f) {
	case 0x00: v = mv_cursor_fixed(&c->k, 8); break;
	case 0x01: v = mv_cursor_uleb(&c->k); break;
	case 0x02: v = mv_cursor_fixed(&c->k, 2); break;
	case 0x03: v = mv_cursor_fixed(&c->k, 4); break;
	case 0x04: v = mv_cursor_fixed(&c->k, 8); break;
	case 0x09: v = (uint64_t)mv_cursor_sleb(&c->k); break;
	case 0x0a:
		v = (uint64_t)(int64_t)(int16_t)mv_cursor_fixed(&c->k, 2);
		break;
	case 0x0b:
		v = (uint64_t)(int64_t)(int32_t)mv_cursor_fixed(&c->k, 4);
		break;
	case 0x0c: v = mv_cursor_fixed(&c->k, 8); break;
	default: c->k.bad = true; return 0;
	}
	switch (enc & 0xf0) {
	case 0x00: return v;
	case 0x10: return v + here;    /* pcrel */
	case 0x30: return v + datarel; /* datarel */
	default: c->k.bad = true; return 0;
	}
}

struct cie {
	uint64_t code_align;
	int64_t data_align;
	unsigned ra;
	uint8_t fde_enc;
	bool signal;
	bool z;         /* FDEs have augmentation data */
	struct cur insns;
};

struct fde {
	uint64_t begin, end; /* the code it covers, file vaddrs */
	struct cie cie;
	struct cur insns;
};

/* An .eh_frame entry at offset off: its bytes after the length (*body,
 * up to its end) and the offset of the next (*next).  false past the
 * section or at its terminator. */
static bool entry_at(const struct cur *sec, uint64_t off, struct cur *body,
		     uint64_t *next)
{
	struct cur c = *sec;
	if (off >= (uint64_t)(sec->k.end - sec->base))
		return false;
	c.k.p = sec->base + off;
	uint64_t len = mv_cursor_fixed(&c.k, 4);
	if (len == 0xffffffff)
		return false; /* 64-bit DWARF: not in x86-64 .eh_frame */
	if (c.k.bad || !len || len > (uint64_t)(c.k.end - c.k.p))
		return false;
	*body = c;
	body->k.end = c.k.p + len;
	*next = (uint64_t)(body->k.end - sec->base);
	return true;
}

static bool parse_cie(struct cur c, struct cie *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (mv_cursor_fixed(&c.k, 4) != 0)
		return false; /* not a CIE */
	unsigned version = (unsigned)mv_cursor_fixed(&c.k, 1);
	const char *aug = (const char *)c.k.p;
	size_t alen = strnlen(aug, (size_t)(c.k.end - c.k.p));
	if (alen == (size_t)(c.k.end - c.k.p) ||
	    (version != 1 && version != 3))
		return false;
	c.k.p += alen + 1;
	ret->code_align = mv_cursor_uleb(&c.k);
	ret->data_align = mv_cursor_sleb(&c.k);
	ret->ra = version == 1 ? (unsigned)mv_cursor_fixed(&c.k, 1)
			       : (unsigned)mv_cursor_uleb(&c.k);
	ret->fde_enc = 0; /* absptr */
	if (aug[0] == 'z') {
		ret->z = true;
		uint64_t n = mv_cursor_uleb(&c.k);
		if (c.k.bad || n > (uint64_t)(c.k.end - c.k.p))
			return false;
		struct cur a = c;
		a.k.end = c.k.p + n;
		for (size_t i = 1; i < alen && !a.k.bad; i++) {
			if (aug[i] == 'R') {
				ret->fde_enc = (uint8_t)mv_cursor_fixed(&a.k, 1);
			} else if (aug[i] == 'P') {
				uint8_t penc = (uint8_t)mv_cursor_fixed(&a.k, 1);
				cur_encoded(&a, penc & 0x7f, 0);
			} else if (aug[i] == 'L') {
				mv_cursor_fixed(&a.k, 1);
			} else if (aug[i] == 'S') {
				ret->signal = true;
			} else {
				break; /* unknown: its data is skipped */
			}
		}
		c.k.p += n;
	} else if (alen) {
		return false; /* "eh" and other old augmentations */
	}
	ret->insns = c;
	return !c.k.bad && ret->ra < NREG;
}

/* The FDE whose body is c (after its length), if it covers pc. */
static bool parse_fde(const struct cur *sec, struct cur c, uint64_t pc,
		      uint64_t datarel, struct fde *ret)
{
	uint64_t id_at = (uint64_t)(c.k.p - sec->base);
	uint64_t id = mv_cursor_fixed(&c.k, 4);
	struct cur cie;
	uint64_t next;
	if (c.k.bad || !id || id > id_at ||
	    !entry_at(sec, id_at - id, &cie, &next) ||
	    !parse_cie(cie, &ret->cie))
		return false;
	ret->begin = cur_encoded(&c, ret->cie.fde_enc, datarel);
	uint64_t range = cur_encoded(&c, ret->cie.fde_enc & 0x0f, 0);
	ret->end = ret->begin + range;
	if (c.k.bad || pc < ret->begin || pc >= ret->end)
		return false;
	/* 'z': the augmentation data (an LSDA pointer) is skipped. */
	if (ret->cie.z)
		mv_cursor_skip(&c.k, mv_cursor_uleb(&c.k));
	ret->insns = c;
	return !c.k.bad;
}

/* The FDE covering pc (a file vaddr) in objfile e, through
 * .eh_frame_hdr's table when it has the usual encoding, else by
 * scanning .eh_frame. */
static bool find_fde(const struct mv_elf *e, uint64_t pc, struct fde *ret)
{
	const void *data;
	size_t size;
	if (!mv_elf_section(e, ".eh_frame", &data, &size))
		return false;
	struct cur sec = cur_at(data, data, (const uint8_t *)data + size,
				mv_elf_section_addr(e, ".eh_frame"));
	const void *hdata;
	size_t hsize;
	uint64_t haddr = mv_elf_section_addr(e, ".eh_frame_hdr");
	struct cur body;
	uint64_t next;
	if (mv_elf_section(e, ".eh_frame_hdr", &hdata, &hsize) &&
	    hsize >= 4 && ((const uint8_t *)hdata)[0] == 1 &&
	    ((const uint8_t *)hdata)[3] == 0x3b) {
		const uint8_t *h = hdata;
		struct cur c = cur_at(h, h + 4, h + hsize, haddr);
		cur_encoded(&c, h[1], haddr);
		uint64_t count = cur_encoded(&c, h[2], haddr);
		const uint8_t *table = c.k.p;
		if (c.k.bad || count > (hsize - (size_t)(table - h)) / 8)
			return false;
		size_t lo = 0, hi = (size_t)count;
		while (lo < hi) { /* the first entry starting above pc */
			size_t mid = lo + (hi - lo) / 2;
			struct cur m = cur_at(h, table + 8 * mid, h + hsize,
					      haddr);
			if (cur_encoded(&m, 0x3b, haddr) <= pc)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo)
			return false;
		struct cur m = cur_at(h, table + 8 * (lo - 1) + 4,
				      h + hsize, haddr);
		uint64_t fde = cur_encoded(&m, 0x3b, haddr);
		return fde >= sec.addr &&
		       entry_at(&sec, fde - sec.addr, &body, &next) &&
		       parse_fde(&sec, body, pc, haddr, ret);
	}
	uint64_t off = 0;
	for (size_t k = 0; k < SCAN_MAX && entry_at(&sec, off, &body, &next);
	     k++, off = next) {
		struct cur id = body; /* 0: a CIE */
		if (mv_cursor_fixed(&id.k, 4) &&
		    parse_fde(&sec, body, pc, haddr, ret))
			return true;
	}
	return false;
}

static void set_rule(struct row *row, uint64_t reg, uint8_t kind, int64_t off,
		     uint64_t other)
{
	if (reg >= NREG)
		return; /* a vector register: not needed */
	row->r[reg] = (struct rule){kind, (uint8_t)(other < NREG ? other : 0),
				    off};
	if (kind == R_REGISTER && other >= NREG)
		row->r[reg].kind = R_UNSUPPORTED;
}

/* Runs CFA instructions c from code address loc up to pc; init is the
 * CIE's row (for DW_CFA_restore).  false on an unknown instruction. */
static bool run_insns(struct cur c, const struct cie *cie, uint64_t loc,
		      uint64_t pc, const struct row *init, struct row *row)
{
	struct row saved[STATE_STACK];
	size_t nsaved = 0;
	while (c.k.p < c.k.end && !c.k.bad) {
		uint8_t op = (uint8_t)mv_cursor_fixed(&c.k, 1);
		uint8_t low = op & 0x3f;
		uint64_t reg, delta = 0;
		switch (op >> 6) {
		case 1: /* DW_CFA_advance_loc */
			delta = low;
			break;
		case 2: /* DW_CFA_offset */
			set_rule(row, low, R_OFFSET,
				 (int64_t)mv_cursor_uleb(&c.k) * cie->data_align, 0);
			continue;
		case 3: /* DW_CFA_restore */
			if (init && low < NREG)
				row->r[low] = init->r[low];
			continue;
		}
		if (op >> 6 == 1) {
			loc += delta * cie->code_align;
			if (loc > pc)
				return true;
			continue;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			loc = cur_encoded(&c, cie->fde_enc, 0);
			if (loc > pc)
				return true;
			break;
		case 0x02: case 0x03: case 0x04: /* advance_loc1/2/4 */
			delta = mv_cursor_fixed(&c.k, op == 0x02 ? 1 : op == 0x03 ? 2 : 4);
			loc += delta * cie->code_align;
			if (loc > pc)
				return true;
			break;
		case 0x05: /* offset_extended */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_OFFSET,
				 (int64_t)mv_cursor_uleb(&c.k) * cie->data_align, 0);
			break;
		case 0x06: /* restore_extended */
			reg = mv_cursor_uleb(&c.k);
			if (init && reg < NREG)
				row->r[reg] = init->r[reg];
			break;
		case 0x07: /* undefined */
			set_rule(row, mv_cursor_uleb(&c.k), R_UNDEF, 0, 0);
			break;
		case 0x08: /* same_value */
			set_rule(row, mv_cursor_uleb(&c.k), R_SAME, 0, 0);
			break;
		case 0x09: /* register */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_REGISTER, 0, mv_cursor_uleb(&c.k));
			break;
		case 0x0a: /* remember_state */
			if (nsaved == STATE_STACK)
				return false;
			saved[nsaved++] = *row;
			break;
		case 0x0b: /* restore_state */
			if (!nsaved)
				return false;
			*row = saved[--nsaved]; /* the CFA too */
			break;
		case 0x0c: /* def_cfa */
			row->cfa_reg = (unsigned)mv_cursor_uleb(&c.k);
			row->cfa_off = (int64_t)mv_cursor_uleb(&c.k);
			row->cfa_ok = row->cfa_reg < NREG;
			break;
		case 0x0d: /* def_cfa_register */
			row->cfa_reg = (unsigned)mv_cursor_uleb(&c.k);
			row->cfa_ok = row->cfa_reg < NREG;
			break;
		case 0x0e: /* def_cfa_offset */
			row->cfa_off = (int64_t)mv_cursor_uleb(&c.k);
			break;
		case 0x0f: /* def_cfa_expression: not evaluated (a
			    * PLT's or a signal frame's) */
			row->cfa_ok = false;
			return true;
		case 0x10: case 0x16: /* expression, val_expression */
			reg = mv_cursor_uleb(&c.k);
			mv_cursor_skip(&c.k, mv_cursor_uleb(&c.k));
			set_rule(row, reg, R_UNSUPPORTED, 0, 0);
			break;
		case 0x11: /* offset_extended_sf */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_OFFSET,
				 mv_cursor_sleb(&c.k) * cie->data_align, 0);
			break;
		case 0x12: /* def_cfa_sf */
			row->cfa_reg = (unsigned)mv_cursor_uleb(&c.k);
			row->cfa_off = mv_cursor_sleb(&c.k) * cie->data_align;
			row->cfa_ok = row->cfa_reg < NREG;
			break;
		case 0x13: /* def_cfa_offset_sf */
			row->cfa_off = mv_cursor_sleb(&c.k) * cie->data_align;
			break;
		case 0x14: /* val_offset */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_VAL_OFFSET,
				 (int64_t)mv_cursor_uleb(&c.k) * cie->data_align, 0);
			break;
		case 0x15: /* val_offset_sf */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_VAL_OFFSET,
				 mv_cursor_sleb(&c.k) * cie->data_align, 0);
			break;
		case 0x2e: /* GNU_args_size */
			mv_cursor_uleb(&c.k);
			break;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = mv_cursor_uleb(&c.k);
			set_rule(row, reg, R_OFFSET,
				 -(int64_t)mv_cursor_uleb(&c.k) * cie->data_align, 0);
			break;
		default:
			return false;
		}
	}
	return !c.k.bad;
}

/* The row of the CFI table for pc (a file vaddr) of fde. */
static bool row_at(const struct fde *f, uint64_t pc, struct row *ret)
{
	struct row init;
	memset(&init, 0, sizeof(init));
	if (!run_insns(f->cie.insns, &f->cie, 0, UINT64_MAX, NULL, &init))
		return false;
	*ret = init;
	return run_insns(f->insns, &f->cie, f->begin, pc, &init, ret) &&
	       ret->cfa_ok;
}

static bool read_word(struct mv_target *t, uint64_t a, uint64_t *v)
{
	return mv_target_read_partial(t, a, v, 8) == 8;
}

/* One frame: its registers, the pc its CFI and DWARF are looked up at
 * (in the call instruction for a caller), and its CFA. */
struct frame {
	struct regs r;
	uint64_t look_pc;
	bool has_cfa;
	uint64_t cfa;
	struct row row;
	unsigned ra;
	bool signal;
};

/* The CFA and the row of frame f, from the CFI of the objfile at its
 * pc; *why says why not. */
static bool frame_cfi(struct mv_program *p, struct frame *f, char *why,
		      size_t whylen)
{
	struct mv_objfile *o = mv_program_objfile_at(p, f->look_pc);
	struct fde fde;
	if (!o || !o->elf) {
		snprintf(why, whylen, "no objfile at pc 0x%llx",
			 (unsigned long long)f->look_pc);
		return false;
	}
	if (!find_fde(o->elf, f->look_pc - o->bias, &fde) ||
	    !row_at(&fde, f->look_pc - o->bias, &f->row)) {
		snprintf(why, whylen, "no usable CFI for pc 0x%llx in %s",
			 (unsigned long long)f->look_pc, o->path);
		return false;
	}
	f->ra = fde.cie.ra;
	f->signal = fde.cie.signal;
	unsigned cr = f->row.cfa_reg;
	if (!(f->r.known & (1u << cr))) {
		snprintf(why, whylen, "the CFA of pc 0x%llx needs a register "
			 "not known there", (unsigned long long)f->look_pc);
		return false;
	}
	f->cfa = f->r.v[cr] + (uint64_t)f->row.cfa_off;
	f->has_cfa = true;
	return true;
}

/* The caller of frame f (whose CFI is read): false at the outermost
 * frame (*why "") or when it cannot be found (*why says why). */
static bool frame_step(struct mv_target *t, const struct frame *f,
		       struct frame *caller, char *why, size_t whylen)
{
	struct regs n = {{0}, 0};
	for (unsigned i = 0; i < NREG; i++) {
		const struct rule *ru = &f->row.r[i];
		uint64_t v;
		switch (ru->kind) {
		case R_DEFAULT:
			if ((CALLEE_SAVED & (1u << i)) &&
			    (f->r.known & (1u << i))) {
				n.v[i] = f->r.v[i];
				n.known |= 1u << i;
			}
			break;
		case R_SAME:
			n.v[i] = f->r.v[i];
			n.known |= f->r.known & (1u << i);
			break;
		case R_OFFSET:
			if (read_word(t, f->cfa + (uint64_t)ru->off, &v)) {
				n.v[i] = v;
				n.known |= 1u << i;
			}
			break;
		case R_VAL_OFFSET:
			n.v[i] = f->cfa + (uint64_t)ru->off;
			n.known |= 1u << i;
			break;
		case R_REGISTER:
			n.v[i] = f->r.v[ru->reg];
			n.known |= f->r.known & (1u << ru->reg);
			break;
		default:
			break;
		}
	}
	if (f->row.r[f->ra].kind == R_UNDEF)
		return false; /* the outermost frame (_start, clone) */
	if (!(n.known & (1u << f->ra)) || !n.v[f->ra]) {
		snprintf(why, whylen, "the return address of pc 0x%llx could "
			 "not be read", (unsigned long long)f->look_pc);
		return false;
	}
	/* The stack pointer is the CFA; it must grow toward the caller. */
	n.v[7] = f->cfa;
	n.known |= 1u << 7;
	if (f->cfa <= f->r.v[7] && (f->r.known & (1u << 7))) {
		snprintf(why, whylen, "the stack does not grow at pc 0x%llx "
			 "(CFA 0x%llx)", (unsigned long long)f->look_pc,
			 (unsigned long long)f->cfa);
		return false;
	}
	n.v[RA] = n.v[f->ra];
	memset(caller, 0, sizeof(*caller));
	caller->r = n;
	/* A return address is after the call: its function, CFI row and
	 * variable locations are those of the call (but a signal frame's
	 * is the interrupted instruction itself). */
	caller->look_pc = f->signal ? n.v[RA] : n.v[RA] - 1;
	return true;
}

/* The value of a variable at location l in frame f; *why says why not. */
static bool read_loc(struct mv_target *t, const struct frame *f,
		     const struct mv_dwarf_loc *l, uint64_t *v, char *why,
		     size_t whylen)
{
	bool reg_known = l->reg < NREG && (f->r.known & (1u << l->reg));
	const char *what = NULL;
	switch (l->kind) {
	case MV_DWARF_LOC_REGISTER:
		if (reg_known) {
			*v = f->r.v[l->reg];
			return true;
		}
		what = "in a register not saved by the frames below";
		break;
	case MV_DWARF_LOC_VALUE:
		if (reg_known) {
			*v = f->r.v[l->reg] + (uint64_t)l->offset;
			return true;
		}
		what = "computed from a register not saved by the frames "
		       "below";
		break;
	case MV_DWARF_LOC_MEMORY:
		if (reg_known &&
		    read_word(t, f->r.v[l->reg] + (uint64_t)l->offset, v))
			return true;
		what = "in memory that could not be read";
		break;
	case MV_DWARF_LOC_CFA_MEMORY:
		if (f->has_cfa && read_word(t, f->cfa + (uint64_t)l->offset, v))
			return true;
		what = "in the frame's memory, which could not be read";
		break;
	case MV_DWARF_LOC_NONE:
		what = "optimized out";
		break;
	default:
		what = "a DWARF expression memview does not evaluate";
		break;
	}
	snprintf(why, whylen, "it is %s at pc 0x%llx", what,
		 (unsigned long long)f->look_pc);
	return false;
}

/* Whether the ELF symbol holding pc is function or one of its
 * partitions (function.cold, function.part.0). */
static bool in_function(struct mv_program *p, uint64_t pc,
			const char *function)
{
	const char *name;
	uint64_t off;
	size_t n = strlen(function);
	return mv_program_symbolize(p, pc, &name, &off) &&
	       !strncmp(name, function, n) &&
	       (name[n] == '\0' || name[n] == '.');
}

/* The variable's value in frame f of function: appended to ret, or
 * why not in ret->why. */
static void frame_value(struct mv_program *p, const struct frame *f,
			const char *variable, struct mv_unwind_values *ret)
{
	struct mv_objfile *o = mv_program_objfile_at(p, f->look_pc);
	struct mv_dwarf *d = NULL;
	struct mv_error *err = o ? mv_objfile_dwarf(o, &d) : NULL;
	mv_error_destroy(err);
	struct mv_dwarf_loc l;
	char why[160];
	uint64_t v;
	ret->seen++;
	if (!d || !mv_dwarf_local_location(d, f->look_pc, variable, &l))
		snprintf(why, sizeof(why), "no DWARF variable %s at pc 0x%llx",
			 variable, (unsigned long long)f->look_pc);
	else if (ret->n == MV_UNWIND_MAX_VALUES)
		snprintf(why, sizeof(why), "more than %d frames of it",
			 MV_UNWIND_MAX_VALUES);
	else if (read_loc(mv_program_target(p), f, &l, &v, why, sizeof(why))) {
		ret->values[ret->n++] = v;
		return;
	}
	if (!ret->why[0])
		snprintf(ret->why, sizeof(ret->why), "%s", why);
}

void mv_unwind_local_values(struct mv_program *p, const struct mv_thread *th,
			    const char *function, const char *variable,
			    struct mv_unwind_values *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!th->has_regs) {
		snprintf(ret->why, sizeof(ret->why), "no registers");
		return;
	}
	struct frame f, caller;
	memset(&f, 0, sizeof(f));
	for (unsigned i = 0; i < NREG; i++)
		f.r.v[i] = th->regs[mv_reg_of[i]];
	f.r.known = (1u << NREG) - 1;
	f.look_pc = f.r.v[RA];
	struct mv_target *t = mv_program_target(p);
	char why[200] = "";
	size_t k = 0;
	for (; k < MV_UNWIND_MAX_FRAMES; k++) {
		bool cfi = frame_cfi(p, &f, why, sizeof(why));
		if (in_function(p, f.look_pc, function))
			frame_value(p, &f, variable, ret);
		if (!cfi || !frame_step(t, &f, &caller, why, sizeof(why)))
			break;
		f = caller;
	}
	if (k == MV_UNWIND_MAX_FRAMES)
		snprintf(why, sizeof(why), "more than %d frames",
			 MV_UNWIND_MAX_FRAMES);
	if (why[0] && !ret->why[0])
		snprintf(ret->why, sizeof(ret->why),
			 "the unwinding stopped after %zu frame%s: %s", k + 1,
			 k ? "s" : "", why);
}
