/* The admin's arguments to the grey SPANK plugin, from its plugstack.conf line:
 *
 *   required /usr/local/lib/slurm/grey_spank.so hook=/usr/local/lib/libgreyhook.so \
 *            plan=/etc/grey/plan.conf default_cap=8GiB shards_per_gpu=4
 *
 *   hook=PATH         the hook library (required; must be readable when a task starts)
 *   plan=PATH         the node's admin plan: budgets per GPU, its caps, the node ledger; given to
 *                     the hook as GREY_ADMIN_PLAN (the hook's own /etc/grey/plan.conf wins where
 *                     it exists, as everywhere)
 *   default_cap=SIZE  the per-process cap of a job that gives no --gpu-mem-cap
 *   shards_per_gpu=N  each GPU's shard count in gres.conf: a job with --gres=shard:K and no
 *                     --gpu-mem-cap is capped at K/N of its GPU's budget in the plan
 * Pure: the plugin reports what this returns through Slurm's log. */
#ifndef GREY_SPANK_CONFIG_H
#define GREY_SPANK_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spank_config {
    char hook[PATH_MAX];
    char plan[PATH_MAX];            /* "" when not given */
    bool have_default_cap;
    uint64_t default_cap;
    unsigned shards_per_gpu;        /* 0 when not given */
};

/* 0, or -1 with a reason naming the bad argument in err. */
int spank_config_parse(int ac, char **av, struct spank_config *out, char *err, size_t errlen);

#endif
