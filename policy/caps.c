/* Per-process caps from plans, identity and GREY_CAP (see caps.h). */
#include "caps.h"

#include <string.h>

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* "1000" names uid/gid 1000; anything else is a name. */
static bool parse_id(const char *name, uint32_t *out)
{
    uint64_t v = 0;
    if (!*name)
        return false;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool grey_principal_matches(const struct grey_plan_principal *pr, const struct grey_identity *id)
{
    if (!id)
        return false;
    uint32_t num;
    bool numeric = parse_id(pr->name, &num);
    if (!pr->is_group)
        return numeric ? num == id->uid : (id->user[0] && strcmp(pr->name, id->user) == 0);
    for (unsigned i = 0; i < id->ngroups && i < GREY_IDENTITY_GROUPS; i++) {
        if (numeric ? num == id->gid[i] : (id->group[i][0] && strcmp(pr->name, id->group[i]) == 0))
            return true;
    }
    return false;
}

void grey_plan_caps(const struct grey_plan *plan, const struct grey_identity *id, uint64_t out[GREY_MAX_DEVICES])
{
    uint64_t everywhere = UINT64_MAX;
    for (unsigned i = 0; i < plan->nprincipals && i < GREY_PLAN_PRINCIPALS; i++)
        if (grey_principal_matches(&plan->principal[i], id))
            everywhere = min_u64(everywhere, plan->principal[i].process_cap);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        out[d] = plan->dev[d].present ? min_u64(everywhere, plan->dev[d].process_cap) : everywhere;
}

void grey_caps_resolve(const struct grey_plan *const *plans, unsigned nplans, const struct grey_identity *id,
                       const uint64_t *override, uint64_t out[GREY_MAX_DEVICES], grey_devmask *raised)
{
    uint64_t ceiling[GREY_MAX_DEVICES], choice[GREY_MAX_DEVICES], caps[GREY_MAX_DEVICES];
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        ceiling[d] = choice[d] = UINT64_MAX;
    for (unsigned p = 0; p < nplans; p++) {
        grey_plan_caps(plans[p], id, caps);
        /* GREY_CAP replaces what the user's own plans say, never what an admin's say. */
        uint64_t *into = plans[p]->admin ? ceiling : (override ? NULL : choice);
        for (int d = 0; into && d < GREY_MAX_DEVICES; d++)
            into[d] = min_u64(into[d], caps[d]);
    }
    if (raised)
        *raised = 0;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (override)
            choice[d] = *override;
        out[d] = min_u64(ceiling[d], choice[d]);
        if (raised && override && *override > ceiling[d])
            *raised |= GREY_DEVBIT(d);
    }
}
