/* Quota admission for one process on one device: the reserve / commit / release steps every
 * allocation family goes through.
 *
 *   quota_reserve   before the driver is called: would the process stay within its cap? If so
 *                   the bytes are counted at once (a CAS loop), so two threads racing for the
 *                   last bytes cannot both get them. If not, the denial is recorded.
 *   quota_commit    the driver said yes: count the allocation, raise the peak.
 *   quota_release   the driver said no after a reservation, or the memory was freed.
 *
 * Counters live in the process's ledger slot (struct grey_slot_device); no locks, no syscalls. */
#ifndef GREY_QUOTA_H
#define GREY_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

bool quota_reserve(struct grey_slot_device *dev, uint64_t bytes);
void quota_commit(struct grey_slot_device *dev);
void quota_release(struct grey_slot_device *dev, uint64_t bytes);
/* Freed memory: release plus the frees counter. */
void quota_free(struct grey_slot_device *dev, uint64_t bytes);

/* The capped view of device memory that memory queries report:
 * total = min(cap, physical total), free = min(cap - used, physical free). */
void quota_view(const struct grey_slot_device *dev, uint64_t phys_free, uint64_t phys_total,
                uint64_t *free_out, uint64_t *total_out);

#endif
