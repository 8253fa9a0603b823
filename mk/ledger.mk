# The node-wide ledger: its integration tests, a stress test with SIGKILLed processes, the
# ledger and quota under ThreadSanitizer, libFuzzer runs of the ledger reader and the plan
# parser, and the admission benchmark.
#
#   make ledger-integration   tests/integration/ledger_tests.sh (budgets, reclaim, caps, grey-top,
#                             grey-exporter checked with promtool)
#   make node-integration     tests/integration/node_tests.sh: a simulated 4-GPU node, budgets per
#                             physical GPU through every visibility setting (CUDA and HIP), plans
#                             by UUID and from other nodes, holders in other PID namespaces
#   make ledger-stress        32 processes x 4 threads against one budget, 8 SIGKILLed
#   make ledger-tsan          tests/stress/tsan_ledger.c built with -fsanitize=thread
#   make ledger-fuzz          each fuzzer for LEDGER_FUZZ_SECONDS (default 20), in parallel
#   make bench-ledger         admission cost with 1, 8 and 32 processes on one ledger
# All but bench-ledger run in `make check`.

LEDGER_FUZZ_SECONDS ?= 20
LEDGER_STRESS_SECONDS ?= 6

STRESS_WORKER := $(BUILD)/tests/stress/stress_alloc
STRESS_CHECK  := $(BUILD)/tests/stress/stress_check
TSAN_LEDGER   := $(BUILD)/tsan/tsan_ledger
FUZZ_LEDGER   := $(BUILD)/fuzz/fuzz_ledger
FUZZ_PLAN     := $(BUILD)/fuzz/fuzz_plan
BENCH_LEDGER  := $(BUILD)/tests/bench/bench_ledger

.PHONY: ledger-integration node-integration ledger-stress ledger-tsan ledger-fuzz bench-ledger

# ---------------------------------------------------------------- integration
ledger-integration: all $(BUILD)/tests/integration/prog_hold
	@bash tests/integration/ledger_tests.sh

# node_probe (mk/simgpu.mk, included after this file: hence its path, not its variable) tells the
# test each simulated GPU's UUIDs and PCI address.
node-integration: all $(BUILD)/tests/integration/prog_hold $(BUILD)/tests/simgpu/node_probe
	@bash tests/integration/node_tests.sh

# ---------------------------------------------------------------- stress
$(STRESS_WORKER): $(BUILD)/obj/tests/stress/stress_alloc.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lcuda -lpthread

$(STRESS_CHECK): $(BUILD)/obj/tests/stress/stress_check.o $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ -lpthread

ledger-stress: all $(STRESS_WORKER) $(STRESS_CHECK)
	@echo "== ledger stress: 32 processes x 4 threads (half in PID namespaces of their own), a quarter SIGKILLed, one 1 GiB budget"
	@set -e; d=$$(mktemp -d /tmp/grey-stress.XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	printf 'grey-plan-version = 1\n[device 0]\nbudget = 1GiB\nprocess_cap = 256MiB\n' >"$$d/plan.conf"; \
	chmod 0666 "$$d/plan.conf"; \
	seed=$${LEDGER_STRESS_SEED:-$$$$}; echo "   (seed $$seed: LEDGER_STRESS_SEED=$$seed repeats the kill times)"; \
	LD_LIBRARY_PATH=$(BUILD)/sim STRESS_HOOK=$(abspath $(HOOK)) GREY_SIM_VRAM=80GiB STRESS_NAMESPACES=1 \
	    GREY_SIM_STATE="$$d/sim" \
	    timeout 60 $(STRESS_CHECK) "$$d/ledger" "$$d/plan.conf" $(STRESS_WORKER) 32 4 $(LEDGER_STRESS_SECONDS) $$seed

# ---------------------------------------------------------------- ThreadSanitizer
# The test and the policy library, all instrumented (the Makefile's tsan variant).
$(TSAN_LEDGER): $(BUILD)/tsan/obj/tests/stress/tsan_ledger.o $(POLICY_TSAN_LIB)
	@mkdir -p $(@D)
	$(call q,CLANG)clang -fsanitize=thread -o $@ $^ -lpthread

ledger-tsan: $(TSAN_LEDGER)
	@echo "== ledger and quota under ThreadSanitizer"
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(TSAN_LEDGER)

# ---------------------------------------------------------------- fuzzing
$(FUZZ_LEDGER): $(BUILD)/fuzz/obj/tests/fuzz/fuzz_ledger.o $(TOOLS_FUZZ_LIB) $(POLICY_FUZZ_LIB)
	@mkdir -p $(@D)
	$(call q,LINK)$(FUZZ_LINK) -o $@ $^

$(FUZZ_PLAN): $(BUILD)/fuzz/obj/tests/fuzz/fuzz_plan.o $(TOOLS_FUZZ_LIB) $(POLICY_FUZZ_LIB)
	@mkdir -p $(@D)
	$(call q,LINK)$(FUZZ_LINK) -o $@ $^

# New inputs go to build/fuzz/corpus-*; the seeds in tests/fuzz/corpus/ are only read. Both
# fuzzers run at once (they are independent), and a crash in either fails the target.
ledger-fuzz: $(FUZZ_LEDGER) $(FUZZ_PLAN)
	@echo "== fuzzing the ledger reader and the plan parser, $(LEDGER_FUZZ_SECONDS) s each"
	@mkdir -p $(BUILD)/fuzz/corpus-ledger $(BUILD)/fuzz/corpus-plan
	@cd $(BUILD)/fuzz && \
	  ./fuzz_ledger corpus-ledger $(abspath tests/fuzz/corpus/ledger) -max_total_time=$(LEDGER_FUZZ_SECONDS) \
	      -timeout=10 -print_final_stats=1 >ledger.log 2>&1 & lp=$$!; \
	  cd $(BUILD)/fuzz && \
	  ./fuzz_plan corpus-plan $(abspath tests/fuzz/corpus/plan) -max_total_time=$(LEDGER_FUZZ_SECONDS) \
	      -timeout=10 -print_final_stats=1 >plan.log 2>&1 & pp=$$!; \
	  wait $$lp; lr=$$?; wait $$pp; pr=$$?; \
	  grep -h 'stat::number_of_executed_units' $(BUILD)/fuzz/ledger.log $(BUILD)/fuzz/plan.log | sed 's/^/  /'; \
	  if [ $$lr -ne 0 ]; then tail -40 $(BUILD)/fuzz/ledger.log; echo "fuzz_ledger FAILED"; fi; \
	  if [ $$pr -ne 0 ]; then tail -40 $(BUILD)/fuzz/plan.log; echo "fuzz_plan FAILED"; fi; \
	  [ $$lr -eq 0 ] && [ $$pr -eq 0 ] && echo "ledger-fuzz: no crash"

# ---------------------------------------------------------------- benchmark
$(BENCH_LEDGER): $(BUILD)/obj/tests/bench/bench_ledger.o $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ -lpthread

bench-ledger: all $(BENCH_LEDGER)
	@bash scripts/bench_ledger.sh

EXTRA_CHECKS += ledger-integration node-integration ledger-stress ledger-tsan ledger-fuzz
EXTRA_BENCH += bench-ledger
