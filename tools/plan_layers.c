/* grey-plan's configuration layers (see plan_layers.h). */
#include "plan_layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/caps.h"
#include "policy/identity.h"
#include "policy/size.h"
#include "cli_common.h"

static int set_fail(char *err, size_t errlen, const char *from, const char *fmt, const char *text)
{
    char why[200];
    snprintf(why, sizeof why, fmt, text);
    snprintf(err, errlen, "%s: %s", from, why);
    return -1;
}

static int parse_count(const char *text, unsigned max, unsigned *out)
{
    char *end;
    if (!(*text >= '0' && *text <= '9'))
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || v < 1 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int plan_layers_set(struct plan_layers *L, const char *key, const char *text, const char *from, char *err,
                    size_t errlen)
{
    struct plan_settings *s = &L->s;
    char why[200];
    if (strcmp(key, "mode") == 0) {
        int m = grey_plan_mode_parse(text);
        if (m < 0)
            return set_fail(err, errlen, from, "unknown mode '%s' (use safe, balanced or aggressive)", text);
        s->mode = (enum grey_plan_mode)m;
        s->mode_from = from;
    } else if (strcmp(key, "tenants") == 0) {
        if (parse_count(text, 1024, &s->tenants) != 0)
            return set_fail(err, errlen, from, "'%s' is not a number of tenants (1..1024)", text);
        s->tenants_from = from;
    } else if (strcmp(key, "workload") == 0) {
        int w = grey_plan_workload_parse(text);
        if (w < 0)
            return set_fail(err, errlen, from, "unknown workload '%s' (use training or inference)", text);
        s->workload = (enum grey_plan_workload)w;
        s->workload_from = from;
    } else if (strcmp(key, "power-limit") == 0) {
        char watts[16];
        size_t n = strlen(text);
        if (n > 1 && n < sizeof watts && (text[n - 1] == 'W' || text[n - 1] == 'w')) {
            memcpy(watts, text, n - 1);
            watts[n - 1] = '\0';
            text = watts;
        }
        if (parse_count(text, 100000, &s->power_limit_w) != 0)
            return set_fail(err, errlen, from, "'%s' is not a power limit in watts (1..100000, e.g. 300 or 300W)",
                            n < sizeof watts ? text : "(too long)");
        s->power_limit_from = from;
    } else if (strcmp(key, "weight") == 0) {
        if (parse_count(text, 10000, &s->weight) != 0)
            return set_fail(err, errlen, from, "'%s' is not a weight (1..10000)", text);
        s->weight_from = from;
    } else {
        uint64_t v;
        if (grey_size_parse(text, &v, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: %s", from, why);
            return -1;
        }
        if (v == 0)
            return set_fail(err, errlen, from, "'%s': a size of zero means nothing here", text);
        if (strcmp(key, "cap") == 0) {
            s->cap = v;
            s->cap_from = from;
        } else if (strcmp(key, "budget") == 0) {
            s->budget = v;
            s->budget_from = from;
        } else {
            s->model_size = v;
            s->model_size_from = from;
        }
    }
    return 0;
}

/* A plan layer's settings (what grey-plan wrote into it as the plan's inputs). */
static void from_plan(struct plan_layers *L, const struct grey_plan *p, const char *from)
{
    struct plan_settings *s = &L->s;
    if (p->has_mode) {
        s->mode = p->mode;
        s->mode_from = from;
    }
    if (p->tenants) {
        s->tenants = p->tenants;
        s->tenants_from = from;
    }
    if (p->workload != GREY_WORKLOAD_UNSET) {
        s->workload = p->workload;
        s->workload_from = from;
    }
    if (p->model_size) {
        s->model_size = p->model_size;
        s->model_size_from = from;
    }
    if (p->default_weight) {
        s->weight = p->default_weight;
        s->weight_from = from;
    }
}

int plan_layers_load(struct plan_layers *L, char *err, size_t errlen)
{
    memset(L, 0, sizeof *L);
    L->s.mode = GREY_MODE_SAFE;
    const struct grey_settings *set = cli_settings();
    snprintf(L->admin_path, sizeof L->admin_path, "%s", set->admin_plan);
    int rc = grey_plan_load_admin(L->admin_path, &L->admin, err, errlen);
    if (rc < 0)
        return -1;
    L->have_admin = rc > 0;
    if (L->have_admin)
        from_plan(L, &L->admin, L->admin_path);
    if (set->user_config[0]) {
        snprintf(L->user_path, sizeof L->user_path, "%s", set->user_config);
        rc = grey_plan_load_optional(L->user_path, &L->user, err, errlen);
        if (rc < 0)
            return -1;
        L->have_user = rc > 0;
        if (L->have_user)
            from_plan(L, &L->user, L->user_path);
    }
    static const struct {
        const char *var, *key;
    } vars[] = {{"GREY_MODE", "mode"},     {"GREY_TENANTS", "tenants"}, {"GREY_MODEL_SIZE", "model-size"},
                {"GREY_WORKLOAD", "workload"}, {"GREY_CAP", "cap"},     {"GREY_BUDGET", "budget"},
                {"GREY_WEIGHT", "weight"}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].var);
        if (v && *v && plan_layers_set(L, vars[i].key, v, vars[i].var, err, errlen) != 0)
            return 1;
    }
    return 0;
}

void plan_layers_resolve(struct plan_layers *L)
{
    const struct grey_plan *plans[2];
    unsigned n = 0;
    if (L->have_admin)
        plans[n++] = &L->admin;
    if (L->have_user)
        plans[n++] = &L->user;
    static struct grey_identity id;
    bool principals = false;
    for (unsigned i = 0; i < n; i++)
        principals |= plans[i]->nprincipals > 0;
    if (principals) /* [user]/[group] sections: who runs grey-plan is who the plan is for */
        grey_identity_self(&id, plans, n);
    grey_caps_resolve(plans, n, principals ? &id : NULL, L->s.cap_from ? &L->s.cap : NULL, L->cap_limit,
                      &L->raised);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        L->admin_cap[d] = L->budget_limit[d] = L->user_budget[d] = UINT64_MAX;
    if (L->have_admin && L->admin.admin) {
        grey_plan_caps(&L->admin, principals ? &id : NULL, L->admin_cap);
        for (int d = 0; d < GREY_MAX_DEVICES; d++)
            if (L->admin.dev[d].present)
                L->budget_limit[d] = L->admin.dev[d].budget;
    }
    /* A file at the admin path that anyone could write limits nothing: caps.c counted it as a
     * user's plan, and its budgets are a preference like the user's own. */
    const struct grey_plan *pref = L->have_user ? &L->user : (L->have_admin && !L->admin.admin) ? &L->admin : NULL;
    for (int d = 0; pref && d < GREY_MAX_DEVICES; d++)
        if (pref->dev[d].present)
            L->user_budget[d] = pref->dev[d].budget;
}
