/* Detection through NVML (see detect_nvml.h). The types come from shim/nvml_api.h, declared from
 * NVIDIA's NVML API reference: no nvml.h ships on these machines. */
#include "detect_nvml.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "vendor/nvml_api.h"

typedef nvmlReturn_t (*fn_void)(void);
typedef nvmlReturn_t (*fn_uintp)(unsigned int *);
typedef nvmlReturn_t (*fn_intp)(int *);
typedef nvmlReturn_t (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_text)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*fn_systext)(char *, unsigned int);
typedef nvmlReturn_t (*fn_dev_uint)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*fn_dev_kind_uint)(nvmlDevice_t, unsigned int, unsigned int *);
typedef nvmlReturn_t (*fn_dev_2int)(nvmlDevice_t, int *, int *);
typedef nvmlReturn_t (*fn_dev_2uint)(nvmlDevice_t, unsigned int *, unsigned int *);
typedef nvmlReturn_t (*fn_pci)(nvmlDevice_t, nvmlPciInfo_t *);
typedef nvmlReturn_t (*fn_mem)(nvmlDevice_t, nvmlMemory_t *);
typedef nvmlReturn_t (*fn_attrs)(nvmlDevice_t, nvmlDeviceAttributes_t *);
typedef nvmlReturn_t (*fn_mig_handle)(nvmlDevice_t, unsigned int, nvmlDevice_t *);
typedef const char *(*fn_errstr)(nvmlReturn_t);

struct nvml {
    fn_void init, shutdown;
    fn_uintp count;
    fn_handle handle;
    fn_text name, uuid;
    fn_systext driver;
    fn_intp cuda;
    fn_pci pci;
    fn_mem mem;
    fn_dev_2int cc;
    fn_dev_uint power, enforced_power, max_mig;
    fn_dev_kind_uint max_clock, threshold, temperature;
    fn_dev_2uint mig_mode;
    fn_mig_handle mig_handle;
    fn_attrs attrs;
    fn_errstr errstr;
};

/* A symbol into a function pointer without the object-to-function cast ISO C leaves undefined. */
#define LOAD(member, name)                                                                         \
    do {                                                                                           \
        void *sym_ = dlsym(lib, name);                                                             \
        memcpy(&api->member, &sym_, sizeof sym_);                                                  \
    } while (0)

static int load(void *lib, struct nvml *api)
{
    memset(api, 0, sizeof *api);
    LOAD(init, "nvmlInit_v2");
    LOAD(shutdown, "nvmlShutdown");
    LOAD(count, "nvmlDeviceGetCount_v2");
    LOAD(handle, "nvmlDeviceGetHandleByIndex_v2");
    LOAD(name, "nvmlDeviceGetName");
    LOAD(uuid, "nvmlDeviceGetUUID");
    LOAD(driver, "nvmlSystemGetDriverVersion");
    LOAD(cuda, "nvmlSystemGetCudaDriverVersion_v2");
    if (!api->cuda)
        LOAD(cuda, "nvmlSystemGetCudaDriverVersion");
    LOAD(pci, "nvmlDeviceGetPciInfo_v3");
    LOAD(mem, "nvmlDeviceGetMemoryInfo");
    LOAD(cc, "nvmlDeviceGetCudaComputeCapability");
    LOAD(power, "nvmlDeviceGetPowerManagementLimit");
    LOAD(enforced_power, "nvmlDeviceGetEnforcedPowerLimit");
    LOAD(max_mig, "nvmlDeviceGetMaxMigDeviceCount");
    LOAD(max_clock, "nvmlDeviceGetMaxClockInfo");
    LOAD(threshold, "nvmlDeviceGetTemperatureThreshold");
    LOAD(temperature, "nvmlDeviceGetTemperature");
    LOAD(mig_mode, "nvmlDeviceGetMigMode");
    LOAD(mig_handle, "nvmlDeviceGetMigDeviceHandleByIndex");
    LOAD(attrs, "nvmlDeviceGetAttributes_v2");
    LOAD(errstr, "nvmlErrorString");
    return api->init && api->shutdown && api->count && api->handle && api->mem ? 0 : -1;
}

static const char *why(const struct nvml *api, nvmlReturn_t r, char *buf, size_t len)
{
    const char *s = api->errstr ? api->errstr(r) : NULL;
    snprintf(buf, len, "%s (%d)", s ? s : "error", r);
    return buf;
}

/* The MIG instances' largest memory: what one process can have on a MIG-enabled GPU. */
static void mig_instances(const struct nvml *api, nvmlDevice_t dev, struct gpu_facts *g, unsigned conf)
{
    unsigned max = 0;
    if (!api->max_mig || !api->mig_handle || api->max_mig(dev, &max) != NVML_SUCCESS)
        return;
    for (unsigned i = 0; i < max && i < 64; i++) {
        nvmlDevice_t mig;
        nvmlMemory_t m;
        if (api->mig_handle(dev, i, &mig) != NVML_SUCCESS || api->mem(mig, &m) != NVML_SUCCESS)
            continue; /* a slot with no instance in it */
        if (m.total > g->mig_vram) {
            g->mig_vram = m.total;
            gpu_mark(g, GF_MIG_VRAM, GPU_SRC_NVML, conf);
        }
    }
}

static void describe(const struct nvml *api, unsigned i, nvmlDevice_t dev, struct gpu_facts *g,
                     struct gpu_list *out, const char *driver, int cuda)
{
    unsigned conf = gpu_source_confidence(GPU_SRC_NVML);
    char text[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    unsigned u, v;
    int a, b;
    g->smi_index = (int)i;
    if (api->name && api->name(dev, text, sizeof text) == NVML_SUCCESS && text[0]) {
        snprintf(g->name, sizeof g->name, "%s", text);
        gpu_mark(g, GF_NAME, GPU_SRC_NVML, conf);
    }
    if (api->uuid && api->uuid(dev, text, sizeof text) == NVML_SUCCESS && text[0]) {
        snprintf(g->uuid, sizeof g->uuid, "%.79s", text); /* "GPU-" + 36: always fits */
        gpu_mark(g, GF_UUID, GPU_SRC_NVML, conf);
    }
    nvmlPciInfo_t pci;
    if (api->pci && api->pci(dev, &pci) == NVML_SUCCESS && gpu_pci_normalize(pci.busId, g->pci, sizeof g->pci) == 0)
        gpu_mark(g, GF_PCI, GPU_SRC_NVML, conf);
    nvmlMemory_t m;
    if (api->mem(dev, &m) == NVML_SUCCESS && m.total > 0) {
        g->vram_total = m.total;
        g->vram_free = m.free <= m.total ? m.free : m.total;
        gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_NVML, conf);
        gpu_mark(g, GF_VRAM_FREE, GPU_SRC_NVML, conf);
    } else {
        gpu_note(out, "NVML: device %u reports no memory size; left unknown", i);
    }
    if (api->cc && api->cc(dev, &a, &b) == NVML_SUCCESS && a > 0 && a < 100 && b >= 0 && b < 10) {
        g->cc = (unsigned)(a * 10 + b);
        gpu_mark(g, GF_CC, GPU_SRC_NVML, conf);
    }
    if ((api->power && api->power(dev, &u) == NVML_SUCCESS && u > 0) ||
        (api->enforced_power && api->enforced_power(dev, &u) == NVML_SUCCESS && u > 0)) {
        g->power_limit_mw = u;
        gpu_mark(g, GF_POWER_LIMIT, GPU_SRC_NVML, conf);
    }
    if (api->max_clock && api->max_clock(dev, NVML_CLOCK_SM, &u) == NVML_SUCCESS && u > 0) {
        g->clock_sm = u;
        gpu_mark(g, GF_CLOCK_SM, GPU_SRC_NVML, conf);
    }
    if (api->max_clock && api->max_clock(dev, NVML_CLOCK_MEM, &u) == NVML_SUCCESS && u > 0) {
        g->clock_mem = u;
        gpu_mark(g, GF_CLOCK_MEM, GPU_SRC_NVML, conf);
    }
    /* Thresholds of 0 (some virtual GPUs) are no thresholds. */
    if (api->threshold && api->threshold(dev, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN, &u) == NVML_SUCCESS && u > 0 &&
        u < 200) {
        g->temp_slowdown = u;
        gpu_mark(g, GF_TEMP_SLOWDOWN, GPU_SRC_NVML, conf);
    }
    if (api->threshold && api->threshold(dev, NVML_TEMPERATURE_THRESHOLD_SHUTDOWN, &u) == NVML_SUCCESS && u > 0 &&
        u < 200) {
        g->temp_shutdown = u;
        gpu_mark(g, GF_TEMP_SHUTDOWN, GPU_SRC_NVML, conf);
    }
    if (api->temperature && api->temperature(dev, NVML_TEMPERATURE_GPU, &u) == NVML_SUCCESS && u > 0 && u < 200) {
        g->temp_now = u;
        gpu_mark(g, GF_TEMP_NOW, GPU_SRC_NVML, conf);
    }
    if (api->mig_mode && api->mig_mode(dev, &u, &v) == NVML_SUCCESS) {
        g->mig = u == NVML_DEVICE_MIG_ENABLE;
        gpu_mark(g, GF_MIG, GPU_SRC_NVML, conf);
        if (g->mig)
            mig_instances(api, dev, g, conf);
    }
    /* NVML documents this for MIG device handles; a driver that answers it for the whole GPU
     * gives the SM count here too. */
    nvmlDeviceAttributes_t at;
    memset(&at, 0, sizeof at);
    if (api->attrs && api->attrs(dev, &at) == NVML_SUCCESS && at.multiprocessorCount > 0) {
        g->sm_count = at.multiprocessorCount;
        gpu_mark(g, GF_SM_COUNT, GPU_SRC_NVML, conf);
    }
    if (driver[0]) {
        snprintf(g->driver, sizeof g->driver, "%.31s", driver);
        gpu_mark(g, GF_DRIVER, GPU_SRC_NVML, conf);
    }
    if (cuda > 0) {
        snprintf(g->cuda, sizeof g->cuda, "%d.%d", cuda / 1000, cuda % 1000 / 10);
        gpu_mark(g, GF_CUDA, GPU_SRC_NVML, conf);
    }
}

int nvml_detect(struct gpu_list *out, char *err, size_t errlen)
{
    /* Opened once and kept: unloading a driver library is not supported. */
    static void *lib;
    if (!lib && !(lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL))) {
        snprintf(err, errlen, "NVML: %s", dlerror());
        return -1;
    }
    struct nvml api;
    if (load(lib, &api) != 0) {
        snprintf(err, errlen, "NVML: libnvidia-ml.so.1 lacks nvmlInit_v2 or a basic device query");
        return -1;
    }
    char buf[64];
    nvmlReturn_t r = api.init();
    if (r != NVML_SUCCESS) {
        snprintf(err, errlen, "NVML: nvmlInit_v2: %s", why(&api, r, buf, sizeof buf));
        return -1;
    }
    unsigned n = 0;
    if ((r = api.count(&n)) != NVML_SUCCESS) {
        snprintf(err, errlen, "NVML: nvmlDeviceGetCount_v2: %s", why(&api, r, buf, sizeof buf));
        api.shutdown();
        return -1;
    }
    char driver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = "";
    if (!api.driver || api.driver(driver, sizeof driver) != NVML_SUCCESS)
        driver[0] = '\0';
    int cuda = 0;
    if (!api.cuda || api.cuda(&cuda) != NVML_SUCCESS)
        cuda = 0;
    int count = 0;
    for (unsigned i = 0; i < n && i < GREY_MAX_DEVICES; i++) {
        nvmlDevice_t dev;
        if ((r = api.handle(i, &dev)) != NVML_SUCCESS) {
            gpu_note(out, "NVML: device %u: %s; skipped", i, why(&api, r, buf, sizeof buf));
            continue;
        }
        struct gpu_facts *g = gpu_list_add(out, GPU_VENDOR_NVIDIA);
        if (!g)
            break;
        describe(&api, i, dev, g, out, driver, cuda);
        count++;
    }
    api.shutdown();
    if (count)
        out->sources_used |= 1u << GPU_SRC_NVML;
    return count;
}
