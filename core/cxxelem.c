/* cxxelem.c - which element of a libstdc++ (g++ 12) container holds an
 * address, named as gdb's libstdc++ pretty printers show the container:
 * "[42]" for a
 * deque, list, forward_list, set or unordered_set (the position in
 * iteration order), "[17]" or "[\"key\"]" for a map or unordered_map (its
 * key: the mapped value, as map::operator[] and the printers' "[17] =
 * ..." mean it).  path-to uses it so that a hop through a node container
 * reads g_deque[42] and not the deque's map and buffers.
 *
 * Layouts are those of /usr/share/gcc/python/libstdcxx/v6/printers.py,
 * found through the DWARF members (walk.c's helpers).  Every loop over
 * target data is bounded by the container's own count and by a step
 * limit, and polls. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxxelem.h"
#include "program.h"
#include "target.h"
#include "walk.h"

/* Steps of a walk along a container before it gives up. */
#define ELEM_MAX_STEPS (64u << 20)
#define ELEM_POLL_EVERY 65536u

enum elem_kind {
	ELEM_NONE,
	ELEM_DEQUE,
	ELEM_LIST,
	ELEM_FLIST,
	ELEM_SET,  /* map-like tree, named by position */
	ELEM_MAP,  /* map, multimap: by key */
	ELEM_USET, /* hash table, by position */
	ELEM_UMAP, /* by key */
};

/* A container's elements listed once, by their bytes: [lo, hi) holds
 * elements of size bytes from position index on (one element of a
 * node container, a deque's buffer). */
struct memo_span {
	uint64_t lo, hi, index;
};

struct memo_one {
	uint64_t key; /* the container's first node, header or map */
	struct mv_type *type;
	uint64_t size;
	struct memo_span *spans;
	size_t n, cap;
	bool ready;
};

#define MEMO_SLOTS 8
#define MEMO_MAX_SPANS (4u << 20)

struct mv_cxx_elem_memo {
	struct memo_one slot[MEMO_SLOTS];
	unsigned next;
};

struct elem_ctx {
	struct mv_program *p;
	struct mv_cxx_elem_memo *memo;
	uint64_t block; /* the heap block holding the address, or 0 */
	struct mv_target *t;
	mv_walk_poll_fn poll;
	void *poll_arg;
	struct mv_error *err;
	uint64_t steps;
};

static const char *skip_tag(const char *n)
{
	if (!strncmp(n, "class ", 6))
		return n + 6;
	if (!strncmp(n, "struct ", 7))
		return n + 7;
	return n;
}

static enum elem_kind kind_of(const char *tn)
{
	static const struct {
		const char *prefix;
		enum elem_kind kind;
	} names[] = {
		{"std::deque<", ELEM_DEQUE},
		{"std::__cxx11::list<", ELEM_LIST},
		{"std::list<", ELEM_LIST},
		{"std::forward_list<", ELEM_FLIST},
		{"std::set<", ELEM_SET},
		{"std::multiset<", ELEM_SET},
		{"std::map<", ELEM_MAP},
		{"std::multimap<", ELEM_MAP},
		{"std::unordered_set<", ELEM_USET},
		{"std::unordered_multiset<", ELEM_USET},
		{"std::unordered_map<", ELEM_UMAP},
		{"std::unordered_multimap<", ELEM_UMAP},
	};
	tn = skip_tag(tn);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(tn, names[i].prefix, strlen(names[i].prefix)))
			return names[i].kind;
	return ELEM_NONE;
}

/* A class's name as DWARF spells it, qualified ("std::deque<...>"):
 * mv_type_name less the "class " tag, copied rather than formatted (a
 * graph asks for it at every edge into a container). */
static void class_name(struct mv_type *t, char *buf, size_t size)
{
	if (!t || !t->name || (t->kind != MV_TYPE_STRUCT &&
			       t->kind != MV_TYPE_CLASS)) {
		mv_type_name(t, buf, size);
		return;
	}
	size_t n = strlen(t->name);
	if (n >= size)
		n = size - 1;
	memcpy(buf, t->name, n);
	buf[n] = '\0';
}

bool mv_cxx_elem_container(struct mv_type *t)
{
	t = mv_type_strip(t);
	if (!t || !t->name || !strchr(t->name, '<') ||
	    (t->kind != MV_TYPE_STRUCT && t->kind != MV_TYPE_CLASS))
		return false;
	return kind_of(t->name) != ELEM_NONE;
}

static bool read_u64(struct elem_ctx *c, uint64_t addr, uint64_t *ret)
{
	struct mv_error *err = mv_target_read(c->t, addr, ret, 8);
	if (err) {
		mv_error_destroy(err);
		return false;
	}
	return true;
}

/* One more step along target data: false past the bound or on Ctrl-C
 * (kept in c->err). */
static bool step(struct elem_ctx *c)
{
	if (++c->steps > ELEM_MAX_STEPS || c->err)
		return false;
	if (c->poll && !(c->steps % ELEM_POLL_EVERY) &&
	    (c->err = c->poll(c->poll_arg)))
		return false;
	return true;
}

struct mv_cxx_elem_memo *mv_cxx_elem_memo_create(void)
{
	return calloc(1, sizeof(struct mv_cxx_elem_memo));
}

void mv_cxx_elem_memo_destroy(struct mv_cxx_elem_memo *m)
{
	for (unsigned i = 0; m && i < MEMO_SLOTS; i++)
		free(m->slot[i].spans);
	free(m);
}

/* The memo of the container known by key (its elements of type t),
 * listed already (ready) or to be listed now (the oldest slot
 * reused); NULL without a memo. */
static struct memo_one *memo_slot(struct elem_ctx *c, uint64_t key,
				  struct mv_type *t)
{
	if (!c->memo)
		return NULL;
	for (unsigned i = 0; i < MEMO_SLOTS; i++)
		if (c->memo->slot[i].ready && c->memo->slot[i].key == key &&
		    c->memo->slot[i].type == t)
			return &c->memo->slot[i];
	struct memo_one *m = &c->memo->slot[c->memo->next++ % MEMO_SLOTS];
	m->key = key;
	m->type = t;
	m->size = t->size;
	m->n = 0;
	m->ready = false;
	return m;
}

/* Records [lo, hi) as the elements from position index on. */
static void memo_add(struct memo_one *m, uint64_t lo, uint64_t hi,
		     uint64_t index)
{
	if (!m || m->ready || m->n >= MEMO_MAX_SPANS)
		return;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		void *s = realloc(m->spans, cap * sizeof(*m->spans));
		if (!s)
			return;
		m->spans = s;
		m->cap = cap;
	}
	m->spans[m->n++] = (struct memo_span){lo, hi, index};
}

static int span_cmp(const void *a, const void *b)
{
	const struct memo_span *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The listing is done: sorted by address for memo_find. */
static void memo_ready(struct memo_one *m)
{
	qsort(m->spans, m->n, sizeof(*m->spans), span_cmp);
	m->ready = true;
}

/* The element whose bytes hold at, from the listing. */
static bool memo_find(const struct memo_one *m, uint64_t at,
		      struct mv_cxx_elem *ret)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->spans[mid].lo <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || at >= m->spans[lo - 1].hi || !m->size)
		return false;
	const struct memo_span *s = &m->spans[lo - 1];
	ret->index = s->index + (at - s->lo) / m->size;
	ret->addr = s->lo + (at - s->lo) / m->size * m->size;
	ret->type = m->type;
	return true;
}

/* The member path outer.inner of record: its offset, or false. */
static bool offset_of(struct mv_type *record, const char *outer,
		      const char *inner, uint64_t *ret)
{
	uint64_t o1, o2 = 0;
	const struct mv_member *m = mv_walk_find_member(record, outer, &o1, 0);
	if (!m || (inner && !mv_walk_find_member(mv_type_strip(m->type),
						 inner, &o2, 0)))
		return false;
	*ret = o1 + o2;
	return true;
}

/* A node type's value: its type and the offset of _M_storage. */
static bool node_value(struct mv_program *p, struct mv_type *node,
		       struct mv_type **value, uint64_t *off)
{
	char tn[MV_EVAL_TYPE_NAME_MAX], arg[MV_EVAL_TYPE_NAME_MAX];
	if (!node)
		return false;
	class_name(node, tn, sizeof(tn));
	if (!mv_walk_template_arg(tn, 0, arg, sizeof(arg)) ||
	    !(*value = mv_walk_cxx_type(p, arg)) || !(*value)->size)
		return false;
	return mv_walk_find_member(node, "_M_storage", off, 0) != NULL;
}

/* A deque: the index of the element at, from the iterators and the map
 * (bounded by the map's used nodes). */
static bool deque_elem(struct elem_ctx *c, struct mv_type *ct,
		       const char *tn, uint64_t ca, uint64_t at,
		       struct mv_cxx_elem *ret)
{
	char arg[MV_EVAL_TYPE_NAME_MAX];
	uint64_t om, it[8];
	struct mv_type *et = mv_walk_template_arg(tn, 0, arg, sizeof(arg))
				     ? mv_walk_cxx_type(c->p, arg) : NULL;
	if (!et || !et->size || !offset_of(ct, "_M_impl", "_M_map", &om))
		return false;
	/* _M_start and _M_finish: cur, first, last, node each. */
	for (int i = 0; i < 8; i++)
		if (!read_u64(c, ca + om + 16 + 8 * (uint64_t)i, &it[i]))
			return false;
	uint64_t size = et->size;
	uint64_t per = size < 512 ? 512 / size : 1;
	uint64_t skip = (it[0] - it[1]) / size;
	if (it[3] > it[7] || it[0] < it[1])
		return false;
	struct memo_one *m = memo_slot(c, ca + om, et);
	if (m && m->ready)
		return memo_find(m, at, ret);
	for (uint64_t node = it[3], k = 0; node <= it[7]; node += 8, k++) {
		uint64_t buf;
		if (!step(c) || !read_u64(c, node, &buf))
			break;
		/* The first buffer from the start, the last to the end. */
		uint64_t lo = node == it[3] ? it[0] : buf;
		uint64_t hi = node == it[7] ? it[4] : buf + per * size;
		if (lo < buf || hi > buf + per * size || lo > hi)
			break;
		memo_add(m, lo, hi, k * per + (lo - buf) / size - skip);
		if (m || at < lo || at >= hi)
			continue;
		ret->index = k * per + (at - buf) / size - skip;
		ret->addr = buf + (at - buf) / size * size;
		ret->type = et;
		return true;
	}
	if (!m)
		return false;
	memo_ready(m);
	return memo_find(m, at, ret);
}

/* Follows a container's chain of nodes from first (a list ends at
 * stop, a forward_list or hash table at 0), counting them, to the node
 * whose value holds at. */
static bool chain_elem(struct elem_ctx *c, uint64_t first, uint64_t stop,
		       uint64_t count, struct mv_type *node,
		       uint64_t node_off, uint64_t at,
		       struct mv_cxx_elem *ret)
{
	struct mv_type *vt;
	uint64_t so;
	if (!node_value(c->p, node, &vt, &so))
		return false;
	/* Nodes are blocks of their own: a word outside the block's value
	 * is a link, no element (no walk). */
	if (c->block && (at < c->block - node_off + so ||
			 at >= c->block - node_off + so + vt->size))
		return false;
	struct memo_one *m = memo_slot(c, first, vt);
	if (m && m->ready)
		return memo_find(m, at, ret);
	uint64_t n = first;
	for (uint64_t i = 0; n && n != stop && i <= count; i++) {
		uint64_t v = n - node_off + so;
		memo_add(m, v, v + vt->size, i);
		if (!m && at >= v && at < v + vt->size) {
			ret->index = i;
			ret->addr = v;
			ret->type = vt;
			return true;
		}
		if (!step(c) || !read_u64(c, n, &n))
			break;
	}
	if (!m)
		return false;
	memo_ready(m);
	return memo_find(m, at, ret);
}

/* The in-order successor of a tree node (libstdc++'s
 * _Rb_tree_increment over _M_parent at +8, _M_left +16, _M_right +24),
 * bounded by step(). */
static bool tree_next(struct elem_ctx *c, uint64_t header, uint64_t *x)
{
	uint64_t r, y, l, yr;
	if (!read_u64(c, *x + 24, &r))
		return false;
	if (r) {
		*x = r;
		while (step(c) && read_u64(c, *x + 16, &l) && l)
			*x = l;
		return !c->err && c->steps <= ELEM_MAX_STEPS;
	}
	if (!read_u64(c, *x + 8, &y))
		return false;
	while (y && y != header && step(c) && read_u64(c, y + 24, &yr) &&
	       *x == yr) {
		*x = y;
		if (!read_u64(c, y + 8, &y))
			return false;
	}
	if (c->err || c->steps > ELEM_MAX_STEPS || !y)
		return false;
	/* The header's right is the rightmost node: the end. */
	if (!read_u64(c, *x + 24, &r))
		return false;
	if (r != y)
		*x = y;
	return true;
}

/* A map's node known by its block: its value, if it holds at. */
static bool block_elem(struct elem_ctx *c, struct mv_type *node, uint64_t at,
		       struct mv_cxx_elem *ret)
{
	struct mv_type *vt;
	uint64_t so;
	if (!node_value(c->p, node, &vt, &so) || at < c->block + so ||
	    at >= c->block + so + vt->size)
		return false;
	ret->addr = c->block + so;
	ret->type = vt;
	ret->index = UINT64_MAX;
	return true;
}

static bool tree_elem(struct elem_ctx *c, struct mv_type *tree,
		      const char *tree_tn, uint64_t ta, uint64_t at,
		      bool by_key, struct mv_cxx_elem *ret)
{
	uint64_t oh, oc, count, x;
	struct mv_type *node = mv_walk_cxx_node_type(c->p, tree_tn, 1,
						     "std::_Rb_tree_node", "");
	if (!offset_of(tree, "_M_impl", "_M_header", &oh) ||
	    !offset_of(tree, "_M_impl", "_M_node_count", &oc) ||
	    !read_u64(c, ta + oc, &count) || !read_u64(c, ta + oh + 16, &x))
		return false;
	struct mv_type *vt;
	uint64_t so;
	if (!node_value(c->p, node, &vt, &so))
		return false;
	uint64_t header = ta + oh;
	if (c->block && (at < c->block + so || at >= c->block + so + vt->size))
		return false;
	if (c->block && by_key) {
		/* Named by its key: no walk for the position. */
		ret->addr = c->block + so;
		ret->type = vt;
		ret->index = UINT64_MAX;
		return true;
	}
	struct memo_one *m = memo_slot(c, header, vt);
	if (m && m->ready)
		return memo_find(m, at, ret);
	for (uint64_t i = 0; x && x != header && i < count; i++) {
		memo_add(m, x + so, x + so + vt->size, i);
		if (!m && at >= x + so && at < x + so + vt->size) {
			ret->index = i;
			ret->addr = x + so;
			ret->type = vt;
			return true;
		}
		if (!step(c) || !tree_next(c, header, &x))
			break;
	}
	if (!m)
		return false;
	memo_ready(m);
	return memo_find(m, at, ret);
}

/* A key as gdb prints it: an integer or enum in decimal, a pointer in
 * hex, a std::string quoted.  False for other keys (named by position). */
static bool render_key(struct elem_ctx *c, struct mv_type *pair,
		       uint64_t pa, struct mv_buf *out)
{
	uint64_t ko;
	const struct mv_member *m = mv_walk_find_member(pair, "first", &ko, 0);
	struct mv_type *kt = m ? mv_type_strip(m->type) : NULL;
	if (!kt)
		return false;
	uint8_t b[8] = {0};
	if ((kt->kind == MV_TYPE_INT || kt->kind == MV_TYPE_ENUM ||
	     kt->kind == MV_TYPE_BOOL || kt->kind == MV_TYPE_POINTER) &&
	    kt->size && kt->size <= 8) {
		struct mv_error *err = mv_target_read(c->t, pa + ko, b,
						      kt->size);
		if (err) {
			mv_error_destroy(err);
			return false;
		}
		uint64_t v = 0;
		memcpy(&v, b, kt->size);
		if (kt->kind == MV_TYPE_POINTER) {
			mv_buf_printf(out, "[0x%" PRIx64 "]", v);
		} else if (kt->is_signed && kt->size < 8 &&
			   (v >> (kt->size * 8 - 1)) & 1) {
			v |= ~0ull << (kt->size * 8);
			mv_buf_printf(out, "[%" PRId64 "]", (int64_t)v);
		} else if (kt->is_signed) {
			mv_buf_printf(out, "[%" PRId64 "]", (int64_t)v);
		} else {
			mv_buf_printf(out, "[%" PRIu64 "]", v);
		}
		return true;
	}
	char tn[MV_EVAL_TYPE_NAME_MAX];
	class_name(kt, tn, sizeof(tn));
	const char *n = skip_tag(tn);
	uint64_t op, ol, ptr, len;
	if (strncmp(n, "std::__cxx11::basic_string<char,", 32) ||
	    !offset_of(kt, "_M_dataplus", "_M_p", &op) ||
	    !offset_of(kt, "_M_string_length", NULL, &ol) ||
	    !read_u64(c, pa + ko + op, &ptr) ||
	    !read_u64(c, pa + ko + ol, &len) || len > 200)
		return false;
	char s[200];
	struct mv_error *err = mv_target_read(c->t, ptr, s, len);
	if (err) {
		mv_error_destroy(err);
		return false;
	}
	mv_buf_puts(out, "[\"");
	for (uint64_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			mv_buf_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			mv_buf_printf(out, "\\%03o", ch);
		else
			mv_buf_printf(out, "%c", ch);
	}
	mv_buf_puts(out, "\"]");
	return true;
}

struct mv_error *mv_cxx_elem_find(struct mv_program *p, struct mv_type *ct,
				  uint64_t ca, uint64_t at, uint64_t block,
				  struct mv_cxx_elem_memo *memo,
				  mv_walk_poll_fn poll, void *poll_arg,
				  struct mv_buf *name, struct mv_cxx_elem *ret)
{
	char tn[MV_EVAL_TYPE_NAME_MAX], inner_tn[MV_EVAL_TYPE_NAME_MAX];
	struct elem_ctx c = {.p = p, .t = mv_program_target(p), .block = block,
			     .memo = memo, .poll = poll, .poll_arg = poll_arg};
	memset(ret, 0, sizeof(*ret));
	ct = mv_type_strip(ct);
	if (!ct || !c.t)
		return NULL;
	class_name(ct, tn, sizeof(tn));
	enum elem_kind kind = kind_of(tn);
	uint64_t o1, o2, first, count = ELEM_MAX_STEPS;
	struct mv_type *inner = NULL, *node = NULL;
	bool found = false;
	/* The tree or hash table inside a map, set or unordered_*. */
	if (kind == ELEM_SET || kind == ELEM_MAP || kind == ELEM_USET ||
	    kind == ELEM_UMAP) {
		const char *m = kind == ELEM_SET || kind == ELEM_MAP ? "_M_t"
								    : "_M_h";
		const struct mv_member *mm = mv_walk_find_member(ct, m, &o1, 0);
		if (!mm || !(inner = mv_type_strip(mm->type)))
			return NULL;
		class_name(inner, inner_tn, sizeof(inner_tn));
	}
	switch (kind) {
	case ELEM_DEQUE:
		found = deque_elem(&c, ct, tn, ca, at, ret);
		break;
	case ELEM_LIST:
		node = mv_walk_cxx_node_type(p, skip_tag(tn), 0,
					     "std::_List_node", "");
		if (offset_of(ct, "_M_impl", "_M_node", &o1) &&
		    read_u64(&c, ca + o1, &first))
			found = chain_elem(&c, first, ca + o1, count, node, 0,
					   at, ret);
		break;
	case ELEM_FLIST:
		node = mv_walk_cxx_node_type(p, skip_tag(tn), 0,
					     "std::_Fwd_list_node", "");
		if (offset_of(ct, "_M_impl", "_M_head", &o1) &&
		    read_u64(&c, ca + o1, &first))
			found = chain_elem(&c, first, 0, count, node, 0, at,
					   ret);
		break;
	case ELEM_SET:
	case ELEM_MAP:
		found = tree_elem(&c, inner, skip_tag(inner_tn), ca + o1, at,
				  kind == ELEM_MAP, ret);
		break;
	case ELEM_USET:
	case ELEM_UMAP:
		node = mv_walk_cxx_node_type(p, skip_tag(inner_tn), 1,
					     "std::__detail::_Hash_node",
					     ", false");
		if (!node)
			node = mv_walk_cxx_node_type(
				p, skip_tag(inner_tn), 1,
				"std::__detail::_Hash_node", ", true");
		if (kind == ELEM_UMAP && block) {
			found = block_elem(&c, node, at, ret);
			break;
		}
		if (offset_of(inner, "_M_before_begin", "_M_nxt", &o2) &&
		    offset_of(inner, "_M_element_count", NULL, &first) &&
		    read_u64(&c, ca + o1 + first, &count) &&
		    read_u64(&c, ca + o1 + o2, &first))
			found = chain_elem(&c, first, 0, count, node, 0, at,
					   ret);
		break;
	case ELEM_NONE:
		break;
	}
	if (c.err || !found)
		return c.err;
	ret->found = true;
	ret->mapped = kind == ELEM_MAP || kind == ELEM_UMAP;
	if (ret->mapped && render_key(&c, ret->type, ret->addr, name))
		return NULL;
	ret->mapped = false;
	if (ret->index == UINT64_MAX) {
		/* Found by its block, and its key has no spelling: its
		 * position, after all. */
		c.block = 0;
		c.steps = 0;
		if (kind == ELEM_MAP)
			found = tree_elem(&c, inner, skip_tag(inner_tn),
					  ca + o1, at, false, ret);
		else
			found = offset_of(inner, "_M_before_begin", "_M_nxt",
					  &o2) &&
				offset_of(inner, "_M_element_count", NULL,
					  &first) &&
				read_u64(&c, ca + o1 + first, &count) &&
				read_u64(&c, ca + o1 + o2, &first) &&
				chain_elem(&c, first, 0, count, node, 0, at,
					   ret);
		if (c.err || !found) {
			ret->found = false;
			return c.err;
		}
	}
	mv_buf_printf(name, "[%" PRIu64 "]", ret->index);
	return NULL;
}
