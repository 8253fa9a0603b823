/* dlsym: the second way programs reach the driver. The CUDA runtime, PyTorch and most
 * frameworks dlopen libcuda and look functions up by name; for an intercepted name we hand out
 * grey's function, whatever the handle (RTLD_NEXT included: forwarding it untouched would be a
 * one-line way around every limit). */
#include <dlfcn.h>

#include "intercept.h"
#include "real.h"

__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    /* Everything that is not driver API goes straight on. Written as a tail call so that glibc,
     * which resolves RTLD_NEXT relative to its caller's return address, still sees the
     * program's call site rather than this library. */
    if (!grey_is_driver_name(name))
        return grey_real_dlsym(handle, name);

    void *found = grey_real_dlsym(handle, name);
    if (!found)
        return NULL;
    void *mine = grey_intercept_by_name(name);
    return mine ? mine : found;
}
