// A device image with one global variable, built with nvcc -fatbin (mk/cuda-runtime.mk) and
// loaded by rt_symbol through the driver API (cuModuleLoadData, cuModuleGetGlobal).
__device__ double counters[32];

__global__ void bump(int i) { counters[i] += 1.0; }
