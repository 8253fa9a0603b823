# Issue 16's attacks by local users, replayed: planted symlinks and files at ledger paths and
# temporary names, ledgers truncated under live processes or made on a full tmpfs, user
# namespaces, over-long settings, grey-report's inputs and --live sockets.
#
#   make hardening   tests/hardening/run.sh (as root: it adds and removes its own users)

.PHONY: hardening
hardening: all $(BUILD)/tests/integration/prog_two_allocs
	@bash tests/hardening/run.sh

EXTRA_CHECKS += hardening
