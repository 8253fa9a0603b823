/* VMM physical memory as the simulators keep it, shared by the CUDA driver (sim_vmm.c) and the
 * HIP runtime (hip/hsim_vmm_array.c): a memfd per allocation, named after its physical device, so
 * that two mappings of it share bytes and an exported descriptor can be imported by another
 * process. On a real node an exported descriptor is an open of the driver's device file. */
#ifndef GREY_SIM_VMM_FD_H
#define GREY_SIM_VMM_FD_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* A new memfd of size bytes for memory of physical device phys; -1 when none can be made. */
int sim_vmm_memfd(int phys, size_t size);
/* A new open file description of what fd refers to (each export is one; each importer keeps
 * its own); -1 on failure. */
int sim_vmm_reopen(int fd);
/* The node-wide name of the allocation behind fd: its memfd's device and inode (never 0, 0 on
 * failure). */
uint64_t sim_vmm_key(int fd);
/* The physical device of an exported descriptor and its size; -1 when fd is not one this
 * simulator made. */
int sim_vmm_exported(int fd, uint64_t *size);

#pragma GCC visibility pop

#endif
