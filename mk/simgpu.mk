# The simulated node: the parts the three simulators share, and the simulator's own tests.
#
# build/sim/libcuda.so.1 (the main Makefile), libamdhip64.so.5 (mk/hip.mk) and libnvidia-ml.so.1
# (mk/nvml.mk) describe one node: the GREY_SIM_* settings (tests/simgpu/sim_settings.c), the
# physical GPUs' identities (sim_node.c), the shared state file with the device timelines and the
# machine-wide memory per process and of shared VMM allocations (sim_state.c, sim_usage.c,
# sim_shared.c), the time-slice scheduler
# (sim_sched*.c, GREY_SIM_SCHED=timeslice), and, for the two runtimes, the
# visibility rules (sim_visible_*.c). The CUDA driver already links every tests/simgpu/*.c; the
# lines below add what the other two need as extra prerequisites of their targets (make links
# every prerequisite object, $^, whichever rule names it). docs/simgpu.md describes the model.

SIM_NODE_SHARED := tests/simgpu/sim_settings.c tests/simgpu/sim_node.c tests/simgpu/sim_state.c \
                   tests/simgpu/sim_usage.c tests/simgpu/sim_shared.c tests/simgpu/sim_trace.c

# (policy/'s library, which every simulator links, brings the process liveness checks.)
$(SIM_HIP): $(call obj,tests/simgpu/sim_node.c tests/simgpu/sim_state.c tests/simgpu/sim_usage.c \
                       tests/simgpu/sim_shared.c tests/simgpu/sim_vmm_fd.c \
                       tests/simgpu/sim_visible_rocm.c tests/simgpu/sim_visible_list.c \
                       tests/simgpu/sim_sched.c tests/simgpu/sim_sched_model.c tests/simgpu/sim_sched_mode.c)
$(SIM_NVML): $(call obj,$(SIM_NODE_SHARED))

# ---------------------------------------------------------------- the simulator's own tests
#   make sim-node-tests   tests/simgpu/check/node_tests.sh: a simulated 4-GPU node seen through
#                         CUDA_VISIBLE_DEVICES (indices, UUIDs and prefixes, invalid and repeated
#                         entries, empty), CUDA_DEVICE_ORDER, MIG, the HIP twins (ROCR_ and
#                         HIP_VISIBLE_DEVICES), NVML's physical list, VRAM shared across processes
#                         and APIs, NVML's per-process list before and after a SIGKILL, device
#                         timelines per physical GPU, and the real CUDA runtime (node_rt.cu) on
#                         subsets and reorderings of the node
# `make check` runs it (EXTRA_CHECKS).

NODE_PROBE     := $(BUILD)/tests/simgpu/node_probe
NODE_PROBE_SRC := $(sort $(wildcard tests/simgpu/check/*.c))
NODE_RT        := $(BUILD)/tests/cuda/node_rt

$(NODE_PROBE): $(call obj,$(NODE_PROBE_SRC)) $(SIM) $(SIM_HIP) $(SIM_NVML)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $(call obj,$(NODE_PROBE_SRC)) -L$(BUILD)/sim -lcuda -lamdhip64 -ldl

$(NODE_RT): tests/simgpu/check/node_rt.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $<

.PHONY: sim-node-tests
sim-node-tests: all $(NODE_PROBE) $(NODE_RT)
	@CUDA_HOME="$(CUDA_HOME)" bash tests/simgpu/check/node_tests.sh $(NODE_PROBE) $(NODE_RT)

EXTRA_CHECKS += sim-node-tests

#   make sim-sched-tests  tests/simgpu/sched/sched_tests.sh: GREY_SIM_SCHED=timeslice against the
#                         FIFO default with plain processes: the model on synthetic clocks
#                         (model_test.c), the settings and their agreement with the state file,
#                         exact cuEventElapsedTime alone and with others' slices in it, a newcomer
#                         behind a queued second, HIP taking turns with CUDA (and its event times), an even split of two
#                         busy processes. About 10 seconds.
SCHED_MODEL_TEST := $(BUILD)/tests/simgpu/sched_model_test
SCHED_LOAD       := $(BUILD)/tests/simgpu/sched_load

$(SCHED_MODEL_TEST): $(call obj,tests/simgpu/sched/model_test.c tests/simgpu/sim_sched_model.c)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^

$(SCHED_LOAD): $(call obj,tests/simgpu/sched/sched_load.c) $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $(call obj,tests/simgpu/sched/sched_load.c) -L$(BUILD)/sim -lcuda

.PHONY: sim-sched-tests
sim-sched-tests: all $(SCHED_MODEL_TEST) $(SCHED_LOAD) $(NODE_PROBE)
	@bash tests/simgpu/sched/sched_tests.sh $(SCHED_MODEL_TEST) $(SCHED_LOAD) $(NODE_PROBE)

EXTRA_CHECKS += sim-sched-tests
