/* Kernel launches (cuLaunchKernel, cuLaunchKernelEx, cuLaunchCooperativeKernel, each with its
 * _ptsz form): every one passes the launch gate shared with HIP and graph launches
 * (launch_gate.h), which counts it and, when the device is contended, makes it wait its turn
 * (the fair-share pacer, shim/pace.h); the gate's ticket finishes a device-time sample after the
 * launch. */
#include "cuda_shim.h"
#include "dedup.h"
#include "launch_gate.h"

#define OPS (&grey_cuda_vendor)
/* With GREY_DEDUP, which tracked buffers a kernel was given; not for a launch captured into a
 * graph, which runs (and is seen, shim/cuda_graph.c) when the graph is launched. */
/* For the _ptsz entry points the NULL stream is the calling thread's per-thread stream: events
 * that time their kernels must be recorded there, not on the legacy stream. */
#define PER_THREAD(s) ((s) ? (s) : CU_STREAM_PER_THREAD)

GREY_EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                    unsigned int bx, unsigned int by, unsigned int bz,
                                    unsigned int shared_mem, CUstream stream, void **params, void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernel_v4000 real = grey_cuda_real(&real_fn, "cuLaunchKernel");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_launch t = grey_launch_begin(OPS, stream);
    if (grey_dedup_on() && !OPS->capturing(stream))
        grey_dedup_kernel_args(f, params, extra);
    CUresult rc = real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params, extra);
    grey_launch_end(t, OPS, stream, rc == CUDA_SUCCESS);
    return rc;
}

GREY_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                         unsigned int bx, unsigned int by, unsigned int bz,
                                         unsigned int shared_mem, CUstream stream, void **params,
                                         void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernel_v7000_ptsz real = grey_cuda_real(&real_fn, "cuLaunchKernel_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_launch t = grey_launch_begin(OPS, PER_THREAD(stream));
    if (grey_dedup_on() && !OPS->capturing(PER_THREAD(stream)))
        grey_dedup_kernel_args(f, params, extra);
    CUresult rc = real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params, extra);
    grey_launch_end(t, OPS, PER_THREAD(stream), rc == CUDA_SUCCESS);
    return rc;
}

/* The stream is in the launch configuration; a NULL configuration is the driver's error to give. */
static CUstream config_stream(const CUlaunchConfig *config)
{
    return config ? config->hStream : NULL;
}

GREY_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **params, void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernelEx_v11060 real = grey_cuda_real(&real_fn, "cuLaunchKernelEx");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUstream stream = config_stream(config);
    struct grey_launch t = grey_launch_begin(OPS, stream);
    if (grey_dedup_on() && !OPS->capturing(stream))
        grey_dedup_kernel_args(f, params, extra);
    CUresult rc = real(config, f, params, extra);
    grey_launch_end(t, OPS, stream, rc == CUDA_SUCCESS);
    return rc;
}

GREY_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **params, void **extra)
{
    static void *real_fn;
    PFN_cuLaunchKernelEx_v11060_ptsz real = grey_cuda_real(&real_fn, "cuLaunchKernelEx_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUstream stream = PER_THREAD(config_stream(config));
    struct grey_launch t = grey_launch_begin(OPS, stream);
    if (grey_dedup_on() && !OPS->capturing(stream))
        grey_dedup_kernel_args(f, params, extra);
    CUresult rc = real(config, f, params, extra);
    grey_launch_end(t, OPS, stream, rc == CUDA_SUCCESS);
    return rc;
}

GREY_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                               unsigned int bx, unsigned int by, unsigned int bz,
                                               unsigned int shared_mem, CUstream stream, void **params)
{
    static void *real_fn;
    PFN_cuLaunchCooperativeKernel_v9000 real = grey_cuda_real(&real_fn, "cuLaunchCooperativeKernel");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_launch t = grey_launch_begin(OPS, stream);
    if (grey_dedup_on() && !OPS->capturing(stream))
        grey_dedup_kernel_args(f, params, NULL);
    CUresult rc = real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params);
    grey_launch_end(t, OPS, stream, rc == CUDA_SUCCESS);
    return rc;
}

GREY_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                                    unsigned int bx, unsigned int by, unsigned int bz,
                                                    unsigned int shared_mem, CUstream stream, void **params)
{
    static void *real_fn;
    PFN_cuLaunchCooperativeKernel_v9000_ptsz real = grey_cuda_real(&real_fn, "cuLaunchCooperativeKernel_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_launch t = grey_launch_begin(OPS, PER_THREAD(stream));
    if (grey_dedup_on() && !OPS->capturing(PER_THREAD(stream)))
        grey_dedup_kernel_args(f, params, NULL);
    CUresult rc = real(f, gx, gy, gz, bx, by, bz, shared_mem, stream, params);
    grey_launch_end(t, OPS, PER_THREAD(stream), rc == CUDA_SUCCESS);
    return rc;
}
