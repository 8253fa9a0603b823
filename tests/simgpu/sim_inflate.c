/* The decompressors of fatbin entries (sim_inflate.h). zstd: ZSTD_decompress and ZSTD_isError of
 * libzstd.so.1. LZ4: LZ4_decompress_safe of liblz4.so.1, which reads one LZ4 block, the form in
 * which the fatbins cuFFT 12 loads at run time hold their entries (observed: decompressing the
 * entry with it gives exactly the size the entry header announces). */
#include "sim_inflate.h"
#include "sim_trace.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* The largest decompressed entry accepted: bounds the allocation an image can ask for. */
#define INFLATE_MAX (1ull << 32)

typedef size_t (*zstd_decompress_fn)(void *dst, size_t cap, const void *src, size_t n);
typedef unsigned (*zstd_is_error_fn)(size_t code);
typedef int (*lz4_decompress_fn)(const char *src, char *dst, int n, int cap);

static pthread_once_t codecs_once = PTHREAD_ONCE_INIT;
static zstd_decompress_fn zstd_decompress;
static zstd_is_error_fn zstd_is_error;
static lz4_decompress_fn lz4_decompress;

/* Opened once and kept: images are read at every module load. */
static void codecs_open(void)
{
    void *zstd = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (zstd) {
        zstd_decompress = (zstd_decompress_fn)dlsym(zstd, "ZSTD_decompress");
        zstd_is_error = (zstd_is_error_fn)dlsym(zstd, "ZSTD_isError");
    }
    void *lz4 = dlopen("liblz4.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lz4)
        lz4_decompress = (lz4_decompress_fn)dlsym(lz4, "LZ4_decompress_safe");
}

unsigned char *sim_inflate_zstd(const unsigned char *src, size_t n, size_t out_size)
{
    pthread_once(&codecs_once, codecs_open);
    if (!zstd_decompress || !zstd_is_error) {
        sim_trace("fatbin: zstd-compressed entry and no libzstd.so.1: its symbols are unknown");
        return NULL;
    }
    if (out_size == 0 || out_size > INFLATE_MAX)
        return NULL;
    unsigned char *out = malloc(out_size);
    if (out && zstd_is_error(zstd_decompress(out, out_size, src, n))) {
        free(out);
        out = NULL;
    }
    return out;
}

unsigned char *sim_inflate_lz4(const unsigned char *src, size_t n, size_t out_size)
{
    pthread_once(&codecs_once, codecs_open);
    if (!lz4_decompress) {
        sim_trace("fatbin: LZ4-compressed entry and no liblz4.so.1: its symbols are unknown");
        return NULL;
    }
    if (out_size == 0 || out_size > INT_MAX || n > INT_MAX)
        return NULL;
    unsigned char *out = malloc(out_size);
    if (out && lz4_decompress((const char *)src, (char *)out, (int)n, (int)out_size) != (int)out_size) {
        free(out);
        out = NULL;
    }
    return out;
}
