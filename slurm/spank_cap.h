/* The cap of a task whose user gave no --gpu-mem-cap: K shards of a GPU with N shards
 * (--gres=shard:K, Slurm says K in SLURM_SHARDS_ON_NODE) get K/N of that GPU's budget in the
 * admin plan; any other job gets the admin's default_cap; without either, none (the admin
 * plan's process_cap still binds through the hook). */
#ifndef GREY_SPANK_CAP_H
#define GREY_SPANK_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "policy/plan.h"
#include "spank_config.h"

/* plan: the admin plan, or NULL. visible: the node's indexes of the task's GPUs
 * (SLURM_STEP_GPUS, else SLURM_JOB_GPUS, else CUDA_VISIBLE_DEVICES; NULL or "" when unset),
 * shards: its SLURM_SHARDS_ON_NODE (NULL when unset). Returns 1 with *cap and a phrase for
 * messages in how ("2 of GPU 0's 4 shards of its 8.0 GiB budget"), or 0 when no default applies
 * (how then says why the shard rule did not, or ""). */
int spank_default_cap(const struct spank_config *cfg, const struct grey_plan *plan, const char *visible,
                      const char *shards, uint64_t *cap, char *how, size_t howlen);

#endif
