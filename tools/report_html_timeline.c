/* The HTML page's memory-over-time picture (report_html.h): bytes held by the job's buffers
 * over time as stacked bands, one per call site (the largest ones; the rest as "other"), the
 * sites that allocated duplicates in orange, drawn as inline SVG from the report's timeline.
 *
 * The time axis has one column per pixel. A column shows the moment inside it when the most
 * was held (not its start), so a peak shorter than a pixel still reaches its height. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/size.h"
#include "report_build.h"
#include "report_html.h"
#include "report_timeline.h"

#define COLUMNS 560
#define HEIGHT 220
#define BANDS 8 /* sites drawn on their own; the rest are "other" */

struct band {
    int pid;
    uint32_t site;
    uint64_t bytes;    /* allocated there in all, to choose the bands */
    bool dup;
    int merged;        /* the entry whose label this one shares (stacks naming one frame are one band) */
    char label[600];
};

struct change {
    double t;
    int band;
    int64_t delta;
};

static int cmp_change(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->delta > y->delta) - (x->delta < y->delta); /* frees first at one moment */
}

static int cmp_band(const void *a, const void *b)
{
    const struct band *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* The bands: every (pid, site), merged by the label a reader sees (as the bar chart merges
 * stacks that name one frame), largest first; band BANDS collects the rest. */
static size_t bands_of(const struct grey_timeline *t, struct band *b, size_t max, int *band_of)
{
    size_t n = 0;
    int *entry_of = band_of; /* first the (pid, site) entry of each buffer, then its band */
    for (size_t i = 0; i < t->n; i++) {
        const struct grey_timeline_buffer *x = &t->buffers[i];
        size_t k = 0;
        while (k < n && (b[k].pid != x->pid || b[k].site != x->site))
            k++;
        if (k == n) {
            if (n == max) {
                entry_of[i] = -1;
                continue;
            }
            b[n] = (struct band){.pid = x->pid, .site = x->site};
            grey_report_frame_label(grey_report_site_frame(grey_timeline_site(t, x->pid, x->site)), b[n].label,
                                    sizeof b[n].label);
            n++;
        }
        entry_of[i] = (int)k;
    }
    /* Entries with one label add up into the first of them. */
    for (size_t k = 0; k < n; k++) {
        b[k].merged = (int)k;
        for (size_t j = 0; j < k; j++)
            if (strcmp(b[j].label, b[k].label) == 0) {
                b[k].merged = b[j].merged;
                break;
            }
    }
    for (size_t i = 0; i < t->n; i++)
        if (entry_of[i] >= 0) {
            struct band *m = &b[b[entry_of[i]].merged];
            m->bytes += t->buffers[i].bytes;
            m->dup |= t->buffers[i].group != 0;
            entry_of[i] = b[entry_of[i]].merged;
        }
    /* Bands: the merged entries, largest first. */
    static struct band sorted[4096];
    size_t nb = 0;
    for (size_t k = 0; k < n; k++)
        if (b[k].merged == (int)k)
            sorted[nb++] = b[k];
    qsort(sorted, nb, sizeof *sorted, cmp_band);
    for (size_t i = 0; i < t->n; i++) {
        int e = entry_of[i];
        band_of[i] = BANDS;
        for (size_t k = 0; e >= 0 && k < nb && k < BANDS; k++)
            if (sorted[k].pid == b[e].pid && sorted[k].site == b[e].site)
                band_of[i] = (int)k;
    }
    memcpy(b, sorted, nb * sizeof *b);
    return nb;
}

static const char *const blues[] = {"#1f77b4", "#4f94c4", "#74a9cf", "#2b8cbe", "#a6bddb", "#0570b0", "#3690c0", "#023858"};
static const char *const oranges[] = {"#e8590c", "#fd8d3c", "#d94801", "#fdae6b", "#f16913", "#a63603", "#fd9c5a", "#cc4c02"};

void grey_report_html_timeline(const cJSON *report, FILE *out)
{
    struct grey_timeline t;
    if (!grey_timeline_read(report, &t) || t.n == 0) {
        grey_timeline_free(&t);
        return;
    }
    static struct band bands[4096];
    int *band_of = calloc(t.n, sizeof *band_of);
    struct change *c = malloc(2 * t.n * sizeof *c);
    static double col[COLUMNS][BANDS + 1];
    if (!band_of || !c)
        goto done;
    size_t nb = bands_of(&t, bands, sizeof bands / sizeof bands[0], band_of);
    size_t shown = nb < BANDS ? nb : BANDS;
    size_t n = 0;
    double t_end = t.end_s;
    for (size_t i = 0; i < t.n; i++) {
        c[n++] = (struct change){t.buffers[i].alloc_s, band_of[i], (int64_t)t.buffers[i].bytes};
        if (!t.buffers[i].live)
            c[n++] = (struct change){t.buffers[i].free_s, band_of[i], -(int64_t)t.buffers[i].bytes};
        if (t.buffers[i].free_s > t_end)
            t_end = t.buffers[i].free_s;
    }
    qsort(c, n, sizeof *c, cmp_change);
    double t0 = n ? c[0].t : 0, span = t_end > t0 ? t_end - t0 : 1e-9;
    /* Walk the changes once, column by column, keeping the state of the column's highest moment. */
    double held[BANDS + 1] = {0}, total = 0, max_total = 0;
    size_t k = 0;
    for (int x = 0; x < COLUMNS; x++) {
        double until = t0 + span * (x + 1) / COLUMNS, best = total;
        memcpy(col[x], held, sizeof held);
        while (k < n && (c[k].t < until || x == COLUMNS - 1)) {
            held[c[k].band] += (double)c[k].delta;
            total += (double)c[k].delta;
            if (total > best) {
                best = total;
                memcpy(col[x], held, sizeof held);
            }
            k++;
        }
        if (best > max_total)
            max_total = best;
    }
    if (max_total <= 0)
        goto done;
    char a[32];
    fprintf(out, "<div class=\"panel\"><h2>Memory over time by call site (peak %s, %.3f s in all)</h2>\n",
            grey_size_format((uint64_t)max_total, a, sizeof a), span);
    fprintf(out, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
                 "aria-label=\"bytes held over time, stacked by call site\">\n",
            COLUMNS + 70, HEIGHT + 40 + (int)(shown + 1) * 18);
    /* Bands from the bottom: the largest site first, "other" on top. */
    for (size_t b = 0; b <= BANDS; b++) {
        if ((b >= shown && b != BANDS) || (b == BANDS && nb <= BANDS))
            continue; /* no "other" band when every site has its own */
        bool dup = b < shown && bands[b].dup;
        const char *color = b == BANDS ? "#bbbbbb" : dup ? oranges[b % 8] : blues[b % 8];
        fprintf(out, "  <polygon class=\"band%s\" fill=\"%s\" points=\"", dup ? " dup" : "", color);
        for (int x = 0; x < COLUMNS; x++) { /* the top edge, left to right, as steps */
            double top = 0;
            for (size_t j = 0; j <= b; j++)
                top += col[x][j];
            double y = HEIGHT - top / max_total * HEIGHT;
            fprintf(out, "%d,%.1f %d,%.1f ", 60 + x, y, 61 + x, y);
        }
        for (int x = COLUMNS - 1; x >= 0; x--) { /* the bottom edge back */
            double below = 0;
            for (size_t j = 0; j < b; j++)
                below += col[x][j];
            double y = HEIGHT - below / max_total * HEIGHT;
            fprintf(out, "%d,%.1f %d,%.1f ", 61 + x, y, 60 + x, y);
        }
        fputs("\"><title>", out);
        if (b == BANDS)
            fputs("other call sites", out);
        else
            grey_html_escape(out, bands[b].label);
        fputs("</title></polygon>\n", out);
    }
    fprintf(out, "  <text x=\"0\" y=\"12\">%s</text><text x=\"0\" y=\"%d\">0</text>\n", a, HEIGHT);
    fprintf(out, "  <text x=\"60\" y=\"%d\">0 s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3f s</text>\n",
            HEIGHT + 16, 60 + COLUMNS, HEIGHT + 16, span);
    for (size_t b = 0; b <= shown; b++) { /* the legend */
        size_t band = b < shown ? b : BANDS;
        if (band == BANDS && nb <= BANDS)
            break;
        int y = HEIGHT + 34 + (int)b * 18;
        bool dup = band < shown && bands[band].dup;
        fprintf(out, "  <rect x=\"60\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"78\" y=\"%d\">", y - 10,
                band == BANDS ? "#bbbbbb" : dup ? oranges[band % 8] : blues[band % 8], y);
        if (band == BANDS)
            fputs("other call sites", out);
        else
            grey_html_escape(out, bands[band].label);
        fprintf(out, "%s</text>\n", dup ? " (allocated duplicates)" : "");
    }
    fputs("</svg></div>\n", out);
done:
    free(band_of);
    free(c);
    grey_timeline_free(&t);
}
