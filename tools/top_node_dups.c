/* grey-top's data about duplicates across jobs (top_node_dups.h). */
#include "top_node_dups.h"

#include <stdint.h>

#include "policy/size.h"
#include "report_node.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

void grey_top_add_node_duplicates(cJSON *root, const char *ledger_path)
{
    char err[512];
    cJSON *d = grey_node_duplicates(ledger_path, err, sizeof err);
    if (!d) {
        cJSON_AddNullToObject(root, "node_duplicates");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(root, "node_duplicates");
    cJSON_AddNumberToObject(o, "reclaimable_bytes", num(d, "reclaimable_bytes"));
    cJSON_AddItemToObject(o, "groups", cJSON_DetachItemFromObjectCaseSensitive(d, "groups"));
    cJSON_Delete(d);
}

void grey_top_node_duplicates_text(const char *ledger_path, FILE *out)
{
    char err[512], a[32], b[32];
    cJSON *d = grey_node_duplicates(ledger_path, err, sizeof err);
    if (!d)
        return;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(d, "groups");
    int n = cJSON_GetArraySize(groups);
    fprintf(out, "duplicates across jobs: %s in %d group%s\n", grey_size_format((uint64_t)num(d, "reclaimable_bytes"), a, sizeof a),
            n, n == 1 ? "" : "s");
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        const char *gpu = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "gpu"));
        fprintf(out, "  %s back: %d x %s in %d jobs on %s\n", grey_size_format((uint64_t)num(g, "reclaimable_bytes"), a, sizeof a),
                (int)num(g, "count"), grey_size_format((uint64_t)num(g, "bytes_each"), b, sizeof b), (int)num(g, "jobs"),
                gpu ? gpu : "?");
    }
    cJSON_Delete(d);
}
