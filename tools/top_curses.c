/* One frame of the live grey-top (see top_curses.h). The layout adapts to the terminal: the
 * columns are taken in order of importance while they fit beside a COMMAND of at least
 * MIN_COMMAND characters, so 80 columns show memory and share and a wide terminal shows all. */
#include "top_curses.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MIN_COMMAND 14
#define PAIR_HOT 1     /* over 90% of its cap or budget */
#define PAIR_WAIT 2    /* held at the fair-share gate now */

/* Sizes as top does, to fit 6 columns: 800M, 1.5G, 80.0G, 512K. */
static const char *compact_size(uint64_t b, char *buf, size_t len)
{
    static const char units[] = "BKMGTPE";
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 6)
        v /= 1024, u++;
    if (u == 0)
        snprintf(buf, len, "%lluB", (unsigned long long)b);
    else if (v < 100 && v != (double)(uint64_t)v)
        snprintf(buf, len, "%.1f%c", v, units[u]);
    else
        snprintf(buf, len, "%.0f%c", v, units[u]);
    return buf;
}

static const char *share(double x, bool shown, char *buf, size_t len)
{
    if (!shown)
        return "-";
    snprintf(buf, len, "%.1f", x * 100);
    return buf;
}

typedef const char *(*cell_fn)(const struct top_model *, const struct top_row *, char *, size_t);

static const char *c_pid(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    snprintf(b, n, "%d%s", (int)r->pid, r->other_pidns ? "*" : "");
    return b;
}
static const char *c_user(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m, (void)b, (void)n;
    return r->user;
}
static const char *c_gpu(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    if (r->gpu < 0)
        return "-";
    const struct top_gpu *g = &m->gpu[r->gpu];
    if (g->index >= 0)
        snprintf(b, n, "%d", g->index);
    else
        snprintf(b, n, "#%d", r->gpu);
    return b;
}
static const char *c_used(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return r->gpu < 0 ? "-" : compact_size(r->used, b, n);
}
static const char *c_peak(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return r->gpu < 0 ? "-" : compact_size(r->peak, b, n);
}
static const char *c_cap(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return r->gpu < 0 ? "-" : r->cap == UINT64_MAX ? "none" : compact_size(r->cap, b, n);
}
static const char *c_denied(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    snprintf(b, n, "%llu", (unsigned long long)r->denied);
    return b;
}
static const char *c_launches(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    snprintf(b, n, "%llu", (unsigned long long)r->launches);
    return b;
}
static const char *c_weight(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    if (r->gpu < 0 || !r->weight)
        return "-";
    snprintf(b, n, "%u", (unsigned)r->weight);
    return b;
}
static const char *c_entitled(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return share(r->entitled, r->active, b, n);
}
static const char *c_measured(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return share(r->measured, r->gpu >= 0 && (r->measured > 0 || r->active), b, n);
}
static const char *ms(uint64_t ns, char *b, size_t n)
{
    snprintf(b, n, "%.0fms", (double)ns / 1e6);
    return b;
}
static const char *c_queued(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return r->gpu < 0 ? "-" : ms(r->queued_ns, b, n);
}
static const char *c_lead(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    return r->lead_ns ? ms(r->lead_ns, b, n) : "-";
}
static const char *c_throttled(const struct top_model *m, const struct top_row *r, char *b, size_t n)
{
    (void)m;
    if (r->gpu < 0)
        return "-";
    snprintf(b, n, "%.1fs%s", (double)r->throttled_ns / 1e9, r->waiting ? "!" : "");
    return b;
}

struct column {
    const char *title;
    int width;
    int rank;            /* 0 always; higher ones only when the terminal is wide enough */
    bool left;           /* text columns are left-aligned, numbers right-aligned */
    cell_fn cell;
};

/* ENT% and MEAS%: the share a process is entitled to by its weight and the one it got. */
static const struct column columns[] = {
    {"PID", 8, 0, false, c_pid},        {"USER", 8, 3, true, c_user},
    {"GPU", 3, 0, false, c_gpu},        {"USED", 6, 0, false, c_used},
    {"PEAK", 6, 6, false, c_peak},      {"CAP", 6, 1, false, c_cap},
    {"DENIED", 6, 5, false, c_denied},  {"LAUNCHES", 8, 2, false, c_launches},
    {"WGT", 4, 1, false, c_weight},     {"ENT%", 5, 2, false, c_entitled},
    {"MEAS%", 5, 1, false, c_measured}, {"QUEUED", 6, 4, false, c_queued},
    {"LEAD", 6, 4, false, c_lead},      {"THROTTLED", 9, 5, false, c_throttled},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

/* Which columns fit in cols: lower ranks first, each rank whole or not at all. */
static void choose_columns(int cols, bool shown[NCOLUMNS])
{
    int used = 0;
    memset(shown, 0, NCOLUMNS * sizeof shown[0]);
    for (int rank = 0; rank <= 6; rank++) {
        int need = 0;
        for (size_t c = 0; c < NCOLUMNS; c++)
            if (columns[c].rank == rank)
                need += columns[c].width + 1;
        if (rank > 0 && used + need + MIN_COMMAND > cols)
            break;
        used += need;
        for (size_t c = 0; c < NCOLUMNS; c++)
            if (columns[c].rank == rank)
                shown[c] = true;
    }
}

/* Writes text at the cursor, cut so that it ends before the last column (a character written
 * there on the last line would scroll the screen). */
static void put(int y, int x, const char *text)
{
    int room = COLS - x;
    if (y == LINES - 1)
        room--;
    if (room > 0)
        mvaddnstr(y, x, text, room);
}

static void draw_title(const struct top_model *m)
{
    char when[16] = "", line[PATH_MAX + 128];
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    char where[PATH_MAX + 32];
    if (m->nledgers > 1)
        snprintf(where, sizeof where, "%u ledgers", m->nledgers);
    else
        snprintf(where, sizeof where, "ledger %s", m->first_ledger);
    snprintf(line, sizeof line, "grey-top %s  %u process%s on %u GPU%s  %s", when, m->nprocs,
             m->nprocs == 1 ? "" : "es", m->ngpus, m->ngpus == 1 ? "" : "s", where);
    attron(A_BOLD);
    put(0, 0, line);
    attroff(A_BOLD);
}

/* "GPU 0  NAME  GPU-8f3a1c2e  80G VRAM  used 12G  budget 40G 30%", or "used 12G 15%  no budget"
 * (of the VRAM); the name takes what is left,
 * the UUID is whole on a wide terminal. */
static void draw_gpu(int y, const struct top_gpu *g, const struct top_screen *s)
{
    char total[16] = "?", used[16], budget[16], pct[16] = "", uuid[GREY_UUID_MAX + 2];
    if (g->total)
        compact_size(g->total, total, sizeof total);
    compact_size(g->used, used, sizeof used);
    bool hot = false;
    char tail[256];
    if (g->budget == UINT64_MAX) {
        if (g->total) /* without a budget, how full the GPU itself is */
            snprintf(pct, sizeof pct, " %.0f%%", (double)g->used / (double)g->total * 100);
        snprintf(budget, sizeof budget, "no budget");
    } else {
        /* The share of the budget in use counts only the ledgers that set it (an admin's view
         * may add ledgers without one). */
        char b[16];
        double f = g->budget ? (double)g->used_budgeted / (double)g->budget : 1;
        snprintf(budget, sizeof budget, "budget %s %.0f%%", compact_size(g->budget, b, sizeof b), f * 100);
        hot = f > 0.9;
    }
    snprintf(uuid, sizeof uuid, "%.*s", COLS >= 140 ? GREY_UUID_MAX : 12, g->uuid[0] ? g->uuid : "-");
    snprintf(tail, sizeof tail, "  %s  %s VRAM  used %s%s  %s%s%s", uuid, total, used, pct, budget,
             g->admin ? " (admin)" : "", g->contended ? "  shared" : "");
    int room = COLS - 1 - (int)strlen(g->label) - 2 - (int)strlen(tail);
    char line[512];
    if (room >= 6 && g->name[0])
        snprintf(line, sizeof line, "%s  %-*.*s%s", g->label, room < 28 ? room : 28, room, g->name, tail);
    else
        snprintf(line, sizeof line, "%s%s", g->label, tail);
    if (hot && s->colour)
        attron(COLOR_PAIR(PAIR_HOT));
    attron(A_BOLD);
    put(y, 0, line);
    attroff(A_BOLD);
    if (hot && s->colour)
        attroff(COLOR_PAIR(PAIR_HOT));
}

/* Identical buffers held by different jobs (top_node_dups.h), when there are any: one line,
 * "dups: 2 groups across jobs, 280M reclaimable (largest 2 x 256M, 2 jobs, GPU 0)"; on a
 * terminal of 40 lines or more also a line per group, up to a tenth of its lines. */
static int draw_dups(int y, const struct top_dups *d)
{
    char line[256], a[16], b[16];
    unsigned stored = d->ngroups < TOP_DUP_GROUPS ? d->ngroups : TOP_DUP_GROUPS;
    unsigned lines = LINES >= 40 ? (unsigned)LINES / 10 : 0;
    if (lines > stored)
        lines = stored;
    int n = snprintf(line, sizeof line, "dups: %u group%s across jobs, %s reclaimable", d->ngroups,
                     d->ngroups == 1 ? "" : "s", compact_size(d->reclaimable, a, sizeof a));
    const struct top_dup_group *g = &d->group[0];
    if (lines == 0)
        snprintf(line + n, sizeof line - (size_t)n, " (largest %u x %s, %u jobs, %s)", g->count,
                 compact_size(g->bytes_each, b, sizeof b), g->jobs, g->gpu);
    else if (d->ngroups > lines)
        snprintf(line + n, sizeof line - (size_t)n, "; the largest %u below (all: grey-report --node)", lines);
    put(y++, 0, line);
    for (unsigned i = 0; i < lines; i++, g++) {
        snprintf(line, sizeof line, "  %s back: %u x %s in %u jobs on %s", compact_size(g->reclaimable, a, sizeof a),
                 g->count, compact_size(g->bytes_each, b, sizeof b), g->jobs, g->gpu);
        put(y++, 0, line);
    }
    return y;
}

static int draw_row(int y, const struct top_model *m, const struct top_row *r, const bool shown[NCOLUMNS])
{
    char line[1024];
    int x = 0;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        if (!shown[c])
            continue;
        char buf[64];
        const char *t = columns[c].cell(m, r, buf, sizeof buf);
        x += snprintf(line + x, sizeof line - (size_t)x, columns[c].left ? "%-*.*s " : "%*.*s ", columns[c].width,
                      columns[c].width, t);
    }
    snprintf(line + x, sizeof line - (size_t)x, "%s", r->command);
    put(y, 0, line);
    return x;
}

static const char *sort_names[] = {"memory", "launches", "share", "pid"};

static void draw_footer(const struct top_model *m, const struct top_screen *s, unsigned shown_rows)
{
    char where[64] = "";
    if (m->nrows)
        snprintf(where, sizeof where, "  rows %u-%u of %u", s->scroll + 1, s->scroll + shown_rows, m->nrows);
    char line[256];
    snprintf(line, sizeof line, "sort %s (m l s p)  arrows PgUp PgDn scroll  q quits%s", sort_names[s->sort],
             where);
    attron(A_REVERSE);
    move(LINES - 1, 0);
    clrtoeol();
    put(LINES - 1, 0, line);
    attroff(A_REVERSE);
}

void top_draw(const struct top_model *m, struct top_screen *s)
{
    erase();
    int y = 0;
    draw_title(m);
    y++;
    /* The GPUs take at most a third of the screen, so the processes always show. */
    unsigned max_gpus = LINES / 3 > 1 ? (unsigned)LINES / 3 : 1;
    for (unsigned g = 0; g < m->ngpus && g < max_gpus; g++)
        draw_gpu(y++, &m->gpu[g], s);
    if (m->ngpus > max_gpus) {
        char more[64];
        snprintf(more, sizeof more, "(%u more GPUs: make the terminal taller)", m->ngpus - max_gpus);
        put(y++, 0, more);
    }
    if (m->dups.ngroups)
        y = draw_dups(y, &m->dups);
    char msg[TOP_NOTE_MAX + 128] = "";
    if (m->note[0])
        snprintf(msg, sizeof msg, "%s", m->note);
    else if (!m->nprocs)
        snprintf(msg, sizeof msg, "no hooked process is running");
    if (m->stale) {
        size_t n = strlen(msg);
        char b[16];
        snprintf(msg + n, sizeof msg - n, "%s%u dead process%s still counted (%s)", n ? "; " : "", m->stale,
                 m->stale == 1 ? "" : "es", compact_size(m->stale_bytes, b, sizeof b));
    }
    if (msg[0]) {
        if (s->colour)
            attron(COLOR_PAIR(PAIR_WAIT));
        put(y++, 0, msg);
        if (s->colour)
            attroff(COLOR_PAIR(PAIR_WAIT));
    }
    bool shown[NCOLUMNS];
    choose_columns(COLS, shown);
    char head[512];
    int x = 0;
    for (size_t c = 0; c < NCOLUMNS; c++)
        if (shown[c])
            x += snprintf(head + x, sizeof head - (size_t)x, columns[c].left ? "%-*s " : "%*s ", columns[c].width,
                          columns[c].title);
    snprintf(head + x, sizeof head - (size_t)x, "%-*s", COLS > x ? COLS - x : 0, "COMMAND");
    if (y < LINES - 1) {
        attron(A_REVERSE);
        put(y++, 0, head);
        attroff(A_REVERSE);
    }
    unsigned page = LINES - 1 > y ? (unsigned)(LINES - 1 - y) : 0;
    s->page = page;
    unsigned last_top = m->nrows > page ? m->nrows - page : 0;
    if (s->scroll > last_top)
        s->scroll = last_top;
    unsigned drawn = 0;
    for (unsigned i = s->scroll; i < m->nrows && drawn < page; i++, drawn++) {
        const struct top_row *r = &m->rows[i];
        bool hot = r->gpu >= 0 && r->cap != UINT64_MAX && r->cap && (double)r->used > 0.9 * (double)r->cap;
        int pair = hot ? PAIR_HOT : r->waiting ? PAIR_WAIT : 0;
        if (pair && s->colour)
            attron(COLOR_PAIR(pair));
        draw_row(y++, m, r, shown);
        if (pair && s->colour)
            attroff(COLOR_PAIR(pair));
    }
    draw_footer(m, s, drawn);
}
