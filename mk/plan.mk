# grey-plan: detection from every source, plans with reasons, configuration layers.
#
#   make plan-integration   tests/integration/plan_chain_tests.sh: detection on the simulated GPU
#                           (NVML + CUDA driver) and from the recorded nvidia-smi / lspci / amdgpu
#                           output in tests/fixtures (stand-ins first on PATH), plans by mode and
#                           --tenants, explain, the layers (admin plan, ~/.config, GREY_*, options)
#                           through grey-plan, grey-run and the hook, malformed plans refused with
#                           their line, install's dry run
#   make plan-fuzz          libFuzzer on the tool-output parsers (CSV, XML, lspci) for
#                           PLAN_FUZZ_SECONDS (default 15); the plan parser itself is fuzzed by
#                           ledger-fuzz (mk/ledger.mk), whose corpus has the plan's new keys
# Both run in `make check`; the unit tests (tests/unit/test_gpu_parsers.c, test_planner.c,
# test_plan.c) run in `make unit` and `make unit-asan`.

PLAN_FUZZ_SECONDS ?= 15
FUZZ_DETECT := $(BUILD)/fuzz/fuzz_detect
.PHONY: plan-integration plan-fuzz

plan-integration: all $(BUILD)/tests/integration/prog_families
	@bash tests/integration/plan_chain_tests.sh

$(FUZZ_DETECT): $(BUILD)/fuzz/obj/tests/fuzz/fuzz_detect.o $(TOOLS_FUZZ_LIB) $(POLICY_FUZZ_LIB)
	@mkdir -p $(@D)
	$(call q,LINK)$(FUZZ_LINK) -o $@ $^

# New inputs go to build/fuzz/corpus-detect; the seeds in tests/fuzz/corpus/detect are only read.
plan-fuzz: $(FUZZ_DETECT)
	@echo "== fuzzing the nvidia-smi / lspci parsers, $(PLAN_FUZZ_SECONDS) s"
	@mkdir -p $(BUILD)/fuzz/corpus-detect
	@cd $(BUILD)/fuzz && ./fuzz_detect corpus-detect $(abspath tests/fuzz/corpus/detect) \
	    -max_total_time=$(PLAN_FUZZ_SECONDS) -timeout=10 -print_final_stats=1 >detect.log 2>&1; rc=$$?; \
	  grep -h 'stat::number_of_executed_units' detect.log | sed 's/^/  /'; \
	  if [ $$rc -ne 0 ]; then tail -40 detect.log; echo "fuzz_detect FAILED"; exit 1; fi; \
	  echo "plan-fuzz: no crash"

EXTRA_CHECKS += plan-integration plan-fuzz
