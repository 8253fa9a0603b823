/* The plan file: a strict, allocation-free parser and a commented writer.
 *
 * The parser runs inside foreign processes (the hook loads the plan at init), so it allocates
 * nothing, keeps no static state and uses no FILE streams: text goes through a line-at-a-time
 * state machine (struct parser) that both grey_plan_parse (text in memory) and grey_plan_load
 * (a file read in small chunks) feed. grey_plan_load reads instead of mmap-ing because a plan
 * truncated by an editor while a process maps it would raise SIGBUS inside the host program.
 *
 * Lines longer than PLAN_LINE_MAX are refused by both entry points, so the same text gives the
 * same answer whether it comes from memory or from a file (the file reader needs a bounded line
 * buffer on the stack). */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "size.h"

#define PLAN_LINE_MAX 1024 /* bytes per line, newline included */
#define VERSION_KEY "grey-plan-version"

/* Keys of a [device N] section; their lines are remembered for duplicate and range messages. */
enum dev_key { DK_NAME, DK_VRAM, DK_BUDGET, DK_CAP, DK_THROTTLE, DK_COOLDOWN, DK_SHUTDOWN, DK_BATCH,
               DK_CHUNK, DK_WEIGHT, DK_COUNT };
static const char *const dev_key_names[DK_COUNT] = {"name", "vram", "budget", "process_cap",
                                                    "throttle_temp", "cooldown_temp", "shutdown_temp",
                                                    "batch_size", "chunk_size", "weight"};

/* Top-level keys, same idea. */
enum top_key { TK_VERSION, TK_MODE, TK_SOURCE, TK_LEDGER, TK_LEDGER_GROUP, TK_TENANTS, TK_WORKLOAD,
               TK_MODEL_SIZE, TK_DEFAULT_WEIGHT, TK_CONFIDENCE, TK_COUNT };
static const char *const top_key_names[TK_COUNT] = {VERSION_KEY, "mode", "source", "ledger",
                                                    "ledger_group", "tenants", "workload",
                                                    "model_size", "default_weight", "confidence"};

/* "KEY.why = CONFIDENCE \"REASON\"" explains KEY (see plan.h). */
#define WHY_SUFFIX ".why"
#define TEMP_MAX 150 /* degrees C: no GPU runs hotter, so a larger number is a typo */

/* ps->section while inside a [user NAME] or [group NAME] section (ps->principal says which). */
#define SECTION_PRINCIPAL (-2)

struct parser {
    const char *file;
    struct grey_plan *out;
    char *err;
    size_t errlen;
    unsigned line;                                   /* current line, 1-based */
    int section;                                     /* -1: top level, SECTION_PRINCIPAL, else device index */
    unsigned top_line[TK_COUNT];                     /* 0: key not seen */
    unsigned section_line[GREY_MAX_DEVICES];         /* 0: section not seen */
    unsigned key_line[GREY_MAX_DEVICES][DK_COUNT];
    unsigned principal;                              /* current [user]/[group] section's index */
    unsigned principal_line[GREY_PLAN_PRINCIPALS];   /* where each [user]/[group] section starts */
    unsigned principal_cap_line[GREY_PLAN_PRINCIPALS];
    unsigned principal_weight_line[GREY_PLAN_PRINCIPALS];
    bool any_text;                                   /* a non-blank line was seen */
    /* KEY.why lines, by the same indices as the keys they explain (0: none yet). */
    struct grey_plan_notes *notes;                   /* NULL: validate only */
    unsigned top_why_line[TK_COUNT];
    unsigned dev_why_line[GREY_MAX_DEVICES][DK_COUNT];
    unsigned principal_why_line[GREY_PLAN_PRINCIPALS];        /* process_cap.why */
    unsigned principal_weight_why_line[GREY_PLAN_PRINCIPALS]; /* weight.why */
};

/* A view of part of a line: not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

/* ---------------------------------------------------------------- errors */

static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "FILE:LINE: reason" (or "FILE: reason" when line is 0) and returns -1. */
static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
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
static int read_value(struct parser *ps, struct span key, struct span v, char *buf, size_t len)
{
    v = trim(v);
    size_t o = 0;
    if (v.n > 0 && v.p[0] == '"') {
        size_t i = 1;
        for (;; i++) {
            if (i >= v.n)
                return fail_at(ps, ps->line, "unterminated string in '%.*s' (a '\"' is missing)",
                               SPAN_ARG(key));
            char c = v.p[i];
            if (c == '"')
                break;
            if (c == '\\') {
                if (i + 1 >= v.n || (v.p[i + 1] != '"' && v.p[i + 1] != '\\'))
                    return fail_at(ps, ps->line,
                                   "%.*s: unknown escape in string (only \\\" and \\\\ are allowed)",
                                   SPAN_ARG(key));
                c = v.p[++i];
            }
            if (o + 1 >= len)
                return fail_at(ps, ps->line, "%.*s: value longer than %zu characters",
                               SPAN_ARG(key), len - 1);
            buf[o++] = c;
        }
        struct span rest = trim((struct span){v.p + i + 1, v.n - i - 1});
        if (rest.n > 0 && rest.p[0] != '#')
            return fail_at(ps, ps->line, "%.*s: unexpected text '%.*s' after the closing quote",
                           SPAN_ARG(key), SPAN_ARG(rest));
    } else {
        v = strip_comment(v);
        if (v.n == 0)
            return fail_at(ps, ps->line, "'%.*s' has no value", SPAN_ARG(key));
        if (v.n + 1 > len)
            return fail_at(ps, ps->line, "%.*s: value longer than %zu characters",
                           SPAN_ARG(key), len - 1);
        memcpy(buf, v.p, v.n);
        o = v.n;
    }
    buf[o] = '\0';
    return 0;
}

static int parse_size_value(struct parser *ps, const char *key, const char *text, uint64_t *out)
{
    char why[160];
    if (grey_size_parse(text, out, why, sizeof why) != 0)
        return fail_at(ps, ps->line, "%s: %s", key, why);
    if (*out == 0)
        return fail_at(ps, ps->line, "%s: must be greater than zero (got '%s')", key, text);
    return 0;
}

/* A whole number in min..max, digits only ("89", not "89C" or "+89"). */
static int parse_uint_value(struct parser *ps, const char *key, const char *text, unsigned min,
                            unsigned max, unsigned *out)
{
    unsigned long v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++)
        if (v <= max) /* saturate: any huge number is just out of range */
            v = v * 10 + (unsigned long)(*p - '0');
    if (p == text || *p)
        return fail_at(ps, ps->line, "%s: '%s' is not a whole number", key, text);
    if (v < min || v > max)
        return fail_at(ps, ps->line, "%s: %s is out of range (%u..%u)", key, text, min, max);
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

static int parse_confidence_value(struct parser *ps, const char *key, const char *text, unsigned *out)
{
    size_t used = 0, n = strlen(text);
    if (parse_confidence(text, n, out, &used) != 0 || used != n)
        return fail_at(ps, ps->line, "%s: '%s' is not a confidence from 0 to 1 (e.g. 0.85)", key, text);
    return 0;
}

/* ---------------------------------------------------------------- keys */

static int set_top_key(struct parser *ps, struct span key, const char *value)
{
    int k = -1;
    for (int i = 0; i < TK_COUNT; i++)
        if (span_eq(key, top_key_names[i]))
            k = i;
    if (k < 0) {
        for (int i = 0; i < DK_COUNT; i++)
            if (span_eq(key, dev_key_names[i]))
                return fail_at(ps, ps->line,
                               "key '%.*s' outside a section (it belongs in a [device N] section)",
                               SPAN_ARG(key));
        return fail_at(ps, ps->line, "unknown key '%.*s' at the top level", SPAN_ARG(key));
    }
    if (ps->top_line[k])
        return fail_at(ps, ps->line, "duplicate key '%s' (first set on line %u)", top_key_names[k],
                       ps->top_line[k]);
    if (k != TK_VERSION && !ps->top_line[TK_VERSION])
        return fail_at(ps, ps->line, "'%s' before '" VERSION_KEY "' (the version must come first)",
                       top_key_names[k]);
    ps->top_line[k] = ps->line;

    switch (k) {
    case TK_LEDGER:
        /* Relative paths would name a different file for every working directory. */
        if (value[0] != '/')
            return fail_at(ps, ps->line, "ledger: '%s' is not an absolute path", value);
        snprintf(ps->out->ledger, sizeof ps->out->ledger, "%s", value);
        return 0;
    case TK_LEDGER_GROUP:
        if (!valid_principal_name(value, strlen(value)))
            return fail_at(ps, ps->line, "ledger_group: '%s' is not a group name", value);
        memcpy(ps->out->ledger_group, value, strlen(value) + 1); /* valid: it fits */
        return 0;
    case TK_VERSION: {
        unsigned long v = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            if (v < 1000000) /* saturate: any huge number is just "not 1" */
                v = v * 10 + (unsigned long)(*p - '0');
        if (p == value || *p)
            return fail_at(ps, ps->line, VERSION_KEY ": '%s' is not a version number", value);
        if (v != GREY_PLAN_VERSION)
            return fail_at(ps, ps->line,
                           VERSION_KEY " = %s is not supported (this grey reads version %d)",
                           value, GREY_PLAN_VERSION);
        ps->out->version = (unsigned)v;
        return 0;
    }
    case TK_MODE: {
        int m = grey_plan_mode_parse(value);
        if (m < 0)
            return fail_at(ps, ps->line,
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
            return fail_at(ps, ps->line, "workload: unknown workload '%s' (use training or inference)",
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
    default:
        snprintf(ps->out->source, sizeof ps->out->source, "%s", value);
        return 0;
    }
}

/* "[user alice]" / "[group 1000]" for messages. */
static const char *principal_kind(const struct grey_plan_principal *pr)
{
    return pr->is_group ? "group" : "user";
}

/* The keys of a [user NAME] or [group NAME] section: process_cap and weight (the fair-share
 * weight of its processes, policy/weights.h), at least one of them. */
static int set_principal_key(struct parser *ps, struct span key, const char *value)
{
    unsigned i = ps->principal;
    struct grey_plan_principal *pr = &ps->out->principal[i];
    if (span_eq(key, "weight")) {
        if (ps->principal_weight_line[i])
            return fail_at(ps, ps->line, "duplicate key 'weight' in [%s %s] (first set on line %u)",
                           principal_kind(pr), pr->name, ps->principal_weight_line[i]);
        ps->principal_weight_line[i] = ps->line;
        return parse_uint_value(ps, "weight", value, 1, 10000, &pr->weight);
    }
    if (!span_eq(key, "process_cap"))
        return fail_at(ps, ps->line, "unknown key '%.*s' in [%s %s] (only process_cap and weight are allowed "
                       "there)", SPAN_ARG(key), principal_kind(pr), pr->name);
    if (ps->principal_cap_line[i])
        return fail_at(ps, ps->line, "duplicate key 'process_cap' in [%s %s] (first set on line %u)",
                       principal_kind(pr), pr->name, ps->principal_cap_line[i]);
    ps->principal_cap_line[i] = ps->line;
    return parse_size_value(ps, "process_cap", value, &pr->process_cap);
}

static int set_device_key(struct parser *ps, struct span key, const char *value)
{
    int d = ps->section;
    int k = -1;
    for (int i = 0; i < DK_COUNT; i++)
        if (span_eq(key, dev_key_names[i]))
            k = i;
    if (k < 0) {
        for (int i = 0; i < TK_COUNT; i++)
            if (span_eq(key, top_key_names[i]))
                return fail_at(ps, ps->line,
                               "key '%.*s' in [device %d] (it belongs before the first section)",
                               SPAN_ARG(key), d);
        return fail_at(ps, ps->line, "unknown key '%.*s' in [device %d]", SPAN_ARG(key), d);
    }
    if (ps->key_line[d][k])
        return fail_at(ps, ps->line, "duplicate key '%s' in [device %d] (first set on line %u)",
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
    default:
        return parse_size_value(ps, "process_cap", value, &dev->process_cap);
    }
}

/* ---------------------------------------------------------------- KEY.why lines */

/* "[device 0]", "[user alice]" or "the top level", for messages. */
static const char *section_label(const struct parser *ps, char *buf, size_t len)
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
static unsigned *why_slot(struct parser *ps, struct span key, unsigned **set, int *section)
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
static int parse_why(struct parser *ps, struct span key, struct span rest)
{
    char where[GREY_PRINCIPAL_NAME_MAX + 16];
    if (!ps->top_line[TK_VERSION])
        return fail_at(ps, ps->line, "'%.*s" WHY_SUFFIX "' before '" VERSION_KEY
                       "' (the version must come first)", SPAN_ARG(key));
    unsigned *set = NULL;
    int section = 0;
    unsigned *slot = why_slot(ps, key, &set, &section);
    if (!slot)
        return fail_at(ps, ps->line, "'%.*s" WHY_SUFFIX "' explains '%.*s', which is not a key of %s",
                       SPAN_ARG(key), SPAN_ARG(key), section_label(ps, where, sizeof where));
    if (*slot)
        return fail_at(ps, ps->line, "duplicate '%.*s" WHY_SUFFIX "' in %s (first on line %u)",
                       SPAN_ARG(key), section_label(ps, where, sizeof where), *slot);
    if (rest.n == 0 || rest.p[0] != '=')
        return fail_at(ps, ps->line, "missing '=' after '%.*s" WHY_SUFFIX "'", SPAN_ARG(key));
    struct span v = trim((struct span){rest.p + 1, rest.n - 1});
    unsigned permille = 0;
    size_t used = 0;
    if (parse_confidence(v.p, v.n, &permille, &used) != 0 || (used < v.n && !is_blank(v.p[used])))
        return fail_at(ps, ps->line, "'%.*s" WHY_SUFFIX "' must start with a confidence from 0 to 1 "
                       "(e.g. 0.85), then a quoted reason", SPAN_ARG(key));
    struct span text = trim((struct span){v.p + used, v.n - used});
    if (text.n == 0 || text.p[0] != '"')
        return fail_at(ps, ps->line, "'%.*s" WHY_SUFFIX "' needs a quoted reason after the confidence",
                       SPAN_ARG(key));
    char reason[GREY_PLAN_REASON_MAX];
    char label[GREY_PLAN_KEY_MAX + 8];
    snprintf(label, sizeof label, "%.*s" WHY_SUFFIX, (int)(key.n < GREY_PLAN_KEY_MAX ? key.n : 0), key.p);
    if (read_value(ps, (struct span){label, strlen(label)}, text, reason, sizeof reason) != 0)
        return -1;
    if (!reason[0])
        return fail_at(ps, ps->line, "'%s' has an empty reason", label);
    for (const char *c = reason; *c; c++) /* one printable line: what explain prints is what is here */
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return fail_at(ps, ps->line, "'%s': control character 0x%02x in the reason", label,
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
static int check_why_keys(struct parser *ps, const unsigned *why, const unsigned *set,
                          const char *const *names, int count, const char *where)
{
    for (int k = 0; k < count; k++)
        if (why[k] && !set[k])
            return fail_at(ps, why[k], "'%s" WHY_SUFFIX "' explains '%s', which %s does not set",
                           names[k], names[k], where);
    return 0;
}

/* "key = value": the key is a run of [A-Za-z0-9_-], the value is anything read_value accepts. */
static int parse_assignment(struct parser *ps, struct span s)
{
    size_t i = 0;
    while (i < s.n && is_key_char(s.p[i]))
        i++;
    struct span key = {s.p, i};
    struct span rest = trim((struct span){s.p + i, s.n - i});
    if (key.n == 0)
        return fail_at(ps, ps->line, "expected 'key = value', got '%.*s'", SPAN_ARG(s));
    if (i < s.n && s.p[i] == '.' && s.n - i >= 4 && memcmp(s.p + i, WHY_SUFFIX, 4) == 0 &&
        (s.n - i == 4 || is_blank(s.p[i + 4]) || s.p[i + 4] == '='))
        return parse_why(ps, key, trim((struct span){s.p + i + 4, s.n - i - 4}));
    if (rest.n == 0 || rest.p[0] != '=')
        return fail_at(ps, ps->line, "missing '=' after '%.*s' (expected 'key = value')",
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
static int close_section(struct parser *ps)
{
    int d = ps->section;
    if (d == SECTION_PRINCIPAL) {
        const struct grey_plan_principal *pr = &ps->out->principal[ps->principal];
        if (!ps->principal_cap_line[ps->principal] && !ps->principal_weight_line[ps->principal])
            return fail_at(ps, ps->principal_line[ps->principal], "[%s %s] is missing 'process_cap' or 'weight'",
                           principal_kind(pr), pr->name);
        if (!ps->principal_cap_line[ps->principal]) /* a weight alone caps nothing */
            ps->out->principal[ps->principal].process_cap = UINT64_MAX;
        char where[GREY_PRINCIPAL_NAME_MAX + 16];
        snprintf(where, sizeof where, "[%s %s]", principal_kind(pr), pr->name);
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
            return fail_at(ps, ps->section_line[d], "[device %d] is missing '%s'", d,
                           dev_key_names[k]);
    char a[32], b[32];
    if (dev->process_cap > dev->budget)
        return fail_at(ps, lines[DK_CAP],
                       "[device %d] process_cap %s is larger than budget %s", d,
                       grey_size_format(dev->process_cap, a, sizeof a),
                       grey_size_format(dev->budget, b, sizeof b));
    if (lines[DK_VRAM] && dev->budget > dev->vram)
        return fail_at(ps, lines[DK_BUDGET], "[device %d] budget %s is larger than vram %s", d,
                       grey_size_format(dev->budget, a, sizeof a),
                       grey_size_format(dev->vram, b, sizeof b));
    /* The hints are optional, but hints that contradict each other are typos worth a refusal. */
    if (lines[DK_CHUNK] && dev->chunk_size > dev->process_cap)
        return fail_at(ps, lines[DK_CHUNK], "[device %d] chunk_size %s is larger than process_cap %s", d,
                       grey_size_format(dev->chunk_size, a, sizeof a),
                       grey_size_format(dev->process_cap, b, sizeof b));
    if (lines[DK_COOLDOWN] && lines[DK_THROTTLE] && dev->cooldown_temp >= dev->throttle_temp)
        return fail_at(ps, lines[DK_COOLDOWN], "[device %d] cooldown_temp %u is not below throttle_temp %u",
                       d, dev->cooldown_temp, dev->throttle_temp);
    if (lines[DK_SHUTDOWN] && lines[DK_THROTTLE] && dev->shutdown_temp <= dev->throttle_temp)
        return fail_at(ps, lines[DK_SHUTDOWN], "[device %d] shutdown_temp %u is not above throttle_temp %u",
                       d, dev->shutdown_temp, dev->throttle_temp);
    char where[32];
    snprintf(where, sizeof where, "[device %d]", d);
    return check_why_keys(ps, ps->dev_why_line[d], lines, dev_key_names, DK_COUNT, where);
}

/* "[user NAME]" or "[group NAME]" (is_group), name already trimmed. */
static int open_principal(struct parser *ps, int is_group, struct span name, struct span header)
{
    const char *kind = is_group ? "group" : "user";
    if (!valid_principal_name(name.p, name.n))
        return fail_at(ps, ps->line, "bad %s name '%.*s' in '%.*s' (letters, digits, '_', '.', '-', "
                       "at most %d characters)", kind, SPAN_ARG(name), SPAN_ARG(header),
                       GREY_PRINCIPAL_NAME_MAX - 1);
    if (!ps->top_line[TK_VERSION])
        return fail_at(ps, ps->line, "'%.*s' before '" VERSION_KEY "' (the version must come first)",
                       SPAN_ARG(header));
    if (close_section(ps) != 0)
        return -1;
    struct grey_plan *out = ps->out;
    for (unsigned i = 0; i < out->nprincipals; i++)
        if (out->principal[i].is_group == (is_group != 0) && span_eq(name, out->principal[i].name))
            return fail_at(ps, ps->line, "duplicate section [%s %.*s] (first on line %u)", kind,
                           SPAN_ARG(name), ps->principal_line[i]);
    if (out->nprincipals >= GREY_PLAN_PRINCIPALS)
        return fail_at(ps, ps->line, "too many [user]/[group] sections (at most %d)",
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
static int parse_section(struct parser *ps, struct span s)
{
    struct span whole = strip_comment(s);
    const char *close = memchr(whole.p, ']', whole.n);
    if (!close)
        return fail_at(ps, ps->line, "missing ']' in '%.*s'", SPAN_ARG(whole));
    struct span after = trim((struct span){close + 1, whole.n - (size_t)(close + 1 - whole.p)});
    struct span inner = trim((struct span){whole.p + 1, (size_t)(close - whole.p - 1)});
    struct span header = {whole.p, (size_t)(close + 1 - whole.p)};
    if (after.n > 0)
        return fail_at(ps, ps->line, "unexpected text '%.*s' after '%.*s'", SPAN_ARG(after),
                       SPAN_ARG(header));
    for (int g = 0; g < 2; g++) {
        const char *kind = g ? "group" : "user";
        size_t kn = strlen(kind);
        if (inner.n > kn && memcmp(inner.p, kind, kn) == 0 && is_blank(inner.p[kn]))
            return open_principal(ps, g, trim((struct span){inner.p + kn, inner.n - kn}), header);
    }
    if (inner.n < 6 || memcmp(inner.p, "device", 6) != 0 ||
        (inner.n > 6 && !is_blank(inner.p[6])))
        return fail_at(ps, ps->line, "unknown section '%.*s' (expected [device N], [user NAME] or "
                       "[group NAME])", SPAN_ARG(header));
    struct span num = trim((struct span){inner.p + 6, inner.n - 6});
    unsigned long idx = 0;
    size_t i = 0;
    for (; i < num.n && num.p[i] >= '0' && num.p[i] <= '9'; i++)
        if (idx < 1000000) /* saturate: any huge index is just out of range */
            idx = idx * 10 + (unsigned long)(num.p[i] - '0');
    if (num.n == 0 || i != num.n)
        return fail_at(ps, ps->line, "bad device index '%.*s' in '%.*s' (expected [device N])",
                       SPAN_ARG(num), SPAN_ARG(header));
    if (idx >= GREY_MAX_DEVICES)
        return fail_at(ps, ps->line, "device index %.*s in '%.*s' is out of range (0..%d)",
                       SPAN_ARG(num), SPAN_ARG(header), GREY_MAX_DEVICES - 1);
    if (!ps->top_line[TK_VERSION])
        return fail_at(ps, ps->line,
                       "'%.*s' before '" VERSION_KEY "' (the version must come first)",
                       SPAN_ARG(header));
    if (close_section(ps) != 0) /* the previous section's problems come first: earlier lines */
        return -1;
    if (ps->section_line[idx])
        return fail_at(ps, ps->line, "duplicate section [device %lu] (first on line %u)", idx,
                       ps->section_line[idx]);

    ps->section = (int)idx;
    ps->section_line[idx] = ps->line;
    ps->out->dev[idx].present = true;
    if (idx + 1 > ps->out->ndevices)
        ps->out->ndevices = (unsigned)idx + 1;
    return 0;
}

/* ---------------------------------------------------------------- the state machine */

static void parser_init(struct parser *ps, const char *file, struct grey_plan *out,
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
static int parser_line(struct parser *ps, const char *text, size_t len)
{
    ps->line++;
    /* Length first: grey_plan_load cannot see past a line's first PLAN_LINE_MAX bytes. */
    if (len + 1 > PLAN_LINE_MAX)
        return fail_at(ps, ps->line, "line longer than %d characters", PLAN_LINE_MAX - 1);
    if (memchr(text, '\0', len))
        return fail_at(ps, ps->line, "NUL byte in the file (a plan is text)");
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

static int parser_finish(struct parser *ps)
{
    if (!ps->top_line[TK_VERSION]) {
        if (!ps->any_text)
            return fail_at(ps, 0, "empty file: missing '" VERSION_KEY "'");
        return fail_at(ps, 0, "missing '" VERSION_KEY "'");
    }
    if (close_section(ps) != 0)
        return -1;
    if (ps->top_line[TK_LEDGER_GROUP] && !ps->top_line[TK_LEDGER])
        return fail_at(ps, ps->top_line[TK_LEDGER_GROUP],
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
    struct parser ps;
    parser_init(&ps, filename, out, notes, err, errlen);
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (parser_line(&ps, text + pos, n) != 0)
            return -1;
        pos += n + 1;
    }
    return parser_finish(&ps);
}

/* ---------------------------------------------------------------- loading */

static int load_fail(const char *path, char *err, size_t errlen, const char *what, int e)
{
    if (err && errlen > 0) {
        if (e)
            snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
        else
            snprintf(err, errlen, "%s: %s", path, what);
    }
    return -1;
}

/* Feeds complete lines of buf[0..*have) to the parser and keeps the unfinished tail. */
static int feed_lines(struct parser *ps, char *buf, size_t *have)
{
    size_t start = 0;
    const char *nl;
    while ((nl = memchr(buf + start, '\n', *have - start)) != NULL) {
        size_t n = (size_t)(nl - (buf + start));
        if (parser_line(ps, buf + start, n) != 0)
            return -1;
        start += n + 1;
    }
    memmove(buf, buf + start, *have - start);
    *have -= start;
    return 0;
}

/* Reads and parses path; *admin_file says whether the file read is root-owned and writable by
 * nobody else (only grey_plan_load_admin turns that into an admin plan). */
static int load_file(const char *path, struct grey_plan *out, struct grey_plan_notes *notes,
                     char *err, size_t errlen, bool *admin_file)
{
    struct parser ps;
    *admin_file = false;
    parser_init(&ps, path, out, notes, err, errlen);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return load_fail(path, err, errlen, "cannot open", errno);
    /* Refuse early what is visibly wrong; the byte count below catches files that grow. */
    struct stat st;
    bool stat_ok = fstat(fd, &st) == 0;
    if (stat_ok && S_ISDIR(st.st_mode)) {
        close(fd);
        return load_fail(path, err, errlen, "cannot open", EISDIR);
    }
    if (stat_ok && S_ISREG(st.st_mode) && st.st_size > GREY_PLAN_MAX_BYTES) {
        close(fd);
        return load_fail(path, err, errlen, "larger than 256 KiB", 0);
    }

    char buf[PLAN_LINE_MAX];
    size_t have = 0, total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = load_fail(path, err, errlen, "cannot read", errno);
            break;
        }
        if (n == 0) {
            if (have > 0)
                rc = parser_line(&ps, buf, have);
            if (rc == 0)
                rc = parser_finish(&ps);
            break;
        }
        total += (size_t)n;
        if (total > GREY_PLAN_MAX_BYTES) {
            rc = load_fail(path, err, errlen, "larger than 256 KiB", 0);
            break;
        }
        have += (size_t)n;
        if ((rc = feed_lines(&ps, buf, &have)) != 0)
            break;
        if (have == sizeof buf) {
            /* A full buffer with no newline: the line is too long. Report it as the parser would. */
            rc = fail_at(&ps, ps.line + 1, "line longer than %d characters", PLAN_LINE_MAX - 1);
            break;
        }
    }
    close(fd);
    /* Judged on the file we read (fstat of the open descriptor), not on a path that could be
     * swapped in between. */
    if (rc == 0)
        *admin_file = stat_ok && S_ISREG(st.st_mode) && grey_plan_file_is_admin(st.st_uid, st.st_mode);
    return rc;
}

int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    return grey_plan_load_notes(path, out, NULL, err, errlen);
}

int grey_plan_load_notes(const char *path, struct grey_plan *out, struct grey_plan_notes *notes,
                         char *err, size_t errlen)
{
    bool admin_file;
    return load_file(path, out, notes, err, errlen, &admin_file); /* a user's plan: admin stays false */
}

/* No file there: ENOENT, or ENOTDIR when a directory on the way is a file ($HOME set to one). */
static bool absent(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

int grey_plan_load_optional(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    if (absent(path))
        return 0;
    return grey_plan_load(path, out, err, errlen) == 0 ? 1 : -1;
}

const char *grey_admin_plan_path(void)
{
    if (absent(GREY_ADMIN_PLAN_PATH)) {
        const char *other = secure_getenv("GREY_ADMIN_PLAN");
        if (other && *other)
            return other;
    }
    return GREY_ADMIN_PLAN_PATH;
}

int grey_plan_load_admin(struct grey_plan *out, char *err, size_t errlen)
{
    const char *path = grey_admin_plan_path();
    if (absent(path))
        return 0;
    bool admin_file;
    if (load_file(path, out, NULL, err, errlen, &admin_file) != 0)
        return -1;
    out->admin = admin_file;
    return 1;
}

int grey_user_config_path(char *buf, size_t len)
{
    /* secure_getenv: a setuid program must not take its plan from the caller's settings. */
    const char *xdg = secure_getenv("XDG_CONFIG_HOME"), *home = secure_getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') /* the XDG spec ignores relative paths */
        n = snprintf(buf, len, "%s/grey/plan.conf", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.config/grey/plan.conf", home);
    else
        return -1;
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

int grey_user_plan_path(char *buf, size_t len, bool *required)
{
    const char *plan = getenv("GREY_PLAN");
    *required = plan && *plan;
    if (!*required)
        return grey_user_config_path(buf, len);
    int n = snprintf(buf, len, "%s", plan);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

bool grey_plan_file_is_admin(unsigned owner_uid, unsigned mode)
{
    return owner_uid == 0 && (mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* ---------------------------------------------------------------- writing */

const char *grey_plan_mode_name(enum grey_plan_mode mode)
{
    switch (mode) {
    case GREY_MODE_SAFE: return "safe";
    case GREY_MODE_BALANCED: return "balanced";
    case GREY_MODE_AGGRESSIVE: return "aggressive";
    }
    return "unknown";
}

int grey_plan_mode_parse(const char *text)
{
    if (!text)
        return -1;
    for (int m = GREY_MODE_SAFE; m <= GREY_MODE_AGGRESSIVE; m++)
        if (strcmp(text, grey_plan_mode_name((enum grey_plan_mode)m)) == 0)
            return m;
    return -1;
}

/* Writes s as a quoted string the parser reads back. Line breaks (which the format cannot hold)
 * become spaces. */
static void quote(char *buf, size_t len, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 3 < len; s++) {
        char c = *s;
        if (c == '"' || c == '\\')
            buf[o++] = '\\';
        buf[o++] = (c == '\n' || c == '\r') ? ' ' : c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Where the writer is: the stream, the notes to write .why lines from, and the current section
 * (as struct grey_plan_why numbers it). */
struct writer {
    FILE *out;
    const struct grey_plan_notes *notes;
    int section;
};

/* "key = value" padded so that comments line up, then "# comment"; then the key's .why line when
 * the notes have one, so the reason sits right under the value it explains. */
static int put_line(struct writer *w, const char *key, const char *value, const char *comment)
{
    char kv[GREY_NAME_MAX * 2 + 64];
    snprintf(kv, sizeof kv, "%s = %s", key, value);
    if (fprintf(w->out, "%-30s # %s\n", kv, comment) < 0)
        return -1;
    const struct grey_plan_why *why = grey_plan_why_find(w->notes, w->section, key);
    if (!why)
        return 0;
    char conf[16], q[GREY_PLAN_REASON_MAX * 2 + 4];
    quote(q, sizeof q, why->reason);
    return fprintf(w->out, "%s" WHY_SUFFIX " = %s %s\n", key,
                   grey_plan_confidence_format(why->confidence, conf, sizeof conf), q) < 0 ? -1 : 0;
}

static int put_size(struct writer *w, const char *key, uint64_t bytes, const char *meaning)
{
    char value[32], human[32], comment[128];
    snprintf(value, sizeof value, "%llu", (unsigned long long)bytes);
    snprintf(comment, sizeof comment, "%s: %s", grey_size_format(bytes, human, sizeof human),
             meaning);
    return put_line(w, key, value, comment);
}

/* A whole-number key, written only when set (0 means not given). */
static int put_uint(struct writer *w, const char *key, unsigned v, const char *comment)
{
    char value[16];
    if (!v)
        return 0;
    snprintf(value, sizeof value, "%u", v);
    return put_line(w, key, value, comment);
}

static int put_device(struct writer *w, int d, const struct grey_plan_device *dev)
{
    char q[GREY_NAME_MAX * 2 + 4];
    w->section = d;
    if (fprintf(w->out, "\n[device %d]\n", d) < 0)
        return -1;
    if (dev->name[0]) {
        quote(q, sizeof q, dev->name);
        if (put_line(w, "name", q, "informational: the device this was planned for") != 0)
            return -1;
    }
    if (dev->vram &&
        put_size(w, "vram", dev->vram, "physical VRAM the plan was computed for") != 0)
        return -1;
    if (put_size(w, "budget", dev->budget,
                 "all hooked processes on this device together") != 0 ||
        put_size(w, "process_cap", dev->process_cap,
                 "any one hooked process on this device") != 0)
        return -1;
    if (put_uint(w, "throttle_temp", dev->throttle_temp, "degrees C: the hardware slows down here") != 0 ||
        put_uint(w, "cooldown_temp", dev->cooldown_temp, "degrees C: work should back off from here") != 0 ||
        put_uint(w, "shutdown_temp", dev->shutdown_temp, "degrees C: the hardware stops here") != 0 ||
        put_uint(w, "batch_size", dev->batch_size, "hint: a starting batch size for one process") != 0 ||
        (dev->chunk_size &&
         put_size(w, "chunk_size", dev->chunk_size, "hint: a tensor chunk size for one process") != 0) ||
        put_uint(w, "weight", dev->weight, "fair-share weight of a process on this device") != 0)
        return -1;
    return 0;
}

/* The keys that say what the plan was made for, when grey-plan knew them. */
static int put_inputs(struct writer *w, const struct grey_plan *plan)
{
    char conf[16];
    if (put_uint(w, "tenants", plan->tenants, "processes expected to share each device") != 0 ||
        (plan->workload != GREY_WORKLOAD_UNSET &&
         put_line(w, "workload", grey_plan_workload_name(plan->workload), "training or inference") != 0) ||
        (plan->model_size &&
         put_size(w, "model_size", plan->model_size, "the model's weights the hints assume") != 0) ||
        put_uint(w, "default_weight", plan->default_weight,
                 "fair-share weight of a process nothing else weighs") != 0 ||
        (plan->has_confidence &&
         put_line(w, "confidence", grey_plan_confidence_format(plan->confidence, conf, sizeof conf),
                  "0..1: how sure grey-plan was of this plan ('grey-plan explain' says why)") != 0))
        return -1;
    return 0;
}

int grey_plan_write(FILE *out, const struct grey_plan *plan)
{
    return grey_plan_write_notes(out, plan, NULL);
}

int grey_plan_write_notes(FILE *out, const struct grey_plan *plan, const struct grey_plan_notes *notes)
{
    struct writer w = {out, notes, GREY_PLAN_WHY_TOP};
    char when[64] = "an unknown time";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char q[GREY_NAME_MAX * 2 + 4], version[16];
    quote(q, sizeof q, plan->source);
    snprintf(version, sizeof version, "%d", GREY_PLAN_VERSION);

    if (fprintf(out,
                "# grey plan: VRAM limits that libgreyhook.so enforces on each device.\n"
                "# Written by grey-plan on %s from %s.\n"
                "# Admins may edit it by hand; 'grey-plan check FILE' verifies it.\n"
                "# Sizes are bytes (512MiB, 2GiB, 1.5G are accepted too). A KEY.why line gives the\n"
                "# confidence (0..1) and the reason for KEY: edit or delete it when you change KEY.\n\n",
                when, plan->source[0] ? q : "no stated source") < 0)
        return -1;
    if (put_line(&w, VERSION_KEY, version, "format version; other versions are refused") != 0 ||
        put_line(&w, "mode", grey_plan_mode_name(plan->mode),
                 "how the caps were chosen: safe, balanced or aggressive") != 0 ||
        (plan->source[0] &&
         put_line(&w, "source", q, "what the plan was computed from") != 0) ||
        put_inputs(&w, plan) != 0)
        return -1;
    if (plan->ledger[0]) {
        quote(q, sizeof q, plan->ledger);
        if (put_line(&w, "ledger", q, "the ledger: processes sharing it share the budgets") != 0)
            return -1;
    }
    if (plan->ledger_group[0]) {
        quote(q, sizeof q, plan->ledger_group);
        if (put_line(&w, "ledger_group", q, "the ledger is created 0660 for this group") != 0)
            return -1;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (plan->dev[d].present && put_device(&w, d, &plan->dev[d]) != 0)
            return -1;
    for (unsigned i = 0; i < plan->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
        const struct grey_plan_principal *pr = &plan->principal[i];
        w.section = GREY_PLAN_WHY_PRINCIPAL + (int)i;
        if (fprintf(out, "\n[%s %s]\n", principal_kind(pr), pr->name) < 0 ||
            (pr->process_cap != UINT64_MAX &&
             put_size(&w, "process_cap", pr->process_cap,
                      pr->is_group ? "any one process of a member, on every device"
                                   : "any one process of this user, on every device") != 0) ||
            put_uint(&w, "weight", pr->weight,
                     pr->is_group ? "fair-share weight of a member's processes" : "fair-share weight of this user's "
                                                                                  "processes") != 0)
            return -1;
    }
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
