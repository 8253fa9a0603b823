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
 * What is not seen: fabric handles (no descriptor to lock), HIP's twins (not intercepted), memory
 * whose creator ran without the hook (counted by nobody, as before), and memory still held after
 * its creator died (its process's count dies with it, as its NVML attribution does). An
 * allocation given back late is given back at the creator's next allocation, memory query or VMM
 * call after the last holder let go.
 *
 * Everything here is called with the VMM lock held (vmm_table.h), except grey_vmm_share_settle,
 * which takes it. */
#ifndef GREY_VMM_SHARE_H
#define GREY_VMM_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/tracker.h"

/* The creator exported key's allocation as descriptor fd: this export now keeps it counted. */
void grey_vmm_share_exported(uint64_t key, int fd);
/* The creator let go of the allocation whose record (taken out of the tracker) is info: true when
 * the memory lives on elsewhere, and the bytes stay counted (info is kept, to be given back by
 * grey_vmm_share_settle); false when it is freed and the caller gives the bytes back. */
bool grey_vmm_share_linger(const struct grey_buffer_info *info);
/* Gives back what lingered and nobody holds any more. Cheap when nothing lingers. */
void grey_vmm_share_settle(void);

/* An importer made handle key from descriptor fd: it holds the memory until grey_vmm_share_let_go. */
void grey_vmm_share_imported(uint64_t key, int fd);
/* This process's last reference and mapping of key are gone: it holds nothing of it any more. */
void grey_vmm_share_let_go(uint64_t key);

/* fork: the child holds nothing (its copies of the lock descriptions are closed). */
void grey_vmm_share_fork_child(void);

#endif
