/* type.c - questions about a type that need no DWARF: its target, its C
 * spelling, its alignment.
 *
 * Targets may be loaded lazily (see type_internal.h).  Every walk here is
 * bounded: hostile debug info can make a typedef its own target, and the
 * answer must then be a placeholder, not a hang. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "type_internal.h"

/* Longest typedef/qualifier chain or declarator nesting we follow. */
#define MAX_DEPTH 64
/* Work budget for alignment of nested aggregates: shared sub-structs can
 * make a naive walk exponential. */
#define ALIGN_BUDGET 100000

/* Handed out when a target is missing or a chain does not end.  Never
 * modified: its fields are read-only like every other type's. */
static struct mv_type unknown_type = {
	.kind = MV_TYPE_UNKNOWN,
	.name = "<unknown type>",
};
static struct mv_type cycle_type = {
	.kind = MV_TYPE_UNKNOWN,
	.name = "<typedef or qualifier chain too long>",
};

static bool has_target(enum mv_type_kind kind)
{
	switch (kind) {
	case MV_TYPE_POINTER:
	case MV_TYPE_TYPEDEF:
	case MV_TYPE_ARRAY:
	case MV_TYPE_FUNCTION:
	case MV_TYPE_QUALIFIED:
		return true;
	default:
		return false;
	}
}

struct mv_type *mv_type_target(struct mv_type *t)
{
	if (!t)
		return NULL;
	if (t->target_)
		return t->target_;
	if (t->lazy_) {
		struct mv_type_lazy *lazy = t->lazy_;
		struct mv_type *target = lazy->resolve(lazy->arg, t);
		if (target) {
			t->target_ = target;
			return target;
		}
	}
	/* An enum without an underlying type, a struct... have no target. */
	return has_target(t->kind) ? &unknown_type : NULL;
}

struct mv_type *mv_type_strip(struct mv_type *t)
{
	for (int i = 0; t && i < MAX_DEPTH; i++) {
		if (t->kind != MV_TYPE_TYPEDEF && t->kind != MV_TYPE_QUALIFIED)
			return t;
		t = mv_type_target(t);
	}
	return t ? &cycle_type : NULL;
}

static uint64_t alignment(struct mv_type *t, int depth, long *budget)
{
	if (!t || depth > MAX_DEPTH || --*budget < 0)
		return 1;
	t = mv_type_strip(t);
	switch (t->kind) {
	case MV_TYPE_INT:
	case MV_TYPE_BOOL:
	case MV_TYPE_POINTER:
	case MV_TYPE_ENUM:
		if (t->size == 0)
			return 1;
		return t->size > 16 ? 16 : t->size;
	case MV_TYPE_FLOAT:
		if (t->size == 0)
			return 1;
		/* _Complex T is aligned like T: two halves. */
		if (t->name && strstr(t->name, "complex"))
			return t->size / 2 > 16 ? 16 : (t->size / 2 ? t->size / 2 : 1);
		return t->size > 16 ? 16 : t->size;
	case MV_TYPE_ARRAY:
		return alignment(mv_type_target(t), depth + 1, budget);
	case MV_TYPE_STRUCT:
	case MV_TYPE_UNION:
	case MV_TYPE_CLASS: {
		uint64_t max = 1;
		for (size_t i = 0; i < t->nmembers; i++) {
			struct mv_member *m = &t->members[i];
			uint64_t a = alignment(m->type, depth + 1, budget);
			/* A member placed off its natural alignment means the
			 * struct is packed: the ABI then aligns it to 1. */
			if (!m->bit_size && (m->bit_position % (a * 8)))
				return 1;
			if (a > max)
				max = a;
		}
		if (t->size && t->size % max)
			return 1;
		return max;
	}
	default:
		return 1;
	}
}

uint64_t mv_type_alignment(struct mv_type *t)
{
	long budget = ALIGN_BUDGET;
	return alignment(t, 0, &budget);
}

bool mv_type_is_aggregate(struct mv_type *t)
{
	t = mv_type_strip(t);
	if (!t)
		return false;
	switch (t->kind) {
	case MV_TYPE_STRUCT:
	case MV_TYPE_UNION:
	case MV_TYPE_CLASS:
	case MV_TYPE_ARRAY:
		return true;
	default:
		return false;
	}
}

/* Replaces b's contents with prefix + b. */
static void buf_prepend(struct mv_buf *b, const char *prefix)
{
	size_t n = strlen(prefix);
	if (b->oom || !mv_buf_reserve(b, n))
		return;
	memmove(b->data + n, b->data, b->len + 1);
	memcpy(b->data, prefix, n);
	b->len += n;
}

static void quals_string(uint32_t quals, struct mv_buf *out)
{
	static const struct {
		uint32_t bit;
		const char *word;
	} words[] = {
		{ MV_QUAL_CONST, "const" },
		{ MV_QUAL_VOLATILE, "volatile" },
		{ MV_QUAL_RESTRICT, "restrict" },
		{ MV_QUAL_ATOMIC, "_Atomic" },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(quals & words[i].bit))
			continue;
		if (out->len)
			mv_buf_putc(out, ' ');
		mv_buf_puts(out, words[i].word);
	}
}

static void leaf_name(struct mv_type *t, struct mv_buf *out)
{
	const char *tag = NULL;
	switch (t->kind) {
	case MV_TYPE_STRUCT:
		tag = "struct";
		break;
	case MV_TYPE_UNION:
		tag = "union";
		break;
	case MV_TYPE_CLASS:
		tag = "class";
		break;
	case MV_TYPE_ENUM:
		tag = "enum";
		break;
	case MV_TYPE_VOID:
		mv_buf_puts(out, "void");
		return;
	default:
		break;
	}
	if (tag) {
		mv_buf_printf(out, "%s %s", tag, t->name ? t->name : "{...}");
		return;
	}
	if (t->name) {
		mv_buf_puts(out, t->name);
		return;
	}
	switch (t->kind) {
	case MV_TYPE_INT:
		mv_buf_printf(out, "<%sint%u>", t->is_signed ? "" : "u",
			      (unsigned)(t->size * 8));
		break;
	case MV_TYPE_BOOL:
		mv_buf_puts(out, "_Bool");
		break;
	case MV_TYPE_FLOAT:
		mv_buf_printf(out, "<float%u>", (unsigned)(t->size * 8));
		break;
	case MV_TYPE_TYPEDEF:
		mv_buf_puts(out, "<anonymous typedef>");
		break;
	default:
		mv_buf_puts(out, "<unknown type>");
		break;
	}
}

static void type_name(struct mv_type *t, struct mv_buf *out, int depth);

/* Appends "(int, char *)" for a function type. */
static void params_string(struct mv_type *t, struct mv_buf *out, int depth)
{
	struct mv_type_lazy *lazy = t->lazy_;
	bool varargs = lazy && lazy->varargs;
	bool prototyped = !lazy || lazy->prototyped;
	mv_buf_putc(out, '(');
	for (size_t i = 0; i < t->nmembers; i++) {
		if (i)
			mv_buf_puts(out, ", ");
		type_name(t->members[i].type, out, depth + 1);
	}
	if (varargs)
		mv_buf_puts(out, t->nmembers ? ", ..." : "...");
	else if (!t->nmembers && prototyped)
		mv_buf_puts(out, "void");
	mv_buf_putc(out, ')');
}

/*
 * C declarator syntax inside out: walk from the outer type to the leaf,
 * growing the declarator (the part around the absent identifier), then
 * put the leaf's name in front.  "pointer to array of 4 char" grows ""
 * -> "*" -> "(*)[4]" and ends as "char (*)[4]".
 */
static void type_name(struct mv_type *t, struct mv_buf *out, int depth)
{
	struct mv_buf decl;
	mv_buf_init(&decl);
	/* Qualifiers that apply to the leaf ("const char"). */
	uint32_t leaf_quals = 0;
	int steps = 0;

	if (depth > MAX_DEPTH) {
		mv_buf_puts(out, "...");
		return;
	}
	while (t && steps++ < MAX_DEPTH) {
		struct mv_type *target;
		switch (t->kind) {
		case MV_TYPE_POINTER:
			target = mv_type_target(t);
			buf_prepend(&decl, decl.len && decl.data[0] != '*' &&
						   decl.data[0] != '(' &&
						   decl.data[0] != '[' ?
						   "* " :
						   "*");
			if (target && (target->kind == MV_TYPE_ARRAY ||
				       target->kind == MV_TYPE_FUNCTION)) {
				buf_prepend(&decl, "(");
				mv_buf_putc(&decl, ')');
			}
			t = target;
			continue;
		case MV_TYPE_ARRAY:
			if (t->has_count)
				mv_buf_printf(&decl, "[%llu]",
					      (unsigned long long)t->count);
			else
				mv_buf_puts(&decl, "[]");
			t = mv_type_target(t);
			continue;
		case MV_TYPE_FUNCTION:
			params_string(t, &decl, depth);
			t = mv_type_target(t);
			continue;
		case MV_TYPE_QUALIFIED:
			target = mv_type_target(t);
			if (target && target->kind == MV_TYPE_POINTER) {
				/* "char * const": the qualifier follows the
				 * star it applies to. */
				struct mv_buf q;
				mv_buf_init(&q);
				quals_string(t->quals, &q);
				if (decl.len)
					mv_buf_putc(&q, ' ');
				if (q.data)
					buf_prepend(&decl, q.data);
				if (q.oom)
					decl.oom = true;
				mv_buf_deinit(&q);
			} else {
				leaf_quals |= t->quals;
			}
			t = target;
			continue;
		default:
			break;
		}
		break;
	}
	if (t && steps <= MAX_DEPTH) {
		if (leaf_quals) {
			struct mv_buf q;
			mv_buf_init(&q);
			quals_string(leaf_quals, &q);
			mv_buf_puts(out, q.data ? q.data : "");
			mv_buf_putc(out, ' ');
			if (q.oom)
				out->oom = true;
			mv_buf_deinit(&q);
		}
		leaf_name(t, out);
	} else {
		mv_buf_puts(out, "<type chain too long>");
	}
	if (decl.len) {
		mv_buf_putc(out, ' ');
		mv_buf_append(out, decl.data, decl.len);
	}
	if (decl.oom)
		out->oom = true;
	mv_buf_deinit(&decl);
}

size_t mv_type_name(struct mv_type *t, char *buf, size_t size)
{
	struct mv_buf out;
	mv_buf_init(&out);
	if (t)
		type_name(t, &out, 0);
	else
		mv_buf_puts(&out, "<no type>");
	const char *s = out.oom ? "<out of memory>" : (out.data ? out.data : "");
	size_t len = strlen(s);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	mv_buf_deinit(&out);
	return len;
}
