/* The plan file's parser: strict and allocation-free.
 *
 * The parser runs inside foreign processes (the hook loads the plan at init), so it allocates
 * nothing, keeps no static state and uses no FILE streams: text goes through a line-at-a-time
 * state machine (struct grey_plan_parser, plan_parser.h) that both grey_plan_parse (text in memory) and grey_plan_load
 * (a file read in small chunks) feed. grey_plan_load reads instead of mmap-ing because a plan
 * truncated by an editor while a process maps it would raise SIGBUS inside the host program
 * (plan_load.c).
 *
 * Lines longer than PLAN_LINE_MAX are refused by both entry points, so the same text gives the
 * same answer whether it comes from memory or from a file (the file reader needs a bounded line
 * buffer on the stack). */
#include "duration.h"
#include "plan_parser.h"
#include "thermal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_gpu.h"
#include "size.h"

#define VERSION_KEY GREY_PLAN_VERSION_KEY

/* A view of part of a line: not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

static const char *const dev_key_names[DK_COUNT] = {"name", "vram", "budget", "process_cap",
                                                    "throttle_temp", "cooldown_temp", "shutdown_temp",
                                                    "batch_size", "chunk_size", "weight", "uuid",
                                                    "pci_bus_id"};
static const char *const top_key_names[TK_COUNT] = {VERSION_KEY, "mode", "source", "ledger",
                                                    "ledger_group", "tenants", "workload",
                                                    "model_size", "default_weight", "confidence",
                                                    "max_lead", "thermal", "node_service", "watchdog"};

/* ---------------------------------------------------------------- errors */

/* Writes "FILE:LINE: reason" (or "FILE: reason" when line is 0) and returns -1. */
int grey_plan_parser_fail(struct grey_plan_parser *ps, unsigned line, const char *fmt, ...)
{
    if (!ps->err || ps->errlen == 0)
        return -1;
    int n = line ? snprintf(ps->err, ps->errlen, "%s:%u: ", ps->file, line)
                 : snprintf(ps->err, ps->errlen, "%s: ", ps->file);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Messages quote at most this much of what the user wrote, so one bad line cannot flood them. */
#define QUOTE_MAX 64
#define SPAN_ARG(s) (int)((s).n < QUOTE_MAX ? (s).n : QUOTE_MAX), (s).p

/* ---------------------------------------------------------------- small helpers */

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* User and group names (or numeric ids): what useradd accepts, minus the trailing '$'. */
static bool valid_principal_name(const char *p, size_t n)
{
    if (n == 0 || n >= GREY_PRINCIPAL_NAME_MAX || p[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_key_char(p[i]) && p[i] != '.')
            return false;
    return true;
}

static struct span trim(struct span s)
{
    while (s.n > 0 && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool span_eq(struct span s, const char *word)
{
    size_t n = strlen(word);
    return s.n == n && memcmp(s.p, word, n) == 0;
}

/* Drops a '#' comment. Only for lines without quoted strings; values handle their own. */
static struct span strip_comment(struct span s)
{
    const char *hash = memchr(s.p, '#', s.n);
    if (hash)
        s.n = (size_t)(hash - s.p);
    return trim(s);
}

/* ---------------------------------------------------------------- values */

/* Extracts a value into buf (NUL-terminated): either a quoted string, where only \" and \\ are
 * escapes, or bare text up to a '#' comment with surrounding blanks dropped. Nothing but blanks
 * and a comment may follow a closing quote. */
static int read_value(struct grey_plan_parser *ps, struct span key, struct span v, char *buf, size_t len)
{
    v = trim(v);
    size_t o = 0;
    if (v.n > 0 && v.p[0] == '"') {
        size_t i = 1;
        for (;; i++) {
            if (i >= v.n)
                return grey_plan_parser_fail(ps, ps->line, "unterminated string in '%.*s' (a '\"' is missing)",
                               SPAN_ARG(key));
            char c = v.p[i];
            if (c == '"')
                break;
            if (c == '\\') {
                if (i + 1 >= v.n || (v.p[i + 1] != '"' && v.p[i + 1] != '\\'))
                    return grey_plan_parser_fail(ps, ps->line,
                                   "%.*s: unknown escape in string (only \\\" and \\\\ are allowed)",
                                   SPAN_ARG(key));
                c = v.p[++i];
            }
            if (o + 1 >= len)
                return grey_plan_parser_fail(ps, ps->line, "%.*s: value longer than %zu characters",
                               SPAN_ARG(key), len - 1);
            buf[o++] = c;
        }
        struct span rest = trim((struct span){v.p + i + 1, v.n - i - 1});
        if (rest.n > 0 && rest.p[0] != '#')
            return grey_plan_parser_fail(ps, ps->line, "%.*s: unexpected text '%.*s' after the closing quote",
                           SPAN_ARG(key), SPAN_ARG(rest));
    } else {
        v = strip_comment(v);
        if (v.n == 0)
            return grey_plan_parser_fail(ps, ps->line, "'%.*s' has no value", SPAN_ARG(key));
        if (v.n + 1 > len)
            return grey_plan_parser_fail(ps, ps->line, "%.*s: value longer than %zu characters",
                           SPAN_ARG(key), len - 1);
        memcpy(buf, v.p, v.n);
        o = v.n;
    }
    buf[o] = '\0';
    return 0;
}

static int parse_size_value(struct grey_plan_parser *ps, const char *key, const char *text, uint64_t *out)
{
    char why[160];
    if (grey_size_parse(text, out, why, sizeof why) != 0)
        return grey_plan_parser_fail(ps, ps->line, "%s: %s", key, why);
    if (*out == 0)
        return grey_plan_parser_fail(ps, ps->line, "%s: must be greater than zero (got '%s')", key, text);
    return 0;
}

/* A whole number in min..max, digits only ("89", not "89C" or "+89"). */
static int parse_uint_value(struct grey_plan_parser *ps, const char *key, const char *text, unsigned min,
                            unsigned max, unsigned *out)
{
    unsigned long v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++)
        if (v <= max) /* saturate: any huge number is just out of range */
            v = v * 10 + (unsigned long)(*p - '0');
    if (p == text || *p)
        return grey_plan_parser_fail(ps, ps->line, "%s: '%s' is not a whole number", key, text);
    if (v < min || v > max)
        return grey_plan_parser_fail(ps, ps->line, "%s: %s is out of range (%u..%u)", key, text, min, max);
    *out = (unsigned)v;
    return 0;
}

/* A confidence: "0", "1", "0.d", "0.dd", "0.ddd" or "1.0", "1.00", "1.000"; stored in permille so
 * the parser needs no floating point. Returns the end of the number in *end (blanks may follow). */
static int parse_confidence(const char *p, size_t n, unsigned *permille, size_t *used)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    unsigned v = (unsigned)(p[0] - '0') * 1000, scale = 100;
    size_t i = 1;
    if (i < n && p[i] == '.') {
        i++;
        size_t digits = 0;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
            if (digits >= 3)
                return -1;
            v += (unsigned)(p[i] - '0') * scale;
            scale /= 10;
        }
        if (digits == 0)
            return -1;
    }
    if (v > 1000)
        return -1;
    *permille = v;
    *used = i;
    return 0;
}

static int parse_confidence_value(struct grey_plan_parser *ps, const char *key, const char *text, unsigned *out)
{
    size_t used = 0, n = strlen(text);
    if (parse_confidence(text, n, out, &used) != 0 || used != n)
        return grey_plan_parser_fail(ps, ps->line, "%s: '%s' is not a confidence from 0 to 1 (e.g. 0.85)", key, text);
    return 0;
}

/* ---------------------------------------------------------------- keys */

static int set_top_key(struct grey_plan_parser *ps, struct span key, const char *value)
{
    int k = -1;
    for (int i = 0; i < TK_COUNT; i++)
        if (span_eq(key, top_key_names[i]))
            k = i;
    if (k < 0) {
        for (int i = 0; i < DK_COUNT; i++)
            if (span_eq(key, dev_key_names[i]))
                return grey_plan_parser_fail(ps, ps->line,
                               "key '%.*s' outside a section (it belongs in a [device N] section)",
                               SPAN_ARG(key));
        return grey_plan_parser_fail(ps, ps->line, "unknown key '%.*s' at the top level", SPAN_ARG(key));
    }
    if (ps->top_line[k])
        return grey_plan_parser_fail(ps, ps->line, "duplicate key '%s' (first set on line %u)", top_key_names[k],
                       ps->top_line[k]);
    if (k != TK_VERSION && !ps->top_line[TK_VERSION])
        return grey_plan_parser_fail(ps, ps->line, "'%s' before '" VERSION_KEY "' (the version must come first)",
                       top_key_names[k]);
    ps->top_line[k] = ps->line;

    switch (k) {
    case TK_LEDGER:
        /* Relative paths would name a different file for every working directory. */
        if (value[0] != '/')
            return grey_plan_parser_fail(ps, ps->line, "ledger: '%s' is not an absolute path", value);
        snprintf(ps->out->ledger, sizeof ps->out->ledger, "%s", value);
        return 0;
    case TK_NODE_SERVICE:
        /* A socket path must fit sockaddr_un's sun_path (108 bytes with its NUL). */
        if (value[0] != '/' || strlen(value) >= GREY_NODE_SERVICE_MAX)
            return grey_plan_parser_fail(ps, ps->line, "node_service: '%s' is not an absolute path of at most %d "
                                         "characters", value, GREY_NODE_SERVICE_MAX - 1);
        memcpy(ps->out->node_service, value, strlen(value) + 1);
        return 0;
    case TK_WATCHDOG: {
        int w = grey_watchdog_policy_parse(value);
        if (w < 0)
            return grey_plan_parser_fail(ps, ps->line, "watchdog: unknown policy '%s' (use log, signal or kill)",
                                         value);
        ps->out->watchdog = (enum grey_watchdog_policy)w;
        return 0;
    }
    case TK_LEDGER_GROUP:
        if (!valid_principal_name(value, strlen(value)))
            return grey_plan_parser_fail(ps, ps->line, "ledger_group: '%s' is not a group name", value);
        memcpy(ps->out->ledger_group, value, strlen(value) + 1); /* valid: it fits */
        return 0;
    case TK_VERSION: {
        unsigned long v = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            if (v < 1000000) /* saturate: any huge number is just "not 1" */
                v = v * 10 + (unsigned long)(*p - '0');
        if (p == value || *p)
            return grey_plan_parser_fail(ps, ps->line, VERSION_KEY ": '%s' is not a version number", value);
        if (v != GREY_PLAN_VERSION)
            return grey_plan_parser_fail(ps, ps->line,
                           VERSION_KEY " = %s is not supported (this grey reads version %d)",
                           value, GREY_PLAN_VERSION);
        ps->out->version = (unsigned)v;
        return 0;
    }
    case TK_MODE: {
        int m = grey_plan_mode_parse(value);
        if (m < 0)
            return grey_plan_parser_fail(ps, ps->line,
                           "mode: unknown mode '%s' (use safe, balanced or aggressive)", value);
        ps->out->mode = (enum grey_plan_mode)m;
        ps->out->has_mode = true;
        return 0;
    }
    case TK_TENANTS:
        return parse_uint_value(ps, "tenants", value, 1, 1024, &ps->out->tenants);
    case TK_WORKLOAD: {
        int w = grey_plan_workload_parse(value);
        if (w < 0)
            return grey_plan_parser_fail(ps, ps->line, "workload: unknown workload '%s' (use training or inference)",
                           value);
        ps->out->workload = (enum grey_plan_workload)w;
        return 0;
    }
    case TK_MODEL_SIZE:
        return parse_size_value(ps, "model_size", value, &ps->out->model_size);
    case TK_DEFAULT_WEIGHT:
        return parse_uint_value(ps, "default_weight", value, 1, 10000, &ps->out->default_weight);
    case TK_CONFIDENCE:
        ps->out->has_confidence = true;
        return parse_confidence_value(ps, "confidence", value, &ps->out->confidence);
    case TK_MAX_LEAD: {
        char why[160];
        if (grey_duration_parse(value, &ps->out->max_lead_ns, why, sizeof why) != 0)
            return grey_plan_parser_fail(ps, ps->line, "max_lead: %s", why);
        ps->out->has_max_lead = true;
        return 0;
    }
    case TK_THERMAL: {
        int t = grey_plan_thermal_parse(value);
        if (t < 0)
            return grey_plan_parser_fail(ps, ps->line, "thermal: unknown setting '%s' (use on, off or dry-run)", value);
        ps->out->thermal = (enum grey_plan_thermal)t;
        return 0;
    }
    default:
        snprintf(ps->out->source, sizeof ps->out->source, "%s", value);
        return 0;
    }
}

/* "[user alice]" / "[group 1000]" for messages. */
const char *grey_plan_principal_kind(const struct grey_plan_principal *pr)
{
    return pr->is_group ? "group" : "user";
}

/* The keys of a [user NAME] or [group NAME] section: process_cap and weight (the fair-share
 * weight of its processes, policy/weights.h), at least one of them. */
static int set_principal_key(struct grey_plan_parser *ps, struct span key, const char *value)
{
    unsigned i = ps->principal;
    struct grey_plan_principal *pr = &ps->out->principal[i];
    if (span_eq(key, "weight")) {
        if (ps->principal_weight_line[i])
            return grey_plan_parser_fail(ps, ps->line, "duplicate key 'weight' in [%s %s] (first set on line %u)",
                           grey_plan_principal_kind(pr), pr->name, ps->principal_weight_line[i]);
        ps->principal_weight_line[i] = ps->line;
        return parse_uint_value(ps, "weight", value, 1, 10000, &pr->weight);
    }
    if (!span_eq(key, "process_cap"))
        return grey_plan_parser_fail(ps, ps->line, "unknown key '%.*s' in [%s %s] (only process_cap and weight are allowed "
                       "there)", SPAN_ARG(key), grey_plan_principal_kind(pr), pr->name);
    if (ps->principal_cap_line[i])
        return grey_plan_parser_fail(ps, ps->line, "duplicate key 'process_cap' in [%s %s] (first set on line %u)",
                       grey_plan_principal_kind(pr), pr->name, ps->principal_cap_line[i]);
    ps->principal_cap_line[i] = ps->line;
    return parse_size_value(ps, "process_cap", value, &pr->process_cap);
}

static int set_device_key(struct grey_plan_parser *ps, struct span key, const char *value)
{
    int d = ps->section;
    int k = -1;
    for (int i = 0; i < DK_COUNT; i++)
        if (span_eq(key, dev_key_names[i]))
            k = i;
    if (k < 0) {
        for (int i = 0; i < TK_COUNT; i++)
            if (span_eq(key, top_key_names[i]))
                return grey_plan_parser_fail(ps, ps->line,
                               "key '%.*s' in [device %d] (it belongs before the first section)",
                               SPAN_ARG(key), d);
        return grey_plan_parser_fail(ps, ps->line, "unknown key '%.*s' in [device %d]", SPAN_ARG(key), d);
    }
    if (ps->key_line[d][k])
        return grey_plan_parser_fail(ps, ps->line, "duplicate key '%s' in [device %d] (first set on line %u)",
                       dev_key_names[k], d, ps->key_line[d][k]);
    ps->key_line[d][k] = ps->line;

    struct grey_plan_device *dev = &ps->out->dev[d];
    switch (k) {
    case DK_NAME:
        snprintf(dev->name, sizeof dev->name, "%s", value);
        return 0;
    case DK_VRAM:
        return parse_size_value(ps, "vram", value, &dev->vram);
    case DK_BUDGET:
        return parse_size_value(ps, "budget", value, &dev->budget);
    case DK_THROTTLE:
        return parse_uint_value(ps, "throttle_temp", value, 1, TEMP_MAX, &dev->throttle_temp);
    case DK_COOLDOWN:
        return parse_uint_value(ps, "cooldown_temp", value, 1, TEMP_MAX, &dev->cooldown_temp);
    case DK_SHUTDOWN:
        return parse_uint_value(ps, "shutdown_temp", value, 1, TEMP_MAX, &dev->shutdown_temp);
    case DK_BATCH:
        return parse_uint_value(ps, "batch_size", value, 1, 1u << 20, &dev->batch_size);
    case DK_CHUNK:
        return parse_size_value(ps, "chunk_size", value, &dev->chunk_size);
    case DK_WEIGHT:
        return parse_uint_value(ps, "weight", value, 1, 10000, &dev->weight);
    case DK_UUID:
        if (!grey_uuid_valid(value))
            return grey_plan_parser_fail(ps, ps->line, "uuid: '%s' is not a GPU's UUID (GPU-... or MIG-...)", value);
        for (int o = 0; o < GREY_MAX_DEVICES; o++)
            if (o != d && ps->key_line[o][DK_UUID] && grey_uuid_equal(ps->out->dev[o].uuid, value))
                return grey_plan_parser_fail(ps, ps->line, "uuid %s is already [device %d]'s (line %u)", value, o,
                                             ps->key_line[o][DK_UUID]);
        memcpy(dev->uuid, value, strlen(value) + 1); /* valid: shorter than the field */
        return 0;
    case DK_PCI:
        if (grey_pci_normalize(value, dev->pci_bus_id) != 0)
            return grey_plan_parser_fail(ps, ps->line, "pci_bus_id: '%s' is not a PCI bus id (like 0000:17:00.0)",
                                         value);
        return 0;
    default:
        return parse_size_value(ps, "process_cap", value, &dev->process_cap);
    }
}

/* ---------------------------------------------------------------- KEY.why lines */

/* "[device 0]", "[user alice]" or "the top level", for messages. */
static const char *section_label(const struct grey_plan_parser *ps, char *buf, size_t len)
{
    if (ps->section == SECTION_PRINCIPAL) {
        const struct grey_plan_principal *pr = &ps->out->principal[ps->principal];
        snprintf(buf, len, "[%s %s]", pr->is_group ? "group" : "user", pr->name);
    } else if (ps->section >= 0) {
        snprintf(buf, len, "[device %d]", ps->section);
    } else {
        snprintf(buf, len, "the top level");
    }
    return buf;
}

/* Where the current section remembers the .why line of `key` (and, in *set, the line of the key
 * itself); NULL when the section has no such key. */
static unsigned *why_slot(struct grey_plan_parser *ps, struct span key, unsigned **set, int *section)
{
    if (ps->section == SECTION_PRINCIPAL) {
        bool weight = span_eq(key, "weight");
        if (!weight && !span_eq(key, "process_cap"))
            return NULL;
        *set = weight ? &ps->principal_weight_line[ps->principal] : &ps->principal_cap_line[ps->principal];
        *section = GREY_PLAN_WHY_PRINCIPAL + (int)ps->principal;
        return weight ? &ps->principal_weight_why_line[ps->principal] : &ps->principal_why_line[ps->principal];
    }
    if (ps->section >= 0) {
        for (int i = 0; i < DK_COUNT; i++)
            if (span_eq(key, dev_key_names[i])) {
                *set = &ps->key_line[ps->section][i];
                *section = ps->section;
                return &ps->dev_why_line[ps->section][i];
            }
        return NULL;
    }
    for (int i = 1; i < TK_COUNT; i++) /* not the version: what it means is fixed */
        if (span_eq(key, top_key_names[i])) {
            *set = &ps->top_line[i];
            *section = GREY_PLAN_WHY_TOP;
            return &ps->top_why_line[i];
        }
    return NULL;
}

/* "KEY.why = 0.85 \"reason\"": rest is what follows ".why". */
static int parse_why(struct grey_plan_parser *ps, struct span key, struct span rest)
{
    char where[GREY_PRINCIPAL_NAME_MAX + 16];
    if (!ps->top_line[TK_VERSION])
        return grey_plan_parser_fail(ps, ps->line, "'%.*s" WHY_SUFFIX "' before '" VERSION_KEY
                       "' (the version must come first)", SPAN_ARG(key));
    unsigned *set = NULL;
    int section = 0;
    unsigned *slot = why_slot(ps, key, &set, &section);
    if (!slot)
        return grey_plan_parser_fail(ps, ps->line, "'%.*s" WHY_SUFFIX "' explains '%.*s', which is not a key of %s",
                       SPAN_ARG(key), SPAN_ARG(key), section_label(ps, where, sizeof where));
    if (*slot)
        return grey_plan_parser_fail(ps, ps->line, "duplicate '%.*s" WHY_SUFFIX "' in %s (first on line %u)",
                       SPAN_ARG(key), section_label(ps, where, sizeof where), *slot);
    if (rest.n == 0 || rest.p[0] != '=')
        return grey_plan_parser_fail(ps, ps->line, "missing '=' after '%.*s" WHY_SUFFIX "'", SPAN_ARG(key));
    struct span v = trim((struct span){rest.p + 1, rest.n - 1});
    unsigned permille = 0;
    size_t used = 0;
    if (parse_confidence(v.p, v.n, &permille, &used) != 0 || (used < v.n && !is_blank(v.p[used])))
        return grey_plan_parser_fail(ps, ps->line, "'%.*s" WHY_SUFFIX "' must start with a confidence from 0 to 1 "
                       "(e.g. 0.85), then a quoted reason", SPAN_ARG(key));
    struct span text = trim((struct span){v.p + used, v.n - used});
    if (text.n == 0 || text.p[0] != '"')
        return grey_plan_parser_fail(ps, ps->line, "'%.*s" WHY_SUFFIX "' needs a quoted reason after the confidence",
                       SPAN_ARG(key));
    char reason[GREY_PLAN_REASON_MAX];
    char label[GREY_PLAN_KEY_MAX + 8];
    snprintf(label, sizeof label, "%.*s" WHY_SUFFIX, (int)(key.n < GREY_PLAN_KEY_MAX ? key.n : 0), key.p);
    if (read_value(ps, (struct span){label, strlen(label)}, text, reason, sizeof reason) != 0)
        return -1;
    if (!reason[0])
        return grey_plan_parser_fail(ps, ps->line, "'%s' has an empty reason", label);
    for (const char *c = reason; *c; c++) /* one printable line: what explain prints is what is here */
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return grey_plan_parser_fail(ps, ps->line, "'%s': control character 0x%02x in the reason", label,
                           (unsigned)(unsigned char)*c);
    *slot = ps->line;
    struct grey_plan_notes *notes = ps->notes;
    if (notes && notes->n < GREY_PLAN_WHY_MAX) { /* always room: one .why per key (plan.h) */
        struct grey_plan_why *w = &notes->why[notes->n++];
        w->section = section;
        memcpy(w->key, key.p, key.n); /* every key name is shorter than GREY_PLAN_KEY_MAX */
        w->key[key.n] = '\0';
        w->line = ps->line;
        w->confidence = permille;
        memcpy(w->reason, reason, sizeof reason);
    }
    return 0;
}

/* A .why line whose key the section never set: said at the .why line. */
static int check_why_keys(struct grey_plan_parser *ps, const unsigned *why, const unsigned *set,
                          const char *const *names, int count, const char *where)
{
    for (int k = 0; k < count; k++)
        if (why[k] && !set[k])
            return grey_plan_parser_fail(ps, why[k], "'%s" WHY_SUFFIX "' explains '%s', which %s does not set",
                           names[k], names[k], where);
    return 0;
}

/* "key = value": the key is a run of [A-Za-z0-9_-], the value is anything read_value accepts. */
static int parse_assignment(struct grey_plan_parser *ps, struct span s)
{
    size_t i = 0;
    while (i < s.n && is_key_char(s.p[i]))
        i++;
    struct span key = {s.p, i};
    struct span rest = trim((struct span){s.p + i, s.n - i});
    if (key.n == 0)
        return grey_plan_parser_fail(ps, ps->line, "expected 'key = value', got '%.*s'", SPAN_ARG(s));
    if (i < s.n && s.p[i] == '.' && s.n - i >= 4 && memcmp(s.p + i, WHY_SUFFIX, 4) == 0 &&
        (s.n - i == 4 || is_blank(s.p[i + 4]) || s.p[i + 4] == '='))
        return parse_why(ps, key, trim((struct span){s.p + i + 4, s.n - i - 4}));
    if (rest.n == 0 || rest.p[0] != '=')
        return grey_plan_parser_fail(ps, ps->line, "missing '=' after '%.*s' (expected 'key = value')",
                       SPAN_ARG(key));

    char value[GREY_NAME_MAX];
    if (read_value(ps, key, (struct span){rest.p + 1, rest.n - 1}, value, sizeof value) != 0)
        return -1;
    if (ps->section == SECTION_PRINCIPAL)
        return set_principal_key(ps, key, value);
    if (ps->section < 0)
        return set_top_key(ps, key, value);
    return set_device_key(ps, key, value);
}

/* ---------------------------------------------------------------- sections */

/* Checks a finished [device N] section: required keys, then cap <= budget <= vram. Called when the
 * next section starts and at the end, so errors come out in file order. */
static int close_section(struct grey_plan_parser *ps)
{
    int d = ps->section;
    if (d == SECTION_PRINCIPAL) {
        const struct grey_plan_principal *pr = &ps->out->principal[ps->principal];
        if (!ps->principal_cap_line[ps->principal] && !ps->principal_weight_line[ps->principal])
            return grey_plan_parser_fail(ps, ps->principal_line[ps->principal], "[%s %s] is missing 'process_cap' or 'weight'",
                           grey_plan_principal_kind(pr), pr->name);
        if (!ps->principal_cap_line[ps->principal]) /* a weight alone caps nothing */
            ps->out->principal[ps->principal].process_cap = UINT64_MAX;
        char where[GREY_PRINCIPAL_NAME_MAX + 16];
        snprintf(where, sizeof where, "[%s %s]", grey_plan_principal_kind(pr), pr->name);
        unsigned i = ps->principal;
        const unsigned why[2] = {ps->principal_why_line[i], ps->principal_weight_why_line[i]};
        const unsigned set[2] = {ps->principal_cap_line[i], ps->principal_weight_line[i]};
        static const char *const names[2] = {"process_cap", "weight"};
        return check_why_keys(ps, why, set, names, 2, where);
    }
    if (d < 0)
        return 0;
    const struct grey_plan_device *dev = &ps->out->dev[d];
    const unsigned *lines = ps->key_line[d];
    for (int k = DK_BUDGET; k <= DK_CAP; k++)
        if (!lines[k])
            return grey_plan_parser_fail(ps, ps->section_line[d], "[device %d] is missing '%s'", d,
                           dev_key_names[k]);
    char a[32], b[32];
    if (dev->process_cap > dev->budget)
        return grey_plan_parser_fail(ps, lines[DK_CAP],
                       "[device %d] process_cap %s is larger than budget %s", d,
                       grey_size_format(dev->process_cap, a, sizeof a),
                       grey_size_format(dev->budget, b, sizeof b));
    if (lines[DK_VRAM] && dev->budget > dev->vram)
        return grey_plan_parser_fail(ps, lines[DK_BUDGET], "[device %d] budget %s is larger than vram %s", d,
                       grey_size_format(dev->budget, a, sizeof a),
                       grey_size_format(dev->vram, b, sizeof b));
    /* The hints are optional, but hints that contradict each other are typos worth a refusal. */
    if (lines[DK_CHUNK] && dev->chunk_size > dev->process_cap)
        return grey_plan_parser_fail(ps, lines[DK_CHUNK], "[device %d] chunk_size %s is larger than process_cap %s", d,
                       grey_size_format(dev->chunk_size, a, sizeof a),
                       grey_size_format(dev->process_cap, b, sizeof b));
    if (lines[DK_COOLDOWN] && lines[DK_THROTTLE] && dev->cooldown_temp >= dev->throttle_temp)
        return grey_plan_parser_fail(ps, lines[DK_COOLDOWN], "[device %d] cooldown_temp %u is not below throttle_temp %u",
                       d, dev->cooldown_temp, dev->throttle_temp);
    if (lines[DK_SHUTDOWN] && lines[DK_THROTTLE] && dev->shutdown_temp <= dev->throttle_temp)
        return grey_plan_parser_fail(ps, lines[DK_SHUTDOWN], "[device %d] shutdown_temp %u is not above throttle_temp %u",
                       d, dev->shutdown_temp, dev->throttle_temp);
    char where[32];
    snprintf(where, sizeof where, "[device %d]", d);
    return check_why_keys(ps, ps->dev_why_line[d], lines, dev_key_names, DK_COUNT, where);
}

/* "[user NAME]" or "[group NAME]" (is_group), name already trimmed. */
static int open_principal(struct grey_plan_parser *ps, int is_group, struct span name, struct span header)
{
    const char *kind = is_group ? "group" : "user";
    if (!valid_principal_name(name.p, name.n))
        return grey_plan_parser_fail(ps, ps->line, "bad %s name '%.*s' in '%.*s' (letters, digits, '_', '.', '-', "
                       "at most %d characters)", kind, SPAN_ARG(name), SPAN_ARG(header),
                       GREY_PRINCIPAL_NAME_MAX - 1);
    if (!ps->top_line[TK_VERSION])
        return grey_plan_parser_fail(ps, ps->line, "'%.*s' before '" VERSION_KEY "' (the version must come first)",
                       SPAN_ARG(header));
    if (close_section(ps) != 0)
        return -1;
    struct grey_plan *out = ps->out;
    for (unsigned i = 0; i < out->nprincipals; i++)
        if (out->principal[i].is_group == (is_group != 0) && span_eq(name, out->principal[i].name))
            return grey_plan_parser_fail(ps, ps->line, "duplicate section [%s %.*s] (first on line %u)", kind,
                           SPAN_ARG(name), ps->principal_line[i]);
    if (out->nprincipals >= GREY_PLAN_PRINCIPALS)
        return grey_plan_parser_fail(ps, ps->line, "too many [user]/[group] sections (at most %d)",
                       GREY_PLAN_PRINCIPALS);
    unsigned i = out->nprincipals++;
    out->principal[i].is_group = is_group != 0;
    memcpy(out->principal[i].name, name.p, name.n);
    out->principal[i].name[name.n] = '\0';
    ps->principal = i;
    ps->principal_line[i] = ps->line;
    ps->section = SECTION_PRINCIPAL;
    return 0;
}

/* "[device N]", blanks allowed around the parts, a comment allowed after. */
static int parse_section(struct grey_plan_parser *ps, struct span s)
{
    struct span whole = strip_comment(s);
    const char *close = memchr(whole.p, ']', whole.n);
    if (!close)
        return grey_plan_parser_fail(ps, ps->line, "missing ']' in '%.*s'", SPAN_ARG(whole));
    struct span after = trim((struct span){close + 1, whole.n - (size_t)(close + 1 - whole.p)});
    struct span inner = trim((struct span){whole.p + 1, (size_t)(close - whole.p - 1)});
    struct span header = {whole.p, (size_t)(close + 1 - whole.p)};
    if (after.n > 0)
        return grey_plan_parser_fail(ps, ps->line, "unexpected text '%.*s' after '%.*s'", SPAN_ARG(after),
                       SPAN_ARG(header));
    for (int g = 0; g < 2; g++) {
        const char *kind = g ? "group" : "user";
        size_t kn = strlen(kind);
        if (inner.n > kn && memcmp(inner.p, kind, kn) == 0 && is_blank(inner.p[kn]))
            return open_principal(ps, g, trim((struct span){inner.p + kn, inner.n - kn}), header);
    }
    if (inner.n < 6 || memcmp(inner.p, "device", 6) != 0 ||
        (inner.n > 6 && !is_blank(inner.p[6])))
        return grey_plan_parser_fail(ps, ps->line, "unknown section '%.*s' (expected [device N], [user NAME] or "
                       "[group NAME])", SPAN_ARG(header));
    struct span num = trim((struct span){inner.p + 6, inner.n - 6});
    unsigned long idx = 0;
    size_t i = 0;
    for (; i < num.n && num.p[i] >= '0' && num.p[i] <= '9'; i++)
        if (idx < 1000000) /* saturate: any huge index is just out of range */
            idx = idx * 10 + (unsigned long)(num.p[i] - '0');
    if (num.n == 0 || i != num.n)
        return grey_plan_parser_fail(ps, ps->line, "bad device index '%.*s' in '%.*s' (expected [device N])",
                       SPAN_ARG(num), SPAN_ARG(header));
    if (idx >= GREY_MAX_DEVICES)
        return grey_plan_parser_fail(ps, ps->line, "device index %.*s in '%.*s' is out of range (0..%d)",
                       SPAN_ARG(num), SPAN_ARG(header), GREY_MAX_DEVICES - 1);
    if (!ps->top_line[TK_VERSION])
        return grey_plan_parser_fail(ps, ps->line,
                       "'%.*s' before '" VERSION_KEY "' (the version must come first)",
                       SPAN_ARG(header));
    if (close_section(ps) != 0) /* the previous section's problems come first: earlier lines */
        return -1;
    if (ps->section_line[idx])
        return grey_plan_parser_fail(ps, ps->line, "duplicate section [device %lu] (first on line %u)", idx,
                       ps->section_line[idx]);

    ps->section = (int)idx;
    ps->section_line[idx] = ps->line;
    ps->out->dev[idx].present = true;
    if (idx + 1 > ps->out->ndevices)
        ps->out->ndevices = (unsigned)idx + 1;
    return 0;
}

/* ---------------------------------------------------------------- the state machine */

void grey_plan_parser_init(struct grey_plan_parser *ps, const char *file, struct grey_plan *out,
                        struct grey_plan_notes *notes, char *err, size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    memset(out, 0, sizeof *out);
    if (notes)
        notes->n = 0;
    ps->notes = notes;
    ps->file = file ? file : "plan";
    ps->out = out;
    ps->err = err;
    ps->errlen = errlen;
    ps->section = -1;
    out->mode = GREY_MODE_SAFE;
    if (err && errlen > 0)
        err[0] = '\0';
}

/* One line without its '\n'. */
int grey_plan_parser_line(struct grey_plan_parser *ps, const char *text, size_t len)
{
    ps->line++;
    /* Length first: grey_plan_load cannot see past a line's first PLAN_LINE_MAX bytes. */
    if (len + 1 > PLAN_LINE_MAX)
        return grey_plan_parser_fail(ps, ps->line, "line longer than %d characters", PLAN_LINE_MAX - 1);
    if (memchr(text, '\0', len))
        return grey_plan_parser_fail(ps, ps->line, "NUL byte in the file (a plan is text)");
    struct span s = trim((struct span){text, len});
    if (s.n == 0)
        return 0;
    ps->any_text = true;
    if (s.p[0] == '#')
        return 0;
    if (s.p[0] == '[')
        return parse_section(ps, s);
    return parse_assignment(ps, s);
}

int grey_plan_parser_finish(struct grey_plan_parser *ps)
{
    if (!ps->top_line[TK_VERSION]) {
        if (!ps->any_text)
            return grey_plan_parser_fail(ps, 0, "empty file: missing '" VERSION_KEY "'");
        return grey_plan_parser_fail(ps, 0, "missing '" VERSION_KEY "'");
    }
    if (close_section(ps) != 0)
        return -1;
    if (ps->top_line[TK_LEDGER_GROUP] && !ps->top_line[TK_LEDGER])
        return grey_plan_parser_fail(ps, ps->top_line[TK_LEDGER_GROUP],
                       "ledger_group without ledger (the group owns the ledger file the plan names)");
    return check_why_keys(ps, ps->top_why_line, ps->top_line, top_key_names, TK_COUNT,
                          "the top level");
}

int grey_plan_parse(const char *text, size_t len, const char *filename, struct grey_plan *out,
                    char *err, size_t errlen)
{
    return grey_plan_parse_notes(text, len, filename, out, NULL, err, errlen);
}

int grey_plan_parse_notes(const char *text, size_t len, const char *filename, struct grey_plan *out,
                          struct grey_plan_notes *notes, char *err, size_t errlen)
{
    struct grey_plan_parser ps;
    grey_plan_parser_init(&ps, filename, out, notes, err, errlen);
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (grey_plan_parser_line(&ps, text + pos, n) != 0)
            return -1;
        pos += n + 1;
    }
    return grey_plan_parser_finish(&ps);
}
