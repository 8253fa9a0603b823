# grey-noded, the node service (tools/grey-noded.c): the sealed node ledger over a socket, the
# read-only limits, reclaiming and sum checks, and the NVML watchdog.
#
#   make noded-tests   tests/noded/run.sh (as root: it adds and removes its own users)

NODED_PROGS := $(BUILD)/tests/noded/prog_noded_attack

$(BUILD)/tests/noded/%: $(BUILD)/obj/tests/noded/%.o $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ $(LDFLAGS)

.PHONY: noded-tests
noded-tests: all $(NODED_PROGS) $(BUILD)/tests/integration/prog_hold $(BUILD)/tests/integration/prog_two_allocs \
             $(FAIR_LOAD) $(DEDUP_PROG)
	@bash tests/noded/run.sh

EXTRA_CHECKS += noded-tests
