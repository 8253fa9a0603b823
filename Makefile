# grey: build everything into build/.
#   make            libgreyhook.so, the tools and the simulated driver
#   make check      every test (unit, sanitizers, integration)
#   make demo       a simulated training job under grey-run
#   make bench      overhead figures for README
#   make install PREFIX=/usr/local
# A fresh machine needs Debian packages: every target below installs them first
# (scripts/install-deps.sh, a no-op when they are present).

CUDA_HOME ?= /usr/local/cuda
PREFIX    ?= /usr/local
CC        ?= gcc
BUILD     := build

WARN     := -Wall -Wextra -Werror
CSTD     := -std=c11 -D_GNU_SOURCE
OPT      := -O2 -g
CFLAGS_BASE := $(CSTD) $(WARN) $(OPT) -fPIC
CUDA_INC := -I$(CUDA_HOME)/include
CJSON_CFLAGS := -I/usr/include/cjson

# ---------------------------------------------------------------- sources
POLICY_SRC  := $(sort $(wildcard policy/*.c))
HOOK_SRC    := $(sort $(wildcard preload/*.c shim/*.c))
SIM_SRC     := $(sort $(wildcard tests/simgpu/*.c))
TOOL_MAINS  := $(sort $(wildcard tools/grey-*.c))
TOOL_LIB_SRC := $(filter-out $(TOOL_MAINS),$(sort $(wildcard tools/*.c)))
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

.PHONY: all deps check unit unit-asan integration demo bench install clean
# Objects are never intermediate files: keep them, so a second make rebuilds nothing.
.SECONDARY:
all: deps $(HOOK) $(TOOLS) $(SIM)

# Further parts of the build (fuzzing, stress tests, nvcc-built programs, ...) live in mk/*.mk,
# one file each. A fragment adds its own targets, and appends to EXTRA_CHECKS the targets that
# `make check` must run and to EXTRA_BENCH those that `make bench` runs.
EXTRA_CHECKS :=
EXTRA_BENCH :=
include $(sort $(wildcard mk/*.mk))

DEPS_STAMP := $(BUILD)/.deps-ok
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------- objects
# policy/ never sees a vendor header; everything else may.
$(BUILD)/obj/policy/%.o: policy/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/obj/preload/%.o $(BUILD)/obj/shim/%.o: CFLAGS_EXTRA := -fvisibility=hidden $(CUDA_INC)
$(BUILD)/obj/tests/simgpu/%.o: CFLAGS_EXTRA := $(CUDA_INC)
$(BUILD)/obj/tools/%.o: CFLAGS_EXTRA := $(CUDA_INC) $(CJSON_CFLAGS)
$(BUILD)/obj/tests/%.o: CFLAGS_EXTRA := $(CUDA_INC) $(CJSON_CFLAGS)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(CFLAGS_EXTRA) -MMD -MP -c $< -o $@

# ---------------------------------------------------------------- the hook
# Only libc, libdl, libpthread (and later libunwind) may be linked into the hook; the version
# script keeps every symbol but the intercepted API local.
$(HOOK): $(call obj,$(HOOK_SRC) $(POLICY_SRC)) preload/exports.map
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(filter %.o,$^) -Wl,--version-script=preload/exports.map \
	    -Wl,-z,now -Wl,--no-undefined -Wl,-Bsymbolic-functions -ldl -lpthread

# ---------------------------------------------------------------- simulated driver
# -Bsymbolic-functions: like the real driver, cuGetProcAddress hands out the library's own entry
# points even when a preloaded library interposes the exported names.
$(SIM): $(call obj,$(SIM_SRC) policy/size.c policy/errmsg.c)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^ -Wl,-soname,libcuda.so.1 -Wl,-Bsymbolic-functions -Wl,--no-undefined -ldl -lpthread -lrt -lmd
	ln -sf libcuda.so.1 $(BUILD)/sim/libcuda.so

# ---------------------------------------------------------------- tools
$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(call obj,$(TOOL_LIB_SRC) $(POLICY_SRC))
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lcjson -ldl -lpthread

# ---------------------------------------------------------------- tests
UNIT_LINK := $(call obj,$(POLICY_SRC) $(TOOL_LIB_SRC))
$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_LINK)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lcriterion -lcjson -ldl -lpthread

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(BUILD)/asan/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O1 -g -fPIC $(SAN) $(EXTRA_SAN_FLAGS) $(CUDA_INC) $(CJSON_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/asan/tests/unit/%: $(BUILD)/asan/obj/tests/unit/%.o $(call asan_obj,$(POLICY_SRC) $(TOOL_LIB_SRC))
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ -lcriterion -lcjson -ldl -lpthread

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(SIM)
	@mkdir -p $(@D)
	$(CC) -o $@ $< -L$(BUILD)/sim -lcuda -ldl -lpthread

STATIC_BIN := $(BUILD)/tests/integration/static_true
$(STATIC_BIN): tests/integration/static_true.c
	@mkdir -p $(@D)
	$(CC) -static -O2 -o $@ $<

$(DEMO_BIN) $(BENCH_BIN): $(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SIM)
	@mkdir -p $(@D)
	$(CC) -o $@ $< -L$(BUILD)/sim -lcuda -ldl -lpthread

unit: all $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2; done

unit-asan: all $(ASAN_BINS)
	@set -e; for t in $(ASAN_BINS); do echo "== $$t (ASan+UBSan)"; \
	    ASAN_OPTIONS=detect_leaks=1 $$t --jobs 2; done

integration: all $(ITEST_BINS) $(DEMO_BIN) $(STATIC_BIN)
	@bash tests/integration/run.sh

check: unit unit-asan integration $(EXTRA_CHECKS)
	@echo "make check: all tests passed"

demo: all $(DEMO_BIN)
	@bash scripts/demo.sh

bench: all $(BENCH_BIN) $(EXTRA_BENCH)
	@bash scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(HOOK) $(DESTDIR)$(PREFIX)/lib/libgreyhook.so
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
