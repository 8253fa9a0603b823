#include "run_view.h"

/* Lists s when it holds memory on dev. */
static void add_holder(const struct grey_slot *s, int dev, struct grey_run_process *out, size_t max,
                       size_t *count, uint64_t *total)
{
    uint64_t used = atomic_load_explicit(&s->dev[dev].used, memory_order_relaxed);
    if (used == 0 || s->pid <= 0)
        return;
    if (*count < max)
        out[*count] = (struct grey_run_process){.pid = s->pid, .used = used};
    (*count)++;
    *total += used;
}

size_t grey_run_view(const struct grey_ledger_header *header, const struct grey_slot *self, int dev,
                     struct grey_run_process *out, size_t max, uint64_t *used_total)
{
    size_t count = 0;
    *used_total = 0;
    if (dev < 0 || dev >= GREY_MAX_DEVICES)
        return 0;
    if (!header || self->run_id == 0) {
        add_holder(self, dev, out, max, &count, used_total);
        return count;
    }
    /* The slots follow the header (policy/ledger.c's layout, checked when it was mapped). The
     * count in the header was checked then too, but anyone who may write the file may change it
     * since: the mapping holds GREY_LEDGER_SLOTS, and that is what is read. */
    const struct grey_slot *slots = (const struct grey_slot *)(header + 1);
    for (uint32_t i = 0; i < GREY_LEDGER_SLOTS; i++) {
        const struct grey_slot *s = &slots[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) == GREY_SLOT_ACTIVE && s->run_id == self->run_id)
            add_holder(s, dev, out, max, &count, used_total);
    }
    return count;
}
