/* fuzz_core.c - core files: the input is a core file.
 *
 * Opens it as a target and asks everything a command would (regions,
 * threads, auxv, warnings, reads and peeks at the edges of regions),
 * then opens it as a session, which also discovers the objfiles named in
 * its NT_FILE note, and runs `regions` and `info` on it. */
#include "fuzz.h"

static void poke_target(struct mv_target *t)
{
	const struct mv_region *regions;
	size_t n = mv_target_regions(t, &regions);
	uint8_t buf[256];
	for (size_t i = 0; i < n && i < 64; i++) {
		const struct mv_region *r = &regions[i];
		uint64_t len = r->end - r->start;
		mv_error_destroy(mv_target_read(t, r->start, buf, 16));
		mv_target_read_partial(t, r->end - 8, buf, sizeof(buf));
		if (len > 64)
			mv_target_read_partial(t, r->start + len / 2, buf, 64);
		mv_target_peek(t, r->start, 8);
		mv_target_is_mapped(t, r->end);
		mv_target_find_region(t, r->start + len / 3);
	}
	mv_target_read_partial(t, UINT64_MAX - 16, buf, sizeof(buf));
	mv_target_read_partial(t, 0, buf, sizeof(buf));

	const struct mv_thread *threads;
	size_t nt = mv_target_threads(t, &threads);
	for (size_t i = 0; i < nt && i < 16; i++)
		if (threads[i].has_regs)
			mv_target_read_partial(t, threads[i].regs[MV_REG_RSP],
					       buf, sizeof(buf));
	uint64_t v;
	mv_target_auxv(t, 9 /* AT_ENTRY */, &v);
	mv_target_auxv(t, 33 /* AT_SYSINFO_EHDR */, &v);
	const char *const *warnings;
	size_t nw = mv_target_warnings(t, &warnings);
	for (size_t i = 0; i < nw; i++)
		(void)strlen(warnings[i]);
	mv_target_pid(t);
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const char *path = mv_fuzz_file(data, size);
	if (!path)
		return 0;
	struct mv_target *t;
	struct mv_error *err = mv_target_open_core(path, &t);
	if (err) {
		(void)strlen(mv_error_message(err));
		mv_error_destroy(err);
		return 0;
	}
	poke_target(t);
	mv_target_destroy(t);

	struct mv_session *s;
	if (mv_session_create(&s))
		return 0;
	mv_session_set_output(s, mv_fuzz_discard, NULL);
	err = mv_session_open_core(s, path, NULL);
	if (!err) {
		static const char *const regions[] = {"regions"};
		static const char *const regions_json[] = {"regions", "--json"};
		static const char *const info[] = {"info"};
		static const char *const info_json[] = {"info", "--json"};
		mv_error_destroy(mv_session_run(s, 1, regions));
		mv_error_destroy(mv_session_run(s, 2, regions_json));
		mv_error_destroy(mv_session_run(s, 1, info));
		mv_error_destroy(mv_session_run(s, 2, info_json));
	}
	mv_error_destroy(err);
	mv_session_destroy(s);
	return 0;
}
