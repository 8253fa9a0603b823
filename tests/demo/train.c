/* A stand-in for a training job, written against the CUDA driver API the way a framework uses
 * it: load weights, keep optimizer state, and each step try the largest batch whose activations
 * fit, halving it when the device says out of memory (what autotuning batch-size finders do).
 * Under a grey cap the job adapts instead of dying, and grey-run reports the denials.
 *
 *   train [--steps N] [--weights-mib N] */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1ull << 20)

static void die(const char *what, CUresult rc)
{
    const char *name = "?";
    cuGetErrorName(rc, &name);
    fprintf(stderr, "train: %s failed: %s\n", what, name);
    exit(1);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines in order with grey's on stderr */
    int steps = 5;
    unsigned long long weights_mib = 768;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--weights-mib") == 0)
            weights_mib = strtoull(argv[i + 1], NULL, 10);
    }

    CUresult rc;
    CUdevice dev;
    CUcontext ctx;
    if ((rc = cuInit(0)) != CUDA_SUCCESS) die("cuInit", rc);
    if ((rc = cuDeviceGet(&dev, 0)) != CUDA_SUCCESS) die("cuDeviceGet", rc);
    if ((rc = cuDevicePrimaryCtxRetain(&ctx, dev)) != CUDA_SUCCESS) die("cuDevicePrimaryCtxRetain", rc);
    if ((rc = cuCtxSetCurrent(ctx)) != CUDA_SUCCESS) die("cuCtxSetCurrent", rc);

    char name[128];
    size_t free_b, total_b;
    cuDeviceGetName(name, sizeof name, dev);
    cuMemGetInfo(&free_b, &total_b);
    printf("train: device \"%s\", %.1f GiB visible, %.1f GiB free\n", name, total_b / 1073741824.0,
           free_b / 1073741824.0);

    /* Weights and optimizer state (two moments, like Adam): three buffers of the model size. */
    CUdeviceptr weights, moment1, moment2;
    size_t model = weights_mib * MiB;
    if ((rc = cuMemAlloc(&weights, model)) != CUDA_SUCCESS) die("allocating weights", rc);
    if ((rc = cuMemAlloc(&moment1, model / 2)) != CUDA_SUCCESS) die("allocating optimizer state", rc);
    if ((rc = cuMemAlloc(&moment2, model / 2)) != CUDA_SUCCESS) die("allocating optimizer state", rc);
    char *host = calloc(1, 16 * MiB);
    for (size_t off = 0; off < model; off += 16 * MiB)
        cuMemcpyHtoD(weights + off, host, model - off < 16 * MiB ? model - off : 16 * MiB);
    printf("train: model %.1f GiB + optimizer state %.1f GiB loaded\n", model / 1073741824.0, model / 1073741824.0);

    CUmodule module;
    CUfunction kernel;
    static const char image[] = "simulated kernel image";
    if ((rc = cuModuleLoadData(&module, image)) != CUDA_SUCCESS) die("cuModuleLoadData", rc);
    if ((rc = cuModuleGetFunction(&kernel, module, "train_step")) != CUDA_SUCCESS) die("cuModuleGetFunction", rc);

    unsigned batch = 256;
    const size_t per_sample = 8 * MiB;
    for (int step = 1; step <= steps; step++) {
        CUdeviceptr act;
        while ((rc = cuMemAlloc(&act, batch * per_sample)) == CUDA_ERROR_OUT_OF_MEMORY && batch > 1) {
            printf("train: step %d: batch %u does not fit (%.1f GiB), halving\n", step, batch,
                   batch * per_sample / 1073741824.0);
            batch /= 2;
        }
        if (rc != CUDA_SUCCESS) die("allocating activations", rc);
        void *args[] = {&weights, &act};
        for (int k = 0; k < 10; k++)
            if ((rc = cuLaunchKernel(kernel, 128, 1, 1, 256, 1, 1, 0, NULL, args, NULL)) != CUDA_SUCCESS)
                die("cuLaunchKernel", rc);
        if ((rc = cuCtxSynchronize()) != CUDA_SUCCESS) die("cuCtxSynchronize", rc);
        cuMemGetInfo(&free_b, &total_b);
        printf("train: step %d: batch %u, activations %.1f GiB, %.1f GiB of %.1f GiB free\n", step, batch,
               batch * per_sample / 1073741824.0, free_b / 1073741824.0, total_b / 1073741824.0);
        cuMemFree(act);
    }
    cuMemFree(weights);
    cuMemFree(moment1);
    cuMemFree(moment2);
    cuModuleUnload(module);
    cuDevicePrimaryCtxRelease(dev);
    free(host);
    printf("train: done\n");
    return 0;
}
