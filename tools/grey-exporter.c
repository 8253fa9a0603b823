/* grey-exporter: the ledger's metrics over HTTP, for a Prometheus server to scrape.
 *
 *   grey-exporter [--listen HOST:PORT] [--ledger FILE] [--per-process [--process-names]]
 *
 * GET /metrics answers with exactly what grey-top --prometheus prints with the same options
 * (tools/metrics.c), read fresh from the ledger for every scrape (the node service's while it
 * runs, else the file: tools/ledger_source.h, decided again at each scrape); GET / is a small
 * page that points there. The HTTP side is libmicrohttpd (exporter_http.c): slow or many clients hold a
 * bounded number of connection slots and never delay a scrape. SIGTERM or SIGINT stops it
 * (exit 0). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>

#include "policy/ledger_path.h"
#include "policy/plan.h"
#include "cli_common.h"
#include "exporter_http.h"
#include "ledger_source.h"
#include "listen_addr.h"

#define PROG "grey-exporter"
/* Not 9400 (dcgm-exporter's), which a GPU node likely runs already; see README, grey-exporter. */
#define DEFAULT_LISTEN "127.0.0.1:10931"
#define DEFAULT_MAX_CONNECTIONS 512
/* Half the slots at most for any one address: one host trickling requests cannot take them all
 * from the Prometheus server (unless it is the same host). */
#define DEFAULT_MAX_PER_IP 256
#define DEFAULT_TIMEOUT_S 10
#define POLL_THREADS 2

static const char usage_text[] =
    "usage: grey-exporter [--listen HOST:PORT] [--ledger FILE] [--per-process [--process-names]]\n"
    "\n"
    "Serves the ledger's metrics (the same text as grey-top --prometheus with the same options)\n"
    "at http://HOST:PORT/metrics, and a landing page at /. PORT 0 picks a free port; the\n"
    "address is printed on stderr.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT     address to listen on (default " DEFAULT_LISTEN "), e.g. [::1]:10931\n"
    "  --ledger FILE          the ledger (default: grey-noded's while the admin plan's node_service\n"
    "                         socket is there, else the admin plan's ledger, else $GREY_LEDGER,\n"
    "                         else /dev/shm/grey-UID.ledger); grey-noded:SOCKET names the\n"
    "                         service's\n"
    "  --per-process          per-process series too (labelled pid and grey_run_id; off by default:\n"
    "                         they churn with every process)\n"
    "  --process-names        with --per-process: a program label, the program's basename (never\n"
    "                         the command line)\n"
    "  --hostname NAME        the Hostname label of GPU series (default: this host's name, as DCGM)\n"
    "  --max-connections N    connections open at once, all clients together (default 512)\n"
    "  --max-connections-per-ip N\n"
    "                         connections open at once from one address (default 256)\n"
    "  --timeout SECONDS      close a connection idle this long (default 10)\n"
    "  -h, --help             this text\n"
    "  --version              print grey's version\n"
    "\n"
    "SIGTERM or SIGINT stops it. exit status: 0 stopped by a signal, 1 cannot listen, 2 usage.\n";

/* The ledger the hooks of this node use, by the hook's own rule (ledger_source.h). */
static void choose_ledger(struct ledger_choice *c, const char *given)
{
    static struct grey_plan admin;
    const struct grey_plan *list[1] = {&admin};
    char err[512];
    int rc = grey_plan_load_admin(cli_settings()->admin_plan, &admin, err, sizeof err);
    if (rc < 0)
        cli_warn(PROG, "%s (ignored when choosing the ledger)", err);
    ledger_choice_init(c, given, list, rc > 0 ? 1 : 0);
}

/* A whole number in [lo, hi], or -1. */
static long number_in(const char *text, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && v >= lo && v <= hi ? v : -1;
}

/* Every connection is a descriptor: room for the limit, within what the hard limit allows. */
static void raise_fd_limit(unsigned connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)connections + 64;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'L'},   {"ledger", required_argument, NULL, 'l'},
        {"per-process", no_argument, NULL, 'P'},    {"process-names", no_argument, NULL, 'N'},
        {"hostname", required_argument, NULL, 'H'}, {"max-connections", required_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 'T'},  {"max-connections-per-ip", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},        {NULL, 0, NULL, 0},
    };
    const char *address = DEFAULT_LISTEN, *ledger_opt = NULL;
    struct exporter_config cfg = {
        .max_connections = DEFAULT_MAX_CONNECTIONS,
        .max_per_ip = DEFAULT_MAX_PER_IP,
        .timeout_s = DEFAULT_TIMEOUT_S,
        .threads = POLL_THREADS,
    };
    opterr = 0;
    int c;
    long n;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'L':
            address = optarg;
            break;
        case 'l':
            ledger_opt = optarg;
            break;
        case 'P':
            cfg.metrics.per_process = true;
            break;
        case 'N':
            cfg.metrics.process_names = true;
            break;
        case 'H':
            cfg.metrics.hostname = optarg;
            break;
        case 'C':
            if ((n = number_in(optarg, 4, 65536)) < 0)
                return cli_usage_error(PROG, "--max-connections: '%s' is not a number from 4 to 65536", optarg);
            cfg.max_connections = (unsigned)n;
            break;
        case 'I':
            if ((n = number_in(optarg, 1, 65536)) < 0)
                return cli_usage_error(PROG, "--max-connections-per-ip: '%s' is not a number from 1 to 65536", optarg);
            cfg.max_per_ip = (unsigned)n;
            break;
        case 'T':
            if ((n = number_in(optarg, 1, 3600)) < 0)
                return cli_usage_error(PROG, "--timeout: '%s' is not a number of seconds from 1 to 3600", optarg);
            cfg.timeout_s = (unsigned)n;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        case 'V':
            cli_print_version(PROG);
            return CLI_EXIT_OK;
        case ':':
            return cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (cfg.metrics.process_names && !cfg.metrics.per_process)
        return cli_usage_error(PROG, "--process-names goes with --per-process");

    static struct ledger_choice ledger;
    choose_ledger(&ledger, ledger_opt);
    cfg.ledger = &ledger;

    char shown[300];
    int lfd = listen_on(PROG, address, 128, shown, sizeof shown);
    if (lfd < 0)
        return -lfd;
    raise_fd_limit(cfg.max_connections);

    /* Blocked before libmicrohttpd's threads start, so that they inherit the mask and only
     * sigwait below ever takes SIGTERM or SIGINT. SIGPIPE: a client gone mid-answer. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct exporter *e = exporter_start(lfd, &cfg);
    if (!e)
        return CLI_EXIT_FAIL;
    fprintf(stderr, "%s: serving http://%s/metrics (ledger %s)\n", PROG, shown, ledger_choice_now(&ledger));
    int sig;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    exporter_stop(e);
    fprintf(stderr, "%s: stopped\n", PROG);
    return CLI_EXIT_OK;
}
