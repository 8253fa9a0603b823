/* Reading the raw record back (format in rawlog.h). Used by the tools only: it allocates, and
 * every malformed line is refused with its file and line, never guessed at. */
#include "rawlog.h"
#include "array_room.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracker.h"

#define MAX_TOKENS (12 + GREY_SITE_MAX_DEPTH)

struct reader {
    const char *path;
    unsigned lineno;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct reader *r, const char *fmt, ...)
{
    int n = snprintf(r->err, r->errlen, "%s:%u: ", r->path, r->lineno);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_u32(const char *s, int base, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, base, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "key=value" with the key checked. */
static bool parse_kv(const char *tok, const char *key, uint64_t *out)
{
    size_t n = strlen(key);
    return strncmp(tok, key, n) == 0 && tok[n] == '=' && parse_u64(tok + n + 1, 10, out);
}

static size_t split(char *line, char **tok, size_t max)
{
    size_t n = 0;
    for (char *p = strtok(line, " \t"); p && n < max; p = strtok(NULL, " \t"))
        tok[n++] = p;
    return n;
}

static int source_of(const char *name, uint32_t *out)
{
    for (uint32_t s = GREY_FP_NONE; s <= GREY_FP_LIVE; s++)
        if (strcmp(grey_fp_source_name(s), name) == 0) {
            *out = s;
            return 0;
        }
    return -1;
}

static int kind_of(const char *name, uint8_t *out)
{
    for (uint8_t k = GREY_RAW_PTR; k <= GREY_RAW_CONTEXT; k++)
        if (strcmp(grey_raw_kind_name(k), name) == 0) {
            *out = k;
            return 0;
        }
    return -1;
}

/* Grows *arr to hold one more element of size elem. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
    if (!grey_array_room(arr, *n, cap, elem))
        return NULL;
    return (char *)*arr + (*n)++ * elem;
}

static int parse_site(struct reader *r, char **tok, size_t n, struct grey_raw_site *s)
{
    memset(s, 0, sizeof *s);
    uint32_t depth;
    if (n < 9 || !parse_u32(tok[1], 10, &s->id) || !parse_u64(tok[2], 10, &s->live_bytes) ||
        !parse_u64(tok[3], 10, &s->live_count) || !parse_u64(tok[4], 10, &s->peak_bytes) ||
        !parse_u64(tok[5], 10, &s->peak_count) || !parse_u64(tok[6], 10, &s->allocs) ||
        !parse_u64(tok[7], 10, &s->alloc_bytes) || !parse_u32(tok[8], 10, &depth))
        return fail(r, "malformed site line");
    if (depth > GREY_SITE_MAX_DEPTH || n != 9 + depth)
        return fail(r, "site %u: %u frames announced, %zu given", s->id, depth, n - 9);
    s->depth = depth;
    for (unsigned i = 0; i < depth; i++) {
        char *colon = strchr(tok[9 + i], ':');
        if (!colon)
            return fail(r, "site %u: frame '%s' is not MODULE:OFFSET", s->id, tok[9 + i]);
        *colon = '\0';
        char *end;
        long mod = strtol(tok[9 + i], &end, 10);
        if (*end || mod < -1 || mod > INT32_MAX || !parse_u64(colon + 1, 16, &s->frames[i].offset))
            return fail(r, "site %u: bad frame", s->id);
        s->frames[i].module = (int32_t)mod;
    }
    return 0;
}

static int parse_buffer(struct reader *r, char **tok, size_t n, struct grey_raw_buffer *b)
{
    memset(b, 0, sizeof *b);
    if (n != 16)
        return fail(r, "buf line has %zu fields, wants 16", n);
    if (strcmp(tok[1], "live") == 0)
        b->live = true;
    else if (strcmp(tok[1], "freed") != 0)
        return fail(r, "buf state '%s' is neither live nor freed", tok[1]);
    if (kind_of(tok[2], &b->kind) != 0)
        return fail(r, "unknown buffer kind '%s'", tok[2]);
    if (strlen(tok[3]) >= sizeof b->api)
        return fail(r, "api name too long");
    strcpy(b->api, tok[3]);
    uint32_t stale;
    if (!parse_u64(tok[4], 16, &b->addr) || !parse_u64(tok[5], 10, &b->bytes) || !parse_u32(tok[6], 10, &b->device) ||
        !parse_u32(tok[7], 10, &b->site) || !parse_u64(tok[8], 10, &b->alloc_ns) || !parse_u64(tok[9], 10, &b->free_ns) ||
        !parse_u32(tok[10], 16, &b->touched) || !parse_u64(tok[11], 10, &b->last_use_ns) ||
        !parse_u64(tok[14], 10, &b->fp_ns) || !parse_u32(tok[15], 10, &stale) || stale > 1)
        return fail(r, "malformed buf line");
    b->fp_stale = stale;
    if (strcmp(tok[12], "-") != 0) {
        if (!grey_fp_parse(tok[12], &b->fp))
            return fail(r, "fingerprint '%s' is not 32 hex digits", tok[12]);
        b->has_fp = true;
    }
    if (source_of(tok[13], &b->fp_source) != 0)
        return fail(r, "unknown fingerprint source '%s'", tok[13]);
    if (b->has_fp != (b->fp_source != GREY_FP_NONE))
        return fail(r, "fingerprint and its source disagree");
    if (!b->live && b->free_ns == 0)
        return fail(r, "a freed buffer without a free time");
    return 0;
}

static int parse_use(struct reader *r, char **tok, size_t n, struct grey_raw_use *u)
{
    uint64_t *fields[] = {&u->alloc_launch, &u->free_launch, &u->first_launch, &u->last_launch,
                          &u->uses, &u->first_ns, &u->gap_launches, &u->gap_ns,
                          &u->dead_writes, &u->dead_bytes};
    size_t want = sizeof fields / sizeof fields[0];
    if (n != want + 1)
        return fail(r, "use line has %zu fields, wants %zu", n, want + 1);
    for (size_t i = 0; i < want; i++)
        if (!parse_u64(tok[i + 1], 10, fields[i]))
            return fail(r, "malformed use line");
    if (u->uses && (u->first_launch < u->alloc_launch || u->last_launch < u->first_launch))
        return fail(r, "use line: its launches are out of order");
    return 0;
}

static int cmp_site(const void *a, const void *b)
{
    uint32_t x = ((const struct grey_raw_site *)a)->id, y = ((const struct grey_raw_site *)b)->id;
    return x < y ? -1 : x > y;
}

/* Text after the first n space-separated fields (paths may hold spaces). */
static const char *rest_after(const char *line, int fields)
{
    const char *p = line;
    for (int i = 0; i < fields; i++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ')
        p++;
    return p;
}

static int parse_file(FILE *f, struct reader *r, struct grey_raw_process *p)
{
    size_t cap_mod = 0, cap_site = 0, cap_buf = 0, cap_snap = 0;
    char *line = NULL, *copy = NULL;
    size_t linecap = 0;
    ssize_t len;
    bool ended = false, have_pid = false, have_times = false;
    int rc = 0;
    size_t total = 0;
    while (rc == 0 && (len = getline(&line, &linecap, f)) >= 0) {
        r->lineno++;
        total += (size_t)len;
        if (len > GREY_RAW_MAX_LINE || total > GREY_RAW_MAX_BYTES) {
            rc = fail(r, "%s", len > GREY_RAW_MAX_LINE ? "line longer than 64 KiB" : "record larger than 256 MiB");
            break;
        }
        if (ended) {
            rc = fail(r, "text after the end line");
            break;
        }
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        free(copy);
        copy = strdup(line);
        if (!copy) {
            rc = fail(r, "out of memory");
            break;
        }
        char *tok[MAX_TOKENS];
        size_t n = split(line, tok, MAX_TOKENS);
        if (r->lineno == 1) {
            if (n != 2 || strcmp(tok[0], "grey-raw") != 0)
                rc = fail(r, "not a grey raw record (no 'grey-raw' header)");
            else if (strcmp(tok[1], "1") != 0)
                rc = fail(r, "raw record version %s; this grey reads version %d", tok[1], GREY_RAW_VERSION);
            continue;
        }
        if (n == 0) {
            rc = fail(r, "empty line");
            break;
        }
        const char *key = tok[0];
        uint64_t v = 0;
        if (strcmp(key, "pid") == 0) {
            if (n != 2 || !parse_u64(tok[1], 10, &v) || v == 0 || v > INT32_MAX)
                rc = fail(r, "malformed pid");
            p->hdr.pid = (int)v;
            have_pid = true;
        } else if (strcmp(key, "run") == 0) {
            if (n != 2 || !parse_u64(tok[1], 16, &p->hdr.run_id))
                rc = fail(r, "malformed run id");
        } else if (strcmp(key, "exe") == 0) {
            snprintf(p->hdr.exe, sizeof p->hdr.exe, "%s", rest_after(copy, 1));
        } else if (strcmp(key, "reason") == 0) {
            if (n != 2 || strlen(tok[1]) >= sizeof p->hdr.reason)
                rc = fail(r, "malformed reason");
            else
                strcpy(p->hdr.reason, tok[1]);
        } else if (strcmp(key, "times") == 0) {
            if (n != 3 || !parse_u64(tok[1], 10, &p->hdr.start_ns) || !parse_u64(tok[2], 10, &p->hdr.end_ns))
                rc = fail(r, "malformed times");
            have_times = true;
        } else if (strcmp(key, "config") == 0) {
            uint64_t d = 0, s = 0, depth = 0;
            if (n != 4 || !parse_kv(tok[1], "dedup", &d) || !parse_kv(tok[2], "sites", &s) ||
                !parse_kv(tok[3], "depth", &depth) || d > 1 || s > 1 || depth > GREY_SITE_MAX_DEPTH)
                rc = fail(r, "malformed config");
            p->hdr.dedup = d;
            p->hdr.sites = s;
            p->hdr.depth = (unsigned)depth;
        } else if (strcmp(key, "peak") == 0) {
            if (n != 3 || !parse_u64(tok[1], 10, &p->hdr.peak_ns) || !parse_u64(tok[2], 10, &p->hdr.peak_bytes))
                rc = fail(r, "malformed peak");
        } else if (strcmp(key, "launches") == 0) {
            if (n != 5 || !parse_u64(tok[1], 10, &p->hdr.launches) || !parse_u64(tok[2], 10, &p->hdr.kernel_peak_bytes) ||
                !parse_u64(tok[3], 10, &p->hdr.kernel_peak_launch) || !parse_u64(tok[4], 10, &p->hdr.kernel_peak_ns))
                rc = fail(r, "malformed launches line");
            p->hdr.has_launches = true;
        } else if (strcmp(key, "use") == 0) {
            struct grey_raw_buffer *b = p->nbuffers ? &p->buffers[p->nbuffers - 1] : NULL;
            if (!b || b->has_use)
                rc = fail(r, "a use line that follows no buf line");
            else
                rc = parse_use(r, tok, n, &b->use);
            if (rc == 0)
                b->has_use = true;
        } else if (strcmp(key, "snapshot") == 0) {
            struct grey_raw_snapshot *s = grow((void **)&p->snapshots, &p->nsnapshots, &cap_snap, sizeof *s);
            if (!s)
                rc = fail(r, "out of memory");
            else if (n != 6 || source_of(tok[1], &s->source) != 0 || !parse_u64(tok[2], 10, &s->ns) ||
                     !parse_u64(tok[3], 10, &s->buffers) || !parse_u64(tok[4], 10, &s->bytes) ||
                     !parse_u64(tok[5], 10, &s->failed))
                rc = fail(r, "malformed snapshot");
        } else if (strcmp(key, "module") == 0) {
            if (n < 3 || !parse_u64(tok[1], 10, &v) || v != p->nmodules) {
                rc = fail(r, "module ids must count up from 0");
            } else {
                char **m = grow((void **)&p->modules, &p->nmodules, &cap_mod, sizeof *m);
                if (!m || !(*m = strdup(rest_after(copy, 2))))
                    rc = fail(r, "out of memory");
            }
        } else if (strcmp(key, "site") == 0) {
            struct grey_raw_site *s = grow((void **)&p->sites, &p->nsites, &cap_site, sizeof *s);
            rc = s ? parse_site(r, tok, n, s) : fail(r, "out of memory");
            for (unsigned i = 0; rc == 0 && i < s->depth; i++)
                if (s->frames[i].module >= (int32_t)p->nmodules)
                    rc = fail(r, "site %u names module %d before it is declared", s->id, (int)s->frames[i].module);
        } else if (strcmp(key, "buf") == 0) {
            struct grey_raw_buffer *b = grow((void **)&p->buffers, &p->nbuffers, &cap_buf, sizeof *b);
            rc = b ? parse_buffer(r, tok, n, b) : fail(r, "out of memory");
        } else if (strcmp(key, "dropped") == 0) {
            if (n != 4 || !parse_kv(tok[1], "freed", &p->counts.freed_dropped) ||
                !parse_kv(tok[2], "sites", &p->counts.sites_dropped) ||
                !parse_kv(tok[3], "kernel_args", &p->counts.kernel_args_unknown))
                rc = fail(r, "malformed dropped line");
        } else if (strcmp(key, "end") == 0) {
            ended = true;
        } else {
            rc = fail(r, "unknown record '%s'", key);
        }
    }
    free(line);
    free(copy);
    if (rc != 0)
        return rc;
    if (r->lineno == 0)
        return fail(r, "empty file");
    if (!ended)
        return fail(r, "truncated: no end line (the process may have died while writing)");
    if (!have_pid || !have_times)
        return fail(r, "the pid or times line is missing");
    if (p->nsites > 1) /* qsort of no array (a record without site lines) is undefined */
        qsort(p->sites, p->nsites, sizeof *p->sites, cmp_site);
    for (size_t i = 1; i < p->nsites; i++)
        if (p->sites[i].id == p->sites[i - 1].id)
            return fail(r, "site %u appears twice", p->sites[i].id);
    return 0;
}

int grey_raw_read(const char *path, struct grey_raw_process *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct reader r = {path, 0, err, errlen};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st = {0};
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > GREY_RAW_MAX_BYTES) {
        snprintf(err, errlen, "%s: %s", path, !S_ISREG(st.st_mode) ? "not a regular file" : "larger than 256 MiB, the most a raw record may be");
        fclose(f);
        return -1;
    }
    int rc = parse_file(f, &r, out);
    fclose(f);
    if (rc != 0)
        grey_raw_free(out);
    return rc;
}

void grey_raw_free(struct grey_raw_process *p)
{
    for (size_t i = 0; i < p->nmodules; i++)
        free(p->modules[i]);
    free(p->modules);
    free(p->sites);
    free(p->buffers);
    free(p->snapshots);
    memset(p, 0, sizeof *p);
}

bool grey_raw_sniff(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char head[9] = "";
    size_t n = fread(head, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(head, "grey-raw", 8) == 0;
}

const struct grey_raw_site *grey_raw_site(const struct grey_raw_process *p, uint32_t id)
{
    struct grey_raw_site key = {.id = id};
    return bsearch(&key, p->sites, p->nsites, sizeof key, cmp_site);
}
