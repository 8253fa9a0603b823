/* Reading global variables out of a code image (sim_fatbin.h), so that cuLibraryGetGlobal can
 * answer: the runtime's cudaMemcpyToSymbol and the libraries (cuBLAS reads its own __device__
 * variables while it creates a handle) need each variable's address and size.
 *
 * Formats. The fatbin layout is not documented by NVIDIA; what is used here is what one sees in
 * the images nvcc writes (and what other re-implementations describe):
 *   - a fatbin wrapper: u32 magic 0x466243b1, u32 version, then a pointer to the fatbin;
 *   - a fatbin: u32 magic 0xba55ed50, u16 version, u16 header size, u64 size of the entries; each
 *     entry: u16 kind (1 PTX, 2 cubin), u16, u32 header size, u64 payload size, ..., u64 flags at
 *     offset 40 (0x2000: LZ4, 0x8000: zstd) and u64 decompressed size at offset 56;
 *   - a cubin is an ELF64 file; its data objects are the STT_OBJECT symbols of .symtab.
 * CUDA 13's libraries compress their cubins with zstd (the payload starts with zstd's magic);
 * libzstd.so.1 is opened at run time to decompress them, so the simulator does not need its
 * headers to build. LZ4-compressed entries (older toolkits) are skipped: a library built that way
 * finds no globals, as before. Every size and offset read is checked against the image. */
#include "sim_fatbin.h"
#include "sim_trace.h"

#include <dlfcn.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WRAPPER_MAGIC 0x466243b1u
#define FATBIN_MAGIC 0xba55ed50u
#define ENTRY_CUBIN 2
#define FLAG_LZ4 0x2000u
#define FLAG_ZSTD 0x8000u
/* A fatbin's entries are bounded by its own size field; this bounds that too. */
#define FATBIN_MAX (1ull << 32)

struct entry_header {
    uint16_t kind;
    uint16_t unknown;
    uint32_t header_size;
    uint64_t payload_size;
    uint8_t middle[24];
    uint64_t flags;
    uint64_t zero;
    uint64_t decompressed_size;
};

static size_t cubin_globals(const unsigned char *elf, size_t size,
                            void (*found)(void *, const char *, size_t), void *arg)
{
    if (size < sizeof(Elf64_Ehdr) || memcmp(elf, ELFMAG, SELFMAG) != 0 || elf[EI_CLASS] != ELFCLASS64)
        return 0;
    Elf64_Ehdr eh;
    memcpy(&eh, elf, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size ||
        (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff)
        return 0;
    size_t n = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sym;
        memcpy(&sym, elf + eh.e_shoff + (uint64_t)i * sizeof sym, sizeof sym);
        if (sym.sh_type != SHT_SYMTAB || sym.sh_link >= eh.e_shnum || sym.sh_offset > size ||
            sym.sh_size > size - sym.sh_offset)
            continue;
        Elf64_Shdr str;
        memcpy(&str, elf + eh.e_shoff + (uint64_t)sym.sh_link * sizeof str, sizeof str);
        if (str.sh_offset > size || str.sh_size > size - str.sh_offset || str.sh_size == 0)
            continue;
        const char *names = (const char *)elf + str.sh_offset;
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sym.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym s;
            memcpy(&s, elf + sym.sh_offset + off, sizeof s);
            if (ELF64_ST_TYPE(s.st_info) != STT_OBJECT || s.st_shndx == SHN_UNDEF || s.st_size == 0 ||
                s.st_name >= str.sh_size || !memchr(names + s.st_name, 0, str.sh_size - s.st_name))
                continue;
            found(arg, names + s.st_name, s.st_size);
            n++;
        }
    }
    return n;
}

/* ZSTD_decompress and ZSTD_isError from libzstd.so.1 (its stable ABI), NULL when absent. */
typedef size_t (*zstd_decompress_fn)(void *dst, size_t cap, const void *src, size_t n);
typedef unsigned (*zstd_is_error_fn)(size_t code);

static unsigned char *zstd_inflate(const unsigned char *src, size_t n, size_t out_size)
{
    static void *lib;
    if (!lib)
        lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    zstd_decompress_fn decompress = lib ? (zstd_decompress_fn)dlsym(lib, "ZSTD_decompress") : NULL;
    zstd_is_error_fn is_error = lib ? (zstd_is_error_fn)dlsym(lib, "ZSTD_isError") : NULL;
    if (!decompress || !is_error || out_size == 0 || out_size > FATBIN_MAX) {
        sim_trace("fatbin: zstd-compressed cubin and no libzstd.so.1: its globals are unknown");
        return NULL;
    }
    unsigned char *out = malloc(out_size);
    if (out && (is_error(decompress(out, out_size, src, n)))) {
        free(out);
        out = NULL;
    }
    return out;
}

static size_t fatbin_globals(const unsigned char *fb, void (*found)(void *, const char *, size_t), void *arg)
{
    uint16_t header_size;
    uint64_t entries_size;
    memcpy(&header_size, fb + 6, sizeof header_size);
    memcpy(&entries_size, fb + 8, sizeof entries_size);
    if (entries_size > FATBIN_MAX)
        return 0;
    const unsigned char *e = fb + header_size, *end = e + entries_size;
    while ((size_t)(end - e) >= sizeof(struct entry_header)) {
        struct entry_header h;
        memcpy(&h, e, sizeof h);
        if (h.header_size < sizeof h || h.header_size > (size_t)(end - e) ||
            h.payload_size > (size_t)(end - e) - h.header_size)
            break;
        const unsigned char *payload = e + h.header_size;
        size_t n = 0;
        if (h.kind == ENTRY_CUBIN && !(h.flags & (FLAG_LZ4 | FLAG_ZSTD))) {
            n = cubin_globals(payload, h.payload_size, found, arg);
        } else if (h.kind == ENTRY_CUBIN && (h.flags & FLAG_ZSTD)) {
            unsigned char *elf = zstd_inflate(payload, h.payload_size, h.decompressed_size);
            if (elf)
                n = cubin_globals(elf, h.decompressed_size, found, arg);
            free(elf);
        }
        if (n) /* every cubin of one fatbin declares the same variables: the first one tells */
            return n;
        e = payload + h.payload_size;
    }
    return 0;
}

size_t sim_image_globals(const void *image, void (*found)(void *arg, const char *name, size_t bytes), void *arg)
{
    if (!image)
        return 0;
    uint32_t magic;
    memcpy(&magic, image, sizeof magic);
    if (magic == WRAPPER_MAGIC) {
        const void *fatbin;
        memcpy(&fatbin, (const char *)image + 8, sizeof fatbin);
        return fatbin ? sim_image_globals(fatbin, found, arg) : 0;
    }
    if (magic == FATBIN_MAGIC)
        return fatbin_globals(image, found, arg);
    /* A bare cubin: its size is not passed; the section table bounds what is read. */
    const unsigned char *elf = image;
    if (memcmp(elf, ELFMAG, SELFMAG) != 0)
        return 0;
    Elf64_Ehdr eh;
    memcpy(&eh, elf, sizeof eh);
    return cubin_globals(elf, eh.e_shoff + (size_t)eh.e_shnum * sizeof(Elf64_Shdr), found, arg);
}
