/* The vendor-neutral admission steps (see admission.h). */
#include "admission.h"


#include "policy/quota.h"
#include "track.h"
#include "vmm_share.h"

int grey_admit(struct grey_admission *adm, int dev, uint64_t bytes, uint64_t context)
{
    grey_vmm_share_settle(); /* shared VMM memory nobody holds any more goes back first */
    adm->q = grey_self();
    adm->dev = dev;
    adm->counted = grey_self_use_device(adm->q, dev);
    adm->bytes = bytes;
    adm->pool = 0;
    adm->context = context;
    if (!adm->counted)
        return GREY_ADMIT_OK;
    if (quota_reserve(adm->q, adm->dev, bytes) != GREY_ADMITTED) {
        adm->counted = false;
        return GREY_ADMIT_DENIED;
    }
    return GREY_ADMIT_OK;
}

void grey_settle(struct grey_admission *adm, bool succeeded, uint64_t key, uint32_t api)
{
    if (!adm->counted)
        return;
    if (!succeeded) {
        quota_release(adm->q, adm->dev, adm->bytes);
        return;
    }
    quota_commit(adm->q, adm->dev);
    struct grey_buffer_info info = {
        .addr = key, .bytes = adm->bytes, .context = adm->context, .pool = adm->pool,
        .device = (uint32_t)adm->dev, .api = api,
    };
    /* Without a record the free could not give the bytes back; keep them counted (the cap errs
     * on the safe side) rather than fail an allocation the vendor already made. grey_track_new
     * adds the call site and time the buffer report needs (track.h). */
    grey_track_new(&info);
}

void grey_settle_part(const struct grey_admission *whole, uint64_t bytes, uint64_t key, uint32_t api)
{
    struct grey_admission part = *whole;
    part.bytes = bytes;
    grey_settle(&part, true, key, api);
}

int grey_admit_resize(struct grey_admission *adm, uint64_t actual)
{
    if (!adm->counted)
        return GREY_ADMIT_OK;
    if (actual > adm->bytes) {
        if (quota_reserve(adm->q, adm->dev, actual - adm->bytes) != GREY_ADMITTED) {
            quota_release(adm->q, adm->dev, adm->bytes);
            adm->counted = false;
            return GREY_ADMIT_DENIED;
        }
    } else {
        quota_release(adm->q, adm->dev, adm->bytes - actual);
    }
    adm->bytes = actual;
    return GREY_ADMIT_OK;
}

bool grey_untrack(uint64_t key, struct grey_buffer_info *info)
{
    return tracker_remove(key, info);
}

void grey_forget(bool tracked, const struct grey_buffer_info *info, bool succeeded)
{
    if (!tracked)
        return;
    if (succeeded) {
        quota_free(grey_self(), (int)info->device, info->bytes);
        tracker_retire(info);
    } else {
        tracker_add(info);
    }
}

uint64_t grey_array_bytes(uint64_t width, uint64_t height, uint64_t depth, uint64_t element, unsigned levels)
{
    uint64_t total = 0, w = width ? width : 1, h = height ? height : 1, d = depth ? depth : 1;
    if (!element)
        element = 1;
    for (unsigned level = 0; level < (levels ? levels : 1); level++) {
        uint64_t bytes;
        if (__builtin_mul_overflow(w, h, &bytes) || __builtin_mul_overflow(bytes, d, &bytes) ||
            __builtin_mul_overflow(bytes, element, &bytes) || __builtin_add_overflow(total, bytes, &total))
            return UINT64_MAX;
        w = w > 1 ? w / 2 : 1;
        h = h > 1 ? h / 2 : 1;
        d = d > 1 ? d / 2 : 1;
    }
    return total;
}
