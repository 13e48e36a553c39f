/* fuzz_elf.c - ELF files: the input is an executable, a library or a
 * debug file.
 *
 * Parses it in memory (whole, and as the partial first page a mapping
 * gives), asks for everything the program module uses, then adds it to
 * a program as an objfile, which also looks for its debug file. */
#include <elf.h>

#include "fuzz.h"
#include "program.h"

static void poke_elf(struct mv_elf *e)
{
	const struct mv_elf_segment *segs;
	size_t n = mv_elf_loads(e, &segs);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += segs[i].vaddr + segs[i].memsz + segs[i].filesz;
	const struct mv_elf_symbol *syms;
	n = mv_elf_symbols(e, &syms);
	for (size_t i = 0; i < n; i++)
		sum += strlen(syms[i].name) + syms[i].value;
	static const char *const sections[] = {
		".debug_info", ".symtab", ".dynsym", ".gnu_debuglink",
		".note.gnu.build-id", ".dynamic", ".text", ""};
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
		const void *d;
		size_t len;
		if (mv_elf_section(e, sections[i], &d, &len) && len)
			sum += ((const uint8_t *)d)[len - 1];
	}
	const char *id = mv_elf_build_id(e);
	if (id)
		sum += strlen(id);
	const char *name;
	uint32_t crc;
	if (mv_elf_debuglink(e, &name, &crc))
		sum += strlen(name) + crc;
	const char *const *w;
	n = mv_elf_warnings(e, &w);
	for (size_t i = 0; i < n; i++)
		sum += strlen(w[i]);
	sum += mv_elf_type(e) + mv_elf_entry(e) + mv_elf_is_executable(e) +
	       mv_elf_has_symtab(e) + mv_elf_has_dynsym(e) +
	       mv_elf_has_debug_info(e);
	/* Keep the reads from being optimised away. */
	__asm__ volatile("" : : "r"(sum));
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct mv_elf *e;
	struct mv_error *err = mv_elf_open_memory("fuzz", data, size, false,
						  &e);
	if (!err) {
		poke_elf(e);
		mv_elf_destroy(e);
	}
	mv_error_destroy(err);
	err = mv_elf_open_memory("fuzz", data, size < 4096 ? size : 4096,
				 true, &e);
	if (!err) {
		poke_elf(e);
		mv_elf_destroy(e);
	}
	mv_error_destroy(err);

	const char *path = mv_fuzz_file(data, size);
	if (!path)
		return 0;
	struct mv_program *p;
	if (mv_program_create(NULL, &p))
		return 0;
	struct mv_objfile *o;
	err = mv_program_add_objfile(p, path, 0x555555554000, true, &o);
	if (!err) {
		uint64_t addr, sz;
		const char *name;
		mv_program_find_symbol(p, "main", &addr, &sz);
		mv_program_symbolize(p, 0x555555555000, &name, &addr);
	}
	mv_error_destroy(err);
	mv_program_destroy(p);
	return 0;
}
