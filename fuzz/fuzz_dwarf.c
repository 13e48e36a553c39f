/* fuzz_dwarf.c - the DWARF type loader: the input is an ELF file with
 * debug info (seeds: the fixtures' binaries).
 *
 * Opens it with mv_dwarf_open (libdwarf 20210528 underneath), looks up
 * the fixtures' type and variable names in every namespace, walks each
 * type found (targets, members, enumerators, names, alignment) with a
 * bound, visits every variable, then shows a few layouts through a
 * session as `memview --exe FILE layout TYPE` would. */
#include "dwarf.h"
#include "fuzz.h"

static const char *const names[] = {
	"node", "node_t", "padded", "flags", "color", "number", "anon",
	"flex", "matrix", "int", "char", "long int", "unsigned int",
	"loop_t", "loop_a", "loop_b", "self_by_value", "self_t", "beyond",
	"twice", "overflow_t", "huge_t", "mv_fact_file",
};

static const char *const variables[] = {
	"list_head", "padded_global", "int_array", "matrix_global",
	"huge_ptr", "array_ptr", "twice_global",
};

/* Visits at most budget types reachable from t, iteratively. */
static void walk_type(struct mv_type *t, size_t budget)
{
	struct mv_type *stack[64];
	size_t n = 0;
	char name[128];
	stack[n++] = t;
	while (n && budget--) {
		struct mv_type *x = stack[--n];
		mv_type_name(x, name, sizeof(name));
		mv_type_alignment(x);
		mv_type_is_aggregate(x);
		struct mv_type *s = mv_type_strip(x);
		struct mv_type *target = mv_type_target(x);
		if (target && n < 64)
			stack[n++] = target;
		if (s && s != x && n < 64)
			stack[n++] = s;
		for (size_t i = 0; i < x->nmembers && n < 64; i++)
			if (x->members[i].type)
				stack[n++] = x->members[i].type;
		for (size_t i = 0; i < x->nenumerators; i++)
			if (x->enumerators[i].name)
				(void)strlen(x->enumerators[i].name);
	}
}

static bool visit_variable(void *arg, const char *name, uint64_t addr,
			   struct mv_type *type)
{
	size_t *count = arg;
	(void)strlen(name);
	(void)addr;
	if (type)
		walk_type(type, 8);
	return ++*count < 4096;
}

int MV_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const char *path = mv_fuzz_file(data, size);
	if (!path)
		return 0;
	struct mv_dwarf *d;
	struct mv_error *err = mv_dwarf_open(path, 0x555555554000, &d);
	if (err) {
		mv_error_destroy(err);
		return 0;
	}
	static const enum mv_type_ns nss[] = {MV_NS_STRUCT, MV_NS_UNION,
					      MV_NS_ENUM, MV_NS_ORDINARY};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		for (size_t k = 0; k < sizeof(nss) / sizeof(*nss); k++) {
			struct mv_type *t;
			size_t ndefs;
			err = mv_dwarf_find_type(d, nss[k], names[i],
						 0x555555555200, &t, &ndefs);
			if (!err)
				walk_type(t, 256);
			mv_error_destroy(err);
		}
	}
	for (size_t i = 0; i < sizeof(variables) / sizeof(*variables); i++) {
		uint64_t addr;
		struct mv_type *t;
		err = mv_dwarf_find_variable(d, variables[i], 0, &addr, &t);
		if (!err && t)
			walk_type(t, 64);
		mv_error_destroy(err);
	}
	size_t count = 0;
	mv_error_destroy(mv_dwarf_for_each_variable(d, visit_variable,
						    &count));
	struct mv_dwarf_stats st;
	mv_dwarf_stats(d, &st);
	mv_dwarf_destroy(d);

	/* The same file through the layout command. */
	struct mv_session *s;
	if (mv_session_create(&s))
		return 0;
	mv_session_set_output(s, mv_fuzz_discard, NULL);
	err = mv_session_add_objfile(s, path, 0);
	if (!err) {
		static const char *const lines[] = {
			"struct node", "padded_global", "self_t",
			"struct beyond", "overflow_t --json", "union number",
			"loop_t",
		};
		for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
			mv_error_destroy(mv_session_run_line(s, "layout",
							     lines[i]));
	}
	mv_error_destroy(err);
	mv_session_destroy(s);
	return 0;
}
