/* The part of NVML's C ABI that grey touches, declared from NVIDIA's NVML API reference (no
 * nvml.h ships with the CUDA toolkit on these machines). Layouts and values are the documented,
 * stable ones; the *_v2/_v3 names are what libnvidia-ml.so.1 exports. */
#ifndef GREY_NVML_API_H
#define GREY_NVML_API_H

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN 999

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

/* NVML_STRUCT_VERSION(Memory, 2): the struct's size with the version in the top byte. */
#define nvmlMemory_v2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

/* nvmlProcessInfo_v1_t: what nvmlDeviceGetComputeRunningProcesses (v1) fills. */
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

/* nvmlProcessInfo_t as the _v2 and _v3 entry points fill it. */
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

#define NVML_VALUE_NOT_AVAILABLE_ULL (~0ULL)

/* For grey-plan's detection (tools/detect_nvml.c) and the simulated NVML; the hook uses none of
 * these. Enumerations are passed as unsigned int, their C ABI. */
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80

/* nvmlPciInfo_t as nvmlDeviceGetPciInfo_v3 fills it. */
typedef struct {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;     /* device id << 16 | vendor id */
    unsigned int pciSubSystemId;
    char busId[32];               /* "00000000:18:00.0" */
} nvmlPciInfo_t;

/* nvmlDeviceAttributes_t (nvmlDeviceGetAttributes_v2; documented for MIG device handles). */
typedef struct {
    unsigned int multiprocessorCount;
    unsigned int sharedCopyEngineCount;
    unsigned int sharedDecoderCount;
    unsigned int sharedEncoderCount;
    unsigned int sharedJpegCount;
    unsigned int sharedOfaCount;
    unsigned int gpuInstanceSliceCount;
    unsigned int computeInstanceSliceCount;
    unsigned long long memorySizeMB;
} nvmlDeviceAttributes_t;

#define NVML_TEMPERATURE_GPU 0u                 /* nvmlTemperatureSensors_t */
#define NVML_TEMPERATURE_THRESHOLD_SHUTDOWN 0u  /* nvmlTemperatureThresholds_t */
#define NVML_TEMPERATURE_THRESHOLD_SLOWDOWN 1u
#define NVML_CLOCK_GRAPHICS 0u                  /* nvmlClockType_t */
#define NVML_CLOCK_SM 1u
#define NVML_CLOCK_MEM 2u
#define NVML_DEVICE_MIG_DISABLE 0u
#define NVML_DEVICE_MIG_ENABLE 1u

/* What NCCL asks of NVML when it starts (tests/simgpu/nvml/nvml_links.c). */
#define NVML_P2P_CAPS_INDEX_READ 0u             /* nvmlGpuP2PCapsIndex_t */
#define NVML_P2P_CAPS_INDEX_WRITE 1u
#define NVML_P2P_CAPS_INDEX_NVLINK 2u
#define NVML_P2P_CAPS_INDEX_ATOMICS 3u
#define NVML_P2P_CAPS_INDEX_PROP 4u
#define NVML_P2P_CAPS_INDEX_UNKNOWN 5u
#define NVML_P2P_STATUS_OK 0u                   /* nvmlGpuP2PStatus_t */
#define NVML_P2P_STATUS_NOT_SUPPORTED 5u
#define NVML_FEATURE_DISABLED 0u                /* nvmlEnableState_t */
#define NVML_FEATURE_ENABLED 1u

/* nvmlFieldValue_t: nvmlDeviceGetFieldValues fills each entry's nvmlReturn (and, on success,
 * valueType and value). */
typedef union {
    double dVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    int siVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;          /* microseconds since 1970 */
    long long latencyUsec;
    unsigned int valueType;       /* nvmlValueType_t */
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

/* Confidential computing: nvmlSystemGetConfComputeState and, versioned, ..._Settings. */
typedef struct {
    unsigned int environment;     /* NVML_CC_SYSTEM_ENVIRONMENT_* */
    unsigned int ccFeature;       /* NVML_CC_SYSTEM_FEATURE_* */
    unsigned int devToolsMode;    /* NVML_CC_SYSTEM_DEVTOOLS_MODE_* */
} nvmlConfComputeSystemState_t;

typedef struct {
    unsigned int version;
    unsigned int environment;
    unsigned int ccFeature;
    unsigned int devToolsMode;
    unsigned int multiGpuMode;    /* NVML_CC_SYSTEM_MULTIGPU_* */
} nvmlSystemConfComputeSettings_t;

#define nvmlSystemConfComputeSettings_v1 ((unsigned int)(sizeof(nvmlSystemConfComputeSettings_t) | (1u << 24)))
#define NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE 0u
#define NVML_CC_SYSTEM_FEATURE_DISABLED 0u
#define NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF 0u
#define NVML_CC_SYSTEM_MULTIGPU_NONE 0u

#endif
