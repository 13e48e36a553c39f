/* cmd_layout.c - `layout TYPE|EXPR`: a type's memory layout in pahole's
 * shape (offset, size, member, type; holes and padding; bitfields), with
 * values when given an object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxxname.h"
#include "session.h"
#include "value.h"

#define LAYOUT_MAX_NEST 8   /* anonymous members expanded inline */
#define DECL_COLUMN 44

struct layout {
	struct mv_cmd_ctx *ctx;
	struct mv_program *p;
	bool has_address;
	uint64_t address;
	struct mv_value_style style;
	struct mv_json j;
	/* Totals of the outermost level, as pahole prints them. */
	uint64_t sum_member_bytes, sum_bitfield_bits, nholes, sum_holes, nbit_holes, sum_bit_holes;
	uint64_t nmembers;
	/* The outermost level in memory order (see plan_components). */
	struct comp *comps;
	size_t ncomps;
	uint64_t class_vptr; /* no object: the class's own vtable, or 0 */
};

/* One member of the outermost level as the layout shows it. */
struct comp {
	struct mv_member m;  /* bit_position: where it lies in the object */
	uint64_t bits;       /* bits it covers (a base may end early) */
	bool placed;         /* false: a virtual base with no object */
	size_t order;        /* DWARF order, to keep the sort stable */
};

static bool is_struct_like(struct mv_type *st)
{
	return st && (st->kind == MV_TYPE_STRUCT || st->kind == MV_TYPE_CLASS);
}

static bool is_record(struct mv_type *st)
{
	return st && (st->kind == MV_TYPE_STRUCT || st->kind == MV_TYPE_UNION ||
		      st->kind == MV_TYPE_CLASS);
}

/* "int cells[2][3]", "const char *name", "int (*callback)(int)". */
static void declaration(struct mv_type *type, const char *name,
			struct mv_buf *out)
{
	char tn[256];
	mv_type_name(type, tn, sizeof(tn));
	if (!name)
		name = "";
	char *fp = strstr(tn, "(*");
	char *arr = strstr(tn, " [");
	if (fp) {
		/* "int (**)(void)": the name goes after the last star. */
		const char *q = fp + 1;
		while (*q == '*')
			q++;
		mv_buf_append(out, tn, (size_t)(q - tn));
		mv_buf_puts(out, name);
		mv_buf_puts(out, q);
	} else if (arr) {
		mv_buf_append(out, tn, (size_t)(arr - tn));
		mv_buf_printf(out, " %s%s", name, arr + 1);
	} else if (tn[0] && tn[strlen(tn) - 1] == '*') {
		mv_buf_printf(out, "%s%s", tn, name);
	} else {
		mv_buf_printf(out, "%s%s%s", tn, *name ? " " : "", name);
	}
}

/* A bitfield's storage unit as pahole reports it. */
static void bitfield_unit(const struct mv_member *m, uint64_t base_bits,
			  uint64_t *offset, uint64_t *bit_in_unit,
			  uint64_t *unit_size)
{
	struct mv_type *st = mv_type_strip(m->type);
	uint64_t unit = st && st->size ? st->size : 1;
	uint64_t abs = base_bits + m->bit_position;
	*unit_size = unit;
	*offset = abs / (unit * 8) * unit;
	*bit_in_unit = abs - *offset * 8;
}

static void indent(struct mv_buf *b, int level)
{
	mv_buf_pad(b, '\t', (size_t)level);
}

static void comment_column(struct mv_buf *b, size_t line_start, int level)
{
	/* Tabs count as 8 columns, as a terminal shows them. */
	size_t col = (size_t)level * 8 + (b->len - line_start - (size_t)level);
	mv_buf_pad(b, ' ', col < DECL_COLUMN ? DECL_COLUMN - col : 1);
}

static void text_hole(struct layout *L, int level, uint64_t bits)
{
	struct mv_buf *b = &L->ctx->out;
	indent(b, level);
	if (bits % 8 == 0)
		mv_buf_printf(b, "/* XXX %llu byte%s hole */\n",
			      (unsigned long long)(bits / 8), bits == 8 ? "" : "s");
	else
		mv_buf_printf(b, "/* XXX %llu bit%s hole */\n",
			      (unsigned long long)bits, bits == 1 ? "" : "s");
}

static void json_hole(struct layout *L, uint64_t start_bits, uint64_t bits,
		      const char *after)
{
	mv_json_begin_object(&L->j);
	if (bits % 8 == 0 && start_bits % 8 == 0) {
		mv_json_key(&L->j, "offset");
		mv_json_uint(&L->j, start_bits / 8);
		mv_json_key(&L->j, "size");
		mv_json_uint(&L->j, bits / 8);
	} else {
		mv_json_key(&L->j, "bit_position");
		mv_json_uint(&L->j, start_bits);
		mv_json_key(&L->j, "bits");
		mv_json_uint(&L->j, bits);
	}
	mv_json_key(&L->j, "after");
	mv_json_string(&L->j, after);
	mv_json_end_object(&L->j);
}

/* One level of the layout: the members of st at base_bits.  Anonymous
 * struct/union members open a nested level; the nesting is kept on an
 * explicit stack. */
struct level {
	struct mv_type *st;
	uint64_t base_bits;
	size_t next;
	uint64_t end_bits;    /* furthest bit covered so far (relative) */
	const char *last_name;
	bool holes_are_total; /* outermost level */
};

struct hole_rec {
	uint64_t start_bits, bits;
	const char *after;
};

static void member_value(struct layout *L, const struct mv_member *m,
			 uint64_t abs_bits, bool json)
{
	if (!L->has_address)
		return;
	uint64_t addr = L->address + abs_bits / 8;
	uint32_t bo = m->bit_size ? (uint32_t)(abs_bits % 8) : 0;
	if (json) {
		mv_json_key(&L->j, "value");
		mv_value_render_json(L->p, m->type, addr, bo, m->bit_size,
				     &L->style, &L->j);
	} else {
		mv_buf_puts(&L->ctx->out, " = ");
		mv_value_render_text(L->p, m->type, addr, bo, m->bit_size,
				     &L->style, &L->ctx->out);
	}
}

#define LAYOUT_MAX_BASES 64 /* classes visited looking for virtual bases */

static bool is_empty_record(struct mv_type *st)
{
	return is_struct_like(st) && st->size <= 1 && st->nmembers == 0;
}

static int comp_cmp(const void *a, const void *b)
{
	const struct comp *x = a, *y = b;
	if (x->placed != y->placed)
		return x->placed ? -1 : 1;
	if (x->m.bit_position != y->m.bit_position)
		return x->m.bit_position < y->m.bit_position ? -1 : 1;
	/* An empty class shares its address with what follows it. */
	bool ex = is_empty_record(mv_type_strip(x->m.type));
	bool ey = is_empty_record(mv_type_strip(y->m.type));
	if (ex != ey)
		return ex ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool comp_push(struct layout *L, size_t *cap, const struct comp *c)
{
	if (L->ncomps == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		struct comp *v = realloc(L->comps, n * sizeof(*v));
		if (!v)
			return false;
		L->comps = v;
		*cap = n;
	}
	L->comps[L->ncomps++] = *c;
	return true;
}

static bool read_word(struct layout *L, uint64_t addr, uint64_t *ret)
{
	struct mv_target *t = mv_program_target(L->p);
	struct mv_error *err = t ? mv_target_read(t, addr, ret, 8) : NULL;
	if (err)
		mv_error_destroy(err);
	return t && !err;
}

/* "_ZTV" + the Itanium mangling of a class named by plain identifiers
 * ("Diamond" -> 7Diamond, "ns::X" -> N2ns1XE); false for any other. */
static bool class_symbol(const char *prefix, const char *name, char *buf,
			 size_t size)
{
	struct mv_buf b;
	mv_buf_init(&b);
	bool nested = strstr(name, "::") != NULL, ok = *name != '\0';
	mv_buf_printf(&b, "%s%s", prefix, nested ? "N" : "");
	for (const char *p = name; ok && *p;) {
		size_t n = 0;
		while (mv_cxx_ident_char(p[n]))
			n++;
		ok = n > 0 && (p[n] == '\0' || !strncmp(p + n, "::", 2));
		mv_buf_printf(&b, "%zu%.*s", n, (int)n, p);
		p += n + (p[n] ? 2 : 0);
	}
	mv_buf_puts(&b, nested ? "E" : "");
	ok = ok && !b.oom && b.data && b.len < size;
	if (ok)
		memcpy(buf, b.data, b.len + 1);
	mv_buf_deinit(&b);
	return ok;
}

/* Without an object, the class's own vtable says where its virtual bases
 * lie in a complete object of the class.  Its address point is the
 * first entry after the vbase offsets, an offset-to-top of 0 and a
 * pointer to the class's typeinfo (Itanium ABI); found by looking for
 * that pair in the vtable the class's symbol names. */
static bool class_vptr(struct layout *L, struct mv_type *root,
		       uint64_t *ret)
{
	char vt[512], ti[512];
	uint64_t vt_addr, vt_size, ti_addr, ti_size;
	if (!root->name || !class_symbol("_ZTV", root->name, vt, sizeof(vt)) ||
	    !class_symbol("_ZTI", root->name, ti, sizeof(ti)) ||
	    !mv_program_find_symbol(L->p, vt, &vt_addr, &vt_size) ||
	    !mv_program_find_symbol(L->p, ti, &ti_addr, &ti_size))
		return false;
	for (uint64_t k = 2; k < 64 && 8 * k < vt_size; k++) {
		uint64_t top, info;
		if (!read_word(L, vt_addr + 8 * (k - 2), &top) ||
		    !read_word(L, vt_addr + 8 * (k - 1), &info))
			return false;
		if (top == 0 && info == ti_addr) {
			*ret = vt_addr + 8 * k;
			return true;
		}
	}
	return false;
}

/* Where a virtual base of the subobject at byte off lies, from the
 * vtable its vptr points to (Itanium ABI: the base's offset sits
 * vbase_slot bytes before the vptr's address).  Without an object only
 * the subobjects at offset 0 have a known vptr: the class's own (they
 * are its primary bases, sharing its vptr).  False when the vtable
 * cannot be read or says nonsense. */
static bool vbase_offset(struct layout *L, struct mv_type *root,
			 const struct mv_member *m, uint64_t off,
			 uint64_t *ret)
{
	struct mv_target *t = mv_program_target(L->p);
	uint64_t vptr = 0;
	int64_t delta = 0;
	struct mv_type *bt = mv_type_strip(m->type);
	if (!t || !m->vbase_slot || !bt)
		return false;
	if (!L->has_address) {
		if (off != 0 || !L->class_vptr)
			return false;
		vptr = L->class_vptr;
	}
	struct mv_error *err = NULL;
	if (L->has_address)
		err = mv_target_read(t, L->address + off, &vptr, 8);
	if (!err)
		err = mv_target_read(t, vptr - m->vbase_slot, &delta, 8);
	if (err) {
		mv_error_destroy(err);
		return false;
	}
	int64_t at = (int64_t)off + delta;
	if (at < 0 || (uint64_t)at > root->size ||
	    bt->size > root->size - (uint64_t)at)
		return false;
	*ret = (uint64_t)at;
	return true;
}

/* Adds the virtual bases of root, the indirect ones too (C++ DWARF lists
 * only a class's direct bases), each once.  Bounded walk over the base
 * classes with an explicit queue. */
static bool add_virtual_bases(struct layout *L, struct mv_type *root,
			      size_t *cap)
{
	struct {
		struct mv_type *st;
		uint64_t off;
		bool known;
	} q[LAYOUT_MAX_BASES];
	size_t nq = 0;
	if (!L->has_address && !class_vptr(L, root, &L->class_vptr))
		L->class_vptr = 0;
	q[nq++] = (typeof(q[0])){root, 0, true};
	for (size_t i = 0; i < nq; i++) {
		struct mv_type *st = q[i].st;
		for (size_t k = 0; k < st->nmembers; k++) {
			const struct mv_member *m = &st->members[k];
			struct mv_type *bt = mv_type_strip(m->type);
			if (!(m->flags & MV_MEMBER_BASE) || !is_struct_like(bt))
				continue;
			uint64_t off = q[i].off + m->bit_position / 8;
			bool known = q[i].known;
			if (m->flags & MV_MEMBER_VIRTUAL_BASE) {
				bool seen = false;
				for (size_t j = 0; j < L->ncomps; j++)
					seen |= mv_type_strip(L->comps[j].m.type) == bt;
				if (seen)
					continue;
				known = known && vbase_offset(L, root, m,
							      q[i].off, &off);
				struct comp c = {*m, 0, known, L->ncomps};
				c.m.bit_position = known ? off * 8 : 0;
				c.bits = bt->size * 8;
				if (!comp_push(L, cap, &c))
					return false;
			}
			if (nq < LAYOUT_MAX_BASES)
				q[nq++] = (typeof(q[0])){bt, off, known};
		}
	}
	return true;
}

/* The members of root in memory order, with its virtual bases where
 * this object has them, and each class-typed member clipped where the
 * next one starts: a base's tail padding may hold the next member, an
 * empty base or [[no_unique_address]] member takes no room. */
static struct mv_error *plan_components(struct layout *L, struct mv_type *root)
{
	size_t cap = 0;
	bool cxx = false;
	for (size_t i = 0; i < root->nmembers; i++) {
		const struct mv_member *m = &root->members[i];
		cxx |= (m->flags & MV_MEMBER_BASE) != 0;
		if (m->flags & MV_MEMBER_VIRTUAL_BASE)
			continue;
		struct mv_type *mst = mv_type_strip(m->type);
		struct comp c = {*m, 0, true, i};
		c.bits = m->bit_size ? m->bit_size : (mst ? mst->size * 8 : 0);
		if (!comp_push(L, &cap, &c))
			return mv_enomem;
	}
	if (cxx && !add_virtual_bases(L, root, &cap))
		return mv_enomem;
	if (L->ncomps > 1)
		qsort(L->comps, L->ncomps, sizeof(*L->comps), comp_cmp);
	for (size_t i = 0; i < L->ncomps; i++) {
		struct comp *c = &L->comps[i];
		if (!c->placed || !is_record(mv_type_strip(c->m.type)))
			continue;
		uint64_t limit = root->size * 8;
		if (i + 1 < L->ncomps && L->comps[i + 1].placed)
			limit = L->comps[i + 1].m.bit_position;
		limit = limit > c->m.bit_position ? limit - c->m.bit_position : 0;
		if (c->bits > limit)
			c->bits = limit;
	}
	return NULL;
}

static void base_line(struct layout *L, const struct comp *c, int level)
{
	struct mv_buf *b = &L->ctx->out;
	size_t ls = b->len;
	char tn[256];
	mv_type_name(c->m.type, tn, sizeof(tn));
	indent(b, level);
	mv_buf_printf(b, "/* %s <%sancestor>; */", tn,
		      c->m.flags & MV_MEMBER_VIRTUAL_BASE ? "virtual " : "");
	comment_column(b, ls, level);
	if (c->placed)
		mv_buf_printf(b, "/* %5llu %5llu */",
			      (unsigned long long)(c->m.bit_position / 8),
			      (unsigned long long)(c->bits / 8));
	else
		mv_buf_printf(b, "/*     ? %5llu */",
			      (unsigned long long)(c->bits / 8));
}

/* g++ types the vptr as __vtbl_ptr_type *, a function taking unspecified
 * parameters; gdb and pahole spell it int (**)(void). */
static bool is_vptr(const struct mv_member *m)
{
	struct mv_type *p = mv_type_strip(m->type);
	struct mv_type *pp = p && p->kind == MV_TYPE_POINTER ?
				     mv_type_strip(mv_type_target(p)) : NULL;
	struct mv_type *fn = pp && pp->kind == MV_TYPE_POINTER ?
				     mv_type_strip(mv_type_target(pp)) : NULL;
	return (m->flags & MV_MEMBER_ARTIFICIAL) && m->name &&
	       !strncmp(m->name, "_vptr", 5) && fn &&
	       fn->kind == MV_TYPE_FUNCTION;
}

static struct mv_error *render_record(struct layout *L, struct mv_type *root)
{
	struct mv_cmd_ctx *ctx = L->ctx;
	struct mv_buf *b = &ctx->out;
	bool json = ctx->json;
	struct level stack[LAYOUT_MAX_NEST];
	int depth = 0;
	struct hole_rec holes[256];
	size_t nholes = 0;

	struct mv_error *err = plan_components(L, root);
	if (err)
		return err;
	uint64_t unplaced_bytes = 0;
	stack[0] = (struct level){root, 0, 0, 0, NULL, true};
	if (json) {
		mv_json_key(&L->j, "members");
		mv_json_begin_array(&L->j);
	}
	for (;;) {
		struct level *lv = &stack[depth];
		size_t count = depth ? lv->st->nmembers : L->ncomps;
		if (lv->next >= count) {
			/* Close the level. */
			if (depth == 0)
				break;
			struct mv_type *inner = lv->st;
			uint64_t ibase = lv->base_bits;
			depth--;
			if (json) {
				mv_json_end_array(&L->j);
				mv_json_end_object(&L->j);
			} else {
				size_t ls = b->len;
				indent(b, depth + 1);
				mv_buf_puts(b, "};");
				comment_column(b, ls, depth + 1);
				mv_buf_printf(b, "/* %5llu %5llu */\n",
					      (unsigned long long)(ibase / 8),
					      (unsigned long long)inner->size);
			}
			continue;
		}
		const struct comp *c = depth ? NULL : &L->comps[lv->next];
		const struct mv_member *m = c ? &c->m : &lv->st->members[lv->next];
		lv->next++;
		struct mv_type *mst = mv_type_strip(m->type);
		uint64_t msize = mst ? mst->size : 0;
		uint64_t start = m->bit_position;
		uint64_t mbits = c ? c->bits : m->bit_size ? m->bit_size : msize * 8;
		uint64_t abs = lv->base_bits + start;
		if (c && !m->bit_size)
			msize = mbits / 8;
		if (c && !c->placed) {
			/* A virtual base without an object: no offset. */
			unplaced_bytes += msize;
			L->sum_member_bytes += msize;
			L->nmembers++;
			if (json) {
				mv_json_begin_object(&L->j);
				mv_json_key(&L->j, "name");
				mv_json_null(&L->j);
				mv_json_key(&L->j, "type");
				char vt[256];
				mv_type_name(m->type, vt, sizeof(vt));
				mv_json_string(&L->j, vt);
				mv_json_key(&L->j, "offset");
				mv_json_null(&L->j);
				mv_json_key(&L->j, "size");
				mv_json_uint(&L->j, msize);
				mv_json_key(&L->j, "base");
				mv_json_string(&L->j, "virtual");
				mv_json_end_object(&L->j);
			} else {
				base_line(L, c, 1);
				mv_buf_putc(b, '\n');
			}
			continue;
		}

		/* Holes exist between the members of a struct, not a union. */
		if (is_struct_like(lv->st) && start > lv->end_bits &&
		    lv->next > 1) {
			uint64_t gap = start - lv->end_bits;
			if (nholes < 256)
				holes[nholes++] = (struct hole_rec){
					lv->base_bits + lv->end_bits, gap,
					lv->last_name};
			if (depth == 0) {
				if (gap % 8 == 0 && lv->end_bits % 8 == 0) {
					L->nholes++;
					L->sum_holes += gap / 8;
				} else {
					L->nbit_holes++;
					L->sum_bit_holes += gap;
				}
			}
			if (!json)
				text_hole(L, depth + 1, gap);
		}
		if (start + mbits > lv->end_bits)
			lv->end_bits = start + mbits;
		lv->last_name = m->name ? m->name : "<anonymous>";
		if (depth == 0) {
			/* As pahole counts: whole members in bytes,
			 * bitfields in bits. */
			if (m->bit_size)
				L->sum_bitfield_bits += m->bit_size;
			else
				L->sum_member_bytes += msize;
			L->nmembers++;
		}

		bool base = (m->flags & MV_MEMBER_BASE) != 0;
		bool expand = !m->name && !base && is_record(mst) &&
			      depth + 1 < LAYOUT_MAX_NEST;
		char tn[256];
		if (is_vptr(m))
			snprintf(tn, sizeof(tn), "int (**)(void)");
		else
			mv_type_name(m->type, tn, sizeof(tn));
		uint64_t off = abs / 8, bit_in = 0, unit = msize;
		if (m->bit_size)
			bitfield_unit(m, lv->base_bits, &off, &bit_in, &unit);
		if (json) {
			mv_json_begin_object(&L->j);
			mv_json_key(&L->j, "name");
			mv_json_string(&L->j, m->name);
			mv_json_key(&L->j, "type");
			mv_json_string(&L->j, tn);
			mv_json_key(&L->j, "offset");
			mv_json_uint(&L->j, off);
			mv_json_key(&L->j, "size");
			mv_json_uint(&L->j, unit);
			mv_json_key(&L->j, "bit_offset");
			if (m->bit_size)
				mv_json_uint(&L->j, bit_in);
			else
				mv_json_null(&L->j);
			mv_json_key(&L->j, "bit_size");
			if (m->bit_size)
				mv_json_uint(&L->j, m->bit_size);
			else
				mv_json_null(&L->j);
			if (base) {
				mv_json_key(&L->j, "base");
				mv_json_string(&L->j,
					       m->flags & MV_MEMBER_VIRTUAL_BASE
						       ? "virtual"
						       : "direct");
			}
		}
		if (expand) {
			if (json) {
				mv_json_key(&L->j, "members");
				mv_json_begin_array(&L->j);
			} else {
				indent(b, depth + 1);
				mv_buf_printf(b, "%s {\n",
					      mst->kind == MV_TYPE_UNION ? "union"
									 : "struct");
			}
			depth++;
			stack[depth] = (struct level){mst, abs, 0, 0, NULL,
						      false};
			continue;
		}
		if (json) {
			member_value(L, m, abs, true);
			mv_json_end_object(&L->j);
		} else if (base) {
			base_line(L, c ? c : &(struct comp){*m, msize * 8,
							    true, 0},
				  depth + 1);
			member_value(L, m, abs, false);
			mv_buf_putc(b, '\n');
		} else {
			size_t ls = b->len;
			indent(b, depth + 1);
			if (is_vptr(m))
				mv_buf_printf(b, "int (**%s)(void)", m->name);
			else
				declaration(m->type, m->name, b);
			if (m->bit_size)
				mv_buf_printf(b, ":%u", m->bit_size);
			mv_buf_putc(b, ';');
			comment_column(b, ls, depth + 1);
			if (m->bit_size)
				mv_buf_printf(b, "/* %5llu:%-2llu %3llu */",
					      (unsigned long long)off,
					      (unsigned long long)bit_in,
					      (unsigned long long)unit);
			else
				mv_buf_printf(b, "/* %5llu %5llu */",
					      (unsigned long long)off,
					      (unsigned long long)msize);
			member_value(L, m, abs, false);
			mv_buf_putc(b, '\n');
		}
		if (b->len > 1 << 16) {
			if ((err = mv_out_flush(ctx)))
				return err;
		}
	}
	uint64_t end_bits = stack[0].end_bits + unplaced_bytes * 8;
	uint64_t size_bits = root->size * 8;
	uint64_t pad_bits = size_bits > end_bits && is_struct_like(root)
				    ? size_bits - end_bits
				    : 0;
	if (json) {
		mv_json_end_array(&L->j);
		mv_json_key(&L->j, "holes");
		mv_json_begin_array(&L->j);
		for (size_t i = 0; i < nholes; i++)
			json_hole(L, holes[i].start_bits, holes[i].bits,
				  holes[i].after);
		mv_json_end_array(&L->j);
		mv_json_key(&L->j, "padding");
		mv_json_uint(&L->j, pad_bits / 8);
		mv_json_key(&L->j, "bit_padding");
		mv_json_uint(&L->j, pad_bits % 8);
		mv_json_key(&L->j, "sum_members");
		mv_json_uint(&L->j, L->sum_member_bytes);
		mv_json_key(&L->j, "sum_bitfield_bits");
		mv_json_uint(&L->j, L->sum_bitfield_bits);
		mv_json_key(&L->j, "sum_holes");
		mv_json_uint(&L->j, L->sum_holes);
		mv_json_key(&L->j, "bit_holes");
		mv_json_uint(&L->j, L->nbit_holes);
		mv_json_key(&L->j, "sum_bit_holes");
		mv_json_uint(&L->j, L->sum_bit_holes);
	} else {
		if (pad_bits / 8) {
			mv_buf_puts(b, "\n\t/* XXX ");
			mv_buf_printf(b, "%llu byte%s padding */\n",
				      (unsigned long long)(pad_bits / 8),
				      pad_bits / 8 == 1 ? "" : "s");
		}
		mv_buf_printf(b, "\n\t/* size: %llu, alignment: %llu, members: %llu */\n",
			      (unsigned long long)root->size,
			      (unsigned long long)mv_type_alignment(root),
			      (unsigned long long)L->nmembers);
		mv_buf_printf(b, "\t/* sum members: %llu",
			      (unsigned long long)L->sum_member_bytes);
		if (L->sum_bitfield_bits)
			mv_buf_printf(b, ", sum bitfield members: %llu bits",
				      (unsigned long long)L->sum_bitfield_bits);
		if (L->nholes)
			mv_buf_printf(b, ", holes: %llu, sum holes: %llu",
				      (unsigned long long)L->nholes,
				      (unsigned long long)L->sum_holes);
		if (L->nbit_holes)
			mv_buf_printf(b, ", bit holes: %llu, sum bit holes: %llu bits",
				      (unsigned long long)L->nbit_holes,
				      (unsigned long long)L->sum_bit_holes);
		if (pad_bits)
			mv_buf_printf(b, ", padding: %llu",
				      (unsigned long long)(pad_bits / 8));
		if (pad_bits % 8)
			mv_buf_printf(b, ", bit padding: %llu bits",
				      (unsigned long long)(pad_bits % 8));
		mv_buf_puts(b, " */\n");
		if (unplaced_bytes)
			mv_buf_puts(b, "\t/* virtual bases (?) lie where the "
				       "most-derived object puts them: layout "
				       "an object to see where */\n");
		mv_buf_puts(b, "};\n");
	}
	return NULL;
}

/* pahole's "struct Diamond : V1, V2", "struct V1 : virtual VB". */
static void bases_header(struct mv_cmd_ctx *ctx, struct mv_type *st)
{
	const char *sep = " : ";
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct mv_member *m = &st->members[i];
		if (!(m->flags & MV_MEMBER_BASE))
			continue;
		struct mv_type *bt = mv_type_strip(m->type);
		mv_out(ctx, "%s%s%s", sep,
		       m->flags & MV_MEMBER_VIRTUAL_BASE ? "virtual " : "",
		       bt && bt->name ? bt->name : "?");
		sep = ", ";
	}
}

/* Decides what the argument names: a type, or an object (EXPR). */
static struct mv_error *resolve(struct mv_cmd_ctx *ctx, struct mv_type **type,
				bool *has_address, uint64_t *address,
				const char **note)
{
	struct mv_session *s = ctx->session;
	const char *arg = ctx->pos[0];
	const char *as = mv_opt_str(ctx, "type");
	struct mv_error *err;
	*has_address = false;
	*note = NULL;

	if (as) {
		if ((err = mv_session_parse_type(s, as, type)))
			return err;
		struct mv_value v;
		if ((err = mv_session_eval(s, arg, &v)))
			return err;
		struct mv_type *vt = mv_type_strip(v.type);
		if (v.is_lvalue && vt && (vt->kind == MV_TYPE_STRUCT ||
					  vt->kind == MV_TYPE_UNION ||
					  vt->kind == MV_TYPE_CLASS ||
					  vt->kind == MV_TYPE_ARRAY)) {
			*address = v.address;
		} else if ((err = mv_value_read_scalar(s->program, &v,
						       address))) {
			return err;
		}
		*has_address = true;
		return NULL;
	}

	bool looks_like_type = !strncmp(arg, "struct ", 7) ||
			       !strncmp(arg, "union ", 6) ||
			       !strncmp(arg, "enum ", 5) ||
			       !strncmp(arg, "class ", 6);
	if (looks_like_type)
		return mv_session_parse_type(s, arg, type);

	/* An object wins over a type of the same name, as in gdb's ptype:
	 * `layout list_head` is the program's variable, not glibc's
	 * struct list_head. */
	struct mv_value v;
	err = mv_session_eval(s, arg, &v);
	if (err) {
		struct mv_error *type_err = mv_session_parse_type(s, arg, type);
		if (!type_err) {
			mv_error_destroy(err);
			return NULL;
		}
		if (mv_error_code(type_err) == MV_ERR_NOT_FOUND &&
		    mv_error_code(err) == MV_ERR_NOT_FOUND) {
			mv_error_destroy(err);
			mv_error_destroy(type_err);
			return mv_error_create(MV_ERR_NOT_FOUND,
					       "no type or variable named '%s'",
					       arg);
		}
		if (mv_error_code(type_err) == MV_ERR_INVALID &&
		    mv_error_code(err) == MV_ERR_NOT_FOUND) {
			/* A template name that names several types. */
			mv_error_destroy(err);
			return type_err;
		}
		mv_error_destroy(type_err);
		return err;
	}
	struct mv_type *vt = mv_type_strip(v.type);
	if (vt && vt->kind == MV_TYPE_POINTER) {
		struct mv_type *target = mv_type_target(vt);
		struct mv_type *tt = mv_type_strip(target);
		if (tt && (is_record(tt) || tt->kind == MV_TYPE_ARRAY)) {
			if ((err = mv_value_read_scalar(s->program, &v,
							address)))
				return err;
			*type = target;
			*has_address = *address != 0;
			*note = *address ? "the object the pointer points to"
					 : "a null pointer: layout only";
			return NULL;
		}
	}
	*type = v.type;
	if (v.is_lvalue) {
		*has_address = true;
		*address = v.address;
	}
	return NULL;
}

struct mv_error *mv_cmd_layout(struct mv_cmd_ctx *ctx)
{
	struct mv_session *s = ctx->session;
	struct mv_error *err;
	struct layout L;
	memset(&L, 0, sizeof(L));
	L.ctx = ctx;
	L.style.max_elements = (uint64_t)(mv_opt_num(ctx, "max-elements") > 0
						  ? mv_opt_num(ctx, "max-elements")
						  : 0);
	L.style.max_depth = 2;
	L.style.max_string = 64;
	L.style.skip_virtual_bases = true;
	struct mv_type *type;
	const char *note;
	if ((err = mv_session_need_target(s)))
		return err;
	if ((err = resolve(ctx, &type, &L.has_address, &L.address, &note)))
		return err;
	L.p = s->program;
	if (L.has_address && !s->target)
		L.has_address = false;

	struct mv_type *st = mv_type_strip(type);
	if (!st || st->kind == MV_TYPE_UNKNOWN)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "type of '%s' could not be loaded%s%s",
				       ctx->pos[0], type && type->name ? ": " : "",
				       type && type->name ? type->name : "");
	char tn[256];
	mv_type_name(type, tn, sizeof(tn));
	bool record = is_record(st);
	if (record && !st->is_complete)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "%s is only declared here, its definition "
				       "is in no objfile with debug info", tn);

	if (ctx->json) {
		mv_json_init(&L.j, &ctx->out, false);
		mv_json_begin_object(&L.j);
		mv_json_key(&L.j, "command");
		mv_json_string(&L.j, "layout");
		mv_json_key(&L.j, "type");
		mv_json_string(&L.j, tn);
		mv_json_key(&L.j, "kind");
		static const char *const kinds[] = {
			"unknown", "void", "int", "bool", "float", "pointer",
			"struct", "union", "class", "enum", "typedef", "array",
			"function", "qualified"};
		mv_json_string(&L.j, kinds[st->kind]);
		mv_json_key(&L.j, "size");
		mv_json_uint(&L.j, st->size);
		mv_json_key(&L.j, "alignment");
		mv_json_uint(&L.j, mv_type_alignment(type));
		if (L.has_address) {
			mv_json_key(&L.j, "address");
			mv_json_address(&L.j, L.address);
		}
		if (note) {
			mv_json_key(&L.j, "note");
			mv_json_string(&L.j, note);
		}
	} else {
		if (L.has_address) {
			mv_buf_printf(&ctx->out, "%s at ", ctx->pos[0]);
			mv_value_render_pointer(s->program, L.address, &ctx->out);
			mv_buf_printf(&ctx->out, "%s%s%s:\n", note ? " (" : "",
				      note ? note : "", note ? ")" : "");
		}
	}

	if (record) {
		if (!ctx->json) {
			/* The struct itself, as pahole prints it, even when
			 * reached through a typedef. */
			char sn[256];
			mv_type_name(st, sn, sizeof(sn));
			if (strcmp(sn, tn))
				mv_out(ctx, "/* %s */\n", tn);
			mv_out(ctx, "%s", sn);
			bases_header(ctx, st);
			mv_out(ctx, " {\n");
		}
		err = render_record(&L, st);
		free(L.comps);
		if (err)
			return err;
	} else if (ctx->json) {
		if (L.has_address) {
			mv_json_key(&L.j, "value");
			mv_value_render_json(L.p, type, L.address, 0, 0,
					     &L.style, &L.j);
		}
	} else {
		mv_out(ctx, "%s", tn);
		mv_out(ctx, "%*s/* size: %llu, alignment: %llu */",
		       (int)(strlen(tn) < DECL_COLUMN ? DECL_COLUMN - strlen(tn) : 1),
		       "", (unsigned long long)st->size,
		       (unsigned long long)mv_type_alignment(type));
		if (L.has_address) {
			mv_out(ctx, " = ");
			mv_value_render_text(L.p, type, L.address, 0, 0,
					     &L.style, &ctx->out);
		}
		mv_out(ctx, "\n");
	}
	if (ctx->json) {
		mv_json_end_object(&L.j);
		mv_out(ctx, "\n");
	}
	return mv_buf_error(&ctx->out);
}

static const struct mv_option layout_options[] = {
	{"type", 't', MV_OPT_STRING, "TYPE",
	 "show the object at address EXPR as TYPE", NULL, NULL},
	{"max-elements", 0, MV_OPT_INT, "N",
	 "array elements shown per value", "16", NULL},
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const struct mv_command mv_command_layout = {
	.name = "layout",
	.debugger_name = "mv-layout",
	.synopsis = "TYPE|EXPR",
	.summary = "Show a type's memory layout: offsets, sizes, "
		   "holes and padding, like pahole.",
	.description =
		"TYPE is a C type name ('struct node', 'node_t', "
		"'int[3]'). Given an expression instead, layout shows "
		"the type of the object it names, with each member's "
		"value read from memory; a pointer to a struct shows "
		"the struct it points to. With --type, EXPR is an "
		"address and the object there is shown as TYPE.\n\n"
		"Members are listed in memory order with offset and "
		"size in bytes; bitfields as OFFSET:BIT with the size "
		"of their storage unit. Holes between members and "
		"trailing padding are shown where they are, and the "
		"totals follow the struct as pahole prints them.\n\n"
		"C++ base classes show as pahole's '/* struct Base "
		"<ancestor>; */' lines, covering the bytes up to the "
		"next member (an empty base covers none). A virtual "
		"base lies where the most-derived object puts it: "
		"layout reads its offset from the object's vtable, or "
		"given a class from the class's own; without one its "
		"offset is '?'. The vptr "
		"shows as gdb types it, its value as a pointer into "
		"'vtable for X'.",
	.options = layout_options,
	.min_pos = 1,
	.max_pos = 1,
	.join_rest = true,
	.run = mv_cmd_layout,
};
