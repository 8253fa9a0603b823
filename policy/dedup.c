#include "dedup.h"

#include <stdlib.h>
#include <string.h>

void grey_dedup_default_options(struct grey_dedup_options *opt)
{
    opt->idle_min_ns = GREY_DEDUP_IDLE_MIN_NS;
    opt->idle_fraction = GREY_DEDUP_IDLE_FRACTION;
    opt->early_launches = GREY_WASTE_EARLY_LAUNCHES;
    opt->late_launches = GREY_WASTE_LATE_LAUNCHES;
    opt->idle_launches = GREY_WASTE_IDLE_LAUNCHES;
}

uint64_t grey_dedup_end_ns(const struct grey_raw_process *p, const struct grey_raw_buffer *b)
{
    return b->live ? p->hdr.end_ns : b->free_ns;
}

/* ------------------------------------------------------------------ overlap */

struct edge {
    uint64_t t;
    int delta; /* +1 start, -1 end */
};

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->delta - y->delta; /* ends before starts at the same moment */
}

size_t grey_dedup_max_overlap(const uint64_t *start, const uint64_t *end, size_t n)
{
    if (n == 0)
        return 0;
    struct edge *e = malloc(2 * n * sizeof *e);
    if (!e)
        return 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = start[i], f = end[i] > start[i] ? end[i] : start[i] + 1; /* never empty */
        e[m++] = (struct edge){s, +1};
        e[m++] = (struct edge){f, -1};
    }
    qsort(e, m, sizeof *e, cmp_edge);
    long cur = 0, best = 0;
    for (size_t i = 0; i < m; i++) {
        cur += e[i].delta;
        if (cur > best)
            best = cur;
    }
    free(e);
    return (size_t)best;
}

/* ------------------------------------------------------------------ grouping */

struct cand {
    struct grey_buf_ref ref;
    const struct grey_raw_buffer *b;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct grey_raw_buffer *x = ((const struct cand *)a)->b, *y = ((const struct cand *)b)->b;
    if (x->device != y->device)
        return x->device < y->device ? -1 : 1;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? -1 : 1;
    if (x->fp.hi != y->fp.hi)
        return x->fp.hi < y->fp.hi ? -1 : 1;
    if (x->fp.lo != y->fp.lo)
        return x->fp.lo < y->fp.lo ? -1 : 1;
    if (x->alloc_ns != y->alloc_ns) /* members in allocation order */
        return x->alloc_ns < y->alloc_ns ? -1 : 1;
    const struct grey_buf_ref *rx = &((const struct cand *)a)->ref, *ry = &((const struct cand *)b)->ref;
    if (rx->proc != ry->proc)
        return rx->proc < ry->proc ? -1 : 1;
    return rx->buf < ry->buf ? -1 : rx->buf > ry->buf;
}

static bool same_content(const struct grey_raw_buffer *x, const struct grey_raw_buffer *y)
{
    return x->device == y->device && x->bytes == y->bytes && grey_fp_equal(x->fp, y->fp);
}

static int cmp_group(const void *a, const void *b)
{
    const struct grey_dedup_group *x = a, *y = b;
    if (x->reclaimable != y->reclaimable)
        return x->reclaimable > y->reclaimable ? -1 : 1;
    uint64_t tx = x->bytes_each * x->count, ty = y->bytes_each * y->count;
    if (tx != ty)
        return tx > ty ? -1 : 1;
    if (x->fp.hi != y->fp.hi)
        return x->fp.hi < y->fp.hi ? -1 : 1;
    return x->fp.lo < y->fp.lo ? -1 : x->fp.lo > y->fp.lo;
}

static bool usable_fp(const struct grey_raw_buffer *b)
{
    return b->kind == GREY_RAW_PTR && b->has_fp && !b->fp_stale && b->bytes > 0;
}

static int find_groups(const struct grey_raw_process *procs, size_t nprocs, struct grey_dedup_result *out)
{
    size_t total = 0;
    for (size_t p = 0; p < nprocs; p++)
        total += procs[p].nbuffers;
    struct cand *c = malloc((total ? total : 1) * sizeof *c);
    if (!c)
        return -1;
    size_t n = 0;
    for (size_t p = 0; p < nprocs; p++)
        for (size_t i = 0; i < procs[p].nbuffers; i++)
            if (usable_fp(&procs[p].buffers[i]))
                c[n++] = (struct cand){{(uint32_t)p, (uint32_t)i}, &procs[p].buffers[i]};
    out->fingerprinted = n;
    qsort(c, n, sizeof *c, cmp_cand);

    size_t ngroups = 0, nmembers = 0;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && same_content(c[i].b, c[j].b); j++)
            ;
        if (j - i >= 2) {
            ngroups++;
            nmembers += j - i;
        }
    }
    out->groups = calloc(ngroups ? ngroups : 1, sizeof *out->groups);
    out->members = calloc(nmembers ? nmembers : 1, sizeof *out->members);
    uint64_t *start = malloc((n ? n : 1) * sizeof *start), *end = malloc((n ? n : 1) * sizeof *end);
    if (!out->groups || !out->members || !start || !end) {
        free(c);
        free(start);
        free(end);
        return -1;
    }
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && same_content(c[i].b, c[j].b); j++)
            ;
        if (j - i < 2)
            continue;
        struct grey_dedup_group *g = &out->groups[out->ngroups++];
        g->fp = c[i].b->fp;
        g->bytes_each = c[i].b->bytes;
        g->device = c[i].b->device;
        g->count = j - i;
        g->first = out->nmembers;
        for (size_t k = i; k < j; k++) {
            out->members[out->nmembers++] = c[k].ref;
            start[k - i] = c[k].b->alloc_ns;
            end[k - i] = grey_dedup_end_ns(&procs[c[k].ref.proc], c[k].b);
        }
        g->max_alive = grey_dedup_max_overlap(start, end, g->count);
        g->reclaimable = g->max_alive > 1 ? (g->max_alive - 1) * g->bytes_each : 0;
        out->reclaimable += g->reclaimable;
    }
    free(start);
    free(end);
    free(c);
    qsort(out->groups, out->ngroups, sizeof *out->groups, cmp_group);
    return 0;
}

/* ------------------------------------------------------------------ unused and idle buffers */

struct keyed {
    struct grey_buf_ref ref;
    uint64_t key;
};

static int cmp_keyed_desc(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    if (x->ref.proc != y->ref.proc)
        return x->ref.proc < y->ref.proc ? -1 : 1;
    return x->ref.buf < y->ref.buf ? -1 : x->ref.buf > y->ref.buf;
}

/* Fills *list with the buffers pick() keys (key 0: not picked), sorted by key, largest first. */
static int pick_sorted(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt,
                       uint64_t (*pick)(const struct grey_raw_process *, const struct grey_raw_buffer *,
                                        const struct grey_dedup_options *),
                       struct grey_buf_ref **list, size_t *count)
{
    size_t total = 0;
    for (size_t p = 0; p < nprocs; p++)
        total += procs[p].nbuffers;
    struct keyed *k = malloc((total ? total : 1) * sizeof *k);
    if (!k)
        return -1;
    size_t n = 0;
    for (size_t p = 0; p < nprocs; p++)
        for (size_t i = 0; i < procs[p].nbuffers; i++) {
            uint64_t key = pick(&procs[p], &procs[p].buffers[i], opt);
            if (key)
                k[n++] = (struct keyed){{(uint32_t)p, (uint32_t)i}, key};
        }
    qsort(k, n, sizeof *k, cmp_keyed_desc);
    *list = malloc((n ? n : 1) * sizeof **list);
    if (!*list) {
        free(k);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        (*list)[i] = k[i].ref;
    *count = n;
    free(k);
    return 0;
}

/* Touches are recorded only with dedup on: without it every buffer would look unused. */
static uint64_t pick_untouched(const struct grey_raw_process *p, const struct grey_raw_buffer *b,
                               const struct grey_dedup_options *opt)
{
    (void)opt;
    return p->hdr.dedup && b->kind == GREY_RAW_PTR && b->touched == 0 ? b->bytes : 0;
}

static uint64_t pick_idle(const struct grey_raw_process *p, const struct grey_raw_buffer *b,
                          const struct grey_dedup_options *opt)
{
    if (!p->hdr.dedup || b->live || b->kind != GREY_RAW_PTR || b->last_use_ns == 0 || b->free_ns <= b->last_use_ns)
        return 0;
    uint64_t idle = b->free_ns - b->last_use_ns;
    uint64_t life = b->free_ns > b->alloc_ns ? b->free_ns - b->alloc_ns : 0;
    return idle >= opt->idle_min_ns && (double)idle >= opt->idle_fraction * (double)life ? idle : 0;
}

int grey_dedup_analyze(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt,
                       struct grey_dedup_result *out)
{
    memset(out, 0, sizeof *out);
    out->peak_proc = -1;
    if (find_groups(procs, nprocs, out) != 0 ||
        pick_sorted(procs, nprocs, opt, pick_untouched, &out->untouched, &out->nuntouched) != 0 ||
        pick_sorted(procs, nprocs, opt, pick_idle, &out->idle, &out->nidle) != 0) {
        grey_dedup_result_free(out);
        return -1;
    }
    for (size_t i = 0; i < out->nuntouched; i++)
        out->untouched_bytes += procs[out->untouched[i].proc].buffers[out->untouched[i].buf].bytes;
    uint64_t best = 0;
    for (size_t p = 0; p < nprocs; p++)
        if (procs[p].hdr.peak_bytes > best || (out->peak_proc < 0 && procs[p].hdr.peak_bytes > 0)) {
            best = procs[p].hdr.peak_bytes;
            out->peak_proc = (int)p;
        }
    return 0;
}

void grey_dedup_result_free(struct grey_dedup_result *r)
{
    free(r->groups);
    free(r->members);
    free(r->untouched);
    free(r->idle);
    memset(r, 0, sizeof *r);
    r->peak_proc = -1;
}

static int cmp_site_peak(const void *a, const void *b)
{
    const struct grey_raw_site *x = *(const struct grey_raw_site *const *)a, *y = *(const struct grey_raw_site *const *)b;
    if (x->peak_bytes != y->peak_bytes)
        return x->peak_bytes > y->peak_bytes ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

size_t grey_dedup_peak_sites(const struct grey_raw_process *p, const struct grey_raw_site **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nsites; i++)
        if (p->sites[i].peak_bytes > 0)
            n++;
    const struct grey_raw_site **all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return 0;
    n = 0;
    for (size_t i = 0; i < p->nsites; i++)
        if (p->sites[i].peak_bytes > 0)
            all[n++] = &p->sites[i];
    qsort(all, n, sizeof *all, cmp_site_peak);
    size_t k = n < max ? n : max;
    memcpy(out, all, k * sizeof *out);
    free(all);
    return k;
}
