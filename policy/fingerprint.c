#include "fingerprint.h"

#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

_Static_assert(sizeof(XXH3_state_t) <= sizeof(((struct grey_fp_stream *)0)->opaque),
               "grey_fp_stream too small for XXH3_state_t");
_Static_assert(_Alignof(XXH3_state_t) <= 64, "grey_fp_stream under-aligned for XXH3_state_t");

static XXH3_state_t *state(struct grey_fp_stream *s) { return (XXH3_state_t *)(void *)s->opaque; }

void grey_fp_begin(struct grey_fp_stream *s)
{
    XXH3_INITSTATE(state(s));
    XXH3_128bits_reset(state(s));
}

void grey_fp_update(struct grey_fp_stream *s, const void *data, size_t len)
{
    XXH3_128bits_update(state(s), data, len);
}

struct grey_fp grey_fp_end(struct grey_fp_stream *s)
{
    XXH128_hash_t h = XXH3_128bits_digest(state(s));
    return (struct grey_fp){h.high64, h.low64};
}

struct grey_fp grey_fp_bytes(const void *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    return (struct grey_fp){h.high64, h.low64};
}

void grey_fp_format(struct grey_fp fp, char out[GREY_FP_TEXT])
{
    snprintf(out, GREY_FP_TEXT, "%016llx%016llx", (unsigned long long)fp.hi, (unsigned long long)fp.lo);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool grey_fp_parse(const char *text, struct grey_fp *out)
{
    if (!text || strlen(text) != 32)
        return false;
    uint64_t v[2] = {0, 0};
    for (int i = 0; i < 32; i++) {
        int d = hexval(text[i]);
        if (d < 0)
            return false;
        v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
    }
    out->hi = v[0];
    out->lo = v[1];
    return true;
}
