/* The plan file: round trips through the writer, the syntax people may use, and the exact
 * "FILE:LINE: reason" for every way a plan can be wrong. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/plan.h"
#include "policy/settings.h"
#include "tools/plan_write.h"

/* The settings as a process would read them from the environment now. */
static const struct grey_settings *settings_now(void)
{
    static struct grey_settings s;
    grey_settings_read(&s, grey_env_process, (unsigned)geteuid());
    return &s;
}

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

#define HEAD "grey-plan-version = 1\n"

static struct grey_plan parse_ok(const char *text)
{
    struct grey_plan p;
    char err[512] = "";
    int rc = grey_plan_parse(text, strlen(text), "plan.conf", &p, err, sizeof err);
    cr_assert_eq(rc, 0, "refused: %s\n--- text:\n%s", err, text);
    return p;
}

/* text (with explicit length, so it may hold NUL bytes) must be refused with exactly `want`. */
static void refused_n(const char *text, size_t len, const char *want)
{
    struct grey_plan p;
    char err[512] = "";
    int rc = grey_plan_parse(text, len, "plan.conf", &p, err, sizeof err);
    cr_assert_eq(rc, -1, "accepted:\n%s", text);
    cr_assert_str_eq(err, want);
}

static void refused(const char *text, const char *want) { refused_n(text, strlen(text), want); }

static struct grey_plan sample_plan(void)
{
    struct grey_plan p;
    memset(&p, 0, sizeof p);
    p.version = 1;
    p.mode = GREY_MODE_BALANCED;
    p.has_mode = true; /* the writer always writes the mode, so the plan read back says it */
    snprintf(p.source, sizeof p.source, "unit test \"quoted\" \\ # not a comment");
    p.dev[0].present = true;
    snprintf(p.dev[0].name, sizeof p.dev[0].name, "Grey Simulated GPU");
    p.dev[0].vram = 80 * GiB;
    p.dev[0].budget = 72 * GiB;
    p.dev[0].process_cap = 60 * GiB;
    p.dev[5].present = true; /* no name, no vram: both optional */
    p.dev[5].budget = 1610612736ULL;
    p.dev[5].process_cap = 1536 * MiB - 1;
    p.ndevices = 6;
    return p;
}

/* The writer's text, NUL-terminated, in a buffer the caller frees. */
static char *written(const struct grey_plan *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(grey_plan_write(f, p), 0);
    fclose(f);
    return buf;
}

/* ---------------------------------------------------------------- writing and round trips */

Test(plan_write, round_trip)
{
    struct grey_plan want = sample_plan();
    char *text = written(&want);
    struct grey_plan got = parse_ok(text);
    cr_assert_eq(got.version, 1);
    cr_assert_eq(got.mode, GREY_MODE_BALANCED);
    cr_assert_str_eq(got.source, want.source);
    cr_assert_eq(got.ndevices, 6);
    cr_assert_str_eq(got.dev[0].name, "Grey Simulated GPU");
    cr_assert_eq(got.dev[0].vram, 80 * GiB);
    cr_assert_eq(got.dev[0].budget, 72 * GiB);
    cr_assert_eq(got.dev[0].process_cap, 60 * GiB);
    cr_assert_eq(got.dev[5].budget, 1610612736ULL);
    cr_assert_eq(got.dev[5].process_cap, 1536 * MiB - 1);
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "round trip changed the plan:\n%s", text);
    free(text);
}

Test(plan_write, every_value_is_commented)
{
    struct grey_plan p = sample_plan();
    char *text = written(&p);
    cr_assert(strstr(text, "Written by grey-plan on ") != NULL, "%s", text);
    cr_assert(strstr(text, "from \"unit test") != NULL, "header names the source:\n%s", text);
    cr_assert(strstr(text, "edit") != NULL, "header says admins may edit it:\n%s", text);
    cr_assert(strstr(text, "# 72.0 GiB: all hooked processes on this device together") != NULL,
              "%s", text);
    cr_assert(strstr(text, "budget = 77309411328 ") != NULL, "sizes are integer bytes:\n%s", text);
    cr_assert(strstr(text, "process_cap = 64424509440 ") != NULL, "%s", text);
    cr_assert(strstr(text, "# 1.5 GiB: ") != NULL, "%s", text);
    /* every assignment line carries a comment */
    int assignments = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '[')
            continue;
        assignments++;
        cr_expect(strchr(line, '=') && strstr(line, " # "), "uncommented line: '%s'", line);
    }
    cr_assert_eq(assignments, 3 + 4 + 2);
    free(text);
}

Test(plan_write, reports_write_errors)
{
    struct grey_plan p = sample_plan();
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        cr_skip_test("no /dev/full");
    cr_assert_eq(grey_plan_write(f, &p), -1);
    fclose(f);
}

Test(plan_mode, names_and_parsing)
{
    cr_assert_str_eq(grey_plan_mode_name(GREY_MODE_SAFE), "safe");
    cr_assert_str_eq(grey_plan_mode_name(GREY_MODE_BALANCED), "balanced");
    cr_assert_str_eq(grey_plan_mode_name(GREY_MODE_AGGRESSIVE), "aggressive");
    cr_assert_eq(grey_plan_mode_parse("safe"), GREY_MODE_SAFE);
    cr_assert_eq(grey_plan_mode_parse("balanced"), GREY_MODE_BALANCED);
    cr_assert_eq(grey_plan_mode_parse("aggressive"), GREY_MODE_AGGRESSIVE);
    cr_assert_eq(grey_plan_mode_parse("Safe"), -1);
    cr_assert_eq(grey_plan_mode_parse(""), -1);
    cr_assert_eq(grey_plan_mode_parse(NULL), -1);
}

/* ---------------------------------------------------------------- syntax that is accepted */

Test(plan_parse, comments_blanks_and_defaults)
{
    struct grey_plan p = parse_ok("# leading comment\n"
                                  "\n"
                                  "   grey-plan-version=1# no spaces needed\n"
                                  "\t\n"
                                  "[device 2]   # trailing comment\n"
                                  "  budget   =   2GiB   \n"
                                  "process_cap = 1.5G # human sizes are fine\n");
    cr_assert_eq(p.mode, GREY_MODE_SAFE, "mode defaults to safe");
    cr_assert_str_eq(p.source, "");
    cr_assert_eq(p.ndevices, 3);
    cr_assert(!p.dev[0].present && !p.dev[1].present && p.dev[2].present);
    cr_assert_eq(p.dev[2].budget, 2 * GiB);
    cr_assert_eq(p.dev[2].process_cap, 1610612736ULL);
    cr_assert_eq(p.dev[2].vram, 0);
}

Test(plan_parse, crlf_line_endings)
{
    struct grey_plan p = parse_ok("grey-plan-version = 1\r\n"
                                  "mode = aggressive\r\n"
                                  "source = \"windows editor\"\r\n"
                                  "[device 0]\r\n"
                                  "name = \"GPU\"  \r\n"
                                  "budget = 10GiB\r\n"
                                  "process_cap = 9GiB\r\n");
    cr_assert_eq(p.mode, GREY_MODE_AGGRESSIVE);
    cr_assert_str_eq(p.source, "windows editor");
    cr_assert_str_eq(p.dev[0].name, "GPU");
    cr_assert_eq(p.dev[0].process_cap, 9 * GiB);
}

Test(plan_parse, quoted_strings_and_escapes)
{
    struct grey_plan p = parse_ok(HEAD "source = \"a \\\"b\\\" c\\\\d # e\"   # real comment\n"
                                       "[device 1]\n"
                                       "name = bare words # comment\n"
                                       "budget = \"4GiB\"\n"
                                       "process_cap = 4GiB\n");
    cr_assert_str_eq(p.source, "a \"b\" c\\d # e");
    cr_assert_str_eq(p.dev[1].name, "bare words");
    cr_assert_eq(p.dev[1].budget, 4 * GiB);
}

Test(plan_parse, no_trailing_newline_and_no_devices)
{
    struct grey_plan p = parse_ok("grey-plan-version = 1");
    cr_assert_eq(p.ndevices, 0);
    p = parse_ok(HEAD "[device 15]\nbudget = 1G\nprocess_cap = 1G");
    cr_assert_eq(p.ndevices, 16);
    cr_assert_eq(p.dev[15].process_cap, GiB);
}

Test(plan_parse, text_need_not_be_terminated)
{
    const char text[] = HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\nXXXX";
    struct grey_plan p;
    char err[256];
    /* stop before "XXXX": the parser must not read past len */
    cr_assert_eq(grey_plan_parse(text, strlen(text) - 4, "plan.conf", &p, err, sizeof err), 0,
                 "%s", err);
}

Test(plan_parse, equal_limits_are_fine)
{
    struct grey_plan p = parse_ok(HEAD "[device 0]\nvram = 8G\nbudget = 8G\nprocess_cap = 8G\n");
    cr_assert_eq(p.dev[0].vram, 8 * GiB);
}

/* ---------------------------------------------------------------- errors, each with its line */

Test(plan_errors, unknown_key)
{
    refused(HEAD "[device 0]\nbudgit = 1G\n", "plan.conf:3: unknown key 'budgit' in [device 0]");
    refused(HEAD "colour = red\n", "plan.conf:2: unknown key 'colour' at the top level");
    refused(HEAD "budget = 1G\n",
            "plan.conf:2: key 'budget' outside a section (it belongs in a [device N] section)");
    refused(HEAD "[device 0]\nmode = safe\n",
            "plan.conf:3: key 'mode' in [device 0] (it belongs before the first section)");
}

Test(plan_errors, unknown_section)
{
    refused(HEAD "[gpu 0]\n", "plan.conf:2: unknown section '[gpu 0]' (expected [device N], [user NAME] or [group NAME])");
    refused(HEAD "[devices 0]\n",
            "plan.conf:2: unknown section '[devices 0]' (expected [device N], [user NAME] or [group NAME])");
    refused(HEAD "[device 0\n", "plan.conf:2: missing ']' in '[device 0'");
    refused(HEAD "[device 0] budget = 1G\n",
            "plan.conf:2: unexpected text 'budget = 1G' after '[device 0]'");
}

Test(plan_errors, bad_device_index)
{
    refused(HEAD "[device 64]\n",
            "plan.conf:2: device index 64 in '[device 64]' is out of range (0..63)");
    refused(HEAD "[device 99999999999999999999]\n",
            "plan.conf:2: device index 99999999999999999999 in '[device 99999999999999999999]' "
            "is out of range (0..63)");
    refused(HEAD "[device -1]\n",
            "plan.conf:2: bad device index '-1' in '[device -1]' (expected [device N])");
    refused(HEAD "[device]\n",
            "plan.conf:2: bad device index '' in '[device]' (expected [device N])");
    refused(HEAD "[device x]\n",
            "plan.conf:2: bad device index 'x' in '[device x]' (expected [device N])");
}

Test(plan_errors, duplicate_section)
{
    refused(HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\n\n[device 0]\n",
            "plan.conf:6: duplicate section [device 0] (first on line 2)");
    /* an unfinished section is reported first: its line comes earlier */
    refused(HEAD "[device 0]\nbudget = 1G\n[device 0]\n",
            "plan.conf:2: [device 0] is missing 'process_cap'");
}

Test(plan_errors, duplicate_key)
{
    refused(HEAD "[device 1]\nbudget = 1G\nbudget = 2G\n",
            "plan.conf:4: duplicate key 'budget' in [device 1] (first set on line 3)");
    refused(HEAD "mode = safe\nmode = safe\n",
            "plan.conf:3: duplicate key 'mode' (first set on line 2)");
    refused(HEAD HEAD, "plan.conf:2: duplicate key 'grey-plan-version' (first set on line 1)");
}

Test(plan_errors, missing_version)
{
    refused("# only a comment\n\n", "plan.conf: missing 'grey-plan-version'");
}

Test(plan_errors, empty_file)
{
    refused("", "plan.conf: empty file: missing 'grey-plan-version'");
    refused("\n  \r\n\n", "plan.conf: empty file: missing 'grey-plan-version'");
}

Test(plan_errors, wrong_version)
{
    refused("grey-plan-version = 2\n",
            "plan.conf:1: grey-plan-version = 2 is not supported (this grey reads version 1)");
    refused("grey-plan-version = 0\n",
            "plan.conf:1: grey-plan-version = 0 is not supported (this grey reads version 1)");
    refused("grey-plan-version = 1.0\n",
            "plan.conf:1: grey-plan-version: '1.0' is not a version number");
    refused("grey-plan-version =\n", "plan.conf:1: 'grey-plan-version' has no value");
}

Test(plan_errors, key_or_section_before_version)
{
    refused("mode = safe\ngrey-plan-version = 1\n",
            "plan.conf:1: 'mode' before 'grey-plan-version' (the version must come first)");
    refused("# c\n[device 0]\n",
            "plan.conf:2: '[device 0]' before 'grey-plan-version' (the version must come first)");
}

Test(plan_errors, bad_size)
{
    refused(HEAD "[device 0]\nbudget = 1G\n\n\n\nprocess_cap = 12XB\n",
            "plan.conf:7: process_cap: unknown unit 'XB' in '12XB' "
            "(use B, KiB, MiB, GiB or TiB)");
    refused(HEAD "[device 0]\nvram = -5G\n",
            "plan.conf:3: vram: '-5G' is not a size: it must start with a digit (like 512MiB)");
    refused(HEAD "[device 0]\nbudget = 0\n",
            "plan.conf:3: budget: must be greater than zero (got '0')");
    refused(HEAD "[device 0]\nbudget =   # nothing\n", "plan.conf:3: 'budget' has no value");
}

Test(plan_errors, bad_mode)
{
    refused(HEAD "mode = fast\n",
            "plan.conf:2: mode: unknown mode 'fast' (use safe, balanced or aggressive)");
}

Test(plan_errors, missing_required_key_names_section_line)
{
    refused(HEAD "\n[device 0]\nbudget = 1G\n\n", "plan.conf:3: [device 0] is missing 'process_cap'");
    refused(HEAD "[device 0]\nprocess_cap = 1G\n[device 1]\nbudget = 1G\nprocess_cap = 1G\n",
            "plan.conf:2: [device 0] is missing 'budget'");
}

Test(plan_errors, cap_above_budget)
{
    refused(HEAD "[device 0]\nprocess_cap = 60GiB\nbudget = 50GiB\n",
            "plan.conf:3: [device 0] process_cap 60.0 GiB is larger than budget 50.0 GiB");
    /* one byte over is over; the message then shows the same rounded size twice */
    refused(HEAD "[device 0]\nbudget = 1073741824\nprocess_cap = 1073741825\n",
            "plan.conf:4: [device 0] process_cap 1.0 GiB is larger than budget 1.0 GiB");
}

Test(plan_errors, budget_above_vram)
{
    refused(HEAD "[device 3]\nbudget = 90GiB\nvram = 80GiB\nprocess_cap = 1GiB\n",
            "plan.conf:3: [device 3] budget 90.0 GiB is larger than vram 80.0 GiB");
    refused(HEAD "[device 3]\nvram = 1024\nbudget = 1025\nprocess_cap = 1\n",
            "plan.conf:4: [device 3] budget 1.0 KiB is larger than vram 1.0 KiB");
}

Test(plan_errors, strings)
{
    refused(HEAD "source = \"no end\n",
            "plan.conf:2: unterminated string in 'source' (a '\"' is missing)");
    refused(HEAD "source = \"bad \\n escape\"\n",
            "plan.conf:2: source: unknown escape in string (only \\\" and \\\\ are allowed)");
    refused(HEAD "source = \"a\" b\n",
            "plan.conf:2: source: unexpected text 'b' after the closing quote");
    char text[512];
    snprintf(text, sizeof text, HEAD "source = \"%0128d\"\n", 0);
    refused(text, "plan.conf:2: source: value longer than 127 characters");
}

Test(plan_errors, nul_byte)
{
    const char text[] = HEAD "mode = sa\0fe\n";
    refused_n(text, sizeof text - 1, "plan.conf:2: NUL byte in the file (a plan is text)");
}

Test(plan_errors, missing_equals)
{
    refused(HEAD "[device 0]\nbudget 1G\n",
            "plan.conf:3: missing '=' after 'budget' (expected 'key = value')");
    refused(HEAD "= 1G\n", "plan.conf:2: expected 'key = value', got '= 1G'");
}

Test(plan_errors, long_line)
{
    char text[2100];
    int n = snprintf(text, sizeof text, HEAD "# ");
    memset(text + n, 'x', 1021); /* "# " + 1021 = 1023 characters: the longest line */
    strcpy(text + n + 1021, "\n");
    parse_ok(text);
    strcpy(text + n + 1021, "y\n");
    refused(text, "plan.conf:2: line longer than 1023 characters");
}

Test(plan_errors, no_error_buffer_needed)
{
    struct grey_plan p;
    cr_assert_eq(grey_plan_parse("bad", 3, "x", &p, NULL, 0), -1);
    char tiny[5];
    cr_assert_eq(grey_plan_parse("bad", 3, "plan.conf", &p, tiny, sizeof tiny), -1);
    cr_assert_str_eq(tiny, "plan");
}

/* ---------------------------------------------------------------- loading files */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/grey-test-plan-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return path;
}

TestSuite(plan_load, .init = make_tmpdir, .fini = remove_tmpdir);

Test(plan_load, written_plan_loads)
{
    struct grey_plan want = sample_plan(), got;
    char *text = written(&want);
    const char *path = write_file("plan.conf", text, strlen(text));
    char err[512] = "";
    cr_assert_eq(grey_plan_load(path, &got, err, sizeof err), 0, "%s", err);
    got.admin = false; /* comes from the file's owner, not its text (root runs these tests too) */
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0);
    free(text);
}

Test(plan_load, missing_file)
{
    struct grey_plan p;
    char err[512], want[256], path[128];
    snprintf(path, sizeof path, "%s/nope.conf", tmpdir);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    cr_assert_eq(grey_plan_load(path, &p, err, sizeof err), -1);
    cr_assert_str_eq(err, want);
}

Test(plan_load, directory)
{
    struct grey_plan p;
    char err[512], want[256];
    snprintf(want, sizeof want, "%s: cannot open: Is a directory", tmpdir);
    cr_assert_eq(grey_plan_load(tmpdir, &p, err, sizeof err), -1);
    cr_assert_str_eq(err, want);
}

/* Many short lines: the file is read in chunks, so lines cross chunk boundaries. */
static char *big_plan(size_t total, size_t *len)
{
    static const char tail[] = "[device 0]\nbudget = 1G\nprocess_cap = 512M\n";
    char *buf = malloc(total + 1);
    cr_assert_not_null(buf);
    size_t o = (size_t)sprintf(buf, HEAD);
    while (o + 37 + sizeof tail - 1 <= total)
        o += (size_t)sprintf(buf + o, "# filler %026zu\n", o); /* 37 bytes a line */
    memset(buf + o, '#', total - o - (sizeof tail - 1));
    o = total - (sizeof tail - 1);
    buf[o - 1] = '\n';
    memcpy(buf + o, tail, sizeof tail);
    *len = total;
    return buf;
}

Test(plan_load, largest_file_is_accepted)
{
    size_t len;
    char *text = big_plan(GREY_PLAN_MAX_BYTES, &len);
    const char *path = write_file("big.conf", text, len);
    struct grey_plan p;
    char err[512] = "";
    cr_assert_eq(grey_plan_load(path, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.dev[0].process_cap, 512 * MiB);
    free(text);
}

Test(plan_load, oversized_file)
{
    size_t len;
    char *text = big_plan(GREY_PLAN_MAX_BYTES + 1, &len);
    const char *path = write_file("huge.conf", text, len);
    struct grey_plan p;
    char err[512], want[256];
    snprintf(want, sizeof want, "%s: larger than 256 KiB", path);
    cr_assert_eq(grey_plan_load(path, &p, err, sizeof err), -1);
    cr_assert_str_eq(err, want);
    free(text);
}

/* Loading and parsing must agree on every input, errors included. */
static void same_as_parse(const char *text, size_t len)
{
    const char *path = write_file("same.conf", text, len);
    struct grey_plan a, b;
    char ea[512] = "", eb[512] = "";
    int ra = grey_plan_parse(text, len, path, &a, ea, sizeof ea);
    int rb = grey_plan_load(path, &b, eb, sizeof eb);
    cr_assert_eq(ra, rb, "parse: %s / load: %s", ea, eb);
    cr_assert_str_eq(ea, eb);
    b.admin = false; /* the file's owner, not its text */
    if (ra == 0)
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}

Test(plan_load, agrees_with_parse)
{
    static const char nul[] = HEAD "[device 0]\n\0";
    same_as_parse(HEAD "[device 0]\r\nbudget = 1G\r\nprocess_cap = 1G", 54);
    same_as_parse(HEAD "[device 0]\nbudget = 1G\n", strlen(HEAD "[device 0]\nbudget = 1G\n"));
    same_as_parse(nul, sizeof nul - 1);
    same_as_parse("", 0);

    char text[3000];
    for (size_t n = 1022; n <= 1025; n++) { /* lines around the limit, last line unterminated */
        size_t o = (size_t)sprintf(text, HEAD "#");
        memset(text + o, 'x', n - 1);
        same_as_parse(text, o + n - 1);
        text[o + n - 1] = '\n';
        same_as_parse(text, o + n);
    }
}

/* ---------------------------------------------------------------- ledger keys, [user] and [group] */

Test(plan_principals, ledger_keys_and_sections_parse)
{
    struct grey_plan p = parse_ok(HEAD "ledger = \"/dev/shm/grey-node.ledger\"\nledger_group = gpu-users\n"
                                       "[device 0]\nbudget = 1GiB\nprocess_cap = 512MiB\n"
                                       "[user alice]   # a comment\nprocess_cap = 8GiB\n"
                                       "[ group  students ]\nprocess_cap = 4GiB\n[user 1001]\nprocess_cap = 1G\n");
    cr_assert_str_eq(p.ledger, "/dev/shm/grey-node.ledger");
    cr_assert_str_eq(p.ledger_group, "gpu-users");
    cr_assert_eq(p.nprincipals, 3);
    cr_assert_not(p.principal[0].is_group);
    cr_assert_str_eq(p.principal[0].name, "alice");
    cr_assert_eq(p.principal[0].process_cap, 8 * GiB);
    cr_assert(p.principal[1].is_group);
    cr_assert_str_eq(p.principal[1].name, "students");
    cr_assert_eq(p.principal[1].process_cap, 4 * GiB);
    cr_assert_str_eq(p.principal[2].name, "1001");
    cr_assert_eq(p.dev[0].process_cap, 512 * MiB, "device sections still parse around them");
    cr_assert_not(p.admin, "parsed text is never admin: only a root-owned file is");
}

Test(plan_principals, writer_round_trips_them)
{
    struct grey_plan want = sample_plan();
    snprintf(want.ledger, sizeof want.ledger, "/var/run/grey \"node\".ledger");
    snprintf(want.ledger_group, sizeof want.ledger_group, "gpu");
    snprintf(want.node_service, sizeof want.node_service, "/run/grey/noded.sock");
    want.watchdog = GREY_WATCHDOG_KILL;
    want.nprincipals = 2;
    want.principal[0] = (struct grey_plan_principal){.is_group = false, .name = "bob", .process_cap = 3 * GiB};
    want.principal[1] = (struct grey_plan_principal){.is_group = true, .name = "ml.team", .process_cap = 5 * GiB + 1};
    char *text = written(&want);
    struct grey_plan got = parse_ok(text);
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "round trip differs:\n%s", text);
    free(text);
}

Test(plan_principals, node_service_and_watchdog)
{
    struct grey_plan p = parse_ok(HEAD "node_service = \"/run/grey/noded.sock\"\nwatchdog = signal\n");
    cr_assert_str_eq(p.node_service, "/run/grey/noded.sock");
    cr_assert_eq(p.watchdog, GREY_WATCHDOG_SIGNAL);
    cr_assert_eq(parse_ok(HEAD "watchdog = kill\n").watchdog, GREY_WATCHDOG_KILL);
    struct grey_plan d = parse_ok(HEAD);
    cr_assert_str_eq(d.node_service, "", "no service unless the plan names one");
    cr_assert_eq(d.watchdog, GREY_WATCHDOG_LOG, "the watchdog only logs unless told otherwise");
    refused(HEAD "node_service = run/noded.sock\n",
            "plan.conf:2: node_service: 'run/noded.sock' is not an absolute path of at most 107 characters");
    char longer[400];
    snprintf(longer, sizeof longer, HEAD "node_service = /%0108d\n", 0);
    struct grey_plan out;
    char err[256];
    cr_assert_eq(grey_plan_parse(longer, strlen(longer), "plan.conf", &out, err, sizeof err), -1,
                 "a path sun_path cannot hold is refused");
    refused(HEAD "watchdog = shoot\n", "plan.conf:2: watchdog: unknown policy 'shoot' (use log, signal or kill)");
    refused(HEAD "watchdog = log\nwatchdog = kill\n", "plan.conf:3: duplicate key 'watchdog' (first set on line 2)");
}

Test(plan_principals, errors_name_file_and_line)
{
    refused(HEAD "ledger = grey.ledger\n", "plan.conf:2: ledger: 'grey.ledger' is not an absolute path");
    refused(HEAD "ledger_group = gpu\n",
            "plan.conf:2: ledger_group without ledger (the group owns the ledger file the plan names)");
    refused(HEAD "ledger = /x\nledger_group = \"a b\"\n", "plan.conf:3: ledger_group: 'a b' is not a group name");
    refused(HEAD "ledger = /x\nledger = /y\n", "plan.conf:3: duplicate key 'ledger' (first set on line 2)");
    refused(HEAD "[user alice]\n\n[device 0]\nbudget = 1G\nprocess_cap = 1G\n",
            "plan.conf:2: [user alice] is missing 'process_cap' or 'weight'");
    refused(HEAD "[group gpu]\n", "plan.conf:2: [group gpu] is missing 'process_cap' or 'weight'");
    refused(HEAD "[user alice]\nprocess_cap = 1G\n[user alice]\nprocess_cap = 2G\n",
            "plan.conf:4: duplicate section [user alice] (first on line 2)");
    refused(HEAD "[user alice]\nbudget = 1G\n",
            "plan.conf:3: unknown key 'budget' in [user alice] (only process_cap and weight are allowed there)");
    refused(HEAD "[group gpu]\nprocess_cap = 1G\nprocess_cap = 2G\n",
            "plan.conf:4: duplicate key 'process_cap' in [group gpu] (first set on line 3)");
    refused(HEAD "[user al/ice]\n",
            "plan.conf:2: bad user name 'al/ice' in '[user al/ice]' (letters, digits, '_', '.', '-', at most 32 "
            "characters)");
    refused(HEAD "[group -x]\n",
            "plan.conf:2: bad group name '-x' in '[group -x]' (letters, digits, '_', '.', '-', at most 32 "
            "characters)");
    refused("[user alice]\n", "plan.conf:1: '[user alice]' before 'grey-plan-version' (the version must come first)");
    refused(HEAD "[user alice]\nprocess_cap = 0\n",
            "plan.conf:3: process_cap: must be greater than zero (got '0')");
    struct grey_plan p;
    char err[512];
    cr_assert_eq(grey_plan_parse(HEAD "[user alice]\nprocess_cap = 12XB\n", strlen(HEAD) + 32, "plan.conf", &p, err,
                                 sizeof err), -1);
    cr_assert(strncmp(err, "plan.conf:3: process_cap: ", 26) == 0, "message was: %s", err);
    refused(HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\nledger = /x\n",
            "plan.conf:5: key 'ledger' in [device 0] (it belongs before the first section)");
}

Test(plan_principals, at_most_32_sections)
{
    char text[8192];
    size_t o = (size_t)sprintf(text, HEAD);
    for (int i = 0; i < GREY_PLAN_PRINCIPALS; i++)
        o += (size_t)sprintf(text + o, "[user u%d]\nprocess_cap = 1G\n", i);
    parse_ok(text);
    sprintf(text + o, "[group g]\nprocess_cap = 1G\n");
    refused(text, "plan.conf:66: too many [user]/[group] sections (at most 32)");
}

Test(plan_principals, admin_is_root_owned_and_not_writable_by_others)
{
    cr_assert(grey_plan_file_is_admin(0, 0100644));
    cr_assert(grey_plan_file_is_admin(0, 0100400));
    cr_assert_not(grey_plan_file_is_admin(0, 0100664), "group-writable: a group member could have written it");
    cr_assert_not(grey_plan_file_is_admin(0, 0100646), "world-writable");
    cr_assert_not(grey_plan_file_is_admin(1000, 0100644), "a user's own file");
}

Test(plan_load, only_the_admin_layer_makes_admin_plans)
{
    static const char text[] = HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\n";
    const char *path = write_file("admin.conf", text, strlen(text));
    struct grey_plan p;
    char err[512] = "";
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(grey_plan_load(path, &p, err, sizeof err), 0, "%s", err);
    /* Whoever owns it (root, when these tests run as root), a plan named by GREY_PLAN / --plan
     * is a user's plan: running as root must not turn it into a ceiling. */
    cr_assert_not(p.admin, "grey_plan_load never makes an admin plan");

    struct stat st;
    if (stat(GREY_ADMIN_PLAN_PATH, &st) == 0)
        cr_skip_test("%s exists: GREY_ADMIN_PLAN cannot stand in for it here", GREY_ADMIN_PLAN_PATH);
    setenv("GREY_ADMIN_PLAN", path, 1);
    cr_assert_str_eq(settings_now()->admin_plan, path);
    cr_assert_eq(grey_plan_load_admin(settings_now()->admin_plan, &p, err, sizeof err), 1, "%s", err);
    /* Root writes root-owned files: admin exactly when these tests run as root. */
    cr_assert_eq(p.admin, geteuid() == 0);
    cr_assert_eq(chmod(path, 0666), 0);
    cr_assert_eq(grey_plan_load_admin(settings_now()->admin_plan, &p, err, sizeof err), 1, "%s", err);
    cr_assert_not(p.admin, "a file others may write is nobody's admin plan");
    cr_assert_eq(p.dev[0].process_cap, 1ULL << 30, "but it is still read");
    char absent_admin[160];
    snprintf(absent_admin, sizeof absent_admin, "%s/none/admin.conf", tmpdir);
    setenv("GREY_ADMIN_PLAN", absent_admin, 1);
    cr_assert_eq(grey_plan_load_admin(settings_now()->admin_plan, &p, err, sizeof err), 0, "no admin plan: no layer");
    unsetenv("GREY_ADMIN_PLAN");
    cr_assert_str_eq(settings_now()->admin_plan, GREY_ADMIN_PLAN_PATH);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/absent.conf", tmpdir);
    cr_assert_eq(grey_plan_load_optional(missing, &p, err, sizeof err), 0, "an absent optional plan is no plan");
    cr_assert_eq(grey_plan_load_optional(path, &p, err, sizeof err), 1);
    write_file("bad.conf", "grey-plan-version = 2\n", 22);
    snprintf(missing, sizeof missing, "%s/bad.conf", tmpdir);
    cr_assert_eq(grey_plan_load_optional(missing, &p, err, sizeof err), -1, "a present but bad plan is an error");
}

Test(plan_load, the_user_layer_path)
{
    const struct grey_settings *set;
    unsetenv("GREY_PLAN");
    setenv("XDG_CONFIG_HOME", "/xdg", 1);
    setenv("HOME", "/home/alice", 1);
    set = settings_now();
    cr_assert(set->have_user_plan);
    cr_assert_str_eq(set->user_plan, "/xdg/grey/plan.conf");
    cr_assert_not(set->user_plan_required, "a config file is used only when it exists");
    setenv("XDG_CONFIG_HOME", "relative", 1); /* the XDG spec says to ignore it */
    set = settings_now();
    cr_assert(set->have_user_plan);
    cr_assert_str_eq(set->user_plan, "/home/alice/.config/grey/plan.conf");
    unsetenv("XDG_CONFIG_HOME");
    setenv("GREY_PLAN", "/tmp/mine.conf", 1);
    set = settings_now();
    cr_assert(set->have_user_plan);
    cr_assert_str_eq(set->user_plan, "/tmp/mine.conf", "GREY_PLAN comes before the config file");
    cr_assert(set->user_plan_required, "a plan the user named must exist");
    unsetenv("GREY_PLAN");
    unsetenv("HOME");
    cr_assert_not(settings_now()->have_user_plan, "no HOME: no user layer");
    static char long_home[GREY_SETTINGS_PATH_MAX];
    memset(long_home, 'h', sizeof long_home - 1);
    long_home[0] = '/';
    setenv("HOME", long_home, 1);
    cr_assert_not(settings_now()->have_user_plan, "a path that does not fit is refused");
    setenv("HOME", "/home/alice", 1);
}

/* ---------------------------------------------------------------- hints, inputs and KEY.why */

#define HINTED HEAD "mode = aggressive\n" \
    "tenants = 4\n" \
    "tenants.why = 0.9 \"asked for with --tenants 4\"\n" \
    "workload = inference\n" \
    "model_size = 7GiB\n" \
    "default_weight = 2\n" \
    "confidence = 0.875\n" \
    "[device 3]\n" \
    "vram = 24GiB\n" \
    "budget = 20GiB\n" \
    "budget.why = 0.95 \"90% of VRAM # not a comment, \\\"quoted\\\"\"\n" \
    "process_cap = 10GiB   # a comment\n" \
    "throttle_temp = 87\n" \
    "cooldown_temp = 84\n" \
    "cooldown_temp.why=1 \"3 C below throttle\"   # comment after\n" \
    "shutdown_temp = 92\n" \
    "batch_size = 64\n" \
    "chunk_size = 1GiB\n" \
    "chunk_size.why = 0.4 \"a guess\"\n" \
    "[user bob]\n" \
    "process_cap = 2GiB\n" \
    "process_cap.why = 0 \"the admin said so\"\n"

Test(plan_hints, every_new_key_parses)
{
    struct grey_plan p = parse_ok(HINTED);
    cr_assert_eq(p.tenants, 4);
    cr_assert_eq(p.workload, GREY_WORKLOAD_INFERENCE);
    cr_assert_eq(p.model_size, 7 * GiB);
    cr_assert_eq(p.default_weight, 2);
    cr_assert(p.has_confidence);
    cr_assert_eq(p.confidence, 875);
    cr_assert_eq(p.dev[3].throttle_temp, 87);
    cr_assert_eq(p.dev[3].cooldown_temp, 84);
    cr_assert_eq(p.dev[3].shutdown_temp, 92);
    cr_assert_eq(p.dev[3].batch_size, 64);
    cr_assert_eq(p.dev[3].chunk_size, GiB);
    struct grey_plan bare = parse_ok(HEAD);
    cr_assert_eq(bare.tenants + bare.default_weight + bare.dev[0].batch_size, 0, "absent hints are 0");
    cr_assert_not(bare.has_confidence);
}

Test(plan_hints, why_lines_are_collected_only_when_asked)
{
    static struct grey_plan_notes notes;
    struct grey_plan p;
    char err[512] = "";
    cr_assert_eq(grey_plan_parse_notes(HINTED, strlen(HINTED), "plan.conf", &p, &notes, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(notes.n, 5);
    const struct grey_plan_why *w = grey_plan_why_find(&notes, 3, "budget");
    cr_assert_not_null(w);
    cr_assert_eq(w->confidence, 950);
    cr_assert_str_eq(w->reason, "90% of VRAM # not a comment, \"quoted\"");
    cr_assert_eq(w->line, 12);
    w = grey_plan_why_find(&notes, 3, "cooldown_temp");
    cr_assert(w && w->confidence == 1000 && strcmp(w->reason, "3 C below throttle") == 0);
    w = grey_plan_why_find(&notes, GREY_PLAN_WHY_TOP, "tenants");
    cr_assert(w && w->confidence == 900);
    w = grey_plan_why_find(&notes, GREY_PLAN_WHY_PRINCIPAL + 0, "process_cap");
    cr_assert(w && w->confidence == 0 && strcmp(w->reason, "the admin said so") == 0);
    cr_assert_null(grey_plan_why_find(&notes, 3, "process_cap"));
    cr_assert_null(grey_plan_why_find(&notes, 0, "budget"));
    /* The same text without notes: the same plan. */
    struct grey_plan q = parse_ok(HINTED);
    cr_assert_eq(memcmp(&p, &q, sizeof p), 0);
}

Test(plan_hints, writer_round_trips_hints_and_why_lines)
{
    static struct grey_plan_notes notes, again;
    struct grey_plan p, q;
    char err[512] = "";
    cr_assert_eq(grey_plan_parse_notes(HINTED, strlen(HINTED), "plan.conf", &p, &notes, err, sizeof err), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(grey_plan_write_notes(f, &p, &notes), 0);
    fclose(f);
    cr_assert_eq(grey_plan_parse_notes(text, len, "w.conf", &q, &again, err, sizeof err), 0, "%s\n%s", err, text);
    cr_assert_eq(memcmp(&p, &q, sizeof p), 0, "round trip changed the plan:\n%s", text);
    cr_assert_eq(again.n, notes.n, "%s", text);
    for (unsigned i = 0; i < notes.n; i++) {
        const struct grey_plan_why *a = &notes.why[i];
        const struct grey_plan_why *b = grey_plan_why_find(&again, a->section, a->key);
        cr_assert_not_null(b, "%s.why lost:\n%s", a->key, text);
        cr_assert_eq(a->confidence, b->confidence);
        cr_assert_str_eq(a->reason, b->reason);
    }
    cr_assert(strstr(text, "\nbudget.why = 0.95 \"90% of VRAM # not a comment, \\\"quoted\\\"\"\n") != NULL,
              "the .why line follows its key:\n%s", text);
    cr_assert(strstr(text, "workload = inference") != NULL, "%s", text);
    free(text);
}

Test(plan_hints, confidence_format)
{
    char b[16];
    cr_assert_str_eq(grey_plan_confidence_format(0, b, sizeof b), "0");
    cr_assert_str_eq(grey_plan_confidence_format(1000, b, sizeof b), "1");
    cr_assert_str_eq(grey_plan_confidence_format(1500, b, sizeof b), "1");
    cr_assert_str_eq(grey_plan_confidence_format(500, b, sizeof b), "0.5");
    cr_assert_str_eq(grey_plan_confidence_format(930, b, sizeof b), "0.93");
    cr_assert_str_eq(grey_plan_confidence_format(5, b, sizeof b), "0.005");
    cr_assert_str_eq(grey_plan_confidence_format(905, b, sizeof b), "0.905");
}

Test(plan_hints, why_set_replaces_and_keeps_one_line)
{
    static struct grey_plan_notes n;
    n.n = 0;
    cr_assert_eq(grey_plan_why_set(&n, 0, "budget", 700, "first"), 0);
    cr_assert_eq(grey_plan_why_set(&n, 0, "budget", 2000, "second\nline"), 0);
    cr_assert_eq(n.n, 1);
    cr_assert_eq(n.why[0].confidence, 1000);
    cr_assert_str_eq(n.why[0].reason, "second line");
    cr_assert_eq(grey_plan_why_set(&n, 0, "a_key_name_that_is_far_too_long", 1, "x"), -1);
}

#define DEV0 HEAD "[device 0]\nbudget = 2GiB\nprocess_cap = 1GiB\n"

Test(plan_hints, errors_name_file_and_line)
{
    refused(HEAD "tenants = 0\n", "plan.conf:2: tenants: 0 is out of range (1..1024)");
    refused(HEAD "tenants = 4x\n", "plan.conf:2: tenants: '4x' is not a whole number");
    refused(HEAD "tenants = 99999999999999999999\n",
            "plan.conf:2: tenants: 99999999999999999999 is out of range (1..1024)");
    refused(HEAD "workload = serving\n",
            "plan.conf:2: workload: unknown workload 'serving' (use training or inference)");
    refused(HEAD "model_size = 7XB\n", "plan.conf:2: model_size: unknown unit 'XB' in '7XB' (use B, KiB, MiB, GiB or TiB)");
    refused(HEAD "default_weight = 0\n", "plan.conf:2: default_weight: 0 is out of range (1..10000)");
    refused(HEAD "confidence = 1.5\n", "plan.conf:2: confidence: '1.5' is not a confidence from 0 to 1 (e.g. 0.85)");
    refused(HEAD "confidence = 0.1234\n",
            "plan.conf:2: confidence: '0.1234' is not a confidence from 0 to 1 (e.g. 0.85)");
    refused(HEAD "confidence = -0\n", "plan.conf:2: confidence: '-0' is not a confidence from 0 to 1 (e.g. 0.85)");
    refused(DEV0 "throttle_temp = 151\n", "plan.conf:5: throttle_temp: 151 is out of range (1..150)");
    refused(DEV0 "batch_size = 0\n", "plan.conf:5: batch_size: 0 is out of range (1..1048576)");
    refused(DEV0 "chunk_size = 2GiB\n", "plan.conf:5: [device 0] chunk_size 2.0 GiB is larger than process_cap 1.0 GiB");
    refused(DEV0 "throttle_temp = 80\ncooldown_temp = 80\n",
            "plan.conf:6: [device 0] cooldown_temp 80 is not below throttle_temp 80");
    refused(DEV0 "shutdown_temp = 70\nthrottle_temp = 80\n",
            "plan.conf:5: [device 0] shutdown_temp 70 is not above throttle_temp 80");
    refused(DEV0 "tenants = 2\n", "plan.conf:5: key 'tenants' in [device 0] (it belongs before the first section)");
    refused(HEAD "batch_size = 2\n", "plan.conf:2: key 'batch_size' outside a section (it belongs in a [device N] section)");
}

Test(plan_hints, why_errors_name_file_and_line)
{
    refused(DEV0 "budget.why = 0.5 \"a\"\nbudget.why = 0.6 \"b\"\n",
            "plan.conf:6: duplicate 'budget.why' in [device 0] (first on line 5)");
    refused(DEV0 "budgit.why = 0.5 \"a\"\n",
            "plan.conf:5: 'budgit.why' explains 'budgit', which is not a key of [device 0]");
    refused(DEV0 "vram.why = 0.5 \"a\"\n",
            "plan.conf:5: 'vram.why' explains 'vram', which [device 0] does not set");
    refused(HEAD "mode.why = 0.5 \"a\"\n", "plan.conf:2: 'mode.why' explains 'mode', which the top level does not set");
    refused(HEAD "grey-plan-version.why = 1 \"a\"\n",
            "plan.conf:2: 'grey-plan-version.why' explains 'grey-plan-version', which is not a key of the top level");
    refused("mode.why = 1 \"a\"\n" HEAD,
            "plan.conf:1: 'mode.why' before 'grey-plan-version' (the version must come first)");
    refused(DEV0 "budget.why = 2 \"a\"\n",
            "plan.conf:5: 'budget.why' must start with a confidence from 0 to 1 (e.g. 0.85), then a quoted reason");
    refused(DEV0 "budget.why = 0.5a \"a\"\n",
            "plan.conf:5: 'budget.why' must start with a confidence from 0 to 1 (e.g. 0.85), then a quoted reason");
    refused(DEV0 "budget.why = 0.5 reason\n", "plan.conf:5: 'budget.why' needs a quoted reason after the confidence");
    refused(DEV0 "budget.why = 0.5\n", "plan.conf:5: 'budget.why' needs a quoted reason after the confidence");
    refused(DEV0 "budget.why = 0.5 \"\"\n", "plan.conf:5: 'budget.why' has an empty reason");
    refused(DEV0 "budget.why = 0.5 \"open\n", "plan.conf:5: unterminated string in 'budget.why' (a '\"' is missing)");
    refused(DEV0 "budget.why = 0.5 \"a\" tail\n", "plan.conf:5: budget.why: unexpected text 'tail' after the closing quote");
    refused(DEV0 "budget.why 0.5 \"a\"\n", "plan.conf:5: missing '=' after 'budget.why'");
    refused(DEV0 "budget.whynot = 1\n", "plan.conf:5: missing '=' after 'budget' (expected 'key = value')");
    char big[600];
    snprintf(big, sizeof big, DEV0 "budget.why = 1 \"%0300d\"\n", 0);
    refused(big, "plan.conf:5: budget.why: value longer than 239 characters");
}

Test(plan_hints, control_characters_in_reasons_are_refused)
{
    refused(DEV0 "budget.why = 0.5 \"a\rb\"\n", "plan.conf:5: 'budget.why': control character 0x0d in the reason");
    struct grey_plan p = parse_ok(DEV0 "budget.why = 0.5 \"a\tb\"\n");
    cr_assert_eq(p.dev[0].budget, 2 * GiB);
}

/* ------------------------------------------------------------------ fair-share weights */

Test(plan_weights, device_and_principal_weights_parse)
{
    struct grey_plan p = parse_ok(HEAD "default_weight = 2\n[device 0]\nbudget = 1GiB\nprocess_cap = 512MiB\nweight = 3\n"
                                       "[device 1]\nbudget = 1GiB\nprocess_cap = 512MiB\n"
                                       "[user alice]\nweight = 8\n"
                                       "[group students]\nprocess_cap = 4GiB\nweight = 1\n");
    cr_assert_eq(p.default_weight, 2);
    cr_assert_eq(p.dev[0].weight, 3);
    cr_assert_eq(p.dev[1].weight, 0, "a device without a weight key has none");
    cr_assert_eq(p.principal[0].weight, 8);
    cr_assert_eq(p.principal[0].process_cap, UINT64_MAX, "a weight-only section caps nothing");
    cr_assert_eq(p.principal[1].weight, 1);
    cr_assert_eq(p.principal[1].process_cap, 4 * GiB);
}

Test(plan_weights, bad_weights_name_file_and_line)
{
    refused(HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\nweight = 0\n",
            "plan.conf:5: weight: 0 is out of range (1..10000)");
    refused(HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\nweight = 10001\n",
            "plan.conf:5: weight: 10001 is out of range (1..10000)");
    refused(HEAD "[user bob]\nweight = heavy\n", "plan.conf:3: weight: 'heavy' is not a whole number");
    refused(HEAD "[user bob]\nweight = 2\nweight = 3\n",
            "plan.conf:4: duplicate key 'weight' in [user bob] (first set on line 3)");
    refused(HEAD "[device 0]\nbudget = 1G\nprocess_cap = 1G\nweight = 2\nweight = 2\n",
            "plan.conf:6: duplicate key 'weight' in [device 0] (first set on line 5)");
}

Test(plan_weights, writer_round_trips_weights)
{
    struct grey_plan want = sample_plan();
    want.dev[0].weight = 5;
    want.nprincipals = 2;
    want.principal[0] = (struct grey_plan_principal){.is_group = false, .process_cap = UINT64_MAX, .weight = 7};
    snprintf(want.principal[0].name, sizeof want.principal[0].name, "alice");
    want.principal[1] = (struct grey_plan_principal){.is_group = true, .process_cap = 2 * GiB, .weight = 2};
    snprintf(want.principal[1].name, sizeof want.principal[1].name, "gpu");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(grey_plan_write(f, &want), 0);
    fclose(f);
    struct grey_plan got = parse_ok(buf);
    cr_assert_eq(got.dev[0].weight, 5);
    cr_assert_eq(got.nprincipals, 2);
    cr_assert_eq(got.principal[0].weight, 7);
    cr_assert_eq(got.principal[0].process_cap, UINT64_MAX);
    cr_assert_eq(got.principal[1].weight, 2);
    cr_assert_eq(got.principal[1].process_cap, 2 * GiB);
    cr_assert(strstr(buf, "weight = 5") != NULL, "written:\n%s", buf);
    free(buf);
}

Test(plan_hints, why_lines_for_weights)
{
    static struct grey_plan_notes notes;
    static const char text[] = HEAD "[device 0]\nbudget = 2GiB\nprocess_cap = 1GiB\nweight = 3\n"
                                    "weight.why = 0.8 \"three shares\"\n[user bob]\nweight = 2\n"
                                    "weight.why = 1 \"bob's team pays for two\"\n";
    struct grey_plan p;
    char err[512] = "";
    cr_assert_eq(grey_plan_parse_notes(text, strlen(text), "plan.conf", &p, &notes, err, sizeof err), 0, "%s", err);
    const struct grey_plan_why *w = grey_plan_why_find(&notes, GREY_PLAN_WHY_PRINCIPAL, "weight");
    cr_assert(w && w->confidence == 1000 && strcmp(w->reason, "bob's team pays for two") == 0);
    cr_assert_not_null(grey_plan_why_find(&notes, 0, "weight"));
    refused(HEAD "[user bob]\nweight = 2\nprocess_cap.why = 1 \"x\"\n",
            "plan.conf:4: 'process_cap.why' explains 'process_cap', which [user bob] does not set");
    refused(HEAD "[user bob]\nprocess_cap = 1GiB\nweight.why = 1 \"x\"\nweight.why = 1 \"y\"\n",
            "plan.conf:5: duplicate 'weight.why' in [user bob] (first on line 4)");
}

Test(plan_parse, max_lead)
{
    struct grey_plan p = parse_ok("grey-plan-version = 1\nmax_lead = 20ms\n");
    cr_assert(p.has_max_lead);
    cr_assert_eq(p.max_lead_ns, 20000000ull);
    p = parse_ok("grey-plan-version = 1\nmax_lead = 0\n");
    cr_assert(p.has_max_lead, "0 is given (no bound), not absent");
    cr_assert_eq(p.max_lead_ns, 0);
    p = parse_ok("grey-plan-version = 1\n");
    cr_assert(!p.has_max_lead);
    refused("grey-plan-version = 1\nmax_lead = 20\n", "plan.conf:2: max_lead: '20' has no unit (use ns, us, ms or s)");
    refused("grey-plan-version = 1\nmax_lead = 2min\n", "plan.conf:2: max_lead: unknown unit 'min' in '2min' (use ns, us, ms or s)");
    refused("grey-plan-version = 1\n[device 0]\nmax_lead = 5ms\n", "plan.conf:3: key 'max_lead' in [device 0] (it belongs before the first section)");
}

Test(plan_write, max_lead_round_trip)
{
    struct grey_plan want = sample_plan();
    want.has_max_lead = true;
    want.max_lead_ns = 1500000; /* not a whole ms: written as 1500us */
    char *text = written(&want);
    cr_assert(strstr(text, "max_lead = 1500us"), "%s", text);
    struct grey_plan got = parse_ok(text);
    cr_assert(got.has_max_lead);
    cr_assert_eq(got.max_lead_ns, 1500000);
    cr_assert_eq(memcmp(&got, &want, sizeof got), 0, "round trip changed the plan:\n%s", text);
}
