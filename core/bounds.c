/* bounds.c - default bounds from the memory this machine can give
 * (bounds.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bounds.h"

/* The first number after "key" in a /proc-style "key: N kB" file, in
 * bytes; false if absent. */
static bool meminfo_value(const char *path, const char *key, uint64_t *ret)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[256];
	size_t klen = strlen(key);
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		if (sscanf(line + klen + 1, "%llu", &kb) == 1) {
			*ret = (uint64_t)kb * 1024;
			found = true;
		}
		break;
	}
	fclose(f);
	return found;
}

/* A cgroup file holding one number ("max" is no number). */
static bool cgroup_number(const char *dir, const char *file, uint64_t *ret)
{
	char path[1024];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return false;
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	unsigned long long v;
	bool ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (ok)
		*ret = v;
	return ok;
}

/* The cgroup of this process for a controller, from /proc/self/cgroup:
 * v2's "0::/path" (controller "") or v1's "N:memory:/path". */
static bool cgroup_path(const char *controller, char *ret, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b || (size_t)(b - a - 1) != strlen(controller) ||
		    strncmp(a + 1, controller, b - a - 1))
			continue;
		if (!*controller && strncmp(line, "0:", 2))
			continue;
		snprintf(ret, size, "%s", b + 1);
		ret[strcspn(ret, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

/* limit less usage in dir; false when there is no such limit. */
static bool room_in(const char *dir, const char *limit, const char *usage,
		    uint64_t *ret)
{
	uint64_t max, cur = 0;
	if (!cgroup_number(dir, limit, &max))
		return false;
	cgroup_number(dir, usage, &cur);
	*ret = max > cur ? max - cur : 0;
	return true;
}

/* What this process's cgroup may still use: its memory limit less its
 * usage, v2 (memory.max) or v1 (memory.limit_in_bytes), in the cgroup
 * /proc/self/cgroup names or, in a container whose mount shows only
 * its own cgroup, at the mount's root.  false when there is none ("max"
 * in v2; v1's "unlimited" is a huge number, never the smallest). */
static bool cgroup_room(uint64_t *ret)
{
	static const struct {
		const char *controller, *mount, *limit, *usage;
	} v[] = {
		{"", "/sys/fs/cgroup", "memory.max", "memory.current"},
		{"memory", "/sys/fs/cgroup/memory", "memory.limit_in_bytes",
		 "memory.usage_in_bytes"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char rel[512], dir[1024];
		if (cgroup_path(v[i].controller, rel, sizeof(rel)) &&
		    snprintf(dir, sizeof(dir), "%s%s", v[i].mount, rel) <
			    (int)sizeof(dir) &&
		    room_in(dir, v[i].limit, v[i].usage, ret))
			return true;
		if (room_in(v[i].mount, v[i].limit, v[i].usage, ret))
			return true;
	}
	return false;
}

static struct mv_memory_budget budget;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;

static void consider(uint64_t v, const char *source)
{
	if (!budget.known || v < budget.available) {
		budget.available = v;
		budget.source = source;
		budget.known = true;
	}
}

static void read_budget(void)
{
	uint64_t v;
	if (meminfo_value("/proc/meminfo", "MemAvailable", &v))
		consider(v, "MemAvailable");
	struct rlimit rl;
	if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY)
		consider((uint64_t)rl.rlim_cur, "RLIMIT_AS");
	if (cgroup_room(&v))
		consider(v, "cgroup memory limit");
}

/* MemAvailable moves by hundreds of MB as other programs run: the
 * amount is taken down to a power of two, so that the CLI and a
 * debugger started a moment apart agree on the defaults (and answers
 * do not change with every page the machine frees). */
static void read_quantized(void)
{
	read_budget();
	budget.measured = budget.available;
	if (budget.known && budget.available) {
		uint64_t p = 1;
		while (p <= budget.available / 2)
			p *= 2;
		budget.available = p;
	}
}

void mv_memory_budget(struct mv_memory_budget *ret)
{
	pthread_once(&budget_once, read_quantized);
	*ret = budget;
}

/* With no source (not Linux, /proc hidden): the old fixed bounds. */
#define FALLBACK_CHUNKS 20000000u
#define FALLBACK_OBJECTS 1000000u

static uint64_t derive(uint64_t cost, uint64_t fallback)
{
	struct mv_memory_budget b;
	mv_memory_budget(&b);
	if (!b.known)
		return fallback;
	uint64_t n = b.available / MV_LIMITS_SHARE / cost;
	return n ? n : 1;
}

uint64_t mv_limits_max_heap_chunks(void)
{
	return derive(MV_LIMITS_CHUNK_COST, FALLBACK_CHUNKS);
}

uint64_t mv_limits_max_objects(void)
{
	return derive(MV_LIMITS_OBJECT_COST, FALLBACK_OBJECTS);
}

static void human(char *buf, size_t size, uint64_t v)
{
	static const char units[] = "KMGTP";
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, size, "%.1f%c", d, units[u]);
}

static void describe(char *buf, size_t size, const char *what,
		     const char *unit, uint64_t n, unsigned cost)
{
	struct mv_memory_budget b;
	mv_memory_budget(&b);
	if (!b.known) {
		snprintf(buf, size, "%s up to %" PRIu64 " %s: a fixed bound "
			 "(the memory available could not be read)", what, n,
			 unit);
		return;
	}
	char h[32], m[32];
	human(h, sizeof(h), b.available);
	human(m, sizeof(m), b.measured);
	snprintf(buf, size, "%s up to %" PRIu64 " %s (%u bytes each): 1/%u "
		 "of %s (%s available by %s, down to a power of two)", what, n,
		 unit, cost, MV_LIMITS_SHARE, h, m, b.source);
}

void mv_limits_describe_chunks(char *buf, size_t size)
{
	describe(buf, size, "heap index", "chunks",
		 mv_limits_max_heap_chunks(), MV_LIMITS_CHUNK_COST);
}

void mv_limits_describe_objects(char *buf, size_t size)
{
	describe(buf, size, "walks", "objects", mv_limits_max_objects(),
		 MV_LIMITS_OBJECT_COST);
}
