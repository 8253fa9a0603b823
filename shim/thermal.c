/* The thermal watcher (thermal.h): one thread per hooked process that launched on a GPU with a
 * threshold to watch. Each second it samples every such row, and:
 *   - moves the GPU's level (policy/thermal.h) on in the ledger word h->fair[row].thermal with a
 *     compare-and-swap, from whatever level the last sampler on the node left there, so every
 *     process on the GPU follows one level;
 *   - takes its part of the device share the level allows, by its weight among the processes
 *     active on the row (those that launched there within the last second), and sets it as its
 *     ceiling (grey_thermal_share, read by the slow path) and in its slot's max_share, where
 *     grey-top and grey-run see the ceiling in force;
 *   - in a dry run (thermal = dry-run) does none of that to the ceiling, and says what it would.
 * Level changes are said once each (grey_warn: a user must know why a job slowed down). */
#include "thermal.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "core/devices.h"
#include "core/log.h"
#include "core/self.h"
#include "core/settings.h"
#include "core/thermal_config.h"
#include "policy/node_owners.h"
#include "policy/pacer.h"
#include "policy/thermal.h"
#include "policy/weights.h"

#define PERIOD_NS 1000000000ull
#define ACTIVE_NS 1000000000ull /* a member that launched this recently shares the device's share */

_Atomic uint32_t grey_thermal_share[GREY_MAX_DEVICES];
static _Atomic int started;
/* What this process last said about each row, so it says each change once. */
static enum grey_thermal_level said[GREY_MAX_DEVICES];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The weights of the processes active on row, this one's included. */
static uint64_t active_weights(struct grey_ledger_header *h, int row, uint32_t self, uint64_t now)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1);
    uint64_t sum = 0;
    for (uint32_t w = 0; w < GREY_LEDGER_SLOTS / 64; w++) {
        uint64_t bits = atomic_load_explicit(&h->fair[row].members[w], memory_order_relaxed);
        while (bits) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            struct grey_slot_fair *sf = &slots[i].fair[row];
            uint64_t seen = atomic_load_explicit(&sf->seen_ns, memory_order_relaxed);
            if (i != self && (grey_slot_state(&slots[i]) != GREY_SLOT_ACTIVE || seen + ACTIVE_NS < now))
                continue;
            uint32_t weight = grey_node_slot_weight(grey_self_owners, h, &slots[i], row);
            sum += weight ? weight : 1;
        }
    }
    return sum;
}

static uint32_t lower_ceiling(uint32_t a, uint32_t b) { return !a ? b : !b ? a : a < b ? a : b; }

static void watch_row(const struct grey_quota *q, int row, const struct grey_thermal_config *cfg, uint64_t now)
{
    struct grey_ledger_header *h = q->budgets;
    unsigned temp;
    if (!grey_thermal_read_c(row, &temp))
        return;
    bool dry = cfg->mode == GREY_THERMAL_DRY_RUN;
    _Atomic uint64_t *word = &h->fair[row].thermal;
    uint64_t old = atomic_load(word), next;
    struct grey_thermal_word w;
    do {
        w = grey_thermal_unpack(old);
        w.level = grey_thermal_next(w.sampled ? w.level : GREY_THERMAL_COOL, temp, cfg->cooldown_c, cfg->throttle_c);
        w.dry_run = dry;
        w.temp_c = temp;
        w.device_share = grey_thermal_device_share(w.level);
        w.at_s = (uint32_t)(now / 1000000000ull);
        next = grey_thermal_pack(&w);
    } while (!atomic_compare_exchange_weak(word, &old, next));

    struct grey_slot *slot = q->slot;
    uint32_t self = (uint32_t)(slot - (struct grey_slot *)(h + 1));
    uint32_t weight = grey_node_slot_weight(grey_self_owners, h, slot, row);
    uint64_t sum = active_weights(h, row, self, now);
    uint32_t share = grey_thermal_process_share(w.device_share, weight, sum);
    uint32_t configured = grey_settings()->max_share;
    if (!dry) {
        atomic_store(&grey_thermal_share[row], share);
        atomic_store(&slot->fair[row].max_share, lower_ceiling(configured, share));
    }
    if (w.level == said[row])
        return;
    said[row] = w.level;
    char label[64], all[16], mine[16];
    grey_device_label(row, label, sizeof label);
    if (w.level == GREY_THERMAL_COOL)
        grey_warn("%s is back at %u C, below cooldown_temp %u - %u C: %s", label, temp, cfg->cooldown_c,
                  GREY_THERMAL_HYSTERESIS_C, dry ? "(dry run) nothing to undo" : "its full share is back");
    else
        grey_warn("%s%s is at %u C, %s (cooldown_temp %u, throttle_temp %u): %s its processes to %s of it together, "
                  "this one (weight %u of %llu) to %s",
                  dry ? "thermal dry run: " : "", label, temp, grey_thermal_level_name(w.level), cfg->cooldown_c,
                  cfg->throttle_c, dry ? "would hold" : "holding", grey_share_format(w.device_share, all, sizeof all),
                  weight ? weight : 1, (unsigned long long)sum, grey_share_format(share, mine, sizeof mine));
}

static void *watch(void *arg)
{
    (void)arg;
    for (;;) {
        const struct grey_quota *q = grey_self();
        uint64_t now = now_ns();
        grey_devmask used = q->budgets ? atomic_load(&q->slot->devices_used) : 0;
        for (int r = 0; r < GREY_MAX_DEVICES; r++) {
            struct grey_thermal_config cfg;
            if ((used & GREY_DEVBIT(r)) && grey_thermal_config_get(r, &cfg))
                watch_row(q, r, &cfg, now);
        }
        struct timespec ts = {.tv_sec = (time_t)(PERIOD_NS / 1000000000ull), .tv_nsec = (long)(PERIOD_NS % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

void grey_thermal_maybe_start(void)
{
    if (__builtin_expect(atomic_load_explicit(&started, memory_order_relaxed), 1) || !grey_thermal_config_any())
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&started, &expected, 1))
        return;
    /* The program's signals are the program's: the watcher blocks them all. */
    sigset_t all, prev;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &prev);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&t, &attr, watch, NULL) != 0)
        grey_log("thermal watcher: no thread; GPU temperatures are not watched in this process");
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
}

void grey_thermal_fork_child(void)
{
    atomic_store(&started, 0);
    for (int r = 0; r < GREY_MAX_DEVICES; r++) {
        atomic_store(&grey_thermal_share[r], 0);
        said[r] = GREY_THERMAL_COOL;
    }
}
