#include "intercept.h"

#include <pthread.h>
#include <string.h>

#include "real.h"

/* The vendor's address for every row, looked up once per vendor when its procaddress function is
 * first called (cuGetProcAddress is called hundreds of times while the CUDA runtime starts, always
 * off the hot path). Per vendor, because a process that asks CUDA about addresses must not have
 * grey look into (or load) a HIP runtime, and the other way round: hip rows are only looked up in
 * a HIP runtime the process already has. */
#define MAX_INTERCEPTS 256
static void *driver_addresses[MAX_INTERCEPTS];
static pthread_once_t cuda_once = PTHREAD_ONCE_INIT, hip_once = PTHREAD_ONCE_INIT;

static void resolve_rows(const char *prefix, void *(*lookup)(const char *))
{
    for (size_t i = 0; i < grey_intercept_count && i < MAX_INTERCEPTS; i++)
        if (grey_has_api_prefix(grey_intercepts[i].name, prefix))
            driver_addresses[i] = lookup(grey_intercepts[i].name);
}

static void resolve_cuda_rows(void) { resolve_rows("cu", grey_driver_symbol); }
static void resolve_hip_rows(void) { resolve_rows("hip", grey_hip_symbol); }

void *grey_intercept_by_name(const char *name)
{
    for (size_t i = 0; i < grey_intercept_count; i++)
        if (strcmp(grey_intercepts[i].name, name) == 0)
            return grey_intercepts[i].replacement;
    return NULL;
}

void *grey_intercept_by_address_in(const char *prefix, void *driver_fn)
{
    if (!driver_fn)
        return NULL;
    pthread_once(strcmp(prefix, "hip") == 0 ? &hip_once : &cuda_once,
                 strcmp(prefix, "hip") == 0 ? resolve_hip_rows : resolve_cuda_rows);
    for (size_t i = 0; i < grey_intercept_count && i < MAX_INTERCEPTS; i++) {
        if (!grey_has_api_prefix(grey_intercepts[i].name, prefix))
            continue;
        if (driver_addresses[i] == driver_fn || grey_intercepts[i].replacement == driver_fn)
            return grey_intercepts[i].replacement;
    }
    return NULL;
}

void *grey_intercept_by_address(void *driver_fn)
{
    return grey_intercept_by_address_in("cu", driver_fn);
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
