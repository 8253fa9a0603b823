/* grey-report --artifacts DIR: a text digest of what grey-run --artifacts left in DIR
 * (tools/run_artifacts.h): the VRAM summary per GPU, each GPU's temperature and power range and
 * the seconds it spent at each thermal level with the ceiling applied, and each process's mean
 * entitlement against the share it got; the heat map itself is DIR/fairness.svg, for a browser. */
#ifndef GREY_ARTIFACTS_REPORT_H
#define GREY_ARTIFACTS_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* Prints the digest to out. 0, or -1 with the reason in err (a file missing or malformed). */
int artifacts_report(const char *dir, FILE *out, char *err, size_t errlen);

#endif
