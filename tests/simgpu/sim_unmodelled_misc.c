/* Other driver entry points the simulator does not model: error logs (cuLogs*), device
 * notifications, atomic capability queries, stream attributes, 64-bit stream memory operations
 * (the simulated device reports no stream memory operations), kernel parameter info and library
 * enumeration, cuCtxDetach. Each answers CUDA_ERROR_NOT_SUPPORTED, traced under
 * GREY_SIM_TRACE=1. Written from the declarations in CUDA 13's cuda.h; README lists them. */
#include "sim_internal.h"


CUresult CUDAAPI cuCtxDetach(CUcontext ctx)
{
    (void)ctx;
    return sim_not_modelled("cuCtxDetach");
}

CUresult CUDAAPI cuDeviceGetHostAtomicCapabilities(unsigned int* capabilities, const CUatomicOperation* operations,
                                                   unsigned int count, CUdevice dev)
{
    (void)capabilities;
    (void)operations;
    (void)count;
    (void)dev;
    return sim_not_modelled("cuDeviceGetHostAtomicCapabilities");
}

CUresult CUDAAPI cuDeviceGetP2PAtomicCapabilities(unsigned int* capabilities, const CUatomicOperation* operations,
                                                  unsigned int count, CUdevice srcDevice, CUdevice dstDevice)
{
    (void)capabilities;
    (void)operations;
    (void)count;
    (void)srcDevice;
    (void)dstDevice;
    return sim_not_modelled("cuDeviceGetP2PAtomicCapabilities");
}

CUresult CUDAAPI cuDeviceRegisterAsyncNotification(CUdevice device, CUasyncCallback callbackFunc, void *userData,
                                                   CUasyncCallbackHandle *callback)
{
    (void)device;
    (void)callbackFunc;
    (void)userData;
    (void)callback;
    return sim_not_modelled("cuDeviceRegisterAsyncNotification");
}

CUresult CUDAAPI cuDeviceUnregisterAsyncNotification(CUdevice device, CUasyncCallbackHandle callback)
{
    (void)device;
    (void)callback;
    return sim_not_modelled("cuDeviceUnregisterAsyncNotification");
}

CUresult CUDAAPI cuKernelGetParamInfo(CUkernel kernel, size_t paramIndex, size_t *paramOffset, size_t *paramSize)
{
    (void)kernel;
    (void)paramIndex;
    (void)paramOffset;
    (void)paramSize;
    return sim_not_modelled("cuKernelGetParamInfo");
}

CUresult CUDAAPI cuLibraryEnumerateKernels(CUkernel *kernels, unsigned int numKernels, CUlibrary lib)
{
    (void)kernels;
    (void)numKernels;
    (void)lib;
    return sim_not_modelled("cuLibraryEnumerateKernels");
}

CUresult CUDAAPI cuLibraryGetUnifiedFunction(void **fptr, CUlibrary library, const char *symbol)
{
    (void)fptr;
    (void)library;
    (void)symbol;
    return sim_not_modelled("cuLibraryGetUnifiedFunction");
}

CUresult CUDAAPI cuLogsCurrent(CUlogIterator *iterator_out, unsigned int flags)
{
    (void)iterator_out;
    (void)flags;
    return sim_not_modelled("cuLogsCurrent");
}

CUresult CUDAAPI cuLogsDumpToFile(CUlogIterator *iterator, const char *pathToFile, unsigned int flags)
{
    (void)iterator;
    (void)pathToFile;
    (void)flags;
    return sim_not_modelled("cuLogsDumpToFile");
}

CUresult CUDAAPI cuLogsDumpToMemory(CUlogIterator *iterator, char *buffer, size_t *size, unsigned int flags)
{
    (void)iterator;
    (void)buffer;
    (void)size;
    (void)flags;
    return sim_not_modelled("cuLogsDumpToMemory");
}

CUresult CUDAAPI cuLogsRegisterCallback(CUlogsCallback callbackFunc, void *userData, CUlogsCallbackHandle *callback_out)
{
    (void)callbackFunc;
    (void)userData;
    (void)callback_out;
    return sim_not_modelled("cuLogsRegisterCallback");
}

CUresult CUDAAPI cuLogsUnregisterCallback(CUlogsCallbackHandle callback)
{
    (void)callback;
    return sim_not_modelled("cuLogsUnregisterCallback");
}

CUresult CUDAAPI cuStreamCopyAttributes(CUstream dstStream, CUstream srcStream)
{
    (void)dstStream;
    (void)srcStream;
    return sim_not_modelled("cuStreamCopyAttributes");
}

CUresult CUDAAPI cuStreamGetAttribute(CUstream hStream, CUstreamAttrID attr, CUstreamAttrValue *value)
{
    (void)hStream;
    (void)attr;
    (void)value;
    return sim_not_modelled("cuStreamGetAttribute");
}

CUresult CUDAAPI cuStreamSetAttribute(CUstream hStream, CUstreamAttrID attr, const CUstreamAttrValue *param)
{
    (void)hStream;
    (void)attr;
    (void)param;
    return sim_not_modelled("cuStreamSetAttribute");
}

CUresult CUDAAPI cuStreamWaitValue64(CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags)
{
    (void)stream;
    (void)addr;
    (void)value;
    (void)flags;
    return sim_not_modelled("cuStreamWaitValue64");
}

CUresult CUDAAPI cuStreamWriteValue64(CUstream stream, CUdeviceptr addr, cuuint64_t value, unsigned int flags)
{
    (void)stream;
    (void)addr;
    (void)value;
    (void)flags;
    return sim_not_modelled("cuStreamWriteValue64");
}
