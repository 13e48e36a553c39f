/* cursor.c - bounded reads of little-endian binary data (cursor.h). */
#include <string.h>

#include "cursor.h"

static void past_end(struct mv_cursor *c)
{
	c->bad = true;
	c->p = c->end;
}

uint64_t mv_cursor_fixed(struct mv_cursor *c, size_t n)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < n || n > 8) {
		past_end(c);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

uint64_t mv_cursor_uleb(struct mv_cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	past_end(c);
	return 0;
}

int64_t mv_cursor_sleb(struct mv_cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;
	do {
		if (c->p >= c->end) {
			past_end(c);
			return 0;
		}
		b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

void mv_cursor_skip(struct mv_cursor *c, uint64_t n)
{
	if ((uint64_t)(c->end - c->p) < n)
		past_end(c);
	else
		c->p += n;
}

void mv_cursor_string(struct mv_cursor *c)
{
	const uint8_t *z = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!z)
		past_end(c);
	else
		c->p = z + 1;
}
