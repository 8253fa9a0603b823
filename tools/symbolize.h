/* Function names and source lines for call-site frames (module file + offset), the way
 * heaptrack's tools do it: after the run, outside the program. grey reads each module's symbol
 * table and DWARF in-process with elfutils' libdw (separate debug files found by build id or
 * debuglink too), so it needs no binutils: CUDA runtime images seldom have them. A frame in
 * code the compiler inlined names the inlined function and, through inlined_into, the
 * functions it was inlined into, each at the line of the call. A module that is gone or has no
 * symbols leaves its frames unnamed; the report then shows module + offset. */
#ifndef GREY_SYMBOLIZE_H
#define GREY_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct grey_symbol {
    char *function;   /* demangled when a C++ demangler is at hand; NULL when unknown */
    char *file;       /* NULL when unknown */
    unsigned line;    /* 0 when unknown */
    /* The frame is in inlined code: the function it was inlined into, with the file and line of
     * the inlined call there (and so on outwards). NULL for code not inlined. */
    struct grey_symbol *inlined_into;
};

/* A cache of (module, offset) -> symbol, filled lazily: add every frame first, then resolve
 * once, then look up. */
struct grey_symbolizer;

struct grey_symbolizer *grey_symbolizer_new(void);
void grey_symbolizer_free(struct grey_symbolizer *s);
/* offset is a return address's offset; the call instruction before it is what gets named. */
void grey_symbolizer_add(struct grey_symbolizer *s, const char *module, uint64_t offset);
void grey_symbolizer_resolve(struct grey_symbolizer *s);
/* The symbol for a frame added before resolve; never NULL (an empty symbol when unknown). */
const struct grey_symbol *grey_symbolizer_get(const struct grey_symbolizer *s, const char *module, uint64_t offset);

/* Frees what sym holds (its strings and its inlined_into chain), not sym itself. */
void grey_symbol_clear(struct grey_symbol *sym);

#endif
