/* The opt-in work of GREY_DEDUP inside the CUDA wrappers: fingerprints of host-to-device copies
 * that fill a whole buffer, which buffers copies, memsets and kernels touched (and when), and
 * snapshots that read buffers back to fingerprint them (shim/snapshot.c). Callers test grey_dedup_on() first, so
 * without GREY_DEDUP each wrapper pays one predictable branch. */
#ifndef GREY_DEDUP_SHIM_H
#define GREY_DEDUP_SHIM_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/settings.h"
#include "cuda_shim.h"

/* A host-to-device copy of n bytes from src to dst succeeded: fingerprint the host bytes when
 * they fill dst's whole buffer, else mark dst written. */
void grey_dedup_upload(CUdeviceptr dst, const void *src, size_t n);
/* The vendor-neutral halves, shared with HIP (shim/hip_dedup.c): fingerprint the host bytes
 * when they fill the whole tracked buffer at dst (false, nothing done, otherwise), and mark the
 * tracked buffer at exactly base touched. */
bool grey_dedup_upload_whole(uint64_t dst, const void *src, size_t n);
void grey_dedup_touch_at(uint64_t base, uint32_t how, bool write);
/* A copy or memset wrote n bytes at dst (how: a GREY_TOUCH_* bit). */
void grey_dedup_written(CUdeviceptr dst, size_t n, uint32_t how);
/* A copy read n bytes at src. */
void grey_dedup_read(CUdeviceptr src, size_t n);
/* True when p is device memory (cuMemcpy's ends may be either). */
bool grey_dedup_is_device(CUdeviceptr p);
/* A kernel launch: its pointer-sized arguments that are tracked buffers were touched. */
void grey_dedup_kernel_args(CUfunction f, void **params, void **extra);
/* The launch clock (policy/buffer_use.h): every launch grey_dedup_kernel_args or
 * grey_dedup_launch_uses saw. Read with a relaxed load. */
extern _Atomic uint64_t grey_dedup_launches;
/* A launch whose used device addresses are known (a graph's kernels, copies and memsets, a HIP
 * launch): one tick of the clock, each address (or a pointer into a buffer) used. */
void grey_dedup_launch_uses(const uint64_t *addrs, size_t n);
/* The most bytes one launch was given (the "optimal peak"), with its launch number and time. */
struct grey_kernel_peak {
    uint64_t bytes, launch, ticks;
};
void grey_dedup_kernel_peak(struct grey_kernel_peak *out);
/* The pointer-sized argument values of a kernel given params (a graph's kernel node), at most
 * max of them into out; 0 when the driver cannot describe f. */
size_t grey_dedup_kernel_pointers(CUfunction f, void **params, uint64_t *out, size_t max);
/* Launches whose arguments could not be inspected (the driver has no cuFuncGetParamInfo). */
uint64_t grey_dedup_kernel_args_unknown(void);

/* Reads n bytes at offset into the tracked device buffer at addr (grey-report --node --verify,
 * through the agent). 0, or -1 when addr is no such buffer, the range lies outside it or the
 * device cannot be read. Callers serialize with snapshots (preload/recorder.c). */
int grey_dedup_read_buffer(uint64_t addr, uint64_t offset, void *dst, size_t n);

/* Reads back every fingerprintable buffer of context (0: of every context) in bounded chunks
 * and records its fingerprint as coming from source. Callers serialize (preload/recorder.c). */
void grey_dedup_snapshot(uint32_t source, uint64_t context, uint64_t *buffers, uint64_t *bytes, uint64_t *failed);

#endif
