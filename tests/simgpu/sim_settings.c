/* The GREY_SIM_* settings every simulator shares (sim_settings.h). */
#include "sim_settings.h"
#include "sim_sched.h"

#include "policy/size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DEFAULT_VRAM (80ULL << 30)
#define SIM_DEFAULT_MIG_VRAM (20ULL << 30)

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

static int parse_name(const char *var, const char *text, char out[SIM_SETTINGS_NAME_MAX])
{
    if (!*text)
        return setting_error(var, "empty name");
    snprintf(out, SIM_SETTINGS_NAME_MAX, "%s", text);
    return 0;
}

static int parse_switch(const char *var, const char *text, bool *out)
{
    if ((text[0] != '0' && text[0] != '1') || text[1]) {
        char reason[128];
        snprintf(reason, sizeof reason, "'%s' is neither 0 nor 1", text);
        return setting_error(var, reason);
    }
    *out = text[0] == '1';
    return 0;
}

static int parse_sched(const char *text, int *out)
{
    if (strcmp(text, "fifo") == 0) {
        *out = SIM_SCHED_FIFO;
        return 0;
    }
    if (strcmp(text, "timeslice") == 0) {
        *out = SIM_SCHED_TIMESLICE;
        return 0;
    }
    char reason[128];
    snprintf(reason, sizeof reason, "'%s' is neither fifo nor timeslice", text);
    return setting_error("GREY_SIM_SCHED", reason);
}

/* GREY_SIM_<WHAT>_<N>, the setting of physical GPU N alone. */
static const char *per_gpu(const char *what, int n, char *var, size_t len)
{
    snprintf(var, len, "GREY_SIM_%s_%d", what, n);
    return getenv(var);
}

/* MIG instances take their memory from their GPU: a GPU too small for them is a setup error,
 * not something to discover when an allocation fails. */
static int check_mig_fits(const struct sim_settings *set)
{
    for (int i = 0; set->mig && i < set->count; i++) {
        if (set->mig_vram <= set->gpu[i].vram / SIM_MIG_INSTANCES)
            continue;
        char inst[32], gpu[32], reason[160];
        snprintf(reason, sizeof reason, "%d instances of %s do not fit in GPU %d's %s", SIM_MIG_INSTANCES,
                 grey_size_format(set->mig_vram, inst, sizeof inst), i,
                 grey_size_format(set->gpu[i].vram, gpu, sizeof gpu));
        return setting_error("GREY_SIM_MIG_VRAM", reason);
    }
    return 0;
}

int sim_settings_load(struct sim_settings *out)
{
    memset(out, 0, sizeof *out);
    out->count = 1;
    out->cc_major = 9;
    out->mig_vram = SIM_DEFAULT_MIG_VRAM;
    struct sim_gpu_settings common = {.name = "Grey Simulated GPU", .sms = 132, .vram = SIM_DEFAULT_VRAM};
    const char *v;
    char var[48];

    if ((v = getenv("GREY_SIM_DEVICES")) &&
        parse_int("GREY_SIM_DEVICES", v, 0, SIM_SETTINGS_MAX_DEVICES, &out->count))
        return -1;
    if ((v = getenv("GREY_SIM_VRAM")) && parse_vram("GREY_SIM_VRAM", v, &common.vram))
        return -1;
    if ((v = getenv("GREY_SIM_SMS")) && parse_int("GREY_SIM_SMS", v, 1, 1 << 16, &common.sms))
        return -1;
    if ((v = getenv("GREY_SIM_CC")) && parse_cc(v, &out->cc_major, &out->cc_minor))
        return -1;
    if ((v = getenv("GREY_SIM_NAME")) && parse_name("GREY_SIM_NAME", v, common.name))
        return -1;
    if ((v = getenv("GREY_SIM_MIG")) && parse_switch("GREY_SIM_MIG", v, &out->mig))
        return -1;
    if ((v = getenv("GREY_SIM_MIG_VRAM")) && parse_vram("GREY_SIM_MIG_VRAM", v, &out->mig_vram))
        return -1;
    if ((v = getenv("GREY_SIM_SCHED")) && parse_sched(v, &out->sched))
        return -1;
    int slice;
    if ((v = getenv("GREY_SIM_TIMESLICE_US"))) {
        if (parse_int("GREY_SIM_TIMESLICE_US", v, 1, 1000000, &slice))
            return -1;
        out->timeslice_us = (uint32_t)slice;
    }
    for (int i = 0; i < out->count; i++) {
        struct sim_gpu_settings *g = &out->gpu[i];
        *g = common;
        if ((v = per_gpu("VRAM", i, var, sizeof var)) && parse_vram(var, v, &g->vram))
            return -1;
        if ((v = per_gpu("SMS", i, var, sizeof var)) && parse_int(var, v, 1, 1 << 16, &g->sms))
            return -1;
        if ((v = per_gpu("NAME", i, var, sizeof var)) && parse_name(var, v, g->name))
            return -1;
    }
    return check_mig_fits(out);
}
