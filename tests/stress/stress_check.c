/* The ledger under fire: NPROC worker processes (stress_alloc, through the hook) allocate and
 * free at random against one device budget while a quarter of them are killed with SIGKILL at
 * random moments. Meanwhile this program samples the ledger:
 *
 *   - continuously, from a thread of its own (millions of reads): device_used <= budget;
 *   - every few milliseconds, with every worker stopped (SIGSTOP, so the slots hold still and
 *     the sample is one instant): the sum of `used` over the slots of live processes <= the sum
 *     over all slots <= device_used <= budget.
 *
 * At the end, after a reclaim, the ledger must be back to exactly zero in use, every killed
 * worker's slot must have been retired exactly once (the ledger's reclaim counter equals the
 * kills) and some of them by the hooks themselves, on a denied allocation.
 *
 * Every other worker runs in a PID namespace of its own (as in a container: it is pid 1 there,
 * and its pid means nothing to the others), where the system allows it: liveness must not depend
 * on pids. Those workers are made our children all the same (we are their subreaper), so they
 * are stopped, killed and reaped like the rest.
 *
 *   stress_check LEDGER PLAN WORKER NPROC THREADS SECONDS SEED
 *
 * Prints a summary; exits 0 when every check held, 1 otherwise. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"

#define MAXPROC 128

struct worker {
    pid_t pid;         /* as this program sees it */
    bool namespaced;   /* in a PID namespace of its own */
    double kill_at;    /* < 0: not a victim */
    bool done, killed;
};

static struct worker w[MAXPROC];
static int nproc;
static _Atomic int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (failures++ < 10) {                                                                 \
                printf("FAIL: " __VA_ARGS__);                                                      \
                printf("\n");                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void reap(int i, int status)
{
    w[i].done = true;
    if (!w[i].killed)
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d ended with status %#x", (int)w[i].pid,
              status);
}

/* Collects workers that finished on their own. */
static void reap_finished(void)
{
    for (int i = 0; i < nproc; i++) {
        int st;
        if (!w[i].done && waitpid(w[i].pid, &st, WNOHANG) == w[i].pid)
            reap(i, st);
    }
}

/* Stops every live worker but skip (-1: none) and waits until each one really is stopped (or
 * gone). */
static void stop_all(bool *stopped, int skip)
{
    for (int i = 0; i < nproc; i++)
        stopped[i] = i != skip && !w[i].done && kill(w[i].pid, SIGSTOP) == 0;
    for (int i = 0; i < nproc; i++) {
        if (!stopped[i])
            continue;
        int st;
        pid_t r = waitpid(w[i].pid, &st, WUNTRACED);
        if (r == w[i].pid && !WIFSTOPPED(st)) {
            reap(i, st); /* it ended before the stop reached it */
            stopped[i] = false;
        }
    }
}

static void continue_all(const bool *stopped)
{
    for (int i = 0; i < nproc; i++)
        if (stopped[i])
            kill(w[i].pid, SIGCONT);
}

static unsigned long still_samples;
static _Atomic unsigned long quick_samples;
static _Atomic bool sampling_done;

/* The slots whose owner (or claimer, or retirer) is alive now: their locks are held. */
static void live_slots(struct grey_ledger *lg, bool *alive)
{
    for (uint32_t i = 0; i < lg->nslots; i++) {
        uint32_t st = grey_slot_state(&lg->slots[i]);
        alive[i] = (st == GREY_SLOT_ACTIVE || st == GREY_SLOT_CLAIMING || st == GREY_SLOT_RETIRING) &&
                   !grey_ledger_slot_dead(lg, i);
    }
}

/* How many of the slots alive before are dead now and still hold their state: the killed
 * worker's (a worker that exits on its own retires its slot first). */
static unsigned newly_dead(struct grey_ledger *lg, const bool *before)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < lg->nslots; i++) {
        uint32_t st = grey_slot_state(&lg->slots[i]);
        if (before[i] && (st == GREY_SLOT_ACTIVE || st == GREY_SLOT_CLAIMING || st == GREY_SLOT_RETIRING) &&
            grey_ledger_slot_dead(lg, i))
            n++;
    }
    return n;
}

/* Starts the worker in a new PID namespace: an intermediate child enters it and forks the worker
 * (pid 1 there), then leaves; the worker is re-parented to us (PR_SET_CHILD_SUBREAPER). Returns
 * the worker's pid as we see it, or -1 when namespaces are not allowed here. */
static pid_t spawn_namespaced(char *const argv[])
{
    int link[2];
    if (pipe(link) != 0)
        return -1;
    pid_t mid = fork();
    if (mid == 0) {
        close(link[0]);
        pid_t worker = -1;
        if (unshare(CLONE_NEWPID) == 0) {
            worker = fork();
            if (worker == 0) {
                close(link[1]);
                execv(argv[0], argv);
                _exit(127);
            }
        }
        ssize_t ignored = write(link[1], &worker, sizeof worker);
        (void)ignored;
        _exit(0);
    }
    close(link[1]);
    pid_t worker = -1;
    if (read(link[0], &worker, sizeof worker) != (ssize_t)sizeof worker)
        worker = -1;
    close(link[0]);
    waitpid(mid, NULL, 0);
    return worker;
}

/* One read of the shared total is a consistent instant by itself: no need to stop anyone. */
static void *quick_sampler(void *arg)
{
    struct grey_ledger *lg = arg;
    while (!atomic_load(&sampling_done)) {
        uint64_t budget = atomic_load(&lg->header->device_budget[0]);
        uint64_t used = atomic_load(&lg->header->device_used[0]);
        CHECK(used <= budget, "device_used %llu > budget %llu", (unsigned long long)used,
              (unsigned long long)budget);
        atomic_fetch_add_explicit(&quick_samples, 1, memory_order_relaxed);
    }
    return NULL;
}

static void still_sample(struct grey_ledger *lg)
{
    bool stopped[MAXPROC];
    stop_all(stopped, -1);
    uint64_t budget = atomic_load(&lg->header->device_budget[0]);
    uint64_t used = atomic_load(&lg->header->device_used[0]);
    uint64_t all = 0, live = 0;
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        uint64_t u = atomic_load(&s->dev[0].used);
        all += u;
        if (grey_slot_state(s) == GREY_SLOT_ACTIVE && !grey_ledger_slot_dead(lg, i))
            live += u;
    }
    CHECK(live <= budget, "slots of live processes hold %llu > budget %llu", (unsigned long long)live,
          (unsigned long long)budget);
    CHECK(all <= used, "slots hold %llu > device_used %llu", (unsigned long long)all, (unsigned long long)used);
    CHECK(used <= budget, "device_used %llu > budget %llu (still)", (unsigned long long)used,
          (unsigned long long)budget);
    still_samples++;
    continue_all(stopped);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: stress_check LEDGER PLAN WORKER NPROC THREADS SECONDS SEED\n");
        return 2;
    }
    const char *ledger_path = argv[1], *plan = argv[2], *worker = argv[3], *threads = argv[5];
    nproc = atoi(argv[4]);
    double seconds = atof(argv[6]);
    unsigned seed = (unsigned)strtoul(argv[7], NULL, 10);
    if (nproc < 4 || nproc > MAXPROC || seconds <= 0)
        return 2;

    /* The workers' environment: the hook, this ledger, the plan with the one budget. */
    setenv("GREY_LEDGER", ledger_path, 1);
    setenv("GREY_PLAN", plan, 1);
    unsetenv("GREY_CAP");
    const char *hook = getenv("STRESS_HOOK");
    if (!hook) {
        fprintf(stderr, "stress_check: set STRESS_HOOK to libgreyhook.so\n");
        return 2;
    }

    /* Workers in namespaces of their own become our children when their parent leaves. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    bool namespaces = getenv("STRESS_NAMESPACES") && strcmp(getenv("STRESS_NAMESPACES"), "0") != 0;
    unsigned namespaced = 0;
    setenv("LD_PRELOAD", hook, 1); /* for the namespaced workers; the others set it themselves */

    double start = now();
    srand(seed);
    for (int i = 0; i < nproc; i++) {
        /* A quarter of them die by SIGKILL somewhere in the first 90% of the run. */
        w[i].kill_at = i % 4 == 0 ? start + seconds * 0.9 * (double)rand() / RAND_MAX : -1;
        char seconds_text[32], seed_text[32];
        snprintf(seconds_text, sizeof seconds_text, "%g", seconds);
        snprintf(seed_text, sizeof seed_text, "%u", seed * 1000 + (unsigned)i);
        char *argv_w[] = {(char *)worker, (char *)threads, seconds_text, seed_text, NULL};
        pid_t pid = -1;
        if (namespaces && i % 2 == 1) {
            pid = spawn_namespaced(argv_w);
            if (pid < 0) {
                printf("SKIP: PID namespaces are not allowed here (unshare: %s); every worker runs in ours\n",
                       strerror(errno));
                namespaces = false;
            } else {
                w[i].namespaced = true;
                namespaced++;
                setpriority(PRIO_PROCESS, (id_t)pid, 10);
            }
        }
        if (pid < 0) {
            pid = fork();
            if (pid == 0) {
                /* Below the sampler's priority: 128 busy threads on a few cores would otherwise
                 * leave it too little time to sample often. */
                if (nice(10) < 0)
                    perror("nice");
                execv(worker, argv_w);
                _exit(127);
            }
        }
        w[i].pid = pid;
    }

    struct grey_ledger lg;
    char err[512];
    int opened = -1;
    for (int tries = 0; tries < 500 && opened != 0; tries++) {
        opened = grey_ledger_open(ledger_path, false, &lg, err, sizeof err);
        if (opened != 0)
            usleep(10000);
    }
    if (opened != 0) {
        printf("FAIL: %s\n", err);
        return 1;
    }
    for (int tries = 0; tries < 500 && atomic_load(&lg.header->device_budget[0]) == UINT64_MAX; tries++)
        usleep(10000);
    uint64_t budget = atomic_load(&lg.header->device_budget[0]);
    CHECK(budget != UINT64_MAX, "the plan's budget never reached the ledger");

    unsigned kills = 0, kills_with_slot = 0;
    double next_still = now();
    pthread_t sampler;
    pthread_create(&sampler, NULL, quick_sampler, &lg);
    for (;;) {
        reap_finished();
        bool all_done = true;
        for (int i = 0; i < nproc; i++) {
            if (w[i].done)
                continue;
            all_done = false;
            if (w[i].kill_at >= 0 && now() >= w[i].kill_at) {
                /* Stopped first, so that whether it holds a slot yet (a worker may be killed
                 * before its hook even ran) cannot change before the SIGKILL lands. */
                int st;
                kill(w[i].pid, SIGSTOP);
                if (waitpid(w[i].pid, &st, WUNTRACED) == w[i].pid && !WIFSTOPPED(st)) {
                    reap(i, st);
                    continue;
                }
                /* Which slot it held is told by the locks, not by pids: its slot is the one alive
                 * before the SIGKILL and dead after it. */
                static bool before[GREY_LEDGER_SLOTS];
                bool others_stopped[MAXPROC];
                stop_all(others_stopped, i); /* no other slot may change meanwhile */
                live_slots(&lg, before);
                kill(w[i].pid, SIGKILL);
                w[i].killed = true;
                waitpid(w[i].pid, &st, 0);
                reap(i, st);
                kills_with_slot += newly_dead(&lg, before);
                continue_all(others_stopped);
                kills++;
            }
        }
        if (all_done)
            break;
        CHECK(now() - start < seconds + 30, "workers still running 30 s after their end");
        if (now() - start > seconds + 30)
            break;
        if (now() >= next_still) {
            still_sample(&lg);
            next_still = now() + 0.005;
        }
        usleep(100);
    }

    atomic_store(&sampling_done, true);
    pthread_join(sampler, NULL);

    /* Every worker is gone. The hooks reclaimed what they met; the rest is reclaimed here. */
    uint64_t by_hooks = atomic_load(&lg.header->reclaimed_slots);
    unsigned by_us = grey_ledger_reclaim(&lg);
    uint64_t total = atomic_load(&lg.header->reclaimed_slots);
    CHECK(total == kills_with_slot,
          "%llu slots reclaimed for %u killed workers that held one (each must be retired exactly once)",
          (unsigned long long)total, kills_with_slot);
    CHECK(by_hooks >= 1, "no killed worker's slot was reclaimed by a denied allocation");
    /* A worker killed between the two steps of an allocation or a free strands at most one
     * allocation (64 MiB at most) per thread: returned when the ledger went idle just now. */
    uint64_t orphaned = atomic_load(&lg.header->orphaned_bytes);
    CHECK(orphaned <= (uint64_t)kills * (uint64_t)atoi(threads) * (64ull << 20),
          "%llu orphaned bytes: more than %u killed workers could have left", (unsigned long long)orphaned, kills);
    CHECK(atomic_load(&lg.header->device_used[0]) == 0, "device_used is %llu at the end, not 0",
          (unsigned long long)atomic_load(&lg.header->device_used[0]));
    unsigned active = 0;
    for (uint32_t i = 0; i < lg.nslots; i++) {
        struct grey_slot *s = &lg.slots[i];
        for (int d = 0; d < GREY_MAX_DEVICES; d++)
            CHECK(atomic_load(&s->dev[d].used) == 0, "slot %u still counts %llu bytes on device %d", i,
                  (unsigned long long)atomic_load(&s->dev[d].used), d);
        active += grey_slot_state(s) == GREY_SLOT_ACTIVE || grey_slot_state(s) == GREY_SLOT_RETIRING;
    }
    CHECK(active == 0, "%u slots still ACTIVE or RETIRING after every worker is gone", active);

    uint64_t allocs = 0, denied = 0;
    for (uint32_t i = 0; i < lg.nslots; i++) {
        allocs += atomic_load(&lg.slots[i].dev[0].allocs);
        denied += atomic_load(&lg.slots[i].dev[0].denied);
    }
    CHECK(allocs > 1000 && denied > 0, "too little happened: %llu allocations, %llu denials",
          (unsigned long long)allocs, (unsigned long long)denied);
    printf("stress: %d processes x %s threads for %gs against a %llu MiB budget: %llu allocations, %llu denied; "
           "%u killed (%u with a slot), reclaimed %llu by denied hooks + %u at the end, %llu MiB orphaned by kills mid-allocation; %lu still samples, %lu quick samples; "
           "%u in PID namespaces of their own; %s\n", nproc, threads, seconds, (unsigned long long)(budget >> 20), (unsigned long long)allocs,
           (unsigned long long)denied, kills, kills_with_slot, (unsigned long long)by_hooks, by_us, (unsigned long long)(orphaned >> 20), still_samples, atomic_load(&quick_samples),
           namespaced, failures ? "FAILED" : "ok");
    grey_ledger_close(&lg);
    return failures ? 1 : 0;
}
