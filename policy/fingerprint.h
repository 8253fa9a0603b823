/* Fingerprints of buffer contents: XXH3-128 over the bytes.
 *
 * Two buffers are called duplicates only when their fingerprints and sizes are equal: with 128
 * bits the chance that two different contents collide is about 2^-64 even among billions of
 * buffers, far below the chance that the bytes change between being read and being compared, so
 * the hash (with equal sizes) is the confirmation, and no second byte-by-byte pass over device
 * memory is needed. xxhash is used header-only (XXH_INLINE_ALL, in fingerprint.c only), so the
 * hook links no hashing library and exports none of its symbols. */
#ifndef GREY_FINGERPRINT_H
#define GREY_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grey_fp {
    uint64_t hi, lo;
};

/* A hash in progress, for contents read back in chunks. Opaque: the XXH3 state lives inside. */
struct grey_fp_stream {
    _Alignas(64) unsigned char opaque[640];
};

void grey_fp_begin(struct grey_fp_stream *s);
void grey_fp_update(struct grey_fp_stream *s, const void *data, size_t len);
struct grey_fp grey_fp_end(struct grey_fp_stream *s);

/* The fingerprint of len bytes at data, in one go. */
struct grey_fp grey_fp_bytes(const void *data, size_t len);

static inline bool grey_fp_equal(struct grey_fp a, struct grey_fp b) { return a.hi == b.hi && a.lo == b.lo; }

/* 32 lower-case hex digits and a NUL. */
#define GREY_FP_TEXT 33
void grey_fp_format(struct grey_fp fp, char out[GREY_FP_TEXT]);
/* Parses exactly 32 hex digits. */
bool grey_fp_parse(const char *text, struct grey_fp *out);

#endif
