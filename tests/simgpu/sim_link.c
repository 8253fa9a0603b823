/* The JIT linker (cuLinkCreate_v2, cuLinkAddData_v2, cuLinkAddFile_v2, cuLinkComplete,
 * cuLinkDestroy), which cuFFT opens at start-up. No code is compiled or linked: the simulator
 * runs no device code, and its modules accept any image (sim_module.c). Inputs are checked the
 * way the reference lists (a live state, data with a size, a known input type, an existing file),
 * and cuLinkComplete hands back a small placeholder image owned by the state, valid until
 * cuLinkDestroy, as the reference says of the real cubin. */
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>

#define SIM_LINK_MAGIC 0x475245594c4e4b53ULL /* "GREYLNKS" */

struct CUlinkState_st {
    uint64_t magic;
    unsigned inputs;
    char image[64];
};

static CUresult check_state(CUlinkState state)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return state && state->magic == SIM_LINK_MAGIC ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuLinkCreate_v2(unsigned int numOptions, CUjit_option *options, void **optionValues,
                                 CUlinkState *stateOut)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!stateOut || (numOptions && (!options || !optionValues)))
        return CUDA_ERROR_INVALID_VALUE;
    CUlinkState s = calloc(1, sizeof *s);
    if (!s)
        return CUDA_ERROR_OUT_OF_MEMORY;
    s->magic = SIM_LINK_MAGIC;
    *stateOut = s;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLinkAddData_v2(CUlinkState state, CUjitInputType type, void *data, size_t size, const char *name,
                                  unsigned int numOptions, CUjit_option *options, void **optionValues)
{
    (void)name;
    CUresult r = check_state(state);
    if (r != CUDA_SUCCESS)
        return r;
    if (!data || size == 0 || (int)type < 0 || type >= CU_JIT_NUM_INPUT_TYPES ||
        (numOptions && (!options || !optionValues)))
        return CUDA_ERROR_INVALID_VALUE;
    state->inputs++;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLinkAddFile_v2(CUlinkState state, CUjitInputType type, const char *path, unsigned int numOptions,
                                  CUjit_option *options, void **optionValues)
{
    CUresult r = check_state(state);
    if (r != CUDA_SUCCESS)
        return r;
    if (!path)
        return CUDA_ERROR_INVALID_VALUE;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CUDA_ERROR_FILE_NOT_FOUND;
    fclose(f);
    return cuLinkAddData_v2(state, type, (void *)path, 1, path, numOptions, options, optionValues);
}

CUresult CUDAAPI cuLinkComplete(CUlinkState state, void **cubinOut, size_t *sizeOut)
{
    CUresult r = check_state(state);
    if (r != CUDA_SUCCESS)
        return r;
    if (!cubinOut || !sizeOut)
        return CUDA_ERROR_INVALID_VALUE;
    if (state->inputs == 0) /* nothing to link */
        return CUDA_ERROR_INVALID_IMAGE;
    int n = snprintf(state->image, sizeof state->image, "grey simulated link of %u inputs", state->inputs);
    *cubinOut = state->image;
    *sizeOut = (size_t)n + 1;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLinkDestroy(CUlinkState state)
{
    CUresult r = check_state(state);
    if (r != CUDA_SUCCESS)
        return r;
    state->magic = 0;
    free(state);
    return CUDA_SUCCESS;
}
