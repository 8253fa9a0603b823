/* The time-slice scheduler of a simulated physical device (GREY_SIM_SCHED=timeslice).
 *
 * A real GPU keeps one queue per context (process) and, while several contexts have work,
 * alternates between them in time slices; a context with nothing pending gives up its slices at
 * once. The simulator models exactly that, per physical device, in the shared state (sim_state.h)
 * so every process sees one device:
 *
 *   - each process that launches on the device owns a context entry holding the cumulative work
 *     it has queued and the cumulative work done (ns of device time). A kernel's *position* is
 *     the cumulative end of its work in its own context's queue (all streams of one process
 *     serialize, as in the FIFO model). The work is done when done >= position;
 *   - the model is evaluated lazily: whoever touches the device (a launch, a query, a wait) first
 *     advances it to now under the device's spinlock, handing out slices of GREY_SIM_TIMESLICE_US
 *     round-robin among the contexts with pending work, and records for each context the segments
 *     it ran (t_start, t_end, done_at_start) in a ring, so that the time a position was reached
 *     is found exactly (a binary search) long after it happened (events need exact completion
 *     times for cuEventElapsedTime);
 *   - completion times therefore cannot be known at launch. Timelines hold *stamps*: either a
 *     time (as in the FIFO model) or, with SIM_STAMP_POS set, a position in this process's
 *     context on the timeline's device, resolved to a time once the model has reached it.
 *
 * The critical section only advances arithmetic over at most a few slices since the last touch
 * (and, for a waiter's projection, the slices until its work is done); it never sleeps or calls
 * the kernel. A holder that dies inside it (it cannot be killed there by anything but SIGKILL,
 * in microseconds) is taken over after SIM_SCHED_STEAL_NS of spinning (GREY_SIM_TRACE says so). */
#ifndef GREY_SIM_SCHED_H
#define GREY_SIM_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* The models (GREY_SIM_SCHED; the state file's sched_mode). */
enum sim_sched_mode {
    SIM_SCHED_UNSET = 0,     /* a new state file: the first process to initialize chooses */
    SIM_SCHED_FIFO = 1,      /* one FIFO for every process (sim_timeline.c) */
    SIM_SCHED_TIMESLICE = 2, /* time slices between contexts (this file) */
};
#define SIM_SCHED_DEFAULT_SLICE_US 2000u

#define SIM_SCHED_CONTEXTS 64   /* processes with work on one device at once */
#define SIM_SCHED_RING     256  /* segments remembered per context */
#define SIM_SCHED_NONE     UINT32_MAX
#define SIM_SCHED_STEAL_NS 1000000000ull

/* A stamp with this bit holds a position (ns of work in the process's own context queue). */
#define SIM_STAMP_POS (1ull << 63)

/* One stretch of time during which a context ran, and its done counter when it started. */
struct sim_sched_segment {
    uint64_t t_start, t_end, done_at_start;
};

/* One process's queue on one device. Everything but owner is read and written only under the
 * device's lock. */
struct sim_sched_context {
    _Atomic uint64_t owner;   /* the process's identity (sim_sched.c); 0: free */
    uint32_t usage_slot;      /* its slot in the memory table, whose lock says it lives */
    uint32_t reserved;
    uint64_t queued_ns;       /* cumulative work queued: the position of its last work */
    uint64_t done_ns;         /* cumulative work done by model time now_ns */
    uint64_t segments;        /* segments recorded ever; the ring holds the last ones */
    struct sim_sched_segment ring[SIM_SCHED_RING];
};

/* The scheduler's own state: where the model stands. Under the device's lock. */
struct sim_sched_clock {
    uint64_t now_ns;          /* the model has been advanced to this time */
    uint64_t slice_end_ns;    /* when the running context's slice ends */
    uint32_t current;         /* the running context, or SIM_SCHED_NONE while idle */
    uint32_t contexts;        /* entries at or past this index have never been used */
    uint64_t slice_ns;        /* GREY_SIM_TIMESLICE_US of the file */
};

struct sim_sched_device {
    _Atomic uint32_t lock;    /* 0 free, else held */
    uint32_t reserved;
    _Atomic uint64_t lock_since_ns; /* when the holder took it: a waiter takes over a dead one */
    struct sim_sched_clock clock;
    struct sim_sched_context ctx[SIM_SCHED_CONTEXTS];
};

/* ---------------------------------------------------------------- the model (sim_sched_model.c)
 * Pure arithmetic on one device, with its lock held; no clock is read. */

/* Advances the model to t (no-op when it is already past), running slices round-robin among the
 * contexts with pending work and recording each context's segments. */
void sim_sched_advance(struct sim_sched_device *d, uint64_t t);
/* The time at which context c reached position pos, when the model has (true); false when it
 * has not yet. A position older than the ring gets its oldest remembered segment's start. */
bool sim_sched_reached_at(const struct sim_sched_device *d, uint32_t c, uint64_t pos, uint64_t *t);
/* When c would reach pos if nobody queued anything more (a lower bound: later work of others
 * can only delay it). At least the model's now; computed without changing the model. */
uint64_t sim_sched_projected(const struct sim_sched_device *d, uint32_t c, uint64_t pos);

/* ---------------------------------------------------------------- the mode (sim_sched_mode.c) */

/* Makes this process follow the state file's model: stamps want/slice_us into a new file, or
 * checks them against a file's choice. want SIM_SCHED_UNSET (GREY_SIM_SCHED not set) follows the
 * file; an explicit GREY_SIM_SCHED or GREY_SIM_TIMESLICE_US that disagrees with the file prints
 * "simgpu: GREY_SIM_SCHED: ..." and returns -1 (init then fails). slice_us 0: not set. */
int sim_sched_adopt(enum sim_sched_mode want, uint32_t slice_us);
/* The model of this process's devices (FIFO until sim_sched_adopt chose). */
enum sim_sched_mode sim_sched_mode(void);

/* ---------------------------------------------------------------- this process (sim_sched.c) */

/* Queues duration_ns of work for this process on phys, after its earlier work there; returns
 * its stamp: a position, or the time now when it is done already (nothing pending, 0 ns). */
uint64_t sim_sched_queue(int phys, uint64_t duration_ns);
/* Whether the work a stamp names is done; if so *t is its completion time. A time stamp is done
 * when the clock has reached it. */
bool sim_sched_done(int phys, uint64_t stamp, uint64_t *t);
/* The stamp work queued now after stamp (zero-length, like an event record) completes at: the
 * same position while it is pending, else the later of its time and now. */
uint64_t sim_sched_after(int phys, uint64_t stamp);
/* Sleeps (never spins) until the stamp's work is done; returns its completion time. */
uint64_t sim_sched_wait(int phys, uint64_t stamp);

#pragma GCC visibility pop

#endif
