/* view_ptr.c - what a pointer-sized word points to, for `view
 * --pointers`: a symbol (+offset), a heap chunk, a thread's stack, and a
 * preview of the string there, pwndbg's telescope in one line.
 *
 * The heap model is opened at most once per command and only when a
 * word actually points into memory that could be heap (a writable
 * anonymous mapping that is no thread's stack), and lazily: a word
 * pointing at a block costs its header, one pointing inside a block
 * the whole index (heap.h, mv_heap_open_lazy).  A failure to find a
 * heap is remembered, not retried. */
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define COLOR_PTR "\033[36m"
#define COLOR_OFF "\033[0m"

struct mv_ptr_stack {
	uint64_t start, end;  /* the region holding the thread's rsp */
	uint64_t rsp;
	int32_t tid;
	unsigned index;       /* 1-based, as gdb numbers threads */
};

struct mv_ptr_annotator {
	struct mv_program *p;
	struct mv_target *t;
	mv_poll_fn poll;
	uint64_t max_heap_chunks;
	struct mv_heap *heap;
	bool heap_tried;
	struct mv_ptr_stack *stacks;
	size_t nstacks;
	struct mv_ptr_chain chain;  /* the last mv_ptr_follow's */
};

struct mv_error *mv_ptr_annotator_create(struct mv_program *p,
					 uint64_t max_heap_chunks,
					 mv_poll_fn poll,
					 struct mv_ptr_annotator **ret)
{
	struct mv_ptr_annotator *a = calloc(1, sizeof(*a));
	if (!a)
		return mv_enomem;
	a->p = p;
	a->t = mv_program_target(p);
	a->poll = poll;
	a->max_heap_chunks = max_heap_chunks;
	const struct mv_thread *th;
	size_t n = a->t ? mv_target_threads(a->t, &th) : 0;
	if (n) {
		a->stacks = calloc(n, sizeof(*a->stacks));
		if (!a->stacks) {
			free(a);
			return mv_enomem;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!th[i].has_regs)
			continue;
		uint64_t rsp = th[i].regs[MV_REG_RSP];
		const struct mv_region *r = mv_target_find_region(a->t, rsp);
		if (!r)
			continue;
		a->stacks[a->nstacks++] = (struct mv_ptr_stack){
			r->start, r->end, rsp, th[i].tid, (unsigned)i + 1};
	}
	*ret = a;
	return NULL;
}

void mv_ptr_annotator_destroy(struct mv_ptr_annotator *a)
{
	if (!a)
		return;
	if (a->heap)
		mv_heap_destroy(a->heap);
	free(a->stacks);
	free(a);
}

/* How many bytes at s[0..n) a user would call text: printable ASCII,
 * tab, newlines, ESC (kept so that an escape sequence planted in memory
 * is shown, escaped, rather than hidden) and well-formed UTF-8 (which
 * mv_buf_escape still shows escaped where it is a bidi control).  Stops
 * at the first other byte. */
static size_t text_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c < 0x20 ? c != '\t' && c != '\n' && c != '\r' &&
				       c != 0x1b
				     : c == 0x7f)
				break;
			i++;
			continue;
		}
		size_t len = c >= 0xc2 && c <= 0xdf ? 2
			   : c >= 0xe0 && c <= 0xef ? 3
			   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			break;
		size_t k = 1;
		while (k < len && (s[i + k] & 0xc0) == 0x80)
			k++;
		if (k < len)
			break;
		i += len;
	}
	return i;
}

/* Fewer characters than this are as likely numbers as words. */
#define MV_PTR_MIN_STRING 3

static void find_string(struct mv_ptr_annotator *a, uint64_t v,
			const struct mv_region *r, struct mv_ptr_note *n)
{
	/* Code is not text, however it decodes. */
	if (r && (r->perms & MV_PERM_X))
		return;
	uint8_t s[MV_PTR_STRING_MAX + 1];
	size_t got = mv_target_read_partial(a->t, v, s, sizeof(s));
	size_t len = text_prefix(s, got);
	bool more = false;
	if (len >= got || s[len] || len > MV_PTR_STRING_MAX) {
		/* No NUL in sight: a string only if the text runs past the
		 * preview, which then shows whole characters only. */
		if (len + 4 <= MV_PTR_STRING_MAX)
			return;
		len = text_prefix(s, MV_PTR_STRING_MAX);
		more = true;
	}
	if (len < MV_PTR_MIN_STRING)
		return;
	/* A short "string" that is the low bytes of a pointer to mapped
	 * memory (0x5555...: "UUUU") is the pointer. */
	uint64_t word;
	if (len < 8 && got >= 8) {
		memcpy(&word, s, 8);
		if (word >= 0x1000 && mv_target_find_region(a->t, word))
			return;
	}
	memcpy(n->string, s, len);
	n->string_len = len;
	n->string_more = more;
	n->has_string = true;
}

static bool is_heap_looking(const struct mv_region *r)
{
	return (r->perms & MV_PERM_W) &&
	       (!r->path || !r->path[0] || !strcmp(r->path, "[heap]"));
}

struct mv_error *mv_ptr_annotate(struct mv_ptr_annotator *a, uint64_t v,
				 struct mv_ptr_note *ret)
{
	memset(ret, 0, offsetof(struct mv_ptr_note, string));
	ret->value = v;
	/* Small numbers and the non-canonical half are never pointers. */
	if (v < 0x1000 || v >= (1ULL << 47) || !a->t)
		return NULL;
	const struct mv_region *r = mv_target_find_region(a->t, v);
	const char *name;
	uint64_t off;
	if (mv_program_symbolize(a->p, v, &name, &off)) {
		ret->kind = MV_PTR_SYMBOL;
		ret->symbol = name;
		ret->symbol_offset = off;
	} else if (!r) {
		return NULL;
	}
	for (size_t i = 0; !ret->kind && i < a->nstacks; i++) {
		const struct mv_ptr_stack *st = &a->stacks[i];
		if (v >= st->start && v < st->end) {
			ret->kind = MV_PTR_STACK;
			ret->thread = st->index;
			ret->tid = st->tid;
			ret->sp_offset = (int64_t)(v - st->rsp);
		}
	}
	if (!ret->kind && is_heap_looking(r)) {
		if (!a->heap_tried) {
			a->heap_tried = true;
			/* Lazy: a few words need a few headers, not the
			 * whole heap's index (unless one points inside). */
			struct mv_error *err = mv_heap_open_lazy(
				a->p, a->max_heap_chunks, a->poll, &a->heap);
			/* No heap we understand: annotate without one. */
			if (err && mv_error_code(err) != MV_ERR_NOT_FOUND)
				return err;
			mv_error_destroy(err);
		}
		bool found = false;
		struct mv_error *err =
			a->heap ? mv_heap_lookup(a->heap, v, &ret->chunk, &found)
				: NULL;
		if (err)
			return err;
		if (found)
			ret->kind = MV_PTR_HEAP;
	}
	find_string(a, v, r, ret);
	if (!ret->kind && ret->has_string)
		ret->kind = MV_PTR_STRING;
	return NULL;
}

const char *mv_ptr_kind_name(enum mv_ptr_kind kind)
{
	switch (kind) {
	case MV_PTR_SYMBOL: return "symbol";
	case MV_PTR_HEAP: return "heap";
	case MV_PTR_STACK: return "stack";
	case MV_PTR_STRING: return "string";
	default: return "none";
	}
}

/* The chunk's state as the heap command names it. */
static const char *chunk_state(const struct mv_chunk *c)
{
	if (c->flags & MV_CHUNK_TOP)
		return "top";
	if (c->flags & MV_CHUNK_METADATA)
		return "metadata";
	if (c->flags & MV_CHUNK_IN_USE)
		return "in-use";
	return "free";
}

static void put_signed(struct mv_buf *b, int64_t v)
{
	if (v < 0)
		mv_buf_printf(b, "-%llu", (unsigned long long)(0 - (uint64_t)v));
	else
		mv_buf_printf(b, "+%llu", (unsigned long long)v);
}

void mv_ptr_render_text(const struct mv_ptr_note *n, bool color,
			struct mv_buf *b)
{
	if (color)
		mv_buf_puts(b, COLOR_PTR);
	switch (n->kind) {
	case MV_PTR_SYMBOL:
		mv_buf_printf(b, "<%s", n->symbol);
		if (n->symbol_offset)
			mv_buf_printf(b, "+%llu",
				      (unsigned long long)n->symbol_offset);
		mv_buf_putc(b, '>');
		break;
	case MV_PTR_HEAP:
		/* The block as malloc returned it, as gc, referrers and
		 * path-to name it; then its chunk's size. */
		mv_buf_printf(b, "heap: %s block 0x%llx, %llu-byte chunk",
			      chunk_state(&n->chunk),
			      (unsigned long long)n->chunk.mem,
			      (unsigned long long)n->chunk.size);
		if (n->value != n->chunk.mem) {
			mv_buf_puts(b, ", at block");
			put_signed(b, (int64_t)(n->value - n->chunk.mem));
		}
		break;
	case MV_PTR_STACK:
		mv_buf_printf(b, "thread %u's stack, rsp", n->thread);
		put_signed(b, n->sp_offset);
		break;
	default:
		break;
	}
	if (color)
		mv_buf_puts(b, COLOR_OFF);
	if (n->has_string) {
		if (n->kind != MV_PTR_STRING)
			mv_buf_putc(b, ' ');
		mv_buf_putc(b, '"');
		mv_buf_escape(b, n->string, n->string_len, '"');
		mv_buf_puts(b, n->string_more ? "\"..." : "\"");
	}
}

void mv_ptr_render_json(const struct mv_ptr_note *n, struct mv_json *j)
{
	mv_json_key(j, "kind");
	mv_json_string(j, mv_ptr_kind_name(n->kind));
	mv_json_key(j, "details");
	mv_json_begin_object(j);
	switch (n->kind) {
	case MV_PTR_SYMBOL:
		mv_json_key(j, "symbol");
		mv_json_string(j, n->symbol);
		mv_json_key(j, "offset");
		mv_json_uint(j, n->symbol_offset);
		break;
	case MV_PTR_HEAP:
		mv_json_key(j, "chunk");
		mv_json_address(j, n->chunk.start);
		mv_json_key(j, "mem");
		mv_json_address(j, n->chunk.mem);
		mv_json_key(j, "size");
		mv_json_uint(j, n->chunk.size);
		mv_json_key(j, "usable");
		mv_json_uint(j, n->chunk.usable);
		mv_json_key(j, "state");
		mv_json_string(j, chunk_state(&n->chunk));
		mv_json_key(j, "offset");
		mv_json_int(j, (int64_t)(n->value - n->chunk.mem));
		break;
	case MV_PTR_STACK:
		mv_json_key(j, "thread");
		mv_json_uint(j, n->thread);
		mv_json_key(j, "tid");
		mv_json_int(j, n->tid);
		mv_json_key(j, "sp_offset");
		mv_json_int(j, n->sp_offset);
		break;
	default:
		break;
	}
	if (n->has_string) {
		mv_json_key(j, "string");
		mv_json_string_len(j, n->string, n->string_len);
		mv_json_key(j, "truncated");
		mv_json_bool(j, n->string_more);
	}
	mv_json_end_object(j);
}

/* ---- chains (--depth): pwndbg's telescope ---- */

/* Where the hop after n goes, or why the chain ends there.  visited
 * holds the addresses whose words were read already (the view's own
 * word first). */
static enum mv_ptr_end chain_stop(struct mv_ptr_annotator *a,
				  const struct mv_ptr_note *n,
				  const uint64_t *visited, size_t nvisited)
{
	if (n->has_string)
		return MV_PTR_END_STRING;
	const struct mv_region *r = n->value >= 0x1000 && n->value < (1ULL << 47)
					    ? mv_target_find_region(a->t, n->value)
					    : NULL;
	/* Into mapped memory of no known kind (a program's own arena) the
	 * chain goes on, as telescope's does; a number ends it. */
	if (!r)
		return n->kind == MV_PTR_NONE ? MV_PTR_END_VALUE
					      : MV_PTR_END_CODE;
	/* A word of code is instructions, not a pointer to follow. */
	if (r->perms & MV_PERM_X)
		return MV_PTR_END_CODE;
	for (size_t i = 0; i < nvisited; i++)
		if (visited[i] == n->value)
			return MV_PTR_END_CYCLE;
	return MV_PTR_END_NONE;
}

struct mv_error *mv_ptr_follow(struct mv_ptr_annotator *a, uint64_t address,
			       const struct mv_ptr_note *first, unsigned depth,
			       const struct mv_ptr_chain **chain)
{
	struct mv_ptr_chain *ret = &a->chain;
	*chain = ret;
	uint64_t visited[MV_PTR_MAX_DEPTH + 1];
	size_t nvisited = 0;
	visited[nvisited++] = address;
	ret->nhops = 0;
	ret->end = MV_PTR_END_DEPTH;
	if (depth > MV_PTR_MAX_DEPTH)
		depth = MV_PTR_MAX_DEPTH;
	const struct mv_ptr_note *cur = first;
	for (unsigned hop = 1; hop < depth; hop++) {
		enum mv_ptr_end end = chain_stop(a, cur, visited, nvisited);
		if (end != MV_PTR_END_NONE) {
			ret->end = end;
			return NULL;
		}
		uint64_t at = cur->value;
		uint8_t w[8];
		if (mv_target_read_partial(a->t, at, w, 8) != 8) {
			ret->end = MV_PTR_END_UNREADABLE;
			return NULL;
		}
		uint64_t word;
		memcpy(&word, w, 8);
		visited[nvisited++] = at;
		struct mv_ptr_hop *h = &ret->hops[ret->nhops++];
		h->address = at;
		struct mv_error *err = mv_ptr_annotate(a, word, &h->note);
		if (err)
			return err;
		cur = &h->note;
	}
	/* Out of depth: say so only where the chain would have gone on. */
	enum mv_ptr_end end = chain_stop(a, cur, visited, nvisited);
	ret->end = end == MV_PTR_END_NONE ? MV_PTR_END_DEPTH : end;
	return NULL;
}

const char *mv_ptr_end_name(enum mv_ptr_end end)
{
	switch (end) {
	case MV_PTR_END_VALUE: return "value";
	case MV_PTR_END_STRING: return "string";
	case MV_PTR_END_CODE: return "code";
	case MV_PTR_END_CYCLE: return "cycle";
	case MV_PTR_END_UNREADABLE: return "unreadable";
	case MV_PTR_END_DEPTH: return "depth";
	default: return "none";
	}
}

void mv_ptr_render_chain_text(const struct mv_ptr_chain *c, bool color,
			      struct mv_buf *b)
{
	for (size_t i = 0; i < c->nhops; i++) {
		const struct mv_ptr_note *n = &c->hops[i].note;
		mv_buf_printf(b, "; holds 0x%llx", (unsigned long long)n->value);
		if (n->kind != MV_PTR_NONE) {
			mv_buf_puts(b, " -> ");
			mv_ptr_render_text(n, color, b);
		}
	}
	switch (c->end) {
	case MV_PTR_END_CYCLE:
		mv_buf_puts(b, " [cycle]");
		break;
	case MV_PTR_END_UNREADABLE:
		mv_buf_puts(b, "; unreadable");
		break;
	case MV_PTR_END_DEPTH:
		mv_buf_puts(b, "; ...");
		break;
	default:
		break;
	}
}

void mv_ptr_render_chain_json(const struct mv_ptr_chain *c,
			      struct mv_json *j)
{
	mv_json_key(j, "chain");
	mv_json_begin_array(j);
	for (size_t i = 0; i < c->nhops; i++) {
		mv_json_begin_object(j);
		mv_json_key(j, "address");
		mv_json_address(j, c->hops[i].address);
		mv_json_key(j, "value");
		mv_json_address(j, c->hops[i].note.value);
		mv_ptr_render_json(&c->hops[i].note, j);
		mv_json_end_object(j);
	}
	mv_json_end_array(j);
	mv_json_key(j, "chain_end");
	mv_json_string(j, mv_ptr_end_name(c->end));
}
