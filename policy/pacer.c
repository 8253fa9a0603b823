/* The fair-share pacer's decisions (see pacer.h for the model). */
#include "pacer.h"
#include "plan.h"

#include "ledger.h"

void grey_pacer_defaults(struct grey_pacer_params *p)
{
    *p = (struct grey_pacer_params){
        /* Long enough that a handoff (one futex wake, the old holder's queue draining) is a
         * small part of a slice, short enough that four weights 1:1:2:4 keep every wait far
         * below 100 ms (the lightest waits about seven slices). */
        .quantum_ns = 4000000,
        /* Longer than any pause between launches of a process that is still busy, so a process
         * keeping a queue of kernels is never mistaken for idle between two refreshes. */
        .active_ns = 50000000,
        /* A holder blocked in a synchronize for this long lets the waiters have the device. */
        .holder_idle_ns = 2000000,
        /* Short enough that two processes starting together contend within about 170 ms. */
        .half_life_ns = 100000000,
        .enter_permille = 700,
        .exit_permille = 400,
        .starve_ns = 60000000,
        .min_sleep_ns = 50000,
        .max_sleep_ns = 2000000,
    };
}

/* 2^(-i/16) in 1/65536, i = 0..16. */
static const uint32_t exp2_neg[17] = {65536, 62757, 60097, 57549, 55109, 52773, 50535, 48393, 46341,
                                      44376, 42495, 40693, 38968, 37316, 35734, 34219, 32768};

/* value * f / 65536 without overflowing 64 bits (f <= 65536). */
static uint64_t scale16(uint64_t value, uint64_t f)
{
    return (value >> 16) * f + (((value & 0xffff) * f) >> 16);
}

uint64_t grey_decay(uint64_t value, uint64_t dt_ns, uint64_t half_life_ns)
{
    if (half_life_ns == 0)
        return 0;
    uint64_t halvings = dt_ns / half_life_ns;
    if (halvings >= 64)
        return 0;
    value >>= halvings;
    /* The fraction of a half-life left, in 1/65536, interpolated between sixteenths. */
    uint64_t rest = dt_ns % half_life_ns;
    uint64_t frac = (uint64_t)(((unsigned __int128)rest << 16) / half_life_ns); /* 0..65535 */
    uint64_t i = frac >> 12, t = frac & 0xfff;
    uint64_t f = exp2_neg[i] - (((uint64_t)(exp2_neg[i] - exp2_neg[i + 1]) * t) >> 12);
    return scale16(value, f);
}

uint64_t grey_pacer_charge(uint64_t device_ns, uint32_t weight)
{
    if (weight == 0)
        weight = 1;
    return (uint64_t)(((unsigned __int128)device_ns * GREY_WEIGHT_UNIT) / weight);
}

/* vtimes only grow, but may wrap after centuries of device time: compare by difference. */
static bool vtime_before(uint64_t a, uint64_t b) { return (int64_t)(a - b) < 0; }

static bool is_active(const struct grey_pacer_params *p, const struct grey_pacer_proc *e, uint64_t now)
{
    /* A clock read just before another process's store may see seen_ns slightly ahead. */
    return e->waiting_since != 0 || e->seen_ns >= now || now - e->seen_ns <= p->active_ns;
}

static uint64_t clamp_sleep(const struct grey_pacer_params *p, uint64_t ns)
{
    if (ns < p->min_sleep_ns)
        return p->min_sleep_ns;
    return ns > p->max_sleep_ns ? p->max_sleep_ns : ns;
}

/* Which candidate is served next: one that has waited starve_ns (the longest-waiting), else the
 * least virtual time; ties go to the longer wait, then the lower id, so every process that
 * looks at the same ledger picks the same one. Candidates: self, the active waiters, and a
 * holder whose slice ran out while it is still launching (it wants the device as much). */
static unsigned pick(const struct grey_pacer_params *p, const struct grey_pacer_proc *procs, unsigned n,
                     unsigned self, uint64_t self_vtime, const struct grey_pacer_proc *live_holder, uint64_t now)
{
    unsigned best = self;
    bool best_starved = false;
    for (unsigned i = 0; i < n; i++) {
        const struct grey_pacer_proc *c = &procs[i];
        if (i != self && c != live_holder && (c->waiting_since == 0 || !is_active(p, c, now)))
            continue;
        uint64_t since = c->waiting_since ? c->waiting_since : now;
        bool starved = now > since && now - since >= p->starve_ns;
        uint64_t vt = i == self ? self_vtime : c->vtime;
        const struct grey_pacer_proc *b = &procs[best];
        uint64_t bsince = b->waiting_since ? b->waiting_since : now;
        uint64_t bvt = best == self ? self_vtime : b->vtime;
        bool better;
        if (starved != best_starved)
            better = starved;
        else if (!starved && vt != bvt)
            better = vtime_before(vt, bvt);
        else
            better = since < bsince || (since == bsince && c->id < b->id);
        if (i != best && better) {
            best = i;
            best_starved = starved;
        } else if (i == best) {
            best_starved = starved;
        }
    }
    return best;
}

uint32_t grey_pacer_utilization(const struct grey_pacer_params *p, const struct grey_pacer_proc *procs, unsigned n)
{
    if (p->half_life_ns == 0)
        return 0;
    /* A device busy all the time accumulates half_life / ln 2 of decaying device time. */
    unsigned __int128 sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += procs[i].recent_ns;
    unsigned __int128 permille = sum * 693147 / ((unsigned __int128)p->half_life_ns * 1000);
    return permille > UINT32_MAX ? UINT32_MAX : (uint32_t)permille;
}

void grey_pacer_decide(const struct grey_pacer_params *p, const struct grey_pacer_proc *procs, unsigned n,
                       unsigned self, const struct grey_pacer_device *dev, uint64_t now,
                       struct grey_pacer_decision *out)
{
    const struct grey_pacer_proc *me = &procs[self];
    *out = (struct grey_pacer_decision){.go = true, .contended = false, .self_vtime = me->vtime};

    /* Contended: someone else is active and the active processes keep the device busy. Find the
     * holder on the way, and the least virtual time of the others (a rejoining process starts
     * there, including when it joins a process that ran alone until now). */
    unsigned active = 1;
    unsigned __int128 recent = me->recent_ns;
    const struct grey_pacer_proc *holder = dev->holder == me->id ? me : NULL;
    bool others_waiting = false, have_floor = false;
    uint64_t floor = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct grey_pacer_proc *e = &procs[i];
        if (i == self || !is_active(p, e, now))
            continue;
        active++;
        recent += e->recent_ns;
        if (dev->holder && e->id == dev->holder)
            holder = e;
        others_waiting |= e->waiting_since != 0;
        if (!have_floor || vtime_before(e->vtime, floor))
            floor = e->vtime, have_floor = true;
    }
    out->active = active;
    uint64_t util = p->half_life_ns ? (uint64_t)(recent * 693147 / ((unsigned __int128)p->half_life_ns * 1000)) : 0;
    bool contended = active >= 2 && (util >= p->enter_permille || (dev->contended && util >= p->exit_permille));
    if (!contended) {
        if (dev->holder != 0) /* nobody needs a turn any more */
            out->set_token = true, out->holder = 0, out->slice_end_ns = 0;
        return;
    }
    out->contended = true;

    /* Rejoining after idling: no credit for the idle time. Only then: a process that was just
     * running has charges still on their way (its last kernels are being measured), and raising
     * it to the floor now would charge it twice. */
    bool is_holder = holder == me;
    bool rejoining = me->seen_ns == 0 || (now > me->seen_ns && now - me->seen_ns > p->active_ns);
    if (!is_holder && me->waiting_since == 0 && rejoining && have_floor && vtime_before(me->vtime, floor))
        out->self_vtime = floor;

    if (is_holder) {
        if (now < dev->slice_end_ns)
            return;
        if (!others_waiting) { /* nobody else wants it: keep it */
            out->set_token = true, out->holder = me->id, out->slice_end_ns = now + p->quantum_ns;
            return;
        }
    }
    bool holder_live = holder && (holder->seen_ns >= now || now - holder->seen_ns <= p->holder_idle_ns);
    if (!is_holder && holder_live && now < dev->slice_end_ns) {
        out->go = false;
        out->wait_ns = clamp_sleep(p, dev->slice_end_ns - now);
        return;
    }

    /* The token is free, expired, or its holder went idle: serve the next one. */
    unsigned next = pick(p, procs, n, self, out->self_vtime, holder_live ? holder : NULL, now);
    out->set_token = true;
    out->holder = procs[next].id;
    out->slice_end_ns = now + p->quantum_ns;
    out->go = next == self;
    if (!out->go)
        out->wait_ns = clamp_sleep(p, p->quantum_ns);
}

uint64_t grey_ceiling_refill(uint64_t allowance_ns, uint64_t at_ns, uint64_t now_ns, uint32_t share,
                             uint64_t used_ns, uint64_t burst_ns)
{
    if (now_ns > at_ns)
        allowance_ns += (uint64_t)(((unsigned __int128)(now_ns - at_ns) * share) / GREY_SHARE_ONE);
    if (allowance_ns > used_ns && allowance_ns - used_ns > burst_ns)
        allowance_ns = used_ns + burst_ns;
    return allowance_ns;
}

uint64_t grey_ceiling_wait(uint64_t allowance_ns, uint64_t used_ns, uint32_t share)
{
    if (used_ns <= allowance_ns || share == 0)
        return 0;
    return (uint64_t)(((unsigned __int128)(used_ns - allowance_ns) * GREY_SHARE_ONE) / share);
}

uint64_t grey_token_pack(uint32_t holder, uint64_t slice_end_ns)
{
    if (holder == 0)
        return 0;
    uint64_t mask = (1ull << GREY_TOKEN_HOLDER_BITS) - 1;
    return (slice_end_ns & ~mask) | (holder & mask);
}

void grey_token_unpack(uint64_t token, uint32_t *holder, uint64_t *slice_end_ns)
{
    uint64_t mask = (1ull << GREY_TOKEN_HOLDER_BITS) - 1;
    *holder = (uint32_t)(token & mask);
    *slice_end_ns = *holder ? token & ~mask : 0;
}

uint64_t grey_pacer_max_lead(const struct grey_plan *const *plans, unsigned nplans, bool env_given, uint64_t env_ns)
{
    bool any = env_given;
    uint64_t lead = env_given && env_ns ? env_ns : UINT64_MAX;
    for (unsigned i = 0; i < nplans; i++) {
        if (!plans[i] || !plans[i]->has_max_lead)
            continue;
        any = true;
        if (plans[i]->max_lead_ns && plans[i]->max_lead_ns < lead)
            lead = plans[i]->max_lead_ns;
    }
    if (!any)
        return GREY_MAX_LEAD_DEFAULT_NS;
    return lead == UINT64_MAX ? 0 : lead;
}
