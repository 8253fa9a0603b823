/* The waste patterns and the optimal peak as a section of the HTML page (report_waste.h). */
#include <stdint.h>

#include "policy/size.h"
#include "report_build.h"
#include "report_html.h"
#include "report_waste.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *size(double bytes, char *buf, size_t len)
{
    return grey_size_format(bytes > 0 ? (uint64_t)bytes : 0, buf, len);
}

static void rows(int k, const cJSON *pat, FILE *out)
{
    char a[32], label[600];
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(pat, "buffers"))
    {
        fprintf(out, "<tr><td>%d</td><td><code>", (int)num(b, "pid"));
        grey_html_escape(out, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "address")));
        fprintf(out, "</code></td><td>%s</td><td>", size(num(b, "bytes"), a, sizeof a));
        grey_html_escape(out, grey_report_frame_label(
                                  grey_report_site_frame(cJSON_GetObjectItemCaseSensitive(b, "site")), label, sizeof label));
        if (k == 5)
            fprintf(out, "</td><td>%.0f dead writes", num(b, "dead_writes"));
        else if (k == 6)
            fputs("</td><td>never freed", out);
        else
            fprintf(out, "</td><td>%.0f launches", num(b, "launches"));
        fprintf(out, "</td><td>%s for %.3f s</td></tr>\n", size(num(b, "wasted_bytes"), a, sizeof a),
                num(b, "wasted_seconds"));
    }
}

void grey_report_waste_html(const cJSON *report, FILE *out)
{
    const cJSON *waste = cJSON_GetObjectItemCaseSensitive(report, "waste");
    if (!cJSON_IsObject(waste))
        return;
    char a[32], b[32];
    fputs("<div class=\"waste\"><h2>Waste patterns (counted in kernel launches)</h2>\n", out);
    const cJSON *opk = cJSON_GetObjectItemCaseSensitive(report, "optimal_peak");
    if (cJSON_IsObject(opk))
        fprintf(out, "<p>Optimal peak: <strong>%s</strong>, the most one kernel launch was given (launch %.0f at "
                     "%.3f s); the real peak was %s.</p>\n",
                size(num(opk, "bytes"), a, sizeof a), num(opk, "launch"), num(opk, "time_s"),
                size(num(cJSON_GetObjectItemCaseSensitive(report, "peak"), "bytes"), b, sizeof b));
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(waste, "thresholds");
    fprintf(out, "<p>%.0f kernel launches; thresholds: early allocation from %.0f launches, late deallocation from "
                 "%.0f, temporary idle from %.0f.</p>\n",
            num(waste, "launches"), num(th, "early_launches"), num(th, "late_launches"), num(th, "idle_launches"));
    int found = 0;
    for (int k = 0; k < GREY_REPORT_WASTE_PATTERNS; k++) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(waste, grey_report_waste_keys[k]);
        if (num(pat, "count") == 0)
            continue;
        found++;
        fprintf(out, "<h3>%s: %.0f (%s)</h3>\n", grey_report_waste_titles[k], num(pat, "count"),
                size(num(pat, "wasted_bytes"), a, sizeof a));
        fputs("<table><tr><th>pid</th><th>address</th><th>size</th><th>allocated at</th><th>why</th>"
              "<th>wasted</th></tr>\n", out);
        rows(k, pat, out);
        fputs("</table>\n", out);
    }
    if (!found)
        fputs("<p>No waste found.</p>\n", out);
    fputs("</div>\n", out);
}
