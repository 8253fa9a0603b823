/* nvidia-smi -q -x (see smi_xml.h): the XML reader's events, matched against the paths of the
 * elements grey wants. Values carry units ("81559 MiB", "89 C", "700.00 W", "1980 MHz") or "N/A". */
#include "smi_xml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml_min.h"

#define ROOT "nvidia_smi_log"
#define GPU ROOT "/gpu"

struct state {
    struct gpu_list *out;
    struct gpu_facts *gpu;      /* the <gpu> being read */
    int ngpus;
    long attached;              /* attached_gpus, -1 when not given */
    char driver[32], cuda[16];
    unsigned conf;
};

/* "81559 MiB" -> bytes; "89 C" -> 89; "700.00 W" -> 700000 (mW); "1980 MHz" -> 1980. The unit
 * must be the expected one: a value in another unit is not silently misread. */
static bool number_with_unit(const char *text, const char *unit, double *out)
{
    char *end;
    if (!(*text >= '0' && *text <= '9'))
        return false;
    double v = strtod(text, &end);
    while (*end == ' ')
        end++;
    if (strcmp(end, unit) != 0 || v < 0)
        return false;
    *out = v;
    return true;
}

static void unreadable(struct state *st, const char *path, const char *text)
{
    const char *leaf = strrchr(path, '/');
    gpu_note(st->out, "nvidia-smi -q: GPU %d: %s '%s' is not a value grey understands; left unknown",
             st->ngpus - 1, leaf ? leaf + 1 : path, text);
}

static void on_start(void *ctx, const char *path, const struct xml_attr *attrs, int nattrs)
{
    struct state *st = ctx;
    if (strcmp(path, GPU) != 0)
        return;
    st->gpu = gpu_list_add(st->out, GPU_VENDOR_NVIDIA);
    if (!st->gpu)
        return;
    st->gpu->smi_index = st->ngpus++;
    st->gpu->partial = true; /* until its </gpu> is read */
    for (int i = 0; i < nattrs; i++)
        if (strcmp(attrs[i].name, "id") == 0 && gpu_pci_normalize(attrs[i].value, st->gpu->pci, sizeof st->gpu->pci) == 0)
            gpu_mark(st->gpu, GF_PCI, GPU_SRC_SMI_XML, st->conf);
}

static void on_end(void *ctx, const char *path)
{
    struct state *st = ctx;
    if (strcmp(path, GPU) == 0 && st->gpu) {
        st->gpu->partial = false;
        st->gpu = NULL;
    }
}

/* A size in MiB into *bytes; "N/A" and friends leave it unknown. zero_ok: 0 is a real value
 * (free memory), else a reading error (a total). */
static bool mib(struct state *st, const char *path, const char *text, uint64_t *bytes, bool zero_ok)
{
    double v;
    if (!number_with_unit(text, "MiB", &v) || (v < 1 && !zero_ok)) {
        unreadable(st, path, text);
        return false;
    }
    *bytes = (uint64_t)v * 1024 * 1024;
    return true;
}

static void gpu_text(struct state *st, const char *path, const char *rel, const char *text)
{
    struct gpu_facts *g = st->gpu;
    double v;
    unsigned c = st->conf;
    if (strcmp(text, "N/A") == 0 || strcmp(text, "[N/A]") == 0 || strcmp(text, "Not Supported") == 0 ||
        strcmp(text, "[Not Supported]") == 0 || !*text)
        return;
    if (strcmp(rel, "product_name") == 0) {
        snprintf(g->name, sizeof g->name, "%s", text);
        gpu_mark(g, GF_NAME, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "uuid") == 0) {
        snprintf(g->uuid, sizeof g->uuid, "%s", text);
        gpu_mark(g, GF_UUID, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "pci/pci_bus_id") == 0) {
        if (gpu_pci_normalize(text, g->pci, sizeof g->pci) == 0)
            gpu_mark(g, GF_PCI, GPU_SRC_SMI_XML, c);
        else
            unreadable(st, path, text);
    } else if (strcmp(rel, "fb_memory_usage/total") == 0) {
        if (mib(st, path, text, &g->vram_total, false))
            gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "fb_memory_usage/free") == 0) {
        if (mib(st, path, text, &g->vram_free, true))
            gpu_mark(g, GF_VRAM_FREE, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "mig_mode/current_mig") == 0) {
        if (strcmp(text, "Enabled") == 0 || strcmp(text, "Disabled") == 0) {
            g->mig = text[0] == 'E';
            gpu_mark(g, GF_MIG, GPU_SRC_SMI_XML, c);
        } else {
            unreadable(st, path, text);
        }
    } else if (strcmp(rel, "mig_devices/mig_device/fb_memory_usage/total") == 0) {
        uint64_t b;
        if (mib(st, path, text, &b, false) && b > g->mig_vram) {
            g->mig_vram = b;
            gpu_mark(g, GF_MIG_VRAM, GPU_SRC_SMI_XML, c);
        }
    } else if (strcmp(rel, "temperature/gpu_temp") == 0 || strcmp(rel, "temperature/gpu_temp_slow_threshold") == 0 ||
               strcmp(rel, "temperature/gpu_temp_max_threshold") == 0) {
        if (!number_with_unit(text, "C", &v) || v < 1 || v > 200) {
            unreadable(st, path, text);
            return;
        }
        enum gpu_field f = strstr(rel, "slow") ? GF_TEMP_SLOWDOWN : strstr(rel, "max") ? GF_TEMP_SHUTDOWN : GF_TEMP_NOW;
        unsigned *dst = f == GF_TEMP_SLOWDOWN ? &g->temp_slowdown : f == GF_TEMP_SHUTDOWN ? &g->temp_shutdown : &g->temp_now;
        *dst = (unsigned)v;
        gpu_mark(g, f, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "gpu_power_readings/current_power_limit") == 0 ||
               strcmp(rel, "power_readings/power_limit") == 0 ||
               (strcmp(rel, "power_readings/enforced_power_limit") == 0 && !gpu_known(g, GF_POWER_LIMIT))) {
        /* Drivers from 530 on write gpu_power_readings/current_power_limit; older ones
         * power_readings/power_limit. */
        if (!number_with_unit(text, "W", &v) || v <= 0 || v > 100000) {
            unreadable(st, path, text);
            return;
        }
        g->power_limit_mw = (unsigned)(v * 1000 + 0.5);
        gpu_mark(g, GF_POWER_LIMIT, GPU_SRC_SMI_XML, c);
    } else if (strcmp(rel, "max_clocks/sm_clock") == 0 || strcmp(rel, "max_clocks/mem_clock") == 0) {
        if (!number_with_unit(text, "MHz", &v) || v < 1 || v > 100000) {
            unreadable(st, path, text);
            return;
        }
        bool sm = strstr(rel, "sm_") != NULL;
        *(sm ? &g->clock_sm : &g->clock_mem) = (unsigned)v;
        gpu_mark(g, sm ? GF_CLOCK_SM : GF_CLOCK_MEM, GPU_SRC_SMI_XML, c);
    }
}

static void on_text(void *ctx, const char *path, const char *text)
{
    struct state *st = ctx;
    if (strcmp(path, ROOT "/driver_version") == 0) {
        snprintf(st->driver, sizeof st->driver, "%s", text);
    } else if (strcmp(path, ROOT "/cuda_version") == 0) {
        snprintf(st->cuda, sizeof st->cuda, "%s", text);
    } else if (strcmp(path, ROOT "/attached_gpus") == 0) {
        char *end;
        long n = strtol(text, &end, 10);
        st->attached = *end || n < 0 ? -1 : n;
    } else if (st->gpu && strncmp(path, GPU "/", sizeof GPU) == 0) {
        gpu_text(st, path, path + sizeof GPU, text);
    }
}

int smi_xml_parse(const char *text, size_t len, struct gpu_list *out)
{
    struct state st = {out, NULL, 0, -1, "", "", gpu_source_confidence(GPU_SRC_SMI_XML)};
    int first = out->n;
    static const struct xml_handler h = {on_start, on_text, on_end};
    char err[160];
    if (xml_parse(text, len, &h, &st, err, sizeof err) != 0)
        gpu_note(out, "nvidia-smi -q -x: %s; %d GPU%s read before that", err, st.ngpus, st.ngpus == 1 ? "" : "s");
    /* The versions come before the GPUs and hold for all of them. */
    for (int i = first; i < out->n; i++) {
        struct gpu_facts *g = &out->dev[i];
        if (st.driver[0] && strcmp(st.driver, "N/A") != 0) {
            snprintf(g->driver, sizeof g->driver, "%s", st.driver);
            gpu_mark(g, GF_DRIVER, GPU_SRC_SMI_XML, st.conf);
        }
        if (st.cuda[0] && strcmp(st.cuda, "N/A") != 0) {
            snprintf(g->cuda, sizeof g->cuda, "%s", st.cuda);
            gpu_mark(g, GF_CUDA, GPU_SRC_SMI_XML, st.conf);
        }
        if (g->partial)
            gpu_note(out, "nvidia-smi -q -x: GPU %d was cut off: only the fields before the break are known",
                     g->smi_index);
    }
    if (st.attached >= 0 && st.attached > st.ngpus)
        gpu_note(out, "nvidia-smi -q -x: attached_gpus says %ld, the document describes %d", st.attached, st.ngpus);
    int count = out->n - first;
    if (count)
        out->sources_used |= 1u << GPU_SRC_SMI_XML;
    return count;
}
