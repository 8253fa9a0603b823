/* The table of intercepted vendor functions, and the lookups the ways in need: by exported name
 * (dlsym, LD_AUDIT bindings) and by the vendor's own address (cuGetProcAddress,
 * hipGetProcAddress). Each row names its vendor library, so nothing guesses it from a name. */
#ifndef GREY_INTERCEPT_H
#define GREY_INTERCEPT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/real.h"

struct grey_intercept {
    enum grey_lib lib;     /* the vendor library the function belongs to */
    const char *name;      /* its exported symbol, e.g. "cuMemAlloc_v2" */
    void *replacement;     /* grey's function with that name and type */
};

/* Defined in shim/intercept_table.c: one row per intercepted symbol, and room for each row's
 * vendor address (filled on first use). */
extern const struct grey_intercept grey_intercepts[];
extern const size_t grey_intercept_count;
extern void *grey_intercept_vendor_address[];

/* The row for an exported symbol name, or NULL. */
const struct grey_intercept *grey_intercept_find(const char *name);

/* grey's replacement for a function pointer that lib handed out, or NULL when the pointer is none
 * of lib's intercepted functions. A pointer that already is one of grey's is returned unchanged.
 * Only rows of lib are looked at (and looked up, in a library the process already has), so a
 * process that asks CUDA about addresses never makes grey look into a HIP runtime. */
void *grey_intercept_by_address(enum grey_lib lib, void *vendor_fn);

/* True when some intercepted symbol is a version of this procaddress base name ("cuMemAlloc"
 * for "cuMemAlloc_v2", "cuLaunchKernel" for "cuLaunchKernel_ptsz"). */
bool grey_intercept_covers_base(const char *base);

/* True when name starts with prefix followed by an upper-case letter ("cuMemAlloc" for "cu"). */
static inline bool grey_has_api_prefix(const char *name, const char *prefix)
{
    while (*prefix)
        if (*name++ != *prefix++)
            return false;
    return *name >= 'A' && *name <= 'Z';
}

/* A fast filter for dlsym, which is called for every symbol a program looks up: true for names
 * that could be vendor API grey wraps (cu*, nvml*, hip*, each followed by an upper-case letter).
 * The table lookup decides. */
static inline bool grey_is_driver_name(const char *name)
{
    if (!name)
        return false;
    return grey_has_api_prefix(name, "cu") || grey_has_api_prefix(name, "nvml") || grey_has_api_prefix(name, "hip");
}

#endif
