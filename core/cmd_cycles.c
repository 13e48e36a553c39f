/* cmd_cycles.c - `cycles EXPR`: the strongly connected components of the
 * object graph reachable from EXPR (the typed walk of sizeof-deep, with
 * its edges), each with one concrete cycle written with field names. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gc.h"
#include "session.h"
#include "walk.h"

#define MAX_CYCLE_SHOWN 64

struct csr {
	uint64_t *off;
	uint32_t *adj;
	uint32_t *edge;  /* parallel to adj: index into the walk's edges */
};

static struct mv_error *build_csr(struct mv_walk *w, struct csr *g)
{
	return mv_walk_edges_by_source(w, &g->off, &g->adj, &g->edge);
}

static void csr_free(struct csr *g)
{
	free(g->off);
	free(g->adj);
	free(g->edge);
}

struct comp {
	uint32_t id;
	uint32_t members;
	uint64_t bytes;
	uint32_t first;  /* lowest object index: nearest the root */
};

static int comp_cmp(const void *a, const void *b)
{
	const struct comp *x = a, *y = b;
	if (x->members != y->members)
		return x->members > y->members ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* The pointer from object `from` to `to`: named as path-to and graph
 * name it (namer: through a C++ container's elements) in name, or the
 * walk's field. */
static const char *edge_label(struct mv_walk *w, const struct csr *g,
			      struct mv_edge_namer *namer,
			      struct mv_buf *name, uint32_t from, uint32_t to)
{
	for (uint64_t k = g->off[from]; k < g->off[from + 1]; k++)
		if (g->adj[k] == to) {
			uint64_t i = g->edge[k];
			if (namer && mv_edge_namer_name(namer, i, name))
				return name->data;
			return w->labels.data
				       ? w->labels.data + w->edges[i].label
				       : "";
		}
	return "";
}

/* "Session@0x..": the object's class where the model names it. */
static void node_name(struct mv_walk *w, uint32_t i, struct mv_buf *out)
{
	struct mv_buf tmp;
	mv_buf_init(&tmp);
	mv_buf_printf(out, "%s@0x%llx", mv_walk_type_shown(w, i, &tmp),
		      (unsigned long long)w->objs[i].addr);
	mv_buf_deinit(&tmp);
}

/* "type" (its class where the model names it) and "c_type". */
static void json_types(struct mv_json *j, struct mv_walk *w, size_t i,
		       struct mv_buf *tmp)
{
	mv_json_key(j, "type");
	mv_json_string(j, mv_walk_type_shown(w, i, tmp));
	mv_json_key(j, "c_type");
	mv_json_string(j, mv_walk_plan_name(w, w->objs[i].plan));
}

/* "struct node@0x.. .next -> struct node@0x.. .parent -> struct
 * node@0x..": the field is the one leaving the object before it.  A
 * block the model names empty (a list's array of items: the pointer to
 * it reads "", the one out of it "[1]") is not shown: "list@0x.. [1]
 * -> list@0x..", as Python reads it; the text starts at an object that
 * is shown. */
static void cycle_text(struct mv_walk *w, const struct csr *g,
		       struct mv_edge_namer *namer, struct mv_buf *name,
		       const uint32_t *cyc, size_t len, struct mv_buf *out)
{
	size_t first = 0;
	while (first < len &&
	       !*edge_label(w, g, namer, name, cyc[(first + len - 1) % len],
			    cyc[first]))
		first++;
	bool silent = first == len; /* every pointer named empty */
	if (silent)
		first = 0;
	bool hidden = false; /* cyc[i] was reached through an empty name */
	for (size_t k = 0; k < len; k++) {
		uint32_t a = cyc[(first + k) % len];
		uint32_t b = cyc[(first + k + 1) % len];
		if (!hidden)
			node_name(w, a, out);
		const char *l = edge_label(w, g, namer, name, a, b);
		hidden = !silent && !*l;
		if (!hidden)
			mv_buf_printf(out, " %s -> ", *l ? l : "+?");
	}
	node_name(w, cyc[first], out);
}

struct mv_error *mv_cmd_cycles(struct mv_cmd_ctx *ctx)
{
	struct mv_sizeof_setup su;
	struct mv_error *err = mv_sizeof_setup(ctx, &su, true);
	if (err)
		return err;
	struct mv_walk *w = &su.walk;
	struct csr g = {0};
	uint32_t *comp = NULL, *cyc = NULL;
	struct comp *comps = NULL;
	struct mv_buf b;
	mv_buf_init(&b);
	/* A cycle seen in part of the walk may be part of a bigger one:
	 * an interrupted walk answers nothing. */
	struct mv_edge_namer *namer = NULL;
	struct mv_buf name, tmp;
	mv_buf_init(&name);
	mv_buf_init(&tmp);
	if ((err = mv_sizeof_run_whole(&su, ctx->pos[0],
				       "no cycles listed yet")) ||
	    (err = build_csr(w, &g)))
		goto out;
	if ((err = mv_edge_namer_create(w, ctx->pos[0], &namer)))
		goto out;
	size_t n = w->nobjs, ncomp = 0;
	comp = malloc((n ? n : 1) * sizeof(*comp));
	cyc = malloc(MAX_CYCLE_SHOWN * sizeof(*cyc));
	if (!comp || !cyc) {
		err = mv_enomem;
		goto out;
	}
	if ((err = mv_scc_tarjan(n, g.off, g.adj, UINT32_MAX, comp, &ncomp,
				 (mv_gc_poll_fn)mv_ctx_poll, ctx))) {
		err = mv_error_interrupted(err, "no cycles listed yet",
					   "finding the cycles among %zu "
					   "objects", n);
		goto out;
	}
	comps = calloc(ncomp ? ncomp : 1, sizeof(*comps));
	if (!comps) {
		err = mv_enomem;
		goto out;
	}
	for (size_t c = 0; c < ncomp; c++) {
		comps[c].id = (uint32_t)c;
		comps[c].first = UINT32_MAX;
	}
	for (size_t v = 0; v < n; v++) {
		struct comp *c = &comps[comp[v]];
		c->members++;
		c->bytes += mv_walk_type_bytes(w, v);
		if (c->first == UINT32_MAX)
			c->first = (uint32_t)v;
	}
	/* Non-trivial: two members or more, or an object pointing to
	 * itself. */
	size_t nt = 0;
	for (size_t c = 0; c < ncomp; c++) {
		bool self = false;
		if (comps[c].members == 1) {
			uint32_t v = comps[c].first;
			for (uint64_t k = g.off[v]; k < g.off[v + 1]; k++)
				self |= g.adj[k] == v;
		}
		if (comps[c].members > 1 || self)
			comps[nt++] = comps[c];
	}
	qsort(comps, nt, sizeof(*comps), comp_cmp);
	int64_t top = mv_opt_num(ctx, "top");
	size_t show = top > 0 && (size_t)top < nt ? (size_t)top : nt;
	uint64_t in_cycles = 0;
	for (size_t c = 0; c < nt; c++)
		in_cycles += comps[c].members;
	bool partial = w->hit_max_objects || w->hit_max_depth ||
		       w->interrupted;

	struct mv_json j;
	if (ctx->json) {
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "cycles");
		mv_json_key(&j, "expression");
		mv_json_string(&j, ctx->pos[0]);
		mv_json_key(&j, "objects");
		mv_json_uint(&j, n - (w->pseudo_root ? 1 : 0));
		mv_json_key(&j, "edges");
		mv_json_uint(&j, w->nedges);
		mv_json_key(&j, "partial");
		mv_json_bool(&j, partial);
		mv_json_key(&j, "cyclic_components");
		mv_json_uint(&j, nt);
		mv_json_key(&j, "objects_in_cycles");
		mv_json_uint(&j, in_cycles);
		mv_json_key(&j, "components");
		mv_json_begin_array(&j);
	} else {
		mv_out(ctx, "%s: %zu objects, %zu edges; %zu cyclic "
			    "component%s holding %llu objects%s\n",
		       ctx->pos[0], n - (w->pseudo_root ? 1 : 0), w->nedges,
		       nt, nt == 1 ? "" : "s", (unsigned long long)in_cycles,
		       partial ? " (partial: a limit was hit)" : "");
	}
	for (size_t c = 0; c < show; c++) {
		const struct comp *x = &comps[c];
		size_t len = 0;
		if ((err = mv_scc_cycle(n, g.off, g.adj, UINT32_MAX, comp,
					x->first, cyc, MAX_CYCLE_SHOWN, &len)))
			goto out;
		mv_buf_clear(&b);
		cycle_text(w, &g, namer, &name, cyc, len, &b);
		if (ctx->json) {
			mv_json_begin_object(&j);
			mv_json_key(&j, "members");
			mv_json_uint(&j, x->members);
			mv_json_key(&j, "bytes");
			mv_json_uint(&j, x->bytes);
			mv_json_key(&j, "objects");
			mv_json_begin_array(&j);
			size_t listed = 0;
			for (size_t v = x->first; v < n && listed < 100; v++) {
				if (comp[v] != x->id)
					continue;
				listed++;
				mv_json_begin_object(&j);
				mv_json_key(&j, "address");
				mv_json_address(&j, w->objs[v].addr);
				json_types(&j, w, v, &tmp);
				mv_json_key(&j, "bytes");
				mv_json_uint(&j, mv_walk_type_bytes(w, v));
				mv_json_end_object(&j);
			}
			mv_json_end_array(&j);
			mv_json_key(&j, "cycle");
			mv_json_begin_array(&j);
			for (size_t k = 0; k < len; k++) {
				mv_json_begin_object(&j);
				mv_json_key(&j, "address");
				mv_json_address(&j, w->objs[cyc[k]].addr);
				json_types(&j, w, cyc[k], &tmp);
				mv_json_key(&j, "field");
				mv_json_string(&j, edge_label(w, &g, namer, &name,
							      cyc[k],
							      cyc[(k + 1) % len]));
				mv_json_end_object(&j);
			}
			mv_json_end_array(&j);
			mv_json_key(&j, "text");
			mv_json_string(&j, b.data ? b.data : "");
			mv_json_end_object(&j);
			continue;
		}
		mv_out(ctx, "\ncycle %zu: %u object%s, %llu bytes\n", c + 1,
		       x->members, x->members == 1 ? "" : "s",
		       (unsigned long long)x->bytes);
		/* Member types, counted. */
		mv_out(ctx, "  %s\n", b.data ? b.data : "");
	}
	if (ctx->json) {
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
	} else if (nt > show) {
		mv_out(ctx, "... %zu more cyclic components (--top)\n",
		       nt - show);
	}
	err = mv_buf_error(&ctx->out);
out:
	mv_edge_namer_destroy(namer);
	mv_buf_deinit(&name);
	mv_buf_deinit(&tmp);
	mv_buf_deinit(&b);
	free(comp);
	free(cyc);
	free(comps);
	csr_free(&g);
	mv_sizeof_teardown(&su);
	return err;
}

static const struct mv_option cycles_options[] = {
	{"top", 'n', MV_OPT_INT, "N", "show the N largest components (0: all)",
	 "20", NULL},
	{"max-objects", 0, MV_OPT_SIZE, "N", "stop the walk after N objects",
	 "1000000", NULL},
	{"max-depth", 0, MV_OPT_INT, "N", "follow pointers at most N deep",
	 NULL, NULL},
	{"conservative", 0, MV_OPT_FLAG, NULL,
	 "scan untyped chunks (void *) for pointers too", NULL, NULL},
	{"len", 0, MV_OPT_LIST, "'TYPE.PTR=LEN'",
	 "the pointer member PTR of TYPE points to LEN elements", NULL, NULL},
	MV_OPTION_TYPES,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_cycles = {
	.name = "cycles",
	.debugger_name = "mv-cycles",
	.synopsis = "EXPR",
	.summary = "Find the reference cycles in the object graph reachable "
		   "from EXPR.",
	.description =
		"Walks the graph from EXPR as sizeof-deep does (typed "
		"pointers, each object once), keeps its edges, and finds "
		"its strongly connected components with an iterative "
		"Tarjan. Each component of two or more objects (or an "
		"object pointing to itself) is shown with its size and one "
		"concrete cycle through the object nearest EXPR, written with "
		"field names: struct node@0x.. ->next -> struct node@0x.. "
		"->prev -> struct node@0x..; a pointer through a C++ "
		"container's element is named as path-to and graph name "
		"it, as gdb's printers list the elements "
		"(`g_peers[1]->kids[7]`, `... (node)`, `... (control "
		"block)`).\n\n"
		"Ctrl-C stops it, saying how far the walk or the search "
		"got: an interrupted walk lists no cycle, as a cycle seen "
		"in part of the graph may belong to a bigger component.",
	.options = cycles_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_cycles,
};
