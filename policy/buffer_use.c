/* One buffer's use on the launch clock (buffer_use.h). */
#include "buffer_use.h"

void grey_use_note(struct grey_buffer_use *u, enum grey_use_kind kind, uint64_t before, uint64_t after,
                   uint64_t now, uint64_t last_ticks, uint64_t offset, uint64_t bytes)
{
    if (u->uses == 0) {
        u->first_launch = before;
        u->first_ticks = now;
    } else {
        /* The gap since the previous use ended: launches that ran while the buffer sat idle. */
        uint64_t gap = before > u->last_launch ? before - u->last_launch : 0;
        if (gap > u->gap_launches) {
            u->gap_launches = gap;
            u->gap_ticks = now > last_ticks ? now - last_ticks : 0;
            u->gap_end_ticks = now;
        }
    }
    if (u->uses != UINT32_MAX)
        u->uses++;
    if (after > u->last_launch)
        u->last_launch = after;
    if (kind == GREY_USE_WRITE) {
        /* A write over all the bytes of a write nobody used since: that write was for nothing. */
        if (u->pending_bytes && offset <= u->pending_offset &&
            offset + bytes >= u->pending_offset + u->pending_bytes) {
            if (u->dead_writes != UINT32_MAX)
                u->dead_writes++;
            u->dead_bytes += u->pending_bytes;
        }
        u->pending_offset = offset;
        u->pending_bytes = bytes ? bytes : 1;
    } else {
        u->pending_bytes = 0;
    }
}
