/* Where grey-plan's settings come from, lowest precedence first:
 *
 *   1. the admin plan (grey_admin_plan_path(): /etc/grey/plan.conf, root-owned): its mode,
 *      tenants, workload, model_size and default_weight are defaults; its caps (device and
 *      [user]/[group], for the user running grey-plan) and budgets are ceilings;
 *   2. the user's config plan (grey_user_config_path(): ~/.config/grey/plan.conf): the same keys
 *      override the admin's defaults; its caps and budgets are the user's own choice;
 *   3. GREY_MODE, GREY_TENANTS, GREY_MODEL_SIZE, GREY_WORKLOAD, GREY_CAP, GREY_BUDGET, GREY_WEIGHT;
 *   4. the command line (the caller sets those, see plan_layers_set).
 *
 * Caps combine exactly as the hook combines them (policy/caps.c): an explicit cap (GREY_CAP,
 * --cap) replaces the user's plan caps, and nothing a user layer says raises an admin ceiling. */
#ifndef GREY_PLAN_LAYERS_H
#define GREY_PLAN_LAYERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/plan.h"

/* One setting and the layer it came from ("--mode", "GREY_TENANTS", "/etc/grey/plan.conf"),
 * NULL from == not set by anyone. */
struct plan_settings {
    enum grey_plan_mode mode;
    const char *mode_from;
    unsigned tenants;
    const char *tenants_from;
    uint64_t model_size;
    const char *model_size_from;
    enum grey_plan_workload workload;
    const char *workload_from;
    uint64_t cap;
    const char *cap_from;
    uint64_t budget;
    const char *budget_from;
    unsigned weight;
    const char *weight_from;
    unsigned power_limit_w;        /* --power-limit: plan for boards capped at this; 0: as detected */
    const char *power_limit_from;
};

struct plan_layers {
    struct grey_plan admin, user;
    bool have_admin, have_user;
    char admin_path[PATH_MAX], user_path[PATH_MAX];
    struct plan_settings s;
    /* Set by plan_layers_resolve, per device (UINT64_MAX: none). */
    uint64_t cap_limit[GREY_MAX_DEVICES];    /* what the plans allow: caps.c over admin + user */
    uint64_t admin_cap[GREY_MAX_DEVICES];    /* the admin plan's part of it */
    uint64_t budget_limit[GREY_MAX_DEVICES]; /* the admin plan's budgets */
    uint64_t user_budget[GREY_MAX_DEVICES];  /* the user's plan's budgets (a preference) */
    grey_devmask raised;                         /* bit d: the explicit cap asked for more than the admin allows */
};

/* Reads layers 1-3. Returns 0; 1 with err set for a malformed GREY_* variable (a usage error:
 * "GREY_TENANTS: 'x' is not a whole number"); -1 with err set for a plan file that is there but
 * malformed ("FILE:LINE: reason"). */
int plan_layers_load(struct plan_layers *L, char *err, size_t errlen);

/* The command line's layer: the same parsing as the variables, from = "--tenants" etc. key is one
 * of mode, tenants, model-size, workload, cap, budget, weight, power-limit (watts, "300" or "300W"). Returns 0, or -1 with err set. */
int plan_layers_set(struct plan_layers *L, const char *key, const char *text, const char *from, char *err,
                    size_t errlen);

/* Computes the limits above once every layer is in. */
void plan_layers_resolve(struct plan_layers *L);

#endif
