/* The analysis behind the buffer report (policy/dedup.h): which buffers are identical, what
 * deduplication gives back, unused and idle buffers, the sites at the peak. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "policy/dedup.h"
#include "policy/tracker.h"

#define MiB (1ull << 20)
#define S 1000000000ull /* one second in ns */

static struct grey_raw_buffer buf(uint64_t bytes, uint64_t fp, uint64_t alloc, uint64_t free_ns)
{
    struct grey_raw_buffer b = {.live = free_ns == 0, .kind = GREY_RAW_PTR, .addr = 0x1000 + alloc, .bytes = bytes,
                                .alloc_ns = alloc, .free_ns = free_ns, .touched = GREY_TOUCH_UPLOAD,
                                .last_use_ns = alloc + 1, .has_fp = fp != 0, .fp = {fp, ~fp},
                                .fp_source = fp ? GREY_FP_UPLOAD : GREY_FP_NONE};
    strcpy(b.api, "cuMemAlloc");
    return b;
}

static struct grey_raw_process proc(struct grey_raw_buffer *b, size_t n)
{
    struct grey_raw_process p = {.buffers = b, .nbuffers = n};
    p.hdr.pid = 100;
    p.hdr.dedup = true;
    p.hdr.start_ns = 1;
    p.hdr.end_ns = 100 * S;
    return p;
}

static struct grey_dedup_result analyze(struct grey_raw_process *p, size_t n)
{
    struct grey_dedup_options opt;
    grey_dedup_default_options(&opt);
    struct grey_dedup_result r;
    cr_assert_eq(grey_dedup_analyze(p, n, &opt, &r), 0);
    return r;
}

Test(dedup, three_identical_of_four_make_one_group)
{
    struct grey_raw_buffer b[] = {buf(8 * MiB, 7, 10, 0), buf(8 * MiB, 7, 20, 0), buf(8 * MiB, 9, 30, 0),
                                  buf(8 * MiB, 7, 40, 0)};
    struct grey_raw_process p = proc(b, 4);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.ngroups, 1);
    cr_assert_eq(r.groups[0].count, 3);
    cr_assert_eq(r.groups[0].bytes_each, 8 * MiB);
    cr_assert_eq(r.groups[0].max_alive, 3);
    cr_assert_eq(r.groups[0].reclaimable, 16 * MiB);
    cr_assert_eq(r.reclaimable, 16 * MiB);
    cr_assert_eq(r.fingerprinted, 4);
    for (size_t i = 0; i < 3; i++)
        cr_assert_neq(r.members[r.groups[0].first + i].buf, 2, "the different buffer is in no group");
    grey_dedup_result_free(&r);
}

Test(dedup, same_fingerprint_but_another_size_or_device_is_not_a_duplicate)
{
    struct grey_raw_buffer b[] = {buf(8 * MiB, 7, 10, 0), buf(4 * MiB, 7, 20, 0), buf(8 * MiB, 7, 30, 0)};
    b[2].device = 1;
    struct grey_raw_process p = proc(b, 3);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.ngroups, 0);
    cr_assert_eq(r.reclaimable, 0);
    grey_dedup_result_free(&r);
}

Test(dedup, stale_fingerprints_and_handles_are_left_out)
{
    struct grey_raw_buffer b[] = {buf(MiB, 7, 10, 0), buf(MiB, 7, 20, 0), buf(MiB, 7, 30, 0)};
    b[1].fp_stale = true;          /* written since: its contents are unknown */
    b[2].kind = GREY_RAW_HANDLE;   /* an array: never read back */
    struct grey_raw_process p = proc(b, 3);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.ngroups, 0);
    cr_assert_eq(r.fingerprinted, 1);
    grey_dedup_result_free(&r);
}

Test(dedup, duplicates_never_alive_together_give_nothing_back)
{
    /* one after the other: [10,20) [20,30) [30, end): one buffer's worth at any moment */
    struct grey_raw_buffer b[] = {buf(MiB, 7, 10, 20), buf(MiB, 7, 20, 30), buf(MiB, 7, 30, 0)};
    struct grey_raw_process p = proc(b, 3);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.ngroups, 1, "still identical, and still reported");
    cr_assert_eq(r.groups[0].max_alive, 1);
    cr_assert_eq(r.groups[0].reclaimable, 0);
    grey_dedup_result_free(&r);
}

Test(dedup, overlap_counts_the_most_alive_at_one_moment)
{
    uint64_t start[] = {0, 5, 10, 12, 30}, end[] = {20, 15, 11, 40, 35};
    cr_assert_eq(grey_dedup_max_overlap(start, end, 5), 3); /* at 10: [0,20) [5,15) [10,11) */
    uint64_t s2[] = {0, 10}, e2[] = {10, 20};
    cr_assert_eq(grey_dedup_max_overlap(s2, e2, 2), 1, "one ending as the other starts do not overlap");
    cr_assert_eq(grey_dedup_max_overlap(s2, e2, 0), 0);
}

Test(dedup, groups_span_processes_and_come_largest_first)
{
    struct grey_raw_buffer a[] = {buf(MiB, 7, 10, 0), buf(4 * MiB, 8, 10, 0), buf(4 * MiB, 8, 11, 0)};
    struct grey_raw_buffer b[] = {buf(MiB, 7, 12, 0)};
    struct grey_raw_process p[2] = {proc(a, 3), proc(b, 1)};
    p[1].hdr.pid = 101;
    struct grey_dedup_result r = analyze(p, 2);
    cr_assert_eq(r.ngroups, 2);
    cr_assert_eq(r.groups[0].bytes_each, 4 * MiB, "the group that gives back most comes first");
    cr_assert_eq(r.groups[1].bytes_each, MiB);
    struct grey_buf_ref m0 = r.members[r.groups[1].first], m1 = r.members[r.groups[1].first + 1];
    cr_assert_neq(m0.proc, m1.proc, "the 1 MiB pair is one buffer in each process");
    cr_assert_eq(r.reclaimable, 5 * MiB);
    grey_dedup_result_free(&r);
}

Test(dedup, untouched_buffers_are_listed_only_when_uses_were_tracked)
{
    struct grey_raw_buffer b[] = {buf(MiB, 0, 10, 0), buf(3 * MiB, 0, 20, 0), buf(2 * MiB, 0, 30, 0)};
    b[0].touched = 0;
    b[1].touched = 0;
    b[2].touched = GREY_TOUCH_KERNEL;
    struct grey_raw_process p = proc(b, 3);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.nuntouched, 2);
    cr_assert_eq(r.untouched[0].buf, 1, "largest first");
    cr_assert_eq(r.untouched_bytes, 4 * MiB);
    grey_dedup_result_free(&r);
    p.hdr.dedup = false; /* without GREY_DEDUP nothing records uses: nothing is "untouched" */
    r = analyze(&p, 1);
    cr_assert_eq(r.nuntouched, 0);
    grey_dedup_result_free(&r);
}

Test(dedup, buffers_freed_long_after_their_last_use)
{
    struct grey_raw_buffer b[] = {
        buf(MiB, 0, 0, 10 * S),       /* used at 1 ns, freed 10 s later: idle */
        buf(MiB, 0, 0, 10 * S),       /* used until 9.5 s: not idle */
        buf(MiB, 0, 0, 2 * S),        /* idle 1.5 s of 2 s: idle */
        buf(MiB, 0, 0, 0),            /* still live */
        buf(MiB, 0, 0, 9 * S),        /* never used at all: no last use to measure from */
    };
    b[0].last_use_ns = 1;
    b[1].last_use_ns = 9 * S + S / 2;
    b[2].last_use_ns = S / 2;
    b[4].last_use_ns = 0;
    struct grey_raw_process p = proc(b, 5);
    struct grey_dedup_result r = analyze(&p, 1);
    cr_assert_eq(r.nidle, 2);
    cr_assert_eq(r.idle[0].buf, 0, "longest idle first");
    cr_assert_eq(r.idle[1].buf, 2);
    grey_dedup_result_free(&r);
}

Test(dedup, peak_sites_most_bytes_first)
{
    struct grey_raw_site s[3] = {{.id = 1, .peak_bytes = 10}, {.id = 2, .peak_bytes = 0}, {.id = 3, .peak_bytes = 30}};
    struct grey_raw_process p = {.sites = s, .nsites = 3};
    const struct grey_raw_site *top[3];
    cr_assert_eq(grey_dedup_peak_sites(&p, top, 3), 2, "a site with nothing at the peak is not listed");
    cr_assert_eq(top[0]->id, 3);
    cr_assert_eq(top[1]->id, 1);
    cr_assert_eq(grey_dedup_peak_sites(&p, top, 1), 1);
}

Test(dedup, the_peak_is_the_process_with_the_highest_one)
{
    struct grey_raw_process p[3] = {proc(NULL, 0), proc(NULL, 0), proc(NULL, 0)};
    p[0].hdr.peak_bytes = 5;
    p[1].hdr.peak_bytes = 50;
    p[2].hdr.peak_bytes = 7;
    struct grey_dedup_result r = analyze(p, 3);
    cr_assert_eq(r.peak_proc, 1);
    grey_dedup_result_free(&r);
    p[0].hdr.peak_bytes = p[1].hdr.peak_bytes = p[2].hdr.peak_bytes = 0;
    r = analyze(p, 3);
    cr_assert_eq(r.peak_proc, -1, "no buffer, no peak");
    grey_dedup_result_free(&r);
}
