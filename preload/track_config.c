#include "track_config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/history.h"
#include "../policy/sites.h"
#include "log.h"

atomic_bool grey_track_ready;
struct grey_track_config grey_track_cfg;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static bool env_flag(const char *name, bool dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    return strcmp(v, "0") != 0 && strcmp(v, "no") != 0 && strcmp(v, "off") != 0;
}

static unsigned env_uint(const char *name, unsigned dflt, unsigned lo, unsigned hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < lo || n > hi) {
        grey_warn("%s='%s' is not a number from %u to %u; using %u", name, v, lo, hi, dflt);
        return dflt;
    }
    return (unsigned)n;
}

/* The child of a fork holds no buffers: its per-site counts and freed history start empty, and
 * its timeline starts now. */
static void fork_child(void)
{
    sites_reset_accounting();
    history_reset();
    grey_tick_ref_now(&grey_track_cfg.t0);
}

static void load(void)
{
    struct grey_track_config *c = &grey_track_cfg;
    grey_tick_ref_now(&c->t0);
    c->sites = env_flag("GREY_TRACK_SITES", true);
    c->dedup = env_flag("GREY_DEDUP", false);
    const char *dir = getenv("GREY_REPORT_DIR");
    snprintf(c->record_dir, sizeof c->record_dir, "%s", dir && *dir ? dir : "");
    c->record = c->dedup || c->record_dir[0];
    c->depth = env_uint("GREY_STACK_DEPTH", c->record ? GREY_RECORD_STACK_DEPTH : GREY_DEFAULT_STACK_DEPTH, 1,
                        GREY_SITE_MAX_DEPTH);
    c->interval_s = env_uint("GREY_DEDUP_INTERVAL", GREY_DEFAULT_DEDUP_INTERVAL_S, 0, 86400 * 365);
    const char *run = getenv("GREY_RUN_ID");
    c->run_id = run && *run ? strtoull(run, NULL, 16) : 0;
    pthread_atfork(NULL, NULL, fork_child);
    atomic_store_explicit(&grey_track_ready, true, memory_order_release);
}

const struct grey_track_config *grey_track_config_slow(void)
{
    pthread_once(&once, load);
    return &grey_track_cfg;
}

/* At load, so that t0 is the start of the process's timeline and no allocation pays for it. */
__attribute__((constructor)) static void track_config_load(void)
{
    grey_track_config_slow();
}
