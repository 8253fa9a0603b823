/* The default cap of a Slurm task: see spank_cap.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/size.h"
#include "spank_cap.h"

/* The GPU a shard job runs on: Slurm gives a step shards of one GPU and names it by its index
 * on the node, which the admin plan's [device N] sections follow. -1 when not a number. */
static int first_index(const char *visible)
{
    if (!visible || !*visible)
        return -1;
    char *end;
    long i = strtol(visible, &end, 10);
    if (end == visible || (*end && *end != ',') || i < 0 || i >= GREY_MAX_DEVICES)
        return -1;
    return (int)i;
}

int spank_default_cap(const struct spank_config *cfg, const struct grey_plan *plan, const char *visible,
                      const char *shards, uint64_t *cap, char *how, size_t howlen)
{
    snprintf(how, howlen, "%s", "");
    if (shards && *shards && cfg->shards_per_gpu) {
        char *end;
        unsigned long k = strtoul(shards, &end, 10);
        int dev = first_index(visible);
        if (*end || k == 0 || k > cfg->shards_per_gpu)
            snprintf(how, howlen, "SLURM_SHARDS_ON_NODE=%s is not 1..%u shards", shards, cfg->shards_per_gpu);
        else if (dev < 0)
            snprintf(how, howlen, "the task's GPU list '%s' names no GPU index", visible ? visible : "");
        else if (!plan || !plan->dev[dev].present)
            snprintf(how, howlen, "the admin plan has no [device %d] budget", dev);
        else {
            uint64_t budget = plan->dev[dev].budget;
            /* budget / N * K, not budget * K / N: no overflow for any budget, and K shards
             * out of N never add up to more than the budget. */
            *cap = budget / cfg->shards_per_gpu * k;
            char b[32];
            snprintf(how, howlen, "%lu of GPU %d's %u shards of its %s budget", k, dev, cfg->shards_per_gpu,
                     grey_size_format(budget, b, sizeof b));
            return 1;
        }
    }
    if (cfg->have_default_cap) {
        *cap = cfg->default_cap;
        char b[32];
        size_t used = strlen(how);
        snprintf(how + used, howlen - used, "%sthe default cap %s", used ? "; " : "",
                 grey_size_format(*cap, b, sizeof b));
        return 1;
    }
    return 0;
}
