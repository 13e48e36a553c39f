/* view_hex.c - hex dumps in xxd's default layout, and the chunked reader
 * every view uses.
 *
 * Speed comes from never touching a byte twice: whole lines are built
 * in place in the output buffer from a template (spaces and group gaps
 * precomputed), a table of hex pairs and a table of ASCII characters;
 * target bytes come from the core's mapping (peek) whenever they can.
 * Lines that need care (short, unreadable, coloured, changed) take a
 * slower path that produces the same columns. */
#include <string.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "target.h"
#include "view.h"

/* ---- reader ---- */

struct mv_error *mv_view_reader_init(struct mv_view_reader *r,
				     struct mv_target *t, size_t chunk,
				     struct mv_view_report *report)
{
	r->t = t;
	r->cap = chunk;
	r->report = report;
	r->buf = malloc(chunk ? chunk : 1);
	return r->buf ? NULL : mv_enomem;
}

void mv_view_reader_deinit(struct mv_view_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static void note_unreadable(struct mv_view_report *rep, uint64_t start,
			    uint64_t end)
{
	rep->unreadable += end - start;
	if (rep->nspans && rep->spans[rep->nspans - 1].end == start) {
		rep->spans[rep->nspans - 1].end = end;
		return;
	}
	if (rep->spans_total++ < MV_VIEW_MAX_SPANS)
		rep->spans[rep->nspans++] = (struct mv_view_span){start, end};
}

/* Where reading may succeed again after a failure at f: the next
 * readable region if f is in none, else the next page (a live process
 * can have a hole inside a region). */
static uint64_t resume_after(struct mv_target *t, uint64_t f)
{
	if (mv_target_is_mapped(t, f)) {
		uint64_t next = (f | (MV_PAGE_SIZE - 1)) + 1;
		return next ? next : UINT64_MAX;
	}
	const struct mv_region *regs;
	size_t n = mv_target_regions(t, &regs);
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (regs[mid].start <= f)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n; lo++)
		if (mv_target_is_mapped(t, regs[lo].start))
			return regs[lo].start;
	return UINT64_MAX;
}

size_t mv_view_reader_get(struct mv_view_reader *r, uint64_t address,
			  size_t len, const uint8_t **data, size_t *skip)
{
	*skip = 0;
	const void *p = mv_target_peek(r->t, address, len);
	if (p) {
		*data = p;
		r->report->readable += len;
		return len;
	}
	size_t n = mv_target_read_partial(r->t, address, r->buf, len);
	*data = r->buf;
	r->report->readable += n;
	if (n == len)
		return n;
	uint64_t f = address + n;
	uint64_t resume = r->t ? resume_after(r->t, f) : UINT64_MAX;
	uint64_t end = address + len;
	if (resume > end || resume <= f)
		resume = end;
	*skip = (size_t)(resume - f);
	note_unreadable(r->report, f, resume);
	return n;
}

struct mv_error *mv_view_sink_flush(struct mv_view_sink *sink, bool force)
{
	if (sink->out->oom)
		return mv_enomem;
	if (!sink->flush || (!force && sink->out->len < MV_VIEW_FLUSH_BYTES))
		return NULL;
	return sink->flush(sink->arg);
}

/* ---- hex ---- */

#define COLOR_ADDR "\033[32m"
#define COLOR_BAD "\033[2m"
#define COLOR_CHANGED "\033[1;31m"
#define COLOR_OFF "\033[0m"

struct hex {
	const struct mv_hex_opts *o;
	struct mv_buf *out;
	unsigned width, group;
	size_t hexw;          /* hex area: pairs, group gaps, one space */
	size_t pos[MV_HEX_MAX_WIDTH]; /* column of byte i in the hex area */
	/* The bytes in the order of their columns: 0, 1, 2... except in
	 * little-endian groups (3, 2, 1, 0, 7, 6...). */
	unsigned order[MV_HEX_MAX_WIDTH];
	char pair[256][2];
	char ascii[256];
	uint64_t start;       /* of the whole range, for --diff offsets */
	/* The line being assembled when it spans readable and unreadable
	 * bytes or two reads. */
	uint8_t line[MV_HEX_MAX_WIDTH];
	bool valid[MV_HEX_MAX_WIDTH];
	unsigned fill;
	uint64_t line_addr;
	uint64_t bad_lines;   /* consecutive all-unreadable lines */
	struct mv_error *err; /* from after_line: stops the dump */
};

static void hex_tables(struct hex *h)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned b = 0; b < 256; b++) {
		h->pair[b][0] = digits[b >> 4];
		h->pair[b][1] = digits[b & 15];
		/* xxd shows printable ASCII, a dot for everything else. */
		h->ascii[b] = b >= 0x20 && b < 0x7f ? (char)b : '.';
	}
	unsigned g = h->group;
	size_t col = 0;
	for (unsigned i = 0; i < h->width; i++) {
		h->pos[i] = col;
		col += 2;
		if ((i + 1) % g == 0 || i + 1 == h->width)
			col++;
	}
	/* xxd -e: the bytes of a group right to left, each group keeping
	 * its columns (a short last line leaves the missing bytes' columns
	 * blank, on the left of their group). */
	for (unsigned i = 0; i < h->width; i++)
		h->order[i] = i;
	if (h->o->little_endian)
		for (unsigned first = 0; first < h->width; first += g) {
			size_t base = h->pos[first];
			for (unsigned k = 0; k < g && first + k < h->width; k++) {
				h->pos[first + k] = base + 2 * (g - 1 - k);
				h->order[first + g - 1 - k] = first + k;
			}
		}
	/* xxd separates the hex area from the text by one more space. */
	h->hexw = col + 1;
}

/* "%08llx: " as xxd writes it, without printf: digits two at a time
 * from the pair table. */
static char *put_address(const struct hex *h, char *p, uint64_t a)
{
	unsigned n = 8;
	while (n < 16 && (a >> (n * 4)))
		n++;
	if (n & 1) {
		*p++ = h->pair[(a >> ((n - 1) * 4)) & 15][1];
		n--;
	}
	for (unsigned i = n / 2; i-- > 0; p += 2)
		memcpy(p, h->pair[(a >> (i * 8)) & 0xff], 2);
	*p++ = ':';
	*p++ = ' ';
	return p;
}

/* The hex area and text of a whole line.  Inlined with constant width
 * and group for xxd's default layout, so that the loops unroll. */
static inline __attribute__((always_inline)) char *
line_body(const struct hex *h, char *p, const uint8_t *data, unsigned w,
	  unsigned g)
{
	for (unsigned i = 0; i < w;) {
		unsigned end = i + g < w ? i + g : w;
		for (; i < end; i++, p += 2)
			memcpy(p, h->pair[data[i]], 2);
		*p++ = ' ';
	}
	*p++ = ' ';
	for (unsigned i = 0; i < w; i++)
		p[i] = h->ascii[data[i]];
	p += w;
	*p++ = '\n';
	return p;
}

static void after_line(struct hex *h, uint64_t addr, unsigned n)
{
	if (h->o->after_line && !h->err)
		h->err = h->o->after_line(h->o->after_line_arg, h->out, addr,
					  n);
}

static bool is_changed(struct hex *h, uint64_t addr, uint8_t byte)
{
	const struct mv_hex_opts *o = h->o;
	if (!o->prev)
		return false;
	uint64_t off = addr - h->start;
	if (off >= o->prev_len)
		return false;
	if (o->prev_valid && !(o->prev_valid[off / 8] & (1u << (off % 8))))
		return false;
	return o->prev[off] != byte;
}

#ifdef __SSE2__
/* Sixteen bytes at once (SSE2 is part of x86-64): hex digits by nibble
 * arithmetic, the text column by a printable mask. */
static inline __attribute__((always_inline)) char *
line_body16(char *p, const uint8_t *data, unsigned g)
{
	__m128i v = _mm_loadu_si128((const __m128i *)data);
	__m128i lo_mask = _mm_set1_epi8(0x0f);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), lo_mask);
	__m128i lo = _mm_and_si128(v, lo_mask);
	__m128i nine = _mm_set1_epi8(9);
	__m128i zero = _mm_set1_epi8('0');
	__m128i gap = _mm_set1_epi8('a' - '0' - 10);
	hi = _mm_add_epi8(_mm_add_epi8(hi, zero),
			  _mm_and_si128(_mm_cmpgt_epi8(hi, nine), gap));
	lo = _mm_add_epi8(_mm_add_epi8(lo, zero),
			  _mm_and_si128(_mm_cmpgt_epi8(lo, nine), gap));
	char hex[32];
	_mm_storeu_si128((__m128i *)hex, _mm_unpacklo_epi8(hi, lo));
	_mm_storeu_si128((__m128i *)(hex + 16), _mm_unpackhi_epi8(hi, lo));
	if (g == 2) {
		for (unsigned k = 0; k < 8; k++, p += 5) {
			memcpy(p, hex + 4 * k, 4);
			p[4] = ' ';
		}
	} else {
		for (unsigned i = 0; i < 16; i += g) {
			unsigned n = i + g < 16 ? g : 16 - i;
			memcpy(p, hex + 2 * i, 2 * n);
			p += 2 * n;
			*p++ = ' ';
		}
	}
	*p++ = ' ';
	/* Printable ASCII is 0x20..0x7e; as signed bytes, everything from
	 * 0x80 up is negative and fails the first test. */
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)),
				   _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)));
	__m128i text = _mm_or_si128(_mm_and_si128(ok, v),
				    _mm_andnot_si128(ok, _mm_set1_epi8('.')));
	_mm_storeu_si128((__m128i *)p, text);
	p += 16;
	*p++ = '\n';
	return p;
}
#endif

/* A whole readable line, straight from data: the hot path. */
static void line_fast(struct hex *h, uint64_t addr, const uint8_t *data)
{
	struct mv_buf *b = h->out;
	unsigned w = h->width;
	if (h->o->color)
		mv_buf_puts(b, COLOR_ADDR);
	if (!mv_buf_reserve(b, 20 + h->hexw + w + 1 + sizeof(COLOR_OFF)))
		return;
	char *p = put_address(h, b->data + b->len, addr);
	if (h->o->color) {
		/* The colour ends before ": ", as the address's own. */
		p -= 2;
		memcpy(p, COLOR_OFF ": ", sizeof(COLOR_OFF ": ") - 1);
		p += sizeof(COLOR_OFF ": ") - 1;
	}
#ifdef __SSE2__
	if (w == 16)
		p = line_body16(p, data, h->group);
	else
#endif
	if (w == 16 && h->group == 2)
		p = line_body(h, p, data, 16, 2);
	else
		p = line_body(h, p, data, w, h->group);
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
}

/* Any line: n bytes (n <= width), valid[i] false for unreadable ones;
 * colours and --diff marks. */
static void line_slow(struct hex *h, uint64_t addr, const uint8_t *data,
		      const bool *valid, unsigned n)
{
	struct mv_buf *b = h->out;
	bool color = h->o->color;
	bool marks[MV_HEX_MAX_WIDTH];
	bool any_mark = false;
	char tmp[24];
	char *e = put_address(h, tmp, addr);
	if (color) {
		mv_buf_puts(b, COLOR_ADDR);
		mv_buf_append(b, tmp, (size_t)(e - tmp) - 2);
		mv_buf_puts(b, COLOR_OFF ": ");
	} else {
		mv_buf_append(b, tmp, (size_t)(e - tmp));
	}
	size_t col = 0;
	for (unsigned i = 0; i < n; i++)
		marks[i] = valid[i] && is_changed(h, addr + i, data[i]);
	for (unsigned j = 0; j < h->width; j++) {
		unsigned i = h->order[j];
		if (i >= n)
			continue;
		mv_buf_pad(b, ' ', h->pos[i] - col);
		col = h->pos[i] + 2;
		any_mark |= marks[i];
		if (!valid[i]) {
			if (color)
				mv_buf_puts(b, COLOR_BAD "??" COLOR_OFF);
			else
				mv_buf_puts(b, "??");
		} else if (color && marks[i]) {
			mv_buf_puts(b, COLOR_CHANGED);
			mv_buf_append(b, h->pair[data[i]], 2);
			mv_buf_puts(b, COLOR_OFF);
		} else {
			mv_buf_append(b, h->pair[data[i]], 2);
		}
	}
	mv_buf_pad(b, ' ', h->hexw - col);
	for (unsigned i = 0; i < n; i++) {
		char c = valid[i] ? h->ascii[data[i]] : '?';
		if (color && (marks[i] || !valid[i])) {
			mv_buf_puts(b, marks[i] ? COLOR_CHANGED : COLOR_BAD);
			mv_buf_putc(b, c);
			mv_buf_puts(b, COLOR_OFF);
		} else {
			mv_buf_putc(b, c);
		}
	}
	mv_buf_putc(b, '\n');
	if (!any_mark || color)
		return;
	/* Without colour, carets under the bytes that changed. */
	mv_buf_pad(b, ' ', (size_t)(e - tmp));
	col = 0;
	for (unsigned j = 0; j < h->width; j++) {
		unsigned i = h->order[j];
		if (i >= n || !marks[i])
			continue;
		mv_buf_pad(b, ' ', h->pos[i] - col);
		mv_buf_puts(b, "^^");
		col = h->pos[i] + 2;
	}
	mv_buf_pad(b, ' ', h->hexw - col);
	size_t last = 0;
	for (unsigned i = 0; i < n; i++)
		if (marks[i])
			last = i + 1;
	for (unsigned i = 0; i < last; i++)
		mv_buf_putc(b, marks[i] ? '^' : ' ');
	mv_buf_putc(b, '\n');
}

static bool line_has_marks(struct hex *h, uint64_t addr, const uint8_t *data,
			   unsigned n)
{
	if (!h->o->prev || addr - h->start >= h->o->prev_len)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (is_changed(h, addr + i, data[i]))
			return true;
	return false;
}

/* Emits the assembled line; runs of unreadable lines collapse to "*"
 * after the first, as xxd -a does for runs of zeros. */
static void flush_line(struct hex *h)
{
	if (!h->fill)
		return;
	bool any = false;
	for (unsigned i = 0; i < h->fill; i++)
		any |= h->valid[i];
	if (!any && h->fill == h->width) {
		if (h->bad_lines++ == 1)
			mv_buf_puts(h->out, "*\n");
		if (h->bad_lines > 1) {
			h->line_addr += h->fill;
			h->fill = 0;
			return;
		}
	} else {
		h->bad_lines = 0;
	}
	line_slow(h, h->line_addr, h->line, h->valid, h->fill);
	after_line(h, h->line_addr, h->fill);
	h->line_addr += h->fill;
	h->fill = 0;
}

/* Adds n bytes at addr (data NULL: unreadable) to the dump. */
static void hex_feed(struct hex *h, uint64_t addr, const uint8_t *data,
		     uint64_t n)
{
	unsigned w = h->width;
	bool plain = !h->o->color && !h->o->prev;
	/* Little-endian groups are laid out byte by byte. */
	bool fast = !h->o->little_endian;
	while (n) {
		if (h->fill || n < w || !data || !fast) {
			if (!h->fill)
				h->line_addr = addr;
			unsigned take = w - h->fill;
			if (take > n)
				take = (unsigned)n;
			if (data)
				memcpy(h->line + h->fill, data, take);
			memset(h->valid + h->fill, data != NULL, take);
			h->fill += take;
			if (data)
				data += take;
			addr += take;
			n -= take;
			if (h->fill == w)
				flush_line(h);
			continue;
		}
		h->bad_lines = 0;
		if (plain || !line_has_marks(h, addr, data, w)) {
			line_fast(h, addr, data);
		} else {
			bool valid[MV_HEX_MAX_WIDTH];
			memset(valid, 1, w);
			line_slow(h, addr, data, valid, w);
		}
		after_line(h, addr, w);
		data += w;
		addr += w;
		n -= w;
	}
}

/* JSON: the bytes as one hex string, ?? for unreadable ones. */
static void hex_feed_string(struct hex *h, const uint8_t *data, uint64_t n)
{
	struct mv_buf *b = h->out;
	if (!mv_buf_reserve(b, 2 * n))
		return;
	char *p = b->data + b->len;
	for (uint64_t i = 0; i < n; i++, p += 2)
		memcpy(p, data ? h->pair[data[i]] : "??", 2);
	b->len += 2 * n;
	b->data[b->len] = '\0';
}

struct mv_error *mv_view_hex(struct mv_target *t, uint64_t address,
			     uint64_t len, const struct mv_hex_opts *opts,
			     struct mv_view_sink *sink,
			     struct mv_view_report *report)
{
	struct hex *h = calloc(1, sizeof(*h));
	if (!h)
		return mv_enomem;
	h->o = opts;
	h->out = sink->out;
	h->width = opts->width;
	if (h->width < 1)
		h->width = 1;
	if (h->width > MV_HEX_MAX_WIDTH)
		h->width = MV_HEX_MAX_WIDTH;
	h->group = opts->group && opts->group < h->width ? opts->group
							 : h->width;
	h->start = address;
	hex_tables(h);

	/* Chunks hold whole lines so that most lines are built straight
	 * from the mapping.  With --pointers a line of 16 bytes can carry
	 * two more lines of ~150 bytes: a chunk a sixteenth the size keeps
	 * its output near the flush size, and the polls (each 1 MiB of
	 * memory, and at each flush) that often. */
	size_t chunk = (MV_VIEW_FLUSH_BYTES / (opts->after_line ? 16 : 1) /
			h->width) * h->width;
	if (!chunk)
		chunk = h->width;
	struct mv_view_reader r;
	struct mv_error *err = mv_view_reader_init(&r, t, chunk, report);
	if (err) {
		free(h);
		return err;
	}
	uint64_t done = 0, polled = 0;
	while (done < len) {
		uint64_t want = len - done < chunk ? len - done : chunk;
		const uint8_t *data;
		size_t skip;
		size_t n = mv_view_reader_get(&r, address + done, (size_t)want,
					      &data, &skip);
		if (opts->hex_only) {
			hex_feed_string(h, data, n);
			hex_feed_string(h, NULL, skip);
		} else {
			hex_feed(h, address + done, data, n);
			hex_feed(h, address + done + n, NULL, skip);
		}
		done += n + skip;
		size_t before = sink->out->len;
		if ((err = h->err) || (err = mv_view_sink_flush(sink, false))) {
			/* The front end's poll at a piece of output: said
			 * as the dump's own (below). */
			if (mv_error_code(err) == MV_ERR_INTERRUPTED &&
			    !strcmp(mv_error_message(err), "interrupted")) {
				mv_error_destroy(err);
				err = mv_error_create(
					MV_ERR_INTERRUPTED,
					"interrupted after %llu of %llu bytes",
					(unsigned long long)done,
					(unsigned long long)len);
			}
			break;
		}
		/* Output flushed (a slow terminal may take its time over
		 * it) is a time to poll too. */
		if (done - polled >= MV_VIEW_POLL_BYTES ||
		    sink->out->len < before) {
			polled = done;
			if (sink->poll && sink->poll()) {
				/* Where the dump stops: its lines say
				 * the rest. */
				err = mv_error_create(
					MV_ERR_INTERRUPTED,
					"interrupted after %llu of %llu bytes",
					(unsigned long long)done,
					(unsigned long long)len);
				break;
			}
		}
	}
	if (!err && !opts->hex_only) {
		/* A dump ending in a run of unreadable lines shows its last
		 * line, so the reader sees where the run stops. */
		if (!h->fill && h->bad_lines > 1) {
			bool valid[MV_HEX_MAX_WIDTH] = {0};
			line_slow(h, h->line_addr - h->width, h->line, valid,
				  h->width);
		}
		flush_line(h);
		err = h->err;
	}
	mv_view_reader_deinit(&r);
	free(h);
	if (!err && sink->out->oom)
		err = mv_enomem;
	return err;
}
