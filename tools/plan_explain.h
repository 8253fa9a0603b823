/* grey-plan explain: every value of a plan with its confidence and reason (its KEY.why line), in
 * file order; a value without one says so. */
#ifndef GREY_PLAN_EXPLAIN_H
#define GREY_PLAN_EXPLAIN_H

#include <stdio.h>

#include "policy/plan.h"

void plan_explain(FILE *out, const char *file, const struct grey_plan *plan, const struct grey_plan_notes *notes);

#endif
