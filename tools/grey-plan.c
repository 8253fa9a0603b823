/* grey-plan: turn the detected GPUs into a plan file (per-device budget and per-process cap, plus
 * thermal thresholds and batch/chunk hints, each with a confidence and a reason) that
 * libgreyhook.so reads, and inspect, explain, verify or install plan files.
 *
 *   grey-plan [--mode M] [--tenants N] [--model-size SIZE] [--workload W] [--cap SIZE]
 *             [--budget SIZE] [--weight N] [--out FILE]
 *   grey-plan detect [--json]
 *   grey-plan show [--json] FILE
 *   grey-plan check FILE
 *   grey-plan explain FILE
 *   grey-plan install [--yes] FILE
 *
 * Detection: tools/detect_chain.h. Settings and their layers: tools/plan_layers.h. The rules:
 * tools/planner.h. Exit status: 0 ok, 1 runtime failure (no GPU, unreadable or malformed
 * file), 2 usage. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/plan.h"
#include "policy/safe_file.h"
#include "policy/size.h"
#include "policy/thermal.h"
#include "cli_common.h"
#include "detect_chain.h"
#include "detect_report.h"
#include "plan_check.h"
#include "plan_explain.h"
#include "plan_layers.h"
#include "plan_write.h"
#include "planner.h"

static const char *const PROG = "grey-plan";

static void usage(FILE *f)
{
    fputs(
"usage: grey-plan [--mode safe|balanced|aggressive] [--tenants N] [--model-size SIZE]\n"
"                 [--workload training|inference] [--cap SIZE] [--budget SIZE] [--weight N]\n"
"                 [--power-limit W] [--out FILE]\n"
"       grey-plan detect [--json]\n"
"       grey-plan show [--json] FILE\n"
"       grey-plan check FILE\n"
"       grey-plan explain FILE\n"
"       grey-plan install [--yes] FILE\n"
"\n"
"Without a command, detects the GPUs and writes a plan for libgreyhook.so (to stdout, or to\n"
"FILE with --out; the file is replaced atomically). Devices are physical GPUs, numbered as\n"
"nvidia-smi numbers them and named by UUID, so a plan holds whatever CUDA_VISIBLE_DEVICES a job\n"
"runs with. For each device:\n"
"  budget       what all hooked processes on the device may use together: 90% of VRAM,\n"
"               or --budget\n"
"  process_cap  what one hooked process may use: by mode safe 75%, balanced 85%,\n"
"               aggressive 90% of VRAM; with --tenants N at most budget/N (x1.25 balanced,\n"
"               x1.5 aggressive), never below 1 GiB or the model; never above the budget; or --cap\n"
"  throttle_temp, cooldown_temp  where the hook backs the device's processes off (thermal)\n"
"  shutdown_temp, batch_size, chunk_size: hints (the batch and chunk from the power limit too)\n"
"Every value has a KEY.why line: a confidence (0..1) and the reason ('explain' prints them).\n"
"A summary goes to stderr. --cap and --budget apply to every device and are clamped to its\n"
"VRAM (with a warning); a cap above the budget is lowered to the budget.\n"
"\n"
"Settings, later ones winning: the admin plan (/etc/grey/plan.conf: its caps and budgets are\n"
"ceilings no other layer raises), ~/.config/grey/plan.conf, GREY_MODE, GREY_TENANTS,\n"
"GREY_MODEL_SIZE, GREY_WORKLOAD, GREY_CAP, GREY_BUDGET, GREY_WEIGHT, then the options.\n"
"\n"
"Commands:\n"
"  detect [--json]      list the GPUs from NVML, the CUDA driver, nvidia-smi, amdgpu sysfs or\n"
"                       rocm-smi, else lspci, with the source of every fact (JSON sizes are bytes)\n"
"  show [--json] FILE   print a plan file (JSON sizes are bytes)\n"
"  check FILE           verify a plan file: 'FILE: ok (N devices)', or every 'FILE:LINE: reason'\n"
"  explain FILE         every value of a plan with its confidence and reason\n"
"  install [--yes] FILE make FILE the node's admin plan; without --yes only says what it would do\n"
"\n"
"Options:\n"
"  --mode MODE        safe (default), balanced or aggressive\n"
"  --tenants N        processes expected to share each device (default 1)\n"
"  --model-size SIZE  the model's weights, for the batch and chunk hints\n"
"  --workload W       training (assumed when not given) or inference\n"
"  --cap SIZE         per-process cap, e.g. 20GiB, 20Gi, 1.5G, 512MiB or bytes; units are\n"
"                     binary everywhere in grey: K = Ki = KB = KiB = 1024, G = GB = GiB\n"
"  --budget SIZE      per-device budget for all hooked processes together\n"
"  --weight N         the plan's default fair-share weight (default 1)\n"
"  --power-limit W    plan the batch and chunk hints for boards capped at W watts (default: the\n"
"                     detected power limit)\n"
"  --out FILE         write the plan to FILE instead of stdout\n"
"  --json             machine-readable output (detect, show)\n"
"  --yes              install: really write the admin plan\n"
"  -h, --help         this help\n"
"  --version          print grey's version\n"
"\n"
"Exit status: 0 ok, 1 failure (no GPU, unreadable or malformed file), 2 usage error.\n",
          f);
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

/* Writes a temporary file beside FILE (an unpredictable name, created exclusively: a name planted
 * by another user is never followed), syncs it and renames it over FILE, so a hook starting
 * meanwhile reads either the old plan or the new one, never half of one. mode: the new file's
 * permissions, narrowed to an existing FILE's (a replacement never widens who may read it). */
static int write_atomically(const char *path, const struct grey_plan *plan, const struct grey_plan_notes *notes,
                            mode_t mode)
{
    char tmp[PATH_MAX + 16], why[PATH_MAX + 128];
    int fd = grey_safe_temp_beside(path, grey_safe_replacement_mode(path, mode), tmp, sizeof tmp, why, sizeof why);
    if (fd < 0)
        return cli_error(PROG, "%s", why);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cli_error(PROG, "cannot write %s: %s", tmp, strerror(e));
    }
    int bad = grey_plan_write_notes(f, plan, notes) != 0 || fflush(f) != 0 || fsync(fd) != 0;
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

/* Big: the detection result, the layers and the plan with its notes live in static storage. */
static struct detect_result detected;
static struct plan_layers layers;
static struct planner_result planned;

static int make_plan(const char *out_path)
{
    char err[512];
    int n = detect_chain(&detected, err, sizeof err);
    if (n < 0)
        return cli_usage_error(PROG, "%s", err);
    for (int i = 0; i < detected.list.nnotes; i++)
        fprintf(stderr, "%s: note: %s\n", PROG, detected.list.notes[i]);
    if (n == 0)
        return cli_error(PROG, "%s", detected.failure);
    int np = planner_run(&detected.list, &layers, &planned);
    for (int i = 0; i < planned.nwarnings; i++)
        cli_warn(PROG, "%s", planned.warnings[i]);
    if (np == 0)
        return cli_error(PROG, "no GPU with a known memory size: nothing to plan ('grey-plan detect' shows what "
                               "was found)");

    int rc = CLI_EXIT_OK;
    if (out_path)
        rc = write_atomically(out_path, &planned.plan, &planned.notes, 0644);
    else if (grey_plan_write_notes(stdout, &planned.plan, &planned.notes) != 0)
        rc = cli_error(PROG, "cannot write the plan to stdout: %s", strerror(errno));
    if (rc != CLI_EXIT_OK)
        return rc;

    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        const struct grey_plan_device *pd = &planned.plan.dev[d];
        if (!pd->present)
            continue;
        char v[32], b[32], c[32], k[16];
        fprintf(stderr, "%s: device %d \"%s\" %s: budget %s, per-process cap %s (%s), detection confidence %s\n",
                PROG, d, pd->name, grey_size_format(pd->vram, v, sizeof v), grey_size_format(pd->budget, b, sizeof b),
                grey_size_format(pd->process_cap, c, sizeof c), grey_plan_mode_name(planned.plan.mode),
                grey_plan_confidence_format(planned.device_confidence[d], k, sizeof k));
    }
    char k[16];
    grey_plan_confidence_format(planned.plan.confidence, k, sizeof k);
    if (planned.plan.confidence < 500)
        cli_warn(PROG, "the plan's confidence is low (%s): 'grey-plan explain %s' says which values are guesses",
                 k, out_path ? out_path : "FILE");
    if (out_path)
        fprintf(stderr, "%s: wrote %s (confidence %s)\n", PROG, out_path, k);
    return CLI_EXIT_OK;
}

static int cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},    {"cap", required_argument, NULL, 'c'},
        {"budget", required_argument, NULL, 'b'},  {"out", required_argument, NULL, 'o'},
        {"tenants", required_argument, NULL, 't'}, {"model-size", required_argument, NULL, 's'},
        {"workload", required_argument, NULL, 'w'}, {"weight", required_argument, NULL, 'W'},
        {"power-limit", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    char err[PATH_MAX + 256];
    /* The layers below the command line first: a malformed GREY_* variable is a usage error, a
     * malformed plan file a failure, and both are said before anything is detected. */
    int rc = plan_layers_load(&layers, err, sizeof err);
    if (rc > 0)
        return cli_usage_error(PROG, "%s", err);
    if (rc < 0)
        return cli_error(PROG, "%s", err);
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *key = c == 'm' ? "mode" : c == 'c' ? "cap" : c == 'b' ? "budget" : c == 't' ? "tenants"
                          : c == 's' ? "model-size" : c == 'w' ? "workload" : c == 'W' ? "weight"
                          : c == 'P' ? "power-limit" : NULL;
        if (key) {
            /* The option's name outlives this loop: the reasons in the plan point at it. */
            const char *from = c == 'm' ? "--mode" : c == 'c' ? "--cap" : c == 'b' ? "--budget" : c == 't' ? "--tenants"
                               : c == 's' ? "--model-size" : c == 'w' ? "--workload" : c == 'P' ? "--power-limit"
                                                                                           : "--weight";
            if (plan_layers_set(&layers, key, optarg, from, err, sizeof err) != 0)
                return cli_usage_error(PROG, "%s", err);
            continue;
        }
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        case 'V':
            cli_print_version(PROG);
            return CLI_EXIT_OK;
        default:
            return bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unknown command '%s' (commands: detect, show, check, explain, install)",
                               argv[optind]);
    plan_layers_resolve(&layers);
    return make_plan(out);
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

static int cmd_detect(int argc, char **argv)
{
    bool json = false;
    int rc = sub_args(argc, argv, true, &json, 0, NULL);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char err[512];
    int n = detect_chain(&detected, err, sizeof err);
    if (n < 0)
        return cli_usage_error(PROG, "%s", err);
    if (n == 0) {
        for (int i = 0; i < detected.list.nnotes; i++)
            fprintf(stderr, "%s: note: %s\n", PROG, detected.list.notes[i]);
        return cli_error(PROG, "%s", detected.failure);
    }
    if (!json) {
        detect_report_text(stdout, &detected);
        return CLI_EXIT_OK;
    }
    /* stdout stays one JSON array; what a person should read goes to stderr. */
    for (int i = 0; i < detected.list.nnotes; i++)
        fprintf(stderr, "%s: note: %s\n", PROG, detected.list.notes[i]);
    return print_json(detect_report_json(&detected));
}

/* A hint or input that is 0 when absent: null in JSON. */
static void json_opt(cJSON *o, const char *key, uint64_t v)
{
    if (v)
        json_u64(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static int show_json(const struct grey_plan *plan, const struct grey_plan_notes *notes)
{
    cJSON *root = cJSON_CreateObject();
    char conf[16];
    cJSON_AddNumberToObject(root, "version", plan->version);
    cJSON_AddStringToObject(root, "mode", grey_plan_mode_name(plan->mode));
    cJSON_AddStringToObject(root, "source", plan->source);
    json_opt(root, "tenants", plan->tenants);
    if (plan->thermal != GREY_THERMAL_UNSET)
        cJSON_AddStringToObject(root, "thermal", grey_plan_thermal_name(plan->thermal));
    if (plan->workload != GREY_WORKLOAD_UNSET)
        cJSON_AddStringToObject(root, "workload", grey_plan_workload_name(plan->workload));
    else
        cJSON_AddNullToObject(root, "workload");
    json_opt(root, "model_size_bytes", plan->model_size);
    json_opt(root, "default_weight", plan->default_weight);
    if (plan->has_confidence)
        cJSON_AddItemToObject(root, "plan_confidence",
                              cJSON_CreateRaw(grey_plan_confidence_format(plan->confidence, conf, sizeof conf)));
    else
        cJSON_AddNullToObject(root, "plan_confidence");
    cJSON *devs = cJSON_AddArrayToObject(root, "devices");
    for (unsigned i = 0; i < plan->ndevices; i++) {
        const struct grey_plan_device *d = &plan->dev[i];
        if (!d->present)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(devs, o);
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", d->name);
        if (d->uuid[0])
            cJSON_AddStringToObject(o, "uuid", d->uuid);
        else
            cJSON_AddNullToObject(o, "uuid");
        if (d->pci_bus_id[0])
            cJSON_AddStringToObject(o, "pci_bus_id", d->pci_bus_id);
        else
            cJSON_AddNullToObject(o, "pci_bus_id");
        json_u64(o, "vram_bytes", d->vram);
        json_u64(o, "budget_bytes", d->budget);
        json_u64(o, "process_cap_bytes", d->process_cap);
        json_opt(o, "throttle_temp_c", d->throttle_temp);
        json_opt(o, "cooldown_temp_c", d->cooldown_temp);
        json_opt(o, "shutdown_temp_c", d->shutdown_temp);
        json_opt(o, "batch_size", d->batch_size);
        json_opt(o, "chunk_size_bytes", d->chunk_size);
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
    /* The KEY.why lines: section is "top", "device N" or "user NAME" / "group NAME". */
    cJSON *whys = cJSON_AddArrayToObject(root, "why");
    for (unsigned i = 0; notes && i < notes->n; i++) {
        const struct grey_plan_why *w = &notes->why[i];
        char section[64];
        if (w->section == GREY_PLAN_WHY_TOP)
            snprintf(section, sizeof section, "top");
        else if (w->section >= GREY_PLAN_WHY_PRINCIPAL &&
                 w->section - GREY_PLAN_WHY_PRINCIPAL < (int)plan->nprincipals)
            snprintf(section, sizeof section, "%s %s",
                     plan->principal[w->section - GREY_PLAN_WHY_PRINCIPAL].is_group ? "group" : "user",
                     plan->principal[w->section - GREY_PLAN_WHY_PRINCIPAL].name);
        else
            snprintf(section, sizeof section, "device %d", w->section);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(whys, o);
        cJSON_AddStringToObject(o, "section", section);
        cJSON_AddStringToObject(o, "key", w->key);
        cJSON_AddItemToObject(o, "confidence",
                              cJSON_CreateRaw(grey_plan_confidence_format(w->confidence, conf, sizeof conf)));
        cJSON_AddStringToObject(o, "reason", w->reason);
    }
    return print_json(root);
}

static void show_text(const char *file, const struct grey_plan *plan)
{
    printf("%s: grey plan version %u, mode %s\n", file, plan->version,
           grey_plan_mode_name(plan->mode));
    if (plan->source[0])
        printf("source: %s\n", plan->source);
    if (plan->thermal != GREY_THERMAL_UNSET)
        printf("thermal back-off: %s\n", grey_plan_thermal_name(plan->thermal));
    if (plan->tenants || plan->workload != GREY_WORKLOAD_UNSET || plan->model_size || plan->default_weight) {
        char m[32] = "not stated";
        if (plan->model_size)
            grey_size_format(plan->model_size, m, sizeof m);
        printf("planned for: %u tenant%s per device, %s, model %s, default weight %u\n", plan->tenants ? plan->tenants : 1,
               plan->tenants == 1 || !plan->tenants ? "" : "s",
               plan->workload != GREY_WORKLOAD_UNSET ? grey_plan_workload_name(plan->workload) : "workload not stated",
               m, plan->default_weight ? plan->default_weight : 1);
    }
    for (unsigned i = 0; i < plan->ndevices; i++) {
        const struct grey_plan_device *d = &plan->dev[i];
        char v[32] = "not stated", b[32], c[32];
        if (!d->present)
            continue;
        if (d->vram)
            grey_size_format(d->vram, v, sizeof v);
        printf("device %u%s%s%s%s%s%s: vram %s, budget %s, per-process cap %s\n", i, d->uuid[0] ? " (" : "",
               d->uuid, d->uuid[0] ? ")" : "", d->name[0] ? " \"" : "", d->name, d->name[0] ? "\"" : "", v,
               grey_size_format(d->budget, b, sizeof b),
               grey_size_format(d->process_cap, c, sizeof c));
        if (d->throttle_temp || d->cooldown_temp) {
            printf("  temperatures: throttle %u C, cool down from %u C", d->throttle_temp, d->cooldown_temp);
            if (d->shutdown_temp)
                printf(", shutdown %u C", d->shutdown_temp);
            putchar('\n');
        }
        if (d->batch_size || d->chunk_size)
            printf("  hints: batch size %u, chunk %s\n", d->batch_size,
                   d->chunk_size ? grey_size_format(d->chunk_size, c, sizeof c) : "not stated");
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

static struct grey_plan_notes notes;

/* show: the plan as text or JSON. */
static int cmd_show(int argc, char **argv)
{
    bool json = false;
    const char *file = NULL;
    int rc = sub_args(argc, argv, true, &json, 1, &file);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    static struct grey_plan plan;
    char err[512];
    if (grey_plan_load_notes(file, &plan, &notes, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (json)
        return show_json(&plan, &notes);
    show_text(file, &plan);
    return CLI_EXIT_OK;
}

/* check: every error with its file and line, or "FILE: ok (N devices)". */
static int cmd_check(int argc, char **argv)
{
    const char *file = NULL;
    int rc = sub_args(argc, argv, false, NULL, 1, &file);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    static struct grey_plan plan;
    static char errs[PLAN_CHECK_MAX_ERRORS][PLAN_CHECK_ERR_LEN];
    int n = plan_check_file(file, &plan, NULL, errs, PLAN_CHECK_MAX_ERRORS);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s\n", errs[i]);
    if (n)
        return CLI_EXIT_FAIL;
    unsigned devs = count_devices(&plan);
    printf("%s: ok (%u device%s)\n", file, devs, devs == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

static int cmd_explain(int argc, char **argv)
{
    const char *file = NULL;
    int rc = sub_args(argc, argv, false, NULL, 1, &file);
    if (rc != 0)
        return rc < 0 ? CLI_EXIT_OK : rc;
    static struct grey_plan plan;
    char err[512];
    if (grey_plan_load_notes(file, &plan, &notes, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_FAIL;
    }
    plan_explain(stdout, file, &plan, &notes);
    return CLI_EXIT_OK;
}

/* install: FILE becomes the admin plan, root-owned 0644. Dry run unless --yes: a plan at the
 * admin path binds every hooked process of the node, so writing it is never a side effect. */
static int cmd_install(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"yes", no_argument, NULL, 'y'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool yes = false;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'y') {
            yes = true;
        } else if (c == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        } else {
            return bad_option(c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(PROG, "install: missing FILE");
    const char *file = argv[optind++];
    if (optind < argc)
        return cli_usage_error(PROG, "install: unexpected argument '%s'", argv[optind]);
    static struct grey_plan plan;
    static char errs[PLAN_CHECK_MAX_ERRORS][PLAN_CHECK_ERR_LEN];
    int n = plan_check_file(file, &plan, &notes, errs, PLAN_CHECK_MAX_ERRORS);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s\n", errs[i]);
    if (n)
        return cli_error(PROG, "install: %s is not a valid plan; nothing installed", file);
    char dest[PATH_MAX];
    snprintf(dest, sizeof dest, "%s", cli_settings()->admin_plan);
    struct stat st;
    bool exists = stat(dest, &st) == 0;
    unsigned devs = count_devices(&plan);
    if (!yes) {
        printf("would install %s (%u device%s, checked) as the admin plan %s, mode 0644, owned by uid %u%s\n",
               file, devs, devs == 1 ? "" : "s", dest, (unsigned)geteuid(),
               exists ? ", replacing the plan there" : "");
        printf("every hooked process on this node would then be held to its caps and budgets\n");
        printf("dry run: nothing was written; run 'grey-plan install --yes %s' to do it\n", file);
        return CLI_EXIT_OK;
    }
    if (geteuid() != 0)
        cli_warn(PROG, "not root: %s will not be owned by root, so hooks will read it as a user's plan, not an admin "
                       "plan", dest);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", dest);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return cli_error(PROG, "cannot create %s: %s", dir, strerror(errno));
    }
    int rc = write_atomically(dest, &plan, &notes, 0644);
    if (rc == CLI_EXIT_OK)
        fprintf(stderr, "%s: installed %s as the admin plan %s\n", PROG, file, dest);
    return rc;
}

int main(int argc, char **argv)
{
    opterr = 0;
    /* Before the plan layers are read: --version answers even where a GREY_* setting is bad. */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        cli_print_version(PROG);
        return CLI_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "detect") == 0)
        return cmd_detect(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "install") == 0)
        return cmd_install(argc - 1, argv + 1);
    return cmd_plan(argc, argv);
}
