/* grey-plan: turn the detected GPUs into a plan file (per-device budget and per-process cap) that
 * libgreyhook.so reads, and inspect or verify plan files.
 *
 *   grey-plan [--mode safe|balanced|aggressive] [--cap SIZE] [--budget SIZE] [--out FILE]
 *   grey-plan detect [--json]
 *   grey-plan show [--json] FILE
 *   grey-plan check FILE
 *
 * Exit status: 0 ok, 1 runtime failure (no driver, unreadable or malformed file), 2 usage. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../policy/plan.h"
#include "../policy/size.h"
#include "cli_common.h"
#include "detect.h"
#include "detect_amd.h"

static const char *const PROG = "grey-plan";

/* The default budget leaves 10% of each device to what grey does not count: CUDA contexts,
 * cuBLAS workspaces and processes that run without the hook. */
#define BUDGET_PERCENT 90
static const unsigned mode_cap_percent[] = {
    [GREY_MODE_SAFE] = 75, [GREY_MODE_BALANCED] = 85, [GREY_MODE_AGGRESSIVE] = 90};

static void usage(FILE *f)
{
    fprintf(f,
"usage: grey-plan [--mode safe|balanced|aggressive] [--cap SIZE] [--budget SIZE] [--out FILE]\n"
"       grey-plan detect [--json]\n"
"       grey-plan show [--json] FILE\n"
"       grey-plan check FILE\n"
"\n"
"Without a command, detects the GPUs and writes a plan for libgreyhook.so (to stdout, or to\n"
"FILE with --out; the file is replaced atomically). For each device:\n"
"  budget       what all hooked processes on the device may use together:\n"
"               %d%% of VRAM, or --budget\n"
"  process_cap  what one hooked process may use: by mode safe %u%%, balanced %u%%,\n"
"               aggressive %u%% of VRAM (never above the budget), or --cap\n"
"A summary goes to stderr. --cap and --budget apply to every device and are clamped to its\n"
"VRAM (with a warning); a cap above the budget is lowered to the budget.\n"
"\n"
"Commands:\n"
"  detect [--json]      list the GPUs (CUDA driver, else amdgpu sysfs or rocm-smi; JSON sizes\n"
"                        are bytes)\n"
"  show [--json] FILE   print a plan file (JSON sizes are bytes)\n"
"  check FILE           verify a plan file: 'FILE: ok (N devices)' or 'FILE:LINE: reason'\n"
"\n"
"Options:\n"
"  --mode MODE      safe (default), balanced or aggressive\n"
"  --cap SIZE       per-process cap, e.g. 20GiB, 1.5G, 512MiB or bytes\n"
"  --budget SIZE    per-device budget for all hooked processes together\n"
"  --out FILE       write the plan to FILE instead of stdout\n"
"  --json           machine-readable output (detect, show)\n"
"  -h, --help       this help\n"
"\n"
"Exit status: 0 ok, 1 failure (no driver, unreadable or malformed file), 2 usage error.\n",
            BUDGET_PERCENT, mode_cap_percent[GREY_MODE_SAFE],
            mode_cap_percent[GREY_MODE_BALANCED], mode_cap_percent[GREY_MODE_AGGRESSIVE]);
}

/* Reports what getopt_long refused (opterr is off so that every message has our shape). */
static int bad_option(int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return cli_usage_error(PROG, "option '%s' needs an argument", arg);
    if (optopt && optopt < 256)
        return cli_usage_error(PROG, "unknown option '-%c'", optopt);
    return cli_usage_error(PROG, "unknown option '%s'", arg);
}

/* ---------------------------------------------------------------- planning */

struct plan_opts {
    enum grey_plan_mode mode;
    uint64_t cap, budget; /* 0: not given */
    const char *out;
};

/* pct% of bytes, rounded down to whole MiB so the plan stays readable. */
static uint64_t percent_of(uint64_t bytes, unsigned pct)
{
    uint64_t v = (uint64_t)((unsigned __int128)bytes * pct / 100);
    return v & ~(uint64_t)((1u << 20) - 1);
}

/* An explicit size larger than the device is lowered to its VRAM, loudly. */
static uint64_t clamp_to_vram(const char *opt, uint64_t want, const struct grey_detected_device *d)
{
    char a[32], b[32];
    if (want <= d->vram_total)
        return want;
    cli_warn(PROG, "device %d \"%s\": %s %s is more than its VRAM %s; using %s", d->index,
             d->name, opt, grey_size_format(want, a, sizeof a),
             grey_size_format(d->vram_total, b, sizeof b), b);
    return d->vram_total;
}

static void plan_device(const struct plan_opts *o, const struct grey_detected_device *d,
                        struct grey_plan_device *pd)
{
    char a[32], b[32];
    pd->present = true;
    snprintf(pd->name, sizeof pd->name, "%s", d->name);
    pd->vram = d->vram_total;
    pd->budget = o->budget ? clamp_to_vram("--budget", o->budget, d)
                           : percent_of(d->vram_total, BUDGET_PERCENT);
    if (o->cap) {
        pd->process_cap = clamp_to_vram("--cap", o->cap, d);
        if (pd->process_cap > pd->budget)
            cli_warn(PROG, "device %d \"%s\": --cap %s is more than the budget %s; using %s",
                     d->index, d->name, grey_size_format(pd->process_cap, a, sizeof a),
                     grey_size_format(pd->budget, b, sizeof b), b);
    } else {
        pd->process_cap = percent_of(d->vram_total, mode_cap_percent[o->mode]);
    }
    if (pd->process_cap > pd->budget)
        pd->process_cap = pd->budget;
}

/* The plan's source line: where the facts came from and which overrides shaped it, e.g.
 * "cuda driver: 2 devices, --cap 20.0 GiB". */
static void describe_source(const struct plan_opts *o, const char *driver, int ndev, char *buf,
                            size_t len)
{
    char a[32], b[32];
    snprintf(buf, len, "%s: %d device%s%s%s%s%s", driver, ndev, ndev == 1 ? "" : "s",
             o->cap ? ", --cap " : "", o->cap ? grey_size_format(o->cap, a, sizeof a) : "",
             o->budget ? ", --budget " : "",
             o->budget ? grey_size_format(o->budget, b, sizeof b) : "");
}

/* Writes FILE.tmp, syncs it and renames it over FILE, so a hook starting meanwhile reads either
 * the old plan or the new one, never half of one. */
static int write_atomically(const char *path, const struct grey_plan *plan)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return cli_error(PROG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cli_error(PROG, "cannot create %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cli_error(PROG, "cannot write %s: %s", tmp, strerror(e));
    }
    int bad = grey_plan_write(f, plan) != 0 || fsync(fd) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return cli_error(PROG, "cannot write %s: %s", path, strerror(e));
    }
    return CLI_EXIT_OK;
}

static int make_plan(const struct plan_opts *o)
{
    struct grey_detected_device det[GREY_MAX_DEVICES];
    char err[256];
    int n = grey_detect_gpus(det, GREY_MAX_DEVICES, err, sizeof err);
    if (n < 0)
        return cli_error(PROG, "%s", err);
    if (n == 0)
        return cli_error(PROG, "no GPU found (CUDA driver, amdgpu sysfs, rocm-smi): nothing to plan");

    struct grey_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.version = GREY_PLAN_VERSION;
    plan.mode = o->mode;
    describe_source(o, det[0].source, n, plan.source, sizeof plan.source);
    for (int i = 0; i < n; i++)
        plan_device(o, &det[i], &plan.dev[i]);
    plan.ndevices = (unsigned)n;

    int rc = CLI_EXIT_OK;
    if (o->out)
        rc = write_atomically(o->out, &plan);
    else if (grey_plan_write(stdout, &plan) != 0)
        rc = cli_error(PROG, "cannot write the plan to stdout: %s", strerror(errno));
    if (rc != CLI_EXIT_OK)
        return rc;

    for (int i = 0; i < n; i++) {
        char v[32], b[32], c[32];
        const struct grey_plan_device *pd = &plan.dev[i];
        fprintf(stderr, "%s: device %d \"%s\" %s: budget %s, per-process cap %s (%s)\n", PROG, i,
                pd->name, grey_size_format(pd->vram, v, sizeof v),
                grey_size_format(pd->budget, b, sizeof b),
                grey_size_format(pd->process_cap, c, sizeof c), grey_plan_mode_name(o->mode));
    }
    if (o->out)
        fprintf(stderr, "%s: wrote %s\n", PROG, o->out);
    return CLI_EXIT_OK;
}

static int cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'}, {"cap", required_argument, NULL, 'c'},
        {"budget", required_argument, NULL, 'b'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    struct plan_opts o = {GREY_MODE_SAFE, 0, 0, NULL};
    int c, m;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if ((m = grey_plan_mode_parse(optarg)) < 0)
                return cli_usage_error(PROG, "--mode: unknown mode '%s' (use safe, balanced or "
                                             "aggressive)", optarg);
            o.mode = (enum grey_plan_mode)m;
            break;
        case 'c':
            if (cli_parse_size(PROG, "--cap", optarg, &o.cap) != 0)
                return CLI_EXIT_USAGE;
            break;
        case 'b':
            if (cli_parse_size(PROG, "--budget", optarg, &o.budget) != 0)
                return CLI_EXIT_USAGE;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unknown command '%s' (commands: detect, show, check)",
                               argv[optind]);
    return make_plan(&o);
}

/* ---------------------------------------------------------------- subcommands */

/* Parses "SUBCOMMAND [--json] [FILE]": nfiles is how many FILE arguments it takes (0 or 1). */
static int sub_args(int argc, char **argv, bool allow_json, bool *json, int nfiles,
                    const char **file)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'j' && allow_json) {
            *json = true;
        } else if (c == 'h') {
            usage(stdout);
            return -1;
        } else if (c == 'j') {
            return cli_usage_error(PROG, "%s: --json is not an option of this command", argv[0]);
        } else {
            return bad_option(c, argv);
        }
    }
    if (nfiles == 1 && optind >= argc)
        return cli_usage_error(PROG, "%s: missing FILE", argv[0]);
    if (nfiles == 1)
        *file = argv[optind++];
    if (optind < argc)
        return cli_usage_error(PROG, "%s: unexpected argument '%s'", argv[0], argv[optind]);
    return 0;
}

/* cJSON keeps numbers as doubles; raw text keeps byte counts exact past 2^53. */
static void json_u64(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(buf));
}

static int print_json(cJSON *root)
{
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return cli_error(PROG, "out of memory");
    puts(text);
    cJSON_free(text);
    return CLI_EXIT_OK;
}

static int detect_json(const struct grey_detected_device *det, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n && arr; i++) {
        const struct grey_detected_device *d = &det[i];
        char cc[24];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "uuid", d->uuid);
        json_u64(o, "vram_total_bytes", d->vram_total);
        json_u64(o, "vram_free_bytes", d->vram_free);
        cJSON_AddNumberToObject(o, "sm_count", d->sm_count);
        snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
        cJSON_AddStringToObject(o, "compute_capability", cc);
        cJSON_AddStringToObject(o, "source", d->source);
    }
    return print_json(arr);
}

static int cmd_detect(int argc, char **argv)
{
    bool json = false;
    int rc = sub_args(argc, argv, true, &json, 0, NULL);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    struct grey_detected_device det[GREY_MAX_DEVICES];
    char err[256];
    int n = grey_detect_gpus(det, GREY_MAX_DEVICES, err, sizeof err);
    if (n < 0)
        return cli_error(PROG, "%s", err);
    if (json)
        return detect_json(det, n);
    if (n == 0) {
        printf("no GPUs\n");
        return CLI_EXIT_OK;
    }
    int w = 4;
    for (int i = 0; i < n; i++)
        if ((int)strlen(det[i].name) > w)
            w = (int)strlen(det[i].name);
    printf("%-3s  %-*s  %10s  %10s  %4s  %-4s  %-40s  %s\n", "dev", w, "name", "vram", "free",
           "SMs", "cc", "uuid", "source");
    for (int i = 0; i < n; i++) {
        char t[32], f[32], cc[24];
        const struct grey_detected_device *d = &det[i];
        snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
        printf("%-3d  %-*s  %10s  %10s  %4d  %-4s  %-40s  %s\n", d->index, w, d->name,
               grey_size_format(d->vram_total, t, sizeof t),
               grey_size_format(d->vram_free, f, sizeof f), d->sm_count, cc,
               d->uuid[0] ? d->uuid : "-", d->source);
    }
    return CLI_EXIT_OK;
}

static int show_json(const struct grey_plan *plan)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", plan->version);
    cJSON_AddStringToObject(root, "mode", grey_plan_mode_name(plan->mode));
    cJSON_AddStringToObject(root, "source", plan->source);
    cJSON *devs = cJSON_AddArrayToObject(root, "devices");
    for (unsigned i = 0; i < plan->ndevices; i++) {
        const struct grey_plan_device *d = &plan->dev[i];
        if (!d->present)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(devs, o);
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", d->name);
        json_u64(o, "vram_bytes", d->vram);
        json_u64(o, "budget_bytes", d->budget);
        json_u64(o, "process_cap_bytes", d->process_cap);
    }
    if (plan->ledger[0])
        cJSON_AddStringToObject(root, "ledger", plan->ledger);
    if (plan->ledger_group[0])
        cJSON_AddStringToObject(root, "ledger_group", plan->ledger_group);
    cJSON *prs = cJSON_AddArrayToObject(root, "principals");
    for (unsigned i = 0; i < plan->nprincipals; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(prs, o);
        cJSON_AddStringToObject(o, "kind", plan->principal[i].is_group ? "group" : "user");
        cJSON_AddStringToObject(o, "name", plan->principal[i].name);
        json_u64(o, "process_cap_bytes", plan->principal[i].process_cap);
    }
    return print_json(root);
}

static void show_text(const char *file, const struct grey_plan *plan)
{
    printf("%s: grey plan version %u, mode %s\n", file, plan->version,
           grey_plan_mode_name(plan->mode));
    if (plan->source[0])
        printf("source: %s\n", plan->source);
    for (unsigned i = 0; i < plan->ndevices; i++) {
        const struct grey_plan_device *d = &plan->dev[i];
        char v[32] = "not stated", b[32], c[32];
        if (!d->present)
            continue;
        if (d->vram)
            grey_size_format(d->vram, v, sizeof v);
        printf("device %u%s%s%s: vram %s, budget %s, per-process cap %s\n", i,
               d->name[0] ? " \"" : "", d->name, d->name[0] ? "\"" : "", v,
               grey_size_format(d->budget, b, sizeof b),
               grey_size_format(d->process_cap, c, sizeof c));
    }
    if (plan->ledger[0])
        printf("ledger: %s%s%s%s\n", plan->ledger, plan->ledger_group[0] ? " (group " : "", plan->ledger_group,
               plan->ledger_group[0] ? ")" : "");
    for (unsigned i = 0; i < plan->nprincipals; i++) {
        char c[32];
        printf("%s %s: per-process cap %s on every device\n", plan->principal[i].is_group ? "group" : "user",
               plan->principal[i].name, grey_size_format(plan->principal[i].process_cap, c, sizeof c));
    }
}

static unsigned count_devices(const struct grey_plan *plan)
{
    unsigned n = 0;
    for (unsigned i = 0; i < plan->ndevices; i++)
        n += plan->dev[i].present;
    return n;
}

/* show and check: both read one plan file; check only says whether it is valid. */
static int cmd_file(int argc, char **argv, bool is_show)
{
    bool json = false;
    const char *file = NULL;
    int rc = sub_args(argc, argv, is_show, &json, 1, &file);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    struct grey_plan plan;
    char err[512];
    if (grey_plan_load(file, &plan, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (!is_show) {
        unsigned n = count_devices(&plan);
        printf("%s: ok (%u device%s)\n", file, n, n == 1 ? "" : "s");
        return CLI_EXIT_OK;
    }
    if (json)
        return show_json(&plan);
    show_text(file, &plan);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    opterr = 0;
    if (argc > 1 && strcmp(argv[1], "detect") == 0)
        return cmd_detect(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "show") == 0)
        return cmd_file(argc - 1, argv + 1, true);
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return cmd_file(argc - 1, argv + 1, false);
    return cmd_plan(argc, argv);
}
