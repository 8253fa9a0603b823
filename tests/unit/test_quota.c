/* Quota admission: the reserve / commit / release steps and the capped memory view. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "../../policy/quota.h"

static struct grey_slot_device dev;

static void fresh(uint64_t cap)
{
    memset(&dev, 0, sizeof dev);
    atomic_store(&dev.cap, cap);
}

Test(quota, admits_up_to_the_cap_exactly)
{
    fresh(1000);
    cr_assert(quota_reserve(&dev, 600));
    quota_commit(&dev);
    cr_assert(quota_reserve(&dev, 400), "the last byte of the cap must be allocatable");
    quota_commit(&dev);
    cr_assert_eq(atomic_load(&dev.used), 1000);
    cr_assert_not(quota_reserve(&dev, 1), "one byte over the cap must be denied");
    cr_assert_eq(atomic_load(&dev.used), 1000, "a denial must not change the bytes in use");
    cr_assert_eq(atomic_load(&dev.allocs), 2);
    cr_assert_eq(atomic_load(&dev.peak), 1000);
}

Test(quota, denial_records_count_and_largest)
{
    fresh(100);
    cr_assert_not(quota_reserve(&dev, 300));
    cr_assert_not(quota_reserve(&dev, 200));
    cr_assert_not(quota_reserve(&dev, UINT64_MAX), "a size near 2^64 must not wrap around the check");
    cr_assert_eq(atomic_load(&dev.denied), 3);
    cr_assert_eq(atomic_load(&dev.largest_denied), UINT64_MAX);
    cr_assert_eq(atomic_load(&dev.used), 0);
}

Test(quota, release_and_free_give_bytes_back)
{
    fresh(1000);
    cr_assert(quota_reserve(&dev, 700));
    quota_release(&dev, 700); /* the driver refused after all */
    cr_assert_eq(atomic_load(&dev.used), 0);
    cr_assert_eq(atomic_load(&dev.frees), 0, "a rolled-back reservation is not a free");
    cr_assert(quota_reserve(&dev, 700));
    quota_commit(&dev);
    quota_free(&dev, 700);
    cr_assert_eq(atomic_load(&dev.used), 0);
    cr_assert_eq(atomic_load(&dev.frees), 1);
    cr_assert_eq(atomic_load(&dev.peak), 700, "the peak survives the free");
}

Test(quota, view_is_the_smaller_of_cap_and_device)
{
    uint64_t f, t;
    fresh(512);
    atomic_store(&dev.used, 200);
    quota_view(&dev, 10000, 20000, &f, &t);
    cr_assert_eq(t, 512);
    cr_assert_eq(f, 312);
    quota_view(&dev, 100, 20000, &f, &t); /* the device itself is fuller than the cap says */
    cr_assert_eq(f, 100);
    fresh(UINT64_MAX);
    quota_view(&dev, 100, 200, &f, &t);
    cr_assert_eq(t, 200);
    cr_assert_eq(f, 100);
    fresh(100);
    atomic_store(&dev.used, 150); /* cap lowered below use: nothing free, never negative */
    quota_view(&dev, 1000, 2000, &f, &t);
    cr_assert_eq(f, 0);
}

#define THREADS 8
#define ROUNDS 20000
static _Atomic uint64_t max_seen;

static void *race(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (quota_reserve(&dev, 300)) {
            uint64_t used = atomic_load(&dev.used);
            uint64_t seen = atomic_load(&max_seen);
            while (used > seen && !atomic_compare_exchange_weak(&max_seen, &seen, used))
                ;
            quota_commit(&dev);
            quota_free(&dev, 300);
        }
    }
    return NULL;
}

Test(quota, concurrent_reservations_never_cross_the_cap)
{
    fresh(1000); /* room for three 300-byte blocks, never four */
    atomic_store(&max_seen, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, race, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_assert_leq(atomic_load(&max_seen), 900);
    cr_assert_leq(atomic_load(&dev.peak), 900);
    cr_assert_eq(atomic_load(&dev.used), 0);
    cr_assert_eq(atomic_load(&dev.allocs), atomic_load(&dev.frees));
    cr_assert_eq(atomic_load(&dev.allocs) + atomic_load(&dev.denied), (uint64_t)THREADS * ROUNDS);
}
