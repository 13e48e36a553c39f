/* cmd_gc.c - `gc`: a simulated collection of the target's malloc heap -
 * leaks in valgrind memcheck's categories, cyclic garbage, and with
 * --refcount CPython's cycle-collector algorithm over refcounted
 * structs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "dwarf.h"
#include "error.h"
#include "gc.h"
#include "session.h"
#include "walk.h"

#define FIRST_BYTES 16
#define MAX_STRUCTS 20000
#define MAX_FIELDS 100000

/* ---- struct types the program knows, for "candidate types" ---- */

struct known {
	struct mv_type **types;   /* stripped structs, by size */
	size_t n, cap;
	/* Visited set over type pointers (open addressing). */
	struct mv_type **seen;
	size_t seen_cap, nseen;
	struct mv_type **work;
	size_t nwork, work_cap;
	bool oom;
};

static bool seen_add(struct known *k, struct mv_type *t)
{
	if ((k->nseen + 1) * 2 > k->seen_cap) {
		size_t cap = k->seen_cap ? k->seen_cap * 2 : 1024;
		struct mv_type **s = calloc(cap, sizeof(*s));
		if (!s) {
			k->oom = true;
			return false;
		}
		for (size_t i = 0; i < k->seen_cap; i++) {
			if (!k->seen[i])
				continue;
			size_t h = ((uintptr_t)k->seen[i] >> 4) & (cap - 1);
			while (s[h])
				h = (h + 1) & (cap - 1);
			s[h] = k->seen[i];
		}
		free(k->seen);
		k->seen = s;
		k->seen_cap = cap;
	}
	size_t h = ((uintptr_t)t >> 4) & (k->seen_cap - 1);
	while (k->seen[h]) {
		if (k->seen[h] == t)
			return false;
		h = (h + 1) & (k->seen_cap - 1);
	}
	k->seen[h] = t;
	k->nseen++;
	return true;
}

static void known_push(struct known *k, struct mv_type *t)
{
	if (!t || k->oom || k->nseen >= MAX_STRUCTS * 4 || !seen_add(k, t))
		return;
	if (k->nwork == k->work_cap) {
		size_t cap = k->work_cap ? k->work_cap * 2 : 256;
		struct mv_type **w = realloc(k->work, cap * sizeof(*w));
		if (!w) {
			k->oom = true;
			return;
		}
		k->work = w;
		k->work_cap = cap;
	}
	k->work[k->nwork++] = t;
}

static bool known_var(void *arg, const char *name, uint64_t addr,
		      struct mv_type *type)
{
	known_push(arg, type);
	return true;
}

static int type_size_cmp(const void *a, const void *b)
{
	const struct mv_type *x = *(struct mv_type *const *)a;
	const struct mv_type *y = *(struct mv_type *const *)b;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* Every struct reachable from the executable's global variables' types
 * (through members, pointers, arrays and typedefs), an iterative walk
 * over the type graph.  Bounded; libraries' types are not loaded (glibc's
 * would cost more than the collection). */
static void known_collect(struct known *k, struct mv_program *p)
{
	struct mv_objfile **objs;
	size_t n = mv_program_objfiles(p, &objs);
	for (size_t i = 0; i < n; i++) {
		struct mv_dwarf *d;
		if (!objs[i]->is_main)
			continue;
		struct mv_error *err = mv_objfile_dwarf(objs[i], &d);
		if (err) {
			mv_error_destroy(err);
			continue;
		}
		err = mv_dwarf_for_each_variable(d, known_var, k);
		mv_error_destroy(err);
	}
	while (k->nwork && !k->oom) {
		struct mv_type *t = k->work[--k->nwork];
		switch (t->kind) {
		case MV_TYPE_STRUCT:
		case MV_TYPE_CLASS:
		case MV_TYPE_UNION:
			if (t->kind != MV_TYPE_UNION && t->is_complete &&
			    t->size && t->name && k->n < MAX_STRUCTS) {
				if (k->n == k->cap) {
					size_t cap = k->cap ? k->cap * 2 : 64;
					struct mv_type **a = realloc(
						k->types, cap * sizeof(*a));
					if (!a) {
						k->oom = true;
						break;
					}
					k->types = a;
					k->cap = cap;
				}
				k->types[k->n++] = t;
			}
			for (size_t m = 0; m < t->nmembers; m++)
				known_push(k, t->members[m].type);
			break;
		case MV_TYPE_POINTER:
		case MV_TYPE_TYPEDEF:
		case MV_TYPE_ARRAY:
		case MV_TYPE_QUALIFIED:
			known_push(k, mv_type_target(t));
			break;
		default:
			break;
		}
	}
	qsort(k->types, k->n, sizeof(*k->types), type_size_cmp);
}

static void known_free(struct known *k)
{
	free(k->types);
	free(k->seen);
	free(k->work);
}

/* glibc's request2size: the chunk malloc(size) returns. */
static uint64_t chunk_for(uint64_t size)
{
	uint64_t c = (size + 8 + 15) & ~15ull;
	return c < 32 ? 32 : c;
}

/* Names of the structs whose malloc(sizeof) gives a chunk of this size,
 * at most max, "" if none, separated by sep (C++ names hold ", ": the
 * JSON list is made from a "\n"-separated one). */
static void candidates(const struct known *k, uint64_t chunk_size,
		       struct mv_buf *out, size_t max, const char *sep)
{
	size_t shown = 0, more = 0;
	uint64_t lo = chunk_size > 24 ? chunk_size - 23 : 0;
	for (size_t i = 0; i < k->n; i++) {
		struct mv_type *t = k->types[i];
		if (t->size < lo || chunk_for(t->size) != chunk_size)
			continue;
		/* The same struct from several compile units once. */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = k->types[j]->size == t->size &&
			      !strcmp(k->types[j]->name, t->name) &&
			      chunk_for(k->types[j]->size) == chunk_size;
		if (dup)
			continue;
		if (shown == max) {
			more++;
			continue;
		}
		char name[MV_EVAL_TYPE_NAME_MAX];
		mv_type_name(t, name, sizeof(name));
		mv_buf_printf(out, "%s%s", shown ? sep : "", name);
		shown++;
	}
	if (more)
		mv_buf_printf(out, "%sand %zu more", sep, more);
}

/* ---- groups: blocks of one kind and one size ---- */

struct group {
	uint8_t kind;
	uint64_t usable;
	uint64_t blocks, bytes;
	size_t sample;   /* chunk index */
	uint64_t in_cycles;
};

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	static const int order[MV_GC_KIND_COUNT_] = {9, 9, 3, 2, 0, 1};
	if (x->kind != y->kind)
		return order[x->kind] < order[y->kind] ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->usable < y->usable ? -1 : x->usable > y->usable;
}

static bool in_cycle(const struct mv_gc *gc, size_t i)
{
	uint32_t pos = mv_gc_lost_pos(gc, i);
	return pos != MV_GC_NONE && gc->scc_cyclic[gc->scc[pos]];
}

/* A table of the groups by (kind, usable): slot holds a group's
 * position + 1, 0 when empty; nslot a power of two, at most half full. */
struct group_table {
	struct group *g;
	size_t ng, cap;
	uint32_t *slot;
	size_t nslot;
};

static size_t group_slot(const struct group_table *t, uint8_t kind,
			 uint64_t usable)
{
	size_t h = (size_t)(((usable * 0x9e3779b97f4a7c15ull) ^ kind) >> 17);
	for (h &= t->nslot - 1; t->slot[h]; h = (h + 1) & (t->nslot - 1)) {
		const struct group *x = &t->g[t->slot[h] - 1];
		if (x->kind == kind && x->usable == usable)
			break;
	}
	return h;
}

/* Room for one more group. */
static bool group_room(struct group_table *t)
{
	if (t->ng == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct group *g = realloc(t->g, cap * sizeof(*g));
		if (!g)
			return false;
		t->g = g;
		t->cap = cap;
	}
	if (2 * (t->ng + 1) <= t->nslot)
		return true;
	size_t nslot = t->nslot ? t->nslot * 2 : 256;
	uint32_t *slot = calloc(nslot, sizeof(*slot));
	if (!slot)
		return false;
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	for (size_t k = 0; k < t->ng; k++)
		t->slot[group_slot(t, t->g[k].kind, t->g[k].usable)] =
			(uint32_t)k + 1;
	return true;
}

/* The blocks to report grouped by kind and usable size, each group's
 * sample its lowest-indexed block; a table of the groups, not a list
 * of the blocks (tens of millions of them with --reachable). */
static struct mv_error *make_groups(struct mv_gc *gc, bool reachable,
				    struct group **ret, size_t *nret)
{
	struct group_table t = {0};
	for (size_t i = 0; i < gc->n; i++) {
		uint8_t k = gc->kind[i];
		if (k < MV_GC_POSSIBLE && !(reachable && k == MV_GC_REACHABLE))
			continue;
		uint64_t usable = mv_gc_usable(gc, i);
		if (!group_room(&t)) {
			free(t.g);
			free(t.slot);
			return mv_enomem;
		}
		size_t h = group_slot(&t, k, usable);
		if (!t.slot[h]) {
			t.g[t.ng] = (struct group){k, usable, 0, 0, i, 0};
			t.slot[h] = (uint32_t)++t.ng;
		}
		struct group *x = &t.g[t.slot[h] - 1];
		x->blocks++;
		x->bytes += usable;
		if (in_cycle(gc, i))
			x->in_cycles++;
	}
	free(t.slot);
	if (t.ng)
		qsort(t.g, t.ng, sizeof(*t.g), group_cmp);
	*ret = t.g;
	*nret = t.ng;
	return NULL;
}

static void hex_bytes(struct mv_gc *gc, size_t i, struct mv_buf *out)
{
	size_t len;
	const uint8_t *p = mv_gc_block_bytes(gc, i, &len);
	if (len > FIRST_BYTES)
		len = FIRST_BYTES;
	for (size_t k = 0; p && k < len; k++)
		mv_buf_printf(out, "%s%02x", k ? " " : "", p[k]);
}

/* The class of a block that starts with a vtable pointer (a polymorphic
 * object made by new), as the type prints ("struct geo::Both"), from
 * the vtable's symbol: its exact class, not a guess by size. */
static bool vtable_type(struct mv_gc *gc, size_t i, char *buf, size_t size)
{
	size_t len;
	const uint8_t *p = mv_gc_block_bytes(gc, i, &len);
	uint64_t vptr, off;
	const char *sym;
	char cls[512];
	if (!p || len < 8)
		return false;
	memcpy(&vptr, p, 8);
	if (!vptr || !mv_program_symbolize(gc->program, vptr, &sym, &off) ||
	    off < 16 || !mv_walk_vtable_class(sym, cls, sizeof(cls)))
		return false;
	struct mv_type *t = NULL;
	for (int ns = 0; ns < 2 && !t; ns++) {
		struct mv_error *err = mv_program_find_type(
			gc->program, ns ? MV_NS_STRUCT : MV_NS_CLASS, cls, 0, &t,
			NULL);
		if (err) {
			mv_error_destroy(err);
			t = NULL;
		}
	}
	if (t)
		mv_type_name(mv_type_strip(t), buf, size);
	else
		snprintf(buf, size, "%s", cls);
	return true;
}

static const char *chunk_type_note(struct mv_gc *gc, size_t i,
				   const struct known *k, struct mv_buf *b)
{
	char vt[MV_EVAL_TYPE_NAME_MAX];
	mv_buf_clear(b);
	if (vtable_type(gc, i, vt, sizeof(vt))) {
		mv_buf_printf(b, "%s (vtable)", vt);
		return b->data ? b->data : "";
	}
	candidates(k, mv_gc_size(gc, i), b, 3, ", ");
	return b->data ? b->data : "";
}

/* ---- DOT ---- */

/* The one struct a chunk of this size can be (candidates() finds just
 * one name), or NULL. */
static struct mv_type *only_candidate(const struct known *k,
				      uint64_t chunk_size)
{
	struct mv_type *one = NULL;
	uint64_t lo = chunk_size > 24 ? chunk_size - 23 : 0;
	for (size_t i = 0; i < k->n; i++) {
		struct mv_type *t = k->types[i];
		if (t->size < lo || chunk_for(t->size) != chunk_size)
			continue;
		if (one && (one->size != t->size || strcmp(one->name, t->name)))
			return NULL;
		one = t;
	}
	return one;
}

/* lab into a DOT string: member names come from the file's DWARF, so
 * quotes, backslashes and control bytes are left out. */
static void dot_safe(struct mv_buf *out, const struct mv_buf *lab)
{
	for (size_t c = 0; c < lab->len; c++)
		if (lab->data[c] != '"' && lab->data[c] != '\\' &&
		    (unsigned char)lab->data[c] >= 0x20)
			mv_buf_putc(out, lab->data[c]);
}

/* An edge's label: where in the block the pointer lies, "+16", and,
 * when one struct alone has the block's size, which member of it that
 * would be, "+16 .next?" (a guess from the size, as the text's
 * candidates are).  The first such word only. */
static void edge_label(struct mv_gc *gc, const struct known *k, size_t from,
		       size_t to, bool interior, struct mv_buf *out)
{
	size_t len;
	const uint8_t *p = mv_gc_block_bytes(gc, from, &len);
	uint64_t lo = mv_gc_mem(gc, to);
	uint64_t hi = lo + (interior ? mv_gc_usable(gc, to) : 1);
	mv_buf_clear(out);
	for (size_t off = 0; p && off + 8 <= len; off += 8) {
		uint64_t v;
		memcpy(&v, p + off, 8);
		if (v < lo || v >= hi)
			continue;
		struct mv_type *t = only_candidate(
			k, mv_gc_size(gc, from));
		const struct mv_member *m = NULL;
		for (size_t i = 0; t && i < t->nmembers; i++) {
			const struct mv_member *c = &t->members[i];
			uint64_t at = c->bit_position / 8;
			uint64_t size = c->type ? mv_type_strip(c->type)->size : 0;
			if (c->name && !c->bit_size && off >= at &&
			    off < at + size)
				m = c;
		}
		mv_buf_printf(out, "+%zu", off);
		if (m && off == m->bit_position / 8)
			mv_buf_printf(out, " .%s?", m->name);
		else if (m)
			mv_buf_printf(out, " .%s+%llu?", m->name,
				      (unsigned long long)(off -
							   m->bit_position / 8));
		return;
	}
}

/* What a picture of the lost blocks shows: boxes in drawing order, each
 * one block, or a chain of blocks of one size each holding only the
 * next and held only by the one before (a leaked list: one box,
 * "× N").  rank maps a lost position to its box (UINT32_MAX: not
 * drawn). */
struct picture {
	uint32_t *first, *last;  /* per box: its first and last position */
	uint32_t *len;           /* per box: blocks in it */
	uint32_t *rank;          /* per position */
	uint32_t *indeg;         /* per position, among the lost */
	size_t n, blocks;
};

#define MIN_CHAIN 3

static void picture_deinit(struct picture *pic)
{
	free(pic->first);
	free(pic->last);
	free(pic->len);
	free(pic->rank);
	free(pic->indeg);
}

static bool link_block(struct mv_gc *gc, const struct picture *pic,
		       uint32_t u)
{
	return pic->indeg[u] == 1 && gc->lost_off[u + 1] - gc->lost_off[u] == 1;
}

static uint32_t only_next(struct mv_gc *gc, uint32_t u)
{
	return gc->lost_adj[gc->lost_off[u]] & ~MV_GC_INTERIOR;
}

/* A new box for position w (reached from a drawn block when chain):
 * with the chain that starts there, if one does. */
static void add_box(struct mv_gc *gc, struct picture *pic, uint32_t w,
		    bool chain)
{
	uint32_t r = (uint32_t)pic->n++;
	uint32_t last = w, len = 1;
	uint64_t size = mv_gc_size(gc, gc->lost[w]);
	if (chain && link_block(gc, pic, w)) {
		/* Bounded by the lost blocks: each joins once. */
		for (uint32_t x = only_next(gc, w);
		     x != w && pic->rank[x] == UINT32_MAX &&
		     link_block(gc, pic, x) &&
		     mv_gc_size(gc, gc->lost[x]) == size &&
		     len < gc->nlost;
		     x = only_next(gc, x)) {
			pic->rank[x] = r;
			last = x;
			len++;
		}
		if (len < MIN_CHAIN) {
			for (uint32_t x = only_next(gc, w), k = 1; k < len;
			     k++, x = only_next(gc, x))
				pic->rank[x] = UINT32_MAX;
			last = w;
			len = 1;
		}
	}
	pic->rank[w] = r;
	pic->first[r] = w;
	pic->last[r] = last;
	pic->len[r] = len;
	pic->blocks += len;
}

/* At most max boxes: each definitely lost block in address order with
 * the blocks it holds, breadth first, so that whole leaks are drawn;
 * then the rest in address order. */
static struct mv_error *picture_init(struct mv_gc *gc, size_t max,
				     struct picture *pic)
{
	size_t n = gc->nlost ? gc->nlost : 1;
	memset(pic, 0, sizeof(*pic));
	pic->first = malloc(n * sizeof(uint32_t));
	pic->last = malloc(n * sizeof(uint32_t));
	pic->len = malloc(n * sizeof(uint32_t));
	pic->rank = malloc(n * sizeof(uint32_t));
	pic->indeg = calloc(n, sizeof(uint32_t));
	if (!pic->first || !pic->last || !pic->len || !pic->rank ||
	    !pic->indeg) {
		picture_deinit(pic);
		return mv_enomem;
	}
	memset(pic->rank, 0xff, n * sizeof(uint32_t));
	for (uint64_t x = 0; x < gc->lost_off[gc->nlost]; x++)
		pic->indeg[gc->lost_adj[x] & ~MV_GC_INTERIOR]++;
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < gc->nlost && pic->n < max; s++) {
			if (pic->rank[s] != UINT32_MAX ||
			    (!pass && gc->kind[gc->lost[s]] != MV_GC_DEFINITE))
				continue;
			size_t head = pic->n;
			add_box(gc, pic, (uint32_t)s, false);
			/* The boxes are the queue. */
			while (head < pic->n && pic->n < max) {
				uint32_t u = pic->last[head++];
				for (uint64_t x = gc->lost_off[u];
				     x < gc->lost_off[u + 1] && pic->n < max;
				     x++) {
					uint32_t w = gc->lost_adj[x] &
						     ~MV_GC_INTERIOR;
					if (pic->rank[w] == UINT32_MAX)
						add_box(gc, pic, w, true);
				}
			}
		}
	return NULL;
}

static struct mv_error *write_dot(struct mv_gc *gc, struct mv_outfile *o,
				  const struct known *k, size_t max_nodes,
				  size_t *cut)
{
	struct mv_buf out, lab;
	struct picture pic;
	struct mv_error *err = picture_init(gc, max_nodes, &pic);
	if (err)
		return err;
	mv_buf_init(&out);
	mv_buf_init(&lab);
	size_t n = pic.n;
	*cut = gc->nlost - pic.blocks;
	mv_buf_puts(&out, "digraph gc {\n\tnode [shape=box, fontname="
			  "\"monospace\", fontsize=10];\n\tedge [fontname="
			  "\"monospace\", fontsize=9];\n");
	/* Cyclic components as clusters, so that a cycle reads as one. */
	for (size_t c = 0; c < gc->nscc; c++) {
		if (!gc->scc_cyclic[c])
			continue;
		bool open = false;
		for (size_t u = 0; u < n; u++) {
			if (gc->scc[pic.first[u]] != c)
				continue;
			if (!open)
				mv_buf_printf(&out, "\tsubgraph cluster_%zu {\n"
					      "\t\tlabel=\"cycle: %u blocks\";"
					      " color=red;\n", c,
					      gc->scc_members[c]);
			open = true;
			mv_buf_printf(&out, "\t\tn%zu;\n", u);
		}
		if (open)
			mv_buf_puts(&out, "\t}\n");
	}
	for (size_t u = 0; u < n; u++) {
		size_t i = gc->lost[pic.first[u]];
		const char *kind = gc->kind[i] == MV_GC_DEFINITE
					   ? "definitely" : "indirectly";
		if (pic.len[u] > 1) {
			edge_label(gc, k, i, gc->lost[only_next(gc, pic.first[u])],
				   false, &lab);
			mv_buf_printf(&out, "\tn%zu [label=\"%u blocks of %llu B, "
					    "%s\\n0x%llx ... 0x%llx\\neach "
					    "holding the next at ",
				      u, pic.len[u],
				      (unsigned long long)mv_gc_usable(gc, i),
				      kind, (unsigned long long)mv_gc_mem(gc, i),
				      (unsigned long long)mv_gc_mem(
					      gc, gc->lost[pic.last[u]]));
			dot_safe(&out, &lab);
			mv_buf_puts(&out, "\", style=dashed];\n");
			continue;
		}
		const char *t = chunk_type_note(gc, i, k, &lab);
		mv_buf_printf(&out, "\tn%zu [label=\"0x%llx\\n%llu B, %s%s%s\"%s];\n",
			      u, (unsigned long long)mv_gc_mem(gc, i),
			      (unsigned long long)mv_gc_usable(gc, i), kind,
			      *t ? "\\n" : "", t,
			      gc->kind[i] == MV_GC_DEFINITE ? ", style=bold"
							    : "");
	}
	for (size_t u = 0; u < n; u++) {
		uint32_t from = pic.last[u];
		for (uint64_t x = gc->lost_off[from];
		     x < gc->lost_off[from + 1]; x++) {
			uint32_t w = gc->lost_adj[x] & ~MV_GC_INTERIOR;
			if (pic.rank[w] == UINT32_MAX ||
			    (pic.rank[w] == u && pic.len[u] > 1 &&
			     w != pic.first[u]))
				continue;
			bool interior = gc->lost_adj[x] & MV_GC_INTERIOR;
			edge_label(gc, k, gc->lost[from], gc->lost[w],
				   interior, &lab);
			mv_buf_printf(&out, "\tn%zu -> n%u [label=\"", u,
				      pic.rank[w]);
			dot_safe(&out, &lab);
			mv_buf_printf(&out, "%s\"%s];\n",
				      interior ? " (interior)" : "",
				      interior ? ", style=dashed" : "");
		}
	}
	if (*cut)
		mv_buf_printf(&out, "\tcut [shape=note, label=\"%zu more lost "
				    "blocks not drawn: %zu boxes drawn, each "
				    "definitely lost block with the blocks it "
				    "holds (--draw-max N for more)\"];\n",
			      *cut, n);
	picture_deinit(&pic);
	mv_buf_puts(&out, "}\n");
	err = mv_buf_error(&out);
	if (!err)
		err = mv_outfile_write(o, out.data, out.len);
	if (!err)
		err = mv_outfile_close(o, true);
	mv_buf_deinit(&out);
	mv_buf_deinit(&lab);
	return err;
}

/* ---- --refcount ---- */

static struct mv_error *gc_refcount(struct mv_cmd_ctx *ctx, struct mv_gc *gc,
				    const char *spec, bool by_size,
				    int64_t max_objects);

/* A heap index stopped at --max-heap-chunks: the heap past it was
 * scanned as roots (gc.c's scan_unindexed), so no block it may hold is
 * called lost; the answer says so first, with the numbers. */
static void limit_effect(struct mv_gc *gc, char *buf, size_t size)
{
	snprintf(buf, size, "%s; %llu bytes of heap past it not examined: "
		 "scanned as roots, so no block they may hold is called lost "
		 "(%llu block%s, %llu bytes, reachable only through them); "
		 "blocks lost among them are not counted",
		 mv_heap_limit_note(gc->heap),
		 (unsigned long long)gc->unexamined_bytes,
		 (unsigned long long)gc->held_by_unexamined,
		 gc->held_by_unexamined == 1 ? "" : "s",
		 (unsigned long long)gc->held_by_unexamined_bytes);
}

/* The JSON's "cut_by" (the bounds that cut the answer, by option name)
 * and "not_examined" (null when the whole heap was seen). */
static void json_limits(struct mv_json *j, struct mv_gc *gc)
{
	bool cut = mv_heap_limit_note(gc->heap) != NULL;
	mv_json_key(j, "cut_by");
	mv_json_begin_array(j);
	if (cut)
		mv_json_string(j, "max-heap-chunks");
	mv_json_end_array(j);
	mv_json_key(j, "not_examined");
	if (!cut) {
		mv_json_null(j);
		return;
	}
	mv_json_begin_object(j);
	mv_json_key(j, "bytes");
	mv_json_uint(j, gc->unexamined_bytes);
	mv_json_key(j, "held_blocks");
	mv_json_uint(j, gc->held_by_unexamined);
	mv_json_key(j, "held_bytes");
	mv_json_uint(j, gc->held_by_unexamined_bytes);
	mv_json_end_object(j);
}

/* The head of gc's JSON answer, in both its modes: the command, the
 * heap, whether the answer is partial (the index cut by a limit, roots
 * that could not be scanned) and the limits. */
static void json_head(struct mv_json *j, struct mv_buf *out,
		      struct mv_gc *gc)
{
	mv_json_init(j, out, false);
	mv_json_begin_object(j);
	mv_json_key(j, "command");
	mv_json_string(j, "gc");
	mv_json_key(j, "heap");
	mv_json_string(j, mv_heap_description(gc->heap));
	mv_json_key(j, "partial");
	mv_json_bool(j, mv_heap_limit_note(gc->heap) != NULL ||
				gc->rs.skipped.n);
	json_limits(j, gc);
}

/* What makes a text answer partial, as its first lines: roots that
 * could not be scanned, then the heap index's bound. */
static void text_partial(struct mv_cmd_ctx *ctx, struct mv_gc *gc)
{
	const char *const *notes;
	size_t n = mv_notes_get(&gc->rs.skipped, &notes);
	for (size_t i = 0; i < n; i++)
		mv_out(ctx, "[PARTIAL] %s\n", notes[i]);
	if (mv_heap_limit_note(gc->heap)) {
		char buf[640];
		limit_effect(gc, buf, sizeof(buf));
		mv_out(ctx, "[PARTIAL] %s\n", buf);
	}
}

/* "notes": the heap's bound (if reached), the heap's notes, gc's, and
 * those of the refcount pass (extra, may be empty). */
static void json_notes(struct mv_json *j, struct mv_gc *gc,
		       const char *const *gnotes, size_t ng,
		       const char *const *extra, size_t nx)
{
	struct mv_heap *h = gc->heap;
	mv_json_key(j, "notes");
	mv_json_begin_array(j);
	if (mv_heap_limit_note(h)) {
		char buf[640];
		limit_effect(gc, buf, sizeof(buf));
		mv_json_string(j, buf);
	}
	const char *const *hnotes;
	size_t nh = mv_heap_notes(h, &hnotes);
	for (size_t i = 0; i < nh; i++)
		mv_json_string(j, hnotes[i]);
	for (size_t i = 0; i < ng; i++)
		mv_json_string(j, gnotes[i]);
	for (size_t i = 0; i < nx; i++)
		mv_json_string(j, extra[i]);
	mv_json_end_array(j);
}

/* gc polls every 64k words scanned: report progress on the way. */
static struct mv_error *poll_ctx(void *arg)
{
	struct mv_cmd_ctx *ctx = arg;
	ctx->polls++;
	mv_progress_report(ctx->session, "bytes scanned",
			   ctx->polls * 65536 * 8, 0);
	return mv_ctx_poll(ctx);
}

/* valgrind's --error-exitcode with its default
 * --errors-for-leak-kinds=definite,possible: after the answer, a
 * finding the front end turns into exit status code. */
static struct mv_error *leak_status(struct mv_session *s,
				    const struct mv_gc *gc, int64_t code)
{
	uint64_t found = gc->count[MV_GC_DEFINITE] +
			 gc->count[MV_GC_POSSIBLE];
	if (!code || !found)
		return NULL;
	s->exit_status = (int)code;
	return mv_error_create(MV_ERR_FOUND, "%llu block%s definitely or "
			       "possibly lost (--error-exitcode %d)",
			       (unsigned long long)found, found == 1 ? "" : "s",
			       (int)code);
}

struct mv_error *mv_cmd_gc(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory: open a core (--core) or a "
				       "process (--pid)");
	int64_t top = mv_opt_num(ctx, "top");
	int64_t max_blocks = mv_opt_num(ctx, "max-blocks");
	int64_t exitcode = mv_opt_num(ctx, "error-exitcode");
	if (top < 0 || max_blocks < 0)
		return mv_error_create(MV_ERR_USAGE, "--top and --max-blocks "
						     "take a count >= 0");
	if (exitcode < 0 || exitcode > 255)
		return mv_error_create(MV_ERR_USAGE, "--error-exitcode takes "
				       "an exit status from 1 to 255 (0: off)");
	bool reachable = mv_opt_flag(ctx, "show-reachable");
	bool list_blocks = mv_opt_flag(ctx, "blocks");
	const char *dot = mv_opt_str(ctx, "dot");
	const char *svg = mv_opt_str(ctx, "svg");
	const char *refcount = mv_opt_str(ctx, "refcount");
	if (refcount && exitcode)
		return mv_error_create(MV_ERR_USAGE, "--error-exitcode "
				       "counts lost blocks, not --refcount's "
				       "objects");
	uint32_t heuristics;
	if ((err = mv_gc_parse_heuristics(mv_opt_str(ctx, "heuristics"),
					  &heuristics)))
		return err;
	/* The files are opened before the work; --svg without --dot draws
	 * through a temporary DOT file. */
	char tmpdot[] = "/tmp/memview-gc-XXXXXX";
	bool made_tmp = false;
	bool force = mv_opt_flag(ctx, "force");
	struct mv_outfile dotf = {0}, svgf = {0};
	if (svg && !dot) {
		int fd = mkstemp(tmpdot);
		if (fd < 0)
			return mv_error_create(MV_ERR_IO, "cannot create a "
					       "temporary file");
		close(fd);
		made_tmp = true;
	}
	if ((dot && (err = mv_outfile_open(&dotf, dot, "--dot", force))) ||
	    (made_tmp &&
	     (err = mv_outfile_open(&dotf, tmpdot, "--svg", true))) ||
	    (svg && (err = mv_outfile_open(&svgf, svg, "--svg", force)))) {
		mv_error_destroy(mv_outfile_close(&dotf, false));
		if (made_tmp)
			unlink(tmpdot);
		return err;
	}
	if (made_tmp)
		dot = tmpdot;
	struct mv_heap_options ho = {0};
	if (mv_opt_flag(ctx, "no-symbols"))
		ho.flags |= MV_HEAP_IGNORE_SYMBOLS;
	struct mv_heap *h;
	if ((err = mv_session_open_heap(ctx, &ho, &h))) {
		mv_error_destroy(mv_outfile_close(&dotf, false));
		mv_error_destroy(mv_outfile_close(&svgf, false));
		if (made_tmp)
			unlink(tmpdot);
		return err;
	}
	struct mv_gc gc;
	struct mv_gc_options go = {.poll = poll_ctx, .poll_arg = ctx,
				   .heuristics = heuristics};
	struct known known = {0};
	struct group *groups = NULL;
	size_t ngroups = 0;
	struct mv_buf tb;
	mv_buf_init(&tb);
	if ((err = mv_gc_run(&gc, h, &go))) {
		/* No partial verdict: a block the mark has not reached yet
		 * is not lost.  Say how far it got. */
		err = mv_error_interrupted(
			err, "no verdict yet, as a block not reached yet is "
			     "not lost",
			"marking from the roots (%" PRIu64 " KiB of roots and "
			"%" PRIu64 " KiB of %zu heap blocks scanned so far)",
			gc.root_bytes >> 10, gc.heap_bytes >> 10, gc.n);
		goto out;
	}
	if (refcount) {
		err = gc_refcount(ctx, &gc, refcount,
				  mv_opt_flag(ctx, "by-size"), max_blocks);
		goto out;
	}
	known_collect(&known, s->program);
	if ((err = make_groups(&gc, reachable, &groups, &ngroups)))
		goto out;
	size_t cut = 0;
	/* A picture that reads: about 60 boxes by default, whole leaks
	 * first; the DOT alone (for other tools) up to 1,000. */
	int64_t dmax = mv_opt_num(ctx, "draw-max");
	size_t draw_max = mv_opt_set(ctx, "draw-max") && dmax > 0
				  ? (size_t)(dmax < 1000 ? dmax : 1000)
			  : mv_opt_set(ctx, "draw-max") || !svg ? 1000
								: 60;
	if (dot && (err = write_dot(&gc, &dotf, &known, draw_max, &cut)))
		goto out;
	if (svg && ((err = mv_graph_run_dot(dot, &svgf)) ||
		    (err = mv_outfile_close(&svgf, true))))
		goto out;
	const char *const *hnotes, *const *gnotes, *const *rnotes;
	size_t nr = mv_notes_get(&gc.rs.skipped, &rnotes);
	size_t nh = mv_heap_notes(h, &hnotes);
	size_t ng = mv_notes_get(&gc.notes, &gnotes);
	uint64_t unreachable = gc.count[MV_GC_DEFINITE] +
			       gc.count[MV_GC_INDIRECT];
	static const enum mv_gc_kind order[] = {
		MV_GC_DEFINITE, MV_GC_INDIRECT, MV_GC_POSSIBLE,
		MV_GC_REACHABLE};

	if (ctx->json) {
		struct mv_json j;
		json_head(&j, &ctx->out, &gc);
		mv_json_key(&j, "unreachable");
		mv_json_uint(&j, unreachable);
		mv_json_key(&j, "summary");
		mv_json_begin_object(&j);
		for (size_t o = 0; o < 4; o++) {
			mv_json_key(&j, mv_gc_kind_key(order[o]));
			mv_json_begin_object(&j);
			mv_json_key(&j, "blocks");
			mv_json_uint(&j, gc.count[order[o]]);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, gc.bytes[order[o]]);
			mv_json_end_object(&j);
		}
		mv_json_key(&j, "cyclic_garbage");
		mv_json_begin_object(&j);
		mv_json_key(&j, "cycles");
		mv_json_uint(&j, gc.cyclic_sccs);
		mv_json_key(&j, "blocks");
		mv_json_uint(&j, gc.cyclic_objects);
		mv_json_key(&j, "bytes");
		mv_json_uint(&j, gc.cyclic_bytes);
		mv_json_end_object(&j);
		mv_json_end_object(&j);
		/* Every block, for comparing with mallinfo2(): chunk bytes
		 * of the blocks in heaps, and the mmapped ones apart. */
		uint64_t tb_blocks = 0, tb_usable = 0, tb_chunk = 0;
		uint64_t tb_mm = 0, tb_mm_bytes = 0;
		for (size_t i = 0; i < gc.n; i++) {
			if (gc.kind[i] == MV_GC_NOT_BLOCK)
				continue;
			tb_blocks++;
			tb_usable += mv_gc_usable(&gc, i);
			if (mv_gc_flags(&gc, i) & MV_CHUNK_MMAPPED) {
				tb_mm++;
				tb_mm_bytes += mv_gc_size(&gc, i);
			} else {
				tb_chunk += mv_gc_size(&gc, i);
			}
		}
		mv_json_key(&j, "totals");
		mv_json_begin_object(&j);
		mv_json_key(&j, "blocks");
		mv_json_uint(&j, tb_blocks);
		mv_json_key(&j, "usable");
		mv_json_uint(&j, tb_usable);
		mv_json_key(&j, "chunk_bytes");
		mv_json_uint(&j, tb_chunk);
		mv_json_key(&j, "mmapped_blocks");
		mv_json_uint(&j, tb_mm);
		mv_json_key(&j, "mmapped_bytes");
		mv_json_uint(&j, tb_mm_bytes);
		mv_json_end_object(&j);
		mv_json_key(&j, "scanned");
		mv_json_begin_object(&j);
		mv_json_key(&j, "root_bytes");
		mv_json_uint(&j, gc.root_bytes);
		mv_json_key(&j, "heap_bytes");
		mv_json_uint(&j, gc.heap_bytes);
		mv_json_key(&j, "chunks");
		mv_json_uint(&j, gc.n);
		mv_json_key(&j, "threads");
		mv_json_uint(&j, gc.threads);
		mv_json_key(&j, "stacks");
		mv_json_uint(&j, gc.stacks_scanned);
		mv_json_key(&j, "root_pointers");
		mv_json_uint(&j, gc.root_pointers);
		mv_json_key(&j, "heap_pointers");
		mv_json_uint(&j, gc.heap_pointers);
		mv_json_key(&j, "reachable_by_heuristic");
		mv_json_uint(&j, gc.by_heuristic);
		mv_json_key(&j, "threads_without_registers");
		mv_json_uint(&j, gc.rs.threads_without_registers);
		mv_json_key(&j, "allocator_bytes_left_out");
		mv_json_uint(&j, gc.rs.metadata_bytes);
		mv_json_key(&j, "not_scanned");
		mv_json_begin_array(&j);
		for (size_t i = 0; i < nr; i++)
			mv_json_string(&j, rnotes[i]);
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_json_key(&j, "groups");
		mv_json_begin_array(&j);
		for (size_t g = 0; g < ngroups; g++) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "kind");
			mv_json_string(&j, mv_gc_kind_key(groups[g].kind));
			mv_json_key(&j, "usable");
			mv_json_uint(&j, groups[g].usable);
			mv_json_key(&j, "blocks");
			mv_json_uint(&j, groups[g].blocks);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, groups[g].bytes);
			mv_json_key(&j, "in_cycles");
			mv_json_uint(&j, groups[g].in_cycles);
			mv_json_key(&j, "candidate_types");
			mv_json_begin_array(&j);
			mv_buf_clear(&tb);
			/* The sample's class from its vtable first. */
			char vt[MV_EVAL_TYPE_NAME_MAX];
			bool has_vt = vtable_type(&gc, groups[g].sample, vt,
						  sizeof(vt));
			if (has_vt)
				mv_json_string(&j, vt);
			candidates(&known, mv_gc_size(&gc, groups[g].sample),
				   &tb, 1000, "\n");
			for (char *p = tb.data, *q; p && *p; p = q) {
				q = strchr(p, '\n');
				size_t len = q ? (size_t)(q - p) : strlen(p);
				if (strncmp(p, "and ", 4) &&
				    !(has_vt && strlen(vt) == len &&
				      !strncmp(p, vt, len)))
					mv_json_string_len(&j, p, len);
				q = q ? q + 1 : p + len;
			}
			mv_json_end_array(&j);
			mv_json_key(&j, "sample");
			mv_json_address(&j, mv_gc_mem(&gc, groups[g].sample));
			mv_json_key(&j, "first_bytes");
			mv_buf_clear(&tb);
			hex_bytes(&gc, groups[g].sample, &tb);
			mv_json_string(&j, tb.data ? tb.data : "");
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		mv_json_key(&j, "cycles");
		mv_json_begin_array(&j);
		size_t shown = 0;
		for (size_t c = 0; c < gc.nscc; c++) {
			if (!gc.scc_cyclic[c])
				continue;
			if (top && shown++ >= (size_t)top)
				break;
			uint64_t bytes = 0;
			size_t first = SIZE_MAX;
			for (size_t u = 0; u < gc.nlost; u++)
				if (gc.scc[u] == c) {
					bytes += mv_gc_usable(&gc, gc.lost[u]);
					if (first == SIZE_MAX)
						first = u;
				}
			mv_json_begin_object(&j);
			mv_json_key(&j, "blocks");
			mv_json_uint(&j, gc.scc_members[c]);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, bytes);
			mv_json_key(&j, "sample");
			mv_json_address(&j, mv_gc_mem(&gc, gc.lost[first]));
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		if (list_blocks) {
			mv_json_key(&j, "blocks");
			mv_json_begin_array(&j);
			uint64_t listed = 0;
			for (size_t i = 0; i < gc.n; i++) {
				uint8_t k = gc.kind[i];
				if (k == MV_GC_NOT_BLOCK ||
				    (k == MV_GC_REACHABLE && !reachable))
					continue;
				if (max_blocks && listed++ >= (uint64_t)max_blocks)
					break;
				mv_json_begin_object(&j);
				mv_json_key(&j, "address");
				mv_json_address(&j, mv_gc_mem(&gc, i));
				mv_json_key(&j, "usable");
				mv_json_uint(&j, mv_gc_usable(&gc, i));
				mv_json_key(&j, "kind");
				mv_json_string(&j, mv_gc_kind_key(k));
				mv_json_key(&j, "cyclic");
				mv_json_bool(&j, in_cycle(&gc, i));
				mv_json_end_object(&j);
				if (listed % 4096 == 0 &&
				    (err = mv_out_flush(ctx)))
					goto out;
			}
			mv_json_end_array(&j);
		}
		mv_json_key(&j, "dot_cut");
		mv_json_uint(&j, cut);
		json_notes(&j, &gc, gnotes, ng, rnotes, nr);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
		err = mv_buf_error(&ctx->out);
		if (!err)
			err = leak_status(s, &gc, exitcode);
		goto out;
	}

	text_partial(ctx, &gc);
	mv_out(ctx, "%s; %zu chunks, %llu bytes of roots and %llu bytes of "
		    "blocks scanned, %llu thread%s\n", mv_heap_description(h),
	       gc.n, (unsigned long long)gc.root_bytes,
	       (unsigned long long)gc.heap_bytes,
	       (unsigned long long)gc.threads, gc.threads == 1 ? "" : "s");
	mv_out(ctx, "\nLEAK SUMMARY (as valgrind's memcheck counts; bytes are "
		    "usable sizes)\n");
	/* Cut by the index: every count is of the blocks indexed. */
	const char *seen = mv_heap_limit_note(h) ? " of those indexed" : "";
	for (size_t o = 0; o < 4; o++)
		mv_out(ctx, "  %-16s %12llu bytes in %llu block%s%s\n",
		       mv_gc_kind_name(order[o]),
		       (unsigned long long)gc.bytes[order[o]],
		       (unsigned long long)gc.count[order[o]],
		       gc.count[order[o]] == 1 ? "" : "s", seen);
	if (*seen)
		mv_out(ctx, "  %-16s %12llu bytes of heap past the index "
			    "(--max-heap-chunks)\n", "not examined",
		       (unsigned long long)gc.unexamined_bytes);
	mv_out(ctx, "  %-16s %12llu bytes in %llu block%s, %llu cycle%s\n",
	       "cyclic garbage", (unsigned long long)gc.cyclic_bytes,
	       (unsigned long long)gc.cyclic_objects,
	       gc.cyclic_objects == 1 ? "" : "s",
	       (unsigned long long)gc.cyclic_sccs,
	       gc.cyclic_sccs == 1 ? "" : "s");
	size_t shown = 0;
	for (size_t g = 0; g < ngroups; g++) {
		if (top && shown >= (size_t)top)
			break;
		if (!shown++)
			mv_out(ctx, "\n%-16s %8s %10s %12s  %-18s %s\n", "kind",
			       "blocks", "usable", "bytes", "sample",
			       "candidate types / first bytes");
		mv_buf_clear(&tb);
		const char *t = chunk_type_note(&gc, groups[g].sample, &known,
						&tb);
		mv_out(ctx, "%-16s %8llu %10llu %12llu  0x%016llx %s\n",
		       mv_gc_kind_name(groups[g].kind),
		       (unsigned long long)groups[g].blocks,
		       (unsigned long long)groups[g].usable,
		       (unsigned long long)groups[g].bytes,
		       (unsigned long long)mv_gc_mem(&gc, groups[g].sample),
		       *t ? t : "(no struct of this size)");
		mv_buf_clear(&tb);
		hex_bytes(&gc, groups[g].sample, &tb);
		mv_out(ctx, "%-16s %8s %10s %12s  %-18s %s%s\n", "", "", "", "",
		       "", tb.data ? tb.data : "",
		       groups[g].in_cycles ? "  (in cycles)" : "");
	}
	if (ngroups > shown)
		mv_out(ctx, "... %zu more groups (--top)\n", ngroups - shown);
	if (list_blocks) {
		mv_out(ctx, "\n%-18s %10s  %s\n", "block", "usable", "kind");
		uint64_t listed = 0;
		for (size_t i = 0; i < gc.n; i++) {
			uint8_t k = gc.kind[i];
			if (k == MV_GC_NOT_BLOCK ||
			    (k == MV_GC_REACHABLE && !reachable))
				continue;
			if (max_blocks && listed++ >= (uint64_t)max_blocks)
				break;
			mv_out(ctx, "0x%016llx %10llu  %s%s\n",
			       (unsigned long long)mv_gc_mem(&gc, i),
			       (unsigned long long)mv_gc_usable(&gc, i),
			       mv_gc_kind_name(k),
			       in_cycle(&gc, i) ? " (cyclic)" : "");
		}
	}
	if (dot && !made_tmp)
		mv_out(ctx, "\nwrote %s\n", dot);
	if (svg)
		mv_out(ctx, "%swrote %s\n", dot && !made_tmp ? "" : "\n", svg);
	if ((dot || svg) && cut)
		mv_out(ctx, "  drawn: %llu of %llu lost blocks, each definitely "
			    "lost block with the blocks it holds; --draw-max N "
			    "draws more (up to 1000)\n",
		       (unsigned long long)(gc.nlost - cut),
		       (unsigned long long)gc.nlost);
	if (nh + ng) {
		mv_out(ctx, "\n%zu note%s:\n", nh + ng, nh + ng == 1 ? "" : "s");
		for (size_t i = 0; i < nh; i++)
			mv_out(ctx, "  heap: %s\n", hnotes[i]);
		for (size_t i = 0; i < ng; i++)
			mv_out(ctx, "  %s\n", gnotes[i]);
	}
	mv_out(ctx, "\ngc: %llu unreachable objects (%llu definitely + %llu "
		    "indirectly lost), %llu of them in %llu cycle%s%s\n",
	       (unsigned long long)unreachable,
	       (unsigned long long)gc.count[MV_GC_DEFINITE],
	       (unsigned long long)gc.count[MV_GC_INDIRECT],
	       (unsigned long long)gc.cyclic_objects,
	       (unsigned long long)gc.cyclic_sccs,
	       gc.cyclic_sccs == 1 ? "" : "s",
	       mv_heap_limit_note(h) ? " [PARTIAL: --max-heap-chunks]"
	       : nr		     ? " [PARTIAL: roots not scanned]"
				     : "");
	err = mv_buf_error(&ctx->out);
	if (!err)
		err = leak_status(s, &gc, exitcode);
out:
	mv_error_destroy(mv_outfile_close(&dotf, false));
	mv_error_destroy(mv_outfile_close(&svgf, false));
	if (made_tmp)
		unlink(tmpdot);
	free(groups);
	known_free(&known);
	mv_buf_deinit(&tb);
	mv_gc_deinit(&gc);
	/* h is the session's (mv_session_open_heap). */
	return err;
}

static const struct mv_option gc_options[] = {
	{"top", 'n', MV_OPT_INT, "N",
	 "show the N biggest groups and cycles (0: all)", "20", NULL},
	{"blocks", 0, MV_OPT_FLAG, NULL,
	 "list every block that is not still reachable (with "
	 "--show-reachable: every block)", NULL, NULL},
	{"max-blocks", 0, MV_OPT_INT, "N", "at most N blocks with --blocks "
	 "(0: all)", "1000", NULL},
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{"heuristics", 0, MV_OPT_STRING, "SET",
	 "valgrind's --leak-check-heuristics: interior pointers of these "
	 "shapes count as start pointers: all, none, or a comma list of "
	 "stdstring, length64, newarray, multipleinheritance", "all", NULL},
	{"show-reachable", 0, MV_OPT_FLAG, NULL,
	 "also group and list the still reachable blocks", NULL, NULL},
	{"dot", 0, MV_OPT_STRING, "FILE",
	 "write the lost blocks and their cycles as Graphviz DOT, edges "
	 "labelled with the pointer's offset (at most 1000 nodes)", NULL,
	 NULL},
	{"svg", 0, MV_OPT_STRING, "FILE",
	 "draw the same picture as SVG with Graphviz's dot (Debian package "
	 "graphviz)", NULL, NULL},
	{"draw-max", 0, MV_OPT_INT, "N",
	 "DOT and SVG: draw at most N boxes, whole leaks first (a chain of "
	 "blocks is one box; default: 60 with --svg, a picture that reads; "
	 "else 1000, the most)", NULL, NULL},
	MV_OPTION_FORCE,
	{"error-exitcode", 0, MV_OPT_INT, "N",
	 "exit with status N when a block is definitely or possibly lost, "
	 "as valgrind's --error-exitcode (0: off)", "0", NULL},
	{"refcount", 0, MV_OPT_STRING, "'TYPE.FIELD'|model",
	 "CPython's cycle collection over the objects of TYPE whose "
	 "reference count is FIELD, e.g. 'struct obj.refcnt'; 'model' (or "
	 "the TYPE.FIELD of its refcount rule): over the objects the object "
	 "model (--types) finds, as gc.collect() does", NULL, NULL},
	MV_OPTION_TYPES,
	{"by-size", 0, MV_OPT_FLAG, NULL,
	 "with --refcount: also take every in-use chunk that malloc(sizeof "
	 "TYPE) would give as an object of TYPE", NULL, NULL},
	{"referents", 0, MV_OPT_FLAG, NULL,
	 "with --refcount and --json: list every object examined, each with "
	 "the objects it references (one per reference, as "
	 "gc.get_referents among gc.get_objects)", NULL, NULL},
	{"no-symbols", 0, MV_OPT_FLAG, NULL,
	 "ignore glibc's debug symbols (find the heap from the mappings)",
	 NULL, NULL},
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_gc = {
	.name = "gc",
	.debugger_name = "mv-gc",
	.synopsis = "",
	.summary = "Simulate a garbage collection of the malloc heap: leaks "
		   "as valgrind reports them, and cyclic garbage.",
	.description =
		"Marks from the roots, valgrind's: every thread's registers "
		"and its stack from its stack pointer to the end of its "
		"mapping; every other readable and writable mapping that is "
		"not the allocator's - objfiles' data and bss, static TLS "
		"blocks (the main thread's too), anonymous and file "
		"mappings, other allocators' arenas (device mappings other "
		"than /dev/zero are left alone, as valgrind does). Never a "
		"root: glibc's heaps (their blocks are reached by marking), "
		"its own state outside them (main_arena, mp_) and free "
		"chunks. Marking goes through every aligned word that holds "
		"an address inside an in-use chunk (conservative, "
		"iterative). Free chunks, fenceposts and the allocator's "
		"own blocks (the tcache block) are never blocks. What could "
		"not be scanned (a thread without registers, a stack or "
		"mapping missing from a core) comes first as [PARTIAL] lines "
		"and makes the JSON's \"partial\" true.\n\n"
		"A heap index cut by --max-heap-chunks (by default it holds "
		"as many chunks as half the memory available, as info says) "
		"leaves the heap past it not examined: that memory is "
		"scanned as a root, so no block it may hold is called lost; "
		"every category then counts the indexed blocks only (\"of "
		"those indexed\"), the bytes not examined are counted, and "
		"the exit status stays 0 (JSON: cut_by, not_examined).\n\n"
		"Blocks come out in valgrind memcheck's categories: still "
		"reachable (a chain of pointers to block starts from a "
		"root), possibly lost (every chain has an interior pointer), "
		"definitely lost (no pointer from any other lost block) and "
		"indirectly lost (pointed to only by lost blocks). Cyclic "
		"garbage is the strongly connected components of the lost "
		"blocks: what reference counting could never free. The last "
		"line gives the number of unreachable objects, as Python's "
		"gc.collect() returns it.\n\n"
		"Groups are blocks of one category and one usable size, with "
		"the program's structs whose malloc(sizeof) gives that size, "
		"a sample block and its first bytes. Bytes are usable sizes "
		"(malloc_usable_size), not the sizes asked for. valgrind's "
		"leak heuristics apply as valgrind applies them by default "
		"(--heuristics all): an interior pointer of one of their "
		"shapes (past a std::string's header, past a 64-bit length, "
		"past new[]'s count, at a second base's vtable pointer) "
		"counts as a start pointer; compare --heuristics none with "
		"--leak-check-heuristics=none.\n\n"
		"With --refcount 'struct obj.refcnt': the objects of that "
		"type - found through typed pointers from the executable's "
		"globals, through the type's own pointer fields in other "
		"objects, as chunks of its malloc size that such a field of "
		"another chunk of that size points at (a free-standing "
		"cycle), and with --by-size as every chunk of its size; the "
		"report says how many each way - go through CPython's "
		"algorithm: each count minus the references from the other "
		"objects' pointer fields; what stays positive is held from "
		"outside and keeps everything it reaches; the rest is what a "
		"cycle collector would free. Counts lower than the "
		"references from other objects (released too often) and "
		"higher than every aligned word holding the object's address "
		"in the roots and the heap (a reference leaked) are "
		"reported. FIELD may be a path: 'PyObject.ob_refcnt', "
		"'struct o.base.refs'.\n\n"
		"With --refcount model and an object model whose refcount "
		"rule names the count (docs/types.md; CPython 3.11's is "
		"picked by itself): the objects are every heap block holding, "
		"after its header (and a debug allocator's prefixes), an "
		"object whose type field names a known type, where its "
		"object rules put objects, that its tracked rule says the "
		"collector examines "
		"(a count of 0 - a free list - never); the references among "
		"them are the model's edges, the ones sizeof-deep follows; "
		"the collectable objects are what Python's gc.collect() "
		"frees. Counts are judged as above: below the model's "
		"references (released too often) or above every word "
		"holding the object. The type column names each object's "
		"class as the model's typename rule does (CPython: "
		"`Session`, `list`).",
	.options = gc_options,
	.min_pos = 0,
	.max_pos = 0,
	.run = mv_cmd_gc,
};

/* "struct obj.refcnt": the type up to the first dot (type names have
 * none), the field path after it. */
static struct mv_error *parse_spec(struct mv_cmd_ctx *ctx, const char *spec,
				   struct mv_type **type, const char **field)
{
	const char *dot = strchr(spec, '.');
	if (!dot || dot == spec || !dot[1])
		return mv_error_create(MV_ERR_USAGE, "--refcount expects "
				       "TYPE.FIELD (like 'struct obj.refcnt'), "
				       "not '%s'", spec);
	size_t len = (size_t)(dot - spec);
	while (len && spec[len - 1] == ' ')
		len--;
	char *name = strndup(spec, len);
	if (!name)
		return mv_enomem;
	struct mv_error *err = mv_session_parse_type(ctx->session, name, type);
	free(name);
	if (err)
		return mv_error_wrap(err, "--refcount %s", spec);
	*field = dot + 1;
	while (**field == ' ')
		(*field)++;
	return NULL;
}

static const char *const how_text[MV_RC_HOW_COUNT_] = {
	"through typed pointers from globals",
	"through other objects' pointer fields",
	"chunks of its size linked by its pointer fields",
	"chunks of its size (--by-size)",
};

static void rc_json_object(struct mv_json *j, struct mv_rc *rc, size_t i,
			   bool referents)
{
	const struct mv_rc_obj *o = &rc->objs[i];
	mv_json_begin_object(j);
	mv_json_key(j, "address");
	mv_json_address(j, o->addr);
	if (rc->model) {
		mv_json_key(j, "type");
		mv_json_string(j, mv_rc_type_name(rc, i, false));
		mv_json_key(j, "c_type");
		mv_json_string(j, mv_rc_type_name(rc, i, true));
		mv_json_key(j, "bytes");
		mv_json_uint(j, o->bytes);
	}
	mv_json_key(j, "found_by");
	mv_json_string(j, mv_rc_how_key(o->how));
	mv_json_key(j, "count");
	mv_json_int(j, o->count);
	mv_json_key(j, "internal");
	mv_json_uint(j, o->internal);
	mv_json_key(j, "external");
	mv_json_uint(j, o->found - o->internal);
	mv_json_key(j, "gc_refs");
	mv_json_int(j, o->gc_refs);
	mv_json_key(j, "state");
	mv_json_string(j, mv_rc_state_key(o->state));
	mv_json_key(j, "cyclic");
	mv_json_bool(j, mv_rc_in_cycle(rc, i));
	mv_json_key(j, "mistake");
	if (o->mistake)
		mv_json_string(j, mv_rc_mistake_key(o->mistake));
	else
		mv_json_null(j);
	mv_json_key(j, "gc_kind");
	mv_json_string(j, mv_gc_kind_key(rc->gc->kind[o->chunk]));
	if (referents) {
		/* Its references to the other objects examined, one per
		 * edge (gc.get_referents among gc.get_objects). */
		mv_json_key(j, "referents");
		mv_json_begin_array(j);
		for (uint64_t x = rc->off[i]; x < rc->off[i + 1]; x++)
			mv_json_address(j, rc->objs[rc->adj[x]].addr);
		mv_json_end_array(j);
	}
	mv_json_end_object(j);
}

static void rc_mistake_line(struct mv_cmd_ctx *ctx, struct mv_rc *rc,
			    size_t i, const char *tname)
{
	const struct mv_rc_obj *o = &rc->objs[i];
	if (o->mistake == MV_RC_BAD_COUNT)
		mv_out(ctx, "  0x%016llx %s: count %lld: negative or above "
			    "2^30, not a count (taken as held)\n",
		       (unsigned long long)o->addr, tname,
		       (long long)o->count);
	else if (o->mistake == MV_RC_OVER_RELEASED)
		mv_out(ctx, "  0x%016llx %s: count %lld, but %u references "
			    "from other objects: released too often "
			    "(gc_refs %lld)\n", (unsigned long long)o->addr,
		       tname, (long long)o->count, o->internal,
		       (long long)o->gc_refs);
	else
		mv_out(ctx, "  0x%016llx %s: count %lld, but only %u "
			    "reference%s found (%u from objects, %u from "
			    "elsewhere): a reference leaked%s\n",
		       (unsigned long long)o->addr, tname,
		       (long long)o->count, o->found,
		       o->found == 1 ? "" : "s", o->internal,
		       o->found - o->internal,
		       o->found == o->internal && o->state == MV_RC_HELD
			       ? "; only the leak holds it, and what it "
				 "reaches"
			       : "");
}

/* "key": value for n keys. */
static void json_uints(struct mv_json *j, const char *const *keys,
		       const uint64_t *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mv_json_key(j, keys[i]);
		mv_json_uint(j, values[i]);
	}
}

/* gc --refcount --json (docs/json.md). */
static struct mv_error *rc_json(struct mv_cmd_ctx *ctx, struct mv_gc *gc,
				struct mv_rc *rc, const char *tname,
				const char *field, int64_t max_objects,
				bool referents)
{
	const char *const *gnotes, *const *rnotes;
	size_t ng = mv_notes_get(&gc->notes, &gnotes);
	size_t nr = mv_notes_get(&rc->notes, &rnotes);
	struct mv_error *err;
	struct mv_json j;
	json_head(&j, &ctx->out, gc);
	mv_json_key(&j, "refcount");
	mv_json_begin_object(&j);
	mv_json_key(&j, "type");
	mv_json_string(&j, tname);
	mv_json_key(&j, "field");
	mv_json_string(&j, field);
	mv_json_key(&j, "field_offset");
	mv_json_uint(&j, rc->count_off);
	mv_json_key(&j, "field_size");
	mv_json_uint(&j, rc->count_size);
	mv_json_key(&j, "model");
	mv_json_bool(&j, rc->model);
	mv_json_key(&j, "object_size");
	mv_json_uint(&j, rc->size);
	mv_json_key(&j, "chunk_size");
	mv_json_uint(&j, rc->chunk_size);
	mv_json_key(&j, "pointer_fields");
	mv_json_begin_array(&j);
	for (size_t k = 0; k < rc->nptr; k++)
		mv_json_uint(&j, rc->ptr_off[k]);
	mv_json_end_array(&j);
	mv_json_end_object(&j);
	mv_json_key(&j, "candidates");
	mv_json_begin_object(&j);
	mv_json_key(&j, "objects");
	mv_json_uint(&j, rc->n);
	for (int h = 0; h < MV_RC_HOW_COUNT_; h++) {
		mv_json_key(&j, mv_rc_how_key(h));
		mv_json_uint(&j, rc->how[h]);
	}
	mv_json_key(&j, "globals_walked");
	mv_json_uint(&j, rc->globals_walked);
	if (rc->model)
		json_uints(&j, (const char *const[]){"blocks_probed",
			   "model_objects", "untracked", "zero_count"},
			   (const uint64_t[]){rc->blocks, rc->objects,
			   rc->untracked, rc->zero_count}, 4);
	mv_json_end_object(&j);
	mv_json_key(&j, "summary");
	mv_json_begin_object(&j);
	mv_json_key(&j, "held");
	mv_json_uint(&j, rc->states[MV_RC_HELD]);
	mv_json_key(&j, "reached");
	mv_json_uint(&j, rc->states[MV_RC_REACHED]);
	mv_json_key(&j, "collectable");
	mv_json_begin_object(&j);
	mv_json_key(&j, "objects");
	mv_json_uint(&j, rc->states[MV_RC_COLLECTABLE]);
	mv_json_key(&j, "bytes");
	mv_json_uint(&j, rc->collectable_bytes);
	mv_json_key(&j, "cycles");
	mv_json_uint(&j, rc->cycles);
	mv_json_end_object(&j);
	json_uints(&j, (const char *const[]){"over_released",
		   "leaked_references", "bad_counts"},
		   rc->mistakes + MV_RC_OVER_RELEASED, 3);
	mv_json_end_object(&j);
	mv_json_key(&j, "unreachable");
	mv_json_uint(&j, rc->states[MV_RC_COLLECTABLE]);
	mv_json_key(&j, "objects");
	mv_json_begin_array(&j);
	/* A model's objects are the whole heap's: only the
	 * collectable ones and those with a bad count are listed (all of
	 * them with --referents). */
	for (size_t i = 0, listed = 0; i < rc->n; i++) {
		if (rc->model && !referents && !rc->objs[i].mistake &&
		    rc->objs[i].state != MV_RC_COLLECTABLE)
			continue;
		if (max_objects && listed++ >= (uint64_t)max_objects)
			break;
		rc_json_object(&j, rc, i, referents);
		if (i % 4096 == 4095 && (err = mv_out_flush(ctx)))
			return err;
	}
	mv_json_end_array(&j);
	json_notes(&j, gc, gnotes, ng, rnotes, nr);
	mv_json_end_object(&j);
	mv_out(ctx, "\n");
	return mv_buf_error(&ctx->out);
}

/* The text report's head with an object model: what it found. */
static void rc_model_head(struct mv_cmd_ctx *ctx, const struct mv_rc *rc,
			  const char *tname, const char *field)
{
	mv_out(ctx, "%s; CPython's cycle collection over the object model's "
		    "objects, count in %s.%s (%zu bytes at offset %llu)\n",
	       mv_heap_description(rc->gc->heap), tname, field,
	       rc->count_size, (unsigned long long)rc->count_off);
	mv_out(ctx, "\n%llu heap blocks, %llu objects of the model in them:"
		    "\n", (unsigned long long)rc->blocks,
	       (unsigned long long)rc->objects);
	mv_out(ctx, "  %8llu not tracked (not the collector's)\n",
	       (unsigned long long)rc->untracked);
	mv_out(ctx, "  %8llu with a count of 0 (free lists)\n",
	       (unsigned long long)rc->zero_count);
	mv_out(ctx, "  %8zu examined by the collector\n", rc->n);
}

static struct mv_error *gc_refcount(struct mv_cmd_ctx *ctx, struct mv_gc *gc,
				    const char *spec, bool by_size,
				    int64_t max_objects)
{
	struct mv_type *type = NULL;
	const char *field = NULL;
	struct mv_rules rules;
	struct mv_error *err = mv_sizeof_rules(ctx, &rules);
	if (err)
		return err;
	bool model = !strcmp(spec, "model");
	if (!model && (err = parse_spec(ctx, spec, &type, &field))) {
		mv_rules_deinit(&rules);
		return err;
	}
	if (!model && rules.has_refcount) {
		char key[MV_EVAL_TYPE_NAME_MAX];
		mv_rules_type_key(mv_type_strip(type), key, sizeof(key));
		model = !strcmp(key, rules.refcount.type) &&
			!strcmp(field, rules.refcount.field);
	}
	if (mv_opt_flag(ctx, "referents") && !ctx->json) {
		mv_rules_deinit(&rules);
		return mv_error_create(MV_ERR_USAGE, "--referents lists every "
				       "object in --json");
	}
	if (model && by_size) {
		mv_rules_deinit(&rules);
		return mv_error_create(MV_ERR_USAGE, "--by-size is for a "
				       "struct's --refcount, not the model's");
	}
	struct mv_rc rc;
	err = model ? mv_rc_run_model(&rc, gc, &rules)
		    : mv_rc_run(&rc, gc, type, field, by_size);
	if (model)
		field = rules.refcount.field;
	if (err) {
		/* The algorithm decides nothing before its end. */
		err = mv_error_interrupted(err, "no verdict yet",
					   "counting the references to the "
					   "%zu objects of %s found", rc.n,
					   spec);
		mv_rc_deinit(&rc);
		mv_rules_deinit(&rules);
		return err;
	}
	char tname[256];
	mv_type_name(rc.type, tname, sizeof(tname));
	const char *const *hnotes, *const *gnotes, *const *rnotes;
	size_t nh = mv_heap_notes(gc->heap, &hnotes);
	size_t ng = mv_notes_get(&gc->notes, &gnotes);
	size_t nr = mv_notes_get(&rc.notes, &rnotes);
	uint64_t collectable = rc.states[MV_RC_COLLECTABLE];
	uint32_t *label = NULL, nlabels = 0;

	if (ctx->json) {
		err = rc_json(ctx, gc, &rc, tname, field, max_objects,
			      mv_opt_flag(ctx, "referents"));
		goto out;
	}

	text_partial(ctx, gc);
	if (rc.model)
		rc_model_head(ctx, &rc, tname, field);
	else
		mv_out(ctx, "%s; CPython's cycle collection over %s (%llu bytes, "
			    "%llu-byte chunks), count in .%s (%zu bytes at offset "
			    "%llu), %zu pointer field%s to it\n",
		       mv_heap_description(gc->heap), tname,
		       (unsigned long long)rc.size, (unsigned long long)rc.chunk_size,
		       field, rc.count_size, (unsigned long long)rc.count_off,
		       rc.nptr, rc.nptr == 1 ? "" : "s");
	if (!rc.model) {
		mv_out(ctx, "\n%zu object%s of the type:\n", rc.n,
		       rc.n == 1 ? "" : "s");
		for (int h = 0; h < MV_RC_HOW_COUNT_; h++)
			if (rc.how[h] || h == MV_RC_TYPED)
				mv_out(ctx, "  %8llu %s\n",
				       (unsigned long long)rc.how[h],
				       how_text[h]);
	}
	mv_out(ctx, "\ngc_refs = count - references from other objects:\n");
	mv_out(ctx, "  %8llu held from outside (gc_refs > 0)\n",
	       (unsigned long long)rc.states[MV_RC_HELD]);
	mv_out(ctx, "  %8llu reached from those\n",
	       (unsigned long long)rc.states[MV_RC_REACHED]);
	mv_out(ctx, "  %8llu collectable, %llu bytes, %llu cycle%s\n",
	       (unsigned long long)collectable,
	       (unsigned long long)rc.collectable_bytes,
	       (unsigned long long)rc.cycles, rc.cycles == 1 ? "" : "s");
	if (collectable) {
		label = calloc(rc.ncomp ? rc.ncomp : 1, sizeof(*label));
		if (!label) {
			err = mv_enomem;
			goto out;
		}
		mv_out(ctx, "\ncollectable (what a cycle collector would "
			    "free):\n  %-18s %6s %8s %8s  %-8s %s\n", "object",
		       "count", "internal", "gc_refs", "cycle",
		       rc.model ? "type" : "gc says");
		uint64_t shown = 0;
		for (size_t i = 0; i < rc.n; i++) {
			const struct mv_rc_obj *o = &rc.objs[i];
			if (o->state != MV_RC_COLLECTABLE)
				continue;
			if (max_objects && shown++ >= (uint64_t)max_objects) {
				mv_out(ctx, "  ... (--max-blocks)\n");
				break;
			}
			/* Cycles numbered in the order they are met. */
			char cyc[32] = "-";
			if (mv_rc_in_cycle(&rc, i)) {
				uint32_t c = rc.comp[i];
				if (!label[c])
					label[c] = ++nlabels;
				snprintf(cyc, sizeof(cyc), "#%u", label[c]);
			}
			mv_out(ctx, "  0x%016llx %6lld %8u %8lld  %-8s %s\n",
			       (unsigned long long)o->addr, (long long)o->count,
			       o->internal, (long long)o->gc_refs, cyc,
			       rc.model ? mv_rc_type_name(&rc, i, false)
					: mv_gc_kind_name(gc->kind[o->chunk]));
		}
	}
	uint64_t nm = rc.mistakes[MV_RC_OVER_RELEASED] +
		      rc.mistakes[MV_RC_LEAKED] +
		      rc.mistakes[MV_RC_BAD_COUNT];
	if (nm) {
		mv_out(ctx, "\nrefcount mistakes:\n");
		uint64_t shown = 0;
		for (size_t i = 0; i < rc.n; i++) {
			if (!rc.objs[i].mistake)
				continue;
			if (max_objects && shown++ >= (uint64_t)max_objects) {
				mv_out(ctx, "  ... (--max-blocks)\n");
				break;
			}
			rc_mistake_line(ctx, &rc, i, rc.model
					? mv_rc_type_name(&rc, i, false) : tname);
		}
	}
	if (nh + ng + nr) {
		mv_out(ctx, "\n%zu note%s:\n", nh + ng + nr,
		       nh + ng + nr == 1 ? "" : "s");
		for (size_t i = 0; i < nh; i++)
			mv_out(ctx, "  heap: %s\n", hnotes[i]);
		for (size_t i = 0; i < ng; i++)
			mv_out(ctx, "  %s\n", gnotes[i]);
		for (size_t i = 0; i < nr; i++)
			mv_out(ctx, "  %s\n", rnotes[i]);
	}
	mv_out(ctx, "\ngc --refcount: %llu collectable object%s in %llu "
		    "cycle%s; %llu released too often, %llu with a leaked "
		    "reference", (unsigned long long)collectable,
	       collectable == 1 ? "" : "s", (unsigned long long)rc.cycles,
	       rc.cycles == 1 ? "" : "s",
	       (unsigned long long)rc.mistakes[MV_RC_OVER_RELEASED],
	       (unsigned long long)rc.mistakes[MV_RC_LEAKED]);
	if (rc.mistakes[MV_RC_BAD_COUNT])
		mv_out(ctx, ", %llu with a bad count",
		       (unsigned long long)rc.mistakes[MV_RC_BAD_COUNT]);
	mv_out(ctx, "\n");
	err = mv_buf_error(&ctx->out);
out:
	free(label);
	mv_rc_deinit(&rc);
	mv_rules_deinit(&rules);
	return err;
}
