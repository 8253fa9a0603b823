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
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "size.h"

#define PLAN_LINE_MAX 1024 /* bytes per line, newline included */
#define VERSION_KEY "grey-plan-version"

/* Keys of a [device N] section; their lines are remembered for duplicate and range messages. */
enum dev_key { DK_NAME, DK_VRAM, DK_BUDGET, DK_CAP, DK_COUNT };
static const char *const dev_key_names[DK_COUNT] = {"name", "vram", "budget", "process_cap"};

/* Top-level keys, same idea. */
enum top_key { TK_VERSION, TK_MODE, TK_SOURCE, TK_LEDGER, TK_LEDGER_GROUP, TK_COUNT };
static const char *const top_key_names[TK_COUNT] = {VERSION_KEY, "mode", "source", "ledger",
                                                    "ledger_group"};

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
    bool any_text;                                   /* a non-blank line was seen */
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
        return 0;
    }
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

/* The only key of a [user NAME] or [group NAME] section: process_cap. */
static int set_principal_key(struct parser *ps, struct span key, const char *value)
{
    unsigned i = ps->principal;
    struct grey_plan_principal *pr = &ps->out->principal[i];
    if (!span_eq(key, "process_cap"))
        return fail_at(ps, ps->line, "unknown key '%.*s' in [%s %s] (only process_cap is allowed there)",
                       SPAN_ARG(key), principal_kind(pr), pr->name);
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
    default:
        return parse_size_value(ps, "process_cap", value, &dev->process_cap);
    }
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
        if (!ps->principal_cap_line[ps->principal])
            return fail_at(ps, ps->principal_line[ps->principal], "[%s %s] is missing 'process_cap'",
                           principal_kind(pr), pr->name);
        return 0;
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
    return 0;
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

static void parser_init(struct parser *ps, const char *file, struct grey_plan *out, char *err,
                        size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    memset(out, 0, sizeof *out);
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
    return 0;
}

int grey_plan_parse(const char *text, size_t len, const char *filename, struct grey_plan *out,
                    char *err, size_t errlen)
{
    struct parser ps;
    parser_init(&ps, filename, out, err, errlen);
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

int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    struct parser ps;
    parser_init(&ps, path, out, err, errlen);
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
        out->admin = stat_ok && S_ISREG(st.st_mode) && grey_plan_file_is_admin(st.st_uid, st.st_mode);
    return rc;
}

int grey_plan_load_optional(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    return grey_plan_load(path, out, err, errlen) == 0 ? 1 : -1;
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

/* "key = value" padded so that comments line up, then "# comment". */
static int put_line(FILE *out, const char *key, const char *value, const char *comment)
{
    char kv[GREY_NAME_MAX * 2 + 64];
    snprintf(kv, sizeof kv, "%s = %s", key, value);
    return fprintf(out, "%-30s # %s\n", kv, comment) < 0 ? -1 : 0;
}

static int put_size(FILE *out, const char *key, uint64_t bytes, const char *meaning)
{
    char value[32], human[32], comment[128];
    snprintf(value, sizeof value, "%llu", (unsigned long long)bytes);
    snprintf(comment, sizeof comment, "%s: %s", grey_size_format(bytes, human, sizeof human),
             meaning);
    return put_line(out, key, value, comment);
}

static int put_device(FILE *out, int d, const struct grey_plan_device *dev)
{
    char q[GREY_NAME_MAX * 2 + 4];
    if (fprintf(out, "\n[device %d]\n", d) < 0)
        return -1;
    if (dev->name[0]) {
        quote(q, sizeof q, dev->name);
        if (put_line(out, "name", q, "informational: the device this was planned for") != 0)
            return -1;
    }
    if (dev->vram &&
        put_size(out, "vram", dev->vram, "physical VRAM the plan was computed for") != 0)
        return -1;
    if (put_size(out, "budget", dev->budget,
                 "all hooked processes on this device together") != 0 ||
        put_size(out, "process_cap", dev->process_cap,
                 "any one hooked process on this device") != 0)
        return -1;
    return 0;
}

int grey_plan_write(FILE *out, const struct grey_plan *plan)
{
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
                "# Sizes are bytes (512MiB, 2GiB, 1.5G are accepted too).\n\n",
                when, plan->source[0] ? q : "no stated source") < 0)
        return -1;
    if (put_line(out, VERSION_KEY, version, "format version; other versions are refused") != 0 ||
        put_line(out, "mode", grey_plan_mode_name(plan->mode),
                 "how the caps were chosen: safe, balanced or aggressive") != 0 ||
        (plan->source[0] &&
         put_line(out, "source", q, "what the plan was computed from") != 0))
        return -1;
    if (plan->ledger[0]) {
        quote(q, sizeof q, plan->ledger);
        if (put_line(out, "ledger", q, "the ledger: processes sharing it share the budgets") != 0)
            return -1;
    }
    if (plan->ledger_group[0]) {
        quote(q, sizeof q, plan->ledger_group);
        if (put_line(out, "ledger_group", q, "the ledger is created 0660 for this group") != 0)
            return -1;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (plan->dev[d].present && put_device(out, d, &plan->dev[d]) != 0)
            return -1;
    for (unsigned i = 0; i < plan->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
        const struct grey_plan_principal *pr = &plan->principal[i];
        if (fprintf(out, "\n[%s %s]\n", principal_kind(pr), pr->name) < 0 ||
            put_size(out, "process_cap", pr->process_cap,
                     pr->is_group ? "any one process of a member, on every device"
                                  : "any one process of this user, on every device") != 0)
            return -1;
    }
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
