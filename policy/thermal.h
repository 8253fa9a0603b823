/* Thermal back-off: how hard the processes on a hot GPU are held back, decided from its
 * temperature and the plan's cooldown_temp and throttle_temp (shim/thermal.c applies it).
 *
 * Levels, with hysteresis so that a GPU hovering at a threshold does not flap:
 *   cool  until the GPU reaches cooldown_temp: nothing changes;
 *   warm  from cooldown_temp until it is back at cooldown_temp - GREY_THERMAL_HYSTERESIS_C: the
 *         device's hooked processes together may use GREY_THERMAL_WARM_SHARE of it;
 *   hot   from throttle_temp until it is back at throttle_temp - GREY_THERMAL_HYSTERESIS_C (then
 *         warm or cool as above): together GREY_THERMAL_HOT_SHARE.
 * The device's allowed share is split by weight: a process gets allowed * its weight / the sum
 * of the weights of the processes active on the device, as a ceiling (--max-share's token
 * bucket), so the weights' ratio is kept while the total drops. A process's own --max-share still
 * applies when it is lower.
 *
 * The state of a device is one word in the ledger (struct grey_fair_device's thermal): every
 * hooked process on the GPU samples it at most once a second and moves it on with one
 * compare-and-swap, so all of them follow one level. */
#ifndef GREY_POLICY_THERMAL_H
#define GREY_POLICY_THERMAL_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

enum grey_thermal_level { GREY_THERMAL_COOL = 0, GREY_THERMAL_WARM = 1, GREY_THERMAL_HOT = 2 };

#define GREY_THERMAL_HYSTERESIS_C 2u
#define GREY_THERMAL_WARM_SHARE 5000u /* 1/10000 of the device: 50% over cooldown_temp */
#define GREY_THERMAL_HOT_SHARE 2500u  /* 25% over throttle_temp */

/* The level after reading temp_c at level cur; a threshold of 0 is not set. */
enum grey_thermal_level grey_thermal_next(enum grey_thermal_level cur, unsigned temp_c, unsigned cooldown_c,
                                          unsigned throttle_c);
/* What the device's processes together may use at a level, in 1/10000; 0: no limit. */
uint32_t grey_thermal_device_share(enum grey_thermal_level level);
/* One process's part of device_share: by its weight among the active ones' sum (weights of 0
 * count as 1), at least 1 (a ceiling of 0 would mean none). 0 when device_share is 0. */
uint32_t grey_thermal_process_share(uint32_t device_share, uint32_t weight, uint64_t weight_sum);

const char *grey_thermal_level_name(enum grey_thermal_level level);

/* The ledger word: level, whether it was decided in dry run, temperature (C, at most 255),
 * device share, and when (CLOCK_MONOTONIC seconds). 0 is "never sampled". */
struct grey_thermal_word {
    enum grey_thermal_level level;
    bool dry_run;
    unsigned temp_c;
    uint32_t device_share;
    uint32_t at_s;
    bool sampled;
};
uint64_t grey_thermal_pack(const struct grey_thermal_word *w);
struct grey_thermal_word grey_thermal_unpack(uint64_t v);

/* Which setting applies: the admin plan's when it has one, else the user's, else on. */
enum grey_plan_thermal grey_thermal_mode(const struct grey_plan *const *plans, unsigned n);
/* The thresholds for a device section: the lowest non-zero over the plans (a user may back off
 * earlier than the admin asks, not later). 0: not given. */
void grey_thermal_limits(const struct grey_plan *const *plans, unsigned n, int dev, unsigned *cooldown_c,
                         unsigned *throttle_c);

const char *grey_plan_thermal_name(enum grey_plan_thermal t);
/* "on" / "off" / "dry-run" -> the setting; -1 for anything else. */
int grey_plan_thermal_parse(const char *text);

#endif
