/* Every setting a grey process takes from its environment, and the rule for each, in one place.
 *
 * The hook reads them once per process (core/settings.c), the tools read the ones they need the
 * same way (tools/cli_common.c); nobody else calls getenv for a GREY_* variable. The rules here are
 * pure: values come from a lookup function, so tests give them from a table.
 *
 *   GREY_LOG=1               one line per notable event on stderr
 *   GREY_RUN_ID=HEX          set by grey-run: ties the process to its run
 *   GREY_CAP=SIZE            per-process cap on every device; malformed: fail closed
 *   GREY_PLAN=FILE           the user's plan (must exist); else $XDG_CONFIG_HOME/grey/plan.conf,
 *                            else $HOME/.config/grey/plan.conf (used when it exists)
 *   GREY_ADMIN_PLAN=FILE     the admin plan, honoured only while GREY_ADMIN_PLAN_PATH does not
 *                            exist, and never in a setuid program (secure lookup)
 *   GREY_LEDGER=FILE         the ledger (an admin plan's `ledger` wins: policy/ledger_path.h)
 *   GREY_WEIGHT=N            fair-share weight 1..10000; malformed: the plan's weight
 *   GREY_MAX_SHARE=P%        ceiling on each device's time; malformed or 100%: none
 *   GREY_MAX_LEAD=DURATION   the most device time this process may queue ahead (default 50ms;
 *                            0: no bound); malformed: the default
 *   GREY_PACE=0|off          no pacing in this process
 *   GREY_DEDUP=1             fingerprints and use tracking for the buffer report
 *   GREY_REPORT_DIR=DIR      where the raw record goes; its presence turns recording on
 *   GREY_TRACK_SITES=0       no allocation call sites
 *   GREY_STACK_DEPTH=N       frames per call site, 1..GREY_SITE_MAX_DEPTH
 *   GREY_DEDUP_INTERVAL=S    snapshots every S seconds with GREY_DEDUP (0: none)
 *   GREY_DIR=DIR             the per-user grey directory; else $XDG_RUNTIME_DIR/grey, else
 *                            /tmp/grey-UID
 *   GREY_COUNT_MANAGED=0     managed memory does not count against the cap
 *   GREY_CONTEXT_OVERHEAD=SIZE  what a context costs, instead of measuring it
 *
 * A malformed value that would only lose a feature gets a warning and the default; one that
 * would lift a limit the user believed in (GREY_CAP; GREY_PLAN, GREY_ADMIN_PLAN or GREY_LEDGER
 * longer than a path may be) makes the process deny every allocation. */
#ifndef GREY_SETTINGS_H
#define GREY_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GREY_SETTINGS_PATH_MAX 4096
#define GREY_SETTINGS_WARNINGS 8

/* Chosen from make bench-sites (docs/NUMBERS.md). Each frame costs ~6 ns on top of ~60 ns for
 * unw_backtrace itself and ~30 ns for grey's own frames it walks first: 4 frames keep a plain
 * alloc/free pair within its 200 ns goal. A process that records a report (the user asked for
 * it, and pays for fingerprints anyway) takes 16, deep enough to get past a runtime's or a
 * framework's allocator into the program's own code. */
#define GREY_DEFAULT_STACK_DEPTH 4
#define GREY_RECORD_STACK_DEPTH 16
#define GREY_DEFAULT_DEDUP_INTERVAL_S 60

struct grey_settings {
    bool log;
    uint64_t run_id;                       /* 0: not under a grey-run */
    uint64_t batch_job_id;                 /* SLURM_JOB_ID, for the tools' job labels (0: none) */

    bool have_cap;                         /* GREY_CAP given and valid */
    uint64_t cap;
    char cap_text[64];                     /* as given, for messages */
    char cap_error[200];                   /* GREY_CAP given but malformed: why ("" when fine) */
    /* A variable naming where limits come from (GREY_PLAN, GREY_ADMIN_PLAN, GREY_LEDGER) that
     * cannot be used as given: why ("" when fine). Ignoring it would lift a limit, so the hook
     * denies every allocation and grey-run refuses to start. */
    char limit_error[200];

    char admin_plan[GREY_SETTINGS_PATH_MAX];
    bool have_user_plan;                   /* a candidate user plan path exists in user_plan */
    bool user_plan_required;               /* it was named by GREY_PLAN, so it must exist */
    char user_plan[GREY_SETTINGS_PATH_MAX];
    char user_config[GREY_SETTINGS_PATH_MAX]; /* the XDG/HOME plan path whatever GREY_PLAN says;
                                               * "" without HOME or when it does not fit */
    char ledger[GREY_SETTINGS_PATH_MAX];   /* GREY_LEDGER, "" when unset */

    uint32_t weight;                       /* GREY_WEIGHT, 0 when not given */
    uint32_t max_share;                    /* GREY_MAX_SHARE in 1/10000, 0: no ceiling */
    bool have_max_lead;                    /* GREY_MAX_LEAD was given (and well formed) */
    uint64_t max_lead_ns;                  /* its value */
    bool pace_off;

    bool sites;
    unsigned depth;
    bool dedup;
    bool record;                           /* write a raw record at exit (dedup or report_dir) */
    char report_dir[GREY_SETTINGS_PATH_MAX];
    unsigned interval_s;
    char report_base[GREY_SETTINGS_PATH_MAX];

    bool count_managed;
    bool have_context_overhead;
    uint64_t context_overhead;

    /* Values that were malformed and replaced by a default: one line each, for the caller to
     * print (the hook through its log, the tools on stderr). */
    unsigned nwarnings;
    char warning[GREY_SETTINGS_WARNINGS][240];
};

/* How settings are looked up: the value of name, or NULL. secure asks for secure_getenv's rule
 * (nothing in a setuid program), for values that choose files an admin's rules come from. */
typedef const char *(*grey_env_fn)(const char *name, bool secure);

/* Reads every setting through env and applies the rules above. euid names the /tmp fallback of
 * the grey directory. Never fails: problems are in cap_error and warning[]. */
void grey_settings_read(struct grey_settings *out, grey_env_fn env, unsigned euid);

/* The process environment: getenv, or secure_getenv when secure. */
const char *grey_env_process(const char *name, bool secure);

#endif
