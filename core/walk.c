/* walk.c - the typed pointer walk (see walk.h).
 *
 * Memory budget: a visited object costs a 24-byte record plus its share
 * of the visited set, a table of 32-bit indices kept between 1/2 and 3/4
 * full (at most 8 bytes per object), so at most 32 bytes.  The table is
 * rebuilt from the records when it grows, never copied, so old and new
 * tables are never held together.  After the walk the table is freed,
 * which leaves room for the 8-byte subtree sums of the report.
 *
 * Order: breadth first.  The record array is the queue (objects are
 * scanned in the order they were found), which also gives shortest
 * paths and depths by BFS level without storing either. */
#include <stdlib.h>
#include <string.h>

#include "heap_internal.h"
#include "target.h"
#include "bounds.h"
#include "walk.h"
#include "cxxname.h"
#include "dwarf.h"
#include "program.h"

#define PLAN_MAX_NEST 16      /* types nested by value, bounded */
#define PATH_MAX_NEST 24      /* label path entries */
#define READ_WINDOW (1u << 20) /* bytes read at once from big arrays */
#define LOAD_WINDOW ((uint64_t)64 << 10) /* mapped window kept by load() */
#define INTERIOR_BIT 0x80000000u
#define NO_PLAN UINT32_MAX

enum slot_kind {
	SLOT_PTR,    /* a data pointer */
	SLOT_ARRAY,  /* a fixed array whose elements hold pointers */
	SLOT_FAM,    /* a flexible array member whose elements do */
	SLOT_DEQUE,  /* a std::deque's node buffers, from its map */
};

/* When a slot holds a pointer at all: an integer of the element (or,
 * indirect, of the object a pointer of the element points to) compared
 * with a value.  std::optional's engaged flag, std::variant's index, a
 * shared_ptr's use count, a std::function's manager. */
enum cond_op {
	COND_EQ,
	COND_NE,
	COND_POS, /* greater than zero, signed */
};

struct cond {
	uint64_t offset;   /* of the integer, or of the pointer to it */
	uint64_t inner;    /* indirect: the integer's offset in the pointee */
	uint32_t size;
	bool indirect;
	enum cond_op op;
	uint64_t value;
};

#define SLOT_MAX_CONDS 4
#define SLOT_NEVER UINT8_MAX /* more conditions than kept: not followed */

struct slot {
	enum slot_kind kind;
	uint64_t offset;
	char *name;          /* label text: ".next", ".u.p", "" */
	/* SLOT_PTR */
	struct mv_type *target; /* pointee, stripped */
	uint32_t target_plan;   /* resolved on first use */
	bool has_len;           /* a --len hint gives the length */
	const struct mv_len_expr *len_expr; /* over the record at len_base */
	uint64_t len_base;
	uint64_t len_offset;
	uint32_t len_size;
	bool len_signed;
	/* std::vector: the length is (end - start) / sizeof, end being the
	 * pointer at len_offset. */
	bool len_end;
	/* std::basic_string: a pointer to base + sso_offset is the object's
	 * own inline buffer, already counted with it. */
	bool has_sso;
	uint64_t sso_offset;
	/* Node links (a list's next, a tree's children): followed into
	 * heap blocks only, as the last node points back into the
	 * container's header. */
	bool heap_only;
	bool tree_link;         /* a tree's child link */
	/* A link the container's own fields make (a node link, a
	 * shared_ptr's control block): into a free chunk is a container
	 * problem. */
	bool container_link;
	/* std::function's functor: the block is typed from the manager
	 * pointer at manager_offset (the lambda's class), when it names
	 * one too big to be kept inside the object. */
	bool functor;
	uint64_t manager_offset;
	struct cond cond[SLOT_MAX_CONDS];
	uint8_t nconds;         /* or SLOT_NEVER */
	/* A name rule (rulename.c): how the language names the edge, and
	 * the elements of the block it points to. */
	const struct mv_rule_name *nrule, *erule;
	/* SLOT_ARRAY, SLOT_FAM; SLOT_DEQUE: stride is the element's size,
	 * count the elements of a node buffer, and the slot's offset that
	 * of _M_impl._M_map, followed by _M_map_size, _M_start and
	 * _M_finish (iterators of _M_cur, _M_first, _M_last, _M_node). */
	uint64_t stride, count;
	struct mv_walk_plan *sub; /* the element's plan (not registered) */
};

struct mv_walk_plan {
	enum mv_walk_kind kind;
	struct mv_type *type;   /* stripped; NULL for strings and chunks */
	uint64_t size, align;   /* per element */
	char *name;
	struct slot *slots;
	size_t nslots;
	/* The flexible array member, if any (also among slots when its
	 * elements hold pointers). */
	bool has_fam;
	uint64_t fam_offset, fam_stride;
	/* Per element: pointers not followed, for the notes. */
	uint32_t union_skips, fn_ptrs;
	uint32_t rule_skips;     /* members a skip rule leaves out */
	/* Rules on objects of this type (rules.h): the dispatch rules'
	 * indices and their real types' plans (NO_PLAN until needed), and
	 * the container_of rule's (-1: none). */
	bool ruled;
	/* len on the trailing array (its element count), size (the
	 * object's bytes), header (bytes in front of it, counted with
	 * it), array rules (pointers at computed places inside it). */
	const struct mv_len_expr *fam_len;
	uint64_t fam_len_base;
	const struct mv_len_expr *size_expr;
	uint64_t header_bytes;
	const struct mv_len_expr *header_expr; /* per object, or NULL */
	uint32_t *arrays, *array_plan;
	const struct mv_rule_name **array_name; /* per array rule, or NULL */
	uint32_t narrays;
	uint32_t *dispatch, *dispatch_plan;
	uint32_t ndispatch;
	int32_t container;
	uint32_t container_plan;
	bool registered;
	/* Only direct pointer members without length hints, and no
	 * flexible tail: scan_pointers reads it in one go. */
	bool flat;
	/* A polymorphic class: its vtable pointer is at vptr_offset. */
	bool polymorphic;
	uint64_t vptr_offset;
	/* Typed, no flexible tail, aligned to a power of two up to 16
	 * (so a chunk's user address is aligned for it): an object that
	 * follow_plain may take. */
	bool plain_ok;
};

/* ------------------------------------------------------------------ */
/* Plans: where the pointers of a type are, built once per type        */
/* ------------------------------------------------------------------ */

static void plan_free(struct mv_walk_plan *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->nslots; i++) {
		free(pl->slots[i].name);
		if (pl->slots[i].sub && !pl->slots[i].sub->registered)
			plan_free(pl->slots[i].sub);
	}
	free(pl->slots);
	free(pl->name);
	free(pl->dispatch);
	free(pl->dispatch_plan);
	free(pl->arrays);
	free(pl->array_name);
	free(pl->array_plan);
	free(pl);
}

static struct mv_error *add_slot(struct mv_walk_plan *pl, const struct slot *s,
				 const char *prefix, const char *name)
{
	struct slot *n = realloc(pl->slots, (pl->nslots + 1) * sizeof(*n));
	if (!n)
		return mv_enomem;
	pl->slots = n;
	n[pl->nslots] = *s;
	struct mv_buf b;
	mv_buf_init(&b);
	mv_buf_printf(&b, "%s%s%s", prefix, name ? "." : "", name ? name : "");
	mv_buf_reserve(&b, 1);
	if (b.oom) {
		mv_buf_deinit(&b);
		return mv_enomem;
	}
	n[pl->nslots].name = mv_buf_steal(&b);
	pl->nslots++;
	return NULL;
}

static bool is_char_type(struct mv_type *t)
{
	return t && t->kind == MV_TYPE_INT && t->size == 1 && t->is_char;
}

static struct mv_error *build_elements(struct mv_walk *w,
				       struct mv_walk_plan *pl,
				       struct mv_type *type, uint64_t offset,
				       const char *prefix, int nest);
static struct mv_error *plan_names(struct mv_walk_plan *pl,
				   const struct mv_rules *r, const char *tn);

static struct mv_error *plan_for_element(struct mv_walk *w,
					 struct mv_type *elem, int nest,
					 struct mv_walk_plan **ret)
{
	struct mv_walk_plan *sub = calloc(1, sizeof(*sub));
	if (!sub)
		return mv_enomem;
	sub->kind = MV_WALK_TYPED;
	sub->type = elem;
	sub->size = elem ? elem->size : 0;
	struct mv_error *err = build_elements(w, sub, elem, 0, "", nest + 1);
	if (!err && elem && w->opt.rules && w->opt.rules->nnames) {
		char tn[MV_EVAL_TYPE_NAME_MAX];
		mv_rules_type_key(elem, tn, sizeof(tn));
		err = plan_names(sub, w->opt.rules, tn);
	}
	if (err) {
		plan_free(sub);
		return err;
	}
	*ret = sub;
	return NULL;
}

static const struct mv_len_hint *find_hint(struct mv_walk *w,
					   struct mv_type *record,
					   const char *field)
{
	const struct mv_rules *r = w->opt.rules;
	if (!r || !r->nlens || !record || !field)
		return NULL;
	char tn[MV_EVAL_TYPE_NAME_MAX]; /* C++ names run long */
	mv_rules_type_key(record, tn, sizeof(tn));
	/* The last rule given wins (a file after --len). */
	for (size_t i = r->nlens; i-- > 0;)
		if (!strcmp(r->lens[i].type, tn) &&
		    !strcmp(r->lens[i].field, field))
			return &r->lens[i];
	return NULL;
}

/* Whether a skip rule on record covers the slot at path rel (the
 * member itself or anything inside it). */
static bool skipped_by_rule(struct mv_walk *w, struct mv_type *record,
			    const char *rel)
{
	const struct mv_rules *r = w->opt.rules;
	if (!r || !r->nskips || !record)
		return false;
	char tn[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(record, tn, sizeof(tn));
	for (size_t i = 0; i < r->nskips; i++) {
		size_t n = strlen(r->skips[i].field);
		if (!strcmp(r->skips[i].type, tn) &&
		    !strncmp(r->skips[i].field, rel, n) &&
		    (!rel[n] || rel[n] == '.' || rel[n] == '['))
			return true;
	}
	return false;
}

/* The member called name in record, looking through anonymous members;
 * its byte offset from the record's start goes to *offset. */
const struct mv_member *mv_walk_find_member(struct mv_type *record,
					    const char *name, uint64_t *offset,
					    int nest)
{
	if (!record || nest > PLAN_MAX_NEST)
		return NULL;
	for (size_t i = 0; i < record->nmembers; i++) {
		const struct mv_member *m = &record->members[i];
		if (m->name && !strcmp(m->name, name)) {
			*offset = m->bit_position / 8;
			return m;
		}
		if (!m->name) {
			uint64_t inner;
			const struct mv_member *f = mv_walk_find_member(
				mv_type_strip(m->type), name, &inner, nest + 1);
			if (f) {
				*offset = m->bit_position / 8 + inner;
				return f;
			}
		}
	}
	return NULL;
}

static const struct mv_member *find_member(struct mv_type *record,
					   const char *name, uint64_t *offset,
					   int nest)
{
	return mv_walk_find_member(record, name, offset, nest);
}

/* libstdc++ (g++ 12) types the walk reads by their layout, by the
 * DWARF name of the class (see /usr/share/gcc/python/libstdcxx). */
enum cxx_kind {
	CXX_NONE,      /* not a standard library container: walked as is */
	CXX_VECTOR,    /* _M_impl._M_start .. _M_finish */
	CXX_STRING,    /* _M_dataplus._M_p, inline in _M_local_buf or not */
	CXX_RBTREE,    /* map, set, multimap, multiset: _M_header._M_parent */
	CXX_RBNODE,    /* _Rb_tree_node<V>: _M_left, _M_right, a V */
	CXX_LIST,      /* list: _M_node._M_next */
	CXX_LISTNODE,  /* _List_node<T>: _M_next, a T */
	CXX_HASHTABLE, /* unordered_*: _M_before_begin._M_nxt, buckets */
	CXX_HASHNODE,  /* _Hash_node<V, cache>: _M_nxt, a V */
	CXX_UPTR,      /* unique_ptr: its pointer, named as the object */
	CXX_FLIST,     /* forward_list: _M_impl._M_head._M_next */
	CXX_FLISTNODE, /* _Fwd_list_node<T>: _M_next, a T */
	CXX_SHARED,    /* __shared_ptr, __weak_ptr: _M_ptr while used */
	CXX_DEQUE,     /* _M_impl._M_map and its node buffers */
	CXX_OPTIONAL,  /* _M_payload._M_payload._M_value when engaged */
	CXX_VARIANT,   /* _M_u as the alternative _M_index says */
	CXX_FUNCTION,  /* _M_functor's heap block, when it has a manager */
	CXX_SPBLOCK,   /* a shared_ptr's control block: counted, not scanned */
	CXX_UNKNOWN,   /* a container whose elements the walk cannot see */
};

static bool name_starts(const char *name, const char *prefix)
{
	return !strncmp(name, prefix, strlen(prefix));
}

/* What kind of container st is, from its name ("std::vector<...>"). */
static enum cxx_kind cxx_kind_of(struct mv_type *st, char *tn, size_t size)
{
	if (!st->name || !strchr(st->name, '<'))
		return CXX_NONE;
	mv_type_name(st, tn, size);
	const char *n = tn;
	if (name_starts(n, "class "))
		n += 6;
	else if (name_starts(n, "struct "))
		n += 7;
	if (!name_starts(n, "std::"))
		return CXX_NONE;
	n += 5;
	if (name_starts(n, "__cxx11::"))
		n += 9;
	if (name_starts(n, "vector<"))
		return CXX_VECTOR;
	if (name_starts(n, "basic_string<"))
		return CXX_STRING;
	if (name_starts(n, "_Rb_tree<"))
		return CXX_RBTREE;
	if (name_starts(n, "_Rb_tree_node<"))
		return CXX_RBNODE;
	if (name_starts(n, "list<"))
		return CXX_LIST;
	if (name_starts(n, "_List_node<"))
		return CXX_LISTNODE;
	if (name_starts(n, "_Hashtable<"))
		return CXX_HASHTABLE;
	if (name_starts(n, "__detail::_Hash_node<"))
		return CXX_HASHNODE;
	if (name_starts(n, "unique_ptr<"))
		return CXX_UPTR;
	if (name_starts(n, "forward_list<"))
		return CXX_FLIST;
	if (name_starts(n, "_Fwd_list_node<"))
		return CXX_FLISTNODE;
	if (name_starts(n, "__shared_ptr<") || name_starts(n, "__weak_ptr<"))
		return CXX_SHARED;
	if (name_starts(n, "deque<"))
		return CXX_DEQUE;
	if (name_starts(n, "_Sp_counted_ptr<") ||
	    name_starts(n, "_Sp_counted_ptr_inplace<") ||
	    name_starts(n, "_Sp_counted_deleter<"))
		return CXX_SPBLOCK;
	if (name_starts(n, "optional<"))
		return CXX_OPTIONAL;
	if (name_starts(n, "variant<"))
		return CXX_VARIANT;
	if (name_starts(n, "function<"))
		return CXX_FUNCTION;
	static const char *const unknown[] = {
		"any", "__cxx1998::", "__debug::", "pmr::",
	};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		if (name_starts(n, unknown[i]))
			return CXX_UNKNOWN;
	return CXX_NONE;
}

/* Remembers the name of a container the walk does not understand, for
 * the note (each type once; the list is bounded). */
static void note_unknown(struct mv_walk *w, const char *tn)
{
	const char *n = tn;
	if (name_starts(n, "class "))
		n += 6;
	else if (name_starts(n, "struct "))
		n += 7;
	for (size_t at = 0; at < w->cxx_unknown.len;) {
		const char *e = w->cxx_unknown.data + at;
		if (!strcmp(e, n))
			return;
		at += strlen(e) + 1;
	}
	w->cxx_unknown_types++;
	if (w->cxx_unknown.len < 4096)
		mv_buf_append(&w->cxx_unknown, n, strlen(n) + 1);
}

/* The k-th template argument of the C++ name tn, into buf; false if
 * it has fewer or the name does not fit. */
bool mv_walk_template_arg(const char *tn, unsigned k, char *buf, size_t size)
{
	const char *p = strchr(tn, '<');
	if (!p)
		return false;
	p++;
	int depth = 0;
	unsigned arg = 0;
	const char *start = p;
	for (; *p; p++) {
		if (*p == '<' || *p == '(' || *p == '[') {
			depth++;
		} else if ((*p == '>' || *p == ')' || *p == ']') && depth) {
			depth--;
		} else if ((*p == ',' || *p == '>') && !depth) {
			if (arg == k) {
				while (*start == ' ')
					start++;
				size_t len = (size_t)(p - start);
				while (len && start[len - 1] == ' ')
					len--;
				if (!len || len >= size)
					return false;
				memcpy(buf, start, len);
				buf[len] = 0;
				return true;
			}
			if (*p == '>')
				return false;
			arg++;
			start = p + 1;
		}
	}
	return false;
}

static bool template_arg(const char *tn, unsigned k, char *buf, size_t size)
{
	return mv_walk_template_arg(tn, k, buf, size);
}

/* The type a C++ template argument names ("Node*", "long int",
 * "std::pair<int const, long int>"), as DWARF spells it; NULL if no
 * definition has that name. */
struct mv_type *mv_walk_cxx_type(struct mv_program *p, const char *name)
{
	char buf[MV_EVAL_TYPE_NAME_MAX];
	size_t len = strlen(name);
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len + 1);
	unsigned stars = 0;
	while (len && (buf[len - 1] == '*' || buf[len - 1] == ' ')) {
		stars += buf[len - 1] == '*';
		buf[--len] = 0;
	}
	if (len > 6 && !strcmp(buf + len - 6, " const"))
		buf[len -= 6] = 0;
	const char *n = buf;
	if (name_starts(n, "const "))
		n += 6;
	static const enum mv_type_ns order[] = {
		MV_NS_STRUCT, MV_NS_CLASS, MV_NS_ORDINARY, MV_NS_UNION,
		MV_NS_ENUM,
	};
	struct mv_type *t = NULL;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !t; i++) {
		struct mv_error *err = mv_program_find_type(
			p, order[i], n, 0, &t, NULL);
		if (err) {
			mv_error_destroy(err);
			t = NULL;
		}
	}
	for (unsigned i = 0; t && i < stars; i++)
		t = mv_program_pointer_type(p, t);
	return t ? mv_type_strip(t) : NULL;
}

/* The type named stem<arg k of tn>, e.g. the tree node of a map's
 * value type. */
struct mv_type *mv_walk_cxx_node_type(struct mv_program *p, const char *tn,
				      unsigned k, const char *stem,
				      const char *more)
{
	char arg[MV_EVAL_TYPE_NAME_MAX], name[MV_EVAL_TYPE_NAME_MAX + 64];
	if (!template_arg(tn, k, arg, sizeof(arg)))
		return NULL;
	size_t n = strlen(arg);
	snprintf(name, sizeof(name), "%s<%s%s%s>", stem, arg, more,
		 !*more && n && arg[n - 1] == '>' ? " " : "");
	return mv_walk_cxx_type(p, name);
}

static struct mv_type *type_by_name(struct mv_walk *w, const char *name)
{
	return mv_walk_cxx_type(w->program, name);
}

static struct mv_type *node_type(struct mv_walk *w, const char *tn,
				 unsigned k, const char *stem,
				 const char *more)
{
	return mv_walk_cxx_node_type(w->program, tn, k, stem, more);
}

/* The member inner of the member outer of record (through base
 * classes and anonymous members). */
static const struct mv_member *find_path(struct mv_type *record,
					 const char *outer, const char *inner,
					 uint64_t *offset)
{
	uint64_t o1, o2;
	const struct mv_member *m = find_member(record, outer, &o1, 0);
	if (!m || !(m = find_member(mv_type_strip(m->type), inner, &o2, 0)))
		return NULL;
	*offset = o1 + o2;
	return m;
}

/* The slots of a std::vector (one pointer to its elements, sized by
 * _M_finish; _M_finish and _M_end_of_storage point past elements and
 * are not followed) or a std::basic_string (its buffer, unless inline).
 * False if the members are not as libstdc++ 12 lays them out. */
static bool build_cxx(struct mv_walk *w, struct mv_walk_plan *pl,
		      struct mv_type *st, enum cxx_kind kind,
		      uint64_t offset, const char *prefix,
		      struct mv_error **err)
{
	(void)w;
	uint64_t off_p, off_e;
	const struct mv_member *mp, *me;
	struct slot s = {.kind = SLOT_PTR, .target_plan = NO_PLAN};
	if (kind == CXX_VECTOR) {
		mp = find_path(st, "_M_impl", "_M_start", &off_p);
		me = find_path(st, "_M_impl", "_M_finish", &off_e);
	} else {
		mp = find_path(st, "_M_dataplus", "_M_p", &off_p);
		me = find_member(st, "_M_local_buf", &off_e, 0);
	}
	struct mv_type *pt = mp ? mv_type_strip(mp->type) : NULL;
	struct mv_type *et = me ? mv_type_strip(me->type) : NULL;
	if (!pt || pt->kind != MV_TYPE_POINTER || !et ||
	    et->kind != (kind == CXX_VECTOR ? MV_TYPE_POINTER
					    : MV_TYPE_ARRAY))
		return false;
	s.offset = offset + off_p;
	s.target = mv_type_strip(mv_type_target(pt));
	if (kind == CXX_VECTOR) {
		if (!s.target || !s.target->size)
			return false;
		s.has_len = true;
		s.len_end = true;
		s.len_offset = offset + off_e;
		s.len_size = 8;
	} else {
		s.has_sso = true;
		s.sso_offset = offset + off_e;
	}
	*err = add_slot(pl, &s, prefix, NULL);
	return true;
}

static struct mv_error *build_elements(struct mv_walk *w,
				       struct mv_walk_plan *pl,
				       struct mv_type *type, uint64_t offset,
				       const char *prefix, int nest);

/* A link slot of a node container: a pointer at offset to a node
 * (heap blocks only), labelled name. */
static struct mv_error *add_link(struct mv_walk_plan *pl, uint64_t offset,
				 struct mv_type *node, const char *prefix,
				 const char *name)
{
	struct slot s = {.kind = SLOT_PTR, .offset = offset, .target = node,
			 .target_plan = NO_PLAN, .heap_only = true,
			 .container_link = true};
	return add_slot(pl, &s, prefix, name);
}

/* Makes the slots [first, pl->nslots) hold pointers only when c
 * holds (as well as their own conditions). */
static void slot_add_cond(struct slot *s, const struct cond *c)
{
	if (s->nconds == SLOT_NEVER)
		return;
	if (s->nconds == SLOT_MAX_CONDS)
		s->nconds = SLOT_NEVER; /* nested too deep: skipped */
	else
		s->cond[s->nconds++] = *c;
}

static void add_cond(struct mv_walk_plan *pl, size_t first,
		     const struct cond *c)
{
	for (size_t i = first; i < pl->nslots; i++)
		slot_add_cond(&pl->slots[i], c);
}

/* The node containers: the tree of a map or set (its root, typed as
 * _Rb_tree_node<value_type>), a list (its first node), and their
 * nodes (the links down or on, then the value in _M_storage).  False
 * if the names or members are not libstdc++ 12's. */
static bool build_nodes(struct mv_walk *w, struct mv_walk_plan *pl,
			struct mv_type *st, enum cxx_kind kind,
			const char *tn, uint64_t offset, const char *prefix,
			int nest, struct mv_error **err)
{
	uint64_t o1, o2;
	const struct mv_member *m;
	struct mv_type *node;
	switch (kind) {
	case CXX_RBTREE:
		node = node_type(w, tn, 1, "std::_Rb_tree_node", "");
		m = find_path(st, "_M_impl", "_M_header", &o1);
		if (!node || !m ||
		    !find_member(mv_type_strip(m->type), "_M_parent", &o2, 0))
			return false;
		*err = add_link(pl, offset + o1 + o2, node, prefix, NULL);
		return true;
	case CXX_FLIST:
		/* A node reached twice is a loop: the list ends in null. */
		node = node_type(w, tn, 0, "std::_Fwd_list_node", "");
		m = find_path(st, "_M_impl", "_M_head", &o1);
		if (!node || !m ||
		    !find_member(mv_type_strip(m->type), "_M_next", &o2, 0))
			return false;
		if ((*err = add_link(pl, offset + o1 + o2, node, prefix, NULL)))
			return true;
		pl->slots[pl->nslots - 1].tree_link = true;
		return true;
	case CXX_LIST:
		node = node_type(w, tn, 0, "std::_List_node", "");
		m = find_path(st, "_M_impl", "_M_node", &o1);
		if (!node || !m ||
		    !find_member(mv_type_strip(m->type), "_M_next", &o2, 0))
			return false;
		*err = add_link(pl, offset + o1 + o2, node, prefix, NULL);
		return true;
	case CXX_HASHTABLE: {
		/* The node type says whether it caches the hash code. */
		node = node_type(w, tn, 1, "std::__detail::_Hash_node",
				 ", false");
		if (!node)
			node = node_type(w, tn, 1, "std::__detail::_Hash_node",
					 ", true");
		uint64_t ob;
		m = find_path(st, "_M_before_begin", "_M_nxt", &o1);
		const struct mv_member *mb = find_member(st, "_M_buckets", &ob,
							 0);
		if (!node || !m || !mb)
			return false;
		if ((*err = add_link(pl, offset + o1, node, prefix, NULL)))
			return true;
		/* The bucket array: a block of its own (unless it is the
		 * table's _M_single_bucket), whose pointers lead to nodes
		 * the list above reaches: counted, not scanned. */
		*err = add_link(pl, offset + ob, NULL, prefix, "buckets");
		return true;
	}
	case CXX_HASHNODE:
	case CXX_RBNODE:
	case CXX_FLISTNODE:
	case CXX_LISTNODE: {
		struct mv_type *value = NULL;
		char arg[MV_EVAL_TYPE_NAME_MAX];
		if (template_arg(tn, 0, arg, sizeof(arg)))
			value = type_by_name(w, arg);
		m = find_member(st, "_M_storage", &o1, 0);
		if (!value || !m)
			return false;
		const char *links[2] = {"_M_left", "_M_right"};
		if (kind == CXX_LISTNODE || kind == CXX_FLISTNODE)
			links[0] = "_M_next", links[1] = NULL;
		if (kind == CXX_HASHNODE)
			links[0] = "_M_nxt", links[1] = NULL;
		for (int i = 0; i < 2 && links[i]; i++) {
			if (!find_member(st, links[i], &o2, 0))
				return false;
			if ((*err = add_link(pl, offset + o2, st, prefix,
					     links[i] + 3 + (links[i][3] == '_'))))
				return true;
			pl->slots[pl->nslots - 1].tree_link =
				kind == CXX_RBNODE || kind == CXX_FLISTNODE;
		}
		char p[256];
		snprintf(p, sizeof(p), "%s.value", prefix);
		*err = build_elements(w, pl, value, offset + o1, p, nest + 1);
		return true;
	}
	default:
		return false;
	}
}

/* A std::deque: its map (a block of node pointers, counted, not
 * scanned) and the node buffers from _M_start._M_node to
 * _M_finish._M_node, each holding __deque_buf_size(sizeof(T))
 * elements (512 / sizeof(T), at least 1), of which only those in
 * [_M_start._M_cur, _M_finish._M_cur) are elements.  False if the
 * members are not libstdc++ 12's. */
static bool build_deque(struct mv_walk *w, struct mv_walk_plan *pl,
			struct mv_type *st, const char *tn, uint64_t offset,
			const char *prefix, struct mv_error **err)
{
	uint64_t om, os, ob, of, oi;
	const struct mv_member *mm = find_path(st, "_M_impl", "_M_map", &om);
	const struct mv_member *ms = find_path(st, "_M_impl", "_M_map_size",
					       &os);
	const struct mv_member *mb = find_path(st, "_M_impl", "_M_start", &ob);
	const struct mv_member *mf = find_path(st, "_M_impl", "_M_finish",
					       &of);
	char arg[MV_EVAL_TYPE_NAME_MAX];
	struct mv_type *elem = template_arg(tn, 0, arg, sizeof(arg))
				       ? type_by_name(w, arg) : NULL;
	if (!mm || !ms || !mb || !mf || !elem || !elem->size ||
	    os != om + 8 || ob != om + 16 || of != om + 48)
		return false;
	static const char *const it[] = {"_M_cur", "_M_first", "_M_last",
					 "_M_node"};
	for (int i = 0; i < 4; i++)
		if (!find_member(mv_type_strip(mb->type), it[i], &oi, 0) ||
		    oi != (uint64_t)i * 8)
			return false;
	struct slot s = {.kind = SLOT_PTR, .offset = offset + om,
			 .target_plan = NO_PLAN, .container_link = true};
	if ((*err = add_slot(pl, &s, prefix, "_M_impl._M_map")))
		return true;
	s = (struct slot){.kind = SLOT_DEQUE, .offset = offset + om,
			  .target = elem, .target_plan = NO_PLAN,
			  .stride = elem->size,
			  .count = elem->size < 512 ? 512 / elem->size : 1};
	*err = add_slot(pl, &s, prefix, NULL);
	return true;
}

/* std::optional (its value while engaged), std::variant (the
 * alternative its index names, typed from the template's arguments:
 * g++ stores those that are not trivially destructible as bytes) and
 * std::function (the block its functor is kept in, when it has a
 * manager: an untyped block, since DWARF does not say which lambda).
 * False if the members are not libstdc++ 12's. */
static bool build_sum(struct mv_walk *w, struct mv_walk_plan *pl,
		      struct mv_type *st, enum cxx_kind kind, const char *tn,
		      uint64_t offset, const char *prefix, int nest,
		      struct mv_error **err)
{
	uint64_t o1, o2, o3;
	const struct mv_member *m1, *m2, *m3;
	size_t first = pl->nslots;
	switch (kind) {
	case CXX_OPTIONAL: {
		m1 = find_path(st, "_M_payload", "_M_payload", &o1);
		m2 = find_path(st, "_M_payload", "_M_engaged", &o2);
		m3 = m1 ? find_member(mv_type_strip(m1->type), "_M_value", &o3,
				      0) : NULL;
		struct mv_type *et = m2 ? mv_type_strip(m2->type) : NULL;
		if (!m3 || !et || !et->size || et->size > 8)
			return false;
		if ((*err = build_elements(w, pl, m3->type, offset + o1 + o3,
					   prefix, nest + 1)))
			return true;
		struct cond c = {.offset = offset + o2,
				 .size = (uint32_t)et->size, .op = COND_NE};
		add_cond(pl, first, &c);
		return true;
	}
	case CXX_VARIANT: {
		m1 = find_member(st, "_M_u", &o1, 0);
		m2 = find_member(st, "_M_index", &o2, 0);
		struct mv_type *it = m2 ? mv_type_strip(m2->type) : NULL;
		if (!m1 || !it || (it->kind != MV_TYPE_INT &&
				   it->kind != MV_TYPE_ENUM) ||
		    !it->size || it->size > 8)
			return false;
		struct mv_type *alt[32];
		unsigned n = 0;
		char arg[MV_EVAL_TYPE_NAME_MAX];
		for (; n < 32 && template_arg(tn, n, arg, sizeof(arg)); n++)
			if (!(alt[n] = type_by_name(w, arg)))
				return false;
		if (!n || n == 32)
			return false;
		for (unsigned k = 0; k < n; k++) {
			first = pl->nslots;
			if ((*err = build_elements(w, pl, alt[k], offset + o1,
						   prefix, nest + 1)))
				return true;
			struct cond c = {.offset = offset + o2,
					 .size = (uint32_t)it->size,
					 .op = COND_EQ, .value = k};
			add_cond(pl, first, &c);
		}
		return true;
	}
	case CXX_FUNCTION: {
		m1 = find_member(st, "_M_functor", &o1, 0);
		m2 = find_member(st, "_M_manager", &o2, 0);
		if (!m1 || !m2)
			return false;
		/* A functor kept inside the object is not a block; a word
		 * of one that points to a block is a pointer it holds. */
		struct slot s = {.kind = SLOT_PTR, .offset = offset + o1,
				 .target_plan = NO_PLAN, .heap_only = true,
				 .functor = true, .manager_offset = offset + o2};
		if ((*err = add_slot(pl, &s, prefix, NULL)))
			return true;
		struct cond c = {.offset = offset + o2, .size = 8,
				 .op = COND_NE};
		add_cond(pl, first, &c);
		return true;
	}
	default:
		return false;
	}
}

/* A __shared_ptr or __weak_ptr, walked by its members: its _M_ptr
 * (named as the object, as a unique_ptr's) is followed only while the
 * control block's use count is positive (a weak_ptr's object may be
 * gone, its block kept); the control block pointer is a container
 * link. */
static void fix_shared(struct mv_walk_plan *pl, size_t first,
		       struct mv_type *st, uint64_t offset, const char *prefix,
		       struct mv_error **err)
{
	uint64_t op, oc, ou;
	const struct mv_member *mp = find_member(st, "_M_ptr", &op, 0);
	const struct mv_member *mc = find_path(st, "_M_refcount", "_M_pi", &oc);
	struct mv_type *ct = mc ? mv_type_strip(mc->type) : NULL;
	struct mv_type *cb = ct && ct->kind == MV_TYPE_POINTER
				     ? mv_type_strip(mv_type_target(ct)) : NULL;
	const struct mv_member *mu = cb ? find_member(cb, "_M_use_count", &ou,
						      0) : NULL;
	struct mv_type *ut = mu ? mv_type_strip(mu->type) : NULL;
	if (!mp || !ut || !ut->size || ut->size > 8)
		return;
	struct cond c = {.offset = offset + oc, .inner = ou,
			 .size = (uint32_t)ut->size, .indirect = true,
			 .op = COND_POS};
	for (size_t i = first; i < pl->nslots; i++) {
		struct slot *s = &pl->slots[i];
		if (s->kind != SLOT_PTR)
			continue;
		if (s->offset == offset + oc) {
			s->container_link = true;
		} else if (s->offset == offset + op) {
			char *name = strdup(prefix);
			if (!name) {
				*err = mv_enomem;
				return;
			}
			free(s->name);
			s->name = name;
			slot_add_cond(s, &c);
		}
	}
}

/* Adds the pointer slots of an object of type at offset (bytes from the
 * element's start) to pl. */
static struct mv_error *build_elements(struct mv_walk *w,
				       struct mv_walk_plan *pl,
				       struct mv_type *type, uint64_t offset,
				       const char *prefix, int nest)
{
	struct mv_error *err;
	struct mv_type *st = mv_type_strip(type);
	if (!st || nest > PLAN_MAX_NEST)
		return NULL;
	switch (st->kind) {
	case MV_TYPE_POINTER: {
		struct mv_type *target = mv_type_strip(mv_type_target(st));
		if (target && target->kind == MV_TYPE_FUNCTION) {
			pl->fn_ptrs++;
			return NULL;
		}
		struct slot s = {.kind = SLOT_PTR, .offset = offset,
				 .target = target, .target_plan = NO_PLAN};
		return add_slot(pl, &s, prefix, NULL);
	}
	case MV_TYPE_ARRAY: {
		struct mv_type *elem = mv_type_target(st);
		struct mv_type *est = mv_type_strip(elem);
		if (!est || !est->size)
			return NULL;
		struct mv_walk_plan *sub = NULL;
		if ((err = plan_for_element(w, est, nest, &sub)))
			return err;
		pl->union_skips += sub->union_skips *
				   (uint32_t)(st->has_count ? st->count : 0);
		pl->fn_ptrs += sub->fn_ptrs *
			       (uint32_t)(st->has_count ? st->count : 0);
		if (!st->has_count) {
			/* Flexible: sized by the chunk when scanned. */
			pl->has_fam = true;
			pl->fam_offset = offset;
			pl->fam_stride = est->size;
		}
		if (!sub->nslots || (st->has_count && !st->count)) {
			plan_free(sub);
			return NULL;
		}
		struct slot s = {.kind = st->has_count ? SLOT_ARRAY : SLOT_FAM,
				 .offset = offset, .stride = est->size,
				 .count = st->count, .sub = sub};
		if ((err = add_slot(pl, &s, prefix, NULL))) {
			plan_free(sub);
			return err;
		}
		return NULL;
	}
	case MV_TYPE_STRUCT:
	case MV_TYPE_CLASS:
	case MV_TYPE_UNION: {
		bool is_union = st->kind == MV_TYPE_UNION;
		char tn[MV_EVAL_TYPE_NAME_MAX];
		enum cxx_kind ck = is_union ? CXX_NONE
					    : cxx_kind_of(st, tn, sizeof(tn));
		if ((ck == CXX_VECTOR || ck == CXX_STRING) &&
		    build_cxx(w, pl, st, ck, offset, prefix, &err))
			return err;
		if (((ck >= CXX_RBTREE && ck <= CXX_HASHNODE) ||
		     ck == CXX_FLIST || ck == CXX_FLISTNODE) &&
		    build_nodes(w, pl, st, ck, tn, offset, prefix, nest, &err))
			return err;
		if (ck == CXX_DEQUE &&
		    build_deque(w, pl, st, tn, offset, prefix, &err))
			return err;
		if (ck >= CXX_OPTIONAL && ck <= CXX_FUNCTION &&
		    build_sum(w, pl, st, ck, tn, offset, prefix, nest, &err))
			return err;
		/* A control block found from its vtable: its object is
		 * the shared_ptr's _M_ptr, followed while the use count is
		 * positive, never from here (a weak_ptr's object is gone,
		 * its block maybe reused). */
		if (ck == CXX_SPBLOCK)
			return NULL;
		if (ck != CXX_NONE && ck != CXX_STRING && ck != CXX_UPTR &&
		    ck != CXX_SHARED)
			note_unknown(w, tn);
		size_t first_slot = pl->nslots;
		for (size_t i = 0; i < st->nmembers; i++) {
			const struct mv_member *m = &st->members[i];
			if (m->bit_size)
				continue;
			/* The vtable pointer: read for dynamic types, not
			 * an edge to the read-only vtable. */
			if (m->name && !strncmp(m->name, "_vptr", 5))
				continue;
			if (is_union && w->opt.unions != MV_WALK_UNIONS_ALL &&
			    (i > 0 || w->opt.unions == MV_WALK_UNIONS_NONE)) {
				/* Count what we skip, so the note is honest. */
				struct mv_walk_plan tmp = {0};
				err = build_elements(w, &tmp, m->type, 0, "",
						     nest + 1);
				pl->union_skips += (uint32_t)tmp.nslots +
						   tmp.union_skips;
				for (size_t k = 0; k < tmp.nslots; k++) {
					free(tmp.slots[k].name);
					plan_free(tmp.slots[k].sub);
				}
				free(tmp.slots);
				if (err)
					return err;
				continue;
			}
			struct mv_buf p;
			mv_buf_init(&p);
			mv_buf_printf(&p, "%s%s%s", prefix, m->name ? "." : "",
				      m->name ? m->name : "");
			mv_buf_reserve(&p, 1);
			if (p.oom) {
				mv_buf_deinit(&p);
				return mv_enomem;
			}
			size_t before = pl->nslots;
			err = build_elements(w, pl, m->type,
					     offset + m->bit_position / 8,
					     p.data, nest + 1);
			mv_buf_deinit(&p);
			if (err)
				return err;
			/* Rules on the pointers this member holds, by their
			 * path from this record: skip, then --len. */
			size_t plen = strlen(prefix);
			for (size_t k = before; k < pl->nslots;) {
				struct slot *s = &pl->slots[k];
				const char *rel = !strncmp(s->name, prefix,
							   plen) &&
							  s->name[plen] == '.'
						  ? s->name + plen + 1 : NULL;
				if (rel && skipped_by_rule(w, st, rel)) {
					free(s->name);
					if (s->sub && !s->sub->registered)
						plan_free(s->sub);
					memmove(s, s + 1, (pl->nslots - k - 1) *
							  sizeof(*s));
					pl->nslots--;
					pl->rule_skips++;
					continue;
				}
				const struct mv_len_hint *h = NULL;
				if (rel && s->kind == SLOT_PTR && !s->len_end)
					h = find_hint(w, st, rel);
				if (h) {
					s->has_len = true;
					s->len_expr = &h->expr;
					s->len_base = offset;
				}
				k++;
			}
			/* len on a trailing array (PyObject *ob_item[1]):
			 * its count, and the object's size, from the rule. */
			struct mv_type *mst = mv_type_strip(m->type);
			const struct mv_len_hint *ah =
				m->name && mst && mst->kind == MV_TYPE_ARRAY &&
						mv_type_strip(mv_type_target(mst))
					? find_hint(w, st, m->name) : NULL;
			if (ah && !nest) {
				struct mv_type *est = mv_type_strip(
					mv_type_target(mst));
				pl->has_fam = true;
				pl->fam_offset = offset + m->bit_position / 8;
				pl->fam_stride = est->size ? est->size : 1;
				pl->fam_len = &ah->expr;
				pl->fam_len_base = offset;
				for (size_t k = before; k < pl->nslots; k++)
					if (pl->slots[k].kind == SLOT_ARRAY &&
					    pl->slots[k].offset ==
						    pl->fam_offset)
						pl->slots[k].kind = SLOT_FAM;
			}
		}
		if (ck == CXX_SHARED) {
			err = NULL;
			fix_shared(pl, first_slot, st, offset, prefix, &err);
			if (err)
				return err;
		}
		/* A unique_ptr's pointer is named as the unique_ptr. */
		if (ck == CXX_UPTR && pl->nslots == first_slot + 1 &&
		    pl->slots[first_slot].kind == SLOT_PTR) {
			char *name = strdup(prefix);
			if (!name)
				return mv_enomem;
			free(pl->slots[first_slot].name);
			pl->slots[first_slot].name = name;
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

static struct mv_error *register_plan(struct mv_walk *w,
				      struct mv_walk_plan *pl, uint32_t *ret)
{
	if (w->nplans == w->plans_cap) {
		size_t cap = w->plans_cap ? w->plans_cap * 2 : 16;
		struct mv_walk_plan **np = realloc(w->plans, cap * sizeof(*np));
		if (!np)
			return mv_enomem;
		w->plans = np;
		struct mv_walk_stat *ns = realloc(w->stats, cap * sizeof(*ns));
		if (!ns)
			return mv_enomem;
		w->stats = ns;
		w->plans_cap = cap;
	}
	pl->registered = true;
	memset(&w->stats[w->nplans], 0, sizeof(w->stats[0]));
	w->plans[w->nplans] = pl;
	*ret = (uint32_t)w->nplans++;
	return NULL;
}

/* Whether a class has a vtable pointer (g++ names it "_vptr.Class"),
 * in itself or a base class at offset 0 chain; its offset. */
static bool find_vptr(struct mv_type *st, uint64_t *offset, int nest)
{
	if (!st || nest > PLAN_MAX_NEST ||
	    (st->kind != MV_TYPE_STRUCT && st->kind != MV_TYPE_CLASS))
		return false;
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct mv_member *m = &st->members[i];
		if (m->name && !strncmp(m->name, "_vptr", 5)) {
			*offset = m->bit_position / 8;
			return true;
		}
		uint64_t inner;
		if (!m->name &&
		    find_vptr(mv_type_strip(m->type), &inner, nest + 1)) {
			*offset = m->bit_position / 8 + inner;
			return true;
		}
	}
	return false;
}

/* The name rules on pl's type (type key tn): on its members' slots and
 * on its array rules' elements. */
static struct mv_error *plan_names(struct mv_walk_plan *pl,
				   const struct mv_rules *r, const char *tn)
{
	if (pl->narrays &&
	    !(pl->array_name = calloc(pl->narrays, sizeof(*pl->array_name))))
		return mv_enomem;
	for (size_t i = 0; i < r->nnames; i++) {
		const struct mv_rule_name *n = &r->names[i];
		if (strcmp(n->type, tn))
			continue;
		for (uint32_t k = 0; n->array >= 0 && n->in < 0 &&
				     k < pl->narrays; k++)
			if (pl->arrays[k] == (uint32_t)n->array)
				pl->array_name[k] = n;
		for (size_t k = 0; n->array < 0 && n->in < 0 &&
				   k < pl->nslots; k++)
			if (pl->slots[k].offset == n->offset && n->elements)
				pl->slots[k].erule = n;
			else if (pl->slots[k].offset == n->offset)
				pl->slots[k].nrule = n;
	}
	return NULL;
}

/* The dispatch and container_of rules on objects of pl's type. */
static struct mv_error *plan_rules(struct mv_walk *w, struct mv_walk_plan *pl)
{
	const struct mv_rules *r = w->opt.rules;
	pl->container = -1;
	if (!r)
		return NULL;
	char tn[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(pl->type, tn, sizeof(tn));
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcmp(r->headers[i].type, tn) && r->headers[i].header)
			pl->header_bytes = r->headers[i].header->size;
		else if (!strcmp(r->headers[i].type, tn))
			pl->header_expr = &r->headers[i].bytes;
	for (size_t i = 0; i < r->nsizes; i++)
		if (!strcmp(r->sizes[i].type, tn))
			pl->size_expr = &r->sizes[i].expr;
	for (size_t i = 0; i < r->narrays; i++) {
		if (strcmp(r->arrays[i].type, tn))
			continue;
		uint32_t *d = realloc(pl->arrays,
				      (pl->narrays + 1) * sizeof(*d));
		if (!d)
			return mv_enomem;
		pl->arrays = d;
		d = realloc(pl->array_plan, (pl->narrays + 1) * sizeof(*d));
		if (!d)
			return mv_enomem;
		pl->array_plan = d;
		pl->arrays[pl->narrays] = (uint32_t)i;
		pl->array_plan[pl->narrays++] = NO_PLAN;
	}

	for (size_t i = 0; i < r->ncontainers; i++) {
		char mn[MV_EVAL_TYPE_NAME_MAX];
		mv_rules_type_key(r->containers[i].member, mn, sizeof(mn));
		if (r->containers[i].member == pl->type || !strcmp(mn, tn)) {
			pl->container = (int32_t)i;
			pl->container_plan = NO_PLAN;
			pl->ruled = true;
		}
	}
	for (size_t i = 0; i < r->ndispatch; i++) {
		if (strcmp(r->dispatch[i].type, tn))
			continue;
		uint32_t *d = realloc(pl->dispatch,
				      (pl->ndispatch + 1) * sizeof(*d));
		if (!d)
			return mv_enomem;
		pl->dispatch = d;
		d = realloc(pl->dispatch_plan, (pl->ndispatch + 1) * sizeof(*d));
		if (!d)
			return mv_enomem;
		pl->dispatch_plan = d;
		pl->dispatch[pl->ndispatch] = (uint32_t)i;
		pl->dispatch_plan[pl->ndispatch++] = NO_PLAN;
		pl->ruled = true;
	}
	return r->nnames ? plan_names(pl, r, tn) : NULL;
}

/* The registered plan for objects of type (stripped), made on first
 * use.  Plans 0 and 1 are strings and untyped chunks. */
static struct mv_error *plan_for_type(struct mv_walk *w, struct mv_type *st,
				      uint32_t *ret)
{
	for (size_t i = 2; i < w->nplans; i++)
		if (w->plans[i]->type == st) {
			*ret = (uint32_t)i;
			return NULL;
		}
	struct mv_walk_plan *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return mv_enomem;
	pl->kind = MV_WALK_TYPED;
	pl->type = st;
	pl->size = st->size;
	pl->align = mv_type_alignment(st);
	char tn[256];
	mv_type_name(st, tn, sizeof(tn));
	pl->name = strdup(tn);
	struct mv_error *err = pl->name ? NULL : mv_enomem;
	if (!err)
		err = build_elements(w, pl, st, 0, "", 0);
	if (!err)
		err = plan_rules(w, pl);
	if (!err) {
		pl->polymorphic = find_vptr(st, &pl->vptr_offset, 0);
		pl->plain_ok = !pl->has_fam && pl->align <= 16 &&
			       !(pl->align & (pl->align - 1));
		pl->flat = !pl->has_fam && pl->size <= LOAD_WINDOW;
		for (size_t i = 0; i < pl->nslots; i++)
			if (pl->slots[i].kind != SLOT_PTR ||
			    pl->slots[i].has_len || pl->slots[i].has_sso ||
			    pl->slots[i].heap_only || pl->slots[i].nconds ||
			    pl->slots[i].container_link)
				pl->flat = false;
		/* A dispatch or container_of rule may retype the object:
		 * follow_plain cannot take a pointer to it. */
		if (pl->ruled || pl->size_expr || pl->header_bytes ||
		    pl->header_expr ||
		    pl->narrays || pl->fam_len)
			pl->plain_ok = pl->flat = false;
		err = register_plan(w, pl, ret);
	}
	if (err)
		plan_free(pl);
	return err;
}

static struct mv_error *builtin_plan(struct mv_walk *w, enum mv_walk_kind k,
				     const char *name)
{
	struct mv_walk_plan *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return mv_enomem;
	pl->kind = k;
	pl->size = 1;
	pl->align = 1;
	pl->name = strdup(name);
	uint32_t idx;
	struct mv_error *err = pl->name ? register_plan(w, pl, &idx)
					: mv_enomem;
	if (err)
		plan_free(pl);
	return err;
}

#define PLAN_STRING 0u
#define PLAN_UNTYPED 1u
#define PLAN_BYTES 2u

/* What a pointer slot points to: a registered plan, or NO_PLAN when it
 * is not followed. */
static struct mv_error *slot_target(struct mv_walk *w, struct slot *s,
				    uint32_t *ret)
{
	if (s->target_plan != NO_PLAN) {
		*ret = s->target_plan;
		return NULL;
	}
	struct mv_type *t = s->target;
	uint32_t plan;
	if (!t || t->kind == MV_TYPE_VOID || t->kind == MV_TYPE_UNKNOWN) {
		plan = PLAN_UNTYPED;
	} else if (is_char_type(t) && t->name && !strcmp(t->name, "char")) {
		plan = PLAN_STRING;
	} else if (is_char_type(t)) {
		/* unsigned char *, signed char *, uint8_t *: bytes, not
		 * text (issue 18.7): the buffer is the rest of its block. */
		w->byte_buffers++;
		plan = PLAN_BYTES;
	} else if (!t->size || ((t->kind == MV_TYPE_STRUCT ||
				 t->kind == MV_TYPE_UNION ||
				 t->kind == MV_TYPE_CLASS) &&
				!t->is_complete)) {
		/* Declared only here: size it by its chunk. */
		w->incomplete++;
		plan = PLAN_UNTYPED;
	} else {
		struct mv_error *err = plan_for_type(w, t, &plan);
		if (err)
			return err;
	}
	s->target_plan = plan;
	*ret = plan;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* A chunk directory for fast lookups                                  */
/* ------------------------------------------------------------------ */

/* Per heap segment, one bit per 16-byte granule where a chunk starts,
 * and one where a plain chunk starts: in use, on no list, of its
 * segment's arena and followed at once by the next chunk (so that its
 * size is the distance to the next start bit).  A lookup is then one
 * 32-byte word, which also holds its rank and the walk's visited bits:
 * one cache miss per pointer on a shuffled heap, where the sorted index
 * costs one or two and a separate visited bitmap another.  Anything
 * else (large chunks, other flags, segments whose chunks do not tile)
 * is answered from the index. */
#define DIR_MAX_WORDS_PER_CHUNK 64  /* sparser segments: binary search */
#define DIR_SCAN_WORDS 4            /* bitmap words scanned per lookup */

/* 64 granules (1 KiB of heap). */
struct dir_word {
	uint64_t starts, plain;
	uint64_t seen;          /* the walk's visited set, by start granule */
	uint32_t rank;          /* index of the first chunk at or after the
				 * word's first granule */
	uint32_t spare;
};

struct dir_seg {
	uint64_t base, end;     /* base is 16-aligned */
	struct dir_word *w;
	size_t nwords;
	uint32_t arena;
};

struct mv_chunk_dir {
	struct mv_heap *h;
	size_t n;
	struct dir_seg *segs;
	size_t nsegs;
	size_t nwords;          /* of all segments */
	bool seen_used;         /* a walk may have set visited bits */
};

void mv_chunk_dir_destroy(struct mv_chunk_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nsegs; i++)
		mv_big_free(d->segs[i].w);
	free(d->segs);
	free(d);
}

/* Fills s for the chunks [lo, hi) of segment sg; false (s untouched
 * but for allocations freed) if the segment is left to the index. */
static bool dir_seg_fill(struct mv_chunk_dir *d, struct dir_seg *s,
			 const struct mv_heap_segment *sg, size_t lo,
			 size_t hi, struct mv_error **err)
{
	uint64_t base = sg->start & ~(uint64_t)15;
	uint64_t granules = (sg->end - base + 15) >> 4;
	size_t nwords = (size_t)((granules + 63) / 64);
	if (hi <= lo || hi - lo > UINT32_MAX - 1 || d->n > UINT32_MAX ||
	    nwords / DIR_MAX_WORDS_PER_CHUNK > hi - lo)
		return false;
	/* Blocks with no header (pymalloc) are left to the index: the
	 * directory's bits are by chunk header. */
	const struct mv_heap *h = d->h;
	uint64_t first = mv_heap_start_at(h, lo), start = first;
	for (size_t i = lo; i < hi; i++) {
		if (i > lo)
			start = mv_heap_next_start(h, i - 1, start);
		if ((start & 15) || (mv_heap_flags_at(h, i) & MV_CHUNK_NO_HEADER))
			return false;
	}
	s->w = mv_big_calloc(nwords, sizeof(*s->w));
	if (!s->w)
		return false;
	size_t i = lo;
	start = first;
	uint32_t ai = 0;
	uint64_t ai_next = 0; /* where ai may change (mv_heap_arena_at) */
	for (size_t k = 0; k < nwords; k++) {
		/* A heap of gigabytes takes a second: Ctrl-C, and a sign
		 * of life on the index's progress line. */
		if (k % 65536 == 65535 && (*err = mv_heap_poll(d->h))) {
			mv_big_free(s->w);
			s->w = NULL;
			return false;
		}
		uint64_t word_end = base + ((uint64_t)(k + 1) << 10);
		s->w[k].rank = (uint32_t)i;
		for (; i < hi && start < word_end; i++) {
			if (start >= ai_next)
				ai = mv_heap_arena_at(d->h, start, &ai_next);
			uint64_t g = (start - base) >> 4;
			uint64_t bit = 1ull << (g % 64);
			s->w[k].starts |= bit;
			uint64_t next = i + 1 < hi ? mv_heap_next_start(h, i, start)
						   : 0;
			if (mv_heap_flags_at(h, i) == MV_CHUNK_IN_USE &&
			    ai == sg->arena && i + 1 < hi &&
			    next == start + mv_heap_size_at(h, i))
				s->w[k].plain |= bit;
			start = next;
		}
	}
	s->base = base;
	s->end = sg->end;
	s->nwords = nwords;
	s->arena = sg->arena;
	return true;
}

struct mv_error *mv_chunk_dir_create(struct mv_heap *h,
				     struct mv_chunk_dir **ret)
{
	struct mv_chunk_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return mv_enomem;
	d->h = h;
	d->n = mv_heap_chunk_count(h);
	size_t ns;
	const struct mv_heap_segment *sg = mv_heap_segments(h, &ns);
	d->segs = calloc(ns ? ns : 1, sizeof(*d->segs));
	if (!d->segs) {
		mv_chunk_dir_destroy(d);
		return mv_enomem;
	}
	for (size_t k = 0; k < ns; k++) {
		if (sg[k].end <= sg[k].start)
			continue;
		size_t lo = mv_heap_lower_bound(h, sg[k].start);
		size_t hi = mv_heap_lower_bound(h, sg[k].end);
		struct mv_error *err = NULL;
		if (dir_seg_fill(d, &d->segs[d->nsegs], &sg[k], lo, hi, &err))
			d->nwords += d->segs[d->nsegs++].nwords;
		if (err) {
			mv_chunk_dir_destroy(d);
			return err;
		}
	}
	*ret = d;
	return NULL;
}

/* Bits set in x, without the popcnt instruction Debian's baseline
 * x86-64 may lack (the builtin then calls libgcc). */
static inline unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The chunk of a plain bit: its size is the distance to the next start
 * bit (within DIR_SCAN_WORDS words; 0 if further). */
static uint64_t plain_size(const struct dir_seg *s, size_t k, unsigned b)
{
	uint64_t later = b == 63 ? 0 : s->w[k].starts >> (b + 1) << (b + 1);
	for (size_t j = k; j < s->nwords && j < k + DIR_SCAN_WORDS; j++) {
		uint64_t m = j == k ? later : s->w[j].starts;
		if (m) {
			uint64_t g = (uint64_t)j * 64 + (unsigned)__builtin_ctzll(m);
			return (g - ((uint64_t)k * 64 + b)) << 4;
		}
	}
	return 0;
}

/* The index of the chunk containing address in s, from the bitmap;
 * SIZE_MAX if its start is further back than the scan goes. */
static size_t dir_seg_find(const struct dir_seg *s, uint64_t address,
			   size_t *word, unsigned *bit)
{
	uint64_t g = (address - s->base) >> 4;
	size_t k = (size_t)(g / 64);
	unsigned b = (unsigned)(g % 64);
	uint64_t m = s->w[k].starts &
		     (b == 63 ? ~0ull : (2ull << b) - 1);
	for (size_t j = 0; !m && j < DIR_SCAN_WORDS && k; j++)
		m = s->w[--k].starts;
	if (!m)
		return SIZE_MAX;
	b = 63 - (unsigned)__builtin_clzll(m);
	*word = k;
	*bit = b;
	return s->w[k].rank + popcount64(s->w[k].starts & ((1ull << b) - 1));
}

/* The segment whose range holds a chunk starting at start: the first
 * one, so that a chunk has one visited bit even if segments overlap. */
static inline const struct dir_seg *dir_seg_of(const struct mv_chunk_dir *d,
					       uint64_t start)
{
	for (size_t k = 0; k < d->nsegs; k++)
		if (start >= d->segs[k].base && start < d->segs[k].end)
			return &d->segs[k];
	return NULL;
}

/* Whether address is the user address (start + 16) of a plain chunk,
 * from the bitmap alone: the chunk's size, and its directory word and
 * bit.  dir_find gives the same chunk for it. */
static inline bool dir_plain_mem(const struct mv_chunk_dir *d,
				 uint64_t address, uint64_t *size,
				 struct dir_word **word, uint64_t *mask)
{
	const struct dir_seg *s;
	if (address < 16 || !(s = dir_seg_of(d, address - 16)))
		return false;
	uint64_t g = (address - 16 - s->base) >> 4;
	size_t k = (size_t)(g / 64);
	unsigned bit = (unsigned)(g % 64);
	if (!(s->w[k].plain >> bit & 1) || !(*size = plain_size(s, k, bit)))
		return false;
	*word = &s->w[k];
	*mask = 1ull << bit;
	return true;
}

/* The visited bit of the chunk starting at start, if the directory
 * covers it. */
static inline uint64_t *dir_seen(struct mv_chunk_dir *d, uint64_t start,
				 uint64_t *mask)
{
	const struct dir_seg *s = dir_seg_of(d, start);
	if (!s)
		return NULL;
	uint64_t g = (start - s->base) >> 4;
	*mask = 1ull << (g % 64);
	return &s->w[g / 64].seen;
}

/* Clears the visited bits a walk before left (a new directory has
 * none, and a small walk clears its own: see mv_walk_deinit). */
static void dir_seen_clear(struct mv_chunk_dir *d)
{
	if (!d->seen_used)
		return;
	for (size_t k = 0; k < d->nsegs; k++)
		for (size_t i = 0; i < d->segs[k].nwords; i++)
			d->segs[k].w[i].seen = 0;
	d->seen_used = false;
}

static inline bool dir_find(void *dir, uint64_t address,
			    struct mv_chunk *ret, size_t *index)
{
	struct mv_chunk_dir *d = dir;
	size_t i = SIZE_MAX;
	for (size_t k = 0; k < d->nsegs; k++) {
		const struct dir_seg *s = &d->segs[k];
		if (address < s->base || address >= s->end)
			continue;
		size_t word;
		unsigned bit;
		i = dir_seg_find(s, address, &word, &bit);
		if (i == SIZE_MAX)
			break;
		/* A chunk's first 8 bytes may be the user data of the one
		 * before it: the index's own rule decides. */
		uint64_t start = s->base + (((uint64_t)word * 64 + bit) << 4);
		if (address - start < 8) {
			i = SIZE_MAX;
			break;
		}
		uint64_t size;
		if ((s->w[word].plain >> bit & 1) &&
		    (size = plain_size(s, word, bit))) {
			if (address - start >= size)
				return false;
			ret->start = start;
			ret->mem = start + 16;
			ret->size = size;
			ret->usable = size - 8; /* mv_heap_usable: in use */
			ret->flags = MV_CHUNK_IN_USE;
			ret->arena = s->arena;
			*index = i;
			return true;
		}
		if (i >= d->n || address - start >= mv_heap_size_at(d->h, i))
			return false;
		break;
	}
	if (i == SIZE_MAX) {
		i = mv_heap_chunk_index(d->h, address);
		if (i == SIZE_MAX)
			return false;
	}
	*index = i;
	return mv_heap_chunk(d->h, i, ret);
}

bool mv_chunk_dir_find(void *dir, uint64_t address, struct mv_chunk *ret,
		       size_t *index)
{
	return dir_find(dir, address, ret, index);
}

bool mv_chunk_dir_plain(void *dir, uint64_t address, uint64_t *size,
			size_t *index)
{
	struct dir_word *word;
	uint64_t mask;
	if ((address & 15) || !dir_plain_mem(dir, address, size, &word, &mask))
		return false;
	*index = word->rank + popcount64(word->starts & (mask - 1));
	return true;
}

/* ------------------------------------------------------------------ */
/* The visited set                                                     */
/* ------------------------------------------------------------------ */

static inline uint64_t key_of(struct mv_walk *w, size_t i)
{
	if (!(w->objs[i].plan & INTERIOR_BIT))
		return w->objs[i].addr;
	size_t lo = 0, hi = w->ninterior;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->interior[mid].index < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->ninterior ? w->interior[lo].key : w->objs[i].addr;
}

/* The visited bit of a heap chunk (its start and index): in the chunk
 * directory's word when it covers the chunk (the word a lookup has just
 * read), else in chunk_seen; NULL when heap objects go in the table. */
static inline uint64_t *seen_bit(struct mv_walk *w, uint64_t start,
				 size_t index, uint64_t *mask)
{
	uint64_t *p;
	if (w->plain_dir && (p = dir_seen(w->plain_dir, start, mask)))
		return p;
	if (!w->chunk_seen || index >= w->opt.nchunks)
		return NULL;
	*mask = 1ull << (index % 64);
	return &w->chunk_seen[index / 64];
}

/* Whether record i is marked in the chunk bitmap rather than the
 * table (a rebuild asks; rare, so the lookup may be slow). */
static bool in_bitmap(struct mv_walk *w, size_t i)
{
	struct mv_chunk ch;
	size_t idx;
	uint64_t *bit, mask;
	return w->chunk_seen && w->opt.find_chunk &&
	       w->opt.find_chunk(w->opt.chunk_arg, w->objs[i].addr, &ch,
				 &idx) &&
	       (ch.flags & MV_CHUNK_IN_USE) &&
	       !(ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_TOP |
			     MV_CHUNK_METADATA | MV_CHUNK_CORRUPT)) &&
	       (bit = seen_bit(w, ch.start, idx, &mask)) && (*bit & mask);
}

static inline uint64_t hash_of(uint64_t key)
{
	uint64_t h = (key >> 3) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static inline size_t slot_of(uint64_t h, size_t cap)
{
	/* Any capacity, not only powers of two: multiply-shift. */
	return (size_t)(((unsigned __int128)h * cap) >> 64);
}

static inline uint32_t entry_of(struct mv_walk *w, uint64_t h,
				uint32_t index)
{
	if (w->idx_bits >= 32)
		return index + 1;
	/* The fingerprint takes the hash bits the slot did not use. */
	return (uint32_t)((h & 0xffffffffu) >> w->idx_bits << w->idx_bits) |
	       (index + 1);
}

static bool visited(struct mv_walk *w, uint64_t key, uint32_t *ret)
{
	if (!w->table_cap)
		return false;
	uint64_t h = hash_of(key);
	size_t i = slot_of(h, w->table_cap);
	uint32_t mask = w->idx_bits >= 32 ? 0xffffffffu
					  : (1u << w->idx_bits) - 1;
	uint32_t fp = entry_of(w, h, 0) & ~mask;
	for (;;) {
		uint32_t v = w->table[i];
		if (!v)
			return false;
		if ((v & ~mask) == fp && key_of(w, (v & mask) - 1) == key) {
			*ret = (v & mask) - 1;
			return true;
		}
		if (++i == w->table_cap)
			i = 0;
	}
}

static void table_put(struct mv_walk *w, uint64_t key, uint32_t index)
{
	uint64_t h = hash_of(key);
	size_t i = slot_of(h, w->table_cap);
	while (w->table[i])
		if (++i == w->table_cap)
			i = 0;
	w->table[i] = entry_of(w, h, index);
}

/* Keeps the table at most 3/4 full; grows by half, rebuilding from the
 * records after freeing the old table. */
static struct mv_error *table_reserve(struct mv_walk *w, size_t n)
{
	if (n * 4 <= w->table_cap * 3)
		return NULL;
	size_t cap = w->table_cap ? w->table_cap + w->table_cap / 2 : 1024;
	if (!w->table_cap && w->opt.expect_objects) {
		uint64_t e = w->opt.expect_objects < w->opt.max_objects
				     ? w->opt.expect_objects
				     : w->opt.max_objects;
		cap = (size_t)(e + e / 3 + 1024);
	}
	while (n * 4 > cap * 3)
		cap += cap / 2;
	mv_big_free(w->table);
	w->table = mv_big_calloc(cap, sizeof(*w->table));
	if (!w->table) {
		w->table_cap = 0;
		return mv_enomem;
	}
	w->table_cap = cap;
	for (size_t i = 0; i < w->nobjs; i++)
		if (!in_bitmap(w, i))
			table_put(w, key_of(w, i), (uint32_t)i);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Setting up                                                          */
/* ------------------------------------------------------------------ */

/* An object's in-edge as the walk met it: the rule naming it, whether
 * that name hides the block (empty), the rule naming the elements of
 * what it points to, over the record at erec. */
struct mv_walk_in {
	uint64_t erec;
	uint16_t rule, erule;  /* index in the name rules + 1; 0: none */
	bool set, hidden;
};

/* A name rule as mv_walk_in keeps it, and back. */
static uint16_t rule_index(const struct mv_walk *w,
			   const struct mv_rule_name *n)
{
	return n ? (uint16_t)(n - w->opt.rules->names + 1) : 0;
}

static const struct mv_rule_name *rule_at(const struct mv_walk *w,
					  uint16_t k)
{
	return k ? &w->opt.rules->names[k - 1] : NULL;
}

static bool wants_in_edges(const struct mv_walk *w);

struct mv_error *mv_walk_init(struct mv_walk *w, struct mv_program *p,
			      const struct mv_walk_options *opt)
{
	memset(w, 0, sizeof(*w));
	w->program = p;
	w->target = mv_program_target(p);
	if (opt)
		w->opt = *opt;
	if (!w->opt.max_objects)
		w->opt.max_objects = mv_limits_max_objects();
	/* Records are indexed by 32 bits, with the top one spare. */
	if (w->opt.max_objects > 0x7ffffffeu)
		w->opt.max_objects = 0x7ffffffeu;
	/* Enough bits for index + 1; the rest are the fingerprint. */
	w->idx_bits = 1;
	while (w->idx_bits < 32 &&
	       (1ull << w->idx_bits) <= w->opt.max_objects + 1)
		w->idx_bits++;
	mv_buf_init(&w->labels);
	mv_buf_init(&w->cxx_unknown);
	if (wants_in_edges(w)) {
		w->in_edges = mv_big_realloc(NULL, 1024, sizeof(*w->in_edges));
		if (!w->in_edges)
			return mv_enomem;
		memset(w->in_edges, 0, 1024 * sizeof(*w->in_edges));
		w->in_cap = 1024;
	}
	struct mv_error *err = builtin_plan(w, MV_WALK_STRING,
					    "char[] (string)");
	if (!err)
		err = builtin_plan(w, MV_WALK_UNTYPED, "void (untyped chunk)");
	if (!err)
		err = builtin_plan(w, MV_WALK_BYTES, "unsigned char[] (bytes)");
	if (err) {
		mv_walk_deinit(w);
		return err;
	}
	if (w->opt.nchunks) {
		/* Reserve the records up front: pages never touched cost
		 * nothing, while growing by copies would leave the old
		 * arrays' pages behind in malloc's heap. */
		uint64_t cap = w->opt.nchunks + 4096;
		if (cap > w->opt.max_objects + 1)
			cap = w->opt.max_objects + 1;
		w->objs = mv_big_realloc(NULL, (size_t)cap, sizeof(*w->objs));
		if (!w->objs) {
			mv_walk_deinit(w);
			return mv_enomem;
		}
		w->objs_cap = (size_t)cap;
	}
	if (w->opt.find_chunk && w->opt.nchunks && !w->opt.keep_edges) {
		w->chunk_seen = mv_big_calloc((w->opt.nchunks + 63) / 64,
					      sizeof(uint64_t));
		if (!w->chunk_seen) {
			mv_walk_deinit(w);
			return mv_enomem;
		}
		if (w->opt.find_chunk == mv_chunk_dir_find) {
			w->plain_dir = w->opt.chunk_arg;
			dir_seen_clear(w->plain_dir);
			w->plain_dir->seen_used = true; /* this walk's, now */
		}
	}
	/* Thread stacks: the regions holding each thread's stack pointer. */
	if (w->target) {
		const struct mv_thread *th;
		size_t n = mv_target_threads(w->target, &th);
		w->stack_lo = calloc(n + 1, sizeof(uint64_t));
		w->stack_hi = calloc(n + 1, sizeof(uint64_t));
		if (!w->stack_lo || !w->stack_hi) {
			mv_walk_deinit(w);
			return mv_enomem;
		}
		for (size_t i = 0; i < n; i++) {
			if (!th[i].has_regs)
				continue;
			const struct mv_region *r = mv_target_find_region(
				w->target, th[i].regs[MV_REG_RSP]);
			if (r) {
				w->stack_lo[w->nstacks] = r->start;
				w->stack_hi[w->nstacks++] = r->end;
			}
		}
	}
	return NULL;
}

void mv_walk_deinit(struct mv_walk *w)
{
	/* A walk much smaller than the directory clears the bits it set,
	 * so that walks from many roots (gc's globals) do not each clear
	 * the whole directory; a big one leaves that to the next walk. */
	struct mv_chunk_dir *d = w->plain_dir;
	if (d && d->seen_used && w->nobjs < d->nwords / 8) {
		for (size_t i = 0; i < w->nobjs; i++) {
			uint64_t key = key_of(w, i), mask, *bit;
			if (key >= 16 && (bit = dir_seen(d, key - 16, &mask)))
				*bit &= ~mask;
		}
		d->seen_used = false;
	}
	for (size_t i = 0; i < w->nplans; i++)
		plan_free(w->plans[i]);
	free(w->plans);
	free(w->stats);
	mv_big_free(w->objs);
	mv_big_free(w->table);
	mv_big_free(w->chunk_seen);
	mv_big_free(w->interior);
	mv_big_free(w->edges);
	mv_big_free(w->in_edges);
	free(w->class_keys);
	free(w->stack_lo);
	free(w->stack_hi);
	mv_buf_deinit(&w->labels);
	mv_buf_deinit(&w->cxx_unknown);
	memset(w, 0, sizeof(*w));
}

/* ------------------------------------------------------------------ */
/* Scanning                                                            */
/* ------------------------------------------------------------------ */

struct path_ent {
	const struct slot *slot; /* NULL: a word of an untyped chunk */
	uint64_t index;          /* element of an array slot, or offset */
};

#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 32
#endif

struct scan {
	struct mv_walk *w;
	uint32_t from;
	uint64_t depth;          /* of the object being scanned */
	bool cut;                /* at --max-depth: count, do not add */
	/* Label mode: find the edge to want_key instead of walking. */
	bool find;
	uint64_t want_key;
	bool found;
	struct mv_buf *label;
	/* The address of the word being followed, and of the one found. */
	uint64_t holder, found_holder;
	/* The pointer being followed is a std::vector's start: its length
	 * is the vector's, not a --len hint's. */
	bool container;
	bool heap_only;      /* the pointer is a node link */
	bool tree_link;      /* a tree's child: met twice is a loop */
	bool container_link; /* into a free chunk: a container problem */
	/* Where in the object the pointer being handled sits. */
	bool multi;
	uint64_t elem;
	const struct mv_rule_name *arule; /* names the array rule's elements */
	bool named;          /* the label found was a name rule's */
	/* The label found: the rule that named it, how many labels above
	 * it stands for (see mv_walk_label_info); the rule naming the
	 * elements of what it points to, over the record at erec. */
	const struct mv_rule_name *used, *used_erule;
	uint64_t used_erec;
	size_t up;
	bool above_root;
	struct path_ent path[PATH_MAX_NEST];
	int npath;
	/* Bytes of the object being scanned (a copy: following a pointer
	 * reads the target, which may recycle a peeked buffer). */
	uint8_t *buf;
	size_t buf_cap;
	/* A window of a stable mapping (see load). */
	const uint8_t *win;
	uint64_t win_start, win_len;
	/* prefetch_links' windows: PF_WINDOW bytes of a stable mapping at
	 * pf_start, by the window's number modulo PF_WINDOWS (pf NULL:
	 * none yet, or not lent). */
	const uint8_t *pf[64];
	uint64_t pf_start[64];
	struct mv_error *err;
};

#define RULE_READ_MAX_NAME 512 /* of a record a show rule reads */
static size_t rule_read(void *arg, uint64_t address, void *buf, size_t n);
static size_t rule_read_cached(void *arg, uint64_t address, void *buf,
			       size_t n);
static void apply_rules(struct scan *sc, uint64_t *value, uint32_t *plan);
static bool show_object(void *arg, struct mv_type *declared,
			uint64_t address, bool bare, struct mv_buf *out);

/* A name rule's text for the record at address, element index. */
static bool rule_name(struct mv_walk *w, const struct mv_name_template *t,
		      uint64_t address, uint64_t index, bool bare,
		      bool shows, struct mv_buf *out)
{
	uint8_t buf[512];
	size_t got = t->end <= sizeof(buf)
			     ? mv_target_read_partial(w->target, address, buf,
						      (size_t)t->end) : 0;
	struct mv_name_env env = {.read = rule_read, .read_arg = w->target,
				  .show = shows ? show_object : NULL,
				  .show_arg = w};
	return mv_name_render(t, buf, got, address, index, &env, bare, out);
}

static bool show_ruled(struct mv_walk *w, struct mv_type *declared,
		       uint64_t address, bool bare, struct mv_buf *out,
		       bool *ruled);
static int show_rule(struct mv_walk *w, const char *tn, uint64_t address,
		     bool bare, bool class_name, struct mv_buf *out);

bool mv_walk_name(struct mv_walk *w, const struct mv_name_template *t,
		  uint64_t address, uint64_t index, struct mv_buf *out)
{
	return rule_name(w, t, address, index, false, true, out);
}

/* {show}: the object at address, declared declared, by the show rules
 * of its real type (the dispatch rules applied), else of its declared
 * type, else "<TYPE at 0x...>". */
static bool show_object(void *arg, struct mv_type *declared,
			uint64_t address, bool bare, struct mv_buf *out)
{
	bool ruled;
	return show_ruled(arg, declared, address, bare, out, &ruled);
}

bool mv_walk_show(struct mv_walk *w, struct mv_type *declared,
		  uint64_t address, struct mv_buf *out, bool *ruled)
{
	return show_ruled(w, declared, address, false, out, ruled);
}

/* show_object, and whether the real type's show rule made the text (a
 * show rule may show one more object: {show} nests once). */
static bool show_ruled(struct mv_walk *w, struct mv_type *declared,
		       uint64_t address, bool bare, struct mv_buf *out,
		       bool *ruled)
{
	*ruled = false;
	const struct mv_rules *r = w->opt.rules;
	uint32_t plan;
	struct mv_error *err = plan_for_type(w, mv_type_strip(declared),
					     &plan);
	if (err || !r) {
		mv_error_destroy(err);
		return false;
	}
	struct scan tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.w = w;
	tmp.find = true; /* counts nothing */
	apply_rules(&tmp, &address, &plan);
	if (tmp.err) {
		mv_error_destroy(tmp.err);
		return false;
	}
	struct mv_type *types[2] = {w->plans[plan]->type,
				    mv_type_strip(declared)};
	for (int k = 0; k < 2; k++) {
		char tn[MV_EVAL_TYPE_NAME_MAX];
		mv_rules_type_key(types[k], tn, sizeof(tn));
		int got = show_rule(w, tn, address, bare, false, out);
		if (got < 0)
			continue;
		/* The declared type's rule is the fallback. */
		*ruled = k == 0 && types[0] != types[1];
		return got > 0;
	}
	mv_buf_printf(out, "<%s at 0x%llx>", w->plans[plan]->name,
		      (unsigned long long)address);
	return true;
}

/* The first show (or typename) rule of the type keyed tn whose
 * condition holds over the object at address, rendered to out: 1; 0
 * when its text has no value (out as it was); -1 when there is none. */
static int show_rule(struct mv_walk *w, const char *tn, uint64_t address,
		     bool bare, bool class_name, struct mv_buf *out)
{
	const struct mv_rules *r = w->opt.rules;
	for (size_t i = 0; r && i < r->nshows; i++) {
		const struct mv_rule_show *sr = &r->shows[i];
		uint8_t buf[RULE_READ_MAX_NAME];
		uint64_t v = 1;
		if (sr->class_name != class_name || strcmp(sr->type, tn))
			continue;
		if (sr->has_cond &&
		    (sr->cond.end > sizeof(buf) ||
		     !mv_len_expr_eval_read(
			     &sr->cond, buf,
			     mv_target_read_partial(w->target, address, buf,
						    sr->cond.end),
			     rule_read_cached, w, &v) || !v))
			continue;
		w->show_depth++;
		bool ok = rule_name(w, &sr->t, address, 0, bare,
				    w->show_depth < 2, out);
		w->show_depth--;
		return ok;
	}
	return -1;
}

/* The types whose typename rules may name an object of type t (its
 * own, then the type a dispatch rule made it from: the PyObject * it
 * was reached through, at most 8 rules back), as those rules spell
 * them; kept per plan. */
struct mv_walk_class {
	bool done;
	uint8_t n;
	const char *key[8];
};

static const char *class_rule_key(const struct mv_rules *r, const char *key)
{
	for (size_t k = 0; k < r->nshows; k++)
		if (r->shows[k].class_name && !strcmp(r->shows[k].type, key))
			return r->shows[k].type;
	return NULL;
}

static const struct mv_walk_class *class_keys(struct mv_walk *w,
					      uint32_t plan, struct mv_type *t)
{
	const struct mv_rules *r = w->opt.rules;
	if (plan >= w->class_cap) {
		size_t cap = w->nplans > plan ? w->nplans : plan + 1;
		struct mv_walk_class *n = realloc(w->class_keys,
						  cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + w->class_cap, 0, (cap - w->class_cap) * sizeof(*n));
		w->class_keys = n;
		w->class_cap = cap;
	}
	struct mv_walk_class *c = &w->class_keys[plan];
	if (c->done)
		return c;
	char tn[MV_EVAL_TYPE_NAME_MAX], rn[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(t, tn, sizeof(tn));
	const char *key = tn;
	for (int depth = 0; key && depth < 8; depth++) {
		const char *k = class_rule_key(r, key), *from = NULL;
		if (k)
			c->key[c->n++] = k;
		for (size_t d = 0; !from && d < r->ndispatch; d++) {
			mv_rules_type_key(r->dispatch[d].real, rn, sizeof(rn));
			if (!strcmp(rn, key) && strcmp(r->dispatch[d].type, key))
				from = r->dispatch[d].type;
		}
		key = from;
	}
	c->done = true;
	return c;
}

const char *mv_walk_type_shown(struct mv_walk *w, size_t i,
			       struct mv_buf *tmp)
{
	mv_buf_clear(tmp);
	if (mv_walk_class_name(w, i, tmp) && tmp->data && !tmp->oom)
		return tmp->data;
	return mv_walk_plan_name(w, w->objs[i].plan);
}

bool mv_walk_class_name(struct mv_walk *w, size_t i, struct mv_buf *out)
{
	const struct mv_rules *r = w->opt.rules;
	struct mv_type *t = i < w->nobjs
		? mv_walk_plan_type(w, w->objs[i].plan) : NULL;
	if (!t || !r || !r->nshows)
		return false;
	uint32_t plan = mv_walk_obj_plan(w, i);
	const struct mv_walk_class *c = class_keys(w, plan, t);
	int got = -1;
	for (unsigned k = 0; c && got < 0 && k < c->n; k++)
		got = show_rule(w, c->key[k], w->objs[i].addr, false, true,
				out);
	return got > 0;
}

/* The record path entry j lies in: the holder less the offsets of the
 * entries from j on. */
static uint64_t path_record(const struct scan *sc, int j)
{
	uint64_t a = sc->holder;
	for (int i = j; i < sc->npath; i++) {
		const struct slot *s = sc->path[i].slot;
		if (!s)
			return 0;
		a -= s->offset + (s->kind == SLOT_PTR ? 0
				  : sc->path[i].index * s->stride);
	}
	return a;
}

static void scan_object(struct scan *sc, uint32_t index);

#define IN_EDGE_MAX_UP 4  /* blocks named empty looked through */

/* Object i's in-edge: the rule naming it (up objects above i, looking
 * through blocks named empty; past the root, opt.root_in), and the
 * rule naming the elements of i's own block, over the record erec. */
struct in_edge {
	const struct mv_rule_name *rule, *erule;
	uint64_t erec;
	size_t up;
	bool root;
};

/* Object i's in-edge (i not the root): as the walk kept it, else found
 * by scanning its parent again; false when it is not found. */
static bool edge_into(struct mv_walk *w, size_t i, struct mv_walk_in *ret)
{
	if (i < w->in_cap && w->in_edges[i].set) {
		*ret = w->in_edges[i];
		return true;
	}
	struct scan sc;
	struct mv_buf lab;
	memset(&sc, 0, sizeof(sc));
	mv_buf_init(&lab);
	sc.w = w;
	sc.find = true;
	sc.want_key = key_of(w, i);
	sc.label = &lab;
	w->in_lookup = true;
	scan_object(&sc, w->objs[i].parent);
	w->in_lookup = false;
	free(sc.buf);
	mv_error_destroy(sc.err);
	*ret = (struct mv_walk_in){.rule = rule_index(w, sc.used),
				   .erule = rule_index(w, sc.used_erule),
				   .erec = sc.used_erec, .set = sc.found,
				   .hidden = sc.found && !lab.len && sc.named};
	mv_buf_deinit(&lab);
	return sc.found;
}

static void in_edge(struct mv_walk *w, size_t i, struct in_edge *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t up = 0; up < IN_EDGE_MAX_UP; up++) {
		/* The root (the object an rvalue root points to, when
		 * there is such a pseudo root). */
		if (i == 0 || i >= w->nobjs ||
		    (w->pseudo_root && !w->objs[i].parent)) {
			ret->rule = w->opt.root_in;
			ret->root = true;
			ret->up = up;
			return;
		}
		struct mv_walk_in e;
		if (!edge_into(w, i, &e))
			return;
		if (!up) {
			ret->erule = rule_at(w, e.erule);
			ret->erec = e.erec;
		}
		if (!e.hidden) {
			ret->rule = rule_at(w, e.rule);
			ret->up = up;
			return;
		}
		i = w->objs[i].parent;
	}
}

size_t mv_walk_edge_of(struct mv_walk *w, size_t e)
{
	const struct mv_walk_edge *ed = &w->edges[e];
	size_t of = ed->from;
	if (ed->above_root)
		return 0;
	for (unsigned k = 0; k < ed->up && of; k++)
		of = w->objs[of].parent;
	/* Blocks the language does not show (named empty: a dict's keys,
	 * a list's items) are looked through. */
	for (int k = 0; k < IN_EDGE_MAX_UP && of && of < w->in_cap &&
			w->in_edges[of].set && w->in_edges[of].hidden; k++)
		of = w->objs[of].parent;
	return of;
}

static bool same_target(const struct mv_rule_name *a,
			const struct mv_rule_name *b)
{
	return !strcmp(a->type, b->type) && a->array == b->array &&
	       a->elements == b->elements &&
	       (a->array >= 0 || a->offset == b->offset);
}

static bool has_element_rules(const struct mv_rules *r)
{
	for (size_t i = 0; r && i < r->nnames; i++)
		if (r->names[i].elements)
			return true;
	return false;
}

/* The rule that names an edge n names, in the object `obj` it lies in
 * (label mode only): a rule "in" the edge obj was reached through,
 * else n.  sc->up says how many labels above it the name stands for:
 * extra, and those up to and with that edge's. */
static const struct mv_rule_name *in_context(struct scan *sc,
					     const struct mv_rule_name *n,
					     size_t obj, size_t extra)
{
	struct mv_walk *w = sc->w;
	const struct mv_rules *r = w->opt.rules;
	bool any = false;
	sc->up = 0;
	sc->above_root = false;
	for (size_t i = 0; r && i < r->nnames && !any; i++)
		any = r->names[i].in >= 0 && same_target(&r->names[i], n);
	if (!any || w->in_lookup || (!sc->find && !w->in_edges))
		return n;
	struct in_edge e;
	in_edge(w, obj, &e);
	if (!e.rule)
		return n;
	int64_t ei = e.rule - r->names;
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].in == ei && same_target(&r->names[i], n)) {
			sc->up = extra + e.up + 1;
			sc->above_root = e.root;
			return &r->names[i];
		}
	return n;
}

/* The edge as a name rule names it: the last path entry's member rule
 * (its text stands for the entries before it: the element, the
 * array), or the array rule's for its elements.  The first path entry
 * left to render after it, or -1 when no rule named it. */
static int render_rule(struct scan *sc, struct mv_buf *out)
{
	int j = sc->npath - 1;
	while (j >= 0 && !(sc->path[j].slot && sc->path[j].slot->nrule))
		j--;
	if (j >= 0 && sc->holder) {
		const struct slot *s = sc->path[j].slot;
		uint64_t index = s->kind != SLOT_PTR ? sc->path[j].index
				 : j ? sc->path[j - 1].index : sc->elem;
		const struct mv_rule_name *n = in_context(sc, s->nrule,
							  sc->from, 0);
		if (rule_name(sc->w, &n->t, path_record(sc, j), index,
			      false, true, out)) {
			sc->used = n;
			return j + 1;
		}
	}
	const struct mv_rule_name *a = sc->arule && sc->multi
		? in_context(sc, sc->arule, sc->from, 0) : NULL;
	if (a && rule_name(sc->w, &a->t, sc->w->objs[sc->from].addr,
			   sc->elem, false, true, out)) {
		sc->used = a;
		return 0;
	}
	sc->up = 0;
	sc->above_root = false;
	return -1;
}

/* An element of a block of pointers whose in-edge's member has a name
 * rule for its elements (TYPE.FIELD[]): named over that member's record,
 * standing for the block's edge. */
static bool render_element(struct scan *sc, struct mv_buf *out)
{
	struct mv_walk *w = sc->w;
	struct in_edge e;
	if (w->in_lookup || (!sc->find && !w->in_edges) ||
	    !has_element_rules(w->opt.rules))
		return false;
	in_edge(w, sc->from, &e);
	if (!e.erule)
		return false;
	const struct mv_rule_name *n = in_context(
		sc, e.erule, sc->from ? w->objs[sc->from].parent : 0, 1);
	if (!sc->up)
		sc->up = 1;
	if (rule_name(w, &n->t, e.erec, sc->elem, false, true, out)) {
		sc->used = n;
		return true;
	}
	sc->up = 0;
	sc->above_root = false;
	return false;
}

static void render_label(struct scan *sc, struct mv_buf *out)
{
	int from = sc->w->opt.rules && sc->w->opt.rules->nnames
			   ? render_rule(sc, out) : -1;
	bool ruled = from >= 0;
	sc->named = ruled;
	/* An element of an array of pointers: "[3]" is how a language
	 * with names says it too. */
	/* An element of a block whose member has a rule for them. */
	if (!ruled && sc->w->opt.rules && sc->w->opt.rules->nnames &&
	    (sc->multi || (sc->npath == 1 && sc->path[0].slot &&
			   !sc->path[0].slot->name[0])) &&
	    render_element(sc, out)) {
		sc->named = true;
		return;
	}
	if (!ruled && sc->w->opt.rules && sc->w->opt.rules->nnames &&
	    sc->npath == 1 && sc->path[0].slot &&
	    !sc->path[0].slot->name[0]) {
		/* One element read as the object itself: still [0]. */
		const struct mv_walk_plan *op =
			sc->w->plans[sc->w->objs[sc->from].plan & ~INTERIOR_BIT];
		if (!sc->multi && op->type && op->type->kind == MV_TYPE_POINTER)
			mv_buf_puts(out, "[0]");
		sc->named = sc->multi || (op->type &&
					  op->type->kind == MV_TYPE_POINTER);
	}
	if (sc->multi && !ruled)
		mv_buf_printf(out, "[%llu]", (unsigned long long)sc->elem);
	for (int i = ruled ? from : 0; i < sc->npath; i++) {
		const struct slot *s = sc->path[i].slot;
		if (!s) {
			mv_buf_printf(out, "[+0x%llx]",
				      (unsigned long long)sc->path[i].index);
			continue;
		}
		mv_buf_puts(out, s->name);
		if (s->kind != SLOT_PTR)
			mv_buf_printf(out, "[%llu]",
				      (unsigned long long)sc->path[i].index);
	}
}

/* A pointer of type T * into a chunk bigger than a T, taken as one T
 * (no --len): counts it, the chunk's bytes outside that T (what the
 * walk did not look into: the rest of an array, or the object around
 * an intrusive link) and, the first time, where the pointer lies
 * ("struct table.buckets"), for the note that asks for --len or a
 * container_of rule. */
static void guessed_single(struct scan *sc, const struct mv_walk_plan *pl,
			   uint64_t usable)
{
	struct mv_walk *w = sc->w;
	w->guessed_single++;
	w->guessed_single_bytes += usable - pl->size;
	if (w->guessed_single_at[0])
		return;
	struct mv_buf b;
	mv_buf_init(&b);
	mv_buf_puts(&b, mv_walk_plan_name(w, w->objs[sc->from].plan));
	render_label(sc, &b);
	if (!b.oom)
		snprintf(w->guessed_single_at, sizeof(w->guessed_single_at),
			 "%s", b.data);
	mv_buf_deinit(&b);
}

static enum mv_walk_where classify(struct mv_walk *w, uint64_t addr,
				   bool heap)
{
	if (heap)
		return MV_WHERE_HEAP;
	if (mv_program_objfile_at(w->program, addr)) {
		const struct mv_region *r =
			mv_target_find_region(w->target, addr);
		return r && (r->perms & MV_PERM_W) ? MV_WHERE_GLOBAL
						   : MV_WHERE_RODATA;
	}
	for (size_t i = 0; i < w->nstacks; i++)
		if (addr >= w->stack_lo[i] && addr < w->stack_hi[i])
			return MV_WHERE_STACK;
	size_t lo = 0, hi = w->opt.nunindexed;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mv_heap_gap *g = &w->opt.unindexed[mid];
		if (addr < g->start)
			hi = mid;
		else if (addr >= g->end)
			lo = mid + 1;
		else
			return MV_WHERE_UNINDEXED;
	}
	return MV_WHERE_OTHER;
}

/* The bytes a record stands for: its chunk on the heap, else its type
 * bytes; saturated to the record's 32-bit field. */
static uint32_t object_bytes(const struct mv_chunk *ch, uint64_t type_bytes)
{
	uint64_t bytes = ch ? ch->size : type_bytes;
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

/* Counts a newly visited object in the totals: by type plan, by where
 * it lives, and (ch non-NULL) in the allocator's view. */
static inline void account_object(struct mv_walk *w, uint32_t plan,
				  uint64_t address, const struct mv_chunk *ch,
				  uint64_t type_bytes)
{
	struct mv_walk_stat *s = &w->stats[plan];
	s->objects++;
	s->type_bytes += type_bytes;
	w->type_bytes += type_bytes;
	enum mv_walk_where where = classify(w, address, ch != NULL);
	w->where_objects[where]++;
	w->where_bytes[where] += type_bytes;
	if (ch) {
		s->alloc_bytes += ch->size;
		w->heap_objects++;
		w->heap_type_bytes += type_bytes;
		w->chunk_bytes += ch->size;
		w->usable_bytes += ch->usable;
	}
}


/* Adds follow_plain's objects to the totals, as account_object() would
 * have: heap objects of a plan's size, each in a chunk whose usable
 * size is its size less the 8-byte header. */
static void fold_plain(struct mv_walk *w)
{
	for (size_t i = 0; i < w->nplans; i++) {
		struct mv_walk_stat *s = &w->stats[i];
		uint64_t n = s->plain_objects, chunks = s->plain_chunk_bytes;
		if (!n)
			continue;
		uint64_t tb = n * w->plans[i]->size;
		s->objects += n;
		s->type_bytes += tb;
		s->alloc_bytes += chunks;
		w->type_bytes += tb;
		w->where_objects[MV_WHERE_HEAP] += n;
		w->where_bytes[MV_WHERE_HEAP] += tb;
		w->heap_objects += n;
		w->heap_type_bytes += tb;
		w->chunk_bytes += chunks;
		w->usable_bytes += chunks - 8 * n;
		s->plain_objects = s->plain_chunk_bytes = 0;
	}
}

/* Length of the string at addr, NUL included, bounded by limit;
 * *terminated says whether the NUL was found. */
static uint64_t string_length(struct mv_walk *w, uint64_t addr,
			      uint64_t limit, bool *terminated)
{
	uint64_t n = 0;
	*terminated = false;
	while (n < limit) {
		uint64_t a = addr + n;
		size_t span = 4096 - (size_t)(a & 4095);
		if (span > limit - n)
			span = (size_t)(limit - n);
		const uint8_t *p = mv_target_peek(w->target, a, span);
		uint8_t tmp[4096];
		if (!p) {
			size_t got = mv_target_read_partial(w->target, a, tmp,
							    span);
			if (!got)
				return n;
			span = got;
			p = tmp;
		}
		const uint8_t *z = memchr(p, 0, span);
		if (z) {
			*terminated = true;
			return n + (uint64_t)(z - p) + 1;
		}
		n += span;
	}
	return n;
}

static bool readable(struct mv_walk *w, uint64_t addr)
{
	uint8_t b;
	return mv_target_read_partial(w->target, addr, &b, 1) == 1;
}

/* Whether the walk keeps its objects' in-edges: its labels are kept
 * and some name rule depends on the edge an object was reached through
 * (in, TYPE.FIELD[]), or names a block empty (an edge leaving it is
 * said of the object above it: mv_walk_edge_of). */
static bool wants_in_edges(const struct mv_walk *w)
{
	const struct mv_rules *r = w->opt.rules;
	if (!w->opt.keep_edges || w->opt.unlabelled || !r)
		return false;
	for (size_t i = 0; i < r->nnames; i++)
		if (r->names[i].in >= 0 || r->names[i].elements ||
		    !r->names[i].t.nparts)
			return true;
	return false;
}

/* The in-edge of the object `to` the scan has just met, as in_edge
 * would find it again: its label rendered without the rules that
 * depend on in-edges (in_lookup). */
static struct mv_error *keep_in_edge(struct scan *sc, uint32_t to)
{
	struct mv_walk *w = sc->w;
	if (to >= w->in_cap) {
		size_t cap = w->in_cap ? w->in_cap * 2 : 1024;
		while (cap <= to)
			cap *= 2;
		struct mv_walk_in *n = mv_big_realloc(w->in_edges, cap,
						      sizeof(*n));
		if (!n)
			return mv_enomem;
		memset(n + w->in_cap, 0, (cap - w->in_cap) * sizeof(*n));
		w->in_edges = n;
		w->in_cap = cap;
	}
	struct mv_buf lab;
	mv_buf_init(&lab);
	sc->used = NULL;
	w->in_lookup = true;
	render_label(sc, &lab);
	w->in_lookup = false;
	const struct slot *ls = sc->npath ? sc->path[sc->npath - 1].slot
					  : NULL;
	w->in_edges[to] = (struct mv_walk_in){
		.rule = rule_index(w, sc->used),
		.erule = rule_index(w, ls ? ls->erule : NULL),
		.erec = ls && ls->erule ? path_record(sc, sc->npath - 1) : 0,
		.set = true, .hidden = !lab.len && sc->named};
	bool oom = lab.oom;
	mv_buf_deinit(&lab);
	return oom ? mv_enomem : NULL;
}

static struct mv_error *add_edge(struct scan *sc, uint32_t to, bool guess)
{
	struct mv_walk *w = sc->w;
	if (w->nedges == w->edges_cap) {
		size_t cap = w->edges_cap ? w->edges_cap * 2 : 256;
		struct mv_walk_edge *e = mv_big_realloc(w->edges, cap,
							sizeof(*e));
		if (!e)
			return mv_enomem;
		w->edges = e;
		w->edges_cap = cap;
	}
	size_t at = w->labels.len;
	struct mv_error *err;
	if (w->in_edges && to + 1 == w->nobjs &&
	    w->objs[to].parent == sc->from && (err = keep_in_edge(sc, to)))
		return err;
	sc->up = 0;
	sc->above_root = false;
	if (!w->opt.unlabelled) {
		render_label(sc, &w->labels);
		mv_buf_append(&w->labels, "", 1);
		if (w->labels.oom)
			return mv_enomem;
	}
	w->edges[w->nedges++] = (struct mv_walk_edge){
		.from = sc->from, .to = to, .label = (uint32_t)at,
		.guess = guess, .up = sc->up > 255 ? 255 : (uint8_t)sc->up,
		.above_root = sc->above_root};
	return NULL;
}

static struct mv_error *append_obj(struct mv_walk *w,
				   const struct mv_walk_obj *o, uint64_t key,
				   bool in_table)
{
	struct mv_error *err;
	if (w->nobjs == w->objs_cap) {
		size_t cap = w->objs_cap ? w->objs_cap * 2 : 1024;
		struct mv_walk_obj *n = mv_big_realloc(w->objs, cap,
						       sizeof(*n));
		if (!n)
			return mv_enomem;
		w->objs = n;
		w->objs_cap = cap;
	}
	if (key != o->addr) {
		if (w->ninterior == w->interior_cap) {
			size_t cap = w->interior_cap ? w->interior_cap * 2 : 64;
			void *n = mv_big_realloc(w->interior, cap,
						 sizeof(w->interior[0]));
			if (!n)
				return mv_enomem;
			w->interior = n;
			w->interior_cap = cap;
		}
		w->interior[w->ninterior].index = (uint32_t)w->nobjs;
		w->interior[w->ninterior++].key = key;
	}
	w->objs[w->nobjs] = *o;
	if (key != o->addr)
		w->objs[w->nobjs].plan |= INTERIOR_BIT;
	if (in_table) {
		if ((err = table_reserve(w, w->ntable + 1)))
			return err;
		table_put(w, key, (uint32_t)w->nobjs);
		w->ntable++;
	}
	w->nobjs++;
	return NULL;
}

static bool eval_at(struct mv_walk *w, const struct mv_len_expr *e,
		    uint64_t addr, uint64_t base, uint64_t *ret);

#define HEADER_MAX 4096 /* bytes a header rule may put before an object */

/* The bytes in front of the object at addr its header rule counts. */
static uint64_t obj_header(struct mv_walk *w, const struct mv_walk_plan *pl,
			   uint64_t addr)
{
	uint64_t v;
	if (!pl->header_expr)
		return pl->header_bytes;
	if (!eval_at(w, pl->header_expr, addr, 0, &v) || v > HEADER_MAX ||
	    v > addr)
		return 0;
	return v;
}

static uint64_t obj_type_bytes(struct mv_walk *w, const struct mv_walk_obj *o)
{
	const struct mv_walk_plan *pl = w->plans[o->plan & ~INTERIOR_BIT];
	uint64_t header = obj_header(w, pl, o->addr);
	if (pl->size_expr)
		return o->count + header; /* count: its bytes */
	if (pl->fam_len)
		return pl->fam_offset + o->count * pl->fam_stride + header;
	if (pl->has_fam) {
		uint64_t end = pl->fam_offset + o->count * pl->fam_stride;
		return end > pl->size ? end : pl->size;
	}
	return pl->size * o->count + header;
}

/* Starts the cache miss of the object at addr, if its bytes are mapped
 * (load()'s window answers without a lookup when it holds them). */
static void prefetch_object(struct scan *sc, uint64_t addr)
{
	const void *p;
	if (addr - sc->win_start < sc->win_len)
		p = sc->win + (addr - sc->win_start);
	else
		p = mv_target_peek(sc->w->target, addr, 1);
	if (p)
		__builtin_prefetch(p);
}

/* Where the bytes at address are, for a prefetch only: through an
 * aligned window of a stable mapping kept in sc, so that a prefetch
 * costs no mapping lookup (a core's segments are large). */
#define PF_WINDOW ((uint64_t)1 << 20)
#define PF_WINDOWS (sizeof(((struct scan *)0)->pf) / sizeof(const void *))
static const uint8_t *pf_bytes(struct scan *sc, uint64_t address)
{
	uint64_t base = address & ~(PF_WINDOW - 1);
	size_t k = (size_t)(address / PF_WINDOW % PF_WINDOWS);
	if (base != sc->pf_start[k]) { /* a window not lent stays NULL */
		sc->pf_start[k] = base;
		sc->pf[k] = mv_target_peek_stable(sc->w->target, base,
						  (size_t)PF_WINDOW);
	}
	return sc->pf[k] ? sc->pf[k] + (address - base) : NULL;
}

/* Starts the cache misses of the chunk headers the pointers of record j
 * lead to, for a lookup that reads them (find_reads_header): its bytes
 * were fetched PREFETCH_AHEAD records before its scan, its pointers'
 * targets are looked up at its scan, and both misses overlap others
 * instead of stalling the lookup (a shuffled tree's walk is a chain of
 * them).  Flat single objects only, in a stable mapping's window. */
static void prefetch_links(struct scan *sc, size_t j)
{
	struct mv_walk *w = sc->w;
	const struct mv_walk_obj *o = &w->objs[j];
	const struct mv_walk_plan *pl = w->plans[o->plan & ~INTERIOR_BIT];
	if (pl->kind != MV_WALK_TYPED || !pl->flat || o->count != 1 ||
	    !pl->size || (o->addr & (PF_WINDOW - 1)) + pl->size > PF_WINDOW)
		return;
	const uint8_t *bytes = pf_bytes(sc, o->addr);
	if (!bytes)
		return;
	for (size_t i = 0; i < pl->nslots; i++) {
		uint64_t v;
		if (pl->slots[i].offset + 8 > pl->size)
			continue;
		memcpy(&v, bytes + pl->slots[i].offset, 8);
		/* Both lines of a small chunk's header and the next one's. */
		if (v < 16 || ((v - 16) & (PF_WINDOW - 1)) + 128 > PF_WINDOW)
			continue;
		const uint8_t *h = pf_bytes(sc, v - 16);
		if (h) {
			__builtin_prefetch(h);
			__builtin_prefetch(h + 64);
		}
	}
}

/* The chunk holding address; the directory's lookup is called directly
 * (and inlined) when it is the one in use. */
static inline bool find_chunk(struct mv_walk *w, uint64_t address,
			      struct mv_chunk *ch, size_t *index)
{
	if (w->opt.find_chunk == mv_chunk_dir_find)
		return dir_find(w->opt.chunk_arg, address, ch, index);
	return w->opt.find_chunk &&
	       w->opt.find_chunk(w->opt.chunk_arg, address, ch, index);
}

/* The class a vtable symbol is for: "_ZTV4Poly" -> "Poly",
 * "_ZTVN2ns5inner3BarE" -> "ns::inner::Bar", "_ZTVSt9exception" ->
 * "std::exception".  Templates and substitutions are not read (false:
 * the pointer keeps its declared type). */
bool mv_walk_vtable_class(const char *sym, char *buf, size_t size)
{
	return !strncmp(sym, "_ZTV", 4) &&
	       mv_cxx_demangle_class(sym + 4, buf, size);
}

/* The cache of dynamic_plan and functor_plan: a vtable or a code
 * address to the plan it gives (NO_PLAN: none); false if not there. */
static bool dyn_cached(struct mv_walk *w, uint64_t key, uint32_t *plan)
{
	size_t slot = (size_t)((key >> 3) * 0x9e3779b97f4a7c15ull >> 56);
	*plan = w->dyn_cache[slot].plan;
	return key && w->dyn_cache[slot].vptr == key;
}

/* The plan key gives, from the cache or else from resolve (cached
 * then, unless it failed). */
static uint32_t cached_plan(struct mv_walk *w, uint64_t key,
			    uint32_t (*resolve)(struct mv_walk *, uint64_t,
						struct mv_error **),
			    struct mv_error **err)
{
	uint32_t plan;
	if (dyn_cached(w, key, &plan))
		return plan;
	plan = resolve(w, key, err);
	if (*err)
		return NO_PLAN;
	size_t slot = (size_t)((key >> 3) * 0x9e3779b97f4a7c15ull >> 56);
	w->dyn_cache[slot].vptr = key;
	w->dyn_cache[slot].plan = plan;
	return plan;
}

static void name_anonymous(struct mv_walk *w, uint32_t plan,
			   const char *name);

/* The plan of a std::function's functor block, from its manager
 * (std::_Function_handler<Sig, Functor>::_M_manager, whose class's
 * DWARF names the functor's type): NO_PLAN unless that type is bigger
 * than the 16 bytes a function keeps inside itself (a smaller one may
 * be there, and the word then no pointer to it). */
static uint32_t functor_plan(struct mv_walk *w, uint64_t mgr,
			     struct mv_error **err)
{
	uint32_t plan = NO_PLAN;
	struct mv_objfile *o = mv_program_objfile_at(w->program, mgr);
	struct mv_dwarf *d = NULL;
	struct mv_error *e = o ? mv_objfile_dwarf(o, &d) : NULL;
	mv_error_destroy(e);
	struct mv_type *t = d ? mv_type_strip(mv_dwarf_method_template_arg(
					d, mgr, "_Functor"))
			      : NULL;
	if (t && t->size > 16 && t->is_complete &&
	    (t->kind == MV_TYPE_STRUCT || t->kind == MV_TYPE_CLASS) &&
	    (*err = plan_for_type(w, t, &plan)))
		return NO_PLAN;
	/* A lambda's class has no name in DWARF. */
	if (plan != NO_PLAN)
		name_anonymous(w, plan, "<lambda> (a std::function's functor)");
	return plan;
}

/* The plan of the most-derived class of a polymorphic object whose
 * vtable pointer is vptr: NO_PLAN if it cannot be named. */
static uint32_t dynamic_plan(struct mv_walk *w, uint64_t vptr,
			     struct mv_error **err)
{
	uint32_t plan = NO_PLAN;
	const char *sym;
	uint64_t off;
	char cls[512];
	struct mv_type *t = NULL;
	if (mv_program_symbolize(w->program, vptr, &sym, &off) &&
	    mv_walk_vtable_class(sym, cls, sizeof(cls))) {
		for (int ns = 0; ns < 2 && !t; ns++) {
			struct mv_error *e = mv_program_find_type(
				w->program, ns ? MV_NS_STRUCT : MV_NS_CLASS,
				cls, 0, &t, NULL);
			if (e) {
				mv_error_destroy(e);
				t = NULL;
			}
		}
		t = t ? mv_type_strip(t) : NULL;
		if (t && t->size && t->is_complete &&
		    (*err = plan_for_type(w, t, &plan)))
			return NO_PLAN;
	}
	return plan;
}

/* A pointer to a polymorphic class: to the start and plan of the
 * object's most-derived class, as its vtable says (offset to top at
 * vtable[-2]); unchanged when the vtable is not one the walk can
 * name. */
static void dynamic_type(struct scan *sc, uint64_t *value, uint32_t *plan)
{
	struct mv_walk *w = sc->w;
	const struct mv_walk_plan *pl = w->plans[*plan];
	uint64_t vptr, top;
	if (mv_target_read_partial(w->target, *value + pl->vptr_offset, &vptr,
				   8) != 8 || !vptr ||
	    mv_target_read_partial(w->target, vptr - 16, &top, 8) != 8)
		return;
	uint32_t dyn = cached_plan(w, vptr, dynamic_plan, &sc->err);
	if (dyn == NO_PLAN || sc->err)
		return;
	uint64_t start = *value + (uint64_t)(int64_t)top;
	if (dyn == *plan && start == *value)
		return;
	/* The most-derived object holds the pointed-to one. */
	if ((int64_t)top > 0 ||
	    *value - start + pl->size > w->plans[dyn]->size)
		return;
	*value = start;
	*plan = dyn;
	if (!sc->find)
		w->dynamic_typed++;
}

/* A plan of an anonymous struct (typedef struct {...} PyListObject)
 * is named as the rule that made it spells it. */
static void name_anonymous(struct mv_walk *w, uint32_t plan, const char *name)
{
	struct mv_walk_plan *pl = w->plans[plan];
	if (!name || !pl->name || !strstr(pl->name, "{...}"))
		return;
	char *n = strdup(name);
	if (n) {
		free(pl->name);
		pl->name = n;
	}
}

#define RULE_READ_MAX 4096 /* bytes of an object a rule's expression reads */

static size_t rule_read(void *arg, uint64_t address, void *buf, size_t n)
{
	return mv_target_read_partial(arg, address, buf, n);
}

/* rule_read over the walk (arg), its small reads remembered: a rule's
 * expression reads the same type object's fields for each object. */
static size_t rule_read_cached(void *arg, uint64_t address, void *buf,
			       size_t n)
{
	struct mv_walk *w = arg;
	if (n > 8)
		return mv_target_read_partial(w->target, address, buf, n);
	struct mv_walk_read_cache *c =
		&w->read_cache[(address * 0x9e3779b97f4a7c15ull >> 56) &
			       (MV_WALK_READ_CACHE - 1)];
	if (c->n == n && c->addr == address) {
		memcpy(buf, &c->v, n);
		return n;
	}
	uint64_t v = 0;
	size_t got = mv_target_read_partial(w->target, address, &v, n);
	memcpy(buf, &v, got);
	if (got == n)
		*c = (struct mv_walk_read_cache){.addr = address, .v = v,
						 .n = (uint32_t)n};
	return got;
}

/* Evaluates a rule's expression over the object at addr (its record at
 * base bytes in): a bounded read, false when it cannot be read; '->'
 * terms read the target where they point. */
static bool eval_at(struct mv_walk *w, const struct mv_len_expr *e,
		    uint64_t addr, uint64_t base, uint64_t *ret)
{
	uint8_t buf[RULE_READ_MAX];
	if (e->end > sizeof(buf))
		return false;
	size_t got = mv_target_read_partial(w->target, addr + base, buf,
					    (size_t)e->end);
	return mv_len_expr_eval_read(e, buf, got, rule_read_cached, w, ret);
}

/* The count of an object whose plan has a size or trailing-array rule,
 * bounded by room (the bytes from addr to its block's end, or its
 * mapping's). */
static uint64_t ruled_count(struct mv_walk *w,
			    const struct mv_walk_plan *pl, uint64_t addr,
			    uint64_t room)
{
	uint64_t v;
	if (pl->size_expr) {
		if (!eval_at(w, pl->size_expr, addr, 0, &v) || v < pl->size)
			v = pl->size;
		if (v > room) {
			w->rule_cut++;
			v = room;
		}
		return v;
	}
	if (!eval_at(w, pl->fam_len, addr, pl->fam_len_base, &v))
		return 0;
	uint64_t fits = room > pl->fam_offset
				? (room - pl->fam_offset) / pl->fam_stride : 0;
	if (v > fits) {
		w->rule_cut++;
		v = fits;
	}
	w->hinted++;
	return v;
}

#define RULE_MAX_HOPS 8   /* dispatches in a row: rules may loop */

/* Whether [start, start + size) lies in the in-use block holding
 * address (only blocks: a rule never retypes memory it cannot bound). */
static bool rule_fits(struct mv_walk *w, uint64_t address, uint64_t start,
		      uint64_t size)
{
	struct mv_chunk ch;
	size_t ci;
	if (!find_chunk(w, address, &ch, &ci) ||
	    !(ch.flags & MV_CHUNK_IN_USE) ||
	    (ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_TOP |
			 MV_CHUNK_METADATA | MV_CHUNK_CORRUPT)))
		return false;
	return start >= ch.mem && start - ch.mem <= ch.usable &&
	       size <= ch.usable - (start - ch.mem);
}

/* The first of plan pl's dispatch rules the object at addr meets, or
 * pl->ndispatch: a field's value (read once for the rules that read the
 * same field), or a condition over the real type's members. */
static uint32_t dispatch_match(struct mv_walk *w,
			       const struct mv_walk_plan *pl, uint64_t addr)
{
	const struct mv_rules *r = w->opt.rules;
	const struct mv_rule_dispatch *d0 = NULL;
	uint64_t v = 0;
	uint32_t k;
	for (k = 0; k < pl->ndispatch; k++) {
		const struct mv_rule_dispatch *d = &r->dispatch[pl->dispatch[k]];
		uint64_t fv = 0;
		if (d->has_cond) {
			if (eval_at(w, &d->cond, addr, 0, &fv) && fv)
				break;
			continue;
		}
		if (d0 && d->size == d0->size && d->offset == d0->offset) {
			fv = v;
		} else if (mv_target_read_partial(w->target, addr + d->offset,
						  &fv, d->size) != d->size) {
			continue;
		} else if (!d0) {
			d0 = d;
			v = fv;
		}
		/* Unsigned: the value was masked the same way. */
		if (mv_rules_bits(fv, d->shift, d->width, false) == d->value)
			break;
	}
	return k;
}

/* The real type of the object at *value declared *plan, by the rules
 * (rules.h): a container_of rule moves it to the block's containing
 * object, a dispatch rule reads its field and picks the real type.
 * Bounded: at most RULE_MAX_HOPS in a row (a loop of rules is counted
 * and ends there); a value no rule names, an unreadable field or a
 * real type that does not fit its block keep the declared type. */
static void apply_rules(struct scan *sc, uint64_t *value, uint32_t *plan)
{
	struct mv_walk *w = sc->w;
	const struct mv_rules *r = w->opt.rules;
	for (int hop = 0; hop < RULE_MAX_HOPS && !sc->err; hop++) {
		struct mv_walk_plan *pl = w->plans[*plan];
		if (!pl->ruled)
			return;
		if (pl->container >= 0) {
			const struct mv_rule_container *c =
				&r->containers[pl->container];
			if (pl->container_plan == NO_PLAN &&
			    (sc->err = plan_for_type(w, c->container,
						     &pl->container_plan)))
				return;
			uint32_t cp = pl->container_plan;
			uint64_t start = *value - c->offset;
			if (!rule_fits(w, *value, start, w->plans[cp]->size))
				return;
			*value = start;
			*plan = cp;
			if (!sc->find)
				w->contained++;
			continue;
		}
		if (!pl->ndispatch)
			return;
		uint32_t k = dispatch_match(w, pl, *value);
		if (k == pl->ndispatch) {
			if (!sc->find)
				w->undispatched++;
			return;
		}
		if (pl->dispatch_plan[k] == NO_PLAN) {
			const struct mv_rule_dispatch *d =
				&r->dispatch[pl->dispatch[k]];
			if ((sc->err = plan_for_type(w, d->real,
						     &pl->dispatch_plan[k])))
				return;
			name_anonymous(w, pl->dispatch_plan[k], d->real_name);
		}
		uint32_t np = pl->dispatch_plan[k];
		if (np == *plan)
			return;
		struct mv_chunk ch;
		size_t ci;
		if (find_chunk(w, *value, &ch, &ci) &&
		    !rule_fits(w, *value, *value, w->plans[np]->size)) {
			/* In a block too small for the real type. */
			if (!sc->find)
				w->dispatch_misfit++;
			return;
		}
		*plan = np;
		if (!sc->find)
			w->dispatched++;
	}
	if (!sc->find && !sc->err)
		w->rule_loops++;
}

/* follow() for most pointers of a walk: to a typed object at the user
 * address of a plain chunk (dir_plain_mem), with no hint to apply and
 * nothing to label.  True when handled; false hands the pointer to the
 * general path, which reaches the same answer more slowly.  Inlined: a
 * list's walk paid its call once a node. */
static inline __attribute__((always_inline)) bool
follow_plain(struct scan *sc, uint64_t value, uint32_t plan,
	     const struct mv_walk_plan *pl)
{
	struct mv_walk *w = sc->w;
	uint64_t size, mask, *seen;
	struct dir_word *word;
	size_t index;
	if ((value & 15) || !pl->plain_ok)
		return false;
	if (w->plain_dir) {
		if (!dir_plain_mem(w->plain_dir, value, &size, &word, &mask))
			return false;
		seen = &word->seen;
	} else if (!w->opt.find_plain || !w->chunk_seen ||
		   !w->opt.find_plain(w->opt.chunk_arg, value, &size, &index) ||
		   index >= w->opt.nchunks) {
		return false;
	} else {
		seen = &w->chunk_seen[index / 64];
		mask = 1ull << (index % 64);
	}
	if (*seen & mask) {
		if (sc->tree_link)
			w->problems[MV_PROB_CONTAINER]++; /* a node met twice */
		return true;
	}
	/* Bounds to count and an array to grow: follow() does both. */
	if (sc->cut || w->nobjs >= w->opt.max_objects ||
	    w->nobjs == w->objs_cap)
		return false;
	struct mv_chunk ch = {.start = value - 16, .mem = value, .size = size,
			      .usable = size - 8, .flags = MV_CHUNK_IN_USE};
	if (pl->size && ch.usable >= 2 * pl->size)
		guessed_single(sc, pl, ch.usable);
	/* As follow() does, unless the lookup has just read the chunk's
	 * header, and with it the object's first bytes. */
	if (!w->opt.find_reads_header && w->nobjs - sc->from <= PREFETCH_AHEAD)
		prefetch_object(sc, value);
	w->objs[w->nobjs++] = (struct mv_walk_obj){
		.addr = value, .parent = sc->from, .plan = plan, .count = 1,
		.bytes = object_bytes(&ch, pl->size)};
	*seen |= mask;
	/* account_object(), for a chunk of this size, once folded. */
	w->stats[plan].plain_objects++;
	w->stats[plan].plain_chunk_bytes += size;
	return true;
}

/* Handles one pointer found in the object being scanned.  plan is what
 * it points to; len is a hinted element count (0: none). */
static void follow(struct scan *sc, uint64_t value, uint32_t plan,
		   uint64_t len, bool has_len, bool guess)
{
	struct mv_walk *w = sc->w;
	if (!value || sc->err || sc->found)
		return;
	if (w->plans[plan]->ruled) {
		apply_rules(sc, &value, &plan);
		if (sc->err)
			return;
	}
	if (w->plans[plan]->polymorphic && !w->opt.static_types && !has_len) {
		dynamic_type(sc, &value, &plan);
		if (sc->err)
			return;
	}
	const struct mv_walk_plan *pl = w->plans[plan];
	bool find = sc->find;
	if (!find && !has_len && !sc->container_link &&
	    follow_plain(sc, value, plan, pl))
		return;
	/* DWARF alignments are powers of two: a mask, not a division. */
	if (pl->kind == MV_WALK_TYPED && pl->align > 1 &&
	    (pl->align & (pl->align - 1) ? value % pl->align
					  : value & (pl->align - 1))) {
		if (!find)
			w->problems[MV_PROB_MISALIGNED]++;
		return;
	}
	struct mv_chunk ch;
	bool heap = false;
	uint64_t key = value;
	/* The chunk index answers first: a chunk is mapped memory, so the
	 * common case needs no region lookup. */
	/* Start fetching the object now, so that its cache miss overlaps
	 * the chunk lookup's instead of following it; only when the queue
	 * is short, as walk_levels fetches it again PREFETCH_AHEAD records
	 * before its scan (a fetch now would be evicted by then). */
	if (pl->kind == MV_WALK_TYPED && w->nobjs - sc->from <= PREFETCH_AHEAD)
		prefetch_object(sc, value);
	size_t cidx = SIZE_MAX;
	bool in_chunk = find_chunk(w, value, &ch, &cidx);
	/* A word that may not be a pointer (a std::function's functor
	 * kept inside it): only a block counts. */
	if (!in_chunk && sc->heap_only && !sc->container_link)
		return;
	if (!in_chunk && !mv_target_is_mapped(w->target, value)) {
		if (!find)
			w->problems[MV_PROB_UNMAPPED]++;
		return;
	}
	if (!in_chunk && sc->heap_only)
		return; /* a node's link back to its container */
	if (in_chunk) {
		if (ch.flags & MV_CHUNK_CORRUPT) {
			if (!find)
				w->problems[MV_PROB_CORRUPT]++;
			return;
		}
		if (!(ch.flags & MV_CHUNK_IN_USE) ||
		    (ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_TOP |
				 MV_CHUNK_METADATA)) ||
		    value < ch.mem) {
			if (!find)
				w->problems[sc->container_link
						    ? MV_PROB_CONTAINER
						    : MV_PROB_FREE_CHUNK]++;
			return;
		}
		/* A list's last node links back to the list's own node,
		 * inside the object that holds the list (a map's node, a
		 * class): no edge, or every such list would be a cycle. */
		if (sc->heap_only && sc->container_link && value != ch.mem)
			return;
		heap = true;
		key = ch.mem;
	}
	if (find) {
		if (key == sc->want_key) {
			const struct slot *ls = sc->npath ?
				sc->path[sc->npath - 1].slot : NULL;
			sc->used_erule = ls ? ls->erule : NULL;
			sc->used_erec = ls && ls->erule
				? path_record(sc, sc->npath - 1) : 0;
			render_label(sc, sc->label);
			sc->found = true;
			sc->found_holder = sc->holder;
		}
		return;
	}
	uint32_t seen;
	uint64_t *seen_word = NULL, seen_mask = 0;
	if (heap)
		seen_word = seen_bit(w, ch.start, cidx, &seen_mask);
	bool by_bit = seen_word != NULL;
	if (by_bit) {
		if (*seen_word & seen_mask) {
			if (sc->tree_link)
				w->problems[MV_PROB_CONTAINER]++; /* a node met twice */
			return;
		}
	} else if (visited(w, key, &seen)) {
		if (sc->tree_link)
			w->problems[MV_PROB_CONTAINER]++;
		/* A list's last node links back to the list's own node at
		 * the very start of the object holding it (a class whose
		 * first member is the list): that object was met as
		 * something else than a node, and the link is no edge. */
		if (sc->heap_only && sc->container_link &&
		    w->objs[seen].plan != plan)
			return;
		if (w->opt.keep_edges && !(sc->err = add_edge(sc, seen, guess)))
			/* Into an object met before, not at its start (a
			 * set's table in its own smalltable). */
			w->edges[w->nedges - 1].interior =
				value != w->objs[seen].addr;
		return;
	}
	if (sc->cut) {
		w->depth_cut_pointers++;
		w->hit_max_depth = true;
		return;
	}
	if (w->nobjs >= w->opt.max_objects) {
		w->limit_cut_pointers++;
		w->hit_max_objects = true;
		return;
	}
	if (pl->kind == MV_WALK_UNTYPED && !heap) {
		/* No chunk, no size: counted in the notes only. */
		w->void_nonheap++;
		return;
	}
	/* Heap objects: the model read their chunk's header just before
	 * them; a short read later counts as truncated. */
	if (!heap && !readable(w, value)) {
		w->problems[MV_PROB_UNREADABLE]++;
		return;
	}

	uint64_t room = heap ? ch.mem + ch.usable - value : 0;
	uint64_t count = 1;
	switch (pl->kind) {
	case MV_WALK_STRING: {
		bool term;
		uint64_t limit = heap && room < MV_WALK_MAX_STRING
					 ? room : MV_WALK_MAX_STRING;
		count = string_length(w, value, limit, &term);
		if (!term)
			w->problems[MV_PROB_UNTERMINATED]++;
		break;
	}
	case MV_WALK_BYTES:
		/* Outside the heap: the one byte pointed to. */
		count = heap ? room : 1;
		break;
	case MV_WALK_UNTYPED:
		count = room;
		w->untyped_chunks++;
		w->untyped_bytes += room;
		if (guess)
			w->guessed_edges++;
		break;
	case MV_WALK_TYPED:
		if (pl->size_expr || pl->fam_len) {
			if (!heap) {
				const struct mv_region *r =
					mv_target_find_region(w->target, value);
				room = r ? r->end - value : 0;
			}
			count = ruled_count(w, pl, value, room);
		} else if (pl->has_fam) {
			count = heap && room > pl->fam_offset && pl->fam_stride
					? (room - pl->fam_offset) / pl->fam_stride
					: 0;
			if (heap)
				w->guessed_fam++;
		} else if (has_len) {
			count = len;
			/* A hint cannot make an object outgrow its chunk, nor
			 * a vector's end its mapping. */
			uint64_t fits = room;
			if (!heap && sc->container) {
				const struct mv_region *r =
					mv_target_find_region(w->target, value);
				fits = r ? r->end - value : 0;
			}
			if ((heap || sc->container) && pl->size &&
			    count > fits / pl->size) {
				count = fits / pl->size;
				if (sc->container)
					w->problems[MV_PROB_CONTAINER]++;
			}
			if (sc->container)
				w->cxx_vectors++;
			else
				w->hinted++;
		} else if (heap && pl->size && room >= 2 * pl->size &&
			   !sc->container_link) {
			/* A control block is a class derived from the
			 * declared one: no guess. */
			guessed_single(sc, pl, ch.usable);
		}
		break;
	}
	if (count > UINT32_MAX)
		count = UINT32_MAX;
	struct mv_walk_obj o = {.addr = value, .parent = sc->from,
				.plan = plan, .count = (uint32_t)count};
	uint64_t tb = obj_type_bytes(w, &o);
	o.bytes = object_bytes(heap ? &ch : NULL, tb);
	if ((sc->err = append_obj(w, &o, key, !by_bit)))
		return;
	if (by_bit)
		*seen_word |= seen_mask;
	account_object(w, plan, value, heap ? &ch : NULL, tb);
	if (w->opt.keep_edges)
		sc->err = add_edge(sc, (uint32_t)(w->nobjs - 1), guess);
}

/* The bytes [addr, addr + len): *got says how many were readable.
 * From a window of the target's stable mapping when they fall inside
 * one (a core: no copy, no lookup), else copied into sc->buf, which the
 * next load may reuse. */
static const uint8_t *load_slow(struct scan *sc, uint64_t addr, size_t len,
				size_t *got);

static inline const uint8_t *load(struct scan *sc, uint64_t addr,
				  size_t len, size_t *got)
{
	if (addr - sc->win_start < sc->win_len &&
	    sc->win_len - (addr - sc->win_start) >= len) {
		*got = len;
		return sc->win + (addr - sc->win_start);
	}
	return load_slow(sc, addr, len, got);
}

static const uint8_t *load_slow(struct scan *sc, uint64_t addr, size_t len,
				size_t *got)
{
	/* The whole region when the mapping holds all of it (a core's
	 * heap: a shuffled walk then finds every object in the window);
	 * else a window of 64 KiB, or of the page where less is held. */
	const struct mv_region *r = mv_target_find_region(sc->w->target, addr);
	if (r && r->end - addr >= len && r->end - r->start > LOAD_WINDOW) {
		const uint8_t *p = mv_target_peek_stable(
			sc->w->target, r->start, (size_t)(r->end - r->start));
		if (p) {
			sc->win = p;
			sc->win_start = r->start;
			sc->win_len = r->end - r->start;
			*got = len;
			return p + (addr - r->start);
		}
	}
	for (uint64_t span = LOAD_WINDOW; span >= MV_PAGE_SIZE &&
					  len <= span / 2; span /= 16) {
		uint64_t start = addr & ~(span - 1);
		if (start + span < addr + len)
			break;
		const uint8_t *p = mv_target_peek_stable(sc->w->target, start,
							 (size_t)span);
		if (p) {
			sc->win = p;
			sc->win_start = start;
			sc->win_len = span;
			*got = len;
			return p + (addr - start);
		}
	}
	if (sc->buf_cap < len) {
		uint8_t *b = realloc(sc->buf, len);
		if (!b) {
			sc->err = mv_enomem;
			*got = 0;
			return NULL;
		}
		sc->buf = b;
		sc->buf_cap = len;
	}
	*got = mv_target_read_partial(sc->w->target, addr, sc->buf, len);
	return sc->buf;
}

static void scan_plan(struct scan *sc, const struct mv_walk_plan *pl,
		      const uint8_t *bytes, size_t avail, uint64_t base);

/* An integer member of size bytes; a negative signed value reads as 0
 * (no length, a condition that does not hold). */
static uint64_t read_uint(const uint8_t *p, uint32_t size, bool is_signed)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	if (is_signed && size < 8 && (v >> (size * 8 - 1)) & 1)
		return 0;
	if (is_signed && size == 8 && (int64_t)v < 0)
		return 0;
	return v;
}

/* Whether the conditions of slot s hold for the element in bytes. */
static bool conds_hold(struct scan *sc, const struct slot *s,
		       const uint8_t *bytes, size_t avail)
{
	if (s->nconds == SLOT_NEVER)
		return false;
	for (unsigned i = 0; i < s->nconds; i++) {
		const struct cond *c = &s->cond[i];
		uint8_t tmp[8];
		const uint8_t *at = bytes + c->offset;
		if (c->offset + (c->indirect ? 8 : c->size) > avail)
			return false;
		if (c->indirect) {
			uint64_t p;
			memcpy(&p, at, 8);
			if (!p || mv_target_read_partial(sc->w->target,
							 p + c->inner, tmp,
							 c->size) != c->size)
				return false;
			at = tmp;
		}
		uint64_t v = read_uint(at, c->size, c->op == COND_POS);
		if (c->op == COND_EQ ? v != c->value
		    : c->op == COND_NE ? v == c->value : !v)
			return false;
	}
	return true;
}

/* A std::deque's node buffers (see build_deque): each followed at its
 * first element with the count of elements it holds, labelled with the
 * deque's index of that element.  The nodes must lie in the map, in
 * order; a buffer whose elements are not within it is skipped.  Both
 * count as container problems. */
static void scan_deque(struct scan *sc, struct slot *s, const uint8_t *bytes,
		       size_t avail, uint64_t base, struct path_ent *pe)
{
	struct mv_walk *w = sc->w;
	uint64_t f[10]; /* map, size, start (4 words), finish (4 words) */
	if (s->offset + sizeof(f) > avail)
		return;
	memcpy(f, bytes + s->offset, sizeof(f));
	uint64_t map = f[0], cur = f[2], snode = f[5], fcur = f[6];
	uint64_t fnode = f[9], size = s->stride, span = s->count * s->stride;
	if (!map)
		return;
	struct mv_chunk ch;
	size_t ci;
	/* The nodes used, inside the map's block (a bound from the heap,
	 * not from the deque's own _M_map_size). */
	if (!find_chunk(w, map, &ch, &ci) || snode < map || fnode < snode ||
	    (snode - map) % 8 || (fnode - snode) % 8 ||
	    fnode + 8 > ch.mem + ch.usable || fnode + 8 < fnode) {
		if (!sc->find)
			w->problems[MV_PROB_CONTAINER]++;
		return;
	}
	uint32_t plan;
	if ((sc->err = slot_target(w, s, &plan)))
		return;
	uint64_t index = 0, n = (fnode - snode) / 8 + 1;
	for (uint64_t k = 0; k < n && !sc->err && !sc->found; k++) {
		uint64_t buf;
		if (mv_target_read_partial(w->target, snode + 8 * k, &buf, 8) !=
		    8) {
			if (!sc->find)
				w->problems[MV_PROB_TRUNCATED]++;
			return;
		}
		uint64_t lo = k ? buf : cur, hi = k + 1 < n ? buf + span : fcur;
		if (!buf || lo < buf || hi < lo || hi - buf > span ||
		    (lo - buf) % size || (hi - lo) % size) {
			if (!sc->find)
				w->problems[MV_PROB_CONTAINER]++;
			continue;
		}
		pe->index = index;
		sc->container = true;
		sc->container_link = true;
		/* The deque's map, named as the deque (edgename.c). */
		sc->holder = base + s->offset;
		follow(sc, lo, plan, (hi - lo) / size, true, false);
		sc->container = sc->container_link = false;
		index += (hi - lo) / size;
	}
}

/* A std::function's functor block: typed as its lambda or callable
 * class where the manager names one (functor_plan). */
static void functor_slot(struct scan *sc, const struct slot *s,
			 const uint8_t *bytes, size_t avail, uint32_t *plan)
{
	uint64_t mgr;
	if (s->manager_offset + 8 > avail)
		return;
	memcpy(&mgr, bytes + s->manager_offset, 8);
	uint32_t fp = cached_plan(sc->w, mgr, functor_plan, &sc->err);
	if (fp == NO_PLAN || sc->err)
		return;
	*plan = fp;
	if (!sc->find)
		sc->w->functors_typed++;
}

static void scan_slot(struct scan *sc, struct slot *s, const uint8_t *bytes,
		      size_t avail, uint64_t base)
{
	struct mv_walk *w = sc->w;
	if (sc->npath >= PATH_MAX_NEST)
		return;
	if (s->nconds && !conds_hold(sc, s, bytes, avail))
		return;
	struct path_ent *pe = &sc->path[sc->npath++];
	pe->slot = s;
	pe->index = 0;
	if (s->kind == SLOT_PTR) {
		if (s->offset + 8 <= avail) {
			uint64_t v;
			memcpy(&v, bytes + s->offset, 8);
			uint64_t len = 0;
			bool has_len = false;
			if (s->has_sso && v == base + s->sso_offset)
				v = 0; /* inline: part of this object */
			if (s->len_end && v && s->len_offset + 8 <= avail) {
				uint64_t end, size = s->target->size;
				memcpy(&end, bytes + s->len_offset, 8);
				has_len = true;
				if (end < v || (end - v) % size) {
					if (!sc->find)
					/* A bounded answer: the buffer's
					 * chunk, none of its elements. */
						w->problems[MV_PROB_CONTAINER]++;
					len = 0;
				} else {
					len = (end - v) / size;
				}
			} else if (s->has_len && !s->len_end &&
				   s->len_base < avail) {
				/* (An empty vector's null start has no
				 * length expression.) */
				has_len = mv_len_expr_eval_read(
					s->len_expr, bytes + s->len_base,
					avail - s->len_base, rule_read_cached,
					w, &len);
			}
			uint32_t plan;
			if (v && !sc->err &&
			    !(sc->err = slot_target(w, s, &plan))) {
				if (s->functor)
					functor_slot(sc, s, bytes, avail, &plan);
				sc->container = s->len_end;
				sc->heap_only = s->heap_only;
				sc->tree_link = s->tree_link;
				sc->container_link = s->container_link;
				sc->holder = base + s->offset;
				follow(sc, v, plan, len, has_len, false);
				sc->container = sc->heap_only = false;
				sc->tree_link = sc->container_link = false;
			}
		}
	} else if (s->kind == SLOT_ARRAY) {
		for (uint64_t i = 0; i < s->count && !sc->err && !sc->found;
		     i++) {
			uint64_t off = s->offset + i * s->stride;
			if (off >= avail)
				break;
			pe->index = i;
			scan_plan(sc, s->sub, bytes + off, avail - off,
				  base + off);
		}
	} else if (s->kind == SLOT_DEQUE) {
		scan_deque(sc, s, bytes, avail, base, pe);
	}
	/* SLOT_FAM is scanned by scan_object: it lies past the element. */
	sc->npath--;
}

static void scan_plan(struct scan *sc, const struct mv_walk_plan *pl,
		      const uint8_t *bytes, size_t avail, uint64_t base)
{
	for (size_t i = 0; i < pl->nslots && !sc->err && !sc->found; i++)
		scan_slot(sc, &pl->slots[i], bytes, avail, base);
}

/* Scans count elements of plan pl at addr, window by window. */
static void scan_elements(struct scan *sc, const struct mv_walk_plan *pl,
			  uint64_t addr, uint64_t count, bool multi)
{
	struct mv_walk *w = sc->w;
	uint64_t size = pl->size;
	/* What the plan leaves out is counted even when nothing else in
	 * it needs reading. */
	if (!sc->find) {
		w->unions_skipped += (uint64_t)pl->union_skips * count;
		w->rule_skipped += (uint64_t)pl->rule_skips * count;
		w->fn_pointers += (uint64_t)pl->fn_ptrs * count;
	}
	if (!size || !pl->nslots)
		return;
	uint64_t per = count == 1 || size >= READ_WINDOW ? 1
							  : READ_WINDOW / size;
	for (uint64_t e = 0; e < count && !sc->err && !sc->found;) {
		uint64_t n = count - e < per ? count - e : per;
		size_t want = (size_t)(n * size);
		if (size > (64u << 20)) {
			/* One element bigger than any sane object: read
			 * its start only. */
			want = 64u << 20;
			n = 1;
		}
		uint64_t at = addr + e * size;
		size_t got;
		const uint8_t *bytes = load(sc, at, want, &got);
		if (sc->err)
			return;
		if (got < want && !sc->find)
			w->problems[MV_PROB_TRUNCATED]++;
		for (uint64_t k = 0; k < n && !sc->err && !sc->found; k++) {
			size_t off = (size_t)(k * size);
			if (off >= got)
				break;
			sc->multi = multi;
			sc->elem = e + k;
			size_t avail = got - off < size ? got - off
							: (size_t)size;
			/* A scan may reload sc->buf (FAM elements do not,
			 * they come after), so work on the bytes now. */
			scan_plan(sc, pl, bytes + off, avail, at + off);
		}
		if (got < want)
			return;
		e += n;
	}
}

/* Untyped chunks under --conservative: every aligned word that points
 * into an in-use chunk is a guessed edge. */
static void scan_words(struct scan *sc, uint64_t addr, uint64_t len)
{
	struct mv_walk *w = sc->w;
	uint64_t a = (addr + 7) & ~7ull;
	uint64_t end = addr + len;
	while (a + 8 <= end && !sc->err && !sc->found) {
		size_t want = end - a < READ_WINDOW ? (size_t)(end - a)
						    : READ_WINDOW;
		want &= ~(size_t)7;
		size_t got;
		const uint8_t *bytes = load(sc, a, want, &got);
		got &= ~(size_t)7;
		if (sc->err)
			return;
		for (size_t off = 0; off < got && !sc->err && !sc->found;
		     off += 8) {
			uint64_t v;
			memcpy(&v, bytes + off, 8);
			struct mv_chunk ch;
			size_t ci;
			if (v < 4096 || !w->opt.find_chunk ||
			    !w->opt.find_chunk(w->opt.chunk_arg, v, &ch, &ci) ||
			    !(ch.flags & MV_CHUNK_IN_USE))
				continue;
			sc->multi = false;
			sc->npath = 1;
			sc->path[0].slot = NULL;
			sc->path[0].index = a + off - addr;
			sc->holder = a + off;
			follow(sc, v, PLAN_UNTYPED, 0, false, true);
			sc->npath = 0;
		}
		if (got < want) {
			if (!sc->find)
				w->problems[MV_PROB_TRUNCATED]++;
			return;
		}
		a += want;
	}
}

/* The common object, one element of a flat plan: its bytes are read
 * once and each non-null pointer followed, without scan_elements'
 * windows and scan_slot's nesting (same counts, same labels). */
static void scan_pointers(struct scan *sc, const struct mv_walk_plan *pl,
			  uint64_t addr)
{
	struct mv_walk *w = sc->w;
	if (!sc->find) {
		w->unions_skipped += pl->union_skips;
		w->rule_skipped += pl->rule_skips;
		w->fn_pointers += pl->fn_ptrs;
	}
	if (!pl->size || !pl->nslots)
		return;
	size_t got;
	const uint8_t *bytes = load(sc, addr, (size_t)pl->size, &got);
	if (sc->err)
		return;
	if (got < pl->size && !sc->find)
		w->problems[MV_PROB_TRUNCATED]++;
	sc->multi = false;
	sc->elem = 0;
	sc->npath = 1;
	sc->path[0].index = 0;
	for (size_t i = 0; i < pl->nslots && !sc->err && !sc->found; i++) {
		struct slot *s = &pl->slots[i];
		uint64_t v;
		if (s->offset + 8 > got)
			continue;
		memcpy(&v, bytes + s->offset, 8);
		if (!v)
			continue;
		uint32_t plan = s->target_plan;
		if (plan == NO_PLAN && (sc->err = slot_target(w, s, &plan)))
			break;
		sc->path[0].slot = s;
		sc->holder = addr + s->offset;
		if (sc->find || w->plans[plan]->polymorphic ||
		    w->plans[plan]->ruled ||
		    !follow_plain(sc, v, plan, w->plans[plan]))
			follow(sc, v, plan, 0, false, false);
	}
	sc->npath = 0;
}

/* Where an array rule's elements lie and how many fit: inside the
 * object's bytes (a negative offset: its header), or, indirect, in the
 * in-use block the pointer at that offset points into. */
static bool rule_array_place(struct mv_walk *w, const struct mv_rule_array *a,
			     const struct mv_walk_plan *pl,
			     const struct mv_walk_obj *o, uint64_t esize,
			     bool quiet, uint64_t *addr, uint64_t *n)
{
	/* The count first: most rules have none for most objects. */
	if (!eval_at(w, &a->count, o->addr, 0, n) || !*n)
		return false;
	uint64_t header = obj_header(w, pl, o->addr);
	uint64_t bytes = obj_type_bytes(w, o) - header;
	uint8_t buf[RULE_READ_MAX];
	int64_t off;
	size_t got = a->offset.end <= sizeof(buf)
			     ? mv_target_read_partial(w->target, o->addr, buf,
						      (size_t)a->offset.end)
			     : 0;
	if (!mv_len_expr_eval_offset(&a->offset, buf, got, rule_read_cached,
				     w, &off))
		return false;
	/* The object's bytes are [-header, bytes) from its address; past
	 * them, the rest of its heap block (a __dict__ pointer after an
	 * int subclass's digits). */
	struct mv_chunk own;
	size_t own_index;
	if (off >= (int64_t)bytes && !a->indirect &&
	    find_chunk(w, o->addr, &own, &own_index) && o->addr >= own.mem &&
	    o->addr - own.mem <= own.usable)
		bytes = own.usable - (o->addr - own.mem);
	if (off < -(int64_t)header || off >= (int64_t)bytes)
		return false;
	uint64_t start = o->addr + (uint64_t)off;
	uint64_t room = (uint64_t)((int64_t)bytes - off);
	if (a->chain) {
		/* The first block: scan_chain reads on, block by block. */
		*addr = 0;
		return room >= 8 &&
		       mv_target_read_partial(w->target, start, addr, 8) == 8 &&
		       *addr;
	}
	if (a->indirect) {
		struct mv_chunk ch;
		size_t ci;
		if (room < 8 ||
		    mv_target_read_partial(w->target, start, &start, 8) != 8 ||
		    !find_chunk(w, start, &ch, &ci) ||
		    !(ch.flags & MV_CHUNK_IN_USE) ||
		    (ch.flags & (MV_CHUNK_FREE_LIST | MV_CHUNK_TOP |
				 MV_CHUNK_METADATA | MV_CHUNK_CORRUPT)) ||
		    start < ch.mem || start - ch.mem >= ch.usable)
			return false;
		room = ch.usable - (start - ch.mem);
	}
	if (*n > room / esize) {
		if (!quiet)
			w->rule_cut++;
		*n = room / esize;
	}
	*addr = start;
	return *n > 0;
}

#define CHAIN_MAX_BLOCKS (1u << 22) /* blocks of a chain rule read */

/* A chain rule's n elements (docs/types.md: a deque's items), from
 * element START of the block at block on along the blocks' links, each
 * block an in-use heap block; bounded by n and CHAIN_MAX_BLOCKS (a
 * chain that ends early, or loops, is cut and counted). */
static void scan_chain(struct scan *sc, const struct mv_walk_plan *ep,
		       const struct mv_rule_array *a,
		       const struct mv_walk_obj *o, uint64_t block, uint64_t n)
{
	struct mv_walk *w = sc->w;
	uint64_t first;
	if (!eval_at(w, &a->start, o->addr, 0, &first) ||
	    first >= a->per_block)
		return;
	uint64_t span = a->slots_offset + a->per_block * ep->size;
	if (a->link_offset + 8 > span)
		span = a->link_offset + 8;
	for (uint32_t b = 0; n && !sc->err && !sc->found; b++) {
		if (b == CHAIN_MAX_BLOCKS || !rule_fits(w, block, block, span)) {
			if (!sc->find)
				w->rule_cut++;
			return;
		}
		uint64_t k = a->per_block - first < n ? a->per_block - first : n;
		scan_elements(sc, ep, block + a->slots_offset + first * ep->size,
			      k, true);
		n -= k;
		first = 0;
		if (n && mv_target_read_partial(w->target, block +
						a->link_offset, &block, 8) != 8)
			block = 0;
	}
}

/* array rules: elements at a computed place inside the object, within
 * its bytes, or in a side block the object points to. */
static void scan_rule_arrays(struct scan *sc, const struct mv_walk_plan *pl,
			     const struct mv_walk_obj *o)
{
	struct mv_walk *w = sc->w;
	const struct mv_rules *r = w->opt.rules;
	for (uint32_t i = 0; i < pl->narrays && !sc->err && !sc->found; i++) {
		const struct mv_rule_array *a = &r->arrays[pl->arrays[i]];
		if (pl->array_plan[i] == NO_PLAN) {
			if ((sc->err = plan_for_type(w, a->elem,
						     &pl->array_plan[i])))
				return;
			name_anonymous(w, pl->array_plan[i], a->elem_name);
		}
		const struct mv_walk_plan *ep = w->plans[pl->array_plan[i]];
		uint64_t addr, n;
		if (!ep->size ||
		    !rule_array_place(w, a, pl, o, ep->size, sc->find,
				      &addr, &n))
			continue;
		sc->npath = 0;
		sc->arule = pl->array_name ? pl->array_name[i] : NULL;
		if (a->chain)
			scan_chain(sc, ep, a, o, addr, n);
		else
			scan_elements(sc, ep, addr, n, true);
		sc->arule = NULL;
	}
	sc->npath = 0;
}

/* scan_object() for all but a single object of a flat plan. */
static void scan_other(struct scan *sc, const struct mv_walk_plan *pl,
		       uint32_t index)
{
	struct mv_walk *w = sc->w;
	/* A copy: following pointers may move the records. */
	struct mv_walk_obj o = w->objs[index];
	if (pl->kind == MV_WALK_UNTYPED) {
		if (w->opt.conservative)
			scan_words(sc, o.addr, o.count);
		return;
	}
	if (pl->kind != MV_WALK_TYPED)
		return;
	if (pl->narrays)
		scan_rule_arrays(sc, pl, &o);
	if (pl->size_expr) {
		scan_elements(sc, pl, o.addr, 1, false);
		return;
	}
	if (pl->has_fam) {
		scan_elements(sc, pl, o.addr, 1, false);
		for (size_t i = 0; i < pl->nslots; i++) {
			struct slot *s = &pl->slots[i];
			if (s->kind != SLOT_FAM)
				continue;
			uint64_t fam = o.addr + s->offset;
			/* Element by element: the FAM's elements are each
			 * labelled with the member's path. */
			for (uint64_t e = 0; e < o.count && !sc->err &&
					     !sc->found; e++) {
				size_t got;
				const uint8_t *bytes = load(
					sc, fam + e * s->stride,
					(size_t)s->stride, &got);
				if (got < s->stride) {
					if (!sc->find)
						w->problems[MV_PROB_TRUNCATED]++;
					break;
				}
				sc->multi = false;
				sc->npath = 1;
				sc->path[0].slot = s;
				sc->path[0].index = e;
				scan_plan(sc, s->sub, bytes, got,
					  fam + e * s->stride);
				sc->npath = 0;
			}
		}
		return;
	}
	scan_elements(sc, pl, o.addr, o.count, o.count > 1);
}

/* Inlined into the walk's loop: most objects are one of a flat plan,
 * for which the rest of the dispatch (scan_other) is only a cost. */
static inline __attribute__((always_inline)) void
scan_object(struct scan *sc, uint32_t index)
{
	struct mv_walk *w = sc->w;
	/* Field by field: the record was just written field by field (a
	 * list's, one scan before), and a load spanning several of those
	 * stores would wait for all of them to land. */
	const struct mv_walk_obj *rec = &w->objs[index];
	const struct mv_walk_plan *pl = w->plans[rec->plan & ~INTERIOR_BIT];
	sc->from = index;
	sc->npath = 0;
	if (pl->kind == MV_WALK_TYPED && pl->flat && rec->count == 1)
		scan_pointers(sc, pl, rec->addr);
	else
		scan_other(sc, pl, index);
}

/* The breadth-first loop over the records from first on: the records
 * before level_end are at depth; the queue is the record array itself,
 * so nothing recurses over target data.  Frees the scan buffer and the
 * visited set (not needed by the report, which allocates its own). */

static struct mv_error *walk_levels(struct mv_walk *w, struct scan *sc,
				    size_t first, size_t level_end,
				    uint64_t depth)
{
	struct mv_error *err = NULL;
	uint64_t next_poll = MV_WALK_POLL_EVERY;
	for (size_t i = first; i < w->nobjs; i++) {
		if (i == level_end) {
			depth++;
			level_end = w->nobjs;
		}
		if (depth > w->max_depth_seen)
			w->max_depth_seen = depth;
		sc->depth = depth;
		sc->cut = w->opt.max_depth && depth >= w->opt.max_depth;
		/* The queue says which objects come next: start their cache
		 * misses now, so that they overlap as a program's own walk's
		 * do (a wide level has far more than the cache holds). */
		if (i + PREFETCH_AHEAD < w->nobjs)
			prefetch_object(sc, w->objs[i + PREFETCH_AHEAD].addr);
		if (w->opt.find_reads_header &&
		    i + PREFETCH_AHEAD / 2 < w->nobjs)
			prefetch_links(sc, i + PREFETCH_AHEAD / 2);
		scan_object(sc, (uint32_t)i);
		if (sc->err) {
			err = sc->err;
			break;
		}
		if (i + 1 >= next_poll && w->opt.poll) {
			next_poll += MV_WALK_POLL_EVERY;
			struct mv_error *perr = w->opt.poll(w->opt.poll_arg);
			if (perr) {
				/* Ctrl-C: what we have is the answer. */
				mv_error_destroy(perr);
				w->interrupted = true;
				break;
			}
		}
	}
	free(sc->buf);
	sc->buf = NULL;
	mv_big_free(w->table);
	w->table = NULL;
	w->table_cap = 0;
	fold_plain(w);
	return err;
}

static struct mv_error *walk_from(struct mv_walk *w,
				  const struct mv_walk_obj *root,
				  uint64_t key, bool root_is_object)
{
	struct mv_error *err;
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	sc.w = w;
	if ((err = append_obj(w, root, key, true)))
		return err;
	(void)root_is_object;
	/* BFS: records [0, level_end) are at depth <= level. */
	return walk_levels(w, &sc, 0, 1, 0);
}

static struct mv_error *root_record(struct mv_walk *w, uint32_t plan,
				    uint64_t address,
				    struct mv_walk_obj *o, uint64_t *key)
{
	struct mv_chunk ch;
	size_t ci = SIZE_MAX;
	bool heap = w->opt.find_chunk &&
		    w->opt.find_chunk(w->opt.chunk_arg, address, &ch, &ci) &&
		    (ch.flags & MV_CHUNK_IN_USE) && address >= ch.mem;
	/* Pointers back to the root's chunk are answered by the bitmap. */
	uint64_t *bit, mask;
	if (heap && (bit = seen_bit(w, ch.start, ci, &mask)))
		*bit |= mask;
	*key = heap ? ch.mem : address;
	o->addr = address;
	o->parent = 0;
	o->plan = plan;
	o->count = 1;
	const struct mv_walk_plan *pl = w->plans[plan];
	if (pl->has_fam && heap && pl->fam_stride) {
		uint64_t room = ch.mem + ch.usable - address;
		o->count = room > pl->fam_offset
				   ? (uint32_t)((room - pl->fam_offset) /
						pl->fam_stride)
				   : 0;
		w->guessed_fam++;
	} else if (pl->has_fam) {
		o->count = 0;
	}
	uint64_t tb = obj_type_bytes(w, o);
	o->bytes = object_bytes(heap ? &ch : NULL, tb);
	account_object(w, plan, address, heap ? &ch : NULL, tb);
	return NULL;
}

struct mv_error *mv_walk_run(struct mv_walk *w, struct mv_type *type,
			     uint64_t address)
{
	struct mv_type *st = mv_type_strip(type);
	if (!st || st->kind == MV_TYPE_UNKNOWN || st->kind == MV_TYPE_VOID ||
	    st->kind == MV_TYPE_FUNCTION)
		return mv_error_create(MV_ERR_INVALID,
				       "the root has no object type to walk");
	if (!w->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory to walk: open a core or "
				       "a process");
	uint32_t plan;
	struct mv_error *err = plan_for_type(w, st, &plan);
	if (err)
		return err;
	struct mv_walk_obj o;
	uint64_t key;
	if ((err = root_record(w, plan, address, &o, &key)))
		return err;
	return walk_from(w, &o, key, true);
}

struct mv_error *mv_walk_run_pointer(struct mv_walk *w,
				     struct mv_type *pointer_type,
				     uint64_t value)
{
	return mv_walk_run_pointers(w, pointer_type, &value, 1);
}

struct mv_error *mv_walk_run_pointers(struct mv_walk *w,
				      struct mv_type *pointer_type,
				      const uint64_t *values, size_t n)
{
	/* The pointers themselves live nowhere: give them a record of its
	 * own (address 0, its type's plan) that the report leaves out of
	 * the totals, so that the walk has a root to start from. */
	struct mv_type *st = mv_type_strip(pointer_type);
	if (!st || st->kind != MV_TYPE_POINTER)
		return mv_error_create(MV_ERR_INVALID,
				       "not a pointer: cannot follow it");
	if (!w->target)
		return mv_error_create(MV_ERR_INVALID,
				       "no memory to walk: open a core or "
				       "a process");
	uint32_t plan;
	struct mv_error *err = plan_for_type(w, st, &plan);
	if (err)
		return err;
	struct mv_walk_obj o = {.addr = 0, .plan = plan, .count = 1};
	w->pseudo_root = true;
	struct mv_error *e2;
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	sc.w = w;
	if ((e2 = append_obj(w, &o, 0, true)))
		return e2;
	/* Follow each value as the root's slot would, then walk on from
	 * what they found; the pseudo-root stays record 0. */
	const struct mv_walk_plan *pl = w->plans[plan];
	if (pl->nslots == 1 && pl->slots[0].kind == SLOT_PTR) {
		uint32_t tp;
		if ((err = slot_target(w, &pl->slots[0], &tp)))
			return err;
		sc.from = 0;
		sc.npath = 1;
		sc.path[0].slot = &pl->slots[0];
		for (size_t i = 0; i < n && !sc.err; i++)
			follow(&sc, values[i], tp, 0, false, false);
		sc.npath = 0;
		if (sc.err) {
			fold_plain(w);
			return sc.err;
		}
	}
	return walk_levels(w, &sc, 1, w->nobjs, 1);
}

struct mv_error *mv_walk_resolve(struct mv_walk *w, struct mv_type *type,
				 uint64_t *address, struct mv_type **real,
				 uint64_t *header, uint64_t *bytes)
{
	struct mv_type *st = mv_type_strip(type);
	uint32_t plan;
	struct mv_error *err = plan_for_type(w, st, &plan);
	if (err)
		return err;
	/* A scan that finds (sc.find): the walk's counters stay as they
	 * are. */
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	sc.w = w;
	sc.find = true;
	if (w->plans[plan]->ruled)
		apply_rules(&sc, address, &plan);
	if (sc.err)
		return sc.err;
	const struct mv_walk_plan *pl = w->plans[plan];
	*real = pl->type;
	*header = obj_header(w, pl, *address);
	/* Its bytes, as follow() counts them, bounded by its block. */
	struct mv_chunk ch;
	size_t ci;
	uint64_t room = find_chunk(w, *address, &ch, &ci) &&
				*address >= ch.mem &&
				*address - ch.mem <= ch.usable
			? ch.mem + ch.usable - *address : 0;
	struct mv_walk_obj o = {.addr = *address, .plan = plan, .count = 1};
	if (pl->size_expr || pl->fam_len) {
		uint64_t before = w->rule_cut, hinted = w->hinted;
		uint64_t c = ruled_count(w, pl, *address, room);
		w->rule_cut = before;
		w->hinted = hinted;
		o.count = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
	}
	*bytes = obj_type_bytes(w, &o);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Describing the result                                               */
/* ------------------------------------------------------------------ */

struct mv_error *mv_walk_edges_by_source(struct mv_walk *w, uint64_t **off,
					 uint32_t **adj, uint32_t **edge)
{
	size_t n = w->nobjs, m = w->nedges;
	uint64_t *o = calloc(n + 1, sizeof(*o));
	uint32_t *a = malloc((m ? m : 1) * sizeof(*a));
	uint32_t *e = malloc((m ? m : 1) * sizeof(*e));
	uint64_t *fill = malloc((n + 1) * sizeof(*fill));
	if (!o || !a || !e || !fill) {
		free(o);
		free(a);
		free(e);
		free(fill);
		return mv_enomem;
	}
	for (size_t i = 0; i < m; i++)
		if (w->edges[i].from < n)
			o[w->edges[i].from + 1]++;
	for (size_t v = 0; v < n; v++)
		o[v + 1] += o[v];
	memcpy(fill, o, (n + 1) * sizeof(*fill));
	for (size_t i = 0; i < m; i++) {
		const struct mv_walk_edge *x = &w->edges[i];
		if (x->from >= n)
			continue;
		a[fill[x->from]] = x->to < n ? x->to : UINT32_MAX;
		e[fill[x->from]++] = (uint32_t)i;
	}
	free(fill);
	*off = o;
	*adj = a;
	*edge = e;
	return NULL;
}

enum mv_walk_kind mv_walk_plan_kind(struct mv_walk *w, uint32_t plan)
{
	return w->plans[plan & ~INTERIOR_BIT]->kind;
}

const char *mv_walk_plan_name(struct mv_walk *w, uint32_t plan)
{
	return w->plans[plan & ~INTERIOR_BIT]->name;
}

uint32_t mv_walk_obj_plan(const struct mv_walk *w, size_t i)
{
	return w->objs[i].plan & ~INTERIOR_BIT;
}

struct mv_type *mv_walk_plan_type(struct mv_walk *w, uint32_t plan)
{
	return w->plans[plan & ~INTERIOR_BIT]->type;
}

uint64_t mv_walk_key(struct mv_walk *w, size_t i)
{
	return key_of(w, i);
}

uint64_t mv_walk_type_bytes(struct mv_walk *w, size_t i)
{
	struct mv_walk_obj o = w->objs[i];
	o.plan &= ~INTERIOR_BIT;
	return obj_type_bytes(w, &o);
}

uint64_t mv_walk_header(struct mv_walk *w, size_t i)
{
	const struct mv_walk_obj *o = &w->objs[i];
	return obj_header(w, w->plans[o->plan & ~INTERIOR_BIT], o->addr);
}

bool mv_walk_chunk(struct mv_walk *w, size_t i, struct mv_chunk *ret)
{
	size_t idx;
	return w->opt.find_chunk &&
	       w->opt.find_chunk(w->opt.chunk_arg, w->objs[i].addr, ret,
				 &idx) &&
	       (ret->flags & MV_CHUNK_IN_USE);
}

enum mv_walk_where mv_walk_where(struct mv_walk *w, size_t i)
{
	struct mv_chunk ch;
	return classify(w, w->objs[i].addr, mv_walk_chunk(w, i, &ch));
}

void mv_walk_label(struct mv_walk *w, size_t i, struct mv_buf *out)
{
	mv_walk_label_holder(w, i, out, NULL);
}

void mv_walk_label_holder(struct mv_walk *w, size_t i, struct mv_buf *out,
			  uint64_t *holder)
{
	mv_walk_label_named(w, i, out, holder, NULL);
}

void mv_walk_label_named(struct mv_walk *w, size_t i, struct mv_buf *out,
			 uint64_t *holder, bool *named)
{
	struct mv_walk_label_info info;
	mv_walk_label_ctx(w, i, out, &info);
	if (holder)
		*holder = info.holder;
	if (named)
		*named = info.named;
}

void mv_walk_label_ctx(struct mv_walk *w, size_t i, struct mv_buf *out,
		       struct mv_walk_label_info *info)
{
	memset(info, 0, sizeof(*info));
	if (i == 0 || i >= w->nobjs)
		return;
	struct scan sc;
	memset(&sc, 0, sizeof(sc));
	sc.w = w;
	sc.find = true;
	sc.want_key = key_of(w, i);
	sc.label = out;
	scan_object(&sc, w->objs[i].parent);
	if (!sc.found && !sc.err)
		mv_buf_puts(out, "?");
	info->holder = sc.found ? sc.found_holder : 0;
	info->named = sc.found && sc.named;
	info->up = sc.found ? sc.up : 0;
	info->above_root = sc.found && sc.above_root;
	free(sc.buf);
	if (sc.err)
		mv_error_destroy(sc.err);
}

const struct mv_rule_name *mv_walk_in_rule(struct mv_walk *w, size_t i)
{
	struct in_edge e;
	if (!w->opt.rules || !w->opt.rules->nnames)
		return NULL;
	in_edge(w, i, &e);
	return e.rule;
}

static struct mv_error *subtree_set(struct mv_subtree *s, size_t i,
				    uint64_t v)
{
	if (s->small[i] >= MV_SUBTREE_BIG) {
		s->big[s->small[i] - MV_SUBTREE_BIG] = v;
		return NULL;
	}
	if (v < MV_SUBTREE_BIG) {
		s->small[i] = (uint32_t)v;
		return NULL;
	}
	if (s->nbig >= UINT32_MAX - MV_SUBTREE_BIG)
		return mv_error_create(MV_ERR_LIMIT, "more than 2^28 objects "
				       "with 3.75 GiB below them");
	if (s->nbig == s->big_cap) {
		size_t cap = s->big_cap ? s->big_cap * 2 : 64;
		uint64_t *b = mv_big_realloc(s->big, cap, sizeof(*b));
		if (!b)
			return mv_enomem;
		s->big = b;
		s->big_cap = cap;
	}
	s->big[s->nbig] = v;
	s->small[i] = MV_SUBTREE_BIG + (uint32_t)s->nbig++;
	return NULL;
}

/* Adds v to the sum of object i. */
static inline struct mv_error *subtree_add(struct mv_subtree *s, size_t i,
					   uint64_t v)
{
	uint32_t x = s->small[i];
	if (x < MV_SUBTREE_BIG && v < MV_SUBTREE_BIG - x) {
		s->small[i] = x + (uint32_t)v;
		return NULL;
	}
	return subtree_set(s, i, mv_subtree_get(s, i) + v);
}

struct mv_error *mv_walk_subtree_sums(struct mv_walk *w,
				      struct mv_subtree *s)
{
	memset(s, 0, sizeof(*s));
	s->small = mv_big_calloc(w->nobjs ? w->nobjs : 1, sizeof(*s->small));
	if (!s->small)
		return mv_enomem;
	struct mv_error *err = NULL;
	/* Parents come before their children: one backward pass (the
	 * records are read once), each object's bytes added to what its
	 * children brought, the total then to its parent.  Sums that stay
	 * small (nearly all) take the short way. */
	for (size_t i = w->nobjs; i-- > 0;) {
		if ((err = subtree_add(s, i, w->objs[i].bytes)))
			goto fail;
		if (i && (err = subtree_add(s, w->objs[i].parent,
					    mv_subtree_get(s, i))))
			goto fail;
	}
	return NULL;
fail:
	mv_subtree_deinit(s);
	return err;
}

void mv_subtree_deinit(struct mv_subtree *s)
{
	mv_big_free(s->small);
	mv_big_free(s->big);
	memset(s, 0, sizeof(*s));
}

const char *mv_walk_problem_name(enum mv_walk_problem p)
{
	static const char *const names[] = {
		[MV_PROB_UNMAPPED] = "unmapped",
		[MV_PROB_FREE_CHUNK] = "into_free_chunk",
		[MV_PROB_CORRUPT] = "corrupt_chunk",
		[MV_PROB_MISALIGNED] = "misaligned",
		[MV_PROB_UNREADABLE] = "unreadable",
		[MV_PROB_TRUNCATED] = "truncated",
		[MV_PROB_UNTERMINATED] = "unterminated_string",
		[MV_PROB_CONTAINER] = "bad_container",
	};
	return (unsigned)p < MV_PROB_COUNT_ ? names[p] : "?";
}

const char *mv_walk_where_name(enum mv_walk_where where)
{
	static const char *const names[] = {
		[MV_WHERE_HEAP] = "heap",
		[MV_WHERE_GLOBAL] = "globals",
		[MV_WHERE_RODATA] = "rodata",
		[MV_WHERE_STACK] = "stack",
		[MV_WHERE_OTHER] = "other",
		[MV_WHERE_UNINDEXED] = "not_indexed",
	};
	return (unsigned)where < MV_WHERE_COUNT_ ? names[where] : "?";
}
