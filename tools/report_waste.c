/* The report's "waste" and "optimal_peak" members (README, "The buffer report"), from
 * policy/waste.h's analysis. */
#include <stdio.h>

#include "report_builder.h"
#include "report_waste.h"

const char *const grey_report_waste_keys[GREY_REPORT_WASTE_PATTERNS] = {
    "early_allocation", "late_deallocation", "temporary_idle", "unused_allocation",
    "redundant_allocation", "dead_write", "memory_leak",
};
const char *const grey_report_waste_titles[GREY_REPORT_WASTE_PATTERNS] = {
    "Early allocation", "Late deallocation", "Temporary idle", "Unused allocation",
    "Redundant allocation", "Dead write", "Memory leak",
};
_Static_assert(GREY_REPORT_WASTE_PATTERNS == GREY_WASTE_KINDS, "one key per pattern");

void grey_report_waste_frames(struct grey_report_builder *b, const struct grey_waste_result *w)
{
    for (int k = 0; k < GREY_WASTE_KINDS; k++)
        for (size_t i = 0; i < w->count[k] && i < GREY_REPORT_LIST_MAX; i++) {
            grey_report_add_buffer_frames(b, w->findings[k][i].ref);
            if (k == GREY_WASTE_REDUNDANT)
                grey_report_add_buffer_frames(b, w->findings[k][i].other);
        }
}

/* What each pattern's "launches" counts, for a reader of the JSON. */
static const char *const launches_mean[GREY_WASTE_KINDS] = {
    "launches between the allocation and the first use",
    "launches between the last use and the free (or the end)",
    "launches in the longest gap between two uses",
    "launches while it was allocated",
    "launches between the free of the buffer it could reuse and its allocation",
    "dead writes (a copy or memset overwritten before any use)",
    "unused",
};

static cJSON *finding_json(struct grey_report_builder *b, enum grey_waste_kind k, const struct grey_waste_finding *f)
{
    cJSON *o = grey_report_buffer_json(b, f->ref);
    if (k == GREY_WASTE_DEAD_WRITE)
        cJSON_AddNumberToObject(o, "dead_writes", (double)f->launches);
    else if (k != GREY_WASTE_LEAK)
        cJSON_AddNumberToObject(o, "launches", (double)f->launches);
    cJSON_AddNumberToObject(o, "wasted_bytes", (double)f->bytes);
    cJSON_AddNumberToObject(o, "wasted_seconds", f->seconds);
    cJSON_AddNumberToObject(o, "wasted_byte_seconds", (double)f->bytes * f->seconds);
    if (k == GREY_WASTE_REDUNDANT)
        cJSON_AddItemToObject(o, "could_reuse", grey_report_buffer_json(b, f->other));
    return o;
}

void grey_report_add_waste(struct grey_report_builder *b, cJSON *root, const struct grey_waste_result *w,
                           const struct grey_dedup_options *opt)
{
    cJSON *waste = cJSON_AddObjectToObject(root, "waste");
    cJSON *th = cJSON_AddObjectToObject(waste, "thresholds");
    cJSON_AddNumberToObject(th, "early_launches", (double)opt->early_launches);
    cJSON_AddNumberToObject(th, "late_launches", (double)opt->late_launches);
    cJSON_AddNumberToObject(th, "idle_launches", (double)opt->idle_launches);
    double launches = 0;
    for (size_t p = 0; p < b->nprocs; p++)
        launches += (double)b->procs[p].hdr.launches;
    cJSON_AddNumberToObject(waste, "launches", launches);
    for (int k = 0; k < GREY_WASTE_KINDS; k++) {
        cJSON *o = cJSON_AddObjectToObject(waste, grey_waste_kind_name(k));
        cJSON_AddNumberToObject(o, "count", (double)w->count[k]);
        cJSON_AddNumberToObject(o, "wasted_bytes", (double)w->bytes[k]);
        cJSON_AddNumberToObject(o, "wasted_byte_seconds", w->byte_seconds[k]);
        cJSON_AddStringToObject(o, "launches_mean", launches_mean[k]);
        cJSON *arr = cJSON_AddArrayToObject(o, "buffers");
        for (size_t i = 0; i < w->count[k] && i < GREY_REPORT_LIST_MAX; i++)
            cJSON_AddItemToArray(arr, finding_json(b, k, &w->findings[k][i]));
    }
    if (w->optimal_proc < 0) {
        cJSON_AddNullToObject(root, "optimal_peak");
        return;
    }
    const struct grey_raw_process *p = &b->procs[w->optimal_proc];
    cJSON *opk = cJSON_AddObjectToObject(root, "optimal_peak");
    cJSON_AddNumberToObject(opk, "pid", p->hdr.pid);
    cJSON_AddNumberToObject(opk, "bytes", (double)p->hdr.kernel_peak_bytes);
    cJSON_AddNumberToObject(opk, "launch", (double)p->hdr.kernel_peak_launch);
    cJSON_AddNumberToObject(opk, "time_s", grey_report_rel_s(p, p->hdr.kernel_peak_ns));
    cJSON_AddStringToObject(opk, "meaning", "the most bytes one kernel launch was given");
}
