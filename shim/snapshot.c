/* Snapshots: read device buffers back and fingerprint them, for every vendor.
 *
 * Contents are read through the buffer's vendor (shim/vendor.h, named by its allocation family in
 * shim/track.c) in chunks of at most SNAPSHOT_CHUNK into one fixed buffer, mapped on the first
 * snapshot and kept: a snapshot never needs more host memory than that, whatever the buffers'
 * sizes. Records are walked in bounded batches (tracker_collect), so no lock is held while the
 * device is read and the program keeps allocating meanwhile. Each buffer's context is entered
 * once for its reads and its queued work waited for, so work the program queued on any stream has
 * landed. A context that cannot be entered (destroyed already) makes its buffers count as
 * failed, nothing worse. */
#include "dedup.h"

#include <sys/mman.h>

#include "policy/ticks.h"
#include "track.h"
#include "vendor.h"

#define SNAPSHOT_CHUNK (4u << 20)
#define SNAPSHOT_BATCH 64

static unsigned char *chunk;
static struct grey_buffer_info batch[SNAPSHOT_BATCH];

/* The context the reads are in now. */
struct readback {
    const struct grey_vendor *vendor;  /* NULL: none entered */
    uint64_t context;
    uint64_t saved;                    /* what to restore on leaving */
    bool usable;                       /* the context could be entered */
};

static void leave(struct readback *r)
{
    if (r->vendor && r->usable)
        r->vendor->readback_leave(r->saved);
    r->vendor = NULL;
    r->usable = false;
}

static bool enter(struct readback *r, const struct grey_vendor *vendor, uint64_t context)
{
    if (r->vendor == vendor && r->context == context)
        return r->usable;
    leave(r);
    r->vendor = vendor;
    r->context = context;
    r->usable = vendor->readback_enter(context, &r->saved);
    return r->usable;
}

static bool fingerprint(struct readback *r, const struct grey_buffer_info *info, struct grey_fp *out)
{
    struct grey_fp_stream s;
    grey_fp_begin(&s);
    for (uint64_t off = 0; off < info->bytes; off += SNAPSHOT_CHUNK) {
        size_t n = info->bytes - off < SNAPSHOT_CHUNK ? (size_t)(info->bytes - off) : SNAPSHOT_CHUNK;
        if (!r->vendor->readback(chunk, info->addr + off, n))
            return false;
        grey_fp_update(&s, chunk, n);
    }
    *out = grey_fp_end(&s);
    return true;
}

struct set_fp {
    uint64_t alloc_ticks, begin, now; /* begin: before the first byte was read */
    uint32_t source;
    struct grey_fp fp;
};

static void store(struct grey_buffer_info *info, void *arg)
{
    const struct set_fp *s = arg;
    if (info->alloc_ticks != s->alloc_ticks)
        return; /* freed and reallocated while we read: not the buffer we hashed */
    /* An upload fingerprinted it while we read: its hash is of the bytes the buffer holds now,
     * ours may mix bytes from before and after the copy. (Other touches are left as they were:
     * a launch marks its arguments written, and a busy replica's weights would never be
     * fingerprinted again if every launch during a read discarded it.) */
    if (info->fp_source == GREY_FP_UPLOAD && info->fp_ticks > s->begin)
        return;
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
            const struct grey_vendor *vendor = grey_api_vendor(info->api);
            if (!vendor || grey_api_kind(info->api) != GREY_RAW_PTR || info->bytes == 0 ||
                (context && info->context != context))
                continue;
            struct set_fp s = {.alloc_ticks = info->alloc_ticks, .begin = grey_ticks(), .source = source};
            if (!enter(&r, vendor, info->context) || !fingerprint(&r, info, &s.fp)) {
                (*failed)++;
                continue;
            }
            s.now = grey_ticks();
            tracker_update(info->addr, store, &s);
            (*buffers)++;
            *bytes += info->bytes;
        }
    }
    leave(&r);
}

int grey_dedup_read_buffer(uint64_t addr, uint64_t offset, void *dst, size_t n)
{
    struct grey_buffer_info info;
    if (!tracker_find(addr, &info) || grey_api_kind(info.api) != GREY_RAW_PTR || offset > info.bytes ||
        n > info.bytes - offset)
        return -1;
    const struct grey_vendor *vendor = grey_api_vendor(info.api);
    if (!vendor)
        return -1;
    struct readback r = {0};
    bool ok = enter(&r, vendor, info.context) && vendor->readback(dst, addr + offset, n);
    leave(&r);
    return ok ? 0 : -1;
}
