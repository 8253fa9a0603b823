/* The plan writer (the format is policy/plan.h's). */
#ifndef GREY_PLAN_WRITE_H
#define GREY_PLAN_WRITE_H

#include <stdio.h>

#include "policy/plan.h"

/* Writes plan with a comment on every value. Returns 0 or -1 (errno set by the failing write). */
int grey_plan_write(FILE *out, const struct grey_plan *plan);

/* The same with a KEY.why line after every value notes explains (notes may be NULL). */
int grey_plan_write_notes(FILE *out, const struct grey_plan *plan, const struct grey_plan_notes *notes);

#endif
