# Thermal back-off (issue 20): tests/thermal/run.sh on a simulated two-GPU node whose NVML
# temperature follows each GPU's busy time (tests/simgpu/nvml/nvml_thermal.c). About 40 s.
#   make thermal-integration
# `make check` runs it (EXTRA_CHECKS).

.PHONY: thermal-integration
thermal-integration: all $(FAIR_LOAD)
	@bash tests/thermal/run.sh

EXTRA_CHECKS += thermal-integration
