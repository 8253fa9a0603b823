/* The hook's life in a process (see process.h): configure caps and weights from the plans and the
 * settings, open the ledger, claim a slot, follow fork, leave at exit. */
#include "process.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/budget.h"
#include "policy/caps.h"
#include "policy/history.h"
#include "policy/identity.h"
#include "policy/ledger_path.h"
#include "policy/plan.h"
#include "policy/procinfo.h"
#include "policy/sites.h"
#include "policy/size.h"
#include "policy/tracker.h"
#include "policy/weights.h"
#include "log.h"
#include "settings.h"

/* A storm of budget denials scans the ledger for dead processes at most this often, node-wide
 * (the interval is kept in the ledger, so 32 denied processes still make one scan). */
#define RECLAIM_INTERVAL_NS (10ull * 1000 * 1000)

const struct grey_quota *_Atomic grey_self_quota;

static struct grey_ledger ledger;
static bool ledger_open;
static struct grey_slot private_slot;     /* used when the ledger is unavailable, and after exit */
static struct grey_quota shared_quota;    /* slot in the ledger + the ledger's device budgets */
static struct grey_quota private_quota = {.slot = &private_slot, .budgets = NULL};
static uint64_t configured_cap[GREY_MAX_DEVICES];
static uint32_t configured_weight[GREY_MAX_DEVICES];
/* The admin plan and the user's plan (core/settings.h says which files); static because they are
 * large and the constructor may run on a small stack. */
static struct grey_plan plans[2];
static const struct grey_plan *plan_list[2];
static unsigned nplans;
static struct grey_identity identity;
static struct grey_tick_ref t0;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* Tells the user something grey-run would tell them itself: said by the hook only when there is
 * no grey-run around it, so a job under grey-run does not hear it twice. */
#define grey_note(...) ((grey_settings()->run_id == 0 ? grey_warn : grey_log)(__VA_ARGS__))

static void deny_everything(void)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        configured_cap[d] = 0;
}

/* Loads one plan into plans[]; false when it exists but cannot be read (the caller fails
 * closed). admin: the admin layer (only it can be an admin plan). optional: a missing file is no
 * plan rather than an error. */
static bool load_plan(const char *path, bool admin, bool optional)
{
    struct grey_plan *plan = &plans[nplans];
    char err[256];
    int rc = admin      ? grey_plan_load_admin(path, plan, err, sizeof err)
             : optional ? grey_plan_load_optional(path, plan, err, sizeof err)
                        : (grey_plan_load(path, plan, err, sizeof err) == 0 ? 1 : -1);
    if (rc < 0) {
        grey_warn("%s; denying every GPU allocation (fail closed)", err);
        return false;
    }
    if (rc > 0)
        plan_list[nplans++] = plan;
    return true;
}

/* Caps and weights from the admin plan, the user's plan and the settings (the rules are in
 * policy/caps.h and policy/weights.h). A plan or cap that cannot be read fails closed: every
 * allocation is denied, because running with no limit the user believed in is worse. */
static void load_limits(void)
{
    const struct grey_settings *s = grey_settings();
    nplans = 0;
    if (!load_plan(s->admin_plan, true, true) ||
        (s->have_user_plan && !load_plan(s->user_plan, false, !s->user_plan_required))) {
        nplans = 0; /* a ledger or budget from half of the configuration would be no better */
        deny_everything();
        return;
    }
    if (s->cap_error[0]) {
        grey_warn("GREY_CAP: %s; denying every GPU allocation (fail closed)", s->cap_error);
        deny_everything();
        return;
    }
    bool principals = false;
    for (unsigned i = 0; i < nplans; i++)
        principals |= plan_list[i]->nprincipals > 0;
    if (principals) /* name-service lookups only when a [user]/[group] section needs them */
        grey_identity_self(&identity, plan_list, nplans);
    const struct grey_identity *id = principals ? &identity : NULL;
    uint32_t raised = 0;
    uint64_t cap = s->cap;
    grey_caps_resolve(plan_list, nplans, id, s->have_cap ? &cap : NULL, configured_cap, &raised);
    if (raised) {
        int d = __builtin_ctz(raised);
        char a[32];
        grey_note("GREY_CAP %s is above the admin plan's cap on device %d; the admin cap %s applies", s->cap_text, d,
                  grey_size_format(configured_cap[d], a, sizeof a));
    }
    raised = 0;
    grey_weights_resolve(plan_list, nplans, id, s->weight, configured_weight, &raised);
    if (raised)
        grey_warn("GREY_WEIGHT %u is above the admin plan's weight on device %d; the admin's %u applies", s->weight,
                  __builtin_ctz(raised), configured_weight[__builtin_ctz(raised)]);
}

/* Budgets of every plan into the ledger (the rule is in policy/budget.h), said once when the
 * ledger keeps another budget. */
static void apply_budgets(const char *path)
{
    for (unsigned i = 0; i < nplans; i++) {
        uint32_t kept = grey_budget_apply(&ledger, plan_list[i], NULL);
        if (!kept)
            continue;
        int d = __builtin_ctz(kept);
        char a[32], b[32];
        grey_note("ledger %s keeps its budget %s on device %d (the plan says %s): processes using it already "
                  "share that budget", path, grey_size_format(atomic_load(&ledger.header->device_budget[d]), a, sizeof a),
                  d, grey_size_format(plan_list[i]->dev[d].budget, b, sizeof b));
        return;
    }
}

/* A budget denial: give dead processes' bytes back (rate-limited across the node), so that a
 * process killed with SIGKILL does not hold its share until someone else notices. Syscalls are
 * fine here: this is the failure path. */
static void reclaim_on_denial(const struct grey_quota *q, int dev)
{
    (void)q;
    (void)dev;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    unsigned n = grey_ledger_reclaim_limited(&ledger, now, RECLAIM_INTERVAL_NS);
    if (n)
        grey_log("budget denial: reclaimed the slots of %u dead process%s", n, n == 1 ? "" : "es");
}

/* Opens the ledger the configuration names (see policy/ledger_path.h), path into buf. */
static bool open_ledger(char *path, size_t pathlen, char *err, size_t errlen)
{
    const char *group;
    grey_ledger_choose_path(plan_list, nplans, grey_settings()->ledger, path, pathlen, &group);
    gid_t gid = (gid_t)-1;
    if (*group && grey_group_lookup(group, &gid) != 0) {
        snprintf(err, errlen, "ledger %s: group '%s' does not exist", path, group);
        return false;
    }
    return grey_ledger_open_group(path, true, gid, &ledger, err, errlen) == 0;
}

/* A slot's limits and a fresh fair-share line (shim/pace.h reads them): caps, weights and the
 * ceiling for every device. */
static void apply_limits(struct grey_slot *slot)
{
    uint32_t share = grey_settings()->max_share;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        atomic_store(&slot->dev[d].cap, configured_cap[d]);
        struct grey_slot_fair *sf = &slot->fair[d];
        atomic_store(&sf->seen_ns, 0);
        atomic_store(&sf->vtime, 0);
        atomic_store(&sf->busy_ns, 0);
        atomic_store(&sf->recent_ns, 0);
        atomic_store(&sf->recent_at_ns, 0);
        atomic_store(&sf->waiting_since, 0);
        atomic_store(&sf->throttled_ns, 0);
        atomic_store(&sf->weight, configured_weight[d]);
        atomic_store(&sf->max_share, share);
    }
    char s[16];
    grey_log("fair share: weight %u on device 0%s%s%s", configured_weight[0], share ? ", at most " : "",
             share ? grey_share_format(share, s, sizeof s) : "", grey_settings()->pace_off ? " (pacing off)" : "");
}

static void use_private_slot(pid_t pid, uint64_t start)
{
    memset(&private_slot, 0, sizeof private_slot);
    private_slot.pid = pid;
    private_slot.start_time = start;
    atomic_store(&private_slot.state, GREY_SLOT_ACTIVE);
    apply_limits(&private_slot);
    atomic_store_explicit(&grey_self_quota, &private_quota, memory_order_release);
}

/* Claims this process's slot. Called at load and again in a fork child (new pid). */
static void register_process(void)
{
    pid_t pid = getpid();
    uint64_t start = 0;
    grey_proc_start_time(pid, &start);

    if (ledger_open) {
        char command[GREY_COMMAND_MAX];
        grey_proc_self_command(command, sizeof command);
        struct grey_slot *slot =
            grey_ledger_claim(&ledger, pid, start, grey_settings()->run_id, (uint32_t)getuid(), command);
        if (slot) {
            apply_limits(slot);
            shared_quota.slot = slot;
            shared_quota.budgets = ledger.header;
            shared_quota.reclaim = reclaim_on_denial;
            atomic_store_explicit(&grey_self_quota, &shared_quota, memory_order_release);
            return;
        }
        grey_warn("the ledger has no free slot; caps are enforced but this process is invisible to "
                  "grey-run and grey-top");
    }
    use_private_slot(pid, start);
}

void grey_process_fork_prepare(void) { tracker_fork_prepare(); }
void grey_process_fork_parent(void) { tracker_fork_parent(); }

/* The child of a fork holds no buffers: its tracker, per-site counts and freed history start
 * empty, its timeline starts now, and it is a process of its own in the ledger. */
void grey_process_fork_child(void)
{
    tracker_fork_child();
    sites_reset_accounting();
    history_reset();
    grey_tick_ref_now(&t0);
    register_process();
}

const struct grey_quota *grey_process_init(void)
{
    pthread_mutex_lock(&init_lock);
    if (!atomic_load(&grey_self_quota)) {
        grey_tick_ref_now(&t0);
        load_limits();
        char path[GREY_SETTINGS_PATH_MAX], err[GREY_SETTINGS_PATH_MAX + 256];
        ledger_open = open_ledger(path, sizeof path, err, sizeof err);
        if (!ledger_open)
            grey_warn("%s; caps are enforced in this process only", err);
        /* Budgets before the slot is published: no allocation may be admitted under the
         * ledger's old budget. */
        if (ledger_open)
            apply_budgets(path);
        register_process();
        grey_log("loaded: ledger %s, run %llx", ledger_open ? path : "(private)",
                 (unsigned long long)grey_settings()->run_id);
    }
    pthread_mutex_unlock(&init_lock);
    return atomic_load(&grey_self_quota);
}

const struct grey_tick_ref *grey_process_t0(void)
{
    grey_self();
    return &t0;
}

/* The slot is retired: its bytes go back to the device budgets (the driver frees a process's
 * memory when it exits), exactly once. The program's own teardown (and the CUDA runtime's) may
 * still free memory after this runs; those late calls count in a private copy instead of a slot
 * that another process may already have claimed. */
void grey_process_exit(void)
{
    const struct grey_quota *q = atomic_load(&grey_self_quota);
    if (!q || q == &private_quota)
        return;
    memcpy(&private_slot, q->slot, sizeof private_slot);
    atomic_store_explicit(&grey_self_quota, &private_quota, memory_order_release);
    grey_slot_retire(ledger.header, q->slot);
}
