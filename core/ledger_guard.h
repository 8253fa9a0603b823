/* Keeping the host program alive when someone truncates the shared ledger under it.
 *
 * The ledger is a MAP_SHARED mapping of a file that every member of the node's group may write;
 * `truncate -s 0` on it makes every later access to the mapping raise SIGBUS, which would kill
 * the program grey was loaded into. Sealing (memfd F_SEAL_SHRINK) forbids the truncation, and
 * the ledger grey-noded hands out is sealed so (tools/noded_ledger.h); but a memfd can only be
 * shared by passing it, so the file ledger (no service, or the service down) cannot be. So the
 * hook installs one SIGBUS handler, for that case alone: a fault whose address lies
 * in the ledger's mapping is answered by mapping private zeroed memory at the same address (every
 * pointer into the ledger stays valid), writing this process's own caps into it and lifting the
 * (lost) device budgets; the faulting access then proceeds. Any other SIGBUS goes to whatever
 * handler was there before, or is delivered with the default action, as if grey were absent.
 * The handler uses only mmap, write and lock-free atomics (async-signal-safe in practice). Its
 * limits are in docs/DESIGN.md ("A truncated ledger"). */
#ifndef GREY_CORE_LEDGER_GUARD_H
#define GREY_CORE_LEDGER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/ledger.h"

/* Guards the mapping [base, base+len) of the ledger at path, whose slot for this process is
 * slot. Installs the handler the first time; later calls (a fork child's new slot) only update
 * what it uses. */
void grey_ledger_guard_arm(void *base, size_t len, struct grey_slot *slot, const char *path);

/* This process's cap on GPU row r, kept for the handler to restore; returns the value to store
 * in the slot (moved up by the replaced ledger's counter offset once the guard has tripped). */
uint64_t grey_ledger_guard_cap(int r, uint64_t cap);

/* True once the ledger was found truncated and replaced by private memory. */
bool grey_ledger_guard_tripped(void);

#endif
