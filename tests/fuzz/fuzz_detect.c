/* libFuzzer target: the parsers of what vendor tools print (tools/smi_csv.c, smi_xml.c with its
 * XML reader, lspci_parse.c). Their input is whatever a tool on PATH prints, so no input may
 * crash them, read out of bounds or hit undefined behaviour, and none may produce what the
 * planner would trust wrongly: a known memory size of 0, or a PCI address that is not canonical
 * (so that the same device from another source would not match it).
 * The first byte picks the parser: 'c' CSV with compute_cap, 'n' CSV without, 'x' XML, else
 * lspci. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tools/gpu_facts.h"
#include "tools/lspci_parse.h"
#include "tools/smi_csv.h"
#include "tools/smi_xml.h"

static struct gpu_list list;

static void check(const struct gpu_list *l)
{
    if (l->n < 0 || l->n > GPU_LIST_MAX || l->nnotes > GPU_NOTES_MAX)
        __builtin_trap();
    for (int i = 0; i < l->n; i++) {
        const struct gpu_facts *g = &l->dev[i];
        if (gpu_known(g, GF_VRAM_TOTAL) && g->vram_total == 0)
            __builtin_trap(); /* a zero the planner would trust */
        char again[20];
        if (gpu_known(g, GF_PCI) && (gpu_pci_normalize(g->pci, again, sizeof again) != 0 || strcmp(again, g->pci) != 0))
            __builtin_trap(); /* not canonical: it would not match the same device from another source */
        for (int f = 0; f < GF_COUNT; f++)
            if (g->conf[f] > 1000)
                __builtin_trap();
        if (memchr(g->name, '\0', sizeof g->name) == NULL || memchr(g->uuid, '\0', sizeof g->uuid) == NULL)
            __builtin_trap();
        (void)gpu_device_confidence(g);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    memset(&list, 0, sizeof list);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0]) {
    case 'c': smi_csv_parse(text, len, true, &list); break;
    case 'n': smi_csv_parse(text, len, false, &list); break;
    case 'x': smi_xml_parse(text, len, &list); break;
    default: lspci_parse(text, len, &list); break;
    }
    check(&list);
    /* Merging what came out with itself must keep one device per device. */
    static struct gpu_list twice;
    memset(&twice, 0, sizeof twice);
    gpu_list_merge(&twice, &list);
    gpu_list_merge(&twice, &list);
    check(&twice);
    gpu_list_finish(&twice);
    return 0;
}
