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
 * compares its bytes with the group's first member. Adds to each buffer after the first
 * "verified", "verify_result" (equal, differs, unreadable) and, unless equal, "verify_error"
 * ("the bytes differ at offset N", or why it could not be read); to each group "verified_equal",
 * "verified_differ", "verified_unreadable" and "confirmed" (every member equal to the first); to
 * root "verified_reclaimable_bytes" (the members equal to their group's first, times its size)
 * and "unconfirmed_groups", which it returns. */
unsigned grey_node_verify(cJSON *root);

/* Prints the groups (text, or JSON with json), verified when verify, for the ledger at
 * ledger_path. 0; 1 when verify left a group unconfirmed (a member differs from the group's
 * first, or could not be read); -1 with the reason in err (no table, a damaged one, an
 * unreadable ledger). */
int grey_report_node(const char *ledger_path, bool json, bool verify, FILE *out, char *err, size_t errlen);

#endif
