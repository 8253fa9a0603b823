/* The simulated HIP runtime's window onto the device timeline of the simulated CUDA driver
 * (../sim_timeline.c, linked into both): HIP kernels queue on the same per-device FIFO, shared by
 * every process through GREY_SIM_STATE, so HIP and CUDA processes (and HIP processes among
 * themselves) occupy simulated device time exactly as CUDA ones do, GREY_SIM_KERNEL_US included.
 *
 * This file speaks the CUDA simulator's types (it includes ../sim_internal.h, not hsim.h: the two
 * vendors' headers are kept apart) and hands hsim_time.c plain functions (declared in hsim.h).
 * Each physical GPU a HIP process uses stands for one context of the CUDA simulator's, used only
 * for its physical id (whose timeline kernels join) and the completion time of its latest work
 * (hipDeviceSynchronize). Under GREY_SIM_SCHED=timeslice the values are the CUDA simulator's
 * stamps (positions in this process's queue on the device, sim_sched.h), which only these
 * functions interpret: hsim_time.c stores and passes them along. */
#include "tests/simgpu/sim_internal.h"
#include "tests/simgpu/sim_node.h"

#include <stdatomic.h>

uint64_t hsim_tl_kernel(int phys, _Atomic uint64_t *tail, uint64_t ns);
uint64_t hsim_tl_enqueue(int phys, _Atomic uint64_t *tail, uint64_t ns);
uint64_t hsim_tl_default_ns(void);
void hsim_tl_wait(int phys, uint64_t stamp);
bool hsim_tl_settle(int phys, _Atomic uint64_t *stamp, uint64_t *t_ns);
uint64_t hsim_tl_device_done(int phys);

static struct CUctx_st contexts[SIM_PHYS_MAX];

static CUcontext context_of(int phys)
{
    if (phys < 0 || phys >= SIM_PHYS_MAX)
        phys = 0;
    contexts[phys].phys = phys; /* the same value from every thread: a benign plain store */
    return &contexts[phys];
}

_Static_assert(sizeof(sim_timeline) == sizeof(_Atomic uint64_t), "a stream tail is a sim_timeline");

uint64_t hsim_tl_kernel(int phys, _Atomic uint64_t *tail, uint64_t ns)
{
    return sim_timeline_kernel(context_of(phys), (sim_timeline *)tail, ns);
}

uint64_t hsim_tl_enqueue(int phys, _Atomic uint64_t *tail, uint64_t ns)
{
    return sim_timeline_enqueue(context_of(phys), (sim_timeline *)tail, ns);
}

uint64_t hsim_tl_default_ns(void)
{
    return sim_default_kernel_ns();
}

void hsim_tl_wait(int phys, uint64_t stamp)
{
    sim_timeline_wait(phys, stamp);
}

bool hsim_tl_settle(int phys, _Atomic uint64_t *stamp, uint64_t *t_ns)
{
    return sim_timeline_settle(phys, stamp, t_ns);
}

uint64_t hsim_tl_device_done(int phys)
{
    return atomic_load(&context_of(phys)->last_done_ns);
}
