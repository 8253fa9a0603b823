/* The waste patterns as the renderers show them: the JSON keys under the report's "waste", in
 * the order policy/waste.h numbers them, with their titles, and the text section. */
#ifndef GREY_REPORT_WASTE_H
#define GREY_REPORT_WASTE_H

#include <cJSON.h>
#include <stdio.h>

#define GREY_REPORT_WASTE_PATTERNS 7
extern const char *const grey_report_waste_keys[GREY_REPORT_WASTE_PATTERNS];
extern const char *const grey_report_waste_titles[GREY_REPORT_WASTE_PATTERNS];

/* The optimal peak and the waste patterns as text (grey-report FILE); nothing for a report
 * without them (one made before they existed, or without GREY_DEDUP). */
void grey_report_waste_text(const cJSON *report, FILE *out);

/* The same as a section of the HTML page: the optimal peak, one table per pattern found. */
void grey_report_waste_html(const cJSON *report, FILE *out);

#endif
