/* grey-noded: the node service. Run by root (systemd unit grey-noded.service, or --foreground
 * for tests and debugging), it owns the node ledger as a sealed memory file no user can
 * truncate, grow or replace, hands it to hooked processes over the admin plan's node_service
 * socket with the admin's limits sealed read-only beside it and the slots' owners (with their
 * weight ceilings) in a file only it can write, retires dead processes' slots, checks the
 * ledger's sums and weights, and, where NVML is present, watches every process's real device
 * memory against its cap (docs/DESIGN.md, "The node service"). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "noded_ledger.h"
#include "noded_log.h"
#include "noded_nvml.h"
#include "noded_fp.h"
#include "noded_owners.h"
#include "noded_socket.h"
#include "noded_watchdog.h"
#include "policy/identity.h"
#include "policy/plan.h"
#include "policy/settings.h"

#define PROG "grey-noded"

/* How often slots are looked at for new owners (noded_owners_watch): a new process counts as
 * weight 1 for about this long. Reading the slots' states is cheap; a new slot costs a look at
 * its process's descriptors. */
#define WATCH_MS 20

static const char usage_text[] =
    "usage: grey-noded [--foreground] [--interval MS] [--slack SIZE] [--verbose]\n"
    "The node service: owns the node ledger named by the admin plan's node_service socket.\n"
    "  -f, --foreground    stay attached, log to stderr (default: detach, log to syslog)\n"
    "      --interval MS   how often dead slots are reclaimed, sums and weights checked and NVML\n"
    "                      watched (default 500)\n"
    "      --slack SIZE    device memory a process may hold over its cap before the watchdog\n"
    "                      acts: what a CUDA context takes, which NVML counts (default 512MiB)\n"
    "  -v, --verbose       log every process given the ledger\n"
    "  -h, --help          this text\n"
    "      --version       the version\n";

static volatile sig_atomic_t stopping;
static void on_stop(int sig) { stopping = sig; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Detaches from the terminal (the classic double step: a new session, stdio to /dev/null). */
static int detach(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
    }
    return chdir("/");
}

struct options {
    bool foreground, verbose;
    int interval_ms;
    uint64_t slack;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"foreground", no_argument, NULL, 'f'}, {"interval", required_argument, NULL, 'i'},
        {"slack", required_argument, NULL, 's'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.interval_ms = 500, .slack = 512ull << 20};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":fvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->foreground = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'i': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 10 || v > 60000)
                return cli_usage_error(PROG, "--interval: '%s' is not a number of ms from 10 to 60000", optarg);
            o->interval_ms = (int)v;
            break;
        }
        case 's':
            if (strcmp(optarg, "0") == 0)
                o->slack = 0;
            else if (cli_parse_size(PROG, "--slack", optarg, &o->slack) != 0)
                return CLI_EXIT_USAGE;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case 'V':
            cli_print_version(PROG);
            return -1;
        case ':':
            return cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (geteuid() != 0)
        return cli_error(PROG, "must run as root: it owns the node's ledger");

    static struct grey_plan plan;
    char err[512];
    const char *plan_path = cli_settings()->admin_plan;
    int loaded = grey_plan_load_admin(plan_path, &plan, err, sizeof err);
    if (loaded < 0)
        return cli_error(PROG, "%s", err);
    if (loaded == 0 || !plan.admin)
        return cli_error(PROG, "%s: %s", plan_path,
                         loaded == 0 ? "no admin plan: it names the service's socket (node_service)"
                                     : "not an admin plan (it must be root's, writable by nobody else)");
    if (!plan.node_service[0])
        return cli_error(PROG, "%s: the admin plan names no node_service socket", plan_path);
    gid_t group = (gid_t)-1;
    if (plan.ledger_group[0] && grey_group_lookup(plan.ledger_group, &group) != 0)
        return cli_error(PROG, "%s: ledger_group '%s' does not exist", plan_path, plan.ledger_group);

    static struct grey_gpu_id gpus[GREY_MAX_DEVICES];
    char nvml_err[256] = "";
    int ngpus = noded_nvml_open(gpus, nvml_err, sizeof nvml_err);
    bool watchdog = ngpus > 0;
    static struct noded_ledger nl;
    if (noded_ledger_create(&nl, &plan, gpus, ngpus > 0 ? (unsigned)ngpus : 0, plan.watchdog, err, sizeof err) != 0)
        return cli_error(PROG, "%s", err);
    static struct noded_owners owners;
    if (noded_owners_create(&owners, &nl, &plan, err, sizeof err) != 0)
        return cli_error(PROG, "%s", err);
    int listen_fd = noded_socket_listen(plan.node_service, err, sizeof err);
    if (listen_fd < 0)
        return cli_error(PROG, "%s", err);
    /* Not fatal: without it only the report of duplicates across jobs is missing. */
    char fp_path[PATH_MAX + 8];
    bool fp_made = noded_fp_create(plan.node_service, nl.lg.nslots, group, fp_path, sizeof fp_path, err, sizeof err) == 0;
    if (!fp_made)
        noded_log("duplicates across jobs not published: %s", err);
    if (!opt.foreground) {
        if (detach() != 0)
            return cli_error(PROG, "cannot detach: %s", strerror(errno));
        noded_log_to_syslog(true);
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (watchdog)
        noded_watchdog_init(&plan, gpus, (unsigned)ngpus, plan.watchdog, opt.slack);
    noded_log("serving the node ledger at %s (%u GPU%s from NVML; watchdog %s)", plan.node_service,
              ngpus > 0 ? (unsigned)ngpus : 0, ngpus == 1 ? "" : "s",
              watchdog ? grey_watchdog_policy_name(plan.watchdog) : "off: no NVML");
    if (!watchdog && ngpus < 0)
        noded_log("%s", nvml_err);

    int64_t next_round = now_ms(), next_watch = next_round;
    while (!stopping) {
        int64_t next = next_watch < next_round ? next_watch : next_round;
        int64_t wait = next - now_ms();
        struct pollfd p = {.fd = listen_fd, .events = POLLIN};
        int n = poll(&p, 1, wait > 0 ? (int)wait : 0);
        if (n > 0)
            noded_socket_serve(listen_fd, &nl, owners.fd, group, plan.ledger_group, opt.verbose);
        /* After each client, not only when nobody asks: a flood of slow clients must not hold
         * the owners back (each client gets at most 50 ms). */
        int64_t t = now_ms();
        if (t >= next_watch) {
            noded_owners_watch(&owners, t);
            next_watch = t + WATCH_MS;
        }
        if (t >= next_round) {
            noded_ledger_round(&nl);
            noded_owners_round(&owners);
            noded_watchdog_round();
            next_round = now_ms() + opt.interval_ms;
        }
    }
    /* Processes keep the ledger they hold; new ones fall back to the file ledger until the
     * service is back (it then makes a fresh ledger: the old one lives on in its holders). */
    unlink(plan.node_service);
    if (fp_made)
        unlink(fp_path);
    close(listen_fd);
    noded_log("stopped (signal %d)", (int)stopping);
    return CLI_EXIT_OK;
}
