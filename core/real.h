/* Reaching the real functions behind the ones grey replaces, in the vendor library the caller
 * names: nothing here guesses a library from a function's name. */
#ifndef GREY_CORE_REAL_H
#define GREY_CORE_REAL_H

/* The vendor libraries grey wraps. */
enum grey_lib {
    GREY_LIB_CUDA,   /* the CUDA driver, libcuda.so.1: loaded when the program has not */
    GREY_LIB_NVML,   /* libnvidia-ml.so.1: loaded when the program has not */
    GREY_LIB_HIP,    /* the HIP runtime the program loaded (libamdhip64.so.7/.6/.5): never loaded */
    GREY_LIB_COUNT
};

/* The C library's dlsym, found with dlvsym so that looking it up never re-enters our own. */
void *grey_real_dlsym(void *handle, const char *name);

/* A symbol of lib (already loaded by the program, or loaded now where lib may be loaded). NULL
 * when there is no such library or it lacks the symbol. */
void *grey_lib_symbol(enum grey_lib lib, const char *name);
/* The same, only from a library the process already has, never loading one. */
void *grey_lib_symbol_loaded(enum grey_lib lib, const char *name);

/* Called first thing when the hook was loaded through LD_AUDIT (preload/audit.c): the vendor
 * libraries are then looked up (and, for CUDA and NVML, loaded) in the program's link namespace. */
void grey_real_use_base_namespace(void);

void *grey_real_resolve(void **cache, enum grey_lib lib, const char *name);

/* The real function name of lib, cached in *cache after the first call: one load on the hot
 * path. */
static inline void *grey_real(void **cache, enum grey_lib lib, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (__builtin_expect(fn != 0, 1))
        return fn;
    return grey_real_resolve(cache, lib, name);
}

#define grey_cuda_real(cache, name) grey_real((cache), GREY_LIB_CUDA, (name))
#define grey_nvml_real(cache, name) grey_real((cache), GREY_LIB_NVML, (name))
#define grey_hip_real(cache, name) grey_real((cache), GREY_LIB_HIP, (name))

#endif
