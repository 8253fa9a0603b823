# make install / make uninstall: an FHS tree under $(DESTDIR)$(PREFIX), and the simulated drivers
# for the grey-test package (install-sim / uninstall-sim).
#
#   bin/grey-*                          the tools
#   lib/libgreyhook.so                  the hook (HOOKDIR; the Debian package uses /usr/lib/grey,
#                                       a private directory: it has no soname, nothing links it)
#   share/man/man{1,5,8}/               man/*.{1,5,8}
#   share/bash-completion/completions/  completions/grey-*
#   share/zsh/vendor-completions/_grey  completions/_grey (all five tools)
#   share/doc/grey/                     README.md, docs/*.md, the example plan
#   lib/systemd/system/                 grey-exporter.service, grey-noded.service (/lib/systemd/system
#                                       for PREFIX=/usr)
#   etc/grey/plan.conf.example          (/etc for PREFIX=/usr) an example admin plan, not in
#                                       force: /etc/grey/plan.conf itself is the admin's to write
#
# uninstall removes exactly the files install lays down (the same lists), then the directories
# that are grey's own when they are empty; shared directories (bin, man1, ...) stay.
#
#   make install-tests   tests/install/run.sh: the man pages lint clean (mandoc, groff), the
#                        completions load in bash and zsh, every tool answers --version and --help, and
#                        install + uninstall into a scratch DESTDIR leave nothing behind.

BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
HOOKDIR     ?= $(LIBDIR)
SIMDIR      ?= $(LIBDIR)/grey/sim
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/grey
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
ifeq ($(PREFIX),/usr)
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSCONFDIR     ?= $(PREFIX)/etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif

MAN_PAGES   := $(sort $(wildcard man/*.[158]))
COMPLETIONS := $(sort $(wildcard completions/grey-*))
DOCS        := README.md $(sort $(wildcard docs/*.md))
UNIT        := $(BUILD)/systemd/grey-exporter.service
NODED_UNIT  := $(BUILD)/systemd/grey-noded.service
# "=": SIM_NVML and SIM_HIP come from mk/nvml.mk and mk/hip.mk, read after this file.
SIM_LIBS     = $(SIM) $(SIM_NVML) $(SIM_HIP)

# The unit names the installed grey-exporter, so it is made per BINDIR (always rebuilt: cheap).
.PHONY: $(UNIT) $(NODED_UNIT) install-sim uninstall-sim install-tests
$(UNIT) $(NODED_UNIT): $(BUILD)/systemd/%: systemd/%.in
	@mkdir -p $(@D)
	@sed 's|@BINDIR@|$(BINDIR)|g' $< >$@

# What install puts, file by file: uninstall removes these and nothing else.
INSTALLED := $(patsubst $(BUILD)/bin/%,$(BINDIR)/%,$(TOOLS)) \
             $(HOOKDIR)/libgreyhook.so \
             $(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
             $(patsubst completions/%,$(BASHCOMPDIR)/%,$(COMPLETIONS)) $(ZSHCOMPDIR)/_grey \
             $(patsubst %,$(DOCDIR)/%,$(notdir $(DOCS))) $(DOCDIR)/examples/plan.conf \
             $(SYSTEMDUNITDIR)/grey-exporter.service $(SYSTEMDUNITDIR)/grey-noded.service \
             $(SYSCONFDIR)/grey/plan.conf.example
OWN_DIRS := $(DOCDIR)/examples $(DOCDIR) $(SYSCONFDIR)/grey
ifneq ($(HOOKDIR),$(LIBDIR))
OWN_DIRS += $(HOOKDIR)
endif

install: all $(UNIT) $(NODED_UNIT)
	install -d $(addprefix $(DESTDIR),$(BINDIR) $(HOOKDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(MANDIR)/man8 \
	    $(BASHCOMPDIR) $(ZSHCOMPDIR) $(DOCDIR)/examples $(SYSTEMDUNITDIR) $(SYSCONFDIR)/grey)
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(HOOK) $(DESTDIR)$(HOOKDIR)/libgreyhook.so
	for m in $(MAN_PAGES); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	install -m 0644 $(COMPLETIONS) $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 completions/_grey $(DESTDIR)$(ZSHCOMPDIR)/_grey
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 etc/plan.conf $(DESTDIR)$(DOCDIR)/examples/plan.conf
	install -m 0644 $(UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/grey-exporter.service
	install -m 0644 $(NODED_UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/grey-noded.service
	install -m 0644 etc/plan.conf $(DESTDIR)$(SYSCONFDIR)/grey/plan.conf.example

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(addprefix $(DESTDIR),$(OWN_DIRS)) 2>/dev/null

# The simulated CUDA driver, NVML and HIP runtime and the demo job, for the grey-test package:
# never on the linker's path (they would shadow a real driver); LD_LIBRARY_PATH=$(SIMDIR).
SIM_INSTALLED = $(patsubst $(BUILD)/sim/%,$(SIMDIR)/%,$(SIM_LIBS)) $(SIMDIR)/grey-demo-train
install-sim: all $(DEMO_BIN)
	install -d $(DESTDIR)$(SIMDIR)
	install -m 0644 $(SIM_LIBS) $(DESTDIR)$(SIMDIR)/
	install -m 0755 $(DEMO_BIN) $(DESTDIR)$(SIMDIR)/grey-demo-train

uninstall-sim:
	rm -f $(addprefix $(DESTDIR),$(SIM_INSTALLED))
	-rmdir $(DESTDIR)$(SIMDIR) $(DESTDIR)$(LIBDIR)/grey 2>/dev/null

install-tests: all $(DEMO_BIN)
	@bash tests/install/run.sh

EXTRA_CHECKS += install-tests
