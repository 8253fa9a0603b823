/* The simulated node all three simulators share (build/sim/libcuda.so.1, libamdhip64.so.5 and
 * libnvidia-ml.so.1): the GREY_SIM_* settings and the accounting rule. No vendor type here, so a
 * test environment describes its GPUs once and every API sees the same ones.
 *
 *   GREY_SIM_DEVICES   number of physical GPUs, 0..16 (default 1)
 *   GREY_SIM_VRAM      VRAM per GPU, a size like "24GiB" (default 80GiB)
 *   GREY_SIM_VRAM_<N>  VRAM of physical GPU N, overrides GREY_SIM_VRAM
 *   GREY_SIM_SMS       SM (CUDA) / compute unit (HIP) count (default 132)
 *   GREY_SIM_SMS_<N>   SM count of physical GPU N (so CUDA_DEVICE_ORDER=FASTEST_FIRST can reorder)
 *   GREY_SIM_NAME      device name (default "Grey Simulated GPU")
 *   GREY_SIM_NAME_<N>  name of physical GPU N
 *   GREY_SIM_CC        compute capability "major.minor" of every GPU (default 9.0; CUDA only)
 *   GREY_SIM_MIG       1: every GPU is in MIG mode with SIM_MIG_INSTANCES instances (default 0)
 *   GREY_SIM_MIG_VRAM  memory of each MIG instance (default 20GiB); the instances must fit in
 *                      their GPU
 *   GREY_SIM_SCHED     fifo (default) or timeslice: how a device shares itself between processes
 *                      (sim_sched.h); one model per state file
 *   GREY_SIM_TIMESLICE_US  the time slice of the timeslice model, 1..1000000 (default 2000)
 * Physical GPU N is the N-th in PCI bus order; what a process sees of them (CUDA_VISIBLE_DEVICES,
 * ROCR_VISIBLE_DEVICES, ...) is sim_visible.h's business.
 *
 * Accounting: every allocation counts its size rounded up to SIM_ACCOUNT_GRANULARITY bytes (the
 * granularity at which real drivers hand out small allocations) against its physical device,
 * shared by every process on the machine (sim_usage.h); nothing is reserved for the runtime
 * itself, so free + used == total exactly. */
#ifndef GREY_SIM_SETTINGS_H
#define GREY_SIM_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define SIM_SETTINGS_MAX_DEVICES 16
#define SIM_SETTINGS_NAME_MAX    256
#define SIM_ACCOUNT_GRANULARITY  512ULL
/* Instances per GPU in MIG mode, and what each has (an H100's 3g profile: 60 SMs). */
#define SIM_MIG_INSTANCES        2
#define SIM_MIG_SMS              60

struct sim_gpu_settings {
    char name[SIM_SETTINGS_NAME_MAX];
    int sms;
    uint64_t vram;
};

struct sim_settings {
    int count;                 /* physical GPUs */
    int cc_major, cc_minor;
    bool mig;
    uint64_t mig_vram;         /* per instance */
    int sched;                 /* enum sim_sched_mode; SIM_SCHED_UNSET: follow the state file */
    uint32_t timeslice_us;     /* 0: not set */
    struct sim_gpu_settings gpu[SIM_SETTINGS_MAX_DEVICES];
};

/* Reads the GREY_SIM_* settings. 0, or -1 after printing "simgpu: VARIABLE: reason" on stderr
 * for the first malformed one (the caller then fails its init, so a broken test setup fails
 * loudly instead of running on defaults). */
int sim_settings_load(struct sim_settings *out);

/* The bytes an allocation of n counts (n rounded up to the granularity); 0 when that overflows. */
static inline uint64_t sim_accounted_bytes(uint64_t n)
{
    uint64_t r = (n + SIM_ACCOUNT_GRANULARITY - 1) & ~(SIM_ACCOUNT_GRANULARITY - 1);
    return r < n ? 0 : r;
}

#pragma GCC visibility pop

#endif
