/* CUDA arrays (virtual memory management is shim/cuda_vmm.c).
 *
 * Their size follows from the descriptor (width x height x depth x channels x element
 * size, summed over mipmap levels). The driver pads arrays to its texture alignment, so this is
 * a lower bound of what the device spends. */
#include "cuda_shim.h"

static unsigned format_bytes(CUarray_format format)
{
    switch (format) {
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
        return 4; /* block-compressed and planar formats: no larger than 4 bytes per element */
    }
}

/* Bytes of the array (admission.h's grey_array_bytes, shared with HIP's arrays). */
static uint64_t array_bytes(size_t width, size_t height, size_t depth, unsigned channels, CUarray_format format,
                            unsigned levels)
{
    return grey_array_bytes(width, height, depth, (uint64_t)(channels ? channels : 1) * format_bytes(format), levels);
}

/* An array's bytes admitted, the driver's create called, the handle tracked. Each form of the
 * create call is a closure: its real function and arguments. */
struct array_create {
    void *real;
    CUarray *array;
    const void *desc;
    int form; /* 2: cuArrayCreate_v2, 3: cuArray3DCreate_v2, 1 and 13: their CUDA 2.x forms */
};

static CUresult create_array(const struct array_create *c)
{
    switch (c->form) {
    case 2:
        return ((PFN_cuArrayCreate_v3020)c->real)(c->array, c->desc);
    case 3:
        return ((PFN_cuArray3DCreate_v3020)c->real)(c->array, c->desc);
    case 1:
        return ((CUresult(*)(CUarray *, const CUDA_ARRAY_DESCRIPTOR_v1 *))c->real)(c->array, c->desc);
    default:
        return ((CUresult(*)(CUarray *, const CUDA_ARRAY3D_DESCRIPTOR_v1 *))c->real)(c->array, c->desc);
    }
}

static CUresult admitted_array(const struct array_create *c, uint64_t bytes, enum grey_cuda_api api)
{
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, bytes) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = create_array(c);
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? GREY_KEY_ARRAY(*c->array) : 0, api);
    return rc;
}

GREY_EXPORT CUresult cuArrayCreate_v2(CUarray *array, const CUDA_ARRAY_DESCRIPTOR *desc)
{
    static void *real_fn;
    struct array_create c = {grey_cuda_real(&real_fn, "cuArrayCreate_v2"), array, desc, 2};
    if (!c.real)
        return CUDA_ERROR_NOT_FOUND;
    if (!array || !desc || desc->Width == 0)
        return create_array(&c);
    return admitted_array(&c, array_bytes(desc->Width, desc->Height, 1, desc->NumChannels, desc->Format, 1),
                          GREY_API_ARRAY);
}

GREY_EXPORT CUresult cuArray3DCreate_v2(CUarray *array, const CUDA_ARRAY3D_DESCRIPTOR *desc)
{
    static void *real_fn;
    struct array_create c = {grey_cuda_real(&real_fn, "cuArray3DCreate_v2"), array, desc, 3};
    if (!c.real)
        return CUDA_ERROR_NOT_FOUND;
    if (!array || !desc || desc->Width == 0)
        return create_array(&c);
    return admitted_array(&c, array_bytes(desc->Width, desc->Height, desc->Depth, desc->NumChannels, desc->Format, 1),
                          GREY_API_ARRAY_3D);
}

/* The CUDA 2.x forms describe the same arrays with 32-bit sizes; the driver still exports them. */
GREY_EXPORT CUresult cuArrayCreate(CUarray *array, const CUDA_ARRAY_DESCRIPTOR_v1 *desc)
{
    static void *real_fn;
    struct array_create c = {grey_cuda_real(&real_fn, "cuArrayCreate"), array, desc, 1};
    if (!c.real)
        return CUDA_ERROR_NOT_FOUND;
    if (!array || !desc || desc->Width == 0)
        return create_array(&c);
    return admitted_array(&c, array_bytes(desc->Width, desc->Height, 1, desc->NumChannels, desc->Format, 1),
                          GREY_API_ARRAY);
}

GREY_EXPORT CUresult cuArray3DCreate(CUarray *array, const CUDA_ARRAY3D_DESCRIPTOR_v1 *desc)
{
    static void *real_fn;
    struct array_create c = {grey_cuda_real(&real_fn, "cuArray3DCreate"), array, desc, 13};
    if (!c.real)
        return CUDA_ERROR_NOT_FOUND;
    if (!array || !desc || desc->Width == 0)
        return create_array(&c);
    return admitted_array(&c, array_bytes(desc->Width, desc->Height, desc->Depth, desc->NumChannels, desc->Format, 1),
                          GREY_API_ARRAY_3D);
}

GREY_EXPORT CUresult cuArrayDestroy(CUarray array)
{
    static void *real_fn;
    PFN_cuArrayDestroy_v2000 real = grey_cuda_real(&real_fn, "cuArrayDestroy");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack(GREY_KEY_ARRAY(array), &info);
    CUresult rc = real(array);
    grey_cuda_forget(tracked, &info, rc);
    return rc;
}

GREY_EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray *mipmap, const CUDA_ARRAY3D_DESCRIPTOR *desc,
                                            unsigned int levels)
{
    static void *real_fn;
    PFN_cuMipmappedArrayCreate_v5000 real = grey_cuda_real(&real_fn, "cuMipmappedArrayCreate");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!mipmap || !desc || desc->Width == 0 || levels == 0)
        return real(mipmap, desc, levels);
    struct grey_admission adm;
    uint64_t bytes = array_bytes(desc->Width, desc->Height, desc->Depth, desc->NumChannels, desc->Format, levels);
    if (grey_cuda_admit(&adm, bytes) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(mipmap, desc, levels);
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? GREY_KEY_MIPMAPPED(*mipmap) : 0, GREY_API_MIPMAPPED_ARRAY);
    return rc;
}

GREY_EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray mipmap)
{
    static void *real_fn;
    PFN_cuMipmappedArrayDestroy_v5000 real = grey_cuda_real(&real_fn, "cuMipmappedArrayDestroy");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack(GREY_KEY_MIPMAPPED(mipmap), &info);
    CUresult rc = real(mipmap);
    grey_cuda_forget(tracked, &info, rc);
    return rc;
}
