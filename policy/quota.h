/* Quota admission: the reserve / commit / release steps every allocation family goes through.
 *
 *   quota_reserve   before the driver is called: would the process stay within its cap, and the
 *                   device within its budget (all hooked processes together)? If so the bytes are
 *                   counted at once with compare-and-swap, so two threads or two processes racing
 *                   for the last bytes cannot both get them. If not, the denial is recorded.
 *                   The device total is raised before the process's own count and lowered after
 *                   it, so the sum of all slots never exceeds device_used, even mid-call.
 *   quota_commit    the driver said yes: count the allocation, raise the peak.
 *   quota_release   the driver said no after a reservation: undo it.
 *   quota_free      the memory was freed: give the bytes back.
 *
 * Counters live in the process's ledger slot and the ledger header (shared memory); no locks,
 * no syscalls. */
#ifndef GREY_QUOTA_H
#define GREY_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

/* Where one process's quota lives. budgets may be NULL: then only the process cap applies.
 * reclaim, when set, is called once when the device budget denies an allocation: it may give
 * dead processes' bytes back (a rate-limited ledger scan, syscalls allowed on this failure path),
 * after which the budget is tried once more. */
struct grey_quota {
    struct grey_slot *slot;
    struct grey_ledger_header *budgets;
    void (*reclaim)(const struct grey_quota *q, int dev);
    /* With grey-noded (policy/node_limits.h): per GPU row, the service's sealed budget and cap
     * ceiling, copied into this process's own memory. The ledger is writable by every member of
     * the node's group, so its device_budget and the slot's cap could have been raised by one;
     * these cannot. When set, the budget is budget_ceiling[dev] (the ledger's is not consulted)
     * and the cap is the smaller of the slot's and cap_ceiling[dev]. NULL: no service. */
    const uint64_t *budget_ceiling;
    const uint64_t *cap_ceiling;
};

/* Why quota_reserve said no. */
enum grey_denial { GREY_ADMITTED = 0, GREY_DENIED_CAP, GREY_DENIED_BUDGET };

enum grey_denial quota_reserve(const struct grey_quota *q, int dev, uint64_t bytes);
void quota_commit(const struct grey_quota *q, int dev);
void quota_release(const struct grey_quota *q, int dev, uint64_t bytes);
void quota_free(const struct grey_quota *q, int dev, uint64_t bytes);

/* The capped view of device memory that memory queries report:
 * total = min(cap, physical total), free = min(cap - used, budget left, physical free). */
void quota_view(const struct grey_quota *q, int dev, uint64_t phys_free, uint64_t phys_total,
                uint64_t *free_out, uint64_t *total_out);

#endif
