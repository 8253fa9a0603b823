#include "real.h"

#include <dlfcn.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "libc_symbols.h"
#include "log.h"

typedef void *(*dlsym_fn)(void *, const char *);
typedef void *(*dlvsym_fn)(void *, const char *, const char *);

/* libc's dlsym and dlvsym, found once. Not through pthread_once: a sanitizer's runtime (and any
 * other preloaded library) may look symbols up with dlsym before it has set up the interceptor
 * pthread_once would reach, and finding the same address twice in a race is harmless. Not
 * through dlvsym or dlsym: grey exports both, so asking either by name would ask grey. */
static _Atomic(void *) libc_dlsym, libc_dlvsym;

static void *libc_function(_Atomic(void *) *slot, const char *name)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (!p) {
        p = grey_libc_symbol(name);
        atomic_store_explicit(slot, p, memory_order_release);
    }
    return p;
}

void *grey_real_dlsym(void *handle, const char *name)
{
    void *p = libc_function(&libc_dlsym, "dlsym");
    if (!p)
        return NULL;
    dlsym_fn f;
    memcpy(&f, &p, sizeof p);
    return f(handle, name);
}

void *grey_real_dlvsym(void *handle, const char *name, const char *version)
{
    void *p = libc_function(&libc_dlvsym, "dlvsym");
    if (!p)
        return NULL;
    dlvsym_fn f;
    memcpy(&f, &p, sizeof p);
    return f(handle, name, version);
}

/* The vendor libraries grey wraps, found on first use. Prefer the copy the program already has:
 * RTLD_NOLOAD matches it by soname, whatever path it came from. HIP's soname carries ROCm's
 * major version (.so.5, .so.6, .so.7), so each candidate is tried; grey never loads a HIP runtime
 * itself: a process without one must not get one because grey looked something up. The CUDA
 * driver and NVML are loaded when the program has not (a copy it will load anyway), once. */
struct vendor_library {
    const char *const *sonames;   /* candidates, NULL-terminated; the first is loaded if allowed */
    bool may_load;
    void *handle;                 /* atomic; NULL until found */
    int load_tried;               /* atomic; the load is attempted (and reported) once */
};

static const char *const cuda_sonames[] = {"libcuda.so.1", NULL};
static const char *const nvml_sonames[] = {"libnvidia-ml.so.1", NULL};
static const char *const hip_sonames[] = {"libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5",
                                          "libamdhip64.so", NULL};

static struct vendor_library libraries[GREY_LIB_COUNT] = {
    [GREY_LIB_CUDA] = {cuda_sonames, true, NULL, 0},
    [GREY_LIB_NVML] = {nvml_sonames, true, NULL, 0},
    [GREY_LIB_HIP] = {hip_sonames, false, NULL, 0},
};

/* Under LD_AUDIT grey lives in a link namespace of its own, where a plain dlopen would find (or
 * load) a second copy; the program's libraries are in the base namespace, and what grey loads
 * (the CUDA driver, NVML) goes there too. */
static bool base_namespace;

void grey_real_use_base_namespace(void)
{
    base_namespace = true;
}

static void *open_loaded(const char *soname)
{
    if (base_namespace)
        return dlmopen(LM_ID_BASE, soname, RTLD_NOW | RTLD_NOLOAD);
    return dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
}

static void *library_handle(struct vendor_library *lib, bool load)
{
    void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
    if (h)
        return h;
    for (const char *const *n = lib->sonames; *n && !h; n++)
        h = open_loaded(*n);
    if (!h && load && lib->may_load && !__atomic_exchange_n(&lib->load_tried, 1, __ATOMIC_ACQ_REL)) {
        h = base_namespace ? dlmopen(LM_ID_BASE, lib->sonames[0], RTLD_NOW) : dlopen(lib->sonames[0], RTLD_NOW | RTLD_GLOBAL);
        if (!h)
            grey_log("cannot open %s: %s", lib->sonames[0], dlerror());
    }
    if (h) {
        void *expected = NULL;
        /* Two threads may both have found it; keep the first (the other reference is harmless). */
        if (!__atomic_compare_exchange_n(&lib->handle, &expected, h, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            h = expected;
    }
    return h;
}

static void *library_symbol(struct vendor_library *lib, const char *name, bool load)
{
    void *h = library_handle(lib, load);
    return h ? grey_real_dlsym(h, name) : NULL;
}

void *grey_lib_symbol(enum grey_lib lib, const char *name)
{
    return library_symbol(&libraries[lib], name, true);
}

void *grey_lib_symbol_loaded(enum grey_lib lib, const char *name)
{
    return library_symbol(&libraries[lib], name, false);
}

void *grey_real_resolve(void **cache, enum grey_lib lib, const char *name, bool optional)
{
    struct vendor_library *l = &libraries[lib];
    void *h = library_handle(l, true);
    void *fn = h ? grey_real_dlsym(h, name) : NULL;
    if (fn) {
        __atomic_store_n(cache, fn, __ATOMIC_RELEASE);
        return fn;
    }
    if (!h) { /* no library (yet: a HIP runtime the program may still load): ask again next time */
        if (!optional && grey_first_time(name))
            grey_log("%s is not loaded; %s fails", lib == GREY_LIB_HIP ? "no HIP runtime (libamdhip64.so.*)" : l->sonames[0],
                     name);
        return NULL;
    }
    __atomic_store_n(cache, GREY_REAL_MISSING, __ATOMIC_RELEASE);
    /* An optional function's caller says what it does instead, where that matters (the pacer's
     * fallback to launch counts): one line per missing function, from whoever knows its cost. */
    if (!optional && grey_first_time(name))
        grey_warn("%s has no %s; the call fails", lib == GREY_LIB_HIP ? "the HIP runtime" : l->sonames[0], name);
    return NULL;
}
