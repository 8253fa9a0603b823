# The simulated NVML, build/sim/libnvidia-ml.so.1, beside the simulated driver.
SIM_NVML := $(BUILD)/sim/libnvidia-ml.so.1
SIM_NVML_SRC := $(sort $(wildcard tests/simgpu/nvml/*.c))

all: $(SIM_NVML)
$(SIM_NVML): $(call obj,$(SIM_NVML_SRC)) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -shared -fvisibility=hidden -o $@ $(filter %.o,$^) $(filter %.a,$^) -Wl,-soname,libnvidia-ml.so.1 -Wl,--no-undefined
	@ln -sf libnvidia-ml.so.1 $(BUILD)/sim/libnvidia-ml.so
