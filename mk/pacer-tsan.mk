# The pacer (shim/pace*.c) and the tracker in a multi-threaded program, under ThreadSanitizer.
#
#   make pacer-tsan   the whole hook built with -fsanitize=thread (build/tsan-hook/), preloaded
#                     into tests/stress/tsan_pacer.c (instrumented too): two processes at weights
#                     3 and 1 on one simulated device, 4 threads each launching 200 us kernels on
#                     streams of their own, some synchronizing, some allocating and freeing, for
#                     2 s; any race exits 66; the device must have been contended (turns handed
#                     over) and both processes must have launched
# It runs in `make check`.

TSAN_HOOK := $(BUILD)/tsan-hook/libgreyhook.so
TSAN_PACER := $(BUILD)/tsan/tsan_pacer
.PHONY: pacer-tsan

# A shared library's objects: position-independent and hidden, as the hook's plain build. The
# dlsym grey exports, and what it calls, are not instrumented: ThreadSanitizer's own start-up
# looks functions up with dlsym before its runtime can record anything.
TSAN_HOOK_PLAIN := preload/dlsym.c core/real.c core/libc_symbols.c
$(BUILD)/tsan-hook/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call q,CLANG)clang $(if $(filter $<,$(TSAN_HOOK_PLAIN)),$(filter-out -fsanitize=thread,$(TSAN_FLAGS)),$(TSAN_FLAGS)) \
	    -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

# The ThreadSanitizer runtime comes with the instrumented program, not with the library, so its
# symbols stay undefined here (no --no-undefined).
$(TSAN_HOOK): $(patsubst %.c,$(BUILD)/tsan-hook/obj/%.o,$(HOOK_SRC) $(POLICY_SRC)) preload/exports.map
	@mkdir -p $(@D)
	$(call q,CLANG)clang -shared -fsanitize=thread -o $@ $(filter %.o,$^) $(HOOK_LDFLAGS)

$(TSAN_PACER): $(BUILD)/tsan/obj/tests/stress/tsan_pacer.o $(SIM)
	@mkdir -p $(@D)
	$(call q,CLANG)clang -fsanitize=thread -o $@ $< -L$(BUILD)/sim -lcuda -lpthread

pacer-tsan: all $(TSAN_HOOK) $(TSAN_PACER)
	@bash tests/stress/tsan_pacer.sh $(TSAN_HOOK) $(TSAN_PACER)

EXTRA_CHECKS += pacer-tsan
