/* The buffer report (JSON) built from raw records: the grouping and the peak come from
 * policy/dedup.h, the function names and source lines from symbolize.h. The report is what
 * grey-run --dedup/--report writes and what grey-report reads; its fields are listed in README
 * ("The buffer report"). */
#ifndef GREY_REPORT_BUILD_H
#define GREY_REPORT_BUILD_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/dedup.h"
#include "policy/rawlog.h"

#define GREY_REPORT_VERSION 1
/* The largest JSON report grey-report reads (its README section says so). */
#define GREY_REPORT_MAX_BYTES (256u << 20)

/* Loads one raw record, or every *.raw in a directory (a directory with none is an error).
 * 0, or -1 with the reason in err. */
int grey_report_load_raw(const char *path, struct grey_raw_process **procs, size_t *nprocs, char *err, size_t errlen);
void grey_report_free_raw(struct grey_raw_process *procs, size_t nprocs);

/* The report for procs; NULL only when memory ran out. */
cJSON *grey_report_build(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt);

/* Reads a report from path: a JSON report (checked to be one), a raw record or a directory of
 * them (built now). *text gets the file's own text for a JSON report (NULL otherwise), so --json
 * can pass it through untouched. NULL with "PATH: why" in err. */
cJSON *grey_report_load(const char *path, const struct grey_dedup_options *opt, char **text, char *err,
                        size_t errlen);

/* Writes the report to path (mode 0600, replaced atomically). 0, or -1 with the reason in err. */
int grey_report_write(const cJSON *report, const char *path, char *err, size_t errlen);

/* The frame of a site to name it by: the first with a source file (the program's own code,
 * compiled with -g), else the first with a function name, else the first. NULL for no frames. */
const cJSON *grey_report_site_frame(const cJSON *site);
/* "function (file:line)", "function", or "module+0xoffset", in buf. */
const char *grey_report_frame_label(const cJSON *frame, char *buf, size_t len);

/* Call sites at the peak as a reader wants them: stacks that name the same frame (the same
 * function and line reached from different callers, or a loop the compiler unrolled) merged into
 * one row, most bytes first. dup: some buffer of a duplicate group was allocated there. Returns
 * the number of rows (at most max). */
struct grey_site_row {
    char label[600];
    double bytes;
    int buffers;
    bool dup;
};
size_t grey_report_peak_rows(const cJSON *report, const char *key, struct grey_site_row *rows, size_t max);

#endif
