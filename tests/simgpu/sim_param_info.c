/* cuFuncGetParamInfo: the offset and size of a kernel's parameters.
 *
 * The simulator parses no device code, so a kernel's parameters are taken from its name: a name
 * ending in a list of sizes in parentheses, "scale(8,8,4)", declares three parameters of 8, 8
 * and 4 bytes, laid out as a compiler would (each aligned to its size, up to 8). Past the last
 * parameter the answer is CUDA_ERROR_INVALID_VALUE, as the driver gives it; a kernel named
 * without such a list reports CUDA_ERROR_NOT_SUPPORTED (its layout is unknown), so programs and
 * grey's hook can tell "no parameters" from "cannot say". */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

CUresult CUDAAPI cuFuncGetParamInfo(CUfunction func, size_t paramIndex, size_t *paramOffset, size_t *paramSize)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    func = sim_kernel_function(func);
    if ((r = sim_function_check(func)) != CUDA_SUCCESS)
        return r;
    const char *name = sim_function_name(func);
    const char *open = strrchr(name, '(');
    size_t len = strlen(name);
    if (!open || len == 0 || name[len - 1] != ')')
        return CUDA_ERROR_NOT_SUPPORTED;
    const char *p = open + 1;
    size_t offset = 0;
    for (size_t i = 0; *p != ')'; i++) {
        char *end;
        unsigned long size = strtoul(p, &end, 10);
        if (end == p || size == 0 || size > 4096 || (*end != ',' && *end != ')'))
            return CUDA_ERROR_NOT_SUPPORTED;
        size_t align = size >= 8 ? 8 : (size >= 4 ? 4 : (size >= 2 ? 2 : 1));
        offset = (offset + align - 1) / align * align;
        if (i == paramIndex) {
            if (paramOffset)
                *paramOffset = offset;
            if (paramSize)
                *paramSize = size;
            return CUDA_SUCCESS;
        }
        offset += size;
        p = *end == ',' ? end + 1 : end;
    }
    return CUDA_ERROR_INVALID_VALUE;
}

unsigned sim_kernel_args(CUfunction f, void **params, uint64_t *out)
{
    unsigned n = 0;
    size_t offset, size;
    for (; params && n < SIM_NODE_ARGS && cuFuncGetParamInfo(f, n, &offset, &size) == CUDA_SUCCESS; n++) {
        out[n] = 0;
        if (params[n])
            memcpy(&out[n], params[n], size < 8 ? size : 8);
    }
    return n;
}
