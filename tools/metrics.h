/* The ledger in Prometheus text exposition format (version 0.0.4), as grey-top --prometheus
 * prints it and grey-exporter serves it: one writer, so the two never disagree. */
#ifndef GREY_METRICS_H
#define GREY_METRICS_H

#include <stdio.h>

#include "ledger_view.h"

/* Writes every metric of v, each family with its HELP and TYPE lines. Returns 0, or -1 when a
 * write failed. Users should be named first (grey_view_name_users). */
int grey_metrics_write(FILE *f, const struct grey_view *v);

/* The Content-Type that goes with it. */
#define GREY_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
