/* CUDA arrays and mipmapped arrays: opaque handles over device memory sized from the
 * descriptor (elements x channels x format size, rows padded to 512 bytes like texture memory,
 * levels summed for mipmaps). */
#include "sim_internal.h"

#include <stdlib.h>

#define SIM_ARRAY_MAGIC 0x4752455941525259ULL /* "GREYARRY" */
#define SIM_MIPMAP_MAGIC 0x475245594d49504dULL /* "GREYMIPM" */
#define SIM_ROW_ALIGN 512u

struct CUarray_st {
    uint64_t magic;
    uintptr_t base;
    CUDA_ARRAY3D_DESCRIPTOR desc;
};

struct CUmipmappedArray_st {
    uint64_t magic;
    uintptr_t base;
    unsigned levels;
    CUDA_ARRAY3D_DESCRIPTOR desc;
};

static unsigned format_bytes(CUarray_format f)
{
    switch (f) {
    case CU_AD_FORMAT_UNSIGNED_INT8:
    case CU_AD_FORMAT_SIGNED_INT8:
        return 1;
    case CU_AD_FORMAT_UNSIGNED_INT16:
    case CU_AD_FORMAT_SIGNED_INT16:
    case CU_AD_FORMAT_HALF:
        return 2;
    case CU_AD_FORMAT_UNSIGNED_INT32:
    case CU_AD_FORMAT_SIGNED_INT32:
    case CU_AD_FORMAT_FLOAT:
        return 4;
    default:
        return 0;
    }
}

/* Bytes of the array over levels; 0 for an invalid descriptor. */
static uint64_t array_size(const CUDA_ARRAY3D_DESCRIPTOR *d, unsigned levels)
{
    unsigned fb = format_bytes(d->Format);
    if (!fb || d->Width == 0 || (d->NumChannels != 1 && d->NumChannels != 2 && d->NumChannels != 4))
        return 0;
    uint64_t total = 0, w = d->Width, h = d->Height ? d->Height : 1, z = d->Depth ? d->Depth : 1;
    for (unsigned l = 0; l < levels; l++) {
        uint64_t row = w * d->NumChannels * fb;
        row = (row + SIM_ROW_ALIGN - 1) / SIM_ROW_ALIGN * SIM_ROW_ALIGN;
        total += row * h * z;
        w = w > 1 ? w / 2 : 1;
        h = h > 1 ? h / 2 : 1;
        z = z > 1 ? z / 2 : 1;
    }
    return total;
}

static CUresult array_make(CUarray *out, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!out || !d)
        return CUDA_ERROR_INVALID_VALUE;
    uint64_t bytes = array_size(d, 1);
    if (!bytes)
        return CUDA_ERROR_INVALID_VALUE;
    struct CUarray_st *a = calloc(1, sizeof *a);
    if (!a)
        return CUDA_ERROR_OUT_OF_MEMORY;
    r = sim_mem_alloc_device(&a->base, bytes);
    if (r != CUDA_SUCCESS) {
        free(a);
        return r;
    }
    a->magic = SIM_ARRAY_MAGIC;
    a->desc = *d;
    sim_handle_add(a);
    *out = a;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuArrayCreate_v2(CUarray *out, const CUDA_ARRAY_DESCRIPTOR *d)
{
    if (!d)
        return sim_check_init() == CUDA_SUCCESS ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    CUDA_ARRAY3D_DESCRIPTOR d3 = {.Width = d->Width, .Height = d->Height, .Depth = 0,
                                  .Format = d->Format, .NumChannels = d->NumChannels, .Flags = 0};
    return array_make(out, &d3);
}

CUresult CUDAAPI cuArray3DCreate_v2(CUarray *out, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
    return array_make(out, d);
}

/* The CUDA 2.x forms: the same arrays, described with 32-bit sizes. */
CUresult CUDAAPI cuArrayCreate(CUarray *out, const CUDA_ARRAY_DESCRIPTOR_v1 *d)
{
    if (!d)
        return cuArrayCreate_v2(out, NULL);
    CUDA_ARRAY_DESCRIPTOR d2 = {.Width = d->Width, .Height = d->Height, .Format = d->Format, .NumChannels = d->NumChannels};
    return cuArrayCreate_v2(out, &d2);
}

CUresult CUDAAPI cuArray3DCreate(CUarray *out, const CUDA_ARRAY3D_DESCRIPTOR_v1 *d)
{
    if (!d)
        return array_make(out, NULL);
    CUDA_ARRAY3D_DESCRIPTOR d3 = {.Width = d->Width, .Height = d->Height, .Depth = d->Depth, .Format = d->Format,
                                  .NumChannels = d->NumChannels, .Flags = d->Flags};
    return array_make(out, &d3);
}

CUresult CUDAAPI cuArrayDestroy(CUarray a)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!sim_handle_take(a) || a->magic != SIM_ARRAY_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    r = sim_mem_free_device(a->base);
    a->magic = 0;
    free(a);
    return r == CUDA_SUCCESS ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuMipmappedArrayCreate(CUmipmappedArray *out, const CUDA_ARRAY3D_DESCRIPTOR *d, unsigned int levels)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!out || !d || levels == 0)
        return CUDA_ERROR_INVALID_VALUE;
    uint64_t bytes = array_size(d, levels);
    if (!bytes)
        return CUDA_ERROR_INVALID_VALUE;
    struct CUmipmappedArray_st *m = calloc(1, sizeof *m);
    if (!m)
        return CUDA_ERROR_OUT_OF_MEMORY;
    r = sim_mem_alloc_device(&m->base, bytes);
    if (r != CUDA_SUCCESS) {
        free(m);
        return r;
    }
    m->magic = SIM_MIPMAP_MAGIC;
    m->levels = levels;
    m->desc = *d;
    sim_handle_add(m);
    *out = m;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMipmappedArrayDestroy(CUmipmappedArray m)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!sim_handle_take(m) || m->magic != SIM_MIPMAP_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    r = sim_mem_free_device(m->base);
    m->magic = 0;
    free(m);
    return r == CUDA_SUCCESS ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
