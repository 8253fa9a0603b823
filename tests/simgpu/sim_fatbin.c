/* Reading the symbols out of a code image (sim_fatbin.h): global variables, so that
 * cuLibraryGetGlobal can answer (the runtime's cudaMemcpyToSymbol and the libraries need each
 * variable's address and size: cuBLAS reads its own __device__ variables while it creates a
 * handle, cuFFT 12 its lut_sp in each kernel image it loads), and kernel names, so that a module
 * knows its kernels (cuFFT asks the driver for the one kernel of an image: sim_fft_table.c).
 *
 * Formats. The fatbin layout is not documented by NVIDIA; what is used here is what one sees in
 * the images nvcc writes (and what other re-implementations describe):
 *   - a fatbin wrapper: u32 magic 0x466243b1, u32 version, then a pointer to the fatbin;
 *   - a fatbin: u32 magic 0xba55ed50, u16 version, u16 header size, u64 size of the entries; each
 *     entry: u16 kind (1 PTX, 2 cubin), u16, u32 header size, u64 payload size, u32 compressed
 *     size at offset 16, ..., u64 flags at offset 40 (0x2000: LZ4, 0x8000: zstd) and u64
 *     decompressed size at offset 56;
 *   - a cubin is an ELF64 file; its data objects are the STT_OBJECT symbols of .symtab, its
 *     kernels the defined STT_FUNC symbols marked as entries (st_other bit 0x10: what nvcc's
 *     kernels carry and its device functions do not);
 *   - PTX is text (sim_ptx.c).
 * CUDA 13's libraries compress their cubins with zstd (the payload starts with zstd's magic);
 * the images cuFFT 12 loads when it makes a plan hold LZ4 blocks, PTX and cubins alike. A
 * compressed payload may be padded to a multiple of 8 bytes past the compressed data (seen with
 * both codecs: nvcc -fatbin of PTX gives zstd with 4 bytes of padding), which neither codec
 * accepts; the exact size is the u32 at offset 16 (observed: with it, each entry decompresses to
 * exactly its announced size). The codecs' libraries are opened at run time (sim_inflate.c).
 * Every size and offset read is checked against the image. */
#include "sim_fatbin.h"
#include "sim_inflate.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WRAPPER_MAGIC 0x466243b1u
#define FATBIN_MAGIC 0xba55ed50u
#define ENTRY_PTX 1
#define ENTRY_CUBIN 2
#define FLAG_LZ4 0x2000u
#define FLAG_ZSTD 0x8000u
/* A fatbin's entries are bounded by its own size field; this bounds that too. */
#define FATBIN_MAX (1ull << 32)
/* st_other of a cubin's kernel symbols (observed; NVIDIA documents no ELF flag of its own). */
#define STO_KERNEL 0x10

struct entry_header {
    uint16_t kind;
    uint16_t unknown;
    uint32_t header_size;
    uint64_t payload_size;
    uint32_t compressed_size;
    uint8_t middle[20];
    uint64_t flags;
    uint64_t zero;
    uint64_t decompressed_size;
};

static size_t cubin_symbols(const unsigned char *elf, size_t size, const sim_image_symbols *to)
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
            if (s.st_shndx == SHN_UNDEF || s.st_name >= str.sh_size ||
                !memchr(names + s.st_name, 0, str.sh_size - s.st_name))
                continue;
            const char *name = names + s.st_name;
            if (ELF64_ST_TYPE(s.st_info) == STT_OBJECT && s.st_size != 0) {
                if (to->global)
                    to->global(to->arg, name, s.st_size);
                n++;
            } else if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && (s.st_other & STO_KERNEL) &&
                       ELF64_ST_BIND(s.st_info) != STB_LOCAL) {
                if (to->kernel)
                    to->kernel(to->arg, name);
                n++;
            }
        }
    }
    return n;
}

/* The symbols of one entry's contents (decompressed already). */
static size_t entry_symbols(uint16_t kind, const unsigned char *data, size_t size, const sim_image_symbols *to)
{
    if (kind == ENTRY_CUBIN)
        return cubin_symbols(data, size, to);
    if (kind == ENTRY_PTX)
        return sim_ptx_symbols((const char *)data, size, to);
    return 0;
}

static size_t fatbin_symbols(const unsigned char *fb, const sim_image_symbols *to)
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
        if (!(h.flags & (FLAG_LZ4 | FLAG_ZSTD))) {
            n = entry_symbols(h.kind, payload, h.payload_size, to);
        } else {
            /* the payload may be padded past the compressed data, which neither codec accepts */
            size_t n_in = h.compressed_size != 0 && h.compressed_size <= h.payload_size ? h.compressed_size
                                                                                        : h.payload_size;
            unsigned char *data = h.flags & FLAG_ZSTD ? sim_inflate_zstd(payload, n_in, h.decompressed_size)
                                                      : sim_inflate_lz4(payload, n_in, h.decompressed_size);
            if (data)
                n = entry_symbols(h.kind, data, h.decompressed_size, to);
            free(data);
        }
        if (n) /* every entry of one fatbin declares the same symbols: the first one tells */
            return n;
        e = payload + h.payload_size;
    }
    return 0;
}

size_t sim_image_symbols_read(const void *image, const sim_image_symbols *to)
{
    if (!image)
        return 0;
    uint32_t magic;
    memcpy(&magic, image, sizeof magic);
    if (magic == WRAPPER_MAGIC) {
        const void *fatbin;
        memcpy(&fatbin, (const char *)image + 8, sizeof fatbin);
        return fatbin ? sim_image_symbols_read(fatbin, to) : 0;
    }
    if (magic == FATBIN_MAGIC)
        return fatbin_symbols(image, to);
    /* A bare cubin: its size is not passed; the section table bounds what is read. */
    const unsigned char *elf = image;
    if (memcmp(elf, ELFMAG, SELFMAG) != 0)
        return 0;
    Elf64_Ehdr eh;
    memcpy(&eh, elf, sizeof eh);
    return cubin_symbols(elf, eh.e_shoff + (size_t)eh.e_shnum * sizeof(Elf64_Shdr), to);
}
