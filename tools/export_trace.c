/* The Chrome/Perfetto trace-event export (export.h). The format is the Trace Event Format's JSON
 * object form ({"traceEvents": [...]}): timestamps in microseconds, "M" metadata naming
 * processes and threads, "C" counters, "b"/"e" nestable async slices (buffers overlap freely,
 * which complete "X" slices on one thread may not), "i" instant events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "policy/size.h"
#include "report_build.h"
#include "report_timeline.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static cJSON *event(cJSON *events, const char *ph, const char *name, int pid, int tid, double ts_s)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "ph", ph);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "pid", pid);
    cJSON_AddNumberToObject(e, "tid", tid);
    cJSON_AddNumberToObject(e, "ts", ts_s * 1e6);
    cJSON_AddItemToArray(events, e);
    return e;
}

static void metadata(cJSON *events, const char *what, int pid, int tid, const char *name)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "ph", "M");
    cJSON_AddStringToObject(e, "name", what);
    cJSON_AddNumberToObject(e, "pid", pid);
    cJSON_AddNumberToObject(e, "tid", tid);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "args"), "name", name);
    cJSON_AddItemToArray(events, e);
}

/* One alloc or free, for the counter tracks: sorted by time, frees first at a tie. */
struct change {
    double t;
    int pid, device;
    int64_t delta;
};

static int cmp_change(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->delta > y->delta) - (x->delta < y->delta);
}

/* Bytes held per (pid, device) after each change, as counter events. */
static int counters(cJSON *events, const struct grey_timeline *t)
{
    struct change *c = malloc((2 * t->n + 1) * sizeof *c);
    if (!c)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct grey_timeline_buffer *b = &t->buffers[i];
        c[n++] = (struct change){b->alloc_s, b->pid, b->device, (int64_t)b->bytes};
        if (!b->live)
            c[n++] = (struct change){b->free_s, b->pid, b->device, -(int64_t)b->bytes};
    }
    qsort(c, n, sizeof *c, cmp_change);
    /* A few processes and devices each: a short list of running totals. */
    struct total {
        int pid, device;
        int64_t bytes;
    } totals[256];
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nt && (totals[k].pid != c[i].pid || totals[k].device != c[i].device))
            k++;
        if (k == nt) {
            if (nt == sizeof totals / sizeof totals[0])
                continue;
            totals[nt++] = (struct total){c[i].pid, c[i].device, 0};
        }
        totals[k].bytes += c[i].delta;
        char name[48];
        snprintf(name, sizeof name, "GPU %d bytes", c[i].device);
        cJSON *e = event(events, "C", name, c[i].pid, c[i].device, c[i].t);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(e, "args"), "bytes", (double)totals[k].bytes);
    }
    free(c);
    return 0;
}

static void buffers(cJSON *events, const struct grey_timeline *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct grey_timeline_buffer *b = &t->buffers[i];
        char label[600], name[700], id[32], size[32];
        grey_report_frame_label(grey_report_site_frame(grey_timeline_site(t, b->pid, b->site)), label, sizeof label);
        grey_size_format(b->bytes, size, sizeof size);
        snprintf(name, sizeof name, "%s%s %s", b->group ? "[dup] " : "", label, size);
        snprintf(id, sizeof id, "0x%zx", i + 1); /* an address can be handed out again: the row is the id */
        const char *cat = b->group ? "buffer,duplicate" : "buffer";
        cJSON *be = event(events, "b", name, b->pid, b->device, b->alloc_s);
        cJSON_AddStringToObject(be, "cat", cat);
        cJSON_AddStringToObject(be, "id", id);
        cJSON *args = cJSON_AddObjectToObject(be, "args");
        char addr[24];
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)b->address);
        cJSON_AddStringToObject(args, "address", addr);
        cJSON_AddNumberToObject(args, "bytes", (double)b->bytes);
        cJSON_AddStringToObject(args, "api", b->api ? b->api : "?");
        cJSON_AddStringToObject(args, "site", label);
        cJSON_AddBoolToObject(args, "freed", !b->live);
        if (b->group)
            cJSON_AddNumberToObject(args, "duplicate_group", b->group);
        cJSON *ee = event(events, "e", name, b->pid, b->device, b->free_s);
        cJSON_AddStringToObject(ee, "cat", cat);
        cJSON_AddStringToObject(ee, "id", id);
    }
}

/* A marker at a report moment (the peak, the optimal peak), on its process's first device. */
static void marker(cJSON *events, const cJSON *report, const char *key, const char *what,
                   const struct grey_timeline *t)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(report, key);
    if (!cJSON_IsObject(m))
        return;
    int pid = (int)num(m, "pid"), device = 0;
    double offset = 0;
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(report, "timeline"), "processes");
    const cJSON *p;
    cJSON_ArrayForEach(p, procs)
    {
        if ((int)num(p, "pid") == pid)
            offset = num(p, "offset_s");
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->buffers[i].pid == pid) {
            device = t->buffers[i].device;
            break;
        }
    char size[32], name[96];
    grey_size_format((uint64_t)num(m, "bytes"), size, sizeof size);
    snprintf(name, sizeof name, "%s %s", what, size);
    cJSON *e = event(events, "i", name, pid, device, offset + num(m, "time_s"));
    cJSON_AddStringToObject(e, "s", "p");
    cJSON_AddStringToObject(e, "cat", "peak");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(e, "args"), "bytes", num(m, "bytes"));
}

int grey_export_trace(const cJSON *report, FILE *out, char *err, size_t errlen)
{
    struct grey_timeline t;
    if (!grey_timeline_read(report, &t)) {
        snprintf(err, errlen, "the report has no timeline (written by an older grey); export from its raw records");
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *events = cJSON_AddArrayToObject(root, "traceEvents");
    cJSON_AddStringToObject(root, "displayTimeUnit", "ms");
    /* Names first: a process per pid, a thread per device it used. */
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(report, "processes"))
    {
        const char *exe = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "exe"));
        const char *base = exe ? strrchr(exe, '/') : NULL;
        char name[300];
        snprintf(name, sizeof name, "%s (pid %d)", base ? base + 1 : exe ? exe : "?", (int)num(p, "pid"));
        metadata(events, "process_name", (int)num(p, "pid"), 0, name);
    }
    struct { int pid, device; } named[256];
    size_t nnamed = 0;
    for (size_t i = 0; i < t.n; i++) {
        bool seen = false;
        for (size_t j = 0; j < nnamed && !seen; j++)
            seen = named[j].pid == t.buffers[i].pid && named[j].device == t.buffers[i].device;
        if (!seen && nnamed < sizeof named / sizeof named[0]) {
            named[nnamed].pid = t.buffers[i].pid, named[nnamed++].device = t.buffers[i].device;
            char name[32];
            snprintf(name, sizeof name, "GPU %d", t.buffers[i].device);
            metadata(events, "thread_name", t.buffers[i].pid, t.buffers[i].device, name);
        }
    }
    int rc = counters(events, &t);
    buffers(events, &t);
    marker(events, report, "peak", "peak", &t);
    marker(events, report, "optimal_peak", "optimal peak", &t);
    char *text = rc == 0 ? cJSON_PrintUnformatted(root) : NULL;
    if (!text || fputs(text, out) < 0 || fputc('\n', out) < 0) {
        snprintf(err, errlen, "%s", text ? "write failed" : "out of memory");
        rc = -1;
    }
    cJSON_free(text);
    cJSON_Delete(root);
    grey_timeline_free(&t);
    return rc;
}
