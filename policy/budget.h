/* Device budgets from plans into the ledger, with one rule for plans that disagree.
 *
 * A plan's `budget` for device d becomes the ledger's device_budget[d]
 *   - always, when the plan is an admin plan (the device is then marked admin-set);
 *   - when the ledger has no budget for d yet (UINT64_MAX);
 *   - when the budget there was set by a user's plan and no other live process uses the ledger
 *     (the runs that agreed on the old budget are gone, so the new run's plan takes over).
 * Otherwise the ledger keeps its budget: the processes already sharing it agreed on that one, and
 * a later user plan may not change it under them. The caller says so once. */
#ifndef GREY_BUDGET_H
#define GREY_BUDGET_H

#include <stdint.h>

#include "ledger.h"
#include "plan.h"

/* Applies plan's budgets to lg (the plan's [device N] sections are lg's GPU rows: see
 * policy/plan_gpus.h for how a plan is put in row order). lg's own slot does not count as another
 * live process. Returns a bitmask of the devices whose budget the ledger kept although the plan
 * asked for another. May make syscalls (liveness checks) when budgets conflict. */
grey_devmask grey_budget_apply(struct grey_ledger *lg, const struct grey_plan *plan);

#endif
