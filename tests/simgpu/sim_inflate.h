/* Decompressing the payload of a fatbin entry (sim_fatbin.c). CUDA 13's libraries compress their
 * cubins with zstd, cuFFT's run-time kernel images (and older toolkits) with LZ4. The codecs'
 * shared libraries, libzstd.so.1 and liblz4.so.1, are opened at run time through their stable
 * ABIs, so the simulator needs neither's headers to build nor either library to start. */
#ifndef GREY_SIM_INFLATE_H
#define GREY_SIM_INFLATE_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Each returns a malloc'd buffer of exactly out_size bytes, or NULL: the library is missing, the
 * data is not valid or does not decompress to out_size bytes. The caller frees the buffer. */
unsigned char *sim_inflate_zstd(const unsigned char *src, size_t n, size_t out_size);
/* src is an LZ4 block (not a frame) of n bytes. */
unsigned char *sim_inflate_lz4(const unsigned char *src, size_t n, size_t out_size);

#pragma GCC visibility pop

#endif
