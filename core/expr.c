/* expr.c - C type names and a small C expression language.
 *
 * Both are parsed by recursive descent over an on-demand lexer (no token
 * array: a parser state is a position, so backtracking is a copy).  Every
 * recursive step counts depth, so hostile input ("((((...")) ends in an
 * error, never in a stack overflow. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cxxname.h"
#include "dwarf.h"
#include "expr.h"

#define MAX_EXPR_DEPTH 256
#define MAX_TYPE_DEPTH 64
#define MAX_SUFFIXES 64
#define MAX_ANON_DEPTH 32
#define QUOTE_MAX 60
/* Longest name looked up: libstdc++'s instances run to hundreds of
 * characters ("std::map<int, std::__cxx11::basic_string<char, ...>"). */
#define MAX_NAME 4096

/* Helpers with name buffers stay out of the frames of the recursive
 * parsers, so that 256 levels of nesting need little stack. */
#define NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

enum tok_kind {
	TOK_EOF,
	TOK_IDENT,
	TOK_NUMBER,
	TOK_PUNCT,    /* one character, in tok.c */
	TOK_ARROW,    /* -> */
	TOK_ELLIPSIS, /* ... */
	TOK_BAD,      /* a character no rule accepts */
	TOK_BADNAME,  /* a C++ name whose brackets do not balance */
};

struct tok {
	enum tok_kind kind;
	size_t start, len;
	char c;
};

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static struct tok lex_at(const char *src, size_t pos)
{
	struct tok t = { .kind = TOK_EOF };

	while (is_space(src[pos]))
		pos++;
	t.start = pos;
	char c = src[pos];
	if (!c)
		return t;
	if (is_ident_start(c) || (c == ':' && src[pos + 1] == ':') ||
	    (c == '(' && !strncmp(src + pos, MV_CXX_ANON_NS,
				  strlen(MV_CXX_ANON_NS)))) {
		/* C++ names are one token: "ns::Foo<int, Bar<char> >",
		 * "(anonymous namespace)::X" (the language has no '<'
		 * operator, so '<' after a name opens template
		 * arguments). */
		size_t end = pos;
		while (is_ident_char(src[end]))
			end++;
		size_t len = mv_cxx_name_len(src + pos);
		size_t after = end;
		while (is_space(src[after]))
			after++;
		t.kind = TOK_IDENT;
		t.len = len > end - pos ? len : end - pos;
		if (!len && (src[after] == '<' || src[after] == ':' ||
			     end == pos)) {
			t.kind = TOK_BADNAME;
			t.c = c;
			t.len = strlen(src + pos);
		}
	} else if (c >= '0' && c <= '9') {
		/* A pp-number: the literal parser says whether it is valid. */
		size_t end = pos;
		while (is_ident_char(src[end]))
			end++;
		t.kind = TOK_NUMBER;
		t.len = end - pos;
	} else if (c == '-' && src[pos + 1] == '>') {
		t.kind = TOK_ARROW;
		t.len = 2;
	} else if (c == '.' && src[pos + 1] == '.' && src[pos + 2] == '.') {
		t.kind = TOK_ELLIPSIS;
		t.len = 3;
	} else if (strchr("()[]{}*&-+~!.,", c)) {
		t.kind = TOK_PUNCT;
		t.c = c;
		t.len = 1;
	} else {
		t.kind = TOK_BAD;
		t.c = c;
		t.len = 1;
	}
	return t;
}

/* ------------------------------------------------------------------ */
/* Parser state and errors                                             */
/* ------------------------------------------------------------------ */

struct parser {
	struct mv_program *p;
	const char *src;
	uint64_t pc;
	struct tok tok; /* the current (not yet consumed) token */
	size_t prev_end; /* end of the last consumed token */
	int depth;
	/* Inside sizeof: the operand is not evaluated, so memory is not
	 * read (reads yield zeros) and a missing target is no error. */
	bool no_read;
};

/* An evaluated operand.  Bitfields are lvalues with bit_size != 0:
 * they have no address, only a bit range starting bit_offset bits into
 * the byte at address. */
struct val {
	struct mv_type *type;
	bool lvalue;
	uint64_t address;
	uint64_t value;
	uint32_t bit_size, bit_offset;
	size_t start, end; /* source span, for messages */
};

static void next(struct parser *ps)
{
	ps->prev_end = ps->tok.start + ps->tok.len;
	ps->tok = lex_at(ps->src, ps->tok.start + ps->tok.len);
}

static bool tok_is(const struct parser *ps, char c)
{
	return ps->tok.kind == TOK_PUNCT && ps->tok.c == c;
}

static bool tok_is_word(const struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	return ps->tok.kind == TOK_IDENT && ps->tok.len == n &&
	       memcmp(ps->src + ps->tok.start, word, n) == 0;
}

/* Appends s[0..len) quoted and shortened: whole inputs can be huge. */
static void put_quoted(struct mv_buf *b, const char *s, size_t len)
{
	mv_buf_putc(b, '\'');
	if (len > QUOTE_MAX) {
		mv_buf_append(b, s, QUOTE_MAX - 3);
		mv_buf_puts(b, "...");
	} else {
		mv_buf_append(b, s, len);
	}
	mv_buf_putc(b, '\'');
}

static struct mv_error *buf_to_error(struct mv_buf *b, enum mv_error_code code)
{
	struct mv_error *err = mv_buf_error(b);
	if (!err)
		err = mv_error_create(code, "%s", b->data ? b->data : "");
	mv_buf_deinit(b);
	return err;
}

/* "MESSAGE at column N in 'SOURCE'": columns count from 1. */
static struct mv_error *syntax_error_at(struct parser *ps, size_t pos,
					const char *fmt, ...) MV_PRINTF(3, 4);
static NOINLINE struct mv_error *syntax_error_at(struct parser *ps, size_t pos,
					const char *fmt, ...)
{
	struct mv_buf b;
	va_list ap;

	mv_buf_init(&b);
	va_start(ap, fmt);
	mv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mv_buf_printf(&b, " at column %zu in ", pos + 1);
	put_quoted(&b, ps->src, strlen(ps->src));
	return buf_to_error(&b, MV_ERR_SYNTAX);
}

/* "expected X at column N": names what was found instead. */
static struct mv_error *expected(struct parser *ps, const char *what)
{
	if (ps->tok.kind == TOK_BADNAME)
		return syntax_error_at(ps, ps->tok.start,
			"unbalanced '<' or a '::' with nothing after it in a name");
	if (ps->tok.kind == TOK_EOF)
		return syntax_error_at(ps, ps->tok.start, "expected %s",
				       what);
	return syntax_error_at(ps, ps->tok.start, "expected %s, not '%.*s'",
			       what, (int)ps->tok.len,
			       ps->src + ps->tok.start);
}

static struct mv_error *expect(struct parser *ps, char c)
{
	if (!tok_is(ps, c)) {
		char what[4] = { '\'', c, '\'', '\0' };
		return expected(ps, what);
	}
	next(ps);
	return NULL;
}

/* An error about a subexpression: "'SUBEXPR' is not a pointer (int)". */
static struct mv_error *val_error(struct parser *ps, enum mv_error_code code,
				  const struct val *v, const char *fmt, ...)
	MV_PRINTF(4, 5);
static NOINLINE struct mv_error *val_error(struct parser *ps,
					   enum mv_error_code code,
					   const struct val *v,
					   const char *fmt, ...)
{
	struct mv_buf b;
	va_list ap;

	mv_buf_init(&b);
	put_quoted(&b, ps->src + v->start, v->end - v->start);
	mv_buf_putc(&b, ' ');
	va_start(ap, fmt);
	mv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (v->type) {
		char name[256];
		mv_type_name(v->type, name, sizeof(name));
		mv_buf_printf(&b, " (%s)", name);
	}
	return buf_to_error(&b, code);
}

static struct mv_error *check_type(struct mv_type *t)
{
	/* The program's synthetic-type makers may fail to allocate. */
	return t ? NULL : mv_enomem;
}

/* ------------------------------------------------------------------ */
/* Type names                                                          */
/* ------------------------------------------------------------------ */

enum spec {
	SPEC_VOID,
	SPEC_CHAR,
	SPEC_SHORT,
	SPEC_INT,
	SPEC_LONG,
	SPEC_SIGNED,
	SPEC_UNSIGNED,
	SPEC_BOOL,
	SPEC_FLOAT,
	SPEC_DOUBLE,
	SPEC_INT128,
	NSPECS,
	/* Not counted: */
	SPEC_QUAL,
	SPEC_TAG,
};

static const struct keyword {
	const char *word;
	enum spec spec;
	uint32_t qual;           /* SPEC_QUAL */
	enum mv_type_ns ns;      /* SPEC_TAG */
} keywords[] = {
	{ "void", SPEC_VOID, 0, 0 },
	{ "char", SPEC_CHAR, 0, 0 },
	{ "short", SPEC_SHORT, 0, 0 },
	{ "int", SPEC_INT, 0, 0 },
	{ "long", SPEC_LONG, 0, 0 },
	{ "signed", SPEC_SIGNED, 0, 0 },
	{ "__signed__", SPEC_SIGNED, 0, 0 },
	{ "unsigned", SPEC_UNSIGNED, 0, 0 },
	{ "_Bool", SPEC_BOOL, 0, 0 },
	{ "float", SPEC_FLOAT, 0, 0 },
	{ "double", SPEC_DOUBLE, 0, 0 },
	{ "__int128", SPEC_INT128, 0, 0 },
	{ "const", SPEC_QUAL, MV_QUAL_CONST, 0 },
	{ "__const", SPEC_QUAL, MV_QUAL_CONST, 0 },
	{ "volatile", SPEC_QUAL, MV_QUAL_VOLATILE, 0 },
	{ "__volatile", SPEC_QUAL, MV_QUAL_VOLATILE, 0 },
	{ "__volatile__", SPEC_QUAL, MV_QUAL_VOLATILE, 0 },
	{ "restrict", SPEC_QUAL, MV_QUAL_RESTRICT, 0 },
	{ "__restrict", SPEC_QUAL, MV_QUAL_RESTRICT, 0 },
	{ "__restrict__", SPEC_QUAL, MV_QUAL_RESTRICT, 0 },
	{ "_Atomic", SPEC_QUAL, MV_QUAL_ATOMIC, 0 },
	{ "struct", SPEC_TAG, 0, MV_NS_STRUCT },
	{ "union", SPEC_TAG, 0, MV_NS_UNION },
	{ "enum", SPEC_TAG, 0, MV_NS_ENUM },
	{ "class", SPEC_TAG, 0, MV_NS_CLASS },
};

static const struct keyword *find_keyword(const struct parser *ps)
{
	if (ps->tok.kind != TOK_IDENT)
		return NULL;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (tok_is_word(ps, keywords[i].word))
			return &keywords[i];
	return NULL;
}

/* Copies the current identifier into buf (NUL-terminated). */
static bool tok_text(const struct parser *ps, char *buf, size_t size)
{
	if (ps->tok.len >= size)
		return false;
	memcpy(buf, ps->src + ps->tok.start, ps->tok.len);
	buf[ps->tok.len] = '\0';
	return true;
}

static const char *ns_word(enum mv_type_ns ns)
{
	switch (ns) {
	case MV_NS_STRUCT: return "struct";
	case MV_NS_UNION: return "union";
	case MV_NS_ENUM: return "enum";
	case MV_NS_CLASS: return "class";
	default: return "";
	}
}

/* Looks a type up; NULL *ret (and no error) if there is none. */
/* "no type named ...", and why when the executable (or, without one,
 * every objfile) has no usable debug info: the file is not ELF, or was
 * built without -g.  The user is then not left guessing whether the
 * name is wrong. */
static struct mv_error *no_type(struct parser *ps, const char *ns,
				const char *name)
{
	struct mv_objfile **objs;
	size_t n = mv_program_objfiles(ps->p, &objs);
	const struct mv_objfile *why = NULL;
	bool any_debug = false;
	for (size_t i = 0; i < n; i++) {
		bool usable = objs[i]->debug_path && !objs[i]->dwarf_error;
		any_debug |= usable;
		if (objs[i]->is_main && !usable)
			why = objs[i];
	}
	if (!why && !any_debug && n)
		why = objs[0];
	if (!why)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "no type named '%s%s%s'%s", ns,
				       *ns ? " " : "", name,
				       n ? "" : " (no executable: give --exe FILE)");
	const char *reason = why->open_error ? why->open_error
			     : why->dwarf_error ? why->dwarf_error
			     : why->missing_hint ? why->missing_hint
						 : "no debug info";
	return mv_error_create(MV_ERR_NOT_FOUND,
			       "no type named '%s%s%s' (%s%s%s)", ns,
			       *ns ? " " : "", name,
			       why->open_error ? "" : why->path,
			       why->open_error ? "" : ": ", reason);
}

static struct mv_error *lookup_type(struct parser *ps, enum mv_type_ns ns,
				    const char *name, struct mv_type **ret)
{
	*ret = NULL;
	struct mv_error *err = mv_program_find_type(ps->p, ns, name, ps->pc,
						    ret, NULL);
	if (err && mv_error_code(err) == MV_ERR_NOT_FOUND) {
		mv_error_destroy(err);
		*ret = NULL;
		return NULL;
	}
	return err;
}

/* Whether one objfile defines name in namespace ns. */
static struct mv_error *objfile_has_type(struct parser *ps,
					 struct mv_objfile *o,
					 enum mv_type_ns ns, const char *name,
					 bool *ret)
{
	struct mv_dwarf *d;
	struct mv_type *t;
	struct mv_error *err = mv_objfile_dwarf(o, &d);

	*ret = false;
	if (!err)
		err = mv_dwarf_find_type(d, ns, name, ps->pc, &t, NULL);
	if (err && err != mv_enomem &&
	    mv_error_code(err) != MV_ERR_INVALID) {
		/* No debug info, or no such name here (INVALID: the name
		 * is ambiguous, which the user must hear). */
		mv_error_destroy(err);
		return NULL;
	}
	*ret = !err;
	return err;
}

/* A lone identifier as a type: a typedef name, or a bare tag as lldb
 * spells C types ("node" for struct node).  The nearest scope decides,
 * not the namespace: the objfile holding pc, then the executable, then
 * the libraries.  Otherwise glibc's own "typedef struct node_t *node"
 * (tsearch.c) would hide the program's struct node.  *ret is NULL if
 * nothing has that name. */
static struct mv_error *lookup_type_ident(struct parser *ps, const char *name,
					  struct mv_type **ret)
{
	static const enum mv_type_ns order[] = {
		MV_NS_ORDINARY, MV_NS_STRUCT, MV_NS_UNION, MV_NS_ENUM,
	};
	struct mv_objfile **objfiles;
	size_t n = mv_program_objfiles(ps->p, &objfiles);
	struct mv_objfile *at = ps->pc ? mv_program_objfile_at(ps->p, ps->pc)
				       : NULL;
	struct mv_error *err;

	*ret = NULL;
	/* Pass 0: the objfile at pc; 1: the executable; 2: the rest. */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct mv_objfile *o = objfiles[i];
			if (pass == 0 ? o != at :
			    pass == 1 ? o == at || !o->is_main :
			    o == at || o->is_main)
				continue;
			for (size_t k = 0; k < sizeof(order) / sizeof(order[0]);
			     k++) {
				bool has;
				err = objfile_has_type(ps, o, order[k], name,
						       &has);
				if (err)
					return err;
				/* The program's lookup then applies its
				 * rules (complete definitions, pc). */
				if (has)
					return lookup_type(ps, order[k], name,
							   ret);
			}
		}
	}
	return NULL;
}

/* The current token as a tagged type's name ("struct node",
 * "class ns::Foo<int>"); the buffers live here, out of the recursive
 * parsers' frames. */
static NOINLINE struct mv_error *lookup_tag(struct parser *ps,
					    enum mv_type_ns ns,
					    struct mv_type **ret)
{
	char name[MAX_NAME];
	if (!tok_text(ps, name, sizeof(name)))
		return syntax_error_at(ps, ps->tok.start, "name too long");
	struct mv_error *err = lookup_type(ps, ns, name, ret);
	if (!err && !*ret)
		err = no_type(ps, ns_word(ns), name);
	return err;
}

/* The current token as a typedef name or a bare tag; *ret NULL (and
 * no error) for "bool" when nothing has that name. */
static NOINLINE struct mv_error *lookup_named(struct parser *ps,
					      struct mv_type **ret)
{
	char name[MAX_NAME];
	if (!tok_text(ps, name, sizeof(name)))
		return syntax_error_at(ps, ps->tok.start, "name too long");
	struct mv_error *err = lookup_type_ident(ps, name, ret);
	if (!err && !*ret && strcmp(name, "bool") != 0)
		err = no_type(ps, "", name);
	return err;
}

/* The canonical (gcc DWARF) spelling of a combination of base type
 * keywords, with the LP64 x86-64 size. */
static struct mv_error *base_type(struct parser *ps, const int n[NSPECS],
				  size_t start, struct mv_type **ret)
{
	bool sign = n[SPEC_SIGNED] > 0, uns = n[SPEC_UNSIGNED] > 0;
	int nsized = n[SPEC_VOID] + n[SPEC_CHAR] + n[SPEC_BOOL] +
		     n[SPEC_FLOAT] + n[SPEC_DOUBLE] + n[SPEC_INT128];
	const char *name = NULL;
	enum mv_type_kind kind = MV_TYPE_INT;
	uint64_t size = 0;
	bool is_signed = true;

	for (int i = 0; i < NSPECS; i++)
		if (n[i] > (i == SPEC_LONG ? 2 : 1))
			goto invalid;
	if ((sign && uns) || (n[SPEC_SHORT] && n[SPEC_LONG]) || nsized > 1)
		goto invalid;

	if (n[SPEC_VOID] || n[SPEC_BOOL] || n[SPEC_FLOAT]) {
		if (sign || uns || n[SPEC_SHORT] || n[SPEC_LONG] || n[SPEC_INT])
			goto invalid;
		if (n[SPEC_VOID]) {
			*ret = mv_program_void_type(ps->p);
			return check_type(*ret);
		}
		if (n[SPEC_BOOL]) {
			name = "_Bool";
			kind = MV_TYPE_BOOL;
			size = 1;
			is_signed = false;
		} else {
			name = "float";
			kind = MV_TYPE_FLOAT;
			size = 4;
		}
	} else if (n[SPEC_DOUBLE]) {
		if (sign || uns || n[SPEC_SHORT] || n[SPEC_INT] ||
		    n[SPEC_LONG] > 1)
			goto invalid;
		kind = MV_TYPE_FLOAT;
		if (n[SPEC_LONG]) {
			name = "long double";
			size = 16;
		} else {
			name = "double";
			size = 8;
		}
	} else if (n[SPEC_CHAR]) {
		if (n[SPEC_SHORT] || n[SPEC_LONG] || n[SPEC_INT])
			goto invalid;
		/* Plain char is signed on x86-64 but a distinct type. */
		name = sign ? "signed char" : uns ? "unsigned char" : "char";
		size = 1;
		is_signed = !uns;
	} else if (n[SPEC_INT128]) {
		if (n[SPEC_SHORT] || n[SPEC_LONG] || n[SPEC_INT])
			goto invalid;
		name = uns ? "__int128 unsigned" : "__int128";
		size = 16;
		is_signed = !uns;
	} else {
		is_signed = !uns;
		if (n[SPEC_SHORT]) {
			name = uns ? "short unsigned int" : "short int";
			size = 2;
		} else if (n[SPEC_LONG] == 2) {
			name = uns ? "long long unsigned int" : "long long int";
			size = 8;
		} else if (n[SPEC_LONG]) {
			name = uns ? "long unsigned int" : "long int";
			size = 8;
		} else {
			name = uns ? "unsigned int" : "int";
			size = 4;
		}
	}
	*ret = mv_program_base_type(ps->p, name, kind, size, is_signed);
	return check_type(*ret);

invalid:
	return syntax_error_at(ps, start,
			       "invalid combination of type specifiers");
}

/* specifier-qualifier-list: base type keywords in any order, a tagged
 * type or a typedef name, and qualifiers anywhere. */
static struct mv_error *parse_specifiers(struct parser *ps,
					 struct mv_type **ret)
{
	int n[NSPECS] = { 0 };
	int nkeywords = 0;
	uint32_t quals = 0;
	struct mv_type *named = NULL;
	size_t start = ps->tok.start;
	struct mv_error *err;

	for (;;) {
		const struct keyword *kw = find_keyword(ps);
		if (kw && kw->spec == SPEC_QUAL) {
			quals |= kw->qual;
			next(ps);
		} else if (kw && kw->spec == SPEC_TAG) {
			size_t tag_start = ps->tok.start;
			if (named || nkeywords)
				return syntax_error_at(ps, tag_start,
					"invalid combination of type specifiers");
			next(ps);
			if (tok_is(ps, '{') || tok_is(ps, '('))
				return mv_error_create(MV_ERR_NOT_FOUND,
					"'%s' names an anonymous %s: it has no name to look up",
					ps->src, ns_word(kw->ns));
			if (ps->tok.kind != TOK_IDENT)
				return expected(ps, "a tag name");
			err = lookup_tag(ps, kw->ns, &named);
			if (err)
				return err;
			next(ps);
		} else if (kw) {
			if (named)
				return syntax_error_at(ps, ps->tok.start,
					"invalid combination of type specifiers");
			n[kw->spec]++;
			nkeywords++;
			next(ps);
		} else if (ps->tok.kind == TOK_IDENT && !named && !nkeywords) {
			/* A typedef name, else a bare tag. */
			err = lookup_named(ps, &named);
			if (err)
				return err;
			if (!named) {
				/* <stdbool.h>'s macro, as C++ and lldb say. */
				n[SPEC_BOOL]++;
				nkeywords++;
			}
			next(ps);
		} else {
			break;
		}
	}

	if (named) {
		*ret = named;
	} else if (nkeywords) {
		err = base_type(ps, n, start, ret);
		if (err)
			return err;
	} else {
		return expected(ps, "a type name");
	}
	if (quals) {
		*ret = mv_program_qualified_type(ps->p, *ret, quals);
		return check_type(*ret);
	}
	return NULL;
}

/* A type being built by a declarator.  There is no maker for function
 * types in program.h, so a function is only a flag here: a pointer to
 * it becomes "void *" (what a function pointer is as data), and a bare
 * function type is refused. */
struct dtype {
	struct mv_type *type;
	bool function;
};

static uint32_t parse_qualifiers(struct parser *ps)
{
	uint32_t quals = 0;
	const struct keyword *kw;

	while ((kw = find_keyword(ps)) && kw->spec == SPEC_QUAL) {
		quals |= kw->qual;
		next(ps);
	}
	return quals;
}

/* Skips a parenthesised parameter list (the current token is its '(');
 * parameter types do not matter for a pointer to a function. */
static struct mv_error *skip_parameters(struct parser *ps)
{
	size_t open = ps->tok.start;
	size_t level = 0;

	do {
		if (ps->tok.kind == TOK_EOF)
			return syntax_error_at(ps, open, "unbalanced '('");
		if (tok_is(ps, '('))
			level++;
		else if (tok_is(ps, ')'))
			level--;
		next(ps);
	} while (level);
	return NULL;
}

/* An array dimension: a decimal, hex or octal literal. */
static bool parse_uint(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (len > 1 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*ret = v;
	return true;
}

struct suffix {
	bool is_function;
	bool has_count;
	uint64_t count;
};

/* Array and parameter-list suffixes, applied innermost (rightmost)
 * first: int [2][3] is an array of 2 arrays of 3 ints. */
static struct mv_error *parse_suffixes(struct parser *ps, struct dtype *t)
{
	struct suffix s[MAX_SUFFIXES];
	size_t n = 0;
	struct mv_error *err;

	while (tok_is(ps, '[') || tok_is(ps, '(')) {
		if (n == MAX_SUFFIXES)
			return mv_error_create(MV_ERR_LIMIT,
				"more than %d array or function suffixes in '%s'",
				MAX_SUFFIXES, ps->src);
		s[n] = (struct suffix){ 0 };
		if (tok_is(ps, '(')) {
			err = skip_parameters(ps);
			if (err)
				return err;
			s[n++].is_function = true;
			continue;
		}
		next(ps);
		if (ps->tok.kind == TOK_NUMBER) {
			if (!parse_uint(ps->src + ps->tok.start, ps->tok.len,
					&s[n].count))
				return syntax_error_at(ps, ps->tok.start,
						       "invalid array size");
			s[n].has_count = true;
			next(ps);
		}
		err = expect(ps, ']');
		if (err)
			return err;
		n++;
	}
	while (n--) {
		if (s[n].is_function) {
			if (t->function)
				return mv_error_create(MV_ERR_SYNTAX,
					"a function cannot return a function in '%s'",
					ps->src);
			t->function = true;
			continue;
		}
		if (t->function)
			return mv_error_create(MV_ERR_SYNTAX,
				"an array of functions is not a type in '%s'",
				ps->src);
		if (mv_type_strip(t->type)->kind == MV_TYPE_VOID)
			return mv_error_create(MV_ERR_SYNTAX,
				"an array of void is not a type in '%s'",
				ps->src);
		t->type = mv_program_array_type(ps->p, t->type, s[n].count,
						s[n].has_count);
		err = check_type(t->type);
		if (err)
			return err;
	}
	return NULL;
}

/* A '(' starts a nested declarator, not a parameter list, when a
 * declarator can start after it. */
static bool nested_declarator_follows(struct parser *ps)
{
	if (!tok_is(ps, '('))
		return false;
	struct tok after = lex_at(ps->src, ps->tok.start + 1);
	return after.kind == TOK_PUNCT &&
	       (after.c == '*' || after.c == '(' || after.c == '[');
}

/* abstract-declarator: pointers bind to the base first, then suffixes;
 * a parenthesised inner declarator applies to the result of the suffixes
 * that follow it ("(*)[4]": pointer to array of 4). */
static struct mv_error *parse_declarator(struct parser *ps, struct dtype *t,
					 int depth)
{
	struct mv_error *err;

	if (depth > MAX_TYPE_DEPTH)
		return mv_error_create(MV_ERR_LIMIT,
				       "type name nested more than %d deep",
				       MAX_TYPE_DEPTH);
	while (tok_is(ps, '*')) {
		next(ps);
		uint32_t quals = parse_qualifiers(ps);
		struct mv_type *target = t->type;
		if (t->function) {
			target = mv_program_void_type(ps->p);
			err = check_type(target);
			if (err)
				return err;
			t->function = false;
		}
		t->type = mv_program_pointer_type(ps->p, target);
		if (t->type && quals)
			t->type = mv_program_qualified_type(ps->p, t->type,
							    quals);
		err = check_type(t->type);
		if (err)
			return err;
	}
	if (!nested_declarator_follows(ps))
		return parse_suffixes(ps, t);

	/* Skip the inner declarator, apply the suffixes after it, then
	 * come back for the inner one. */
	size_t open = ps->tok.start;
	next(ps);
	struct tok inner = ps->tok;
	size_t level = 1;
	while (level) {
		if (ps->tok.kind == TOK_EOF)
			return syntax_error_at(ps, open, "unbalanced '('");
		if (tok_is(ps, '('))
			level++;
		else if (tok_is(ps, ')'))
			level--;
		next(ps);
	}
	struct tok close_next = ps->tok;
	err = parse_suffixes(ps, t);
	if (err)
		return err;
	struct tok after = ps->tok;
	ps->tok = inner;
	err = parse_declarator(ps, t, depth + 1);
	if (err)
		return err;
	err = expect(ps, ')');
	if (err)
		return err;
	if (ps->tok.start != close_next.start)
		return syntax_error_at(ps, ps->tok.start,
				       "unexpected '%.*s'", (int)ps->tok.len,
				       ps->src + ps->tok.start);
	ps->tok = after;
	return NULL;
}

static struct mv_error *parse_type_name(struct parser *ps,
					struct mv_type **ret)
{
	struct dtype t = { 0 };
	struct mv_error *err = parse_specifiers(ps, &t.type);
	if (err)
		return err;
	err = parse_declarator(ps, &t, 0);
	if (err)
		return err;
	if (t.function)
		return mv_error_create(MV_ERR_UNSUPPORTED,
			"function types such as '%s' are not supported; use a pointer to one",
			ps->src);
	*ret = t.type;
	return NULL;
}

static void parser_init(struct parser *ps, struct mv_program *p,
			const char *src, uint64_t pc)
{
	memset(ps, 0, sizeof(*ps));
	ps->p = p;
	ps->src = src;
	ps->pc = pc;
	ps->tok = lex_at(src, 0);
}

static struct mv_error *expect_end(struct parser *ps)
{
	if (ps->tok.kind == TOK_EOF)
		return NULL;
	if (ps->tok.kind == TOK_BADNAME)
		return expected(ps, "");
	if (ps->tok.kind == TOK_BAD)
		return syntax_error_at(ps, ps->tok.start,
				       "unexpected character '%c'", ps->tok.c);
	return syntax_error_at(ps, ps->tok.start, "unexpected '%.*s'",
			       (int)ps->tok.len, ps->src + ps->tok.start);
}

struct mv_error *mv_expr_parse_type(struct mv_program *p, const char *name,
				    uint64_t pc, struct mv_type **ret)
{
	struct parser ps;
	struct mv_error *err;

	if (!p || !name || !ret)
		return mv_error_create(MV_ERR_INVALID,
				       "mv_expr_parse_type: NULL argument");
	/* gdb's and lldb's spellings of anonymous types; an anonymous
	 * namespace is only a scope. */
	const char *anon = strstr(name, "(anonymous");
	while (anon && !strncmp(anon, MV_CXX_ANON_NS, strlen(MV_CXX_ANON_NS)))
		anon = strstr(anon + 1, "(anonymous");
	if (strstr(name, "{...}") || anon || strstr(name, "(unnamed"))
		return mv_error_create(MV_ERR_NOT_FOUND,
			"'%s' is an anonymous type: it has no name to look up",
			name);
	parser_init(&ps, p, name, pc);
	if (ps.tok.kind == TOK_EOF)
		return mv_error_create(MV_ERR_SYNTAX, "empty type name");
	struct mv_type *t;
	err = parse_type_name(&ps, &t);
	if (!err)
		err = expect_end(&ps);
	if (err)
		return err;
	*ret = t;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

static uint64_t type_size(struct mv_type *t)
{
	struct mv_type *s = mv_type_strip(t);
	if (s->kind == MV_TYPE_POINTER && !s->size)
		return 8;
	return s->size;
}

static bool is_integer_kind(enum mv_type_kind k)
{
	return k == MV_TYPE_INT || k == MV_TYPE_BOOL || k == MV_TYPE_ENUM;
}

/* Truncates v to the type's size and sign-extends signed types, so that
 * rvalues hold the same 64-bit value that reading the type would. */
static uint64_t normalize(struct mv_type *t, uint64_t v)
{
	struct mv_type *s = mv_type_strip(t);
	uint64_t size = type_size(t);

	if (s->kind == MV_TYPE_BOOL)
		return v != 0;
	if (size == 0 || size >= 8)
		return v;
	unsigned bits = (unsigned)size * 8;
	v &= (UINT64_C(1) << bits) - 1;
	if (is_integer_kind(s->kind) && s->is_signed &&
	    (v >> (bits - 1)) & 1)
		v |= ~((UINT64_C(1) << bits) - 1);
	return v;
}

static struct mv_error *read_memory(struct mv_program *p, bool no_read,
				    uint64_t address, void *buf, size_t len)
{
	if (no_read) {
		memset(buf, 0, len);
		return NULL;
	}
	struct mv_target *t = mv_program_target(p);
	if (!t)
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "no memory to read (0x%llx): there is no process or core",
				       (unsigned long long)address);
	/* The target's fault already says "cannot read N bytes at ADDR"
	 * and why, and keeps the address for callers. */
	return mv_target_read(t, address, buf, len);
}

/* Reads an integer, enum, bool or pointer (or a float's raw bits) of
 * type t at address, little-endian. */
static struct mv_error *load_scalar(struct mv_program *p, bool no_read,
				    struct mv_type *t, uint64_t address,
				    uint64_t *ret)
{
	struct mv_type *s = mv_type_strip(t);
	uint64_t size = type_size(t);
	uint8_t b[8];

	if (!(is_integer_kind(s->kind) || s->kind == MV_TYPE_POINTER ||
	      s->kind == MV_TYPE_FLOAT) ||
	    (size != 1 && size != 2 && size != 4 && size != 8)) {
		char name[256];
		mv_type_name(t, name, sizeof(name));
		return mv_error_create(MV_ERR_INVALID,
				       "'%s' is not a scalar of 1, 2, 4 or 8 bytes",
				       name);
	}
	struct mv_error *err = read_memory(p, no_read, address, b, size);
	if (err)
		return err;
	uint64_t v = 0;
	for (size_t i = size; i--;)
		v = v << 8 | b[i];
	*ret = s->kind == MV_TYPE_FLOAT ? v : normalize(t, v);
	return NULL;
}

static struct mv_error *load_bitfield(struct mv_program *p, bool no_read,
				      const struct val *v, uint64_t *ret)
{
	uint8_t b[16] = { 0 };
	size_t nbytes = (v->bit_offset + v->bit_size + 7) / 8;
	struct mv_error *err;

	if (v->bit_size > 64 || nbytes > sizeof(b))
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "bitfield of %u bits", v->bit_size);
	err = read_memory(p, no_read, v->address, b, nbytes);
	if (err)
		return err;
	unsigned __int128 acc = 0;
	for (size_t i = nbytes; i--;)
		acc = acc << 8 | b[i];
	uint64_t x = (uint64_t)(acc >> v->bit_offset);
	if (v->bit_size < 64) {
		uint64_t mask = (UINT64_C(1) << v->bit_size) - 1;
		x &= mask;
		struct mv_type *s = mv_type_strip(v->type);
		if (is_integer_kind(s->kind) && s->is_signed &&
		    (x >> (v->bit_size - 1)) & 1)
			x |= ~mask;
	}
	*ret = x;
	return NULL;
}

struct mv_error *mv_value_read_scalar(struct mv_program *p,
				      const struct mv_value *v,
				      uint64_t *ret)
{
	if (!v || !v->type)
		return mv_error_create(MV_ERR_INVALID, "value has no type");
	if (!v->is_lvalue) {
		*ret = v->value;
		return NULL;
	}
	return load_scalar(p, false, v->type, v->address, ret);
}

/* ------------------------------------------------------------------ */
/* Expressions                                                         */
/* ------------------------------------------------------------------ */

static struct mv_error *parse_expr(struct parser *ps, struct val *ret);
static struct mv_error *parse_unary(struct parser *ps, struct val *ret);

static struct mv_type *named_base(struct parser *ps, const char *name,
				  uint64_t size, bool is_signed)
{
	return mv_program_base_type(ps->p, name, MV_TYPE_INT, size, is_signed);
}

/* int, unsigned int, long int or long unsigned int. */
static struct mv_type *arith_type(struct parser *ps, uint64_t size,
				  bool is_signed)
{
	if (size <= 4)
		return named_base(ps, is_signed ? "int" : "unsigned int", 4,
				  is_signed);
	return named_base(ps, is_signed ? "long int" : "long unsigned int", 8,
			  is_signed);
}

/* Converts v to a scalar rvalue: reads lvalues, extracts bitfields,
 * decays arrays and functions to pointers.  Structs and floats have no
 * integer value here. */
static struct mv_error *to_rvalue(struct parser *ps, struct val *v)
{
	struct mv_type *s = mv_type_strip(v->type);
	struct mv_error *err;

	if (!v->lvalue)
		return NULL;
	if (v->bit_size) {
		err = load_bitfield(ps->p, ps->no_read, v, &v->value);
		if (err)
			return err;
		v->lvalue = false;
		v->bit_size = 0;
		return NULL;
	}
	switch (s->kind) {
	case MV_TYPE_ARRAY:
		v->type = mv_program_pointer_type(ps->p, mv_type_target(s));
		v->value = v->address;
		v->lvalue = false;
		return check_type(v->type);
	case MV_TYPE_FUNCTION:
		v->type = mv_program_pointer_type(ps->p, s);
		v->value = v->address;
		v->lvalue = false;
		return check_type(v->type);
	case MV_TYPE_INT:
	case MV_TYPE_BOOL:
	case MV_TYPE_ENUM:
	case MV_TYPE_POINTER:
		err = load_scalar(ps->p, ps->no_read, v->type, v->address,
				  &v->value);
		if (err)
			return err;
		v->lvalue = false;
		return NULL;
	case MV_TYPE_FLOAT:
		return val_error(ps, MV_ERR_UNSUPPORTED, v,
				 "is floating point: only integer and pointer arithmetic is supported");
	default:
		return val_error(ps, MV_ERR_INVALID, v,
				 "is not a number or a pointer");
	}
}

static struct mv_error *to_integer(struct parser *ps, struct val *v)
{
	struct mv_error *err = to_rvalue(ps, v);
	if (err)
		return err;
	if (!is_integer_kind(mv_type_strip(v->type)->kind))
		return val_error(ps, MV_ERR_INVALID, v, "is not an integer");
	return NULL;
}

/* Integer promotion: everything narrower than int becomes int. */
static struct mv_error *promote(struct parser *ps, struct val *v)
{
	struct mv_type *s = mv_type_strip(v->type);
	if (s->kind == MV_TYPE_INT && s->size >= 4)
		v->type = s;
	else
		v->type = arith_type(ps, s->size,
				     s->kind == MV_TYPE_BOOL || s->size < 4 ||
					     s->is_signed);
	return check_type(v->type);
}

/* The pointed-to size used to scale pointer arithmetic.  void and
 * functions count as 1, as in GNU C. */
static struct mv_error *pointee_size(struct parser *ps, struct val *v,
				     uint64_t *ret)
{
	struct mv_type *target = mv_type_target(mv_type_strip(v->type));
	struct mv_type *s = mv_type_strip(target);

	if (s->kind == MV_TYPE_VOID || s->kind == MV_TYPE_FUNCTION) {
		*ret = 1;
		return NULL;
	}
	*ret = type_size(target);
	if (!*ret || *ret > INT64_MAX)
		return val_error(ps, MV_ERR_INVALID, v,
				 "points to a type of unknown size");
	return NULL;
}

/* Makes v an lvalue of the type v points to (or, for arrays, of its
 * first element). */
static struct mv_error *deref(struct parser *ps, struct val *v)
{
	struct mv_type *s = mv_type_strip(v->type);
	struct mv_error *err;

	if (s->kind != MV_TYPE_POINTER && s->kind != MV_TYPE_ARRAY)
		return val_error(ps, MV_ERR_INVALID, v, "is not a pointer");
	err = to_rvalue(ps, v);
	if (err)
		return err;
	struct mv_type *target = mv_type_target(mv_type_strip(v->type));
	if (mv_type_strip(target)->kind == MV_TYPE_VOID)
		return val_error(ps, MV_ERR_INVALID, v,
				 "points to void: cast it to a typed pointer first");
	v->type = target;
	v->address = v->value;
	v->value = 0;
	v->lvalue = true;
	return NULL;
}

/* Finds a member by name, also inside anonymous struct and union
 * members, adding up their positions. */
static bool find_member(struct mv_type *t, const char *name, size_t len,
			int depth, uint64_t *bit_position,
			struct mv_member **ret)
{
	struct mv_type *s = mv_type_strip(t);

	if (depth > MAX_ANON_DEPTH ||
	    (s->kind != MV_TYPE_STRUCT && s->kind != MV_TYPE_UNION &&
	     s->kind != MV_TYPE_CLASS))
		return false;
	for (size_t i = 0; i < s->nmembers; i++) {
		struct mv_member *m = &s->members[i];
		if (m->name && strlen(m->name) == len &&
		    memcmp(m->name, name, len) == 0) {
			*bit_position = m->bit_position;
			*ret = m;
			return true;
		}
	}
	for (size_t i = 0; i < s->nmembers; i++) {
		struct mv_member *m = &s->members[i];
		uint64_t inner;
		if (!m->name && find_member(m->type, name, len, depth + 1,
					    &inner, ret)) {
			*bit_position = m->bit_position + inner;
			return true;
		}
	}
	return false;
}

static struct mv_error *no_member(struct parser *ps, struct mv_type *s,
				  size_t name_start, size_t name_len)
{
	char tname[256];
	mv_type_name(s, tname, sizeof(tname));
	return mv_error_create(MV_ERR_NOT_FOUND,
			       "no member named '%.*s' in %s%s",
			       (int)name_len, ps->src + name_start, tname,
			       s->is_complete ? "" :
			       " (only its declaration is known)");
}

/* v.NAME, where the current token is NAME. */
static struct mv_error *member(struct parser *ps, struct val *v, bool arrow)
{
	struct mv_type *s = mv_type_strip(v->type);

	if (ps->tok.kind != TOK_IDENT)
		return expected(ps, "a member name");
	if (s->kind == MV_TYPE_POINTER && !arrow)
		return val_error(ps, MV_ERR_INVALID, v,
				 "is a pointer: use '->'");
	if (s->kind != MV_TYPE_STRUCT && s->kind != MV_TYPE_UNION &&
	    s->kind != MV_TYPE_CLASS)
		return val_error(ps, MV_ERR_INVALID, v,
				 "is not a struct or union");
	if (!v->lvalue || v->bit_size)
		return val_error(ps, MV_ERR_INVALID, v, "is not in memory");

	struct mv_member *m;
	uint64_t bits;
	if (!find_member(s, ps->src + ps->tok.start, ps->tok.len, 0, &bits,
			 &m))
		return no_member(ps, s, ps->tok.start, ps->tok.len);
	v->type = m->type;
	v->address += bits / 8;
	if (m->bit_size) {
		v->bit_size = m->bit_size;
		v->bit_offset = (uint32_t)(bits % 8);
	}
	v->end = ps->tok.start + ps->tok.len;
	next(ps);
	return NULL;
}

static struct mv_error *subscript(struct parser *ps, struct val *v)
{
	struct mv_type *s = mv_type_strip(v->type);
	struct val index;
	struct mv_error *err;

	if (s->kind != MV_TYPE_POINTER && s->kind != MV_TYPE_ARRAY)
		return val_error(ps, MV_ERR_INVALID, v,
				 "is not an array or a pointer");
	next(ps);
	err = parse_expr(ps, &index);
	if (!err)
		err = to_integer(ps, &index);
	if (err)
		return err;
	err = expect(ps, ']');
	if (err)
		return err;
	err = to_rvalue(ps, v);
	if (err)
		return err;
	uint64_t size;
	err = pointee_size(ps, v, &size);
	if (err)
		return err;
	err = deref(ps, v);
	if (err)
		return err;
	v->address += index.value * size;
	v->end = ps->prev_end;
	return NULL;
}

/* A variable from DWARF, else an ELF symbol. */
static NOINLINE struct mv_error *identifier(struct parser *ps, struct val *v)
{
	char name[MAX_NAME];
	uint64_t addr, size;
	struct mv_type *type;

	if (!tok_text(ps, name, sizeof(name)))
		return syntax_error_at(ps, ps->tok.start, "name too long");
	struct mv_error *err = mv_program_find_variable(ps->p, name, ps->pc,
							&addr, &type);
	if (err && mv_program_find_symbol(ps->p, name, &addr, &size)) {
		mv_error_destroy(err);
		err = NULL;
		/* No DWARF: all we know is the symbol's size, so it is
		 * bytes (char[size]), or one char if it has no size. */
		type = mv_program_base_type(ps->p, "char", MV_TYPE_INT, 1,
					    true);
		if (type && size)
			type = mv_program_array_type(ps->p, type, size, true);
		if (!type)
			return mv_enomem;
	} else if (err) {
		if (mv_error_code(err) != MV_ERR_NOT_FOUND)
			return err;
		mv_error_destroy(err);
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "no symbol '%s' in the program", name);
	}
	v->type = type;
	v->lvalue = true;
	v->address = addr;
	next(ps);
	return NULL;
}

static struct mv_error *number(struct parser *ps, struct val *v)
{
	const char *s = ps->src + ps->tok.start;
	size_t len = ps->tok.len;
	bool is_unsigned = false;

	/* Suffixes: u, l, ll in any order and case. */
	while (len > 1 && strchr("uUlL", s[len - 1])) {
		if (s[len - 1] == 'u' || s[len - 1] == 'U')
			is_unsigned = true;
		len--;
	}
	if (!parse_uint(s, len, &v->value))
		return syntax_error_at(ps, ps->tok.start,
				       "invalid integer literal '%.*s'",
				       (int)ps->tok.len, s);
	if (v->value > INT64_MAX)
		is_unsigned = true;
	v->type = arith_type(ps, 8, !is_unsigned);
	v->lvalue = false;
	next(ps);
	return check_type(v->type);
}

/* After '(' (or sizeof '('): does a type name start here?  A keyword
 * or a typedef name does; a variable's name means an expression even if
 * a tag of the same name exists ("struct stat stat;"). */
static NOINLINE bool type_name_follows(struct parser *ps)
{
	const struct keyword *kw = find_keyword(ps);
	char name[MAX_NAME];
	struct mv_type *t;
	struct mv_error *err;
	uint64_t addr, size;

	if (kw)
		return true;
	if (ps->tok.kind != TOK_IDENT || !tok_text(ps, name, sizeof(name)))
		return false;
	err = lookup_type_ident(ps, name, &t);
	if (err) {
		mv_error_destroy(err);
		t = NULL;
	}
	if (t && t->kind != MV_TYPE_STRUCT && t->kind != MV_TYPE_UNION &&
	    t->kind != MV_TYPE_ENUM)
		return true; /* a typedef (or base type) name */
	struct mv_type *var_type;
	err = mv_program_find_variable(ps->p, name, ps->pc, &addr, &var_type);
	if (!err)
		return false;
	mv_error_destroy(err);
	if (mv_program_find_symbol(ps->p, name, &addr, &size))
		return false;
	return t != NULL || strcmp(name, "bool") == 0;
}

static NOINLINE struct mv_error *cast(struct parser *ps, struct mv_type *type,
			     struct val *v)
{
	struct mv_type *s = mv_type_strip(type);
	struct mv_error *err;

	switch (s->kind) {
	case MV_TYPE_INT:
	case MV_TYPE_BOOL:
	case MV_TYPE_ENUM:
	case MV_TYPE_POINTER:
		break;
	case MV_TYPE_STRUCT:
	case MV_TYPE_UNION:
	case MV_TYPE_CLASS:
	case MV_TYPE_ARRAY: {
		char name[256];
		mv_type_name(type, name, sizeof(name));
		return mv_error_create(MV_ERR_UNSUPPORTED,
			"cannot cast to %s: cast an address to a pointer and dereference it, as in *(%s *)ADDR",
			name, name);
	}
	default: {
		char name[256];
		mv_type_name(type, name, sizeof(name));
		return mv_error_create(MV_ERR_UNSUPPORTED,
				       "cannot cast to %s", name);
	}
	}
	err = to_rvalue(ps, v);
	if (err)
		return err;
	struct mv_type *from = mv_type_strip(v->type);
	if (!is_integer_kind(from->kind) && from->kind != MV_TYPE_POINTER)
		return val_error(ps, MV_ERR_INVALID, v,
				 "is not a number or a pointer");
	v->type = type;
	v->value = normalize(type, v->value);
	return NULL;
}

/* An error naming a type: fmt has one %s for its C spelling. */
static NOINLINE struct mv_error *type_error(enum mv_error_code code,
					   struct mv_type *type,
					   const char *fmt)
{
	char name[256];
	mv_type_name(type, name, sizeof(name));
	return mv_error_create(code, fmt, name);
}

/* sizeof type-name, sizeof expression: the operand is not evaluated
 * (no memory is read), and arrays do not decay. */
static struct mv_error *size_of(struct parser *ps, struct val *v)
{
	struct mv_type *type = NULL;
	struct mv_error *err;

	if (tok_is(ps, '(')) {
		struct tok open = ps->tok;
		next(ps);
		if (type_name_follows(ps)) {
			err = parse_type_name(ps, &type);
			if (!err)
				err = expect(ps, ')');
			if (err)
				return err;
		} else {
			ps->tok = open;
		}
	}
	if (!type) {
		struct val operand;
		bool saved = ps->no_read;
		ps->no_read = true;
		err = parse_unary(ps, &operand);
		ps->no_read = saved;
		if (err)
			return err;
		if (operand.bit_size)
			return val_error(ps, MV_ERR_INVALID, &operand,
					 "is a bitfield: sizeof does not apply");
		type = operand.type;
	}
	struct mv_type *s = mv_type_strip(type);
	/* Zero is a size for GNU empty structs and zero-length arrays, not
	 * for void, functions, declarations and flexible arrays. */
	bool sized = type_size(type) ||
		     (s->kind == MV_TYPE_ARRAY && s->has_count) ||
		     (mv_type_is_aggregate(s) && s->kind != MV_TYPE_ARRAY &&
		      s->is_complete);
	if (!sized || s->kind == MV_TYPE_VOID || s->kind == MV_TYPE_FUNCTION)
		return type_error(MV_ERR_INVALID, type,
				  "sizeof applied to '%s', which has no size");
	v->value = type_size(type);
	v->type = arith_type(ps, 8, false);
	v->lvalue = false;
	return check_type(v->type);
}

static struct mv_error *parse_postfix(struct parser *ps, struct val *v)
{
	struct mv_error *err;
	size_t start = ps->tok.start;

	memset(v, 0, sizeof(*v));
	if (tok_is(ps, '(')) {
		next(ps);
		err = parse_expr(ps, v);
		if (!err)
			err = expect(ps, ')');
	} else if (ps->tok.kind == TOK_IDENT) {
		err = identifier(ps, v);
	} else if (ps->tok.kind == TOK_NUMBER) {
		err = number(ps, v);
	} else if (ps->tok.kind == TOK_BAD) {
		err = syntax_error_at(ps, ps->tok.start,
				      "unexpected character '%c'", ps->tok.c);
	} else {
		err = expected(ps, "an expression");
	}
	if (err)
		return err;
	v->start = start;
	v->end = ps->prev_end;

	for (;;) {
		if (tok_is(ps, '[')) {
			err = subscript(ps, v);
		} else if (tok_is(ps, '.')) {
			next(ps);
			err = member(ps, v, false);
		} else if (ps->tok.kind == TOK_ARROW) {
			struct mv_type *s = mv_type_strip(v->type);
			bool aggregate = s->kind == MV_TYPE_STRUCT ||
					 s->kind == MV_TYPE_UNION ||
					 s->kind == MV_TYPE_CLASS;
			if (s->kind != MV_TYPE_POINTER &&
			    s->kind != MV_TYPE_ARRAY)
				return val_error(ps, MV_ERR_INVALID, v, "%s",
						 aggregate ?
						 "is not a pointer: use '.'" :
						 "is not a pointer");
			next(ps);
			err = deref(ps, v);
			if (!err)
				err = member(ps, v, true);
		} else {
			return NULL;
		}
		if (err)
			return err;
	}
}

static struct mv_error *parse_unary(struct parser *ps, struct val *v)
{
	struct mv_error *err;
	size_t start = ps->tok.start;

	if (++ps->depth > MAX_EXPR_DEPTH) {
		ps->depth--;
		return mv_error_create(MV_ERR_LIMIT,
				       "expression nested more than %d deep",
				       MAX_EXPR_DEPTH);
	}
	memset(v, 0, sizeof(*v));
	if (ps->tok.kind == TOK_PUNCT && strchr("*&-+~!", ps->tok.c)) {
		char op = ps->tok.c;
		next(ps);
		err = parse_unary(ps, v);
		if (err)
			goto out;
		/* Errors below quote the operand; the span grows after. */
		switch (op) {
		case '*':
			err = deref(ps, v);
			break;
		case '&':
			if (!v->lvalue) {
				err = val_error(ps, MV_ERR_INVALID, v,
						"is not in memory: it has no address");
			} else if (v->bit_size) {
				err = val_error(ps, MV_ERR_UNSUPPORTED, v,
						"is a bitfield: it has no address");
			} else {
				v->type = mv_program_pointer_type(ps->p,
								  v->type);
				v->value = v->address;
				v->lvalue = false;
				err = check_type(v->type);
			}
			break;
		case '!':
			err = to_rvalue(ps, v);
			if (!err && !is_integer_kind(mv_type_strip(v->type)->kind) &&
			    mv_type_strip(v->type)->kind != MV_TYPE_POINTER)
				err = val_error(ps, MV_ERR_INVALID, v,
						"is not a number or a pointer");
			if (!err) {
				v->value = v->value == 0;
				v->type = arith_type(ps, 4, true);
				err = check_type(v->type);
			}
			break;
		default: /* - + ~ */
			err = to_integer(ps, v);
			if (!err)
				err = promote(ps, v);
			if (!err && op == '-')
				v->value = normalize(v->type, 0 - v->value);
			else if (!err && op == '~')
				v->value = normalize(v->type, ~v->value);
			break;
		}
	} else if (tok_is_word(ps, "sizeof")) {
		next(ps);
		err = size_of(ps, v);
	} else if (tok_is(ps, '{')) {
		/* gdb's {TYPE} ADDR: the object of TYPE at ADDR. */
		struct mv_type *type;
		next(ps);
		err = parse_type_name(ps, &type);
		if (!err)
			err = expect(ps, '}');
		if (!err)
			err = parse_unary(ps, v);
		if (!err)
			err = to_rvalue(ps, v);
		if (!err && !is_integer_kind(mv_type_strip(v->type)->kind) &&
		    mv_type_strip(v->type)->kind != MV_TYPE_POINTER)
			err = val_error(ps, MV_ERR_INVALID, v,
					"is not an address");
		if (!err) {
			v->type = type;
			v->address = v->value;
			v->value = 0;
			v->lvalue = true;
		}
	} else if (tok_is(ps, '(')) {
		struct tok open = ps->tok;
		next(ps);
		if (type_name_follows(ps)) {
			struct mv_type *type;
			err = parse_type_name(ps, &type);
			if (!err)
				err = expect(ps, ')');
			if (!err)
				err = parse_unary(ps, v);
			if (!err)
				err = cast(ps, type, v);
		} else {
			ps->tok = open;
			err = parse_postfix(ps, v);
		}
	} else {
		err = parse_postfix(ps, v);
	}
	if (!err) {
		v->start = start;
		v->end = ps->prev_end;
	}
out:
	ps->depth--;
	return err;
}

/* Pointer arithmetic scales by the pointed-to size; pointer - pointer
 * counts elements. */
static struct mv_error *additive(struct parser *ps, char op, struct val *l,
				 struct val *r)
{
	struct mv_error *err = to_rvalue(ps, l);
	if (!err)
		err = to_rvalue(ps, r);
	if (err)
		return err;
	bool lp = mv_type_strip(l->type)->kind == MV_TYPE_POINTER;
	bool rp = mv_type_strip(r->type)->kind == MV_TYPE_POINTER;
	uint64_t size, rsize;

	if (lp && rp) {
		if (op == '+')
			return val_error(ps, MV_ERR_INVALID, r,
					 "cannot be added to a pointer");
		err = pointee_size(ps, l, &size);
		if (!err)
			err = pointee_size(ps, r, &rsize);
		if (err)
			return err;
		if (size != rsize)
			return val_error(ps, MV_ERR_INVALID, r,
					 "points to a type of another size");
		l->value = (uint64_t)((int64_t)(l->value - r->value) /
				      (int64_t)size);
		l->type = arith_type(ps, 8, true);
		return check_type(l->type);
	}
	if (rp) {
		if (op == '-')
			return val_error(ps, MV_ERR_INVALID, r,
					 "cannot be subtracted from a number");
		struct val tmp = *l;
		*l = *r;
		*r = tmp;
		lp = true;
	}
	if (lp) {
		err = to_integer(ps, r);
		if (!err)
			err = pointee_size(ps, l, &size);
		if (err)
			return err;
		uint64_t delta = r->value * size;
		l->value = op == '+' ? l->value + delta : l->value - delta;
		return NULL;
	}
	err = to_integer(ps, l);
	if (!err)
		err = to_integer(ps, r);
	if (!err)
		err = promote(ps, l);
	if (!err)
		err = promote(ps, r);
	if (err)
		return err;
	/* The usual arithmetic conversions, for two promoted types. */
	struct mv_type *lt = l->type, *rt = r->type;
	struct mv_type *type = lt;
	if (rt->size > lt->size || (rt->size == lt->size && !rt->is_signed))
		type = rt;
	l->value = op == '+' ? l->value + r->value : l->value - r->value;
	l->type = type;
	l->value = normalize(type, l->value);
	return NULL;
}

static struct mv_error *parse_expr(struct parser *ps, struct val *v)
{
	size_t start = ps->tok.start;
	struct mv_error *err = parse_unary(ps, v);
	if (err)
		return err;
	while (tok_is(ps, '+') || tok_is(ps, '-')) {
		char op = ps->tok.c;
		struct val r;
		next(ps);
		err = parse_unary(ps, &r);
		if (!err)
			err = additive(ps, op, v, &r);
		if (err)
			return err;
		v->start = start;
		v->end = ps->prev_end;
	}
	return NULL;
}

struct mv_error *mv_expr_eval(struct mv_program *p, const char *expr,
			      uint64_t pc, struct mv_value *ret)
{
	struct parser ps;
	struct val v;
	struct mv_error *err;

	if (!p || !expr || !ret)
		return mv_error_create(MV_ERR_INVALID,
				       "mv_expr_eval: NULL argument");
	parser_init(&ps, p, expr, pc);
	if (ps.tok.kind == TOK_EOF)
		return mv_error_create(MV_ERR_SYNTAX, "empty expression");
	err = parse_expr(&ps, &v);
	if (!err)
		err = expect_end(&ps);
	/* A bitfield has no address: the result is its value. */
	if (!err && v.bit_size)
		err = to_rvalue(&ps, &v);
	if (err)
		return err;
	ret->type = v.type;
	ret->is_lvalue = v.lvalue;
	ret->address = v.lvalue ? v.address : 0;
	ret->value = v.lvalue ? 0 : v.value;
	return NULL;
}
