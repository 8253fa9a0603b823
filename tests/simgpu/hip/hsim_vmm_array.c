/* Simulated HIP virtual memory and arrays. VMM: hipMemCreate counts VRAM, which stays taken
 * until the handle is released (hipMemRelease, once per reference) and its last mapping is
 * unmapped (hipMemUnmap), as CUDA's driver documents for its twins (HIP's reference is silent;
 * docs/simgpu.md). Physical memory is a memfd (sim_vmm_fd.h), so two mappings of one handle share
 * bytes, and hipMemExportToShareableHandle / hipMemImportFromShareableHandle share it with other
 * processes as the CUDA simulator does (sim_vmm.c): counted once for the node (sim_shared.c) from
 * its first export until every process holding it let go. Arrays (hipMallocArray,
 * hipArrayCreate and their frees), whose storage is device memory of width x height x element
 * size. */
#include "hsim.h"

#include "../sim_usage.h"
#include "../sim_vmm_fd.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------ VMM */

#define HANDLE_POSIX_FD 1 /* hipMemHandleTypePosixFileDescriptor */

struct hsim_vmm {
    int dev;
    uint64_t bytes;
    unsigned refs;        /* unreleased references: the create's or import's, one per import again */
    unsigned maps;
    int fd;               /* the memfd */
    int handle_types;     /* requestedHandleType at hipMemCreate */
    uint64_t shared_key;  /* not 0: exported or imported, counted in sim_shared.c */
    struct hsim_vmm *next; /* every allocation this process still holds */
};
static struct hsim_vmm *physicals;

/* Live mappings, so that hipMemUnmap knows which allocations it lets go of. */
struct hsim_mapping {
    uintptr_t va;
    size_t size;
    struct hsim_vmm *vmm;
};
static struct hsim_mapping *mappings;
static size_t mapping_count, mapping_cap;
static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under vmm_lock: the VRAM goes back once no reference and no mapping is left. */
static void vmm_free_if_unused(struct hsim_vmm *v)
{
    if (v->refs || v->maps)
        return;
    for (struct hsim_vmm **at = &physicals; *at; at = &(*at)->next)
        if (*at == v) {
            *at = v->next;
            break;
        }
    close(v->fd);
    if (v->shared_key)
        sim_shared_leave(v->shared_key);
    else
        hsim_vram_give(v->dev, v->bytes);
    free(v);
}

/* Where a hipMemAllocationProp keeps its fields, in the layout of the runtime version the
 * simulator reports: ROCm 6.0 moved location behind type and requestedHandleType (CUDA's
 * layout); 5.x had compressionType first. */
struct prop_layout {
    size_t handle_types, location_type, location_id, type;
};
static struct prop_layout prop_layout(void)
{
    if (hsim_runtime_version() >= 60000000)
        return (struct prop_layout){.type = 0, .handle_types = 4, .location_type = 8, .location_id = 12};
    return (struct prop_layout){.location_type = 4, .location_id = 8, .handle_types = 12, .type = 16};
}

static int prop_int(const void *prop, size_t at)
{
    int v;
    memcpy(&v, (const unsigned char *)prop + at, sizeof v);
    return v;
}

/* The device a hipMemAllocationProp names; -1 for anything but device memory. */
static int prop_device(const void *prop)
{
    struct prop_layout l = prop_layout();
    return prop_int(prop, l.location_type) == 1 /* hipMemLocationTypeDevice */ ? prop_int(prop, l.location_id) : -1;
}

static void track(struct hsim_vmm *v)
{
    pthread_mutex_lock(&vmm_lock);
    v->next = physicals;
    physicals = v;
    pthread_mutex_unlock(&vmm_lock);
    hsim_handle_add(v, HSIM_H_VMM);
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
    int types = prop_int(prop, prop_layout().handle_types);
    if (types & ~HANDLE_POSIX_FD) /* Windows and fabric handles: not on this node */
        return hipErrorNotSupported;
    struct hsim_vmm *v = calloc(1, sizeof *v);
    if (!v)
        return hipErrorOutOfMemory;
    *v = (struct hsim_vmm){.dev = dev, .bytes = sim_accounted_bytes(size), .refs = 1, .handle_types = types};
    if (!v->bytes || !hsim_vram_take(dev, v->bytes)) {
        free(v);
        return hipErrorOutOfMemory;
    }
    if ((v->fd = sim_vmm_memfd(hsim_devices[dev].phys, v->bytes)) < 0) {
        hsim_vram_give(dev, v->bytes);
        free(v);
        return hipErrorOutOfMemory;
    }
    track(v);
    *handle = (hipMemGenericAllocationHandle_t)v;
    return hipSuccess;
}

hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle)
{
    struct hsim_vmm *v = (struct hsim_vmm *)handle;
    pthread_mutex_lock(&vmm_lock);
    if (!v || !hsim_handle_live(v, HSIM_H_VMM) || v->refs == 0) {
        pthread_mutex_unlock(&vmm_lock);
        return hipErrorInvalidValue;
    }
    if (--v->refs == 0) /* the handle dies with its last reference; the memory with its last mapping */
        hsim_handle_take(v, HSIM_H_VMM);
    vmm_free_if_unused(v);
    pthread_mutex_unlock(&vmm_lock);
    return hipSuccess;
}

hipError_t hipMemExportToShareableHandle(void *shareable, hipMemGenericAllocationHandle_t handle,
                                         hipMemAllocationHandleType type, unsigned long long flags)
{
    struct hsim_vmm *v = (struct hsim_vmm *)handle;
    if (!shareable || flags != 0)
        return hipErrorInvalidValue;
    hipError_t r = hipErrorInvalidValue;
    pthread_mutex_lock(&vmm_lock);
    if (!v || !hsim_handle_live(v, HSIM_H_VMM))
        goto out;
    r = hipErrorNotSupported;
    if ((int)type != HANDLE_POSIX_FD || !(v->handle_types & HANDLE_POSIX_FD))
        goto out;
    r = hipErrorOutOfMemory;
    if (!v->shared_key) {
        uint64_t key = sim_vmm_key(v->fd);
        int moved = key ? sim_shared_export(hsim_devices[v->dev].phys, key, v->bytes) : -1;
        if (moved < 0)
            goto out;
        if (moved == 0)
            hsim_vram_give(v->dev, v->bytes);
        v->shared_key = key;
    }
    int fd = sim_vmm_reopen(v->fd);
    if (fd < 0)
        goto out;
    *(int *)shareable = fd;
    r = hipSuccess;
out:
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

hipError_t hipMemImportFromShareableHandle(hipMemGenericAllocationHandle_t *handle, void *os_handle,
                                           hipMemAllocationHandleType type)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!handle)
        return hipErrorInvalidValue;
    if ((int)type != HANDLE_POSIX_FD)
        return hipErrorNotSupported;
    int given = (int)(intptr_t)os_handle;
    uint64_t bytes = 0;
    int phys = sim_vmm_exported(given, &bytes);
    if (phys < 0)
        return hipErrorInvalidValue;
    int dev = -1;
    for (int d = 0; d < hsim_device_count && dev < 0; d++)
        if (hsim_devices[d].phys == phys)
            dev = d;
    if (dev < 0)
        return hipErrorNotSupported;
    uint64_t key = sim_vmm_key(given);
    pthread_mutex_lock(&vmm_lock);
    for (struct hsim_vmm *v = physicals; v; v = v->next) {
        if (v->shared_key != key)
            continue;
        if (v->refs++ == 0)
            hsim_handle_add(v, HSIM_H_VMM);
        *handle = (hipMemGenericAllocationHandle_t)v;
        pthread_mutex_unlock(&vmm_lock);
        return hipSuccess;
    }
    struct hsim_vmm *v = calloc(1, sizeof *v); /* still under the lock: one object per key here */
    int fd = v ? sim_vmm_reopen(given) : -1;
    if (fd < 0)
        goto fail;
    int held_phys;
    uint64_t held;
    if (!sim_shared_import(key, &held_phys, &held)) { /* nobody holds it: counted again, here */
        if (!hsim_vram_take(dev, bytes))
            goto fail;
        int moved = sim_shared_export(phys, key, bytes);
        if (moved <= 0)
            hsim_vram_give(dev, bytes);
        if (moved < 0)
            goto fail;
    }
    *v = (struct hsim_vmm){.dev = dev, .bytes = bytes, .refs = 1, .fd = fd, .handle_types = HANDLE_POSIX_FD,
                           .shared_key = key, .next = physicals};
    physicals = v;
    pthread_mutex_unlock(&vmm_lock);
    hsim_handle_add(v, HSIM_H_VMM);
    *handle = (hipMemGenericAllocationHandle_t)v;
    return hipSuccess;
fail:
    pthread_mutex_unlock(&vmm_lock);
    if (fd >= 0)
        close(fd);
    free(v);
    return hipErrorOutOfMemory;
}

hipError_t hipMemGetAllocationPropertiesFromHandle(hipMemAllocationProp *prop, hipMemGenericAllocationHandle_t handle)
{
    struct hsim_vmm *v = (struct hsim_vmm *)handle;
    if (!prop)
        return hipErrorInvalidValue;
    pthread_mutex_lock(&vmm_lock);
    bool live = v && hsim_handle_live(v, HSIM_H_VMM);
    if (live) {
        struct prop_layout l = prop_layout();
        unsigned char *p = (unsigned char *)prop;
        memset(p, 0, sizeof *prop);
        int pinned = 1, device = 1;
        memcpy(p + l.type, &pinned, sizeof pinned);
        memcpy(p + l.location_type, &device, sizeof device);
        memcpy(p + l.location_id, &v->dev, sizeof v->dev);
        memcpy(p + l.handle_types, &v->handle_types, sizeof v->handle_types);
    }
    pthread_mutex_unlock(&vmm_lock);
    return live ? hipSuccess : hipErrorInvalidValue;
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

bool hsim_vmm_mapped(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    bool inside = false;
    pthread_mutex_lock(&vmm_lock);
    for (size_t i = 0; i < mapping_count && !inside; i++)
        inside = a >= mappings[i].va && a - mappings[i].va < mappings[i].size &&
                 n <= mappings[i].size - (a - mappings[i].va);
    pthread_mutex_unlock(&vmm_lock);
    return inside;
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
    if (mmap(ptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, v->fd, (off_t)offset) == MAP_FAILED)
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
