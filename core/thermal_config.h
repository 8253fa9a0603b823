/* The thermal back-off settings of each GPU row this process bound (core/process.c sets them
 * from the plans when it binds a row; shim/thermal.c reads them once a second): whether back-off
 * is on, off or a dry run, and the row's cooldown_temp and throttle_temp (policy/thermal.h). */
#ifndef GREY_CORE_THERMAL_CONFIG_H
#define GREY_CORE_THERMAL_CONFIG_H

#include <stdbool.h>

#include "policy/plan.h"

struct grey_thermal_config {
    enum grey_plan_thermal mode;
    unsigned cooldown_c, throttle_c; /* 0: not given */
};

void grey_thermal_config_set(int row, const struct grey_thermal_config *c);
/* False when row has nothing to watch: never bound, thermal = off, or no threshold. */
bool grey_thermal_config_get(int row, struct grey_thermal_config *out);
/* True when some row has something to watch (one load per row: for the pacer's slow path). */
bool grey_thermal_config_any(void);

#endif
