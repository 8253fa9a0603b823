/* A plan's sections in GPU-row order (see plan_gpus.h). */
#include "plan_gpus.h"

#include <string.h>

/* Rule 2: the section whose UUID this node places on the board id is (or, for an instance, on
 * its GPU): a whole GPU at id's physical index. */
static int section_of_board(const struct grey_plan *plan, const struct grey_gpu_id *id, grey_uuid_locate_fn locate,
                            void *arg)
{
    if (!locate || id->index < 0)
        return -1;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        const struct grey_plan_device *s = &plan->dev[d];
        int index;
        bool mig;
        if (s->present && s->uuid[0] && locate(s->uuid, arg, &index, &mig) && !mig && index == id->index)
            return d;
    }
    return -1;
}

int grey_plan_section_for(const struct grey_plan *plan, const struct grey_gpu_id *id, grey_uuid_locate_fn locate,
                          void *arg, bool *foreign)
{
    *foreign = false;
    for (int d = 0; id->uuid[0] && d < GREY_MAX_DEVICES; d++)
        if (plan->dev[d].present && plan->dev[d].uuid[0] && grey_uuid_equal(plan->dev[d].uuid, id->uuid))
            return d;
    int d = section_of_board(plan, id, locate, arg);
    if (d >= 0)
        return d;
    if (id->index < 0 || id->index >= GREY_MAX_DEVICES)
        return -1;
    const struct grey_plan_device *s = &plan->dev[id->index];
    if (!s->present)
        return -1;
    if (!s->uuid[0])
        return id->index;
    int index;
    bool mig;
    if (locate && locate(s->uuid, arg, &index, &mig))
        return -1; /* rule 4: that section is another GPU's (or instance's) of this node */
    *foreign = true;
    return id->index;
}

void grey_plan_for_rows(const struct grey_plan *in, const struct grey_gpu_id rows[GREY_MAX_DEVICES],
                        grey_devmask bound, grey_uuid_locate_fn locate, void *arg, struct grey_plan *out,
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
        int d = grey_plan_section_for(in, &rows[r], locate, arg, &by_index_despite_uuid);
        if (d < 0)
            continue;
        out->dev[r] = in->dev[d];
        out->ndevices = (unsigned)r + 1 > out->ndevices ? (unsigned)r + 1 : out->ndevices;
        if (by_index_despite_uuid)
            *foreign |= GREY_DEVBIT(r);
    }
}
