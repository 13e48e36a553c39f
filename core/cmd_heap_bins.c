/* cmd_heap_bins.c - `heap --bins`: glibc's free lists as the allocator
 * keeps them, pwndbg's `bins` and `tcachebins`: each thread's tcache,
 * then per arena the fastbins and the unsorted, small and large bins,
 * every list with its count and its blocks in list order.  The heap
 * model walked the lists (bounded: a chunk is on one list at most, and
 * a loop or a bad link cuts the list with a note); this file names the
 * owners and renders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"
#include "session.h"

/* glibc's static TLS lies just below the thread pointer (x86-64, TLS
 * variant II); its `tcache` variable is within this many bytes. */
#define TLS_SCAN 8192u

struct owner {
	unsigned thread;  /* 1-based; 0: no thread's TLS points to it */
	int32_t tid;
};

/* The thread whose static TLS holds a pointer to the tcache block at
 * mem (glibc's `tcache`), as gdb numbers threads. */
static struct owner tcache_owner(struct mv_target *t, uint64_t mem)
{
	struct owner o = {0, 0};
	const struct mv_thread *th;
	size_t n = mv_target_threads(t, &th);
	uint64_t words[TLS_SCAN / 8];
	for (size_t i = 0; i < n && !o.thread; i++) {
		uint64_t fs = th[i].regs[MV_REG_FS_BASE];
		const struct mv_region *r;
		if (!th[i].has_regs || fs < 8 ||
		    !(r = mv_target_find_region(t, fs - 8)))
			continue;
		uint64_t from = fs - r->start < TLS_SCAN ? r->start
							 : fs - TLS_SCAN;
		size_t len = (size_t)(fs - from) & ~(size_t)7;
		size_t got = mv_target_read_partial(t, from, words, len) / 8;
		for (size_t k = 0; k < got; k++)
			if (words[k] == mem) {
				o.thread = (unsigned)i + 1;
				o.tid = th[i].tid;
				break;
			}
	}
	return o;
}

/* The size every chunk of the list has, 0 when sizes vary. */
static uint64_t bin_size(const struct mv_heap_bin *b)
{
	switch (b->list) {
	case MV_LIST_TCACHE: return (uint64_t)b->index * 16 + 32;
	case MV_LIST_FASTBIN: return ((uint64_t)b->index + 2) * 16;
	case MV_LIST_SMALL: return (uint64_t)b->index * 16;
	default: return 0;
	}
}

static const char *group_title(enum mv_heap_list l)
{
	switch (l) {
	case MV_LIST_TCACHE: return "tcache";
	case MV_LIST_FASTBIN: return "fastbins";
	case MV_LIST_UNSORTED: return "unsorted bin";
	case MV_LIST_SMALL: return "small bins";
	default: return "large bins";
	}
}

static const char *arena_word(struct mv_heap *h, uint32_t arena)
{
	size_t n;
	const struct mv_heap_arena *a = mv_heap_arenas(h, &n);
	return arena < n && a[arena].kind == MV_ARENA_MAIN ? "main" : "thread";
}

struct bins_ctx {
	struct mv_cmd_ctx *ctx;
	struct mv_heap *h;
	const struct mv_heap_bin *bins;
	size_t nbins;
	const uint64_t *chunks;
	uint64_t max;              /* blocks listed per list */
	struct owner *owners;      /* per bin: its tcache's thread */
	uint64_t total, bytes, listed;
};

static uint64_t chunk_size(struct mv_heap *h, uint64_t start)
{
	size_t i = mv_heap_entry_at(h, start);
	return i < mv_heap_chunk_count(h) ? mv_heap_size_at(h, i) : 0;
}

static struct mv_error *poll_some(struct bins_ctx *B)
{
	if (++B->listed % 4096)
		return NULL;
	struct mv_error *err = mv_ctx_poll(B->ctx);
	return err ? err : mv_out_flush(B->ctx);
}

static struct mv_error *text_list(struct bins_ctx *B,
				  const struct mv_heap_bin *b)
{
	struct mv_cmd_ctx *ctx = B->ctx;
	uint64_t size = bin_size(b);
	if (size)
		mv_out(ctx, "  0x%llx", (unsigned long long)size);
	else if (b->list == MV_LIST_UNSORTED)
		mv_out(ctx, " ");
	else
		mv_out(ctx, "  bin %u", b->index);
	if (b->count >= 0 && (uint64_t)b->count != b->n)
		mv_out(ctx, " [count %lld, %zu on the list]",
		       (long long)b->count, b->n);
	else
		mv_out(ctx, " [%zu]", b->n);
	mv_out(ctx, ":");
	for (size_t k = 0; k < b->n; k++) {
		if (k == B->max) {
			mv_out(ctx, " -> ... %zu more", b->n - k);
			break;
		}
		uint64_t c = B->chunks[b->first + k];
		mv_out(ctx, "%s0x%llx", k ? " -> " : " ",
		       (unsigned long long)c + 16);
		if (!size)
			mv_out(ctx, " (0x%llx)",
			       (unsigned long long)chunk_size(B->h, c));
		struct mv_error *err = poll_some(B);
		if (err)
			return err;
	}
	if (b->cut)
		mv_out(ctx, " -> (cut short: see the problems)");
	mv_out(ctx, "\n");
	return NULL;
}

static struct mv_error *text_bins(struct bins_ctx *B)
{
	struct mv_cmd_ctx *ctx = B->ctx;
	mv_out(ctx, "%s: free lists, blocks as malloc returned them\n",
	       mv_heap_description(B->h));
	const char *limit = mv_heap_limit_note(B->h);
	if (limit)
		mv_out(ctx, "[PARTIAL] %s\n", limit);
	for (size_t i = 0; i < B->nbins; i++) {
		const struct mv_heap_bin *b = &B->bins[i];
		bool head = !i || b->list != B->bins[i - 1].list ||
			    b->owner != B->bins[i - 1].owner;
		if (head && b->list == MV_LIST_TCACHE) {
			mv_out(ctx, "\ntcache ");
			if (B->owners[i].thread)
				mv_out(ctx, "of thread %u (tid %d) ",
				       B->owners[i].thread, B->owners[i].tid);
			mv_out(ctx, "at 0x%llx, arena %u (%s):\n",
			       (unsigned long long)b->owner + 16, b->arena,
			       arena_word(B->h, b->arena));
		} else if (head) {
			mv_out(ctx, "\n%s of arena %u (%s) at 0x%llx:\n",
			       group_title(b->list), b->arena,
			       arena_word(B->h, b->arena),
			       (unsigned long long)b->owner);
		}
		struct mv_error *err = text_list(B, b);
		if (err)
			return err;
	}
	if (!B->nbins)
		mv_out(ctx, "\nevery free list is empty\n");
	mv_out(ctx, "\n%llu free chunk%s (%llu bytes) on %zu list%s\n",
	       (unsigned long long)B->total, B->total == 1 ? "" : "s",
	       (unsigned long long)B->bytes, B->nbins,
	       B->nbins == 1 ? "" : "s");
	return NULL;
}

static struct mv_error *json_list(struct bins_ctx *B, struct mv_json *j,
				  size_t i)
{
	const struct mv_heap_bin *b = &B->bins[i];
	mv_json_begin_object(j);
	mv_json_key(j, "kind");
	mv_json_string(j, mv_heap_list_name(b->list));
	mv_json_key(j, "arena");
	mv_json_uint(j, b->arena);
	mv_json_key(j, "index");
	mv_json_uint(j, b->index);
	mv_json_key(j, b->list == MV_LIST_TCACHE ? "tcache" : "arena_address");
	mv_json_address(j, b->list == MV_LIST_TCACHE ? b->owner + 16
						     : b->owner);
	if (b->list == MV_LIST_TCACHE) {
		mv_json_key(j, "thread");
		mv_json_uint(j, B->owners[i].thread);
		mv_json_key(j, "tid");
		mv_json_int(j, B->owners[i].tid);
	}
	mv_json_key(j, "size");
	mv_json_uint(j, bin_size(b));
	mv_json_key(j, "count");
	if (b->count >= 0)
		mv_json_int(j, b->count);
	else
		mv_json_null(j);
	mv_json_key(j, "length");
	mv_json_uint(j, b->n);
	mv_json_key(j, "cut");
	mv_json_bool(j, b->cut);
	mv_json_key(j, "chunks");
	mv_json_begin_array(j);
	for (size_t k = 0; k < b->n && k < B->max; k++) {
		uint64_t c = B->chunks[b->first + k];
		mv_json_begin_object(j);
		mv_json_key(j, "chunk");
		mv_json_address(j, c);
		mv_json_key(j, "block");
		mv_json_address(j, c + 16);
		mv_json_key(j, "size");
		mv_json_uint(j, chunk_size(B->h, c));
		mv_json_end_object(j);
		struct mv_error *err = poll_some(B);
		if (err)
			return err;
	}
	mv_json_end_array(j);
	mv_json_key(j, "chunks_truncated");
	mv_json_bool(j, b->n > B->max);
	mv_json_end_object(j);
	return NULL;
}

static struct mv_error *json_bins(struct bins_ctx *B)
{
	struct mv_json j;
	mv_json_init(&j, &B->ctx->out, false);
	mv_json_begin_object(&j);
	mv_json_key(&j, "command");
	mv_json_string(&j, "heap");
	mv_json_key(&j, "view");
	mv_json_string(&j, "bins");
	mv_json_key(&j, "description");
	mv_json_string(&j, mv_heap_description(B->h));
	mv_heap_json_limit(&j, B->h);
	mv_json_key(&j, "lists");
	mv_json_begin_array(&j);
	for (size_t i = 0; i < B->nbins; i++) {
		struct mv_error *err = json_list(B, &j, i);
		if (err)
			return err;
	}
	mv_json_end_array(&j);
	mv_json_key(&j, "free_chunks");
	mv_json_uint(&j, B->total);
	mv_json_key(&j, "free_bytes");
	mv_json_uint(&j, B->bytes);
	mv_heap_json_notes(&j, B->h);
	mv_json_end_object(&j);
	mv_out(B->ctx, "\n");
	return NULL;
}

struct mv_error *mv_heap_bins_render(struct mv_cmd_ctx *ctx,
				     struct mv_heap *h, uint64_t max)
{
	struct bins_ctx B = {.ctx = ctx, .h = h, .max = max};
	B.bins = mv_heap_bins(h, &B.nbins);
	B.chunks = mv_heap_bin_chunks(h);
	B.owners = calloc(B.nbins ? B.nbins : 1, sizeof(*B.owners));
	if (!B.owners)
		return mv_enomem;
	struct mv_target *t = ctx->session->target;
	struct mv_error *err = NULL;
	for (size_t i = 0; i < B.nbins && !err; i++) {
		const struct mv_heap_bin *b = &B.bins[i];
		bool same = i && B.bins[i - 1].list == MV_LIST_TCACHE &&
			    B.bins[i - 1].owner == b->owner;
		if (b->list == MV_LIST_TCACHE)
			B.owners[i] = same ? B.owners[i - 1]
					   : tcache_owner(t, b->owner + 16);
		B.total += b->n;
		for (size_t k = 0; k < b->n && !err; k++) {
			B.bytes += chunk_size(h, B.chunks[b->first + k]);
			if (k % 65536 == 65535)
				err = mv_ctx_poll(ctx);
		}
	}
	if (!err)
		err = ctx->json ? json_bins(&B) : text_bins(&B);
	if (!err && !ctx->json)
		mv_heap_text_notes(ctx, h);
	free(B.owners);
	return err ? err : mv_buf_error(&ctx->out);
}
