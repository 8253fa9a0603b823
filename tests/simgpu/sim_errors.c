/* cuGetErrorName and cuGetErrorString for every CUresult that cuda.h defines.
 *
 * The names come from the enum identifiers themselves (stringified), so they cannot drift from the
 * header. The common errors carry the short descriptions programs usually print; for the rest the
 * description is the name in words ("CUDA_ERROR_STREAM_CAPTURE_MERGE" -> "stream capture merge"),
 * built once on first use. Both functions work before cuInit, like the real driver's. */
#include "sim_internal.h"

#include <ctype.h>
#include <string.h>

#define SIM_ERR_TEXT_MAX 64

typedef struct sim_error {
    CUresult code;
    const char *name;
    const char *text;            /* NULL: derived from the name */
    char derived[SIM_ERR_TEXT_MAX];
} sim_error;

#define E(code, text) { code, #code, text, {0} }
static sim_error errors[] = {
    E(CUDA_SUCCESS, "no error"),
    E(CUDA_ERROR_INVALID_VALUE, "invalid argument"),
    E(CUDA_ERROR_OUT_OF_MEMORY, "out of memory"),
    E(CUDA_ERROR_NOT_INITIALIZED, "initialization error"),
    E(CUDA_ERROR_DEINITIALIZED, "driver shutting down"),
    E(CUDA_ERROR_PROFILER_DISABLED, NULL),
    E(CUDA_ERROR_PROFILER_NOT_INITIALIZED, NULL),
    E(CUDA_ERROR_PROFILER_ALREADY_STARTED, NULL),
    E(CUDA_ERROR_PROFILER_ALREADY_STOPPED, NULL),
    E(CUDA_ERROR_STUB_LIBRARY, NULL),
    E(CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER, NULL),
    E(CUDA_ERROR_DEVICE_UNAVAILABLE, NULL),
    E(CUDA_ERROR_NO_DEVICE, "no CUDA-capable device is detected"),
    E(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal"),
    E(CUDA_ERROR_DEVICE_NOT_LICENSED, NULL),
    E(CUDA_ERROR_INVALID_IMAGE, "device kernel image is invalid"),
    E(CUDA_ERROR_INVALID_CONTEXT, "invalid device context"),
    E(CUDA_ERROR_CONTEXT_ALREADY_CURRENT, NULL),
    E(CUDA_ERROR_MAP_FAILED, NULL),
    E(CUDA_ERROR_UNMAP_FAILED, NULL),
    E(CUDA_ERROR_ARRAY_IS_MAPPED, NULL),
    E(CUDA_ERROR_ALREADY_MAPPED, NULL),
    E(CUDA_ERROR_NO_BINARY_FOR_GPU, NULL),
    E(CUDA_ERROR_ALREADY_ACQUIRED, NULL),
    E(CUDA_ERROR_NOT_MAPPED, NULL),
    E(CUDA_ERROR_NOT_MAPPED_AS_ARRAY, NULL),
    E(CUDA_ERROR_NOT_MAPPED_AS_POINTER, NULL),
    E(CUDA_ERROR_ECC_UNCORRECTABLE, NULL),
    E(CUDA_ERROR_UNSUPPORTED_LIMIT, NULL),
    E(CUDA_ERROR_CONTEXT_ALREADY_IN_USE, NULL),
    E(CUDA_ERROR_PEER_ACCESS_UNSUPPORTED, NULL),
    E(CUDA_ERROR_INVALID_PTX, NULL),
    E(CUDA_ERROR_INVALID_GRAPHICS_CONTEXT, NULL),
    E(CUDA_ERROR_NVLINK_UNCORRECTABLE, NULL),
    E(CUDA_ERROR_JIT_COMPILER_NOT_FOUND, NULL),
    E(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, NULL),
    E(CUDA_ERROR_JIT_COMPILATION_DISABLED, NULL),
    E(CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY, NULL),
    E(CUDA_ERROR_UNSUPPORTED_DEVSIDE_SYNC, NULL),
    E(CUDA_ERROR_CONTAINED, NULL),
    E(CUDA_ERROR_INVALID_SOURCE, NULL),
    E(CUDA_ERROR_FILE_NOT_FOUND, "file not found"),
    E(CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND, NULL),
    E(CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, NULL),
    E(CUDA_ERROR_OPERATING_SYSTEM, NULL),
    E(CUDA_ERROR_INVALID_HANDLE, "invalid resource handle"),
    E(CUDA_ERROR_ILLEGAL_STATE, NULL),
    E(CUDA_ERROR_LOSSY_QUERY, NULL),
    E(CUDA_ERROR_NOT_FOUND, "named symbol not found"),
    E(CUDA_ERROR_NOT_READY, "device not ready"),
    E(CUDA_ERROR_ILLEGAL_ADDRESS, "an illegal memory access was encountered"),
    E(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, NULL),
    E(CUDA_ERROR_LAUNCH_TIMEOUT, NULL),
    E(CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING, NULL),
    E(CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED, NULL),
    E(CUDA_ERROR_PEER_ACCESS_NOT_ENABLED, NULL),
    E(CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE, "primary context active"),
    E(CUDA_ERROR_CONTEXT_IS_DESTROYED, "context is destroyed"),
    E(CUDA_ERROR_ASSERT, NULL),
    E(CUDA_ERROR_TOO_MANY_PEERS, NULL),
    E(CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, NULL),
    E(CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED, NULL),
    E(CUDA_ERROR_HARDWARE_STACK_ERROR, NULL),
    E(CUDA_ERROR_ILLEGAL_INSTRUCTION, NULL),
    E(CUDA_ERROR_MISALIGNED_ADDRESS, NULL),
    E(CUDA_ERROR_INVALID_ADDRESS_SPACE, NULL),
    E(CUDA_ERROR_INVALID_PC, NULL),
    E(CUDA_ERROR_LAUNCH_FAILED, "unspecified launch failure"),
    E(CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, NULL),
    E(CUDA_ERROR_TENSOR_MEMORY_LEAK, NULL),
    E(CUDA_ERROR_NOT_PERMITTED, "operation not permitted"),
    E(CUDA_ERROR_NOT_SUPPORTED, "operation not supported"),
    E(CUDA_ERROR_SYSTEM_NOT_READY, NULL),
    E(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, NULL),
    E(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE, NULL),
    E(CUDA_ERROR_MPS_CONNECTION_FAILED, NULL),
    E(CUDA_ERROR_MPS_RPC_FAILURE, NULL),
    E(CUDA_ERROR_MPS_SERVER_NOT_READY, NULL),
    E(CUDA_ERROR_MPS_MAX_CLIENTS_REACHED, NULL),
    E(CUDA_ERROR_MPS_MAX_CONNECTIONS_REACHED, NULL),
    E(CUDA_ERROR_MPS_CLIENT_TERMINATED, NULL),
    E(CUDA_ERROR_CDP_NOT_SUPPORTED, NULL),
    E(CUDA_ERROR_CDP_VERSION_MISMATCH, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_MERGE, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_UNJOINED, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_ISOLATION, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, NULL),
    E(CUDA_ERROR_CAPTURED_EVENT, NULL),
    E(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, NULL),
    E(CUDA_ERROR_TIMEOUT, NULL),
    E(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE, NULL),
    E(CUDA_ERROR_EXTERNAL_DEVICE, NULL),
    E(CUDA_ERROR_INVALID_CLUSTER_SIZE, NULL),
    E(CUDA_ERROR_FUNCTION_NOT_LOADED, NULL),
    E(CUDA_ERROR_INVALID_RESOURCE_TYPE, NULL),
    E(CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION, NULL),
    E(CUDA_ERROR_KEY_ROTATION, NULL),
    E(CUDA_ERROR_UNKNOWN, "unknown error"),
};
#undef E

#define N_ERRORS (sizeof errors / sizeof errors[0])

static pthread_once_t derive_once = PTHREAD_ONCE_INIT;

static void derive_texts(void)
{
    for (size_t i = 0; i < N_ERRORS; i++) {
        sim_error *e = &errors[i];
        if (e->text)
            continue;
        const char *src = e->name + strlen("CUDA_ERROR_");
        size_t n = 0;
        for (; *src && n + 1 < sizeof e->derived; src++, n++)
            e->derived[n] = *src == '_' ? ' ' : (char)tolower((unsigned char)*src);
        e->derived[n] = '\0';
        e->text = e->derived;
    }
}

static const sim_error *find_error(CUresult code)
{
    for (size_t i = 0; i < N_ERRORS; i++)
        if (errors[i].code == code)
            return &errors[i];
    return NULL;
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char **pStr)
{
    if (!pStr)
        return CUDA_ERROR_INVALID_VALUE;
    const sim_error *e = find_error(error);
    *pStr = e ? e->name : NULL;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char **pStr)
{
    if (!pStr)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_once(&derive_once, derive_texts);
    const sim_error *e = find_error(error);
    *pStr = e ? e->text : NULL;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
