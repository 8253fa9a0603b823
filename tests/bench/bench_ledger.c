/* What admission costs when many processes share one ledger: NPROCS processes, each with its own
 * slot in one mapped ledger, run quota_reserve + quota_commit + quota_free (the accounting of one
 * cuMemAlloc / cuMemFree pair, without the driver) as fast as they can against one device
 * budget. Every admission is a compare-and-swap on the device total, a cache line all of them
 * share, so this is the contention figure.
 *
 *   bench_ledger LEDGER NPROCS OPS_PER_PROCESS
 *
 * Prints one line: processes, CPU ns per admission (all CPU time the processes spent / all
 * admissions: what an allocation costs, however the machine's cores are shared), and the
 * admissions per second of all processes together (all admissions / the time from the first
 * start to the last end). Median of 5 rounds: with more processes than cores, how often two
 * of them run at the same instant (and so contend for the shared line) varies from round to
 * round, and the best round would flatter. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"
#include "policy/quota.h"

#define ROUNDS 5

struct result {
    double start_ns, end_ns, cpu_ns; /* CLOCK_MONOTONIC is one clock for all processes */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void child(const char *path, long ops, int start_fd, int result_fd)
{
    struct grey_ledger lg;
    char err[512];
    if (grey_ledger_open(path, false, &lg, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ledger: %s\n", err);
        _exit(1);
    }
    uint64_t st = 0;
    grey_proc_start_time(getpid(), &st);
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), st, 0, 0, (uint32_t)getuid(), "bench_ledger");
    if (!s)
        _exit(1);
    struct grey_quota q = {.slot = s, .budgets = lg.header};
    for (int round = 0; round < ROUNDS; round++) {
        char c;
        if (read(start_fd, &c, 1) != 1) /* one byte per round from the parent: all start together */
            _exit(1);
        double w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        for (long i = 0; i < ops; i++) {
            if (quota_reserve(&q, 0, 1 << 20) != GREY_ADMITTED)
                _exit(2);
            quota_commit(&q, 0);
            quota_free(&q, 0, 1 << 20);
        }
        struct result r = {w0, clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0};
        if (write(result_fd, &r, sizeof r) != (ssize_t)sizeof r)
            _exit(1);
    }
    grey_slot_retire(&lg, s);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ledger LEDGER NPROCS OPS_PER_PROCESS\n");
        return 2;
    }
    const char *path = argv[1];
    int nprocs = atoi(argv[2]);
    long ops = atol(argv[3]);
    struct grey_ledger lg;
    char err[512];
    if (nprocs < 1 || nprocs > 200 || ops < 1 || grey_ledger_open(path, true, &lg, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ledger: bad arguments or %s\n", err);
        return 2;
    }
    atomic_store(&lg.header->device_budget[0], 1ull << 40); /* a budget, so the shared CAS happens */

    int start[2], results[2];
    if (pipe(start) != 0 || pipe(results) != 0)
        return 1;
    for (int i = 0; i < nprocs; i++) {
        if (fork() == 0) {
            close(start[1]);
            child(path, ops, start[0], results[1]);
        }
    }
    close(start[0]);
    close(results[1]);
    double cpu_per[ROUNDS], rate[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        usleep(100000); /* everyone has claimed its slot and waits on the pipe */
        for (int i = 0; i < nprocs; i++)
            if (write(start[1], "g", 1) != 1)
                return 1;
        double cpu = 0, first = 0, last = 0;
        for (int i = 0; i < nprocs; i++) {
            struct result r;
            if (read(results[0], &r, sizeof r) != (ssize_t)sizeof r) {
                fprintf(stderr, "bench_ledger: a process failed\n");
                return 1;
            }
            cpu += r.cpu_ns;
            if (i == 0 || r.start_ns < first)
                first = r.start_ns;
            if (r.end_ns > last)
                last = r.end_ns;
        }
        double total = (double)ops * nprocs;
        cpu_per[round] = cpu / total;
        rate[round] = total / ((last - first) / 1e9);
    }
    qsort(cpu_per, ROUNDS, sizeof cpu_per[0], cmp_double);
    qsort(rate, ROUNDS, sizeof rate[0], cmp_double);
    close(start[1]);
    int failed = 0;
    for (int i = 0; i < nprocs; i++) {
        int st;
        wait(&st);
        failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    if (atomic_load(&lg.header->device_used[0]) != 0) {
        fprintf(stderr, "bench_ledger: %llu bytes still counted at the end\n",
                (unsigned long long)atomic_load(&lg.header->device_used[0]));
        failed = 1;
    }
    printf("%d %.1f %.1f\n", nprocs, cpu_per[ROUNDS / 2], rate[ROUNDS / 2] / 1e6);
    grey_ledger_close(&lg);
    return failed;
}
