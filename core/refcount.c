/* refcount.c - CPython's cycle-collector algorithm over the refcounted
 * structs of a C heap (gc --refcount 'struct obj.refcnt').
 *
 * The candidates are heap objects known to be of the type: reached
 * through typed pointers from the executable's typed globals (the
 * sizeof-deep walk), reached through the type's own pointer fields from
 * other candidates, chunks of the type's malloc size that such fields
 * of other chunks of that size point at (a free-standing cycle has no
 * other way in), and with by_size every chunk of that size.  Then, as
 * gcmodule.c does: gc_refs = refcnt minus the references from other
 * candidates; an object still above zero is held from outside, and what
 * it reaches through candidates' fields survives with it; the rest is
 * what a cycle collector would free.
 *
 * Refcount mistakes: gc_refs below zero means the count is lower than
 * the references the candidates hold (released too often); a count
 * above every word in the roots and in the heap that holds the object's
 * address means a reference leaked.  That second count is conservative
 * (a stale word counts as a reference), so it errs towards silence. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "gc.h"
#include "walk.h"

#define MAX_PTR_FIELDS 4096
#define MAX_TYPE_DEPTH 16
#define MAX_NOTES 100
/* Counts beyond this on a guessed candidate say it is not an object of
 * the type (the field holds something else). */
#define PLAUSIBLE_COUNT (1ll << 30)
#define WALK_MAX_OBJECTS 1000000u

const char *mv_rc_how_key(enum mv_rc_how h)
{
	static const char *const k[MV_RC_HOW_COUNT_] = {
		"typed_roots", "typed_fields", "linked_by_size", "by_size"};
	return (unsigned)h < MV_RC_HOW_COUNT_ ? k[h] : "?";
}

const char *mv_rc_state_key(enum mv_rc_state s)
{
	static const char *const k[] = {"held", "reached", "collectable"};
	return (unsigned)s <= MV_RC_COLLECTABLE ? k[s] : "?";
}

const char *mv_rc_mistake_key(enum mv_rc_mistake m)
{
	static const char *const k[] = {"none", "over_released",
					"leaked_reference", "bad_count"};
	return (unsigned)m <= MV_RC_BAD_COUNT ? k[m] : "?";
}

static struct mv_error *note(struct mv_rc *rc, const char *fmt, ...)
	MV_PRINTF(2, 3);
static struct mv_error *note(struct mv_rc *rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = mv_notes_vadd(&rc->notes, fmt, ap);
	va_end(ap);
	return ok ? NULL : mv_enomem;
}

/* Two DWARF descriptions of one struct (several compile units each
 * have their own). */
static bool same_type(struct mv_type *a, struct mv_type *b)
{
	a = mv_type_strip(a);
	b = mv_type_strip(b);
	if (a == b)
		return true;
	return a && b && a->kind == b->kind && a->size == b->size &&
	       a->name && b->name && !strcmp(a->name, b->name);
}

/* ---- the type: the count field and the pointer fields ---- */

/* "refcnt" or "ob_base.ob_refcnt": members by name, looking into
 * anonymous structs and unions on the way. */
static struct mv_error *find_field(struct mv_type *t, const char *path,
				   uint64_t *off, struct mv_type **ret)
{
	*off = 0;
	const char *p = path;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		t = mv_type_strip(t);
		if (!t || (t->kind != MV_TYPE_STRUCT &&
			   t->kind != MV_TYPE_CLASS &&
			   t->kind != MV_TYPE_UNION))
			return mv_error_create(MV_ERR_INVALID,
					       "--refcount: '%.*s' is not a "
					       "struct, so it has no field "
					       "'%s'", (int)(p - path),
					       path, p);
		const struct mv_member *m = NULL;
		uint64_t base = 0;
		for (size_t i = 0; i < t->nmembers && !m; i++) {
			const struct mv_member *x = &t->members[i];
			if (x->name && strlen(x->name) == len &&
			    !strncmp(x->name, p, len)) {
				m = x;
			} else if (!x->name) {
				struct mv_type *a = mv_type_strip(x->type);
				for (size_t k = 0; a && k < a->nmembers; k++) {
					const struct mv_member *y =
						&a->members[k];
					if (y->name && strlen(y->name) == len &&
					    !strncmp(y->name, p, len)) {
						m = y;
						base = x->bit_position;
						break;
					}
				}
			}
		}
		if (!m)
			return mv_error_create(MV_ERR_NOT_FOUND,
					       "--refcount: no field '%.*s' in "
					       "%s", (int)len, p,
					       t->name ? t->name : "the struct");
		if (m->bit_size || (m->bit_position + base) % 8)
			return mv_error_create(MV_ERR_INVALID,
					       "--refcount: '%.*s' is a bit "
					       "field", (int)len, p);
		*off += (m->bit_position + base) / 8;
		t = m->type;
		p = dot ? dot + 1 : p + len;
	}
	*ret = t;
	return NULL;
}

struct tframe {
	struct mv_type *t;
	uint64_t off;
	unsigned depth;
};

/* Offsets of every pointer to the type inside it (members of members,
 * elements of arrays), without recursion; unions are skipped, as the
 * walk does by default: which member is live is unknown. */
static struct mv_error *pointer_fields(struct mv_rc *rc)
{
	struct tframe *st = malloc(MAX_PTR_FIELDS * sizeof(*st));
	if (!st)
		return mv_enomem;
	size_t n = 0;
	st[n++] = (struct tframe){rc->type, 0, 0};
	while (n) {
		struct tframe f = st[--n];
		struct mv_type *t = mv_type_strip(f.t);
		if (!t || f.depth > MAX_TYPE_DEPTH)
			continue;
		if (t->kind == MV_TYPE_POINTER) {
			if (same_type(mv_type_target(t), rc->type) &&
			    rc->nptr < MAX_PTR_FIELDS && f.off % 8 == 0)
				rc->ptr_off[rc->nptr++] = f.off;
			continue;
		}
		if (t->kind == MV_TYPE_STRUCT || t->kind == MV_TYPE_CLASS) {
			for (size_t i = t->nmembers; i-- > 0;) {
				const struct mv_member *m = &t->members[i];
				if (m->bit_size || n == MAX_PTR_FIELDS)
					continue;
				st[n++] = (struct tframe){
					m->type, f.off + m->bit_position / 8,
					f.depth + 1};
			}
		} else if (t->kind == MV_TYPE_ARRAY && t->has_count) {
			struct mv_type *el = mv_type_target(t);
			struct mv_type *se = mv_type_strip(el);
			uint64_t esz = se ? se->size : 0;
			for (uint64_t k = t->count; esz && k-- > 0;) {
				if (n == MAX_PTR_FIELDS)
					break;
				st[n++] = (struct tframe){el, f.off + k * esz,
							  f.depth + 1};
			}
		}
	}
	free(st);
	/* Ascending, for reading a copy of the object in order. */
	for (size_t i = 1; i < rc->nptr; i++)
		for (size_t j = i; j && rc->ptr_off[j - 1] > rc->ptr_off[j];
		     j--) {
			uint64_t x = rc->ptr_off[j];
			rc->ptr_off[j] = rc->ptr_off[j - 1];
			rc->ptr_off[j - 1] = x;
		}
	return NULL;
}

/* ---- candidates ---- */

/* An open-addressing set of object addresses -> index in rc->objs. */
static struct mv_error *set_grow(struct mv_rc *rc)
{
	size_t cap = rc->set_cap ? rc->set_cap * 2 : 1024;
	uint32_t *s = malloc(cap * sizeof(*s));
	if (!s)
		return mv_enomem;
	memset(s, 0xff, cap * sizeof(*s));
	for (size_t i = 0; i < rc->n; i++) {
		uint64_t h = (rc->objs[i].addr >> 4) * 0x9e3779b97f4a7c15ull;
		size_t x = (size_t)(h >> 32) & (cap - 1);
		while (s[x] != UINT32_MAX)
			x = (x + 1) & (cap - 1);
		s[x] = (uint32_t)i;
	}
	free(rc->set);
	rc->set = s;
	rc->set_cap = cap;
	return NULL;
}

static size_t set_find(const struct mv_rc *rc, uint64_t addr)
{
	if (!rc->set_cap)
		return SIZE_MAX;
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ull;
	size_t x = (size_t)(h >> 32) & (rc->set_cap - 1);
	while (rc->set[x] != UINT32_MAX) {
		if (rc->objs[rc->set[x]].addr == addr)
			return rc->set[x];
		x = (x + 1) & (rc->set_cap - 1);
	}
	return SIZE_MAX;
}

/* Reads the count field of the object at addr; false if unreadable. */
static bool read_count(struct mv_rc *rc, uint64_t addr, int64_t *ret)
{
	uint8_t b[8] = {0};
	if (mv_target_read_partial(rc->gc->target, addr + rc->count_off, b,
				   rc->count_size) != rc->count_size)
		return false;
	uint64_t v = 0;
	memcpy(&v, b, rc->count_size); /* little endian (x86-64) */
	if (rc->count_signed && rc->count_size < 8 &&
	    (v >> (rc->count_size * 8 - 1)) & 1)
		v |= ~0ull << (rc->count_size * 8);
	*ret = (int64_t)v;
	return true;
}

struct mv_error *mv_rc_reserve(struct mv_rc *rc)
{
	if (rc->n < rc->cap)
		return NULL;
	size_t cap = rc->cap ? rc->cap * 2 : 256;
	if (cap >= UINT32_MAX)
		return mv_error_create(MV_ERR_LIMIT, "--refcount: too many "
				       "objects");
	struct mv_rc_obj *o = realloc(rc->objs, cap * sizeof(*o));
	if (!o)
		return mv_enomem;
	rc->objs = o;
	rc->cap = cap;
	return NULL;
}

/* Adds the object at addr if it lies in an in-use block, whole, and its
 * count is readable (and, for a guess - found by size, or through a
 * field of a guess - plausible). */
static struct mv_error *add(struct mv_rc *rc, uint64_t addr,
			    enum mv_rc_how how, bool guess)
{
	if (set_find(rc, addr) != SIZE_MAX)
		return NULL;
	bool interior;
	size_t i = mv_gc_find_block(rc->gc, addr, &interior);
	if (i == SIZE_MAX ||
	    addr + rc->size > mv_gc_mem(rc->gc, i) + mv_gc_usable(rc->gc, i))
		return NULL;
	int64_t count;
	if (!read_count(rc, addr, &count))
		return NULL;
	if (guess && (count < 0 || count > PLAUSIBLE_COUNT)) {
		rc->implausible++;
		return NULL;
	}
	struct mv_error *err = mv_rc_reserve(rc);
	if (err)
		return err;
	if ((rc->n + 1) * 2 > rc->set_cap && (err = set_grow(rc)))
		return err;
	rc->objs[rc->n] = (struct mv_rc_obj){
		.addr = addr, .chunk = (uint32_t)i, .how = (uint8_t)how,
		.guess = guess, .count = count};
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ull;
	size_t x = (size_t)(h >> 32) & (rc->set_cap - 1);
	while (rc->set[x] != UINT32_MAX)
		x = (x + 1) & (rc->set_cap - 1);
	rc->set[x] = (uint32_t)rc->n;
	rc->n++;
	rc->how[how]++;
	return NULL;
}

/* A copy of the object's bytes in rc->buf (zeros past what is
 * readable): a copy, because a peeked pointer would not survive the
 * reads of the count field that follow. */
static const uint8_t *obj_bytes(struct mv_rc *rc, uint64_t addr)
{
	memset(rc->buf, 0, rc->size);
	mv_target_read_partial(rc->gc->target, addr, rc->buf, rc->size);
	return rc->buf;
}

static uint64_t field(const uint8_t *p, uint64_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

struct walk_ctx {
	struct mv_rc *rc;
	struct mv_chunk_dir *dir;
	char name[256];
	struct mv_error *err;
	uint64_t budget;
	mv_gc_poll_fn poll;
	void *poll_arg;
};

/* One typed global: walk from it, and take the heap objects of the
 * type it reaches. */
static bool walk_var(void *arg, const char *name, uint64_t addr,
		     struct mv_type *type)
{
	struct walk_ctx *c = arg;
	struct mv_rc *rc = c->rc;
	struct mv_type *st = mv_type_strip(type);
	/* Only globals that can hold a pointer lead anywhere. */
	if (!st || (st->kind != MV_TYPE_POINTER &&
		    st->kind != MV_TYPE_STRUCT && st->kind != MV_TYPE_CLASS &&
		    st->kind != MV_TYPE_ARRAY))
		return true;
	if (!c->budget) {
		rc->walk_capped = true;
		return false;
	}
	struct mv_walk_options o = {
		.max_objects = c->budget,
		.unions = MV_WALK_UNIONS_NONE,
		.find_chunk = mv_chunk_dir_find,
		.chunk_arg = c->dir,
		.nchunks = rc->gc->n,
		.poll = c->poll,
		.poll_arg = c->poll_arg,
	};
	struct mv_walk w;
	struct mv_error *err = mv_walk_init(&w, rc->gc->program, &o);
	if (!err)
		err = mv_walk_run(&w, type, addr);
	if (err && mv_error_code(err) != MV_ERR_INTERRUPTED &&
	    mv_error_code(err) != MV_ERR_NOMEM) {
		/* A global the walk cannot start from is not a root. */
		mv_error_destroy(err);
		err = NULL;
	}
	rc->globals_walked++;
	for (size_t i = 0; !err && i < w.nobjs; i++) {
		const struct mv_walk_obj *ob = &w.objs[i];
		if (mv_walk_plan_kind(&w, ob->plan) != MV_WALK_TYPED ||
		    strcmp(mv_walk_plan_name(&w, ob->plan), c->name) ||
		    mv_walk_where(&w, i) != MV_WHERE_HEAP)
			continue;
		for (uint32_t k = 0; k < ob->count && !err; k++)
			err = add(rc, ob->addr + k * rc->size, MV_RC_TYPED,
				  false);
	}
	if (!err && w.interrupted && c->poll)
		err = c->poll(c->poll_arg);
	c->budget -= w.nobjs < c->budget ? w.nobjs : c->budget;
	if (w.hit_max_objects)
		rc->walk_capped = true;
	mv_walk_deinit(&w);
	c->err = err;
	return !err;
}

static struct mv_error *from_globals(struct mv_rc *rc, mv_gc_poll_fn poll,
				     void *poll_arg)
{
	struct mv_objfile **objs;
	size_t n = mv_program_objfiles(rc->gc->program, &objs);
	struct walk_ctx c = {.rc = rc, .budget = WALK_MAX_OBJECTS,
			     .poll = poll, .poll_arg = poll_arg};
	mv_type_name(mv_type_strip(rc->type), c.name, sizeof(c.name));
	struct mv_error *err = mv_chunk_dir_create(rc->gc->heap, &c.dir);
	if (err)
		return err;
	for (size_t i = 0; i < n && !c.err; i++) {
		struct mv_dwarf *d;
		if (!objs[i]->is_main)
			continue;
		if ((err = mv_objfile_dwarf(objs[i], &d))) {
			mv_error_destroy(err);
			continue;
		}
		err = mv_dwarf_for_each_variable(d, walk_var, &c);
		if (err && !c.err)
			c.err = err;
		else
			mv_error_destroy(err);
	}
	mv_chunk_dir_destroy(c.dir);
	return c.err;
}

/* Ctrl-C: the loops over every chunk or object poll every 64k steps
 * (a big heap has tens of millions). */
static struct mv_error *rc_poll(struct mv_rc *rc, size_t i)
{
	const struct mv_gc *gc = rc->gc;
	if ((i & 0xffff) != 0xffff || !gc->opt.poll)
		return NULL;
	return gc->opt.poll(gc->opt.poll_arg);
}

static bool fits(const struct mv_rc *rc, size_t i)
{
	return rc->gc->kind[i] != MV_GC_NOT_BLOCK &&
	       mv_gc_size(rc->gc, i) == rc->chunk_size &&
	       !(mv_gc_flags(rc->gc, i) & MV_CHUNK_MMAPPED);
}

/* Chunks of the type's malloc size that a pointer field of another such
 * chunk points at; with by_size, every chunk of that size. */
static struct mv_error *from_chunks(struct mv_rc *rc, bool by_size)
{
	struct mv_gc *gc = rc->gc;
	struct mv_error *err;
	for (size_t i = 0; i < gc->n; i++) {
		if ((err = rc_poll(rc, i)))
			return err;
		if (!fits(rc, i))
			continue;
		uint64_t mem = mv_gc_mem(gc, i);
		if (by_size && (err = add(rc, mem, MV_RC_SIZE, true)))
			return err;
		const uint8_t *p = obj_bytes(rc, mem);
		for (size_t k = 0; k < rc->nptr; k++) {
			uint64_t v = field(p, rc->ptr_off[k]);
			bool interior;
			if (v == mem || v < gc->lo || v >= gc->hi)
				continue;
			size_t j = mv_gc_find_block(gc, v, &interior);
			if (j == SIZE_MAX || interior || !fits(rc, j))
				continue;
			if ((err = add(rc, v, MV_RC_LINKED, true)))
				return err;
		}
	}
	return NULL;
}

/* Everything the candidates' pointer fields reach (a worklist over the
 * object array itself: it only grows). */
static struct mv_error *closure(struct mv_rc *rc)
{
	struct mv_error *err;
	for (size_t i = 0; i < rc->n; i++) {
		if ((err = rc_poll(rc, i)))
			return err;
		const uint8_t *p = obj_bytes(rc, rc->objs[i].addr);
		bool guess = rc->objs[i].guess;
		for (size_t k = 0; k < rc->nptr; k++) {
			uint64_t v = field(p, rc->ptr_off[k]);
			if (v && (err = add(rc, v, MV_RC_FIELD, guess)))
				return err;
		}
	}
	return NULL;
}

/* ---- the algorithm ---- */

static int obj_cmp(const void *a, const void *b)
{
	const struct mv_rc_obj *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t mv_rc_find(const struct mv_rc *rc, uint64_t addr)
{
	size_t lo = 0, hi = rc->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rc->objs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rc->n && rc->objs[lo].addr == addr ? lo : SIZE_MAX;
}

/* The references among candidates, as a CSR graph, and the subtraction
 * of gcmodule.c's subtract_refs(). */
static struct mv_error *internal_refs(struct mv_rc *rc)
{
	rc->off = malloc((rc->n + 1) * sizeof(*rc->off));
	if (!rc->off)
		return mv_enomem;
	size_t cap = rc->n ? rc->n : 1, m = 0;
	rc->adj = malloc(cap * sizeof(*rc->adj));
	if (!rc->adj)
		return mv_enomem;
	struct mv_error *err;
	for (size_t i = 0; i < rc->n; i++) {
		if ((err = rc_poll(rc, i)))
			return err;
		rc->off[i] = m;
		const uint8_t *p = obj_bytes(rc, rc->objs[i].addr);
		for (size_t k = 0; k < rc->nptr; k++) {
			size_t j = mv_rc_find(rc, field(p, rc->ptr_off[k]));
			if (j == SIZE_MAX)
				continue;
			if (m == cap) {
				uint32_t *a = realloc(rc->adj,
						      2 * cap * sizeof(*a));
				if (!a)
					return mv_enomem;
				rc->adj = a;
				cap *= 2;
			}
			rc->adj[m++] = (uint32_t)j;
			rc->objs[j].internal++;
		}
	}
	rc->off[rc->n] = m;
	rc->nadj = m;
	for (size_t i = 0; i < rc->n; i++)
		rc->objs[i].gc_refs = rc->objs[i].count - rc->objs[i].internal;
	return NULL;
}

/* gcmodule.c's move_unreachable(), as a plain search: the held objects
 * and everything their fields reach survive. */
static struct mv_error *survivors(struct mv_rc *rc)
{
	uint32_t *stack = malloc((rc->n ? rc->n : 1) * sizeof(*stack));
	if (!stack)
		return mv_enomem;
	size_t ns = 0;
	for (size_t i = 0; i < rc->n; i++) {
		rc->objs[i].state = MV_RC_COLLECTABLE;
		if (rc->objs[i].gc_refs > 0 || rc->objs[i].bad_count) {
			rc->objs[i].state = MV_RC_HELD;
			stack[ns++] = (uint32_t)i;
		}
	}
	while (ns) {
		uint32_t v = stack[--ns];
		for (uint64_t x = rc->off[v]; x < rc->off[v + 1]; x++) {
			uint32_t w = rc->adj[x];
			if (rc->objs[w].state != MV_RC_COLLECTABLE)
				continue;
			rc->objs[w].state = MV_RC_REACHED;
			stack[ns++] = w;
		}
	}
	free(stack);
	return NULL;
}

/* The collectable objects' cycles: SCCs of the graph restricted to
 * them (edges to survivors cannot exist: a survivor's successors
 * survive, but a collectable object may point at a survivor). */
static struct mv_error *garbage_cycles(struct mv_rc *rc, mv_gc_poll_fn poll,
				       void *poll_arg)
{
	size_t n = rc->n;
	rc->comp = malloc((n ? n : 1) * sizeof(*rc->comp));
	uint64_t *off = malloc((n + 1) * sizeof(*off));
	uint32_t *adj = malloc((rc->nadj ? rc->nadj : 1) * sizeof(*adj));
	struct mv_error *err = NULL;
	if (!rc->comp || !off || !adj) {
		err = mv_enomem;
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		off[i] = m;
		if (rc->objs[i].state != MV_RC_COLLECTABLE)
			continue;
		for (uint64_t x = rc->off[i]; x < rc->off[i + 1]; x++)
			if (rc->objs[rc->adj[x]].state == MV_RC_COLLECTABLE)
				adj[m++] = rc->adj[x];
	}
	off[n] = m;
	size_t ncomp;
	if ((err = mv_scc_tarjan(n, off, adj, UINT32_MAX, rc->comp, &ncomp,
				 poll, poll_arg)))
		goto out;
	rc->ncomp = ncomp;
	rc->comp_size = calloc(ncomp ? ncomp : 1, sizeof(*rc->comp_size));
	rc->comp_cyclic = calloc(ncomp ? ncomp : 1, sizeof(*rc->comp_cyclic));
	if (!rc->comp_size || !rc->comp_cyclic) {
		err = mv_enomem;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc->comp_size[rc->comp[i]]++;
		for (uint64_t x = off[i]; x < off[i + 1]; x++)
			if (adj[x] == i)
				rc->comp_cyclic[rc->comp[i]] = true;
	}
	for (size_t i = 0; i < n; i++)
		if (rc->objs[i].state == MV_RC_COLLECTABLE &&
		    rc->comp_size[rc->comp[i]] > 1)
			rc->comp_cyclic[rc->comp[i]] = true;
	for (size_t c = 0; c < ncomp; c++)
		if (rc->comp_cyclic[c])
			rc->cycles++;
out:
	free(off);
	free(adj);
	return err;
}

bool mv_rc_in_cycle(const struct mv_rc *rc, size_t i)
{
	return rc->objs[i].state == MV_RC_COLLECTABLE &&
	       rc->comp_cyclic[rc->comp[i]];
}

struct mv_error *mv_rc_run(struct mv_rc *rc, struct mv_gc *gc,
			   struct mv_type *type, const char *field_path,
			   bool by_size)
{
	struct mv_error *err;
	memset(rc, 0, sizeof(*rc));
	mv_notes_init(&rc->notes, MAX_NOTES);
	rc->gc = gc;
	rc->type = mv_type_strip(type);
	if (!rc->type || (rc->type->kind != MV_TYPE_STRUCT &&
			  rc->type->kind != MV_TYPE_CLASS) ||
	    !rc->type->is_complete || !rc->type->size)
		return mv_error_create(MV_ERR_INVALID, "--refcount: the type "
				       "must be a complete struct");
	rc->size = rc->type->size;
	struct mv_type *ft = NULL;
	if ((err = find_field(rc->type, field_path, &rc->count_off, &ft)))
		return err;
	struct mv_type *sf = mv_type_strip(ft);
	if (!sf || (sf->kind != MV_TYPE_INT && sf->kind != MV_TYPE_ENUM) ||
	    !sf->size || sf->size > 8 || rc->count_off + sf->size > rc->size)
		return mv_error_create(MV_ERR_INVALID, "--refcount: the field "
				       "'%s' is not an integer", field_path);
	rc->count_size = (size_t)sf->size;
	rc->count_signed = sf->is_signed;
	/* glibc's request2size: the chunk malloc(sizeof) returns. */
	rc->chunk_size = (rc->size + 8 + 15) & ~15ull;
	if (rc->chunk_size < 32)
		rc->chunk_size = 32;
	rc->buf = malloc(rc->size);
	rc->ptr_off = malloc(MAX_PTR_FIELDS * sizeof(*rc->ptr_off));
	if (!rc->buf || !rc->ptr_off)
		return mv_enomem;
	if ((err = pointer_fields(rc)))
		return err;
	if (!rc->nptr && (err = note(rc, "the type has no pointer to itself: "
				     "no object can hold another, so only "
				     "typed globals find objects and none "
				     "is ever in a cycle")))
		return err;
	if (gc->program && (err = from_globals(rc, gc->opt.poll,
					       gc->opt.poll_arg)))
		return err;
	if ((err = from_chunks(rc, by_size)) || (err = closure(rc)))
		return err;
	if (rc->walk_capped && (err = note(rc, "the walk from the globals "
					   "stopped at %u objects: objects "
					   "beyond were found only by size",
					   WALK_MAX_OBJECTS)))
		return err;
	if (rc->implausible &&
	    (err = note(rc, "%llu chunk%s of the size not taken as objects: "
			"the count field holds %s", (unsigned long long)
			rc->implausible, rc->implausible == 1 ? "" : "s",
			"a negative or huge value")))
		return err;
	/* The set indexes positions; sorting moves them: drop it. */
	free(rc->set);
	rc->set = NULL;
	rc->set_cap = 0;
	if (rc->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(rc->objs, rc->n, sizeof(*rc->objs), obj_cmp);
	if ((err = internal_refs(rc)))
		return err;
	return mv_rc_verdict(rc);
}

struct mv_error *mv_rc_verdict(struct mv_rc *rc)
{
	struct mv_gc *gc = rc->gc;
	struct mv_error *err;
	if ((err = survivors(rc)) ||
	    (err = garbage_cycles(rc, gc->opt.poll, gc->opt.poll_arg)))
		return err;

	/* Every word holding an object's address, anywhere (a conservative
	 * count of all references). */
	uint64_t *addrs = malloc((rc->n ? rc->n : 1) * sizeof(*addrs));
	uint32_t *found = calloc(rc->n ? rc->n : 1, sizeof(*found));
	if (!addrs || !found) {
		free(addrs);
		free(found);
		return mv_enomem;
	}
	for (size_t i = 0; i < rc->n; i++)
		addrs[i] = rc->objs[i].addr;
	err = mv_gc_count_refs(gc, addrs, rc->n, found);
	for (size_t i = 0; !err && i < rc->n; i++) {
		struct mv_rc_obj *o = &rc->objs[i];
		/* Typed fields are words of candidates' chunks, so found
		 * includes them; a field the scan could not read still
		 * counts.  A model's edges are those of its objects' live
		 * slots (lengths, skip rules): as exact. */
		o->found = found[i] > o->internal ? found[i] : o->internal;
		if (o->bad_count)
			o->mistake = MV_RC_BAD_COUNT;
		else if (o->gc_refs < 0)
			o->mistake = MV_RC_OVER_RELEASED;
		else if (o->count > (int64_t)o->found)
			o->mistake = MV_RC_LEAKED;
		if (o->mistake)
			rc->mistakes[o->mistake]++;
		rc->states[o->state]++;
		if (o->state == MV_RC_COLLECTABLE)
			rc->collectable_bytes += o->bytes ? o->bytes : rc->size;
	}
	free(addrs);
	free(found);
	return err;
}

void mv_rc_deinit(struct mv_rc *rc)
{
	free(rc->objs);
	free(rc->set);
	free(rc->buf);
	free(rc->ptr_off);
	free(rc->off);
	free(rc->adj);
	free(rc->comp);
	free(rc->comp_size);
	free(rc->comp_cyclic);
	mv_rc_model_free(rc);
	mv_notes_deinit(&rc->notes);
	memset(rc, 0, sizeof(*rc));
}
