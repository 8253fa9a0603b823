/* VMM memory shared between processes through POSIX file descriptors
 * (cuMemExportToShareableHandle / cuMemImportFromShareableHandle), counted once for the node: by
 * its creator, never by an importer, and for as long as anyone holds it.
 *
 * The driver frees an exported allocation only when its creator let go (every reference released,
 * every mapping unmapped), every shareable handle is closed ("Once all shareable handles are
 * closed and the allocation is released", cuMemExportToShareableHandle) and every importer let go
 * too. NVML charges it to the creator alone. So the creator's hook keeps the bytes counted, past
 * its own last release, until nobody on the node holds the memory; an importer's hook counts
 * nothing but says that it holds it.
 *
 * Who holds what is kept by the kernel, as record locks (open-file-description locks) on the
 * exported file itself, so a process that dies stops holding at once, whatever its PID
 * namespace, and no table needs cleaning after it:
 *   - the creator's hook gives each exported allocation a range of 2 * 2^15 bytes at a random
 *     place of a region no one else uses, and read-locks byte base + 2i through the i-th
 *     descriptor it exports: the lock lives exactly as long as that descriptor is open anywhere
 *     (a descriptor sent over a socket, or taken with pidfd_getfd, is the same open file);
 *   - an importer's hook finds which allocation its descriptor is (the only grey lock in the
 *     region its own descriptor holds), and read-locks the byte after it through a description of
 *     its own, until its last reference and mapping of the import are gone;
 *   - the creator's hook asks, through a description of its own that holds nothing, whether any
 *     lock is left in the allocation's range.
 * On a real driver every exported descriptor is an open of /dev/nvidiactl, so all of them are one
 * inode: the locks of all allocations share one region, hence the random places. On the
 * simulator each allocation is a memfd of its own.
 *
 * An import whose creator cannot be found this way (a creator without the hook, another
 * container's /dev/nvidiactl, a file crowded with others' locks) is counted by the importer from
 * its first mapping: counted twice while a hooked creator also holds it, never not at all.
 *
 * CUDA's and HIP's export and import (shim/cuda_vmm.c, shim/hip_vmm_array.c) both come here.
 *
 * What is not seen: fabric handles (no descriptor to lock: their importers pay), and memory
 * still held after its creator died (its count dies with it, as its NVML attribution
 * does). A user who can open the same file can make another's exported allocations stay counted
 * by locking bytes of their ranges (an over-count that ends with the creator; never an
 * under-count). What lingered is given back at the creator's next allocation, memory query or VMM
 * call (or its agent thread's next round) after the last holder let go.
 *
 * Everything here is called with the VMM lock held (vmm_table.h), except grey_vmm_share_settle,
 * which tries to take it. */
#ifndef GREY_VMM_SHARE_H
#define GREY_VMM_SHARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/tracker.h"

/* The creator exported key's allocation as descriptor fd: this export now keeps it counted. */
void grey_vmm_share_exported(uint64_t key, int fd);
/* An import handed out handle key (from descriptor fd when posix_fd). A handle this process
 * already held is one more reference (a driver may give the same handle for the same memory,
 * vmm_table.h); otherwise, when a hooked creator counts the memory, this process holds it (until
 * grey_vmm_share_freed), and when nobody is known to, the import is unpaid: this process counts it
 * itself from its first mapping. */
void grey_vmm_share_import(uint64_t key, bool posix_fd, int fd);
/* Unpaid imports: asked at each mapping, settled by the first that succeeds. */
bool grey_vmm_share_is_unpaid(uint64_t key);
void grey_vmm_share_paid(uint64_t key);
/* This process holds nothing of key any more (every reference released, every mapping unmapped);
 * info is its record when tracked (taken out of the tracker). Its holds go; true when key is an
 * allocation it created and exported and the memory lives on elsewhere: the bytes then stay
 * counted (info is kept, given back by grey_vmm_share_settle); false when the caller gives them
 * back as usual. */
bool grey_vmm_share_freed(uint64_t key, bool tracked, const struct grey_buffer_info *info);
/* Gives back what lingered and nobody holds any more; never waits for the VMM lock (so it may be
 * called from anywhere, that lock held or not). On every allocation's path: one relaxed load when
 * nothing lingers, the usual case. */
extern _Atomic size_t grey_vmm_share_lingering;
void grey_vmm_share_settle_slow(void);
static inline void grey_vmm_share_settle(void)
{
    if (atomic_load_explicit(&grey_vmm_share_lingering, memory_order_relaxed))
        grey_vmm_share_settle_slow();
}

/* fork: the child holds nothing (its copies of the lock descriptions are closed). */
void grey_vmm_share_fork_child(void);

#endif
