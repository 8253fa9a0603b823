/* AMD GPU detection (tools/detect_amd.c) against the recorded fixtures in tests/fixtures/amd (run
 * from the repository root, as `make unit` does): the amdgpu sysfs tree and rocm-smi's JSON. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/detect_amd.h"

#define FIX "tests/fixtures/amd"
#define GiB (1024ULL * 1024 * 1024)

static struct grey_detected_device d[GREY_MAX_DEVICES];
static char err[512];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "fixture %s missing (run from the repository root)", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

Test(detect_amd, sysfs_finds_the_amd_cards_in_order)
{
    int n = grey_detect_amd_sysfs(FIX "/sysfs", d, GREY_MAX_DEVICES, err, sizeof err);
    cr_assert_eq(n, 2, "expected the two AMD cards (not the NVIDIA one, the connector or the render node), got %d: %s",
                 n, err);
    cr_expect_eq(d[0].index, 0);
    cr_expect_str_eq(d[0].name, "AMD Instinct MI300X");
    cr_expect_eq(d[0].vram_total, 192 * GiB);
    cr_expect_eq(d[0].vram_free, 191 * GiB);
    cr_expect_str_eq(d[0].uuid, "GPU-1f9de0957d137942");
    cr_expect_str_eq(d[0].source, "amdgpu sysfs");
    cr_expect_eq(d[1].index, 1, "card2 is HIP device 1");
    cr_expect_str_eq(d[1].name, "AMD GPU 0x744c", "no product_name: named by its device id");
    cr_expect_eq(d[1].vram_total, 21458059264ULL);
    cr_expect_eq(d[1].vram_free, 21458059264ULL - 27856896ULL);
    cr_expect_str_eq(d[1].uuid, "");
}

Test(detect_amd, sysfs_respects_max)
{
    cr_assert_eq(grey_detect_amd_sysfs(FIX "/sysfs", d, 1, err, sizeof err), 1);
    cr_expect_str_eq(d[0].name, "AMD Instinct MI300X");
}

Test(detect_amd, sysfs_without_drm_is_no_gpu)
{
    cr_assert_eq(grey_detect_amd_sysfs(FIX "/no-such-root", d, GREY_MAX_DEVICES, err, sizeof err), 0);
}

Test(detect_amd, sysfs_malformed_size_is_an_error_naming_the_file)
{
    cr_assert_eq(grey_detect_amd_sysfs(FIX "/sysfs-bad", d, GREY_MAX_DEVICES, err, sizeof err), -1);
    cr_expect(strstr(err, "sysfs-bad/class/drm/card0/device/mem_info_vram_total") && strstr(err, "'24GB'"),
              "error does not name the file and the value: %s", err);
}

Test(detect_amd, rocm_smi_json_in_card_order)
{
    int n = grey_detect_amd_rocm_smi_json(slurp(FIX "/rocm-smi.json"), d, GREY_MAX_DEVICES, err, sizeof err);
    cr_assert_eq(n, 2, "got %d: %s", n, err);
    cr_expect_str_eq(d[0].name, "AMD Instinct MI300X", "card0 first, although listed second");
    cr_expect_eq(d[0].vram_total, 192 * GiB);
    cr_expect_eq(d[0].vram_free, 191 * GiB);
    cr_expect_str_eq(d[0].uuid, "GPU-1f9de0957d137942", "the 0x prefix is dropped");
    cr_expect_str_eq(d[1].name, "Radeon RX 7900 XT");
    cr_expect_str_eq(d[1].uuid, "", "\"N/A\" is no uuid");
    cr_expect_str_eq(d[1].source, "rocm-smi");
}

Test(detect_amd, rocm_smi_json_refusals)
{
    cr_expect_eq(grey_detect_amd_rocm_smi_json("not json", d, GREY_MAX_DEVICES, err, sizeof err), -1);
    cr_expect_eq(grey_detect_amd_rocm_smi_json("[1,2]", d, GREY_MAX_DEVICES, err, sizeof err), -1);
    cr_expect_eq(grey_detect_amd_rocm_smi_json("{\"card0\": {\"Card Series\": \"X\"}}", d, GREY_MAX_DEVICES, err,
                                               sizeof err), -1, "a card without its VRAM size");
    cr_expect(strstr(err, "card0") != NULL, "error does not name the card: %s", err);
    cr_expect_eq(grey_detect_amd_rocm_smi_json("{\"card0\": {\"VRAM Total Memory (B)\": \"lots\"}}", d,
                                               GREY_MAX_DEVICES, err, sizeof err), -1);
    cr_expect_eq(grey_detect_amd_rocm_smi_json("{\"system\": {}}", d, GREY_MAX_DEVICES, err, sizeof err), 0);
}

Test(detect_amd, sysfs_first_then_rocm_smi)
{
    setenv("GREY_SYSFS_ROOT", FIX "/sysfs", 1);
    cr_assert_eq(grey_detect_amd(d, GREY_MAX_DEVICES, err, sizeof err), 2);
    cr_expect_str_eq(d[0].source, "amdgpu sysfs");

    /* No AMD card in sysfs: rocm-smi from PATH (the recorded stand-in). */
    char path[4096];
    snprintf(path, sizeof path, "%s/" FIX "/bin:%s", getenv("PWD") ? getenv("PWD") : ".", getenv("PATH"));
    setenv("PATH", path, 1);
    setenv("GREY_SYSFS_ROOT", FIX "/no-such-root", 1);
    cr_assert_eq(grey_detect_amd(d, GREY_MAX_DEVICES, err, sizeof err), 2, "%s", err);
    cr_expect_str_eq(d[0].source, "rocm-smi");

    /* Neither. */
    setenv("PATH", "/nonexistent", 1);
    cr_expect_eq(grey_detect_amd(d, GREY_MAX_DEVICES, err, sizeof err), -1);
    cr_expect(strstr(err, "no AMD GPU") != NULL, "%s", err);
}
