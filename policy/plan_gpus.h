/* Which [device N] section of a plan applies to which GPU.
 *
 * A plan's sections are numbered by physical index (the order NVML and nvidia-smi use), and may
 * name their GPU by UUID (grey-plan writes both). A process sees GPUs under numbers of its own,
 * and the ledger counts them by GPU row, so before a plan's caps, weights and budgets apply, its
 * sections are put in row order: for the GPU of each row,
 *   1. the section whose uuid is that GPU's;
 *   2. else the section numbered with the GPU's physical index, when it names no UUID (a plan
 *      written before UUIDs) or names one that is on no GPU of this node (a plan written on
 *      another node: applied by index, and said once);
 *   3. else none.
 * A MIG instance (a "MIG-" UUID) only ever matches by UUID: its parent GPU's section sizes the
 * whole GPU, not one instance. */
#ifndef GREY_PLAN_GPUS_H
#define GREY_PLAN_GPUS_H

#include <stdbool.h>

#include "ledger_gpu.h"
#include "plan.h"

/* Whether some GPU of this node has the UUID (asked only for sections whose UUID matched no
 * row); arg is the caller's. */
typedef bool (*grey_uuid_on_node_fn)(const char *uuid, void *arg);

/* The plan in row order: out is in, its [device] sections moved to the rows of bound (bit r:
 * rows[r] is a GPU) they apply to; sections for no bound row are dropped. *foreign gets bit r for
 * a row that took a section by index although the section named another UUID (rule 2). */
void grey_plan_for_rows(const struct grey_plan *in, const struct grey_gpu_id rows[GREY_MAX_DEVICES],
                        grey_devmask bound, grey_uuid_on_node_fn on_node, void *arg, struct grey_plan *out,
                        grey_devmask *foreign);

/* The section of plan that applies to GPU id (the rules above), or -1; *foreign as above. */
int grey_plan_section_for(const struct grey_plan *plan, const struct grey_gpu_id *id, grey_uuid_on_node_fn on_node,
                          void *arg, bool *foreign);

#endif
