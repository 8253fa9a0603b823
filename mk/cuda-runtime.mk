# Programs built with nvcc against the real CUDA runtime, run on the simulated driver.
#
# tests/integration/cuda/rt_basic.cu is built into build/tests/cuda/ with the static runtime
# (nvcc's default), with -cudart shared (libcudart.so from $(CUDA_HOME)/lib64), and static with
# --default-stream per-thread (the runtime then asks for the _ptsz/_ptds entry points).
# `make cuda-runtime-tests` runs each family of rt_basic, from every build, without the hook
# (everything succeeds), on a 512 MiB simulated device (the driver's own out-of-memory), and
# under grey-run --cap 512MiB for the families in CUDA_RT_CAPPED_FAMILIES (exactly two 200 MiB
# blocks, cudaMemGetInfo reports the cap).
# tests/integration/cuda/run.sh does the running; `make check` runs it too.

NVCC_FLAGS ?= -O2 -I.

CUDA_RT_DIR    := $(BUILD)/tests/cuda
CUDA_RT_STATIC := $(CUDA_RT_DIR)/rt_basic
CUDA_RT_SHARED := $(CUDA_RT_DIR)/rt_basic_shared
CUDA_RT_PTDS   := $(CUDA_RT_DIR)/rt_basic_ptds
CUDA_RT_BINS   := $(CUDA_RT_STATIC) $(CUDA_RT_SHARED) $(CUDA_RT_PTDS)

# Families rt_basic knows; each runs as its own process.
CUDA_RT_FAMILIES := malloc async managed graph all
# Families that must also hold the cap under grey-run (the hook intercepts their driver calls).
CUDA_RT_CAPPED_FAMILIES := malloc async managed graph all

$(CUDA_RT_STATIC): tests/integration/cuda/rt_basic.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $<

$(CUDA_RT_SHARED): tests/integration/cuda/rt_basic.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -cudart shared -o $@ $<

$(CUDA_RT_PTDS): tests/integration/cuda/rt_basic.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) --default-stream per-thread -o $@ $<

.PHONY: cuda-runtime-tests
cuda-runtime-tests: all $(CUDA_RT_BINS)
	@CUDA_HOME="$(CUDA_HOME)" CUDA_RT_FAMILIES="$(CUDA_RT_FAMILIES)" \
	    CUDA_RT_CAPPED_FAMILIES="$(CUDA_RT_CAPPED_FAMILIES)" \
	    bash tests/integration/cuda/run.sh $(CUDA_RT_BINS)

EXTRA_CHECKS += cuda-runtime-tests

# Pinned host memory and cudaFree(0) through the real runtime (tests/integration/cuda/rt_pinned.cu,
# tests/integration/cuda/pinned_run.sh): pinned bytes are not VRAM, for the simulator or the cap.
CUDA_RT_PINNED := $(CUDA_RT_DIR)/rt_pinned
$(CUDA_RT_PINNED): tests/integration/cuda/rt_pinned.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $<

.PHONY: cuda-pinned-tests
cuda-pinned-tests: all $(CUDA_RT_PINNED)
	@CUDA_HOME="$(CUDA_HOME)" bash tests/integration/cuda/pinned_run.sh $(CUDA_RT_PINNED)

EXTRA_CHECKS += cuda-pinned-tests

# NVIDIA's libraries through the real runtime (tests/integration/cuda/rt_curand.cu, rt_cudnn.cu,
# rt_cublas.cu, rt_cufft.cu, rt_nccl.cu,
# libs_run.sh): under grey-run --cap they work, and under a cap too small for their own device
# memory they report their own allocation failure. cuDNN is in $(CUDA_HOME) on this machine.
CUDA_RT_CURAND := $(CUDA_RT_DIR)/rt_curand
CUDA_RT_CUDNN  := $(CUDA_RT_DIR)/rt_cudnn
CUDA_RT_CUBLAS := $(CUDA_RT_DIR)/rt_cublas
CUDA_RT_CUFFT  := $(CUDA_RT_DIR)/rt_cufft
CUDA_RT_SYMBOL := $(CUDA_RT_DIR)/rt_symbol
CUDA_RT_MODULE := $(CUDA_RT_DIR)/module_globals.fatbin
CUDA_RT_NCCL   := $(CUDA_RT_DIR)/rt_nccl
$(CUDA_RT_SYMBOL): tests/integration/cuda/rt_symbol.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lcuda
# A cubin for sm_90 (read by the simulator) and PTX for any later GPU (JIT on real hardware).
$(CUDA_RT_MODULE): tests/integration/cuda/module_globals.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) -fatbin -gencode arch=compute_90,code=sm_90 -gencode arch=compute_75,code=compute_75 \
	    -o $@ $<
$(CUDA_RT_CUBLAS): tests/integration/cuda/rt_cublas.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lcublas
$(CUDA_RT_CUFFT): tests/integration/cuda/rt_cufft.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lcufft
$(CUDA_RT_NCCL): tests/integration/cuda/rt_nccl.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lnccl
$(CUDA_RT_CURAND): tests/integration/cuda/rt_curand.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lcurand
$(CUDA_RT_CUDNN): tests/integration/cuda/rt_cudnn.cu
	@mkdir -p $(@D)
	$(call q,NVCC)$(NVCC) $(NVCC_FLAGS) -o $@ $< -lcudnn

.PHONY: cuda-libs-tests
cuda-libs-tests: all $(CUDA_RT_CURAND) $(CUDA_RT_CUDNN) $(CUDA_RT_CUBLAS) $(CUDA_RT_SYMBOL) $(CUDA_RT_MODULE) \
                 $(CUDA_RT_NCCL) $(CUDA_RT_CUFFT)
	@CUDA_HOME="$(CUDA_HOME)" bash tests/integration/cuda/libs_run.sh $(CUDA_RT_CURAND) $(CUDA_RT_CUDNN) \
	    $(CUDA_RT_CUBLAS) $(CUDA_RT_SYMBOL) $(CUDA_RT_MODULE) $(CUDA_RT_NCCL) $(CUDA_RT_CUFFT)

EXTRA_CHECKS += cuda-libs-tests
