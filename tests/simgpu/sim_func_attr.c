/* Function attributes and per-function settings (cuFuncGetAttribute, cuFuncSetAttribute,
 * cuFuncSetCacheConfig, cuFuncGetName), which the runtime uses for cudaFuncGetAttributes,
 * occupancy and launch-bound checks.
 *
 * A simulated kernel runs no code: it uses no registers, shared, constant or local memory, and
 * accepts the device's largest block. Settings are validated and otherwise ignored. Every entry
 * point takes a CUkernel as well as a CUfunction. */
#include "sim_internal.h"

#define SIM_MAX_DYNAMIC_SHARED (227 * 1024)

CUresult sim_function_attribute(int *pi, CUfunction_attribute attrib)
{
    int v;
    switch (attrib) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: v = 1024; break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: v = 0; break;
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: v = 0; break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: v = 0; break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: v = 16; break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION: v = 90; break;
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: v = 90; break;
    case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: v = 0; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: v = SIM_MAX_DYNAMIC_SHARED; break;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: v = -1; break;
    default:
        if ((int)attrib < 0 || attrib >= CU_FUNC_ATTRIBUTE_MAX)
            return CUDA_ERROR_INVALID_VALUE;
        v = 0;
        break;
    }
    *pi = v;
    return CUDA_SUCCESS;
}

static CUresult check(CUfunction *f)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    *f = sim_kernel_function(*f);
    return sim_function_check(*f);
}

CUresult CUDAAPI cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction hfunc)
{
    CUresult r = check(&hfunc);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pi)
        return CUDA_ERROR_INVALID_VALUE;
    return sim_function_attribute(pi, attrib);
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value)
{
    CUresult r = check(&hfunc);
    if (r != CUDA_SUCCESS)
        return r;
    switch (attrib) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
        return (value >= 0 && value <= SIM_MAX_DYNAMIC_SHARED) ? CUDA_SUCCESS
                                                               : CUDA_ERROR_INVALID_VALUE;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
        return (value >= -1 && value <= 100) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    default:
        return ((int)attrib < 0 || attrib >= CU_FUNC_ATTRIBUTE_MAX) ? CUDA_ERROR_INVALID_VALUE
                                                                     : CUDA_SUCCESS;
    }
}

CUresult CUDAAPI cuFuncSetCacheConfig(CUfunction hfunc, CUfunc_cache config)
{
    CUresult r = check(&hfunc);
    if (r == CUDA_SUCCESS && ((int)config < 0 || config > CU_FUNC_CACHE_PREFER_EQUAL))
        r = CUDA_ERROR_INVALID_VALUE;
    return r;
}

CUresult CUDAAPI cuFuncGetName(const char **name, CUfunction hfunc)
{
    CUresult r = check(&hfunc);
    if (r == CUDA_SUCCESS && !name)
        r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        *name = sim_function_name(hfunc);
    return r;
}
