/* The default ledger of grey-top and grey-report --node (default_ledger.h). */
#include "default_ledger.h"

#include <stdio.h>

#include "cli_common.h"
#include "ledger_source.h"
#include "policy/plan.h"

unsigned grey_tool_ledger_plans(const char *prog, const struct grey_plan *list[2])
{
    static struct grey_plan plans[2]; /* large: static, and a tool asks once */
    unsigned n = 0;
    char err[512];
    const struct grey_settings *set = cli_settings();
    int rc = grey_plan_load_admin(set->admin_plan, &plans[0], err, sizeof err);
    if (rc < 0)
        cli_warn(prog, "%s (ignored when choosing the ledger)", err);
    if (rc > 0)
        list[n++] = &plans[0];
    if (set->user_plan_required && grey_plan_load(set->user_plan, &plans[n], err, sizeof err) == 0)
        list[n] = &plans[n], n++;
    return n;
}

void grey_tool_default_ledger(const char *prog, char *buf, size_t len)
{
    const struct grey_plan *list[2];
    unsigned n = grey_tool_ledger_plans(prog, list);
    static struct ledger_choice c; /* large: static, and a tool asks once */
    ledger_choice_init(&c, NULL, list, n);
    snprintf(buf, len, "%s", ledger_choice_now(&c));
}
