#include "report_html.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/size.h"
#include "report_build.h"
#include "report_waste.h"

#define BAR_WIDTH 560
#define LABEL_WIDTH 420
#define ROW 22
#define LABEL_CHARS 56 /* what fits LABEL_WIDTH in 12px monospace */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *size(double bytes, char *buf, size_t len)
{
    return grey_size_format(bytes > 0 ? (uint64_t)bytes : 0, buf, len);
}

/* Text from the report (program paths, function names) is escaped wherever it lands. */
void grey_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void esc(FILE *out, const char *s) { grey_html_escape(out, s); }

static const char *label_of(const cJSON *holder, char *buf, size_t len)
{
    return grey_report_frame_label(grey_report_site_frame(cJSON_GetObjectItemCaseSensitive(holder, "site")), buf, len);
}

static void chart(const cJSON *report, FILE *out)
{
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(report, "peak");
    static struct grey_site_row rows[64];
    size_t n = grey_report_peak_rows(report, "sites", rows, sizeof rows / sizeof rows[0]);
    char a[32];
    if (!cJSON_IsObject(peak) || n == 0) {
        fputs("<p>No call sites held memory at the peak.</p>\n", out);
        return;
    }
    double max = rows[0].bytes > 1 ? rows[0].bytes : 1;
    fprintf(out, "<h2>Bytes by call site at the peak (%s at %.3f s, pid %d)</h2>\n", size(num(peak, "bytes"), a, sizeof a),
            num(peak, "time_s"), (int)num(peak, "pid"));
    fprintf(out, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\" "
                 "aria-label=\"bytes by call site at the peak\">\n", LABEL_WIDTH + BAR_WIDTH + 120, n * ROW + 30);
    for (size_t i = 0; i < n; i++) {
        double w = rows[i].bytes / max * BAR_WIDTH;
        if (w < 1)
            w = 1;
        size_t y = i * ROW;
        fprintf(out, "  <g class=\"%s\"><text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", rows[i].dup ? "site dup" : "site",
                LABEL_WIDTH - 8, y + 15);
        /* Long (C++) names are cut to fit the label column; the bar's tooltip has them whole. */
        char shown[LABEL_CHARS + 4];
        size_t len = strlen(rows[i].label);
        if (len > LABEL_CHARS)
            snprintf(shown, sizeof shown, "...%s", rows[i].label + len - (LABEL_CHARS - 3));
        else
            snprintf(shown, sizeof shown, "%s", rows[i].label);
        esc(out, shown);
        fprintf(out, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\"><title>", LABEL_WIDTH, y + 3, w,
                ROW - 6);
        esc(out, rows[i].label);
        fprintf(out, ": %s in %d buffers%s</title></rect><text x=\"%.1f\" y=\"%zu\">%s</text></g>\n",
                size(rows[i].bytes, a, sizeof a), rows[i].buffers, rows[i].dup ? ", holds duplicates" : "",
                LABEL_WIDTH + w + 6, y + 15, a);
    }
    fprintf(out, "  <g class=\"legend\"><rect class=\"dup\" x=\"%d\" y=\"%zu\" width=\"12\" height=\"12\"/>"
                 "<text x=\"%d\" y=\"%zu\">allocated buffers that have identical copies</text></g>\n",
            LABEL_WIDTH, n * ROW + 10, LABEL_WIDTH + 18, n * ROW + 21);
    fputs("</svg>\n", out);
}

static void buffer_rows(const cJSON *buffers, FILE *out, bool idle)
{
    const cJSON *b;
    char a[32], label[600];
    cJSON_ArrayForEach(b, buffers)
    {
        fprintf(out, "<tr><td>%d</td><td><code>", (int)num(b, "pid"));
        esc(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "address")));
        fprintf(out, "</code></td><td>%s</td><td>", size(num(b, "bytes"), a, sizeof a));
        esc(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "api")));
        fputs("</td><td>", out);
        esc(out, label_of(b, label, sizeof label));
        if (idle)
            fprintf(out, "</td><td>%.2f s", num(b, "idle_s"));
        fputs("</td></tr>\n", out);
    }
}

static void groups(const cJSON *report, FILE *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(report, "groups");
    char a[32], b[32];
    fprintf(out, "<h2>Identical buffers: %s reclaimable</h2>\n", size(num(report, "reclaimable_bytes"), a, sizeof a));
    if (cJSON_GetArraySize(arr) == 0) {
        fputs("<p>No two buffers held the same bytes.</p>\n", out);
        return;
    }
    const cJSON *g;
    int i = 0;
    cJSON_ArrayForEach(g, arr)
    {
        fprintf(out, "<div class=\"group dup\" id=\"group-%d\"><h3>%s reclaimable: %d identical buffers of %s</h3>\n",
                ++i, size(num(g, "reclaimable_bytes"), a, sizeof a), (int)num(g, "count"),
                size(num(g, "bytes_each"), b, sizeof b));
        fputs("<p>fingerprint <code>", out);
        esc(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "fingerprint")));
        fprintf(out, "</code>, device %d, %s</p>\n", (int)num(g, "device"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "alive_together")) ? "all alive together"
                                                                                    : "not all alive together");
        fputs("<table><tr><th>pid</th><th>address</th><th>size</th><th>api</th><th>allocated at</th></tr>\n", out);
        buffer_rows(cJSON_GetObjectItemCaseSensitive(g, "buffers"), out, false);
        fputs("</table></div>\n", out);
    }
}

static void list(const cJSON *report, const char *key, const char *title, FILE *out, bool idle)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(report, key);
    char a[32];
    fprintf(out, "<h2>%s: %d (%s)</h2>\n", title, (int)num(l, "count"), size(num(l, "bytes"), a, sizeof a));
    if (num(l, "count") == 0)
        return;
    fprintf(out, "<table><tr><th>pid</th><th>address</th><th>size</th><th>api</th><th>allocated at</th>%s</tr>\n",
            idle ? "<th>idle</th>" : "");
    buffer_rows(cJSON_GetObjectItemCaseSensitive(l, "buffers"), out, idle);
    fputs("</table>\n", out);
}

void grey_report_html(const cJSON *report, FILE *out)
{
    char a[32];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>grey buffer report</title>\n"
          "<style>\n"
          "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\n"
          ".group{border-left:6px solid #e8590c;padding-left:1em;margin-bottom:1em}\n"
          ".group.dup table{background:#fff4e6}\n"
          "svg.chart text{font:12px monospace;fill:#222}\n"
          "svg.chart .site rect{fill:#74a9cf}svg.chart .site.dup rect,svg.chart rect.dup{fill:#e8590c}\n"
          ".summary{font-size:1.2em}\n"
          ".waste h3{margin-bottom:.2em}\n"
          ".pictures{display:flex;flex-wrap:wrap;gap:2em}.panel{flex:0 1 auto}\n"
          "svg.timeline text{font:12px monospace;fill:#222}svg.timeline .band{stroke:none}\n"
          "</style></head><body>\n<h1>grey buffer report</h1>\n", out);
    fprintf(out, "<p class=\"summary\">Reclaimable by deduplication: <strong>%s</strong> in %d group(s).</p>\n",
            size(num(report, "reclaimable_bytes"), a, sizeof a),
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "groups")));
    fputs("<p>Processes:", out);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(report, "processes"))
    {
        fprintf(out, " %d (", (int)num(p, "pid"));
        esc(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "exe")));
        fputs(")", out);
    }
    fputs("</p>\n", out);
    /* The peak's bar chart and the memory over time side by side (wrapping on a narrow screen). */
    fputs("<div class=\"pictures\"><div class=\"panel\">\n", out);
    chart(report, out);
    fputs("</div>\n", out);
    grey_report_html_timeline(report, out);
    fputs("</div>\n", out);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "dedup"))) {
        groups(report, out);
        list(report, "never_touched", "Never touched by a copy, memset or kernel", out, false);
        list(report, "freed_long_after_last_use", "Freed long after their last use", out, true);
        grey_report_waste_html(report, out);
    } else {
        fputs("<p>Fingerprints were off for this run (grey-run --dedup finds identical buffers).</p>\n", out);
    }
    fputs("</body></html>\n", out);
}
