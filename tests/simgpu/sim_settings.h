/* The simulated device model both simulated runtimes share (build/sim/libcuda.so.1 and
 * build/sim/libamdhip64.so.5): the GREY_SIM_* settings and the accounting rule. No vendor type
 * here, so a test environment describes its devices once and both APIs see the same ones.
 *
 *   GREY_SIM_DEVICES   number of devices, 0..16 (default 1)
 *   GREY_SIM_VRAM      VRAM per device, a size like "24GiB" (default 80GiB)
 *   GREY_SIM_VRAM_<N>  VRAM of device N, overrides GREY_SIM_VRAM
 *   GREY_SIM_SMS       SM (CUDA) / compute unit (HIP) count (default 132)
 *   GREY_SIM_NAME      device name (default "Grey Simulated GPU"), the same on every device
 *   GREY_SIM_CC        compute capability "major.minor" (default 9.0; CUDA only)
 *
 * Accounting: every allocation counts its size rounded up to SIM_ACCOUNT_GRANULARITY bytes (the
 * granularity at which real drivers hand out small allocations) against its device's VRAM, with a
 * compare-and-swap so concurrent allocations never together exceed it; nothing is reserved for the
 * runtime itself, so free + used == total exactly. */
#ifndef GREY_SIM_SETTINGS_H
#define GREY_SIM_SETTINGS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define SIM_SETTINGS_MAX_DEVICES 16
#define SIM_SETTINGS_NAME_MAX    256
#define SIM_ACCOUNT_GRANULARITY  512ULL

struct sim_settings {
    int count;
    int sms;
    int cc_major, cc_minor;
    char name[SIM_SETTINGS_NAME_MAX];
    uint64_t vram[SIM_SETTINGS_MAX_DEVICES];
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

/* Counts n more bytes in *used against total; false (nothing counted) when they do not fit. */
bool sim_vram_take(_Atomic uint64_t *used, uint64_t total, uint64_t n);
void sim_vram_give(_Atomic uint64_t *used, uint64_t n);

#pragma GCC visibility pop

#endif
