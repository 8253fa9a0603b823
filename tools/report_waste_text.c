/* The waste patterns and the optimal peak as text (report_waste.h). */
#include <stdint.h>

#include "policy/size.h"
#include "report_text.h"
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

/* What made one buffer a finding, in words. */
static void finding_line(int k, const cJSON *buf, FILE *out)
{
    char a[32];
    double launches = num(buf, "launches");
    size(num(buf, "wasted_bytes"), a, sizeof a);
    switch (k) {
    case 0: fprintf(out, "      %.0f launches before its first use", launches); break;
    case 1: fprintf(out, "      %.0f launches after its last use", launches); break;
    case 2: fprintf(out, "      %.0f launches idle between two uses", launches); break;
    case 3: fprintf(out, "      never used, for %.0f launches", launches); break;
    case 4: {
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(buf, "could_reuse");
        const char *addr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(other, "address"));
        fprintf(out, "      could have reused %s, freed %.0f launches before", addr ? addr : "?", launches);
        break;
    }
    case 5: fprintf(out, "      %.0f write%s overwritten before any use", num(buf, "dead_writes"),
                    num(buf, "dead_writes") == 1 ? "" : "s"); break;
    default: fprintf(out, "      never freed"); break;
    }
    fprintf(out, "; %s wasted for %.3f s\n", a, num(buf, "wasted_seconds"));
}

void grey_report_waste_text(const cJSON *report, FILE *out)
{
    const cJSON *waste = cJSON_GetObjectItemCaseSensitive(report, "waste");
    if (!cJSON_IsObject(waste))
        return;
    char a[32], b[32];
    const cJSON *opk = cJSON_GetObjectItemCaseSensitive(report, "optimal_peak");
    const cJSON *peak = cJSON_GetObjectItemCaseSensitive(report, "peak");
    if (cJSON_IsObject(opk))
        fprintf(out, "\noptimal peak: %s, the most one kernel launch was given (launch %.0f at %.3f s, pid %d); "
                     "the real peak was %s\n",
                size(num(opk, "bytes"), a, sizeof a), num(opk, "launch"), num(opk, "time_s"), (int)num(opk, "pid"),
                size(num(peak, "bytes"), b, sizeof b));
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(waste, "thresholds");
    double total = 0;
    for (int k = 0; k < GREY_REPORT_WASTE_PATTERNS; k++)
        total += num(cJSON_GetObjectItemCaseSensitive(waste, grey_report_waste_keys[k]), "count");
    fprintf(out, "\nwaste: ");
    if (total == 0) {
        fprintf(out, "none in %.0f kernel launches (early allocation from %.0f launches, late deallocation from "
                     "%.0f, temporary idle from %.0f)\n",
                num(waste, "launches"), num(th, "early_launches"), num(th, "late_launches"), num(th, "idle_launches"));
        return;
    }
    fprintf(out, "%.0f finding%s in %.0f kernel launches\n", total, total == 1 ? "" : "s", num(waste, "launches"));
    for (int k = 0; k < GREY_REPORT_WASTE_PATTERNS; k++) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(waste, grey_report_waste_keys[k]);
        int count = (int)num(pat, "count");
        if (count == 0)
            continue;
        /* The title in lower case, as the other text headings are. */
        char title[64];
        snprintf(title, sizeof title, "%s", grey_report_waste_titles[k]);
        title[0] = (char)(title[0] - 'A' + 'a');
        fprintf(out, "\n  %s: %d buffer%s, %s\n", title, count, count == 1 ? "" : "s",
                size(num(pat, "wasted_bytes"), a, sizeof a));
        const cJSON *buf;
        cJSON_ArrayForEach(buf, cJSON_GetObjectItemCaseSensitive(pat, "buffers"))
        {
            grey_report_text_buffer_line(buf, out);
            finding_line(k, buf, out);
        }
    }
}
