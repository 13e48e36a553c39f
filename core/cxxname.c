/* cxxname.c - C++ names as g++'s DWARF, gdb, lldb and users spell them.
 *
 * Scanning is iterative (an explicit stack of expected closers), and
 * matching recurses once per level of template arguments, at most
 * MV_CXX_MAX_NESTING levels: names come from users and from target
 * files, and neither may exhaust the stack. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cxxname.h"

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

bool mv_cxx_ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Longest first, so that "operator<<=" is not read as "operator<". */
static const char *const operators[] = {
	"<<=", ">>=", "<=>", "->*", "()", "[]", "<<", ">>", "<=", ">=",
	"==", "!=", "&&", "||", "++", "--", "->", "+=", "-=", "*=", "/=",
	"%=", "^=", "&=", "|=", "<", ">", "+", "-", "*", "/", "%", "^",
	"&", "|", "~", "!", "=", ",",
};

/* strncmp, not memcmp: s may end (NUL) before n. */
static size_t operator_len(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
		size_t k = strlen(operators[i]);
		if (k <= n && strncmp(s, operators[i], k) == 0)
			return k;
	}
	return 0;
}

/* One unit that brackets must not look inside: an identifier (with the
 * operator after "operator", whose '<' or '>' is no bracket), "->", or
 * one character. */
static size_t word_len(const char *s, size_t n)
{
	if (ident_start(s[0])) {
		size_t k = 1;
		while (k < n && mv_cxx_ident_char(s[k]))
			k++;
		if (k == 8 && strncmp(s, "operator", 8) == 0) {
			while (k < n && is_space(s[k]))
				k++;
			k += operator_len(s + k, n - k);
		}
		return k;
	}
	if (n >= 2 && s[0] == '-' && s[1] == '>')
		return 2;
	return 1;
}

static char closer_of(char c)
{
	return c == '<' ? '>' : c == '(' ? ')' : c == '[' ? ']' : 0;
}

/* Length of the balanced group opening at s[0] ('<', '(' or '['), or 0.
 * Inside parentheses and brackets '<' and '>' are operators. */
static size_t group_len(const char *s, size_t n)
{
	char stack[MV_CXX_MAX_NESTING];
	size_t depth = 0, i = 0;

	while (i < n && s[i]) {
		char c = s[i];
		bool angle_ok = depth == 0 || stack[depth - 1] == '>';
		if (closer_of(c) && (c != '<' || angle_ok)) {
			if (depth == MV_CXX_MAX_NESTING)
				return 0;
			stack[depth++] = closer_of(c);
			i++;
		} else if ((c == '>' && angle_ok) || c == ')' || c == ']') {
			if (!depth || stack[depth - 1] != c)
				return 0;
			i++;
			if (--depth == 0)
				return i;
		} else {
			i += word_len(s + i, n - i);
		}
	}
	return 0;
}

static size_t skip_spaces(const char *s, size_t i)
{
	while (is_space(s[i]))
		i++;
	return i;
}

/* One component at s: its length, or 0. */
static size_t component_len(const char *s, size_t n)
{
	size_t alen = strlen(MV_CXX_ANON_NS);
	if (n >= alen && strncmp(s, MV_CXX_ANON_NS, alen) == 0)
		return alen;
	if (!ident_start(s[0]))
		return 0;
	size_t i = word_len(s, n);
	if (i > 8 && strncmp(s, "operator", 8) == 0)
		return i;
	size_t j = skip_spaces(s, i);
	if (s[j] == '<') {
		size_t g = group_len(s + j, n - j);
		if (!g)
			return 0;
		i = j + g;
	}
	return i;
}

size_t mv_cxx_name_len(const char *s)
{
	/* No strlen: a lexer calls this at every identifier of a possibly
	 * long input; the scan stops at the NUL. */
	size_t n = SIZE_MAX / 2, i = 0;

	if (s[0] == ':' && s[1] == ':')
		i = skip_spaces(s, 2);
	for (;;) {
		size_t k = component_len(s + i, n - i);
		if (!k)
			return 0;
		i += k;
		size_t j = skip_spaces(s, i);
		if (s[j] != ':' || s[j + 1] != ':')
			return i;
		i = skip_spaces(s, j + 2);
	}
}

bool mv_cxx_needs_canon(const char *s, size_t len)
{
	/* Only white space changes: "long unsigned int" is canonical. */
	for (size_t i = 0; i < len; i++)
		if (is_space(s[i]) &&
		    (s[i] != ' ' || i == 0 || i + 1 == len ||
		     !mv_cxx_ident_char(s[i - 1]) ||
		     !mv_cxx_ident_char(s[i + 1])))
			return true;
	return false;
}

size_t mv_cxx_canon(const char *s, size_t len, char *buf, size_t size)
{
	size_t out = 0;
	char last = 0;

	for (size_t i = 0; i < len;) {
		if (is_space(s[i])) {
			while (i < len && is_space(s[i]))
				i++;
			if (i < len && mv_cxx_ident_char(last) &&
			    mv_cxx_ident_char(s[i])) {
				if (out + 1 < size)
					buf[out] = ' ';
				out++;
			}
			continue;
		}
		if (out + 1 < size)
			buf[out] = s[i];
		out++;
		last = s[i++];
	}
	if (size)
		buf[out < size ? out : size - 1] = '\0';
	return out;
}

size_t mv_cxx_stem(const char *canon, char *buf, size_t size, bool *had_args)
{
	size_t n = strlen(canon), out = 0;

	*had_args = false;
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		if (canon[i] == '<')
			k = group_len(canon + i, n - i);
		if (k) {
			*had_args = true;
			i += k;
			continue;
		}
		k = word_len(canon + i, n - i);
		for (size_t j = 0; j < k; j++, out++)
			if (out + 1 < size)
				buf[out] = canon[i + j];
		i += k;
	}
	if (size)
		buf[out < size ? out : size - 1] = '\0';
	return out;
}

size_t mv_cxx_scope_len(const char *canon)
{
	size_t n = strlen(canon), last = 0;

	for (size_t i = 0; i < n;) {
		if (canon[i] == ':' && canon[i + 1] == ':') {
			last = i;
			i += 2;
			continue;
		}
		size_t k = closer_of(canon[i]) ? group_len(canon + i, n - i)
					       : word_len(canon + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return last;
}

/* A component of a canonical name: stem, optional "<args>", and what
 * follows the arguments up to the next "::" ("*" in "Foo<int>*"). */
struct comp {
	const char *stem, *args, *tail;
	size_t stem_len, args_len, tail_len;
	bool has_args;
};

/* Splits the component at s; returns where the next one starts (past
 * its "::"), end if it was the last, NULL if malformed. */
static const char *next_comp(const char *s, const char *end,
			     struct comp *c)
{
	const char *p = s;
	memset(c, 0, sizeof(*c));
	c->stem = s;
	while (p < end && *p != '<' && !(p + 1 < end && p[0] == ':' &&
					  p[1] == ':')) {
		size_t k = *p == '(' || *p == '[' ? group_len(p, end - p)
						   : word_len(p, end - p);
		if (!k)
			return NULL;
		p += k;
	}
	c->stem_len = p - s;
	if (p < end && *p == '<') {
		size_t g = group_len(p, end - p);
		if (!g)
			return NULL;
		c->has_args = true;
		c->args = p + 1;
		c->args_len = g - 2;
		p += g;
	}
	c->tail = p;
	while (p < end && !(p + 1 < end && p[0] == ':' && p[1] == ':')) {
		size_t k = closer_of(*p) ? group_len(p, end - p)
					 : word_len(p, end - p);
		if (!k)
			return NULL;
		p += k;
	}
	c->tail_len = p - c->tail;
	return p < end ? p + 2 : end;
}

/* Length of the template argument at s, up to a ',' outside brackets. */
static size_t arg_len(const char *s, const char *end)
{
	const char *p = s;
	while (p < end && *p != ',') {
		size_t k = closer_of(*p) ? group_len(p, end - p)
					 : word_len(p, end - p);
		if (!k)
			return end - s; /* malformed: one argument */
		p += k;
	}
	return p - s;
}

struct resolver {
	mv_cxx_resolve_fn *fn;
	void *arg;
};

static bool match_span(const char *q, size_t qn, const char *c, size_t cn,
		       int depth, const struct resolver *r);

static bool span_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* gdb prints integer template arguments short ("long"), g++'s DWARF in
 * full ("long int"). */
static bool same_base_type(const char *q, size_t qn, const char *c, size_t cn)
{
	static const char *const pairs[][2] = {
		{"long", "long int"},
		{"unsigned long", "long unsigned int"},
		{"short", "short int"},
		{"unsigned short", "short unsigned int"},
		{"unsigned", "unsigned int"},
		{"long long", "long long int"},
		{"unsigned long long", "long long unsigned int"},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (span_is(q, qn, pairs[i][0]) && span_is(c, cn, pairs[i][1]))
			return true;
	return false;
}

static bool match_arg(const char *q, size_t qn, const char *c, size_t cn,
		      int depth, const struct resolver *r);

/* A function type argument, std::function's ("long(long)" as lldb
 * spells it, "long int(long int)" in DWARF): its return type and each
 * parameter type as arguments. */
static bool match_fn_arg(const char *q, size_t qn, const char *c, size_t cn,
			 int depth, const struct resolver *r)
{
	const char *qp = memchr(q, '(', qn), *cp = memchr(c, '(', cn);
	if (!qp || !cp || qp == q || cp == c || q[qn - 1] != ')' ||
	    c[cn - 1] != ')' || depth >= MV_CXX_MAX_NESTING ||
	    !match_arg(q, (size_t)(qp - q), c, (size_t)(cp - c), depth + 1, r))
		return false;
	const char *qs = qp + 1, *qe = q + qn - 1;
	const char *cs = cp + 1, *ce = c + cn - 1;
	while (qs < qe && cs < ce) {
		size_t qa = arg_len(qs, qe), ca = arg_len(cs, ce);
		if (!match_arg(qs, qa, cs, ca, depth + 1, r))
			return false;
		qs += qa + (qs + qa < qe);
		cs += ca + (cs + ca < ce);
	}
	return qs >= qe && cs >= ce;
}

/* One argument: as spelled, else as the typedef it is resolves. */
static bool match_arg(const char *q, size_t qn, const char *c, size_t cn,
		      int depth, const struct resolver *r)
{
	char buf[512];
	if (match_span(q, qn, c, cn, depth, r) ||
	    same_base_type(q, qn, c, cn) ||
	    match_fn_arg(q, qn, c, cn, depth, r))
		return true;
	return r && r->fn && r->fn(r->arg, q, qn, buf, sizeof(buf)) &&
	       match_span(buf, strlen(buf), c, cn, depth, NULL);
}

static bool match_args(const struct comp *a, const struct comp *b, int depth,
		       const struct resolver *r)
{
	const char *q = a->args, *qe = q + a->args_len;
	const char *c = b->args, *ce = c + b->args_len;

	if (q == qe)
		return true; /* "<>": lldb's spelling of arguments it lost */
	for (;;) {
		if (c == ce)
			return false; /* more arguments than the candidate */
		size_t qn = arg_len(q, qe), cn = arg_len(c, ce);
		if (!match_arg(q, qn, c, cn, depth, r))
			return false;
		q += qn;
		c += cn;
		if (q == qe)
			return true; /* the rest are defaults left out */
		q++;
		if (c == ce)
			return false;
		c++;
	}
}

static bool match_span(const char *q, size_t qn, const char *c, size_t cn,
		       int depth, const struct resolver *r)
{
	if (qn == cn && memcmp(q, c, qn) == 0)
		return true;
	if (depth >= MV_CXX_MAX_NESTING)
		return false;
	const char *qe = q + qn, *ce = c + cn;
	while (q < qe && c < ce) {
		struct comp a, b;
		q = next_comp(q, qe, &a);
		c = next_comp(c, ce, &b);
		if (!q || !c || a.stem_len != b.stem_len ||
		    memcmp(a.stem, b.stem, a.stem_len) != 0 ||
		    a.tail_len != b.tail_len ||
		    memcmp(a.tail, b.tail, a.tail_len) != 0 ||
		    a.has_args != b.has_args)
			return false;
		if (a.has_args && !match_args(&a, &b, depth + 1, r))
			return false;
	}
	return q == qe && c == ce;
}

bool mv_cxx_match(const char *query, const char *cand)
{
	return match_span(query, strlen(query), cand, strlen(cand), 0, NULL);
}

bool mv_cxx_match_resolved(const char *query, const char *cand,
			   mv_cxx_resolve_fn *resolve, void *arg)
{
	struct resolver r = { resolve, arg };
	return match_span(query, strlen(query), cand, strlen(cand), 0, &r);
}

/* One <source-name>: decimal length, then that many identifier bytes. */
static const char *source_name(const char *p, const char **name,
			       size_t *len)
{
	size_t n = 0;
	if (*p < '1' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9' && n < 4096)
		n = n * 10 + (size_t)(*p++ - '0');
	if (strnlen(p, n) < n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!mv_cxx_ident_char(p[i]))
			return NULL;
	*name = p;
	*len = n;
	return p + n;
}

/* A small demangler for the class of a vtable or type info symbol: the
 * Itanium ABI's <name> of a class, with what libstdc++'s classes need
 * (nested names, std::, template arguments that are builtin, pointer,
 * const and class types or integer and enum literals, substitutions),
 * spelled as libiberty (gdb, c++filt) spells it.  The mangled name is a
 * symbol of the program: recursion is bounded by DEM_MAX_DEPTH and the
 * output by its buffer. */
#define DEM_MAX_DEPTH 32
#define DEM_MAX_SUBS 64

struct dem {
	const char *p;
	char *buf;
	size_t size, len;
	bool bad;
	/* Substitution candidates: spans of buf. */
	size_t sub_at[DEM_MAX_SUBS], sub_len[DEM_MAX_SUBS];
	size_t nsubs;
};

static void dem_put(struct dem *d, const char *s, size_t n)
{
	if (d->len + n >= d->size) {
		d->bad = true;
		return;
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	d->buf[d->len] = 0;
}

static void dem_puts(struct dem *d, const char *s)
{
	dem_put(d, s, strlen(s));
}

static void dem_add_sub(struct dem *d, size_t from)
{
	if (d->nsubs < DEM_MAX_SUBS) {
		d->sub_at[d->nsubs] = from;
		d->sub_len[d->nsubs++] = d->len - from;
	}
}

static bool dem_type(struct dem *d, int depth);

/* S_, S<base 36>_ and the abbreviations; St is handled by the callers. */
static bool dem_substitution(struct dem *d)
{
	static const struct {
		char c;
		const char *name;
	} abbr[] = {
		{'a', "std::allocator"}, {'b', "std::basic_string"},
		{'s', "std::string"},    {'i', "std::istream"},
		{'o', "std::ostream"},   {'d', "std::iostream"},
	};
	d->p++; /* S */
	for (size_t i = 0; i < sizeof(abbr) / sizeof(abbr[0]); i++) {
		if (*d->p == abbr[i].c) {
			d->p++;
			dem_puts(d, abbr[i].name);
			return true;
		}
	}
	size_t id = 0;
	if (*d->p != '_') {
		for (; *d->p != '_'; d->p++) {
			char c = *d->p;
			if (c >= '0' && c <= '9')
				id = id * 36 + (size_t)(c - '0');
			else if (c >= 'A' && c <= 'Z')
				id = id * 36 + (size_t)(c - 'A' + 10);
			else
				return false;
			if (id > DEM_MAX_SUBS)
				return false;
		}
		id++;
	}
	d->p++; /* _ */
	if (id >= d->nsubs)
		return false;
	char tmp[512];
	if (d->sub_len[id] >= sizeof(tmp))
		return false;
	memcpy(tmp, d->buf + d->sub_at[id], d->sub_len[id]);
	dem_put(d, tmp, d->sub_len[id]);
	return true;
}

/* I <template-arg>+ E, appended as "<a, b>". */
static bool dem_args(struct dem *d, int depth)
{
	d->p++; /* I */
	dem_puts(d, "<");
	for (int n = 0; *d->p != 'E'; n++) {
		if (n)
			dem_puts(d, ", ");
		if (*d->p == 'L') {
			/* A literal: L <type> [n] <number> E. */
			d->p++;
			size_t t0 = d->len;
			char kind = *d->p;
			if (!dem_type(d, depth + 1))
				return false;
			char type[256];
			size_t tl = d->len - t0;
			if (tl >= sizeof(type))
				return false;
			memcpy(type, d->buf + t0, tl);
			type[tl] = 0;
			d->len = t0;
			bool neg = *d->p == 'n';
			d->p += neg;
			const char *num = d->p;
			while (*d->p >= '0' && *d->p <= '9')
				d->p++;
			if (*d->p != 'E' || d->p == num)
				return false;
			size_t nl = (size_t)(d->p - num);
			d->p++;
			if (kind == 'b' && nl == 1) {
				dem_puts(d, *num == '1' ? "true" : "false");
				continue;
			}
			if (!strchr("ilxsjmyt", kind)) {
				dem_puts(d, "(");
				dem_puts(d, type);
				dem_puts(d, ")");
			}
			if (neg)
				dem_puts(d, "-");
			dem_put(d, num, nl);
			static const char *const suffix[][2] = {
				{"j", "u"}, {"l", "l"}, {"m", "ul"},
				{"x", "ll"}, {"y", "ull"},
			};
			for (size_t i = 0; i < 5; i++)
				if (kind == suffix[i][0][0])
					dem_puts(d, suffix[i][1]);
		} else if (!dem_type(d, depth + 1)) {
			return false;
		}
		if (d->bad || !*d->p)
			return false;
	}
	d->p++; /* E */
	/* "> >": libiberty keeps two closers apart. */
	if (d->len && d->buf[d->len - 1] == '>')
		dem_puts(d, " ");
	dem_puts(d, ">");
	return true;
}

/* <source-name>, "(anonymous namespace)" for g++'s _GLOBAL__N_1. */
static bool dem_source(struct dem *d)
{
	const char *name;
	size_t len;
	if (!(d->p = source_name(d->p, &name, &len)))
		return false;
	if (len > 10 && !strncmp(name, "_GLOBAL__N", 10))
		dem_puts(d, "(anonymous namespace)");
	else
		dem_put(d, name, len);
	return true;
}

/* A class name: N [K] <prefix parts> E, St <name> [args], <name> [args]
 * or a substitution [args]. */
static bool dem_name(struct dem *d, int depth)
{
	if (depth > DEM_MAX_DEPTH)
		return false;
	size_t from = d->len;
	if (*d->p == 'N') {
		d->p++;
		for (int parts = 0; *d->p != 'E'; parts++) {
			if (d->bad || !*d->p)
				return false;
			if (*d->p == 'I') {
				if (!parts || !dem_args(d, depth))
					return false;
				dem_add_sub(d, from);
				continue;
			}
			if (parts)
				dem_puts(d, "::");
			if (d->p[0] == 'S' && d->p[1] == 't' && !parts) {
				d->p += 2;
				dem_puts(d, "std");
				continue;
			}
			if (*d->p == 'S') {
				if (!dem_substitution(d))
					return false;
				continue;
			}
			if (!dem_source(d))
				return false;
			dem_add_sub(d, from);
		}
		d->p++;
		return !d->bad;
	}
	bool sub = false;
	if (d->p[0] == 'S' && d->p[1] == 't') {
		d->p += 2;
		dem_puts(d, "std::");
		if (!dem_source(d))
			return false;
	} else if (*d->p == 'S') {
		if (!dem_substitution(d))
			return false;
		sub = true;
	} else if (!dem_source(d)) {
		return false;
	}
	if (*d->p == 'I') {
		if (!sub)
			dem_add_sub(d, from);
		if (!dem_args(d, depth))
			return false;
		dem_add_sub(d, from);
	} else if (!sub) {
		dem_add_sub(d, from);
	}
	return !d->bad;
}

static bool dem_type(struct dem *d, int depth)
{
	static const struct {
		char c;
		const char *name;
	} builtin[] = {
		{'v', "void"},          {'b', "bool"},
		{'c', "char"},          {'a', "signed char"},
		{'h', "unsigned char"}, {'s', "short"},
		{'t', "unsigned short"}, {'i', "int"},
		{'j', "unsigned int"},  {'l', "long"},
		{'m', "unsigned long"}, {'x', "long long"},
		{'y', "unsigned long long"}, {'n', "__int128"},
		{'o', "unsigned __int128"}, {'f', "float"},
		{'d', "double"},        {'e', "long double"},
		{'w', "wchar_t"},
	};
	if (depth > DEM_MAX_DEPTH)
		return false;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (*d->p == builtin[i].c) {
			d->p++;
			dem_puts(d, builtin[i].name);
			return !d->bad;
		}
	}
	size_t from = d->len;
	const char *mod = *d->p == 'P' ? "*" : *d->p == 'R' ? "&"
			: *d->p == 'O' ? "&&" : *d->p == 'K' ? " const" : NULL;
	if (mod) {
		d->p++;
		if (!dem_type(d, depth + 1))
			return false;
		dem_puts(d, mod);
		dem_add_sub(d, from);
		return !d->bad;
	}
	return dem_name(d, depth + 1);
}

bool mv_cxx_demangle_class(const char *mangled, char *buf, size_t size)
{
	/* The standard streams and string on their own: written out, as
	 * libiberty does for a whole name. */
	static const char *const whole[][2] = {
		{"Ss", "std::basic_string<char, std::char_traits<char>, "
		       "std::allocator<char> >"},
		{"Si", "std::basic_istream<char, std::char_traits<char> >"},
		{"So", "std::basic_ostream<char, std::char_traits<char> >"},
		{"Sd", "std::basic_iostream<char, std::char_traits<char> >"},
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcmp(mangled, whole[i][0]))
			return (size_t)snprintf(buf, size, "%s",
						whole[i][1]) < size;
	struct dem d = {.p = mangled, .buf = buf, .size = size};
	if (!size)
		return false;
	buf[0] = 0;
	return dem_name(&d, 0) && !*d.p && !d.bad;
}

bool mv_cxx_demangle_class_symbol(const char *sym, char *buf, size_t size)
{
	static const struct {
		const char *prefix, *words;
	} kinds[] = {
		{"_ZTV", "vtable for "},
		{"_ZTI", "typeinfo for "},
		{"_ZTS", "typeinfo name for "},
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].words);
		if (strncmp(sym, kinds[i].prefix, 4) || n >= size)
			continue;
		memcpy(buf, kinds[i].words, n);
		return mv_cxx_demangle_class(sym + 4, buf + n, size - n);
	}
	return false;
}
