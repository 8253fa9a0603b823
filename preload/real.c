#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

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

/* The vendor libraries grey wraps, opened on first use. Prefer the copy the program already
 * has: RTLD_NOLOAD matches it by soname, whatever path it came from. */
struct vendor_library {
    const char *soname;
    void *handle;
    pthread_once_t once;
};

static struct vendor_library cuda_driver = {"libcuda.so.1", NULL, PTHREAD_ONCE_INIT};
static struct vendor_library nvml = {"libnvidia-ml.so.1", NULL, PTHREAD_ONCE_INIT};

static void open_library(struct vendor_library *lib)
{
    lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_NOLOAD);
    if (!lib->handle)
        lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_GLOBAL);
    if (!lib->handle)
        grey_log("cannot open %s: %s", lib->soname, dlerror());
}

static void open_cuda_driver(void) { open_library(&cuda_driver); }
static void open_nvml(void) { open_library(&nvml); }

static void *library_symbol(struct vendor_library *lib, void (*opener)(void), const char *name)
{
    pthread_once(&lib->once, opener);
    return lib->handle ? grey_real_dlsym(lib->handle, name) : NULL;
}

void *grey_driver_symbol(const char *name)
{
    return library_symbol(&cuda_driver, open_cuda_driver, name);
}

void *grey_nvml_symbol(const char *name)
{
    return library_symbol(&nvml, open_nvml, name);
}

void *grey_real_resolve(void **cache, const char *name)
{
    bool is_nvml = strncmp(name, "nvml", 4) == 0;
    void *fn = is_nvml ? grey_nvml_symbol(name) : grey_driver_symbol(name);
    if (fn)
        __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
    else
        grey_warn("%s has no %s; the call fails", is_nvml ? nvml.soname : cuda_driver.soname, name);
    return fn;
}
