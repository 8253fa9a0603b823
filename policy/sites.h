/* Call sites of allocations: each distinct stack (raw return addresses) is stored once and named
 * by a small id, and per site the tracker keeps how many bytes it holds now and held at the
 * process's peak.
 *
 * Interning runs on every allocation, so the common case (a stack seen before) takes no lock and
 * allocates nothing: an open-addressing table of fixed size, claimed slot by slot with
 * compare-and-swap, frames in a fixed pool. When the table or the pool is full, new stacks are
 * counted as dropped and their allocations attributed to GREY_SITE_NONE, at the cost of the
 * lookup that found no room: memory stays bounded in the longest run, and time too. A thread
 * that meets its stack still being published by another waits for it, boundedly: a claim that
 * cannot finish is given up for good (sites_stats: abandoned), never left pending for every
 * later lookup of that stack to wait on.
 *
 * The peak: a process total is kept with one atomic add; every new maximum starts a new peak
 * "epoch". Each site remembers its bytes at the latest epoch lazily: the first time the site
 * changes after an epoch began, it copies its current (pre-change) value as its value at that
 * peak. A site untouched since the peak still holds its peak value. So the composition of the
 * peak costs two relaxed loads per allocation, not a copy of the table at every new maximum. It
 * is exact when allocations do not race; racing threads can misplace the bytes of the racing
 * allocations between the peak and the moment just before it. */
#ifndef GREY_SITES_H
#define GREY_SITES_H

#include <stdbool.h>
#include <stdint.h>

#define GREY_SITE_MAX_DEPTH 32
#define GREY_SITE_NONE 0          /* unattributed: sites off, no frames, or the table full */
#define GREY_SITES_CAP 8192       /* slots, slot 0 being GREY_SITE_NONE */
#define GREY_SITE_FRAME_POOL (GREY_SITES_CAP * 12)

/* The id of this stack (ips[0] innermost), interned on first sight. GREY_SITE_NONE when depth
 * is 0 or there is no room left (counted in sites_dropped). depth is clamped to
 * GREY_SITE_MAX_DEPTH. */
uint32_t sites_intern(const uint64_t *ips, unsigned depth);

/* Accounting: bytes of a tracked buffer allocated at (or freed from) site id, at time ticks. */
void sites_alloc(uint32_t id, uint64_t bytes, uint64_t ticks);
void sites_free(uint32_t id, uint64_t bytes);

struct grey_site_info {
    uint32_t id;
    unsigned depth;
    uint64_t frames[GREY_SITE_MAX_DEPTH];
    uint64_t live_bytes, live_count;   /* now */
    uint64_t peak_bytes, peak_count;   /* at the process's peak */
    uint64_t allocs, alloc_bytes;      /* since the start */
};

/* Site id's record; false for an id never handed out (GREY_SITE_NONE always exists). */
bool sites_get(uint32_t id, struct grey_site_info *out);

struct grey_peak {
    uint64_t bytes;      /* the most bytes live at once */
    uint64_t ticks;      /* when (grey_ticks), 0 before the first allocation */
    uint64_t live;       /* live now */
};
void sites_peak(struct grey_peak *out);

/* Stacks not interned for lack of room. */
uint64_t sites_dropped(void);

/* The child of a fork holds no buffers: zero every counter, keep the stacks. A stack another
 * thread of the parent was still publishing never will be here: its slot is given up. */
void sites_reset_accounting(void);

/* Where the table stands, for tests and diagnostics (a walk of the whole table: not for the
 * allocation path). */
struct grey_sites_stats {
    uint32_t ready;        /* slots holding a stack */
    uint32_t pending;      /* slots claimed whose frames are not published (yet) */
    uint32_t abandoned;    /* slots whose claim could not finish (no room for the frames, or
                              a claimer gone), passed over for good */
    uint32_t frames_used;  /* of GREY_SITE_FRAME_POOL */
    uint64_t waits;        /* lookups that found their stack's slot pending and waited for it */
    uint64_t yields;       /* sched_yield calls made while waiting */
};
void sites_stats(struct grey_sites_stats *out);

/* For tests: fn runs in every claimer between claiming a slot and publishing its frames, so a
 * test can stop a claimer half-way. NULL (the default) for none. */
void sites_set_claim_hook(void (*fn)(void));

#endif
