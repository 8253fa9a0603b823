/* The driver calls the simulator gained for the CUDA runtime and NVIDIA's libraries (issue 15),
 * each against what the driver API reference documents (or, where it is silent, what
 * docs/simgpu.md says the simulator chose): pinned host memory, cuMemFree(0), pointer
 * attributes, occupancy, context limits, peer access, 2D copies and memsets, the JIT linker,
 * host functions, stream properties, and an entry point present but not modelled.
 * Prints "prog_sim_calls: ok"; the first mismatch ends it with status 1. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        printf("FAIL: %s:%d: ", __FILE__, __LINE__);                                               \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        exit(1);                                                                                   \
    } while (0)
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)
#define EXPECT(call, want)                                                                         \
    do {                                                                                           \
        CUresult got_ = (call);                                                                    \
        if (got_ != (want))                                                                        \
            FAIL("%s returned %d, expected %d", #call, (int)got_, (int)(want));                    \
    } while (0)
#define OK(call) EXPECT(call, CUDA_SUCCESS)

static void test_pinned(void)
{
    size_t free0, free1, total;
    OK(cuMemGetInfo(&free0, &total));
    OK(cuMemFree(0)); /* a no-op */
    void *p;
    unsigned flags = 0;
    OK(cuMemHostAlloc(&p, 64 << 20, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
    OK(cuMemHostGetFlags(&flags, (char *)p + 100));
    CHECK(flags == (CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE), "flags 0x%x", flags);
    CUdeviceptr d;
    OK(cuMemHostGetDevicePointer(&d, (char *)p + 10, 0));
    CHECK(d == (CUdeviceptr)(uintptr_t)p + 10, "device pointer of pinned memory");
    EXPECT(cuMemHostGetDevicePointer(&d, p, 1), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuMemHostAlloc(&p, 4096, 0x80), CUDA_ERROR_INVALID_VALUE);
    char *mine = malloc(1 << 20);
    OK(cuMemHostRegister(mine, 1 << 20, CU_MEMHOSTREGISTER_DEVICEMAP));
    EXPECT(cuMemHostRegister(mine + 4096, 4096, 0), CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    EXPECT(cuMemHostGetFlags(&flags, mine), CUDA_ERROR_INVALID_VALUE); /* not from cuMemHostAlloc */
    OK(cuMemHostGetDevicePointer(&d, mine, 0));
    OK(cuMemGetInfo(&free1, &total));
    CHECK(free1 == free0, "pinned memory counted as VRAM: %zu -> %zu", free0, free1);
    EXPECT(cuMemHostUnregister(mine + 4096), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    OK(cuMemHostUnregister(mine));
    EXPECT(cuMemHostUnregister(mine), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    free(mine);
    OK(cuMemFreeHost(p));
}

static void test_pointer_attributes(CUcontext ctx)
{
    CUdeviceptr d, base;
    OK(cuMemAlloc(&d, 1 << 20));
    unsigned type = 0;
    size_t size = 0;
    CUcontext owner = NULL;
    int ordinal = -5;
    OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d + 100));
    CHECK(type == CU_MEMORYTYPE_DEVICE, "memory type %u", type);
    OK(cuPointerGetAttribute(&base, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, d + 100));
    OK(cuPointerGetAttribute(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, d + 100));
    CHECK(base == d && size == 1 << 20, "range");
    OK(cuPointerGetAttribute(&owner, CU_POINTER_ATTRIBUTE_CONTEXT, d));
    OK(cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, d));
    CHECK(owner == ctx && ordinal == 0, "context and ordinal");
    int local;
    EXPECT(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)&local),
           CUDA_ERROR_INVALID_VALUE);
    CUpointer_attribute attrs[2] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_CONTEXT};
    void *data[2] = {&type, &owner};
    type = 7;
    OK(cuPointerGetAttributes(2, attrs, data, (CUdeviceptr)(uintptr_t)&local)); /* unknown: defaults */
    CHECK(type == 0 && owner == NULL, "defaults for an unknown pointer");
    void *h;
    OK(cuMemAllocHost(&h, 4096));
    OK(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, (CUdeviceptr)(uintptr_t)h));
    CHECK(type == CU_MEMORYTYPE_HOST, "pinned memory's type %u", type);
    OK(cuMemFreeHost(h));
    OK(cuMemFree(d));
}

static void test_occupancy(CUfunction f)
{
    int blocks = 0, min_grid = 0, block = 0, sms = 0;
    OK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 256, 0));
    CHECK(blocks == 8, "256 threads: %d blocks an SM, wanted 8 (2048 threads)", blocks);
    OK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 256, 100 << 10));
    CHECK(blocks == 2, "100 KiB dynamic shared memory: %d blocks, wanted 2", blocks);
    OK(cuOccupancyMaxPotentialBlockSize(&min_grid, &block, f, NULL, 0, 0));
    OK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0));
    OK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, block, 0));
    CHECK(block > 0 && block % 32 == 0 && min_grid == blocks * sms, "potential block size %d, grid %d", block,
          min_grid);
    EXPECT(cuOccupancyMaxActiveBlocksPerMultiprocessor(NULL, f, 256, 0), CUDA_ERROR_INVALID_VALUE);
}

static void test_limits(void)
{
    size_t v = 0;
    OK(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    CHECK(v == 1024, "default stack %zu", v);
    OK(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 4096));
    OK(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    CHECK(v == 4096, "stack after set %zu", v);
    EXPECT(cuCtxSetLimit(CU_LIMIT_SHMEM_SIZE, 1), CUDA_ERROR_UNSUPPORTED_LIMIT);
    EXPECT(cuCtxSetLimit(CU_LIMIT_MAX_L2_FETCH_GRANULARITY, 256), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuCtxGetLimit(&v, CU_LIMIT_MAX), CUDA_ERROR_UNSUPPORTED_LIMIT);
}

static void test_peer(CUcontext ctx)
{
    int can = 1, v = 1;
    OK(cuDeviceCanAccessPeer(&can, 0, 0));
    CHECK(can == 0, "peer access reported");
    EXPECT(cuDeviceGetP2PAttribute(&v, CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED, 0, 0), CUDA_ERROR_INVALID_DEVICE);
    EXPECT(cuCtxEnablePeerAccess(ctx, 0), CUDA_ERROR_INVALID_DEVICE);
    EXPECT(cuCtxDisablePeerAccess(ctx), CUDA_ERROR_PEER_ACCESS_NOT_ENABLED);
}

static void test_copies_2d(CUcontext ctx)
{
    enum { W = 100, H = 8, PITCH = 128 };
    unsigned char host[W * H], back[W * H];
    for (int i = 0; i < W * H; i++)
        host[i] = (unsigned char)(i * 3);
    CUdeviceptr d;
    OK(cuMemAlloc(&d, PITCH * H));
    OK(cuMemsetD2D8(d, PITCH, 0xee, PITCH, H));
    CUDA_MEMCPY2D up = {.srcMemoryType = CU_MEMORYTYPE_HOST, .srcHost = host, .srcPitch = W,
                        .dstMemoryType = CU_MEMORYTYPE_DEVICE, .dstDevice = d, .dstPitch = PITCH,
                        .WidthInBytes = W, .Height = H};
    OK(cuMemcpy2D(&up));
    unsigned char pad = 0;
    OK(cuMemcpyDtoH(&pad, d + PITCH + W, 1));
    CHECK(pad == 0xee, "the copy wrote into the row padding");
    CUDA_MEMCPY2D down = {.srcMemoryType = CU_MEMORYTYPE_DEVICE, .srcDevice = d, .srcPitch = PITCH,
                          .dstMemoryType = CU_MEMORYTYPE_HOST, .dstHost = back, .dstPitch = W,
                          .WidthInBytes = W, .Height = H};
    OK(cuMemcpy2DAsync(&down, NULL));
    OK(cuCtxSynchronize());
    CHECK(memcmp(host, back, sizeof host) == 0, "2D round trip");
    up.srcPitch = W - 1;
    EXPECT(cuMemcpy2D(&up), CUDA_ERROR_INVALID_VALUE); /* pitch below the width */
    up.srcPitch = W;
    up.Height = H + 1;
    EXPECT(cuMemcpy2D(&up), CUDA_ERROR_INVALID_VALUE); /* past the end of the allocation */
    /* 3D: 3 slices of H rows into a device volume of pitch PITCH and height H + 2. */
    CUdeviceptr vol;
    OK(cuMemAlloc(&vol, PITCH * (H + 2) * 3));
    static unsigned char cube[3][H][W], cube_back[3][H][W];
    for (int z = 0; z < 3; z++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                cube[z][y][x] = (unsigned char)(z * 31 + y * 7 + x);
    CUDA_MEMCPY3D c3 = {.srcMemoryType = CU_MEMORYTYPE_HOST, .srcHost = cube, .srcPitch = W, .srcHeight = H,
                        .dstMemoryType = CU_MEMORYTYPE_DEVICE, .dstDevice = vol, .dstPitch = PITCH,
                        .dstHeight = H + 2, .WidthInBytes = W, .Height = H, .Depth = 3};
    OK(cuMemcpy3D(&c3));
    unsigned char probe = 0;
    OK(cuMemcpyDtoH(&probe, vol + (2 * (H + 2) + 1) * PITCH + 5, 1));
    CHECK(probe == cube[2][1][5], "3D copy: slice 2, row 1, byte 5 landed at its pitched place");
    CUDA_MEMCPY3D b3 = {.srcMemoryType = CU_MEMORYTYPE_DEVICE, .srcDevice = vol, .srcPitch = PITCH,
                        .srcHeight = H + 2, .dstMemoryType = CU_MEMORYTYPE_HOST, .dstHost = cube_back,
                        .dstPitch = W, .dstHeight = H, .WidthInBytes = W, .Height = H, .Depth = 3};
    OK(cuMemcpy3DAsync(&b3, NULL));
    OK(cuCtxSynchronize());
    CHECK(memcmp(cube, cube_back, sizeof cube) == 0, "3D round trip");
    c3.Depth = 4;
    EXPECT(cuMemcpy3D(&c3), CUDA_ERROR_INVALID_VALUE); /* a fourth slice is past the volume */
    OK(cuMemFree(vol));
    CUdeviceptr e;
    OK(cuMemAlloc(&e, 64));
    OK(cuMemcpyPeer(e, ctx, d, ctx, 64));
    OK(cuMemcpyDtoH(back, e, 64));
    CHECK(memcmp(host, back, 64) == 0, "peer copy");
    OK(cuMemFree(e));
    OK(cuMemFree(d));
}

static void test_link(void)
{
    CUlinkState s;
    void *cubin;
    size_t size;
    OK(cuLinkCreate(0, NULL, NULL, &s));
    EXPECT(cuLinkComplete(s, &cubin, &size), CUDA_ERROR_INVALID_IMAGE);
    static const char ptx[] = ".version 8.0\n.target sm_90\n";
    OK(cuLinkAddData(s, CU_JIT_INPUT_PTX, (void *)ptx, sizeof ptx, "k.ptx", 0, NULL, NULL));
    OK(cuLinkComplete(s, &cubin, &size));
    CUmodule m;
    OK(cuModuleLoadData(&m, cubin));
    OK(cuModuleUnload(m));
    OK(cuLinkDestroy(s));
    EXPECT(cuLinkDestroy(s), CUDA_ERROR_INVALID_HANDLE);
}

static int host_calls;
static void host_fn(void *arg) { host_calls += *(int *)arg; }
static void stream_cb(CUstream s, CUresult status, void *arg)
{
    (void)s;
    host_calls += status == CUDA_SUCCESS ? *(int *)arg : 1000;
}

static void test_streams(void)
{
    CUstream s;
    int lo = 0, hi = 0, prio = 7;
    unsigned flags = 7;
    OK(cuCtxGetStreamPriorityRange(&lo, &hi));
    OK(cuStreamCreateWithPriority(&s, CU_STREAM_NON_BLOCKING, hi));
    OK(cuStreamGetFlags(s, &flags));
    OK(cuStreamGetPriority(s, &prio));
    CHECK(flags == CU_STREAM_NON_BLOCKING && prio == hi, "flags %u priority %d", flags, prio);
    CUcontext c = NULL, cur = NULL;
    OK(cuStreamGetCtx(s, &c));
    OK(cuCtxGetCurrent(&cur));
    CHECK(c == cur, "stream context");
    int one = 1, ten = 10;
    OK(cuLaunchHostFunc(s, host_fn, &one));
    OK(cuStreamAddCallback(s, stream_cb, &ten, 0));
    OK(cuStreamSynchronize(s));
    CHECK(host_calls == 11, "host functions ran %d", host_calls);
    EXPECT(cuStreamAddCallback(s, stream_cb, &ten, 1), CUDA_ERROR_INVALID_VALUE);
    OK(cuStreamDestroy(s));
}

int main(void)
{
    CUdevice dev;
    CUcontext ctx;
    OK(cuInit(0));
    OK(cuDeviceGet(&dev, 0));
    OK(cuDevicePrimaryCtxRetain(&ctx, dev));
    OK(cuCtxSetCurrent(ctx));
    static const char image[] = "any image";
    CUmodule mod;
    CUfunction f;
    OK(cuModuleLoadData(&mod, image));
    OK(cuModuleGetFunction(&f, mod, "kernel"));

    test_pinned();
    test_pointer_attributes(ctx);
    test_occupancy(f);
    test_limits();
    test_peer(ctx);
    test_copies_2d(ctx);
    test_link();
    test_streams();
    CUipcMemHandle ipc;
    CUdeviceptr d;
    OK(cuMemAlloc(&d, 4096));
    EXPECT(cuIpcGetMemHandle(&ipc, d), CUDA_ERROR_NOT_SUPPORTED); /* present, not modelled */
    OK(cuMemFree(d));
    OK(cuModuleUnload(mod));
    printf("prog_sim_calls: ok\n");
    return 0;
}
