/* dlsym and dlvsym: the second way programs reach the driver. The CUDA runtime, PyTorch and most
 * frameworks dlopen libcuda and look functions up by name; for an intercepted name we hand out
 * grey's function, whatever the handle (RTLD_NEXT included: forwarding it untouched would be a
 * one-line way around every limit). */
#include <dlfcn.h>

#include "core/real.h"
#include "shim/intercept.h"

/* What a lookup that found `found` for an intercepted name hands out: grey's function, or NULL
 * when only grey's own export was found (RTLD_DEFAULT in a process without the vendor library),
 * which must not make that vendor's API look present: programs probe for CUDA or HIP exactly this
 * way. */
static void *intercepted(const char *name, void *found)
{
    if (!found)
        return NULL;
    const struct grey_intercept *row = grey_intercept_find(name);
    if (!row)
        return found;
    if (found == row->replacement && !grey_lib_symbol_loaded(row->lib, name))
        return NULL;
    return row->replacement;
}

__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    /* Everything that is not driver API goes straight on. Written as a tail call so that glibc,
     * which resolves RTLD_NEXT relative to its caller's return address, still sees the
     * program's call site rather than this library. */
    if (!grey_is_driver_name(name))
        return grey_real_dlsym(handle, name);
    return intercepted(name, grey_real_dlsym(handle, name));
}

/* dlvsym: the same lookup with a symbol version ("hipMalloc", "hip_4.2"). Whatever version is
 * asked for, the function it finds is the one grey intercepts: a version string must not be a
 * way around the caps. */
__attribute__((visibility("default"))) void *dlvsym(void *handle, const char *name, const char *version)
{
    if (!grey_is_driver_name(name))
        return grey_real_dlvsym(handle, name, version);
    return intercepted(name, grey_real_dlvsym(handle, name, version));
}
