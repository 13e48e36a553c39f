"""memview commands for gdb: source this file (source /path/gdb/memview.py).

Registers one gdb command per memview command (memview, sizeof-deep,
mv-layout, ...) and `set memview`/`show memview` for their defaults.  The
C core does all the work; this file tells it where memory comes from and
how to evaluate an expression, and prints what it renders.  Sourcing it
again replaces the commands in place.
"""

import os
import re
import shlex
import sys

import gdb

_here = os.path.dirname(os.path.realpath(__file__))
# Source tree: gdb/../python; installed: share/memview/gdb/../python.
_python_dir = os.path.realpath(os.path.join(_here, "..", "python"))
if _python_dir not in sys.path:
    sys.path.insert(0, _python_dir)

try:
    import memview_core  # noqa: E402
    IMPORT_ERROR = None
except ImportError as _e:
    if getattr(_e, "name", None) == "memview_core":
        IMPORT_ERROR = ("memview: cannot find memview_core.py in %s: "
                        "reinstall memview ('make install')" % _python_dir)
    else:
        IMPORT_ERROR = str(_e)

FRONTEND = "gdb"


def core_file_path():
    """The core file gdb has open, from `info target`, or None."""
    text = gdb.execute("info target", to_string=True)
    match = re.search(r"Local core dump file:\s*`(.*)', file type", text)
    return match.group(1) if match else None


TEXT_LINE = re.compile(r"^\s*(0x[0-9a-f]+) - 0x[0-9a-f]+ is \.text"
                       r"(?: in (.*))?$", re.MULTILINE)
MAPPING_LINE = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+"
                          r"\s+(0x[0-9a-f]+)(?:\s+([r-][w-][x-][ps]))?"
                          r"(?:\s+(\S.*?))?\s*$")
TARGET_PREFIX = "target:"


def text_addresses():
    """{gdb's name of an objfile: where its .text is loaded}, from `info
    files` (which lists them twice over a remote target: the first
    wins).  The executable's .text has no "in NAME"."""
    text = gdb.execute("info files", to_string=True)
    main = gdb.current_progspace().filename
    result = {}
    for match in TEXT_LINE.finditer(text):
        result.setdefault(match.group(2) or main, int(match.group(1), 16))
    return result


def remote_mappings():
    """The remote process's mappings as (start, end, perms, offset, path),
    from `info proc mappings` (gdbserver hands gdb /proc/PID/maps)."""
    try:
        text = gdb.execute("info proc mappings", to_string=True)
    except gdb.error:
        return []
    result = []
    for line in text.splitlines():
        match = MAPPING_LINE.match(line)
        if match is None:
            continue
        start, end, offset = (int(match.group(i), 16) for i in (1, 2, 3))
        # gdb before 12 prints no perms: then every mapping counts as
        # readable and writable (roots scanned a little too widely).
        perms = match.group(4) or "rw-p"
        result.append((start, end, perms, offset, match.group(5) or None))
    return result


def target_file_cache(build_id, remote):
    """Where a file fetched from the target is kept: by build-id, so a
    later session (or another process of the same build) reuses it."""
    base = os.environ.get("XDG_CACHE_HOME") or \
        os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "memview", "target-files", build_id,
                        os.path.basename(remote))


def fetch_target_file(remote, build_id):
    """A local copy of a file of the target (`remote get`), or None."""
    local = target_file_cache(build_id, remote)
    if memview_core.elf_build_id(local) == build_id:
        return local
    try:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        # Quoted: gdb splits the arguments as a shell would, and a
        # cache under a HOME or XDG_CACHE_HOME may hold spaces.
        gdb.execute("remote get %s %s" % (shlex.quote(remote),
                                          shlex.quote(local)),
                    to_string=True)
    except (gdb.error, OSError):
        return None
    return local if memview_core.elf_build_id(local) == build_id else None


def local_objfile(name, build_id):
    """The local file for the objfile gdb calls name, or None.

    gdb names a file it reads through the target (`set sysroot target:`,
    the default) "target:PATH", and a file found under a local sysroot
    by its local path.  For "target:PATH", the local sysroot's PATH,
    PATH itself (the target runs on this machine, or shares its files),
    solib-search-path, then a copy fetched from the target are tried; a file only counts if its build-id is the
    one gdb read."""
    if not name.startswith(TARGET_PREFIX):
        candidates = [name]
        remote = None
    else:
        remote = name[len(TARGET_PREFIX):]
        candidates = [remote]
        sysroot = gdb.parameter("sysroot") or ""
        if sysroot and not sysroot.startswith(TARGET_PREFIX):
            # A local sysroot gdb did not find the file in: tried all
            # the same (the build-id decides).
            candidates.insert(0, os.path.join(sysroot, remote.lstrip("/")))
        search = gdb.parameter("solib-search-path") or ""
        candidates += [os.path.join(d, os.path.basename(remote))
                       for d in search.split(os.pathsep) if d]
    for path in candidates:
        if os.path.isfile(path) and (
                build_id is None or
                memview_core.elf_build_id(path) == build_id):
            return path
    if remote is not None and build_id:
        return fetch_target_file(remote, build_id)
    return None


def remote_objfiles():
    """(local path, bias) of each file the inferior has mapped, once
    each, the executable first."""
    texts = text_addresses()
    main = gdb.current_progspace().filename
    objfiles = [o for o in gdb.objfiles()
                if o.is_valid() and o.owner is None and o.filename and
                (o.filename.startswith(("/", TARGET_PREFIX)))]
    objfiles.sort(key=lambda o: o.filename != main)
    result, seen = [], set()
    for objfile in objfiles:
        address = texts.get(objfile.filename)
        if address is None:
            continue
        path = local_objfile(objfile.filename, objfile.build_id)
        if path is None:
            continue
        key = objfile.build_id or os.path.realpath(path)
        link_address = memview_core.elf_section_address(path, ".text")
        if key in seen or link_address is None:
            continue
        seen.add(key)
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


def give_threads(session):
    """Hands every thread of the selected inferior and its registers
    (roots for gc and referrers) to the session, keeping the user's
    selected thread and frame.  A running thread (non-stop mode) has no
    registers to give."""
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        frame = None
    try:
        for thread in gdb.selected_inferior().threads():
            if not thread.is_valid():
                continue
            regs = None if thread.is_running() else thread_registers(thread)
            session.add_thread(thread.ptid[1] or thread.ptid[0], regs)
    finally:
        if frame is not None and frame.is_valid():
            frame.select()


def any_thread_running():
    """Whether a thread of the selected inferior runs (non-stop mode):
    then its memory may change without an event."""
    try:
        return any(t.is_valid() and t.is_running()
                   for t in gdb.selected_inferior().threads())
    except gdb.error:
        return True


ASKED_OWN = set()


def over_globals(expr):
    """Whether expr names a global (static storage) variable and no
    local: gdb 13 and lldb 14 die on expressions over a global whose type
    holds itself (`p &g_far`), so memview's own evaluator, which reads
    the same DWARF, answers those first."""
    seen = False
    for m in memview_core.NAME.finditer(expr):
        name = m.group(0)
        if name in memview_core.KEYWORDS:
            continue
        try:
            sym = gdb.lookup_symbol(name.lstrip(":"))[0]
        except gdb.error:  # no frame: globals only
            sym = gdb.lookup_global_symbol(name.lstrip(":")) or \
                gdb.lookup_static_symbol(name.lstrip(":"))
        if sym is None or not sym.is_variable:
            if sym is not None and sym.is_argument:
                return False
            continue
        if sym.addr_class != gdb.SYMBOL_LOC_STATIC:
            return False  # a local in a register or on the stack
        seen = True
    return seen


def evaluate(expr):
    """gdb's answer for expr: (address, value, is_lvalue, type_name)."""
    name = expr.strip()
    if name in ASKED_OWN:
        ASKED_OWN.discard(name)  # memview could not: gdb's turn
    elif over_globals(name):
        ASKED_OWN.add(name)
        raise ValueError(memview_core.USE_OWN)
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
    """The session for the current inferior, rebuilt when it changes.

    A live process's memory is cached by the library (whole blocks, kept
    for the next commands) while gdb keeps it stopped: generation counts
    gdb's events that may change it (the inferior resumed, for a step, a
    continue or a `call`; `set var`; objfiles came or went), and the
    cache is dropped only when it moved since the session last looked."""

    def __init__(self):
        self.session = None
        self.key = None
        self.generation = 0  # bumped when the inferior may have changed
        self.seen = 0  # the generation the session's cache is from
        # Bumped when objfiles came or went (a dlopen: a plugin, a
        # Python extension module): a live process's session knows
        # the libraries it was opened with, so a new one is opened.
        self.objfiles = 0

    def describe(self):
        """(kind, key) for the selected inferior."""
        inferior = gdb.selected_inferior()
        connection = inferior.connection
        kind = connection.type if connection is not None else None
        exe = gdb.current_progspace().filename
        if kind == "core":
            return "core", ("core", inferior.num, core_file_path(), exe)
        if kind == "native" and inferior.pid > 0:
            return "pid", ("pid", inferior.num, inferior.pid, exe,
                           self.objfiles)
        if inferior.pid > 0:
            return "remote", ("remote", inferior.num, inferior.pid, exe,
                              self.generation)
        return "none", ("none", inferior.num, exe, self.generation)

    def get(self):
        """A session ready to run a command on the selected inferior."""
        kind, key = self.describe()
        if self.session is not None and key == self.key:
            if kind == "pid" and (self.seen != self.generation or
                                  any_thread_running()):
                self.session.invalidate()
                self.seen = self.generation
                give_threads(self.session)  # invalidate forgot them
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
            # gdb traces the process, so memview could not attach to
            # read the registers: gdb gives them.
            session.open_pid(key[2], caller_registers=True)
            give_threads(session)
        elif kind == "remote":
            self.open_remote(session)
        else:
            session.open_none()
            for objfile in gdb.objfiles():
                if objfile.is_valid() and objfile.owner is None and \
                        objfile.filename and os.path.isfile(objfile.filename):
                    session.add_objfile(objfile.filename, 0)
        self.session, self.key = session, key
        self.seen = self.generation
        return session

    @staticmethod
    def open_remote(session):
        """Memory through gdb, the mappings and threads the target
        lists, objfiles by their local files at the biases gdb knows."""
        inferior = gdb.selected_inferior()

        def read(address, length):
            return inferior.read_memory(address, length).tobytes()
        session.open_callback(read)
        for start, end, perms, offset, path in remote_mappings():
            session.add_region(start, end, perms, offset, path)
        for path, bias in remote_objfiles():
            session.add_objfile(path, bias)
        give_threads(session)

    def invalidate(self, event=None):
        self.generation += 1

    def objfiles_changed(self, event=None):
        self.generation += 1
        self.objfiles += 1


STATE = State()
SETTINGS = memview_core.Settings() if IMPORT_ERROR is None else None


def terminal():
    """(width, color) for gdb's output: `set width` and `set style
    enabled` when it is a terminal, else (0, False); then the user's
    memview settings."""
    width, color = 0, False
    if os.isatty(1):
        width = int(gdb.parameter("width") or 0)
        color = bool(gdb.parameter("style enabled"))
    return SETTINGS.terminal(width, color)


class Output:
    """gdb.write as the core's output sink, through gdb's pager.

    When the user answers q at the pager, gdb raises inside write; the
    sink then returns False so the core stops quietly, and `stopped`
    tells run() to print nothing more.  Ctrl-C raises the same exception
    there; it can only have been the pager when the pager could prompt
    (output to a terminal, pagination on, a finite height), so otherwise
    the stop is reported as an interruption."""

    def __init__(self, progress):
        self.stopped = False
        self.progress = progress
        self.pager_possible = pager_can_prompt()

    def __call__(self, text):
        if self.stopped:
            return False
        try:
            if self.progress is not None:
                self.progress.clear()
            gdb.write(text)
            return True
        except KeyboardInterrupt:
            if not self.pager_possible:
                # Ctrl-C, not q at the pager: the text goes out and the
                # core's next poll stops the command with its own words
                # ("interrupted after listing N of M chunks").  gdb may
                # raise its own KeyboardInterrupt for the same Ctrl-C at
                # the next write: a command's one-line answer, written
                # as the Ctrl-C came, was lost to it (check-ctrlc).
                memview_core.remember_interrupt()
                for _ in range(3):
                    try:
                        gdb.write(text)
                        return True
                    except KeyboardInterrupt:
                        continue
                    except gdb.error:
                        break
            self.stopped = True
            return False
        except gdb.error:
            self.stopped = True
            return False


def pager_can_prompt():
    """True when gdb's pager could stop output and ask to continue."""
    try:
        height = gdb.parameter("height")
        return (os.isatty(1) and bool(gdb.parameter("pagination")) and
                height not in (None, 0))
    except (gdb.error, RuntimeError):
        return False


def progress_line(from_tty):
    """A Progress on gdb's terminal, or None when not interactive."""
    if not from_tty or not os.isatty(1) or not os.isatty(2):
        return None

    def write(text):
        gdb.write(text, gdb.STDERR)
        gdb.flush(gdb.STDERR)
    return memview_core.Progress(write)


def run(name, arg, from_tty=False):
    """Runs one memview command line; errors become gdb.GdbError."""
    refused = memview_core.refused_text(arg)
    if refused:
        raise gdb.GdbError(refused)
    text = memview_core.help_request(FRONTEND, name, arg)
    if text is not None:
        gdb.write(text)
        return
    progress = None
    output = Output(None)
    session = None
    started = False
    try:
        session = STATE.get()
        progress = progress_line(from_tty)
        output = Output(progress)
        session.set_output(output)
        session.set_progress(progress)
        width, color = terminal()
        session.set_terminal(width, color)
        try:
            session.set_pc(gdb.selected_frame().pc())
        except gdb.error:
            pass
        started = True
        session.run_line(name, SETTINGS.command_line(name, arg))
    except KeyboardInterrupt:
        if output.stopped and output.pager_possible:
            return
        # gdb's second KeyboardInterrupt for a Ctrl-C the core already
        # stopped on: the core's words for it, when it had some.  One
        # before (opening the core, reading the pc): nothing was done.
        message = getattr(session, "interrupt_message", None) \
            if started else memview_core.INTERRUPTED_BEFORE
        raise gdb.GdbError("memview: " + (message or "interrupted")) \
            from None
    except memview_core.MemviewError as e:
        if output.stopped and output.pager_possible:
            return  # q at the pager: the user has seen enough
        if output.stopped:
            raise gdb.GdbError("memview: interrupted") from None
        if e.interrupted:
            raise gdb.GdbError("memview: " + e.message) from None
        raise gdb.GdbError(e.message) from None
    finally:
        if progress is not None:
            progress.clear()


def complete(name, text, word):
    """Tab completion: options after '-', else expressions as gdb's own
    commands complete them."""
    words = text.split(" ")
    token = words[-1] if words else ""
    previous = words[-2] if len(words) > 1 else ""
    try:
        if previous.startswith("--") and "=" not in previous:
            # The value of an option with choices: the choices.
            takes, choices = memview_core.option_value(name, previous[2:])
            if choices:
                candidates = [c for c in choices if c.startswith(token)]
                start = len(token) - len(word or "")
                return [c[start:] for c in candidates]
        if not token.startswith("-") or "--" in words[:-1]:
            return gdb.COMPLETE_EXPRESSION
        candidates = memview_core.complete_options(name, token)
    except memview_core.MemviewError:
        return []
    # gdb replaces `word`, which may be only the end of token ('-' and
    # '=' break words): hand back each candidate from there.
    start = len(token) - len(word or "")
    return [c[start:] for c in candidates]


def make_command(name, help_text):
    """A gdb.Command subclass for one memview command."""
    def __init__(self):
        gdb.Command.__init__(self, name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        run(name, arg, from_tty)

    def complete_method(self, text, word):
        return complete(name, text, word)
    class_name = "Memview_" + re.sub(r"\W", "_", name)
    return type(class_name, (gdb.Command,), {
        "__doc__": help_text or name,
        "__init__": __init__,
        "invoke": invoke,
        "complete": complete_method,
    })


def make_broken_command(name, message):
    """A command that only says why memview cannot run."""
    def __init__(self):
        gdb.Command.__init__(self, name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        raise gdb.GdbError(message)
    return type("Memview_broken", (gdb.Command,), {
        "__doc__": "memview is not available here.\n\n" + message,
        "__init__": __init__,
        "invoke": invoke,
    })


# ---- settings: set memview NAME VALUE, show memview [NAME] ----

class SetMemview(gdb.Command):
    """Set memview's defaults for every command.

Each setting becomes the option of the same name of every memview command
that has one (mv-layout --max-elements, ...); an empty value restores the
command's own default.  `show memview` lists them; `help set memview NAME`
says what one does."""

    def __init__(self):
        super().__init__("set memview", gdb.COMMAND_DATA, gdb.COMPLETE_NONE,
                         True)


class ShowMemview(gdb.Command):
    """Show memview's defaults for every command."""

    def __init__(self):
        super().__init__("show memview", gdb.COMMAND_DATA,
                         gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        for name in memview_core.setting_names():
            value = SETTINGS.get(name)
            gdb.write("memview %s: %s\n" %
                      (name, memview_core.shown_setting(name, value)))


def make_parameter(name):
    """A gdb.Parameter `memview NAME` kept in SETTINGS, checked by the
    library."""
    kind = memview_core.setting_kind(name)
    help_text = memview_core.setting_help(name)
    boolean = kind == "bool"
    if kind == "auto|on|off":
        args = (gdb.PARAM_ENUM, ["auto", "on", "off"])
    elif boolean:
        args = (gdb.PARAM_BOOLEAN,)
    else:
        args = (gdb.PARAM_STRING,)

    class Parameter(gdb.Parameter):
        __doc__ = help_text
        set_doc = "Set memview's %s (%s)." % (name, kind)
        show_doc = "Show memview's %s." % name

        def __init__(self):
            super().__init__("memview " + name, gdb.COMMAND_DATA, *args)
            value = SETTINGS.get(name)
            if boolean:
                self.value = value == "on"
            else:
                self.value = value or \
                    ("auto" if kind == "auto|on|off" else "")

        def get_set_string(self):
            if boolean:
                value = "on" if self.value else "off"
            else:
                value = self.value or ""
            try:
                SETTINGS.set(name, value)
            except memview_core.MemviewError as e:
                self.value = SETTINGS.get(name)
                raise gdb.GdbError(e.message) from None
            return ""

        def get_show_string(self, svalue):
            return "memview %s: %s" % (
                name, memview_core.shown_setting(name, svalue))
    return Parameter()


_registered = []


def unregister():
    """Undoes register()'s event hooks (before a reload)."""
    for event, handler in _registered:
        try:
            event.disconnect(handler)
        except (ValueError, RuntimeError):
            pass
    del _registered[:]


def register(previous=None):
    """Registers every command the library names for gdb, and the
    settings; replaces what a previous load registered."""
    if previous is not None:
        previous.unregister()
        SETTINGS.values.update(previous.SETTINGS.values)
    # memview.session() in gdb's Python: this inferior's session.
    memview_core.debugger_session = STATE.get
    try:
        names = memview_core.command_names(FRONTEND)
    except memview_core.MemviewError as e:
        # Without the library every command still answers, with the
        # sentence that says how to fix it.
        gdb.write(e.message + "\n", gdb.STDERR)
        for name in memview_core.DEBUGGER_COMMANDS:
            make_broken_command(name, e.message)()
        return
    for name in names:
        make_command(name, memview_core.command_help(FRONTEND, name))()
    SetMemview()
    ShowMemview()
    for name in memview_core.setting_names():
        make_parameter(name)
    # Everything after which a live process's memory may differ: it ran
    # (cont: step, next, continue, finish, and the calls of `call` and
    # `print f()`, which inferior_call also reports), it stopped or
    # exited, gdb wrote to it (memory_changed: `set var`, `print x = 1`),
    # its objfiles changed.
    events = [gdb.events.cont, gdb.events.stop, gdb.events.exited]
    events += [getattr(gdb.events, name) for name in
               ("memory_changed", "inferior_call", "new_inferior",
                "inferior_deleted") if hasattr(gdb.events, name)]
    for event in events:
        event.connect(STATE.invalidate)
        _registered.append((event, STATE.invalidate))
    for event in (gdb.events.new_objfile, gdb.events.clear_objfiles):
        event.connect(STATE.objfiles_changed)
        _registered.append((event, STATE.objfiles_changed))


if __name__ == "__main__":
    # Sourced: gdb runs this file in its __main__ namespace, where the
    # user's own scripts live too.  Load it again as a module of its own so
    # that no name here can be replaced by theirs, and register from there.
    # Sourcing again replaces the module (and memview_core, which may
    # have changed on disk) and hands over the previous settings.
    import importlib.util
    _previous = sys.modules.get("memview_gdb")
    sys.modules.pop("memview_core", None)
    sys.modules.pop("memview", None)  # the scripting API: on the new one
    _spec = importlib.util.spec_from_file_location(
        "memview_gdb", os.path.realpath(__file__))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["memview_gdb"] = _module
    _spec.loader.exec_module(_module)
    if _module.IMPORT_ERROR is not None:
        gdb.write(_module.IMPORT_ERROR + "\n", gdb.STDERR)
    else:
        _module.register(_previous)
