/* One buffer's use on the launch clock (buffer_use.h). */
#include "buffer_use.h"

void grey_use_note(struct grey_buffer_use *u, enum grey_use_kind kind, uint64_t before, uint64_t after,
                   uint64_t now, uint64_t last_ticks, bool whole, uint64_t bytes)
{
    uint32_t start = grey_use_delta(u, before), end = grey_use_delta(u, after);
    if (u->uses == 0) {
        u->first_delta = start;
        u->first_ticks = now;
    } else {
        /* The gap since the previous use ended: launches that ran while the buffer sat idle. */
        uint32_t gap = start > u->last_delta ? start - u->last_delta : 0;
        if (gap > u->gap_launches) {
            u->gap_launches = gap;
            u->gap_ticks = now > last_ticks ? now - last_ticks : 0;
        }
    }
    if (u->uses != UINT16_MAX)
        u->uses++;
    if (end > u->last_delta)
        u->last_delta = end;
    if (kind == GREY_USE_WRITE) {
        /* A whole write over a whole write nobody used since: that write was for nothing. */
        if (u->pending && whole) {
            if (u->dead_writes != UINT16_MAX)
                u->dead_writes++;
            u->dead_bytes += bytes;
        }
        u->pending = whole;
    } else {
        u->pending = 0;
    }
}
