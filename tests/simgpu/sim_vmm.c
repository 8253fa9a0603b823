/* Virtual memory management: physical allocations (cuMemCreate) are memfd-backed, counted
 * against VRAM at create and given back at release; address ranges (cuMemAddressReserve) are
 * PROT_NONE reservations; cuMemMap maps the physical memory into them, so two mappings of one
 * handle really share bytes. Copies into mapped ranges are not range-checked by the simulator. */
#include "sim_internal.h"

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
};

static struct sim_physical *physical_from(CUmemGenericAllocationHandle h)
{
    struct sim_physical *p = (struct sim_physical *)(uintptr_t)h;
    return sim_handle_live(p) && p->magic == SIM_VMM_MAGIC ? p : NULL;
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
    *p = (struct sim_physical){.magic = SIM_VMM_MAGIC, .fd = fd, .size = size, .dev = prop->location.id};
    sim_handle_add(p);
    *handle = (CUmemGenericAllocationHandle)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle handle)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    struct sim_physical *p = physical_from(handle);
    if (!p || !sim_handle_take(p))
        return CUDA_ERROR_INVALID_VALUE;
    p->magic = 0;
    close(p->fd);
    sim_vram_release(p->dev, p->size);
    free(p);
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
    struct sim_physical *p = physical_from(handle);
    if (!p || !ptr || size == 0 || flags != 0 || offset > p->size || size > p->size - offset)
        return CUDA_ERROR_INVALID_VALUE;
    void *m = mmap((void *)(uintptr_t)ptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, p->fd, (off_t)offset);
    return m == MAP_FAILED ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemUnmap(CUdeviceptr ptr, size_t size)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ptr || size == 0)
        return CUDA_ERROR_INVALID_VALUE;
    void *m = mmap((void *)(uintptr_t)ptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                   -1, 0);
    return m == MAP_FAILED ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
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
