#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "log.h"

typedef void *(*dlsym_fn)(void *, const char *);

static dlsym_fn libc_dlsym;
static pthread_once_t libc_dlsym_once = PTHREAD_ONCE_INIT;

static void find_libc_dlsym(void)
{
    /* glibc 2.34 moved dlsym into libc under a new version; older programs bind the old one. */
    libc_dlsym = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!libc_dlsym)
        libc_dlsym = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
}

void *grey_real_dlsym(void *handle, const char *name)
{
    pthread_once(&libc_dlsym_once, find_libc_dlsym);
    if (!libc_dlsym)
        return NULL;
    return libc_dlsym(handle, name);
}

static void *driver_handle;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void open_driver(void)
{
    /* Prefer the copy the program already has: the soname matches whatever path it came from. */
    driver_handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!driver_handle)
        driver_handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!driver_handle)
        grey_log("no CUDA driver: %s", dlerror());
}

void *grey_driver_symbol(const char *name)
{
    pthread_once(&driver_once, open_driver);
    if (!driver_handle)
        return NULL;
    return grey_real_dlsym(driver_handle, name);
}

void *grey_real_resolve(void **cache, const char *name)
{
    void *fn = grey_driver_symbol(name);
    if (fn)
        __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
    else
        grey_warn("the CUDA driver has no %s; the call fails with CUDA_ERROR_NOT_FOUND", name);
    return fn;
}
