"""ctypes glue between libmemview, the gdb and lldb plugins and scripts.

Both plugins import this one module, and scripts import it as `memview`
(python/memview.py, docs/python.md: Session.run, Session.object, Value).
It only loads the library, declares the C signatures, turns C errors
into Python exceptions and follows typed values through struct
mv_type; every analysis happens in the C core, so the debuggers print
exactly what the memview program prints.
"""

import json
import os
import re
import struct
import sys
import time

# The oldest Python the plugins run on (gdb and lldb embed their own).
MIN_PYTHON = (3, 6)
if sys.version_info < MIN_PYTHON:
    raise ImportError("memview needs Python %d.%d or newer in the debugger "
                      "(this one embeds %d.%d): use Debian 12's gdb or "
                      "lldb" % (MIN_PYTHON + sys.version_info[:2]))

import ctypes  # noqa: E402

LOAD_HELP = ("memview: cannot load libmemview.so.0: build it with 'make' "
             "(or install it with 'make install'), or set MEMVIEW_LIBRARY "
             "to its path")

# enum mv_error_code, in the order of MV_ERROR_CODES in memview.h.
ERR_NOMEM, ERR_INVALID, ERR_IO, ERR_FORMAT, ERR_FAULT, ERR_NOT_FOUND, \
    ERR_UNSUPPORTED, ERR_INTERRUPTED, ERR_LIMIT, ERR_SYNTAX, ERR_USAGE, \
    ERR_OTHER, ERR_FOUND = range(13)

# A front end's words for a Ctrl-C that came before the command ran
# (while the session opened the target): nothing of it was done.
INTERRUPTED_BEFORE = "interrupted before the command started"
# ... and for one that came as the command ended (in a callback, its
# output's perhaps): the answer may lack its end.
INTERRUPTED_LATE = "interrupted as the command ended: its output may " \
    "be cut short"

# The debugger commands, registered before the library is loaded (it is
# loaded on first use).  tests/integration/test_plugins.py checks this
# list against the library's command table.
DEBUGGER_COMMANDS = (
    "memview", "mv-layout", "mv-regions", "mv-find", "mv-info", "mv-heap",
    "sizeof-deep", "mv-graph", "mv-referrers", "mv-path-to", "mv-gc",
    "mv-cycles", "mv-doctor")

# enum mv_reg: x86-64 registers in the order of struct user_regs_struct.
REGISTER_NAMES = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")
NREGS = len(REGISTER_NAMES)
# memview.h's MV_OPEN_PID_CALLER_REGS: the front end gives the registers.
OPEN_PID_CALLER_REGS = 1


# The same names, as the JSON error objects spell them (docs/json.md).
CODE_NAMES = ("nomem", "invalid", "io", "format", "fault", "not_found",
              "unsupported", "interrupted", "limit", "syntax", "usage",
              "other", "found")


class Error(Exception):
    """An error reported by libmemview: one line, ready for the user.

    code is its name as the JSON error objects give it ("not_found",
    "fault", ...), message the line, address the unreadable address of a
    "fault" (else None), and partial, for an interrupted Session.run, the
    answer so far (else None)."""

    def __init__(self, message, code=ERR_OTHER, address=None):
        super().__init__(message)
        self.message = message
        self.number = code
        self.code = CODE_NAMES[code] if 0 <= code < len(CODE_NAMES) \
            else "other"
        self.address = address
        self.partial = None

    @property
    def interrupted(self):
        return self.number == ERR_INTERRUPTED


MemviewError = Error  # the name the plugins used first


EVAL_TYPE_NAME_MAX = 4096  # MV_EVAL_TYPE_NAME_MAX in memview.h


class Region(ctypes.Structure):
    """struct mv_region."""
    _fields_ = [
        ("start", ctypes.c_uint64),
        ("end", ctypes.c_uint64),
        ("perms", ctypes.c_uint32),
        ("offset", ctypes.c_uint64),
        ("path", ctypes.c_char_p),
        ("dumped", ctypes.c_uint64),
    ]


# MV_PERM_* (memview.h), by their letters in /proc/PID/maps.
PERM_BITS = {"r": 1, "w": 2, "x": 4, "p": 8}


def parse_perms(text):
    """MV_PERM_* bits of "rw-p" (the perms column of /proc/PID/maps)."""
    bits = 0
    for i, letter in enumerate("rwxp"):
        if i < len(text) and text[i] == letter:
            bits |= PERM_BITS[letter]
    return bits


class EvalResult(ctypes.Structure):
    """struct mv_eval_result."""
    _fields_ = [
        ("address", ctypes.c_uint64),
        ("value", ctypes.c_uint64),
        ("is_lvalue", ctypes.c_int32),
        ("type_name", ctypes.c_char * EVAL_TYPE_NAME_MAX),
        ("error", ctypes.c_char * 256),
    ]


# enum mv_type_kind, by the names layout's JSON "kind" uses.
TYPE_KINDS = ("unknown", "void", "int", "bool", "float", "pointer",
              "struct", "union", "class", "enum", "typedef", "array",
              "function", "qualified")
MEMBER_BASE = 1  # MV_MEMBER_BASE
MEMBER_VIRTUAL_BASE = 2  # MV_MEMBER_VIRTUAL_BASE


class Type(ctypes.Structure):
    """struct mv_type (read only; owned by the session's program)."""


class Member(ctypes.Structure):
    """struct mv_member."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("type", ctypes.POINTER(Type)),
        ("bit_position", ctypes.c_uint64),
        ("bit_size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("vbase_slot", ctypes.c_uint32),
    ]


class Enumerator(ctypes.Structure):
    """struct mv_enumerator."""
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_int64)]


Type._fields_ = [
    ("kind", ctypes.c_int),
    ("name", ctypes.c_char_p),
    ("size", ctypes.c_uint64),
    ("quals", ctypes.c_uint32),
    ("is_signed", ctypes.c_bool),
    ("is_char", ctypes.c_bool),
    ("is_complete", ctypes.c_bool),
    ("has_count", ctypes.c_bool),
    ("count", ctypes.c_uint64),
    ("nmembers", ctypes.c_size_t),
    ("members", ctypes.POINTER(Member)),
    ("nenumerators", ctypes.c_size_t),
    ("enumerators", ctypes.POINTER(Enumerator)),
    ("decl_file", ctypes.c_char_p),
    ("decl_line", ctypes.c_uint32),
    ("cu_name", ctypes.c_char_p),
    ("target_", ctypes.c_void_p),
    ("lazy_", ctypes.c_void_p),
]


class Object(ctypes.Structure):
    """struct mv_object."""
    _fields_ = [
        ("type", ctypes.POINTER(Type)),
        ("address", ctypes.c_uint64),
        ("value", ctypes.c_uint64),
        ("is_lvalue", ctypes.c_bool),
        ("bit_offset", ctypes.c_uint32),
        ("bit_size", ctypes.c_uint32),
    ]


READ_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64,
                           ctypes.c_void_p, ctypes.c_size_t)
WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_size_t)
POLL_FN = ctypes.CFUNCTYPE(ctypes.c_int)
EVAL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                           ctypes.POINTER(EvalResult))
PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p,
                               ctypes.c_uint64, ctypes.c_uint64)

_lib = None


def library_candidates():
    """Paths tried, in order, to load libmemview."""
    paths = []
    if os.environ.get("MEMVIEW_LIBRARY"):
        paths.append(os.environ["MEMVIEW_LIBRARY"])
    here = os.path.dirname(os.path.realpath(__file__))
    # In the source tree: python/ next to build/.
    paths.append(os.path.join(here, "..", "build", "libmemview.so"))
    # Installed: $PREFIX/share/memview/python -> $PREFIX/lib.
    paths.append(os.path.join(here, "..", "..", "..", "lib",
                              "libmemview.so.0"))
    paths.append("libmemview.so.0")
    return paths


def _declare(lib):
    """Declares argtypes and restype of every function used."""
    vp, cp, u64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64
    table = {
        "mv_error_destroy": (None, [vp]),
        "mv_error_code": (ctypes.c_int, [vp]),
        "mv_error_message": (cp, [vp]),
        "mv_session_create": (vp, [ctypes.POINTER(vp)]),
        "mv_session_destroy": (None, [vp]),
        "mv_session_open_core": (vp, [vp, cp, cp]),
        "mv_session_open_pid": (vp, [vp, ctypes.c_int]),
        "mv_session_open_pid_flags": (vp, [vp, ctypes.c_int,
                                           ctypes.c_uint]),
        "mv_session_open_callback": (vp, [vp, READ_FN, vp]),
        "mv_session_open_none": (vp, [vp]),
        "mv_session_add_objfile": (vp, [vp, cp, u64]),
        "mv_session_add_region": (vp, [vp, ctypes.POINTER(Region)]),
        "mv_session_add_thread": (vp, [vp, ctypes.c_int32,
                                       ctypes.POINTER(u64)]),
        "mv_session_set_output": (None, [vp, WRITE_FN, vp]),
        "mv_session_set_poll": (None, [vp, POLL_FN]),
        "mv_session_set_eval": (None, [vp, EVAL_FN, vp]),
        "mv_session_set_frontend": (None, [vp, cp]),
        "mv_session_set_pc": (None, [vp, u64]),
        "mv_session_set_terminal": (None, [vp, ctypes.c_int,
                                           ctypes.c_bool]),
        "mv_session_invalidate": (None, [vp]),
        "mv_session_run_line": (vp, [vp, cp, cp]),
        "mv_command_names": (ctypes.POINTER(cp), [cp]),
        "mv_command_help": (vp, [cp, cp]),
        "mv_free": (None, [vp]),
        "mv_command_options": (vp, [cp]),
        "mv_command_option_value": (ctypes.c_bool,
                                    [cp, cp, ctypes.POINTER(vp)]),
        "mv_command_filter_options": (vp, [cp, cp, ctypes.POINTER(vp)]),
        "mv_setting_names": (ctypes.POINTER(cp), []),
        "mv_setting_help": (cp, [cp]),
        "mv_setting_kind": (cp, [cp]),
        "mv_setting_check": (vp, [cp, cp]),
        "mv_setting_default": (vp, [cp]),
        "mv_session_set_progress": (None, [vp, PROGRESS_FN, vp]),
        "mv_target_open_core": (vp, [cp, ctypes.POINTER(vp)]),
        "mv_target_pid": (ctypes.c_int, [vp]),
        "mv_target_destroy": (None, [vp]),
        "mv_error_address": (ctypes.c_bool, [vp, ctypes.POINTER(u64)]),
        "mv_session_evaluate": (vp, [vp, cp, ctypes.POINTER(Object)]),
        "mv_session_find_type": (vp, [vp, cp,
                                      ctypes.POINTER(ctypes.POINTER(Type))]),
        "mv_session_read": (vp, [vp, u64, vp, ctypes.c_size_t]),
        "mv_session_format": (vp, [vp, ctypes.POINTER(Object),
                                   ctypes.POINTER(vp)]),
        "mv_type_target": (ctypes.POINTER(Type), [ctypes.POINTER(Type)]),
        "mv_type_strip": (ctypes.POINTER(Type), [ctypes.POINTER(Type)]),
        "mv_type_name": (ctypes.c_size_t, [ctypes.POINTER(Type), vp,
                                           ctypes.c_size_t]),
    }
    for name, (restype, argtypes) in table.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def library():
    """The loaded libmemview; MemviewError with one sentence if missing."""
    global _lib
    if _lib is None:
        broken = None
        for path in library_candidates():
            if os.sep in path and not os.path.exists(path):
                continue
            try:
                # PyDLL keeps the GIL during calls, so PyErr_CheckSignals
                # can serve as the poll function.  (gdb's libdw clashes
                # with libdwarf's names; core/dwarf.c loads libdwarf
                # itself, so nothing is needed here.)
                lib = ctypes.PyDLL(path, mode=os.RTLD_LOCAL)
            except OSError as e:
                if os.sep in path and broken is None:
                    broken = e
                continue
            try:
                _declare(lib)
            except AttributeError as e:
                raise MemviewError("memview: %s is incomplete (%s): "
                                   "rebuild it with 'make'" % (path, e))
            _lib = lib
            break
        else:
            if broken is not None:
                # It exists but does not load: say why, on one line.
                raise MemviewError("memview: cannot load %s" % broken)
            raise MemviewError(LOAD_HELP)
    return _lib


def _encode(text):
    return None if text is None else os.fsencode(text)


def _check(err):
    """Raises MemviewError for a non-NULL struct mv_error *, freeing it."""
    if not err:
        return
    lib = library()
    message = lib.mv_error_message(err)
    code = lib.mv_error_code(err)
    address = ctypes.c_uint64()
    has_address = lib.mv_error_address(err, ctypes.byref(address))
    text = message.decode("utf-8", "replace") if message else "error"
    lib.mv_error_destroy(err)
    raise Error(text, code, address.value if has_address else None)


# Ctrl-C in gdb is a KeyboardInterrupt raised in whatever Python code
# runs next.  When that is one of our ctypes callbacks (output,
# progress) it can be raised on the callback's first line, before its
# try: ctypes then printed "Exception ignored ... Traceback", the C code
# went on, and the signal was spent, so the command ran to its end.
# Such an interrupt is remembered for the next poll to find, and is not
# printed.  (Put back with PyErr_SetInterrupt, it was raised again at
# once, inside the hook, with a traceback.)
_interrupt_pending = [False]


def _rearm_interrupt():
    _interrupt_pending[0] = True


def remember_interrupt():
    """A front end caught a KeyboardInterrupt in its own code during a
    command: the command's next poll reports it."""
    _rearm_interrupt()


def _take_interrupt():
    """Whether an interrupt was remembered (and forget it)."""
    pending = _interrupt_pending[0]
    _interrupt_pending[0] = False
    return pending


def _ours(callback):
    callback._memview = True
    return callback


# The plugins import this module afresh when sourced again: the hook of
# the latest import replaces an earlier one (whose pending flag the
# latest callbacks would not see).
_previous_hook = sys.unraisablehook
while getattr(_previous_hook, "_memview", False):
    _previous_hook = getattr(_previous_hook, "_previous",
                             sys.__unraisablehook__)


def _unraisable(args):
    if issubclass(args.exc_type, KeyboardInterrupt) and \
            getattr(args.object, "_memview", False):
        _rearm_interrupt()
        return
    _previous_hook(args)


_unraisable._memview = True
_unraisable._previous = _previous_hook
sys.unraisablehook = _unraisable


def signal_poll():
    """Python's pending signals as a poll: Ctrl-C stops a command.

    A Python callable for Session.set_poll, not PyErr_CheckSignals cast
    to a POLL_FN: that left the KeyboardInterrupt set while the command
    went on to print its partial answer, so the output callbacks failed
    and the partial answer was lost (issue 18.2).  Here the exception is
    caught in the poll callback; the session remembers it."""
    def check():
        ctypes.pythonapi.PyErr_CheckSignals()  # raises KeyboardInterrupt
        return False
    return check


def command_names(frontend):
    """The command names a front end registers ("memview", "gdb", "lldb")."""
    names = library().mv_command_names(_encode(frontend))
    result = []
    i = 0
    while names and names[i] is not None:
        result.append(names[i].decode())
        i += 1
    return result


def command_help(frontend, name):
    """Help text of one command, or None; the first line is the summary."""
    lib = library()
    text = lib.mv_command_help(_encode(frontend), _encode(name))
    if not text:
        return None
    try:
        return ctypes.string_at(text).decode("utf-8", "replace")
    finally:
        lib.mv_free(text)


_options = {}


def command_options(name):
    """The long option names of a command, without dashes (cached)."""
    if name not in _options:
        lib = library()
        block = lib.mv_command_options(_encode(name))
        names = []
        if block:
            array = ctypes.cast(block, ctypes.POINTER(ctypes.c_char_p))
            i = 0
            while array[i] is not None:
                names.append(array[i].decode())
                i += 1
            lib.mv_free(block)
        _options[name] = names
    return _options[name]


def option_value(name, option):
    """(takes_value, choices) of one option of a command."""
    choices = ctypes.c_void_p()
    takes = library().mv_command_option_value(
        _encode(name), _encode(option), ctypes.byref(choices))
    result = []
    if choices:
        array = ctypes.cast(choices, ctypes.POINTER(ctypes.c_char_p))
        i = 0
        while array[i] is not None:
            result.append(array[i].decode())
            i += 1
    return bool(takes), result


def filter_options(name, defaults):
    """Of the default options line, those command name accepts."""
    if not defaults:
        return ""
    lib = library()
    line = ctypes.c_void_p()
    _check(lib.mv_command_filter_options(_encode(name), _encode(defaults),
                                         ctypes.byref(line)))
    try:
        return ctypes.string_at(line).decode("utf-8", "replace")
    finally:
        lib.mv_free(line)


def complete_options(name, token):
    """Completions of a word starting with '-': options, or choices after
    --OPTION= ."""
    if "=" in token:
        option, _, partial = token[2:].partition("=")
        takes, choices = option_value(name, option)
        return ["--%s=%s" % (option, c) for c in choices
                if c.startswith(partial)]
    return ["--" + o for o in command_options(name)
            if ("--" + o).startswith(token)]


def setting_names():
    """The settings every front end offers, by name."""
    names = library().mv_setting_names()
    result = []
    i = 0
    while names[i] is not None:
        result.append(names[i].decode())
        i += 1
    return result


def setting_help(name):
    text = library().mv_setting_help(_encode(name))
    return text.decode() if text else None


def setting_kind(name):
    """"count", "size", "bool" or "auto|on|off"."""
    text = library().mv_setting_kind(_encode(name))
    return text.decode() if text else None


def setting_default(name):
    """What the setting means when it is left empty: the commands' own
    defaults ("100000", or "1000000 (sizeof-deep, path-to), 100000
    (graph)"), or None for an unknown setting."""
    lib = library()
    text = lib.mv_setting_default(_encode(name))
    if not text:
        return None
    try:
        return ctypes.string_at(text).decode("utf-8", "replace")
    finally:
        lib.mv_free(text)


def shown_setting(name, value):
    """A setting as `show memview` prints it: its value, or what the
    empty value means."""
    if value:
        return value
    default = setting_default(name)
    return "unset: %s" % default if default else "unset: the command's default"


def check_setting(name, value):
    """MemviewError saying what is expected if value does not fit."""
    _check(library().mv_setting_check(_encode(name), _encode(value)))


class Settings:
    """The user's defaults (same names in gdb, lldb and the CLI).

    Values are strings; "" means the command's own default.  Limits and
    pointer annotation become options of the commands that have them;
    color and width are the front end's own.
    """

    FRONT_END = ("color", "width")

    def __init__(self):
        self.values = {}

    def get(self, name):
        return self.values.get(name, "")

    def set(self, name, value):
        """Checks value with the library, then keeps it."""
        value = "" if value is None else str(value).strip()
        check_setting(name, value)
        self.values[name] = value

    def defaults_line(self):
        """The options line: --NAME=VALUE, and bare flags for bools."""
        words = []
        for name, value in sorted(self.values.items()):
            if name in self.FRONT_END or not value:
                continue
            if setting_kind(name) == "bool":
                if value == "on":
                    words.append("--" + name)
            else:
                words.append("--%s=%s" % (name, value))
        return " ".join(words)

    def command_line(self, name, line):
        """line with the defaults command name accepts put first, so the
        user's own options win."""
        defaults = filter_options(name, self.defaults_line())
        return (defaults + " " + line) if defaults else line

    def terminal(self, width, color):
        """(width, color) after the color and width settings."""
        if self.get("width") not in ("", "0"):
            width = int(self.get("width"))
        if self.get("color") == "on":
            color = True
        elif self.get("color") == "off":
            color = False
        return width, color


def human(n):
    """1234567 -> '1.2M'."""
    for unit in ("", "K", "M", "G", "T"):
        if n < 1000:
            return ("%d%s" if unit == "" else "%.1f%s") % (n, unit)
        n /= 1000.0
    return "%.1fP" % n


class Progress:
    """A progress line on a terminal: after about a second, four times a
    second at most, cleared when the command ends or prints.

    write(text) puts text on the terminal (without a newline)."""

    DELAY = 1.0
    INTERVAL = 0.25

    def __init__(self, write):
        self.write = write
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, what, done, total):
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < self.DELAY or now - self.last < self.INTERVAL:
            return
        self.last = now
        rate = done / elapsed if elapsed > 0 else 0
        if total:
            text = "memview: %s/%s %s (%d%%), %s/s" % (
                human(done), human(total), what, 100 * done // total,
                human(rate))
        else:
            text = "memview: %s %s, %s/s" % (human(done), what, human(rate))
        self.write("\r\033[K" + text)
        self.shown = True

    def clear(self):
        if self.shown:
            self.write("\r\033[K")
            self.shown = False


def core_pid(path):
    """The process id recorded in a core file, or 0 if it cannot be read."""
    lib = library()
    target = ctypes.c_void_p()
    err = lib.mv_target_open_core(_encode(path), ctypes.byref(target))
    if err:
        lib.mv_error_destroy(err)
        return 0
    try:
        return lib.mv_target_pid(target)
    finally:
        lib.mv_target_destroy(target)


def _elf_program_headers(f):
    """The program header entries of the ELF64 little-endian file f
    (56 bytes each), or None if it is not one."""
    header = f.read(64)
    if len(header) < 64 or header[:4] != b"\x7fELF" or \
            header[4] != 2 or header[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", header, 32)
    phentsize, phnum = struct.unpack_from("<HH", header, 54)
    f.seek(phoff)
    table = f.read(phentsize * phnum)
    entries = [table[i * phentsize:(i + 1) * phentsize]
               for i in range(phnum)]
    return [e for e in entries if len(e) >= 56]


def elf_first_load_vaddr(path):
    """Where the ELF header of an ELF64 file sits before relocation.

    That is p_vaddr - p_offset of the first PT_LOAD, or None.  A module's
    bias is its header's load address minus this value.
    """
    try:
        with open(path, "rb") as f:
            entries = _elf_program_headers(f)
    except OSError:
        return None
    for entry in entries or []:
        p_type, = struct.unpack_from("<I", entry, 0)
        if p_type == 1:  # PT_LOAD
            offset, vaddr = struct.unpack_from("<QQ", entry, 8)
            return vaddr - offset
    return None


def elf_build_id(path):
    """The GNU build-id of an ELF64 file as lowercase hex, or None.

    From the NT_GNU_BUILD_ID note of its PT_NOTE segments: what a
    debugger reports for a module, to tell whether a local file is the
    one a remote process has mapped."""
    try:
        with open(path, "rb") as f:
            for entry in _elf_program_headers(f) or []:
                if struct.unpack_from("<I", entry, 0)[0] != 4:
                    continue  # not PT_NOTE
                offset, = struct.unpack_from("<Q", entry, 8)
                size, = struct.unpack_from("<Q", entry, 32)
                f.seek(offset)
                found = _note_build_id(f.read(min(size, 1 << 16)))
                if found is not None:
                    return found
    except (OSError, struct.error):
        return None
    return None


def _note_build_id(notes):
    """The NT_GNU_BUILD_ID descriptor in a block of ELF notes, as hex."""
    at = 0
    while at + 12 <= len(notes):
        namesz, descsz, kind = struct.unpack_from("<III", notes, at)
        name_at = at + 12
        desc_at = name_at + ((namesz + 3) & ~3)
        if desc_at + descsz > len(notes):
            return None
        if kind == 3 and notes[name_at:name_at + namesz] == b"GNU\0":
            return notes[desc_at:desc_at + descsz].hex()
        at = desc_at + ((descsz + 3) & ~3)
    return None


def elf_section_address(path, name):
    """sh_addr of the named section of an ELF64 file, or None.

    A debugger that knows where a section was loaded gets the bias as the
    difference.
    """
    try:
        with open(path, "rb") as f:
            header = f.read(64)
            if len(header) < 64 or header[:4] != b"\x7fELF" or \
                    header[4] != 2 or header[5] != 1:
                return None
            shoff, = struct.unpack_from("<Q", header, 40)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header,
                                                            58)
            if shoff == 0 or shentsize < 64 or shstrndx >= shnum:
                return None
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            entry = table[shstrndx * shentsize:]
            if len(entry) < 64:
                return None
            str_offset, str_size = struct.unpack_from("<QQ", entry, 24)
            f.seek(str_offset)
            names = f.read(str_size)
    except OSError:
        return None
    wanted = name.encode()
    for i in range(len(table) // shentsize):
        entry = table[i * shentsize:]
        name_offset, = struct.unpack_from("<I", entry, 0)
        end = names.find(b"\0", name_offset)
        if names[name_offset:end] == wanted:
            address, = struct.unpack_from("<Q", entry, 16)
            return address
    return None


class Session:
    """One libmemview session: a memory source plus hooks into a debugger.

    Every callback given to it is kept alive as long as the session.
    """

    def __init__(self):
        self._lib = library()
        handle = ctypes.c_void_p()
        _check(self._lib.mv_session_create(ctypes.byref(handle)))
        self._handle = handle
        self._callbacks = {}
        self.interrupted = False
        # Value.member's lookups, by (struct mv_type address, name), and
        # what pointer types point to: the types live as long as the
        # session.
        self._members = {}
        self._pointees = {}

    def close(self):
        """Destroys the session (also done when it is garbage-collected)."""
        if self._handle:
            self._lib.mv_session_destroy(self._handle)
            self._handle = None
        self._callbacks.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # Memory sources.

    def open_core(self, core, exe=None):
        """Reads memory from a core file; exe None: found from its notes."""
        _check(self._lib.mv_session_open_core(self._handle, _encode(core),
                                              _encode(exe)))

    def open_pid(self, pid, caller_registers=False):
        """Reads memory of a live local process through /proc/PID/mem.

        By default memview reads each thread's registers itself (it
        attaches to each thread for a moment).  caller_registers True
        (MV_OPEN_PID_CALLER_REGS): a debugger, which already traces the
        process, gives them with add_thread after this call and again
        after each invalidate()."""
        flags = OPEN_PID_CALLER_REGS if caller_registers else 0
        _check(self._lib.mv_session_open_pid_flags(self._handle, int(pid),
                                                   flags))

    def open_callback(self, read):
        """Reads memory through read(address, length) -> bytes (remote).

        read returns fewer bytes, returns None or raises when the memory
        cannot be read.
        """
        def callback(arg, address, buf, length):
            try:
                data = read(address, length)
                if data is None or len(data) != length:
                    return 0
                ctypes.memmove(buf, bytes(data), length)
                return 1
            except BaseException:
                return 0
        fn = READ_FN(callback)
        self._callbacks["read"] = fn
        _check(self._lib.mv_session_open_callback(self._handle, fn, None))

    def open_none(self):
        """No memory: types and layouts from objfiles only."""
        _check(self._lib.mv_session_open_none(self._handle))

    def add_objfile(self, path, bias):
        """Declares an objfile loaded at bias."""
        _check(self._lib.mv_session_add_objfile(
            self._handle, _encode(path), bias & 0xffffffffffffffff))

    def add_region(self, start, end, perms, offset=0, path=None):
        """Declares a mapping of a remote process (callback sessions):
        perms as MV_PERM_* bits or "rw-p", path as the target names it
        ("[heap]", a file) or None."""
        if isinstance(perms, str):
            perms = parse_perms(perms)
        region = Region(start, end, perms, offset, _encode(path), 0)
        _check(self._lib.mv_session_add_region(self._handle,
                                               ctypes.byref(region)))

    def add_thread(self, tid, regs=None):
        """Declares a thread; regs maps REGISTER_NAMES to values, or None.
        A thread given again gets the new registers (no duplicate)."""
        array = None
        if regs is not None:
            array = (ctypes.c_uint64 * NREGS)()
            for i, name in enumerate(REGISTER_NAMES):
                array[i] = regs.get(name, 0) & 0xffffffffffffffff
        _check(self._lib.mv_session_add_thread(self._handle, int(tid),
                                               array))

    # Hooks.

    def set_eval(self, evaluate):
        """Expression evaluation: evaluate(expr) -> (address, value,
        is_lvalue, type_name), raising an exception with a message on
        failure."""
        def callback(arg, expr, ret):
            result = ret.contents
            try:
                text = expr.decode("utf-8", "replace")
                address, value, is_lvalue, type_name = evaluate(text)
                result.address = address & 0xffffffffffffffff
                result.value = value & 0xffffffffffffffff
                result.is_lvalue = 1 if is_lvalue else 0
                result.type_name = \
                    type_name.encode()[:EVAL_TYPE_NAME_MAX - 1]
                return 1
            except BaseException as e:
                message = str(e) or type(e).__name__
                result.error = message.splitlines()[0].encode()[:255] \
                    if message.strip() else b"cannot evaluate"
                return 0
        fn = EVAL_FN(callback)
        self._callbacks["eval"] = fn
        self._lib.mv_session_set_eval(self._handle, fn, None)

    def set_poll(self, poll):
        """Ctrl-C check: a POLL_FN (signal_poll()) or a Python callable
        returning true when the user asked to stop."""
        if isinstance(poll, POLL_FN):
            fn = poll
        else:
            def callback():
                try:
                    # Sticky within a command, as the program's
                    # flag is: a part of the library that sees the
                    # interrupt and stops quietly (reading a heap in)
                    # leaves it for the next poll to report.
                    if self.interrupted or _take_interrupt() or poll():
                        self.interrupted = True
                        return 1
                    return 0
                except BaseException:
                    self.interrupted = True
                    return 1
            # An interrupt raised before the try is put back for the
            # next poll (_unraisable).
            fn = POLL_FN(_ours(callback))
        self._callbacks["poll"] = fn
        self._lib.mv_session_set_poll(self._handle, fn)

    def set_output(self, write):
        """Output sink: write(text); returning False stops the command."""
        def callback(arg, data, length):
            try:
                text = ctypes.string_at(data, length).decode("utf-8",
                                                             "replace")
                return 0 if write(text) is False else 1
            except BaseException:
                return 0
        fn = WRITE_FN(_ours(callback))
        self._callbacks["write"] = fn
        self._lib.mv_session_set_output(self._handle, fn, None)

    def set_progress(self, progress):
        """progress(what, done, total), or None: how far a long command
        is.  Exceptions in it are ignored."""
        if progress is None:
            self._callbacks.pop("progress", None)
            self._lib.mv_session_set_progress(self._handle,
                                              PROGRESS_FN(), None)
            return

        def callback(arg, what, done, total):
            try:
                progress(what.decode() if what else "items", done, total)
            except KeyboardInterrupt:
                _rearm_interrupt()  # for the next poll
            except BaseException:
                pass
        fn = PROGRESS_FN(_ours(callback))
        self._callbacks["progress"] = fn
        self._lib.mv_session_set_progress(self._handle, fn, None)

    def set_frontend(self, frontend):
        """"memview", "gdb" or "lldb": the command names used in help."""
        self._lib.mv_session_set_frontend(self._handle, _encode(frontend))

    def set_pc(self, pc):
        """The current PC, to prefer the compile unit in scope."""
        self._lib.mv_session_set_pc(self._handle, pc & 0xffffffffffffffff)

    def set_terminal(self, width, color):
        """Terminal width (0: not a terminal) and whether to use colour."""
        self._lib.mv_session_set_terminal(self._handle, int(width or 0),
                                          bool(color))

    def invalidate(self):
        """The process ran: drop cached memory."""
        self._lib.mv_session_invalidate(self._handle)

    def run_line(self, command, line):
        """Runs one command line; MemviewError on failure.  Interrupted
        (by the poll), it raises MemviewError "interrupted" after the
        command has written what it had (its partial answer), as the
        standalone program prints its interrupted line last."""
        self.interrupted = False
        self.interrupt_message = None
        _take_interrupt()  # one from before this command is spent
        err = self._lib.mv_session_run_line(self._handle, _encode(command),
                                            _encode(line))
        # An interrupt raised on a callback's first line, before its try,
        # is only remembered (_unraisable), and what the callback then
        # returned to the library is undefined: the library may have
        # stopped on it ("1 referrer so far (interrupted)") with no poll
        # after to report it.  It was the user's Ctrl-C all the same.
        # When the library then ended without an error, the callback may
        # have been its output: the answer's last line, lost
        # (check-ctrlc's cycles in gdb said only "interrupted").
        late = False
        if _take_interrupt():
            self.interrupted = True
            late = not err
        if self.interrupted:
            # The library's own words when it says more than that
            # ("interrupted while indexing the heap (N chunks so far)").
            # gdb raises its own KeyboardInterrupt for the same Ctrl-C
            # after any call here: the message is kept where the plugin
            # finds it, and the error freed once, whatever comes.
            message = self.interrupt_message = \
                INTERRUPTED_LATE if late else "interrupted"
            while err:
                try:
                    text = self._lib.mv_error_message(err)
                    text = text.decode("utf-8", "replace") if text else ""
                    if text.startswith("interrupted"):
                        message = self.interrupt_message = text
                    done, err = err, None
                    self._lib.mv_error_destroy(done)
                except KeyboardInterrupt:
                    continue
            raise MemviewError(message, ERR_INTERRUPTED)
        _check(err)

    # Scripts (the memview module): commands as Python objects, typed
    # values.

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _capture(self, line):
        """Runs a command line ("gc --top 3", "layout 'struct node'"),
        its output as one string."""
        command, _, rest = line.strip().partition(" ")
        if not command:
            raise Error("memview: no command given", ERR_USAGE)
        chunks = []
        previous = self._callbacks.get("write")
        self.set_output(lambda text: chunks.append(text))
        try:
            self.run_line(command, rest)
        except Error as e:
            if e.number != ERR_FOUND:  # gc --error-exitcode: an answer
                e.partial = "".join(chunks)
                raise
        finally:
            if previous is not None:
                self._callbacks["write"] = previous
                self._lib.mv_session_set_output(self._handle, previous,
                                                None)
        return "".join(chunks)

    def text(self, line):
        """The command's answer as the memview program prints it."""
        return self._capture(line)

    def run(self, line):
        """The command's --json answer as Python objects (a dict).

        Raises Error (code, message, address) when the command fails;
        an interrupted command's Error has the answer so far as its
        partial (a dict, or None)."""
        try:
            text = self._capture(line + " --json")
        except Error as e:
            e.partial = _first_json(e.partial)
            if e.partial is not None and "error" in e.partial:
                e.partial = None
            raise
        answer = _first_json(text)
        if answer is None:
            raise Error("memview: %s printed no JSON" % line.split()[0])
        return answer

    def object(self, expr):
        """The Value of a C/C++ expression ("g_table", "p->next", "(struct
        node *)0x5555555592c0"), evaluated as the commands evaluate it."""
        obj = Object()
        _check(self._lib.mv_session_evaluate(self._handle, _encode(expr),
                                             ctypes.byref(obj)))
        return Value(self, obj, expr)

    def find_type(self, name):
        """The type named name ("struct node", "int *"), a ctypes pointer
        to Type; Error "not_found" if there is none."""
        found = ctypes.POINTER(Type)()
        _check(self._lib.mv_session_find_type(self._handle, _encode(name),
                                              ctypes.byref(found)))
        return found

    def read(self, address, length):
        """length bytes of target memory at address (Error "fault" naming
        the first unreadable address)."""
        if not 0 <= length <= MAX_READ:
            raise Error("memview: reading %d bytes at once: at most %d "
                        "(read a part)" % (length, MAX_READ), ERR_LIMIT)
        buf = ctypes.create_string_buffer(length)
        _check(self._lib.mv_session_read(
            self._handle, address & 0xffffffffffffffff, buf, length))
        return buf.raw

    def _pointee(self, pointer):
        """(stripped target type, its kind) of a stripped pointer type."""
        key = ctypes.addressof(pointer.contents)
        found = self._pointees.get(key)
        if found is None:
            target = self._lib.mv_type_strip(self._lib.mv_type_target(pointer))
            found = self._pointees[key] = (target, _kind(target))
        return found

    def _format(self, obj):
        text = ctypes.c_void_p()
        _check(self._lib.mv_session_format(self._handle, ctypes.byref(obj),
                                           ctypes.byref(text)))
        try:
            return ctypes.string_at(text).decode("utf-8", "replace")
        finally:
            self._lib.mv_free(text)


# Value.expression past this length names the object by its address.
MAX_EXPRESSION = 200
# The most bytes(value) or Session.read takes at once: a hostile type's
# size must not become an allocation of that size.
MAX_READ = 1 << 30


def _first_json(text):
    """The first JSON object in text (a command's answer), or None."""
    if not text:
        return None
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, start)[0]
    except ValueError:
        return None


def type_name(t):
    """The C spelling of a Type pointer ("struct node *")."""
    lib = library()
    size = lib.mv_type_name(t, None, 0) + 1
    buf = ctypes.create_string_buffer(size)
    lib.mv_type_name(t, buf, size)
    return buf.value.decode("utf-8", "surrogateescape")


def _kind(t):
    kind = t.contents.kind
    return TYPE_KINDS[kind] if 0 <= kind < len(TYPE_KINDS) else "unknown"


def _find_member(t, name):
    """(bit position, Member) of the member called name in struct, union
    or class t, looking into anonymous members and base classes (an
    explicit stack, bounded: types come from the target's DWARF), or
    None."""
    lib = library()
    stack = [(lib.mv_type_strip(t), 0)]
    seen = 0
    while stack and seen < 4096:
        t, base = stack.pop(0)
        seen += 1
        for i in range(t.contents.nmembers):
            m = t.contents.members[i]
            if m.name is not None and m.name.decode() == name:
                return base + m.bit_position, m
            inner = lib.mv_type_strip(m.type)
            if (m.name is None or m.flags & MEMBER_BASE) and \
                    _kind(inner) in ("struct", "union", "class") and \
                    not m.flags & MEMBER_VIRTUAL_BASE:
                stack.append((inner, base + m.bit_position))
    return None


class Value:
    """A typed object of the target, in the spirit of drgn's Object.

    address (None for a value that is not in memory), type (its C
    spelling), kind ("int", "pointer", "struct", ...) and size.
    v.member("next") or v.next, v[3], v.deref(), v.cast("long"); int(v),
    float(v), bytes(v), str(v) (as gdb prints it), v.string() (a C
    string).  Member access through a pointer dereferences it first, as
    drgn's does."""

    def __init__(self, session, obj, expr):
        self._session = session
        self._obj = obj
        self._expr = expr
        self._lib = session._lib
        self._kind = None
        self._strip = None

    # What it is.

    @property
    def address(self):
        return self._obj.address if self._obj.is_lvalue else None

    @property
    def type(self):
        return type_name(self._obj.type)

    @property
    def kind(self):
        if self._kind is None:
            self._kind = _kind(self._stripped())
        return self._kind

    @property
    def size(self):
        return self._stripped().contents.size

    @property
    def expression(self):
        """How this value was reached, in C ("g_table->buckets[3]")."""
        return self._expr

    def _stripped(self):
        if self._strip is None:
            self._strip = self._lib.mv_type_strip(self._obj.type)
        return self._strip

    def _derived(self, t, address, expr, bit_offset=0, bit_size=0):
        obj = Object(t, address & 0xffffffffffffffff, 0, True,
                     bit_offset, bit_size)
        if len(expr) > MAX_EXPRESSION:
            # A walk down a long list: the chain would grow with every
            # step (and cost as much).  The object by its address.
            name = type_name(t)
            pointer = name + ("*" if name.endswith("*") else " *")
            expr = "*(%s)0x%x" % (pointer, address) if "[" not in name and \
                "(" not in name else "<%s at 0x%x>" % (name, address)
        return Value(self._session, obj, expr)

    # Navigation.

    def member(self, name):
        """The member called name (of the struct a pointer points to,
        for a pointer)."""
        if self.kind == "pointer":
            t, kind = self._session._pointee(self._stripped())
            if kind == "void":
                raise Error("memview: cannot dereference a void pointer "
                            "(cast it first)", ERR_INVALID)
            address, arrow = int(self), "->"
        else:
            t, kind = self._stripped(), self.kind
            address, arrow = self.address, "."
        if kind not in ("struct", "union", "class"):
            raise Error("memview: %s is not a struct, union or class" %
                        type_name(t), ERR_INVALID)
        if address is None:
            raise Error("memview: %s is not in memory" % self._expr,
                        ERR_INVALID)
        key = (ctypes.addressof(t.contents), name)
        found = self._session._members.get(key)
        if found is None:
            found = _find_member(t, name)
            if found is not None:
                self._session._members[key] = found
        if found is None:
            raise Error("memview: %s has no member named '%s'" %
                        (type_name(t), name), ERR_NOT_FOUND)
        bits, m = found
        expr = "%s%s%s" % (_wrap(self._expr), arrow, name)
        if m.bit_size:
            return self._derived(m.type, address + bits // 8,
                                 expr, bits % 8, m.bit_size)
        return self._derived(m.type, address + bits // 8, expr)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.member(name)
        except Error as e:
            raise AttributeError(e.message) from None

    def deref(self):
        """The object a pointer points to (*p)."""
        t = self._stripped()
        if _kind(t) != "pointer":
            raise Error("memview: %s is not a pointer" % self.type,
                        ERR_INVALID)
        target = self._lib.mv_type_target(t)
        if _kind(self._lib.mv_type_strip(target)) == "void":
            raise Error("memview: cannot dereference a void pointer "
                        "(cast it first)", ERR_INVALID)
        return self._derived(target, int(self), "*" + _wrap(self._expr))

    def __getitem__(self, index):
        """Element index of an array, or p[index] of a pointer."""
        index = int(index)
        t = self._stripped()
        kind = _kind(t)
        if kind == "array":
            if self.address is None:
                raise Error("memview: %s is not in memory" % self._expr,
                            ERR_INVALID)
            if t.contents.has_count and not 0 <= index < t.contents.count:
                raise IndexError("memview: index %d out of %s" %
                                 (index, self.type))
            base = self.address
        elif kind == "pointer":
            base = int(self)
        else:
            raise Error("memview: %s cannot be indexed" % self.type,
                        ERR_INVALID)
        element = self._lib.mv_type_target(t)
        size = self._lib.mv_type_strip(element).contents.size
        if kind == "pointer" and size == 0:
            raise Error("memview: cannot index a pointer to %s" %
                        type_name(element), ERR_INVALID)
        return self._derived(element, base + index * size,
                             "%s[%d]" % (_wrap(self._expr), index))

    def __iter__(self):
        """The elements of an array of known length."""
        for i in range(len(self)):
            yield self[i]

    def __len__(self):
        t = self._stripped()
        if _kind(t) != "array" or not t.contents.has_count:
            raise TypeError("memview: %s has no length" % self.type)
        return t.contents.count

    def cast(self, type_name_):
        """The same memory as another type ("long", "struct node *"): a
        pointer or integer converts by value, an object in memory is
        reinterpreted in place."""
        t = self._session.find_type(type_name_)
        expr = "(%s)%s" % (type_name_, _wrap(self._expr))
        if _kind(self._lib.mv_type_strip(t)) in ("pointer", "int") and \
                self.kind in ("pointer", "int", "enum", "bool"):
            obj = Object(t, 0, int(self) & 0xffffffffffffffff, False, 0, 0)
            return Value(self._session, obj, expr)
        if self.address is None:
            raise Error("memview: %s is not in memory" % self._expr,
                        ERR_INVALID)
        return self._derived(t, self.address, expr)

    # Contents.

    def __bytes__(self):
        if self._obj.bit_size:  # a bitfield: its value, in its type
            value = int(self) & ((1 << (8 * self.size)) - 1)
            return value.to_bytes(self.size, "little")
        if self.address is None:
            size = self.size or 8
            return (self._obj.value & ((1 << (8 * size)) - 1)).to_bytes(
                size, "little")
        return self._session.read(self.address, self.size)

    def __int__(self):
        kind = self.kind
        if kind not in ("int", "bool", "enum", "pointer"):
            raise TypeError("memview: %s is not an integer or pointer" %
                            self.type)
        t = self._stripped()
        signed = kind in ("int", "enum") and t.contents.is_signed
        if self._obj.bit_size:
            bits = self._obj.bit_size
            length = (self._obj.bit_offset + bits + 7) // 8
            word = int.from_bytes(self._session.read(self.address, length),
                                  "little")
            value = (word >> self._obj.bit_offset) & ((1 << bits) - 1)
            if signed and value >> (bits - 1):
                value -= 1 << bits
            return value
        return int.from_bytes(bytes(self), "little", signed=signed)

    __index__ = __int__

    def __float__(self):
        if self.kind != "float":
            return float(int(self))
        data = bytes(self)
        if len(data) == 4:
            return struct.unpack("<f", data)[0]
        if len(data) == 8:
            return struct.unpack("<d", data)[0]
        raise TypeError("memview: cannot convert %s to float" % self.type)

    def __bool__(self):
        if self.kind in ("int", "bool", "enum", "pointer"):
            return int(self) != 0
        return True

    def __eq__(self, other):
        if isinstance(other, Value):
            return (self.address, self.type, bytes(self)) == \
                (other.address, other.type, bytes(other))
        if isinstance(other, (int, float)):
            return (float(self) if self.kind == "float"
                    else int(self)) == other
        return NotImplemented

    __hash__ = None

    def __str__(self):
        """As gdb's print shows it: a pointer with its type in front,
        unless it points to characters (then the string follows)."""
        text = self._session._format(self._obj)
        t = self._stripped()
        if _kind(t) == "pointer":
            target = self._lib.mv_type_strip(self._lib.mv_type_target(t))
            if not (_kind(target) == "int" and target.contents.is_char and
                    target.contents.size == 1):
                text = "(%s) %s" % (self.type, text)
        return text

    def __repr__(self):
        where = "address=0x%x" % self.address if self.address is not None \
            else "value=0x%x" % self._obj.value
        return "Value(%r, %s)" % (self.type, where)

    def string(self, limit=1 << 16):
        """The C string in a char array or at a char pointer, up to its
        NUL (at most limit bytes), as bytes decoded with
        surrogateescape."""
        kind = self.kind
        if kind == "pointer":
            address = int(self)
        elif kind == "array" and self.address is not None:
            address = self.address
            limit = min(limit, self.size) if self.size else limit
        else:
            raise TypeError("memview: %s is not a string" % self.type)
        data = b""
        while len(data) < limit:
            want = min(256 - (address + len(data)) % 256,
                       limit - len(data))
            chunk = self._session.read(address + len(data), want)
            end = chunk.find(b"\0")
            if end >= 0:
                return (data + chunk[:end]).decode("utf-8",
                                                   "surrogateescape")
            data += chunk
        return data.decode("utf-8", "surrogateescape")


# A name with members and indices: needs no parentheses before -> or [.
POSTFIX_CHAIN = re.compile(r"[A-Za-z_:][\w:]*(?:(?:\.|->)\w+|\[-?\d+\])*")


def _wrap(expr):
    """expr parenthesized unless it is a plain name or postfix chain."""
    return expr if POSTFIX_CHAIN.fullmatch(expr) else "(%s)" % expr


# The plugin's session for the program the debugger has open (set by
# gdb/memview.py and lldb/memview.py), for session().
debugger_session = None


def session():
    """Inside gdb or lldb with the plugin loaded: the session of the
    program the debugger has open, evaluating with the debugger's own
    expressions (locals, casts, C++)."""
    if debugger_session is None:
        raise Error("memview: no debugger session here: load the plugin "
                    "in gdb or lldb, or use open_core() or attach()",
                    ERR_INVALID)
    return debugger_session()


def open_core(core, exe=None):
    """A Session on a core dump (exe None: named by the core's notes).
    Ctrl-C stops a long command (Error "interrupted")."""
    s = Session()
    try:
        s.open_core(core, exe)
    except Error:
        s.close()
        raise
    s.set_poll(signal_poll())
    return s


def attach(pid):
    """A Session on a live local process, read through /proc/PID/mem
    (memview attaches to each thread for a moment to read its registers:
    the process must not be traced by a debugger)."""
    s = Session()
    try:
        s.open_pid(pid)
    except Error:
        s.close()
        raise
    s.set_poll(signal_poll())
    return s


# memview's own evaluator first: an evaluate() raising this is asked
# again with the same expression when memview cannot (MV_EVAL_USE_OWN).
USE_OWN = "memview: use own evaluator"
# A name in an expression, C++ qualified (not a member after . or ->).
NAME = re.compile(r"(?<![\w.>])(::)?[A-Za-z_]\w*(::[A-Za-z_]\w*)*")
KEYWORDS = ("true", "false", "nullptr", "NULL", "sizeof", "struct", "union",
            "enum", "const", "unsigned", "signed", "int", "char", "long",
            "short", "void", "float", "double")


MAX_NESTING = 256  # MAX_EXPR_DEPTH in core/expr.c: the program's bound


def refused_text(command):
    """Why the command text must not reach the debugger's parser, in one
    line, or None: text that is not UTF-8 (lldb 14 crashes on it), or
    nesting deeper than the program takes (a 100,000 deep `*` overflows
    the stack of lldb's expression parser; gdb's runs out of memory).
    Bounded: one pass over the text."""
    try:
        command.encode("utf-8")
    except UnicodeError:
        return "memview: the command text is not valid UTF-8"
    if "\ufffd" in command:
        return "memview: the command text is not valid UTF-8"
    depth = run = 0
    for ch in command:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        if ch in "*&!~-+(":
            run += 1
        elif not ch.isspace():
            run = 0
        if depth > MAX_NESTING or run > MAX_NESTING:
            return "memview: expression nested more than %d deep" % \
                MAX_NESTING
    return None


def help_request(frontend, name, line):
    """The command's help text if line asks for it (--help or -h), else None.

    Help needs no target: it must work before a core or process is
    open, and when opening one fails."""
    words = line.split()
    if "--help" in words or "-h" in words:
        return command_help(frontend, name) or ""
    return None
