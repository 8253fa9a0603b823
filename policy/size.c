/* Byte sizes: parsing what people write, printing what people read.
 *
 * The parser does its own digit arithmetic instead of strtod/strtoull: strtoull accepts "-1" (and
 * wraps it to 2^64-1), both accept leading spaces and "0x" prefixes, and strtod would turn
 * "0.1GiB" into a value that is not a whole number of bytes in binary. Here the integer and the
 * fraction are kept as integers, so "1.5G" is exactly 1610612736. */
#include "size.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "errmsg.h"

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Returns the unit's shift (0, 10, 20, 30, 40) or -1 when the text is not a unit we know.
 * "Gi" is how Kubernetes writes GiB; "GB" stays binary like "G" (see size.h for why). */
static int unit_shift(const char *unit)
{
    static const struct { const char *name; int shift; } units[] = {
        {"", 0},     {"b", 0},
        {"k", 10},   {"kb", 10},  {"ki", 10},  {"kib", 10},
        {"m", 20},   {"mb", 20},  {"mi", 20},  {"mib", 20},
        {"g", 30},   {"gb", 30},  {"gi", 30},  {"gib", 30},
        {"t", 40},   {"tb", 40},  {"ti", 40},  {"tib", 40},
    };
    char folded[8];
    size_t n = strlen(unit);
    if (n >= sizeof folded)
        return -1;
    for (size_t i = 0; i <= n; i++)
        folded[i] = lower(unit[i]);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(folded, units[i].name) == 0)
            return units[i].shift;
    return -1;
}

int grey_size_parse(const char *text, uint64_t *out, char *err, size_t errlen)
{
    if (!text || !*text)
        return grey_error(err, errlen, "empty size");

    const char *p = text;
    if (*p < '0' || *p > '9')
        return grey_error(err, errlen, "'%s' is not a size: it must start with a digit (like 512MiB)", text);

    uint64_t whole = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return grey_error(err, errlen, "'%s' is too large", text);
        whole = whole * 10 + d;
    }

    /* Fraction digits: up to 18 are kept exactly (10^18 < 2^63); further digits cannot change
     * the result by a whole byte for any unit up to TiB, so they are checked and dropped. */
    uint64_t frac = 0, frac_scale = 1;
    bool has_fraction = false;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return grey_error(err, errlen, "'%s' is not a size: a digit must follow '.'", text);
        has_fraction = true;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (frac_scale < 1000000000000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
        }
    }

    while (*p == ' ')
        p++;
    int shift = unit_shift(p);
    if (shift < 0)
        return grey_error(err, errlen, "unknown unit '%s' in '%s' (use B, KiB, MiB, GiB or TiB)", p, text);
    if (has_fraction && shift == 0)
        return grey_error(err, errlen, "'%s': a byte count must be a whole number", text);

    if (shift > 0 && whole > (UINT64_MAX >> shift))
        return grey_error(err, errlen, "'%s' is too large", text);
    uint64_t value = whole << shift;
    if (has_fraction) {
        /* frac / frac_scale * 2^shift without overflow: frac < 10^18 < 2^60 and shift <= 40, so
         * split the multiplication across 128 bits. */
        unsigned __int128 part = ((unsigned __int128)frac << shift) / frac_scale;
        if (value > UINT64_MAX - (uint64_t)part)
            return grey_error(err, errlen, "'%s' is too large", text);
        value += (uint64_t)part;
    }
    *out = value;
    return 0;
}

char *grey_size_format(uint64_t bytes, char *buf, size_t buflen)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, buflen, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    int unit = 0;
    double value = (double)bytes;
    while (value >= 1024.0 && unit < 6) {
        value /= 1024.0;
        unit++;
    }
    snprintf(buf, buflen, "%.1f %s", value, names[unit]);
    return buf;
}
