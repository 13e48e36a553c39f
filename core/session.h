/* session.h - what a session holds; used by the commands. */
#ifndef MV_SESSION_H
#define MV_SESSION_H

#include "command.h"
#include "expr.h"
#include "heap.h"
#include "memview.h"
#include "program.h"
#include "view.h"

struct mv_session {
	struct mv_target *target;    /* NULL when opened with none */
	struct mv_program *program;
	bool opened;
	int exit_status;             /* asked for by the last command */
	char *core_path, *exe_path;
	mv_write_fn write;
	void *write_arg;
	mv_poll_fn poll;
	mv_eval_fn eval;
	void *eval_arg;
	char frontend[16];
	uint64_t pc;
	int width;
	bool color;
	/* Progress of long commands (progress.c). */
	mv_progress_fn progress;
	void *progress_arg;
	uint64_t progress_last_ns;
	/* view --diff: the last views of small ranges (cmd_view.c). */
	struct mv_view_memo view_memo;
	/* The heap model of the last command that opened one, with what
	 * it was opened with: a debugger session's next command reuses
	 * it (indexing a million chunks is a tenth of a second).  Dropped
	 * whenever memory or the program may have changed. */
	struct mv_heap *heap;
	struct mv_heap_cache_key *heap_key;
	/* The heap's pointers the other way round (refindex.h), built by
	 * the first referrers or path-to on that heap, dropped with it. */
	struct mv_refindex *refindex;
	/* referrers answered by a whole scan on this heap so far: the
	 * second builds the index (a scan costs about half of it). */
	unsigned referrers_scans;
	/* While a rules file's "from LIB RULE" is read: the library whose
	 * symbols RULE's &SYMBOL names first (rules.c), else NULL. */
	struct mv_objfile *rules_scope;
};

/* Evaluates an expression: through the debugger when it gave an
 * evaluator, else with memview's own C expression language. */
struct mv_error *mv_session_eval(struct mv_session *s, const char *expr,
				 struct mv_value *ret);
/* A type name, in the debugger's or C's spelling. */
struct mv_error *mv_session_parse_type(struct mv_session *s,
				       const char *name,
				       struct mv_type **ret);
/* Tells the front end how far a long command is (memview.h's
 * mv_progress_fn); cheap enough to call every few thousand steps: it
 * calls the front end at most ten times a second. */
void mv_progress_report(struct mv_session *s, const char *what,
			uint64_t done, uint64_t total);
#define MV_STR_(x) #x
#define MV_STR(x) MV_STR_(x)

/* --max-heap-chunks N: the bound on the heap index, in the options of
 * every command that opens the heap (and a setting of the same name).
 * Not heap --max-chunks, which bounds the --chunks listing. */
#define MV_OPTION_MAX_HEAP_CHUNKS                                          \
	{"max-heap-chunks", 0, MV_OPT_INT, "N",                            \
	 "index at most N heap chunks; past them the answer is partial "   \
	 "and says so (0: no limit; default: half the memory available, "  \
	 "as info says)", NULL, NULL}

/* --allocator auto|glibc|pymalloc|mimalloc|tcmalloc|jemalloc: which
 * models read the heap, next to --max-heap-chunks (and a setting of the same name). */
#define MV_OPTION_ALLOCATOR                                                \
	{"allocator", 0, MV_OPT_CHOICE, "NAME",                            \
	 "heap models: auto (glibc, and CPython's pymalloc, mimalloc, "    \
	 "tcmalloc and jemalloc where found), glibc (the others' memory "   \
	 "left as roots), pymalloc, mimalloc, tcmalloc or jemalloc (an "   \
	 "error if it is not found)", "auto",                              \
	 (const char *const[]){"auto", "glibc", "pymalloc", "mimalloc",    \
			       "tcmalloc", "jemalloc", NULL}}

/* --types FILE|MODEL: the object model's rules (docs/types.md), in
 * the walking commands (and a setting of the same name). */
#define MV_OPTION_TYPES                                                    \
	{"types", 0, MV_OPT_STRING, "FILE",                                \
	 "object model rules (docs/types.md): a rules file, or a shipped " \
	 "model such as cpython-3.11", NULL, NULL}

struct mv_heap_options;
struct mv_refindex;
/* The reverse pointer index of heap h (the session's, from
 * mv_session_open_heap), built on first use with progress and Ctrl-C,
 * then kept with the heap.  Errors as mv_refindex_build. */
struct mv_error *mv_session_refindex(struct mv_cmd_ctx *ctx,
				     struct mv_heap *h,
				     struct mv_refindex **ret);
/* Opens the target's heap for the running command, bounded by its
 * --max-heap-chunks (the default if it has no such option).  o may be
 * NULL; its max_chunks is ignored; with MV_HEAP_LAZY in its flags the
 * heap may be lazy (heap.h: look chunks up with mv_heap_lookup), else
 * it is whole (a lazy one kept from before is completed).  The heap belongs to the session
 * (reused by later commands asking the same): never destroy it. */
struct mv_error *mv_session_open_heap(struct mv_cmd_ctx *ctx,
				      const struct mv_heap_options *o,
				      struct mv_heap **ret);

/* Fails with a clear message when nothing is open. */
struct mv_error *mv_session_need_target(struct mv_session *s);
/* Fails with a clear message when there is no memory to read (types
 * only, from --exe alone). */
struct mv_error *mv_session_need_memory(struct mv_session *s);

#endif
