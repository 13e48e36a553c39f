/* elf.c - ELF64 little-endian x86-64 reader over an mmapped file.
 *
 * The file is untrusted: every offset and size is checked with
 * overflow-safe arithmetic (off <= size && len <= size - off) before the
 * bytes are touched, and headers are copied out with memcpy because a
 * hostile file may place them at unaligned offsets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <elf.h> /* core/elf.h, which includes the system's <elf.h> */

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

struct mv_elf {
	char *path;
	const unsigned char *data;
	size_t size;
	bool mapped;   /* data is our mmap, unmapped on destroy */
	bool partial;  /* data is only the start of the file */
	uint16_t type;
	uint64_t entry;
	bool is_pie;
	struct mv_elf_segment *loads;
	size_t nloads;
	Elf64_Shdr *shdrs;
	size_t nshdrs;
	const char *shstrtab;
	size_t shstrtab_size;
	struct mv_elf_symbol *syms;
	size_t nsyms;
	bool has_symtab, has_dynsym;
	char *build_id;
	const char *debuglink;
	uint32_t debuglink_crc;
	bool has_debug_info;
	struct mv_notes warnings;
};

static bool in_bounds(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* Warnings are best effort: losing one to out-of-memory only loses the
 * sentence, never the file. */
static void elf_warn(struct mv_elf *e, const char *fmt, ...) MV_PRINTF(2, 3);
static void elf_warn(struct mv_elf *e, const char *fmt, ...)
{
	if (!e->warnings.max)
		mv_notes_init(&e->warnings, 100);
	va_list ap;
	va_start(ap, fmt);
	mv_notes_vadd(&e->warnings, fmt, ap);
	va_end(ap);
}

static const char *section_name(const struct mv_elf *e, const Elf64_Shdr *sh)
{
	if (!e->shstrtab || sh->sh_name >= e->shstrtab_size)
		return NULL;
	const char *name = e->shstrtab + sh->sh_name;
	if (!memchr(name, '\0', e->shstrtab_size - sh->sh_name))
		return NULL;
	return name;
}

static const Elf64_Shdr *find_section(const struct mv_elf *e,
				      const char *name)
{
	for (size_t i = 0; i < e->nshdrs; i++) {
		const char *n = section_name(e, &e->shdrs[i]);
		if (n && strcmp(n, name) == 0)
			return &e->shdrs[i];
	}
	return NULL;
}

static bool section_bytes(const struct mv_elf *e, const Elf64_Shdr *sh,
			  const unsigned char **data, size_t *size)
{
	if (sh->sh_type == SHT_NOBITS || sh->sh_type == SHT_NULL)
		return false;
	if (!in_bounds(e->size, sh->sh_offset, sh->sh_size))
		return false;
	*data = e->data + sh->sh_offset;
	*size = sh->sh_size;
	return true;
}

bool mv_elf_section(const struct mv_elf *e, const char *name,
		    const void **data, size_t *size)
{
	const Elf64_Shdr *sh = find_section(e, name);
	const unsigned char *d;
	if (!sh || !section_bytes(e, sh, &d, size))
		return false;
	*data = d;
	return true;
}

uint64_t mv_elf_section_addr(const struct mv_elf *e, const char *name)
{
	const Elf64_Shdr *sh = find_section(e, name);
	return sh ? sh->sh_addr : 0;
}

uint64_t mv_elf_section_flags(const struct mv_elf *e, const char *name)
{
	const Elf64_Shdr *sh = find_section(e, name);
	return sh ? sh->sh_flags : 0;
}

/* Without a count, the table can only be read up to the first byte a
 * header already read puts in a segment: Linux, gdb and ld all place
 * the bytes of notes and segments after the table. */
static uint64_t phdrs_before_data(const unsigned char *data, size_t size,
				  uint64_t phoff)
{
	uint64_t bytes = UINT64_MAX;
	uint64_t n = 0;
	while (n < PN_XNUM &&
	       in_bounds(size, phoff, (n + 1) * sizeof(Elf64_Phdr))) {
		uint64_t end = phoff + (n + 1) * sizeof(Elf64_Phdr);
		if (end > bytes)
			break;
		Elf64_Phdr ph;
		memcpy(&ph, data + end - sizeof(ph), sizeof(ph));
		if (ph.p_filesz && ph.p_offset >= end && ph.p_offset < bytes)
			bytes = ph.p_offset;
		n++;
	}
	return n;
}

uint64_t mv_elf_phdr_count(const void *data, size_t size,
			   const Elf64_Ehdr *eh, const char **why)
{
	*why = NULL;
	if (eh->e_phnum != PN_XNUM)
		return eh->e_phnum;
	Elf64_Shdr first;
	if (!eh->e_shoff || eh->e_shentsize != sizeof(first) ||
	    !in_bounds(size, eh->e_shoff, sizeof(first))) {
		*why = "there is no section header 0 to hold the count";
	} else {
		memcpy(&first, (const unsigned char *)data + eh->e_shoff,
		       sizeof(first));
		if (first.sh_info)
			return first.sh_info;
		*why = "section header 0 holds no count (sh_info 0)";
	}
	return phdrs_before_data(data, size, eh->e_phoff);
}

static struct mv_error *read_segments(struct mv_elf *e, const Elf64_Ehdr *eh,
				      Elf64_Phdr **phdrs, size_t *nphdrs)
{
	*phdrs = NULL;
	*nphdrs = 0;
	if (eh->e_phnum == 0 || eh->e_phoff == 0)
		return NULL;
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: bad program header size %u",
				       e->path, eh->e_phentsize);
	const char *why;
	size_t n = mv_elf_phdr_count(e->data, e->size, eh, &why);
	if (why && !e->partial) /* a partial image has no section headers */
		elf_warn(e, "%s: e_phnum is PN_XNUM (0xffff) but %s; read "
			 "the %zu program headers before the first "
			 "segment's bytes", e->path, why, n);
	if (n == 0)
		return NULL;
	if (!in_bounds(e->size, eh->e_phoff, (uint64_t)n * sizeof(Elf64_Phdr))) {
		if (e->partial)
			return NULL;
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF (program headers past end)",
				       e->path);
	}
	Elf64_Phdr *ph = calloc(n, sizeof(*ph));
	if (!ph)
		return mv_enomem;
	memcpy(ph, e->data + eh->e_phoff, n * sizeof(*ph));
	size_t nloads = 0;
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD)
			nloads++;
	if (nloads) {
		e->loads = calloc(nloads, sizeof(*e->loads));
		if (!e->loads) {
			free(ph);
			return mv_enomem;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		struct mv_elf_segment *s = &e->loads[e->nloads++];
		s->vaddr = ph[i].p_vaddr;
		s->memsz = ph[i].p_memsz;
		s->offset = ph[i].p_offset;
		s->filesz = ph[i].p_filesz;
		s->flags = ph[i].p_flags;
	}
	*phdrs = ph;
	*nphdrs = n;
	return NULL;
}

static struct mv_error *read_sections(struct mv_elf *e, const Elf64_Ehdr *eh)
{
	if (eh->e_shoff == 0)
		return NULL;
	if (eh->e_shentsize != sizeof(Elf64_Shdr)) {
		if (e->partial)
			return NULL;
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: bad section header size %u",
				       e->path, eh->e_shentsize);
	}
	if (!in_bounds(e->size, eh->e_shoff, sizeof(Elf64_Shdr))) {
		if (e->partial)
			return NULL;
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF (section headers past end)",
				       e->path);
	}
	/* Extended numbering: with 0xff00 or more sections the real count
	 * and string table index live in section header 0. */
	Elf64_Shdr first;
	memcpy(&first, e->data + eh->e_shoff, sizeof(first));
	uint64_t n = eh->e_shnum ? eh->e_shnum : first.sh_size;
	uint64_t strndx = eh->e_shstrndx == SHN_XINDEX ? first.sh_link
						       : eh->e_shstrndx;
	if (n > SIZE_MAX / sizeof(Elf64_Shdr) ||
	    !in_bounds(e->size, eh->e_shoff, n * sizeof(Elf64_Shdr))) {
		if (e->partial)
			return NULL;
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF (section headers past end)",
				       e->path);
	}
	e->shdrs = calloc(n ? n : 1, sizeof(*e->shdrs));
	if (!e->shdrs)
		return mv_enomem;
	memcpy(e->shdrs, e->data + eh->e_shoff, n * sizeof(Elf64_Shdr));
	e->nshdrs = n;
	if (strndx != SHN_UNDEF && strndx < n) {
		const unsigned char *d;
		size_t sz;
		if (section_bytes(e, &e->shdrs[strndx], &d, &sz)) {
			e->shstrtab = (const char *)d;
			e->shstrtab_size = sz;
		} else {
			elf_warn(e, "%s: section name table out of bounds",
				 e->path);
		}
	}
	return NULL;
}

static struct mv_error *add_symbols(struct mv_elf *e, const Elf64_Shdr *sh,
				    bool dynamic)
{
	const char *which = dynamic ? ".dynsym" : ".symtab";
	const unsigned char *d, *strs;
	size_t size, strsize;
	if (!section_bytes(e, sh, &d, &size)) {
		elf_warn(e, "%s: %s lies outside the file", e->path, which);
		return NULL;
	}
	if (sh->sh_entsize != sizeof(Elf64_Sym)) {
		elf_warn(e, "%s: %s has entries of %llu bytes, expected %zu",
			 e->path, which, (unsigned long long)sh->sh_entsize,
			 sizeof(Elf64_Sym));
		return NULL;
	}
	if (sh->sh_link >= e->nshdrs ||
	    !section_bytes(e, &e->shdrs[sh->sh_link], &strs, &strsize)) {
		elf_warn(e, "%s: %s has no usable string table", e->path,
			 which);
		return NULL;
	}
	size_t n = size / sizeof(Elf64_Sym);
	if (n == 0)
		return NULL;
	struct mv_elf_symbol *syms = mv_big_realloc(e->syms, e->nsyms + n,
						    sizeof(*syms));
	if (!syms)
		return mv_enomem;
	e->syms = syms;
	size_t bad = 0;
	/* Entry 0 is the reserved null symbol. */
	for (size_t i = 1; i < n; i++) {
		Elf64_Sym s;
		memcpy(&s, d + i * sizeof(s), sizeof(s));
		unsigned type = ELF64_ST_TYPE(s.st_info);
		if (type == STT_SECTION || type == STT_FILE || s.st_name == 0)
			continue;
		if (s.st_name >= strsize ||
		    !memchr(strs + s.st_name, '\0', strsize - s.st_name)) {
			bad++;
			continue;
		}
		const char *name = (const char *)strs + s.st_name;
		if (!*name)
			continue;
		struct mv_elf_symbol *o = &e->syms[e->nsyms++];
		o->name = name;
		o->value = s.st_value;
		o->size = s.st_size;
		o->type = type;
		o->bind = ELF64_ST_BIND(s.st_info);
		o->shndx = s.st_shndx;
		o->dynamic = dynamic;
	}
	if (bad)
		elf_warn(e, "%s: %zu symbols in %s have bad name offsets; skipped",
			 e->path, bad, which);
	if (dynamic)
		e->has_dynsym = true;
	else
		e->has_symtab = true;
	return NULL;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Looks for NT_GNU_BUILD_ID in a block of notes.  align is 4 or 8 (the
 * note section's alignment decides the padding of name and desc). */
static struct mv_error *scan_notes(struct mv_elf *e, const unsigned char *d,
				   size_t size, size_t align)
{
	if (align != 8)
		align = 4;
	size_t off = 0;
	while (in_bounds(size, off, sizeof(Elf64_Nhdr))) {
		Elf64_Nhdr nh;
		memcpy(&nh, d + off, sizeof(nh));
		off += sizeof(nh);
		size_t name_off = off;
		if (!in_bounds(size, off, nh.n_namesz))
			return NULL;
		off = align_up(off + nh.n_namesz, align);
		size_t desc_off = off;
		if (!in_bounds(size, off, nh.n_descsz))
			return NULL;
		off = align_up(off + nh.n_descsz, align);
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp(d + name_off, "GNU", 4) == 0 && nh.n_descsz > 0 &&
		    nh.n_descsz <= 64) {
			char *hex = malloc(2 * nh.n_descsz + 1);
			if (!hex)
				return mv_enomem;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x",
					 d[desc_off + i]);
			e->build_id = hex;
			return NULL;
		}
	}
	return NULL;
}

static struct mv_error *find_build_id(struct mv_elf *e,
				      const Elf64_Phdr *ph, size_t nph)
{
	struct mv_error *err;
	for (size_t i = 0; i < e->nshdrs && !e->build_id; i++) {
		const unsigned char *d;
		size_t sz;
		if (e->shdrs[i].sh_type != SHT_NOTE ||
		    !section_bytes(e, &e->shdrs[i], &d, &sz))
			continue;
		if ((err = scan_notes(e, d, sz, e->shdrs[i].sh_addralign)))
			return err;
	}
	/* Program headers: the only notes left in a mapping's first page. */
	for (size_t i = 0; i < nph && !e->build_id; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		uint64_t sz = ph[i].p_filesz;
		if (!in_bounds(e->size, ph[i].p_offset, 0))
			continue;
		if (sz > e->size - ph[i].p_offset)
			sz = e->size - ph[i].p_offset;
		if ((err = scan_notes(e, e->data + ph[i].p_offset, sz,
				      ph[i].p_align)))
			return err;
	}
	return NULL;
}

static void find_debuglink(struct mv_elf *e)
{
	const Elf64_Shdr *sh = find_section(e, ".gnu_debuglink");
	const unsigned char *d;
	size_t sz;
	if (!sh || !section_bytes(e, sh, &d, &sz))
		return;
	const unsigned char *nul = memchr(d, '\0', sz);
	if (!nul || nul == d) {
		elf_warn(e, "%s: malformed .gnu_debuglink", e->path);
		return;
	}
	size_t crc_off = align_up((size_t)(nul - d) + 1, 4);
	if (!in_bounds(sz, crc_off, 4)) {
		elf_warn(e, "%s: malformed .gnu_debuglink", e->path);
		return;
	}
	memcpy(&e->debuglink_crc, d + crc_off, 4);
	e->debuglink = (const char *)d;
}

static void find_pie_flag(struct mv_elf *e)
{
	for (size_t i = 0; i < e->nshdrs; i++) {
		const unsigned char *d;
		size_t sz;
		if (e->shdrs[i].sh_type != SHT_DYNAMIC ||
		    !section_bytes(e, &e->shdrs[i], &d, &sz))
			continue;
		for (size_t off = 0; in_bounds(sz, off, sizeof(Elf64_Dyn));
		     off += sizeof(Elf64_Dyn)) {
			Elf64_Dyn dyn;
			memcpy(&dyn, d + off, sizeof(dyn));
			if (dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag == DT_FLAGS_1 &&
			    (dyn.d_un.d_val & DF_1_PIE))
				e->is_pie = true;
		}
	}
}

static struct mv_error *parse(struct mv_elf *e)
{
	static const unsigned char magic[4] = {0x7f, 'E', 'L', 'F'};
	if (e->size < 4 || memcmp(e->data, magic, 4) != 0)
		return mv_error_create(MV_ERR_FORMAT, "%s: not an ELF file",
				       e->path);
	if (e->size < EI_NIDENT)
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF (no header)", e->path);
	if (e->data[EI_CLASS] != ELFCLASS64 || e->data[EI_DATA] != ELFDATA2LSB)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "%s: not a 64-bit little-endian ELF file",
				       e->path);
	if (e->size < sizeof(Elf64_Ehdr))
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF (no header)", e->path);
	Elf64_Ehdr eh;
	memcpy(&eh, e->data, sizeof(eh));
	if (eh.e_machine != EM_X86_64)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "%s: not an x86-64 ELF file (machine %u)",
				       e->path, eh.e_machine);
	e->type = eh.e_type;
	e->entry = eh.e_entry;

	Elf64_Phdr *ph;
	size_t nph;
	struct mv_error *err = read_segments(e, &eh, &ph, &nph);
	if (err)
		return err;
	if ((err = read_sections(e, &eh)))
		goto out;
	for (size_t i = 0; i < e->nshdrs; i++) {
		if (e->shdrs[i].sh_type == SHT_SYMTAB && !e->has_symtab)
			err = add_symbols(e, &e->shdrs[i], false);
		else if (e->shdrs[i].sh_type == SHT_DYNSYM && !e->has_dynsym)
			err = add_symbols(e, &e->shdrs[i], true);
		if (err)
			goto out;
	}
	if ((err = find_build_id(e, ph, nph)))
		goto out;
	find_debuglink(e);
	find_pie_flag(e);
	/* .zdebug_info: the older GNU compressed form (-gz=zlib-gnu),
	 * which libdwarf reads too. */
	const Elf64_Shdr *info = find_section(e, ".debug_info");
	if (!info)
		info = find_section(e, ".zdebug_info");
	e->has_debug_info = info && info->sh_type != SHT_NOBITS &&
			    info->sh_size > 0 &&
			    in_bounds(e->size, info->sh_offset, info->sh_size);
out:
	free(ph);
	return err;
}

static struct mv_error *elf_new(const char *name, struct mv_elf **ret)
{
	struct mv_elf *e = calloc(1, sizeof(*e));
	if (!e)
		return mv_enomem;
	e->path = strdup(name ? name : "(memory)");
	if (!e->path) {
		free(e);
		return mv_enomem;
	}
	*ret = e;
	return NULL;
}

struct mv_error *mv_elf_open_memory(const char *name, const void *data,
				    size_t size, bool partial,
				    struct mv_elf **ret)
{
	struct mv_elf *e;
	struct mv_error *err = elf_new(name, &e);
	if (err)
		return err;
	e->data = data;
	e->size = size;
	e->partial = partial;
	if ((err = parse(e))) {
		mv_elf_destroy(e);
		return err;
	}
	*ret = e;
	return NULL;
}

struct mv_error *mv_elf_open(const char *path, struct mv_elf **ret)
{
	struct mv_elf *e;
	struct mv_error *err = elf_new(path, &e);
	if (err)
		return err;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int errnum = errno;
		err = mv_error_create(errnum == ENOENT ? MV_ERR_NOT_FOUND
						       : MV_ERR_IO,
				      "%s: %s", path, strerror(errnum));
		goto fail;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		err = mv_error_create(MV_ERR_IO, "%s: %s", path,
				      strerror(errno));
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		err = mv_error_create(MV_ERR_FORMAT, "%s: not an ELF file",
				      path);
		goto fail;
	}
	if (st.st_size > 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ,
				 MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			err = mv_error_create(MV_ERR_IO, "%s: mmap: %s", path,
					      strerror(errno));
			close(fd);
			goto fail;
		}
		e->data = map;
		e->size = (size_t)st.st_size;
		e->mapped = true;
	}
	close(fd);
	if ((err = parse(e)))
		goto fail;
	*ret = e;
	return NULL;
fail:
	mv_elf_destroy(e);
	return err;
}

void mv_elf_destroy(struct mv_elf *e)
{
	if (!e)
		return;
	if (e->mapped)
		munmap((void *)e->data, e->size);
	mv_notes_deinit(&e->warnings);
	free(e->loads);
	free(e->shdrs);
	mv_big_free(e->syms);
	free(e->build_id);
	free(e->path);
	free(e);
}

const char *mv_elf_path(const struct mv_elf *e)
{
	return e->path;
}

uint16_t mv_elf_type(const struct mv_elf *e)
{
	return e->type;
}

uint64_t mv_elf_entry(const struct mv_elf *e)
{
	return e->entry;
}

bool mv_elf_is_executable(const struct mv_elf *e)
{
	return e->type == ET_EXEC || (e->type == ET_DYN && e->is_pie);
}

size_t mv_elf_loads(const struct mv_elf *e, const struct mv_elf_segment **ret)
{
	*ret = e->loads;
	return e->nloads;
}

size_t mv_elf_symbols(const struct mv_elf *e,
		      const struct mv_elf_symbol **ret)
{
	*ret = e->syms;
	return e->nsyms;
}

bool mv_elf_has_symtab(const struct mv_elf *e)
{
	return e->has_symtab;
}

bool mv_elf_has_dynsym(const struct mv_elf *e)
{
	return e->has_dynsym;
}

const char *mv_elf_build_id(const struct mv_elf *e)
{
	return e->build_id;
}

bool mv_elf_debuglink(const struct mv_elf *e, const char **name,
		      uint32_t *crc)
{
	if (!e->debuglink)
		return false;
	*name = e->debuglink;
	*crc = e->debuglink_crc;
	return true;
}

bool mv_elf_has_debug_info(const struct mv_elf *e)
{
	return e->has_debug_info;
}

size_t mv_elf_warnings(const struct mv_elf *e, const char *const **ret)
{
	return mv_notes_get((struct mv_notes *)&e->warnings, ret);
}

uint32_t mv_elf_crc32(uint32_t crc, const void *data, size_t len)
{
	/* Built per call: 256 steps are nothing next to hashing a file,
	 * and it keeps the library free of global state. */
	uint32_t table[256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	const unsigned char *p = data;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

struct mv_error *mv_elf_file_crc32(const char *path, uint32_t *ret)
{
	/* Only a regular file, read to the size it had when opened: a
	 * debuglink naming a FIFO, a terminal or /dev/zero (found by
	 * fuzz_elf, for an objfile under /proc/self/fd) hung here.
	 * O_NONBLOCK keeps the open of a FIFO from waiting. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return mv_error_create(errno == ENOENT ? MV_ERR_NOT_FOUND
						       : MV_ERR_IO,
				       "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mv_error_create(MV_ERR_IO, "%s: not a regular file",
				       path);
	}
	uint64_t left = (uint64_t)st.st_size;
	unsigned char *buf = malloc(1 << 16);
	if (!buf) {
		close(fd);
		return mv_enomem;
	}
	uint32_t crc = 0;
	struct mv_error *err = NULL;
	while (left) {
		ssize_t n = read(fd, buf, left < (1 << 16) ? (size_t)left
							  : (size_t)1 << 16);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = mv_error_create(MV_ERR_IO, "%s: %s", path,
					      strerror(errno));
			break;
		}
		if (n == 0)
			break;
		crc = mv_elf_crc32(crc, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	free(buf);
	close(fd);
	if (!err)
		*ret = crc;
	return err;
}
