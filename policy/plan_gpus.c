/* A plan's sections in GPU-row order (see plan_gpus.h). */
#include "plan_gpus.h"

#include <string.h>

int grey_plan_section_for(const struct grey_plan *plan, const struct grey_gpu_id *id, grey_uuid_on_node_fn on_node,
                          void *arg, bool *foreign)
{
    *foreign = false;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (plan->dev[d].present && plan->dev[d].uuid[0] && grey_uuid_equal(plan->dev[d].uuid, id->uuid))
            return d;
    if (strncmp(id->uuid, "MIG-", 4) == 0 || id->index < 0 || id->index >= GREY_MAX_DEVICES)
        return -1;
    const struct grey_plan_device *s = &plan->dev[id->index];
    if (!s->present)
        return -1;
    if (!s->uuid[0])
        return id->index;
    if (on_node && on_node(s->uuid, arg))
        return -1; /* that section is another GPU's, here under a different number */
    *foreign = true;
    return id->index;
}

void grey_plan_for_rows(const struct grey_plan *in, const struct grey_gpu_id rows[GREY_MAX_DEVICES],
                        grey_devmask bound, grey_uuid_on_node_fn on_node, void *arg, struct grey_plan *out,
                        grey_devmask *foreign)
{
    *out = *in;
    memset(out->dev, 0, sizeof out->dev);
    out->ndevices = 0;
    *foreign = 0;
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        if (!(bound & GREY_DEVBIT(r)))
            continue;
        bool by_index_despite_uuid;
        int d = grey_plan_section_for(in, &rows[r], on_node, arg, &by_index_despite_uuid);
        if (d < 0)
            continue;
        out->dev[r] = in->dev[d];
        out->ndevices = (unsigned)r + 1 > out->ndevices ? (unsigned)r + 1 : out->ndevices;
        if (by_index_despite_uuid)
            *foreign |= GREY_DEVBIT(r);
    }
}
