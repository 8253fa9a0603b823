/* The GPUs this process has met, as rows of its ledger's GPU table (policy/ledger_gpu.h): every
 * count, cap, budget and fair-share line is kept by row, so two processes that see one GPU under
 * different numbers share its budget, and a process never confuses two GPUs it sees as device 0
 * in two of its vendors (CUDA and HIP number their devices separately).
 *
 * The shims identify a device once per vendor ordinal (shim/devices.h) and bind it here; binding
 * is off the hot path (once per GPU and process) and sets the process's limits for that GPU:
 * its cap, weight and ceiling in its slot, and the plans' budget for it in the ledger, with the
 * plan sections chosen by policy/plan_gpus.h. */
#ifndef GREY_CORE_DEVICES_H
#define GREY_CORE_DEVICES_H

#include <stdbool.h>

#include "policy/ledger_gpu.h"
#include "policy/plan_gpus.h"

/* The row of GPU id, bound on first sight. locate says where a plan's UUIDs are on this node
 * (policy/plan_gpus.h; NULL: nowhere known). -1 when id has no UUID or every row is taken: such a
 * device is not accounted. */
int grey_device_bind(const struct grey_gpu_id *id, grey_uuid_locate_fn locate, void *arg);

/* The identity row r was bound with; false when this process never bound it. */
bool grey_device_identity(int row, struct grey_gpu_id *out);

/* "GPU 2 (GPU-8f3a1c2e)": how messages name a row (the physical index when known, a short
 * UUID). buf of 64 bytes is enough. */
const char *grey_device_label(int row, char *buf, size_t len);

#endif
