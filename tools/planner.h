/* From detected GPUs and the settings of every layer to a plan: per device a budget, a
 * per-process cap, thermal thresholds and batch/chunk hints, and at the top the inputs and a
 * default weight. Every value gets a confidence and a one-line reason (the plan's KEY.why lines).
 *
 * The rules, each explained in the reason it writes:
 *   budget        90% of VRAM (or of the largest MIG instance), or the asked-for budget; never
 *                 above VRAM or an admin budget
 *   process_cap   by mode 75% / 85% / 90% of VRAM; with N tenants at most a share of the budget:
 *                 budget / N (safe), x 1.25 (balanced), x 1.5 (aggressive: they seldom peak
 *                 together, and the budget still stops them jointly), never below a floor of
 *                 1 GiB or the model's footprint; never above the budget or the plans' ceilings
 *   temperatures  throttle = the slowdown point the hardware reports, cooldown 3 C below it;
 *                 unknown: the vendor defaults of the earlier project (NVIDIA 83/70, AMD 85/72,
 *                 Intel 80/65 C), with low confidence
 *   batch_size    from the memory left for activations (cap minus the model's footprint: weights
 *                 x 1.2 for inference, x 4 for training with Adam): <=4 GiB 8, <=8 GiB 16,
 *                 <=16 GiB 32, <=24 GiB 64, more 128; x2 for inference, x2 aggressive, scaled by
 *                 SM count against an A100's 108 (0.5x..2x), x the power limit over what the SMs
 *                 draw at full clocks (3.7 W each, 0.25x..1x), a power of two
 *   chunk_size    that activation memory / 8 (safe), / 6 (balanced), / 4 (aggressive), halved
 *                 again when the power limit is below 75% of what the SMs draw, at least
 *                 512 MiB, at most the cap */
#ifndef GREY_PLANNER_H
#define GREY_PLANNER_H

#include "policy/plan.h"
#include "gpu_facts.h"
#include "plan_layers.h"

#define PLANNER_WARNINGS 32

struct planner_result {
    struct grey_plan plan;
    struct grey_plan_notes notes;
    int planned;                                   /* devices in the plan */
    unsigned device_confidence[GREY_MAX_DEVICES];  /* per planned device, permille */
    int nwarnings;
    char warnings[PLANNER_WARNINGS][240];          /* for stderr: clamps, devices left out */
};

/* Plans for the devices of gpus (finished by gpu_list_finish) with the resolved layers. Devices
 * whose VRAM nobody reported are left out (a warning each): a cap from an unknown size would be a
 * guess the hook enforces. Returns the number of devices planned (0: nothing to plan). */
int planner_run(const struct gpu_list *gpus, const struct plan_layers *L, struct planner_result *out);

#endif
