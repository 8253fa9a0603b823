/* The private tables cuFFT 12 (CUDA 13) asks for in cufftPlan1d, 21318c60-9714-3248-8ca6-
 * 41ff7324c8f2 and then 6e163fbe-b958-444d-835c-e182aff1991e; cuBLASLt 13 asks for the first
 * too. Nothing about them is documented, not even by ZLUDA's dark_api, which lists the
 * runtime's tables only. Without the first, cufftPlan1d fails with CUFFT_INTERNAL_ERROR at once;
 * with it, it asks for the second. The simulator answers each with a table of traced stubs that
 * fail with CUDA_ERROR_NOT_SUPPORTED, and a size word as the runtime's tables have (a guess:
 * whether these have one is not known), so that GREY_SIM_TRACE=1 shows which entries are called.
 *
 * Two entries are answered. The first is 21318c60[4], which cuBLASLt calls with what tools-TLS entry 2 gave
 * (sim_small_tables.c: the current context) and an out pointer, and whose 64-bit answer it
 * uses as the key of the contexts it has loaded its kernels into. The simulator answers with a
 * number that names the context while it lives (its address): an inference from that use, not
 * documented behaviour (docs/simgpu.md). cuFFT calls it too once it has its kernels.
 *
 * The second is 6e163fbe[7], which cufftPlan1d calls after each cuModuleLoadData of a kernel image
 * it carries (each holds one kernel and the variables lut_sp and lut_dp, sim_fatbin.c), with the
 * current context, the new module, a function of libcufft's and a pointer to a CUfunction it has
 * zeroed. Read from libcufft.so.12's machine code: that function stores its second argument
 * through its first (*(void **)a = b), the call's answer counts as success only when it is 1
 * (anything else, CUDA_SUCCESS included, makes the plan fail with CUFFT_INTERNAL_ERROR, as does a
 * null CUfunction afterwards), and the same path, when cuFFT knows the kernel's name, calls
 * cuModuleGetFunction instead. So the entry hands each kernel of the module to a callback, with
 * the caller's pointer as the callback's first argument: the simulator calls it once for each
 * kernel the image declares and answers 1 when there was one. Whether 1 is a count, a boolean or
 * a status of its own is not known, nor what the real driver does with several kernels; a module
 * without known kernels (an image the simulator cannot read) is answered 0, a failure. */
#include "sim_internal.h"

#include <stdint.h>

SIM_UNKNOWN_ENTRY(fft, 1)
SIM_UNKNOWN_ENTRY(fft, 2)
SIM_UNKNOWN_ENTRY(fft, 3)

static CUresult fft_context_key(CUcontext ctx, unsigned long long *out)
{
    CUresult r = ctx && out ? sim_ctx_check(ctx) : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        *out = (unsigned long long)(uintptr_t)ctx;
    sim_trace("export table fft[4](ctx %p): %d", (void *)ctx, (int)r);
    return r;
}
SIM_UNKNOWN_ENTRY(fft, 5)
SIM_UNKNOWN_ENTRY(fft, 6)
SIM_UNKNOWN_ENTRY(fft, 7)
SIM_UNKNOWN_ENTRY(fft, 8)
SIM_UNKNOWN_ENTRY(fft, 9)
SIM_UNKNOWN_ENTRY(fft, 10)
SIM_UNKNOWN_ENTRY(fft, 11)
SIM_UNKNOWN_ENTRY(fft, 12)
SIM_UNKNOWN_ENTRY(fft, 13)
SIM_UNKNOWN_ENTRY(fft, 14)
SIM_UNKNOWN_ENTRY(fft, 15)

static const void *const fft_table[16] = {
    (const void *)(sizeof(void *) * 16),
    (const void *)unknown_fft_1, (const void *)unknown_fft_2, (const void *)unknown_fft_3,
    (const void *)fft_context_key, (const void *)unknown_fft_5, (const void *)unknown_fft_6,
    (const void *)unknown_fft_7, (const void *)unknown_fft_8, (const void *)unknown_fft_9,
    (const void *)unknown_fft_10, (const void *)unknown_fft_11, (const void *)unknown_fft_12,
    (const void *)unknown_fft_13, (const void *)unknown_fft_14, (const void *)unknown_fft_15,
};

const void *sim_table_fft(void) { return fft_table; }

SIM_UNKNOWN_ENTRY(fft2, 1)
SIM_UNKNOWN_ENTRY(fft2, 2)
SIM_UNKNOWN_ENTRY(fft2, 3)
SIM_UNKNOWN_ENTRY(fft2, 4)
SIM_UNKNOWN_ENTRY(fft2, 5)
SIM_UNKNOWN_ENTRY(fft2, 6)
typedef void (*fft2_kernel_fn)(void *arg, CUfunction f);

static int fft2_module_kernels(CUcontext ctx, CUmodule mod, fft2_kernel_fn each, void *arg)
{
    unsigned n = 0;
    CUresult r = ctx && each ? sim_ctx_check(ctx) : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        r = sim_module_kernels(mod, each, arg, &n);
    sim_trace("export table fft2[7](ctx %p, module %p): %d, %u kernels", (void *)ctx, (void *)mod,
              (int)r, n);
    return r == CUDA_SUCCESS && n > 0 ? 1 : 0;
}

static const void *const fft2_table[8] = {
    (const void *)(sizeof(void *) * 8),
    (const void *)unknown_fft2_1, (const void *)unknown_fft2_2, (const void *)unknown_fft2_3,
    (const void *)unknown_fft2_4, (const void *)unknown_fft2_5, (const void *)unknown_fft2_6,
    (const void *)fft2_module_kernels,
};

const void *sim_table_fft2(void) { return fft2_table; }
