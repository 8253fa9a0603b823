/* Context-local storage (export table c693336e-1121-df11-a8c3-68f355d89593).
 *
 * The runtime keeps its per-context state (the modules it registered, its default streams, ...)
 * in the driver: it stores a value under a key of its choosing in a context, looks it up on
 * later calls, and hands a destructor that the driver calls when the context goes away (so that
 * cudaDeviceReset and a re-created primary context start clean). A lookup that finds nothing
 * must fail: that is how the runtime learns that a context is new to it.
 *
 * This table has no size word: its four entries are put, delete, get and one unused. A NULL
 * context means the calling thread's current one. Entries live in one list under a mutex; the
 * runtime makes a handful of them per context. */
#include "sim_internal.h"

#include <stdlib.h>

typedef void (*cls_dtor)(CUcontext ctx, void *key, void *value);

typedef struct cls_entry {
    CUcontext ctx;
    void *key;
    void *value;
    cls_dtor dtor;
    struct cls_entry *next;
} cls_entry;

static pthread_mutex_t cls_lock = PTHREAD_MUTEX_INITIALIZER;
static cls_entry *cls_list;

static CUresult resolve_ctx(CUcontext *ctx)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!*ctx)
        return sim_ctx_require(ctx);
    return sim_ctx_check(*ctx);
}

/* Callers hold cls_lock. */
static cls_entry **find(CUcontext ctx, void *key)
{
    cls_entry **pp = &cls_list;
    while (*pp && !((*pp)->ctx == ctx && (*pp)->key == key))
        pp = &(*pp)->next;
    return pp;
}

static CUresult cls_put(CUcontext ctx, void *key, void *value, cls_dtor dtor)
{
    CUresult r = resolve_ctx(&ctx);
    sim_trace("export table ctx_storage[0] put(ctx %p, key %p, value %p): %d", (void *)ctx, key,
              value, (int)r);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&cls_lock);
    cls_entry **pp = find(ctx, key);
    if (*pp) {
        (*pp)->value = value;
        (*pp)->dtor = dtor;
    } else {
        cls_entry *e = malloc(sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&cls_lock);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        *e = (cls_entry){ctx, key, value, dtor, cls_list};
        cls_list = e;
    }
    pthread_mutex_unlock(&cls_lock);
    return CUDA_SUCCESS;
}

static CUresult cls_delete(CUcontext ctx, void *key)
{
    CUresult r = resolve_ctx(&ctx);
    sim_trace("export table ctx_storage[1] delete(ctx %p, key %p): %d", (void *)ctx, key, (int)r);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&cls_lock);
    cls_entry **pp = find(ctx, key);
    cls_entry *e = *pp;
    if (e)
        *pp = e->next;
    pthread_mutex_unlock(&cls_lock);
    free(e);
    return CUDA_SUCCESS;
}

static CUresult cls_get(void **value, CUcontext ctx, void *key)
{
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = resolve_ctx(&ctx);
    if (r == CUDA_SUCCESS) {
        pthread_mutex_lock(&cls_lock);
        cls_entry *e = *find(ctx, key);
        if (e)
            *value = e->value;
        else
            r = CUDA_ERROR_INVALID_HANDLE;
        pthread_mutex_unlock(&cls_lock);
    }
    sim_trace("export table ctx_storage[2] get(ctx %p, key %p): %d", (void *)ctx, key, (int)r);
    return r;
}

void sim_ctx_storage_drop(CUcontext ctx)
{
    cls_entry *doomed = NULL;
    pthread_mutex_lock(&cls_lock);
    for (cls_entry **pp = &cls_list; *pp;) {
        cls_entry *e = *pp;
        if (e->ctx == ctx) {
            *pp = e->next;
            e->next = doomed;
            doomed = e;
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&cls_lock);
    while (doomed) {
        cls_entry *next = doomed->next;
        sim_trace("context-local storage: destroying key %p of ctx %p", doomed->key, (void *)ctx);
        if (doomed->dtor)
            doomed->dtor(ctx, doomed->key, doomed->value);
        free(doomed);
        doomed = next;
    }
}

SIM_UNKNOWN_ENTRY(ctx_storage, 3)

static const void *const ctx_storage[4] = {
    (const void *)cls_put,
    (const void *)cls_delete,
    (const void *)cls_get,
    (const void *)unknown_ctx_storage_3,
};

const void *sim_table_ctx_storage(void) { return ctx_storage; }
