/* HIP's virtual memory management and arrays.
 *
 * VMM: physical memory is what costs VRAM, so hipMemCreate counts its size on the device the
 * allocation properties name, until the handle is released and its last mapping unmapped (as
 * CUDA's twins, shim/vmm_table.h): hipMemRelease of a mapped handle keeps the count, the
 * hipMemUnmap that drops the last mapping gives it back. Memory shared through a descriptor
 * (hipMemExportToShareableHandle / hipMemImportFromShareableHandle) is counted once for the node,
 * by its creator, until nobody holds it, exactly as CUDA's (shim/vmm_share.h). Reserving address
 * space costs nothing and passes straight through. ROCm 6.0 moved the fields of hipMemAllocationProp
 * (to CUDA's layout); which layout the program passed follows from the runtime's version.
 *
 * Arrays: width x height x depth x element size (a lower bound: the runtime pads arrays). */
#include "core/log.h"
#include "hip_shim.h"
#include "vmm_share.h"
#include "vmm_table.h"

GREY_HIP_REAL(hipMemCreate);
GREY_HIP_REAL(hipMemExportToShareableHandle);
GREY_HIP_REAL(hipMemImportFromShareableHandle);
GREY_HIP_REAL(hipMemGetAllocationPropertiesFromHandle);
GREY_HIP_REAL(hipMemRelease);
GREY_HIP_REAL(hipMemMap);
GREY_HIP_REAL(hipMemUnmap);
GREY_HIP_REAL(hipMallocArray);
GREY_HIP_REAL(hipArrayCreate);
GREY_HIP_REAL(hipFreeArray);
GREY_HIP_REAL(hipArrayDestroy);

/* The device a hipMemAllocationProp names, or -1 when it is not device memory. */
static int prop_device(const void *prop)
{
    int type, id;
    if (grey_hip_runtime_major() >= 6) {
        const struct grey_hip_alloc_prop_r6 *p = prop;
        type = p->location.type;
        id = p->location.id;
    } else {
        const struct grey_hip_alloc_prop_r5 *p = prop;
        type = p->location.type;
        id = p->location.id;
    }
    return type == GREY_HIP_LOCATION_DEVICE && id >= 0 ? id : -1;
}

GREY_EXPORT hipError_t hipMemCreate(hipMemGenericAllocationHandle_t *handle, size_t size,
                                    const hipMemAllocationProp *prop, unsigned long long flags)
{
    if (!grey_hip_available(hipMemCreate))
        return hipErrorNotFound;
    int dev = handle && prop && size && !grey_hip_nested() ? prop_device(prop) : -1;
    if (dev < 0) /* bad arguments, host memory, or the runtime calling itself */
        return grey_hip_call(hipMemCreate, handle, size, prop, flags);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, dev, size) != hipSuccess)
        return hipErrorOutOfMemory;
    grey_vmm_lock(); /* a handle value freed by a concurrent unmap is tracked again only after it */
    hipError_t rc = grey_hip_call(hipMemCreate, handle, size, prop, flags);
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? GREY_KEY_HIP_VMM(*handle) : 0, GREY_API_HIP_MEM_CREATE);
    grey_vmm_unlock();
    return rc;
}

/* Nothing keeps the memory of key any more (no reference, no mapping): the runtime freed it. */
static void vmm_freed(uint64_t key)
{
    struct grey_buffer_info info;
    bool tracked = grey_untrack(key, &info);
    if (!grey_vmm_share_freed(key, tracked, &info)) /* unless shared, and held elsewhere */
        grey_forget(tracked, &info, true);
}

GREY_EXPORT hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle)
{
    if (!grey_hip_available(hipMemRelease))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipMemRelease, handle);
    uint64_t key = GREY_KEY_HIP_VMM(handle);
    hipError_t rc;
    grey_vmm_share_settle();
    grey_vmm_lock();
    if (grey_vmm_known(key)) { /* mapped: the memory goes when nothing keeps it */
        rc = grey_hip_call(hipMemRelease, handle);
        if (rc == hipSuccess && grey_vmm_released(key))
            vmm_freed(key);
    } else {
        struct grey_buffer_info info;
        bool tracked = grey_untrack(key, &info);
        rc = grey_hip_call(hipMemRelease, handle);
        if (rc != hipSuccess || !grey_vmm_share_freed(key, tracked, &info))
            grey_forget(tracked, &info, rc == hipSuccess);
    }
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT hipError_t hipMemMap(void *ptr, size_t size, size_t offset, hipMemGenericAllocationHandle_t handle,
                                 unsigned long long flags)
{
    if (!grey_hip_available(hipMemMap))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipMemMap, ptr, size, offset, handle, flags);
    uint64_t key = GREY_KEY_HIP_VMM(handle);
    grey_vmm_share_settle();
    grey_vmm_lock();
    struct grey_admission adm;
    bool paying = grey_vmm_share_is_unpaid(key); /* an import nobody else counts: paid here */
    if (paying) {
        char prop[64] = {0}; /* either layout of hipMemAllocationProp fits */
        int dev = grey_hip_available(hipMemGetAllocationPropertiesFromHandle) &&
                          grey_hip_call(hipMemGetAllocationPropertiesFromHandle, (hipMemAllocationProp *)prop,
                                        handle) == hipSuccess
                      ? prop_device(prop)
                      : -1;
        if (grey_hip_admit(&adm, dev, offset + size) != hipSuccess) {
            grey_vmm_unlock();
            return hipErrorOutOfMemory;
        }
    }
    hipError_t rc = grey_hip_call(hipMemMap, ptr, size, offset, handle, flags);
    if (paying) {
        grey_settle(&adm, rc == hipSuccess, key, GREY_API_HIP_MEM_CREATE);
        if (rc == hipSuccess)
            grey_vmm_share_paid(key);
    }
    if (rc == hipSuccess && grey_vmm_add_mapping((uintptr_t)ptr, size, key) != 0)
        grey_log("out of memory recording a VMM mapping: its bytes go back at hipMemRelease");
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT hipError_t hipMemExportToShareableHandle(void *shareable, hipMemGenericAllocationHandle_t handle,
                                                     hipMemAllocationHandleType type, unsigned long long flags)
{
    if (!grey_hip_available(hipMemExportToShareableHandle))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipMemExportToShareableHandle, shareable, handle, type, flags);
    grey_vmm_share_settle();
    grey_vmm_lock();
    hipError_t rc = grey_hip_call(hipMemExportToShareableHandle, shareable, handle, type, flags);
    if (rc == hipSuccess && type == hipMemHandleTypePosixFileDescriptor)
        grey_vmm_share_exported(GREY_KEY_HIP_VMM(handle), *(int *)shareable);
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT hipError_t hipMemImportFromShareableHandle(hipMemGenericAllocationHandle_t *handle, void *os_handle,
                                                       hipMemAllocationHandleType type)
{
    if (!grey_hip_available(hipMemImportFromShareableHandle))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipMemImportFromShareableHandle, handle, os_handle, type);
    grey_vmm_share_settle();
    grey_vmm_lock();
    hipError_t rc = grey_hip_call(hipMemImportFromShareableHandle, handle, os_handle, type);
    if (rc == hipSuccess)
        grey_vmm_share_import(GREY_KEY_HIP_VMM(*handle), type == hipMemHandleTypePosixFileDescriptor,
                              (int)(intptr_t)os_handle);
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT hipError_t hipMemUnmap(void *ptr, size_t size)
{
    if (!grey_hip_available(hipMemUnmap))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipMemUnmap, ptr, size);
    grey_vmm_share_settle();
    grey_vmm_lock();
    hipError_t rc = grey_hip_call(hipMemUnmap, ptr, size);
    if (rc == hipSuccess)
        grey_vmm_remove_range((uintptr_t)ptr, size, vmm_freed);
    grey_vmm_unlock();
    return rc;
}

/* HIP_AD_FORMAT_* element sizes (the same values as CUDA's CU_AD_FORMAT_*). */
static unsigned format_bytes(int format)
{
    switch (format) {
    case HIP_AD_FORMAT_UNSIGNED_INT8:
    case HIP_AD_FORMAT_SIGNED_INT8:
        return 1;
    case HIP_AD_FORMAT_UNSIGNED_INT16:
    case HIP_AD_FORMAT_SIGNED_INT16:
    case HIP_AD_FORMAT_HALF:
        return 2;
    default:
        return 4;
    }
}

/* The shared shape of both array allocations. */
static hipError_t make_array(hipArray **array, uint64_t bytes, bool valid, hipError_t (*call)(hipArray **, const void *),
                             const void *arg)
{
    if (!array || !valid || grey_hip_nested())
        return call(array, arg);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, -1, bytes) != hipSuccess)
        return hipErrorOutOfMemory;
    hipError_t rc = call(array, arg);
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? GREY_KEY_HIP_ARRAY(*array) : 0, GREY_API_HIP_ARRAY);
    return rc;
}

/* hipMallocArray's arguments, passed through make_array as one. */
struct malloc_array_args {
    const hipChannelFormatDesc *desc;
    size_t width, height;
    unsigned flags;
};
static hipError_t call_malloc_array(hipArray **array, const void *arg)
{
    const struct malloc_array_args *a = arg;
    return grey_hip_call(hipMallocArray, array, a->desc, a->width, a->height, a->flags);
}
static hipError_t call_array_create(hipArray **array, const void *desc)
{
    return grey_hip_call(hipArrayCreate, array, desc);
}

GREY_EXPORT hipError_t hipMallocArray(hipArray **array, const hipChannelFormatDesc *desc, size_t width, size_t height,
                                      unsigned int flags)
{
    if (!grey_hip_available(hipMallocArray))
        return hipErrorNotFound;
    struct malloc_array_args a = {desc, width, height, flags};
    bool valid = desc && width && desc->x >= 0 && desc->y >= 0 && desc->z >= 0 && desc->w >= 0;
    uint64_t element = valid ? ((uint64_t)desc->x + desc->y + desc->z + desc->w + 7) / 8 : 0;
    return make_array(array, grey_array_bytes(width, height, 1, element, 1), valid && element, call_malloc_array, &a);
}

GREY_EXPORT hipError_t hipArrayCreate(hipArray **array, const HIP_ARRAY_DESCRIPTOR *desc)
{
    if (!grey_hip_available(hipArrayCreate))
        return hipErrorNotFound;
    bool valid = desc && desc->Width;
    uint64_t element = valid ? (uint64_t)(desc->NumChannels ? desc->NumChannels : 1) * format_bytes(desc->Format) : 0;
    return make_array(array, valid ? grey_array_bytes(desc->Width, desc->Height, 1, element, 1) : 0, valid,
                      call_array_create, desc);
}

/* hipFreeArray and hipArrayDestroy free arrays from either allocation. */
static hipError_t call_free_array(hipArray *array) { return grey_hip_call(hipFreeArray, array); }
static hipError_t call_array_destroy(hipArray *array) { return grey_hip_call(hipArrayDestroy, array); }

static hipError_t destroy_array(hipArray *array, hipError_t (*call)(hipArray *))
{
    if (grey_hip_nested())
        return call(array);
    struct grey_buffer_info info;
    bool tracked = grey_untrack(GREY_KEY_HIP_ARRAY(array), &info);
    hipError_t rc = call(array);
    grey_forget(tracked, &info, rc == hipSuccess);
    return rc;
}

GREY_EXPORT hipError_t hipFreeArray(hipArray *array)
{
    return grey_hip_available(hipFreeArray) ? destroy_array(array, call_free_array) : hipErrorNotFound;
}

GREY_EXPORT hipError_t hipArrayDestroy(hipArray *array)
{
    return grey_hip_available(hipArrayDestroy) ? destroy_array(array, call_array_destroy) : hipErrorNotFound;
}
