/* modelref.c - the words of memory seen through an object model
 * (rules files' object, name and dispatch rules, docs/types.md): which
 * object holds a word, whether the word is one of the model's edges
 * (not a GC's list link, a header, a stale slot past a length), and
 * the edge's name as the language writes it.  For referrers and
 * path-to, which read memory as untyped words.
 *
 * The object holding a word: the one an object rule finds in the
 * word's block, or, for a block no object starts in (a list's item
 * array, a dict's keys), the object among the block's holders (the
 * session's reverse index) that owns it.  The edge: a short typed walk
 * from that object (three levels: the object, its own blocks, what
 * they point to) must reach the target's block through that very
 * word.  Bounded: 9 offsets tried per block, 16 holders per block. */
#include <stdlib.h>
#include <string.h>

#include "modelref.h"
#include "refindex.h"
#include "session.h"

#define OBJECT_MAX_OFFSET 64  /* a header is at most this many bytes */
#define OWNER_MAX_HOLDERS 16  /* holders of a block tried as its owner */

struct mv_model {
	struct mv_sizeof_setup su;
	struct mv_walk_options opt;
	struct mv_program *program;
	struct mv_refindex *ri;
};

void mv_model_close(struct mv_model *m)
{
	if (!m)
		return;
	mv_sizeof_teardown(&m->su);
	free(m);
}

struct mv_error *mv_model_open(struct mv_cmd_ctx *ctx, struct mv_refindex *ri,
			       struct mv_model **ret)
{
	*ret = NULL;
	struct mv_model *m = calloc(1, sizeof(*m));
	if (!m)
		return mv_enomem;
	struct mv_error *err = mv_sizeof_setup(ctx, &m->su, false);
	if (err) {
		free(m);
		return err;
	}
	if (!m->su.rules.nobjects || !m->su.heap) {
		mv_model_close(m);
		return NULL;
	}
	m->opt = m->su.walk.opt;
	m->program = ctx->session->program;
	m->ri = ri;
	*ret = m;
	return NULL;
}

void mv_model_set_index(struct mv_model *m, struct mv_refindex *ri)
{
	m->ri = ri;
}

/* A fresh walk from the rule's TYPE * at addr, depth levels deep. */
static struct mv_error *walk_from(struct mv_model *m,
				  const struct mv_rule_object *ob,
				  uint64_t addr, uint64_t depth)
{
	struct mv_sizeof_setup *su = &m->su;
	if (su->inited)
		mv_walk_deinit(&su->walk);
	su->inited = false;
	struct mv_walk_options o = m->opt;
	o.max_depth = depth;
	struct mv_error *err = mv_walk_init(&su->walk, m->program, &o);
	if (err)
		return err;
	su->inited = true;
	return mv_walk_run_pointer(&su->walk, ob->ptr, addr);
}

static size_t read_target(void *arg, uint64_t address, void *buf, size_t n)
{
	return mv_target_read_partial(arg, address, buf, n);
}

/* The walk's record of the object at addr (its first), or 0. */
static size_t record_at(struct mv_walk *w, uint64_t addr)
{
	for (size_t i = 0; i < w->nobjs && i < 4; i++)
		if (w->objs[i].addr == addr && i)
			return i;
	return 0;
}

struct mv_error *mv_model_object(struct mv_model *m, const struct mv_chunk *ch,
				 uint64_t *addr,
				 const struct mv_rule_object **rule)
{
	const struct mv_rules *r = &m->su.rules;
	struct mv_target *t = mv_program_target(m->program);
	*addr = 0;
	for (size_t k = 0; k < r->nobjects; k++) {
		const struct mv_rule_object *ob = &r->objects[k];
		for (uint64_t o = 0; o <= OBJECT_MAX_OFFSET &&
				     o + ob->cond.end <= ch->usable; o += 8) {
			uint8_t buf[512];
			uint64_t v = 0;
			if (ob->cond.end > sizeof(buf) ||
			    !mv_len_expr_eval_read(
				    &ob->cond, buf,
				    mv_target_read_partial(t, ch->mem + o, buf,
							   ob->cond.end),
				    read_target, t, &v) || !v)
				continue;
			struct mv_error *err = walk_from(m, ob, ch->mem + o, 1);
			if (err)
				return err;
			struct mv_walk *w = &m->su.walk;
			size_t i = record_at(w, ch->mem + o);
			if (i && mv_walk_header(w, i) == o &&
			    mv_walk_key(w, i) == ch->mem) {
				*addr = ch->mem + o;
				*rule = ob;
				return NULL;
			}
		}
	}
	return NULL;
}

/* Whether the object at owner reaches the block at target_mem through
 * the word at holder: its name from the owner to out. */
static struct mv_error *owner_holds(struct mv_model *m,
				    const struct mv_rule_object *ob,
				    uint64_t owner, uint64_t holder,
				    uint64_t target_mem, struct mv_buf *name,
				    bool *ret)
{
	*ret = false;
	struct mv_error *err = walk_from(m, ob, owner, 3);
	if (err)
		return err;
	struct mv_walk *w = &m->su.walk;
	for (size_t i = 1; i < w->nobjs; i++) {
		if (mv_walk_key(w, i) != target_mem)
			continue;
		struct mv_buf lab;
		uint64_t h = 0;
		mv_buf_init(&lab);
		mv_walk_label_named(w, i, &lab, &h, NULL);
		mv_buf_deinit(&lab);
		if (h == holder) {
			mv_sizeof_path(w, "", i, name);
			*ret = true;
		}
		break;
	}
	return NULL;
}

struct mv_error *mv_model_edge(struct mv_model *m, const struct mv_ref *ref,
			       const struct mv_chunk *target,
			       struct mv_model_edge *ret)
{
	memset(ret, 0, sizeof(*ret));
	mv_buf_init(&ret->name);
	const struct mv_rule_object *ob, *tob;
	uint64_t taddr;
	struct mv_error *err = mv_model_object(m, target, &taddr, &tob);
	if (err)
		return err;
	ret->target_object = taddr;
	if (ref->kind != MV_REF_HEAP || !ref->in_chunk) {
		/* A root: an edge unless it points into the header. */
		ret->is_edge = !taddr || ref->value >= taddr;
		return NULL;
	}
	if (taddr && ref->value < taddr)
		return NULL; /* into the header: a GC's link */
	uint64_t owner;
	if ((err = mv_model_object(m, &ref->chunk, &owner, &ob)))
		return err;
	if (owner) {
		if ((err = owner_holds(m, ob, owner, ref->holder, target->mem,
				       &ret->name, &ret->is_edge)))
			return err;
		if (ret->is_edge) {
			ret->owner = owner;
			return NULL;
		}
	}
	/* A block of its own (or one that only looks like an object: a
	 * list's items can read as a header): the owner is among its
	 * holders. */
	struct mv_heap *h = m->ri ? mv_refindex_heap(m->ri) : NULL;
	size_t ci = h ? mv_heap_chunk_index(h, ref->chunk.mem) : SIZE_MAX, nh;
	if (ci == SIZE_MAX)
		return NULL;
	const uint32_t *hs = mv_refindex_holders(m->ri, ci, &nh);
	for (size_t k = 0; k < nh && k < OWNER_MAX_HOLDERS; k++) {
		struct mv_chunk hc;
		mv_heap_chunk(h, hs[k], &hc);
		if ((err = mv_model_object(m, &hc, &owner, &ob)))
			return err;
		if (!owner)
			continue;
		mv_buf_clear(&ret->name);
		if ((err = owner_holds(m, ob, owner, ref->holder, target->mem,
				       &ret->name, &ret->is_edge)))
			return err;
		if (ret->is_edge) {
			ret->owner = owner;
			return NULL;
		}
	}
	return NULL;
}
