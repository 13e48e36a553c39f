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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelref.h"
#include "refindex.h"
#include "edgename.h"
#include "session.h"
#include "unwind.h"

#define OBJECT_MAX_OFFSET 64  /* a header is at most this many bytes */
#define OWNER_MAX_HOLDERS 16  /* holders of a block tried as its owner */

#define FRAMES_MAX 100000       /* records of a frames rule's chain */
#define OWNERS_MAX 4096         /* owners (threads) of such chains */
#define REACH_MEMO 64            /* owner walks' answers remembered */

struct reach {
	bool used, block;
	uint64_t owner, target, holder;
	const struct mv_rule_object *ob;
	const struct mv_rule_name *root_in; /* the walk's (a key) */
	/* The name stands for the owner's in-edge too (root_in's). */
	bool above;
	const struct mv_rule_name *in_rule; /* naming the target's edge */
	struct mv_buf name;
};

/* A record of a frames rule and its live slots [lo, hi). */
struct frame {
	uint64_t addr, lo, hi;
	const struct mv_rule_frames *rule;
	const struct mv_region *region; /* the mapping holding it */
};

struct mv_model {
	struct frame *frames;
	size_t nframes;
	char note[400];       /* why a running frame's top is unknown */
	struct mv_sizeof_setup su;
	struct mv_walk probe;  /* one level: what a block holds */
	bool probe_inited;
	/* The model's walk (su.walk) is from this, to this depth, its
	 * root reached through root_in's edge. */
	uint64_t last_addr, last_depth;
	const struct mv_rule_object *last_ob;
	const struct mv_rule_name *last_root_in, *root_in;
	bool reached_block;   /* owner_holds' target: an array block */
	/* and the rule naming its edge from the owner */
	const struct mv_rule_name *reached_in;
	struct reach memo[REACH_MEMO];
	size_t memo_next;
	struct mv_walk_options opt;
	struct mv_program *program;
	struct mv_refindex *ri;
};

static size_t read_target(void *arg, uint64_t address, void *buf, size_t n)
{
	return mv_target_read_partial(arg, address, buf, n);
}

void mv_model_close(struct mv_model *m)
{
	if (!m)
		return;
	if (m->probe_inited)
		mv_walk_deinit(&m->probe);
	for (size_t k = 0; k < REACH_MEMO; k++)
		mv_buf_deinit(&m->memo[k].name);
	mv_sizeof_teardown(&m->su);
	free(m->frames);
	free(m);
}

/* The records of frames rule fr along its chain from at. */
static struct mv_error *chain_from(struct mv_model *m,
				   const struct mv_rule_frames *fr, uint64_t at)
{
	struct mv_target *t = mv_program_target(m->program);
	for (size_t k = 0; at && k < FRAMES_MAX &&
			   m->nframes < FRAMES_MAX * 4; k++) {
		uint8_t buf[512];
		uint64_t count, next;
		size_t got = mv_target_read_partial(t, at, buf, sizeof(buf));
		if (fr->next_offset + 8 > got ||
		    !mv_len_expr_eval_read(&fr->count, buf, got, read_target,
					   t, &count))
			break;
		memcpy(&next, buf + fr->next_offset, 8);
		struct frame *f = realloc(m->frames,
					  (m->nframes + 1) * sizeof(*f));
		if (!f)
			return mv_enomem;
		m->frames = f;
		uint64_t lo = at + fr->live_offset;
		if (count > (1u << 20))
			count = 0; /* hostile: no live slot */
		f[m->nframes++] = (struct frame){
			at, lo, lo + count * fr->live_stride, fr,
			mv_target_find_region(t, at)};
		at = next;
	}
	return NULL;
}

/* The records of frames rule fr: from its chain's first, or from the
 * first of each owner in the chain of owners (every thread's). */
static struct mv_error *chain_frames(struct mv_model *m, struct mv_session *s,
				     const struct mv_rule_frames *fr)
{
	struct mv_value v;
	struct mv_target *t = mv_program_target(m->program);
	struct mv_error *err = mv_session_eval(s, fr->from, &v);
	uint64_t at = v.value;
	if (err) {
		/* No such chain in this program or this core: no frames. */
		mv_error_destroy(err);
		return NULL;
	}
	if (v.is_lvalue &&
	    mv_target_read_partial(t, v.address, &at, 8) != 8)
		return NULL;
	if (!fr->each)
		return chain_from(m, fr, at);
	for (size_t k = 0; at && k < OWNERS_MAX && !err; k++) {
		uint8_t buf[512];
		uint64_t first = 0, next;
		size_t got = mv_target_read_partial(t, at, buf, sizeof(buf));
		if (fr->each_next_offset + 8 > got)
			break;
		memcpy(&next, buf + fr->each_next_offset, 8);
		if (mv_len_expr_eval_read(&fr->first, buf, got, read_target, t,
					  &first))
			err = chain_from(m, fr, first);
		at = next;
	}
	return err;
}

/* A frames rule's running F.V: the live slots of the records from
 * index first on end where the C local V of a frame of F points, on
 * any thread: each such value points into the array of the one record
 * that frame runs (inside its live slots as the rule's COUNT gives
 * them: all of them while the record's top is not saved).  A thread
 * where it cannot be read keeps all of its records' slots, said in
 * m->note. */
static void running_tops(struct mv_model *m, const struct mv_rule_frames *fr,
			 size_t first)
{
	const struct mv_thread *th;
	size_t n = mv_target_threads(mv_program_target(m->program), &th);
	for (size_t i = 0; i < n && i < OWNERS_MAX; i++) {
		struct mv_unwind_values v;
		mv_unwind_local_values(m->program, &th[i], fr->running_function,
				       fr->running_variable, &v);
		for (size_t j = 0; j < v.n; j++) {
			size_t k = first;
			while (k < m->nframes &&
			       !(v.values[j] >= m->frames[k].lo &&
				 v.values[j] <= m->frames[k].hi &&
				 (v.values[j] - m->frames[k].lo) %
						 fr->live_stride == 0))
				k++;
			if (k < m->nframes)
				m->frames[k].hi = v.values[j];
			else if (!v.why[0]) /* garbage CFI, or registers */
				snprintf(v.why, sizeof(v.why), "it is 0x%llx, "
					 "in no record's live slots",
					 (unsigned long long)v.values[j]);
		}
		if (v.why[0] && !m->note[0])
			snprintf(m->note, sizeof(m->note),
				 "the top of the running frames' live slots "
				 "(%s.%s) could not be read on thread %d (%s):"
				 " all their slots are taken as live",
				 fr->running_function, fr->running_variable,
				 (int)th[i].tid, v.why);
	}
}

const char *mv_model_note(const struct mv_model *m)
{
	return m && m->note[0] ? m->note : NULL;
}

/* The live slot of a frame holding the word at holder, or NULL. */
static const struct frame *frame_slot(const struct mv_model *m,
				      uint64_t holder)
{
	for (size_t i = 0; i < m->nframes; i++)
		if (holder >= m->frames[i].lo && holder < m->frames[i].hi)
			return &m->frames[i];
	return NULL;
}

struct mv_error *mv_model_open(struct mv_cmd_ctx *ctx, struct mv_refindex *ri,
			       struct mv_model **ret)
{
	*ret = NULL;
	/* Most programs have no model: no walk to set up for them. */
	struct mv_rules probe;
	struct mv_error *perr = mv_sizeof_rules(ctx, &probe);
	bool none = !perr && !probe.nobjects;
	if (!perr)
		mv_rules_deinit(&probe);
	if (perr || none)
		return perr;
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
	for (size_t i = 0; i < m->su.rules.nframes && !err; i++) {
		const struct mv_rule_frames *fr = &m->su.rules.frames[i];
		size_t first = m->nframes;
		err = chain_frames(m, ctx->session, fr);
		if (!err && fr->running_function && m->nframes > first)
			running_tops(m, fr, first);
	}
	if (err) {
		mv_model_close(m);
		return err;
	}
	m->ri = ri;
	*ret = m;
	return NULL;
}

void mv_model_set_index(struct mv_model *m, struct mv_refindex *ri)
{
	m->ri = ri;
}

static bool probe_chunk(void *arg, uint64_t address, struct mv_chunk *ret,
			size_t *index)
{
	struct mv_model *m = arg;
	return m->opt.find_chunk(m->opt.chunk_arg, address, ret, index);
}

/* A walk from the rule's TYPE * at addr, depth levels deep, to *ret:
 * one level (what an object is) in the probe walk, anew each time;
 * deeper in the model's walk, kept while the next asks for the same
 * (path-to asks the owner of a list of a million items several times). */
static struct mv_error *walk_from(struct mv_model *m,
				  const struct mv_rule_object *ob,
				  uint64_t addr, uint64_t depth,
				  struct mv_walk **ret)
{
	bool probe = depth <= 1;
	struct mv_walk *w = probe ? &m->probe : &m->su.walk;
	bool *inited = probe ? &m->probe_inited : &m->su.inited;
	*ret = w;
	if (!probe && *inited && m->last_addr == addr &&
	    m->last_depth == depth && m->last_ob == ob &&
	    m->last_root_in == m->root_in)
		return NULL;
	if (*inited)
		mv_walk_deinit(w);
	*inited = false;
	m->last_ob = NULL;
	struct mv_walk_options o = m->opt;
	o.max_depth = depth;
	o.root_in = probe ? NULL : m->root_in;
	if (probe && o.find_chunk) {
		/* Its own visited set: the chunk directory's visited bits
		 * are the model's walk's, which is kept. */
		o.find_chunk = probe_chunk;
		o.chunk_arg = m;
		o.nchunks = 0;
	}
	struct mv_error *err = mv_walk_init(w, m->program, &o);
	if (err)
		return err;
	*inited = true;
	if ((err = mv_walk_run_pointer(w, ob->ptr, addr)))
		return err;
	if (!probe) {
		m->last_addr = addr;
		m->last_depth = depth;
		m->last_root_in = m->root_in;
		m->last_ob = ob;
	}
	return NULL;
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
	/* First where its header is all that is in front of it; else
	 * after what a debug allocator keeps there too. */
	for (int loose = 0; loose < 2; loose++)
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
			struct mv_walk *w;
			struct mv_error *err = walk_from(m, ob, ch->mem + o, 1,
							 &w);
			if (err)
				return err;
			size_t i = record_at(w, ch->mem + o);
			uint64_t hb = i ? mv_walk_header(w, i) : 0;
			if (i && (loose ? hb <= o : hb == o) &&
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
static struct mv_error *owner_holds_in(struct mv_model *m,
				       const struct mv_rule_object *ob,
				       uint64_t owner, uint64_t lo,
				       uint64_t hi, uint64_t target_mem,
				       struct mv_buf *name, bool *ret);

static struct mv_error *owner_holds(struct mv_model *m,
				    const struct mv_rule_object *ob,
				    uint64_t owner, uint64_t holder,
				    uint64_t target_mem, struct mv_buf *name,
				    bool *ret)
{
	return owner_holds_in(m, ob, owner, holder, holder + 1, target_mem,
			      name, ret);
}

/* Whether some name rule is "in" an edge (else no walk needs to know
 * the edge its root was reached through). */
static bool any_context(const struct mv_rules *r)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].in >= 0)
			return true;
	return false;
}

/* What a walk from owner says of the block at target: the word that
 * holds it (0: not reached), the edge's name, whether it is an array
 * block.  Remembered: path-to asks of one owner several times. */
static struct mv_error *owner_reach(struct mv_model *m,
				    const struct mv_rule_object *ob,
				    uint64_t owner, uint64_t target_mem,
				    const struct reach **ret)
{
	for (size_t k = 0; k < REACH_MEMO; k++) {
		const struct reach *r = &m->memo[k];
		if (r->used && r->owner == owner && r->target == target_mem &&
		    r->ob == ob && r->root_in == m->root_in) {
			*ret = r;
			return NULL;
		}
	}
	struct reach *r = &m->memo[m->memo_next++ % REACH_MEMO];
	mv_buf_deinit(&r->name);
	memset(r, 0, sizeof(*r));
	mv_buf_init(&r->name);
	struct mv_walk *w;
	struct mv_error *err = walk_from(m, ob, owner, 3, &w);
	if (err)
		return err;
	r->used = true;
	r->owner = owner;
	r->target = target_mem;
	r->ob = ob;
	r->root_in = m->root_in;
	*ret = r;
	for (size_t i = 1; i < w->nobjs; i++) {
		if (mv_walk_key(w, i) != target_mem)
			continue;
		struct mv_buf lab;
		struct mv_walk_label_info li;
		mv_buf_init(&lab);
		mv_walk_label_ctx(w, i, &lab, &li);
		mv_buf_deinit(&lab);
		r->holder = li.holder;
		r->in_rule = any_context(&m->su.rules)
			     ? mv_walk_in_rule(w, i) : NULL;
		mv_sizeof_path_ctx(w, "", i, &r->name, &r->above);
		/* An array of pointers (a list's items) is a block of its
		 * owner, even when its first words read as an object's
		 * head. */
		struct mv_type *pt = mv_walk_plan_type(w, w->objs[i].plan);
		r->block = !pt || pt->kind == MV_TYPE_POINTER;
		break;
	}
	return NULL;
}

/* The same for a word anywhere in [lo, hi). */
static struct mv_error *owner_holds_in(struct mv_model *m,
				       const struct mv_rule_object *ob,
				       uint64_t owner, uint64_t lo,
				       uint64_t hi, uint64_t target_mem,
				       struct mv_buf *name, bool *ret)
{
	const struct reach *r;
	struct mv_error *err = owner_reach(m, ob, owner, target_mem, &r);
	*ret = false;
	if (err || !r->holder || r->holder < lo || r->holder >= hi)
		return err;
	if (name)
		mv_buf_puts(name, r->name.data ? r->name.data : "");
	*ret = true;
	m->reached_block = r->block;
	m->reached_in = r->in_rule;
	return NULL;
}

/* Whether a global word lies in a member a skip rule leaves out (a
 * free list's slots: not ownership), along its typed path
 * ("_PyRuntime._main_interpreter.dict_state.free_list[2]"). */
static bool root_skipped(struct mv_model *m, const struct mv_ref *ref)
{
	const struct mv_rules *r = &m->su.rules;
	struct mv_buf e;
	uint64_t addr;
	struct mv_type *t;
	bool skipped = false;
	if (ref->kind != MV_REF_GLOBAL || !r->nskips)
		return false;
	mv_buf_init(&e);
	if (!mv_edge_global_expression(m->program, ref->holder, &e) ||
	    !e.data) {
		mv_buf_deinit(&e);
		return false;
	}
	const char *p = e.data + strcspn(e.data, ".[");
	char *var = strndup(e.data, (size_t)(p - e.data));
	struct mv_error *err = var ? mv_program_find_variable(
					     m->program, var, 0, &addr, &t)
				   : mv_enomem;
	free(var);
	for (int depth = 0; !err && !skipped && *p && depth < 32; depth++) {
		t = mv_type_strip(t);
		if (*p == '[') {
			p += strcspn(p, "]") + (p[strcspn(p, "]")] ? 1 : 0);
			t = t && t->kind == MV_TYPE_ARRAY ? mv_type_target(t)
							  : NULL;
			if (!t)
				break;
			continue;
		}
		size_t n = strcspn(p + 1, ".[");
		char *name = strndup(p + 1, n);
		char key[MV_EVAL_TYPE_NAME_MAX];
		const struct mv_member *mm;
		uint64_t off;
		if (!name)
			break;
		mv_rules_type_key(t, key, sizeof(key));
		for (size_t i = 0; i < r->nskips; i++)
			if (!strcmp(r->skips[i].type, key) &&
			    !strcmp(r->skips[i].field, name))
				skipped = true;
		err = mv_rules_member_path(t, name, &off, &mm);
		free(name);
		if (!err)
			t = mm->type;
		p += 1 + n;
	}
	mv_error_destroy(err);
	mv_buf_deinit(&e);
	return skipped;
}

/* Whether owner (an object ob found) holds target through ref's word:
 * ret says so, with the edge's name. */
static struct mv_error *held_by(struct mv_model *m,
				const struct mv_rule_object *ob,
				uint64_t owner, const struct mv_ref *ref,
				const struct mv_chunk *target,
				struct mv_model_edge *ret)
{
	mv_buf_clear(&ret->name);
	struct mv_error *err = owner_holds(m, ob, owner, ref->holder,
					   target->mem, &ret->name,
					   &ret->is_edge);
	if (!err && ret->is_edge)
		ret->owner = owner;
	return err;
}

/* A word in a mapping holding a frames rule's records but in none of
 * their live slots: stale (a frame's value stack past its top, a
 * returned frame's). */
static bool stale_slot(const struct mv_model *m, const struct mv_ref *ref)
{
	if (!m->nframes || ref->kind == MV_REF_REGISTER)
		return false;
	const struct mv_region *r = mv_target_find_region(
		mv_program_target(m->program), ref->holder);
	bool in = false;
	for (size_t i = 0; i < m->nframes && !in; i++)
		in = r && m->frames[i].region == r;
	return in && !frame_slot(m, ref->holder);
}

/* A frame's live slot at holder named by its rule: its name, else (a
 * slot past the locals: a value stack's) its else name; none when
 * neither can be rendered. */
static void slot_name(struct mv_walk *w, const struct frame *f,
		      uint64_t holder, struct mv_buf *out)
{
	uint64_t index = (holder - f->lo) / f->rule->live_stride;
	if (!mv_walk_name(w, &f->rule->name, f->addr, index, out) &&
	    (!f->rule->name_else.nparts ||
	     !mv_walk_name(w, &f->rule->name_else, f->addr, index, out)))
		mv_buf_clear(out);
}

static struct mv_error *edge(struct mv_model *m, const struct mv_ref *ref,
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
		/* A root: an edge unless it points into the header, or
		 * lies where a skip rule says is no ownership. */
		ret->is_edge = (!taddr || ref->value >= taddr) &&
			       !root_skipped(m, ref) && !stale_slot(m, ref);
		const struct frame *f = frame_slot(m, ref->holder);
		if (ret->is_edge && f) {
			struct mv_walk *w;
			err = walk_from(m, m->su.rules.objects,
					taddr ? taddr : ref->value, 1, &w);
			if (!err)
				slot_name(w, f, ref->holder, &ret->name);
			return err;
		}
		return NULL;
	}
	if (taddr && ref->value < taddr)
		return NULL; /* into the header: a GC's link */
	uint64_t owner;
	if ((err = mv_model_object(m, &ref->chunk, &owner, &ob)))
		return err;
	if (owner && ((err = held_by(m, ob, owner, ref, target, ret)) ||
		      ret->is_edge))
		return err;
	/* A block of its own (or one that only looks like an object: a
	 * list's items can read as a header): the owner is among its
	 * holders. */
	struct mv_heap *h = m->ri ? mv_refindex_heap(m->ri) : NULL;
	size_t ci = h ? mv_heap_chunk_index(h, ref->chunk.mem) : SIZE_MAX, nh;
	if (ci == SIZE_MAX)
		return NULL;
	uint32_t one;
	const uint32_t *hs = mv_refindex_holders(m->ri, ci, &one, &nh);
	for (size_t k = 0; k < nh && k < OWNER_MAX_HOLDERS; k++) {
		struct mv_chunk hc;
		mv_heap_chunk(h, hs[k], &hc);
		if ((err = mv_model_object(m, &hc, &owner, &ob)))
			return err;
		if (owner && ((err = held_by(m, ob, owner, ref, target, ret)) ||
			      ret->is_edge))
			return err;
	}
	return NULL;
}

struct mv_error *mv_model_edge(struct mv_model *m, const struct mv_ref *ref,
			       const struct mv_chunk *target,
			       struct mv_model_edge *ret)
{
	m->reached_block = false;
	m->reached_in = NULL;
	struct mv_error *err = edge(m, ref, target, ret);
	if (!err && ret->is_edge && m->reached_block)
		ret->target_object = 0;
	if (!err && !ret->target_object && !ret->is_edge &&
	    ref->kind == MV_REF_HEAP) {
		/* A block no object starts in (an item array, a dict's
		 * keys, an instance's values): its holders are its
		 * owner's words (the walk does not take such a block for
		 * an object of its own). */
		ret->is_edge = true;
		ret->owner = 0;
		mv_buf_clear(&ret->name);
	}
	return err;
}

/* Whether some word of block `from` is an edge into block `to`: the
 * object in it, or the owner among its holders, reaches `to` through a
 * word inside it. */
static struct mv_error *block_edge(struct mv_model *m, size_t from, size_t to,
				   bool *ret)
{
	struct mv_heap *h = mv_refindex_heap(m->ri);
	struct mv_chunk fc, tc;
	const struct mv_rule_object *ob;
	uint64_t owner;
	*ret = false;
	if (!mv_heap_chunk(h, from, &fc) || !mv_heap_chunk(h, to, &tc))
		return NULL;
	uint64_t taddr;
	struct mv_error *err = mv_model_object(m, &tc, &taddr, &ob);
	if (err || !taddr) {
		*ret = !err; /* a block: see mv_model_edge */
		return err;
	}
	err = mv_model_object(m, &fc, &owner, &ob);
	if (!err && owner)
		err = owner_holds_in(m, ob, owner, fc.mem, fc.mem + fc.usable,
				     tc.mem, NULL, ret);
	if (err || *ret)
		return err;
	size_t nh;
	uint32_t one;
	const uint32_t *hs = mv_refindex_holders(m->ri, from, &one, &nh);
	for (size_t k = 0; k < nh && k < OWNER_MAX_HOLDERS && !*ret; k++) {
		struct mv_chunk hc;
		mv_heap_chunk(h, hs[k], &hc);
		if ((err = mv_model_object(m, &hc, &owner, &ob)))
			return err;
		if (owner && (err = owner_holds_in(m, ob, owner, fc.mem,
						   fc.mem + fc.usable, tc.mem,
						   NULL, ret)))
			return err;
	}
	return NULL;
}

struct mv_error *mv_model_accept(void *arg, const struct mv_ref *ref,
				 size_t from, size_t to, bool *ret)
{
	struct mv_model *m = arg;
	*ret = true;
	if (!m->ri)
		return NULL;
	if (!ref)
		return block_edge(m, from, to, ret);
	struct mv_chunk tc;
	struct mv_model_edge me;
	if (!mv_heap_chunk(mv_refindex_heap(m->ri), to, &tc))
		return NULL;
	struct mv_error *err = mv_model_edge(m, ref, &tc, &me);
	if (!err)
		*ret = me.is_edge;
	mv_buf_deinit(&me.name);
	return err;
}

struct mv_error *mv_model_class(struct mv_model *m, uint64_t addr,
				struct mv_buf *out)
{
	struct mv_walk *w;
	struct mv_error *err = walk_from(m, m->su.rules.objects, addr, 1, &w);
	size_t i = err ? 0 : record_at(w, addr);
	if (i && !mv_walk_class_name(w, i, out))
		mv_buf_puts(out, mv_walk_plan_name(w, w->objs[i].plan));
	return err;
}

/* The object at addr as the model shows it; *ruled whether a show rule
 * did (else "<TYPE at 0x...>"). */
static struct mv_error *show(struct mv_model *m,
			     const struct mv_rule_object *ob, uint64_t addr,
			     struct mv_buf *out, bool *ruled)
{
	struct mv_walk *w;
	struct mv_error *err = walk_from(m, ob, addr, 1, &w);
	*ruled = false;
	if (!err && !mv_walk_show(w, mv_type_target(ob->ptr), addr, out,
				  ruled))
		mv_buf_printf(out, "0x%llx", (unsigned long long)addr);
	return err;
}

/* An object named as the language would: its show rule's text, or,
 * when it has none (a dict), its holder's and the edge's ("__main__"
 * ".__dict__"), one level up; else "<dict at 0x...>".  The holder's
 * text to base and the rule naming the edge to *in (when so named). */
static struct mv_error *object_expression(struct mv_model *m, uint64_t addr,
					  struct mv_buf *out,
					  struct mv_buf *base,
					  const struct mv_rule_name **in)
{
	struct mv_heap *h = mv_refindex_heap(m->ri);
	size_t ci = mv_heap_chunk_index(h, addr), nh;
	struct mv_chunk ch;
	const struct mv_rule_object *ob = m->su.rules.objects;
	bool ruled;
	*in = NULL;
	if (ci == SIZE_MAX || !mv_heap_chunk(h, ci, &ch))
		return show(m, ob, addr, out, &ruled);
	uint32_t one;
	const uint32_t *hs = mv_refindex_holders(m->ri, ci, &one, &nh);
	struct mv_buf tmp;
	mv_buf_init(&tmp);
	struct mv_error *err = show(m, ob, addr, &tmp, &ruled);
	for (size_t k = 0; !err && !ruled && k < nh && k < OWNER_MAX_HOLDERS;
	     k++) {
		struct mv_chunk hc;
		uint64_t owner;
		bool held = false, hr = false;
		mv_heap_chunk(h, hs[k], &hc);
		struct mv_buf name, hb;
		mv_buf_init(&name);
		mv_buf_init(&hb);
		err = mv_model_object(m, &hc, &owner, &ob);
		if (!err && owner)
			err = owner_holds_in(m, ob, owner, hc.mem,
					     hc.mem + hc.usable, ch.mem, &name,
					     &held);
		const struct mv_rule_name *hin = m->reached_in;
		if (!err && held)
			err = show(m, ob, owner, &hb, &hr);
		if (!err && held && hr) {
			mv_buf_clear(&tmp);
			mv_buf_puts(&tmp, hb.data ? hb.data : "");
			mv_buf_puts(&tmp, name.data ? name.data : "");
			mv_buf_clear(base);
			mv_buf_puts(base, hb.data ? hb.data : "");
			*in = hin;
			ruled = true;
		}
		mv_buf_deinit(&name);
		mv_buf_deinit(&hb);
	}
	mv_buf_puts(out, tmp.data ? tmp.data : "");
	mv_buf_deinit(&tmp);
	return err;
}

/* Whether a name rule says "in" the edge rule names. */
static bool context_of(const struct mv_rules *r, const struct mv_rule_name *n)
{
	for (size_t i = 0; n && i < r->nnames; i++)
		if (r->names[i].in == n - r->names)
			return true;
	return false;
}

/* The name of the hop's target from owner when the owner was reached
 * through the edge rule in names and a name rule is "in" that edge: the
 * name (".x") then stands for that edge too, and goes after base (the
 * expression of the owner's holder) to e. */
static struct mv_error *in_context(struct mv_model *m, uint64_t owner,
				   const struct mv_rule_name *in,
				   const struct mv_buf *base,
				   const struct mv_path_hop *hop,
				   uint64_t target_mem, struct mv_buf *e)
{
	const struct reach *r;
	if (!context_of(&m->su.rules, in))
		return NULL;
	m->root_in = in;
	struct mv_error *err = owner_reach(m, m->su.rules.objects, owner,
					   target_mem, &r);
	m->root_in = NULL;
	if (err || !r->above || r->holder != hop->from.holder)
		return err;
	mv_buf_clear(e);
	mv_buf_puts(e, base->data ? base->data : "");
	mv_buf_puts(e, r->name.data ? r->name.data : "");
	return NULL;
}

/* The object the chain is in: its address, expression, the rule naming
 * the edge it was reached through and the expression of its holder. */
struct chain_at {
	uint64_t addr;
	struct mv_buf expr, base;
	const struct mv_rule_name *in;
};

/* Hop's expression from its owner (me), to e. */
static struct mv_error *hop_expression(struct mv_model *m,
				       const struct chain_at *cur,
				       const struct mv_path_hop *hop,
				       uint64_t target_mem,
				       const struct mv_model_edge *me,
				       struct mv_buf *e, struct mv_buf *base)
{
	const struct mv_rule_name *in = cur->in;
	struct mv_buf ob;
	mv_buf_init(&ob);
	struct mv_error *err = NULL;
	if (me->owner == cur->addr) {
		mv_buf_puts(e, cur->expr.data ? cur->expr.data : "");
		mv_buf_puts(&ob, cur->base.data ? cur->base.data : "");
	} else {
		err = object_expression(m, me->owner, e, &ob, &in);
	}
	mv_buf_clear(base);
	mv_buf_puts(base, e->data ? e->data : "");
	mv_buf_puts(e, me->name.data ? me->name.data : "");
	if (!err && in)
		err = in_context(m, me->owner, in, &ob, hop, target_mem, e);
	mv_buf_deinit(&ob);
	return err;
}

struct mv_error *mv_model_expressions(struct mv_model *m,
				      const struct mv_path_hop *hops, size_t n,
				      char **exprs)
{
	struct mv_heap *h = mv_refindex_heap(m->ri);
	struct chain_at cur = {0};  /* the object the chain is in */
	mv_buf_init(&cur.expr);
	mv_buf_init(&cur.base);
	struct mv_buf base;
	mv_buf_init(&base);
	struct mv_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++) {
		struct mv_chunk tc;
		struct mv_model_edge me;
		size_t ti = mv_heap_chunk_index(h, hops[i].next_mem);
		if (ti == SIZE_MAX || !mv_heap_chunk(h, ti, &tc))
			break;
		if ((err = mv_model_edge(m, &hops[i].from, &tc, &me)))
			break;
		const struct mv_rule_name *tin = m->reached_in;
		struct mv_buf e;
		mv_buf_init(&e);
		mv_buf_clear(&base);
		if (me.is_edge && !me.owner && me.name.len && !err) {
			/* A frame's live slot: "f:loc". */
			free(exprs[i]);
			exprs[i] = strdup(me.name.data);
			tin = NULL;
		} else if (me.owner && me.is_edge) {
			err = hop_expression(m, &cur, &hops[i], tc.mem, &me,
					     &e, &base);
			if (!err && !e.oom) {
				free(exprs[i]);
				exprs[i] = strdup(e.data ? e.data : "");
			}
		}
		if (me.target_object && exprs[i]) {
			cur.addr = me.target_object;
			cur.in = tin;
			mv_buf_clear(&cur.expr);
			mv_buf_puts(&cur.expr, exprs[i]);
			mv_buf_clear(&cur.base);
			mv_buf_puts(&cur.base, base.data ? base.data : "");
		} else if (me.target_object) {
			cur.addr = 0;
			cur.in = NULL;
		}
		mv_buf_deinit(&e);
		mv_buf_deinit(&me.name);
	}
	mv_buf_deinit(&cur.expr);
	mv_buf_deinit(&cur.base);
	mv_buf_deinit(&base);
	return err;
}
