/* Opt-in tracing of the driver's private surface: GREY_SIM_TRACE=1 prints, on stderr, each
 * cuGetProcAddress request the simulator cannot answer and each cuGetExportTable request and
 * export-table call. This is how one finds out what a new CUDA runtime asks of the driver: run
 * an nvcc-built program on the simulator with GREY_SIM_TRACE=1 and read what it missed.
 * The setting is read once; with it unset, tracing costs one relaxed atomic load. */
#include "sim_trace.h"

#include <pthread.h>
#include <stdatomic.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static atomic_bool trace_enabled;

static void trace_init(void)
{
    const char *v = getenv("GREY_SIM_TRACE");
    atomic_store(&trace_enabled, v && *v && !(v[0] == '0' && v[1] == '\0'));
}

bool sim_trace_on(void)
{
    pthread_once(&trace_once, trace_init);
    return atomic_load_explicit(&trace_enabled, memory_order_relaxed);
}

void sim_trace(const char *fmt, ...)
{
    if (!sim_trace_on())
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "simgpu-trace: %s\n", line);
}
