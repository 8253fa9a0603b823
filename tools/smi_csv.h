/* Parsing `nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits`: one line per GPU, the
 * fields in the order asked for, separated by ", ", "[N/A]" or "[Not Supported]" where the GPU
 * has no such value (documented in `nvidia-smi --help-query-gpu`). */
#ifndef GREY_SMI_CSV_H
#define GREY_SMI_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "gpu_facts.h"

/* The --query-gpu list grey asks for. compute_cap is newer than the rest (older nvidia-smi refuse
 * the whole query over it), so it comes last and can be left out. */
const char *smi_csv_query(bool with_cc);

/* Parses the output of that query into out (NVIDIA devices, smi_index from the index column).
 * Lines with the wrong number of fields or an index that is not a number are garbage: noted and
 * skipped. A value that is "[N/A]", empty or not a number leaves its field unknown (noted when
 * malformed); a memory size of 0 is not trusted. When the text does not end with a newline its
 * last line may be cut short: that device is marked partial. Returns the number of devices. */
int smi_csv_parse(const char *text, size_t len, bool with_cc, struct gpu_list *out);

#endif
