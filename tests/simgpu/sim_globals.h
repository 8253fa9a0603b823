/* The global variables of one loaded image (a library or a module): read from the image
 * (sim_fatbin.c) at load, given zeroed device memory of their size at the first lookup, freed at
 * unload. The image's initial values are not copied. Callers serialise calls on one set. */
#ifndef GREY_SIM_GLOBALS_H
#define GREY_SIM_GLOBALS_H

#include "sim_internal.h"

#pragma GCC visibility push(hidden)

typedef struct sim_global sim_global;
typedef struct sim_globals {
    sim_global *head;
} sim_globals;

/* Adds the image's variables; returns how many. */
size_t sim_globals_read(sim_globals *set, const void *image);
/* Adds one variable, for a caller that reads the image's other symbols too (sim_module.c). */
void sim_globals_add(sim_globals *set, const char *name, size_t bytes);
/* dptr and bytes are each optional. CUDA_ERROR_NOT_FOUND for a name the image does not have. */
CUresult sim_globals_lookup(sim_globals *set, const char *name, CUdeviceptr *dptr, size_t *bytes);
void sim_globals_free(sim_globals *set);

#pragma GCC visibility pop

#endif
