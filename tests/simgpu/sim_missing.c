/* GREY_SIM_STUB_MISSING=1, a debugging aid: a cuGetProcAddress request the simulator cannot
 * answer gets a stub instead of NULL; the stub prints "simgpu: missing NAME called" on stderr and
 * returns CUDA_ERROR_NOT_SUPPORTED. A runtime or library that fails with
 * cudaErrorCallRequiresNewerDriver shows this way which missing entry point it actually called
 * (GREY_SIM_TRACE=1 lists every one it merely asked for). The stubs take no arguments: calling
 * them with any is harmless on the x86-64 and AArch64 calling conventions, and this mode is for
 * diagnosis only, never for the tests' results. */
#include "sim_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

static const char *slot_name[SLOTS];
static unsigned slot_count;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;

static CUresult missing_called(unsigned i)
{
    fprintf(stderr, "simgpu: missing %s called\n", slot_name[i] ? slot_name[i] : "?");
    return CUDA_ERROR_NOT_SUPPORTED;
}

#define STUB(i) static CUresult stub_##i(void) { return missing_called(0##i); } /* 0##i: octal, as REF orders them */
#define STUB8(i) STUB(i##0) STUB(i##1) STUB(i##2) STUB(i##3) STUB(i##4) STUB(i##5) STUB(i##6) STUB(i##7)
#define STUB64(i) STUB8(i##0) STUB8(i##1) STUB8(i##2) STUB8(i##3) STUB8(i##4) STUB8(i##5) STUB8(i##6) STUB8(i##7)
STUB64(0) STUB64(1) STUB64(2) STUB64(3) STUB64(4) STUB64(5) STUB64(6) STUB64(7)

#define REF(i) stub_##i,
#define REF8(i) REF(i##0) REF(i##1) REF(i##2) REF(i##3) REF(i##4) REF(i##5) REF(i##6) REF(i##7)
#define REF64(i) REF8(i##0) REF8(i##1) REF8(i##2) REF8(i##3) REF8(i##4) REF8(i##5) REF8(i##6) REF8(i##7)
/* Octal indices: stub_0123 is slot 0123 (83), so REF64(0)..REF64(7) fill 0..511 in order. */
static CUresult (*const stubs[SLOTS])(void) = {REF64(0) REF64(1) REF64(2) REF64(3) REF64(4) REF64(5) REF64(6)
                                                   REF64(7)};

CUresult sim_not_modelled(const char *name)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    sim_trace("%s: not modelled by the simulator, CUDA_ERROR_NOT_SUPPORTED", name);
    return CUDA_ERROR_NOT_SUPPORTED;
}

static bool stub_missing_on(void)
{
    const char *v = getenv("GREY_SIM_STUB_MISSING");
    return v && v[0] == '1';
}

void *sim_missing_stub(const char *symbol)
{
    if (!stub_missing_on())
        return NULL;
    void *fn = NULL;
    pthread_mutex_lock(&slot_lock);
    for (unsigned i = 0; i < slot_count && !fn; i++)
        if (strcmp(slot_name[i], symbol) == 0)
            fn = (void *)stubs[i];
    if (!fn && slot_count < SLOTS) {
        char *name = strdup(symbol);
        if (name) {
            slot_name[slot_count] = name;
            fn = (void *)stubs[slot_count++];
        }
    }
    pthread_mutex_unlock(&slot_lock);
    return fn;
}
