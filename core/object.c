/* object.c - typed objects for scripts: evaluate an expression, look up
 * a type, read bytes and print a value, as the commands do.  The Python
 * module (python/memview_core.py) builds its Value on these four calls;
 * member access, indexing and dereferencing are done there from the
 * public struct mv_type, with no second evaluator. */
#include <string.h>

#include "buf.h"
#include "expr.h"
#include "session.h"
#include "target.h"
#include "value.h"

/* gdb's default `set print elements`. */
#define FORMAT_MAX_ELEMENTS 200
#define FORMAT_MAX_DEPTH 2
#define FORMAT_MAX_STRING 200

struct mv_error *mv_session_evaluate(struct mv_session *s, const char *expr,
				     struct mv_object *ret)
{
	struct mv_value v;
	memset(&v, 0, sizeof(v));
	struct mv_error *err = mv_session_eval(s, expr, &v);
	if (err)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->type = v.type;
	ret->is_lvalue = v.is_lvalue;
	ret->address = v.address;
	ret->value = v.value;
	return NULL;
}

struct mv_error *mv_session_find_type(struct mv_session *s, const char *name,
				      struct mv_type **ret)
{
	return mv_session_parse_type(s, name, ret);
}

struct mv_error *mv_session_read(struct mv_session *s, uint64_t address,
				 void *buf, size_t len)
{
	struct mv_error *err = mv_session_need_memory(s);
	if (err)
		return err;
	return mv_target_read(s->target, address, buf, len);
}

/* An rvalue that is not a pointer: an integer of its type's size. */
static void print_scalar(struct mv_buf *out, const struct mv_object *o)
{
	struct mv_type *t = mv_type_strip(o->type);
	uint64_t v = o->value;
	if (t->size > 0 && t->size < 8)
		v &= (UINT64_C(1) << (8 * t->size)) - 1;
	if (t->is_signed && t->size > 0 && t->size < 8 &&
	    (v >> (8 * t->size - 1)) & 1)
		v |= ~((UINT64_C(1) << (8 * t->size)) - 1);
	if (t->is_signed)
		mv_buf_printf(out, "%lld", (long long)v);
	else
		mv_buf_printf(out, "%llu", (unsigned long long)v);
}

struct mv_error *mv_session_format(struct mv_session *s,
				   const struct mv_object *o, char **ret)
{
	struct mv_error *err = mv_session_need_target(s);
	if (err)
		return err;
	if (!o->type)
		return mv_error_create(MV_ERR_INVALID, "an object without a type");
	struct mv_value_style style = {
		.max_elements = FORMAT_MAX_ELEMENTS,
		.max_depth = FORMAT_MAX_DEPTH,
		.max_string = FORMAT_MAX_STRING,
	};
	struct mv_buf out;
	mv_buf_init(&out);
	if (o->is_lvalue || o->bit_size) {
		mv_value_render_text(s->program, o->type, o->address,
				     o->bit_offset, o->bit_size, &style, &out);
	} else if (mv_type_strip(o->type)->kind == MV_TYPE_POINTER) {
		mv_value_render_pointer(s->program, o->value, &out);
	} else {
		print_scalar(&out, o);
	}
	err = mv_buf_error(&out);
	if (err) {
		mv_buf_deinit(&out);
		return err;
	}
	*ret = mv_buf_steal(&out);
	return NULL;
}
