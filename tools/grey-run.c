/* grey-run: run one job under libgreyhook.so with a VRAM cap, and say what grey saw.
 *
 *   grey-run [--cap SIZE] [--plan FILE] [--quiet] [--dedup] [--report FILE] -- CMD [ARGS...]
 *
 * Before the job: check every input (a job must never start under limits other than the ones
 * asked for), detect the devices, print which cap applies where. Then run the job with the hook
 * preloaded, forward signals to it, and afterwards summarise, from the ledger slots the job's
 * processes wrote, peak use against the cap and the allocations that were denied. Exit status
 * is the job's; grey-run's own failures use 125-127 like env(1) and timeout(1). With
 * --summary-json FILE the summary is also written as JSON (tools/run_summary.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/budget.h"
#include "policy/caps.h"
#include "policy/identity.h"
#include "policy/ledger.h"
#include "policy/ledger_path.h"
#include "policy/plan.h"
#include "policy/plan_gpus.h"
#include "policy/procinfo.h"
#include "policy/size.h"
#include "policy/weights.h"
#include "cli_common.h"
#include "gpu_ids.h"
#include "job_env.h"
#include "run_report.h"
#include "ledger_view.h"
#include "run_artifacts.h"
#include "run_summary.h"

#define PROG "grey-run"
#define EXIT_GREY_FAILED 125   /* grey-run itself failed; the job did not start */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

static const char usage_text[] =
    "usage: grey-run [OPTIONS] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND with libgreyhook.so preloaded, so that its GPU memory is capped per process and\n"
    "per device, and prints what grey saw when it ends.\n"
    "\n"
    "options:\n"
    "  --cap SIZE     per-process cap on every device: 512MiB, 20GiB, 20Gi, 1.5G or a byte count.\n"
    "                 Units are binary: K, Ki, KB and KiB are all 1024 (G = GB = GiB).\n"
    "                 Overrides the plan's process_cap. Above a device's memory it is clamped.\n"
    "  --plan FILE    a plan written by grey-plan (per-device process_cap and budget)\n"
    "  --weight N     fair-share weight, 1..10000 (default: the plan's, else 1): while processes\n"
    "                 contend for a device, each gets device time in proportion to its weight\n"
    "  --max-share P% at most P% of each device's time, even when the device is otherwise idle\n"
    "  --quiet        no start banner and no summary (warnings are still printed)\n"
    "  --dedup        fingerprint the job's GPU buffers and report identical ones at exit\n"
    "  --report FILE  write the buffer report (JSON) to FILE (default: a file in the per-user\n"
    "                 grey directory, named at exit); read it with grey-report\n"
    "  --summary-json FILE\n"
    "                 when the job ends, write the summary as JSON to FILE: exit status, and\n"
    "                 per GPU the cap, peak, denials and time throttled (sizes in bytes)\n"
    "  --artifacts DIR\n"
    "                 when the job ends, write to DIR (created if missing) vram-summary.json,\n"
    "                 thermal.csv (each GPU's temperature, power and the ceiling grey applied,\n"
    "                 each second), fairness.csv and fairness.svg (each process's device share\n"
    "                 against its entitlement, each second); grey-report --artifacts DIR reads them\n"
    "  -h, --help     this text\n"
    "  --version      print grey's version\n"
    "\n"
    "environment passed to the job: LD_PRELOAD (the hook appended), GREY_CAP, GREY_PLAN,\n"
    "GREY_RUN_ID, GREY_LEDGER, GREY_WEIGHT, GREY_MAX_SHARE. GREY_HOOK names the hook library if\n"
    "it is neither in ../lib/grey nor in ../lib beside grey-run.\n"
    "\n"
    "exit status: the job's (128+N when a signal N ended it); 125 when grey-run refused to start\n"
    "the job (bad option, size or plan), or when the job succeeded but its --report could not be\n"
    "written; 126 when COMMAND cannot run; 127 when it is not found.\n";

struct run_options {
    bool have_cap;
    uint64_t cap;
    const char *cap_text;
    const char *plan_path;
    bool quiet;
    bool dedup;
    const char *report_path;
    const char *summary_path;    /* --summary-json; NULL when not given */
    const char *artifacts_dir;   /* --artifacts; NULL when not given */
    const char *weight_text;     /* --weight, checked; NULL when not given */
    const char *max_share_text;  /* --max-share, checked; NULL when not given */
    char **command;
};

/* ------------------------------------------------------------------ options */

static int parse_options(int argc, char **argv, struct run_options *opt)
{
    static const struct option longopts[] = {
        {"cap", required_argument, NULL, 'c'},
        {"plan", required_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"dedup", no_argument, NULL, 'd'},
        {"report", required_argument, NULL, 'r'},
        {"summary-json", required_argument, NULL, 's'},
        {"artifacts", required_argument, NULL, 'a'},
        {"weight", required_argument, NULL, 'w'},
        {"max-share", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(opt, 0, sizeof *opt);
    opterr = 0;
    int c;
    /* '+': stop at the first non-option, so the job's own options are never taken for ours. */
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (cli_parse_size(PROG, "--cap", optarg, &opt->cap) != 0)
                return -1;
            opt->have_cap = true;
            opt->cap_text = optarg;
            break;
        case 'p':
            opt->plan_path = optarg;
            break;
        case 'q':
            opt->quiet = true;
            break;
        case 'd':
            opt->dedup = true;
            break;
        case 'r':
            opt->report_path = optarg;
            break;
        case 's':
            opt->summary_path = optarg;
            break;
        case 'a':
            opt->artifacts_dir = optarg;
            break;
        case 'w':
        case 'm': {
            /* Checked here with the hook's own parser, so a typo never starts the job unpaced. */
            char why[160];
            uint32_t v;
            if ((c == 'w' ? grey_weight_parse : grey_share_parse)(optarg, &v, why, sizeof why) != 0) {
                cli_usage_error(PROG, "%s: %s", c == 'w' ? "--weight" : "--max-share", why);
                return -1;
            }
            *(c == 'w' ? &opt->weight_text : &opt->max_share_text) = optarg;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case 'V':
            cli_print_version(PROG);
            exit(0);
        case ':':
            cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        cli_usage_error(PROG, "no command to run (put it after --)");
        return -1;
    }
    opt->command = &argv[optind];
    return 0;
}

/* ------------------------------------------------------------------ the job's environment */

static int find_hook(char *out, size_t outlen)
{
    const char *env = getenv("GREY_HOOK");
    if (env && *env) {
        snprintf(out, outlen, "%s", env);
    } else {
        char self[PATH_MAX - 32];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return cli_error(PROG, "cannot find my own path: %s", strerror(errno));
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        /* ../lib/grey is the packaged layout (a private directory: the hook has no soname),
         * ../lib the build tree's and make install's. */
        snprintf(out, outlen, "%s/../lib/grey/libgreyhook.so", self);
        if (access(out, R_OK) != 0)
            snprintf(out, outlen, "%s/../lib/libgreyhook.so", self);
    }
    char resolved[PATH_MAX];
    if (!realpath(out, resolved) || access(resolved, R_OK) != 0)
        return cli_error(PROG, "the hook library %s is missing (set GREY_HOOK to its path)", out);
    snprintf(out, outlen, "%s", resolved);
    return 0;
}

/* LD_PRELOAD keeps whatever the user had; the hook is appended once (tools/job_env.h). */
static int set_preload(const char *hook)
{
    char value[8192];
    if (job_preload_value(getenv("LD_PRELOAD"), hook, value, sizeof value) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return setenv("LD_PRELOAD", value, 1);
}

/* ------------------------------------------------------------------ banner */

/* The job's GPUs as the hook will see them: in the job's device order, each with its ledger row
 * (its place in the job's order when there is no ledger), and the cap the hook will enforce
 * there (policy/caps.h over the plans put in row order, policy/plan_gpus.h; clamped to the GPU's
 * memory, as the hook clamps it), so the banner never promises a cap the hook does not keep. */
struct job_gpus {
    int n;
    struct grey_gpu_id id[GREY_MAX_DEVICES];
    int row[GREY_MAX_DEVICES];
    uint64_t cap[GREY_MAX_DEVICES];
    bool clamped[GREY_MAX_DEVICES];
    uint64_t asked[GREY_MAX_DEVICES];  /* the cap before clamping */
    struct grey_plan row_plan[2];
};

static void job_gpus_resolve(struct job_gpus *j, struct grey_ledger *lg, const struct grey_plan *const *plans,
                             unsigned nplans, const struct run_options *opt)
{
    struct grey_gpu_id rows[GREY_MAX_DEVICES];
    grey_devmask bound = 0;
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < j->n; i++) {
        j->row[i] = lg ? grey_ledger_gpu_claim(lg, &j->id[i]) : i;
        if (j->row[i] >= 0) {
            rows[j->row[i]] = j->id[i];
            bound |= GREY_DEVBIT(j->row[i]);
        }
    }
    const struct grey_plan *list[2];
    for (unsigned p = 0; p < nplans; p++) {
        grey_devmask foreign;
        grey_plan_for_rows(plans[p], rows, bound, tool_uuid_locate, NULL, &j->row_plan[p], &foreign);
        for (int i = 0; i < j->n; i++)
            if (j->row[i] >= 0 && (foreign & GREY_DEVBIT(j->row[i]))) {
                char label[64];
                cli_warn(PROG, "the plan's [device %d] is for %s, which is on no GPU of this node; it applies to %s "
                         "by its index", j->id[i].index, plans[p]->dev[j->id[i].index].uuid,
                         grey_gpu_label(&j->id[i], label, sizeof label));
            }
        list[p] = &j->row_plan[p];
    }
    static struct grey_identity id;
    bool principals = false;
    for (unsigned p = 0; p < nplans; p++)
        principals |= plans[p]->nprincipals > 0;
    if (principals)
        grey_identity_self(&id, plans, nplans);
    uint64_t caps[GREY_MAX_DEVICES];
    grey_devmask raised = 0;
    grey_caps_resolve(list, nplans, principals ? &id : NULL, opt->have_cap ? &opt->cap : NULL, caps, &raised);
    for (int i = 0; i < j->n; i++) {
        int r = j->row[i];
        j->cap[i] = r >= 0 ? caps[r] : UINT64_MAX;
        if (r >= 0 && (raised & GREY_DEVBIT(r))) {
            char a[32], b[32], label[64];
            cli_warn(PROG, "--cap %s is above the admin plan's cap %s on %s; the admin cap applies",
                     grey_size_format(opt->cap, a, sizeof a), grey_size_format(caps[r], b, sizeof b),
                     grey_gpu_label(&j->id[i], label, sizeof label));
        }
        j->asked[i] = j->cap[i];
        j->clamped[i] = j->cap[i] != UINT64_MAX && j->id[i].total_bytes && j->cap[i] > j->id[i].total_bytes;
        if (j->clamped[i])
            j->cap[i] = j->id[i].total_bytes;
    }
}

static void print_banner(const struct run_options *opt, const struct grey_plan *plan, const struct job_gpus *j,
                         uint64_t every_device_cap)
{
    char cap_buf[32], vram_buf[32], source[PATH_MAX + 64], label[64];
    if (opt->have_cap)
        snprintf(source, sizeof source, "--cap %s", opt->cap_text);
    else if (opt->plan_path)
        snprintf(source, sizeof source, "plan %s, %s mode", opt->plan_path, grey_plan_mode_name(plan->mode));
    else
        snprintf(source, sizeof source, "no --cap or --plan");

    if (j->n <= 0) {
        if (opt->have_cap)
            fprintf(stderr, "grey: every device capped at %s for this process (%s)\n",
                    grey_size_format(every_device_cap, cap_buf, sizeof cap_buf), source);
        return;
    }
    for (int i = 0; i < j->n; i++) {
        const struct grey_gpu_id *d = &j->id[i];
        grey_gpu_label(d, label, sizeof label);
        grey_size_format(d->total_bytes, vram_buf, sizeof vram_buf);
        if (j->cap[i] == UINT64_MAX) {
            fprintf(stderr, "grey: device %d: %s \"%s\" (%s) not capped (%s); use is still recorded\n", i, label,
                    d->name, vram_buf, source);
            continue;
        }
        if (j->clamped[i])
            cli_warn(PROG, "the cap %s is more than %s's %s; it is clamped to the device",
                     grey_size_format(j->asked[i], cap_buf, sizeof cap_buf), label, vram_buf);
        fprintf(stderr, "grey: device %d: %s \"%s\" capped at %s for this process (%s)\n", i, label, d->name,
                grey_size_format(j->cap[i], cap_buf, sizeof cap_buf), source);
    }
}

/* ------------------------------------------------------------------ running the job */

static volatile sig_atomic_t child_pid;

/* Signals sent to grey-run (kill, a batch system) go on to the job. Signals the terminal sends
 * reach the job directly, as it shares our process group; forwarding those too would deliver
 * them twice. */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    if (child_pid > 0 && info->si_code != SI_KERNEL)
        kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaction(signals[i], &sa, NULL);
}

/* Returns the job's wait status, or -1 when it could not be started (exit code in *exit_code). */
/* The job's comm at its end (job_wait): the summary tells an _exit from an exec by it. */
static char job_comm[32];

static int run_job(char **command, pid_t *job_pid, int *exit_code)
{
    int exec_pipe[2];
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
        cli_error(PROG, "pipe: %s", strerror(errno));
        *exit_code = EXIT_GREY_FAILED;
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(PROG, "fork: %s", strerror(errno));
        *exit_code = EXIT_GREY_FAILED;
        return -1;
    }
    if (pid == 0) {
        close(exec_pipe[0]);
        execvp(command[0], command);
        int e = errno;
        ssize_t ignored = write(exec_pipe[1], &e, sizeof e);
        (void)ignored;
        _exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
    }
    child_pid = pid;
    *job_pid = pid;
    close(exec_pipe[1]);
    int exec_errno = 0;
    ssize_t n;
    do
        n = read(exec_pipe[0], &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    close(exec_pipe[0]);

    int status;
    if (job_wait(pid, &status, job_comm, sizeof job_comm) != 0) {
        cli_error(PROG, "waitpid: %s", strerror(errno));
        *exit_code = EXIT_GREY_FAILED;
        return -1;
    }
    child_pid = 0;
    if (n == (ssize_t)sizeof exec_errno) {
        cli_error(PROG, "cannot run '%s': %s", command[0], strerror(exec_errno));
        *exit_code = exec_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
        return -1;
    }
    return status;
}

/* ------------------------------------------------------------------ summary */

/* --summary-json: written last, with grey-run's own exit code (tools/run_summary.h). */
static int finish_summary(FILE *f, struct run_summary *sum, const char *path, char **command, int exit_code)
{
    if (!f)
        return exit_code;
    sum->exit_code = exit_code;
    if (run_summary_write_json(f, sum, command) != 0 || fclose(f) != 0)
        cli_warn(PROG, "--summary-json: cannot write %s: %s", path, strerror(errno));
    return exit_code;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    struct run_options opt;
    if (parse_options(argc, argv, &opt) != 0)
        return EXIT_GREY_FAILED;

    static struct grey_plan plan;
    char plan_abs[PATH_MAX] = "";
    /* The user's layer: --plan, else $GREY_PLAN, else ~/.config/grey/plan.conf when it exists
     * (policy/plan.h), the one the hook would read itself. */
    const struct grey_settings *set = cli_settings();
    if (set->limit_error[0]) { /* the hook would deny every allocation: say it before the job */
        cli_error(PROG, "%s; not starting the job", set->limit_error);
        return EXIT_GREY_FAILED;
    }
    if (!opt.plan_path && set->have_user_plan && (set->user_plan_required || access(set->user_plan, F_OK) == 0))
        opt.plan_path = set->user_plan;
    if (opt.plan_path) {
        char err[512];
        if (grey_plan_load(opt.plan_path, &plan, err, sizeof err) != 0) {
            cli_error(PROG, "%s; the job was not started", err);
            return EXIT_GREY_FAILED;
        }
        if (!realpath(opt.plan_path, plan_abs))
            snprintf(plan_abs, sizeof plan_abs, "%s", opt.plan_path);
    }

    /* The node's admin plan binds the job whatever grey-run is told: the banner, the ledger and
     * the budgets below follow the same rules as the hook (policy/caps.h, ledger_path.h,
     * budget.h). */
    static struct grey_plan admin_plan;
    const struct grey_plan *plans[2];
    unsigned nplans = 0;
    {
        char err[512];
        int rc = grey_plan_load_admin(set->admin_plan, &admin_plan, err, sizeof err);
        if (rc < 0) {
            cli_error(PROG, "%s; the job was not started", err);
            return EXIT_GREY_FAILED;
        }
        if (rc > 0)
            plans[nplans++] = &admin_plan;
        if (opt.plan_path)
            plans[nplans++] = &plan;
    }
    char hook[PATH_MAX];
    if (find_hook(hook, sizeof hook) != 0)
        return EXIT_GREY_FAILED;

    char ledger_path[PATH_MAX], err[PATH_MAX + 512];
    const char *ledger_group;
    enum grey_ledger_source source =
        grey_ledger_choose_path(plans, nplans, set->ledger, ledger_path, sizeof ledger_path, &ledger_group);
    gid_t ledger_gid = (gid_t)-1;
    static struct grey_ledger ledger;
    bool have_ledger = false;
    /* A group that does not exist would leave the job outside the budget the plan meant: the
     * hook refuses it (every allocation denied), so the job is not started at all. */
    if (*ledger_group && grey_group_lookup(ledger_group, &ledger_gid) != 0) {
        cli_error(PROG, "ledger %s: the plan's ledger_group '%s' does not exist; not starting the job", ledger_path,
                  ledger_group);
        return EXIT_GREY_FAILED;
    }
    unsigned ledger_flags = GREY_LEDGER_CREATE | (source == GREY_LEDGER_FROM_ADMIN_PLAN ? GREY_LEDGER_NODE : 0);
    have_ledger = grey_ledger_open_group(ledger_path, ledger_flags, ledger_gid, &ledger, err, sizeof err) == 0;
    if (!have_ledger)
        cli_warn(PROG, "%s; there will be no summary", err);

    /* The job's GPUs, the caps the hook will keep on them, and the plans' budgets for them. */
    static struct job_gpus gpus;
    char detect_err[256];
    gpus.n = tool_visible_gpus(gpus.id, GREY_MAX_DEVICES, detect_err, sizeof detect_err);
    if (gpus.n < 0 && !opt.quiet)
        cli_warn(PROG, "no GPU detected (%s); the caps apply to whatever device the job finds", detect_err);
    job_gpus_resolve(&gpus, have_ledger ? &ledger : NULL, plans, nplans, &opt);
    for (unsigned i = 0; have_ledger && i < nplans; i++) {
        grey_devmask kept = grey_budget_apply(&ledger, &gpus.row_plan[i]);
        if (kept) {
            char a[32], b[32], label[64];
            int d = grey_devmask_first(kept);
            struct grey_gpu_id id;
            grey_gpu_row_id(&ledger.header->gpu[d], &id);
            cli_warn(PROG, "ledger %s keeps its budget %s on %s (the plan says %s): other processes "
                     "using it already share that budget", ledger_path,
                     grey_size_format(atomic_load(&ledger.header->device_budget[d]), a, sizeof a),
                     grey_gpu_label(&id, label, sizeof label), grey_size_format(gpus.row_plan[i].dev[d].budget, b, sizeof b));
            break;
        }
    }

    /* The run: a lock in the ledger that says it is alive, whatever PID namespace the job's
     * processes are in; without a ledger, an id that only ties the processes together. */
    uint64_t run_id = 0;
    if (have_ledger && grey_ledger_run_begin(&ledger, &run_id) != 0)
        cli_warn(PROG, "ledger %s: every run lock is taken; the summary may miss processes", ledger_path);
    if (!run_id)
        run_id = ((uint64_t)getpid() << 16) | ((uint64_t)time(NULL) & 0xffff); /* names no run lock */
    char run_id_text[32], cap_text[32];
    snprintf(run_id_text, sizeof run_id_text, "%llx", (unsigned long long)run_id);

    if (set_preload(hook) != 0 || setenv("GREY_RUN_ID", run_id_text, 1) != 0 ||
        setenv("GREY_LEDGER", ledger_path, 1) != 0) {
        cli_error(PROG, "cannot set the job's environment: %s", strerror(errno));
        return EXIT_GREY_FAILED;
    }
    if (opt.have_cap) {
        snprintf(cap_text, sizeof cap_text, "%llu", (unsigned long long)opt.cap);
        setenv("GREY_CAP", cap_text, 1);
    } else {
        unsetenv("GREY_CAP");
    }
    if (opt.plan_path)
        setenv("GREY_PLAN", plan_abs, 1);
    if (opt.weight_text)
        setenv("GREY_WEIGHT", opt.weight_text, 1);
    if (opt.max_share_text)
        setenv("GREY_MAX_SHARE", opt.max_share_text, 1);
    struct run_report buffer_report;
    bool want_report = opt.dedup || opt.report_path;
    if (want_report && run_report_prepare(&buffer_report, PROG, "--report", opt.dedup, opt.report_path, run_id_text) != 0)
        return EXIT_GREY_FAILED;
    /* Opened now, so that a FILE that cannot be written stops the job before it starts. */
    FILE *summary_file = NULL;
    if (opt.summary_path && !(summary_file = fopen(opt.summary_path, "w"))) {
        cli_error(PROG, "--summary-json: cannot write %s: %s; the job was not started", opt.summary_path,
                  strerror(errno));
        return EXIT_GREY_FAILED;
    }
    static struct run_summary summary;
    /* Checked now too: a directory that cannot be written stops the job before it starts. */
    struct run_artifacts *artifacts = NULL;
    if (opt.artifacts_dir && !(artifacts = run_artifacts_prepare(opt.artifacts_dir, err, sizeof err))) {
        cli_error(PROG, "%s; the job was not started", err);
        return EXIT_GREY_FAILED;
    }
    if (artifacts)
        run_artifacts_start(artifacts, have_ledger ? ledger_path : NULL, run_id);

    if (!opt.quiet)
        print_banner(&opt, &plan, &gpus, opt.have_cap ? opt.cap : UINT64_MAX);

    install_forwarding();
    int exit_code = 0;
    pid_t job_pid = 0;
    int status = run_job(opt.command, &job_pid, &exit_code);
    if (status < 0)
        return finish_summary(summary_file, &summary, opt.summary_path, opt.command, exit_code);
    summary.started = true;
    summary.wait_status = status;
    summary.ledger = have_ledger;

    if (have_ledger) {
        run_summary_print(&ledger, run_id, job_pid, status, job_comm, opt.quiet, &summary);
        if (artifacts) {
            bool lost = run_artifacts_finish(artifacts, &summary, run_artifacts_reclaimable(ledger_path), err, sizeof err) != 0;
            artifacts = NULL;
            if (lost)
                cli_warn(PROG, "%s", err);
        }
        /* The job is over, so the ledger may be idle now: the moment bytes that a process killed
         * mid-allocation left behind can go back (policy/ledger.h). */
        grey_ledger_reclaim(&ledger);
        grey_ledger_close(&ledger);
    }
    if (artifacts && run_artifacts_finish(artifacts, &summary, 0, err, sizeof err) != 0)
        cli_warn(PROG, "%s", err);
    /* A report asked for and not written is a failure even when the job succeeded: a script
     * must not go on as if the file were there. */
    bool report_lost = want_report && run_report_finish(&buffer_report, opt.quiet) != 0;
    if (WIFEXITED(status))
        exit_code = report_lost && WEXITSTATUS(status) == 0 ? EXIT_GREY_FAILED : WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        exit_code = 128 + WTERMSIG(status);
    else
        exit_code = EXIT_GREY_FAILED;
    return finish_summary(summary_file, &summary, opt.summary_path, opt.command, exit_code);
}
