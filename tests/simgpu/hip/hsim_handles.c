/* The set of live opaque handles of the simulated HIP runtime, each with its kind, so that a
 * stale or foreign handle is refused (hipErrorInvalidValue / hipErrorInvalidHandle) instead of
 * dereferenced. A tsearch tree under a mutex: handles are made and used off any hot path. */
#include "hsim.h"

#include <search.h>
#include <stdlib.h>

struct handle_entry {
    const void *h;
    hsim_handle_kind kind;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *root;

static int cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct handle_entry *)a)->h, y = (uintptr_t)((const struct handle_entry *)b)->h;
    return x < y ? -1 : x > y;
}

void hsim_handle_add(const void *h, hsim_handle_kind kind)
{
    struct handle_entry *e = malloc(sizeof *e);
    if (!e)
        return;
    *e = (struct handle_entry){h, kind};
    pthread_mutex_lock(&lock);
    void *node = tsearch(e, &root, cmp);
    if (node && *(struct handle_entry **)node != e) { /* an address reused before its take: replace */
        (*(struct handle_entry **)node)->kind = kind;
        free(e);
    }
    pthread_mutex_unlock(&lock);
}

bool hsim_handle_live(const void *h, hsim_handle_kind kind)
{
    struct handle_entry key = {h, kind};
    pthread_mutex_lock(&lock);
    void *node = h ? tfind(&key, &root, cmp) : NULL;
    bool live = node && (*(struct handle_entry **)node)->kind == kind;
    pthread_mutex_unlock(&lock);
    return live;
}

bool hsim_handle_take(const void *h, hsim_handle_kind kind)
{
    struct handle_entry key = {h, kind};
    pthread_mutex_lock(&lock);
    void *node = h ? tfind(&key, &root, cmp) : NULL;
    struct handle_entry *e = node ? *(struct handle_entry **)node : NULL;
    bool live = e && e->kind == kind;
    if (live)
        tdelete(&key, &root, cmp);
    pthread_mutex_unlock(&lock);
    if (live)
        free(e);
    return live;
}

bool hsim_stream_valid(hipStream_t s)
{
    return s == NULL || s == hipStreamPerThread || hsim_handle_live(s, HSIM_H_STREAM);
}
