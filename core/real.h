/* Reaching the real functions behind the ones grey replaces, in the vendor library the caller
 * names: nothing here guesses a library from a function's name. */
#ifndef GREY_CORE_REAL_H
#define GREY_CORE_REAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The vendor libraries grey wraps. */
enum grey_lib {
    GREY_LIB_CUDA,   /* the CUDA driver, libcuda.so.1: loaded when the program has not */
    GREY_LIB_NVML,   /* libnvidia-ml.so.1: loaded when the program has not */
    GREY_LIB_HIP,    /* the HIP runtime the program loaded (libamdhip64.so.7/.6/.5): never loaded */
    GREY_LIB_COUNT
};

/* The C library's dlsym, found with dlvsym so that looking it up never re-enters our own. */
void *grey_real_dlsym(void *handle, const char *name);
/* The C library's dlvsym (a symbol of a given version), found the same way. */
void *grey_real_dlvsym(void *handle, const char *name, const char *version);

/* A symbol of lib (already loaded by the program, or loaded now where lib may be loaded). NULL
 * when there is no such library or it lacks the symbol. */
void *grey_lib_symbol(enum grey_lib lib, const char *name);
/* The same, only from a library the process already has, never loading one. */
void *grey_lib_symbol_loaded(enum grey_lib lib, const char *name);

/* Called first thing when the hook was loaded through LD_AUDIT (preload/audit.c): the vendor
 * libraries are then looked up (and, for CUDA and NVML, loaded) in the program's link namespace. */
void grey_real_use_base_namespace(void);

/* What a cache holds once its library was found without the function: asking again would
 * cost a dlsym per call and say nothing new. */
#define GREY_REAL_MISSING ((void *)1)

/* Finds name in lib and caches it in *cache; NULL when it is not there. A library that lacks a
 * function the program called is said once per name (a warning: the call fails); one grey itself
 * can do without (optional) is not said here (its caller says what it does instead, if anything
 * changes); a library that is not there at all is said only with GREY_LOG (an AMD node has no
 * libnvidia-ml.so.1, and no call of the program reaches it either). */
void *grey_real_resolve(void **cache, enum grey_lib lib, const char *name, bool optional);

static inline void *grey_real_lookup(void **cache, enum grey_lib lib, const char *name, bool optional)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (__builtin_expect((uintptr_t)fn > (uintptr_t)GREY_REAL_MISSING, 1))
        return fn;
    if (fn == GREY_REAL_MISSING)
        return NULL;
    return grey_real_resolve(cache, lib, name, optional);
}

/* The real function name of lib, cached in *cache after the first call: one load on the hot
 * path. grey_*_real for what the program called; grey_*_optional for what grey calls for itself
 * and does without when the library lacks it. */
static inline void *grey_real(void **cache, enum grey_lib lib, const char *name)
{
    return grey_real_lookup(cache, lib, name, false);
}

#define grey_cuda_real(cache, name) grey_real((cache), GREY_LIB_CUDA, (name))
#define grey_nvml_real(cache, name) grey_real((cache), GREY_LIB_NVML, (name))
#define grey_hip_real(cache, name) grey_real((cache), GREY_LIB_HIP, (name))
#define grey_cuda_optional(cache, name) grey_real_lookup((cache), GREY_LIB_CUDA, (name), true)
#define grey_hip_optional(cache, name) grey_real_lookup((cache), GREY_LIB_HIP, (name), true)

#endif
