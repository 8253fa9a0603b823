/* The hook's life in a process, driven by the ways in (preload/init.c): registered at load (or at
 * the first intercepted call), re-registered in a fork child, retired at exit.
 *
 * Registration happens before any GPU call, so grey-run can tell a child that never loaded the
 * hook (static binary, setuid, cleared environment) from one that merely made no GPU calls. */
#ifndef GREY_CORE_PROCESS_H
#define GREY_CORE_PROCESS_H

#include "policy/ticks.h"
#include "self.h"

/* grey_process_init is in self.h: idempotent, returns the quota. */

/* Fork handlers: the parent's tracker is quiesced around the fork; the child forgets the
 * parent's buffers and claims a slot of its own. */
void grey_process_fork_prepare(void);
void grey_process_fork_parent(void);
void grey_process_fork_child(void);

/* At exit: the slot is retired, and later calls count in a private copy. */
void grey_process_exit(void);

/* When the hook loaded: the start of this process's timeline (a fork child's starts at the
 * fork). */
const struct grey_tick_ref *grey_process_t0(void);

/* The shared ledger this process holds a slot in: its path, the slot's index and the ledger's
 * slot count (for the node's fingerprint table, policy/fp_table.h). False for a private slot. */
bool grey_process_ledger_slot(char *path, size_t len, uint32_t *index, uint32_t *nslots);

#endif
