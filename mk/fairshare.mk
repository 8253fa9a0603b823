# Fair share of kernel launches: the acceptance tests on the simulated device, and the pacer's
# unit tests (tests/unit/test_pacer.c, test_weights.c: built and run by `make unit` like the others).
#
#   make fairshare-integration   tests/fairshare/run.sh: processes launching 200 us kernels back to
#                                back on one simulated device shared through GREY_SIM_STATE; shares
#                                3:1 and 1:1:2:4, device busy, longest wait per launch, reclaim
#                                after a competitor idles, throughput alone against no hook, every
#                                launch entry point, --max-share and grey-top's view (under a
#                                minute in all); and the HIP
#                                twin of the 3:1 test (tests/fairshare/hip_fair_load.c on the
#                                simulated HIP runtime, which shares the device timeline)
#   make fairshare-deep          tests/fairshare/deep.sh: the same when programs queue deep (issue
#                                14): 256 and 1024 launches between synchronizes at 3:1, 1:1:2:4 at
#                                256, --max-share 25% over 100 queued 20 ms kernels and over a graph
#                                of 100 kernels, a 2 s burst met by a newcomer, four streams against
#                                one, and the HIP twins (about 80 s)
# `make check` runs both (EXTRA_CHECKS); the per-launch cost is measured by `make bench`, which
# holds it against its goal (a timed check in `make check` only measured how busy the machine was).

FAIR_LOAD := $(BUILD)/tests/fairshare/fair_load
HIP_FAIR_LOAD := $(BUILD)/tests/fairshare/hip_fair_load

$(FAIR_LOAD): $(BUILD)/obj/tests/fairshare/fair_load.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lcuda -ldl

$(HIP_FAIR_LOAD): $(BUILD)/obj/tests/fairshare/hip_fair_load.o $(BUILD)/sim/libamdhip64.so.5
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< -L$(BUILD)/sim -lamdhip64 -ldl

.PHONY: fairshare-integration
fairshare-integration: all $(FAIR_LOAD) $(HIP_FAIR_LOAD)
	@bash tests/fairshare/run.sh

.PHONY: fairshare-deep
fairshare-deep: all $(FAIR_LOAD) $(HIP_FAIR_LOAD)
	@bash tests/fairshare/deep.sh

EXTRA_CHECKS += fairshare-integration fairshare-deep
