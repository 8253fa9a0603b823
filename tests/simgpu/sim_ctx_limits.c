/* Context limits and preferences: cuCtxGetLimit / cuCtxSetLimit, cuCtxGet/SetCacheConfig,
 * cuCtxGet/SetSharedMemConfig. Limits are kept per context (a small table, as the simulator
 * makes few contexts) and start at the values NVIDIA's GPUs report before anything is set
 * (stack 1 KiB, printf FIFO 1 MiB, malloc heap 8 MiB, sync depth 2, 2048 pending launches, L2
 * fetch granularity 64 bytes, no persisting L2); those defaults are observed behaviour, the
 * reference does not list them. As documented, CU_LIMIT_SHMEM_SIZE and CU_LIMIT_CIG_ENABLED
 * can only be queried (a non-CIG context: no CIG shared memory, 0), a granularity above 128 or a
 * persisting size above the device's maximum is CUDA_ERROR_INVALID_VALUE, and an unknown limit is
 * CUDA_ERROR_UNSUPPORTED_LIMIT. Cache and shared-memory preferences are accepted and remembered
 * for the process (they change nothing here). */
#include "sim_internal.h"

#define LIMIT_CONTEXTS 64
#define SIM_MAX_PERSISTING_L2 (30u * 1024 * 1024)

struct ctx_limits {
    CUcontext ctx;
    size_t value[CU_LIMIT_MAX];
};

static struct ctx_limits table[LIMIT_CONTEXTS];
static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static CUfunc_cache cache_config = CU_FUNC_CACHE_PREFER_NONE;
static CUsharedconfig shared_config = CU_SHARED_MEM_CONFIG_DEFAULT_BANK_SIZE;

static const size_t defaults[CU_LIMIT_MAX] = {
    [CU_LIMIT_STACK_SIZE] = 1024,
    [CU_LIMIT_PRINTF_FIFO_SIZE] = 1 << 20,
    [CU_LIMIT_MALLOC_HEAP_SIZE] = 8 << 20,
    [CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH] = 2,
    [CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT] = 2048,
    [CU_LIMIT_MAX_L2_FETCH_GRANULARITY] = 64,
    [CU_LIMIT_CIG_SHMEM_FALLBACK_ENABLED] = 1,
};

/* The context's row, made with the defaults on first use (a reused slot of a context that died is
 * not told apart: limits are hints here). Under limits_lock; NULL when the table is full. */
static struct ctx_limits *row_of(CUcontext ctx)
{
    struct ctx_limits *free_row = NULL;
    for (unsigned i = 0; i < LIMIT_CONTEXTS; i++) {
        if (table[i].ctx == ctx)
            return &table[i];
        if (!table[i].ctx && !free_row)
            free_row = &table[i];
    }
    if (free_row) {
        free_row->ctx = ctx;
        for (unsigned i = 0; i < CU_LIMIT_MAX; i++)
            free_row->value[i] = defaults[i];
    }
    return free_row;
}

CUresult CUDAAPI cuCtxGetLimit(size_t *pvalue, CUlimit limit)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pvalue)
        return CUDA_ERROR_INVALID_VALUE;
    if ((int)limit < 0 || limit >= CU_LIMIT_MAX)
        return CUDA_ERROR_UNSUPPORTED_LIMIT;
    pthread_mutex_lock(&limits_lock);
    struct ctx_limits *row = row_of(ctx);
    *pvalue = row ? row->value[limit] : defaults[limit];
    pthread_mutex_unlock(&limits_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetLimit(CUlimit limit, size_t value)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if ((int)limit < 0 || limit >= CU_LIMIT_MAX || limit == CU_LIMIT_SHMEM_SIZE || limit == CU_LIMIT_CIG_ENABLED)
        return CUDA_ERROR_UNSUPPORTED_LIMIT;
    if ((limit == CU_LIMIT_MAX_L2_FETCH_GRANULARITY && value > 128) ||
        (limit == CU_LIMIT_PERSISTING_L2_CACHE_SIZE && value > SIM_MAX_PERSISTING_L2))
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&limits_lock);
    struct ctx_limits *row = row_of(ctx);
    if (row)
        row->value[limit] = value;
    pthread_mutex_unlock(&limits_lock);
    return row ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult CUDAAPI cuCtxGetCacheConfig(CUfunc_cache *pconfig)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pconfig)
        return CUDA_ERROR_INVALID_VALUE;
    *pconfig = cache_config;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetCacheConfig(CUfunc_cache config)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if ((int)config < 0 || config > CU_FUNC_CACHE_PREFER_EQUAL)
        return CUDA_ERROR_INVALID_VALUE;
    cache_config = config;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxGetSharedMemConfig(CUsharedconfig *pConfig)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pConfig)
        return CUDA_ERROR_INVALID_VALUE;
    *pConfig = shared_config;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetSharedMemConfig(CUsharedconfig config)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if ((int)config < 0 || config > CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE)
        return CUDA_ERROR_INVALID_VALUE;
    shared_config = config;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncSetSharedMemConfig(CUfunction hfunc, CUsharedconfig config)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    hfunc = sim_kernel_function(hfunc);
    if ((r = sim_function_check(hfunc)) != CUDA_SUCCESS)
        return r;
    return ((int)config < 0 || config > CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE) ? CUDA_ERROR_INVALID_VALUE
                                                                                 : CUDA_SUCCESS;
}
