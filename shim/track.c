#include "track.h"

#include <stdatomic.h>

#include "core/callsite.h"
#include "core/notify.h"
#include "core/settings.h"
#include "policy/history.h"
#include "policy/rawlog.h"
#include "policy/sites.h"
#include "policy/ticks.h"
#include "cuda_shim.h"
#include "dedup.h"
#include "hip_shim.h"
#include "vendor.h"

/* The tracker calls this for every buffer whose memory is gone: its site no longer holds it,
 * and a recording process keeps it for the report. */
static void retired(const struct grey_buffer_info *info)
{
    sites_free(info->site, info->bytes);
    if (grey_settings()->record)
        history_push(info, grey_ticks(),
                     grey_use_delta(&info->use, atomic_load_explicit(&grey_dedup_launches, memory_order_relaxed)));
}

static atomic_bool hook_set;

int grey_track_new(struct grey_buffer_info *info)
{
    if (__builtin_expect(!atomic_load_explicit(&hook_set, memory_order_relaxed), 0)) {
        tracker_set_retire_hook(retired);
        tracker_keep_use(grey_settings()->record);
        atomic_store(&hook_set, true);
    }
    tracker_prefetch(info->addr); /* its slot loads while the stack is walked */
    info->alloc_ticks = grey_ticks();
    info->site = grey_callsite_capture();
    if (grey_settings()->record) /* the report's waste patterns place it on the launch clock */
        info->use = (struct grey_buffer_use){
            .alloc_launch = atomic_load_explicit(&grey_dedup_launches, memory_order_relaxed)};
    struct grey_buffer_info old;
    bool replaced;
    if (tracker_add_replacing(info, &old, &replaced) != 0)
        return -1;
    if (replaced) /* the driver reused an address we never saw freed: that buffer is gone */
        retired(&old);
    sites_alloc(info->site, info->bytes, info->alloc_ticks);
    if (grey_settings()->record)
        grey_notify_buffer_tracked();
    return 0;
}

struct api_desc {
    const char *name;
    uint8_t kind;
    const struct grey_vendor *vendor;  /* whose runtime reads it back */
};

static const struct api_desc cuda_apis[] = {
    [GREY_API_MEM_ALLOC] = {"cuMemAlloc", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_MEM_ALLOC_PITCH] = {"cuMemAllocPitch", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_MEM_ALLOC_MANAGED] = {"cuMemAllocManaged", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_MEM_ALLOC_ASYNC] = {"cuMemAllocAsync", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_MEM_ALLOC_FROM_POOL] = {"cuMemAllocFromPoolAsync", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_MEM_CREATE] = {"cuMemCreate", GREY_RAW_HANDLE, &grey_cuda_vendor},
    [GREY_API_ARRAY] = {"cuArrayCreate", GREY_RAW_HANDLE, &grey_cuda_vendor},
    [GREY_API_ARRAY_3D] = {"cuArray3DCreate", GREY_RAW_HANDLE, &grey_cuda_vendor},
    [GREY_API_MIPMAPPED_ARRAY] = {"cuMipmappedArrayCreate", GREY_RAW_HANDLE, &grey_cuda_vendor},
    [GREY_API_GRAPH_MEM_NODE] = {"cuGraphAddMemAllocNode", GREY_RAW_PTR, &grey_cuda_vendor},
    [GREY_API_CONTEXT] = {"context", GREY_RAW_CONTEXT, &grey_cuda_vendor},
};

/* HIP's device pointers are fingerprinted like CUDA's (uploads by hipMemcpy, read-backs at
 * snapshots: shim/hip_dedup.c); VMM handles and arrays are counted, not addressable. */
static const struct api_desc hip_apis[] = {
    [GREY_API_HIP_MALLOC - GREY_API_HIP_MALLOC] = {"hipMalloc", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_EXT_MALLOC - GREY_API_HIP_MALLOC] = {"hipExtMallocWithFlags", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MALLOC_MANAGED - GREY_API_HIP_MALLOC] = {"hipMallocManaged", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MALLOC_PITCH - GREY_API_HIP_MALLOC] = {"hipMallocPitch", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MALLOC_3D - GREY_API_HIP_MALLOC] = {"hipMalloc3D", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MALLOC_ASYNC - GREY_API_HIP_MALLOC] = {"hipMallocAsync", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MALLOC_FROM_POOL - GREY_API_HIP_MALLOC] = {"hipMallocFromPoolAsync", GREY_RAW_PTR, &grey_hip_vendor},
    [GREY_API_HIP_MEM_CREATE - GREY_API_HIP_MALLOC] = {"hipMemCreate", GREY_RAW_HANDLE, &grey_hip_vendor},
    [GREY_API_HIP_ARRAY - GREY_API_HIP_MALLOC] = {"hipArrayCreate", GREY_RAW_HANDLE, &grey_hip_vendor},
};

static const struct api_desc *describe(uint32_t api)
{
    if (api < sizeof cuda_apis / sizeof cuda_apis[0] && cuda_apis[api].name)
        return &cuda_apis[api];
    if (api >= GREY_API_HIP_MALLOC && api - GREY_API_HIP_MALLOC < sizeof hip_apis / sizeof hip_apis[0] &&
        hip_apis[api - GREY_API_HIP_MALLOC].name)
        return &hip_apis[api - GREY_API_HIP_MALLOC];
    return NULL;
}

const char *grey_api_name(uint32_t api)
{
    const struct api_desc *d = describe(api);
    return d ? d->name : "unknown";
}

const struct grey_vendor *grey_api_vendor(uint32_t api)
{
    const struct api_desc *d = describe(api);
    return d ? d->vendor : NULL;
}

uint8_t grey_api_kind(uint32_t api)
{
    const struct api_desc *d = describe(api);
    return d ? d->kind : GREY_RAW_HANDLE;
}
