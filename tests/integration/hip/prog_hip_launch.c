/* Launches one kernel through each of the eight HIP launch entry points grey intercepts, reached
 * one way, then runs a command (the test's check of the ledger) while this process is still
 * alive, so that its slot can be read.
 *
 *   prog_hip_launch PATH CHECK_COMMAND
 *
 * PATH: linked, dlsym or procaddr (hipGetProcAddress at version 600; the _spt entry points by
 * their own names). Every launch must succeed; a launch with no kernel must fail with
 * hipErrorInvalidDeviceFunction (it still passes grey's gate: a refused launch is a launch the
 * program made). CHECK_COMMAND runs with sh, where $PPID is this process; its exit status
 * decides ours. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/check.h"

typedef hipError_t (*procaddr_fn)(const char *, void **, int, uint64_t, int *);
hipError_t hipGraphLaunch_spt(hipGraphExec_t exec, hipStream_t stream); /* ROCm 5.3+ */

static const char *path;
static void *libhip;
static procaddr_fn gpa;

static void *resolve(const char *name, void *linked)
{
    void *p = NULL;
    int status = -1;
    if (strcmp(path, "linked") == 0)
        p = linked;
    else if (strcmp(path, "dlsym") == 0)
        p = dlsym(libhip, name);
    else if (gpa(name, &p, 600, 0, &status) != hipSuccess || status != 0)
        p = NULL;
    if (!p) {
        printf("FAIL: %s: cannot resolve %s\n", path, name);
        exit(1);
    }
    return p;
}

#define RESOLVE(var, name) __typeof__(&name) var = (__typeof__(&name))resolve(#name, (void *)name)

static void kernel_stub(void) {}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: prog_hip_launch linked|dlsym|procaddr CHECK_COMMAND\n");
        return 2;
    }
    path = argv[1];
    hipStream_t stream;
    hipModule_t module;
    hipFunction_t function;
    hipGraph_t graph;
    hipGraphExec_t exec;
    static const char image[] = "simulated code object";
    if (hipInit(0) != hipSuccess || hipStreamCreate(&stream) != hipSuccess ||
        hipModuleLoadData(&module, image) != hipSuccess || hipModuleGetFunction(&function, module, "k") != hipSuccess ||
        hipGraphCreate(&graph, 0) != hipSuccess || hipGraphInstantiate(&exec, graph, NULL, NULL, 0) != hipSuccess) {
        printf("FAIL: cannot set up a stream, a module and a graph\n");
        return 1;
    }
    libhip = dlopen("libamdhip64.so.5", RTLD_NOW);
    gpa = libhip ? (procaddr_fn)dlsym(libhip, "hipGetProcAddress") : NULL;
    if (!gpa) {
        printf("FAIL: cannot reach hipGetProcAddress\n");
        return 1;
    }

    RESOLVE(launch, hipLaunchKernel);
    RESOLVE(launch_spt, hipLaunchKernel_spt);
    RESOLVE(module_launch, hipModuleLaunchKernel);
    RESOLVE(ext_launch, hipExtLaunchKernel);
    RESOLVE(coop, hipLaunchCooperativeKernel);
    RESOLVE(coop_spt, hipLaunchCooperativeKernel_spt);
    RESOLVE(graph_launch, hipGraphLaunch);
    RESOLVE(graph_launch_spt, hipGraphLaunch_spt);

    const void *k = (const void *)kernel_stub;
    dim3 grid = {4, 1, 1}, block = {64, 1, 1};
    CHECK(launch(k, grid, block, NULL, 0, stream) == hipSuccess, "hipLaunchKernel");
    CHECK(launch_spt(k, grid, block, NULL, 0, stream) == hipSuccess, "hipLaunchKernel_spt");
    CHECK(module_launch(function, 4, 1, 1, 64, 1, 1, 0, stream, NULL, NULL) == hipSuccess, "hipModuleLaunchKernel");
    CHECK(ext_launch(k, grid, block, NULL, 0, stream, NULL, NULL, 0) == hipSuccess, "hipExtLaunchKernel");
    CHECK(coop(k, grid, block, NULL, 0, stream) == hipSuccess, "hipLaunchCooperativeKernel");
    CHECK(coop_spt(k, grid, block, NULL, 0, stream) == hipSuccess, "hipLaunchCooperativeKernel_spt");
    CHECK(graph_launch(exec, stream) == hipSuccess, "hipGraphLaunch");
    CHECK(graph_launch_spt(exec, stream) == hipSuccess, "hipGraphLaunch_spt");
    CHECK(launch(NULL, grid, block, NULL, 0, stream) == hipErrorInvalidDeviceFunction,
          "a launch with no kernel was not refused");
    if (failures)
        return 1;
    fflush(stdout);
    int rc = system(argv[2]);
    if (rc != 0) {
        printf("FAIL: the check command said no (status %d)\n", rc);
        return 1;
    }
    printf("prog_hip_launch %s: ok\n", path);
    return 0;
}
