/* The hook's life in a process (see process.h) and the GPUs it meets (devices.h): plans and
 * settings read once, the ledger opened, a slot claimed; each GPU bound to a ledger row with the
 * process's limits for it; fork and exit followed. */
#include "process.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "ledger_guard.h"
#include "log.h"
#include "policy/budget.h"
#include "policy/caps.h"
#include "policy/history.h"
#include "policy/identity.h"
#include "policy/ledger_path.h"
#include "policy/node_client.h"
#include "policy/node_wire.h"
#include "policy/plan.h"
#include "policy/pacer.h"
#include "policy/plan_gpus.h"
#include "policy/procinfo.h"
#include "policy/sites.h"
#include "policy/size.h"
#include "policy/tracker.h"
#include "policy/thermal.h"
#include "policy/weights.h"
#include "settings.h"
#include "thermal_config.h"

/* A storm of budget denials scans the ledger for dead processes at most this often, node-wide
 * (the interval is kept in the ledger, so 32 denied processes still make one scan). */
#define RECLAIM_INTERVAL_NS (10ull * 1000 * 1000)

const struct grey_quota *_Atomic grey_self_quota;
const struct grey_node_owners *grey_self_owners;

static struct grey_ledger ledger;
static bool ledger_open;
static char ledger_path[GREY_SETTINGS_PATH_MAX];
static struct grey_slot private_slot;     /* used when the ledger is unavailable, and after exit */
static struct grey_quota shared_quota;    /* slot in the ledger + the ledger's device budgets */
static struct grey_quota private_quota = {.slot = &private_slot, .budgets = NULL};
/* With grey-noded: the ledger came sealed from the service, and these are this process's own
 * copies of the limits nobody can rewrite (policy/quota.h), per GPU row, set when the row is
 * bound: the smaller of the service's sealed row (by UUID) and what this process read itself in
 * the root-owned admin plan. */
static bool ledger_from_service;
static struct grey_node_limits service_limits;
static uint64_t sealed_budget[GREY_MAX_DEVICES];
static uint64_t sealed_cap[GREY_MAX_DEVICES];
/* The admin plan and the user's plan (core/settings.h says which files), numbered by physical
 * index as written; static because they are large and the constructor may run on a small stack. */
static struct grey_plan plans[2];
static const struct grey_plan *plan_list[2];
static unsigned nplans;
static bool deny_all;                     /* a plan or GREY_CAP could not be read: fail closed */
static struct grey_identity identity;
static const struct grey_identity *principal_id; /* &identity when a plan has [user]/[group] */
static struct grey_tick_ref t0;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* The GPUs bound so far, by row; the table of rows when there is no ledger. */
static struct grey_gpu_id bound_id[GREY_MAX_DEVICES];
static _Atomic grey_devmask bound;
static struct grey_ledger_gpu private_rows[GREY_MAX_DEVICES];
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;
static struct grey_plan row_plans[2];     /* plan_list in row order (policy/plan_gpus.h) */

/* Tells the user something grey-run would tell them itself: said by the hook only when there is
 * no grey-run around it, so a job under grey-run does not hear it twice. */
#define grey_note(...) ((grey_settings()->run_id == 0 ? grey_warn : grey_log)(__VA_ARGS__))

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

/* The plans and settings that limits come from (the rules are in policy/caps.h and
 * policy/weights.h; they are applied per GPU as each is bound). A plan or cap that cannot be
 * read fails closed: every allocation is denied, because running with no limit the user believed
 * in is worse. */
static void load_limits(void)
{
    const struct grey_settings *s = grey_settings();
    nplans = 0;
    deny_all = false;
    if (s->limit_error[0]) {
        grey_warn("%s; denying every GPU allocation (fail closed)", s->limit_error);
        deny_all = true;
        return;
    }
    if (!load_plan(s->admin_plan, true, true) ||
        (s->have_user_plan && !load_plan(s->user_plan, false, !s->user_plan_required))) {
        nplans = 0; /* a ledger or budget from half of the configuration would be no better */
        deny_all = true;
        return;
    }
    if (s->cap_error[0]) {
        grey_warn("GREY_CAP: %s; denying every GPU allocation (fail closed)", s->cap_error);
        deny_all = true;
        return;
    }
    bool principals = false;
    for (unsigned i = 0; i < nplans; i++)
        principals |= plan_list[i]->nprincipals > 0;
    if (principals) /* name-service lookups only when a [user]/[group] section needs them */
        grey_identity_self(&identity, plan_list, nplans);
    principal_id = principals ? &identity : NULL;
}

/* ---------------------------------------------------------------- GPUs */

const char *grey_device_label(int row, char *buf, size_t len)
{
    struct grey_gpu_id id;
    if (!grey_device_identity(row, &id)) {
        snprintf(buf, len, "row %d", row);
        return buf;
    }
    return grey_gpu_label(&id, buf, len);
}

bool grey_device_identity(int row, struct grey_gpu_id *out)
{
    if (row < 0 || row >= GREY_MAX_DEVICES || !(atomic_load(&bound) & GREY_DEVBIT(row)))
        return false;
    *out = bound_id[row];
    return true;
}

/* Row r's sealed ceilings (see sealed_budget): the admin plan's budget and this process's cap as
 * it resolved them, each lowered to the service's row for the GPU's UUID when it has one. */
static void seal_row_limits(int r, uint64_t cap, bool say)
{
    uint64_t budget = UINT64_MAX;
    for (unsigned i = 0; i < nplans; i++)
        if (plan_list[i]->admin && row_plans[i].dev[r].present && row_plans[i].dev[r].budget < budget)
            budget = row_plans[i].dev[r].budget;
    int k = grey_node_limits_find(&service_limits, bound_id[r].uuid);
    if (k >= 0) {
        if (service_limits.row[k].budget < budget)
            budget = service_limits.row[k].budget;
        if (service_limits.row[k].process_cap < cap)
            cap = service_limits.row[k].process_cap;
    }
    sealed_budget[r] = budget;
    sealed_cap[r] = cap;
    if (say) {
        char a[32], b[32], label[64];
        grey_log("%s: sealed limits (grey-noded%s): cap %s, budget %s", grey_device_label(r, label, sizeof label),
                 k >= 0 ? "'s row and the admin plan" : " knows no such GPU: the admin plan",
                 cap == UINT64_MAX ? "none" : grey_size_format(cap, a, sizeof a),
                 budget == UINT64_MAX ? "none" : grey_size_format(budget, b, sizeof b));
    }
}

/* The process's limits for row r in slot: its cap, weight and ceiling. */
static void apply_row_limits(struct grey_slot *slot, int r, bool say)
{
    const struct grey_settings *s = grey_settings();
    const struct grey_plan *list[2] = {&row_plans[0], &row_plans[1]};
    uint64_t caps[GREY_MAX_DEVICES];
    uint32_t weights[GREY_MAX_DEVICES];
    grey_devmask raised = 0;
    uint64_t cap = s->cap;
    char label[64], a[32];
    if (deny_all) {
        caps[r] = 0;
    } else {
        grey_caps_resolve(list, nplans, principal_id, s->have_cap ? &cap : NULL, caps, &raised);
        if (say && (raised & GREY_DEVBIT(r)))
            grey_note("GREY_CAP %s is above the admin plan's cap on %s; the admin cap %s applies", s->cap_text,
                      grey_device_label(r, label, sizeof label), grey_size_format(caps[r], a, sizeof a));
    }
    /* A cap above the GPU's memory is the GPU's memory: the summary and every check say what
     * is really enforced (a driver that over-commits must not get more through grey). */
    if (caps[r] != UINT64_MAX && bound_id[r].total_bytes && caps[r] > bound_id[r].total_bytes)
        caps[r] = bound_id[r].total_bytes;
    raised = 0;
    grey_weights_resolve(list, nplans, principal_id, s->weight, weights, &raised);
    if (say && (raised & GREY_DEVBIT(r)))
        grey_warn("GREY_WEIGHT %u is above the admin plan's weight on %s; the admin's %u applies", s->weight,
                  grey_device_label(r, label, sizeof label), weights[r]);
    atomic_store(&slot->dev[r].cap, grey_ledger_guard_cap(r, caps[r]));
    if (ledger_from_service)
        seal_row_limits(r, caps[r], say);
    struct grey_slot_fair *sf = &slot->fair[r];
    atomic_store(&sf->seen_ns, 0);
    atomic_store(&sf->vtime, 0);
    atomic_store(&sf->busy_ns, 0);
    atomic_store(&sf->recent_ns, 0);
    atomic_store(&sf->recent_at_ns, 0);
    atomic_store(&sf->waiting_since, 0);
    atomic_store(&sf->throttled_ns, 0);
    atomic_store(&sf->weight, weights[r]);
    atomic_store(&sf->max_share, s->max_share);
    /* What the thermal watcher (shim/thermal.c) holds this row to. */
    struct grey_thermal_config th = {.mode = grey_thermal_mode(plan_list, nplans)};
    grey_thermal_limits(list, nplans, r, &th.cooldown_c, &th.throttle_c);
    grey_thermal_config_set(r, &th);
    if (say) {
        char sh[16];
        grey_log("%s is row %d: cap %s, weight %u%s%s%s", grey_device_label(r, label, sizeof label), r,
                 caps[r] == UINT64_MAX ? "none" : grey_size_format(caps[r], a, sizeof a), weights[r],
                 s->max_share ? ", at most " : "", s->max_share ? grey_share_format(s->max_share, sh, sizeof sh) : "",
                 s->pace_off ? " (pacing off)" : "");
    }
}

/* The plans' budgets for row r into the ledger (policy/budget.h), said once when the ledger keeps
 * another budget. */
static void apply_row_budget(int r)
{
    for (unsigned i = 0; i < nplans; i++) {
        if (!row_plans[i].dev[r].present)
            continue;
        static struct grey_plan one; /* static: large; bind_lock is held */
        one = row_plans[i];
        memset(one.dev, 0, sizeof one.dev);
        one.dev[r] = row_plans[i].dev[r];
        if (!grey_budget_apply(&ledger, &one))
            continue;
        char a[32], b[32], label[64];
        grey_note("ledger %s keeps its budget %s on %s (the plan says %s): processes using it already share that "
                  "budget", ledger_path, grey_size_format(atomic_load(&ledger.header->device_budget[r]), a, sizeof a),
                  grey_device_label(r, label, sizeof label), grey_size_format(one.dev[r].budget, b, sizeof b));
        return;
    }
}

int grey_device_bind(const struct grey_gpu_id *id, grey_uuid_locate_fn locate, void *arg)
{
    const struct grey_quota *q = grey_self();
    pthread_mutex_lock(&bind_lock);
    int r = ledger_open ? grey_ledger_gpu_claim(&ledger, id)
                        : grey_gpu_row(private_rows, GREY_MAX_DEVICES, id, -1, NULL);
    if (r >= 0 && !(atomic_load(&bound) & GREY_DEVBIT(r))) {
        bound_id[r] = *id;
        grey_devmask now = atomic_load(&bound) | GREY_DEVBIT(r);
        atomic_store(&bound, now); /* from here on, messages name the GPU */
        for (unsigned i = 0; i < nplans; i++) {
            grey_devmask foreign;
            grey_plan_for_rows(plan_list[i], bound_id, now, locate, arg, &row_plans[i], &foreign);
            if (foreign & GREY_DEVBIT(r)) {
                char label[64];
                grey_note("the plan's [device %d] is for %s, which is on no GPU of this node; it applies to %s by "
                          "its index", id->index, plan_list[i]->dev[id->index].uuid,
                          grey_device_label(r, label, sizeof label));
            }
        }
        if (ledger_open && q == &shared_quota && !ledger_from_service)
            apply_row_budget(r); /* the service writes a sealed ledger's budgets itself */
        apply_row_limits(q->slot, r, true);
    } else if (r < 0) {
        static bool said;
        if (!said)
            grey_warn("%s cannot be told apart from other GPUs (%s); its memory is not accounted",
                      id->uuid[0] ? id->uuid : "a device",
                      id->uuid[0] ? "every row of the ledger's GPU table is taken" : "the driver gives no UUID");
        said = true;
    }
    pthread_mutex_unlock(&bind_lock);
    return r;
}

/* ---------------------------------------------------------------- the ledger and the slot */

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

/* The admin plan's node_service: the socket of the service that owns the node ledger ("" none).
 * Only an admin plan names it: the sealed ledger is the node's, never a user's choice. */
static const char *node_service(void)
{
    for (unsigned i = 0; i < nplans; i++)
        if (plan_list[i]->admin && plan_list[i]->node_service[0])
            return plan_list[i]->node_service;
    return "";
}

/* The sealed ledger from grey-noded, when the admin plan names the service and it answers in
 * time; otherwise one line, and the ledger is opened as without a service. */
static bool open_service_ledger(void)
{
    const char *sock = node_service();
    if (!*sock)
        return false;
    char err[GREY_SETTINGS_PATH_MAX + 256];
    if (grey_node_ledger_open(sock, GREY_NODE_TIMEOUT_MS, &ledger, &service_limits, &grey_self_owners, err,
                              sizeof err) != 0) {
        grey_warn("%s; using the ledger as without the service", err);
        return false;
    }
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        sealed_budget[r] = sealed_cap[r] = UINT64_MAX;
    snprintf(ledger_path, sizeof ledger_path, "%s%s", GREY_NODE_LEDGER_PREFIX, sock);
    ledger_from_service = true;
    return true;
}

/* Opens the ledger the configuration names (see policy/ledger_path.h): grey-noded's sealed
 * one when the admin plan names the service and it answers, else the file. A ledger_group that
 * does not exist fails closed (deny_all): running outside the node budget the plan meant would
 * lift a limit. Any other failure leaves the caps enforced privately. */
static bool open_ledger(char *err, size_t errlen)
{
    if (open_service_ledger())
        return true;
    const char *group;
    enum grey_ledger_source source =
        grey_ledger_choose_path(plan_list, nplans, grey_settings()->ledger, ledger_path, sizeof ledger_path, &group);
    gid_t gid = (gid_t)-1;
    if (*group && grey_group_lookup(group, &gid) != 0) {
        snprintf(err, errlen, "ledger %s: the plan's ledger_group '%s' does not exist; denying every GPU "
                 "allocation (fail closed)", ledger_path, group);
        deny_all = true;
        return false;
    }
    unsigned flags = GREY_LEDGER_CREATE | (source == GREY_LEDGER_FROM_ADMIN_PLAN ? GREY_LEDGER_NODE : 0);
    if (grey_ledger_open_group(ledger_path, flags, gid, &ledger, err, errlen) != 0) {
        snprintf(err + strlen(err), errlen - strlen(err), "; caps are enforced in this process only");
        return false;
    }
    return true;
}

/* A slot's limits for every GPU bound so far (a fork child's new slot inherits its parent's
 * GPUs). */
static void apply_limits(struct grey_slot *slot)
{
    const struct grey_settings *set = grey_settings();
    atomic_store(&slot->max_lead_ns, set->pace_off ? 0 : grey_pacer_max_lead(plan_list, nplans, set->have_max_lead,
                                                                              set->max_lead_ns));
    grey_devmask b = atomic_load(&bound);
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        if (b & GREY_DEVBIT(r))
            apply_row_limits(slot, r, false);
}

static void use_private_slot(pid_t pid, uint64_t start)
{
    memset(&private_slot, 0, sizeof private_slot);
    private_slot.pid = pid;
    private_slot.start_time = start;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&private_slot.dev[d].cap, UINT64_MAX);
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
        struct grey_slot *slot = grey_ledger_claim(&ledger, pid, start, grey_proc_pid_namespace(), grey_settings()->run_id,
                                                   (uint32_t)getuid(), command);
        if (slot) {
            apply_limits(slot);
            atomic_store(&slot->batch_job_id, grey_settings()->batch_job_id);
            shared_quota.slot = slot;
            shared_quota.budgets = ledger.header;
            grey_ledger_guard_arm(ledger.header, ledger.map_size, slot, ledger_path);
            shared_quota.reclaim = reclaim_on_denial;
            shared_quota.budget_ceiling = ledger_from_service ? sealed_budget : NULL;
            shared_quota.cap_ceiling = ledger_from_service ? sealed_cap : NULL;
            atomic_store_explicit(&grey_self_quota, &shared_quota, memory_order_release);
            return;
        }
        grey_warn("the ledger has no free slot; caps are enforced but this process is invisible to "
                  "grey-run and grey-top");
    }
    use_private_slot(pid, start);
}

void grey_process_fork_prepare(void)
{
    pthread_mutex_lock(&bind_lock);
    grey_ledger_fork_prepare();
    tracker_fork_prepare();
}

void grey_process_fork_parent(void)
{
    tracker_fork_parent();
    grey_ledger_fork_parent();
    pthread_mutex_unlock(&bind_lock);
}

/* The child of a fork holds no buffers: its tracker, per-site counts and freed history start
 * empty, its timeline starts now, and it is a process of its own in the ledger, on a file
 * description of its own (the inherited one carries the parent's lock). */
void grey_process_fork_child(void)
{
    tracker_fork_child();
    grey_ledger_fork_child();
    pthread_mutex_init(&bind_lock, NULL);
    sites_reset_accounting();
    history_reset();
    grey_tick_ref_now(&t0);
    if (ledger_open && grey_ledger_new_description(&ledger) != 0) {
        grey_warn("ledger %s: cannot reopen it in a forked child (%s); caps are enforced in this process only",
                  ledger_path, strerror(errno));
        ledger_open = false;
    }
    register_process();
}

bool grey_process_ledger_slot(char *path, size_t len, uint32_t *index, uint32_t *nslots)
{
    const struct grey_quota *q = atomic_load_explicit(&grey_self_quota, memory_order_acquire);
    if (q != &shared_quota || !shared_quota.slot || !ledger.slots)
        return false;
    int n = snprintf(path, len, "%s", ledger_path);
    if (n < 0 || (size_t)n >= len)
        return false;
    *index = grey_slot_index(&ledger, shared_quota.slot);
    *nslots = ledger.nslots;
    return true;
}

const struct grey_quota *grey_process_init(void)
{
    pthread_mutex_lock(&init_lock);
    if (!atomic_load(&grey_self_quota)) {
        grey_tick_ref_now(&t0);
        load_limits();
        char err[GREY_SETTINGS_PATH_MAX + 256];
        ledger_open = open_ledger(err, sizeof err);
        if (!ledger_open)
            grey_warn("%s", err);
        else /* the GPU table is used even when no slot is free */
            grey_ledger_guard_arm(ledger.header, ledger.map_size, NULL, ledger_path);
        register_process();
        grey_log("loaded: ledger %s, run %llx", ledger_open ? ledger_path : "(private)",
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
    grey_slot_retire(&ledger, q->slot);
}
