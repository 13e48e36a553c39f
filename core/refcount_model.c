/* refcount_model.c - gc --refcount over the objects of an object model
 * (docs/types.md: refcount, tracked): CPython's gc.collect() on a core.
 *
 * The objects: every heap block holding, after the header its rules put
 * in front of it, an object of the refcount rule's TYPE whose type field
 * (the field TYPE's dispatch rules read) names a known type: a value a
 * dispatch rule names, or a type object: the metatype (the object whose
 * type field points to itself, CPython's `type`), an object whose type
 * it is (a class), or one whose type's type it is that the typeobject
 * rule calls a type (a class with a metaclass).
 * The object and its header must fill the block (past the guard rule's
 * debug prefixes, nested ones too), and lie where the model's object
 * rules of TYPE say objects lie, if it has any.  With a tracked rule
 * only the objects whose GC header says tracked are the collector's; a
 * count of 0 is an object on a free list (or being freed), never
 * garbage.  Objects outside the heap (static types, small ints) are not
 * candidates: what they hold is held from outside.
 *
 * The references among them are the model's edges, the ones sizeof-deep
 * follows (dispatch, lengths, arrays, slots, dicts): one walk from all
 * of them at once, with its edges; an edge into a heap record that is
 * no object of the model (a list's item array, a dict's keys, a set's
 * table) is followed on, as a reference from the object that owns that
 * block (a record that is an object, one the search missed, is not);
 * an edge into the middle of an object is none; an object's type
 * field is a reference to its type when the type is one of the
 * collector's objects (a class).  Then gcmodule.c's algorithm (refcount.c:
 * mv_rc_verdict): gc_refs = count - internal references; what stays
 * above 0 is held from outside and keeps what it reaches; the rest is
 * what gc.collect() frees. */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "rules.h"
#include "walk.h"

#define HEADER_TRY 64        /* header bytes tried in front of objects */
#define PROBE_BYTES 256      /* bytes of a block read to find its object */
#define PLAUSIBLE_COUNT (1ll << 30)
#define TYPE_CACHE 4096      /* type field values remembered (a power of 2) */
#define MAX_NOTES 100
/* Bytes an allocator may add to a request (glibc: 8 of header room plus
 * rounding to 16, and a 24-byte minimum). */
#define BLOCK_SLACK 32
#define FIRST_MEMBER_DEPTH 8  /* structs nested at the start of a struct */
#define GUARD_LEVELS 4       /* debug prefixes nested in front of a block */

struct mv_rc_model {
	struct mv_walk walk;
	bool walk_inited;
	struct mv_chunk_dir *dir;
	struct mv_type ptr;          /* TYPE *, the walk's roots */
	const struct mv_rules *rules;
	uint64_t tf_off;             /* the type field */
	uint32_t tf_size;
	uint64_t *known;             /* values dispatch rules name */
	size_t nknown;
	struct { uint64_t v; uint8_t verdict; } cache[TYPE_CACHE];
	uint32_t *wi;                /* walk record of each object */
	uint32_t *owner;             /* per walk record: object or NONE */
	struct mv_buf class_name;    /* mv_rc_type_name's last answer */
};

#define NONE UINT32_MAX

static uint64_t read_le(struct mv_target *t, uint64_t addr, uint32_t size,
			bool *ok)
{
	uint64_t v = 0;
	*ok = mv_target_read_partial(t, addr, &v, size) == size;
	return v;
}

static size_t target_read(void *arg, uint64_t address, void *buf, size_t n)
{
	return mv_target_read_partial(arg, address, buf, n);
}

/* Whether the object at v is a type object by the typeobject rule. */
static bool typeobject(struct mv_rc_model *m, struct mv_target *t,
		       uint64_t v)
{
	const struct mv_len_expr *e = &m->rules->typeobject.expr;
	uint8_t b[PROBE_BYTES];
	uint64_t r;
	if (e->end > sizeof(b))
		return false;
	size_t got = mv_target_read_partial(t, v, b, (size_t)e->end);
	return mv_len_expr_eval_read(e, b, got, target_read, t, &r) && r;
}

/* Whether v, a type field's value, names a known type (see the top). */
static bool known_type(struct mv_rc_model *m, struct mv_target *t, uint64_t v)
{
	if (!v)
		return false;
	for (size_t i = 0; i < m->nknown; i++)
		if (m->known[i] == v)
			return true;
	size_t slot = (size_t)((v >> 3) * 0x9e3779b97f4a7c15ull >> 52) &
		      (TYPE_CACHE - 1);
	if (m->cache[slot].v == v)
		return m->cache[slot].verdict;
	bool ok, known = false;
	uint64_t meta = read_le(t, v + m->tf_off, m->tf_size, &ok);
	if (ok && meta == v) {
		known = true;           /* the metatype itself */
	} else if (ok && meta) {
		/* A class: its type is the metatype.  Any object's type's
		 * type is the metatype too: one level more, a class with
		 * a metaclass, only when the typeobject rule says v is a
		 * type. */
		uint64_t mm = read_le(t, meta + m->tf_off, m->tf_size, &ok);
		uint64_t m3 = ok && mm && mm != meta
				      ? read_le(t, mm + m->tf_off, m->tf_size, &ok)
				      : 0;
		known = ok && (mm == meta ||
			       (m3 == mm && m->rules->has_typeobject &&
				typeobject(m, t, v)));
	}
	m->cache[slot].v = v;
	m->cache[slot].verdict = known;
	return known;
}

/* Whether v is the metatype: its type field points to itself. */
static bool is_metatype(struct mv_rc_model *m, struct mv_target *t,
			uint64_t v)
{
	bool ok;
	return read_le(t, v + m->tf_off, m->tf_size, &ok) == v && ok;
}

static struct mv_error *add_object(struct mv_rc *rc, uint64_t addr,
				   size_t chunk, int64_t count)
{
	struct mv_error *err = mv_rc_reserve(rc);
	if (err)
		return err;
	rc->objs[rc->n++] = (struct mv_rc_obj){
		.addr = addr, .chunk = (uint32_t)chunk, .count = count,
		.bad_count = count < 0 || count > PLAUSIBLE_COUNT};
	return NULL;
}

/* Whether walk record i is an object of the model (declared TYPE, a
 * type a dispatch rule gives, or a struct that starts with a TYPE: a
 * PyTypeObject a descriptor's d_type points to), not a block one owns
 * (an item array, a dict's keys, a set's table).  An object the probe
 * missed is then no block of each object pointing to it. */
static bool is_object(const struct mv_rc_model *m, struct mv_walk *w,
		      size_t i)
{
	struct mv_type *t = mv_walk_plan_type(w, w->objs[i].plan);
	const struct mv_rules *r = m->rules;
	for (size_t k = 0; k < r->ndispatch; k++)
		if (r->dispatch[k].real == t)
			return true;
	for (int depth = 0; t && depth < FIRST_MEMBER_DEPTH; depth++) {
		if (t == r->refcount.record)
			return true;
		/* The same struct as another compile unit describes it
		 * (a PyObject * of a module's own DWARF): by its name. */
		char key[MV_EVAL_TYPE_NAME_MAX];
		mv_rules_type_key(t, key, sizeof(key));
		if (!strcmp(key, r->refcount.type))
			return true;
		if ((t->kind != MV_TYPE_STRUCT && t->kind != MV_TYPE_CLASS) ||
		    !t->nmembers || t->members[0].bit_position)
			return false;
		t = mv_type_strip(t->members[0].type);
	}
	return false;
}

static int64_t signed_count(uint64_t v, uint32_t size, bool is_signed)
{
	if (is_signed && size < 8 && (v >> (size * 8 - 1)) & 1)
		v |= ~0ull << (size * 8);
	return (int64_t)v;
}

/* The bytes of the guard rule's debug prefixes block b starts with
 * (each one's last bytes are the guard's fill), or 0.  They nest: a
 * debug hook over an allocator whose large blocks come from another
 * hooked one (CPython's pymalloc_debug: an object of more than 512
 * bytes has the raw domain's prefix, then the object domain's). */
static uint64_t guard_bytes(const struct mv_rules *r, const uint8_t *b,
			    size_t len)
{
	const struct mv_rule_guard *g = &r->guard;
	uint64_t lead = 0;
	if (!r->has_guard)
		return 0;
	for (int level = 0; level < GUARD_LEVELS &&
			    lead + 2 * g->bytes <= len; level++) {
		for (uint32_t k = g->bytes - g->count; k < g->bytes; k++)
			if (b[lead + k] != g->fill)
				return lead;
		lead += g->bytes;
	}
	return lead;
}

/* Whether the object at addr (its first len bytes in b) is where the
 * model's object rules of the refcount rule's TYPE say objects lie
 * (referrers' and path-to's objects: CPython's have a count above 0),
 * or there are none: a dict's keys block whose entry's hash is a
 * class's address (a dict keyed by id()) reads as a class's instance
 * there, with a garbage count. */
static bool object_rule_holds(const struct mv_rules *r, struct mv_target *t,
			      const uint8_t *b, size_t len, uint64_t addr)
{
	uint8_t own[PROBE_BYTES];
	bool any = false;
	for (size_t k = 0; k < r->nobjects; k++) {
		const struct mv_rule_object *ob = &r->objects[k];
		const uint8_t *at = b;
		size_t n = len;
		uint64_t v = 0;
		if (strcmp(ob->type, r->refcount.type))
			continue;
		any = true;
		if (ob->cond.end > n) {
			if (ob->cond.end > sizeof(own))
				continue;
			at = own;
			n = mv_target_read_partial(t, addr, own, ob->cond.end);
		}
		if (mv_len_expr_eval_read(&ob->cond, at, n, target_read, t,
					  &v) && v)
			return true;
	}
	return !any;
}

/* The object in block i, if the model finds one there: tried after
 * each header size up to HEADER_TRY, taken where the type field names
 * a known type and the object's own header rule says that many bytes. */
static struct mv_error *probe_block(struct mv_rc *rc, size_t i)
{
	struct mv_rc_model *m = rc->m;
	const struct mv_rule_refcount *rr = &m->rules->refcount;
	struct mv_target *t = rc->gc->target;
	uint64_t mem = mv_gc_mem(rc->gc, i);
	uint8_t b[PROBE_BYTES];
	size_t want = mv_gc_usable(rc->gc, i) < sizeof(b)
			      ? (size_t)mv_gc_usable(rc->gc, i) : sizeof(b);
	size_t len = mv_target_read_partial(t, mem, b, want);
	rc->blocks++;
	uint64_t lead = guard_bytes(m->rules, b, len);
	uint64_t room = mv_gc_usable(rc->gc, i) - 2 * lead;
	for (uint64_t o = lead; o <= lead + HEADER_TRY; o += 8) {
		if (o + m->tf_off + m->tf_size > len ||
		    o + rr->offset + rr->size > len)
			break;
		uint64_t v = 0;
		memcpy(&v, b + o + m->tf_off, m->tf_size);
		if (!known_type(m, t, v))
			continue;
		uint64_t addr = mem + o, header, bytes;
		struct mv_type *real;
		struct mv_error *err = mv_walk_resolve(&m->walk, rr->record,
						       &addr, &real, &header,
						       &bytes);
		if (err)
			return err;
		/* The object and its header fill the block, as an
		 * allocator rounds a request up: a block that only holds
		 * a pointer to a type somewhere (an array of classes) is
		 * no object.  But for a class: its slots' descriptions
		 * follow it (tp_itemsize, which no rule sizes). */
		if (addr != mem + o || header != o - lead ||
		    (bytes + BLOCK_SLACK < room && !is_metatype(m, t, v)))
			continue;
		rc->objects++;
		if (m->rules->has_tracked) {
			const struct mv_rule_tracked *tr = &m->rules->tracked;
			uint64_t hs = tr->header->size, flag = 0;
			if (hs <= o - lead)
				memcpy(&flag, b + o - hs + tr->offset, tr->size);
			if (hs > o - lead || !flag) {
				rc->untracked++;
				return NULL;
			}
		}
		uint64_t cv = 0;
		bool interior;
		memcpy(&cv, b + o + rr->offset, rr->size);
		int64_t count = signed_count(cv, rr->size, rr->is_signed);
		/* A "count" that is the address of a heap block is a
		 * pointer: a block of pointers (an argument array) whose
		 * words only look like an object's head. */
		if (count > 0 && rr->size == 8 &&
		    mv_gc_find_block(rc->gc, cv, &interior) != SIZE_MAX) {
			rc->objects--;
			continue;
		}
		if (!count) {
			rc->zero_count++;
			return NULL;
		}
		if (!object_rule_holds(m->rules, t, b + o, len - o, mem + o)) {
			rc->objects--;
			continue;
		}
		if (count < 0 || count > PLAUSIBLE_COUNT)
			rc->bad_counts++;
		return add_object(rc, mem + o, i, count);
	}
	return NULL;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct mv_rc_obj *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The type field: the one TYPE's dispatch rules read, and the values
 * they name. */
static struct mv_error *type_field(struct mv_rc_model *m)
{
	const struct mv_rules *r = m->rules;
	const char *tn = r->refcount.type;
	m->known = malloc((r->ndispatch ? r->ndispatch : 1) *
			  sizeof(*m->known));
	if (!m->known)
		return mv_enomem;
	for (size_t i = 0; i < r->ndispatch; i++) {
		const struct mv_rule_dispatch *d = &r->dispatch[i];
		if (strcmp(d->type, tn) || d->width || d->has_cond)
			continue;
		if (!m->nknown) {
			m->tf_off = d->offset;
			m->tf_size = d->size;
		}
		if (d->offset == m->tf_off && d->size == m->tf_size)
			m->known[m->nknown++] = d->value;
	}
	if (!m->nknown)
		return mv_error_create(MV_ERR_USAGE, "%s: refcount %s.%s: no "
				       "dispatch rule on %s says which field "
				       "holds an object's type, so its objects "
				       "cannot be found", r->refcount.where,
				       tn, r->refcount.field, tn);
	return NULL;
}

static struct mv_error *find_objects(struct mv_rc *rc)
{
	struct mv_gc *gc = rc->gc;
	struct mv_error *err;
	for (size_t i = 0; i < gc->n; i++) {
		if ((i & 0xffff) == 0xffff && gc->opt.poll &&
		    (err = gc->opt.poll(gc->opt.poll_arg)))
			return err;
		if (gc->kind[i] == MV_GC_NOT_BLOCK)
			continue;
		if ((err = probe_block(rc, i)))
			return err;
	}
	if (rc->n)
		qsort(rc->objs, rc->n, sizeof(*rc->objs), addr_cmp);
	return NULL;
}

/* One walk from every object, with its edges; which record is which
 * object. */
static struct mv_error *walk_objects(struct mv_rc *rc)
{
	struct mv_rc_model *m = rc->m;
	struct mv_walk *w = &m->walk;
	uint64_t *values = malloc((rc->n ? rc->n : 1) * sizeof(*values));
	if (!values)
		return mv_enomem;
	for (size_t i = 0; i < rc->n; i++)
		values[i] = rc->objs[i].addr;
	struct mv_error *err = mv_walk_run_pointers(w, &m->ptr, values,
						    rc->n);
	free(values);
	if (err)
		return err;
	m->wi = malloc((rc->n ? rc->n : 1) * sizeof(*m->wi));
	m->owner = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*m->owner));
	if (!m->wi || !m->owner)
		return mv_enomem;
	memset(m->wi, 0xff, (rc->n ? rc->n : 1) * sizeof(*m->wi));
	/* The objects are the records the pseudo-root (record 0) found,
	 * in the order of their addresses; every later record is met by
	 * a scan, so is none of them. */
	for (size_t i = 0, k = 0; i < w->nobjs; i++) {
		size_t j = SIZE_MAX;
		while (i && !w->objs[i].parent && k < rc->n &&
		       rc->objs[k].addr < w->objs[i].addr)
			k++;
		if (i && !w->objs[i].parent && k < rc->n &&
		    rc->objs[k].addr == w->objs[i].addr)
			j = k;
		m->owner[i] = j == SIZE_MAX ? NONE : (uint32_t)j;
		if (j != SIZE_MAX && m->wi[j] == NONE) {
			m->wi[j] = (uint32_t)i;
			rc->objs[j].bytes = mv_walk_type_bytes(w, i);
		}
	}
	return NULL;
}

struct csr {
	uint64_t *off;
	uint32_t *adj;
	uint32_t *edge;
};

static struct mv_error *push_ref(struct mv_rc *rc, size_t *cap,
				 uint32_t to)
{
	if (rc->nadj == *cap) {
		uint32_t *a = realloc(rc->adj, 2 * *cap * sizeof(*a));
		if (!a)
			return mv_enomem;
		rc->adj = a;
		*cap *= 2;
	}
	rc->adj[rc->nadj++] = to;
	rc->objs[to].internal++;
	return NULL;
}

/* The references of object i to objects: its edges, and through heap
 * records that are no object (its own blocks) their edges, each record
 * once (stamp).  An explicit stack: no recursion over target data. */
static struct mv_error *refs_of(struct mv_rc *rc, const struct csr *g,
				size_t i, uint32_t *stamp, uint32_t *stack,
				size_t *cap)
{
	struct mv_rc_model *m = rc->m;
	struct mv_walk *w = &m->walk;
	struct mv_error *err;
	size_t ns = 0;
	if (m->wi[i] == NONE)
		return NULL;
	/* Its type, when the type is an object the collector examines (a
	 * class): no walk follows the type field, but the count of a class
	 * holds one for each instance (CPython's subtype_traverse visits
	 * it). */
	bool ok;
	uint64_t type = read_le(rc->gc->target, rc->objs[i].addr + m->tf_off,
				m->tf_size, &ok);
	size_t tj = ok ? mv_rc_find(rc, type) : SIZE_MAX;
	if (tj != SIZE_MAX && (err = push_ref(rc, cap, (uint32_t)tj)))
		return err;
	stack[ns++] = m->wi[i];
	stamp[m->wi[i]] = (uint32_t)i;
	while (ns) {
		uint32_t v = stack[--ns];
		for (uint64_t x = g->off[v]; x < g->off[v + 1]; x++) {
			/* A pointer into an object is no reference to it
			 * (its own table inside it, a set's smalltable). */
			uint32_t to = g->adj[x];
			if (to == NONE || w->edges[g->edge[x]].interior)
				continue;
			if (m->owner[to] != NONE) {
				if ((err = push_ref(rc, cap, m->owner[to])))
					return err;
				continue;
			}
			/* Another object's references are its own (a code
			 * object's constants, an untracked dict's values:
			 * CPython does not traverse them). */
			if (stamp[to] == (uint32_t)i ||
			    mv_walk_where(w, to) != MV_WHERE_HEAP ||
			    is_object(m, w, to))
				continue;
			stamp[to] = (uint32_t)i;
			stack[ns++] = to;
		}
	}
	return NULL;
}

static struct mv_error *model_refs(struct mv_rc *rc)
{
	struct mv_walk *w = &rc->m->walk;
	struct csr g = {0};
	struct mv_error *err = mv_walk_edges_by_source(w, &g.off, &g.adj,
						       &g.edge);
	size_t cap = rc->n ? rc->n : 1;
	uint32_t *stamp = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*stamp));
	uint32_t *stack = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*stack));
	rc->off = malloc((rc->n + 1) * sizeof(*rc->off));
	rc->adj = malloc(cap * sizeof(*rc->adj));
	if (!err && (!stamp || !stack || !rc->off || !rc->adj))
		err = mv_enomem;
	if (!err)
		memset(stamp, 0xff, (w->nobjs ? w->nobjs : 1) * sizeof(*stamp));
	for (size_t i = 0; !err && i < rc->n; i++) {
		if ((i & 0xffff) == 0xffff && rc->gc->opt.poll &&
		    (err = rc->gc->opt.poll(rc->gc->opt.poll_arg)))
			break;
		rc->off[i] = rc->nadj;
		err = refs_of(rc, &g, i, stamp, stack, &cap);
	}
	if (!err) {
		rc->off[rc->n] = rc->nadj;
		for (size_t i = 0; i < rc->n; i++)
			rc->objs[i].gc_refs =
				rc->objs[i].count - rc->objs[i].internal;
	}
	free(g.off);
	free(g.adj);
	free(g.edge);
	free(stamp);
	free(stack);
	return err;
}

/* Records of the walk declared TYPE (no rule retyped them) in a heap
 * block whose type field names no known type. */
static uint64_t unknown_types(struct mv_rc *rc)
{
	struct mv_rc_model *m = rc->m;
	struct mv_walk *w = &m->walk;
	uint64_t n = 0;
	for (size_t i = 1; i < w->nobjs; i++) {
		if (mv_walk_plan_type(w, w->objs[i].plan) !=
			    m->rules->refcount.record ||
		    mv_walk_where(w, i) != MV_WHERE_HEAP)
			continue;
		bool ok;
		uint64_t v = read_le(rc->gc->target, w->objs[i].addr +
				     m->tf_off, m->tf_size, &ok);
		n += ok && !known_type(m, rc->gc->target, v);
	}
	return n;
}

static struct mv_error *model_notes(struct mv_rc *rc)
{
	struct mv_rc_model *m = rc->m;
	struct mv_walk *w = &m->walk;
	struct mv_notes *n = &rc->notes;
	bool ok = true;
	if (rc->zero_count)
		ok &= mv_notes_add(n, "%llu object%s with a count of 0 (on a "
				   "free list, or being freed): never garbage",
				   (unsigned long long)rc->zero_count,
				   rc->zero_count == 1 ? "" : "s");
	if (rc->bad_counts)
		ok &= mv_notes_add(n, "%llu object%s with a negative or huge "
				   "count (above 2^30): taken as held",
				   (unsigned long long)rc->bad_counts,
				   rc->bad_counts == 1 ? "" : "s");
	uint64_t unknown = unknown_types(rc);
	if (unknown)
		ok &= mv_notes_add(n, "%llu heap object%s reached whose type "
				   "field names no known type (a type pointer "
				   "to garbage?): not examined",
				   (unsigned long long)unknown,
				   unknown == 1 ? "" : "s");
	uint64_t bad = 0;
	for (int p = 0; p < MV_PROB_COUNT_; p++)
		bad += w->problems[p];
	if (bad)
		ok &= mv_notes_add(n, "%llu bad pointer%s in the objects "
				   "(unmapped, freed, misaligned): not "
				   "followed", (unsigned long long)bad,
				   bad == 1 ? "" : "s");
	if (w->hit_max_objects || w->interrupted)
		ok &= mv_notes_add(n, "the walk over the objects stopped "
				   "early (%s): references past it are not "
				   "counted, so more objects look held",
				   w->interrupted ? "interrupted"
						  : "--max-objects");
	return ok ? NULL : mv_enomem;
}

static struct mv_error *model_setup(struct mv_rc *rc, struct mv_gc *gc,
				    const struct mv_rules *rules)
{
	const struct mv_rule_refcount *rr = &rules->refcount;
	struct mv_rc_model *m = calloc(1, sizeof(*m));
	if (!m)
		return mv_enomem;
	rc->m = m;
	mv_buf_init(&m->class_name);
	rc->model = true;
	m->rules = rules;
	rc->type = rr->record;
	rc->size = rr->record->size;
	rc->count_off = rr->offset;
	rc->count_size = rr->size;
	rc->count_signed = rr->is_signed;
	m->ptr = (struct mv_type){.kind = MV_TYPE_POINTER, .size = 8,
				  .is_complete = true, .target_ = rr->record};
	struct mv_error *err = type_field(m);
	if (!err)
		err = mv_chunk_dir_create(gc->heap, &m->dir);
	if (err)
		return err;
	struct mv_walk_options o = {
		.unions = MV_WALK_UNIONS_NONE,
		.rules = rules,
		.keep_edges = true,
		.unlabelled = true,
		.find_chunk = mv_chunk_dir_find,
		.chunk_arg = m->dir,
		.nchunks = gc->n,
		.expect_objects = gc->n,
		.poll = gc->opt.poll,
		.poll_arg = gc->opt.poll_arg,
	};
	if ((err = mv_walk_init(&m->walk, gc->program, &o)))
		return err;
	m->walk_inited = true;
	return NULL;
}

struct mv_error *mv_rc_run_model(struct mv_rc *rc, struct mv_gc *gc,
				 const struct mv_rules *rules)
{
	memset(rc, 0, sizeof(*rc));
	mv_notes_init(&rc->notes, MAX_NOTES);
	rc->gc = gc;
	if (!rules || !rules->has_refcount)
		return mv_error_create(MV_ERR_USAGE, "--refcount model: the "
				       "object model (--types) has no refcount "
				       "rule");
	struct mv_error *err;
	if ((err = model_setup(rc, gc, rules)) || (err = find_objects(rc)) ||
	    (err = walk_objects(rc)) || (err = model_refs(rc)) ||
	    (err = model_notes(rc)))
		return err;
	rc->how[MV_RC_TYPED] = rc->n;
	return mv_rc_verdict(rc);
}

const char *mv_rc_type_name(const struct mv_rc *rc, size_t i, bool c_type)
{
	struct mv_rc_model *m = rc->m;
	if (!m || m->wi[i] == NONE)
		return "";
	struct mv_walk *w = &m->walk;
	return c_type ? mv_walk_plan_name(w, w->objs[m->wi[i]].plan)
		      : mv_walk_type_shown(w, m->wi[i], &m->class_name);
}

void mv_rc_model_free(struct mv_rc *rc)
{
	struct mv_rc_model *m = rc->m;
	if (!m)
		return;
	if (m->walk_inited)
		mv_walk_deinit(&m->walk);
	mv_chunk_dir_destroy(m->dir);
	free(m->known);
	free(m->wi);
	free(m->owner);
	mv_buf_deinit(&m->class_name);
	free(m);
	rc->m = NULL;
}
