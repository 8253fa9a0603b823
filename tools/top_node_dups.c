/* grey-top's data about duplicates across jobs (top_node_dups.h). */
#include "top_node_dups.h"

#include <stdint.h>
#include <string.h>

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
    fprintf(out, "\nduplicates across jobs: %s in %d group%s\n", grey_size_format((uint64_t)num(d, "reclaimable_bytes"), a, sizeof a),
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

void top_dups_keep(struct top_dups *d, const struct top_dup_group *g)
{
    unsigned n = d->ngroups < TOP_DUP_GROUPS ? d->ngroups : TOP_DUP_GROUPS;
    unsigned at = n;
    while (at > 0 && d->group[at - 1].reclaimable < g->reclaimable)
        at--;
    d->ngroups++;
    if (at == TOP_DUP_GROUPS)
        return;
    unsigned last = n < TOP_DUP_GROUPS ? n : TOP_DUP_GROUPS - 1;
    memmove(&d->group[at + 1], &d->group[at], (last - at) * sizeof d->group[0]);
    d->group[at] = *g;
}

void top_dups_add(struct top_dups *d, const char *ledger_path)
{
    char err[512];
    cJSON *dups = grey_node_duplicates(ledger_path, err, sizeof err);
    if (!dups)
        return;
    d->reclaimable += (uint64_t)num(dups, "reclaimable_bytes");
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(dups, "groups"))
    {
        struct top_dup_group one = {.bytes_each = (uint64_t)num(g, "bytes_each"),
                                    .reclaimable = (uint64_t)num(g, "reclaimable_bytes"),
                                    .count = (unsigned)num(g, "count"),
                                    .jobs = (unsigned)num(g, "jobs")};
        const char *gpu = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "gpu"));
        if (!gpu)
            gpu = "?";
        /* "GPU 0 (GPU-8f3a1c2e)" -> "GPU 0": the screen's GPU lines name the UUID already. */
        const char *cut = strstr(gpu, " (");
        snprintf(one.gpu, sizeof one.gpu, "%.*s", cut ? (int)(cut - gpu) : (int)strlen(gpu), gpu);
        top_dups_keep(d, &one);
    }
    cJSON_Delete(dups);
}
