/* Interoperability the simulator does not model: OpenGL, EGL and VDPAU (no graphics stack),
 * external memory and semaphores (Vulkan, D3D, NvSci), and IPC handles (no second process can
 * open a simulated device's memory through a handle). Each entry point exists so that a program
 * or library that resolves it finds it, validates nothing and answers
 * CUDA_ERROR_NOT_SUPPORTED ("the attempted operation is not supported on the current system or
 * device"), traced under GREY_SIM_TRACE=1. The OpenGL, EGL and VDPAU functions are defined
 * without their parameters: their declarations need the graphics headers, which this build does
 * not have, and they read no argument (the calling conventions grey runs on let a callee ignore
 * its arguments). Written from the declarations in CUDA 13's headers; README lists them. */
#include "sim_unmodelled.h"


CUresult CUDAAPI cuDestroyExternalMemory(CUexternalMemory extMem)
{
    (void)extMem;
    return sim_not_modelled("cuDestroyExternalMemory");
}

CUresult CUDAAPI cuDestroyExternalSemaphore(CUexternalSemaphore extSem)
{
    (void)extSem;
    return sim_not_modelled("cuDestroyExternalSemaphore");
}

CUresult CUDAAPI cuDeviceGetNvSciSyncAttributes(void *nvSciSyncAttrList, CUdevice dev, int flags)
{
    (void)nvSciSyncAttrList;
    (void)dev;
    (void)flags;
    return sim_not_modelled("cuDeviceGetNvSciSyncAttributes");
}

CUresult CUDAAPI cuEGLStreamConsumerAcquireFrame(void) { return sim_not_modelled("cuEGLStreamConsumerAcquireFrame"); }

CUresult CUDAAPI cuEGLStreamConsumerConnect(void) { return sim_not_modelled("cuEGLStreamConsumerConnect"); }

CUresult CUDAAPI cuEGLStreamConsumerConnectWithFlags(void)
{
    return sim_not_modelled("cuEGLStreamConsumerConnectWithFlags");
}

CUresult CUDAAPI cuEGLStreamConsumerDisconnect(void) { return sim_not_modelled("cuEGLStreamConsumerDisconnect"); }

CUresult CUDAAPI cuEGLStreamConsumerReleaseFrame(void) { return sim_not_modelled("cuEGLStreamConsumerReleaseFrame"); }

CUresult CUDAAPI cuEGLStreamProducerConnect(void) { return sim_not_modelled("cuEGLStreamProducerConnect"); }

CUresult CUDAAPI cuEGLStreamProducerDisconnect(void) { return sim_not_modelled("cuEGLStreamProducerDisconnect"); }

CUresult CUDAAPI cuEGLStreamProducerPresentFrame(void) { return sim_not_modelled("cuEGLStreamProducerPresentFrame"); }

CUresult CUDAAPI cuEGLStreamProducerReturnFrame(void) { return sim_not_modelled("cuEGLStreamProducerReturnFrame"); }

CUresult CUDAAPI cuExternalMemoryGetMappedBuffer(CUdeviceptr *devPtr, CUexternalMemory extMem,
                                                 const CUDA_EXTERNAL_MEMORY_BUFFER_DESC *bufferDesc)
{
    (void)devPtr;
    (void)extMem;
    (void)bufferDesc;
    return sim_not_modelled("cuExternalMemoryGetMappedBuffer");
}

CUresult CUDAAPI cuExternalMemoryGetMappedMipmappedArray(CUmipmappedArray *mipmap, CUexternalMemory extMem,
                                                         const CUDA_EXTERNAL_MEMORY_MIPMAPPED_ARRAY_DESC *mipmapDesc)
{
    (void)mipmap;
    (void)extMem;
    (void)mipmapDesc;
    return sim_not_modelled("cuExternalMemoryGetMappedMipmappedArray");
}

CUresult CUDAAPI cuGLCtxCreate(void) { return sim_not_modelled("cuGLCtxCreate"); }

CUresult CUDAAPI cuGLGetDevices(void) { return sim_not_modelled("cuGLGetDevices"); }

CUresult CUDAAPI cuGLInit(void) { return sim_not_modelled("cuGLInit"); }

CUresult CUDAAPI cuGLMapBufferObject(void) { return sim_not_modelled("cuGLMapBufferObject"); }

CUresult CUDAAPI cuGLMapBufferObjectAsync(void) { return sim_not_modelled("cuGLMapBufferObjectAsync"); }

CUresult CUDAAPI cuGLRegisterBufferObject(void) { return sim_not_modelled("cuGLRegisterBufferObject"); }

CUresult CUDAAPI cuGLSetBufferObjectMapFlags(void) { return sim_not_modelled("cuGLSetBufferObjectMapFlags"); }

CUresult CUDAAPI cuGLUnmapBufferObject(void) { return sim_not_modelled("cuGLUnmapBufferObject"); }

CUresult CUDAAPI cuGLUnmapBufferObjectAsync(void) { return sim_not_modelled("cuGLUnmapBufferObjectAsync"); }

CUresult CUDAAPI cuGLUnregisterBufferObject(void) { return sim_not_modelled("cuGLUnregisterBufferObject"); }

CUresult CUDAAPI cuGraphicsEGLRegisterImage(void) { return sim_not_modelled("cuGraphicsEGLRegisterImage"); }

CUresult CUDAAPI cuGraphicsGLRegisterBuffer(void) { return sim_not_modelled("cuGraphicsGLRegisterBuffer"); }

CUresult CUDAAPI cuGraphicsGLRegisterImage(void) { return sim_not_modelled("cuGraphicsGLRegisterImage"); }

CUresult CUDAAPI cuGraphicsMapResources(unsigned int count, CUgraphicsResource *resources, CUstream hStream)
{
    (void)count;
    (void)resources;
    (void)hStream;
    return sim_not_modelled("cuGraphicsMapResources");
}

CUresult CUDAAPI cuGraphicsResourceGetMappedEglFrame(void)
{
    return sim_not_modelled("cuGraphicsResourceGetMappedEglFrame");
}

CUresult CUDAAPI cuGraphicsResourceGetMappedMipmappedArray(CUmipmappedArray *pMipmappedArray,
                                                           CUgraphicsResource resource)
{
    (void)pMipmappedArray;
    (void)resource;
    return sim_not_modelled("cuGraphicsResourceGetMappedMipmappedArray");
}

CUresult CUDAAPI cuGraphicsResourceGetMappedPointer(CUdeviceptr_v1 *pDevPtr, unsigned int *pSize,
                                                    CUgraphicsResource resource)
{
    (void)pDevPtr;
    (void)pSize;
    (void)resource;
    return sim_not_modelled("cuGraphicsResourceGetMappedPointer");
}

CUresult CUDAAPI cuGraphicsResourceSetMapFlags(CUgraphicsResource resource, unsigned int flags)
{
    (void)resource;
    (void)flags;
    return sim_not_modelled("cuGraphicsResourceSetMapFlags");
}

CUresult CUDAAPI cuGraphicsSubResourceGetMappedArray(CUarray *pArray, CUgraphicsResource resource,
                                                     unsigned int arrayIndex, unsigned int mipLevel)
{
    (void)pArray;
    (void)resource;
    (void)arrayIndex;
    (void)mipLevel;
    return sim_not_modelled("cuGraphicsSubResourceGetMappedArray");
}

CUresult CUDAAPI cuGraphicsUnmapResources(unsigned int count, CUgraphicsResource *resources, CUstream hStream)
{
    (void)count;
    (void)resources;
    (void)hStream;
    return sim_not_modelled("cuGraphicsUnmapResources");
}

CUresult CUDAAPI cuGraphicsUnregisterResource(CUgraphicsResource resource)
{
    (void)resource;
    return sim_not_modelled("cuGraphicsUnregisterResource");
}

CUresult CUDAAPI cuGraphicsVDPAURegisterOutputSurface(void)
{
    return sim_not_modelled("cuGraphicsVDPAURegisterOutputSurface");
}

CUresult CUDAAPI cuGraphicsVDPAURegisterVideoSurface(void)
{
    return sim_not_modelled("cuGraphicsVDPAURegisterVideoSurface");
}

CUresult CUDAAPI cuImportExternalMemory(CUexternalMemory *extMem_out,
                                        const CUDA_EXTERNAL_MEMORY_HANDLE_DESC *memHandleDesc)
{
    (void)extMem_out;
    (void)memHandleDesc;
    return sim_not_modelled("cuImportExternalMemory");
}

CUresult CUDAAPI cuImportExternalSemaphore(CUexternalSemaphore *extSem_out,
                                           const CUDA_EXTERNAL_SEMAPHORE_HANDLE_DESC *semHandleDesc)
{
    (void)extSem_out;
    (void)semHandleDesc;
    return sim_not_modelled("cuImportExternalSemaphore");
}

CUresult CUDAAPI cuIpcCloseMemHandle(CUdeviceptr dptr)
{
    (void)dptr;
    return sim_not_modelled("cuIpcCloseMemHandle");
}

CUresult CUDAAPI cuIpcGetEventHandle(CUipcEventHandle *pHandle, CUevent event)
{
    (void)pHandle;
    (void)event;
    return sim_not_modelled("cuIpcGetEventHandle");
}

CUresult CUDAAPI cuIpcGetMemHandle(CUipcMemHandle *pHandle, CUdeviceptr dptr)
{
    (void)pHandle;
    (void)dptr;
    return sim_not_modelled("cuIpcGetMemHandle");
}

CUresult CUDAAPI cuIpcOpenEventHandle(CUevent *phEvent, CUipcEventHandle handle)
{
    (void)phEvent;
    (void)handle;
    return sim_not_modelled("cuIpcOpenEventHandle");
}

CUresult CUDAAPI cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int Flags)
{
    (void)pdptr;
    (void)handle;
    (void)Flags;
    return sim_not_modelled("cuIpcOpenMemHandle");
}

CUresult CUDAAPI cuSignalExternalSemaphoresAsync(const CUexternalSemaphore *extSemArray,
                                                 const CUDA_EXTERNAL_SEMAPHORE_SIGNAL_PARAMS *paramsArray,
                                                 unsigned int numExtSems, CUstream stream)
{
    (void)extSemArray;
    (void)paramsArray;
    (void)numExtSems;
    (void)stream;
    return sim_not_modelled("cuSignalExternalSemaphoresAsync");
}

CUresult CUDAAPI cuVDPAUCtxCreate(void) { return sim_not_modelled("cuVDPAUCtxCreate"); }

CUresult CUDAAPI cuVDPAUGetDevice(void) { return sim_not_modelled("cuVDPAUGetDevice"); }

CUresult CUDAAPI cuWaitExternalSemaphoresAsync(const CUexternalSemaphore *extSemArray,
                                               const CUDA_EXTERNAL_SEMAPHORE_WAIT_PARAMS *paramsArray,
                                               unsigned int numExtSems, CUstream stream)
{
    (void)extSemArray;
    (void)paramsArray;
    (void)numExtSems;
    (void)stream;
    return sim_not_modelled("cuWaitExternalSemaphoresAsync");
}
