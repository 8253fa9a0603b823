/* The buffer report as one self-contained HTML page (grey-report --html OUT): no script, no
 * external file. An inline SVG bar chart shows the bytes each call site held at the peak, with
 * the sites that allocated duplicate buffers highlighted, followed by the groups of identical
 * buffers and the lists of unused and idle buffers. */
#ifndef GREY_REPORT_HTML_H
#define GREY_REPORT_HTML_H

#include <cJSON.h>
#include <stdio.h>

void grey_report_html(const cJSON *report, FILE *out);

/* The memory-over-time picture (report_html_timeline.c), drawn beside the bar chart. */
void grey_report_html_timeline(const cJSON *report, FILE *out);

/* Writes s with &, <, >, " and ' as entities: text from the report is escaped wherever it lands. */
void grey_html_escape(FILE *out, const char *s);

#endif
