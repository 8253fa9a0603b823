/* The graphics-interop entry points of sim_unmodelled_interop.c, declared without parameters
 * (their real declarations need OpenGL, EGL and VDPAU headers), for sim_procaddress.c's table. */
#ifndef GREY_SIM_UNMODELLED_H
#define GREY_SIM_UNMODELLED_H

#include "sim_internal.h"

CUresult CUDAAPI cuEGLStreamConsumerAcquireFrame(void);
CUresult CUDAAPI cuEGLStreamConsumerConnect(void);
CUresult CUDAAPI cuEGLStreamConsumerConnectWithFlags(void);
CUresult CUDAAPI cuEGLStreamConsumerDisconnect(void);
CUresult CUDAAPI cuEGLStreamConsumerReleaseFrame(void);
CUresult CUDAAPI cuEGLStreamProducerConnect(void);
CUresult CUDAAPI cuEGLStreamProducerDisconnect(void);
CUresult CUDAAPI cuEGLStreamProducerPresentFrame(void);
CUresult CUDAAPI cuEGLStreamProducerReturnFrame(void);
CUresult CUDAAPI cuGLCtxCreate(void);
CUresult CUDAAPI cuGLGetDevices(void);
CUresult CUDAAPI cuGLInit(void);
CUresult CUDAAPI cuGLMapBufferObject(void);
CUresult CUDAAPI cuGLMapBufferObjectAsync(void);
CUresult CUDAAPI cuGLRegisterBufferObject(void);
CUresult CUDAAPI cuGLSetBufferObjectMapFlags(void);
CUresult CUDAAPI cuGLUnmapBufferObject(void);
CUresult CUDAAPI cuGLUnmapBufferObjectAsync(void);
CUresult CUDAAPI cuGLUnregisterBufferObject(void);
CUresult CUDAAPI cuGraphicsEGLRegisterImage(void);
CUresult CUDAAPI cuGraphicsGLRegisterBuffer(void);
CUresult CUDAAPI cuGraphicsGLRegisterImage(void);
CUresult CUDAAPI cuGraphicsResourceGetMappedEglFrame(void);
CUresult CUDAAPI cuGraphicsVDPAURegisterOutputSurface(void);
CUresult CUDAAPI cuGraphicsVDPAURegisterVideoSurface(void);
CUresult CUDAAPI cuVDPAUCtxCreate(void);
CUresult CUDAAPI cuVDPAUGetDevice(void);

#endif
