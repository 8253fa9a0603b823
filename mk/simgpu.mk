# The simulated node: the parts the three simulators share.
#
# build/sim/libcuda.so.1 (the main Makefile), libamdhip64.so.5 (mk/hip.mk) and libnvidia-ml.so.1
# (mk/nvml.mk) describe one node: the GREY_SIM_* settings (tests/simgpu/sim_settings.c), the
# physical GPUs' identities (sim_node.c), the shared state file with the device timelines and the
# machine-wide memory per process (sim_state.c, sim_usage.c), and, for the two runtimes, the
# visibility rules (sim_visible_*.c). The CUDA driver already links every tests/simgpu/*.c; the
# lines below add what the other two need as extra prerequisites of their targets (make links
# every prerequisite object, $^, whichever rule names it). docs/simgpu.md describes the model.

SIM_NODE_SHARED := tests/simgpu/sim_settings.c tests/simgpu/sim_node.c tests/simgpu/sim_state.c \
                   tests/simgpu/sim_usage.c tests/simgpu/sim_trace.c policy/procinfo.c

$(SIM): $(call obj,policy/procinfo.c)
$(SIM_HIP): $(call obj,tests/simgpu/sim_node.c tests/simgpu/sim_state.c tests/simgpu/sim_usage.c \
                       tests/simgpu/sim_visible_rocm.c tests/simgpu/sim_visible_list.c policy/procinfo.c)
$(SIM_NVML): $(call obj,$(SIM_NODE_SHARED))
