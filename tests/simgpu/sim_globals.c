/* A loaded image's global variables (sim_globals.h), shared by libraries (sim_library.c) and
 * modules (sim_module.c). */
#include "sim_globals.h"
#include "sim_fatbin.h"

#include <stdlib.h>
#include <string.h>

struct sim_global {
    char *name;
    size_t bytes;
    uintptr_t dptr; /* 0 until the first lookup */
    sim_global *next;
};

void sim_globals_add(sim_globals *set, const char *name, size_t bytes)
{
    sim_global *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name))) {
        free(g);
        return;
    }
    g->bytes = bytes;
    g->next = set->head;
    set->head = g;
}

static void add(void *arg, const char *name, size_t bytes)
{
    sim_globals_add(arg, name, bytes);
}

size_t sim_globals_read(sim_globals *set, const void *image)
{
    size_t n = sim_image_symbols_read(image, &(sim_image_symbols){.global = add, .arg = set});
    sim_trace("image %p: %zu global variables", image, n);
    return n;
}

CUresult sim_globals_lookup(sim_globals *set, const char *name, CUdeviceptr *dptr, size_t *bytes)
{
    sim_global *g = set->head;
    while (g && strcmp(g->name, name) != 0)
        g = g->next;
    if (!g) {
        sim_trace("no global variable %s in the image", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    if (!g->dptr) {
        CUresult r = sim_mem_alloc_device(&g->dptr, g->bytes);
        if (r != CUDA_SUCCESS)
            return r;
    }
    if (dptr)
        *dptr = (CUdeviceptr)g->dptr;
    if (bytes)
        *bytes = g->bytes;
    return CUDA_SUCCESS;
}

void sim_globals_free(sim_globals *set)
{
    for (sim_global *g = set->head, *next; g; g = next) {
        next = g->next;
        if (g->dptr)
            sim_mem_free_device(g->dptr); /* already gone if its context was destroyed first */
        free(g->name);
        free(g);
    }
    set->head = NULL;
}
