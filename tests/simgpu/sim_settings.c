/* The GREY_SIM_* settings and the VRAM accounting both simulated runtimes share (sim_settings.h). */
#include "sim_settings.h"

#include "policy/size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DEFAULT_VRAM (80ULL << 30)

static int setting_error(const char *var, const char *reason)
{
    fprintf(stderr, "simgpu: %s: %s\n", var, reason);
    return -1;
}

/* Parses a whole decimal integer in [lo, hi]; anything else (signs, spaces, garbage) is refused. */
static int parse_int(const char *var, const char *text, long lo, long hi, int *out)
{
    char reason[128];
    if (*text < '0' || *text > '9') {
        snprintf(reason, sizeof reason, "not a number: '%s'", text);
        return setting_error(var, reason);
    }
    errno = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        snprintf(reason, sizeof reason, "'%s' is not an integer in %ld..%ld", text, lo, hi);
        return setting_error(var, reason);
    }
    *out = (int)v;
    return 0;
}

static int parse_vram(const char *var, const char *text, uint64_t *out)
{
    char err[160];
    if (grey_size_parse(text, out, err, sizeof err) != 0)
        return setting_error(var, err);
    if (*out == 0)
        return setting_error(var, "VRAM size must be larger than 0");
    return 0;
}

/* "9.0" -> 9, 0. One or two digits each side, as real compute capabilities are written. */
static int parse_cc(const char *text, int *major, int *minor)
{
    int ma = 0, mi = 0, n = 0;
    const char *p = text;
    while (*p >= '0' && *p <= '9' && n < 3) { ma = ma * 10 + (*p++ - '0'); n++; }
    if (n == 0 || n > 2 || *p++ != '.')
        goto bad;
    n = 0;
    while (*p >= '0' && *p <= '9' && n < 3) { mi = mi * 10 + (*p++ - '0'); n++; }
    if (n == 0 || n > 2 || *p || ma == 0)
        goto bad;
    *major = ma;
    *minor = mi;
    return 0;
bad:;
    char reason[128];
    snprintf(reason, sizeof reason, "'%s' is not a compute capability like 9.0", text);
    return setting_error("GREY_SIM_CC", reason);
}

int sim_settings_load(struct sim_settings *out)
{
    memset(out, 0, sizeof *out);
    out->count = 1;
    out->sms = 132;
    out->cc_major = 9;
    uint64_t vram = SIM_DEFAULT_VRAM;
    const char *name = "Grey Simulated GPU";
    const char *v;

    if ((v = getenv("GREY_SIM_DEVICES")) &&
        parse_int("GREY_SIM_DEVICES", v, 0, SIM_SETTINGS_MAX_DEVICES, &out->count))
        return -1;
    if ((v = getenv("GREY_SIM_VRAM")) && parse_vram("GREY_SIM_VRAM", v, &vram))
        return -1;
    if ((v = getenv("GREY_SIM_SMS")) && parse_int("GREY_SIM_SMS", v, 1, 1 << 16, &out->sms))
        return -1;
    if ((v = getenv("GREY_SIM_CC")) && parse_cc(v, &out->cc_major, &out->cc_minor))
        return -1;
    if ((v = getenv("GREY_SIM_NAME"))) {
        if (!*v)
            return setting_error("GREY_SIM_NAME", "empty name");
        name = v;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    for (int i = 0; i < out->count; i++) {
        out->vram[i] = vram;
        char var[32];
        snprintf(var, sizeof var, "GREY_SIM_VRAM_%d", i);
        if ((v = getenv(var)) && parse_vram(var, v, &out->vram[i]))
            return -1;
    }
    return 0;
}

bool sim_vram_take(_Atomic uint64_t *used, uint64_t total, uint64_t n)
{
    uint64_t u = atomic_load(used);
    do {
        if (n > total || u > total - n)
            return false;
    } while (!atomic_compare_exchange_weak(used, &u, u + n));
    return true;
}

void sim_vram_give(_Atomic uint64_t *used, uint64_t n)
{
    atomic_fetch_sub(used, n);
}
