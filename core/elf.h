/* elf.h - a reader for ELF64 little-endian x86-64 files (executables,
 * shared libraries and separate debug files), over an mmapped file.
 *
 * Every offset in the file is checked before it is used: a truncated or
 * hostile file gives an error or a warning, never a read out of bounds.
 * Strings and symbol names point into the mapping and live as long as
 * the struct mv_elf.
 *
 * Include this header as <elf.h>: core/ is on the include path, so
 * <elf.h> lands here anywhere in the tree, and the #include_next below
 * passes it on to the system's <elf.h> (Elf64_Ehdr, PT_LOAD, NT_FILE...).
 * A quoted "elf.h" from core/ would not reach the system header. */
#ifndef MV_ELF_H
#define MV_ELF_H

#include_next <elf.h>

#include "memview.h"

struct mv_elf;

/* A PT_LOAD program header. */
struct mv_elf_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t flags; /* PF_R, PF_W, PF_X */
};

struct mv_elf_symbol {
	const char *name;  /* never NULL or empty */
	uint64_t value;    /* file address (add the bias for runtime) */
	uint64_t size;
	uint8_t type;      /* STT_* */
	uint8_t bind;      /* STB_* */
	uint16_t shndx;    /* SHN_UNDEF for undefined symbols */
	bool dynamic;      /* from .dynsym rather than .symtab */
};

/* Opens and maps path.  Errors: "PATH: not an ELF file" (MV_ERR_FORMAT),
 * "PATH: truncated ELF (...)" (MV_ERR_FORMAT), other classes or
 * machines (MV_ERR_UNSUPPORTED), and open/read failures (MV_ERR_NOT_FOUND
 * for a missing file, MV_ERR_IO otherwise). */
struct mv_error *mv_elf_open(const char *path, struct mv_elf **ret);
/* Parses an ELF image in memory (not copied: data must outlive the
 * result).  With partial, the image may be only the start of the file
 * (the first page of a mapping read from target memory): section headers
 * and everything else past size are then silently absent. */
struct mv_error *mv_elf_open_memory(const char *name, const void *data,
				    size_t size, bool partial,
				    struct mv_elf **ret);
void mv_elf_destroy(struct mv_elf *e);

const char *mv_elf_path(const struct mv_elf *e);
uint16_t mv_elf_type(const struct mv_elf *e); /* ET_EXEC, ET_DYN, ... */
uint64_t mv_elf_entry(const struct mv_elf *e);
/* True for a position-independent executable (DF_1_PIE) as opposed to a
 * shared library; ET_EXEC files are executables too. */
bool mv_elf_is_executable(const struct mv_elf *e);
/* PT_LOAD segments in file order. */
size_t mv_elf_loads(const struct mv_elf *e,
		    const struct mv_elf_segment **ret);
/* The contents of the first section called name.  False if there is no
 * such section, if it has no bytes in the file (SHT_NOBITS), or if they
 * lie outside the file. */
bool mv_elf_section(const struct mv_elf *e, const char *name,
		    const void **data, size_t *size);
/* The sh_addr of the first section called name (its address in the
 * file's vaddrs), 0 if there is none. */
uint64_t mv_elf_section_addr(const struct mv_elf *e, const char *name);
/* The sh_flags of the first section called name, 0 if there is none.
 * With SHF_COMPRESSED, mv_elf_section's bytes start with an Elf64_Chdr. */
uint64_t mv_elf_section_flags(const struct mv_elf *e, const char *name);
/* Named symbols of .symtab and .dynsym (without section and file
 * symbols), in file order. */
size_t mv_elf_symbols(const struct mv_elf *e,
		      const struct mv_elf_symbol **ret);
bool mv_elf_has_symtab(const struct mv_elf *e);
bool mv_elf_has_dynsym(const struct mv_elf *e);
/* The GNU build-id as lowercase hex, or NULL. */
const char *mv_elf_build_id(const struct mv_elf *e);
/* .gnu_debuglink: the debug file's name and its CRC-32. */
bool mv_elf_debuglink(const struct mv_elf *e, const char **name,
		      uint32_t *crc);
/* True if .debug_info (or .zdebug_info) has contents in this file. */
bool mv_elf_has_debug_info(const struct mv_elf *e);
/* Problems found in a file that was still usable (bad symbol names, odd
 * section sizes), one sentence each; owned by e. */
size_t mv_elf_warnings(const struct mv_elf *e, const char *const **ret);

/* The number of program headers of the ELF image data[0..size) whose
 * header is eh: e_phnum, or with extended numbering (e_phnum PN_XNUM,
 * for 0xffff headers or more) the sh_info of section header 0, which may
 * be more than the file holds.  When PN_XNUM has no count behind it (no
 * section header 0, or 0 in its sh_info), *why says which in a phrase
 * and the count is that of the headers before the first byte of a
 * segment, at most PN_XNUM; otherwise *why is NULL.  Used by the core
 * reader too. */
uint64_t mv_elf_phdr_count(const void *data, size_t size,
			   const Elf64_Ehdr *eh, const char **why);

/* The CRC-32 used by .gnu_debuglink (zlib's), continued from crc (0 to
 * start). */
uint32_t mv_elf_crc32(uint32_t crc, const void *data, size_t len);
/* The CRC-32 of a whole file. */
struct mv_error *mv_elf_file_crc32(const char *path, uint32_t *ret);

#endif
