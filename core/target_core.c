/* target_core.c - ELF64 x86-64 core files.
 *
 * The core is mmapped once and reads copy from (or peeks point into) the
 * mapping, except the big writable segments (the heap, mostly) that a
 * heap walk is about to read whole: those are read into memory of our
 * own (see core_will_read).  Memory comes from PT_LOAD segments; where
 * a segment's bytes were left out of the dump (p_filesz < p_memsz, or
 * gdb's gcore leaving out unmodified file-backed mappings altogether),
 * the NT_FILE note says which file was mapped there, and those bytes are
 * read from that file, itself mmapped on first use.
 *
 * Everything in the file is hostile: each offset and size is checked
 * against the file size before use, without overflow, and counts are
 * capped.  A damaged core opens with what is there, plus warnings. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "target.h"

_Static_assert(sizeof(elf_gregset_t) == MV_NREGS * sizeof(uint64_t),
	       "pr_reg is user_regs_struct, in enum mv_reg order");

/* A PT_LOAD segment after clipping overlaps. */
struct core_seg {
	uint64_t start, end;
	uint64_t offset;  /* in the core file */
	uint64_t filesz;  /* bytes the dump meant to hold (<= end - start) */
	uint64_t present; /* of those, bytes actually in the file */
	uint32_t perms;
	size_t index;     /* program header number, for a stable sort */
	uint8_t *copy;    /* its present bytes read in, or NULL: the map */
	bool copy_tried;
};

/* A file mapped into the process, as NT_FILE tells. */
struct core_file {
	uint64_t start, end;
	uint64_t offset;  /* in the mapped file */
	size_t backing;   /* index into core->backing */
};

/* A mapped file whose bytes stand in for what the dump left out. */
struct core_backing {
	char *path;
	bool tried;
	const uint8_t *map;
	uint64_t size;
	char *error;
};

/* What lies under region i of the target. */
struct core_region_info {
	long seg;  /* index into segs, or -1 */
	long file; /* index into files, or -1 */
};

struct core {
	const uint8_t *map;
	uint64_t size;
	struct core_seg *segs;
	size_t nsegs;
	struct core_file *files;
	size_t nfiles;
	struct core_backing *backing;
	size_t nbacking;
	struct core_region_info *info;
	/* For reading segments in (core_will_read): the open core, the
	 * smallest segment worth it, and how much more may be read in. */
	int fd;
	uint64_t copy_min, copy_budget;
	/* Tallies for the warnings. */
	uint64_t seg_bytes, seg_present;
	bool have_file_note, have_prstatus, have_prpsinfo, have_auxv;
	int prpsinfo_pid;
};

static uint32_t load_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Bytes of [offset, offset + len) that lie inside the file. */
static uint64_t in_file(const struct core *c, uint64_t offset, uint64_t len)
{
	if (offset >= c->size)
		return 0;
	return len < c->size - offset ? len : c->size - offset;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static void backing_open(struct core_backing *b)
{
	b->tried = true;
	int fd = open(b->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int saved;
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		if (asprintf(&b->error, "%s is not a regular file with data",
			     b->path) < 0)
			b->error = NULL;
		return;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
		       0);
	saved = errno;
	close(fd);
	if (m == MAP_FAILED) {
		errno = saved;
		goto fail;
	}
	b->map = m;
	b->size = (uint64_t)st.st_size;
	return;
fail:
	if (asprintf(&b->error, "not in the core dump, and cannot open %s: %s",
		     b->path, strerror(errno)) < 0)
		b->error = NULL;
}

/* The contiguous readable bytes at address, which lies in region i: sets
 * *ptr and returns their count, or returns 0 and sets *why. */
static uint64_t core_span(struct mv_target *t, size_t i, uint64_t address,
			  const uint8_t **ptr, const char **why)
{
	struct core *c = t->priv;
	const struct mv_region *r = &t->regions[i];
	const struct core_region_info *info = &c->info[i];
	if (info->seg >= 0) {
		const struct core_seg *s = &c->segs[info->seg];
		uint64_t rel = address - s->start;
		if (rel < s->present) {
			/* The rest of the segment is contiguous in the file,
			 * even where NT_FILE split it into regions. */
			*ptr = (s->copy ? s->copy : c->map + s->offset) +
			       rel;
			return s->present - rel;
		}
		if (rel < s->filesz) {
			*why = "missing from the truncated core";
			return 0;
		}
	}
	if (info->file < 0) {
		*why = "not in the core dump (no file is mapped there)";
		return 0;
	}
	const struct core_file *f = &c->files[info->file];
	struct core_backing *b = &c->backing[f->backing];
	if (!b->tried)
		backing_open(b);
	if (!b->map) {
		*why = b->error ? b->error : "cannot open its file";
		return 0;
	}
	uint64_t foff = f->offset + (address - f->start);
	if (foff < f->offset || foff >= b->size) {
		snprintf(t->why, sizeof(t->why),
			 "not in the core dump, and past the end of %s",
			 b->path);
		*why = t->why;
		return 0;
	}
	uint64_t span = r->end - address;
	if (span > b->size - foff)
		span = b->size - foff;
	*ptr = b->map + foff;
	return span;
}

static size_t core_read(struct mv_target *t, uint64_t address, void *buf,
			size_t len, const char **why)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = address + done;
		long i = mv_target_region_index(t, a);
		if (i < 0) {
			*why = "not mapped in core";
			break;
		}
		const uint8_t *p;
		uint64_t span = core_span(t, (size_t)i, a, &p, why);
		if (!span)
			break;
		size_t chunk = span < len - done ? (size_t)span : len - done;
		memcpy((uint8_t *)buf + done, p, chunk);
		done += chunk;
	}
	return done;
}

static const void *core_peek(struct mv_target *t, uint64_t address,
			     size_t len)
{
	long i = mv_target_region_index(t, address);
	if (i < 0)
		return NULL;
	const uint8_t *p;
	const char *why;
	uint64_t span = core_span(t, (size_t)i, address, &p, &why);
	return span >= len ? p : NULL;
}

static bool core_is_readable(struct mv_target *t, size_t i, uint64_t address)
{
	const uint8_t *p;
	const char *why;
	return core_span(t, i, address, &p, &why) > 0;
}

static void core_destroy(struct mv_target *t)
{
	struct core *c = t->priv;
	if (!c)
		return;
	if (c->map)
		munmap((void *)c->map, c->size);
	for (size_t i = 0; i < c->nsegs; i++)
		mv_big_free(c->segs[i].copy);
	if (c->fd >= 0)
		close(c->fd);
	for (size_t i = 0; i < c->nbacking; i++) {
		if (c->backing[i].map)
			munmap((void *)c->backing[i].map, c->backing[i].size);
		free(c->backing[i].path);
		free(c->backing[i].error);
	}
	free(c->backing);
	free(c->segs);
	free(c->files);
	free(c->info);
	free(c);
	t->priv = NULL;
}

static void core_will_read(struct mv_target *t, uint64_t start, uint64_t end);

static const struct mv_target_ops core_ops = {
	.kind = "core",
	.read = core_read,
	.peek = core_peek,
	.stable_peek = true,
	.is_readable = core_is_readable,
	.will_read = core_will_read,
	.destroy = core_destroy,
};

/* ------------------------------------------------------------------ */
/* Notes                                                               */
/* ------------------------------------------------------------------ */

/* An NT_FILE name and the entry it belongs to. */
struct named {
	const char *name;
	size_t entry;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int d = strcmp(x->name, y->name);
	return d ? d : (x->entry > y->entry) - (x->entry < y->entry);
}

static int cmp_file(const void *a, const void *b)
{
	const struct core_file *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* NT_FILE: count, page size, count x (start, end, page offset), then
 * count NUL-terminated names. */
static struct mv_error *parse_nt_file(struct mv_target *t,
				      const uint8_t *desc, uint64_t descsz)
{
	struct core *c = t->priv;
	if (c->have_file_note) {
		mv_target_warn(t, "more than one NT_FILE note; used the first");
		return NULL;
	}
	c->have_file_note = true;
	if (descsz < 16) {
		mv_target_warn(t, "NT_FILE note too short (%" PRIu64
			       " bytes); mapped file names are unavailable",
			       descsz);
		return NULL;
	}
	uint64_t count = load_u64(desc), page_size = load_u64(desc + 8);
	uint64_t room = (descsz - 16) / 24;
	if (count > room) {
		mv_target_warn(t, "NT_FILE note claims %" PRIu64
			       " files but has room for %" PRIu64,
			       count, room);
		count = room;
	}
	if (count > MV_TARGET_MAX_REGIONS) {
		mv_target_warn(t, "NT_FILE note lists %" PRIu64
			       " files; used the first %d",
			       count, MV_TARGET_MAX_REGIONS);
		count = MV_TARGET_MAX_REGIONS;
	}
	if (page_size == 0) {
		mv_target_warn(t, "NT_FILE note has page size 0; "
			       "mapped file names are unavailable");
		return NULL;
	}
	/* Names first: an entry without a name is unusable.  They point
	 * into the core's mapping, NUL-terminated inside the note. */
	const uint8_t *names = desc + 16 + count * 24;
	uint64_t names_len = descsz - 16 - count * 24;
	struct named *name = calloc(count ? count : 1, sizeof(*name));
	size_t *which = calloc(count ? count : 1, sizeof(*which));
	c->files = calloc(count ? count : 1, sizeof(*c->files));
	c->backing = calloc(count ? count : 1, sizeof(*c->backing));
	struct mv_error *err = NULL;
	if (!name || !which || !c->files || !c->backing) {
		err = mv_enomem;
		goto out;
	}
	uint64_t pos = 0;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *nul = pos < names_len
			? memchr(names + pos, 0, names_len - pos) : NULL;
		if (!nul) {
			mv_target_warn(t, "NT_FILE note: names of %" PRIu64
				       " of %" PRIu64 " files are cut off",
				       count - i, count);
			count = i;
			break;
		}
		name[i].name = (const char *)(names + pos);
		name[i].entry = (size_t)i;
		pos = (uint64_t)(nul - names) + 1;
	}
	/* One backing file per distinct path, so that each is mapped once:
	 * sort the names and give equal ones the same backing. */
	qsort(name, count, sizeof(*name), cmp_named);
	for (uint64_t i = 0; i < count; i++) {
		if (!i || strcmp(name[i - 1].name, name[i].name)) {
			struct core_backing *b = &c->backing[c->nbacking];
			b->path = strdup(name[i].name);
			if (!b->path) {
				err = mv_enomem;
				goto out;
			}
			c->nbacking++;
		}
		which[name[i].entry] = c->nbacking - 1;
	}

	size_t nf = 0;
	bool bad = false;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = desc + 16 + i * 24;
		uint64_t start = load_u64(e), end = load_u64(e + 8);
		uint64_t pgoff = load_u64(e + 16);
		if (start >= end || (pgoff && page_size > UINT64_MAX / pgoff)) {
			bad = true;
			continue;
		}
		c->files[nf++] = (struct core_file){
			.start = start,
			.end = end,
			.offset = pgoff * page_size,
			.backing = which[i],
		};
	}
	if (bad)
		mv_target_warn(t, "NT_FILE note has malformed entries; "
			       "skipped them");
	qsort(c->files, nf, sizeof(*c->files), cmp_file);
	/* Overlapping entries cannot both be right: keep the first. */
	size_t kept = 0;
	for (size_t i = 0; i < nf; i++) {
		if (kept && c->files[i].start < c->files[kept - 1].end) {
			bad = true;
			continue;
		}
		c->files[kept++] = c->files[i];
	}
	if (kept < nf)
		mv_target_warn(t, "NT_FILE note has %zu overlapping entries; "
			       "kept the first of each", nf - kept);
	c->nfiles = kept;
out:
	free(name);
	free(which);
	return err;
}

static struct mv_error *parse_note(struct mv_target *t, uint32_t type,
				   const uint8_t *desc, uint64_t descsz)
{
	struct core *c = t->priv;
	switch (type) {
	case NT_PRSTATUS: {
		const size_t need = offsetof(struct elf_prstatus, pr_reg) +
				    sizeof(elf_gregset_t);
		if (descsz < need) {
			mv_target_warn(t, "NT_PRSTATUS note too short (%" PRIu64
				       " bytes); skipped", descsz);
			return NULL;
		}
		int32_t tid;
		memcpy(&tid, desc + offsetof(struct elf_prstatus, pr_pid),
		       sizeof(tid));
		uint64_t regs[MV_NREGS];
		memcpy(regs, desc + offsetof(struct elf_prstatus, pr_reg),
		       sizeof(regs));
		c->have_prstatus = true;
		return mv_target_append_thread(t, tid, regs);
	}
	case NT_PRPSINFO: {
		const size_t at = offsetof(struct elf_prpsinfo, pr_pid);
		if (descsz < at + sizeof(int32_t)) {
			mv_target_warn(t, "NT_PRPSINFO note too short (%" PRIu64
				       " bytes); skipped", descsz);
			return NULL;
		}
		int32_t pid;
		memcpy(&pid, desc + at, sizeof(pid));
		c->have_prpsinfo = true;
		c->prpsinfo_pid = pid;
		return NULL;
	}
	case NT_AUXV: {
		if (c->have_auxv)
			return NULL;
		c->have_auxv = true;
		uint64_t n = descsz / 16, used = 0;
		/* Bounded by the note's size, itself inside the file. */
		t->auxv = malloc((n ? n : 1) * 16);
		if (!t->auxv)
			return mv_enomem;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t type_ = load_u64(desc + 16 * i);
			if (type_ == AT_NULL)
				break;
			t->auxv[2 * used] = type_;
			t->auxv[2 * used + 1] = load_u64(desc + 16 * i + 8);
			used++;
		}
		t->nauxv = used;
		return NULL;
	}
	case NT_FILE:
		return parse_nt_file(t, desc, descsz);
	default:
		return NULL;
	}
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

/* Walks the notes of one PT_NOTE segment, data[0, len). */
static struct mv_error *parse_notes(struct mv_target *t, const uint8_t *data,
				    uint64_t len, uint64_t file_offset,
				    size_t *nnotes)
{
	uint64_t pos = 0;
	while (len - pos >= 12) {
		if (++*nnotes > MV_TARGET_MAX_NOTES) {
			mv_target_warn(t, "more than %d notes; ignored the rest",
				       MV_TARGET_MAX_NOTES);
			return NULL;
		}
		uint32_t namesz = load_u32(data + pos);
		uint32_t descsz = load_u32(data + pos + 4);
		uint32_t type = load_u32(data + pos + 8);
		/* 32-bit sizes in 64-bit arithmetic cannot overflow. */
		uint64_t name_at = pos + 12;
		uint64_t desc_at = name_at + align4(namesz);
		uint64_t end = desc_at + align4(descsz);
		if (desc_at > len || descsz > len - desc_at) {
			mv_target_warn(t, "note at offset 0x%" PRIx64
				       " (type 0x%x, %u bytes) runs past its "
				       "segment; skipped it and the rest",
				       file_offset + pos, type, descsz);
			return NULL;
		}
		/* The last note's padding may be missing. */
		if (end > len)
			end = len;
		if (namesz == 5 && !memcmp(data + name_at, "CORE", 5)) {
			struct mv_error *err =
				parse_note(t, type, data + desc_at, descsz);
			if (err)
				return err;
		}
		pos = end;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

static int cmp_seg(const void *a, const void *b)
{
	const struct core_seg *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static const char *elf_type_name(uint16_t type)
{
	switch (type) {
	case ET_NONE:
		return "ET_NONE";
	case ET_REL:
		return "ET_REL";
	case ET_EXEC:
		return "ET_EXEC";
	case ET_DYN:
		return "ET_DYN";
	default:
		return "unknown type";
	}
}

static struct mv_error *check_header(const char *path, const uint8_t *map,
				     uint64_t size)
{
	if (size < SELFMAG || memcmp(map, ELFMAG, SELFMAG))
		return mv_error_create(MV_ERR_FORMAT, "%s: not an ELF file%s",
				       path, size ? "" : " (empty)");
	if (size > EI_CLASS && map[EI_CLASS] == ELFCLASS32)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "%s: 32-bit ELF is not supported", path);
	if (size < sizeof(Elf64_Ehdr))
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: truncated ELF header (%" PRIu64
				       " of %zu bytes)",
				       path, size, sizeof(Elf64_Ehdr));
	if (map[EI_CLASS] != ELFCLASS64)
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: invalid ELF class %u", path,
				       map[EI_CLASS]);
	if (map[EI_DATA] != ELFDATA2LSB)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "%s: big-endian ELF is not supported",
				       path);
	Elf64_Ehdr eh;
	memcpy(&eh, map, sizeof(eh));
	if (eh.e_type != ET_CORE)
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: not a core file (%s)", path,
				       elf_type_name(eh.e_type));
	if (eh.e_machine != EM_X86_64)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "%s: not an x86-64 core (ELF machine %u)",
				       path, eh.e_machine);
	if (eh.e_phnum && eh.e_phentsize != sizeof(Elf64_Phdr))
		return mv_error_create(MV_ERR_FORMAT,
				       "%s: unexpected program header size %u",
				       path, eh.e_phentsize);
	return NULL;
}

/* Builds the region list: every maximal interval over which the
 * (PT_LOAD, NT_FILE entry) pair is the same, where either exists.  Both
 * lists are sorted and free of overlaps, so one sweep does it. */
static struct mv_error *build_regions(struct mv_target *t)
{
	struct core *c = t->priv;
	size_t si = 0, fi = 0, cap = 0;
	uint64_t x = 0;
	bool started = false;
	while (si < c->nsegs || fi < c->nfiles) {
		const struct core_seg *s = si < c->nsegs ? &c->segs[si] : NULL;
		const struct core_file *f =
			fi < c->nfiles ? &c->files[fi] : NULL;
		if (!started) {
			x = s && (!f || s->start < f->start) ? s->start
							     : f->start;
			started = true;
		}
		if (s && s->end <= x) {
			si++;
			continue;
		}
		if (f && f->end <= x) {
			fi++;
			continue;
		}
		bool s_in = s && s->start <= x, f_in = f && f->start <= x;
		if (!s_in && !f_in) {
			x = s && (!f || s->start < f->start) ? s->start
							     : f->start;
			continue;
		}
		uint64_t next = UINT64_MAX;
		if (s)
			next = s_in ? s->end : s->start;
		if (f) {
			uint64_t fn = f_in ? f->end : f->start;
			if (fn < next)
				next = fn;
		}
		struct mv_region r = {
			.start = x,
			.end = next,
			.perms = s_in ? s->perms : MV_PERM_R,
		};
		if (s_in && s->start + s->present > x) {
			r.dumped = s->start + s->present - x;
			if (r.dumped > next - x)
				r.dumped = next - x;
		}
		if (f_in) {
			r.path = c->backing[f->backing].path;
			r.offset = f->offset + (x - f->start);
		}
		struct mv_error *err = mv_target_append_region(t, &r);
		if (err) {
			if (mv_error_code(err) != MV_ERR_LIMIT)
				return err;
			mv_target_warn(t, "%s; ignored the rest",
				       mv_error_message(err));
			mv_error_destroy(err);
			return NULL;
		}
		if (t->nregions > cap) {
			cap = t->regions_cap;
			struct core_region_info *info =
				realloc(c->info, cap * sizeof(*info));
			if (!info)
				return mv_enomem;
			c->info = info;
		}
		c->info[t->nregions - 1] = (struct core_region_info){
			.seg = s_in ? (long)si : -1,
			.file = f_in ? (long)fi : -1,
		};
		x = next;
	}
	return NULL;
}

static struct mv_error *load_core(struct mv_target *t)
{
	struct core *c = t->priv;
	Elf64_Ehdr eh;
	memcpy(&eh, c->map, sizeof(eh));

	const char *why;
	uint64_t phnum = mv_elf_phdr_count(c->map, c->size, &eh, &why);
	uint64_t ph_avail = in_file(c, eh.e_phoff, phnum * sizeof(Elf64_Phdr)) /
			    sizeof(Elf64_Phdr);
	if (why)
		mv_target_warn(t, "e_phnum is PN_XNUM (0xffff) but %s; read "
			       "the %" PRIu64 " program headers before the "
			       "first segment's bytes", why, phnum);
	else if (ph_avail < phnum)
		mv_target_warn(t, "core truncated: %" PRIu64 " of %" PRIu64
			       " program headers present",
			       ph_avail, phnum);
	if (ph_avail > MV_TARGET_MAX_REGIONS) {
		mv_target_warn(t, "%" PRIu64 " program headers; used the "
			       "first %d", ph_avail, MV_TARGET_MAX_REGIONS);
		ph_avail = MV_TARGET_MAX_REGIONS;
	}

	c->segs = calloc(ph_avail ? ph_avail : 1, sizeof(*c->segs));
	if (!c->segs)
		return mv_enomem;
	size_t nnotes = 0;
	bool bad_seg = false;
	for (uint64_t i = 0; i < ph_avail; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, c->map + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		uint64_t filesz = ph.p_filesz;
		if (ph.p_type == PT_LOAD && filesz > ph.p_memsz)
			filesz = ph.p_memsz;
		uint64_t present = in_file(c, ph.p_offset, filesz);
		/* Saturating: hostile sizes may add up past 2^64. */
		c->seg_bytes = filesz > UINT64_MAX - c->seg_bytes
				       ? UINT64_MAX : c->seg_bytes + filesz;
		c->seg_present += present; /* each within the file */
		if (ph.p_type == PT_NOTE) {
			if (!present)
				continue;
			struct mv_error *err = parse_notes(
				t, c->map + ph.p_offset, present, ph.p_offset,
				&nnotes);
			if (err)
				return err;
			continue;
		}
		if (!ph.p_memsz)
			continue;
		if (ph.p_memsz - 1 > UINT64_MAX - ph.p_vaddr ||
		    ph.p_vaddr + ph.p_memsz == 0) {
			bad_seg = true;
			continue;
		}
		uint32_t perms = 0;
		if (ph.p_flags & PF_R)
			perms |= MV_PERM_R;
		if (ph.p_flags & PF_W)
			perms |= MV_PERM_W;
		if (ph.p_flags & PF_X)
			perms |= MV_PERM_X;
		c->segs[c->nsegs++] = (struct core_seg){
			.start = ph.p_vaddr,
			.end = ph.p_vaddr + ph.p_memsz,
			.offset = ph.p_offset,
			.filesz = filesz,
			.present = present,
			.perms = perms,
			.index = (size_t)i,
		};
	}
	if (bad_seg)
		mv_target_warn(t, "PT_LOAD segments that wrap around the "
			       "address space; skipped them");
	if (c->seg_present < c->seg_bytes)
		mv_target_warn(t, "core truncated: %" PRIu64 " of %" PRIu64
			       " bytes of segments present",
			       c->seg_present, c->seg_bytes);

	/* Overlapping segments: the lower one keeps its bytes, the other
	 * keeps only what lies above it. */
	qsort(c->segs, c->nsegs, sizeof(*c->segs), cmp_seg);
	size_t kept = 0, overlaps = 0;
	for (size_t i = 0; i < c->nsegs; i++) {
		struct core_seg s = c->segs[i];
		if (kept && s.start < c->segs[kept - 1].end) {
			overlaps++;
			uint64_t cut = c->segs[kept - 1].end - s.start;
			if (s.end <= c->segs[kept - 1].end)
				continue;
			s.start += cut;
			s.offset += cut;
			s.filesz = s.filesz > cut ? s.filesz - cut : 0;
			s.present = s.present > cut ? s.present - cut : 0;
		}
		c->segs[kept++] = s;
	}
	c->nsegs = kept;
	if (overlaps)
		mv_target_warn(t, "%zu PT_LOAD segments overlap others; "
			       "kept the first for the shared addresses",
			       overlaps);

	if (!c->have_file_note)
		mv_target_warn(t, "core has no NT_FILE note: mapped file "
			       "names are unknown, and memory not in the "
			       "dump cannot be read from the files%s",
			       phnum > PN_XNUM ? " (Linux leaves the note out "
			       "past 4 MiB, at 65,536 mappings)" : "");
	if (!c->have_prstatus)
		mv_target_warn(t, "core has no NT_PRSTATUS note: no threads "
			       "or registers");
	t->pid = c->have_prpsinfo ? c->prpsinfo_pid
		 : t->nthreads ? t->threads[0].tid : 0;
	return build_regions(t);
}

/* Reading a big segment into huge pages of our own beats faulting in
 * the file mapping page by page where first touches are dear: on the
 * virtual machines cores are often read on, a 40 MB heap took 20 ms to
 * fault in (every 4 KiB page costs ~2 us, MAP_POPULATE or not) and 9 ms
 * to read.  Only when the whole segment is about to be read (a heap
 * walk's advice), so that a look at a few objects still touches a few
 * pages.  The copy takes no more memory than the mapped pages did, but
 * it is not the page cache's to drop, so the copies together are
 * bounded by COPY_MAX and by a sixteenth of the machine's memory; past
 * that, and for segments under COPY_MIN, the mapping serves.  Only a
 * segment whose pages are in the page cache (all but COPY_UNCACHED) is
 * copied: a read from disk cannot be interrupted, while the mapping's
 * faults come a few pages at a time, between the walks' checks for
 * Ctrl-C.  MEMVIEW_CORE_COPY=never keeps every segment mapped, =always
 * copies writable segments of any size (the tests use both). */
#define COPY_MIN ((uint64_t)2 << 20)
#define COPY_MAX ((uint64_t)512 << 20)
#define COPY_UNCACHED 256 /* pages */
#define COPY_PIECE ((uint64_t)16 << 20) /* read between Ctrl-C checks */

static void copy_settings(struct core *c)
{
	const char *mode = getenv("MEMVIEW_CORE_COPY");
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	c->copy_min = mode && !strcmp(mode, "always") ? 1 : COPY_MIN;
	c->copy_budget = 0;
	if ((mode && !strcmp(mode, "never")) || pages <= 0 || psize <= 0)
		return;
	c->copy_budget = (uint64_t)pages / 16 * (uint64_t)psize;
	if (c->copy_budget > COPY_MAX)
		c->copy_budget = COPY_MAX;
}

/* Whether the pages of the file's [offset, offset + len) are in the page
 * cache, all but COPY_UNCACHED of them. */
static bool cached(const struct core *c, uint64_t offset, uint64_t len)
{
	const uint64_t psize = MV_PAGE_SIZE;
	uint64_t first = offset / psize * psize;
	uint64_t n = (offset + len - first + psize - 1) / psize;
	unsigned char *vec = malloc((size_t)n);
	if (!vec)
		return false;
	uint64_t missing = 0;
	if (mincore((void *)(c->map + first), (size_t)(n * psize), vec))
		missing = n;
	for (uint64_t i = 0; i < n && missing <= COPY_UNCACHED; i++)
		missing += !(vec[i] & 1);
	free(vec);
	return missing <= COPY_UNCACHED;
}

/* Reads segment s into memory, if it qualifies; once. */
static void copy_segment(struct mv_target *t, struct core *c,
			 struct core_seg *s)
{
	if (s->copy_tried)
		return;
	s->copy_tried = true;
	if (!(s->perms & MV_PERM_W) || s->present < c->copy_min ||
	    s->present > c->copy_budget || !cached(c, s->offset, s->present))
		return;
	uint8_t *b = mv_big_realloc(NULL, (size_t)s->present, 1);
	if (!b)
		return; /* the mapping serves */
	/* In pieces, with a Ctrl-C check between them: a heap of
	 * gigabytes takes seconds to read.  Interrupted, the copy is
	 * dropped and the mapping serves; the caller's next poll sees the
	 * same interrupt (polls are sticky within a command). */
	uint64_t done = 0;
	while (done < s->present) {
		if (t->poll && t->poll())
			break;
		uint64_t want = s->present - done;
		if (want > COPY_PIECE)
			want = COPY_PIECE;
		ssize_t n = pread(c->fd, b + done, (size_t)want,
				  (off_t)(s->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	if (done < s->present) {
		mv_big_free(b);
		return;
	}
	s->copy = b;
	c->copy_budget -= s->present;
	t->copied_bytes += s->present;
}

static void core_will_read(struct mv_target *t, uint64_t start, uint64_t end)
{
	struct core *c = t->priv;
	for (size_t i = 0; i < c->nsegs; i++)
		if (c->segs[i].start < end && start < c->segs[i].end)
			copy_segment(t, c, &c->segs[i]);
}

struct mv_error *mv_target_open_core(const char *path, struct mv_target **ret)
{
	if (!path)
		return mv_error_create(MV_ERR_INVALID, "no core file given");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mv_error_create(MV_ERR_IO, "cannot open %s: %s", path,
				       strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return mv_error_create(MV_ERR_IO, "cannot stat %s: %s", path,
				       strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mv_error_create(MV_ERR_INVALID,
				       "%s: not a regular file", path);
	}
	uint64_t size = (uint64_t)st.st_size;
	const uint8_t *map = NULL;
	if (size) {
		void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd,
			       0);
		if (m == MAP_FAILED) {
			int e = errno;
			close(fd);
			return mv_error_create(MV_ERR_IO,
					       "cannot map %s: %s", path,
					       strerror(e));
		}
		map = m;
	}
	struct mv_error *err = check_header(path, map ? map : (const uint8_t *)"",
					    size);
	if (err) {
		if (map)
			munmap((void *)map, size);
		close(fd);
		return err;
	}

	struct mv_target *t = NULL;
	err = mv_target_alloc(&core_ops, &t);
	if (err) {
		munmap((void *)map, size);
		close(fd);
		return err;
	}
	struct core *c = calloc(1, sizeof(*c));
	if (!c) {
		munmap((void *)map, size);
		close(fd);
		mv_target_destroy(t);
		return mv_enomem;
	}
	c->map = map;
	c->size = size;
	c->fd = fd; /* core_destroy closes it */
	copy_settings(c);
	t->priv = c;
	t->path = strdup(path);
	if (!t->path) {
		mv_target_destroy(t);
		return mv_enomem;
	}
	err = load_core(t);
	if (err) {
		mv_target_destroy(t);
		return mv_error_wrap(err, "%s", path);
	}
	*ret = t;
	return NULL;
}
