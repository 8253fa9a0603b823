/* Modules and functions.
 *
 * The simulator runs no device code, so any image is accepted (cubin, PTX or fatbin) and any
 * kernel name resolves. An image's symbols are read where its format allows (sim_fatbin.h): its
 * variables for cuModuleGetGlobal, and its kernels, which get their functions at load, so that a
 * caller can ask for the kernels of a module without knowing their names (cuFFT does, through a
 * private table: sim_fft_table.c). A function handle remembers its name, so launches can be
 * told apart in logs and on the device timeline, and the name may say how long the kernel runs. Looking the same name up twice returns the same
 * handle, as the real driver does. Unloading a module frees its functions. */
#include "sim_fatbin.h"
#include "sim_globals.h"
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MODULE_MAGIC   0x475245594d4f4455ULL /* "GREYMODU" */
#define SIM_FUNCTION_MAGIC 0x4752455946554e43ULL /* "GREYFUNC" */
#define SIM_DEAD_MAGIC     0xdeadULL

struct CUfunc_st {
    uint64_t magic;
    CUmodule mod;
    char *name;
    struct CUfunc_st *next;
    int64_t name_ns;  /* the duration the name asks for (a "_us500" suffix), -1: none */
    bool in_image;    /* a kernel the module's image declares, not only a name looked up */
};

/* A kernel whose name ends in _usN takes N microseconds on the device timeline (so one test can
 * mix kernel lengths); others take GREY_SIM_KERNEL_US (sim_timeline.c). */
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

uint64_t sim_function_duration_ns(CUfunction f)
{
    return f->name_ns >= 0 ? (uint64_t)f->name_ns : sim_default_kernel_ns();
}

struct CUmod_st {
    uint64_t magic;
    CUcontext ctx;
    pthread_mutex_t lock; /* guards funcs and globals: several threads may look things up at once */
    struct CUfunc_st *funcs;
    sim_globals globals; /* the image's variables, when it was handed over (sim_globals.h) */
};

CUresult sim_function_check(CUfunction f)
{
    return (f && f->magic == SIM_FUNCTION_MAGIC) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

const char *sim_function_name(CUfunction f)
{
    return f->name;
}

/* The module's function of that name, made if new; NULL when out of memory. Under mod->lock. */
static struct CUfunc_st *function_get(CUmodule hmod, const char *name)
{
    struct CUfunc_st *f = hmod->funcs;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    if (!f) {
        f = calloc(1, sizeof *f);
        char *copy = f ? strdup(name) : NULL;
        if (copy) {
            *f = (struct CUfunc_st){SIM_FUNCTION_MAGIC, hmod, copy, hmod->funcs, duration_from_name(copy), false};
            hmod->funcs = f;
        } else {
            free(f);
            f = NULL;
        }
    }
    return f;
}

static void image_global(void *arg, const char *name, size_t bytes)
{
    sim_globals_add(&((CUmodule)arg)->globals, name, bytes);
}

static void image_kernel(void *arg, const char *name)
{
    struct CUfunc_st *f = function_get(arg, name);
    if (f)
        f->in_image = true;
}

static CUresult module_new(CUmodule *module)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    CUmodule m = calloc(1, sizeof *m);
    if (!m)
        return CUDA_ERROR_OUT_OF_MEMORY;
    m->magic = SIM_MODULE_MAGIC;
    m->ctx = ctx;
    pthread_mutex_init(&m->lock, NULL);
    *module = m;
    return CUDA_SUCCESS;
}

/* The file must exist and be readable, so a wrong path fails as it would on hardware. */
CUresult CUDAAPI cuModuleLoad(CUmodule *module, const char *fname)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!module || !fname)
        return CUDA_ERROR_INVALID_VALUE;
    FILE *f = fopen(fname, "rb");
    if (!f)
        return CUDA_ERROR_FILE_NOT_FOUND;
    fclose(f);
    return module_new(module);
}

CUresult CUDAAPI cuModuleLoadData(CUmodule *module, const void *image)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!module || !image)
        return CUDA_ERROR_INVALID_VALUE;
    r = module_new(module);
    if (r == CUDA_SUCCESS) {
        CUmodule m = *module;
        size_t n = sim_image_symbols_read(image, &(sim_image_symbols){image_global, image_kernel, m});
        sim_trace("image %p: %zu symbols (global variables and kernels)", image, n);
    }
    return r;
}

/* JIT options are accepted and ignored: there is nothing to compile. */
CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int numOptions,
                                    CUjit_option *options, void **optionValues)
{
    if (numOptions > 0 && (!options || !optionValues))
        return CUDA_ERROR_INVALID_VALUE;
    return cuModuleLoadData(module, image);
}

CUresult CUDAAPI cuModuleLoadFatBinary(CUmodule *module, const void *fatCubin)
{
    return cuModuleLoadData(module, fatCubin);
}

CUresult CUDAAPI cuModuleUnload(CUmodule hmod)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!hmod || hmod->magic != SIM_MODULE_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    hmod->magic = SIM_DEAD_MAGIC;
    sim_globals_free(&hmod->globals);
    for (struct CUfunc_st *f = hmod->funcs, *next; f; f = next) {
        next = f->next;
        f->magic = SIM_DEAD_MAGIC;
        free(f->name);
        free(f);
    }
    pthread_mutex_destroy(&hmod->lock);
    free(hmod);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!hfunc || !name)
        return CUDA_ERROR_INVALID_VALUE;
    if (!hmod || hmod->magic != SIM_MODULE_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    if (!*name)
        return CUDA_ERROR_NOT_FOUND;
    pthread_mutex_lock(&hmod->lock);
    struct CUfunc_st *f = function_get(hmod, name);
    pthread_mutex_unlock(&hmod->lock);
    if (!f)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *hfunc = f;
    return CUDA_SUCCESS;
}

/* The list holds the newest first; the image's kernels were added in its order, so they are
 * handed out from the list's end. They are collected first, so that each runs without the lock
 * (it may look up functions itself). */
CUresult sim_module_kernels(CUmodule mod, void (*each)(void *arg, CUfunction f), void *arg, unsigned *count)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!mod || mod->magic != SIM_MODULE_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    pthread_mutex_lock(&mod->lock);
    unsigned n = 0;
    for (struct CUfunc_st *f = mod->funcs; f; f = f->next)
        n += f->in_image;
    CUfunction *list = n ? calloc(n, sizeof *list) : NULL;
    unsigned i = 0;
    for (struct CUfunc_st *f = mod->funcs; list && f; f = f->next)
        if (f->in_image)
            list[i++] = f;
    pthread_mutex_unlock(&mod->lock);
    if (n && !list)
        return CUDA_ERROR_OUT_OF_MEMORY;
    while (i > 0)
        each(arg, list[--i]);
    free(list);
    *count = n;
    return CUDA_SUCCESS;
}

/* The variables of the image given to cuModuleLoadData/Ex/FatBinary (sim_globals.h); a module
 * loaded from a file (cuModuleLoad) has none: the file is not read. */
CUresult CUDAAPI cuModuleGetGlobal_v2(CUdeviceptr *dptr, size_t *bytes, CUmodule hmod, const char *name)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!hmod || hmod->magic != SIM_MODULE_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    if (!name)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&hmod->lock);
    r = sim_globals_lookup(&hmod->globals, name, dptr, bytes);
    pthread_mutex_unlock(&hmod->lock);
    return r;
}
