/* What the buffer report needs of the tracker: records changed in place, walked in bounded
 * batches, replaced records handed back, and every record whose memory is gone retired. */
#include <criterion/criterion.h>

#include "policy/tracker.h"

static struct grey_buffer_info buf(uint64_t addr, uint64_t bytes, uint64_t ctx)
{
    return (struct grey_buffer_info){.addr = addr, .bytes = bytes, .context = ctx, .api = 1, .alloc_ticks = addr};
}

static void mark(struct grey_buffer_info *info, void *arg)
{
    info->touched |= *(uint32_t *)arg;
    info->fp_stale = 1;
}

Test(tracker_report, update_changes_the_record_in_place)
{
    struct grey_buffer_info a = buf(0x10000, 64, 1), out;
    tracker_add(&a);
    uint32_t how = GREY_TOUCH_MEMSET;
    cr_assert(tracker_update(a.addr, mark, &how));
    cr_assert(tracker_find(a.addr, &out));
    cr_assert_eq(out.touched, GREY_TOUCH_MEMSET);
    cr_assert_eq(out.fp_stale, 1);
    cr_assert_not(tracker_update(0x20000, mark, &how), "an untracked address changes nothing");
}

Test(tracker_report, a_walk_sees_every_record_once_in_small_batches)
{
    enum { N = 1000 };
    for (uint64_t i = 0; i < N; i++) {
        struct grey_buffer_info b = buf(0x100000 + i * 512, 1, 0);
        tracker_add(&b);
    }
    static unsigned char seen[N];
    struct grey_buffer_info batch[7];
    uint32_t pass = tracker_next_pass();
    size_t n, total = 0;
    bool added_midway = false;
    while ((n = tracker_collect(pass, batch, 7)) > 0) {
        cr_assert_leq(n, 7);
        for (size_t i = 0; i < n; i++) {
            uint64_t k = (batch[i].addr - 0x100000) / 512;
            cr_assert_lt(k, N + 1);
            if (k < N) {
                cr_assert_eq(seen[k], 0, "record %llu collected twice", (unsigned long long)k);
                seen[k] = 1;
            }
        }
        total += n;
        if (!added_midway) { /* a buffer allocated during the walk is walked too */
            struct grey_buffer_info late = buf(0x100000 + (uint64_t)N * 512, 1, 0);
            tracker_add(&late);
            added_midway = true;
        }
    }
    cr_assert_eq(total, N + 1);
    uint32_t again = tracker_next_pass();
    cr_assert_neq(again, pass);
    cr_assert_eq(tracker_collect(again, batch, 7), 7, "a new pass starts over");
}

Test(tracker_report, adding_over_a_live_address_hands_back_the_stale_record)
{
    struct grey_buffer_info a = buf(0x30000, 100, 0), b = buf(0x30000, 200, 0), old;
    bool replaced;
    cr_assert_eq(tracker_add_replacing(&a, &old, &replaced), 0);
    cr_assert_not(replaced);
    cr_assert_eq(tracker_add_replacing(&b, &old, &replaced), 0);
    cr_assert(replaced);
    cr_assert_eq(old.bytes, 100);
}

static int retired;
static uint64_t retired_bytes;

static void on_retire(const struct grey_buffer_info *info)
{
    retired++;
    retired_bytes += info->bytes;
}

static void ignore(const struct grey_buffer_info *info, void *arg)
{
    (void)info;
    (void)arg;
}

Test(tracker_report, a_destroyed_context_retires_its_buffers)
{
    tracker_set_retire_hook(on_retire);
    for (uint64_t i = 0; i < 100; i++) {
        struct grey_buffer_info b = buf(0x400000 + i * 4096, 10, i % 2 ? 7 : 8);
        tracker_add(&b);
    }
    cr_assert_eq(tracker_remove_context(7, ignore, NULL), 50);
    cr_assert_eq(retired, 50, "each buffer gone with its context is retired once");
    cr_assert_eq(retired_bytes, 500);
    struct grey_buffer_info x = buf(1, 5, 0);
    tracker_retire(&x);
    cr_assert_eq(retired, 51);
    tracker_set_retire_hook(NULL);
    tracker_retire(&x);
    cr_assert_eq(retired, 51, "no hook, nothing called");
}
