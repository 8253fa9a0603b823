/* Time: stream timelines and the device timelines all processes share.
 *
 * A stream timeline is the time (CLOCK_MONOTONIC, ns) at which the last work queued on a stream
 * completes; synchronizing sleeps until it (no CPU is burnt: four simulated processes on a
 * two-core machine must measure the device, not the scheduler). Events and copies are ordered
 * on their stream only.
 *
 * Kernels also queue on their physical device (a GPU, or a MIG instance: sim_node.h), whatever
 * ordinal the process knows it by: each is one FIFO executing one kernel at a time, shared by
 * every process on the machine through the shared state (sim_state.h, one cache line per physical
 * device holding the time its queue drains).
 * A launch puts its kernel after the stream's earlier work and after everything any process has
 * queued on the device: start = max(now, stream tail, device tail), end = start + duration,
 * with one compare-and-swap on the device tail. A kernel takes GREY_SIM_KERNEL_US microseconds
 * (default 0: at once, as before) unless its name says otherwise (sim_module.c). When the state
 * file cannot be used, the device timelines are this process's own (and GREY_SIM_TRACE says why).
 *
 * That is the FIFO model (GREY_SIM_SCHED=fifo, the default). Under GREY_SIM_SCHED=timeslice the
 * device time-slices between processes (sim_sched.h) and a completion time is known only once the
 * shared model has got there, so timelines, events and contexts hold *stamps*: a time, or a
 * position in this process's queue on the device (SIM_STAMP_POS), resolved by sim_timeline_done
 * and sim_timeline_wait. Every stamp of one process on one device is ordered by that process's
 * queue, and its time stamps are never in the future when made, so a stream's order needs no
 * tail of its own there: a kernel's position is after all the process's earlier work, and an
 * event (or an asynchronous copy or memset, which take no time) completes with the position
 * before it. FIFO stamps are always times, and everything below is exactly what it was. */
#include "sim_internal.h"
#include "sim_sched.h"
#include "sim_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t default_kernel_ns;
static pthread_once_t kernel_ns_once = PTHREAD_ONCE_INIT;

static void kernel_ns_init(void)
{
    const char *us = getenv("GREY_SIM_KERNEL_US");
    if (us && *us) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(us, &end, 10);
        if (errno || *end || us[0] == '-' || v > 1000000000ULL)
            fprintf(stderr, "simgpu: GREY_SIM_KERNEL_US: '%s' is not a number of microseconds; kernels "
                            "take no time\n", us);
        else
            default_kernel_ns = (uint64_t)v * 1000;
    }
}

uint64_t sim_default_kernel_ns(void)
{
    pthread_once(&kernel_ns_once, kernel_ns_init);
    return default_kernel_ns;
}

static _Atomic uint64_t *device_tail(int phys)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        phys = 0;
    return &sim_state()->queue[phys].tail_ns;
}

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

/* Timeslice mode: the stamp of work queued now on tl, raised onto tl and ctx. Positions grow
 * and exceed every time stamp, so the maximum is always the latest work. */
static uint64_t sliced(CUcontext ctx, sim_timeline *tl, uint64_t stamp)
{
    atomic_max_u64(&tl->tail_ns, stamp);
    atomic_max_u64(&ctx->last_done_ns, stamp);
    return stamp;
}

uint64_t sim_timeline_enqueue(CUcontext ctx, sim_timeline *tl, uint64_t duration_ns)
{
    if (sim_sched_mode() == SIM_SCHED_TIMESLICE)
        return sliced(ctx, tl, duration_ns ? sim_sched_queue(ctx->phys, duration_ns)
                                           : sim_sched_after(ctx->phys, atomic_load(&tl->tail_ns)));
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
    if (sim_sched_mode() == SIM_SCHED_TIMESLICE)
        return; /* the process's queue orders it already (above) */
    atomic_max_u64(&tl->tail_ns, t_ns);
}

uint64_t sim_timeline_kernel(CUcontext ctx, sim_timeline *tl, uint64_t duration_ns)
{
    if (sim_sched_mode() == SIM_SCHED_TIMESLICE)
        return sliced(ctx, tl, sim_sched_queue(ctx->phys, duration_ns));
    _Atomic uint64_t *dev_tail = device_tail(ctx->phys);
    uint64_t after = sim_now_ns();
    uint64_t stream_tail = atomic_load(&tl->tail_ns);
    if (stream_tail > after)
        after = stream_tail;
    uint64_t tail = atomic_load(dev_tail), done;
    do {
        done = (tail > after ? tail : after) + duration_ns;
        /* An instant kernel on an idle device changes nothing others could see. */
        if (duration_ns == 0 && tail <= after)
            break;
    } while (!atomic_compare_exchange_weak(dev_tail, &tail, done));
    /* What the device will have been busy for, for NVML's temperature model (nvml_thermal.c). */
    if (duration_ns)
        atomic_fetch_add_explicit(&sim_state()->queue[ctx->phys >= 0 && ctx->phys < SIM_PHYS_MAX ? ctx->phys : 0].queued_ns,
                                  duration_ns, memory_order_relaxed);
    atomic_max_u64(&tl->tail_ns, done);
    atomic_max_u64(&ctx->last_done_ns, done);
    return done;
}

bool sim_timeline_done(int phys, uint64_t stamp, uint64_t *t_ns)
{
    if (stamp & SIM_STAMP_POS)
        return sim_sched_done(phys, stamp, t_ns);
    *t_ns = stamp;
    return sim_now_ns() >= stamp;
}

uint64_t sim_timeline_wait(int phys, uint64_t stamp)
{
    if (stamp & SIM_STAMP_POS)
        return sim_sched_wait(phys, stamp);
    sim_wait_until(stamp);
    return stamp;
}

bool sim_timeline_settle(int phys, _Atomic uint64_t *stamp, uint64_t *t_ns)
{
    uint64_t s = atomic_load(stamp);
    if (!sim_timeline_done(phys, s, t_ns))
        return false;
    if (s != *t_ns) /* a position becomes its time, which no longer depends on the model's ring */
        atomic_compare_exchange_strong(stamp, &s, *t_ns);
    return true;
}
