/* dwarf.h - DWARF types and variables of one ELF file, via libdwarf.
 *
 * dwarf.c is the only file that includes libdwarf's header (Debian 12's
 * libdwarf 20210528 API).  Opening indexes names only (top-level DIEs of
 * every CU, and what C++ namespaces hold; C++ classes' members when first
 * needed); types are built on demand and cached by DIE offset.  Names
 * are looked up in any C++ spelling (see cxxname.h). */
#ifndef MV_DWARF_H
#define MV_DWARF_H

#include "memview.h"
#include "program.h"

struct mv_dwarf;

/* path: the file with .debug_info (the objfile itself or its separate
 * debug file).  bias: added to DW_AT_low_pc / DW_OP_addr to get runtime
 * addresses.  MV_ERR_NOT_FOUND if the file has no DWARF. */
struct mv_error *mv_dwarf_open(const char *path, uint64_t bias,
			       struct mv_dwarf **ret);
void mv_dwarf_destroy(struct mv_dwarf *d);

/* A named type (see mv_program_find_type for the rules).  *ndefs, if
 * non-NULL, receives the number of distinct complete definitions seen;
 * *cu_name the compile unit of the chosen one. */
struct mv_error *mv_dwarf_find_type(struct mv_dwarf *d, enum mv_type_ns ns,
				    const char *name, uint64_t pc,
				    struct mv_type **ret, size_t *ndefs);
/* A global or file-static variable with a fixed address
 * (DW_OP_addr).  MV_ERR_NOT_FOUND if missing. */
struct mv_error *mv_dwarf_find_variable(struct mv_dwarf *d, const char *name,
					uint64_t pc, uint64_t *addr,
					struct mv_type **type);

/* The qualified name of the C++ variable that starts at runtime
 * address addr ("ns::g_var" for the symbol _ZN2ns5g_varE), or NULL;
 * owned by d.  The table is made on the first call. */
const char *mv_dwarf_cxx_variable_at(struct mv_dwarf *d, uint64_t addr);

/* The function whose code holds runtime address pc, and its locals and
 * parameters that lie at a fixed offset from the frame's CFA (a frame
 * base of DW_OP_call_frame_cfa and a location of DW_OP_fbreg N, as gcc
 * and clang give them at -O0 and often at -O2): fn gets each name, N
 * and its type (of a size), and stops the visit by returning false.
 * Returns the function's name (owned by d), "??" for a function without
 * one, or NULL when pc is in no function with code. */
typedef bool (*mv_dwarf_local_fn)(void *arg, const char *name,
				  int64_t cfa_offset, struct mv_type *type);
const char *mv_dwarf_frame_locals(struct mv_dwarf *d, uint64_t pc,
				  mv_dwarf_local_fn fn, void *arg);

/* Where the local variable or parameter name of the function whose
 * code holds runtime address pc is at pc (its DWARF location list
 * entry covering pc).  DWARF register numbers (x86-64: 0 rax, 1 rdx, 2
 * rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15).  false when the
 * function has no such variable (or pc is in no function); true with
 * kind MV_DWARF_LOC_NONE when it is optimized out at pc. */
enum mv_dwarf_loc_kind {
	MV_DWARF_LOC_NONE,        /* optimized out at pc */
	MV_DWARF_LOC_REGISTER,    /* the value is register reg */
	MV_DWARF_LOC_VALUE,       /* the value is register reg + offset */
	MV_DWARF_LOC_MEMORY,      /* in memory at register reg + offset */
	MV_DWARF_LOC_CFA_MEMORY,  /* in memory at the frame's CFA + offset */
	MV_DWARF_LOC_UNSUPPORTED  /* another DWARF expression */
};
struct mv_dwarf_loc {
	enum mv_dwarf_loc_kind kind;
	unsigned reg;
	int64_t offset;
};
bool mv_dwarf_local_location(struct mv_dwarf *d, uint64_t pc,
			     const char *name, struct mv_dwarf_loc *ret);

/* For the member function of a class template instance whose code
 * holds pc, the type its class's template type parameter param names:
 * a std::function's manager, std::_Function_handler<Sig, Functor>::
 * _M_manager, gives "_Functor", the lambda or callable it keeps (a
 * lambda has no name to look it up by).  NULL if not found. */
struct mv_type *mv_dwarf_method_template_arg(struct mv_dwarf *d, uint64_t pc,
					     const char *param);

/* Visits every global/static variable with a fixed address.  Stops
 * early if fn returns false. */
typedef bool (*mv_dwarf_variable_fn)(void *arg, const char *name,
				     uint64_t addr, struct mv_type *type);
struct mv_error *mv_dwarf_for_each_variable(struct mv_dwarf *d,
					    mv_dwarf_variable_fn fn,
					    void *arg);

/* Counts for `info` and benchmarks. */
struct mv_dwarf_stats {
	size_t cus, indexed_names, types_built;
};
void mv_dwarf_stats(struct mv_dwarf *d, struct mv_dwarf_stats *ret);

#endif
