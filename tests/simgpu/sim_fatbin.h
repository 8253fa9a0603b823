/* The symbols of a code image handed to cuLibraryLoadData / cuModuleLoadData: its global
 * variables (__device__, __constant__, __managed__: names and sizes) and its kernels (names),
 * read from the cubins' symbol tables (sim_fatbin.c) or the PTX's module-scope declarations
 * (sim_ptx.c). No vendor type here. */
#ifndef GREY_SIM_FATBIN_H
#define GREY_SIM_FATBIN_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Where the symbols go; either function may be NULL (not wanted). */
typedef struct sim_image_symbols {
    void (*global)(void *arg, const char *name, size_t bytes);
    void (*kernel)(void *arg, const char *name);
    void *arg;
} sim_image_symbols;

/* Reports the symbols of the first entry of image that has any (a fatbin wrapper, a fatbin, or a
 * bare cubin; inside a fatbin, cubins and PTX, plain, zstd- or LZ4-compressed); returns how many
 * it reported, 0 for an image it cannot read. */
size_t sim_image_symbols_read(const void *image, const sim_image_symbols *to);

/* The same for one PTX text of len bytes (it need not end in a NUL): kernels are its .entry
 * functions, globals its .global and .const variables of known size (sim_ptx.c). */
size_t sim_ptx_symbols(const char *ptx, size_t len, const sim_image_symbols *to);

#pragma GCC visibility pop

#endif
