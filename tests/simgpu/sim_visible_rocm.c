/* The devices a HIP process sees (sim_visible.h), in the two steps ROCm takes:
 *
 *   1. ROCr applies ROCR_VISIBLE_DEVICES to all GPUs (in PCI order): entries are indices (strtol,
 *      any base, nothing may trail) or "GPU-" and a unique prefix of the 16 hex digits (compared
 *      without case, surrounding blanks ignored). The first bad, out-of-range or repeated entry
 *      ends the list; an empty value hides every GPU.
 *   2. CLR applies HIP_VISIBLE_DEVICES, or CUDA_VISIBLE_DEVICES when HIP_VISIBLE_DEVICES is unset,
 *      to what ROCr left: entries are plain decimal indices into that list (no sign, blank or
 *      leading zero) or a GPU-... string, which picks the first GPU whose UUID contains it. The
 *      first bad entry ends the list, a repeated one is skipped, and a variable set to the empty
 *      string hides every GPU (CLR reads it as " ", which is no index).
 * Sources: docs/simgpu.md, "Visibility". */
#include "sim_visible.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MAX 128

struct rocm_view {
    int count;
    int gpu[SIM_NODE_MAX_GPUS];                 /* physical ids, in the order HIP will number them */
    char uuid[SIM_NODE_MAX_GPUS][SIM_ROCM_UUID_TEXT];
};

static bool listed_before(const struct rocm_view *v, int n, int gpu)
{
    for (int i = 0; i < n; i++)
        if (v->gpu[i] == gpu)
            return true;
    return false;
}

/* One ROCR_VISIBLE_DEVICES entry: the GPU it names, or -1. */
static int rocr_entry(const struct sim_settings *set, const struct rocm_view *all, char *entry)
{
    const char *e = sim_list_trim(entry);
    size_t len = strlen(e);
    if (len == 0)
        return -1;
    if (toupper((unsigned char)e[0]) == 'G') {
        /* "GPU-" and at least one digit, at most all sixteen. */
        if (len < 5 || len >= SIM_ROCM_UUID_TEXT)
            return -1;
        const char *texts[SIM_NODE_MAX_GPUS];
        for (int i = 0; i < set->count; i++)
            texts[i] = all->uuid[i];
        return sim_unique_prefix(e, texts, set->count, true);
    }
    char *end;
    long idx = strtol(e, &end, 0);
    return *end || idx < 0 || idx >= set->count ? -1 : (int)idx;
}

static void rocr_filter(const struct sim_settings *set, struct rocm_view *v)
{
    v->count = set->count;
    for (int g = 0; g < set->count; g++) {
        v->gpu[g] = g;
        sim_node_rocm_uuid_text(g, v->uuid[g]);
    }
    const char *list = getenv("ROCR_VISIBLE_DEVICES");
    if (!list)
        return;
    struct rocm_view all = *v;
    char entry[ENTRY_MAX];
    v->count = 0;
    while (v->count < set->count && sim_list_next(&list, entry, sizeof entry)) {
        int g = rocr_entry(set, &all, entry);
        if (g < 0 || listed_before(v, v->count, g))
            return;
        v->gpu[v->count] = g;
        memcpy(v->uuid[v->count], all.uuid[g], SIM_ROCM_UUID_TEXT);
        v->count++;
    }
}

/* One HIP_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES entry: an index into what ROCr left, or -1. */
static int clr_entry(const struct rocm_view *v, const char *entry)
{
    if (strstr(entry, "GPU-")) {
        for (int i = 0; i < v->count; i++)
            if (strstr(v->uuid[i], entry))
                return i;
        return -1;
    }
    char canonical[16];
    int idx = atoi(entry);
    snprintf(canonical, sizeof canonical, "%d", idx);
    return idx >= 0 && idx < v->count && strcmp(canonical, entry) == 0 ? idx : -1;
}

static void clr_filter(struct rocm_view *v, struct sim_visible *out)
{
    const char *hip = getenv("HIP_VISIBLE_DEVICES");
    const char *list = hip ? hip : getenv("CUDA_VISIBLE_DEVICES");
    out->count = 0;
    if (!list) {
        for (int i = 0; i < v->count; i++)
            out->phys[out->count++] = v->gpu[i];
        return;
    }
    if (!*list)
        list = " ";
    char entry[ENTRY_MAX];
    while (out->count < v->count && sim_list_next(&list, entry, sizeof entry)) {
        int i = clr_entry(v, entry);
        if (i < 0)
            return;
        if (!sim_visible_has(out, v->gpu[i]))
            out->phys[out->count++] = v->gpu[i];
    }
}

void sim_visible_hip(const struct sim_settings *set, struct sim_visible *out)
{
    struct rocm_view v;
    rocr_filter(set, &v);
    clr_filter(&v, out);
}
