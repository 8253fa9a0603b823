/* The ledger in Prometheus text exposition format (version 0.0.4), as grey-top --prometheus
 * prints it and grey-exporter serves it: one writer, so the two never disagree.
 *
 * GPU series carry the DCGM exporter's label names and values (gpu, UUID, pci_bus_id, device,
 * modelName, Hostname) so that a query can join them with DCGM's without relabelling. Jobs are
 * series keyed by grey_run_id; a process's own series (pid, and the program's basename only if
 * asked) are off by default, because pids churn series and command lines are nobody's business
 * on an unauthenticated port. */
#ifndef GREY_METRICS_H
#define GREY_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "ledger_view.h"

struct grey_metrics_options {
    bool per_process;      /* grey_process_* series, labelled pid and grey_run_id */
    bool process_names;    /* with per_process: a program label, the basename of argv[0] */
    const char *hostname;  /* the Hostname label of GPU series; NULL or "": this host's name */
};

/* Writes every metric of v, each family with its HELP and TYPE lines. Returns 0, or -1 when a
 * write failed. opt NULL: the defaults (no per-process series). */
int grey_metrics_write(FILE *f, const struct grey_view *v, const struct grey_metrics_options *opt);

/* The Content-Type that goes with it. */
#define GREY_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
