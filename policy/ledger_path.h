/* Which ledger a process (or grey-run, or grey-top) uses.
 *
 * The ledger is what ties processes to one set of device budgets, so an admin plan's choice
 * wins over the user's: otherwise GREY_LEDGER=/tmp/mine would leave the node's budget. In order:
 *   1. the `ledger` of the first admin plan that names one (with its ledger_group);
 *   2. $GREY_LEDGER;
 *   3. the `ledger` of the first user plan that names one (with its ledger_group);
 *   4. /dev/shm/grey-UID.ledger, private to the user (mode 0600); UID as outside any user
 *      namespace (policy/file_owner.h), so a job in `unshare -Ur` shares its user's ledger. */
#ifndef GREY_LEDGER_PATH_H
#define GREY_LEDGER_PATH_H

#include <stddef.h>

#include "plan.h"

enum grey_ledger_source {
    GREY_LEDGER_FROM_ADMIN_PLAN,
    GREY_LEDGER_FROM_ENV,
    GREY_LEDGER_FROM_PLAN,
    GREY_LEDGER_DEFAULT,
};

/* Writes the path to buf and sets *group to the plan's ledger_group ("" when none). env is
 * $GREY_LEDGER (NULL or "" when unset). */
enum grey_ledger_source grey_ledger_choose_path(const struct grey_plan *const *plans, unsigned nplans,
                                                const char *env, char *buf, size_t buflen, const char **group);

#endif
