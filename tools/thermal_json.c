/* The thermal word as JSON (thermal_json.h). */
#include "thermal_json.h"

#include "policy/thermal.h"
#include "policy/weights.h"

void grey_thermal_json(cJSON *device_entry, uint64_t word)
{
    struct grey_thermal_word w = grey_thermal_unpack(word);
    if (!w.sampled) {
        cJSON_AddNullToObject(device_entry, "thermal");
        return;
    }
    static const char *const names[] = {"cool", "warm", "hot"};
    cJSON *o = cJSON_AddObjectToObject(device_entry, "thermal");
    cJSON_AddStringToObject(o, "level", names[w.level <= GREY_THERMAL_HOT ? w.level : 0]);
    cJSON_AddNumberToObject(o, "temp_c", w.temp_c);
    cJSON_AddBoolToObject(o, "dry_run", w.dry_run);
    uint32_t share = w.dry_run || !w.device_share ? GREY_SHARE_ONE : w.device_share;
    cJSON_AddNumberToObject(o, "ceiling_pct", share * 100.0 / GREY_SHARE_ONE);
    cJSON_AddNumberToObject(o, "sampled_at_s", w.at_s);
}
