/* command.h - one command grammar: a table of commands and their
 * options, from which the parser, --help, the debuggers' help and
 * docs/commands.md are all generated (git's parse-options, minus die()). */
#ifndef MV_COMMAND_H
#define MV_COMMAND_H

#include "buf.h"
#include "memview.h"

struct mv_session;
struct mv_program;

enum mv_opt_type {
	MV_OPT_FLAG,   /* --json */
	MV_OPT_INT,    /* --count 3 (decimal or 0x hex, >= 0) */
	MV_OPT_SIZE,   /* --max-bytes 64M (suffixes K, M, G) */
	MV_OPT_STRING, /* --type 'struct node' */
	MV_OPT_CHOICE, /* --unions none|first|all */
	MV_OPT_LIST,   /* repeatable string: --len A --len B */
};

struct mv_option {
	const char *name;     /* long name without dashes */
	char short_name;      /* 0 if none */
	enum mv_opt_type type;
	const char *metavar;  /* for help: "N", "TYPE" */
	const char *help;
	const char *def;      /* default as text, or NULL */
	const char *const *choices; /* MV_OPT_CHOICE, NULL-terminated */
};

#define MV_MAX_OPTIONS 32
#define MV_MAX_POSITIONAL 8

struct mv_optval {
	bool set;
	int64_t num;
	const char *str;
	const char **list;
	size_t nlist;
};

struct mv_cmd_ctx;

struct mv_command {
	const char *name;          /* CLI subcommand */
	const char *debugger_name; /* gdb and lldb command */
	const char *synopsis;      /* positional arguments, for usage */
	const char *summary;       /* one line */
	const char *description;   /* paragraphs, may be NULL */
	const struct mv_option *options; /* terminated by name == NULL */
	int min_pos, max_pos;
	/* Extra words are joined with spaces into the last positional, so
	 * that `mv-layout struct node` needs no quotes in a debugger. */
	bool join_rest;
	struct mv_error *(*run)(struct mv_cmd_ctx *ctx);
};

/* Everything a running command sees. */
struct mv_cmd_ctx {
	struct mv_session *session;
	const struct mv_command *cmd;
	const struct mv_option *opts[MV_MAX_OPTIONS];
	struct mv_optval vals[MV_MAX_OPTIONS];
	size_t nopts;
	const char *pos[MV_MAX_POSITIONAL];
	size_t npos;
	bool json;
	struct mv_buf out;  /* flushed to the session's writer */
	struct mv_buf scratch; /* joined positionals, list storage */
	char **owned;       /* strings to free at the end */
	size_t nowned;
	uint64_t polls;     /* progress: how often a long loop polled */
	struct mv_frames *frames; /* stacks unwound so far (mv_ctx_frames) */
};

/* Commands that write files the user names (view, gc, graph). */
#define MV_OPTION_FORCE                                                    \
	{"force", 0, MV_OPT_FLAG, NULL,                                    \
	 "write over an output file that exists and is not empty "         \
	 "(without it, such a file is refused)", NULL, NULL}

/* The table, NULL-terminated; each row is defined in its cmd_*.c file. */
extern const struct mv_command *const mv_commands[];
/* For commands without options of their own. */
extern const struct mv_option mv_no_options[];

const struct mv_command *mv_command_find(const char *name);
/* The command name of frontend nearest to a mistyped name, or NULL. */
const char *mv_command_suggest(const char *name, const char *frontend);
/* Parses argv (argv[0] is the command name) into ctx. */
struct mv_error *mv_command_parse(const struct mv_command *cmd, int argc,
				  const char *const *argv,
				  struct mv_cmd_ctx *ctx);
void mv_cmd_ctx_deinit(struct mv_cmd_ctx *ctx);
/* Help text for one front end ("memview", "gdb", "lldb"). */
void mv_command_render_help(const struct mv_command *cmd,
			    const char *frontend, struct mv_buf *out);
/* docs/commands.md */
void mv_commands_render_markdown(struct mv_buf *out);
/* Words of a command line with shell-like quoting ('..', "..", \). */
struct mv_error *mv_split_words(const char *line, char ***ret_argv,
				int *ret_argc);
void mv_free_words(char **argv, int argc);

/* Option values, by long name (defaults applied). */
bool mv_opt_flag(struct mv_cmd_ctx *ctx, const char *name);
int64_t mv_opt_num(struct mv_cmd_ctx *ctx, const char *name);
/* A count option (a limit: 0 usually lifts it): its value in *ret, or a
 * usage error "--NAME takes a count >= 0" for a negative one. */
struct mv_error *mv_opt_count(struct mv_cmd_ctx *ctx, const char *name,
			      uint64_t *ret);
const char *mv_opt_str(struct mv_cmd_ctx *ctx, const char *name);
/* ctx frees s (may be NULL) when the command ends. */
struct mv_error *mv_ctx_own(struct mv_cmd_ctx *ctx, char *s);
/* s escaped for a terminal (control characters, bidi overrides,
 * invalid UTF-8: mv_buf_escape), valid until the command ends: for
 * names that come from the target or the user (paths in a core). */
const char *mv_ctx_text(struct mv_cmd_ctx *ctx, const char *s);
bool mv_opt_set(struct mv_cmd_ctx *ctx, const char *name);
const struct mv_optval *mv_opt_val(struct mv_cmd_ctx *ctx, const char *name);

/* Output: append to ctx->out, flush now and then. */
void mv_out(struct mv_cmd_ctx *ctx, const char *fmt, ...) MV_PRINTF(2, 3);
struct mv_error *mv_out_flush(struct mv_cmd_ctx *ctx);
/* The same, at the end of a command: a last line without a newline too
 * (a flush in between keeps it, for folding to the terminal's width). */
struct mv_error *mv_out_flush_all(struct mv_cmd_ctx *ctx);
/* The threads' stacks for naming stack words (frames.h): made on
 * first use, kept until the command ends, NULL when out of memory. */
struct mv_frames *mv_ctx_frames(struct mv_cmd_ctx *ctx);
/* Nonzero poll -> MV_ERR_INTERRUPTED. */
struct mv_error *mv_ctx_poll(struct mv_cmd_ctx *ctx);

/* The commands (one file each). */
extern const struct mv_command mv_command_layout;
extern const struct mv_command mv_command_regions;
extern const struct mv_command mv_command_find_cmd;
extern const struct mv_command mv_command_info;
extern const struct mv_command mv_command_heap;
extern const struct mv_command mv_command_sizeof;
extern const struct mv_command mv_command_doctor;
extern const struct mv_command mv_command_graph;
extern const struct mv_command mv_command_referrers;
extern const struct mv_command mv_command_path_to;
extern const struct mv_command mv_command_gc;
extern const struct mv_command mv_command_cycles;
struct mv_error *mv_cmd_layout(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_regions(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_find(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_info(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_heap(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_sizeof(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_graph(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_referrers(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_path_to(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_gc(struct mv_cmd_ctx *ctx);
struct mv_error *mv_cmd_cycles(struct mv_cmd_ctx *ctx);

#endif
