/* The waste patterns (policy/waste.h) and the launch clock they come from
 * (policy/buffer_use.h): each pattern found at its threshold and not below it, the distances
 * and bytes it reports, redundant allocations chained, and a raw record's use lines read back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/buffer_use.h"
#include "policy/waste.h"

#define MiB (1ull << 20)
#define S 1000000000ull

/* ------------------------------------------------------------------ the launch clock */

Test(buffer_use, first_last_gap_and_dead_writes)
{
    struct grey_buffer_use u = {.alloc_launch = 3};
    grey_use_note(&u, GREY_USE_WRITE, 5, 5, 100, 0, true, MiB);    /* a memset of all of it */
    grey_use_note(&u, GREY_USE_WRITE, 5, 5, 110, 100, true, MiB);  /* overwritten unused: dead */
    grey_use_note(&u, GREY_USE_READ, 5, 6, 120, 110, false, MiB);  /* launch 6 reads it */
    grey_use_note(&u, GREY_USE_READ, 30, 31, 400, 120, false, MiB); /* 24 launches later */
    grey_use_note(&u, GREY_USE_WRITE, 31, 31, 410, 400, true, MiB); /* a write, then nothing: not dead */
    cr_assert_eq(u.first_delta, 2);
    cr_assert_eq(u.first_ticks, 100);
    cr_assert_eq(u.last_delta, 28);
    cr_assert_eq(u.uses, 5);
    cr_assert_eq(u.gap_launches, 24);
    cr_assert_eq(u.gap_ticks, 280);
    cr_assert_eq(u.dead_writes, 1);
    cr_assert_eq(u.dead_bytes, MiB);
}

Test(buffer_use, a_buffer_filled_in_parts_is_no_dead_write)
{
    struct grey_buffer_use u = {0};
    grey_use_note(&u, GREY_USE_WRITE, 0, 0, 1, 0, false, 2 * MiB);  /* first half */
    grey_use_note(&u, GREY_USE_WRITE, 0, 0, 2, 1, false, 2 * MiB);  /* second half */
    cr_assert_eq(u.dead_writes, 0);
    grey_use_note(&u, GREY_USE_WRITE, 0, 0, 3, 2, true, 2 * MiB);   /* all of it, over two halves: not counted */
    cr_assert_eq(u.dead_writes, 0, "a partial write pending is never counted dead");
    grey_use_note(&u, GREY_USE_WRITE, 0, 0, 4, 3, true, 2 * MiB);   /* all of it again, over the whole one */
    cr_assert_eq(u.dead_writes, 1);
    cr_assert_eq(u.dead_bytes, 2 * MiB);
}

Test(buffer_use, launch_deltas_saturate)
{
    struct grey_buffer_use u = {.alloc_launch = 10};
    cr_assert_eq(grey_use_delta(&u, 5), 0, "before the allocation: 0");
    cr_assert_eq(grey_use_delta(&u, 10 + (1ull << 40)), UINT32_MAX);
}

/* ------------------------------------------------------------------ patterns */

struct when {
    uint64_t alloc_l, first_l, last_l, free_l, uses, gap_l, dead;
};

static struct grey_raw_buffer buf(uint64_t bytes, uint64_t alloc_ns, uint64_t free_ns, struct when w)
{
    struct grey_raw_buffer b = {.live = free_ns == 0, .kind = GREY_RAW_PTR, .addr = 0x100000 + alloc_ns,
                                .bytes = bytes, .alloc_ns = alloc_ns, .free_ns = free_ns,
                                .last_use_ns = w.uses ? alloc_ns + 1 : 0, .has_use = true};
    strcpy(b.api, "cuMemAlloc");
    b.use = (struct grey_raw_use){.alloc_launch = w.alloc_l, .free_launch = w.free_l, .first_launch = w.first_l,
                                  .last_launch = w.last_l, .uses = w.uses, .first_ns = w.uses ? alloc_ns + 1 : 0,
                                  .gap_launches = w.gap_l, .gap_ns = w.gap_l ? S : 0, .dead_writes = w.dead,
                                  .dead_bytes = w.dead * bytes};
    return b;
}

static struct grey_raw_process proc(struct grey_raw_buffer *b, size_t n, const char *reason)
{
    struct grey_raw_process p = {.buffers = b, .nbuffers = n};
    p.hdr.pid = 100;
    p.hdr.dedup = true;
    p.hdr.start_ns = 1;
    p.hdr.end_ns = 100 * S;
    strcpy(p.hdr.reason, reason);
    return p;
}

static struct grey_waste_result analyze(struct grey_raw_process *p, size_t n)
{
    struct grey_dedup_options opt;
    grey_dedup_default_options(&opt);
    struct grey_waste_result r;
    cr_assert_eq(grey_waste_analyze(p, n, &opt, &r), 0);
    return r;
}

static size_t total(const struct grey_waste_result *r)
{
    size_t n = 0;
    for (int k = 0; k < GREY_WASTE_KINDS; k++)
        n += r->count[k];
    return n;
}

Test(waste, each_pattern_at_its_threshold_not_below)
{
    struct grey_raw_buffer b[] = {
        buf(1 * MiB, 1 * S, 2 * S, (struct when){0, 10, 11, 11, 1, 0, 0}), /* early: 10 */
        buf(2 * MiB, 1 * S, 2 * S, (struct when){0, 9, 10, 10, 1, 0, 0}),  /* 9: clean */
        buf(3 * MiB, 1 * S, 2 * S, (struct when){0, 0, 1, 11, 1, 0, 0}),   /* late: 10 */
        buf(4 * MiB, 1 * S, 2 * S, (struct when){0, 0, 12, 12, 2, 10, 0}), /* idle: 10 */
        buf(5 * MiB, 1 * S, 2 * S, (struct when){0, 0, 0, 4, 0, 0, 0}),    /* unused */
        buf(6 * MiB, 1 * S, 2 * S, (struct when){0, 0, 1, 1, 3, 0, 2}),    /* two dead writes */
        buf(7 * MiB, 1 * S, 0, (struct when){0, 0, 1, 1, 1, 0, 0}),        /* leak */
    };
    struct grey_raw_process p = proc(b, sizeof b / sizeof b[0], "exit");
    struct grey_waste_result r = analyze(&p, 1);
    cr_assert_eq(total(&r), 6);
    uint32_t want[GREY_WASTE_KINDS] = {0, 2, 3, 4, 99, 5, 6};
    for (int k = 0; k < GREY_WASTE_KINDS; k++) {
        if (k == GREY_WASTE_REDUNDANT) {
            cr_assert_eq(r.count[k], 0);
            continue;
        }
        cr_assert_eq(r.count[k], 1, "%s", grey_waste_kind_name(k));
        cr_assert_eq(r.findings[k][0].ref.buf, want[k], "%s", grey_waste_kind_name(k));
    }
    cr_assert_eq(r.findings[GREY_WASTE_EARLY][0].launches, 10);
    cr_assert_eq(r.findings[GREY_WASTE_LATE][0].launches, 10);
    cr_assert_eq(r.findings[GREY_WASTE_IDLE][0].launches, 10);
    cr_assert_eq(r.findings[GREY_WASTE_DEAD_WRITE][0].launches, 2);
    cr_assert_eq(r.findings[GREY_WASTE_DEAD_WRITE][0].bytes, 12 * MiB);
    cr_assert_eq(r.bytes[GREY_WASTE_LEAK], 7 * MiB);
    cr_assert_float_eq(r.findings[GREY_WASTE_IDLE][0].seconds, 1.0, 1e-9);
    grey_waste_result_free(&r);
}

Test(waste, a_live_record_is_no_leak)
{
    struct grey_raw_buffer b[] = {buf(1 * MiB, 1 * S, 0, (struct when){0, 0, 1, 1, 1, 0, 0})};
    struct grey_raw_process p = proc(b, 1, "live");
    struct grey_waste_result r = analyze(&p, 1);
    cr_assert_eq(total(&r), 0, "a process asked while running has not leaked what it holds");
    grey_waste_result_free(&r);
}

Test(waste, redundant_allocations_chain_and_overlap_does_not_count)
{
    struct when used = {0, 0, 1, 1, 1, 0, 0};
    struct grey_raw_buffer b[] = {
        buf(8 * MiB, 1 * S, 2 * S, used),
        buf(8 * MiB, 3 * S, 4 * S, used), /* could be the first */
        buf(8 * MiB, 5 * S, 6 * S, used), /* could be the second (itself the first) */
        buf(8 * MiB, 5 * S + 1, 7 * S, used), /* overlaps the third, and the first two are taken */
        buf(4 * MiB, 8 * S, 9 * S, used), /* another size */
    };
    struct grey_raw_process p = proc(b, sizeof b / sizeof b[0], "exit");
    struct grey_waste_result r = analyze(&p, 1);
    /* Two 8 MiB buffers were ever needed at once (the third and fourth): four allocations, two
     * of them redundant. */
    cr_assert_eq(r.count[GREY_WASTE_REDUNDANT], 2);
    cr_assert_eq(r.bytes[GREY_WASTE_REDUNDANT], 16 * MiB);
    for (size_t i = 0; i < r.count[GREY_WASTE_REDUNDANT]; i++) {
        const struct grey_waste_finding *f = &r.findings[GREY_WASTE_REDUNDANT][i];
        cr_assert(b[f->other.buf].free_ns <= b[f->ref.buf].alloc_ns, "a donor freed before the allocation");
        cr_assert_neq(f->ref.buf, 4);
    }
    grey_waste_result_free(&r);
}

Test(waste, without_use_lines_only_leaks_and_redundancy)
{
    struct grey_raw_buffer b[] = {buf(1 * MiB, 1 * S, 0, (struct when){0})};
    b[0].has_use = false;
    struct grey_raw_process p = proc(b, 1, "exit");
    struct grey_waste_result r = analyze(&p, 1);
    cr_assert_eq(r.count[GREY_WASTE_UNUSED], 0, "unknown use is not no use");
    cr_assert_eq(r.count[GREY_WASTE_LEAK], 1);
    grey_waste_result_free(&r);
}

/* ------------------------------------------------------------------ the raw record */

Test(waste, use_and_launches_lines_round_trip)
{
    char path[] = "/tmp/grey-waste-raw.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static struct grey_raw_writer w;
    grey_raw_writer_init(&w, fd);
    struct grey_raw_header h = {.pid = 7, .start_ns = 1, .end_ns = 2, .has_launches = true, .launches = 40,
                                .kernel_peak_bytes = 5 * MiB, .kernel_peak_launch = 12, .kernel_peak_ns = 3};
    strcpy(h.reason, "exit");
    grey_raw_write_header(&w, &h);
    struct grey_raw_buffer b = buf(MiB, 1, 0, (struct when){2, 5, 9, 40, 3, 4, 1});
    grey_raw_write_buffer(&w, &b);
    struct grey_raw_counts c = {0};
    cr_assert_eq(grey_raw_write_end(&w, &c), 0);
    close(fd);
    struct grey_raw_process p;
    char err[256];
    cr_assert_eq(grey_raw_read(path, &p, err, sizeof err), 0, "%s", err);
    unlink(path);
    cr_assert(p.hdr.has_launches);
    cr_assert_eq(p.hdr.launches, 40);
    cr_assert_eq(p.hdr.kernel_peak_bytes, 5 * MiB);
    cr_assert_eq(p.hdr.kernel_peak_launch, 12);
    cr_assert_eq(p.nbuffers, 1);
    cr_assert(p.buffers[0].has_use);
    cr_assert_eq(memcmp(&p.buffers[0].use, &b.use, sizeof b.use), 0);
    grey_raw_free(&p);
}

Test(waste, a_use_line_without_its_buffer_is_refused)
{
    char path[] = "/tmp/grey-waste-bad.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "grey-raw 1\npid 7\ntimes 1 2\nuse 0 0 0 0 0 0 0 0 0 0 0\nend\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct grey_raw_process p;
    char err[256];
    cr_assert_eq(grey_raw_read(path, &p, err, sizeof err), -1);
    unlink(path);
    cr_assert(strstr(err, ":4: a use line that follows no buf line"), "%s", err);
}
