/* cxxname.h - C++ names as g++'s DWARF, gdb, lldb and users spell them.
 *
 * One class has many spellings: "std::vector<int, std::allocator<int> >"
 * (g++'s DW_AT_name and gdb), "std::vector<int,std::allocator<int>>" (a
 * user, clang's DWARF), "std::vector<int, std::allocator<> >" (lldb 14,
 * which prints arguments it did not rebuild as empty) and
 * "std::vector<int>" (defaulted arguments left out).  Names are compared
 * in a canonical spelling first (mv_cxx_canon), then template argument
 * by template argument (mv_cxx_match).  Plain C names are their own
 * canonical spelling, so C programs pay nothing.  Pure string functions:
 * no allocation, no recursion deeper than MV_CXX_MAX_NESTING. */
#ifndef MV_CXXNAME_H
#define MV_CXXNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Template arguments nested deeper than this make a name malformed. */
#define MV_CXX_MAX_NESTING 32

/* The spelling of the unnamed namespace, as gdb and lldb print it. */
#define MV_CXX_ANON_NS "(anonymous namespace)"

bool mv_cxx_ident_char(char c);

/* Length of the qualified name starting at s: components separated by
 * "::" (spaces allowed around it), each an identifier with optional
 * template arguments "<...>", "(anonymous namespace)" or an operator
 * name ("operator<", "operator()"); a leading "::" is part of it.  0 if
 * s does not start a name or its brackets do not balance within
 * MV_CXX_MAX_NESTING levels. */
size_t mv_cxx_name_len(const char *s);

/* Whether mv_cxx_canon would change s[0..len): it has white space
 * other than single spaces between identifier characters. */
bool mv_cxx_needs_canon(const char *s, size_t len);

/* The canonical spelling of s[0..len): no white space except one space
 * between two identifier characters ("unsigned int", "(anonymous
 * namespace)"), so "Foo<int, Bar<char> >" is "Foo<int,Bar<char>>".
 * Writes at most size bytes including the NUL; returns the full
 * length, as snprintf. */
size_t mv_cxx_canon(const char *s, size_t len, char *buf, size_t size);

/* The name without its template arguments ("std::_Vector_base::pointer"
 * for "std::_Vector_base<int,std::allocator<int>>::pointer"), from a
 * canonical name.  Returns the full length as snprintf; *had_args says
 * whether there were any. */
size_t mv_cxx_stem(const char *canon, char *buf, size_t size,
		   bool *had_args);

/* Length of the scope part of a canonical name: "ns::Foo<int>" for
 * "ns::Foo<int>::count" (the "::" inside template arguments does not
 * count), 0 if the name is not qualified. */
size_t mv_cxx_scope_len(const char *canon);

/* Whether the canonical query names the canonical candidate: the same
 * components, and at each template the query's arguments match the
 * first of the candidate's, the rest being defaults the query left out
 * ("std::vector<int>", "std::allocator<>").  Arguments match when equal
 * or, for names, recursively by the same rule. */
bool mv_cxx_match(const char *query, const char *cand);

/* What a template argument that is a typedef stands for: the canonical
 * name of s[0..len)'s type with typedefs stripped ("std::string" ->
 * "std::__cxx11::basic_string<char,...>") in buf, or false. */
typedef bool mv_cxx_resolve_fn(void *arg, const char *s, size_t len,
			       char *buf, size_t size);
/* mv_cxx_match, where a query's argument that does not match may also
 * match by what resolve makes of it ("std::map<int, std::string>"). */
bool mv_cxx_match_resolved(const char *query, const char *cand,
			   mv_cxx_resolve_fn *resolve, void *arg);

/* The class a mangled <name> stands for, as gdb and c++filt print it:
 * "N2ns3FooE" -> "ns::Foo", "St23_Sp_counted_ptr_inplaceI4NodeSaIvEL..."
 * -> "std::_Sp_counted_ptr_inplace<Node, std::allocator<void>,
 * (__gnu_cxx::_Lock_policy)2>".  Class names only: nested names,
 * templates whose arguments are types or integer literals, and
 * substitutions; false for anything else (buf then unspecified).
 * Writes at most size bytes. */
bool mv_cxx_demangle_class(const char *mangled, char *buf, size_t size);
/* The readable name of a C++ ABI symbol for a class's vtable or type
 * info, as gdb prints it: "_ZTV7Diamond" -> "vtable for Diamond",
 * "_ZTIN2ns3FooE" -> "typeinfo for ns::Foo" (mv_cxx_demangle_class). */
bool mv_cxx_demangle_class_symbol(const char *sym, char *buf, size_t size);

#endif
