/* program.c - objfiles (executable and shared libraries) with their load
 * bias, ELF symbols, separate debug files, type and variable lookups
 * across them, and the synthetic types the evaluator needs.
 *
 * Everything that comes from the target (the file list of a core, the
 * first page of each mapping) or from disk (files may be gone, replaced,
 * truncated or not ELF at all) is treated as hostile: a problem becomes a
 * warning or an objfile's open_error, never a failure of the whole load,
 * except the one the user must hear about: a core that was not produced
 * by the executable they named. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <elf.h> /* core/elf.h, which includes the system's <elf.h> */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dwarf.h"
#include "program.h"

#define DEBUG_ROOT "/usr/lib/debug"
#define PAGE_MASK_ (~(uint64_t)0xfff)
/* A symbol without a size names only its own address: reaching further
 * labels a string in .rodata as "_fini+1294". */
#define SIZELESS_REACH 1
#define SYNTH_BUCKETS 256

/* A defined symbol at its runtime address. */
struct sym {
	uint64_t addr, size;
	const char *name;
	uint8_t bind;
};

struct objfile {
	struct mv_objfile pub; /* first: the public view */
	/* The separate debug file, kept open for its .symtab when the
	 * objfile itself is stripped (Debian's libc.so.6). */
	struct mv_elf *debug_elf;
	/* Symbols, built on first use: all of them in file order, then a
	 * hash of their names (a lookup by name needs no sort) and, on the
	 * first lookup by address, a sorted copy. */
	bool syms_built, addrs_built;
	struct sym *syms;
	size_t nsyms;
	uint32_t *names;      /* index + 1 into syms; 0: empty */
	size_t names_cap;     /* a power of two */
	struct sym *by_addr;
	size_t naddr;
};

/* A synthetic type and the key it is cached under. */
struct synth {
	struct mv_type type;
	struct synth *next;
	enum mv_type_kind kind;
	struct mv_type *target;
	uint64_t count;
	uint32_t quals;
	bool has_count;
	char *name;   /* base types */
	uint64_t size;
	bool is_signed;
	struct mv_type *dwarf; /* base types: the DWARF one, if found */
};

struct mv_program {
	struct mv_target *target;
	struct objfile **objfiles;
	size_t nobjfiles, capobjfiles;
	struct synth *synth[SYNTH_BUCKETS];
	struct mv_type *void_type;
	struct mv_notes warnings;
	char **notes; /* find_type sentences, kept for the program's life */
	size_t nnotes;
};

static struct objfile *impl(struct mv_objfile *o)
{
	return (struct objfile *)o;
}

static void program_warn(struct mv_program *p, const char *fmt, ...)
	MV_PRINTF(2, 3);
static void program_warn(struct mv_program *p, const char *fmt, ...)
{
	if (!p->warnings.max)
		mv_notes_init(&p->warnings, 100);
	va_list ap;
	va_start(ap, fmt);
	mv_notes_vadd(&p->warnings, fmt, ap);
	va_end(ap);
}

size_t mv_program_warnings(struct mv_program *p, const char *const **ret)
{
	return mv_notes_get(&p->warnings, ret);
}

struct mv_error *mv_program_create(struct mv_target *target,
				   struct mv_program **ret)
{
	struct mv_program *p = calloc(1, sizeof(*p));
	if (!p)
		return mv_enomem;
	p->target = target;
	*ret = p;
	return NULL;
}

static void objfile_destroy(struct objfile *o)
{
	if (!o)
		return;
	if (o->pub.dwarf)
		mv_dwarf_destroy(o->pub.dwarf);
	mv_elf_destroy(o->debug_elf);
	mv_elf_destroy(o->pub.elf);
	mv_big_free(o->syms);
	mv_big_free(o->names);
	mv_big_free(o->by_addr);
	free(o->pub.path);
	free(o->pub.build_id);
	free(o->pub.debug_path);
	free(o->pub.missing_hint);
	free(o->pub.open_error);
	free(o->pub.dwarf_error);
	free(o);
}

void mv_program_destroy(struct mv_program *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nobjfiles; i++)
		objfile_destroy(p->objfiles[i]);
	free(p->objfiles);
	for (size_t b = 0; b < SYNTH_BUCKETS; b++) {
		struct synth *s = p->synth[b];
		while (s) {
			struct synth *next = s->next;
			free(s->name);
			free(s);
			s = next;
		}
	}
	free(p->void_type);
	mv_notes_deinit(&p->warnings);
	for (size_t i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->notes);
	free(p);
}

struct mv_target *mv_program_target(struct mv_program *p)
{
	return p->target;
}

size_t mv_program_objfiles(struct mv_program *p, struct mv_objfile ***ret)
{
	*ret = (struct mv_objfile **)p->objfiles;
	return p->nobjfiles;
}

struct mv_objfile *mv_program_objfile_at(struct mv_program *p,
					 uint64_t address)
{
	for (size_t i = 0; i < p->nobjfiles; i++) {
		struct mv_objfile *o = &p->objfiles[i]->pub;
		if (o->start < o->end && address >= o->start &&
		    address < o->end)
			return o;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Debug files                                                         */
/* ------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* glibc's own libraries: their debug info comes in libc6-dbg. */
static bool is_glibc_file(const char *path)
{
	static const char *const prefixes[] = {
		"libc.so", "ld-linux", "libm.so", "libpthread.so", "libdl.so",
		"librt.so", "libresolv.so", "libutil.so", "libnsl.so",
		"libanl.so", "libmvec.so", "libBrokenLocale.so", "libnss_",
		"libthread_db.so", "libc_malloc_debug.so", "libmemusage.so",
		"libpcprofile.so", "libcrypt.so.1",
	};
	const char *base = base_name(path);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Opens candidate as a debug file for o: it must have .debug_info, and
 * the same build-id when both have one.  Returns NULL on any mismatch
 * (mv_enomem only for out-of-memory). */
static struct mv_error *try_debug_file(struct objfile *o,
				       const char *candidate,
				       const char *how, bool *found)
{
	*found = false;
	if (access(candidate, R_OK) != 0)
		return NULL;
	struct mv_elf *e;
	struct mv_error *err = mv_elf_open(candidate, &e);
	if (err) {
		if (err == mv_enomem)
			return err;
		mv_error_destroy(err);
		return NULL;
	}
	const char *id = mv_elf_build_id(e);
	if (!mv_elf_has_debug_info(e) ||
	    (id && o->pub.build_id && strcmp(id, o->pub.build_id) != 0)) {
		mv_elf_destroy(e);
		return NULL;
	}
	o->pub.debug_path = strdup(candidate);
	if (!o->pub.debug_path) {
		mv_elf_destroy(e);
		return mv_enomem;
	}
	o->pub.debug_how = how;
	o->debug_elf = e;
	*found = true;
	return NULL;
}

static struct mv_error *find_by_debuglink(struct objfile *o, bool *found)
{
	const char *name;
	uint32_t crc;
	*found = false;
	if (!mv_elf_debuglink(o->pub.elf, &name, &crc))
		return NULL;
	/* A name with a slash could point anywhere: not a debuglink. */
	if (strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return NULL;
	const char *path = o->pub.path;
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	const char *dir = slash ? path : ".";
	char *candidates[3] = {NULL, NULL, NULL};
	if (asprintf(&candidates[0], "%.*s/%s", dirlen, dir, name) < 0)
		candidates[0] = NULL;
	if (asprintf(&candidates[1], "%.*s/.debug/%s", dirlen, dir, name) < 0)
		candidates[1] = NULL;
	if (asprintf(&candidates[2], DEBUG_ROOT "%s%.*s/%s",
		     slash && path[0] == '/' ? "" : "/", dirlen, dir,
		     name) < 0)
		candidates[2] = NULL;
	struct mv_error *err = NULL;
	for (int i = 0; i < 3 && !*found; i++) {
		if (!candidates[i]) {
			err = mv_enomem;
			break;
		}
		uint32_t got;
		struct mv_error *crc_err = mv_elf_file_crc32(candidates[i],
							     &got);
		if (crc_err) {
			mv_error_destroy(crc_err);
			continue;
		}
		if (got != crc)
			continue;
		if ((err = try_debug_file(o, candidates[i], "debuglink",
					  found)))
			break;
	}
	for (int i = 0; i < 3; i++)
		free(candidates[i]);
	return err;
}

static struct mv_error *find_debug_info(struct objfile *o)
{
	struct mv_objfile *pub = &o->pub;
	bool found = false;
	struct mv_error *err;
	if (mv_elf_has_debug_info(pub->elf)) {
		pub->debug_path = strdup(pub->path);
		if (!pub->debug_path)
			return mv_enomem;
		pub->debug_how = "embedded";
		return NULL;
	}
	if (pub->build_id && strlen(pub->build_id) > 2) {
		char *candidate;
		if (asprintf(&candidate, DEBUG_ROOT "/.build-id/%.2s/%s.debug",
			     pub->build_id, pub->build_id + 2) < 0)
			return mv_enomem;
		err = try_debug_file(o, candidate, "build-id", &found);
		free(candidate);
		if (err || found)
			return err;
	}
	if ((err = find_by_debuglink(o, &found)) || found)
		return err;
	pub->missing_hint = strdup(is_glibc_file(pub->path)
			? "install libc6-dbg"
			: "no debug info: rebuild with -g or install its -dbgsym package");
	return pub->missing_hint ? NULL : mv_enomem;
}

/* ------------------------------------------------------------------ */
/* Objfiles                                                            */
/* ------------------------------------------------------------------ */

static struct mv_error *append_objfile(struct mv_program *p,
				       struct objfile *o)
{
	if (p->nobjfiles == p->capobjfiles) {
		size_t cap = p->capobjfiles ? 2 * p->capobjfiles : 8;
		struct objfile **a = realloc(p->objfiles, cap * sizeof(*a));
		if (!a)
			return mv_enomem;
		p->objfiles = a;
		p->capobjfiles = cap;
	}
	p->objfiles[p->nobjfiles++] = o;
	return NULL;
}

/* Opens path and fills everything but the program's list. */
static struct mv_error *objfile_create(const char *path, uint64_t bias,
				       bool is_main, struct objfile **ret)
{
	struct objfile *o = calloc(1, sizeof(*o));
	if (!o)
		return mv_enomem;
	struct mv_objfile *pub = &o->pub;
	pub->path = strdup(path);
	if (!pub->path) {
		free(o);
		return mv_enomem;
	}
	pub->bias = bias;
	pub->is_main = is_main;
	struct mv_error *err = mv_elf_open(path, &pub->elf);
	if (err) {
		if (err == mv_enomem)
			goto fail;
		pub->elf = NULL;
		pub->open_error = strdup(mv_error_message(err));
		mv_error_destroy(err);
		err = NULL;
		if (!pub->open_error) {
			err = mv_enomem;
			goto fail;
		}
		*ret = o;
		return NULL;
	}
	const struct mv_elf_segment *loads;
	size_t n = mv_elf_loads(pub->elf, &loads);
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end;
		if (__builtin_add_overflow(loads[i].vaddr, loads[i].memsz, &end))
			end = UINT64_MAX;
		if (loads[i].vaddr < lo)
			lo = loads[i].vaddr;
		if (end > hi)
			hi = end;
	}
	if (lo < hi) {
		/* Wrapping arithmetic is what a bias means: vaddr + bias mod
		 * 2^64 (a negative bias is stored as its complement). */
		pub->start = lo + bias;
		pub->end = hi + bias;
		if (pub->end < pub->start)
			pub->end = UINT64_MAX;
	}
	if (mv_elf_build_id(pub->elf)) {
		pub->build_id = strdup(mv_elf_build_id(pub->elf));
		if (!pub->build_id) {
			err = mv_enomem;
			goto fail;
		}
	}
	pub->has_symbols = mv_elf_has_symtab(pub->elf) ||
			   mv_elf_has_dynsym(pub->elf);
	if ((err = find_debug_info(o)))
		goto fail;
	*ret = o;
	return NULL;
fail:
	objfile_destroy(o);
	return err;
}

struct mv_error *mv_program_add_objfile(struct mv_program *p,
					const char *path, uint64_t bias,
					bool is_main, struct mv_objfile **ret)
{
	struct objfile *o;
	struct mv_error *err = objfile_create(path, bias, is_main, &o);
	if (err)
		return err;
	if ((err = append_objfile(p, o))) {
		objfile_destroy(o);
		return err;
	}
	if (ret)
		*ret = &o->pub;
	return NULL;
}

struct mv_error *mv_objfile_dwarf(struct mv_objfile *o, struct mv_dwarf **ret)
{
	if (!o->dwarf_tried) {
		o->dwarf_tried = true;
		if (!o->debug_path)
			return mv_error_create(MV_ERR_NOT_FOUND, "%s: %s",
					       o->path,
					       o->open_error ? o->open_error
					       : o->missing_hint ? o->missing_hint
					       : "no debug info");
		struct mv_error *err = mv_dwarf_open(o->debug_path, o->bias,
						     &o->dwarf);
		if (err) {
			o->dwarf = NULL;
			if (err == mv_enomem) {
				/* Out of memory may pass: try again later. */
				o->dwarf_tried = false;
				return err;
			}
			o->dwarf_error = strdup(mv_error_message(err));
			return err;
		}
	}
	if (o->dwarf) {
		*ret = o->dwarf;
		return NULL;
	}
	if (o->dwarf_error)
		return mv_error_create(MV_ERR_NOT_FOUND, "%s", o->dwarf_error);
	return mv_error_create(MV_ERR_NOT_FOUND, "%s: %s", o->path,
			       o->open_error ? o->open_error
			       : o->missing_hint ? o->missing_hint
			       : "no debug info");
}

/* ------------------------------------------------------------------ */
/* Objfiles of a target                                                */
/* ------------------------------------------------------------------ */

/* The regions of one mapped file. */
struct group {
	const char *path;
	uint64_t lo, hi;
	bool has_zero;        /* a region maps file offset 0 */
	uint64_t zero_start;
	uint64_t any_start, any_offset;
	uint32_t perms;
};

static bool is_pseudo_path(const char *path)
{
	/* [heap], [stack], [vdso], anon_inode:..., /memfd:..., SysV shm */
	return path[0] != '/' || strncmp(path, "/memfd:", 7) == 0 ||
	       strncmp(path, "/SYSV", 5) == 0 || strncmp(path, "/dev/", 5) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* bias = (start of the mapping of file offset 0) - (first PT_LOAD's
 * vaddr, page-aligned down).  Without a mapping of offset 0, any mapped
 * region gives it through the PT_LOAD that covers its file offset. */
static bool group_bias(const struct group *g, struct mv_elf *elf,
		       uint64_t *bias)
{
	const struct mv_elf_segment *loads;
	size_t n = mv_elf_loads(elf, &loads);
	if (n == 0)
		return false;
	if (g->has_zero) {
		*bias = g->zero_start - (loads[0].vaddr & PAGE_MASK_);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t seg_off = loads[i].offset & PAGE_MASK_;
		uint64_t span = loads[i].filesz + (loads[i].offset - seg_off);
		if (g->any_offset >= seg_off && g->any_offset - seg_off < span) {
			*bias = g->any_start - ((loads[i].vaddr & PAGE_MASK_) +
						(g->any_offset - seg_off));
			return true;
		}
	}
	return false;
}

/* The build-id in the first page of a mapping of file offset 0 (gcore
 * and the kernel dump it for every ELF mapping).  *ret is NULL when it
 * cannot be read; only out-of-memory is an error. */
static struct mv_error *memory_build_id(struct mv_target *t, uint64_t start,
					char **ret)
{
	*ret = NULL;
	unsigned char *page = malloc(4096);
	if (!page)
		return mv_enomem;
	size_t n = mv_target_read_partial(t, start, page, 4096);
	struct mv_elf *e;
	struct mv_error *err = mv_elf_open_memory("target", page, n, true, &e);
	if (err) {
		free(page);
		if (err == mv_enomem)
			return err;
		mv_error_destroy(err);
		return NULL;
	}
	if (mv_elf_build_id(e) && !(*ret = strdup(mv_elf_build_id(e))))
		err = mv_enomem;
	mv_elf_destroy(e);
	free(page);
	return err;
}

static bool memory_is_elf(struct mv_target *t, uint64_t start)
{
	unsigned char magic[4];
	return mv_target_read_partial(t, start, magic, 4) == 4 &&
	       memcmp(magic, "\x7f" "ELF", 4) == 0;
}

static struct group *collect_groups(const struct mv_region *r, size_t n,
				    size_t *ngroups)
{
	struct group *g = calloc(n ? n : 1, sizeof(*g));
	if (!g)
		return NULL;
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].path || !r[i].path[0])
			continue;
		size_t j;
		for (j = 0; j < ng; j++)
			if (strcmp(g[j].path, r[i].path) == 0)
				break;
		if (j == ng) {
			g[ng].path = r[i].path;
			g[ng].lo = r[i].start;
			g[ng].hi = r[i].end;
			g[ng].any_start = r[i].start;
			g[ng].any_offset = r[i].offset;
			ng++;
		}
		if (r[i].start < g[j].lo)
			g[j].lo = r[i].start;
		if (r[i].end > g[j].hi)
			g[j].hi = r[i].end;
		g[j].perms |= r[i].perms;
		if (r[i].offset == 0 && !g[j].has_zero) {
			g[j].has_zero = true;
			g[j].zero_start = r[i].start;
		}
	}
	*ngroups = ng;
	return g;
}

/* Adds the objfile of one mapped file, or skips it with a reason. */
static struct mv_error *load_group(struct mv_program *p, const struct group *g,
				   struct objfile **ret)
{
	*ret = NULL;
	if (is_pseudo_path(g->path))
		return NULL;
	for (size_t i = 0; i < p->nobjfiles; i++)
		if (strcmp(p->objfiles[i]->pub.path, g->path) == 0)
			return NULL; /* already declared */
	uint64_t start = g->has_zero ? g->zero_start : g->lo;
	struct objfile *o;
	struct mv_error *err;
	if (ends_with(g->path, " (deleted)")) {
		if (!(g->perms & MV_PERM_X) && !memory_is_elf(p->target, start))
			return NULL;
		/* Listed without a file, so that `info` shows it and a
		 * deleted executable can still be replaced by --exe. */
		if (!(o = calloc(1, sizeof(*o))))
			return mv_enomem;
		o->pub.path = strdup(g->path);
		if (!o->pub.path ||
		    asprintf(&o->pub.open_error, "%.*s: deleted after it was "
			     "mapped", (int)(strlen(g->path) - 10),
			     g->path) < 0) {
			o->pub.open_error = NULL;
			objfile_destroy(o);
			return mv_enomem;
		}
		program_warn(p, "%s; no symbols or types for it",
			     o->pub.open_error);
		o->pub.start = g->lo;
		o->pub.end = g->hi;
		goto add;
	}
	if ((err = objfile_create(g->path, 0, false, &o)))
		return err;
	if (!o->pub.elf) {
		/* Data files (locale archives, fonts) are mapped too: only
		 * a file that looks like code is worth a warning. */
		bool code = (g->perms & MV_PERM_X) ||
			    memory_is_elf(p->target, start);
		if (!code || strstr(o->pub.open_error, "not an ELF file")) {
			objfile_destroy(o);
			return NULL;
		}
		program_warn(p, "%s; no symbols or types for it",
			     o->pub.open_error);
		o->pub.start = g->lo;
		o->pub.end = g->hi;
	} else {
		uint64_t bias;
		if (!group_bias(g, o->pub.elf, &bias)) {
			program_warn(p, "%s: cannot tell where it is loaded; "
				     "skipped", g->path);
			objfile_destroy(o);
			return NULL;
		}
		o->pub.start += bias;
		o->pub.end += bias;
		if (o->pub.end < o->pub.start)
			o->pub.end = UINT64_MAX;
		o->pub.bias = bias;
	}
add:
	if ((err = append_objfile(p, o))) {
		objfile_destroy(o);
		return err;
	}
	*ret = o;
	return NULL;
}

/* Forgets the warnings about a file the user has replaced. */
static void drop_warnings(struct mv_program *p, const char *path)
{
	mv_notes_remove_prefix(&p->warnings, path);
}

/* Replaces the executable found in the target by the file the user
 * named, after checking that it is the same program. */
static struct mv_error *use_exe(struct mv_program *p, size_t index,
				const struct group *g, const char *exe)
{
	struct objfile *old = p->objfiles[index];
	char *core_id = NULL;
	struct mv_error *err = NULL;
	if (g && g->has_zero &&
	    (err = memory_build_id(p->target, g->zero_start, &core_id)))
		return err;
	struct objfile *o;
	if ((err = objfile_create(exe, old->pub.bias, true, &o))) {
		free(core_id);
		return err;
	}
	if (!o->pub.elf) {
		err = mv_error_create(MV_ERR_INVALID, "%s", o->pub.open_error);
		goto fail;
	}
	if (core_id && o->pub.build_id && strcmp(core_id, o->pub.build_id)) {
		err = mv_error_create(MV_ERR_INVALID,
				      "core was not produced by %s (build-id %s "
				      "in core, %s in file)",
				      exe, core_id, o->pub.build_id);
		goto fail;
	}
	uint64_t bias;
	if (g && group_bias(g, o->pub.elf, &bias) && bias != old->pub.bias) {
		o->pub.start += bias - old->pub.bias;
		o->pub.end += bias - old->pub.bias;
		o->pub.bias = bias;
	}
	free(core_id);
	p->objfiles[index] = o;
	if (old->pub.open_error)
		drop_warnings(p, old->pub.open_error);
	objfile_destroy(old);
	return NULL;
fail:
	free(core_id);
	objfile_destroy(o);
	return err;
}

/* The bias at which a region of t starts with o's ELF header (same
 * build-id), or 0 in *ret.  Bounded: hostile cores have many regions. */
static struct mv_error *find_exe_in_memory(struct mv_target *t,
					   struct objfile *o, uint64_t *ret)
{
	const struct mv_region *r;
	const struct mv_elf_segment *loads;
	size_t n = mv_target_regions(t, &r);
	*ret = 0;
	if (!o->pub.build_id || mv_elf_loads(o->pub.elf, &loads) == 0)
		return NULL;
	for (size_t i = 0; i < n && i < 4096; i++) {
		char *id;
		if (!memory_is_elf(t, r[i].start))
			continue;
		struct mv_error *err = memory_build_id(t, r[i].start, &id);
		if (err)
			return err;
		bool same = id && strcmp(id, o->pub.build_id) == 0;
		free(id);
		if (same) {
			*ret = r[i].start - (loads[0].vaddr & PAGE_MASK_);
			return NULL;
		}
	}
	return NULL;
}

/* The executable when nothing in the target maps it: a non-PIE file
 * loads at its own addresses; a PIE's bias follows from AT_ENTRY. */
static struct mv_error *add_unmapped_exe(struct mv_program *p, const char *exe)
{
	struct objfile *o;
	struct mv_error *err = objfile_create(exe, 0, true, &o);
	if (err)
		return err;
	if (!o->pub.elf) {
		err = mv_error_create(MV_ERR_INVALID, "%s", o->pub.open_error);
		objfile_destroy(o);
		return err;
	}
	uint64_t entry, found;
	if (mv_elf_type(o->pub.elf) == ET_DYN && p->target &&
	    mv_target_auxv(p->target, AT_ENTRY, &entry)) {
		uint64_t bias = entry - mv_elf_entry(o->pub.elf);
		o->pub.bias = bias;
		o->pub.start += bias;
		o->pub.end += bias;
	} else if (mv_elf_type(o->pub.elf) == ET_DYN && p->target) {
		/* No AT_ENTRY either (a core cut before its notes): look for
		 * the file's own ELF header, by build-id, in memory. */
		if ((err = find_exe_in_memory(p->target, o, &found)))
			goto fail_early;
		if (found) {
			o->pub.bias = found;
			o->pub.start += found;
			o->pub.end += found;
		} else {
			program_warn(p, "%s: not found in the target's "
				     "mappings; assuming it is loaded at 0",
				     exe);
		}
	}
	/* No file list (a core without NT_FILE): the ELF header may still
	 * be in memory where the file says it is loaded. */
	const struct mv_elf_segment *loads;
	char *core_id = NULL;
	if (p->target && o->pub.build_id &&
	    mv_elf_loads(o->pub.elf, &loads) > 0 &&
	    (err = memory_build_id(p->target,
				   (loads[0].vaddr & PAGE_MASK_) + o->pub.bias,
				   &core_id)))
		goto fail;
	if (core_id && strcmp(core_id, o->pub.build_id) != 0) {
		err = mv_error_create(MV_ERR_INVALID,
				      "core was not produced by %s (build-id %s "
				      "in core, %s in file)",
				      exe, core_id, o->pub.build_id);
		goto fail;
	}
	free(core_id);
	if ((err = append_objfile(p, o)))
		objfile_destroy(o);
	return err;
fail:
	free(core_id);
fail_early:
	objfile_destroy(o);
	return err;
}

struct mv_error *mv_program_load_target_objfiles(struct mv_program *p,
						 const char *exe)
{
	struct mv_error *err = NULL;
	if (!p->target)
		return exe ? add_unmapped_exe(p, exe) : NULL;
	const struct mv_region *regions;
	size_t nregions = mv_target_regions(p->target, &regions);
	size_t ngroups;
	struct group *groups = collect_groups(regions, nregions, &ngroups);
	if (!groups)
		return mv_enomem;
	/* Objfile index of each group, or SIZE_MAX. */
	size_t *index = malloc((ngroups ? ngroups : 1) * sizeof(*index));
	if (!index) {
		free(groups);
		return mv_enomem;
	}
	for (size_t i = 0; i < ngroups; i++) {
		struct objfile *o;
		index[i] = SIZE_MAX;
		if ((err = load_group(p, &groups[i], &o)))
			goto out;
		if (o)
			index[i] = p->nobjfiles - 1;
	}

	/* The executable: the objfile that holds the entry point, else the
	 * first mapped executable (not a shared library). */
	size_t main_group = SIZE_MAX;
	uint64_t entry;
	if (mv_target_auxv(p->target, AT_ENTRY, &entry)) {
		for (size_t i = 0; i < ngroups && main_group == SIZE_MAX; i++) {
			if (index[i] == SIZE_MAX)
				continue;
			struct mv_objfile *o = &p->objfiles[index[i]]->pub;
			if (entry >= o->start && entry < o->end)
				main_group = i;
		}
	}
	for (size_t i = 0; i < ngroups && main_group == SIZE_MAX; i++) {
		if (index[i] == SIZE_MAX)
			continue;
		struct mv_objfile *o = &p->objfiles[index[i]]->pub;
		if (o->elf && mv_elf_is_executable(o->elf))
			main_group = i;
	}
	bool have_main = false;
	for (size_t i = 0; i < p->nobjfiles; i++)
		if (p->objfiles[i]->pub.is_main)
			have_main = true;
	if (main_group != SIZE_MAX && !have_main) {
		p->objfiles[index[main_group]]->pub.is_main = true;
		/* Even under the same path: the file may have been rebuilt
		 * since the core was written. */
		if (exe && (err = use_exe(p, index[main_group],
					  &groups[main_group], exe)))
			goto out;
	} else if (exe && !have_main) {
		if ((err = add_unmapped_exe(p, exe)))
			goto out;
	}

	/* Files replaced on disk since the core was written: their symbols
	 * and types would lie, so say so (the executable named by the user
	 * was already checked above). */
	for (size_t i = 0; i < ngroups; i++) {
		if (index[i] == SIZE_MAX || !groups[i].has_zero ||
		    (exe && i == main_group))
			continue;
		struct mv_objfile *o = &p->objfiles[index[i]]->pub;
		char *id;
		if (!o->build_id)
			continue;
		if ((err = memory_build_id(p->target, groups[i].zero_start,
					   &id)))
			goto out;
		if (id && strcmp(id, o->build_id) != 0)
			program_warn(p, "%s has changed since it was mapped "
				     "(build-id %s in the target, %s in the "
				     "file): its symbols and types may be wrong",
				     o->path, id, o->build_id);
		free(id);
	}
out:
	free(index);
	free(groups);
	return err;
}

/* ------------------------------------------------------------------ */
/* Symbols                                                             */
/* ------------------------------------------------------------------ */

static int bind_rank(uint8_t bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (bind_rank(x->bind) != bind_rank(y->bind))
		return bind_rank(x->bind) - bind_rank(y->bind);
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool wanted_symbol(const struct mv_elf_symbol *s)
{
	if (s->shndx == SHN_UNDEF || s->shndx == SHN_ABS)
		return false;
	return s->type == STT_FUNC || s->type == STT_OBJECT ||
	       s->type == STT_NOTYPE || s->type == STT_GNU_IFUNC ||
	       s->type == STT_COMMON;
}

static void add_syms(struct objfile *o, struct mv_elf *e)
{
	const struct mv_elf_symbol *s;
	size_t count = mv_elf_symbols(e, &s);
	for (size_t i = 0; i < count; i++) {
		if (!wanted_symbol(&s[i]))
			continue;
		struct sym *y = &o->syms[o->nsyms++];
		y->addr = s[i].value + o->pub.bias;
		y->size = s[i].size;
		y->name = s[i].name;
		y->bind = s[i].bind;
	}
}

/* Which of two symbols of one name a lookup by name gives: globals,
 * then weak, then local; the lowest address among equals. */
static bool sym_better(const struct sym *a, const struct sym *b)
{
	if (bind_rank(a->bind) != bind_rank(b->bind))
		return bind_rank(a->bind) < bind_rank(b->bind);
	return a->addr < b->addr;
}

static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	return h;
}

/* The symbols and their name hash, built on first use. */
static struct mv_error *build_syms(struct objfile *o)
{
	if (o->syms_built)
		return NULL;
	struct mv_elf *elf = o->pub.elf;
	if (!elf) {
		o->syms_built = true;
		return NULL;
	}
	const struct mv_elf_symbol *s;
	/* A stripped file's full .symtab lives in its debug file. */
	struct mv_elf *extra = NULL;
	if (!mv_elf_has_symtab(elf) && o->debug_elf &&
	    mv_elf_has_symtab(o->debug_elf))
		extra = o->debug_elf;
	size_t cap = mv_elf_symbols(elf, &s);
	if (extra)
		cap += mv_elf_symbols(extra, &s);
	size_t hcap = 16;
	while (hcap < cap * 2)
		hcap *= 2;
	o->syms = mv_big_realloc(NULL, cap ? cap : 1, sizeof(*o->syms));
	o->names = mv_big_calloc(hcap, sizeof(*o->names));
	if (!o->syms || !o->names || cap >= UINT32_MAX) {
		mv_big_free(o->syms);
		mv_big_free(o->names);
		o->syms = NULL;
		o->names = NULL;
		return mv_enomem;
	}
	o->nsyms = 0;
	add_syms(o, elf);
	if (extra)
		add_syms(o, extra);
	o->names_cap = hcap;
	/* One slot per name, holding its best symbol: a file with many
	 * symbols of one name (ARM's $x, a static in every unit) costs no
	 * more than one with distinct names. */
	for (size_t i = 0; i < o->nsyms; i++) {
		const struct sym *y = &o->syms[i];
		size_t k = (size_t)name_hash(y->name) & (hcap - 1);
		for (;; k = (k + 1) & (hcap - 1)) {
			uint32_t v = o->names[k];
			if (!v) {
				o->names[k] = (uint32_t)i + 1;
				break;
			}
			if (strcmp(o->syms[v - 1].name, y->name) == 0) {
				if (sym_better(y, &o->syms[v - 1]))
					o->names[k] = (uint32_t)i + 1;
				break;
			}
		}
	}
	o->syms_built = true;
	return NULL;
}

/* The symbols sorted by address, built on the first lookup by address
 * (symbolizing); .symtab and .dynsym repeat each other: one of each. */
static struct mv_error *build_addrs(struct objfile *o)
{
	struct mv_error *err;
	if (o->addrs_built)
		return NULL;
	if ((err = build_syms(o)))
		return err;
	size_t n = o->nsyms;
	o->by_addr = mv_big_realloc(NULL, n ? n : 1, sizeof(*o->by_addr));
	if (!o->by_addr)
		return mv_enomem;
	if (n)
		memcpy(o->by_addr, o->syms, n * sizeof(*o->by_addr));
	qsort(o->by_addr, n, sizeof(*o->by_addr), cmp_addr);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && o->by_addr[m - 1].addr == o->by_addr[i].addr &&
		    strcmp(o->by_addr[m - 1].name, o->by_addr[i].name) == 0)
			continue;
		o->by_addr[m++] = o->by_addr[i];
	}
	o->naddr = m;
	o->addrs_built = true;
	return NULL;
}

/* The best-ranked symbol called name in o (globals, then weak, then
 * local; the lowest address among equals), or NULL. */
static const struct sym *lookup_name(struct objfile *o, const char *name)
{
	if (build_syms(o) || !o->names_cap)
		return NULL;
	size_t k = (size_t)name_hash(name) & (o->names_cap - 1);
	for (; o->names[k]; k = (k + 1) & (o->names_cap - 1)) {
		const struct sym *y = &o->syms[o->names[k] - 1];
		if (strcmp(y->name, name) == 0)
			return y;
	}
	return NULL;
}

bool mv_program_find_symbol(struct mv_program *p, const char *name,
			    uint64_t *addr, uint64_t *size)
{
	const struct sym *best = NULL;
	/* The executable first, whatever the binding; then the libraries,
	 * globals before file-local symbols of the same name. */
	for (size_t i = 0; i < p->nobjfiles && !best; i++)
		if (p->objfiles[i]->pub.is_main)
			best = lookup_name(p->objfiles[i], name);
	for (int pass = 0; pass < 2 && !best; pass++) {
		for (size_t i = 0; i < p->nobjfiles && !best; i++) {
			if (p->objfiles[i]->pub.is_main)
				continue;
			const struct sym *s = lookup_name(p->objfiles[i], name);
			if (s && (pass == 1 || s->bind != STB_LOCAL))
				best = s;
		}
	}
	if (!best)
		return false;
	if (addr)
		*addr = best->addr;
	if (size)
		*size = best->size;
	return true;
}

bool mv_objfile_find_symbol(struct mv_objfile *o, const char *name,
			    uint64_t *addr, uint64_t *size)
{
	const struct sym *s = lookup_name(impl(o), name);
	if (!s)
		return false;
	*addr = s->addr;
	*size = s->size;
	return true;
}

bool mv_program_symbolize(struct mv_program *p, uint64_t address,
			  const char **name, uint64_t *offset)
{
	struct mv_objfile *pub = mv_program_objfile_at(p, address);
	if (!pub)
		return false;
	struct objfile *o = impl(pub);
	if (build_addrs(o) || o->naddr == 0)
		return false;
	/* The last symbol at or below address. */
	size_t lo = 0, hi = o->naddr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->by_addr[mid].addr <= address)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	size_t last = lo - 1;
	/* A sized symbol containing address wins (the closest one, looking
	 * back a bounded distance for nested or overlapping symbols); among
	 * those at the same address the array order ranks globals first. */
	const struct sym *hit = NULL;
	for (size_t k = 0; k < 64 && k <= last && !hit; k++) {
		const struct sym *s = &o->by_addr[last - k];
		if (s->size && address - s->addr < s->size)
			hit = s;
	}
	if (hit) {
		while (hit > o->by_addr && hit[-1].addr == hit->addr &&
		       hit[-1].size && address - hit[-1].addr < hit[-1].size)
			hit--;
	} else {
		/* Else a sizeless one at exactly this address. */
		for (size_t k = 0; k < 64 && k <= last && !hit; k++) {
			const struct sym *s = &o->by_addr[last - k];
			if (address - s->addr >= SIZELESS_REACH)
				break;
			if (!s->size)
				hit = s;
		}
		if (hit)
			while (hit > o->by_addr && hit[-1].addr == hit->addr &&
			       !hit[-1].size)
				hit--;
	}
	if (!hit)
		return false;
	if (name)
		*name = hit->name;
	/* A mangled C++ variable: its name as DWARF qualifies it.  (The
	 * same answer whether or not a lookup loaded the DWARF before, so
	 * that the front ends agree.) */
	struct mv_dwarf *d;
	if (name && !strncmp(hit->name, "_Z", 2)) {
		struct mv_error *err = mv_objfile_dwarf(pub, &d);
		const char *q = err ? NULL :
				mv_dwarf_cxx_variable_at(d, hit->addr);
		mv_error_destroy(err);
		if (q)
			*name = q;
	}
	if (offset)
		*offset = address - hit->addr;
	return true;
}

/* ------------------------------------------------------------------ */
/* Types and variables                                                 */
/* ------------------------------------------------------------------ */

/* Search order: the executable, the objfile containing pc, the rest. */
static size_t search_order(struct mv_program *p, uint64_t pc,
			   struct objfile **order)
{
	size_t n = 0;
	struct mv_objfile *at = pc ? mv_program_objfile_at(p, pc) : NULL;
	for (size_t i = 0; i < p->nobjfiles; i++)
		if (p->objfiles[i]->pub.is_main)
			order[n++] = p->objfiles[i];
	if (at && !at->is_main)
		order[n++] = impl(at);
	for (size_t i = 0; i < p->nobjfiles; i++)
		if (!p->objfiles[i]->pub.is_main && &p->objfiles[i]->pub != at)
			order[n++] = p->objfiles[i];
	return n;
}

static const char *ns_prefix(enum mv_type_ns ns)
{
	switch (ns) {
	case MV_NS_STRUCT: return "struct ";
	case MV_NS_UNION: return "union ";
	case MV_NS_ENUM: return "enum ";
	case MV_NS_CLASS: return "class ";
	default: return "";
	}
}

/* Keeps a note for the program's life; the same sentence is stored
 * once, so repeated lookups do not grow the program. */
static const char *keep_note(struct mv_program *p, char *note)
{
	if (!note)
		return NULL;
	for (size_t i = 0; i < p->nnotes; i++) {
		if (strcmp(p->notes[i], note) == 0) {
			free(note);
			return p->notes[i];
		}
	}
	char **a = realloc(p->notes, (p->nnotes + 1) * sizeof(*a));
	if (!a) {
		free(note);
		return NULL;
	}
	p->notes = a;
	p->notes[p->nnotes++] = note;
	return note;
}

struct mv_error *mv_program_find_type(struct mv_program *p,
				      enum mv_type_ns ns, const char *name,
				      uint64_t pc, struct mv_type **ret,
				      const char **note)
{
	if (note)
		*note = NULL;
	struct objfile **order = malloc((p->nobjfiles ? p->nobjfiles : 1) *
					sizeof(*order));
	if (!order)
		return mv_enomem;
	size_t n = search_order(p, pc, order);
	struct mv_type *decl = NULL, *found = NULL;
	size_t ndefs = 0;
	struct mv_error *err = NULL;
	for (size_t i = 0; i < n && !found; i++) {
		struct mv_dwarf *d;
		struct mv_error *e = mv_objfile_dwarf(&order[i]->pub, &d);
		if (e) {
			/* No debug info here: the search goes on (the
			 * reason is kept in the objfile for `info`). */
			if (e == mv_enomem) {
				err = e;
				break;
			}
			mv_error_destroy(e);
			continue;
		}
		struct mv_type *t;
		size_t nd = 0;
		e = mv_dwarf_find_type(d, ns, name, pc, &t, &nd);
		if (e) {
			/* INVALID: a template name that names several
			 * types; the user must say which. */
			if (e == mv_enomem ||
			    mv_error_code(e) == MV_ERR_INVALID) {
				err = e;
				break;
			}
			mv_error_destroy(e);
			continue;
		}
		if (t->is_complete || ns == MV_NS_ORDINARY) {
			found = t;
			ndefs = nd;
		} else if (!decl) {
			decl = t;
		}
	}
	free(order);
	if (err)
		return err;
	if (!found && !decl)
		return mv_error_create(MV_ERR_NOT_FOUND, "no type %s%s",
				       ns_prefix(ns), name);
	char *msg = NULL;
	if (found && ndefs > 1) {
		if (found->cu_name) {
			if (asprintf(&msg, "%zu definitions of %s%s; used the "
				     "one from %s", ndefs, ns_prefix(ns), name,
				     found->cu_name) < 0)
				msg = NULL;
		} else if (asprintf(&msg, "%zu definitions of %s%s", ndefs,
				    ns_prefix(ns), name) < 0) {
			msg = NULL;
		}
	} else if (!found) {
		if (asprintf(&msg, "only a declaration of %s%s was found "
			     "(no debug info holds its definition)",
			     ns_prefix(ns), name) < 0)
			msg = NULL;
	}
	const char *kept = keep_note(p, msg);
	if (note)
		*note = kept;
	*ret = found ? found : decl;
	return NULL;
}

struct mv_error *mv_program_find_variable(struct mv_program *p,
					  const char *name, uint64_t pc,
					  uint64_t *addr,
					  struct mv_type **type)
{
	struct objfile **order = malloc((p->nobjfiles ? p->nobjfiles : 1) *
					sizeof(*order));
	if (!order)
		return mv_enomem;
	size_t n = search_order(p, pc, order);
	struct mv_error *err = NULL;
	bool found = false;
	for (size_t i = 0; i < n && !found; i++) {
		struct mv_dwarf *d;
		struct mv_error *e = mv_objfile_dwarf(&order[i]->pub, &d);
		if (!e)
			e = mv_dwarf_find_variable(d, name, pc, addr, type);
		if (!e) {
			found = true;
		} else if (e == mv_enomem) {
			err = e;
			break;
		} else {
			mv_error_destroy(e);
		}
	}
	free(order);
	if (err || found)
		return err;
	/* The ELF symbol tells where it is, but not what it is. */
	uint64_t sym_addr;
	if (mv_program_find_symbol(p, name, &sym_addr, NULL)) {
		struct mv_objfile *o = mv_program_objfile_at(p, sym_addr);
		const char *hint = o && o->missing_hint ? o->missing_hint
			: "no debug info for it";
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "%s: symbol at 0x%llx has no type (%s)",
				       name, (unsigned long long)sym_addr, hint);
	}
	return mv_error_create(MV_ERR_NOT_FOUND, "no variable %s", name);
}

/* ------------------------------------------------------------------ */
/* Synthetic types                                                     */
/* ------------------------------------------------------------------ */

static size_t synth_hash(enum mv_type_kind kind, const struct mv_type *target,
			 uint64_t count, uint32_t quals, const char *name)
{
	uint64_t h = 1469598103934665603ull;
	uint64_t parts[4] = {(uint64_t)kind, (uint64_t)(uintptr_t)target,
			     count, quals};
	for (int i = 0; i < 4; i++) {
		h ^= parts[i];
		h *= 1099511628211ull;
	}
	for (const char *c = name; c && *c; c++) {
		h ^= (unsigned char)*c;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29)) % SYNTH_BUCKETS;
}

static struct synth *synth_find(struct mv_program *p, size_t bucket,
				enum mv_type_kind kind, struct mv_type *target,
				uint64_t count, uint32_t quals, bool has_count,
				const char *name, uint64_t size,
				bool is_signed)
{
	for (struct synth *s = p->synth[bucket]; s; s = s->next) {
		if (s->kind != kind || s->target != target ||
		    s->count != count || s->quals != quals ||
		    s->has_count != has_count)
			continue;
		if (name && (!s->name || strcmp(s->name, name) != 0 ||
			     s->size != size || s->is_signed != is_signed))
			continue;
		if (!name && s->name)
			continue;
		return s;
	}
	return NULL;
}

static struct synth *synth_new(struct mv_program *p, size_t bucket,
			       enum mv_type_kind kind, struct mv_type *target,
			       uint64_t count, uint32_t quals, bool has_count)
{
	struct synth *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->target = target;
	s->count = count;
	s->quals = quals;
	s->has_count = has_count;
	s->type.kind = kind;
	s->type.is_complete = true;
	s->next = p->synth[bucket];
	p->synth[bucket] = s;
	return s;
}

struct mv_type *mv_program_void_type(struct mv_program *p)
{
	if (!p->void_type) {
		struct mv_type *t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->kind = MV_TYPE_VOID;
		t->name = "void";
		t->is_complete = true;
		p->void_type = t;
	}
	return p->void_type;
}

struct mv_type *mv_program_pointer_type(struct mv_program *p,
					struct mv_type *target)
{
	if (!target && !(target = mv_program_void_type(p)))
		return NULL;
	size_t b = synth_hash(MV_TYPE_POINTER, target, 0, 0, NULL);
	struct synth *s = synth_find(p, b, MV_TYPE_POINTER, target, 0, 0,
				     false, NULL, 0, false);
	if (s)
		return &s->type;
	if (!(s = synth_new(p, b, MV_TYPE_POINTER, target, 0, 0, false)))
		return NULL;
	s->type.size = 8;
	s->type.target_ = target;
	return &s->type;
}

struct mv_type *mv_program_array_type(struct mv_program *p,
				      struct mv_type *element, uint64_t count,
				      bool has_count)
{
	if (!element)
		return NULL;
	if (!has_count)
		count = 0;
	size_t b = synth_hash(MV_TYPE_ARRAY, element, count, has_count, NULL);
	struct synth *s = synth_find(p, b, MV_TYPE_ARRAY, element, count, 0,
				     has_count, NULL, 0, false);
	if (s)
		return &s->type;
	if (!(s = synth_new(p, b, MV_TYPE_ARRAY, element, count, 0,
			    has_count)))
		return NULL;
	s->type.target_ = element;
	s->type.count = count;
	s->type.has_count = has_count;
	struct mv_type *stripped = mv_type_strip(element);
	uint64_t esize = stripped ? stripped->size : 0;
	uint64_t size;
	if (__builtin_mul_overflow(esize, count, &size)) {
		/* No object can be that big: keep the type usable but say
		 * its size is not to be trusted. */
		size = UINT64_MAX;
		s->type.is_complete = false;
	}
	if (!has_count || (stripped && !stripped->is_complete))
		s->type.is_complete = false;
	s->type.size = size;
	return &s->type;
}

struct mv_type *mv_program_qualified_type(struct mv_program *p,
					  struct mv_type *target,
					  uint32_t quals)
{
	if (!target)
		return NULL;
	if (!quals)
		return target;
	size_t b = synth_hash(MV_TYPE_QUALIFIED, target, 0, quals, NULL);
	struct synth *s = synth_find(p, b, MV_TYPE_QUALIFIED, target, 0, quals,
				     false, NULL, 0, false);
	if (s)
		return &s->type;
	if (!(s = synth_new(p, b, MV_TYPE_QUALIFIED, target, 0, quals, false)))
		return NULL;
	s->type.quals = quals;
	s->type.target_ = target;
	struct mv_type *stripped = mv_type_strip(target);
	s->type.size = stripped ? stripped->size : 0;
	s->type.is_complete = stripped ? stripped->is_complete : false;
	return &s->type;
}

struct mv_type *mv_program_base_type(struct mv_program *p, const char *name,
				     enum mv_type_kind kind, uint64_t size,
				     bool is_signed)
{
	if (!name)
		return NULL;
	size_t b = synth_hash(kind, NULL, 0, 0, name);
	struct synth *s = synth_find(p, b, kind, NULL, 0, 0, false, name,
				     size, is_signed);
	if (s)
		return s->dwarf ? s->dwarf : &s->type;
	if (!(s = synth_new(p, b, kind, NULL, 0, 0, false)))
		return NULL;
	if (!(s->name = strdup(name))) {
		/* Unlink: a nameless entry would match other lookups. */
		p->synth[b] = s->next;
		free(s);
		return NULL;
	}
	s->size = size;
	s->is_signed = is_signed;
	s->type.name = s->name;
	s->type.size = size;
	s->type.is_signed = is_signed;
	s->type.is_char = kind == MV_TYPE_INT && strstr(name, "char");
	/* The program's own DWARF spelling is the better answer (it has
	 * the compile unit, and the evaluator compares types by pointer);
	 * it is looked up once and remembered with the synthetic one. */
	struct mv_type *t;
	struct mv_error *err = mv_program_find_type(p, MV_NS_ORDINARY, name,
						    0, &t, NULL);
	if (!err) {
		struct mv_type *st = mv_type_strip(t);
		if (st && st->kind == kind && st->size == size)
			s->dwarf = t;
	} else {
		mv_error_destroy(err);
	}
	return s->dwarf ? s->dwarf : &s->type;
}
