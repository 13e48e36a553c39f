"""memview for Python scripts: commands as Python objects, typed values.

    import memview
    s = memview.open_core("core.1234", exe="./prog")   # or memview.attach(pid)
    s.run("gc")["summary"]               # any command's --json answer
    s.object("g_table").member("buckets")[3].deref()   # a typed Value
    int(s.object("list_head").next.value)

Inside gdb or lldb with the plugin loaded, memview.session() is the
session of the program the debugger has open.  The same module serves
plain python3, gdb's Python and lldb's: it is the ctypes layer the
plugins use (memview_core), under its public name.  See docs/python.md.
"""

import os
import sys

# Installed: $PREFIX/lib/python3*/dist-packages/memview.py, and the
# ctypes layer the plugins share in $PREFIX/share/memview/python.
# In the source tree they sit side by side.
_here = os.path.dirname(os.path.realpath(__file__))
for _dir in (_here, os.path.join(_here, "..", "..", "..", "share", "memview",
                                 "python")):
    if os.path.isfile(os.path.join(_dir, "memview_core.py")):
        _dir = os.path.realpath(_dir)
        if _dir not in sys.path:
            sys.path.append(_dir)
        break

from memview_core import (  # noqa: E402
    CODE_NAMES, Error, Session, Value, attach, open_core, type_name)


def session():
    """Inside gdb or lldb with the plugin loaded: the session of the
    program the debugger has open, evaluating with the debugger's own
    expressions (locals, casts, C++)."""
    # The plugin loaded again replaces memview_core: ask the current one.
    return sys.modules["memview_core"].session()

__all__ = ["CODE_NAMES", "Error", "Session", "Value", "attach", "open_core",
           "session", "type_name"]
