/* cmd_find.c - `find`: where a value, a string or some bytes lie in the
 * target's memory (gdb's find, pwndbg's search), each place named as
 * view --pointers names an address. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "view.h"

#define FIND_WINDOW (1u << 20)  /* bytes read at a time */
#define FIND_PATTERN_MAX 256

struct find {
	struct mv_cmd_ctx *ctx;
	uint8_t pat[FIND_PATTERN_MAX];
	size_t plen;
	unsigned align;            /* matches only at multiples of this */
	uint64_t max, found;
	bool truncated;
	uint64_t searched, unreadable;
	size_t regions;
	struct mv_ptr_annotator *ptrs;
	struct mv_json j;
};

/* A number for a word of size bytes: decimal or 0x hex, negative in
 * two's complement; it must fit. */
static struct mv_error *parse_value(const char *text, unsigned size,
				    struct find *f)
{
	const char *p = text;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (!isdigit((unsigned char)*p))
		return mv_error_create(MV_ERR_USAGE, "find: '%s' is not a "
				       "number (--string TEXT or --hex BYTES "
				       "for others)", text);
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, 0);
	if (errno || *end)
		return mv_error_create(MV_ERR_USAGE, "find: '%s' is not a "
				       "number", text);
	uint64_t bits = size * 8u;
	uint64_t umax = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
	uint64_t nmax = 1ULL << (bits - 1); /* magnitude of the minimum */
	if ((!neg && v > umax) || (neg && v > nmax))
		return mv_error_create(MV_ERR_USAGE, "find: %s does not fit "
				       "in %u byte%s (--size)", text, size,
				       size == 1 ? "" : "s");
	uint64_t w = neg ? (uint64_t)0 - v : v;
	for (unsigned i = 0; i < size; i++)
		f->pat[i] = (uint8_t)(w >> (8 * i)); /* little-endian */
	f->plen = size;
	return NULL;
}

/* "de ad be ef", "deadbeef", "0xde 0xad": pairs of hex digits. */
static struct mv_error *parse_hex(const char *text, struct find *f)
{
	f->plen = 0;
	for (const char *p = text; *p;) {
		if (isspace((unsigned char)*p) || *p == ',') {
			p++;
			continue;
		}
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		if (!isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]))
			return mv_error_create(MV_ERR_USAGE, "find --hex: "
					       "'%s' is not pairs of hex "
					       "digits", text);
		if (f->plen == FIND_PATTERN_MAX)
			return mv_error_create(MV_ERR_USAGE, "find: at most "
					       "%d bytes", FIND_PATTERN_MAX);
		char pair[3] = {p[0], p[1], 0};
		f->pat[f->plen++] = (uint8_t)strtoul(pair, NULL, 16);
		p += 2;
	}
	if (!f->plen)
		return mv_error_create(MV_ERR_USAGE, "find --hex: no bytes");
	return NULL;
}

static struct mv_error *report(struct find *f, uint64_t address)
{
	struct mv_cmd_ctx *ctx = f->ctx;
	if (f->max && f->found >= f->max) {
		f->truncated = true;
		return NULL;
	}
	f->found++;
	struct mv_ptr_note note;
	struct mv_error *err = mv_ptr_annotate(f->ptrs, address, &note);
	if (err)
		return err;
	if (ctx->json) {
		mv_json_begin_object(&f->j);
		mv_json_key(&f->j, "address");
		mv_json_address(&f->j, address);
		mv_ptr_render_json(&note, &f->j);
		mv_json_end_object(&f->j);
	} else {
		mv_out(ctx, "0x%016llx  ", (unsigned long long)address);
		if (note.kind == MV_PTR_NONE || note.kind == MV_PTR_STRING) {
			const struct mv_region *r = mv_target_find_region(
				ctx->session->target, address);
			mv_out(ctx, "%s", r && r->path && r->path[0]
					      ? mv_ctx_text(ctx, r->path)
					      : "anonymous mapping");
		} else {
			note.has_string = false;
			mv_ptr_render_text(&note, ctx->session->color,
					   &ctx->out);
		}
		mv_out(ctx, "\n");
	}
	if (f->found % 256 == 0)
		return mv_out_flush(ctx);
	return NULL;
}

/* One region, a window at a time; a window overlaps the next by the
 * pattern's length less one, so a match across the seam is found once.
 * The first unreadable byte ends the region (a core's region past what
 * it holds): the rest is counted, not read page by page. */
static struct mv_error *search_region(struct find *f,
				      const struct mv_region *r, uint8_t *buf)
{
	struct mv_session *s = f->ctx->session;
	uint64_t pos = r->start;
	while (pos < r->end && !f->truncated) {
		if (s->poll && s->poll())
			return mv_error_create(MV_ERR_INTERRUPTED,
					       "interrupted");
		uint64_t want = r->end - pos;
		if (want > FIND_WINDOW)
			want = FIND_WINDOW;
		size_t n = mv_target_read_partial(s->target, pos, buf,
						  (size_t)want);
		if (n < f->plen) {
			/* The region's last bytes, or its readable part's. */
			if (n < want)
				f->unreadable += r->end - pos - n;
			f->searched += n;
			return NULL;
		}
		bool last = pos + n >= r->end || n < want;
		/* Matches starting before owned lie whole in this window; the
		 * next window starts there. */
		size_t owned = n - f->plen + 1;
		size_t at = 0;
		while (at < owned) {
			const uint8_t *hit = memmem(buf + at, n - at, f->pat,
						    f->plen);
			if (!hit || (size_t)(hit - buf) >= owned)
				break;
			uint64_t addr = pos + (uint64_t)(hit - buf);
			at = (size_t)(hit - buf) + 1;
			if (addr % f->align)
				continue;
			struct mv_error *err = report(f, addr);
			if (err)
				return err;
			if (f->truncated)
				return NULL;
		}
		if (n < want) {
			/* Unreadable from pos + n on. */
			f->searched += n;
			f->unreadable += r->end - pos - n;
			return NULL;
		}
		uint64_t step = last ? n : owned;
		f->searched += step;
		pos += step;
		mv_progress_report(s, "bytes searched", f->searched, 0);
	}
	return NULL;
}

static bool wanted(const struct mv_region *r, const char *in,
		   uint64_t lo, uint64_t hi)
{
	if (!(r->perms & MV_PERM_R))
		return false;
	if (!in || !strcmp(in, "all"))
		return true;
	if (!strcmp(in, "writable"))
		return r->perms & MV_PERM_W;
	return r->start < hi && r->end > lo;
}

/* --in ADDR,+LEN or ADDR,END (gdb's find), else all / writable. */
static struct mv_error *parse_in(const char *in, uint64_t *lo, uint64_t *hi)
{
	*lo = 0;
	*hi = UINT64_MAX;
	if (!in || !strcmp(in, "all") || !strcmp(in, "writable"))
		return NULL;
	char *end;
	errno = 0;
	unsigned long long a = strtoull(in, &end, 0);
	const char *comma = end;
	while (*comma == ' ')
		comma++;
	if (errno || end == in || *comma != ',')
		goto bad;
	const char *q = comma + 1;
	while (*q == ' ')
		q++;
	bool plus = *q == '+';
	if (plus)
		q++;
	unsigned long long b = strtoull(q, &end, 0);
	if (errno || end == q || *end)
		goto bad;
	*lo = a;
	*hi = plus ? (b > UINT64_MAX - a ? UINT64_MAX : a + b) : b;
	if (*hi <= *lo)
		return mv_error_create(MV_ERR_USAGE, "find --in: an empty "
				       "range");
	return NULL;
bad:
	return mv_error_create(MV_ERR_USAGE, "find --in takes all, writable, "
			       "START,+LENGTH or START,END, not '%s'", in);
}

struct mv_error *mv_cmd_find(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err = mv_session_need_memory(s);
	if (err)
		return err;
	struct find f;
	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	const char *text = ctx->pos[0];
	bool as_string = mv_opt_flag(ctx, "string");
	bool as_hex = mv_opt_flag(ctx, "hex");
	int64_t size = mv_opt_num(ctx, "size");
	if (as_string && as_hex)
		return mv_error_create(MV_ERR_USAGE, "find: --string or --hex, "
				       "not both");
	if (mv_opt_set(ctx, "size") && (as_string || as_hex))
		return mv_error_create(MV_ERR_USAGE, "find: --size is for "
				       "numbers");
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return mv_error_create(MV_ERR_USAGE, "find --size takes 1, 2, "
				       "4 or 8");
	if (as_string) {
		size_t len = strlen(text);
		if (!len || len > FIND_PATTERN_MAX)
			return mv_error_create(MV_ERR_USAGE, "find --string: "
					       "1 to %d bytes",
					       FIND_PATTERN_MAX);
		memcpy(f.pat, text, len);
		f.plen = len;
	} else if (as_hex) {
		err = parse_hex(text, &f);
	} else {
		err = parse_value(text, (unsigned)size, &f);
	}
	if (err)
		return err;
	f.align = mv_opt_flag(ctx, "aligned") && !as_string && !as_hex
			  ? (unsigned)size : 1;
	if ((err = mv_opt_count(ctx, "max", &f.max)))
		return err;
	const char *in = mv_opt_str(ctx, "in");
	uint64_t lo, hi;
	if ((err = parse_in(in, &lo, &hi)))
		return err;
	uint64_t mh;
	if ((err = mv_opt_count(ctx, "max-heap-chunks", &mh)))
		return err;
	if ((err = mv_ptr_annotator_create(s->program,
					   mh ? mh : MV_HEAP_NO_LIMIT, s->poll,
					   &f.ptrs)))
		return err;
	uint8_t *buf = malloc(FIND_WINDOW);
	if (!buf) {
		mv_ptr_annotator_destroy(f.ptrs);
		return mv_enomem;
	}
	char hex[2 * FIND_PATTERN_MAX + 1];
	for (size_t i = 0; i < f.plen; i++)
		snprintf(hex + 2 * i, 3, "%02x", f.pat[i]);
	if (ctx->json) {
		mv_json_init(&f.j, &ctx->out, false);
		mv_json_begin_object(&f.j);
		mv_json_key(&f.j, "command");
		mv_json_string(&f.j, "find");
		mv_json_key(&f.j, "bytes");
		mv_json_string(&f.j, hex);
		mv_json_key(&f.j, "matches");
		mv_json_begin_array(&f.j);
	}
	const struct mv_region *r;
	size_t n = mv_target_regions(s->target, &r);
	for (size_t i = 0; i < n && !err && !f.truncated; i++) {
		if (!wanted(&r[i], in, lo, hi))
			continue;
		struct mv_region clip = r[i];
		if (clip.start < lo)
			clip.start = lo;
		if (clip.end > hi)
			clip.end = hi;
		f.regions++;
		err = search_region(&f, &clip, buf);
	}
	free(buf);
	mv_ptr_annotator_destroy(f.ptrs);
	/* Interrupted: what was found so far is the answer. */
	bool interrupted = err && mv_error_code(err) == MV_ERR_INTERRUPTED;
	if (err && !interrupted)
		return err;
	mv_error_destroy(err);
	if (ctx->json) {
		mv_json_end_array(&f.j);
		mv_json_key(&f.j, "partial");
		mv_json_bool(&f.j, interrupted);
		mv_json_key(&f.j, "truncated");
		mv_json_bool(&f.j, f.truncated);
		mv_json_key(&f.j, "regions");
		mv_json_uint(&f.j, f.regions);
		mv_json_key(&f.j, "searched_bytes");
		mv_json_uint(&f.j, f.searched);
		mv_json_key(&f.j, "unreadable_bytes");
		mv_json_uint(&f.j, f.unreadable);
		mv_json_end_object(&f.j);
		mv_out(ctx, "\n");
	} else {
		mv_out(ctx, "%s%llu match%s of ",
		       interrupted ? "[PARTIAL: interrupted] " : "",
		       (unsigned long long)f.found, f.found == 1 ? "" : "es");
		if (as_string) {
			mv_out(ctx, "\"");
			mv_buf_escape(&ctx->out, text, strlen(text), 0);
			mv_out(ctx, "\"");
		} else if (as_hex) {
			mv_out(ctx, "bytes %s", hex);
		} else {
			mv_out(ctx, "%s (%u byte%s)", mv_ctx_text(ctx, text),
			       (unsigned)size, size == 1 ? "" : "s");
		}
		mv_out(ctx, " in %zu region%s (%llu bytes searched",
		       f.regions, f.regions == 1 ? "" : "s",
		       (unsigned long long)f.searched);
		if (f.unreadable)
			mv_out(ctx, ", %llu not readable",
			       (unsigned long long)f.unreadable);
		mv_out(ctx, ")%s\n", f.truncated ? "; stopped at --max, "
						  "there are more" : "");
	}
	return mv_buf_error(&ctx->out);
}

static const struct mv_option find_options[] = {
	{"size", 's', MV_OPT_INT, "N",
	 "bytes of the number: 1, 2, 4 or 8 (little-endian)", "8", NULL},
	{"string", 0, MV_OPT_FLAG, NULL,
	 "search for the text itself (no NUL after it)", NULL, NULL},
	{"hex", 0, MV_OPT_FLAG, NULL,
	 "search for bytes given as hex pairs ('de ad be ef')", NULL, NULL},
	{"aligned", 0, MV_OPT_FLAG, NULL,
	 "a number only at addresses that are multiples of its size", NULL,
	 NULL},
	{"in", 0, MV_OPT_STRING, "WHERE",
	 "all readable regions, writable ones, or START,+LENGTH / START,END",
	 "all", NULL},
	{"max", 'n', MV_OPT_INT, "N", "stop after N matches (0: all)", "100",
	 NULL},
	MV_OPTION_MAX_HEAP_CHUNKS,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_find_cmd = {
	.name = "find",
	.debugger_name = "mv-find",
	.synopsis = "VALUE|TEXT|BYTES",
	.summary = "Find a number, a string or bytes in the target's "
		   "memory, each place named.",
	.description =
		"Searches every readable region (a core's and the mapped "
		"files' bytes) for a number of --size bytes (default 8, a "
		"pointer: where is this address stored?), for --string TEXT "
		"or for --hex BYTES, as gdb's find and pwndbg's search do, "
		"and names each place as view --pointers names an address: "
		"a symbol and offset, a heap block, a thread's stack, or the "
		"region's file. Matches may overlap and are not aligned "
		"unless --aligned. A region that is partly unreadable (past "
		"what a core holds) is searched up to there, the rest "
		"counted. Ctrl-C stops with the matches found so far. "
		"referrers finds pointers into a whole block; find, one "
		"exact value.",
	.options = find_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_find,
};
