/* Simulated HIP virtual memory and arrays. VMM: hipMemCreate counts VRAM, which stays taken
 * until the handle is released (hipMemRelease) and its last mapping is unmapped (hipMemUnmap),
 * as CUDA's driver documents for its twins (HIP's reference is silent; docs/simgpu.md). A
 * mapping is anonymous memory of its own: two mappings of one handle do not share bytes here.
 * Arrays (hipMallocArray, hipArrayCreate and their frees),
 * whose storage is device memory of width x height x element size. */
#include "hsim.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* ------------------------------------------------------------------ VMM */

struct hsim_vmm {
    int dev;
    uint64_t bytes;
    bool released;
    unsigned maps;
};

/* Live mappings, so that hipMemUnmap knows which allocations it lets go of. */
struct hsim_mapping {
    uintptr_t va;
    size_t size;
    struct hsim_vmm *vmm;
};
static struct hsim_mapping *mappings;
static size_t mapping_count, mapping_cap;
static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under vmm_lock: the VRAM goes back once the handle is released and nothing maps it. */
static void vmm_free_if_unused(struct hsim_vmm *v)
{
    if (v->released && !v->maps) {
        hsim_vram_give(v->dev, v->bytes);
        free(v);
    }
}

/* The device a hipMemAllocationProp names, in the layout of the runtime version the simulator
 * reports: ROCm 6.0 moved location behind type and requestedHandleType (CUDA's layout); 5.x
 * had compressionType first. Returns -1 for anything but device memory. */
static int prop_device(const void *prop)
{
    const unsigned char *p = prop;
    int type, id;
    if (hsim_runtime_version() >= 60000000) {
        type = *(const int *)(p + 8);
        id = *(const int *)(p + 12);
    } else {
        type = *(const int *)(p + 4);
        id = *(const int *)(p + 8);
    }
    return type == 1 /* hipMemLocationTypeDevice */ ? id : -1;
}

hipError_t hipMemCreate(hipMemGenericAllocationHandle_t *handle, size_t size, const hipMemAllocationProp *prop,
                        unsigned long long flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!handle || !prop || size == 0 || flags != 0)
        return hipErrorInvalidValue;
    int dev = prop_device(prop);
    if (hsim_check_device(dev) != hipSuccess)
        return hipErrorInvalidValue;
    struct hsim_vmm *v = calloc(1, sizeof *v);
    if (!v)
        return hipErrorOutOfMemory;
    *v = (struct hsim_vmm){.dev = dev, .bytes = sim_accounted_bytes(size)};
    if (!v->bytes || !hsim_vram_take(dev, v->bytes)) {
        free(v);
        return hipErrorOutOfMemory;
    }
    hsim_handle_add(v, HSIM_H_VMM);
    *handle = (hipMemGenericAllocationHandle_t)v;
    return hipSuccess;
}

hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle)
{
    struct hsim_vmm *v = (struct hsim_vmm *)handle;
    pthread_mutex_lock(&vmm_lock);
    if (!v || !hsim_handle_take(v, HSIM_H_VMM)) {
        pthread_mutex_unlock(&vmm_lock);
        return hipErrorInvalidValue;
    }
    v->released = true;
    vmm_free_if_unused(v);
    pthread_mutex_unlock(&vmm_lock);
    return hipSuccess;
}

hipError_t hipMemAddressReserve(void **ptr, size_t size, size_t alignment, void *addr, unsigned long long flags)
{
    (void)alignment;
    (void)addr;
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!ptr || size == 0 || flags != 0)
        return hipErrorInvalidValue;
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return hipErrorOutOfMemory;
    *ptr = p;
    return hipSuccess;
}

hipError_t hipMemAddressFree(void *ptr, size_t size)
{
    if (!ptr || size == 0 || munmap(ptr, size) != 0)
        return hipErrorInvalidValue;
    return hipSuccess;
}

static bool overlaps(const struct hsim_mapping *m, uintptr_t va, size_t size)
{
    return m->va < va + size && va < m->va + m->size;
}

hipError_t hipMemMap(void *ptr, size_t size, size_t offset, hipMemGenericAllocationHandle_t handle,
                     unsigned long long flags)
{
    struct hsim_vmm *v = (struct hsim_vmm *)handle;
    uintptr_t va = (uintptr_t)ptr;
    hipError_t r = hipErrorInvalidValue;
    pthread_mutex_lock(&vmm_lock);
    if (!v || !hsim_handle_live(v, HSIM_H_VMM) || !ptr || size == 0 || flags != 0 || offset > v->bytes ||
        size > v->bytes - offset)
        goto out;
    for (size_t i = 0; i < mapping_count; i++)
        if (overlaps(&mappings[i], va, size))
            goto out;
    if (mapping_count == mapping_cap) {
        size_t cap = mapping_cap ? mapping_cap * 2 : 64;
        struct hsim_mapping *grown = realloc(mappings, cap * sizeof *grown);
        if (!grown) {
            r = hipErrorOutOfMemory;
            goto out;
        }
        mappings = grown;
        mapping_cap = cap;
    }
    if (mmap(ptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        goto out;
    mappings[mapping_count++] = (struct hsim_mapping){va, size, v};
    v->maps++;
    r = hipSuccess;
out:
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

/* Whole mappings only, as CUDA's cuMemUnmap: none may stick out of the range, and it must hold one. */
hipError_t hipMemUnmap(void *ptr, size_t size)
{
    uintptr_t va = (uintptr_t)ptr;
    if (!ptr || size == 0)
        return hipErrorInvalidValue;
    pthread_mutex_lock(&vmm_lock);
    size_t inside = 0;
    for (size_t i = 0; i < mapping_count; i++) {
        if (!overlaps(&mappings[i], va, size))
            continue;
        if (mappings[i].va < va || mappings[i].va + mappings[i].size > va + size) {
            pthread_mutex_unlock(&vmm_lock);
            return hipErrorInvalidValue;
        }
        inside++;
    }
    if (!inside ||
        mmap(ptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
        pthread_mutex_unlock(&vmm_lock);
        return hipErrorInvalidValue;
    }
    for (size_t i = 0; i < mapping_count;) {
        if (!overlaps(&mappings[i], va, size)) {
            i++;
            continue;
        }
        struct hsim_vmm *v = mappings[i].vmm;
        mappings[i] = mappings[--mapping_count];
        v->maps--;
        vmm_free_if_unused(v);
    }
    pthread_mutex_unlock(&vmm_lock);
    return hipSuccess;
}

/* ------------------------------------------------------------------ arrays */

static unsigned format_bytes(hipArray_Format f)
{
    switch (f) {
    case HIP_AD_FORMAT_UNSIGNED_INT8:
    case HIP_AD_FORMAT_SIGNED_INT8:
        return 1;
    case HIP_AD_FORMAT_UNSIGNED_INT16:
    case HIP_AD_FORMAT_SIGNED_INT16:
    case HIP_AD_FORMAT_HALF:
        return 2;
    case HIP_AD_FORMAT_UNSIGNED_INT32:
    case HIP_AD_FORMAT_SIGNED_INT32:
    case HIP_AD_FORMAT_FLOAT:
        return 4;
    default:
        return 0;
    }
}

/* An array: the handle is a struct hipArray whose data is device memory on the current device. */
static hipError_t make_array(hipArray **out, size_t width, size_t height, size_t element, hipArray_Format format,
                             unsigned channels)
{
    size_t bytes;
    if (__builtin_mul_overflow(width, height ? height : 1, &bytes) || __builtin_mul_overflow(bytes, element, &bytes))
        return hipErrorOutOfMemory;
    hipArray *a = calloc(1, sizeof *a);
    if (!a)
        return hipErrorOutOfMemory;
    hipError_t r = hsim_alloc(&a->data, bytes, hsim_current_device(), HSIM_ARRAY);
    if (r != hipSuccess) {
        free(a);
        return r;
    }
    a->width = (unsigned)width;
    a->height = (unsigned)height;
    a->depth = 0;
    a->Format = format;
    a->NumChannels = channels;
    hsim_handle_add(a, HSIM_H_ARRAY);
    *out = a;
    return hipSuccess;
}

hipError_t hipMallocArray(hipArray **array, const hipChannelFormatDesc *desc, size_t width, size_t height,
                          unsigned int flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!array || !desc || width == 0 || desc->x < 0 || desc->y < 0 || desc->z < 0 || desc->w < 0)
        return hipErrorInvalidValue;
    (void)flags;
    size_t element = ((size_t)desc->x + desc->y + desc->z + desc->w + 7) / 8;
    if (element == 0)
        return hipErrorInvalidValue;
    r = make_array(array, width, height, element, HIP_AD_FORMAT_FLOAT, 1);
    if (r == hipSuccess)
        (*array)->desc = *desc;
    return r;
}

hipError_t hipArrayCreate(hipArray **array, const HIP_ARRAY_DESCRIPTOR *desc)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!array || !desc || desc->Width == 0 || format_bytes(desc->Format) == 0 || desc->NumChannels == 0 ||
        desc->NumChannels > 4)
        return hipErrorInvalidValue;
    return make_array(array, desc->Width, desc->Height, (size_t)format_bytes(desc->Format) * desc->NumChannels,
                      desc->Format, desc->NumChannels);
}

static hipError_t destroy_array(hipArray *array)
{
    if (!array || !hsim_handle_take(array, HSIM_H_ARRAY))
        return hipErrorInvalidValue;
    hsim_free(array->data, HSIM_ARRAY);
    free(array);
    return hipSuccess;
}

hipError_t hipFreeArray(hipArray *array)
{
    return destroy_array(array);
}

hipError_t hipArrayDestroy(hipArray *array)
{
    return destroy_array(array);
}
