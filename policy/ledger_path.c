/* The ledger path rule (see ledger_path.h). */
#include "ledger_path.h"

#include <stdio.h>
#include <unistd.h>

#include "file_owner.h"

static const struct grey_plan *first_naming(const struct grey_plan *const *plans, unsigned nplans, bool admin)
{
    for (unsigned i = 0; i < nplans; i++)
        if (plans[i]->admin == admin && plans[i]->ledger[0])
            return plans[i];
    return NULL;
}

enum grey_ledger_source grey_ledger_choose_path(const struct grey_plan *const *plans, unsigned nplans,
                                                const char *env, char *buf, size_t buflen, const char **group)
{
    *group = "";
    const struct grey_plan *p = first_naming(plans, nplans, true);
    if (p) {
        snprintf(buf, buflen, "%s", p->ledger);
        *group = p->ledger_group;
        return GREY_LEDGER_FROM_ADMIN_PLAN;
    }
    if (env && *env) {
        snprintf(buf, buflen, "%s", env);
        return GREY_LEDGER_FROM_ENV;
    }
    p = first_naming(plans, nplans, false);
    if (p) {
        snprintf(buf, buflen, "%s", p->ledger);
        *group = p->ledger_group;
        return GREY_LEDGER_FROM_PLAN;
    }
    /* By the uid outside any user namespace: inside `unshare -Ur` getuid() is 0, which would name
     * root's ledger (refused: not ours) instead of the user's own. */
    snprintf(buf, buflen, "/dev/shm/grey-%u.ledger", (unsigned)grey_outer_uid(getuid()));
    return GREY_LEDGER_DEFAULT;
}
