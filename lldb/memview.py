"""memview commands for lldb: command script import /path/lldb/memview.py

Registers one lldb command per memview command (memview, sizeof-deep,
mv-layout, ...) and mv-settings for their defaults.  The C core does all
the work; this file tells it where memory comes from and how to evaluate
an expression, and prints what it renders.  Commands take their state
only from the execution context.  Importing it again replaces the
commands in place and keeps the settings.
"""

import json
import os
import re
import sys

import lldb

_here = os.path.dirname(os.path.realpath(__file__))
# Source tree: lldb/../python; installed: share/memview/lldb/../python.
_python_dir = os.path.realpath(os.path.join(_here, "..", "python"))
if _python_dir not in sys.path:
    sys.path.insert(0, _python_dir)

# A second `command script import` reloads this module: read
# memview_core afresh too, and carry the settings over.
_previous_settings = globals().get("SETTINGS")
sys.modules.pop("memview_core", None)
try:
    import memview_core  # noqa: E402
    IMPORT_ERROR = None
except ImportError as _e:
    memview_core = None
    if getattr(_e, "name", None) == "memview_core":
        IMPORT_ERROR = ("memview: cannot find memview_core.py in %s: "
                        "reinstall memview ('make install')" % _python_dir)
    else:
        IMPORT_ERROR = str(_e)

FRONTEND = "lldb"

if memview_core is not None:
    # lldb imports this file as the module `memview`, the name of the
    # scripting API (python/memview.py): `import memview` in lldb's
    # Python finds this module, so it offers the same API.
    from memview_core import (  # noqa: E402,F401
        CODE_NAMES, Error, Session, Value, attach, open_core, session,
        type_name)

# lldb's names for the registers memview wants, where they differ.
LLDB_REGISTER_NAMES = {"eflags": "rflags"}


def mapped_core_files():
    """ELF core files mapped into this (lldb's) process.

    lldb 14 has no API for the core file path, but it mmaps the core it
    reads, so /proc/self/maps names it.
    """
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    path = fields[5].rstrip("\n")
                    if path not in paths:
                        paths.append(path)
    except OSError:
        return []
    cores = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                header = f.read(18)
        except OSError:
            continue
        # ELFCLASS64, little endian, e_type == ET_CORE (4).
        if header[:4] == b"\x7fELF" and header[4:6] == b"\x02\x01" and \
                header[16:18] == b"\x04\x00":
            cores.append(path)
    return cores


def core_file_path(process):
    """The core file of a core-file process, or None if not found.

    None too when several mapped cores are of this pid: lldb keeps the
    cores of deleted targets mapped, and which one is this process's
    cannot be told (memory is then read through lldb)."""
    pid = process.GetProcessID()
    paths = [path for path in mapped_core_files()
             if memview_core.core_pid(path) == pid]
    return paths[0] if len(paths) == 1 else None


def c_type_name(sbtype):
    """The C spelling of an lldb type: "struct padded", not "padded"."""
    type_class = sbtype.GetTypeClass()
    name = sbtype.GetName() or ""
    if type_class == lldb.eTypeClassPointer:
        pointee = sbtype.GetPointeeType()
        if pointee.GetTypeClass() == lldb.eTypeClassFunction:
            return name
        inner = c_type_name(pointee)
        return inner + ("*" if inner.endswith("*") else " *")
    if type_class == lldb.eTypeClassArray:
        element = sbtype.GetArrayElementType()
        size = element.GetByteSize()
        count = sbtype.GetByteSize() // size if size else 0
        inner = c_type_name(element)
        if inner.endswith("]"):
            at = inner.index("[")
            return "%s[%d]%s" % (inner[:at], count, inner[at:])
        return "%s [%d]" % (inner, count)
    keyword = {lldb.eTypeClassStruct: "struct",
               lldb.eTypeClassUnion: "union",
               lldb.eTypeClassEnumeration: "enum"}.get(type_class)
    if keyword is None:
        return name
    bare = sbtype.GetUnqualifiedType().GetName() or ""
    qualifiers = name[:len(name) - len(bare)] if name.endswith(bare) else ""
    if not bare or bare.startswith(("struct ", "union ", "enum ", "(")):
        return name
    return "%s%s %s" % (qualifiers, keyword, bare)


# A bare C name, and the bare names lldb knows without the target.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A static member of a template instance, "ns::Foo<int, 2>::count".
TEMPLATE_MEMBER = re.compile(r"(::)?[A-Za-z_][\w:]*<[\w:<>,*&() ]*>::\w+")
# A variable (C++ names qualified) and members or elements of it.
VARIABLE_PATH = re.compile(
    r"(::)?[A-Za-z_]\w*(::[A-Za-z_]\w*)*"
    r"(\s*(\.|->)\s*[A-Za-z_]\w*|\s*\[\s*\d+\s*\])*")
LITERALS = ("true", "false", "nullptr", "NULL")


def make_evaluator(target, frame):
    """evaluate(expr) -> (address, value, is_lvalue, type_name) in lldb."""
    def evaluate_raw(expr):
        if frame is not None and frame.IsValid():
            return frame.EvaluateExpression(expr)
        return target.EvaluateExpression(expr)

    def names_a_value(name):
        """Whether a bare name is a variable or a symbol: lldb 14 crashes
        (endless recursion) on any lookup of a typedef of itself, so a
        name that is neither, such as the type mv-layout asks about, is
        never handed to its expression parser."""
        if frame is not None and frame.IsValid() and \
                frame.FindVariable(name).IsValid():
            return True
        return target.FindFirstGlobalVariable(name).IsValid() or \
            target.FindSymbols(name).GetSize() > 0

    def find_variable(name):
        """A variable path as lldb's frame finds it, else a global: no
        expression parser, which on a core cannot evaluate a static
        member or copy a std::string global.  None if not found."""
        found = []
        if VARIABLE_PATH.fullmatch(name):
            if frame is not None and frame.IsValid():
                found.append(frame.GetValueForVariablePath(name))
            if "." not in name and "-" not in name and "[" not in name:
                found.append(target.FindFirstGlobalVariable(
                    name.lstrip(":")))
        elif TEMPLATE_MEMBER.fullmatch(name):
            # "ns::Foo<int>::count": lldb's parser cannot name it.
            found.append(target.FindFirstGlobalVariable(name.lstrip(":")))
        for value in found:
            # lldb hands a pointer to a polymorphic class over as its
            # dynamic type, at a copy: memview wants the declared type
            # at the variable (it finds dynamic types itself).
            if value.IsValid() and value.GetStaticValue().IsValid():
                value = value.GetStaticValue()
            if value.IsValid() and value.GetError().Success() and \
                    value.GetType().GetName() and \
                    value.GetLoadAddress() != lldb.LLDB_INVALID_ADDRESS:
                return value
        return None

    asked_own = set()

    def over_globals(expr):
        """Whether expr names a global variable and no local: lldb 14
        crashes on some expressions over globals whose types it cannot
        lay out (`&(g_far)`, a type holding itself), so memview's own
        evaluator, which reads the same DWARF, answers those first."""
        seen = False
        for m in memview_core.NAME.finditer(expr):
            name = m.group(0)
            if name in memview_core.KEYWORDS:
                continue
            if frame is not None and frame.IsValid() and \
                    frame.FindVariable(name).IsValid():
                return False
            seen = seen or \
                target.FindFirstGlobalVariable(name.lstrip(":")).IsValid()
        return seen

    def evaluate(expr):
        name = expr.strip()
        value = find_variable(name)
        if value is not None:
            return value.GetLoadAddress(), 0, 1, \
                c_type_name(value.GetType())
        if name in asked_own:
            asked_own.discard(name)  # memview could not: lldb's turn
        elif over_globals(name):
            asked_own.add(name)
            raise ValueError(memview_core.USE_OWN)
        if IDENTIFIER.fullmatch(name) and name not in LITERALS and \
                not names_a_value(name):
            raise ValueError("use of undeclared identifier '%s'" % name)
        value = evaluate_raw(expr)
        if value.IsValid() and value.GetStaticValue().IsValid():
            value = value.GetStaticValue()
        error = value.GetError()
        if not value.IsValid() or (error.IsValid() and error.Fail()):
            message = error.GetCString() if error.IsValid() else None
            raise ValueError(first_line(message) or
                             "cannot evaluate '%s'" % expr)
        type_name = c_type_name(value.GetType())
        address = value.GetLoadAddress()
        if address != lldb.LLDB_INVALID_ADDRESS:
            return address, 0, 1, type_name
        # Expression results are copies: ask for the address itself.
        pointer = evaluate_raw("&(%s)" % expr)
        if pointer.IsValid() and pointer.GetError().Success() and \
                pointer.GetType().IsPointerType():
            return pointer.GetValueAsUnsigned(), 0, 1, type_name
        return 0, value.GetValueAsUnsigned(), 0, type_name
    return evaluate


def first_line(message):
    """The first meaningful line of an lldb error message, without the
    "error: " prefixes lldb adds."""
    if not message:
        return None
    for line in message.splitlines():
        line = line.strip()
        while line.startswith("error:"):
            line = line[len("error:"):].strip()
        if line and not line.startswith("expression failed to parse"):
            return line
    return None


def thread_registers(thread):
    """Frame 0's general registers by memview's names."""
    values = {}
    frame = thread.GetFrameAtIndex(0)
    for register_set in frame.GetRegisters():
        for register in register_set:
            values.setdefault(register.GetName(),
                              register.GetValueAsUnsigned())
    regs = {}
    for name in memview_core.REGISTER_NAMES:
        lldb_name = LLDB_REGISTER_NAMES.get(name, name)
        if lldb_name in values:
            regs[name] = values[lldb_name]
    return regs


def give_threads(session, process):
    """Hands every thread of process and its registers (roots for gc and
    referrers) to the session."""
    for thread in process:
        session.add_thread(thread.GetThreadID(), thread_registers(thread))


def memory_mark(target, process):
    """What changes when lldb may have changed a stopped process's memory,
    or None when that cannot be told.

    The stop ID with expression stops moves whenever the process ran (a
    step, a continue, an expression that calls a function).  An
    expression lldb interprets without running the process (`expr x =
    1`) writes memory without moving it, and lldb 14 has no event for a
    memory write; but every expression evaluation is counted in the
    target's statistics, so the count stands in for it.  Not seen:
    `memory write` at a literal address and SBProcess.WriteMemory from a
    script."""
    if process.GetState() != lldb.eStateStopped:
        return None
    try:
        stream = lldb.SBStream()
        if not target.GetStatistics().GetAsJSON(stream).Success():
            return None
        count = 0
        for stats in json.loads(stream.GetData())["targets"]:
            evaluations = stats["expressionEvaluation"]
            count += evaluations["successes"] + evaluations["failures"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return process.GetStopID(True), count


def remote_regions(process):
    """The process's mappings as (start, end, perms, path), from
    SBProcess.GetMemoryRegions (lldb-server reads /proc/PID/maps; lldb
    fills the gaps with unmapped regions, left out here).  lldb tells
    no file offset, nor private from shared."""
    regions = process.GetMemoryRegions()
    info = lldb.SBMemoryRegionInfo()
    result = []
    for i in range(regions.GetSize()):
        if not regions.GetMemoryRegionAtIndex(i, info) or \
                not info.IsMapped():
            continue
        perms = ("r" if info.IsReadable() else "-") + \
            ("w" if info.IsWritable() else "-") + \
            ("x" if info.IsExecutable() else "-") + "p"
        result.append((info.GetRegionBase(), info.GetRegionEnd(), perms,
                       info.GetName() or None))
    return result


def module_paths(target):
    """The paths of target's modules, in lldb's order."""
    return tuple(target.GetModuleAtIndex(i).GetFileSpec().fullpath
                 for i in range(target.GetNumModules()))


def module_file(module):
    """The local file of a module, or None: lldb's own copy (the file
    itself on this machine, its module cache for a remote platform),
    else the path on the target if this machine has the same file; a
    file only counts if its build-id is the module's UUID."""
    uuid = (module.GetUUIDString() or "").replace("-", "").lower()
    for spec in (module.GetFileSpec(), module.GetPlatformFileSpec()):
        path = spec.fullpath
        if path and os.path.isfile(path) and (
                not uuid or memview_core.elf_build_id(path) == uuid):
            return path
    return None


def remote_modules(target):
    """(local path, bias) of each module, once each, the executable
    first (lldb lists it first)."""
    result, seen = [], set()
    for module in target.module_iter():
        path = module_file(module)
        if path is None:
            continue  # the vdso, or no local copy
        header = module.GetObjectFileHeaderAddress().GetLoadAddress(target)
        link_address = memview_core.elf_first_load_vaddr(path)
        key = module.GetUUIDString() or os.path.realpath(path)
        if header == lldb.LLDB_INVALID_ADDRESS or link_address is None or \
                key in seen:
            continue
        seen.add(key)
        result.append((path, header - link_address))
    return result


def is_local_process(pid, exe):
    """Whether pid on this machine runs exe: the host platform also
    serves `gdb-remote HOST:PORT`, whose pid may be another machine's."""
    try:
        return exe is None or os.path.samefile("/proc/%d/exe" % pid, exe)
    except OSError:
        return False


class State:
    """The session for the current target, rebuilt when it changes.

    A live process's memory is cached by the library (whole blocks; a
    remote one's by pages) across commands while the process stays
    stopped and untouched: the memory mark after a command must still
    hold before the next."""

    def __init__(self):
        self.session = None
        self.key = None
        self.mark = None  # memory_mark after the session's last command

    @staticmethod
    def describe(target, process):
        """(kind, key, extra) for a target and process."""
        exe = target.GetExecutable().fullpath if target.IsValid() else None
        target_id = target.GetProcess().GetUniqueID() \
            if target.IsValid() else 0
        if process is None or not process.IsValid() or \
                process.GetState() in (lldb.eStateInvalid,
                                       lldb.eStateExited,
                                       lldb.eStateDetached):
            return "none", ("none", exe), None
        pid = process.GetProcessID()
        if process.GetPluginName() == "elf-core":
            core = core_file_path(process)
            if core is not None:
                return "core", ("core", target_id, core, exe), core
            return "remote", ("remote", target_id, pid,
                              process.GetStopID()), None
        platform = target.GetPlatform()
        if platform.IsValid() and platform.GetName() == "host" and \
                pid > 0 and os.path.exists("/proc/%d/mem" % pid) and \
                is_local_process(pid, exe):
            # Its modules too: a session knows the libraries it was
            # opened with, and one loaded since (a dlopen: a plugin, a
            # Python extension module) needs a new session.
            return "pid", ("pid", target_id, pid, exe,
                           module_paths(target)), None
        return "remote", ("remote", target_id, pid,
                          process.GetStopID()), None

    def get(self, debugger, exe_ctx):
        """A session ready to run a command in exe_ctx."""
        target = exe_ctx.GetTarget()
        process = exe_ctx.GetProcess()
        kind, key, extra = self.describe(target, process)
        session = self.session
        if session is None or key != self.key:
            self.session = None
            session = memview_core.Session()
            session.set_frontend(FRONTEND)
            if kind == "core":
                session.open_core(extra, key[3])
            elif kind == "pid":
                # lldb traces the process, so memview could not attach
                # to read the registers: lldb gives them.
                session.open_pid(key[2], caller_registers=True)
                give_threads(session, process)
            elif kind == "remote":
                self.open_remote(session, target, process)
            else:
                session.open_none()
                if key[1] and os.path.isfile(key[1]):
                    session.add_objfile(key[1], 0)
            self.session, self.key = session, key
        elif kind in ("pid", "remote") and (
                self.mark is None or
                self.mark != memory_mark(target, process)):
            session.invalidate()  # the process may have changed
            if kind == "pid":
                give_threads(session, process)  # invalidate forgot them
        self.mark = None
        interpreter = debugger.GetCommandInterpreter()
        session.set_poll(interpreter.WasInterrupted)
        session.set_eval(make_evaluator(target, exe_ctx.GetFrame()))
        frame = exe_ctx.GetFrame()
        if frame.IsValid():
            session.set_pc(frame.GetPC())
        return session

    def remember(self, exe_ctx):
        """After a command on a live process: the mark its cache is
        good for (memview's own expressions counted)."""
        if self.key is not None and self.key[0] in ("pid", "remote"):
            self.mark = memory_mark(exe_ctx.GetTarget(),
                                    exe_ctx.GetProcess())

    @staticmethod
    def open_remote(session, target, process):
        """Memory through lldb, the regions lldb-server lists, modules
        by their local files at the biases lldb knows."""
        def read(address, length):
            error = lldb.SBError()
            data = process.ReadMemory(address, length, error)
            return data if error.Success() else None
        session.open_callback(read)
        for start, end, perms, path in remote_regions(process):
            session.add_region(start, end, perms, 0, path)
        for path, bias in remote_modules(target):
            session.add_objfile(path, bias)
        give_threads(session, process)


STATE = State()
SETTINGS = memview_core.Settings() if memview_core is not None else None
if SETTINGS is not None and _previous_settings is not None:
    SETTINGS.values.update(_previous_settings.values)


def terminal(debugger):
    """(width, color): lldb's terminal width and its use-color setting
    when the output is a terminal, then the user's memview settings."""
    width, color = 0, False
    if os.isatty(1):
        width = debugger.GetTerminalWidth()
        color = debugger.GetUseColor()
    return SETTINGS.terminal(width, color)


def progress_line():
    """A Progress on the terminal lldb runs in, or None."""
    stream = sys.__stderr__
    if stream is None or not os.isatty(1) or not stream.isatty():
        return None

    def write(text):
        stream.write(text)
        stream.flush()
    return memview_core.Progress(write)


class Command:
    """Base of the generated command classes; NAME is set per command.

    The help text comes from the library when lldb first asks for it."""

    NAME = None

    def __init__(self, debugger, internal_dict):
        self._help = None

    @property
    def help(self):
        if self._help is None:
            try:
                self._help = memview_core.command_help(FRONTEND,
                                                       self.NAME) or \
                    self.NAME
            except memview_core.MemviewError as e:
                return "%s: %s" % (self.NAME, e.message)
        return self._help

    def get_short_help(self):
        return self.help.splitlines()[0]

    def get_long_help(self):
        return self.help

    def __call__(self, debugger, command, exe_ctx, result):
        progress = None
        started = False

        sink = Output(debugger, result)

        def output(text):
            return sink.write(text)
        refused = memview_core.refused_text(command)
        if refused:
            result.SetError(refused)
            result.SetStatus(lldb.eReturnStatusFailed)
            return
        try:
            text = memview_core.help_request(FRONTEND, self.NAME, command)
            if text is not None:
                result.Print(text)
                result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
                return
            session = STATE.get(debugger, exe_ctx)
            session.set_output(output)
            progress = progress_line()
            session.set_progress(progress)
            width, color = terminal(debugger)
            session.set_terminal(width, color)
            try:
                started = True
                session.run_line(self.NAME,
                                 SETTINGS.command_line(self.NAME, command))
            finally:
                STATE.remember(exe_ctx)
                if progress is not None:
                    progress.clear()
                sink.close()
            result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
        except memview_core.MemviewError as e:
            message = "memview: " + e.message if e.interrupted \
                else e.message
            if e.interrupted:
                sink.interrupted_line(message)
            result.SetError(message)
            result.SetStatus(lldb.eReturnStatusFailed)
        except KeyboardInterrupt:
            message = "memview: " + ("interrupted" if started else
                                     memview_core.INTERRUPTED_BEFORE)
            sink.interrupted_line(message)
            result.SetError(message)
            result.SetStatus(lldb.eReturnStatusFailed)
        except Exception as e:  # never a traceback in the user's session
            result.SetError("memview: internal error: %s" % e)
            result.SetStatus(lldb.eReturnStatusFailed)


class Output:
    """Where a command's output goes in lldb.

    lldb keeps a command's result until the command ends, so a long
    output would neither stream nor stop promptly at Ctrl-C.  Small
    outputs go into the result (as a caller of HandleCommand expects);
    once one passes STREAM_AFTER bytes it is written straight to the
    debugger's output file as it comes."""

    STREAM_AFTER = 256 * 1024

    def __init__(self, debugger, result):
        self.debugger = debugger
        self.interpreter = debugger.GetCommandInterpreter()
        self.result = result
        self.held = []
        self.size = 0
        self.file = None
        self.after_interrupt = 0

    # After Ctrl-C, what the command still writes (its partial answer
    # and note) goes out up to this much; then the core is stopped.
    AFTER_INTERRUPT = 64 * 1024

    def write(self, text):
        if self.interpreter.WasInterrupted():
            # Ctrl-C: the core stops at its next poll and prints what it
            # has; a stream that goes on past the bound stops here.
            self.after_interrupt += len(text)
            if self.after_interrupt > self.AFTER_INTERRUPT:
                return False
            # lldb drops an interrupted command's result: what it
            # still has goes straight to lldb's output (issue 18.2).
            if self.file is None:
                self.held.append(text)
                self.file = self.output_fd()
                text = "".join(self.held)
                self.held = []
        if self.file is None:
            self.held.append(text)
            self.size += len(text)
            if self.size < self.STREAM_AFTER:
                return True
            self.file = self.output_fd()
            text = "".join(self.held)
            self.held = []
        if self.file is False:
            self.result.Print(text)
            return True
        data = memoryview(text.encode("utf-8", "replace"))
        try:
            while data:
                data = data[os.write(self.file, data):]
        except OSError:
            return False
        return True

    def output_fd(self):
        """The descriptor of lldb's output, or False.

        Written with os.write, not SBFile.Write: lldb's Ctrl-C handler
        writes to the same stream under its lock, and holding that lock
        in a long write can deadlock the two."""
        try:
            handle = self.debugger.GetOutputFileHandle()
            handle.flush()
            return handle.fileno()
        except (AttributeError, OSError, ValueError):
            return False

    def interrupted_line(self, message):
        """After Ctrl-C lldb drops the result (its error too), printing
        only "... Interrupted.": the line saying the answer above is
        partial goes straight to lldb's output, after that answer."""
        if not self.interpreter.WasInterrupted():
            return
        if self.file is None:
            self.file = self.output_fd()
            if self.file is not False and self.held:
                self.write_fd("".join(self.held))
                self.held = []
        if self.file is not False:
            self.write_fd(message + "\n")

    def write_fd(self, text):
        data = memoryview(text.encode("utf-8", "replace"))
        try:
            while data:
                data = data[os.write(self.file, data):]
        except OSError:
            pass

    def close(self):
        if self.held:
            self.result.Print("".join(self.held))
            self.held = []



class Settings:
    """Show or set memview's defaults for every command.

Usage: mv-settings [NAME [VALUE]]

With no argument, lists the settings; with NAME, shows one; with NAME
VALUE, sets it (an empty value, '', restores the command's own default).
Each setting becomes the option of the same name of every memview command
that has one (mv-layout --max-elements, ...); the same names are `set
memview NAME VALUE` in gdb and `--NAME VALUE` in the memview program."""

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return "Show or set memview's defaults for every command."

    def get_long_help(self):
        text = self.__doc__ + "\n\nSettings:\n"
        try:
            for name in memview_core.setting_names():
                text += "  %-14s %s\n" % (name,
                                           memview_core.setting_help(name))
        except memview_core.MemviewError as e:
            text += "  " + e.message + "\n"
        return text

    def __call__(self, debugger, command, exe_ctx, result):
        try:
            words = command.split(None, 1)
            names = memview_core.setting_names()
            if len(words) == 2:
                value = words[1].strip()
                if value in ("''", '""'):
                    value = ""
                SETTINGS.set(words[0], value)
                names = [words[0]]
            elif len(words) == 1:
                memview_core.check_setting(words[0], "")
                names = [words[0]]
            for name in names:
                value = SETTINGS.get(name)
                result.Print("memview %s: %s\n" % (
                    name, memview_core.shown_setting(name, value)))
            result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
        except memview_core.MemviewError as e:
            result.SetError(e.message)
            result.SetStatus(lldb.eReturnStatusFailed)


class Broken:
    """A command that only says why memview cannot run here."""

    MESSAGE = None

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return "memview is not available: " + self.MESSAGE

    def __call__(self, debugger, command, exe_ctx, result):
        result.SetError(self.MESSAGE)
        result.SetStatus(lldb.eReturnStatusFailed)


def class_name(name):
    """A Python identifier for a command name: mv-layout -> Cmd_mv_layout."""
    return "Cmd_" + "".join(c if c.isalnum() else "_" for c in name)


def add_command(debugger, name, cls):
    """command script add, replacing a command of a previous import."""
    setattr(sys.modules[__name__], cls.__name__, cls)
    debugger.HandleCommand("command script add -o -c %s.%s %s"
                           % (__name__, cls.__name__, name))


def debugger_session():
    """memview.session() in lldb's Python: the session of the selected
    target, as its commands would use it."""
    debugger = lldb.debugger
    target = debugger.GetSelectedTarget()
    if not target.IsValid():
        raise memview_core.Error("memview: lldb has no target selected")
    exe_ctx = lldb.SBExecutionContext(target)
    frame = target.GetProcess().GetSelectedThread().GetSelectedFrame()
    if frame.IsValid():
        exe_ctx = lldb.SBExecutionContext(frame)
    session = STATE.get(debugger, exe_ctx)
    STATE.remember(exe_ctx)
    return session


def __lldb_init_module(debugger, internal_dict):
    if IMPORT_ERROR is not None:
        print(IMPORT_ERROR, file=sys.stderr)
        return
    memview_core.debugger_session = debugger_session
    try:
        names = memview_core.command_names(FRONTEND)
    except memview_core.MemviewError as e:
        # Every command still answers, with how to fix it.
        print(e.message, file=sys.stderr)
        for name in memview_core.DEBUGGER_COMMANDS:
            add_command(debugger, name, type(class_name(name), (Broken,),
                                             {"MESSAGE": e.message}))
        return
    for name in names:
        add_command(debugger, name,
                    type(class_name(name), (Command,), {"NAME": name}))
    add_command(debugger, "mv-settings", Settings)
    keep_builtin_prefixes(debugger, list(names) + ["mv-settings"])


# lldb's built-in commands whose unique prefixes users type ("mem read",
# "me read"): a name of ours sharing such a prefix would make it
# ambiguous.
BUILTINS_TYPED_SHORT = ("memory",)


def keep_builtin_prefixes(debugger, names):
    """lldb resolves a unique prefix of a command name; memview's own
    name shares "me" and "mem" with lldb's `memory`, so that `mem read`
    would say "Ambiguous command 'mem'" (issue 18.1).  An alias of
    exactly that prefix to the built-in is matched before prefixes are:
    one per shared prefix, unless the user has a command or alias of
    that name already."""
    interpreter = debugger.GetCommandInterpreter()
    for builtin in BUILTINS_TYPED_SHORT:
        shared = set()
        for name in names:
            n = 0
            while (n < len(name) and n < len(builtin)
                   and name[n] == builtin[n]):
                n += 1
            # One letter is ambiguous in lldb already ("m").
            shared.update(builtin[:k] for k in range(2, n + 1)
                          if k < len(builtin) and k < len(name))
        for prefix in sorted(shared):
            if (interpreter.CommandExists(prefix)
                    or interpreter.AliasExists(prefix)):
                continue
            debugger.HandleCommand("command alias %s %s" % (prefix, builtin))
