/* hipMallocManaged and hipExtMallocWithFlags. On the simulator managed, fine-grained and uncached
 * memory are all device memory the host can touch, which every simulated allocation is; both are
 * counted against VRAM and freed by hipFree.
 *
 * Both allocate by calling the exported hipMalloc, through the PLT (this library is linked without
 * -Bsymbolic and compiled with semantic interposition, so the call binds like any other
 * program's): the runtime re-entering its own exported API, as ROCm 7's HIP was reported to do.
 * Under LD_PRELOAD that inner call reaches grey's hipMalloc wrapper, which must not count the
 * memory a second time (shim/hip_shim.h); under LD_AUDIT it does not reach grey at all. */
#include "hsim.h"

hipError_t hipMallocManaged(void **ptr, size_t size, unsigned int flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!ptr || (flags != hipMemAttachGlobal && flags != hipMemAttachHost))
        return hipErrorInvalidValue;
    return hipMalloc(ptr, size);
}

hipError_t hipExtMallocWithFlags(void **ptr, size_t size, unsigned int flags)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    /* hipDeviceMallocDefault, Finegrained, Signal (2), Uncached (3) */
    if (!ptr || flags > 3)
        return hipErrorInvalidValue;
    return hipMalloc(ptr, size);
}
