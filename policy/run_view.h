/* What one run (all processes a grey-run started, or one process on its own) holds on a device,
 * read from the ledger: the view NVML queries report inside a capped job, so that nvidia-smi run
 * inside the job shows the job, not the whole node. */
#ifndef GREY_RUN_VIEW_H
#define GREY_RUN_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct grey_run_process {
    int32_t pid;
    uint64_t used;
};

/* Processes of self's run (self alone when it has no run id, or when header is NULL) holding
 * memory on dev, at most max of them written to out; returns how many there are in all, and
 * their total bytes in *used_total. Slots are read with atomic loads; the ledger header must
 * be a validated mapping. */
size_t grey_run_view(const struct grey_ledger_header *header, const struct grey_slot *self, int dev,
                     struct grey_run_process *out, size_t max, uint64_t *used_total);

#endif
