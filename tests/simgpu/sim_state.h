/* The state every simulated process on the machine shares: a small file (GREY_SIM_STATE, by
 * default /dev/shm/grey-sim-v5-UID) mapped by each simulator library. It holds the scheduling model
 * every process on the file follows (GREY_SIM_SCHED, sim_sched.h), per physical device (sim_node.h)
 * the time its kernel FIFO drains (sim_timeline.c) or its time-slice scheduler (sim_sched.h) and,
 * per process, the bytes it holds on each physical device (sim_usage.c), whose owners hold record
 * locks on bytes past the end of the file, and the VMM allocations several processes share
 * (sim_shared.c).
 *
 * Layout version 5 (magic "GREYSIM5"). Earlier versions (1: one timeline per ordinal and no
 * memory; 2: version 3's layout with owners known by pid; 3: FIFO only, no scheduler; 4: no shared
 * allocations) are refused
 * rather than reinterpreted, and each has its own default path, so simulators of several versions
 * can run on one machine without reading each other's state. A new file is all
 * zeros, and all zeros is a valid state (every device idle, nothing held, no model chosen yet),
 * so whichever process comes first only stamps the magic (and its model: sim_sched_mode.c). When the file cannot be used, the process keeps a private
 * state of the same layout (and GREY_SIM_TRACE says why): it then shares nothing. */
#ifndef GREY_SIM_STATE_H
#define GREY_SIM_STATE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim_node.h"
#include "sim_sched.h"

#pragma GCC visibility push(hidden)

#define SIM_STATE_MAGIC "GREYSIM5"
/* Processes that can hold device memory at once. */
#define SIM_STATE_SLOTS 256
/* VMM allocations exported and held by any process at once, and processes holding one of them. */
#define SIM_SHARED_ROWS 512
#define SIM_SHARED_HOLDERS 16

struct sim_state_queue {          /* one cache line per physical device */
    _Atomic uint64_t tail_ns;     /* when everything queued on the device completes */
    _Atomic uint64_t queued_ns;   /* all kernel time ever queued on the device: with tail_ns, the
                                   * time it has been busy (sim_timeline.c) */
    /* The temperature model (nvml/nvml_thermal.c), all zeros until NVML first reads it: */
    _Atomic uint64_t heat_lock;   /* 0, or the pid updating the three words below */
    _Atomic uint64_t heat_at_ns;  /* when the temperature was last brought up to date */
    _Atomic uint64_t heat_busy_ns;/* the busy time (as above) at heat_at_ns */
    _Atomic uint64_t heat_mc;     /* the temperature then, in thousandths of a degree C */
    _Atomic uint64_t heat_util;   /* the busy fraction of the last update, in 1/10000 (power) */
    uint64_t reserved[1];
};
_Static_assert(sizeof(struct sim_state_queue) == 64, "one cache line per device: the layout is version 3's");

/* A physical allocation (cuMemCreate) once exported: its bytes are counted here, once for the
 * node, instead of in its creator's slot, until no process holds it any more (sim_shared.c). */
struct sim_state_holder {
    _Atomic int32_t slot;         /* the holder's slot in owner[] (only while word is not 0) */
    uint32_t reserved;
    _Atomic uint64_t word;        /* owner[slot] when it became a holder (a reused slot is not
                                   * it), or 0: no holder here */
};
struct sim_state_shared {
    _Atomic uint64_t key;         /* the memfd's device and inode (never 0), or 0: a free row */
    _Atomic uint64_t bytes;
    _Atomic int32_t phys;
    uint32_t reserved;
    struct sim_state_holder holder[SIM_SHARED_HOLDERS];
};

struct sim_state {
    char magic[8];
    _Atomic uint32_t slots_used;  /* slots at or past this index have never been claimed */
    uint32_t reserved0;
    /* The scheduling model of every device on this file, chosen once by the first process that
     * initializes (SIM_SCHED_UNSET until then), and the time slice it chose. */
    _Atomic uint32_t sched_mode;
    _Atomic uint32_t timeslice_us;
    uint64_t reserved[5];
    struct sim_state_queue queue[SIM_PHYS_MAX];
    /* Slot s belongs to the process named by owner[s] (sim_usage.c has the encoding; 0: free),
     * which holds bytes[p][s] bytes on physical device p. Device-major, so the sum over the
     * processes on one device reads consecutive words. */
    _Atomic uint64_t owner[SIM_STATE_SLOTS];
    _Atomic uint64_t bytes[SIM_PHYS_MAX][SIM_STATE_SLOTS];
    /* The time-slice scheduler of each physical device (GREY_SIM_SCHED=timeslice only; untouched
     * pages of a FIFO file are never backed by memory). */
    struct sim_sched_device sched[SIM_PHYS_MAX];
    /* Exported VMM allocations (all zeros: none). */
    struct sim_state_shared shared[SIM_SHARED_ROWS];
};

/* The shared state (mapped at the first call), or this process's private one. Never NULL. */
struct sim_state *sim_state(void);
/* The open shared state file (the description the mapping was made from, which must hold no
 * locks: a forked child shares it), or -1 for a private state. */
int sim_state_fd(void);
/* Where slot s's owner holds its lock: one byte past the end of the state, so no read or write of
 * the state ever touches it. */
#define SIM_STATE_LOCK_BASE ((off_t)sizeof(struct sim_state))
/* The byte whose write lock is the mutex of shared[] between processes. */
#define SIM_STATE_SHARED_LOCK (SIM_STATE_LOCK_BASE + SIM_STATE_SLOTS)

#pragma GCC visibility pop

#endif
