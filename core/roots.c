/* roots.c - the root set (roots.h): the target's writable mappings less
 * the allocator's memory and the dead part of each stack. */
#include <stdlib.h>
#include <string.h>

#include "roots.h"

#define MAX_SKIPPED 50

static int range_cmp(const void *a, const void *b)
{
	const struct mv_heap_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The heaps and the allocator's state, sorted by start. */
static struct mv_error *exclusions(struct mv_heap *h,
				   struct mv_heap_range **ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	if (!h)
		return NULL;
	size_t ns;
	const struct mv_heap_segment *s = mv_heap_segments(h, &ns);
	struct mv_heap_range *x =
		malloc((ns + h->nmetadata + 1) * sizeof(*x));
	if (!x)
		return mv_enomem;
	for (size_t i = 0; i < ns; i++)
		x[i] = (struct mv_heap_range){s[i].start, s[i].end};
	if (h->nmetadata) /* no metadata known: metadata may be NULL */
		memcpy(x + ns, h->metadata, h->nmetadata * sizeof(*x));
	*n = ns + h->nmetadata;
	qsort(x, *n, sizeof(*x), range_cmp);
	*ret = x;
	return NULL;
}

static struct mv_error *add(struct mv_roots *rs, const struct mv_root *r)
{
	if (r->end <= r->start)
		return NULL;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct mv_root *n = realloc(rs->r, cap * sizeof(*n));
		if (!n)
			return mv_enomem;
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return NULL;
}

/* Adds r less the excluded ranges (x, sorted) it overlaps. */
static struct mv_error *add_less(struct mv_roots *rs, struct mv_root r,
				 const struct mv_heap_range *x, size_t nx)
{
	/* First exclusion that may overlap: ends after r.start.  Ranges
	 * may overlap each other, so scan from the first start below. */
	size_t lo = 0, hi = nx;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x[mid].start < r.start)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t i = lo ? lo - 1 : 0;
	for (; i > 0 && x[i - 1].end > r.start; i--)
		;
	uint64_t a = r.start;
	struct mv_error *err;
	for (; i < nx && x[i].start < r.end && a < r.end; i++) {
		if (x[i].end <= a)
			continue;
		if (x[i].start > a) {
			struct mv_root piece = r;
			piece.start = a;
			piece.end = x[i].start;
			if ((err = add(rs, &piece)))
				return err;
		}
		rs->metadata_bytes +=
			(x[i].end < r.end ? x[i].end : r.end) -
			(x[i].start > a ? x[i].start : a);
		a = x[i].end;
	}
	r.start = a;
	return a < r.end ? add(rs, &r) : NULL;
}

/* valgrind leaves character and block devices alone (reading one can
 * hang or have effects); /dev/zero and /dev/shm are memory. */
static bool is_device(const char *path)
{
	return path && !strncmp(path, "/dev/", 5) &&
	       strcmp(path, "/dev/zero") && strncmp(path, "/dev/zero ", 10) &&
	       strncmp(path, "/dev/shm/", 9);
}

struct sp {
	uint64_t sp;
	int32_t tid;
	long region;
};

static int sp_cmp(const void *a, const void *b)
{
	const struct sp *x = a, *y = b;
	return x->sp < y->sp ? -1 : x->sp > y->sp;
}

static struct mv_error *skipped(struct mv_roots *rs, const char *fmt, ...)
	MV_PRINTF(2, 3);
static struct mv_error *skipped(struct mv_roots *rs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = mv_notes_vadd(&rs->skipped, fmt, ap);
	va_end(ap);
	return ok ? NULL : mv_enomem;
}

/* The stack pointers of the threads that have registers, sorted; the
 * others are noted as not scanned. */
static struct mv_error *stack_pointers(struct mv_roots *rs,
				       struct mv_target *t, struct sp **ret,
				       size_t *n)
{
	const struct mv_thread *th;
	size_t nt = mv_target_threads(t, &th);
	struct sp *sps = malloc((nt + 1) * sizeof(*sps));
	struct mv_error *err = NULL;
	*n = 0;
	if (!sps)
		return mv_enomem;
	for (size_t i = 0; i < nt && !err; i++) {
		if (!th[i].has_regs) {
			rs->threads_without_registers++;
			err = skipped(rs, "thread %d: no registers, so they "
					  "were not scanned, and its stack "
					  "only whole, as a writable mapping "
					  "(dead frames too)", (int)th[i].tid);
			continue;
		}
		rs->threads++;
		uint64_t sp = th[i].regs[MV_REG_RSP];
		long ri = mv_target_region_index(t, sp);
		if (ri < 0) {
			err = skipped(rs, "thread %d: its stack pointer 0x%llx "
					  "is in no mapping, so its stack was "
					  "not scanned", (int)th[i].tid,
				      (unsigned long long)sp);
			continue;
		}
		sps[(*n)++] = (struct sp){sp & ~7ull, th[i].tid, ri};
	}
	qsort(sps, *n, sizeof(*sps), sp_cmp);
	*ret = sps;
	return err;
}

struct mv_error *mv_roots_find(struct mv_program *p, struct mv_heap *h,
			       struct mv_roots *ret)
{
	memset(ret, 0, sizeof(*ret));
	mv_notes_init(&ret->skipped, MAX_SKIPPED);
	struct mv_target *t = mv_program_target(p);
	if (!t)
		return NULL;
	ret->core = !strcmp(mv_target_kind(t), "core");
	struct mv_heap_range *x;
	size_t nx, nsp, k = 0;
	struct sp *sps = NULL;
	struct mv_error *err = exclusions(h, &x, &nx);
	if (!err)
		err = stack_pointers(ret, t, &sps, &nsp);
	const struct mv_region *r;
	size_t nr = mv_target_regions(t, &r);
	if (!nr && !err)
		err = skipped(ret, "the target lists no mappings, so only "
				   "registers were scanned");
	for (size_t i = 0; i < nr && !err; i++) {
		while (k < nsp && sps[k].region < (long)i)
			k++;
		if ((r[i].perms & (MV_PERM_R | MV_PERM_W)) !=
			    (MV_PERM_R | MV_PERM_W) ||
		    is_device(r[i].path))
			continue;
		struct mv_root root = {
			.start = r[i].start, .end = r[i].end,
			.kind = mv_program_objfile_at(p, r[i].start)
					? MV_ROOT_DATA : MV_ROOT_MAPPING,
			.path = r[i].path,
		};
		if (k < nsp && sps[k].region == (long)i) {
			/* A stack: what lies below the lowest stack pointer
			 * is dead; each thread's piece runs to the next
			 * one's stack pointer (threads may share a
			 * mapping: coroutines, signal stacks). */
			root.kind = MV_ROOT_STACK;
			for (; k < nsp && sps[k].region == (long)i && !err;
			     k++) {
				root.start = sps[k].sp;
				root.end = k + 1 < nsp &&
						   sps[k + 1].region == (long)i
						   ? sps[k + 1].sp
						   : r[i].end;
				root.tid = sps[k].tid;
				err = add_less(ret, root, x, nx);
			}
			continue;
		}
		err = add_less(ret, root, x, nx);
	}
	free(x);
	free(sps);
	return err;
}

struct mv_error *mv_roots_note_missing(struct mv_roots *rs,
				      const struct mv_root *r,
				      uint64_t missing)
{
	if (!missing)
		return NULL;
	const char *where = rs->core ? "in the core" : "readable";
	if (r->kind == MV_ROOT_STACK)
		return skipped(rs, "thread %d: %llu bytes of its stack are "
				   "not %s: blocks only they hold show as lost",
			       (int)r->tid, (unsigned long long)missing, where);
	return skipped(rs, "%s 0x%llx-0x%llx: %llu bytes are not %s: blocks "
			   "only they hold show as lost",
		       r->path ? r->path : "mapping",
		       (unsigned long long)r->start,
		       (unsigned long long)r->end,
		       (unsigned long long)missing, where);
}

void mv_roots_deinit(struct mv_roots *r)
{
	free(r->r);
	mv_notes_deinit(&r->skipped);
	memset(r, 0, sizeof(*r));
}

struct mv_error *mv_roots_read(struct mv_target *t, uint64_t start,
			       uint64_t end, uint64_t *buf, size_t bufsize,
			       struct mv_error *(*fn)(void *arg,
						      uint64_t address,
						      const uint64_t *words,
						      size_t n),
			       void *arg, uint64_t *missing)
{
	uint64_t a = (start + 7) & ~7ull;
	*missing = 0;
	bufsize &= ~(size_t)7;
	while (a < end && end - a >= 8) {
		size_t want = end - a < bufsize ? (size_t)(end - a) : bufsize;
		want &= ~(size_t)7;
		size_t got = mv_target_read_partial(t, a, buf, want) &
			     ~(size_t)7;
		struct mv_error *err =
			got ? fn(arg, a, buf, got / 8) : NULL;
		if (err)
			return err;
		if (got == want) {
			a += want;
			continue;
		}
		/* The rest of this region is unreadable too: go on at the
		 * next region, if the range reaches it. */
		uint64_t bad = a + got;
		long ri = mv_target_region_index(t, bad);
		uint64_t next;
		if (ri >= 0) {
			const struct mv_region *r;
			mv_target_regions(t, &r);
			next = r[ri].end;
		} else {
			size_t ni = mv_target_region_after(t, bad);
			const struct mv_region *r;
			size_t nr = mv_target_regions(t, &r);
			next = ni < nr ? r[ni].start : end;
		}
		if (next <= bad || next > end)
			next = end;
		*missing += next - bad;
		a = (next + 7) & ~7ull;
	}
	return NULL;
}
