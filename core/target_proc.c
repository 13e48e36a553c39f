/* target_proc.c - live local processes.
 *
 * Regions come from /proc/PID/maps; memory from pread on /proc/PID/mem
 * (or process_vm_readv where that cannot be opened) into a block cache:
 * aligned 64 KiB blocks, each read with one system call (one per run of
 * readable pages when the block straddles a gap), kept until the process
 * may have run (proc_invalidate).  A walk reading eight bytes at a time
 * then makes one system call per 16 pages rather than per pointer.
 *
 * The blocks live in an arena of 16 MiB segments that ask for
 * transparent huge pages: a million-node walk over a 32 MB heap took
 * 8,000 page faults (one per 4 KiB cache page) and as many reads; now a
 * few dozen of each.  The arena is bounded (MV_PROC_CACHE_BYTES); once
 * full, the oldest block makes room (FIFO). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, getline */
#endif
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

/* Bounded, so a walk over a huge heap cannot eat the debugger's memory. */
#define MV_PROC_CACHE_BYTES (256u << 20)
#define MV_PROC_BLOCK_SHIFT 16
#define MV_PROC_BLOCK (1u << MV_PROC_BLOCK_SHIFT)
#define MV_PROC_SEGMENT (16u << 20)
#define MV_PROC_SLOTS (MV_PROC_CACHE_BYTES / MV_PROC_BLOCK)
#define MV_PROC_SEGMENT_SLOTS (MV_PROC_SEGMENT / MV_PROC_BLOCK)
#define MV_PROC_SEGMENTS (MV_PROC_CACHE_BYTES / MV_PROC_SEGMENT)
#define MV_PROC_BUCKETS (2 * MV_PROC_SLOTS) /* a power of two */
#define MV_PROC_HUGE ((size_t)2 << 20)
/* Reads of at least this many bytes go straight to the caller's buffer:
 * caching them would only evict blocks that are read again. */
#define MV_PROC_DIRECT_MIN (4 * MV_PROC_BLOCK)
/* Peeks across blocks are copied into a run buffer up to this size. */
#define MV_PROC_PEEK_RUN_MAX (1u << 20)
/* /proc/PID/auxv is a few hundred bytes; anything near this is bogus. */
#define MV_PROC_AUXV_MAX (64u << 10)
#define NO_SLOT UINT32_MAX
/* Reading registers attaches to each thread for a moment (about 20 us
 * each); past this much time in all, the rest of a huge process's
 * threads go without registers, and a warning says how many. */
#define MV_PROC_REGS_BUDGET_NS (2ll * 1000 * 1000 * 1000)

/* One cached block.  A page that could not be read stays cached as
 * unreadable (its bit clear), so a walk over a bad pointer does not read
 * it again. */
struct block {
	uint64_t blockno;
	uint32_t next; /* hash chain */
	uint32_t readable; /* bit i: page i of the block holds its bytes */
};

struct proc {
	int mem_fd; /* -1: use process_vm_readv */
	unsigned flags; /* MV_OPEN_PID_* */
	uint32_t nslots; /* slots in use */
	uint32_t hand; /* the oldest slot, evicted next once all are used */
	uint32_t last; /* the slot of the last lookup, or NO_SLOT */
	uint8_t *segments[MV_PROC_SEGMENTS];
	struct block slots[MV_PROC_SLOTS];
	uint32_t buckets[MV_PROC_BUCKETS];
	uint8_t *run; /* peeks across blocks */
	size_t run_cap;
	/* The process's start time (/proc/PID/stat, field 22) when opened:
	 * the same pid with another start time is another process. */
	unsigned long long start_time;
	/* The process exited or was replaced: reads fail from then on. */
	const char *gone;
};

/* The start time and state of process pid from /proc/PID/stat; false if
 * there is no such process (or the file makes no sense). */
static bool proc_stat(int pid, unsigned long long *start_time, char *state)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	/* comm, in parentheses, may hold anything: fields follow the last
	 * ')'.  State is field 3, start time field 22. */
	char *f = strrchr(text, ')');
	if (!f || f[1] != ' ')
		return false;
	f += 2;
	*state = *f;
	for (int field = 3; field < 22; field++) {
		f = strchr(f, ' ');
		if (!f)
			return false;
		f++;
	}
	char *end;
	errno = 0;
	*start_time = strtoull(f, &end, 10);
	return end != f && errno == 0;
}

/* Whether the process opened is gone (checked now, remembered). */
static const char *proc_gone(struct mv_target *t)
{
	struct proc *p = t->priv;
	if (p->gone)
		return p->gone;
	unsigned long long start;
	char state;
	if (!proc_stat(t->pid, &start, &state))
		p->gone = "the process exited during the command";
	else if (start != p->start_time)
		p->gone = "the process exited during the command (its pid "
			  "now names another process)";
	else if (state == 'Z' || state == 'X')
		p->gone = "the process exited during the command";
	return p->gone;
}

/* Reads the readable prefix of [address, address + len) straight from
 * the process. */
static size_t proc_read_raw(struct mv_target *t, uint64_t address,
			    void *buf, size_t len)
{
	struct proc *p = t->priv;
	size_t done = 0;
	if (p->gone)
		return 0;
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
		/* A process without memory reads as end of file (its mm is
		 * gone), process_vm_readv as ESRCH: do not go on as if its
		 * pages were unmapped. */
		if (n == 0 || (n < 0 && errno == ESRCH)) {
			proc_gone(t);
			break;
		}
		if (n < 0)
			break;
		done += (size_t)n;
	}
	return done;
}

/* ---- the block cache ---- */

static uint8_t *slot_data(struct proc *p, uint32_t s)
{
	return p->segments[s / MV_PROC_SEGMENT_SLOTS] +
	       (size_t)(s % MV_PROC_SEGMENT_SLOTS) * MV_PROC_BLOCK;
}

static uint32_t *bucket_of(struct proc *p, uint64_t blockno)
{
	/* Fibonacci hashing: consecutive blocks spread over the buckets. */
	return &p->buckets[(blockno * 0x9e3779b97f4a7c15ull) >> 32 &
			   (MV_PROC_BUCKETS - 1)];
}

/* 16 MiB of address space aligned to a huge page, asking for huge pages:
 * a block then costs no page fault of its own. */
static uint8_t *segment_alloc(void)
{
	size_t len = MV_PROC_SEGMENT + MV_PROC_HUGE;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)m + MV_PROC_HUGE - 1) & ~(MV_PROC_HUGE - 1);
	size_t head = a - (uintptr_t)m;
	if (head)
		munmap(m, head);
	if (len - head > MV_PROC_SEGMENT)
		munmap((uint8_t *)a + MV_PROC_SEGMENT,
		       len - head - MV_PROC_SEGMENT);
#ifdef MADV_HUGEPAGE
	madvise((void *)a, MV_PROC_SEGMENT, MADV_HUGEPAGE);
#endif
	return (uint8_t *)a;
}

static void cache_drop(struct proc *p)
{
	for (size_t i = 0; i < MV_PROC_SEGMENTS; i++) {
		if (p->segments[i])
			munmap(p->segments[i], MV_PROC_SEGMENT);
		p->segments[i] = NULL;
	}
	memset(p->buckets, 0xff, sizeof(p->buckets));
	p->nslots = p->hand = 0;
	p->last = NO_SLOT;
}

/* A free slot: a new one while the arena may grow, else the oldest
 * block's.  NO_SLOT only when not even one segment can be had. */
static uint32_t slot_take(struct proc *p)
{
	if (p->nslots < MV_PROC_SLOTS) {
		uint32_t s = p->nslots;
		uint8_t **seg = &p->segments[s / MV_PROC_SEGMENT_SLOTS];
		if (*seg || (*seg = segment_alloc())) {
			p->nslots++;
			return s;
		}
		if (!p->nslots)
			return NO_SLOT;
	}
	uint32_t s = p->hand;
	p->hand = (p->hand + 1) % p->nslots;
	uint32_t *link = bucket_of(p, p->slots[s].blockno);
	while (*link != NO_SLOT && *link != s)
		link = &p->slots[*link].next;
	if (*link == s)
		*link = p->slots[s].next;
	if (p->last == s)
		p->last = NO_SLOT;
	return s;
}

/* Reads block blockno into data; returns its readable pages as a mask.
 * One read per run of mapped pages (the region list says where the gaps
 * are, so unmapped pages cost no system call); a page that fails ends
 * its run, and the read goes on after it. */
static uint32_t block_fill(struct mv_target *t, uint64_t blockno,
			   uint8_t *data)
{
	uint64_t base = blockno << MV_PROC_BLOCK_SHIFT;
	uint32_t mask = 0;
	size_t off = 0;
	while (off < MV_PROC_BLOCK) {
		uint64_t a = base + off;
		size_t want = MV_PROC_BLOCK - off;
		if (t->nregions) {
			size_t i = mv_target_region_after(t, a);
			if (i == t->nregions)
				break;
			const struct mv_region *r = &t->regions[i];
			if (r->start > a) {
				/* A gap: skip to the next region. */
				if (r->start - base >= MV_PROC_BLOCK)
					break;
				off = (size_t)(r->start - base);
				continue;
			}
			if (r->end - a < want)
				want = (size_t)(r->end - a);
		}
		size_t n = proc_read_raw(t, a, data + off, want);
		n &= ~(size_t)(MV_PAGE_SIZE - 1);
		for (size_t k = off; k < off + n; k += MV_PAGE_SIZE)
			mask |= 1u << (k >> MV_PAGE_SHIFT);
		off += n;
		if (n < want) /* this page cannot be read: go on after it */
			off = (off | (MV_PAGE_SIZE - 1)) + 1;
	}
	return mask;
}

/* The slot holding block blockno, reading it on a miss; NO_SLOT only
 * on out-of-memory. */
static uint32_t block_get(struct mv_target *t, uint64_t blockno)
{
	struct proc *p = t->priv;
	if (p->last != NO_SLOT && p->slots[p->last].blockno == blockno)
		return p->last;
	uint32_t *bucket = bucket_of(p, blockno);
	for (uint32_t s = *bucket; s != NO_SLOT; s = p->slots[s].next)
		if (p->slots[s].blockno == blockno)
			return p->last = s;
	uint32_t s = slot_take(p);
	if (s == NO_SLOT)
		return NO_SLOT;
	struct block *b = &p->slots[s];
	b->blockno = blockno;
	b->readable = block_fill(t, blockno, slot_data(p, s));
	b->next = *bucket;
	*bucket = s;
	return p->last = s;
}

/* How many of the len bytes at offset off of a block are readable
 * before the first unreadable page. */
static size_t readable_prefix(uint32_t mask, size_t off, size_t len)
{
	/* The run of readable pages from off's page on (mask has 16 bits,
	 * so ~run is never 0). */
	uint32_t run = mask >> (off >> MV_PAGE_SHIFT);
	size_t pages = (size_t)__builtin_ctz(~run);
	if (!pages)
		return 0;
	size_t avail = pages * MV_PAGE_SIZE - (off & (MV_PAGE_SIZE - 1));
	return avail < len ? avail : len;
}

static size_t cache_read(struct mv_target *t, uint64_t address, void *buf,
			 size_t len)
{
	struct proc *p = t->priv;
	size_t done = 0;
	if (len >= MV_PROC_DIRECT_MIN) {
		done = proc_read_raw(t, address, buf, len);
		if (done == len)
			return len;
	}
	while (done < len) {
		uint64_t a = address + done;
		size_t off = (size_t)(a & (MV_PROC_BLOCK - 1));
		size_t chunk = MV_PROC_BLOCK - off;
		if (chunk > len - done)
			chunk = len - done;
		uint32_t s = block_get(t, a >> MV_PROC_BLOCK_SHIFT);
		size_t n;
		if (s == NO_SLOT) /* out of memory for the cache: uncached */
			n = proc_read_raw(t, a, (uint8_t *)buf + done, chunk);
		else {
			n = readable_prefix(p->slots[s].readable, off, chunk);
			memcpy((uint8_t *)buf + done, slot_data(p, s) + off, n);
		}
		done += n;
		if (n < chunk)
			break;
	}
	return done;
}

static size_t proc_read(struct mv_target *t, uint64_t address, void *buf,
			size_t len, const char **why)
{
	size_t n = cache_read(t, address, buf, len);
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
	struct proc *p = t->priv;
	size_t off = (size_t)(address & (MV_PROC_BLOCK - 1));
	if (len <= MV_PROC_BLOCK - off) {
		uint32_t s = block_get(t, address >> MV_PROC_BLOCK_SHIFT);
		if (s == NO_SLOT ||
		    readable_prefix(p->slots[s].readable, off, len) < len)
			return NULL;
		return slot_data(p, s) + off;
	}
	if (len > MV_PROC_PEEK_RUN_MAX)
		return NULL;
	if (p->run_cap < len) {
		uint8_t *r = realloc(p->run, len);
		if (!r)
			return NULL;
		p->run = r;
		p->run_cap = len;
	}
	if (cache_read(t, address, p->run, len) != len)
		return NULL;
	return p->run;
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
		if (e == ENOENT || e == ESRCH)
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

/* ---- registers ---- */

enum regs_result {
	REGS_READ,
	REGS_GONE, /* the thread exited meanwhile: nothing to say */
	REGS_REFUSED, /* cannot attach: errno says why */
	REGS_LATE, /* did not stop before the deadline */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits for the stop that seizing and interrupting tid causes, until
 * deadline (a thread in uninterruptible sleep stops only when it wakes);
 * returns the signal to hand back on detach (0: none), -1 if the
 * thread exited, -2 if it did not stop in time. */
static int wait_stop(pid_t tid, int64_t deadline)
{
	for (unsigned polls = 0;; polls++) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || (w > 0 && (WIFEXITED(st) || WIFSIGNALED(st))))
			return -1;
		if (w == 0) {
			if (now_ns() > deadline)
				return -2;
			/* A thread usually stops within microseconds: yield
			 * first, then sleep a little between polls. */
			if (polls < 16)
				sched_yield();
			else
				nanosleep(&(struct timespec){0, 50000}, NULL);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		/* A ptrace event stop (the interrupt, or the group-stop of
		 * a stopped process) carries no signal to deliver.  A
		 * signal-delivery stop took a signal on its way in: detach
		 * hands it back, so the process still gets it. */
		return (st >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(st);
	}
}

/* Reads one thread's registers, leaving it as it was.  PTRACE_SEIZE
 * (unlike ATTACH) sends no SIGSTOP that could be seen; INTERRUPT stops
 * the thread, or turns a group-stop into a ptrace stop; DETACH puts a
 * thread of a stopped process back into its group-stop (ptrace(2),
 * "Group-stop"), and lets a running one run on, its system call
 * restarted. */
static enum regs_result thread_regs(pid_t tid, int64_t deadline,
				    uint64_t regs[MV_NREGS])
{
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		return errno == ESRCH ? REGS_GONE : REGS_REFUSED;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
		int e = errno;
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		errno = e;
		return e == ESRCH ? REGS_GONE : REGS_REFUSED;
	}
	int sig = wait_stop(tid, deadline);
	if (sig < 0) {
		/* Gone, or not stopped yet: a detach that fails leaves the
		 * thread traced until memview exits. */
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return sig == -2 ? REGS_LATE : REGS_GONE;
	}
	struct user_regs_struct u;
	_Static_assert(sizeof(u) == MV_NREGS * sizeof(uint64_t),
		       "memview's registers are user_regs_struct's");
	bool ok = ptrace(PTRACE_GETREGS, tid, NULL, &u) == 0;
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig);
	if (!ok)
		return REGS_GONE;
	memcpy(regs, &u, sizeof(u));
	return REGS_READ;
}

/* Who traces tid (TracerPid in its status), 0 if nobody or unknown. */
static long tracer_of(int pid, int32_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	FILE *f = fopen(path, "re");
	long tracer = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/* Each thread's registers, one thread at a time (the others run on).
 * Threads that refuse get one warning line for them all. */
static void read_registers(struct mv_target *t)
{
	int64_t deadline = now_ns() + MV_PROC_REGS_BUDGET_NS;
	size_t refused = 0, late = 0;
	int32_t first = 0;
	int why = 0;
	for (size_t i = 0; i < t->nthreads; i++) {
		struct mv_thread *th = &t->threads[i];
		if (now_ns() > deadline) {
			late = t->nthreads - i;
			break;
		}
		switch (thread_regs(th->tid, deadline, th->regs)) {
		case REGS_READ:
			th->has_regs = true;
			break;
		case REGS_GONE:
			break;
		case REGS_LATE:
			late = t->nthreads - i;
			i = t->nthreads;
			break;
		case REGS_REFUSED:
			if (!refused++) {
				first = th->tid;
				why = errno;
			}
			break;
		}
	}
	if (refused) {
		long tracer = tracer_of(t->pid, first);
		char by[48] = "";
		if (tracer > 0)
			snprintf(by, sizeof(by), "already traced by pid %ld: ",
				 tracer);
		char others[48] = "";
		if (refused > 1)
			snprintf(others, sizeof(others), " and %zu other threads",
				 refused - 1);
		mv_target_warn(t, "thread %d%s: cannot read registers (%s%s)",
			       first, others, by, strerror(why));
	}
	if (late)
		mv_target_warn(t, "%zu threads: registers not read (reading "
			       "them took more than %lld s)",
			       late, MV_PROC_REGS_BUDGET_NS / 1000000000);
}

/* The threads of /proc/PID/task, sorted by tid, with their registers
 * unless the caller gives them. */
static struct mv_error *read_threads(struct mv_target *t)
{
	struct proc *p = t->priv;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	mv_target_clear_threads(t);
	DIR *d = opendir(path);
	struct mv_error *err = NULL;
	if (!d) {
		mv_target_warn(t, "cannot list %s: %s", path, strerror(errno));
		err = mv_target_append_thread(t, t->pid, NULL);
	} else {
		struct dirent *de;
		while (!err && (de = readdir(d))) {
			char *end;
			long tid = strtol(de->d_name, &end, 10);
			if (*end || tid <= 0 || tid > INT32_MAX)
				continue;
			err = mv_target_append_thread(t, (int32_t)tid, NULL);
		}
		closedir(d);
	}
	if (!err && t->nthreads) {
		qsort(t->threads, t->nthreads, sizeof(*t->threads), cmp_tid);
		t->threads_unsorted = false;
	}
	if (!err && !(p->flags & MV_OPEN_PID_CALLER_REGS))
		read_registers(t);
	return err;
}

/* The process may have run: its memory and maps are news. */
static void proc_invalidate(struct mv_target *t)
{
	cache_drop(t->priv);
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
	cache_drop(p);
	free(p->run);
	free(p);
	t->priv = NULL;
}

static const struct mv_target_ops proc_ops = {
	.kind = "process",
	.read = proc_read,
	.peek = proc_peek,
	.invalidate = proc_invalidate,
	.destroy = proc_destroy,
	.gone = proc_gone,
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
	return mv_target_open_pid_flags(pid, 0, ret);
}

struct mv_error *mv_target_open_pid_flags(int pid, unsigned flags,
					  struct mv_target **ret)
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
	p->flags = flags;
	cache_drop(p);
	t->priv = p;
	t->pid = pid;
	char state;
	if (!proc_stat(pid, &p->start_time, &state))
		p->start_time = 0; /* read_maps says what is wrong */
	if (asprintf(&t->path, "/proc/%d/mem", pid) < 0) {
		t->path = NULL;
		mv_target_destroy(t);
		return mv_enomem;
	}
	err = read_maps(t);
	if (err)
		goto fail;
	p->mem_fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (p->mem_fd < 0 && errno == ESRCH) {
		/* Killed between its maps and its memory. */
		err = mv_error_create(MV_ERR_IO, "the process exited during "
				      "the command (while memview opened it)");
		goto fail;
	}
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
