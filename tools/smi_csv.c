/* nvidia-smi's CSV query output (see smi_csv.h). */
#include "smi_csv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024ULL * 1024)

enum kind { K_INDEX, K_TEXT, K_PCI, K_MIB, K_WATTS, K_UINT, K_MIG, K_CC };

static const struct column {
    const char *query;
    enum kind kind;
    enum gpu_field field;
} columns[] = {
    {"index", K_INDEX, GF_COUNT},
    {"name", K_TEXT, GF_NAME},
    {"uuid", K_TEXT, GF_UUID},
    {"pci.bus_id", K_PCI, GF_PCI},
    {"driver_version", K_TEXT, GF_DRIVER},
    {"memory.total", K_MIB, GF_VRAM_TOTAL},
    {"memory.free", K_MIB, GF_VRAM_FREE},
    {"power.limit", K_WATTS, GF_POWER_LIMIT},
    {"clocks.max.sm", K_UINT, GF_CLOCK_SM},
    {"clocks.max.memory", K_UINT, GF_CLOCK_MEM},
    {"temperature.gpu", K_UINT, GF_TEMP_NOW},
    {"mig.mode.current", K_MIG, GF_MIG},
    {"compute_cap", K_CC, GF_CC},
};
#define NCOLUMNS (int)(sizeof columns / sizeof columns[0])
#define MAX_LINE 1024

const char *smi_csv_query(bool with_cc)
{
    static char q[512];
    size_t o = 0;
    for (int i = 0; i < NCOLUMNS - (with_cc ? 0 : 1); i++)
        o += (size_t)snprintf(q + o, sizeof q - o, "%s%s", i ? "," : "", columns[i].query);
    return q;
}

/* nvidia-smi's ways of saying "no value". */
static bool no_value(const char *v)
{
    return !*v || strcmp(v, "[N/A]") == 0 || strcmp(v, "N/A") == 0 || strcmp(v, "[Not Supported]") == 0 ||
           strcmp(v, "[Unknown Error]") == 0 || strcmp(v, "[Insufficient Permissions]") == 0;
}

static int parse_uint(const char *v, unsigned long long *out)
{
    if (!isdigit((unsigned char)*v))
        return -1;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end)
        return -1;
    *out = x;
    return 0;
}

/* "700.00" -> 700000 (milliwatts). */
static int parse_watts(const char *v, unsigned *mw)
{
    if (!isdigit((unsigned char)*v))
        return -1;
    char *end;
    double w = strtod(v, &end);
    if (*end || w < 0 || w > 100000)
        return -1;
    *mw = (unsigned)(w * 1000 + 0.5);
    return 0;
}

/* "9.0" -> 90. */
static int parse_cc(const char *v, unsigned *cc)
{
    unsigned major, minor;
    char tail;
    if (sscanf(v, "%u.%u%c", &major, &minor, &tail) != 2 || major > 99 || minor > 9)
        return -1;
    *cc = major * 10 + minor;
    return 0;
}

/* One value into g; false when it is malformed (the field stays unknown). */
static bool set_value(struct gpu_facts *g, const struct column *c, const char *v, unsigned conf)
{
    unsigned long long n;
    switch (c->kind) {
    case K_TEXT: {
        char *dst = c->field == GF_NAME ? g->name : c->field == GF_UUID ? g->uuid : g->driver;
        size_t size = c->field == GF_NAME ? sizeof g->name : c->field == GF_UUID ? sizeof g->uuid : sizeof g->driver;
        snprintf(dst, size, "%s", v);
        break;
    }
    case K_PCI:
        if (gpu_pci_normalize(v, g->pci, sizeof g->pci) != 0)
            return false;
        break;
    case K_MIB:
        /* A device with 0 MiB in total is a reading error, not a device to plan for; 0 MiB free
         * is a full device. */
        if (parse_uint(v, &n) != 0 || (n == 0 && c->field == GF_VRAM_TOTAL) || n > (1ULL << 40))
            return false;
        if (c->field == GF_VRAM_TOTAL)
            g->vram_total = n * MiB;
        else
            g->vram_free = n * MiB;
        break;
    case K_WATTS:
        if (parse_watts(v, &g->power_limit_mw) != 0 || g->power_limit_mw == 0)
            return false;
        break;
    case K_UINT:
        if (parse_uint(v, &n) != 0 || n == 0 || n > 100000)
            return false;
        if (c->field == GF_CLOCK_SM)
            g->clock_sm = (unsigned)n;
        else if (c->field == GF_CLOCK_MEM)
            g->clock_mem = (unsigned)n;
        else
            g->temp_now = (unsigned)n;
        break;
    case K_MIG:
        if (strcmp(v, "Enabled") == 0)
            g->mig = 1;
        else if (strcmp(v, "Disabled") == 0)
            g->mig = 0;
        else
            return false;
        break;
    case K_CC:
        if (parse_cc(v, &g->cc) != 0)
            return false;
        break;
    case K_INDEX:
        return true;
    }
    gpu_mark(g, c->field, GPU_SRC_SMI_CSV, conf);
    return true;
}

/* Splits line at ',' into at most max trimmed values; returns how many there were. */
static int split(char *line, char **val, int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (n < max)
            val[n] = p;
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

int smi_csv_parse(const char *text, size_t len, bool with_cc, struct gpu_list *out)
{
    int want = NCOLUMNS - (with_cc ? 0 : 1), count = 0;
    unsigned conf = gpu_source_confidence(GPU_SRC_SMI_CSV);
    size_t pos = 0;
    for (int lineno = 1; pos < len; lineno++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char line[MAX_LINE];
        snprintf(line, sizeof line, "%.*s", (int)(n < MAX_LINE ? n : MAX_LINE - 1), text + pos);
        pos += n + 1;
        char *val[NCOLUMNS], shown[64];
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        snprintf(shown, sizeof shown, "%.60s", line); /* for messages: split() cuts line up */
        int got = split(line, val, NCOLUMNS);
        unsigned long long idx;
        if (got != want || parse_uint(val[0], &idx) != 0 || idx >= 64) {
            gpu_note(out, "nvidia-smi: line %d is not a GPU line (%d fields, expected %d): '%s'", lineno, got,
                     want, shown);
            continue;
        }
        struct gpu_facts *g = gpu_list_add(out, GPU_VENDOR_NVIDIA);
        if (!g)
            break;
        g->smi_index = (int)idx;
        for (int i = 1; i < want; i++) {
            if (no_value(val[i]))
                continue;
            if (!set_value(g, &columns[i], val[i], conf))
                gpu_note(out, "nvidia-smi: GPU %llu: %s '%s' is not a value grey understands; left unknown", idx,
                         columns[i].query, val[i]);
        }
        if (!nl) {
            /* The tool always ends its lines; a last line without one was cut off, and its last
             * value may be a prefix of the real one. */
            g->partial = true;
            gpu_note(out, "nvidia-smi: the output ends in the middle of GPU %llu's line (cut off?)", idx);
        }
        count++;
    }
    if (count)
        out->sources_used |= 1u << GPU_SRC_SMI_CSV;
    return count;
}
