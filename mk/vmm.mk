# VMM memory released while still mapped (issue 15): tests/integration/vmm_tests.sh runs
# prog_vmm_release (CUDA) and prog_hip_vmm_release (HIP) on the simulated drivers alone and
# under grey-run --cap 512MiB, and prog_vmm_share: memory shared between processes through a
# file descriptor, counted once for the node until nobody holds it (and its HIP twin,
# prog_hip_vmm_share). `make check` runs it
# (EXTRA_CHECKS).
.PHONY: vmm-integration
vmm-integration: all $(BUILD)/tests/integration/prog_vmm_release $(HIP_TEST_DIR)/prog_hip_vmm_release \
                 $(BUILD)/tests/integration/prog_vmm_share $(HIP_TEST_DIR)/prog_hip_vmm_share
	@bash tests/integration/vmm_tests.sh

EXTRA_CHECKS += vmm-integration
