/* LD_AUDIT=libgreyhook.so: the same hook, loaded by the dynamic linker's audit interface instead
 * of LD_PRELOAD.
 *
 * Why: with LD_PRELOAD, grey's exported hip* functions interpose on every reference in the
 * process, the HIP runtime's references to its own exported functions included, and HAMi's
 * AMD prototype reported that ROCm 7.x's HIP breaks that way ("recursive re-entry through
 * HIP-internal calls"; they moved to LD_AUDIT). The audit interface instead reports each binding
 * between two objects (la_symbind64), so grey can redirect exactly the program's and the other
 * libraries' bindings to a vendor library and leave the vendor library's bindings to itself
 * alone. (The LD_PRELOAD path guards against the same re-entry itself: hip_shim.h.)
 *
 * How: la_objopen marks every object of the program's namespace: the vendor libraries (libcuda,
 * libnvidia-ml, libamdhip64) as binding targets, everything else as callers. la_symbind64 swaps
 * a caller's binding to an intercepted vendor function for grey's wrapper, one table for every
 * path (shim/intercept_table.c): linked symbols, and dlsym, whose results glibc reports through
 * la_symbind64 too. hipGetProcAddress and cuGetProcAddress are bound like any other function and
 * swap what they return (shim/cuda_procaddress.c, shim/hip_procaddress.c).
 *
 * Living in its own link namespace: grey's copy of libc is not the program's. The vendor
 * libraries are looked up in the program's namespace (preload/real.c), never loaded by grey; and
 * the program forks through its own libc, so the hook's fork handlers are registered there too
 * (la_preinit). Nothing here runs on a hot path: bindings happen once per symbol. */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "core/log.h"
#include "core/real.h"
#include "shim/intercept.h"
#include "init.h"

#define GREY_EXPORT __attribute__((visibility("default")))

/* Cookies grey gives the objects of the program's namespace. Every other object keeps the
 * dynamic linker's default cookie (its link_map address), which is never 1 or 2. */
enum { COOKIE_CALLER = 1, COOKIE_VENDOR = 2 };

/* A copy of the hook is also preloaded (LD_PRELOAD and LD_AUDIT both name it): that copy is
 * already in every binding, so this one stands aside rather than count each allocation twice. */
static bool standing_aside;

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

GREY_EXPORT unsigned int la_version(unsigned int version)
{
    grey_real_use_base_namespace();
    return version < LAV_CURRENT ? version : LAV_CURRENT;
}

GREY_EXPORT unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
    if (lmid != LM_ID_BASE)
        return 0;
    const char *name = base_name(map->l_name ? map->l_name : "");
    if (has_prefix(name, "libcuda.so") || has_prefix(name, "libnvidia-ml.so") || has_prefix(name, "libamdhip64.so")) {
        *cookie = COOKIE_VENDOR;
        return LA_FLG_BINDTO;
    }
    if (has_prefix(name, "libgreyhook.so")) {
        if (!standing_aside)
            grey_warn("libgreyhook.so is both preloaded and loaded through LD_AUDIT; the preloaded copy "
                      "does the work (use one or the other)");
        standing_aside = true;
        return 0;
    }
    *cookie = COOKIE_CALLER;
    return LA_FLG_BINDFROM;
}

GREY_EXPORT void la_preinit(uintptr_t *cookie)
{
    (void)cookie;
    if (standing_aside)
        return;
    void *libc = dlmopen(LM_ID_BASE, "libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    int (*register_atfork)(void (*)(void), void (*)(void), void (*)(void), void *) =
        libc ? (int (*)(void (*)(void), void (*)(void), void (*)(void), void *))grey_real_dlsym(libc, "__register_atfork")
             : NULL;
    void (*prepare)(void), (*parent)(void), (*child)(void);
    grey_init_fork_handlers(&prepare, &parent, &child);
    if (!register_atfork || register_atfork(prepare, parent, child, NULL) != 0)
        grey_warn("LD_AUDIT: cannot register fork handlers with the program's C library; a forked child "
                  "would be counted as its parent");
}

GREY_EXPORT uintptr_t la_symbind64(Elf64_Sym *sym, unsigned int ndx, uintptr_t *refcook, uintptr_t *defcook,
                                   unsigned int *flags, const char *symname)
{
    (void)ndx;
    (void)flags;
    if (!standing_aside && *refcook == COOKIE_CALLER && *defcook == COOKIE_VENDOR && grey_is_driver_name(symname)) {
        const struct grey_intercept *row = grey_intercept_find(symname);
        if (row)
            return (uintptr_t)row->replacement;
    }
    return sym->st_value;
}
