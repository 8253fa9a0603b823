/* One interface to each vendor's runtime for the vendor-neutral parts of the shim: the launch
 * gate's pacer (shim/pace.h) measures device time with it, and snapshots (shim/snapshot.c) read
 * buffers back with it. CUDA's is shim/cuda_vendor.c, HIP's shim/hip_vendor.c; each calls its
 * vendor's real functions (grey intercepts none of them), HIP's through the re-entry guard.
 *
 * Handles are the vendor's, as integers or pointers: a context (HIP: its device stands for one,
 * GREY_HIP_CONTEXT), a stream, an event. Every operation may fail; a failure only loses a sample
 * or a fingerprint. */
#ifndef GREY_VENDOR_H
#define GREY_VENDOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grey_gpu_id;

struct grey_vendor {
    const char *name;
    int id;                            /* GREY_VENDOR_CUDA or GREY_VENDOR_HIP: their ordinals differ */
    /* Which GPU the vendor's device ordinal is: its UUID (16 bytes as the vendor reports them, in
     * uuid, left all zero when the vendor gives none), PCI bus id, name and memory; false when the
     * vendor can say nothing of it (no such device, or neither a UUID nor a PCI address). */
    bool (*identify)(int ordinal, unsigned char uuid[16], struct grey_gpu_id *out);
    /* The calling thread's current device ordinal and context; false when there is none. At most
     * one runtime call when the context is the one this thread saw last. */
    bool (*current)(int *dev, uint64_t *context);
    /* The launch is captured into a graph, not run now (anything unclear counts as captured). */
    bool (*capturing)(void *stream);
    /* Whether device time can be measured here (timing events and capture queries exist); when
     * not, the pacer counts launches instead (shim/pace_sample.c). NULL: never. */
    bool (*measurable)(void);
    /* Timing events of the current context. */
    void *(*event_new)(void);
    bool (*event_record)(void *event, void *stream);
    /* 1 and the elapsed ns from a to b when both completed, 0 while pending, -1 on error; never
     * blocks. */
    int (*event_elapsed)(void *a, void *b, uint64_t *ns);
    void (*event_free)(void *event);
    /* Reading device memory back for a snapshot: make context current and wait for its queued
     * work (what was current before in *saved), copy n bytes at device address src into dst,
     * then restore saved. */
    bool (*readback_enter)(uint64_t context, uint64_t *saved);
    bool (*readback)(void *dst, uint64_t src, size_t n);
    void (*readback_leave)(uint64_t saved);
};

enum { GREY_VENDOR_CUDA, GREY_VENDOR_HIP, GREY_VENDOR_COUNT };

extern const struct grey_vendor grey_cuda_vendor;
extern const struct grey_vendor grey_hip_vendor;

/* Bumped whenever a context (or HIP device state) may have died: per-thread caches of the current
 * device and the pacer's timing events made before it are never trusted again. */
extern _Atomic uint32_t grey_context_epoch;
static inline void grey_contexts_changed(void)
{
    atomic_fetch_add_explicit(&grey_context_epoch, 1, memory_order_release);
}

#endif
