/* Per-row thermal settings (thermal_config.h), one word each so the watcher thread reads a
 * consistent set without a lock: bit 24 set, mode in bits 16-23, throttle_temp 8-15, cooldown 0-7. */
#include "thermal_config.h"

#include <stdatomic.h>
#include <stdint.h>

#include "policy/limits.h"

static _Atomic uint32_t config[GREY_MAX_DEVICES];
static _Atomic bool any_row; /* some row has something to watch */

void grey_thermal_config_set(int row, const struct grey_thermal_config *c)
{
    if (row < 0 || row >= GREY_MAX_DEVICES)
        return;
    unsigned cool = c->cooldown_c > 255 ? 255 : c->cooldown_c, hot = c->throttle_c > 255 ? 255 : c->throttle_c;
    atomic_store(&config[row], 1u << 24 | (uint32_t)c->mode << 16 | hot << 8 | cool);
    struct grey_thermal_config check;
    if (grey_thermal_config_get(row, &check))
        atomic_store(&any_row, true);
}

bool grey_thermal_config_get(int row, struct grey_thermal_config *out)
{
    if (row < 0 || row >= GREY_MAX_DEVICES)
        return false;
    uint32_t v = atomic_load_explicit(&config[row], memory_order_relaxed);
    out->mode = (enum grey_plan_thermal)((v >> 16) & 0xff);
    out->throttle_c = (v >> 8) & 0xff;
    out->cooldown_c = v & 0xff;
    return (v >> 24) && out->mode != GREY_THERMAL_OFF && (out->cooldown_c || out->throttle_c);
}

bool grey_thermal_config_any(void)
{
    return atomic_load_explicit(&any_row, memory_order_relaxed);
}
