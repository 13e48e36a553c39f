/* view_cast.c - casts of target bytes to struct-module formats, printed
 * as memoryview(...).cast(fmt, shape)[slice].tolist() prints them.
 *
 * The rules and the error messages are memoryview's (CPython 3.11,
 * Objects/memoryobject.c) so that a Python user reads the same thing;
 * explicit byte orders are struct's, which memoryview does not take. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define MV_FMT_MSG                                                        \
	"memoryview: destination format must be a native single character " \
	"format prefixed with an optional '@'"

/* ---- parsing ---- */

static unsigned native_size(char c)
{
	switch (c) {
	case 'c': case 'b': case 'B': case '?':
		return 1;
	case 'h': case 'H':
		return 2;
	case 'i': case 'I': case 'f':
		return 4;
	case 'l': case 'L': case 'q': case 'Q': case 'n': case 'N':
	case 'd': case 'P':
		return 8;
	default:
		return 0; /* 'e' too: memoryview 3.11 does not cast to it */
	}
}

/* struct's standard sizes, for explicit byte orders. */
static unsigned standard_size(char c)
{
	switch (c) {
	case 'c': case 'b': case 'B': case '?':
		return 1;
	case 'h': case 'H': case 'e':
		return 2;
	case 'i': case 'I': case 'l': case 'L': case 'f':
		return 4;
	case 'q': case 'Q': case 'd':
		return 8;
	default:
		return 0;
	}
}

struct mv_error *mv_cast_parse_format(const char *text,
				      struct mv_cast_format *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!text)
		text = "";
	if (text[0] && strchr("<>=!", text[0])) {
		unsigned size = text[1] && !text[2] ? standard_size(text[1]) : 0;
		if (!size)
			return mv_error_create(
				MV_ERR_USAGE,
				"format '%s': a byte order (%c) takes one "
				"fixed-size code: b B c ? h H i I l L q Q e f d",
				text, text[0]);
		ret->code = text[1];
		ret->order = text[0];
		ret->itemsize = size;
		ret->swap = text[0] == '>' || text[0] == '!';
		return NULL;
	}
	const char *c = text[0] == '@' ? text + 1 : text;
	unsigned size = c[0] && !c[1] ? native_size(c[0]) : 0;
	if (!size) {
		if (c[0] == 'e' && !c[1])
			return mv_error_create(MV_ERR_USAGE,
					       MV_FMT_MSG " (got '%s'; half floats "
					       "need a byte order: '<e')", text);
		return mv_error_create(MV_ERR_USAGE, MV_FMT_MSG " (got '%s')",
				       text);
	}
	ret->code = c[0];
	ret->order = '@';
	ret->itemsize = size;
	return NULL;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

struct mv_error *mv_cast_parse_shape(const char *text, int64_t *dims,
				     size_t *ndims)
{
	const char *p = skip_space(text);
	char close = 0;
	if (*p == '[' || *p == '(') {
		close = *p == '[' ? ']' : ')';
		p = skip_space(p + 1);
	}
	size_t n = 0;
	while (*p && *p != close) {
		errno = 0;
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno == ERANGE)
			return mv_error_create(MV_ERR_USAGE,
					       "--shape expects dimensions like "
					       "2x3 or 2,3, not '%s'", text);
		if (n == MV_CAST_MAX_DIMS)
			return mv_error_create(MV_ERR_USAGE,
					       "memoryview: number of dimensions "
					       "must not exceed %d",
					       MV_CAST_MAX_DIMS);
		dims[n++] = v;
		p = skip_space(end);
		if (*p == 'x' || *p == 'X' || *p == ',' || *p == '*')
			p = skip_space(p + 1);
		else if (*p && *p != close)
			return mv_error_create(MV_ERR_USAGE,
					       "--shape expects dimensions like "
					       "2x3 or 2,3, not '%s'", text);
	}
	if (close && *p != close)
		return mv_error_create(MV_ERR_USAGE,
				       "--shape: missing '%c' in '%s'", close,
				       text);
	if (close && *skip_space(p + 1))
		return mv_error_create(MV_ERR_USAGE,
				       "--shape: unexpected text after '%c' in "
				       "'%s'", close, text);
	*ndims = n;
	return NULL;
}

static struct mv_error *slice_part(const char *text, const char *p,
				   const char *end, bool *has, int64_t *v)
{
	p = skip_space(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end) {
		*has = false;
		return NULL;
	}
	errno = 0;
	char *e;
	long long x = strtoll(p, &e, 10);
	if (e != end || errno == ERANGE)
		return mv_error_create(MV_ERR_USAGE,
				       "--slice expects START:STOP:STEP with "
				       "integers, not '%s'", text);
	*has = true;
	*v = x;
	return NULL;
}

struct mv_error *mv_cast_parse_slice(const char *text,
				     struct mv_cast_slice *ret)
{
	memset(ret, 0, sizeof(*ret));
	const char *c1 = strchr(text, ':');
	if (!c1)
		return mv_error_create(MV_ERR_USAGE,
				       "--slice expects START:STOP[:STEP] "
				       "(a Python slice), not '%s'", text);
	const char *c2 = strchr(c1 + 1, ':');
	if (c2 && strchr(c2 + 1, ':'))
		return mv_error_create(MV_ERR_USAGE,
				       "--slice expects START:STOP[:STEP], not "
				       "'%s'", text);
	bool has_step = false;
	struct mv_error *err;
	if ((err = slice_part(text, text, c1, &ret->has_start, &ret->start)))
		return err;
	const char *stop_end = c2 ? c2 : c1 + 1 + strlen(c1 + 1);
	if ((err = slice_part(text, c1 + 1, stop_end, &ret->has_stop,
			      &ret->stop)))
		return err;
	ret->step = 1;
	if (c2 && (err = slice_part(text, c2 + 1, c2 + 1 + strlen(c2 + 1),
				    &has_step, &ret->step)))
		return err;
	if (!has_step)
		ret->step = 1;
	if (ret->step == 0)
		return mv_error_create(MV_ERR_USAGE,
				       "slice step cannot be zero");
	return NULL;
}

/* PySlice_AdjustIndices: the first index and the count of a slice over
 * a dimension of length len. */
static uint64_t slice_adjust(const struct mv_cast_slice *s, int64_t len,
			     int64_t *first)
{
	int64_t step = s->step, start, stop;
	if (!s->has_start) {
		start = step < 0 ? len - 1 : 0;
	} else {
		start = s->start;
		if (start < 0) {
			start += len;
			if (start < 0)
				start = step < 0 ? -1 : 0;
		} else if (start >= len) {
			start = step < 0 ? len - 1 : len;
		}
	}
	if (!s->has_stop) {
		stop = step < 0 ? -1 : len;
	} else {
		stop = s->stop;
		if (stop < 0) {
			stop += len;
			if (stop < 0)
				stop = step < 0 ? -1 : 0;
		} else if (stop >= len) {
			stop = step < 0 ? len - 1 : len;
		}
	}
	*first = start;
	if (step < 0)
		return stop < start ? (uint64_t)((start - stop - 1) / -step + 1)
				    : 0;
	return start < stop ? (uint64_t)((stop - start - 1) / step + 1) : 0;
}

struct mv_error *mv_cast_check(struct mv_cast_opts *o, uint64_t len)
{
	unsigned size = o->fmt.itemsize;
	if (o->ndims > MV_CAST_MAX_DIMS)
		return mv_error_create(MV_ERR_USAGE,
				       "memoryview: number of dimensions must "
				       "not exceed %d", MV_CAST_MAX_DIMS);
	if (len % size)
		return mv_error_create(MV_ERR_USAGE,
				       "memoryview: length is not a multiple of "
				       "itemsize (%llu bytes, itemsize %u)",
				       (unsigned long long)len, size);
	if (!o->has_shape) {
		o->dims[0] = (int64_t)(len / size);
		o->ndims = 1;
	} else {
		uint64_t product = 1;
		bool overflow = false;
		for (size_t i = 0; i < o->ndims; i++) {
			if (o->dims[i] <= 0)
				return mv_error_create(
					MV_ERR_USAGE,
					"memoryview.cast(): elements of shape "
					"must be integers > 0");
			if (product > UINT64_MAX / (uint64_t)o->dims[i])
				overflow = true;
			product *= (uint64_t)o->dims[i];
		}
		if (overflow || product > UINT64_MAX / size ||
		    product * size != len)
			return mv_error_create(
				MV_ERR_USAGE,
				"memoryview: product(shape) * itemsize != "
				"buffer size (%llu bytes)",
				(unsigned long long)len);
	}
	if (o->has_slice && o->ndims == 0)
		return mv_error_create(MV_ERR_USAGE,
				       "invalid indexing of 0-dim memory");
	return NULL;
}

/* ---- values ---- */

/* Decimal digits without printf: the cast of a million items is
 * mostly this. */
static char *put_u64(char *p, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	char tmp[24];
	char *e = tmp + sizeof(tmp), *q = e;
	while (v >= 100) {
		q -= 2;
		memcpy(q, pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, pairs + v * 2, 2);
	} else {
		*--q = (char)('0' + v);
	}
	memcpy(p, q, (size_t)(e - q));
	return p + (e - q);
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

/* Shortest "%.*e" digits that read back as v: the digits of Python's
 * repr (David Gay's shortest mode).  More digits never stop a string
 * from reading back, so a binary search over the precision works. */
static int shortest_e(double v, char *buf, size_t size)
{
	int lo = 0, hi = 16;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, size, "%.*e", mid, v);
		if (strtod(buf, NULL) == v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return snprintf(buf, size, "%.*e", lo, v);
}

void mv_format_float_repr(double v, struct mv_buf *out)
{
	if (isnan(v)) {
		mv_buf_puts(out, "nan");
		return;
	}
	if (isinf(v)) {
		mv_buf_puts(out, v < 0 ? "-inf" : "inf");
		return;
	}
	char e[40];
	shortest_e(v, e, sizeof(e));
	/* e is "-d.ddde+XX": collect the digits and the exponent. */
	const char *p = e;
	bool neg = *p == '-';
	if (neg)
		p++;
	char digits[24];
	size_t nd = 0;
	for (; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p) && nd < sizeof(digits) - 1)
			digits[nd++] = *p;
	digits[nd] = '\0';
	int exp10 = *p == 'e' ? atoi(p + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	int decpt = exp10 + 1; /* v = 0.DIGITS * 10^decpt */
	if (neg)
		mv_buf_putc(out, '-');
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			mv_buf_puts(out, "0.");
			mv_buf_pad(out, '0', (size_t)-decpt);
			mv_buf_append(out, digits, nd);
		} else if ((size_t)decpt < nd) {
			mv_buf_append(out, digits, (size_t)decpt);
			mv_buf_putc(out, '.');
			mv_buf_append(out, digits + decpt, nd - (size_t)decpt);
		} else {
			mv_buf_append(out, digits, nd);
			mv_buf_pad(out, '0', (size_t)decpt - nd);
			mv_buf_puts(out, ".0");
		}
		return;
	}
	mv_buf_putc(out, digits[0]);
	if (nd > 1) {
		mv_buf_putc(out, '.');
		mv_buf_append(out, digits + 1, nd - 1);
	}
	mv_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+',
		      exp10 < 0 ? -exp10 : exp10);
}

static double half_to_double(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v;
	if (exp == 0)
		v = ldexp(mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp(mant | 0x400, exp - 25);
	return sign ? -v : v;
}

/* bytes.__repr__ of one byte: b'x', b"'", b'\x00'. */
static void put_bytes_repr(struct mv_buf *out, uint8_t c)
{
	char q = c == '\'' ? '"' : '\'';
	char tmp[8];
	size_t n = 0;
	tmp[n++] = 'b';
	tmp[n++] = q;
	if (c == '\\') {
		tmp[n++] = '\\';
		tmp[n++] = '\\';
	} else if (c == '\t' || c == '\n' || c == '\r') {
		tmp[n++] = '\\';
		tmp[n++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
	} else if (c < 0x20 || c >= 0x7f) {
		static const char hex[] = "0123456789abcdef";
		tmp[n++] = '\\';
		tmp[n++] = 'x';
		tmp[n++] = hex[c >> 4];
		tmp[n++] = hex[c & 15];
	} else {
		tmp[n++] = (char)c;
	}
	tmp[n++] = q;
	mv_buf_append(out, tmp, n);
}

static void put_item(struct mv_buf *out, const struct mv_cast_format *f,
		     const uint8_t *src, bool json)
{
	uint8_t b[8];
	memcpy(b, src, f->itemsize);
	if (f->swap)
		for (unsigned i = 0; i < f->itemsize / 2; i++) {
			uint8_t t = b[i];
			b[i] = b[f->itemsize - 1 - i];
			b[f->itemsize - 1 - i] = t;
		}
	if (!mv_buf_reserve(out, 32))
		return;
	char *p = out->data + out->len;
	switch (f->code) {
	case 'b': p = put_i64(p, (int8_t)b[0]); break;
	case 'B': p = put_u64(p, b[0]); break;
	case 'h': { int16_t v; memcpy(&v, b, 2); p = put_i64(p, v); break; }
	case 'H': { uint16_t v; memcpy(&v, b, 2); p = put_u64(p, v); break; }
	case 'i': { int32_t v; memcpy(&v, b, 4); p = put_i64(p, v); break; }
	case 'I': { uint32_t v; memcpy(&v, b, 4); p = put_u64(p, v); break; }
	case 'l': case 'q': case 'n':
		if (f->itemsize == 4) {
			int32_t v;
			memcpy(&v, b, 4);
			p = put_i64(p, v);
		} else {
			int64_t v;
			memcpy(&v, b, 8);
			p = put_i64(p, v);
		}
		break;
	case 'P':
		/* Addresses read in hex: the text view's one departure from
		 * Python's repr (JSON keeps memoryview's numbers). */
		if (!json) {
			uint64_t v = 0;
			memcpy(&v, b, f->itemsize < 8 ? f->itemsize : 8);
			p += sprintf(p, "0x%llx", (unsigned long long)v);
			break;
		}
		/* fall through */
	case 'L': case 'Q': case 'N':
		if (f->itemsize == 4) {
			uint32_t v;
			memcpy(&v, b, 4);
			p = put_u64(p, v);
		} else {
			uint64_t v;
			memcpy(&v, b, 8);
			p = put_u64(p, v);
		}
		break;
	case '?':
		if (json)
			p = stpcpy(p, b[0] ? "true" : "false");
		else
			p = stpcpy(p, b[0] ? "True" : "False");
		break;
	case 'c':
		if (json) {
			struct mv_json j;
			mv_json_init(&j, out, false);
			mv_json_string_len(&j, (const char *)b, 1);
		} else {
			put_bytes_repr(out, b[0]);
		}
		return;
	case 'f': case 'd': case 'e': {
		double d;
		if (f->code == 'f') {
			float x;
			memcpy(&x, b, 4);
			d = x;
		} else if (f->code == 'd') {
			memcpy(&d, b, 8);
		} else {
			uint16_t x;
			memcpy(&x, b, 2);
			d = half_to_double(x);
		}
		if (json && (isnan(d) || isinf(d))) {
			/* JSON has no NaN or infinity. */
			mv_buf_printf(out, "\"%s\"", isnan(d) ? "nan"
						     : d > 0 ? "inf" : "-inf");
			return;
		}
		mv_format_float_repr(d, out);
		return;
	}
	}
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
}

/* ---- the nested list ---- */

/* Feeds item bytes in view order: runs of contiguous items (one run
 * without a slice or with step 1, one per first-dimension index
 * otherwise), read in windows of whole items. */
struct feed {
	struct mv_view_reader r;
	uint64_t base;          /* address of the whole range */
	uint64_t row_items;     /* items per first-dimension index */
	int64_t first, step;
	uint64_t nruns, run_items;
	uint64_t run, in_run;   /* position */
	/* The current window. */
	const uint8_t *win;
	uint64_t win_items, win_pos;
	uint8_t *asm_buf;       /* windows assembled around bad bytes */
	uint8_t *asm_bad;       /* per item: could not be read */
	const uint8_t *bad;     /* NULL when the window is all readable */
	size_t cap_items;
	unsigned itemsize;
};

static void feed_window(struct feed *f)
{
	uint64_t run_start;
	if (f->nruns == 1)
		run_start = (uint64_t)f->first * f->row_items;
	else
		run_start = (uint64_t)(f->first + (int64_t)f->run * f->step) *
			    f->row_items;
	uint64_t item = run_start + f->in_run;
	uint64_t left = f->run_items - f->in_run;
	uint64_t n = left < f->cap_items ? left : f->cap_items;
	uint64_t addr = f->base + item * f->itemsize;
	size_t want = (size_t)(n * f->itemsize);
	const uint8_t *data;
	size_t skip;
	size_t got = mv_view_reader_get(&f->r, addr, want, &data, &skip);
	f->win_items = n;
	f->win_pos = 0;
	if (got == want) {
		f->win = data;
		f->bad = NULL;
		return;
	}
	/* Assemble: readable pieces copied, items touching an unreadable
	 * byte marked. */
	memset(f->asm_bad, 0, (size_t)n);
	size_t done = 0;
	for (;;) {
		memcpy(f->asm_buf + done, data, got);
		for (size_t b = done + got; b < done + got + skip; b++)
			f->asm_bad[b / f->itemsize] = 1;
		done += got + skip;
		if (done >= want)
			break;
		got = mv_view_reader_get(&f->r, addr + done, want - done, &data,
					 &skip);
	}
	f->win = f->asm_buf;
	f->bad = f->asm_bad;
}

/* The next item's bytes, or NULL if they cannot be read. */
static const uint8_t *feed_next(struct feed *f)
{
	if (f->win_pos == f->win_items)
		feed_window(f);
	uint64_t i = f->win_pos++;
	const uint8_t *p = f->win + i * f->itemsize;
	if (++f->in_run == f->run_items) {
		f->in_run = 0;
		f->run++;
		f->win_items = f->win_pos; /* a new run needs a new window */
	}
	return f->bad && f->bad[i] ? NULL : p;
}

struct mv_error *mv_view_cast(struct mv_target *t, uint64_t address,
			      const struct mv_cast_opts *o,
			      struct mv_view_sink *sink,
			      struct mv_view_report *report)
{
	struct mv_buf *out = sink->out;
	const char *sep = o->json ? "," : ", ";
	size_t seplen = strlen(sep);
	const char *none = o->json ? "null" : "None";
	size_t n = o->ndims;
	uint64_t dims[MV_CAST_MAX_DIMS];
	for (size_t i = 0; i < n; i++)
		dims[i] = (uint64_t)o->dims[i];
	struct feed f;
	memset(&f, 0, sizeof(f));
	f.itemsize = o->fmt.itemsize;
	f.base = address;
	f.row_items = 1;
	for (size_t i = 1; i < n; i++)
		f.row_items *= dims[i];
	f.first = 0;
	f.step = 1;
	uint64_t rows = n ? dims[0] : 1;
	if (o->has_slice) {
		rows = slice_adjust(&o->slice, (int64_t)dims[0], &f.first);
		f.step = o->slice.step;
		dims[0] = rows;
	}
	if (f.step == 1) {
		f.nruns = 1;
		f.run_items = rows * f.row_items;
	} else {
		f.nruns = rows;
		f.run_items = f.row_items;
	}
	uint64_t total = rows * f.row_items;
	f.cap_items = MV_VIEW_FLUSH_BYTES / f.itemsize;
	struct mv_error *err = mv_view_reader_init(
		&f.r, t, f.cap_items * f.itemsize, report);
	if (err)
		return err;
	f.asm_buf = malloc(f.cap_items * f.itemsize);
	f.asm_bad = malloc(f.cap_items);
	if (!f.asm_buf || !f.asm_bad) {
		err = mv_enomem;
		goto out;
	}

	if (n == 0) {
		const uint8_t *p = feed_next(&f);
		if (p)
			put_item(out, &o->fmt, p, o->json);
		else
			mv_buf_puts(out, none);
		goto out;
	}
	/* An odometer over the dimensions places the brackets. */
	uint64_t idx[MV_CAST_MAX_DIMS];
	memset(idx, 0, sizeof(idx));
	if (total == 0) {
		/* Only the first dimension can be empty (shape elements are
		 * > 0): an empty list, whatever the shape. */
		mv_buf_puts(out, "[]");
		goto out;
	}
	mv_buf_pad(out, '[', n);
	uint64_t polled = 0;
	for (uint64_t k = 0; k < total; k++) {
		const uint8_t *p = feed_next(&f);
		if (p)
			put_item(out, &o->fmt, p, o->json);
		else
			mv_buf_puts(out, none);
		size_t d = n;
		size_t closed = 0;
		while (d > 0) {
			d--;
			if (++idx[d] < dims[d])
				break;
			idx[d] = 0;
			closed++;
			if (d == 0)
				break;
		}
		mv_buf_pad(out, ']', closed);
		if (k + 1 < total) {
			mv_buf_append(out, sep, seplen);
			mv_buf_pad(out, '[', closed);
		}
		if (out->len >= MV_VIEW_FLUSH_BYTES) {
			if ((err = mv_view_sink_flush(sink, false)))
				goto out;
			if (k - polled >= MV_VIEW_POLL_BYTES / 8) {
				polled = k;
				if (sink->poll && sink->poll()) {
					err = mv_error_create(
						MV_ERR_INTERRUPTED,
						"interrupted");
					goto out;
				}
			}
		}
	}
out:
	mv_view_reader_deinit(&f.r);
	free(f.asm_buf);
	free(f.asm_bad);
	if (!err && out->oom)
		err = mv_enomem;
	return err;
}
