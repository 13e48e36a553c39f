/* cmd_sizeof.c - `sizeof-deep EXPR`: shallow and deep size, type bytes
 * against allocator bytes, a breakdown by type and the largest paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "heap_internal.h" /* MV_HEAP_LAZY */
#include "session.h"
#include "svg_flame.h"
#include "walk.h"
#include "cxxelem.h"
#include "edgename.h"
#include "value.h"

#define PATH_MAX_HOPS 4096

/* The walk polls every MV_WALK_POLL_EVERY objects: report progress on
 * the way (shown by the front end only on a terminal, throttled). */
static struct mv_error *poll_ctx(void *arg)
{
	struct mv_cmd_ctx *ctx = arg;
	ctx->polls++;
	mv_progress_report(ctx->session, "objects visited",
			   ctx->polls * MV_WALK_POLL_EVERY, 0);
	return mv_ctx_poll(ctx);
}

/* The index of the granule at start in the lazy heap's segments
 * (lazy_granules), SIZE_MAX if in none. */
static inline size_t granule(struct mv_sizeof_setup *su, uint64_t start)
{
	size_t k = su->last_seg;
	if (k >= su->nsegs || start < su->segs[k].start ||
	    start >= su->segs[k].end) {
		size_t lo = 0, hi = su->nsegs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (su->segs[mid].start <= start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || start >= su->segs[lo - 1].end)
			return SIZE_MAX;
		k = su->last_seg = lo - 1;
	}
	return su->gran[k] + (start - su->segs[k].start) / 16;
}

/* The walk's chunk lookup on a lazy heap. */
static bool lazy_chunk(void *arg, uint64_t address, struct mv_chunk *ret,
		       size_t *index)
{
	struct mv_sizeof_setup *su = arg;
	bool found = false;
	size_t i;
	*index = SIZE_MAX; /* the walk's table marks it */
	if (su->lazy_err)
		return false;
	struct mv_error *err = NULL;
	/* A header check costs about 20 ns more than the directory's
	 * lookup, the whole index about 30 ns a chunk (a chunk holds 32
	 * bytes at least): once the lookups have cost what the index
	 * would, a walk with that many pointers builds it (ski rental: at
	 * most about twice the better of the two, and a walk of distinct
	 * objects never pays for the heap). */
	if (!su->dir && mv_heap_is_lazy(su->heap) &&
	    ++su->lookups > su->lookup_budget)
		err = mv_heap_complete(su->heap);
	if (!err && !su->dir && !mv_heap_is_lazy(su->heap))
		err = mv_chunk_dir_create(su->heap, &su->dir);
	if (!err && su->dir)
		found = mv_chunk_dir_find(su->dir, address, ret, &i);
	else if (!err)
		err = mv_heap_lookup(su->heap, address, ret, &found);
	su->plain_on = su->plain_on && !err && mv_heap_is_lazy(su->heap);
	if (err) {
		su->lazy_err = err;
		return false;
	}
	if (found)
		*index = granule(su, ret->start);
	return found;
}

/* The walk's quick lookup on a lazy heap (mv_walk_options.find_plain):
 * a chunk in use at a pointer to its user data, as lazy_chunk answers
 * it, asked of the model's own quick check (mv_heap_ops.lazy_plain: a
 * walk of millions of objects felt the record lazy_find fills and the
 * calls between); until the whole index is built. */
static bool lazy_plain(void *arg, uint64_t address, uint64_t *size,
		       size_t *index)
{
	struct mv_sizeof_setup *su = arg;
	size_t k;
	if (!su->plain_on || ++su->lookups > su->lookup_budget ||
	    !su->heap->ops->lazy_plain(su->heap, address, size, &k))
		return false;
	/* granule(), its segment known: segs[k] is heap_segs[k]'s. */
	*index = su->gran[k] + (address - 16 - su->segs[k].start) / 16;
	return true;
}

/* The granules of the lazy heap's segments (lazy_chunk's indices):
 * their count, the bitmap's size. */
static struct mv_error *lazy_granules(struct mv_sizeof_setup *su,
				      uint64_t *ret)
{
	struct mv_heap *h = su->heap;
	uint64_t n = 0;
	su->segs = calloc(h->nheap_segs + 1, sizeof(*su->segs));
	su->gran = calloc(h->nheap_segs + 1, sizeof(*su->gran));
	if (!su->segs || !su->gran)
		return mv_enomem;
	for (size_t i = 0; i < h->nheap_segs; i++) {
		su->segs[i].start = h->heap_segs[i].start & ~(uint64_t)15;
		su->segs[i].end = h->heap_segs[i].end;
		su->gran[i] = n;
		n += (su->segs[i].end - su->segs[i].start + 15) / 16;
	}
	su->nsegs = h->nheap_segs;
	su->lookup_budget = n; /* a lookup per 16 heap bytes */
	*ret = n;
	return NULL;
}

static struct mv_error *poll_lazy(void *arg)
{
	struct mv_sizeof_setup *su = arg;
	struct mv_error *err = su->lazy_err;
	su->lazy_err = NULL;
	return err ? err : poll_ctx(su->ctx);
}

/* --len, --len-file and --types, in that order, into one set of rules
 * (docs/types.md).  Each is checked as it is read: a mistake is a usage
 * error naming it. */
struct mv_error *mv_sizeof_rules(struct mv_cmd_ctx *ctx, struct mv_rules *r)
{
	struct mv_error *err = NULL;
	mv_rules_init(r);
	const struct mv_optval *v = mv_opt_val(ctx, "len");
	for (size_t i = 0; v && i < v->nlist && !err; i++)
		err = mv_rules_add_len(ctx->session, r, v->list[i]);
	const char *file = mv_opt_str(ctx, "len-file");
	if (!err && file)
		err = mv_rules_load_file(ctx->session, r, file);
	const char *types = mv_opt_str(ctx, "types");
	/* Not given: the model that fits the program, if one is
	 * shipped (--types '' for none). */
	if (!types)
		types = mv_rules_auto_model(ctx->session);
	if (!err && types && *types) {
		char path[4096];
		if (!(err = mv_rules_find_file(types, path, sizeof(path))))
			err = mv_rules_load_file(ctx->session, r, path);
	}
	if (err)
		mv_rules_deinit(r);
	return err;
}

struct mv_error *mv_sizeof_setup(struct mv_cmd_ctx *ctx,
				 struct mv_sizeof_setup *su, bool keep_edges)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err;
	memset(su, 0, sizeof(*su));
	if ((err = mv_session_need_target(s)))
		return err;
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory to walk: give --core FILE "
				       "or --pid PID");
	if ((err = mv_session_eval(s, ctx->pos[0], &su->root)))
		return err;
	if ((err = mv_sizeof_rules(ctx, &su->rules)))
		return err;
	struct mv_walk_options o = {0};
	int64_t mo = mv_opt_num(ctx, "max-objects");
	int64_t md = mv_opt_num(ctx, "max-depth");
	/* 0 lifts the bound, as for every --max-* option; not given, the
	 * walk's default from the memory available (bounds.h). */
	o.max_objects = !mv_opt_set(ctx, "max-objects") ? 0
			: mo > 0 ? (uint64_t)mo : UINT64_MAX;
	o.max_depth = md > 0 ? (uint64_t)md : 0;
	const char *u = mv_opt_str(ctx, "unions");
	o.unions = u && !strcmp(u, "all") ? MV_WALK_UNIONS_ALL
		   : u && !strcmp(u, "first") ? MV_WALK_UNIONS_FIRST
					      : MV_WALK_UNIONS_NONE;
	o.conservative = mv_opt_flag(ctx, "conservative");
	o.static_types = mv_opt_flag(ctx, "static-types");
	o.rules = &su->rules;
	o.keep_edges = keep_edges;
	o.poll = poll_ctx;
	o.poll_arg = ctx;
	/* Lazy: a walk from a small root reads the chunks it meets. */
	struct mv_heap_options ho = {.flags = MV_HEAP_LAZY};
	err = mv_session_open_heap(ctx, &ho, &su->heap);
	if (err) {
		if (mv_error_code(err) == MV_ERR_INTERRUPTED ||
		    mv_error_code(err) == MV_ERR_NOMEM ||
		    mv_error_code(err) == MV_ERR_USAGE) {
			mv_rules_deinit(&su->rules);
			return err;
		}
		/* No heap model: the walk still sizes by types. */
		snprintf(su->heap_note, sizeof(su->heap_note),
			 "no allocator view: %s", mv_error_message(err));
		mv_error_destroy(err);
		su->heap = NULL;
	} else if (mv_heap_is_lazy(su->heap)) {
		su->ctx = ctx;
		o.find_chunk = lazy_chunk;
		o.chunk_arg = su;
		o.find_reads_header = true;
		o.find_plain = lazy_plain;
		if ((err = lazy_granules(su, &o.nchunks))) {
			free(su->segs);
			free(su->gran);
			mv_rules_deinit(&su->rules);
			return err;
		}
		o.poll = poll_lazy;
		o.poll_arg = su;
		su->plain_on = su->heap->ops->lazy_plain != NULL;
	} else {
		if ((err = mv_chunk_dir_create(su->heap, &su->dir))) {
			mv_rules_deinit(&su->rules);
			return err;
		}
		o.find_chunk = mv_chunk_dir_find;
		o.chunk_arg = su->dir;
		o.nchunks = mv_heap_chunk_count(su->heap);
		/* Heap objects are marked in the chunk bitmap; the table
		 * needs room for the others only (and for all in graph). */
		o.expect_objects = keep_edges ? o.nchunks + 1024 : 0;
		if ((err = mv_heap_unindexed(su->heap, &o.unindexed,
					     &o.nunindexed, NULL))) {
			mv_chunk_dir_destroy(su->dir);
			mv_rules_deinit(&su->rules);
			return err;
		}
	}
	if ((err = mv_walk_init(&su->walk, s->program, &o))) {
		mv_chunk_dir_destroy(su->dir);
		free(su->segs);
		free(su->gran);
		mv_rules_deinit(&su->rules);
		return err;
	}
	su->inited = true;
	return NULL;
}

struct mv_error *mv_sizeof_run(struct mv_sizeof_setup *su)
{
	struct mv_value *v = &su->root;
	struct mv_type *st = mv_type_strip(v->type);
	struct mv_error *err;
	if (v->is_lvalue)
		err = mv_walk_run(&su->walk, v->type, v->address);
	else if (st && st->kind == MV_TYPE_POINTER)
		err = mv_walk_run_pointer(&su->walk, v->type, v->value);
	else if (st && st->kind == MV_TYPE_INT)
		/* A bare address: say how to give it a type, the model's
		 * own object type when one is loaded. */
		return mv_error_create(
			MV_ERR_INVALID,
			"%#llx is a number, not an object: give its type, "
			"e.g. '(%s *)%#llx'", (unsigned long long)v->value,
			su->rules.nobjects ? su->rules.objects[0].type
					   : "struct T",
			(unsigned long long)v->value);
	else
		return mv_error_create(MV_ERR_INVALID,
				       "the expression is a value, not an "
				       "object in memory: give an lvalue or "
				       "a pointer");
	/* A lazy lookup that failed after the walk's last poll. */
	if (su->lazy_err) {
		mv_error_destroy(err);
		err = su->lazy_err;
		su->lazy_err = NULL;
	}
	return err;
}

struct mv_error *mv_sizeof_run_whole(struct mv_sizeof_setup *su,
				     const char *root, const char *left)
{
	struct mv_error *err = mv_sizeof_run(su);
	if (err || !su->walk.interrupted)
		return err;
	return mv_error_interrupted(NULL, left, "walking from %s (%zu objects "
				    "and %zu pointers so far)",
				    root, su->walk.nobjs,
				    su->walk.nedges);
}

void mv_sizeof_teardown(struct mv_sizeof_setup *su)
{
	if (su->inited)
		mv_walk_deinit(&su->walk);
	mv_chunk_dir_destroy(su->dir);
	mv_error_destroy(su->lazy_err);
	free(su->segs);
	free(su->gran);
	/* su->heap is the session's (mv_session_open_heap). */
	mv_rules_deinit(&su->rules);
	memset(su, 0, sizeof(*su));
}

/* Whether t is a libstdc++ node: its value is the element it holds. */
static bool cxx_node(struct mv_type *t, uint64_t *value_off)
{
	static const char *const nodes[] = {
		"std::_Rb_tree_node<", "std::_List_node<",
		"std::_Fwd_list_node<", "std::__detail::_Hash_node<",
	};
	for (size_t i = 0; t && t->name && i < sizeof(nodes) / sizeof(nodes[0]);
	     i++)
		if (!strncmp(t->name, nodes[i], strlen(nodes[i])))
			return mv_walk_find_member(t, "_M_storage", value_off,
						   0) != NULL;
	return false;
}

/* The name of the last of m hops (edgename.c), if the chain went through
 * a node container's element; NULL if not.  The caller frees it. */
static char *name_chain(struct mv_walk *w, const char *root,
			const struct mv_edge_hop *eh, size_t m,
			struct mv_cxx_elem_memo *memo)
{
	bool entered = false;
	char *name = NULL;
	char **exprs = mv_edge_expressions(
		w->program, root, mv_walk_plan_type(w, w->objs[0].plan),
		w->objs[0].addr, eh, m, memo, w->opt.poll, w->opt.poll_arg,
		&entered);
	for (size_t h = 0; exprs && h < m; h++) {
		if (h + 1 == m && entered)
			name = exprs[h];
		else
			free(exprs[h]);
	}
	free(exprs);
	return name;
}

/* Object i reached through a libstdc++ node container, named as gdb's
 * printers show its elements (edgename.c): "*g_map[7]" for the buffer
 * of the string g_map[7], "*g_deque[42]" for the object its element
 * points to, "g_list[3] (node)" for the node holding an element,
 * "g_deque[40..103] (buffer)" for a deque's buffer.  False for
 * anything else (an object reached otherwise), which keeps the walk's
 * labels.  hops[] are the objects from i up to the root's child, all
 * of them or (graph) without a node container's nodes between its
 * first and the one holding the element (edgename.c finds the element
 * from the word that holds it). */
static bool cxx_path(struct mv_walk *w, const char *root, const uint32_t *hops,
		     size_t n, struct mv_cxx_elem_memo *memo,
		     struct mv_buf *out)
{
	if (w->pseudo_root || !n || !mv_walk_plan_type(w, w->objs[0].plan))
		return false;
	struct mv_edge_hop *eh = calloc(n + 1, sizeof(*eh));
	if (!eh)
		return false;
	struct mv_buf lab;
	mv_buf_init(&lab);
	bool ok = true;
	for (size_t h = 0; h < n && ok; h++) {
		/* hops[] runs from object i up: eh[] from the root down. */
		size_t k = hops[n - 1 - h];
		const struct mv_walk_obj *o = &w->objs[k];
		struct mv_chunk ch;
		mv_buf_clear(&lab);
		mv_walk_label_holder(w, k, &lab, &eh[h].holder);
		ok = eh[h].holder != 0;
		eh[h].value = o->addr;
		eh[h].type = mv_walk_plan_type(w, o->plan);
		eh[h].base = o->addr;
		eh[h].heap = true;
		eh[h].chunk_mem = mv_walk_chunk(w, o->parent, &ch)
					  ? ch.mem : w->objs[o->parent].addr;
	}
	mv_buf_deinit(&lab);
	/* A node or a deque's buffer: one more hop, to the element it
	 * holds (a node's value, a buffer's first element). */
	uint64_t voff = 0;
	const struct mv_walk_obj *last = &w->objs[hops[0]];
	bool node = cxx_node(mv_walk_plan_type(w, last->plan), &voff);
	struct mv_chunk ch;
	eh[n].holder = last->addr + voff;
	eh[n].heap = true;
	eh[n].chunk_mem = mv_walk_chunk(w, hops[0], &ch) ? ch.mem : last->addr;
	eh[n].element_only = true;
	char *name = !ok ? NULL : name_chain(w, root, eh, node ? n + 1 : n,
					     memo);
	const char *sub;
	unsigned long long first;
	if (name && node) {
		mv_buf_printf(out, "%s (node)", name);
	} else if (name) {
		mv_buf_printf(out, "*%s", name);
	} else if (ok && (name = name_chain(w, root, eh, n + 1, memo)) &&
		   (sub = strrchr(name, '[')) &&
		   sscanf(sub, "[%llu]", &first) == 1 && last->count > 1) {
		mv_buf_printf(out, "%.*s[%llu..%llu] (buffer)",
			      (int)(sub - name), name, first,
			      first + last->count - 1);
	} else if (name) {
		mv_buf_printf(out, "%s (buffer)", name);
	}
	ok = name != NULL;
	free(name);
	free(eh);
	return ok;
}

/* The C expression for object i: `list_head->next->next`, with runs of
 * the same hop folded as `->next(×998)` so that chains stay readable. */
void mv_sizeof_path(struct mv_walk *w, const char *root, size_t i,
		    struct mv_buf *out)
{
	mv_sizeof_path_ctx(w, root, i, out, NULL);
}

/* The length of p before hop h's label (marks[h]), as joined so far:
 * where a name that stands for the labels above it cuts back to. */
static size_t cut_mark(const size_t *marks, size_t n, size_t h, size_t up,
		       size_t root_len)
{
	return h + up < n ? marks[h + up] : root_len;
}

void mv_sizeof_path_ctx(struct mv_walk *w, const char *root, size_t i,
			struct mv_buf *out, bool *above_root)
{
	uint32_t hops[PATH_MAX_HOPS] = {0};
	if (above_root)
		*above_root = false;
	size_t n = 0;
	bool clipped = false;
	size_t first = w->pseudo_root ? 0 : 0;
	for (size_t k = i; k != first && n < PATH_MAX_HOPS;
	     k = w->objs[k].parent)
		hops[n++] = (uint32_t)k;
	if (n == PATH_MAX_HOPS)
		clipped = true;
	if (!clipped && cxx_path(w, root, hops, n, NULL, out))
		return;
	struct mv_buf p, prev, lab;
	mv_buf_init(&p);
	mv_buf_init(&prev);
	mv_buf_init(&lab);
	if (clipped)
		mv_buf_puts(&p, "(...)");
	else
		mv_buf_puts(&p, root);
	bool deref = false;
	size_t run = 0;
	bool names = w->opt.rules && w->opt.rules->nnames;
	size_t root_len = p.len;
	size_t *marks = names ? calloc(n + 1, sizeof(*marks)) : NULL;
	for (size_t h = n; h-- > 0;) {
		mv_buf_clear(&lab);
		struct mv_walk_label_info li = {0};
		/* With a model's names, the object an rvalue root points
		 * to is the root's expression itself. */
		if (names && w->pseudo_root && !w->objs[hops[h]].parent)
			li.named = true;
		else
			mv_walk_label_ctx(w, hops[h], &lab, &li);
		const char *l = lab.data ? lab.data : "";
		if (marks)
			marks[h] = p.len;
		if (li.named) {
			/* "x['key'][3].attr": the language's own names;
			 * "x.attr" for "x.__dict__['attr']" (a name that
			 * stands for the labels above it). */
			if (run)
				mv_buf_printf(&p, "(x%zu)", run + 1);
			run = 0;
			mv_buf_clear(&prev);
			if (li.up && !clipped && marks) {
				/* Up to the root: its in-edge's too. */
				p.len = li.above_root
					? root_len
					: cut_mark(marks, n, h, li.up, root_len);
				if (p.data)
					p.data[p.len] = '\0';
				if (above_root && li.above_root)
					*above_root = true;
			}
			mv_buf_puts(&p, l);
			deref = false;
			continue;
		}
		if (prev.data && !strcmp(prev.data, l) && deref && l[0] == '.') {
			run++;
			continue;
		}
		if (run)
			mv_buf_printf(&p, "(x%zu)", run + 1);
		run = 0;
		mv_buf_clear(&prev);
		mv_buf_puts(&prev, l);
		mv_buf_reserve(&prev, 1);
		if (deref) {
			if (l[0] == '.') {
				mv_buf_printf(&p, "->%s", l + 1);
			} else if (!l[0]) {
				/* *P is itself a pointer. */
				struct mv_buf q;
				mv_buf_init(&q);
				mv_buf_printf(&q, "(*%s)", p.data ? p.data : "");
				mv_buf_clear(&p);
				mv_buf_puts(&p, q.data ? q.data : "");
				mv_buf_deinit(&q);
			} else {
				mv_buf_puts(&p, l);
			}
		} else {
			mv_buf_puts(&p, l);
		}
		deref = true;
	}
	free(marks);
	if (run)
		mv_buf_printf(&p, "(x%zu)", run + 1);
	/* "*g_deque (map)", not "*g_deque._M_impl._M_map". */
	mv_edge_spell_blocks(&p, 0);
	if (deref) {
		mv_buf_puts(out, "*");
		mv_buf_puts(out, p.data ? p.data : "");
	} else {
		mv_buf_puts(out, p.data ? p.data : "");
	}
	mv_buf_deinit(&p);
	mv_buf_deinit(&prev);
	mv_buf_deinit(&lab);
}

/* Whether the type t holds a libstdc++ node container or deque
 * (edgename.c names its elements): itself, or a member, a base or an
 * array's element at any depth.  Bounded by DWARF nesting and a count
 * of members looked at, not by target data. */
static bool holds_container(struct mv_type *t)
{
	struct mv_type *stack[64];
	size_t n = 0, seen = 0;
	stack[n++] = t;
	while (n && seen++ < 4096) {
		struct mv_type *s = mv_type_strip(stack[--n]);
		if (!s)
			continue;
		if (mv_cxx_elem_container(s))
			return true;
		if (s->kind == MV_TYPE_ARRAY && n < 64) {
			stack[n++] = mv_type_target(s);
			continue;
		}
		if (s->kind != MV_TYPE_STRUCT && s->kind != MV_TYPE_CLASS)
			continue;
		for (size_t i = 0; i < s->nmembers && n < 64; i++)
			stack[n++] = s->members[i].type;
	}
	return false;
}

/* Per plan: whether its type holds a node container (HOLDS) or is one's
 * node (NODE). */
enum { PLAN_HOLDS = 1, PLAN_NODE = 2 };

static uint8_t *plan_kinds(struct mv_walk *w)
{
	uint8_t *k = calloc(w->nplans ? w->nplans : 1, 1);
	for (size_t i = 0; k && i < w->nplans; i++) {
		struct mv_type *t = mv_walk_plan_type(w, (uint32_t)i);
		uint64_t off;
		if (t && holds_container(t))
			k[i] |= PLAN_HOLDS;
		if (t && cxx_node(t, &off))
			k[i] |= PLAN_NODE;
	}
	return k;
}

/* Whether the tree edge into object i may lead through a container's
 * element: out of an object holding one, out of a node, or out of a
 * small block (a deque's buffer) that such an object points to. */
static bool maybe_element(struct mv_walk *w, const uint8_t *kind, size_t i)
{
	uint32_t p = w->objs[i].parent;
	if (kind[mv_walk_obj_plan(w, p)])
		return true;
	return p && kind[mv_walk_obj_plan(w, w->objs[p].parent)] & PLAN_HOLDS &&
	       mv_walk_type_bytes(w, p) <= 1024;
}

#define EDGE_NAME_MAX_HOPS 64

/* Object k named as the tree edge into it is (cxx_path over its
 * parents, a container's nodes between skipped): "g_map[7] (node)". */
static bool object_name(struct mv_walk *w, const char *root,
			const uint32_t *skip, struct mv_cxx_elem_memo *memo,
			uint32_t k, struct mv_buf *out)
{
	uint32_t hops[EDGE_NAME_MAX_HOPS];
	size_t n = 0;
	uint32_t x = k;
	hops[n++] = x;
	for (x = w->objs[x].parent; x && n < EDGE_NAME_MAX_HOPS;
	     x = w->objs[x].parent)
		hops[n++] = x = skip[x];
	return !x && cxx_path(w, root, hops, n, memo, out);
}

/* Whether node type name tn holds a map's element: a std::pair whose
 * key is const ("std::pair<int const, P*>", as g++ spells it, or
 * "std::pair<const int, P*>"), which a set of pairs' is not. */
static bool map_value(const char *tn)
{
	const char *p = strstr(tn, "std::pair<");
	if (!p)
		return false;
	p += strlen("std::pair<");
	if (!strncmp(p, "const ", 6))
		return true;
	int depth = 0;
	const char *q = p;
	for (; *q && (depth || *q != ','); q++)
		depth += (*q == '<') - (*q == '>');
	return *q == ',' && q - p > 6 && !strncmp(q - 6, " const", 6);
}

/* A pointer inside the element a node holds, met again (no tree edge:
 * a cycle's closing pointer): named from the node's element, as gdb's
 * printers list it, "g_all[1]->kids[7]" for a map node's
 * ".value.second" (a map's element is its mapped value), "...[7].peer"
 * for a member of it.  False (the walk's label stays) otherwise. */
static bool element_member(struct mv_walk *w, const char *root,
			   const uint8_t *kind, const uint32_t *skip,
			   struct mv_cxx_elem_memo *memo,
			   const struct mv_walk_edge *ed, const char *raw,
			   struct mv_buf *out)
{
	if (!(kind[mv_walk_obj_plan(w, ed->from)] & PLAN_NODE) ||
	    strncmp(raw, ".value", 6) || (raw[6] && raw[6] != '.'))
		return false;
	const char *rest = raw + 6;
	const char *tn = mv_walk_plan_name(w, w->objs[ed->from].plan);
	if (tn && map_value(tn)) {
		/* A map's node: its element is the mapped value. */
		if (strncmp(rest, ".second", 7) ||
		    (rest[7] && rest[7] != '.'))
			return false;
		rest += 7;
	}
	mv_buf_clear(out);
	if (!object_name(w, root, skip, memo, ed->from, out) || !out->data)
		return false;
	static const char node[] = " (node)";
	if (out->len < sizeof(node) - 1 ||
	    strcmp(out->data + out->len - (sizeof(node) - 1), node))
		return false;
	out->len -= sizeof(node) - 1;
	out->data[out->len] = 0;
	size_t at = out->len;
	mv_buf_puts(out, rest);
	mv_edge_spell_blocks(out, at);
	return true;
}

struct mv_edge_namer {
	struct mv_walk *w;
	const char *root;
	uint8_t *kind;
	/* skip[k]: k, or for a node reached from a node of its container
	 * (a list's next, a tree's left) the first object up from it that
	 * is not: the chain cxx_path needs leaves those out. */
	uint32_t *skip;
	struct mv_cxx_elem_memo *memo;
};

void mv_edge_namer_destroy(struct mv_edge_namer *n)
{
	if (!n)
		return;
	mv_cxx_elem_memo_destroy(n->memo);
	free(n->skip);
	free(n->kind);
	free(n);
}

struct mv_error *mv_edge_namer_create(struct mv_walk *w, const char *root,
				      struct mv_edge_namer **ret)
{
	*ret = NULL;
	if (w->pseudo_root || !w->nobjs || !w->nedges ||
	    !mv_walk_plan_type(w, w->objs[0].plan))
		return NULL;
	struct mv_edge_namer *n = calloc(1, sizeof(*n));
	if (!n)
		return mv_enomem;
	n->w = w;
	n->root = root;
	n->kind = plan_kinds(w);
	n->skip = malloc(w->nobjs * sizeof(*n->skip));
	n->memo = mv_cxx_elem_memo_create();
	if (!n->kind || !n->skip || !n->memo) {
		mv_edge_namer_destroy(n);
		return mv_enomem;
	}
	for (size_t k = 0; k < w->nobjs; k++) {
		uint32_t p = w->objs[k].parent;
		uint32_t kp = mv_walk_obj_plan(w, k);
		n->skip[k] = k && p < k && n->kind[kp] & PLAN_NODE &&
				     mv_walk_obj_plan(w, p) == kp
				     ? n->skip[p] : (uint32_t)k;
	}
	*ret = n;
	return NULL;
}

bool mv_edge_namer_name(struct mv_edge_namer *n, size_t e,
			struct mv_buf *name)
{
	struct mv_walk *w = n->w;
	const struct mv_walk_edge *ed = &w->edges[e];
	bool tried = ed->to && ed->to < w->nobjs &&
		     w->objs[ed->to].parent == ed->from &&
		     maybe_element(w, n->kind, ed->to);
	const char *raw = w->labels.data + ed->label;
	mv_buf_clear(name);
	if (!tried && element_member(w, n->root, n->kind, n->skip, n->memo,
				     ed, raw, name)) {
		/* named */
	} else if (!tried && !strstr(raw, "._M_")) {
		return false;
	} else if (tried && object_name(w, n->root, n->skip, n->memo, ed->to,
					name)) {
		/* "*g_map[7]" is the block g_map[7] points to: the edge is
		 * g_map[7] itself. */
		if (name->data && name->data[0] == '*')
			memmove(name->data, name->data + 1, name->len--);
	} else {
		/* A container's own block: ".queue (map)". */
		mv_buf_clear(name);
		mv_buf_puts(name, raw);
		size_t len = name->len;
		mv_edge_spell_blocks(name, 0);
		if (name->len == len)
			return false;
	}
	return !name->oom && name->data;
}

struct mv_error *mv_sizeof_edge_names(struct mv_walk *w, const char *root,
				      struct mv_graph_names *ret)
{
	mv_buf_init(&ret->text);
	ret->at = NULL;
	struct mv_edge_namer *n;
	struct mv_error *err = mv_edge_namer_create(w, root, &n);
	if (err || !n)
		return err;
	ret->at = malloc(w->nedges * sizeof(*ret->at));
	if (!ret->at) {
		mv_edge_namer_destroy(n);
		return mv_enomem;
	}
	struct mv_buf name;
	mv_buf_init(&name);
	for (size_t e = 0; e < w->nedges && !err; e++) {
		ret->at[e] = UINT32_MAX;
		if (w->opt.poll && !(e % 4096) &&
		    (err = w->opt.poll(w->opt.poll_arg)))
			break;
		if (!mv_edge_namer_name(n, e, &name) ||
		    ret->text.len >= UINT32_MAX / 2)
			continue;
		ret->at[e] = (uint32_t)ret->text.len;
		mv_buf_append(&ret->text, name.data, name.len + 1);
	}
	mv_buf_deinit(&name);
	if (!err && ret->text.oom)
		err = mv_enomem;
	mv_edge_namer_destroy(n);
	return err;
}

void mv_graph_names_deinit(struct mv_graph_names *names)
{
	mv_buf_deinit(&names->text);
	free(names->at);
	names->at = NULL;
}

/* ---- the report ---- */

struct type_row {
	const char *name;
	uint64_t objects, bytes, alloc;
};

static int row_cmp(const void *a, const void *b)
{
	const struct type_row *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void group(char *buf, size_t size, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < size; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

static const char *G(char (*b)[32], int k, uint64_t v)
{
	group(b[k], sizeof(b[k]), v);
	return b[k];
}

/* "1 object", "2 objects". */
static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

struct top {
	size_t index;
	uint64_t bytes;
};

static struct mv_error *largest(struct mv_walk *w, size_t ntop,
				struct top **ret, size_t *nret)
{
	*ret = NULL;
	*nret = 0;
	if (!w->nobjs || !ntop)
		return NULL;
	/* At most one path per object: a huge --top is all of them. */
	if (ntop > w->nobjs)
		ntop = w->nobjs;
	struct top *t = calloc(ntop, sizeof(*t));
	if (!t)
		return mv_enomem;
	struct mv_subtree sub;
	struct mv_error *err = mv_walk_subtree_sums(w, &sub);
	if (err) {
		free(t);
		return err;
	}
	size_t n = 0;
	/* The root itself is the deep size; its descendants are the
	 * paths.  Insertion into a short sorted list. */
	for (size_t i = 1; i < w->nobjs; i++) {
		uint64_t bytes = mv_subtree_get(&sub, i);
		if (n == ntop && bytes <= t[n - 1].bytes)
			continue;
		size_t k = n < ntop ? n++ : n - 1;
		while (k > 0 && t[k - 1].bytes < bytes) {
			t[k] = t[k - 1];
			k--;
		}
		t[k].index = i;
		t[k].bytes = bytes;
	}
	mv_subtree_deinit(&sub);
	*ret = t;
	*nret = n;
	return NULL;
}

static struct mv_error *type_rows(struct mv_walk *w, struct type_row **ret,
				  size_t *nret)
{
	struct type_row *rows = calloc(w->nplans ? w->nplans : 1,
				       sizeof(*rows));
	if (!rows)
		return mv_enomem;
	size_t n = 0;
	for (size_t i = 0; i < w->nplans; i++) {
		const struct mv_walk_stat *s = &w->stats[i];
		if (!s->objects)
			continue;
		const char *name = mv_walk_plan_name(w, (uint32_t)i);
		size_t k;
		/* One row per spelling: the same struct from two compile
		 * units is one type to the reader. */
		for (k = 0; k < n; k++)
			if (!strcmp(rows[k].name, name))
				break;
		if (k == n)
			rows[n++].name = name;
		rows[k].objects += s->objects;
		rows[k].bytes += s->type_bytes;
		rows[k].alloc += s->alloc_bytes;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	*ret = rows;
	*nret = n;
	return NULL;
}

static void limits_note(struct mv_walk *w, struct mv_buf *b)
{
	if (w->hit_max_objects)
		mv_buf_printf(b, "stopped at --max-objects %llu (%llu pointers "
			      "not followed): raise it for the whole answer",
			      (unsigned long long)w->opt.max_objects,
			      (unsigned long long)w->limit_cut_pointers);
	if (w->hit_max_depth)
		mv_buf_printf(b, "%sstopped at --max-depth %llu (%llu pointers "
			      "not followed): raise it or give 0 for no limit",
			      b->len ? "; " : "",
			      (unsigned long long)w->opt.max_depth,
			      (unsigned long long)w->depth_cut_pointers);
	if (w->interrupted)
		mv_buf_printf(b, "%sinterrupted: the totals cover the objects "
			      "visited so far", b->len ? "; " : "");
}

/* Notes, one sentence each, for guesses and things not followed. */
static void notes(struct mv_walk *w, const char *heap_note,
		  void (*emit)(void *, const char *), void *arg)
{
	struct mv_buf b;
	mv_buf_init(&b);
#define NOTE(cond, ...)                                                  \
	do {                                                             \
		if (cond) {                                              \
			mv_buf_clear(&b);                                \
			mv_buf_printf(&b, __VA_ARGS__);                  \
			if (!b.oom)                                      \
				emit(arg, b.data);                       \
		}                                                        \
	} while (0)
	NOTE(heap_note && *heap_note, "%s", heap_note);
	NOTE(w->guessed_single,
	     "guess: %llu pointers into bigger chunks were taken as one "
	     "element, %llu bytes of those chunks around it not looked into "
	     "(the first at %s: an array, or a container memview does not "
	     "know?); give --len 'TYPE.FIELD=LENGTH' for arrays, a "
	     "container_of rule (--types) for links inside bigger objects",
	     (unsigned long long)w->guessed_single,
	     (unsigned long long)w->guessed_single_bytes,
	     w->guessed_single_at);
	NOTE(w->guessed_fam,
	     "guess: %llu flexible array members were sized by their chunk",
	     (unsigned long long)w->guessed_fam);
	NOTE(w->hinted, "%llu pointers were sized by --len hints",
	     (unsigned long long)w->hinted);
	NOTE(w->dispatched, "%llu pointers were followed as the type "
	     "dispatch rules give (--types)",
	     (unsigned long long)w->dispatched);
	NOTE(w->contained, "%llu pointers were taken to their container "
	     "by container_of rules", (unsigned long long)w->contained);
	NOTE(w->undispatched, "%llu pointers to objects with dispatch rules "
	     "kept their declared type: no rule names the value of the "
	     "field (or it could not be read)",
	     (unsigned long long)w->undispatched);
	NOTE(w->dispatch_misfit, "%llu pointers kept their declared type: "
	     "the type a dispatch rule gives does not fit their block",
	     (unsigned long long)w->dispatch_misfit);
	NOTE(w->rule_loops, "%llu pointers met more than 8 rules in a row "
	     "(a loop of dispatch rules?): the walk took the last type",
	     (unsigned long long)w->rule_loops);
	NOTE(w->rule_skipped, "%llu members were not followed by skip rules",
	     (unsigned long long)w->rule_skipped);
	NOTE(w->unions_skipped,
	     "%llu pointers inside unions were not followed (--unions "
	     "first|all to follow them)",
	     (unsigned long long)w->unions_skipped);
	NOTE(w->untyped_chunks && !w->opt.conservative,
	     "%llu void * chunks (%llu bytes) were counted but not looked "
	     "into: what they point to is not counted (--conservative to "
	     "follow the words in them)",
	     (unsigned long long)w->untyped_chunks,
	     (unsigned long long)w->untyped_bytes);
	NOTE(w->guessed_edges,
	     "guess: %llu edges were found by --conservative, not by types",
	     (unsigned long long)w->guessed_edges);
	NOTE(w->void_nonheap,
	     "%llu void * pointers to memory outside the heap were not "
	     "sized", (unsigned long long)w->void_nonheap);
	NOTE(w->fn_pointers, "%llu function pointers were not followed",
	     (unsigned long long)w->fn_pointers);
	NOTE(w->byte_buffers,
	     "unsigned char *, signed char * and uint8_t * point to bytes, "
	     "not text: each such block was counted whole from the pointer "
	     "(a plain char * is a string, to its NUL)");
	NOTE(w->incomplete,
	     "%llu pointer types are declared only (no definition with "
	     "debug info): their objects were sized by their chunk",
	     (unsigned long long)w->incomplete);
	NOTE(w->dynamic_typed,
	     "%llu pointers to polymorphic classes were followed as their "
	     "object's most-derived class, from its vtable (--static-types "
	     "to keep the declared type)",
	     (unsigned long long)w->dynamic_typed);
	NOTE(w->functors_typed, "%llu std::function functors were walked "
	     "as the lambda or class their manager names",
	     (unsigned long long)w->functors_typed);
	NOTE(w->problems[MV_PROB_CONTAINER],
	     "%llu container problems (a std::vector's end before its "
	     "start, past its block or not a whole number of elements "
	     "after it; a tree or forward_list node reached twice; a "
	     "std::deque's nodes out of order or outside its map; a "
	     "node or control block in a freed chunk): only what fits "
	     "was walked",
	     (unsigned long long)w->problems[MV_PROB_CONTAINER]);
	if (w->cxx_unknown_types) {
		mv_buf_clear(&b);
		mv_buf_printf(&b, "%llu container types are not understood "
			      "(their blocks are counted as the pointers in "
			      "them say, what their elements own is not): ",
			      (unsigned long long)w->cxx_unknown_types);
		const char *sep = "";
		for (size_t at = 0; at < w->cxx_unknown.len;) {
			const char *e = w->cxx_unknown.data + at;
			mv_buf_printf(&b, "%s%s", sep, e);
			sep = "; ";
			at += strlen(e) + 1;
		}
		if (!b.oom)
			emit(arg, b.data);
	}
#undef NOTE
	mv_buf_deinit(&b);
}

static void emit_json_note(void *arg, const char *s)
{
	mv_json_string(arg, s);
}

static void emit_text_note(void *arg, const char *s)
{
	mv_out(arg, "  note: %s\n", s);
}

static uint64_t nonheap_objects(struct mv_walk *w)
{
	uint64_t n = 0;
	for (int k = 1; k < MV_WHERE_UNINDEXED; k++)
		n += w->where_objects[k];
	return n;
}

static uint64_t nonheap_bytes(struct mv_walk *w)
{
	uint64_t n = 0;
	for (int k = 1; k < MV_WHERE_UNINDEXED; k++)
		n += w->where_bytes[k];
	return n;
}

struct mv_error *mv_cmd_sizeof(struct mv_cmd_ctx *ctx)
{
	struct mv_sizeof_setup su;
	struct mv_error *err = mv_sizeof_setup(ctx, &su, false);
	if (err)
		return err;
	struct mv_walk *w = &su.walk;
	struct mv_program *p = ctx->session->program;
	/* The picture's file is opened before the walk, so that a file
	 * that cannot be written costs nothing. */
	const char *svg = mv_opt_str(ctx, "svg");
	struct mv_outfile svgf = {0};
	if ((svg && (err = mv_outfile_open(&svgf, svg, "--svg",
					   mv_opt_flag(ctx, "force")))) ||
	    (err = mv_sizeof_run(&su)))
		goto out;
	struct type_row *rows = NULL;
	size_t nrows = 0;
	struct top *top = NULL;
	size_t ntop = 0;
	int64_t want_top = mv_opt_num(ctx, "top");
	if ((err = type_rows(w, &rows, &nrows)) ||
	    (err = largest(w, want_top > 0 ? (size_t)want_top : 0, &top,
			   &ntop))) {
		free(rows);
		goto out;
	}
	/* The picture is written before the report, so that a file that
	 * cannot be written fails the command instead of a note. */
	struct mv_flame_stats fs = {0};
	if (svg) {
		struct mv_buf pic;
		mv_buf_init(&pic);
		err = mv_flame_render(w, ctx->pos[0], &pic, &fs);
		if (!err)
			err = mv_graph_write_file(&svgf, &pic);
		if (!err)
			err = mv_outfile_close(&svgf, true);
		mv_buf_deinit(&pic);
		if (err) {
			free(rows);
			free(top);
			goto out;
		}
	}
	char tn[256];
	mv_type_name(su.root.type, tn, sizeof(tn));
	struct mv_type *st = mv_type_strip(su.root.type);
	uint64_t shallow = st ? st->size : 0;
	uint64_t objects = w->nobjs - (w->pseudo_root ? 1 : 0);
	uint64_t problems = 0;
	for (int k = 0; k < MV_PROB_COUNT_; k++)
		problems += w->problems[k];
	const char *heap_limit = su.heap ? mv_heap_limit_note(su.heap) : NULL;
	bool partial = w->hit_max_objects || w->hit_max_depth ||
		       w->interrupted || heap_limit;
	uint64_t alloc_deep = w->chunk_bytes + nonheap_bytes(w) +
			      w->where_bytes[MV_WHERE_UNINDEXED];
	struct mv_buf lim;
	mv_buf_init(&lim);
	limits_note(w, &lim);
	if (heap_limit)
		mv_buf_printf(&lim, "%s%s", lim.len ? "; " : "", heap_limit);
	struct mv_buf path;
	mv_buf_init(&path);

	if (ctx->json) {
		struct mv_json j;
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "sizeof-deep");
		mv_json_key(&j, "partial");
		mv_json_bool(&j, partial);
		mv_json_key(&j, "cut_by");
		mv_json_begin_array(&j);
		if (w->hit_max_objects)
			mv_json_string(&j, "max-objects");
		if (w->hit_max_depth)
			mv_json_string(&j, "max-depth");
		if (heap_limit)
			mv_json_string(&j, "max-heap-chunks");
		if (w->interrupted)
			mv_json_string(&j, "interrupted");
		mv_json_end_array(&j);
		mv_json_key(&j, "expression");
		mv_json_string(&j, ctx->pos[0]);
		mv_json_key(&j, "type");
		mv_json_string(&j, tn);
		mv_json_key(&j, "address");
		if (su.root.is_lvalue)
			mv_json_address(&j, su.root.address);
		else
			mv_json_null(&j);
		mv_json_key(&j, "shallow_size");
		mv_json_uint(&j, shallow);
		mv_json_key(&j, "deep_size");
		mv_json_uint(&j, w->type_bytes);
		mv_json_key(&j, "allocator_deep_size");
		mv_json_uint(&j, alloc_deep);
		mv_json_key(&j, "objects");
		mv_json_uint(&j, objects);
		mv_json_key(&j, "max_depth");
		mv_json_uint(&j, w->max_depth_seen);
		mv_json_key(&j, "heap_model");
		if (su.heap)
			mv_json_string(&j, mv_heap_description(su.heap));
		else
			mv_json_null(&j);
		mv_json_key(&j, "heap");
		mv_json_begin_object(&j);
		mv_json_key(&j, "objects");
		mv_json_uint(&j, w->heap_objects);
		mv_json_key(&j, "type_bytes");
		mv_json_uint(&j, w->heap_type_bytes);
		mv_json_key(&j, "chunk_bytes");
		mv_json_uint(&j, w->chunk_bytes);
		mv_json_key(&j, "usable_bytes");
		mv_json_uint(&j, w->usable_bytes);
		mv_json_key(&j, "overhead_bytes");
		mv_json_uint(&j, w->chunk_bytes - w->usable_bytes);
		mv_json_key(&j, "slack_bytes");
		mv_json_int(&j, (int64_t)(w->usable_bytes -
					  w->heap_type_bytes));
		mv_json_end_object(&j);
		mv_json_key(&j, "not_heap");
		mv_json_begin_object(&j);
		mv_json_key(&j, "objects");
		mv_json_uint(&j, nonheap_objects(w));
		mv_json_key(&j, "bytes");
		mv_json_uint(&j, nonheap_bytes(w));
		for (int k = 1; k < MV_WHERE_UNINDEXED; k++) {
			mv_json_key(&j, mv_walk_where_name(k));
			mv_json_begin_object(&j);
			mv_json_key(&j, "objects");
			mv_json_uint(&j, w->where_objects[k]);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, w->where_bytes[k]);
			mv_json_end_object(&j);
		}
		mv_json_end_object(&j);
		mv_json_key(&j, "not_indexed");
		mv_json_begin_object(&j);
		mv_json_key(&j, "objects");
		mv_json_uint(&j, w->where_objects[MV_WHERE_UNINDEXED]);
		mv_json_key(&j, "bytes");
		mv_json_uint(&j, w->where_bytes[MV_WHERE_UNINDEXED]);
		mv_json_end_object(&j);
		mv_json_key(&j, "by_type");
		mv_json_begin_array(&j);
		for (size_t i = 0; i < nrows; i++) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "type");
			mv_json_string(&j, rows[i].name);
			mv_json_key(&j, "count");
			mv_json_uint(&j, rows[i].objects);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, rows[i].bytes);
			mv_json_key(&j, "chunk_bytes");
			mv_json_uint(&j, rows[i].alloc);
			mv_json_key(&j, "share");
			mv_json_double(&j, w->type_bytes
					   ? (double)rows[i].bytes /
						     (double)w->type_bytes
					   : 0.0);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		mv_json_key(&j, "largest");
		mv_json_begin_array(&j);
		for (size_t i = 0; i < ntop; i++) {
			mv_buf_clear(&path);
			mv_sizeof_path(w, ctx->pos[0], top[i].index, &path);
			mv_json_begin_object(&j);
			mv_json_key(&j, "path");
			mv_json_string(&j, path.data ? path.data : "");
			mv_json_key(&j, "type");
			mv_json_string(&j, mv_walk_plan_name(
						   w, w->objs[top[i].index].plan));
			mv_json_key(&j, "address");
			mv_json_address(&j, w->objs[top[i].index].addr);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, top[i].bytes);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		mv_json_key(&j, "limits");
		mv_json_begin_object(&j);
		mv_json_key(&j, "max_objects");
		mv_json_uint(&j, w->opt.max_objects);
		mv_json_key(&j, "max_objects_hit");
		mv_json_bool(&j, w->hit_max_objects);
		mv_json_key(&j, "max_depth");
		mv_json_uint(&j, w->opt.max_depth);
		mv_json_key(&j, "max_depth_hit");
		mv_json_bool(&j, w->hit_max_depth);
		mv_json_key(&j, "interrupted");
		mv_json_bool(&j, w->interrupted);
		mv_json_key(&j, "message");
		if (lim.len)
			mv_json_string(&j, lim.data);
		else
			mv_json_null(&j);
		mv_json_end_object(&j);
		mv_json_key(&j, "guesses");
		mv_json_begin_object(&j);
		mv_json_key(&j, "single_element");
		mv_json_uint(&j, w->guessed_single);
		mv_json_key(&j, "flexible_array");
		mv_json_uint(&j, w->guessed_fam);
		mv_json_key(&j, "conservative_edges");
		mv_json_uint(&j, w->guessed_edges);
		mv_json_key(&j, "hinted");
		mv_json_uint(&j, w->hinted);
		mv_json_end_object(&j);
		mv_json_key(&j, "rules");
		mv_json_begin_object(&j);
		mv_json_key(&j, "dispatched");
		mv_json_uint(&j, w->dispatched);
		mv_json_key(&j, "contained");
		mv_json_uint(&j, w->contained);
		mv_json_key(&j, "undispatched");
		mv_json_uint(&j, w->undispatched);
		mv_json_key(&j, "dispatch_misfit");
		mv_json_uint(&j, w->dispatch_misfit);
		mv_json_key(&j, "loops");
		mv_json_uint(&j, w->rule_loops);
		mv_json_key(&j, "skipped");
		mv_json_uint(&j, w->rule_skipped);
		mv_json_end_object(&j);
		mv_json_key(&j, "not_followed");
		mv_json_begin_object(&j);
		mv_json_key(&j, "union_pointers");
		mv_json_uint(&j, w->unions_skipped);
		mv_json_key(&j, "function_pointers");
		mv_json_uint(&j, w->fn_pointers);
		mv_json_key(&j, "untyped_chunks");
		mv_json_uint(&j, w->opt.conservative ? 0 : w->untyped_chunks);
		mv_json_key(&j, "void_outside_heap");
		mv_json_uint(&j, w->void_nonheap);
		mv_json_end_object(&j);
		mv_json_key(&j, "problems");
		mv_json_begin_object(&j);
		mv_json_key(&j, "total");
		mv_json_uint(&j, problems);
		for (int k = 0; k < MV_PROB_COUNT_; k++) {
			mv_json_key(&j, mv_walk_problem_name(k));
			mv_json_uint(&j, w->problems[k]);
		}
		mv_json_end_object(&j);
		mv_json_key(&j, "notes");
		mv_json_begin_array(&j);
		notes(w, su.heap_note, emit_json_note, &j);
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
	} else {
		char g[6][32];
		mv_out(ctx, "%s (%s)", ctx->pos[0], tn);
		if (su.root.is_lvalue) {
			mv_out(ctx, " at ");
			mv_value_render_pointer(p, su.root.address, &ctx->out);
		}
		mv_out(ctx, "%s\n", partial ? "  [PARTIAL]" : "");
		mv_out(ctx, "  shallow size   %s bytes\n", G(g, 0, shallow));
		mv_out(ctx, "  deep size      %s bytes in %s object%s "
			    "(sum of sizeof), %s bytes by the allocator\n",
		       G(g, 0, w->type_bytes), G(g, 1, objects),
		       plural(objects), G(g, 2, alloc_deep));
		if (su.heap)
			mv_out(ctx, "  heap           %s object%s: %s type "
				    "bytes in %s bytes of chunks = %s usable + "
				    "%s header; slack %s\n",
			       G(g, 0, w->heap_objects),
			       plural(w->heap_objects),
			       G(g, 1, w->heap_type_bytes),
			       G(g, 2, w->chunk_bytes),
			       G(g, 3, w->usable_bytes),
			       G(g, 4, w->chunk_bytes - w->usable_bytes),
			       G(g, 5, w->usable_bytes - w->heap_type_bytes));
		mv_out(ctx, "  not heap       %s object%s, %s bytes",
		       G(g, 0, nonheap_objects(w)),
		       plural(nonheap_objects(w)), G(g, 1, nonheap_bytes(w)));
		const char *sep = " (";
		for (int k = 1; k < MV_WHERE_UNINDEXED; k++)
			if (w->where_objects[k]) {
				mv_out(ctx, "%s%s %s", sep,
				       mv_walk_where_name(k),
				       G(g, 0, w->where_bytes[k]));
				sep = ", ";
			}
		mv_out(ctx, "%s\n", *sep == ',' ? ")" : "");
		if (w->where_objects[MV_WHERE_UNINDEXED])
			mv_out(ctx, "  not indexed    %s objects, %s bytes "
				    "(in the heap past --max-heap-chunks: "
				    "their chunks are not known)\n",
			       G(g, 0, w->where_objects[MV_WHERE_UNINDEXED]),
			       G(g, 1, w->where_bytes[MV_WHERE_UNINDEXED]));
		mv_out(ctx, "\n  %12s %14s %14s %6s  %s\n", "count", "bytes",
		       "chunk bytes", "share", "type");
		size_t shown = nrows < 20 ? nrows : 20;
		for (size_t i = 0; i < shown; i++)
			mv_out(ctx, "  %12s %14s %14s %5.1f%%  %s\n",
			       G(g, 0, rows[i].objects), G(g, 1, rows[i].bytes),
			       G(g, 2, rows[i].alloc),
			       w->type_bytes ? 100.0 * (double)rows[i].bytes /
						       (double)w->type_bytes
					     : 0.0,
			       rows[i].name);
		if (nrows > shown)
			mv_out(ctx, "  ... %zu more types (--json lists all)\n",
			       nrows - shown);
		if (ntop) {
			mv_out(ctx, "\n  largest paths (bytes owned, chunks "
				    "where on the heap):\n");
			for (size_t i = 0; i < ntop; i++) {
				mv_buf_clear(&path);
				mv_sizeof_path(w, ctx->pos[0], top[i].index,
					       &path);
				mv_out(ctx, "  %14s  %s  (%s)\n",
				       G(g, 0, top[i].bytes),
				       path.data ? path.data : "",
				       mv_walk_plan_name(
					       w, w->objs[top[i].index].plan));
			}
		}
		mv_out(ctx, "\n");
		if (lim.len)
			mv_out(ctx, "  partial: %s\n", lim.data);
		notes(w, su.heap_note, emit_text_note, ctx);
		if (svg)
			mv_out(ctx, "  svg: %s (%zu cells, %zu of them merged "
				    "'... N more')\n", svg, fs.rects, fs.merged);
		if (!problems) {
			mv_out(ctx, "  problems: none\n");
		} else {
			mv_out(ctx, "  problems: %s bad pointers not followed (",
			       G(g, 0, problems));
			const char *s2 = "";
			for (int k = 0; k < MV_PROB_COUNT_; k++)
				if (w->problems[k]) {
					mv_out(ctx, "%s%s %s", s2,
					       G(g, 0, w->problems[k]),
					       mv_walk_problem_name(k));
					s2 = ", ";
				}
			mv_out(ctx, ")\n");
		}
	}
	free(rows);
	free(top);
	mv_buf_deinit(&lim);
	mv_buf_deinit(&path);
	err = mv_buf_error(&ctx->out);
out:
	mv_error_destroy(mv_outfile_close(&svgf, false));
	mv_sizeof_teardown(&su);
	return err;
}

const struct mv_option mv_sizeof_options[] = {
	{"top", 0, MV_OPT_INT, "N", "largest paths shown", "10", NULL},
	{"len", 0, MV_OPT_LIST, "TYPE.FIELD=LENGTH",
	 "the pointer FIELD of TYPE (a member path) points to LENGTH "
	 "elements, LENGTH being an expression over TYPE's integer "
	 "members at any path: 'struct vec.data=len', "
	 "'PyListObject.ob_item=ob_base.ob_size', 'struct t.buckets=1 "
	 "<< log2' (C++: 'ns::Buf<int>.data=len'); an unknown type or "
	 "member is an error", NULL, NULL},
	{"len-file", 0, MV_OPT_STRING, "FILE",
	 "read --len hints from FILE, one per line ('#' comments)", NULL,
	 NULL},
	MV_OPTION_TYPES,
	{"unions", 0, MV_OPT_CHOICE, "MODE",
	 "pointers inside unions: not followed, the first member's, or "
	 "every member's", "none",
	 (const char *const[]){"none", "first", "all", NULL}},
	{"conservative", 0, MV_OPT_FLAG, NULL,
	 "look into void * chunks: aligned words pointing into in-use "
	 "chunks are followed as guessed edges", NULL, NULL},
	{"static-types", 0, MV_OPT_FLAG, NULL,
	 "walk a pointer to a polymorphic class as its declared type, "
	 "not as the object's most-derived class found from its vtable",
	 NULL, NULL},
	{"max-objects", 0, MV_OPT_INT, "N",
	 "stop after N objects (a partial answer says so; 0: no limit; "
	 "default: half the memory available, as info says)", NULL, NULL},
	{"max-depth", 0, MV_OPT_INT, "N",
	 "follow at most N pointers from the root (0: no limit)", "0",
	 NULL},
	{"svg", 0, MV_OPT_STRING, "FILE",
	 "also draw where the deep size goes as an SVG icicle chart in "
	 "FILE (hover for the numbers)", NULL, NULL},
	MV_OPTION_FORCE,
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_sizeof = {
	.name = "sizeof-deep",
	.debugger_name = "sizeof-deep",
	.synopsis = "EXPR",
	.summary = "Deep size of an object: everything reachable through "
		   "its pointers, by type and by path, in type bytes and "
		   "in malloc chunks.",
	.description =
		"Like Python's sys.getsizeof() with pympler's deep sizing, "
		"driven by the DWARF types. From the object EXPR names "
		"(or the object a pointer value points to), pointers are "
		"followed breadth first and each distinct object is "
		"counted once, however many paths reach it: shared "
		"objects, DAGs and cycles are fine.\n\n"
		"How pointers are followed: T * points to an object of "
		"type T; if it points into a heap chunk, the chunk is the "
		"unit of allocator accounting and an interior pointer "
		"maps to its chunk. A pointer to T is one element unless "
		"a --len hint gives the count as an expression over the "
		"members of the pointer's record; "
		"a flexible array member takes the rest of its chunk. "
		"Both are reported as guesses. char * is a NUL-terminated "
		"string (at most 1 MiB); unsigned char *, signed char * and "
		"uint8_t * are bytes: the rest of their block. void * is an "
		"untyped chunk: "
		"counted (its usable size), not looked into unless "
		"--conservative. Function pointers are not followed. "
		"Pointers inside unions are not followed unless --unions "
		"says which member is live.\n\n"
		"Type bytes are the sum of sizeof of the objects found; "
		"allocator bytes are the glibc malloc chunks they live in "
		"(usable size plus header, and the slack between what the "
		"type needs and what malloc gave). Objects outside the "
		"heap (globals, read-only data, stacks) are counted apart. "
		"Bad pointers (unmapped, misaligned, into freed or corrupt "
		"chunks) are counted in the problems line, never followed. "
		"When --max-objects or --max-depth stops the walk, or "
		"Ctrl-C does, the answer is partial and says so.\n\n"
		"C++ (libstdc++, g++ 12): a std::vector's elements in "
		"[begin, end) are walked with their type (its block, up to "
		"the capacity, counted once); a std::string's heap buffer "
		"is counted, its inline buffer is part of the string; "
		"map, set, multimap, multiset, list, unordered_map and "
		"unordered_set, forward_list nodes are typed with the value "
		"type (the hash table's bucket array counted as a block); a "
		"deque's map is counted and its node buffers walked for the "
		"elements in [begin, end) only; unique_ptr follows its "
		"pointer; shared_ptr and weak_ptr count the control block "
		"and follow the object while its use count is positive "
		"(make_shared's block once, typed as the object); array is "
		"walked as its elements, optional's value while engaged, "
		"variant's active alternative only, and function's functor "
		"block when it is kept on the heap (untyped: DWARF does not "
		"say which lambda). A container memview does not understand "
		"is named in a note. A corrupt container (end before begin, "
		"a size past its block, a tree or forward_list node met "
		"twice, deque nodes out of order or outside its map, a node "
		"or control block in a freed chunk) is walked as far as it "
		"holds together and counted as a bad_container problem. "
		"A pointer to a polymorphic class is walked as the "
		"object's most-derived class, found from its vtable (as "
		"gdb's set print object on); --static-types keeps the "
		"declared type.\n\n"
		"--svg FILE draws an icicle chart: the root on top, each "
		"object below the object that reached it first, widths in "
		"deep bytes, colours by type, the numbers on hover (at most "
		"2,000 cells and 64 levels; the rest merged into "
		"'... N more' cells).",
	.options = mv_sizeof_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_sizeof,
};
