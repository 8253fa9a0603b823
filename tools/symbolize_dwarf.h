/* One module's symbols through elfutils' libdwfl (symbolize_dwarf.c), for symbolize.c. */
#ifndef GREY_SYMBOLIZE_DWARF_H
#define GREY_SYMBOLIZE_DWARF_H

#include <stdint.h>

#include "symbolize.h"

struct grey_dwarf_module;

/* The ELF file at path (and its separate debug file, if any); NULL when it cannot be read. */
struct grey_dwarf_module *grey_dwarf_open(const char *path);
/* Names the instruction at addr (an address of the file as linked: load bias taken off). */
void grey_dwarf_lookup(struct grey_dwarf_module *m, uint64_t addr, struct grey_symbol *sym);
void grey_dwarf_close(struct grey_dwarf_module *m);

#endif
