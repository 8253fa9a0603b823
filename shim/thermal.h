/* Thermal back-off through the pacer (policy/thermal.h has the rules). A thread of the hook's
 * own, started by the pacer's slow path when some GPU row has a cooldown_temp or throttle_temp
 * to watch, reads the temperature of each GPU this process launched on once a second (NVML,
 * thermal_nvml.c), moves the GPU's level on in the ledger, and sets this process's thermal
 * ceiling on the row: the pacer holds the process to the lower of it and --max-share. The launch
 * path only loads grey_thermal_share; nothing it does waits for NVML. */
#ifndef GREY_SHIM_THERMAL_H
#define GREY_SHIM_THERMAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/limits.h"

/* This process's thermal ceiling per row, in 1/10000 of the device (0: none). */
extern _Atomic uint32_t grey_thermal_share[GREY_MAX_DEVICES];

/* From the slow path: starts the watcher once per process when there is something to watch. */
void grey_thermal_maybe_start(void);
/* In a fork child: the watcher thread did not come along; the next slow path starts another. */
void grey_thermal_fork_child(void);

/* thermal_nvml.c: row's GPU temperature in degrees C; false when NVML cannot say. */
bool grey_thermal_read_c(int row, unsigned *temp_c);

#endif
