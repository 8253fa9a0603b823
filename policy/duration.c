#include "duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};

int grey_duration_parse(const char *text, uint64_t *out, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    const char *p = text ? text : "";
    uint64_t whole = 0, frac = 0, frac_div = 1;
    const char *digits = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > GREY_DURATION_MAX_NS) {
            if (errlen)
                snprintf(err, errlen, "'%s' is longer than an hour", text);
            return -1;
        }
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    bool had_digits = p > digits;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            had_digits = true;
            if (frac_div < 1000000000ull) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_div *= 10;
            }
        }
    }
    if (!had_digits) {
        if (errlen)
            snprintf(err, errlen, "'%s' is not a duration (like 50ms or 2s)", text ? text : "");
        return -1;
    }
    while (*p == ' ')
        p++;
    if (!*p) {
        if (whole == 0 && frac == 0) {
            *out = 0;
            return 0;
        }
        if (errlen)
            snprintf(err, errlen, "'%s' has no unit (use ns, us, ms or s)", text);
        return -1;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].name) != 0)
            continue;
        if (whole > GREY_DURATION_MAX_NS / units[i].ns) {
            if (errlen)
                snprintf(err, errlen, "'%s' is longer than an hour", text);
            return -1;
        }
        uint64_t ns = whole * units[i].ns + frac * units[i].ns / frac_div;
        if (ns > GREY_DURATION_MAX_NS) {
            if (errlen)
                snprintf(err, errlen, "'%s' is longer than an hour", text);
            return -1;
        }
        *out = ns;
        return 0;
    }
    if (errlen)
        snprintf(err, errlen, "unknown unit '%s' in '%s' (use ns, us, ms or s)", p, text);
    return -1;
}

char *grey_duration_format(uint64_t ns, char *buf, size_t buflen)
{
    if (ns == 0)
        snprintf(buf, buflen, "0");
    else if (ns >= 1000000000ull)
        snprintf(buf, buflen, "%.1f s", (double)ns / 1e9);
    else if (ns >= 1000000ull)
        snprintf(buf, buflen, "%.1f ms", (double)ns / 1e6);
    else if (ns >= 1000ull)
        snprintf(buf, buflen, "%.1f us", (double)ns / 1e3);
    else
        snprintf(buf, buflen, "%llu ns", (unsigned long long)ns);
    return buf;
}
