/* NVML for the watchdog (see noded_nvml.h). The types come from vendor/nvml_api.h. */
#include "noded_nvml.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "vendor/nvml_api.h"

typedef nvmlReturn_t (*fn_void)(void);
typedef nvmlReturn_t (*fn_uintp)(unsigned int *);
typedef nvmlReturn_t (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_text)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*fn_mem)(nvmlDevice_t, nvmlMemory_t *);
typedef nvmlReturn_t (*fn_procs)(nvmlDevice_t, unsigned int *, nvmlProcessInfo_t *);

static struct {
    fn_void init;
    fn_uintp count;
    fn_handle handle;
    fn_text uuid, name;
    fn_mem mem;
    fn_procs procs;
    nvmlDevice_t dev[GREY_MAX_DEVICES];
    unsigned ndev;
} nv;

/* A symbol into a function pointer without the object-to-function cast ISO C leaves undefined. */
#define LOAD(member, name)                                                                         \
    do {                                                                                           \
        void *sym_ = dlsym(lib, name);                                                             \
        memcpy(&nv.member, &sym_, sizeof sym_);                                                    \
    } while (0)

int noded_nvml_open(struct grey_gpu_id gpus[GREY_MAX_DEVICES], char *err, size_t errlen)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "NVML: %s", dlerror());
        return -1;
    }
    LOAD(init, "nvmlInit_v2");
    LOAD(count, "nvmlDeviceGetCount_v2");
    LOAD(handle, "nvmlDeviceGetHandleByIndex_v2");
    LOAD(uuid, "nvmlDeviceGetUUID");
    LOAD(name, "nvmlDeviceGetName");
    LOAD(mem, "nvmlDeviceGetMemoryInfo");
    LOAD(procs, "nvmlDeviceGetComputeRunningProcesses_v3");
    if (!nv.procs)
        LOAD(procs, "nvmlDeviceGetComputeRunningProcesses_v2");
    if (!nv.init || !nv.count || !nv.handle || !nv.uuid || !nv.procs) {
        snprintf(err, errlen, "NVML: libnvidia-ml.so.1 lacks the entry points the watchdog needs");
        return -1;
    }
    unsigned n = 0;
    if (nv.init() != NVML_SUCCESS || nv.count(&n) != NVML_SUCCESS) {
        snprintf(err, errlen, "NVML: cannot initialize or count GPUs");
        return -1;
    }
    nv.ndev = 0;
    for (unsigned i = 0; i < n && nv.ndev < GREY_MAX_DEVICES; i++) {
        struct grey_gpu_id *g = &gpus[nv.ndev];
        memset(g, 0, sizeof *g);
        g->index = (int32_t)i;
        char text[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
        if (nv.handle(i, &nv.dev[nv.ndev]) != NVML_SUCCESS ||
            nv.uuid(nv.dev[nv.ndev], text, sizeof text) != NVML_SUCCESS || !grey_uuid_valid(text))
            continue; /* a GPU without a UUID cannot be named to processes: not watched */
        grey_copy_cut(g->uuid, sizeof g->uuid, text);
        if (nv.name && nv.name(nv.dev[nv.ndev], text, sizeof text) == NVML_SUCCESS)
            grey_copy_cut(g->name, sizeof g->name, text);
        nvmlMemory_t m;
        if (nv.mem && nv.mem(nv.dev[nv.ndev], &m) == NVML_SUCCESS)
            g->total_bytes = m.total;
        nv.ndev++;
    }
    return (int)nv.ndev;
}

int noded_nvml_processes(unsigned i, struct noded_proc *out, unsigned max)
{
    if (i >= nv.ndev)
        return -1;
    static nvmlProcessInfo_t infos[NODED_PROCS_MAX];
    unsigned count = NODED_PROCS_MAX;
    nvmlReturn_t r = nv.procs(nv.dev[i], &count, infos);
    if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
        return -1;
    if (r == NVML_ERROR_INSUFFICIENT_SIZE)
        return -1; /* more than NODED_PROCS_MAX processes on one GPU: nothing sensible to judge */
    unsigned n = 0;
    for (unsigned k = 0; k < count && k < NODED_PROCS_MAX && n < max; k++) {
        if (infos[k].usedGpuMemory == NVML_VALUE_NOT_AVAILABLE_ULL)
            continue; /* NVML without the figure (some containers): nothing to compare */
        out[n].pid = (pid_t)infos[k].pid;
        out[n].bytes = infos[k].usedGpuMemory;
        n++;
    }
    return (int)n;
}
