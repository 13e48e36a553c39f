"""Sourced by gdb on a cxxcont core: what gdb's libstdc++ pretty printers
say each node container holds, as "EXPR ADDRESS" lines.  EXPR is the
element as the printer shows it (a map's "[key] = value" gives
"g_map[key]", other containers "[i] = value" give "g_list[i]"), ADDRESS
the heap block the element points to: the Node * itself, or a string's
heap buffer (not one kept inline).  test_cxxcont.py asks path-to for each
address and expects EXPR as the holder."""
import gdb


def block_of(value):
    """The heap block a Node * or a std::string value points to, or 0."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        return int(value)
    p = int(value["_M_dataplus"]["_M_p"])
    local = int(value["_M_local_buf"].address)
    return 0 if p == local else p


def elements(var):
    """[(expression, element value)] as the printer lists them."""
    v = gdb.parse_and_eval(var)
    vis = gdb.default_visualizer(v)
    kids = [c[1] for c in vis.children()]
    hint = getattr(vis, "display_hint", lambda: None)()
    if hint == "map":
        pairs = zip(kids[0::2], kids[1::2])
        return [("%s[%d]" % (var, int(k)), x) for k, x in pairs]
    return [("%s[%d]" % (var, i), x) for i, x in enumerate(kids)]


# A set of pairs: each element's .second, as the printer shows the pair.
for expr, value in elements("g_pairs"):
    print("MEMBER %s.second 0x%x" % (expr, int(value["second"])))

for name in ("g_deque", "g_list", "g_flist", "g_map", "g_umap",
             "g_deque_str", "g_set"):
    for expr, value in elements(name):
        if value.address is not None:
            print("AT %s 0x%x" % (expr, int(value.address)))
        if name != "g_set" and block_of(value):
            print("ELEMENT %s 0x%x" % (expr, block_of(value)))
