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
 * EXITED (the hook's destructor; counters kept for the run's summary) -> FREE (released by
 * grey-run after its summary), or recycled by a claimer when no slot is FREE and nobody will
 * collect it any more. */
#ifndef GREY_LEDGER_H
#define GREY_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

#define GREY_LEDGER_MAGIC "GREYLDG"  /* 8 bytes with the NUL */
#define GREY_LEDGER_VERSION 1
#define GREY_LEDGER_SLOTS 256
#define GREY_COMMAND_MAX 64

enum grey_slot_state {
    GREY_SLOT_FREE = 0,
    GREY_SLOT_CLAIMING = 1,
    GREY_SLOT_ACTIVE = 2,
    GREY_SLOT_EXITED = 3,
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

struct grey_slot {
    _Atomic uint32_t state;
    _Atomic uint32_t flags;
    int32_t pid;
    uint32_t uid;
    uint64_t start_time;          /* /proc/PID/stat starttime, clock ticks since boot */
    uint64_t run_id;              /* GREY_RUN_ID of the grey-run that started it, 0 if none */
    char command[GREY_COMMAND_MAX];
    _Atomic uint64_t launches;
    _Atomic uint64_t heartbeat_ns;
    _Atomic uint32_t devices_used; /* bit N: device N saw an allocation */
    uint32_t reserved32;
    uint64_t reserved[9];         /* pads the owner part to three cache lines */
    struct grey_slot_device dev[GREY_MAX_DEVICES];
};

struct grey_ledger_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_size;
    uint32_t nslots;
    uint32_t max_devices;
    uint32_t reserved32;
    uint64_t total_size;
    _Atomic uint64_t device_budget[GREY_MAX_DEVICES];
    _Atomic uint64_t device_used[GREY_MAX_DEVICES];
    uint64_t reserved[8];
};

struct grey_ledger {
    struct grey_ledger_header *header;
    struct grey_slot *slots;
    uint32_t nslots;
    size_t map_size;
};

/* Opens (and with create, creates with mode 0600 and initializes) the ledger at path and maps
 * it. Validates magic, version and every size against the file's real size before returning, so
 * callers may index slots[0..nslots) freely. Returns 0, or -1 with a one-line reason in err
 * ("ledger /dev/shm/x: layout version 7, this grey reads 1", "... truncated: 4096 bytes, expected
 * 331776"). */
int grey_ledger_open(const char *path, bool create, struct grey_ledger *lg, char *err, size_t errlen);
void grey_ledger_close(struct grey_ledger *lg);

/* Checks a mapped region of size bytes as a ledger, without trusting anything in it. The same
 * check grey_ledger_open applies; exposed for readers that map by other means and for fuzzing. */
int grey_ledger_validate(const void *base, size_t size, char *err, size_t errlen);

/* The default ledger path for this user: $GREY_LEDGER, else /dev/shm/grey-UID.ledger. */
void grey_ledger_default_path(char *buf, size_t buflen);

/* Claims a free slot for (pid, start_time). An ACTIVE slot of the same pid and start time belongs
 * to this process's image before an exec; it is marked EXITED first. When no slot is free,
 * slots of dead owners and EXITED slots whose run owner is dead are recycled. Returns NULL when
 * every slot is held by a live process. Counters start at zero, caps at UINT64_MAX. */
struct grey_slot *grey_ledger_claim(struct grey_ledger *lg, pid_t pid, uint64_t start_time,
                                    uint64_t run_id, uint32_t uid, const char *command);

/* The owner is gone: state EXITED, counters kept for its run's summary (and for grey-top until
 * the slot is needed again: EXITED slots are recycled only when no slot is FREE). */
void grey_slot_exit(struct grey_slot *slot);

/* Returns the slot to FREE (called by whoever collected an EXITED slot). */
void grey_slot_release(struct grey_slot *slot);

/* True when the slot's owner process no longer exists (pid gone, or pid reused by a process
 * with another start time). */
bool grey_slot_owner_dead(const struct grey_slot *slot);

/* Run ids tie slots to the grey-run that started them: (pid << 32 | low 32 bits of the start
 * time) of grey-run itself, so a dead grey-run is recognisable. */
uint64_t grey_run_id_make(pid_t pid, uint64_t start_time);
bool grey_run_id_owner_dead(uint64_t run_id);

#endif
