/* Finding this machine's GPUs through the CUDA driver API (see detect.h).
 *
 * The driver is opened with dlopen rather than linked so that the tools run (and say clearly why
 * there is nothing to plan) on machines without a driver, and so that LD_LIBRARY_PATH can select
 * the simulated driver in tests. Only types come from cuda.h; every entry point is looked up by
 * name, versioned names first (cuDeviceTotalMem_v2 ...), exactly as the driver exports them. */
#include "detect.h"

#include <cuda.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/errmsg.h"

/* The entry points we call. Member names avoid the cuXxx spellings that cuda.h turns into
 * macros. */
struct cuda_api {
    CUresult (*init)(unsigned);
    CUresult (*get_count)(int *);
    CUresult (*get_device)(CUdevice *, int);
    CUresult (*get_name)(char *, int, CUdevice);
    CUresult (*total_mem)(size_t *, CUdevice);
    CUresult (*get_attribute)(int *, CUdevice_attribute, CUdevice);
    CUresult (*get_uuid)(CUuuid *, CUdevice);                  /* optional */
    CUresult (*ctx_retain)(CUcontext *, CUdevice);             /* optional: free memory */
    CUresult (*ctx_release)(CUdevice);                         /* optional */
    CUresult (*ctx_set_current)(CUcontext);                    /* optional */
    CUresult (*mem_get_info)(size_t *, size_t *);              /* optional */
    CUresult (*error_name)(CUresult, const char **);          /* optional */
    CUresult (*pci_bus_id)(char *, int, CUdevice);             /* optional: ties to NVML's view */
    CUresult (*driver_version)(int *);                         /* optional */
};

/* The first of the names the driver exports, or NULL. */
static void *lookup(void *lib, const char *name, const char *fallback)
{
    void *f = dlsym(lib, name);
    if (!f && fallback)
        f = dlsym(lib, fallback);
    return f;
}

/* Copies a looked-up symbol into a function pointer member without the object/function pointer
 * cast that ISO C leaves undefined (POSIX guarantees the representation is the same). */
#define LOAD(member, ...)                                                                      \
    do {                                                                                       \
        void *sym_ = lookup(lib, __VA_ARGS__);                                                 \
        memcpy(&api->member, &sym_, sizeof sym_);                                              \
    } while (0)

static int load_api(struct cuda_api *api, char *err, size_t errlen)
{
    /* Opened once and never closed: the driver does not support being unloaded. */
    static void *lib;
    if (!lib) {
        lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
            return grey_error(err, errlen, "no CUDA driver: %s", dlerror());
    }
    LOAD(init, "cuInit", NULL);
    LOAD(get_count, "cuDeviceGetCount", NULL);
    LOAD(get_device, "cuDeviceGet", NULL);
    LOAD(get_name, "cuDeviceGetName", NULL);
    LOAD(total_mem, "cuDeviceTotalMem_v2", NULL);
    LOAD(get_attribute, "cuDeviceGetAttribute", NULL);
    LOAD(get_uuid, "cuDeviceGetUuid_v2", "cuDeviceGetUuid");
    LOAD(ctx_retain, "cuDevicePrimaryCtxRetain", NULL);
    LOAD(ctx_release, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
    LOAD(ctx_set_current, "cuCtxSetCurrent", NULL);
    LOAD(mem_get_info, "cuMemGetInfo_v2", NULL);
    LOAD(error_name, "cuGetErrorName", NULL);
    LOAD(pci_bus_id, "cuDeviceGetPCIBusId", NULL);
    LOAD(driver_version, "cuDriverGetVersion", NULL);

    const char *missing = !api->init            ? "cuInit"
                          : !api->get_count     ? "cuDeviceGetCount"
                          : !api->get_device    ? "cuDeviceGet"
                          : !api->get_name      ? "cuDeviceGetName"
                          : !api->total_mem     ? "cuDeviceTotalMem_v2"
                          : !api->get_attribute ? "cuDeviceGetAttribute"
                                                : NULL;
    if (missing)
        return grey_error(err, errlen, "CUDA driver libcuda.so.1 has no %s", missing);
    return 0;
}

static const char *result_name(const struct cuda_api *api, CUresult r, char *buf, size_t len)
{
    const char *name = NULL;
    if (api->error_name && api->error_name(r, &name) == CUDA_SUCCESS && name)
        return name;
    snprintf(buf, len, "CUDA error %d", (int)r);
    return buf;
}

static void format_uuid(const CUuuid *u, char *out, size_t len)
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    snprintf(out, len,
             "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Free memory needs a context. The primary context is the one every runtime-API program shares,
 * so retaining it here costs nothing extra and is released right away. */
static int query_free(const struct cuda_api *api, CUdevice dev, uint64_t *free_bytes)
{
    if (!api->ctx_retain || !api->ctx_release || !api->ctx_set_current || !api->mem_get_info)
        return -1;
    CUcontext ctx = NULL;
    if (api->ctx_retain(&ctx, dev) != CUDA_SUCCESS)
        return -1;
    size_t fr = 0, total = 0;
    int rc = -1;
    if (api->ctx_set_current(ctx) == CUDA_SUCCESS &&
        api->mem_get_info(&fr, &total) == CUDA_SUCCESS) {
        *free_bytes = fr;
        rc = 0;
    }
    api->ctx_set_current(NULL);
    api->ctx_release(dev);
    return rc;
}

static int describe(const struct cuda_api *api, int i, struct grey_detected_device *d, char *err,
                    size_t errlen)
{
    char buf[32];
    CUdevice dev;
    CUresult r;
    size_t total = 0;
    memset(d, 0, sizeof *d);
    d->index = i;
    if ((r = api->get_device(&dev, i)) != CUDA_SUCCESS ||
        (r = api->get_name(d->name, (int)sizeof d->name, dev)) != CUDA_SUCCESS ||
        (r = api->total_mem(&total, dev)) != CUDA_SUCCESS ||
        (r = api->get_attribute(&d->sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev)) !=
            CUDA_SUCCESS ||
        (r = api->get_attribute(&d->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                dev)) != CUDA_SUCCESS ||
        (r = api->get_attribute(&d->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                dev)) != CUDA_SUCCESS)
        return grey_error(err, errlen, "querying CUDA device %d failed: %s", i,
                            result_name(api, r, buf, sizeof buf));
    d->name[sizeof d->name - 1] = '\0';
    d->vram_total = total;

    CUuuid u;
    if (api->get_uuid && api->get_uuid(&u, dev) == CUDA_SUCCESS)
        format_uuid(&u, d->uuid, sizeof d->uuid);
    if (!api->pci_bus_id || api->pci_bus_id(d->pci_bus_id, (int)sizeof d->pci_bus_id, dev) != CUDA_SUCCESS)
        d->pci_bus_id[0] = '\0';
    d->pci_bus_id[sizeof d->pci_bus_id - 1] = '\0';
    if (!api->driver_version || api->driver_version(&d->cuda_version) != CUDA_SUCCESS)
        d->cuda_version = 0;

    if (query_free(api, dev, &d->vram_free) == 0) {
        snprintf(d->source, sizeof d->source, "cuda driver");
    } else {
        d->vram_free = d->vram_total;
        snprintf(d->source, sizeof d->source, "cuda driver (free unknown)");
    }
    return 0;
}

int grey_detect_cuda(struct grey_detected_device *out, int max, char *err, size_t errlen)
{
    struct cuda_api api;
    char buf[32];
    memset(&api, 0, sizeof api);
    if (load_api(&api, err, errlen) != 0)
        return -1;
    CUresult r = api.init(0);
    if (r != CUDA_SUCCESS)
        return grey_error(err, errlen, "cuInit failed: %s",
                            result_name(&api, r, buf, sizeof buf));
    int count = 0;
    if ((r = api.get_count(&count)) != CUDA_SUCCESS)
        return grey_error(err, errlen, "cuDeviceGetCount failed: %s",
                            result_name(&api, r, buf, sizeof buf));
    if (count > max)
        count = max;
    for (int i = 0; i < count; i++)
        if (describe(&api, i, &out[i], err, errlen) != 0)
            return -1;
    return count;
}
