/* touch_core.c - the least a reader of a core through mmap pays here:
 * maps FILE and reads one byte of every 4 KiB page once, as a walk over
 * the whole heap must; prints the CPU seconds of that (user + system,
 * mapping included).  On a virtual machine with shadow or nested paging
 * this first touch is a large part of sizeof-deep on a big core, and the
 * fixture's own walk (the floor) does not pay it: its pages are warm.
 *
 *     touch_core FILE */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static double cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
	       (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: touch_core FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		perror(argv[1]);
		return 1;
	}
	double t0 = cpu_seconds();
	const volatile uint8_t *p = mmap(NULL, (size_t)st.st_size, PROT_READ,
					 MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	unsigned sum = 0;
	for (off_t off = 0; off < st.st_size; off += 4096)
		sum += p[off];
	double t1 = cpu_seconds();
	printf("%.6f %u\n", t1 - t0, sum & 1);
	return 0;
}
