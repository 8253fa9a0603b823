/* GREY_SIM_TRACE=1: one line per cuGetProcAddress miss, per export-table request or call, and per
 * reason the simulators fall back to something less than they model (sim_trace.c). No vendor type
 * here, so the HIP runtime and NVML share it with the CUDA driver. */
#ifndef GREY_SIM_TRACE_H
#define GREY_SIM_TRACE_H

#include <stdbool.h>

#pragma GCC visibility push(hidden)

bool sim_trace_on(void);
void sim_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#pragma GCC visibility pop

#endif
