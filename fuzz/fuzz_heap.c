/* fuzz_heap.c - the glibc heap model and the sizeof-deep walk over
 * corrupt memory.
 *
 * Memory is the deepsize fixture's core (build/cores/deepsize.core),
 * copied once into private buffers and declared on a callback target,
 * with the executable and libc as objfiles at the core's biases.  Each
 * input overwrites part of that memory: the input is a sequence of
 * patches "OFFSET(4 bytes, little-endian) LEN(1 byte) BYTES", each
 * applied at OFFSET (modulo its size, 8-aligned) into the heap segment,
 * or, when OFFSET's top bit is set, into libc's writable data where
 * main_arena lives.  Then `heap`, `heap --chunks`, `heap --bins`,
 * `view --depth 64` of the list's first node, sizeof-deep of the
 * fixture's lists, trees and cycles, `graph` (the walk, as DOT) and
 * `path-to` (the heap's own graph from the roots) run over the result,
 * and the patched bytes are put back. */
#include "fuzz.h"
#include "session.h"

struct seg {
	uint64_t start, len;
	uint8_t *bytes, *pristine;
};

static struct mv_session *session;
static struct seg segs[64];
static size_t nsegs;
static struct seg *heap_seg, *libc_seg;

static int read_none(void *arg, uint64_t address, void *buf, size_t len)
{
	(void)arg;
	(void)address;
	(void)buf;
	(void)len;
	return 0;
}

static bool setup(void)
{
	char core[256];
	mv_fuzz_build_file("cores/deepsize.core", core, sizeof(core));
	struct mv_target *t;
	struct mv_error *err = mv_target_open_core(core, &t);
	if (err) {
		fprintf(stderr, "fuzz_heap: %s (run make first)\n",
			mv_error_message(err));
		mv_error_destroy(err);
		return false;
	}
	if (mv_session_create(&session) ||
	    mv_session_open_callback(session, read_none, NULL))
		return false;
	mv_session_set_output(session, mv_fuzz_discard, NULL);
	const struct mv_region *r;
	size_t n = mv_target_regions(t, &r);
	for (size_t i = 0; i < n && nsegs < 64; i++) {
		uint64_t len = r[i].end - r[i].start;
		if (len > (8u << 20))
			continue;
		struct seg *s = &segs[nsegs];
		s->bytes = calloc(1, len);
		s->pristine = calloc(1, len);
		if (!s->bytes || !s->pristine)
			return false;
		s->start = r[i].start;
		s->len = mv_target_read_partial(t, r[i].start, s->bytes, len);
		if (!s->len)
			continue;
		memcpy(s->pristine, s->bytes, s->len);
		mv_error_destroy(mv_target_add_buffer(session->target,
						      s->start, s->bytes,
						      s->len, r[i].perms));
		/* The objfiles: the first mapping of each file. */
		if (r[i].path && r[i].offset == 0)
			mv_error_destroy(mv_session_add_objfile(
				session, r[i].path, r[i].start));
		if (!r[i].path && !heap_seg && (r[i].perms & MV_PERM_W) &&
		    r[i].start < 0x7f0000000000ull)
			heap_seg = s;
		if (r[i].path && strstr(r[i].path, "libc.so") &&
		    (r[i].perms & MV_PERM_W))
			libc_seg = s;
		nsegs++;
	}
	mv_target_destroy(t);
	if (!heap_seg || !libc_seg) {
		fprintf(stderr, "fuzz_heap: no heap or libc data in %s\n",
			core);
		return false;
	}
	return true;
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static bool ready, failed;
	if (!ready && !failed) {
		ready = setup();
		failed = !ready;
	}
	if (!ready)
		return 0;
	/* Patches. */
	size_t i = 0;
	while (i + 5 <= size) {
		uint32_t off;
		memcpy(&off, data + i, 4);
		size_t len = data[i + 4];
		i += 5;
		if (len > size - i)
			len = size - i;
		struct seg *s = off & 0x80000000u ? libc_seg : heap_seg;
		uint64_t at = ((off & 0x7fffffffu) % s->len) & ~7ull;
		if (len > s->len - at)
			len = s->len - at;
		memcpy(s->bytes + at, data + i, len);
		i += len;
	}
	static const char *const lines[][6] = {
		{"heap"},
		{"heap", "--chunks", "--json"},
		{"heap", "--bins", "--json"},
		{"view", "--depth", "64", "--json", "list", "64"},
		{"sizeof-deep", "list"},
		{"sizeof-deep", "tree", "--json"},
		{"sizeof-deep", "cycle", "--unions", "all"},
		{"sizeof-deep", "dlist", "--conservative"},
		{"graph", "--max-objects", "2000", "--dot", "/dev/null", "dag"},
		{"path-to", "tree"},
	};
	for (size_t k = 0; k < sizeof(lines) / sizeof(*lines); k++) {
		int n = 0;
		while (n < 6 && lines[k][n])
			n++;
		mv_error_destroy(mv_session_run(session, n, lines[k]));
	}
	mv_session_invalidate(session);
	memcpy(heap_seg->bytes, heap_seg->pristine, heap_seg->len);
	memcpy(libc_seg->bytes, libc_seg->pristine, libc_seg->len);
	return 0;
}
