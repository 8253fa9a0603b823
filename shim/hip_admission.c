/* The admission steps every HIP allocation family shares: the device from the runtime and HIP's
 * errors around the vendor-neutral steps of admission.c. */
#include "hip_shim.h"

__thread unsigned grey_hip_depth __attribute__((tls_model("initial-exec")));

GREY_HIP_REAL(hipRuntimeGetVersion);

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
    int v = 0;
    m = grey_hip_call(hipRuntimeGetVersion, &v) == hipSuccess && v > 0 ? v / 10000000 : 6;
    atomic_store_explicit(&major, m ? m : 6, memory_order_relaxed);
    return m ? m : 6;
}
