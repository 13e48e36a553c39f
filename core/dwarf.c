/* dwarf.c - DWARF types and variables of one ELF file, via libdwarf.
 *
 * Opening walks the top-level DIEs of every compile unit (and the
 * namespaces of C++ units: see struct scope_rec) and records names only
 * (a hash table of name -> DIE offsets, strings in an arena), so that a
 * 4 MB glibc debug file opens quickly.  Types are built on
 * demand, cached by DIE offset, and live in the same arena until
 * mv_dwarf_destroy().
 *
 * Recursion: pointer, reference and function targets are lazy (built on
 * first mv_type_target()), so self-referential structs cost nothing.
 * What a type holds by value (members, typedef / qualifier / array
 * targets) is built with it, at most MAX_DEPTH levels deep, and a DIE
 * met again while it is still being built is a cycle: it becomes an
 * MV_TYPE_UNKNOWN "<type cycle at DIE 0x...>" instead of recursing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

/* libdwarf/ prefix: core/dwarf.h would shadow libdwarf's dwarf.h. */
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

#include "buf.h"
#include "cursor.h"
#include "cxxname.h"
#include "dwarf.h"
#include "type_internal.h"
#include <elf.h> /* core/elf.h: our ELF reader, for the line-table guard */

/* ------------------------------------------------------------------ */
/* Loading libdwarf                                                    */
/* ------------------------------------------------------------------ */

/* libdwarf is opened with dlopen(RTLD_DEEPBIND) and called through this
 * table rather than linked: gdb links elfutils' libdw, which exports
 * functions with libdwarf's names (dwarf_tag, dwarf_diename, ...) but
 * other signatures, and in gdb's process ordinary linking would bind our
 * calls, and libdwarf's calls to itself, to those.  The pointer types
 * come from libdwarf's own prototypes, so the calls below are checked as
 * usual. */
#define MV_LIBDWARF_FUNCS(X) \
	X(dwarf_dealloc_die) \
	X(dwarf_dealloc_attribute) \
	X(dwarf_whatform) \
	X(dwarf_child) \
	X(dwarf_global_formref) \
	X(dwarf_formudata) \
	X(dwarf_formsdata) \
	X(dwarf_dealloc) \
	X(dwarf_get_form_class) \
	X(dwarf_tag) \
	X(dwarf_srcfiles) \
	X(dwarf_siblingof_b) \
	X(dwarf_rnglists_get_rle_head) \
	X(dwarf_ranges_dealloc) \
	X(dwarf_offdie_b) \
	X(dwarf_next_cu_header_d) \
	X(dwarf_lowpc) \
	X(dwarf_init_path) \
	X(dwarf_highpc_b) \
	X(dwarf_get_rnglists_entry_fields_a) \
	X(dwarf_get_ranges_b) \
	X(dwarf_formflag) \
	X(dwarf_formexprloc) \
	X(dwarf_formblock) \
	X(dwarf_finish) \
	X(dwarf_errmsg) \
	X(dwarf_dieoffset) \
	X(dwarf_diename) \
	X(dwarf_dealloc_rnglists_head) \
	X(dwarf_dealloc_error) \
	X(dwarf_attr) \
	X(dwarf_debug_addr_index_to_addr) \
	X(dwarf_get_loclist_c) \
	X(dwarf_get_locdesc_entry_d) \
	X(dwarf_get_location_op_value_c) \
	X(dwarf_loc_head_c_dealloc)

static struct {
#define X(f) __typeof__(f) *f;
	MV_LIBDWARF_FUNCS(X)
#undef X
} libdwarf;
static pthread_once_t libdwarf_once = PTHREAD_ONCE_INIT;
static char libdwarf_error[256];

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define MV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MV_ASAN 1
#endif
#endif

static void libdwarf_load(void)
{
	int flags = RTLD_NOW | RTLD_LOCAL;
#if !defined(MV_ASAN)
	/* The sanitizer runtime refuses RTLD_DEEPBIND; a sanitized build
	 * is never loaded into gdb. */
	flags |= RTLD_DEEPBIND;
#endif
	void *h = dlopen("libdwarf.so.1", flags);
	if (!h) {
		snprintf(libdwarf_error, sizeof(libdwarf_error),
			 "cannot load libdwarf.so.1 (Debian package libdwarf1): %s",
			 dlerror());
		return;
	}
#define X(f)                                                              \
	if (!(libdwarf.f = (__typeof__(f) *)dlsym(h, #f))) {               \
		snprintf(libdwarf_error, sizeof(libdwarf_error),           \
			 "libdwarf.so.1 lacks %s: not the 20210528 API", #f); \
		return;                                                    \
	}
	MV_LIBDWARF_FUNCS(X)
#undef X
}

static struct mv_error *libdwarf_ready(void)
{
	pthread_once(&libdwarf_once, libdwarf_load);
	if (libdwarf_error[0])
		return mv_error_create(MV_ERR_UNSUPPORTED, "%s", libdwarf_error);
	return NULL;
}

/* zlib's uncompress(), to check compressed line tables (-gz, Debian's
 * debug files) before libdwarf reads them.  Taken with dlopen from the
 * libz.so.1 that libdwarf.so.1 itself links, so that the build needs no
 * zlib headers; the prototype is zlib 1.x's, with its typedefs spelt
 * out (Bytef, uLongf, uLong). */
typedef int zlib_uncompress_fn(unsigned char *dest, unsigned long *dest_len,
			       const unsigned char *src,
			       unsigned long src_len);
static zlib_uncompress_fn *zlib_uncompress;
static pthread_once_t zlib_once = PTHREAD_ONCE_INIT;

static void zlib_load(void)
{
	void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h)
		zlib_uncompress = (zlib_uncompress_fn *)dlsym(h, "uncompress");
}

/* From here on, every dwarf_* call goes through the table. */
#define dwarf_dealloc_die (libdwarf.dwarf_dealloc_die)
#define dwarf_dealloc_attribute (libdwarf.dwarf_dealloc_attribute)
#define dwarf_whatform (libdwarf.dwarf_whatform)
#define dwarf_child (libdwarf.dwarf_child)
#define dwarf_global_formref (libdwarf.dwarf_global_formref)
#define dwarf_formudata (libdwarf.dwarf_formudata)
#define dwarf_formsdata (libdwarf.dwarf_formsdata)
#define dwarf_dealloc (libdwarf.dwarf_dealloc)
#define dwarf_get_form_class (libdwarf.dwarf_get_form_class)
#define dwarf_tag (libdwarf.dwarf_tag)
#define dwarf_srcfiles (libdwarf.dwarf_srcfiles)
#define dwarf_siblingof_b (libdwarf.dwarf_siblingof_b)
#define dwarf_rnglists_get_rle_head (libdwarf.dwarf_rnglists_get_rle_head)
#define dwarf_ranges_dealloc (libdwarf.dwarf_ranges_dealloc)
#define dwarf_offdie_b (libdwarf.dwarf_offdie_b)
#define dwarf_next_cu_header_d (libdwarf.dwarf_next_cu_header_d)
#define dwarf_lowpc (libdwarf.dwarf_lowpc)
#define dwarf_init_path (libdwarf.dwarf_init_path)
#define dwarf_highpc_b (libdwarf.dwarf_highpc_b)
#define dwarf_get_rnglists_entry_fields_a (libdwarf.dwarf_get_rnglists_entry_fields_a)
#define dwarf_get_ranges_b (libdwarf.dwarf_get_ranges_b)
#define dwarf_formflag (libdwarf.dwarf_formflag)
#define dwarf_formexprloc (libdwarf.dwarf_formexprloc)
#define dwarf_formblock (libdwarf.dwarf_formblock)
#define dwarf_finish (libdwarf.dwarf_finish)
#define dwarf_errmsg (libdwarf.dwarf_errmsg)
#define dwarf_dieoffset (libdwarf.dwarf_dieoffset)
#define dwarf_diename (libdwarf.dwarf_diename)
#define dwarf_dealloc_rnglists_head (libdwarf.dwarf_dealloc_rnglists_head)
#define dwarf_dealloc_error (libdwarf.dwarf_dealloc_error)
#define dwarf_attr (libdwarf.dwarf_attr)
#define dwarf_debug_addr_index_to_addr \
	(libdwarf.dwarf_debug_addr_index_to_addr)
#define dwarf_get_loclist_c (libdwarf.dwarf_get_loclist_c)
#define dwarf_get_locdesc_entry_d (libdwarf.dwarf_get_locdesc_entry_d)
#define dwarf_get_location_op_value_c \
	(libdwarf.dwarf_get_location_op_value_c)
#define dwarf_loc_head_c_dealloc (libdwarf.dwarf_loc_head_c_dealloc)

/* ------------------------------------------------------------------ */
/* libdwarf 20210528 shim: the calls whose signatures changed upstream */
/* ------------------------------------------------------------------ */

static int shim_init_path(const char *path, Dwarf_Debug *dbg,
			  Dwarf_Error *err)
{
	/* No true-path buffer: libdwarf then does not follow
	 * .gnu_debuglink itself (program.c finds debug files).  No error
	 * handler: the default one aborts the process, which would kill
	 * the user's debugger. */
	return dwarf_init_path(path, NULL, 0, DW_DLC_READ,
			       DW_GROUPNUMBER_ANY, NULL, NULL, dbg, NULL, 0,
			       NULL, err);
}

static int shim_next_cu(Dwarf_Debug dbg, Dwarf_Half *version,
			Dwarf_Half *addr_size, Dwarf_Unsigned *next,
			Dwarf_Error *err)
{
	Dwarf_Unsigned header_length, type_offset;
	Dwarf_Half length_size, extension_size, cu_type;
	Dwarf_Off abbrev_offset;
	Dwarf_Sig8 signature;
	return dwarf_next_cu_header_d(dbg, true, &header_length, version,
				      &abbrev_offset, addr_size, &length_size,
				      &extension_size, &signature,
				      &type_offset, next, &cu_type, err);
}

static void shim_free_error(Dwarf_Debug dbg, Dwarf_Error err);

static int shim_siblingof(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Die *ret,
			  Dwarf_Error *err)
{
	int res = dwarf_siblingof_b(dbg, die, true, ret, err);
	if (res != DW_DLV_OK || !die)
		return res;
	/* A hostile DW_AT_sibling may point backwards, and libdwarf
	 * follows it: every loop over siblings would never end (found by
	 * fuzz_dwarf).  Siblings must move forward. */
	Dwarf_Off here = 0, there = 0;
	Dwarf_Error e = NULL;
	if (dwarf_dieoffset(die, &here, &e) != DW_DLV_OK ||
	    dwarf_dieoffset(*ret, &there, &e) != DW_DLV_OK || there <= here) {
		shim_free_error(dbg, e);
		dwarf_dealloc_die(*ret);
		*ret = NULL;
		return DW_DLV_NO_ENTRY;
	}
	return res;
}

static int shim_offdie(Dwarf_Debug dbg, Dwarf_Off off, Dwarf_Die *ret,
		       Dwarf_Error *err)
{
	return dwarf_offdie_b(dbg, off, true, ret, err);
}

static void shim_free_error(Dwarf_Debug dbg, Dwarf_Error err)
{
	if (err)
		dwarf_dealloc_error(dbg, err);
}

/* Pre-DWARF 5 .debug_ranges: calls fn(arg, low, high) per range. */
static void shim_ranges_v4(Dwarf_Debug dbg, Dwarf_Die cu_die,
			   Dwarf_Off offset, uint64_t base,
			   void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	Dwarf_Ranges *ranges = NULL;
	Dwarf_Signed count = 0;
	Dwarf_Unsigned bytes = 0;
	Dwarf_Off real_offset = 0;
	Dwarf_Error err = NULL;
	if (dwarf_get_ranges_b(dbg, offset, cu_die, &real_offset, &ranges,
			       &count, &bytes, &err) != DW_DLV_OK) {
		shim_free_error(dbg, err);
		return;
	}
	for (Dwarf_Signed i = 0; i < count; i++) {
		if (ranges[i].dwr_type == DW_RANGES_END)
			break;
		if (ranges[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
			base = ranges[i].dwr_addr2;
		else
			fn(arg, base + ranges[i].dwr_addr1,
			   base + ranges[i].dwr_addr2);
	}
	dwarf_ranges_dealloc(dbg, ranges, count);
}

/* DWARF 5 .debug_rnglists: libdwarf hands back cooked addresses. */
static void shim_ranges_v5(Dwarf_Debug dbg, Dwarf_Attribute attr,
			   Dwarf_Half form,
			   void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	Dwarf_Unsigned value = 0, count = 0, global_offset = 0;
	Dwarf_Rnglists_Head head = NULL;
	Dwarf_Error err = NULL;
	int res;
	if (form == DW_FORM_rnglistx) {
		res = dwarf_formudata(attr, &value, &err);
	} else {
		Dwarf_Off off = 0;
		res = dwarf_global_formref(attr, &off, &err);
		value = off;
	}
	if (res != DW_DLV_OK) {
		shim_free_error(dbg, err);
		return;
	}
	if (dwarf_rnglists_get_rle_head(attr, form, value, &head, &count,
					&global_offset, &err) != DW_DLV_OK) {
		shim_free_error(dbg, err);
		return;
	}
	for (Dwarf_Unsigned i = 0; i < count; i++) {
		unsigned entry_len = 0, code = 0;
		Dwarf_Unsigned raw1, raw2, lo, hi;
		Dwarf_Bool unavailable = false;
		if (dwarf_get_rnglists_entry_fields_a(head, i, &entry_len,
						      &code, &raw1, &raw2,
						      &unavailable, &lo, &hi,
						      &err) != DW_DLV_OK) {
			shim_free_error(dbg, err);
			break;
		}
		if (code == DW_RLE_end_of_list)
			break;
		if (unavailable || code == DW_RLE_base_address ||
		    code == DW_RLE_base_addressx)
			continue;
		fn(arg, lo, hi);
	}
	dwarf_dealloc_rnglists_head(head);
}

/* ------------------------------------------------------------------ */
/* Arena: names and types, freed all at once                          */
/* ------------------------------------------------------------------ */

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (!size)
		size = 16;
	struct arena_chunk *c = a->head;
	if (!c || c->cap - c->used < size) {
		/* Big requests get a chunk of their own, behind the current
		 * one, so the current chunk's free space is not wasted. */
		size_t cap = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
		struct arena_chunk *n = malloc(sizeof(*n) + cap);
		if (!n)
			return NULL;
		n->used = 0;
		n->cap = cap;
		if (c && cap != ARENA_CHUNK) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			a->head = n;
		}
		c = n;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

static char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

/* ------------------------------------------------------------------ */
/* Data structures                                                     */
/* ------------------------------------------------------------------ */

#define MAX_DEPTH 64
/* Namespaces and classes nested in each other, as indexed. */
#define MAX_SCOPE_DEPTH 16
#define NONE UINT32_MAX

enum idx_kind {
	IDX_STRUCT,
	IDX_UNION,
	IDX_ENUM,
	IDX_CLASS,
	IDX_ORDINARY, /* typedefs and base types */
	IDX_VARIABLE,
	/* A template instance's name without its arguments, for the types
	 * above: IDX_STEM + kind ("std::vector" -> "std::vector<int,
	 * std::allocator<int> >"). */
	IDX_STEM,
};

struct idx_entry {
	const char *name;    /* the key: mv_cxx_canon's spelling */
	const char *display; /* as g++ (and gdb) spell it, if not name */
	uint64_t die;      /* for variables: the DIE with the location */
	uint64_t type_die; /* variables: their type; 0 if none */
	uint64_t addr;     /* variables: DW_OP_addr operand, unbiased */
	uint64_t size;     /* types: DW_AT_byte_size */
	uint32_t line;     /* types: DW_AT_decl_line */
	uint32_t cu;
	uint32_t next;     /* next entry of the same kind and name */
	uint32_t hash;
	uint32_t full;     /* stems: the entry of the full name */
	uint8_t kind;
	bool declaration;
	bool has_size;
	bool first;        /* the first entry of its kind and name */
};

/* One slot per distinct (kind, name): the chain of its entries in file
 * order. */
struct idx_slot {
	uint32_t head, tail; /* entry indexes; head == NONE: empty */
};

struct range {
	uint64_t lo, hi;
};

struct cu {
	uint64_t start, end; /* unit's extent in .debug_info */
	uint64_t die;        /* the unit DIE */
	const char *name;
	uint16_t version, addr_size;
	bool cxx;
	/* Loaded on first use. */
	bool ranges_loaded, files_loaded;
	size_t nranges, ranges_cap;
	struct range *ranges;
	size_t nfiles;
	const char **files;
};

struct tcache_slot {
	uint64_t die; /* UINT64_MAX: empty */
	struct mv_type *type;
	bool building;
};

/* A namespace or class: the extent of its DIE (children included) and
 * its qualified name.  Namespaces and the classes directly in them are
 * recorded when the file is indexed, in DIE order (a binary search finds
 * the scope of any DIE); a class's children, nested classes included,
 * only when something needs them (scan_class), since walking every
 * member of every libstdc++ class made opening three times slower. */
struct scope_rec {
	uint64_t off;
	uint64_t end;     /* UINT64_MAX: ends where its parent ends */
	const char *path; /* "ns::inner::Bar" */
	const char *alt;  /* without anonymous and inline namespaces, or NULL */
	uint32_t parent;  /* NONE at the unit's top */
	uint32_t children, sibling; /* nested classes found by scan_class */
	uint32_t cu;
	uint8_t depth;
	bool is_class, scanned;
};

/* An out-of-line definition (C++'s "int ns::x = 1;", a static member):
 * named after indexing, when the scope of its declaration is known. */
struct pending_var {
	struct idx_entry e;
	uint64_t spec;
	bool need_type;
};

/* Where the index walk is: the qualified name of the scope ("ns::Foo"),
 * the same without anonymous and inline namespaces ("std::basic_string"
 * for "std::__cxx11::basic_string") when has_alt, its record (cur) and
 * the scope its last child opened (open), whose end the next sibling
 * gives. */
struct scope {
	struct mv_buf path, alt;
	bool has_alt;
	int depth;
	uint32_t cur, open;
	/* Scratch: the qualified names of an entry, its key and stem. */
	struct mv_buf name, alt_name, key, stem;
};

struct var_addr {
	uint64_t addr;
	uint32_t entry;
};

struct func_range {
	uint64_t lo, hi; /* unbiased */
	uint64_t die;
};

struct mv_dwarf {
	Dwarf_Debug dbg;
	/* The same file through our own bounds-checked reader: the line
	 * tables are checked here before libdwarf reads them (see
	 * line_table_ok).  NULL if it could not be opened. */
	struct mv_elf *elf;
	/* .debug_line as line_table_ok reads it: in the mapping, or
	 * inflated into line_copy if it is compressed. */
	const uint8_t *line;
	size_t line_size;
	uint8_t *line_copy;
	bool line_tried;
	uint64_t bias;
	char *path;
	struct arena arena;
	bool oom; /* an allocation failed in the current call */

	struct cu *cus;
	size_t ncus, cus_cap;

	struct idx_entry *entries;
	size_t nentries, entries_cap;
	struct idx_slot *slots;
	size_t nslots, nslots_used; /* nslots: a power of two */
	bool stems_built; /* IDX_STEM entries exist (made on first need) */

	struct tcache_slot *tslots;
	size_t ntslots, ntslots_used;
	size_t types_built;

	/* C++ variables by address, for symbol names (made on first
	 * use), sorted by (unbiased) address. */
	struct var_addr *cxx_vars;
	size_t ncxx_vars;
	bool cxx_vars_built;

	/* Functions with code (DW_TAG_subprogram with a pc range), for
	 * the locals of a stack frame; sorted by lo on first use. */
	struct func_range *funcs;
	size_t nfuncs, funcs_cap;
	bool funcs_sorted;

	struct scope_rec *scopes;
	size_t nscopes, scopes_cap;
	size_t nsorted;     /* scopes[0..nsorted) are in DIE order */
	struct pending_var *pending;
	size_t npending, pending_cap;
	struct scope scope; /* the index walk's state */
	bool indexing;      /* mv_dwarf_open's walk, not a scan_class */
	bool cxx;           /* the unit being walked is C++ */

	struct mv_type void_type;
};

/* What every resolver failure falls back to when even the arena fails. */
static struct mv_type oom_type = {
	.kind = MV_TYPE_UNKNOWN,
	.name = "<out of memory>",
};

static uint32_t hash_name(const char *s, enum idx_kind kind)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void drop_error(struct mv_dwarf *d, Dwarf_Error *err)
{
	if (*err) {
		shim_free_error(d->dbg, *err);
		*err = NULL;
	}
}

static struct mv_error *dwarf_failure(Dwarf_Debug dbg, Dwarf_Error err,
				      const char *path, const char *what)
{
	struct mv_error *e = mv_error_create(
		MV_ERR_FORMAT, "%s: %s: %s", path, what,
		err ? dwarf_errmsg(err) : "libdwarf error");
	shim_free_error(dbg, err);
	return e;
}

/* ------------------------------------------------------------------ */
/* DIE attribute helpers: a missing or malformed attribute is absent   */
/* ------------------------------------------------------------------ */

static bool die_attr(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at,
		     Dwarf_Attribute *ret)
{
	Dwarf_Error err = NULL;
	int res = dwarf_attr(die, at, ret, &err);
	drop_error(d, &err);
	return res == DW_DLV_OK;
}

static bool attr_udata(struct mv_dwarf *d, Dwarf_Attribute attr,
		       uint64_t *ret)
{
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	if (dwarf_whatform(attr, &form, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return false;
	}
	int res;
	if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
		Dwarf_Signed s = 0;
		res = dwarf_formsdata(attr, &s, &err);
		*ret = (uint64_t)s;
	} else {
		Dwarf_Unsigned u = 0;
		res = dwarf_formudata(attr, &u, &err);
		*ret = u;
	}
	drop_error(d, &err);
	return res == DW_DLV_OK;
}

static bool die_udata(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at,
		      uint64_t *ret)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, at, &attr))
		return false;
	bool ok = attr_udata(d, attr, ret);
	dwarf_dealloc_attribute(attr);
	return ok;
}

static bool die_sdata(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at,
		      int64_t *ret)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, at, &attr))
		return false;
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	bool ok = false;
	if (dwarf_whatform(attr, &form, &err) == DW_DLV_OK) {
		if (form == DW_FORM_udata) {
			Dwarf_Unsigned u = 0;
			ok = dwarf_formudata(attr, &u, &err) == DW_DLV_OK;
			*ret = (int64_t)u;
		} else {
			Dwarf_Signed s = 0;
			ok = dwarf_formsdata(attr, &s, &err) == DW_DLV_OK;
			*ret = s;
		}
	}
	drop_error(d, &err);
	dwarf_dealloc_attribute(attr);
	return ok;
}

static bool die_flag(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, at, &attr))
		return false;
	Dwarf_Error err = NULL;
	Dwarf_Bool flag = false;
	if (dwarf_formflag(attr, &flag, &err) != DW_DLV_OK)
		flag = false;
	drop_error(d, &err);
	dwarf_dealloc_attribute(attr);
	return flag;
}

static bool die_ref(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at,
		    uint64_t *ret)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, at, &attr))
		return false;
	Dwarf_Error err = NULL;
	Dwarf_Off off = 0;
	bool ok = dwarf_global_formref(attr, &off, &err) == DW_DLV_OK;
	drop_error(d, &err);
	dwarf_dealloc_attribute(attr);
	/* Offset 0 is a unit header, never a DIE: we use it for "none". */
	if (ok && off == 0)
		ok = false;
	*ret = off;
	return ok;
}

static const char *die_name(struct mv_dwarf *d, Dwarf_Die die)
{
	Dwarf_Error err = NULL;
	char *name = NULL;
	if (dwarf_diename(die, &name, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return NULL;
	}
	return name;
}

static Dwarf_Half die_tag(struct mv_dwarf *d, Dwarf_Die die)
{
	Dwarf_Error err = NULL;
	Dwarf_Half tag = 0;
	if (dwarf_tag(die, &tag, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return 0;
	}
	return tag;
}

static uint64_t die_offset(struct mv_dwarf *d, Dwarf_Die die)
{
	Dwarf_Error err = NULL;
	Dwarf_Off off = 0;
	if (dwarf_dieoffset(die, &off, &err) != DW_DLV_OK)
		drop_error(d, &err);
	return off;
}

/* Copies an expression (exprloc or block form) into buf; returns its
 * length, or 0 if absent, another form, or longer than size. */
static size_t die_expr(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half at,
		       uint8_t *buf, size_t size)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, at, &attr))
		return 0;
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	size_t len = 0;
	if (dwarf_whatform(attr, &form, &err) != DW_DLV_OK) {
		drop_error(d, &err);
	} else if (form == DW_FORM_exprloc) {
		Dwarf_Unsigned n = 0;
		Dwarf_Ptr p = NULL;
		if (dwarf_formexprloc(attr, &n, &p, &err) == DW_DLV_OK &&
		    p && n && n <= size) {
			memcpy(buf, p, n);
			len = n;
		}
		drop_error(d, &err);
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 ||
		   form == DW_FORM_block4 || form == DW_FORM_block) {
		Dwarf_Block *block = NULL;
		if (dwarf_formblock(attr, &block, &err) == DW_DLV_OK) {
			if (block->bl_data && block->bl_len &&
			    block->bl_len <= size) {
				memcpy(buf, block->bl_data, block->bl_len);
				len = block->bl_len;
			}
			dwarf_dealloc(d->dbg, block, DW_DLA_BLOCK);
		}
		drop_error(d, &err);
	}
	dwarf_dealloc_attribute(attr);
	return len;
}

/* A single DW_OP_addr: the address of a global or static. */
static bool expr_addr(const uint8_t *expr, size_t len, unsigned addr_size,
		      uint64_t *ret)
{
	if (addr_size == 0 || addr_size > 8 || len != 1 + addr_size ||
	    expr[0] != DW_OP_addr)
		return false;
	uint64_t v = 0;
	for (unsigned i = 0; i < addr_size; i++)
		v |= (uint64_t)expr[1 + i] << (8 * i);
	*ret = v;
	return true;
}

static bool read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Compile units                                                       */
/* ------------------------------------------------------------------ */

static struct cu *cu_of(struct mv_dwarf *d, uint64_t die)
{
	size_t lo = 0, hi = d->ncus;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (die < d->cus[mid].start)
			hi = mid;
		else if (die >= d->cus[mid].end)
			lo = mid + 1;
		else
			return &d->cus[mid];
	}
	return NULL;
}

static void add_range(void *arg, uint64_t lo, uint64_t hi)
{
	struct cu *cu = arg;
	if (hi <= lo)
		return;
	if (cu->nranges == cu->ranges_cap) {
		size_t cap = cu->ranges_cap ? 2 * cu->ranges_cap : 4;
		struct range *r = realloc(cu->ranges, cap * sizeof(*r));
		if (!r)
			return;
		cu->ranges = r;
		cu->ranges_cap = cap;
	}
	cu->ranges[cu->nranges++] = (struct range){ lo, hi };
}

/* The ranges of a DIE's DW_AT_ranges, each to fn; false if it has
 * none.  cu_die and base (the unit's low pc) serve .debug_ranges. */
static bool die_ranges(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Die cu_die,
		       unsigned version, uint64_t base,
		       void (*fn)(void *, uint64_t, uint64_t), void *arg)
{
	Dwarf_Attribute attr;
	Dwarf_Error err = NULL;
	if (!die_attr(d, die, DW_AT_ranges, &attr))
		return false;
	Dwarf_Half form = 0;
	if (dwarf_whatform(attr, &form, &err) != DW_DLV_OK) {
		drop_error(d, &err);
	} else if (version >= 5) {
		shim_ranges_v5(d->dbg, attr, form, fn, arg);
	} else if (cu_die) {
		Dwarf_Off off = 0;
		if (dwarf_global_formref(attr, &off, &err) == DW_DLV_OK)
			shim_ranges_v4(d->dbg, cu_die, off, base, fn, arg);
		drop_error(d, &err);
	}
	dwarf_dealloc_attribute(attr);
	return true;
}

static void cu_load_ranges(struct mv_dwarf *d, struct cu *cu)
{
	Dwarf_Die die = NULL;
	Dwarf_Error err = NULL;
	cu->ranges_loaded = true;
	if (shim_offdie(d->dbg, cu->die, &die, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return;
	}
	Dwarf_Addr low = 0;
	bool has_low = dwarf_lowpc(die, &low, &err) == DW_DLV_OK;
	drop_error(d, &err);
	if (die_ranges(d, die, die, cu->version, has_low ? low : 0, add_range,
		       cu)) {
	} else if (has_low) {
		Dwarf_Addr high = 0;
		Dwarf_Half form = 0;
		enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
		if (dwarf_highpc_b(die, &high, &form, &cls, &err) ==
		    DW_DLV_OK) {
			if (cls == DW_FORM_CLASS_CONSTANT)
				high += low;
			add_range(cu, low, high);
		}
		drop_error(d, &err);
	}
	dwarf_dealloc_die(die);
}

static bool cu_contains(struct mv_dwarf *d, uint32_t index, uint64_t pc)
{
	if (index >= d->ncus || pc < d->bias)
		return false;
	struct cu *cu = &d->cus[index];
	if (!cu->ranges_loaded)
		cu_load_ranges(d, cu);
	uint64_t addr = pc - d->bias;
	for (size_t i = 0; i < cu->nranges; i++)
		if (addr >= cu->ranges[i].lo && addr < cu->ranges[i].hi)
			return true;
	return false;
}

/* ---- line-table guard ----
 *
 * libdwarf 20210528's dwarf_srcfiles trusts the line table header: a
 * file entry naming a directory past the end of the directory table
 * (found by fuzzing) makes it read a wild pointer and crash.  The header
 * is checked here first, over the file's own bytes, and a unit whose
 * header is not plainly sound gets no file names (types do not need
 * them: only decl_file is lost).  A compressed .debug_line (-gz,
 * SHF_COMPRESSED; or -gz=zlib-gnu's .zdebug_line) is inflated with zlib
 * first, at most MAX_LINE_INFLATE bytes; a file our reader cannot open
 * gets no file names at all. */

/* Inflating more for a check than a real line table needs (libc's is
 * 1 MB) is refused; so is more than zlib's best ratio, 1032:1. */
#define MAX_LINE_INFLATE (256u << 20)
#define ZLIB_MAX_RATIO 1032

/* A DWARF section (name without its dot: "debug_line") as stored, and
 * its uncompressed size.  Compressed: SHF_COMPRESSED, whose bytes start
 * with an Elf64_Chdr, or the older .zdebug_NAME, which starts with
 * "ZLIB" and the size in big-endian; zdata is then the zlib stream. */
struct dsec {
	const uint8_t *zdata;
	size_t zsize;
	uint64_t size;
	const uint8_t *data; /* uncompressed bytes, if not compressed */
};

static bool dwarf_section(const struct mv_elf *e, const char *name,
			  struct dsec *s)
{
	char full[32];
	const void *v;
	size_t n;
	memset(s, 0, sizeof(*s));
	snprintf(full, sizeof(full), ".%s", name);
	if (mv_elf_section(e, full, &v, &n)) {
		const uint8_t *p = v;
		Elf64_Chdr ch;
		if (!(mv_elf_section_flags(e, full) & SHF_COMPRESSED)) {
			s->data = p;
			s->size = n;
			return true;
		}
		if (n < sizeof(ch))
			return false;
		/* Copied out: sections need not be aligned in the file. */
		memcpy(&ch, p, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return false;
		s->zdata = p + sizeof(ch);
		s->zsize = n - sizeof(ch);
		s->size = ch.ch_size;
		return true;
	}
	snprintf(full, sizeof(full), ".z%s", name);
	if (!mv_elf_section(e, full, &v, &n))
		return false;
	const uint8_t *p = v;
	if (n < 12 || memcmp(p, "ZLIB", 4))
		return false;
	for (int i = 4; i < 12; i++)
		s->size = s->size << 8 | p[i];
	s->zdata = p + 12;
	s->zsize = n - 12;
	return true;
}

/* .debug_line's bytes, inflated once per file if compressed; NULL if
 * there is none, or it does not inflate to its stated size.  (A file
 * with both .debug_line and .zdebug_line is refused by libdwarf.) */
static const uint8_t *line_section(struct mv_dwarf *d, size_t *size)
{
	if (d->line_tried) {
		*size = d->line_size;
		return d->line;
	}
	d->line_tried = true;
	*size = 0;
	struct dsec s;
	if (!d->elf || !dwarf_section(d->elf, "debug_line", &s))
		return NULL;
	if (s.data) {
		d->line = s.data;
		d->line_size = *size = s.size;
		return d->line;
	}
	pthread_once(&zlib_once, zlib_load);
	if (!zlib_uncompress || !s.size || s.size > MAX_LINE_INFLATE ||
	    s.size / ZLIB_MAX_RATIO > s.zsize)
		return NULL;
	d->line_copy = malloc(s.size);
	if (!d->line_copy)
		return NULL; /* no file names; types still load */
	unsigned long got = s.size;
	if (zlib_uncompress(d->line_copy, &got, s.zdata, s.zsize) != 0 ||
	    got != s.size) {
		free(d->line_copy);
		d->line_copy = NULL;
		return NULL;
	}
	d->line = d->line_copy;
	d->line_size = *size = s.size;
	return d->line;
}

/* One v5 directory or file-name entry field; false if its form is one
 * we do not check (libdwarf then never sees the table). */
static bool lc_field(struct mv_cursor *c, uint64_t form, size_t offsz,
		     uint64_t line_str, uint64_t str, uint64_t *value)
{
	*value = 0;
	switch (form) {
	case DW_FORM_string:
		mv_cursor_string(c);
		return true;
	case DW_FORM_line_strp:
		*value = mv_cursor_fixed(c, offsz);
		return *value < line_str;
	case DW_FORM_strp:
		*value = mv_cursor_fixed(c, offsz);
		return *value < str;
	case DW_FORM_udata:
		*value = mv_cursor_uleb(c);
		return true;
	case DW_FORM_data1:
		*value = mv_cursor_fixed(c, 1);
		return true;
	case DW_FORM_data2:
		*value = mv_cursor_fixed(c, 2);
		return true;
	case DW_FORM_data4:
		*value = mv_cursor_fixed(c, 4);
		return true;
	case DW_FORM_data8:
		*value = mv_cursor_fixed(c, 8);
		return true;
	case DW_FORM_data16:
		mv_cursor_skip(c, 16);
		return true;
	case DW_FORM_block:
		mv_cursor_skip(c, mv_cursor_uleb(c));
		return true;
	default:
		return false;
	}
}

/* Whether the line table header at off is sound enough for libdwarf. */
static bool line_table_ok(struct mv_dwarf *d, uint64_t off)
{
	size_t size;
	const uint8_t *sec = line_section(d, &size);
	if (!sec)
		return false;
	struct dsec s;
	uint64_t line_str = dwarf_section(d->elf, "debug_line_str", &s)
				    ? s.size : 0;
	uint64_t str = dwarf_section(d->elf, "debug_str", &s) ? s.size : 0;
	if (off >= size)
		return false;
	struct mv_cursor c = {sec + off, sec + size, false};
	size_t offsz = 4;
	uint64_t len = mv_cursor_fixed(&c, 4);
	if (len == 0xffffffffu) {
		len = mv_cursor_fixed(&c, 8);
		offsz = 8;
	} else if (len >= 0xfffffff0u) {
		return false;
	}
	if (c.bad || len > (uint64_t)(c.end - c.p))
		return false;
	c.end = c.p + len;
	uint64_t version = mv_cursor_fixed(&c, 2);
	if (version < 2 || version > 5)
		return false;
	if (version == 5)
		mv_cursor_skip(&c, 2); /* address_size, segment_selector_size */
	uint64_t hlen = mv_cursor_fixed(&c, offsz);
	if (c.bad || hlen > (uint64_t)(c.end - c.p))
		return false;
	c.end = c.p + hlen;
	mv_cursor_skip(&c, version >= 4 ? 5 : 4);
	uint64_t opcode_base = mv_cursor_fixed(&c, 1);
	if (opcode_base)
		mv_cursor_skip(&c, opcode_base - 1);
	if (c.bad)
		return false;
	if (version < 5) {
		uint64_t ndirs = 0;
		for (;;) {
			if (c.p >= c.end)
				return false;
			if (!*c.p) {
				c.p++;
				break;
			}
			mv_cursor_string(&c);
			ndirs++;
		}
		for (;;) {
			if (c.bad || c.p >= c.end)
				return false;
			if (!*c.p)
				return true;
			mv_cursor_string(&c);
			uint64_t dir = mv_cursor_uleb(&c);
			mv_cursor_uleb(&c);
			mv_cursor_uleb(&c);
			if (dir > ndirs)
				return false;
		}
	}
	uint64_t ndirs = 0;
	for (int table = 0; table < 2; table++) {
		uint64_t nformats = mv_cursor_fixed(&c, 1);
		uint64_t formats[2 * 255];
		for (uint64_t i = 0; i < nformats; i++) {
			formats[2 * i] = mv_cursor_uleb(&c);
			formats[2 * i + 1] = mv_cursor_uleb(&c);
		}
		uint64_t count = mv_cursor_uleb(&c);
		if (c.bad || (count && !nformats) ||
		    count > (uint64_t)(c.end - c.p))
			return false;
		for (uint64_t k = 0; k < count; k++) {
			for (uint64_t i = 0; i < nformats; i++) {
				uint64_t v;
				if (!lc_field(&c, formats[2 * i + 1], offsz,
					      line_str, str, &v) ||
				    c.bad)
					return false;
				if (table == 1 &&
				    formats[2 * i] == DW_LNCT_directory_index &&
				    v >= ndirs)
					return false;
			}
		}
		if (table == 0)
			ndirs = count;
	}
	return !c.bad;
}

/* The unit's DW_AT_stmt_list, the offset of its line table. */
static bool cu_stmt_list(struct mv_dwarf *d, Dwarf_Die die, uint64_t *ret)
{
	Dwarf_Attribute attr = NULL;
	Dwarf_Error err = NULL;
	Dwarf_Off off = 0;
	bool ok = false;
	if (dwarf_attr(die, DW_AT_stmt_list, &attr, &err) == DW_DLV_OK) {
		ok = dwarf_global_formref(attr, &off, &err) == DW_DLV_OK;
		dwarf_dealloc_attribute(attr);
	}
	drop_error(d, &err);
	*ret = off;
	return ok;
}

static void cu_load_files(struct mv_dwarf *d, struct cu *cu)
{
	Dwarf_Die die = NULL;
	Dwarf_Error err = NULL;
	char **files = NULL;
	Dwarf_Signed count = 0;
	cu->files_loaded = true;
	if (shim_offdie(d->dbg, cu->die, &die, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return;
	}
	uint64_t stmt_list;
	if (!cu_stmt_list(d, die, &stmt_list) ||
	    !line_table_ok(d, stmt_list)) {
		dwarf_dealloc_die(die);
		return;
	}
	if (dwarf_srcfiles(die, &files, &count, &err) == DW_DLV_OK) {
		if (count > 0 && (uint64_t)count < SIZE_MAX / sizeof(char *))
			cu->files = arena_alloc(&d->arena,
						(size_t)count * sizeof(char *));
		for (Dwarf_Signed i = 0; i < count; i++) {
			if (cu->files && files[i])
				cu->files[i] =
					arena_strdup(&d->arena, files[i]);
			dwarf_dealloc(d->dbg, files[i], DW_DLA_STRING);
		}
		if (cu->files)
			cu->nfiles = (size_t)count;
		dwarf_dealloc(d->dbg, files, DW_DLA_LIST);
	}
	drop_error(d, &err);
	dwarf_dealloc_die(die);
}

static const char *cu_file(struct mv_dwarf *d, struct cu *cu, uint64_t n)
{
	if (!cu->files_loaded)
		cu_load_files(d, cu);
	/* DWARF 5 numbers files from 0, earlier versions from 1. */
	if (cu->version < 5) {
		if (n == 0)
			return NULL;
		n--;
	}
	return n < cu->nfiles ? cu->files[n] : NULL;
}

/* ------------------------------------------------------------------ */
/* Name index                                                          */
/* ------------------------------------------------------------------ */

static bool idx_grow(struct mv_dwarf *d)
{
	size_t n = d->nslots ? 2 * d->nslots : 1024;
	struct idx_slot *slots = malloc(n * sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < n; i++)
		slots[i].head = slots[i].tail = NONE;
	for (size_t i = 0; i < d->nslots; i++) {
		struct idx_slot *s = &d->slots[i];
		if (s->head == NONE)
			continue;
		size_t j = d->entries[s->head].hash & (n - 1);
		while (slots[j].head != NONE)
			j = (j + 1) & (n - 1);
		slots[j] = *s;
	}
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
	return true;
}

/* The slot of (kind, name), or an empty slot where it would go. */
static struct idx_slot *idx_slot(struct mv_dwarf *d, enum idx_kind kind,
				 const char *name, uint32_t hash)
{
	size_t mask = d->nslots - 1;
	for (size_t j = hash & mask;; j = (j + 1) & mask) {
		struct idx_slot *s = &d->slots[j];
		if (s->head == NONE)
			return s;
		struct idx_entry *e = &d->entries[s->head];
		if (e->hash == hash && e->kind == kind &&
		    strcmp(e->name, name) == 0)
			return s;
	}
}

static uint32_t idx_lookup(struct mv_dwarf *d, enum idx_kind kind,
			   const char *name)
{
	if (!d->nslots || !name)
		return NONE;
	return idx_slot(d, kind, name, hash_name(name, kind))->head;
}

static bool idx_add(struct mv_dwarf *d, const struct idx_entry *proto);

static uint64_t hash_off(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* Indexes a template instance's name without its arguments, once per
 * distinct full name, so that "std::vector<int>" can find it. */
static bool idx_add_stem(struct mv_dwarf *d, uint32_t full)
{
	struct mv_buf *b = &d->scope.stem;
	bool had_args;
	size_t n = strlen(d->entries[full].name); /* a stem is shorter */
	mv_buf_clear(b);
	if (!mv_buf_reserve(b, n + 1))
		return false;
	mv_cxx_stem(d->entries[full].name, b->data, n + 1, &had_args);
	struct idx_entry e = {
		.kind = (uint8_t)(IDX_STEM + d->entries[full].kind),
		.name = b->data,
		.full = full,
		.cu = d->entries[full].cu,
	};
	return idx_add(d, &e);
}

/* Appends an entry (name, display, kind and the caller's fields) to the
 * index.  The first entry of a name holds the only copy of its name;
 * its display spelling is shared while the next ones spell it alike. */
static bool idx_add(struct mv_dwarf *d, const struct idx_entry *proto)
{
	if (d->nentries >= NONE - 1)
		return true; /* absurd file: keep what we have */
	if ((d->nslots_used + 1) * 2 > d->nslots && !idx_grow(d))
		return false;
	if (d->nentries == d->entries_cap) {
		size_t cap = d->entries_cap ? 2 * d->entries_cap : 4096;
		struct idx_entry *e = realloc(d->entries, cap * sizeof(*e));
		if (!e)
			return false;
		d->entries = e;
		d->entries_cap = cap;
	}
	uint32_t hash = hash_name(proto->name, proto->kind);
	struct idx_slot *s = idx_slot(d, proto->kind, proto->name, hash);
	uint32_t index = (uint32_t)d->nentries;
	struct idx_entry *e = &d->entries[index];
	bool first = s->head == NONE;
	*e = *proto;
	e->hash = hash;
	e->next = NONE;
	e->first = first;
	if (first) {
		e->name = arena_strdup(&d->arena, proto->name);
		if (!e->name)
			return false;
		s->head = s->tail = index;
		d->nslots_used++;
	} else {
		const char *shown = d->entries[s->head].display;
		e->name = d->entries[s->head].name;
		if (proto->display && shown &&
		    strcmp(shown, proto->display) == 0)
			e->display = shown;
		d->entries[s->tail].next = index;
		s->tail = index;
	}
	if (proto->display && e->display == proto->display &&
	    !(e->display = arena_strdup(&d->arena, proto->display)))
		return false;
	d->nentries++;
	if (first && d->stems_built && proto->kind < IDX_VARIABLE &&
	    strchr(e->name, '<'))
		return idx_add_stem(d, index);
	return true;
}

/* The stems of every template instance's name, made on the first lookup
 * that needs them: most sessions never do, and making them at open cost
 * a fifth of indexing a libstdc++-heavy unit. */
static bool build_stems(struct mv_dwarf *d)
{
	if (d->stems_built)
		return true;
	d->stems_built = true;
	size_t n = d->nentries; /* stems are appended after these */
	for (size_t i = 0; i < n; i++) {
		const struct idx_entry *e = &d->entries[i];
		if (e->first && e->kind < IDX_VARIABLE &&
		    strchr(e->name, '<') && !idx_add_stem(d, (uint32_t)i))
			return false;
	}
	return true;
}

/* The key of name (mv_cxx_canon's spelling): name itself when it is
 * canonical already, else a copy in b.  NULL when out of memory. */
static const char *key_of(struct mv_buf *b, const char *name)
{
	/* "::x" is x in the global namespace. */
	while (*name == ' ')
		name++;
	if (name[0] == ':' && name[1] == ':')
		name += 2;
	while (*name == ' ')
		name++;
	/* Most names have no white space: libc's strpbrk says so fast. */
	if (!strpbrk(name, " \t\n\r\f\v"))
		return name;
	size_t len = strlen(name);
	if (!mv_cxx_needs_canon(name, len))
		return name;
	mv_buf_clear(b);
	if (!mv_buf_reserve(b, len + 1))
		return NULL;
	mv_cxx_canon(name, len, b->data, len + 1);
	return b->data;
}

/* "PREFIX::name" in b, or name itself at the top. */
static const char *qualify_str(struct mv_buf *b, const char *prefix,
			       const char *name)
{
	if (!prefix || !*prefix)
		return name;
	mv_buf_clear(b);
	mv_buf_puts(b, prefix);
	mv_buf_puts(b, "::");
	mv_buf_puts(b, name);
	return b->oom ? NULL : b->data;
}

/* Adds e under display (gdb's spelling) and, if non-NULL, under alt
 * (without anonymous and inline namespaces).  *kept and *kept_alt, if
 * non-NULL, receive their copies in the index. */
static bool index_names(struct mv_dwarf *d, struct idx_entry *e,
			const char *display, const char *alt,
			const char **kept, const char **kept_alt)
{
	for (int i = 0; i < 2; i++) {
		const char *shown = i ? alt : display;
		const char **keep = i ? kept_alt : kept;
		if (!shown)
			continue;
		const char *key = key_of(&d->scope.key, shown);
		if (!key)
			return false;
		e->name = key;
		e->display = key == shown ? NULL : shown;
		size_t at = d->nentries;
		if (!idx_add(d, e))
			return false;
		if (keep && d->nentries > at)
			*keep = d->entries[at].display ? d->entries[at].display
						       : d->entries[at].name;
	}
	return true;
}

/* name qualified by the walk's scope, and by its alternative, into the
 * scope's scratch buffers. */
static bool scoped_names(struct mv_dwarf *d, const char *name,
			 const char **display, const char **alt)
{
	struct scope *sc = &d->scope;
	*display = qualify_str(&sc->name, sc->path.data, name);
	*alt = sc->has_alt ? qualify_str(&sc->alt_name,
					 sc->alt.data ? sc->alt.data : "",
					 name) : NULL;
	return *display && (!sc->has_alt || *alt);
}

/* Records a scope opened by the current child of the walk; NONE when
 * out of memory. */
static uint32_t scope_add(struct mv_dwarf *d, uint64_t off, uint32_t cu,
			  const char *path, const char *alt, bool is_class)
{
	if (d->nscopes >= NONE - 1)
		return NONE;
	if (d->nscopes == d->scopes_cap) {
		size_t cap = d->scopes_cap ? 2 * d->scopes_cap : 256;
		struct scope_rec *v = realloc(d->scopes, cap * sizeof(*v));
		if (!v)
			return NONE;
		d->scopes = v;
		d->scopes_cap = cap;
	}
	uint32_t n = (uint32_t)d->nscopes++, parent = d->scope.cur;
	struct scope_rec *r = &d->scopes[n];
	*r = (struct scope_rec){
		.off = off, .end = UINT64_MAX, .path = path, .alt = alt,
		.parent = parent, .children = NONE, .sibling = NONE,
		.cu = cu, .is_class = is_class,
		.depth = parent == NONE ? 0 : d->scopes[parent].depth + 1,
	};
	if (!d->indexing && parent != NONE) {
		/* Found by scan_class: out of DIE order, so linked to its
		 * parent instead. */
		r->sibling = d->scopes[parent].children;
		d->scopes[parent].children = n;
	}
	d->scope.open = n;
	return n;
}

static uint64_t scope_end(struct mv_dwarf *d, uint32_t s)
{
	uint32_t cu = d->scopes[s].cu;
	for (int i = 0; s != NONE && i <= MAX_SCOPE_DEPTH; i++) {
		if (d->scopes[s].end != UINT64_MAX)
			return d->scopes[s].end;
		s = d->scopes[s].parent;
	}
	return d->cus[cu].end;
}

static bool scope_holds(struct mv_dwarf *d, uint32_t s, uint64_t off)
{
	return d->scopes[s].off < off && off < scope_end(d, s);
}

static bool scan_class(struct mv_dwarf *d, uint32_t s);

/* The innermost namespace or class whose DIE holds DIE off (scanning
 * the classes on the way), or NONE at a unit's top. */
static uint32_t scope_of(struct mv_dwarf *d, uint64_t off)
{
	size_t lo = 0, hi = d->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->scopes[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* In DIE order, the last scope opened before off is the one that
	 * holds it or a descendant of that one. */
	uint32_t s = lo ? (uint32_t)lo - 1 : NONE;
	for (int i = 0; s != NONE && !scope_holds(d, s, off); i++)
		s = i < MAX_SCOPE_DEPTH ? d->scopes[s].parent : NONE;
	for (int i = 0; s != NONE && d->scopes[s].is_class &&
			i < MAX_SCOPE_DEPTH; i++) {
		if (!scan_class(d, s))
			break;
		uint32_t c = d->scopes[s].children;
		while (c != NONE && !scope_holds(d, c, off))
			c = d->scopes[c].sibling;
		if (c == NONE)
			break;
		s = c;
	}
	return s;
}

/* The scope record of the class whose DIE is at die, or NONE. */
static uint32_t scope_at(struct mv_dwarf *d, uint64_t die)
{
	uint32_t parent = scope_of(d, die);
	size_t lo = 0, hi = d->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->scopes[mid].off < die)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->nsorted && d->scopes[lo].off == die)
		return (uint32_t)lo;
	for (uint32_t c = parent != NONE ? d->scopes[parent].children : NONE;
	     c != NONE; c = d->scopes[c].sibling)
		if (d->scopes[c].off == die)
			return c;
	return NONE;
}

static bool pending_add(struct mv_dwarf *d, const struct idx_entry *e,
			uint64_t spec, bool need_type)
{
	if (d->npending == d->pending_cap) {
		size_t cap = d->pending_cap ? 2 * d->pending_cap : 64;
		struct pending_var *v = realloc(d->pending, cap * sizeof(*v));
		if (!v)
			return false;
		d->pending = v;
		d->pending_cap = cap;
	}
	d->pending[d->npending++] = (struct pending_var){ *e, spec, need_type };
	return true;
}

/* The pending definitions, named by their declarations' scopes. */
static bool resolve_pending(struct mv_dwarf *d)
{
	bool ok = true;
	for (size_t i = 0; i < d->npending && ok; i++) {
		struct pending_var *p = &d->pending[i];
		Dwarf_Die sdie = NULL;
		Dwarf_Error err = NULL;
		if (shim_offdie(d->dbg, p->spec, &sdie, &err) != DW_DLV_OK) {
			drop_error(d, &err);
			continue;
		}
		const char *name = die_name(d, sdie);
		if (p->need_type &&
		    !die_ref(d, sdie, DW_AT_type, &p->e.type_die))
			p->e.type_die = 0;
		if (name) {
			uint32_t s = scope_of(d, p->spec);
			const char *display = name, *alt = NULL;
			if (s != NONE) {
				display = qualify_str(&d->scope.name,
						      d->scopes[s].path, name);
				if (d->scopes[s].alt)
					alt = qualify_str(&d->scope.alt_name,
							  d->scopes[s].alt,
							  name);
			}
			ok = display &&
			     (s == NONE || !d->scopes[s].alt || alt) &&
			     index_names(d, &p->e, display, alt, NULL, NULL);
		}
		dwarf_dealloc_die(sdie);
	}
	free(d->pending);
	d->pending = NULL;
	d->npending = d->pending_cap = 0;
	return ok;
}

/* A single DW_OP_addrx (clang's DWARF 5, and split DWARF's
 * DW_OP_GNU_addr_index): an index into .debug_addr from the unit's
 * DW_AT_addr_base, which libdwarf resolves. */
static bool expr_addrx(struct mv_dwarf *d, Dwarf_Die die,
		       const uint8_t *expr, size_t len, uint64_t *ret)
{
	const uint8_t *p = expr + 1;
	uint64_t index = 0;
	bool addrx = len >= 2 && (expr[0] == DW_OP_addrx ||
				  expr[0] == DW_OP_GNU_addr_index);
	if (!addrx || !read_uleb(&p, expr + len, &index) || p != expr + len)
		return false;
	Dwarf_Unsigned addr = 0;
	Dwarf_Error err = NULL;
	if (dwarf_debug_addr_index_to_addr(die, index, &addr, &err) !=
	    DW_DLV_OK) {
		drop_error(d, &err);
		return false;
	}
	*ret = addr;
	return true;
}

static bool index_variable(struct mv_dwarf *d, Dwarf_Die die, uint32_t cu)
{
	const char *name = die_name(d, die);
	uint8_t expr[32];
	size_t len = die_expr(d, die, DW_AT_location, expr, sizeof(expr));
	struct idx_entry e = { .kind = IDX_VARIABLE, .cu = cu };
	/* Declarations are named when their definition is met. */
	if (!expr_addr(expr, len, d->cus[cu].addr_size, &e.addr) &&
	    !expr_addrx(d, die, expr, len, &e.addr))
		return true;
	e.die = die_offset(d, die);
	bool has_type = die_ref(d, die, DW_AT_type, &e.type_die);
	const char *display = NULL, *alt = NULL;
	if (name && !scoped_names(d, name, &display, &alt))
		return false;
	if (name && has_type)
		return index_names(d, &e, display, alt, NULL, NULL);
	/* int x = 1; after extern int x; in a header, and C++'s
	 * out-of-line definitions: name and type live on the
	 * declaration. */
	uint64_t spec;
	if (!die_ref(d, die, DW_AT_specification, &spec) &&
	    !die_ref(d, die, DW_AT_abstract_origin, &spec))
		return true;
	if (!name && d->cxx && d->indexing)
		return pending_add(d, &e, spec, !has_type);
	Dwarf_Die sdie = NULL;
	Dwarf_Error err = NULL;
	if (shim_offdie(d->dbg, spec, &sdie, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return true;
	}
	if (!name)
		display = die_name(d, sdie);
	if (!has_type && !die_ref(d, sdie, DW_AT_type, &e.type_die))
		e.type_die = 0;
	bool ok = !display || index_names(d, &e, display, alt, NULL, NULL);
	dwarf_dealloc_die(sdie);
	return ok;
}

static bool index_children(struct mv_dwarf *d, Dwarf_Die parent,
			   uint32_t cu);

/* Indexes a namespace's children.  Members of anonymous and inline
 * namespaces are also named without them, as C++ lets one name them. */
static bool index_namespace(struct mv_dwarf *d, Dwarf_Die die, uint32_t cu)
{
	struct scope *sc = &d->scope;
	if (sc->depth >= MAX_SCOPE_DEPTH)
		return true;
	const char *name = die_name(d, die);
	bool exported = !name || die_flag(d, die, DW_AT_export_symbols);
	if (!name)
		name = MV_CXX_ANON_NS;
	size_t path_len = sc->path.len, alt_len = sc->alt.len;
	bool had_alt = sc->has_alt;
	if (exported && !had_alt) {
		mv_buf_clear(&sc->alt);
		mv_buf_append(&sc->alt, sc->path.data, sc->path.len);
		sc->has_alt = true;
	} else if (!exported && had_alt) {
		if (sc->alt.len)
			mv_buf_puts(&sc->alt, "::");
		mv_buf_puts(&sc->alt, name);
	}
	if (sc->path.len)
		mv_buf_puts(&sc->path, "::");
	mv_buf_puts(&sc->path, name);
	const char *path = sc->path.oom ? NULL :
			   arena_strdup(&d->arena, sc->path.data);
	const char *alt = !sc->has_alt ? NULL :
			  sc->alt.oom ? NULL :
			  arena_strdup(&d->arena,
				       sc->alt.data ? sc->alt.data : "");
	uint32_t n = NONE, outer = sc->cur;
	if (path && (alt || !sc->has_alt))
		n = scope_add(d, die_offset(d, die), cu, path, alt, false);
	bool ok = n != NONE;
	sc->depth++;
	sc->cur = n;
	if (ok)
		ok = index_children(d, die, cu);
	sc->depth--;
	sc->cur = outer;
	sc->open = n;
	sc->path.len = path_len;
	sc->alt.len = alt_len;
	if (sc->path.data)
		sc->path.data[path_len] = '\0';
	if (sc->alt.data)
		sc->alt.data[alt_len] = '\0';
	sc->has_alt = had_alt;
	return ok;
}

static bool index_type(struct mv_dwarf *d, Dwarf_Die die, uint32_t cu,
		       enum idx_kind kind)
{
	const char *name = die_name(d, die);
	if (!name)
		return true;
	struct idx_entry e = { .cu = cu, .kind = kind };
	e.die = die_offset(d, die);
	e.declaration = die_flag(d, die, DW_AT_declaration);
	e.has_size = die_udata(d, die, DW_AT_byte_size, &e.size);
	uint64_t line = 0;
	if (die_udata(d, die, DW_AT_decl_line, &line))
		e.line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	const char *display, *alt, *kept = NULL, *kept_alt = NULL;
	if (!scoped_names(d, name, &display, &alt) ||
	    !index_names(d, &e, display, alt, &kept, &kept_alt))
		return false;
	/* A C++ class holds nested types and static members: record it,
	 * scan_class looks inside when asked. */
	if (d->cxx && !e.declaration && kept &&
	    (kind == IDX_STRUCT || kind == IDX_CLASS || kind == IDX_UNION) &&
	    scope_add(d, e.die, cu, kept, alt ? kept_alt : NULL, true) == NONE)
		return false;
	return true;
}

/* One pc range of a function (add_func_range's argument). */
struct func_add {
	struct mv_dwarf *d;
	uint64_t die;
	bool oom;
};

static void add_func_range(void *arg, uint64_t low, uint64_t high)
{
	struct func_add *a = arg;
	struct mv_dwarf *d = a->d;
	if (high <= low || a->oom)
		return;
	if (d->nfuncs == d->funcs_cap) {
		size_t cap = d->funcs_cap ? 2 * d->funcs_cap : 256;
		struct func_range *f = realloc(d->funcs, cap * sizeof(*f));
		if (!f) {
			a->oom = true;
			return;
		}
		d->funcs = f;
		d->funcs_cap = cap;
	}
	d->funcs[d->nfuncs++] = (struct func_range){ low, high, a->die };
	d->funcs_sorted = false;
}

/* A function with code: its pc range, or ranges (g++ -O2 splits a
 * function into a hot and a cold part: DW_AT_ranges, DWARF 5's
 * .debug_rnglists), for mv_dwarf_frame_locals.  false only when out of
 * memory. */
static bool index_function(struct mv_dwarf *d, Dwarf_Die die, uint32_t cu)
{
	Dwarf_Error err = NULL;
	Dwarf_Addr low = 0, high = 0;
	Dwarf_Half form = 0;
	enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;
	struct func_add a = {.d = d, .die = die_offset(d, die)};
	if (dwarf_lowpc(die, &low, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		/* .debug_ranges would need the unit's DIE and base: only
		 * DWARF 5's lists, whose addresses come cooked. */
		if (cu < d->ncus && d->cus[cu].version >= 5)
			die_ranges(d, die, NULL, 5, 0, add_func_range, &a);
		return !a.oom;
	}
	if (dwarf_highpc_b(die, &high, &form, &cls, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return true;
	}
	if (cls == DW_FORM_CLASS_CONSTANT)
		high += low;
	add_func_range(&a, low, high);
	return !a.oom;
}

static bool index_die(struct mv_dwarf *d, Dwarf_Die die, uint32_t cu)
{
	switch (die_tag(d, die)) {
	case DW_TAG_structure_type:
		return index_type(d, die, cu, IDX_STRUCT);
	case DW_TAG_union_type:
		return index_type(d, die, cu, IDX_UNION);
	case DW_TAG_enumeration_type:
		return index_type(d, die, cu, IDX_ENUM);
	case DW_TAG_class_type:
		return index_type(d, die, cu, IDX_CLASS);
	case DW_TAG_typedef:
	case DW_TAG_base_type:
		return index_type(d, die, cu, IDX_ORDINARY);
	case DW_TAG_variable:
		return index_variable(d, die, cu);
	case DW_TAG_subprogram:
		return index_function(d, die, cu);
	case DW_TAG_namespace:
		return index_namespace(d, die, cu);
	default:
		return true;
	}
}

/* Indexes parent's children; a child that opens a scope ends where its
 * next sibling starts. */
static bool index_children(struct mv_dwarf *d, Dwarf_Die parent,
			   uint32_t cu)
{
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int res = dwarf_child(parent, &child, &err);
	bool ok = true;
	while (res == DW_DLV_OK && ok) {
		d->scope.open = NONE;
		ok = index_die(d, child, cu);
		uint32_t opened = d->scope.open;
		Dwarf_Die next = NULL;
		res = shim_siblingof(d->dbg, child, &next, &err);
		dwarf_dealloc_die(child);
		child = next;
		if (opened != NONE && res == DW_DLV_OK)
			d->scopes[opened].end = die_offset(d, next);
	}
	if (res == DW_DLV_OK)
		dwarf_dealloc_die(child);
	drop_error(d, &err);
	return ok;
}

/* Indexes the children of class s (nested types, static members) the
 * first time anything needs them.  false when out of memory. */
static bool scan_class(struct mv_dwarf *d, uint32_t s)
{
	if (d->scopes[s].scanned)
		return true;
	d->scopes[s].scanned = true;
	if (d->scopes[s].depth >= MAX_SCOPE_DEPTH)
		return true;
	Dwarf_Die die = NULL;
	Dwarf_Error err = NULL;
	if (shim_offdie(d->dbg, d->scopes[s].off, &die, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return true;
	}
	struct scope *sc = &d->scope;
	uint32_t cu = d->scopes[s].cu;
	mv_buf_clear(&sc->path);
	mv_buf_puts(&sc->path, d->scopes[s].path);
	mv_buf_clear(&sc->alt);
	sc->has_alt = d->scopes[s].alt != NULL;
	if (sc->has_alt)
		mv_buf_puts(&sc->alt, d->scopes[s].alt);
	sc->cur = s;
	sc->depth = d->scopes[s].depth + 1;
	d->cxx = d->cus[cu].cxx;
	bool ok = !sc->path.oom && !sc->alt.oom &&
		  index_children(d, die, cu);
	dwarf_dealloc_die(die);
	sc->cur = NONE;
	if (!ok)
		d->oom = true;
	return ok;
}

static void scope_deinit(struct scope *sc)
{
	mv_buf_deinit(&sc->path);
	mv_buf_deinit(&sc->alt);
	mv_buf_deinit(&sc->name);
	mv_buf_deinit(&sc->alt_name);
	mv_buf_deinit(&sc->key);
	mv_buf_deinit(&sc->stem);
	memset(sc, 0, sizeof(*sc));
}

static struct mv_error *index_all(struct mv_dwarf *d)
{
	uint64_t start = 0;
	d->indexing = true;
	for (;;) {
		Dwarf_Half version = 0, addr_size = 0;
		Dwarf_Unsigned next = 0;
		Dwarf_Error err = NULL;
		int res = shim_next_cu(d->dbg, &version, &addr_size, &next,
				       &err);
		if (res == DW_DLV_NO_ENTRY)
			break;
		if (res != DW_DLV_OK)
			return dwarf_failure(d->dbg, err, d->path,
					     "reading compile unit headers");
		Dwarf_Die cu_die = NULL;
		res = shim_siblingof(d->dbg, NULL, &cu_die, &err);
		if (res != DW_DLV_OK) {
			/* A unit without a DIE: skip it, keep the rest. */
			drop_error(d, &err);
			start = next;
			continue;
		}
		if (d->ncus == d->cus_cap) {
			size_t cap = d->cus_cap ? 2 * d->cus_cap : 64;
			struct cu *cus = realloc(d->cus, cap * sizeof(*cus));
			if (!cus) {
				dwarf_dealloc_die(cu_die);
				return mv_enomem;
			}
			d->cus = cus;
			d->cus_cap = cap;
		}
		struct cu *cu = &d->cus[d->ncus];
		memset(cu, 0, sizeof(*cu));
		cu->start = start;
		cu->end = next > start ? next : UINT64_MAX;
		cu->die = die_offset(d, cu_die);
		cu->version = version;
		cu->addr_size = addr_size;
		const char *name = die_name(d, cu_die);
		if (name && !(cu->name = arena_strdup(&d->arena, name))) {
			dwarf_dealloc_die(cu_die);
			return mv_enomem;
		}
		uint32_t index = (uint32_t)d->ncus++;
		uint64_t lang = 0;
		cu->cxx = die_udata(d, cu_die, DW_AT_language, &lang) &&
			  (lang == DW_LANG_C_plus_plus ||
			   lang == DW_LANG_C_plus_plus_03 ||
			   lang == DW_LANG_C_plus_plus_11 ||
			   lang == DW_LANG_C_plus_plus_14);
		d->cxx = cu->cxx;
		d->scope.cur = NONE;
		bool ok = index_children(d, cu_die, index);
		dwarf_dealloc_die(cu_die);
		if (!ok)
			return mv_enomem;
		if (next <= start)
			break; /* no progress: malformed header */
		start = next;
	}
	d->indexing = false;
	d->nsorted = d->nscopes;
	return resolve_pending(d) ? NULL : mv_enomem;
}

/* ------------------------------------------------------------------ */
/* Type cache                                                          */
/* ------------------------------------------------------------------ */

static struct tcache_slot *tcache_find(struct mv_dwarf *d, uint64_t die)
{
	if (!d->ntslots)
		return NULL;
	size_t mask = d->ntslots - 1;
	for (size_t j = hash_off(die) & mask;; j = (j + 1) & mask) {
		struct tcache_slot *s = &d->tslots[j];
		if (s->die == die)
			return s;
		if (s->die == UINT64_MAX)
			return NULL;
	}
}

static bool tcache_insert(struct mv_dwarf *d, uint64_t die,
			  struct mv_type *t, bool building)
{
	if ((d->ntslots_used + 1) * 2 > d->ntslots) {
		size_t n = d->ntslots ? 2 * d->ntslots : 256;
		struct tcache_slot *slots = malloc(n * sizeof(*slots));
		if (!slots)
			return false;
		for (size_t i = 0; i < n; i++)
			slots[i].die = UINT64_MAX;
		for (size_t i = 0; i < d->ntslots; i++) {
			struct tcache_slot *s = &d->tslots[i];
			if (s->die == UINT64_MAX)
				continue;
			size_t j = hash_off(s->die) & (n - 1);
			while (slots[j].die != UINT64_MAX)
				j = (j + 1) & (n - 1);
			slots[j] = *s;
		}
		free(d->tslots);
		d->tslots = slots;
		d->ntslots = n;
	}
	size_t mask = d->ntslots - 1;
	size_t j = hash_off(die) & mask;
	while (d->tslots[j].die != UINT64_MAX && d->tslots[j].die != die)
		j = (j + 1) & mask;
	if (d->tslots[j].die == UINT64_MAX)
		d->ntslots_used++;
	d->tslots[j] = (struct tcache_slot){ die, t, building };
	return true;
}

/* ------------------------------------------------------------------ */
/* Building types                                                      */
/* ------------------------------------------------------------------ */

static struct mv_type *new_type(struct mv_dwarf *d)
{
	struct mv_type *t = arena_alloc(&d->arena, sizeof(*t));
	if (!t)
		d->oom = true;
	else
		d->types_built++;
	return t;
}

static struct mv_type *unknown_type(struct mv_dwarf *d, const char *fmt,
				    ...) MV_PRINTF(2, 3);
static struct mv_type *unknown_type(struct mv_dwarf *d, const char *fmt, ...)
{
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	struct mv_type *t = new_type(d);
	if (!t || !(t->name = arena_strdup(&d->arena, name))) {
		d->oom = true;
		return &oom_type;
	}
	t->kind = MV_TYPE_UNKNOWN;
	return t;
}

static char *copy_name(struct mv_dwarf *d, const char *name)
{
	if (!name)
		return NULL;
	char *s = arena_strdup(&d->arena, name);
	if (!s)
		d->oom = true;
	return s;
}

static struct mv_type *type_at(struct mv_dwarf *d, uint64_t off, int depth);

static struct mv_type *resolve_lazy(void *arg, struct mv_type *t)
{
	struct mv_dwarf *d = arg;
	struct mv_type_lazy *lazy = t->lazy_;
	return type_at(d, lazy->die_offset, 0);
}

static struct mv_type_lazy *new_lazy(struct mv_dwarf *d, uint64_t target)
{
	struct mv_type_lazy *lazy = arena_alloc(&d->arena, sizeof(*lazy));
	if (!lazy) {
		d->oom = true;
		return NULL;
	}
	lazy->resolve = resolve_lazy;
	lazy->arg = d;
	lazy->die_offset = target;
	return lazy;
}

/* The DW_AT_type of die, built now (depth + 1), or void if absent. */
static struct mv_type *target_now(struct mv_dwarf *d, Dwarf_Die die,
				  int depth)
{
	uint64_t off = 0;
	if (!die_ref(d, die, DW_AT_type, &off))
		off = 0;
	return type_at(d, off, depth + 1);
}

/* A growable array of members while walking a struct's children. */
struct member_vec {
	struct mv_member *v;
	size_t n, cap;
};

static bool member_push(struct member_vec *m, const struct mv_member *x)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct mv_member *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return false;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *x;
	return true;
}

static bool member_finish(struct mv_dwarf *d, struct member_vec *m,
			  struct mv_type *t)
{
	if (m->n) {
		t->members = arena_alloc(&d->arena, m->n * sizeof(*m->v));
		if (!t->members) {
			free(m->v);
			d->oom = true;
			return false;
		}
		memcpy(t->members, m->v, m->n * sizeof(*m->v));
		t->nmembers = m->n;
	}
	free(m->v);
	return true;
}

/* Byte offset of a member: a constant, or DW_OP_plus_uconst N. */
static uint64_t member_offset(struct mv_dwarf *d, Dwarf_Die die)
{
	Dwarf_Attribute attr;
	if (!die_attr(d, die, DW_AT_data_member_location, &attr))
		return 0;
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	uint64_t off = 0;
	if (dwarf_whatform(attr, &form, &err) != DW_DLV_OK)
		drop_error(d, &err);
	bool is_expr = form == DW_FORM_exprloc || form == DW_FORM_block1 ||
		       form == DW_FORM_block2 || form == DW_FORM_block4 ||
		       form == DW_FORM_block;
	if (!is_expr && !attr_udata(d, attr, &off))
		off = 0;
	dwarf_dealloc_attribute(attr);
	if (is_expr) {
		uint8_t expr[32];
		size_t len = die_expr(d, die, DW_AT_data_member_location, expr,
				      sizeof(expr));
		const uint8_t *p = expr + 1;
		if (len > 1 && expr[0] == DW_OP_plus_uconst &&
		    !read_uleb(&p, expr + len, &off))
			off = 0;
		/* Virtual bases and other computed offsets: 0. */
	}
	return off;
}

/* A virtual base's location as g++ and clang write it: DW_OP_dup,
 * DW_OP_deref (the vptr), DW_OP_lit<N>/constu N, DW_OP_minus,
 * DW_OP_deref (the vbase offset in the vtable), DW_OP_plus.  Returns N,
 * or 0 for any other expression. */
static uint32_t vbase_slot(struct mv_dwarf *d, Dwarf_Die die)
{
	uint8_t expr[32];
	size_t len = die_expr(d, die, DW_AT_data_member_location, expr,
			      sizeof(expr));
	const uint8_t *p = expr, *end = expr + len;
	uint64_t n = 0;
	if (len < 6 || p[0] != DW_OP_dup || p[1] != DW_OP_deref)
		return 0;
	p += 2;
	if (*p >= DW_OP_lit0 && *p <= DW_OP_lit31) {
		n = (uint64_t)(*p++ - DW_OP_lit0);
	} else if (*p == DW_OP_constu) {
		p++;
		if (!read_uleb(&p, end, &n))
			return 0;
	} else {
		return 0;
	}
	if (end - p != 3 || p[0] != DW_OP_minus || p[1] != DW_OP_deref ||
	    p[2] != DW_OP_plus || n > UINT32_MAX)
		return 0;
	return (uint32_t)n;
}

/* The C++ facts of a member: base class, virtual base, artificial. */
static void member_cxx(struct mv_dwarf *d, Dwarf_Die die, Dwarf_Half tag,
		       struct mv_member *x)
{
	uint64_t virtuality = 0;
	if (tag == DW_TAG_inheritance) {
		x->flags |= MV_MEMBER_BASE;
		if (die_udata(d, die, DW_AT_virtuality, &virtuality) &&
		    virtuality) {
			x->flags |= MV_MEMBER_VIRTUAL_BASE;
			x->vbase_slot = vbase_slot(d, die);
		}
	}
	if (die_flag(d, die, DW_AT_artificial))
		x->flags |= MV_MEMBER_ARTIFICIAL;
}

static void build_members(struct mv_dwarf *d, Dwarf_Die die,
			  struct mv_type *t, int depth)
{
	struct member_vec m = { 0 };
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int res = dwarf_child(die, &child, &err);
	while (res == DW_DLV_OK) {
		Dwarf_Half tag = die_tag(d, child);
		/* Static members are declarations, not part of the
		 * layout. */
		if ((tag == DW_TAG_member || tag == DW_TAG_inheritance) &&
		    !die_flag(d, child, DW_AT_declaration) &&
		    !die_flag(d, child, DW_AT_external)) {
			struct mv_member x = { 0 };
			x.name = copy_name(d, die_name(d, child));
			x.type = target_now(d, child, depth);
			member_cxx(d, child, tag, &x);
			uint64_t byte_off = x.flags & MV_MEMBER_VIRTUAL_BASE ?
						    0 : member_offset(d, child);
			uint64_t bit_size = 0, bit_off = 0, storage = 0;
			if (die_udata(d, child, DW_AT_bit_size, &bit_size) &&
			    bit_size && bit_size <= UINT32_MAX)
				x.bit_size = (uint32_t)bit_size;
			if (die_udata(d, child, DW_AT_data_bit_offset,
				      &bit_off)) {
				x.bit_position = bit_off;
			} else if (x.bit_size &&
				   die_udata(d, child, DW_AT_bit_offset,
					     &bit_off)) {
				/* DWARF 2/3 count from the most significant
				 * bit of the storage unit (little-endian). */
				if (!die_udata(d, child, DW_AT_byte_size,
					       &storage))
					storage = x.type ?
							  mv_type_strip(x.type)->size :
							  0;
				int64_t from_msb = (int64_t)bit_off;
				int64_t pos = (int64_t)(storage * 8) - from_msb -
					      (int64_t)x.bit_size;
				x.bit_position = byte_off * 8 +
						 (pos > 0 ? (uint64_t)pos : 0);
			} else {
				x.bit_position = byte_off * 8;
			}
			if (!member_push(&m, &x))
				d->oom = true;
		}
		Dwarf_Die next = NULL;
		res = shim_siblingof(d->dbg, child, &next, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (res == DW_DLV_OK)
		dwarf_dealloc_die(child);
	drop_error(d, &err);
	member_finish(d, &m, t);
}

static bool base_is_signed(struct mv_dwarf *d, uint64_t off)
{
	/* Follow typedefs and qualifiers to the base type's encoding. */
	for (int i = 0; off && i < MAX_DEPTH; i++) {
		Dwarf_Die die = NULL;
		Dwarf_Error err = NULL;
		if (shim_offdie(d->dbg, off, &die, &err) != DW_DLV_OK) {
			drop_error(d, &err);
			return false;
		}
		uint64_t enc = 0;
		bool has_enc = die_udata(d, die, DW_AT_encoding, &enc);
		if (has_enc || !die_ref(d, die, DW_AT_type, &off)) {
			dwarf_dealloc_die(die);
			return has_enc && (enc == DW_ATE_signed ||
					   enc == DW_ATE_signed_char);
		}
		dwarf_dealloc_die(die);
	}
	return false;
}

static void build_enum(struct mv_dwarf *d, Dwarf_Die die, struct mv_type *t,
		       int depth)
{
	uint64_t under = 0, enc = 0;
	bool has_under = die_ref(d, die, DW_AT_type, &under);
	if (die_udata(d, die, DW_AT_encoding, &enc))
		t->is_signed = enc == DW_ATE_signed ||
			       enc == DW_ATE_signed_char;
	else if (has_under)
		t->is_signed = base_is_signed(d, under);
	/* The underlying type is not exposed as a target: the public
	 * contract gives enums none.  It only fills a missing size. */
	if (!t->size && has_under)
		t->size = type_at(d, under, depth + 1)->size;

	struct mv_enumerator *v = NULL;
	size_t n = 0, cap = 0;
	bool saw_negative = false;
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int res = dwarf_child(die, &child, &err);
	while (res == DW_DLV_OK) {
		if (die_tag(d, child) == DW_TAG_enumerator) {
			struct mv_enumerator x = { 0 };
			x.name = copy_name(d, die_name(d, child));
			Dwarf_Attribute attr;
			if (die_attr(d, child, DW_AT_const_value, &attr)) {
				Dwarf_Half form = 0;
				if (dwarf_whatform(attr, &form, &err) !=
				    DW_DLV_OK)
					drop_error(d, &err);
				uint64_t u = 0;
				int64_t s = 0;
				if (t->is_signed || form == DW_FORM_sdata) {
					Dwarf_Signed sv = 0;
					if (dwarf_formsdata(attr, &sv, &err) ==
					    DW_DLV_OK)
						s = sv;
					drop_error(d, &err);
					x.value = s;
					if (s < 0)
						saw_negative = true;
				} else if (attr_udata(d, attr, &u)) {
					x.value = (int64_t)u;
				}
				dwarf_dealloc_attribute(attr);
			}
			if (x.name) {
				if (n == cap) {
					size_t c = cap ? 2 * cap : 8;
					struct mv_enumerator *nv =
						realloc(v, c * sizeof(*nv));
					if (!nv) {
						d->oom = true;
					} else {
						v = nv;
						cap = c;
					}
				}
				if (n < cap)
					v[n++] = x;
			}
		}
		Dwarf_Die next = NULL;
		res = shim_siblingof(d->dbg, child, &next, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (res == DW_DLV_OK)
		dwarf_dealloc_die(child);
	drop_error(d, &err);
	if (saw_negative)
		t->is_signed = true;
	if (n) {
		t->enumerators = arena_alloc(&d->arena, n * sizeof(*v));
		if (t->enumerators) {
			memcpy(t->enumerators, v, n * sizeof(*v));
			t->nenumerators = n;
		} else {
			d->oom = true;
		}
	}
	free(v);
}

static void build_base(struct mv_dwarf *d, Dwarf_Die die, struct mv_type *t)
{
	uint64_t enc = 0;
	die_udata(d, die, DW_AT_encoding, &enc);
	switch (enc) {
	case DW_ATE_boolean:
		t->kind = MV_TYPE_BOOL;
		break;
	case DW_ATE_float:
	case DW_ATE_complex_float:
	case DW_ATE_imaginary_float:
	case DW_ATE_decimal_float:
		t->kind = MV_TYPE_FLOAT;
		t->is_signed = true;
		break;
	case DW_ATE_signed:
		t->kind = MV_TYPE_INT;
		t->is_signed = true;
		break;
	case DW_ATE_signed_char:
		t->kind = MV_TYPE_INT;
		t->is_signed = true;
		t->is_char = true;
		break;
	case DW_ATE_unsigned_char:
	case DW_ATE_UTF:
		t->kind = MV_TYPE_INT;
		t->is_char = true;
		break;
	default: /* unsigned, address, fixed point...: an integer */
		t->kind = MV_TYPE_INT;
		break;
	}
}

/* Counts the elements of one DW_TAG_subrange_type.  false: no constant
 * bound (flexible array member or VLA). */
static bool subrange_count(struct mv_dwarf *d, Dwarf_Die die, uint64_t *ret)
{
	uint64_t count;
	Dwarf_Attribute attr;
	Dwarf_Error err = NULL;
	if (die_attr(d, die, DW_AT_count, &attr)) {
		Dwarf_Half form = 0;
		bool ok = dwarf_whatform(attr, &form, &err) == DW_DLV_OK &&
			  dwarf_get_form_class(5, DW_AT_count, 4, form) ==
				  DW_FORM_CLASS_CONSTANT &&
			  attr_udata(d, attr, &count);
		drop_error(d, &err);
		dwarf_dealloc_attribute(attr);
		if (ok)
			*ret = count;
		return ok;
	}
	if (!die_attr(d, die, DW_AT_upper_bound, &attr))
		return false;
	Dwarf_Half form = 0;
	bool ok = dwarf_whatform(attr, &form, &err) == DW_DLV_OK &&
		  dwarf_get_form_class(5, DW_AT_upper_bound, 4, form) ==
			  DW_FORM_CLASS_CONSTANT;
	drop_error(d, &err);
	uint64_t upper = 0;
	if (ok)
		ok = attr_udata(d, attr, &upper);
	dwarf_dealloc_attribute(attr);
	/* -1 (all ones as 32 or 64 bits) is how older compilers say []. */
	if (!ok || upper == UINT64_MAX ||
	    (form == DW_FORM_data4 && upper == UINT32_MAX))
		return false;
	int64_t lower = 0;
	if (!die_sdata(d, die, DW_AT_lower_bound, &lower))
		lower = 0;
	if ((int64_t)upper < lower)
		count = 0;
	else
		count = upper - (uint64_t)lower + 1;
	*ret = count;
	return true;
}

static void build_array(struct mv_dwarf *d, Dwarf_Die die, struct mv_type *t,
			uint64_t off, int depth)
{
	struct mv_type *element = target_now(d, die, depth);
	struct {
		uint64_t count;
		bool has_count;
	} *dims = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int res = dwarf_child(die, &child, &err);
	while (res == DW_DLV_OK) {
		if (die_tag(d, child) == DW_TAG_subrange_type) {
			if (n == cap) {
				size_t c = cap ? 2 * cap : 4;
				void *nd = realloc(dims, c * sizeof(*dims));
				if (!nd) {
					d->oom = true;
					break;
				}
				dims = nd;
				cap = c;
			}
			dims[n].has_count =
				subrange_count(d, child, &dims[n].count);
			if (!dims[n].has_count)
				dims[n].count = 0;
			n++;
		}
		Dwarf_Die next = NULL;
		res = shim_siblingof(d->dbg, child, &next, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (res == DW_DLV_OK)
		dwarf_dealloc_die(child);
	drop_error(d, &err);

	/* int[2][3] is array(2) of array(3) of int: build from the
	 * innermost dimension out; t is the outermost. */
	struct mv_type *cur = element;
	size_t ndims = n ? n : 1;
	for (size_t i = ndims; i-- > 0;) {
		struct mv_type *a = i == 0 ? t : new_type(d);
		if (!a)
			break;
		a->kind = MV_TYPE_ARRAY;
		a->is_complete = true;
		a->has_count = n ? dims[i].has_count : false;
		a->count = n ? dims[i].count : 0;
		a->target_ = cur;
		if (a->has_count && cur->size &&
		    a->count > UINT64_MAX / cur->size) {
			/* Larger than any address space: not a type we can
			 * lay out.  Nothing is allocated per element. */
			free(dims);
			struct mv_type *u = unknown_type(
				d, "<array too large at DIE 0x%llx>",
				(unsigned long long)off);
			*t = *u;
			t->name = u->name;
			return;
		}
		a->size = a->has_count ? a->count * cur->size : 0;
		cur = a;
	}
	free(dims);
}

static void build_function(struct mv_dwarf *d, Dwarf_Die die,
			   struct mv_type *t, int depth)
{
	uint64_t ret = 0;
	if (!die_ref(d, die, DW_AT_type, &ret))
		ret = 0;
	struct mv_type_lazy *lazy = new_lazy(d, ret);
	if (!lazy)
		return;
	lazy->prototyped = die_flag(d, die, DW_AT_prototyped);
	t->lazy_ = lazy;
	struct member_vec m = { 0 };
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int res = dwarf_child(die, &child, &err);
	while (res == DW_DLV_OK) {
		Dwarf_Half tag = die_tag(d, child);
		if (tag == DW_TAG_formal_parameter) {
			struct mv_member x = { 0 };
			x.name = copy_name(d, die_name(d, child));
			x.type = target_now(d, child, depth);
			if (!member_push(&m, &x))
				d->oom = true;
		} else if (tag == DW_TAG_unspecified_parameters) {
			lazy->varargs = true;
		}
		Dwarf_Die next = NULL;
		res = shim_siblingof(d->dbg, child, &next, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (res == DW_DLV_OK)
		dwarf_dealloc_die(child);
	drop_error(d, &err);
	member_finish(d, &m, t);
}

static uint32_t qual_of(Dwarf_Half tag)
{
	switch (tag) {
	case DW_TAG_const_type:
		return MV_QUAL_CONST;
	case DW_TAG_volatile_type:
		return MV_QUAL_VOLATILE;
	case DW_TAG_restrict_type:
		return MV_QUAL_RESTRICT;
	case DW_TAG_atomic_type:
		return MV_QUAL_ATOMIC;
	default:
		return 0;
	}
}

/* const volatile int is two DIEs; we make one node.  Returns the DIE of
 * the unqualified target (0: void). */
static uint64_t collapse_quals(struct mv_dwarf *d, Dwarf_Die die,
			       uint32_t *quals)
{
	uint64_t off = 0;
	if (!die_ref(d, die, DW_AT_type, &off))
		return 0;
	for (int i = 0; i < MAX_DEPTH; i++) {
		Dwarf_Die next = NULL;
		Dwarf_Error err = NULL;
		if (shim_offdie(d->dbg, off, &next, &err) != DW_DLV_OK) {
			drop_error(d, &err);
			return off;
		}
		uint32_t q = qual_of(die_tag(d, next));
		uint64_t target = 0;
		if (!q) {
			dwarf_dealloc_die(next);
			return off;
		}
		*quals |= q;
		bool has = die_ref(d, next, DW_AT_type, &target);
		dwarf_dealloc_die(next);
		if (!has)
			return 0;
		off = target;
	}
	/* A qualifier chain that does not end: let type_at report the
	 * cycle at the last DIE reached. */
	return off;
}

static void set_decl(struct mv_dwarf *d, Dwarf_Die die, struct mv_type *t,
		     uint64_t off)
{
	struct cu *cu = cu_of(d, off);
	if (!cu)
		return;
	t->cu_name = cu->name;
	uint64_t file = 0, line = 0;
	if (die_udata(d, die, DW_AT_decl_line, &line))
		t->decl_line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	if (die_udata(d, die, DW_AT_decl_file, &file))
		t->decl_file = cu_file(d, cu, file);
}

static enum idx_kind tag_kind(Dwarf_Half tag)
{
	switch (tag) {
	case DW_TAG_structure_type:
		return IDX_STRUCT;
	case DW_TAG_union_type:
		return IDX_UNION;
	case DW_TAG_enumeration_type:
		return IDX_ENUM;
	default:
		return IDX_CLASS;
	}
}

/* C++'s struct and class keywords name one kind of type. */
static enum idx_kind twin_kind(enum idx_kind kind)
{
	return kind == IDX_STRUCT ? IDX_CLASS :
	       kind == IDX_CLASS  ? IDX_STRUCT : kind;
}

/* The first entry of key in kind or its twin, or NONE. */
static uint32_t lookup_kinds(struct mv_dwarf *d, enum idx_kind kind,
			     const char *key)
{
	uint32_t i = idx_lookup(d, kind, key);
	if (i == NONE && twin_kind(kind) != kind)
		i = idx_lookup(d, twin_kind(kind), key);
	return i;
}

static struct mv_error *lookup_key(struct mv_dwarf *d, enum idx_kind kind,
				   const char *name, uint32_t *ret);

/* A complete definition for a declaration's name, or NONE. */
static uint32_t find_definition(struct mv_dwarf *d, enum idx_kind kind,
				const char *name)
{
	uint32_t i;
	mv_error_destroy(lookup_key(d, kind, name, &i));
	for (; i != NONE; i = d->entries[i].next)
		if (!d->entries[i].declaration)
			return i;
	return NONE;
}

/* DW_AT_name of a C++ class in a namespace or class is not qualified:
 * its scope gives the rest.  In the arena, or DW_AT_name itself. */
static const char *qualified_name(struct mv_dwarf *d, uint64_t off,
				  Dwarf_Die die)
{
	const char *name = die_name(d, die);
	struct cu *cu = cu_of(d, off);
	if (!name || !cu || !cu->cxx)
		return name;
	uint32_t s = scope_of(d, off);
	if (s == NONE)
		return name;
	struct mv_buf b;
	mv_buf_init(&b);
	const char *q = qualify_str(&b, d->scopes[s].path, name);
	const char *copy = q ? arena_strdup(&d->arena, q) : NULL;
	mv_buf_deinit(&b);
	if (!copy)
		d->oom = true;
	return copy ? copy : name;
}

static struct mv_type *type_at(struct mv_dwarf *d, uint64_t off, int depth)
{
	if (off == 0)
		return &d->void_type;
	struct tcache_slot *slot = tcache_find(d, off);
	if (slot) {
		if (slot->building)
			return unknown_type(d, "<type cycle at DIE 0x%llx>",
					    (unsigned long long)off);
		return slot->type;
	}
	if (depth > MAX_DEPTH)
		return unknown_type(d, "<type nesting too deep at DIE 0x%llx>",
				    (unsigned long long)off);
	Dwarf_Die die = NULL;
	Dwarf_Error err = NULL;
	if (shim_offdie(d->dbg, off, &die, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		return unknown_type(d, "<bad DIE 0x%llx>",
				    (unsigned long long)off);
	}
	Dwarf_Half tag = die_tag(d, die);
	const char *name = qualified_name(d, off, die);
	bool declaration = die_flag(d, die, DW_AT_declaration);
	if (declaration && name &&
	    (tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	     tag == DW_TAG_enumeration_type || tag == DW_TAG_class_type)) {
		/* An opaque "struct foo;" in this unit: use foo's body from
		 * another unit, as a debugger does. */
		uint32_t def = find_definition(d, tag_kind(tag), name);
		if (def != NONE && d->entries[def].die != off) {
			dwarf_dealloc_die(die);
			struct mv_type *t =
				type_at(d, d->entries[def].die, depth);
			if (!tcache_insert(d, off, t, false))
				d->oom = true;
			return t;
		}
	}

	struct mv_type *t = new_type(d);
	if (!t || !tcache_insert(d, off, t, true)) {
		d->oom = true;
		dwarf_dealloc_die(die);
		return &oom_type;
	}
	t->name = copy_name(d, name);
	t->is_complete = !declaration;
	uint64_t size = 0;
	bool has_size = die_udata(d, die, DW_AT_byte_size, &size);
	t->size = size;
	struct cu *cu = cu_of(d, off);

	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type:
		t->kind = tag == DW_TAG_structure_type ? MV_TYPE_STRUCT :
			  tag == DW_TAG_union_type     ? MV_TYPE_UNION :
							 MV_TYPE_CLASS;
		set_decl(d, die, t, off);
		if (!declaration)
			build_members(d, die, t, depth);
		else
			t->size = 0;
		break;
	case DW_TAG_enumeration_type:
		t->kind = MV_TYPE_ENUM;
		set_decl(d, die, t, off);
		if (!declaration)
			build_enum(d, die, t, depth);
		break;
	case DW_TAG_base_type:
		build_base(d, die, t);
		t->cu_name = cu ? cu->name : NULL;
		break;
	case DW_TAG_unspecified_type:
		t->kind = MV_TYPE_VOID;
		t->size = 0;
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type: {
		uint64_t target = 0;
		if (!die_ref(d, die, DW_AT_type, &target))
			target = 0;
		t->kind = MV_TYPE_POINTER;
		t->is_complete = true;
		if (!has_size)
			t->size = cu && cu->addr_size ? cu->addr_size : 8;
		t->lazy_ = new_lazy(d, target);
		if (!t->lazy_)
			t->target_ = &oom_type;
		break;
	}
	case DW_TAG_typedef:
		t->kind = MV_TYPE_TYPEDEF;
		t->is_complete = true;
		set_decl(d, die, t, off);
		t->target_ = target_now(d, die, depth);
		t->size = t->target_->size;
		break;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		t->kind = MV_TYPE_QUALIFIED;
		t->is_complete = true;
		t->quals = qual_of(tag);
		t->target_ = type_at(d, collapse_quals(d, die, &t->quals),
				     depth + 1);
		t->size = t->target_->size;
		break;
	case DW_TAG_array_type:
		build_array(d, die, t, off, depth);
		break;
	case DW_TAG_subroutine_type:
		t->kind = MV_TYPE_FUNCTION;
		t->is_complete = true;
		t->size = 0;
		build_function(d, die, t, depth);
		break;
	default: {
		struct mv_type *u = unknown_type(
			d, "<unsupported DWARF tag 0x%x at DIE 0x%llx>",
			(unsigned)tag, (unsigned long long)off);
		t->kind = MV_TYPE_UNKNOWN;
		t->name = u->name;
		t->is_complete = false;
		break;
	}
	}
	dwarf_dealloc_die(die);
	slot = tcache_find(d, off);
	if (slot)
		slot->building = false;
	return t;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                    */
/* ------------------------------------------------------------------ */

struct mv_error *mv_dwarf_open(const char *path, uint64_t bias,
			       struct mv_dwarf **ret)
{
	if (access(path, R_OK) != 0)
		return mv_error_create(MV_ERR_IO, "%s: %s", path,
				       strerror(errno));
	struct mv_error *lerr = libdwarf_ready();
	if (lerr)
		return lerr;
	struct mv_dwarf *d = calloc(1, sizeof(*d));
	if (!d)
		return mv_enomem;
	d->bias = bias;
	d->void_type.kind = MV_TYPE_VOID;
	d->void_type.name = "void";
	d->void_type.is_complete = true;
	d->path = strdup(path);
	if (!d->path) {
		free(d);
		return mv_enomem;
	}
	Dwarf_Error err = NULL;
	int res = shim_init_path(path, &d->dbg, &err);
	if (res == DW_DLV_NO_ENTRY) {
		free(d->path);
		free(d);
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "%s has no DWARF debug info", path);
	}
	if (res != DW_DLV_OK) {
		/* libdwarf 20210528 fails on a non-ELF file without an error
		 * object. */
		struct mv_error *e =
			err ? dwarf_failure(NULL, err, path,
					    "cannot read DWARF") :
			      mv_error_create(MV_ERR_FORMAT,
					      "%s: not an object file with "
					      "DWARF that libdwarf can read",
					      path);
		free(d->path);
		free(d);
		return e;
	}
	struct mv_error *e = mv_elf_open(path, &d->elf);
	if (e == mv_enomem) {
		mv_dwarf_destroy(d);
		return e;
	}
	mv_error_destroy(e); /* no guard then: no file names either */
	e = index_all(d);
	scope_deinit(&d->scope);
	if (!e && d->ncus == 0)
		e = mv_error_create(MV_ERR_NOT_FOUND,
				    "%s has no DWARF debug info "
				    "(no compile units in .debug_info)",
				    path);
	if (e) {
		mv_dwarf_destroy(d);
		return e;
	}
	*ret = d;
	return NULL;
}

void mv_dwarf_destroy(struct mv_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncus; i++)
		free(d->cus[i].ranges);
	free(d->cus);
	free(d->entries);
	free(d->slots);
	free(d->tslots);
	free(d->scopes);
	free(d->cxx_vars);
	free(d->funcs);
	free(d->pending);
	scope_deinit(&d->scope);
	arena_free(&d->arena);
	if (d->dbg) {
		Dwarf_Error err = NULL;
		if (dwarf_finish(d->dbg, &err) != DW_DLV_OK)
			shim_free_error(NULL, err);
	}
	mv_elf_destroy(d->elf);
	free(d->line_copy);
	free(d->path);
	free(d);
}

static enum idx_kind ns_kind(enum mv_type_ns ns)
{
	switch (ns) {
	case MV_NS_STRUCT:
		return IDX_STRUCT;
	case MV_NS_UNION:
		return IDX_UNION;
	case MV_NS_ENUM:
		return IDX_ENUM;
	case MV_NS_CLASS:
		return IDX_CLASS;
	default:
		return IDX_ORDINARY;
	}
}

static const char *ns_word(enum mv_type_ns ns)
{
	switch (ns) {
	case MV_NS_STRUCT:
		return "struct ";
	case MV_NS_UNION:
		return "union ";
	case MV_NS_ENUM:
		return "enum ";
	case MV_NS_CLASS:
		return "class ";
	default:
		return "";
	}
}

static struct mv_type *type_at(struct mv_dwarf *d, uint64_t off, int depth);

/* mv_cxx_resolve_fn over this file's typedefs. */
static bool resolve_typedef(void *arg, const char *s, size_t len, char *buf,
			    size_t size)
{
	struct mv_dwarf *d = arg;
	char name[512];
	if (len >= sizeof(name))
		return false;
	memcpy(name, s, len);
	name[len] = '\0';
	uint32_t i = idx_lookup(d, IDX_ORDINARY, name);
	if (i == NONE)
		return false;
	struct mv_type *t = mv_type_strip(type_at(d, d->entries[i].die, 0));
	if (!t || !t->name)
		return false;
	size_t n = mv_cxx_canon(t->name, strlen(t->name), buf, size);
	return n < size && strcmp(buf, name) != 0;
}

/* The distinct full name that key names with template arguments
 * spelled otherwise or left out (mv_cxx_match), as *ret (NONE if
 * there is none).  MV_ERR_INVALID if several do. */
static struct mv_error *fuzzy_lookup(struct mv_dwarf *d, enum idx_kind kind,
				     const char *key, const char *name,
				     uint32_t *ret)
{
	struct mv_buf b;
	bool had_args;
	uint32_t found = NONE, other = NONE;

	*ret = NONE;
	mv_buf_init(&b);
	size_t n = mv_cxx_stem(key, NULL, 0, &had_args);
	if (!had_args)
		return NULL;
	if (!build_stems(d) || !mv_buf_reserve(&b, n + 1))
		return mv_enomem;
	mv_cxx_stem(key, b.data, n + 1, &had_args);
	for (int twin = 0; twin < 2; twin++) {
		enum idx_kind k = twin ? twin_kind(kind) : kind;
		if (twin && k == kind)
			break;
		for (uint32_t i = idx_lookup(d, IDX_STEM + k, b.data);
		     i != NONE; i = d->entries[i].next) {
			uint32_t full = d->entries[i].full;
			if (full == found || full == other ||
			    !mv_cxx_match_resolved(key, d->entries[full].name,
						   resolve_typedef, d))
				continue;
			if (found == NONE)
				found = full;
			else if (other == NONE)
				other = full;
		}
	}
	mv_buf_deinit(&b);
	if (other != NONE) {
		const struct idx_entry *x = &d->entries[found];
		const struct idx_entry *y = &d->entries[other];
		return mv_error_create(MV_ERR_INVALID,
			"'%s' names several types, such as '%s' and '%s': give all template arguments",
			name, x->display ? x->display : x->name,
			y->display ? y->display : y->name);
	}
	*ret = found;
	return NULL;
}

/* The first entry of key in kind (exactly, or by mv_cxx_match). */
static struct mv_error *find_key(struct mv_dwarf *d, enum idx_kind kind,
				 const char *key, const char *name,
				 uint32_t *ret)
{
	if (kind == IDX_VARIABLE) {
		*ret = idx_lookup(d, kind, key);
		return NULL;
	}
	*ret = lookup_kinds(d, kind, key);
	if (*ret != NONE)
		return NULL;
	return fuzzy_lookup(d, kind, key, name, ret);
}

/* Scans the innermost class that key's scope names ("ns::Bar" for
 * "ns::Bar::Nested"), or failing that an outer one: whether anything
 * was scanned that was not before. */
static bool scan_enclosing(struct mv_dwarf *d, const char *key)
{
	static const enum idx_kind kinds[] = { IDX_STRUCT, IDX_CLASS,
					       IDX_UNION };
	struct mv_buf b;
	bool progress = false, known = false;

	mv_buf_init(&b);
	mv_buf_puts(&b, key);
	for (size_t len = b.oom ? 0 : mv_cxx_scope_len(b.data);
	     len && !known; len = mv_cxx_scope_len(b.data)) {
		b.data[len] = '\0';
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			uint32_t i = idx_lookup(d, kinds[k], b.data);
			if (i == NONE)
				mv_error_destroy(fuzzy_lookup(d, kinds[k], b.data,
							      b.data, &i));
			for (; i != NONE; i = d->entries[i].next) {
				known = true;
				if (d->entries[i].declaration)
					continue;
				uint32_t s = scope_at(d, d->entries[i].die);
				if (s != NONE && !d->scopes[s].scanned) {
					scan_class(d, s);
					progress = true;
				}
			}
		}
	}
	mv_buf_deinit(&b);
	return progress;
}

/* The first entry of name (any spelling, see cxxname.h) in kind,
 * scanning the classes it is nested in as needed. */
static struct mv_error *lookup_key(struct mv_dwarf *d, enum idx_kind kind,
				   const char *name, uint32_t *ret)
{
	struct mv_buf b;
	struct mv_error *err = NULL;

	*ret = NONE;
	mv_buf_init(&b);
	const char *key = key_of(&b, name);
	if (!key)
		return mv_enomem;
	for (int round = 0; round <= MAX_SCOPE_DEPTH; round++) {
		err = find_key(d, kind, key, name, ret);
		if (err || *ret != NONE || !scan_enclosing(d, key))
			break;
		if (d->oom) {
			err = mv_enomem;
			break;
		}
	}
	mv_buf_deinit(&b);
	return err;
}

struct mv_error *mv_dwarf_find_type(struct mv_dwarf *d, enum mv_type_ns ns,
				    const char *name, uint64_t pc,
				    struct mv_type **ret, size_t *ndefs)
{
	if (ndefs)
		*ndefs = 0;
	if (!d || !name)
		return mv_error_create(MV_ERR_INVALID, "no type name");
	uint32_t head;
	d->oom = false;
	struct mv_error *err = lookup_key(d, ns_kind(ns), name, &head);
	if (!err && d->oom)
		err = mv_enomem;
	if (err)
		return err;
	uint32_t first_def = NONE, in_pc = NONE, first_decl = NONE;
	/* Copies of one header's struct in many units are one definition:
	 * tell them apart by size and line. */
	struct {
		uint64_t size;
		uint32_t line;
		bool has_size;
	} seen[16];
	size_t nseen = 0, distinct = 0;
	for (uint32_t i = head; i != NONE; i = d->entries[i].next) {
		struct idx_entry *e = &d->entries[i];
		if (e->declaration) {
			if (first_decl == NONE)
				first_decl = i;
			continue;
		}
		if (first_def == NONE)
			first_def = i;
		if (pc && in_pc == NONE && cu_contains(d, e->cu, pc))
			in_pc = i;
		size_t k;
		for (k = 0; k < nseen; k++)
			if (seen[k].size == e->size &&
			    seen[k].line == e->line &&
			    seen[k].has_size == e->has_size)
				break;
		if (k == nseen) {
			distinct++;
			if (nseen < sizeof(seen) / sizeof(seen[0])) {
				seen[nseen].size = e->size;
				seen[nseen].line = e->line;
				seen[nseen].has_size = e->has_size;
				nseen++;
			}
		}
	}
	uint32_t pick = in_pc != NONE ? in_pc :
			first_def != NONE ? first_def : first_decl;
	if (pick == NONE)
		return mv_error_create(MV_ERR_NOT_FOUND, "no %s%s in %s",
				       ns_word(ns), name, d->path);
	d->oom = false;
	struct mv_type *t = type_at(d, d->entries[pick].die, 0);
	if (d->oom)
		return mv_enomem;
	if (ndefs)
		*ndefs = distinct;
	*ret = t;
	return NULL;
}

static struct mv_type *variable_type(struct mv_dwarf *d, struct idx_entry *e)
{
	if (!e->type_die)
		return unknown_type(d, "<variable without type at DIE 0x%llx>",
				    (unsigned long long)e->die);
	return type_at(d, e->type_die, 0);
}

struct mv_error *mv_dwarf_find_variable(struct mv_dwarf *d, const char *name,
					uint64_t pc, uint64_t *addr,
					struct mv_type **type)
{
	if (!d || !name)
		return mv_error_create(MV_ERR_INVALID, "no variable name");
	uint32_t head;
	d->oom = false;
	struct mv_error *err = lookup_key(d, IDX_VARIABLE, name, &head);
	if (!err && d->oom)
		err = mv_enomem;
	if (err)
		return err;
	uint32_t first = NONE, in_pc = NONE;
	for (uint32_t i = head; i != NONE; i = d->entries[i].next) {
		if (first == NONE)
			first = i;
		if (!pc)
			break;
		if (cu_contains(d, d->entries[i].cu, pc)) {
			in_pc = i;
			break;
		}
	}
	uint32_t pick = in_pc != NONE ? in_pc : first;
	if (pick == NONE)
		return mv_error_create(MV_ERR_NOT_FOUND,
				       "no global or static variable %s in %s",
				       name, d->path);
	/* A copy: building the type may scan a class, which grows (and
	 * moves) the entries. */
	struct idx_entry e = d->entries[pick];
	d->oom = false;
	struct mv_type *t = variable_type(d, &e);
	if (d->oom)
		return mv_enomem;
	*addr = e.addr + d->bias;
	if (type)
		*type = t;
	return NULL;
}

struct mv_error *mv_dwarf_for_each_variable(struct mv_dwarf *d,
					    mv_dwarf_variable_fn fn,
					    void *arg)
{
	d->oom = false;
	for (size_t i = 0; i < d->nentries; i++) {
		if (d->entries[i].kind != IDX_VARIABLE)
			continue;
		/* A copy, as in mv_dwarf_find_variable. */
		struct idx_entry e = d->entries[i];
		struct mv_type *t = variable_type(d, &e);
		if (d->oom)
			return mv_enomem;
		if (!fn(arg, e.display ? e.display : e.name,
			e.addr + d->bias, t))
			break;
	}
	return NULL;
}

static int cmp_var_addr(const void *a, const void *b)
{
	const struct var_addr *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* The first entry of a variable is gdb's spelling; its other
	 * name (without an anonymous namespace) comes after. */
	return x->entry < y->entry ? -1 : 1;
}

static bool build_cxx_vars(struct mv_dwarf *d)
{
	d->cxx_vars_built = true;
	size_t n = 0;
	for (size_t i = 0; i < d->nentries; i++)
		n += d->entries[i].kind == IDX_VARIABLE &&
		     d->cus[d->entries[i].cu].cxx;
	if (!n)
		return true;
	d->cxx_vars = malloc(n * sizeof(*d->cxx_vars));
	if (!d->cxx_vars)
		return false;
	for (size_t i = 0; i < d->nentries; i++)
		if (d->entries[i].kind == IDX_VARIABLE &&
		    d->cus[d->entries[i].cu].cxx)
			d->cxx_vars[d->ncxx_vars++] = (struct var_addr){
				d->entries[i].addr, (uint32_t)i };
	qsort(d->cxx_vars, d->ncxx_vars, sizeof(*d->cxx_vars), cmp_var_addr);
	return true;
}

/* ---- the locals of a stack frame ---- */

static int func_cmp(const void *a, const void *b)
{
	const struct func_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* DW_OP_fbreg N as the whole expression: *off = N. */
static bool expr_fbreg(const uint8_t *e, size_t len, int64_t *off)
{
	if (len < 2 || e[0] != DW_OP_fbreg)
		return false;
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i = 1;
	uint8_t byte;
	do {
		if (i >= len || shift > 63)
			return false;
		byte = e[i++];
		v |= (uint64_t)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	if (i != len)
		return false;
	if (shift < 64 && (byte & 0x40))
		v |= ~(uint64_t)0 << shift;
	*off = (int64_t)v;
	return true;
}

/* At most this many DIEs of one function are looked at, and lexical
 * blocks nest at most this deep (the walk is iterative). */
#define FRAME_MAX_DIES 20000
#define FRAME_MAX_DEPTH 16

/* The DIE of the function whose code holds runtime address pc, or
 * NULL (the caller deallocates it). */
static Dwarf_Die func_die_at(struct mv_dwarf *d, uint64_t pc)
{
	if (!d->nfuncs || pc < d->bias)
		return NULL;
	if (!d->funcs_sorted) {
		qsort(d->funcs, d->nfuncs, sizeof(*d->funcs), func_cmp);
		d->funcs_sorted = true;
	}
	uint64_t addr = pc - d->bias;
	size_t lo = 0, hi = d->nfuncs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->funcs[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= d->funcs[lo - 1].hi)
		return NULL;
	Dwarf_Die fdie = NULL;
	Dwarf_Error err = NULL;
	if (shim_offdie(d->dbg, d->funcs[lo - 1].die, &fdie, &err) !=
	    DW_DLV_OK) {
		drop_error(d, &err);
		return NULL;
	}
	return fdie;
}

struct mv_type *mv_dwarf_method_template_arg(struct mv_dwarf *d, uint64_t pc,
					     const char *param)
{
	Dwarf_Die die = func_die_at(d, pc);
	Dwarf_Error err = NULL;
	uint64_t decl = 0, ref;
	/* An out-of-line copy names its abstract instance, which names
	 * the declaration inside the class. */
	for (int i = 0; die && i < 4; i++) {
		if (die_ref(d, die, DW_AT_specification, &decl))
			break;
		decl = 0;
		Dwarf_Die next = NULL;
		if (!die_ref(d, die, DW_AT_abstract_origin, &ref) ||
		    shim_offdie(d->dbg, ref, &next, &err) != DW_DLV_OK)
			next = NULL;
		drop_error(d, &err);
		dwarf_dealloc_die(die);
		die = next;
	}
	if (die)
		dwarf_dealloc_die(die);
	uint32_t s = decl ? scope_of(d, decl) : NONE;
	Dwarf_Die cls = NULL, kid = NULL;
	if (s == NONE || !d->scopes[s].is_class ||
	    shim_offdie(d->dbg, d->scopes[s].off, &cls, &err) != DW_DLV_OK ||
	    dwarf_child(cls, &kid, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		if (cls)
			dwarf_dealloc_die(cls);
		return NULL;
	}
	dwarf_dealloc_die(cls);
	struct mv_type *t = NULL;
	for (int i = 0; kid && i < 4096 && !t; i++) {
		const char *n = die_tag(d, kid) == DW_TAG_template_type_param
					? die_name(d, kid) : NULL;
		if (n && !strcmp(n, param) && die_ref(d, kid, DW_AT_type, &ref))
			t = type_at(d, ref, 0);
		Dwarf_Die next = NULL;
		if (shim_siblingof(d->dbg, kid, &next, &err) != DW_DLV_OK)
			next = NULL;
		drop_error(d, &err);
		dwarf_dealloc_die(kid);
		kid = next;
	}
	if (kid)
		dwarf_dealloc_die(kid);
	return t;
}

/* Calls fn for each variable and parameter DIE of the function fdie
 * and of its lexical blocks (not of the inlined subroutines in it), in
 * DIE order, until fn returns false; deallocates fdie.  Bounded:
 * FRAME_MAX_DIES DIEs, blocks FRAME_MAX_DEPTH deep. */
typedef bool (*local_die_fn)(struct mv_dwarf *d, Dwarf_Die die, void *arg);
static void each_local(struct mv_dwarf *d, Dwarf_Die fdie, local_die_fn fn,
		       void *arg)
{
	Dwarf_Error err = NULL;
	Dwarf_Die stack[FRAME_MAX_DEPTH];
	int depth = 0;
	Dwarf_Die kid = NULL;
	if (dwarf_child(fdie, &kid, &err) == DW_DLV_OK)
		stack[depth++] = kid;
	drop_error(d, &err);
	dwarf_dealloc_die(fdie);
	size_t seen = 0;
	bool go = true;
	while (depth) {
		Dwarf_Die cur = stack[depth - 1];
		Dwarf_Half tag = die_tag(d, cur);
		if (go && ++seen > FRAME_MAX_DIES)
			go = false;
		if (go && (tag == DW_TAG_variable ||
			   tag == DW_TAG_formal_parameter))
			go = fn(d, cur, arg);
		kid = NULL;
		bool down = go && tag == DW_TAG_lexical_block &&
			    depth < FRAME_MAX_DEPTH &&
			    dwarf_child(cur, &kid, &err) == DW_DLV_OK;
		drop_error(d, &err);
		Dwarf_Die next = NULL;
		int res = go ? shim_siblingof(d->dbg, cur, &next, &err)
			     : DW_DLV_NO_ENTRY;
		drop_error(d, &err);
		dwarf_dealloc_die(cur);
		if (res == DW_DLV_OK)
			stack[depth - 1] = next;
		else
			depth--;
		if (down)
			stack[depth++] = kid;
	}
}

/* Whether the function DIE's frame base is the CFA (gcc's and clang's
 * x86-64 choice), the only base known from the CFI alone. */
static bool frame_base_is_cfa(struct mv_dwarf *d, Dwarf_Die fdie)
{
	uint8_t base[8];
	size_t blen = die_expr(d, fdie, DW_AT_frame_base, base, sizeof(base));
	return blen == 1 && base[0] == DW_OP_call_frame_cfa;
}

struct fixed_locals {
	mv_dwarf_local_fn fn;
	void *arg;
};

static bool fixed_local(struct mv_dwarf *d, Dwarf_Die die, void *arg)
{
	struct fixed_locals *fl = arg;
	uint8_t e[16];
	size_t len = die_expr(d, die, DW_AT_location, e, sizeof(e));
	int64_t off;
	const char *vname = die_name(d, die);
	uint64_t toff;
	if (vname && expr_fbreg(e, len, &off) &&
	    die_ref(d, die, DW_AT_type, &toff)) {
		struct mv_type *t = type_at(d, toff, 0);
		if (t && t->size && !fl->fn(fl->arg, vname, off, t))
			return false;
	}
	return true;
}

const char *mv_dwarf_frame_locals(struct mv_dwarf *d, uint64_t pc,
				  mv_dwarf_local_fn fn, void *arg)
{
	Dwarf_Die fdie = func_die_at(d, pc);
	Dwarf_Error err = NULL;
	if (!fdie)
		return NULL;
	const char *name = die_name(d, fdie);
	uint64_t origin;
	if (!name && die_ref(d, fdie, DW_AT_specification, &origin)) {
		Dwarf_Die o = NULL;
		if (shim_offdie(d->dbg, origin, &o, &err) == DW_DLV_OK) {
			name = die_name(d, o);
			dwarf_dealloc_die(o);
		}
		drop_error(d, &err);
	}
	/* Offsets are from the frame base: only a base that is the CFA
	 * is known without registers. */
	struct fixed_locals fl = {fn, arg};
	if (frame_base_is_cfa(d, fdie))
		each_local(d, fdie, fixed_local, &fl);
	else
		dwarf_dealloc_die(fdie);
	return name ? name : "??";
}

struct local_loc {
	const char *name;
	uint64_t pc;          /* in the file's addresses */
	bool cfa_base;
	bool found;
	struct mv_dwarf_loc *ret;
};

/* One location expression as a struct mv_dwarf_loc: DW_OP_regN,
 * DW_OP_bregN K with DW_OP_stack_value (a value), DW_OP_bregN K (in
 * memory there), DW_OP_fbreg K with a CFA frame base (in memory).  The
 * other forms (pieces, computations) are MV_DWARF_LOC_UNSUPPORTED. */
static void loc_of_ops(struct mv_dwarf *d, Dwarf_Locdesc_c desc,
		       Dwarf_Unsigned nops, bool cfa_base,
		       struct mv_dwarf_loc *ret)
{
	Dwarf_Small op[2] = {0, 0};
	Dwarf_Unsigned o1[2] = {0, 0}, o2, o3, br;
	Dwarf_Error err = NULL;
	ret->kind = MV_DWARF_LOC_UNSUPPORTED;
	for (Dwarf_Unsigned i = 0; i < nops && i < 2; i++)
		if (dwarf_get_location_op_value_c(desc, i, &op[i], &o1[i], &o2,
						  &o3, &br, &err) != DW_DLV_OK) {
			drop_error(d, &err);
			return;
		}
	if (nops == 1 && op[0] >= DW_OP_reg0 && op[0] <= DW_OP_reg31) {
		ret->kind = MV_DWARF_LOC_REGISTER;
		ret->reg = op[0] - DW_OP_reg0;
	} else if (nops == 1 && op[0] == DW_OP_regx) {
		ret->kind = MV_DWARF_LOC_REGISTER;
		ret->reg = (unsigned)o1[0];
	} else if (op[0] >= DW_OP_breg0 && op[0] <= DW_OP_breg31 &&
		   (nops == 1 || (nops == 2 && op[1] == DW_OP_stack_value))) {
		ret->kind = nops == 2 ? MV_DWARF_LOC_VALUE
				      : MV_DWARF_LOC_MEMORY;
		ret->reg = op[0] - DW_OP_breg0;
		ret->offset = (int64_t)o1[0];
	} else if (nops == 1 && op[0] == DW_OP_fbreg && cfa_base) {
		ret->kind = MV_DWARF_LOC_CFA_MEMORY;
		ret->offset = (int64_t)o1[0];
	}
}

static bool named_local_at(struct mv_dwarf *d, Dwarf_Die die, void *arg)
{
	struct local_loc *l = arg;
	const char *vname = die_name(d, die);
	Dwarf_Attribute attr;
	if (!vname || strcmp(vname, l->name))
		return true;
	l->found = true;
	if (!die_attr(d, die, DW_AT_location, &attr))
		return true; /* optimized out everywhere: another may not be */
	Dwarf_Error err = NULL;
	Dwarf_Loc_Head_c head = NULL;
	Dwarf_Unsigned count = 0;
	if (dwarf_get_loclist_c(attr, &head, &count, &err) != DW_DLV_OK) {
		drop_error(d, &err);
		dwarf_dealloc_attribute(attr);
		return true;
	}
	bool done = false;
	for (Dwarf_Unsigned i = 0; i < count && i < 65536 && !done; i++) {
		Dwarf_Small lle = 0, source = 0;
		Dwarf_Unsigned rawlo, rawhi, nops = 0, eoff, doff;
		Dwarf_Bool noaddr = 0;
		Dwarf_Addr lo = 0, hi = 0;
		Dwarf_Locdesc_c desc = NULL;
		if (dwarf_get_locdesc_entry_d(head, i, &lle, &rawlo, &rawhi,
					      &noaddr, &lo, &hi, &nops, &desc,
					      &source, &eoff, &doff,
					      &err) != DW_DLV_OK) {
			drop_error(d, &err);
			break;
		}
		/* source 0: a single expression, for every pc. */
		if (!nops || noaddr ||
		    (source && (l->pc < lo || l->pc >= hi)))
			continue;
		loc_of_ops(d, desc, nops, l->cfa_base, l->ret);
		done = true;
	}
	dwarf_loc_head_c_dealloc(head);
	dwarf_dealloc_attribute(attr);
	return !done;
}

bool mv_dwarf_local_location(struct mv_dwarf *d, uint64_t pc,
			     const char *name, struct mv_dwarf_loc *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->kind = MV_DWARF_LOC_NONE;
	Dwarf_Die fdie = d ? func_die_at(d, pc) : NULL;
	if (!fdie)
		return false;
	struct local_loc l = {name, pc - d->bias, frame_base_is_cfa(d, fdie),
			      false, ret};
	each_local(d, fdie, named_local_at, &l);
	return l.found;
}

const char *mv_dwarf_cxx_variable_at(struct mv_dwarf *d, uint64_t addr)
{
	if (!d || (!d->cxx_vars_built && !build_cxx_vars(d)))
		return NULL;
	addr -= d->bias;
	size_t lo = 0, hi = d->ncxx_vars;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->cxx_vars[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->ncxx_vars || d->cxx_vars[lo].addr != addr)
		return NULL;
	const struct idx_entry *e = &d->entries[d->cxx_vars[lo].entry];
	return e->display ? e->display : e->name;
}

void mv_dwarf_stats(struct mv_dwarf *d, struct mv_dwarf_stats *ret)
{
	ret->cus = d ? d->ncus : 0;
	ret->indexed_names = d ? d->nentries : 0;
	ret->types_built = d ? d->types_built : 0;
}
