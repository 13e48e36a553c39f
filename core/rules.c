/* rules.c - member paths and length expressions (see rules.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "expr.h"
#include "file.h"
#include "program.h"
#include "rules.h"
#include "session.h"

#define PATH_MAX_PARTS 16    /* "a.b.c": members by value, bounded */
#define LOOK_MAX_NEST 16     /* anonymous members and bases, bounded */
#define EXPR_MAX_NEST 16     /* parentheses */

static bool is_record(const struct mv_type *t)
{
	return t && (t->kind == MV_TYPE_STRUCT || t->kind == MV_TYPE_CLASS ||
		     t->kind == MV_TYPE_UNION);
}

/* The member called name in record, looking through anonymous members
 * and base classes; its offset from the record's start to *offset. */
static const struct mv_member *find_named(struct mv_type *record,
					  const char *name, size_t len,
					  uint64_t *offset, int nest)
{
	if (!is_record(record) || nest > LOOK_MAX_NEST)
		return NULL;
	for (size_t i = 0; i < record->nmembers; i++) {
		const struct mv_member *m = &record->members[i];
		if (m->name && strlen(m->name) == len &&
		    !memcmp(m->name, name, len)) {
			*offset = m->bit_position / 8;
			return m;
		}
	}
	for (size_t i = 0; i < record->nmembers; i++) {
		const struct mv_member *m = &record->members[i];
		uint64_t inner;
		if (m->name || (m->flags & MV_MEMBER_VIRTUAL_BASE))
			continue;
		const struct mv_member *f = find_named(
			mv_type_strip(m->type), name, len, &inner, nest + 1);
		if (f) {
			*offset = m->bit_position / 8 + inner;
			return f;
		}
	}
	return NULL;
}

static struct mv_error *no_member(struct mv_type *t, const char *name,
				  size_t len)
{
	char tn[MV_EVAL_TYPE_NAME_MAX];
	mv_type_name(t, tn, sizeof(tn));
	if (!is_record(t))
		return mv_error_create(MV_ERR_USAGE,
				       "%s is not a struct, class or union: "
				       "no member '%.*s'", tn, (int)len, name);
	return mv_error_create(MV_ERR_USAGE, "%s has no member '%.*s'", tn,
			       (int)len, name);
}

struct mv_error *mv_rules_member_path(struct mv_type *record,
				      const char *path, uint64_t *offset,
				      const struct mv_member **ret)
{
	struct mv_type *t = mv_type_strip(record);
	uint64_t off = 0;
	const struct mv_member *m = NULL;
	const char *p = path;
	for (int part = 0;; part++) {
		size_t len = strcspn(p, ".");
		if (!len || part == PATH_MAX_PARTS)
			return mv_error_create(MV_ERR_USAGE,
					       "bad member path '%s'", path);
		uint64_t o;
		m = find_named(t, p, len, &o, 0);
		if (!m)
			return no_member(t, p, len);
		off += o;
		if (!p[len])
			break;
		t = mv_type_strip(m->type);
		p += len + 1;
	}
	*offset = off;
	*ret = m;
	return NULL;
}

void mv_rules_type_key(struct mv_type *t, char *buf, size_t size)
{
	size_t n = mv_type_name(t, buf, size);
	/* typedef struct {...} PyListObject: one definition per compile
	 * unit, all anonymous; where it was declared tells them apart
	 * from other anonymous structs and joins its copies. */
	if (n < size && strstr(buf, "{...}") && t->decl_file)
		snprintf(buf + n, size - n, "@%s:%u", t->decl_file,
			 t->decl_line);
}

/* ---- length expressions: recursive descent over the user's text,
 * bounded by EXPR_MAX_NEST (never over target data) ---- */

struct parser {
	struct mv_session *s;     /* NULL: no '->', casts nor symbols */
	struct mv_type *record;
	const char *text, *p;
	struct mv_len_expr *e;
	int nest;
	struct mv_type *pointee;  /* of the primary just parsed, or NULL */
	bool index;               /* "index" is the element's (names) */
	struct mv_member bits;    /* the member just read, if a bit-field */
};

static unsigned bit_field_bytes(const struct mv_member *m);
static struct mv_error *subscript(struct parser *ps, const char *path,
				  bool trailing, uint64_t *off,
				  struct mv_type **t);
static bool is_trailing(struct mv_type *record, const struct mv_member *m);

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static struct mv_error *emit(struct parser *ps, struct mv_len_term t)
{
	if (ps->e->n == MV_LEN_EXPR_MAX)
		return mv_error_create(MV_ERR_USAGE,
				       "length expression '%s' is too long "
				       "(at most %u terms)", ps->text,
				       MV_LEN_EXPR_MAX);
	ps->e->t[ps->e->n++] = t;
	return NULL;
}

static struct mv_error *parse_or(struct parser *ps);

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A member path of record at ps->p: its offset, and its type checked to
 * be an integer or a pointer an expression can read; ps->pointee is
 * what a pointer points to. */
static struct mv_error *member_term(struct parser *ps, struct mv_type *record,
				    uint64_t *off, struct mv_type **ret)
{
	const char *start = ps->p;
	while (is_name_char(*ps->p) || *ps->p == '.')
		ps->p++;
	char *path = strndup(start, (size_t)(ps->p - start));
	if (!path)
		return mv_enomem;
	const struct mv_member *m;
	struct mv_error *err = mv_rules_member_path(record, path, off, &m);
	struct mv_type *t = err ? NULL : mv_type_strip(m->type);
	if (!err && *ps->p == '[')
		err = subscript(ps, path, !strchr(path, '.') &&
					  is_trailing(mv_type_strip(record), m),
				off, &t);
	if (!err && (!t || (t->kind != MV_TYPE_INT &&
			    t->kind != MV_TYPE_ENUM && t->kind != MV_TYPE_BOOL &&
			    t->kind != MV_TYPE_POINTER) ||
		     (m->bit_size && !bit_field_bytes(m)) ||
		     !t->size || t->size > 8 || (t->size & (t->size - 1))))
		err = mv_error_create(MV_ERR_USAGE,
				      "member '%s' is not an integer a "
				      "length can be read from", path);
	free(path);
	if (err)
		return err;
	ps->pointee = t->kind == MV_TYPE_POINTER
			      ? mv_type_strip(mv_type_target(t)) : NULL;
	ps->bits = m->bit_size ? *m : (struct mv_member){0};
	*ret = t;
	return NULL;
}

/* Whether m is record's last member (a trailing array, PyObject
 * *ob_item[1], holds more elements than it declares). */
static bool is_trailing(struct mv_type *record, const struct mv_member *m)
{
	for (size_t i = 0; is_record(record) && i < record->nmembers; i++)
		if (record->members[i].bit_position > m->bit_position)
			return false;
	return is_record(record);
}

/* "[N]" after an array member ("ob_digit[0]"): its element N, at a
 * constant index within the array's declared count (any, at most 2^20,
 * of a trailing array: "gi_iframe[8]"). */
static struct mv_error *subscript(struct parser *ps, const char *path,
				  bool trailing, uint64_t *off,
				  struct mv_type **t)
{
	char *end;
	unsigned long long n = strtoull(ps->p + 1, &end, 10);
	struct mv_type *e = (*t && (*t)->kind == MV_TYPE_ARRAY)
				    ? mv_type_strip(mv_type_target(*t)) : NULL;
	if (end == ps->p + 1 || *end != ']' || !e || !e->size ||
	    (!trailing && (*t)->has_count && (*t)->count &&
	     n >= (*t)->count) ||
	    n > (1u << 20))
		return mv_error_create(MV_ERR_USAGE, "member '%s' is not an "
				       "array with an element %.*s", path,
				       (int)strcspn(ps->p, "]") + 1, ps->p);
	ps->p = end + 1;
	*off += n * e->size;
	*t = e;
	return NULL;
}

/* The bytes (1, 2, 4 or 8) to read for a bit-field from the byte
 * holding its first bit; 0 when it spans more than 8. */
static unsigned bit_field_bytes(const struct mv_member *m)
{
	unsigned bits = (unsigned)(m->bit_position % 8) + m->bit_size;
	for (unsigned n = 1; n <= 8; n *= 2)
		if (bits <= n * 8)
			return n;
	return 0;
}

uint64_t mv_rules_bits(uint64_t v, uint8_t shift, uint8_t width,
		       bool is_signed)
{
	if (!width || width >= 64)
		return v;
	v = (v >> shift) & ((1ull << width) - 1);
	if (is_signed && (v >> (width - 1)))
		v |= ~0ull << width;
	return v;
}

/* The term reading member m of type t at off (a bit-field's bits). */
static struct mv_len_term read_term(uint8_t op, const struct mv_member *bits,
				    const struct mv_type *t, uint64_t off)
{
	struct mv_len_term r = {.op = op, .size = (uint8_t)t->size,
				.is_signed = t->is_signed, .v = off};
	if (bits->bit_size) {
		r.size = (uint8_t)bit_field_bytes(bits);
		r.shift = (uint8_t)(bits->bit_position % 8);
		r.width = (uint8_t)bits->bit_size;
	}
	return r;
}

static struct mv_error *parse_member(struct parser *ps)
{
	uint64_t off;
	struct mv_type *t;
	struct mv_error *err = member_term(ps, ps->record, &off, &t);
	if (err)
		return err;
	struct mv_len_term term = read_term(MV_LEN_FIELD, &ps->bits, t, off);
	if (off + term.size > ps->e->end)
		ps->e->end = off + term.size;
	return emit(ps, term);
}

/* "->path" after a pointer: the member of what it points to. */
static struct mv_error *parse_arrows(struct parser *ps)
{
	for (;;) {
		skip_space(ps);
		if (ps->p[0] != '-' || ps->p[1] != '>')
			return NULL;
		if (!ps->s)
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s': '->' "
					       "needs a program", ps->text);
		if (!ps->pointee || !is_record(ps->pointee))
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s': '->' "
					       "after what is not a pointer to "
					       "a struct, at '%s'", ps->text,
					       ps->p);
		ps->p += 2;
		skip_space(ps);
		uint64_t off;
		struct mv_type *t;
		struct mv_error *err = member_term(ps, ps->pointee, &off, &t);
		if (!err)
			err = emit(ps, read_term(MV_LEN_DEREF, &ps->bits, t,
						 off));
		if (err)
			return err;
	}
}

/* "(TYPE *)" at ps->p: a cast, its pointee in *ret; false (and p where
 * it was) when the parenthesis is not one. */
static struct mv_error *parse_cast(struct parser *ps, bool *is_cast,
				   struct mv_type **ret)
{
	*is_cast = false;
	const char *q = ps->p + 1, *close = strchr(q, ')');
	if (!ps->s || !close)
		return NULL;
	const char *star = close;
	while (star > q && (star[-1] == ' ' || star[-1] == '\t'))
		star--;
	if (star == q || star[-1] != '*')
		return NULL;
	for (const char *c = q; c < star - 1; c++)
		if (!is_name_char(*c) && *c != ' ' && *c != '\t')
			return NULL;
	char *name = strndup(q, (size_t)(star - 1 - q));
	if (!name)
		return mv_enomem;
	struct mv_type *t;
	struct mv_error *err = mv_session_parse_type(ps->s, name, &t);
	free(name);
	if (err) {
		if (mv_error_code(err) == MV_ERR_NOMEM)
			return err;
		struct mv_error *u = mv_error_create(
			MV_ERR_USAGE, "length expression '%s': %s", ps->text,
			mv_error_message(err));
		mv_error_destroy(err);
		return u;
	}
	*is_cast = true;
	*ret = mv_type_strip(t);
	ps->p = close + 1;
	return NULL;
}

static struct mv_error *parse_unary(struct parser *ps);

/* A symbol's address: in the library a "from LIB" rule is read for
 * first (its own scanner_dealloc, not the executable's), then as
 * everywhere. */
static bool find_symbol(struct mv_session *s, const char *name,
			uint64_t *addr)
{
	uint64_t size;
	return (s->rules_scope &&
		mv_objfile_find_symbol(s->rules_scope, name, addr, &size)) ||
	       mv_program_find_symbol(s->program, name, addr, &size);
}

static struct mv_error *parse_primary(struct parser *ps)
{
	skip_space(ps);
	ps->pointee = NULL;
	struct mv_error *err;
	if (*ps->p == '(') {
		bool is_cast;
		struct mv_type *to;
		if ((err = parse_cast(ps, &is_cast, &to)))
			return err;
		if (is_cast) {
			if ((err = parse_unary(ps)))
				return err;
			ps->pointee = to;
			return NULL;
		}
		if (++ps->nest > EXPR_MAX_NEST)
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s' nests "
					       "too deep", ps->text);
		ps->p++;
		if ((err = parse_or(ps)))
			return err;
		skip_space(ps);
		if (*ps->p != ')')
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s': ')' "
					       "expected at '%s'", ps->text,
					       *ps->p ? ps->p : "its end");
		ps->p++;
		ps->nest--;
		/* ((T *)p)->m: the cast's pointee is the group's. */
		return NULL;
	}
	if (*ps->p == '&' && ps->s) {
		ps->p++;
		skip_space(ps);
		const char *start = ps->p;
		while (is_name_char(*ps->p))
			ps->p++;
		char *sym = strndup(start, (size_t)(ps->p - start));
		uint64_t addr;
		if (!sym)
			return mv_enomem;
		bool found = *sym && find_symbol(ps->s, sym, &addr);
		err = found ? NULL
			    : mv_error_create(MV_ERR_USAGE, "no symbol '%s'",
					      sym);
		free(sym);
		return err ? err
			   : emit(ps, (struct mv_len_term){.op = MV_LEN_CONST,
							   .v = addr});
	}
	if (isdigit((unsigned char)*ps->p)) {
		char *end;
		uint64_t v = strtoull(ps->p, &end, 0);
		if (is_name_char(*end))
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s': bad "
					       "number at '%s'", ps->text,
					       ps->p);
		ps->p = end;
		return emit(ps, (struct mv_len_term){.op = MV_LEN_CONST,
						     .v = v});
	}
	if (ps->index && !strncmp(ps->p, "index", 5) &&
	    !is_name_char(ps->p[5]) && ps->p[5] != '.') {
		ps->p += 5;
		return emit(ps, (struct mv_len_term){.op = MV_LEN_INDEX});
	}
	if (isalpha((unsigned char)*ps->p) || *ps->p == '_')
		return parse_member(ps);
	return mv_error_create(MV_ERR_USAGE,
			       "length expression '%s': a member, a number "
			       "or '(' expected at '%s'", ps->text,
			       *ps->p ? ps->p : "its end");
}

/* A primary with its '->' members, or a negated one. */
static struct mv_error *parse_unary(struct parser *ps)
{
	skip_space(ps);
	struct mv_error *err;
	if (*ps->p == '-' && ps->p[1] != '>') {
		ps->p++;
		if ((err = parse_unary(ps)))
			return err;
		return emit(ps, (struct mv_len_term){.op = MV_LEN_NEG});
	}
	if ((err = parse_primary(ps)))
		return err;
	return parse_arrows(ps);
}

/* One level of binary operators: ops[i] spelled names[i]. */
static struct mv_error *parse_level(struct parser *ps, int level);

static const struct {
	const char *name;
	uint8_t op;
	int level;
} binops[] = {
	{"|", MV_LEN_OR, 0},   {"&", MV_LEN_AND, 1},
	{"==", MV_LEN_EQ, 2},  {"!=", MV_LEN_NE, 2},
	{"<=", MV_LEN_LE, 3},  {">=", MV_LEN_GE, 3},
	{"<", MV_LEN_LT, 3},   {">", MV_LEN_GT, 3},
	{"<<", MV_LEN_SHL, 4}, {">>", MV_LEN_SHR, 4},
	{"+", MV_LEN_ADD, 5},  {"-", MV_LEN_SUB, 5},
	{"*", MV_LEN_MUL, 6},  {"/", MV_LEN_DIV, 6}, {"%", MV_LEN_MOD, 6},
};
#define NLEVELS 7

/* The operator of level at p: the longest spelling ("<<" is not "<"),
 * never '||' or '&&'. */
static int find_binop(const char *p, int level)
{
	int found = -1;
	size_t best = 0;
	if ((p[0] == '|' || p[0] == '&') && p[1] == p[0])
		return -1;
	for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++) {
		size_t n = strlen(binops[i].name);
		if (!strncmp(p, binops[i].name, n) && n > best) {
			best = n;
			found = binops[i].level == level ? (int)i : -1;
		}
	}
	return found;
}

static struct mv_error *parse_level(struct parser *ps, int level)
{
	if (level == NLEVELS)
		return parse_unary(ps);
	struct mv_error *err = parse_level(ps, level + 1);
	while (!err) {
		skip_space(ps);
		int found = find_binop(ps->p, level);
		if (found < 0)
			return NULL;
		ps->p += strlen(binops[found].name);
		if ((err = parse_level(ps, level + 1)))
			return err;
		err = emit(ps, (struct mv_len_term){.op = binops[found].op});
		ps->pointee = NULL; /* a sum is no pointer's value */
	}
	return err;
}

static struct mv_error *parse_or(struct parser *ps)
{
	return parse_level(ps, 0);
}

struct mv_error *mv_len_expr_compile_in(struct mv_session *s,
					struct mv_type *record,
					const char *text,
					struct mv_len_expr *ret)
{
	return mv_len_expr_compile_name(s, record, text, false, ret, NULL);
}

struct mv_error *mv_len_expr_compile_name(struct mv_session *s,
					  struct mv_type *record,
					  const char *text, bool index,
					  struct mv_len_expr *ret,
					  struct mv_type **pointee)
{
	memset(ret, 0, sizeof(*ret));
	struct parser ps = {.s = s, .record = record, .text = text,
			    .p = text, .e = ret, .index = index};
	struct mv_error *err = parse_or(&ps);
	if (pointee)
		*pointee = ps.pointee;
	if (!err) {
		skip_space(&ps);
		if (*ps.p)
			err = mv_error_create(MV_ERR_USAGE,
					      "length expression '%s': "
					      "unexpected '%s'", text, ps.p);
	}
	if (err)
		memset(ret, 0, sizeof(*ret));
	return err;
}

struct mv_error *mv_len_expr_compile(struct mv_type *record, const char *text,
				     struct mv_len_expr *ret)
{
	return mv_len_expr_compile_in(NULL, record, text, ret);
}

static uint64_t read_int(const uint8_t *p, unsigned size, bool is_signed)
{
	switch (size) {
	case 1: {
		uint8_t v = p[0];
		return is_signed ? (uint64_t)(int64_t)(int8_t)v : v;
	}
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

bool mv_len_expr_eval_offset(const struct mv_len_expr *e,
			     const uint8_t *bytes, size_t avail,
			     mv_len_read_fn read, void *arg, int64_t *ret)
{
	return mv_len_expr_eval_index(e, bytes, avail, read, arg, 0, ret);
}

bool mv_len_expr_eval_index(const struct mv_len_expr *e,
			    const uint8_t *bytes, size_t avail,
			    mv_len_read_fn read, void *arg, uint64_t index,
			    int64_t *ret)
{
	uint64_t st[MV_LEN_EXPR_MAX];
	uint32_t sp = 0;
	if (!e->n || e->end > avail)
		return false;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct mv_len_term *t = &e->t[i];
		if (t->op == MV_LEN_CONST || t->op == MV_LEN_INDEX) {
			st[sp++] = t->op == MV_LEN_CONST ? t->v : index;
			continue;
		}
		if (t->op == MV_LEN_FIELD) {
			st[sp++] = mv_rules_bits(
				read_int(bytes + t->v, t->size,
					 t->is_signed && !t->width),
				t->shift, t->width, t->is_signed);
			continue;
		}
		if (t->op == MV_LEN_DEREF) {
			uint8_t b[8];
			if (!read || !st[sp - 1] ||
			    read(arg, st[sp - 1] + t->v, b, t->size) != t->size)
				return false;
			st[sp - 1] = mv_rules_bits(
				read_int(b, t->size, t->is_signed && !t->width),
				t->shift, t->width, t->is_signed);
			continue;
		}
		if (t->op == MV_LEN_NEG) {
			st[sp - 1] = -st[sp - 1];
			continue;
		}
		uint64_t b = st[--sp], a = st[sp - 1], r;
		switch (t->op) {
		case MV_LEN_ADD: r = a + b; break;
		case MV_LEN_SUB: r = a - b; break;
		case MV_LEN_MUL: r = a * b; break;
		case MV_LEN_DIV:
		case MV_LEN_MOD:
			if (!b)
				return false;
			r = t->op == MV_LEN_DIV ? a / b : a % b;
			break;
		case MV_LEN_SHL: r = b > 63 ? 0 : a << b; break;
		case MV_LEN_SHR: r = b > 63 ? 0 : a >> b; break;
		case MV_LEN_AND: r = a & b; break;
		case MV_LEN_EQ: r = a == b; break;
		case MV_LEN_NE: r = a != b; break;
		/* Compared as signed: members such as ob_size are. */
		case MV_LEN_LT: r = (int64_t)a < (int64_t)b; break;
		case MV_LEN_GT: r = (int64_t)a > (int64_t)b; break;
		case MV_LEN_LE: r = (int64_t)a <= (int64_t)b; break;
		case MV_LEN_GE: r = (int64_t)a >= (int64_t)b; break;
		default: r = a | b; break;
		}
		st[sp - 1] = r;
	}
	*ret = (int64_t)st[0];
	return true;
}

bool mv_len_expr_eval_read(const struct mv_len_expr *e,
			   const uint8_t *bytes, size_t avail,
			   mv_len_read_fn read, void *arg, uint64_t *ret)
{
	int64_t v;
	if (!mv_len_expr_eval_offset(e, bytes, avail, read, arg, &v))
		return false;
	/* A negative length is no length (a hostile 2^60 is bounded by
	 * the caller, by the block the elements must fit in). */
	*ret = v < 0 ? 0 : (uint64_t)v;
	return true;
}

bool mv_len_expr_eval(const struct mv_len_expr *e, const uint8_t *bytes,
		      size_t avail, uint64_t *ret)
{
	return mv_len_expr_eval_read(e, bytes, avail, NULL, NULL, ret);
}

/* ------------------------------------------------------------------ */
/* Rules: --len and the rules files of --types                         */
/* ------------------------------------------------------------------ */

#define RULES_FILE_MAX (1u << 20)  /* a file a person wrote */
#define RULES_MAX 4096             /* rules of each kind */

void mv_rules_init(struct mv_rules *r)
{
	memset(r, 0, sizeof(*r));
}

void mv_rules_deinit(struct mv_rules *r)
{
	mv_rules_names_deinit(r);
	for (size_t i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r->strings);
	free(r->lens);
	free(r->dispatch);
	free(r->containers);
	free(r->skips);
	free(r->headers);
	free(r->sizes);
	free(r->arrays);
	memset(r, 0, sizeof(*r));
}

/* A copy of [p, p + n) with its blanks trimmed, owned by r. */
static char *own(struct mv_rules *r, const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	char **ns = realloc(r->strings, (r->nstrings + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	r->strings = ns;
	char *c = strndup(p, n);
	if (c)
		r->strings[r->nstrings++] = c;
	return c;
}

char *mv_rules_own(struct mv_rules *r, const char *p, size_t n)
{
	return own(r, p, n);
}

/* t's rule key (mv_rules_type_key), owned by r; NULL without memory. */
static char *own_key(struct mv_rules *r, struct mv_type *t)
{
	char buf[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(t, buf, sizeof(buf));
	return own(r, buf, strlen(buf));
}

/* Grows an array of rules by one zeroed element. */
static void *grow(void **arr, size_t *n, size_t elem)
{
	if (*n >= RULES_MAX)
		return NULL;
	char *a = realloc(*arr, (*n + 1) * elem);
	if (!a)
		return NULL;
	*arr = a;
	memset(a + *n * elem, 0, elem);
	return a + (*n)++ * elem;
}

static struct mv_error *too_many(size_t n)
{
	return n >= RULES_MAX
		? mv_error_create(MV_ERR_USAGE, "more than %u rules of one "
			 "kind", RULES_MAX)
		: mv_enomem;
}

/* "TYPE.PATH" -> the stripped type, its C spelling (owned) and the path
 * (owned): the first '.' outside template arguments ends the type. */
static struct mv_error *type_dot_path(struct mv_session *s,
				      struct mv_rules *r, const char *text,
				      size_t len, struct mv_type **type,
				      const char **tname, const char **path)
{
	const char *dot = NULL;
	int depth = 0;
	for (const char *p = text; p < text + len && !dot; p++) {
		if (*p == '<' || *p == '(' || *p == '[')
			depth++;
		else if ((*p == '>' || *p == ')' || *p == ']') && depth)
			depth--;
		else if (!depth && *p == '.')
			dot = p;
	}
	if (!dot || dot == text || dot + 1 == text + len)
		return mv_error_create(MV_ERR_USAGE,
				       "TYPE.FIELD expected, not '%.*s'",
				       (int)len, text);
	char *tn = own(r, text, (size_t)(dot - text));
	char *pn = own(r, dot + 1, (size_t)(text + len - dot - 1));
	if (!tn || !pn)
		return mv_enomem;
	struct mv_type *t;
	struct mv_error *err = mv_session_parse_type(s, tn, &t);
	if (err) {
		if (mv_error_code(err) == MV_ERR_NOMEM)
			return err;
		struct mv_error *u = mv_error_create(MV_ERR_USAGE, "%s",
						     mv_error_message(err));
		mv_error_destroy(err);
		return u;
	}
	t = mv_type_strip(t);
	if (!(tn = own_key(r, t)))
		return mv_enomem;
	*type = t;
	*tname = tn;
	*path = pn;
	return NULL;
}

/* Looks text up as a type name ("struct leaf", "PyListObject"). */
static struct mv_error *named_type(struct mv_session *s, const char *text,
				   size_t len, struct mv_type **ret)
{
	return mv_rules_named_type(s, text, len, ret);
}

struct mv_error *mv_rules_named_type(struct mv_session *s, const char *text,
				     size_t len, struct mv_type **ret)
{
	char *n = strndup(text, len);
	if (!n)
		return mv_enomem;
	char *e = n + strlen(n);
	while (e > n && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	const char *b = n + strspn(n, " \t");
	struct mv_error *err = mv_session_parse_type(s, b, ret);
	free(n);
	if (err && mv_error_code(err) != MV_ERR_NOMEM) {
		struct mv_error *u = mv_error_create(MV_ERR_USAGE, "%s",
						     mv_error_message(err));
		mv_error_destroy(err);
		return u;
	}
	if (!err)
		*ret = mv_type_strip(*ret);
	return err;
}

static struct mv_error *add_len(struct mv_session *s, struct mv_rules *r,
				const char *text)
{
	const char *eq = strchr(text, '=');
	if (!eq || !eq[1] || eq[1] == '=')
		return mv_error_create(MV_ERR_USAGE,
				       "TYPE.FIELD=LENGTH expected (like "
				       "'struct vec.data=len')");
	struct mv_type *t;
	const char *tn, *path;
	struct mv_error *err = type_dot_path(s, r, text, (size_t)(eq - text),
					     &t, &tn, &path);
	if (err)
		return err;
	uint64_t off;
	const struct mv_member *m;
	if ((err = mv_rules_member_path(t, path, &off, &m)))
		return err;
	struct mv_type *mt = mv_type_strip(m->type);
	/* A pointer, or a trailing array (PyObject *ob_item[1]). */
	bool trailing = mt && mt->kind == MV_TYPE_ARRAY &&
			!strchr(path, '.') && is_trailing(t, m);
	if (!mt || (mt->kind != MV_TYPE_POINTER && !trailing)) {
		char buf[MV_EVAL_TYPE_NAME_MAX];
		mv_type_name(m->type, buf, sizeof(buf));
		return mv_error_create(MV_ERR_USAGE,
				       "member '%s' is %s, not a pointer "
				       "or a trailing array", path, buf);
	}
	const char *len = own(r, eq + 1, strlen(eq + 1));
	if (!len)
		return mv_enomem;
	struct mv_len_expr e;
	if ((err = mv_len_expr_compile_in(s, t, len, &e)))
		return err;
	struct mv_len_hint *h = grow((void **)&r->lens, &r->nlens, sizeof(*h));
	if (!h)
		return too_many(r->nlens);
	h->type = tn;
	h->field = path;
	h->len = len;
	h->expr = e;
	return NULL;
}

struct mv_error *mv_rules_add_len(struct mv_session *s, struct mv_rules *r,
				  const char *spec)
{
	struct mv_error *err = add_len(s, r, spec);
	if (err && mv_error_code(err) == MV_ERR_USAGE &&
	    strstr(mv_error_message(err), "TYPE.FIELD"))
		/* The shape of the option itself. */
		return mv_error_wrap(err, "--len expects TYPE.FIELD=LENGTH, "
					  "not '%s'", spec);
	return mv_error_wrap(err, "--len %s", spec);
}

/* The member at path of t, checked to be an integer, enum or pointer a
 * rule can compare. */
static struct mv_error *scalar_member(struct mv_type *t, const char *path,
				      uint64_t *off, struct mv_type **ret,
				      const struct mv_member **member)
{
	const struct mv_member *m;
	struct mv_error *err = mv_rules_member_path(t, path, off, &m);
	if (err)
		return err;
	struct mv_type *mt = mv_type_strip(m->type);
	*member = m;
	if (!mt || (m->bit_size && (!bit_field_bytes(m) ||
				    mt->kind == MV_TYPE_POINTER)) ||
	    !mt->size || mt->size > 8 ||
	    (mt->kind != MV_TYPE_INT && mt->kind != MV_TYPE_ENUM &&
	     mt->kind != MV_TYPE_POINTER && mt->kind != MV_TYPE_BOOL))
		return mv_error_create(MV_ERR_USAGE,
				       "member '%s' is not an integer or a "
				       "pointer a rule can compare", path);
	*ret = mt;
	return NULL;
}

/* REAL of "... -> REAL": a struct, class or union of a size. */
static struct mv_error *dispatch_real(struct mv_session *s, const char *rt,
				      struct mv_type **real)
{
	struct mv_error *err = named_type(s, rt, strlen(rt), real);
	if (err)
		return err;
	if ((*real)->kind != MV_TYPE_STRUCT &&
	    (*real)->kind != MV_TYPE_CLASS && (*real)->kind != MV_TYPE_UNION)
		return mv_error_create(MV_ERR_USAGE, "'%s' is not a struct, "
				       "class or union", rt + strspn(rt, " "));
	if (!(*real)->size)
		return mv_error_create(MV_ERR_USAGE, "'%s' is incomplete",
				       rt + strspn(rt, " "));
	return NULL;
}

/* dispatch TYPE if COND -> REAL: COND over REAL's members. */
static struct mv_error *add_dispatch_if(struct mv_session *s,
					struct mv_rules *r, const char *text,
					const char *cond, const char *where)
{
	const char *arrow = strstr(cond, "->");
	/* The last "->": COND may read through pointers with "->". */
	for (const char *a = arrow; a; a = strstr(a + 2, "->"))
		arrow = a;
	if (!arrow)
		return mv_error_create(MV_ERR_USAGE,
				       "dispatch TYPE if COND -> TYPE "
				       "expected");
	struct mv_type *t, *real;
	const char *rt = arrow + 2;
	struct mv_error *err = named_type(s, text, (size_t)(cond - text),
					  &t);
	if (!err)
		err = dispatch_real(s, rt, &real);
	if (err)
		return err;
	const char *ct = own(r, cond + 4, (size_t)(arrow - cond - 4));
	const char *tn = own_key(r, t);
	const char *w = own(r, where, strlen(where));
	const char *rn = own(r, rt, strlen(rt));
	if (!ct || !tn || !w || !rn)
		return mv_enomem;
	struct mv_len_expr e;
	if ((err = mv_len_expr_compile_in(s, real, ct, &e)))
		return err;
	struct mv_rule_dispatch *d = grow((void **)&r->dispatch,
					  &r->ndispatch, sizeof(*d));
	if (!d)
		return too_many(r->ndispatch);
	*d = (struct mv_rule_dispatch){.type = tn, .has_cond = true,
				       .cond = e, .real = real,
				       .real_name = rn, .where = w};
	return NULL;
}

/* dispatch TYPE.FIELD == VALUE -> REAL */
static struct mv_error *add_dispatch(struct mv_session *s, struct mv_rules *r,
				     const char *text, const char *where)
{
	const char *cond = strstr(text, " if ");
	const char *eq = strstr(text, "==");
	if (cond && (!eq || cond < eq))
		return add_dispatch_if(s, r, text, cond, where);
	const char *arrow = eq ? strstr(eq, "->") : NULL;
	if (!eq || !arrow)
		return mv_error_create(MV_ERR_USAGE,
				       "dispatch TYPE.FIELD == VALUE -> TYPE "
				       "expected");
	struct mv_type *t, *mt = NULL, *real;
	const char *tn, *path;
	uint64_t off;
	struct mv_error *err = type_dot_path(s, r, text, (size_t)(eq - text),
					     &t, &tn, &path);
	const struct mv_member *mm = NULL;
	if (!err)
		err = scalar_member(t, path, &off, &mt, &mm);
	if (err)
		return err;
	const char *v = eq + 2;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vlen = (size_t)(arrow - v);
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	uint64_t value = 0;
	char *vs = strndup(v, vlen);
	if (!vs)
		return mv_enomem;
	char *end;
	if (vs[0] == '&') {
		const char *sym = vs + 1 + strspn(vs + 1, " ");
		if (mt->kind != MV_TYPE_POINTER)
			err = mv_error_create(MV_ERR_USAGE,
					      "member '%s' is not a pointer: "
					      "it cannot hold &%s", path, sym);
		else if (!find_symbol(s, sym, &value))
			err = mv_error_create(MV_ERR_USAGE, "no symbol '%s'",
					      sym);
	} else if ((vs[0] >= '0' && vs[0] <= '9') || vs[0] == '-') {
		value = (uint64_t)strtoll(vs, &end, 0);
		if (*end || end == vs)
			err = mv_error_create(MV_ERR_USAGE,
					      "bad value '%s'", vs);
	} else {
		/* An enumerator of the member's enum type. */
		bool found = false;
		for (size_t i = 0; mt->kind == MV_TYPE_ENUM &&
				   i < mt->nenumerators; i++)
			if (!strcmp(mt->enumerators[i].name, vs)) {
				value = (uint64_t)mt->enumerators[i].value;
				found = true;
			}
		/* Any other enumerator or constant of the program, by the
		 * core's own evaluator (the same in every front end). */
		struct mv_value cv;
		struct mv_error *e2 = found ? NULL
				      : mv_expr_eval(s->program, vs, 0, &cv);
		if (!found && !e2 && !cv.is_lvalue) {
			value = cv.value;
			found = true;
		}
		mv_error_destroy(e2);
		if (!found)
			err = mv_error_create(MV_ERR_USAGE,
					      "bad value '%s': &SYMBOL, an "
					      "integer or an enumerator of "
					      "'%s'", vs, path);
	}
	free(vs);
	if (err)
		return err;
	const char *rt = arrow + 2;
	if ((err = dispatch_real(s, rt, &real)))
		return err;
	if (mm->bit_size)
		value = mv_rules_bits(value, 0, (uint8_t)mm->bit_size, false);
	else if (mt->size < 8)
		value &= (1ull << (mt->size * 8)) - 1;
	const char *w = own(r, where, strlen(where));
	struct mv_rule_dispatch *d = w ? grow((void **)&r->dispatch,
					      &r->ndispatch, sizeof(*d))
				       : NULL;
	if (!d)
		return w ? too_many(r->ndispatch) : mv_enomem;
	d->type = tn;
	d->offset = off;
	d->size = (uint32_t)mt->size;
	if (mm->bit_size) {
		d->size = bit_field_bytes(mm);
		d->shift = (uint8_t)(mm->bit_position % 8);
		d->width = (uint8_t)mm->bit_size;
	}
	d->is_signed = mt->is_signed;
	d->value = value;
	d->real = real;
	d->real_name = own(r, rt, strlen(rt));
	d->where = w;
	if (!d->real_name)
		return mv_enomem;
	return NULL;
}

/* container_of TYPE.FIELD */
static struct mv_error *add_container(struct mv_session *s,
				      struct mv_rules *r, const char *text,
				      const char *where)
{
	struct mv_type *t;
	const char *tn, *path;
	uint64_t off;
	const struct mv_member *m;
	struct mv_error *err = type_dot_path(s, r, text, strlen(text), &t,
					     &tn, &path);
	if (!err)
		err = mv_rules_member_path(t, path, &off, &m);
	if (err)
		return err;
	struct mv_type *mt = mv_type_strip(m->type);
	if (!mt || (mt->kind != MV_TYPE_STRUCT && mt->kind != MV_TYPE_CLASS &&
		    mt->kind != MV_TYPE_UNION))
		return mv_error_create(MV_ERR_USAGE,
				       "member '%s' is not a struct a "
				       "pointer can point to", path);
	for (size_t i = 0; i < r->ncontainers; i++)
		if (r->containers[i].member == mt) {
			char buf[MV_EVAL_TYPE_NAME_MAX];
			mv_type_name(mt, buf, sizeof(buf));
			return mv_error_create(MV_ERR_USAGE,
					       "%s already belongs to a "
					       "container (%s)", buf,
					       r->containers[i].where);
		}
	const char *w = own(r, where, strlen(where));
	struct mv_rule_container *c =
		w ? grow((void **)&r->containers, &r->ncontainers, sizeof(*c))
		  : NULL;
	if (!c)
		return w ? too_many(r->ncontainers) : mv_enomem;
	c->member = mt;
	c->container = t;
	c->offset = off;
	c->where = w;
	return NULL;
}

/* skip TYPE.FIELD */
static struct mv_error *add_skip(struct mv_session *s, struct mv_rules *r,
				 const char *text)
{
	struct mv_type *t;
	const char *tn, *path;
	uint64_t off;
	const struct mv_member *m;
	struct mv_error *err = type_dot_path(s, r, text, strlen(text), &t,
					     &tn, &path);
	if (!err)
		err = mv_rules_member_path(t, path, &off, &m);
	if (err)
		return err;
	struct mv_rule_skip *k = grow((void **)&r->skips, &r->nskips,
				      sizeof(*k));
	if (!k)
		return too_many(r->nskips);
	k->type = tn;
	k->field = path;
	return NULL;
}

/* header TYPE = HEADER, or header TYPE = EXPR (bytes) */
static struct mv_error *add_header(struct mv_session *s, struct mv_rules *r,
				   const char *text)
{
	const char *eq = strchr(text, '=');
	if (!eq)
		return mv_error_create(MV_ERR_USAGE,
				       "header TYPE = HEADERTYPE expected");
	struct mv_type *t, *h = NULL;
	struct mv_len_expr bytes = {0};
	struct mv_error *err = named_type(s, text, (size_t)(eq - text), &t);
	if (err)
		return err;
	const char *rhs = eq + 1 + strspn(eq + 1, " \t");
	if (isdigit((unsigned char)*rhs) || *rhs == '(') {
		err = mv_len_expr_compile_in(s, t, rhs, &bytes);
	} else {
		err = named_type(s, rhs, strlen(rhs), &h);
		if (!err && !h->size)
			err = mv_error_create(MV_ERR_USAGE, "header type '%s' "
					      "has no size", rhs);
	}
	if (err)
		return err;
	const char *tn = own_key(r, t);
	struct mv_rule_header *hd =
		tn ? grow((void **)&r->headers, &r->nheaders, sizeof(*hd))
		   : NULL;
	if (!hd)
		return tn ? too_many(r->nheaders) : mv_enomem;
	hd->type = tn;
	hd->header = h;
	hd->bytes = bytes;
	return NULL;
}

/* size TYPE = EXPR */
static struct mv_error *add_size(struct mv_session *s, struct mv_rules *r,
				 const char *text)
{
	const char *eq = strchr(text, '=');
	if (!eq)
		return mv_error_create(MV_ERR_USAGE,
				       "size TYPE = BYTES expected");
	struct mv_type *t;
	struct mv_error *err = named_type(s, text, (size_t)(eq - text), &t);
	if (err)
		return err;
	const char *tn = own_key(r, t);
	const char *ex = own(r, eq + 1, strlen(eq + 1));
	if (!tn || !ex)
		return mv_enomem;
	struct mv_len_expr e;
	if ((err = mv_len_expr_compile_in(s, t, ex, &e)))
		return err;
	struct mv_rule_size *z = grow((void **)&r->sizes, &r->nsizes,
				      sizeof(*z));
	if (!z)
		return too_many(r->nsizes);
	z->type = tn;
	z->expr = e;
	return NULL;
}

/* "BLOCK.SLOTS from START next LINK" of an array rule over t whose
 * elements are elem: a chain of blocks. */
static struct mv_error *array_chain(struct mv_session *s, struct mv_rules *r,
				    struct mv_type *t, struct mv_type *elem,
				    const char *tail, struct mv_rule_array *a)
{
	const char *from = strstr(tail, " from ");
	const char *next = from ? strstr(from, " next ") : NULL;
	if (!next)
		return mv_error_create(MV_ERR_USAGE, "chain BLOCK.SLOTS from "
				       "START next LINK expected");
	struct mv_type *bt, *st, *lt;
	const char *bn, *path;
	const struct mv_member *m;
	uint64_t off;
	struct mv_error *err = type_dot_path(s, r, tail, (size_t)(from - tail),
					     &bt, &bn, &path);
	if (!err)
		err = mv_rules_member_path(bt, path, &off, &m);
	if (err)
		return err;
	st = mv_type_strip(m->type);
	struct mv_type *se = st && st->kind == MV_TYPE_ARRAY
				     ? mv_type_strip(mv_type_target(st)) : NULL;
	/* Or one element of the rule's type per block: a linked list's
	 * records, each holding its value (an lru_cache's entries). */
	bool one = st && !se && st->kind == elem->kind &&
		   st->size == elem->size && !m->bit_size;
	if (!one && (!se || !st->has_count || !st->count ||
		     se->size != elem->size))
		return mv_error_create(MV_ERR_USAGE, "chain: member '%s' is "
				       "neither an array of a fixed count of "
				       "elements of the rule's size nor one "
				       "such element", path);
	a->slots_offset = off;
	a->per_block = one ? 1 : st->count;
	const char *ln = own(r, next + 6, strlen(next + 6));
	if (!ln)
		return mv_enomem;
	if ((err = mv_rules_member_path(bt, ln, &a->link_offset, &m)))
		return err;
	lt = mv_type_strip(m->type);
	if (!lt || lt->kind != MV_TYPE_POINTER || lt->size != 8)
		return mv_error_create(MV_ERR_USAGE, "chain: member '%s' is "
				       "not a pointer", ln);
	const char *se_text = own(r, from + 6, (size_t)(next - from - 6));
	if (!se_text)
		return mv_enomem;
	a->chain = true;
	return mv_len_expr_compile_in(s, t, se_text, &a->start);
}

/* array TYPE at OFFSET = ELEM[COUNT], array TYPE at OFFSET -> ELEM[COUNT]
 * [chain BLOCK.SLOTS from START next LINK] */
static struct mv_error *add_array(struct mv_session *s, struct mv_rules *r,
				  const char *text)
{
	const char *ch = strstr(text, " chain ");
	char *head = ch ? own(r, text, (size_t)(ch - text)) : NULL;
	if (ch && !head)
		return mv_enomem;
	if (head)
		text = head;
	const char *at = strstr(text, " at ");
	const char *eq = at ? strstr(at, " -> ") : NULL;
	bool indirect = eq != NULL;
	if (!eq)
		eq = at ? strchr(at, '=') : NULL;
	const char *el = eq ? eq + (indirect ? 4 : 1) : NULL;
	const char *lb = el ? strchr(el, '[') : NULL;
	size_t tl = strlen(text);
	if (!at || !eq || !lb || text[tl - 1] != ']')
		return mv_error_create(MV_ERR_USAGE,
				       "array TYPE at OFFSET = ELEMTYPE[COUNT] "
				       "expected");
	struct mv_type *t, *elem;
	struct mv_error *err = named_type(s, text, (size_t)(at - text), &t);
	if (!err)
		err = named_type(s, el, (size_t)(lb - el), &elem);
	if (err)
		return err;
	if (!elem->size)
		return mv_error_create(MV_ERR_USAGE, "'%.*s' has no size",
				       (int)(lb - el), el);
	const char *tn = own_key(r, t);
	const char *oe = own(r, at + 4, (size_t)(eq - at - 4));
	const char *ce = own(r, lb + 1, (size_t)(text + tl - 1 - lb - 1));
	if (!tn || !oe || !ce)
		return mv_enomem;
	struct mv_len_expr off, cnt;
	if ((err = mv_len_expr_compile_in(s, t, oe, &off)) ||
	    (err = mv_len_expr_compile_in(s, t, ce, &cnt)))
		return err;
	struct mv_rule_array chain = {0};
	if (ch && !indirect)
		return mv_error_create(MV_ERR_USAGE, "chain: the array's "
				       "pointer (array TYPE at OFFSET -> ...) "
				       "points to its first block");
	if (ch && (err = array_chain(s, r, t, elem, ch + 7, &chain)))
		return err;
	struct mv_rule_array *a = grow((void **)&r->arrays, &r->narrays,
				       sizeof(*a));
	if (!a)
		return too_many(r->narrays);
	*a = chain;
	a->type = tn;
	a->offset = off;
	a->count = cnt;
	a->indirect = indirect;
	a->offset_text = oe;
	a->elem = elem;
	a->elem_name = own(r, el, (size_t)(lb - el));
	return a->elem_name ? NULL : mv_enomem;
}

/* ---- gc --refcount's rules: refcount, tracked ---- */

/* "TYPE.PATH" naming the integer member a count or a flag lives in
 * (not a bit-field: the collector reads it whole): the type, its key,
 * the path, the member's offset and type. */
struct count_member {
	struct mv_type *t, *mt;
	const char *tn, *path;
	uint64_t off;
};

static struct mv_error *count_member(struct mv_session *s, struct mv_rules *r,
				     const char *text, struct count_member *c)
{
	const struct mv_member *m;
	struct mv_error *err = type_dot_path(s, r, text, strlen(text), &c->t,
					     &c->tn, &c->path);
	if (!err)
		err = mv_rules_member_path(c->t, c->path, &c->off, &m);
	if (err)
		return err;
	c->mt = mv_type_strip(m->type);
	if (!c->mt || m->bit_size || !c->mt->size || c->mt->size > 8 ||
	    (c->mt->kind != MV_TYPE_INT && c->mt->kind != MV_TYPE_ENUM &&
	     c->mt->kind != MV_TYPE_POINTER))
		return mv_error_create(MV_ERR_USAGE, "member '%s' is not an "
				       "integer (nor a pointer) of at most 8 "
				       "bytes", c->path);
	return NULL;
}

/* refcount TYPE.FIELD */
static struct mv_error *add_refcount(struct mv_session *s, struct mv_rules *r,
				     const char *text, const char *where)
{
	if (r->has_refcount)
		return mv_error_create(MV_ERR_USAGE, "a second refcount rule "
				       "(the first: %s)", r->refcount.where);
	struct count_member c;
	struct mv_error *err = count_member(s, r, text, &c);
	if (err)
		return err;
	if (c.mt->kind == MV_TYPE_POINTER)
		return mv_error_create(MV_ERR_USAGE, "member '%s' is a "
				       "pointer, not a count", c.path);
	const char *w = own(r, where, strlen(where));
	if (!w)
		return mv_enomem;
	r->refcount = (struct mv_rule_refcount){
		.type = c.tn, .record = c.t, .field = c.path, .offset = c.off,
		.size = (uint32_t)c.mt->size, .is_signed = c.mt->is_signed,
		.where = w};
	r->has_refcount = true;
	return NULL;
}

/* tracked HEADER.FIELD */
static struct mv_error *add_tracked(struct mv_session *s, struct mv_rules *r,
				    const char *text)
{
	if (r->has_tracked)
		return mv_error_create(MV_ERR_USAGE, "a second tracked rule");
	struct count_member c;
	struct mv_error *err = count_member(s, r, text, &c);
	if (err)
		return err;
	r->tracked = (struct mv_rule_tracked){
		.header = c.t, .offset = c.off, .size = (uint32_t)c.mt->size};
	r->has_tracked = true;
	return NULL;
}

/* typeobject TYPE = EXPR */
static struct mv_error *add_typeobject(struct mv_session *s,
				       struct mv_rules *r, const char *text)
{
	const char *eq = strchr(text, '=');
	if (!eq)
		return mv_error_create(MV_ERR_USAGE,
				       "typeobject TYPE = EXPR expected");
	if (r->has_typeobject)
		return mv_error_create(MV_ERR_USAGE, "a second typeobject rule");
	struct mv_type *t;
	struct mv_error *err = named_type(s, text, (size_t)(eq - text), &t);
	if (!err)
		err = mv_len_expr_compile_in(s, t, eq + 1, &r->typeobject.expr);
	if (err)
		return err;
	r->typeobject.record = t;
	r->has_typeobject = true;
	return NULL;
}

/* guard BYTES FILL COUNT */
static struct mv_error *add_guard(struct mv_rules *r, const char *text)
{
	char *end;
	unsigned long long v[3];
	const char *p = text;
	int got = 0;
	for (; got < 3 && isdigit((unsigned char)*p); got++) {
		v[got] = strtoull(p, &end, 0);
		p = end + strspn(end, " \t");
	}
	if (got < 3 || *p || !v[0] || v[0] > 64 || v[1] > 255 || !v[2] ||
	    v[2] > v[0])
		return mv_error_create(MV_ERR_USAGE, "guard BYTES FILL COUNT "
				       "expected (BYTES 1 to 64, FILL a byte, "
				       "COUNT 1 to BYTES), not '%s'", text);
	if (r->has_guard)
		return mv_error_create(MV_ERR_USAGE, "a second guard rule");
	r->guard = (struct mv_rule_guard){.bytes = (uint32_t)v[0],
					  .fill = (uint8_t)v[1],
					  .count = (uint32_t)v[2]};
	r->has_guard = true;
	return NULL;
}

static const struct {
	const char *word;
	int kind;
} keywords[] = {
	{"len", 0}, {"dispatch", 1}, {"container_of", 2}, {"skip", 3},
	{"header", 4}, {"size", 5}, {"array", 6}, {"refcount", 7},
	{"tracked", 8}, {"guard", 9}, {"typeobject", 10}, {"name", 11},
	{"show", 12}, {"object", 13}, {"frames", 14}, {"typename", 15},
	{"from", 16},
};

static struct mv_error *add_line(struct mv_session *s, struct mv_rules *r,
				 const char *line, const char *where);

/* Whether objfile path is the library LIB: its file name is LIB, or
 * LIB and a '.' ("_json" is _json.cpython-311d-x86_64-linux-gnu.so). */
static bool is_library(const char *path, const char *lib, size_t len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, lib, len) && (!base[len] || base[len] == '.');
}

/* from LIB RULE: RULE when the program has loaded LIB (an extension
 * module: its types and symbols are there only then), its &SYMBOLs
 * LIB's own first; nothing when it has not. */
static struct mv_error *add_from(struct mv_session *s, struct mv_rules *r,
				 const char *text, const char *where)
{
	size_t len = strcspn(text, " \t");
	const char *rule = text + len + strspn(text + len, " \t");
	if (!len || !*rule)
		return mv_error_create(MV_ERR_USAGE, "from LIBRARY RULE "
				       "expected");
	if (!strncmp(rule, "from", 4) && (rule[4] == ' ' || rule[4] == '\t'))
		return mv_error_create(MV_ERR_USAGE, "from: one library per "
				       "rule, not 'from' twice");
	struct mv_objfile **objs;
	size_t n = s->program ? mv_program_objfiles(s->program, &objs) : 0;
	struct mv_objfile *lib = NULL;
	for (size_t i = 0; i < n && !lib; i++)
		if (objs[i]->path && is_library(objs[i]->path, text, len))
			lib = objs[i];
	if (!lib)
		return NULL;
	s->rules_scope = lib;
	struct mv_error *err = add_line(s, r, rule, where);
	s->rules_scope = NULL;
	return err;
}

/* One line (comment and blanks gone). */
static struct mv_error *add_line(struct mv_session *s, struct mv_rules *r,
				 const char *line, const char *where)
{
	size_t wl = strcspn(line, " \t");
	const char *rest = line + wl + strspn(line + wl, " \t");
	int kind = -1;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].word) == wl &&
		    !strncmp(line, keywords[i].word, wl))
			kind = keywords[i].kind;
	switch (kind) {
	case 0: return add_len(s, r, rest);
	case 1: return add_dispatch(s, r, rest, where);
	case 2: return add_container(s, r, rest, where);
	case 3: return add_skip(s, r, rest);
	case 4: return add_header(s, r, rest);
	case 5: return add_size(s, r, rest);
	case 6: return add_array(s, r, rest);
	case 7: return add_refcount(s, r, rest, where);
	case 8: return add_tracked(s, r, rest);
	case 9: return add_guard(r, rest);
	case 10: return add_typeobject(s, r, rest);
	case 11: return mv_rules_add_name(s, r, rest);
	case 12: return mv_rules_add_show(s, r, rest);
	case 13: return mv_rules_add_object(s, r, rest);
	case 14: return mv_rules_add_frames(s, r, rest);
	case 15: return mv_rules_add_typename(s, r, rest);
	case 16: return add_from(s, r, rest, where);
	default:
		/* --len-file's bare hints. */
		if (strchr(line, '=') && !strstr(line, "==") &&
		    !strstr(line, "->"))
			return add_len(s, r, line);
		return mv_error_create(MV_ERR_USAGE,
				       "unknown rule '%.*s' (len, size, array, "
				       "dispatch, container_of, skip, header, "
				       "refcount, tracked, guard, typeobject, "
				       "name, show, typename, object, frames "
				       "or from)",
				       (int)wl, line);
	}
}

struct mv_error *mv_rules_load_file(struct mv_session *s, struct mv_rules *r,
				    const char *path)
{
	char *text;
	size_t len;
	struct mv_error *err = mv_file_read_small(path, "rules file",
						  RULES_FILE_MAX, &text, &len);
	if (err)
		return err;
	if (memchr(text, '\0', len)) {
		free(text);
		return mv_error_create(MV_ERR_USAGE, "%s: not a rules file "
				       "(it holds a NUL byte)", path);
	}
	unsigned lineno = 0;
	for (char *line = text, *eol; !err && *line; line = eol) {
		eol = line + strcspn(line, "\n");
		if (*eol)
			*eol++ = '\0';
		lineno++;
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "#\r")] = '\0';
		char *e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*p)
			continue;
		char where[512];
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		err = mv_error_wrap(add_line(s, r, p, where), "%s", where);
	}
	free(text);
	return err;
}

#ifndef MV_TYPES_DIR
#define MV_TYPES_DIR "/usr/local/share/memview/types"
#endif

static bool is_file(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode);
}

struct mv_error *mv_rules_find_file(const char *name, char *buf, size_t size)
{
	if (strchr(name, '/') || is_file(name)) {
		snprintf(buf, size, "%s", name);
		return NULL;
	}
	/* A shipped model: installed, or in the tree this library was
	 * built in (build/libmemview.so or build/memview -> types/). */
	snprintf(buf, size, "%s/%s.types", MV_TYPES_DIR, name);
	if (is_file(buf))
		return NULL;
	Dl_info info;
	if (dladdr((void *)mv_rules_find_file, &info) && info.dli_fname) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", info.dli_fname);
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, size, "%s/../types/%s.types", dir, name);
			if (is_file(buf))
				return NULL;
		}
	}
	return mv_error_create(MV_ERR_USAGE,
			       "--types %s: no such file, nor a model shipped "
			       "in %s", name, MV_TYPES_DIR);
}

const char *mv_rules_auto_model(struct mv_session *s)
{
	uint64_t addr, size, version = 0;
	struct mv_type *t;
	if (!s->program || !s->target ||
	    !mv_program_find_symbol(s->program, "Py_Version", &addr, &size) ||
	    mv_target_read_partial(s->target, addr, &version, 4) != 4 ||
	    (version >> 16) != 0x030b ||
	    !mv_program_find_symbol(s->program, "PyList_Type", &addr, &size))
		return NULL;
	/* With debug info: the model's types must be there. */
	struct mv_error *err = mv_expr_parse_type(s->program, "PyDictKeysObject", 0,
						  &t);
	if (err) {
		mv_error_destroy(err);
		return NULL;
	}
	return "cpython-3.11";
}
