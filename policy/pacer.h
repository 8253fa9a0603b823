/* The fair-share pacer: which process may launch on a contended device, and how long the others
 * wait. Pure decisions over numbers the caller gathered from the ledger (shim/pace.c does the
 * gathering, the sleeping and the measuring), so every rule here is unit-tested without a GPU.
 *
 * The model. A device is shared in time. While several processes keep it busy, it is lent to one
 * process at a time, the holder, for a slice (quantum); the others wait at the launch gate. The
 * next holder is the waiting process with the least virtual time, its measured device time
 * divided by its weight, so over time busy processes get device time in proportion to their
 * weights (weighted fair queuing, as in stride scheduling). Lending the device whole keeps the
 * measurement honest too: only the holder's kernels run, so the events around its sampled
 * launches time its own kernels and nobody else's.
 *
 * Work-conserving: nobody waits unless another process is active on the device and the device
 * is actually busy (its measured utilization is high); a holder keeps the device past its slice
 * when nobody waits; a holder that stops launching loses it after holder_idle_ns. A process that
 * comes back after being idle starts from the least virtual time of those competing (it gets no
 * credit for its idle time, which would otherwise let it monopolize the device).
 *
 * Never starving: a waiter that has waited starve_ns is served next whatever its virtual time,
 * so no launch waits much longer than that. That also bounds how far apart weights can act:
 * beyond about starve_ns / quantum to one, the lighter process still gets a slice every
 * starve_ns.
 *
 * Optional hard ceiling (--max-share): a process never gets more than its share of the device
 * over time, even when the device would otherwise sit idle (a token bucket; see grey_ceiling_*). */
#ifndef GREY_PACER_H
#define GREY_PACER_H

#include <stdbool.h>
#include <stdint.h>

#define GREY_WEIGHT_MAX 10000u
#define GREY_WEIGHT_UNIT 100u       /* vtime grows by device ns * UNIT / weight */
#define GREY_SHARE_ONE 10000u       /* shares are in 1/10000 of the device */

struct grey_pacer_params {
    uint64_t quantum_ns;        /* slice of one holder while others wait */
    uint64_t active_ns;         /* a process seen (launching or waiting) within this is active */
    uint64_t holder_idle_ns;    /* a holder that has not launched for this long gives way */
    uint64_t half_life_ns;      /* of the processes' recent device time */
    uint32_t enter_permille;    /* utilization at which contention starts ... */
    uint32_t exit_permille;     /* ... and below which it ends (hysteresis) */
    uint64_t starve_ns;         /* a waiter waiting this long is served next */
    uint64_t min_sleep_ns, max_sleep_ns; /* bounds of one wait before deciding again */
};

/* The lead a process may build (device time queued and not yet run, shim/pace_flight.c) when no
 * plan or GREY_MAX_LEAD says otherwise: a newcomer to a device another process filled waits at
 * most this long for its first kernel. */
#define GREY_MAX_LEAD_DEFAULT_NS 50000000ull

/* The lead that applies: the smallest of the plans' max_lead and GREY_MAX_LEAD (env_given,
 * env_ns), 0 in any of them counting as no bound, which therefore applies only when all that are
 * given say 0; the default when none is given. A user's setting may lower an admin's, never lift
 * it. 0: no bound. */
struct grey_plan;
uint64_t grey_pacer_max_lead(const struct grey_plan *const *plans, unsigned nplans, bool env_given, uint64_t env_ns);

/* The defaults shim/pace.c uses (see the README's "Fair share" section for why these values). */
void grey_pacer_defaults(struct grey_pacer_params *p);

/* One process on the device, as the ledger shows it (only live processes are passed). */
struct grey_pacer_proc {
    uint32_t id;              /* slot index + 1; never 0 */
    uint32_t weight;          /* 0 counts as 1 */
    uint64_t vtime;
    uint64_t seen_ns;         /* for the deciding process: its activity before this launch */
    uint64_t waiting_since;   /* 0: not waiting */
    uint64_t recent_ns;       /* recent device time, already decayed to now */
};

/* The device's shared state: its token (holder + slice end) and whether it is contended. */
struct grey_pacer_device {
    uint32_t holder;          /* id of the holder, 0: nobody */
    uint64_t slice_end_ns;
    bool contended;
};

struct grey_pacer_decision {
    bool go;                  /* the launch may proceed now */
    bool contended;           /* new value of the device's contended flag */
    bool set_token;           /* replace the token with (holder, slice_end_ns) */
    uint32_t holder;
    uint64_t slice_end_ns;
    uint64_t wait_ns;         /* when !go: how long to wait before deciding again (a token change
                               * wakes the waiter earlier) */
    uint64_t self_vtime;      /* the caller's vtime to publish (raised when it rejoins) */
    unsigned active;          /* processes active on the device, the caller included */
};

/* Decides for the process procs[self], which wants to launch now. */
void grey_pacer_decide(const struct grey_pacer_params *p, const struct grey_pacer_proc *procs, unsigned n,
                       unsigned self, const struct grey_pacer_device *dev, uint64_t now,
                       struct grey_pacer_decision *out);

/* The device's utilization in permille, from the processes' recent device time (already decayed
 * to now; a device busy all the time converges to 1000). */
uint32_t grey_pacer_utilization(const struct grey_pacer_params *p, const struct grey_pacer_proc *procs, unsigned n);

/* vtime for device_ns of measured device time at weight. */
uint64_t grey_pacer_charge(uint64_t device_ns, uint32_t weight);

/* value * 2^(-dt / half_life), without libm (within 0.3%). */
uint64_t grey_decay(uint64_t value, uint64_t dt_ns, uint64_t half_life_ns);

/* Hard ceiling, a token bucket: a process may use share (1/10000) of the device's time. allowance
 * is the device time it may have used by now; grey_ceiling_refill grows it with the time passed
 * since *at_ns, but never more than burst_ns ahead of what was used (idle time is not banked
 * beyond a burst). grey_ceiling_wait says how long to wait until the usage is within it again. */
uint64_t grey_ceiling_refill(uint64_t allowance_ns, uint64_t at_ns, uint64_t now_ns, uint32_t share,
                             uint64_t used_ns, uint64_t burst_ns);
uint64_t grey_ceiling_wait(uint64_t allowance_ns, uint64_t used_ns, uint32_t share);

/* The token word of struct grey_fair_device (policy/ledger.h): holder and slice end in one
 * 64-bit value, so both change in one compare-and-swap. */
uint64_t grey_token_pack(uint32_t holder, uint64_t slice_end_ns);
void grey_token_unpack(uint64_t token, uint32_t *holder, uint64_t *slice_end_ns);

#endif
