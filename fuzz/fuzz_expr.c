/* fuzz_expr.c - the C expression language and the type-name parser,
 * over the basic fixture's core (build/cores/basic.core with
 * build/fixtures/basic).
 *
 * The first byte of the input chooses the entry point, the rest is the
 * text: an expression to evaluate (and read), a type name to parse (and
 * spell back), or the argument of `layout` (as an expression or type,
 * and as the TYPE of `layout --type TYPE &padded_global`).  The session
 * is opened once and reopened now and then, so that synthetic types made
 * by one input do not pile up over millions. */
#include "expr.h"
#include "fuzz.h"
#include "session.h"

static struct mv_session *session;
static unsigned long runs;

static struct mv_session *open_session(void)
{
	if (session && runs++ % 4096 == 0) {
		mv_session_destroy(session);
		session = NULL;
	}
	if (session)
		return session;
	char core[256], exe[256];
	mv_fuzz_build_file("cores/basic.core", core, sizeof(core));
	mv_fuzz_build_file("fixtures/basic", exe, sizeof(exe));
	struct mv_session *s;
	if (mv_session_create(&s))
		return NULL;
	mv_session_set_output(s, mv_fuzz_discard, NULL);
	struct mv_error *err = mv_session_open_core(s, core, exe);
	if (err) {
		fprintf(stderr, "fuzz_expr: %s (run make first)\n",
			mv_error_message(err));
		mv_error_destroy(err);
		mv_session_destroy(s);
		return NULL;
	}
	session = s;
	return s;
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mv_session *s = open_session();
	if (!s)
		return 0;
	char *text = mv_fuzz_string(data + 1, size - 1);
	if (!text)
		return 0;
	struct mv_error *err = NULL;
	char name[256];
	switch (data[0] % 4) {
	case 0: {
		struct mv_value v;
		err = mv_expr_eval(s->program, text, 0, &v);
		if (!err) {
			uint64_t x;
			mv_type_name(v.type, name, sizeof(name));
			mv_error_destroy(mv_value_read_scalar(s->program, &v,
							      &x));
		}
		break;
	}
	case 1: {
		struct mv_type *t;
		err = mv_expr_parse_type(s->program, text, 0, &t);
		if (!err) {
			mv_type_name(t, name, sizeof(name));
			mv_type_strip(t);
			mv_type_alignment(t);
		}
		break;
	}
	case 2: {
		const char *argv[] = {"layout", text};
		err = mv_session_run(s, 2, argv);
		break;
	}
	case 3: {
		const char *argv[] = {"layout", "--json", "--type", text,
				      "&padded_global"};
		err = mv_session_run(s, 5, argv);
		break;
	}
	}
	if (err)
		(void)strlen(mv_error_message(err));
	mv_error_destroy(err);
	free(text);
	return 0;
}
