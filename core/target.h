/* target.h - internals of target memory: one struct mv_target with a
 * table of backend operations (core file, live process, callback,
 * buffers), the region/thread/auxv/warning arrays every backend fills,
 * and a page cache shared by the backends that read memory by pages.
 *
 * Layering: target sits on error and containers only. */
#ifndef MV_TARGET_H
#define MV_TARGET_H

#include "buf.h"
#include "memview.h"

/* Caps on counts driven by target data, so that a hostile file can make
 * us do bounded work only. */
#define MV_TARGET_MAX_REGIONS 1000000
#define MV_TARGET_MAX_NOTES 1000000
#define MV_TARGET_MAX_THREADS 1000000
#define MV_TARGET_MAX_WARNINGS 100

#define MV_PAGE_SIZE 4096u
#define MV_PAGE_SHIFT 12

struct mv_target;

/* A backend: the ways one kind of memory source differs from another. */
struct mv_target_ops {
	const char *kind;
	/* Copies the readable prefix of [address, address + len) into buf
	 * and returns its length.  On a short count, sets *why to a reason
	 * ("not mapped in core"): static, or held in t->why. */
	size_t (*read)(struct mv_target *t, uint64_t address, void *buf,
		       size_t len, const char **why);
	/* Zero copy, or NULL.  Optional. */
	const void *(*peek)(struct mv_target *t, uint64_t address,
			    size_t len);
	/* Whether a byte in region index i can be read (cores: dumped or
	 * backed by a file).  Optional: by default, readable regions are. */
	bool (*is_readable)(struct mv_target *t, size_t i, uint64_t address);
	/* Drops caches and re-reads the region list.  Optional. */
	void (*invalidate)(struct mv_target *t);
	/* Advice: [start, end) is about to be read whole.  Optional. */
	void (*will_read)(struct mv_target *t, uint64_t start, uint64_t end);
	/* Frees the backend's private state (not the common arrays). */
	void (*destroy)(struct mv_target *t);
};

/* The page cache: whole pages by page number in a chained hash table,
 * bounded in bytes.  A page that could not be read is cached too (with
 * data NULL), so a walk over a bad pointer does not re-read it. */
struct mv_page {
	uint64_t pageno;
	uint8_t *data; /* MV_PAGE_SIZE bytes, or NULL if unreadable */
	struct mv_page *next;
};

struct mv_page_cache {
	struct mv_page **buckets;
	size_t nbuckets; /* power of two; 0 until first use */
	size_t npages;
	size_t max_pages;
	/* Fills one page; returns false if any byte of it is unreadable. */
	bool (*read_page)(struct mv_target *t, uint64_t pageno, void *buf);
	/* Reads a large range straight into the caller's buffer; returns
	 * the readable prefix.  Optional. */
	size_t (*read_direct)(struct mv_target *t, uint64_t address,
			      void *buf, size_t len);
	/* Peeks across pages are assembled here. */
	uint8_t *run;
	size_t run_cap;
};

struct mv_target {
	const struct mv_target_ops *ops;
	char *path;
	int pid;
	/* Sorted by start, not overlapping. */
	struct mv_region *regions;
	size_t nregions, regions_cap;
	/* The region the last lookup found: walks read near where they
	 * read last, and a binary search per read was a tenth of a walk.
	 * A hint only (checked before use); targets are used by one thread
	 * at a time. */
	size_t region_hint;
	/* Buffer targets (and regions declared on callback targets): the
	 * bytes of region i, parallel to regions; NULL entries read
	 * through the callback. */
	const void **region_data;
	/* Callback targets: regions were declared, so is_mapped and
	 * find_region answer from them. */
	bool regions_declared;
	struct mv_thread *threads;
	size_t nthreads;
	/* Some tid is not above the one before it (a core's note order):
	 * lookups by tid scan instead of bisecting. */
	bool threads_unsorted;
	uint64_t *auxv; /* (type, value) pairs, without AT_NULL */
	size_t nauxv;
	struct mv_notes warnings; /* bounded by MV_TARGET_MAX_WARNINGS */
	/* Page cache for process and callback targets. */
	struct mv_page_cache cache;
	bool has_cache;
	/* Callback targets. */
	mv_read_fn read_fn;
	void *read_arg;
	/* Cores: bytes of segments read into memory instead of mapped. */
	uint64_t copied_bytes;
	/* Backend state. */
	void *priv;
	/* A reason that does not fit a static string. */
	char why[512];
};

/* Allocates a target with the given backend (all arrays empty). */
struct mv_error *mv_target_alloc(const struct mv_target_ops *ops,
				 struct mv_target **ret);
/* Adds a warning sentence (formatted); silently bounded.  Returns false
 * only on out-of-memory. */
bool mv_target_warn(struct mv_target *t, const char *fmt, ...)
	MV_PRINTF(2, 3);
/* Advice that [start, end) is about to be read whole, as a heap walk
 * reads its heaps: a core reads its big writable segments there into
 * memory (target_core.c).  Reads before and after see the same bytes. */
void mv_target_will_read(struct mv_target *t, uint64_t start, uint64_t end);
/* mv_target_peek for targets whose memory stays mapped as long as the
 * target lives (cores, buffers): the pointer stays valid across later
 * calls.  NULL for targets that peek into their page cache (processes,
 * callbacks), whose pointers the next read may recycle. */
const void *mv_target_peek_stable(struct mv_target *t, uint64_t address,
				  size_t len);
/* Index of the region containing address, or -1. */
long mv_target_region_index(const struct mv_target *t, uint64_t address);
/* Index of the first region ending after address (nregions if none). */
size_t mv_target_region_after(const struct mv_target *t, uint64_t address);
/* Appends a region (caller keeps regions sorted).  path is copied. */
struct mv_error *mv_target_append_region(struct mv_target *t,
					 const struct mv_region *r);
/* Frees the region array and its paths. */
void mv_target_clear_regions(struct mv_target *t);
/* Appends a thread; regs may be NULL.  For backends that list each
 * thread once (a core's notes, /proc/PID/task): no lookup. */
struct mv_error *mv_target_append_thread(struct mv_target *t, int32_t tid,
					 const uint64_t *regs);
/* Sets the registers of thread tid (regs NULL: none known), appending
 * it if the target has no such thread.  For the session, which learns
 * threads and registers from the debugger: giving a thread again
 * replaces what was given before instead of listing it twice. */
struct mv_error *mv_target_add_thread(struct mv_target *t, int32_t tid,
				      const uint64_t *regs);
/* Forgets every thread (a backend about to list them again). */
void mv_target_clear_threads(struct mv_target *t);

/* Page cache. */
void mv_page_cache_init(struct mv_page_cache *c, size_t max_bytes);
void mv_page_cache_clear(struct mv_page_cache *c);
void mv_page_cache_deinit(struct mv_page_cache *c);
size_t mv_page_cache_read(struct mv_target *t, uint64_t address, void *buf,
			  size_t len);
const void *mv_page_cache_peek(struct mv_target *t, uint64_t address,
			       size_t len);

/* Backends' open functions live in target_core.c and target_proc.c. */

#endif
