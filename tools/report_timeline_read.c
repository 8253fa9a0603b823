/* Reading the report's timeline back (report_timeline.h). */
#include "report_timeline.h"

#include <stdlib.h>

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static double item(const cJSON *row, int i)
{
    const cJSON *v = cJSON_GetArrayItem(row, i);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A process's clock offset and end, by pid. */
static void process_clock(const cJSON *procs, int pid, double *offset, double *end)
{
    const cJSON *p;
    *offset = 0, *end = 0;
    cJSON_ArrayForEach(p, procs)
    {
        if ((int)num(p, "pid") == pid) {
            *offset = num(p, "offset_s");
            *end = num(p, "end_s");
            return;
        }
    }
}

static int cmp_site_ref(const void *a, const void *b)
{
    const struct grey_timeline_site_ref *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static bool index_sites(const cJSON *sites, struct grey_timeline *out)
{
    int n = cJSON_GetArraySize(sites);
    out->sites = calloc(n > 0 ? (size_t)n : 1, sizeof *out->sites);
    if (!out->sites)
        return false;
    const cJSON *s;
    cJSON_ArrayForEach(s, sites)
    {
        out->sites[out->nsites++] = (struct grey_timeline_site_ref){(int)num(s, "pid"), (uint32_t)num(s, "id"), s};
    }
    qsort(out->sites, out->nsites, sizeof *out->sites, cmp_site_ref);
    return true;
}

bool grey_timeline_read(const cJSON *report, struct grey_timeline *out)
{
    *out = (struct grey_timeline){0};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(report, "timeline");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(t, "buffers");
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(t, "processes");
    if (!cJSON_IsArray(rows) || !cJSON_IsArray(procs))
        return false;
    int n = cJSON_GetArraySize(rows);
    out->buffers = calloc(n > 0 ? (size_t)n : 1, sizeof *out->buffers);
    if (!out->buffers || !index_sites(cJSON_GetObjectItemCaseSensitive(t, "sites"), out)) {
        grey_timeline_free(out);
        return false;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, procs)
    {
        double end = num(p, "offset_s") + num(p, "end_s");
        if (end > out->end_s)
            out->end_s = end;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) < 9)
            continue;
        struct grey_timeline_buffer *b = &out->buffers[out->n++];
        b->pid = (int)item(row, 0);
        const char *addr = cJSON_GetStringValue(cJSON_GetArrayItem(row, 1));
        b->address = addr ? strtoull(addr, NULL, 16) : 0;
        b->bytes = (uint64_t)item(row, 2);
        b->device = (int)item(row, 3);
        b->api = cJSON_GetStringValue(cJSON_GetArrayItem(row, 4));
        double offset, end;
        process_clock(procs, b->pid, &offset, &end);
        b->alloc_s = offset + item(row, 5);
        b->live = !cJSON_IsNumber(cJSON_GetArrayItem(row, 6));
        b->free_s = offset + (b->live ? end : item(row, 6));
        b->site = (uint32_t)item(row, 7);
        b->group = (uint32_t)item(row, 8);
    }
    return true;
}

void grey_timeline_free(struct grey_timeline *t)
{
    free(t->buffers);
    free(t->sites);
    *t = (struct grey_timeline){0};
}

const cJSON *grey_timeline_site(const struct grey_timeline *t, int pid, uint32_t id)
{
    struct grey_timeline_site_ref key = {pid, id, NULL};
    const struct grey_timeline_site_ref *r =
        t->nsites ? bsearch(&key, t->sites, t->nsites, sizeof *t->sites, cmp_site_ref) : NULL;
    return r ? r->site : NULL;
}
