/* The digest of a run's artifacts (artifacts_report.h). Every file is read bounded, and a line
 * that does not parse is an error naming the file and line: a digest of half a file would mislead. */
#include "artifacts_report.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/size.h"

#define MAX_BYTES (64u << 20) /* a day of seconds on 16 GPUs is far less */
#define MAX_GPUS 64
#define MAX_SERIES 64

/* The whole of DIR/name, NUL-terminated, or NULL with err set. */
static char *slurp(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s (grey-run --artifacts writes it when the job ends)", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_BYTES + 1, f) : 0;
    bool bad = ferror(f) || n > MAX_BYTES;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" : "unreadable or larger than 64 MiB");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

struct gpu_thermal {
    bool seen;
    unsigned tmin, tmax, seconds, level_s[3], dry_s;
    double pmin, pmax, ceiling_min;
};

static int thermal_digest(const char *dir, FILE *out, char *err, size_t errlen)
{
    char *text = slurp(dir, "thermal.csv", err, errlen);
    if (!text)
        return -1;
    static struct gpu_thermal g[MAX_GPUS];
    memset(g, 0, sizeof g);
    unsigned line = 0;
    int rc = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (++line == 1) {
            if (strcmp(l, "t_s,gpu,temp_c,power_w,thermal,ceiling_pct") != 0) {
                snprintf(err, errlen, "%s/thermal.csv:1: not grey-run's thermal signature", dir);
                rc = -1;
                break;
            }
            continue;
        }
        unsigned t, gpu, temp;
        double power, ceiling = 100;
        char level[24] = "";
        int n = sscanf(l, "%u,%u,%u,%lf,%23[a-z-],%lf", &t, &gpu, &temp, &power, level, &ceiling);
        if (n < 4 || gpu >= MAX_GPUS) {
            snprintf(err, errlen, "%s/thermal.csv:%u: not a reading", dir, line);
            rc = -1;
            break;
        }
        struct gpu_thermal *x = &g[gpu];
        if (!x->seen)
            *x = (struct gpu_thermal){.seen = true, .tmin = temp, .tmax = temp, .pmin = power, .pmax = power,
                                      .ceiling_min = 100};
        x->tmin = temp < x->tmin ? temp : x->tmin, x->tmax = temp > x->tmax ? temp : x->tmax;
        x->pmin = power < x->pmin ? power : x->pmin, x->pmax = power > x->pmax ? power : x->pmax;
        x->seconds++;
        bool dry = strncmp(level, "dry-run-", 8) == 0;
        const char *lv = dry ? level + 8 : level;
        int k = !strcmp(lv, "warm") ? 1 : !strcmp(lv, "hot") ? 2 : 0;
        x->level_s[k]++;
        x->dry_s += dry && k;
        if (n == 6 && ceiling < x->ceiling_min)
            x->ceiling_min = ceiling;
    }
    free(text);
    if (rc)
        return rc;
    for (int d = 0; d < MAX_GPUS; d++) {
        const struct gpu_thermal *x = &g[d];
        if (!x->seen)
            continue;
        fprintf(out, "thermal: GPU %d: %u..%u C, %.0f..%.0f W over %u s; cool %u s, over cooldown_temp %u s, over "
                     "throttle_temp %u s",
                d, x->tmin, x->tmax, x->pmin, x->pmax, x->seconds, x->level_s[0], x->level_s[1], x->level_s[2]);
        if (x->dry_s)
            fprintf(out, " (dry run: %u s not held back)", x->dry_s);
        if (x->ceiling_min < 100)
            fprintf(out, "; its processes held to %.0f%% of it together at the lowest", x->ceiling_min);
        fputc('\n', out);
    }
    return 0;
}

struct series_digest {
    int pid, gpu;
    unsigned weight, seconds;
    bool mine;
    double entitled, measured;
};

static int fair_digest(const char *dir, FILE *out, char *err, size_t errlen)
{
    char *text = slurp(dir, "fairness.csv", err, errlen);
    if (!text)
        return -1;
    static struct series_digest s[MAX_SERIES];
    unsigned ns = 0, line = 0;
    int rc = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (++line == 1) {
            if (strcmp(l, "t_s,pid,gpu,weight,entitled_pct,measured_pct,this_run") != 0) {
                snprintf(err, errlen, "%s/fairness.csv:1: not grey-run's fairness table", dir);
                rc = -1;
                break;
            }
            continue;
        }
        unsigned t, weight, mine;
        int pid, gpu;
        double ent, got;
        if (sscanf(l, "%u,%d,%d,%u,%lf,%lf,%u", &t, &pid, &gpu, &weight, &ent, &got, &mine) != 7) {
            snprintf(err, errlen, "%s/fairness.csv:%u: not a sample", dir, line);
            rc = -1;
            break;
        }
        unsigned i = 0;
        while (i < ns && (s[i].pid != pid || s[i].gpu != gpu))
            i++;
        if (i == ns) {
            if (ns == MAX_SERIES)
                continue;
            s[ns++] = (struct series_digest){.pid = pid, .gpu = gpu, .weight = weight, .mine = mine != 0};
        }
        s[i].seconds++, s[i].entitled += ent, s[i].measured += got;
    }
    free(text);
    if (rc)
        return rc;
    for (unsigned i = 0; i < ns; i++)
        fprintf(out, "fairness: pid %d on GPU %d, weight %u%s: entitled to %.1f%% on average, got %.1f%% (%u s)\n",
                s[i].pid, s[i].gpu, s[i].weight, s[i].mine ? "" : " (another run)", s[i].entitled / s[i].seconds,
                s[i].measured / s[i].seconds, s[i].seconds);
    if (!ns)
        fputs("fairness: no process of the run launched on a GPU\n", out);
    return 0;
}

static double number(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static int vram_digest(const char *dir, FILE *out, char *err, size_t errlen)
{
    char *text = slurp(dir, "vram-summary.json", err, errlen);
    if (!text)
        return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(root, "gpus");
    if (!cJSON_IsArray(gpus)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "%s/vram-summary.json: not grey-run's VRAM summary", dir);
        return -1;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, gpus)
    {
        char peak[32], cap[32] = "no cap", big[32];
        double c = number(g, "cap_bytes", -1);
        grey_size_format((uint64_t)number(g, "peak_bytes", 0), peak, sizeof peak);
        if (c >= 0)
            grey_size_format((uint64_t)c, cap, sizeof cap);
        grey_size_format((uint64_t)number(g, "largest_denied_bytes", 0), big, sizeof big);
        fprintf(out, "vram: GPU %.0f: peak %s of %s%s", number(g, "index", number(g, "row", -1)), peak,
                c >= 0 ? "a cap of " : "", cap);
        if (c > 0)
            fprintf(out, " (%.0f%%)", 100 * number(g, "peak_bytes", 0) / c);
        fprintf(out, ", %.0f allocations denied (the largest %s), launches throttled %.1f s\n", number(g, "denied", 0),
                big, number(g, "throttled_seconds", 0));
    }
    char rec[32];
    grey_size_format((uint64_t)number(root, "reclaimable_bytes", 0), rec, sizeof rec);
    fprintf(out, "vram: reclaimable at the end (held by processes that died): %s\n", rec);
    cJSON_Delete(root);
    return 0;
}

/* A path as the user gave it, control bytes as \xNN: nothing raw reaches the terminal. */
static void print_escaped(FILE *out, const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            fprintf(out, "\\x%02x", (unsigned char)*s);
        else
            fputc(*s, out);
}

int artifacts_report(const char *dir, FILE *out, char *err, size_t errlen)
{
    fprintf(out, "grey-run artifacts in ");
    print_escaped(out, dir);
    fputc('\n', out);
    if (vram_digest(dir, out, err, errlen) != 0 || thermal_digest(dir, out, err, errlen) != 0 ||
        fair_digest(dir, out, err, errlen) != 0)
        return -1;
    fprintf(out, "heat map: ");
    print_escaped(out, dir);
    fputs("/fairness.svg (self-contained: open it in any browser)\n", out);
    return 0;
}
