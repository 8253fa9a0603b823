/* The global variables (__device__, __constant__, __managed__) of a code image handed to
 * cuLibraryLoadData / cuModuleLoadData: their names and sizes, read from the symbol tables of
 * the cubins inside (sim_fatbin.c). No vendor type here. */
#ifndef GREY_SIM_FATBIN_H
#define GREY_SIM_FATBIN_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Calls found(arg, name, bytes) for every data object of the first cubin in image that has a
 * symbol table (a fatbin wrapper, a fatbin, or a bare cubin); returns how many it found, 0 for
 * an image it cannot read (PTX only, compressed without libzstd, unknown format). */
size_t sim_image_globals(const void *image, void (*found)(void *arg, const char *name, size_t bytes), void *arg);

#pragma GCC visibility pop

#endif
