#include "intercept.h"

#include <pthread.h>
#include <string.h>

/* The vendor's address for every row, looked up once per library when its procaddress function is
 * first called (cuGetProcAddress is called hundreds of times while the CUDA runtime starts, always
 * off the hot path). Per library, because a process that asks CUDA about addresses must not have
 * grey look into (or load) a HIP runtime, and the other way round. */
static pthread_once_t resolved[GREY_LIB_COUNT] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void resolve_rows(enum grey_lib lib)
{
    for (size_t i = 0; i < grey_intercept_count; i++)
        if (grey_intercepts[i].lib == lib)
            grey_intercept_vendor_address[i] =
                lib == GREY_LIB_HIP ? grey_lib_symbol_loaded(lib, grey_intercepts[i].name)
                                    : grey_lib_symbol(lib, grey_intercepts[i].name);
}

static void resolve_cuda(void) { resolve_rows(GREY_LIB_CUDA); }
static void resolve_nvml(void) { resolve_rows(GREY_LIB_NVML); }
static void resolve_hip(void) { resolve_rows(GREY_LIB_HIP); }
static void (*const resolvers[GREY_LIB_COUNT])(void) = {
    [GREY_LIB_CUDA] = resolve_cuda, [GREY_LIB_NVML] = resolve_nvml, [GREY_LIB_HIP] = resolve_hip};

const struct grey_intercept *grey_intercept_find(const char *name)
{
    for (size_t i = 0; i < grey_intercept_count; i++)
        if (strcmp(grey_intercepts[i].name, name) == 0)
            return &grey_intercepts[i];
    return NULL;
}

void *grey_intercept_by_address(enum grey_lib lib, void *vendor_fn)
{
    if (!vendor_fn)
        return NULL;
    pthread_once(&resolved[lib], resolvers[lib]);
    for (size_t i = 0; i < grey_intercept_count; i++) {
        if (grey_intercepts[i].lib != lib)
            continue;
        if (grey_intercept_vendor_address[i] == vendor_fn || grey_intercepts[i].replacement == vendor_fn)
            return grey_intercepts[i].replacement;
    }
    return NULL;
}

bool grey_intercept_covers_base(const char *base)
{
    size_t n = strlen(base);
    for (size_t i = 0; i < grey_intercept_count; i++) {
        const char *name = grey_intercepts[i].name;
        if (strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '_'))
            return true;
    }
    return false;
}
