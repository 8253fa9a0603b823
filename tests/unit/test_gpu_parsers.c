/* The detection parsers against the recorded outputs in tests/fixtures (run from the repository
 * root, as `make unit` does): nvidia-smi's CSV query and XML for a DGX H100, an A100 with MIG, a
 * GeForce RTX 4090, an old driver, a driver that is not loaded, cut-off and unreadable output;
 * lspci -mm in both forms and garbage; the XML reader on its own; PCI addresses; merging. Every
 * test checks fields, and that what could not be read stays unknown instead of becoming 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/gpu_facts.h"
#include "tools/lspci_parse.h"
#include "tools/smi_csv.h"
#include "tools/smi_xml.h"
#include "tools/xml_min.h"

#define SMI "tests/fixtures/nvidia-smi/"
#define LSPCI "tests/fixtures/lspci/"
#define MiB (1024ULL * 1024)

static struct gpu_list list, other;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "fixture %s missing (run from the repository root)", path);
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool has_note(const struct gpu_list *l, const char *part)
{
    for (int i = 0; i < l->nnotes; i++)
        if (strstr(l->notes[i], part))
            return true;
    return false;
}

static int csv(const char *set, const char *file, bool with_cc)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, SMI "%s/%s", set, file);
    memset(&list, 0, sizeof list);
    const char *text = slurp(path, &len);
    return smi_csv_parse(text, len, with_cc, &list);
}

static int xml(const char *set)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, SMI "%s/q.xml", set);
    memset(&other, 0, sizeof other);
    const char *text = slurp(path, &len);
    return smi_xml_parse(text, len, &other);
}

/* ---------------------------------------------------------------- nvidia-smi CSV */

Test(smi_csv, dgx_h100_every_field)
{
    cr_assert_eq(csv("dgx-h100", "query.csv", true), 8);
    static const char *const bus[] = {"18", "2a", "3a", "5d", "9a", "ab", "ba", "db"};
    for (int i = 0; i < 8; i++) {
        const struct gpu_facts *g = &list.dev[i];
        char pci[20];
        snprintf(pci, sizeof pci, "0000:%s:00.0", bus[i]);
        cr_assert_eq(g->vendor, GPU_VENDOR_NVIDIA);
        cr_assert_eq(g->smi_index, i);
        cr_assert_eq(g->api_index, -1, "nvidia-smi numbers GPUs in PCI order, not as CUDA does");
        cr_assert_str_eq(g->name, "NVIDIA H100 80GB HBM3");
        cr_assert_str_eq(g->pci, pci);
        cr_assert(strncmp(g->uuid, "GPU-6d2a", 8) == 0, "%s", g->uuid);
        cr_assert_eq(g->vram_total, 81559 * MiB);
        cr_assert_eq(g->vram_free, 81008 * MiB);
        cr_assert_eq(g->power_limit_mw, 700000);
        cr_assert_eq(g->clock_sm, 1980);
        cr_assert_eq(g->clock_mem, 2619);
        cr_assert_eq(g->temp_now, 31u + (unsigned)i);
        cr_assert_eq(g->cc, 90);
        cr_assert(gpu_known(g, GF_MIG) && g->mig == 0);
        cr_assert_str_eq(g->driver, "550.54.15");
        cr_assert_not(gpu_known(g, GF_SM_COUNT), "nvidia-smi has no SM count: unknown, not 0");
        cr_assert_not(gpu_known(g, GF_TEMP_SLOWDOWN), "the CSV query has no thresholds");
        cr_assert_eq(gpu_field_source(g, GF_VRAM_TOTAL), GPU_SRC_SMI_CSV);
        cr_assert_eq(g->conf[GF_VRAM_TOTAL], gpu_source_confidence(GPU_SRC_SMI_CSV));
        cr_assert_not(g->partial);
    }
    cr_assert_eq(list.nnotes, 0);
}

Test(smi_csv, consumer_card_and_mig_not_applicable)
{
    cr_assert_eq(csv("rtx4090", "query.csv", true), 1);
    const struct gpu_facts *g = &list.dev[0];
    cr_assert_str_eq(g->name, "NVIDIA GeForce RTX 4090");
    cr_assert_eq(g->vram_total, 24564 * MiB);
    cr_assert_eq(g->power_limit_mw, 450000);
    cr_assert_eq(g->cc, 89);
    cr_assert_not(gpu_known(g, GF_MIG), "[N/A] MIG is unknown, not 'disabled'");
    cr_assert_eq(list.nnotes, 0, "[N/A] is not a malformed value");
}

Test(smi_csv, mig_enabled)
{
    cr_assert_eq(csv("a100-mig", "query.csv", true), 1);
    cr_assert(gpu_known(&list.dev[0], GF_MIG) && list.dev[0].mig == 1);
    cr_assert_eq(list.dev[0].vram_total, 40960 * MiB);
}

Test(smi_csv, old_driver_without_compute_cap)
{
    cr_assert(strstr(smi_csv_query(true), ",compute_cap") != NULL);
    cr_assert_null(strstr(smi_csv_query(false), "compute_cap"));
    cr_assert_eq(csv("v100-old-driver", "query-nocc.csv", false), 2);
    cr_assert_not(gpu_known(&list.dev[1], GF_CC));
    cr_assert_eq(list.dev[1].vram_total, 16160 * MiB);
    cr_assert_str_eq(list.dev[1].pci, "0000:16:00.0");
    /* The same 12-field text read as if it had 13 fields: every line is refused, none half-read. */
    cr_assert_eq(csv("v100-old-driver", "query-nocc.csv", true), 0);
    cr_assert(has_note(&list, "12 fields, expected 13"));
}

Test(smi_csv, driver_not_loaded_is_a_note_not_a_device)
{
    cr_assert_eq(csv("no-driver", "query.csv", true), 0);
    cr_assert_eq(list.n, 0);
    cr_assert(has_note(&list, "NVIDIA-SMI has failed"), "%s", list.nnotes ? list.notes[0] : "no note");
}

Test(smi_csv, cut_off_line_is_dropped_with_a_note)
{
    cr_assert_eq(csv("truncated", "query.csv", true), 1);
    cr_assert_eq(list.dev[0].vram_total, 81559 * MiB);
    cr_assert(has_note(&list, "line 2 is not a GPU line"));
}

Test(smi_csv, last_line_cut_inside_its_last_value_is_partial)
{
    static const char text[] = "0, NVIDIA H100 80GB HBM3, GPU-1, 00000000:18:00.0, 550.54.15, 81559, 81008, 700.00, "
                               "1980, 2619, 31, Disabled, 9";
    memset(&list, 0, sizeof list);
    cr_assert_eq(smi_csv_parse(text, strlen(text), true, &list), 1);
    cr_assert(list.dev[0].partial);
    cr_assert_not(gpu_known(&list.dev[0], GF_CC), "'9' is not a compute capability");
    cr_assert(has_note(&list, "ends in the middle"));
    cr_assert(gpu_device_confidence(&list.dev[0]) < 800, "a cut-off device is less sure");
}

Test(smi_csv, unreadable_values_stay_unknown)
{
    cr_assert_eq(csv("unreadable", "query.csv", true), 2);
    const struct gpu_facts *a = &list.dev[0], *b = &list.dev[1];
    cr_assert_not(gpu_known(a, GF_VRAM_TOTAL), "[N/A] memory");
    cr_assert_not(gpu_known(a, GF_VRAM_FREE));
    cr_assert_not(gpu_known(b, GF_VRAM_TOTAL), "a total of 0 MiB is never trusted");
    cr_assert(gpu_known(b, GF_VRAM_FREE) && b->vram_free == 0, "0 MiB free is a full device, a real value");
    cr_assert_not(gpu_known(b, GF_POWER_LIMIT), "[Not Supported]");
    cr_assert(gpu_known(b, GF_CLOCK_SM), "the rest of the line is still read");
    cr_assert(has_note(&list, "infoROM"), "the warning line is noted");
    cr_assert(has_note(&list, "memory.total '0'"));
    cr_assert_eq(gpu_device_confidence(a) <= 300, true, "no VRAM: at most 0.3 (%u)", gpu_device_confidence(a));
}

Test(smi_csv, garbage_never_crashes)
{
    static const char *const inputs[] = {"", "\n\n", ",,,,,,,,,,,,", "x, y, z", "99999999999999999999, a, b",
                                         "0, n, u, not-a-bus, d, 12, 1, 1, 1, 1, 1, Enabled, 9.0\n",
                                         "\xff\xfe\x00garbage", "0" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        memset(&list, 0, sizeof list);
        int n = smi_csv_parse(inputs[i], strlen(inputs[i]), true, &list);
        cr_assert(n >= 0 && n <= 1);
        for (int k = 0; k < list.n; k++)
            cr_assert(!gpu_known(&list.dev[k], GF_PCI), "'not-a-bus' is not a PCI address");
    }
}

/* ---------------------------------------------------------------- nvidia-smi -q -x */

Test(smi_xml, dgx_h100_thresholds_power_clocks_versions)
{
    cr_assert_eq(xml("dgx-h100"), 8);
    for (int i = 0; i < 8; i++) {
        const struct gpu_facts *g = &other.dev[i];
        cr_assert_eq(g->smi_index, i);
        cr_assert_str_eq(g->name, "NVIDIA H100 80GB HBM3");
        cr_assert_eq(g->vram_total, 81559 * MiB);
        cr_assert_eq(g->vram_free, (81559 - 551) * MiB);
        cr_assert_eq(g->temp_slowdown, 87);
        cr_assert_eq(g->temp_shutdown, 92);
        cr_assert_eq(g->temp_now, 31u + (unsigned)i);
        cr_assert_eq(g->power_limit_mw, 700000, "gpu_power_readings/current_power_limit");
        cr_assert_eq(g->clock_sm, 1980);
        cr_assert_eq(g->clock_mem, 2619);
        cr_assert_str_eq(g->driver, "550.54.15");
        cr_assert_str_eq(g->cuda, "12.4");
        cr_assert(gpu_known(g, GF_MIG) && !g->mig);
        cr_assert_not(gpu_known(g, GF_MIG_VRAM));
        cr_assert_not(g->partial);
    }
    cr_assert_str_eq(other.dev[7].pci, "0000:db:00.0");
    cr_assert_eq(other.nnotes, 0, "%s", other.nnotes ? other.notes[0] : "");
}

Test(smi_xml, mig_instances)
{
    cr_assert_eq(xml("a100-mig"), 1);
    const struct gpu_facts *g = &other.dev[0];
    cr_assert(gpu_known(g, GF_MIG) && g->mig == 1);
    cr_assert(gpu_known(g, GF_MIG_VRAM));
    cr_assert_eq(g->mig_vram, 19968 * MiB, "the largest instance, not the whole GPU");
    cr_assert_eq(g->vram_total, 40960 * MiB, "the instances' fb_memory_usage does not replace the GPU's");
    cr_assert_eq(g->temp_slowdown, 88);
}

Test(smi_xml, consumer_card)
{
    cr_assert_eq(xml("rtx4090"), 1);
    const struct gpu_facts *g = &other.dev[0];
    cr_assert_not(gpu_known(g, GF_MIG), "MIG N/A on a GeForce");
    cr_assert_eq(g->temp_slowdown, 90);
    cr_assert_eq(g->temp_shutdown, 95);
    cr_assert_eq(g->power_limit_mw, 450000);
}

Test(smi_xml, old_driver_power_readings)
{
    cr_assert_eq(xml("v100-old-driver"), 2);
    cr_assert_eq(other.dev[0].power_limit_mw, 300000, "power_readings/power_limit");
    cr_assert_str_eq(other.dev[0].driver, "470.239.06");
    cr_assert_str_eq(other.dev[1].cuda, "11.4");
}

Test(smi_xml, cut_off_document_keeps_what_came_before)
{
    cr_assert_eq(xml("truncated"), 2);
    cr_assert_not(other.dev[0].partial);
    cr_assert_eq(other.dev[0].vram_total, 81559 * MiB);
    const struct gpu_facts *g = &other.dev[1];
    cr_assert(g->partial);
    cr_assert_str_eq(g->pci, "0000:2a:00.0", "read before the break");
    cr_assert_not(gpu_known(g, GF_VRAM_TOTAL), "after the break: unknown");
    cr_assert(has_note(&other, "cut off"));
    cr_assert(gpu_device_confidence(g) < gpu_device_confidence(&other.dev[0]));
}

Test(smi_xml, driver_not_loaded)
{
    cr_assert_eq(xml("no-driver"), 0);
    cr_assert(has_note(&other, "nvidia-smi -q -x: line"));
}

Test(smi_xml, unreadable_values)
{
    cr_assert_eq(xml("unreadable"), 2);
    cr_assert_not(gpu_known(&other.dev[0], GF_VRAM_TOTAL), "a total of N/A");
    cr_assert(gpu_known(&other.dev[1], GF_VRAM_TOTAL));
    cr_assert_not(gpu_known(&other.dev[0], GF_TEMP_SLOWDOWN));
    cr_assert(gpu_known(&other.dev[0], GF_TEMP_SHUTDOWN));
}

Test(smi_xml, attached_gpus_more_than_described)
{
    static const char text[] = "<?xml version=\"1.0\" ?>\n<nvidia_smi_log><attached_gpus>2</attached_gpus>"
                               "<gpu id=\"00000000:18:00.0\"><fb_memory_usage><total>1024 MiB</total>"
                               "</fb_memory_usage></gpu></nvidia_smi_log>\n";
    memset(&other, 0, sizeof other);
    cr_assert_eq(smi_xml_parse(text, strlen(text), &other), 1);
    cr_assert(has_note(&other, "attached_gpus says 2"));
    cr_assert_eq(other.dev[0].vram_total, 1024 * MiB);
}

Test(smi_xml, values_in_other_units_are_not_misread)
{
    static const char text[] = "<nvidia_smi_log><gpu><fb_memory_usage><total>80 GiB</total></fb_memory_usage>"
                               "<temperature><gpu_temp_slow_threshold>89 F</gpu_temp_slow_threshold></temperature>"
                               "</gpu></nvidia_smi_log>";
    memset(&other, 0, sizeof other);
    cr_assert_eq(smi_xml_parse(text, strlen(text), &other), 1);
    cr_assert_not(gpu_known(&other.dev[0], GF_VRAM_TOTAL));
    cr_assert_not(gpu_known(&other.dev[0], GF_TEMP_SLOWDOWN));
    cr_assert(has_note(&other, "'80 GiB'"));
}

/* ---------------------------------------------------------------- the XML reader */

struct seen {
    char log[2048];
};

static void on_text(void *ctx, const char *path, const char *text)
{
    struct seen *s = ctx;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "%s=%s;", path, text);
}

static void on_start(void *ctx, const char *path, const struct xml_attr *a, int na)
{
    struct seen *s = ctx;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "<%s%s%s%s>", path, na ? " " : "", na ? a[0].name : "",
             na ? a[0].value : "");
}

static int parse(const char *text, struct seen *s, char *err)
{
    static const struct xml_handler h = {on_start, on_text, NULL};
    memset(s, 0, sizeof *s);
    return xml_parse(text, strlen(text), &h, s, err, 200);
}

Test(xml_min, entities_cdata_comments_attributes)
{
    struct seen s;
    char err[200];
    cr_assert_eq(parse("<?xml version='1.0'?><!DOCTYPE a [<!ELEMENT a ANY>]><!-- c --><a x='1&amp;2'>"
                       "<b> &lt;&#65;&#x42;&gt; </b><c><![CDATA[<raw>]]></c><d/></a>", &s, err), 0, "%s", err);
    cr_assert_str_eq(s.log, "<a x1&2><a/b>a/b=<AB>;<a/c>a/c=<raw>;<a/d>");
}

Test(xml_min, malformed_documents_name_the_line)
{
    struct seen s;
    char err[200];
    cr_assert_eq(parse("<a>\n<b></c></a>", &s, err), -1);
    cr_assert_str_eq(err, "line 2: </c> closes <b>");
    cr_assert_eq(parse("<a><b>text", &s, err), -1);
    cr_assert_str_eq(err, "line 1: the document ends inside <b> (cut off?)");
    cr_assert_eq(parse("<a>&bogus;</a>", &s, err), -1);
    cr_assert_eq(parse("<a></a><b></b>", &s, err), -1);
    cr_assert_eq(parse("plain text", &s, err), -1);
    cr_assert_eq(parse("", &s, err), -1);
    cr_assert_str_eq(err, "line 1: no document element (not XML?)");
    cr_assert_eq(parse("<a x=1></a>", &s, err), -1);
    cr_assert_eq(parse("<a", &s, err), -1);
    char deep[4096] = "";
    for (int i = 0; i < XML_MAX_DEPTH + 2; i++)
        strcat(deep, "<d>");
    cr_assert_eq(parse(deep, &s, err), -1);
    cr_assert(strstr(err, "nested deeper") != NULL, "%s", err);
    char longtext[XML_MAX_TEXT + 64] = "<a>";
    memset(longtext + 3, 'x', XML_MAX_TEXT + 10);
    strcpy(longtext + 3 + XML_MAX_TEXT + 10, "</a>");
    cr_assert_eq(parse(longtext, &s, err), -1);
    cr_assert(strstr(err, "longer than") != NULL, "%s", err);
}

/* ---------------------------------------------------------------- lspci */

static int lspci(const char *file)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, LSPCI "%s", file);
    memset(&list, 0, sizeof list);
    const char *text = slurp(path, &len);
    return lspci_parse(text, len, &list);
}

Test(lspci, server_with_ids_and_domains)
{
    cr_assert_eq(lspci("server-mixed.txt"), 4, "the BMC's VGA, two H100s and an MI300X; no bridges, no NIC");
    cr_assert_eq(list.dev[0].vendor, GPU_VENDOR_OTHER);
    cr_assert_str_eq(list.dev[0].pci, "0000:03:00.0");
    cr_assert_eq(list.dev[1].vendor, GPU_VENDOR_NVIDIA);
    cr_assert_str_eq(list.dev[1].name, "NVIDIA Corporation GH100 [H100 SXM5 80GB]", "the ids are dropped from names");
    cr_assert_str_eq(list.dev[2].pci, "0000:2a:00.0");
    cr_assert_eq(list.dev[3].vendor, GPU_VENDOR_AMD, "found by id 1002, the 'Display controller' class");
    for (int i = 0; i < 4; i++) {
        cr_assert_not(gpu_known(&list.dev[i], GF_VRAM_TOTAL), "lspci knows nothing of memory");
        cr_assert_eq(gpu_field_source(&list.dev[i], GF_PCI), GPU_SRC_LSPCI);
        cr_assert(gpu_device_confidence(&list.dev[i]) <= 300);
    }
}

Test(lspci, plain_form_without_ids_or_domains)
{
    cr_assert_eq(lspci("workstation-plain.txt"), 2, "the iGPU and the RTX 4090, not its audio function");
    cr_assert_eq(list.dev[0].vendor, GPU_VENDOR_INTEL);
    cr_assert_eq(list.dev[1].vendor, GPU_VENDOR_NVIDIA);
    cr_assert_str_eq(list.dev[1].pci, "0000:01:00.0", "domain 0 when -D was not given");
}

Test(lspci, garbage_is_noted)
{
    cr_assert_eq(lspci("garbage.txt"), 0);
    cr_assert_eq(list.nnotes, 3);
    cr_assert(has_note(&list, "line 3"));
}

/* ---------------------------------------------------------------- facts and merging */

Test(gpu_facts, pci_addresses)
{
    char out[20];
    cr_assert_eq(gpu_pci_normalize("00000000:18:00.0", out, sizeof out), 0);
    cr_assert_str_eq(out, "0000:18:00.0");
    cr_assert_eq(gpu_pci_normalize("0000:C1:00.0", out, sizeof out), 0);
    cr_assert_str_eq(out, "0000:c1:00.0");
    cr_assert_eq(gpu_pci_normalize("3b:00.1", out, sizeof out), 0);
    cr_assert_str_eq(out, "0000:3b:00.1");
    cr_assert_eq(gpu_pci_normalize("0001:3b:00.0", out, sizeof out), 0);
    cr_assert_str_eq(out, "0001:3b:00.0");
    cr_assert_eq(gpu_pci_normalize("18:00.8", out, sizeof out), -1, "function 8");
    cr_assert_eq(gpu_pci_normalize("1ff:00.0", out, sizeof out), -1, "bus 0x1ff");
    cr_assert_eq(gpu_pci_normalize("[N/A]", out, sizeof out), -1);
    cr_assert_str_eq(out, "0001:3b:00.0", "a failure leaves the last good value");
    cr_assert_eq(gpu_pci_normalize("18:00.0 trailing", out, sizeof out), -1);
}

Test(gpu_facts, csv_and_xml_merge_into_one_device_each)
{
    csv("dgx-h100", "query.csv", true);
    xml("dgx-h100");
    static struct gpu_list all;
    memset(&all, 0, sizeof all);
    gpu_list_merge(&all, &list);
    gpu_list_merge(&all, &other);
    gpu_list_finish(&all);
    cr_assert_eq(all.n, 8);
    for (int i = 0; i < 8; i++) {
        const struct gpu_facts *g = &all.dev[i];
        cr_assert_eq(g->index, i);
        cr_assert_eq(g->src[GF_VRAM_TOTAL], (1u << GPU_SRC_SMI_CSV) | (1u << GPU_SRC_SMI_XML), "both read it");
        cr_assert(g->conf[GF_VRAM_TOTAL] > gpu_source_confidence(GPU_SRC_SMI_CSV), "agreement raises confidence");
        cr_assert_eq(gpu_field_source(g, GF_TEMP_SLOWDOWN), GPU_SRC_SMI_XML, "only the XML has it");
        cr_assert_eq(g->temp_slowdown, 87);
        cr_assert_eq(g->cc, 90, "only the CSV has it");
    }
    cr_assert_eq(all.nnotes, 0, "%s", all.nnotes ? all.notes[0] : "");
}

Test(gpu_facts, disagreement_keeps_the_better_source_and_says_so)
{
    memset(&list, 0, sizeof list);
    memset(&other, 0, sizeof other);
    struct gpu_facts *a = gpu_list_add(&list, GPU_VENDOR_NVIDIA);
    snprintf(a->uuid, sizeof a->uuid, "GPU-1");
    gpu_mark(a, GF_UUID, GPU_SRC_NVML, 950);
    a->vram_total = 80ULL << 30;
    gpu_mark(a, GF_VRAM_TOTAL, GPU_SRC_NVML, 950);
    struct gpu_facts *b = gpu_list_add(&other, GPU_VENDOR_NVIDIA);
    snprintf(b->uuid, sizeof b->uuid, "gpu-1"); /* case does not matter */
    gpu_mark(b, GF_UUID, GPU_SRC_SMI_CSV, 900);
    b->vram_total = 40ULL << 30;
    gpu_mark(b, GF_VRAM_TOTAL, GPU_SRC_SMI_CSV, 900);
    b->vram_free = 1ULL << 30;
    gpu_mark(b, GF_VRAM_FREE, GPU_SRC_SMI_CSV, 900);
    gpu_list_merge(&list, &other);
    cr_assert_eq(list.n, 1);
    cr_assert_eq(list.dev[0].vram_total, 80ULL << 30);
    cr_assert_lt(list.dev[0].conf[GF_VRAM_TOTAL], 950);
    cr_assert_eq(list.dev[0].vram_free, 1ULL << 30, "a field only the second has is taken");
    cr_assert(has_note(&list, "nvml says vram_total"));
}

Test(gpu_facts, sources_without_addresses_match_by_order)
{
    /* AMD's sysfs reader and rocm-smi give no PCI address; lspci gives nothing else. The k-th AMD
     * card of each is the same GPU. */
    static struct gpu_list sysfs, rocm, all;
    memset(&sysfs, 0, sizeof sysfs);
    memset(&rocm, 0, sizeof rocm);
    memset(&all, 0, sizeof all);
    for (int i = 0; i < 2; i++) {
        struct gpu_facts *g = gpu_list_add(&sysfs, GPU_VENDOR_AMD);
        g->api_index = i;
        g->vram_total = (uint64_t)(i + 1) << 30;
        gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_AMD_SYSFS, 900);
        g = gpu_list_add(&rocm, GPU_VENDOR_AMD);
        g->vram_total = (uint64_t)(i + 1) << 30;
        gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_ROCM_SMI, 850);
    }
    gpu_list_merge(&all, &sysfs);
    gpu_list_merge(&all, &rocm);
    cr_assert_eq(all.n, 2);
    cr_assert_eq(all.dev[1].src[GF_VRAM_TOTAL], (1u << GPU_SRC_AMD_SYSFS) | (1u << GPU_SRC_ROCM_SMI));
    lspci("server-mixed.txt"); /* into list: the MI300X is its only AMD device */
    gpu_list_merge(&all, &list);
    cr_assert_eq(all.n, 2 + 3, "the AMD card joins the first sysfs card; the NVIDIA and BMC ones are new");
    cr_assert_str_eq(all.dev[0].pci, "0000:c1:00.0");
    cr_assert_eq(all.dev[0].vram_total, 1ULL << 30);
    cr_assert_str_eq(all.dev[1].pci, "", "one lspci card, one match");
}

Test(gpu_facts, finish_numbers_gpus_by_physical_index_not_by_api_ordinal)
{
    static struct gpu_list l;
    memset(&l, 0, sizeof l);
    struct gpu_facts *amd1 = gpu_list_add(&l, GPU_VENDOR_AMD);
    amd1->api_index = 0; /* HIP's device 0 sits at the higher address */
    strcpy(amd1->pci, "0000:c1:00.0");
    struct gpu_facts *amd0 = gpu_list_add(&l, GPU_VENDOR_AMD);
    amd0->api_index = 1;
    strcpy(amd0->pci, "0000:41:00.0");
    struct gpu_facts *n1 = gpu_list_add(&l, GPU_VENDOR_NVIDIA);
    n1->api_index = 0; /* CUDA's fastest-first device 0 is NVML's 1 */
    n1->smi_index = 1;
    struct gpu_facts *n0 = gpu_list_add(&l, GPU_VENDOR_NVIDIA);
    n0->api_index = 1;
    n0->smi_index = 0;
    struct gpu_facts *hidden = gpu_list_add(&l, GPU_VENDOR_NVIDIA);
    hidden->smi_index = 3; /* NVML sees it, CUDA does not (CUDA_VISIBLE_DEVICES) */
    struct gpu_facts *unplaced = gpu_list_add(&l, GPU_VENDOR_NVIDIA);
    unplaced->api_index = 2; /* only CUDA saw it, without an address */
    gpu_list_finish(&l);
    cr_assert_eq(l.dev[0].vendor, GPU_VENDOR_NVIDIA);
    cr_assert_eq(l.dev[0].smi_index, 0, "NVML's GPU 0 first, whatever CUDA calls it");
    cr_assert_eq(l.dev[0].index, 0);
    cr_assert_eq(l.dev[1].index, 1);
    cr_assert_eq(l.dev[2].index, 3, "NVML's number, even with a gap before it");
    cr_assert_eq(l.dev[3].api_index, 2);
    cr_assert_eq(l.dev[3].index, 4, "a GPU no source placed takes the next free number");
    cr_assert_eq(l.dev[4].vendor, GPU_VENDOR_AMD);
    cr_assert_str_eq(l.dev[4].pci, "0000:41:00.0", "AMD GPUs in PCI order, as sysfs numbers them");
    cr_assert_eq(l.dev[4].index, 0);
    cr_assert_eq(l.dev[5].index, 1);
}
