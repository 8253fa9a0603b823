/* Identities and descriptions of the node's physical devices (sim_node.h). */
#include "sim_node.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_node_describe(const struct sim_settings *set, int phys, struct sim_phys_desc *out)
{
    const struct sim_gpu_settings *g = &set->gpu[sim_phys_gpu(phys)];
    out->clock_khz = SIM_CLOCK_KHZ;
    if (!sim_phys_is_mig(phys)) {
        snprintf(out->name, sizeof out->name, "%s", g->name);
        out->vram = g->vram;
        out->sms = g->sms;
        return;
    }
    /* Named as NVIDIA names MIG devices: the GPU's name, then the profile (compute slices and
     * memory in GB, rounded, at least 1). */
    unsigned long long gb = (unsigned long long)((set->mig_vram + (1ULL << 29)) >> 30);
    if (gb == 0)
        gb = 1;
    snprintf(out->name, sizeof out->name, "%.200s MIG 3g.%llugb", g->name, gb);
    out->vram = set->mig_vram;
    out->sms = SIM_MIG_SMS;
}

/* ------------------------------------------------------------------ UUIDs */

/* SplitMix64's output function: a bijection on 64-bit words that scatters its input's bits, so
 * consecutive physical ids give UUIDs that differ from their first digit (as real, random ones
 * do, which is what makes short prefixes in CUDA_VISIBLE_DEVICES useful). */
static uint64_t scatter(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Bytes 0-9 come from the physical id through scatter(); bytes 10-15 spell "GREY" and the id, so
 * that no two physical devices share a UUID whatever the hash does, and a simulated UUID is
 * recognisable in a log. The version (4) and variant bits make it a well-formed RFC 4122 UUID. */
void sim_node_uuid(int phys, unsigned char out[16])
{
    uint64_t hi = scatter((uint64_t)phys * 2), lo = scatter((uint64_t)phys * 2 + 1);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(hi >> (56 - 8 * i));
    out[8] = (unsigned char)(lo >> 56);
    out[9] = (unsigned char)(lo >> 48);
    memcpy(out + 10, "GREY", 4);
    out[14] = (unsigned char)(phys >> 8);
    out[15] = (unsigned char)phys;
    out[6] = (unsigned char)((out[6] & 0x0f) | 0x40);
    out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);
}

void sim_node_uuid_text(int phys, char out[SIM_UUID_TEXT])
{
    unsigned char u[16];
    sim_node_uuid(phys, u);
    snprintf(out, SIM_UUID_TEXT,
             "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             sim_phys_is_mig(phys) ? "MIG" : "GPU", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
             u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

void sim_node_rocm_uuid_text(int gpu, char out[SIM_ROCM_UUID_TEXT])
{
    unsigned char u[16];
    sim_node_uuid(gpu, u);
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | u[i];
    snprintf(out, SIM_ROCM_UUID_TEXT, "GPU-%016llX", (unsigned long long)id);
}

/* ------------------------------------------------------------------ PCI */

/* The buses of a DGX H100's eight GPUs; GPUs 8-15 repeat them in PCI domain 1, as a server with a
 * second PCI segment would. Domain-major, then bus, is the PCI order, which is physical-id order. */
static const unsigned char gpu_bus[8] = {0x18, 0x2a, 0x3a, 0x5d, 0x9a, 0xab, 0xba, 0xdb};

struct sim_pci sim_node_pci(int phys)
{
    int gpu = sim_phys_gpu(phys);
    return (struct sim_pci){.domain = (unsigned)gpu / 8, .bus = gpu_bus[gpu % 8], .device = 0, .function = 0};
}

void sim_node_pci_text(int phys, char *out, size_t len)
{
    struct sim_pci p = sim_node_pci(phys);
    snprintf(out, len, "%04x:%02x:%02x.%x", p.domain, p.bus, p.device, p.function);
}

/* One hexadecimal field, ended by a character of `ends` or by the end of the text (strchr finds
 * the NUL in every `ends`; the callers check which one it was). Advances *p past the field and a
 * separator; -1 when there is no digit, the field overflows max or another character ends it. */
static int hex_field(const char **p, const char *ends, unsigned max, unsigned *out)
{
    const char *s = *p;
    unsigned long v = 0;
    int digits = 0;
    while (isxdigit((unsigned char)*s)) {
        v = v * 16 + (unsigned long)(isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10);
        if (v > max)
            return -1;
        s++;
        digits++;
    }
    if (digits == 0 || !strchr(ends, *s))
        return -1;
    *out = (unsigned)v;
    *p = *s ? s + 1 : s;
    return 0;
}

int sim_node_pci_parse(const char *text, struct sim_pci *out)
{
    if (!text)
        return -1;
    int colons = 0;
    for (const char *c = text; *c; c++)
        colons += *c == ':';
    struct sim_pci r = {0};
    const char *p = text;
    if (colons == 2) {
        if (hex_field(&p, ":", 0xffffffffu, &r.domain) || hex_field(&p, ":", 0xff, &r.bus) ||
            hex_field(&p, ".", 0x1f, &r.device))
            return -1;
        /* The function is optional in this form: "0000:18:00" names the device. */
        if (p[-1] == '.' && hex_field(&p, "", 0x7, &r.function))
            return -1;
    } else if (colons == 1) {
        if (hex_field(&p, ":", 0xff, &r.bus) || hex_field(&p, ".", 0x1f, &r.device) ||
            p[-1] != '.' || hex_field(&p, "", 0x7, &r.function))
            return -1;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    *out = r;
    return 0;
}

bool sim_node_pci_equal(struct sim_pci a, struct sim_pci b)
{
    return a.domain == b.domain && a.bus == b.bus && a.device == b.device && a.function == b.function;
}
