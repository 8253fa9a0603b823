# grey: build everything into build/.
#   make            libgreyhook.so, the tools and the simulated drivers
#   make check      every test (unit, sanitizers, integration)
#   make demo       grey's story in a minute on the simulated GPU (scripts/demo.sh)
#   make bench      overhead figures (docs/NUMBERS.md)
#   make install PREFIX=/usr/local [DESTDIR=...]   (mk/install.mk; make uninstall undoes it)
# A fresh machine needs Debian packages: every target below installs them first
# (scripts/install-deps.sh, a no-op when they are present).
#
# Layers (docs/DESIGN.md): preload/ -> shim/ -> core/ -> policy/, tools/ -> policy/. policy/ and
# tools/ are built as static libraries (with sanitizer and fuzzing variants), so every program
# takes only the objects it uses; `make layers` (part of `make`) fails on an include that goes
# upward or a vendor header outside the shims.
#
# CFLAGS, CPPFLAGS and LDFLAGS from the command line or the environment are added after grey's own
# (a distribution's hardening flags apply); WERROR= builds without -Werror. Commands are shown as
# one short line each ("  CC file"); V=1 shows them whole.

CUDA_HOME ?= /usr/local/cuda
PREFIX    ?= /usr/local
CC        ?= gcc
NVCC      ?= $(CUDA_HOME)/bin/nvcc
BUILD     := build

WERROR   ?= -Werror
WARN     := -Wall -Wextra $(WERROR)
# The one place the version is kept: VERSION (debian/changelog must agree; mk/deb.mk checks).
VERSION  := $(shell cat VERSION)
CSTD     := -std=c11 -D_GNU_SOURCE -DGREY_VERSION='"$(VERSION)"'
OPT      := -O2 -g
INCLUDES := -iquote .
CFLAGS_BASE := $(CSTD) $(WARN) $(OPT) -fPIC $(INCLUDES)
CUDA_INC := -I$(CUDA_HOME)/include
CJSON_CFLAGS := -I/usr/include/cjson
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

V ?= 0
ifeq ($(V),1)
q :=
else
q = @printf '  %-5s %s\n' '$(1)' '$@';
endif

# ---------------------------------------------------------------- sources
POLICY_SRC  := $(sort $(wildcard policy/*.c))
CORE_SRC    := $(sort $(wildcard core/*.c))
VENDOR_SRC  := $(sort $(wildcard vendor/*.c))
HOOK_SRC    := $(sort $(wildcard preload/*.c shim/*.c)) $(CORE_SRC) $(VENDOR_SRC)
SIM_SRC     := $(sort $(wildcard tests/simgpu/*.c))
TOOL_MAINS  := $(sort $(wildcard tools/grey-*.c))
TOOL_LIB_SRC := $(filter-out $(TOOL_MAINS),$(sort $(wildcard tools/*.c))) $(VENDOR_SRC)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
ITEST_SRC   := $(sort $(wildcard tests/integration/prog_*.c))

TOOLS       := $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_MAINS))
HOOK        := $(BUILD)/lib/libgreyhook.so
SIM         := $(BUILD)/sim/libcuda.so.1
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
ASAN_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/unit/%,$(UNIT_SRC))
ITEST_BINS  := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(ITEST_SRC))
DEMO_BIN    := $(BUILD)/tests/demo/train
BENCH_BIN   := $(BUILD)/tests/bench/bench_hook

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
asan_obj = $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(1))

# The libraries: policy/ (pure, no vendor header) and the tools' shared code, each in a plain
# (-fPIC, hidden), an ASan+UBSan, a ThreadSanitizer and a libFuzzer variant; and the hook's core
# and shims (not preload/: its dlsym and constructors would take over a test program) as an
# archive, for unit tests that drive them without a driver.
POLICY_LIB       := $(BUILD)/lib/libgreypolicy.a
TOOLS_LIB        := $(BUILD)/lib/libgreytools.a
POLICY_ASAN_LIB  := $(BUILD)/asan/lib/libgreypolicy.a
TOOLS_ASAN_LIB   := $(BUILD)/asan/lib/libgreytools.a
HOOK_CORE_LIB    := $(BUILD)/lib/libgreyhookcore.a
HOOK_CORE_ASAN_LIB := $(BUILD)/asan/lib/libgreyhookcore.a
POLICY_TSAN_LIB  := $(BUILD)/tsan/lib/libgreypolicy.a
POLICY_FUZZ_LIB  := $(BUILD)/fuzz/lib/libgreypolicy.a
TOOLS_FUZZ_LIB   := $(BUILD)/fuzz/lib/libgreytools.a

.PHONY: all deps layers check unit unit-asan integration demo bench install uninstall clean
# Objects are never intermediate files: keep them, so a second make rebuilds nothing.
.SECONDARY:
all: deps layers $(HOOK) $(TOOLS) $(SIM)

# Further parts of the build (fuzzing, stress tests, nvcc-built programs, ...) live in mk/*.mk,
# one file each. A fragment adds its own targets, and appends to EXTRA_CHECKS the targets that
# `make check` must run and to EXTRA_BENCH those that `make bench` runs.
EXTRA_CHECKS :=
EXTRA_BENCH :=
include $(sort $(wildcard mk/*.mk))

DEPS_STAMP := $(BUILD)/.deps-ok
deps: $(DEPS_STAMP)
# NO_DEPS=1 (a package build: Build-Depends already holds what is needed) never calls apt-get.
$(DEPS_STAMP): scripts/install-deps.sh
	@$(if $(filter 1,$(NO_DEPS)),true,bash scripts/install-deps.sh)
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------- layers
LAYER_STAMP := $(BUILD)/.layers-ok
layers: $(LAYER_STAMP)
$(LAYER_STAMP): scripts/check-layers.sh $(sort $(wildcard policy/*.[ch] core/*.[ch] shim/*.[ch] preload/*.[ch] tools/*.[ch] slurm/*.[ch] vendor/*.h))
	@bash scripts/check-layers.sh
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------- objects
# policy/ and core/ never see a vendor header; the shims do.
$(BUILD)/obj/policy/%.o $(BUILD)/obj/core/%.o $(BUILD)/obj/vendor/%.o: CFLAGS_EXTRA := -fvisibility=hidden
$(BUILD)/obj/preload/%.o $(BUILD)/obj/shim/%.o: CFLAGS_EXTRA := -fvisibility=hidden $(CUDA_INC)
$(BUILD)/obj/tests/simgpu/%.o: CFLAGS_EXTRA := $(CUDA_INC)
$(BUILD)/obj/tools/%.o: CFLAGS_EXTRA := $(CUDA_INC) $(CJSON_CFLAGS)
$(BUILD)/obj/tests/%.o: CFLAGS_EXTRA := $(CUDA_INC) $(CJSON_CFLAGS)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(CFLAGS_BASE) $(CFLAGS_EXTRA) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(CSTD) $(WARN) -O1 -g -fPIC $(INCLUDES) $(SAN) $(EXTRA_SAN_FLAGS) $(CUDA_INC) $(CJSON_CFLAGS) -MMD -MP -c $< -o $@

# A new VERSION rebuilds the one object that prints it, in every variant.
$(BUILD)/obj/tools/cli_version.o $(BUILD)/asan/obj/tools/cli_version.o $(BUILD)/fuzz/obj/tools/cli_version.o: VERSION

$(POLICY_LIB): $(call obj,$(POLICY_SRC))
$(TOOLS_LIB): $(call obj,$(TOOL_LIB_SRC))
$(POLICY_ASAN_LIB): $(call asan_obj,$(POLICY_SRC))
$(TOOLS_ASAN_LIB): $(call asan_obj,$(TOOL_LIB_SRC))
SHIM_CORE_SRC := $(sort $(wildcard shim/*.c)) $(CORE_SRC) $(VENDOR_SRC)
$(HOOK_CORE_LIB): $(call obj,$(SHIM_CORE_SRC))
$(HOOK_CORE_ASAN_LIB): $(call asan_obj,$(SHIM_CORE_SRC))
$(POLICY_LIB) $(TOOLS_LIB) $(POLICY_ASAN_LIB) $(TOOLS_ASAN_LIB) $(HOOK_CORE_LIB) $(HOOK_CORE_ASAN_LIB):
	@mkdir -p $(@D)
	@rm -f $@
	$(call q,AR)ar rcs $@ $^

# Whole-program variants built with clang: every object of a ThreadSanitizer or libFuzzer program
# must be instrumented alike.
TSAN_FLAGS := $(CSTD) $(WARN) -O1 -g $(INCLUDES) $(CUDA_INC) $(CJSON_CFLAGS) -fsanitize=thread
FUZZ_FLAGS := $(CSTD) $(WARN) -g -O1 $(INCLUDES) $(CUDA_INC) $(CJSON_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined
FUZZ_LINK := clang -fsanitize=fuzzer,address,undefined
$(BUILD)/tsan/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call q,CLANG)clang $(TSAN_FLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call q,CLANG)clang $(FUZZ_FLAGS) -MMD -MP -c $< -o $@
$(POLICY_TSAN_LIB): $(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(POLICY_SRC))
$(POLICY_FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(POLICY_SRC))
$(TOOLS_FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(TOOL_LIB_SRC))
$(POLICY_TSAN_LIB) $(POLICY_FUZZ_LIB) $(TOOLS_FUZZ_LIB):
	@mkdir -p $(@D)
	@rm -f $@
	$(call q,AR)ar rcs $@ $^

# ---------------------------------------------------------------- the hook
# Only libc, libdl and libpthread may be linked into the hook (libunwind is dlopen'ed); the
# version script keeps every symbol but the intercepted API local.
HOOK_LDFLAGS := -Wl,--version-script=preload/exports.map -Wl,-z,now -Wl,-Bsymbolic-functions -ldl -lpthread
$(HOOK): $(call obj,$(HOOK_SRC)) $(POLICY_LIB) preload/exports.map
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -shared -o $@ $(filter %.o %.a,$^) $(LDFLAGS) -Wl,--no-undefined $(HOOK_LDFLAGS)

# ---------------------------------------------------------------- simulated driver
# -Bsymbolic-functions: like the real driver, cuGetProcAddress hands out the library's own entry
# points even when a preloaded library interposes the exported names.
$(SIM): $(call obj,$(SIM_SRC)) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -shared -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDFLAGS) -Wl,-soname,libcuda.so.1 -Wl,-Bsymbolic-functions -Wl,--no-undefined -ldl -lpthread -lrt -lmd
	@ln -sf libcuda.so.1 $(BUILD)/sim/libcuda.so

# ---------------------------------------------------------------- tools
# The tools' libraries (never the hook's; a tool's own are added per program by its mk/*.mk,
# grey-top's ncurses): elfutils' libdw names call sites in-process
# (tools/symbolize.c); libmicrohttpd serves grey-exporter's HTTP (tools/exporter_http.c).
TOOL_LDLIBS := -lcjson -ldw -lelf -ldl -lpthread
$(BUILD)/bin/grey-exporter: TOOL_LDLIBS += -lmicrohttpd
$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(TOOLS_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ $(LDFLAGS) $(TOOL_LDLIBS)

# ---------------------------------------------------------------- tests
$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(HOOK_CORE_LIB) $(TOOLS_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ -lcriterion $(TOOL_LDLIBS)

$(BUILD)/asan/tests/unit/%: $(BUILD)/asan/obj/tests/unit/%.o $(HOOK_CORE_ASAN_LIB) $(TOOLS_ASAN_LIB) $(POLICY_ASAN_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(SAN) -o $@ $^ -lcriterion $(TOOL_LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lcuda -ldl -lpthread

STATIC_BIN := $(BUILD)/tests/integration/static_true
$(STATIC_BIN): tests/integration/static_true.c
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -static -O2 -o $@ $<

$(DEMO_BIN) $(BENCH_BIN): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< $(LDFLAGS) -L$(BUILD)/sim -lcuda -ldl -lpthread

unit: all $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2; done

unit-asan: all $(ASAN_BINS)
	@set -e; for t in $(ASAN_BINS); do echo "== $$t (ASan+UBSan)"; \
	    ASAN_OPTIONS=detect_leaks=1 $$t --jobs 2; done

integration: all $(ITEST_BINS) $(DEMO_BIN) $(STATIC_BIN)
	@bash tests/integration/run.sh

# Run it without -j: several suites measure time (fair share, stress), and two of them at once on
# two cores measure each other.
check: unit unit-asan integration $(EXTRA_CHECKS)
	@echo "make check: all tests passed"

# The build step prints nothing but errors (stderr), so the demo's first line is its story.
demo:
	@$(MAKE) --no-print-directory -s all $(DEMO_BIN) $(TOP_LOAD) >/dev/null
	@bash scripts/demo.sh

bench: all $(BENCH_BIN) $(EXTRA_BENCH)
	@bash scripts/bench.sh

# install and uninstall: mk/install.mk.

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
