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

void *grey_real_resolve(void **cache, const char *name);

/* The real function for name (from NVML for nvml* names, else from the CUDA driver), cached in
 * *cache after the first call: one load on the hot path. */
static inline void *grey_real(void **cache, const char *name)
{
    void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (__builtin_expect(fn != 0, 1))
        return fn;
    return grey_real_resolve(cache, name);
}

#endif
