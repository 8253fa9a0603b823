/* hipGetProcAddress as ROCm 6.1+ implements it: the runtime opens itself by soname and looks the
 * name up with dlsym on that handle; with the per-thread-default-stream flag it tries NAME_spt
 * first. (That dlsym is the program's global one, so a preloaded dlsym sees HIP's own lookups.)
 * Names that changed meaning with a version are mapped the way HIP maps them. */
#include "hsim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define PROC_SUCCESS 0          /* HIP_GET_PROC_ADDRESS_SUCCESS */
#define PROC_NOT_FOUND 1        /* HIP_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND */
#define PROC_PER_THREAD (1 << 1) /* HIP_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM */
#define PROC_FLAGS_KNOWN 3

static hipError_t lookup(const char *symbol, void **pfn, int version, uint64_t flags, int *status)
{
    if (!symbol || !*symbol || !pfn || (flags & ~(uint64_t)PROC_FLAGS_KNOWN))
        return hipErrorInvalidValue;
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    const char *name = symbol;
    if (version >= 600 && strcmp(symbol, "hipGetDeviceProperties") == 0)
        name = "hipGetDevicePropertiesR0600";
    void *self = dlopen("libamdhip64.so.5", RTLD_NOW | RTLD_NOLOAD);
    *pfn = NULL;
    if (self && (flags & PROC_PER_THREAD)) {
        char spt[256];
        if (snprintf(spt, sizeof spt, "%s_spt", name) < (int)sizeof spt)
            *pfn = dlsym(self, spt);
    }
    if (self && !*pfn)
        *pfn = dlsym(self, name);
    if (self)
        dlclose(self);
    if (status)
        *status = *pfn ? PROC_SUCCESS : PROC_NOT_FOUND;
    return *pfn ? hipSuccess : hipErrorInvalidValue;
}

hipError_t hipGetProcAddress(const char *symbol, void **pfn, int version, uint64_t flags, int *status)
{
    return lookup(symbol, pfn, version, flags, status);
}

hipError_t hipGetProcAddress_spt(const char *symbol, void **pfn, int version, uint64_t flags, int *status)
{
    return lookup(symbol, pfn, version, flags ? flags : PROC_PER_THREAD, status);
}
