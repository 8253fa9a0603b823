/* The ledger's and quota's concurrent paths under ThreadSanitizer: admission by many threads
 * against one budget, claims, self-retires and reclaim scans all at once on one mapped ledger.
 * TSan reports any data race (the build makes it fatal); the program itself checks that the
 * accounting comes out exact. Exit 0 when every check held.
 *
 * Threads stand in for processes: each "process" life opens a file description of its own on the
 * ledger (whose locks say it is alive, as a process's would; policy/ledger.h) over the one shared
 * mapping, so TSan sees every access at the same addresses, and closes it when the life ends (its
 * death). Slots whose lock nobody holds are dead owners. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"
#include "policy/quota.h"

#define WORKERS 6
#define RECLAIMERS 3
#define ROUNDS 60000
#define DEAD_SLOTS 120
#define BUDGET (64ull << 20)
#define CAP (24ull << 20)

static struct grey_ledger lg;
static char path[] = "/tmp/grey-tsan-ledger-XXXXXX";
static int failures;
static _Atomic uint64_t max_used;
static pthread_barrier_t start;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* A child that stays alive until killed, and its start time. */
static pid_t sleeper(uint64_t *start_time)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* Dies with us, even when TSan ends us early; and keeps no pipe of make's open. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        for (;;)
            pause();
    }
    for (int i = 0; i < 1000 && grey_proc_start_time(pid, start_time) != 0; i++)
        usleep(1000);
    return pid;
}

struct worker {
    pid_t owner;
    uint64_t owner_start;
    unsigned seed;
    uint64_t admitted;
};

static void note_max(void)
{
    uint64_t u = atomic_load(&lg.header->device_used[0]);
    uint64_t m = atomic_load(&max_used);
    while (u > m && !atomic_compare_exchange_weak(&max_used, &m, u))
        ;
}

static void reclaim_cb(const struct grey_quota *q, int dev)
{
    (void)q;
    (void)dev;
    grey_ledger_reclaim(&lg);
}

/* A process's life, over and over: claim a slot, allocate and free at random (some left
 * allocated, as a crashing job would), retire at exit. */
static void *worker(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start);
    for (int life = 0; life < 6; life++) {
        struct grey_ledger mine = lg; /* the shared mapping, a description of this life's own */
        mine.fd = open(path, O_RDWR | O_CLOEXEC);
        mine.own = mine.own_run = -1;
        struct grey_slot *s = grey_ledger_claim(&mine, w->owner, w->owner_start, 0, 0, 0, "tsan");
        if (!s) {
            CHECK(0, "no slot for a live owner");
            close(mine.fd);
            return NULL;
        }
        atomic_store(&s->flags, (life & 1) ? GREY_SLOT_USED_GPU : 0); /* EXITED, or FREE at once */
        atomic_store(&s->dev[0].cap, CAP);
        struct grey_quota q = {.slot = s, .budgets = lg.header, .reclaim = reclaim_cb};
        uint64_t held[8];
        int n = 0;
        for (int i = 0; i < ROUNDS / 6; i++) {
            if (n < 8 && rand_r(&w->seed) % 2) {
                uint64_t bytes = (1 + rand_r(&w->seed) % 8) << 20;
                if (quota_reserve(&q, 0, bytes) == GREY_ADMITTED) {
                    quota_commit(&q, 0);
                    held[n++] = bytes;
                    w->admitted++;
                    note_max();
                }
            } else if (n > 0) {
                quota_free(&q, 0, held[--n]);
            }
        }
        /* Exit with n buffers still allocated: the retire gives them back. */
        CHECK(grey_slot_retire(&mine, s), "a live owner's own retire failed");
        close(mine.fd); /* the process is gone */
    }
    return NULL;
}

static void *reclaimer(void *arg)
{
    unsigned *total = arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < 200; i++) {
        *total += grey_ledger_reclaim(&lg);
        note_max();
    }
    return NULL;
}

int main(void)
{
    char err[256];
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(path);
    if (grey_ledger_open(path, true, &lg, err, sizeof err) != 0) {
        printf("FAIL: %s\n", err);
        return 1;
    }
    atomic_store(&lg.header->device_budget[0], BUDGET);

    /* Dead owners holding bytes (nobody holds their locks), for the reclaimers (and the denied
     * workers) to return. */
    uint64_t dead_bytes = 0;
    for (unsigned i = 0; i < DEAD_SLOTS; i++) {
        struct grey_slot *s = &lg.slots[i];
        s->pid = 1;
        s->start_time = 1;
        uint64_t b = (i % 3) << 18;
        atomic_store(&s->dev[0].used, b);
        atomic_fetch_add(&lg.header->device_used[0], b);
        atomic_store(&s->state, GREY_SLOT_ACTIVE);
        dead_bytes += b;
    }
    CHECK(dead_bytes <= BUDGET, "setup");

    struct worker w[WORKERS];
    pid_t owners[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        owners[i] = w[i].owner = sleeper(&w[i].owner_start);
        w[i].seed = 1234u + (unsigned)i;
    }

    pthread_barrier_init(&start, NULL, WORKERS + RECLAIMERS);
    pthread_t t[WORKERS + RECLAIMERS];
    unsigned reclaimed[RECLAIMERS] = {0};
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, &w[i]);
    for (int i = 0; i < RECLAIMERS; i++)
        pthread_create(&t[WORKERS + i], NULL, reclaimer, &reclaimed[i]);
    for (int i = 0; i < WORKERS + RECLAIMERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < WORKERS; i++) {
        kill(owners[i], SIGKILL);
        waitpid(owners[i], NULL, 0);
    }

    grey_ledger_reclaim(&lg); /* whatever the workers' reclaims and ours left */
    uint64_t admitted = 0;
    for (int i = 0; i < WORKERS; i++)
        admitted += w[i].admitted;
    CHECK(atomic_load(&lg.header->device_used[0]) == 0, "device_used %llu at the end, not 0",
          (unsigned long long)atomic_load(&lg.header->device_used[0]));
    CHECK(atomic_load(&max_used) <= BUDGET, "device_used reached %llu > budget",
          (unsigned long long)atomic_load(&max_used));
    uint64_t nonzero_dead = 0;
    for (unsigned i = 0; i < DEAD_SLOTS; i++)
        nonzero_dead += (i % 3) != 0;
    CHECK(atomic_load(&lg.header->reclaimed_slots) >= nonzero_dead,
          "only %llu dead slots reclaimed", (unsigned long long)atomic_load(&lg.header->reclaimed_slots));
    CHECK(atomic_load(&lg.header->reclaimed_bytes) == dead_bytes, "reclaimed %llu bytes, the dead held %llu",
          (unsigned long long)atomic_load(&lg.header->reclaimed_bytes), (unsigned long long)dead_bytes);
    CHECK(admitted > 100, "only %llu admissions", (unsigned long long)admitted);
    for (uint32_t i = 0; i < lg.nslots; i++) {
        uint32_t st = grey_slot_state(&lg.slots[i]);
        CHECK(st == GREY_SLOT_FREE || st == GREY_SLOT_EXITED, "slot %u left in state %u", i, st);
        CHECK(atomic_load(&lg.slots[i].dev[0].used) == 0, "slot %u still counts bytes", i);
    }
    printf("tsan_ledger: %llu admissions, %llu dead slots (%llu bytes) reclaimed, peak %llu MiB of %llu: %s\n",
           (unsigned long long)admitted, (unsigned long long)atomic_load(&lg.header->reclaimed_slots),
           (unsigned long long)dead_bytes, (unsigned long long)(atomic_load(&max_used) >> 20),
           (unsigned long long)(BUDGET >> 20), failures ? "FAILED" : "ok");
    grey_ledger_close(&lg);
    unlink(path);
    return failures ? 1 : 0;
}
