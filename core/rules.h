/* rules.h - what DWARF does not say about a program's objects, as data
 * the walk consults: lengths as expressions over a record's members
 * (--len, and the rules files of --types, see docs/types.md).
 *
 * A length expression is compiled once against its record type into a
 * short postfix program of member reads and constants, so that the walk
 * evaluates it per object with no lookup and no allocation, bounded by
 * the bytes of the object it has read. */
#ifndef MV_RULES_H
#define MV_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memview.h"

#define MV_LEN_EXPR_MAX 64   /* terms of one expression */

enum mv_len_op {
	MV_LEN_CONST,  /* push v */
	MV_LEN_FIELD,  /* push the integer member at offset v */
	MV_LEN_DEREF,  /* pop an address, push the integer at it + v */
	MV_LEN_ADD, MV_LEN_SUB, MV_LEN_MUL, MV_LEN_DIV, MV_LEN_MOD,
	MV_LEN_SHL, MV_LEN_SHR, MV_LEN_AND, MV_LEN_OR, MV_LEN_NEG,
	MV_LEN_EQ, MV_LEN_NE, MV_LEN_LT, MV_LEN_GT, MV_LEN_LE, MV_LEN_GE,
	MV_LEN_INDEX,  /* push the element's index (name rules) */
};

struct mv_len_term {
	uint8_t op;        /* enum mv_len_op */
	uint8_t size;      /* MV_LEN_FIELD, _DEREF: 1, 2, 4 or 8 bytes */
	uint8_t shift;     /* a bit-field: its bits from the lowest read */
	uint8_t width;     /* and how many (0: not a bit-field) */
	bool is_signed;
	uint64_t v;        /* the constant, or the member's offset */
};

struct mv_len_expr {
	struct mv_len_term t[MV_LEN_EXPR_MAX];
	uint32_t n;
	uint64_t end;      /* bytes of the record it reads (max offset+size) */
};

/* The member at path ("ob_base.ob_size": members by value, anonymous
 * members and base classes looked through) of record, its offset from
 * the record's start in *offset (a bit-field's: of the byte holding its
 * first bit, bit_position % 8 its bit there).  A usage error names the part that is
 * missing ("PyObject has no member 'nosuch'"). */
struct mv_error *mv_rules_member_path(struct mv_type *record,
				      const char *path, uint64_t *offset,
				      const struct mv_member **ret);

/* The name rules know a type by: its C spelling, and for an anonymous
 * struct (typedef struct {...} PyListObject) where it was declared. */
void mv_rules_type_key(struct mv_type *t, char *buf, size_t size);

/* Compiles text ("ob_base.ob_size", "1 << dk_log2_size",
 * "(n + 1) * 2"): integer literals, member paths of record naming
 * integer, enum or pointer members (not bit-fields), + - * / % << >> &
 * | == != < > <= >= (1 or 0), unary - and parentheses.  A usage error
 * names what is wrong. */
struct mv_error *mv_len_expr_compile(struct mv_type *record, const char *text,
				     struct mv_len_expr *ret);

struct mv_session;

/* mv_len_expr_compile, and with s (NULL: none of these) the terms that
 * need the program: a pointer member followed by '->' and a member path
 * of what it points to ("ob_type->tp_basicsize"), casts of a pointer
 * ("((PyHeapTypeObject *)ob_type)->ht_cached_keys"), and a symbol's
 * address ("&subtype_dealloc"). */
struct mv_error *mv_len_expr_compile_in(struct mv_session *s,
					struct mv_type *record,
					const char *text,
					struct mv_len_expr *ret);

/* mv_len_expr_compile_in, and for name rules (rulename.c): with
 * index, the word "index" is the element's index (MV_LEN_INDEX); what
 * the expression's last pointer points to in *pointee (NULL: it is no
 * pointer's value). */
struct mv_error *mv_len_expr_compile_name(struct mv_session *s,
					  struct mv_type *record,
					  const char *text, bool index,
					  struct mv_len_expr *ret,
					  struct mv_type **pointee);

/* Reads n bytes of the target at address into buf: how many it could. */
typedef size_t (*mv_len_read_fn)(void *arg, uint64_t address, void *buf,
				 size_t n);

/* The value of a member read as size bytes: its bit-field bits when
 * width is not 0 (sign-extended when is_signed). */
uint64_t mv_rules_bits(uint64_t v, uint8_t shift, uint8_t width,
		       bool is_signed);

/* Evaluates e over the record's bytes [bytes, bytes + avail).  False
 * when a member lies past avail or a division by zero: no length.
 * Arithmetic wraps modulo 2^64; a negative result is 0; the caller
 * bounds the result. */
bool mv_len_expr_eval(const struct mv_len_expr *e, const uint8_t *bytes,
		      size_t avail, uint64_t *ret);
/* The same, reading what '->' terms point to with read (NULL: such an
 * expression has no value); false when a read falls short. */
/* An offset: as mv_len_expr_eval_read, negative results kept. */
bool mv_len_expr_eval_offset(const struct mv_len_expr *e,
			     const uint8_t *bytes, size_t avail,
			     mv_len_read_fn read, void *arg, int64_t *ret);
/* mv_len_expr_eval_offset with the element's index for "index". */
bool mv_len_expr_eval_index(const struct mv_len_expr *e,
			    const uint8_t *bytes, size_t avail,
			    mv_len_read_fn read, void *arg, uint64_t index,
			    int64_t *ret);
bool mv_len_expr_eval_read(const struct mv_len_expr *e,
			   const uint8_t *bytes, size_t avail,
			   mv_len_read_fn read, void *arg, uint64_t *ret);

/* ---- the rules a walk consults (docs/types.md) ---- */

/* len TYPE.FIELD = EXPR (and --len): the pointer at path field of type
 * ("data", "in.items") points to as many elements as expr says.  type
 * is the key of the stripped type (mv_rules_type_key: "struct vec"). */
struct mv_len_hint {
	const char *type;
	const char *field;
	const char *len;
	struct mv_len_expr expr;
};

/* dispatch TYPE.FIELD == VALUE -> REAL: an object declared TYPE whose
 * member at offset holds value is a REAL.  dispatch TYPE if COND ->
 * REAL (has_cond): one for which COND, over REAL's members (the object
 * read as a REAL), is not 0 (a subclass of a built-in type). */
struct mv_rule_dispatch {
	const char *type;
	bool has_cond;
	struct mv_len_expr cond;
	uint64_t offset;
	uint32_t size;
	uint8_t shift, width;     /* a bit-field (width 0: not one) */
	bool is_signed;
	uint64_t value;           /* a symbol's address or an integer */
	struct mv_type *real;     /* stripped */
	const char *real_name;    /* as the rule spells it (PyListObject) */
	const char *where;        /* "FILE:LINE", for notes */
};

/* container_of TYPE.FIELD: a pointer to FIELD's type (member, stripped)
 * that points into a block holding a TYPE there points to the TYPE. */
struct mv_rule_container {
	struct mv_type *member;
	struct mv_type *container; /* stripped */
	uint64_t offset;
	const char *where;
};

/* skip TYPE.FIELD: the pointers at or below the member are not
 * ownership: not followed, so not counted through it. */
struct mv_rule_skip {
	const char *type;
	const char *field;
};

/* header TYPE = HEADER: objects of TYPE have a HEADER in front of them
 * in their block (CPython's PyGC_Head), or as many bytes as an
 * expression over the object says (header PyObject = 16 * ...). */
struct mv_rule_header {
	const char *type;
	struct mv_type *header;    /* stripped; NULL: bytes says */
	struct mv_len_expr bytes;  /* header TYPE = EXPR: per object */
};

/* size TYPE = EXPR: an object of TYPE is EXPR bytes (CPython's str
 * with its characters after the struct). */
struct mv_rule_size {
	const char *type;
	struct mv_len_expr expr;
};

/* array TYPE at OFFSET = ELEM[COUNT]: COUNT ELEMs lie OFFSET bytes into
 * an object of TYPE (a dict's entries after its indices; a negative
 * OFFSET is into its header).  array TYPE at OFFSET -> ELEM[COUNT]: the
 * pointer at OFFSET points to them, in a block of their own that is
 * scanned but not counted (CPython 3.11's instance values). */
struct mv_rule_array {
	const char *type;
	struct mv_len_expr offset, count;
	bool indirect;
	/* ... chain BLOCK.SLOTS from START next LINK: the pointer points
	 * to the first of a chain of BLOCKs, each holding per_block
	 * elements at slots_offset, the next at link_offset; the COUNT
	 * elements start at element START of the first (a deque's). */
	bool chain;
	struct mv_len_expr start;
	uint64_t slots_offset, per_block, link_offset;
	struct mv_type *elem;      /* stripped */
	const char *elem_name;     /* as the rule spells it */
	const char *offset_text;   /* OFFSET as written (name rules) */
};

/* refcount TYPE.FIELD: objects of TYPE (the type the dispatch rules
 * key, PyObject) count their references in FIELD, an integer member:
 * gc --refcount runs CPython's collector over the objects the model
 * finds (refcount_model.c). */
struct mv_rule_refcount {
	const char *type;          /* key of the stripped type */
	struct mv_type *record;    /* stripped */
	const char *field;         /* as the rule spells it */
	uint64_t offset;
	uint32_t size;
	bool is_signed;
	const char *where;         /* "FILE:LINE" */
};

/* tracked HEADER.FIELD: the collector examines only the objects that
 * have a HEADER right in front of them (their header rule gives at
 * least its size) whose FIELD is not 0 (CPython's PyGC_Head._gc_next:
 * 0 when the object is not tracked). */
struct mv_rule_tracked {
	struct mv_type *header;    /* stripped */
	uint64_t offset;
	uint32_t size;
};

/* guard BYTES FILL COUNT: an allocator's debug hooks may put BYTES bytes
 * in front of each block, the last COUNT of them FILL (CPython's
 * PYTHONMALLOC=pymalloc_debug: 16, 0xfd, 7), and as many after it: gc
 * --refcount model looks for objects past them too. */
struct mv_rule_guard {
	uint32_t bytes;
	uint8_t fill;
	uint32_t count;
};

/* typeobject TYPE = EXPR: an object of TYPE is a type object (what a
 * type field may point to) when EXPR over it is not 0 (CPython 3.11:
 * its type's tp_flags has Py_TPFLAGS_TYPE_SUBCLASS, 1 << 31). */
struct mv_rule_typeobject {
	struct mv_type *record;    /* stripped */
	struct mv_len_expr expr;
};

/* ---- name and show rules (rulename.c): edges named as the program's
 * language names them ("[3]", "['key']", ".attr") ---- */

enum mv_name_kind {
	MV_NAME_TEXT_LIT,  /* literal text */
	MV_NAME_INDEX,     /* {index}: the element's index */
	MV_NAME_ADDRESS,   /* {address}: the record's, 0x... */
	MV_NAME_VALUE,     /* {value EXPR}: signed decimal */
	MV_NAME_CHARS,     /* {text OFFSET, COUNT, WIDTH}: characters */
	MV_NAME_CSTRING,   /* {cstring EXPR}: a C string at EXPR */
	MV_NAME_SHOW,      /* {show EXPR}: the object at EXPR, shown */
	MV_NAME_BARE,      /* {bare EXPR}: the same without its literals */
};

struct mv_name_part {
	uint8_t kind;            /* enum mv_name_kind */
	const char *lit;         /* MV_NAME_TEXT_LIT (owned by the rules) */
	struct mv_len_expr *e;   /* its expressions (CHARS: 3); owned */
	struct mv_type *pointee; /* SHOW, BARE: the object's declared type */
};

#define MV_NAME_MAX_PARTS 12

struct mv_name_template {
	struct mv_name_part *parts; /* owned */
	size_t nparts;
	uint64_t end;   /* bytes of the record its expressions read */
};

/* name TYPE.FIELD = TEMPLATE: the pointer at FIELD of a TYPE (each
 * element when FIELD is an array or a trailing array) is named by
 * TEMPLATE; name TYPE at OFFSET = TEMPLATE: the elements of the array
 * rule of TYPE at OFFSET are. */
struct mv_rule_name {
	const char *type;
	int64_t array;             /* the array rule's index, or -1 */
	uint64_t offset;           /* the member's */
	/* TYPE.FIELD[]: names the elements of the block FIELD points to
	 * (over TYPE, {index} the element's), standing for the block's
	 * edge too. */
	bool elements;
	/* ... in HOLDER: only in an object reached through the edge the
	 * name rule names[in] names (blocks named empty looked through),
	 * standing for that edge too; -1: everywhere. */
	int64_t in;
	struct mv_name_template t;
};

/* show TYPE [if COND] = TEMPLATE: an object of TYPE inside a name
 * ({show EXPR}); the first rule whose COND holds. */
struct mv_rule_show {
	const char *type;
	/* typename TYPE [if COND] = TEMPLATE: the object's class as the
	 * program's language names it (gc's, cycles' type column), not
	 * how it reads inside a name. */
	bool class_name;
	bool has_cond;
	struct mv_len_expr cond;
	struct mv_name_template t;
};

/* object TYPE if COND: a heap block holds an object of TYPE at the
 * first offset (at most 64) where COND holds and its header (its header
 * rule's bytes) fits in front: how referrers and path-to find the
 * object holding a word (modelref.c). */
struct mv_rule_object {
	const char *type;
	struct mv_type *ptr;       /* TYPE *, for a walk from one */
	struct mv_len_expr cond;
};

/* frames TYPE from EXPR [each OWNER.NEXT first FIRST] next FIELD live
 * FIELD[COUNT] [running F.V] name TEMPLATE [else TEMPLATE]: records of
 * TYPE chained
 * from EXPR (a pointer, evaluated as the debugger does) by the pointer
 * FIELD next,
 * each with COUNT live pointer slots at its array FIELD (an
 * interpreter's frames and their locals and value stack).  With each,
 * EXPR is the first of a chain of OWNERs (threads) along their pointer
 * NEXT, and each OWNER's chain of records starts at FIRST, an
 * expression over it.  Of the mappings holding them, only the live
 * slots are roots; the slot index of record R is named TEMPLATE over
 * R, or, where it cannot be rendered, the else TEMPLATE (modelref.c). */
struct mv_rule_frames {
	const char *type;
	struct mv_type *t;         /* stripped */
	const char *from;          /* owned */
	bool each;                 /* from is a chain of owners */
	uint64_t each_next_offset; /* an owner's NEXT */
	struct mv_len_expr first;  /* over an owner: its first record */
	uint64_t next_offset;
	uint64_t live_offset, live_stride;
	struct mv_len_expr count;
	/* running F.V (or NULL): the innermost record's live slots end
	 * where the C local V of each frame of function F points (see
	 * modelref.c), the rest of its array is stale. */
	const char *running_function, *running_variable;
	/* A slot's name; name_else (nparts 0: none) where name cannot be
	 * rendered (its reads fail: past the locals, the value stack). */
	struct mv_name_template name, name_else;
};

struct mv_buf;

/* Shows the object at address (declared type declared, stripped) for a
 * name: its show rule's text (bare: without the rule's literal text)
 * appended to out; false when it cannot. */
typedef bool (*mv_name_show_fn)(void *arg, struct mv_type *declared,
				uint64_t address, bool bare,
				struct mv_buf *out);

struct mv_name_env {
	mv_len_read_fn read;   /* the target */
	void *read_arg;
	mv_name_show_fn show;  /* NULL: {show} and {bare} fail */
	void *show_arg;
};

/* Appends TEMPLATE for the record at address (its first t->end bytes
 * in bytes[0, avail)), element index: false (out as it was) when an
 * expression has no value or a read fails.  Target text is bounded
 * (64 characters, then "...") and escaped. */
bool mv_name_render(const struct mv_name_template *t, const uint8_t *bytes,
		    size_t avail, uint64_t address, uint64_t index,
		    const struct mv_name_env *env, bool bare,
		    struct mv_buf *out);

struct mv_rules {
	/* At most one each (has_*: given). */
	bool has_refcount, has_tracked, has_guard, has_typeobject;
	struct mv_rule_typeobject typeobject;
	struct mv_rule_refcount refcount;
	struct mv_rule_tracked tracked;
	struct mv_rule_guard guard;
	struct mv_rule_object *objects;
	size_t nobjects;
	struct mv_rule_frames *frames;
	size_t nframes;
	struct mv_rule_name *names;
	size_t nnames;
	struct mv_rule_show *shows;
	size_t nshows;
	struct mv_rule_size *sizes;
	size_t nsizes;
	struct mv_rule_array *arrays;
	size_t narrays;
	struct mv_len_hint *lens;
	size_t nlens;
	struct mv_rule_dispatch *dispatch;
	size_t ndispatch;
	struct mv_rule_container *containers;
	size_t ncontainers;
	struct mv_rule_skip *skips;
	size_t nskips;
	struct mv_rule_header *headers;
	size_t nheaders;
	char **strings;            /* owned */
	size_t nstrings;
};

struct mv_session;

void mv_rules_init(struct mv_rules *r);
void mv_rules_deinit(struct mv_rules *r);
/* name and show rules (rulename.c), for mv_rules_load_file. */
struct mv_error *mv_rules_add_name(struct mv_session *s, struct mv_rules *r,
				   const char *text);
struct mv_error *mv_rules_add_show(struct mv_session *s, struct mv_rules *r,
				   const char *text);
struct mv_error *mv_rules_add_typename(struct mv_session *s,
				       struct mv_rules *r, const char *text);
struct mv_error *mv_rules_add_object(struct mv_session *s,
				     struct mv_rules *r, const char *text);
struct mv_error *mv_rules_add_frames(struct mv_session *s,
				     struct mv_rules *r, const char *text);
void mv_rules_names_deinit(struct mv_rules *r);
/* A copy of [p, p + n), blanks trimmed, owned by r (NULL: no memory). */
char *mv_rules_own(struct mv_rules *r, const char *p, size_t n);
/* A type's name (blanks trimmed) looked up, stripped: a usage error. */
struct mv_error *mv_rules_named_type(struct mv_session *s, const char *text,
				     size_t len, struct mv_type **ret);

/* Adds --len SPEC ("TYPE.FIELD=EXPR"): a usage error names spec and
 * what is wrong. */
struct mv_error *mv_rules_add_len(struct mv_session *s, struct mv_rules *r,
				  const char *spec);
/* Adds every rule of a rules file (grammar in docs/types.md): a usage
 * error says FILE:LINE and the name that is wrong.  --len-file's hint
 * lines ("TYPE.FIELD=EXPR" alone) are len rules too. */
struct mv_error *mv_rules_load_file(struct mv_session *s,
				    struct mv_rules *r, const char *path);
/* The file --types NAME means: NAME itself when it names a file (has a
 * '/' or exists), else a shipped model (MV_TYPES_DIR/NAME.types, or
 * the tree's types/ beside the library).  Writes at most size bytes. */
struct mv_error *mv_rules_find_file(const char *name, char *buf,
				    size_t size);
/* The shipped model that fits the program, or NULL: "cpython-3.11"
 * when it (or a library it loaded) is CPython 3.11 (Py_Version says
 * 3.11) with debug info for its object types. */
const char *mv_rules_auto_model(struct mv_session *s);

#endif
