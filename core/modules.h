/* Loaded modules (the program and its shared libraries), for writing call sites as module +
 * offset: an address means nothing once the process is gone, an offset into a file can still be
 * symbolized by the tools. Built with one dl_iterate_phdr walk when a record is written (not on
 * the allocation path), in static storage. */
#ifndef GREY_MODULES_H
#define GREY_MODULES_H

#include <stdbool.h>
#include <stdint.h>

#define GREY_MODULES_MAX 1024

struct grey_module {
    uintptr_t lo, hi;     /* the loaded segments */
    uintptr_t bias;       /* load bias: offset = address - bias (the address in the file) */
    char path[512];
    int out_id;           /* id in the record being written, -1 until used */
};

struct grey_module_map {
    unsigned n;
    struct grey_module m[GREY_MODULES_MAX];
};

struct dl_phdr_info;

/* The address range a loaded object's PT_LOAD segments span ([lo, hi), hi 0 when none). */
void grey_module_span(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);

/* Fills map with the modules loaded now. */
void grey_modules_load(struct grey_module_map *map);

/* The module holding address, or NULL. */
struct grey_module *grey_modules_find(struct grey_module_map *map, uintptr_t address);

#endif
