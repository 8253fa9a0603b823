/* What grey-top can show of the duplicates across jobs (tools/report_node.h), as data only, for
 * whoever renders grey-top: the JSON member of --json, and one text section. */
#ifndef GREY_TOP_NODE_DUPS_H
#define GREY_TOP_NODE_DUPS_H

#include <cJSON.h>
#include <stdio.h>

/* Adds "node_duplicates" to root: {reclaimable_bytes, groups: [...]} as grey-report --node
 * --json gives them, or null when the ledger has no fingerprint table (nothing recorded yet). */
void grey_top_add_node_duplicates(cJSON *root, const char *ledger_path);

/* One text section: "duplicates across jobs: 24.0 MiB in 1 group" and a line per group (size,
 * count, jobs, GPU); nothing when the ledger has no table. */
void grey_top_node_duplicates_text(const char *ledger_path, FILE *out);

#endif
