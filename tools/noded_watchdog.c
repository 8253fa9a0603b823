/* The watchdog's rounds (see noded_watchdog.h). */
#include "noded_watchdog.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noded_identity.h"
#include "noded_log.h"
#include "noded_nvml.h"
#include "policy/caps.h"
#include "policy/plan_gpus.h"
#include "policy/procinfo.h"
#include "policy/size.h"

#define ACTED_MAX 512

struct acted {
    pid_t pid;
    uint64_t start;
};

static struct {
    bool on;
    struct grey_plan plan;        /* the admin plan, its sections in NVML index order */
    struct grey_gpu_id gpus[GREY_MAX_DEVICES];
    unsigned n;
    enum grey_watchdog_policy policy;
    uint64_t slack;
    /* Processes already dealt with, by pid and start time (a pid alone may be reused). */
    struct acted acted[ACTED_MAX];
    unsigned nacted;
} wd;

void noded_watchdog_init(const struct grey_plan *admin, const struct grey_gpu_id *gpus, unsigned n,
                         enum grey_watchdog_policy policy, uint64_t slack)
{
    memset(&wd, 0, sizeof wd);
    if (!admin || n == 0)
        return;
    wd.n = n < GREY_MAX_DEVICES ? n : GREY_MAX_DEVICES;
    memcpy(wd.gpus, gpus, wd.n * sizeof gpus[0]);
    grey_devmask all = wd.n == 64 ? ~(grey_devmask)0 : ((grey_devmask)1 << wd.n) - 1;
    grey_devmask foreign;
    grey_plan_for_rows(admin, wd.gpus, all, NULL, NULL, &wd.plan, &foreign);
    wd.policy = policy;
    wd.slack = slack;
    wd.on = true;
}

static bool already_acted(pid_t pid, uint64_t start)
{
    for (unsigned i = 0; i < wd.nacted; i++)
        if (wd.acted[i].pid == pid && wd.acted[i].start == start)
            return true;
    return false;
}

static void remember(pid_t pid, uint64_t start)
{
    /* Forget the dead first: the table holds processes, not history. */
    unsigned k = 0;
    for (unsigned i = 0; i < wd.nacted; i++)
        if (grey_proc_alive(wd.acted[i].pid, wd.acted[i].start))
            wd.acted[k++] = wd.acted[i];
    wd.nacted = k;
    if (wd.nacted < ACTED_MAX)
        wd.acted[wd.nacted++] = (struct acted){pid, start};
}

static void command_of(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    buf[0] = '\0';
    if (f) {
        if (fgets(buf, (int)len, f))
            buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
    }
    if (!buf[0])
        snprintf(buf, len, "?");
}

/* The policy, once per process; what was over is `what` ("its cap 512 MiB"). */
static void act(pid_t pid, uint64_t bytes, unsigned g, const char *what, const struct grey_identity *id)
{
    uint64_t start = 0;
    if (pid <= 1 || pid == getpid() || grey_proc_start_time(pid, &start) != 0 || already_acted(pid, start))
        return;
    remember(pid, start);
    char cmd[64], a[32], label[64];
    command_of(pid, cmd, sizeof cmd);
    const char *done = "logged (policy log)";
    if (wd.policy == GREY_WATCHDOG_SIGNAL)
        done = kill(pid, SIGTERM) == 0 ? "sent SIGTERM (policy signal)" : "could not be signalled";
    else if (wd.policy == GREY_WATCHDOG_KILL)
        done = kill(pid, SIGKILL) == 0 ? "killed (SIGKILL, policy kill)" : "could not be killed";
    noded_log("watchdog: pid %d (%s, user %s) holds %s on %s, over %s: %s", (int)pid, cmd,
              id->user[0] ? id->user : "?", grey_size_format(bytes, a, sizeof a),
              grey_gpu_label(&wd.gpus[g], label, sizeof label), what, done);
}

static void watch_gpu(unsigned g)
{
    static struct noded_proc procs[NODED_PROCS_MAX];
    int n = noded_nvml_processes(g, procs, NODED_PROCS_MAX);
    if (n <= 0)
        return;
    uint64_t total = 0;
    int largest = -1;
    for (int k = 0; k < n; k++) {
        total += procs[k].bytes;
        if (largest < 0 || procs[k].bytes > procs[largest].bytes)
            largest = k;
        uid_t uid;
        gid_t gid;
        if (noded_process_owner(procs[k].pid, &uid, &gid) != 0)
            continue; /* gone already */
        struct grey_identity id;
        noded_identity_of(uid, gid, &id);
        uint64_t caps[GREY_MAX_DEVICES];
        grey_plan_caps(&wd.plan, &id, caps);
        uint64_t cap = caps[g];
        if (cap != UINT64_MAX && procs[k].bytes > cap && procs[k].bytes - cap > wd.slack) {
            char what[64], a[32];
            snprintf(what, sizeof what, "its cap %s", grey_size_format(cap, a, sizeof a));
            act(procs[k].pid, procs[k].bytes, g, what, &id);
        }
    }
    const struct grey_plan_device *d = &wd.plan.dev[g];
    if (d->present && total > d->budget && total - d->budget > wd.slack) {
        /* The GPU is over its budget although no one process may be over its cap: the largest
         * holder is the one the policy applies to (one per round, so the rest may fit after). */
        uid_t uid;
        gid_t gid;
        struct grey_identity id;
        memset(&id, 0, sizeof id);
        if (noded_process_owner(procs[largest].pid, &uid, &gid) == 0)
            noded_identity_of(uid, gid, &id);
        char what[96], a[32], b[32];
        snprintf(what, sizeof what, "the GPU's budget %s (all processes hold %s)",
                 grey_size_format(d->budget, a, sizeof a), grey_size_format(total, b, sizeof b));
        act(procs[largest].pid, procs[largest].bytes, g, what, &id);
    }
}

void noded_watchdog_round(void)
{
    if (!wd.on)
        return;
    for (unsigned g = 0; g < wd.n; g++)
        watch_gpu(g);
}
