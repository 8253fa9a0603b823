/* Retiring slots: every byte a process held goes back to the device budget exactly once, when it
 * exits, execs or dies, however many reclaimers race for it. */
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

#define MiB (1024ULL * 1024)

static char path[256];
static struct grey_ledger lg;

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/grey-test-retire-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    grey_ledger_close(&lg);
    unlink(path);
}

TestSuite(retire, .init = setup, .fini = teardown);

/* A child that is already gone (reaped unless zombie is set), and the start time it had. */
static pid_t dead_process(uint64_t *start, bool zombie)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        ssize_t ignored = read(p[0], &c, 1); /* until the parent has read our start time */
        (void)ignored;
        _exit(0);
    }
    close(p[0]);
    cr_assert_eq(grey_proc_start_time(child, start), 0);
    close(p[1]);
    if (!zombie) {
        waitpid(child, NULL, 0);
    } else {
        /* Let it exit without reaping it: it stays a zombie until the test's waitpid. */
        char st[64], buf[256];
        snprintf(st, sizeof st, "/proc/%d/stat", (int)child);
        for (int i = 0; i < 1000; i++) {
            FILE *f = fopen(st, "r");
            if (f) {
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                buf[n] = '\0';
                fclose(f);
                char *paren = strrchr(buf, ')');
                if (paren && paren[2] == 'Z')
                    break;
            }
            usleep(1000);
        }
    }
    return child;
}

/* A slot as its owner would leave it: ACTIVE, bytes counted in the slot and in the device total. */
static struct grey_slot *holding(unsigned i, pid_t pid, uint64_t start, int dev, uint64_t bytes)
{
    struct grey_slot *s = &lg.slots[i];
    s->pid = pid;
    s->start_time = start;
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    atomic_store(&s->dev[dev].used, bytes);
    atomic_store(&s->dev[dev].peak, bytes);
    atomic_fetch_add(&lg.header->device_used[dev], bytes);
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
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), self_start(), 0, getuid(), "me");
    cr_assert_not_null(s);
    struct grey_quota q = {.slot = s, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&q, 0, 500 * MiB), GREY_ADMITTED);
    quota_commit(&q, 0);
    cr_assert_eq(quota_reserve(&q, 0, 600 * MiB), GREY_DENIED_BUDGET);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 500 * MiB);

    cr_assert(grey_slot_retire(lg.header, s));
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0, "the budget gets the 500 MiB back");
    cr_assert_eq(atomic_load(&s->dev[0].used), 0);
    cr_assert_eq(atomic_load(&s->dev[0].peak), 500 * MiB, "peak stays for the summary");
    cr_assert_eq(atomic_load(&s->dev[0].denied), 1, "denials stay for the summary");
    cr_assert_eq(atomic_load(&s->retirer), 0, "the retire lock is released");

    cr_assert_not(grey_slot_retire(lg.header, s), "a second retire returns nothing");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0, "and the total does not go below zero");
    cr_assert_eq(grey_ledger_reclaim(&lg), 0, "nor does a reclaim find anything left");
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 0, "an exit is not a reclaim");
}

Test(retire, exec_takeover_returns_the_old_images_bytes)
{
    uint64_t start = self_start();
    struct grey_slot *old = grey_ledger_claim(&lg, getpid(), start, 0, getuid(), "before exec");
    struct grey_quota q = {.slot = old, .budgets = lg.header};
    cr_assert_eq(quota_reserve(&q, 2, 300 * MiB), GREY_ADMITTED);
    struct grey_slot *now = grey_ledger_claim(&lg, getpid(), start, 0, getuid(), "after exec");
    cr_assert_neq(now, old);
    cr_assert_eq(grey_slot_state(old), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[2]), 0);
    cr_assert_eq(atomic_load(&old->dev[2].used), 0);
}

Test(retire, a_killed_process_is_reclaimed_exactly_once)
{
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    struct grey_slot *d = holding(3, dead, dstart, 0, 500 * MiB);
    struct grey_slot *live = holding(4, getpid(), self_start(), 0, 200 * MiB);
    cr_assert(grey_slot_owner_dead(d));
    cr_assert_not(grey_slot_owner_dead(live));

    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 200 * MiB, "only the dead process's bytes return");
    cr_assert_eq(grey_slot_state(d), GREY_SLOT_EXITED);
    cr_assert_eq(grey_slot_state(live), GREY_SLOT_ACTIVE);
    cr_assert_eq(atomic_load(&live->dev[0].used), 200 * MiB);
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 1);
    cr_assert_eq(atomic_load(&lg.header->reclaimed_bytes), 500 * MiB);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0, "a second scan finds nothing");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 200 * MiB);
}

Test(retire, a_zombie_is_dead)
{
    uint64_t dstart;
    pid_t z = dead_process(&dstart, true);
    struct grey_slot *d = holding(0, z, dstart, 1, 64 * MiB);
    cr_assert(grey_slot_owner_dead(d), "a zombie has released its memory already");
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[1]), 0);
    waitpid(z, NULL, 0);
}

Test(retire, a_reused_pid_is_not_the_owner)
{
    /* Our own pid with another start time: the owner was an earlier process with this pid. */
    holding(9, getpid(), self_start() - 1, 0, 10 * MiB);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
}

Test(retire, a_retirer_killed_half_way_is_taken_over)
{
    uint64_t dstart, rstart;
    pid_t owner = dead_process(&dstart, false);
    pid_t retirer = dead_process(&rstart, false);
    struct grey_slot *s = holding(5, owner, dstart, 0, 300 * MiB);
    /* The retirer won the lock and the state, then died before returning the bytes. */
    atomic_store(&s->retirer, retirer);
    atomic_store(&s->state, GREY_SLOT_RETIRING);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
    cr_assert_eq(atomic_load(&s->retirer), 0);

    /* A live retirer is left to finish its own work. */
    struct grey_slot *t = holding(6, owner, dstart, 0, 100 * MiB);
    atomic_store(&t->retirer, getppid());
    atomic_store(&t->state, GREY_SLOT_RETIRING);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0);
    cr_assert_eq(atomic_load(&t->dev[0].used), 100 * MiB);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 100 * MiB);
}

Test(retire, exited_slot_with_bytes_left_by_a_dead_owner)
{
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    /* A thread allocated while its process ran the hook's destructor. */
    struct grey_slot *s = holding(7, dead, dstart, 0, 50 * MiB);
    atomic_store(&s->state, GREY_SLOT_EXITED);
    struct grey_slot *alive = holding(8, getpid(), self_start(), 0, 70 * MiB);
    atomic_store(&alive->state, GREY_SLOT_EXITED); /* still running its exit: not touched */
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 70 * MiB);
    cr_assert_eq(atomic_load(&alive->dev[0].used), 70 * MiB);
    cr_assert_eq(grey_slot_state(alive), GREY_SLOT_EXITED);
}

Test(retire, scans_are_rate_limited_across_processes)
{
    uint64_t s1, s2;
    pid_t a = dead_process(&s1, false), b = dead_process(&s2, false);
    holding(10, a, s1, 0, MiB);
    const uint64_t t0 = 5000000000ull, interval = 10000000ull;
    cr_assert_eq(grey_ledger_reclaim_limited(&lg, t0, interval), 1);
    holding(11, b, s2, 0, MiB);
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
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    holding(0, dead, dstart, 0, 500 * MiB);
    struct grey_slot *me = grey_ledger_claim(&lg, getpid(), self_start(), 0, getuid(), "new");
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
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    struct grey_slot *d = holding(12, dead, dstart, 0, 8 * MiB);
    struct grey_slot *live = holding(13, getpid(), self_start(), 0, 4 * MiB);
    cr_assert_eq(grey_ledger_live_slots(&lg, NULL), 1);
    cr_assert_eq(grey_ledger_live_slots(&lg, live), 0);
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
static uint64_t many_dead(pid_t dead, uint64_t dstart)
{
    for (unsigned i = 0; i < DEAD_SLOTS; i++)
        holding(i, dead, dstart, (int)(i % 4), (i + 1) * MiB);
    holding(DEAD_SLOTS, getpid(), self_start(), 1, 77 * MiB);
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
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    for (int round = 0; round < 5; round++) {
        memset(lg.header->device_used, 0, sizeof lg.header->device_used);
        atomic_store(&lg.header->reclaimed_slots, 0);
        atomic_store(&lg.header->reclaimed_bytes, 0);
        uint64_t live = many_dead(dead, dstart);
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
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    uint64_t live = many_dead(dead, dstart);
    /* Four processes map the same file and start together (a pipe as the starting gun). */
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
    struct grey_slot *live = holding(20, getpid(), self_start(), 0, 2 * MiB);
    cr_assert_eq(grey_ledger_reclaim(&lg), 0);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 7 * MiB, "a live process could be mid-step: kept");
    cr_assert_eq(atomic_load(&lg.header->orphaned_bytes), 0);

    cr_assert(grey_slot_retire(lg.header, live));
    atomic_store(&lg.slots[21].state, GREY_SLOT_CLAIMING);
    atomic_store(&lg.slots[21].retirer, getpid()); /* a live claimer, half-way */
    grey_ledger_reclaim(&lg);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 7 * MiB, "a claimer could be about to allocate: kept");

    atomic_store(&lg.slots[21].state, GREY_SLOT_FREE);
    atomic_store(&lg.slots[21].retirer, 0);
    grey_ledger_reclaim(&lg);
    cr_assert_eq(atomic_load(&lg.header->device_used[3]), 0, "idle: nobody can be mid-step, so they go back");
    cr_assert_eq(atomic_load(&lg.header->device_used[0]), 0);
    cr_assert_eq(atomic_load(&lg.header->orphaned_bytes), 7 * MiB, "and are counted as orphaned");
    cr_assert_eq(atomic_load(&lg.header->reclaimed_slots), 0, "no slot was reclaimed for them");
}

Test(retire, a_claimer_killed_half_way_frees_its_slot)
{
    uint64_t dstart;
    pid_t dead = dead_process(&dstart, false);
    struct grey_slot *s = &lg.slots[30];
    atomic_store(&s->state, GREY_SLOT_CLAIMING);
    atomic_store(&s->retirer, dead);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1);
    cr_assert_eq(grey_slot_state(s), GREY_SLOT_FREE, "free for the next claimer, not stuck CLAIMING");
    cr_assert_eq(atomic_load(&s->retirer), 0);
}
