/* svg_flame.c - sizeof-deep --svg: an icicle chart (a flame graph upside
 * down) of the deep size.
 *
 * The walk keeps one parent per object, the object that reached it
 * first, so the chart is of that spanning tree: an object reached by
 * several paths is drawn once, under its first parent, and the <desc>
 * says so.  Widths are subtree sums of type bytes (sum of sizeof, as
 * the report's deep size), so a parent is never narrower than its
 * children together.
 *
 * Layout is breadth first over an array of at most MV_FLAME_MAX_RECTS
 * cells: no recursion over target data, and the shallow levels, which
 * hold most of the bytes, get the budget first.  A parent's children are
 * drawn biggest first; the rest (out of budget or narrower than a pixel)
 * become one "... N more" cell that is not expanded.
 *
 * A chain of objects of one type, each the only child of the one before
 * through the same field (a linked list's .next), is one cell, "next ×
 * N", whatever its length: the chart then shows what hangs below its
 * end instead of 64 rows of the same node.  Cells say their bytes in
 * text where they have room, and the widest are listed under the chart,
 * so that a PNG without hover still tells where the bytes are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_flame.h"

#define ROW 18          /* px per level */
#define TOP 44          /* px above the root: the heading */
#define CHAR_W 7.0      /* px per character of 11 px monospace, about */
#define MIN_W 1.0       /* cells narrower than this are not drawn */
#define LEGEND 8        /* widest cells listed under the chart */

struct cell {
	uint32_t obj;       /* the object; for merged cells, its parent */
	uint32_t last;      /* a run's last object (else obj) */
	uint32_t run;       /* objects in the run (1: a single object) */
	uint32_t depth;
	uint32_t more;      /* 0: one object; else objects merged */
	double x, w;
	uint64_t bytes, objects;
};

struct kid {
	uint64_t bytes;
	uint32_t idx;
};

static int kid_cmp(const void *a, const void *b)
{
	const struct kid *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Only the five characters XML gives a meaning to; s is printable
 * already.  U+FFFE and U+FFFF are valid UTF-8 but not XML characters. */
static void xml_text(struct mv_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&': mv_buf_puts(b, "&amp;"); continue;
		case '<': mv_buf_puts(b, "&lt;"); continue;
		case '>': mv_buf_puts(b, "&gt;"); continue;
		case '"': mv_buf_puts(b, "&quot;"); continue;
		case '\'': mv_buf_puts(b, "&apos;"); continue;
		default: break;
		}
		if (c == 0xef && i + 2 < len && (unsigned char)s[i + 1] == 0xbf &&
		    ((unsigned char)s[i + 2] & 0xfe) == 0xbe) {
			mv_buf_printf(b, "\\u{%x}",
				      0xfffeu | ((unsigned char)s[i + 2] & 1));
			i += 2;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			/* Not reached after mv_buf_escape; kept so that this
			 * function alone never writes a control byte. */
			mv_buf_printf(b, "\\x%02x", c);
			continue;
		}
		mv_buf_putc(b, (char)c);
	}
}

void mv_svg_escape(struct mv_buf *b, const char *s, size_t len)
{
	struct mv_buf t;
	mv_buf_init(&t);
	mv_buf_escape(&t, s, len, 0);
	if (t.oom)
		b->oom = true;
	else
		xml_text(b, t.data ? t.data : "", t.len);
	mv_buf_deinit(&t);
}

/* Escaped s, clipped to at most max characters (code points) with a
 * trailing "…" when clipped: the label must fit its cell. */
static void clipped_text(struct mv_buf *b, const char *s, size_t max)
{
	if (!max)
		return;
	struct mv_buf t;
	mv_buf_init(&t);
	mv_buf_escape(&t, s, strlen(s), 0);
	if (t.oom) {
		b->oom = true;
		mv_buf_deinit(&t);
		return;
	}
	const char *p = t.data ? t.data : "";
	size_t chars = 0, cut = t.len;
	for (size_t i = 0; i < t.len; i++) {
		if (((unsigned char)p[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1 && cut == t.len)
			cut = i; /* room for the ellipsis */
		if (++chars > max)
			break;
	}
	if (chars <= max)
		cut = t.len;
	xml_text(b, p, cut);
	if (cut < t.len)
		mv_buf_puts(b, "\xe2\x80\xa6");
	mv_buf_deinit(&t);
}

static void grouped(struct mv_buf *b, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			mv_buf_putc(b, ',');
		mv_buf_putc(b, tmp[i]);
	}
}

/* A stable colour per type name: FNV-1a to a hue, pastel enough for
 * black text. */
static void type_colour(const char *name, char out[8])
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	double hue = (double)(h % 360u) / 60.0;
	double s = 0.62, l = 0.74;
	double c = (1.0 - (2.0 * l - 1.0 < 0 ? 1.0 - 2.0 * l : 2.0 * l - 1.0))
		   * s;
	double hm = hue - 2.0 * (double)(int)(hue / 2.0);
	double x = c * (1.0 - (hm - 1.0 < 0 ? 1.0 - hm : hm - 1.0));
	double r = 0, g = 0, bl = 0;
	switch ((int)hue) {
	case 0: r = c; g = x; break;
	case 1: r = x; g = c; break;
	case 2: g = c; bl = x; break;
	case 3: g = x; bl = c; break;
	case 4: r = x; bl = c; break;
	default: r = c; bl = x; break;
	}
	double m = l - c / 2.0;
	snprintf(out, 8, "#%02x%02x%02x", (unsigned)((r + m) * 255.0 + 0.5),
		 (unsigned)((g + m) * 255.0 + 0.5),
		 (unsigned)((bl + m) * 255.0 + 0.5));
}

/* Children lists of the discovery tree, in CSR form: the kids of p are
 * kid[first[p] .. first[p + 1]). */
static bool children(struct mv_walk *w, uint32_t **first_ret,
		     uint32_t **kid_ret)
{
	size_t n = w->nobjs;
	uint32_t *first = calloc(n + 1, sizeof(*first));
	uint32_t *kid = malloc((n ? n : 1) * sizeof(*kid));
	if (!first || !kid) {
		free(first);
		free(kid);
		return false;
	}
	for (size_t i = 1; i < n; i++)
		if (w->objs[i].parent < i)
			first[w->objs[i].parent]++;
	uint32_t sum = 0;
	for (size_t i = 0; i <= n; i++) {
		sum += first[i];
		first[i] = sum;
	}
	for (size_t i = n; i-- > 1;)
		if (w->objs[i].parent < i)
			kid[--first[w->objs[i].parent]] = (uint32_t)i;
	*first_ret = first;
	*kid_ret = kid;
	return true;
}

/* The run from object i: while the only child of the run's last object
 * has i's type and is reached through the field that reached i, it
 * joins.  Returns the last object; *len the objects in the run.  One
 * pass along the chain, a label each (the parent's fields scanned). */
static uint32_t run_from(struct mv_walk *w, uint32_t i, const uint32_t *first,
			 const uint32_t *kid, struct mv_buf *a,
			 struct mv_buf *b, uint32_t *len)
{
	*len = 1;
	if (!i || first[i + 1] - first[i] != 1)
		return i;
	uint32_t plan = w->objs[i].plan;
	mv_buf_clear(a);
	mv_walk_label(w, i, a);
	uint32_t last = i;
	while (first[last + 1] - first[last] == 1) {
		uint32_t k = kid[first[last]];
		if (w->objs[k].plan != plan)
			break;
		mv_buf_clear(b);
		mv_walk_label(w, k, b);
		if (a->len != b->len ||
		    memcmp(a->data ? a->data : "", b->data ? b->data : "",
			   a->len))
			break;
		last = k;
		++*len;
	}
	return last;
}

/* Lays out the cells of obj's children below c; returns the new count. */
static size_t place_children(struct mv_walk *w, const struct cell *c,
			     const uint32_t *first, const uint32_t *kid,
			     const uint64_t *sub, const uint64_t *cnt,
			     double scale, struct kid *tmp, struct cell *cells,
			     size_t n, struct mv_buf *la, struct mv_buf *lb)
{
	uint32_t o = c->last;
	size_t nk = first[o + 1] - first[o];
	if (!nk)
		return n;
	for (size_t k = 0; k < nk; k++) {
		uint32_t i = kid[first[o] + k];
		tmp[k] = (struct kid){sub[i], i};
	}
	qsort(tmp, nk, sizeof(*tmp), kid_cmp);
	double x = c->x;
	size_t k = 0;
	for (; k < nk; k++) {
		double cw = (double)tmp[k].bytes * scale;
		/* One slot stays free for this parent's "... N more". */
		if (cw < MIN_W || n + 1 >= MV_FLAME_MAX_RECTS)
			break;
		uint32_t len;
		uint32_t last = run_from(w, tmp[k].idx, first, kid, la, lb,
					 &len);
		cells[n++] = (struct cell){tmp[k].idx, last, len, c->depth + 1,
					   0, x, cw, tmp[k].bytes,
					   cnt[tmp[k].idx]};
		x += cw;
	}
	if (k == nk || n >= MV_FLAME_MAX_RECTS)
		return n;
	uint64_t bytes = 0, objects = 0;
	for (size_t r = k; r < nk; r++) {
		bytes += tmp[r].bytes;
		objects += cnt[tmp[r].idx];
	}
	double cw = (double)bytes * scale;
	if (cw >= MIN_W)
		cells[n++] = (struct cell){o, o, 1, c->depth + 1,
					   (uint32_t)(nk - k), x, cw, bytes,
					   objects};
	return n;
}

/* 1.5 KB, 12.3 MB: short enough for a cell. */
static void human_bytes(struct mv_buf *b, uint64_t v)
{
	static const char *const unit[] = {"B", "KB", "MB", "GB", "TB"};
	double d = (double)v;
	int u = 0;
	while (d >= 1000.0 && u < 4) {
		d /= 1000.0;
		u++;
	}
	if (u == 0)
		mv_buf_printf(b, "%llu B", (unsigned long long)v);
	else
		mv_buf_printf(b, "%.*f %s", d < 10.0 ? 1 : 0, d, unit[u]);
}

/* A cell's words: "... N more", "root: type", "*: type", ".next: type"
 * or, for a run, ".next × N: type". */
static void cell_label(struct mv_walk *w, const char *root,
		       const struct cell *c, struct mv_buf *lab)
{
	mv_buf_clear(lab);
	if (c->more) {
		mv_buf_printf(lab, "... %u more", c->more);
		return;
	}
	const char *type = mv_walk_plan_name(w, w->objs[c->obj].plan);
	if (c->obj == 0) {
		mv_buf_printf(lab, "%s: %s", root, type);
		return;
	}
	mv_walk_label(w, c->obj, lab);
	/* An empty label: the object a pointer points to. */
	if (!lab->len)
		mv_buf_putc(lab, '*');
	if (c->run > 1) {
		mv_buf_puts(lab, " \xc3\x97 ");
		mv_buf_printf(lab, "%u", c->run);
	}
	mv_buf_printf(lab, ": %s", type);
}

static void emit_cell(struct mv_walk *w, const char *root,
		      const struct cell *c, uint64_t total, struct mv_buf *lab,
		      struct mv_buf *out)
{
	const char *type =
		c->more ? "" : mv_walk_plan_name(w, w->objs[c->obj].plan);
	char fill[8];
	if (c->more)
		snprintf(fill, sizeof(fill), "#c8c8c8");
	else
		type_colour(type, fill);
	cell_label(w, root, c, lab);
	mv_buf_puts(out, "<g class=\"cell\"><title>");
	mv_svg_escape(out, lab->data ? lab->data : "", lab->len);
	if (!c->more)
		mv_buf_printf(out, " @0x%llx",
			      (unsigned long long)w->objs[c->obj].addr);
	mv_buf_puts(out, ": ");
	grouped(out, c->bytes);
	mv_buf_puts(out, " bytes deep, ");
	grouped(out, c->objects);
	mv_buf_printf(out, " object%s (%.1f%%)</title>",
		      c->objects == 1 ? "" : "s",
		      total ? 100.0 * (double)c->bytes / (double)total : 0.0);
	double y = TOP + (double)c->depth * ROW;
	mv_buf_printf(out, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" "
			   "height=\"%d\" fill=\"%s\" stroke=\"#ffffff\" "
			   "stroke-width=\"0.5\"/>",
		      c->x, y, c->w, ROW - 1, fill);
	double room = (c->w - 6.0) / CHAR_W;
	if (room >= 3.0) {
		/* The bytes too, where the cell has room for them whole. */
		size_t words = lab->len;
		mv_buf_puts(lab, "  ");
		human_bytes(lab, c->bytes);
		if ((double)lab->len > room)
			lab->len = words;
		mv_buf_printf(out, "<text x=\"%.2f\" y=\"%.0f\">", c->x + 3.0,
			      y + ROW - 5);
		clipped_text(out, lab->data ? lab->data : "", (size_t)room);
		mv_buf_puts(out, "</text>");
	}
	mv_buf_puts(out, "</g>\n");
}

static int cell_wider(const void *x, const void *y, void *arg)
{
	const struct cell *cells = arg;
	const struct cell *a = &cells[*(const size_t *)x];
	const struct cell *b = &cells[*(const size_t *)y];
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->depth < b->depth ? -1 : a->depth > b->depth;
}

/* The widest cells below the root, in words, under the chart: what a
 * reader of a PNG cannot hover for. */
static unsigned emit_legend(struct mv_walk *w, const char *root,
			    const struct cell *cells, size_t nc,
			    uint64_t total, unsigned y, struct mv_buf *lab,
			    struct mv_buf *out)
{
	size_t idx[LEGEND + 1], n = 0;
	/* A small selection: LEGEND passes over the cells. */
	for (size_t i = 1; i < nc; i++) {
		if (cells[i].more)
			continue;
		if (n < LEGEND)
			idx[n++] = i;
		else if (cells[i].bytes > cells[idx[n - 1]].bytes)
			idx[n - 1] = i;
		else
			continue;
		qsort_r(idx, n, sizeof(*idx), cell_wider, (void *)cells);
	}
	if (!n)
		return y;
	mv_buf_printf(out, "<text x=\"4\" y=\"%u\" font-size=\"12\">"
			   "widest cells:</text>\n", y);
	for (size_t k = 0; k < n; k++) {
		const struct cell *c = &cells[idx[k]];
		y += 16;
		cell_label(w, root, c, lab);
		mv_buf_printf(out, "<text x=\"12\" y=\"%u\">", y);
		clipped_text(out, lab->data ? lab->data : "", 90);
		mv_buf_puts(out, " \xe2\x80\x94 ");
		grouped(out, c->bytes);
		mv_buf_puts(out, " bytes (");
		mv_buf_printf(out, "%.1f%%), ",
			      total ? 100.0 * (double)c->bytes / (double)total
				    : 0.0);
		grouped(out, c->objects);
		mv_buf_printf(out, " object%s, depth %u</text>\n",
			      c->objects == 1 ? "" : "s", c->depth);
	}
	return y;
}

struct mv_error *mv_flame_render(struct mv_walk *w, const char *root,
				 struct mv_buf *out,
				 struct mv_flame_stats *stats)
{
	size_t n = w->nobjs;
	memset(stats, 0, sizeof(*stats));
	if (!n)
		return mv_error_create(MV_ERR_INVALID,
				       "nothing was walked: no chart to draw");
	uint64_t *sub = malloc(n * sizeof(*sub));
	uint64_t *cnt = malloc(n * sizeof(*cnt));
	struct kid *tmp = malloc(n * sizeof(*tmp));
	struct cell *cells = malloc(MV_FLAME_MAX_RECTS * sizeof(*cells));
	uint32_t *first = NULL, *kid = NULL;
	struct mv_buf lab;
	mv_buf_init(&lab);
	if (!sub || !cnt || !tmp || !cells || !children(w, &first, &kid)) {
		free(sub);
		free(cnt);
		free(tmp);
		free(cells);
		return mv_enomem;
	}
	/* Type bytes, not mv_walk_subtree_bytes()'s chunk bytes: the root
	 * cell then says the deep size the report says.  Parents come
	 * before their children: one backward pass. */
	for (size_t i = 0; i < n; i++) {
		sub[i] = mv_walk_type_bytes(w, i);
		cnt[i] = 1;
	}
	for (size_t i = n; i-- > 1;)
		if (w->objs[i].parent < i) {
			sub[w->objs[i].parent] += sub[i];
			cnt[w->objs[i].parent] += cnt[i];
		}

	double width = MV_FLAME_WIDTH;
	double scale = sub[0] ? width / (double)sub[0] : 0.0;
	size_t nc = 0;
	cells[nc++] = (struct cell){0, 0, 1, 0, 0, 0.0, width, sub[0], cnt[0]};
	struct mv_buf lb;
	mv_buf_init(&lb);
	/* The array is the queue: cells are expanded in the order they
	 * were placed, so level by level. */
	for (size_t q = 0; q < nc && nc < MV_FLAME_MAX_RECTS; q++) {
		if (cells[q].more || cells[q].depth + 1 >= MV_FLAME_MAX_DEPTH)
			continue;
		nc = place_children(w, &cells[q], first, kid, sub, cnt, scale,
				    tmp, cells, nc, &lab, &lb);
	}
	if (lb.oom)
		lab.oom = true;
	mv_buf_deinit(&lb);
	uint32_t depth = 0;
	uint64_t singles = 0;
	for (size_t i = 0; i < nc; i++) {
		if (cells[i].depth > depth)
			depth = cells[i].depth;
		if (cells[i].more)
			stats->merged++;
		else
			singles += cells[i].run;
		if (cells[i].run > 1)
			stats->runs++;
	}
	stats->rects = nc;
	stats->not_drawn = n - singles;
	size_t nlegend = 0;
	for (size_t i = 1; i < nc && nlegend < LEGEND; i++)
		nlegend += !cells[i].more;

	bool partial = w->hit_max_objects || w->hit_max_depth ||
		       w->interrupted;
	unsigned chart = TOP + (depth + 1) * ROW;
	unsigned height = chart + 26 + (nlegend ? 24 + 16 * (unsigned)nlegend
						: 0);
	mv_buf_printf(out,
		      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" "
		      "width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		      "font-family=\"DejaVu Sans Mono, monospace\" "
		      "font-size=\"11\">\n<title>sizeof-deep ",
		      MV_FLAME_WIDTH, height, MV_FLAME_WIDTH, height);
	mv_svg_escape(out, root, strlen(root));
	mv_buf_puts(out, "</title>\n<desc>Icicle chart of the deep size of ");
	mv_svg_escape(out, root, strlen(root));
	mv_buf_printf(out,
		      ": widths are type bytes (sum of sizeof) of each object "
		      "and everything below it. The walk keeps the object "
		      "that reached each object first, so this is that "
		      "spanning tree: an object reached by several paths is "
		      "drawn once, under its first parent. A chain of "
		      "objects of one type, each the only child of the one "
		      "before through the same field, is one cell "
		      "('.next \xc3\x97 N'). At most %u cells "
		      "and %u levels; cells under 1 px are not drawn; the "
		      "rest of a parent's children are merged into one "
		      "'... N more' cell.%s</desc>\n",
		      MV_FLAME_MAX_RECTS, MV_FLAME_MAX_DEPTH,
		      partial ? " The walk stopped at a limit: the sizes "
				"are partial." : "");
	mv_buf_printf(out, "<rect class=\"background\" x=\"0\" y=\"0\" "
			   "width=\"100%%\" height=\"100%%\" "
			   "fill=\"#fcfcfa\"/>\n");
	mv_buf_puts(out, "<text x=\"4\" y=\"17\" font-size=\"14\">"
			 "sizeof-deep ");
	clipped_text(out, root, 60);
	mv_buf_puts(out, ": ");
	grouped(out, sub[0]);
	mv_buf_puts(out, " bytes deep in ");
	grouped(out, cnt[0]);
	mv_buf_printf(out, " objects%s</text>\n"
			   "<text x=\"4\" y=\"34\" fill=\"#555555\">width: "
			   "bytes; colour: type; each object under the first "
			   "object that reached it; '\xc3\x97 N': a chain of N "
			   "through one field; hover for more</text>\n",
		      partial ? " [PARTIAL]" : "");
	for (size_t i = 0; i < nc; i++)
		emit_cell(w, root, &cells[i], sub[0], &lab, out);
	unsigned y = chart + 18;
	if (stats->not_drawn)
		mv_buf_printf(out, "<text x=\"4\" y=\"%u\" fill=\"#555555\">"
				   "%llu objects have no cell of their own "
				   "(merged, under 1 px, past %u cells or %u "
				   "levels)</text>\n",
			      y, (unsigned long long)stats->not_drawn,
			      MV_FLAME_MAX_RECTS, MV_FLAME_MAX_DEPTH);
	emit_legend(w, root, cells, nc, sub[0], y + 24, &lab, out);
	mv_buf_puts(out, "</svg>\n");
	struct mv_error *err = lab.oom ? mv_enomem : mv_buf_error(out);
	mv_buf_deinit(&lab);
	free(sub);
	free(cnt);
	free(tmp);
	free(cells);
	free(first);
	free(kid);
	return err;
}
