/* Simulated HIP modules, kernel launches and graphs. Kernels are empty; every launch entry point
 * checks its arguments as HIP does and queues its kernel on the device timeline shared with the
 * simulated CUDA driver (hsim_time.c): GREY_SIM_KERNEL_US long, or N us for a module function
 * whose name ends in _usN (as sim_module.c's), so that HIP kernels occupy simulated device time. */
#include "hsim.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ modules */

struct hsim_function {
    int64_t name_ns; /* the duration the name asks for (a "_us500" suffix), -1: none */
};

static int64_t duration_from_name(const char *name)
{
    const char *us = NULL;
    for (const char *p = strstr(name, "_us"); p; p = strstr(p + 1, "_us"))
        us = p;
    if (!us || !us[3])
        return -1;
    int64_t v = 0;
    for (const char *p = us + 3; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v * 1000;
}

hipError_t hipModuleLoadData(hipModule_t *module, const void *image)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!module || !image)
        return hipErrorInvalidValue;
    void *m = calloc(1, 16);
    if (!m)
        return hipErrorOutOfMemory;
    hsim_handle_add(m, HSIM_H_MODULE);
    *module = m;
    return hipSuccess;
}

hipError_t hipModuleGetFunction(hipFunction_t *function, hipModule_t module, const char *name)
{
    if (!function || !name || !*name)
        return hipErrorInvalidValue;
    if (!hsim_handle_live(module, HSIM_H_MODULE))
        return hipErrorInvalidHandle;
    struct hsim_function *f = calloc(1, sizeof *f);
    if (!f)
        return hipErrorOutOfMemory;
    f->name_ns = duration_from_name(name);
    hsim_handle_add(f, HSIM_H_FUNCTION);
    *function = (hipFunction_t)f;
    return hipSuccess;
}

hipError_t hipModuleUnload(hipModule_t module)
{
    if (!hsim_handle_take(module, HSIM_H_MODULE))
        return hipErrorInvalidHandle;
    free(module);
    return hipSuccess;
}

/* ------------------------------------------------------------------ launches */

/* What every launch checks: an initialized runtime, a kernel, a sane shape and a valid stream. */
static hipError_t check_launch(bool have_kernel, dim3 grid, dim3 block, hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!have_kernel)
        return hipErrorInvalidDeviceFunction;
    if (!grid.x || !grid.y || !grid.z || !block.x || !block.y || !block.z ||
        (uint64_t)block.x * block.y * block.z > 1024)
        return hipErrorInvalidValue;
    return hsim_stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle;
}

/* A checked launch of a kernel taking ns (-1: GREY_SIM_KERNEL_US) on stream. */
static hipError_t launch(hipError_t checked, hipStream_t stream, int64_t ns)
{
    if (checked == hipSuccess)
        hsim_kernel(stream, ns >= 0 ? (uint64_t)ns : hsim_kernel_default_ns());
    return checked;
}

hipError_t hipLaunchKernel(const void *function_address, dim3 grid, dim3 block, void **args, size_t shared_mem,
                           hipStream_t stream)
{
    (void)args;
    (void)shared_mem;
    return launch(check_launch(function_address != NULL, grid, block, stream), stream, -1);
}

hipError_t hipLaunchKernel_spt(const void *function_address, dim3 grid, dim3 block, void **args, size_t shared_mem,
                               hipStream_t stream)
{
    return hipLaunchKernel(function_address, grid, block, args, shared_mem, stream);
}

hipError_t hipExtLaunchKernel(const void *function_address, dim3 grid, dim3 block, void **args, size_t shared_mem,
                              hipStream_t stream, hipEvent_t start, hipEvent_t stop, int flags)
{
    (void)args;
    (void)shared_mem;
    (void)flags;
    hipError_t r = check_launch(function_address != NULL, grid, block, stream);
    if (r == hipSuccess && start)
        r = hipEventRecord(start, stream);
    r = launch(r, stream, -1);
    if (r == hipSuccess && stop)
        r = hipEventRecord(stop, stream);
    return r;
}

hipError_t hipLaunchCooperativeKernel(const void *f, dim3 grid, dim3 block, void **params, unsigned int shared_mem,
                                      hipStream_t stream)
{
    (void)params;
    (void)shared_mem;
    return launch(check_launch(f != NULL, grid, block, stream), stream, -1);
}

hipError_t hipLaunchCooperativeKernel_spt(const void *f, dim3 grid, dim3 block, void **params, uint32_t shared_mem,
                                          hipStream_t stream)
{
    return hipLaunchCooperativeKernel(f, grid, block, params, shared_mem, stream);
}

hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                 unsigned int by, unsigned int bz, unsigned int shared_mem, hipStream_t stream,
                                 void **params, void **extra)
{
    (void)shared_mem;
    (void)params;
    (void)extra;
    if (hsim_init() == hipSuccess && !hsim_handle_live(f, HSIM_H_FUNCTION))
        return hipErrorInvalidHandle;
    dim3 grid = {gx, gy, gz}, block = {bx, by, bz};
    return launch(check_launch(true, grid, block, stream), stream, ((struct hsim_function *)f)->name_ns);
}

/* ------------------------------------------------------------------ graphs (empty ones) */

hipError_t hipGraphCreate(hipGraph_t *graph, unsigned int flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!graph || flags != 0)
        return hipErrorInvalidValue;
    void *g = calloc(1, 16);
    if (!g)
        return hipErrorOutOfMemory;
    hsim_handle_add(g, HSIM_H_GRAPH);
    *graph = g;
    return hipSuccess;
}

hipError_t hipGraphDestroy(hipGraph_t graph)
{
    if (!hsim_handle_take(graph, HSIM_H_GRAPH))
        return hipErrorInvalidValue;
    free(graph);
    return hipSuccess;
}

hipError_t hipGraphInstantiate(hipGraphExec_t *exec, hipGraph_t graph, hipGraphNode_t *error_node, char *log,
                               size_t log_size)
{
    (void)error_node;
    if (log && log_size)
        log[0] = '\0';
    if (!exec || !hsim_handle_live(graph, HSIM_H_GRAPH))
        return hipErrorInvalidValue;
    void *e = calloc(1, 16);
    if (!e)
        return hipErrorOutOfMemory;
    hsim_handle_add(e, HSIM_H_GRAPH_EXEC);
    *exec = e;
    return hipSuccess;
}

hipError_t hipGraphExecDestroy(hipGraphExec_t exec)
{
    if (!hsim_handle_take(exec, HSIM_H_GRAPH_EXEC))
        return hipErrorInvalidValue;
    free(exec);
    return hipSuccess;
}

hipError_t hipGraphLaunch(hipGraphExec_t exec, hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!hsim_handle_live(exec, HSIM_H_GRAPH_EXEC))
        return hipErrorInvalidValue;
    return launch(hsim_stream_valid(stream) ? hipSuccess : hipErrorInvalidHandle, stream, -1);
}

hipError_t hipGraphLaunch_spt(hipGraphExec_t exec, hipStream_t stream)
{
    return hipGraphLaunch(exec, stream);
}
