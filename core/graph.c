/* graph.c - the object graph of a walk as JSON and DOT, Graphviz for
 * pictures, and the two questions asked the other way round: who points
 * here (referrers) and how is this reached from a root (path-to). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "refindex.h"
#include "roots.h"
#include "walk.h"

extern char **environ;

/* ---- export ---- */

static void node_json(struct mv_walk *w, size_t i, struct mv_json *j)
{
	const struct mv_walk_obj *o = &w->objs[i];
	struct mv_chunk ch;
	bool heap = i || !w->pseudo_root ? mv_walk_chunk(w, i, &ch) : false;
	mv_json_begin_object(j);
	mv_json_key(j, "id");
	mv_json_uint(j, i);
	mv_json_key(j, "address");
	if (i == 0 && w->pseudo_root)
		mv_json_null(j);
	else
		mv_json_address(j, o->addr);
	mv_json_key(j, "type");
	mv_json_string(j, mv_walk_plan_name(w, o->plan));
	/* Its class, as the model's typename rules name it. */
	struct mv_buf cls;
	mv_buf_init(&cls);
	mv_json_key(j, "class");
	if (mv_walk_class_name(w, i, &cls) && cls.data)
		mv_json_string(j, cls.data);
	else
		mv_json_null(j);
	mv_buf_deinit(&cls);
	mv_json_key(j, "size");
	mv_json_uint(j, mv_walk_type_bytes(w, i));
	mv_json_key(j, "where");
	mv_json_string(j, i == 0 && w->pseudo_root
				  ? "value"
				  : mv_walk_where_name(mv_walk_where(w, i)));
	mv_json_key(j, "chunk");
	if (heap) {
		mv_json_begin_object(j);
		mv_json_key(j, "start");
		mv_json_address(j, ch.start);
		mv_json_key(j, "size");
		mv_json_uint(j, ch.size);
		mv_json_key(j, "usable");
		mv_json_uint(j, ch.usable);
		mv_json_end_object(j);
	} else {
		mv_json_null(j);
	}
	mv_json_end_object(j);
}

/* Every this many nodes or edges the JSON so far goes to drain. */
#define DRAIN_EVERY 4096

/* Edge i's label: its name as path-to reads it (names), or the field
 * path the walk found it at. */
static const char *edge_label(const struct mv_walk *w,
			      const struct mv_graph_names *names, size_t i)
{
	uint32_t at = names && names->at ? names->at[i] : UINT32_MAX;
	if (at != UINT32_MAX && names->text.data)
		return names->text.data + at;
	return w->labels.data ? w->labels.data + w->edges[i].label : "";
}

struct mv_error *mv_graph_render_json(struct mv_walk *w, const char *root,
				      const struct mv_graph_names *names,
				      const char *limit, struct mv_buf *out,
				      mv_graph_drain_fn drain, void *drain_arg)
{
	struct mv_error *err = NULL;
	struct mv_json j;
	mv_json_init(&j, out, false);
	mv_json_begin_object(&j);
	mv_json_key(&j, "command");
	mv_json_string(&j, "graph");
	mv_json_key(&j, "root");
	mv_json_string(&j, root);
	mv_json_key(&j, "partial");
	mv_json_bool(&j, w->hit_max_objects || w->hit_max_depth ||
				 w->interrupted || limit);
	mv_json_key(&j, "notes");
	mv_json_begin_array(&j);
	if (limit)
		mv_json_string(&j, limit);
	mv_json_end_array(&j);
	mv_json_key(&j, "nodes");
	mv_json_begin_array(&j);
	for (size_t i = 0; i < w->nobjs; i++) {
		node_json(w, i, &j);
		if (drain && i % DRAIN_EVERY == DRAIN_EVERY - 1 &&
		    (err = drain(drain_arg, out)))
			return err;
	}
	mv_json_end_array(&j);
	mv_json_key(&j, "edges");
	mv_json_begin_array(&j);
	for (size_t i = 0; i < w->nedges; i++) {
		const struct mv_walk_edge *e = &w->edges[i];
		mv_json_begin_object(&j);
		mv_json_key(&j, "from");
		mv_json_uint(&j, e->from);
		mv_json_key(&j, "to");
		mv_json_uint(&j, e->to);
		mv_json_key(&j, "field");
		mv_json_string(&j, edge_label(w, names, i));
		mv_json_key(&j, "member");
		mv_json_string(&j, w->labels.data + e->label);
		mv_json_key(&j, "precise");
		mv_json_bool(&j, !e->guess);
		/* A name that stands for the edges above it ("__main__"
		 * ".x", not ".__dict__" "" "['x']"): of whom it is said. */
		mv_json_key(&j, "of");
		mv_json_uint(&j, mv_walk_edge_of(w, i));
		mv_json_end_object(&j);
		if (drain && i % DRAIN_EVERY == DRAIN_EVERY - 1 &&
		    (err = drain(drain_arg, out)))
			return err;
	}
	mv_json_end_array(&j);
	mv_json_end_object(&j);
	mv_buf_putc(out, '\n');
	return drain ? drain(drain_arg, out) : NULL;
}

/* DOT strings: quotes and backslashes escaped, nothing else special. */
static void dot_string(struct mv_buf *out, const char *s)
{
	mv_buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			mv_buf_putc(out, '\\');
		if ((unsigned char)*s >= 0x20)
			mv_buf_putc(out, *s);
	}
	mv_buf_putc(out, '"');
}

/* Each object's depth (pointers from the root): parents come first in
 * the walk's breadth-first order.  NULL without memory. */
static uint32_t *object_depths(struct mv_walk *w)
{
	uint32_t *depth = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*depth));
	if (!depth)
		return NULL;
	for (size_t i = 0; i < w->nobjs; i++)
		depth[i] = i && w->objs[i].parent < i
				   ? depth[w->objs[i].parent] + 1 : 0;
	return depth;
}

/* Chains drawn as one box: an object inside a run of one type, each
 * the only object the one before points to, through the same field
 * (a list's .next), with no other pointer in or out, is hidden; the
 * run's hidden objects are one "struct node × N" box.  hidden[i] is
 * then the index of the run's first hidden object + 1 (0: shown). */
struct chains {
	uint32_t *hidden;
	uint32_t *in_label;   /* label of the tree edge into i, or -1 */
	uint32_t *count;      /* at a run's first hidden object: its size */
};

static void chains_deinit(struct chains *c)
{
	free(c->hidden);
	free(c->in_label);
	free(c->count);
}

static struct mv_error *chains_init(struct mv_walk *w, struct chains *c)
{
	size_t n = w->nobjs ? w->nobjs : 1;
	uint32_t *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	uint32_t *only = calloc(n, sizeof(*only));
	c->hidden = calloc(n, sizeof(*c->hidden));
	c->in_label = malloc(n * sizeof(*c->in_label));
	c->count = calloc(n, sizeof(*c->count));
	if (!in || !out || !only || !c->hidden || !c->in_label || !c->count) {
		free(in);
		free(out);
		free(only);
		chains_deinit(c);
		return mv_enomem;
	}
	memset(c->in_label, 0xff, n * sizeof(*c->in_label));
	for (size_t i = 0; i < w->nedges; i++) {
		const struct mv_walk_edge *e = &w->edges[i];
		if (e->from >= w->nobjs || e->to >= w->nobjs)
			continue;
		in[e->to]++;
		out[e->from]++;
		only[e->from] = e->to;
		if (w->objs[e->to].parent == e->from)
			c->in_label[e->to] = e->label;
	}
	const char *L = w->labels.data ? w->labels.data : "";
	/* Parents come first: one forward pass. */
	for (size_t i = 1; i < w->nobjs; i++) {
		uint32_t p = w->objs[i].parent;
		if (p >= i || in[i] != 1 || out[i] != 1 || out[p] != 1 || !p)
			continue;
		uint32_t k = only[i];
		if (w->objs[k].parent != i || w->objs[p].plan != w->objs[i].plan ||
		    w->objs[k].plan != w->objs[i].plan ||
		    c->in_label[i] == UINT32_MAX ||
		    c->in_label[k] == UINT32_MAX ||
		    strcmp(L + c->in_label[i], L + c->in_label[k]))
			continue;
		uint32_t head = c->hidden[p] ? c->hidden[p] - 1 : (uint32_t)i;
		c->hidden[i] = head + 1;
		c->count[head]++;
	}
	free(in);
	free(out);
	free(only);
	return NULL;
}

uint32_t mv_graph_legible_depth(struct mv_walk *w)
{
	uint32_t *depth = object_depths(w);
	struct chains c;
	if (!depth || chains_init(w, &c)) {
		free(depth);
		return 0;
	}
	/* Boxes: shown objects, and one per chain. */
	size_t boxes = 0;
	uint32_t d = 0;
	for (size_t i = 0; i < w->nobjs; i++) {
		if (c.hidden[i] && c.hidden[i] - 1 != i)
			continue;
		if (++boxes > MV_GRAPH_LEGIBLE_NODES) {
			/* Breadth first: this level would overflow. */
			d = depth[i] > 1 ? depth[i] - 1 : 1;
			break;
		}
	}
	chains_deinit(&c);
	free(depth);
	return d;
}

static void dot_label_raw(struct mv_buf *out, const char *s)
{
	/* Labels hold \n escapes for dot: written raw, quotes escaped. */
	for (; *s; s++) {
		if (*s == '"')
			mv_buf_putc(out, '\\');
		mv_buf_putc(out, *s);
	}
}

/* The DOT name of object i: its own box, or its chain's. */
static void dot_node(struct mv_buf *out, const struct chains *c, size_t i)
{
	if (c->hidden[i])
		mv_buf_printf(out, "c%u", c->hidden[i] - 1);
	else
		mv_buf_printf(out, "n%zu", i);
}

struct mv_error *mv_graph_render_dot(struct mv_walk *w, const char *root,
				     const struct mv_graph_names *names,
				     struct mv_graph_draw *d,
				     struct mv_buf *out)
{
	uint32_t *depth = object_depths(w);
	uint64_t *below = calloc(w->nobjs ? w->nobjs : 1, sizeof(*below));
	struct chains c = {0};
	struct mv_error *err = NULL;
	if (!depth || !below || (err = chains_init(w, &c))) {
		free(depth);
		free(below);
		return err ? err : mv_enomem;
	}
	size_t n = 0, boxes = 0;
	d->deepest = 0;
	for (size_t i = 0; i < w->nobjs; i++) {
		if (depth[i] > d->deepest)
			d->deepest = depth[i];
		bool deep_enough = !d->depth || depth[i] <= d->depth;
		if (c.hidden[i] && c.hidden[i] - 1 != i) {
			/* Inside a chain whose box is drawn: no box of its
			 * own; drawn while everything before it is. */
			if (n == i && deep_enough)
				n = i + 1;
			continue;
		}
		if (boxes < d->max_nodes && deep_enough) {
			boxes++;
			n = i + 1;
		}
	}
	d->drawn = n;
	d->cut = w->nobjs - n;
	/* A chain cut by the depth is drawn as far as it goes: its box
	 * counts its members drawn, the rest are "more below" it. */
	for (size_t i = 0; i < w->nobjs; i++)
		if (c.hidden[i] && c.hidden[i] - 1 == i)
			c.count[i] = 0;
	for (size_t i = 0; i < n; i++)
		if (c.hidden[i])
			c.count[c.hidden[i] - 1]++;
	/* Objects not drawn, counted at their nearest drawn ancestor:
	 * parents first, so one forward pass carries the ancestor. */
	uint32_t *at = depth; /* reused: the drawn ancestor */
	for (size_t i = 0; i < w->nobjs; i++) {
		if (i < n) {
			at[i] = (uint32_t)i;
		} else {
			at[i] = at[w->objs[i].parent < i ? w->objs[i].parent
							 : 0];
			below[at[i]]++;
		}
	}
	struct mv_buf lab, tmp;
	mv_buf_init(&lab);
	mv_buf_init(&tmp);
	mv_buf_puts(out, "digraph memview {\n"
			 "\tnode [shape=box, fontname=\"monospace\", "
			 "fontsize=10];\n\tedge [fontname=\"monospace\", "
			 "fontsize=9];\n");
	const char *L = w->labels.data ? w->labels.data : "";
	for (size_t i = 0; i < n; i++) {
		mv_buf_clear(&lab);
		const char *type = mv_walk_type_shown(w, i, &tmp);
		if (c.hidden[i]) {
			if (c.hidden[i] - 1 != i)
				continue;
			/* The chain's box: its type, length and field. */
			mv_buf_printf(&lab, "%s \xc3\x97 %u\\n", type,
				      c.count[i]);
			dot_label_raw(&lab, L + c.in_label[i]);
			mv_buf_puts(&lab, " chain");
			mv_buf_printf(out, "\tc%zu [label=\"", i);
			dot_label_raw(out, lab.data ? lab.data : "");
			mv_buf_puts(out, "\", style=dashed];\n");
			continue;
		}
		if (i == 0)
			mv_buf_printf(&lab, "%s\\n", root);
		mv_buf_puts(&lab, type);
		if (!(i == 0 && w->pseudo_root))
			mv_buf_printf(&lab, "\\n0x%llx, %llu B",
				      (unsigned long long)w->objs[i].addr,
				      (unsigned long long)mv_walk_type_bytes(
					      w, i));
		mv_buf_printf(out, "\tn%zu [label=\"", i);
		dot_label_raw(out, lab.data ? lab.data : "");
		mv_buf_printf(out, "\"%s];\n", i == 0 ? ", style=bold" : "");
	}
	for (size_t i = 0; i < w->nedges; i++) {
		const struct mv_walk_edge *e = &w->edges[i];
		if (e->from >= n || e->to >= n ||
		    (c.hidden[e->from] && c.hidden[e->to]))
			continue;
		mv_buf_putc(out, '\t');
		dot_node(out, &c, e->from);
		mv_buf_puts(out, " -> ");
		dot_node(out, &c, e->to);
		mv_buf_puts(out, " [label=");
		dot_string(out, edge_label(w, names, i));
		mv_buf_printf(out, "%s];\n", e->guess ? ", style=dashed" : "");
	}
	for (size_t i = 0; i < n; i++) {
		if (!below[i])
			continue;
		mv_buf_printf(out, "\tm%zu [shape=plaintext, label=\"%llu more "
				   "below\"];\n\t", i,
			      (unsigned long long)below[i]);
		dot_node(out, &c, i);
		mv_buf_printf(out, " -> m%zu [style=dotted];\n", i);
	}
	if (d->cut) {
		mv_buf_printf(out, "\tcut [shape=note, label=\"%zu of %zu "
				   "objects drawn",
			      n, w->nobjs);
		if (d->depth && boxes < d->max_nodes)
			mv_buf_printf(out, ", to depth %u of %u (--draw-depth "
					   "N for more, 0 for all)",
				      d->depth, d->deepest);
		else
			mv_buf_printf(out, " (DOT is capped at %zu boxes)",
				      d->max_nodes);
		mv_buf_puts(out, "; the JSON export has all\"];\n");
	}
	mv_buf_puts(out, "}\n");
	mv_buf_deinit(&lab);
	mv_buf_deinit(&tmp);
	chains_deinit(&c);
	free(depth);
	free(below);
	return mv_buf_error(out);
}

struct mv_error *mv_graph_write_file(struct mv_outfile *o,
				     const struct mv_buf *buf)
{
	if (buf->oom)
		return mv_enomem;
	return mv_outfile_write(o, buf->data, buf->len);
}

/* Copies what fd holds, from its start, to o. */
static struct mv_error *copy_fd(int fd, struct mv_outfile *o)
{
	char buf[65536];
	if (lseek(fd, 0, SEEK_SET) < 0)
		return mv_error_create(MV_ERR_IO, "lseek: %s",
				       strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mv_error_create(MV_ERR_IO, "read: %s",
					       strerror(errno));
		if (n == 0)
			return NULL;
		struct mv_error *err = mv_outfile_write(o, buf, (size_t)n);
		if (err)
			return err;
	}
}

struct mv_error *mv_graph_run_dot(const char *dot_path,
				  struct mv_outfile *svg)
{
	/* No shell: the path is an argument, whatever it holds.  dot
	 * writes to a temporary file that memview then copies into the
	 * file it opened before the work (so that a FIFO without a reader,
	 * a planted link or an existing file is refused before anything
	 * runs, and a write error such as a full disk is memview's to
	 * report: dot does not always say).  dot's messages go to
	 * /dev/null: the exit status says enough, and a library must not
	 * write to the user's terminal. */
	char tmp[] = "/tmp/memview-svg-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0)
		return mv_error_create(MV_ERR_IO, "cannot create a temporary "
				       "file: %s", strerror(errno));
	unlink(tmp);
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa)) {
		close(fd);
		return mv_enomem;
	}
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {(char *)"dot", (char *)"-Tsvg", (char *)dot_path,
			NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	struct mv_error *err = NULL;
	int status = 0;
	if (rc)
		err = mv_error_create(MV_ERR_NOT_FOUND,
				      "cannot run Graphviz 'dot' (%s): "
				      "install the graphviz package",
				      strerror(rc));
	while (!err && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err = mv_error_create(MV_ERR_IO, "waitpid: %s",
					      strerror(errno));
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = mv_error_create(MV_ERR_OTHER,
				      "dot -Tsvg failed (%s %d) on %s",
				      WIFEXITED(status) ? "exit status"
							: "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status)
							: WTERMSIG(status),
				      dot_path);
	if (!err)
		err = copy_fd(fd, svg);
	close(fd);
	return err;
}

/* ---- scanning memory for words ---- */

const char *mv_reg_name(int reg)
{
	static const char *const names[MV_NREGS] = {
		"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
		"r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax",
		"rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
		"ds", "es", "fs", "gs"};
	return reg >= 0 && reg < MV_NREGS ? names[reg] : "?";
}

#define SCAN_WINDOW (256u << 10)

struct words {
	struct mv_target *t;
	uint8_t *buf;
	struct mv_error *err;
	uint64_t scanned;
	mv_walk_poll_fn poll;
	void *poll_arg;
	bool stop;
	/* Roots that could not be scanned are noted here, if set. */
	struct mv_notes *skipped;
};

/* Returned by a scan's callback to stop early; never reaches a caller
 * and is never dereferenced. */
static char stop_token;
#define STOP_SCAN ((struct mv_error *)&stop_token)

struct range_scan {
	struct words *ws;
	uint64_t lo, hi;
	struct mv_ref *tmpl;
	bool (*fn)(void *, const struct mv_ref *);
	void *arg;
};

static struct mv_error *range_run(void *arg, uint64_t address,
				  const uint64_t *w, size_t n)
{
	struct range_scan *rs = arg;
	struct words *ws = rs->ws;
	for (size_t k = 0; k < n; k++) {
		if (w[k] < rs->lo || w[k] >= rs->hi)
			continue;
		rs->tmpl->holder = address + k * 8;
		rs->tmpl->value = w[k];
		if (!rs->fn(rs->arg, rs->tmpl)) {
			ws->stop = true;
			return STOP_SCAN;
		}
	}
	ws->scanned += n * 8;
	if (ws->poll && ws->scanned >= (64u << 20)) {
		ws->scanned = 0;
		return ws->poll(ws->poll_arg);
	}
	return NULL;
}

/* Calls fn for each aligned word of [start, end) whose value is in
 * [lo, hi); returns the bytes that could not be read. */
static uint64_t scan_range(struct words *ws, uint64_t start, uint64_t end,
			   uint64_t lo, uint64_t hi, struct mv_ref *tmpl,
			   bool (*fn)(void *, const struct mv_ref *),
			   void *arg)
{
	if (ws->stop || ws->err)
		return 0;
	struct range_scan rs = {ws, lo, hi, tmpl, fn, arg};
	uint64_t missing;
	struct mv_error *err = mv_roots_read(ws->t, start, end,
					     (uint64_t *)ws->buf, SCAN_WINDOW,
					     range_run, &rs, &missing);
	if (err && err != STOP_SCAN)
		ws->err = err;
	return missing;
}

/* scan_range over a heap block, its words straight from a core's
 * mapping where they are there (span: the scan's segment cache). */
static void scan_block(struct words *ws, struct mv_heap *h,
		       struct mv_block_span *span, const struct mv_chunk *ch,
		       uint64_t lo, uint64_t hi, struct mv_ref *tmpl,
		       bool (*fn)(void *, const struct mv_ref *), void *arg)
{
	uint64_t len = ch->usable & ~(uint64_t)7;
	const uint64_t *w = (ch->mem & 7) || !len
				    ? NULL
				    : mv_block_span_peek(span, ws->t, h,
							 ch->mem, len);
	if (!w) {
		scan_range(ws, ch->mem, ch->mem + ch->usable, lo, hi, tmpl,
			   fn, arg);
		return;
	}
	if (ws->stop || ws->err)
		return;
	struct range_scan rs = {ws, lo, hi, tmpl, fn, arg};
	struct mv_error *err = range_run(&rs, ch->mem, w, len / 8);
	if (err && err != STOP_SCAN)
		ws->err = err;
}

/* Roots (roots.h): writable mappings less the heaps and the
 * allocator's state, stacks from the stack pointer up, and registers.
 * *partial is set when some could not be scanned. */
static void scan_roots(struct words *ws, struct mv_program *p,
		       struct mv_heap *h, uint64_t lo, uint64_t hi,
		       bool (*fn)(void *, const struct mv_ref *), void *arg)
{
	struct mv_target *t = ws->t;
	struct mv_roots rs;
	if ((ws->err = mv_roots_find(p, h, &rs))) {
		mv_roots_deinit(&rs);
		return;
	}
	static const enum mv_ref_kind kinds[] = {
		[MV_ROOT_DATA] = MV_REF_GLOBAL,
		[MV_ROOT_MAPPING] = MV_REF_MAPPING,
		[MV_ROOT_STACK] = MV_REF_STACK,
	};
	for (size_t i = 0; i < rs.n && !ws->stop && !ws->err; i++) {
		struct mv_ref tmpl = {.kind = kinds[rs.r[i].kind],
				      .tid = rs.r[i].tid, .reg = -1};
		uint64_t missing = scan_range(ws, rs.r[i].start, rs.r[i].end,
					      lo, hi, &tmpl, fn, arg);
		if (!ws->err)
			ws->err = mv_roots_note_missing(&rs, &rs.r[i],
							missing);
	}
	const struct mv_thread *th;
	size_t nt = mv_target_threads(t, &th);
	for (size_t i = 0; i < nt && !ws->stop && !ws->err; i++) {
		if (!th[i].has_regs)
			continue;
		for (int k = 0; k < MV_NREGS && !ws->stop; k++) {
			uint64_t v = th[i].regs[k];
			if (k == MV_REG_RSP || k == MV_REG_RIP ||
			    k == MV_REG_FS_BASE || v < lo || v >= hi)
				continue;
			struct mv_ref ref = {.kind = MV_REF_REGISTER,
					     .value = v, .tid = th[i].tid,
					     .reg = k};
			if (!fn(arg, &ref))
				ws->stop = true;
		}
	}
	if (ws->skipped && !ws->err) {
		const char *const *notes;
		size_t nn = mv_notes_get(&rs.skipped, &notes);
		for (size_t i = 0; i < nn; i++)
			if (!mv_notes_add(ws->skipped, "%s", notes[i])) {
				ws->err = mv_enomem;
				break;
			}
	}
	mv_roots_deinit(&rs);
}

struct mv_error *mv_graph_referrers(struct mv_program *p, struct mv_heap *h,
				    uint64_t lo, uint64_t hi,
				    bool (*fn)(void *arg,
					       const struct mv_ref *ref),
				    void *arg, struct mv_notes *skipped,
				    mv_walk_poll_fn poll, void *poll_arg)
{
	struct words ws = {.t = mv_program_target(p), .poll = poll,
			   .poll_arg = poll_arg, .skipped = skipped};
	if (!ws.t)
		return mv_error_create(MV_ERR_INVALID, "no memory to scan");
	ws.buf = malloc(SCAN_WINDOW);
	if (!ws.buf)
		return mv_enomem;
	size_t n = h ? mv_heap_chunk_count(h) : 0;
	struct mv_block_span span = {0};
	for (size_t i = 0; i < n && !ws.stop && !ws.err; i++) {
		struct mv_chunk ch;
		if (!mv_heap_chunk(h, i, &ch) || !(ch.flags & MV_CHUNK_IN_USE) ||
		    (ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA |
				 MV_CHUNK_TOP | MV_CHUNK_CORRUPT)))
			continue;
		struct mv_ref tmpl = {.kind = MV_REF_HEAP, .in_chunk = true,
				      .chunk = ch, .reg = -1};
		scan_block(&ws, h, &span, &ch, lo, hi, &tmpl, fn, arg);
		if (poll && (i & 0xffff) == 0xffff && !ws.err)
			ws.err = poll(poll_arg);
	}
	if (!ws.stop && !ws.err)
		scan_roots(&ws, p, h, lo, hi, fn, arg);
	free(ws.buf);
	return ws.err;
}

struct mv_error *mv_graph_referrers_index(struct mv_program *p,
					  struct mv_refindex *ri, size_t chunk,
					  uint64_t lo, uint64_t hi,
					  bool (*fn)(void *arg,
						     const struct mv_ref *ref),
					  void *arg, struct mv_notes *skipped,
					  mv_walk_poll_fn poll, void *poll_arg)
{
	struct mv_heap *h = mv_refindex_heap(ri);
	struct words ws = {.t = mv_program_target(p), .poll = poll,
			   .poll_arg = poll_arg, .skipped = skipped};
	if (!ws.t)
		return mv_error_create(MV_ERR_INVALID, "no memory to scan");
	ws.buf = malloc(SCAN_WINDOW);
	if (!ws.buf)
		return mv_enomem;
	/* The holders in address order, as the whole scan meets them. */
	size_t n;
	uint32_t one;
	const uint32_t *hs = mv_refindex_holders(ri, chunk, &one, &n);
	for (size_t k = 0; k < n && !ws.stop && !ws.err; k++) {
		struct mv_chunk ch;
		mv_heap_chunk(h, hs[k], &ch);
		struct mv_ref tmpl = {.kind = MV_REF_HEAP, .in_chunk = true,
				      .chunk = ch, .reg = -1};
		scan_range(&ws, ch.mem, ch.mem + ch.usable, lo, hi, &tmpl, fn,
			   arg);
		if (poll && (k & 0xffff) == 0xffff && !ws.err)
			ws.err = poll(poll_arg);
	}
	if (!ws.stop && !ws.err)
		scan_roots(&ws, p, h, lo, hi, fn, arg);
	free(ws.buf);
	return ws.err;
}

/* ---- path-to: BFS over chunks from the roots ---- */

#define UNSEEN UINT32_MAX
#define FROM_ROOT 0x80000000u

struct bfs {
	struct mv_heap *h;
	uint32_t *parent;   /* chunk index, FROM_ROOT | root index, UNSEEN */
	uint32_t *offset;   /* holder's offset inside the parent chunk */
	uint32_t *queue;
	size_t qhead, qtail;
	struct mv_ref *roots;
	size_t nroots, roots_cap;
	uint32_t cur;       /* chunk being scanned */
	uint64_t cur_mem;
	size_t target;
	bool found;
	struct mv_error *err;
};

static bool in_use(struct mv_heap *h, uint64_t v, size_t *idx)
{
	size_t i = mv_heap_chunk_index(h, v);
	struct mv_chunk ch;
	if (i == SIZE_MAX || !mv_heap_chunk(h, i, &ch) ||
	    !(ch.flags & MV_CHUNK_IN_USE) ||
	    (ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_METADATA |
			 MV_CHUNK_TOP | MV_CHUNK_CORRUPT)) ||
	    v < ch.mem)
		return false;
	*idx = i;
	return true;
}

static bool root_found(void *arg, const struct mv_ref *ref)
{
	struct bfs *b = arg;
	size_t i;
	if (!in_use(b->h, ref->value, &i) || b->parent[i] != UNSEEN)
		return true;
	if (b->nroots == b->roots_cap) {
		size_t cap = b->roots_cap ? b->roots_cap * 2 : 64;
		struct mv_ref *r = realloc(b->roots, cap * sizeof(*r));
		if (!r) {
			b->err = mv_enomem;
			return false;
		}
		b->roots = r;
		b->roots_cap = cap;
	}
	b->roots[b->nroots] = *ref;
	b->parent[i] = FROM_ROOT | (uint32_t)b->nroots++;
	b->queue[b->qtail++] = (uint32_t)i;
	if (i == b->target) {
		b->found = true;
		return false;
	}
	return true;
}

static bool child_found(void *arg, const struct mv_ref *ref)
{
	struct bfs *b = arg;
	size_t i;
	if (!in_use(b->h, ref->value, &i) || b->parent[i] != UNSEEN)
		return true;
	b->parent[i] = b->cur;
	b->offset[i] = (uint32_t)(ref->holder - b->cur_mem);
	b->queue[b->qtail++] = (uint32_t)i;
	if (i == b->target) {
		b->found = true;
		return false;
	}
	return true;
}

/* The chain from the parents the search left, target first to root
 * last, turned around into hops. */
static struct mv_error *make_path(struct bfs *b, struct mv_target *t,
				  struct mv_path_hop **ret, size_t *nret)
{
	struct mv_heap *h = b->h;
	size_t len = 0;
	for (uint32_t i = (uint32_t)b->target;; i = b->parent[i]) {
		len++;
		if (b->parent[i] & FROM_ROOT)
			break;
	}
	struct mv_path_hop *hops = calloc(len, sizeof(*hops));
	if (!hops)
		return mv_enomem;
	size_t k = len;
	for (uint32_t i = (uint32_t)b->target;; i = b->parent[i]) {
		struct mv_chunk ch;
		mv_heap_chunk(h, i, &ch);
		struct mv_path_hop *hp = &hops[--k];
		hp->next_mem = ch.mem;
		if (b->parent[i] & FROM_ROOT) {
			hp->from = b->roots[b->parent[i] & ~FROM_ROOT];
			break;
		}
		struct mv_chunk pc;
		mv_heap_chunk(h, b->parent[i], &pc);
		hp->from = (struct mv_ref){.kind = MV_REF_HEAP,
					   .holder = pc.mem + b->offset[i],
					   .in_chunk = true, .chunk = pc,
					   .reg = -1};
		uint64_t v = 0;
		mv_target_read_partial(t, hp->from.holder, &v, 8);
		hp->from.value = v;
	}
	*ret = hops;
	*nret = len;
	return NULL;
}

struct mv_error *mv_graph_path_to_max(struct mv_program *p, struct mv_heap *h,
				      uint64_t target, uint64_t max_objects,
				      struct mv_path_hop **ret, size_t *nret,
				      uint64_t *visited, bool *hit_max,
				      struct mv_notes *skipped,
				      mv_walk_poll_fn poll, void *poll_arg)
{
	*ret = NULL;
	*nret = 0;
	if (visited)
		*visited = 0;
	if (hit_max)
		*hit_max = false;
	size_t n = mv_heap_chunk_count(h);
	struct bfs b = {.h = h};
	const char *limit = mv_heap_limit_note(h);
	if (!in_use(h, target, &b.target) && limit)
		return mv_error_create(MV_ERR_LIMIT,
				       "0x%llx is in no in-use heap chunk "
				       "indexed: %s", (unsigned long long)target,
				       limit);
	if (!in_use(h, target, &b.target))
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "0x%llx is not inside an in-use heap "
				       "chunk: path-to answers for heap "
				       "objects", (unsigned long long)target);
	if (n >= FROM_ROOT)
		return mv_error_create(MV_ERR_LIMIT, "too many chunks");
	b.parent = mv_big_realloc(NULL, n, sizeof(*b.parent));
	b.offset = mv_big_realloc(NULL, n, sizeof(*b.offset));
	b.queue = mv_big_realloc(NULL, n, sizeof(*b.queue));
	struct words ws = {.t = mv_program_target(p), .poll = poll,
			   .poll_arg = poll_arg, .skipped = skipped};
	ws.buf = malloc(SCAN_WINDOW);
	struct mv_error *err = NULL;
	if (!b.parent || !b.offset || !b.queue || !ws.buf) {
		err = mv_enomem;
		goto out;
	}
	memset(b.parent, 0xff, n * sizeof(*b.parent));
	/* Level 0: every root word that points into a chunk.  A lower
	 * bound filter keeps it cheap: words outside the heap's span are
	 * not looked up. */
	struct mv_chunk first, last;
	mv_heap_chunk(h, 0, &first);
	mv_heap_chunk(h, n - 1, &last);
	uint64_t lo = first.start, hi = last.start + last.size;
	struct mv_block_span span = {0};
	scan_roots(&ws, p, h, lo, hi, root_found, &b);
	err = ws.err ? ws.err : b.err;
	/* Memory: 4 bytes a chunk for parent (written up front), 8 more
	 * for each chunk reached (offset, queue); the index bounds both. */
	while (!err && !b.found && b.qhead < b.qtail) {
		if (max_objects && b.qhead >= max_objects) {
			if (hit_max)
				*hit_max = true;
			break;
		}
		if (poll && (b.qhead & 4095) == 4095 &&
		    (err = poll(poll_arg)))
			break;
		uint32_t i = b.queue[b.qhead++];
		struct mv_chunk ch;
		mv_heap_chunk(h, i, &ch);
		b.cur = i;
		b.cur_mem = ch.mem;
		struct mv_ref tmpl = {.kind = MV_REF_HEAP, .in_chunk = true,
				      .chunk = ch, .reg = -1};
		ws.stop = false;
		scan_block(&ws, h, &span, &ch, lo, hi, &tmpl, child_found, &b);
		err = ws.err ? ws.err : b.err;
	}
	if (visited)
		*visited = b.qhead;
	if (!err && b.found)
		err = make_path(&b, ws.t, ret, nret);
out:
	mv_big_free(b.parent);
	mv_big_free(b.offset);
	mv_big_free(b.queue);
	free(b.roots);
	free(ws.buf);
	return err;
}

struct mv_error *mv_graph_path_to(struct mv_program *p, struct mv_heap *h,
				  uint64_t target, struct mv_path_hop **ret,
				  size_t *nret, mv_walk_poll_fn poll,
				  void *poll_arg)
{
	return mv_graph_path_to_max(p, h, target, 0, ret, nret, NULL, NULL,
				    NULL, poll, poll_arg);
}

/* ---- path-to over the reverse index: backwards from the target ---- */

/* A root word holding a chunk, in the order the roots were scanned. */
struct held {
	uint32_t chunk;
	uint32_t order;
};

struct back {
	struct mv_heap *h;
	const struct mv_edge_filter *filter; /* NULL: every word */
	struct mv_ref *roots;   /* the first root word holding each chunk */
	struct held *held;      /* sorted by chunk once the scan is done */
	size_t nheld, cap;
	struct mv_error *err;
};

static bool root_held(void *arg, const struct mv_ref *ref)
{
	struct back *b = arg;
	size_t i;
	bool ok = true;
	if (!in_use(b->h, ref->value, &i))
		return true;
	if (b->filter &&
	    ((b->err = b->filter->accept(b->filter->arg, ref, SIZE_MAX, i,
					 &ok)) || !ok))
		return !b->err;
	if (b->nheld == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct held *n = realloc(b->held, cap * sizeof(*n));
		struct mv_ref *r = realloc(b->roots, cap * sizeof(*r));
		if (n)
			b->held = n;
		if (r)
			b->roots = r;
		if (!n || !r) {
			b->err = mv_enomem;
			return false;
		}
		b->cap = cap;
	}
	b->roots[b->nheld] = *ref;
	b->held[b->nheld] = (struct held){(uint32_t)i, (uint32_t)b->nheld};
	b->nheld++;
	return true;
}

static int held_cmp(const void *x, const void *y)
{
	const struct held *a = x, *b = y;
	if (a->chunk != b->chunk)
		return a->chunk < b->chunk ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* The order of the first root word holding chunk i, or UINT32_MAX. */
static uint32_t held_order(const struct back *b, uint32_t i)
{
	size_t lo = 0, hi = b->nheld;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->held[mid].chunk < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->nheld && b->held[lo].chunk == i ? b->held[lo].order
						     : UINT32_MAX;
}

struct first_word {
	struct mv_heap *h;
	const struct mv_edge_filter *filter;
	struct mv_error *err;
	size_t want;
	uint64_t holder, value;
	bool found;
};

static bool first_word_cb(void *arg, const struct mv_ref *ref)
{
	struct first_word *f = arg;
	size_t i;
	bool ok = true;
	if (!in_use(f->h, ref->value, &i) || i != f->want)
		return true;
	if (f->filter &&
	    ((f->err = f->filter->accept(f->filter->arg, ref, SIZE_MAX, i,
					 &ok)) || !ok))
		return !f->err;
	f->holder = ref->holder;
	f->value = ref->value;
	f->found = true;
	return false;
}

/* A chunk the backward search reached, and the queue position of the
 * chunk it holds a word into (the next hop towards the target). */
struct reached {
	uint32_t chunk;
	uint32_t next;
};

/* The hops from the chunk at queue position `from` (held by root r)
 * along the queue's next positions to the target (position 0): each
 * hop's holder is the first word of its chunk pointing into the next,
 * as the forward search would take it. */
static struct mv_error *back_path(struct mv_heap *h, struct mv_target *t,
				  const struct mv_edge_filter *filter,
				  const struct mv_ref *r, uint32_t from,
				  const struct reached *q,
				  struct mv_path_hop **ret, size_t *nret)
{
	size_t len = 1;
	for (uint32_t k = from; k; k = q[k].next)
		len++;
	struct mv_path_hop *hops = calloc(len, sizeof(*hops));
	uint8_t *buf = malloc(SCAN_WINDOW);
	if (!hops || !buf) {
		free(hops);
		free(buf);
		return mv_enomem;
	}
	struct mv_chunk ch;
	mv_heap_chunk(h, q[from].chunk, &ch);
	hops[0].from = *r;
	hops[0].next_mem = ch.mem;
	struct words ws = {.t = t, .buf = buf};
	uint32_t k = from;
	for (size_t hop = 1; hop < len; hop++, k = q[k].next) {
		struct mv_chunk pc, nc;
		uint32_t next = q[q[k].next].chunk;
		mv_heap_chunk(h, q[k].chunk, &pc);
		mv_heap_chunk(h, next, &nc);
		struct first_word f = {.h = h, .filter = filter, .want = next};
		struct mv_ref tmpl = {.kind = MV_REF_HEAP, .in_chunk = true,
				      .chunk = pc, .reg = -1};
		ws.stop = false;
		/* A word at the next chunk's first 8 bytes may still be
		 * this one's (in_use decides, as in the search). */
		scan_range(&ws, pc.mem, pc.mem + pc.usable, nc.start,
			   nc.start + nc.size + 16, &tmpl, first_word_cb, &f);
		if (ws.err || f.err) {
			struct mv_error *err = ws.err ? ws.err : f.err;
			free(hops);
			free(buf);
			return err;
		}
		hops[hop].from = tmpl;
		hops[hop].from.holder = f.holder;
		hops[hop].from.value = f.value;
		hops[hop].next_mem = nc.mem;
	}
	free(buf);
	*ret = hops;
	*nret = len;
	return NULL;
}

/* The backward search's state: a bit a chunk for the chunks reached,
 * and the reached ones in the order met (memory for what the search
 * visits, not for the heap: 8 bytes each). */
struct back_queue {
	uint64_t *seen;
	struct reached *q;
	size_t n, cap;
};

static bool back_push(struct back_queue *bq, uint32_t chunk, uint32_t next)
{
	if (bq->n == bq->cap) {
		size_t cap = bq->cap ? bq->cap * 2 : 4096;
		struct reached *q = mv_big_realloc(bq->q, cap, sizeof(*q));
		if (!q)
			return false;
		bq->q = q;
		bq->cap = cap;
	}
	bq->seen[chunk / 64] |= 1ull << (chunk % 64);
	bq->q[bq->n++] = (struct reached){chunk, next};
	return true;
}

/* Level by level backwards from the target through its holders; the
 * first level holding a chunk that a root holds gives the shortest
 * chains, and of those the one whose root word was scanned first.
 * *best is the queue position of that chunk, or UINT32_MAX. */
static struct mv_error *back_search(struct back *b,
				    const struct mv_refindex *ri,
				    uint32_t target, uint64_t max_objects,
				    struct back_queue *bq, uint32_t *best,
				    uint64_t *visited, bool *hit_max,
				    mv_walk_poll_fn poll, void *poll_arg)
{
	size_t qhead = 0;
	if (!back_push(bq, target, 0))
		return mv_enomem;
	*best = held_order(b, target) != UINT32_MAX ? 0 : UINT32_MAX;
	while (*best == UINT32_MAX && qhead < bq->n) {
		size_t level_end = bq->n;
		uint32_t best_order = UINT32_MAX;
		for (; qhead < level_end; qhead++) {
			if (poll && (qhead & 4095) == 4095) {
				struct mv_error *err = poll(poll_arg);
				if (err)
					return err;
			}
			size_t nh;
			uint32_t one;
			const uint32_t *hs = mv_refindex_holders(
				ri, bq->q[qhead].chunk, &one, &nh);
			for (size_t k = 0; k < nh; k++) {
				uint32_t y = hs[k];
				bool ok = true;
				struct mv_error *ferr;
				if (bq->seen[y / 64] & (1ull << (y % 64)))
					continue;
				if (b->filter &&
				    ((ferr = b->filter->accept(
					      b->filter->arg, NULL, y,
					      bq->q[qhead].chunk, &ok)) ||
				     !ok)) {
					if (ferr)
						return ferr;
					continue;
				}
				if (max_objects && bq->n >= max_objects) {
					*hit_max = true;
					*visited = bq->n;
					return NULL;
				}
				if (!back_push(bq, y, (uint32_t)qhead))
					return mv_enomem;
				uint32_t o = held_order(b, y);
				if (o < best_order) {
					best_order = o;
					*best = (uint32_t)(bq->n - 1);
				}
			}
		}
	}
	*visited = bq->n;
	return NULL;
}

struct mv_error *mv_graph_path_to_index(struct mv_program *p,
					struct mv_refindex *ri,
					const struct mv_edge_filter *filter,
					uint64_t target, uint64_t max_objects,
					struct mv_path_hop **ret, size_t *nret,
					uint64_t *visited, bool *hit_max,
					struct mv_notes *skipped,
					mv_walk_poll_fn poll, void *poll_arg)
{
	struct mv_heap *h = mv_refindex_heap(ri);
	*ret = NULL;
	*nret = 0;
	uint64_t seen = 0;
	bool cut = false;
	size_t n = mv_heap_chunk_count(h), ti;
	const char *limit = mv_heap_limit_note(h);
	if (!in_use(h, target, &ti))
		return limit ? mv_error_create(MV_ERR_LIMIT,
					       "0x%llx is in no in-use heap "
					       "chunk indexed: %s",
					       (unsigned long long)target,
					       limit)
			     : mv_error_create(MV_ERR_NOT_FOUND,
					       "0x%llx is not inside an in-use "
					       "heap chunk: path-to answers "
					       "for heap objects",
					       (unsigned long long)target);
	struct back b = {.h = h, .filter = filter};
	struct words ws = {.t = mv_program_target(p), .poll = poll,
			   .poll_arg = poll_arg, .skipped = skipped};
	struct back_queue bq = {
		.seen = mv_big_calloc((n + 63) / 64, sizeof(*bq.seen))};
	ws.buf = malloc(SCAN_WINDOW);
	struct mv_error *err = NULL;
	if (!bq.seen || !ws.buf) {
		err = mv_enomem;
		goto out;
	}
	struct mv_chunk first, last;
	mv_heap_chunk(h, 0, &first);
	mv_heap_chunk(h, n - 1, &last);
	scan_roots(&ws, p, h, first.start, last.start + last.size,
		   root_held, &b);
	if ((err = ws.err ? ws.err : b.err))
		goto out;
	qsort(b.held, b.nheld, sizeof(*b.held), held_cmp);
	/* Keep each chunk's first root word only. */
	size_t out = 0;
	for (size_t i = 0; i < b.nheld; i++)
		if (!out || b.held[out - 1].chunk != b.held[i].chunk)
			b.held[out++] = b.held[i];
	b.nheld = out;
	uint32_t best = UINT32_MAX;
	if ((err = back_search(&b, ri, (uint32_t)ti, max_objects, &bq, &best,
			       &seen, &cut, poll, poll_arg)))
		goto out;
	if (!cut && best != UINT32_MAX)
		err = back_path(h, ws.t, filter,
				&b.roots[held_order(&b, bq.q[best].chunk)],
				best, bq.q, ret, nret);
out:
	if (visited)
		*visited = seen;
	if (hit_max)
		*hit_max = cut;
	mv_big_free(bq.seen);
	mv_big_free(bq.q);
	free(b.held);
	free(b.roots);
	free(ws.buf);
	return err;
}
