/* One waste pattern of the buffer report per mode (policy/waste.h), on the simulated driver; run
 * under grey-run --dedup by tests/integration/waste_tests.sh, which checks that the report names
 * exactly that pattern, at the function that allocated the buffer, with the launches and bytes
 * this program makes:
 *
 *   prog_waste early       a 1 MiB buffer allocated 20 launches before its first use
 *   prog_waste late        a 1 MiB buffer freed 20 launches after its last use
 *   prog_waste idle        a 1 MiB buffer idle for 20 launches between two uses (the second
 *                          use through a pointer into its middle)
 *   prog_waste unused      a 1 MiB buffer never used
 *   prog_waste redundant   two 2 MiB buffers, the second allocated after the first was freed
 *   prog_waste deadwrite   a 1 MiB buffer set twice before a kernel reads it
 *   prog_waste leak        a 1 MiB buffer never freed
 *   prog_waste pitched     a dead write through the pitched API: a 1 MiB buffer set with
 *                          cuMemsetD2D8, overwritten whole by cuMemcpy2D, read back by
 *                          cuMemcpy3D and copied by cuMemcpyPeer into the work buffer
 *   prog_waste graph       an early allocation seen through a CUDA graph: a 1 MiB buffer whose
 *                          memset and kernel are captured into a graph (not run then), first
 *                          used when the graph is launched 20 launches later; and a second
 *                          graph built by hand (cuGraphAddKernelNode) using the work buffer
 *   prog_waste clean       none of them: 4 MiB and 1 MiB buffers, each used as soon as
 *                          allocated and freed after its last use (the optimal peak 4 MiB, one
 *                          kernel's, under the real 5 MiB)
 *
 * Every mode also uses a 4 MiB work buffer from alloc_work, used by every filler launch, which
 * is clean itself. Prints "buffer NAME 0x..." and "FAIL: ..." with exit 1 on any error. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1u << 20)
#define FILLER 20

#define CK(call)                                                                                   \
    do {                                                                                           \
        CUresult rc_ = (call);                                                                     \
        if (rc_ != CUDA_SUCCESS) {                                                                 \
            printf("FAIL: %s: error %d\n", #call, (int)rc_);                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static CUfunction one; /* one pointer argument (the simulator reads sizes from the name) */

static void use(CUdeviceptr p)
{
    void *params[] = {&p};
    CK(cuLaunchKernel(one, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
}

static void filler(CUdeviceptr work)
{
    for (int i = 0; i < FILLER; i++)
        use(work);
}

/* Each buffer from its own function, so the report's call site names the pattern's buffer. */
__attribute__((noinline, noipa)) static CUdeviceptr alloc_work(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, 4 * MiB));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr alloc_subject(size_t bytes)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, bytes));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr alloc_again(size_t bytes)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, bytes));
    return d;
}

static void show(const char *name, CUdeviceptr p)
{
    printf("buffer %s 0x%llx\n", name, (unsigned long long)p);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CK(cuInit(0));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CK(cuCtxSetCurrent(ctx));
    CK(cuModuleLoadData(&mod, "prog_waste"));
    CK(cuModuleGetFunction(&one, mod, "one(8)"));
    static unsigned char host[2 * MiB];
    memset(host, 7, sizeof host);

    CUdeviceptr work = alloc_work(), s = 0;
    show("work", work);
    use(work);
    if (strcmp(mode, "early") == 0) {
        s = alloc_subject(MiB);
        filler(work);
        CK(cuMemcpyHtoD(s, host, MiB));
        use(s);
    } else if (strcmp(mode, "late") == 0) {
        s = alloc_subject(MiB);
        use(s);
        filler(work);
    } else if (strcmp(mode, "idle") == 0) {
        s = alloc_subject(MiB);
        use(s);
        filler(work);
        use(s + 4096); /* into its middle: matched by the driver's address range */
    } else if (strcmp(mode, "unused") == 0) {
        s = alloc_subject(MiB);
    } else if (strcmp(mode, "redundant") == 0) {
        CUdeviceptr first = alloc_subject(2 * MiB);
        use(first);
        CK(cuMemFree(first));
        show("first", first);
        s = alloc_again(2 * MiB);
        use(s);
    } else if (strcmp(mode, "deadwrite") == 0) {
        s = alloc_subject(MiB);
        CK(cuMemsetD8(s, 0, MiB));
        CK(cuMemsetD8(s, 1, MiB)); /* the first memset was for nothing */
        use(s);
    } else if (strcmp(mode, "leak") == 0) {
        s = alloc_subject(MiB);
        use(s);
    } else if (strcmp(mode, "pitched") == 0) {
        s = alloc_subject(MiB);
        CK(cuMemsetD2D8(s, 1024, 0, 1024, 1024));
        CUDA_MEMCPY2D up = {.srcMemoryType = CU_MEMORYTYPE_HOST, .srcHost = host, .srcPitch = 1024,
                            .dstMemoryType = CU_MEMORYTYPE_DEVICE, .dstDevice = s, .dstPitch = 1024,
                            .WidthInBytes = 1024, .Height = 1024};
        CK(cuMemcpy2D(&up)); /* over all of the memset, which nothing read: dead */
        CUDA_MEMCPY3D down = {.srcMemoryType = CU_MEMORYTYPE_DEVICE, .srcDevice = s, .srcPitch = 1024,
                              .srcHeight = 512, .dstMemoryType = CU_MEMORYTYPE_HOST, .dstHost = host,
                              .dstPitch = 1024, .dstHeight = 512, .WidthInBytes = 1024, .Height = 512,
                              .Depth = 2};
        CK(cuMemcpy3D(&down));
        CK(cuMemcpyPeer(work + MiB, ctx, s, ctx, MiB));
    } else if (strcmp(mode, "graph") == 0) {
        s = alloc_subject(MiB);
        CUstream st;
        CUgraph g, by_hand;
        CUgraphExec exec, exec_by_hand;
        CK(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));
        CK(cuStreamBeginCapture(st, CU_STREAM_CAPTURE_MODE_GLOBAL));
        CK(cuMemsetD8Async(s, 0, MiB, st));
        void *params[] = {&s};
        CK(cuLaunchKernel(one, 1, 1, 1, 32, 1, 1, 0, st, params, NULL)); /* captured: not run now */
        CK(cuStreamEndCapture(st, &g));
        CK(cuGraphInstantiateWithFlags(&exec, g, 0));
        CK(cuGraphCreate(&by_hand, 0));
        CUgraphNode node;
        void *work_params[] = {&work};
        CUDA_KERNEL_NODE_PARAMS k = {.func = one, .gridDimX = 1, .gridDimY = 1, .gridDimZ = 1, .blockDimX = 32,
                                     .blockDimY = 1, .blockDimZ = 1, .kernelParams = work_params};
        CK(cuGraphAddKernelNode(&node, by_hand, NULL, 0, &k));
        CK(cuGraphInstantiateWithFlags(&exec_by_hand, by_hand, 0));
        for (int i = 0; i < FILLER; i++) /* the work buffer used by a graph each time */
            CK(cuGraphLaunch(exec_by_hand, st));
        CK(cuGraphLaunch(exec, st));
        CK(cuStreamSynchronize(st));
        CK(cuGraphExecDestroy(exec));
        CK(cuGraphExecDestroy(exec_by_hand));
        CK(cuGraphDestroy(g));
        CK(cuGraphDestroy(by_hand));
        CK(cuStreamDestroy(st));
    } else if (strcmp(mode, "clean") == 0) {
        s = alloc_subject(MiB);
        CK(cuMemcpyHtoD(s, host, MiB));
        use(s);
        CK(cuMemcpyDtoH(host, s, MiB));
    } else {
        fprintf(stderr, "usage: prog_waste early|late|idle|unused|redundant|deadwrite|leak|pitched|graph|clean\n");
        return 2;
    }
    show("subject", s);
    use(work); /* the work buffer's last use, just before its free */
    CK(cuCtxSynchronize());
    if (strcmp(mode, "leak") != 0)
        CK(cuMemFree(s));
    CK(cuMemFree(work));
    return 0;
}
