#include "settings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "duration.h"
#include "pacer.h"
#include "plan.h"
#include "sites.h"
#include "size.h"
#include "weights.h"

const char *grey_env_process(const char *name, bool secure)
{
    return secure ? secure_getenv(name) : getenv(name);
}

static void warn(struct grey_settings *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct grey_settings *s, const char *fmt, ...)
{
    if (s->nwarnings >= GREY_SETTINGS_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->warning[s->nwarnings++], sizeof s->warning[0], fmt, ap);
    va_end(ap);
}

/* A value that is set and not empty, else NULL: an empty variable means "not given". */
static const char *given(grey_env_fn env, const char *name, bool secure)
{
    const char *v = env(name, secure);
    return v && *v ? v : NULL;
}

static bool flag(grey_env_fn env, const char *name, bool dflt)
{
    const char *v = given(env, name, false);
    if (!v)
        return dflt;
    return strcmp(v, "0") != 0 && strcmp(v, "no") != 0 && strcmp(v, "off") != 0;
}

static unsigned uint_setting(struct grey_settings *s, grey_env_fn env, const char *name, unsigned dflt, unsigned lo,
                             unsigned hi)
{
    const char *v = given(env, name, false);
    if (!v)
        return dflt;
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || errno || v[0] == '-' || n < lo || n > hi) {
        warn(s, "%s='%s' is not a number from %u to %u; using %u", name, v, lo, hi, dflt);
        return dflt;
    }
    return (unsigned)n;
}

/* Copies text into a path field; false when it does not fit (the field is left empty). */
static bool put_path(char *dst, const char *text)
{
    size_t n = strlen(text);
    if (n >= GREY_SETTINGS_PATH_MAX) {
        dst[0] = '\0';
        return false;
    }
    memcpy(dst, text, n + 1);
    return true;
}

/* Says that variable name is too long to be a path; the first one said wins. */
static void too_long(struct grey_settings *s, const char *name, const char *value)
{
    if (!s->limit_error[0])
        snprintf(s->limit_error, sizeof s->limit_error, "%s is %zu bytes, longer than a path may be (%d)", name,
                 strlen(value), GREY_SETTINGS_PATH_MAX - 1);
}

static bool absent(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

static void read_run_id(struct grey_settings *s, grey_env_fn env)
{
    const char *text = given(env, "GREY_RUN_ID", false);
    if (!text)
        return;
    char *end;
    unsigned long long v = strtoull(text, &end, 16);
    if (*end != '\0') {
        warn(s, "GREY_RUN_ID '%s' is not a run id; this process is not tied to a grey-run", text);
        return;
    }
    s->run_id = v;
}

/* Slurm's job id, only to label what the tools show: anything but a plain positive number leaves
 * it unset, silently (it is Slurm's variable, not grey's setting). */
static void read_batch_job_id(struct grey_settings *s, grey_env_fn env)
{
    const char *text = given(env, "SLURM_JOB_ID", false);
    if (!text || *text < '1' || *text > '9')
        return;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end == '\0' && errno == 0)
        s->batch_job_id = v;
}

static void read_cap(struct grey_settings *s, grey_env_fn env)
{
    const char *text = given(env, "GREY_CAP", false);
    if (!text)
        return;
    snprintf(s->cap_text, sizeof s->cap_text, "%s", text);
    char err[sizeof s->cap_error];
    if (grey_size_parse(text, &s->cap, err, sizeof err) != 0) {
        snprintf(s->cap_error, sizeof s->cap_error, "%s", err);
        return;
    }
    s->have_cap = true;
}

/* The admin plan is at GREY_ADMIN_PLAN_PATH; only where no file is there may the environment
 * name another (tests, unprivileged installs): a node whose admin wrote one cannot be taken out
 * of it that way. */
static void read_plan_paths(struct grey_settings *s, grey_env_fn env)
{
    const char *other = given(env, "GREY_ADMIN_PLAN", true);
    bool honoured = other && absent(GREY_ADMIN_PLAN_PATH);
    if (honoured && strlen(other) >= GREY_SETTINGS_PATH_MAX)
        too_long(s, "GREY_ADMIN_PLAN", other);
    if (!honoured || !put_path(s->admin_plan, other))
        put_path(s->admin_plan, GREY_ADMIN_PLAN_PATH);

    /* secure: a setuid program must not take its plan from the caller's settings. The XDG spec
     * ignores a relative XDG_CONFIG_HOME. */
    const char *xdg = given(env, "XDG_CONFIG_HOME", true), *home = given(env, "HOME", true);
    int n = -1;
    if (xdg && xdg[0] == '/')
        n = snprintf(s->user_config, sizeof s->user_config, "%s/grey/plan.conf", xdg);
    else if (home)
        n = snprintf(s->user_config, sizeof s->user_config, "%s/.config/grey/plan.conf", home);
    if (n < 0 || (size_t)n >= sizeof s->user_config)
        s->user_config[0] = '\0';

    const char *plan = given(env, "GREY_PLAN", false);
    s->user_plan_required = plan != NULL;
    if (plan) {
        s->have_user_plan = put_path(s->user_plan, plan);
        if (!s->have_user_plan)
            too_long(s, "GREY_PLAN", plan);
    }
    else
        s->have_user_plan = s->user_config[0] && put_path(s->user_plan, s->user_config);
}

static void read_fair_share(struct grey_settings *s, grey_env_fn env)
{
    const char *off = given(env, "GREY_PACE", false);
    s->pace_off = off && (strcmp(off, "0") == 0 || strcmp(off, "off") == 0);
    char err[160];
    const char *wtext = given(env, "GREY_WEIGHT", false);
    if (wtext && grey_weight_parse(wtext, &s->weight, err, sizeof err) != 0) {
        warn(s, "GREY_WEIGHT: %s; using the plan's weight", err);
        s->weight = 0;
    }
    const char *stext = given(env, "GREY_MAX_SHARE", false);
    if (stext && grey_share_parse(stext, &s->max_share, err, sizeof err) != 0) {
        warn(s, "GREY_MAX_SHARE: %s; no ceiling", err);
        s->max_share = 0;
    }
    if (s->max_share >= GREY_SHARE_ONE) /* the whole device is no ceiling */
        s->max_share = 0;
    const char *ltext = given(env, "GREY_MAX_LEAD", false);
    if (ltext && grey_duration_parse(ltext, &s->max_lead_ns, err, sizeof err) != 0)
        warn(s, "GREY_MAX_LEAD: %s; using the plan's or the default", err);
    else if (ltext)
        s->have_max_lead = true;
}

static void read_tracking(struct grey_settings *s, grey_env_fn env, unsigned euid)
{
    s->sites = flag(env, "GREY_TRACK_SITES", true);
    s->dedup = flag(env, "GREY_DEDUP", false);
    const char *dir = given(env, "GREY_REPORT_DIR", false);
    if (dir && !put_path(s->report_dir, dir))
        warn(s, "GREY_REPORT_DIR is longer than %d bytes; the record goes to the grey directory",
             GREY_SETTINGS_PATH_MAX - 1);
    s->record = s->dedup || s->report_dir[0];
    s->depth = uint_setting(s, env, "GREY_STACK_DEPTH", s->record ? GREY_RECORD_STACK_DEPTH : GREY_DEFAULT_STACK_DEPTH,
                            1, GREY_SITE_MAX_DEPTH);
    s->interval_s = uint_setting(s, env, "GREY_DEDUP_INTERVAL", GREY_DEFAULT_DEDUP_INTERVAL_S, 0, 86400 * 365);

    /* An empty report_base means the path did not fit: whoever needs it says so. */
    const char *base = given(env, "GREY_DIR", false);
    const char *xdg = given(env, "XDG_RUNTIME_DIR", false);
    int n;
    if (base)
        n = snprintf(s->report_base, sizeof s->report_base, "%s", base);
    else if (xdg && xdg[0] == '/')
        n = snprintf(s->report_base, sizeof s->report_base, "%s/grey", xdg);
    else
        n = snprintf(s->report_base, sizeof s->report_base, "/tmp/grey-%u", euid);
    if (n < 0 || (size_t)n >= sizeof s->report_base)
        s->report_base[0] = '\0';
}

static void read_accounting(struct grey_settings *s, grey_env_fn env)
{
    const char *managed = env("GREY_COUNT_MANAGED", false);
    s->count_managed = !(managed && strcmp(managed, "0") == 0);
    const char *overhead = given(env, "GREY_CONTEXT_OVERHEAD", false);
    if (overhead) {
        s->have_context_overhead = grey_size_parse(overhead, &s->context_overhead, NULL, 0) == 0;
        if (!s->have_context_overhead)
            warn(s, "GREY_CONTEXT_OVERHEAD '%s' is not a size; measuring instead", overhead);
    }
}

void grey_settings_read(struct grey_settings *out, grey_env_fn env, unsigned euid)
{
    memset(out, 0, sizeof *out);
    const char *log = env("GREY_LOG", false);
    out->log = log && *log && strcmp(log, "0") != 0;
    read_run_id(out, env);
    read_batch_job_id(out, env);
    read_cap(out, env);
    read_plan_paths(out, env);
    const char *ledger = given(env, "GREY_LEDGER", false);
    if (ledger && !put_path(out->ledger, ledger))
        too_long(out, "GREY_LEDGER", ledger);
    read_fair_share(out, env);
    read_tracking(out, env, euid);
    read_accounting(out, env);
}
