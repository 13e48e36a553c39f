/* fuzz_format.c - struct-module formats, shapes and slices (view --as,
 * --shape, --slice) and the hex dump, over memory made of the input.
 *
 * The input is "FMT\nSHAPE\nSLICE\nBYTES": the first three lines are the
 * option texts (an empty line leaves the option out), the rest is the
 * memory at 0x10000, with an unreadable gap after its first half so that
 * views cross a hole.  Each text goes through its parser, a valid cast
 * is rendered as tolist() and as JSON, and the bytes are hex-dumped with
 * a width and group taken from the first two bytes.  Then the same
 * texts go through the view command of a session over that memory. */
#include "fuzz.h"
#include "session.h"
#include "view.h"

#define BASE 0x10000u

static const char *next_line(const char **p, const char *end, char *buf,
			     size_t size)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - *p);
	if (n >= size)
		n = size - 1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p = nl + 1;
	return buf;
}

static int read_none(void *arg, uint64_t address, void *buf, size_t len)
{
	(void)arg;
	(void)address;
	(void)buf;
	(void)len;
	return 0;
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char fmtb[64], shapeb[256], sliceb[128];
	const char *fmt = next_line(&p, end, fmtb, sizeof(fmtb));
	const char *shape = fmt ? next_line(&p, end, shapeb, sizeof(shapeb))
				: NULL;
	const char *slice = shape ? next_line(&p, end, sliceb,
					      sizeof(sliceb)) : NULL;
	const uint8_t *bytes = (const uint8_t *)p;
	size_t nbytes = (size_t)(end - p);
	size_t half = nbytes / 2;

	struct mv_target *t;
	if (mv_target_create_buffer(&t))
		return 0;
	if (half)
		mv_error_destroy(mv_target_add_buffer(t, BASE, bytes, half,
						      MV_PERM_R));
	if (nbytes - half)
		mv_error_destroy(mv_target_add_buffer(t, BASE + half + 64,
						      bytes + half,
						      nbytes - half,
						      MV_PERM_R));
	uint64_t len = nbytes + 64;

	struct mv_buf out;
	mv_buf_init(&out);
	struct mv_view_sink sink = {.out = &out};
	struct mv_view_report rep;
	struct mv_error *err;

	struct mv_cast_opts o;
	memset(&o, 0, sizeof(o));
	err = mv_cast_parse_format(fmt && *fmt ? fmt : "B", &o.fmt);
	if (!err && shape && *shape) {
		err = mv_cast_parse_shape(shape, o.dims, &o.ndims);
		o.has_shape = !err;
	}
	if (!err && slice && *slice) {
		err = mv_cast_parse_slice(slice, &o.slice);
		o.has_slice = !err;
	}
	if (!err)
		err = mv_cast_check(&o, len);
	if (!err) {
		memset(&rep, 0, sizeof(rep));
		err = mv_view_cast(t, BASE, &o, &sink, &rep);
		mv_error_destroy(err);
		mv_buf_clear(&out);
		o.json = true;
		memset(&rep, 0, sizeof(rep));
		err = mv_view_cast(t, BASE, &o, &sink, &rep);
		mv_buf_clear(&out);
	}
	mv_error_destroy(err);

	struct mv_hex_opts h;
	memset(&h, 0, sizeof(h));
	h.width = nbytes ? 1 + bytes[0] % MV_HEX_MAX_WIDTH : 16;
	h.group = nbytes > 1 ? bytes[1] % 40 : 2;
	memset(&rep, 0, sizeof(rep));
	mv_error_destroy(mv_view_hex(t, BASE - 8, len + 16, &h, &sink, &rep));
	mv_buf_deinit(&out);

	/* The command, over the same memory. */
	struct mv_session *s;
	if (!mv_session_create(&s)) {
		mv_session_set_output(s, mv_fuzz_discard, NULL);
		if (!mv_session_open_callback(s, read_none, NULL)) {
			if (half)
				mv_error_destroy(mv_target_add_buffer(
					s->target, BASE, bytes, half,
					MV_PERM_R));
			char lenb[32];
			snprintf(lenb, sizeof(lenb), "%zu", (size_t)len);
			const char *argv[16];
			int n = 0;
			argv[n++] = "view";
			if (fmt && *fmt) {
				argv[n++] = "--as";
				argv[n++] = fmt;
			}
			if (shape && *shape) {
				argv[n++] = "--shape";
				argv[n++] = shape;
			}
			if (slice && *slice) {
				argv[n++] = "--slice";
				argv[n++] = slice;
			}
			argv[n++] = "0x10000";
			argv[n++] = lenb;
			mv_error_destroy(mv_session_run(s, n, argv));
			argv[n++] = "--json";
			mv_error_destroy(mv_session_run(s, n, argv));
		}
		mv_session_destroy(s);
	}
	mv_target_destroy(t);
	return 0;
}
