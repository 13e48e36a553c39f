/* rules.c - member paths and length expressions (see rules.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

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

/* ---- length expressions: recursive descent over the user's text,
 * bounded by EXPR_MAX_NEST (never over target data) ---- */

struct parser {
	struct mv_type *record;
	const char *text, *p;
	struct mv_len_expr *e;
	int nest;
};

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

static struct mv_error *parse_member(struct parser *ps)
{
	const char *start = ps->p;
	while (isalnum((unsigned char)*ps->p) || *ps->p == '_' ||
	       *ps->p == '.')
		ps->p++;
	char *path = strndup(start, (size_t)(ps->p - start));
	if (!path)
		return mv_enomem;
	uint64_t off;
	const struct mv_member *m;
	struct mv_error *err = mv_rules_member_path(ps->record, path, &off,
						    &m);
	struct mv_type *t = err ? NULL : mv_type_strip(m->type);
	if (!err && (!t || (t->kind != MV_TYPE_INT &&
			    t->kind != MV_TYPE_ENUM && t->kind != MV_TYPE_BOOL) ||
		     m->bit_size || !t->size || t->size > 8 ||
		     (t->size & (t->size - 1))))
		err = mv_error_create(MV_ERR_USAGE,
				      "member '%s' is not an integer a "
				      "length can be read from", path);
	free(path);
	if (err)
		return err;
	if (off + t->size > ps->e->end)
		ps->e->end = off + t->size;
	return emit(ps, (struct mv_len_term){.op = MV_LEN_FIELD,
					     .size = (uint8_t)t->size,
					     .is_signed = t->is_signed,
					     .v = off});
}

static struct mv_error *parse_primary(struct parser *ps)
{
	skip_space(ps);
	struct mv_error *err;
	if (*ps->p == '(') {
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
		return NULL;
	}
	if (*ps->p == '-') {
		ps->p++;
		if ((err = parse_primary(ps)))
			return err;
		return emit(ps, (struct mv_len_term){.op = MV_LEN_NEG});
	}
	if (isdigit((unsigned char)*ps->p)) {
		char *end;
		uint64_t v = strtoull(ps->p, &end, 0);
		if (isalnum((unsigned char)*end) || *end == '_')
			return mv_error_create(MV_ERR_USAGE,
					       "length expression '%s': bad "
					       "number at '%s'", ps->text,
					       ps->p);
		ps->p = end;
		return emit(ps, (struct mv_len_term){.op = MV_LEN_CONST,
						     .v = v});
	}
	if (isalpha((unsigned char)*ps->p) || *ps->p == '_')
		return parse_member(ps);
	return mv_error_create(MV_ERR_USAGE,
			       "length expression '%s': a member, a number "
			       "or '(' expected at '%s'", ps->text,
			       *ps->p ? ps->p : "its end");
}

/* One level of binary operators: ops[i] spelled names[i]. */
static struct mv_error *parse_level(struct parser *ps, int level);

static const struct {
	const char *name;
	uint8_t op;
	int level;
} binops[] = {
	{"|", MV_LEN_OR, 0},   {"&", MV_LEN_AND, 1},
	{"<<", MV_LEN_SHL, 2}, {">>", MV_LEN_SHR, 2},
	{"+", MV_LEN_ADD, 3},  {"-", MV_LEN_SUB, 3},
	{"*", MV_LEN_MUL, 4},  {"/", MV_LEN_DIV, 4}, {"%", MV_LEN_MOD, 4},
};
#define NLEVELS 5

static struct mv_error *parse_level(struct parser *ps, int level)
{
	if (level == NLEVELS)
		return parse_primary(ps);
	struct mv_error *err = parse_level(ps, level + 1);
	while (!err) {
		skip_space(ps);
		int found = -1;
		for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
			if (binops[i].level == level &&
			    !strncmp(ps->p, binops[i].name,
				     strlen(binops[i].name)) &&
			    /* '|' is not '||', '&' not '&&' */
			    !(strlen(binops[i].name) == 1 &&
			      ps->p[1] == ps->p[0] &&
			      (*ps->p == '|' || *ps->p == '&')))
				found = (int)i;
		if (found < 0)
			return NULL;
		ps->p += strlen(binops[found].name);
		if ((err = parse_level(ps, level + 1)))
			return err;
		err = emit(ps, (struct mv_len_term){.op = binops[found].op});
	}
	return err;
}

static struct mv_error *parse_or(struct parser *ps)
{
	return parse_level(ps, 0);
}

struct mv_error *mv_len_expr_compile(struct mv_type *record, const char *text,
				     struct mv_len_expr *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct parser ps = {.record = record, .text = text, .p = text,
			    .e = ret};
	struct mv_error *err = parse_or(&ps);
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

bool mv_len_expr_eval(const struct mv_len_expr *e, const uint8_t *bytes,
		      size_t avail, uint64_t *ret)
{
	uint64_t st[MV_LEN_EXPR_MAX];
	uint32_t sp = 0;
	if (!e->n || e->end > avail)
		return false;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct mv_len_term *t = &e->t[i];
		if (t->op == MV_LEN_CONST) {
			st[sp++] = t->v;
			continue;
		}
		if (t->op == MV_LEN_FIELD) {
			st[sp++] = read_int(bytes + t->v, t->size, t->is_signed);
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
		default: r = a | b; break;
		}
		st[sp - 1] = r;
	}
	/* A negative length is no length (a hostile 2^60 is bounded by
	 * the caller, by the block the elements must fit in). */
	*ret = (int64_t)st[0] < 0 ? 0 : st[0];
	return true;
}
