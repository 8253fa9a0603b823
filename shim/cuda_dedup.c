/* GREY_DEDUP's bookkeeping on the copy, memset and launch paths (see dedup.h). */
#include "dedup.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "policy/ticks.h"
#include "track.h"

/* The launch clock of the waste patterns (policy/buffer_use.h): kernel launches seen while
 * GREY_DEDUP is on. */
_Atomic uint64_t grey_dedup_launches;

/* The "optimal peak": the most bytes one launch was given, and which launch that was. Updated
 * under a lock only when a launch beats it, which stops happening once the job is in its loop. */
static _Atomic uint64_t kernel_peak_bytes;
static struct grey_kernel_peak kernel_peak;
static pthread_mutex_t kernel_peak_lock = PTHREAD_MUTEX_INITIALIZER;

/* What one touch does to a record. alloc_ticks names the allocation the caller looked up: an
 * address freed and handed out again meanwhile is another buffer, left alone. */
struct touch {
    uint32_t how;
    bool write;
    bool set_fp;
    uint64_t alloc_ticks; /* 0: whatever buffer is at the address now */
    uint64_t now;
    struct grey_fp fp;
    enum grey_use_kind use;
    uint64_t before, after; /* launch clock positions (buffer_use.h) */
    uint64_t offset, bytes; /* where in the buffer a write wrote, and how much (0: all of it) */
    uint64_t found_bytes;   /* out: the buffer's size, 0 when no record matched */
};

static void apply(struct grey_buffer_info *info, void *arg)
{
    struct touch *t = arg;
    if (t->alloc_ticks && info->alloc_ticks != t->alloc_ticks)
        return;
    bool whole = t->offset == 0 && (t->bytes == 0 || t->bytes >= info->bytes);
    grey_use_note(&info->use, t->use, t->before, t->after, t->now, info->last_use_ticks, whole, info->bytes);
    t->found_bytes = info->bytes;
    info->touched |= t->how;
    info->last_use_ticks = t->now;
    if (t->set_fp) {
        info->fp = t->fp;
        info->fp_ticks = t->now;
        info->fp_source = GREY_FP_UPLOAD;
        info->fp_stale = 0;
    } else if (t->write && info->fp_source != GREY_FP_NONE) {
        info->fp_stale = 1;
    }
}

/* The tracked buffer holding [p, p + n): p itself, or the base the driver names for an address
 * inside an allocation. */
static bool owner(CUdeviceptr p, uint64_t *base)
{
    if (tracker_find((uint64_t)p, NULL)) {
        *base = (uint64_t)p;
        return true;
    }
    static void *range_fn;
    PFN_cuMemGetAddressRange_v3020 range = grey_cuda_real(&range_fn, "cuMemGetAddressRange_v2");
    CUdeviceptr b = 0;
    size_t size = 0;
    if (!range || range(&b, &size, p) != CUDA_SUCCESS)
        return false;
    *base = (uint64_t)b;
    return true;
}

/* A copy or memset sits between launches: both of its clock positions are the launches so far. */
static struct touch between_launches(uint32_t how, bool write, uint64_t bytes)
{
    uint64_t c = atomic_load_explicit(&grey_dedup_launches, memory_order_relaxed);
    return (struct touch){.how = how, .write = write, .now = grey_ticks(),
                          .use = write ? GREY_USE_WRITE : GREY_USE_READ, .before = c, .after = c, .bytes = bytes};
}

void grey_dedup_touch_at(uint64_t base, uint32_t how, bool write)
{
    struct touch t = between_launches(how, write, 0);
    tracker_update(base, apply, &t);
}

static void touch(CUdeviceptr p, uint32_t how, bool write, size_t n)
{
    uint64_t base;
    if (!owner(p, &base))
        return;
    struct touch t = between_launches(how, write, n);
    t.offset = (uint64_t)p - base;
    tracker_update(base, apply, &t);
}

bool grey_dedup_upload_whole(uint64_t dst, const void *src, size_t n)
{
    struct grey_buffer_info info;
    if (!src || !tracker_find(dst, &info) || info.bytes != n || grey_api_kind(info.api) != GREY_RAW_PTR)
        return false;
    /* The host side as it passes: the buffer now holds exactly these bytes. */
    struct touch t = between_launches(GREY_TOUCH_UPLOAD, true, n);
    t.set_fp = true;
    t.alloc_ticks = info.alloc_ticks;
    t.fp = grey_fp_bytes(src, n);
    tracker_update(dst, apply, &t);
    return true;
}

void grey_dedup_upload(CUdeviceptr dst, const void *src, size_t n)
{
    if (!grey_dedup_upload_whole((uint64_t)dst, src, n))
        touch(dst, GREY_TOUCH_UPLOAD, true, n);
}

void grey_dedup_written(CUdeviceptr dst, size_t n, uint32_t how)
{
    touch(dst, how, true, n);
}

void grey_dedup_read(CUdeviceptr src, size_t n)
{
    touch(src, GREY_TOUCH_COPY_OUT, false, n);
}

bool grey_dedup_is_device(CUdeviceptr p)
{
    uint64_t base;
    return owner(p, &base);
}

/* ------------------------------------------------------------------ kernel arguments */

/* Which parameters of a kernel are pointer-sized, asked of the driver once per function
 * (cuFuncGetParamInfo, CUDA 12.4) and kept in a fixed table claimed with compare-and-swap. */
#define LAYOUTS 1024
#define MAX_PARAMS 64

struct layout {
    _Atomic uintptr_t func;    /* 0: free */
    _Atomic int state;         /* 0 being filled, 1 known, 2 unknown (no param info) */
    uint32_t nparams;
    uint64_t ptr_mask;         /* bit i: parameter i is 8 bytes */
};

static struct layout layouts[LAYOUTS];
static _Atomic uint64_t args_unknown;

static void describe(CUfunction f, struct layout *l)
{
    static _Atomic(void *) info_fn;
    static atomic_bool looked_up;
    if (!atomic_load(&looked_up)) {
        /* Not grey_real: an older driver without it is normal, not worth a warning. */
        atomic_store(&info_fn, grey_lib_symbol(GREY_LIB_CUDA, "cuFuncGetParamInfo"));
        atomic_store(&looked_up, true);
    }
    PFN_cuFuncGetParamInfo_v12040 get = (PFN_cuFuncGetParamInfo_v12040)atomic_load(&info_fn);
    uint32_t n = 0;
    uint64_t mask = 0;
    int state = 2;
    if (get) {
        CUresult rc = CUDA_SUCCESS;
        for (; n < MAX_PARAMS; n++) {
            size_t offset, size;
            rc = get(f, n, &offset, &size);
            if (rc != CUDA_SUCCESS)
                break;
            if (size == sizeof(CUdeviceptr))
                mask |= 1ull << n;
        }
        /* The driver answers "invalid value" past the last parameter; anything else (not
         * supported, a bad handle) leaves the layout unknown. */
        state = (rc == CUDA_ERROR_INVALID_VALUE || n == MAX_PARAMS) ? 1 : 2;
    }
    l->nparams = n;
    l->ptr_mask = mask;
    atomic_store_explicit(&l->state, state, memory_order_release);
}

static const struct layout *layout_of(CUfunction f)
{
    uintptr_t key = (uintptr_t)f;
    size_t i = (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 54) % LAYOUTS;
    for (size_t probe = 0; probe < 32; probe++, i = (i + 1) % LAYOUTS) {
        struct layout *l = &layouts[i];
        uintptr_t cur = atomic_load_explicit(&l->func, memory_order_acquire);
        if (cur == 0) {
            uintptr_t expected = 0;
            if (atomic_compare_exchange_strong(&l->func, &expected, key)) {
                describe(f, l);
                return l;
            }
            cur = expected;
        }
        if (cur == key)
            return atomic_load_explicit(&l->state, memory_order_acquire) ? l : NULL;
    }
    return NULL;
}

/* One launch's arguments: which buffers it was given (each counted once, however many of its
 * arguments point into it) and their bytes. */
#define LAUNCH_BUFFERS 64
struct launch_uses {
    uint64_t before, now, bytes;
    uint64_t bases[LAUNCH_BUFFERS];
    size_t n;
};

static void kernel_touch(struct launch_uses *l, uint64_t value)
{
    if (value < 4096) /* small integers and NULL: never a device address */
        return;
    uint64_t base = value;
    struct touch t = {.how = GREY_TOUCH_KERNEL, .write = true, .now = l->now, .use = GREY_USE_READ,
                      .before = l->before, .after = l->before + 1};
    for (size_t i = 0; i < l->n; i++)
        if (l->bases[i] == value)
            return;
    if (!tracker_update(value, apply, &t)) {
        /* A pointer into a buffer: the driver names its base (a word that is no device address
         * is refused by the driver and costs one call). */
        if (!owner((CUdeviceptr)value, &base) || base == value)
            return;
        for (size_t i = 0; i < l->n; i++)
            if (l->bases[i] == base)
                return;
        tracker_update(base, apply, &t);
    }
    if (!t.found_bytes)
        return;
    if (l->n < LAUNCH_BUFFERS)
        l->bases[l->n++] = base;
    l->bytes += t.found_bytes;
}

static struct launch_uses launch_begin(void)
{
    return (struct launch_uses){.before = atomic_fetch_add_explicit(&grey_dedup_launches, 1, memory_order_relaxed),
                                .now = grey_ticks()};
}

static void launch_done(const struct launch_uses *l)
{
    if (l->bytes <= atomic_load_explicit(&kernel_peak_bytes, memory_order_relaxed))
        return;
    pthread_mutex_lock(&kernel_peak_lock);
    if (l->bytes > kernel_peak.bytes) {
        kernel_peak = (struct grey_kernel_peak){.bytes = l->bytes, .launch = l->before + 1, .ticks = l->now};
        atomic_store_explicit(&kernel_peak_bytes, l->bytes, memory_order_relaxed);
    }
    pthread_mutex_unlock(&kernel_peak_lock);
}

void grey_dedup_kernel_peak(struct grey_kernel_peak *out)
{
    pthread_mutex_lock(&kernel_peak_lock);
    *out = kernel_peak;
    pthread_mutex_unlock(&kernel_peak_lock);
}

void grey_dedup_launch_uses(const uint64_t *addrs, size_t n)
{
    struct launch_uses l = launch_begin();
    for (size_t i = 0; i < n; i++)
        kernel_touch(&l, addrs[i]);
    launch_done(&l);
}

void grey_dedup_kernel_args(CUfunction f, void **params, void **extra)
{
    struct launch_uses l = launch_begin();
    if (params) {
        const struct layout *lay = layout_of(f);
        if (!lay || lay->state != 1) {
            atomic_fetch_add_explicit(&args_unknown, 1, memory_order_relaxed);
            return;
        }
        for (uint32_t i = 0; i < lay->nparams; i++)
            if ((lay->ptr_mask >> i & 1) && params[i]) {
                uint64_t v;
                memcpy(&v, params[i], sizeof v);
                kernel_touch(&l, v);
            }
        launch_done(&l);
        return;
    }
    /* The packed form: every aligned pointer-sized word of the argument buffer. */
    const unsigned char *buf = NULL;
    size_t size = 0;
    for (size_t i = 0; extra && extra[i] != CU_LAUNCH_PARAM_END && i < 16; i += 2) {
        if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER)
            buf = extra[i + 1];
        else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE && extra[i + 1])
            size = *(const size_t *)extra[i + 1];
    }
    for (size_t off = 0; buf && off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, buf + off, sizeof v);
        kernel_touch(&l, v);
    }
    launch_done(&l);
}

size_t grey_dedup_kernel_pointers(CUfunction f, void **params, uint64_t *out, size_t max)
{
    const struct layout *lay = params ? layout_of(f) : NULL;
    size_t n = 0;
    if (!lay || lay->state != 1)
        return 0;
    for (uint32_t i = 0; i < lay->nparams && n < max; i++)
        if ((lay->ptr_mask >> i & 1) && params[i])
            memcpy(&out[n++], params[i], sizeof *out);
    return n;
}

uint64_t grey_dedup_kernel_args_unknown(void) { return atomic_load_explicit(&args_unknown, memory_order_relaxed); }
