// A program written against the CUDA runtime API, built with nvcc (static and shared cudart),
// that must run on grey's simulated driver, with and without the hook.
//
//   rt_basic FAMILY [CAP_BYTES]
//
// FAMILY selects what is exercised, so that each family is its own process and its own result:
//   malloc   cudaMalloc/cudaFree, cudaMemcpy H2D/D2H/D2D, a <<<>>> launch, cudaDeviceSynchronize,
//            streams; then ten 200 MiB blocks with cudaMalloc
//   async    cudaMallocAsync/cudaFreeAsync on a stream; then ten 200 MiB blocks with it
//   managed  cudaMallocManaged, touched from the host; then ten 200 MiB blocks with it
//   graph    stream capture of a kernel launch and a memcpy, cudaGraphInstantiate, cudaGraphLaunch
//   all      every one of the above, in turn
// CAP_BYTES: when given, cudaMemGetInfo must report that total, and of the ten 200 MiB blocks
// exactly floor(CAP/200MiB) must succeed, the next one failing with cudaErrorMemoryAllocation.
// Without it, all ten succeed. Prints "FAIL: ..." and exits 1 at the first error, and
// "rt_basic: ok" at the end.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

static const size_t kBlock = 200ull << 20;
static const int kBlocks = 10;
static unsigned long long cap;   // 0: uncapped

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        printf("FAIL: " __VA_ARGS__);                                                              \
        printf("\n");                                                                              \
        exit(1);                                                                                   \
    } while (0)

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            FAIL("%s:%d: %s: %s (%d)", __FILE__, __LINE__, #call, cudaGetErrorString(e_), (int)e_); \
    } while (0)

__global__ void fill(int *p, int n, int v)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        p[i] = v;
}

static void check_mem_info(void)
{
    size_t free_b = 0, total = 0;
    CK(cudaMemGetInfo(&free_b, &total));
    if (free_b > total)
        FAIL("cudaMemGetInfo: free %zu > total %zu", free_b, total);
    if (cap && total != cap)
        FAIL("cudaMemGetInfo: total %zu, expected the cap %llu", total, cap);
}

// How many of the ten blocks must succeed.
static int expected_blocks(void)
{
    if (!cap)
        return kBlocks;
    unsigned long long n = cap / kBlock;
    return n < (unsigned long long)kBlocks ? (int)n : kBlocks;
}

// Allocates ten blocks with `alloc`, checks the count and the error, frees them with `release`.
template <typename Alloc, typename Release>
static void ten_blocks(const char *what, Alloc alloc, Release release)
{
    void *blocks[kBlocks] = {};
    int want = expected_blocks(), got = 0;
    cudaError_t last = cudaSuccess;
    for (int i = 0; i < kBlocks; i++) {
        last = alloc(&blocks[i], kBlock);
        if (last != cudaSuccess) {
            blocks[i] = nullptr;
            break;
        }
        got++;
    }
    if (got != want)
        FAIL("%s: %d of %d blocks of 200 MiB succeeded, expected %d (last: %s)", what, got,
             kBlocks, want, cudaGetErrorString(last));
    if (got < kBlocks && last != cudaErrorMemoryAllocation)
        FAIL("%s: block %d failed with %s (%d), expected cudaErrorMemoryAllocation", what, got + 1,
             cudaGetErrorString(last), (int)last);
    // The failed call leaves a sticky-free error state behind; clear it.
    (void)cudaGetLastError();
    check_mem_info();
    for (int i = 0; i < got; i++)
        CK(release(blocks[i]));
}

// ------------------------------------------------------------------ families

static void family_malloc(void)
{
    const int n = 1 << 16;
    int *host = (int *)malloc(n * sizeof(int)), *back = (int *)malloc(n * sizeof(int));
    for (int i = 0; i < n; i++)
        host[i] = i * 7;
    int *a = nullptr, *b = nullptr;
    CK(cudaMalloc(&a, n * sizeof(int)));
    CK(cudaMalloc(&b, n * sizeof(int)));
    CK(cudaMemcpy(a, host, n * sizeof(int), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(b, a, n * sizeof(int), cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy(back, b, n * sizeof(int), cudaMemcpyDeviceToHost));
    if (memcmp(host, back, n * sizeof(int)) != 0)
        FAIL("malloc: H2D, D2D, D2H round trip changed the data");
    CK(cudaMemcpy(back, a, n * sizeof(int), cudaMemcpyDefault));
    if (memcmp(host, back, n * sizeof(int)) != 0)
        FAIL("malloc: cudaMemcpyDefault changed the data");

    fill<<<(n + 255) / 256, 256>>>(a, n, 1);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());

    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    fill<<<(n + 255) / 256, 256, 0, s>>>(b, n, 2);
    CK(cudaGetLastError());
    CK(cudaMemcpyAsync(back, a, n * sizeof(int), cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaStreamDestroy(s));

    CK(cudaFree(a));
    CK(cudaFree(b));
    free(host);
    free(back);
    check_mem_info();

    ten_blocks("cudaMalloc", [](void **p, size_t sz) { return cudaMalloc(p, sz); },
               [](void *p) { return cudaFree(p); });
}

static void family_async(void)
{
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    int *p = nullptr;
    CK(cudaMallocAsync(&p, 1 << 20, s));
    CK(cudaMemsetAsync(p, 0, 1 << 20, s));
    fill<<<1, 256, 0, s>>>(p, 256, 3);
    CK(cudaGetLastError());
    int first = 0;
    CK(cudaMemcpyAsync(&first, p, sizeof first, cudaMemcpyDeviceToHost, s));
    CK(cudaFreeAsync(p, s));
    CK(cudaStreamSynchronize(s));

    // The device's default pool, trimmed, and an explicit pool.
    int dev = 0;
    CK(cudaGetDevice(&dev));
    cudaMemPool_t pool;
    CK(cudaDeviceGetDefaultMemPool(&pool, dev));
    CK(cudaMemPoolTrimTo(pool, 0));
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = dev;
    cudaMemPool_t mine;
    CK(cudaMemPoolCreate(&mine, &props));
    unsigned long long threshold = 0;
    CK(cudaMemPoolSetAttribute(mine, cudaMemPoolAttrReleaseThreshold, &threshold));
    CK(cudaMemPoolGetAttribute(mine, cudaMemPoolAttrReleaseThreshold, &threshold));
    CK(cudaMallocFromPoolAsync(&p, 4096, mine, s));
    CK(cudaFreeAsync(p, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaMemPoolDestroy(mine));
    check_mem_info();

    static cudaStream_t stream;
    stream = s;
    ten_blocks("cudaMallocAsync",
               [](void **p, size_t sz) { return cudaMallocAsync(p, sz, stream); },
               [](void *p) { return cudaFreeAsync(p, stream); });
    CK(cudaStreamSynchronize(s));
    CK(cudaStreamDestroy(s));
    check_mem_info();
}

static void family_managed(void)
{
    const int n = 4096;
    int *m = nullptr;
    CK(cudaMallocManaged(&m, n * sizeof(int)));
    for (int i = 0; i < n; i++)   // managed memory is reachable from the host
        m[i] = i;
    fill<<<n / 256, 256>>>(m, n, 5);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    int back[16];
    CK(cudaMemcpy(back, m, sizeof back, cudaMemcpyDefault));
    CK(cudaFree(m));
    check_mem_info();

    ten_blocks("cudaMallocManaged",
               [](void **p, size_t sz) { return cudaMallocManaged(p, sz); },
               [](void *p) { return cudaFree(p); });
}

static void family_graph(void)
{
    const int n = 1024;
    int *a = nullptr, *b = nullptr;
    int host[n], back[n];
    for (int i = 0; i < n; i++)
        host[i] = 3 * i + 1;
    CK(cudaMalloc(&a, n * sizeof(int)));
    CK(cudaMalloc(&b, n * sizeof(int)));
    CK(cudaMemcpy(a, host, sizeof host, cudaMemcpyHostToDevice));
    CK(cudaMemset(b, 0, sizeof host));

    cudaStream_t s;
    CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    cudaStreamCaptureStatus st;
    CK(cudaStreamIsCapturing(s, &st));
    if (st != cudaStreamCaptureStatusNone)
        FAIL("graph: a new stream reports capture status %d", (int)st);

    CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
    CK(cudaStreamIsCapturing(s, &st));
    if (st != cudaStreamCaptureStatusActive)
        FAIL("graph: capturing stream reports status %d", (int)st);
    fill<<<n / 256, 256, 0, s>>>(a, n, 9);
    CK(cudaGetLastError());
    CK(cudaMemcpyAsync(b, a, n * sizeof(int), cudaMemcpyDeviceToDevice, s));
    cudaGraph_t graph;
    CK(cudaStreamEndCapture(s, &graph));
    CK(cudaStreamIsCapturing(s, &st));
    if (st != cudaStreamCaptureStatusNone)
        FAIL("graph: stream still capturing after cudaStreamEndCapture (%d)", (int)st);

    // Captured work is recorded, not run: b is still all zero.
    CK(cudaMemcpy(back, b, sizeof back, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
        if (back[i] != 0)
            FAIL("graph: captured memcpy ran during capture (b[%d] = %d)", i, back[i]);

    size_t nodes = 0;
    CK(cudaGraphGetNodes(graph, nullptr, &nodes));
    if (nodes != 2)
        FAIL("graph: captured graph has %zu nodes, expected 2", nodes);

    cudaGraphExec_t exec;
    CK(cudaGraphInstantiate(&exec, graph, 0));
    CK(cudaGraphLaunch(exec, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaMemcpy(back, b, sizeof back, cudaMemcpyDeviceToHost));
    // The kernel does nothing on the simulator, so b holds a's data either way.
    for (int i = 0; i < n; i++)
        if (back[i] != host[i] && back[i] != 9)
            FAIL("graph: after launch b[%d] = %d, expected %d", i, back[i], host[i]);
    CK(cudaGraphLaunch(exec, s));   // a graph can be launched again
    CK(cudaStreamSynchronize(s));
    CK(cudaGraphExecDestroy(exec));
    CK(cudaGraphDestroy(graph));
    CK(cudaStreamDestroy(s));
    CK(cudaFree(a));
    CK(cudaFree(b));
    check_mem_info();
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s malloc|async|managed|graph|all [CAP_BYTES]\n", argv[0]);
        return 2;
    }
    const char *family = argv[1];
    if (argc == 3) {
        char *end;
        cap = strtoull(argv[2], &end, 10);
        if (*end || cap == 0) {
            fprintf(stderr, "%s: bad cap '%s'\n", argv[0], argv[2]);
            return 2;
        }
    }
    int count = 0;
    CK(cudaGetDeviceCount(&count));
    if (count < 1)
        FAIL("no device");
    CK(cudaSetDevice(0));
    check_mem_info();

    bool all = strcmp(family, "all") == 0, known = all;
    if (all || strcmp(family, "malloc") == 0)
        family_malloc(), known = true;
    if (all || strcmp(family, "async") == 0)
        family_async(), known = true;
    if (all || strcmp(family, "managed") == 0)
        family_managed(), known = true;
    if (all || strcmp(family, "graph") == 0)
        family_graph(), known = true;
    if (!known) {
        fprintf(stderr, "%s: unknown family '%s'\n", argv[0], family);
        return 2;
    }
    check_mem_info();
    printf("rt_basic: ok\n");
    return 0;
}
