/* program.h - the objfiles of a program (executable and shared
 * libraries) with their load bias, ELF symbols, separate debug files, and
 * lookups of types and variables across them.
 *
 * Layering: program sits on elf.c and dwarf.c and on target memory; expr,
 * commands and the session use it. */
#ifndef MV_PROGRAM_H
#define MV_PROGRAM_H

#include "memview.h"

struct mv_elf;
struct mv_dwarf;
struct mv_program;

struct mv_objfile {
	char *path;          /* as mapped / as given */
	uint64_t bias;       /* runtime address = file vaddr + bias */
	bool is_main;        /* the executable */
	uint64_t start, end; /* runtime range covered by its PT_LOADs */
	char *build_id;      /* hex, or NULL */
	/* Debug info: where it was found. */
	char *debug_path;    /* file holding .debug_info, or NULL */
	const char *debug_how; /* "embedded", "build-id", "debuglink", NULL */
	char *missing_hint;  /* when there is none: how to get it, or NULL */
	bool has_symbols;    /* .symtab or .dynsym present */
	struct mv_elf *elf;  /* NULL if the file could not be opened */
	char *open_error;    /* why elf is NULL */
	/* Loaded on first use by mv_objfile_dwarf(). */
	struct mv_dwarf *dwarf;
	bool dwarf_tried;
	char *dwarf_error;
};

/* target may be NULL (types and layouts only). */
struct mv_error *mv_program_create(struct mv_target *target,
				   struct mv_program **ret);
void mv_program_destroy(struct mv_program *p);
struct mv_target *mv_program_target(struct mv_program *p);

/* Adds an objfile (opening its ELF, finding its debug file, but not
 * loading DWARF).  A file that cannot be opened is still added, with
 * open_error set, so that `info` can say so. */
struct mv_error *mv_program_add_objfile(struct mv_program *p,
					const char *path, uint64_t bias,
					bool is_main, struct mv_objfile **ret);
/* Discovers objfiles from the target: a core's NT_FILE note, or
 * /proc/PID/maps.  exe (may be NULL) overrides the executable's path; if
 * the executable's build-id in target memory differs from exe's, fails
 * with MV_ERR_INVALID ("core was not produced by EXE"). */
struct mv_error *mv_program_load_target_objfiles(struct mv_program *p,
						 const char *exe);
size_t mv_program_objfiles(struct mv_program *p, struct mv_objfile ***ret);
/* Problems found while discovering objfiles (files deleted or replaced
 * since they were mapped, files that cannot be read), one sentence each;
 * owned by the program. */
size_t mv_program_warnings(struct mv_program *p, const char *const **ret);
/* The objfile whose mapped range contains address, or NULL. */
struct mv_objfile *mv_program_objfile_at(struct mv_program *p,
					 uint64_t address);

/* Loads DWARF on first use.  MV_ERR_NOT_FOUND if it has none. */
struct mv_error *mv_objfile_dwarf(struct mv_objfile *o,
				  struct mv_dwarf **ret);

/* ELF symbols (runtime addresses). */
bool mv_program_find_symbol(struct mv_program *p, const char *name,
			    uint64_t *addr, uint64_t *size);
/* The same, in objfile o alone (a library's own symbol of a name
 * another objfile has too). */
bool mv_objfile_find_symbol(struct mv_objfile *o, const char *name,
			    uint64_t *addr, uint64_t *size);
/* Nearest symbol at or below address, within its size (a sizeless one
 * only at its exact address).  *name is owned by the program. */
bool mv_program_symbolize(struct mv_program *p, uint64_t address,
			  const char **name, uint64_t *offset);

/* Which definitions to look in. */
enum mv_type_ns {
	MV_NS_STRUCT,
	MV_NS_UNION,
	MV_NS_ENUM,
	MV_NS_CLASS,
	MV_NS_ORDINARY, /* typedefs and base types */
};

/* A named type from DWARF, searching the executable first and then the
 * libraries.  Complete definitions win over declarations; among several
 * definitions, the one from the compile unit containing pc (runtime
 * address; 0 = none).  If note is non-NULL, it receives a static-lifetime
 * or program-owned sentence when there was a choice ("3 definitions of
 * struct node; used the one from foo.c"), else NULL.  MV_ERR_NOT_FOUND
 * if there is none. */
struct mv_error *mv_program_find_type(struct mv_program *p,
				      enum mv_type_ns ns, const char *name,
				      uint64_t pc, struct mv_type **ret,
				      const char **note);
/* A global or static variable: its runtime address and type. */
struct mv_error *mv_program_find_variable(struct mv_program *p,
					  const char *name, uint64_t pc,
					  uint64_t *addr,
					  struct mv_type **type);

/* Synthetic types owned by the program, made once and reused. */
struct mv_type *mv_program_pointer_type(struct mv_program *p,
					struct mv_type *target);
struct mv_type *mv_program_array_type(struct mv_program *p,
				      struct mv_type *element, uint64_t count,
				      bool has_count);
struct mv_type *mv_program_qualified_type(struct mv_program *p,
					  struct mv_type *target,
					  uint32_t quals);
/* A C base type by size and kind, e.g. ("unsigned long", MV_TYPE_INT, 8,
 * false); uses the DWARF one of the same name if present. */
struct mv_type *mv_program_base_type(struct mv_program *p, const char *name,
				     enum mv_type_kind kind, uint64_t size,
				     bool is_signed);
struct mv_type *mv_program_void_type(struct mv_program *p);

#endif
