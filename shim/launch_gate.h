/* The one gate every kernel launch passes, whatever the vendor or entry point (cuLaunchKernel,
 * hipLaunchKernel, hipModuleLaunchKernel, graph launches, ...): counted in the process's ledger
 * slot now; the fair-share pacer will decide here how long a launch waits, for every vendor at
 * once. One relaxed atomic add: no lock, no syscall. */
#ifndef GREY_LAUNCH_GATE_H
#define GREY_LAUNCH_GATE_H

#include "../preload/hook.h"

static inline void grey_launch_gate(void)
{
    atomic_fetch_add_explicit(&grey_self()->slot->launches, 1, memory_order_relaxed);
}

#endif
