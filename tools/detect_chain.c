/* The detection chain (see detect_chain.h). */
#include "detect_chain.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "detect_amd.h"
#include "detect_nvml.h"
#include "lspci_parse.h"
#include "run_capture.h"
#include "smi_csv.h"
#include "smi_xml.h"

#define TOOL_TIMEOUT_MS 20000          /* nvidia-smi -q on 8 GPUs takes a few seconds */
#define TOOL_MAX_BYTES (4u << 20)

static const char *const chain_names[CHAIN_COUNT] = {"nvml", "cuda", "nvidia-smi", "amd", "lspci"};

/* ---------------------------------------------------------------- adapters */

int cuda_facts(struct gpu_list *out, char *err, size_t errlen)
{
    struct grey_detected_device det[GREY_MAX_DEVICES];
    int n = grey_detect_cuda(det, GREY_MAX_DEVICES, err, errlen);
    unsigned c = gpu_source_confidence(GPU_SRC_CUDA);
    for (int i = 0; i < n; i++) {
        const struct grey_detected_device *d = &det[i];
        struct gpu_facts *g = gpu_list_add(out, GPU_VENDOR_NVIDIA);
        if (!g)
            break;
        g->api_index = d->index;
        if (d->name[0]) {
            snprintf(g->name, sizeof g->name, "%s", d->name);
            gpu_mark(g, GF_NAME, GPU_SRC_CUDA, c);
        }
        if (d->uuid[0]) {
            snprintf(g->uuid, sizeof g->uuid, "%s", d->uuid);
            gpu_mark(g, GF_UUID, GPU_SRC_CUDA, c);
        }
        if (d->pci_bus_id[0] && gpu_pci_normalize(d->pci_bus_id, g->pci, sizeof g->pci) == 0)
            gpu_mark(g, GF_PCI, GPU_SRC_CUDA, c);
        if (d->vram_total) {
            g->vram_total = d->vram_total;
            gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_CUDA, c);
        }
        if (strcmp(d->source, "cuda driver") == 0) { /* else the free size was a stand-in */
            g->vram_free = d->vram_free;
            gpu_mark(g, GF_VRAM_FREE, GPU_SRC_CUDA, c);
        }
        if (d->sm_count > 0) {
            g->sm_count = (unsigned)d->sm_count;
            gpu_mark(g, GF_SM_COUNT, GPU_SRC_CUDA, c);
        }
        if (d->cc_major > 0 && d->cc_minor >= 0 && d->cc_minor < 10) {
            g->cc = (unsigned)(d->cc_major * 10 + d->cc_minor);
            gpu_mark(g, GF_CC, GPU_SRC_CUDA, c);
        }
        if (d->cuda_version > 0) {
            snprintf(g->cuda, sizeof g->cuda, "%d.%d", d->cuda_version / 1000, d->cuda_version % 1000 / 10);
            gpu_mark(g, GF_CUDA, GPU_SRC_CUDA, c);
        }
    }
    if (n > 0)
        out->sources_used |= 1u << GPU_SRC_CUDA;
    return n;
}

int amd_facts(struct gpu_list *out, char *err, size_t errlen)
{
    struct grey_detected_device det[GREY_MAX_DEVICES];
    int n = grey_detect_amd(det, GREY_MAX_DEVICES, err, errlen);
    for (int i = 0; i < n; i++) {
        const struct grey_detected_device *d = &det[i];
        enum gpu_source s = strcmp(d->source, "rocm-smi") == 0 ? GPU_SRC_ROCM_SMI : GPU_SRC_AMD_SYSFS;
        unsigned c = gpu_source_confidence(s);
        struct gpu_facts *g = gpu_list_add(out, GPU_VENDOR_AMD);
        if (!g)
            break;
        g->api_index = d->index; /* detect_amd.c numbers them as HIP does */
        snprintf(g->name, sizeof g->name, "%s", d->name);
        /* A name detect_amd.c made up from the PCI device id is a label, not a model name. */
        gpu_mark(g, GF_NAME, s, strncmp(d->name, "AMD GPU", 7) == 0 ? c / 2 : c);
        if (d->uuid[0]) {
            snprintf(g->uuid, sizeof g->uuid, "%s", d->uuid);
            gpu_mark(g, GF_UUID, s, c);
        }
        g->vram_total = d->vram_total;
        gpu_mark(g, GF_VRAM_TOTAL, s, c);
        g->vram_free = d->vram_free;
        gpu_mark(g, GF_VRAM_FREE, s, c);
        out->sources_used |= 1u << s;
    }
    return n;
}

/* ---------------------------------------------------------------- the tools */

/* nvidia-smi, both forms, into out. Returns the devices the CSV query found (the XML adds to
 * them), or -1 with a reason in err when the tool cannot be run. */
static int smi_facts(struct gpu_list *out, char *err, size_t errlen)
{
    struct capture cap;
    bool with_cc = true;
    char query[600];
    snprintf(query, sizeof query, "--query-gpu=%s", smi_csv_query(true));
    const char *argv_csv[] = {"nvidia-smi", query, "--format=csv,noheader,nounits", NULL};
    if (run_capture(argv_csv, TOOL_MAX_BYTES, TOOL_TIMEOUT_MS, &cap, err, errlen) != 0)
        return -1;
    if (cap.exit_status != 0 && cap.out && strstr(cap.out, "compute_cap")) {
        /* Drivers older than compute_cap refuse the whole query over it: ask again without. */
        capture_free(&cap);
        with_cc = false;
        snprintf(query, sizeof query, "--query-gpu=%s", smi_csv_query(false));
        if (run_capture(argv_csv, TOOL_MAX_BYTES, TOOL_TIMEOUT_MS, &cap, err, errlen) != 0)
            return -1;
    }
    if (cap.exit_status != 0)
        gpu_note(out, "nvidia-smi --query-gpu exited with status %d", cap.exit_status);
    if (cap.timed_out)
        gpu_note(out, "nvidia-smi --query-gpu did not finish within %d s", TOOL_TIMEOUT_MS / 1000);
    struct gpu_list *csv = calloc(1, sizeof *csv);
    int n = 0;
    if (csv) {
        n = smi_csv_parse(cap.out, cap.len, with_cc, csv);
        gpu_list_merge(out, csv);
        free(csv);
    }
    capture_free(&cap);

    const char *argv_xml[] = {"nvidia-smi", "-q", "-x", NULL};
    char xerr[200];
    if (run_capture(argv_xml, TOOL_MAX_BYTES, TOOL_TIMEOUT_MS, &cap, xerr, sizeof xerr) != 0) {
        gpu_note(out, "%s", xerr);
        return n;
    }
    if (cap.exit_status != 0)
        gpu_note(out, "nvidia-smi -q -x exited with status %d", cap.exit_status);
    if (cap.timed_out || cap.truncated)
        gpu_note(out, "nvidia-smi -q -x %s", cap.timed_out ? "did not finish in time" : "printed too much");
    struct gpu_list *xml = calloc(1, sizeof *xml);
    if (xml) {
        int m = smi_xml_parse(cap.out, cap.len, xml);
        gpu_list_merge(out, xml);
        free(xml);
        if (n == 0)
            n = m;
    }
    capture_free(&cap);
    return n;
}

static int lspci_facts(struct gpu_list *out, char *err, size_t errlen)
{
    struct capture cap;
    /* -nn: numeric ids, so vendors are matched by id rather than by name; -D: PCI domains. */
    const char *argv[] = {"lspci", "-mm", "-nn", "-D", NULL};
    if (run_capture(argv, TOOL_MAX_BYTES, TOOL_TIMEOUT_MS, &cap, err, errlen) != 0)
        return -1;
    if (cap.exit_status != 0)
        gpu_note(out, "lspci exited with status %d", cap.exit_status);
    int n = lspci_parse(cap.out, cap.len, out);
    capture_free(&cap);
    for (int i = 0; i < out->n; i++)
        gpu_note(out, "lspci: %s at %s: present, but its memory is unknown (no driver tool answered)",
                 out->dev[i].name, out->dev[i].pci);
    return n;
}

/* ---------------------------------------------------------------- the chain */

static int select_sources(struct detect_result *r, char *err, size_t errlen)
{
    const char *want = getenv("GREY_DETECT_SOURCES");
    for (int i = 0; i < CHAIN_COUNT; i++) {
        r->status[i].name = chain_names[i];
        r->status[i].selected = !want || !*want;
    }
    if (!want || !*want)
        return 0;
    char list[256];
    snprintf(list, sizeof list, "%s", want);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int i = 0; i < CHAIN_COUNT; i++)
            if (strcmp(tok, chain_names[i]) == 0)
                k = i;
        if (k < 0) {
            snprintf(err, errlen, "GREY_DETECT_SOURCES: unknown source '%s' (use nvml, cuda, nvidia-smi, amd, lspci)",
                     tok);
            return -1;
        }
        r->status[k].selected = 1;
    }
    return 0;
}

/* Runs one source into a scratch list and merges it. */
static void run_source(struct detect_result *r, int k, int (*fn)(struct gpu_list *, char *, size_t))
{
    struct chain_status *st = &r->status[k];
    struct gpu_list *scratch = calloc(1, sizeof *scratch);
    if (!scratch) {
        snprintf(st->note, sizeof st->note, "out of memory");
        st->devices = -1;
        return;
    }
    st->ran = 1;
    st->devices = fn(scratch, st->note, sizeof st->note);
    gpu_list_merge(&r->list, scratch);
    free(scratch);
    if (st->devices == 0 && !st->note[0])
        snprintf(st->note, sizeof st->note, "no GPU");
}

static void add_failure(struct detect_result *r, const struct chain_status *st, const char *fallback)
{
    size_t o = strlen(r->failure);
    const char *why = st->devices < 0 || (st->note[0] && strcmp(st->note, "no GPU") != 0) ? st->note : fallback;
    snprintf(r->failure + o, sizeof r->failure - o, "%s%s", o ? "; " : "", why);
}

int detect_chain(struct detect_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (select_sources(r, err, errlen) != 0)
        return -1;
    if (r->status[CHAIN_NVML].selected)
        run_source(r, CHAIN_NVML, nvml_detect);
    if (r->status[CHAIN_CUDA].selected)
        run_source(r, CHAIN_CUDA, cuda_facts);
    /* nvidia-smi answers from NVML: when NVML worked and saw no GPU, it would say the same. */
    const struct chain_status *nvml = &r->status[CHAIN_NVML];
    if (r->status[CHAIN_SMI].selected) {
        if (nvml->ran && nvml->devices == 0)
            snprintf(r->status[CHAIN_SMI].note, sizeof r->status[CHAIN_SMI].note,
                     "not asked: NVML, which it reads, sees no GPU");
        else
            run_source(r, CHAIN_SMI, smi_facts);
    }
    if (r->status[CHAIN_AMD].selected)
        run_source(r, CHAIN_AMD, amd_facts);
    if (r->status[CHAIN_LSPCI].selected) {
        if (r->list.n > 0)
            snprintf(r->status[CHAIN_LSPCI].note, sizeof r->status[CHAIN_LSPCI].note,
                     "not asked: the sources above found the GPUs (lspci is the last resort)");
        else
            run_source(r, CHAIN_LSPCI, lspci_facts);
    }
    gpu_list_finish(&r->list);
    if (r->list.n > 0)
        return r->list.n;
    /* CUDA's reason, then AMD's, first: what grey-run and earlier grey-plan said. */
    static const char *const fallback[CHAIN_COUNT] = {
        "NVML sees no GPU", "the CUDA driver reports no devices", "nvidia-smi lists no GPU",
        "no AMD GPU", "lspci shows no display controller"};
    static const int order[CHAIN_COUNT] = {CHAIN_CUDA, CHAIN_AMD, CHAIN_NVML, CHAIN_SMI, CHAIN_LSPCI};
    for (int i = 0; i < CHAIN_COUNT; i++) {
        const struct chain_status *st = &r->status[order[i]];
        if (st->ran)
            add_failure(r, st, fallback[order[i]]);
    }
    if (!r->failure[0])
        snprintf(r->failure, sizeof r->failure, "no detection source was asked");
    return 0;
}
