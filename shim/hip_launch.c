/* HIP kernel launches, through every entry point a HIP program uses (hipLaunchKernel, which
 * hipcc's <<<>>> becomes; hipModuleLaunchKernel; hipExtLaunchKernel; cooperative launches; graph
 * launches; and the per-thread-default-stream _spt forms): each passes the launch gate shared with
 * CUDA (launch_gate.h): counted per process, paced by the fair-share pacer and, now and then,
 * timed with HIP events on its stream (shim/hip_vendor.c), like CUDA's launches. A launch the
 * runtime makes on its own behalf, from inside another HIP call, is not counted twice. The
 * _spt forms' NULL stream is the per-thread stream, which is what grey's events are recorded on. */
#include "dedup.h"
#include "hip_shim.h"
#include "launch_gate.h"

GREY_HIP_REAL(hipLaunchKernel);
GREY_HIP_REAL(hipLaunchKernel_spt);
GREY_HIP_REAL(hipModuleLaunchKernel);
GREY_HIP_REAL(hipExtLaunchKernel);
GREY_HIP_REAL(hipLaunchCooperativeKernel);
GREY_HIP_REAL(hipLaunchCooperativeKernel_spt);
GREY_HIP_REAL(hipGraphLaunch);
GREY_HIP_REAL(hipGraphLaunch_spt);

static inline struct grey_launch gate(void *stream)
{
    if (grey_hip_nested())
        return (struct grey_launch){NULL};
    /* With GREY_DEDUP, one tick of the waste patterns' launch clock (HIP gives no parameter
     * layout, so a HIP kernel's arguments are not read: the buffers it uses are not marked). */
    if (grey_dedup_on() && !grey_hip_vendor.capturing(stream))
        grey_dedup_launch_uses(NULL, 0);
    return grey_launch_begin(&grey_hip_vendor, stream);
}

/* What NULL means to an _spt entry point: the calling thread's per-thread stream. */
static inline void *spt_stream(hipStream_t stream)
{
    return stream ? (void *)stream : (void *)hipStreamPerThread;
}

static inline void gate_end(struct grey_launch t, void *stream, hipError_t rc)
{
    grey_launch_end(t, &grey_hip_vendor, stream, rc == hipSuccess);
}

GREY_EXPORT hipError_t hipLaunchKernel(const void *function_address, dim3 grid, dim3 block, void **args,
                                       size_t shared_mem, hipStream_t stream)
{
    if (!grey_hip_available(hipLaunchKernel))
        return hipErrorNotFound;
    struct grey_launch t = gate(stream);
    hipError_t rc = grey_hip_call(hipLaunchKernel, function_address, grid, block, args, shared_mem, stream);
    gate_end(t, stream, rc);
    return rc;
}

GREY_EXPORT hipError_t hipLaunchKernel_spt(const void *function_address, dim3 grid, dim3 block, void **args,
                                           size_t shared_mem, hipStream_t stream)
{
    if (!grey_hip_available(hipLaunchKernel_spt))
        return hipErrorNotFound;
    struct grey_launch t = gate(spt_stream(stream));
    hipError_t rc = grey_hip_call(hipLaunchKernel_spt, function_address, grid, block, args, shared_mem, stream);
    gate_end(t, spt_stream(stream), rc);
    return rc;
}

GREY_EXPORT hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned int gx, unsigned int gy, unsigned int gz,
                                             unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared_mem,
                                             hipStream_t stream, void **params, void **extra)
{
    if (!grey_hip_available(hipModuleLaunchKernel))
        return hipErrorNotFound;
    struct grey_launch t = gate(stream);
    hipError_t rc = grey_hip_call(hipModuleLaunchKernel, f, gx, gy, gz, bx, by, bz, shared_mem, stream, params, extra);
    gate_end(t, stream, rc);
    return rc;
}

GREY_EXPORT hipError_t hipExtLaunchKernel(const void *function_address, dim3 grid, dim3 block, void **args,
                                          size_t shared_mem, hipStream_t stream, hipEvent_t start, hipEvent_t stop,
                                          int flags)
{
    if (!grey_hip_available(hipExtLaunchKernel))
        return hipErrorNotFound;
    struct grey_launch t = gate(stream);
    hipError_t rc = grey_hip_call(hipExtLaunchKernel, function_address, grid, block, args, shared_mem, stream, start, stop, flags);
    gate_end(t, stream, rc);
    return rc;
}

GREY_EXPORT hipError_t hipLaunchCooperativeKernel(const void *f, dim3 grid, dim3 block, void **params,
                                                  unsigned int shared_mem, hipStream_t stream)
{
    if (!grey_hip_available(hipLaunchCooperativeKernel))
        return hipErrorNotFound;
    struct grey_launch t = gate(stream);
    hipError_t rc = grey_hip_call(hipLaunchCooperativeKernel, f, grid, block, params, shared_mem, stream);
    gate_end(t, stream, rc);
    return rc;
}

GREY_EXPORT hipError_t hipLaunchCooperativeKernel_spt(const void *f, dim3 grid, dim3 block, void **params,
                                                      uint32_t shared_mem, hipStream_t stream)
{
    if (!grey_hip_available(hipLaunchCooperativeKernel_spt))
        return hipErrorNotFound;
    struct grey_launch t = gate(spt_stream(stream));
    hipError_t rc = grey_hip_call(hipLaunchCooperativeKernel_spt, f, grid, block, params, shared_mem, stream);
    gate_end(t, spt_stream(stream), rc);
    return rc;
}

/* A graph launch is one launch at the gate, whatever the graph holds (the pacer will weigh it by
 * the device time it takes, which it measures). */
GREY_EXPORT hipError_t hipGraphLaunch(hipGraphExec_t exec, hipStream_t stream)
{
    if (!grey_hip_available(hipGraphLaunch))
        return hipErrorNotFound;
    struct grey_launch t = gate(stream);
    hipError_t rc = grey_hip_call(hipGraphLaunch, exec, stream);
    gate_end(t, stream, rc);
    return rc;
}

GREY_EXPORT hipError_t hipGraphLaunch_spt(hipGraphExec_t exec, hipStream_t stream)
{
    if (!grey_hip_available(hipGraphLaunch_spt))
        return hipErrorNotFound;
    struct grey_launch t = gate(spt_stream(stream));
    hipError_t rc = grey_hip_call(hipGraphLaunch_spt, exec, stream);
    gate_end(t, spt_stream(stream), rc);
    return rc;
}
