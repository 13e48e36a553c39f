/* cmd_graph.c - `graph EXPR` (the reachable object graph as JSON, DOT,
 * SVG), `referrers ADDR|EXPR` (who points here) and `path-to ADDR` (the
 * shortest chain from a root), objgraph's questions for native memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "session.h"
#include "value.h"
#include "roots.h"
#include "bounds.h"
#include "frames.h"
#include "refindex.h"
#include "walk.h"
#include "edgename.h"
#include "modelref.h"

static struct mv_error *poll_ctx(void *arg)
{
	return mv_ctx_poll(arg);
}

/* ---- graph ---- */

/* Where graph's JSON goes as it is rendered: the command's output, or
 * the --output file; a poll between the pieces. */
struct json_drain {
	struct mv_cmd_ctx *ctx;
	struct mv_outfile *file; /* NULL: the command's output */
};

static struct mv_error *json_drain(void *arg, struct mv_buf *out)
{
	struct json_drain *d = arg;
	/* The poll first: after Ctrl-C a front end takes only so much more
	 * output (lldb 64 KiB, less than a piece), and a write it refuses
	 * says only "output stopped"; stopped here, the error says where. */
	struct mv_error *err = mv_ctx_poll(d->ctx);
	if (err)
		return err;
	if (d->file) {
		err = mv_graph_write_file(d->file, out);
		mv_buf_clear(out);
		return err;
	}
	return mv_out_flush(d->ctx);
}

/* The summary, as text or (--json with --output) as a JSON object. */
static void graph_summary(struct mv_cmd_ctx *ctx, struct mv_walk *w,
			  const char *limit, const char *output,
			  const char *dot, const char *svg,
			  const struct mv_graph_draw *d)
{
	uint64_t guessed = 0;
	for (size_t i = 0; i < w->nedges; i++)
		guessed += w->edges[i].guess;
	bool partial = w->hit_max_objects || w->hit_max_depth ||
		       w->interrupted || limit;
	if (ctx->json) {
		struct mv_json j;
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "graph");
		mv_json_key(&j, "root");
		mv_json_string(&j, ctx->pos[0]);
		mv_json_key(&j, "partial");
		mv_json_bool(&j, partial);
		mv_json_key(&j, "node_count");
		mv_json_uint(&j, w->nobjs);
		mv_json_key(&j, "edge_count");
		mv_json_uint(&j, w->nedges);
		mv_json_key(&j, "output");
		mv_json_string(&j, output);
		mv_json_key(&j, "dot");
		dot ? mv_json_string(&j, dot) : mv_json_null(&j);
		mv_json_key(&j, "svg");
		svg ? mv_json_string(&j, svg) : mv_json_null(&j);
		mv_json_key(&j, "drawn_nodes");
		dot || svg ? mv_json_uint(&j, d->drawn) : mv_json_null(&j);
		mv_json_key(&j, "draw_depth");
		dot || svg ? mv_json_uint(&j, d->depth) : mv_json_null(&j);
		mv_json_key(&j, "notes");
		mv_json_begin_array(&j);
		if (limit)
			mv_json_string(&j, limit);
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
		return;
	}
	mv_out(ctx, "graph of %s: %zu nodes, %zu edges (%llu guessed)%s\n",
	       ctx->pos[0], w->nobjs, w->nedges, (unsigned long long)guessed,
	       partial ? " [PARTIAL: limits reached, see --max-objects, "
			 "--max-depth, --max-heap-chunks]"
		       : "");
	if (limit)
		mv_out(ctx, "  note: %s\n", limit);
	if (output)
		mv_out(ctx, "  JSON: %s\n", output);
	if (dot)
		mv_out(ctx, "  DOT:  %s\n", dot);
	if (svg)
		mv_out(ctx, "  SVG:  %s\n", svg);
	if (!(dot || svg) || !d->cut)
		return;
	if (d->depth && d->drawn < d->max_nodes)
		mv_out(ctx, "  drawn: %zu of %zu objects, to depth %u of %u "
			    "(each cut branch ends in an \"N more below\" "
			    "box); --draw-depth N draws deeper, --draw-depth 0 "
			    "all (up to %zu); the JSON has every object\n",
		       d->drawn, w->nobjs, d->depth, d->deepest, d->max_nodes);
	else
		mv_out(ctx, "  note: DOT drawn for the %zu objects nearest the "
			    "root; %zu more are in the JSON only\n",
		       d->drawn, d->cut);
}

struct mv_error *mv_cmd_graph(struct mv_cmd_ctx *ctx)
{
	const char *output = mv_opt_str(ctx, "output");
	const char *dot = mv_opt_str(ctx, "dot");
	const char *svg = mv_opt_str(ctx, "svg");
	bool force = mv_opt_flag(ctx, "force");
	if (!ctx->json && !output && !dot && !svg)
		return mv_error_create(MV_ERR_USAGE,
				       "graph needs --json (the graph on "
				       "standard output), --output FILE, "
				       "--dot FILE or --svg FILE");
	/* Every file is opened before the walk: a refusal costs nothing.
	 * --svg without --dot draws through a temporary DOT file. */
	struct mv_outfile jsonf = {0}, dotf = {0}, svgf = {0};
	char tmpdot[] = "/tmp/memview-graph-XXXXXX";
	bool made_tmp = false;
	struct mv_error *err = NULL;
	if (svg && !dot) {
		int fd = mkstemp(tmpdot);
		if (fd < 0)
			return mv_error_create(MV_ERR_IO, "cannot create a "
					       "temporary file");
		close(fd);
		made_tmp = true;
	}
	if ((output &&
	     (err = mv_outfile_open(&jsonf, output, "--output", force))) ||
	    (dot && (err = mv_outfile_open(&dotf, dot, "--dot", force))) ||
	    (made_tmp &&
	     (err = mv_outfile_open(&dotf, tmpdot, "--svg", true))) ||
	    (svg && (err = mv_outfile_open(&svgf, svg, "--svg", force))))
		goto close;
	struct mv_sizeof_setup su;
	if ((err = mv_sizeof_setup(ctx, &su, true)))
		goto close;
	struct mv_walk *w = &su.walk;
	struct mv_buf b;
	mv_buf_init(&b);
	struct mv_graph_draw draw = {.max_nodes = MV_GRAPH_DOT_MAX_NODES};
	struct mv_graph_names names = {0};
	const char *limit = NULL;
	if ((err = mv_sizeof_run_whole(&su, ctx->pos[0], "no graph written")))
		goto out;
	limit = su.heap ? mv_heap_limit_note(su.heap) : NULL;
	/* Edges through C++ containers named as path-to names them. */
	if ((err = mv_sizeof_edge_names(w, ctx->pos[0], &names))) {
		err = mv_error_interrupted(err, "no graph written",
					   "naming the graph's %zu pointers",
					   w->nedges);
		goto out;
	}
	if (ctx->json || output) {
		/* The graph itself is the answer (one JSON object), or
		 * the file's: it goes out as it is rendered, in constant
		 * memory, and Ctrl-C stops it. */
		struct json_drain jd = {ctx, output ? &jsonf : NULL};
		err = mv_graph_render_json(w, ctx->pos[0], &names, limit,
					   output ? &b : &ctx->out, json_drain,
					   &jd);
		if (err) {
			err = mv_error_interrupted(
				err, output ? "the file is not written"
					    : "the JSON above is cut short",
				"writing the graph (%zu nodes and %zu "
				"pointers)", w->nobjs, w->nedges);
			goto out;
		}
		if (output && (err = mv_outfile_close(&jsonf, true)))
			goto out;
	}
	if (dot || svg) {
		mv_buf_clear(&b);
		/* A picture that reads: by default as deep as about
		 * MV_GRAPH_LEGIBLE_NODES boxes go. */
		int64_t dd = mv_opt_num(ctx, "draw-depth");
		draw.depth = mv_opt_set(ctx, "draw-depth")
				     ? (uint32_t)(dd > UINT32_MAX ? UINT32_MAX
								  : dd)
				     : mv_graph_legible_depth(w);
		if ((err = mv_graph_render_dot(w, ctx->pos[0], &names, &draw,
					       &b)) ||
		    (err = mv_graph_write_file(&dotf, &b)) ||
		    (err = mv_outfile_close(&dotf, true)))
			goto out;
		if (svg && ((err = mv_graph_run_dot(dot ? dot : tmpdot,
						    &svgf)) ||
			    (err = mv_outfile_close(&svgf, true))))
			goto out;
	}
	if (!ctx->json || output)
		graph_summary(ctx, w, limit, output, dot, svg, &draw);
	err = mv_buf_error(&ctx->out);
out:
	mv_graph_names_deinit(&names);
	mv_buf_deinit(&b);
	mv_sizeof_teardown(&su);
close:
	mv_error_destroy(mv_outfile_close(&jsonf, false));
	mv_error_destroy(mv_outfile_close(&dotf, false));
	mv_error_destroy(mv_outfile_close(&svgf, false));
	if (made_tmp)
		unlink(tmpdot);
	return err;
}

static const struct mv_option graph_options[] = {
	{"output", 'o', MV_OPT_STRING, "FILE",
	 "write the graph as JSON to FILE (nodes and edges, docs/json.md) "
	 "and print a summary", NULL, NULL},
	{"dot", 0, MV_OPT_STRING, "FILE", "write Graphviz DOT to FILE", NULL,
	 NULL},
	{"svg", 0, MV_OPT_STRING, "FILE",
	 "render the DOT with Graphviz's dot to an SVG FILE", NULL, NULL},
	{"draw-depth", 0, MV_OPT_INT, "N",
	 "DOT and SVG: draw the objects at most N pointers from the root "
	 "(0: all, up to 1,000; default: as deep as about 60 boxes go)",
	 NULL, NULL},
	MV_OPTION_FORCE,
	{"len", 0, MV_OPT_LIST, "TYPE.FIELD=LEN",
	 "as sizeof-deep --len", NULL, NULL},
	{"len-file", 0, MV_OPT_STRING, "FILE", "as sizeof-deep --len-file",
	 NULL, NULL},
	MV_OPTION_TYPES,
	{"unions", 0, MV_OPT_CHOICE, "MODE", "as sizeof-deep --unions",
	 "none", (const char *const[]){"none", "first", "all", NULL}},
	{"conservative", 0, MV_OPT_FLAG, NULL,
	 "as sizeof-deep --conservative (guessed edges are dashed)", NULL,
	 NULL},
	{"static-types", 0, MV_OPT_FLAG, NULL, "as sizeof-deep --static-types",
	 NULL, NULL},
	{"max-objects", 0, MV_OPT_INT, "N",
	 "stop after N objects (0: no limit)", "100000", NULL},
	{"max-depth", 0, MV_OPT_INT, "N",
	 "follow at most N pointers from the root (0: no limit)", "0",
	 NULL},
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_graph = {
	.name = "graph",
	.debugger_name = "mv-graph",
	.synopsis = "EXPR",
	.summary = "Export the object graph reachable from EXPR as JSON, "
		   "Graphviz DOT or SVG.",
	.description =
		"The objects sizeof-deep counts, with the pointers between "
		"them: nodes carry address, type, size and heap chunk; "
		"edges carry the field path they come from (like "
		"`.children[3]`) and whether a type says so (precise) or "
		"--conservative guessed it. Edges through a C++ "
		"container read as path-to names them, as gdb's "
		"libstdc++ printers list the elements: `g_map[7] (node)` "
		"into a node, `g_map[7]` to what the element points to, "
		"`g_deque[40..103] (buffer)`, not the library's `.left` "
		"or `.value.second`. --json prints the graph as "
		"one JSON object on standard output; --output FILE writes "
		"it to FILE and prints a summary (with --json, the summary "
		"as JSON).\n\n"
		"DOT and SVG draw the objects nearest the root: by default "
		"as many levels as keep the picture to about 60 boxes (a "
		"page Graphviz lays out legibly), each branch cut there "
		"ending in an \"N more below\" box and a note (and the "
		"summary) saying how to draw more; --draw-depth N draws N "
		"levels, --draw-depth 0 everything up to 1,000 objects "
		"(Graphviz lays out no more usefully). The JSON has them "
		"all. Edges are labelled with the field they come from; "
		"with an object model's name rules (docs/types.md), as "
		"path-to names the hop: `['alpha']`, `[key 'alpha']`, a "
		"module's global `.x` and an instance's attribute `.x` "
		"(JSON `of`: the object the name is said of, the module or "
		"the instance above the dict holding it), and boxes show "
		"each object's class (`Session`). "
		"--svg runs Graphviz's `dot` (Debian package graphviz).\n\n"
		"The JSON goes out as it is written, in constant memory. "
		"Ctrl-C stops graph: during the walk nothing is written (the "
		"line says how far it got); while the JSON is written, it "
		"is cut short there (a --output file it created is "
		"removed).",
	.options = graph_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_graph,
};

/* ---- referrers ---- */

/* An address from ADDR|EXPR: a pointer's value, an object's address, or
 * an integer. */
static struct mv_error *target_address(struct mv_cmd_ctx *ctx,
				       uint64_t *addr, uint64_t *size)
{
	struct mv_session *s = ctx->session;
	struct mv_value v;
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	if (!s->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory to search: give --core "
				       "FILE or --pid PID");
	if ((err = mv_session_eval(s, ctx->pos[0], &v)))
		return err;
	struct mv_type *st = mv_type_strip(v.type);
	*size = 1;
	if (st && st->kind == MV_TYPE_POINTER) {
		if ((err = mv_value_read_scalar(s->program, &v, addr)))
			return err;
		struct mv_type *t = mv_type_strip(mv_type_target(st));
		if (t && t->size)
			*size = t->size;
	} else if (v.is_lvalue) {
		*addr = v.address;
		if (st && st->size)
			*size = st->size;
	} else {
		*addr = v.value;
	}
	return NULL;
}

static const char *const ref_kinds[] = {"heap", "global", "stack",
					"register", "mapping"};

/* "[heap]"-style name of the mapping holding address, or "anonymous". */
static const char *mapping_name(struct mv_program *p, uint64_t address)
{
	const struct mv_region *r =
		mv_target_find_region(mv_program_target(p), address);
	return r && r->path ? r->path : "anonymous";
}

/* What an object model says of a referrer: the object holding the
 * word and the edge's name, or that it is not an edge. */
static void model_json(const struct mv_model_edge *me, const char *cls,
		       struct mv_json *j)
{
	mv_json_key(j, "model");
	if (!me) {
		mv_json_null(j);
		return;
	}
	mv_json_begin_object(j);
	mv_json_key(j, "edge");
	mv_json_bool(j, me->is_edge);
	mv_json_key(j, "object");
	if (me->owner && me->is_edge)
		mv_json_address(j, me->owner);
	else
		mv_json_null(j);
	mv_json_key(j, "type");
	if (me->owner && me->is_edge && cls && *cls)
		mv_json_string(j, cls);
	else
		mv_json_null(j);
	mv_json_key(j, "name");
	if (me->is_edge && (me->owner || (me->name.data && me->name.data[0])))
		mv_json_string(j, me->name.data ? me->name.data : "");
	else
		mv_json_null(j);
	mv_json_end_object(j);
}

static void model_text(const struct mv_model_edge *me, const char *cls,
		       struct mv_buf *out)
{
	if (!me)
		return;
	if (!me->is_edge)
		mv_buf_puts(out, "  not an edge of the model (a header's "
				 "link, a free list's or stale slot)");
	else if (me->owner)
		mv_buf_printf(out, "  %s 0x%llx%s%s",
			      cls && *cls ? cls : "object",
			      (unsigned long long)me->owner,
			      me->name.data && me->name.data[0] ? " " : "",
			      me->name.data ? me->name.data : "");
	else if (me->name.data && me->name.data[0])
		mv_buf_printf(out, "  %s", me->name.data);
}

/* held: the C expression of a heap holder (holder_expression), or
 * NULL; me: what an object model says of it, or NULL, and cls the
 * class of its object. */
static void ref_json(struct mv_cmd_ctx *ctx, const struct mv_ref *r,
		     uint64_t lo, const char *held, struct mv_json *j,
		     const struct mv_model_edge *me, const char *cls)
{
	struct mv_program *p = ctx->session->program;
	mv_json_begin_object(j);
	model_json(me, cls, j);
	mv_json_key(j, "kind");
	mv_json_string(j, ref_kinds[r->kind]);
	mv_json_key(j, "holder");
	if (r->kind == MV_REF_REGISTER)
		mv_json_null(j);
	else
		mv_json_address(j, r->holder);
	mv_json_key(j, "value");
	mv_json_address(j, r->value);
	mv_json_key(j, "offset");
	mv_json_uint(j, r->value - lo);
	const char *name;
	uint64_t off;
	mv_json_key(j, "symbol");
	if (r->kind != MV_REF_REGISTER && r->kind != MV_REF_HEAP &&
	    mv_program_symbolize(p, r->holder, &name, &off)) {
		char sym[300];
		if (off)
			snprintf(sym, sizeof(sym), "%s+%llu", name,
				 (unsigned long long)off);
		else
			snprintf(sym, sizeof(sym), "%s", name);
		mv_json_string(j, sym);
	} else {
		mv_json_null(j);
	}
	mv_json_key(j, "expression");
	struct mv_buf e;
	mv_buf_init(&e);
	if (r->kind == MV_REF_GLOBAL &&
	    mv_edge_global_expression(p, r->holder, &e))
		mv_json_string(j, e.data);
	else if (held)
		mv_json_string(j, held);
	else
		mv_json_null(j);
	mv_buf_deinit(&e);
	mv_json_key(j, "chunk");
	if (r->in_chunk) {
		mv_json_begin_object(j);
		mv_json_key(j, "mem");
		mv_json_address(j, r->chunk.mem);
		mv_json_key(j, "usable");
		mv_json_uint(j, r->chunk.usable);
		mv_json_key(j, "offset");
		mv_json_uint(j, r->holder - r->chunk.mem);
		mv_json_end_object(j);
	} else {
		mv_json_null(j);
	}
	mv_json_key(j, "thread");
	if (r->kind == MV_REF_STACK || r->kind == MV_REF_REGISTER)
		mv_json_int(j, r->tid);
	else
		mv_json_null(j);
	mv_json_key(j, "register");
	if (r->kind == MV_REF_REGISTER)
		mv_json_string(j, mv_reg_name(r->reg));
	else
		mv_json_null(j);
	struct mv_frame_name f;
	mv_json_key(j, "frame");
	if (r->kind == MV_REF_STACK &&
	    mv_frames_find(mv_ctx_frames(ctx), r->tid, r->holder, &f)) {
		mv_json_begin_object(j);
		mv_json_key(j, "function");
		mv_json_string(j, f.function);
		mv_json_key(j, "variable");
		if (f.has_variable)
			mv_json_string(j, f.variable);
		else
			mv_json_null(j);
		mv_json_key(j, "offset");
		mv_json_uint(j, f.offset);
		mv_json_end_object(j);
	} else {
		mv_json_null(j);
	}
	mv_json_end_object(j);
}

/* ", in hold_on_stack: local": the frame and local variable holding a
 * stack word, when the thread's registers and DWARF tell. */
static void stack_name(struct mv_cmd_ctx *ctx, const struct mv_ref *r,
		       struct mv_buf *out)
{
	struct mv_buf name;
	mv_buf_init(&name);
	if (mv_frames_name(mv_ctx_frames(ctx), r->tid, r->holder, &name) && name.data)
		mv_buf_printf(out, ", in %s", name.data);
	mv_buf_deinit(&name);
}

static void ref_text(struct mv_cmd_ctx *ctx, const struct mv_ref *r,
		     uint64_t lo, const char *held, struct mv_buf *out,
		     const struct mv_model_edge *me, const char *cls)
{
	struct mv_program *p = ctx->session->program;
	switch (r->kind) {
	case MV_REF_REGISTER:
		mv_buf_printf(out, "  register %-6s of thread %d",
			      mv_reg_name(r->reg), r->tid);
		break;
	case MV_REF_HEAP:
		mv_buf_printf(out, "  0x%012llx  heap chunk 0x%llx+%llu",
			      (unsigned long long)r->holder,
			      (unsigned long long)r->chunk.mem,
			      (unsigned long long)(r->holder - r->chunk.mem));
		if (held)
			mv_buf_printf(out, "  %s", held);
		break;
	case MV_REF_STACK:
		mv_buf_printf(out, "  0x%012llx  stack of thread %d",
			      (unsigned long long)r->holder, r->tid);
		stack_name(ctx, r, out);
		break;
	case MV_REF_GLOBAL: {
		mv_buf_printf(out, "  ");
		mv_value_render_pointer(p, r->holder, out);
		struct mv_buf e;
		mv_buf_init(&e);
		if (mv_edge_global_expression(p, r->holder, &e))
			mv_buf_printf(out, "  global %s", e.data);
		else
			mv_buf_puts(out, "  global");
		mv_buf_deinit(&e);
		break;
	}
	case MV_REF_MAPPING:
		mv_buf_printf(out, "  0x%012llx  mapping %s",
			      (unsigned long long)r->holder,
			      mapping_name(p, r->holder));
		break;
	}
	if (r->value != lo)
		mv_buf_printf(out, "  (points %llu bytes in)",
			      (unsigned long long)(r->value - lo));
	model_text(me, cls, out);
	mv_buf_putc(out, '\n');
}

/* Names the hops of a path as C expressions (edgename.c), from the
 * global variable or the frame's local variable holding the first; with
 * last, one more hop: a word of the block the path ends at (n + 1
 * expressions then). */
static char **hop_expressions(struct mv_cmd_ctx *ctx,
			      const struct mv_path_hop *hops, size_t n,
			      const struct mv_ref *last)
{
	struct mv_program *p = ctx->session->program;
	size_t m = n + (last != NULL);
	struct mv_edge_hop *eh = calloc(m ? m : 1, sizeof(*eh));
	char **exprs = NULL;
	if (!eh)
		return NULL;
	for (size_t i = 0; i < m; i++) {
		const struct mv_ref *r = i < n ? &hops[i].from : last;
		eh[i].holder = r->holder;
		eh[i].heap = r->kind == MV_REF_HEAP;
		eh[i].chunk_mem = r->chunk.mem;
		eh[i].value = r->value;
	}
	const char *name;
	uint64_t off, addr;
	struct mv_type *vt;
	struct mv_error *err = NULL;
	struct mv_frame_name f;
	const struct mv_ref *r0 = n ? &hops[0].from : NULL;
	if (n && r0->kind == MV_REF_GLOBAL &&
	    mv_program_symbolize(p, r0->holder, &name, &off) &&
	    !(err = mv_program_find_variable(p, name, 0, &addr, &vt)) &&
	    addr + off == r0->holder)
		exprs = mv_edge_expressions(p, name, vt, addr, eh, m, NULL,
					    poll_ctx, ctx, NULL);
	else if (n && r0->kind == MV_REF_STACK &&
		 mv_frames_find(mv_ctx_frames(ctx), r0->tid, r0->holder, &f) && f.type)
		/* A local of the frame holding it (frames.c): "mine[3]". */
		exprs = mv_edge_expressions(p, f.variable, f.type,
					    r0->holder - f.offset, eh, m, NULL,
					    poll_ctx, ctx, NULL);
	else
		exprs = calloc(m ? m : 1, sizeof(*exprs));
	mv_error_destroy(err);
	free(eh);
	return exprs;
}

static void free_expressions(char **exprs, size_t n)
{
	for (size_t i = 0; exprs && i < n; i++)
		free(exprs[i]);
	free(exprs);
}

struct refs {
	struct mv_cmd_ctx *ctx;
	struct mv_json j;
	struct mv_model *model;  /* an object model's view, or NULL */
	struct mv_chunk target;  /* the block searched, with a model */
	uint64_t lo;
	uint64_t count;
	uint64_t max;
	struct mv_error *err; /* of writing the output, or Ctrl-C */
	/* Heap holders named (holder_expression), and past the bound. */
	struct mv_heap *h;
	struct mv_refindex *ri;
	bool no_index;
	uint64_t named, unnamed, unbuilt;
};

/* Heap holders named per referrers, and the chunks each one's search
 * for a chain from the roots may visit: the few printed first cost a
 * bounded backward search each over the reverse index. */
#define REF_NAMED 16
#define REF_NAME_VISITS 100000
/* Up to this many chunks the first referrers of a heap builds the
 * reverse index to name heap holders (well under a second). */
#define REF_NAME_BUILD_CHUNKS 4000000

/* The word r of a heap block as path-to names it ("g_map[7]",
 * "g_holder->children[3]"): the shortest chain from the roots to its
 * block (the reverse index, built here the first time), named with one
 * more hop, the word itself.  NULL when the chain is not found within
 * REF_NAME_VISITS chunks or does not start at a typed global; the
 * caller frees it. */
static char *holder_expression(struct refs *R, const struct mv_ref *r)
{
	if (r->kind != MV_REF_HEAP || !r->in_chunk || !R->h || R->no_index)
		return NULL;
	/* On a big heap the reverse index costs as much as the search
	 * itself: the first referrers leaves it unbuilt (as below) and
	 * says so; the next, or a path-to, builds it and names them. */
	if (!R->ri && !R->ctx->session->refindex &&
	    mv_heap_chunk_count(R->h) > REF_NAME_BUILD_CHUNKS) {
		R->unbuilt++;
		return NULL;
	}
	if (R->named >= REF_NAMED) {
		R->unnamed++;
		return NULL;
	}
	R->named++;
	struct mv_error *err = NULL;
	if (!R->ri && (err = mv_session_refindex(R->ctx, R->h, &R->ri)))
		R->no_index = true;
	struct mv_path_hop *hops = NULL;
	size_t n = 0;
	if (!err)
		err = mv_graph_path_to_index(R->ctx->session->program, R->ri, NULL,
					     r->chunk.mem, REF_NAME_VISITS,
					     &hops, &n, NULL, NULL, NULL,
					     poll_ctx, R->ctx);
	if (err && mv_error_code(err) == MV_ERR_INTERRUPTED)
		R->err = err;
	else
		mv_error_destroy(err);
	char **exprs = !err && n ? hop_expressions(R->ctx, hops, n, r) : NULL;
	char *held = exprs ? exprs[n] : NULL;
	if (exprs)
		exprs[n] = NULL;
	free_expressions(exprs, n + 1);
	free(hops);
	return held;
}

static bool on_ref(void *arg, const struct mv_ref *r)
{
	struct refs *R = arg;
	if (R->count++ >= R->max)
		return true;
	struct mv_model_edge me = {0};
	struct mv_buf cls;
	mv_buf_init(&cls);
	if (R->model && (R->err = mv_model_edge(R->model, r, &R->target,
						&me)))
		return false;
	/* The class of the object holding it ("dict"). */
	if (R->model && me.is_edge && me.owner)
		R->err = mv_model_class(R->model, me.owner, &cls);
	/* A model names the word itself (me); C expressions are for the
	 * rest. */
	char *held = R->model || R->err ? NULL : holder_expression(R, r);
	if (R->err) {
		if (R->model)
			mv_buf_deinit(&me.name);
		mv_buf_deinit(&cls);
		return false;
	}
	if (R->ctx->json)
		ref_json(R->ctx, r, R->lo, held, &R->j, R->model ? &me : NULL,
			 cls.data);
	else
		ref_text(R->ctx, r, R->lo, held, &R->ctx->out,
			 R->model ? &me : NULL, cls.data);
	free(held);
	mv_buf_deinit(&cls);
	if (R->model)
		mv_buf_deinit(&me.name);
	/* With --max 0 the list is as long as memory has referrers: it
	 * goes out as it comes instead of piling up. */
	if (R->ctx->out.len >= (64u << 10) &&
	    (R->err = mv_out_flush(R->ctx)))
		return false;
	return true;
}

static struct mv_error *open_heap(struct mv_cmd_ctx *ctx,
				  struct mv_heap **h, char *note,
				  size_t note_size)
{
	struct mv_error *err = mv_session_open_heap(ctx, NULL, h);
	if (!err)
		return NULL;
	if (mv_error_code(err) == MV_ERR_INTERRUPTED ||
	    mv_error_code(err) == MV_ERR_NOMEM ||
	    mv_error_code(err) == MV_ERR_USAGE)
		return err;
	snprintf(note, note_size, "no heap model: %s", mv_error_message(err));
	mv_error_destroy(err);
	*h = NULL;
	return NULL;
}

/* Text output: what the roots cannot cover, known before a scan
 * (threads without registers, stacks in no mapping), as the first
 * lines, since it makes the answer partial.  *shown gets how many. */
static struct mv_error *roots_banner(struct mv_cmd_ctx *ctx,
				     struct mv_heap *h, size_t *shown)
{
	*shown = 0;
	if (ctx->json)
		return NULL;
	struct mv_roots rs;
	struct mv_error *err = mv_roots_find(ctx->session->program, h, &rs);
	const char *const *notes;
	size_t n = err ? 0 : mv_notes_get(&rs.skipped, &notes);
	for (size_t i = 0; i < n; i++)
		mv_out(ctx, "[PARTIAL] %s\n", notes[i]);
	*shown = n;
	mv_roots_deinit(&rs);
	return err;
}

/* The roots' notes past the first `shown`, as [PARTIAL] lines (text) or
 * strings (JSON). */
static void roots_notes(struct mv_cmd_ctx *ctx, struct mv_json *j,
			struct mv_notes *skipped, size_t shown)
{
	const char *const *notes;
	size_t n = mv_notes_get(skipped, &notes);
	for (size_t i = ctx->json ? 0 : shown; i < n; i++) {
		if (ctx->json)
			mv_json_string(j, notes[i]);
		else
			mv_out(ctx, "[PARTIAL] %s\n", notes[i]);
	}
}

/* The model's note, if any, among the answer's notes. */
static void model_note(const struct mv_model *m, struct mv_notes *notes)
{
	const char *note = mv_model_note(m);
	if (note)
		mv_notes_add(notes, "%s", note);
}

struct mv_error *mv_cmd_referrers(struct mv_cmd_ctx *ctx)
{
	uint64_t max, addr, size;
	struct mv_error *err = mv_opt_count(ctx, "max", &max);
	if (err || (err = target_address(ctx, &addr, &size)))
		return err;
	struct mv_target *t = ctx->session->target;
	bool mapped = mv_target_find_region(t, addr) != NULL;
	/* Page zero holds no object: every NULL pointer and small integer
	 * in memory would "refer" to it. */
	if (addr < 4096 && !mapped)
		return mv_error_create(MV_ERR_INVALID,
				       "0x%llx is %s: not searched (every zero "
				       "word or small integer in memory would "
				       "point there)",
				       (unsigned long long)addr,
				       addr ? "in the first page, below any "
					      "object" : "NULL");
	struct mv_heap *h;
	char note[320] = "";
	if ((err = open_heap(ctx, &h, note, sizeof(note))))
		return err;
	if (!mapped && !*note)
		snprintf(note, sizeof(note), "0x%llx is in no mapping of the "
			 "target: words pointing there are stale or not "
			 "pointers", (unsigned long long)addr);
	struct mv_chunk ch;
	bool in_chunk = h && mv_heap_find_chunk(h, addr, &ch) &&
			(ch.flags & MV_CHUNK_IN_USE) && addr >= ch.mem;
	/* A heap object is its whole chunk: pointers to any byte of it
	 * hold it. */
	uint64_t lo = in_chunk ? ch.mem : addr;
	uint64_t hi = in_chunk ? ch.mem + (ch.usable ? ch.usable : 1)
			       : addr + size;
	struct refs R = {.ctx = ctx, .lo = lo, .h = h};
	R.max = max ? max : UINT64_MAX;
	/* With an object model (its object rules), each word is said
	 * through it: the object holding it and the edge's name. */
	if (in_chunk && (err = mv_model_open(ctx, NULL, &R.model)))
		return err;
	R.target = ch;
	const char *limit = h ? mv_heap_limit_note(h) : NULL;
	if (ctx->json) {
		mv_json_init(&R.j, &ctx->out, false);
		mv_json_begin_object(&R.j);
		mv_json_key(&R.j, "command");
		mv_json_string(&R.j, "referrers");
		mv_json_key(&R.j, "start");
		mv_json_address(&R.j, lo);
		mv_json_key(&R.j, "end");
		mv_json_address(&R.j, hi);
		mv_json_key(&R.j, "in_chunk");
		mv_json_bool(&R.j, in_chunk);
		mv_json_key(&R.j, "referrers");
		mv_json_begin_array(&R.j);
	}
	size_t banner;
	if ((err = roots_banner(ctx, h, &banner))) {
		mv_model_close(R.model);
		return err;
	}
	if (!ctx->json)
		mv_out(ctx, "words pointing into [0x%llx, 0x%llx)%s:\n",
		       (unsigned long long)lo, (unsigned long long)hi,
		       in_chunk ? " (its heap chunk)" : "");
	struct mv_notes skipped;
	mv_notes_init(&skipped, 50);
	model_note(R.model, &skipped);
	/* A block's referrers from the session's reverse index: its
	 * holders are read, not the whole heap.  Building it costs about
	 * two whole scans, so the first referrers on a heap scans and the
	 * second builds it (path-to builds it at once). */
	struct mv_session *s = ctx->session;
	struct mv_refindex *ri = NULL;
	if (in_chunk && mv_refindex_block(ch.flags) &&
	    (s->refindex || R.model || s->referrers_scans++)) {
		err = mv_session_refindex(ctx, h, &ri);
		if (err && mv_error_code(err) != MV_ERR_INTERRUPTED) {
			mv_error_destroy(err);
			err = NULL;
			ri = NULL;
		}
	}
	R.ri = ri;
	if (R.model)
		mv_model_set_index(R.model, ri);
	if (!err && ri)
		err = mv_graph_referrers_index(ctx->session->program, ri,
					       mv_heap_chunk_index(h, addr), lo,
					       hi, on_ref, &R, &skipped,
					       poll_ctx, ctx);
	else if (!err)
		err = mv_graph_referrers(ctx->session->program, h, lo, hi,
					 on_ref, &R, &skipped, poll_ctx, ctx);
	if (!err && R.err)
		err = R.err;
	bool interrupted = err && mv_error_code(err) == MV_ERR_INTERRUPTED &&
			   !R.err;
	if (interrupted) {
		mv_error_destroy(err);
		err = NULL;
	}
	uint64_t shown = R.count < R.max ? R.count : R.max;
	char unnamed[160] = "";
	if (R.unnamed)
		snprintf(unnamed, sizeof(unnamed), "%llu heap holders past the "
			 "first %d not named (path-to names one)",
			 (unsigned long long)R.unnamed, REF_NAMED);
	else if (R.unbuilt)
		snprintf(unnamed, sizeof(unnamed), "%llu heap holder%s not "
			 "named: the reverse index of this heap's %zu blocks "
			 "is built by the next referrers or a path-to, which "
			 "name them",
			 (unsigned long long)R.unbuilt,
			 R.unbuilt == 1 ? "" : "s", mv_heap_chunk_count(h));
	if (!err) {
		if (ctx->json) {
			mv_json_end_array(&R.j);
			mv_json_key(&R.j, "count");
			mv_json_uint(&R.j, R.count);
			mv_json_key(&R.j, "shown");
			mv_json_uint(&R.j, shown);
			mv_json_key(&R.j, "max");
			mv_json_uint(&R.j, R.max == UINT64_MAX ? 0 : R.max);
			mv_json_key(&R.j, "partial");
			mv_json_bool(&R.j, interrupted || limit ||
						   (skipped.n || skipped.dropped));
			mv_json_key(&R.j, "notes");
			mv_json_begin_array(&R.j);
			if (*note)
				mv_json_string(&R.j, note);
			if (limit)
				mv_json_string(&R.j, limit);
			if (*unnamed)
				mv_json_string(&R.j, unnamed);
			roots_notes(ctx, &R.j, &skipped, 0);
			mv_json_end_array(&R.j);
			mv_json_end_object(&R.j);
			mv_out(ctx, "\n");
		} else {
			mv_out(ctx, "%llu referrer%s%s%s\n",
			       (unsigned long long)R.count,
			       R.count == 1 ? "" : "s",
			       interrupted ? " so far (interrupted)" : "",
			       limit || (skipped.n || skipped.dropped) ? " [PARTIAL]" : "");
			roots_notes(ctx, NULL, &skipped, banner);
			if (R.count > shown)
				mv_out(ctx, "  note: %llu listed (--max %llu): "
					    "lift with --max 0\n",
				       (unsigned long long)shown,
				       (unsigned long long)R.max);
			if (*note)
				mv_out(ctx, "  note: %s\n", note);
			if (limit)
				mv_out(ctx, "  note: %s\n", limit);
			if (*unnamed)
				mv_out(ctx, "  note: %s\n", unnamed);
		}
		err = mv_buf_error(&ctx->out);
	}
	mv_notes_deinit(&skipped);
	mv_model_close(R.model);
	return err;
}

static const struct mv_option referrers_options[] = {
	{"max", 0, MV_OPT_INT, "N", "list at most N referrers, all are "
	 "counted (0: list all)", "1000", NULL},
	MV_OPTION_TYPES,
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_referrers = {
	.name = "referrers",
	.debugger_name = "mv-referrers",
	.synopsis = "ADDR|EXPR",
	.summary = "Who points to an object: every word in memory holding "
		   "an address inside it.",
	.description =
		"Like gc.get_referrers(). The object is the heap chunk "
		"holding ADDR (a pointer expression means what it points "
		"to), or the object EXPR names. Searched: the words of "
		"every in-use heap chunk, then gc's roots: the writable "
		"data of the executable and libraries, every other "
		"writable mapping that is not the allocator's (TLS blocks, "
		"other allocators' arenas), each thread's stack from its "
		"stack pointer up, and the threads' registers. Each "
		"referrer is shown with what holds it: symbol and offset "
		"for globals, chunk and offset for heap words, thread for "
		"stacks and registers, the mapping's file for other "
		"mappings. A stack word is also named by the frame that "
		"holds it and, where the function's DWARF places a local "
		"variable or parameter there, by that variable "
		"(`in hold_on_stack: local`, `in middle: pr+8`); the "
		"frames are found by the return addresses on the stack "
		"(no unwinder is needed, so the standalone program names "
		"them too). A heap word is named as path-to names it, "
		"from the shortest chain of the roots to its block "
		"(`g_map[7]`, `g_holder->children[3]`, `g_list[2]`): the "
		"first 16 heap referrers, each search bounded to 100,000 "
		"blocks over the reverse index (built on the first such "
		"word; on a heap of more than 4,000,000 blocks by the "
		"second referrers or a path-to, as the note says). What could not be scanned comes first as "
		"[PARTIAL] lines.\n\n"
		"With an object model whose rules say where its objects "
		"lie (--types, or the model that fits the program: "
		"CPython 3.11's), each word is also said through it: the "
		"object holding it and the edge's name as the language "
		"writes it (`dict 0x7f.. ['key']`: the object by its class "
		"where the model names it, a frame's local "
		"`f:x`), or that it is no edge of the model (a GC "
		"header's link, a free list's or a stale frame slot): the "
		"objects so found are gc.get_referrers's "
		"(docs/types.md).\n\n"
		"Memory stays bounded: target memory is read through one "
		"256 KiB window, the heap index holds at most "
		"--max-heap-chunks chunks (chunks past it are not searched, "
		"and the answer says so), and at most --max referrers are "
		"kept for the listing. The scan reads every byte it names "
		"once; Ctrl-C stops it with the referrers found so far. "
		"The second referrers of a heap block in a session (or one "
		"after path-to) builds or uses the session's reverse index "
		"of the heap's pointers (see path-to) and reads only the "
		"block's holders, then the roots: the same referrers in the "
		"same order.",
	.options = referrers_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_referrers,
};

/* ---- path-to ---- */

static void root_name(struct mv_cmd_ctx *ctx, const struct mv_ref *r,
		      struct mv_buf *out)
{
	struct mv_program *p = ctx->session->program;
	const char *name;
	uint64_t off;
	switch (r->kind) {
	case MV_REF_GLOBAL:
		if (mv_program_symbolize(p, r->holder, &name, &off)) {
			mv_buf_puts(out, name);
			if (off)
				mv_buf_printf(out, "+%llu",
					      (unsigned long long)off);
		} else {
			mv_buf_printf(out, "global 0x%llx",
				      (unsigned long long)r->holder);
		}
		break;
	case MV_REF_STACK:
		mv_buf_printf(out, "stack of thread %d at 0x%llx", r->tid,
			      (unsigned long long)r->holder);
		stack_name(ctx, r, out);
		break;
	case MV_REF_REGISTER:
		mv_buf_printf(out, "register %s of thread %d",
			      mv_reg_name(r->reg), r->tid);
		break;
	case MV_REF_MAPPING:
		mv_buf_printf(out, "mapping %s at 0x%llx",
			      mapping_name(p, r->holder),
			      (unsigned long long)r->holder);
		break;
	case MV_REF_HEAP:
		break;
	}
}

struct mv_error *mv_cmd_path_to(struct mv_cmd_ctx *ctx)
{
	uint64_t max, addr, size;
	struct mv_error *err = mv_opt_count(ctx, "max-objects", &max);
	if (err || (err = target_address(ctx, &addr, &size)))
		return err;
	if (!mv_opt_set(ctx, "max-objects"))
		max = mv_limits_max_objects();
	struct mv_heap *h;
	char note[320] = "";
	if ((err = open_heap(ctx, &h, note, sizeof(note))))
		return err;
	if (!h)
		return mv_error_create(MV_ERR_NOT_FOUND, "%s", note);
	struct mv_path_hop *hops;
	size_t n;
	uint64_t visited;
	bool hit_max;
	struct mv_program *p = ctx->session->program;
	struct mv_notes skipped;
	mv_notes_init(&skipped, 50);
	/* Backwards over the session's reverse index; without one (too
	 * big for 32-bit indexes, or no memory for it), forwards from the
	 * roots as before. */
	struct mv_refindex *ri = NULL;
	err = mv_session_refindex(ctx, h, &ri);
	if (err && (mv_error_code(err) == MV_ERR_LIMIT ||
		    mv_error_code(err) == MV_ERR_NOMEM)) {
		mv_error_destroy(err);
		err = NULL;
		ri = NULL;
	}
	/* With an object model, only its edges: no GC links, headers or
	 * stale slots past a length. */
	struct mv_model *model = NULL;
	struct mv_edge_filter filter = {mv_model_accept, NULL};
	if (!err && ri && !(err = mv_model_open(ctx, ri, &model)))
		filter.arg = model;
	model_note(model, &skipped);
	if (!err && ri)
		err = mv_graph_path_to_index(p, ri, model ? &filter : NULL,
					     addr, max, &hops, &n,
					     &visited, &hit_max, &skipped,
					     poll_ctx, ctx);
	else if (!err)
		err = mv_graph_path_to_max(p, h, addr, max, &hops, &n,
					   &visited, &hit_max, &skipped,
					   poll_ctx, ctx);
	if (err) {
		mv_model_close(model);
		mv_notes_deinit(&skipped);
		return err;
	}
	const char *limit = mv_heap_limit_note(h);
	char cut[160] = "";
	if (hit_max)
		snprintf(cut, sizeof(cut), "no path found within %llu objects "
			 "(--max-objects %llu): lift with --max-objects 0",
			 (unsigned long long)max, (unsigned long long)max);
	struct mv_buf name;
	mv_buf_init(&name);
	char **exprs = hop_expressions(ctx, hops, n, NULL);
	if (exprs && model)
		err = mv_model_expressions(model, hops, n, exprs);
	mv_model_close(model);
	if (!exprs || err) {
		free_expressions(exprs, n);
		free(hops);
		mv_notes_deinit(&skipped);
		return exprs ? err : mv_enomem;
	}
	if (!ctx->json)
		roots_notes(ctx, NULL, &skipped, 0);
	if (ctx->json) {
		struct mv_json j;
		mv_json_init(&j, &ctx->out, false);
		mv_json_begin_object(&j);
		mv_json_key(&j, "command");
		mv_json_string(&j, "path-to");
		mv_json_key(&j, "target");
		mv_json_address(&j, addr);
		mv_json_key(&j, "found");
		mv_json_bool(&j, n > 0);
		mv_json_key(&j, "partial");
		mv_json_bool(&j, !n && (hit_max || limit || (skipped.n || skipped.dropped)));
		mv_json_key(&j, "objects_visited");
		mv_json_uint(&j, visited);
		mv_json_key(&j, "max_objects");
		mv_json_uint(&j, max);
		mv_json_key(&j, "chain");
		mv_json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			const struct mv_ref *r = &hops[i].from;
			mv_json_begin_object(&j);
			mv_json_key(&j, "kind");
			mv_json_string(&j, ref_kinds[r->kind]);
			mv_json_key(&j, "root");
			if (r->kind == MV_REF_HEAP) {
				mv_json_null(&j);
			} else {
				mv_buf_clear(&name);
				root_name(ctx, r, &name);
				mv_json_string(&j, name.data ? name.data : "");
			}
			mv_json_key(&j, "holder");
			if (r->kind == MV_REF_REGISTER)
				mv_json_null(&j);
			else
				mv_json_address(&j, r->holder);
			mv_json_key(&j, "chunk");
			if (r->in_chunk)
				mv_json_address(&j, r->chunk.mem);
			else
				mv_json_null(&j);
			mv_json_key(&j, "offset");
			if (r->in_chunk)
				mv_json_uint(&j, r->holder - r->chunk.mem);
			else
				mv_json_null(&j);
			mv_json_key(&j, "expression");
			if (exprs[i])
				mv_json_string(&j, exprs[i]);
			else
				mv_json_null(&j);
			mv_json_key(&j, "points_to");
			mv_json_address(&j, hops[i].next_mem);
			mv_json_end_object(&j);
		}
		mv_json_end_array(&j);
		mv_json_key(&j, "notes");
		mv_json_begin_array(&j);
		mv_json_string(&j, "edges are words that hold chunk "
				   "addresses (no types): a chain may pass "
				   "through stale data");
		if (*cut)
			mv_json_string(&j, cut);
		if (limit)
			mv_json_string(&j, limit);
		roots_notes(ctx, &j, &skipped, 0);
		mv_json_end_array(&j);
		mv_json_end_object(&j);
		mv_out(ctx, "\n");
	} else if (!n && *cut) {
		mv_out(ctx, "[PARTIAL] %s\n", cut);
	} else if (!n && (limit || (skipped.n || skipped.dropped))) {
		mv_out(ctx, "[PARTIAL] no path to 0x%llx %s\n",
		       (unsigned long long)addr,
		       limit ? "among the chunks indexed"
			     : "from the roots scanned");
	} else if (!n) {
		mv_out(ctx, "no root reaches 0x%llx: it is unreachable (a "
			    "leak, or held only from outside this process)\n",
		       (unsigned long long)addr);
	} else {
		mv_out(ctx, "shortest path to 0x%llx: %zu pointer%s\n",
		       (unsigned long long)addr, n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			const struct mv_ref *r = &hops[i].from;
			mv_buf_clear(&name);
			struct mv_frame_name f;
			if (exprs[i] && r->kind == MV_REF_STACK &&
			    mv_frames_find(mv_ctx_frames(ctx), r->tid, r->holder, &f))
				/* A local: which frame, which thread. */
				mv_buf_printf(&name, "%s (in %s, thread %d)",
					      exprs[i], f.function, r->tid);
			else if (exprs[i])
				mv_buf_puts(&name, exprs[i]);
			else if (r->kind == MV_REF_HEAP)
				mv_buf_printf(&name, "chunk 0x%llx+%llu",
					      (unsigned long long)r->chunk.mem,
					      (unsigned long long)(r->holder -
								   r->chunk.mem));
			else
				root_name(ctx, r, &name);
			mv_out(ctx, "  %-40s -> 0x%llx%s\n",
			       name.data ? name.data : "",
			       (unsigned long long)hops[i].next_mem,
			       i + 1 == n ? " (target)" : "");
		}
		if (exprs[n - 1])
			mv_out(ctx, "  held by %s\n", exprs[n - 1]);
		else
			mv_out(ctx, "  note: edges are words holding chunk "
				    "addresses; named as fields while the "
				    "types of the blocks are known\n");
	}
	if (!ctx->json && limit)
		mv_out(ctx, "  note: %s\n", limit);
	free_expressions(exprs, n);
	free(hops);
	mv_buf_deinit(&name);
	mv_notes_deinit(&skipped);
	return mv_buf_error(&ctx->out);
}

static const struct mv_option path_to_options[] = {
	{"max-objects", 0, MV_OPT_INT, "N",
	 "visit at most N chunks for the path (0: no limit; default: "
	 "half the memory available, as info says)", NULL, NULL},
	MV_OPTION_TYPES,
	MV_OPTION_MAX_HEAP_CHUNKS,
	MV_OPTION_ALLOCATOR,
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_path_to = {
	.name = "path-to",
	.debugger_name = "mv-path-to",
	.synopsis = "ADDR|EXPR",
	.summary = "The shortest chain of pointers from a root (global, "
		   "stack, register, mapping) to a heap object.",
	.description =
		"A shortest chain from the roots of gc (the writable data "
		"of the executable and libraries, other writable mappings "
		"that are not the allocator's, the threads' stacks and "
		"registers) through the words of in-use heap chunks. Edges "
		"are words that hold chunk addresses; from a global, or "
		"from a stack word a local variable of its frame covers "
		"(`mine[3]` in `worker`), each is "
		"named as a C expression while the types allow "
		"(`g_table->lru_tail->prev`, the block's type being what its "
		"pointer points to). Why is this object still alive? This "
		"answers it.\n\n"
		"The first path-to or second referrers on a heap indexes "
		"its pointers the other way round (one pass over the "
		"blocks, about 4 bytes a chunk, kept in the "
		"session until memory may have changed); the search then "
		"goes backwards from the object through its holders, level "
		"by level, to the nearest chunks a root holds, and visits "
		"the object's ancestors only. Of the shortest chains it "
		"gives the one whose root word comes first in the roots' "
		"scan. Without room for the index it searches forwards from "
		"the roots.\n\n"
		"The search visits at most --max-objects chunks; past that "
		"the answer is \"no path found within N objects\", partial, "
		"and says how to lift the bound. Ctrl-C stops it.\n\n"
		"With an object model whose rules say where its objects "
		"lie (--types, or CPython 3.11's, picked by itself), the "
		"chain takes the model's edges only (not a GC's list "
		"links, a free list's slots or a frame's stale slots) and "
		"names each hop as the language does: "
		"`__main__.data[3]`, `hold:kept` for a "
		"frame's local (docs/types.md).",
	.options = path_to_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_path_to,
};
