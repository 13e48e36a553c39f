/* target_proc.c - live local processes.
 *
 * Regions come from /proc/PID/maps; memory from pread on /proc/PID/mem
 * (or process_vm_readv where that cannot be opened), whole pages at a
 * time into the page cache, so that a walk reading eight bytes at a time
 * makes one system call per page rather than per pointer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, getline */
#endif
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target.h"

/* Bounded, so a walk over a huge heap cannot eat the debugger's memory. */
#define MV_PROC_CACHE_BYTES (256u << 20)
/* /proc/PID/auxv is a few hundred bytes; anything near this is bogus. */
#define MV_PROC_AUXV_MAX (64u << 10)

struct proc {
	int mem_fd; /* -1: use process_vm_readv */
};

/* Reads the readable prefix of [address, address + len) straight from
 * the process. */
static size_t proc_read_raw(struct mv_target *t, uint64_t address,
			    void *buf, size_t len)
{
	struct proc *p = t->priv;
	size_t done = 0;
	while (done < len) {
		uint64_t a = address + done;
		ssize_t n;
		/* pread takes a signed offset: the top half of the address
		 * space (vsyscall) goes through process_vm_readv. */
		if (p->mem_fd >= 0 && a <= INT64_MAX) {
			n = pread(p->mem_fd, (uint8_t *)buf + done, len - done,
				  (off_t)a);
		} else {
			struct iovec local = {
				.iov_base = (uint8_t *)buf + done,
				.iov_len = len - done,
			};
			struct iovec remote = {
				.iov_base = (void *)(uintptr_t)a,
				.iov_len = len - done,
			};
			n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static bool proc_read_page(struct mv_target *t, uint64_t pageno, void *buf)
{
	return proc_read_raw(t, pageno << MV_PAGE_SHIFT, buf, MV_PAGE_SIZE) ==
	       MV_PAGE_SIZE;
}

static size_t proc_read(struct mv_target *t, uint64_t address, void *buf,
			size_t len, const char **why)
{
	size_t n = mv_page_cache_read(t, address, buf, len);
	if (n < len) {
		long i = mv_target_region_index(t, address + n);
		if (i < 0)
			*why = "not mapped in process";
		else if (!(t->regions[i].perms & MV_PERM_R))
			*why = "mapped without read permission";
		else
			*why = "the process's memory cannot be read there";
	}
	return n;
}

static const void *proc_peek(struct mv_target *t, uint64_t address,
			     size_t len)
{
	return mv_page_cache_peek(t, address, len);
}

static uint32_t parse_perms(const char *s)
{
	uint32_t perms = 0;
	if (s[0] == 'r')
		perms |= MV_PERM_R;
	if (s[1] == 'w')
		perms |= MV_PERM_W;
	if (s[2] == 'x')
		perms |= MV_PERM_X;
	if (s[3] == 'p')
		perms |= MV_PERM_P;
	return perms;
}

/* Regions from /proc/PID/maps.  Paths keep the kernel's pseudo names
 * ("[heap]", "[stack]", "[vdso]") and " (deleted)" suffixes. */
static struct mv_error *read_maps(struct mv_target *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (e == ENOENT)
			return mv_error_create(MV_ERR_NOT_FOUND,
					       "no process with pid %d",
					       t->pid);
		return mv_error_create(MV_ERR_IO, "cannot read %s: %s%s", path,
				       strerror(e),
				       e == EACCES || e == EPERM
					       ? " (attach with a debugger or "
						 "run as root)"
					       : "");
	}
	char *line = NULL;
	size_t cap = 0;
	struct mv_error *err = NULL;
	uint64_t last_end = 0;
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, end, offset;
		char perms[5];
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64
			   " %*s %*u %n",
			   &start, &end, perms, &offset, &pos) < 4 ||
		    !pos || strlen(perms) < 4 || start >= end ||
		    start < last_end)
			continue;
		char *name = line + pos;
		size_t nl = strlen(name);
		while (nl && (name[nl - 1] == '\n' || name[nl - 1] == ' '))
			name[--nl] = '\0';
		struct mv_region r = {
			.start = start,
			.end = end,
			.perms = parse_perms(perms),
			.offset = offset,
			.path = nl ? name : NULL,
			.dumped = end - start,
		};
		err = mv_target_append_region(t, &r);
		if (err)
			break;
		last_end = end;
	}
	free(line);
	fclose(f);
	return err;
}

static void read_auxv(struct mv_target *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", t->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mv_target_warn(t, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	uint64_t *v = malloc(MV_PROC_AUXV_MAX);
	size_t got = 0;
	while (v && got < MV_PROC_AUXV_MAX) {
		ssize_t n = read(fd, (uint8_t *)v + got, MV_PROC_AUXV_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!v)
		return;
	uint64_t *small = realloc(v, got >= 16 ? got : 16);
	if (small)
		v = small;
	size_t n = 0;
	while (n < got / 16 && v[2 * n] != AT_NULL)
		n++;
	free(t->auxv);
	t->auxv = v;
	t->nauxv = n;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct mv_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static struct mv_error *read_threads(struct mv_target *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	t->nthreads = 0;
	DIR *d = opendir(path);
	if (!d) {
		mv_target_warn(t, "cannot list %s: %s", path, strerror(errno));
		return mv_target_add_thread(t, t->pid, NULL);
	}
	struct dirent *de;
	struct mv_error *err = NULL;
	while (!err && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || tid > INT32_MAX)
			continue;
		err = mv_target_add_thread(t, (int32_t)tid, NULL);
	}
	closedir(d);
	if (!err && t->nthreads)
		qsort(t->threads, t->nthreads, sizeof(*t->threads), cmp_tid);
	return err;
}

static void proc_invalidate(struct mv_target *t)
{
	mv_page_cache_clear(&t->cache);
	mv_target_clear_regions(t);
	struct mv_error *err = read_maps(t);
	if (err) {
		mv_target_warn(t, "%s", mv_error_message(err));
		mv_error_destroy(err);
	}
	err = read_threads(t);
	mv_error_destroy(err);
}

static void proc_destroy(struct mv_target *t)
{
	struct proc *p = t->priv;
	if (!p)
		return;
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	free(p);
	t->priv = NULL;
}

static const struct mv_target_ops proc_ops = {
	.kind = "process",
	.read = proc_read,
	.peek = proc_peek,
	.invalidate = proc_invalidate,
	.destroy = proc_destroy,
};

/* Whether process_vm_readv can read the first readable region: the
 * fallback when /proc/PID/mem cannot be opened. */
static bool vm_readv_works(struct mv_target *t)
{
	for (size_t i = 0; i < t->nregions; i++) {
		if (!(t->regions[i].perms & MV_PERM_R))
			continue;
		uint8_t b;
		struct iovec local = {.iov_base = &b, .iov_len = 1};
		struct iovec remote = {
			.iov_base = (void *)(uintptr_t)t->regions[i].start,
			.iov_len = 1,
		};
		if (process_vm_readv(t->pid, &local, 1, &remote, 1, 0) == 1)
			return true;
		if (errno == EPERM || errno == ESRCH)
			return false;
	}
	return false;
}

struct mv_error *mv_target_open_pid(int pid, struct mv_target **ret)
{
	if (pid <= 0)
		return mv_error_create(MV_ERR_INVALID, "invalid pid %d", pid);
	struct mv_target *t = NULL;
	struct mv_error *err = mv_target_alloc(&proc_ops, &t);
	if (err)
		return err;
	struct proc *p = calloc(1, sizeof(*p));
	if (!p) {
		mv_target_destroy(t);
		return mv_enomem;
	}
	p->mem_fd = -1;
	t->priv = p;
	t->pid = pid;
	if (asprintf(&t->path, "/proc/%d/mem", pid) < 0) {
		t->path = NULL;
		mv_target_destroy(t);
		return mv_enomem;
	}
	err = read_maps(t);
	if (err)
		goto fail;
	p->mem_fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (p->mem_fd < 0) {
		int e = errno;
		if (!vm_readv_works(t)) {
			err = mv_error_create(
				MV_ERR_IO, "cannot read %s: %s%s", t->path,
				strerror(e),
				e == EACCES || e == EPERM
					? " (attach with a debugger or run "
					  "as root)"
					: "");
			goto fail;
		}
	}
	mv_page_cache_init(&t->cache, MV_PROC_CACHE_BYTES);
	t->cache.read_page = proc_read_page;
	t->cache.read_direct = proc_read_raw;
	t->has_cache = true;
	read_auxv(t);
	err = read_threads(t);
	if (err)
		goto fail;
	*ret = t;
	return NULL;
fail:
	mv_target_destroy(t);
	return err;
}
