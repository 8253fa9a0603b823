/* Which per-process cap applies to a process, from its plans, its identity and GREY_CAP.
 *
 *   admin plans (root-owned, see grey_plan_file_is_admin) set a ceiling: per device the smallest
 *       of their device process_cap and every [user]/[group] cap that matches the process;
 *   below it the user chooses: GREY_CAP / --cap when given (it replaces the user's own plan
 *       caps, as it always did), else the same minimum over the non-admin plans;
 *   the process gets min(ceiling, choice). So a user can lower an admin's cap but never raise it.
 *
 * Pure functions: the hook and grey-run both call them, so the banner shows what is enforced. */
#ifndef GREY_CAPS_H
#define GREY_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "limits.h"
#include "plan.h"

#define GREY_IDENTITY_GROUPS 64

/* Who a process is, for [user NAME] and [group NAME] sections: names and numeric ids both
 * match. Names are "" when they could not be looked up (then only the number matches). */
struct grey_identity {
    uint32_t uid;
    char user[GREY_PRINCIPAL_NAME_MAX];
    unsigned ngroups;
    uint32_t gid[GREY_IDENTITY_GROUPS];
    char group[GREY_IDENTITY_GROUPS][GREY_PRINCIPAL_NAME_MAX];
};

/* Whether a [user NAME] / [group NAME] section applies to id. */
bool grey_principal_matches(const struct grey_plan_principal *pr, const struct grey_identity *id);

/* The caps one plan sets for id, per device: the smallest of the device's process_cap (when the
 * plan has that device) and every matching [user]/[group] cap. UINT64_MAX: no cap. id may be
 * NULL (no [user]/[group] section matches). */
void grey_plan_caps(const struct grey_plan *plan, const struct grey_identity *id, uint64_t out[GREY_MAX_DEVICES]);

/* The rule above over nplans plans. override is GREY_CAP / --cap (NULL when not given). raised,
 * when not NULL, gets bit d for every device where override asked for more than the admin
 * ceiling (so the caller can say the ceiling applies). */
void grey_caps_resolve(const struct grey_plan *const *plans, unsigned nplans, const struct grey_identity *id,
                       const uint64_t *override, uint64_t out[GREY_MAX_DEVICES], grey_devmask *raised);

#endif
