/* The SIGBUS guard of the mapped ledger (see ledger_guard.h). */
#include "ledger_guard.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where the counters of a replaced ledger restart (see on_sigbus). */
#define OFFSET (1ull << 62)

static char *_Atomic guard_base;
static _Atomic size_t guard_len;
static struct grey_slot *_Atomic guard_slot;
static _Atomic uint64_t guard_caps[GREY_MAX_DEVICES];
/* 0: the ledger is the shared file; 1: a thread is replacing it; 2: replaced. */
static _Atomic int guard_state;
static struct sigaction previous;
static bool installed;
static char message[600];
static _Atomic size_t message_len;

/* Puts the handler that was there before back and lets the signal have its usual effect: a
 * fault re-executes the access and is delivered again, now to that handler or the default. */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    /* Default or ignored: a real fault cannot be ignored (returning would fault forever), so the
     * default action, as without grey. A SIGBUS sent by kill() is raised again to get it. */
    signal(sig, SIG_DFL);
    if (si->si_code <= 0)
        raise(sig);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    char *base = atomic_load(&guard_base);
    size_t len = atomic_load(&guard_len);
    char *addr = si->si_addr;
    if (!base || si->si_code != BUS_ADRERR || addr < base || addr >= base + len) {
        pass_on(sig, si, uc);
        errno = saved;
        return;
    }
    /* 0 or 2 (a fork child mapped the truncated file again over the replacement): replace it
     * now. 1: another thread is at it, and the access is retried once it is done. */
    int expect = atomic_load(&guard_state);
    if (expect != 1 && atomic_compare_exchange_strong(&guard_state, &expect, 1)) {
        if (mmap(base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
            atomic_store(&guard_state, 0);
            pass_on(sig, si, uc);
            errno = saved;
            return;
        }
        /* The node budget is gone with the file; this process's caps are not. What it held is
         * lost too, so its counters restart at OFFSET rather than 0: frees of buffers allocated
         * before then subtract from OFFSET without wrapping below zero (which would deny every
         * later allocation), and the cap is moved up by the same amount. */
        struct grey_ledger_header *h = (struct grey_ledger_header *)base;
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            atomic_store(&h->device_budget[d], UINT64_MAX);
            atomic_store(&h->device_used[d], OFFSET);
        }
        struct grey_slot *slot = atomic_load(&guard_slot);
        if (slot) {
            for (int d = 0; d < GREY_MAX_DEVICES; d++) {
                uint64_t cap = atomic_load(&guard_caps[d]) - 1; /* UINT64_MAX when never set */
                atomic_store(&slot->dev[d].used, OFFSET);
                atomic_store(&slot->dev[d].cap, cap == UINT64_MAX || cap == 0 ? cap : cap + OFFSET);
            }
            atomic_store(&slot->state, GREY_SLOT_ACTIVE);
        }
        ssize_t ignored = write(STDERR_FILENO, message, atomic_load(&message_len));
        (void)ignored;
        atomic_store(&guard_state, 2);
    } else {
        while (atomic_load(&guard_state) == 1)
            ;
    }
    errno = saved;
}

void grey_ledger_guard_arm(void *base, size_t len, struct grey_slot *slot, const char *path)
{
    int n = snprintf(message, sizeof message,
                     "grey[%d]: ledger %s was truncated by someone else; this process now enforces its caps "
                     "privately (bytes it held before are no longer counted, and the node budget is off for it)\n",
                     (int)getpid(), path);
    atomic_store(&message_len, n < 0 ? 0 : (size_t)n >= sizeof message ? sizeof message - 1 : (size_t)n);
    atomic_store(&guard_slot, slot);
    atomic_store(&guard_len, len);
    atomic_store(&guard_base, (char *)base);
    if (installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGBUS, &sa, &previous) == 0;
}

uint64_t grey_ledger_guard_cap(int r, uint64_t cap)
{
    if (r >= 0 && r < GREY_MAX_DEVICES)
        atomic_store(&guard_caps[r], cap + 1); /* 0 stays "never set" */
    if (atomic_load(&guard_state) != 2 || cap == UINT64_MAX || cap == 0)
        return cap;
    return cap + OFFSET;
}

bool grey_ledger_guard_tripped(void)
{
    return atomic_load(&guard_state) == 2;
}
