/* rules.h - what DWARF does not say about a program's objects, as data
 * the walk consults: lengths as expressions over a record's members
 * (--len, and the rules files of --types, see docs/types.md).
 *
 * A length expression is compiled once against its record type into a
 * short postfix program of member reads and constants, so that the walk
 * evaluates it per object with no lookup and no allocation, bounded by
 * the bytes of the object it has read. */
#ifndef MV_RULES_H
#define MV_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memview.h"

#define MV_LEN_EXPR_MAX 32   /* terms of one expression */

enum mv_len_op {
	MV_LEN_CONST,  /* push v */
	MV_LEN_FIELD,  /* push the integer member at offset v */
	MV_LEN_ADD, MV_LEN_SUB, MV_LEN_MUL, MV_LEN_DIV, MV_LEN_MOD,
	MV_LEN_SHL, MV_LEN_SHR, MV_LEN_AND, MV_LEN_OR, MV_LEN_NEG,
};

struct mv_len_term {
	uint8_t op;        /* enum mv_len_op */
	uint8_t size;      /* MV_LEN_FIELD: 1, 2, 4 or 8 bytes */
	bool is_signed;
	uint64_t v;        /* the constant, or the member's offset */
};

struct mv_len_expr {
	struct mv_len_term t[MV_LEN_EXPR_MAX];
	uint32_t n;
	uint64_t end;      /* bytes of the record it reads (max offset+size) */
};

/* The member at path ("ob_base.ob_size": members by value, anonymous
 * members and base classes looked through) of record, its offset from
 * the record's start in *offset.  A usage error names the part that is
 * missing ("PyObject has no member 'nosuch'"). */
struct mv_error *mv_rules_member_path(struct mv_type *record,
				      const char *path, uint64_t *offset,
				      const struct mv_member **ret);

/* Compiles text ("ob_base.ob_size", "1 << dk_log2_size",
 * "(n + 1) * 2"): integer literals, member paths of record naming
 * integer or enum members (not bit-fields), + - * / % << >> & | unary -
 * and parentheses.  A usage error names what is wrong. */
struct mv_error *mv_len_expr_compile(struct mv_type *record, const char *text,
				     struct mv_len_expr *ret);

/* Evaluates e over the record's bytes [bytes, bytes + avail).  False
 * when a member lies past avail or a division by zero: no length.
 * Arithmetic wraps modulo 2^64; a negative result is 0; the caller
 * bounds the result. */
bool mv_len_expr_eval(const struct mv_len_expr *e, const uint8_t *bytes,
		      size_t avail, uint64_t *ret);

#endif
