/* Virtual memory management: physical allocations (cuMemCreate) are memfd-backed and counted
 * against VRAM from the create until the handle is released (once for cuMemCreate and once per
 * cuMemRetainAllocationHandle) AND its last mapping is unmapped, as the driver API reference says of cuMemRelease ("freed when all outstanding mappings to the
 * memory are unmapped and when all outstanding references to the handle ... are also released")
 * and of cuMemUnmap. Address ranges (cuMemAddressReserve) are PROT_NONE reservations; cuMemMap
 * maps the physical memory into them, so two mappings of one handle really share bytes.
 * cuMemUnmap takes whole mappings only (the reference: it "cannot unmap a sub-range"). Copies
 * into mapped ranges are checked against one mapping (sim_vmm_mapped_range): a copy spanning
 * two adjacent mappings is refused, which a real driver would allow.
 *
 * Export and import (POSIX file descriptors only): the descriptor handed out is the allocation's
 * memfd, named after its physical device, and importing it makes a handle of the importing
 * process onto the same bytes. From its first export an allocation is counted once for the
 * node, no longer in its creator's slot (sim_shared.c), until every process that holds it lets go;
 * a process importing what it already holds gets its own handle back, with one more reference. */
#include "sim_internal.h"
#include "sim_node.h"
#include "sim_usage.h"
#include "sim_vmm_fd.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIM_VMM_GRANULARITY (2ull << 20)
#define SIM_VMM_MAGIC 0x475245595650484dULL /* "GREYVPHM" */

struct sim_physical {
    uint64_t magic;
    int fd;
    size_t size;
    CUdevice dev;
    unsigned refs; /* unreleased references: 1 from cuMemCreate, +1 per cuMemRetainAllocationHandle */
    unsigned maps; /* live mappings of it */
    unsigned long long handle_types; /* requestedHandleTypes at cuMemCreate */
    uint64_t shared_key;             /* not 0: exported or imported, counted in sim_shared.c */
    struct sim_physical *next;       /* every allocation this process still holds */
};
static struct sim_physical *physicals;

/* Every live mapping, so that cuMemUnmap knows which physical allocations it lets go of. A
 * physical allocation whose handle is released is reached only through here. */
struct sim_mapping {
    uintptr_t va;
    size_t size;
    struct sim_physical *phys;
};
static struct sim_mapping *mappings;
static size_t mapping_count, mapping_cap;
static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;

/* The memory goes back to the device once nothing refers to it any more. Under vmm_lock. */
static void physical_free_if_unused(struct sim_physical *p)
{
    if (p->refs || p->maps)
        return;
    for (struct sim_physical **at = &physicals; *at; at = &(*at)->next)
        if (*at == p) {
            *at = p->next;
            break;
        }
    p->magic = 0;
    close(p->fd);
    if (p->shared_key)
        sim_shared_leave(p->shared_key);
    else
        sim_vram_release(p->dev, p->size);
    free(p);
}

static struct sim_physical *physical_from(CUmemGenericAllocationHandle h)
{
    struct sim_physical *p = (struct sim_physical *)(uintptr_t)h;
    return sim_handle_live(p) && p->magic == SIM_VMM_MAGIC ? p : NULL;
}

bool sim_vmm_mapped_range(CUdeviceptr ptr, size_t n)
{
    bool inside = false;
    pthread_mutex_lock(&vmm_lock);
    for (size_t i = 0; i < mapping_count && !inside; i++)
        inside = ptr >= mappings[i].va && n <= mappings[i].size - (ptr - mappings[i].va) &&
                 ptr - mappings[i].va < mappings[i].size;
    pthread_mutex_unlock(&vmm_lock);
    return inside;
}

bool sim_vmm_mapping_of(CUdeviceptr ptr, uintptr_t *base, size_t *size)
{
    bool found = false;
    pthread_mutex_lock(&vmm_lock);
    for (size_t i = 0; i < mapping_count && !found; i++) {
        found = ptr >= mappings[i].va && ptr - mappings[i].va < mappings[i].size;
        if (found) {
            *base = mappings[i].va;
            *size = mappings[i].size;
        }
    }
    pthread_mutex_unlock(&vmm_lock);
    return found;
}

CUresult CUDAAPI cuMemGetAllocationGranularity(size_t *granularity, const CUmemAllocationProp *prop,
                                               CUmemAllocationGranularity_flags option)
{
    (void)option;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!granularity || !prop)
        return CUDA_ERROR_INVALID_VALUE;
    *granularity = SIM_VMM_GRANULARITY;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size, const CUmemAllocationProp *prop,
                             unsigned long long flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    const unsigned long long known_types = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR | CU_MEM_HANDLE_TYPE_WIN32 |
                                           CU_MEM_HANDLE_TYPE_WIN32_KMT | CU_MEM_HANDLE_TYPE_FABRIC;
    if (!handle || !prop || size == 0 || size % SIM_VMM_GRANULARITY || flags != 0 ||
        prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
        (prop->requestedHandleTypes & ~known_types))
        return CUDA_ERROR_INVALID_VALUE;
    /* Windows handles on Linux, and fabric handles without an IMEX channel, which this node has not. */
    if (prop->requestedHandleTypes & ~(unsigned long long)CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
        return CUDA_ERROR_NOT_SUPPORTED;
    r = sim_check_device(prop->location.id);
    if (r != CUDA_SUCCESS)
        return r;
    if (!sim_vram_reserve(prop->location.id, size))
        return CUDA_ERROR_OUT_OF_MEMORY;
    struct sim_physical *p = calloc(1, sizeof *p);
    int fd = p ? sim_vmm_memfd(sim_devices[prop->location.id].phys, size) : -1;
    if (fd < 0) {
        free(p);
        sim_vram_release(prop->location.id, size);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *p = (struct sim_physical){.magic = SIM_VMM_MAGIC, .fd = fd, .size = size, .dev = prop->location.id, .refs = 1,
                               .handle_types = prop->requestedHandleTypes};
    pthread_mutex_lock(&vmm_lock);
    p->next = physicals;
    physicals = p;
    pthread_mutex_unlock(&vmm_lock);
    sim_handle_add(p);
    *handle = (CUmemGenericAllocationHandle)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle handle)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&vmm_lock);
    struct sim_physical *p = physical_from(handle);
    if (!p || p->refs == 0) {
        pthread_mutex_unlock(&vmm_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (--p->refs == 0) /* the handle dies with its last reference; the memory with its last mapping */
        sim_handle_take(p);
    physical_free_if_unused(p);
    pthread_mutex_unlock(&vmm_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment, CUdeviceptr addr,
                                     unsigned long long flags)
{
    (void)alignment;
    (void)addr;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ptr || size == 0 || size % SIM_VMM_GRANULARITY || flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *ptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ptr || size == 0 || munmap((void *)(uintptr_t)ptr, size) != 0)
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                          unsigned long long flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&vmm_lock);
    struct sim_physical *p = physical_from(handle);
    r = CUDA_ERROR_INVALID_VALUE;
    if (!p || !ptr || size == 0 || flags != 0 || offset > p->size || size > p->size - offset)
        goto out;
    for (size_t i = 0; i < mapping_count; i++) /* a mapped range must be unmapped first */
        if (mappings[i].va < ptr + size && ptr < mappings[i].va + mappings[i].size)
            goto out;
    if (mapping_count == mapping_cap) {
        size_t cap = mapping_cap ? mapping_cap * 2 : 64;
        struct sim_mapping *grown = realloc(mappings, cap * sizeof *grown);
        if (!grown) {
            r = CUDA_ERROR_OUT_OF_MEMORY;
            goto out;
        }
        mappings = grown;
        mapping_cap = cap;
    }
    void *m = mmap((void *)(uintptr_t)ptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, p->fd, (off_t)offset);
    if (m == MAP_FAILED)
        goto out;
    mappings[mapping_count++] = (struct sim_mapping){ptr, size, p};
    p->maps++;
    r = CUDA_SUCCESS;
out:
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

CUresult CUDAAPI cuMemUnmap(CUdeviceptr ptr, size_t size)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ptr || size == 0)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    /* The range must be made of whole mappings: none may stick out of it, and it must hold one. */
    size_t inside = 0;
    for (size_t i = 0; i < mapping_count; i++) {
        const struct sim_mapping *m = &mappings[i];
        if (m->va >= ptr + size || ptr >= m->va + m->size)
            continue;
        if (m->va < ptr || m->va + m->size > ptr + size) {
            pthread_mutex_unlock(&vmm_lock);
            return CUDA_ERROR_INVALID_VALUE;
        }
        inside++;
    }
    void *m = inside ? mmap((void *)(uintptr_t)ptr, size, PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0)
                     : MAP_FAILED;
    if (m == MAP_FAILED) {
        pthread_mutex_unlock(&vmm_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (size_t i = 0; i < mapping_count;) {
        struct sim_mapping *map = &mappings[i];
        if (map->va >= ptr + size || ptr >= map->va + map->size) {
            i++;
            continue;
        }
        struct sim_physical *p = map->phys;
        *map = mappings[--mapping_count];
        p->maps--;
        physical_free_if_unused(p);
    }
    pthread_mutex_unlock(&vmm_lock);
    return CUDA_SUCCESS;
}

/* The handle mapped at addr, again (the reference: "the same handle value used to map the
 * memory"), with one more reference for cuMemRelease to drop; an address that is not mapped
 * fails (the reference does not name the error: CUDA_ERROR_INVALID_VALUE). A handle whose
 * references were all released while still mapped comes back to life. */
CUresult CUDAAPI cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!handle)
        return CUDA_ERROR_INVALID_VALUE;
    uintptr_t a = (uintptr_t)addr;
    r = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    for (size_t i = 0; i < mapping_count; i++) {
        struct sim_physical *p = mappings[i].phys;
        if (a < mappings[i].va || a - mappings[i].va >= mappings[i].size)
            continue;
        if (p->refs++ == 0)
            sim_handle_add(p);
        *handle = (CUmemGenericAllocationHandle)(uintptr_t)p;
        r = CUDA_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

CUresult CUDAAPI cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc *desc, size_t count)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ptr || size == 0 || !desc || count == 0)
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemExportToShareableHandle(void *shareable, CUmemGenericAllocationHandle handle,
                                              CUmemAllocationHandleType type, unsigned long long flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!shareable || flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    struct sim_physical *p = physical_from(handle);
    r = CUDA_ERROR_INVALID_VALUE;
    if (!p)
        goto out;
    r = CUDA_ERROR_NOT_SUPPORTED; /* only what cuMemCreate was asked for, and fds only here */
    if (type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR || !(p->handle_types & type))
        goto out;
    r = CUDA_ERROR_OUT_OF_MEMORY;
    if (!p->shared_key) {
        uint64_t key = sim_vmm_key(p->fd);
        int moved = key ? sim_shared_export(sim_devices[p->dev].phys, key, p->size) : -1;
        if (moved < 0)
            goto out;
        if (moved == 0) /* counted in the node's row already: not in this slot as well */
            sim_vram_release(p->dev, p->size);
        p->shared_key = key;
    }
    /* A new open of the memfd each time, as the driver opens /dev/nvidiactl anew for each export:
     * the descriptor handed out shares nothing with this process's own. */
    int fd = sim_vmm_reopen(p->fd);
    if (fd < 0)
        goto out;
    *(int *)shareable = fd;
    r = CUDA_SUCCESS;
out:
    pthread_mutex_unlock(&vmm_lock);
    return r;
}

/* The shareable handle of a POSIX fd is the descriptor itself, passed as the pointer's value. */
CUresult CUDAAPI cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle, void *os_handle,
                                                CUmemAllocationHandleType type)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!handle)
        return CUDA_ERROR_INVALID_VALUE;
    if (type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
        return CUDA_ERROR_NOT_SUPPORTED;
    int given = (int)(intptr_t)os_handle;
    uint64_t bytes = 0;
    int phys = sim_vmm_exported(given, &bytes);
    if (phys < 0)
        return CUDA_ERROR_INVALID_VALUE;
    CUdevice dev = -1;
    for (int d = 0; d < sim_device_count && dev < 0; d++)
        if (sim_devices[d].phys == phys)
            dev = d;
    if (dev < 0) /* memory of a GPU this process does not see */
        return CUDA_ERROR_NOT_SUPPORTED;
    uint64_t key = sim_vmm_key(given);
    pthread_mutex_lock(&vmm_lock);
    for (struct sim_physical *p = physicals; p; p = p->next) {
        if (p->shared_key != key)
            continue;
        if (p->refs++ == 0) /* held only by its mappings until now */
            sim_handle_add(p);
        *handle = (CUmemGenericAllocationHandle)(uintptr_t)p;
        pthread_mutex_unlock(&vmm_lock);
        return CUDA_SUCCESS;
    }
    r = CUDA_ERROR_OUT_OF_MEMORY;
    struct sim_physical *p = calloc(1, sizeof *p);
    int fd = p ? sim_vmm_reopen(given) : -1; /* this process's own open, kept while it holds the memory */
    if (fd < 0)
        goto fail;
    int held_phys;
    uint64_t held;
    /* Nobody holds it any more (only descriptors kept it): its bytes are counted again, here. */
    if (!sim_shared_import(key, &held_phys, &held)) {
        if (!sim_vram_reserve(dev, bytes))
            goto fail;
        int moved = sim_shared_export(phys, key, bytes);
        if (moved <= 0) /* failed, or another importer made the row meanwhile */
            sim_vram_release(dev, bytes);
        if (moved < 0)
            goto fail;
    }
    *p = (struct sim_physical){.magic = SIM_VMM_MAGIC, .fd = fd, .size = (size_t)bytes, .dev = dev, .refs = 1,
                               .handle_types = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, .shared_key = key,
                               .next = physicals};
    physicals = p;
    sim_handle_add(p);
    *handle = (CUmemGenericAllocationHandle)(uintptr_t)p;
    pthread_mutex_unlock(&vmm_lock);
    return CUDA_SUCCESS;
fail:
    pthread_mutex_unlock(&vmm_lock);
    if (fd >= 0)
        close(fd);
    free(p);
    return r;
}

CUresult CUDAAPI cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop, CUmemGenericAllocationHandle handle)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!prop)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&vmm_lock);
    struct sim_physical *p = physical_from(handle);
    if (p) {
        memset(prop, 0, sizeof *prop);
        prop->type = CU_MEM_ALLOCATION_TYPE_PINNED;
        prop->location.type = CU_MEM_LOCATION_TYPE_DEVICE;
        prop->location.id = p->dev;
        prop->requestedHandleTypes = (CUmemAllocationHandleType)p->handle_types;
    }
    pthread_mutex_unlock(&vmm_lock);
    return p ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
