/* Allocates BYTES with cuMemAlloc, says whether it got them, and holds them until told to let
 * go: for tests that look at the ledger while processes hold memory.
 *
 *   prog_hold BYTES STATUS_FILE RELEASE_FILE [--exit-without-free]
 *
 * STATUS_FILE gets "ok PID" or "denied PID" (written whole: to a temporary name, then renamed),
 * then the program waits until RELEASE_FILE exists (or SIGTERM/SIGUSR1), frees and exits.
 * --exit-without-free leaves the memory allocated at exit, as a crashing job would, so that
 * the hook's exit path has to give it back. Exit status: 0 allocated, 3 denied with
 * CUDA_ERROR_OUT_OF_MEMORY, 1 anything else. */
#include <cuda.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--exit-without-free") != 0)) {
        fprintf(stderr, "usage: prog_hold BYTES STATUS_FILE RELEASE_FILE [--exit-without-free]\n");
        return 1;
    }
    unsigned long long bytes = strtoull(argv[1], NULL, 10);
    signal(SIGTERM, on_release);
    signal(SIGUSR1, on_release);

    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        report(argv[2], "error");
        return 1;
    }
    CUdeviceptr p = 0;
    CUresult rc = cuMemAlloc(&p, (size_t)bytes);
    report(argv[2], rc == CUDA_SUCCESS ? "ok" : rc == CUDA_ERROR_OUT_OF_MEMORY ? "denied" : "error");
    while (!released && access(argv[3], F_OK) != 0)
        usleep(10000);
    if (rc == CUDA_SUCCESS && argc == 4 && cuMemFree(p) != CUDA_SUCCESS) {
        fprintf(stderr, "prog_hold: cuMemFree failed\n");
        return 1;
    }
    return rc == CUDA_SUCCESS ? 0 : rc == CUDA_ERROR_OUT_OF_MEMORY ? 3 : 1;
}
