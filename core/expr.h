/* expr.h - a small C expression language for the standalone program,
 * and C type names for all front ends.
 *
 * Expressions: integer literals (decimal, 0x hex, octal), global and
 * static variable names, ELF symbols (typed as char if no DWARF), unary
 * * & - ~ !, binary + - (pointer arithmetic scales), postfix -> . [i],
 * casts "(struct node *)0x1234", parentheses, sizeof(type|expr).
 *
 * Type names: "int", "unsigned long", "long long unsigned int", "char *",
 * "struct node", "union u", "enum e", "node_t", "int [3]", "int[3][4]",
 * "char (*)[4]", "void (*)(int)", "const char *const", bare tags
 * ("node" when no typedef of that name exists: lldb spells types that
 * way), and gdb's/lldb's spellings of the same. */
#ifndef MV_EXPR_H
#define MV_EXPR_H

#include "memview.h"
#include "program.h"

struct mv_value {
	struct mv_type *type;
	bool is_lvalue;
	uint64_t address; /* lvalue: where the object is */
	uint64_t value;   /* rvalue scalar (pointer, integer, bool) */
};

/* Evaluates expr against the program's globals and target memory
 * (memory may be NULL when there is none).  pc chooses between clashing
 * definitions (0 = none). */
struct mv_error *mv_expr_eval(struct mv_program *p, const char *expr,
			      uint64_t pc, struct mv_value *ret);
/* Parses a C type name.  MV_ERR_NOT_FOUND for an unknown name,
 * MV_ERR_SYNTAX for a malformed one, each naming what was wrong. */
struct mv_error *mv_expr_parse_type(struct mv_program *p, const char *name,
				    uint64_t pc, struct mv_type **ret);
/* Reads the scalar value of v (for lvalues, from memory). */
struct mv_error *mv_value_read_scalar(struct mv_program *p,
				      const struct mv_value *v,
				      uint64_t *ret);

#endif
