# The buffer report: call sites, fingerprints and grey-report (README, "The buffer report").
#
#   make dedup-integration   tests/integration/dedup_tests.sh: grey-run --dedup/--report, the
#                            hook's raw records, grey-report (text, --json, --html, --live) and
#                            its refusals, on the simulated driver; and the HIP twin of the
#                            upload acceptance test (hipMalloc + hipMemcpy, upload fingerprints
#                            and hipMemcpy read-backs, on the simulated HIP runtime)
#   make dedup-cuda-runtime  the same through nvcc-built programs (the real CUDA runtime)
#   make dedup-asan          the in-process half (recorder, agent, snapshots, wrappers) under the
#                            ASan+UBSan hook of mk/asan-hook.mk
#   make bench-sites         what call-site capture and GREY_DEDUP cost per alloc/free pair
# All but bench-sites run in `make check` (bench-sites runs in `make bench`). The unit tests
# (tests/unit/test_{sites,history,fingerprint,rawlog,dedup,tracker_report,report_dir,
# report_build}.c) are picked up by the main Makefile, with and without sanitizers.

DEDUP_PROG := $(BUILD)/tests/integration/prog_dedup
# The waste patterns' programs (tests/integration/prog_waste.c), also run under the ASan hook.
WASTE_PROG := $(BUILD)/tests/integration/prog_waste
# The HIP twin (tests/integration/hip/prog_hip_dedup.c, on the simulated HIP runtime of mk/hip.mk).
HIP_DEDUP_PROG := $(BUILD)/tests/hip/prog_hip_dedup
$(HIP_DEDUP_PROG): $(BUILD)/obj/tests/integration/hip/prog_hip_dedup.o $(BUILD)/sim/libamdhip64.so.5
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lamdhip64 -ldl

.PHONY: dedup-integration dedup-asan bench-sites
dedup-integration: all $(DEDUP_PROG) $(HIP_DEDUP_PROG) $(DEMO_BIN)
	@bash tests/integration/dedup_tests.sh

EXTRA_CHECKS += dedup-integration

# The same with the real CUDA runtime (nvcc, static and shared cudart): its own atexit teardown
# must not beat grey's exit snapshot.
DEDUP_RT_BINS := $(BUILD)/tests/cuda/rt_dedup $(BUILD)/tests/cuda/rt_dedup_shared
$(BUILD)/tests/cuda/rt_dedup: tests/integration/cuda/rt_dedup.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) -O2 -g -I. -o $@ $<
$(BUILD)/tests/cuda/rt_dedup_shared: tests/integration/cuda/rt_dedup.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) -O2 -g -I. -cudart shared -o $@ $<

.PHONY: dedup-cuda-runtime
dedup-cuda-runtime: all $(DEDUP_RT_BINS)
	@CUDA_HOME="$(CUDA_HOME)" bash tests/integration/dedup_cudart.sh $(DEDUP_RT_BINS)

EXTRA_CHECKS += dedup-cuda-runtime

# Only where the sanitizer build of the hook exists (mk/asan-hook.mk defines it).
ifneq ($(ASAN_HOOK),)
dedup-asan: all $(ASAN_HOOK) $(ASAN_RUN) $(DEDUP_PROG) $(WASTE_PROG) $(DEDUP_RT_BINS)
	@ASAN_RUNTIME=$(ASAN_RUNTIME) CUDA_HOME="$(CUDA_HOME)" bash tests/integration/dedup_asan.sh
EXTRA_CHECKS += dedup-asan
endif

# A driver that does nothing (tests/bench/null_driver.c), so the bench sees the hook alone.
NULL_DRIVER := $(BUILD)/bench/null/libcuda.so.1
$(NULL_DRIVER): tests/bench/null_driver.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(CSTD) $(WARN) -O2 -fPIC -fvisibility=hidden $(INCLUDES) $(CUDA_INC) -shared -o $@ $< \
	    -Wl,-soname,libcuda.so.1 -Wl,-Bsymbolic-functions

BENCH_SITES_BIN := $(BUILD)/tests/bench/bench_sites
$(BENCH_SITES_BIN): $(BUILD)/obj/tests/bench/bench_sites.o $(NULL_DRIVER)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ -ldl -lpthread

bench-sites: all $(BENCH_SITES_BIN) $(NULL_DRIVER)
	@bash scripts/bench_sites.sh

EXTRA_BENCH += bench-sites

# The waste patterns (policy/waste.h): one program per pattern and a clean one
# (tests/integration/prog_waste.c), checked in the report's JSON, text and HTML.
HIP_WASTE_PROG := $(BUILD)/tests/hip/prog_hip_waste
$(HIP_WASTE_PROG): $(BUILD)/obj/tests/integration/hip/prog_hip_waste.o $(BUILD)/sim/libamdhip64.so.5
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lamdhip64 -ldl
.PHONY: waste-integration
waste-integration: all $(WASTE_PROG) $(HIP_WASTE_PROG)
	@bash tests/integration/waste_tests.sh

EXTRA_CHECKS += waste-integration

# grey-report's exports (tools/export.h): a Perfetto trace checked against a JSON schema of the
# trace-event format, a PyTorch memory snapshot unpickled by Python.
.PHONY: export-integration
export-integration: all $(DEDUP_PROG) $(WASTE_PROG)
	@bash tests/integration/export_tests.sh

EXTRA_CHECKS += export-integration

# Duplicates across jobs (policy/fp_table.h, grey-report --node): two live grey-run jobs with
# the same bytes, one job alone, ended jobs, a planted symlink, a damaged table.
.PHONY: node-dedup-integration
node-dedup-integration: all $(DEDUP_PROG)
	@bash tests/integration/node_dedup_tests.sh

EXTRA_CHECKS += node-dedup-integration
