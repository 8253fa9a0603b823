/* Snapshots: read device buffers back and fingerprint them.
 *
 * Contents are read with the real cuMemcpyDtoH in chunks of at most SNAPSHOT_CHUNK into one fixed
 * buffer, mapped on the first snapshot and kept: a snapshot never needs more host memory than
 * that, whatever the buffers' sizes. Records are walked in bounded batches (tracker_collect), so
 * no lock is held while the device is read and the program keeps allocating meanwhile. Each
 * buffer's context is made current for its reads and synchronized once first, so work the
 * program queued on any stream has landed. A context that cannot be made current (destroyed
 * already) makes its buffers count as failed, nothing worse.
 *
 * HIP buffers (whose "context" is their device, GREY_HIP_CONTEXT) go through the same walk, chunk
 * and fingerprint; only the three device steps differ (hipSetDevice + hipDeviceSynchronize,
 * hipMemcpy device-to-host, the previous device restored: shim/hip_dedup.c). Each vendor's
 * functions are looked up at its first buffer, so a process of one vendor never asks for the
 * other's. */
#include "dedup.h"

#include <sys/mman.h>

#include "../policy/ticks.h"
#include "hip_shim.h"
#include "track.h"

#define SNAPSHOT_CHUNK (4u << 20)
#define SNAPSHOT_BATCH 64

static unsigned char *chunk;
static struct grey_buffer_info batch[SNAPSHOT_BATCH];

struct readback {
    bool resolved, resolved_ok; /* the CUDA functions, looked up at the first CUDA buffer */
    bool hip;            /* pushed is a HIP device */
    int hip_prev;        /* the device to restore after a HIP device's reads */
    PFN_cuCtxPushCurrent_v4000 push;
    PFN_cuCtxPopCurrent_v4000 pop;
    PFN_cuCtxSynchronize_v2000 sync;
    PFN_cuMemcpyDtoH_v3020 dtoh;
    uint64_t pushed;     /* context made current for the reads, 0: none */
    bool usable;         /* pushed could be made current */
};

static bool resolve(struct readback *r)
{
    static void *push_fn, *pop_fn, *sync_fn, *dtoh_fn;
    if (r->resolved)
        return r->resolved_ok;
    r->resolved = true;
    r->push = grey_real(&push_fn, "cuCtxPushCurrent_v2");
    r->pop = grey_real(&pop_fn, "cuCtxPopCurrent_v2");
    r->sync = grey_real(&sync_fn, "cuCtxSynchronize");
    r->dtoh = grey_real(&dtoh_fn, "cuMemcpyDtoH_v2");
    r->resolved_ok = r->push && r->pop && r->sync && r->dtoh;
    return r->resolved_ok;
}

static bool is_hip(uint64_t ctx)
{
    return (ctx >> 56) == (GREY_HIP_CONTEXT(0) >> 56);
}

static void leave_context(struct readback *r)
{
    if (r->pushed && r->usable && r->hip) {
        grey_hip_readback_leave(r->hip_prev);
    } else if (r->pushed && r->usable) {
        CUcontext old;
        r->pop(&old);
    }
    r->pushed = 0;
    r->usable = false;
}

static bool enter_context(struct readback *r, uint64_t ctx)
{
    if (r->pushed == ctx)
        return r->usable;
    leave_context(r);
    r->pushed = ctx;
    r->hip = is_hip(ctx);
    if (r->hip) {
        r->usable = grey_hip_readback_enter((int)(uint32_t)ctx, &r->hip_prev);
        return r->usable;
    }
    if (!resolve(r))
        return false;
    r->usable = r->push((CUcontext)(uintptr_t)ctx) == CUDA_SUCCESS;
    if (r->usable && r->sync() != CUDA_SUCCESS) {
        CUcontext old;
        r->pop(&old);
        r->usable = false;
    }
    return r->usable;
}

static bool fingerprint(struct readback *r, const struct grey_buffer_info *info, struct grey_fp *out)
{
    struct grey_fp_stream s;
    grey_fp_begin(&s);
    for (uint64_t off = 0; off < info->bytes; off += SNAPSHOT_CHUNK) {
        size_t n = info->bytes - off < SNAPSHOT_CHUNK ? (size_t)(info->bytes - off) : SNAPSHOT_CHUNK;
        if (r->hip ? !grey_hip_readback(chunk, info->addr + off, n)
                   : r->dtoh(chunk, (CUdeviceptr)(info->addr + off), n) != CUDA_SUCCESS)
            return false;
        grey_fp_update(&s, chunk, n);
    }
    *out = grey_fp_end(&s);
    return true;
}

struct set_fp {
    uint64_t alloc_ticks, now;
    uint32_t source;
    struct grey_fp fp;
};

static void store(struct grey_buffer_info *info, void *arg)
{
    const struct set_fp *s = arg;
    if (info->alloc_ticks != s->alloc_ticks)
        return; /* freed and reallocated while we read: not the buffer we hashed */
    info->fp = s->fp;
    info->fp_ticks = s->now;
    info->fp_source = s->source;
    info->fp_stale = 0;
}

void grey_dedup_snapshot(uint32_t source, uint64_t context, uint64_t *buffers, uint64_t *bytes, uint64_t *failed)
{
    *buffers = *bytes = *failed = 0;
    struct readback r = {0};
    if (!chunk) {
        void *p = mmap(NULL, SNAPSHOT_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return;
        chunk = p;
    }
    uint32_t pass = tracker_next_pass();
    size_t n;
    while ((n = tracker_collect(pass, batch, SNAPSHOT_BATCH)) > 0) {
        for (size_t i = 0; i < n; i++) {
            const struct grey_buffer_info *info = &batch[i];
            if (grey_api_kind(info->api) != GREY_RAW_PTR || info->bytes == 0 || (context && info->context != context))
                continue;
            struct set_fp s = {.alloc_ticks = info->alloc_ticks, .source = source};
            if (!enter_context(&r, info->context) || !fingerprint(&r, info, &s.fp)) {
                (*failed)++;
                continue;
            }
            s.now = grey_ticks();
            tracker_update(info->addr, store, &s);
            (*buffers)++;
            *bytes += info->bytes;
        }
    }
    leave_context(&r);
}
