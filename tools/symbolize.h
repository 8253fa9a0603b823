/* Function names and source lines for call-site frames (module file + offset), the way
 * heaptrack's tools do it: after the run, outside the program. grey runs binutils' addr2line
 * once per module with all of that module's offsets (GREY_ADDR2LINE names another binary), so a
 * report with thousands of frames costs a handful of processes. A module that is gone or has no
 * symbols leaves its frames unnamed; the report then shows module + offset. */
#ifndef GREY_SYMBOLIZE_H
#define GREY_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct grey_symbol {
    char *function;   /* demangled; NULL when unknown */
    char *file;       /* NULL when unknown */
    unsigned line;    /* 0 when unknown */
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

/* Parses one addr2line answer ("function" line and "file:line" line) into sym. */
void grey_symbol_parse(const char *function_line, const char *location_line, struct grey_symbol *sym);

#endif
