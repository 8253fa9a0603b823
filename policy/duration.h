/* Durations as people write them ("50ms", "2s", "500us", "0") and as grey prints them. */
#ifndef GREY_DURATION_H
#define GREY_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration accepted: an hour, far past any queue a pacer should allow. */
#define GREY_DURATION_MAX_NS (3600ull * 1000000000ull)

/* Parses a duration: a decimal number (digits, optionally '.' and digits), optional spaces, and a
 * unit, one of ns, us, ms, s (0 needs none). Refused: empty text, signs, no unit, unknown units,
 * more than GREY_DURATION_MAX_NS, trailing garbage; then returns -1 with a one-line reason in err
 * ("unknown unit 'min' in '2min' (use ns, us, ms or s)"). Returns 0 with the nanoseconds in *out. */
int grey_duration_parse(const char *text, uint64_t *out, char *err, size_t errlen);

/* "50 ms", "2.5 s", "800 us", "0": for messages and tables. Returns buf (32 bytes is enough). */
char *grey_duration_format(uint64_t ns, char *buf, size_t buflen);

#endif
