/* The report's "timeline": every buffer each process recorded (the freed ones its history still
 * held), in compact rows, and every call site that allocated, so that the HTML page can draw
 * memory over time and grey-report can export a trace or a PyTorch snapshot from a report alone
 * (grey-run keeps the report and removes the raw records). Times are seconds since each
 * process's hook loaded; offset_s places a process on the job's common clock. */
#include <stdio.h>
#include <stdlib.h>

#include "report_builder.h"

/* The group each buffer belongs to (1-based, as the report's groups are listed; 0: none). */
static uint32_t **group_index(const struct grey_report_builder *b, const struct grey_dedup_result *r)
{
    uint32_t **idx = calloc(b->nprocs ? b->nprocs : 1, sizeof *idx);
    if (!idx)
        return NULL;
    for (size_t p = 0; p < b->nprocs; p++)
        idx[p] = calloc(b->procs[p].nbuffers ? b->procs[p].nbuffers : 1, sizeof **idx);
    for (size_t g = 0; g < r->ngroups; g++)
        for (size_t i = 0; i < r->groups[g].count; i++) {
            struct grey_buf_ref m = r->members[r->groups[g].first + i];
            if (idx[m.proc])
                idx[m.proc][m.buf] = (uint32_t)g + 1;
        }
    return idx;
}

void grey_report_add_timeline(struct grey_report_builder *b, cJSON *root, const struct grey_dedup_result *r)
{
    cJSON *t = cJSON_AddObjectToObject(root, "timeline");
    uint64_t t0 = 0;
    for (size_t p = 0; p < b->nprocs; p++)
        if (p == 0 || b->procs[p].hdr.start_ns < t0)
            t0 = b->procs[p].hdr.start_ns;
    cJSON *procs = cJSON_AddArrayToObject(t, "processes");
    cJSON *sites = cJSON_AddArrayToObject(t, "sites");
    cJSON *bufs = cJSON_AddArrayToObject(t, "buffers");
    cJSON_AddStringToObject(t, "columns", "pid address bytes device api alloc_s free_s site group");
    uint32_t **groups = group_index(b, r);
    for (size_t p = 0; p < b->nprocs; p++) {
        const struct grey_raw_process *pr = &b->procs[p];
        cJSON *po = cJSON_CreateObject();
        cJSON_AddNumberToObject(po, "pid", pr->hdr.pid);
        cJSON_AddNumberToObject(po, "offset_s", (double)(pr->hdr.start_ns - t0) / 1e9);
        cJSON_AddNumberToObject(po, "end_s", grey_report_rel_s(pr, pr->hdr.end_ns));
        cJSON_AddItemToArray(procs, po);
        for (size_t s = 0; s < pr->nsites; s++)
            if (pr->sites[s].allocs || pr->sites[s].peak_bytes) {
                cJSON *so = grey_report_site_json(b, pr, pr->sites[s].id);
                cJSON_AddNumberToObject(so, "pid", pr->hdr.pid);
                cJSON_AddItemToArray(sites, so);
            }
        for (size_t i = 0; i < pr->nbuffers; i++) {
            const struct grey_raw_buffer *buf = &pr->buffers[i];
            /* A row, not an object: a long run has tens of thousands of them. */
            cJSON *row = cJSON_CreateArray();
            char addr[24];
            snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)buf->addr);
            cJSON_AddItemToArray(row, cJSON_CreateNumber(pr->hdr.pid));
            cJSON_AddItemToArray(row, cJSON_CreateString(addr));
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)buf->bytes));
            cJSON_AddItemToArray(row, cJSON_CreateNumber(buf->device));
            cJSON_AddItemToArray(row, cJSON_CreateString(buf->api));
            cJSON_AddItemToArray(row, cJSON_CreateNumber(grey_report_rel_s(pr, buf->alloc_ns)));
            cJSON_AddItemToArray(row, buf->live ? cJSON_CreateNull() : cJSON_CreateNumber(grey_report_rel_s(pr, buf->free_ns)));
            cJSON_AddItemToArray(row, cJSON_CreateNumber(buf->site));
            cJSON_AddItemToArray(row, cJSON_CreateNumber(groups && groups[p] ? groups[p][i] : 0));
            cJSON_AddItemToArray(bufs, row);
        }
    }
    for (size_t p = 0; groups && p < b->nprocs; p++)
        free(groups[p]);
    free(groups);
}
