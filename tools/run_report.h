/* grey-run --dedup / --report FILE: the buffer report of a job.
 *
 * Before the job, run_report_prepare makes the run's private directory for the raw records
 * (policy/report_dir.h: BASE/run-ID), checks that the report can be written where asked, and
 * tells the job's hook (GREY_REPORT_DIR, GREY_DEDUP). After the job, run_report_finish builds
 * the report from every process's record, writes it (FILE, or BASE/report-ID.json), removes the
 * raw records, and prints three lines: the savings, the peak, where the report is. */
#ifndef GREY_RUN_REPORT_H
#define GREY_RUN_REPORT_H

#include <limits.h>
#include <stdbool.h>

struct run_report {
    const char *prog;        /* who reports problems: "grey-run", or "grey" under Slurm */
    bool dedup;
    char dir[PATH_MAX];      /* the raw records */
    char out[PATH_MAX];      /* the JSON report */
};

/* 0, or -1 after printing "PROG: why" (the job must then not start); report_opt names the
 * option that gave report_path in messages ("--report", "--gpu-dedup"). */
int run_report_prepare(struct run_report *rr, const char *prog, const char *report_opt, bool dedup,
                       const char *report_path, const char *run_id);

/* quiet: write the report, print nothing but problems. 0 when written (or when there was nothing
 * to report), -1 after printing why it could not be. */
int run_report_finish(struct run_report *rr, bool quiet);

#endif
