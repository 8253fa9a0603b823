/* The machine-wide table of device memory per process (sim_usage.h).
 *
 * A slot's owner word names its process: pid in the high 32 bits, the low 31 bits of its start
 * time (clock ticks after boot, /proc/PID/stat) shifted left by one, and bit 0 set while some
 * process empties the slot. The start time tells a dead owner from a live process that was given
 * its pid later. A free slot's owner is 0 and all its bytes are 0; that invariant is what lets a
 * process claim a slot with one compare-and-swap and lets a sum skip owners entirely:
 *   claim:  owner 0 -> word (the bytes are already 0);
 *   exit:   bytes -> 0, then owner -> 0;
 *   reap:   owner dead word -> reaper's word | 1, bytes -> 0, then owner -> 0. A reaper that dies
 *           half-way leaves its own word, which the next reaper finds dead in turn. */
#include "sim_usage.h"
#include "sim_state.h"
#include "sim_trace.h"

#include "policy/procinfo.h"

#include <pthread.h>
#include <unistd.h>

#define RECLAIMING 1ULL
#define START_MASK 0x7fffffffULL
#define LIST_PHYS_MAX (1 + SIM_MIG_INSTANCES)

static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t self_pid;      /* the process self_word and self_slot belong to: a forked child */
static uint64_t self_word;  /* starts with neither and finds out who it is */
static int self_slot = -1;

static uint64_t word_of(pid_t pid, uint64_t start)
{
    return (uint64_t)(uint32_t)pid << 32 | (start & START_MASK) << 1;
}

/* Caller holds self_lock. */
static void know_self(void)
{
    pid_t pid = getpid();
    if (self_pid == pid)
        return;
    uint64_t start = 0;
    /* An unreadable /proc leaves 0, which others then cannot check either and so take as alive. */
    grey_proc_start_time(pid, &start);
    self_word = word_of(pid, start);
    self_pid = pid;
    self_slot = -1;
}

static uint64_t my_word(void)
{
    pthread_mutex_lock(&self_lock);
    know_self();
    uint64_t w = self_word;
    pthread_mutex_unlock(&self_lock);
    return w;
}

static bool owner_alive(uint64_t w)
{
    pid_t pid = (pid_t)(w >> 32);
    if (!grey_proc_exists(pid))
        return false;
    uint64_t start;
    if (grey_proc_start_time(pid, &start) != 0)
        return true;
    return ((start & START_MASK) << 1) == (w & (START_MASK << 1));
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

static int claim(struct sim_state *s, uint64_t w)
{
    for (int i = 0; i < SIM_STATE_SLOTS; i++) {
        uint64_t expected = 0;
        if (atomic_load(&s->owner[i]) == 0 && atomic_compare_exchange_strong(&s->owner[i], &expected, w)) {
            /* Before any byte is counted here, so every sum that must see them scans this far. */
            raise_to(&s->slots_used, (uint32_t)i + 1);
            return i;
        }
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
    uint64_t me = my_word();
    uint32_t n = atomic_load(&s->slots_used);
    int reaped = 0;
    for (uint32_t i = 0; i < n && i < SIM_STATE_SLOTS; i++) {
        uint64_t w = atomic_load(&s->owner[i]);
        if (w == 0 || (w & ~RECLAIMING) == me || owner_alive(w))
            continue;
        if (!atomic_compare_exchange_strong(&s->owner[i], &w, me | RECLAIMING))
            continue;
        empty_slot(s, (int)i);
        reaped++;
    }
    if (reaped)
        sim_trace("usage: emptied %d slot(s) of dead processes", reaped);
    return reaped;
}

/* This process's slot, claimed at its first charge; -1 when the table is full. */
static int my_slot(struct sim_state *s, bool may_claim)
{
    pthread_mutex_lock(&self_lock);
    know_self();
    if (self_slot < 0 && may_claim) {
        self_slot = claim(s, self_word);
        if (self_slot < 0) {
            pthread_mutex_unlock(&self_lock);
            reap(s);
            pthread_mutex_lock(&self_lock);
            if (self_slot < 0)
                self_slot = claim(s, self_word);
        }
    }
    int slot = self_slot;
    pthread_mutex_unlock(&self_lock);
    return slot;
}

static uint64_t column_sum(struct sim_state *s, int phys)
{
    uint32_t n = atomic_load(&s->slots_used);
    uint64_t sum = 0;
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
    return column_sum(s, phys);
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
    pthread_mutex_lock(&all_lock);
    uint64_t me = my_word();
    uint32_t slots = atomic_load(&s->slots_used);
    size_t n = 0;
    if (nphys > LIST_PHYS_MAX)
        nphys = LIST_PHYS_MAX;
    for (uint32_t i = 0; i < slots && i < SIM_STATE_SLOTS; i++) {
        uint64_t w = atomic_load(&s->owner[i]);
        if (w == 0 || (w & RECLAIMING) || (w != me && !owner_alive(w)))
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
        self_slot = -1;
    }
    pthread_mutex_unlock(&self_lock);
}
