# A second, independent CUDA driver (tests/bench/work_driver.c) that does real work per call, and
# the same driver without the capture and event functions: for make bench and for running the
# hook where the simulator's answers are not the driver's.
#
#   build/bench/work/libcuda.so.1      the whole driver
#   build/bench/partial/libcuda.so.1   without cuStreamIsCapturing, cuThreadExchangeStreamCaptureMode
#                                      and every cuEvent function
#   make drivers-integration           tests/integration/drivers_tests.sh: the hook on both (caps,
#                                      quiet stderr, fair share by launch counts without events)
# `make check` runs drivers-integration (EXTRA_CHECKS).

WORK_DRIVER    := $(BUILD)/bench/work/libcuda.so.1
PARTIAL_DRIVER := $(BUILD)/bench/partial/libcuda.so.1
DRIVER_CFLAGS   = $(CSTD) $(WARN) -O2 -fPIC -fvisibility=hidden $(INCLUDES) $(CUDA_INC) -shared \
                  -Wl,-soname,libcuda.so.1 -Wl,-Bsymbolic-functions -lpthread

all: $(WORK_DRIVER) $(PARTIAL_DRIVER)

$(WORK_DRIVER): tests/bench/work_driver.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $< $(DRIVER_CFLAGS)

$(PARTIAL_DRIVER): tests/bench/work_driver.c | $(BUILD)/.deps-ok
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -DWORK_DRIVER_PARTIAL -o $@ $< $(DRIVER_CFLAGS)

.PHONY: drivers-integration
drivers-integration: all $(BENCH_BIN) $(BUILD)/tests/integration/prog_hold $(BUILD)/tests/integration/prog_launch_loop \
                     $(BUILD)/tests/fairshare/fair_load
	@WORK_DRIVER=$(abspath $(WORK_DRIVER)) PARTIAL_DRIVER=$(abspath $(PARTIAL_DRIVER)) \
	    bash tests/integration/drivers_tests.sh

EXTRA_CHECKS += drivers-integration
