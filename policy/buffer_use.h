/* How one buffer was used, on the clock of kernel launches: what the waste patterns of the
 * buffer report (policy/waste.h, after DrGPUM) are computed from.
 *
 * The hook counts the kernel launches it sees (every launch entry point, a graph launch as one)
 * while GREY_DEDUP is on; a buffer's events are placed on that count. A kernel use is the launch
 * itself, so it starts before the launch (`before`) and ends after it (`after` = before + 1); a
 * copy or memset sits between launches (before == after). Kept in the tracker's record and in
 * the freed history, so it costs nothing on the alloc/free path but its copy. */
#ifndef GREY_BUFFER_USE_H
#define GREY_BUFFER_USE_H

#include <stdint.h>

struct grey_buffer_use {
    uint64_t alloc_launch;     /* launches issued before the allocation */
    uint64_t free_launch;      /* launches issued before the free (0 while live) */
    uint64_t first_launch;     /* launches issued before the first use */
    uint64_t last_launch;      /* launches issued by the end of the latest use */
    uint64_t first_ticks;      /* grey_ticks() of the first use */
    uint64_t gap_launches;     /* the longest gap between two consecutive uses ... */
    uint64_t gap_ticks;        /* ... and its length in ticks */
    uint64_t gap_end_ticks;    /* when it ended (the use after it) */
    uint32_t uses;             /* uses seen (saturating) */
    uint32_t dead_writes;      /* writes overwritten by a later write before any use */
    uint64_t dead_bytes;       /* bytes those dead writes wrote */
    uint64_t pending_offset;   /* the latest write no use has seen yet: its offset in the buffer */
    uint64_t pending_bytes;    /* and its bytes; 0: none */
};

enum grey_use_kind {
    GREY_USE_READ = 0,   /* a kernel argument or a copy's source: uses what was written */
    GREY_USE_WRITE,      /* a copy's destination or a memset: only writes */
};

/* Notes one use at launch positions [before, after] and time now; last_ticks is the previous
 * use's time (0: none). A write wrote bytes at offset into the buffer: it kills the pending
 * write only when it covers all of it (a buffer filled in parts is not written twice). Pure;
 * called under the tracker's shard lock. */
void grey_use_note(struct grey_buffer_use *u, enum grey_use_kind kind, uint64_t before, uint64_t after,
                   uint64_t now, uint64_t last_ticks, uint64_t offset, uint64_t bytes);

#endif
