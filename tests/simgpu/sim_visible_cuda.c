/* The devices a CUDA process sees (sim_visible.h), as the CUDA driver derives them:
 *
 *   1. CUDA_DEVICE_ORDER orders the GPUs: PCI_BUS_ID by PCI address (= physical id here),
 *      FASTEST_FIRST (the default, and what any other value means) by SMs x clock, fastest first,
 *      ties in PCI order. With identical GPUs both orders coincide.
 *   2. CUDA_VISIBLE_DEVICES, when set, lists what is visible and in which order: indices into the
 *      order of step 1, GPU-<uuid> or MIG-<uuid> (a unique prefix will do). The first invalid entry
 *      ends the list; a device named twice before that hides every device; an empty value hides
 *      all of them.
 *   3. In MIG mode a GPU stands for its first instance, and only one instance is ever enumerated:
 *      the first one listed (CUDA then shows no whole GPU either).
 * Sources and the choices made where they are silent: docs/simgpu.md, "Visibility". */
#include "sim_visible.h"
#include "sim_trace.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENTRY_MAX 128

struct cuda_view {
    const struct sim_settings *set;
    int order[SIM_NODE_MAX_GPUS];            /* GPUs in CUDA_DEVICE_ORDER order */
    char uuid[SIM_PHYS_MAX][SIM_UUID_TEXT];
    const char *gpu_uuids[SIM_NODE_MAX_GPUS];
    const char *mig_uuids[SIM_NODE_MAX_GPUS * SIM_MIG_INSTANCES];
    int mig_phys[SIM_NODE_MAX_GPUS * SIM_MIG_INSTANCES];
    int mig_count;
};

static uint64_t speed(const struct sim_settings *set, int gpu)
{
    struct sim_phys_desc d;
    sim_node_describe(set, gpu, &d);
    return (uint64_t)d.sms * (uint64_t)d.clock_khz;
}

static void order_gpus(struct cuda_view *v)
{
    const char *mode = getenv("CUDA_DEVICE_ORDER");
    bool pci = mode && strcmp(mode, "PCI_BUS_ID") == 0;
    if (mode && !pci && strcmp(mode, "FASTEST_FIRST") != 0)
        sim_trace("CUDA_DEVICE_ORDER '%s' is neither FASTEST_FIRST nor PCI_BUS_ID: FASTEST_FIRST", mode);
    int n = v->set->count;
    for (int i = 0; i < n; i++)
        v->order[i] = i;
    if (pci)
        return;
    /* Insertion sort: stable, so equally fast GPUs keep their PCI order. */
    for (int i = 1; i < n; i++) {
        int g = v->order[i], j = i;
        for (; j > 0 && speed(v->set, v->order[j - 1]) < speed(v->set, g); j--)
            v->order[j] = v->order[j - 1];
        v->order[j] = g;
    }
}

static void collect_uuids(struct cuda_view *v)
{
    for (int g = 0; g < v->set->count; g++) {
        sim_node_uuid_text(g, v->uuid[g]);
        v->gpu_uuids[g] = v->uuid[g];
        for (int k = 0; v->set->mig && k < SIM_MIG_INSTANCES; k++) {
            int p = sim_phys_mig(g, k);
            sim_node_uuid_text(p, v->uuid[p]);
            v->mig_uuids[v->mig_count] = v->uuid[p];
            v->mig_phys[v->mig_count++] = p;
        }
    }
}

/* What CUDA enumerates for a GPU: the GPU itself, or in MIG mode its first instance. */
static int unit_of(const struct cuda_view *v, int gpu)
{
    return v->set->mig ? sim_phys_mig(gpu, 0) : gpu;
}

/* An index is read the way strtoul reads it, as the driver is observed to: leading blanks and a
 * '+' are skipped and the digits that follow count, whatever trails them ("1gpu" is 1). */
static int index_entry(const struct cuda_view *v, const char *e)
{
    if (*e == '+')
        e++;
    if (!isdigit((unsigned char)*e))
        return -1;
    long idx = 0;
    for (; isdigit((unsigned char)*e) && idx < SIM_NODE_MAX_GPUS; e++)
        idx = idx * 10 + (*e - '0');
    return idx < v->set->count ? unit_of(v, v->order[idx]) : -1;
}

/* The physical device an entry names, or -1 for an invalid one. */
static int resolve(const struct cuda_view *v, char *entry)
{
    const char *e = sim_list_trim(entry);
    if (strncasecmp(e, "GPU-", 4) == 0) {
        int g = sim_unique_prefix(e, v->gpu_uuids, v->set->count, true);
        return g < 0 ? -1 : unit_of(v, g);
    }
    if (strncasecmp(e, "MIG-", 4) == 0) {
        int i = sim_unique_prefix(e, v->mig_uuids, v->mig_count, true);
        return i < 0 ? -1 : v->mig_phys[i];
    }
    return index_entry(v, e);
}

static void listed(const struct cuda_view *v, const char *list, struct sim_visible *out)
{
    char entry[ENTRY_MAX];
    out->count = 0;
    while (out->count < SIM_PHYS_MAX && sim_list_next(&list, entry, sizeof entry)) {
        int p = resolve(v, entry);
        if (p < 0)
            return;
        if (sim_visible_has(out, p)) {
            sim_trace("CUDA_VISIBLE_DEVICES names a device twice: no device is visible");
            out->count = 0;
            return;
        }
        out->phys[out->count++] = p;
    }
}

/* CUDA enumerates a single MIG instance, and then no whole GPU: keep the first instance. */
static void one_instance(struct sim_visible *out)
{
    for (int i = 0; i < out->count; i++) {
        if (sim_phys_is_mig(out->phys[i])) {
            out->phys[0] = out->phys[i];
            out->count = 1;
            return;
        }
    }
}

void sim_visible_cuda(const struct sim_settings *set, struct sim_visible *out)
{
    struct cuda_view v = {.set = set};
    order_gpus(&v);
    collect_uuids(&v);
    const char *list = getenv("CUDA_VISIBLE_DEVICES");
    if (list) {
        listed(&v, list, out);
    } else {
        out->count = set->count;
        for (int i = 0; i < set->count; i++)
            out->phys[i] = unit_of(&v, v.order[i]);
    }
    one_instance(out);
}
