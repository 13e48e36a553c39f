/* edgename.c - pointers named as C and C++ expressions: the member
 * path of a word in an object from its DWARF type ("g_table.head",
 * "ring[3].next"), libstdc++'s own member paths dropped
 * ("._M_impl._M_start" of a vector: v[i]), and the elements of node
 * containers as gdb's libstdc++ printers show them (cxxelem.c:
 * g_deque[18], g_map[7]), along a chain of pointers (path-to's hops,
 * sizeof-deep's paths).  Bounded by DWARF nesting and by the chain;
 * the container walks poll. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cxxelem.h"
#include "edgename.h"
#include "program.h"

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

struct hop_ctx {
	struct mv_program *p;
	struct mv_cxx_elem_memo *memo;
	mv_walk_poll_fn poll;
	void *poll_arg;
	struct mv_error *err;
	bool entered; /* a node container's element was named */
};

/* The C expression for the pointer at byte off of an object of type t:
 * appends ".name", "[i]" to path and gives the pointer's type in *ptr.
 * False when no pointer member lies exactly there (an untyped word, a
 * union's other member).  With cont, stops at a libstdc++ node
 * container on the way (mv_cxx_elem_container): its type to *cont, its
 * offset in t to *cont_off, and true.  Bounded: DWARF nesting, never
 * target data. */
static bool typed_field(struct mv_type *t, uint64_t off, struct mv_buf *path,
			struct mv_type **ptr, struct mv_type **cont,
			uint64_t *cont_off)
{
	uint64_t start = off;
	for (int depth = 0; depth < 32; depth++) {
		t = mv_type_strip(t);
		if (!t)
			return false;
		if (cont && mv_cxx_elem_container(t)) {
			*cont = t;
			*cont_off = start - off;
			return true;
		}
		if (t->kind == MV_TYPE_POINTER) {
			*ptr = t;
			return off == 0;
		}
		if (t->kind == MV_TYPE_ARRAY) {
			struct mv_type *e = mv_type_target(t);
			struct mv_type *se = mv_type_strip(e);
			if (!se || !se->size ||
			    (t->has_count && off / se->size >= t->count))
				return false;
			mv_buf_printf(path, "[%llu]",
				      (unsigned long long)(off / se->size));
			off %= se->size;
			t = e;
			continue;
		}
		if (t->kind != MV_TYPE_STRUCT && t->kind != MV_TYPE_CLASS &&
		    t->kind != MV_TYPE_UNION)
			return false;
		const struct mv_member *hit = NULL;
		for (size_t i = 0; i < t->nmembers; i++) {
			const struct mv_member *m = &t->members[i];
			struct mv_type *mt = mv_type_strip(m->type);
			uint64_t at = m->bit_position / 8;
			if (m->bit_size || !mt || off < at ||
			    off - at >= (mt->size ? mt->size : 1))
				continue;
			/* In a union, the member that is a pointer right
			 * there reads best; else the biggest (an empty C++
			 * base, an allocator, shares its offset with the
			 * member that holds the pointer). */
			struct mv_type *ht = hit ? mv_type_strip(hit->type)
						 : NULL;
			bool exact = mt->kind == MV_TYPE_POINTER && off == at;
			bool hit_exact = ht && ht->kind == MV_TYPE_POINTER &&
					 off == hit->bit_position / 8;
			if (!hit || exact ||
			    (!hit_exact && mt->size > ht->size))
				hit = m;
		}
		if (!hit)
			return false;
		if (hit->name)
			mv_buf_printf(path, ".%s", hit->name);
		off -= hit->bit_position / 8;
		t = hit->type;
	}
	return false;
}

void mv_edge_spell_blocks(struct mv_buf *path, size_t from)
{
	static const char *const own[][2] = {
		{"._M_impl._M_map", " (map)"},      /* std::deque */
		{"._M_h.buckets", " (buckets)"},    /* unordered_*, as walked */
		{"._M_h._M_buckets", " (buckets)"}, /* ... as DWARF has it */
		/* std::shared_ptr, weak_ptr */
		{"._M_refcount._M_pi", " (control block)"},
		{"._M_elems", ""}, /* std::array: a[i] */
	};
	if (path->oom || !path->data || path->len < from)
		return;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		size_t n = strlen(own[i][0]);
		char *p = path->data + from;
		while ((p = strstr(p, own[i][0]))) {
			if (p[n] && p[n] != '.' && p[n] != '[') {
				p += n;
				continue;
			}
			/* A path of the block alone: "(map)". */
			const char *rep = own[i][1] + (p == path->data &&
						       own[i][1][0] == ' ');
			size_t r = strlen(rep);
			/* The replacement is never longer than the name. */
			memmove(p + r, p + n, strlen(p + n) + 1);
			memcpy(p, rep, r);
			path->len -= n - r;
			p += r;
		}
	}
}

/* The libstdc++ member paths a C++ programmer does not write: a
 * vector's elements are v[i], a unique_ptr's or shared_ptr's object
 * p->x, a string's characters s[i].  Names starting with _M_ are the
 * implementation's, so no user member is taken for them. */
static void cxx_spelling(struct mv_buf *path, size_t from)
{
	static const char *const internal[] = {
		"._M_impl._M_start",       /* std::vector */
		"._M_t._M_t._M_head_impl", /* std::unique_ptr */
		"._M_ptr",                 /* std::shared_ptr, weak_ptr */
		"._M_dataplus._M_p",       /* std::basic_string */
		/* std::function's functor block (_Any_data's union) */
		"._M_functor._M_unused._M_function_pointer",
		"._M_functor._M_unused._M_object",
	};
	if (path->oom || !path->data)
		return;
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		size_t n = strlen(internal[i]);
		char *p = path->data + from;
		while ((p = strstr(p, internal[i]))) {
			if (p[n]) { /* the pointer ends the path */
				p += n;
				continue;
			}
			memmove(p, p + n, strlen(p + n) + 1);
			path->len -= n;
		}
	}
	mv_edge_spell_blocks(path, from);
}

/* A global word holding a pointer, as a C expression ("g_table.head",
 * "ring[3].next"), or false. */
bool mv_edge_global_expression(struct mv_program *p, uint64_t holder,
			       struct mv_buf *out)
{
	const char *name;
	uint64_t off, addr;
	struct mv_type *vt, *dummy, **ptr = &dummy;
	if (!mv_program_symbolize(p, holder, &name, &off))
		return false;
	struct mv_error *err = mv_program_find_variable(p, name, 0, &addr, &vt);
	if (err || addr + off != holder) {
		mv_error_destroy(err);
		return false;
	}
	mv_buf_puts(out, name);
	size_t from = out->len;
	if (!typed_field(vt, off, out, ptr, NULL, NULL) || out->oom)
		return false;
	cxx_spelling(out, from);
	return true;
}

/* Where hop_expressions stands: the object holding the next hop's
 * word, its type and address, and how the expression reaches into it. */
struct hop_state {
	struct mv_type *t;
	uint64_t base;
	enum { HOP_MEMBER, HOP_POINTEE, HOP_ELEMENT } how;
	struct mv_buf elem;    /* HOP_ELEMENT: its subscript, "[42]" */
	struct mv_cxx_elem el; /* HOP_ELEMENT: what it is */
};

/* Appends the word at holder inside the object st describes to b:
 * ".x", "->x", "[i].x", or a node container's element "[key]".  When
 * that word is inside a libstdc++ node container (deque, list, map,
 * ...), finds which of the hops from i on is the element holding the
 * path (the hops before it are the container's own nodes: their
 * expressions stay NULL), moves *i to it and says HOP_ENTERED: hop *i
 * is then named again, inside the element.  HOP_FAILED if the hop
 * cannot be typed. */
enum hop_named { HOP_FAILED, HOP_NAMED, HOP_ENTERED };

static enum hop_named name_hop(struct hop_ctx *c, struct hop_state *st,
			       const struct mv_edge_hop *hops, size_t n,
			       size_t *i, struct mv_buf *b,
			       struct mv_type **ptr)
{
	uint64_t holder = hops[*i].holder;
	struct mv_type *s = mv_type_strip(st->t);
	if (!s || !s->size || holder < st->base)
		return HOP_FAILED;
	uint64_t at = holder - st->base;
	uint64_t index = st->how == HOP_POINTEE ? at / s->size : 0;
	if (st->how != HOP_POINTEE && at >= s->size)
		return HOP_FAILED;
	struct mv_buf f;
	mv_buf_init(&f);
	struct mv_type *cont = NULL;
	uint64_t coff = 0;
	bool ok = typed_field(st->t, at % s->size, &f, ptr, &cont, &coff) &&
		  !f.oom;
	if (ok)
		cxx_spelling(&f, 0);
	const char *fs = f.data ? f.data : "";
	if (!ok) {
	} else if (st->how == HOP_ELEMENT && st->el.mapped &&
		   !strncmp(fs, ".first", 6) && !ident_char(fs[6])) {
		/* map[key] is the pair's second: its key is named by
		 * position, as the printers number a set. */
		mv_buf_printf(b, "[%llu]%s", (unsigned long long)st->el.index,
			      fs);
	} else if (st->how == HOP_ELEMENT) {
		if (st->el.mapped && !strncmp(fs, ".second", 7) &&
		    !ident_char(fs[7]))
			fs += 7;
		mv_buf_puts(b, st->elem.data ? st->elem.data : "");
		mv_buf_puts(b, fs);
	} else if (st->how == HOP_MEMBER) {
		mv_buf_puts(b, fs);
	} else if (!index && fs[0] == '.') {
		/* p->name for the first object's member, else p[i]... */
		mv_buf_printf(b, "->%s", fs + 1);
	} else {
		mv_buf_printf(b, "[%llu]%s", (unsigned long long)index, fs);
	}
	mv_buf_deinit(&f);
	if (!ok)
		return HOP_FAILED;
	if (!cont)
		return HOP_NAMED;
	/* Into a node container at base + coff: its element holding one
	 * of the next words. */
	uint64_t ca = st->base + (at / s->size) * s->size + coff;
	mv_buf_clear(&st->elem);
	/* Hop *i's word is the container's own: elements lie in blocks
	 * further on. */
	for (size_t j = *i + 1; j < n && j < *i + 64; j++) {
		if (!hops[j].heap)
			return HOP_FAILED;
		if ((c->err = mv_cxx_elem_find(c->p, cont, ca, hops[j].holder,
					       hops[j].chunk_mem, c->memo,
					       c->poll, c->poll_arg,
					       &st->elem, &st->el)))
			return HOP_FAILED;
		if (st->el.found) {
			*i = j;
			st->t = st->el.type;
			st->base = st->el.addr;
			st->how = HOP_ELEMENT;
			c->entered = true;
			return st->elem.oom ? HOP_FAILED : HOP_ENTERED;
		}
	}
	return HOP_FAILED;
}

char **mv_edge_expressions(struct mv_program *p, const char *root,
			   struct mv_type *type, uint64_t addr,
			   const struct mv_edge_hop *hops, size_t n,
			   struct mv_cxx_elem_memo *memo, mv_walk_poll_fn poll,
			   void *poll_arg, bool *entered)
{
	char **exprs = calloc(n ? n : 1, sizeof(*exprs));
	if (!exprs || !n)
		return exprs;
	struct hop_ctx c = {.p = p, .memo = memo, .poll = poll,
			    .poll_arg = poll_arg};
	struct hop_state st = {.t = type, .base = addr, .how = HOP_MEMBER};
	mv_buf_init(&st.elem);
	struct mv_type *ptr = NULL;
	struct mv_buf b;
	mv_buf_init(&b);
	mv_buf_puts(&b, root);
	for (size_t i = 0;;) {
		enum hop_named named = name_hop(&c, &st, hops, n, &i, &b,
						&ptr);
		if (named == HOP_FAILED || b.oom)
			break;
		if (named == HOP_ENTERED && hops[i].element_only) {
			/* The element itself: "g_map[7]". */
			mv_buf_puts(&b, st.elem.data ? st.elem.data : "");
			if (!b.oom)
				exprs[i] = strdup(b.data);
			break;
		}
		if (named == HOP_ENTERED)
			continue;
		exprs[i] = strdup(b.data);
		if (++i >= n)
			break;
		/* The next object: as the caller knows it, else the block
		 * holds an object (or array) of the pointee type where the
		 * pointer points: its start, or inside (make_shared's
		 * object in its control block). */
		const struct mv_edge_hop *h = &hops[i];
		st.t = hops[i - 1].type ? hops[i - 1].type
					: mv_type_target(ptr);
		struct mv_type *s = mv_type_strip(st.t);
		st.base = hops[i - 1].type ? hops[i - 1].base
					   : hops[i - 1].value;
		st.how = HOP_POINTEE;
		if (!h->heap || st.base < h->chunk_mem ||
		    st.base > h->holder || !s || !s->size ||
		    s->kind == MV_TYPE_VOID)
			break;
	}
	mv_buf_deinit(&b);
	mv_buf_deinit(&st.elem);
	if (c.err)
		mv_error_destroy(c.err);
	if (entered)
		*entered = c.entered;
	return exprs;
}
