/*
 * memview.h - the whole public API of libmemview.
 *
 * libmemview inspects the memory of a stopped process or a core dump:
 * hex, typed and cast views, deep sizes, object graphs and a simulated
 * garbage collection.  A front end (the memview program, the gdb and lldb
 * plugins, or your own program) creates a session, tells it where memory
 * comes from, and hands it command lines; the session renders the answer
 * through an output callback.
 *
 * Conventions:
 *  - Every fallible function returns struct mv_error *: NULL is success.
 *    The caller owns a returned error and frees it with mv_error_destroy()
 *    (which ignores the static out-of-memory error).
 *  - Results come back through the last parameter, named ret.
 *  - _create/_destroy for heap objects; the library never prints, never
 *    exits and never aborts on bad input.  Bad target data is reported as
 *    a note on a partial answer, not as a failure of the whole command.
 */
#ifndef MEMVIEW_H
#define MEMVIEW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MV_PUBLIC __attribute__((visibility("default")))
#define MV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MV_PUBLIC
#define MV_PRINTF(f, a)
#endif

#define MV_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* X-macro list: code, short description. */
#define MV_ERROR_CODES(X)                                        \
	X(NOMEM, "out of memory")                                \
	X(INVALID, "invalid argument")                           \
	X(IO, "input/output error")                              \
	X(FORMAT, "malformed file")                              \
	X(FAULT, "memory not readable")                          \
	X(NOT_FOUND, "not found")                                \
	X(UNSUPPORTED, "unsupported")                            \
	X(INTERRUPTED, "interrupted")                            \
	X(LIMIT, "limit reached")                                \
	X(SYNTAX, "syntax error")                                \
	X(USAGE, "usage error")                                  \
	X(OTHER, "error")                                        \
	X(FOUND, "problems found")

enum mv_error_code {
#define MV_X(name, desc) MV_ERR_##name,
	MV_ERROR_CODES(MV_X)
#undef MV_X
	MV_ERR_COUNT_
};

struct mv_error;

/* The static out-of-memory error: creating it never allocates. */
MV_PUBLIC extern struct mv_error *const mv_enomem;

/* Creates an error with a printf-style message.  Returns mv_enomem if
 * the error itself cannot be allocated. */
MV_PUBLIC struct mv_error *mv_error_create(enum mv_error_code code,
					   const char *fmt, ...)
	MV_PRINTF(2, 3);
MV_PUBLIC struct mv_error *mv_error_vcreate(enum mv_error_code code,
					    const char *fmt, va_list ap);
/* An MV_ERR_FAULT error that remembers the unreadable address. */
MV_PUBLIC struct mv_error *mv_error_fault(uint64_t address, const char *fmt,
					  ...) MV_PRINTF(2, 3);
/* Prefixes the message with "PREFIX: ", keeping code and address.
 * Consumes err and returns the new error (err itself on failure). */
MV_PUBLIC struct mv_error *mv_error_wrap(struct mv_error *err,
					 const char *fmt, ...)
	MV_PRINTF(2, 3);
MV_PUBLIC void mv_error_destroy(struct mv_error *err);
MV_PUBLIC enum mv_error_code mv_error_code(const struct mv_error *err);
/* One line, no trailing newline.  Valid until mv_error_destroy(). */
MV_PUBLIC const char *mv_error_message(const struct mv_error *err);
/* For MV_ERR_FAULT errors: the first address that could not be read. */
MV_PUBLIC bool mv_error_address(const struct mv_error *err, uint64_t *ret);
MV_PUBLIC const char *mv_error_code_name(enum mv_error_code code);

/* ------------------------------------------------------------------ */
/* Target memory                                                       */
/* ------------------------------------------------------------------ */

/* Where memory comes from: a core file (mmapped once), a live local
 * process (/proc/PID/mem with a page cache), a read callback (remote
 * targets), or in-memory buffers (tests). */
struct mv_target;

enum {
	MV_PERM_R = 1,
	MV_PERM_W = 2,
	MV_PERM_X = 4,
	MV_PERM_P = 8, /* private (copy on write) mapping */
};

struct mv_region {
	uint64_t start, end;   /* [start, end) */
	uint32_t perms;        /* MV_PERM_* */
	uint64_t offset;       /* file offset of start, if file-backed */
	const char *path;      /* backing file, or NULL for anonymous */
	uint64_t dumped;       /* bytes present in the dump from start
				  (cores: p_filesz); end - start otherwise */
};

/* x86-64 general registers in the order of struct user_regs_struct. */
enum mv_reg {
	MV_REG_R15, MV_REG_R14, MV_REG_R13, MV_REG_R12, MV_REG_RBP,
	MV_REG_RBX, MV_REG_R11, MV_REG_R10, MV_REG_R9, MV_REG_R8,
	MV_REG_RAX, MV_REG_RCX, MV_REG_RDX, MV_REG_RSI, MV_REG_RDI,
	MV_REG_ORIG_RAX, MV_REG_RIP, MV_REG_CS, MV_REG_EFLAGS, MV_REG_RSP,
	MV_REG_SS, MV_REG_FS_BASE, MV_REG_GS_BASE, MV_REG_DS, MV_REG_ES,
	MV_REG_FS, MV_REG_GS,
	MV_NREGS
};

struct mv_thread {
	int32_t tid;
	bool has_regs;
	uint64_t regs[MV_NREGS];
};

/* Reads len bytes at address into buf.  Returns 1 if every byte was
 * read, 0 otherwise (a Python exception escaping a ctypes callback also
 * reads as 0). */
typedef int (*mv_read_fn)(void *arg, uint64_t address, void *buf,
			  size_t len);

MV_PUBLIC struct mv_error *mv_target_open_core(const char *path,
					       struct mv_target **ret);
/* A live local process: memory through /proc/PID/mem, regions from
 * /proc/PID/maps, threads from /proc/PID/task.  Each thread's registers
 * are read by attaching to it for a moment (PTRACE_SEIZE, INTERRUPT,
 * GETREGS, DETACH): a stopped process stays stopped, a running one runs
 * on, no signal is lost.  A thread that cannot be attached (traced by
 * another process, no permission) has no registers, and a warning says
 * why.  Threads and registers are read again by mv_target_invalidate.
 * Same as mv_target_open_pid_flags(pid, 0, ret). */
MV_PUBLIC struct mv_error *mv_target_open_pid(int pid,
					      struct mv_target **ret);

/* Flags of mv_target_open_pid_flags and mv_session_open_pid_flags. */
enum {
	/* The caller gives the threads' registers (mv_session_add_thread)
	 * after opening and again after each invalidate: a debugger, which
	 * already traces the process (so memview could not attach) and
	 * knows them anyway.  memview lists the threads without
	 * registers and does not attach. */
	MV_OPEN_PID_CALLER_REGS = 1,
};
MV_PUBLIC struct mv_error *mv_target_open_pid_flags(int pid, unsigned flags,
						    struct mv_target **ret);
MV_PUBLIC struct mv_error *mv_target_create_callback(mv_read_fn read,
						     void *arg,
						     struct mv_target **ret);
/* An empty target; add memory with mv_target_add_buffer(). */
MV_PUBLIC struct mv_error *mv_target_create_buffer(struct mv_target **ret);
/* Maps len bytes of data at address.  The data is not copied: it must
 * outlive the target.  Also usable on callback targets to declare
 * regions. */
MV_PUBLIC struct mv_error *mv_target_add_buffer(struct mv_target *t,
						uint64_t address,
						const void *data, size_t len,
						uint32_t perms);
/* Declares a region of a callback target as the debugger knows it
 * (a remote process's /proc/PID/maps): start, end, perms, offset and
 * path (copied; "[heap]" and the like as the kernel names them) are
 * used as a live process's are, to find heaps, roots and objfiles;
 * dumped is ignored.  Reads outside declared regions, or in regions
 * without MV_PERM_R, then fail without asking the debugger.  An
 * MV_ERR_INVALID error if r overlaps a region declared before,
 * MV_ERR_UNSUPPORTED for other targets. */
MV_PUBLIC struct mv_error *mv_target_add_region(struct mv_target *t,
						const struct mv_region *r);
MV_PUBLIC void mv_target_destroy(struct mv_target *t);

/* "core", "process", "callback" or "buffer". */
MV_PUBLIC const char *mv_target_kind(const struct mv_target *t);
/* The core file path, "/proc/PID/mem", or NULL. */
MV_PUBLIC const char *mv_target_path(const struct mv_target *t);
/* The process id recorded in a core, or the live pid; 0 if unknown. */
MV_PUBLIC int mv_target_pid(const struct mv_target *t);

/* Reads exactly len bytes; an MV_ERR_FAULT error naming the first
 * unreadable address otherwise (buf contents then unspecified). */
MV_PUBLIC struct mv_error *mv_target_read(struct mv_target *t,
					  uint64_t address, void *buf,
					  size_t len);
/* Reads as many bytes as are readable from address on, up to len;
 * returns that count (0 if address itself is unreadable). */
MV_PUBLIC size_t mv_target_read_partial(struct mv_target *t,
					uint64_t address, void *buf,
					size_t len);
/* Zero copy: a pointer to len bytes at address if they are contiguous in
 * a mapping or in the page cache, else NULL (then use mv_target_read).
 * Valid until the next call on this target. */
MV_PUBLIC const void *mv_target_peek(struct mv_target *t, uint64_t address,
				     size_t len);
/* True if address is inside a readable region (cheap, no read). */
MV_PUBLIC bool mv_target_is_mapped(struct mv_target *t, uint64_t address);

/* Memory regions sorted by start.  Owned by the target. */
MV_PUBLIC size_t mv_target_regions(struct mv_target *t,
				   const struct mv_region **ret);
/* The region containing address, or NULL. */
MV_PUBLIC const struct mv_region *mv_target_find_region(struct mv_target *t,
							uint64_t address);
/* Threads with registers (core: NT_PRSTATUS; process: /proc/PID/task,
 * registers only if the caller is the tracer).  Owned by the target. */
MV_PUBLIC size_t mv_target_threads(struct mv_target *t,
				   const struct mv_thread **ret);
/* An auxiliary vector entry (AT_*), from NT_AUXV or /proc/PID/auxv. */
MV_PUBLIC bool mv_target_auxv(struct mv_target *t, uint64_t type,
			      uint64_t *ret);
/* Problems found while opening (truncated core, missing notes, ...), one
 * sentence each; owned by the target. */
MV_PUBLIC size_t mv_target_warnings(struct mv_target *t,
				    const char *const **ret);
/* Drops cached pages and re-reads the region list: call when a live
 * process has run. */
MV_PUBLIC void mv_target_invalidate(struct mv_target *t);

/* ------------------------------------------------------------------ */
/* Types (from DWARF)                                                  */
/* ------------------------------------------------------------------ */

enum mv_type_kind {
	MV_TYPE_UNKNOWN,  /* could not be loaded; see name */
	MV_TYPE_VOID,
	MV_TYPE_INT,      /* integers and characters */
	MV_TYPE_BOOL,
	MV_TYPE_FLOAT,
	MV_TYPE_POINTER,  /* also C++ references */
	MV_TYPE_STRUCT,
	MV_TYPE_UNION,
	MV_TYPE_CLASS,
	MV_TYPE_ENUM,
	MV_TYPE_TYPEDEF,
	MV_TYPE_ARRAY,
	MV_TYPE_FUNCTION,
	MV_TYPE_QUALIFIED, /* const/volatile/restrict/_Atomic of target */
};

enum {
	MV_QUAL_CONST = 1,
	MV_QUAL_VOLATILE = 2,
	MV_QUAL_RESTRICT = 4,
	MV_QUAL_ATOMIC = 8,
};

struct mv_type;

struct mv_member {
	const char *name;      /* NULL for an anonymous struct/union member */
	struct mv_type *type;
	uint64_t bit_position; /* from the start of the enclosing object */
	uint32_t bit_size;     /* 0 unless a bitfield */
	/* C++ (additive): MV_MEMBER_* below.  A virtual base's
	 * bit_position is 0: its offset is only known in an object, from
	 * the vtable (vbase_slot). */
	uint32_t flags;
	/* MV_MEMBER_VIRTUAL_BASE: the vtable entry holding the base's
	 * offset lies vbase_slot bytes before the address in the vptr
	 * (Itanium ABI); 0 if the DWARF said it some other way. */
	uint32_t vbase_slot;
};

enum {
	MV_MEMBER_BASE = 1,         /* a base class subobject */
	MV_MEMBER_VIRTUAL_BASE = 2, /* with MV_MEMBER_BASE: virtual */
	MV_MEMBER_ARTIFICIAL = 4,   /* made by the compiler (_vptr.X) */
};

struct mv_enumerator {
	const char *name;
	int64_t value;
};

/* Types are owned by the program (or its objfiles) and live as long as
 * it does.  Read the fields; do not modify them. */
struct mv_type {
	enum mv_type_kind kind;
	const char *name;     /* tag or type name; NULL if anonymous */
	uint64_t size;        /* bytes; 0 for void, functions, incomplete */
	uint32_t quals;       /* MV_QUAL_* (MV_TYPE_QUALIFIED only) */
	bool is_signed;       /* MV_TYPE_INT, MV_TYPE_ENUM */
	bool is_char;         /* MV_TYPE_INT with a character encoding */
	bool is_complete;     /* false for a declaration without body */
	bool has_count;       /* arrays: false for a flexible array [] */
	uint64_t count;       /* arrays: number of elements */
	size_t nmembers;
	struct mv_member *members;     /* structs, unions, classes */
	size_t nenumerators;
	struct mv_enumerator *enumerators;
	const char *decl_file; /* where it was defined, if known */
	uint32_t decl_line;
	const char *cu_name;   /* compile unit it came from, if any */
	/* Private: lazy resolution of the target type. */
	struct mv_type *target_;
	void *lazy_;
};

/* The pointed-to, element, aliased, qualified or return type.  Loaded
 * on first use; never NULL for kinds that have one (a type that cannot
 * be loaded comes back as MV_TYPE_UNKNOWN). NULL for other kinds. */
MV_PUBLIC struct mv_type *mv_type_target(struct mv_type *t);
/* Strips typedefs and qualifiers (bounded; cycles end in UNKNOWN). */
MV_PUBLIC struct mv_type *mv_type_strip(struct mv_type *t);
/* Alignment in bytes as the C ABI lays the type out (1 if unknown). */
MV_PUBLIC uint64_t mv_type_alignment(struct mv_type *t);
/* The C spelling: "struct node *", "int [3]", "const char *".  Writes at
 * most size bytes including the NUL; returns the full length. */
MV_PUBLIC size_t mv_type_name(struct mv_type *t, char *buf, size_t size);
MV_PUBLIC bool mv_type_is_aggregate(struct mv_type *t); /* after strip */

/* ------------------------------------------------------------------ */
/* Sessions and commands                                               */
/* ------------------------------------------------------------------ */

struct mv_session;

/* Output sink: returns 1 on success, 0 to stop the command (for example
 * the user quit the pager). */
typedef int (*mv_write_fn)(void *arg, const char *data, size_t len);
/* Returns nonzero if the user asked to stop (Ctrl-C).  gdb passes
 * PyErr_CheckSignals itself. */
typedef int (*mv_poll_fn)(void);

#define MV_EVAL_TYPE_NAME_MAX 4096

/* What a debugger's expression evaluation hands back. */
struct mv_eval_result {
	uint64_t address;     /* of the object, if is_lvalue */
	uint64_t value;       /* the value itself if scalar (pointers, ints) */
	int32_t is_lvalue;
	/* The debugger's spelling of the type.  C++ names run long:
	 * gdb's std::unordered_map<std::string, ...> is ~450 bytes. */
	char type_name[MV_EVAL_TYPE_NAME_MAX];
	char error[256];      /* set when the callback returns 0 */
};
/* Returns 1 and fills ret, or 0 with ret->error set.  An error of
 * exactly MV_EVAL_USE_OWN asks for memview's own evaluator (globals
 * from DWARF) first, so that the debugger does not see the expression
 * (lldb 14 crashes on some over globals); if memview cannot evaluate
 * it, the callback is called again with the same expression and its
 * answer stands (MV_EVAL_USE_OWN again: no answer). */
#define MV_EVAL_USE_OWN "memview: use own evaluator"
typedef int (*mv_eval_fn)(void *arg, const char *expr,
			  struct mv_eval_result *ret);

MV_PUBLIC struct mv_error *mv_session_create(struct mv_session **ret);
MV_PUBLIC void mv_session_destroy(struct mv_session *s);

/* Memory sources.  exe may be NULL: it is then found from the core's
 * notes.  Objfiles are discovered from the core or /proc/PID/maps. */
MV_PUBLIC struct mv_error *mv_session_open_core(struct mv_session *s,
						const char *core,
						const char *exe);
/* Same as mv_session_open_pid_flags(s, pid, 0). */
MV_PUBLIC struct mv_error *mv_session_open_pid(struct mv_session *s,
					       int pid);
/* flags: MV_OPEN_PID_* (see mv_target_open_pid_flags). */
MV_PUBLIC struct mv_error *mv_session_open_pid_flags(struct mv_session *s,
						     int pid,
						     unsigned flags);
MV_PUBLIC struct mv_error *mv_session_open_callback(struct mv_session *s,
						    mv_read_fn read,
						    void *arg);
/* No memory at all: types and layouts from objfiles only. */
MV_PUBLIC struct mv_error *mv_session_open_none(struct mv_session *s);
/* Declares an objfile loaded at bias (a debugger knows better than the
 * core's notes, and a remote target has nothing else). */
MV_PUBLIC struct mv_error *mv_session_add_objfile(struct mv_session *s,
						  const char *path,
						  uint64_t bias);
/* Declares a memory region of a callback target (mv_target_add_region):
 * a remote target's mappings, so that heaps and roots are found as in a
 * live local process. */
MV_PUBLIC struct mv_error *mv_session_add_region(struct mv_session *s,
						 const struct mv_region *r);
/* Declares a thread and its registers (remote targets, live debuggers).
 * regs holds MV_NREGS values, or NULL.  A tid the target already lists
 * gets these registers in place of the ones it had.  A live process
 * (pid target) lists its threads again on mv_session_invalidate, without
 * the registers given here under MV_OPEN_PID_CALLER_REGS: give them
 * again after each invalidate. */
MV_PUBLIC struct mv_error *mv_session_add_thread(struct mv_session *s,
						 int32_t tid,
						 const uint64_t *regs);

MV_PUBLIC void mv_session_set_output(struct mv_session *s, mv_write_fn write,
				     void *arg);
MV_PUBLIC void mv_session_set_poll(struct mv_session *s, mv_poll_fn poll);
MV_PUBLIC void mv_session_set_eval(struct mv_session *s, mv_eval_fn eval,
				   void *arg);
/* "memview" (the CLI), "gdb" or "lldb": selects command names in help. */
MV_PUBLIC void mv_session_set_frontend(struct mv_session *s,
				       const char *frontend);
/* Current PC, to prefer the compile unit in scope on name clashes. */
MV_PUBLIC void mv_session_set_pc(struct mv_session *s, uint64_t pc);
/* Terminal width (0: not a terminal) and whether to use colour. */
MV_PUBLIC void mv_session_set_terminal(struct mv_session *s, int width,
				       bool color);
/* The process ran: drop cached memory; a live process's threads (and,
 * unless MV_OPEN_PID_CALLER_REGS, their registers) are read again. */
MV_PUBLIC void mv_session_invalidate(struct mv_session *s);

/* Runs one command.  argv[0] is the command name as the front end knows
 * it ("view" or "memview", "layout" or "mv-layout", ...).  Output goes to
 * the write callback; on error, partial output may already have been
 * written and the error says what went wrong. */
MV_PUBLIC struct mv_error *mv_session_run(struct mv_session *s, int argc,
					  const char *const *argv);
/* The exit status the last command asked for: gc --error-exitcode N
 * found a leak (its error is then MV_ERR_FOUND), else 0.  A front end
 * that exits after the command uses it. */
MV_PUBLIC int mv_session_exit_status(const struct mv_session *s);
/* Same, splitting line into words with shell-like quoting. */
MV_PUBLIC struct mv_error *mv_session_run_line(struct mv_session *s,
					       const char *command,
					       const char *line);

/* Typed objects for scripts (the Python module's Value). */
struct mv_object {
	struct mv_type *type;  /* owned by the session's program */
	uint64_t address;      /* of the object, if is_lvalue */
	uint64_t value;        /* the value itself if an rvalue scalar */
	bool is_lvalue;
	uint32_t bit_offset;   /* a bitfield: bit_size bits, bit_offset */
	uint32_t bit_size;     /* bits after address; 0 otherwise */
};
/* Evaluates expr as the commands do (the front end's evaluator, else
 * memview's own over the globals).  Errors as the commands give them:
 * MV_ERR_NOT_FOUND for an unknown name, MV_ERR_SYNTAX, ... */
MV_PUBLIC struct mv_error *mv_session_evaluate(struct mv_session *s,
					       const char *expr,
					       struct mv_object *ret);
/* Looks a C or C++ type name up ("struct node", "int *",
 * "std::vector<int>"); MV_ERR_NOT_FOUND if there is none. */
MV_PUBLIC struct mv_error *mv_session_find_type(struct mv_session *s,
						const char *name,
						struct mv_type **ret);
/* Reads exactly len bytes of target memory (MV_ERR_FAULT naming the
 * first unreadable address otherwise). */
MV_PUBLIC struct mv_error *mv_session_read(struct mv_session *s,
					   uint64_t address, void *buf,
					   size_t len);
/* The object as layout prints a member's value ("{value = 3, next =
 * 0x5555555592e0}", "120 'x'"); unreadable memory shows as
 * <unreadable 0x...>.  *ret is freed with mv_free(). */
MV_PUBLIC struct mv_error *mv_session_format(struct mv_session *s,
					     const struct mv_object *o,
					     char **ret);

/* The command names a front end registers, NULL-terminated:
 * frontend is "memview", "gdb" or "lldb". */
MV_PUBLIC const char *const *mv_command_names(const char *frontend);
/* Help text of one command for a front end, or NULL if there is no such
 * command; the first line is the one-line summary.  Free with mv_free(). */
MV_PUBLIC char *mv_command_help(const char *frontend, const char *name);
MV_PUBLIC void mv_free(void *p);

/* The long option names (without dashes) that command name accepts, its
 * own and the common ones (json, help), NULL-terminated; NULL if there is
 * no such command.  One allocation: free with mv_free(). */
MV_PUBLIC const char **mv_command_options(const char *name);
/* True if option (a long name without dashes) of command name takes a
 * value; *choices (if not NULL) gets its NULL-terminated list of choices,
 * or NULL.  False for flags and for unknown options. */
MV_PUBLIC bool mv_command_option_value(const char *name, const char *option,
				       const char *const **choices);
/* Keeps, of the options in defaults ("--max-elements=50 --pointers":
 * valued options in --NAME=VALUE form, flags bare), those that command
 * name accepts with the same shape (value or flag), as one line quoted
 * for mv_session_run_line (empty if none).  Free *ret with mv_free().
 * An MV_ERR_USAGE error for a word that is not a long option. */
MV_PUBLIC struct mv_error *mv_command_filter_options(const char *name,
						     const char *defaults,
						     char **ret);

/* ------------------------------------------------------------------ */
/* Settings                                                            */
/* ------------------------------------------------------------------ */

/* Defaults every front end offers under the same names: `set memview
 * NAME VALUE` in gdb, `mv-settings NAME VALUE` in lldb, `--NAME VALUE`
 * before the command in the memview program.  Limits become the option
 * of the same name of each command that has it; color and width are the
 * front end's (mv_session_set_terminal()).  The empty value means "the
 * command's own default". */
MV_PUBLIC const char *const *mv_setting_names(void);
/* One line of help, or NULL for an unknown setting.  Static. */
MV_PUBLIC const char *mv_setting_help(const char *name);
/* "size", "count", "bool" or "auto|on|off" (a choice), or NULL.  Static. */
MV_PUBLIC const char *mv_setting_kind(const char *name);
/* Checks value for setting name; an MV_ERR_USAGE error saying what is
 * expected otherwise.  The empty string is always valid. */
MV_PUBLIC struct mv_error *mv_setting_check(const char *name,
					    const char *value);
/* What a setting left empty means: its commands' own defaults, as
 * "100000" when they agree or "1000000 (sizeof-deep, path-to), 100000
 * (graph)" when they do not; "off" for a flag; the front end's word for
 * color and width.  NULL for an unknown setting.  Free with mv_free(). */
MV_PUBLIC char *mv_setting_default(const char *name);

/* ------------------------------------------------------------------ */
/* Progress                                                            */
/* ------------------------------------------------------------------ */

/* Long commands report how far they are: what ("objects", "bytes",
 * "chunks"), done so far and total (0 if unknown).  The core calls it at
 * most ten times a second.  A front end shows it only when its output
 * is a terminal and the command has run for about a second, and clears
 * its line when mv_session_run() returns.  progress may be NULL. */
typedef void (*mv_progress_fn)(void *arg, const char *what, uint64_t done,
			       uint64_t total);
MV_PUBLIC void mv_session_set_progress(struct mv_session *s,
				       mv_progress_fn progress, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* MEMVIEW_H */
