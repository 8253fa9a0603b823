# The Slurm SPANK plugin (slurm/, README "Slurm"): VRAM caps and GPU weights as srun, sbatch and
# salloc options.
#
#   build/slurm/grey_spank.so   built by `make` where <slurm/spank.h> is (libslurm-dev, which
#                               scripts/install-deps.sh installs); elsewhere make says once that
#                               it skipped it
#   make slurm-integration      tests/slurm/slurm_tests.sh: a single-node slurmctld + slurmd of
#                               its own on 127.0.0.1 (a temporary slurm.conf, stopped by PID), the
#                               plugin's options through srun and sbatch on the simulated GPUs
#   make install                also puts the plugin in SLURM_PLUGIN_DIR (PREFIX/lib/slurm)
# slurm-integration runs in `make check`; the plugin's pure parts are unit-tested in
# tests/unit/test_spank.c (by the main Makefile, with and without sanitizers).
#
# slurm/ sits beside tools/ in the layers: it may include slurm/, tools/ and policy/.

SPANK_H := $(wildcard /usr/include/slurm/spank.h)
SPANK_PLUGIN := $(BUILD)/slurm/grey_spank.so
SPANK_SRC := $(sort $(wildcard slurm/*.c))
# Under PREFIX like everything else `make install` writes (plugstack.conf names the plugin by
# its absolute path); SLURM_PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/slurm-wlm puts it beside
# Slurm's own plugins.
SLURM_PLUGIN_DIR ?= $(PREFIX)/lib/slurm

$(BUILD)/obj/slurm/%.o: CFLAGS_EXTRA := -fvisibility=hidden $(CJSON_CFLAGS)

# The plugin is loaded into srun, sbatch and slurmstepd: the version script keeps grey's symbols
# out of their namespace. Slurm's own functions (spank_*, slurm_error) come from the program that
# loads the plugin, so no -lslurm and no --no-undefined: a library the tools' code needs
# (TOOL_LDLIBS: libdw names the --gpu-dedup report's call sites) shows only at dlopen, which the
# Slurm suite does first.
$(SPANK_PLUGIN): $(call obj,$(SPANK_SRC)) $(TOOLS_LIB) $(POLICY_LIB) slurm/exports.map
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -shared -o $@ $(filter %.o %.a,$^) $(LDFLAGS) -Wl,--version-script=slurm/exports.map \
	    -Wl,-z,now $(TOOL_LDLIBS)

.PHONY: slurm-plugin slurm-integration slurm-install
ifneq ($(SPANK_H),)
all: $(SPANK_PLUGIN)
slurm-plugin: $(SPANK_PLUGIN)

slurm-integration: all $(SPANK_PLUGIN) $(BUILD)/tests/integration/prog_families $(BUILD)/tests/integration/prog_hold \
                   $(BUILD)/tests/integration/prog_dedup $(STATIC_BIN) $(BUILD)/tests/fairshare/fair_load
	@bash tests/slurm/slurm_tests.sh

install: slurm-install
slurm-install: $(SPANK_PLUGIN)
	install -d $(DESTDIR)$(SLURM_PLUGIN_DIR)
	install -m 0755 $(SPANK_PLUGIN) $(DESTDIR)$(SLURM_PLUGIN_DIR)/grey_spank.so
else
all: slurm-plugin
slurm-plugin:
	@echo "make: skipped the Slurm plugin (no /usr/include/slurm/spank.h: install libslurm-dev)"
slurm-integration:
	@echo "slurm-integration: FAILED: no /usr/include/slurm/spank.h (scripts/install-deps.sh installs libslurm-dev)"
	@exit 1
endif

EXTRA_CHECKS += slurm-integration

# The unit test of the plugin's pure parts links them beside the usual libraries (explicit rules:
# the objects must come before the archives they use).
SPANK_PURE_SRC := slurm/spank_config.c slurm/spank_request.c slurm/spank_cap.c
$(BUILD)/tests/unit/test_spank: $(BUILD)/obj/tests/unit/test_spank.o $(call obj,$(SPANK_PURE_SRC)) $(TOOLS_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) -o $@ $^ -lcriterion $(TOOL_LDLIBS)
$(BUILD)/asan/tests/unit/test_spank: $(BUILD)/asan/obj/tests/unit/test_spank.o $(call asan_obj,$(SPANK_PURE_SRC)) \
                                     $(TOOLS_ASAN_LIB) $(POLICY_ASAN_LIB)
	@mkdir -p $(@D)
	$(call q,CC)$(CC) $(SAN) -o $@ $^ -lcriterion $(TOOL_LDLIBS)

ifneq ($(SPANK_H),)
uninstall: slurm-uninstall
.PHONY: slurm-uninstall
slurm-uninstall:
	rm -f $(DESTDIR)$(SLURM_PLUGIN_DIR)/grey_spank.so
endif
