# HIP / ROCm: the simulated HIP runtime, the HIP test programs, and their integration tests.
#
#   build/sim/libamdhip64.so.5   tests/simgpu/hip/*.c (+ the device model and the device timeline
#                                shared with the CUDA simulator, tests/simgpu/sim_settings.c and
#                                sim_timeline.c), built with `make`
#   make hip-integration         tests/integration/hip/run.sh: every HIP allocation family capped
#                                through linked symbols, dlsym and hipGetProcAddress, under
#                                LD_PRELOAD and under LD_AUDIT; launches counted; the hook in a
#                                process with neither CUDA nor HIP and in one with both; AMD GPU
#                                detection from sysfs and rocm-smi fixtures (tests/fixtures/amd);
#                                the HIP families again inside the ASan + UBSan hook
# `make check` runs hip-integration (EXTRA_CHECKS).

SIM_HIP     := $(BUILD)/sim/libamdhip64.so.5
# The device model, timeline and trace are the CUDA simulator's own files, shared.
SIM_HIP_SRC := $(sort $(wildcard tests/simgpu/hip/*.c)) tests/simgpu/sim_settings.c tests/simgpu/sim_timeline.c \
               tests/simgpu/sim_trace.c
HIP_TEST_DIR := $(BUILD)/tests/hip
HIP_TEST_BINS := $(HIP_TEST_DIR)/prog_hip_families $(HIP_TEST_DIR)/prog_hip_direct \
                 $(HIP_TEST_DIR)/prog_hip_launch $(HIP_TEST_DIR)/prog_hip_managed $(HIP_TEST_DIR)/prog_hip_none \
                 $(HIP_TEST_DIR)/prog_hip_both $(HIP_TEST_DIR)/prog_hip_vmm_release

all: $(SIM_HIP)

# No -Bsymbolic here, unlike the simulated CUDA driver: calls between the runtime's own exported
# functions go through the PLT, as ROCm 7's were reported to (see tests/simgpu/hip/hsim.h).
$(SIM_HIP): $(call obj,$(SIM_HIP_SRC)) $(POLICY_LIB) tests/simgpu/hip/libamdhip64.map
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -shared -o $@ $(filter %.o,$^) $(filter %.a,$^) -Wl,-soname,libamdhip64.so.5 \
	    -Wl,--version-script=tests/simgpu/hip/libamdhip64.map -Wl,--no-undefined -ldl -lpthread
	@ln -sf libamdhip64.so.5 $(BUILD)/sim/libamdhip64.so

$(HIP_TEST_DIR)/prog_hip_families $(HIP_TEST_DIR)/prog_hip_direct $(HIP_TEST_DIR)/prog_hip_launch \
    $(HIP_TEST_DIR)/prog_hip_managed $(HIP_TEST_DIR)/prog_hip_vmm_release \
    $(HIP_TEST_DIR)/prog_hip_vmm_share: $(HIP_TEST_DIR)/%: \
    $(BUILD)/obj/tests/integration/hip/%.o $(SIM_HIP)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lamdhip64 -ldl

$(HIP_TEST_DIR)/prog_hip_both: $(BUILD)/obj/tests/integration/hip/prog_hip_both.o $(SIM_HIP) $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lamdhip64 -lcuda -ldl

# Linked against no vendor library on purpose.
$(HIP_TEST_DIR)/prog_hip_none: $(BUILD)/obj/tests/integration/hip/prog_hip_none.o
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -ldl

# The HIP shim also runs inside the hook built with ASan + UBSan (mk/asan-hook.mk).
.PHONY: hip-integration
hip-integration: all $(HIP_TEST_BINS) $(ITEST_BINS) $(ASAN_HOOK)
	@ASAN_HOOK=$(abspath $(ASAN_HOOK)) ASAN_RUNTIME=$(ASAN_RUNTIME) bash tests/integration/hip/run.sh

EXTRA_CHECKS += hip-integration
