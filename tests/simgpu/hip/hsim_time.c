/* Simulated HIP time: stream and device synchronization, and events (hipEventCreate, Record,
 * Query, Synchronize, ElapsedTime, Destroy), on the device timeline shared with the simulated
 * CUDA driver (see hsim.h and hsim_timeline.c). An event completes when the work queued on its
 * stream before it has; ElapsedTime is the distance between two completed events in ms. */
#include "hsim.h"

#include <stdlib.h>

struct hsim_event {
    _Atomic uint64_t done_ns;  /* a stamp (hsim_tl_*) */
    _Atomic int phys;          /* the device it was recorded on: whose queue a stamp is in */
    atomic_bool recorded;
};

static _Atomic uint64_t null_stream[SIM_SETTINGS_MAX_DEVICES];
static _Thread_local hsim_stream per_thread_stream;

/* The timeline behind a valid stream argument, and its device. */
static _Atomic uint64_t *tail_of(hipStream_t s, int *dev)
{
    if (s == NULL) {
        *dev = hsim_current_device();
        return &null_stream[*dev];
    }
    if (s == hipStreamPerThread) {
        *dev = hsim_current_device();
        return &per_thread_stream.tail_ns;
    }
    hsim_stream *st = (hsim_stream *)s;
    *dev = st->dev;
    return &st->tail_ns;
}

void hsim_kernel(hipStream_t s, uint64_t ns)
{
    int dev;
    _Atomic uint64_t *tail = tail_of(s, &dev);
    hsim_tl_kernel(hsim_devices[dev].phys, tail, ns);
}

uint64_t hsim_kernel_default_ns(void)
{
    return hsim_tl_default_ns();
}

void hsim_device_wait(int dev)
{
    int phys = hsim_devices[dev].phys;
    hsim_tl_wait(phys, hsim_tl_device_done(phys));
}

hipError_t hipStreamSynchronize(hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    int dev;
    _Atomic uint64_t *tail = tail_of(stream, &dev);
    hsim_tl_wait(hsim_devices[dev].phys, atomic_load(tail));
    return hipSuccess;
}

hipError_t hipStreamQuery(hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    int dev;
    uint64_t t;
    _Atomic uint64_t *tail = tail_of(stream, &dev);
    return hsim_tl_settle(hsim_devices[dev].phys, tail, &t) ? hipSuccess : hipErrorNotReady;
}

hipError_t hipDeviceSynchronize(void)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    hsim_device_wait(hsim_current_device());
    return hipSuccess;
}

/* ------------------------------------------------------------------ events */

hipError_t hipEventCreateWithFlags(hipEvent_t *event, unsigned flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    (void)flags;
    if (!event)
        return hipErrorInvalidValue;
    struct hsim_event *e = calloc(1, sizeof *e);
    if (!e)
        return hipErrorOutOfMemory;
    hsim_handle_add(e, HSIM_H_EVENT);
    *event = (hipEvent_t)e;
    return hipSuccess;
}

hipError_t hipEventCreate(hipEvent_t *event)
{
    return hipEventCreateWithFlags(event, hipEventDefault);
}

hipError_t hipEventDestroy(hipEvent_t event)
{
    if (!event || !hsim_handle_take(event, HSIM_H_EVENT))
        return hipErrorInvalidHandle;
    free(event);
    return hipSuccess;
}

hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!event || !hsim_handle_live(event, HSIM_H_EVENT) || !hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    struct hsim_event *e = (struct hsim_event *)event;
    int dev;
    _Atomic uint64_t *tail = tail_of(stream, &dev);
    atomic_store(&e->phys, hsim_devices[dev].phys);
    atomic_store(&e->done_ns, hsim_tl_enqueue(hsim_devices[dev].phys, tail, 0));
    atomic_store(&e->recorded, true);
    return hipSuccess;
}

/* Never recorded: complete (HIP's answer too). */
hipError_t hipEventQuery(hipEvent_t event)
{
    if (!event || !hsim_handle_live(event, HSIM_H_EVENT))
        return hipErrorInvalidHandle;
    struct hsim_event *e = (struct hsim_event *)event;
    uint64_t t;
    return hsim_tl_settle(atomic_load(&e->phys), &e->done_ns, &t) ? hipSuccess : hipErrorNotReady;
}

hipError_t hipEventSynchronize(hipEvent_t event)
{
    if (!event || !hsim_handle_live(event, HSIM_H_EVENT))
        return hipErrorInvalidHandle;
    struct hsim_event *e = (struct hsim_event *)event;
    uint64_t t;
    hsim_tl_wait(atomic_load(&e->phys), atomic_load(&e->done_ns));
    hsim_tl_settle(atomic_load(&e->phys), &e->done_ns, &t); /* keep its time */
    return hipSuccess;
}

hipError_t hipEventElapsedTime(float *ms, hipEvent_t start, hipEvent_t stop)
{
    if (!ms)
        return hipErrorInvalidValue;
    if (!start || !stop || !hsim_handle_live(start, HSIM_H_EVENT) || !hsim_handle_live(stop, HSIM_H_EVENT))
        return hipErrorInvalidHandle;
    struct hsim_event *a = (struct hsim_event *)start, *b = (struct hsim_event *)stop;
    if (!atomic_load(&a->recorded) || !atomic_load(&b->recorded))
        return hipErrorInvalidHandle;
    uint64_t ta, tb;
    if (!hsim_tl_settle(atomic_load(&a->phys), &a->done_ns, &ta) ||
        !hsim_tl_settle(atomic_load(&b->phys), &b->done_ns, &tb))
        return hipErrorNotReady;
    *ms = (float)(((double)tb - (double)ta) / 1e6);
    return hipSuccess;
}
