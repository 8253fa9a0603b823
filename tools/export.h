/* Exports of the buffer report for other viewers, made from the report alone (its timeline,
 * report_timeline.h), so a report grey-run kept can be exported later:
 *
 *   grey_export_trace     Chrome/Perfetto trace-event JSON (grey-report --perfetto OUT): per
 *                         process and device a counter track of the bytes held and the buffers
 *                         as async slices named by call site ("[dup]" and category "duplicate"
 *                         for members of a duplicate group), the peak and the optimal peak as
 *                         instant events. Opens in ui.perfetto.dev and chrome://tracing.
 *   grey_export_snapshot  PyTorch's memory snapshot (grey-report --pytorch OUT): the pickle that
 *                         pytorch.org/memory_viz opens, for the process of the peak: each buffer
 *                         still live at the end one segment with one active block, every
 *                         allocation and free in device_traces, frames from the call sites.
 *
 * 0, or -1 with the reason in err (a report without a timeline, a failed write). */
#ifndef GREY_EXPORT_H
#define GREY_EXPORT_H

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>

int grey_export_trace(const cJSON *report, FILE *out, char *err, size_t errlen);
int grey_export_snapshot(const cJSON *report, FILE *out, char *err, size_t errlen);

#endif
