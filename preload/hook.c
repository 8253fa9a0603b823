/* The hook's life in a process: register at load, configure caps, follow fork, leave at exit.
 *
 * Registration happens in the constructor, before any GPU call, so grey-run can tell a child
 * that never loaded the hook (static binary, setuid, cleared environment) from one that merely
 * made no GPU calls. */
#include "hook.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../policy/plan.h"
#include "../policy/procinfo.h"
#include "../policy/size.h"
#include "../policy/tracker.h"
#include "log.h"

const struct grey_quota *_Atomic grey_self_quota;

static struct grey_ledger ledger;
static bool ledger_open;
static struct grey_slot private_slot;     /* used when the ledger is unavailable, and after exit */
static struct grey_quota shared_quota;    /* slot in the ledger + the ledger's device budgets */
static struct grey_quota private_quota = {.slot = &private_slot, .budgets = NULL};
static uint64_t configured_cap[GREY_MAX_DEVICES];
static uint64_t run_id;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t parse_run_id(const char *text)
{
    if (!text || !*text)
        return 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 16);
    if (*end != '\0') {
        grey_warn("GREY_RUN_ID '%s' is not a run id; this process is not tied to a grey-run", text);
        return 0;
    }
    return v;
}

/* Caps from GREY_PLAN and GREY_CAP. A plan or cap that cannot be read fails closed: every
 * allocation is denied, because running with no limit the user believed in is worse. */
static void load_caps(void)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        configured_cap[d] = UINT64_MAX;

    const char *plan_path = getenv("GREY_PLAN");
    if (plan_path && *plan_path) {
        static struct grey_plan plan; /* large; the constructor may run on a small stack */
        char err[256];
        if (grey_plan_load(plan_path, &plan, err, sizeof err) != 0) {
            grey_warn("%s; denying every GPU allocation (fail closed)", err);
            for (int d = 0; d < GREY_MAX_DEVICES; d++)
                configured_cap[d] = 0;
            return;
        }
        for (unsigned d = 0; d < plan.ndevices && d < GREY_MAX_DEVICES; d++)
            if (plan.dev[d].present)
                configured_cap[d] = plan.dev[d].process_cap;
    }

    const char *cap_text = getenv("GREY_CAP");
    if (cap_text && *cap_text) {
        uint64_t cap;
        char err[200];
        if (grey_size_parse(cap_text, &cap, err, sizeof err) != 0) {
            grey_warn("GREY_CAP: %s; denying every GPU allocation (fail closed)", err);
            cap = 0;
        }
        for (int d = 0; d < GREY_MAX_DEVICES; d++)
            configured_cap[d] = cap;
    }
}

static void apply_caps(struct grey_slot *slot)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&slot->dev[d].cap, configured_cap[d]);
}

static void use_private_slot(pid_t pid, uint64_t start)
{
    memset(&private_slot, 0, sizeof private_slot);
    private_slot.pid = pid;
    private_slot.start_time = start;
    atomic_store(&private_slot.state, GREY_SLOT_ACTIVE);
    apply_caps(&private_slot);
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
        struct grey_slot *slot = grey_ledger_claim(&ledger, pid, start, run_id, (uint32_t)getuid(), command);
        if (slot) {
            apply_caps(slot);
            shared_quota.slot = slot;
            shared_quota.budgets = ledger.header;
            atomic_store_explicit(&grey_self_quota, &shared_quota, memory_order_release);
            return;
        }
        grey_warn("the ledger has no free slot; caps are enforced but this process is invisible to "
                  "grey-run and grey-top");
    }
    use_private_slot(pid, start);
}

static void fork_prepare(void) { tracker_fork_prepare(); }
static void fork_parent(void) { tracker_fork_parent(); }
static void fork_child(void)
{
    tracker_fork_child();
    register_process();
}

const struct grey_quota *grey_hook_init_slow(void)
{
    pthread_mutex_lock(&init_lock);
    if (!atomic_load(&grey_self_quota)) {
        const char *log = getenv("GREY_LOG");
        grey_log_enabled = log && *log && strcmp(log, "0") != 0;
        run_id = parse_run_id(getenv("GREY_RUN_ID"));
        load_caps();

        char path[512], err[512];
        grey_ledger_default_path(path, sizeof path);
        ledger_open = grey_ledger_open(path, true, &ledger, err, sizeof err) == 0;
        if (!ledger_open)
            grey_warn("%s; caps are enforced in this process only", err);
        register_process();
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        grey_log("loaded: ledger %s, run %llx", ledger_open ? path : "(private)", (unsigned long long)run_id);
    }
    pthread_mutex_unlock(&init_lock);
    return atomic_load(&grey_self_quota);
}

__attribute__((constructor)) static void grey_hook_load(void)
{
    grey_hook_init_slow();
}

/* At exit the slot is handed back, but the program's own teardown (and the CUDA runtime's) may
 * still free memory after this runs; those late calls count in a private copy instead of a slot
 * that another process may already have claimed. */
__attribute__((destructor)) static void grey_hook_unload(void)
{
    const struct grey_quota *q = atomic_load(&grey_self_quota);
    if (!q || q == &private_quota)
        return;
    memcpy(&private_slot, q->slot, sizeof private_slot);
    atomic_store_explicit(&grey_self_quota, &private_quota, memory_order_release);
    grey_slot_exit(q->slot);
}
