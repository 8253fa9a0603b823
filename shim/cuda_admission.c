/* The admission steps every CUDA allocation family shares: the current device and context from
 * the driver, the driver's errors around the vendor-neutral steps of admission.c. */
#include "cuda_shim.h"

bool grey_cuda_current_device(const struct grey_quota *q, int *dev_out)
{
    static void *real_fn;
    PFN_cuCtxGetDevice_v2000 get_device = grey_real(&real_fn, "cuCtxGetDevice");
    CUdevice dev;
    if (!get_device || get_device(&dev) != CUDA_SUCCESS)
        return false;
    *dev_out = (int)dev;
    return grey_self_use_device(q, (int)dev);
}

uint64_t grey_cuda_current_context(void)
{
    static void *real_fn;
    PFN_cuCtxGetCurrent_v4000 get_current = grey_real(&real_fn, "cuCtxGetCurrent");
    CUcontext ctx = NULL;
    if (get_current)
        get_current(&ctx);
    return (uint64_t)(uintptr_t)ctx;
}

/* The steps themselves are vendor-neutral (admission.c); here they get the driver's errors. */
CUresult grey_cuda_admit(struct grey_admission *adm, uint64_t bytes)
{
    int dev;
    bool counted = grey_cuda_current_device(grey_self(), &dev);
    if (grey_admit(adm, counted ? dev : -1, bytes, counted ? grey_cuda_current_context() : 0) != GREY_ADMIT_OK)
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

CUresult grey_cuda_admit_on(struct grey_admission *adm, int dev, uint64_t bytes)
{
    bool counted = grey_self_use_device(grey_self(), dev);
    if (grey_admit(adm, counted ? dev : -1, bytes, counted ? grey_cuda_current_context() : 0) != GREY_ADMIT_OK)
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

void grey_cuda_settle(struct grey_admission *adm, CUresult rc, uint64_t key, enum grey_cuda_api api)
{
    grey_settle(adm, rc == CUDA_SUCCESS, key, (uint32_t)api);
}

bool grey_cuda_untrack(uint64_t key, struct grey_buffer_info *info)
{
    return grey_untrack(key, info);
}

void grey_cuda_forget(bool tracked, const struct grey_buffer_info *info, CUresult rc)
{
    grey_forget(tracked, info, rc == CUDA_SUCCESS);
}

bool grey_cuda_counts_managed(void)
{
    return grey_counts_managed();
}
