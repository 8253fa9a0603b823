/* The machine-wide table of device memory per process (sim_usage.h).
 *
 * Who is alive is what the kernel says, not what a pid says: the owner of slot s holds a write
 * record lock (an open-file-description lock, F_OFD_SETLK) on byte SIM_STATE_LOCK_BASE + s of the
 * state file, through a description of its own, and the kernel drops the lock when the process
 * dies, whatever PID namespace it lives in (pids repeat across namespaces and prove nothing). The
 * lock is also the slot's mutex:
 *   claim:  lock byte s, then owner 0 -> word (the bytes of a free slot are already 0);
 *   exit:   bytes -> 0, owner -> 0, unlock;
 *   reap:   lock byte s (it fails while the owner lives), bytes -> 0, owner -> 0, unlock. A
 *           reaper that dies half-way drops the lock too, and the next one finishes the job.
 * The owner word names the process for NVML's lists (pid in the high 32 bits: the host's
 * number for it, as the real driver reports, when the process can know it, else its own,
 * docs/simgpu.md; a number of the claim in the low ones) and is never 0 while the slot is taken. A free slot's owner is 0 and all its
 * bytes are 0, so a sum skips owners entirely.
 *
 * The description that holds the locks is opened per process (a forked child shares its parent's
 * descriptions, and with them the parent's locks: it closes the inherited one at fork and opens
 * its own), and it is never the one the state is mapped from, since a mapping keeps its
 * description, and so the locks on it, alive in every child that inherits the mapping. */
#include "sim_usage.h"
#include "sim_state.h"
#include "sim_trace.h"

#include "policy/procinfo.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define LIST_PHYS_MAX (1 + SIM_MIG_INSTANCES)

static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t self_pid;      /* the process self_fd and self_slot belong to: a forked child */
static int self_fd = -1;    /* starts with neither and opens its own */
static int self_slot = -1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The child must not keep its parent's slot alive: the inherited description goes at once. */
static void forget_parent(void)
{
    if (self_fd >= 0)
        close(self_fd);
    self_fd = -1;
    self_slot = -1;
    self_pid = 0;
    pthread_mutex_init(&self_lock, NULL);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_parent);
}

/* Caller holds self_lock. This process's own description of the state file, or -1 (a private
 * state, or one that cannot be reopened: then this process shares no memory accounting). */
static int know_self(void)
{
    pid_t pid = getpid();
    if (self_pid == pid)
        return self_fd;
    pthread_once(&atfork_once, register_atfork);
    if (self_fd >= 0)
        close(self_fd);
    self_fd = -1;
    self_slot = -1;
    self_pid = pid;
    int mapped = sim_state_fd();
    if (mapped < 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", mapped);
    self_fd = open(path, O_RDWR | O_CLOEXEC);
    if (self_fd < 0)
        sim_trace("usage: cannot reopen the state file (%s): this process holds no memory", path);
    return self_fd;
}

static int slot_lock(int fd, int slot, short type, int cmd)
{
    struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = SIM_STATE_LOCK_BASE + slot, .l_len = 1};
    if (fcntl(fd, cmd, &l) != 0)
        return -1;
    return cmd == F_OFD_GETLK ? l.l_type : 0;
}

/* Whether some other description holds slot's lock: its owner alive, or another process
 * claiming or reaping it right now. Without a description of our own, everything is alive. */
static bool slot_held(int fd, int slot)
{
    return fd < 0 || slot_lock(fd, slot, F_WRLCK, F_OFD_GETLK) != F_UNLCK;
}

/* The pid, and in the low half a number of this claim (odd, so never 0): a slot claimed again by
 * the same pid (reused, or the same number in another namespace) is not taken for the old owner by
 * whoever kept its word (the scheduler's contexts, the holders of shared allocations). */
static uint64_t my_word(void)
{
    static _Atomic uint32_t claims;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint32_t nonce = (uint32_t)t.tv_nsec ^ (uint32_t)t.tv_sec * 2654435761u ^ atomic_fetch_add(&claims, 1) << 20;
    pid_t host = grey_proc_host_pid();
    return (uint64_t)(uint32_t)(host > 0 ? host : getpid()) << 32 | nonce | 1;
}

/* Raises *v to at least x. */
static void raise_to(_Atomic uint32_t *v, uint32_t x)
{
    uint32_t cur = atomic_load(v);
    while (cur < x && !atomic_compare_exchange_weak(v, &cur, x))
        ;
}

/* Lowers *v by up to n, never below 0: a double give-back must not wrap the count around. */
static void take_back(_Atomic uint64_t *v, uint64_t n)
{
    uint64_t cur = atomic_load(v);
    while (!atomic_compare_exchange_weak(v, &cur, cur - (cur < n ? cur : n)))
        ;
}

/* Caller holds self_lock and has a description fd. */
static int claim(struct sim_state *s, int fd)
{
    uint64_t w = my_word();
    for (int i = 0; i < SIM_STATE_SLOTS; i++) {
        if (atomic_load(&s->owner[i]) != 0 || slot_lock(fd, i, F_WRLCK, F_OFD_SETLK) != 0)
            continue;
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong(&s->owner[i], &expected, w)) {
            /* Before any byte is counted here, so every sum that must see them scans this far. */
            raise_to(&s->slots_used, (uint32_t)i + 1);
            return i;
        }
        slot_lock(fd, i, F_UNLCK, F_OFD_SETLK); /* a dead owner's: reaping is not claiming */
    }
    return -1;
}

static void empty_slot(struct sim_state *s, int i)
{
    for (int p = 0; p < SIM_PHYS_MAX; p++)
        atomic_store(&s->bytes[p][i], 0);
    atomic_store(&s->owner[i], 0);
}

/* Empties the slots of dead processes; returns how many. */
static int reap(struct sim_state *s)
{
    pthread_mutex_lock(&self_lock);
    int fd = know_self(), mine = self_slot;
    uint32_t n = atomic_load(&s->slots_used);
    int reaped = 0;
    for (uint32_t i = 0; fd >= 0 && i < n && i < SIM_STATE_SLOTS; i++) {
        if ((int)i == mine || atomic_load(&s->owner[i]) == 0 || slot_lock(fd, (int)i, F_WRLCK, F_OFD_SETLK) != 0)
            continue;
        if (atomic_load(&s->owner[i]) != 0) { /* still: its owner died, we hold its lock */
            empty_slot(s, (int)i);
            reaped++;
        }
        slot_lock(fd, (int)i, F_UNLCK, F_OFD_SETLK);
    }
    pthread_mutex_unlock(&self_lock);
    if (reaped)
        sim_trace("usage: emptied %d slot(s) of dead processes", reaped);
    return reaped;
}

/* This process's slot, claimed at its first charge; -1 when the table is full. */
static int my_slot(struct sim_state *s, bool may_claim)
{
    pthread_mutex_lock(&self_lock);
    int fd = know_self();
    if (self_slot < 0 && may_claim && fd >= 0) {
        self_slot = claim(s, fd);
        if (self_slot < 0) {
            pthread_mutex_unlock(&self_lock);
            reap(s);
            pthread_mutex_lock(&self_lock);
            if (self_slot < 0 && self_pid == getpid())
                self_slot = claim(s, fd);
        }
    }
    int slot = self_slot;
    pthread_mutex_unlock(&self_lock);
    return slot;
}

int sim_usage_lock_fd(void)
{
    pthread_mutex_lock(&self_lock);
    int fd = know_self();
    pthread_mutex_unlock(&self_lock);
    return fd;
}

/* What phys holds: every process's bytes and the exported allocations' (sim_shared.c). */
static uint64_t column_sum(struct sim_state *s, int phys)
{
    uint32_t n = atomic_load(&s->slots_used);
    uint64_t sum = sim_shared_sum(phys);
    for (uint32_t i = 0; i < n && i < SIM_STATE_SLOTS; i++) {
        uint64_t b = atomic_load(&s->bytes[phys][i]);
        sum = sum + b < sum ? UINT64_MAX : sum + b;
    }
    return sum;
}

bool sim_usage_charge(int phys, uint64_t total, uint64_t n)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX || n > total)
        return false;
    struct sim_state *s = sim_state();
    int slot = my_slot(s, true);
    if (slot < 0) {
        sim_trace("usage: all %d process slots are taken; allocation refused", SIM_STATE_SLOTS);
        return false;
    }
    atomic_fetch_add(&s->bytes[phys][slot], n);
    if (column_sum(s, phys) <= total)
        return true;
    /* Over: dead processes may still be counted. */
    reap(s);
    sim_shared_prune();
    if (column_sum(s, phys) <= total)
        return true;
    take_back(&s->bytes[phys][slot], n);
    return false;
}

void sim_usage_release(int phys, uint64_t n)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        return;
    struct sim_state *s = sim_state();
    int slot = my_slot(s, false);
    if (slot >= 0)
        take_back(&s->bytes[phys][slot], n);
}

uint64_t sim_usage_used(int phys)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        return 0;
    struct sim_state *s = sim_state();
    reap(s);
    sim_shared_prune();
    return column_sum(s, phys);
}

int sim_usage_self(uint64_t *word)
{
    struct sim_state *s = sim_state();
    int slot = my_slot(s, true);
    *word = slot >= 0 ? atomic_load(&s->owner[slot]) : 0;
    return slot;
}

bool sim_usage_alive(int slot, uint64_t word)
{
    if (slot < 0 || slot >= SIM_STATE_SLOTS)
        return true; /* not tracked: never taken for dead */
    struct sim_state *s = sim_state();
    if (atomic_load(&s->owner[slot]) != word)
        return false;
    pthread_mutex_lock(&self_lock);
    int fd = know_self(), mine = self_slot;
    pthread_mutex_unlock(&self_lock);
    return slot == mine || slot_held(fd, slot);
}

static void add_entry(struct sim_usage_entry *all, size_t *n, pid_t pid, int phys, uint64_t bytes)
{
    for (size_t i = 0; i < *n; i++) {
        if (all[i].pid == pid && all[i].phys == phys) {
            all[i].bytes += bytes;
            return;
        }
    }
    all[(*n)++] = (struct sim_usage_entry){.pid = pid, .phys = phys, .bytes = bytes};
}

size_t sim_usage_list(const int *phys, size_t nphys, struct sim_usage_entry *out, size_t max)
{
    /* Merging needs every entry, not just the first max: too large for a stack, so one buffer. */
    static struct sim_usage_entry all[SIM_USAGE_LIST_MAX];
    static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
    struct sim_state *s = sim_state();
    reap(s);
    pthread_mutex_lock(&self_lock);
    int fd = know_self(), mine = self_slot;
    pthread_mutex_unlock(&self_lock);
    pthread_mutex_lock(&all_lock);
    uint32_t slots = atomic_load(&s->slots_used);
    size_t n = 0;
    if (nphys > LIST_PHYS_MAX)
        nphys = LIST_PHYS_MAX;
    for (uint32_t i = 0; i < slots && i < SIM_STATE_SLOTS; i++) {
        uint64_t w = atomic_load(&s->owner[i]);
        if (w == 0 || ((int)i != mine && !slot_held(fd, (int)i)))
            continue;
        for (size_t k = 0; k < nphys; k++) {
            if (phys[k] < 0 || phys[k] >= SIM_PHYS_MAX)
                continue;
            uint64_t b = atomic_load(&s->bytes[phys[k]][i]);
            if (b)
                add_entry(all, &n, (pid_t)(w >> 32), phys[k], b);
        }
    }
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = all[i];
    pthread_mutex_unlock(&all_lock);
    return n;
}

/* The driver frees a process's memory when it exits; a normal exit does it here, at once. */
__attribute__((destructor)) static void usage_at_exit(void)
{
    pthread_mutex_lock(&self_lock);
    if (self_slot >= 0 && self_pid == getpid()) {
        empty_slot(sim_state(), self_slot);
        slot_lock(self_fd, self_slot, F_UNLCK, F_OFD_SETLK);
        self_slot = -1;
    }
    pthread_mutex_unlock(&self_lock);
}
