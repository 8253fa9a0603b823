/* The reserve / call / commit-or-release steps shared by every allocation family. */
#include "cuda_shim.h"

#include <stdlib.h>
#include <string.h>

#include "../policy/quota.h"

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

static uint64_t current_context(void)
{
    static void *real_fn;
    PFN_cuCtxGetCurrent_v4000 get_current = grey_real(&real_fn, "cuCtxGetCurrent");
    CUcontext ctx = NULL;
    if (get_current)
        get_current(&ctx);
    return (uint64_t)(uintptr_t)ctx;
}

static CUresult admit(struct grey_admission *adm, uint64_t bytes)
{
    adm->bytes = bytes;
    adm->pool = 0;
    if (!adm->counted)
        return CUDA_SUCCESS;
    adm->context = current_context();
    if (quota_reserve(adm->q, adm->dev, bytes) != GREY_ADMITTED) {
        adm->counted = false;
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

CUresult grey_cuda_admit(struct grey_admission *adm, uint64_t bytes)
{
    adm->q = grey_self();
    adm->counted = grey_cuda_current_device(adm->q, &adm->dev);
    return admit(adm, bytes);
}

CUresult grey_cuda_admit_on(struct grey_admission *adm, int dev, uint64_t bytes)
{
    adm->q = grey_self();
    adm->dev = dev;
    adm->counted = grey_self_use_device(adm->q, dev);
    return admit(adm, bytes);
}

void grey_cuda_settle(struct grey_admission *adm, CUresult rc, uint64_t key, enum grey_cuda_api api)
{
    if (!adm->counted)
        return;
    if (rc != CUDA_SUCCESS) {
        quota_release(adm->q, adm->dev, adm->bytes);
        return;
    }
    quota_commit(adm->q, adm->dev);
    struct grey_buffer_info info = {
        .addr = key, .bytes = adm->bytes, .context = adm->context, .pool = adm->pool,
        .device = (uint32_t)adm->dev, .api = api,
    };
    /* Without a record the free could not give the bytes back; keep them counted (the cap errs
     * on the safe side) rather than fail an allocation the driver already made. */
    tracker_add(&info);
}

bool grey_cuda_untrack(uint64_t key, struct grey_buffer_info *info)
{
    return tracker_remove(key, info);
}

void grey_cuda_forget(bool tracked, const struct grey_buffer_info *info, CUresult rc)
{
    if (!tracked)
        return;
    if (rc == CUDA_SUCCESS)
        quota_free(grey_self(), (int)info->device, info->bytes);
    else
        tracker_add(info);
}

bool grey_cuda_counts_managed(void)
{
    static int counts = -1;
    if (counts < 0) {
        const char *env = getenv("GREY_COUNT_MANAGED");
        counts = !(env && strcmp(env, "0") == 0);
    }
    return counts;
}
