/* The PyTorch memory snapshot export (export.h): the dictionary torch.cuda.memory._snapshot()
 * returns and _dump_snapshot() pickles, as documented with it (torch/cuda/memory.py):
 *
 *   {"segments": [{"device", "address", "total_size", "allocated_size", "active_size",
 *                  "requested_size", "stream", "segment_type", "segment_pool_id", "is_expandable",
 *                  "frames", "blocks": [{"address", "size", "requested_size", "state",
 *                  "frames"}]}],
 *    "device_traces": [[{"action", "addr", "size", "stream", "time_us", "frames"}]],
 *    "allocator_settings": {}}
 *
 * grey has no caching allocator to show, so every driver allocation is its own segment holding
 * one block, as PyTorch shows a cudaMalloc made for one tensor: segment_alloc + alloc when it
 * was made, free_requested + free_completed + segment_free when it went. Frames: each call-site
 * frame as filename (the source file, else the module), line and name (the function, else
 * module+offset). A snapshot is one process's: the process of the peak. */
#include <stdio.h>
#include <stdlib.h>

#include "export.h"
#include "pickle_write.h"
#include "report_build.h"
#include "report_timeline.h"

static void frames(struct grey_pickle *pk, const cJSON *site)
{
    grey_pickle_list_begin(pk);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(site, "frames"))
    {
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "file"));
        const char *module = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "module"));
        const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "function"));
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
        char where[700];
        if (!fn) {
            const char *off = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "offset"));
            snprintf(where, sizeof where, "%s+%s", module ? module : "?", off ? off : "?");
        }
        grey_pickle_dict_begin(pk);
        grey_pickle_str(pk, "filename");
        grey_pickle_str(pk, file ? file : module ? module : "??");
        grey_pickle_str(pk, "line");
        grey_pickle_int(pk, cJSON_IsNumber(line) ? (int64_t)line->valuedouble : 0);
        grey_pickle_str(pk, "name");
        grey_pickle_str(pk, fn ? fn : where);
        grey_pickle_dict_end(pk);
    }
    grey_pickle_list_end(pk);
}

static void key_uint(struct grey_pickle *pk, const char *key, uint64_t v)
{
    grey_pickle_str(pk, key);
    grey_pickle_uint(pk, v);
}

static void segment(struct grey_pickle *pk, const struct grey_timeline_buffer *b, const cJSON *site)
{
    grey_pickle_dict_begin(pk);
    key_uint(pk, "device", (uint64_t)b->device);
    key_uint(pk, "address", b->address);
    key_uint(pk, "total_size", b->bytes);
    key_uint(pk, "allocated_size", b->bytes);
    key_uint(pk, "active_size", b->bytes);
    key_uint(pk, "requested_size", b->bytes);
    key_uint(pk, "stream", 0);
    grey_pickle_str(pk, "segment_type");
    grey_pickle_str(pk, b->bytes > (1u << 20) ? "large" : "small"); /* PyTorch's own split at 1 MiB */
    grey_pickle_str(pk, "segment_pool_id");
    grey_pickle_int(pk, 0);
    grey_pickle_int(pk, 0);
    grey_pickle_tuple2(pk);
    grey_pickle_str(pk, "is_expandable");
    grey_pickle_bool(pk, false);
    grey_pickle_str(pk, "frames");
    frames(pk, site);
    grey_pickle_str(pk, "blocks");
    grey_pickle_list_begin(pk);
    grey_pickle_dict_begin(pk);
    key_uint(pk, "address", b->address);
    key_uint(pk, "size", b->bytes);
    key_uint(pk, "requested_size", b->bytes);
    grey_pickle_str(pk, "state");
    grey_pickle_str(pk, "active_allocated");
    grey_pickle_str(pk, "frames");
    frames(pk, site);
    grey_pickle_dict_end(pk);
    grey_pickle_list_end(pk);
    grey_pickle_dict_end(pk);
}

/* One trace entry; alloc and free events of a device sorted by time. */
struct entry {
    double t;
    const struct grey_timeline_buffer *b;
    bool free;
};

static int cmp_entry(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (int)b->free - (int)a->free; /* a free before an allocation at the same moment */
}

static void trace_entry(struct grey_pickle *pk, const char *action, const struct entry *e, const cJSON *site)
{
    grey_pickle_dict_begin(pk);
    grey_pickle_str(pk, "action");
    grey_pickle_str(pk, action);
    key_uint(pk, "addr", e->b->address);
    key_uint(pk, "size", e->b->bytes);
    key_uint(pk, "stream", 0);
    key_uint(pk, "time_us", e->t > 0 ? (uint64_t)(e->t * 1e6) : 0);
    grey_pickle_str(pk, "frames");
    frames(pk, site);
    grey_pickle_dict_end(pk);
}

static int device_traces(struct grey_pickle *pk, const struct grey_timeline *t, int pid, int devices)
{
    struct entry *e = malloc((2 * t->n + 1) * sizeof *e);
    if (!e)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->buffers[i].pid == pid) {
            e[n++] = (struct entry){t->buffers[i].alloc_s, &t->buffers[i], false};
            if (!t->buffers[i].live)
                e[n++] = (struct entry){t->buffers[i].free_s, &t->buffers[i], true};
        }
    qsort(e, n, sizeof *e, cmp_entry);
    grey_pickle_list_begin(pk);
    for (int d = 0; d < devices; d++) {
        grey_pickle_list_begin(pk);
        for (size_t i = 0; i < n; i++) {
            if (e[i].b->device != d)
                continue;
            const cJSON *site = grey_timeline_site(t, pid, e[i].b->site);
            static const char *const made[] = {"segment_alloc", "alloc"};
            static const char *const gone[] = {"free_requested", "free_completed", "segment_free"};
            if (!e[i].free)
                for (int k = 0; k < 2; k++)
                    trace_entry(pk, made[k], &e[i], site);
            else
                for (int k = 0; k < 3; k++)
                    trace_entry(pk, gone[k], &e[i], site);
        }
        grey_pickle_list_end(pk);
    }
    grey_pickle_list_end(pk);
    free(e);
    return 0;
}

int grey_export_snapshot(const cJSON *report, FILE *out, char *err, size_t errlen)
{
    struct grey_timeline t;
    if (!grey_timeline_read(report, &t)) {
        snprintf(err, errlen, "the report has no timeline (written by an older grey); export from its raw records");
        return -1;
    }
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(report, "peak");
    const cJSON *pid_v = cJSON_GetObjectItemCaseSensitive(peak, "pid");
    int pid = cJSON_IsNumber(pid_v) ? (int)pid_v->valuedouble : (t.n ? t.buffers[0].pid : 0);
    int devices = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.buffers[i].pid == pid && t.buffers[i].device + 1 > devices && t.buffers[i].device < 1024)
            devices = t.buffers[i].device + 1;

    struct grey_pickle pk;
    grey_pickle_begin(&pk, out);
    grey_pickle_dict_begin(&pk);
    grey_pickle_str(&pk, "segments");
    grey_pickle_list_begin(&pk);
    for (size_t i = 0; i < t.n; i++)
        if (t.buffers[i].pid == pid && t.buffers[i].live)
            segment(&pk, &t.buffers[i], grey_timeline_site(&t, pid, t.buffers[i].site));
    grey_pickle_list_end(&pk);
    grey_pickle_str(&pk, "device_traces");
    int rc = device_traces(&pk, &t, pid, devices);
    grey_pickle_str(&pk, "allocator_settings");
    grey_pickle_dict_begin(&pk);
    grey_pickle_dict_end(&pk);
    grey_pickle_dict_end(&pk);
    if (!grey_pickle_end(&pk) || rc != 0) {
        snprintf(err, errlen, "%s", rc != 0 ? "out of memory" : "write failed");
        rc = -1;
    }
    grey_timeline_free(&t);
    return rc;
}
