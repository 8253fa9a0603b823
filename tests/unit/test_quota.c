/* Quota admission: process caps, device budgets, and the capped memory view. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "policy/quota.h"

static struct grey_slot slot, other_slot;
static struct grey_ledger_header header;
static struct grey_quota q = {.slot = &slot, .budgets = NULL};
static struct grey_quota other = {.slot = &other_slot, .budgets = NULL};
#define D (slot.dev[0])

static void fresh(uint64_t cap, uint64_t budget)
{
    memset(&slot, 0, sizeof slot);
    memset(&other_slot, 0, sizeof other_slot);
    memset(&header, 0, sizeof header);
    atomic_store(&slot.dev[0].cap, cap);
    atomic_store(&other_slot.dev[0].cap, cap);
    atomic_store(&header.device_budget[0], budget);
    q.budgets = other.budgets = budget ? &header : NULL;
}

Test(quota, admits_up_to_the_cap_exactly)
{
    fresh(1000, 0);
    cr_assert_eq(quota_reserve(&q, 0, 600), GREY_ADMITTED);
    quota_commit(&q, 0);
    cr_assert_eq(quota_reserve(&q, 0, 400), GREY_ADMITTED, "the last byte of the cap must be allocatable");
    quota_commit(&q, 0);
    cr_assert_eq(atomic_load(&D.used), 1000);
    cr_assert_eq(quota_reserve(&q, 0, 1), GREY_DENIED_CAP, "one byte over the cap must be denied");
    cr_assert_eq(atomic_load(&D.used), 1000, "a denial must not change the bytes in use");
    cr_assert_eq(atomic_load(&D.allocs), 2);
    cr_assert_eq(atomic_load(&D.peak), 1000);
}

Test(quota, denial_records_count_and_largest)
{
    fresh(100, 0);
    cr_assert_eq(quota_reserve(&q, 0, 300), GREY_DENIED_CAP);
    cr_assert_eq(quota_reserve(&q, 0, 200), GREY_DENIED_CAP);
    cr_assert_eq(quota_reserve(&q, 0, UINT64_MAX), GREY_DENIED_CAP, "a size near 2^64 must not wrap the check");
    cr_assert_eq(atomic_load(&D.denied), 3);
    cr_assert_eq(atomic_load(&D.largest_denied), UINT64_MAX);
    cr_assert_eq(atomic_load(&D.used), 0);
}

Test(quota, release_and_free_give_bytes_back)
{
    fresh(1000, 5000);
    cr_assert_eq(quota_reserve(&q, 0, 700), GREY_ADMITTED);
    quota_release(&q, 0, 700); /* the driver refused after all */
    cr_assert_eq(atomic_load(&D.used), 0);
    cr_assert_eq(atomic_load(&header.device_used[0]), 0);
    cr_assert_eq(atomic_load(&D.frees), 0, "a rolled-back reservation is not a free");
    cr_assert_eq(quota_reserve(&q, 0, 700), GREY_ADMITTED);
    quota_commit(&q, 0);
    cr_assert_eq(atomic_load(&header.device_used[0]), 700);
    quota_free(&q, 0, 700);
    cr_assert_eq(atomic_load(&D.used), 0);
    cr_assert_eq(atomic_load(&header.device_used[0]), 0);
    cr_assert_eq(atomic_load(&D.frees), 1);
    cr_assert_eq(atomic_load(&D.peak), 700, "the peak survives the free");
}

Test(quota, the_device_budget_binds_all_processes_together)
{
    fresh(600, 1000); /* each process may have 600, both together 1000 */
    cr_assert_eq(quota_reserve(&q, 0, 600), GREY_ADMITTED);
    cr_assert_eq(quota_reserve(&other, 0, 500), GREY_DENIED_BUDGET, "600 + 500 crosses the budget");
    cr_assert_eq(atomic_load(&other_slot.dev[0].used), 0, "a budget denial rolls the process counter back");
    cr_assert_eq(atomic_load(&other_slot.dev[0].denied), 1);
    cr_assert_eq(quota_reserve(&other, 0, 400), GREY_ADMITTED);
    cr_assert_eq(atomic_load(&header.device_used[0]), 1000);
    uint64_t f, t;
    quota_view(&other, 0, 1u << 30, 1u << 30, &f, &t);
    cr_assert_eq(t, 600);
    cr_assert_eq(f, 0, "no budget left means nothing free, whatever the cap says");
}

Test(quota, view_is_the_smaller_of_cap_and_device)
{
    uint64_t f, t;
    fresh(512, 0);
    atomic_store(&D.used, 200);
    quota_view(&q, 0, 10000, 20000, &f, &t);
    cr_assert_eq(t, 512);
    cr_assert_eq(f, 312);
    quota_view(&q, 0, 100, 20000, &f, &t); /* the device itself is fuller than the cap says */
    cr_assert_eq(f, 100);
    fresh(UINT64_MAX, 0);
    quota_view(&q, 0, 100, 200, &f, &t);
    cr_assert_eq(t, 200);
    cr_assert_eq(f, 100);
    fresh(100, 0);
    atomic_store(&D.used, 150); /* cap lowered below use: nothing free, never negative */
    quota_view(&q, 0, 1000, 2000, &f, &t);
    cr_assert_eq(f, 0);
}

#define THREADS 8
#define ROUNDS 20000
static _Atomic uint64_t max_seen;

static void *race(void *arg)
{
    const struct grey_quota *mine = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (quota_reserve(mine, 0, 300) == GREY_ADMITTED) {
            uint64_t used = atomic_load(&header.device_used[0]);
            uint64_t seen = atomic_load(&max_seen);
            while (used > seen && !atomic_compare_exchange_weak(&max_seen, &seen, used))
                ;
            quota_commit(mine, 0);
            quota_free(mine, 0, 300);
        }
    }
    return NULL;
}

Test(quota, concurrent_reservations_never_cross_cap_or_budget)
{
    fresh(700, 1000); /* a process fits two 300-byte blocks, the device three */
    atomic_store(&max_seen, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, race, i % 2 ? (void *)&q : (void *)&other);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_assert_leq(atomic_load(&max_seen), 900);
    cr_assert_leq(atomic_load(&D.peak), 600);
    cr_assert_eq(atomic_load(&D.used), 0);
    cr_assert_eq(atomic_load(&header.device_used[0]), 0);
    uint64_t done = atomic_load(&D.allocs) + atomic_load(&D.denied) + atomic_load(&other_slot.dev[0].allocs) +
                    atomic_load(&other_slot.dev[0].denied);
    cr_assert_eq(done, (uint64_t)THREADS * ROUNDS);
}

/* grey-noded's sealed limits (policy/node_limits.h) bind even when the writable ledger was
 * rewritten: a budget or cap raised in shared memory by a group member changes nothing. */
Test(quota, service_ceilings_outrank_a_rewritten_ledger)
{
    fresh(1000, 5000);
    uint64_t budget_ceiling[GREY_MAX_DEVICES], cap_ceiling[GREY_MAX_DEVICES];
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        budget_ceiling[d] = cap_ceiling[d] = UINT64_MAX;
    budget_ceiling[0] = 800;
    cap_ceiling[0] = 600;
    struct grey_quota sealed = {.slot = &slot, .budgets = &header, .budget_ceiling = budget_ceiling,
                                .cap_ceiling = cap_ceiling};
    struct grey_quota sealed_other = {.slot = &other_slot, .budgets = &header, .budget_ceiling = budget_ceiling,
                                      .cap_ceiling = cap_ceiling};
    atomic_store(&header.device_budget[0], UINT64_MAX); /* the attack: budget lifted in the ledger */
    atomic_store(&slot.dev[0].cap, UINT64_MAX);          /* and the cap */
    cr_assert_eq(quota_reserve(&sealed, 0, 601), GREY_DENIED_CAP, "the sealed cap still applies");
    cr_assert_eq(quota_reserve(&sealed, 0, 600), GREY_ADMITTED);
    cr_assert_eq(quota_reserve(&sealed_other, 0, 300), GREY_DENIED_BUDGET, "the sealed budget still applies");
    cr_assert_eq(quota_reserve(&sealed_other, 0, 200), GREY_ADMITTED);
    uint64_t free_bytes, total;
    quota_view(&sealed, 0, 1u << 30, 1u << 30, &free_bytes, &total);
    cr_assert_eq(total, 600, "the view shows the sealed cap");
    cr_assert_eq(free_bytes, 0, "the sealed budget is spent");
}
