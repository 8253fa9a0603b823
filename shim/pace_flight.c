/* Device work in flight (pace_internal.h): how much this process has queued on a device that the
 * device has not done yet, and the wait that keeps it bounded.
 *
 * Frameworks queue far ahead of the GPU (hundreds of kernels before a synchronize, a graph of many
 * kernels in one launch), and a device runs what was queued whatever turn it is at the gate. So
 * turns, weights and ceilings only act on device time if what a process may have queued is
 * bounded: a slice's worth while the device is contended, about one kernel under a ceiling, and
 * the lead (GREY_MAX_LEAD, a plan's max_lead) always, so that a process arriving at a device
 * another one has filled waits at most that long for its first kernel. Alone, the lead only caps
 * how deep the queue is, never how busy the device is: it is refilled as it drains.
 *
 * What is done is learnt without blocking: every sample's second event, and markers (the same
 * record with only that event) recorded after launches while the queue is bounded, say that the
 * launches before them are complete. Devices run one process's launches in order (streams of one
 * process are taken as one queue: a marker on one stream stands for the others' earlier launches,
 * which holds on a device that runs one context's work in order, and is an estimate elsewhere).
 * The amount in flight is the launches since the newest completed one times the mean measured
 * launch (an exponential mean over samples). Nothing is bounded before the first measurement. */
#include "pace_internal.h"

#include <time.h>

static _Atomic uint64_t done_seq[GREY_MAX_DEVICES];  /* grey_pace_launches known complete */
static _Atomic uint64_t launch_ns[GREY_MAX_DEVICES]; /* mean measured launch, ns (0: none yet) */
static _Atomic uint64_t charged_seq[GREY_MAX_DEVICES]; /* grey_pace_launches charged by a sample */

static void atomic_max_u64(_Atomic uint64_t *v, uint64_t x)
{
    uint64_t cur = atomic_load_explicit(v, memory_order_relaxed);
    while (x > cur && !atomic_compare_exchange_weak(v, &cur, x))
        ;
}

void grey_pace_completed(int dev, uint64_t seq)
{
    atomic_max_u64(&done_seq[dev], seq);
}

void grey_pace_charged(int dev, uint64_t seq)
{
    atomic_max_u64(&charged_seq[dev], seq);
}

/* A sample charges the launches since the one before it only once it has completed, so what a
 * ceiling has spent lags what was queued by up to a sample's stride, done or not: without this, a
 * process queueing long kernels gets that lag again after every wait. */
uint64_t grey_pace_uncharged_ns(int dev)
{
    uint64_t issued = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    issued = issued ? issued - 1 : 0; /* the launch being decided is counted already */
    uint64_t charged = atomic_load_explicit(&charged_seq[dev], memory_order_relaxed);
    uint64_t n = issued > charged ? issued - charged : 0;
    uint64_t per = atomic_load_explicit(&launch_ns[dev], memory_order_relaxed);
    return n > UINT64_MAX / (per ? per : 1) ? UINT64_MAX : n * per;
}

/* What one launch costs is learnt from measures that are each at least the truth: a sample's
 * bracket (longer when it also held other kernels: others' queued ahead of it, or this process's
 * on other streams) and the span from the previous sample (per launch in between; longer when the
 * device also idled). So the estimate is the smallest of the last FLOOR_SAMPLES of them; kernels
 * that became longer raise it within FLOOR_SAMPLES samples. Until FLOOR_MIN are in, none is
 * trusted: a process arriving at a busy device first measures the queue ahead of it. */
#define FLOOR_SAMPLES 16
#define FLOOR_MIN 4
static _Atomic uint64_t recent_samples[GREY_MAX_DEVICES][FLOOR_SAMPLES];
static _Atomic unsigned recent_next[GREY_MAX_DEVICES];

/* The smallest recent measure, and how many there are (up to FLOOR_SAMPLES). */
static uint64_t floor_of(int dev, unsigned *count)
{
    uint64_t f = 0;
    *count = 0;
    for (int i = 0; i < FLOOR_SAMPLES; i++) {
        uint64_t v = atomic_load_explicit(&recent_samples[dev][i], memory_order_relaxed);
        if (v) {
            ++*count;
            if (!f || v < f)
                f = v;
        }
    }
    return f;
}

bool grey_pace_judge(int dev, uint64_t bracket_ns, uint64_t span_per_ns, bool *exact, uint64_t *per)
{
    uint64_t v = bracket_ns ? bracket_ns : 1;
    if (span_per_ns && span_per_ns < v)
        v = span_per_ns;
    unsigned k = atomic_fetch_add_explicit(&recent_next[dev], 1, memory_order_relaxed) % FLOOR_SAMPLES;
    atomic_store_explicit(&recent_samples[dev][k], v, memory_order_relaxed);
    unsigned count;
    uint64_t floor = floor_of(dev, &count);
    if (count < FLOOR_MIN) { /* too few yet: it stands for its own launch, and moves no virtual time */
        *exact = false;
        *per = v;
        return false;
    }
    atomic_store_explicit(&launch_ns[dev], floor, memory_order_relaxed);
    /* A span is what the launches in between took together; a bracket alone is one launch's
     * upper bound, and past the floor it held more than the launch: the floor is charged. */
    *per = span_per_ns && v <= OUTLIER_FACTOR * floor ? v : floor;
    return true;
}

uint64_t grey_pace_launch_ns(int dev)
{
    return atomic_load_explicit(&launch_ns[dev], memory_order_relaxed);
}

/* Launches issued on dev and not known complete; the launch being decided is counted already (the
 * gate counts first), so what is in flight is what came before it. */
static uint64_t launches_in_flight(int dev)
{
    uint64_t issued = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    issued = issued ? issued - 1 : 0;
    uint64_t done = atomic_load_explicit(&done_seq[dev], memory_order_relaxed);
    return issued > done ? issued - done : 0;
}

uint64_t grey_pace_in_flight_ns(int dev)
{
    uint64_t n = launches_in_flight(dev);
    uint64_t per = atomic_load_explicit(&launch_ns[dev], memory_order_relaxed);
    return n > UINT64_MAX / (per ? per : 1) ? UINT64_MAX : n * per;
}

/* Over the bound: in device time once launches are measured; before that, in launches. */
static bool over(int dev, uint64_t bound_ns, uint64_t unmeasured)
{
    if (atomic_load_explicit(&launch_ns[dev], memory_order_relaxed) == 0)
        return launches_in_flight(dev) > unmeasured;
    return grey_pace_in_flight_ns(dev) > bound_ns;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

void grey_pace_hold_in_flight(struct grey_slot *slot, const struct grey_vendor *vendor, int dev, void *stream,
                              uint64_t bound_ns, uint64_t unmeasured, uint64_t next_launches)
{
    uint64_t start = 0, marked = 0;
    while (over(dev, bound_ns, unmeasured)) {
        uint64_t now = grey_pace_now_ns();
        if (!start)
            start = now;
        else if (now - start > GREY_PACE_FLIGHT_WAIT_MAX_NS)
            break; /* completions that never come (events refused): never hold a program forever */
        /* The launch being decided is counted already: the ones before it are what a marker now
         * covers. One marker per wait is enough; the samples and markers in flight do the rest. */
        uint64_t before = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed) - 1;
        if (marked < before && grey_pace_marker_now(vendor, dev, stream, before))
            marked = before;
        grey_pace_poll(slot, now, SAMPLES);
        if (!over(dev, bound_ns, unmeasured))
            break;
        /* Sleep for part of the excess: it drains at about one device second per second. */
        uint64_t in = grey_pace_in_flight_ns(dev);
        uint64_t step = in > bound_ns ? (in - bound_ns) / 2 : 0;
        sleep_ns(step < 50000 ? 50000 : step > 2000000 ? 2000000 : step);
        grey_pace_poll(slot, grey_pace_now_ns(), SAMPLES);
    }
    /* Others time their kernels only once this has run (pace_turns.c): a sample taken while it
     * is queued would time it too. Until the next slow path, up to next_launches more may join it
     * unseen (the fast path publishes nothing). */
    uint64_t now = grey_pace_now_ns(), in = grey_pace_in_flight_ns(dev);
    uint64_t more = next_launches * atomic_load_explicit(&launch_ns[dev], memory_order_relaxed);
    atomic_store_explicit(&slot->dev[dev].queued_until_ns,
                          in > GREY_PACE_FLIGHT_WAIT_MAX_NS || more > GREY_PACE_FLIGHT_WAIT_MAX_NS ? now : now + in + more,
                          memory_order_relaxed);
    if (start)
        atomic_fetch_add_explicit(&slot->fair[dev].throttled_ns, now - start, memory_order_relaxed);
}

void grey_pace_flight_fork_child(void)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        atomic_store(&done_seq[d], atomic_load(&grey_pace_launches[d])); /* the parent's queue is not ours */
        atomic_store(&charged_seq[d], atomic_load(&grey_pace_launches[d]));
        atomic_store(&launch_ns[d], 0);
        for (int i = 0; i < FLOOR_SAMPLES; i++)
            atomic_store(&recent_samples[d][i], 0);
    }
}
