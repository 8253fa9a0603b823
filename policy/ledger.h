/* The ledger: one memory-mapped file that every hooked process on a node (or in one grey-run)
 * shares, and that the tools read.
 *
 * Layout: a header, then a fixed array of slots. A process claims one slot when the hook is
 * loaded and is the only writer of it afterwards; readers (grey-run's summary, grey-top) only
 * load. Counters are C11 atomics in shared memory, so a reader sees each value whole, never torn.
 *
 *   header  magic "GREYLDG\0", layout version, sizes (checked by every reader before any slot is
 *           touched), the GPU table (one row per physical GPU or MIG instance, named by UUID:
 *           policy/ledger_gpu.h), per-row budgets and totals, per-row fair-share state, the runs
 *   slot[i] state, owner (pid, its PID namespace and start time, for people: liveness does not
 *           depend on them), run id, command, and per-row counters: cap, bytes in use, peak,
 *           allocations, frees, denials, largest denial
 *
 * Every per-device array, in the header and in the slots, is indexed by GPU row, never by the
 * number a process sees a device under: device 0 of one process is device 3 of another.
 *
 * Liveness. A process holds an open-file-description lock (fcntl F_OFD_SETLK) on the first byte
 * of its slot for as long as it lives; the kernel releases it when the process dies, whatever PID
 * namespace it runs in (containers share the file, not the pids). A slot is dead exactly when its
 * byte is unlocked, and whoever takes the lock of a dead slot holds it exclusively: that lock is
 * how claimers, reclaimers and grey-run's collection exclude each other between processes (a
 * process-local mutex does the same between threads of one process, which share a description).
 * A mapping keeps its file's description alive as an open descriptor does, so a fork child (which
 * inherits both) reopens the file and maps the new description over the old mapping before it
 * claims its slot; exec and death drop both.
 *
 * Lifecycle of a slot: FREE -> CLAIMING (the claimer holds the lock) -> ACTIVE -> RETIRING ->
 * EXITED -> FREE (released by grey-run after its summary), or recycled by a claimer when no slot
 * is FREE and the run that would collect it is gone.
 *
 * Retiring gives the slot's bytes back to the device budgets, exactly once. It happens when the
 * owner is gone: the hook's destructor (the owner itself, which holds the lock), an exec (the
 * new image, once the old image's description closed with the exec, takes the lock of its old
 * slot), or a reclaimer that finds the lock free. A reclaimer killed half-way loses the lock to
 * the kernel, and the next one finishes the job. Peak, denials and the other counters stay for
 * the summary and grey-top.
 *
 * Every byte is counted twice, in the slot's `used` and in the header's `device_used`, and
 * every step that moves bytes changes the device total first on the way in and last on the way
 * out, so at every instant the sum of all slots' `used` is at most `device_used`, which is at
 * most the budget. A process killed between the two steps therefore leaves bytes in the device
 * total that no slot holds (too many counted, never too few: the budget still holds). Nothing
 * tells those apart from a live process's step in flight, so a reclaim returns them when the
 * ledger is idle (no live or half-claimed slot and no slot holding bytes), with a CAS from the
 * value it read before checking, and counts them in orphaned_bytes.
 *
 * Runs. grey-run holds a lock on one byte past the end of the file (one per concurrent run) and
 * writes a fresh nonce beside it; a run id names that byte and nonce, so a run is alive exactly
 * while its byte is locked and the nonce is still its own, whatever namespace grey-run is in. */
#ifndef GREY_LEDGER_H
#define GREY_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ledger_gpu.h"
#include "limits.h"

#define GREY_LEDGER_MAGIC "GREYLDG"  /* 8 bytes with the NUL */
#define GREY_LEDGER_VERSION 4  /* 2: slots are retired (bytes returned at exit); a version-1
                                 * process would never give its bytes back, so none may join.
                                 * 3: fair-share state per device (header) and per process and
                                 * device (slot), appended at the end of each.
                                 * 4: devices are GPU rows named by UUID; liveness by file locks;
                                 * 64 devices; runs in the header */
#define GREY_LEDGER_SLOTS 256
/* The pacer's member sets are words of 64 slots, indexed with a mask (shim/launch_gate.h). */
_Static_assert(GREY_LEDGER_SLOTS >= 64 && (GREY_LEDGER_SLOTS & (GREY_LEDGER_SLOTS - 1)) == 0,
               "GREY_LEDGER_SLOTS must be a power of two, at least 64");
#define GREY_LEDGER_RUNS 256
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
    _Atomic uint64_t queued_until_ns; /* when the device time it has queued should be done, as
                                       * the pacer last estimated (shim/pace_flight.c) */
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
    int32_t pid;                  /* in the owner's PID namespace */
    uint32_t uid;
    uint64_t start_time;          /* /proc/PID/stat starttime, clock ticks since boot */
    uint64_t run_id;              /* GREY_RUN_ID of the grey-run that started it, 0 if none */
    char command[GREY_COMMAND_MAX];
    _Atomic uint64_t launches;
    _Atomic uint64_t heartbeat_ns;
    _Atomic grey_devmask devices_used; /* bit N: GPU row N saw an allocation or a launch */
    uint64_t pidns;               /* inode of the owner's PID namespace (0: unknown) */
    _Atomic uint64_t max_lead_ns; /* the most device time it lets itself queue (0: not pacing) */
    _Atomic uint64_t batch_job_id; /* SLURM_JOB_ID of the batch job it runs in (0: none) */
    uint64_t reserved[6];         /* pads the owner part to three cache lines */
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
    _Atomic uint64_t thermal;   /* the GPU's temperature and thermal back-off, packed
                                 * (policy/thermal.h; 0: never sampled), in what was a reserved word */
};
#define GREY_TOKEN_HOLDER_BITS 12

/* A grey-run using the ledger (see "Runs" above). */
struct grey_ledger_run {
    _Atomic uint64_t nonce;        /* the run id's low bits while the run lives, 0: none */
    _Atomic uint64_t processes;    /* its processes that left no slot behind (never used a GPU) */
};

struct grey_ledger_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_size;
    uint32_t nslots;
    uint32_t max_devices;
    uint32_t nruns;
    uint64_t total_size;
    _Atomic grey_devmask budget_admin; /* bit N: row N's budget was set by an admin plan */
    _Atomic uint64_t last_reclaim_ns;  /* CLOCK_MONOTONIC of the last denial-driven reclaim scan */
    _Atomic uint64_t reclaimed_slots;  /* slots of dead processes retired by a reclaim scan */
    _Atomic uint64_t reclaimed_bytes;  /* the bytes those slots gave back */
    _Atomic uint64_t orphaned_bytes;   /* bytes in device_used no slot held, returned when idle */
    uint64_t reserved[14];             /* the per-device arrays start on a cache line */
    _Atomic uint64_t device_budget[GREY_MAX_DEVICES]; /* UINT64_MAX: no budget set */
    _Atomic uint64_t device_used[GREY_MAX_DEVICES];
    struct grey_ledger_gpu gpu[GREY_MAX_DEVICES];     /* which GPU each row is */
    struct grey_ledger_run run[GREY_LEDGER_RUNS];
    struct grey_fair_device fair[GREY_MAX_DEVICES];
};

struct grey_ledger {
    struct grey_ledger_header *header;
    struct grey_slot *slots;
    uint32_t nslots;
    size_t map_size;
    bool writable;   /* mapped read-write (a reader without write access maps it read-only) */
    int fd;          /* this process's open file description: its locks live on it; -1 closed */
    int32_t own;     /* the slot this description holds as its owner's, -1 none */
    int32_t own_run; /* the run lock it holds (grey-run), -1 none */
};

/* The size of a ledger file of this layout version. */
#define GREY_LEDGER_TOTAL_SIZE (sizeof(struct grey_ledger_header) + GREY_LEDGER_SLOTS * sizeof(struct grey_slot))

/* Opens (and with create, creates with mode 0600 and initializes) the ledger at path and maps
 * it. Validates magic, version and every size against the file's real size before returning, so
 * callers may index slots[0..nslots) freely. Keeps the file open (close-on-exec): its locks are
 * the ledger's liveness. Returns 0, or -1 with a one-line reason in err ("ledger /dev/shm/x:
 * layout version 7, this grey reads 4", "... truncated: 4096 bytes, expected 331776"). */
int grey_ledger_open(const char *path, bool create, struct grey_ledger *lg, char *err, size_t errlen);

/* grey_ledger_open for a ledger shared by a group (an admin plan's ledger_group): a file this
 * call creates gets mode 0660 and group gid (the creator must be root or a member). gid -1 is
 * grey_ledger_open. An existing file keeps its owner and mode. flags: GREY_LEDGER_CREATE
 * creates a missing file; GREY_LEDGER_NODE marks the admin plan's node ledger, which only root
 * creates. The file is opened without following a symlink (policy/safe_file.h); opened for
 * writing, it must be this user's, or root's with group gid (without GREY_LEDGER_CREATE, another
 * user's file is opened read-only instead); it is fully allocated before it is mapped, and a
 * file of another size is refused. */
#define GREY_LEDGER_CREATE 1u
#define GREY_LEDGER_NODE 2u
int grey_ledger_open_group(const char *path, unsigned flags, gid_t gid, struct grey_ledger *lg, char *err,
                           size_t errlen);
void grey_ledger_close(struct grey_ledger *lg);

/* Writes a fresh header into a zero-filled region of GREY_LEDGER_TOTAL_SIZE bytes that nobody
 * else can see yet (grey-noded's new memory file). */
void grey_ledger_format(void *base);

/* Maps a ledger handed over as a descriptor (grey-noded's sealed memory file, policy/node_wire.h)
 * read-write: it must carry the ledger seals (policy/node_limits.h: nobody can truncate or grow
 * it) and be exactly a ledger's size, and is validated as grey_ledger_open does. lg owns fd on
 * success (closed by grey_ledger_close); on failure fd is left to the caller. path names it in
 * messages. 0, or -1 with one line in err. */
int grey_ledger_open_fd(int fd, const char *name, struct grey_ledger *lg, char *err, size_t errlen);

/* Gives lg an open file description of its own on the same file (lg->own becomes -1): what a
 * fork child does first, since the one it inherited is its parent's and carries its parent's
 * locks. 0, or -1 (lg->fd is then -1 and no lock can be taken). */
int grey_ledger_new_description(struct grey_ledger *lg);

/* Fork handlers for the process-local exclusion (see "Liveness"): around fork, so that a child
 * never inherits it held. */
void grey_ledger_fork_prepare(void);
void grey_ledger_fork_parent(void);
void grey_ledger_fork_child(void);

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

/* The index of slot in lg. */
static inline uint32_t grey_slot_index(const struct grey_ledger *lg, const struct grey_slot *slot)
{
    return (uint32_t)(slot - lg->slots);
}

/* Claims a free slot for this process and holds its lock (lg->own). pid, start_time and pidns
 * are for people. An ACTIVE slot of the same pid and start time whose lock is free belongs to
 * this process's image before an exec; it is retired first (its bytes go back). When no slot is
 * free, the slots of dead owners are reclaimed and EXITED slots whose run is gone are recycled.
 * Returns NULL when every slot is held by a live process (or lg has no description). Counters
 * start at zero, caps at UINT64_MAX. */
struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time, uint64_t pidns,
                                    uint64_t run_id, uint32_t uid, const char *command);

/* The owner retires its own slot (the hook's destructor): ACTIVE -> RETIRING -> EXITED, its bytes
 * back to the device budgets, peak and denials kept; the lock stays held until the process is
 * gone. A process that never used a GPU and belongs to a live run leaves no slot behind: it is
 * counted in its run and freed at once. Returns true when this call retired it. */
bool grey_slot_retire(struct grey_ledger *lg, struct grey_slot *slot);

/* The file offset of slot i's lock byte (see "Liveness"): what a process holds while it lives. */
uint64_t grey_ledger_slot_lock_offset(uint32_t i);

/* True when nobody holds slot i's lock: its owner (or claimer, or retirer) is dead. Syscalls:
 * for failure paths and tools, never for hot paths. lg's own slot is alive. */
bool grey_ledger_slot_dead(const struct grey_ledger *lg, uint32_t i);

/* Retires every slot whose owner is dead (ACTIVE, CLAIMING or RETIRING with the lock free, or
 * EXITED with bytes still counted), each exactly once however many processes scan at the same
 * time; then, if the ledger is idle, returns orphaned bytes (see above). Syscalls (lock tests):
 * for failure paths and tools, never for hot paths. Returns the number of slots this call
 * retired. A read-only reader retires nothing. */
unsigned grey_ledger_reclaim(struct grey_ledger *lg);

/* grey_ledger_reclaim, rate-limited across every process of the ledger: scans only when no scan
 * started in the last interval_ns (now_ns: CLOCK_MONOTONIC), so a storm of denied allocations
 * costs one scan per interval, not one per denial. Returns the slots retired (0 when skipped). */
unsigned grey_ledger_reclaim_limited(struct grey_ledger *lg, uint64_t now_ns, uint64_t interval_ns);

/* Collects a slot after a summary: a dead owner's ACTIVE slot is retired first, then an EXITED
 * slot returns to FREE. A live owner's slot is left alone. */
void grey_slot_collect(struct grey_ledger *lg, struct grey_slot *slot);

/* Number of ACTIVE slots other than lg's own whose owner is alive (syscalls, like reclaim). */
unsigned grey_ledger_live_slots(struct grey_ledger *lg);

/* A grey-run registers with the ledger and holds its run lock until it closes the ledger; the
 * run id it gets (never 0) is what its job's processes carry in GREY_RUN_ID. 0, or -1 when every
 * run lock is taken. */
int grey_ledger_run_begin(struct grey_ledger *lg, uint64_t *run_id);
/* True when the run that id names is over (its grey-run is gone), or id names none. */
bool grey_ledger_run_dead(const struct grey_ledger *lg, uint64_t run_id);
/* Processes of the run that left no slot behind (see grey_slot_retire). */
uint64_t grey_ledger_run_slotless(const struct grey_ledger *lg, uint64_t run_id);

/* The GPU row (policy/ledger_gpu.h) that id is in this ledger, claimed when it has none yet; -1
 * when id has no UUID or the table is full. A read-only reader only finds rows. */
int grey_ledger_gpu_claim(struct grey_ledger *lg, const struct grey_gpu_id *id);

#endif
