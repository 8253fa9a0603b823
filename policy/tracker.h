/* The buffer tracker: every live device buffer of this process, keyed by address.
 *
 * A free names only an address, so the tracker is what tells the hook how many bytes to give
 * back, to which device, and whether the address was ours at all (an unknown or twice-freed
 * pointer moves no counter). Later it also holds call sites and fingerprints for the dedup
 * report.
 *
 * Concurrency: the table is split into shards by address, each a uthash table behind its own
 * mutex, so threads allocating different buffers rarely meet and no lock is global. Entries are
 * recycled through a per-shard free list, so steady-state alloc/free churn calls malloc never. */
#ifndef GREY_TRACKER_H
#define GREY_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grey_buffer_info {
    uint64_t addr;      /* the key: a device address, or a tagged handle (arrays, VMM) */
    uint64_t bytes;     /* bytes counted against the quota */
    uint64_t context;   /* the driver context it belongs to (freed with it) */
    uint64_t pool;      /* memory pool for stream-ordered allocations, else 0 */
    uint32_t device;
    uint32_t api;       /* which allocation family made it; the shim's numbering */
};

/* Records a live buffer. Returns 0, or -1 when memory for the entry could not be had (the
 * caller then cannot account the buffer and should undo the allocation). An address already
 * present is replaced: the driver handed it out again, so the old record was stale. */
int tracker_add(const struct grey_buffer_info *info);

/* Removes addr and copies its record to *out. Returns false when addr is not tracked. */
bool tracker_remove(uint64_t addr, struct grey_buffer_info *out);

/* Looks addr up without removing it. */
bool tracker_find(uint64_t addr, struct grey_buffer_info *out);

/* Removes every buffer of context and calls fn on each record (after the shard lock is
 * dropped). For a context the driver destroyed, taking its memory with it. Returns the count. */
size_t tracker_remove_context(uint64_t context, void (*fn)(const struct grey_buffer_info *, void *), void *arg);

/* Number of live buffers and their total bytes (for tests and the summary). */
void tracker_totals(uint64_t *count, uint64_t *bytes);

/* fork handlers: hold every shard lock across fork so the child never inherits one held by a
 * thread that does not exist in it. The child starts with an empty table (its device memory is
 * not its parent's). */
void tracker_fork_prepare(void);
void tracker_fork_parent(void);
void tracker_fork_child(void);

#endif
