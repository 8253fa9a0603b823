/* Which virtual-memory (VMM) physical allocations are still mapped or referenced,
 * vendor-neutral: CUDA's cuMemCreate/cuMemMap/cuMemUnmap/cuMemRelease/cuMemRetainAllocationHandle
 * and HIP's twins. The drivers keep physical memory alive until every reference to its handle is
 * released AND its last mapping is unmapped (the CUDA driver API reference, cuMemRelease and
 * cuMemUnmap), and the programming guide releases the handle right after mapping it. So the
 * bytes counted at create stay counted until that same point: whichever of the last release and
 * the last unmap comes second gives them back.
 *
 * Keys are the tracker keys of the handles (GREY_KEY_VMM, GREY_KEY_HIP_VMM); a handle grey never
 * counted (imported from another process) may be mapped too: its key is simply not tracked, so
 * untracking it moves nothing.
 *
 * The VMM calls are rare and slow in the driver, so the shims hold one lock across the whole
 * create / map / unmap / release, driver call included: no handle value can then be freed and
 * handed out again by the driver between the driver's decision and grey's. The lock is
 * recursive, so a driver that reached its own exported VMM functions (through grey's) from
 * inside one would not deadlock. */
#ifndef GREY_VMM_TABLE_H
#define GREY_VMM_TABLE_H

#include <stdbool.h>
#include <stdint.h>

void grey_vmm_lock(void);
void grey_vmm_unlock(void);
/* The lock if no other thread holds it (or this one already does); false otherwise. */
bool grey_vmm_trylock(void);

/* fork (preload/init.c): the lock is taken around the fork, so no child inherits it held; the
 * child starts with an empty table, as it forgets its parent's buffers (a CUDA or HIP process's
 * mappings are of no use in its child). */
void grey_vmm_fork_prepare(void);
void grey_vmm_fork_parent(void);
void grey_vmm_fork_child(void);

/* Everything below is called with the lock held. A handle enters the table at its first mapping
 * with one reference (the create's); cuMemRetainAllocationHandle adds one, each release takes
 * one, and the memory is freed when no reference and no mapping is left. */

/* The table follows the handle key (it was mapped): its releases go through grey_vmm_released. */
bool grey_vmm_known(uint64_t key);
/* After the driver released key: true when that freed the memory (no reference and no mapping
 * left; the entry is gone), false while a mapping or another reference keeps it. */
bool grey_vmm_released(uint64_t key);
/* After cuMemRetainAllocationHandle handed out key again: one more reference to release. */
void grey_vmm_retained(uint64_t key);
/* After an import handed out key, which this process already held (a driver may give the same
 * handle for the same memory): one more reference, mapped or not. False when out of memory (the
 * reference is then unknown to grey, and the first release lets go of the memory). */
bool grey_vmm_referenced(uint64_t key);
/* A mapping of key at [va, va + size) that the driver made. -1 when out of memory (the mapping
 * is then unknown to grey, and its memory goes back at the release, as if unmapped). */
int grey_vmm_add_mapping(uint64_t va, uint64_t size, uint64_t key);
/* After the driver unmapped [va, va + size): forgets the mappings inside it, and calls freed(key)
 * for each handle left with no reference and no mapping. */
void grey_vmm_remove_range(uint64_t va, uint64_t size, void (*freed)(uint64_t key));

#endif
