/* Reaching the real functions behind the ones grey replaces. */
#ifndef GREY_REAL_H
#define GREY_REAL_H

/* The C library's dlsym, found with dlvsym so that looking it up never re-enters our own. */
void *grey_real_dlsym(void *handle, const char *name);

/* A symbol of the real CUDA driver (libcuda.so.1, already loaded by the program, or loaded now).
 * NULL when there is no driver or it lacks the symbol. */
void *grey_driver_symbol(const char *name);
/* The same for NVML (libnvidia-ml.so.1). */
void *grey_nvml_symbol(const char *name);
/* The same for the HIP runtime the program loaded (libamdhip64.so.7/.6/.5); never loads one. */
void *grey_hip_symbol(const char *name);

/* The symbol from the vendor library its API prefix names (nvml*, hip*, else the CUDA driver).
 * _loaded: only from a library the process already has, never loading one. */
void *grey_vendor_symbol(const char *name);
void *grey_vendor_symbol_loaded(const char *name);

/* Called first thing when the hook was loaded through LD_AUDIT (preload/audit.c): the vendor
 * libraries are then looked up (and, for CUDA and NVML, loaded) in the program's link namespace. */
void grey_real_use_base_namespace(void);

void *grey_real_resolve(void **cache, const char *name);

/* The real function for name (from NVML for nvml* names, the HIP runtime for hip* names, else
 * from the CUDA driver), cached in *cache after the first call: one load on the hot path. */
static inline void *grey_real(void **cache, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (__builtin_expect(fn != 0, 1))
        return fn;
    return grey_real_resolve(cache, name);
}

#endif
