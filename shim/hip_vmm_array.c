/* HIP's virtual memory management and arrays.
 *
 * VMM: physical memory is what costs VRAM, so hipMemCreate counts its size on the device the
 * allocation properties name, and hipMemRelease gives it back; reserving and mapping address
 * space cost nothing and pass straight through. ROCm 6.0 moved the fields of hipMemAllocationProp
 * (to CUDA's layout); which layout the program passed follows from the runtime's version.
 *
 * Arrays: width x height x depth x element size (a lower bound: the runtime pads arrays). */
#include "hip_shim.h"

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
    static void *real_fn;
    __typeof__(hipMemCreate) *real = grey_real(&real_fn, "hipMemCreate");
    if (!real)
        return hipErrorNotFound;
    int dev = handle && prop && size && !grey_hip_nested() ? prop_device(prop) : -1;
    if (dev < 0) /* bad arguments, host memory, or the runtime calling itself */
        return real(handle, size, prop, flags);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, dev, size) != hipSuccess)
        return hipErrorOutOfMemory;
    grey_hip_enter();
    hipError_t rc = real(handle, size, prop, flags);
    grey_hip_leave();
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? GREY_KEY_HIP_VMM(*handle) : 0, GREY_API_HIP_MEM_CREATE);
    return rc;
}

GREY_EXPORT hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle)
{
    static void *real_fn;
    __typeof__(hipMemRelease) *real = grey_real(&real_fn, "hipMemRelease");
    if (!real)
        return hipErrorNotFound;
    if (grey_hip_nested())
        return real(handle);
    struct grey_buffer_info info;
    bool tracked = grey_untrack(GREY_KEY_HIP_VMM(handle), &info);
    grey_hip_enter();
    hipError_t rc = real(handle);
    grey_hip_leave();
    grey_forget(tracked, &info, rc == hipSuccess);
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
    grey_hip_enter();
    hipError_t rc = call(array, arg);
    grey_hip_leave();
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? GREY_KEY_HIP_ARRAY(*array) : 0, GREY_API_HIP_ARRAY);
    return rc;
}

/* hipMallocArray's arguments, passed through make_array as one. */
struct malloc_array_args {
    const hipChannelFormatDesc *desc;
    size_t width, height;
    unsigned flags;
};
static void *real_malloc_array, *real_array_create;

static hipError_t call_malloc_array(hipArray **array, const void *arg)
{
    const struct malloc_array_args *a = arg;
    return ((__typeof__(hipMallocArray) *)real_malloc_array)(array, a->desc, a->width, a->height, a->flags);
}
static hipError_t call_array_create(hipArray **array, const void *desc)
{
    return ((__typeof__(hipArrayCreate) *)real_array_create)(array, desc);
}

GREY_EXPORT hipError_t hipMallocArray(hipArray **array, const hipChannelFormatDesc *desc, size_t width, size_t height,
                                      unsigned int flags)
{
    if (!grey_real(&real_malloc_array, "hipMallocArray"))
        return hipErrorNotFound;
    struct malloc_array_args a = {desc, width, height, flags};
    bool valid = desc && width && desc->x >= 0 && desc->y >= 0 && desc->z >= 0 && desc->w >= 0;
    uint64_t element = valid ? ((uint64_t)desc->x + desc->y + desc->z + desc->w + 7) / 8 : 0;
    return make_array(array, grey_array_bytes(width, height, 1, element, 1), valid && element, call_malloc_array, &a);
}

GREY_EXPORT hipError_t hipArrayCreate(hipArray **array, const HIP_ARRAY_DESCRIPTOR *desc)
{
    if (!grey_real(&real_array_create, "hipArrayCreate"))
        return hipErrorNotFound;
    bool valid = desc && desc->Width;
    uint64_t element = valid ? (uint64_t)(desc->NumChannels ? desc->NumChannels : 1) * format_bytes(desc->Format) : 0;
    return make_array(array, valid ? grey_array_bytes(desc->Width, desc->Height, 1, element, 1) : 0, valid,
                      call_array_create, desc);
}

/* hipFreeArray and hipArrayDestroy free arrays from either allocation. */
static hipError_t destroy_array(hipArray *array, hipError_t (*real)(hipArray *))
{
    if (grey_hip_nested())
        return real(array);
    struct grey_buffer_info info;
    bool tracked = grey_untrack(GREY_KEY_HIP_ARRAY(array), &info);
    grey_hip_enter();
    hipError_t rc = real(array);
    grey_hip_leave();
    grey_forget(tracked, &info, rc == hipSuccess);
    return rc;
}

GREY_EXPORT hipError_t hipFreeArray(hipArray *array)
{
    static void *real_fn;
    __typeof__(hipFreeArray) *real = grey_real(&real_fn, "hipFreeArray");
    return real ? destroy_array(array, real) : hipErrorNotFound;
}

GREY_EXPORT hipError_t hipArrayDestroy(hipArray *array)
{
    static void *real_fn;
    __typeof__(hipArrayDestroy) *real = grey_real(&real_fn, "hipArrayDestroy");
    return real ? destroy_array(array, real) : hipErrorNotFound;
}
