/* What grey-top can show of the duplicates across jobs (tools/report_node.h), as data only, for
 * whoever renders grey-top: the JSON member of --json, one text section for --once and the plain
 * frames, and the numbers the live screen draws (top_curses.c). */
#ifndef GREY_TOP_NODE_DUPS_H
#define GREY_TOP_NODE_DUPS_H

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>

/* Adds "node_duplicates" to root: {reclaimable_bytes, groups: [...]} as grey-report --node
 * --json gives them, or null when the ledger has no fingerprint table (nothing recorded yet). */
void grey_top_add_node_duplicates(cJSON *root, const char *ledger_path);

/* One text section, after a blank line: "duplicates across jobs: 24.0 MiB in 1 group" and a line
 * per group (size, count, jobs, GPU); nothing when the ledger has no table. */
void grey_top_node_duplicates_text(const char *ledger_path, FILE *out);

/* The live screen's summary, summed over the ledgers it reads: every group counted, the largest
 * TOP_DUP_GROUPS kept (largest reclaimable first). */
#define TOP_DUP_GROUPS 8
struct top_dup_group {
    uint64_t bytes_each, reclaimable;
    unsigned count, jobs;
    char gpu[48];            /* "GPU 0", without the UUID */
};
struct top_dups {
    unsigned ngroups;        /* all groups; group[] holds min(ngroups, TOP_DUP_GROUPS) */
    uint64_t reclaimable;
    struct top_dup_group group[TOP_DUP_GROUPS];
};

/* Adds the groups of the ledger at ledger_path to d (nothing when it has no table). */
void top_dups_add(struct top_dups *d, const char *ledger_path);

/* Counts one group in d, keeping it when it is among the largest (exposed for the unit test). */
void top_dups_keep(struct top_dups *d, const struct top_dup_group *g);

#endif
