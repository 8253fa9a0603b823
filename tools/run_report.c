#include "run_report.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/dedup.h"
#include "policy/report_dir.h"
#include "cli_common.h"
#include "report_build.h"
#include "report_text.h"
#include "text_escape.h"


int run_report_prepare(struct run_report *rr, const char *prog, const char *report_opt, bool dedup,
                       const char *report_path, const char *run_id)
{
    memset(rr, 0, sizeof *rr);
    rr->prog = prog;
    rr->dedup = dedup;
    char base[PATH_MAX - 64], err[PATH_MAX + 200];
    if (grey_report_base(cli_settings()->report_base, base, sizeof base, true, err, sizeof err) != 0) {
        cli_error(prog, "report directory: %s; the job was not started", err);
        return -1;
    }
    snprintf(rr->dir, sizeof rr->dir, "%s/run-%s", base, run_id);
    if (grey_report_private_dir(rr->dir, err, sizeof err) != 0) {
        cli_error(prog, "%s; the job was not started", err);
        return -1;
    }
    if (report_path) {
        /* Checked now: a report that cannot be written is found out before the job, not after. */
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", report_path);
        const char *parent = dirname(copy);
        if (access(parent, W_OK | X_OK) != 0) {
            cli_error(prog, "%s %s: cannot write in %s: %s; the job was not started", report_opt, report_path, parent,
                      strerror(errno));
            rmdir(rr->dir);
            return -1;
        }
        snprintf(rr->out, sizeof rr->out, "%s", report_path);
    } else {
        snprintf(rr->out, sizeof rr->out, "%s/report-%s.json", base, run_id);
    }
    if (setenv("GREY_REPORT_DIR", rr->dir, 1) != 0 || (dedup ? setenv("GREY_DEDUP", "1", 1) : unsetenv("GREY_DEDUP")) != 0) {
        cli_error(prog, "cannot set the job's environment: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The raw records are only a transport: gone once the report holds them. */
static void remove_records(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if ((len > 4 && strcmp(de->d_name + len - 4, ".raw") == 0) || strstr(de->d_name, ".raw.tmp")) {
            char path[PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

int run_report_finish(struct run_report *rr, bool quiet)
{
    struct grey_raw_process *procs = NULL;
    size_t n = 0;
    char err[PATH_MAX + 600];
    if (grey_report_load_raw(rr->dir, &procs, &n, err, sizeof err) != 0) {
        /* No record: the job made no GPU allocation through the hook (or never loaded it, which
         * the ledger summary already says loudly). */
        if (!quiet)
            fprintf(stderr, "grey: buffer report: no GPU buffers were recorded (%s)\n", err);
        rmdir(rr->dir);
        return 0;
    }
    struct grey_dedup_options opt;
    grey_dedup_default_options(&opt);
    cJSON *report = grey_report_build(procs, n, &opt);
    grey_report_free_raw(procs, n);
    if (!report) {
        cli_error(rr->prog, "buffer report: out of memory; the raw records stay in %s", rr->dir);
        return -1;
    }
    if (grey_report_write(report, rr->out, err, sizeof err) != 0) {
        cli_error(rr->prog, "buffer report: %s; the raw records stay in %s", err, rr->dir);
        cJSON_Delete(report);
        return -1;
    }
    remove_records(rr->dir);
    if (!quiet && grey_escape_controls(report)) /* program and file names may hold anything */
        grey_report_summary(report, rr->out, stderr);
    cJSON_Delete(report);
    return 0;
}
