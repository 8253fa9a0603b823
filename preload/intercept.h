/* The table of intercepted driver functions, and the two lookups that the interception paths
 * need: by exported name (dlsym) and by the driver's own address (cuGetProcAddress). */
#ifndef GREY_INTERCEPT_H
#define GREY_INTERCEPT_H

#include <stdbool.h>
#include <stddef.h>

struct grey_intercept {
    const char *name;      /* the driver's exported symbol, e.g. "cuMemAlloc_v2" */
    void *replacement;     /* grey's function with that name and type */
};

/* Defined in shim/intercept_table.c: one row per intercepted symbol. */
extern const struct grey_intercept grey_intercepts[];
extern const size_t grey_intercept_count;

/* grey's replacement for an exported driver symbol name, or NULL. */
void *grey_intercept_by_name(const char *name);

/* grey's replacement for a function pointer the CUDA driver handed out, or NULL when the pointer
 * is none of the driver's intercepted functions. A pointer that already is one of grey's is
 * returned unchanged. */
void *grey_intercept_by_address(void *driver_fn);
/* The same among the rows of one vendor's API prefix ("cu", "hip"): what hipGetProcAddress
 * handed out is looked up among the hip* rows only. */
void *grey_intercept_by_address_in(const char *prefix, void *driver_fn);

/* True when some intercepted symbol is a version of this cuGetProcAddress base name
 * ("cuMemAlloc" for "cuMemAlloc_v2", "cuLaunchKernel" for "cuLaunchKernel_ptsz"). */
bool grey_intercept_covers_base(const char *base);

/* True when name starts with prefix followed by an upper-case letter ("cuMemAlloc" for "cu"). */
static inline bool grey_has_api_prefix(const char *name, const char *prefix)
{
    while (*prefix)
        if (*name++ != *prefix++)
            return false;
    return *name >= 'A' && *name <= 'Z';
}

/* True for names that could be vendor API grey wraps: the CUDA driver (cu*), NVML (nvml*) and
 * HIP (hip*), each followed by an upper-case letter. A fast filter for dlsym, which is called
 * for every symbol a program looks up. */
static inline bool grey_is_driver_name(const char *name)
{
    if (!name)
        return false;
    return grey_has_api_prefix(name, "cu") || grey_has_api_prefix(name, "nvml") || grey_has_api_prefix(name, "hip");
}

#endif
