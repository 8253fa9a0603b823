#include "report_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/size.h"
#include "report_build.h"
#include "report_waste.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : dflt;
}

static const char *size(double bytes, char *buf, size_t len)
{
    return grey_size_format(bytes > 0 ? (uint64_t)bytes : 0, buf, len);
}

static const char *site_label(const cJSON *holder, char *buf, size_t len)
{
    return grey_report_frame_label(grey_report_site_frame(cJSON_GetObjectItemCaseSensitive(holder, "site")), buf, len);
}

static int cmp_group(const void *a, const void *b)
{
    double x = num(*(const cJSON *const *)a, "reclaimable_bytes"), y = num(*(const cJSON *const *)b, "reclaimable_bytes");
    return x > y ? -1 : x < y;
}

void grey_report_text_buffer_line(const cJSON *buf, FILE *out)
{
    char s[32], label[600];
    fprintf(out, "    %-16s %10s  %-24s pid %-7d %s\n", str(buf, "address", "?"), size(num(buf, "bytes"), s, sizeof s),
            str(buf, "api", "?"), (int)num(buf, "pid"), site_label(buf, label, sizeof label));
}

static void groups(const cJSON *report, FILE *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(report, "groups");
    int n = cJSON_GetArraySize(arr);
    char a[32], b[32];
    fprintf(out, "reclaimable by deduplication: %s in %d group%s of identical buffers\n",
            size(num(report, "reclaimable_bytes"), a, sizeof a), n, n == 1 ? "" : "s");
    if (n == 0)
        return;
    const cJSON **sorted = calloc((size_t)n, sizeof *sorted);
    if (!sorted)
        return;
    int k = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, arr) sorted[k++] = g;
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_group);
    for (int i = 0; i < n; i++) {
        g = sorted[i];
        const cJSON *together = cJSON_GetObjectItemCaseSensitive(g, "alive_together");
        fprintf(out, "\n  %s reclaimable: %d identical buffers of %s on device %d (%s)\n",
                size(num(g, "reclaimable_bytes"), a, sizeof a), (int)num(g, "count"),
                size(num(g, "bytes_each"), b, sizeof b), (int)num(g, "device"),
                cJSON_IsTrue(together) ? "all alive together"
                                       : (num(g, "max_alive_together") > 1 ? "partly alive together"
                                                                           : "never alive together"));
        fprintf(out, "    fingerprint %s\n", str(g, "fingerprint", "?"));
        const cJSON *buf;
        cJSON_ArrayForEach(buf, cJSON_GetObjectItemCaseSensitive(g, "buffers")) grey_report_text_buffer_line(buf, out);
    }
    free(sorted);
}

#define PEAK_ROWS 10

static void peak(const cJSON *report, FILE *out)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(report, "peak");
    char a[32];
    if (!cJSON_IsObject(p)) {
        fprintf(out, "\npeak: no GPU buffers were recorded\n");
        return;
    }
    fprintf(out, "\npeak: %s in tracked buffers at %.3f s (pid %d); held by:\n", size(num(p, "bytes"), a, sizeof a),
            num(p, "time_s"), (int)num(p, "pid"));
    static struct grey_site_row rows[64];
    size_t n = grey_report_peak_rows(report, "sites", rows, sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < n && i < PEAK_ROWS; i++)
        fprintf(out, "  %10s  %4d buffer%s  %s%s\n", size(rows[i].bytes, a, sizeof a), rows[i].buffers,
                rows[i].buffers == 1 ? " " : "s", rows[i].label, rows[i].dup ? "  [holds duplicates]" : "");
    if (n == 0)
        fprintf(out, "  (no call sites)\n");
}

static void list(const cJSON *report, const char *key, const char *title, FILE *out)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(report, key);
    char a[32];
    int count = (int)num(l, "count");
    fprintf(out, "\n%s: ", title);
    if (count == 0) {
        fprintf(out, "none\n");
        return;
    }
    fprintf(out, "%d buffer%s, %s\n", count, count == 1 ? "" : "s", size(num(l, "bytes"), a, sizeof a));
    const cJSON *buf;
    cJSON_ArrayForEach(buf, cJSON_GetObjectItemCaseSensitive(l, "buffers"))
    {
        grey_report_text_buffer_line(buf, out);
        const cJSON *idle = cJSON_GetObjectItemCaseSensitive(buf, "idle_s");
        if (cJSON_IsNumber(idle))
            fprintf(out, "      idle %.2f s before its free\n", idle->valuedouble);
    }
}

void grey_report_text(const cJSON *report, FILE *out)
{
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(report, "processes");
    int np = cJSON_GetArraySize(procs);
    fprintf(out, "grey buffer report: %d process%s", np, np == 1 ? "" : "es");
    const cJSON *p;
    cJSON_ArrayForEach(p, procs)
    {
        const char *exe = str(p, "exe", "?");
        const char *base = strrchr(exe, '/');
        fprintf(out, "%s pid %d %s", p == procs->child ? ":" : ",", (int)num(p, "pid"), base ? base + 1 : exe);
    }
    fprintf(out, "\n");
    bool dedup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "dedup"));
    if (dedup) {
        fprintf(out, "%d buffers fingerprinted (%s)\n\n", (int)num(report, "fingerprinted_buffers"),
                str(report, "confirmation", "equal fingerprints"));
        groups(report, out);
    } else {
        fprintf(out, "fingerprints: off (run with grey-run --dedup, or GREY_DEDUP=1, to find identical buffers)\n");
    }
    peak(report, out);
    if (dedup) {
        list(report, "never_touched", "never touched by a copy, memset or kernel", out);
        const cJSON *idle = cJSON_GetObjectItemCaseSensitive(report, "freed_long_after_last_use");
        char title[96];
        snprintf(title, sizeof title, "freed long after their last use (idle at least %.1f s)", num(idle, "idle_threshold_s"));
        list(report, "freed_long_after_last_use", title, out);
        grey_report_waste_text(report, out);
    }
    cJSON_ArrayForEach(p, procs)
    {
        if (num(p, "freed_records_dropped") > 0)
            fprintf(out, "\nnote: pid %d freed more buffers than the record keeps; the oldest %.0f are not in "
                         "this report\n", (int)num(p, "pid"), num(p, "freed_records_dropped"));
        if (num(p, "kernel_launches_not_inspected") > 0)
            fprintf(out, "\nnote: pid %d: the driver could not describe the arguments of %.0f kernel launches; "
                         "buffers used only by those kernels may be listed as never touched\n",
                    (int)num(p, "pid"), num(p, "kernel_launches_not_inspected"));
    }
}

void grey_report_summary(const cJSON *report, const char *path, FILE *out)
{
    char a[32], b[32], label[600];
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(report, "groups");
    const cJSON *first = cJSON_GetArrayItem(groups, 0);
    int n = cJSON_GetArraySize(groups);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "dedup")))
        fprintf(out, "grey: dedup: off (add --dedup to find identical buffers)\n");
    else if (n == 0)
        fprintf(out, "grey: dedup: no identical buffers among %d fingerprinted\n", (int)num(report, "fingerprinted_buffers"));
    else
        fprintf(out, "grey: dedup: %s reclaimable in %d group%s; largest: %d x %s from %s\n",
                size(num(report, "reclaimable_bytes"), a, sizeof a), n, n == 1 ? "" : "s", (int)num(first, "count"),
                size(num(first, "bytes_each"), b, sizeof b),
                site_label(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(first, "buffers"), 0), label,
                           sizeof label));
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(report, "peak");
    static struct grey_site_row rows[64];
    size_t nrows = grey_report_peak_rows(report, "sites", rows, sizeof rows / sizeof rows[0]);
    if (!cJSON_IsObject(peak))
        fprintf(out, "grey: buffers: none recorded\n");
    else
        fprintf(out, "grey: buffers: peak %s at %.2f s; most held by %s (%s)\n", size(num(peak, "bytes"), a, sizeof a),
                num(peak, "time_s"), nrows ? rows[0].label : "(no call site)", size(nrows ? rows[0].bytes : 0, b, sizeof b));
    fprintf(out, "grey: full report: %s (grey-report %s)\n", path, path);
}
