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
	/* peek's pointers stay valid as long as the target (a mapping),
	 * rather than until a later read recycles a cache block. */
	bool stable_peek;
	/* Whether a byte in region index i can be read (cores: dumped or
	 * backed by a file).  Optional: by default, readable regions are. */
	bool (*is_readable)(struct mv_target *t, size_t i, uint64_t address);
	/* Drops caches and re-reads the region list.  Optional. */
	void (*invalidate)(struct mv_target *t);
	/* Advice: [start, end) is about to be read whole.  Optional. */
	void (*will_read)(struct mv_target *t, uint64_t start, uint64_t end);
	/* Frees the backend's private state (not the common arrays). */
	void (*destroy)(struct mv_target *t);
	/* Why the target's memory went away since it was opened (a live
	 * process that exited, or whose pid now names another process),
	 * or NULL while it is there.  Optional. */
	const char *(*gone)(struct mv_target *t);
};

/* The block cache of callback targets: aligned blocks of
 * MV_BLOCK_SIZE bytes by block number in a chained hash table, bounded
 * in bytes.  A remote debugger pays a round trip per read, whatever its
 * size, so a walk reading eight bytes at a time costs one read per
 * block.  Per page of a block: whether it was read (known) and whether
 * that worked (readable); a page that could not be read stays cached as
 * such, so a walk over a bad pointer does not ask again. */
#define MV_BLOCK_SHIFT 16
#define MV_BLOCK_SIZE (1u << MV_BLOCK_SHIFT)

struct mv_block {
	uint64_t blockno;
	uint8_t *data; /* MV_BLOCK_SIZE bytes */
	uint32_t known; /* bit i: page i was read, or tried */
	uint32_t readable; /* bit i: page i holds its bytes */
	/* bit i: page i cannot be read whole but a byte at one of its
	 * ends can (a mapping begins or ends inside it): the bytes
	 * asked for there are read alone, uncached. */
	uint32_t partial;
	struct mv_block *next;
};

struct mv_block_cache {
	struct mv_block **buckets;
	size_t nbuckets; /* power of two; 0 until first use */
	size_t nblocks;
	size_t max_blocks;
	struct mv_block *last; /* the block of the last lookup */
	/* Peeks across blocks are assembled here. */
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
	/* Callback targets: the read function, its calls so far (each
	 * a round trip to a remote target), and the block cache. */
	mv_read_fn read_fn;
	void *read_arg;
	uint64_t read_calls;
	struct mv_block_cache cache;
	/* Reads may come from a cache, so peeked pointers are short-lived
	 * (processes, callbacks). */
	bool has_cache;
	/* Cores: bytes of segments read into memory instead of mapped. */
	uint64_t copied_bytes;
	/* The session's Ctrl-C check (sticky within a command), for work
	 * the target does on its own, such as reading a heap in. */
	mv_poll_fn poll;
	/* Backend state. */
	void *priv;
	/* A reason that does not fit a static string. */
	char why[512];
};

/* Allocates a target with the given backend (all arrays empty). */
struct mv_error *mv_target_alloc(const struct mv_target_ops *ops,
				 struct mv_target **ret);
/* Why the target went away during its use (mv_target_ops.gone), or
 * NULL: an answer computed across it is incomplete. */
const char *mv_target_gone(struct mv_target *t);
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
/* How many times a callback target called its read function (each a
 * round trip to a remote debugger); 0 for other targets. */
uint64_t mv_target_read_calls(const struct mv_target *t);
/* Forgets every thread (a backend about to list them again). */
void mv_target_clear_threads(struct mv_target *t);

/* Backends' open functions live in target_core.c and target_proc.c. */

#endif
