/* This process's side of the time-slice scheduler (sim_sched.h): its context on each physical
 * device, the device lock, and the stamps its timelines hold.
 *
 * Context entries live as long as their process: a process claims one per device at its first
 * launch there and frees it at exit (its pending work goes with it, as a real context's does);
 * a killed process's entry is taken over by the next claimer that finds it dead. Dead means what
 * the memory table says (sim_usage.h: the owner no longer holds its slot's record lock), so the
 * entry records the process's memory slot and owner word. A forked child starts with no contexts
 * (its stamps inherited from the parent then read as done: the parent's queue is not the child's). */
#include "sim_sched.h"
#include "sim_state.h"
#include "sim_trace.h"
#include "sim_usage.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mine_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t mine_pid;                 /* the process mine[] belongs to */
static uint32_t mine[SIM_PHYS_MAX];    /* this process's context on each device, plus 1; 0: none */

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct sim_sched_device *device(int phys)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        phys = 0;
    return &sim_state()->sched[phys];
}

/* Spins with sched_yield (the holder is at most a few microseconds of arithmetic away from
 * releasing, unless it died there: then the lock is taken over). */
static void lock_device(struct sim_sched_device *d)
{
    for (unsigned spins = 1;; spins++) {
        uint32_t free_word = 0;
        if (atomic_compare_exchange_weak(&d->lock, &free_word, 1)) {
            atomic_store(&d->lock_since_ns, clock_ns());
            break;
        }
        if (spins % 16)
            continue;
        sched_yield();
        uint64_t since = atomic_load(&d->lock_since_ns), now = clock_ns();
        if (since && now - since > SIM_SCHED_STEAL_NS &&
            atomic_compare_exchange_strong(&d->lock_since_ns, &since, now)) {
            sim_trace("sched: a device lock held for over %llu ms: its holder died; taken over",
                      (unsigned long long)(SIM_SCHED_STEAL_NS / 1000000));
            break;
        }
    }
    if (d->clock.slice_ns == 0) {
        uint32_t us = atomic_load(&sim_state()->timeslice_us);
        d->clock.slice_ns = (uint64_t)(us ? us : SIM_SCHED_DEFAULT_SLICE_US) * 1000;
    }
}

static void unlock_device(struct sim_sched_device *d)
{
    atomic_store(&d->lock_since_ns, 0); /* first: a late taker-over's exchange then fails */
    atomic_store(&d->lock, 0);
}

/* Frees entry i (its pending work goes with it, as a real context's does). Under the lock. */
static void free_entry(struct sim_sched_device *d, uint32_t i)
{
    struct sim_sched_context *x = &d->ctx[i];
    x->queued_ns = x->done_ns;
    atomic_store(&x->owner, 0);
    if (d->clock.current == i)
        d->clock.current = SIM_SCHED_NONE; /* its slice ends with it */
}

/* Takes a free entry for this process, first freeing those whose owners were found dead (outside
 * the lock: the liveness check is a system call), so a killed process's queue stops taking
 * slices as soon as anyone claims. SIM_SCHED_NONE when all are taken by live processes. */
static uint32_t claim(struct sim_sched_device *d, int slot, uint64_t word)
{
    uint64_t dead[SIM_SCHED_CONTEXTS] = {0};
    for (uint32_t i = 0; i < SIM_SCHED_CONTEXTS; i++) {
        uint64_t w = atomic_load(&d->ctx[i].owner);
        if (w && !sim_usage_alive((int)d->ctx[i].usage_slot, w))
            dead[i] = w;
    }
    uint32_t got = SIM_SCHED_NONE, freed = 0;
    lock_device(d);
    sim_sched_advance(d, clock_ns());
    for (uint32_t i = 0; i < SIM_SCHED_CONTEXTS; i++) {
        if (dead[i] && atomic_load(&d->ctx[i].owner) == dead[i]) {
            free_entry(d, i);
            freed++;
        }
    }
    for (uint32_t i = 0; i < SIM_SCHED_CONTEXTS && got == SIM_SCHED_NONE; i++) {
        if (atomic_load(&d->ctx[i].owner) != 0)
            continue;
        struct sim_sched_context *x = &d->ctx[i];
        x->queued_ns = x->done_ns = x->segments = 0;
        x->usage_slot = (uint32_t)slot;
        atomic_store(&x->owner, word);
        if (d->clock.current == i)
            d->clock.current = SIM_SCHED_NONE;
        if (d->clock.contexts <= i)
            d->clock.contexts = i + 1;
        got = i;
    }
    unlock_device(d);
    if (freed)
        sim_trace("sched: freed %u context(s) of dead processes, with their pending work", freed);
    return got;
}

/* This process's context on phys, claimed at the first use; NONE when the table is full. */
static uint32_t my_context(int phys)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        phys = 0;
    pthread_mutex_lock(&mine_lock);
    if (mine_pid != getpid()) {
        for (int i = 0; i < SIM_PHYS_MAX; i++)
            mine[i] = 0;
        mine_pid = getpid();
    }
    if (!mine[phys]) {
        uint64_t word;
        int slot = sim_usage_self(&word);
        if (slot < 0) /* untracked (a private state): a word no live slot holds */
            word = (uint64_t)(uint32_t)getpid() << 32 | 2;
        uint32_t c = claim(device(phys), slot, word);
        if (c == SIM_SCHED_NONE)
            sim_trace("sched: all %d contexts of device %d are taken; this process's work there "
                      "takes no time", SIM_SCHED_CONTEXTS, phys);
        else
            mine[phys] = c + 1;
    }
    uint32_t c = mine[phys] ? mine[phys] - 1 : SIM_SCHED_NONE;
    pthread_mutex_unlock(&mine_lock);
    return c;
}

uint64_t sim_sched_queue(int phys, uint64_t duration_ns)
{
    uint32_t c = my_context(phys);
    uint64_t now = clock_ns();
    if (c == SIM_SCHED_NONE)
        return now;
    struct sim_sched_device *d = device(phys);
    lock_device(d);
    sim_sched_advance(d, now);
    struct sim_sched_context *x = &d->ctx[c];
    x->queued_ns += duration_ns;
    uint64_t pos = x->queued_ns;
    bool done = x->done_ns >= pos;
    unlock_device(d);
    return done ? now : pos | SIM_STAMP_POS;
}

/* Under the lock, model advanced to now: whether stamp's position is reached, and when. */
static bool reached(struct sim_sched_device *d, uint32_t c, uint64_t stamp, uint64_t *t)
{
    return sim_sched_reached_at(d, c, stamp & ~SIM_STAMP_POS, t);
}

bool sim_sched_done(int phys, uint64_t stamp, uint64_t *t)
{
    uint64_t now = clock_ns();
    if (!(stamp & SIM_STAMP_POS)) {
        *t = stamp;
        return now >= stamp;
    }
    uint32_t c = my_context(phys);
    if (c == SIM_SCHED_NONE) {
        *t = now;
        return true;
    }
    struct sim_sched_device *d = device(phys);
    lock_device(d);
    sim_sched_advance(d, now);
    bool ok = reached(d, c, stamp, t);
    unlock_device(d);
    return ok;
}

uint64_t sim_sched_after(int phys, uint64_t stamp)
{
    uint64_t t, now = clock_ns();
    if (!(stamp & SIM_STAMP_POS))
        return stamp > now ? stamp : now;
    return sim_sched_done(phys, stamp, &t) ? (t > now ? t : now) : stamp;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
    while (clock_ns() < t && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

uint64_t sim_sched_wait(int phys, uint64_t stamp)
{
    uint64_t t;
    if (!(stamp & SIM_STAMP_POS)) {
        sleep_until(stamp);
        return stamp;
    }
    uint32_t c = my_context(phys);
    if (c == SIM_SCHED_NONE)
        return clock_ns();
    struct sim_sched_device *d = device(phys);
    for (;;) {
        uint64_t now = clock_ns();
        lock_device(d);
        sim_sched_advance(d, now);
        bool ok = reached(d, c, stamp, &t);
        /* If nobody queues more, exactly when it is done; later work of others can only delay
         * it, so waking then and looking again never wakes too late. */
        uint64_t wake = ok ? t : sim_sched_projected(d, c, stamp & ~SIM_STAMP_POS);
        unlock_device(d);
        if (ok)
            return t;
        sleep_until(wake > now ? wake : now + 1000);
    }
}

/* A real context's work dies with its process: the entry and its pending work go at exit. */
__attribute__((destructor)) static void sched_at_exit(void)
{
    pthread_mutex_lock(&mine_lock);
    for (int p = 0; mine_pid == getpid() && p < SIM_PHYS_MAX; p++) {
        if (!mine[p])
            continue;
        struct sim_sched_device *d = device(p);
        uint32_t c = mine[p] - 1;
        lock_device(d);
        sim_sched_advance(d, clock_ns());
        free_entry(d, c);
        unlock_device(d);
        mine[p] = 0;
    }
    pthread_mutex_unlock(&mine_lock);
}
