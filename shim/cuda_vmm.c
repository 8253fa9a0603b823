/* Virtual memory management (cuMemCreate, cuMemMap, cuMemUnmap, cuMemRelease).
 *
 * Physical memory is what costs VRAM: cuMemCreate counts its size. The driver frees it only when
 * the handle is released (as often as cuMemRetainAllocationHandle handed it out again) and its
 * last mapping is unmapped, and the programming guide's pattern releases the handle right after
 * mapping it; so the bytes stay counted until whichever of the last release and the last unmap
 * comes second (shim/vmm_table.h). Memory shared with other processes through file descriptors
 * (export, import) is counted once for the node, by its creator, until nobody holds it
 * (shim/vmm_share.h). Reserving address space costs nothing and passes straight through. */
#include "core/log.h"
#include "cuda_shim.h"
#include "vmm_share.h"
#include "vmm_table.h"

GREY_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size, const CUmemAllocationProp *prop,
                                 unsigned long long flags)
{
    static void *real_fn;
    PFN_cuMemCreate_v10020 real = grey_cuda_real(&real_fn, "cuMemCreate");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    /* Only device memory counts; pinned host memory made through VMM does not. */
    if (!handle || !prop || size == 0 || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return real(handle, size, prop, flags);
    struct grey_admission adm;
    if (grey_cuda_admit_on(&adm, prop->location.id, size) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    grey_vmm_lock(); /* a handle value freed by a concurrent unmap is tracked again only after it */
    CUresult rc = real(handle, size, prop, flags);
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? GREY_KEY_VMM(*handle) : 0, GREY_API_MEM_CREATE);
    grey_vmm_unlock();
    return rc;
}

/* This process holds nothing of key any more (no reference, no mapping): the driver freed it,
 * unless it was shared, and others still hold it (then it stays counted here, vmm_share.h). */
static void vmm_freed(uint64_t key)
{
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack(key, &info);
    if (!grey_vmm_share_freed(key, tracked, &info))
        grey_cuda_forget(tracked, &info, CUDA_SUCCESS);
}

GREY_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
    static void *real_fn;
    PFN_cuMemRelease_v10020 real = grey_cuda_real(&real_fn, "cuMemRelease");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    uint64_t key = GREY_KEY_VMM(handle);
    grey_vmm_share_settle();
    grey_vmm_lock();
    CUresult rc;
    if (grey_vmm_known(key)) { /* mapped or retained: the memory goes when nothing keeps it */
        rc = real(handle);
        if (rc == CUDA_SUCCESS && grey_vmm_released(key))
            vmm_freed(key);
    } else {
        struct grey_buffer_info info;
        bool tracked = grey_cuda_untrack(key, &info);
        rc = real(handle);
        if (rc != CUDA_SUCCESS || !grey_vmm_share_freed(key, tracked, &info))
            grey_cuda_forget(tracked, &info, rc);
    }
    grey_vmm_unlock();
    return rc;
}

/* An import nobody else is known to count (vmm_share.h): this process pays for it at its first
 * mapping, as much as that mapping reaches into it (the driver tells an importer no size). */
static CUresult pay_import(struct grey_admission *adm, CUmemGenericAllocationHandle handle, uint64_t bytes)
{
    static void *real_fn;
    PFN_cuMemGetAllocationPropertiesFromHandle_v10020 props =
        grey_cuda_real(&real_fn, "cuMemGetAllocationPropertiesFromHandle");
    CUmemAllocationProp prop;
    int ordinal = -1;
    if (props && props(&prop, handle) == CUDA_SUCCESS && prop.location.type == CU_MEM_LOCATION_TYPE_DEVICE)
        ordinal = prop.location.id;
    return grey_cuda_admit_on(adm, ordinal, bytes);
}

GREY_EXPORT CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                              unsigned long long flags)
{
    static void *real_fn;
    PFN_cuMemMap_v10020 real = grey_cuda_real(&real_fn, "cuMemMap");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    uint64_t key = GREY_KEY_VMM(handle);
    grey_vmm_share_settle();
    grey_vmm_lock();
    struct grey_admission adm;
    bool paying = grey_vmm_share_is_unpaid(key);
    if (paying && pay_import(&adm, handle, offset + size) != CUDA_SUCCESS) {
        grey_vmm_unlock();
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    CUresult rc = real(ptr, size, offset, handle, flags);
    if (paying) {
        grey_cuda_settle(&adm, rc, key, GREY_API_MEM_CREATE);
        if (rc == CUDA_SUCCESS)
            grey_vmm_share_paid(key);
    }
    if (rc == CUDA_SUCCESS && grey_vmm_add_mapping(ptr, size, key) != 0)
        grey_log("out of memory recording a VMM mapping: its bytes go back at cuMemRelease");
    grey_vmm_unlock();
    return rc;
}

/* The handle of a mapped address, handed out again: one more cuMemRelease before it is freed. */
GREY_EXPORT CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
    static void *real_fn;
    PFN_cuMemRetainAllocationHandle_v11000 real = grey_cuda_real(&real_fn, "cuMemRetainAllocationHandle");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    grey_vmm_share_settle();
    grey_vmm_lock();
    CUresult rc = real(handle, addr);
    if (rc == CUDA_SUCCESS)
        grey_vmm_retained(GREY_KEY_VMM(*handle));
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
    static void *real_fn;
    PFN_cuMemUnmap_v10020 real = grey_cuda_real(&real_fn, "cuMemUnmap");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    grey_vmm_share_settle();
    grey_vmm_lock();
    CUresult rc = real(ptr, size);
    if (rc == CUDA_SUCCESS)
        grey_vmm_remove_range(ptr, size, vmm_freed);
    grey_vmm_unlock();
    return rc;
}

GREY_EXPORT CUresult cuMemExportToShareableHandle(void *shareable, CUmemGenericAllocationHandle handle,
                                                  CUmemAllocationHandleType type, unsigned long long flags)
{
    static void *real_fn;
    PFN_cuMemExportToShareableHandle_v10020 real = grey_cuda_real(&real_fn, "cuMemExportToShareableHandle");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    grey_vmm_share_settle();
    grey_vmm_lock();
    CUresult rc = real(shareable, handle, type, flags);
    if (rc == CUDA_SUCCESS && type == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
        grey_vmm_share_exported(GREY_KEY_VMM(handle), *(int *)shareable);
    grey_vmm_unlock();
    return rc;
}

/* Nothing is counted here when a hooked creator counts the memory (vmm_share.h): this process
 * only says that it holds it. Otherwise it pays for it itself, from its first mapping. */
GREY_EXPORT CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *handle, void *os_handle,
                                                    CUmemAllocationHandleType type)
{
    static void *real_fn;
    PFN_cuMemImportFromShareableHandle_v10020 real =
        grey_cuda_real(&real_fn, "cuMemImportFromShareableHandle");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    grey_vmm_share_settle();
    grey_vmm_lock();
    CUresult rc = real(handle, os_handle, type);
    if (rc == CUDA_SUCCESS)
        grey_vmm_share_import(GREY_KEY_VMM(*handle), type == CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                              (int)(intptr_t)os_handle);
    grey_vmm_unlock();
    return rc;
}
