/* svg_flame.h - sizeof-deep --svg: an icicle chart of where the deep
 * size goes, drawn from a finished walk (walk.h). */
#ifndef MV_SVG_FLAME_H
#define MV_SVG_FLAME_H

#include "buf.h"
#include "walk.h"

/* Bounds: an SVG a browser opens at once, whatever the walk found. */
#define MV_FLAME_MAX_RECTS 2000u
#define MV_FLAME_MAX_DEPTH 64u
#define MV_FLAME_WIDTH 1200u

struct mv_flame_stats {
	size_t rects;        /* cells drawn, "... N more" ones included */
	size_t merged;       /* "... N more" cells */
	size_t runs;         /* cells of a chain through one field */
	uint64_t not_drawn;  /* objects in no cell (budget, depth, < 1 px) */
};

/* Renders the walk's discovery tree (each object under the object that
 * reached it first) as SVG into out: the root on top, children below,
 * widths proportional to subtree bytes.  root names the root object
 * (the expression).  Iterative and bounded by the limits above. */
struct mv_error *mv_flame_render(struct mv_walk *w, const char *root,
				 struct mv_buf *out,
				 struct mv_flame_stats *stats);

/* Appends len bytes of s as XML character data or attribute text:
 * target bytes are first made printable (mv_buf_escape: control bytes,
 * bad UTF-8 and bidi overrides become \xNN / \u{...}), then &, <, >, "
 * and ' become entities.  The result is always well-formed XML text. */
void mv_svg_escape(struct mv_buf *b, const char *s, size_t len);

#endif
