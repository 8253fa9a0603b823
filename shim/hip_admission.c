/* The admission steps every HIP allocation family shares: the device from the runtime and HIP's
 * errors around the vendor-neutral steps of admission.c. */
#include "hip_shim.h"

#include "devices.h"

__thread unsigned grey_hip_depth __attribute__((tls_model("initial-exec")));

GREY_HIP_REAL(hipRuntimeGetVersion);

hipError_t grey_hip_admit(struct grey_admission *adm, int ordinal, uint64_t bytes)
{
    int row = -1;
    if (ordinal < 0 && !grey_hip_current(&ordinal, &row))
        ordinal = row = -1;
    else if (row < 0)
        row = grey_device_row(&grey_hip_vendor, ordinal);
    /* A HIP buffer dies with its device (hipDeviceReset): the ordinal is its context. */
    if (grey_admit(adm, row, bytes, row >= 0 ? GREY_HIP_CONTEXT(ordinal) : 0) != GREY_ADMIT_OK)
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
