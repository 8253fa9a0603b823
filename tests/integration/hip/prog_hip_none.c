/* A program with neither CUDA nor HIP (linked against no vendor library), run with the hook
 * preloaded: the hook must load cleanly and stay invisible.
 *
 * Checks: the hook is in the process (so the test means something); dlsym(RTLD_DEFAULT, ...) of
 * an intercepted CUDA, NVML or HIP name finds nothing (grey's own exports must not make a vendor
 * API look present to a program probing for it); and after those probes no vendor library was
 * loaded into the process. The caller also checks that nothing was printed. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/integration/check.h"

static bool mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    bool found = false;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, name))
            found = true;
    if (f)
        fclose(f);
    return found;
}

int main(void)
{
    CHECK(mapped("libgreyhook.so"), "the hook is not loaded: run this with LD_PRELOAD or LD_AUDIT");
    static const char *const names[] = {"hipMalloc", "hipGetProcAddress", "hipMemGetInfo", "cuMemAlloc_v2",
                                        "cuGetProcAddress", "nvmlDeviceGetMemoryInfo"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(dlsym(RTLD_DEFAULT, names[i]) == NULL, "dlsym(RTLD_DEFAULT, %s) found something", names[i]);
    CHECK(!mapped("libamdhip64"), "a HIP runtime was loaded");
    CHECK(!mapped("libcuda.so"), "a CUDA driver was loaded");
    CHECK(!mapped("libnvidia-ml"), "NVML was loaded");
    if (failures)
        return 1;
    printf("prog_hip_none: ok\n");
    return 0;
}
