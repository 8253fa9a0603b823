/* Kernel launches: counted in the ledger slot now; the fair-share pacer will decide here how
 * long a launch waits. */
#include "cuda_shim.h"
#include "dedup.h"
#include "launch_gate.h"

/* The gate is shared with HIP's launches (launch_gate.h). */
static inline void count_launch(void)
{
    grey_launch_gate();
}

GREY_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                    unsigned int bx, unsigned int by, unsigned int bz,
                                    unsigned int shared_mem, CUstream stream, void **params, void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernel_v4000 real = grey_real(&real_fn, "cuLaunchKernel");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    count_launch();
    if (grey_dedup_on()) /* opt-in: which tracked buffers the kernel was given */
        grey_dedup_kernel_args(f, params, extra);
    return real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params, extra);
}

GREY_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                         unsigned int bx, unsigned int by, unsigned int bz,
                                         unsigned int shared_mem, CUstream stream, void **params,
                                         void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernel_v7000_ptsz real = grey_real(&real_fn, "cuLaunchKernel_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    count_launch();
    if (grey_dedup_on()) /* opt-in: which tracked buffers the kernel was given */
        grey_dedup_kernel_args(f, params, extra);
    return real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params, extra);
}
