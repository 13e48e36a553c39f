/* value.h - renders values read from target memory, as gdb prints them
 * (text) or as JSON.  Used by layout and, later, the typed view. */
#ifndef MV_VALUE_H
#define MV_VALUE_H

#include "buf.h"
#include "program.h"

struct mv_value_style {
	uint64_t max_elements; /* array elements before "..." */
	int max_depth;         /* nested aggregates before "{...}" */
	size_t max_string;     /* bytes of a string preview */
	/* C++: leave virtual bases out of a class's value (layout shows
	 * them once, at the most-derived object's level). */
	bool skip_virtual_bases;
};

/* The object of type at address (bit_size nonzero: a bitfield starting
 * bit_offset bits after address).  Unreadable memory renders as
 * <unreadable 0x...> (text) or null (JSON); never fails except for
 * out-of-memory, which the buffer records. */
void mv_value_render_text(struct mv_program *p, struct mv_type *type,
			  uint64_t address, uint32_t bit_offset,
			  uint32_t bit_size,
			  const struct mv_value_style *style,
			  struct mv_buf *out);
void mv_value_render_json(struct mv_program *p, struct mv_type *type,
			  uint64_t address, uint32_t bit_offset,
			  uint32_t bit_size,
			  const struct mv_value_style *style,
			  struct mv_json *j);
/* A pointer value with its symbol, as in "0x5555 <list_storage+16>". */
void mv_value_render_pointer(struct mv_program *p, uint64_t value,
			     struct mv_buf *out);

#endif
