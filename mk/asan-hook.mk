# The hook and grey-run built with AddressSanitizer + UndefinedBehaviorSanitizer, and the
# integration programs run through them: the code that lives inside other people's processes
# gets the same scrutiny as policy/ (make unit-asan). The ASan runtime must come first in
# LD_PRELOAD, before the hook.
ASAN_HOOK := $(BUILD)/asan/lib/libgreyhook.so
ASAN_RUN := $(BUILD)/asan/bin/grey-run
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)

$(BUILD)/asan/obj/preload/%.o $(BUILD)/asan/obj/shim/%.o $(BUILD)/asan/obj/core/%.o $(BUILD)/asan/obj/vendor/%.o: EXTRA_SAN_FLAGS := -fvisibility=hidden
$(BUILD)/asan/obj/policy/%.o: EXTRA_SAN_FLAGS := -fvisibility=hidden
# dlsym and the lookup of the real one stay uninstrumented: the ASan runtime calls dlsym while it
# initializes, which reaches our exported dlsym before ASan could check anything.
$(BUILD)/asan/obj/preload/dlsym.o $(BUILD)/asan/obj/core/real.o: SAN :=

$(ASAN_HOOK): $(call asan_obj,$(HOOK_SRC)) $(POLICY_ASAN_LIB) preload/exports.map
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(SAN) -shared -o $@ $(filter %.o %.a,$^) $(HOOK_LDFLAGS)

$(ASAN_RUN): $(call asan_obj,tools/grey-run.c) $(TOOLS_ASAN_LIB) $(POLICY_ASAN_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(SAN) -o $@ $^ $(TOOL_LDLIBS)

.PHONY: integration-asan
integration-asan: all $(ASAN_HOOK) $(ASAN_RUN) $(ITEST_BINS) $(BUILD)/tests/hip/prog_hip_vmm_release
	@ASAN_RUNTIME=$(ASAN_RUNTIME) bash tests/integration/asan.sh

EXTRA_CHECKS += integration-asan
