/* The admission steps every CUDA allocation family shares: the current device and context (one
 * driver call, shim/cuda_vendor.c), the driver's errors around the vendor-neutral steps of
 * admission.c. */
#include "cuda_shim.h"
#include "vendor.h"

bool grey_cuda_current(const struct grey_quota *q, int *dev, uint64_t *context)
{
    return grey_cuda_vendor.current(dev, context) && grey_self_use_device(q, *dev);
}

CUresult grey_cuda_admit(struct grey_admission *adm, uint64_t bytes)
{
    int dev;
    uint64_t context;
    bool counted = grey_cuda_current(grey_self(), &dev, &context);
    if (grey_admit(adm, counted ? dev : -1, bytes, counted ? context : 0) != GREY_ADMIT_OK)
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

CUresult grey_cuda_admit_on(struct grey_admission *adm, int dev, uint64_t bytes)
{
    int current_dev = -1;
    uint64_t context = 0;
    bool counted = grey_self_use_device(grey_self(), dev);
    if (counted)
        grey_cuda_vendor.current(&current_dev, &context);
    if (grey_admit(adm, counted ? dev : -1, bytes, counted ? context : 0) != GREY_ADMIT_OK)
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
