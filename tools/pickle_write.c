/* Pickle protocol 2 (pickle_write.h). The opcodes are those of Python's Lib/pickletools.py:
 * PROTO, EMPTY_DICT + MARK ... SETITEMS, EMPTY_LIST + MARK ... APPENDS, TUPLE2, BINUNICODE,
 * BININT, LONG1, BINFLOAT, NEWTRUE/NEWFALSE, NONE, STOP. A MARK with nothing after it before
 * SETITEMS or APPENDS is valid (an empty batch). */
#include "pickle_write.h"

#include <string.h>

static void bytes(struct grey_pickle *pk, const void *p, size_t n)
{
    if (!pk->failed && fwrite(p, 1, n, pk->out) != n)
        pk->failed = true;
}

static void op(struct grey_pickle *pk, unsigned char c) { bytes(pk, &c, 1); }

void grey_pickle_begin(struct grey_pickle *pk, FILE *out)
{
    pk->out = out;
    pk->failed = false;
    const unsigned char proto[2] = {0x80, 2};
    bytes(pk, proto, 2);
}

bool grey_pickle_end(struct grey_pickle *pk)
{
    op(pk, '.');
    return !pk->failed && !ferror(pk->out);
}

void grey_pickle_dict_begin(struct grey_pickle *pk) { op(pk, '}'), op(pk, '('); }
void grey_pickle_dict_end(struct grey_pickle *pk) { op(pk, 'u'); }
void grey_pickle_list_begin(struct grey_pickle *pk) { op(pk, ']'), op(pk, '('); }
void grey_pickle_list_end(struct grey_pickle *pk) { op(pk, 'e'); }
void grey_pickle_tuple2(struct grey_pickle *pk) { op(pk, 0x86); }

static void le32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

void grey_pickle_str(struct grey_pickle *pk, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    unsigned char hdr[5] = {'X'};
    le32(hdr + 1, (uint32_t)n);
    bytes(pk, hdr, 5);
    bytes(pk, s ? s : "", n);
}

/* LONG1: a length byte, then the value in little-endian two's complement, as short as it can be
 * while keeping its sign bit right. */
static void long1(struct grey_pickle *pk, uint64_t magnitude_bits, bool negative)
{
    unsigned char b[2 + 9]; /* opcode, length, up to 8 bytes and a sign byte */
    for (size_t i = 0; i < 8; i++)
        b[2 + i] = (unsigned char)(magnitude_bits >> (8 * i));
    size_t n = 8;
    /* Drop top bytes that only repeat the sign. */
    unsigned char fill = negative ? 0xff : 0x00;
    while (n > 1 && b[2 + n - 1] == fill && ((b[2 + n - 2] & 0x80) == (fill & 0x80)))
        n--;
    if (!negative && (b[2 + n - 1] & 0x80)) /* a positive value whose top bit is set needs a 0 byte */
        b[2 + n++] = 0;
    b[0] = 0x8a;
    b[1] = (unsigned char)n;
    bytes(pk, b, 2 + n);
}

void grey_pickle_int(struct grey_pickle *pk, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        unsigned char b[5] = {'J'};
        le32(b + 1, (uint32_t)(int32_t)v);
        bytes(pk, b, 5);
        return;
    }
    long1(pk, (uint64_t)v, v < 0);
}

void grey_pickle_uint(struct grey_pickle *pk, uint64_t v)
{
    if (v <= INT32_MAX)
        grey_pickle_int(pk, (int64_t)v);
    else
        long1(pk, v, false);
}

void grey_pickle_float(struct grey_pickle *pk, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    unsigned char b[9] = {'G'};
    for (int i = 0; i < 8; i++) /* BINFLOAT is big-endian */
        b[1 + i] = (unsigned char)(bits >> (8 * (7 - i)));
    bytes(pk, b, 9);
}

void grey_pickle_bool(struct grey_pickle *pk, bool v) { op(pk, v ? 0x88 : 0x89); }
void grey_pickle_none(struct grey_pickle *pk) { op(pk, 'N'); }
