/* The VMM mapping table (vmm_table.h): two small arrays under one mutex, searched linearly. A
 * program maps at most some thousands of ranges, and each VMM call costs the driver far more
 * than the search. */
#include "vmm_table.h"
#include "vmm_share.h"

#include "policy/array_room.h"

#include <pthread.h>
#include <stdlib.h>

struct vmm_mapping {
    uint64_t va, size, key;
};

/* A handle the table follows: its live mappings and its unreleased references. */
struct vmm_handle {
    uint64_t key;
    uint32_t maps;
    uint32_t refs;
};

static pthread_mutex_t vmm_mutex;
static pthread_once_t vmm_once = PTHREAD_ONCE_INIT;
static struct vmm_mapping *mappings;
static size_t mapping_count, mapping_cap;
static struct vmm_handle *handles;
static size_t handle_count, handle_cap;

static void vmm_mutex_init(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&vmm_mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

void grey_vmm_lock(void)
{
    pthread_once(&vmm_once, vmm_mutex_init);
    pthread_mutex_lock(&vmm_mutex);
}

void grey_vmm_unlock(void) { pthread_mutex_unlock(&vmm_mutex); }

bool grey_vmm_trylock(void)
{
    pthread_once(&vmm_once, vmm_mutex_init);
    return pthread_mutex_trylock(&vmm_mutex) == 0;
}

void grey_vmm_fork_prepare(void) { grey_vmm_lock(); }
void grey_vmm_fork_parent(void) { grey_vmm_unlock(); }

void grey_vmm_fork_child(void)
{
    free(mappings);
    free(handles);
    mappings = NULL;
    handles = NULL;
    mapping_count = mapping_cap = handle_count = handle_cap = 0;
    grey_vmm_share_fork_child();
    vmm_mutex_init(); /* the forking thread held it; a fresh one is simpler than unlocking */
}

static struct vmm_handle *handle_of(uint64_t key)
{
    for (size_t i = 0; i < handle_count; i++)
        if (handles[i].key == key)
            return &handles[i];
    return NULL;
}

bool grey_vmm_known(uint64_t key) { return handle_of(key) != NULL; }

/* Drops the entry once nothing keeps the memory; true when it did. */
static bool drop_if_unused(struct vmm_handle *h)
{
    if (h->maps || h->refs)
        return false;
    *h = handles[--handle_count];
    return true;
}

bool grey_vmm_released(uint64_t key)
{
    struct vmm_handle *h = handle_of(key);
    if (!h)
        return true;
    if (h->refs)
        h->refs--;
    return drop_if_unused(h);
}

void grey_vmm_retained(uint64_t key)
{
    struct vmm_handle *h = handle_of(key);
    if (h)
        h->refs++;
}

bool grey_vmm_referenced(uint64_t key)
{
    struct vmm_handle *h = handle_of(key);
    if (h) {
        h->refs++;
        return true;
    }
    if (!grey_array_room((void **)&handles, handle_count, &handle_cap, sizeof *handles))
        return false;
    /* Not mapped yet: the table did not follow it; its first reference and this one. */
    handles[handle_count++] = (struct vmm_handle){.key = key, .refs = 2};
    return true;
}

int grey_vmm_add_mapping(uint64_t va, uint64_t size, uint64_t key)
{
    if (!grey_array_room((void **)&mappings, mapping_count, &mapping_cap, sizeof *mappings))
        return -1;
    struct vmm_handle *h = handle_of(key);
    if (!h) {
        if (!grey_array_room((void **)&handles, handle_count, &handle_cap, sizeof *handles))
            return -1;
        h = &handles[handle_count++];
        *h = (struct vmm_handle){.key = key, .refs = 1}; /* the create's reference */
    }
    h->maps++;
    mappings[mapping_count++] = (struct vmm_mapping){va, size, key};
    return 0;
}

void grey_vmm_remove_range(uint64_t va, uint64_t size, void (*freed)(uint64_t key))
{
    for (size_t i = 0; i < mapping_count;) {
        struct vmm_mapping *m = &mappings[i];
        if (m->va >= va + size || va >= m->va + m->size) {
            i++;
            continue;
        }
        uint64_t key = m->key;
        *m = mappings[--mapping_count];
        struct vmm_handle *h = handle_of(key);
        if (h && h->maps)
            h->maps--;
        if (h && drop_if_unused(h))
            freed(key);
    }
}
