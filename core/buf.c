/* buf.c - growable buffers and the JSON writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define BIG_HDR 64                    /* keeps the user's data aligned */
/* Smaller blocks come from malloc.  Above this, a block is worth a huge
 * page even if it uses an eighth of it: on a virtual machine a fresh
 * small page can cost ~15 us (16 MiB first touched in small pages took
 * 58 ms here, in huge pages 1.1 ms), so a 640 KiB array cost 2.5 ms. */
#define BIG_MAP_MIN ((size_t)256 << 10)
#define BIG_MAGIC 0x6d7662696721ull

/* Before each block: where it came from and how much it holds. */
struct big_hdr {
	uint64_t magic;
	size_t map_len;   /* 0: malloc'd */
	size_t cap;       /* bytes the caller may use */
	size_t asked;     /* bytes asked for: all a growth copies */
};

/* A mapping aligned to 2 MiB, so that every 2 MiB of it (its first and
 * last included) can be a huge page: malloc's own mmap is not aligned,
 * and its partial first and last 2 MiB were thousands of small faults. */
static void *map_aligned(size_t len)
{
#ifdef MAP_ANONYMOUS
	size_t span = len + HUGE_PAGE;
	uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (a > (uintptr_t)m)
		munmap(m, a - (uintptr_t)m);
	size_t tail = (size_t)((uintptr_t)m + span - (a + len));
	if (tail)
		munmap((void *)(a + len), tail);
#ifdef MADV_HUGEPAGE
	madvise((void *)a, len, MADV_HUGEPAGE);
#endif
	return (void *)a;
#else
	(void)len;
	return NULL;
#endif
}

static void *big_alloc(size_t bytes, bool zero)
{
	if (bytes > SIZE_MAX - BIG_HDR - HUGE_PAGE)
		return NULL;
	struct big_hdr *h = NULL;
	size_t map_len = 0;
	if (bytes + BIG_HDR >= BIG_MAP_MIN) {
		map_len = (bytes + BIG_HDR + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		h = map_aligned(map_len); /* zeroed */
		if (!h)
			map_len = 0;
	}
	if (!h) {
		h = zero ? calloc(1, bytes + BIG_HDR) : malloc(bytes + BIG_HDR);
		if (!h)
			return NULL;
	}
	h->magic = BIG_MAGIC;
	h->map_len = map_len;
	h->cap = map_len ? map_len - BIG_HDR : bytes;
	h->asked = bytes;
	return (uint8_t *)h + BIG_HDR;
}

static struct big_hdr *big_hdr(void *p)
{
	return (struct big_hdr *)(void *)((uint8_t *)p - BIG_HDR);
}

/* A mapped block grown by moving its pages into a larger aligned
 * mapping (mremap): no copy, no page touched twice, and the old and new
 * blocks are never both resident (a copy doubled the peak while an index
 * of millions of entries grew).  NULL where mremap is missing or fails:
 * the caller copies then. */
static void *big_move(struct big_hdr *h, size_t bytes)
{
#if defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
	if (!h->map_len || bytes > SIZE_MAX - BIG_HDR - HUGE_PAGE)
		return NULL;
	size_t map_len = (bytes + BIG_HDR + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uint8_t *m = map_aligned(map_len);
	if (!m)
		return NULL;
	size_t old = h->map_len;
	if (mremap(h, old, old, MREMAP_MAYMOVE | MREMAP_FIXED, m) ==
	    MAP_FAILED) {
		munmap(m, map_len);
		return NULL;
	}
	h = (struct big_hdr *)(void *)m;
	h->map_len = map_len;
	h->cap = map_len - BIG_HDR;
	h->asked = bytes;
	return m + BIG_HDR;
#else
	(void)h;
	(void)bytes;
	return NULL;
#endif
}

void *mv_big_realloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = n && size ? n * size : 1;
	if (p && big_hdr(p)->cap >= bytes) {
		if (big_hdr(p)->asked < bytes)
			big_hdr(p)->asked = bytes;
		return p;
	}
	void *q = p ? big_move(big_hdr(p), bytes) : NULL;
	if (q)
		return q;
	q = big_alloc(bytes, false);
	if (q && p) {
		/* Not the whole capacity: pages never touched stay so. */
		memcpy(q, p, big_hdr(p)->asked);
		mv_big_free(p);
	}
	return q;
}

void *mv_big_shrink(void *p, size_t bytes)
{
	if (!p)
		return NULL;
	struct big_hdr *h = big_hdr(p);
	if (!bytes)
		bytes = 1;
	if (bytes >= h->cap)
		return p;
	if (h->asked > bytes)
		h->asked = bytes;
	if (!h->map_len) {
		struct big_hdr *n = realloc(h, bytes + BIG_HDR);
		if (!n)
			return p;
		n->cap = bytes;
		return (uint8_t *)n + BIG_HDR;
	}
	/* Whole huge pages off the end: those kept stay huge. */
	size_t len = (bytes + BIG_HDR + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (len < h->map_len) {
		munmap((uint8_t *)h + len, h->map_len - len);
		h->map_len = len;
		h->cap = len - BIG_HDR;
	}
	return p;
}

size_t mv_big_release(void *p, size_t from, size_t to)
{
	if (!p || to <= from || !big_hdr(p)->map_len)
		return from;
	/* In the mapping's offsets: it starts at a huge page. */
	size_t a = (from + BIG_HDR + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	size_t b = (to + BIG_HDR) & ~(HUGE_PAGE - 1);
	if (a >= b)
		return from;
	madvise((uint8_t *)big_hdr(p) + a, b - a, MADV_DONTNEED);
	return b - BIG_HDR;
}

void *mv_big_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return big_alloc(n && size ? n * size : 1, true);
}

void mv_big_free(void *p)
{
	if (!p)
		return;
	struct big_hdr *h = big_hdr(p);
	if (h->map_len)
		munmap(h, h->map_len);
	else
		free(h);
}

void mv_buf_init(struct mv_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

void mv_buf_deinit(struct mv_buf *b)
{
	free(b->data);
	mv_buf_init(b);
}

void mv_buf_clear(struct mv_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

bool mv_buf_reserve(struct mv_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return true;
}

void mv_buf_append(struct mv_buf *b, const void *data, size_t len)
{
	if (!mv_buf_reserve(b, len))
		return;
	if (len) /* data may be NULL then: memcpy's contract says no */
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void mv_buf_puts(struct mv_buf *b, const char *s)
{
	mv_buf_append(b, s, strlen(s));
}

void mv_buf_putc(struct mv_buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	mv_buf_append(b, &c, 1);
}

void mv_buf_vprintf(struct mv_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	if (!mv_buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void mv_buf_printf(struct mv_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mv_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void mv_buf_pad(struct mv_buf *b, char c, size_t n)
{
	if (!mv_buf_reserve(b, n))
		return;
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and out-of-range values. */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that reorder or hide text on a terminal. */
static bool is_dangerous_codepoint(uint32_t c)
{
	return (c >= 0x80 && c < 0xa0) ||         /* C1 controls */
	       c == 0x061c ||                      /* arabic letter mark */
	       (c >= 0x200b && c <= 0x200f) ||     /* zero width, LRM, RLM */
	       (c >= 0x2028 && c <= 0x202e) ||     /* separators, embeddings */
	       (c >= 0x2060 && c <= 0x2069) ||     /* isolates */
	       c == 0xfeff;
}

void mv_buf_escape(struct mv_buf *b, const char *str, size_t len, char quote)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c == '\\' || (quote && c == (unsigned char)quote)) {
			mv_buf_putc(b, '\\');
			mv_buf_putc(b, (char)c);
			i++;
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			mv_buf_putc(b, (char)c);
			i++;
			continue;
		}
		switch (c) {
		case '\n': mv_buf_puts(b, "\\n"); i++; continue;
		case '\t': mv_buf_puts(b, "\\t"); i++; continue;
		case '\r': mv_buf_puts(b, "\\r"); i++; continue;
		case '\0': mv_buf_puts(b, "\\0"); i++; continue;
		default: break;
		}
		uint32_t cp;
		size_t n = c >= 0x80 ? utf8_len(s + i, len - i, &cp) : 0;
		if (n == 0) {
			mv_buf_printf(b, "\\x%02x", c);
			i++;
		} else if (is_dangerous_codepoint(cp)) {
			mv_buf_printf(b, "\\u{%x}", cp);
			i += n;
		} else {
			mv_buf_append(b, s + i, n);
			i += n;
		}
	}
}

char *mv_buf_steal(struct mv_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	mv_buf_init(b);
	return p;
}

struct mv_error *mv_buf_error(const struct mv_buf *b)
{
	return b->oom ? mv_enomem : NULL;
}

/* ---- notes ---- */

void mv_notes_init(struct mv_notes *l, size_t max)
{
	l->items = NULL;
	l->n = 0;
	l->max = max ? max : 1;
	l->dropped = 0;
}

void mv_notes_deinit(struct mv_notes *l)
{
	if (l->items) {
		/* Every slot: calloc'd, so unused ones are NULL. */
		for (size_t i = 0; i <= l->max; i++)
			free(l->items[i]);
	}
	free(l->items);
	mv_notes_init(l, l->max);
}

bool mv_notes_vadd(struct mv_notes *l, const char *fmt, va_list ap)
{
	if (l->n >= l->max) {
		l->dropped++;
		return true;
	}
	if (!l->items) {
		/* All slots at once, zeroed: the summary slot stays NULL
		 * until mv_notes_get needs it. */
		l->items = calloc(l->max + 1, sizeof(*l->items));
		if (!l->items)
			return false;
	}
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		return false;
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	l->items[l->n++] = msg;
	return true;
}

bool mv_notes_add(struct mv_notes *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = mv_notes_vadd(l, fmt, ap);
	va_end(ap);
	return ok;
}

void mv_notes_remove_prefix(struct mv_notes *l, const char *prefix)
{
	size_t len = strlen(prefix), m = 0;
	if (!l->items)
		return;
	/* The summary sentence, if any, sits just past the notes. */
	free(l->items[l->n]);
	l->items[l->n] = NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (strncmp(l->items[i], prefix, len) == 0)
			free(l->items[i]);
		else
			l->items[m++] = l->items[i];
	}
	for (size_t i = m; i < l->n; i++)
		l->items[i] = NULL;
	l->n = m;
}

size_t mv_notes_get(struct mv_notes *l, const char *const **ret)
{
	static const char *const none[1] = {NULL};
	if (!l->items) {
		*ret = none;
		return 0;
	}
	size_t n = l->n;
	if (l->dropped) {
		free(l->items[n]);
		l->items[n] = NULL;
		if (asprintf(&l->items[n], "... and %zu more not listed",
			     l->dropped) >= 0)
			n++;
	}
	*ret = (const char *const *)l->items;
	return n;
}

/* ---- JSON ---- */

void mv_json_init(struct mv_json *j, struct mv_buf *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
}

static void json_newline(struct mv_json *j)
{
	if (!j->pretty)
		return;
	mv_buf_putc(j->out, '\n');
	mv_buf_pad(j->out, ' ', (size_t)j->depth * 2);
}

/* Before any value: a comma and indentation unless it follows a key. */
static void json_value_prefix(struct mv_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && j->depth <= MV_JSON_MAX_DEPTH) {
		if (j->need_comma[j->depth - 1])
			mv_buf_putc(j->out, ',');
		j->need_comma[j->depth - 1] = true;
		json_newline(j);
	}
}

static void json_open(struct mv_json *j, char c)
{
	json_value_prefix(j);
	mv_buf_putc(j->out, c);
	if (j->depth < MV_JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void json_close(struct mv_json *j, char c)
{
	bool had = j->depth > 0 && j->depth <= MV_JSON_MAX_DEPTH &&
		   j->need_comma[j->depth - 1];
	if (j->depth > 0)
		j->depth--;
	if (had)
		json_newline(j);
	mv_buf_putc(j->out, c);
}

void mv_json_begin_object(struct mv_json *j) { json_open(j, '{'); }
void mv_json_end_object(struct mv_json *j) { json_close(j, '}'); }
void mv_json_begin_array(struct mv_json *j) { json_open(j, '['); }
void mv_json_end_array(struct mv_json *j) { json_close(j, ']'); }

/* text: s is text (a path, a name, a sentence): valid UTF-8 goes out as
 * it is, and a byte that is not part of it as U+DC80..U+DCFF, the lone
 * surrogates Python's surrogateescape reads back as the same byte.
 * Else s is target bytes: each byte outside ASCII is U+00XX. */
static void json_quoted(struct mv_buf *out, const char *s, size_t len,
			bool text)
{
	static const char hex[] = "0123456789abcdef";
	mv_buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t n = text && c >= 0x80 ? utf8_len((const unsigned char *)s + i,
							 len - i, &cp)
					     : 0;
		if (n) {
			mv_buf_append(out, s + i, n);
			i += n - 1;
			continue;
		}
		if (text && c >= 0x80) {
			char u[7] = {'\\', 'u', 'd', 'c', hex[c >> 4],
				     hex[c & 15], 0};
			mv_buf_puts(out, u);
			continue;
		}
		switch (c) {
		case '"': mv_buf_puts(out, "\\\""); break;
		case '\\': mv_buf_puts(out, "\\\\"); break;
		case '\n': mv_buf_puts(out, "\\n"); break;
		case '\t': mv_buf_puts(out, "\\t"); break;
		case '\r': mv_buf_puts(out, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f || c >= 0x80) {
				/* Bytes outside ASCII are escaped one by one
				 * as U+00XX so that any target bytes make
				 * valid JSON. */
				char u[7] = {'\\', 'u', '0', '0', hex[c >> 4],
					     hex[c & 15], 0};
				mv_buf_puts(out, u);
			} else {
				mv_buf_putc(out, (char)c);
			}
		}
	}
	mv_buf_putc(out, '"');
}

void mv_json_key(struct mv_json *j, const char *key)
{
	json_value_prefix(j);
	json_quoted(j->out, key, strlen(key), true);
	mv_buf_puts(j->out, j->pretty ? ": " : ":");
	j->after_key = true;
}

void mv_json_string_len(struct mv_json *j, const char *s, size_t len)
{
	json_value_prefix(j);
	json_quoted(j->out, s, len, false);
}

void mv_json_string(struct mv_json *j, const char *s)
{
	if (!s) {
		mv_json_null(j);
		return;
	}
	json_value_prefix(j);
	json_quoted(j->out, s, strlen(s), true);
}

void mv_json_int(struct mv_json *j, int64_t v)
{
	json_value_prefix(j);
	mv_buf_printf(j->out, "%lld", (long long)v);
}

void mv_json_uint(struct mv_json *j, uint64_t v)
{
	json_value_prefix(j);
	mv_buf_printf(j->out, "%llu", (unsigned long long)v);
}

void mv_json_double(struct mv_json *j, double v)
{
	json_value_prefix(j);
	if (isnan(v) || isinf(v)) {
		/* JSON has no NaN or infinity: write them as strings. */
		mv_buf_printf(j->out, "\"%s\"",
			      isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
		return;
	}
	char tmp[64];
	/* Shortest text that reads back to the same double. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	mv_buf_puts(j->out, tmp);
	if (!strpbrk(tmp, ".eE"))
		mv_buf_puts(j->out, ".0");
}

void mv_json_bool(struct mv_json *j, bool v)
{
	json_value_prefix(j);
	mv_buf_puts(j->out, v ? "true" : "false");
}

void mv_json_null(struct mv_json *j)
{
	json_value_prefix(j);
	mv_buf_puts(j->out, "null");
}

void mv_json_address(struct mv_json *j, uint64_t v)
{
	json_value_prefix(j);
	mv_buf_printf(j->out, "\"0x%llx\"", (unsigned long long)v);
}

void mv_json_raw(struct mv_json *j, const char *text)
{
	json_value_prefix(j);
	mv_buf_puts(j->out, text);
}

/* ---- folding long lines ---- */

/* Columns of line[0..n): escapes and continuation bytes take none.
 * col[i] gets the column byte i starts at (n + 1 entries). */
static void line_columns(const char *line, size_t n, unsigned *col)
{
	unsigned c = 0;
	for (size_t i = 0; i < n;) {
		col[i] = c;
		unsigned char ch = (unsigned char)line[i];
		if (ch == 0x1b && i + 1 < n && line[i + 1] == '[') {
			size_t j = i + 2;
			while (j < n && !((unsigned char)line[j] >= 0x40 &&
					  (unsigned char)line[j] <= 0x7e))
				j++;
			for (size_t k = i + 1; k <= j && k < n; k++)
				col[k] = c;
			i = j < n ? j + 1 : n;
			continue;
		}
		if ((ch & 0xc0) != 0x80)
			c++;
		i++;
	}
	col[n] = c;
}

static void fold_line(struct mv_buf *b, const char *line, size_t n,
		      unsigned width, unsigned *col)
{
	line_columns(line, n, col);
	if (col[n] <= width) {
		mv_buf_append(b, line, n);
		return;
	}
	size_t indent = 0;
	while (indent < n && line[indent] == ' ')
		indent++;
	/* The hanging indent: where the last gap of 2+ spaces in the first
	 * two thirds of the line ends. */
	unsigned hang = (unsigned)indent + 4;
	for (size_t i = indent + 1; i + 1 < n && col[i] < width * 2 / 3; i++)
		if (line[i - 1] == ' ' && line[i] == ' ' && line[i + 1] != ' ')
			hang = col[i + 1];
	if (hang > width * 2 / 3)
		hang = (unsigned)indent + 4 < width / 2 ? (unsigned)indent + 4
							: 0;
	size_t start = 0;
	unsigned offset = 0; /* columns of the current piece's own indent */
	for (int guard = 0; start < n && guard < 100000; guard++) {
		/* The last space that keeps the piece within the width. */
		size_t end = start, cut = 0;
		while (end < n && col[end] - col[start] + offset < width)
			end++;
		if (end >= n) {
			mv_buf_append(b, line + start, n - start);
			return;
		}
		for (size_t i = end; i > start; i--)
			if (line[i] == ' ') {
				cut = i;
				break;
			}
		/* A word wider than the line (a path) stays whole: cut, it
		 * could not be copied. */
		size_t stop = cut;
		if (cut <= start) {
			stop = end;
			while (stop < n && line[stop] != ' ')
				stop++;
			if (stop >= n) {
				mv_buf_append(b, line + start, n - start);
				return;
			}
		}
		size_t piece = stop;
		while (piece > start && line[piece - 1] == ' ')
			piece--;
		mv_buf_append(b, line + start, piece - start);
		mv_buf_putc(b, '\n');
		mv_buf_pad(b, ' ', hang);
		offset = hang;
		start = stop;
		while (start < n && line[start] == ' ')
			start++;
	}
}

void mv_buf_fold(struct mv_buf *b, const char *text, size_t len,
		 unsigned width)
{
	if (!width || width < 16) {
		mv_buf_append(b, text, len);
		return;
	}
	unsigned *col = NULL;
	size_t cap = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		/* Most lines fit: no columns needed when the bytes do. */
		if (n <= width) {
			mv_buf_append(b, text + pos, n);
		} else {
			if (n + 1 > cap) {
				unsigned *c = realloc(col, (n + 1) * sizeof(*c));
				if (!c) {
					mv_buf_append(b, text + pos, n);
					goto next;
				}
				col = c;
				cap = n + 1;
			}
			fold_line(b, text + pos, n, width, col);
		}
next:
		if (nl)
			mv_buf_putc(b, '\n');
		pos += n + (nl ? 1 : 0);
	}
	free(col);
}
