#include "symbolize.h"

/* The cache of symbolize.h; the names themselves come from symbolize_dwarf.c. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize_dwarf.h"

struct entry {
    char *module;
    uint64_t offset;
    bool resolved;
    struct grey_symbol sym;
};

struct grey_symbolizer {
    struct entry *e;
    size_t n, cap;
    bool sorted;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->module, y->module);
    if (c)
        return c;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

struct grey_symbolizer *grey_symbolizer_new(void) { return calloc(1, sizeof(struct grey_symbolizer)); }

void grey_symbolizer_free(struct grey_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].module);
        grey_symbol_clear(&s->e[i].sym);
    }
    free(s->e);
    free(s);
}

void grey_symbolizer_add(struct grey_symbolizer *s, const char *module, uint64_t offset)
{
    if (!s || !module)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct entry *e = realloc(s->e, cap * sizeof *e);
        if (!e)
            return;
        s->e = e;
        s->cap = cap;
    }
    char *m = strdup(module);
    if (!m)
        return;
    s->e[s->n++] = (struct entry){.module = m, .offset = offset};
    s->sorted = false;
}

void grey_symbol_clear(struct grey_symbol *sym)
{
    struct grey_symbol *next = sym->inlined_into;
    free(sym->function);
    free(sym->file);
    while (next) {
        struct grey_symbol *after = next->inlined_into;
        free(next->function);
        free(next->file);
        free(next);
        next = after;
    }
    memset(sym, 0, sizeof *sym);
}

/* Names n entries of one module, the module read once for all of them. */
static void resolve_module(struct entry *e, size_t n)
{
    struct grey_dwarf_module *m = grey_dwarf_open(e[0].module);
    if (!m)
        return;
    for (size_t i = 0; i < n; i++)
        /* A return address points after the call; the call itself is one byte before. */
        grey_dwarf_lookup(m, e[i].offset ? e[i].offset - 1 : 0, &e[i].sym);
    grey_dwarf_close(m);
}

void grey_symbolizer_resolve(struct grey_symbolizer *s)
{
    if (!s || s->n == 0)
        return;
    qsort(s->e, s->n, sizeof *s->e, cmp_entry);
    /* Duplicates collapse to their first copy. */
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && cmp_entry(&s->e[w - 1], &s->e[i]) == 0) {
            free(s->e[i].module);
            continue;
        }
        s->e[w++] = s->e[i];
    }
    s->n = w;
    s->sorted = true;
    for (size_t i = 0; i < s->n;) {
        size_t j = i;
        while (j < s->n && strcmp(s->e[j].module, s->e[i].module) == 0 && !s->e[j].resolved)
            j++;
        if (j == i) {
            i++;
            continue;
        }
        if (access(s->e[i].module, R_OK) == 0)
            resolve_module(&s->e[i], j - i);
        for (size_t k = i; k < j; k++)
            s->e[k].resolved = true;
        i = j;
    }
}

const struct grey_symbol *grey_symbolizer_get(const struct grey_symbolizer *s, const char *module, uint64_t offset)
{
    static const struct grey_symbol none;
    if (!s || !s->sorted || !module)
        return &none;
    struct entry key = {.module = (char *)module, .offset = offset};
    const struct entry *e = bsearch(&key, s->e, s->n, sizeof key, cmp_entry);
    return e ? &e->sym : &none;
}
