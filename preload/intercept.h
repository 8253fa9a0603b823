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

/* Defined in shim/cuda_table.c: one row per intercepted symbol. */
extern const struct grey_intercept grey_intercepts[];
extern const size_t grey_intercept_count;

/* grey's replacement for an exported driver symbol name, or NULL. */
void *grey_intercept_by_name(const char *name);

/* grey's replacement for a function pointer the driver handed out, or NULL when the pointer is
 * none of the driver's intercepted functions. A pointer that already is one of grey's is
 * returned unchanged. */
void *grey_intercept_by_address(void *driver_fn);

/* True when some intercepted symbol is a version of this cuGetProcAddress base name
 * ("cuMemAlloc" for "cuMemAlloc_v2", "cuLaunchKernel" for "cuLaunchKernel_ptsz"). */
bool grey_intercept_covers_base(const char *base);

/* True for names that could be vendor API grey wraps: the CUDA driver ("cu" then an upper-case
 * letter) or NVML ("nvml" then an upper-case letter). */
static inline bool grey_is_driver_name(const char *name)
{
    if (!name)
        return false;
    if (name[0] == 'c' && name[1] == 'u')
        return name[2] >= 'A' && name[2] <= 'Z';
    return name[0] == 'n' && name[1] == 'v' && name[2] == 'm' && name[3] == 'l' && name[4] >= 'A' && name[4] <= 'Z';
}

#endif
