/* The remote half of the plugin: see spank_task.h.
 *
 * Why a watcher process rather than slurm_spank_task_exit: that callback runs in slurmstepd,
 * whose stderr is slurmd's log, not the job's; the process slurmstepd forked for the task has
 * the task's stdio, so the watcher, staying behind in it, prints where the user looks. Slurm's
 * process tracking signals every process of the step, so the task gets a cancel's signals
 * directly; the watcher drops its own copies (to live long enough for the summary) and forwards
 * none, which would deliver them twice. */
#include <errno.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/identity.h"
#include "policy/ledger.h"
#include "policy/ledger_path.h"
#include "policy/plan.h"
#include "policy/settings.h"
#include "policy/size.h"
#include "tools/job_env.h"
#include "tools/run_artifacts.h"
#include "tools/run_report.h"
#include "tools/run_summary.h"
#include "spank_cap.h"
#include "spank_task.h"

/* The task's variable, or "" (also when it does not fit, which no variable here needs). */
static const char *task_env(spank_t sp, const char *name, char *buf, int len)
{
    if (spank_getenv(sp, name, buf, len) != ESPANK_SUCCESS)
        buf[0] = '\0';
    return buf;
}

/* The node's indexes of the task's GPUs: Slurm's own lists first (SLURM_STEP_GPUS in a step,
 * SLURM_JOB_GPUS in a batch script), since CUDA_VISIBLE_DEVICES is renumbered from 0 where
 * cgroups constrain the devices; "" when none is set. */
static const char *task_gpus(spank_t sp, char *buf, int len)
{
    static const char *const vars[] = {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (*task_env(sp, vars[i], buf, len))
            return buf;
    return buf;
}

static int put_env(spank_t sp, const char *name, const char *value)
{
    if (spank_setenv(sp, name, value, 1) != ESPANK_SUCCESS) {
        slurm_error("grey: cannot set %s in the task's environment", name);
        return -1;
    }
    return 0;
}

/* The plugstack's plan= as GREY_ADMIN_PLAN, for grey_settings_read's rule; nothing else. */
static const char *admin_plan_arg;
static const char *admin_plan_lookup(const char *name, bool secure)
{
    (void)secure;
    return strcmp(name, "GREY_ADMIN_PLAN") == 0 ? admin_plan_arg : NULL;
}

static void drop_signal(int sig) { (void)sig; }

/* Never returns: the watcher ends as the task ended, so Slurm reports the task's status. */
static void watch(pid_t task, struct grey_ledger *lg, bool have_ledger, uint64_t run_id,
                  struct run_report *report, bool want_report, struct run_artifacts *artifacts,
                  const char *ledger_path)
{
    static const int dropped[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = drop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        sigaction(dropped[i], &sa, NULL);
    int status;
    char comm[32];
    if (job_wait(task, &status, comm, sizeof comm) != 0) {
        fprintf(stderr, "grey: waiting for task %d: %s\n", (int)task, strerror(errno));
        _exit(1);
    }
    static struct run_summary sum;
    sum.started = true;
    sum.wait_status = status;
    sum.ledger = have_ledger;
    if (have_ledger) {
        run_summary_print(lg, run_id, task, status, comm, false, &sum);
        grey_ledger_reclaim(lg);
        grey_ledger_close(lg);
    }
    char err[512];
    if (artifacts && run_artifacts_finish(artifacts, &sum, have_ledger ? run_artifacts_reclaimable(ledger_path) : 0,
                                          err, sizeof err) != 0)
        fprintf(stderr, "grey: --gpu-artifacts: %s\n", err);
    if (want_report)
        run_report_finish(report, false);
    fflush(NULL);
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int spank_task_start(spank_t sp, const struct spank_config *cfg, const struct spank_request *req)
{
    char buf[8192], value[8192];
    if (access(cfg->hook, R_OK) != 0) {
        slurm_error("grey: hook=%s: %s; the task was not started", cfg->hook, strerror(errno));
        return -1;
    }
    /* The admin plan the hook will read: plan=, unless the node has one at the admin path,
     * which wins for the hook (policy/settings.h) and so here too. */
    static struct grey_plan plan;
    const struct grey_plan *plans[1];
    unsigned nplans = 0;
    admin_plan_arg = cfg->plan[0] ? cfg->plan : NULL;
    static struct grey_settings set;
    grey_settings_read(&set, admin_plan_lookup, (unsigned)geteuid());
    if (cfg->plan[0] && strcmp(set.admin_plan, cfg->plan) != 0)
        slurm_info("grey: %s exists and wins over plan=%s (as it does for the hook)", set.admin_plan, cfg->plan);
    char err_plan[1024];
    int rc = grey_plan_load_admin(set.admin_plan, &plan, err_plan, sizeof err_plan);
    if (rc < 0 || (rc == 0 && cfg->plan[0] && strcmp(set.admin_plan, cfg->plan) == 0)) {
        slurm_error("grey: plan=%s: %s; the task was not started", set.admin_plan,
                    rc < 0 ? err_plan : "no such file");
        return -1;
    }
    if (rc > 0)
        plans[nplans++] = &plan;
    if (cfg->plan[0] && put_env(sp, "GREY_ADMIN_PLAN", cfg->plan) != 0)
        return -1;

    /* The hook once: an srun inside an sbatch script inherits the batch step's LD_PRELOAD. */
    if (job_preload_value(task_env(sp, "LD_PRELOAD", buf, sizeof buf), cfg->hook, value, sizeof value) != 0) {
        slurm_error("grey: LD_PRELOAD with the hook is too long; the task was not started");
        return -1;
    }
    if (put_env(sp, "LD_PRELOAD", value) != 0)
        return -1;

    uint64_t cap;
    char how[256] = "";
    char vis[256], shards[32];
    bool have_cap = req->have_cap;
    if (have_cap)
        cap = req->cap;
    else
        have_cap = spank_default_cap(cfg, nplans ? &plan : NULL, task_gpus(sp, vis, sizeof vis),
                                     task_env(sp, "SLURM_SHARDS_ON_NODE", shards, sizeof shards), &cap, how,
                                     sizeof how) == 1;
    if (have_cap) {
        snprintf(value, sizeof value, "%llu", (unsigned long long)cap);
        if (put_env(sp, "GREY_CAP", value) != 0)
            return -1;
    }
    if (req->weight[0] && put_env(sp, "GREY_WEIGHT", req->weight) != 0)
        return -1;
    if (req->max_share[0] && put_env(sp, "GREY_MAX_SHARE", req->max_share) != 0)
        return -1;

    /* The node's ledger: the admin plan's wins over the job's GREY_LEDGER (policy/ledger_path.h). */
    char ledger_path[4096];
    const char *group;
    grey_ledger_choose_path(plans, nplans, task_env(sp, "GREY_LEDGER", buf, sizeof buf), ledger_path,
                            sizeof ledger_path, &group);
    if (put_env(sp, "GREY_LEDGER", ledger_path) != 0)
        return -1;
    static struct grey_ledger ledger;
    char err[4096 + 512];
    gid_t gid = (gid_t)-1;
    bool have_ledger = false;
    if (*group && grey_group_lookup(group, &gid) != 0)
        snprintf(err, sizeof err, "ledger %s: group '%s' does not exist", ledger_path, group);
    else
        have_ledger = grey_ledger_open_group(ledger_path, true, gid, &ledger, err, sizeof err) == 0;
    if (!have_ledger)
        fprintf(stderr, "grey: warning: %s; there will be no summary\n", err);
    uint64_t run_id = 0;
    if (have_ledger && grey_ledger_run_begin(&ledger, &run_id) != 0)
        fprintf(stderr, "grey: warning: ledger %s: every run lock is taken; the summary may miss processes\n",
                ledger_path);
    if (!run_id)
        run_id = ((uint64_t)getpid() << 16) | ((uint64_t)time(NULL) & 0xffff);
    char run_text[32];
    snprintf(run_text, sizeof run_text, "%llx", (unsigned long long)run_id);
    if (put_env(sp, "GREY_RUN_ID", run_text) != 0)
        return -1;

    /* The buffer report: run_report_prepare tells the hook through this process's environment,
     * which is not the task's here; its two variables are copied over. */
    static struct run_report report;
    bool want_report = req->dedup;
    if (want_report) {
        if (run_report_prepare(&report, "grey", "--gpu-dedup", true, req->dedup_file[0] ? req->dedup_file : NULL, run_text) != 0)
            return -1;
        if (put_env(sp, "GREY_REPORT_DIR", getenv("GREY_REPORT_DIR")) != 0 || put_env(sp, "GREY_DEDUP", "1") != 0)
            return -1;
    }
    /* The artifacts of each task in a directory of its own: the tasks of a step share DIR. */
    struct run_artifacts *artifacts = NULL;
    if (req->artifacts_dir[0]) {
        char dir[PATH_MAX + 96], job[24], step[24], proc[24];
        snprintf(dir, sizeof dir, "%s/%s.%s.%s", req->artifacts_dir,
                 *task_env(sp, "SLURM_JOB_ID", job, sizeof job) ? job : "job",
                 *task_env(sp, "SLURM_STEP_ID", step, sizeof step) ? step : "step",
                 *task_env(sp, "SLURM_PROCID", proc, sizeof proc) ? proc : "0");
        char why[512];
        if (mkdir(req->artifacts_dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "grey: --gpu-artifacts=%s: %s\n", req->artifacts_dir, strerror(errno));
            return -1;
        }
        if (!(artifacts = run_artifacts_prepare(dir, why, sizeof why))) {
            fprintf(stderr, "grey: --gpu-artifacts: %s\n", why);
            return -1;
        }
    }
    if (have_cap)
        slurm_debug("grey: task capped at %s (%s)", grey_size_format(cap, buf, sizeof buf),
                    req->have_cap ? "--gpu-mem-cap" : how);
    else if (how[0])
        slurm_debug("grey: no default cap: %s", how);

    fflush(NULL);
    pid_t task = fork();
    if (task < 0) {
        fprintf(stderr, "grey: warning: fork: %s; there will be no summary\n", strerror(errno));
        return 0;
    }
    if (task == 0)
        return 0;
    if (artifacts)
        run_artifacts_start(artifacts, have_ledger ? ledger_path : NULL, run_id);
    watch(task, &ledger, have_ledger, run_id, &report, want_report, artifacts, ledger_path);
    return 0; /* not reached */
}
