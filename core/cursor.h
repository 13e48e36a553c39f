/* cursor.h - reading little-endian binary data (DWARF line tables,
 * .eh_frame) within bounds: every read past the end sets bad and
 * yields 0, so a parser checks once after a run of reads. */
#ifndef MV_CURSOR_H
#define MV_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mv_cursor {
	const uint8_t *p, *end;
	bool bad;
};

/* An n-byte (at most 8) little-endian unsigned integer. */
uint64_t mv_cursor_fixed(struct mv_cursor *c, size_t n);
uint64_t mv_cursor_uleb(struct mv_cursor *c);
int64_t mv_cursor_sleb(struct mv_cursor *c);
void mv_cursor_skip(struct mv_cursor *c, uint64_t n);
/* Past a NUL-terminated string. */
void mv_cursor_string(struct mv_cursor *c);

#endif
