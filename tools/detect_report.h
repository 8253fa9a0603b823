/* How grey-plan detect shows the detection chain's result: a table (one row per GPU, the columns
 * earlier versions printed), each device's other facts with their sources, which sources answered,
 * and the notes; or JSON. An unknown value is shown as "-" (JSON null), never as 0. */
#ifndef GREY_DETECT_REPORT_H
#define GREY_DETECT_REPORT_H

#include <cJSON.h>
#include <stdio.h>

#include "detect_chain.h"

void detect_report_text(FILE *out, const struct detect_result *r);

/* An array of device objects: index, vendor, name, uuid, pci_bus_id, vram_total_bytes,
 * vram_free_bytes, sm_count, compute_capability, ... (null when unknown), source, confidence
 * (0..1), partial, and fields: [{field, from, confidence}] for every known field. */
cJSON *detect_report_json(const struct detect_result *r);

#endif
