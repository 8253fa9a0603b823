/* The buffer tracker: address -> record, across shards and threads. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "policy/tracker.h"

static struct grey_buffer_info buf(uint64_t addr, uint64_t bytes, uint32_t dev)
{
    return (struct grey_buffer_info){.addr = addr, .bytes = bytes, .device = dev, .api = 1};
}

Test(tracker, add_find_remove)
{
    struct grey_buffer_info a = buf(0x7f0000001000, 4096, 0), out;
    cr_assert_eq(tracker_add(&a), 0);
    cr_assert(tracker_find(a.addr, &out));
    cr_assert_eq(out.bytes, 4096);
    cr_assert(tracker_remove(a.addr, &out));
    cr_assert_eq(out.addr, a.addr);
    cr_assert_not(tracker_remove(a.addr, &out), "a second remove (double free) must find nothing");
    cr_assert_not(tracker_find(0x1234, &out), "an address never added must not be found");
}

Test(tracker, totals_follow_adds_and_removes)
{
    uint64_t count, bytes;
    for (uint64_t i = 0; i < 1000; i++) {
        struct grey_buffer_info b = buf(0x100000000ull + i * 512, i + 1, (uint32_t)(i % 4));
        cr_assert_eq(tracker_add(&b), 0);
    }
    tracker_totals(&count, &bytes);
    cr_assert_eq(count, 1000);
    cr_assert_eq(bytes, 1000ull * 1001 / 2);
    for (uint64_t i = 0; i < 1000; i += 2)
        cr_assert(tracker_remove(0x100000000ull + i * 512, NULL));
    tracker_totals(&count, &bytes);
    cr_assert_eq(count, 500);
}

Test(tracker, re_added_address_replaces_the_stale_record)
{
    struct grey_buffer_info a = buf(0x5000, 100, 0), b = buf(0x5000, 300, 1), out;
    uint64_t count, bytes;
    tracker_add(&a);
    tracker_add(&b);
    tracker_totals(&count, &bytes);
    cr_assert_eq(count, 1);
    cr_assert_eq(bytes, 300);
    cr_assert(tracker_find(0x5000, &out));
    cr_assert_eq(out.device, 1);
}

#define THREADS 8
#define PER_THREAD 5000

static void *churn(void *arg)
{
    uint64_t base = 0x200000000ull + (uint64_t)(uintptr_t)arg * 0x10000000ull;
    for (int round = 0; round < 4; round++) {
        for (uint64_t i = 0; i < PER_THREAD; i++) {
            struct grey_buffer_info b = buf(base + i * 256, 256, 0);
            if (tracker_add(&b) != 0)
                return (void *)1;
        }
        for (uint64_t i = 0; i < PER_THREAD; i++)
            if (!tracker_remove(base + i * 256, NULL))
                return (void *)1;
    }
    return NULL;
}

Test(tracker, concurrent_churn_loses_nothing)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, (void *)i);
    for (int i = 0; i < THREADS; i++) {
        void *failed;
        pthread_join(t[i], &failed);
        cr_assert_null(failed, "thread %d lost a record", i);
    }
    uint64_t count, bytes;
    tracker_totals(&count, &bytes);
    cr_assert_eq(count, 0);
    cr_assert_eq(bytes, 0);
}

static void count_bytes(const struct grey_buffer_info *info, void *arg)
{
    *(uint64_t *)arg += info->bytes;
}

Test(tracker, removing_a_context_takes_exactly_its_buffers)
{
    for (uint64_t i = 0; i < 300; i++) {
        struct grey_buffer_info b = buf(0x300000000ull + i * 4096, 10, 0);
        b.context = i % 3 == 0 ? 0xC1 : 0xC2;
        cr_assert_eq(tracker_add(&b), 0);
    }
    uint64_t bytes = 0;
    cr_assert_eq(tracker_remove_context(0xC1, count_bytes, &bytes), 100);
    cr_assert_eq(bytes, 1000);
    uint64_t count, left;
    tracker_totals(&count, &left);
    cr_assert_eq(count, 200);
    cr_assert_eq(tracker_remove_context(0xC1, count_bytes, &bytes), 0, "a second pass finds nothing");
    cr_assert(tracker_find(0x300000000ull + 4096, NULL), "other contexts' buffers stay");
}

/* An alloc/free pair on a warm tracker allocates nothing, whatever else is live: not with one
 * buffer live at a time (every shard empties after each pair), and not at any size on the way
 * to a few thousand, where shards grow (a shard one pair pushed past its threshold must not
 * shrink back when the pair's buffer goes). Addresses 1 MiB apart, cycling like a driver's. */
#define PAIR_BASE 0x7e0000000000ull
#define PAIR_RING 4096

static uint64_t pair_at(uint64_t i) { return PAIR_BASE + (i % PAIR_RING) * (1ull << 20); }

static void pairs(uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++) {
        struct grey_buffer_info b = buf(pair_at(i), 1 << 20, 0);
        cr_assert_eq(tracker_add(&b), 0);
        cr_assert(tracker_remove(b.addr, NULL));
    }
}

Test(tracker, a_warm_pair_with_one_buffer_live_allocates_nothing)
{
    struct grey_tracker_stats warm, after;
    pairs(0, PAIR_RING); /* every shard has met a buffer */
    tracker_stats(&warm);
    pairs(PAIR_RING, 10 * PAIR_RING);
    tracker_stats(&after);
    cr_assert_eq(after.table_allocs, warm.table_allocs, "%llu tables allocated in %d pairs",
                 (unsigned long long)(after.table_allocs - warm.table_allocs), 10 * PAIR_RING);
    cr_assert_eq(after.entry_allocs, warm.entry_allocs);
}

Test(tracker, pairs_allocate_nothing_at_any_number_live)
{
    struct grey_tracker_stats warm, after;
    pairs(0, PAIR_RING);
    for (uint64_t live = 0; live < 3000; live++) {
        struct grey_buffer_info held = buf(0x100000000000ull + live * (1ull << 20), 4096, 0);
        cr_assert_eq(tracker_add(&held), 0);
        pairs(live * 64, 64); /* may grow a shard the new buffer filled up */
        tracker_stats(&warm);
        pairs(live * 64, 64); /* the same pairs again: no shrinking back and growing again */
        tracker_stats(&after);
        cr_assert_eq(after.table_allocs, warm.table_allocs, "%llu live: pairs resized a table",
                     (unsigned long long)live + 1);
    }
}

/* Against a model: random adds, removes and lookups over keys that crowd the same slots (tagged
 * handles that differ only in their low bits, which also share a shard) and plain addresses,
 * through growing and shrinking; every few thousand steps a full walk must return exactly the
 * live set, and at the end removing a context must take exactly its buffers. */
#define MODEL_KEYS 6000

static uint64_t model_key(uint32_t k)
{
    return k % 2 ? (3ull << 56) | k : 0x200000000ull + (uint64_t)k * 256;
}

static struct grey_buffer_info walked[MODEL_KEYS];

Test(tracker, agrees_with_a_model_through_growth_shrinking_and_collisions)
{
    static bool live[MODEL_KEYS];
    static uint8_t seen[MODEL_KEYS];
    uint64_t rng = 0x1234567;
    size_t nlive = 0;
    for (int step = 0; step < 300000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t k = (uint32_t)(rng >> 33) % MODEL_KEYS;
        /* Phases of mostly adds and mostly removes, so tables grow and shrink again. */
        bool adding = ((step / 40000) % 2 == 0) ? (rng >> 20) % 4 != 0 : (rng >> 20) % 4 == 0;
        struct grey_buffer_info out;
        if (adding) {
            struct grey_buffer_info b = buf(model_key(k), k + 1, 0);
            b.context = k % 3;
            cr_assert_eq(tracker_add(&b), 0);
            nlive += !live[k];
            live[k] = true;
        } else {
            cr_assert_eq(tracker_remove(model_key(k), &out), live[k], "step %d: key %u", step, k);
            if (live[k])
                cr_assert_eq(out.bytes, k + 1);
            nlive -= live[k];
            live[k] = false;
        }
        uint32_t probe = (uint32_t)(rng >> 45) % MODEL_KEYS;
        cr_assert_eq(tracker_find(model_key(probe), NULL), live[probe], "step %d: key %u", step, probe);
        if (step % 5000 == 4999) {
            memset(seen, 0, sizeof seen);
            uint32_t pass = tracker_next_pass();
            size_t n, total = 0;
            while ((n = tracker_collect(pass, walked, 97)) > 0)
                for (size_t i = 0; i < n; i++, total++) {
                    uint32_t key = (uint32_t)(walked[i].bytes - 1);
                    cr_assert(live[key] && !seen[key], "step %d: the walk returned key %u wrongly", step, key);
                    seen[key] = 1;
                }
            cr_assert_eq(total, nlive, "step %d: the walk found %zu of %zu", step, total, nlive);
        }
    }
    size_t in_context = 0;
    for (uint32_t k = 0; k < MODEL_KEYS; k++)
        in_context += live[k] && k % 3 == 1;
    uint64_t bytes = 0;
    cr_assert_eq(tracker_remove_context(1, count_bytes, &bytes), in_context);
    for (uint32_t k = 0; k < MODEL_KEYS; k++)
        cr_assert_eq(tracker_find(model_key(k), NULL), live[k] && k % 3 != 1, "key %u", k);
    uint64_t count, left;
    tracker_totals(&count, &left);
    cr_assert_eq(count, nlive - in_context);
}
