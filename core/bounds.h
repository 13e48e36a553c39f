/* bounds.h - the default bounds of the commands that read the heap,
 * derived from the memory this machine can give memview: the smallest of
 * /proc/meminfo's MemAvailable, the address-space rlimit and the
 * cgroup's memory.max (less what the cgroup uses), taken down to a
 * power of two (stable while other programs come and go), halved,
 * divided by
 * what one heap chunk or one walked object costs in memview's own
 * structures.  A default so derived never cuts a heap this machine
 * could index; the options and settings still override it. */
#ifndef MV_BOUNDS_H
#define MV_BOUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one heap chunk costs while a command runs, the most of: the
 * packed index (4.75 bytes, built so; twice that at worst while a sort
 * merges it into a new one) with the most any command keeps per chunk
 * beside it (gc: a kind byte, and for a lost block its position,
 * offset into the edges and component: 1 + 4 + 8 + 4 + 4), rounded
 * up. */
#define MV_LIMITS_CHUNK_COST 32u
/* What one walked object costs: its record (struct mv_walk_obj, 24
 * bytes) and its visited-set entry at a load of at most 1/2 (8). */
#define MV_LIMITS_OBJECT_COST 32u
/* The share of the available memory a default may plan for: 1/N. */
#define MV_LIMITS_SHARE 2u

struct mv_memory_budget {
	uint64_t available;   /* bytes planned for: measured, down to 2^k */
	uint64_t measured;    /* bytes: the smallest source below */
	const char *source;   /* "MemAvailable", "RLIMIT_AS", "cgroup" */
	bool known;           /* false: no source could be read */
};

/* Reads the sources once per process (from 1G up, rounded down to a
 * power of two) (the defaults stay the same for a
 * session: the heap cache is keyed by them). */
void mv_memory_budget(struct mv_memory_budget *ret);
/* The default of --max-heap-chunks and of --max-objects. */
uint64_t mv_limits_max_heap_chunks(void);
uint64_t mv_limits_max_objects(void);
/* "heap index up to N chunks (32 bytes each): 1/2 of 16.0G (22.8G
 * available by MemAvailable, down to a power of two)"
 * (MemAvailable)" and the same for objects, into buf. */
void mv_limits_describe_chunks(char *buf, size_t size);
void mv_limits_describe_objects(char *buf, size_t size);

#endif
