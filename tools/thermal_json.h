/* A GPU's thermal state for the tools' JSON (grey-top --json's devices): the ledger word
 * (policy/thermal.h) as {"level": "cool" | "warm" | "hot", "temp_c", "dry_run",
 * "ceiling_pct": the device share its hooked processes may have together (100: none),
 * "sampled_at_s": CLOCK_MONOTONIC seconds}; null when no hooked process ever sampled it. */
#ifndef GREY_THERMAL_JSON_H
#define GREY_THERMAL_JSON_H

#include <cJSON.h>
#include <stdint.h>

void grey_thermal_json(cJSON *device_entry, uint64_t word);

#endif
