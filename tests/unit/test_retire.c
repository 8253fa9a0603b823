/* Retiring slots: every byte a process held goes back to the device budget exactly once, when it
 * exits, execs or dies, however many reclaimers race for it. A slot's owner is alive exactly while
 * some open file description holds the slot's lock (policy/ledger.h); the tests give slots live
 * owners through descriptions of their own or real child processes (tests/unit/ledger_locks.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"
#include "policy/quota.h"
#include "tests/unit/ledger_locks.h"

#define MiB (1024ULL * 1024)

static char path[256];
static struct grey_ledger lg;
static int others = -1; /* the other live processes' description */

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/grey-test-retire-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
    others = open(path, O_RDWR);
    cr_assert_geq(others, 0);
}

static void teardown(void)
{
    close(others);
    grey_ledger_close(&lg);
    unlink(path);
}

TestSuite(retire, .init = setup, .fini = teardown);

/* A slot as its owner would leave it: ACTIVE, bytes counted in the slot and in the device total;
 * its owner alive (another process holds its lock) or dead (nobody does). */
static struct grey_slot *holding(unsigned i, bool alive, int dev, uint64_t bytes)
{
    struct grey_slot *s = &lg.slots[i];
    s->pid = 4242;
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    atomic_store(&s->flags, GREY_SLOT_USED_GPU);
    atomic_store(&s->dev[dev].used, bytes);
    atomic_store(&s->dev[dev].peak, bytes);
    atomic_fetch_add(&lg.header->device_used[dev], bytes);
    if (alive)
        hold_slot_on(others, i);
    return s;
}

static uint64_t self_start(void)
{
    uint64_t start;
    cr_assert_eq(grey_proc_start_time(getpid(), &start), 0);
    return start;
}

Test(retire, own_exit_returns_bytes_once_and_keeps_the_summary)
{
    atomic_store(&lg.header->device_budget[0], 1024 * MiB);
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), self_start(), 0, 0, getuid(), "me");
    cr_assert_not_null(s);
    atomic_store(&s->flags, GREY_SLOT_USED_GPU);
    struct grey_quota q = {.slot = s, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&q, 0, 500 * MiB), GREY_ADMITTED);
    quota_commit(&q, 0);
    cr_assert_eq(quota_reserve(&q, 0, 600 * MiB), GREY_DENIED_BUDGET);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 500 * MiB);

    cr_assert(grey_slot_retire(&lg, s));
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0, "the budget gets the 500 MiB back");
    cr_assert_eq(atomic_load(&s->dev[0].used), 0);
    cr_assert_eq(atomic_load(&s->dev[0].peak), 500 * MiB, "peak stays for the summary");
    cr_assert_eq(atomic_load(&s->dev[0].denied), 1, "denials stay for the summary");
    cr_assert_eq(lg.own, (int32_t)grey_slot_index(&lg, s), "the lock stays with its owner until it is gone");

    cr_assert_not(grey_slot_retire(&lg, s), "a second retire returns nothing");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0, "and the total does not go below zero");
    cr_assert_eq(grey_ledger_reclaim(&lg), 0, "nor does a reclaim find anything left");
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 0, "an exit is not a reclaim");
}

Test(retire, a_process_that_never_used_a_gpu_leaves_no_slot_but_a_count)
{
    struct grey_ledger run;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, false, &run, err, sizeof err), 0, "%s", err);
    uint64_t run_id;
    cr_assert_eq(grey_ledger_run_begin(&run, &run_id), 0);
    for (int i = 0; i < 300; i++) { /* more than the ledger has slots */
        struct grey_slot *s = grey_ledger_claim(&lg, getpid(), self_start(), 0, run_id, getuid(), "true");
        cr_assert_not_null(s, "process %d found no slot", i);
        cr_assert(grey_slot_retire(&lg, s));
        cr_assert_eq(grey_slot_state(s), GREY_SLOT_FREE);
        cr_assert_eq(grey_ledger_new_description(&lg), 0); /* the next process */
    }
    cr_assert_eq(grey_ledger_run_slotless(&run, run_id), 300, "grey-run still learns they ran under the hook");
    grey_ledger_close(&run);
}

Test(retire, exec_takeover_returns_the_old_images_bytes)
{
    uint64_t start = self_start();
    struct grey_slot *old = grey_ledger_claim(&lg, getpid(), start, 0, 0, getuid(), "before exec");
    atomic_store(&old->flags, GREY_SLOT_USED_GPU);
    struct grey_quota q = {.slot = old, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&q, 2, 300 * MiB), GREY_ADMITTED);
    cr_assert_eq(grey_ledger_new_description(&lg), 0); /* exec closed the old image's description */
    struct grey_slot *now = grey_ledger_claim(&lg, getpid(), start, 0, 0, getuid(), "after exec");
    cr_assert_neq(now, old);
    cr_assert_eq(grey_slot_state(old), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[2]), 0);
    cr_assert_eq(atomic_load(&old->dev[2].used), 0);
}

/* bash -c 'for ...; do true; done': each child is a fork of the hooked shell (a slot of its own)
 * that execs a hooked true (a slot again). Neither image touches a GPU; neither slot may stay. */
Test(retire, fork_and_exec_without_a_gpu_leave_no_slot_and_count_one_process)
{
    struct grey_ledger run;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, false, &run, err, sizeof err), 0, "%s", err);
    uint64_t run_id;
    cr_assert_eq(grey_ledger_run_begin(&run, &run_id), 0);
    uint64_t start = self_start();
    for (int i = 0; i < 300; i++) {
        struct grey_slot *forked = grey_ledger_claim(&lg, getpid(), start, 0, run_id, getuid(), "bash");
        cr_assert_not_null(forked, "child %d found no slot", i);
        cr_assert_eq(grey_ledger_new_description(&lg), 0); /* the exec closed the shell image's */
        struct grey_slot *execed = grey_ledger_claim(&lg, getpid(), start, 0, run_id, getuid(), "true");
        cr_assert_not_null(execed, "child %d's true found no slot", i);
        unsigned taken = 0;
        for (uint32_t k = 0; k < lg.nslots; k++)
            taken += grey_slot_state(&lg.slots[k]) != GREY_SLOT_FREE;
        cr_assert_eq(taken, 1, "the image before the exec left its slot free (%u taken)", taken);
        (void)forked;
        cr_assert(grey_slot_retire(&lg, execed));
        cr_assert_eq(grey_slot_state(execed), GREY_SLOT_FREE);
        cr_assert_eq(grey_ledger_new_description(&lg), 0); /* the next child */
    }
    cr_assert_eq(grey_ledger_run_slotless(&run, run_id), 300, "each child counted once, not once per image");
    grey_ledger_close(&run);
}

Test(retire, a_killed_process_that_never_used_a_gpu_frees_its_slot_and_is_counted)
{
    struct grey_ledger run;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, false, &run, err, sizeof err), 0, "%s", err);
    uint64_t run_id;
    cr_assert_eq(grey_ledger_run_begin(&run, &run_id), 0);
    struct grey_slot *s = &lg.slots[7];
    s->pid = 4343;
    s->run_id = run_id;
    atomic_store(&s->state, GREY_SLOT_ACTIVE); /* no lock held: its owner is dead */
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_FREE);
    cr_assert_eq(grey_ledger_run_slotless(&run, run_id), 1);
    grey_ledger_close(&run);
}

Test(retire, a_killed_process_is_reclaimed_exactly_once)
{
    struct grey_slot *d = holding(3, false, 0, 500 * MiB);
    pid_t child = holder_process(path, 4);
    struct grey_slot *live = holding(4, false, 0, 200 * MiB);
    cr_assert(grey_ledger_slot_dead(&lg, 3));
    cr_assert_not(grey_ledger_slot_dead(&lg, 4));

    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 200 * MiB, "only the dead process's bytes return");
    cr_assert_eq(grey_slot_state(d), GREY_SLOT_EXITED);
    cr_assert_eq(grey_slot_state(live), GREY_SLOT_ACTIVE);
    cr_assert_eq(atomic_load(&live->dev[0].used), 200 * MiB);
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 1);
    cr_assert_eq(atomic_load(&lg.header->reclaimed_bytes), 500 * MiB);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0, "a second scan finds nothing");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 200 * MiB);
    kill_holder(child);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1, "SIGKILLed: its lock went with it");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
}

Test(retire, a_zombie_is_dead)
{
    pid_t z = holder_process(path, 0);
    holding(0, false, 1, 64 * MiB);
    kill(z, SIGKILL);
    /* Not reaped: a zombie, whose files the kernel has closed already. */
    for (int i = 0; i < 1000 && !grey_ledger_slot_dead(&lg, 0); i++)
        usleep(1000);
    cr_assert(grey_ledger_slot_dead(&lg, 0), "a zombie has released its memory already");
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[1]), 0);
    waitpid(z, NULL, 0);
}

Test(retire, a_reused_pid_is_not_the_owner)
{
    /* Our own pid, the right start time even, but nobody holds the lock: the owner is gone. */
    struct grey_slot *s = holding(9, false, 0, 10 * MiB);
    s->pid = getpid();
    s->start_time = self_start();
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
}

Test(retire, a_retirer_killed_half_way_is_taken_over)
{
    struct grey_slot *s = holding(5, false, 0, 300 * MiB);
    /* The retirer took the lock and the state, then died before returning the bytes. */
    atomic_store(&s->state, GREY_SLOT_RETIRING);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
    cr_assert(grey_ledger_slot_dead(&lg, 5), "the lock is released again");

    /* A live retirer is left to finish its own work. */
    struct grey_slot *t = holding(6, true, 0, 100 * MiB);
    atomic_store(&t->state, GREY_SLOT_RETIRING);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0);
    cr_assert_eq(atomic_load(&t->dev[0].used), 100 * MiB);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 100 * MiB);
}

Test(retire, exited_slot_with_bytes_left_by_a_dead_owner)
{
    /* A thread allocated while its process ran the hook's destructor. */
    struct grey_slot *s = holding(7, false, 0, 50 * MiB);
    atomic_store(&s->state, GREY_SLOT_EXITED);
    struct grey_slot *alive = holding(8, true, 0, 70 * MiB);
    atomic_store(&alive->state, GREY_SLOT_EXITED); /* still running its exit: not touched */
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 70 * MiB);
    cr_assert_eq(atomic_load(&alive->dev[0].used), 70 * MiB);
    cr_assert_eq(grey_slot_state(alive), GREY_SLOT_EXITED);
}

Test(retire, scans_are_rate_limited_across_processes)
{
    holding(10, false, 0, MiB);
    const uint64_t t0 = 5000000000ull, interval = 10000000ull;
    cr_assert_eq(grey_ledger_reclaim_limited(&lg, t0, interval), 1);
    holding(11, false, 0, MiB);
    cr_assert_eq(grey_ledger_reclaim_limited(&lg, t0 + interval / 2, interval), 0, "within the interval: no scan");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), MiB);
    cr_assert_eq(grey_ledger_reclaim_limited(&lg, t0 + interval, interval), 1, "after it: a scan");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
    cr_assert_eq(grey_ledger_reclaim_limited(&lg, 1, interval), 0, "nothing left (and a clock behind the stamp scans)");
    cr_assert_eq(atomic_load(&lg.header->last_reclaim_ns), 1);
}

static int reclaim_calls;
static struct grey_ledger *reclaim_ledger;
static void reclaim_cb(const struct grey_quota *q, int dev)
{
    (void)q;
    (void)dev;
    reclaim_calls++;
    grey_ledger_reclaim(reclaim_ledger);
}

Test(retire, a_budget_denial_reclaims_and_retries_once)
{
    atomic_store(&lg.header->device_budget[0], 1024 * MiB);
    holding(0, false, 0, 500 * MiB);
    struct grey_slot *me = grey_ledger_claim(&lg, getpid(), self_start(), 0, 0, getuid(), "new");
    cr_assert_neq(me, &lg.slots[0], "the dead process's slot is not free yet");
    struct grey_quota plain = {.slot = me, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&plain, 0, 900 * MiB), GREY_DENIED_BUDGET, "without a reclaim the dead bytes block it");
    cr_assert_eq(atomic_load(&me->dev[0].denied), 1);

    struct grey_quota q = {.slot = me, .budgets = lg.header, .reclaim = reclaim_cb};
    reclaim_ledger = &lg;
    reclaim_calls = 0;
    cr_assert_eq(quota_reserve(&q, 0, 900 * MiB), GREY_ADMITTED, "the killed process's 500 MiB came back");
    cr_assert_eq(reclaim_calls, 1);
    cr_assert_eq(atomic_load(&me->dev[0].denied), 1, "an admission after a reclaim is not a denial");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 900 * MiB);
    cr_assert_eq(quota_reserve(&q, 0, 200 * MiB), GREY_DENIED_BUDGET, "nothing to reclaim: denied after one retry");
    cr_assert_eq(reclaim_calls, 2);
    cr_assert_eq(atomic_load(&me->dev[0].used), 900 * MiB);
}

Test(retire, collect_retires_dead_and_frees_but_leaves_the_living)
{
    struct grey_slot *d = holding(12, false, 0, 8 * MiB);
    struct grey_slot *live = holding(13, true, 0, 4 * MiB);
    cr_assert_eq(grey_ledger_live_slots(&lg), 1);
    grey_slot_collect(&lg, d);
    grey_slot_collect(&lg, live);
    cr_assert_eq(grey_slot_state(d), GREY_SLOT_FREE);
    cr_assert_eq(grey_slot_state(live), GREY_SLOT_ACTIVE);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 4 * MiB);
}

/* ---------------------------------------------------------------- racing reclaimers */

#define DEAD_SLOTS 200
#define THREADS 8
static pthread_barrier_t barrier;
static _Atomic unsigned retired_total;

static void *reclaimer(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    atomic_fetch_add(&retired_total, grey_ledger_reclaim(&lg));
    return NULL;
}

/* Fills DEAD_SLOTS slots with dead owners holding 1..DEAD_SLOTS MiB on devices 0-3, plus one
 * live slot; returns the live slot's bytes. */
static uint64_t many_dead(void)
{
    for (unsigned i = 0; i < DEAD_SLOTS; i++)
        holding(i, false, (int)(i % 4), (i + 1) * MiB);
    holding(DEAD_SLOTS, true, 1, 77 * MiB); /* locking it again through the same description is a no-op */
    return 77 * MiB;
}

static void assert_only_live_left(uint64_t live)
{
    for (int d = 0; d < 4; d++)
        cr_assert_eq(atomic_load(&lg.header->device_used[d]), d == 1 ? live : 0, "device %d: %llu", d,
                     (unsigned long long)atomic_load(&lg.header->device_used[d]));
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), DEAD_SLOTS);
    cr_assert_eq(atomic_load(&lg.header->reclaimed_bytes), (uint64_t)DEAD_SLOTS * (DEAD_SLOTS + 1) / 2 * MiB);
}

Test(retire, threads_racing_retire_each_slot_once)
{
    for (int round = 0; round < 5; round++) {
        memset(lg.header->device_used, 0, sizeof lg.header->device_used);
        atomic_store(&lg.header->reclaimed_slots, 0);
        atomic_store(&lg.header->reclaimed_bytes, 0);
        atomic_store(&lg.slots[DEAD_SLOTS].dev[1].used, 0);
        uint64_t live = many_dead();
        atomic_store(&retired_total, 0);
        pthread_barrier_init(&barrier, NULL, THREADS);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, reclaimer, NULL);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&barrier);
        cr_assert_eq(atomic_load(&retired_total), DEAD_SLOTS, "round %d: %u retired", round,
                     atomic_load(&retired_total));
        assert_only_live_left(live);
    }
}

Test(retire, processes_racing_retire_each_slot_once)
{
    uint64_t live = many_dead();
    /* Four processes open the same file (descriptions of their own) and start together. */
    int gun[2], counts[2];
    cr_assert_eq(pipe(gun), 0);
    cr_assert_eq(pipe(counts), 0);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            struct grey_ledger mine;
            char err[256], c;
            close(gun[1]);
            if (grey_ledger_open(path, false, &mine, err, sizeof err) != 0)
                _exit(99);
            ssize_t ignored = read(gun[0], &c, 1);
            (void)ignored;
            unsigned n = grey_ledger_reclaim(&mine);
            ignored = write(counts[1], &n, sizeof n);
            _exit(0);
        }
    }
    close(gun[0]);
    usleep(20000);
    close(gun[1]); /* EOF: everyone starts */
    unsigned sum = 0;
    for (int i = 0; i < 4; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        unsigned n;
        cr_assert_eq(read(counts[0], &n, sizeof n), (ssize_t)sizeof n);
        sum += n;
    }
    cr_assert_eq(sum, DEAD_SLOTS, "the four processes retired %u slots between them", sum);
    assert_only_live_left(live);
}

Test(retire, bytes_no_slot_holds_return_only_when_the_ledger_is_idle)
{
    /* A process killed between raising the device total and its own count left 7 MiB. */
    atomic_store(&lg.header->device_used[3], 7 * MiB);
    struct grey_slot *me = grey_ledger_claim(&lg, getpid(), self_start(), 0, 0, getuid(), "me");
    atomic_store(&me->flags, GREY_SLOT_USED_GPU);
    struct grey_quota q = {.slot = me, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&q, 0, 2 * MiB), GREY_ADMITTED);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 7 * MiB, "a live process could be mid-step: kept");
    cr_assert_eq(atomic_load(&lg.header->orphaned_bytes), 0);

    cr_assert(grey_slot_retire(&lg, me));
    atomic_store(&lg.slots[21].state, GREY_SLOT_CLAIMING);
    int claimer = hold_slot(path, 21); /* a live claimer, half-way */
    grey_ledger_reclaim(&lg);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 7 * MiB, "a claimer could be about to allocate: kept");

    atomic_store(&lg.slots[21].state, GREY_SLOT_FREE);
    close(claimer);
    grey_ledger_reclaim(&lg);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 0, "idle: nobody can be mid-step, so they go back");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
    cr_assert_eq(atomic_load(&lg.header->orphaned_bytes), 7 * MiB, "and are counted as orphaned");
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 0, "no slot was reclaimed for them");
}

Test(retire, a_claimer_killed_half_way_frees_its_slot)
{
    struct grey_slot *s = &lg.slots[30];
    atomic_store(&s->state, GREY_SLOT_CLAIMING); /* and nobody holds its lock */
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_FREE, "free for the next claimer, not stuck CLAIMING");
}

Test(procinfo, ids_are_the_real_uid_and_gid_and_a_gone_process_has_none)
{
    uid_t u = 12345;
    gid_t g = 12345;
    cr_assert_eq(grey_proc_ids(getpid(), &u, &g), 0);
    cr_assert_eq(u, getuid());
    cr_assert_eq(g, getgid());
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    waitpid(c, NULL, 0); /* reaped: no /proc entry is left */
    cr_assert_eq(grey_proc_ids(c, &u, &g), -1);
}
