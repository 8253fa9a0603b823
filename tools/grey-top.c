/* grey-top: what every hooked process on this node (or in one ledger) holds, live.
 *
 *   grey-top [--ledger FILE]                 refresh every second; q or Ctrl-C quits
 *   grey-top --once [--json | --prometheus] [--ledger FILE]
 *
 * Each refresh reads the ledger (see ledger_view.h: a checked private copy; ledger_source.h: the
 * node service's when it runs, else the file) after retiring the slots of dead processes, so a job killed with SIGKILL gives its bytes back as soon as anyone
 * looks. On a terminal the live view is an ncurses screen (top_live.c draws top_model.c's rows);
 * elsewhere it prints plain frames. Exit status: 0 ok, 1 the ledger cannot be read (missing,
 * corrupt, foreign; the live view instead says so and waits), 2 usage. */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "policy/size.h"
#include "cli_common.h"
#include "default_ledger.h"
#include "fair_view.h"
#include "ledger_source.h"
#include "ledger_view.h"
#include "metrics.h"
#include "top_curses.h"
#include "top_model.h"
#include "thermal_json.h"
#include "top_node_dups.h"

#define PROG "grey-top"

static const char usage_text[] =
    "usage: grey-top [--once] [--json | --prometheus [--per-process [--process-names]]] [--ledger FILE]\n"
    "\n"
    "Shows the VRAM that hooked processes use: per GPU its name, UUID, physical memory, the budget\n"
    "and what is in use; per process and GPU the bytes in use, the peak, its cap, denied\n"
    "allocations, kernel launches and its fair share (weight, entitled and measured share, queued\n"
    "work, lead). Refreshes every second. On a terminal: m, l, s, p sort by memory, launches,\n"
    "share, pid; arrows, PgUp, PgDn, Home, End scroll; q or Ctrl-C quits. Run as root without\n"
    "--ledger, it reads the node ledger and every user's /dev/shm/grey-UID.ledger.\n"
    "\n"
    "options:\n"
    "  --once         print once and exit\n"
    "  --json         JSON (sizes in bytes); implies --once\n"
    "  --prometheus   Prometheus text format (for node_exporter's textfile collector); implies --once\n"
    "  --per-process  with --prometheus: per-process series too (labelled pid and grey_run_id)\n"
    "  --process-names  with --per-process: a program label, the basename of the program\n"
    "  --ledger FILE  the ledger to read (default: grey-noded's while the admin plan's\n"
    "                 node_service socket is there, else the admin plan's ledger, else\n"
    "                 $GREY_LEDGER, else /dev/shm/grey-UID.ledger); grey-noded:SOCKET names\n"
    "                 the service's\n"
    "  -h, --help     this text\n"
    "  --version      print grey's version\n"
    "\n"
    "Reading the ledger also gives the bytes of processes that died without exiting (SIGKILL)\n"
    "back to the budgets, when grey-top may write the ledger.\n"
    "exit status: 0 ok, 1 the ledger cannot be read, 2 usage error.\n";

enum format { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS };

struct top_options {
    bool once;
    enum format format;
    const char *ledger;
    struct grey_metrics_options metrics;
};

static int parse_options(int argc, char **argv, struct top_options *o)
{
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},       {"json", no_argument, NULL, 'j'},
        {"prometheus", no_argument, NULL, 'p'}, {"ledger", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, 'V'},
        {"per-process", no_argument, NULL, 'P'}, {"process-names", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->once = true;
            break;
        case 'j':
        case 'p':
            if (o->format != FMT_TEXT)
                return cli_usage_error(PROG, "--json and --prometheus exclude each other");
            o->format = c == 'j' ? FMT_JSON : FMT_PROMETHEUS;
            o->once = true;
            break;
        case 'l':
            o->ledger = optarg;
            break;
        case 'P':
            o->metrics.per_process = true;
            break;
        case 'N':
            o->metrics.process_names = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(CLI_EXIT_OK);
        case 'V':
            cli_print_version(PROG);
            exit(CLI_EXIT_OK);
        case ':':
            return cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (o->metrics.per_process && o->format != FMT_PROMETHEUS)
        return cli_usage_error(PROG, "--per-process goes with --prometheus");
    if (o->metrics.process_names && !o->metrics.per_process)
        return cli_usage_error(PROG, "--process-names goes with --per-process");
    return 0;
}

/* The ledger the hooks of this node use, by the hook's own rule (ledger_source.h). */
static void choose_ledger(struct ledger_choice *c, const char *given)
{
    const struct grey_plan *list[2];
    unsigned n = grey_tool_ledger_plans(PROG, list);
    ledger_choice_init(c, given, list, n);
}

/* ------------------------------------------------------------------ text */

static const char *size_or(uint64_t v, const char *none, char *buf, size_t len)
{
    if (v == UINT64_MAX)
        return none;
    return grey_size_format(v, buf, len);
}

/* One row per device the process used (a process that used none gets one row of dashes); the
 * process's own columns only on its first row. */
static void print_process(FILE *f, const struct grey_view *v, const struct grey_view_process *p)
{
    int rows = 0;
    for (int d = 0; d < GREY_MAX_DEVICES || rows == 0; d++) {
        bool any = d < GREY_MAX_DEVICES && (p->devices & GREY_DEVBIT(d));
        if (d < GREY_MAX_DEVICES && !any)
            continue;
        char u[32] = "-", pk[32] = "-", c[32] = "-", dev[16] = "-", denied[24] = "-";
        if (any) {
            /* The GPU's physical index (the GPU table above names it), else its row as #N. */
            if (v->gpus & GREY_DEVBIT(d) && v->gpu[d].index >= 0)
                snprintf(dev, sizeof dev, "%d", v->gpu[d].index);
            else
                snprintf(dev, sizeof dev, "#%d", d);
            grey_size_format(p->dev[d].used, u, sizeof u);
            grey_size_format(p->dev[d].peak, pk, sizeof pk);
            if (p->dev[d].cap == UINT64_MAX)
                snprintf(c, sizeof c, "none");
            else
                grey_size_format(p->dev[d].cap, c, sizeof c);
            snprintf(denied, sizeof denied, "%llu", (unsigned long long)p->dev[d].denied);
        }
        if (rows++ == 0)
            fprintf(f, "%7d%c %-10.10s %3s %11s %11s %11s %7s %9llu  %s\n", (int)p->pid, p->other_pidns ? '*' : ' ',
                    p->user, dev, u, pk, c, denied, (unsigned long long)p->launches, p->command);
        else
            fprintf(f, "%8s %-10s %3s %11s %11s %11s %7s\n", "", "", dev, u, pk, c, denied);
        if (!any)
            break;
    }
}

static void print_text(FILE *f, const char *path, const struct grey_view *v)
{
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(f, "grey-top  %s  ledger %s  %u process%s\n\n", when, path, v->nprocs, v->nprocs == 1 ? "" : "es");
    fprintf(f, "%-24s  %12s  %12s  %12s\n", "GPU", "BUDGET", "USED", "LEFT");
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (!(v->devices & GREY_DEVBIT(d)))
            continue;
        char b[32], u[32], l[32];
        const char *left = "-";
        if (v->budget[d] != UINT64_MAX)
            left = grey_size_format(v->used[d] >= v->budget[d] ? 0 : v->budget[d] - v->used[d], l, sizeof l);
        char label[64];
        fprintf(f, "%-24s  %12s  %12s  %12s%s\n", grey_view_gpu_label(v, d, label, sizeof label),
                size_or(v->budget[d], "none", b, sizeof b),
                grey_size_format(v->used[d], u, sizeof u), left, (v->budget_admin & GREY_DEVBIT(d)) ? "  (admin)" : "");
    }
    if (!v->devices)
        fprintf(f, "%-24s  (no device used and no budget set yet)\n", "-");
    if (v->stale) {
        char s[32];
        fprintf(f, "\n%u dead process%s still counted (%s): reclaimed when someone with write access reads the "
                   "ledger\n", v->stale, v->stale == 1 ? "" : "es", grey_size_format(v->stale_bytes, s, sizeof s));
    }
    fprintf(f, "\n%8s %-10s %3s %11s %11s %11s %7s %9s  %s\n", "PID", "USER", "DEV", "USED", "PEAK", "CAP",
            "DENIED", "LAUNCHES", "COMMAND");
    for (unsigned i = 0; i < v->nprocs; i++)
        print_process(f, v, &v->proc[i]);
    grey_fair_print_text(f, v); /* entitled against measured share, time throttled */
    grey_top_node_duplicates_text(path, f); /* tools/top_node_dups.h; nothing without a table */
}

/* ------------------------------------------------------------------ JSON */

/* cJSON keeps numbers as doubles; raw text keeps byte counts exact past 2^53. */
static void json_u64(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(buf));
}

static void json_size_or_null(cJSON *obj, const char *key, uint64_t v)
{
    if (v == UINT64_MAX)
        cJSON_AddNullToObject(obj, key);
    else
        json_u64(obj, key, v);
}

/* Which GPU row d is: the row, the physical index (nvidia-smi's number; null when unknown), the
 * UUID, PCI bus id and name (null when the row names no GPU). */
static void json_gpu(cJSON *o, const struct grey_view *v, int d)
{
    cJSON_AddNumberToObject(o, "row", d);
    const struct grey_gpu_id *g = &v->gpu[d];
    bool known = v->gpus & GREY_DEVBIT(d);
    if (known && g->index >= 0)
        cJSON_AddNumberToObject(o, "index", g->index);
    else
        cJSON_AddNullToObject(o, "index");
    if (known) {
        cJSON_AddStringToObject(o, "uuid", g->uuid);
        cJSON_AddStringToObject(o, "pci_bus_id", g->pci_bus_id);
        cJSON_AddStringToObject(o, "name", g->name);
        json_u64(o, "total_bytes", g->total_bytes);
    } else {
        cJSON_AddNullToObject(o, "uuid");
    }
}

static int print_json(const char *path, const struct grey_view *v)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "ledger", path);
    grey_top_add_node_duplicates(root, path); /* tools/top_node_dups.h */
    cJSON *devs = cJSON_AddArrayToObject(root, "devices");
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (!(v->devices & GREY_DEVBIT(d)))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(devs, o);
        json_gpu(o, v, d);
        json_size_or_null(o, "budget_bytes", v->budget[d]);
        json_u64(o, "used_bytes", v->used[d]);
        cJSON_AddBoolToObject(o, "budget_from_admin_plan", (v->budget_admin >> d) & 1);
        cJSON_AddBoolToObject(o, "contended", (v->contended >> d) & 1);
        cJSON_AddNumberToObject(o, "handoffs", (double)v->handoffs[d]);
        grey_thermal_json(o, v->thermal[d]);
    }
    cJSON *procs = cJSON_AddArrayToObject(root, "processes");
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(procs, o);
        cJSON_AddNumberToObject(o, "pid", p->pid);
        cJSON_AddBoolToObject(o, "other_pid_namespace", p->other_pidns);
        cJSON_AddStringToObject(o, "user", p->user);
        cJSON_AddNumberToObject(o, "uid", p->uid);
        cJSON_AddStringToObject(o, "command", p->command);
        if (p->run_id) {
            char id[24];
            snprintf(id, sizeof id, "%llx", (unsigned long long)p->run_id);
            cJSON_AddStringToObject(o, "run_id", id);
        } else {
            cJSON_AddNullToObject(o, "run_id");
        }
        json_u64(o, "kernel_launches", p->launches);
        cJSON *pd = cJSON_AddArrayToObject(o, "devices");
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            if (!(p->devices & GREY_DEVBIT(d)))
                continue;
            const struct grey_view_device *c = &p->dev[d];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(pd, e);
            json_gpu(e, v, d);
            json_u64(e, "used_bytes", c->used);
            json_u64(e, "peak_bytes", c->peak);
            json_size_or_null(e, "cap_bytes", c->cap);
            json_u64(e, "allocations", c->allocs);
            json_u64(e, "frees", c->frees);
            json_u64(e, "denied", c->denied);
            json_u64(e, "largest_denied_bytes", c->largest_denied);
            grey_fair_json(e, v, i, d);
        }
    }
    cJSON *rec = cJSON_AddObjectToObject(root, "reclaimed");
    json_u64(rec, "processes", v->reclaimed_slots);
    json_u64(rec, "bytes", v->reclaimed_bytes);
    json_u64(rec, "orphaned_bytes", v->orphaned_bytes);
    cJSON_AddNumberToObject(root, "stale_processes", v->stale);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error(PROG, "out of memory");
    puts(text);
    cJSON_free(text);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ live */

static volatile sig_atomic_t stop;
static void on_stop(int sig) { (void)sig; stop = 1; }

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
    if (tty_raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
    tty_raw = false;
}

/* Keys without Enter and without echo, so 'q' quits at once; restored at every exit. */
static void raw_tty(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) != 0)
        return;
    struct termios t = saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        tty_raw = true;
        atexit(restore_tty);
    }
}

/* Waits up to ms for a key; true when it was q (or stdin closed while it is a terminal). */
static bool quit_key(int ms)
{
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    if (!tty_raw) { /* not a terminal: nothing to read keys from, just wait */
        poll(NULL, 0, ms);
        return false;
    }
    if (poll(&pfd, 1, ms) <= 0)
        return false;
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    return n == 0 || (n == 1 && (c == 'q' || c == 'Q'));
}

/* The live view on a terminal: the ledger, or for root every user's ledgers too. */
static int live_screen(const char *given, const char *path, volatile sig_atomic_t *stop_flag)
{
    static char paths[TOP_MAX_LEDGERS][PATH_MAX];
    unsigned n = top_ledger_list(given, path, geteuid() == 0, paths, TOP_MAX_LEDGERS);
    return top_live(paths, n, stop_flag);
}

static int live(const struct ledger_choice *c)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
        live_screen(c->given[0] ? c->given : NULL, ledger_choice_now(c), &stop) == 0)
        return CLI_EXIT_OK;
    raw_tty(); /* not a terminal (or one ncurses cannot drive): plain frames */
    static struct grey_view v;
    char err[PATH_MAX + 256];
    while (!stop) {
        const char *path = ledger_choice_now(c); /* the service may come or go meanwhile */
        bool missing = !ledger_source_present(path);
        if (!missing && ledger_choice_load(c, true, &v, &path, err, sizeof err) != 0) {
            restore_tty();
            return cli_error(PROG, "%s", err);
        }
        fputs("\033[H\033[2J", stdout);
        if (missing) { /* no hooked process has run yet: wait for the first */
            printf("grey-top  ledger %s  no ledger yet: no hooked process has run\n", path);
        } else {
            grey_view_name_users(&v);
            print_text(stdout, path, &v);
        }
        fputs("\n(q quits)\n", stdout);
        fflush(stdout);
        if (quit_key(1000))
            break;
    }
    restore_tty();
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct top_options o;
    if (parse_options(argc, argv, &o) != 0)
        return CLI_EXIT_USAGE;
    static struct ledger_choice choice;
    choose_ledger(&choice, o.ledger);
    if (!o.once)
        return live(&choice);

    static struct grey_view v;
    char err[PATH_MAX + 256];
    const char *path;
    if (ledger_choice_load(&choice, true, &v, &path, err, sizeof err) != 0)
        return cli_error(PROG, "%s", err);
    grey_view_name_users(&v);
    switch (o.format) {
    case FMT_JSON:
        return print_json(path, &v);
    case FMT_PROMETHEUS:
        if (grey_metrics_write(stdout, &v, &o.metrics) != 0)
            return cli_error(PROG, "cannot write: %s", strerror(errno));
        return CLI_EXIT_OK;
    default:
        print_text(stdout, path, &v);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
}
