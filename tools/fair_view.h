/* The fair share as grey-top shows it: per process and device its weight, the share of the
 * device it is entitled to (its weight over the weights of the processes active there), the
 * share it measurably got (its recent device time over everyone's), and the time its launches
 * waited at the gate. Read from the ledger copy that ledger_view.c validated. */
#ifndef GREY_FAIR_VIEW_H
#define GREY_FAIR_VIEW_H

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "fair_shares.h"
#include "ledger_view.h"

/* A "fair share" table after grey-top's process table (nothing when no device saw launches). */
void grey_fair_print_text(FILE *f, const struct grey_view *v);

/* A "fair_share" object in a process's device entry of grey-top --json. */
void grey_fair_json(cJSON *device_entry, const struct grey_view *v, unsigned i, int dev);

#endif
