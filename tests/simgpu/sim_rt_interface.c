/* The runtime interface table (export table 6bd5fb6c-5bf4-e74a-8987-d93912fd9df9).
 *
 * The CUDA runtime gets two things from it that the public API does not give in the form it
 * wants: a module made from the fatbin that nvcc embedded in the program (entries 1, 6 and 8,
 * which differ in how the fatbin is passed), and the device's primary context (entry 2).
 * Thirteen words; word 0 is the size in bytes.
 *
 * The simulator runs no device code, so a module is made from any image (cuModuleLoadData
 * accepts anything); the wrapper is only checked for its magic, so that garbage is refused. */
#include "sim_internal.h"

#include <fatbinary_section.h> /* __fatBinC_Wrapper_t, what nvcc emits per translation unit */

typedef __fatBinC_Wrapper_t fatbin_wrapper;

/* The fatbin the wrapper points to starts with its own header and this magic. */
#define FATBIN_MAGIC 0xba55ed50u

static CUresult module_from_image(CUmodule *module, const void *fatbin)
{
    if (!module || !fatbin)
        return CUDA_ERROR_INVALID_VALUE;
    if (*(const uint32_t *)fatbin != FATBIN_MAGIC)
        return CUDA_ERROR_INVALID_IMAGE;
    return cuModuleLoadData(module, fatbin);
}

static CUresult module_from_wrapper(CUmodule *module, const fatbin_wrapper *w)
{
    if (!w)
        return CUDA_ERROR_INVALID_VALUE;
    if ((uint32_t)w->magic != FATBINC_MAGIC)
        return CUDA_ERROR_INVALID_IMAGE;
    return module_from_image(module, w->data);
}

static CUresult rt_module_from_fatbin(CUmodule *module, const fatbin_wrapper *w)
{
    CUresult r = module_from_wrapper(module, w);
    sim_trace("export table rt_interface[1] module from fatbin wrapper %p: %d", (const void *)w,
              (int)r);
    return r;
}

/* The primary context of dev, made active: the runtime uses it without retaining it itself. */
static CUresult rt_primary_context(CUcontext *pctx, CUdevice dev)
{
    CUresult r = cuDevicePrimaryCtxRetain(pctx, dev);
    sim_trace("export table rt_interface[2] primary context of device %d: %d", (int)dev, (int)r);
    return r;
}

/* The two extended forms carry extra arguments that are NULL/0 for ordinary programs. */
static CUresult rt_module_from_fatbin_ext1(CUmodule *module, const fatbin_wrapper *w, void *arg3,
                                           void *arg4, uint32_t arg5)
{
    CUresult r = (arg3 || arg4 || arg5) ? CUDA_ERROR_NOT_SUPPORTED : module_from_wrapper(module, w);
    sim_trace("export table rt_interface[6] module from fatbin wrapper %p (%p, %p, %u): %d",
              (const void *)w, arg3, arg4, arg5, (int)r);
    return r;
}

static void rt_entry7(size_t arg)
{
    sim_trace("export table rt_interface[7](%zu)", arg);
}

static CUresult rt_module_from_fatbin_ext2(const void *fatbin, CUmodule *module, void *arg3,
                                           void *arg4, uint32_t arg5)
{
    CUresult r = (arg3 || arg4 || arg5) ? CUDA_ERROR_NOT_SUPPORTED : module_from_image(module, fatbin);
    sim_trace("export table rt_interface[8] module from fatbin %p (%p, %p, %u): %d", fatbin, arg3,
              arg4, arg5, (int)r);
    return r;
}

/* On hardware this loads the PTX compiler and friends; there is nothing to compile here. */
static CUresult rt_load_compilers(void)
{
    sim_trace("export table rt_interface[12] load compilers");
    return CUDA_SUCCESS;
}

SIM_UNKNOWN_ENTRY(rt_interface, 3)
SIM_UNKNOWN_ENTRY(rt_interface, 4)
SIM_UNKNOWN_ENTRY(rt_interface, 5)
SIM_UNKNOWN_ENTRY(rt_interface, 9)
SIM_UNKNOWN_ENTRY(rt_interface, 10)
SIM_UNKNOWN_ENTRY(rt_interface, 11)

static const void *const rt_interface[13] = {
    (const void *)(sizeof(void *) * 13),
    (const void *)rt_module_from_fatbin,
    (const void *)rt_primary_context,
    (const void *)unknown_rt_interface_3,
    (const void *)unknown_rt_interface_4,
    (const void *)unknown_rt_interface_5,
    (const void *)rt_module_from_fatbin_ext1,
    (const void *)rt_entry7,
    (const void *)rt_module_from_fatbin_ext2,
    (const void *)unknown_rt_interface_9,
    (const void *)unknown_rt_interface_10,
    (const void *)unknown_rt_interface_11,
    (const void *)rt_load_compilers,
};

const void *sim_table_rt_interface(void) { return rt_interface; }
