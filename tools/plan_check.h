/* grey-plan check: every error of a plan file, not only the first. The parser stops at the first
 * error (inside the hook that is all it needs); here, after an error on a "key = value" line,
 * that line is blanked out and the file parsed again, so each further error is a real one with
 * its own line. An error on a section header or about a whole section ends the list: what
 * follows would be read in the wrong section. */
#ifndef GREY_PLAN_CHECK_H
#define GREY_PLAN_CHECK_H

#include "policy/plan.h"

#define PLAN_CHECK_MAX_ERRORS 20
#define PLAN_CHECK_ERR_LEN 512

/* Returns the number of errors written to errs (0: the plan is valid and loaded into plan/notes,
 * which may be NULL). */
int plan_check_file(const char *path, struct grey_plan *plan, struct grey_plan_notes *notes,
                    char errs[][PLAN_CHECK_ERR_LEN], int max);

#endif
