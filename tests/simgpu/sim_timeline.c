/* Time and stream timelines.
 *
 * A timeline is the time (CLOCK_MONOTONIC, ns) at which the last work queued on a stream
 * completes. Queuing work moves it to max(now, tail) + duration; synchronizing sleeps until it.
 * Kernels and copies take no time yet, so every timeline stays at "now" and nothing blocks. A
 * later step replaces sim_timeline_enqueue with a device timeline shared by all processes (the
 * fair-share tests need contended device time); callers only see this small interface. */
#include "sim_internal.h"

#include <errno.h>
#include <time.h>

uint64_t sim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sim_wait_until(uint64_t t_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(t_ns / 1000000000ULL),
                          .tv_nsec = (long)(t_ns % 1000000000ULL)};
    while (sim_now_ns() < t_ns &&
           clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Raises *v to at least x; lock-free, as several threads may queue on one stream. */
static void atomic_max_u64(_Atomic uint64_t *v, uint64_t x)
{
    uint64_t cur = atomic_load(v);
    while (cur < x && !atomic_compare_exchange_weak(v, &cur, x))
        ;
}

uint64_t sim_timeline_enqueue(CUcontext ctx, sim_timeline *tl, uint64_t duration_ns)
{
    uint64_t now = sim_now_ns();
    uint64_t tail = atomic_load(&tl->tail_ns);
    uint64_t done;
    do {
        done = (tail > now ? tail : now) + duration_ns;
    } while (!atomic_compare_exchange_weak(&tl->tail_ns, &tail, done));
    atomic_max_u64(&ctx->last_done_ns, done);
    return done;
}

void sim_timeline_after(sim_timeline *tl, uint64_t t_ns)
{
    atomic_max_u64(&tl->tail_ns, t_ns);
}
