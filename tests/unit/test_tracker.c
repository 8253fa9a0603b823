/* The buffer tracker: address -> record, across shards and threads. */
#include <criterion/criterion.h>
#include <pthread.h>

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
