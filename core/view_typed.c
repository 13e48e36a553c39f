/* view_typed.c - typed views: every field of an object with its offset,
 * size, type, value and its own bytes, holes and padding where they
 * are, nested aggregates indented.
 *
 * Objects are taken whole from the target (peek, else one read), and
 * the common scalars are formatted here from those bytes without
 * printf, so that a million-element array renders at hundreds of MB/s;
 * bitfields and arrays of scalars go through value.c.  Nesting follows
 * the DWARF type (bounded by MV_TYPED_MAX_DEPTH), never target data. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"
#include "view.h"

#define MV_TYPED_MAX_DEPTH 8
#define MV_TYPED_MAX_BYTES 16   /* bytes shown per field */
#define TYPE_COL 18
#define VALUE_COL 40

struct typed {
	struct mv_program *p;
	struct mv_target *t;
	const struct mv_typed_opts *o;
	struct mv_buf *out;
	struct mv_json *j;
	const uint8_t *obj;   /* bytes of the current object */
	uint64_t obj_len;     /* how many of them could be read */
	uint64_t obj_addr;
	struct mv_value_style style;
	size_t line_start;    /* of the line being written */
	struct mv_error *err; /* from --pointers: stops the view */
	/* The text view's plan: every line of one object, its constant
	 * text made once (see plan_members). */
	struct typed_line *lines;
	size_t nlines, lines_cap;
	struct mv_buf text;   /* the lines' constant text */
	bool plan_oom;
	/* A page known to be mapped: a million pointers into one array ask
	 * the region list once per page, not once each. */
	uint64_t mapped_page;
	/* "xx " for every byte value: a byte of hex is one 4-byte copy. */
	char hex3[256][4];
	/* Type names of the fields, made once: the same struct is shown a
	 * million times in an array. */
	struct {
		struct mv_type *type;
		uint32_t bit_size;
		char name[128];
	} names[64];
	size_t nnames;
};

static const char *type_name(struct typed *T, struct mv_type *type,
			     uint32_t bit_size)
{
	for (size_t i = 0; i < T->nnames; i++)
		if (T->names[i].type == type && T->names[i].bit_size == bit_size)
			return T->names[i].name;
	size_t i = T->nnames < 64 ? T->nnames++ : 63;
	char *tn = T->names[i].name;
	T->names[i].type = type;
	T->names[i].bit_size = bit_size;
	mv_type_name(type, tn, sizeof(T->names[i].name));
	if (bit_size) {
		size_t n = strlen(tn);
		snprintf(tn + n, sizeof(T->names[i].name) - n, ":%u", bit_size);
	}
	return tn;
}

static const char hexd[] = "0123456789abcdef";

static bool readable(struct typed *T, uint64_t off, uint64_t size)
{
	return off + size <= T->obj_len;
}

static void hex3_init(struct typed *T)
{
	for (unsigned c = 0; c < 256; c++) {
		T->hex3[c][0] = hexd[c >> 4];
		T->hex3[c][1] = hexd[c & 15];
		T->hex3[c][2] = ' ';
		T->hex3[c][3] = '\0';
	}
}

static void put_bytes(struct typed *T, uint64_t off, uint64_t size)
{
	struct mv_buf *b = T->out;
	uint64_t n = size < MV_TYPED_MAX_BYTES ? size : MV_TYPED_MAX_BYTES;
	if (!n || !mv_buf_reserve(b, n * 3 + 24))
		return;
	char *p = b->data + b->len;
	if (off + n <= T->obj_len) {
		const uint8_t *src = T->obj + off;
		for (uint64_t i = 0; i < n; i++, p += 3)
			memcpy(p, T->hex3[src[i]], 4);
	} else {
		for (uint64_t i = 0; i < n; i++, p += 3)
			memcpy(p, off + i < T->obj_len
					  ? T->hex3[T->obj[off + i]] : "?? ", 4);
	}
	/* No space after the last byte. */
	b->len = (size_t)(p - 1 - b->data);
	b->data[b->len] = '\0';
	if (n < size)
		mv_buf_printf(b, " ...(+%llu)", (unsigned long long)(size - n));
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Python's repr of a double; values with at most six decimals and a
 * modest magnitude are written directly (they are exactly the shortest
 * round trip there), the rest by mv_format_float_repr. */
static void put_double(struct mv_buf *b, double d)
{
	double a = fabs(d);
	if (a == 0 || (a >= 1e-4 && a < 1073741824.0)) {
		double scaled = a * 1e6;
		double n = nearbyint(scaled);
		if (n / 1e6 == a && mv_buf_reserve(b, 40)) {
			uint64_t whole = (uint64_t)n / 1000000;
			uint64_t frac = (uint64_t)n % 1000000;
			char *p = b->data + b->len;
			if (signbit(d))
				*p++ = '-';
			p = put_u64(p, whole);
			*p++ = '.';
			char f[6];
			for (int i = 5; i >= 0; i--) {
				f[i] = (char)('0' + frac % 10);
				frac /= 10;
			}
			int len = 6;
			while (len > 1 && f[len - 1] == '0')
				len--;
			memcpy(p, f, (size_t)len);
			p += len;
			b->len = (size_t)(p - b->data);
			b->data[b->len] = '\0';
			return;
		}
	}
	mv_format_float_repr(d, b);
}

static void put_pointer(struct typed *T, uint64_t v, struct mv_type *st,
			uint64_t at)
{
	struct mv_buf *b = T->out;
	if (mv_buf_reserve(b, 20)) {
		char *p = b->data + b->len;
		*p++ = '0';
		*p++ = 'x';
		int n = 1;
		while (n < 16 && (v >> (n * 4)))
			n++;
		for (int i = n; i-- > 0;)
			*p++ = hexd[(v >> (i * 4)) & 15];
		b->len = (size_t)(p - b->data);
		b->data[b->len] = '\0';
	}
	if (!v || !st)
		return;
	const char *name;
	uint64_t off;
	if (mv_program_symbolize(T->p, v, &name, &off)) {
		if (off)
			mv_buf_printf(b, " <%s+%llu>", name,
				      (unsigned long long)off);
		else
			mv_buf_printf(b, " <%s>", name);
	}
	if (st->kind != MV_TYPE_POINTER)
		return;
	struct mv_type *tt = mv_type_strip(mv_type_target(st));
	bool to_chars = tt && tt->kind == MV_TYPE_INT && tt->is_char &&
			tt->size == 1;
	if (T->o->ptrs && !T->err) {
		/* --pointers: where it points, beyond the symbol and string
		 * shown anyway. */
		struct mv_ptr_note n;
		T->err = mv_ptr_annotate(T->o->ptrs, v, &n);
		if (to_chars)
			n.has_string = false;
		if (!T->err && (n.kind == MV_PTR_HEAP ||
				n.kind == MV_PTR_STACK ||
				(n.kind == MV_PTR_STRING && n.has_string))) {
			mv_buf_puts(b, " -> ");
			mv_ptr_render_text(&n, T->o->color, b);
		}
		/* --depth: the chain from here, as the hex view shows it. */
		if (!T->err && T->o->depth > 1 && !to_chars &&
		    n.kind != MV_PTR_NONE) {
			const struct mv_ptr_chain *c;
			T->err = mv_ptr_follow(T->o->ptrs, at, &n, T->o->depth,
					       &c);
			if (!T->err)
				mv_ptr_render_chain_text(c, T->o->color, b);
		}
	}
	if (to_chars) {
		char s[64];
		size_t n = mv_target_read_partial(T->t, v, s, sizeof(s));
		size_t len = strnlen(s, n);
		if (n) {
			mv_buf_puts(b, " \"");
			mv_buf_escape(b, s, len, '"');
			mv_buf_putc(b, '"');
			if (len == n)
				mv_buf_puts(b, "...");
		}
	} else if (v >> 12 != T->mapped_page) {
		if (mv_target_is_mapped(T->t, v))
			T->mapped_page = v >> 12;
		else
			mv_buf_puts(b, " (not mapped)");
	}
}

/* The value of a scalar at off, from the object's bytes. */
static void put_scalar(struct typed *T, struct mv_type *type, uint64_t off)
{
	struct mv_buf *b = T->out;
	struct mv_type *st = mv_type_strip(type);
	uint64_t size = st->size;
	if (!readable(T, off, size)) {
		mv_buf_puts(b, "<unreadable>");
		return;
	}
	const uint8_t *src = T->obj + off;
	uint64_t raw = 0;
	if (size <= 8)
		memcpy(&raw, src, size);
	switch (st->kind) {
	case MV_TYPE_INT:
	case MV_TYPE_ENUM: {
		if (size > 8)
			break;
		int64_t sv = (int64_t)raw;
		if (st->is_signed && size < 8 && (raw >> (size * 8 - 1)) & 1)
			sv = (int64_t)(raw | (~(uint64_t)0 << (size * 8)));
		if (st->kind == MV_TYPE_ENUM)
			for (size_t i = 0; i < st->nenumerators; i++)
				if (st->enumerators[i].value ==
				    (st->is_signed ? sv : (int64_t)raw)) {
					mv_buf_puts(b, st->enumerators[i].name);
					return;
				}
		if (!mv_buf_reserve(b, 24))
			return;
		char *p = b->data + b->len;
		if (st->is_signed && sv < 0) {
			*p++ = '-';
			p = put_u64(p, (uint64_t)0 - (uint64_t)sv);
		} else {
			p = put_u64(p, st->is_signed ? (uint64_t)sv : raw);
		}
		b->len = (size_t)(p - b->data);
		b->data[b->len] = '\0';
		if (st->kind == MV_TYPE_INT && st->is_char && size == 1) {
			char c = (char)raw;
			mv_buf_puts(b, " '");
			mv_buf_escape(b, &c, 1, '\'');
			mv_buf_putc(b, '\'');
		}
		return;
	}
	case MV_TYPE_BOOL:
		mv_buf_puts(b, raw ? "true" : "false");
		return;
	case MV_TYPE_FLOAT:
		if (size == 4) {
			float f;
			memcpy(&f, src, 4);
			put_double(b, f);
			return;
		}
		if (size == 8) {
			double d;
			memcpy(&d, src, 8);
			put_double(b, d);
			return;
		}
		break;
	case MV_TYPE_POINTER:
		put_pointer(T, raw, st, T->obj_addr + off);
		return;
	default:
		break;
	}
	mv_value_render_text(T->p, type, T->obj_addr + off, 0, 0, &T->style, b);
}

static bool is_record(struct mv_type *st)
{
	return st && (st->kind == MV_TYPE_STRUCT || st->kind == MV_TYPE_UNION ||
		      st->kind == MV_TYPE_CLASS);
}

static bool is_char_type(struct mv_type *t)
{
	struct mv_type *st = mv_type_strip(t);
	return st && st->kind == MV_TYPE_INT && st->is_char && st->size == 1;
}

/* ---- the text view: a plan made once, run for every object ----
 *
 * Everything on a line but the value and the bytes depends only on the
 * type: indentation, offset, size, type name, field name.  The plan
 * holds that text for every line of one object, so that an array of a
 * million structs costs a copy of the text, a value and some hex per
 * field. */

enum line_kind {
	LINE_TEXT,    /* text only: "name {", "}", "... more elements" */
	LINE_FIELD,   /* text through " = ", value, bytes */
	LINE_GAP,     /* hole or padding: text, bytes */
};

enum value_kind {
	VALUE_UNKNOWN,  /* "<unknown type>" */
	VALUE_CHARS,    /* a char array small enough to show as a string */
	VALUE_GENERIC,  /* bitfields, arrays, big scalars: value.c */
	VALUE_SCALAR,   /* formatted here */
};

struct typed_line {
	uint8_t kind;         /* enum line_kind */
	uint8_t value;        /* enum value_kind */
	uint32_t bit_pos, bit_size;
	size_t text, text_len; /* into T->text */
	size_t bytes_col;     /* column of the bytes (LINE_FIELD) */
	struct mv_type *type;
	uint64_t off, size;   /* of the field in the object */
	uint64_t bytes_size;  /* bytes shown after the value */
};

static struct typed_line *plan_line(struct typed *T, enum line_kind kind)
{
	if (T->nlines == T->lines_cap) {
		size_t cap = T->lines_cap ? T->lines_cap * 2 : 32;
		struct typed_line *l = realloc(T->lines, cap * sizeof(*l));
		if (!l) {
			T->plan_oom = true;
			return NULL;
		}
		T->lines = l;
		T->lines_cap = cap;
	}
	struct typed_line *l = &T->lines[T->nlines++];
	memset(l, 0, sizeof(*l));
	l->kind = (uint8_t)kind;
	l->text = T->text.len;
	return l;
}

/* Ends the text of the line l (begun at T->text.len when l was made). */
static void plan_text_end(struct typed *T, struct typed_line *l)
{
	l->text_len = T->text.len - l->text;
}

static void pad_to(struct mv_buf *b, size_t start, size_t col)
{
	size_t have = b->len - start;
	mv_buf_pad(b, ' ', have < col ? col - have : 1);
}

/* Indentation, +offset, size and type name, as the plan's text. */
static void field_head(struct typed *T, int depth, uint64_t off,
		       uint64_t size, const char *type_name)
{
	struct mv_buf *b = &T->text;
	T->line_start = b->len;
	mv_buf_pad(b, ' ', (size_t)depth * 2 + 2);
	mv_buf_printf(b, "+%llu", (unsigned long long)off);
	pad_to(b, T->line_start, (size_t)depth * 2 + 9);
	mv_buf_printf(b, "%5llu  ", (unsigned long long)size);
	mv_buf_puts(b, type_name);
	pad_to(b, T->line_start, (size_t)depth * 2 + TYPE_COL + 16);
}

static void plan_gap(struct typed *T, int depth, uint64_t off, uint64_t size,
		     const char *what)
{
	struct typed_line *l = plan_line(T, LINE_GAP);
	if (!l)
		return;
	field_head(T, depth, off, size, what);
	pad_to(&T->text, T->line_start,
	       (size_t)depth * 2 + TYPE_COL + 16 + VALUE_COL);
	plan_text_end(T, l);
	l->off = off;
	l->bytes_size = size;
}

/* Text-only lines append to the previous text line. */
static void plan_plain(struct typed *T, const char *fmt, ...)
	MV_PRINTF(2, 3);
static void plan_plain(struct typed *T, const char *fmt, ...)
{
	struct typed_line *l = T->nlines ? &T->lines[T->nlines - 1] : NULL;
	if (!l || l->kind != LINE_TEXT || l->text + l->text_len != T->text.len)
		l = plan_line(T, LINE_TEXT);
	if (!l)
		return;
	va_list ap;
	va_start(ap, fmt);
	mv_buf_vprintf(&T->text, fmt, ap);
	va_end(ap);
	plan_text_end(T, l);
}

static void plan_members(struct typed *T, struct mv_type *st, uint64_t base,
			 int depth);

/* One field (or array element) named name of type at off. */
static void plan_field(struct typed *T, const char *name, struct mv_type *type,
		       uint64_t off, uint32_t bit_pos, uint32_t bit_size,
		       int depth)
{
	struct mv_type *st = mv_type_strip(type);
	const char *tn = type_name(T, type, bit_size);
	uint64_t size = st ? st->size : 0;
	bool nested = st && depth + 1 < MV_TYPED_MAX_DEPTH &&
		      (is_record(st) ||
		       (st->kind == MV_TYPE_ARRAY &&
			is_record(mv_type_strip(mv_type_target(st)))));
	struct typed_line *l = plan_line(T, nested ? LINE_TEXT : LINE_FIELD);
	if (!l)
		return;
	field_head(T, depth, off, size, tn);
	mv_buf_puts(&T->text, name);
	if (nested) {
		mv_buf_puts(&T->text, " {\n");
		plan_text_end(T, l);
		if (st->kind == MV_TYPE_ARRAY) {
			struct mv_type *e = mv_type_target(st);
			struct mv_type *se = mv_type_strip(e);
			uint64_t n = st->has_count ? st->count : 0;
			uint64_t shown = T->o->max_elements &&
						 n > T->o->max_elements
					 ? T->o->max_elements : n;
			for (uint64_t i = 0; i < shown && !T->plan_oom; i++) {
				char en[32];
				snprintf(en, sizeof(en), "[%llu]",
					 (unsigned long long)i);
				plan_field(T, en, e, off + i * se->size, 0, 0,
					   depth + 1);
			}
			if (shown < n)
				plan_plain(T, "%*s... %llu more elements "
					   "(--max-elements)\n", depth * 2 + 4,
					   "", (unsigned long long)(n - shown));
		} else {
			plan_members(T, st, off, depth + 1);
		}
		plan_plain(T, "%*s}\n", depth * 2 + 2, "");
		return;
	}
	mv_buf_puts(&T->text, " = ");
	plan_text_end(T, l);
	l->type = type;
	l->off = off;
	l->size = size;
	l->bit_pos = bit_pos;
	l->bit_size = bit_size;
	l->bytes_col = (size_t)depth * 2 + TYPE_COL + 16 + VALUE_COL;
	l->bytes_size = bit_size ? (bit_pos + bit_size + 7) / 8 : size;
	if (!st || st->kind == MV_TYPE_UNKNOWN)
		l->value = VALUE_UNKNOWN;
	else if (st->kind == MV_TYPE_ARRAY && st->has_count &&
		 st->count == size && size <= 200 &&
		 is_char_type(mv_type_target(st)))
		l->value = VALUE_CHARS;
	else if (bit_size || st->kind == MV_TYPE_ARRAY || size > 8)
		l->value = VALUE_GENERIC;
	else
		l->value = VALUE_SCALAR;
}

static void plan_members(struct typed *T, struct mv_type *st, uint64_t base,
			 int depth)
{
	bool is_struct = st->kind != MV_TYPE_UNION;
	uint64_t end = 0; /* bytes covered so far, relative */
	for (size_t i = 0; i < st->nmembers && !T->plan_oom; i++) {
		const struct mv_member *m = &st->members[i];
		struct mv_type *ms = mv_type_strip(m->type);
		uint64_t off = m->bit_position / 8;
		uint64_t msize = m->bit_size
					 ? (m->bit_position % 8 + m->bit_size + 7) / 8
					 : (ms ? ms->size : 0);
		if (is_struct && off > end && i > 0)
			plan_gap(T, depth, base + end, off - end, "(hole)");
		plan_field(T, m->name ? m->name : "<anonymous>", m->type,
			   base + off,
			   m->bit_size ? (uint32_t)(m->bit_position % 8) : 0,
			   m->bit_size, depth);
		if (off + msize > end)
			end = off + msize;
	}
	if (is_struct && st->size > end && st->nmembers)
		plan_gap(T, depth, base + end, st->size - end, "(padding)");
}

/* A char array of at most 200 bytes as a quoted string: short plain
 * ASCII (the common case) copied as it is, anything else escaped. */
static void put_chars(struct mv_buf *b, const uint8_t *c, size_t size)
{
	size_t n = 0;
	bool plain = true;
	while (n < size && c[n]) {
		plain &= c[n] >= 0x20 && c[n] < 0x7f && c[n] != '"' &&
			 c[n] != '\\';
		n++;
	}
	if (!plain || !mv_buf_reserve(b, n + 2)) {
		mv_buf_putc(b, '"');
		mv_buf_escape(b, (const char *)c, n, '"');
		mv_buf_putc(b, '"');
		return;
	}
	char *p = b->data + b->len;
	*p++ = '"';
	memcpy(p, c, n);
	p += n;
	*p++ = '"';
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
}

static void run_value(struct typed *T, const struct typed_line *l)
{
	struct mv_buf *b = T->out;
	switch (l->value) {
	case VALUE_SCALAR:
		put_scalar(T, l->type, l->off);
		return;
	case VALUE_CHARS:
		if (readable(T, l->off, l->size)) {
			/* A char array: the string in it, as value.c
			 * shows it. */
			put_chars(b, T->obj + l->off, (size_t)l->size);
			return;
		}
		break;
	case VALUE_UNKNOWN:
		mv_buf_puts(b, "<unknown type>");
		return;
	default:
		break;
	}
	/* value.c knows bitfields, strings and arrays. */
	if (l->bit_size || readable(T, l->off, l->size ? l->size : 1))
		mv_value_render_text(T->p, l->type, T->obj_addr + l->off,
				     l->bit_pos, l->bit_size, &T->style, b);
	else
		mv_buf_puts(b, "<unreadable>");
}

/* --diff: whether a byte of the field at off differs from the last view
 * of the range (bytes unreadable either time do not count). */
static bool field_changed(struct typed *T, uint64_t off, uint64_t size)
{
	const struct mv_typed_opts *o = T->o;
	if (!o->diff_prev)
		return false;
	for (uint64_t k = 0; k < size && off + k < T->obj_len; k++) {
		uint64_t a = T->obj_addr + off + k;
		if (a < o->diff_base || a - o->diff_base >= o->diff_len)
			continue;
		uint64_t i = a - o->diff_base;
		if ((o->diff_prev_valid[i / 8] & (1u << (i % 8))) &&
		    o->diff_prev[i] != T->obj[off + k])
			return true;
	}
	return false;
}

/* The lines of the current object, from the plan. */
static void run_plan(struct typed *T)
{
	struct mv_buf *b = T->out;
	for (size_t i = 0; i < T->nlines; i++) {
		const struct typed_line *l = &T->lines[i];
		/* Room for the text, a scalar and the bytes at once. */
		if (!mv_buf_reserve(b, l->text_len + 128))
			return;
		size_t start = b->len;
		memcpy(b->data + b->len, T->text.data + l->text, l->text_len);
		b->len += l->text_len;
		b->data[b->len] = '\0';
		if (l->kind == LINE_TEXT)
			continue;
		if (l->kind == LINE_FIELD) {
			run_value(T, l);
			pad_to(b, start, l->bytes_col);
		}
		put_bytes(T, l->off, l->bytes_size);
		if (l->kind == LINE_FIELD &&
		    field_changed(T, l->off, l->bytes_size))
			mv_buf_puts(b, T->o->color ? "  \033[1;33m<- changed"
						     "\033[0m"
						   : "  <- changed");
		mv_buf_putc(b, '\n');
	}
}

/* JSON: the same tree, values through value.c. */
static void json_fields(struct typed *T, struct mv_type *st, uint64_t base,
			int depth);

static void json_bytes(struct typed *T, uint64_t off, uint64_t size)
{
	struct mv_json *j = T->j;
	mv_json_key(j, "bytes");
	mv_json_raw(j, "\"");
	struct mv_buf *b = T->out;
	for (uint64_t i = 0; i < size; i++) {
		if (off + i < T->obj_len) {
			mv_buf_putc(b, hexd[T->obj[off + i] >> 4]);
			mv_buf_putc(b, hexd[T->obj[off + i] & 15]);
		} else {
			mv_buf_puts(b, "??");
		}
	}
	mv_buf_putc(b, '"');
}

static void json_field(struct typed *T, const char *name, struct mv_type *type,
		       uint64_t off, uint32_t bit_pos, uint32_t bit_size,
		       int depth)
{
	struct mv_json *j = T->j;
	struct mv_type *st = mv_type_strip(type);
	char tn[256];
	mv_type_name(type, tn, sizeof(tn));
	uint64_t size = st ? st->size : 0;
	mv_json_begin_object(j);
	mv_json_key(j, "name");
	mv_json_string(j, name);
	mv_json_key(j, "type");
	mv_json_string(j, tn);
	mv_json_key(j, "offset");
	mv_json_uint(j, off);
	mv_json_key(j, "size");
	mv_json_uint(j, size);
	if (bit_size) {
		mv_json_key(j, "bit_offset");
		mv_json_uint(j, bit_pos);
		mv_json_key(j, "bit_size");
		mv_json_uint(j, bit_size);
	}
	if (st && is_record(st) && depth + 1 < MV_TYPED_MAX_DEPTH) {
		mv_json_key(j, "fields");
		mv_json_begin_array(j);
		json_fields(T, st, off, depth + 1);
		mv_json_end_array(j);
	} else {
		mv_json_key(j, "value");
		mv_value_render_json(T->p, type, T->obj_addr + off, bit_pos,
				     bit_size, &T->style, j);
	}
	uint64_t nbytes = bit_size ? (bit_pos + bit_size + 7) / 8 : size;
	json_bytes(T, off, nbytes);
	if (T->o->diff_prev) {
		mv_json_key(j, "changed");
		mv_json_bool(j, field_changed(T, off, nbytes));
	}
	mv_json_end_object(j);
}

static void json_gap(struct typed *T, const char *kind, uint64_t off,
		     uint64_t size)
{
	struct mv_json *j = T->j;
	mv_json_begin_object(j);
	mv_json_key(j, kind);
	mv_json_bool(j, true);
	mv_json_key(j, "offset");
	mv_json_uint(j, off);
	mv_json_key(j, "size");
	mv_json_uint(j, size);
	json_bytes(T, off, size);
	mv_json_end_object(j);
}

static void json_fields(struct typed *T, struct mv_type *st, uint64_t base,
			int depth)
{
	bool is_struct = st->kind != MV_TYPE_UNION;
	uint64_t end = 0;
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct mv_member *m = &st->members[i];
		struct mv_type *ms = mv_type_strip(m->type);
		uint64_t off = m->bit_position / 8;
		uint64_t msize = m->bit_size
					 ? (m->bit_position % 8 + m->bit_size + 7) / 8
					 : (ms ? ms->size : 0);
		if (is_struct && off > end && i > 0)
			json_gap(T, "hole", base + end, off - end);
		json_field(T, m->name, m->type, base + off,
			   m->bit_size ? (uint32_t)(m->bit_position % 8) : 0,
			   m->bit_size, depth);
		if (off + msize > end)
			end = off + msize;
	}
	if (is_struct && st->size > end && st->nmembers)
		json_gap(T, "padding", base + end, st->size - end);
}

struct mv_error *mv_view_typed(struct mv_program *p, struct mv_type *type,
			       uint64_t address, const struct mv_typed_opts *o,
			       struct mv_view_sink *sink, struct mv_json *j,
			       struct mv_view_report *report)
{
	struct mv_type *st = mv_type_strip(type);
	if (!st || st->kind == MV_TYPE_UNKNOWN || !st->size)
		return mv_error_create(MV_ERR_INVALID,
				       "the type has no size to view");
	if (is_record(st) && !st->is_complete)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "the type is only declared, not defined");
	struct typed T;
	memset(&T, 0, offsetof(struct typed, names));
	T.nnames = 0;
	mv_buf_init(&T.text);
	T.mapped_page = UINT64_MAX;
	hex3_init(&T);
	T.p = p;
	T.t = mv_program_target(p);
	T.o = o;
	T.out = sink->out;
	T.j = j;
	T.style.max_elements = o->max_elements ? o->max_elements : UINT64_MAX;
	T.style.max_depth = 3;
	T.style.max_string = 200;
	char tn[256];
	mv_type_name(type, tn, sizeof(tn));
	struct mv_view_reader r;
	size_t objsize = (size_t)st->size;
	struct mv_error *err = mv_view_reader_init(&r, T.t, objsize, report);
	if (err)
		return err;
	uint8_t *copy = malloc(objsize);
	if (!copy) {
		mv_view_reader_deinit(&r);
		return mv_enomem;
	}
	if (j) {
		mv_json_key(j, "type");
		mv_json_string(j, tn);
		mv_json_key(j, "size");
		mv_json_uint(j, st->size);
		mv_json_key(j, "count");
		mv_json_uint(j, o->count);
		mv_json_key(j, "objects");
		mv_json_begin_array(j);
	}
	char size_text[48];
	snprintf(size_text, sizeof(size_text), " (%llu bytes):\n",
		 (unsigned long long)st->size);
	if (!j) {
		if (is_record(st))
			plan_members(&T, st, 0, 0);
		else
			plan_field(&T, o->name, type, 0, 0, 0, 0);
	}
	uint64_t polled = 0;
	for (uint64_t k = 0; k < o->count && !T.plan_oom; k++) {
		uint64_t a = address + k * st->size;
		const uint8_t *data;
		size_t skip;
		size_t n = mv_view_reader_get(&r, a, objsize, &data, &skip);
		if (n < objsize && n) {
			memcpy(copy, data, n);
			data = copy;
		}
		T.obj = data;
		T.obj_len = n;
		T.obj_addr = a;
		if (j) {
			mv_json_begin_object(j);
			mv_json_key(j, "address");
			mv_json_address(j, a);
			mv_json_key(j, "fields");
			mv_json_begin_array(j);
			if (is_record(st))
				json_fields(&T, st, 0, 0);
			else
				json_field(&T, o->name, type, 0, 0, 0, 0);
			mv_json_end_array(j);
			mv_json_end_object(j);
		} else {
			if (o->count > 1 && mv_buf_reserve(T.out, 24)) {
				char *q = T.out->data + T.out->len;
				*q++ = '[';
				q = put_u64(q, k);
				*q++ = ']';
				*q++ = ' ';
				T.out->len = (size_t)(q - T.out->data);
				T.out->data[T.out->len] = '\0';
			}
			mv_buf_puts(T.out, tn);
			mv_buf_puts(T.out, " at ");
			put_pointer(&T, a, NULL, 0);
			mv_buf_puts(T.out, size_text);
			run_plan(&T);
		}
		if ((err = T.err) || (err = mv_view_sink_flush(sink, false)))
			break;
		if ((k + 1) * st->size - polled >= MV_VIEW_POLL_BYTES) {
			polled = (k + 1) * st->size;
			if (sink->poll && sink->poll()) {
				err = mv_error_create(MV_ERR_INTERRUPTED,
						      "interrupted");
				break;
			}
		}
	}
	if (j && !err)
		mv_json_end_array(j);
	if (!err && (T.plan_oom || T.text.oom))
		err = mv_enomem;
	free(T.lines);
	mv_buf_deinit(&T.text);
	free(copy);
	mv_view_reader_deinit(&r);
	if (!err && sink->out->oom)
		err = mv_enomem;
	return err;
}
