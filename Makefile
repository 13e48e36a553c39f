# memview - plain Makefile, out-of-tree build in $(BUILD).
#
#   make            library, program, fixtures
#   make check      install missing packages, build, run every test
#   make demo       build a sample program, dump its core, show memview on it
#   make bench      benchmarks against the tools users use today
#   make bench-big  the same at 10 M allocations and more (bench/big_bench.py)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined check
#   V=1             show the commands

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PYTHON   ?= /usr/bin/python3
SOVERSION = 0
VERSION   = 0.1.0
# Where Debian's python3 looks for modules under PREFIX (import memview).
PYTHON_SITE ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages)

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
            -Wformat=2 -Wno-format-nonliteral
MVCFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden -Icore \
            -I/usr/include/libdwarf -MMD -MP \
            -DMV_TYPES_DIR='"$(PREFIX)/share/memview/types"'
LDLIBS_CORE := -ldl -lpthread -lm

ifneq ($(SANITIZE),)
MVCFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
BUILD    := $(BUILD)-san
endif

CORE_SRC  := $(wildcard core/*.c)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_SRC   := $(wildcard cli/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
FIX_SRC   := $(wildcard tests/fixtures/*.c)
FIX_BIN   := $(FIX_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)
# C++ fixtures (tests/fixtures/*.cc), for C++ names and libstdc++.
FIXCXX_SRC := $(wildcard tests/fixtures/*.cc)
FIXCXX_BIN := $(FIXCXX_SRC:tests/fixtures/%.cc=$(BUILD)/fixtures/%)
FIXCXX_BIN += $(BUILD)/fixtures/cxxlayout_clang # by clang, below

LIB_A   := $(BUILD)/libmemview.a
LIB_SO  := $(BUILD)/libmemview.so
PROGRAM := $(BUILD)/memview

.PHONY: all lib deps check unit integration demo bench bench-big install \
        clean docs \
        check-docs fixtures check-view man check-install
all: lib $(PROGRAM) fixtures cores

lib: $(LIB_A) $(LIB_SO)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(MVCFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libmemview.so.$(SOVERSION) $(LDFLAGS) \
	    -o $@.$(VERSION) $^ $(LDLIBS_CORE)
	$(Q)ln -sf libmemview.so.$(VERSION) $@.$(SOVERSION)
	$(Q)ln -sf libmemview.so.$(SOVERSION) $@

$(PROGRAM): $(CLI_OBJ) $(LIB_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB_A) $(LDLIBS_CORE)

# Unit tests: one cmocka program per core module, over in-memory targets
# (and the fixtures' own binaries for the DWARF tests).
$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/mv_test.h tests/unit/alloc_core.h \
		tests/unit/core_open.h $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(MVCFLAGS) $(CFLAGS) -Itests/unit \
	    -DMV_BUILD_DIR='"$(BUILD)"' -o $@ $< $(LIB_A) $(LDFLAGS) \
	    -lcmocka $(LDLIBS_CORE)

# Fixture programs: built with debug info, no optimisation, never
# sanitized (they are the target, not the tool); FIX_LIBS_name are
# the libraries one links (mimalloc's malloc instead of glibc's).
FIX_LIBS_mimalloc := -lmimalloc -lpthread
FIX_LIBS_stackvars := -lpthread
FIX_LIBS_tcmalloc := -ltcmalloc_minimal -lpthread
FIX_LIBS_jemalloc := -ljemalloc -lpthread
FIX_LIBS_heapbig_jemalloc := -ljemalloc
fixtures: $(FIX_BIN) $(FIXCXX_BIN)
$(BUILD)/fixtures/%: tests/fixtures/%.c tests/fixtures/fixture.h tests/fixtures/leakkey.h tests/fixtures/rtldclear.h tests/fixtures/allockey.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FIXTURE $@")
	$(Q)cc -std=gnu11 -g -O0 -fno-omit-frame-pointer -Itests/fixtures \
	    -o $@ $< $(if $(findstring nodebug,$*),-s,) $(FIX_LIBS_$*)
# C++ fixture programs, by g++: at -O0 unless FIXCXX_OPT_name says
# otherwise (roots_cxx is built the way C++ programs ship, at -O2).
FIXCXX_OPT_roots_cxx := -O2
FIXCXX_OPT_cxxcont_o2 := -O2
FIXCXX_OPT_cxxapp := -O2
FIX_LIBS_cxxapp := -lpthread
$(BUILD)/fixtures/cxxcont_o2: tests/fixtures/cxxcont.cc
$(BUILD)/fixtures/%: tests/fixtures/%.cc tests/fixtures/fixture.h tests/fixtures/leakkey.h tests/fixtures/rtldclear.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FIXCXX  $@")
	$(Q)g++ -std=gnu++17 -g $(or $(FIXCXX_OPT_$*),-O0 -fno-omit-frame-pointer) \
	    -Itests/fixtures -o $@ $< $(FIX_LIBS_$*)

# The C++ layout fixture again, by clang: its DWARF 5 (DW_FORM_addrx,
# DW_OP_addrx, _vptr$X) against the same answer key.
$(BUILD)/fixtures/cxxlayout_clang: tests/fixtures/cxxlayout.cc tests/fixtures/fixture.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANGXX $@")
	$(Q)clang++ -std=gnu++17 -g -O0 -fno-omit-frame-pointer \
	    -Itests/fixtures -o $@ $<

deps:
	$(Q)tools/deps.sh

unit: $(UNIT_BIN) fixtures
	$(Q)tools/run-unit.sh $(UNIT_BIN)

# The cross-front-end harness, then each command's own integration
# script (tests/integration/test_*.py); every one ends with a line
# "NAME: N passed, M failed" and exits non-zero on failure.  Every
# script runs even when an earlier one fails, so that one failure does
# not hide the others' results; the target fails if any did, and its
# last line names the scripts that failed (CI shows the log's tail).
INTEGRATION_SCRIPTS := $(sort $(wildcard tests/integration/test_*.py))
integration: all
	$(Q)st=0; bad=; \
	for t in tests/integration/run.py $(INTEGRATION_SCRIPTS); do \
	    BUILD=$(BUILD) $(PYTHON) $$t || { st=1; bad="$$bad $$t"; }; done; \
	if [ $$st != 0 ]; then echo "integration: FAILED:$$bad"; fi; exit $$st

# The whole suite (docs/testing.md), about 7 minutes on 2 cores: unit
# tests, generated docs, the three front ends, kept fuzzer inputs, the
# bad-input catalogue, install, Ctrl-C, then the unit tests again under
# ASan+UBSan.
ifeq ($(SANITIZE),)
check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BIN)
	$(Q)$(MAKE) --no-print-directory unit check-docs
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory check-regress check-badinput \
	    check-install check-ctrlc
	$(Q)$(MAKE) --no-print-directory check-san
else
# Sanitized: everything memview runs itself is built and run in
# $(BUILD) with the sanitizers.  gdb and lldb cannot load an ASan library
# ("ASan runtime does not come first"), so the tests that drive the
# debuggers run against the plain build, and say so.
check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BIN)
	$(Q)$(MAKE) --no-print-directory unit check-docs check-regress \
	    check-badinput
	@echo "check: gdb/lldb tests run against the plain build (debuggers cannot load an ASan library)"
	$(Q)$(MAKE) --no-print-directory SANITIZE= integration check-install \
	    check-ctrlc check-badinput
endif

docs/commands.md: $(PROGRAM)
	$(Q)$(PROGRAM) help --markdown > $@

docs: docs/commands.md

check-docs: $(PROGRAM)
	$(Q)$(PROGRAM) help --markdown | diff -u docs/commands.md - \
	    || { echo "docs/commands.md is stale: run 'make docs'"; exit 1; }

# The view command's checks: hex against xxd (unit), casts against
# Python's memoryview (integration).
check-view: all $(BUILD)/tests/unit/test_view
	$(Q)$(BUILD)/tests/unit/test_view
	$(Q)BUILD=$(BUILD) $(PYTHON) tests/integration/test_view_cast.py

demo: deps all
	$(Q)BUILD=$(BUILD) tools/demo.sh

bench: deps all
	$(Q)BUILD=$(BUILD) tools/bench.sh

# Big cores (bench/big_bench.py): 10 M allocations, BIG_SIZES="10 80" for
# more; gc against chap (built once from source by bench/chap.py: CHAP=
# a binary or CHAP_SRC= a checkout, else a clone of github.com/vmware/chap)
# and valgrind, sizeof-deep against gdb, path-to, referrers, checked
# against the generator's ground truth.  Not part of make check.
bench-big: deps all
	$(Q)BUILD=$(BUILD) $(PYTHON) bench/big_bench.py

# Manual pages: memview(1) and memview(7) generated from the command
# table, libmemview(3) written by hand from memview.h.
MAN_PAGES := $(BUILD)/man/memview.1 $(BUILD)/man/memview.7 man/libmemview.3

$(BUILD)/man/memview.%: $(PROGRAM)
	@mkdir -p $(dir $@)
	$(Q)$(PROGRAM) help --man $* > $@

man: $(MAN_PAGES)

INSTALL_DIRS := bin lib lib/pkgconfig include share/memview/types share/memview/python \
                share/memview/gdb share/memview/lldb share/man/man1 \
                share/man/man3 share/man/man7

install: lib $(PROGRAM) $(MAN_PAGES)
	for d in $(INSTALL_DIRS); do install -d "$(DESTDIR)$(PREFIX)/$$d" || exit 1; done
	install -m 755 $(PROGRAM) "$(DESTDIR)$(PREFIX)/bin/memview"
	install -m 644 $(LIB_A) "$(DESTDIR)$(PREFIX)/lib/"
	install -m 755 $(LIB_SO).$(VERSION) "$(DESTDIR)$(PREFIX)/lib/"
	ln -sf libmemview.so.$(VERSION) "$(DESTDIR)$(PREFIX)/lib/libmemview.so.$(SOVERSION)"
	ln -sf libmemview.so.$(SOVERSION) "$(DESTDIR)$(PREFIX)/lib/libmemview.so"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    memview.pc.in > "$(DESTDIR)$(PREFIX)/lib/pkgconfig/memview.pc"
	install -m 644 core/memview.h "$(DESTDIR)$(PREFIX)/include/"
	install -m 644 python/memview_core.py python/memview.py \
	    "$(DESTDIR)$(PREFIX)/share/memview/python/"
	$(PYTHON) -m compileall -q -d $(PREFIX)/share/memview/python \
	    "$(DESTDIR)$(PREFIX)/share/memview/python"
	install -d "$(DESTDIR)$(PYTHON_SITE)"
	install -m 644 python/memview.py "$(DESTDIR)$(PYTHON_SITE)/"
	install -m 644 gdb/memview.py "$(DESTDIR)$(PREFIX)/share/memview/gdb/"
	install -m 644 lldb/memview.py "$(DESTDIR)$(PREFIX)/share/memview/lldb/"
	install -m 644 types/*.types "$(DESTDIR)$(PREFIX)/share/memview/types/"
	install -m 644 $(BUILD)/man/memview.1 "$(DESTDIR)$(PREFIX)/share/man/man1/"
	install -m 644 man/libmemview.3 "$(DESTDIR)$(PREFIX)/share/man/man3/"
	install -m 644 $(BUILD)/man/memview.7 "$(DESTDIR)$(PREFIX)/share/man/man7/"
	@# Into the system itself (no DESTDIR): the loader's cache, so that
	@# programs linked with -lmemview find libmemview.so.0, and lldb-14's
	@# Python module where lldb looks (tools/deps.sh).
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    ldconfig; \
	    tools/deps.sh --lldb-link || true; fi

# Installs into a scratch DESTDIR and uses it as a user would: pkg-config
# compile and link, the plugins from their installed paths in gdb and
# lldb, the manual pages through man.
check-install: all
	$(Q)BUILD=$(BUILD) $(PYTHON) tests/install/run.py

clean:
	rm -rf $(BUILD) $(BUILD)-san

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# Cores of the fixtures, taken by gdb's gcore at mv_fixture_stop().
CORES := $(FIX_BIN:$(BUILD)/fixtures/%=$(BUILD)/cores/%.core) \
         $(FIXCXX_BIN:$(BUILD)/fixtures/%=$(BUILD)/cores/%.core)
cores: $(CORES)
$(BUILD)/cores/%.core: $(BUILD)/fixtures/%
	@$(if $(Q),echo "  GCORE   $@")
	$(Q)tools/make-core.sh $< $@ $(BUILD)/cores/$*.facts
.PHONY: cores

# ------------------------------------------------------------------
# Robustness (docs/bad-input.md): sanitizers, kept fuzzer inputs, the
# bad-input catalogue, and libFuzzer runs.
#
#   make check-san        unit tests built with ASan+UBSan (build-san/),
#                         over the plain build's fixtures and cores
#   make check-regress    every input under tests/regress/ through its
#                         harness, in the plain and the sanitized build
#   make check-badinput   the catalogue of bad input, in the CLI, gdb and lldb
#   make check-ctrlc      Ctrl-C stops long commands in the CLI, gdb, lldb
#   make fuzz FUZZ_SECONDS=N   each libFuzzer harness for N seconds
# ------------------------------------------------------------------
SAN_FLAGS     ?= address,undefined
FUZZ_SECONDS  ?= 60
FUZZ_BUILD    ?= build-fuzz
FUZZ_CC       ?= clang
FUZZ_CFLAGS   := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SRC      := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES    := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_BIN      := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_CORE_OBJ := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
REGRESS_OBJ   := $(FUZZ_NAMES:%=$(BUILD)/tests/regress/fuzz_%.o)
REGRESS_BIN   := $(BUILD)/tests/regress_runner
REGRESS_DIRS   = $(sort $(patsubst %/,%,$(dir $(wildcard tests/regress/*/*))))
SAN_ENV       := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: check-san check-san-run check-regress check-regress-run \
        check-badinput check-ctrlc fuzz fuzz-build fuzz-deps

check-san:
	$(Q)$(MAKE) --no-print-directory fixtures cores
	$(Q)$(MAKE) --no-print-directory SANITIZE=$(SAN_FLAGS) check-san-run

check-san-run: $(UNIT_BIN) $(REGRESS_BIN)
	$(Q)$(SAN_ENV) tools/run-unit.sh $(UNIT_BIN)
	$(Q)$(SAN_ENV) $(REGRESS_BIN) $(REGRESS_DIRS)

# The harnesses, renamed, in the normal build: one program replays them.
$(BUILD)/tests/regress/fuzz_%.o: fuzz/fuzz_%.c fuzz/fuzz.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(MVCFLAGS) $(CFLAGS) -Ifuzz -DMV_FUZZ_ENTRY=mv_fuzz_$* \
	    -c $< -o $@

$(REGRESS_BIN): tests/regress/runner.c $(REGRESS_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(MVCFLAGS) $(CFLAGS) -o $@ tests/regress/runner.c \
	    $(REGRESS_OBJ) $(LIB_A) $(LDFLAGS) $(LDLIBS_CORE)

check-regress:
	$(Q)$(MAKE) --no-print-directory fixtures cores check-regress-run

check-regress-run: $(REGRESS_BIN)
	$(Q)$(REGRESS_BIN) $(REGRESS_DIRS)

# The bad-input catalogue in the CLI (cores mapped, then read in: see
# MEMVIEW_CORE_COPY), gdb and lldb (about 50 s); in a sanitized build the
# CLI only (the debuggers cannot load an ASan library).
check-badinput: $(PROGRAM) $(LIB_SO) fixtures cores
	$(if $(SANITIZE),@echo "check-badinput: the CLI only (gdb and lldb cannot load an ASan library)")
	$(Q)BUILD=$(BUILD) $(PYTHON) tests/badinput/run.py \
	    --frontend $(if $(SANITIZE),cli --frontend cli-copied,all)

# Ctrl-C in the CLI, gdb and lldb (about a minute).
check-ctrlc: $(PROGRAM) $(LIB_SO) fixtures cores
	$(Q)BUILD=$(BUILD) $(PYTHON) tests/badinput/ctrlc.py --big

# libFuzzer: the core library and each harness built by clang with
# ASan+UBSan and coverage, in $(FUZZ_BUILD)/; fuzz/run.sh makes the seed
# corpora from the fixtures and runs each harness for FUZZ_SECONDS.
$(FUZZ_BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(MVCFLAGS) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_CORE_OBJ)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(MVCFLAGS) $(FUZZ_CFLAGS) -Ifuzz \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_CORE_OBJ) \
	    $(LDLIBS_CORE)

fuzz-build: fuzz-deps $(FUZZ_BIN)

# Not in tools/deps.sh: make check never needs clang.
fuzz-deps:
	$(Q)command -v $(FUZZ_CC) >/dev/null && \
	    test -n "$$(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" || \
	    { echo "fuzz: needs clang 14 and libFuzzer: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }

fuzz: fixtures cores fuzz-build
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) BUILD=$(BUILD) PYTHON=$(PYTHON) \
	    fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

.SECONDARY: $(FUZZ_CORE_OBJ) $(REGRESS_OBJ)
-include $(FUZZ_CORE_OBJ:.o=.d) $(REGRESS_OBJ:.o=.d)
