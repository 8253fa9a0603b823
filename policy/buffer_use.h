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

#include <stdbool.h>
#include <stdint.h>

/* 56 bytes, kept small because every tracked record carries it (the alloc/free path copies the
 * record): launch positions are deltas from the allocation's, saturating, and a pending write is
 * one flag for a write that covered the whole buffer. */
struct grey_buffer_use {
    uint64_t alloc_launch;     /* launches issued before the allocation */
    uint64_t first_ticks;      /* grey_ticks() of the first use */
    uint64_t gap_ticks;        /* the longest gap between two consecutive uses, in ticks */
    uint64_t dead_bytes;       /* bytes of writes overwritten whole before any use */
    uint32_t first_delta;      /* launches from the allocation to the first use */
    uint32_t last_delta;       /* ... to the end of the latest use */
    uint32_t gap_launches;     /* launches in the longest gap between two uses */
    uint32_t free_delta;       /* ... to the free (set in the freed history) */
    uint16_t uses;             /* uses seen (saturating) */
    uint16_t dead_writes;      /* writes overwritten whole before any use (saturating) */
    uint8_t pending;           /* the latest write covered the whole buffer and nothing used it yet */
};

/* Launches from the allocation to position at, saturating at UINT32_MAX. */
static inline uint32_t grey_use_delta(const struct grey_buffer_use *u, uint64_t at)
{
    uint64_t d = at > u->alloc_launch ? at - u->alloc_launch : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

enum grey_use_kind {
    GREY_USE_READ = 0,   /* a kernel argument or a copy's source: uses what was written */
    GREY_USE_WRITE,      /* a copy's destination or a memset: only writes */
};

/* Notes one use at launch positions [before, after] and time now; last_ticks is the previous
 * use's time (0: none). A write says whether it covered the whole buffer (whole) and how many
 * bytes the buffer has: a whole write over a whole write nobody used is a dead write; a partial
 * write ends the pending one without counting it (a buffer filled in parts is not written twice,
 * and a partly overwritten write was partly used). Pure; called under the tracker's shard lock. */
void grey_use_note(struct grey_buffer_use *u, enum grey_use_kind kind, uint64_t before, uint64_t after,
                   uint64_t now, uint64_t last_ticks, bool whole, uint64_t bytes);

#endif
