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
 * become one "... N more" cell that is not expanded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_flame.h"

#define ROW 18          /* px per level */
#define TOP 44          /* px above the root: the heading */
#define CHAR_W 7.0      /* px per character of 11 px monospace, about */
#define MIN_W 1.0       /* cells narrower than this are not drawn */

struct cell {
	uint32_t obj;       /* the object; for merged cells, its parent */
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

/* Lays out the cells of obj's children below c; returns the new count. */
static size_t place_children(const struct cell *c, const uint32_t *first,
			     const uint32_t *kid, const uint64_t *sub,
			     const uint64_t *cnt, double scale,
			     struct kid *tmp, struct cell *cells, size_t n)
{
	uint32_t o = c->obj;
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
		cells[n++] = (struct cell){tmp[k].idx, c->depth + 1, 0, x, cw,
					   tmp[k].bytes, cnt[tmp[k].idx]};
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
		cells[n++] = (struct cell){o, c->depth + 1, (uint32_t)(nk - k),
					   x, cw, bytes, objects};
	return n;
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
	mv_buf_clear(lab);
	if (c->more) {
		mv_buf_printf(lab, "... %u more", c->more);
	} else if (c->obj == 0) {
		mv_buf_printf(lab, "%s: %s", root, type);
	} else {
		mv_walk_label(w, c->obj, lab);
		/* An empty label: the object a pointer points to. */
		mv_buf_printf(lab, "%s: %s", lab->len ? "" : "*", type);
	}
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
		mv_buf_printf(out, "<text x=\"%.2f\" y=\"%.0f\">", c->x + 3.0,
			      y + ROW - 5);
		clipped_text(out, lab->data ? lab->data : "", (size_t)room);
		mv_buf_puts(out, "</text>");
	}
	mv_buf_puts(out, "</g>\n");
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
	cells[nc++] = (struct cell){0, 0, 0, 0.0, width, sub[0], cnt[0]};
	/* The array is the queue: cells are expanded in the order they
	 * were placed, so level by level. */
	for (size_t q = 0; q < nc && nc < MV_FLAME_MAX_RECTS; q++) {
		if (cells[q].more || cells[q].depth + 1 >= MV_FLAME_MAX_DEPTH)
			continue;
		nc = place_children(&cells[q], first, kid, sub, cnt, scale,
				    tmp, cells, nc);
	}
	uint32_t depth = 0;
	size_t singles = 0;
	for (size_t i = 0; i < nc; i++) {
		if (cells[i].depth > depth)
			depth = cells[i].depth;
		if (cells[i].more)
			stats->merged++;
		else
			singles++;
	}
	stats->rects = nc;
	stats->not_drawn = n - singles;

	bool partial = w->hit_max_objects || w->hit_max_depth ||
		       w->interrupted;
	unsigned height = TOP + (depth + 1) * ROW + 26;
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
		      "drawn once, under its first parent. At most %u cells "
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
			   "bytes; colour: type; hover for the numbers; each "
			   "object under the first object that reached it"
			   "</text>\n",
		      partial ? " [PARTIAL]" : "");
	for (size_t i = 0; i < nc; i++)
		emit_cell(w, root, &cells[i], sub[0], &lab, out);
	if (stats->not_drawn)
		mv_buf_printf(out, "<text x=\"4\" y=\"%u\" fill=\"#555555\">"
				   "%llu objects have no cell of their own "
				   "(merged, under 1 px, past %u cells or %u "
				   "levels)</text>\n",
			      height - 8, (unsigned long long)stats->not_drawn,
			      MV_FLAME_MAX_RECTS, MV_FLAME_MAX_DEPTH);
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
