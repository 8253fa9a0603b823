/* The live grey-top's data (see top_model.h). */
#include "top_model.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fair_view.h"
#include "ledger_source.h"

unsigned top_ledger_list(const char *given, const char *default_path, bool admin, char paths[][PATH_MAX],
                         unsigned max)
{
    unsigned n = 0;
    if (max == 0)
        return 0;
    snprintf(paths[n++], PATH_MAX, "%s", given ? given : default_path);
    if (given || !admin)
        return n;
    /* Every user's private ledger (policy/ledger_path.c names them); root may read them all. */
    glob_t g;
    if (glob("/dev/shm/grey-*.ledger", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
            bool dup = false;
            for (unsigned j = 0; j < n && !dup; j++)
                dup = strcmp(paths[j], g.gl_pathv[i]) == 0;
            if (!dup)
                snprintf(paths[n++], PATH_MAX, "%s", g.gl_pathv[i]);
        }
        globfree(&g);
    }
    return n;
}

/* Bytes from a foreign process end up on a terminal: only printable ASCII stays. */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

static void basename_then(const char *argv0, const char *rest, char *out, size_t len)
{
    const char *slash = strrchr(argv0, '/');
    const char *base = slash && slash[1] ? slash + 1 : argv0;
    snprintf(out, len, "%s%s%s", base, rest && *rest ? " " : "", rest ? rest : "");
}

void top_command(int32_t pid, bool other_pidns, const char *ledger_command, char *out, size_t len)
{
    /* The ledger keeps 64 bytes of the full path; /proc has the whole command line, when the
     * process lives in our PID namespace (else its pid means another process here). */
    if (!other_pidns && pid > 0) {
        char p[64], buf[4096];
        snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = '\0';
                size_t first = strlen(buf);
                for (ssize_t i = 0; i < n - 1; i++) /* arguments joined by spaces */
                    if (buf[i] == '\0')
                        buf[i] = ' ';
                char argv0[4096];
                snprintf(argv0, sizeof argv0, "%.*s", (int)first, buf);
                basename_then(argv0, first < (size_t)n ? buf + first + 1 : NULL, out, len);
                printable(out);
                return;
            }
        }
    }
    char argv0[GREY_COMMAND_MAX + 1];
    size_t first = strcspn(ledger_command, " ");
    snprintf(argv0, sizeof argv0, "%.*s", (int)first, ledger_command);
    basename_then(argv0, ledger_command[first] ? ledger_command + first + 1 : NULL, out, len);
    printable(out);
}

static int find_gpu(struct top_model *m, const struct grey_view *v, int d)
{
    bool known = v->gpus & GREY_DEVBIT(d);
    char label[48];
    if (known && v->gpu[d].index >= 0)
        snprintf(label, sizeof label, "GPU %d", (int)v->gpu[d].index);
    else if (known)
        snprintf(label, sizeof label, "GPU ?");
    else
        snprintf(label, sizeof label, "row %d", d);
    for (unsigned g = 0; g < m->ngpus; g++) {
        bool same = known ? strcmp(m->gpu[g].uuid, v->gpu[d].uuid) == 0
                          : !m->gpu[g].uuid[0] && strcmp(m->gpu[g].label, label) == 0;
        if (same)
            return (int)g;
    }
    if (m->ngpus >= GREY_MAX_DEVICES)
        return -1;
    struct top_gpu *g = &m->gpu[m->ngpus];
    memset(g, 0, sizeof *g);
    snprintf(g->label, sizeof g->label, "%s", label);
    g->index = known ? v->gpu[d].index : -1;
    g->budget = UINT64_MAX;
    if (known) {
        snprintf(g->uuid, sizeof g->uuid, "%s", v->gpu[d].uuid);
        snprintf(g->name, sizeof g->name, "%s", v->gpu[d].name);
        printable(g->uuid);
        printable(g->name);
        g->total = v->gpu[d].total_bytes;
    }
    return (int)m->ngpus++;
}

static struct top_row *new_row(struct top_model *m)
{
    if (m->nrows == m->cap_rows) {
        unsigned cap = m->cap_rows ? m->cap_rows * 2 : 64;
        struct top_row *r = realloc(m->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        m->rows = r;
        m->cap_rows = cap;
    }
    struct top_row *r = &m->rows[m->nrows++];
    memset(r, 0, sizeof *r);
    return r;
}

void top_model_add_view(struct top_model *m, const struct grey_view *v)
{
    int map[GREY_MAX_DEVICES]; /* ledger row -> top_gpu */
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        map[d] = -1;
        if (!(v->devices & GREY_DEVBIT(d)))
            continue;
        map[d] = find_gpu(m, v, d);
        if (map[d] < 0)
            continue;
        struct top_gpu *g = &m->gpu[map[d]];
        g->used += v->used[d];
        if (v->budget[d] != UINT64_MAX) {
            g->budget = g->budget == UINT64_MAX ? v->budget[d] : g->budget + v->budget[d];
            g->used_budgeted += v->used[d];
        }
        g->admin |= (v->budget_admin & GREY_DEVBIT(d)) != 0;
        g->contended |= (v->contended & GREY_DEVBIT(d)) != 0;
    }
    m->nprocs += v->nprocs;
    m->stale += v->stale;
    m->stale_bytes += v->stale_bytes;
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        char command[TOP_COMMAND_MAX];
        top_command(p->pid, p->other_pidns, p->command, command, sizeof command);
        bool any = false;
        for (int d = 0; d <= GREY_MAX_DEVICES; d++) {
            bool last = d == GREY_MAX_DEVICES;
            if (last ? any : !(p->devices & GREY_DEVBIT(d)))
                continue;
            struct top_row *r = new_row(m);
            if (!r)
                return;
            r->pid = p->pid;
            r->other_pidns = p->other_pidns;
            snprintf(r->user, sizeof r->user, "%s", p->user);
            snprintf(r->command, sizeof r->command, "%s", command);
            r->launches = p->launches;
            r->gpu = -1;
            r->cap = UINT64_MAX;
            r->lead_ns = p->max_lead_ns;
            if (last)
                break;
            any = true;
            r->gpu = map[d];
            r->used = p->dev[d].used;
            r->peak = p->dev[d].peak;
            r->cap = p->dev[d].cap;
            r->denied = p->dev[d].denied;
            const struct grey_view_fair *f = &p->fair[d];
            r->weight = f->weight;
            r->active = f->active;
            r->waiting = f->waiting;
            r->queued_ns = f->queued_ns;
            r->throttled_ns = f->throttled_ns;
            grey_fair_shares(v, i, d, &r->entitled, &r->measured);
        }
    }
}

static void note(struct top_model *m, const char *text)
{
    size_t n = strlen(m->note);
    snprintf(m->note + n, sizeof m->note - n, "%s%s", n ? "; " : "", text);
}

void top_model_reset(struct top_model *m, const char *first_ledger)
{
    m->nledgers = m->ngpus = m->nprocs = m->stale = m->nrows = 0;
    m->stale_bytes = 0;
    m->note[0] = '\0';
    memset(&m->dups, 0, sizeof m->dups);
    snprintf(m->first_ledger, sizeof m->first_ledger, "%s", first_ledger);
}

void top_model_load(struct top_model *m, char paths[][PATH_MAX], unsigned npaths)
{
    static struct grey_view v; /* 2 MB: one, reused for every ledger */
    top_model_reset(m, npaths ? paths[0] : "-");
    for (unsigned i = 0; i < npaths; i++) {
        char err[PATH_MAX + 256];
        if (!ledger_source_present(paths[i])) {
            if (npaths == 1) {
                snprintf(err, sizeof err, "no ledger at %s yet: no hooked process has run", paths[i]);
                note(m, err);
            }
            continue;
        }
        if (grey_view_load(paths[i], true, &v, err, sizeof err) != 0) {
            note(m, err);
            continue;
        }
        grey_view_name_users(&v);
        m->nledgers++;
        top_model_add_view(m, &v);
        top_dups_add(&m->dups, paths[i]);
    }
}

static enum top_sort sort_key;

static int cmp_u64_desc(uint64_t a, uint64_t b) { return a < b ? 1 : a > b ? -1 : 0; }

static int cmp_rows(const void *pa, const void *pb)
{
    const struct top_row *a = pa, *b = pb;
    int c = 0;
    switch (sort_key) {
    case TOP_SORT_MEMORY:
        c = cmp_u64_desc(a->used, b->used);
        break;
    case TOP_SORT_LAUNCHES:
        c = cmp_u64_desc(a->launches, b->launches);
        break;
    case TOP_SORT_SHARE:
        c = a->measured < b->measured ? 1 : a->measured > b->measured ? -1 : 0;
        break;
    case TOP_SORT_PID:
        break;
    }
    if (c == 0) /* a steady order, so rows do not jump between refreshes */
        c = a->pid < b->pid ? -1 : a->pid > b->pid ? 1 : a->gpu - b->gpu;
    return c;
}

void top_model_sort(struct top_model *m, enum top_sort by)
{
    sort_key = by;
    if (m->nrows)
        qsort(m->rows, m->nrows, sizeof *m->rows, cmp_rows);
}

void top_model_free(struct top_model *m)
{
    free(m->rows);
    m->rows = NULL;
    m->nrows = m->cap_rows = 0;
}
