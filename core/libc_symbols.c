/* Finding the C library's own dlsym and dlvsym (core/libc_symbols.h).
 *
 * grey exports both (preload/dlsym.c), so every way of asking the dynamic linker for a symbol by
 * name lands in grey first, grey's own lookups included. The one way out that needs no symbol
 * lookup is to read the C library's dynamic symbol table: the dynamic linker's list of loaded
 * objects (the r_debug structure debuggers read, found through the program's DT_DEBUG entry, so
 * that the hook needs nothing of the dynamic linker's own library) gives each one's address and
 * dynamic section, and the GNU hash table (every glibc since 2.5 carries one) finds a name. A sanitizer runtime asks
 * grey's dlsym for the functions it intercepts while it initializes, before its shadow memory
 * exists and before its own strcmp works: so nothing here is instrumented, and nothing here calls
 * a function (the few string loops are written out). Of a name's versions, the default one (its
 * version index not marked hidden) is what an ordinary reference binds to, and that is the one
 * taken.
 * glibc 2.34 moved dlsym and dlvsym from libdl.so.2 into libc.so.6; both are searched. */
#include "libc_symbols.h"

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>

#define UNINSTRUMENTED __attribute__((no_sanitize("address", "undefined", "thread"), noinline))

UNINSTRUMENTED static bool same(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

UNINSTRUMENTED static bool equal(const char *a, const char *b)
{
    for (; *a && *a == *b; a++, b++)
        ;
    return *a == *b;
}

UNINSTRUMENTED static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

UNINSTRUMENTED static bool is_c_library(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/')
            base = p + 1;
    return same(base, "libc.so", 7) || same(base, "libdl.so", 8);
}

/* A dynamic-section address: glibc relocates them in place on most architectures, not on those
 * whose dynamic section is read-only; an address below the object's base is not yet relocated. */
UNINSTRUMENTED static const void *at(ElfW(Addr) base, ElfW(Addr) ptr)
{
    return (const void *)(ptr < base ? ptr + base : ptr);
}

UNINSTRUMENTED static void *lookup(const struct link_map *m, const char *name)
{
    const ElfW(Dyn) *dyn = m->l_ld;
    ElfW(Addr) base = m->l_addr;
    if (!dyn)
        return NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const uint32_t *hash = NULL;
    const ElfW(Half) *versym = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            symtab = at(base, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            strtab = at(base, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_GNU_HASH)
            hash = at(base, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_VERSYM)
            versym = at(base, dyn->d_un.d_ptr);
    }
    if (!symtab || !strtab || !hash || hash[0] == 0)
        return NULL;
    uint32_t nbuckets = hash[0], symoffset = hash[1], bloom_size = hash[2];
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)(hash + 4);
    const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t h = gnu_hash(name);
    for (uint32_t i = buckets[h % nbuckets]; i >= symoffset && i != 0; i++) {
        uint32_t ch = chain[i - symoffset];
        const ElfW(Sym) *sym = &symtab[i];
        if ((ch | 1) == (h | 1) && equal(strtab + sym->st_name, name) && sym->st_shndx != SHN_UNDEF &&
            (!versym || !(versym[i] & 0x8000)))
            return (void *)(base + sym->st_value);
        if (ch & 1)
            break;
    }
    return NULL;
}

/* The dynamic linker fills the program's DT_DEBUG entry with its r_debug; the program's headers
 * are in the auxiliary vector, and its load address is where they are less where they say. */
UNINSTRUMENTED static const struct r_debug *linker_list(void)
{
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    if (!ph)
        return NULL;
    ElfW(Addr) base = 0;
    for (unsigned long i = 0; i < n; i++)
        if (ph[i].p_type == PT_PHDR)
            base = (ElfW(Addr))ph - ph[i].p_vaddr;
    for (unsigned long i = 0; i < n; i++) {
        if (ph[i].p_type != PT_DYNAMIC)
            continue;
        for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(base + ph[i].p_vaddr); d->d_tag != DT_NULL; d++)
            if (d->d_tag == DT_DEBUG)
                return (const struct r_debug *)d->d_un.d_ptr;
    }
    return NULL;
}

UNINSTRUMENTED void *grey_libc_symbol(const char *name)
{
    const struct r_debug *r = linker_list();
    for (const struct link_map *m = r ? r->r_map : NULL; m; m = m->l_next) {
        if (!m->l_name || !is_c_library(m->l_name))
            continue;
        void *found = lookup(m, name);
        if (found)
            return found;
    }
    return NULL;
}
