/* The vendor-neutral core of the shims (shim/admission.h, shim/pool_cache.h, the launch gate and
 * the pacer's measuring in shim/pace.h), driven directly with a quota of the test's own and a
 * fake vendor (shim/vendor.h) whose events complete when the test says: no driver, no process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/self.h"
#include "policy/ledger.h"
#include "policy/tracker.h"
#include "policy/ledger_gpu.h"
#include "shim/admission.h"
#include "shim/launch_gate.h"
#include "shim/pace_internal.h"
#include "shim/pool_cache.h"
#include "shim/vendor.h"

#define API_TEST 1 /* GREY_API_MEM_ALLOC: a device pointer family the shim knows */

static struct grey_slot private_slot;
static struct grey_quota private_quota = {.slot = &private_slot};

/* A quota with no ledger (caps only), installed as the process's own. */
static void use_private(uint64_t cap)
{
    memset(&private_slot, 0, sizeof private_slot);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&private_slot.dev[d].cap, cap);
    atomic_store(&private_slot.state, GREY_SLOT_ACTIVE);
    atomic_store(&grey_self_quota, &private_quota);
    setenv("GREY_TRACK_SITES", "0", 1);
}

/* ------------------------------------------------------------------ admission */

Test(admission, reserve_settle_and_free_move_the_bytes_once)
{
    use_private(1000);
    struct grey_admission adm;
    cr_assert_eq(grey_admit(&adm, 0, 600, 7), GREY_ADMIT_OK);
    cr_assert(adm.counted);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 600, "reserved at once, before the vendor is called");
    grey_settle(&adm, true, 0x1000, API_TEST);
    struct grey_buffer_info info;
    cr_assert(tracker_find(0x1000, &info), "a settled buffer is tracked");
    cr_assert_eq(info.bytes, 600);
    cr_assert_eq(info.context, 7);

    struct grey_admission over;
    cr_assert_eq(grey_admit(&over, 0, 401, 7), GREY_ADMIT_DENIED, "600 + 401 is over the 1000-byte cap");
    cr_assert_eq(atomic_load(&private_slot.dev[0].denied), 1);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 600, "a denial moves nothing");

    bool tracked = grey_untrack(0x1000, &info);
    cr_assert(tracked);
    grey_forget(tracked, &info, false); /* the vendor refused the free: the record comes back */
    cr_assert(tracker_find(0x1000, NULL));
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 600);
    tracked = grey_untrack(0x1000, &info);
    grey_forget(tracked, &info, true);
    cr_assert_not(tracker_find(0x1000, NULL));
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0, "the free gave every byte back");
}

Test(admission, a_vendor_failure_rolls_the_reservation_back)
{
    use_private(1000);
    struct grey_admission adm;
    cr_assert_eq(grey_admit(&adm, 0, 900, 0), GREY_ADMIT_OK);
    grey_settle(&adm, false, 0, API_TEST);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0);
    cr_assert_eq(atomic_load(&private_slot.dev[0].allocs), 0, "a refused allocation is not counted as one");
}

Test(admission, a_device_grey_does_not_account_is_passed_through)
{
    use_private(10);
    struct grey_admission adm;
    cr_assert_eq(grey_admit(&adm, -1, 1 << 20, 0), GREY_ADMIT_OK, "no device: the vendor reports the error");
    cr_assert_not(adm.counted);
    cr_assert_eq(grey_admit(&adm, GREY_MAX_DEVICES, 1 << 20, 0), GREY_ADMIT_OK);
    cr_assert_not(adm.counted);
}

Test(admission, a_resize_that_no_longer_fits_gives_everything_back)
{
    use_private(1000);
    struct grey_admission adm;
    cr_assert_eq(grey_admit(&adm, 0, 500, 0), GREY_ADMIT_OK);
    cr_assert_eq(grey_admit_resize(&adm, 400), GREY_ADMIT_OK, "smaller than the estimate");
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 400);
    cr_assert_eq(grey_admit_resize(&adm, 1200), GREY_ADMIT_DENIED, "larger than the cap");
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0, "the whole reservation is released");
    cr_assert_not(adm.counted, "and a later settle must not release it again");
    grey_settle(&adm, false, 0, API_TEST);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0);
}

Test(admission, one_reservation_settled_in_parts_tracks_each_part)
{
    use_private(1000);
    struct grey_admission whole;
    cr_assert_eq(grey_admit(&whole, 0, 700, 5), GREY_ADMIT_OK, "a graph's 300 + 400 bytes, admitted as one");
    grey_settle_part(&whole, 300, 0x2000, API_TEST);
    grey_settle_part(&whole, 400, 0x3000, API_TEST);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 700, "the parts add up to the reservation");
    cr_assert_eq(atomic_load(&private_slot.dev[0].allocs), 2, "each part is an allocation");
    struct grey_buffer_info info;
    cr_assert(tracker_find(0x3000, &info));
    cr_assert_eq(info.bytes, 400);
    cr_assert_eq(info.context, 5);
    bool tracked = grey_untrack(0x2000, &info);
    grey_forget(tracked, &info, true);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 400, "freeing one part gives back its share only");
    tracked = grey_untrack(0x3000, &info);
    grey_forget(tracked, &info, true);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0);

    struct grey_admission uncounted;
    cr_assert_eq(grey_admit(&uncounted, -1, 700, 0), GREY_ADMIT_OK);
    grey_settle_part(&uncounted, 700, 0x4000, API_TEST);
    cr_assert_not(tracker_find(0x4000, NULL), "a part of an uncounted reservation is not tracked");
}

Test(admission, array_sizes_sum_mipmap_levels_and_refuse_overflow)
{
    cr_assert_eq(grey_array_bytes(64, 32, 0, 4, 1), 64u * 32 * 4);
    cr_assert_eq(grey_array_bytes(8, 8, 1, 1, 3), 64 + 16 + 4, "each level halves every dimension");
    cr_assert_eq(grey_array_bytes(UINT64_MAX, 2, 1, 1, 1), UINT64_MAX, "overflow is refused by admission");
}

/* ------------------------------------------------------------------ pool caches */

Test(pool_cache, a_pool_keeps_what_its_threshold_allows_and_reuses_it)
{
    use_private(1000);
    const uint64_t pool = 0xbeef;
    grey_pool_set_threshold(pool, 300);
    struct grey_pool_admission pa;
    cr_assert_eq(grey_pool_admit(&pa, 0, pool, 500, 0), GREY_ADMIT_OK);
    grey_pool_settle(&pa, true, 0x2000, API_TEST);
    struct grey_buffer_info info;
    bool tracked = grey_untrack(0x2000, &info);
    grey_pool_forget(tracked, &info, true);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 300, "the pool still holds its 300 cached bytes");

    cr_assert_eq(grey_pool_admit(&pa, 0, pool, 200, 0), GREY_ADMIT_OK);
    cr_assert_eq(pa.reused, 200, "taken from the cache");
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 300, "reuse costs nothing new");
    grey_pool_settle(&pa, true, 0x3000, API_TEST);
    cr_assert(tracker_find(0x3000, &info));
    cr_assert_eq(info.bytes, 200, "the buffer carries its full size");

    grey_pool_trimmed(pool, 0);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 200, "trimming gives the rest of the cache back");
    tracked = grey_untrack(0x3000, &info);
    grey_pool_forget(tracked, &info, true);
    grey_pool_destroyed(grey_pool_lookup(pool));
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 0, "a destroyed pool holds nothing");
}

Test(pool_cache, a_denied_admission_puts_the_reused_bytes_back)
{
    use_private(1000);
    const uint64_t pool = 0xcafe;
    grey_pool_set_threshold(pool, 1000);
    struct grey_pool_admission pa;
    cr_assert_eq(grey_pool_admit(&pa, 0, pool, 400, 0), GREY_ADMIT_OK);
    grey_pool_settle(&pa, true, 0x4000, API_TEST);
    struct grey_buffer_info info;
    bool tracked = grey_untrack(0x4000, &info);
    grey_pool_forget(tracked, &info, true); /* 400 cached */
    cr_assert_eq(grey_pool_admit(&pa, 0, pool, 1500, 0), GREY_ADMIT_DENIED, "400 cached + 1100 new > 1000");
    cr_assert_eq(grey_pool_admit(&pa, 0, pool, 400, 0), GREY_ADMIT_OK, "the cache is intact after the denial");
    cr_assert_eq(pa.reused, 400);
    grey_pool_settle(&pa, false, 0, API_TEST);
    cr_assert_eq(atomic_load(&private_slot.dev[0].used), 400, "a failed allocation returns its bytes to the cache");
}

/* ------------------------------------------------------------------ the launch gate */

/* A fake vendor: one device, one context, events that complete at once with a fixed duration,
 * or never (pending), and a switch that makes every stream a capturing one. */
static struct {
    bool capturing;
    bool pending;
    uint64_t kernel_ns;
    uint64_t clock_ns; /* the fake device's time: kernel_ns more after every launch (launch()) */
    int events_made, events_recorded;
} fake;

static bool fake_current(int *dev, uint64_t *ctx)
{
    *dev = 0;
    *ctx = 0x77;
    return true;
}
static bool fake_capturing(void *stream)
{
    (void)stream;
    return fake.capturing;
}
static uint64_t event_tokens[4096]; /* events are stamps in here: nothing to free */
static void *fake_event_new(void)
{
    return &event_tokens[fake.events_made++ % (sizeof event_tokens / sizeof event_tokens[0])];
}
/* An event is stamped with the fake device's time when recorded: a bracket around one launch
 * reads kernel_ns, the span between two samples' ends the launches in between. */
static bool fake_event_record(void *event, void *stream)
{
    (void)stream;
    *(uint64_t *)event = fake.clock_ns;
    fake.events_recorded++;
    return true;
}
static int fake_event_elapsed(void *a, void *b, uint64_t *ns)
{
    if (fake.pending)
        return 0;
    uint64_t ta = *(uint64_t *)a, tb = *(uint64_t *)b;
    *ns = tb > ta ? tb - ta : 0;
    return 1;
}
static void fake_event_free(void *event) { (void)event; }
static bool fake_measurable(void) { return true; }
static bool fake_unmeasurable(void) { return false; }

/* One GPU, named the way ROCm names them (the identity text is the vendor's). */
static bool fake_identify(int ordinal, unsigned char uuid[16], struct grey_gpu_id *out)
{
    (void)uuid;
    snprintf(out->uuid, sizeof out->uuid, "GPU-00000000000000%02d", ordinal);
    out->index = -1;
    return true;
}

static const struct grey_vendor fake_vendor = {
    .name = "fake",
    .id = GREY_VENDOR_HIP,
    .identify = fake_identify,
    .current = fake_current,
    .capturing = fake_capturing,
    .measurable = fake_measurable,
    .event_new = fake_event_new,
    .event_record = fake_event_record,
    .event_elapsed = fake_event_elapsed,
    .event_free = fake_event_free,
};

/* A vendor that has no events at all (an older or partial driver). */
static const struct grey_vendor eventless_vendor = {
    .name = "eventless", .id = GREY_VENDOR_HIP, .identify = fake_identify, .current = fake_current};

/* One whose events exist but that says it cannot time (a driver missing cuStreamIsCapturing). */
static const struct grey_vendor untimed_vendor = {
    .name = "untimed",
    .id = GREY_VENDOR_HIP,
    .identify = fake_identify,
    .current = fake_current,
    .capturing = fake_capturing,
    .measurable = fake_unmeasurable,
    .event_new = fake_event_new,
    .event_record = fake_event_record,
    .event_elapsed = fake_event_elapsed,
    .event_free = fake_event_free,
};

static struct grey_ledger ledger;
static struct grey_quota shared_quota;

/* A process alone on a ledger of its own, registered and about to launch. */
static void use_ledger(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/grey-shim-core.%d", (int)getpid());
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &ledger, err, sizeof err), 0, "%s", err);
    unlink(path);
    struct grey_slot *slot = grey_ledger_claim(&ledger, getpid(), 1, 0, 0, 0, "test");
    cr_assert_not_null(slot);
    atomic_store(&slot->fair[0].weight, 1);
    shared_quota = (struct grey_quota){.slot = slot, .budgets = ledger.header};
    atomic_store(&grey_self_quota, &shared_quota);
    memset(&fake, 0, sizeof fake);
    fake.kernel_ns = 1000;
}

static void launch(const struct grey_vendor *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct grey_launch t = grey_launch_begin(v, NULL);
        fake.clock_ns += fake.kernel_ns;
        grey_launch_end(t, v, NULL, true);
    }
}

Test(launch_gate, every_launch_is_counted_and_sampled_ones_are_charged)
{
    use_ledger();
    struct grey_slot *slot = shared_quota.slot;
    launch(&fake_vendor, 2000);
    cr_assert_eq(atomic_load(&slot->launches), 2000, "the gate counts every launch");
    cr_assert(fake.events_recorded >= 2 && fake.events_recorded % 2 == 0, "samples are bracketed by two events");
    cr_assert(fake.events_recorded < 2000 / 8, "alone, only a few launches are sampled (%d events)",
              fake.events_recorded);
    launch(&fake_vendor, 200); /* the slow path reads finished samples back */
    uint64_t busy = atomic_load(&slot->fair[0].busy_ns);
    /* Each sample stands for the launches since the previous one: the charge approaches
     * launches x kernel time. */
    cr_assert(busy >= 1000ull * 1000 && busy <= 2200ull * 1000, "charged %llu ns for 2200 launches of 1000 ns",
              (unsigned long long)busy);
}

Test(launch_gate, launches_into_a_capture_are_counted_but_not_measured)
{
    use_ledger();
    fake.capturing = true;
    launch(&fake_vendor, 1000);
    cr_assert_eq(atomic_load(&shared_quota.slot->launches), 1000);
    cr_assert_eq(fake.events_recorded, 0, "a captured launch does not run now: nothing to time");
    cr_assert_eq(atomic_load(&shared_quota.slot->fair[0].busy_ns), 0);
}

Test(launch_gate, pending_samples_are_never_waited_for)
{
    use_ledger();
    fake.pending = true;
    launch(&fake_vendor, 3000);
    cr_assert_eq(atomic_load(&shared_quota.slot->fair[0].busy_ns), 0, "nothing finished, nothing charged");
    cr_assert(fake.events_made <= 2 * SAMPLES, "at most the sample ring's events exist (%d)", fake.events_made);
}

/* What the launch-count fallback charged: vtime in whole launches, and device time no more than
 * the wall clock allows. */
static void assert_paced_by_counts(const struct grey_slot *slot, unsigned launches, uint64_t wall_ns)
{
    uint64_t unit = grey_pacer_charge(GREY_PACE_LAUNCH_NS, 1);
    uint64_t vtime = atomic_load(&((struct grey_slot *)slot)->fair[0].vtime);
    cr_assert(vtime > 0 && vtime % unit == 0, "vtime %llu is not a whole number of launches",
              (unsigned long long)vtime);
    cr_assert_leq(vtime / unit, launches, "more launches charged than made");
    uint64_t busy = atomic_load(&((struct grey_slot *)slot)->fair[0].busy_ns);
    cr_assert(busy > 0 && busy <= wall_ns + GREY_PACE_LAUNCH_NS, "device time %llu against %llu ns of wall clock",
              (unsigned long long)busy, (unsigned long long)wall_ns);
}

Test(launch_gate, a_vendor_without_events_is_paced_by_launch_counts)
{
    use_ledger();
    uint64_t t0 = grey_pace_now_ns();
    launch(&eventless_vendor, 1000);
    uint64_t wall = grey_pace_now_ns() - t0;
    cr_assert_eq(atomic_load(&shared_quota.slot->launches), 1000);
    assert_paced_by_counts(shared_quota.slot, 1000, wall);
}

Test(launch_gate, a_vendor_that_cannot_time_records_no_event)
{
    use_ledger();
    fake.events_recorded = 0;
    uint64_t t0 = grey_pace_now_ns();
    launch(&untimed_vendor, 1000);
    uint64_t wall = grey_pace_now_ns() - t0;
    cr_assert_eq(fake.events_recorded, 0, "no event is recorded where timing is not possible");
    assert_paced_by_counts(shared_quota.slot, 1000, wall);
}

Test(launch_gate, a_new_context_epoch_retires_older_samples)
{
    use_ledger();
    fake.pending = true;
    launch(&fake_vendor, 500);
    int made = fake.events_made;
    cr_assert(made > 0);
    grey_contexts_changed(); /* a context died: its events may be gone */
    fake.pending = false;
    launch(&fake_vendor, 500);
    cr_assert(fake.events_made > made, "samples of the old epoch are not reused: new events are made");
}
