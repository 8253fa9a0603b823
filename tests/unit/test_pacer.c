/* The fair-share pacer's decisions, its arithmetic, and a simulated device on a logical clock
 * (no wall-clock timing here: the integration script tests real processes). */
#include <criterion/criterion.h>
#include <string.h>

#include "policy/pacer.h"
#include "policy/plan.h"

#define MS 1000000ull
#define US 1000ull

static struct grey_pacer_params P;

static void setup(void) { grey_pacer_defaults(&P); }

TestSuite(pacer, .init = setup);

/* ------------------------------------------------------------------ arithmetic */

Test(pacer, decay_halves_per_half_life)
{
    cr_assert_eq(grey_decay(1000000, 0, 100 * MS), 1000000);
    uint64_t half = grey_decay(1000000, 100 * MS, 100 * MS);
    cr_assert(half >= 499000 && half <= 501000, "one half-life halves: got %llu", (unsigned long long)half);
    uint64_t quarter = grey_decay(1000000, 200 * MS, 100 * MS);
    cr_assert(quarter >= 249000 && quarter <= 251000, "two half-lives quarter: got %llu", (unsigned long long)quarter);
    /* Between the table's points: 2^-0.3 = 0.81225. */
    uint64_t mid = grey_decay(1000000, 30 * MS, 100 * MS);
    cr_assert(mid >= 809800 && mid <= 814700, "2^-0.3 within 0.3%%: got %llu", (unsigned long long)mid);
    cr_assert_eq(grey_decay(UINT64_MAX, 64 * 100 * MS, 100 * MS), 0);
    cr_assert_eq(grey_decay(12345, 5, 0), 0, "a zero half-life must not divide by zero");
    uint64_t prev = UINT64_MAX;
    for (uint64_t t = 0; t < 300 * MS; t += 7 * MS) {
        uint64_t v = grey_decay(1ull << 40, t, 100 * MS);
        cr_assert(v <= prev, "decay must not grow with time (t=%llu)", (unsigned long long)t);
        prev = v;
    }
    cr_assert(grey_decay(UINT64_MAX, 1, 100 * MS) > UINT64_MAX / 2, "large values must not overflow");
}

Test(pacer, charge_divides_by_weight)
{
    cr_assert_eq(grey_pacer_charge(1000, 1), 1000 * GREY_WEIGHT_UNIT);
    cr_assert_eq(grey_pacer_charge(1000, 4), 250 * GREY_WEIGHT_UNIT);
    cr_assert_eq(grey_pacer_charge(1000, 0), 1000 * GREY_WEIGHT_UNIT, "weight 0 counts as 1");
    cr_assert_eq(grey_pacer_charge(UINT64_MAX / 10, 10000), (UINT64_MAX / 10) / 100, "no overflow");
}

Test(pacer, utilization_of_a_busy_device_is_about_1000)
{
    /* A device busy all the time: recent converges to half_life / ln 2. */
    struct grey_pacer_proc p[2] = {{.id = 1, .recent_ns = P.half_life_ns * 1000 / 693 / 2},
                                   {.id = 2, .recent_ns = P.half_life_ns * 1000 / 693 / 2}};
    uint32_t u = grey_pacer_utilization(&P, p, 2);
    cr_assert(u >= 995 && u <= 1005, "got %u", u);
    p[0].recent_ns = p[1].recent_ns = 0;
    cr_assert_eq(grey_pacer_utilization(&P, p, 2), 0);
}

Test(pacer, token_packs_holder_and_slice_end)
{
    uint32_t h;
    uint64_t end;
    grey_token_unpack(grey_token_pack(257, 123456789012ull), &h, &end);
    cr_assert_eq(h, 257);
    cr_assert(end <= 123456789012ull && 123456789012ull - end < 4096, "slice end kept to 4 us");
    cr_assert_eq(grey_token_pack(0, 99999999), 0, "no holder is the empty token");
    grey_token_unpack(0, &h, &end);
    cr_assert_eq(h, 0);
    cr_assert_eq(end, 0);
}

Test(pacer, ceiling_refill_and_wait)
{
    /* 25%: after 100 ms, 25 ms of device time are allowed. */
    uint64_t a = grey_ceiling_refill(0, 0, 100 * MS, 2500, 0, 1000 * MS);
    cr_assert_eq(a, 25 * MS);
    cr_assert_eq(grey_ceiling_wait(a, 20 * MS, 2500), 0, "under the allowance: no wait");
    /* 35 ms used: 10 ms too many, which 25% earns back in 40 ms. */
    cr_assert_eq(grey_ceiling_wait(a, 35 * MS, 2500), 40 * MS);
    /* Idle time banks at most a burst. */
    a = grey_ceiling_refill(0, 0, 10000 * MS, 2500, 0, 50 * MS);
    cr_assert_eq(a, 50 * MS);
    cr_assert_eq(grey_ceiling_refill(a, 10 * MS, 5 * MS, 2500, 0, 50 * MS), a, "a clock behind must not refill");
    cr_assert_eq(grey_ceiling_wait(0, 1000, 0), 0, "share 0 means no ceiling");
}

/* ------------------------------------------------------------------ single decisions */

static const uint64_t NOW = 1000000 * MS;
/* Recent device time that makes the device look fully busy. */
#define BUSY (P.half_life_ns * 1000 / 693)

Test(pacer, alone_goes_at_once)
{
    struct grey_pacer_proc p[1] = {{.id = 1, .weight = 1, .seen_ns = NOW, .recent_ns = BUSY}};
    struct grey_pacer_device dev = {0};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 1, 0, &dev, NOW, &d);
    cr_assert(d.go);
    cr_assert(!d.contended, "one process alone never contends");
    cr_assert(!d.set_token);
}

Test(pacer, idle_others_do_not_count)
{
    struct grey_pacer_proc p[2] = {{.id = 1, .weight = 1, .seen_ns = NOW, .recent_ns = BUSY},
                                   {.id = 2, .weight = 9, .seen_ns = NOW - 2 * P.active_ns, .recent_ns = BUSY}};
    struct grey_pacer_device dev = {.holder = 2, .slice_end_ns = NOW + MS, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.go, "a process that stopped launching must not hold others back");
    cr_assert(!d.contended);
    cr_assert(d.set_token && d.holder == 0, "the idle holder's token is cleared");
}

Test(pacer, an_idle_device_is_not_contended)
{
    /* Two processes launching, but their kernels keep the device 10% busy: nobody waits. */
    struct grey_pacer_proc p[2] = {{.id = 1, .seen_ns = NOW, .recent_ns = BUSY / 20},
                                   {.id = 2, .seen_ns = NOW, .recent_ns = BUSY / 20}};
    struct grey_pacer_device dev = {0};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.go);
    cr_assert(!d.contended);
}

Test(pacer, contention_has_hysteresis)
{
    /* 50% busy: below the entry threshold, above the exit one. */
    struct grey_pacer_proc p[2] = {{.id = 1, .seen_ns = NOW, .recent_ns = BUSY / 4},
                                   {.id = 2, .seen_ns = NOW, .recent_ns = BUSY / 4}};
    struct grey_pacer_device dev = {0};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(!d.contended, "50%% busy does not start contention");
    dev.contended = true;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.contended, "50%% busy does not end it either");
}

Test(pacer, waits_while_another_holds_a_live_slice)
{
    struct grey_pacer_proc p[2] = {{.id = 1, .seen_ns = NOW, .recent_ns = BUSY / 2},
                                   {.id = 2, .seen_ns = NOW - 100 * US, .recent_ns = BUSY / 2}};
    struct grey_pacer_device dev = {.holder = 2, .slice_end_ns = NOW + 3 * MS, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(!d.go);
    cr_assert(!d.set_token, "a live slice is not taken away");
    cr_assert(d.wait_ns >= P.min_sleep_ns && d.wait_ns <= P.max_sleep_ns);
}

Test(pacer, takes_over_from_an_idle_holder)
{
    struct grey_pacer_proc p[2] = {{.id = 1, .seen_ns = NOW, .waiting_since = NOW - MS, .recent_ns = BUSY / 2},
                                   {.id = 2, .seen_ns = NOW - P.holder_idle_ns - 1, .recent_ns = BUSY / 2}};
    struct grey_pacer_device dev = {.holder = 2, .slice_end_ns = NOW + 3 * MS, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.go, "a holder blocked elsewhere must not keep the device from a waiter");
    cr_assert(d.set_token && d.holder == 1 && d.slice_end_ns == NOW + P.quantum_ns);
}

Test(pacer, holder_keeps_its_slice_then_hands_to_the_least_vtime)
{
    struct grey_pacer_proc p[3] = {
        {.id = 1, .weight = 1, .vtime = 900, .seen_ns = NOW, .recent_ns = BUSY / 3},
        {.id = 2, .weight = 1, .vtime = 500, .seen_ns = NOW, .waiting_since = NOW - MS, .recent_ns = BUSY / 3},
        {.id = 3, .weight = 1, .vtime = 400, .seen_ns = NOW, .waiting_since = NOW - MS / 2, .recent_ns = BUSY / 3},
    };
    struct grey_pacer_device dev = {.holder = 1, .slice_end_ns = NOW + MS, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 3, 0, &dev, NOW, &d);
    cr_assert(d.go && !d.set_token, "within its slice the holder runs");
    dev.slice_end_ns = NOW - 1;
    grey_pacer_decide(&P, p, 3, 0, &dev, NOW, &d);
    cr_assert(!d.go, "an expired holder with waiters waits");
    cr_assert(d.set_token && d.holder == 3, "the least virtual time is next (got %u)", d.holder);
}

Test(pacer, holder_keeps_the_device_when_nobody_waits)
{
    struct grey_pacer_proc p[2] = {{.id = 1, .seen_ns = NOW, .recent_ns = BUSY / 2},
                                   {.id = 2, .seen_ns = NOW - MS, .recent_ns = BUSY / 2}};
    struct grey_pacer_device dev = {.holder = 1, .slice_end_ns = NOW - 1, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.go, "work-conserving: an expired slice with no waiter is extended");
    cr_assert(d.set_token && d.holder == 1 && d.slice_end_ns == NOW + P.quantum_ns);
}

Test(pacer, rejoining_gets_no_credit_for_idle_time)
{
    struct grey_pacer_proc p[2] = {{.id = 1, .vtime = 10, .seen_ns = NOW - 10 * P.active_ns, .recent_ns = BUSY / 2},
                                   {.id = 2, .vtime = 5000, .seen_ns = NOW, .recent_ns = BUSY / 2}};
    struct grey_pacer_device dev = {.holder = 2, .slice_end_ns = NOW + MS, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert_eq(d.self_vtime, 5000, "a process back from idling starts at the competitors' least virtual time");
    p[0].seen_ns = 0;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert_eq(d.self_vtime, 5000, "so does a newcomer");
    p[0].waiting_since = NOW - MS; /* already waiting: its place stays */
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert_eq(d.self_vtime, 10);
    p[0].waiting_since = 0;
    p[0].seen_ns = NOW - 3 * MS; /* just lost its turn, its last kernels not charged yet */
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert_eq(d.self_vtime, 10, "a process that was just running is not charged twice");
}

Test(pacer, joining_a_process_that_ran_alone)
{
    /* Process 2 ran alone (no turns, no token) and built up virtual time; a newcomer must not
     * get all of the device until it has caught up. */
    struct grey_pacer_proc p[2] = {{.id = 1, .vtime = 0, .seen_ns = 0, .recent_ns = 0},
                                   {.id = 2, .vtime = 9000000, .seen_ns = NOW, .recent_ns = BUSY}};
    struct grey_pacer_device dev = {0};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 2, 0, &dev, NOW, &d);
    cr_assert(d.contended);
    cr_assert_eq(d.self_vtime, 9000000);
}

Test(pacer, a_starved_waiter_is_served_first)
{
    struct grey_pacer_proc p[3] = {
        {.id = 1, .vtime = 100, .seen_ns = NOW, .recent_ns = BUSY / 3},
        {.id = 2, .vtime = 1000000, .seen_ns = NOW, .waiting_since = NOW - P.starve_ns, .recent_ns = BUSY / 3},
        {.id = 3, .vtime = 50, .seen_ns = NOW, .waiting_since = NOW - MS, .recent_ns = BUSY / 3},
    };
    struct grey_pacer_device dev = {.holder = 1, .slice_end_ns = NOW - 1, .contended = true};
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 3, 0, &dev, NOW, &d);
    cr_assert(d.set_token && d.holder == 2, "a waiter past starve_ns goes first whatever its vtime");
}

Test(pacer, every_process_picks_the_same_next)
{
    /* Equal vtimes: the longer wait, then the lower id, whoever decides. */
    struct grey_pacer_proc p[3] = {
        {.id = 7, .vtime = 100, .seen_ns = NOW, .waiting_since = NOW - 2 * MS, .recent_ns = BUSY / 3},
        {.id = 4, .vtime = 100, .seen_ns = NOW, .waiting_since = NOW - 2 * MS, .recent_ns = BUSY / 3},
        {.id = 9, .vtime = 100, .seen_ns = NOW, .waiting_since = NOW - 3 * MS, .recent_ns = BUSY / 3},
    };
    struct grey_pacer_device dev = {.contended = true};
    for (unsigned self = 0; self < 3; self++) {
        struct grey_pacer_decision d;
        grey_pacer_decide(&P, p, 3, self, &dev, NOW, &d);
        cr_assert(d.set_token && d.holder == 9, "decider %u picked %u", self, d.holder);
    }
    p[2].waiting_since = NOW - 2 * MS;
    struct grey_pacer_decision d;
    grey_pacer_decide(&P, p, 3, 0, &dev, NOW, &d);
    cr_assert_eq(d.holder, 4, "then the lowest id");
}

/* ------------------------------------------------------------------ a simulated device */

/* n processes that always want the device, on a logical clock in steps of 100 us: in each step
 * every process asks the pacer (in rotating order); those told to go share the step's device
 * time (several may, before contention starts); the others wait. Returns each process's device
 * time in dev_ns[] and the longest wait of any process in *max_wait. */
static void simulate(const uint32_t *weights, unsigned n, uint64_t duration, uint64_t dev_ns[],
                     uint64_t *max_wait)
{
    struct grey_pacer_proc p[8];
    memset(p, 0, sizeof p);
    for (unsigned i = 0; i < n; i++) {
        p[i].id = i + 1;
        p[i].weight = weights[i];
        dev_ns[i] = 0;
    }
    struct grey_pacer_device dev = {0};
    const uint64_t step = 100 * US;
    *max_wait = 0;
    uint64_t now = NOW;
    for (uint64_t t = 0; t < duration; t += step, now += step) {
        bool go[8] = {false};
        unsigned ngo = 0;
        for (unsigned k = 0; k < n; k++) {
            unsigned i = (unsigned)((k + t / step) % n);
            struct grey_pacer_decision d;
            p[i].seen_ns = now;
            grey_pacer_decide(&P, p, n, i, &dev, now, &d);
            p[i].vtime = d.self_vtime;
            dev.contended = d.contended;
            if (d.set_token)
                dev.holder = d.holder, dev.slice_end_ns = d.slice_end_ns;
            if (d.go) {
                if (p[i].waiting_since && now - p[i].waiting_since > *max_wait)
                    *max_wait = now - p[i].waiting_since;
                p[i].waiting_since = 0;
                go[i] = true;
                ngo++;
            } else if (!p[i].waiting_since) {
                p[i].waiting_since = now;
            }
        }
        for (unsigned i = 0; i < n; i++) {
            p[i].recent_ns = grey_decay(p[i].recent_ns, step, P.half_life_ns);
            if (go[i]) {
                uint64_t used = step / ngo;
                dev_ns[i] += used;
                p[i].recent_ns += used;
                p[i].vtime += grey_pacer_charge(used, p[i].weight);
            }
        }
    }
}

static void expect_shares(const uint32_t *weights, unsigned n)
{
    uint64_t dev_ns[8], max_wait;
    simulate(weights, n, 8000 * MS, dev_ns, &max_wait);
    uint64_t total = 0, wsum = 0;
    for (unsigned i = 0; i < n; i++)
        total += dev_ns[i], wsum += weights[i];
    cr_assert(total >= 7900 * MS, "the device must stay busy: %llu ms of 8000", (unsigned long long)(total / MS));
    for (unsigned i = 0; i < n; i++) {
        double share = (double)dev_ns[i] / (double)total, want = (double)weights[i] / (double)wsum;
        cr_assert(share > want * 0.97 && share < want * 1.03, "process %u (weight %u): share %.4f, entitled %.4f", i,
                  weights[i], share, want);
    }
    cr_assert(max_wait < 100 * MS, "a launch waited %llu ms", (unsigned long long)(max_wait / MS));
}

Test(pacer, simulated_weights_3_1)
{
    expect_shares((const uint32_t[]){3, 1}, 2);
}

Test(pacer, simulated_weights_1_1_2_4)
{
    expect_shares((const uint32_t[]){1, 1, 2, 4}, 4);
}

Test(pacer, simulated_extreme_weights_never_starve)
{
    /* 1 : 1000: the light process still gets a slice at least every starve_ns. */
    uint64_t dev_ns[2], max_wait;
    simulate((const uint32_t[]){1000, 1}, 2, 4000 * MS, dev_ns, &max_wait);
    cr_assert(dev_ns[1] > 0, "the light process must not starve");
    cr_assert(max_wait <= P.starve_ns + P.quantum_ns + 200 * US, "waited %llu ms", (unsigned long long)(max_wait / MS));
}

/* ------------------------------------------------------------------ the lead (max_lead) */

Test(pacer, max_lead_smallest_given_wins)
{
    struct grey_plan admin = {0}, user = {0};
    const struct grey_plan *both[] = {&admin, &user};
    cr_assert_eq(grey_pacer_max_lead(both, 2, false, 0), GREY_MAX_LEAD_DEFAULT_NS, "nothing given: the default");
    admin.has_max_lead = true, admin.max_lead_ns = 30 * MS;
    cr_assert_eq(grey_pacer_max_lead(both, 2, false, 0), 30 * MS);
    user.has_max_lead = true, user.max_lead_ns = 80 * MS;
    cr_assert_eq(grey_pacer_max_lead(both, 2, false, 0), 30 * MS, "a user may not lift the admin's lead");
    cr_assert_eq(grey_pacer_max_lead(both, 2, true, 10 * MS), 10 * MS, "GREY_MAX_LEAD may lower it");
    cr_assert_eq(grey_pacer_max_lead(both, 2, true, 0), 30 * MS, "GREY_MAX_LEAD=0 does not lift a plan's bound");
    user.max_lead_ns = 0;
    admin.max_lead_ns = 0;
    cr_assert_eq(grey_pacer_max_lead(both, 2, true, 0), 0, "0 everywhere: no bound");
    cr_assert_eq(grey_pacer_max_lead(NULL, 0, true, 5 * MS), 5 * MS);
}
