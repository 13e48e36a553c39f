/* fuzz_roots.c - the root scans of gc, referrers and path-to over cores
 * whose program headers lie.
 *
 * The base is the basic fixture's core (build/cores/basic.core: a list
 * on the heap, one thread, small enough to copy for every input).  The input is a sequence of
 * 10-byte patches to its program headers: INDEX (1 byte, modulo the
 * number of headers), FIELD (1 byte: 0 p_type, 1 p_flags, 2 p_offset,
 * 3 p_vaddr, 4 p_filesz, 5 p_memsz, modulo 6) and VALUE (8 bytes,
 * little-endian).  A stack of 2^56 bytes, a heap of 2^63, a data segment
 * covering the address space, segments that overlap or point past the
 * file: each must give a bounded, partial answer (issue: robustness,
 * part 2).  Then `gc`, `gc --refcount`, `referrers` and `path-to` run
 * on the mutated core, as a session opened on it. */
#include "fuzz.h"
#include "session.h"

#include <elf.h>

static uint8_t *base;
static size_t base_len;

static bool setup(void)
{
	char path[256];
	mv_fuzz_build_file("cores/basic.core", path, sizeof(path));
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_roots: cannot open %s (run make first)\n",
			path);
		return false;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	base = n > 0 ? malloc((size_t)n) : NULL;
	if (!base || fread(base, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return false;
	}
	fclose(f);
	base_len = (size_t)n;
	return base_len >= sizeof(Elf64_Ehdr);
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static bool ready, failed;
	if (!ready && !failed) {
		ready = setup();
		failed = !ready;
	}
	if (!ready)
		return 0;
	uint8_t *core = malloc(base_len);
	if (!core)
		return 0;
	memcpy(core, base, base_len);
	Elf64_Ehdr eh;
	memcpy(&eh, core, sizeof(eh));
	size_t nph = eh.e_phnum;
	if (nph && eh.e_phoff < base_len &&
	    nph <= (base_len - eh.e_phoff) / sizeof(Elf64_Phdr)) {
		static const size_t field[6] = {
			offsetof(Elf64_Phdr, p_type), offsetof(Elf64_Phdr, p_flags),
			offsetof(Elf64_Phdr, p_offset), offsetof(Elf64_Phdr, p_vaddr),
			offsetof(Elf64_Phdr, p_filesz), offsetof(Elf64_Phdr, p_memsz)};
		static const size_t width[6] = {4, 4, 8, 8, 8, 8};
		for (size_t i = 0; i + 10 <= size; i += 10) {
			size_t k = data[i] % nph, fl = data[i + 1] % 6;
			uint8_t *at = core + eh.e_phoff + k * sizeof(Elf64_Phdr) +
				      field[fl];
			memcpy(at, data + i + 2, width[fl]);
		}
	}
	const char *path = mv_fuzz_file(core, base_len);
	free(core);
	if (!path)
		return 0;
	char exe[256];
	mv_fuzz_build_file("fixtures/basic", exe, sizeof(exe));
	struct mv_session *s;
	if (mv_session_create(&s))
		return 0;
	mv_session_set_output(s, mv_fuzz_discard, NULL);
	struct mv_error *err = mv_session_open_core(s, path, exe);
	if (!err) {
		static const char *const lines[][4] = {
			{"gc"},
			{"gc", "--json", "--blocks"},
			{"gc", "--refcount", "struct node.value"},
			{"referrers", "list_head"},
			{"path-to", "list_head"},
			{"doctor"},
		};
		for (size_t k = 0; k < sizeof(lines) / sizeof(*lines); k++) {
			int n = 0;
			while (n < 4 && lines[k][n])
				n++;
			mv_error_destroy(mv_session_run(s, n, lines[k]));
		}
	}
	mv_error_destroy(err);
	mv_session_destroy(s);
	return 0;
}
