/* Virtual memory management: physical allocations (cuMemCreate) are memfd-backed and counted
 * against VRAM from the create until the handle is released (once for cuMemCreate and once per
 * cuMemRetainAllocationHandle) AND its last mapping is unmapped, as the driver API reference says of cuMemRelease ("freed when all outstanding mappings to the
 * memory are unmapped and when all outstanding references to the handle ... are also released")
 * and of cuMemUnmap. Address ranges (cuMemAddressReserve) are PROT_NONE reservations; cuMemMap
 * maps the physical memory into them, so two mappings of one handle really share bytes.
 * cuMemUnmap takes whole mappings only (the reference: it "cannot unmap a sub-range"). Copies
 * into mapped ranges are checked against one mapping (sim_vmm_mapped_range): a copy spanning
 * two adjacent mappings is refused, which a real driver would allow. */
#include "sim_internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
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
};

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
    p->magic = 0;
    close(p->fd);
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
    if (!handle || !prop || size == 0 || size % SIM_VMM_GRANULARITY || flags != 0 ||
        prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return CUDA_ERROR_INVALID_VALUE;
    r = sim_check_device(prop->location.id);
    if (r != CUDA_SUCCESS)
        return r;
    if (!sim_vram_reserve(prop->location.id, size))
        return CUDA_ERROR_OUT_OF_MEMORY;
    struct sim_physical *p = calloc(1, sizeof *p);
    int fd = p ? memfd_create("grey-sim-vmm", MFD_CLOEXEC) : -1;
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        if (fd >= 0)
            close(fd);
        free(p);
        sim_vram_release(prop->location.id, size);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *p = (struct sim_physical){.magic = SIM_VMM_MAGIC, .fd = fd, .size = size, .dev = prop->location.id, .refs = 1};
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
