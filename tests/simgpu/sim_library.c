/* Context-independent loading: libraries and kernels (cuLibrary*, cuKernel*), CUDA 12.0+.
 *
 * Since CUDA 12 the runtime registers each fatbin of the program with cuLibraryLoadData, looks
 * its kernels up with cuLibraryGetKernel (a CUkernel is valid in every context) and turns one
 * into a context's CUfunction with cuKernelGetFunction before launching it; a CUkernel may also
 * be passed directly wherever a CUfunction is expected (cuLaunchKernel and friends), which
 * sim_kernel_function resolves.
 *
 * As with modules, no image is parsed: every kernel name resolves. A library keeps one module
 * per context in which it has been used, made on first use, and the kernels it has handed out;
 * looking a name up twice returns the same CUkernel. cuLibraryUnload frees all of it. */
#include "sim_globals.h"
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_LIBRARY_MAGIC 0x475245594c494252ULL /* "GREYLIBR" */
#define SIM_KERNEL_MAGIC  0x475245594b45524eULL /* "GREYKERN" */
#define SIM_DEAD_MAGIC    0xdeadULL

/* An image handed to cuModuleLoadData for a library's per-context modules: anything non-NULL. */
static const char library_image[] = "grey simulated library";

typedef struct lib_module {
    CUcontext ctx;
    CUmodule mod;
    struct lib_module *next;
} lib_module;

struct CUkern_st {
    uint64_t magic;    /* first, like every sim handle: a CUkernel can arrive as a CUfunction */
    CUlibrary lib;
    char *name;
    struct CUkern_st *next;
};

struct CUlib_st {
    uint64_t magic;
    pthread_mutex_t lock; /* guards kernels, modules and globals */
    struct CUkern_st *kernels;
    lib_module *modules;
    sim_globals globals; /* the image's variables (sim_globals.h) */
};

static CUresult check_library(CUlibrary lib)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return (lib && lib->magic == SIM_LIBRARY_MAGIC) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

static bool is_kernel(const void *h)
{
    return h && ((const struct CUkern_st *)h)->magic == SIM_KERNEL_MAGIC;
}

/* The library's module in the current context, made on first use. */
static CUresult library_module(CUlibrary lib, CUmodule *out)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&lib->lock);
    lib_module *m = lib->modules;
    while (m && m->ctx != ctx)
        m = m->next;
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m) {
            r = CUDA_ERROR_OUT_OF_MEMORY;
        } else if ((r = cuModuleLoadData(&m->mod, library_image)) != CUDA_SUCCESS) {
            free(m);
            m = NULL;
        } else {
            m->ctx = ctx;
            m->next = lib->modules;
            lib->modules = m;
        }
    }
    if (m)
        *out = m->mod;
    pthread_mutex_unlock(&lib->lock);
    return r;
}

/* ------------------------------------------------------------------ libraries */

/* JIT and library options are accepted and ignored, like cuModuleLoadDataEx's. */
CUresult CUDAAPI cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jitOptions,
                                   void **jitOptionsValues, unsigned int numJitOptions,
                                   CUlibraryOption *libraryOptions, void **libraryOptionValues,
                                   unsigned int numLibraryOptions)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!library || !code || (numJitOptions && (!jitOptions || !jitOptionsValues)) ||
        (numLibraryOptions && (!libraryOptions || !libraryOptionValues)))
        return CUDA_ERROR_INVALID_VALUE;
    CUlibrary lib = calloc(1, sizeof *lib);
    if (!lib)
        return CUDA_ERROR_OUT_OF_MEMORY;
    lib->magic = SIM_LIBRARY_MAGIC;
    pthread_mutex_init(&lib->lock, NULL);
    sim_globals_read(&lib->globals, code);
    *library = lib;
    return CUDA_SUCCESS;
}

/* The file must exist and be readable, as for cuModuleLoad; its contents are not read. */
CUresult CUDAAPI cuLibraryLoadFromFile(CUlibrary *library, const char *fileName,
                                       CUjit_option *jitOptions, void **jitOptionsValues,
                                       unsigned int numJitOptions, CUlibraryOption *libraryOptions,
                                       void **libraryOptionValues, unsigned int numLibraryOptions)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!fileName)
        return CUDA_ERROR_INVALID_VALUE;
    FILE *f = fopen(fileName, "rb");
    if (!f)
        return CUDA_ERROR_FILE_NOT_FOUND;
    fclose(f);
    /* The file's contents are not read: its globals are unknown. */
    return cuLibraryLoadData(library, library_image, jitOptions, jitOptionsValues, numJitOptions,
                             libraryOptions, libraryOptionValues, numLibraryOptions);
}

CUresult CUDAAPI cuLibraryUnload(CUlibrary library)
{
    CUresult r = check_library(library);
    if (r != CUDA_SUCCESS)
        return r;
    library->magic = SIM_DEAD_MAGIC;
    sim_globals_free(&library->globals);
    for (struct CUkern_st *k = library->kernels, *next; k; k = next) {
        next = k->next;
        k->magic = SIM_DEAD_MAGIC;
        free(k->name);
        free(k);
    }
    for (lib_module *m = library->modules, *next; m; m = next) {
        next = m->next;
        cuModuleUnload(m->mod);
        free(m);
    }
    pthread_mutex_destroy(&library->lock);
    free(library);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLibraryGetKernel(CUkernel *pKernel, CUlibrary library, const char *name)
{
    CUresult r = check_library(library);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pKernel || !name)
        return CUDA_ERROR_INVALID_VALUE;
    if (!*name)
        return CUDA_ERROR_NOT_FOUND;
    pthread_mutex_lock(&library->lock);
    struct CUkern_st *k = library->kernels;
    while (k && strcmp(k->name, name) != 0)
        k = k->next;
    if (!k) {
        k = calloc(1, sizeof *k);
        char *copy = k ? strdup(name) : NULL;
        if (copy) {
            *k = (struct CUkern_st){SIM_KERNEL_MAGIC, library, copy, library->kernels};
            library->kernels = k;
        } else {
            free(k);
            k = NULL;
        }
    }
    pthread_mutex_unlock(&library->lock);
    if (!k)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *pKernel = k;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLibraryGetModule(CUmodule *pMod, CUlibrary library)
{
    CUresult r = check_library(library);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pMod)
        return CUDA_ERROR_INVALID_VALUE;
    return library_module(library, pMod);
}

CUresult CUDAAPI cuLibraryGetKernelCount(unsigned int *count, CUlibrary lib)
{
    CUresult r = check_library(lib);
    if (r != CUDA_SUCCESS)
        return r;
    if (!count)
        return CUDA_ERROR_INVALID_VALUE;
    *count = 0; /* the image is not parsed: no kernel is known until asked for by name */
    return CUDA_SUCCESS;
}

/* The variables the image's cubin declares (sim_fatbin.c); dptr and bytes are each optional, as
 * for cuModuleGetGlobal. The memory is made in the context current at the first lookup. */
CUresult CUDAAPI cuLibraryGetGlobal(CUdeviceptr *dptr, size_t *bytes, CUlibrary library,
                                    const char *name)
{
    CUresult r = check_library(library);
    if (r != CUDA_SUCCESS)
        return r;
    if (!name)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&library->lock);
    r = sim_globals_lookup(&library->globals, name, dptr, bytes);
    pthread_mutex_unlock(&library->lock);
    return r;
}

CUresult CUDAAPI cuLibraryGetManaged(CUdeviceptr *dptr, size_t *bytes, CUlibrary library,
                                     const char *name)
{
    return cuLibraryGetGlobal(dptr, bytes, library, name);
}

/* ------------------------------------------------------------------ kernels */

static CUresult check_kernel(CUkernel k)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return is_kernel(k) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult CUDAAPI cuKernelGetFunction(CUfunction *pFunc, CUkernel kernel)
{
    CUresult r = check_kernel(kernel);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pFunc)
        return CUDA_ERROR_INVALID_VALUE;
    CUmodule mod;
    if ((r = library_module(kernel->lib, &mod)) != CUDA_SUCCESS)
        return r;
    return cuModuleGetFunction(pFunc, mod, kernel->name);
}

CUresult CUDAAPI cuKernelGetLibrary(CUlibrary *pLib, CUkernel kernel)
{
    CUresult r = check_kernel(kernel);
    if (r == CUDA_SUCCESS && !pLib)
        r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        *pLib = kernel->lib;
    return r;
}

CUresult CUDAAPI cuKernelGetName(const char **name, CUkernel hfunc)
{
    CUresult r = check_kernel(hfunc);
    if (r == CUDA_SUCCESS && !name)
        r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        *name = hfunc->name;
    return r;
}

/* Kernel attributes as cuFuncGetAttribute reports them for the sim's (empty) kernels. */
CUresult CUDAAPI cuKernelGetAttribute(int *pi, CUfunction_attribute attrib, CUkernel kernel,
                                      CUdevice dev)
{
    CUresult r = check_kernel(kernel);
    if (r == CUDA_SUCCESS)
        r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pi)
        return CUDA_ERROR_INVALID_VALUE;
    return sim_function_attribute(pi, attrib);
}

/* Accepted and ignored: nothing here depends on cache or shared-memory configuration. */
CUresult CUDAAPI cuKernelSetAttribute(CUfunction_attribute attrib, int val, CUkernel kernel,
                                      CUdevice dev)
{
    (void)val;
    CUresult r = check_kernel(kernel);
    if (r == CUDA_SUCCESS)
        r = sim_check_device(dev);
    if (r == CUDA_SUCCESS && ((int)attrib < 0 || attrib >= CU_FUNC_ATTRIBUTE_MAX))
        r = CUDA_ERROR_INVALID_VALUE;
    return r;
}

CUresult CUDAAPI cuKernelSetCacheConfig(CUkernel kernel, CUfunc_cache config, CUdevice dev)
{
    CUresult r = check_kernel(kernel);
    if (r == CUDA_SUCCESS)
        r = sim_check_device(dev);
    if (r == CUDA_SUCCESS && ((int)config < 0 || config > CU_FUNC_CACHE_PREFER_EQUAL))
        r = CUDA_ERROR_INVALID_VALUE;
    return r;
}

CUfunction sim_kernel_function(CUfunction f)
{
    if (!is_kernel(f))
        return f;
    CUfunction fn = NULL;
    if (cuKernelGetFunction(&fn, (CUkernel)(void *)f) != CUDA_SUCCESS)
        return f; /* the launch then fails its handle check */
    return fn;
}

/* The loading mode: lazy, the default of real drivers since CUDA 12.2. */
CUresult CUDAAPI cuModuleGetLoadingMode(CUmoduleLoadingMode *mode)
{
    if (!mode)
        return CUDA_ERROR_INVALID_VALUE;
    *mode = CU_MODULE_LAZY_LOADING;
    return CUDA_SUCCESS;
}
