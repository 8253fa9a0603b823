/* Allocates BYTES, says whether it got them, and holds them until told to let go: for tests that
 * look at the ledger while processes hold memory.
 *
 *   prog_hold BYTES STATUS_FILE RELEASE_FILE [--device N] [--hip] [--exit-without-free]
 *
 * With cuMemAlloc on device N (default 0) in its primary context, or with --hip, hipMalloc after
 * hipSetDevice(N) (the HIP runtime found by dlopen, so that the program needs no HIP library
 * to be built).
 *
 * STATUS_FILE gets "ok PID" or "denied PID" (written whole: to a temporary name, then renamed),
 * then the program waits until RELEASE_FILE exists (or SIGTERM/SIGUSR1), frees and exits.
 * --exit-without-free leaves the memory allocated at exit, as a crashing job would, so that
 * the hook's exit path has to give it back. Exit status: 0 allocated, 3 denied with the API's
 * out-of-memory error, 1 anything else. */
#include <cuda.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum outcome { HELD, DENIED, FAILED };

static volatile sig_atomic_t released;
static void on_release(int sig) { (void)sig; released = 1; }

static void report(const char *path, const char *what)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s %d\n", what, (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        perror("prog_hold: status file");
        exit(1);
    }
}

static CUdeviceptr cuda_ptr;

static enum outcome cuda_alloc(int device, unsigned long long bytes)
{
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, device) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS)
        return FAILED;
    CUresult rc = cuMemAlloc(&cuda_ptr, (size_t)bytes);
    return rc == CUDA_SUCCESS ? HELD : rc == CUDA_ERROR_OUT_OF_MEMORY ? DENIED : FAILED;
}

static bool cuda_free(void) { return cuMemFree(cuda_ptr) == CUDA_SUCCESS; }

/* hipSuccess 0, hipErrorOutOfMemory 2 (hip_runtime_api.h). */
static int (*hip_set_device)(int);
static int (*hip_malloc)(void **, size_t);
static int (*hip_free)(void *);
static void *hip_ptr;

static enum outcome hip_alloc(int device, unsigned long long bytes)
{
    void *lib = dlopen("libamdhip64.so", RTLD_NOW | RTLD_GLOBAL);
    if (!lib)
        return FAILED;
    *(void **)&hip_set_device = dlsym(lib, "hipSetDevice");
    *(void **)&hip_malloc = dlsym(lib, "hipMalloc");
    *(void **)&hip_free = dlsym(lib, "hipFree");
    if (!hip_set_device || !hip_malloc || !hip_free || hip_set_device(device) != 0)
        return FAILED;
    int rc = hip_malloc(&hip_ptr, (size_t)bytes);
    return rc == 0 ? HELD : rc == 2 ? DENIED : FAILED;
}

static bool hip_release(void) { return hip_free(hip_ptr) == 0; }

int main(int argc, char **argv)
{
    int device = 0;
    bool hip = false, keep = false, usage = argc < 4;
    for (int i = 4; i < argc && !usage; i++) {
        if (strcmp(argv[i], "--exit-without-free") == 0)
            keep = true;
        else if (strcmp(argv[i], "--hip") == 0)
            hip = true;
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = atoi(argv[++i]);
        else
            usage = true;
    }
    if (usage) {
        fprintf(stderr, "usage: prog_hold BYTES STATUS_FILE RELEASE_FILE [--device N] [--hip] [--exit-without-free]\n");
        return 1;
    }
    unsigned long long bytes = strtoull(argv[1], NULL, 10);
    signal(SIGTERM, on_release);
    signal(SIGUSR1, on_release);

    enum outcome got = hip ? hip_alloc(device, bytes) : cuda_alloc(device, bytes);
    report(argv[2], got == HELD ? "ok" : got == DENIED ? "denied" : "error");
    if (got == FAILED)
        return 1;
    while (!released && access(argv[3], F_OK) != 0)
        usleep(10000);
    if (got == HELD && !keep && !(hip ? hip_release() : cuda_free())) {
        fprintf(stderr, "prog_hold: freeing failed\n");
        return 1;
    }
    return got == HELD ? 0 : 3;
}
