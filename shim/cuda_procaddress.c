/* cuGetProcAddress: the third way to the driver, and since CUDA 11.3 the only one the CUDA
 * runtime uses. The driver picks the right version of the function (cuMemAlloc -> _v2,
 * per-thread-stream -> _ptsz); we then swap the pointer it chose for our wrapper of the same
 * function, recognised by address. That keeps the driver's version rules authoritative instead
 * of re-implementing them. */
#include "cuda_shim.h"

#include "core/log.h"
#include "intercept.h"

/* A base name grey intercepts but whose returned pointer it does not recognise: a newer version
 * than grey knows. Say so once per name; those calls are not capped. */
static void warn_unrecognised(const char *symbol, int version)
{
    if (grey_first_time(symbol))
        grey_warn("cuGetProcAddress(%s, %d) returned a version of %s grey does not know; calls through "
                  "it are not capped", symbol, version, symbol);
}

static void swap_for_wrapper(const char *symbol, void **pfn, int version)
{
    if (!symbol || !pfn || !*pfn)
        return;
    void *mine = grey_intercept_by_address(GREY_LIB_CUDA, *pfn);
    if (mine)
        *pfn = mine;
    else if (grey_intercept_covers_base(symbol))
        warn_unrecognised(symbol, version);
}

GREY_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, cuuint64_t flags)
{
    static void *real_fn;
    PFN_cuGetProcAddress_v11030 real = grey_cuda_real(&real_fn, "cuGetProcAddress");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(symbol, pfn, version, flags);
    if (rc == CUDA_SUCCESS)
        swap_for_wrapper(symbol, pfn, version);
    return rc;
}

GREY_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                                         CUdriverProcAddressQueryResult *status)
{
    static void *real_fn;
    PFN_cuGetProcAddress_v12000 real = grey_cuda_real(&real_fn, "cuGetProcAddress_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(symbol, pfn, version, flags, status);
    if (rc == CUDA_SUCCESS)
        swap_for_wrapper(symbol, pfn, version);
    return rc;
}
