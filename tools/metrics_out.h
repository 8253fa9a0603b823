/* The pieces every part of the metrics writer (metrics*.c) shares: an output that remembers a
 * failed write, family headers, escaped label values and the GPU's labels. Private to them. */
#ifndef GREY_METRICS_OUT_H
#define GREY_METRICS_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "ledger_view.h"
#include "metrics.h"

struct metrics_out {
    FILE *f;
    bool failed;
    const struct grey_metrics_options *opt;
    char hostname[256];
};

void metrics_put(struct metrics_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *help);
/* A label value, escaped as the format requires (backslash, double quote, newline). */
void metrics_label_value(struct metrics_out *o, const char *s);
/* Row d's GPU labels, without braces: gpu, UUID, pci_bus_id, device, modelName, Hostname. */
void metrics_gpu_labels(struct metrics_out *o, const struct grey_view *v, int d);
/* "0000:2a:00.0" as NVML and DCGM write it: "00000000:2A:00.0" (anything else unchanged). */
void metrics_pci_dcgm(const char *in, char *out, size_t len);

/* Per-job series (metrics_jobs.c) and per-process series (metrics_process.c). */
void metrics_write_jobs(struct metrics_out *o, const struct grey_view *v);
void metrics_write_processes(struct metrics_out *o, const struct grey_view *v);

/* Seconds from nanoseconds, as the Prometheus base unit asks. */
#define METRICS_SECONDS(ns) ((double)(ns) / 1e9)

#endif
