/* grey-report: the buffer report, readable.
 *
 *   grey-report [--json | --html OUT] [--idle SECONDS] FILE
 *   grey-report --live PID [--json | --html OUT] [--idle SECONDS]
 *
 * FILE is a report grey-run wrote (JSON), a raw record a hooked process wrote, or a directory of
 * raw records (one per process); raw records are analysed and symbolized here. --live asks a
 * running process for its record now. Exit status: 0 ok, 1 the input cannot be read or is not a
 * report (or the process cannot be asked), 2 usage, 3 --node --verify left a group unconfirmed. */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts_report.h"
#include "cli_common.h"
#include "default_ledger.h"
#include "export.h"
#include "live_client.h"
#include "report_build.h"
#include "report_html.h"
#include "report_node.h"
#include "report_text.h"
#include "text_escape.h"

#define PROG "grey-report"
#define LIVE_TIMEOUT_MS 120000
/* --node --verify found a group whose members are not all byte-equal (or not all readable): the
 * table claimed what the bytes do not show, so a script must not share on its word. */
#define EXIT_UNCONFIRMED 3

static const char usage_text[] =
    "usage: grey-report [--json | --html OUT | --perfetto OUT | --pytorch OUT] [--idle SECONDS]\n"
    "                   [--early N] [--late N] [--gap N] FILE\n"
    "       grey-report --live PID [--json | --html OUT | --perfetto OUT | --pytorch OUT] [--idle SECONDS]\n"
    "                   [--early N] [--late N] [--gap N]\n"
    "       grey-report --node [--verify] [--json] [LEDGER]\n"
    "       grey-report --artifacts DIR\n"
    "\n"
    "Shows the buffer report of a run: groups of GPU buffers that held identical bytes and the\n"
    "VRAM deduplication would give back (largest first), the call sites that held the most at the\n"
    "peak, buffers never used, buffers freed long after their last use, and the waste patterns\n"
    "counted in kernel launches (early allocation, late deallocation, temporary idle, unused and\n"
    "redundant allocations, dead writes, leaks) with the optimal peak beside the real one.\n"
    "\n"
    "FILE is the report grey-run --dedup or --report wrote (JSON), a raw record a hooked process\n"
    "wrote (*.raw), or a directory of raw records.\n"
    "\n"
    "options:\n"
    "  --json          print the report as JSON (a JSON report is passed through unchanged)\n"
    "  --html OUT      write the report as one self-contained HTML page to OUT\n"
    "  --perfetto OUT  write a Chrome/Perfetto trace (trace-event JSON) to OUT: bytes held per\n"
    "                  process and device, buffers as slices, duplicates and peaks marked\n"
    "  --pytorch OUT   write a PyTorch memory snapshot (the pickle pytorch.org/memory_viz\n"
    "                  opens) of the process of the peak to OUT\n"
    "  --node          identical large buffers (1 MiB and more) held by different jobs of this\n"
    "                  node now, from the fingerprints the recording processes publish beside\n"
    "                  LEDGER (default: the ledger the hooks use)\n"
    "  --verify        with --node: read every member back through its process and compare\n"
    "                  its bytes with the group's first; a member that differs (a write grey\n"
    "                  did not see, a rewritten table) or cannot be read leaves its group\n"
    "                  unconfirmed (exit status 3)\n"
    "  --live PID      ask the running process PID (under grey-run --dedup/--report, or with\n"
    "                  GREY_DEDUP=1) for its buffers now\n"
    "  --artifacts DIR a digest of what grey-run --artifacts DIR left: VRAM per GPU, each GPU's\n"
    "                  temperatures, power and time held back for heat, each process's share\n"
    "                  against its entitlement (the heat map is DIR/fairness.svg, for a browser)\n"
    "  --idle SECONDS  how long a buffer must sit unused before its free to be listed as freed\n"
    "                  long after its last use (default 1; raw records and --live only)\n"
    "  --early N       report an early allocation from N kernel launches between allocation\n"
    "                  and first use (default 10; raw records and --live only)\n"
    "  --late N        report a late deallocation from N launches between last use and free\n"
    "                  (default 10; raw records and --live only)\n"
    "  --gap N         report a temporary idle buffer from N launches between two uses\n"
    "                  (default 10; raw records and --live only)\n"
    "  -h, --help      this text\n"
    "  --version       print grey's version\n"
    "\n"
    "FILE may be at most 256 MiB (a raw record: lines of at most 64 KiB). In the text output,\n"
    "control characters from the report are shown as \\xNN.\n"
    "\n"
    "exit status: 0 ok; 1 the input cannot be read, is not a report, or the process cannot be\n"
    "asked; 2 bad command line; 3 --node --verify left a group unconfirmed.\n";

struct options {
    bool json;
    const char *html;
    const char *perfetto, *pytorch;
    bool node, verify;
    int live_pid;
    const char *file;
    const char *artifacts;      /* --artifacts DIR */
    struct grey_dedup_options dedup;
};

static int parse_options(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},   {"html", required_argument, NULL, 'H'},
        {"live", required_argument, NULL, 'l'}, {"idle", required_argument, NULL, 'i'},
        {"early", required_argument, NULL, 'E'}, {"late", required_argument, NULL, 'L'},
        {"gap", required_argument, NULL, 'G'},   {"perfetto", required_argument, NULL, 'P'},
        {"pytorch", required_argument, NULL, 'T'}, {"node", no_argument, NULL, 'N'},
        {"verify", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},   {"version", no_argument, NULL, 'V'},
        {"artifacts", required_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    memset(opt, 0, sizeof *opt);
    grey_dedup_default_options(&opt->dedup);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'j':
            opt->json = true;
            break;
        case 'H':
            opt->html = optarg;
            break;
        case 'A':
            opt->artifacts = optarg;
            break;
        case 'P':
            opt->perfetto = optarg;
            break;
        case 'T':
            opt->pytorch = optarg;
            break;
        case 'N':
            opt->node = true;
            break;
        case 'v':
            opt->verify = true;
            break;
        case 'l': {
            long pid = strtol(optarg, &end, 10);
            if (*end || pid <= 0 || pid > 0x7fffffff)
                return cli_usage_error(PROG, "--live: '%s' is not a process id", optarg);
            opt->live_pid = (int)pid;
            break;
        }
        case 'i': {
            double s = strtod(optarg, &end);
            if (*end || end == optarg || !(s >= 0) || s > 1e6)
                return cli_usage_error(PROG, "--idle: '%s' is not a number of seconds", optarg);
            opt->dedup.idle_min_ns = (uint64_t)(s * 1e9);
            break;
        }
        case 'E':
        case 'L':
        case 'G': {
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*end || end == optarg || optarg[0] == '-' || n == 0 || n > 1000000000000ull)
                return cli_usage_error(PROG, "--%s: '%s' is not a number of launches (1 or more)",
                                       c == 'E' ? "early" : c == 'L' ? "late" : "gap", optarg);
            uint64_t *to = c == 'E' ? &opt->dedup.early_launches
                           : c == 'L' ? &opt->dedup.late_launches : &opt->dedup.idle_launches;
            *to = n;
            break;
        }
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
    if (opt->json + !!opt->html + !!opt->perfetto + !!opt->pytorch > 1)
        return cli_usage_error(PROG, "choose one of --json, --html, --perfetto and --pytorch");
    if (opt->artifacts) {
        if (opt->json || opt->html || opt->perfetto || opt->pytorch || opt->node || opt->live_pid || optind < argc)
            return cli_usage_error(PROG, "--artifacts DIR takes nothing else (the files themselves are the data)");
        return CLI_EXIT_OK;
    }
    if (opt->verify && !opt->node)
        return cli_usage_error(PROG, "--verify goes with --node");
    if (opt->node) {
        if (opt->html || opt->perfetto || opt->pytorch || opt->live_pid)
            return cli_usage_error(PROG, "--node takes only --json and --verify");
        if (optind + 1 < argc)
            return cli_usage_error(PROG, "--node takes one LEDGER at most (got '%s' too)", argv[optind + 1]);
        opt->file = optind < argc ? argv[optind] : NULL;
    } else if (opt->live_pid) {
        if (optind < argc)
            return cli_usage_error(PROG, "--live takes no FILE (got '%s')", argv[optind]);
    } else {
        if (optind >= argc)
            return cli_usage_error(PROG, "no report FILE given");
        if (optind + 1 < argc)
            return cli_usage_error(PROG, "one report FILE at a time (got '%s' too)", argv[optind + 1]);
        opt->file = argv[optind];
    }
    return CLI_EXIT_OK;
}

enum output { OUT_HTML, OUT_PERFETTO, OUT_PYTORCH };

static int write_output(const cJSON *report, const char *path, enum output kind)
{
    FILE *f = fopen(path, kind == OUT_PYTORCH ? "wb" : "w");
    if (!f)
        return cli_error(PROG, "cannot write %s: %s", path, strerror(errno));
    char err[256] = "";
    int rc = 0;
    if (kind == OUT_HTML)
        grey_report_html(report, f);
    else if (kind == OUT_PERFETTO)
        rc = grey_export_trace(report, f, err, sizeof err);
    else
        rc = grey_export_snapshot(report, f, err, sizeof err);
    if (fclose(f) != 0 && rc == 0)
        return cli_error(PROG, "cannot write %s: %s", path, strerror(errno));
    if (rc != 0) {
        remove(path);
        return cli_error(PROG, "%s: %s", path, err);
    }
    fprintf(stderr, "%s: wrote %s\n", PROG, path);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc != CLI_EXIT_OK)
        return rc;

    char err[4600], live_path[1024];
    if (opt.artifacts) {
        if (artifacts_report(opt.artifacts, stdout, err, sizeof err) != 0)
            return cli_error(PROG, "%s", err);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : cli_error(PROG, "cannot write the output: %s", strerror(errno));
    }
    if (opt.node) {
        char ledger[4096];
        if (opt.file)
            snprintf(ledger, sizeof ledger, "%s", opt.file);
        else
            grey_tool_default_ledger(PROG, ledger, sizeof ledger);
        int node = grey_report_node(ledger, opt.json, opt.verify, stdout, err, sizeof err);
        if (node < 0)
            return cli_error(PROG, "%s", err);
        if (fflush(stdout) != 0)
            return cli_error(PROG, "cannot write the output: %s", strerror(errno));
        return node ? EXIT_UNCONFIRMED : CLI_EXIT_OK;
    }
    const char *input = opt.file;
    if (opt.live_pid) {
        if (grey_live_request(opt.live_pid, LIVE_TIMEOUT_MS, live_path, sizeof live_path, err, sizeof err) != 0)
            return cli_error(PROG, "%s", err);
        input = live_path;
    }
    char *text = NULL;
    cJSON *report = grey_report_load(input, &opt.dedup, &text, err, sizeof err);
    if (opt.live_pid)
        remove(live_path); /* the transport only; live_client.c accepted no other name than its own */
    if (!report)
        return cli_error(PROG, "%s", err);
    /* Names in a report are anyone's choosing: no raw control byte reaches the terminal. */
    if (!opt.html && !grey_escape_controls(report)) {
        free(text);
        cJSON_Delete(report);
        return cli_error(PROG, "out of memory");
    }
    if (text && grey_has_raw_controls(text)) {
        free(text);
        text = NULL; /* printed again from the escaped tree instead of passed through */
    }

    if (opt.html) {
        rc = write_output(report, opt.html, OUT_HTML);
    } else if (opt.perfetto) {
        rc = write_output(report, opt.perfetto, OUT_PERFETTO);
    } else if (opt.pytorch) {
        rc = write_output(report, opt.pytorch, OUT_PYTORCH);
    } else if (opt.json) {
        if (text) {
            fputs(text, stdout);
        } else {
            char *out = cJSON_Print(report);
            if (out)
                puts(out);
            cJSON_free(out);
        }
        rc = CLI_EXIT_OK;
    } else {
        grey_report_text(report, stdout);
        rc = CLI_EXIT_OK;
    }
    if (fflush(stdout) != 0)
        rc = cli_error(PROG, "cannot write the output: %s", strerror(errno));
    free(text);
    cJSON_Delete(report);
    return rc;
}
