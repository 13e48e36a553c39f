/* buf.h - growable byte buffers, and a JSON writer on top of them.
 *
 * Out-of-memory is sticky: appends after a failed growth are ignored and
 * mv_buf_error() reports it once, so callers check at the end, not after
 * every append. */
#ifndef MV_BUF_H
#define MV_BUF_H

#include "memview.h"

/* Arrays with an entry per object or chunk (millions of them).  Each
 * 4 KiB page first touched is a page fault, and on a virtual machine the
 * faults were a third of a million-object walk: blocks of 2 MiB or more
 * are mappings aligned to 2 MiB that ask for transparent huge pages
 * (Debian's THP default is "madvise"; where THP is off, they are plain
 * mappings).  Pages never touched cost nothing, so reserving for the
 * worst case is cheap.  As realloc/calloc, but free with mv_big_free,
 * never free().  NULL on overflow of n * size or when out of memory (p
 * is then untouched). */
void *mv_big_realloc(void *p, size_t n, size_t size);
void *mv_big_calloc(size_t n, size_t size);
void mv_big_free(void *p);
/* Gives back what p holds past its first bytes (their contents kept);
 * the block, maybe moved (p if nothing could be given back). */
void *mv_big_shrink(void *p, size_t bytes);
/* Gives back the whole huge pages of p's bytes [from, to) (their
 * contents read as zeros after), for an array read once from its start
 * while another is written; nothing for a block from malloc.  Returns
 * where the next call may start: to, down to a huge page, or from if
 * that is below. */
size_t mv_big_release(void *p, size_t from, size_t to);

struct mv_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len, cap;
	bool oom;
};

void mv_buf_init(struct mv_buf *b);
void mv_buf_deinit(struct mv_buf *b);
void mv_buf_clear(struct mv_buf *b);
bool mv_buf_reserve(struct mv_buf *b, size_t extra);
void mv_buf_append(struct mv_buf *b, const void *data, size_t len);
void mv_buf_puts(struct mv_buf *b, const char *s);
void mv_buf_putc(struct mv_buf *b, char c);
void mv_buf_printf(struct mv_buf *b, const char *fmt, ...) MV_PRINTF(2, 3);
void mv_buf_vprintf(struct mv_buf *b, const char *fmt, va_list ap);
/* Appends n copies of c. */
void mv_buf_pad(struct mv_buf *b, char c, size_t n);
/* Appends s escaped for a terminal: control, DEL, non-UTF-8 and bidi
 * override characters become \xNN / \u{...}; quote (if nonzero) and
 * backslash are escaped.  At most len bytes of s. */
void mv_buf_escape(struct mv_buf *b, const char *s, size_t len, char quote);
/* Takes the contents (caller frees), leaving b empty. */
/* Appends len bytes of text to b with every line wider than width columns
 * folded at a space (a word wider than the line stays whole, so that it
 * can be copied): continuation lines are indented to the column where
 * the line's last gap of two or more spaces ends (the start of a table's
 * last column), else four spaces past the line's own indent.  Colour escapes and UTF-8
 * continuation bytes take no column.  width 0: appended as it is. */
void mv_buf_fold(struct mv_buf *b, const char *text, size_t len,
		 unsigned width);
char *mv_buf_steal(struct mv_buf *b);
struct mv_error *mv_buf_error(const struct mv_buf *b);

/* A bounded list of one-sentence notes (warnings, problems found in
 * target data).  Hostile input could otherwise produce a sentence per
 * byte: past max, notes are only counted, and the list ends with one
 * sentence saying how many were left out. */
struct mv_notes {
	char **items;  /* max + 1 slots once used: the last for the summary */
	size_t n;
	size_t max;
	size_t dropped;
};

void mv_notes_init(struct mv_notes *l, size_t max);
void mv_notes_deinit(struct mv_notes *l);
/* False only on out-of-memory (the note is then lost, nothing else). */
bool mv_notes_add(struct mv_notes *l, const char *fmt, ...) MV_PRINTF(2, 3);
bool mv_notes_vadd(struct mv_notes *l, const char *fmt, va_list ap);
/* Forgets the notes that start with prefix. */
void mv_notes_remove_prefix(struct mv_notes *l, const char *prefix);
/* The notes, with "... and N more not listed" last if any were dropped.
 * Valid until the next add or deinit. */
size_t mv_notes_get(struct mv_notes *l, const char *const **ret);

/* A streaming JSON writer.  It tracks nesting to place commas; keys are
 * written with mv_json_key() before a value inside an object. */
#define MV_JSON_MAX_DEPTH 64
struct mv_json {
	struct mv_buf *out;
	int depth;
	bool need_comma[MV_JSON_MAX_DEPTH];
	bool after_key;
	bool pretty;
};

void mv_json_init(struct mv_json *j, struct mv_buf *out, bool pretty);
void mv_json_begin_object(struct mv_json *j);
void mv_json_end_object(struct mv_json *j);
void mv_json_begin_array(struct mv_json *j);
void mv_json_end_array(struct mv_json *j);
void mv_json_key(struct mv_json *j, const char *key);
/* Text (names, paths, sentences): valid UTF-8 as it is, any other byte
 * 0xXX as \udcXX (Python's surrogateescape reads it back). */
void mv_json_string(struct mv_json *j, const char *s);
/* Target bytes: every byte outside ASCII as \u00XX. */
void mv_json_string_len(struct mv_json *j, const char *s, size_t len);
void mv_json_int(struct mv_json *j, int64_t v);
void mv_json_uint(struct mv_json *j, uint64_t v);
void mv_json_double(struct mv_json *j, double v);
void mv_json_bool(struct mv_json *j, bool v);
void mv_json_null(struct mv_json *j);
/* Addresses are hex strings: "0x55d0c0a0". */
void mv_json_address(struct mv_json *j, uint64_t v);
/* Pre-rendered JSON text as one value. */
void mv_json_raw(struct mv_json *j, const char *text);

#endif
