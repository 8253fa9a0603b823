/* Which scheduling model a state file's devices follow (sim_sched.h): one for every process on
 * the file, since a device cannot be a FIFO for some processes and time-sliced for others.
 *
 * The first process to initialize on a new file stamps its choice (GREY_SIM_SCHED, default fifo,
 * and GREY_SIM_TIMESLICE_US); every later one follows the file. A process that explicitly asks
 * for something else is refused (its init fails with one line on stderr) rather than silently
 * measured under the other model: a test that wants time slices must then use a state file of
 * its own (GREY_SIM_STATE), which it should anyway, since the default file outlives every test
 * and most processes on it are FIFO ones. The time slice is stamped before the mode, so a
 * process that sees the mode also sees the slice. */
#include "sim_sched.h"
#include "sim_state.h"

#include <stdio.h>

static const char *mode_name(uint32_t m)
{
    return m == SIM_SCHED_TIMESLICE ? "timeslice" : "fifo";
}

int sim_sched_adopt(enum sim_sched_mode want, uint32_t slice_us)
{
    struct sim_state *s = sim_state();
    uint32_t slice = slice_us ? slice_us : SIM_SCHED_DEFAULT_SLICE_US, unset = 0;
    atomic_compare_exchange_strong(&s->timeslice_us, &unset, slice);
    unset = SIM_SCHED_UNSET;
    atomic_compare_exchange_strong(&s->sched_mode, &unset, want == SIM_SCHED_UNSET ? SIM_SCHED_FIFO : want);
    uint32_t mode = atomic_load(&s->sched_mode), file_slice = atomic_load(&s->timeslice_us);
    if (want != SIM_SCHED_UNSET && mode != (uint32_t)want) {
        fprintf(stderr, "simgpu: GREY_SIM_SCHED: '%s' asked, but the state file's devices are '%s' "
                        "(the first process on it chose); give this test a GREY_SIM_STATE of its own\n",
                mode_name(want), mode_name(mode));
        return -1;
    }
    if (slice_us && mode == SIM_SCHED_TIMESLICE && file_slice != slice_us) {
        fprintf(stderr, "simgpu: GREY_SIM_TIMESLICE_US: %u asked, but the state file's devices use %u "
                        "(the first process on it chose); give this test a GREY_SIM_STATE of its own\n",
                slice_us, file_slice);
        return -1;
    }
    return 0;
}

enum sim_sched_mode sim_sched_mode(void)
{
    return atomic_load_explicit(&sim_state()->sched_mode, memory_order_relaxed) == SIM_SCHED_TIMESLICE
               ? SIM_SCHED_TIMESLICE
               : SIM_SCHED_FIFO;
}
