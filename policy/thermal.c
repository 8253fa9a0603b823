/* Thermal back-off rules (thermal.h). */
#include "thermal.h"

#include <string.h>

enum grey_thermal_level grey_thermal_next(enum grey_thermal_level cur, unsigned temp_c, unsigned cooldown_c,
                                          unsigned throttle_c)
{
    if (throttle_c && (temp_c >= throttle_c || (cur == GREY_THERMAL_HOT && temp_c + GREY_THERMAL_HYSTERESIS_C > throttle_c)))
        return GREY_THERMAL_HOT;
    if (cooldown_c && (temp_c >= cooldown_c || (cur != GREY_THERMAL_COOL && temp_c + GREY_THERMAL_HYSTERESIS_C > cooldown_c)))
        return GREY_THERMAL_WARM;
    return GREY_THERMAL_COOL;
}

uint32_t grey_thermal_device_share(enum grey_thermal_level level)
{
    switch (level) {
    case GREY_THERMAL_WARM: return GREY_THERMAL_WARM_SHARE;
    case GREY_THERMAL_HOT: return GREY_THERMAL_HOT_SHARE;
    case GREY_THERMAL_COOL: break;
    }
    return 0;
}

uint32_t grey_thermal_process_share(uint32_t device_share, uint32_t weight, uint64_t weight_sum)
{
    if (!device_share)
        return 0;
    uint64_t w = weight ? weight : 1;
    if (weight_sum < w)
        weight_sum = w;
    uint64_t s = (uint64_t)device_share * w / weight_sum;
    return s ? (uint32_t)s : 1;
}

const char *grey_thermal_level_name(enum grey_thermal_level level)
{
    switch (level) {
    case GREY_THERMAL_COOL: return "cool";
    case GREY_THERMAL_WARM: return "over cooldown_temp";
    case GREY_THERMAL_HOT: return "over throttle_temp";
    }
    return "unknown";
}

/* Bits: 0-1 level, 2 dry run, 3 sampled, 8-15 temperature, 16-31 device share, 32-63 seconds. */
uint64_t grey_thermal_pack(const struct grey_thermal_word *w)
{
    uint64_t t = w->temp_c > 255 ? 255 : w->temp_c;
    return ((uint64_t)w->level & 3) | (w->dry_run ? 4u : 0u) | 8u | t << 8 |
           ((uint64_t)(w->device_share & 0xffff)) << 16 | (uint64_t)w->at_s << 32;
}

struct grey_thermal_word grey_thermal_unpack(uint64_t v)
{
    return (struct grey_thermal_word){
        .level = (enum grey_thermal_level)(v & 3),
        .dry_run = (v & 4) != 0,
        .sampled = (v & 8) != 0,
        .temp_c = (unsigned)((v >> 8) & 0xff),
        .device_share = (uint32_t)((v >> 16) & 0xffff),
        .at_s = (uint32_t)(v >> 32),
    };
}

enum grey_plan_thermal grey_thermal_mode(const struct grey_plan *const *plans, unsigned n)
{
    enum grey_plan_thermal user = GREY_THERMAL_UNSET;
    for (unsigned i = 0; i < n; i++) {
        if (plans[i]->thermal == GREY_THERMAL_UNSET)
            continue;
        if (plans[i]->admin)
            return plans[i]->thermal;
        user = plans[i]->thermal;
    }
    return user == GREY_THERMAL_UNSET ? GREY_THERMAL_ON : user;
}

static unsigned lowest(unsigned a, unsigned b) { return !a ? b : !b ? a : a < b ? a : b; }

void grey_thermal_limits(const struct grey_plan *const *plans, unsigned n, int dev, unsigned *cooldown_c,
                         unsigned *throttle_c)
{
    *cooldown_c = *throttle_c = 0;
    if (dev < 0 || dev >= GREY_MAX_DEVICES)
        return;
    for (unsigned i = 0; i < n; i++) {
        const struct grey_plan_device *d = &plans[i]->dev[dev];
        if (!d->present)
            continue;
        *cooldown_c = lowest(*cooldown_c, d->cooldown_temp);
        *throttle_c = lowest(*throttle_c, d->throttle_temp);
    }
}

const char *grey_plan_thermal_name(enum grey_plan_thermal t)
{
    switch (t) {
    case GREY_THERMAL_ON: return "on";
    case GREY_THERMAL_OFF: return "off";
    case GREY_THERMAL_DRY_RUN: return "dry-run";
    case GREY_THERMAL_UNSET: break;
    }
    return "unset";
}

int grey_plan_thermal_parse(const char *text)
{
    if (!text)
        return -1;
    if (strcmp(text, "on") == 0)
        return GREY_THERMAL_ON;
    if (strcmp(text, "off") == 0)
        return GREY_THERMAL_OFF;
    if (strcmp(text, "dry-run") == 0)
        return GREY_THERMAL_DRY_RUN;
    return -1;
}
