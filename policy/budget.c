/* Plan budgets into the ledger header (the rule is in budget.h). */
#include "budget.h"

grey_devmask grey_budget_apply(struct grey_ledger *lg, const struct grey_plan *plan)
{
    struct grey_ledger_header *h = lg->header;
    grey_devmask kept = 0;
    int idle = -1; /* computed once, and only when a conflict needs it: it costs syscalls */
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (!plan->dev[d].present)
            continue;
        uint64_t want = plan->dev[d].budget;
        if (plan->admin) {
            atomic_store(&h->device_budget[d], want);
            atomic_fetch_or(&h->budget_admin, GREY_DEVBIT(d));
            continue;
        }
        uint64_t cur = atomic_load(&h->device_budget[d]);
        if (cur == want)
            continue;
        /* Unset: the first plan sets it; the CAS keeps two first plans from both winning. */
        if (cur == UINT64_MAX && atomic_compare_exchange_strong(&h->device_budget[d], &cur, want))
            continue;
        if (cur == want)
            continue;
        if (!(atomic_load(&h->budget_admin) & GREY_DEVBIT(d))) {
            if (idle < 0)
                idle = grey_ledger_live_slots(lg) == 0;
            if (idle) {
                atomic_store(&h->device_budget[d], want);
                continue;
            }
        }
        kept |= GREY_DEVBIT(d);
    }
    return kept;
}
