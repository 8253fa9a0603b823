/* The waste patterns (waste.h): one pass over every buffer for the per-buffer patterns, one
 * sort per size class for redundant allocations. */
#include "waste.h"
#include "array_room.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[GREY_WASTE_KINDS] = {
    "early_allocation", "late_deallocation", "temporary_idle", "unused_allocation",
    "redundant_allocation", "dead_write", "memory_leak",
};

const char *grey_waste_kind_name(enum grey_waste_kind kind)
{
    return kind < GREY_WASTE_KINDS ? kind_names[kind] : "unknown";
}

struct lists {
    struct grey_waste_result *r;
    size_t cap[GREY_WASTE_KINDS];
    bool failed;
};

static double secs(uint64_t from, uint64_t to) { return to > from ? (double)(to - from) / 1e9 : 0.0; }

static void add(struct lists *l, enum grey_waste_kind k, struct grey_waste_finding f)
{
    struct grey_waste_result *r = l->r;
    void *findings = r->findings[k];
    if (!grey_array_room(&findings, r->count[k], &l->cap[k], sizeof f)) {
        l->failed = true;
        return;
    }
    r->findings[k] = findings;
    r->findings[k][r->count[k]++] = f;
    r->bytes[k] += f.bytes;
    r->byte_seconds[k] += (double)f.bytes * f.seconds;
}

static void per_buffer(struct lists *l, const struct grey_raw_process *p, uint32_t pi, const struct grey_dedup_options *opt)
{
    bool at_exit = strcmp(p->hdr.reason, "exit") == 0;
    for (uint32_t i = 0; i < p->nbuffers; i++) {
        const struct grey_raw_buffer *b = &p->buffers[i];
        struct grey_buf_ref ref = {pi, i};
        uint64_t end = grey_dedup_end_ns(p, b);
        if (b->live && at_exit && b->kind != GREY_RAW_CONTEXT) /* a context is the runtime's, not a leak */
            add(l, GREY_WASTE_LEAK, (struct grey_waste_finding){ref, 0, b->bytes, secs(b->alloc_ns, end), {0, 0}});
        if (!b->has_use || b->kind != GREY_RAW_PTR)
            continue; /* uses are seen only with GREY_DEDUP, and only of addressable memory */
        const struct grey_raw_use *u = &b->use;
        if (u->uses == 0) {
            add(l, GREY_WASTE_UNUSED, (struct grey_waste_finding){ref, u->free_launch - u->alloc_launch, b->bytes,
                                                                  secs(b->alloc_ns, end), {0, 0}});
            continue;
        }
        uint64_t early = u->first_launch - u->alloc_launch;
        if (early >= opt->early_launches && early > 0)
            add(l, GREY_WASTE_EARLY, (struct grey_waste_finding){ref, early, b->bytes, secs(b->alloc_ns, u->first_ns), {0, 0}});
        uint64_t late = u->free_launch > u->last_launch ? u->free_launch - u->last_launch : 0;
        if (late >= opt->late_launches && late > 0)
            add(l, GREY_WASTE_LATE, (struct grey_waste_finding){ref, late, b->bytes, secs(b->last_use_ns, end), {0, 0}});
        if (u->gap_launches >= opt->idle_launches && u->gap_launches > 0)
            add(l, GREY_WASTE_IDLE, (struct grey_waste_finding){ref, u->gap_launches, b->bytes, (double)u->gap_ns / 1e9, {0, 0}});
        if (u->dead_writes)
            add(l, GREY_WASTE_DEAD_WRITE, (struct grey_waste_finding){ref, u->dead_writes, u->dead_bytes, 0.0, {0, 0}});
    }
}

/* ------------------------------------------------------------------ redundant allocations */

struct item {
    const struct grey_raw_buffer *b;
    uint32_t proc, buf;
};

static int cmp_class_alloc(const void *x, const void *y)
{
    const struct item *a = x, *b = y;
    if (a->proc != b->proc)
        return a->proc < b->proc ? -1 : 1;
    if (a->b->device != b->b->device)
        return a->b->device < b->b->device ? -1 : 1;
    if (a->b->bytes != b->b->bytes)
        return a->b->bytes < b->b->bytes ? -1 : 1;
    if (a->b->alloc_ns != b->b->alloc_ns)
        return a->b->alloc_ns < b->b->alloc_ns ? -1 : 1;
    return 0;
}

static int cmp_free(const void *x, const void *y)
{
    const struct item *a = x, *b = y;
    uint64_t fa = a->b->live ? UINT64_MAX : a->b->free_ns, fb = b->b->live ? UINT64_MAX : b->b->free_ns;
    return fa < fb ? -1 : fa > fb;
}

/* Within one class (process, device, size) in allocation order: a buffer allocated after
 * another was freed could have been that one. Greedy, latest freed first: each freed buffer
 * stands in for one later allocation, which then stands in for the next, so n buffers that never
 * overlap give n - 1 findings (one allocation would have done). */
static void redundant_class(struct lists *l, const struct grey_raw_process *procs, struct item *c, size_t n,
                            struct item *by_free, struct item *stack)
{
    memcpy(by_free, c, n * sizeof *c);
    qsort(by_free, n, sizeof *by_free, cmp_free);
    size_t next_free = 0, depth = 0;
    for (size_t i = 0; i < n; i++) {
        const struct grey_raw_buffer *b = c[i].b;
        while (next_free < n && !by_free[next_free].b->live && by_free[next_free].b->free_ns <= b->alloc_ns)
            stack[depth++] = by_free[next_free++];
        if (depth == 0)
            continue;
        struct item donor = stack[--depth];
        const struct grey_raw_buffer *d = donor.b;
        uint64_t launches = b->has_use && d->has_use && b->use.alloc_launch > d->use.free_launch
                                ? b->use.alloc_launch - d->use.free_launch
                                : 0;
        add(l, GREY_WASTE_REDUNDANT,
            (struct grey_waste_finding){{c[i].proc, c[i].buf}, launches, b->bytes,
                                        secs(b->alloc_ns, grey_dedup_end_ns(&procs[c[i].proc], b)),
                                        {donor.proc, donor.buf}});
    }
}

static int redundant(struct lists *l, const struct grey_raw_process *procs, size_t nprocs)
{
    size_t total = 0;
    for (size_t p = 0; p < nprocs; p++)
        total += procs[p].nbuffers;
    if (total == 0)
        return 0;
    struct item *all = malloc(total * sizeof *all), *tmp = malloc(total * sizeof *all),
                *stack = malloc(total * sizeof *all);
    if (!all || !tmp || !stack) {
        free(all), free(tmp), free(stack);
        return -1;
    }
    size_t n = 0;
    for (size_t p = 0; p < nprocs; p++)
        for (size_t i = 0; i < procs[p].nbuffers; i++)
            if (procs[p].buffers[i].kind == GREY_RAW_PTR && procs[p].buffers[i].bytes)
                all[n++] = (struct item){&procs[p].buffers[i], (uint32_t)p, (uint32_t)i};
    qsort(all, n, sizeof *all, cmp_class_alloc);
    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && all[end].proc == all[start].proc && all[end].b->device == all[start].b->device &&
               all[end].b->bytes == all[start].b->bytes)
            end++;
        if (end - start > 1)
            redundant_class(l, procs, all + start, end - start, tmp, stack);
        start = end;
    }
    free(all), free(tmp), free(stack);
    return 0;
}

/* ------------------------------------------------------------------ the whole */

static int cmp_finding(const void *x, const void *y)
{
    const struct grey_waste_finding *a = x, *b = y;
    double wa = (double)a->bytes * (a->seconds > 0 ? a->seconds : 1e-9);
    double wb = (double)b->bytes * (b->seconds > 0 ? b->seconds : 1e-9);
    return wa > wb ? -1 : wa < wb;
}

int grey_waste_analyze(const struct grey_raw_process *procs, size_t nprocs, const struct grey_dedup_options *opt,
                       struct grey_waste_result *out)
{
    memset(out, 0, sizeof *out);
    out->optimal_proc = -1;
    struct lists l = {.r = out};
    for (size_t p = 0; p < nprocs; p++) {
        per_buffer(&l, &procs[p], (uint32_t)p, opt);
        if (procs[p].hdr.kernel_peak_bytes &&
            (out->optimal_proc < 0 || procs[p].hdr.kernel_peak_bytes > procs[out->optimal_proc].hdr.kernel_peak_bytes))
            out->optimal_proc = (int)p;
    }
    if (redundant(&l, procs, nprocs) != 0 || l.failed) {
        grey_waste_result_free(out);
        return -1;
    }
    for (int k = 0; k < GREY_WASTE_KINDS; k++)
        if (out->count[k] > 1)
            qsort(out->findings[k], out->count[k], sizeof *out->findings[k], cmp_finding);
    return 0;
}

void grey_waste_result_free(struct grey_waste_result *r)
{
    for (int k = 0; k < GREY_WASTE_KINDS; k++)
        free(r->findings[k]);
    memset(r, 0, sizeof *r);
    r->optimal_proc = -1;
}
