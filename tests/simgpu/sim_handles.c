/* A registry of live opaque handles (arrays, VMM allocations), so that a bad handle from the
 * caller is refused with an error instead of being dereferenced, as the real driver does. */
#include "sim_internal.h"

#include <search.h>

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static void *handles_root;

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y ? -1 : x > y;
}

void sim_handle_add(const void *h)
{
    pthread_mutex_lock(&handles_lock);
    tsearch(h, &handles_root, ptr_cmp);
    pthread_mutex_unlock(&handles_lock);
}

bool sim_handle_take(const void *h)
{
    pthread_mutex_lock(&handles_lock);
    bool found = h && tfind(h, &handles_root, ptr_cmp) != NULL;
    if (found)
        tdelete(h, &handles_root, ptr_cmp);
    pthread_mutex_unlock(&handles_lock);
    return found;
}

bool sim_handle_live(const void *h)
{
    pthread_mutex_lock(&handles_lock);
    bool found = h && tfind(h, &handles_root, ptr_cmp) != NULL;
    pthread_mutex_unlock(&handles_lock);
    return found;
}
