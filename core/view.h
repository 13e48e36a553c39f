/* view.h - the views behind `view` (the debuggers' `memview`): hex dumps
 * in xxd's layout, casts to struct-module formats (memoryview.cast), and
 * typed views of aggregates.
 *
 * The renderers read straight from the target (mv_target_peek, else
 * mv_target_read_partial) in bounded chunks and write into a sink that
 * is flushed as it fills, so any range streams in constant memory.
 *
 * Layering: views sit on target memory, program (symbols, types) and
 * value.c; cmd_view.c drives them. */
#ifndef MV_VIEW_H
#define MV_VIEW_H

#include "buf.h"
#include "heap.h"
#include "program.h"

struct mv_command;
struct mv_cmd_ctx;
struct mv_ptr_annotator;

/* Where rendered text goes.  flush (may be NULL: everything stays in
 * out) writes out's contents and clears it; poll (may be NULL) returns
 * nonzero when the user asked to stop. */
struct mv_view_sink {
	struct mv_buf *out;
	struct mv_error *(*flush)(void *arg);
	void *arg;
	mv_poll_fn poll;
};

/* Flush when out holds this much (bytes), poll every this many bytes of
 * target memory. */
#define MV_VIEW_FLUSH_BYTES (64u << 10)
#define MV_VIEW_POLL_BYTES (1u << 20)

/* Unreadable spans are listed up to this many; the rest are counted. */
#define MV_VIEW_MAX_SPANS 16

struct mv_view_span {
	uint64_t start, end;  /* [start, end) could not be read */
};

/* What a renderer found while reading; shared by every view. */
struct mv_view_report {
	uint64_t readable;    /* bytes read */
	uint64_t unreadable;  /* bytes shown as ?? / None */
	struct mv_view_span spans[MV_VIEW_MAX_SPANS];
	size_t nspans;        /* listed */
	size_t spans_total;   /* all of them */
	uint64_t changed;     /* --diff: bytes that differ */
};

/* Reads target bytes in chunks: a pointer into the mapping when the
 * target can peek, else a copy in a private buffer.  Unreadable bytes
 * are reported as such and never abort the walk. */
struct mv_view_reader {
	struct mv_target *t;
	uint8_t *buf;         /* copies when peek fails */
	size_t cap;
	struct mv_view_report *report;
};

struct mv_error *mv_view_reader_init(struct mv_view_reader *r,
				     struct mv_target *t, size_t chunk,
				     struct mv_view_report *report);
void mv_view_reader_deinit(struct mv_view_reader *r);
/* Gets up to len (<= chunk) bytes at address.  Returns the count n of
 * readable bytes at the start and points *data at them (n may be 0);
 * *skip receives how many bytes after those cannot be read (0 when n ==
 * len), so the caller advances by n + *skip (at most len).  Records the
 * unreadable span in the report. */
size_t mv_view_reader_get(struct mv_view_reader *r, uint64_t address,
			  size_t len, const uint8_t **data, size_t *skip);

/* Writes the sink's buffer out if it holds MV_VIEW_FLUSH_BYTES (or
 * always, with force). */
struct mv_error *mv_view_sink_flush(struct mv_view_sink *sink, bool force);

/* ---- hex (view_hex.c) ---- */

#define MV_HEX_MAX_WIDTH 256  /* xxd's own limit for -c */

struct mv_hex_opts {
	unsigned width;       /* bytes per line, 1..MV_HEX_MAX_WIDTH */
	unsigned group;       /* bytes per group; 0 or >= width: one group */
	/* xxd -e: each group is a little-endian word, its bytes shown from
	 * the last to the first (width a multiple of group). */
	bool little_endian;
	bool color;           /* ANSI colours for ?? and changed bytes */
	/* --diff: the bytes of the same range seen last time (prev_len of
	 * them from the start of the range), or NULL. */
	const uint8_t *prev;
	const uint8_t *prev_valid; /* bit per byte: readable then */
	uint64_t prev_len;
	/* JSON: instead of lines, the bytes as one hex string (the caller
	 * has opened the string's quote and closes it). */
	bool hex_only;
	/* --pointers: called after each line (n bytes at address) is
	 * written, to append lines of its own to out; an error stops the
	 * dump. */
	struct mv_error *(*after_line)(void *arg, struct mv_buf *out,
				       uint64_t address, unsigned n);
	void *after_line_arg;
};

/* Dumps [address, address + len) as xxd prints it (apart from the
 * address column, which shows target addresses), ?? for bytes that
 * cannot be read.  Fails only for out-of-memory, a failing sink or an
 * interrupt; partial output is then already in the sink. */
struct mv_error *mv_view_hex(struct mv_target *t, uint64_t address,
			     uint64_t len, const struct mv_hex_opts *opts,
			     struct mv_view_sink *sink,
			     struct mv_view_report *report);

/* ---- cast (view_cast.c) ---- */

#define MV_CAST_MAX_DIMS 64   /* memoryview's own limit */

struct mv_cast_format {
	char code;            /* struct-module code: b B h H i I ... */
	char order;           /* '@' native, or < > = ! */
	unsigned itemsize;
	bool swap;            /* bytes must be reversed (big-endian) */
};

/* Parses FMT as memoryview.cast accepts it ("i", "@i"), or with an
 * explicit byte order for the fixed-size codes ("<i", ">d", "!H", "=e").
 * MV_ERR_USAGE with memoryview's own message otherwise. */
struct mv_error *mv_cast_parse_format(const char *text,
				      struct mv_cast_format *ret);
/* Parses "2x3", "2,3" or "[2, 3]" into dims; MV_ERR_USAGE naming the
 * problem (memoryview's message for elements that are not > 0). */
struct mv_error *mv_cast_parse_shape(const char *text, int64_t *dims,
				     size_t *ndims);

struct mv_cast_slice {
	bool has_start, has_stop;
	int64_t start, stop, step;
};
/* Parses Python's START:STOP:STEP (any part may be empty). */
struct mv_error *mv_cast_parse_slice(const char *text,
				     struct mv_cast_slice *ret);

struct mv_cast_opts {
	struct mv_cast_format fmt;
	int64_t dims[MV_CAST_MAX_DIMS]; /* checked by mv_cast_check */
	size_t ndims;
	bool has_shape;       /* else one dimension of len / itemsize */
	bool has_slice;
	struct mv_cast_slice slice;
	bool json;            /* JSON values instead of Python's repr */
};

/* Checks memoryview's rules for len bytes (length a multiple of
 * itemsize, product(shape) * itemsize == len) and fills in the shape;
 * MV_ERR_USAGE with memoryview's message otherwise. */
struct mv_error *mv_cast_check(struct mv_cast_opts *opts, uint64_t len);
/* Renders the nested list as tolist() prints it (or as JSON), values of
 * unreadable items as None / null. */
struct mv_error *mv_view_cast(struct mv_target *t, uint64_t address,
			      const struct mv_cast_opts *opts,
			      struct mv_view_sink *sink,
			      struct mv_view_report *report);
/* Python's repr() of a float: the shortest text that reads back as v. */
void mv_format_float_repr(double v, struct mv_buf *out);

/* ---- typed (view_typed.c) ---- */

struct mv_typed_opts {
	uint64_t count;        /* consecutive objects */
	uint64_t max_elements; /* per array; 0: all */
	const char *name;      /* for an object that is not a struct */
	/* --pointers: pointer fields also say which heap chunk or stack
	 * they point into (may be NULL). */
	struct mv_ptr_annotator *ptrs;
	unsigned depth;        /* --depth: words per chain (1: no chain) */
	bool color;            /* colour for those annotations */
	/* --diff: the bytes of [diff_base, diff_base + diff_len) seen last
	 * time and which of them were readable (a bit each); fields whose
	 * bytes differ are marked.  diff_prev NULL: no marks. */
	const uint8_t *diff_prev, *diff_prev_valid;
	uint64_t diff_base, diff_len;
};

/* Every field of count objects of type from address: offset, size,
 * type, value, bytes; holes and padding.  With j, JSON into the open
 * object j (keys type, size, count, objects), else text.  Unreadable
 * fields say so; only out-of-memory, the sink or an interrupt fail. */
struct mv_error *mv_view_typed(struct mv_program *p, struct mv_type *type,
			       uint64_t address, const struct mv_typed_opts *o,
			       struct mv_view_sink *sink, struct mv_json *j,
			       struct mv_view_report *report);

/* ---- pointer annotations (view_ptr.c) ---- */

enum mv_ptr_kind {
	MV_PTR_NONE,     /* nowhere known */
	MV_PTR_SYMBOL,   /* inside an ELF symbol */
	MV_PTR_HEAP,     /* inside a heap chunk */
	MV_PTR_STACK,    /* inside the stack region of a thread */
	MV_PTR_STRING,   /* none of those, but a string is there */
};

#define MV_PTR_STRING_MAX 64  /* bytes of string preview */

/* What one word points to. */
struct mv_ptr_note {
	enum mv_ptr_kind kind;
	uint64_t value;
	const char *symbol;      /* SYMBOL: owned by the program */
	uint64_t symbol_offset;
	struct mv_chunk chunk;   /* HEAP */
	unsigned thread;         /* STACK: 1-based thread index */
	int32_t tid;
	int64_t sp_offset;       /* value - the thread's rsp */
	/* Any kind: the text there (raw target bytes, not NUL-terminated),
	 * if it looks like a string. */
	bool has_string;
	bool string_more;        /* longer than the preview */
	size_t string_len;
	char string[MV_PTR_STRING_MAX];
};

struct mv_ptr_annotator;

/* An annotator for one command: finds the threads' stacks now and opens
 * the heap model on first need, indexing at most max_heap_chunks chunks
 * (mv_heap_open_max: 0 for the default, MV_HEAP_NO_LIMIT for none);
 * poll may be NULL. */
struct mv_error *mv_ptr_annotator_create(struct mv_program *p,
					 uint64_t max_heap_chunks,
					 mv_poll_fn poll,
					 struct mv_ptr_annotator **ret);
void mv_ptr_annotator_destroy(struct mv_ptr_annotator *a);
/* Fills ret for the word value (kind MV_PTR_NONE when it points nowhere
 * known).  Fails only for out-of-memory or an interrupt while the heap
 * model opens. */
struct mv_error *mv_ptr_annotate(struct mv_ptr_annotator *a, uint64_t value,
				 struct mv_ptr_note *ret);
/* "symbol", "heap", "stack", "string" or "none". */
const char *mv_ptr_kind_name(enum mv_ptr_kind kind);
/* One line's worth, e.g. `<int_array+8>`, `heap: in-use chunk 0x...,
 * 32 bytes`, `thread 1's stack, rsp+40`, then `"text"` escaped for a
 * terminal; no newline.  Colour codes around the description with
 * color. */
void mv_ptr_render_text(const struct mv_ptr_note *n, bool color,
			struct mv_buf *out);
/* The keys "kind" and "details" into the open object j. */
void mv_ptr_render_json(const struct mv_ptr_note *n, struct mv_json *j);

/* ---- chains (--depth) ---- */

#define MV_PTR_MAX_DEPTH 64

/* Why a chain stops. */
enum mv_ptr_end {
	MV_PTR_END_NONE,        /* (internal: it goes on) */
	MV_PTR_END_VALUE,       /* the last word is no mapped address */
	MV_PTR_END_STRING,      /* at text, shown as a string */
	MV_PTR_END_CODE,        /* into code (or no mapping), not followed */
	MV_PTR_END_CYCLE,       /* back to a word read already */
	MV_PTR_END_UNREADABLE,  /* the word pointed to cannot be read */
	MV_PTR_END_DEPTH,       /* --depth reached, the chain goes on */
};

/* One hop: the word at address, and what it points to. */
struct mv_ptr_hop {
	uint64_t address;
	struct mv_ptr_note note;
};

struct mv_ptr_chain {
	size_t nhops;
	struct mv_ptr_hop hops[MV_PTR_MAX_DEPTH];
	enum mv_ptr_end end;
};

/* Follows first (the note of the word at address) through depth words
 * in all (the first included; at most MV_PTR_MAX_DEPTH): the word at
 * each address pointed to, while it points into mapped memory that is
 * not code nor a string, and no word repeats.  Bounded: at most depth reads
 * of 8 bytes.  The chain is the annotator's, valid until the next
 * call.  Fails only as mv_ptr_annotate does. */
struct mv_error *mv_ptr_follow(struct mv_ptr_annotator *a, uint64_t address,
			       const struct mv_ptr_note *first, unsigned depth,
			       const struct mv_ptr_chain **ret);
/* "value", "string", "code", "cycle", "unreadable" or "depth". */
const char *mv_ptr_end_name(enum mv_ptr_end end);
/* After mv_ptr_render_text of the first note: `; holds 0x... -> ...`
 * per hop, then ` [cycle]`, `; unreadable` or `; ...` (depth). */
void mv_ptr_render_chain_text(const struct mv_ptr_chain *c, bool color,
			      struct mv_buf *out);
/* The keys "chain" (hops: address, value, kind, details) and
 * "chain_end" into the open object j. */
void mv_ptr_render_chain_json(const struct mv_ptr_chain *c,
			      struct mv_json *j);

/* ---- --diff memory ---- */

#define MV_VIEW_MEMO_SLOTS 4
#define MV_VIEW_MEMO_BYTES (64u << 10)

/* The last views of small ranges, kept by the session for --diff. */
struct mv_view_memo_slot {
	uint64_t address, len;   /* len 0: empty */
	uint64_t stamp;          /* for replacing the oldest */
	uint8_t bytes[MV_VIEW_MEMO_BYTES];
	uint8_t readable[MV_VIEW_MEMO_BYTES / 8]; /* bit per byte */
};

struct mv_view_memo {
	uint64_t clock;
	struct mv_view_memo_slot slots[MV_VIEW_MEMO_SLOTS];
};

/* ---- the command ---- */

extern const struct mv_command mv_command_view;
struct mv_error *mv_cmd_view(struct mv_cmd_ctx *ctx);

#endif
