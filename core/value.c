/* value.c - values read from target memory, rendered as text or JSON.
 *
 * Aggregates nest only as deep as style->max_depth (DWARF types, not
 * target data, decide the shape, and even that is bounded). */
#include <stdio.h>
#include <string.h>

#include "cxxname.h"
#include "value.h"

struct render {
	struct mv_program *p;
	struct mv_target *t;
	const struct mv_value_style *style;
	struct mv_buf *out; /* text */
	struct mv_json *j;  /* or JSON */
};

static bool read_bytes(struct render *r, uint64_t addr, void *buf, size_t len)
{
	if (!r->t)
		return false;
	struct mv_error *err = mv_target_read(r->t, addr, buf, len);
	if (err) {
		mv_error_destroy(err);
		return false;
	}
	return true;
}

static void unreadable(struct render *r, uint64_t addr)
{
	if (r->j)
		mv_json_null(r->j);
	else
		mv_buf_printf(r->out, "<unreadable 0x%llx>",
			      (unsigned long long)addr);
}

void mv_value_render_pointer(struct mv_program *p, uint64_t value,
			     struct mv_buf *out)
{
	mv_buf_printf(out, "0x%llx", (unsigned long long)value);
	const char *name;
	uint64_t off;
	if (value && mv_program_symbolize(p, value, &name, &off)) {
		/* A vptr reads as gdb prints it: <vtable for X+16>. */
		char readable[256];
		if (mv_cxx_demangle_class_symbol(name, readable,
						 sizeof(readable)))
			name = readable;
		if (off)
			mv_buf_printf(out, " <%s+%llu>", name,
				      (unsigned long long)off);
		else
			mv_buf_printf(out, " <%s>", name);
	}
}

/* Reads up to max bytes of a NUL-terminated string; returns its length
 * and whether the NUL was found. */
static size_t read_string(struct render *r, uint64_t addr, char *buf,
			  size_t max, bool *terminated)
{
	size_t n = r->t ? mv_target_read_partial(r->t, addr, buf, max) : 0;
	size_t len = strnlen(buf, n);
	*terminated = len < n;
	return len;
}

static void render_string(struct render *r, const char *s, size_t len,
			  bool complete)
{
	if (r->j) {
		mv_json_string_len(r->j, s, len);
		return;
	}
	mv_buf_putc(r->out, '"');
	mv_buf_escape(r->out, s, len, '"');
	mv_buf_putc(r->out, '"');
	if (!complete)
		mv_buf_puts(r->out, "...");
}

static uint64_t extract_bits(const uint8_t *bytes, uint32_t bit_offset,
			     uint32_t bit_size)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < bit_size && i < 64; i++) {
		uint32_t b = bit_offset + i;
		if (bytes[b / 8] & (1u << (b % 8)))
			v |= (uint64_t)1 << i;
	}
	return v;
}

static void render_scalar(struct render *r, struct mv_type *type,
			  struct mv_type *st, uint64_t addr,
			  uint32_t bit_offset, uint32_t bit_size)
{
	uint8_t bytes[32];
	uint64_t size = st->size;
	if (bit_size) {
		size = (bit_offset + bit_size + 7) / 8;
		if (size > 9)
			size = 9;
	}
	if (size == 0 || size > sizeof(bytes)) {
		if (r->j)
			mv_json_null(r->j);
		else
			mv_buf_puts(r->out, "<no value>");
		return;
	}
	if (!read_bytes(r, addr, bytes, size)) {
		unreadable(r, addr);
		return;
	}
	uint64_t raw = 0;
	if (bit_size) {
		raw = extract_bits(bytes, bit_offset, bit_size);
	} else if (size <= 8) {
		memcpy(&raw, bytes, size);
	}
	uint32_t bits = bit_size ? bit_size : (uint32_t)(size <= 8 ? size * 8 : 64);
	bool is_signed = (st->kind == MV_TYPE_INT || st->kind == MV_TYPE_ENUM) &&
			 st->is_signed;
	int64_t sval = (int64_t)raw;
	if (is_signed && bits < 64 && (raw >> (bits - 1)) & 1)
		sval = (int64_t)(raw | (~(uint64_t)0 << bits));

	switch (st->kind) {
	case MV_TYPE_BOOL:
		if (r->j)
			mv_json_bool(r->j, raw != 0);
		else
			mv_buf_puts(r->out, raw ? "true" : "false");
		return;
	case MV_TYPE_FLOAT: {
		double d;
		if (size == 4) {
			float f;
			memcpy(&f, bytes, 4);
			d = f;
		} else if (size == 8) {
			memcpy(&d, bytes, 8);
		} else {
			long double ld;
			memcpy(&ld, bytes, sizeof(ld) < size ? sizeof(ld) : size);
			d = (double)ld;
		}
		if (r->j)
			mv_json_double(r->j, d);
		else
			mv_buf_printf(r->out, "%.17g", d);
		return;
	}
	case MV_TYPE_ENUM:
		for (size_t i = 0; i < st->nenumerators; i++) {
			if (st->enumerators[i].value ==
			    (is_signed ? sval : (int64_t)raw)) {
				if (r->j)
					mv_json_string(r->j, st->enumerators[i].name);
				else
					mv_buf_puts(r->out, st->enumerators[i].name);
				return;
			}
		}
		break;
	case MV_TYPE_POINTER: {
		struct mv_type *target = mv_type_strip(mv_type_target(st));
		if (r->j) {
			mv_json_address(r->j, raw);
			return;
		}
		mv_value_render_pointer(r->p, raw, r->out);
		if (raw && target && target->kind == MV_TYPE_INT &&
		    target->is_char && target->size == 1) {
			char s[256];
			size_t max = r->style->max_string < sizeof(s)
					     ? r->style->max_string
					     : sizeof(s);
			bool done;
			size_t len = read_string(r, raw, s, max, &done);
			if (len || done) {
				mv_buf_putc(r->out, ' ');
				render_string(r, s, len, done);
			}
		}
		return;
	}
	default:
		break;
	}
	(void)type;
	if (r->j) {
		if (is_signed)
			mv_json_int(r->j, sval);
		else
			mv_json_uint(r->j, raw);
		return;
	}
	if (is_signed)
		mv_buf_printf(r->out, "%lld", (long long)sval);
	else
		mv_buf_printf(r->out, "%llu", (unsigned long long)raw);
	if (st->kind == MV_TYPE_INT && st->is_char && size == 1) {
		char c = (char)raw;
		mv_buf_puts(r->out, " '");
		mv_buf_escape(r->out, &c, 1, '\'');
		mv_buf_putc(r->out, '\'');
	}
}

static void render(struct render *r, struct mv_type *type, uint64_t addr,
		   uint32_t bit_offset, uint32_t bit_size, int depth);

static void render_array(struct render *r, struct mv_type *st, uint64_t addr,
			 int depth)
{
	struct mv_type *elem = mv_type_target(st);
	struct mv_type *se = mv_type_strip(elem);
	uint64_t count = st->has_count ? st->count : 0;
	if (se && se->kind == MV_TYPE_INT && se->is_char && se->size == 1) {
		char s[256];
		size_t max = count < sizeof(s) ? (size_t)count : sizeof(s);
		if (max > r->style->max_string)
			max = r->style->max_string;
		size_t n = r->t ? mv_target_read_partial(r->t, addr, s, max) : 0;
		if (n == 0 && max) {
			unreadable(r, addr);
			return;
		}
		size_t len = strnlen(s, n);
		render_string(r, s, len, len < n || n == count);
		return;
	}
	if (depth >= r->style->max_depth) {
		if (r->j)
			mv_json_null(r->j);
		else
			mv_buf_puts(r->out, "{...}");
		return;
	}
	uint64_t shown = count < r->style->max_elements ? count
							: r->style->max_elements;
	if (r->j)
		mv_json_begin_array(r->j);
	else
		mv_buf_putc(r->out, '{');
	for (uint64_t i = 0; i < shown; i++) {
		if (!r->j && i)
			mv_buf_puts(r->out, ", ");
		render(r, elem, addr + i * se->size, 0, 0, depth + 1);
	}
	if (r->j) {
		mv_json_end_array(r->j);
	} else {
		if (shown < count)
			mv_buf_puts(r->out, shown ? ", ..." : "...");
		mv_buf_putc(r->out, '}');
	}
}

/* A virtual base of the subobject at addr lies where its vtable says:
 * the vptr at addr, the base's offset vbase_slot bytes before the
 * address it holds (Itanium ABI). */
static bool virtual_base_at(struct render *r, const struct mv_member *m,
			    uint64_t addr, uint64_t *ret)
{
	uint64_t vptr = 0;
	int64_t delta = 0;
	if (!m->vbase_slot || !read_bytes(r, addr, &vptr, 8) ||
	    !read_bytes(r, vptr - m->vbase_slot, &delta, 8))
		return false;
	*ret = addr + (uint64_t)delta;
	return true;
}

static void render_struct(struct render *r, struct mv_type *st, uint64_t addr,
			  int depth)
{
	if (depth >= r->style->max_depth) {
		if (r->j)
			mv_json_null(r->j);
		else
			mv_buf_puts(r->out, "{...}");
		return;
	}
	if (r->j)
		mv_json_begin_object(r->j);
	else
		mv_buf_putc(r->out, '{');
	size_t shown = 0;
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct mv_member *m = &st->members[i];
		char anon[256];
		const char *name = m->name;
		uint64_t at = addr + m->bit_position / 8;
		bool virt = (m->flags & MV_MEMBER_VIRTUAL_BASE) != 0;
		if (virt && r->style->skip_virtual_bases)
			continue;
		if (m->flags & MV_MEMBER_BASE) {
			/* gdb's spelling of a base: <Base> = {...}. */
			struct mv_type *bt = mv_type_strip(m->type);
			snprintf(anon, sizeof(anon), "<%s>",
				 bt && bt->name ? bt->name : "?");
			name = anon;
		} else if (!name) {
			snprintf(anon, sizeof(anon), "<anonymous %zu>", i);
			name = anon;
		}
		if (r->j)
			mv_json_key(r->j, name);
		else
			mv_buf_printf(r->out, "%s%s = ", shown ? ", " : "",
				      name);
		shown++;
		if (virt && !virtual_base_at(r, m, addr, &at)) {
			if (r->j)
				mv_json_null(r->j);
			else
				mv_buf_puts(r->out, "<virtual base not found>");
			continue;
		}
		render(r, m->type, at,
		       m->bit_size ? (uint32_t)(m->bit_position % 8) : 0,
		       m->bit_size, depth + 1);
	}
	if (r->j)
		mv_json_end_object(r->j);
	else
		mv_buf_putc(r->out, '}');
}

static void render(struct render *r, struct mv_type *type, uint64_t addr,
		   uint32_t bit_offset, uint32_t bit_size, int depth)
{
	struct mv_type *st = mv_type_strip(type);
	if (!st || st->kind == MV_TYPE_UNKNOWN || st->kind == MV_TYPE_VOID ||
	    st->kind == MV_TYPE_FUNCTION) {
		if (r->j)
			mv_json_null(r->j);
		else
			mv_buf_puts(r->out, "<no value>");
		return;
	}
	switch (st->kind) {
	case MV_TYPE_STRUCT:
	case MV_TYPE_UNION:
	case MV_TYPE_CLASS:
		render_struct(r, st, addr, depth);
		return;
	case MV_TYPE_ARRAY:
		render_array(r, st, addr, depth);
		return;
	default:
		render_scalar(r, type, st, addr, bit_offset, bit_size);
	}
}

void mv_value_render_text(struct mv_program *p, struct mv_type *type,
			  uint64_t address, uint32_t bit_offset,
			  uint32_t bit_size,
			  const struct mv_value_style *style,
			  struct mv_buf *out)
{
	struct render r = {p, mv_program_target(p), style, out, NULL};
	render(&r, type, address, bit_offset, bit_size, 0);
}

void mv_value_render_json(struct mv_program *p, struct mv_type *type,
			  uint64_t address, uint32_t bit_offset,
			  uint32_t bit_size,
			  const struct mv_value_style *style,
			  struct mv_json *j)
{
	struct render r = {p, mv_program_target(p), style, NULL, j};
	render(&r, type, address, bit_offset, bit_size, 0);
}
