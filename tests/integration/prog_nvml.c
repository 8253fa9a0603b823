/* NVML inside a capped job: what nvidia-smi would show.
 *
 *   prog_nvml CAP_BYTES      (run under grey-run --cap)
 *
 * Starts a second process of the job that holds 300 MiB, then asks NVML (dlopen'ed like
 * nvidia-smi does) for the device's memory and its running processes, before and after taking
 * 100 MiB itself: total must be the cap, used what the job's processes hold, and the process
 * list exactly the job's holders with their bytes. */
#include <cuda.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#include "vendor/nvml_api.h"

#define MiB (1ull << 20)


static int cuda_setup(void)
{
    CUdevice dev;
    CUcontext ctx;
    return cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx);
}

/* The second process: take 300 MiB, say so on stdout, wait to be killed. */
static int hold(void)
{
    CUdeviceptr p;
    if (cuda_setup() || cuMemAlloc(&p, 300 * MiB) != CUDA_SUCCESS)
        return 1;
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}

struct nvml {
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*memory_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
    nvmlReturn_t (*procs)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *);
    nvmlReturn_t (*procs_v1)(nvmlDevice_t, unsigned *, nvmlProcessInfo_v1_t *);
};

static void check_view(const struct nvml *n, nvmlDevice_t d, unsigned long long cap, unsigned long long used,
                       unsigned nprocs, pid_t holder, const char *when)
{
    nvmlMemory_t m;
    CHECK(n->memory(d, &m) == NVML_SUCCESS, "%s: nvmlDeviceGetMemoryInfo", when);
    CHECK(m.total == cap && m.used == used && m.free == cap - used,
          "%s: nvmlDeviceGetMemoryInfo total %llu used %llu free %llu, expected %llu/%llu/%llu", when, m.total,
          m.used, m.free, cap, used, cap - used);
    nvmlMemory_v2_t m2 = {.version = nvmlMemory_v2};
    CHECK(n->memory_v2(d, &m2) == NVML_SUCCESS, "%s: nvmlDeviceGetMemoryInfo_v2", when);
    CHECK(m2.total == cap && m2.used == used && m2.free + m2.used + m2.reserved == cap,
          "%s: nvmlDeviceGetMemoryInfo_v2 total %llu used %llu", when, m2.total, m2.used);

    unsigned count = 0;
    nvmlReturn_t rc = n->procs(d, &count, NULL);
    CHECK(nprocs == 0 ? rc == NVML_SUCCESS : rc == NVML_ERROR_INSUFFICIENT_SIZE,
          "%s: asking with no room must report the size (%d)", when, rc);
    CHECK(count == nprocs, "%s: %u processes reported, expected %u", when, count, nprocs);
    nvmlProcessInfo_t infos[8];
    count = 8;
    CHECK(n->procs(d, &count, infos) == NVML_SUCCESS && count == nprocs, "%s: process list", when);
    unsigned long long sum = 0;
    int saw_holder = 0;
    for (unsigned i = 0; i < count; i++) {
        sum += infos[i].usedGpuMemory;
        if ((pid_t)infos[i].pid == holder)
            saw_holder = infos[i].usedGpuMemory == 300 * MiB;
    }
    CHECK(sum == used, "%s: listed processes hold %llu, expected %llu", when, sum, used);
    CHECK(saw_holder, "%s: the holder %d with 300 MiB is not listed", when, (int)holder);
    nvmlProcessInfo_v1_t v1[8];
    count = 8;
    CHECK(n->procs_v1(d, &count, v1) == NVML_SUCCESS && count == nprocs, "%s: v1 process list", when);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "hold") == 0)
        return hold();
    if (argc != 2) {
        fprintf(stderr, "usage: prog_nvml CAP_BYTES | prog_nvml hold\n");
        return 2;
    }
    unsigned long long cap = strtoull(argv[1], NULL, 10);

    int ready[2];
    if (pipe(ready) != 0)
        return 1;
    pid_t holder = fork();
    if (holder == 0) {
        dup2(ready[1], STDOUT_FILENO);
        execl("/proc/self/exe", argv[0], "hold", (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    char line[16] = "";
    if (read(ready[0], line, sizeof line - 1) <= 0 || strncmp(line, "ready", 5) != 0) {
        printf("FAIL: the holder process did not start\n");
        return 1;
    }

    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    struct nvml n = {0};
    if (lib) {
        n.init = (nvmlReturn_t (*)(void))dlsym(lib, "nvmlInit_v2");
        n.handle = (nvmlReturn_t (*)(unsigned, nvmlDevice_t *))dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
        n.memory = (nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t *))dlsym(lib, "nvmlDeviceGetMemoryInfo");
        n.memory_v2 = (nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_v2_t *))dlsym(lib, "nvmlDeviceGetMemoryInfo_v2");
        n.procs = (nvmlReturn_t (*)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *))dlsym(
            lib, "nvmlDeviceGetComputeRunningProcesses_v3");
        n.procs_v1 = (nvmlReturn_t (*)(nvmlDevice_t, unsigned *, nvmlProcessInfo_v1_t *))dlsym(
            lib, "nvmlDeviceGetComputeRunningProcesses");
    }
    nvmlDevice_t d;
    if (!n.init || !n.handle || !n.memory || !n.memory_v2 || !n.procs || !n.procs_v1 || n.init() != NVML_SUCCESS ||
        n.handle(0, &d) != NVML_SUCCESS) {
        printf("FAIL: cannot use libnvidia-ml.so.1\n");
        kill(holder, SIGKILL);
        return 1;
    }

    check_view(&n, d, cap, 300 * MiB, 1, holder, "holder only");
    CUdeviceptr p;
    if (cuda_setup() || cuMemAlloc(&p, 100 * MiB) != CUDA_SUCCESS)
        printf("FAIL: own 100 MiB allocation\n"), failures++;
    check_view(&n, d, cap, 400 * MiB, 2, holder, "holder and self");

    kill(holder, SIGTERM);
    waitpid(holder, NULL, 0);
    if (failures) {
        printf("prog_nvml: %d failure(s)\n", failures);
        return 1;
    }
    printf("prog_nvml: ok\n");
    return 0;
}
