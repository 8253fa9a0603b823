/* Which [device N] section of a plan applies to which GPU.
 *
 * A plan's sections are numbered by physical index (the order NVML and nvidia-smi use), and may
 * name their GPU by UUID (grey-plan writes both). A process sees GPUs under numbers of its own,
 * and the ledger counts them by GPU row, so before a plan's caps, weights and budgets apply, its
 * sections are put in row order: for the GPU of each row,
 *   1. the section whose uuid is that GPU's;
 *   2. else a section whose uuid this node places on the same board (the GPU's other name: HIP
 *      and CUDA name one board differently; a MIG instance's GPU, for an instance);
 *   3. else the section numbered with the GPU's physical index, when it names no UUID (a plan
 *      written before UUIDs) or names one that is on no GPU of this node (a plan written on
 *      another node: applied by index, and said once);
 *   4. else none: a section whose UUID is another GPU of this node is that GPU's alone.
 * A MIG instance is a device with its own budget: it takes the section with its own UUID, else
 * its GPU's (rules 2 and 3, with its GPU's index), each instance on its own. grey-plan sizes a
 * MIG GPU's section for one instance; an admin's section sized for the whole GPU lets no instance
 * hold more than its own memory all the same. */
#ifndef GREY_PLAN_GPUS_H
#define GREY_PLAN_GPUS_H

#include <stdbool.h>

#include "ledger_gpu.h"
#include "plan.h"

/* Where a UUID is on this node: true when some GPU or MIG instance here has it, with *index the
 * physical index of its GPU (a MIG instance's: its GPU's; -1 unknown) and *mig whether it is an
 * instance. arg is the caller's. Asked only for sections whose UUID is not the row's own. */
typedef bool (*grey_uuid_locate_fn)(const char *uuid, void *arg, int *index, bool *mig);

/* The plan in row order: out is in, its [device] sections moved to the rows of bound (bit r:
 * rows[r] is a GPU) they apply to; sections for no bound row are dropped. *foreign gets bit r for
 * a row that took a section by index although the section named a UUID not on this node (rule 3). */
void grey_plan_for_rows(const struct grey_plan *in, const struct grey_gpu_id rows[GREY_MAX_DEVICES],
                        grey_devmask bound, grey_uuid_locate_fn locate, void *arg, struct grey_plan *out,
                        grey_devmask *foreign);

/* The section of plan that applies to GPU id (the rules above), or -1; *foreign as above. */
int grey_plan_section_for(const struct grey_plan *plan, const struct grey_gpu_id *id, grey_uuid_locate_fn locate,
                          void *arg, bool *foreign);

#endif
