/* The admission steps every HIP allocation family shares: the device from the runtime, HIP's
 * errors around the vendor-neutral steps of admission.c, and the re-entry mark. */
#include "hip_shim.h"

__thread unsigned grey_hip_depth __attribute__((tls_model("initial-exec")));

bool grey_hip_current_device(int *dev)
{
    static void *real_fn;
    __typeof__(hipGetDevice) *get_device = grey_real(&real_fn, "hipGetDevice");
    int d = -1;
    if (!get_device || get_device(&d) != hipSuccess)
        return false;
    *dev = d;
    return grey_self_use_device(grey_self(), d);
}

hipError_t grey_hip_admit(struct grey_admission *adm, int dev, uint64_t bytes)
{
    if (dev < 0 && !grey_hip_current_device(&dev))
        dev = -1;
    if (grey_admit(adm, dev, bytes, dev >= 0 ? GREY_HIP_CONTEXT(dev) : 0) != GREY_ADMIT_OK)
        return hipErrorOutOfMemory;
    return hipSuccess;
}

int grey_hip_runtime_major(void)
{
    static _Atomic int major;
    int m = atomic_load_explicit(&major, memory_order_relaxed);
    if (m)
        return m;
    static void *real_fn;
    __typeof__(hipRuntimeGetVersion) *get_version = grey_real(&real_fn, "hipRuntimeGetVersion");
    int v = 0;
    m = get_version && get_version(&v) == hipSuccess && v > 0 ? v / 10000000 : 6;
    atomic_store_explicit(&major, m ? m : 6, memory_order_relaxed);
    return m ? m : 6;
}
