/* walk.h - the typed pointer walk behind sizeof-deep and graph.
 *
 * From a root object, follows pointers as the DWARF types say (T * to a
 * T, char * to a string, void * to an untyped heap chunk), breadth first,
 * each distinct object once.  Target data is never recursed over: the
 * object array in discovery order is the BFS queue, and a compact hash
 * of 32-bit indices into it is the visited set, so a visited object
 * costs at most 32 bytes of memview memory (see walk.c).
 *
 * Layering: walk sits on types, program (symbols) and target memory; the
 * allocator is reached through a lookup callback so that any heap model
 * (heap.h) or a test's fake can answer. */
#ifndef MV_WALK_H
#define MV_WALK_H

#include "buf.h"
#include "heap.h"
#include "file.h"
#include "memview.h"
#include "program.h"
#include "rules.h"

/* Strings are read at most this far looking for the NUL. */
#define MV_WALK_MAX_STRING (1u << 20)

enum mv_walk_unions {
	MV_WALK_UNIONS_NONE,  /* pointers inside unions are not followed */
	MV_WALK_UNIONS_FIRST, /* the first member is taken as the live one */
	MV_WALK_UNIONS_ALL,   /* every member (may follow garbage) */
};

/* Finds the chunk holding address (interior pointers map to their
 * chunk) and its index in [0, nchunks) (mv_heap_chunk_index()). */
typedef bool (*mv_walk_chunk_fn)(void *arg, uint64_t address,
				 struct mv_chunk *ret, size_t *index);
/* Returns an error (MV_ERR_INTERRUPTED) to stop the walk early. */
typedef struct mv_error *(*mv_walk_poll_fn)(void *arg);

struct mv_walk_options {
	uint64_t max_objects;  /* 0: mv_limits_max_objects() */
	uint64_t max_depth;    /* 0: no limit; the root is depth 0 */
	enum mv_walk_unions unions;
	bool conservative;     /* scan untyped chunks for pointers */
	/* A pointer to a polymorphic class is followed to the object's
	 * most-derived type (from its vtable pointer) unless this is set. */
	bool static_types;
	/* What DWARF does not say (--len, --types): NULL for none.
	 * Must outlive the walk. */
	const struct mv_rules *rules;
	bool keep_edges;       /* record every edge (graph) */
	bool unlabelled;       /* ... without their labels (label 0) */
	mv_walk_chunk_fn find_chunk; /* NULL: no allocator view */
	void *chunk_arg;
	/* find_chunk reads the chunk's header at the pointer (a lazy
	 * heap): the walk starts those cache misses ahead of the lookups. */
	bool find_reads_header;
	/* The quick answer for the common pointer (NULL: none), as
	 * mv_chunk_dir_plain gives it: whether address is the user address
	 * of an in-use chunk that find_chunk would answer with flags
	 * MV_CHUNK_IN_USE alone and usable bytes size - 8; its size and
	 * its index (below nchunks).  false leaves it to find_chunk. */
	bool (*find_plain)(void *arg, uint64_t address, uint64_t *size,
			   size_t *index);
	size_t nchunks;        /* chunk indices are below this */
	/* About how many objects the walk may meet (e.g. the heap's chunk
	 * count): the visited set is sized for min(this, max_objects) up
	 * front, so it never rehashes.  Pages of it that are never touched
	 * cost nothing.  0: grow as needed. */
	uint64_t expect_objects;
	/* The heap's ranges not indexed (mv_heap_unindexed), in address
	 * order: what lies there is "not indexed", not "other". */
	const struct mv_heap_gap *unindexed;
	size_t nunindexed;
	mv_walk_poll_fn poll;  /* called every MV_WALK_POLL_EVERY objects */
	void *poll_arg;
	/* The name rule of the edge the root was reached through (its
	 * holder's), for name rules that say "in" it; NULL: none. */
	const struct mv_rule_name *root_in;
};

#define MV_WALK_POLL_EVERY 4096u

/* Where an object lives. */
enum mv_walk_where {
	MV_WHERE_HEAP,
	MV_WHERE_GLOBAL,  /* an objfile's writable data */
	MV_WHERE_RODATA,  /* an objfile's read-only data */
	MV_WHERE_STACK,   /* a thread's stack region */
	MV_WHERE_OTHER,   /* other mappings (anonymous mmaps, ...) */
	MV_WHERE_UNINDEXED, /* the heap past an index cut by its bound */
	MV_WHERE_COUNT_
};

/* Bad pointers met on the way: counted, never followed. */
enum mv_walk_problem {
	MV_PROB_UNMAPPED,    /* points to no mapping (garbage, dangling) */
	MV_PROB_FREE_CHUNK,  /* points into a freed chunk (dangling) */
	MV_PROB_CORRUPT,     /* into a chunk whose header is corrupt */
	MV_PROB_MISALIGNED,  /* not aligned for the pointed-to type */
	MV_PROB_UNREADABLE,  /* mapped but not in the dump / not readable */
	MV_PROB_TRUNCATED,   /* object runs past readable memory */
	MV_PROB_UNTERMINATED, /* string without NUL within the bound */
	MV_PROB_CONTAINER,   /* a C++ container's own fields disagree: a
			      * vector's end before its start or past its
			      * block, a tree node met twice (a loop) */
	MV_PROB_COUNT_
};

/* What kind of thing a plan describes. */
enum mv_walk_kind {
	MV_WALK_STRING,   /* char data up to a NUL */
	MV_WALK_UNTYPED,  /* the chunk behind a void * */
	MV_WALK_BYTES,    /* unsigned char * and the like: the rest of the block */
	MV_WALK_TYPED,    /* objects of one type */
};

/* One visited object: 24 bytes. */
struct mv_walk_obj {
	uint64_t addr;     /* typed start (the root: its address) */
	uint32_t parent;   /* index of the object that found it first */
	uint32_t plan;     /* index into plans */
	uint32_t count;    /* elements (strings: bytes incl. NUL) */
	uint32_t bytes;    /* accounted bytes, saturating (chunk or type) */
};

/* An edge of the graph (keep_edges only). */
struct mv_walk_edge {
	uint32_t from, to;
	uint32_t label;    /* offset into labels */
	bool guess;        /* found by --conservative, not by a type */
	bool interior;     /* to an object met before, past its start */
	/* The label is a name that stands for the labels of this many
	 * objects above `from` too (a name rule "in" their edge: ".x" of
	 * a module for its dict's entry), and above_root: for the root's
	 * in-edge (opt.root_in) too. */
	uint8_t up;
	bool above_root;
};

/* Per plan totals: the breakdown by type. */
struct mv_walk_stat {
	uint64_t objects;
	uint64_t type_bytes;
	uint64_t alloc_bytes; /* chunk sizes of the heap objects */
	/* Objects of plain chunks found since the last fold into the
	 * totals above and the walk's (the walk folds them before it
	 * returns): two sums per object instead of ten. */
	uint64_t plain_objects, plain_chunk_bytes;
};

struct mv_walk_plan;

/* Small reads of rules' '->' terms (an object's type's flags and
 * sizes, read for every object of the type), remembered for one walk. */
#define MV_WALK_READ_CACHE 256
struct mv_walk_read_cache {
	uint64_t addr, v;
	uint32_t n;
};

struct mv_walk {
	struct mv_walk_read_cache read_cache[MV_WALK_READ_CACHE];
	struct mv_program *program;
	struct mv_target *target;
	struct mv_walk_options opt;

	struct mv_walk_obj *objs;
	size_t nobjs, objs_cap;
	/* Visited set: open addressing over indices + 1 (0 = empty), with
	 * a fingerprint of the key in the bits the indices do not need, so
	 * that a probe rarely has to look at the record. */
	uint32_t *table;
	size_t table_cap;
	unsigned idx_bits;   /* bits of an entry holding index + 1 */
	/* Heap objects are marked by chunk index in a bitmap instead (one
	 * bit per chunk of the heap: cache friendly, and no record needs
	 * to be read to answer); the table then holds the rest. */
	uint64_t *chunk_seen;
	/* The chunk directory, when it is find_chunk and chunk_seen is
	 * kept: follow_plain's lookups then need no call. */
	struct mv_chunk_dir *plain_dir;
	size_t ntable;       /* records in the table */
	/* Objects whose typed start is inside their chunk: the key for
	 * deduplication is the chunk, kept here (sorted by index). */
	struct { uint32_t index; uint64_t key; } *interior;
	size_t ninterior, interior_cap;

	struct mv_walk_plan **plans;
	size_t nplans, plans_cap;
	struct mv_walk_stat *stats; /* parallel to plans */

	struct mv_walk_edge *edges;
	size_t nedges, edges_cap;
	struct mv_buf labels;

	/* Totals. */
	uint64_t type_bytes;        /* all objects */
	uint64_t heap_objects, heap_type_bytes;
	uint64_t chunk_bytes, usable_bytes; /* heap objects' chunks */
	uint64_t where_objects[MV_WHERE_COUNT_];
	uint64_t where_bytes[MV_WHERE_COUNT_];
	uint64_t problems[MV_PROB_COUNT_];
	uint64_t guessed_single;    /* T * into a bigger chunk, no hint */
	uint64_t guessed_single_bytes; /* ... their chunks' bytes past it */
	char guessed_single_at[160];   /* the first: "struct t.field" */
	uint64_t guessed_fam;       /* flexible arrays sized by the chunk */
	uint64_t hinted;            /* pointers sized by a --len hint */
	uint64_t unions_skipped;    /* union members not followed */
	uint64_t void_nonheap;      /* void * outside the heap: not sized */
	uint64_t untyped_chunks;
	uint64_t untyped_bytes;     /* their usable bytes, not looked into */
	uint64_t guessed_edges;     /* --conservative edges */
	uint64_t fn_pointers;       /* function pointers not followed */
	uint64_t incomplete;        /* pointers to declared-only types */
	uint64_t byte_buffers;      /* unsigned char * etc.: sized by block */
	/* C++ containers (their problems are MV_PROB_CONTAINER): the names of the containers whose elements the
	 * walk cannot see (NUL-separated, each once). */
	uint64_t cxx_vectors;       /* vector buffers sized by their end */
	uint64_t dynamic_typed;     /* pointers retyped by their vtable */
	uint64_t functors_typed;    /* std::function blocks typed */
	/* Rules (--types): objects retyped by a dispatch rule, left
	 * declared because no rule named their field's value (or it could
	 * not be read), in a block too small for the real type, moved to
	 * their container; rule loops cut; members skipped by rule. */
	uint64_t dispatched, undispatched, dispatch_misfit, contained;
	uint64_t rule_loops, rule_skipped;
	uint64_t rule_cut;          /* rule lengths cut to their block */
	/* vtable address -> plan of the most-derived type (direct mapped;
	 * NO plan: not a class the walk can name). */
	struct { uint64_t vptr; uint32_t plan; } dyn_cache[256];
	uint64_t cxx_unknown_types;
	struct mv_buf cxx_unknown;
	uint64_t max_depth_seen;
	int show_depth;             /* show rules being rendered, nested */
	bool in_lookup;             /* finding an in-edge's rule (no nesting) */
	/* With kept labels and name rules that depend on the edge an
	 * object was reached through (in, TYPE.FIELD[]): each object's
	 * in-edge as the walk met it (walk.c), so that the labels are the
	 * names path-to gives. */
	struct mv_walk_in *in_edges;
	size_t in_cap;
	/* Per plan: the types whose typename rules may name its objects
	 * (mv_walk_class_name). */
	struct mv_walk_class *class_keys;
	size_t class_cap;
	bool hit_max_objects, hit_max_depth, interrupted;
	bool pseudo_root;           /* record 0 is an rvalue pointer */
	uint64_t depth_cut_pointers; /* pointers not followed: depth */
	uint64_t limit_cut_pointers; /* not followed: max objects */
	/* Stacks, for classifying non-heap objects. */
	uint64_t *stack_lo, *stack_hi;
	size_t nstacks;
};

/* Sets up a walk over the program's target.  opt is copied (hints are
 * not: they must outlive the walk). */
struct mv_error *mv_walk_init(struct mv_walk *w, struct mv_program *p,
			      const struct mv_walk_options *opt);
void mv_walk_deinit(struct mv_walk *w);

/* Walks from the object of type at address.  Limits and interruption
 * are not errors: the walk stops and says so in the flags above; only
 * out-of-memory (or an unusable root) fails. */
struct mv_error *mv_walk_run(struct mv_walk *w, struct mv_type *type,
			     uint64_t address);
/* Walks from a pointer value (an rvalue root): value is followed as a
 * type * would be, and the pointer itself is not an object. */
struct mv_error *mv_walk_run_pointer(struct mv_walk *w,
				     struct mv_type *pointer_type,
				     uint64_t value);

/* The same from many pointer values at once (gc --refcount's objects):
 * one walk, each distinct object once; record 0 (the pseudo-root) has
 * an edge to each object a value found. */
struct mv_error *mv_walk_run_pointers(struct mv_walk *w,
				      struct mv_type *pointer_type,
				      const uint64_t *values, size_t n);
/* The object at *address declared type, as the walk sees it through a
 * pointer: the rules applied (container_of may move *address), its real
 * type to *real (stripped), the bytes of header its header rule puts in
 * front of it to *header, and its bytes with them (as sizeof-deep
 * counts it, cut to its block) to *bytes.  Counts nothing.  Errors:
 * out-of-memory. */
struct mv_error *mv_walk_resolve(struct mv_walk *w, struct mv_type *type,
				 uint64_t *address, struct mv_type **real,
				 uint64_t *header, uint64_t *bytes);

/* The kept edges as a CSR graph over records: record v's successors
 * are adj[off[v]] .. adj[off[v + 1] - 1] (UINT32_MAX: none), edge[k]
 * the index in w->edges of adj[k].  The caller frees the three. */
struct mv_error *mv_walk_edges_by_source(struct mv_walk *w, uint64_t **off,
					 uint32_t **adj, uint32_t **edge);

/* Describing the result. */
enum mv_walk_kind mv_walk_plan_kind(struct mv_walk *w, uint32_t plan);
/* "struct node", "char[] (string)", "void (untyped chunk)". */
const char *mv_walk_plan_name(struct mv_walk *w, uint32_t plan);
/* Its type (stripped; NULL for strings and untyped chunks). */
struct mv_type *mv_walk_plan_type(struct mv_walk *w, uint32_t plan);
/* Object i's index in plans (objs[i].plan without the walk's flags). */
uint32_t mv_walk_obj_plan(const struct mv_walk *w, size_t i);
/* The dedup key of object i: its chunk's user address for heap objects,
 * else its address. */
uint64_t mv_walk_key(struct mv_walk *w, size_t i);
/* Type bytes of object i (sizeof times count). */
uint64_t mv_walk_type_bytes(struct mv_walk *w, size_t i);
/* The field path from object parent(i) to i, e.g. ".children[3]" or
 * "->next"; "" for the root.  Found again by rescanning the parent. */
void mv_walk_label(struct mv_walk *w, size_t i, struct mv_buf *out);
/* The same, and the address of the word holding the pointer to object i
 * to *holder (0 if not found): the deque's _M_map member for its
 * buffers. */
void mv_walk_label_holder(struct mv_walk *w, size_t i, struct mv_buf *out,
			  uint64_t *holder);
/* The same, and whether a name rule of the model named it (*named:
 * "[3]", "['key']", ".attr", or "" for a block the language does not
 * show, such as a list's item array): such labels join by plain
 * concatenation.  named and holder may be NULL. */
void mv_walk_label_named(struct mv_walk *w, size_t i, struct mv_buf *out,
			 uint64_t *holder, bool *named);
/* What mv_walk_label_ctx says of a label besides its text. */
struct mv_walk_label_info {
	uint64_t holder;     /* the word holding the pointer, or 0 */
	bool named;          /* a name rule's */
	/* The name stands for the labels of this many objects above the
	 * edge too (a name rule "in" their edge, or the elements of a
	 * block): they are dropped; above_root: and the root's in-edge
	 * (opt.root_in). */
	size_t up;
	bool above_root;
};
void mv_walk_label_ctx(struct mv_walk *w, size_t i, struct mv_buf *out,
		       struct mv_walk_label_info *info);
/* The name rule naming object i's in-edge (looking through blocks
 * named empty), for a walk from it (opt.root_in); NULL: none. */
const struct mv_rule_name *mv_walk_in_rule(struct mv_walk *w, size_t i);
/* The object at address (declared type declared) as the model's show
 * rules show it, appended to out; *ruled says whether its real type's
 * rule did (not the declared type's, nor "<TYPE at 0x...>").  False
 * when it cannot be read. */
bool mv_walk_show(struct mv_walk *w, struct mv_type *declared,
		  uint64_t address, struct mv_buf *out, bool *ruled);
/* Object i's class as the model's typename rules name it (its real
 * type's rule, else that of a type a dispatch rule made it from),
 * appended to out: false when no rule names it ("list", "Session"). */
bool mv_walk_class_name(struct mv_walk *w, size_t i, struct mv_buf *out);
/* The object edge e's label is said of: its source, or the object
 * above it that the name stands for (mv_walk_edge's up: a module for
 * its global ".x"), looking through blocks the language does not show
 * (a dict for its value "['x']", not its keys block). */
size_t mv_walk_edge_of(struct mv_walk *w, size_t e);
/* What a type column shows of object i: its class, else its plan's
 * name; the class is written in tmp (cleared first), valid until tmp
 * changes. */
const char *mv_walk_type_shown(struct mv_walk *w, size_t i,
			       struct mv_buf *tmp);
/* A name rule's template over the record at address, element index
 * (its {show}s shown by the walk's rules): false when it cannot. */
bool mv_walk_name(struct mv_walk *w, const struct mv_name_template *t,
		  uint64_t address, uint64_t index, struct mv_buf *out);
/* Bytes in front of object i that a header rule counts with it. */
uint64_t mv_walk_header(struct mv_walk *w, size_t i);
/* The chunk of object i, if it is on the heap. */
bool mv_walk_chunk(struct mv_walk *w, size_t i, struct mv_chunk *ret);
enum mv_walk_where mv_walk_where(struct mv_walk *w, size_t i);

const char *mv_walk_problem_name(enum mv_walk_problem p);
/* The class a vtable symbol is for ("_ZTVN2ns3FooE" -> "ns::Foo",
 * templates too: mv_cxx_demangle_class), or false. */
bool mv_walk_vtable_class(const char *sym, char *buf, size_t size);

/* libstdc++ helpers the walk's plans use, shared with cxxelem.c.  The
 * member called name in record, through anonymous members and bases
 * (nest: 0), its byte offset to *offset. */
const struct mv_member *mv_walk_find_member(struct mv_type *record,
					    const char *name, uint64_t *offset,
					    int nest);
/* The k-th template argument of the C++ name tn ("std::map<int, long>"),
 * split at top-level commas, into buf; false if none or too long. */
bool mv_walk_template_arg(const char *tn, unsigned k, char *buf, size_t size);
/* The type a template argument names ("Node*", "std::pair<int const,
 * long>"), stripped; NULL if the program defines none by that name. */
struct mv_type *mv_walk_cxx_type(struct mv_program *p, const char *name);
/* The type stem<argument k of tn more> ("std::_Rb_tree_node<V>"). */
struct mv_type *mv_walk_cxx_node_type(struct mv_program *p, const char *tn,
				      unsigned k, const char *stem,
				      const char *more);
const char *mv_walk_where_name(enum mv_walk_where where);

/* Subtree sums of the discovery tree: mv_subtree_get(s, i) = bytes of
 * object i and of every object it found first. */
struct mv_subtree {
	uint32_t *small;  /* the sum, or MV_SUBTREE_BIG + a slot of big */
	uint64_t *big;
	size_t nbig, big_cap;
};
#define MV_SUBTREE_BIG 0xf0000000u
/* 4 bytes per object, where 8 would put sizeof-deep past its budget of
 * 32 bytes per object: only objects with 3.75 GiB or more below them
 * take a slot of big.  Deinit frees; on failure nothing is left. */
struct mv_error *mv_walk_subtree_sums(struct mv_walk *w,
				      struct mv_subtree *s);
static inline uint64_t mv_subtree_get(const struct mv_subtree *s, size_t i)
{
	uint32_t v = s->small[i];
	return v < MV_SUBTREE_BIG ? v : s->big[v - MV_SUBTREE_BIG];
}
void mv_subtree_deinit(struct mv_subtree *s);

/* ---- shared by the commands that walk (cmd_sizeof.c, cmd_graph.c) ---- */

/* A chunk lookup for walks: per heap segment, a bitmap of chunk starts
 * with ranks, so that a lookup touches a word that stays in cache
 * instead of the index (a binary search's twenty cache lines, or one or
 * two on a shuffled heap with a directory of lines).  Answers exactly as
 * mv_heap_chunk_index + mv_heap_chunk would. */
struct mv_chunk_dir;
struct mv_error *mv_chunk_dir_create(struct mv_heap *h,
				     struct mv_chunk_dir **ret);
void mv_chunk_dir_destroy(struct mv_chunk_dir *d);
bool mv_chunk_dir_find(void *dir, uint64_t address, struct mv_chunk *ret,
		       size_t *index);
/* Whether address is the user address of a plain chunk (in use, on no
 * list, followed at once by the next chunk), from the bitmap alone:
 * sizeof-deep's short path.  mv_chunk_dir_find gives the same chunk. */
bool mv_chunk_dir_plain(void *dir, uint64_t address,
			uint64_t *size, size_t *index);

#include "command.h"
#include "expr.h"

struct mv_sizeof_setup {
	struct mv_value root;
	struct mv_rules rules;
	struct mv_heap *heap;       /* the session's; NULL when no model fits */
	struct mv_chunk_dir *dir;
	/* A lazy heap's lookups (mv_heap_lookup) go through these: the
	 * error of one (an interrupt while it builds the whole index) is
	 * kept for the walk's next poll and the run's end. */
	struct mv_cmd_ctx *ctx;
	struct mv_error *lazy_err;
	/* Its heap segments (not the mmapped chunks'), for the walk's
	 * visited bits: a chunk's "index" is its 16-byte granule counted
	 * over them (gran[i] is the count before segment i). */
	struct mv_heap_gap *segs;
	uint64_t *gran;
	size_t nsegs, last_seg; /* last_seg: the last lookup's */
	/* Lookups so far and how many the whole index is worth: past
	 * them, the rest of the walk looks up in dir, built then. */
	uint64_t lookups, lookup_budget;
	/* The model's quick check may answer (lazy_plain): the heap is
	 * lazy, has one, and no lookup failed. */
	bool plain_on;
	char heap_note[320];
	struct mv_walk walk;
	bool inited;
};

/* Evaluates ctx->pos[0], reads the walk options of sizeof-deep and
 * graph, opens the heap model. */
struct mv_error *mv_sizeof_setup(struct mv_cmd_ctx *ctx,
				 struct mv_sizeof_setup *su, bool keep_edges);
struct mv_error *mv_sizeof_run(struct mv_sizeof_setup *su);
/* The command's object model: --len, --len-file and --types (or the
 * setting, or the shipped model that fits the program), in that order,
 * into r (initialized here; on error nothing is left). */
struct mv_error *mv_sizeof_rules(struct mv_cmd_ctx *ctx, struct mv_rules *r);
void mv_sizeof_teardown(struct mv_sizeof_setup *su);
/* mv_sizeof_run for a command with no answer from part of the walk
 * (cycles, graph): an interrupted walk from root (its expression) is an
 * interrupt saying how far it got, and left, what that leaves ("no
 * cycles listed"). */
struct mv_error *mv_sizeof_run_whole(struct mv_sizeof_setup *su,
				     const char *root, const char *left);
/* The C expression of object i from root: "list_head->next(x3)". */
void mv_sizeof_path(struct mv_walk *w, const char *root, size_t i,
		    struct mv_buf *out);
/* The same; *above_root (may be NULL) says that the last name stands
 * for the root's in-edge too (the walk's opt.root_in): it replaces the
 * root's own name ("__main__" + ".x", not "__main__.__dict__" +
 * "['x']"). */
void mv_sizeof_path_ctx(struct mv_walk *w, const char *root, size_t i,
			struct mv_buf *out, bool *above_root);
extern const struct mv_option mv_sizeof_options[];
/* graph's edge labels as path-to names the hops: at[i] is edge i's
 * offset in text, or UINT32_MAX where the walk's own label (the field
 * path in the source object) stays. */
struct mv_graph_names {
	struct mv_buf text;
	uint32_t *at;
};
/* Names the tree edges that lead through a libstdc++ node container or
 * deque as sizeof-deep's paths name their objects (edgename.c):
 * "g_map[7] (node)" into a node, "g_map[7]" to what its element points
 * to, "g_deque[40..103] (buffer)".  Each container is listed once (a
 * memo), so n elements cost no n walks.  ret is initialised even on an
 * error (Ctrl-C, no memory); mv_graph_names_deinit frees it. */
struct mv_error *mv_sizeof_edge_names(struct mv_walk *w, const char *root,
				      struct mv_graph_names *ret);
void mv_graph_names_deinit(struct mv_graph_names *names);
/* The same one edge at a time (cycles names only those it prints):
 * *ret NULL when the walk has nothing to name so (no typed root). */
struct mv_edge_namer;
struct mv_error *mv_edge_namer_create(struct mv_walk *w, const char *root,
				      struct mv_edge_namer **ret);
/* Edge e's name into name; false: the walk's own label stays. */
bool mv_edge_namer_name(struct mv_edge_namer *n, size_t e,
			struct mv_buf *name);
void mv_edge_namer_destroy(struct mv_edge_namer *n);

/* ---- graph.c: export, referrers, shortest paths from roots ---- */

#define MV_GRAPH_DOT_MAX_NODES 1000

/* The walk as JSON ({"nodes": [...], "edges": [...]}, see docs/json.md;
 * limit: the heap index's limit note, or NULL) and as Graphviz DOT (at most max_nodes nodes, nearest the root
 * first; *cut says how many were left out). */
/* drain (NULL: none) takes the JSON so far now and then, and at the
 * end: it may write out and clear it (the graph goes out as it is
 * rendered) and stop the rendering with an error (an interrupt), which
 * mv_graph_render_json returns. */
typedef struct mv_error *(*mv_graph_drain_fn)(void *arg, struct mv_buf *out);
struct mv_error *mv_graph_render_json(struct mv_walk *w, const char *root,
				      const struct mv_graph_names *names,
				      const char *limit, struct mv_buf *out,
				      mv_graph_drain_fn drain, void *drain_arg);
/* How much of the walk a DOT drawing shows: the objects at most depth
 * pointers from the root (0: no bound), at most max_nodes of them. */
struct mv_graph_draw {
	size_t max_nodes;
	uint32_t depth;
	/* Filled by mv_graph_render_dot: objects drawn, and left out. */
	size_t drawn, cut;
	uint32_t deepest;      /* of the walk */
};
/* About this many boxes lay out legibly on a page: the default --svg
 * depth is the deepest level that keeps within it. */
#define MV_GRAPH_LEGIBLE_NODES 60
/* The default draw depth for w: the deepest level whose objects, with
 * all above, number at most MV_GRAPH_LEGIBLE_NODES (at least 1; 0 when
 * the whole walk fits). */
uint32_t mv_graph_legible_depth(struct mv_walk *w);
/* Objects past the drawing hang under their drawn ancestor as one
 * "N more" box each. */
struct mv_error *mv_graph_render_dot(struct mv_walk *w, const char *root,
				     const struct mv_graph_names *names,
				     struct mv_graph_draw *d,
				     struct mv_buf *out);
/* Writes buf to an open output file (file.h). */
struct mv_error *mv_graph_write_file(struct mv_outfile *o,
				     const struct mv_buf *buf);
/* Runs Graphviz, dot -Tsvg dot_path, without a shell, its standard output
 * the open file svg. */
struct mv_error *mv_graph_run_dot(const char *dot_path,
				  struct mv_outfile *svg);

enum mv_ref_kind {
	MV_REF_HEAP,     /* a word inside an in-use chunk */
	MV_REF_GLOBAL,   /* writable data of an objfile */
	MV_REF_STACK,    /* a thread's stack, from its stack pointer up */
	MV_REF_REGISTER, /* a thread's register */
	MV_REF_MAPPING,  /* another writable mapping (TLS, arenas, ...) */
};

struct mv_ref {
	enum mv_ref_kind kind;
	uint64_t holder;     /* address of the word (registers: 0) */
	uint64_t value;      /* what it holds */
	bool in_chunk;
	struct mv_chunk chunk; /* the chunk holding the word, if in_chunk */
	int32_t tid;         /* stacks and registers, else 0 */
	int reg;             /* enum mv_reg for registers, else -1 */
};

/* Calls fn for every aligned word in readable memory (in-use heap
 * chunks, then the roots of roots.h: writable mappings, thread stacks
 * above their stack pointers, registers) whose value is in [lo, hi).
 * fn returns false to stop.  heap may be NULL (then no chunks are
 * scanned).  Roots that could not be scanned are noted in skipped (may
 * be NULL).  Polls. */
struct mv_error *mv_graph_referrers(struct mv_program *p, struct mv_heap *h,
				    uint64_t lo, uint64_t hi,
				    bool (*fn)(void *arg,
					       const struct mv_ref *ref),
				    void *arg, struct mv_notes *skipped,
				    mv_walk_poll_fn poll, void *poll_arg);

/* One hop of a path from a root: holder is the word that points to the
 * next object (chunk index next_chunk, at next_mem). */
struct mv_path_hop {
	struct mv_ref from;   /* the root (hop 0) or the word in a chunk */
	uint64_t next_mem;    /* user address of the chunk pointed to */
};

/* The shortest chain of pointers from a root (global, stack, register)
 * to the chunk holding target, by breadth-first search over heap chunks
 * read as words (no types).  *nret is 0 if no root reaches it.  The
 * caller frees *ret. */
struct mv_error *mv_graph_path_to(struct mv_program *p, struct mv_heap *h,
				  uint64_t target, struct mv_path_hop **ret,
				  size_t *nret, mv_walk_poll_fn poll,
				  void *poll_arg);
/* The same bounded to max_objects chunks scanned (0: no bound);
 * *visited says how many were, *hit_max whether it stopped there
 * without an answer (either may be NULL); roots that could not be
 * scanned are noted in skipped (may be NULL). */
struct mv_error *mv_graph_path_to_max(struct mv_program *p, struct mv_heap *h,
				      uint64_t target, uint64_t max_objects,
				      struct mv_path_hop **ret, size_t *nret,
				      uint64_t *visited, bool *hit_max,
				      struct mv_notes *skipped,
				      mv_walk_poll_fn poll, void *poll_arg);
const char *mv_reg_name(int reg);

#endif
