/* Occupancy queries (cuOccupancy*), which the runtime's cudaOccupancy* and libraries such as
 * cuBLAS call while setting up. The answers follow the documented meaning ("the number of the
 * maximum active blocks per streaming multiprocessor") from the simulated device's limits and
 * the simulated kernel's resources (sim_func_attr.c: 16 registers a thread, no static shared
 * memory): the smallest of the block limit, the thread limit, the register limit and, with
 * dynamic shared memory, the shared-memory limit (each block also reserves
 * CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK). Register and warp allocation
 * granularity is not modelled. */
#include "sim_internal.h"

#define SIM_SM_BLOCKS 32
#define SIM_SM_THREADS 2048
#define SIM_SM_REGISTERS 65536
#define SIM_KERNEL_REGISTERS 16
#define SIM_SM_SHARED (228 * 1024)
#define SIM_BLOCK_SHARED_RESERVED 1024
#define SIM_BLOCK_SHARED_MAX (227 * 1024)
#define SIM_BLOCK_THREADS 1024

static CUresult check_function(CUfunction *f)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    *f = sim_kernel_function(*f);
    return sim_function_check(*f);
}

/* Active blocks per SM of blockSize threads using dyn bytes of dynamic shared memory. */
static int blocks_per_sm(int blockSize, size_t dyn)
{
    if (blockSize <= 0 || blockSize > SIM_BLOCK_THREADS || dyn > SIM_BLOCK_SHARED_MAX)
        return 0;
    int n = SIM_SM_BLOCKS;
    int by_threads = SIM_SM_THREADS / blockSize;
    int by_regs = SIM_SM_REGISTERS / (SIM_KERNEL_REGISTERS * blockSize);
    int by_shared = (int)(SIM_SM_SHARED / (dyn + SIM_BLOCK_SHARED_RESERVED));
    if (by_threads < n)
        n = by_threads;
    if (by_regs < n)
        n = by_regs;
    if (by_shared < n)
        n = by_shared;
    return n;
}

CUresult CUDAAPI cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *numBlocks, CUfunction func, int blockSize,
                                                                      size_t dynamicSMemSize, unsigned int flags)
{
    CUresult r = check_function(&func);
    if (r != CUDA_SUCCESS)
        return r;
    if (!numBlocks || flags > CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE)
        return CUDA_ERROR_INVALID_VALUE;
    *numBlocks = blocks_per_sm(blockSize, dynamicSMemSize);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuOccupancyMaxActiveBlocksPerMultiprocessor(int *numBlocks, CUfunction func, int blockSize,
                                                             size_t dynamicSMemSize)
{
    return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(numBlocks, func, blockSize, dynamicSMemSize, 0);
}

/* The block size (a multiple of the warp, up to blockSizeLimit) with the most active threads
 * per SM; minGridSize is what fills every SM at that occupancy. */
CUresult CUDAAPI cuOccupancyMaxPotentialBlockSizeWithFlags(int *minGridSize, int *blockSize, CUfunction func,
                                                           CUoccupancyB2DSize blockSizeToDynamicSMemSize,
                                                           size_t dynamicSMemSize, int blockSizeLimit,
                                                           unsigned int flags)
{
    CUresult r = check_function(&func);
    if (r != CUDA_SUCCESS)
        return r;
    if (!minGridSize || !blockSize || flags > CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE)
        return CUDA_ERROR_INVALID_VALUE;
    int limit = blockSizeLimit > 0 && blockSizeLimit < SIM_BLOCK_THREADS ? blockSizeLimit : SIM_BLOCK_THREADS;
    int best = 0, best_blocks = 0;
    for (int size = 32; size <= limit; size += 32) {
        size_t dyn = blockSizeToDynamicSMemSize ? blockSizeToDynamicSMemSize(size) : dynamicSMemSize;
        int blocks = blocks_per_sm(size, dyn);
        if (blocks * size > best_blocks * best) {
            best = size;
            best_blocks = blocks;
        }
    }
    int sms = 0;
    if ((r = cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0)) != CUDA_SUCCESS)
        return r;
    *blockSize = best;
    *minGridSize = best_blocks * sms;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuOccupancyMaxPotentialBlockSize(int *minGridSize, int *blockSize, CUfunction func,
                                                  CUoccupancyB2DSize blockSizeToDynamicSMemSize,
                                                  size_t dynamicSMemSize, int blockSizeLimit)
{
    return cuOccupancyMaxPotentialBlockSizeWithFlags(minGridSize, blockSize, func, blockSizeToDynamicSMemSize,
                                                     dynamicSMemSize, blockSizeLimit, 0);
}

/* Dynamic shared memory a block can have with numBlocks blocks of blockSize on one SM. */
CUresult CUDAAPI cuOccupancyAvailableDynamicSMemPerBlock(size_t *dynamicSmemSize, CUfunction func, int numBlocks,
                                                         int blockSize)
{
    CUresult r = check_function(&func);
    if (r != CUDA_SUCCESS)
        return r;
    if (!dynamicSmemSize || numBlocks <= 0 || blockSize <= 0 || blockSize > SIM_BLOCK_THREADS)
        return CUDA_ERROR_INVALID_VALUE;
    if (blocks_per_sm(blockSize, 0) < numBlocks) {
        *dynamicSmemSize = 0;
        return CUDA_SUCCESS;
    }
    size_t per_block = SIM_SM_SHARED / (size_t)numBlocks;
    per_block = per_block > SIM_BLOCK_SHARED_RESERVED ? per_block - SIM_BLOCK_SHARED_RESERVED : 0;
    *dynamicSmemSize = per_block < SIM_BLOCK_SHARED_MAX ? per_block : SIM_BLOCK_SHARED_MAX;
    return CUDA_SUCCESS;
}

/* Blocks in one cluster of a launch configuration: its CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION, 1
 * without one (a kernel's compile-time cluster size is not known here: no image is parsed). */
static unsigned cluster_blocks(const CUlaunchConfig *config)
{
    for (unsigned i = 0; config->attrs && i < config->numAttrs; i++)
        if (config->attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) {
            const unsigned *d = &config->attrs[i].value.clusterDim.x;
            return d[0] * d[1] * d[2];
        }
    return 1;
}

/* How many clusters of the configuration fit on the device at once: all SMs' blocks of that
 * size, in whole clusters. (Real GPUs also bound a cluster by its GPC; not modelled.) */
CUresult CUDAAPI cuOccupancyMaxActiveClusters(int *numClusters, CUfunction func, const CUlaunchConfig *config)
{
    CUresult r = check_function(&func);
    if (r != CUDA_SUCCESS)
        return r;
    if (!numClusters || !config)
        return CUDA_ERROR_INVALID_VALUE;
    unsigned per_cluster = cluster_blocks(config);
    unsigned threads = config->blockDimX * config->blockDimY * config->blockDimZ;
    if (per_cluster == 0 || per_cluster > 16 || threads == 0 || threads > SIM_BLOCK_THREADS)
        return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    int sms = 0;
    if ((r = cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0)) != CUDA_SUCCESS)
        return r;
    *numClusters = blocks_per_sm((int)threads, config->sharedMemBytes) * sms / (int)per_cluster;
    return CUDA_SUCCESS;
}

/* The programming guide's portable cluster size, 8 blocks, for any block that fits an SM. */
CUresult CUDAAPI cuOccupancyMaxPotentialClusterSize(int *clusterSize, CUfunction func, const CUlaunchConfig *config)
{
    CUresult r = check_function(&func);
    if (r != CUDA_SUCCESS)
        return r;
    if (!clusterSize || !config)
        return CUDA_ERROR_INVALID_VALUE;
    unsigned threads = config->blockDimX * config->blockDimY * config->blockDimZ;
    *clusterSize = blocks_per_sm((int)threads, config->sharedMemBytes) > 0 ? 8 : 0;
    return CUDA_SUCCESS;
}
