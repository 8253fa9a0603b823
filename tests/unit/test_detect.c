/* grey_detect_cuda against the simulated driver.
 *
 * detect.c opens the driver by its soname, "libcuda.so.1". Loading build/sim/libcuda.so.1 by path
 * first makes that dlopen find the simulated driver (the dynamic linker matches already-loaded
 * objects by soname), even on a machine with a real driver. Criterion runs each test in its own
 * process, so every test starts with a fresh driver and its own GREY_SIM_* settings.
 * GREY_TEST_SIM names another directory holding the simulated libcuda.so.1. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/detect.h"

#define GiB (1024ULL * 1024 * 1024)

static void load_sim(void)
{
    const char *dir = getenv("GREY_TEST_SIM") ? getenv("GREY_TEST_SIM") : "build/sim";
    char path[512];
    snprintf(path, sizeof path, "%s/libcuda.so.1", dir);
    if (!dlopen(path, RTLD_NOW | RTLD_LOCAL))
        cr_assert_fail("simulated driver not loadable (run make first): %s", dlerror());
}

static void sim_env(const char *devices, const char *vram, const char *sms)
{
    setenv("GREY_SIM_DEVICES", devices, 1);
    setenv("GREY_SIM_VRAM", vram, 1);
    setenv("GREY_SIM_SMS", sms, 1);
    setenv("GREY_SIM_NAME", "Unit Test GPU", 1);
    setenv("GREY_SIM_CC", "8.6", 1);
}

Test(detect, sim_devices_match_settings)
{
    sim_env("2", "24GiB", "40");
    load_sim();
    struct grey_detected_device d[GREY_MAX_DEVICES];
    char err[256] = "";
    int n = grey_detect_cuda(d, GREY_MAX_DEVICES, err, sizeof err);
    cr_assert_eq(n, 2, "detect: %d (%s)", n, err);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(d[i].index, i);
        cr_assert_str_eq(d[i].name, "Unit Test GPU");
        cr_assert_eq(d[i].vram_total, 24 * GiB);
        cr_assert(d[i].vram_free > 0 && d[i].vram_free <= d[i].vram_total);
        cr_assert_eq(d[i].sm_count, 40);
        cr_assert_eq(d[i].cc_major, 8);
        cr_assert_eq(d[i].cc_minor, 6);
        cr_assert_str_eq(d[i].source, "cuda driver", "free memory query failed: %s",
                         d[i].source);
        cr_assert_eq(strlen(d[i].uuid), 40, "uuid '%s'", d[i].uuid);
        cr_assert_eq(strncmp(d[i].uuid, "GPU-", 4), 0, "uuid '%s'", d[i].uuid);
        cr_assert(d[i].uuid[12] == '-' && d[i].uuid[17] == '-' && d[i].uuid[22] == '-' &&
                  d[i].uuid[27] == '-', "uuid '%s'", d[i].uuid);
    }
    cr_assert_str_neq(d[0].uuid, d[1].uuid, "devices must have distinct UUIDs");
}

Test(detect, fills_at_most_max)
{
    sim_env("3", "8GiB", "16");
    load_sim();
    struct grey_detected_device d[3];
    memset(d, 0x5a, sizeof d);
    char err[256] = "";
    cr_assert_eq(grey_detect_cuda(d, 2, err, sizeof err), 2, "%s", err);
    cr_assert_eq(d[1].vram_total, 8 * GiB);
    cr_assert_eq(d[2].index, 0x5a5a5a5a, "wrote past max");
}

Test(detect, no_device_names_the_cuda_error)
{
    sim_env("0", "8GiB", "16");
    load_sim();
    struct grey_detected_device d[1];
    char err[256] = "";
    cr_assert_eq(grey_detect_cuda(d, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "cuInit failed: CUDA_ERROR_NO_DEVICE");
}

Test(detect, no_driver)
{
    /* Only meaningful where the dynamic linker finds no libcuda.so.1 at all. */
    void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (real)
        cr_skip_test("a CUDA driver is installed");
    char want[512];
    snprintf(want, sizeof want, "no CUDA driver: %s", dlerror());
    struct grey_detected_device d[1];
    char err[512] = "";
    cr_assert_eq(grey_detect_cuda(d, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, want);
}
