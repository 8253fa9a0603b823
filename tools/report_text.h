/* The buffer report as text for a terminal (grey-report FILE): largest savings first, call
 * sites as "function (file:line)". */
#ifndef GREY_REPORT_TEXT_H
#define GREY_REPORT_TEXT_H

#include <cJSON.h>
#include <stdio.h>

void grey_report_text(const cJSON *report, FILE *out);

/* One buffer as the text report lists it: address, size, api, pid, call site. */
void grey_report_text_buffer_line(const cJSON *buf, FILE *out);

/* The run summary grey-run prints at exit: exactly three lines, the last naming path. */
void grey_report_summary(const cJSON *report, const char *path, FILE *out);

#endif
