/* The buffer tracker: every live device buffer of this process, keyed by address.
 *
 * A free names only an address, so the tracker is what tells the hook how many bytes to give
 * back, to which device, and whether the address was ours at all (an unknown or twice-freed
 * pointer moves no counter). It also holds what the buffer report needs: when and where each
 * buffer was allocated, how it was used, and the fingerprint of its contents.
 *
 * Concurrency: the table is split into shards by address, each an open-addressing hash table
 * behind its own mutex, so threads allocating different buffers rarely meet and no lock is
 * global. Records are recycled through a per-shard free list, and a shard keeps its slots when it
 * empties (it resizes only well past a threshold, tracker.c), so steady-state alloc/free churn
 * calls malloc never, at one live buffer as at a hundred thousand. */
#ifndef GREY_TRACKER_H
#define GREY_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer_use.h"
#include "fingerprint.h"

/* How the program used a buffer (grey_buffer_info.touched), recorded with GREY_DEDUP on. */
enum grey_touch {
    GREY_TOUCH_UPLOAD = 1u << 0,   /* a host-to-device copy wrote it */
    GREY_TOUCH_COPY_IN = 1u << 1,  /* a device-to-device copy wrote it */
    GREY_TOUCH_COPY_OUT = 1u << 2, /* a copy read it (to the host or another buffer) */
    GREY_TOUCH_MEMSET = 1u << 3,
    GREY_TOUCH_KERNEL = 1u << 4,   /* it was passed to a kernel */
};

/* Where a fingerprint came from (grey_buffer_info.fp_source). */
enum grey_fp_source {
    GREY_FP_NONE = 0,
    GREY_FP_UPLOAD,       /* the host bytes of a copy that covered the whole buffer */
    GREY_FP_PERIODIC,     /* read back at a periodic snapshot */
    GREY_FP_PEAK,         /* read back when the process was at its peak */
    GREY_FP_TEARDOWN,     /* read back before its context was destroyed */
    GREY_FP_EXIT,         /* read back at exit */
    GREY_FP_LIVE,         /* read back for grey-report --live */
};

struct grey_buffer_info {
    uint64_t addr;      /* the key: a device address, or a tagged handle (arrays, VMM) */
    uint64_t bytes;     /* bytes counted against the quota */
    uint64_t context;   /* the driver context it belongs to (freed with it) */
    uint64_t pool;      /* memory pool for stream-ordered allocations, else 0 */
    uint32_t device;
    uint32_t api;       /* which allocation family made it; the shim's numbering */
    /* For the buffer report (set by the hook; zero when it does not record them). */
    uint64_t alloc_ticks;    /* grey_ticks() at allocation: with addr, names this allocation */
    uint32_t site;           /* call site (policy/sites.h) */
    uint32_t touched;        /* enum grey_touch bits */
    uint64_t last_use_ticks; /* the latest touch */
    struct grey_fp fp;       /* contents at fp_ticks */
    uint64_t fp_ticks;
    uint32_t fp_source;      /* enum grey_fp_source; GREY_FP_NONE: no fingerprint */
    uint32_t fp_stale;       /* written since the fingerprint was taken */
    /* Last, so that a plain process copies records without it (tracker_keep_use). */
    struct grey_buffer_use use; /* on the launch clock, for the waste patterns (GREY_DEDUP) */
};

/* Whether records keep their use (the last member, grey_buffer_info.use): on in a recording
 * process, set before its first buffer; off, records are copied without it (tracker.c). */
void tracker_keep_use(bool on);

/* Records a live buffer. Returns 0, or -1 when memory for the entry could not be had (the
 * caller then cannot account the buffer and should undo the allocation). An address already
 * present is replaced: the driver handed it out again, so the old record was stale. */
int tracker_add(const struct grey_buffer_info *info);

/* tracker_add that also hands back the stale record it replaced (*replaced set true), so its
 * bytes can leave the per-site accounting. */
int tracker_add_replacing(const struct grey_buffer_info *info, struct grey_buffer_info *old, bool *replaced);

/* A hint that addr is about to be added: starts loading the line of the table it goes to, so
 * that with many buffers live the cache miss overlaps the caller's other work (the call-site
 * capture) rather than happening under the shard lock. Two relaxed loads and a prefetch. */
void tracker_prefetch(uint64_t addr);

/* Calls fn on addr's record in place, under its shard lock (fn must be short and must not call
 * the tracker). False when addr is not tracked. */
bool tracker_update(uint64_t addr, void (*fn)(struct grey_buffer_info *, void *), void *arg);

/* Walking every live record without holding a lock for the whole walk, in bounded memory:
 *   uint32_t pass = tracker_next_pass();
 *   while ((n = tracker_collect(pass, batch, N)) > 0) ... use batch[0..n) ...
 * Each call copies up to max records not yet collected in this pass and marks them. Records
 * added during the walk are collected too; removed ones are not. One walk at a time. */
uint32_t tracker_next_pass(void);
size_t tracker_collect(uint32_t pass, struct grey_buffer_info *out, size_t max);

/* Removes addr and copies its record to *out. Returns false when addr is not tracked. */
bool tracker_remove(uint64_t addr, struct grey_buffer_info *out);

/* Looks addr up without removing it. */
bool tracker_find(uint64_t addr, struct grey_buffer_info *out);

/* Removes every buffer of context and calls fn on each record (after the shard lock is
 * dropped). For a context the driver destroyed, taking its memory with it. Returns the count. */
size_t tracker_remove_context(uint64_t context, void (*fn)(const struct grey_buffer_info *, void *), void *arg);

/* A record whose memory is gone for good (freed, or destroyed with its context), for the buffer
 * report: the hook sets one observer (at most), and every free path that succeeded calls
 * tracker_retire. tracker_remove_context retires what it removes itself. Removals that may still
 * be undone (tracker_remove before the vendor's free) are not retirements. */
void tracker_set_retire_hook(void (*fn)(const struct grey_buffer_info *info));
void tracker_retire(const struct grey_buffer_info *info);

/* Number of live buffers and their total bytes (for tests and the summary). */
void tracker_totals(uint64_t *count, uint64_t *bytes);

/* What the tracker allocated, for tests and diagnostics: a warm tracker allocates nothing per
 * allocation/free pair. */
struct grey_tracker_stats {
    uint64_t table_allocs;  /* hash tables (or their buckets) allocated: created or resized */
    uint64_t entry_allocs;  /* records allocated rather than taken from a free list */
};
void tracker_stats(struct grey_tracker_stats *out);

/* fork handlers: hold every shard lock across fork so the child never inherits one held by a
 * thread that does not exist in it. The child starts with an empty table (its device memory is
 * not its parent's). */
void tracker_fork_prepare(void);
void tracker_fork_parent(void);
void tracker_fork_child(void);

#endif
