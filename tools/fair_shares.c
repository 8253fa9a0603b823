/* The shares of fair_shares.h: apart from fair_view.c's renderers, so that the metrics writer
 * (and what links it, e.g. the ledger fuzzer) needs no JSON library. */
#include "fair_shares.h"

#include "policy/weights.h"

void grey_fair_shares(const struct grey_view *v, unsigned i, int dev, double *entitled, double *measured)
{
    double wsum = 0, rsum = 0;
    for (unsigned j = 0; j < v->nprocs; j++) {
        const struct grey_view_fair *f = &v->proc[j].fair[dev];
        if (f->active)
            wsum += f->weight;
        rsum += (double)f->recent_ns;
    }
    const struct grey_view_fair *me = &v->proc[i].fair[dev];
    *entitled = me->active && wsum > 0 ? me->weight / wsum : 0;
    if (me->active && me->max_share && *entitled > me->max_share / (double)GREY_SHARE_ONE)
        *entitled = me->max_share / (double)GREY_SHARE_ONE;
    *measured = rsum > 0 ? (double)me->recent_ns / rsum : 0;
}
