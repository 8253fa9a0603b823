/* grey-plan detect's output (see detect_report.h). */
#include "detect_report.h"

#include <stdbool.h>
#include <string.h>

#include "policy/size.h"

/* Every source that reported anything about g, "nvml+cuda driver". */
static const char *device_sources(const struct gpu_facts *g, char *buf, size_t len)
{
    unsigned all = 0;
    for (int f = 0; f < GF_COUNT; f++)
        all |= g->src[f];
    size_t o = 0;
    buf[0] = '\0';
    for (int s = 0; s < GPU_SRC_COUNT && o < len; s++)
        if (all & (1u << s))
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "+" : "", gpu_source_name(s));
    return buf;
}

static const char *conf_text(unsigned permille, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%02u", permille / 1000, permille % 1000 / 10);
    return buf;
}

/* One "name value (source)" item for the details line, or nothing when unknown. */
static size_t detail(char *buf, size_t len, const struct gpu_facts *g, enum gpu_field f, const char *label,
                     const char *value)
{
    if (!gpu_known(g, f) || len == 0)
        return 0;
    char src[96];
    int n = snprintf(buf, len, "%s%s %s (%s)", "; ", label, value, gpu_field_sources(g, f, src, sizeof src));
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void detect_report_text(FILE *out, const struct detect_result *r)
{
    const struct gpu_list *l = &r->list;
    int w = 4;
    for (int i = 0; i < l->n; i++)
        if ((int)strlen(l->dev[i].name) > w)
            w = (int)strlen(l->dev[i].name);
    fprintf(out, "%-3s  %-*s  %10s  %10s  %4s  %-4s  %-40s  %s\n", "dev", w, "name", "vram", "free", "SMs", "cc",
            "uuid", "source");
    for (int i = 0; i < l->n; i++) {
        const struct gpu_facts *g = &l->dev[i];
        char t[32] = "unknown", f[32] = "-", sms[16] = "-", cc[16] = "-", src[160];
        if (gpu_known(g, GF_VRAM_TOTAL))
            grey_size_format(g->vram_total, t, sizeof t);
        if (gpu_known(g, GF_VRAM_FREE))
            grey_size_format(g->vram_free, f, sizeof f);
        if (gpu_known(g, GF_SM_COUNT))
            snprintf(sms, sizeof sms, "%u", g->sm_count);
        if (gpu_known(g, GF_CC))
            snprintf(cc, sizeof cc, "%u.%u", g->cc / 10, g->cc % 10);
        fprintf(out, "%-3d  %-*s  %10s  %10s  %4s  %-4s  %-40s  %s\n", g->index, w, gpu_known(g, GF_NAME) ? g->name : "-",
                t, f, sms, cc, g->uuid[0] ? g->uuid : "-", device_sources(g, src, sizeof src));
    }
    /* The facts the table has no column for, each with its source. */
    for (int i = 0; i < l->n; i++) {
        const struct gpu_facts *g = &l->dev[i];
        char line[1024] = "", v[64], c[16];
        size_t o = 0;
        snprintf(v, sizeof v, "%s", g->pci);
        o += detail(line + o, sizeof line - o, g, GF_PCI, "pci", v);
        snprintf(v, sizeof v, "%u W", (g->power_limit_mw + 500) / 1000);
        o += detail(line + o, sizeof line - o, g, GF_POWER_LIMIT, "power limit", v);
        snprintf(v, sizeof v, "%u MHz", g->clock_sm);
        o += detail(line + o, sizeof line - o, g, GF_CLOCK_SM, "max SM clock", v);
        snprintf(v, sizeof v, "%u MHz", g->clock_mem);
        o += detail(line + o, sizeof line - o, g, GF_CLOCK_MEM, "max memory clock", v);
        snprintf(v, sizeof v, "%u C", g->temp_slowdown);
        o += detail(line + o, sizeof line - o, g, GF_TEMP_SLOWDOWN, "slowdown", v);
        snprintf(v, sizeof v, "%u C", g->temp_shutdown);
        o += detail(line + o, sizeof line - o, g, GF_TEMP_SHUTDOWN, "shutdown", v);
        snprintf(v, sizeof v, "%u C", g->temp_now);
        o += detail(line + o, sizeof line - o, g, GF_TEMP_NOW, "now", v);
        snprintf(v, sizeof v, "%s", g->mig ? "on" : "off");
        o += detail(line + o, sizeof line - o, g, GF_MIG, "MIG", v);
        grey_size_format(g->mig_vram, v, sizeof v);
        o += detail(line + o, sizeof line - o, g, GF_MIG_VRAM, "largest MIG instance", v);
        snprintf(v, sizeof v, "%s", g->driver);
        o += detail(line + o, sizeof line - o, g, GF_DRIVER, "driver", v);
        snprintf(v, sizeof v, "%s", g->cuda);
        o += detail(line + o, sizeof line - o, g, GF_CUDA, "CUDA", v);
        fprintf(out, "  %s %d: %sconfidence %s%s\n", gpu_vendor_name(g->vendor), g->index,
                g->partial ? "cut off, " : "", conf_text(gpu_device_confidence(g), c, sizeof c), line);
    }
    fprintf(out, "sources:");
    for (int i = 0; i < CHAIN_COUNT; i++) {
        const struct chain_status *st = &r->status[i];
        if (!st->selected)
            fprintf(out, " %s: not selected (GREY_DETECT_SOURCES);", st->name);
        else if (st->ran && st->devices > 0)
            fprintf(out, " %s: %d GPU%s;", st->name, st->devices, st->devices == 1 ? "" : "s");
        else {
            /* Notes from the tools start with the tool's name already ("nvidia-smi: not found"). */
            size_t n = strlen(st->name);
            bool named = strncmp(st->note, st->name, n) == 0 && st->note[n] == ':';
            fprintf(out, " %s%s%s;", named ? "" : st->name, named ? "" : ": ", st->note[0] ? st->note : "no GPU");
        }
    }
    fputc('\n', out);
    for (int i = 0; i < l->nnotes; i++)
        fprintf(out, "note: %s\n", l->notes[i]);
}

/* Raw numbers keep byte counts exact past 2^53 (cJSON keeps doubles). */
static void json_u64(cJSON *o, const char *key, bool known, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddItemToObject(o, key, known ? cJSON_CreateRaw(buf) : cJSON_CreateNull());
}

static void json_str(cJSON *o, const char *key, bool known, const char *v)
{
    cJSON_AddItemToObject(o, key, known ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static void json_conf(cJSON *o, const char *key, unsigned permille)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%u.%03u", permille / 1000, permille % 1000);
    cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

cJSON *detect_report_json(const struct detect_result *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < r->list.n; i++) {
        const struct gpu_facts *g = &r->list.dev[i];
        char cc[16], src[160];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "index", g->index);
        cJSON_AddStringToObject(o, "vendor", gpu_vendor_name(g->vendor));
        json_str(o, "name", gpu_known(g, GF_NAME), g->name);
        json_str(o, "uuid", gpu_known(g, GF_UUID), g->uuid);
        json_str(o, "pci_bus_id", gpu_known(g, GF_PCI), g->pci);
        json_u64(o, "vram_total_bytes", gpu_known(g, GF_VRAM_TOTAL), g->vram_total);
        json_u64(o, "vram_free_bytes", gpu_known(g, GF_VRAM_FREE), g->vram_free);
        json_u64(o, "sm_count", gpu_known(g, GF_SM_COUNT), g->sm_count);
        snprintf(cc, sizeof cc, "%u.%u", g->cc / 10, g->cc % 10);
        json_str(o, "compute_capability", gpu_known(g, GF_CC), cc);
        json_u64(o, "power_limit_mw", gpu_known(g, GF_POWER_LIMIT), g->power_limit_mw);
        json_u64(o, "max_sm_clock_mhz", gpu_known(g, GF_CLOCK_SM), g->clock_sm);
        json_u64(o, "max_mem_clock_mhz", gpu_known(g, GF_CLOCK_MEM), g->clock_mem);
        json_u64(o, "slowdown_temp_c", gpu_known(g, GF_TEMP_SLOWDOWN), g->temp_slowdown);
        json_u64(o, "shutdown_temp_c", gpu_known(g, GF_TEMP_SHUTDOWN), g->temp_shutdown);
        json_u64(o, "temperature_c", gpu_known(g, GF_TEMP_NOW), g->temp_now);
        cJSON_AddItemToObject(o, "mig_enabled", gpu_known(g, GF_MIG) ? cJSON_CreateBool(g->mig) : cJSON_CreateNull());
        json_u64(o, "mig_largest_instance_bytes", gpu_known(g, GF_MIG_VRAM), g->mig_vram);
        json_str(o, "driver_version", gpu_known(g, GF_DRIVER), g->driver);
        json_str(o, "cuda_version", gpu_known(g, GF_CUDA), g->cuda);
        cJSON_AddStringToObject(o, "source", device_sources(g, src, sizeof src));
        json_conf(o, "confidence", gpu_device_confidence(g));
        cJSON_AddBoolToObject(o, "partial", g->partial);
        cJSON *fields = cJSON_AddArrayToObject(o, "fields");
        for (int f = 0; f < GF_COUNT; f++) {
            if (!gpu_known(g, f))
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(fields, e);
            cJSON_AddStringToObject(e, "field", gpu_field_name(f));
            cJSON_AddStringToObject(e, "from", gpu_field_sources(g, f, src, sizeof src));
            json_conf(e, "field_confidence", g->conf[f]);
        }
    }
    return arr;
}
