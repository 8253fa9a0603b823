/* The ledger: one memory-mapped file that every hooked process on a node (or in one grey-run)
 * shares, and that the tools read.
 *
 * Layout: a header, then a fixed array of slots. A process claims one slot when the hook is
 * loaded and is the only writer of it afterwards; readers (grey-run's summary, grey-top) only
 * load. Counters are C11 atomics in shared memory, so a reader sees each value whole, never torn.
 *
 *   header  magic "GREYLDG\0", layout version, sizes (checked by every reader before any slot is
 *           touched), per-device budgets
 *   slot[i] state, owner (pid + start time, so a recycled pid is not mistaken for the owner),
 *           run id (which grey-run started it), command, and per-device counters: cap, bytes in
 *           use, peak, allocations, frees, denials, largest denial
 *
 * Lifecycle of a slot: FREE -> CLAIMING (one CAS winner fills the owner fields) -> ACTIVE ->
 * RETIRING -> EXITED -> FREE (released by grey-run after its summary), or recycled by a claimer
 * when no slot is FREE and nobody will collect it any more. A claimer holds the slot's retire
 * lock (below) from CLAIMING to ACTIVE, so a claimer killed half-way leaves a dead lock holder
 * and a reclaim puts the slot back to FREE.
 *
 * Retiring gives the slot's bytes back to the device budgets, exactly once. It happens when the
 * owner is gone: the hook's destructor (the owner itself), an exec (the new image retires the old
 * one's slot when it claims its own), or a reclaim scan that finds the owner dead (pid + start
 * time). Only the holder of the slot's retire lock (`retirer`, a pid) moves the slot out of
 * ACTIVE and its bytes out of `used`; a retirer killed half-way leaves its pid in the lock, and
 * the next reclaimer that finds that pid dead takes the lock over and finishes the job. Peak,
 * denials and the other counters stay for the summary and grey-top. Nobody but the lock holder
 * moves a slot out of ACTIVE, so what a reclaimer checks under the lock stays true until it acts.
 *
 * Every byte is counted twice, in the slot's `used` and in the header's `device_used`, and
 * every step that moves bytes changes the device total first on the way in and last on the way
 * out, so at every instant the sum of all slots' `used` is at most `device_used`, which is at
 * most the budget. A process killed between the two steps therefore leaves bytes in the device
 * total that no slot holds (too many counted, never too few: the budget still holds). Nothing
 * tells those apart from a live process's step in flight, so a reclaim returns them when the
 * ledger is idle (no live or half-claimed slot and no slot holding bytes), with a CAS from the
 * value it read before checking, and counts them in orphaned_bytes. */
#ifndef GREY_LEDGER_H
#define GREY_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

#define GREY_LEDGER_MAGIC "GREYLDG"  /* 8 bytes with the NUL */
#define GREY_LEDGER_VERSION 3  /* 2: slots are retired (bytes returned at exit); a version-1
                                 * process would never give its bytes back, so none may join.
                                 * 3: fair-share state per device (header) and per process and
                                 * device (slot), appended at the end of each */
#define GREY_LEDGER_SLOTS 256
#define GREY_COMMAND_MAX 64

enum grey_slot_state {
    GREY_SLOT_FREE = 0,
    GREY_SLOT_CLAIMING = 1,
    GREY_SLOT_ACTIVE = 2,
    GREY_SLOT_EXITED = 3,
    GREY_SLOT_RETIRING = 4,
};

/* Slot flags (bits of grey_slot.flags). */
#define GREY_SLOT_USED_GPU 1u   /* the process reached the driver through the hook at least once */

/* One device's counters in one process's slot: exactly one cache line, so two devices' hot
 * counters never share a line. cap is UINT64_MAX when no cap applies. */
struct grey_slot_device {
    _Atomic uint64_t cap;
    _Atomic uint64_t used;
    _Atomic uint64_t peak;
    _Atomic uint64_t allocs;
    _Atomic uint64_t frees;
    _Atomic uint64_t denied;
    _Atomic uint64_t largest_denied;
    uint64_t reserved;
};

/* One process's fair-share state on one device, one cache line, written only by its owner (see
 * policy/pacer.h for what the pacer does with it). Times are CLOCK_MONOTONIC nanoseconds;
 * "device time" is measured (events around sampled launches), never guessed from launch counts. */
struct grey_slot_fair {
    _Atomic uint64_t seen_ns;       /* last launch, or last check while waiting, on the device */
    _Atomic uint64_t vtime;         /* measured device ns * GREY_WEIGHT_UNIT / weight: who is next */
    _Atomic uint64_t busy_ns;       /* all device time measured for this process on the device */
    _Atomic uint64_t recent_ns;     /* device time decaying by half every GREY_PACE_HALF_LIFE_NS, */
    _Atomic uint64_t recent_at_ns;  /*  as of this time (readers decay it to their own now) */
    _Atomic uint64_t waiting_since; /* 0, or since when a launch waits at the gate for the device */
    _Atomic uint64_t throttled_ns;  /* all time launches spent waiting at the gate */
    _Atomic uint32_t weight;        /* 1..GREY_WEIGHT_MAX (0: not configured, counts as 1) */
    _Atomic uint32_t max_share;     /* hard ceiling in 1/10000 of the device, 0: none */
};

struct grey_slot {
    _Atomic uint32_t state;       /* enum grey_slot_state */
    _Atomic uint32_t flags;
    int32_t pid;
    uint32_t uid;
    uint64_t start_time;          /* /proc/PID/stat starttime, clock ticks since boot */
    uint64_t run_id;              /* GREY_RUN_ID of the grey-run that started it, 0 if none */
    char command[GREY_COMMAND_MAX];
    _Atomic uint64_t launches;
    _Atomic uint64_t heartbeat_ns;
    _Atomic uint32_t devices_used; /* bit N: device N saw an allocation */
    _Atomic int32_t retirer;      /* retire lock: pid of the process retiring the slot, 0 if none */
    uint64_t reserved[9];         /* pads the owner part to three cache lines */
    struct grey_slot_device dev[GREY_MAX_DEVICES];
    struct grey_slot_fair fair[GREY_MAX_DEVICES]; /* fair share of launches (shim/pace.c) */
};

/* Who holds one device while processes contend for it (the pacer, shim/pace.c), one cache line.
 * The launch fast path reads only `contended` and this process's `members` bit. */
struct grey_fair_device {
    _Atomic uint64_t members[GREY_LEDGER_SLOTS / 64]; /* bit i: slot i launched on the device */
    _Atomic uint64_t token;     /* holder slot + 1 in the low GREY_TOKEN_HOLDER_BITS bits, the end
                                 * of its slice (ns >> GREY_TOKEN_HOLDER_BITS) above; 0: nobody */
    _Atomic uint32_t contended; /* 1 while several processes keep the device busy */
    _Atomic uint32_t seq;       /* bumped at every token change: the futex waiters sleep on */
    _Atomic uint64_t handoffs;  /* token changes, for the tools */
    uint64_t reserved;
};
#define GREY_TOKEN_HOLDER_BITS 12

struct grey_ledger_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_size;
    uint32_t nslots;
    uint32_t max_devices;
    _Atomic uint32_t budget_admin; /* bit N: device N's budget was set by an admin plan */
    uint64_t total_size;
    _Atomic uint64_t device_budget[GREY_MAX_DEVICES]; /* UINT64_MAX: no budget set */
    _Atomic uint64_t device_used[GREY_MAX_DEVICES];
    _Atomic uint64_t last_reclaim_ns;  /* CLOCK_MONOTONIC of the last denial-driven reclaim scan */
    _Atomic uint64_t reclaimed_slots;  /* slots of dead processes retired by a reclaim scan */
    _Atomic uint64_t reclaimed_bytes;  /* the bytes those slots gave back */
    _Atomic uint64_t orphaned_bytes;   /* bytes in device_used no slot held, returned when idle */
    uint64_t reserved[4];
    uint64_t fair_pad[3];              /* puts fair[] (and the slots after it) on cache lines */
    struct grey_fair_device fair[GREY_MAX_DEVICES];
};

struct grey_ledger {
    struct grey_ledger_header *header;
    struct grey_slot *slots;
    uint32_t nslots;
    size_t map_size;
    bool writable;   /* mapped read-write (a reader without write access maps it read-only) */
};

/* The size of a ledger file of this layout version. */
#define GREY_LEDGER_TOTAL_SIZE (sizeof(struct grey_ledger_header) + GREY_LEDGER_SLOTS * sizeof(struct grey_slot))

/* Opens (and with create, creates with mode 0600 and initializes) the ledger at path and maps
 * it. Validates magic, version and every size against the file's real size before returning, so
 * callers may index slots[0..nslots) freely. Returns 0, or -1 with a one-line reason in err
 * ("ledger /dev/shm/x: layout version 7, this grey reads 1", "... truncated: 4096 bytes, expected
 * 331776"). */
int grey_ledger_open(const char *path, bool create, struct grey_ledger *lg, char *err, size_t errlen);

/* grey_ledger_open for a ledger shared by a group (an admin plan's ledger_group): a file this
 * call creates gets mode 0660 and group gid (the creator must be root or a member). gid -1 is
 * grey_ledger_open. An existing file keeps its owner and mode. */
int grey_ledger_open_group(const char *path, bool create, gid_t gid, struct grey_ledger *lg, char *err,
                           size_t errlen);
void grey_ledger_close(struct grey_ledger *lg);

/* Checks a mapped region of size bytes as a ledger, without trusting anything in it. The same
 * check grey_ledger_open applies; exposed for readers that map by other means and for fuzzing. */
int grey_ledger_validate(const void *base, size_t size, char *err, size_t errlen);

/* Which ledger a process uses (admin plan, GREY_LEDGER, user plan, per-user default) is
 * policy/ledger_path.h's rule. */

/* The state (enum grey_slot_state) of a slot. */
static inline uint32_t grey_slot_state(const struct grey_slot *slot)
{
    return atomic_load_explicit(&((struct grey_slot *)slot)->state, memory_order_acquire);
}

/* Claims a free slot for (pid, start_time). An ACTIVE slot of the same pid and start time belongs
 * to this process's image before an exec; it is retired first (its bytes go back). When no slot
 * is free, the slots of dead owners are reclaimed and EXITED slots whose run owner is dead are
 * recycled. Returns NULL when every slot is held by a live process. Counters start at zero, caps
 * at UINT64_MAX. */
struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time,
                                    uint64_t run_id, uint32_t uid, const char *command);

/* The owner retires its own slot (the hook's destructor): ACTIVE -> RETIRING -> EXITED, its bytes
 * back to the device budgets, peak and denials kept. Returns true when this call retired it;
 * false when it was not ACTIVE (already retired) or the retire lock stayed busy (then a later
 * reclaim, once this process is gone, does it). h may be NULL (a private slot). */
bool grey_slot_retire(struct grey_ledger_header *h, struct grey_slot *slot);

/* Retires every slot whose owner is dead (ACTIVE, or RETIRING with a dead retirer, or EXITED
 * with bytes still counted), each exactly once however many processes scan at the same time;
 * then, if the ledger is idle, returns orphaned bytes (see above). Makes syscalls (kill(pid, 0),
 * /proc reads): for failure paths and tools, never for hot paths. Returns the number of slots
 * this call retired. */
unsigned grey_ledger_reclaim(struct grey_ledger *lg);

/* grey_ledger_reclaim, rate-limited across every process of the ledger: scans only when no scan
 * started in the last interval_ns (now_ns: CLOCK_MONOTONIC), so a storm of denied allocations
 * costs one scan per interval, not one per denial. Returns the slots retired (0 when skipped). */
unsigned grey_ledger_reclaim_limited(struct grey_ledger *lg, uint64_t now_ns, uint64_t interval_ns);

/* Collects a slot after a summary: a dead owner's ACTIVE slot is retired first, then an EXITED
 * slot returns to FREE. A live owner's slot is left alone. */
void grey_slot_collect(struct grey_ledger *lg, struct grey_slot *slot);

/* Returns an EXITED slot to FREE (called by whoever collected it); other states are left alone. */
void grey_slot_release(struct grey_slot *slot);

/* True when the slot's owner process no longer exists (pid gone, a zombie, or pid reused by a
 * process with another start time). */
bool grey_slot_owner_dead(const struct grey_slot *slot);

/* Number of ACTIVE slots other than except whose owner is alive (syscalls, like reclaim). */
unsigned grey_ledger_live_slots(struct grey_ledger *lg, const struct grey_slot *except);

/* Run ids tie slots to the grey-run that started them: (pid << 32 | low 32 bits of the start
 * time) of grey-run itself, so a dead grey-run is recognisable. */
uint64_t grey_run_id_make(pid_t pid, uint64_t start_time);
bool grey_run_id_owner_dead(uint64_t run_id);

#endif
