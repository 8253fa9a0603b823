/* grey-report --node: identical large buffers held by different jobs of one node, from the
 * fingerprint table beside the ledger (policy/fp_table.h) and the ledger's live processes. */
#ifndef GREY_REPORT_NODE_H
#define GREY_REPORT_NODE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The groups as JSON: table, processes, buffers, reclaimable_bytes, groups (each bytes_each,
 * count, jobs, reclaimable_bytes, gpu_row, gpu, fingerprint, buffers: pid, run_id, address).
 * NULL with the reason in err. */
cJSON *grey_node_duplicates(const char *ledger_path, char *err, size_t errlen);

/* --verify: reads every member back through its process's agent (tools/live_client.h) and
 * compares its bytes with the group's first member; adds "verified" (and "verify_error") to each
 * buffer after the first and "verified_equal" to each group. */
void grey_node_verify(cJSON *root);

/* Prints the groups (text, or JSON with json), verified when verify, for the ledger at
 * ledger_path. 0, or -1 with the reason in err (no table, a damaged one, an unreadable ledger). */
int grey_report_node(const char *ledger_path, bool json, bool verify, FILE *out, char *err, size_t errlen);

#endif
