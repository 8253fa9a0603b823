/* The small export tables whose entries hand back fixed or trivially found answers: the tools
 * TLS table, the tools runtime-callback hooks and the context checks.
 *
 * Layout of every table here: word 0 is the table's size in bytes, the others are functions.
 * Entries whose meaning is unknown are SIM_UNKNOWN_ENTRY stubs (traced, failing) rather than
 * NULL, so that a runtime that starts calling one shows up under GREY_SIM_TRACE=1. */
#include "sim_internal.h"

/* ------------------------------------------------------------------ tools TLS (42d85a81-...) */
/* Four words; the runtime only reads the size. cuBLASLt 13 calls entry 2 with one out pointer
 * before it loads its kernels into a context, hands what it got to entry 4 of table 21318c60
 * (sim_fft_table.c) and keys its per-context kernel set by the answer; when entry 2 fails it
 * loads nothing and finds no algorithm (cublasSgemm: CUBLAS_STATUS_NOT_SUPPORTED). Nothing
 * about the entry is documented; the simulator answers with this thread's current context, the
 * only per-thread state a driver has that fits what cuBLASLt does with it (docs/simgpu.md). */
SIM_UNKNOWN_ENTRY(tools_tls, 1)
SIM_UNKNOWN_ENTRY(tools_tls, 3)

static CUresult tools_tls_current(CUcontext *out)
{
    CUcontext ctx = NULL;
    CUresult r = out ? cuCtxGetCurrent(&ctx) : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS && !ctx)
        r = CUDA_ERROR_INVALID_CONTEXT;
    if (r == CUDA_SUCCESS)
        *out = ctx;
    sim_trace("export table tools_tls[2](): context %p: %d", (void *)ctx, (int)r);
    return r;
}

static const void *const tools_tls[4] = {
    (const void *)(sizeof(void *) * 4),
    (const void *)unknown_tools_tls_1,
    (const void *)tools_tls_current,
    (const void *)unknown_tools_tls_3,
};

const void *sim_table_tools_tls(void) { return tools_tls; }

/* ------------------------------------------------------------------ tools hooks (a094798c-...) */
/* Entries 2 and 6 hand the runtime two buffers (pointer and size) in which it keeps the state
 * that profiling tools would read. The runtime refuses to start when they are missing. The sizes
 * reported are element counts of 32-bit words; the storage is that many words. */
static uint32_t tools_buffer1[1024];
static uint32_t tools_buffer2[14];

static void tools_get_buffer1(void **ptr, size_t *size)
{
    sim_trace("export table tools_hooks[2]: buffer %p, %zu", (void *)tools_buffer1,
              sizeof tools_buffer1 / sizeof tools_buffer1[0]);
    if (ptr)
        *ptr = tools_buffer1;
    if (size)
        *size = sizeof tools_buffer1 / sizeof tools_buffer1[0];
}

static void tools_get_buffer2(void **ptr, size_t *size)
{
    sim_trace("export table tools_hooks[6]: buffer %p, %zu", (void *)tools_buffer2,
              sizeof tools_buffer2 / sizeof tools_buffer2[0]);
    if (ptr)
        *ptr = tools_buffer2;
    if (size)
        *size = sizeof tools_buffer2 / sizeof tools_buffer2[0];
}

SIM_UNKNOWN_ENTRY(tools_hooks, 1)
SIM_UNKNOWN_ENTRY(tools_hooks, 3)
SIM_UNKNOWN_ENTRY(tools_hooks, 4)
SIM_UNKNOWN_ENTRY(tools_hooks, 5)

static const void *const tools_hooks[7] = {
    (const void *)(sizeof(void *) * 7),
    (const void *)unknown_tools_hooks_1,
    (const void *)tools_get_buffer1,
    (const void *)unknown_tools_hooks_3,
    (const void *)unknown_tools_hooks_4,
    (const void *)unknown_tools_hooks_5,
    (const void *)tools_get_buffer2,
};

const void *sim_table_tools_hooks(void) { return tools_hooks; }

/* ------------------------------------------------------------------ context checks (263e8860-...) */
/* Entry 2 reports flags of a context (always 0 on hardware as far as anyone has seen); entry 3
 * a global flag, also 0. */
static CUresult ctx_check(CUcontext ctx, uint32_t *result1, const void **result2)
{
    (void)result2;
    sim_trace("export table ctx_checks[2](ctx %p)", (void *)ctx);
    if (result1)
        *result1 = 0;
    return CUDA_SUCCESS;
}

static uint32_t ctx_check_global(void)
{
    sim_trace("export table ctx_checks[3]()");
    return 0;
}

SIM_UNKNOWN_ENTRY(ctx_checks, 1)

static const void *const ctx_checks[4] = {
    (const void *)(sizeof(void *) * 4),
    (const void *)unknown_ctx_checks_1,
    (const void *)ctx_check,
    (const void *)ctx_check_global,
};

const void *sim_table_ctx_checks(void) { return ctx_checks; }
