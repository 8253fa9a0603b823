#include "intercept.h"

#include <pthread.h>
#include <string.h>

#include "real.h"

/* The driver's address for every row, looked up once: cuGetProcAddress is called hundreds of
 * times while the CUDA runtime starts, always off the hot path. */
#define MAX_INTERCEPTS 256
static void *driver_addresses[MAX_INTERCEPTS];
static pthread_once_t addresses_once = PTHREAD_ONCE_INIT;

static void resolve_driver_addresses(void)
{
    for (size_t i = 0; i < grey_intercept_count && i < MAX_INTERCEPTS; i++)
        driver_addresses[i] = grey_driver_symbol(grey_intercepts[i].name);
}

void *grey_intercept_by_name(const char *name)
{
    for (size_t i = 0; i < grey_intercept_count; i++)
        if (strcmp(grey_intercepts[i].name, name) == 0)
            return grey_intercepts[i].replacement;
    return NULL;
}

void *grey_intercept_by_address(void *driver_fn)
{
    if (!driver_fn)
        return NULL;
    pthread_once(&addresses_once, resolve_driver_addresses);
    for (size_t i = 0; i < grey_intercept_count && i < MAX_INTERCEPTS; i++) {
        if (driver_addresses[i] == driver_fn || grey_intercepts[i].replacement == driver_fn)
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
