"""memview commands for gdb: source this file (source /path/gdb/memview.py).

Registers one gdb command per memview command (memview, sizeof-deep,
mv-layout, ...).  The C core does all the work; this file tells it where
memory comes from and how to evaluate an expression, and prints what it
renders.
"""

import os
import re
import sys

import gdb

_here = os.path.dirname(os.path.realpath(__file__))
# Source tree: gdb/../python; installed: share/memview/gdb/../python.
sys.path.insert(0, os.path.join(_here, "..", "python"))

import memview_core  # noqa: E402

FRONTEND = "gdb"


def core_file_path():
    """The core file gdb has open, from `info target`, or None."""
    text = gdb.execute("info target", to_string=True)
    match = re.search(r"Local core dump file:\s*`(.*)', file type", text)
    return match.group(1) if match else None


def objfile_biases():
    """(path, bias) for each objfile, from the .text addresses gdb shows.

    Only needed for remote targets, where the core cannot read
    /proc/PID/maps or a core's notes.
    """
    text = gdb.execute("info files", to_string=True)
    main = gdb.current_progspace().filename
    result = []
    pattern = r"^\s*(0x[0-9a-f]+) - 0x[0-9a-f]+ is \.text(?: in (.*))?$"
    for match in re.finditer(pattern, text, re.MULTILINE):
        address = int(match.group(1), 16)
        path = match.group(2) or main
        if not path or not os.path.isfile(path):
            continue  # the vdso ("system-supplied DSO at ...")
        link_address = memview_core.elf_section_address(path, ".text")
        if link_address is not None:
            result.append((path, address - link_address))
    return result


def thread_registers(thread):
    """The registers of a thread's newest frame, by memview's names."""
    previous = gdb.selected_thread()
    thread.switch()
    try:
        frame = gdb.newest_frame()
        regs = {}
        for name in memview_core.REGISTER_NAMES:
            try:
                regs[name] = int(frame.read_register(name))
            except (gdb.error, ValueError):
                pass
        return regs
    finally:
        if previous is not None and previous.is_valid():
            previous.switch()


def evaluate(expr):
    """gdb's answer for expr: (address, value, is_lvalue, type_name)."""
    try:
        value = gdb.parse_and_eval(expr)
        type_name = str(value.type)
        if value.address is not None:
            return int(value.address), 0, 1, type_name
        code = value.type.strip_typedefs().code
        if code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM,
                    gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR):
            return 0, int(value), 0, type_name
        return 0, 0, 0, type_name
    except gdb.error as e:
        raise ValueError(str(e)) from None


class State:
    """The session for the current inferior, rebuilt when it changes."""

    def __init__(self):
        self.session = None
        self.key = None
        self.generation = 0  # bumped when a remote target stops

    def describe(self):
        """(kind, key) for the selected inferior."""
        inferior = gdb.selected_inferior()
        connection = inferior.connection
        kind = connection.type if connection is not None else None
        exe = gdb.current_progspace().filename
        if kind == "core":
            return "core", ("core", inferior.num, core_file_path(), exe)
        if kind == "native" and inferior.pid > 0:
            return "pid", ("pid", inferior.num, inferior.pid, exe)
        if inferior.pid > 0:
            return "remote", ("remote", inferior.num, inferior.pid, exe,
                              self.generation)
        return "none", ("none", inferior.num, exe, self.generation)

    def get(self):
        """A session ready to run a command on the selected inferior."""
        kind, key = self.describe()
        if self.session is not None and key == self.key:
            if kind == "pid":
                self.session.invalidate()  # the process may have run
            return self.session
        self.session = None
        session = memview_core.Session()
        session.set_frontend(FRONTEND)
        session.set_output(lambda text: gdb.write(text))
        session.set_eval(evaluate)
        session.set_poll(memview_core.signal_poll())
        if kind == "core":
            session.open_core(key[2], key[3])
        elif kind == "pid":
            session.open_pid(key[2])
        elif kind == "remote":
            self.open_remote(session)
        else:
            session.open_none()
            for objfile in gdb.objfiles():
                if objfile.is_valid() and objfile.owner is None and \
                        objfile.filename and os.path.isfile(objfile.filename):
                    session.add_objfile(objfile.filename, 0)
        self.session, self.key = session, key
        return session

    @staticmethod
    def open_remote(session):
        """Memory through gdb, objfiles at the biases gdb knows."""
        inferior = gdb.selected_inferior()

        def read(address, length):
            return inferior.read_memory(address, length).tobytes()
        session.open_callback(read)
        for path, bias in objfile_biases():
            session.add_objfile(path, bias)
        for thread in inferior.threads():
            session.add_thread(thread.ptid[1] or thread.ptid[0],
                               thread_registers(thread))

    def invalidate(self, event=None):
        self.generation += 1


STATE = State()


def terminal():
    """(width, color) when gdb's output is a terminal, else (0, False)."""
    if not os.isatty(1):
        return 0, False
    width = gdb.parameter("width") or 0
    return int(width), bool(gdb.parameter("style enabled"))


def run(name, arg):
    """Runs one memview command line; errors become gdb.GdbError."""
    text = memview_core.help_request(FRONTEND, name, arg)
    if text is not None:
        gdb.write(text)
        return
    try:
        session = STATE.get()
        width, color = terminal()
        session.set_terminal(width, color)
        try:
            session.set_pc(gdb.selected_frame().pc())
        except gdb.error:
            pass
        session.run_line(name, arg)
    except KeyboardInterrupt:
        raise gdb.GdbError("memview: interrupted") from None
    except memview_core.MemviewError as e:
        if e.interrupted:
            raise gdb.GdbError("memview: interrupted") from None
        raise gdb.GdbError(e.message) from None


def make_command(name, help_text):
    """A gdb.Command subclass for one memview command."""
    def __init__(self):
        gdb.Command.__init__(self, name, gdb.COMMAND_DATA,
                             gdb.COMPLETE_SYMBOL)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        run(name, arg)
    class_name = "Memview_" + re.sub(r"\W", "_", name)
    return type(class_name, (gdb.Command,), {
        "__doc__": help_text or name,
        "__init__": __init__,
        "invoke": invoke,
    })


def register():
    """Registers every command the library names for gdb."""
    try:
        names = memview_core.command_names(FRONTEND)
    except memview_core.MemviewError as e:
        gdb.write(e.message + "\n", gdb.STDERR)
        return
    for name in names:
        make_command(name, memview_core.command_help(FRONTEND, name))()
    gdb.events.stop.connect(STATE.invalidate)
    gdb.events.new_objfile.connect(STATE.invalidate)


if __name__ == "__main__":
    # Sourced: gdb runs this file in its __main__ namespace, where the
    # user's own scripts live too.  Load it again as a module of its own so
    # that no name here can be replaced by theirs, and register from there.
    import importlib.util
    _spec = importlib.util.spec_from_file_location(
        "memview_gdb", os.path.realpath(__file__))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["memview_gdb"] = _module
    _spec.loader.exec_module(_module)
    _module.register()
