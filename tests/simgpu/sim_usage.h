/* Device memory of the whole machine: what every process holds on every physical device
 * (sim_node.h), kept in the shared state (sim_state.h), so that a GPU's VRAM is shared by all the
 * processes that use it, whichever ordinal or API they reach it through, and so that NVML can
 * list them.
 *
 * Each process owns a slot of the table and counts its bytes per device there; a device's used
 * memory is the sum of its column. A process that exits normally empties its slot (a library
 * destructor); one that is killed leaves it behind, and the next process to need the room, or to
 * read the table, finds its owner dead (gone, a zombie, or a reused pid with another start time)
 * and empties it: the driver frees a process's memory when it exits, and so does the simulator.
 *
 * Admission counts first and checks after: a process adds its bytes to its own slot, then sums
 * the device's column and takes them back if the sum exceeds the device. Two processes racing
 * for the last bytes thus both see each other's bytes (all accesses are sequentially
 * consistent), so together they never exceed the device; near the limit both may be refused
 * where one would have fitted, which errs on the side a real driver's OOM would. A process killed
 * between counting and checking holds nothing once it is found dead, so nothing leaks. */
#ifndef GREY_SIM_USAGE_H
#define GREY_SIM_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim_state.h"

#pragma GCC visibility push(hidden)

/* Counts n bytes for this process on physical device phys, whose size (in this process's
 * settings) is total. False, with nothing counted, when they do not fit or the table has no free
 * slot (GREY_SIM_TRACE says which). */
bool sim_usage_charge(int phys, uint64_t total, uint64_t n);
/* Gives back n bytes this process counted on phys. */
void sim_usage_release(int phys, uint64_t n);
/* Bytes held on phys by live processes. */
uint64_t sim_usage_used(int phys);

/* This process's slot (claimed now if it has none yet) and the owner word it holds there, for
 * other tables that need to know whether a process still lives (the time-slice scheduler's
 * contexts); -1 when this process has no slot (a private state, a full table). */
int sim_usage_self(uint64_t *word);
/* Whether slot's owner is still the process that held word and still alive. */
bool sim_usage_alive(int slot, uint64_t word);

/* This process's own description of the state file (the one its slot lock is held through), for
 * other locks between processes on that file; -1 for a private state. */
int sim_usage_lock_fd(void);

/* Exported VMM allocations (sim_shared.c): counted once for the node while any process holds them.
 * sim_shared_export moves n bytes this process counted on phys into a new row for key (the
 * allocation's node-wide name): 1; or, when key's row exists, only joins its holders: 0 (the
 * caller then gives its own count of the bytes back); -1 when the table or the row is full
 * (nothing changed). sim_shared_import joins the holders of key's row
 * and says what it holds; false when no live process holds key. sim_shared_leave: this process
 * lets go (the row goes with its last holder). A device's used memory is its column plus
 * sim_shared_sum; sim_shared_prune drops dead holders and frees rows nobody holds. */
int sim_shared_export(int phys, uint64_t key, uint64_t n);
bool sim_shared_import(uint64_t key, int *phys, uint64_t *n);
void sim_shared_leave(uint64_t key);
uint64_t sim_shared_sum(int phys);
void sim_shared_prune(void);

struct sim_usage_entry {
    pid_t pid;
    int phys;
    uint64_t bytes;
};
/* The live processes holding memory on any of phys[0..nphys) (a GPU and its MIG instances: at
 * most 1 + SIM_MIG_INSTANCES devices), one entry per process and device (a process whose CUDA and
 * HIP libraries both hold memory is one entry). Fills up to max entries and returns how many there
 * are, never more than SIM_USAGE_LIST_MAX. */
#define SIM_USAGE_LIST_MAX (SIM_STATE_SLOTS * (1 + SIM_MIG_INSTANCES))
size_t sim_usage_list(const int *phys, size_t nphys, struct sim_usage_entry *out, size_t max);

#pragma GCC visibility pop

#endif
