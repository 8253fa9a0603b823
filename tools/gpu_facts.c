/* Per-field GPU facts: provenance, merging across sources, ordering and a confidence per device
 * (see gpu_facts.h). */
#include "gpu_facts.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How far each source is trusted for the fields it reports, in permille. The numbers rank the
 * sources, they are not measured error rates:
 *   NVML, CUDA driver  950  the driver's own typed answers, per device, in bytes and units
 *   nvidia-smi         900  the same facts as NVML, but through text: MiB rounding, units,
 *                           "[N/A]", and a format that changes between driver releases
 *   amdgpu sysfs       900  the kernel driver's own byte counters
 *   rocm-smi           850  text JSON whose keys were renamed between ROCm releases
 *   lspci              500  PCI configuration space only: a device is there, of this vendor and
 *                           model; nothing about its memory, clocks or temperatures */
static const struct {
    const char *name;
    unsigned confidence;
} sources[GPU_SRC_COUNT] = {
    [GPU_SRC_NVML] = {"nvml", 950},           [GPU_SRC_CUDA] = {"cuda driver", 950},
    [GPU_SRC_SMI_CSV] = {"nvidia-smi", 900},  [GPU_SRC_SMI_XML] = {"nvidia-smi -q", 900},
    [GPU_SRC_AMD_SYSFS] = {"amdgpu sysfs", 900}, [GPU_SRC_ROCM_SMI] = {"rocm-smi", 850},
    [GPU_SRC_LSPCI] = {"lspci", 500},
};

enum ftype { FT_STR, FT_U64, FT_UINT };

/* How to compare and copy each field. tolerance: two numbers that differ by at most this much
 * agree (nvidia-smi rounds memory to MiB and power to 10 mW). moving: the value changes between
 * two reads (free memory, temperature), so two sources never disagree about it. */
static const struct {
    const char *name;
    enum ftype type;
    size_t off, size;
    uint64_t tolerance;
    bool moving;
} fields[GF_COUNT] = {
#define STR(f, n) FT_STR, offsetof(struct gpu_facts, f), sizeof(((struct gpu_facts *)0)->f), 0, false
#define NUM(t, f, tol, mv) t, offsetof(struct gpu_facts, f), sizeof(((struct gpu_facts *)0)->f), tol, mv
    [GF_NAME] = {"name", STR(name, 0)},
    [GF_UUID] = {"uuid", STR(uuid, 0)},
    [GF_PCI] = {"pci_bus_id", STR(pci, 0)},
    [GF_VRAM_TOTAL] = {"vram_total", NUM(FT_U64, vram_total, 1 << 20, false)},
    [GF_VRAM_FREE] = {"vram_free", NUM(FT_U64, vram_free, 0, true)},
    [GF_SM_COUNT] = {"sm_count", NUM(FT_UINT, sm_count, 0, false)},
    [GF_CC] = {"compute_capability", NUM(FT_UINT, cc, 0, false)},
    [GF_POWER_LIMIT] = {"power_limit", NUM(FT_UINT, power_limit_mw, 1000, false)},
    [GF_CLOCK_SM] = {"max_sm_clock", NUM(FT_UINT, clock_sm, 0, false)},
    [GF_CLOCK_MEM] = {"max_mem_clock", NUM(FT_UINT, clock_mem, 0, false)},
    [GF_TEMP_SLOWDOWN] = {"slowdown_temp", NUM(FT_UINT, temp_slowdown, 0, false)},
    [GF_TEMP_SHUTDOWN] = {"shutdown_temp", NUM(FT_UINT, temp_shutdown, 0, false)},
    [GF_TEMP_NOW] = {"temperature", NUM(FT_UINT, temp_now, 0, true)},
    [GF_MIG] = {"mig_enabled", NUM(FT_UINT, mig, 0, false)},
    [GF_MIG_VRAM] = {"mig_largest_instance", NUM(FT_U64, mig_vram, 1 << 20, false)},
    [GF_DRIVER] = {"driver_version", STR(driver, 0)},
    [GF_CUDA] = {"cuda_version", STR(cuda, 0)},
#undef STR
#undef NUM
};

const char *gpu_source_name(enum gpu_source s)
{
    return s >= 0 && s < GPU_SRC_COUNT ? sources[s].name : "none";
}

unsigned gpu_source_confidence(enum gpu_source s)
{
    return s >= 0 && s < GPU_SRC_COUNT ? sources[s].confidence : 0;
}

const char *gpu_vendor_name(enum gpu_vendor v)
{
    switch (v) {
    case GPU_VENDOR_NVIDIA: return "nvidia";
    case GPU_VENDOR_AMD: return "amd";
    case GPU_VENDOR_INTEL: return "intel";
    case GPU_VENDOR_OTHER: return "other";
    case GPU_VENDOR_UNKNOWN: break;
    }
    return "unknown";
}

const char *gpu_field_name(enum gpu_field f)
{
    return f >= 0 && f < GF_COUNT ? fields[f].name : "?";
}

struct gpu_facts *gpu_list_add(struct gpu_list *list, enum gpu_vendor vendor)
{
    if (list->n >= GPU_LIST_MAX) {
        gpu_note(list, "more than %d GPUs: the rest are not listed", GPU_LIST_MAX);
        return NULL;
    }
    struct gpu_facts *g = &list->dev[list->n++];
    memset(g, 0, sizeof *g);
    g->vendor = vendor;
    g->api_index = g->smi_index = g->index = -1;
    return g;
}

void gpu_note(struct gpu_list *list, const char *fmt, ...)
{
    if (list->nnotes >= GPU_NOTES_MAX) {
        snprintf(list->notes[GPU_NOTES_MAX - 1], GPU_NOTE_LEN, "(and more notes)");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(list->notes[list->nnotes++], GPU_NOTE_LEN, fmt, ap);
    va_end(ap);
}

void gpu_mark(struct gpu_facts *g, enum gpu_field f, enum gpu_source s, unsigned conf)
{
    g->src[f] |= 1u << s;
    g->conf[f] = conf > 1000 ? 1000 : conf;
}

bool gpu_known(const struct gpu_facts *g, enum gpu_field f) { return g->src[f] != 0; }

enum gpu_source gpu_field_source(const struct gpu_facts *g, enum gpu_field f)
{
    return g->src[f] ? (enum gpu_source)__builtin_ctz(g->src[f]) : GPU_SRC_NONE;
}

const char *gpu_field_sources(const struct gpu_facts *g, enum gpu_field f, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int s = 0; s < GPU_SRC_COUNT && o < len; s++)
        if (g->src[f] & (1u << s)) {
            int n = snprintf(buf + o, len - o, "%s%s", o ? "+" : "", sources[s].name);
            if (n < 0)
                break;
            o += (size_t)n;
        }
    if (!buf[0])
        snprintf(buf, len, "unknown");
    return buf;
}

int gpu_pci_normalize(const char *text, char *out, size_t len)
{
    unsigned long domain = 0, bus, dev, fn;
    char tail;
    while (*text == ' ')
        text++;
    /* domain:bus:device.function, or bus:device.function (lspci without -D: domain 0). */
    if (sscanf(text, "%lx:%lx:%lx.%lx%c", &domain, &bus, &dev, &fn, &tail) == 4 ||
        (domain = 0, sscanf(text, "%lx:%lx.%lx%c", &bus, &dev, &fn, &tail) == 3)) {
        if (!isxdigit((unsigned char)text[0]) || domain > 0xffffffffUL || bus > 0xff || dev > 0x1f || fn > 7)
            return -1;
        snprintf(out, len, "%04lx:%02lx:%02lx.%lx", domain, bus, dev, fn);
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- merging */

static void *field_ptr(struct gpu_facts *g, enum gpu_field f) { return (char *)g + fields[f].off; }
static const void *field_cptr(const struct gpu_facts *g, enum gpu_field f)
{
    return (const char *)g + fields[f].off;
}

static uint64_t field_num(const struct gpu_facts *g, enum gpu_field f)
{
    if (fields[f].type == FT_U64)
        return *(const uint64_t *)field_cptr(g, f);
    return *(const unsigned *)field_cptr(g, f);
}

static bool fields_agree(const struct gpu_facts *a, const struct gpu_facts *b, enum gpu_field f)
{
    if (fields[f].moving)
        return true;
    if (fields[f].type == FT_STR)
        return strcasecmp(field_cptr(a, f), field_cptr(b, f)) == 0;
    uint64_t x = field_num(a, f), y = field_num(b, f);
    return (x > y ? x - y : y - x) <= fields[f].tolerance;
}

static void field_text(const struct gpu_facts *g, enum gpu_field f, char *buf, size_t len)
{
    if (fields[f].type == FT_STR)
        snprintf(buf, len, "'%s'", (const char *)field_cptr(g, f));
    else
        snprintf(buf, len, "%llu", (unsigned long long)field_num(g, f));
}

static bool same_device(const struct gpu_facts *a, const struct gpu_facts *b)
{
    if (a->uuid[0] && b->uuid[0])
        return strcasecmp(a->uuid, b->uuid) == 0;
    if (a->pci[0] && b->pci[0])
        return strcmp(a->pci, b->pci) == 0;
    return false;
}

/* A device that no UUID or PCI address ties to one already listed, when one side has neither
 * (AMD's sysfs/rocm-smi reader reports no PCI address; lspci reports nothing else): the k-th
 * device of the same vendor in list that has no PCI address either and that this source has not
 * matched yet. Vendors number their devices in PCI order in all these tools, so the k-th is the
 * same GPU. */
static struct gpu_facts *match_by_order(struct gpu_list *list, const struct gpu_facts *d, int k,
                                        unsigned srcbit)
{
    int seen = 0;
    for (int i = 0; i < list->n; i++) {
        struct gpu_facts *g = &list->dev[i];
        if (g->vendor != d->vendor || (d->pci[0] && (g->pci[0] || (g->uuid[0] && d->uuid[0]))))
            continue;
        if (seen++ == k) {
            bool claimed = false;
            for (int f = 0; f < GF_COUNT; f++)
                claimed |= (g->src[f] & srcbit) != 0;
            return claimed ? NULL : g;
        }
    }
    return NULL;
}

/* The second source's look at a device list already has. */
static void merge_device(struct gpu_list *list, struct gpu_facts *g, const struct gpu_facts *d)
{
    if (g->vendor == GPU_VENDOR_UNKNOWN)
        g->vendor = d->vendor;
    if (g->api_index < 0)
        g->api_index = d->api_index;
    if (g->smi_index < 0)
        g->smi_index = d->smi_index;
    g->partial |= d->partial;
    for (int f = 0; f < GF_COUNT; f++) {
        if (!d->src[f])
            continue;
        if (!g->src[f]) {
            memcpy(field_ptr(g, f), field_cptr(d, f), fields[f].size);
            g->src[f] = d->src[f];
            g->conf[f] = d->conf[f];
        } else if (fields_agree(g, d, f)) {
            /* Two independent readings of one value: surer than either. */
            g->src[f] |= d->src[f];
            unsigned best = g->conf[f] > d->conf[f] ? g->conf[f] : d->conf[f];
            g->conf[f] = best + 30 > 1000 ? 1000 : best + 30;
        } else {
            char a[96], b[96];
            field_text(g, f, a, sizeof a);
            field_text(d, f, b, sizeof b);
            gpu_note(list, "device %s: %s says %s %s, %s says %s; keeping %s's", g->pci[0] ? g->pci : g->uuid,
                     gpu_source_name(gpu_field_source(g, f)), fields[f].name, a,
                     gpu_source_name(gpu_field_source(d, f)), b, gpu_source_name(gpu_field_source(g, f)));
            g->conf[f] = g->conf[f] > 300 ? g->conf[f] - 300 : 0;
        }
    }
}

void gpu_list_merge(struct gpu_list *list, const struct gpu_list *in)
{
    int per_vendor[GPU_VENDOR_OTHER + 1] = {0};
    for (int i = 0; i < in->n; i++) {
        const struct gpu_facts *d = &in->dev[i];
        unsigned srcbit = 0;
        for (int f = 0; f < GF_COUNT; f++)
            srcbit |= d->src[f];
        int k = per_vendor[d->vendor]++;
        struct gpu_facts *g = NULL;
        for (int j = 0; j < list->n && !g; j++)
            if (same_device(&list->dev[j], d))
                g = &list->dev[j];
        if (!g && (!d->pci[0] || !d->uuid[0]))
            g = match_by_order(list, d, k, srcbit);
        if (!g) {
            if (!(g = gpu_list_add(list, d->vendor)))
                continue;
            *g = *d;
            continue;
        }
        merge_device(list, g, d);
    }
    for (int i = 0; i < in->nnotes; i++)
        gpu_note(list, "%s", in->notes[i]);
    list->sources_used |= in->sources_used;
}

/* ---------------------------------------------------------------- order and indices */

/* Plans number GPUs as NVML and nvidia-smi do, by PCI address, which is what the hook finds for
 * each GPU it binds (NVML's index, else the GPU's place in sysfs's PCI order): never by a
 * runtime's ordinal, which CUDA_DEVICE_ORDER, CUDA_VISIBLE_DEVICES and containers renumber. So
 * within a vendor: NVML's own index where a source gave one, else PCI address, else the API's
 * ordinal (a device no source could place). */
static int order_class(const struct gpu_facts *g)
{
    return g->smi_index >= 0 ? 0 : g->pci[0] ? 1 : 2;
}

static int by_order(const void *a, const void *b)
{
    const struct gpu_facts *x = a, *y = b;
    int vx = x->vendor == GPU_VENDOR_NVIDIA ? 0 : x->vendor == GPU_VENDOR_AMD ? 1 : 2;
    int vy = y->vendor == GPU_VENDOR_NVIDIA ? 0 : y->vendor == GPU_VENDOR_AMD ? 1 : 2;
    if (vx != vy)
        return vx < vy ? -1 : 1;
    int cx = order_class(x), cy = order_class(y);
    if (cx != cy)
        return cx < cy ? -1 : 1;
    if (cx == 0 && x->smi_index != y->smi_index)
        return x->smi_index < y->smi_index ? -1 : 1;
    int pci = strcmp(x->pci, y->pci);
    if (pci != 0)
        return pci;
    return x->api_index < y->api_index ? -1 : x->api_index > y->api_index;
}

void gpu_list_finish(struct gpu_list *list)
{
    qsort(list->dev, (size_t)list->n, sizeof list->dev[0], by_order);
    int next[GPU_VENDOR_OTHER + 1] = {0};
    for (int i = 0; i < list->n; i++) {
        struct gpu_facts *g = &list->dev[i];
        int *n = &next[g->vendor];
        g->index = g->smi_index >= *n ? g->smi_index : *n;
        *n = g->index + 1;
    }
}

/* ---------------------------------------------------------------- confidence */

unsigned gpu_device_confidence(const struct gpu_facts *g)
{
    /* What planning needs, weighted by how much a wrong value would hurt: VRAM sizes every cap
     * and budget, the rest shape hints. */
    static const struct {
        enum gpu_field f;
        unsigned weight;
    } key[] = {{GF_VRAM_TOTAL, 5}, {GF_NAME, 1},          {GF_SM_COUNT, 1}, {GF_TEMP_SLOWDOWN, 1},
               {GF_POWER_LIMIT, 1}, {GF_DRIVER, 1}};
    unsigned sum = 0, total = 0;
    for (size_t i = 0; i < sizeof key / sizeof key[0]; i++) {
        total += key[i].weight * 1000;
        if (gpu_known(g, key[i].f))
            sum += key[i].weight * g->conf[key[i].f];
    }
    /* The UUID or the PCI address: what ties the facts of several sources to one device. */
    total += 1000;
    if (gpu_known(g, GF_UUID) || gpu_known(g, GF_PCI))
        sum += gpu_known(g, GF_UUID) ? g->conf[GF_UUID] : g->conf[GF_PCI];
    unsigned c = (unsigned)((uint64_t)sum * 1000 / total);
    /* Several sources that agree on the device: a little surer (the seeds' rule: three or more
     * sources put a complete device at 0.7 or above). */
    unsigned all = 0;
    for (int f = 0; f < GF_COUNT; f++)
        all |= g->src[f];
    int nsrc = __builtin_popcount(all);
    c += nsrc >= 3 ? 100 : nsrc == 2 ? 50 : 0;
    if (g->partial)
        c = c > 200 ? c - 200 : 0;
    if (!gpu_known(g, GF_VRAM_TOTAL) && c > 300)
        c = 300; /* nothing can be planned from such a device */
    return c > 1000 ? 1000 : c;
}
