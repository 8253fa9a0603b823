/* Call-site interning and the per-site accounting of the peak (policy/sites.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>

#include "policy/sites.h"

Test(sites, same_stack_same_id_different_stack_different_id)
{
    uint64_t a[] = {0x401000, 0x402000, 0x403000}, b[] = {0x401000, 0x402000, 0x403004};
    uint32_t ia = sites_intern(a, 3), ib = sites_intern(b, 3);
    cr_assert_neq(ia, GREY_SITE_NONE);
    cr_assert_neq(ib, GREY_SITE_NONE);
    cr_assert_neq(ia, ib, "stacks differing in one frame are different sites");
    cr_assert_eq(sites_intern(a, 3), ia, "a stack seen before keeps its id");
    cr_assert_neq(sites_intern(a, 2), ia, "a shorter stack is another site");
    struct grey_site_info si;
    cr_assert(sites_get(ia, &si));
    cr_assert_eq(si.depth, 3);
    cr_assert_eq(si.frames[2], 0x403000);
}

Test(sites, no_frames_is_no_site_and_depth_is_clamped)
{
    uint64_t deep[GREY_SITE_MAX_DEPTH + 8];
    for (unsigned i = 0; i < sizeof deep / sizeof deep[0]; i++)
        deep[i] = 0x500000 + i * 16;
    cr_assert_eq(sites_intern(deep, 0), GREY_SITE_NONE);
    uint32_t id = sites_intern(deep, GREY_SITE_MAX_DEPTH + 8);
    struct grey_site_info si;
    cr_assert(sites_get(id, &si));
    cr_assert_eq(si.depth, GREY_SITE_MAX_DEPTH);
    cr_assert_not(sites_get(GREY_SITES_CAP, &si), "ids past the table are refused");
}

Test(sites, a_full_table_drops_new_stacks_instead_of_growing)
{
    uint32_t none = 0;
    for (uint64_t i = 0; i < GREY_SITES_CAP + 500; i++) {
        uint64_t ip[2] = {0x600000 + i * 64, 0x700000};
        if (sites_intern(ip, 2) == GREY_SITE_NONE)
            none++;
    }
    cr_assert_geq(none, 500, "at most the table's size can be interned (%u refused)", none);
    cr_assert_eq(sites_dropped(), none);
}

#define THREADS 8
#define STACKS 200

static uint32_t seen[THREADS][STACKS];

static void *intern_all(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < STACKS; i++) {
        int k = (i * 7 + t * 13) % STACKS; /* every thread, every stack, in its own order */
        uint64_t ip[3] = {0x10000 + (uint64_t)k * 32, 0x20000, 0x30000 + (uint64_t)k};
        seen[t][k] = sites_intern(ip, 3);
    }
    return NULL;
}

Test(sites, threads_racing_for_the_same_stacks_agree_on_their_ids)
{
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, intern_all, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int k = 0; k < STACKS; k++) {
        cr_assert_neq(seen[0][k], GREY_SITE_NONE);
        for (int t = 1; t < THREADS; t++)
            cr_assert_eq(seen[t][k], seen[0][k], "stack %d: thread %d got %u, thread 0 got %u", k, t, seen[t][k],
                         seen[0][k]);
        for (int j = 0; j < k; j++)
            cr_assert_neq(seen[0][j], seen[0][k], "stacks %d and %d share an id", j, k);
    }
}

static uint32_t site(uint64_t tag)
{
    uint64_t ip[2] = {tag, 0x999000};
    return sites_intern(ip, 2);
}

Test(sites, the_peak_remembers_which_sites_held_its_bytes)
{
    uint32_t a = site(0xa000), b = site(0xb000), c = site(0xc000);
    struct grey_site_info si;
    struct grey_peak pk;
    sites_alloc(a, 100, 10);
    sites_alloc(b, 200, 20); /* peak 300: a 100, b 200 */
    sites_free(a, 100);
    sites_alloc(c, 50, 30);  /* 250: below the peak */
    sites_peak(&pk);
    cr_assert_eq(pk.bytes, 300);
    cr_assert_eq(pk.ticks, 20);
    cr_assert_eq(pk.live, 250);
    cr_assert(sites_get(a, &si));
    cr_assert_eq(si.peak_bytes, 100, "a held 100 at the peak though it holds %llu now", (unsigned long long)si.live_bytes);
    cr_assert_eq(si.live_bytes, 0);
    cr_assert(sites_get(b, &si));
    cr_assert_eq(si.peak_bytes, 200);
    cr_assert(sites_get(c, &si));
    cr_assert_eq(si.peak_bytes, 0, "c allocated after the peak");
    cr_assert_eq(si.live_bytes, 50);

    sites_alloc(c, 1000, 40); /* a new peak, 1250: a 0, b 200, c 1050 */
    sites_peak(&pk);
    cr_assert_eq(pk.bytes, 1250);
    cr_assert_eq(pk.ticks, 40);
    cr_assert(sites_get(a, &si));
    cr_assert_eq(si.peak_bytes, 0);
    cr_assert(sites_get(b, &si));
    cr_assert_eq(si.peak_bytes, 200);
    cr_assert(sites_get(c, &si));
    cr_assert_eq(si.peak_bytes, 1050);
    cr_assert_eq(si.peak_count, 2);
    cr_assert_eq(si.allocs, 2);
}

Test(sites, unattributed_allocations_are_counted_too)
{
    struct grey_site_info si;
    sites_alloc(GREY_SITE_NONE, 64, 1);
    cr_assert(sites_get(GREY_SITE_NONE, &si));
    cr_assert_eq(si.live_bytes, 64);
    cr_assert_eq(si.peak_bytes, 64);
}

Test(sites, a_fork_child_starts_with_nothing_held_but_keeps_the_stacks)
{
    uint32_t a = site(0xd000);
    sites_alloc(a, 500, 5);
    sites_reset_accounting();
    struct grey_site_info si;
    struct grey_peak pk;
    cr_assert(sites_get(a, &si), "the stack stays interned");
    cr_assert_eq(si.live_bytes, 0);
    cr_assert_eq(si.peak_bytes, 0);
    sites_peak(&pk);
    cr_assert_eq(pk.bytes, 0);
    sites_free(a, 500); /* a free of a buffer from before the reset does not wrap around */
    cr_assert(sites_get(a, &si));
    cr_assert_eq(si.live_bytes, 0);
    cr_assert_eq(site(0xd000), a);
}

/* 100 000 distinct stacks of 16 frames: the frame pool holds about 6 000 of them, the table 8191.
 * However full, interning must cost what a lookup costs: structurally, no call may find a slot
 * pending (single-threaded, one would only be a claim left unfinished for good) and so none may
 * wait or yield. */
#define MANY 100000
#define MANY_DEPTH 16

static uint32_t many_ids[MANY];

static void many_stack(uint32_t n, uint64_t ip[MANY_DEPTH])
{
    for (unsigned f = 0; f < MANY_DEPTH; f++)
        ip[f] = 0x800000 + f * 0x1000 + (f == 0 ? (uint64_t)n * 16 : (uint64_t)(n % 7) * 4);
}

Test(sites, a_full_table_answers_unknown_at_once_and_keeps_what_it_holds)
{
    static bool taken[GREY_SITES_CAP];
    uint64_t ip[MANY_DEPTH];
    uint32_t none = 0, full_at = MANY;
    struct grey_sites_stats st;
    for (uint32_t n = 0; n < MANY; n++) {
        many_stack(n, ip);
        uint32_t id = sites_intern(ip, MANY_DEPTH);
        many_ids[n] = id;
        if (id == GREY_SITE_NONE) {
            none++;
            if (full_at == MANY) { /* a refusal for want of frames: the pool is full from now on */
                sites_stats(&st);
                if (st.frames_used > GREY_SITE_FRAME_POOL - MANY_DEPTH)
                    full_at = n;
            }
            continue;
        }
        cr_assert_lt(id, GREY_SITES_CAP);
        cr_assert_not(taken[id], "stack %u got id %u, already another stack's", n, id);
        taken[id] = true;
        struct grey_site_info si;
        cr_assert(sites_get(id, &si), "stack %u: id %u has no record", n, id);
        cr_assert(si.depth == MANY_DEPTH && memcmp(si.frames, ip, sizeof ip) == 0, "stack %u: id %u holds another stack",
                  n, id);
        cr_assert_lt(n, full_at, "stack %u interned after the pool was full (at stack %u)", n, full_at);
    }
    sites_stats(&st);
    cr_assert_lt(full_at, MANY, "100 000 stacks of 16 frames fill the frame pool");
    cr_assert_eq(st.pending, 0, "%u slots claimed and never published", st.pending);
    cr_assert_eq(st.abandoned, 0, "a full pool refuses stacks before claiming a slot for them");
    cr_assert_eq(st.waits, 0, "%llu lookups waited on a slot (%llu yields)", (unsigned long long)st.waits,
                 (unsigned long long)st.yields);
    cr_assert_eq(st.ready, MANY - none);
    cr_assert_eq(sites_dropped(), none, "every refusal is counted once");
    cr_assert_eq(many_ids[MANY - 1], GREY_SITE_NONE);

    /* Again, in another order: what was interned keeps its id, what was refused still is, and
     * nothing waits. */
    for (uint32_t i = 0; i < MANY; i++) {
        uint32_t n = (uint32_t)(((uint64_t)i * 7919) % MANY);
        many_stack(n, ip);
        uint32_t id = sites_intern(ip, MANY_DEPTH);
        cr_assert_eq(id, many_ids[n], "stack %u: id %u, first %u", n, id, many_ids[n]);
    }
    sites_stats(&st);
    cr_assert_eq(st.pending, 0);
    cr_assert_eq(st.waits, 0, "%llu lookups waited on a slot (%llu yields)", (unsigned long long)st.waits,
                 (unsigned long long)st.yields);
    cr_assert_eq(sites_dropped(), 2ull * none);
}

/* A claimer stopped between claiming a slot and publishing it (preempted for long, or a thread
 * of the parent that does not exist in a fork child) holds up the lookups of its stack for one
 * bounded wait; then its slot is given up for good, the stack is interned past it, and the
 * claimer, when it runs again, agrees on that id. */
static sem_t parked, resume;
static const uint64_t stuck_ip[3] = {0x910000, 0x920000, 0x930000};

static void park(void)
{
    sem_post(&parked);
    sem_wait(&resume);
}

static void *stuck_claimer(void *out)
{
    *(uint32_t *)out = sites_intern(stuck_ip, 3);
    return NULL;
}

Test(sites, a_claimer_stopped_half_way_holds_up_its_stack_once)
{
    sem_init(&parked, 0, 0);
    sem_init(&resume, 0, 0);
    sites_set_claim_hook(park);
    pthread_t t;
    uint32_t claimer_id = 0;
    pthread_create(&t, NULL, stuck_claimer, &claimer_id);
    sem_wait(&parked);
    sites_set_claim_hook(NULL);
    struct grey_sites_stats st;
    sites_stats(&st);
    cr_assert_eq(st.pending, 1, "the claimer holds its slot, frames unpublished");

    uint32_t id = sites_intern(stuck_ip, 3);
    cr_assert_neq(id, GREY_SITE_NONE, "the stack is interned past the stopped claim");
    sites_stats(&st);
    cr_assert_eq(st.waits, 1);
    cr_assert_eq(st.pending, 0, "the stopped claim is given up, not left for the next lookup");
    cr_assert_eq(st.abandoned, 1);
    cr_assert_eq(sites_intern(stuck_ip, 3), id);
    sites_stats(&st);
    cr_assert_eq(st.waits, 1, "only the first lookup waited");

    sem_post(&resume);
    pthread_join(t, NULL);
    cr_assert_eq(claimer_id, id, "the late claimer finds the stack where the others put it");
    sites_stats(&st);
    cr_assert_eq(st.pending, 0);
    struct grey_site_info si;
    cr_assert(sites_get(id, &si));
    cr_assert_eq(si.depth, 3);
    cr_assert_eq(si.frames[1], 0x920000);
}
