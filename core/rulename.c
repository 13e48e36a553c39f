/* rulename.c - name and show rules (docs/types.md): how a program's
 * language names an edge ("[3]", "['key']", ".attr") and shows the
 * object a name mentions (a dict's key), as templates of literal text
 * and {directives} over a record's members.  Parsed once when a rules
 * file is loaded (errors name the directive); rendered per edge with
 * bounded, escaped reads of the target.  No language is known here:
 * CPython's names are its rules file's. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dwarf.h"
#include "rules.h"
#include "session.h"

#define NAME_MAX_CHARS 64    /* of target text shown, then "..." */

/* ---- parsing ---- */

/* The '=' that ends a rule's left side: not part of ==, <=, >= or !=. */
static const char *rule_eq(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p == '=' && p[1] != '=' &&
		    (p == text || !strchr("=<>!", p[-1])))
			return p;
	return NULL;
}

static const struct {
	const char *word;
	uint8_t kind;
	unsigned nexpr;
} directives[] = {
	{"index", MV_NAME_INDEX, 0},     {"address", MV_NAME_ADDRESS, 0},
	{"value", MV_NAME_VALUE, 1},     {"text", MV_NAME_CHARS, 3},
	{"cstring", MV_NAME_CSTRING, 1}, {"show", MV_NAME_SHOW, 1},
	{"bare", MV_NAME_BARE, 1},
};

static struct mv_name_part *new_part(struct mv_name_template *t,
				     struct mv_error **err)
{
	if (t->nparts == MV_NAME_MAX_PARTS) {
		*err = mv_error_create(MV_ERR_USAGE, "a name has at most %u "
				       "parts", MV_NAME_MAX_PARTS);
		return NULL;
	}
	struct mv_name_part *p = &t->parts[t->nparts++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* The expressions of a directive, separated by commas, over record. */
static struct mv_error *directive_exprs(struct mv_session *s,
					struct mv_type *record,
					struct mv_name_part *p, const char *args,
					unsigned n, uint64_t *end)
{
	if (!n)
		return *args ? mv_error_create(MV_ERR_USAGE, "unexpected '%s'",
					       args) : NULL;
	if (!(p->e = calloc(n, sizeof(*p->e))))
		return mv_enomem;
	const char *a = args;
	for (unsigned i = 0; i < n; i++) {
		size_t len = i + 1 < n ? strcspn(a, ",") : strlen(a);
		if ((i + 1 < n && !a[len]) || !len)
			return mv_error_create(MV_ERR_USAGE, "%u expression%s "
					       "expected in '%s'", n,
					       n == 1 ? "" : "s", args);
		char *one = strndup(a, len);
		if (!one)
			return mv_enomem;
		struct mv_type *pointee = NULL;
		struct mv_error *err = mv_len_expr_compile_name(
			s, record, one, true, &p->e[i], &pointee);
		free(one);
		if (err)
			return err;
		if (p->e[i].end > *end)
			*end = p->e[i].end;
		p->pointee = pointee;
		a += len + (i + 1 < n);
	}
	if ((p->kind == MV_NAME_SHOW || p->kind == MV_NAME_BARE) &&
	    !p->pointee)
		return mv_error_create(MV_ERR_USAGE, "{show} and {bare} take "
				       "a pointer to an object, not '%s'",
				       args);
	return NULL;
}

/* "{word EXPR, ...}" at text (past the brace, up to close). */
static struct mv_error *parse_directive(struct mv_session *s,
					struct mv_type *record,
					struct mv_name_template *t,
					const char *text, size_t len)
{
	char *d = strndup(text, len);
	if (!d)
		return mv_enomem;
	char *w = d + strspn(d, " \t");
	size_t wl = strcspn(w, " \t");
	char *args = w + wl + strspn(w + wl, " \t");
	char *e = args + strlen(args);
	while (e > args && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	struct mv_error *err = NULL;
	size_t k, nd = sizeof(directives) / sizeof(directives[0]);
	for (k = 0; k < nd; k++)
		if (strlen(directives[k].word) == wl &&
		    !strncmp(w, directives[k].word, wl))
			break;
	struct mv_name_part *p;
	if (k == nd)
		err = mv_error_create(MV_ERR_USAGE, "unknown {%.*s} (index, "
				      "address, value, text, cstring, show "
				      "or bare)", (int)wl, w);
	else if ((p = new_part(t, &err))) {
		p->kind = directives[k].kind;
		err = directive_exprs(s, record, p, args,
				      directives[k].nexpr, &t->end);
	}
	free(d);
	return err;
}

/* The literal text gathered so far as a part (blanks kept), owned by
 * r; nothing when there is none. */
static struct mv_error *put_literal(struct mv_rules *r,
				   struct mv_name_template *t,
				   const struct mv_buf *lit)
{
	struct mv_error *err = NULL;
	if (!lit->len || lit->oom)
		return lit->oom ? mv_enomem : NULL;
	struct mv_name_part *lp = new_part(t, &err);
	if (!lp)
		return err;
	lp->kind = MV_NAME_TEXT_LIT;
	char **ns = realloc(r->strings, (r->nstrings + 1) * sizeof(*ns));
	if (!ns)
		return mv_enomem;
	r->strings = ns;
	if (!(ns[r->nstrings] = strndup(lit->data, lit->len)))
		return mv_enomem;
	lp->lit = ns[r->nstrings++];
	return NULL;
}

/* Literal text and {directives}; "{{" and "}}" are braces. */
static struct mv_error *parse_template(struct mv_session *s,
				       struct mv_rules *r,
				       struct mv_type *record, const char *text,
				       struct mv_name_template *t)
{
	memset(t, 0, sizeof(*t));
	if (!(t->parts = calloc(MV_NAME_MAX_PARTS, sizeof(*t->parts))))
		return mv_enomem;
	struct mv_buf lit;
	mv_buf_init(&lit);
	struct mv_error *err = NULL;
	for (const char *p = text; *p && !err;) {
		bool open = p[0] == '{' && p[1] != '{';
		if (!open) {
			mv_buf_putc(&lit, *p);
			p += (p[0] == '{' || p[0] == '}') && p[1] == p[0] ? 2
									  : 1;
			continue;
		}
		const char *close = strchr(p, '}');
		if (!close) {
			err = mv_error_create(MV_ERR_USAGE, "'{' without '}' "
					      "in '%s'", text);
			break;
		}
		err = put_literal(r, t, &lit);
		mv_buf_clear(&lit);
		if (!err)
			err = parse_directive(s, record, t, p + 1,
					      (size_t)(close - p - 1));
		p = close + 1;
	}
	if (!err)
		err = put_literal(r, t, &lit);
	if (!err && lit.oom)
		err = mv_enomem;
	mv_buf_deinit(&lit);
	return err;
}

static void template_free(struct mv_name_template *t)
{
	for (size_t i = 0; t->parts && i < t->nparts; i++)
		free(t->parts[i].e);
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

/* Appends the rule (size bytes) to a rules array of at most 4096; on
 * failure frees its template t (may be NULL). */
static struct mv_error *append_rule(void **arr, size_t *n, size_t size,
				    const void *rule,
				    struct mv_name_template *t)
{
	char *a = *n < 4096 ? realloc(*arr, (*n + 1) * size) : NULL;
	if (!a) {
		if (t)
			template_free(t);
		return *n >= 4096 ? mv_error_create(MV_ERR_USAGE, "more than "
						    "4096 rules of one kind")
				  : mv_enomem;
	}
	*arr = a;
	memcpy(a + (*n)++ * size, rule, size);
	return NULL;
}

/* The array rule of type key tn whose offset is written as at. */
static int64_t array_rule(const struct mv_rules *r, const char *tn,
			  const char *at, size_t len)
{
	for (size_t i = 0; i < r->narrays; i++)
		if (!strcmp(r->arrays[i].type, tn) &&
		    strlen(r->arrays[i].offset_text) == len &&
		    !strncmp(r->arrays[i].offset_text, at, len))
			return (int64_t)i;
	return -1;
}

/* A rule's '=' to *eq, and where key (" at ", " if ") is before it to
 * *word (NULL: not there); without '=', a usage error saying usage. */
static struct mv_error *rule_parts(const char *text, const char *usage,
				   const char *key, const char **eq,
				   const char **word)
{
	if (!(*eq = rule_eq(text)))
		return mv_error_create(MV_ERR_USAGE, "%s expected", usage);
	*word = strstr(text, key);
	if (*word && *word > *eq)
		*word = NULL;
	return NULL;
}

/* What a name rule names, text[0, end): TYPE.FIELD, TYPE.FIELD[] or
 * TYPE at OFFSET (the array rule's), into nr (its type owned by r);
 * the record's type to *t. */
static struct mv_error *name_target(struct mv_session *s, struct mv_rules *r,
				    const char *text, const char *end,
				    struct mv_rule_name *nr, struct mv_type **t)
{
	const char *at = strstr(text, " at ");
	char key[MV_EVAL_TYPE_NAME_MAX];
	struct mv_error *err;
	nr->array = nr->in = -1;
	while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (at && at < end) {
		if ((err = mv_rules_named_type(s, text, (size_t)(at - text),
					       t)))
			return err;
		mv_rules_type_key(*t, key, sizeof(key));
		const char *o = at + 4 + strspn(at + 4, " \t");
		size_t len = (size_t)(end - o);
		if ((nr->array = array_rule(r, key, o, len)) < 0)
			return mv_error_create(MV_ERR_USAGE, "no rule 'array "
					       "%s at %.*s' before it to name",
					       key, (int)len, o);
	} else {
		/* The type ends at the first '.' that names it. */
		const char *first = memchr(text, '.', (size_t)(end - text));
		if (!first)
			return mv_error_create(MV_ERR_USAGE, "TYPE.FIELD "
					       "expected before '='");
		if ((err = mv_rules_named_type(s, text, (size_t)(first - text),
					       t)))
			return err;
		mv_rules_type_key(*t, key, sizeof(key));
		nr->elements = end - first > 3 && end[-1] == ']' &&
			       end[-2] == '[';
		char *path = mv_rules_own(r, first + 1,
					  (size_t)(end - first - 1) -
					  (nr->elements ? 2 : 0));
		const struct mv_member *m;
		if (!path)
			return mv_enomem;
		if ((err = mv_rules_member_path(*t, path, &nr->offset, &m)))
			return err;
		struct mv_type *mt = mv_type_strip(m->type);
		if (!mt || (mt->kind != MV_TYPE_POINTER &&
			    (nr->elements || mt->kind != MV_TYPE_ARRAY)))
			return mv_error_create(MV_ERR_USAGE, "member '%s' is "
					       "not a pointer%s: nothing to "
					       "name", path, nr->elements ? ""
					       : " or an array");
	}
	return (nr->type = mv_rules_own(r, key, strlen(key))) ? NULL
							      : mv_enomem;
}

/* The length of [p, end) without the blanks it ends with. */
static size_t trimmed(const char *p, const char *end)
{
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return (size_t)(end - p);
}

/* The name rule (not itself a context's) naming what nr names. */
static int64_t name_rule_of(const struct mv_rules *r,
			    const struct mv_rule_name *nr)
{
	for (size_t i = 0; i < r->nnames; i++) {
		const struct mv_rule_name *n = &r->names[i];
		if (n->in < 0 && !strcmp(n->type, nr->type) &&
		    n->array == nr->array && n->elements == nr->elements &&
		    (nr->array >= 0 || n->offset == nr->offset))
			return (int64_t)i;
	}
	return -1;
}

/* name TARGET [in TARGET] = TEMPLATE, TARGET: TYPE.FIELD, TYPE.FIELD[]
 * or TYPE at OFFSET */
struct mv_error *mv_rules_add_name(struct mv_session *s, struct mv_rules *r,
				   const char *text)
{
	const char *eq, *in;
	struct mv_type *t, *ht;
	struct mv_error *err = rule_parts(text, "name TYPE.FIELD = NAME or "
					  "name TYPE at OFFSET = NAME", " in ",
					  &eq, &in);
	if (err)
		return err;
	struct mv_rule_name nr = {0}, holder = {0};
	if ((err = name_target(s, r, text, in ? in : eq, &nr, &t)))
		return err;
	if (in) {
		const char *h = in + 4 + strspn(in + 4, " \t");
		if ((err = name_target(s, r, h, eq, &holder, &ht)))
			return err;
		if ((nr.in = name_rule_of(r, &holder)) < 0)
			return mv_error_create(MV_ERR_USAGE, "no rule 'name "
					       "%.*s' before it to be in",
					       (int)trimmed(h, eq), h);
		/* It refines the rule of its target everywhere. */
		if (name_rule_of(r, &nr) < 0)
			return mv_error_create(MV_ERR_USAGE, "no rule 'name "
					       "%.*s' before it to refine",
					       (int)trimmed(text, in), text);
	}
	const char *tmpl = eq + 1 + strspn(eq + 1, " \t");
	if ((err = parse_template(s, r, t, tmpl, &nr.t))) {
		template_free(&nr.t);
		return err;
	}
	return append_rule((void **)&r->names, &r->nnames, sizeof(nr), &nr,
			   &nr.t);
}

/* show TYPE [if COND] = TEMPLATE, or typename (class_name) */
static struct mv_error *add_show(struct mv_session *s, struct mv_rules *r,
				 const char *text, bool class_name)
{
	const char *eq, *cond;
	struct mv_type *t;
	struct mv_error *err = rule_parts(text, class_name
					  ? "typename TYPE = TEXT or typename "
					    "TYPE if CONDITION = TEXT"
					  : "show TYPE = TEXT or show "
					    "TYPE if CONDITION = TEXT", " if ",
					  &eq, &cond);
	if (!err)
		err = mv_rules_named_type(
			s, text, (size_t)((cond ? cond : eq) - text), &t);
	if (err)
		return err;
	char key[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(t, key, sizeof(key));
	struct mv_rule_show sr = {.class_name = class_name};
	if (!(sr.type = mv_rules_own(r, key, strlen(key))))
		return mv_enomem;
	if (cond) {
		char *c = mv_rules_own(r, cond + 4, (size_t)(eq - cond - 4));
		if (!c)
			return mv_enomem;
		if ((err = mv_len_expr_compile_in(s, t, c, &sr.cond)))
			return err;
		sr.has_cond = true;
	}
	const char *tmpl = eq + 1 + strspn(eq + 1, " \t");
	if ((err = parse_template(s, r, t, tmpl, &sr.t))) {
		template_free(&sr.t);
		return err;
	}
	return append_rule((void **)&r->shows, &r->nshows, sizeof(sr), &sr,
			   &sr.t);
}

struct mv_error *mv_rules_add_show(struct mv_session *s, struct mv_rules *r,
				   const char *text)
{
	return add_show(s, r, text, false);
}

/* typename TYPE [if COND] = TEMPLATE */
struct mv_error *mv_rules_add_typename(struct mv_session *s,
				       struct mv_rules *r, const char *text)
{
	return add_show(s, r, text, true);
}

/* object TYPE if COND */
struct mv_error *mv_rules_add_object(struct mv_session *s,
				     struct mv_rules *r, const char *text)
{
	const char *cond = strstr(text, " if ");
	if (!cond)
		return mv_error_create(MV_ERR_USAGE, "object TYPE if "
				       "CONDITION expected");
	struct mv_type *t;
	struct mv_error *err = mv_rules_named_type(
		s, text, (size_t)(cond - text), &t);
	if (err)
		return err;
	char key[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(t, key, sizeof(key));
	struct mv_rule_object ob = {0};
	char *ptr = mv_rules_own(r, text, (size_t)(cond - text));
	char *c = mv_rules_own(r, cond + 4, strlen(cond + 4));
	struct mv_buf pn;
	mv_buf_init(&pn);
	mv_buf_printf(&pn, "%s *", ptr ? ptr : "");
	if (!(ob.type = mv_rules_own(r, key, strlen(key))) || !c || !ptr ||
	    pn.oom) {
		mv_buf_deinit(&pn);
		return mv_enomem;
	}
	err = mv_session_parse_type(s, pn.data, &ob.ptr);
	mv_buf_deinit(&pn);
	if (!err)
		err = mv_len_expr_compile_in(s, t, c, &ob.cond);
	if (err)
		return err;
	return append_rule((void **)&r->objects, &r->nobjects, sizeof(ob),
			   &ob, NULL);
}

/* The word after key in text, up to the next " KEYWORD " or the end;
 * NULL when key is missing. */
static const char *clause(const char *text, const char *key,
			  const char *stop, size_t *len)
{
	const char *p = strstr(text, key);
	if (!p)
		return NULL;
	p += strlen(key);
	const char *e = stop ? strstr(p, stop) : NULL;
	*len = e ? (size_t)(e - p) : strlen(p);
	return p;
}

/* A member of t at path text[0, len): its offset, and its type to *mt. */
static struct mv_error *member_of(struct mv_rules *r, struct mv_type *t,
				  const char *text, size_t len,
				  uint64_t *off, struct mv_type **mt)
{
	char *path = mv_rules_own(r, text, len);
	const struct mv_member *m;
	if (!path)
		return mv_enomem;
	struct mv_error *err = mv_rules_member_path(t, path, off, &m);
	if (!err)
		*mt = mv_type_strip(m->type);
	return err;
}

/* The last '.' of text[0, len), or NULL. */
static const char *last_dot(const char *text, size_t len)
{
	const char *dot = NULL;
	for (const char *p = text; p < text + len; p++)
		if (*p == '.')
			dot = p;
	return dot;
}

/* running FUNCTION.VARIABLE: the function must have an ELF symbol, and
 * its DWARF the variable (checked at its first instruction). */
static struct mv_error *frames_running(struct mv_session *s,
				       struct mv_rules *r,
				       struct mv_rule_frames *fr,
				       const char *text, size_t len)
{
	const char *dot = last_dot(text, len);
	if (!dot || dot == text || dot + 1 == text + len)
		return mv_error_create(MV_ERR_USAGE, "running: FUNCTION."
				       "VARIABLE expected, not '%.*s'",
				       (int)len, text);
	fr->running_function = mv_rules_own(r, text, (size_t)(dot - text));
	fr->running_variable = mv_rules_own(r, dot + 1,
					    (size_t)(text + len - dot - 1));
	if (!fr->running_function || !fr->running_variable)
		return mv_enomem;
	struct mv_program *p = s->program;
	uint64_t at, size;
	if (!p || !mv_program_find_symbol(p, fr->running_function, &at, &size))
		return mv_error_create(MV_ERR_USAGE, "running: no function "
				       "'%s' in the program",
				       fr->running_function);
	struct mv_objfile *o = mv_program_objfile_at(p, at);
	struct mv_dwarf *d = NULL;
	struct mv_error *err = o ? mv_objfile_dwarf(o, &d) : NULL;
	mv_error_destroy(err);
	struct mv_dwarf_loc loc;
	if (!d || !mv_dwarf_local_location(d, at, fr->running_variable, &loc))
		return mv_error_create(MV_ERR_USAGE, "running: function '%s' "
				       "has no variable '%s' in its DWARF",
				       fr->running_function,
				       fr->running_variable);
	return NULL;
}

/* each OWNER.NEXT first FIRST: the chain of owners (threads) whose
 * records' chains a frames rule reads, each from FIRST over it. */
static struct mv_error *frames_each(struct mv_session *s, struct mv_rules *r,
				   struct mv_rule_frames *fr, const char *each,
				   size_t el, const char *first, size_t il)
{
	const char *dot = last_dot(each, el);
	if (!dot)
		return mv_error_create(MV_ERR_USAGE, "each: OWNER.NEXT "
				       "expected, not '%.*s'", (int)el, each);
	struct mv_type *ot, *nt = NULL;
	struct mv_error *err = mv_rules_named_type(s, each,
						   (size_t)(dot - each), &ot);
	if (!err)
		err = member_of(r, ot, dot + 1, (size_t)(each + el - dot - 1),
				&fr->each_next_offset, &nt);
	if (!err && nt->kind != MV_TYPE_POINTER)
		err = mv_error_create(MV_ERR_USAGE, "each: member '%.*s' is "
				      "not a pointer",
				      (int)(each + el - dot - 1), dot + 1);
	char *ft = err ? NULL : mv_rules_own(r, first, il);
	if (!err && !ft)
		err = mv_enomem;
	if (!err)
		err = mv_len_expr_compile_in(s, ot, ft, &fr->first);
	fr->each = !err;
	return err;
}

/* name TEMPLATE [else TEMPLATE] of a frames rule (text[0, len)): the
 * rule is appended to r with them, or they are freed. */
static struct mv_error *frames_names(struct mv_session *s, struct mv_rules *r,
				     struct mv_rule_frames *fr,
				     const char *text, size_t len)
{
	const char *e = strstr(text, " else ");
	size_t nl = e && e < text + len ? (size_t)(e - text) : len;
	char *tmpl = mv_rules_own(r, text, nl);
	char *other = nl < len ? mv_rules_own(r, text + nl + 6,
					      len - nl - 6) : NULL;
	struct mv_error *err = !tmpl || (nl < len && !other)
				       ? mv_enomem
				       : parse_template(s, r, fr->t, tmpl,
							&fr->name);
	if (!err && other)
		err = parse_template(s, r, fr->t, other, &fr->name_else);
	if (!err)
		err = append_rule((void **)&r->frames, &r->nframes,
				  sizeof(*fr), fr, NULL);
	if (err) {
		template_free(&fr->name);
		template_free(&fr->name_else);
	}
	return err;
}

/* frames TYPE from EXPR [each OWNER.NEXT first FIRST] next FIELD live
 * FIELD[COUNT] [running FUNCTION.VARIABLE] name TEMPLATE [else
 * TEMPLATE] */
struct mv_error *mv_rules_add_frames(struct mv_session *s,
				     struct mv_rules *r, const char *text)
{
	size_t fl = 0, el = 0, il = 0, nl = 0, ll = 0, tl = 0, rl = 0;
	const char *each = clause(text, " each ", " first ", &el);
	const char *from = clause(text, " from ", each ? " each " : " next ",
				  &fl);
	const char *first = each ? clause(each, " first ", " next ", &il)
				 : NULL;
	const char *next = clause(first ? first : text, " next ", " live ",
				  &nl);
	const char *name = next ? clause(next, " name ", NULL, &tl) : NULL;
	const char *running = name ? clause(next, " running ", " name ", &rl)
				   : NULL;
	if (running && running > name)
		running = NULL;
	const char *live = next ? clause(next, " live ",
					 running ? " running " : " name ", &ll)
				: NULL;
	const char *lb = live ? memchr(live, '[', ll) : NULL;
	if (!from || !next || !live || !name || !lb ||
	    live[ll - 1] != ']' || (each && (!first || from > each)))
		return mv_error_create(MV_ERR_USAGE, "frames TYPE from EXPR "
				       "[each OWNER.NEXT first EXPR] next "
				       "FIELD live FIELD[COUNT] [running "
				       "FUNCTION.VARIABLE] name TEMPLATE "
				       "[else TEMPLATE] expected");
	struct mv_rule_frames fr = {0};
	struct mv_type *nt = NULL, *lt = NULL;
	struct mv_error *err = mv_rules_named_type(
		s, text, (size_t)(from - 6 - text), &fr.t);
	if (!err && each)
		err = frames_each(s, r, &fr, each, el, first, il);
	if (!err && running)
		err = frames_running(s, r, &fr, running, rl);
	if (!err)
		err = member_of(r, fr.t, next, nl, &fr.next_offset, &nt);
	if (!err && nt->kind != MV_TYPE_POINTER)
		err = mv_error_create(MV_ERR_USAGE, "next: member '%.*s' is "
				      "not a pointer", (int)nl, next);
	if (!err)
		err = member_of(r, fr.t, live, (size_t)(lb - live),
				&fr.live_offset, &lt);
	if (!err && lt->kind != MV_TYPE_ARRAY)
		err = mv_error_create(MV_ERR_USAGE, "live: member '%.*s' is "
				      "not an array", (int)(lb - live), live);
	if (err)
		return err;
	struct mv_type *et = mv_type_strip(mv_type_target(lt));
	fr.live_stride = et && et->size ? et->size : 8;
	char key[MV_EVAL_TYPE_NAME_MAX];
	mv_rules_type_key(fr.t, key, sizeof(key));
	char *count = mv_rules_own(r, lb + 1, (size_t)(live + ll - lb - 2));
	fr.type = mv_rules_own(r, key, strlen(key));
	fr.from = mv_rules_own(r, from, fl);
	if (!count || !fr.type || !fr.from)
		return mv_enomem;
	if ((err = mv_len_expr_compile_in(s, fr.t, count, &fr.count)))
		return err;
	return frames_names(s, r, &fr, name, tl);
}

void mv_rules_names_deinit(struct mv_rules *r)
{
	for (size_t i = 0; i < r->nframes; i++) {
		template_free(&r->frames[i].name);
		template_free(&r->frames[i].name_else);
	}
	free(r->frames);
	r->frames = NULL;
	r->nframes = 0;
	free(r->objects);
	r->objects = NULL;
	r->nobjects = 0;
	for (size_t i = 0; i < r->nnames; i++)
		template_free(&r->names[i].t);
	for (size_t i = 0; i < r->nshows; i++)
		template_free(&r->shows[i].t);
	free(r->names);
	free(r->shows);
	r->names = NULL;
	r->shows = NULL;
	r->nnames = r->nshows = 0;
}

/* ---- rendering ---- */

/* A code point as the name shows it: UTF-8 when printable, else
 * escaped; the quote and the backslash escaped. */
static void put_char(struct mv_buf *out, uint32_t c)
{
	if (c == '\'' || c == '\\')
		mv_buf_printf(out, "\\%c", (char)c);
	else if (c >= 0x20 && c < 0x7f)
		mv_buf_putc(out, (char)c);
	else if (c < 0xa0)
		mv_buf_printf(out, "\\x%02x", c);
	else if (c >= 0xd800 && c < 0xe000)
		mv_buf_printf(out, "\\u%04x", c);
	else if (c < 0x800)
		mv_buf_printf(out, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 63));
	else if (c < 0x10000)
		mv_buf_printf(out, "%c%c%c", 0xe0 | (c >> 12),
			      0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
	else if (c < 0x110000)
		mv_buf_printf(out, "%c%c%c%c", 0xf0 | (c >> 18),
			      0x80 | ((c >> 12) & 63),
			      0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
	else
		mv_buf_printf(out, "\\U%08x", c);
}

/* count characters of width bytes at address, at most NAME_MAX_CHARS. */
static bool put_chars(const struct mv_name_env *env, uint64_t address,
		      int64_t count, int64_t width, struct mv_buf *out)
{
	if (count < 0 || (width != 1 && width != 2 && width != 4))
		return false;
	uint8_t buf[NAME_MAX_CHARS * 4];
	size_t n = count > NAME_MAX_CHARS ? NAME_MAX_CHARS : (size_t)count;
	size_t want = n * (size_t)width;
	if (!env->read || env->read(env->read_arg, address, buf, want) != want)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = 0;
		if (width == 1)
			c = buf[i];
		else if (width == 2)
			c = (uint32_t)buf[2 * i] | (uint32_t)buf[2 * i + 1] << 8;
		else
			memcpy(&c, buf + 4 * i, 4);
		put_char(out, c);
	}
	if ((uint64_t)count > n)
		mv_buf_puts(out, "...");
	return true;
}

/* A NUL-terminated string at address: bytes outside printable ASCII
 * escaped. */
static bool put_cstring(const struct mv_name_env *env, uint64_t address,
			struct mv_buf *out)
{
	char buf[NAME_MAX_CHARS];
	size_t got = env->read && address
			     ? env->read(env->read_arg, address, buf,
					 sizeof(buf)) : 0;
	size_t n = strnlen(buf, got);
	if (!got)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x80)
			put_char(out, c);
		else
			mv_buf_printf(out, "\\x%02x", c);
	}
	if (n == got)
		mv_buf_puts(out, "...");
	return true;
}

bool mv_name_render(const struct mv_name_template *t, const uint8_t *bytes,
		    size_t avail, uint64_t address, uint64_t index,
		    const struct mv_name_env *env, bool bare,
		    struct mv_buf *out)
{
	size_t mark = out->len;
	int64_t v[3];
	bool ok = true;
	for (size_t i = 0; i < t->nparts && ok; i++) {
		const struct mv_name_part *p = &t->parts[i];
		unsigned n = p->kind == MV_NAME_CHARS ? 3 : p->e ? 1 : 0;
		for (unsigned k = 0; k < n && ok; k++)
			ok = mv_len_expr_eval_index(&p->e[k], bytes, avail,
						    env->read, env->read_arg,
						    index, &v[k]);
		if (!ok)
			break;
		switch (p->kind) {
		case MV_NAME_TEXT_LIT:
			if (!bare)
				mv_buf_puts(out, p->lit);
			break;
		case MV_NAME_INDEX:
			mv_buf_printf(out, "%llu", (unsigned long long)index);
			break;
		case MV_NAME_ADDRESS:
			mv_buf_printf(out, "0x%llx",
				      (unsigned long long)address);
			break;
		case MV_NAME_VALUE:
			mv_buf_printf(out, "%lld", (long long)v[0]);
			break;
		case MV_NAME_CHARS:
			ok = put_chars(env, address + (uint64_t)v[0], v[1],
				       v[2], out);
			break;
		case MV_NAME_CSTRING:
			ok = put_cstring(env, (uint64_t)v[0], out);
			break;
		default:
			ok = env->show && v[0] &&
			     env->show(env->show_arg, p->pointee,
					(uint64_t)v[0],
					p->kind == MV_NAME_BARE, out);
			break;
		}
	}
	if (!ok || out->oom) {
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
		return false;
	}
	return true;
}
