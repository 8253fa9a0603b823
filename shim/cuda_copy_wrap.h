/* The wrapper of an observed copy or memset (shim/cuda_copy.c, shim/cuda_copy_pitched.c): the
 * real function looked up once and called; with GREY_DEDUP, a success observed. An async form
 * captured into a graph (not run now, seen when the graph is launched: shim/cuda_graph.c) is not
 * observed here. The _ptsz forms' NULL stream is the thread's. */
#ifndef GREY_CUDA_COPY_WRAP_H
#define GREY_CUDA_COPY_WRAP_H

#include "dedup.h"
#include "vendor.h"

#define WRAP(name, pfn, params, args, observe)                                                   \
    GREY_EXPORT CUresult name params                                                             \
    {                                                                                            \
        static void *real_fn;                                                                    \
        pfn real = grey_cuda_real(&real_fn, #name);                                              \
        if (!real)                                                                               \
            return CUDA_ERROR_NOT_FOUND;                                                         \
        CUresult rc = real args;                                                                 \
        if (rc == CUDA_SUCCESS && grey_dedup_on())                                               \
            observe;                                                                             \
        return rc;                                                                               \
    }

#define WRAP_ASYNC(name, pfn, params, args, stream, observe)                                     \
    WRAP(name, pfn, params, args, if (!grey_cuda_vendor.capturing(stream)) observe)
#define PTSZ(s) ((s) ? (s) : CU_STREAM_PER_THREAD)

#endif
