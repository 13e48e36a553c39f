/* cmd_view.c - `view ADDR|EXPR [LEN]` (the debuggers' `memview`):
 * Python's memoryview() for target memory.  Decides what the argument
 * names and how many bytes, then hands the range to a view: hex
 * (view_hex.c), cast (view_cast.c) or typed (view_typed.c); --binary
 * and --output send bytes or text to a file, --diff compares with the
 * last view of the same range. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "session.h"
#include "value.h"
#include "view.h"

/* Lengths beyond the x86-64 user address space are typos, not views. */
#define VIEW_ABSURD_LEN (1ULL << 47)
#define VIEW_POINTER_LEN 64

struct view {
	struct mv_cmd_ctx *ctx;
	struct mv_session *s;
	uint64_t address;
	uint64_t len;
	bool has_len;          /* given by the user */
	struct mv_type *type;  /* of the object, for the typed view */
	const char *what;      /* how the argument was read, for the header */
	struct mv_outfile file; /* --output (file.f NULL: none) */
	bool force;            /* --force */
	struct mv_view_sink sink;
	struct mv_view_report report;
	struct mv_json j;
	/* --diff */
	uint8_t *cur, *cur_valid;  /* the range now (small ranges only) */
	struct mv_view_memo_slot *prev;
	/* --pointers */
	struct mv_ptr_annotator *ptrs;
	unsigned depth;        /* --depth: words per chain */
	bool color;            /* the session's, unless writing a file */
};

static struct mv_error *view_flush(void *arg)
{
	struct view *v = arg;
	/* A poll at each piece too (64 KiB of text; a line of --pointers
	 * comes from 8 bytes of memory, so the view's own poll per MiB of
	 * memory is ~19 MB of text apart): after Ctrl-C lldb takes only 64
	 * KiB more, and a write it refuses says only "output stopped". */
	struct mv_error *err = mv_ctx_poll(v->ctx);
	if (err)
		return err;
	if (!v->file.f)
		return mv_out_flush(v->ctx);
	struct mv_buf *b = &v->ctx->out;
	if (b->oom)
		return mv_enomem;
	err = mv_outfile_write(&v->file, b->data, b->len);
	mv_buf_clear(b);
	return err;
}

/* ---- the argument ---- */

static bool is_length_word(const char *w)
{
	const char *p = w;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return false;
		while (isxdigit((unsigned char)*p))
			p++;
	} else {
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p && strchr("kKmMgGtT", *p)) {
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B')
			p++;
	}
	return *p == '\0';
}

static struct mv_error *parse_length(const char *w, uint64_t *ret)
{
	errno = 0;
	char *end;
	bool neg = *w == '-';
	unsigned long long v = strtoull(neg ? w + 1 : w, &end, 0);
	if (end == w || errno == ERANGE)
		return mv_error_create(MV_ERR_USAGE,
				       "length '%s' is too large", w);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	if (neg)
		return mv_error_create(MV_ERR_USAGE,
				       "length must not be negative: %s", w);
	if (shift && v > (UINT64_MAX >> shift))
		return mv_error_create(MV_ERR_USAGE,
				       "length '%s' is too large", w);
	*ret = (uint64_t)v << shift;
	return NULL;
}

/* The joined argument is "EXPR" or "EXPR LEN": a last word that is a
 * number is a length unless the expression would then end in an
 * operator ("p + 16" is one expression). */
static struct mv_error *split_length(struct view *v, char **expr)
{
	const char *arg = v->ctx->pos[0];
	char *copy = strdup(arg);
	if (!copy)
		return mv_enomem;
	*expr = copy;
	size_t n = strlen(copy);
	while (n && copy[n - 1] == ' ')
		copy[--n] = '\0';
	char *sp = strrchr(copy, ' ');
	if (!sp || !is_length_word(sp + 1))
		return NULL;
	char *q = sp;
	while (q > copy && q[-1] == ' ')
		q--;
	if (q == copy || strchr("+-*/%&|^<>=,(!~?:[", q[-1]))
		return NULL;
	struct mv_error *err = parse_length(sp + 1, &v->len);
	if (err)
		return err;
	*q = '\0';
	v->has_len = true;
	return NULL;
}

static bool is_record(struct mv_type *st)
{
	return st && (st->kind == MV_TYPE_STRUCT || st->kind == MV_TYPE_UNION ||
		      st->kind == MV_TYPE_CLASS);
}

/* Byte buffers (uint8_t[N], char[N]) read best as hex, not as a list of
 * numbers. */
static bool is_byte_array(struct mv_type *st)
{
	if (!st || st->kind != MV_TYPE_ARRAY)
		return false;
	struct mv_type *e = mv_type_strip(mv_type_target(st));
	return e && (e->kind == MV_TYPE_INT || e->kind == MV_TYPE_BOOL) &&
	       e->size == 1;
}

static struct mv_error *resolve(struct view *v, const char *expr)
{
	struct mv_session *s = v->s;
	struct mv_error *err;
	const char *as_type = mv_opt_str(v->ctx, "type");
	struct mv_value val;
	if ((err = mv_session_eval(s, expr, &val)))
		return err;
	struct mv_type *st = mv_type_strip(val.type);
	uint64_t deflen = VIEW_POINTER_LEN;

	if (st && val.is_lvalue && st->kind != MV_TYPE_POINTER &&
	    st->kind != MV_TYPE_FUNCTION && st->size) {
		/* An object: its own bytes. */
		v->address = val.address;
		deflen = st->size;
		v->type = val.type;
		v->what = "object";
	} else if (st && st->kind == MV_TYPE_POINTER) {
		if ((err = mv_value_read_scalar(s->program, &val, &v->address)))
			return err;
		struct mv_type *target = mv_type_target(st);
		struct mv_type *tt = mv_type_strip(target);
		if (tt && (is_record(tt) || tt->kind == MV_TYPE_ARRAY) &&
		    tt->is_complete && tt->size) {
			deflen = tt->size;
			v->type = target;
		}
		v->what = "pointer";
	} else if (st && (st->kind == MV_TYPE_INT || st->kind == MV_TYPE_ENUM ||
			  st->kind == MV_TYPE_BOOL)) {
		if ((err = mv_value_read_scalar(s->program, &val, &v->address)))
			return err;
		v->what = "address";
	} else if (val.is_lvalue) {
		/* Functions, incomplete types: where they are. */
		v->address = val.address;
		v->what = "address";
	} else {
		char tn[256];
		mv_type_name(val.type, tn, sizeof(tn));
		return mv_error_create(MV_ERR_INVALID,
				       "'%s' (%s) is neither an address nor "
				       "an object in memory", expr, tn);
	}
	if (as_type) {
		struct mv_type *t;
		if ((err = mv_session_parse_type(s, as_type, &t)))
			return err;
		struct mv_type *ts = mv_type_strip(t);
		if (!ts || ts->kind == MV_TYPE_UNKNOWN || !ts->size)
			return mv_error_create(MV_ERR_INVALID,
					       "type '%s' has no size", as_type);
		v->type = t;
		deflen = ts->size;
	}
	if (!v->has_len)
		v->len = deflen;
	return NULL;
}

/* ---- limits ---- */

static void render_size(uint64_t n, char *buf, size_t size)
{
	if (n && n % (1ULL << 30) == 0)
		snprintf(buf, size, "%lluG", (unsigned long long)(n >> 30));
	else if (n && n % (1ULL << 20) == 0)
		snprintf(buf, size, "%lluM", (unsigned long long)(n >> 20));
	else if (n && n % 1024 == 0)
		snprintf(buf, size, "%lluK", (unsigned long long)(n >> 10));
	else
		snprintf(buf, size, "%llu", (unsigned long long)n);
}

static struct mv_error *check_length(struct view *v, uint64_t total)
{
	if (!total)
		return mv_error_create(MV_ERR_USAGE, "a length of 0 bytes "
				       "shows nothing: give LEN of 1 or more");
	if (total >= VIEW_ABSURD_LEN)
		return mv_error_create(MV_ERR_USAGE,
				       "a length of %llu bytes is more than the "
				       "whole address space",
				       (unsigned long long)total);
	if (v->address + total < v->address)
		return mv_error_create(MV_ERR_USAGE,
				       "0x%llx + %llu bytes runs past the end "
				       "of the address space",
				       (unsigned long long)v->address,
				       (unsigned long long)total);
	/* --binary streams to its file in bounded memory: no limit. */
	uint64_t max = (uint64_t)mv_opt_num(v->ctx, "max-bytes");
	if (max && total > max && !mv_opt_str(v->ctx, "binary")) {
		char a[32], b[32];
		render_size(total, a, sizeof(a));
		render_size(max, b, sizeof(b));
		return mv_error_create(MV_ERR_LIMIT,
				       "%s bytes is more than --max-bytes %s: "
				       "pass --max-bytes %s (or 0 for no "
				       "limit) to view it",
				       a, b, a);
	}
	return NULL;
}

/* ---- notes ---- */

static void span_reason(struct view *v, uint64_t at, char *buf, size_t size)
{
	uint8_t byte;
	struct mv_error *err = mv_target_read(v->s->target, at, &byte, 1);
	const char *msg = err ? mv_error_message(err) : "unreadable";
	const char *colon = strstr(msg, ": ");
	snprintf(buf, size, "%s", colon ? colon + 2 : msg);
	mv_error_destroy(err);
}

static void text_notes(struct view *v)
{
	struct mv_view_report *r = &v->report;
	struct mv_buf *b = &v->ctx->out;
	for (size_t i = 0; i < r->nspans; i++) {
		const struct mv_view_span *sp = &r->spans[i];
		char why[256];
		span_reason(v, sp->start, why, sizeof(why));
		mv_buf_printf(b, "note: %llu byte%s at 0x%llx..0x%llx "
			      "could not be read (%s): ",
			      (unsigned long long)(sp->end - sp->start),
			      sp->end - sp->start == 1 ? "" : "s",
			      (unsigned long long)sp->start,
			      (unsigned long long)sp->end, why);
		if (sp->start > v->address)
			mv_buf_printf(b, "the readable region ends at 0x%llx",
				      (unsigned long long)sp->start);
		else
			mv_buf_printf(b, "0x%llx is not readable",
				      (unsigned long long)sp->start);
		if (sp->end < v->address + v->len)
			mv_buf_printf(b, ", readable again from 0x%llx",
				      (unsigned long long)sp->end);
		mv_buf_putc(b, '\n');
	}
	if (r->spans_total > r->nspans)
		mv_buf_printf(b, "note: %zu more unreadable spans\n",
			      r->spans_total - r->nspans);
}

static void json_notes(struct view *v)
{
	struct mv_view_report *r = &v->report;
	mv_json_key(&v->j, "unreadable");
	mv_json_begin_array(&v->j);
	for (size_t i = 0; i < r->nspans; i++) {
		char why[256];
		span_reason(v, r->spans[i].start, why, sizeof(why));
		mv_json_begin_object(&v->j);
		mv_json_key(&v->j, "start");
		mv_json_address(&v->j, r->spans[i].start);
		mv_json_key(&v->j, "end");
		mv_json_address(&v->j, r->spans[i].end);
		mv_json_key(&v->j, "size");
		mv_json_uint(&v->j, r->spans[i].end - r->spans[i].start);
		mv_json_key(&v->j, "reason");
		mv_json_string(&v->j, why);
		mv_json_end_object(&v->j);
	}
	mv_json_end_array(&v->j);
	mv_json_key(&v->j, "unreadable_bytes");
	mv_json_uint(&v->j, r->unreadable);
}

static void json_header(struct view *v, const char *mode)
{
	mv_json_init(&v->j, &v->ctx->out, false);
	mv_json_begin_object(&v->j);
	mv_json_key(&v->j, "command");
	mv_json_string(&v->j, "view");
	mv_json_key(&v->j, "mode");
	mv_json_string(&v->j, mode);
	mv_json_key(&v->j, "address");
	mv_json_address(&v->j, v->address);
	mv_json_key(&v->j, "length");
	mv_json_uint(&v->j, v->len);
}

/* ---- --diff ---- */

static bool memo_valid(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] & (1u << (i % 8));
}

/* Reads a small range whole (bytes and which of them were readable),
 * to compare with the last view and to remember for the next. */
static struct mv_error *diff_prepare(struct view *v)
{
	if (v->len > MV_VIEW_MEMO_BYTES || !v->s->target)
		return NULL;
	size_t n = (size_t)v->len;
	v->cur = malloc(n ? n : 1);
	v->cur_valid = calloc(n / 8 + 1, 1);
	if (!v->cur || !v->cur_valid)
		return mv_enomem;
	struct mv_view_report scratch;
	memset(&scratch, 0, sizeof(scratch));
	struct mv_view_reader r;
	struct mv_error *err = mv_view_reader_init(&r, v->s->target, n ? n : 1,
						   &scratch);
	if (err)
		return err;
	size_t done = 0;
	while (done < n) {
		const uint8_t *data;
		size_t skip;
		size_t got = mv_view_reader_get(&r, v->address + done, n - done,
						&data, &skip);
		memcpy(v->cur + done, data, got);
		for (size_t i = done; i < done + got; i++)
			v->cur_valid[i / 8] |= (uint8_t)(1u << (i % 8));
		memset(v->cur + done + got, 0, skip);
		done += got + skip;
	}
	mv_view_reader_deinit(&r);
	struct mv_view_memo *m = &v->s->view_memo;
	for (size_t i = 0; i < MV_VIEW_MEMO_SLOTS; i++)
		if (m->slots[i].len && m->slots[i].address == v->address &&
		    m->slots[i].len == v->len)
			v->prev = &m->slots[i];
	return NULL;
}

static void diff_remember(struct view *v)
{
	if (!v->cur)
		return;
	struct mv_view_memo *m = &v->s->view_memo;
	struct mv_view_memo_slot *slot = v->prev;
	if (!slot) {
		slot = &m->slots[0];
		for (size_t i = 1; i < MV_VIEW_MEMO_SLOTS; i++)
			if (m->slots[i].stamp < slot->stamp)
				slot = &m->slots[i];
	}
	slot->address = v->address;
	slot->len = v->len;
	slot->stamp = ++m->clock;
	memcpy(slot->bytes, v->cur, (size_t)v->len);
	memcpy(slot->readable, v->cur_valid, (size_t)v->len / 8 + 1);
}

static uint64_t diff_count(struct view *v)
{
	uint64_t n = 0;
	for (uint64_t i = 0; v->prev && i < v->len; i++)
		if (memo_valid(v->prev->readable, i) &&
		    memo_valid(v->cur_valid, i) &&
		    v->prev->bytes[i] != v->cur[i])
			n++;
	return n;
}

static void diff_text_note(struct view *v)
{
	struct mv_buf *b = &v->ctx->out;
	if (!v->cur) {
		mv_buf_printf(b, "note: --diff remembers ranges of up to %u "
			      "bytes; this one has %llu\n",
			      MV_VIEW_MEMO_BYTES, (unsigned long long)v->len);
	} else if (!v->prev) {
		mv_buf_puts(b, "note: no earlier view of this range in this "
			       "session; the next --diff compares with this "
			       "one\n");
	} else {
		uint64_t n = diff_count(v);
		mv_buf_printf(b, "note: %llu byte%s changed since the last "
			      "view of this range\n", (unsigned long long)n,
			      n == 1 ? "" : "s");
	}
}

static void diff_json(struct view *v)
{
	mv_json_key(&v->j, "diff");
	if (!v->cur || !v->prev) {
		mv_json_null(&v->j);
		return;
	}
	mv_json_begin_object(&v->j);
	mv_json_key(&v->j, "changed_bytes");
	mv_json_uint(&v->j, diff_count(v));
	mv_json_key(&v->j, "changed");
	mv_json_begin_array(&v->j);
	for (uint64_t i = 0; i < v->len; i++) {
		if (!memo_valid(v->prev->readable, i) ||
		    !memo_valid(v->cur_valid, i) ||
		    v->prev->bytes[i] == v->cur[i])
			continue;
		mv_json_begin_object(&v->j);
		mv_json_key(&v->j, "offset");
		mv_json_uint(&v->j, i);
		mv_json_key(&v->j, "address");
		mv_json_address(&v->j, v->address + i);
		mv_json_key(&v->j, "old");
		mv_json_uint(&v->j, v->prev->bytes[i]);
		mv_json_key(&v->j, "new");
		mv_json_uint(&v->j, v->cur[i]);
		mv_json_end_object(&v->j);
	}
	mv_json_end_array(&v->j);
	mv_json_end_object(&v->j);
}

/* ---- --pointers ---- */

/* The word at a (8-byte aligned, wholly inside the view), if readable. */
static bool pointer_word(struct view *v, uint64_t a, uint64_t *ret)
{
	if (a < v->address || a + 8 > v->address + v->len || a + 8 < a)
		return false;
	uint8_t w[8];
	if (mv_target_read_partial(v->s->target, a, w, 8) != 8)
		return false;
	memcpy(ret, w, 8);
	return true;
}

/* After each hex line: one line per aligned word starting in it that
 * points somewhere known, indented to the hex column so that the dump's
 * own lines still stand out (pwndbg's telescope, under the dump). */
static struct mv_error *hex_pointer_lines(void *arg, struct mv_buf *out,
					  uint64_t address, unsigned n)
{
	struct view *v = arg;
	unsigned digits = 8;
	while (digits < 16 && (address >> (digits * 4)))
		digits++;
	for (uint64_t a = (address + 7) & ~7ULL; a < address + n; a += 8) {
		uint64_t word;
		if (!pointer_word(v, a, &word))
			continue;
		struct mv_ptr_note note;
		struct mv_error *err = mv_ptr_annotate(v->ptrs, word, &note);
		if (err)
			return err;
		if (note.kind == MV_PTR_NONE)
			continue;
		mv_buf_pad(out, ' ', digits + 2);
		mv_buf_printf(out, "+0x%llx  0x%llx -> ",
			      (unsigned long long)(a - v->address),
			      (unsigned long long)word);
		mv_ptr_render_text(&note, v->color, out);
		if (v->depth > 1) {
			const struct mv_ptr_chain *c;
			if ((err = mv_ptr_follow(v->ptrs, a, &note, v->depth,
						 &c)))
				return err;
			mv_ptr_render_chain_text(c, v->color, out);
		}
		mv_buf_putc(out, '\n');
	}
	return NULL;
}

/* JSON: "pointers": every aligned word of the view that points somewhere
 * known, in address order. */
static struct mv_error *json_pointers(struct view *v)
{
	mv_json_key(&v->j, "pointers");
	mv_json_begin_array(&v->j);
	uint64_t polled = v->address;
	for (uint64_t a = (v->address + 7) & ~7ULL;
	     a >= v->address && a < v->address + v->len; a += 8) {
		uint64_t word;
		if (!pointer_word(v, a, &word))
			continue;
		struct mv_ptr_note note;
		struct mv_error *err = mv_ptr_annotate(v->ptrs, word, &note);
		if (!err && a - polled >= MV_VIEW_POLL_BYTES) {
			polled = a;
			mv_progress_report(v->ctx->session, "bytes",
					   a - v->address, v->len);
			err = mv_ctx_poll(v->ctx);
		}
		if (!err)
			err = mv_view_sink_flush(&v->sink, false);
		if (err)
			return err;
		if (note.kind == MV_PTR_NONE)
			continue;
		mv_json_begin_object(&v->j);
		mv_json_key(&v->j, "offset");
		mv_json_uint(&v->j, a - v->address);
		mv_json_key(&v->j, "address");
		mv_json_address(&v->j, a);
		mv_json_key(&v->j, "value");
		mv_json_address(&v->j, word);
		mv_ptr_render_json(&note, &v->j);
		if (v->depth > 1) {
			const struct mv_ptr_chain *c;
			if ((err = mv_ptr_follow(v->ptrs, a, &note, v->depth,
						 &c)))
				return err;
			mv_ptr_render_chain_json(c, &v->j);
		}
		mv_json_end_object(&v->j);
	}
	mv_json_end_array(&v->j);
	return NULL;
}

/* ---- modes ---- */

static struct mv_error *hex_options(struct view *v, struct mv_hex_opts *o)
{
	struct mv_cmd_ctx *ctx = v->ctx;
	memset(o, 0, sizeof(*o));
	int64_t width = mv_opt_num(ctx, "width");
	int64_t group = mv_opt_num(ctx, "group");
	if (width < 1 || width > MV_HEX_MAX_WIDTH)
		return mv_error_create(MV_ERR_USAGE,
				       "--width must be 1 to %d (as xxd -c), "
				       "not %lld", MV_HEX_MAX_WIDTH,
				       (long long)width);
	if (group < 0)
		return mv_error_create(MV_ERR_USAGE,
				       "--group must be 0 (no groups) or more, "
				       "not %lld", (long long)group);
	/* xxd -e: little-endian words of 4 bytes unless -g says. */
	bool le = mv_opt_flag(ctx, "little-endian");
	if (le && !mv_opt_set(ctx, "group"))
		group = 4;
	if (le && (group < 1 || group > width))
		return mv_error_create(MV_ERR_USAGE,
				       "--little-endian needs words of 1 to "
				       "--width bytes (-g 2, 4 or 8), not %lld",
				       (long long)group);
	/* Default width follows the terminal, never wider than xxd's. */
	if (!mv_opt_set(ctx, "width") && v->s->width > 0) {
		while (width > 4 && (!le || width / 2 >= group) &&
		       (int64_t)(14 + 2 * width + width / (group ? group : width) +
				 2 + width) > v->s->width)
			width /= 2;
	}
	if (le && width % group)
		return mv_error_create(MV_ERR_USAGE,
				       "--little-endian: the width (%lld) must "
				       "be a multiple of the word (%lld bytes)",
				       (long long)width, (long long)group);
	o->width = (unsigned)width;
	o->group = (unsigned)group;
	o->little_endian = le;
	o->color = v->color;
	if (v->ptrs && !v->ctx->json) {
		o->after_line = hex_pointer_lines;
		o->after_line_arg = v;
	}
	if (mv_opt_flag(ctx, "diff") && v->prev) {
		o->prev = v->prev->bytes;
		o->prev_valid = v->prev->readable;
		o->prev_len = v->prev->len;
	}
	return NULL;
}

static struct mv_error *run_hex(struct view *v)
{
	struct mv_hex_opts o;
	struct mv_error *err = hex_options(v, &o);
	if (err)
		return err;
	struct mv_cmd_ctx *ctx = v->ctx;
	if (ctx->json) {
		json_header(v, "hex");
		mv_json_key(&v->j, "width");
		mv_json_uint(&v->j, o.width);
		mv_json_key(&v->j, "group");
		mv_json_uint(&v->j, o.group);
		mv_json_key(&v->j, "bytes");
		mv_json_raw(&v->j, "\"");
		o.hex_only = true;
	}
	err = mv_view_hex(v->s->target, v->address, v->len, &o, &v->sink,
			  &v->report);
	if (err)
		return err;
	if (ctx->json) {
		mv_buf_putc(&ctx->out, '"');
		if (v->ptrs && (err = json_pointers(v)))
			return err;
		json_notes(v);
		if (mv_opt_flag(ctx, "diff"))
			diff_json(v);
		mv_json_end_object(&v->j);
		mv_buf_putc(&ctx->out, '\n');
	} else {
		text_notes(v);
		if (mv_opt_flag(ctx, "diff"))
			diff_text_note(v);
	}
	return NULL;
}

static struct mv_error *run_cast(struct view *v)
{
	struct mv_cmd_ctx *ctx = v->ctx;
	struct mv_cast_opts o;
	memset(&o, 0, sizeof(o));
	struct mv_error *err = mv_cast_parse_format(mv_opt_str(ctx, "as"),
						    &o.fmt);
	if (err)
		return err;
	const char *shape = mv_opt_str(ctx, "shape");
	if (shape && (err = mv_cast_parse_shape(shape, o.dims, &o.ndims)))
		return err;
	o.has_shape = shape != NULL;
	const char *slice = mv_opt_str(ctx, "slice");
	if (slice) {
		if ((err = mv_cast_parse_slice(slice, &o.slice)))
			return err;
		o.has_slice = true;
	}
	if ((err = mv_cast_check(&o, v->len)))
		return err;
	o.json = ctx->json;
	if (ctx->json) {
		json_header(v, "cast");
		mv_json_key(&v->j, "format");
		mv_json_string(&v->j, mv_opt_str(ctx, "as"));
		mv_json_key(&v->j, "itemsize");
		mv_json_uint(&v->j, o.fmt.itemsize);
		mv_json_key(&v->j, "shape");
		mv_json_begin_array(&v->j);
		for (size_t i = 0; i < o.ndims; i++)
			mv_json_uint(&v->j, o.dims[i]);
		mv_json_end_array(&v->j);
		mv_json_key(&v->j, "slice");
		mv_json_string(&v->j, slice);
		mv_json_key(&v->j, "values");
		mv_json_raw(&v->j, "");
	}
	err = mv_view_cast(v->s->target, v->address, &o, &v->sink, &v->report);
	if (err)
		return err;
	if (ctx->json) {
		json_notes(v);
		mv_json_end_object(&v->j);
		mv_buf_putc(&ctx->out, '\n');
	} else {
		mv_buf_putc(&ctx->out, '\n');
		text_notes(v);
	}
	return NULL;
}

/* --binary FILE: the raw bytes, streamed; unreadable bytes are written
 * as zeros so that file offsets stay target offsets, and listed. */
static struct mv_error *run_binary(struct view *v)
{
	const char *path = mv_opt_str(v->ctx, "binary");
	struct mv_outfile f;
	struct mv_error *ferr = mv_outfile_open(&f, path, "--binary",
						v->force);
	if (ferr)
		return ferr;
	static const uint8_t zeros[4096];
	struct mv_view_reader r;
	size_t chunk = 1u << 20;
	struct mv_error *err = mv_view_reader_init(&r, v->s->target, chunk,
						   &v->report);
	uint64_t done = 0, polled = 0;
	while (!err && done < v->len) {
		uint64_t want = v->len - done < chunk ? v->len - done : chunk;
		const uint8_t *data;
		size_t skip;
		size_t n = mv_view_reader_get(&r, v->address + done,
					      (size_t)want, &data, &skip);
		err = mv_outfile_write(&f, data, n);
		for (size_t z = skip; !err && z;) {
			size_t k = z < sizeof(zeros) ? z : sizeof(zeros);
			err = mv_outfile_write(&f, zeros, k);
			z -= k;
		}
		done += n + skip;
		if (!err && done - polled >= MV_VIEW_POLL_BYTES) {
			polled = done;
			mv_progress_report(v->ctx->session, "bytes", done,
					   v->len);
			err = mv_ctx_poll(v->ctx);
		}
	}
	mv_view_reader_deinit(&r);
	/* Interrupted: the bytes so far stay, as the answer says. */
	bool keep = !err || mv_error_code(err) == MV_ERR_INTERRUPTED;
	ferr = mv_outfile_close(&f, keep);
	if (!err)
		err = ferr;
	else
		mv_error_destroy(ferr);
	if (err)
		return err;
	if (v->ctx->json) {
		json_header(v, "binary");
		mv_json_key(&v->j, "file");
		mv_json_string(&v->j, path);
		json_notes(v);
		mv_json_end_object(&v->j);
		mv_out(v->ctx, "\n");
	} else {
		mv_out(v->ctx, "wrote %llu bytes from 0x%llx to %s\n",
		       (unsigned long long)v->len,
		       (unsigned long long)v->address, path);
		text_notes(v);
		if (v->report.unreadable)
			mv_out(v->ctx, "note: unreadable bytes were written "
				       "as zeros\n");
	}
	return NULL;
}

static struct mv_error *run_typed(struct view *v, uint64_t count)
{
	struct mv_cmd_ctx *ctx = v->ctx;
	struct mv_typed_opts o;
	int64_t max = mv_opt_num(ctx, "max-elements");
	o.count = count;
	o.max_elements = max > 0 ? (uint64_t)max : 0;
	o.name = ctx->pos[0];
	o.ptrs = ctx->json ? NULL : v->ptrs;
	o.depth = v->depth;
	o.color = v->color;
	o.diff_prev = o.diff_prev_valid = NULL;
	if (mv_opt_flag(ctx, "diff") && v->prev) {
		o.diff_prev = v->prev->bytes;
		o.diff_prev_valid = v->prev->readable;
		o.diff_base = v->prev->address;
		o.diff_len = v->prev->len;
	}
	if (ctx->json)
		json_header(v, "typed");
	struct mv_error *err = mv_view_typed(v->s->program, v->type, v->address,
					     &o, &v->sink,
					     ctx->json ? &v->j : NULL,
					     &v->report);
	if (err)
		return err;
	if (ctx->json) {
		if (v->ptrs && (err = json_pointers(v)))
			return err;
		json_notes(v);
		if (mv_opt_flag(ctx, "diff"))
			diff_json(v);
		mv_json_end_object(&v->j);
		mv_buf_putc(&ctx->out, '\n');
	} else {
		text_notes(v);
		if (mv_opt_flag(ctx, "diff"))
			diff_text_note(v);
	}
	return NULL;
}

struct mv_error *mv_cmd_view(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err;
	struct view v;
	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	v.s = s;
	v.sink = (struct mv_view_sink){&ctx->out, view_flush, &v, s->poll};
	if ((err = mv_session_need_target(s)))
		return err;
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "view needs memory: give --core FILE or "
				       "--pid PID");

	char *expr = NULL;
	if (!(err = split_length(&v, &expr)))
		err = resolve(&v, expr);
	free(expr);
	if (err)
		return err;

	const char *as = mv_opt_str(ctx, "as");
	const char *binary = mv_opt_str(ctx, "binary");
	const char *output = mv_opt_str(ctx, "output");
	bool typed_opts = mv_opt_set(ctx, "count");
	/* --depth N asks for chains: --pointers with N words each. */
	bool pointers = mv_opt_flag(ctx, "pointers") || mv_opt_set(ctx, "depth");
	int64_t depth = mv_opt_num(ctx, "depth");
	if (pointers && (as || binary))
		return mv_error_create(MV_ERR_USAGE,
				       "--%s goes with the hex and typed "
				       "views, not with --%s",
				       mv_opt_flag(ctx, "pointers") ? "pointers"
								    : "depth",
				       as ? "as" : "binary");
	if (depth < 1 || depth > MV_PTR_MAX_DEPTH)
		return mv_error_create(MV_ERR_USAGE,
				       "--depth must be 1 to %d, not %lld",
				       MV_PTR_MAX_DEPTH, (long long)depth);
	v.depth = (unsigned)depth;
	if ((mv_opt_set(ctx, "shape") || mv_opt_set(ctx, "slice")) && !as)
		return mv_error_create(MV_ERR_USAGE,
				       "--shape and --slice go with --as FMT");
	if (as && binary)
		return mv_error_create(MV_ERR_USAGE,
				       "--as and --binary do not go together");
	int64_t count = mv_opt_num(ctx, "count");
	if (typed_opts && count < 1)
		return mv_error_create(MV_ERR_USAGE,
				       "--count must be 1 or more, not %lld",
				       (long long)count);

	struct mv_type *st = mv_type_strip(v.type);
	bool typed = !as && !binary && !mv_opt_flag(ctx, "hex") && st &&
		     (mv_opt_set(ctx, "type") || typed_opts ||
		      (!v.has_len && (is_record(st) ||
				      (st->kind == MV_TYPE_ARRAY &&
				       !is_byte_array(st)))));
	uint64_t total = v.len;
	if (typed && count > 1) {
		if (st->size && (uint64_t)count > VIEW_ABSURD_LEN / st->size)
			return mv_error_create(MV_ERR_USAGE,
					       "--count %lld is absurd",
					       (long long)count);
		total = st->size * (uint64_t)count;
	}
	if ((err = check_length(&v, total)))
		return err;
	v.len = total;

	v.force = mv_opt_flag(ctx, "force");
	if (output && !binary &&
	    (err = mv_outfile_open(&v.file, output, "--output", v.force)))
		return err;
	/* Colour only on the session's say-so, never into a file. */
	v.color = s->color && !v.file.f && !ctx->json;
	if (pointers) {
		uint64_t mh;
		if ((err = mv_opt_count(ctx, "max-heap-chunks", &mh)))
			goto out;
		err = mv_ptr_annotator_create(
			s->program, mh ? mh : MV_HEAP_NO_LIMIT, s->poll,
			&v.ptrs);
		if (err)
			goto out;
	}
	if ((err = diff_prepare(&v)))
		goto out;
	if (binary)
		err = run_binary(&v);
	else if (as)
		err = run_cast(&v);
	else if (typed)
		err = run_typed(&v, (uint64_t)(count > 1 ? count : 1));
	else
		err = run_hex(&v);
	if (!err)
		diff_remember(&v);
out:
	if (v.file.f) {
		struct mv_error *ferr = err ? NULL : view_flush(&v);
		struct mv_error *cerr = mv_outfile_close(&v.file,
							 !err && !ferr);
		if (!ferr)
			ferr = cerr;
		else
			mv_error_destroy(cerr);
		mv_buf_clear(&ctx->out);
		if (!err && !ferr)
			mv_out(ctx, "wrote the view of %llu bytes at 0x%llx "
			       "to %s\n", (unsigned long long)v.len,
			       (unsigned long long)v.address, output);
		if (!err)
			err = ferr;
		else
			mv_error_destroy(ferr);
	}
	mv_ptr_annotator_destroy(v.ptrs);
	free(v.cur);
	free(v.cur_valid);
	if (!err)
		err = mv_buf_error(&ctx->out);
	return err;
}

static const struct mv_option view_options[] = {
	{"width", 'c', MV_OPT_INT, "N",
	 "bytes per line, as xxd -c (1 to 256)", "16", NULL},
	{"group", 'g', MV_OPT_INT, "N",
	 "bytes per group, as xxd -g (0: no groups)", "2", NULL},
	{"max-bytes", 0, MV_OPT_SIZE, "SIZE",
	 "refuse longer views (0: no limit)", "1M", NULL},
	{"hex", 'x', MV_OPT_FLAG, NULL,
	 "a hex dump even of a struct or array", NULL, NULL},
	{"little-endian", 'e', MV_OPT_FLAG, NULL,
	 "hex: each group a little-endian word, as xxd -e (and gdb's x/wx; "
	 "groups of 4 unless --group)", NULL, NULL},
	{"as", 'a', MV_OPT_STRING, "FMT",
	 "cast to a struct-module format, as memoryview.cast (i, @d, <H)",
	 NULL, NULL},
	{"shape", 0, MV_OPT_STRING, "DIMS",
	 "with --as: dimensions, e.g. 2x3", NULL, NULL},
	{"slice", 0, MV_OPT_STRING, "START:STOP:STEP",
	 "with --as: a Python slice of the first dimension", NULL, NULL},
	{"type", 't', MV_OPT_STRING, "TYPE",
	 "typed view of the object at ADDR as TYPE", NULL, NULL},
	{"count", 'n', MV_OPT_INT, "N",
	 "typed view of N consecutive objects", NULL, NULL},
	{"max-elements", 0, MV_OPT_INT, "N",
	 "typed view: array elements shown (0: all)", "200", NULL},
	{"pointers", 'p', MV_OPT_FLAG, NULL,
	 "annotate pointer-sized words that point somewhere known", NULL,
	 NULL},
	{"depth", 0, MV_OPT_INT, "N",
	 "follow each pointer through N words, as pwndbg's telescope (1 to "
	 "64; implies --pointers)", "1", NULL},
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{"diff", 'd', MV_OPT_FLAG, NULL,
	 "mark bytes (hex) or fields (typed) changed since the last view "
	 "of the same range", NULL,
	 NULL},
	{"output", 'o', MV_OPT_STRING, "FILE",
	 "write the view to FILE instead", NULL, NULL},
	{"binary", 0, MV_OPT_STRING, "FILE",
	 "write the raw bytes to FILE", NULL, NULL},
	MV_OPTION_FORCE,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_view = {
	.name = "view",
	.debugger_name = "memview",
	.synopsis = "ADDR|EXPR [LEN]",
	.summary = "Show target memory as hex, as typed fields, or cast to "
		   "a format and shape, like Python's memoryview.",
	.description =
		"ADDR|EXPR is any expression. An object (a variable, "
		"'*ptr', 'arr[3]') is viewed where it is, LEN defaulting "
		"to its size; a pointer is followed, LEN defaulting to the "
		"size of what it points to if that is a struct, union or "
		"array, else to 64; an integer is an address (LEN 64). "
		"LEN is a number of bytes (16, 0x40, 4K, 1M).\n\n"
		"The hex dump is byte for byte what xxd prints for the same "
		"bytes (--width and --group are xxd's -c and -g), except "
		"that the address column shows target addresses. Bytes "
		"that cannot be read show as ?? and a note says where the "
		"readable memory ends; a run of unreadable lines shows as "
		"'*'.\n\n"
		"A struct, union or array (except byte arrays) gets a typed "
		"view: every field with its offset, size, type, value and "
		"bytes, holes and padding shown; --type views the memory "
		"at ADDR as TYPE, --count N views N consecutive objects, "
		"--hex forces a hex dump.\n\n"
		"--pointers annotates each 8-byte-aligned word that points "
		"somewhere known: a symbol (<name+offset>), a heap chunk "
		"(its start, size, and whether it is in use or free), a "
		"thread's stack (thread N, offset from its rsp), and the "
		"string there, escaped so that control and bidi characters "
		"never reach the terminal. The hex dump shows one line per "
		"such word under its row; a typed view adds the heap chunk "
		"or stack to pointer fields; JSON gets a \"pointers\" "
		"list.\n\n"
		"--depth N (which implies --pointers) follows each such "
		"pointer as pwndbg's telescope does: the word at the address "
		"pointed to (\"; holds 0x...\"), what that points to, and "
		"so on through N words in all, through any mapped memory. A "
		"chain stops at a value that is no mapped address, at a "
		"string (shown), at code, "
		"at an unreadable word, and at a word it has read already "
		"(\"[cycle]\"); \"; ...\" says it would go on past N. JSON "
		"gives each pointer a \"chain\" of hops (address, value, "
		"kind, details) and why it ended (\"chain_end\").\n\n"
		"--as FMT casts the bytes as memoryview.cast(FMT, shape) "
		"does and prints tolist(): FMT is one native struct-module "
		"code (c b B h H i I l L q Q n N f d ? P, optionally after "
		"@), or one of the fixed-size codes after a byte order < > "
		"= ! (which memoryview does not offer; e is allowed there). "
		"The length must be a multiple of the item size, and with "
		"--shape equal to the item size times the product of the "
		"shape. P values (pointers) are printed in hex; the JSON "
		"keeps Python's numbers.\n\n"
		"Views longer than --max-bytes (1M) are refused until the "
		"limit is raised (--binary is not: it streams); --binary "
		"FILE streams raw bytes and --output FILE the rendered "
		"view, in constant memory.",
	.options = view_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_view,
};
