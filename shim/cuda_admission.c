/* The admission steps every CUDA allocation family shares: the current device and context (one
 * driver call, shim/cuda_vendor.c), the device's GPU row (shim/devices.h), and the driver's
 * errors around the vendor-neutral steps of admission.c. */
#include "cuda_shim.h"
#include "devices.h"
#include "vendor.h"

bool grey_cuda_current(const struct grey_quota *q, int *row, uint64_t *context, int *ordinal)
{
    int dev;
    if (!grey_cuda_vendor.current(&dev, context))
        return false;
    if (ordinal)
        *ordinal = dev;
    *row = grey_device_row(&grey_cuda_vendor, dev);
    return grey_self_use_device(q, *row);
}

int grey_cuda_row(int ordinal)
{
    return grey_device_row(&grey_cuda_vendor, ordinal);
}

CUresult grey_cuda_admit(struct grey_admission *adm, uint64_t bytes)
{
    int row;
    uint64_t context;
    bool counted = grey_cuda_current(grey_self(), &row, &context, NULL);
    if (grey_admit(adm, counted ? row : -1, bytes, counted ? context : 0) != GREY_ADMIT_OK)
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

CUresult grey_cuda_admit_on(struct grey_admission *adm, int ordinal, uint64_t bytes)
{
    int current_dev = -1;
    uint64_t context = 0;
    int row = grey_cuda_row(ordinal);
    bool counted = grey_self_use_device(grey_self(), row);
    if (counted)
        grey_cuda_vendor.current(&current_dev, &context);
    if (grey_admit(adm, counted ? row : -1, bytes, counted ? context : 0) != GREY_ADMIT_OK)
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
