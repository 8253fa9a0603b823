/* hipGetProcAddress (ROCm 6.1+) and its per-thread-default-stream form (7.2): how Triton, and
 * frameworks on ROCm 7 generally, reach every HIP function. Mirrors cuda_procaddress.c: the
 * runtime picks the function (hipGetDeviceProperties at version 600 is ...R0600, the per-thread
 * flag picks _spt), and grey swaps the pointer it chose for its wrapper of that same function,
 * recognised by address among the hip* rows. HIP looks the name up with dlsym on its own handle,
 * which under LD_PRELOAD already reaches grey's dlsym; the swap covers LD_AUDIT and any other way
 * the runtime's own pointer comes back. */
#include "hip_shim.h"

#include "core/log.h"
#include "intercept.h"

GREY_HIP_REAL(hipGetProcAddress);
GREY_HIP_REAL(hipGetProcAddress_spt);

static void warn_unrecognised(const char *symbol, int version)
{
    if (grey_first_time(symbol))
        grey_warn("hipGetProcAddress(%s, %d) returned a version of %s grey does not know; calls through it "
                  "are not capped", symbol, version, symbol);
}

static void swap_for_wrapper(const char *symbol, void **pfn, int version)
{
    if (!symbol || !pfn || !*pfn)
        return;
    void *mine = grey_intercept_by_address(GREY_LIB_HIP, *pfn);
    if (mine)
        *pfn = mine;
    else if (grey_intercept_covers_base(symbol))
        warn_unrecognised(symbol, version);
}

GREY_EXPORT hipError_t hipGetProcAddress(const char *symbol, void **pfn, int version, uint64_t flags, int *status)
{
    hipError_t rc = grey_hip_call(hipGetProcAddress, symbol, pfn, version, flags, status);
    if (rc == hipSuccess)
        swap_for_wrapper(symbol, pfn, version);
    return rc;
}

GREY_EXPORT hipError_t hipGetProcAddress_spt(const char *symbol, void **pfn, int version, uint64_t flags,
                                             int *status)
{
    hipError_t rc = grey_hip_call(hipGetProcAddress_spt, symbol, pfn, version, flags, status);
    if (rc == hipSuccess)
        swap_for_wrapper(symbol, pfn, version);
    return rc;
}
